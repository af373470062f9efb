/* SPDX-License-Identifier: Apache-2.0 */
/* The group RPC served for server-side members on other brokers (serve.c). */
#ifndef GN_CORE_GROUP_SERVE_H
#define GN_CORE_GROUP_SERVE_H

#include "ganglion/broker.h"

/* After the controller: registers the "group" op on the internal RPC listener. */
int gn__group_serve_open(gn_broker_t *broker);

#endif
