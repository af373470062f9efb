/* SPDX-License-Identifier: Apache-2.0 */
/* The TCP transport (include/ganglion/transport.h) the MQTT listener runs its sessions
 * on: wraps an accepted uv_tcp_t, forwards reads to the stream protocol's on_read and
 * reports the close once. Other transports (WebSocket) attach the same protocol through
 * gn_mqtt_stream_protocol. Loop thread only. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"
#include "mqtt.h"

/* One per connection, kept small: the server is the handle's data, closing is the
 * handle's (uv_is_closing). */
typedef struct tcp_transport {
    gn_transport_t tr;
    uv_tcp_t tcp;
} tcp_transport_t;

static tcp_transport_t *of_handle(uv_handle_t *h)
{
    return (tcp_transport_t *)((char *)h - offsetof(tcp_transport_t, tcp));
}

static mqtt_server_t *server_of(const tcp_transport_t *t)
{
    return t->tcp.data;
}

static bool closing(const tcp_transport_t *t)
{
    return uv_is_closing((const uv_handle_t *)&t->tcp) != 0;
}

typedef struct tcp_write {
    uv_write_t req;
    gn_transport_t *tr;
    gn_transport_write_cb cb;
    void *arg;
} tcp_write_t;

static void on_write(uv_write_t *req, int status)
{
    tcp_write_t *w = (tcp_write_t *)req;
    if (w->cb) w->cb(w->tr, w->arg, status);
    free(w);
}

/* Queues the bytes with uv_write (a request, a callback turn, and the watcher re-armed
 * with an epoll_ctl when the queue drains) from skip bytes into bufs on. */
static int queue_write(tcp_transport_t *t, const uv_buf_t *bufs, unsigned nbufs, size_t skip,
                       gn_transport_write_cb cb, void *arg)
{
    uv_buf_t local[8], *rest = local;
    unsigned first = 0;
    while (first < nbufs && skip >= bufs[first].len)
        skip -= bufs[first++].len;
    unsigned n = nbufs - first;
    if (n > 8 && !(rest = malloc(n * sizeof(*rest)))) return GN_ENOMEM;
    memcpy(rest, bufs + first, n * sizeof(*rest));
    if (n > 0) {
        rest[0].base += skip;
        rest[0].len -= skip;
    }
    tcp_write_t *w = malloc(sizeof(*w));
    int rc = GN_ENOMEM;
    if (w) {
        w->tr = &t->tr;
        w->cb = cb;
        w->arg = arg;
        rc = uv_write(&w->req, (uv_stream_t *)&t->tcp, rest, n, on_write);
        if (rc < 0) free(w);
    }
    if (rest != local) free(rest);
    return rc;
}

static int tcp_write(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs,
                     gn_transport_write_cb cb, void *arg)
{
    tcp_transport_t *t = tr->impl;
    if (closing(t)) return UV_ECANCELED;
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    /* nothing queued: write now; most writes leave whole, and then cost no request and
     * no epoll_ctl (cb runs before we return) */
    int n = t->tcp.write_queue_size == 0 ? uv_try_write((uv_stream_t *)&t->tcp, bufs, nbufs)
                                         : UV_EAGAIN;
    if (n >= 0 && (size_t)n == total) {
        if (cb) cb(tr, arg, 0);
        return 0;
    }
    if (n < 0 && n != UV_EAGAIN) return n;
    return queue_write(t, bufs, nbufs, n > 0 ? (size_t)n : 0, cb, arg);
}

static size_t tcp_write_queue_size(gn_transport_t *tr)
{
    tcp_transport_t *t = tr->impl;
    return t->tcp.write_queue_size;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    /* one read buffer for every connection (loop thread; conn.c keeps only partial
     * packets), so an idle connection costs no read buffer */
    mqtt_server_t *srv = h->data;
    (void)suggested;
    buf->base = (char *)srv->rbuf;
    buf->len = sizeof(srv->rbuf);
}

static void tcp_close(gn_transport_t *tr);

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    tcp_transport_t *t = of_handle((uv_handle_t *)s);
    if (n < 0) {
        tcp_close(&t->tr);
        return;
    }
    if (n > 0 && t->tr.on_read && !closing(t))
        t->tr.on_read(&t->tr, (const uint8_t *)buf->base, (size_t)n);
}

static void tcp_pause(gn_transport_t *tr)
{
    tcp_transport_t *t = tr->impl;
    if (!closing(t)) uv_read_stop((uv_stream_t *)&t->tcp);
}

static void tcp_resume(gn_transport_t *tr)
{
    tcp_transport_t *t = tr->impl;
    if (!closing(t)) uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
}

static void on_closed(uv_handle_t *h)
{
    tcp_transport_t *t = of_handle(h);
    mqtt_server_t *srv = server_of(t);
    if (t->tr.on_close) t->tr.on_close(&t->tr);
    free(t);
    mqtt__server_handle_closed(srv);
}

static void tcp_close(gn_transport_t *tr)
{
    tcp_transport_t *t = tr->impl;
    if (closing(t)) return;
    uv_read_stop((uv_stream_t *)&t->tcp);
    uv_close((uv_handle_t *)&t->tcp, on_closed);
}

static int name_of(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char ip[64];
    int port;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
    }
    snprintf(buf, cap, "%s:%d", ip, port);
    return 0;
}

static int tcp_peer_name(gn_transport_t *tr, char *buf, size_t cap)
{
    tcp_transport_t *t = tr->impl;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss, &len);
    return rc < 0 ? rc : name_of(&ss, buf, cap);
}

static int tcp_local_name(gn_transport_t *tr, char *buf, size_t cap)
{
    tcp_transport_t *t = tr->impl;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = uv_tcp_getsockname(&t->tcp, (struct sockaddr *)&ss, &len);
    return rc < 0 ? rc : name_of(&ss, buf, cap);
}

static void tcp_ack_now(gn_transport_t *tr)
{
    tcp_transport_t *t = tr->impl;
    if (!closing(t)) gn_tcp_ack_now(&t->tcp);
}

static const gn_transport_ops_t tcp_ops = {
    .write = tcp_write,
    .write_queue_size = tcp_write_queue_size,
    .pause_reading = tcp_pause,
    .resume_reading = tcp_resume,
    .close = tcp_close,
    .peer_name = tcp_peer_name,
    .local_name = tcp_local_name,
    .ack_now = tcp_ack_now,
};

int mqtt__tcp_accept(mqtt_server_t *srv)
{
    tcp_transport_t *t = calloc(1, sizeof(*t));
    if (!t) return GN_ENOMEM;
    t->tr.ops = &tcp_ops;
    t->tr.kind = "tcp";
    t->tr.impl = t;
    uv_tcp_init(srv->loop, &t->tcp);
    t->tcp.data = srv;
    srv->open_handles++;
    if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&t->tcp) < 0) {
        tcp_close(&t->tr);
        return GN_EIO;
    }
    uv_tcp_nodelay(&t->tcp, 1);
    if (mqtt__conn_attach(srv, &t->tr) < 0) {
        tcp_close(&t->tr);
        return GN_ENOMEM;
    }
    if (uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read) < 0) tcp_close(&t->tr);
    return 0;
}
