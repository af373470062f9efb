/* SPDX-License-Identifier: Apache-2.0 */
/* The table of protocol adapters the `ganglion` program starts (adapters.c). The
 * gateway only sees each adapter's descriptor (include/ganglion/adapter.h), never its
 * internals. Read-only data; used on the loop thread by server.c. */
#ifndef GN_GATEWAY_ADAPTERS_H
#define GN_GATEWAY_ADAPTERS_H

#include "ganglion/adapter.h"

/* NULL-terminated, in start order (stopped in reverse). */
extern const gn_adapter_t *const gn_gateway_adapters[];

/* A stream protocol served over WebSocket by one adapter's listener (the HTTP adapter's
 * serve_stream), e.g. MQTT at /mqtt. After every listener has started, the gateway hands
 * each row whose server and owner both run to server's serve_stream, with
 * route.adapter_state set to the owner's state. */
typedef struct gn_gateway_ws_route {
    const char *server; /* adapter serving the WebSocket: "http"; NULL ends the table */
    const char *owner;  /* adapter whose state the protocol attaches with ("mqtt"), or NULL */
    gn_ws_route_t route;
} gn_gateway_ws_route_t;

extern const gn_gateway_ws_route_t gn_gateway_ws_routes[];

#endif
