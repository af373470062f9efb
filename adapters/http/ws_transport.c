/* SPDX-License-Identifier: Apache-2.0 */
/* A gn_transport_t over one lws WebSocket: the gateway's WebSocket routes (path and
 * subprotocol -> stream protocol, e.g. /ws -> the JSON protocol of adapters/ws, /mqtt
 * -> MQTT) are matched at the upgrade; each whole message is one on_read (fragments
 * reassembled up to the route's bound, beyond it the socket closes with 1009), each
 * write one message, queued (the queue size is the session's back-pressure signal).
 * A queue that goes non-empty on plain TCP is written once per loop turn, after the I/O
 * phase, with one writev and no POLLOUT round trip (flush_dirty); what the socket does
 * not take waits for lws's writable callback. Loop thread only. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>

#include "ganglion/acl.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "http.h"

typedef struct ws_msg {
    struct ws_msg *next;
    size_t len;
    const uint8_t *frames; /* write_shared: the caller's whole frames, not copied; else NULL */
    gn_transport_write_cb cb;
    void *arg;
    uint8_t data[]; /* write: LWS_PRE headroom, then the message */
} ws_msg_t;

struct http_ws {
    gn_transport_t tr;
    http_server_t *srv;
    struct lws *wsi; /* NULL once lws closed it */
    const gn_ws_route_t *route;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    ws_msg_t *head, *tail;
    size_t queued;
    struct http_ws *dirty_next, **dirty_prev; /* in srv->ws_dirty while dirty_prev */
    char principal[HTTP_PRINCIPAL_MAX];       /* the upgrade's client (auth.c) */
    bool attached;
    bool close_requested;
    bool paused;
    bool write_failed; /* a direct write failed: the writable callback closes */
};

/* Can the queue go out with a direct writev (plain TCP, nothing held by lws, not h2)? */
static bool direct_ok(http_ws_t *ws)
{
    return ws->wsi && !lws_partial_buffered(ws->wsi) && !lws_is_ssl(ws->wsi) &&
           lws_get_network_wsi(ws->wsi) == ws->wsi;
}

static void dirty_unlink(http_ws_t *ws)
{
    if (!ws->dirty_prev) return;
    *ws->dirty_prev = ws->dirty_next;
    if (ws->dirty_next) ws->dirty_next->dirty_prev = ws->dirty_prev;
    ws->dirty_next = NULL;
    ws->dirty_prev = NULL;
}

static void spin(uv_idle_t *h)
{
    (void)h; /* only keeps the loop from blocking in poll while queues wait for the check */
}

static void dirty_link(http_ws_t *ws)
{
    http_server_t *srv = ws->srv;
    if (ws->dirty_prev) return;
    ws->dirty_next = srv->ws_dirty;
    if (ws->dirty_next) ws->dirty_next->dirty_prev = &ws->dirty_next;
    ws->dirty_prev = &srv->ws_dirty;
    srv->ws_dirty = ws;
    if (!uv_is_active((uv_handle_t *)&srv->ws_flush_spin)) uv_idle_start(&srv->ws_flush_spin, spin);
}

static void queue_msg(http_ws_t *ws, ws_msg_t *m)
{
    bool was_empty = !ws->head;
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    ws->queued += m->len;
    if (was_empty && ws->srv->ws_flush.loop && direct_ok(ws))
        dirty_link(ws);
    else
        lws_callback_on_writable(ws->wsi);
}

static int tr_write(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs,
                    gn_transport_write_cb cb, void *arg)
{
    http_ws_t *ws = tr->impl;
    if (!ws->wsi || ws->close_requested) return -EPIPE;
    size_t len = 0;
    for (unsigned i = 0; i < nbufs; i++)
        len += bufs[i].len;
    ws_msg_t *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) return GN_ENOMEM;
    m->next = NULL;
    m->len = len;
    m->frames = NULL;
    m->cb = cb;
    m->arg = arg;
    size_t off = LWS_PRE;
    for (unsigned i = 0; i < nbufs; i++) {
        memcpy(m->data + off, bufs[i].base, bufs[i].len);
        off += bufs[i].len;
    }
    queue_msg(ws, m);
    return 0;
}

/* Frames the caller built and keeps until cb (one buffer shared by every subscriber of a
 * fan-out): queued by reference, one small entry per buffer. Several bufs are one entry
 * only if contiguous; otherwise each is an entry and cb runs with the last. */
static int tr_write_shared(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs,
                           gn_transport_write_cb cb, void *arg)
{
    http_ws_t *ws = tr->impl;
    if (!ws->wsi || ws->close_requested) return -EPIPE;
    if (nbufs == 0) return GN_EINVAL;
    ws_msg_t *ms[8];
    if (nbufs > sizeof ms / sizeof ms[0]) return GN_EINVAL;
    for (unsigned i = 0; i < nbufs; i++) {
        ms[i] = malloc(sizeof *ms[i]);
        if (!ms[i]) {
            while (i--)
                free(ms[i]);
            return GN_ENOMEM;
        }
        bool last = i + 1 == nbufs;
        *ms[i] = (ws_msg_t){.len = bufs[i].len,
                            .frames = (const uint8_t *)bufs[i].base,
                            .cb = last ? cb : NULL,
                            .arg = last ? arg : NULL};
    }
    for (unsigned i = 0; i < nbufs; i++)
        queue_msg(ws, ms[i]);
    return 0;
}

static size_t tr_write_queue_size(gn_transport_t *tr)
{
    return ((http_ws_t *)tr->impl)->queued;
}

static void tr_pause(gn_transport_t *tr)
{
    http_ws_t *ws = tr->impl;
    if (ws->wsi && !ws->paused) lws_rx_flow_control(ws->wsi, 0);
    ws->paused = true;
}

static void tr_resume(gn_transport_t *tr)
{
    http_ws_t *ws = tr->impl;
    if (ws->wsi && ws->paused) lws_rx_flow_control(ws->wsi, 1);
    ws->paused = false;
}

static void tr_close(gn_transport_t *tr)
{
    http_ws_t *ws = tr->impl;
    ws->close_requested = true;
    if (ws->wsi) lws_callback_on_writable(ws->wsi); /* flush, then close */
}

static int sock_name(http_ws_t *ws, bool peer, char *buf, size_t cap)
{
    if (!ws->wsi) return -ENOTCONN;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = (int)lws_get_socket_fd(ws->wsi);
    if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
              : getsockname(fd, (struct sockaddr *)&ss, &sl)) != 0)
        return -errno;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    }
    snprintf(buf, cap, "%s:%d", ip, port);
    return 0;
}

static int tr_peer_name(gn_transport_t *tr, char *buf, size_t cap)
{
    return sock_name(tr->impl, true, buf, cap);
}

static int tr_local_name(gn_transport_t *tr, char *buf, size_t cap)
{
    return sock_name(tr->impl, false, buf, cap);
}

static int tr_principal(gn_transport_t *tr, char *buf, size_t cap)
{
    http_ws_t *ws = tr->impl;
    snprintf(buf, cap, "%s", ws->principal);
    return 0;
}

static const gn_transport_ops_t ws_ops = {
    .write = tr_write,
    .write_queue_size = tr_write_queue_size,
    .pause_reading = tr_pause,
    .resume_reading = tr_resume,
    .close = tr_close,
    .peer_name = tr_peer_name,
    .local_name = tr_local_name,
    .write_shared = tr_write_shared,
    .principal = tr_principal,
};

/* Is name one of the comma-separated names in list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        while (*p == ' ')
            p++, len--;
        if (len == n && strncmp(p, name, n) == 0) return true;
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return false;
}

int http__ws_route_for(http_server_t *srv, const char *path, const char *subprotocol)
{
    for (size_t i = 0; i < srv->nws_routes; i++) {
        const gn_ws_route_t *r = &srv->ws_routes[i];
        if (strcmp(r->path, path) != 0) continue;
        bool named = subprotocol && strcmp(subprotocol, "http") != 0;
        if (!r->subprotocols || !r->subprotocols[0]) return (int)i; /* any or none */
        if (named && in_list(r->subprotocols, subprotocol)) return (int)i;
    }
    return -1;
}

/* True when every route at path authenticates its clients itself (MQTT). */
static bool route_authenticates(http_server_t *srv, const char *path)
{
    bool any = false;
    for (size_t i = 0; i < srv->nws_routes; i++) {
        if (strcmp(srv->ws_routes[i].path, path) != 0) continue;
        if (!srv->ws_routes[i].authenticates) return false;
        any = true;
    }
    return any;
}

/* The upgrade's 401, written at once: lws closes the connection when we return. */
/* 401 with the Basic challenge, or 429 when the client's host is throttled. */
static int refuse_upgrade(struct lws *wsi, int rc, const char *why)
{
    bool throttled = rc == GN_ETHROTTLED;
    char body[256];
    int blen =
        snprintf(body, sizeof body, "{\"error_code\":%d,\"message\":\"%s: %s\"}",
                 throttled ? 42901 : 40101, throttled ? "Too Many Requests" : "Unauthorized", why);
    const char *hname = throttled ? "retry-after:" : "www-authenticate:";
    const char *hval = throttled ? "1" : http__auth_challenge;
    uint8_t buf[LWS_PRE + 1024];
    uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, throttled ? 429 : 401, "application/json",
                                    (lws_filepos_t)blen, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)hname, (const unsigned char *)hval,
                                    (int)strlen(hval), &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
                                    (const unsigned char *)"close", 5, &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    memcpy(start, body, (size_t)blen);
    if (lws_write(wsi, start, (size_t)blen, LWS_WRITE_HTTP_FINAL) < 0) return -1;
    return 1;
}

int http__ws_confirm_upgrade(http_server_t *srv, struct lws *wsi, const char *upgrade)
{
    (void)upgrade; /* "websocket" */
    char path[HTTP_MAX_PATH] = "";
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0) return -1;
    path[strcspn(path, "?")] = '\0';
    if (route_authenticates(srv, path)) return 0;
    char principal[HTTP_PRINCIPAL_MAX];
    const char *why = "";
    int rc = http__auth_principal(srv, wsi, principal, sizeof principal, &why);
    if (rc == 0) return 0;
    http__auth_log_refusal(wsi, path, rc, why);
    return refuse_upgrade(wsi, rc, why);
}

static void ws_free(http_ws_t *ws)
{
    ws_msg_t *m = ws->head;
    while (m) {
        ws_msg_t *next = m->next;
        if (m->cb) m->cb(&ws->tr, m->arg, UV_ECANCELED);
        free(m);
        m = next;
    }
    free(ws->rx);
    free(ws);
}

/* Messages done (written or failed): the queue shrinks first, then their callbacks run,
 * so a callback that refills the queue sees the room it was given. */
static void msgs_done(http_ws_t *ws, ws_msg_t *done, int status)
{
    while (done) {
        ws_msg_t *next = done->next;
        if (done->cb) done->cb(&ws->tr, done->arg, status);
        free(done);
        done = next;
    }
}

/* Bytes message m occupies on the wire: its frame header (unless the caller framed it)
 * and its payload. */
static size_t wire_len(const ws_msg_t *m, bool binary, uint8_t *hdr, size_t *hlen)
{
    *hlen = m->frames ? 0 : gn_ws_frame_header(hdr, binary, m->len);
    return *hlen + m->len;
}

/* Pops the head message into the done list. */
static void pop_head(http_ws_t *ws, ws_msg_t ***dtail)
{
    ws_msg_t *m = ws->head;
    ws->head = m->next;
    ws->queued -= m->len;
    ws->srv->metrics.ws_messages_out++;
    m->next = NULL;
    **dtail = m;
    *dtail = &m->next;
}

/* Hands bytes to lws, which sends what the socket takes and keeps the rest in its own
 * output buffer (a copy); lws needs LWS_PRE headroom before them, so they are copied to
 * the scratch (or a temporary buffer when larger). <0 on failure. */
static int lws_send_copy(http_ws_t *ws, struct lws *wsi, const uint8_t *hdr, size_t hlen,
                         const uint8_t *p, size_t len)
{
    uint8_t *tmp = NULL, *out;
    if (ws->srv->ws_scratch && hlen + len <= HTTP_WS_COALESCE_BYTES) {
        out = ws->srv->ws_scratch + LWS_PRE;
    } else {
        tmp = malloc(LWS_PRE + hlen + len);
        if (!tmp) return -1;
        out = tmp + LWS_PRE;
    }
    if (hlen) memcpy(out, hdr, hlen);
    memcpy(out + hlen, p, len);
    int n = lws_write(wsi, out, hlen + len, LWS_WRITE_RAW);
    free(tmp);
    return n < (int)(hlen + len) ? -1 : 0;
}

/* Plain TCP with nothing buffered in lws: the queue goes out with one writev on the
 * socket, frames by reference (no copy of a shared buffer, no copy of a message). A
 * partly written message's rest is handed to lws (lws_send_copy) so that the stream is
 * at a frame boundary whenever lws itself writes (a pong, the close frame). */
static int write_vectored(http_ws_t *ws, struct lws *wsi, ws_msg_t ***dtail)
{
    enum { IOV_MAX_MSGS = 64 };
    struct iovec iov[2 * IOV_MAX_MSGS];
    uint8_t hdrs[IOV_MAX_MSGS][GN_WS_FRAME_HEADER_MAX];
    bool binary = ws->route->binary;
    int niov = 0, k = 0;
    size_t total = 0;
    for (ws_msg_t *m = ws->head; m && k < IOV_MAX_MSGS && total < HTTP_WS_WRITEV_BYTES;
         m = m->next, k++) {
        size_t hlen;
        total += wire_len(m, binary, hdrs[k], &hlen);
        if (hlen) iov[niov++] = (struct iovec){hdrs[k], hlen};
        iov[niov++] = (struct iovec){m->frames ? (void *)m->frames : m->data + LWS_PRE, m->len};
    }
    ssize_t n = writev((int)lws_get_socket_fd(wsi), iov, niov);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
        return -1;
    }
    size_t left = (size_t)n;
    while (left && ws->head) {
        ws_msg_t *m = ws->head;
        uint8_t hdr[GN_WS_FRAME_HEADER_MAX];
        size_t hlen, wl = wire_len(m, binary, hdr, &hlen);
        if (left < wl) { /* partly written: lws sends (or keeps) the rest of this frame */
            const uint8_t *pay = m->frames ? m->frames : m->data + LWS_PRE;
            size_t hdone = left < hlen ? left : hlen, pdone = left - hdone;
            int rc = lws_send_copy(ws, wsi, hdr + hdone, hlen - hdone, pay + pdone, m->len - pdone);
            pop_head(ws, dtail);
            return rc;
        }
        left -= wl;
        pop_head(ws, dtail);
    }
    return 0;
}

/* Writes the queue: several small messages become one send (frames built here, written
 * raw), since one write per message costs a syscall and an epoll round trip each. On
 * plain TCP the send is one writev of the queued buffers by reference; under TLS (or
 * while lws holds unsent bytes) the frames are copied into one raw lws_write. */
static int on_writeable(http_ws_t *ws, struct lws *wsi)
{
    if (ws->write_failed) return -1;
    ws_msg_t *m = ws->head;
    if (!m) {
        if (ws->close_requested && !lws_partial_buffered(wsi)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (ws->close_requested) lws_callback_on_writable(wsi);
        return 0;
    }
    bool binary = ws->route->binary;
    int n;
    ws_msg_t *done = NULL, **dtail = &done;
    if (!lws_partial_buffered(wsi) && !lws_is_ssl(wsi) && lws_get_network_wsi(wsi) == wsi) {
        n = write_vectored(ws, wsi, &dtail);
    } else if (!m->next || m->len + 10 > HTTP_WS_COALESCE_BYTES || !ws->srv->ws_scratch) {
        if (m->frames) {
            n = lws_send_copy(ws, wsi, NULL, 0, m->frames, m->len);
        } else {
            n = lws_write(wsi, m->data + LWS_PRE, m->len,
                          binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
            n = n < (int)m->len ? -1 : 0;
        }
        pop_head(ws, &dtail);
    } else {
        uint8_t *out = ws->srv->ws_scratch + LWS_PRE, *p = out;
        while ((m = ws->head) && (size_t)(p - out) + m->len + 10 <= HTTP_WS_COALESCE_BYTES) {
            if (m->frames) {
                memcpy(p, m->frames, m->len);
            } else {
                p += gn_ws_frame_header(p, binary, m->len);
                memcpy(p, m->data + LWS_PRE, m->len);
            }
            p += m->len;
            pop_head(ws, &dtail);
        }
        size_t len = (size_t)(p - out);
        n = lws_write(wsi, out, len, LWS_WRITE_RAW);
        n = n < (int)len ? -1 : 0;
    }
    if (!ws->head) ws->tail = NULL;
    msgs_done(ws, done, n < 0 ? UV_EPIPE : 0);
    if (n < 0) return -1;
    if (ws->wsi && (ws->head || ws->close_requested)) lws_callback_on_writable(wsi);
    return 0;
}

/* One direct write of ws's queue (see the top of the file); the rest, or a failure,
 * goes to lws's writable callback. */
static void flush_one(http_ws_t *ws)
{
    if (!ws->head || ws->write_failed || !direct_ok(ws)) {
        if (ws->wsi && (ws->head || ws->write_failed)) lws_callback_on_writable(ws->wsi);
        return;
    }
    ws_msg_t *done = NULL, **dtail = &done;
    int n = write_vectored(ws, ws->wsi, &dtail);
    if (!ws->head) ws->tail = NULL;
    if (n < 0) ws->write_failed = true;
    msgs_done(ws, done, n < 0 ? UV_EPIPE : 0);
    if (ws->wsi && (ws->head || ws->write_failed || ws->close_requested))
        lws_callback_on_writable(ws->wsi);
}

/* The check phase: every queue that went non-empty since the last one is written. A
 * queue refilled by a completion callback meanwhile is dirty again for the next turn. */
static void flush_dirty(uv_check_t *h)
{
    http_server_t *srv = h->data;
    http_ws_t *batch = srv->ws_dirty;
    srv->ws_dirty = NULL;
    if (batch) batch->dirty_prev = &batch; /* the batch is a list of its own now */
    while (batch) {
        http_ws_t *ws = batch;
        dirty_unlink(ws);
        flush_one(ws);
    }
    if (!srv->ws_dirty) uv_idle_stop(&srv->ws_flush_spin);
}

void http__ws_flush_start(http_server_t *srv)
{
    uv_check_init(srv->loop, &srv->ws_flush);
    uv_idle_init(srv->loop, &srv->ws_flush_spin);
    srv->ws_flush.data = srv;
    srv->ws_flush_spin.data = srv;
    uv_check_start(&srv->ws_flush, flush_dirty);
    uv_unref((uv_handle_t *)&srv->ws_flush);
    srv->open_handles += 2;
}

static void on_flush_handle_closed(uv_handle_t *h)
{
    http__server_handle_closed(h->data);
}

void http__ws_flush_stop(http_server_t *srv)
{
    if (!srv->ws_flush.loop || uv_is_closing((uv_handle_t *)&srv->ws_flush)) return;
    while (srv->ws_dirty) /* their sockets close with the lws context */
        dirty_unlink(srv->ws_dirty);
    uv_close((uv_handle_t *)&srv->ws_flush, on_flush_handle_closed);
    uv_close((uv_handle_t *)&srv->ws_flush_spin, on_flush_handle_closed);
}

static int on_receive(http_ws_t *ws, struct lws *wsi, const void *in, size_t len)
{
    size_t max = ws->route->max_message_bytes;
    if (ws->rx_len + len > max) {
        static const char reason[] = "message too big";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)reason,
                         sizeof reason - 1);
        return -1;
    }
    bool whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
                 !lws_remaining_packet_payload(wsi) && ws->rx_len == 0;
    if (whole) { /* the common case: no copy */
        ws->srv->metrics.ws_messages_in++;
        if (ws->tr.on_read) ws->tr.on_read(&ws->tr, in, len);
        return 0;
    }
    if (ws->rx_len + len > ws->rx_cap) {
        size_t cap = ws->rx_cap ? ws->rx_cap * 2 : 4096;
        while (cap < ws->rx_len + len)
            cap *= 2;
        if (cap > max) cap = max;
        uint8_t *n = realloc(ws->rx, cap);
        if (!n) return -1;
        ws->rx = n;
        ws->rx_cap = cap;
    }
    memcpy(ws->rx + ws->rx_len, in, len);
    ws->rx_len += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        size_t n = ws->rx_len;
        ws->rx_len = 0;
        ws->srv->metrics.ws_messages_in++;
        if (ws->tr.on_read) ws->tr.on_read(&ws->tr, ws->rx, n);
    }
    return 0;
}

int http__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void **pws, void *in,
                      size_t len)
{
    http_server_t *srv = lws_get_vhost_user(lws_get_vhost(wsi));
    http_ws_t *ws = pws ? *pws : NULL;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        if (!srv || srv->stopping || !pws) return -1;
        char path[256] = "";
        if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) < 0) return -1;
        path[strcspn(path, "?")] = '\0';
        const struct lws_protocols *proto = lws_get_protocol(wsi);
        int idx = http__ws_route_for(srv, path, proto ? proto->name : NULL);
        if (idx < 0) {
            GN_DEBUG(HTTP_MOD, "websocket refused | path=%s subprotocol=%s", path,
                     proto ? proto->name : "-");
            return -1;
        }
        ws = calloc(1, sizeof *ws);
        if (!ws) return -1;
        ws->srv = srv;
        ws->wsi = wsi;
        ws->route = &srv->ws_routes[idx];
        const char *why; /* checked by http__ws_confirm_upgrade already (a cache hit) */
        if (!ws->route->authenticates &&
            http__auth_principal(srv, wsi, ws->principal, sizeof ws->principal, &why) < 0) {
            free(ws);
            return -1;
        }
        if (ws->route->authenticates) gn_acl_principal(ws->principal, sizeof ws->principal, NULL);
        ws->tr = (gn_transport_t){.ops = &ws_ops, .kind = "ws", .impl = ws};
        *pws = ws;
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED: {
        if (!ws) return -1;
        int rc = ws->route->protocol->attach(srv->broker, ws->route->adapter_state, &ws->tr);
        if (rc < 0) {
            GN_WARN(HTTP_MOD, "websocket session refused | protocol=%s err=%s",
                    ws->route->protocol->name, gn_err_name(rc));
            return -1;
        }
        ws->attached = true;
        srv->metrics.ws_open++;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        if (!ws || ws->close_requested) return 0;
        return on_receive(ws, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!ws) return 0;
        return on_writeable(ws, wsi);
    case LWS_CALLBACK_CLOSED:
        if (!ws) return 0;
        if (ws->attached) srv->metrics.ws_open--;
        ws->wsi = NULL;
        *pws = NULL;
        dirty_unlink(ws);
        if (ws->attached && ws->tr.on_close) ws->tr.on_close(&ws->tr);
        ws_free(ws);
        return 0;
    default:
        return 0;
    }
}
