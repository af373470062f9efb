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
/* The internal RPC server (NULL without cluster.listener), for core/replica's handlers. */
gn_rpc_server_t *gn__controller_rpc(gn_controller_t *ctl);
/* Called after each applied record, once the controller has handled it (core/replica). */
typedef void (*gn_controller_apply_cb)(void *arg, const json_t *record);
void gn__controller_on_apply(gn_controller_t *ctl, gn_controller_apply_cb cb, void *arg);

#endif
