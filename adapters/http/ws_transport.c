/* SPDX-License-Identifier: Apache-2.0 */
/* A gn_transport_t over one lws WebSocket: the gateway's WebSocket routes (path and
 * subprotocol -> stream protocol, e.g. /ws -> the JSON protocol of adapters/ws, /mqtt
 * -> MQTT) are matched at the upgrade; each whole message is one on_read (fragments
 * reassembled up to the route's bound, beyond it the socket closes with 1009), each
 * write one message, queued (the queue size is the session's back-pressure signal).
 * Loop thread only. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "http.h"

typedef struct ws_msg {
    struct ws_msg *next;
    size_t len;
    gn_transport_write_cb cb;
    void *arg;
    uint8_t data[]; /* LWS_PRE headroom, then the message */
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
    bool attached;
    bool close_requested;
    bool paused;
};

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
    m->cb = cb;
    m->arg = arg;
    size_t off = LWS_PRE;
    for (unsigned i = 0; i < nbufs; i++) {
        memcpy(m->data + off, bufs[i].base, bufs[i].len);
        off += bufs[i].len;
    }
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
    ws->queued += len;
    lws_callback_on_writable(ws->wsi);
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

static const gn_transport_ops_t ws_ops = {
    .write = tr_write,
    .write_queue_size = tr_write_queue_size,
    .pause_reading = tr_pause,
    .resume_reading = tr_resume,
    .close = tr_close,
    .peer_name = tr_peer_name,
    .local_name = tr_local_name,
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

/* The unmasked server frame header (RFC 6455 5.2) for a whole message; returns its size. */
static size_t frame_header(uint8_t *p, bool binary, size_t len)
{
    p[0] = (uint8_t)(0x80 | (binary ? 0x2 : 0x1)); /* FIN + opcode */
    if (len < 126) {
        p[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        p[1] = 126;
        p[2] = (uint8_t)(len >> 8);
        p[3] = (uint8_t)len;
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; i++)
        p[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
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

/* Writes the queue: several small messages become one send (frames built here, written
 * raw), since one write per message costs a syscall and an epoll round trip each. */
static int on_writeable(http_ws_t *ws, struct lws *wsi)
{
    ws_msg_t *m = ws->head;
    if (!m) {
        if (ws->close_requested) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    bool binary = ws->route->binary;
    int n;
    ws_msg_t *done = NULL, **dtail = &done;
    if (!m->next || m->len + 10 > HTTP_WS_COALESCE_BYTES || !ws->srv->ws_scratch) {
        n = lws_write(wsi, m->data + LWS_PRE, m->len, binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        n = n < (int)m->len ? -1 : 0;
        ws->head = m->next;
        ws->queued -= m->len;
        ws->srv->metrics.ws_messages_out++;
        m->next = NULL;
        done = m;
    } else {
        uint8_t *out = ws->srv->ws_scratch + LWS_PRE, *p = out;
        while ((m = ws->head) && (size_t)(p - out) + m->len + 10 <= HTTP_WS_COALESCE_BYTES) {
            p += frame_header(p, binary, m->len);
            memcpy(p, m->data + LWS_PRE, m->len);
            p += m->len;
            ws->head = m->next;
            ws->queued -= m->len;
            ws->srv->metrics.ws_messages_out++;
            m->next = NULL;
            *dtail = m;
            dtail = &m->next;
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
        if (ws->attached && ws->tr.on_close) ws->tr.on_close(&ws->tr);
        ws_free(ws);
        return 0;
    default:
        return 0;
    }
}
