/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP and HTTPS listeners: accept on the broker's libuv loop and wait for each
 * connection's first bytes. On the plain port they tell the HTTP/2 prior-knowledge
 * preface ("PRI * HTTP/2.0...") from HTTP/1.1, and the socket is adopted with those bytes
 * into the matching libwebsockets vhost (lws 4.1.6 serves only one of the two per vhost).
 * On the TLS port the first byte is only peeked: a TLS record (0x16, handshake) goes to
 * the TLS vhost; anything else (plain HTTP sent to the HTTPS port) gets a 400, a log line
 * and a close here, since lws closes such a connection without telling us. Loop thread
 * only. */
#include <errno.h>
#include <stdio.h>
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
    bool tls;    /* on the TLS port */
    char buf[H2_PREFACE_LEN];
    size_t len;
    struct lws_vhost *target; /* NULL: drop */
};

void http__peer_name(int fd, char *buf, size_t cap)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof ss;
    char ip[64] = "-";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)&ss, ip, sizeof ip);
        port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    } else if (ss.ss_family == AF_INET) {
        uv_ip4_name((const struct sockaddr_in *)&ss, ip, sizeof ip);
        port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(buf, cap, "%s:%d", ip, port);
}

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
    if (pa->target && !srv->stopping && pa->tls) {
        http__h2_reads_track_tls(pa->fd); /* bounded reads if it chooses h2 (h2_reads.c) */
        if (!lws_adopt_socket_vhost(pa->target, pa->fd))
            GN_WARN(HTTP_MOD, "cannot adopt connection | fd=%d listener=tls", pa->fd);
    } else if (pa->target && !srv->stopping) {
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

/* Plain HTTP on the TLS port: drain what came (so the close is not a reset that loses
 * the answer), answer 400 in the REST error format, log, close. */
static void refuse_plaintext(http_pending_accept_t *pa, const char *first)
{
    char peer[64], scratch[4096];
    http__peer_name(pa->fd, peer, sizeof peer);
    GN_WARN(HTTP_MOD,
            "TLS handshake failed; closing | client=%s listener=tls reason=\"not a TLS "
            "ClientHello (plaintext HTTP on the HTTPS port?)\" first_byte=0x%02x",
            peer, (unsigned char)*first);
    for (int i = 0; i < 16 && recv(pa->fd, scratch, sizeof scratch, 0) > 0; i++)
        ;
    static const char body[] =
        "{\"error_code\":400,\"message\":\"this port speaks TLS: use https://\"}";
    char resp[256];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     sizeof body - 1, body);
    if (send(pa->fd, resp, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        GN_DEBUG(HTTP_MOD, "400 to a plaintext client not sent | client=%s err=%s", peer,
                 strerror(errno));
    pending_finish(pa, NULL);
}

/* The TLS port: a handshake record goes to the TLS vhost, unread. */
static void on_tls_client_readable(http_pending_accept_t *pa)
{
    char first;
    ssize_t n = recv(pa->fd, &first, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        pending_finish(pa, NULL);
        return;
    }
    if (n < 0) return;
    if (first == 0x16) /* TLS ContentType handshake (RFC 8446 5.1) */
        pending_finish(pa, pa->srv->vh_https);
    else
        refuse_plaintext(pa, &first);
}

static void on_client_readable(uv_poll_t *p, int status, int events)
{
    http_pending_accept_t *pa = p->data;
    if (status < 0) {
        pending_finish(pa, NULL);
        return;
    }
    if (pa->tls) {
        on_tls_client_readable(pa);
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

static void accept_one(http_server_t *srv, int fd, bool tls)
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
    pa->tls = tls;
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

static void accept_all(http_server_t *srv, int listen_fd, bool tls)
{
    if (srv->stopping) return;
    for (int i = 0; i < 64; i++) { /* bounded per loop turn */
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                GN_WARN(HTTP_MOD, "accept failed | listener=%s err=%s", tls ? "tls" : "plain",
                        strerror(errno));
            return;
        }
        accept_one(srv, fd, tls);
    }
}

static void on_listen_readable(uv_poll_t *p, int status, int events)
{
    if (status >= 0) accept_all(p->data, ((http_server_t *)p->data)->listen_fd, false);
}

static void on_tls_listen_readable(uv_poll_t *p, int status, int events)
{
    if (status >= 0) accept_all(p->data, ((http_server_t *)p->data)->tls_listen_fd, true);
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

static int listener_start(http_server_t *srv, int port, uv_poll_t *poll, int *fd_out,
                          uv_poll_cb on_readable)
{
    int fd = http__listen_socket(srv->host, port);
    if (fd < 0) return fd;
    int rc = uv_poll_init_socket(srv->loop, poll, fd);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    poll->data = srv;
    srv->open_handles++;
    uv_poll_start(poll, UV_READABLE, on_readable);
    return 0;
}

int http__accept_start(http_server_t *srv)
{
    int rc = listener_start(srv, srv->port, &srv->listen_poll, &srv->listen_fd, on_listen_readable);
    if (rc == 0) srv->listening = true;
    return rc;
}

int http__tls_accept_start(http_server_t *srv)
{
    if (!srv->vh_https) return 0;
    int rc = listener_start(srv, srv->tls_port, &srv->tls_listen_poll, &srv->tls_listen_fd,
                            on_tls_listen_readable);
    if (rc < 0) return rc;
    srv->tls_listening = true;
    GN_INFO(HTTP_MOD, "listening | listener=tls host=%s port=%d protocols=h2,http/1.1,websocket",
            srv->host, srv->tls_port);
    return 0;
}

static void on_listen_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    int *fd = h == (uv_handle_t *)&srv->listen_poll ? &srv->listen_fd : &srv->tls_listen_fd;
    close(*fd);
    *fd = -1;
    http__server_handle_closed(srv);
}

void http__accept_stop(http_server_t *srv)
{
    if (srv->listening) {
        srv->listening = false;
        uv_close((uv_handle_t *)&srv->listen_poll, on_listen_closed);
    }
    if (srv->tls_listening) {
        srv->tls_listening = false;
        uv_close((uv_handle_t *)&srv->tls_listen_poll, on_listen_closed);
    }
    for (http_pending_accept_t *pa = srv->pending; pa; pa = pa->next)
        pending_finish(pa, NULL);
}
