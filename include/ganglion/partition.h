/* SPDX-License-Identifier: Apache-2.0 */
/* Producing to and reading from one partition: the adapters' path to the log.
 * Appends are validated in place and written with one write; reads return file
 * slices (fd, position, length) for sendfile, or bytes to iterate. Watches wake an
 * adapter when the high watermark passes an offset. Loop thread only. */
#ifndef GANGLION_PARTITION_H
#define GANGLION_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"

typedef struct gn_partition gn_partition_t;
typedef struct gn_segment gn_segment_t;

/* NULL for an unknown topic or partition. The pointer is valid until the loop
 * runs again (a topic can be deleted between callbacks): look it up per request. */
gn_partition_t *gn_partition_get(gn_broker_t *broker, const char *topic, int32_t partition);
/* Looks up, creating the topic with broker defaults when auto-creation is on
 * (auto.create.topics.enable). GN_EUNKNOWN_TOPIC, GN_EINVALID_TOPIC otherwise. */
int gn_partition_get_or_create(gn_broker_t *broker, const char *topic, int32_t partition,
                               gn_partition_t **out);
const char *gn_partition_topic(const gn_partition_t *part);
int32_t gn_partition_id(const gn_partition_t *part);

typedef enum gn_acks {
    GN_ACKS_NONE = 0,
    GN_ACKS_LEADER = 1,
    GN_ACKS_ALL = -1,
} gn_acks_t;

typedef struct gn_produce_result {
    int64_t base_offset;
    int64_t last_offset;
    int64_t log_append_time; /* -1 unless the topic uses LogAppendTime */
    int64_t log_start_offset;
    bool durable;   /* fsynced before this answer */
    bool duplicate; /* an idempotent producer's retry of batches already in the log: the
                     * offsets are the original ones and nothing was appended (Kafka
                     * answers such a retry with NONE and the original base offset) */
} gn_produce_result_t;

/* The metadata image names this broker the partition's leader (always true on a single
 * node; gn_produce may still refuse, e.g. without a metadata lease). Kafka's Produce
 * answers NOT_LEADER_OR_FOLLOWER otherwise; gn_produce itself forwards. */
bool gn_partition_is_leader(const gn_partition_t *part);

/* Runs once, on the loop, never before gn_produce returns; only if it returned 0. */
typedef void (*gn_produce_cb)(void *arg, int status, const gn_produce_result_t *res);

/* Appends one or more RecordBatch v2 (batches, len). The bytes are borrowed for
 * the call only and rewritten in place (base offset, leader epoch, LogAppendTime).
 * In a cluster, a partition led by another broker gets a copy of the batches over the
 * internal RPC and cb the leader's answer (core/replica/forward.c: one forward in flight
 * per partition, so order is kept; GN_ETIMEOUT when the leader cannot be reached after
 * one resend, GN_ENOTLEADER while the partition has no leader, GN_ENOMEM when the
 * partition's forward queue is full).
 * Returns 0 (cb will run) or a negative error with the log untouched:
 * GN_ECORRUPT, GN_EUNSUPPORTED_VERSION, GN_ETOOLARGE, GN_EINVALID_RECORD,
 * GN_ESTORAGE, -ENOSPC, -EIO. acks=all completes once durable per the flush policy.
 * Batches with a producer id (>= 0) are checked against the partition's producer state
 * first: GN_EPRODUCER_FENCED (older epoch), GN_EOUT_OF_ORDER_SEQ (sequence gap, or a
 * new epoch not starting at 0), GN_EDUPLICATE_SEQ (duplicates mixed with new batches
 * in one buffer); a pure retry of one of a producer's last 5 batches is not appended
 * and completes with res->duplicate and the original offsets. */
int gn_produce(gn_partition_t *part, uint8_t *batches, size_t len, gn_acks_t acks, gn_produce_cb cb,
               void *arg);

/* A byte range of a segment file holding whole batches. Holds a reference on the
 * segment so the fd stays open after retention deletes it; release when sent. */
typedef struct gn_log_slice {
    int fd;
    int64_t pos;
    int64_t len;          /* 0: nothing to read at this offset yet */
    int64_t first_offset; /* base offset of the first batch in the slice */
    gn_segment_t *seg;
} gn_log_slice_t;

void gn_log_slice_release(gn_log_slice_t *slice);
/* Copies the slice into buf (len bytes); 0 or -errno. For iterating records. */
int gn_log_slice_read(const gn_log_slice_t *slice, uint8_t *buf);

typedef struct gn_read_result {
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset;
    gn_log_slice_t slice;
} gn_read_result_t;

/* Remote reads: on a broker outside a partition's replica set (a cluster), reads are
 * served from a local copy of the partition's committed records that the broker fetches
 * from the leader (core/replica/remote_read.c) while local readers want it: a
 * gn_partition_read or an armed watch counts, and an adapter that learns of records
 * through the append observers only calls gn_partition_want at least every 10 s for each
 * partition it wants. One fetch per partition, shared by every reader here; it stops
 * 30 s after the last want. A copy starts where it last ended (the leader's log start
 * the first time), so the high watermark here trails the leader's until it has caught
 * up; the append observers are told only of records committed after the copy started.
 * No-op on a partition this broker holds. */
void gn_partition_want(gn_partition_t *part);
/* GN_ENOTLEADER when this broker holds no replica of part and no broker leads it (its
 * replicas are down): readers get nothing until it is back; else 0. */
int gn_partition_check_read(gn_partition_t *part);
/* The offset a reader starting at `latest` begins at: 0 and *offset = the high
 * watermark, or on a remote copy the leader's (records committed before it are not
 * news, even while the copy is still catching up to them). GN_EAGAIN while a copy has
 * not heard from the leader yet (it is wanted by this call): arm a watch at any offset
 * and ask again when it runs — every watch of the partition runs once at that answer. */
int gn_partition_latest(gn_partition_t *part, int64_t *offset);

/* Whole batches starting with the one holding offset, up to max_bytes (but at
 * least one batch, as Kafka's KIP-74) and below the high watermark.
 * GN_EOFFSETRANGE when offset < log start or > high watermark. */
int gn_partition_read(gn_partition_t *part, int64_t offset, size_t max_bytes,
                      gn_read_result_t *res);

int64_t gn_partition_high_watermark(const gn_partition_t *part);
int64_t gn_partition_log_start_offset(const gn_partition_t *part);
int64_t gn_partition_log_end_offset(const gn_partition_t *part);
int64_t gn_partition_size_bytes(const gn_partition_t *part);

/* The first offset whose batch max timestamp >= ts (ListOffsets by time);
 * *offset = -1 when there is none. */
int gn_partition_offset_for_time(gn_partition_t *part, int64_t ts, int64_t *offset,
                                 int64_t *timestamp);
/* The offset and timestamp of the record with the largest timestamp (-1 if empty). */
int gn_partition_max_timestamp(gn_partition_t *part, int64_t *offset, int64_t *timestamp);
/* Whether this broker serves the partition as its leader, and at which leader epoch:
 * GN_ENOTLEADER when it does not; with current_epoch >= 0 (the epoch a client's metadata
 * gave it, Kafka's CurrentLeaderEpoch) GN_EFENCED_LEADER_EPOCH when that is older than
 * the broker's, GN_EUNKNOWN_LEADER_EPOCH when newer. epoch may be NULL. */
int gn_partition_leader_epoch(const gn_partition_t *part, int32_t current_epoch, int32_t *epoch);
/* OffsetForLeaderEpoch: the largest epoch <= epoch this log holds and the offset where it
 * ends (the log end for the latest); (-1, -1) when unknown. */
void gn_partition_epoch_end(const gn_partition_t *part, int32_t epoch, int32_t *out_epoch,
                            int64_t *out_end);
/* DeleteRecords: advance the log start offset (offset -1 = high watermark).
 * Returns the new low watermark in *low or GN_EOFFSETRANGE. */
int gn_partition_delete_records(gn_partition_t *part, int64_t offset, int64_t *low);

/* Watch: woken when the high watermark passes offset (> offset), or with an error
 * when the partition goes away (GN_EUNKNOWN_TOPIC). Caller-owned and embedded; a
 * watch fires at most once and is then removed. */
typedef struct gn_watch gn_watch_t;
typedef void (*gn_watch_cb)(gn_watch_t *watch, int status);
struct gn_watch {
    gn_watch_cb cb;
    void *data;
    int64_t offset;
    gn_watch_t *prev, *next; /* owned by the partition while armed */
    gn_partition_t *part;
};
void gn_partition_watch(gn_partition_t *part, gn_watch_t *watch, int64_t offset, gn_watch_cb cb);
void gn_watch_cancel(gn_watch_t *watch); /* no-op if not armed */

/* Append observers: broker-wide "offsets base..last of part were appended", for
 * adapters that match subscriptions at append time (MQTT's topic-filter trie). Runs
 * on the loop after the append (never inside gn_produce), once per partition per
 * loop turn, covering every offset appended since the previous call. part is valid
 * for the call only. At most 8 observers; 0, GN_EINVAL or GN_ENOMEM (full). */
typedef void (*gn_append_observer_cb)(void *arg, gn_partition_t *part, int64_t base_offset,
                                      int64_t last_offset);
int gn_broker_observe_appends(gn_broker_t *broker, gn_append_observer_cb cb, void *arg);
/* Removes the observer registered with the same cb and arg (no-op if none). */
void gn_broker_unobserve_appends(gn_broker_t *broker, gn_append_observer_cb cb, void *arg);

#endif
