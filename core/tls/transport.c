/* SPDX-License-Identifier: Apache-2.0 */
/* The "tls" gn_transport_t (include/ganglion/tls.h): one accepted TCP connection with
 * an OpenSSL server session, or one dialled connection with a client session (brokers
 * to each other), reading from and writing to memory BIOs. Ciphertext read from the
 * socket goes into the read BIO and the plaintext OpenSSL makes of it to the protocol's
 * on_read; plaintext written is encrypted at once and its ciphertext sent with
 * uv_try_write, queued with uv_write for what did not leave. Used by the Kafka and MQTT
 * adapters' TLS listeners and core/cluster's internal RPC and Raft. Loop thread only. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"
#include "tls_internal.h"

typedef struct tls_transport {
    gn_transport_t tr;
    uv_tcp_t tcp;
    gn_tls_ctx_t *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    const char *mod;  /* the owner's log module */
    gn_tls_closed_cb closed;
    void *closed_arg;
    bool closing;
    bool handshaken;
    bool failed;   /* a TLS error: no close_notify */
    bool client;   /* dialled: a client session */
    char peer[56]; /* "ip:port", kept for the log lines of a client that already left */
    uv_connect_t creq;
    struct tls_early *early, **early_tail; /* a client's writes before its handshake */
} tls_transport_t;

/* Plaintext a client wrote before its handshake finished, sent once it has. */
typedef struct tls_early {
    struct tls_early *next;
    gn_transport_write_cb cb;
    void *arg;
    size_t len;
    uint8_t data[];
} tls_early_t;

/* One flush of ciphertext that did not leave at once. */
typedef struct tls_write {
    uv_write_t req;
    tls_transport_t *t;
    gn_transport_write_cb cb;
    void *arg;
    uint8_t data[];
} tls_write_t;

static void tls_close(gn_transport_t *tr);

/* ---- addresses ---------------------------------------------------------------------- */

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

static int tls_peer_name(gn_transport_t *tr, char *buf, size_t cap)
{
    tls_transport_t *t = tr->impl;
    snprintf(buf, cap, "%s", t->peer);
    return 0;
}

static int tls_local_name(gn_transport_t *tr, char *buf, size_t cap)
{
    tls_transport_t *t = tr->impl;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    int rc = uv_tcp_getsockname(&t->tcp, (struct sockaddr *)&ss, &len);
    return rc < 0 ? rc : name_of(&ss, buf, cap);
}

/* ---- writing ------------------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status)
{
    tls_write_t *w = (tls_write_t *)req;
    tls_transport_t *t = w->t;
    if (w->cb) w->cb(&t->tr, w->arg, status);
    free(w);
    if (status < 0 && status != UV_ECANCELED) tls_close(&t->tr);
}

/* Sends the ciphertext OpenSSL has made: at once where the socket takes it, through the
 * context's output buffer (resident: a fresh block per flush page-faulted on every
 * replica fetch, docs/performance.md), and what did not leave copied into one uv_write;
 * cb once it has all left. 0 or -errno (cb never runs then). */
static int flush_out(tls_transport_t *t, gn_transport_write_cb cb, void *arg)
{
    size_t pending = BIO_ctrl_pending(t->wbio), got = 0, sent = 0;
    uint8_t *obuf = t->ctx->obuf;
    while (pending > 0 && t->tcp.write_queue_size == 0 && sent == got) {
        BIO_read_ex(t->wbio, obuf, pending < GN_TLS_OUT_BYTES ? pending : GN_TLS_OUT_BYTES, &got);
        pending -= got;
        uv_buf_t b = uv_buf_init((char *)obuf, (unsigned)got);
        int n = uv_try_write((uv_stream_t *)&t->tcp, &b, 1);
        if (n < 0 && n != UV_EAGAIN) return n;
        sent = n > 0 ? (size_t)n : 0;
    }
    size_t left = got - sent; /* in obuf, before what the BIO still holds */
    if (left == 0 && pending == 0) {
        if (cb) cb(&t->tr, arg, 0);
        return 0;
    }
    tls_write_t *w = malloc(sizeof *w + left + pending);
    if (!w) return GN_ENOMEM;
    memcpy(w->data, obuf + sent, left);
    if (pending) BIO_read_ex(t->wbio, w->data + left, pending, &got);
    w->t = t;
    w->cb = cb;
    w->arg = arg;
    uv_buf_t rest = uv_buf_init((char *)w->data, (unsigned)(left + pending));
    int rc = uv_write(&w->req, (uv_stream_t *)&t->tcp, &rest, 1, on_written);
    if (rc < 0) free(w);
    return rc;
}

/* A client's write before the handshake: copied and held (bounded by what its protocol
 * sends unanswered, as TCP's queue is before a connect completes). */
static int hold_early(tls_transport_t *t, const uv_buf_t *bufs, unsigned nbufs,
                      gn_transport_write_cb cb, void *arg)
{
    size_t len = 0;
    for (unsigned i = 0; i < nbufs; i++)
        len += bufs[i].len;
    tls_early_t *e = malloc(sizeof *e + len);
    if (!e) return GN_ENOMEM;
    *e = (tls_early_t){.cb = cb, .arg = arg, .len = len};
    len = 0;
    for (unsigned i = 0; i < nbufs; i++) {
        if (bufs[i].len) memcpy(e->data + len, bufs[i].base, bufs[i].len);
        len += bufs[i].len;
    }
    *t->early_tail = e;
    t->early_tail = &e->next;
    return 0;
}

static int encrypt(tls_transport_t *t, const void *data, size_t len)
{
    size_t done;
    if (len == 0 || SSL_write_ex(t->ssl, data, len, &done) == 1) return 0;
    char reason[160];
    gn__tls_err_text(reason, sizeof reason);
    GN_WARN(t->mod, "TLS write failed | peer=%s reason=\"%s\"", t->peer, reason);
    t->failed = true;
    return GN_EIO;
}

/* The held writes, in order, once the handshake finished; on close, cancelled. */
static int send_early(tls_transport_t *t, int cancel)
{
    int rc = cancel;
    while (t->early) {
        tls_early_t *e = t->early;
        t->early = e->next;
        if (rc == 0 && (rc = encrypt(t, e->data, e->len)) == 0 &&
            (rc = flush_out(t, e->cb, e->arg)) == 0) {
            free(e);
            continue;
        }
        if (e->cb) e->cb(&t->tr, e->arg, rc); /* flush_out never ran it when it failed */
        free(e);
    }
    t->early_tail = &t->early;
    return rc;
}

static int tls_write(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs,
                     gn_transport_write_cb cb, void *arg)
{
    tls_transport_t *t = tr->impl;
    if (t->closing) return UV_ECANCELED;
    if (!t->handshaken && t->client) return hold_early(t, bufs, nbufs, cb, arg);
    if (!t->handshaken) return GN_EIO; /* protocols answer requests: never before */
    ERR_clear_error();
    for (unsigned i = 0; i < nbufs; i++)
        if (encrypt(t, bufs[i].base, bufs[i].len) < 0) return GN_EIO;
    return flush_out(t, cb, arg);
}

static size_t tls_write_queue_size(gn_transport_t *tr)
{
    tls_transport_t *t = tr->impl;
    return t->tcp.write_queue_size;
}

/* ---- reading ------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tls_transport_t *t = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)t->ctx->rbuf, sizeof t->ctx->rbuf);
}

static void log_handshake(tls_transport_t *t)
{
    if (!gn_logger_enabled(GN_LEVEL_DEBUG)) return;
    char subject[256] = "-";
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (cert) {
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
        X509_free(cert);
    }
    GN_DEBUG(t->mod, "TLS handshake done | %s=%s protocol=%s cipher=%s subject=\"%s\"",
             t->client ? "server" : "client", t->peer, SSL_get_version(t->ssl),
             SSL_get_cipher_name(t->ssl), subject);
}

/* A TLS failure: logged with the client and OpenSSL's reason, the alert OpenSSL made
 * sent, the connection closed. */
static void fail(tls_transport_t *t)
{
    char reason[160];
    gn__tls_err_text(reason, sizeof reason);
    long verify = SSL_get_verify_result(t->ssl);
    if (!t->handshaken && verify != X509_V_OK)
        snprintf(reason + strlen(reason), sizeof reason - strlen(reason), " (%s)",
                 X509_verify_cert_error_string(verify));
    GN_WARN(t->mod, "%s; closing | %s=%s reason=\"%s\"",
            t->handshaken ? "TLS error" : "TLS handshake failed", t->client ? "server" : "client",
            t->peer, reason);
    t->failed = true;
    flush_out(t, NULL, NULL);
    tls_close(&t->tr);
}

/* Decrypts what the read BIO holds and hands it on, GN_TLS_PLAIN_BYTES at a time, until
 * OpenSSL needs more ciphertext; sends what the handshake answers. */
static void drain(tls_transport_t *t)
{
    uint8_t *pbuf = t->ctx->pbuf;
    const size_t cap = sizeof t->ctx->pbuf;
    while (!t->closing) {
        size_t got = 0, n;
        int err = SSL_ERROR_NONE;
        ERR_clear_error();
        while (got < cap) {
            if (SSL_read_ex(t->ssl, pbuf + got, cap - got, &n) == 1) {
                got += n;
                continue;
            }
            err = SSL_get_error(t->ssl, 0);
            break;
        }
        if (!t->handshaken && SSL_is_init_finished(t->ssl)) {
            t->handshaken = true;
            log_handshake(t);
            if (send_early(t, 0) < 0) {
                tls_close(&t->tr);
                return;
            }
        }
        if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ && err != SSL_ERROR_ZERO_RETURN) {
            fail(t);
            return;
        }
        if (flush_out(t, NULL, NULL) < 0) { /* handshake messages, session tickets */
            tls_close(&t->tr);
            return;
        }
        if (got > 0 && t->tr.on_read) t->tr.on_read(&t->tr, pbuf, got);
        if (err == SSL_ERROR_ZERO_RETURN) { /* the client's close_notify */
            tls_close(&t->tr);
            return;
        }
        if (err == SSL_ERROR_WANT_READ) return;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    tls_transport_t *t = s->data;
    if (n < 0) {
        /* a server that hangs up on our ClientHello (a plaintext listener does) */
        if (t->client && !t->handshaken)
            GN_WARN(t->mod, "TLS handshake failed; closing | server=%s reason=\"%s\"", t->peer,
                    n == UV_EOF ? "the server closed the connection" : uv_strerror((int)n));
        t->failed = true; /* the socket is gone: no close_notify */
        tls_close(&t->tr);
        return;
    }
    if (n == 0 || t->closing) return;
    size_t put = 0;
    if (BIO_write_ex(t->rbio, buf->base, (size_t)n, &put) != 1 || put != (size_t)n) {
        tls_close(&t->tr);
        return;
    }
    drain(t);
}

static void tls_pause(gn_transport_t *tr)
{
    tls_transport_t *t = tr->impl;
    if (!t->closing) uv_read_stop((uv_stream_t *)&t->tcp);
}

static void tls_resume(gn_transport_t *tr)
{
    tls_transport_t *t = tr->impl;
    if (!t->closing) uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
}

/* ---- closing ------------------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
    tls_transport_t *t = h->data;
    gn_tls_closed_cb closed = t->closed;
    void *arg = t->closed_arg;
    if (t->tr.on_close) t->tr.on_close(&t->tr);
    SSL_free(t->ssl);
    free(t);
    if (closed) closed(arg);
}

static void tls_close(gn_transport_t *tr)
{
    tls_transport_t *t = tr->impl;
    if (t->closing) return;
    t->closing = true;
    send_early(t, UV_ECANCELED);
    if (t->handshaken && !t->failed) { /* close_notify: the client sees a clean end */
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        flush_out(t, NULL, NULL);
    }
    uv_read_stop((uv_stream_t *)&t->tcp);
    uv_close((uv_handle_t *)&t->tcp, on_closed);
}

static void tls_ack_now(gn_transport_t *tr)
{
    tls_transport_t *t = tr->impl;
    if (!t->closing) gn_tcp_ack_now(&t->tcp);
}

static const gn_transport_ops_t tls_ops = {
    .write = tls_write,
    .write_queue_size = tls_write_queue_size,
    .pause_reading = tls_pause,
    .resume_reading = tls_resume,
    .close = tls_close,
    .peer_name = tls_peer_name,
    .local_name = tls_local_name,
    .ack_now = tls_ack_now,
};

/* ---- accepting ----------------------------------------------------------------------- */

/* A transport with its SSL session on memory BIOs, its socket not yet initialised. */
static tls_transport_t *transport_new(gn_tls_ctx_t *ctx, const char *mod)
{
    tls_transport_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ctx = ctx;
    t->mod = mod;
    t->tr.ops = &tls_ops;
    t->tr.kind = "tls";
    t->tr.impl = t;
    t->early_tail = &t->early;
    t->ssl = SSL_new(ctx->ssl);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (!t->ssl || !t->rbio || !t->wbio) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    BIO_set_mem_eof_return(t->rbio, -1); /* empty: "need more", not end of stream */
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    return t;
}

/* The end of accept and connect: the transport handed out, or, when the libuv call
 * failed (rc < 0), closed without the owner's callback. */
static int started(tls_transport_t *t, int rc, gn_tls_closed_cb closed, void *arg,
                   gn_transport_t **out)
{
    if (rc < 0) {
        t->closing = true;
        uv_close((uv_handle_t *)&t->tcp, on_closed);
        return rc;
    }
    t->closed = closed;
    t->closed_arg = arg;
    *out = &t->tr;
    return 0;
}

int gn_tls_transport_accept(gn_tls_ctx_t *ctx, uv_stream_t *listener, const char *mod,
                            gn_tls_closed_cb closed, void *arg, gn_transport_t **out)
{
    *out = NULL;
    tls_transport_t *t = transport_new(ctx, mod);
    if (!t) return GN_ENOMEM;
    SSL_set_accept_state(t->ssl);
    uv_tcp_init(listener->loop, &t->tcp);
    t->tcp.data = t;
    int rc = uv_accept(listener, (uv_stream_t *)&t->tcp);
    if (rc == 0) {
        uv_tcp_nodelay(&t->tcp, 1);
        struct sockaddr_storage ss;
        int len = sizeof ss;
        if (uv_tcp_getpeername(&t->tcp, (struct sockaddr *)&ss, &len) == 0)
            name_of(&ss, t->peer, sizeof t->peer);
        else
            snprintf(t->peer, sizeof t->peer, "-");
    }
    return started(t, rc, closed, arg, out);
}

/* ---- dialling ----------------------------------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
    tls_transport_t *t = req->data;
    if (t->closing) return;
    int rc = status;
    if (rc == 0) {
        uv_tcp_nodelay(&t->tcp, 1);
        rc = uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
    }
    if (rc < 0) {
        GN_DEBUG(t->mod, "connect failed | server=%s err=%s", t->peer, uv_strerror(rc));
        t->failed = true;
        tls_close(&t->tr);
        return;
    }
    ERR_clear_error();
    SSL_do_handshake(t->ssl); /* the ClientHello, into the write BIO */
    if (flush_out(t, NULL, NULL) < 0) {
        t->failed = true;
        tls_close(&t->tr);
    }
}

int gn_tls_transport_connect(gn_tls_ctx_t *ctx, uv_loop_t *loop, const struct sockaddr *addr,
                             const char *mod, gn_tls_closed_cb closed, void *arg,
                             gn_transport_t **out)
{
    *out = NULL;
    if (!ctx->cfg.peers) return GN_EINVAL;
    tls_transport_t *t = transport_new(ctx, mod);
    if (!t) return GN_ENOMEM;
    t->client = true;
    SSL_set_connect_state(t->ssl);
    name_of((const struct sockaddr_storage *)addr, t->peer, sizeof t->peer);
    uv_tcp_init(loop, &t->tcp);
    t->tcp.data = t;
    t->creq.data = t;
    return started(t, uv_tcp_connect(&t->creq, &t->tcp, addr, on_connect), closed, arg, out);
}

bool gn_tls_transport_handshaken(gn_transport_t *tr)
{
    return ((tls_transport_t *)tr->impl)->handshaken;
}

int gn_tls_transport_start(gn_transport_t *tr)
{
    tls_transport_t *t = tr->impl;
    int rc = uv_read_start((uv_stream_t *)&t->tcp, on_alloc, on_read);
    if (rc < 0) tls_close(tr);
    return rc;
}

int gn_tls_transport_peer_subject(gn_transport_t *tr, char *buf, size_t cap)
{
    tls_transport_t *t = (tls_transport_t *)tr;
    if (cap) buf[0] = 0;
    if (!t || !t->ssl || !t->handshaken || cap == 0) return GN_ENOENT;
    X509 *cert = SSL_get_peer_certificate(t->ssl); /* verified: the handshake checked it */
    if (!cert) return GN_ENOENT;
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = GN_ENOMEM;
    if (bio && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        if (len >= 0 && (size_t)len < cap) {
            memcpy(buf, data, (size_t)len);
            buf[len] = 0;
            rc = 0;
        } else {
            rc = GN_EINVAL; /* longer than any principal we keep */
        }
    }
    BIO_free(bio);
    X509_free(cert);
    return rc;
}
