/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS and WSS (http.tls.port): a vhost whose TLS is libwebsockets' own (OpenSSL, with
 * ALPN "h2,http/1.1": HTTP/2 over TLS or HTTP/1.1 and WebSocket upgrades), made from the
 * files of the gateway's TLS context, and the check of client certificates. The listener
 * whose sockets it adopts is accept.c's. Loop thread only. */
#include <string.h>
#include <openssl/x509.h>

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

int http__tls_verify(struct lws *wsi, void *x509_store_ctx, size_t preverify_ok)
{
    if (preverify_ok) return 0;
    X509_STORE_CTX *xs = x509_store_ctx;
    int err = xs ? X509_STORE_CTX_get_error(xs) : 0;
    char peer[64];
    http__peer_name(wsi ? lws_get_socket_fd(lws_get_network_wsi(wsi)) : -1, peer, sizeof peer);
    GN_WARN(HTTP_MOD, "TLS handshake failed; closing | client=%s listener=tls reason=\"%s\"", peer,
            X509_verify_cert_error_string(err));
    return 1;
}
