/* SPDX-License-Identifier: Apache-2.0 */
/* Produce forwarding (forward.c): gn_produce on a broker that does not lead the partition
 * sends the batches to the leader over the internal RPC (op "produce") and completes the
 * caller's callback with the leader's answer. Up to 5 requests in flight per partition
 * (order kept, callers completed in order), a per-peer in-flight limit, a timeout, one
 * resend against a new leader; idempotent (a producer id of the broker's, an epoch and
 * sequences per partition), so a resend never appends a batch twice. Serves the op for
 * other brokers too. Loop thread only. */
#ifndef GN_CORE_REPLICA_FORWARD_H
#define GN_CORE_REPLICA_FORWARD_H

#include <stdbool.h>

#include "broker/broker_internal.h"
#include "ganglion/partition.h"

typedef struct gn_forwarder gn_forwarder_t;

/* After the replica manager: registers the "produce" RPC handler. */
int gn__forward_open(gn_broker_t *broker, gn_forwarder_t **out);
/* Queued and in-flight forwards complete with GN_ESHUTDOWN (on a later loop turn). */
void gn__forward_close(gn_forwarder_t *f);

/* Forwards of part are queued or in flight here: later produces join the queue so that
 * they stay behind them. */
bool gn__forward_busy(gn_forwarder_t *f, const gn_partition_t *part);
/* Copies the batches and queues them for the partition's leader. 0 (cb runs later, on
 * the loop), GN_ENOTLEADER when the partition has no leader, GN_ENOMEM when the
 * partition's forward queue is full. */
int gn__forward_produce(gn_forwarder_t *f, gn_partition_t *part, const uint8_t *batches, size_t len,
                        gn_acks_t acks, gn_produce_cb cb, void *arg);

#endif
