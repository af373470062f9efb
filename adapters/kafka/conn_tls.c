/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka over TLS (kafka.tls.port: Kafka's SSL listener, SASL_SSL with SASL): the TLS
 * listener, and its connections on core/tls's "tls" transport. They share conn.c's
 * frames, dispatch and ordered response queue; only the bytes move differently:
 * plaintext in from the transport, responses out through it, and a Fetch's file
 * slices, which sendfile cannot encrypt, read with pread in KAFKA_TLS_FILE_CHUNK pieces
 * and encrypted, with at most KAFKA_TLS_MAX_QUEUED_BYTES of ciphertext waiting per
 * connection. Loop thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"
#include "server.h"

/* ---- writing --------------------------------------------------------------------------- */

static void on_sent(gn_transport_t *tr, void *arg, int status)
{
    kafka_conn_t *conn = arg;
    if (status < 0 || conn->closing || conn->tls_pumping) return;
    if (tr->ops->write_queue_size(tr) >= KAFKA_TLS_MAX_QUEUED_BYTES) return;
    kafka__conn_tls_pump(conn); /* the queue drained below the bound: go on */
    if (!conn->closing) kafka__conn_process(conn);
}

/* The memory segments from the write position on, across ready responses, up to a file
 * slice or a pending response, in one write. 0 or -errno. */
static int send_memory(kafka_conn_t *conn)
{
    uv_buf_t bufs[64];
    unsigned cnt = 0;
    size_t total = 0, seg = conn->wseg, off = conn->woff;
    for (kafka_req_t *req = conn->q_head; req && cnt < 64;) {
        if (req->state == KAFKA_REQ_SKIP ||
            (req->state == KAFKA_REQ_READY && seg == req->w.nsegs)) {
            req = req->next;
            seg = off = 0;
            continue;
        }
        if (req->state != KAFKA_REQ_READY) break;
        const kafka_wseg_t *ws = &req->w.segs[seg];
        if (ws->is_file) break;
        bufs[cnt++] = uv_buf_init((char *)req->w.buf + ws->off + off, (unsigned)(ws->len - off));
        total += ws->len - off;
        seg++;
        off = 0;
    }
    int rc = conn->tls->ops->write(conn->tls, bufs, cnt, on_sent, conn);
    if (rc < 0) return rc;
    kafka__conn_advance(conn, total); /* encrypted: the bytes are no longer needed */
    return 0;
}

/* Up to KAFKA_TLS_FILE_CHUNK bytes of a file slice, read and encrypted. 0 or -errno. */
static int send_file(kafka_conn_t *conn, const kafka_wseg_t *ws)
{
    size_t left = (size_t)ws->slice.len - conn->woff;
    size_t want = left < KAFKA_TLS_FILE_CHUNK ? left : KAFKA_TLS_FILE_CHUNK;
    ssize_t n;
    do
        n = pread(ws->slice.fd, conn->srv->tls_chunk, want,
                  (off_t)(ws->slice.pos + (int64_t)conn->woff));
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return GN_EIO; /* the segment is shorter than the slice said */
    uv_buf_t buf = uv_buf_init((char *)conn->srv->tls_chunk, (unsigned)n);
    int rc = conn->tls->ops->write(conn->tls, &buf, 1, on_sent, conn);
    if (rc < 0) return rc;
    conn->woff += (size_t)n;
    if (conn->woff == (size_t)ws->slice.len) {
        conn->wseg++;
        conn->woff = 0;
    }
    return 0;
}

/* Writes the ready responses at the head of the queue, in order, until one is pending
 * or KAFKA_TLS_MAX_QUEUED_BYTES of ciphertext wait (a write callback goes on). */
void kafka__conn_tls_pump(kafka_conn_t *conn)
{
    gn_transport_t *tr = conn->tls;
    if (conn->tls_pumping) return;
    conn->tls_pumping = true;
    while (!conn->closing && tr->ops->write_queue_size(tr) < KAFKA_TLS_MAX_QUEUED_BYTES) {
        kafka__conn_pop_done(conn);
        kafka_req_t *req = conn->q_head;
        if (!req || req->state != KAFKA_REQ_READY) break;
        const kafka_wseg_t *ws = &req->w.segs[conn->wseg];
        int rc = ws->is_file ? send_file(conn, ws) : send_memory(conn);
        if (rc < 0) {
            kafka__conn_close(conn, gn_strerror(rc));
            break;
        }
    }
    conn->tls_pumping = false;
}

int32_t kafka_req_broker_port(const kafka_req_t *req, const gn_cluster_broker_t *b)
{
    return req->conn && req->conn->tls && b->tls_port ? b->tls_port : b->port;
}

/* ---- reading and closing --------------------------------------------------------------- */

static void on_read(gn_transport_t *tr, const uint8_t *data, size_t len)
{
    kafka_conn_t *conn = tr->session;
    if (conn->closing) return;
    if (conn->rcap - conn->rlen < len) {
        size_t cap = conn->rcap ? conn->rcap : KAFKA_TLS_FILE_CHUNK;
        while (cap - conn->rlen < len)
            cap *= 2;
        uint8_t *nb = realloc(conn->rbuf, cap);
        if (!nb) {
            kafka__conn_close(conn, "out of memory");
            return;
        }
        conn->rbuf = nb;
        conn->rcap = cap;
    }
    memcpy(conn->rbuf + conn->rlen, data, len);
    conn->rlen += len;
    conn->last_read = uv_now(conn->srv->loop);
    kafka__conn_process(conn);
}

/* The transport is gone (closed by us, the client, or a TLS error): the requests are
 * let go as for a plain connection, then the connection is freed. */
static void on_close(gn_transport_t *tr)
{
    kafka_conn_t *conn = tr->session;
    if (!conn->closing) kafka__conn_close(conn, NULL);
    kafka__conn_free(conn);
}

static void on_closed(void *arg)
{
    kafka__server_handle_closed(arg);
}

/* conn->local from the transport's "ip:port" (IPv6 without brackets). */
static void local_endpoint(kafka_conn_t *conn)
{
    char name[sizeof conn->local.host + 8];
    if (conn->tls->ops->local_name(conn->tls, name, sizeof name) < 0) return;
    char *colon = strrchr(name, ':');
    if (!colon) return;
    size_t hlen = (size_t)(colon - name);
    if (hlen >= sizeof conn->local.host) return;
    memcpy(conn->local.host, name, hlen);
    conn->local.host[hlen] = '\0';
    conn->local.port = atoi(colon + 1);
}

static void on_connection(uv_stream_t *listener, int status)
{
    kafka_server_t *srv = listener->data;
    if (status < 0) {
        GN_WARN("kafka", "accept failed | listener=tls err=%s", uv_strerror(status));
        return;
    }
    if (srv->stopping) return;
    kafka_conn_t *conn = kafka__conn_new(srv);
    if (!conn) return;
    if (gn_tls_transport_accept(srv->tls, listener, "kafka", on_closed, srv, &conn->tls) < 0) {
        kafka__conn_free(conn);
        kafka__server_handle_closed(srv);
        return;
    }
    conn->tls->session = conn;
    conn->tls->on_read = on_read;
    conn->tls->on_close = on_close;
    conn->tls->ops->peer_name(conn->tls, conn->peer, sizeof conn->peer);
    local_endpoint(conn);
    GN_DEBUG("kafka", "connection accepted | client=%s listener=tls", conn->peer);
    if (gn_tls_transport_start(conn->tls) == 0) conn->reading = true;
}

/* ---- the listener ---------------------------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h)
{
    kafka__server_handle_closed(h->data);
}

int kafka__tls_listen(kafka_server_t *srv, const gn_listener_config_t *cfg)
{
    if (!cfg->tls || cfg->tls_port == 0) return 0;
    const char *host = cfg->host && cfg->host[0] ? cfg->host : "0.0.0.0";
    if (!(srv->tls_chunk = malloc(KAFKA_TLS_FILE_CHUNK))) return GN_ENOMEM;
    srv->tls = cfg->tls;
    /* as for the plain port: a configured advertised host takes the TLS port with it */
    srv->tls_adv_port = cfg->tls_advertised_port ? cfg->tls_advertised_port
                        : srv->adv_host[0]       ? cfg->tls_port
                                                 : 0;
    uv_tcp_init(srv->loop, &srv->tls_listener);
    srv->tls_listener.data = srv;
    srv->tls_listening = true; /* closed by kafka__tls_close from here on */
    srv->open_handles++;
    int rc = gn_tcp_listen(&srv->tls_listener, host, cfg->tls_port, on_connection);
    if (rc < 0) {
        GN_ERROR("kafka", "cannot listen | listener=tls host=%s port=%d err=%s", host,
                 cfg->tls_port, uv_strerror(rc));
        return rc;
    }
    GN_INFO("kafka", "listening | listener=tls host=%s port=%d", host, cfg->tls_port);
    return 0;
}

void kafka__tls_close(kafka_server_t *srv)
{
    if (!srv->tls_listening) return;
    srv->tls_listening = false;
    uv_close((uv_handle_t *)&srv->tls_listener, on_listener_closed);
}
