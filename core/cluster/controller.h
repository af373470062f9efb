/* SPDX-License-Identifier: Apache-2.0 */
/* The controller duties of a broker (controller.c): internal RPC listener, heartbeats,
 * forwarding, fencing and leader moves, other brokers' topic records. Loop thread. */
#ifndef GN_CORE_CLUSTER_CONTROLLER_H
#define GN_CORE_CLUSTER_CONTROLLER_H

#include <jansson.h>

#include "cluster/rpc.h"
#include "ganglion/broker.h"

typedef struct gn_controller gn_controller_t;

/* After the broker loaded its topics: starts the listener (cluster.listener) and the
 * heartbeat/decision timer. */
int gn__controller_open(gn_broker_t *broker, gn_controller_t **out);
/* Stops everything; memory goes once the handles are closed. */
void gn__controller_close(gn_controller_t *ctl);
/* The metadata lease: true when the controller answered one of this broker's heartbeats
 * within a broker session and this broker has applied the metadata the controller had
 * then (the controller itself: its last tick as Raft leader within a session; a quorum
 * of one: always). A broker without it does not act as a partition leader: it may have
 * been fenced and its leaderships moved without its knowing (paused, cut off). Without
 * a controller majority no broker holds it: the cluster is unavailable (CP), except that
 * acks=all is answered NOT_ENOUGH_REPLICAS when the live ISR is too small. */
bool gn__controller_lease_ok(gn_controller_t *ctl);
/* The internal RPC server (NULL without cluster.listener), for core/replica's handlers. */
gn_rpc_server_t *gn__controller_rpc(gn_controller_t *ctl);
/* Controlled shutdown (Kafka's, KRaft style): this broker's heartbeats ask to shut down;
 * the controller fences its registration, moves its partition leaderships to in-sync
 * replicas and takes it out of the ISRs, and says when nothing is left; a controller
 * broker also hands the Raft leadership to another voter. cb runs once that is done, after
 * timeout_ms at the latest, or at once without another live broker. Meanwhile, once its
 * own image says it is fenced, the broker stops acting as partition leader (clients get
 * NOT_LEADER_OR_FOLLOWER and move). */
typedef void (*gn_controller_drained_cb)(void *arg);
void gn__controller_drain(gn_controller_t *ctl, uint64_t timeout_ms, gn_controller_drained_cb cb,
                          void *arg);
/* Called after each applied record, once the controller has handled it (core/replica). */
typedef void (*gn_controller_apply_cb)(void *arg, const json_t *record);
void gn__controller_on_apply(gn_controller_t *ctl, gn_controller_apply_cb cb, void *arg);

#endif
