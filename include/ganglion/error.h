/* SPDX-License-Identifier: Apache-2.0 */
/* The one error enum of Ganglion. Results are ints: 0 success, negative error.
 * System errors are -errno; Ganglion's own errors live in a private range below
 * GN__ERR_BASE. Adapters translate these at their edge only (kafka_err_from_gn,
 * mqtt_rc_from_gn, http_status_from_gn); protocol codes never appear in core/. */
#ifndef GANGLION_ERROR_H
#define GANGLION_ERROR_H

#include <errno.h>

#define GN__ERR_BASE (-10000)

/* XX(name, value, sentence) */
#define GN_ERRNO_MAP(XX)                                                                           \
    XX(EAGAIN, -EAGAIN, "need more input")                                                         \
    XX(ENOMEM, -ENOMEM, "out of memory")                                                           \
    XX(EINVAL, -EINVAL, "invalid argument")                                                        \
    XX(ENOSPC, -ENOSPC, "no space left on device")                                                 \
    XX(EIO, -EIO, "input/output error")                                                            \
    XX(ENOENT, -ENOENT, "no such file or directory")                                               \
    XX(ECORRUPT, GN__ERR_BASE - 1, "corrupt record batch (bad length or CRC)")                     \
    XX(EUNSUPPORTED_VERSION, GN__ERR_BASE - 2, "unsupported message format version")               \
    XX(ETOOLARGE, GN__ERR_BASE - 3, "record batch larger than max.message.bytes")                  \
    XX(EOFFSETRANGE, GN__ERR_BASE - 4, "offset out of range")                                      \
    XX(EUNKNOWN_TOPIC, GN__ERR_BASE - 5, "unknown topic or partition")                             \
    XX(ETOPIC_EXISTS, GN__ERR_BASE - 6, "topic already exists")                                    \
    XX(EINVALID_TOPIC, GN__ERR_BASE - 7, "invalid topic name, or an internal topic")               \
    XX(EINVALID_PARTITIONS, GN__ERR_BASE - 8, "invalid number of partitions")                      \
    XX(EINVALID_REPLICATION, GN__ERR_BASE - 9, "invalid replication factor")                       \
    XX(EINVALID_CONFIG, GN__ERR_BASE - 10, "invalid configuration")                                \
    XX(ENOTLEADER, GN__ERR_BASE - 11, "not the leader of this partition")                          \
    XX(EUNSUPPORTED_COMPRESSION, GN__ERR_BASE - 12, "unsupported compression type")                \
    XX(EINVALID_RECORD, GN__ERR_BASE - 13, "invalid record")                                       \
    XX(EINVALID_TIMESTAMP, GN__ERR_BASE - 14, "record timestamp out of range")                     \
    XX(ENOT_ENOUGH_REPLICAS, GN__ERR_BASE - 15, "not enough in-sync replicas")                     \
    XX(ETIMEOUT, GN__ERR_BASE - 16, "request timed out")                                           \
    XX(ESTORAGE, GN__ERR_BASE - 17, "partition storage failed; writes refused")                    \
    XX(ESHUTDOWN, GN__ERR_BASE - 18, "broker is shutting down")                                    \
    XX(EPOLICY, GN__ERR_BASE - 19, "request violates a policy")                                    \
    XX(EOUT_OF_ORDER_SEQ, GN__ERR_BASE - 20, "out of order sequence number")                       \
    XX(EDUPLICATE_SEQ, GN__ERR_BASE - 21, "duplicate sequence number")                             \
    XX(EPRODUCER_FENCED, GN__ERR_BASE - 22, "invalid producer epoch")                              \
    XX(EUNKNOWN_PRODUCER, GN__ERR_BASE - 23, "unknown producer id")                                \
    XX(ETOPIC_DELETION, GN__ERR_BASE - 24, "topic is being deleted")                               \
    XX(EINVALID_REQUEST, GN__ERR_BASE - 25, "invalid request")                                     \
    XX(EAUTH, GN__ERR_BASE - 26, "authentication failed")                                          \
    XX(EFENCED_LEADER_EPOCH, GN__ERR_BASE - 27, "leader epoch older than the leader's")            \
    XX(EUNKNOWN_LEADER_EPOCH, GN__ERR_BASE - 28, "leader epoch newer than the broker knows")       \
    XX(ETOPIC_AUTHORIZATION, GN__ERR_BASE - 29, "not authorized to access the topic")              \
    XX(EGROUP_AUTHORIZATION, GN__ERR_BASE - 30, "not authorized to access the consumer group")     \
    XX(ECLUSTER_AUTHORIZATION, GN__ERR_BASE - 31, "not authorized to act on the cluster")          \
    XX(ETHROTTLED, GN__ERR_BASE - 32, "too many failed authentications; retry later")              \
    XX(EUNKNOWN_MEMBER, GN__ERR_BASE - 100, "unknown consumer group member id")                    \
    XX(EILLEGAL_GENERATION, GN__ERR_BASE - 101, "stale consumer group generation")                 \
    XX(EREBALANCE_IN_PROGRESS, GN__ERR_BASE - 102, "consumer group is rebalancing; rejoin")        \
    XX(EMEMBER_ID_REQUIRED, GN__ERR_BASE - 103, "rejoin with the member id given")                 \
    XX(EINCONSISTENT_PROTOCOL, GN__ERR_BASE - 104, "no group protocol in common with the group")   \
    XX(EGROUP_MAX_SIZE, GN__ERR_BASE - 105, "consumer group reached group.max.size")               \
    XX(ECOORDINATOR_LOADING, GN__ERR_BASE - 106, "group coordinator is loading; retry")            \
    XX(ENOT_COORDINATOR, GN__ERR_BASE - 107, "not the coordinator of this group")                  \
    XX(ECOORDINATOR_NOT_AVAILABLE, GN__ERR_BASE - 108, "group coordinator not available; retry")   \
    XX(EFENCED_INSTANCE, GN__ERR_BASE - 109, "static member fenced by a newer instance")           \
    XX(EGROUP_NOT_EMPTY, GN__ERR_BASE - 110, "consumer group still has members")                   \
    XX(EGROUP_ID_NOT_FOUND, GN__ERR_BASE - 111, "consumer group does not exist")                   \
    XX(EINVALID_SESSION_TIMEOUT, GN__ERR_BASE - 112, "session timeout outside the allowed range")  \
    XX(EINVALID_GROUP_ID, GN__ERR_BASE - 113, "invalid consumer group id")                         \
    XX(EOFFSET_METADATA_TOO_LARGE, GN__ERR_BASE - 114, "offset metadata too large")                \
    XX(EGROUP_SUBSCRIBED_TO_TOPIC, GN__ERR_BASE - 115, "group is subscribed to the topic")

enum {
#define GN__ERR_ENUM(name, value, sentence) GN_##name = (value),
    GN_ERRNO_MAP(GN__ERR_ENUM)
#undef GN__ERR_ENUM
};

/* A sentence for a person; never NULL (unknown codes get a generic sentence). */
const char *gn_strerror(int err);
/* The symbolic name ("ECORRUPT"); never NULL. */
const char *gn_err_name(int err);

#endif
