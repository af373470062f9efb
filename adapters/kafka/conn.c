/* SPDX-License-Identifier: Apache-2.0 */
/* One Kafka client connection: frames in (size prefix, socket.request.max.bytes),
 * requests dispatched through the API table, responses out strictly in request order
 * (a queue; an asynchronous answer holds the later ones), memory bytes with sendmsg
 * and Fetch record data with sendfile(2) from the log's segment files, zero copy.
 * Writes are non-blocking on the socket fd; when the socket is full a uv_poll_t on a
 * dup of the fd says when to continue. Loop thread only. */
#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"

#define KAFKA_READ_CHUNK (64u << 10)
#define KAFKA_IOV_MAX    64

static void conn_pump(kafka_conn_t *conn);

/* ---- requests -------------------------------------------------------------------------- */

kafka_req_t *kafka__req_new(gn_broker_t *broker, const kafka_api_t *api, int16_t version,
                            int32_t correlation_id, size_t arena_max)
{
    kafka_req_t *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    req->broker = broker;
    req->api = api;
    req->api_key = api->api_key;
    req->version = version;
    req->correlation_id = correlation_id;
    req->flex = version >= api->flexible_min;
    kafka_arena_init(&req->arena, arena_max);
    kafka_writer_init(&req->w, 0);
    return req;
}

void kafka__req_free(kafka_req_t *req)
{
    if (!req) return;
    kafka_writer_close(&req->w);
    kafka_arena_free(&req->arena);
    free(req);
}

int kafka__req_dispatch(kafka_req_t *req, kafka_reader_t *body)
{
    return req->api->handler(req, body);
}

void kafka_resp_begin(kafka_req_t *req)
{
    /* ApiVersions always answers with header v0: clients parse it before they know
     * which versions the broker speaks. */
    bool flex = req->flex && req->api_key != 18;
    kafka_resp_header_write(&req->w, flex, req->correlation_id);
}

void kafka_req_advertised(const kafka_req_t *req, kafka_endpoint_t *ep)
{
    const kafka_conn_t *conn = req->conn;
    if (!conn) {
        snprintf(ep->host, sizeof ep->host, "localhost");
        ep->port = 9092;
        return;
    }
    const kafka_server_t *srv = conn->srv;
    *ep = conn->local;
    if (srv->adv_host[0]) snprintf(ep->host, sizeof ep->host, "%s", srv->adv_host);
    int port = conn->tls ? srv->tls_adv_port : srv->adv_port; /* the listener it reached */
    if (port) ep->port = port;
}

const char *kafka_req_peer(const kafka_req_t *req)
{
    return req->conn ? req->conn->peer : "-";
}

/* ---- the per-turn flush ----------------------------------------------------------------- */

static void server_flush(kafka_server_t *srv)
{
    while (srv->flush_head) {
        kafka_conn_t *conn = srv->flush_head;
        srv->flush_head = conn->flush_next;
        conn->flush_next = NULL;
        conn->flush_queued = false;
        conn_pump(conn);
        if (!conn->closing) kafka__conn_process(conn); /* a freed slot may let frames run */
    }
    srv->flush_active = false;
    uv_prepare_stop(&srv->flush_prepare);
    uv_check_stop(&srv->flush_check);
}

static void on_flush_prepare(uv_prepare_t *h)
{
    server_flush(h->data);
}

static void on_flush_check(uv_check_t *h)
{
    server_flush(h->data);
}

/* Answers completed asynchronously are written at the end of the loop phase that
 * completed them: all of a turn's produce answers on a connection go in one sendmsg. */
static void conn_schedule(kafka_conn_t *conn)
{
    kafka_server_t *srv = conn->srv;
    if (conn->flush_queued) return;
    conn->flush_queued = true;
    conn->flush_next = srv->flush_head;
    srv->flush_head = conn;
    if (srv->flush_active || srv->stopping) return;
    srv->flush_active = true;
    uv_prepare_start(&srv->flush_prepare, on_flush_prepare);
    uv_check_start(&srv->flush_check, on_flush_check);
}

static void conn_unschedule(kafka_conn_t *conn)
{
    if (!conn->flush_queued) return;
    for (kafka_conn_t **pp = &conn->srv->flush_head; *pp; pp = &(*pp)->flush_next) {
        if (*pp != conn) continue;
        *pp = conn->flush_next;
        break;
    }
    conn->flush_next = NULL;
    conn->flush_queued = false;
}

static void finish_ready(kafka_conn_t *conn, kafka_req_t *req)
{
    int rc = kafka_writer_finish(&req->w);
    if (rc < 0) {
        req->state = KAFKA_REQ_SKIP; /* freed by the close below */
        GN_WARN("kafka", "response could not be built; closing | client=%s api=%s err=%s",
                conn->peer, req->api->name, gn_err_name(rc));
        kafka__conn_close(conn, NULL);
        return;
    }
    req->state = KAFKA_REQ_READY;
    conn->q_bytes += req->w.len;
}

void kafka_req_done(kafka_req_t *req, bool no_response)
{
    kafka_conn_t *conn = req->conn;
    if (!conn) {
        kafka__req_free(req);
        return;
    }
    if (no_response)
        req->state = KAFKA_REQ_SKIP;
    else
        finish_ready(conn, req);
    if (!conn->closing) conn_schedule(conn);
}

/* ---- closing --------------------------------------------------------------------------- */

void kafka__conn_free(kafka_conn_t *conn)
{
    kafka_server_t *srv = conn->srv;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    srv->nconns--;
    kafka_sasl_free(&conn->sasl);
    free(conn->rbuf);
    free(conn);
}

static void on_handle_closed(uv_handle_t *h)
{
    kafka_conn_t *conn = h->data;
    if (h == (uv_handle_t *)&conn->poll) close(conn->poll_fd);
    if (--conn->open_handles > 0) return;
    kafka_server_t *srv = conn->srv;
    kafka__conn_free(conn);
    kafka__server_handle_closed(srv);
}

void kafka__conn_close(kafka_conn_t *conn, const char *why)
{
    if (conn->closing) return;
    conn->closing = true;
    conn_unschedule(conn);
    if (why) GN_INFO("kafka", "closing connection | client=%s reason=\"%s\"", conn->peer, why);
    kafka_req_t *req = conn->q_head;
    conn->q_head = conn->q_tail = NULL;
    while (req) {
        kafka_req_t *next = req->next;
        req->conn = NULL;
        req->next = NULL;
        if (req->state != KAFKA_REQ_PENDING)
            kafka__req_free(req);
        else if (req->cancel)
            req->cancel(req); /* frees through kafka_req_done */
        /* else: the pending completion frees it (kafka_req_done without conn) */
        req = next;
    }
    if (conn->tls) { /* its on_close frees the connection (conn_tls.c) */
        conn->tls->ops->close(conn->tls);
        return;
    }
    if (conn->reading) uv_read_stop((uv_stream_t *)&conn->tcp);
    conn->open_handles = 1;
    if (conn->poll_fd >= 0) {
        conn->open_handles++;
        uv_close((uv_handle_t *)&conn->poll, on_handle_closed);
    }
    uv_close((uv_handle_t *)&conn->tcp, on_handle_closed);
}

/* ---- writing --------------------------------------------------------------------------- */

static void on_writable(uv_poll_t *poll, int status, int events)
{
    kafka_conn_t *conn = poll->data;
    uv_poll_stop(poll);
    conn->poll_active = false;
    if (status < 0) {
        kafka__conn_close(conn, uv_strerror(status));
        return;
    }
    conn_pump(conn);
    if (!conn->closing) kafka__conn_process(conn);
}

static int wait_writable(kafka_conn_t *conn)
{
    if (conn->poll_active) return 0;
    if (conn->poll_fd < 0) {
        int fd = dup(conn->fd);
        if (fd < 0) return -errno;
        int rc = uv_poll_init(conn->srv->loop, &conn->poll, fd);
        if (rc < 0) {
            close(fd);
            return rc;
        }
        conn->poll.data = conn;
        conn->poll_fd = fd;
    }
    int rc = uv_poll_start(&conn->poll, UV_WRITABLE, on_writable);
    if (rc == 0) conn->poll_active = true;
    return rc;
}

/* Frees the head responses that are written or have nothing to send. */
void kafka__conn_pop_done(kafka_conn_t *conn)
{
    kafka_req_t *req;
    while ((req = conn->q_head) &&
           (req->state == KAFKA_REQ_SKIP ||
            (req->state == KAFKA_REQ_READY && conn->wseg == req->w.nsegs))) {
        if (req->state == KAFKA_REQ_READY) conn->q_bytes -= req->w.len;
        conn->q_head = req->next;
        if (!conn->q_head) conn->q_tail = NULL;
        conn->q_count--;
        conn->wseg = conn->woff = 0;
        kafka__req_free(req);
    }
}

/* One sendmsg of the memory segments from the write position on, across every ready
 * response queued after it, up to the next file slice (then with MSG_MORE: the slice's
 * sendfile follows at once and goes out with them) or a response still pending. */
static ssize_t send_memory(kafka_conn_t *conn)
{
    struct iovec iov[KAFKA_IOV_MAX];
    int cnt = 0, flags = MSG_NOSIGNAL;
    size_t seg = conn->wseg, off = conn->woff;
    for (kafka_req_t *req = conn->q_head; req && cnt < KAFKA_IOV_MAX;) {
        if (req->state == KAFKA_REQ_SKIP ||
            (req->state == KAFKA_REQ_READY && seg == req->w.nsegs)) {
            req = req->next;
            seg = off = 0;
            continue;
        }
        if (req->state != KAFKA_REQ_READY) break;
        const kafka_wseg_t *ws = &req->w.segs[seg];
        if (ws->is_file) {
            flags |= MSG_MORE;
            break;
        }
        iov[cnt].iov_base = req->w.buf + ws->off + off;
        iov[cnt].iov_len = ws->len - off;
        cnt++;
        seg++;
        off = 0;
    }
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
    ssize_t n;
    do
        n = sendmsg(conn->fd, &msg, flags);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Moves the write position n bytes on over memory segments (what send_memory sent);
 * empty memory segments are stepped over too. */
void kafka__conn_advance(kafka_conn_t *conn, size_t n)
{
    for (;;) {
        kafka__conn_pop_done(conn);
        kafka_req_t *req = conn->q_head;
        if (!req && conn->sasl.state == KAFKA_SASL_FAILED) { /* its answer is out: as Kafka */
            kafka__conn_close(conn, "SASL authentication failed");
            return;
        }
        if (!req || req->state != KAFKA_REQ_READY) return;
        const kafka_wseg_t *ws = &req->w.segs[conn->wseg];
        if (ws->is_file) return;
        size_t avail = ws->len - conn->woff;
        if (n < avail) {
            conn->woff += n;
            return;
        }
        n -= avail;
        conn->wseg++;
        conn->woff = 0;
    }
}

static ssize_t send_file(kafka_conn_t *conn, const kafka_wseg_t *ws)
{
    off_t pos = (off_t)(ws->slice.pos + (int64_t)conn->woff);
    size_t left = (size_t)ws->slice.len - conn->woff;
    if (left > (1u << 30)) left = 1u << 30;
    ssize_t n;
    do
        n = sendfile(conn->fd, ws->slice.fd, &pos, left);
    while (n < 0 && errno == EINTR);
    if (n == 0) errno = EIO; /* the segment is shorter than the slice said */
    if (n <= 0) return -1;
    conn->woff += (size_t)n;
    if (conn->woff == (size_t)ws->slice.len) {
        conn->wseg++;
        conn->woff = 0;
    }
    return n;
}

/* Writes the ready responses at the head of the queue, in order, until one is pending
 * or the socket is full (then a poll on the dup'd fd says when to go on). */
static void conn_pump(kafka_conn_t *conn)
{
    if (conn->tls) {
        kafka__conn_tls_pump(conn);
        return;
    }
    while (!conn->closing) {
        kafka__conn_pop_done(conn);
        kafka_req_t *req = conn->q_head;
        if (!req || req->state != KAFKA_REQ_READY) return;
        const kafka_wseg_t *ws = &req->w.segs[conn->wseg];
        ssize_t n = ws->is_file ? send_file(conn, ws) : send_memory(conn);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_writable(conn) < 0) kafka__conn_close(conn, "cannot poll the socket");
            return;
        }
        if (n < 0) {
            kafka__conn_close(conn, strerror(errno));
            return;
        }
        if (!ws->is_file) kafka__conn_advance(conn, (size_t)n);
    }
}

/* ---- reading --------------------------------------------------------------------------- */

static bool conn_congested(const kafka_conn_t *conn)
{
    return conn->q_count >= KAFKA_CONN_MAX_INFLIGHT || conn->q_bytes >= KAFKA_CONN_MAX_QUEUED_BYTES;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    kafka_conn_t *conn = h->data;
    size_t want = KAFKA_READ_CHUNK;
    /* A partial frame whose size is known: make room for all of it at once. */
    if (conn->rlen >= 4) {
        int64_t size = kafka_frame_peek(conn->rbuf, conn->rlen, conn->srv->max_request_bytes);
        if (size == GN_EAGAIN) {
            const uint8_t *p = conn->rbuf;
            size_t total =
                4 + (((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3]);
            if (total > conn->rlen && total - conn->rlen > want) want = total - conn->rlen;
        }
    }
    if (conn->rcap - conn->rlen < want) {
        size_t cap = conn->rlen + want;
        uint8_t *nb = realloc(conn->rbuf, cap);
        if (!nb) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        conn->rbuf = nb;
        conn->rcap = cap;
    }
    *buf = uv_buf_init((char *)conn->rbuf + conn->rlen, (unsigned)(conn->rcap - conn->rlen));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    kafka_conn_t *conn = stream->data;
    if (nread < 0) {
        kafka__conn_close(conn, nread == UV_EOF ? NULL : uv_strerror((int)nread));
        return;
    }
    conn->rlen += (size_t)nread;
    conn->last_read = uv_now(conn->srv->loop);
    kafka__conn_process(conn);
}

static void queue_req(kafka_conn_t *conn, kafka_req_t *req)
{
    req->conn = conn;
    if (conn->q_tail)
        conn->q_tail->next = req;
    else
        conn->q_head = req;
    conn->q_tail = req;
    conn->q_count++;
}

/* A raw SASL token after a v0 SaslHandshake: answered with a raw frame, in order. */
static int conn_sasl_raw(kafka_conn_t *conn, const uint8_t *frame, size_t len)
{
    kafka_req_t *req = kafka__req_new(conn->srv->broker, kafka_api_find(36), 0, 0, 0);
    if (!req) return GN_ENOMEM;
    queue_req(conn, req);
    int rc = kafka_sasl_raw_frame(req, frame, len);
    if (rc < 0) {
        req->state = KAFKA_REQ_SKIP;
        return rc;
    }
    finish_ready(conn, req);
    return 0;
}

/* Handles one frame (without its size prefix). < 0: close the connection. */
static int conn_frame(kafka_conn_t *conn, uint8_t *frame, size_t len)
{
    if (conn->sasl.state == KAFKA_SASL_STARTED && conn->sasl.raw)
        return conn_sasl_raw(conn, frame, len);
    int16_t api_key, version;
    kafka_req_header_peek(frame, len, &api_key, &version);
    const kafka_api_t *api = kafka_api_find(api_key);
    if (!api) {
        GN_WARN("kafka", "unknown API key; closing | client=%s api_key=%d version=%d", conn->peer,
                api_key, version);
        return GN_EINVALID_REQUEST;
    }
    if (!kafka_sasl_allows(&conn->sasl, conn->srv->allow_anonymous, api_key)) {
        GN_WARN("kafka", "request before SASL authentication; closing | client=%s api=%s",
                conn->peer, api->name);
        return GN_EAUTH;
    }
    bool supported = version >= api->min_version && version <= api->max_version;
    if (!supported && api_key != 18) {
        GN_WARN("kafka",
                "unsupported API version; closing | client=%s api=%s version=%d "
                "supported=%d-%d",
                conn->peer, api->name, version, api->min_version, api->max_version);
        return GN_EINVALID_REQUEST;
    }
    kafka_reader_t r;
    kafka_reader_init(&r, frame, len);
    kafka_req_header_t hdr;
    if (kafka_req_header_read(&r, version >= api->flexible_min, &hdr) < 0) {
        GN_WARN("kafka", "malformed request header; closing | client=%s api=%s version=%d",
                conn->peer, api->name, version);
        return GN_EINVALID_REQUEST;
    }
    kafka_req_t *req = kafka__req_new(conn->srv->broker, api, version, hdr.correlation_id, 0);
    if (!req) return GN_ENOMEM;
    req->client_id = hdr.client_id.ptr ? kafka_arena_strdup(&req->arena, hdr.client_id) : NULL;
    if (!req->client_id) req->client_id = "";
    queue_req(conn, req);
    if (!supported) {
        kafka__api_versions_unsupported(req);
        finish_ready(conn, req);
        return 0;
    }
    int rc = kafka__req_dispatch(req, &r);
    if (rc < 0) {
        /* handlers fail only with nothing in flight (kafka_admin_abort otherwise) */
        req->state = KAFKA_REQ_SKIP;
        GN_WARN("kafka", "malformed request; closing | client=%s api=%s version=%d err=%s",
                conn->peer, api->name, version, gn_err_name(rc));
        return rc;
    }
    if (rc == KAFKA_DONE)
        finish_ready(conn, req);
    else if (rc == KAFKA_NO_RESPONSE)
        req->state = KAFKA_REQ_SKIP;
    /* KAFKA_ASYNC: stays PENDING until kafka_req_done */
    return 0;
}

/* Reading on or off (back-pressure), on either kind of connection. */
static void conn_set_reading(kafka_conn_t *conn, bool on)
{
    if (conn->tls) {
        if (on)
            conn->tls->ops->resume_reading(conn->tls);
        else
            conn->tls->ops->pause_reading(conn->tls);
        conn->reading = on;
    } else if (!on) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = false;
    } else if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0) {
        conn->reading = true;
    }
}

void kafka__conn_process(kafka_conn_t *conn)
{
    size_t pos = 0;
    while (!conn->closing && !conn_congested(conn) && conn->rlen - pos >= 4) {
        int64_t n =
            kafka_frame_peek(conn->rbuf + pos, conn->rlen - pos, conn->srv->max_request_bytes);
        if (n == GN_EAGAIN) break;
        if (n == GN_ETOOLARGE) {
            GN_WARN("kafka",
                    "request larger than socket.request.max.bytes; closing | "
                    "client=%s max=%zu",
                    conn->peer, conn->srv->max_request_bytes);
            kafka__conn_close(conn, NULL);
            return;
        }
        if (n < 0) {
            GN_WARN("kafka", "invalid request size; closing | client=%s", conn->peer);
            kafka__conn_close(conn, NULL);
            return;
        }
        if (conn_frame(conn, conn->rbuf + pos + 4, (size_t)n - 4) < 0) {
            kafka__conn_close(conn, NULL);
            return;
        }
        pos += (size_t)n;
        conn_pump(conn);
    }
    if (conn->closing) return;
    if (pos > 0) {
        memmove(conn->rbuf, conn->rbuf + pos, conn->rlen - pos);
        conn->rlen -= pos;
    }
    /* Give back a buffer that grew for one large request. */
    if (conn->rlen == 0 && conn->rcap > 4 * KAFKA_READ_CHUNK) {
        free(conn->rbuf);
        conn->rbuf = NULL;
        conn->rcap = 0;
    }
    bool congested = conn_congested(conn);
    if (congested == conn->reading) conn_set_reading(conn, !congested);
}

/* ---- accepting ------------------------------------------------------------------------- */

static void addr_str(const struct sockaddr_storage *ss, char *host, size_t cap, int *port)
{
    host[0] = 0;
    *port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        uv_ip4_name(sin, host, cap);
        *port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(sin6, host, cap);
        *port = ntohs(sin6->sin6_port);
    }
}

kafka_conn_t *kafka__conn_new(kafka_server_t *srv)
{
    kafka_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn) return NULL;
    conn->srv = srv;
    conn->poll_fd = -1;
    conn->next = srv->conns;
    if (srv->conns) srv->conns->prev = conn;
    srv->conns = conn;
    srv->nconns++;
    srv->open_handles++; /* released by kafka__server_handle_closed once it is closed */
    conn->last_read = uv_now(srv->loop);
    return conn;
}

void kafka__conn_accept(kafka_server_t *srv)
{
    kafka_conn_t *conn = kafka__conn_new(srv);
    if (!conn) return;
    uv_tcp_init(srv->loop, &conn->tcp);
    conn->tcp.data = conn;
    conn->poll.data = conn;
    if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&conn->tcp) < 0 ||
        uv_fileno((uv_handle_t *)&conn->tcp, &conn->fd) < 0) {
        kafka__conn_close(conn, NULL);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    char host[48];
    int port;
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        addr_str(&ss, host, sizeof host, &port);
        snprintf(conn->peer, sizeof conn->peer, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
                 host, port);
    }
    sl = sizeof ss;
    if (uv_tcp_getsockname(&conn->tcp, (struct sockaddr *)&ss, &sl) == 0)
        addr_str(&ss, conn->local.host, sizeof conn->local.host, &conn->local.port);
    GN_DEBUG("kafka", "connection accepted | client=%s", conn->peer);
    if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0) conn->reading = true;
}
