/* SPDX-License-Identifier: Apache-2.0 */
/* The Kafka listener and its connections (server.c, conn.c): accepts on the broker's
 * loop, reads size-prefixed frames, dispatches through the API table and writes the
 * responses strictly in request order. Loop thread only. */
#ifndef KAFKA_SERVER_H
#define KAFKA_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/tls.h"
#include "kafka.h"
#include "sasl.h"

/* Bounds per connection: past either, the connection stops reading until the client
 * has taken its responses (back-pressure, never unbounded queues). */
#define KAFKA_CONN_MAX_INFLIGHT         256         /* queued requests (pending + unsent) */
#define KAFKA_CONN_MAX_QUEUED_BYTES     (64u << 20) /* unsent response bytes held in memory */
#define KAFKA_DEFAULT_MAX_REQUEST_BYTES 104857600   /* socket.request.max.bytes */
/* Under TLS (conn_tls.c): ciphertext a connection may have waiting in libuv before its
 * responses wait for it to drain, and the bytes of a Fetch's file slice read and
 * encrypted at a time (sendfile cannot encrypt). */
#define KAFKA_TLS_MAX_QUEUED_BYTES (256u << 10)
#define KAFKA_TLS_FILE_CHUNK       (64u << 10)

struct kafka_server {
    gn_broker_t *broker;
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    bool stopping;
    char adv_host[256];    /* empty: the connection's local address */
    int adv_port;          /* 0: the connection's local port */
    int tls_adv_port;      /* the same for connections to the TLS listener */
    uv_tcp_t tls_listener; /* kafka.tls.port (conn_tls.c) */
    bool tls_listening;
    gn_tls_ctx_t *tls;  /* the gateway's TLS context; NULL: no TLS listener */
    uint8_t *tls_chunk; /* [KAFKA_TLS_FILE_CHUNK]: file slices read for SSL_write, shared */
    size_t max_request_bytes;
    uint64_t max_idle_ms; /* connections.max.idle.ms; 0: never (server.c's idle sweep) */
    uv_timer_t idle_timer;
    const gn_auth_store_t *auth;  /* auth.users.file: SASL offered; NULL: none */
    gn_auth_throttle_t *throttle; /* failed SASL authentications per client host */
    bool allow_anonymous;         /* kafka.allow.anonymous: serve clients without SASL */
    kafka_conn_t *conns;          /* doubly linked */
    /* Connections with answers completed this loop turn: written once per turn, from a
     * prepare (after deferred completions and timers) or check (after I/O) handle, so
     * that responses finished together leave in one sendmsg. */
    kafka_conn_t *flush_head;
    uv_prepare_t flush_prepare;
    uv_check_t flush_check;
    bool flush_active;
    int nconns;
    int open_handles; /* listener + connections not yet closed */
    gn_adapter_stopped_cb stop_cb;
    void *stop_arg;
};

struct kafka_conn {
    kafka_conn_t *prev, *next;
    kafka_conn_t *flush_next; /* in srv->flush_head while flush_queued */
    bool flush_queued;
    kafka_server_t *srv;
    uv_tcp_t tcp;        /* plain connections */
    gn_transport_t *tls; /* TLS connections (conn_tls.c); tcp and poll unused */
    bool tls_pumping;    /* in kafka__conn_tls_pump: a write callback does not re-enter */
    uv_poll_t poll;      /* on a dup of the socket: writable notifications for sendfile */
    int fd, poll_fd;
    bool poll_active;
    bool reading;
    bool closing;
    int open_handles;
    char peer[64];
    uint64_t last_read; /* loop time of its last bytes (or of its accept) */
    kafka_endpoint_t local;
    kafka_sasl_t sasl;
    /* authz.c: the principal requests are authorized as, made at the first check and
     * again once SASL succeeded; tls_subject is the client certificate's subject DN
     * (conn_tls.c, empty without one); host is the peer's IP address */
    char principal[GN_ACL_PRINCIPAL_MAX];
    bool principal_sasl;
    char tls_subject[GN_ACL_PRINCIPAL_MAX - 8];
    char host[64];
    /* input */
    uint8_t *rbuf;
    size_t rlen, rcap;
    /* ordered response queue */
    kafka_req_t *q_head, *q_tail;
    int q_count;
    size_t q_bytes;
    size_t wseg, woff; /* write position in the head response */
};

void kafka__conn_accept(kafka_server_t *srv);
void kafka__conn_close(kafka_conn_t *conn, const char *why);
void kafka__server_handle_closed(kafka_server_t *srv);
/* conn.c, shared with conn_tls.c: a connection in the server's list (counted in
 * open_handles), its release once closed, the frame loop, and the write position. */
kafka_conn_t *kafka__conn_new(kafka_server_t *srv);
void kafka__conn_free(kafka_conn_t *conn);
void kafka__conn_process(kafka_conn_t *conn);
void kafka__conn_pop_done(kafka_conn_t *conn);
void kafka__conn_advance(kafka_conn_t *conn, size_t n);
/* conn_tls.c: the TLS listener (0 when off, or -errno: kafka__tls_close still closes
 * what was opened), its connections, and their writes. */
int kafka__tls_listen(kafka_server_t *srv, const gn_listener_config_t *cfg);
void kafka__tls_close(kafka_server_t *srv);
void kafka__conn_tls_pump(kafka_conn_t *conn);

#endif
