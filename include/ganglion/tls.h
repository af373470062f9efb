/* SPDX-License-Identifier: Apache-2.0 */
/* TLS for the Kafka and MQTT listeners and between brokers (core/tls): a context made
 * once from PEM files (by the gateway for the listeners, handed to the adapters in
 * gn_listener_config_t.tls; by the broker for cluster.tls.*), and a gn_transport_t
 * ("tls") over an accepted or a dialled TCP connection that runs OpenSSL through memory
 * BIOs on the libuv stream. No protocol knowledge. Loop thread only. */
#ifndef GANGLION_TLS_H
#define GANGLION_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "transport.h"

/* ssl.client.auth, as Kafka names it: client certificates are not asked for, asked for
 * and checked when sent, or required. */
typedef enum gn_tls_client_auth {
    GN_TLS_CLIENT_AUTH_NONE = 0,
    GN_TLS_CLIENT_AUTH_REQUESTED,
    GN_TLS_CLIENT_AUTH_REQUIRED,
} gn_tls_client_auth_t;

typedef struct gn_tls_config {
    const char *cert_file; /* PEM: the server certificate, then its chain */
    const char *key_file;  /* PEM: its private key (unencrypted) */
    const char *ca_file;   /* PEM: CAs client certificates must chain to; NULL or "": none */
    gn_tls_client_auth_t client_auth; /* requested/required need ca_file */
    /* Broker to broker (cluster.tls.*): one context for both ends. Each end sends
     * cert_file and requires the other's certificate, checked against ca_file (needed;
     * client_auth is then taken as required). Such a context also dials
     * (gn_tls_transport_connect). */
    bool peers;
} gn_tls_config_t;

typedef struct gn_tls_ctx gn_tls_ctx_t;

/* Loads the certificate, key (checked to match) and CA file into a server context
 * (TLS 1.2 and 1.3, no renegotiation). 0, or GN_EINVALID_CONFIG with a sentence in err
 * naming the file and OpenSSL's reason. */
int gn_tls_ctx_new(const gn_tls_config_t *cfg, gn_tls_ctx_t **out, char *err, size_t errcap);
void gn_tls_ctx_free(gn_tls_ctx_t *ctx);
/* The files and client_auth ctx was made from (for libwebsockets, which loads its own
 * context from them: the HTTP listener); valid while ctx is. */
const gn_tls_config_t *gn_tls_ctx_config(const gn_tls_ctx_t *ctx);

/* Called once the transport is closed and its memory released (after tr->on_close). */
typedef void (*gn_tls_closed_cb)(void *arg);

/* Accepts a connection from listener and wraps it in a "tls" transport; the handshake
 * runs as the client's bytes arrive (a failure is logged under module mod with the
 * client's address, and the connection closed). The caller attaches its protocol to
 * *out (sets on_read/on_close) and then calls gn_tls_transport_start to begin reading.
 * Unlike the TCP transport, write encrypts at once: the bytes passed may be reused as
 * soon as it returns; cb still runs once their ciphertext has left (or failed).
 * write_queue_size is the ciphertext not yet written. closed runs after every close,
 * also when the accept fails later in start. 0 or -errno (nothing to close then). */
int gn_tls_transport_accept(gn_tls_ctx_t *ctx, uv_stream_t *listener, const char *mod,
                            gn_tls_closed_cb closed, void *arg, gn_transport_t **out);
/* Dials addr with a context made with peers (else GN_EINVAL) and wraps the connection
 * in a "tls" transport that runs the client's handshake, verifying the server's
 * certificate against ca_file (any certificate that CA signed: the peer's name is not
 * checked) and sending its own. Reading starts once connected: the caller attaches its
 * protocol to *out at once. What is written before the handshake finished is held and
 * sent after it. A failed connect or handshake is logged under mod (the handshake with
 * the server's address and the reason) and closes the transport: on_close, then closed.
 * 0 or -errno (nothing to close then). */
int gn_tls_transport_connect(gn_tls_ctx_t *ctx, uv_loop_t *loop, const struct sockaddr *addr,
                             const char *mod, gn_tls_closed_cb closed, void *arg,
                             gn_transport_t **out);
/* Whether the handshake of tr finished (its peer verified, when the context asks). */
bool gn_tls_transport_handshaken(gn_transport_t *tr);
/* Starts reading. 0 or -errno (then the transport is closing). */
int gn_tls_transport_start(gn_transport_t *tr);
/* The subject DN of the client certificate the handshake verified, in RFC 2253 form
 * ("CN=alice,OU=ops,O=acme": Kafka's default SSL principal name). 0, or GN_ENOENT (no
 * certificate, or the handshake is not done), GN_EINVAL (longer than cap), GN_ENOMEM. */
int gn_tls_transport_peer_subject(gn_transport_t *tr, char *buf, size_t cap);

#endif
