/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP listener: accepts on the broker's libuv loop, reads the first bytes of each
 * connection to tell the HTTP/2 prior-knowledge preface ("PRI * HTTP/2.0...") from
 * HTTP/1.1, and adopts the socket with those bytes into the matching libwebsockets
 * vhost (lws 4.1.6 serves only one of the two per vhost). Loop thread only. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"
#include "http.h"

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; /* RFC 9113 3.4 */
#define H2_PREFACE_LEN (sizeof(h2_preface) - 1)

struct http_pending_accept {
    http_server_t *srv;
    http_pending_accept_t *prev, *next;
    int fd;
    uv_poll_t poll;
    uv_timer_t timer;
    int handles; /* open handles of the two */
    char buf[H2_PREFACE_LEN];
    size_t len;
    struct lws_vhost *target; /* NULL: drop */
};

static void pending_unlink(http_pending_accept_t *pa)
{
    http_server_t *srv = pa->srv;
    if (pa->prev)
        pa->prev->next = pa->next;
    else
        srv->pending = pa->next;
    if (pa->next) pa->next->prev = pa->prev;
}

static void on_pending_closed(uv_handle_t *h)
{
    http_pending_accept_t *pa = h->data;
    if (--pa->handles > 0) return;
    http_server_t *srv = pa->srv;
    pending_unlink(pa);
    /* Only now is libuv's watch on the fd gone, so lws may take it. */
    if (pa->target && !srv->stopping) {
        http__h2_reads_track(pa->fd, pa->target == srv->vh_h2c);
        struct lws *wsi = lws_adopt_socket_vhost_readbuf(pa->target, pa->fd, pa->buf, pa->len);
        if (!wsi) {
            http__h2_reads_track(pa->fd, false);
            GN_WARN(HTTP_MOD, "cannot adopt connection | fd=%d", pa->fd);
        }
        /* lws closed the fd when it failed */
    } else {
        close(pa->fd);
    }
    free(pa);
    http__server_handle_closed(srv);
}

static void pending_finish(http_pending_accept_t *pa, struct lws_vhost *target)
{
    if (pa->handles < 2 || uv_is_closing((uv_handle_t *)&pa->poll)) return;
    pa->target = target;
    uv_close((uv_handle_t *)&pa->poll, on_pending_closed);
    uv_close((uv_handle_t *)&pa->timer, on_pending_closed);
}

static void on_peek_timeout(uv_timer_t *t)
{
    pending_finish(t->data, NULL);
}

static void on_client_readable(uv_poll_t *p, int status, int events)
{
    http_pending_accept_t *pa = p->data;
    if (status < 0) {
        pending_finish(pa, NULL);
        return;
    }
    ssize_t n = recv(pa->fd, pa->buf + pa->len, H2_PREFACE_LEN - pa->len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        pending_finish(pa, NULL);
        return;
    }
    if (n < 0) return;
    pa->len += (size_t)n;
    if (memcmp(pa->buf, h2_preface, pa->len) != 0) {
        pending_finish(pa, pa->srv->vh_h1);
    } else if (pa->len == H2_PREFACE_LEN) {
        pa->srv->metrics.connections_h2++;
        pending_finish(pa, pa->srv->vh_h2c);
    }
}

static void accept_one(http_server_t *srv, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    http_pending_accept_t *pa = calloc(1, sizeof *pa);
    if (!pa) {
        close(fd);
        return;
    }
    pa->srv = srv;
    pa->fd = fd;
    http__h2_reads_track(fd, false); /* a closed h2c socket's number, reused */
    if (uv_poll_init_socket(srv->loop, &pa->poll, fd) != 0) {
        close(fd);
        free(pa);
        return;
    }
    uv_timer_init(srv->loop, &pa->timer);
    pa->poll.data = pa->timer.data = pa;
    pa->handles = 2;
    srv->open_handles++;
    pa->next = srv->pending;
    if (srv->pending) srv->pending->prev = pa;
    srv->pending = pa;
    srv->metrics.connections_total++;
    uv_poll_start(&pa->poll, UV_READABLE, on_client_readable);
    uv_timer_start(&pa->timer, on_peek_timeout, HTTP_PEEK_TIMEOUT_MS, 0);
}

static void on_listen_readable(uv_poll_t *p, int status, int events)
{
    http_server_t *srv = p->data;
    if (status < 0 || srv->stopping) return;
    for (int i = 0; i < 64; i++) { /* bounded per loop turn */
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                GN_WARN(HTTP_MOD, "accept failed | err=%s", strerror(errno));
            return;
        }
        accept_one(srv, fd);
    }
}

int http__listen_socket(const char *host, int port)
{
    struct sockaddr_storage addr;
    int rc = gn_listen_addr(host, port, &addr);
    if (rc < 0) return rc;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t alen =
        addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&addr, alen) != 0 || listen(fd, GN_LISTEN_BACKLOG) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int http__accept_start(http_server_t *srv)
{
    int fd = http__listen_socket(srv->host, srv->port);
    if (fd < 0) return fd;
    int rc = uv_poll_init_socket(srv->loop, &srv->listen_poll, fd);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    srv->listen_fd = fd;
    srv->listen_poll.data = srv;
    srv->open_handles++;
    srv->listening = true;
    uv_poll_start(&srv->listen_poll, UV_READABLE, on_listen_readable);
    return 0;
}

static void on_listen_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    close(srv->listen_fd);
    srv->listen_fd = -1;
    http__server_handle_closed(srv);
}

void http__accept_stop(http_server_t *srv)
{
    if (srv->listening) {
        srv->listening = false;
        uv_close((uv_handle_t *)&srv->listen_poll, on_listen_closed);
    }
    for (http_pending_accept_t *pa = srv->pending; pa; pa = pa->next)
        pending_finish(pa, NULL);
}
