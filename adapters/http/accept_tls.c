/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS and WSS (http.tls.port): a vhost whose TLS is libwebsockets' own (OpenSSL, with
 * ALPN "h2,http/1.1": HTTP/2 over TLS or HTTP/1.1 and WebSocket upgrades), made from the
 * files of the gateway's TLS context, and a listener on the broker's loop whose sockets
 * are adopted into it at once (no peek: the preface is encrypted). Loop thread only. */
#include <errno.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/x509.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/tls.h"
#include "http.h"

int http__tls_vhost(http_server_t *srv, const gn_listener_config_t *cfg)
{
    if (!cfg->tls || cfg->tls_port == 0) return 0;
    const gn_tls_config_t *files = gn_tls_ctx_config(cfg->tls);
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    vi.protocols = http__protocols;
    vi.vhost_name = "https";
    vi.keepalive_timeout = 60;
    vi.timeout_secs = 30;
    vi.server_string = "ganglion";
    vi.user = srv;
    vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    /* lws asks for a client certificate only when it requires one */
    if (files->client_auth == GN_TLS_CLIENT_AUTH_REQUIRED)
        vi.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT;
    vi.ssl_cert_filepath = files->cert_file;
    vi.ssl_private_key_filepath = files->key_file;
    vi.ssl_ca_filepath = files->ca_file && *files->ca_file ? files->ca_file : NULL;
    vi.alpn = "h2,http/1.1";
    srv->vh_https = lws_create_vhost(srv->ctx, &vi);
    if (!srv->vh_https) {
        GN_ERROR(HTTP_MOD, "cannot create the libwebsockets TLS vhost | cert=%s", files->cert_file);
        return GN_EINVALID_CONFIG;
    }
    srv->tls_port = cfg->tls_port;
    return 0;
}

static void peer_name(int fd, char *buf, size_t cap)
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

int http__tls_verify(struct lws *wsi, void *x509_store_ctx, size_t preverify_ok)
{
    if (preverify_ok) return 0;
    X509_STORE_CTX *xs = x509_store_ctx;
    int err = xs ? X509_STORE_CTX_get_error(xs) : 0;
    char peer[64];
    peer_name(wsi ? lws_get_socket_fd(lws_get_network_wsi(wsi)) : -1, peer, sizeof peer);
    GN_WARN(HTTP_MOD, "TLS handshake failed; closing | client=%s listener=tls reason=\"%s\"", peer,
            X509_verify_cert_error_string(err));
    return 1;
}

static void on_tls_listen_readable(uv_poll_t *p, int status, int events)
{
    http_server_t *srv = p->data;
    if (status < 0 || srv->stopping) return;
    for (int i = 0; i < 64; i++) { /* bounded per loop turn */
        int fd = accept4(srv->tls_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                GN_WARN(HTTP_MOD, "accept failed | listener=tls err=%s", strerror(errno));
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        http__h2_reads_track_tls(fd); /* bounded reads if it chooses h2 (h2_reads.c) */
        srv->metrics.connections_total++;
        char peer[64];
        peer_name(fd, peer, sizeof peer); /* lws closes fd when the handshake fails */
        if (!lws_adopt_socket_vhost(srv->vh_https, fd))
            GN_WARN(HTTP_MOD, "TLS handshake failed; closing | client=%s listener=tls", peer);
    }
}

int http__tls_accept_start(http_server_t *srv)
{
    if (!srv->vh_https) return 0;
    int fd = http__listen_socket(srv->host, srv->tls_port);
    if (fd < 0) return fd;
    int rc = uv_poll_init_socket(srv->loop, &srv->tls_listen_poll, fd);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    srv->tls_listen_fd = fd;
    srv->tls_listen_poll.data = srv;
    srv->open_handles++;
    srv->tls_listening = true;
    uv_poll_start(&srv->tls_listen_poll, UV_READABLE, on_tls_listen_readable);
    GN_INFO(HTTP_MOD, "listening | listener=tls host=%s port=%d protocols=h2,http/1.1,websocket",
            srv->host, srv->tls_port);
    return 0;
}

static void on_tls_listen_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    close(srv->tls_listen_fd);
    srv->tls_listen_fd = -1;
    http__server_handle_closed(srv);
}

void http__tls_accept_stop(http_server_t *srv)
{
    if (!srv->tls_listening) return;
    srv->tls_listening = false;
    uv_close((uv_handle_t *)&srv->tls_listen_poll, on_tls_listen_closed);
}
