/* SPDX-License-Identifier: Apache-2.0 */
/* The byte-stream transport an adapter's session runs on (as Redis's ConnectionType):
 * a TCP stream, a TLS stream, or the messages of a WebSocket. MQTT over WebSocket is
 * the MQTT adapter's stream protocol attached to a WebSocket transport by the gateway;
 * neither adapter includes the other. Loop thread only. */
#ifndef GANGLION_TRANSPORT_H
#define GANGLION_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "broker.h"

typedef struct gn_transport gn_transport_t;

/* status 0 or -errno; the bufs' memory may be released from here on. */
typedef void (*gn_transport_write_cb)(gn_transport_t *tr, void *arg, int status);

typedef struct gn_transport_ops {
    /* Queues bytes in order; cb (may be NULL) once they left or failed. 0 or -errno. */
    int (*write)(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs, gn_transport_write_cb cb,
                 void *arg);
    /* Bytes queued but not yet written: the session's back-pressure signal. */
    size_t (*write_queue_size)(gn_transport_t *tr);
    void (*pause_reading)(gn_transport_t *tr);
    void (*resume_reading)(gn_transport_t *tr);
    /* Closes; the protocol's on_close runs once, later, on the loop. */
    void (*close)(gn_transport_t *tr);
    /* "ip:port" of the peer and of our side (for advertised addresses). */
    int (*peer_name)(gn_transport_t *tr, char *buf, size_t cap);
    int (*local_name)(gn_transport_t *tr, char *buf, size_t cap);
    /* Optional (NULL on most transports): queues bytes the caller keeps valid and
     * unchanged until cb runs, without copying them, written as they are: on a "ws"
     * transport whole WebSocket frames, header included (a server's frames are unmasked,
     * so one buffer serves every connection of a fan-out). 0 or -errno (cb never runs). */
    int (*write_shared)(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs,
                        gn_transport_write_cb cb, void *arg);
    /* Optional (NULL on most transports): the principal the transport's owner
     * authenticated ("User:alice", "User:CN=client,O=acme", "User:ANONYMOUS"): the HTTP
     * listener's check of a WebSocket upgrade (http.auth, a TLS client certificate). 0,
     * or GN_ENOENT. */
    int (*principal)(gn_transport_t *tr, char *buf, size_t cap);
    /* Optional (NULL on most transports): acknowledges at once what was read
     * (TCP_QUICKACK), for a peer that gets no reply to this input: its ACK would otherwise
     * wait up to 40 ms for the kernel's delayed-ACK timer, and a client with Nagle's
     * algorithm on (libmosquitto's default) holds its next packet until then. */
    void (*ack_now)(gn_transport_t *tr);
} gn_transport_ops_t;

/* Set by the transport's owner; proto_* set by the stream protocol on attach. */
struct gn_transport {
    const gn_transport_ops_t *ops;
    const char *kind; /* "tcp", "tls", "ws" */
    void *impl;       /* the transport's own state */
    void *session;    /* the stream protocol's state */
    /* Called by the transport: bytes in (borrowed for the call), and the end. */
    void (*on_read)(gn_transport_t *tr, const uint8_t *data, size_t len);
    void (*on_close)(gn_transport_t *tr);
};

/* A protocol that runs on any transport (MQTT on TCP and on WebSocket). attach sets
 * tr->session, tr->on_read and tr->on_close; 0 or -errno (then the owner closes). */
typedef struct gn_stream_protocol {
    const char *name;
    int (*attach)(gn_broker_t *broker, void *adapter_state, gn_transport_t *tr);
    /* Optional: state shared by the protocol's sessions when its route names no owner
     * adapter (adapter_state NULL): made by the serving adapter when the route is
     * served, passed to attach, freed after every session on it closed. 0 or -errno. */
    int (*state_new)(gn_broker_t *broker, void **state);
    void (*state_free)(void *state);
} gn_stream_protocol_t;

/* A stream protocol served over WebSocket at a path of the HTTP listener: a row of the
 * gateway's WebSocket route table, handed to the HTTP adapter (gn_adapter_t.serve_stream).
 * On a "ws" transport each on_read is one whole message and each write one message. */
typedef struct gn_ws_route {
    const char *path;         /* "/ws", "/mqtt" */
    const char *subprotocols; /* accepted Sec-WebSocket-Protocol names, comma separated;
                                 NULL or "": the client may name none */
    int binary;               /* 1: binary frames (MQTT); 0: text frames (JSON) */
    size_t max_message_bytes; /* larger messages close the socket with 1009; 0: default */
    const gn_stream_protocol_t *protocol;
    void *adapter_state; /* passed to protocol->attach */
    bool authenticates;  /* the protocol checks its clients itself (MQTT CONNECT): the
                            listener's HTTP authentication does not apply to the upgrade */
} gn_ws_route_t;

/* Writes the header of an unmasked server frame holding a whole message of len bytes
 * (text, or binary) at p (room for GN_WS_FRAME_HEADER_MAX); returns its size. */
#define GN_WS_FRAME_HEADER_MAX 10
size_t gn_ws_frame_header(uint8_t *p, bool binary, size_t len);

#endif
