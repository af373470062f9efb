/* SPDX-License-Identifier: Apache-2.0 */
/* Data replication (core/replica), Kafka's design: followers fetch from the partition
 * leader over the internal RPC (op "fetch", the same RecordBatch bytes); the leader
 * tracks each follower's log end, advances the high watermark to the minimum over the
 * ISR, completes acks=all there, shrinks the ISR after replica.lag.time.max.ms and
 * expands it when a follower catches up; min.insync.replicas is enforced at produce.
 * Loop thread only. */
#ifndef GN_CORE_REPLICA_REPLICA_H
#define GN_CORE_REPLICA_REPLICA_H

#include <stdint.h>

#include "broker/broker_internal.h"
#include "ganglion/partition.h"

typedef struct gn_replica_mgr gn_replica_mgr_t;

/* After the controller: fetch handler, append observer, role of every local partition. */
int gn__replica_open(gn_broker_t *broker, gn_replica_mgr_t **out);
void gn__replica_close(gn_replica_mgr_t *m);

/* Before a produce: GN_ENOTLEADER when the image names another leader;
 * GN_ENOT_ENOUGH_REPLICAS for acks=all with an ISR below min.insync.replicas. Sets
 * *leader_epoch to the epoch the leader stamps on the batches (-1: unknown, kept). */
int gn__replica_check_produce(gn_partition_t *part, gn_acks_t acks, int32_t *leader_epoch);
/* After an append by the leader (any acks): the follower fetches parked at this broker
 * for want of data are answered on the next loop turn, not at the end of their wait. */
void gn__replica_appended(gn_partition_t *part);
/* 0 when this broker leads the partition (GN_ENOTLEADER if not); *epoch = the leader
 * epoch it knows (-1 unknown). */
int gn__replica_leader_epoch(const gn_partition_t *part, int32_t *epoch);
/* acks=all: 0 and task queued (run through the deferred queue once the high watermark
 * reaches end, or with the partition's close); 1 when there is nothing to wait for. */
int gn__replica_await(gn_partition_t *part, int64_t end, gn__task_t *task, int *status);
/* The partition's high watermark: its log end unless it is replicated. */
int64_t gn__replica_high_watermark(const gn_partition_t *part);
/* The partition is closing: waiters fail with status, fetches stop. */
void gn__replica_partition_closed(gn_partition_t *part, int status);

#endif
