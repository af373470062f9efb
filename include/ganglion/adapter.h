/* SPDX-License-Identifier: Apache-2.0 */
/* The descriptor every protocol adapter exports (as an nginx mail protocol does):
 * `const gn_adapter_t gn_kafka_adapter = { .name = "kafka", .default_port = 9092, ... }`.
 * The gateway holds the table of adapters, starts one listener per enabled adapter on
 * the broker's loop and stops them on shutdown. Loop thread only. */
#ifndef GANGLION_ADAPTER_H
#define GANGLION_ADAPTER_H

#include <stdbool.h>

#include "broker.h"
#include "transport.h"

typedef struct gn_listener_config {
    const char *host;            /* bind address, e.g. "0.0.0.0" or "127.0.0.1" */
    int port;                    /* 0: the listener is off */
    const char *advertised_host; /* NULL: the address the client connected to */
    int advertised_port;         /* 0: port */
    long max_request_bytes;      /* socket.request.max.bytes and the like */
    long max_idle_ms;            /* connections.max.idle.ms (Kafka); 0: never */
    /* Authentication (auth.h): the users of auth.users.file, NULL when none; read-only,
     * valid until the adapter has stopped. */
    const struct gn_auth_store *auth;
    bool allow_anonymous; /* "<name>.allow.anonymous"; true where the key does not exist */
    /* TLS (tls.h): the context made from tls.cert.file and friends, NULL when none is
     * configured; read-only, valid until the adapter has stopped. The adapter listens
     * for TLS clients on tls_port ("<name>.tls.port", 0: off) of the same host. */
    struct gn_tls_ctx *tls;
    int tls_port;
    int tls_advertised_port; /* "<name>.tls.advertised.port"; 0: tls_port */
} gn_listener_config_t;

typedef void (*gn_adapter_stopped_cb)(void *arg);

typedef struct gn_adapter {
    const char *name;
    int default_port;
    /* Binds and starts accepting; *state is the adapter's own. 0 or -errno. */
    int (*start)(gn_broker_t *broker, const gn_listener_config_t *cfg, void **state);
    /* Stops accepting, closes every connection; cb runs when all handles are closed. */
    void (*stop)(void *state, gn_adapter_stopped_cb cb, void *arg);
    /* Optional (NULL for most): serve a stream protocol over WebSocket on this
     * listener (the HTTP adapter). The gateway calls it after start for each row of its
     * WebSocket route table; route is copied. 0 or -errno. */
    int (*serve_stream)(void *state, const gn_ws_route_t *route);
} gn_adapter_t;

#endif
