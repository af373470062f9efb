/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS context (include/ganglion/tls.h): OpenSSL's SSL_CTX made from PEM files once
 * at start-up, by the gateway for every TLS listener (a server context) or by the
 * broker for cluster.tls.* (a peers context: both ends, certificates required both
 * ways), with the loop thread's read and plaintext buffers that every TLS transport
 * borrows while one read is processed. Main/loop thread only. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "tls_internal.h"

/* OpenSSL's reason for the last failure, its queue then emptied. */
void gn__tls_err_text(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason)
        snprintf(buf, cap, "%s", reason);
    else if (e)
        snprintf(buf, cap, "error %lu", e);
    else
        snprintf(buf, cap, "unknown");
    ERR_clear_error();
}

static int fail(char *err, size_t cap, const char *what, const char *file)
{
    char reason[160];
    gn__tls_err_text(reason, sizeof reason);
    snprintf(err, cap, "%s %s: %s", what, file, reason);
    return GN_EINVALID_CONFIG;
}

static int load(SSL_CTX *ssl, const gn_tls_config_t *cfg, char *err, size_t cap)
{
    if (!cfg->cert_file || !*cfg->cert_file || !cfg->key_file || !*cfg->key_file) {
        snprintf(err, cap, "TLS needs both a certificate file and a key file");
        return GN_EINVALID_CONFIG;
    }
    if (SSL_CTX_use_certificate_chain_file(ssl, cfg->cert_file) != 1)
        return fail(err, cap, "cannot load the certificate", cfg->cert_file);
    if (SSL_CTX_use_PrivateKey_file(ssl, cfg->key_file, SSL_FILETYPE_PEM) != 1)
        return fail(err, cap, "cannot load the private key", cfg->key_file);
    if (SSL_CTX_check_private_key(ssl) != 1)
        return fail(err, cap, "the private key does not match the certificate", cfg->key_file);
    bool ca = cfg->ca_file && *cfg->ca_file;
    if (cfg->peers && !ca) {
        snprintf(err, cap, "TLS between brokers needs the CA file that signs their certificates");
        return GN_EINVALID_CONFIG;
    }
    if (cfg->client_auth != GN_TLS_CLIENT_AUTH_NONE && !ca) {
        snprintf(err, cap, "client certificates (ssl.client.auth) need a CA file");
        return GN_EINVALID_CONFIG;
    }
    if (ca) {
        if (SSL_CTX_load_verify_locations(ssl, cfg->ca_file, NULL) != 1)
            return fail(err, cap, "cannot load the CA file", cfg->ca_file);
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
        if (names) SSL_CTX_set_client_CA_list(ssl, names); /* the CAs named to clients */
    }
    int mode = SSL_VERIFY_NONE;
    if (cfg->client_auth == GN_TLS_CLIENT_AUTH_REQUESTED) mode = SSL_VERIFY_PEER;
    if (cfg->client_auth == GN_TLS_CLIENT_AUTH_REQUIRED || cfg->peers)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ssl, mode, NULL);
    return 0;
}

int gn_tls_ctx_new(const gn_tls_config_t *cfg, gn_tls_ctx_t **out, char *err, size_t errcap)
{
    *out = NULL;
    gn_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    /* a peers context dials too: each connection is made a server or a client */
    ctx->ssl = SSL_CTX_new(cfg->peers ? TLS_method() : TLS_server_method());
    if (!ctx->ssl) {
        free(ctx);
        return fail(err, errcap, "cannot create a TLS context for", cfg->cert_file);
    }
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
    /* no renegotiation (a client could make the server work at will); idle connections
     * give their record buffers back */
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_RELEASE_BUFFERS);
    int rc = load(ctx->ssl, cfg, err, errcap);
    ctx->cfg.client_auth = cfg->peers ? GN_TLS_CLIENT_AUTH_REQUIRED : cfg->client_auth;
    ctx->cfg.peers = cfg->peers;
    if (rc == 0 && (!(ctx->cfg.cert_file = strdup(cfg->cert_file)) ||
                    !(ctx->cfg.key_file = strdup(cfg->key_file)) ||
                    !(ctx->cfg.ca_file = strdup(cfg->ca_file ? cfg->ca_file : ""))))
        rc = GN_ENOMEM;
    if (rc < 0) {
        gn_tls_ctx_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void gn_tls_ctx_free(gn_tls_ctx_t *ctx)
{
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl);
    free((char *)ctx->cfg.cert_file);
    free((char *)ctx->cfg.key_file);
    free((char *)ctx->cfg.ca_file);
    free(ctx);
}

const gn_tls_config_t *gn_tls_ctx_config(const gn_tls_ctx_t *ctx)
{
    return &ctx->cfg;
}
