/* SPDX-License-Identifier: Apache-2.0 */
/* Remote reads (remote_read.c): a broker outside a partition's replica set serves its
 * gateway readers from a local copy of the partition's log, fetched from the leader over
 * the internal RPC (op "read": committed records only, no follower or ISR bookkeeping,
 * parked until the high watermark moves) while some local reader wants it. One fetch
 * stream per partition, shared by every local reader through the ordinary read, watch
 * and append-observer paths. Serves the op for other brokers too. Loop thread only. */
#ifndef GN_CORE_REPLICA_REMOTE_READ_H
#define GN_CORE_REPLICA_REMOTE_READ_H

#include "broker/broker_internal.h"
#include "ganglion/partition.h"

typedef struct gn_remote_mgr gn_remote_mgr_t;

/* After the replica manager: registers the "read" RPC handler and the idle sweep. */
int gn__remote_open(gn_broker_t *broker, gn_remote_mgr_t **out);
/* Parked reads get GN_ESHUTDOWN; copies stop fetching. */
void gn__remote_close(gn_remote_mgr_t *r);
/* The metadata image changed: leaders and replica sets are looked up again. */
void gn__remote_image_changed(gn_remote_mgr_t *r);
/* A local reader wants part: when this broker holds no replica of it, its copy is
 * fetched from the leader until no reader has wanted it for GN_REMOTE_IDLE_MS and no
 * watch is armed on it. Cheap when the partition is local (cached per image change). */
void gn__remote_want(gn_partition_t *part);
/* GN_ENOTLEADER when this broker holds no replica of part and the image names no leader
 * to read from; else 0. */
int gn__remote_check(gn_partition_t *part);
/* `latest` for a reader here: 1 when part is not a copy (its own high watermark is the
 * answer); 0 and *offset = the leader's high watermark as of the copy's last answer (or
 * the copy's own, when higher); GN_EAGAIN while the copy has not heard from the leader
 * since its stream started (wanted it first). When the first answer comes, every watch on
 * the partition runs once, so a reader waiting on GN_EAGAIN asks again. */
int gn__remote_latest(gn_partition_t *part, int64_t *offset);
/* The partition is closing: its copy stops fetching. */
void gn__remote_partition_closed(gn_partition_t *part);

#define GN_REMOTE_IDLE_MS 30000

#endif
