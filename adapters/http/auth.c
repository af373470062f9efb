/* SPDX-License-Identifier: Apache-2.0 */
/* Who an HTTP client is (http.auth): the principal of a request or WebSocket upgrade —
 * User:<name> from HTTP Basic checked against auth.users.file, User:<subject DN> from a
 * client certificate the TLS port verified, or User:ANONYMOUS — and the 401 refusal.
 * A verified (user, password) is remembered for HTTP_AUTH_CACHE_TTL_NS in a table of
 * HTTP_AUTH_CACHE_SIZE entries as a SHA-256 keyed with bytes drawn at start, so a
 * client sending Basic with every request costs one PBKDF2 per TTL, and the password
 * itself is never kept (its decoded copy is wiped once checked). A client host whose
 * checks keep failing is throttled (core/auth's gn_auth_throttle): its passwords are not
 * checked, and it is answered GN_ETHROTTLED (429), until a token comes back. Loop thread
 * only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ganglion/acl.h"
#include "ganglion/auth.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "http.h"

#define HTTP_AUTH_CACHE_SIZE   256
#define HTTP_AUTH_CACHE_TTL_NS (30ull * 1000000000ull)
#define HTTP_AUTH_CRED_MAX     1024 /* bytes of a decoded "user:password" */

typedef struct auth_entry {
    char user[GN_AUTH_USER_MAX + 1];
    uint8_t mac[32]; /* SHA-256(key, user, NUL, password) */
    uint64_t expires_ns;
} auth_entry_t;

struct http_auth {
    const gn_auth_store_t *store; /* NULL: no users file */
    bool required;                /* http.auth=basic */
    uint8_t key[32];
    EVP_MD *sha256;
    EVP_MD_CTX *md; /* reused by every cred_mac */
    gn_auth_throttle_t *throttle;
    auth_entry_t cache[HTTP_AUTH_CACHE_SIZE];
};

int http__auth_init(http_server_t *srv, const gn_listener_config_t *cfg)
{
    http_auth_t *a = calloc(1, sizeof *a);
    if (!a) return GN_ENOMEM;
    a->store = cfg->auth;
    a->required = !cfg->allow_anonymous;
    a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    a->md = EVP_MD_CTX_new();
    a->throttle = gn_auth_throttle_new();
    srv->auth = a;
    if (RAND_bytes(a->key, sizeof a->key) != 1 || !a->sha256 || !a->md || !a->throttle) {
        http__auth_free(srv);
        return GN_ENOMEM;
    }
    return 0;
}

void http__auth_free(http_server_t *srv)
{
    if (!srv->auth) return;
    EVP_MD_CTX_free(srv->auth->md);
    gn_auth_throttle_free(srv->auth->throttle);
    EVP_MD_free(srv->auth->sha256);
    OPENSSL_cleanse(srv->auth, sizeof *srv->auth);
    free(srv->auth);
    srv->auth = NULL;
}

bool http__auth_required(const http_server_t *srv)
{
    return srv->auth && srv->auth->required;
}

bool http__auth_open_path(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/healthz/") == 0;
}

/* SHA-256(key, user, NUL, password): the key drawn at start makes it useless outside
 * this process; one digest with the algorithm fetched once (HMAC() fetches it on every
 * call, which showed in a cached request's cost: performance.md). */
static void cred_mac(http_auth_t *a, const char *user, size_t ulen, const uint8_t *pw, size_t plen,
                     uint8_t out[32])
{
    static const uint8_t nul = 0;
    unsigned len = 32;
    if (!a->md || !EVP_DigestInit_ex(a->md, a->sha256, NULL) ||
        !EVP_DigestUpdate(a->md, a->key, sizeof a->key) || !EVP_DigestUpdate(a->md, user, ulen) ||
        !EVP_DigestUpdate(a->md, &nul, 1) || !EVP_DigestUpdate(a->md, pw, plen) ||
        !EVP_DigestFinal_ex(a->md, out, &len))
        RAND_bytes(out, 32); /* matches nothing */
}

/* The cached entry of a verified (user, mac) still valid, or NULL. */
static auth_entry_t *cache_find(http_auth_t *a, const char *user, size_t ulen,
                                const uint8_t mac[32], uint64_t now)
{
    for (size_t i = 0; i < HTTP_AUTH_CACHE_SIZE; i++) {
        auth_entry_t *e = &a->cache[i];
        if (e->expires_ns > now && strlen(e->user) == ulen && memcmp(e->user, user, ulen) == 0 &&
            CRYPTO_memcmp(e->mac, mac, 32) == 0)
            return e;
    }
    return NULL;
}

/* Remembers a verified (user, mac) in an expired slot, else the one expiring first. */
static void cache_put(http_auth_t *a, const char *user, size_t ulen, const uint8_t mac[32],
                      uint64_t now)
{
    auth_entry_t *victim = &a->cache[0];
    for (size_t i = 0; i < HTTP_AUTH_CACHE_SIZE; i++) {
        auth_entry_t *e = &a->cache[i];
        if (e->expires_ns <= now) {
            victim = e;
            break;
        }
        if (e->expires_ns < victim->expires_ns) victim = e;
    }
    memcpy(victim->user, user, ulen);
    victim->user[ulen] = '\0';
    memcpy(victim->mac, mac, 32);
    victim->expires_ns = now + HTTP_AUTH_CACHE_TTL_NS;
}

/* Checks decoded "user:password" (RFC 7617) from wsi's client. 0 with the user in
 * principal, GN_EAUTH, or GN_ETHROTTLED (not checked: too many failures from its host
 * lately). */
static int check_basic(http_auth_t *a, struct lws *wsi, const char *cred, size_t len,
                       char *principal, size_t cap, const char **why)
{
    const char *colon = memchr(cred, ':', len);
    if (!colon) {
        *why = "malformed Basic credentials";
        return GN_EAUTH;
    }
    size_t ulen = (size_t)(colon - cred);
    const uint8_t *pw = (const uint8_t *)colon + 1;
    size_t plen = len - ulen - 1;
    if (!gn_auth_user_valid(cred, ulen)) {
        *why = "malformed user name";
        return GN_EAUTH;
    }
    if (!a->store) {
        *why = "no users file (auth.users.file)";
        return GN_EAUTH;
    }
    uint8_t mac[32];
    cred_mac(a, cred, ulen, pw, plen, mac);
    uint64_t now = uv_hrtime();
    int rc = 0;
    if (!cache_find(a, cred, ulen, mac, now)) { /* a cached check costs no peer lookup */
        uint64_t now_ms = now / 1000000u;
        char host[80];
        http__auth_client_host(wsi, host, sizeof host);
        if (gn_auth_throttle_wait_ms(a->throttle, host, now_ms) > 0) {
            *why = "too many failed authentications from this address; retry later";
            rc = GN_ETHROTTLED;
        } else if ((rc = gn_auth_verify_password(a->store, cred, ulen, pw, plen)) == 0) {
            cache_put(a, cred, ulen, mac, now);
        } else {
            gn_auth_throttle_failed(a->throttle, host, now_ms);
            *why = "unknown user or wrong password";
        }
    }
    if (rc == 0) {
        char user[GN_AUTH_USER_MAX + 1];
        memcpy(user, cred, ulen);
        user[ulen] = '\0';
        gn_acl_principal(principal, cap, user);
    }
    OPENSSL_cleanse(mac, sizeof mac);
    return rc == 0 || rc == GN_ETHROTTLED ? rc : GN_EAUTH;
}

/* The Authorization header's Basic credentials checked: 0 (principal set), GN_ENOENT
 * (no Authorization header), GN_EAUTH or GN_ETHROTTLED (why set). */
static int basic_principal(http_auth_t *a, struct lws *wsi, char *principal, size_t cap,
                           const char **why)
{
    int hlen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (hlen <= 0) return GN_ENOENT;
    char hdr[HTTP_AUTH_CRED_MAX * 4 / 3 + 16];
    char cred[HTTP_AUTH_CRED_MAX + 4];
    int rc = GN_EAUTH;
    *why = "Authorization is not Basic";
    if (hlen < (int)sizeof hdr &&
        lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
        strncasecmp(hdr, "Basic ", 6) == 0) {
        const char *b64 = hdr + 6;
        while (*b64 == ' ')
            b64++;
        int n = lws_b64_decode_string_len(b64, (int)strlen(b64), cred, (int)sizeof cred - 1);
        if (n > 0 && n <= HTTP_AUTH_CRED_MAX)
            rc = check_basic(a, wsi, cred, (size_t)n, principal, cap, why);
        else
            *why = "malformed Basic credentials";
    } else if (hlen >= (int)sizeof hdr) {
        *why = "Authorization header too long";
    }
    OPENSSL_cleanse(hdr, sizeof hdr);
    OPENSSL_cleanse(cred, sizeof cred);
    return rc;
}

/* The subject DN (RFC 2253, Kafka's SSL principal) of a client certificate the TLS
 * handshake verified: 0, or GN_ENOENT. */
static int cert_principal(struct lws *wsi, char *principal, size_t cap)
{
    struct lws *nwsi = lws_get_network_wsi(wsi);
    SSL *ssl = nwsi && lws_is_ssl(nwsi) ? lws_get_ssl(nwsi) : NULL;
    X509 *cert = ssl ? SSL_get_peer_certificate(ssl) : NULL;
    if (!cert) return GN_ENOENT;
    int rc = GN_ENOENT;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio && SSL_get_verify_result(ssl) == X509_V_OK &&
        X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        char dn[GN_ACL_PRINCIPAL_MAX];
        if (len > 0 && (size_t)len < sizeof dn) {
            memcpy(dn, data, (size_t)len);
            dn[len] = '\0';
            gn_acl_principal(principal, cap, dn);
            rc = 0;
        }
    }
    BIO_free(bio);
    X509_free(cert);
    return rc;
}

int http__auth_principal(http_server_t *srv, struct lws *wsi, char *principal, size_t cap,
                         const char **why)
{
    http_auth_t *a = srv->auth;
    gn_acl_principal(principal, cap, NULL);
    *why = "";
    if (a && a->required) {
        int rc = basic_principal(a, wsi, principal, cap, why);
        if (rc != GN_ENOENT) return rc;
    }
    if (cert_principal(wsi, principal, cap) == 0) return 0;
    if (a && a->required) {
        *why = "no credentials";
        return GN_EAUTH;
    }
    return 0;
}

void http__auth_client_host(struct lws *wsi, char *host, size_t cap)
{
    char peer[80];
    http__peer_name(wsi ? lws_get_socket_fd(lws_get_network_wsi(wsi)) : -1, peer, sizeof peer);
    gn_auth_throttle_host(peer, host, cap); /* "ip:port" -> "ip" */
}

void http__auth_log_refusal(struct lws *wsi, const char *path, int rc, const char *why)
{
    static uint64_t last_ns, unlogged; /* throttled refusals: one line a second */
    char peer[80];
    if (rc == GN_ETHROTTLED) {
        uint64_t now = uv_hrtime();
        if (last_ns && now - last_ns < 1000000000u) {
            unlogged++;
            return;
        }
        last_ns = now;
        http__peer_name(wsi ? lws_get_socket_fd(lws_get_network_wsi(wsi)) : -1, peer, sizeof peer);
        GN_WARN(HTTP_MOD,
                "authentication throttled; answered 429 | client=%s path=%s reason=\"%s\" "
                "refusals_since_last_line=%llu",
                peer, path, why, (unsigned long long)unlogged + 1);
        unlogged = 0;
        return;
    }
    http__peer_name(wsi ? lws_get_socket_fd(lws_get_network_wsi(wsi)) : -1, peer, sizeof peer);
    GN_WARN(HTTP_MOD, "authentication failed; answered 401 | client=%s path=%s reason=\"%s\"", peer,
            path, why);
}

const char http__auth_challenge[] = "Basic realm=\"ganglion\", charset=\"UTF-8\"";
