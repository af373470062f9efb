/* SPDX-License-Identifier: Apache-2.0 */
/* libraft's transport over TLS (raft_tls.h). raft wants a uv_stream_t per connection; it
 * gets one end of a socketpair (a uv_pipe_t) and this file relays bytes between the
 * other end and a core/tls transport: plaintext from raft is encrypted to the peer,
 * plaintext from the peer is written to raft. A dialling broker first sends a preamble
 * naming its raft id and address (raft's accept callback wants them). Each direction is
 * bounded: past RELAY_QUEUE_MAX queued, the side feeding it is paused. Loop thread. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/raft_tls.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

#define MOD             "raft"
#define PREAMBLE_MAX    (GN_RAFT_TLS_PREAMBLE_HEAD + GN_RAFT_TLS_ADDRESS_MAX)
#define RELAY_QUEUE_MAX (4u << 20) /* bytes waiting in either direction before pausing */

typedef struct relay relay_t;

typedef struct rtls {
    struct raft_uv_transport *t;
    uv_loop_t *loop;
    gn_tls_ctx_t *tls;
    raft_id id;
    char address[GN_RAFT_TLS_ADDRESS_MAX + 1];
    uv_tcp_t listener;
    bool listening;
    raft_uv_accept_cb accept_cb;
    relay_t *relays;
    raft_uv_transport_close_cb close_cb;
    bool closing;
    uint8_t buf[64u << 10]; /* one read from a raft end, encrypted before the next */
} rtls_t;

struct relay {
    rtls_t *rt;
    gn_transport_t *tr; /* NULL once its memory is gone */
    uv_pipe_t pipe;     /* our end of the socketpair */
    bool has_pipe, pipe_closed, closing, pipe_paused;
    struct raft_uv_connect *req; /* a dial not answered yet */
    raft_uv_connect_cb cb;
    uint8_t pre[PREAMBLE_MAX]; /* an accepted connection's preamble, until whole */
    size_t pre_len;
    bool pre_done;
    relay_t *prev, *next;
};

typedef struct pipe_write {
    uv_write_t req;
    relay_t *r;
    uint8_t data[];
} pipe_write_t;

/* ---- the preamble ------------------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

size_t gn__raft_tls_preamble(uint8_t *buf, raft_id id, const char *address)
{
    size_t alen = strlen(address);
    if (alen == 0 || alen > GN_RAFT_TLS_ADDRESS_MAX) return 0;
    put64(buf, 1);
    put64(buf + 8, id);
    put64(buf + 16, alen);
    memcpy(buf + GN_RAFT_TLS_PREAMBLE_HEAD, address, alen);
    return GN_RAFT_TLS_PREAMBLE_HEAD + alen;
}

int gn__raft_tls_preamble_parse(const uint8_t *buf, size_t len, raft_id *id,
                                char address[GN_RAFT_TLS_ADDRESS_MAX + 1])
{
    if (len >= 8 && get64(buf) != 1) return GN_EINVAL;
    if (len < GN_RAFT_TLS_PREAMBLE_HEAD) return 0;
    uint64_t alen = get64(buf + 16);
    if (alen == 0 || alen > GN_RAFT_TLS_ADDRESS_MAX) return GN_EINVAL;
    if (len < GN_RAFT_TLS_PREAMBLE_HEAD + alen) return 0;
    *id = get64(buf + 8);
    memcpy(address, buf + GN_RAFT_TLS_PREAMBLE_HEAD, alen);
    address[alen] = 0;
    if (strlen(address) != alen) return GN_EINVAL; /* a NUL inside */
    return (int)(GN_RAFT_TLS_PREAMBLE_HEAD + alen);
}

/* ---- closing ------------------------------------------------------------------------ */

static void maybe_fire_close(rtls_t *rt)
{
    if (!rt->closing || rt->listening || rt->relays || !rt->close_cb) return;
    raft_uv_transport_close_cb cb = rt->close_cb;
    rt->close_cb = NULL;
    cb(rt->t);
}

static void maybe_free(relay_t *r)
{
    if (!r->closing || r->tr || (r->has_pipe && !r->pipe_closed)) return;
    rtls_t *rt = r->rt;
    if (r->prev)
        r->prev->next = r->next;
    else
        rt->relays = r->next;
    if (r->next) r->next->prev = r->prev;
    free(r);
    maybe_fire_close(rt);
}

static void answer(relay_t *r, struct uv_stream_s *stream, int status)
{
    struct raft_uv_connect *req = r->req;
    r->req = NULL;
    if (req) r->cb(req, stream, status);
}

static void on_pipe_closed(uv_handle_t *h)
{
    relay_t *r = h->data;
    r->pipe_closed = true;
    maybe_free(r);
}

/* Either side ended (or the transport closes): both go; a dial not answered yet fails. */
static void relay_close(relay_t *r)
{
    if (r->closing) return;
    r->closing = true;
    answer(r, NULL, r->rt->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
    if (r->tr) r->tr->ops->close(r->tr);
    if (r->has_pipe) uv_close((uv_handle_t *)&r->pipe, on_pipe_closed);
    maybe_free(r);
}

static void on_tls_close(gn_transport_t *tr)
{
    relay_close(tr->session); /* the transport logged why, when TLS failed */
}

static void on_tls_closed(void *arg)
{
    relay_t *r = arg;
    r->tr = NULL;
    maybe_free(r);
}

/* ---- raft -> peer --------------------------------------------------------------------- */

static void on_pipe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    relay_t *r = h->data;
    (void)hint;
    *buf = uv_buf_init((char *)r->rt->buf, sizeof r->rt->buf);
}

static void on_pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_tls_written(gn_transport_t *tr, void *arg, int status)
{
    relay_t *r = arg;
    (void)status; /* a failure closes the transport */
    if (!r->pipe_paused || r->closing || tr->ops->write_queue_size(tr) > RELAY_QUEUE_MAX / 2)
        return;
    r->pipe_paused = false;
    uv_read_start((uv_stream_t *)&r->pipe, on_pipe_alloc, on_pipe_read);
}

static void on_pipe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    relay_t *r = s->data;
    if (n < 0) { /* raft closed its end */
        relay_close(r);
        return;
    }
    if (n == 0 || r->closing || !r->tr) return;
    uv_buf_t b = uv_buf_init(buf->base, (unsigned)n);
    if (r->tr->ops->write(r->tr, &b, 1, on_tls_written, r) < 0) { /* encrypted: buf free */
        relay_close(r);
        return;
    }
    if (!r->closing && r->tr && r->tr->ops->write_queue_size(r->tr) > RELAY_QUEUE_MAX) {
        r->pipe_paused = true;
        uv_read_stop(s);
    }
}

/* The socketpair: our end read by the relay, the other (raft_malloc'd, as raft frees it)
 * for raft. 0 or a negative error. */
static int make_pipe(relay_t *r, uv_pipe_t **raft_end)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return GN_EIO;
    uv_pipe_t *p = raft_malloc(sizeof *p);
    if (!p) {
        close(fds[0]);
        close(fds[1]);
        return GN_ENOMEM;
    }
    uv_pipe_init(r->rt->loop, &r->pipe, 0);
    r->pipe.data = r;
    r->has_pipe = true;
    uv_pipe_init(r->rt->loop, p, 0);
    int rc = uv_pipe_open(&r->pipe, fds[0]);
    if (rc == 0) rc = uv_pipe_open(p, fds[1]);
    if (rc == 0) rc = uv_read_start((uv_stream_t *)&r->pipe, on_pipe_alloc, on_pipe_read);
    if (rc < 0) {
        close(fds[1]); /* fds[0] goes with r->pipe */
        uv_close((uv_handle_t *)p, (uv_close_cb)raft_free);
        return rc;
    }
    *raft_end = p;
    return 0;
}

/* ---- peer -> raft --------------------------------------------------------------------- */

static void on_pipe_written(uv_write_t *req, int status)
{
    pipe_write_t *w = (pipe_write_t *)req;
    relay_t *r = w->r;
    free(w);
    if (status < 0 || r->closing) return;
    if (r->tr && r->pipe.write_queue_size <= RELAY_QUEUE_MAX / 2) r->tr->ops->resume_reading(r->tr);
}

/* Plaintext from the peer (borrowed) to raft: at once where the socketpair takes it, the
 * rest copied and queued; reading from the peer pauses past the bound. */
static void to_raft(relay_t *r, const uint8_t *data, size_t len)
{
    size_t sent = 0;
    if (r->pipe.write_queue_size == 0) {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&r->pipe, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            relay_close(r);
            return;
        }
        sent = n > 0 ? (size_t)n : 0;
    }
    if (sent == len) return;
    pipe_write_t *w = malloc(sizeof *w + len - sent);
    if (!w) {
        relay_close(r);
        return;
    }
    w->r = r;
    memcpy(w->data, data + sent, len - sent);
    uv_buf_t rest = uv_buf_init((char *)w->data, (unsigned)(len - sent));
    if (uv_write(&w->req, (uv_stream_t *)&r->pipe, &rest, 1, on_pipe_written) < 0) {
        free(w);
        relay_close(r);
        return;
    }
    if (r->pipe.write_queue_size > RELAY_QUEUE_MAX) r->tr->ops->pause_reading(r->tr);
}

/* An accepted connection's first bytes: the preamble; then raft gets its stream. */
static size_t take_preamble(relay_t *r, const uint8_t *data, size_t len)
{
    size_t take = sizeof r->pre - r->pre_len < len ? sizeof r->pre - r->pre_len : len;
    memcpy(r->pre + r->pre_len, data, take);
    raft_id id = 0;
    char address[GN_RAFT_TLS_ADDRESS_MAX + 1];
    int n = gn__raft_tls_preamble_parse(r->pre, r->pre_len + take, &id, address);
    char peer[64] = "-";
    if (n == 0) {
        r->pre_len += take;
        return take;
    }
    if (n < 0) {
        r->tr->ops->peer_name(r->tr, peer, sizeof peer);
        GN_WARN(MOD, "not a Raft peer's preamble; closing | client=%s", peer);
        relay_close(r);
        return len;
    }
    size_t used = (size_t)n - r->pre_len; /* of this read */
    r->pre_done = true;
    uv_pipe_t *raft_end = NULL;
    if (r->rt->closing || !r->rt->accept_cb || make_pipe(r, &raft_end) < 0) {
        relay_close(r);
        return len;
    }
    r->rt->accept_cb(r->rt->t, id, address, (struct uv_stream_s *)raft_end);
    return used;
}

static void on_tls_read(gn_transport_t *tr, const uint8_t *data, size_t len)
{
    relay_t *r = tr->session;
    if (!r->pre_done) {
        size_t used = take_preamble(r, data, len);
        data += used;
        len -= used;
    }
    if (len > 0 && !r->closing && r->has_pipe) to_raft(r, data, len);
}

/* ---- the transport -------------------------------------------------------------------- */

static relay_t *relay_new(rtls_t *rt)
{
    relay_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->rt = rt;
    r->next = rt->relays;
    if (rt->relays) rt->relays->prev = r;
    rt->relays = r;
    return r;
}

static void relay_attach(relay_t *r)
{
    r->tr->session = r;
    r->tr->on_read = on_tls_read;
    r->tr->on_close = on_tls_close;
}

static int rtls_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    rtls_t *rt = t->impl;
    rt->id = id;
    if (strlen(address) > GN_RAFT_TLS_ADDRESS_MAX) return RAFT_NAMETOOLONG;
    snprintf(rt->address, sizeof rt->address, "%s", address);
    return 0;
}

static int ip4(const char *address, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(address, ':');
    if (!colon || (size_t)(colon - address) >= sizeof host) return GN_EINVAL;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = 0;
    return uv_ip4_addr(host, atoi(colon + 1), sa) == 0 ? 0 : GN_EINVAL;
}

static void on_accept(uv_stream_t *listener, int status)
{
    rtls_t *rt = listener->data;
    if (status < 0 || rt->closing) return;
    relay_t *r = relay_new(rt);
    if (!r) return;
    if (gn_tls_transport_accept(rt->tls, listener, MOD, on_tls_closed, r, &r->tr) < 0) {
        r->closing = true;
        maybe_free(r); /* nothing was made */
        return;
    }
    r->pre_done = false;
    relay_attach(r);
    if (gn_tls_transport_start(r->tr) < 0) relay_close(r); /* the transport is closing */
}

static int rtls_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    rtls_t *rt = t->impl;
    struct sockaddr_in sa;
    int rc;
    if (ip4(rt->address, &sa) < 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "bad address %.200s", rt->address);
        return RAFT_INVALID;
    }
    rt->accept_cb = cb;
    uv_tcp_init(rt->loop, &rt->listener);
    rt->listener.data = rt;
    rt->listening = true;
    if ((rc = uv_tcp_bind(&rt->listener, (struct sockaddr *)&sa, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&rt->listener, 64, on_accept)) < 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "listen on %.200s: %s", rt->address, uv_strerror(rc));
        return RAFT_IOERR; /* the listener closes with the transport */
    }
    GN_INFO(MOD, "Raft transport listening over TLS | address=%s", rt->address);
    return 0;
}

/* The preamble left (after the handshake: held until then): raft gets its stream. */
static void on_preamble_sent(gn_transport_t *tr, void *arg, int status)
{
    relay_t *r = arg;
    uv_pipe_t *raft_end = NULL;
    (void)tr;
    if (status < 0 || r->closing || make_pipe(r, &raft_end) < 0) {
        relay_close(r);
        return;
    }
    answer(r, (struct uv_stream_s *)raft_end, 0);
}

static int rtls_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                        const char *address, raft_uv_connect_cb cb)
{
    rtls_t *rt = t->impl;
    struct sockaddr_in sa;
    uint8_t pre[PREAMBLE_MAX];
    size_t plen = gn__raft_tls_preamble(pre, rt->id, rt->address);
    (void)id;
    if (rt->closing) return RAFT_CANCELED;
    if (plen == 0 || ip4(address, &sa) < 0) return RAFT_NOCONNECTION;
    relay_t *r = relay_new(rt);
    if (!r) return RAFT_NOMEM;
    r->pre_done = true; /* a dialled connection reads no preamble */
    if (gn_tls_transport_connect(rt->tls, rt->loop, (struct sockaddr *)&sa, MOD, on_tls_closed, r,
                                 &r->tr) < 0) {
        r->closing = true;
        maybe_free(r);
        return RAFT_NOCONNECTION;
    }
    relay_attach(r);
    uv_buf_t b = uv_buf_init((char *)pre, (unsigned)plen);
    if (r->tr->ops->write(r->tr, &b, 1, on_preamble_sent, r) < 0) {
        relay_close(r); /* nothing to answer yet: the call fails */
        return RAFT_NOCONNECTION;
    }
    r->req = req;
    r->cb = cb;
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    rtls_t *rt = h->data;
    rt->listening = false;
    maybe_fire_close(rt);
}

static void rtls_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    rtls_t *rt = t->impl;
    rt->closing = true;
    rt->close_cb = cb;
    rt->accept_cb = NULL;
    for (relay_t *r = rt->relays, *next; r; r = next) {
        next = r->next; /* r may go at once */
        relay_close(r);
    }
    if (rt->listening)
        uv_close((uv_handle_t *)&rt->listener, on_listener_closed);
    else
        maybe_fire_close(rt);
}

int gn__raft_tls_init(struct raft_uv_transport *t, uv_loop_t *loop, gn_tls_ctx_t *tls)
{
    rtls_t *rt = calloc(1, sizeof *rt);
    if (!rt) return RAFT_NOMEM;
    rt->t = t;
    rt->loop = loop;
    rt->tls = tls;
    t->impl = rt;
    t->init = rtls_init;
    t->listen = rtls_listen;
    t->connect = rtls_connect;
    t->close = rtls_close;
    return 0;
}

void gn__raft_tls_free(struct raft_uv_transport *t)
{
    free(t->impl);
    t->impl = NULL;
}
