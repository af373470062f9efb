/* SPDX-License-Identifier: Apache-2.0 */
/* The internal RPC (rpc.h): a TCP server dispatching framed JSON requests to handlers by
 * "op", and a client keeping one connection per peer with calls matched by id. Buffers
 * are bounded by GN_RPC_FRAME_MAX. Loop thread only. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/rpc.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

#define HANDLERS_MAX 16

/* ---- framing ---- */

typedef struct rbuf {
    uint8_t *p;
    size_t len, cap;
} rbuf_t;

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out);

static int rbuf_reserve(rbuf_t *b, size_t want)
{
    if (b->cap - b->len >= want) return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap - b->len < want)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return GN_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* Frames whole messages out of b; calls each per frame. <0: protocol error. */
typedef void (*frame_cb)(void *arg, const json_t *msg, const uint8_t *raw, size_t rawlen);
static int drain(rbuf_t *b, frame_cb each, void *arg)
{
    size_t off = 0;
    int rc = 0;
    while (b->len - off >= 4) {
        uint32_t n = rd32(b->p + off);
        if (n < 4 || n > GN_RPC_FRAME_MAX) {
            rc = GN_EINVALID_REQUEST;
            break;
        }
        if (b->len - off - 4 < n) break;
        const uint8_t *f = b->p + off + 4;
        uint32_t jl = rd32(f);
        if (jl > n - 4) {
            rc = GN_EINVALID_REQUEST;
            break;
        }
        json_t *msg = json_loadb((const char *)f + 4, jl, 0, NULL);
        if (!json_is_object(msg)) {
            json_decref(msg);
            rc = GN_EINVALID_REQUEST;
            break;
        }
        each(arg, msg, f + 4 + jl, n - 4 - jl);
        json_decref(msg);
        off += 4 + n;
    }
    memmove(b->p, b->p + off, b->len - off);
    b->len -= off;
    return rc;
}

typedef struct wreq {
    uv_write_t req;
    uint8_t *buf;
} wreq_t;

static void on_written(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    free(w->buf);
    free(w);
}

static int send_frame(uv_stream_t *s, const json_t *msg, const uint8_t *raw, size_t rawlen)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) return GN_ENOMEM;
    size_t jl = strlen(text), n = 4 + jl + rawlen;
    wreq_t *w = malloc(sizeof(*w));
    uint8_t *buf = n + 4 <= GN_RPC_FRAME_MAX ? malloc(n + 4) : NULL;
    if (!w || !buf) {
        free(text);
        free(w);
        free(buf);
        return n + 4 > GN_RPC_FRAME_MAX ? GN_ETOOLARGE : GN_ENOMEM;
    }
    wr32(buf, (uint32_t)n);
    wr32(buf + 4, (uint32_t)jl);
    memcpy(buf + 8, text, jl);
    if (rawlen) memcpy(buf + 8 + jl, raw, rawlen);
    free(text);
    w->buf = buf;
    uv_buf_t ub = uv_buf_init((char *)buf, (unsigned)(n + 4));
    int rc = uv_write(&w->req, s, &ub, 1, on_written);
    if (rc < 0) {
        free(buf);
        free(w);
        return GN_EIO;
    }
    return 0;
}

static int resolve(const char *address, struct sockaddr_storage *ss)
{
    char host[256];
    const char *colon = strrchr(address, ':');
    if (!colon || (size_t)(colon - address) >= sizeof(host)) return GN_EINVAL;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host[0] ? host : "0.0.0.0", colon + 1, &hints, &res) != 0 || !res)
        return GN_EINVAL;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

/* ---- server ---- */

typedef struct sconn sconn_t;
struct gn_rpc_server {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    struct {
        char op[32];
        gn_rpc_handler_cb cb;
        void *arg;
    } handlers[HANDLERS_MAX];
    size_t nhandlers;
    sconn_t *conns;
    uint64_t next_conn;
    gn_rpc_conn_closed_cb on_closed;
    void *on_closed_arg;
};

struct sconn {
    uv_tcp_t tcp;
    gn_rpc_server_t *srv; /* NULL once the server closed */
    rbuf_t in;
    int pending; /* calls not answered yet */
    bool closed; /* the handle's close completed */
    bool dead;
    uint64_t id;
    sconn_t *prev, *next;
};

struct gn_rpc_call {
    sconn_t *conn;
    json_t *id;
};

static void sconn_maybe_free(sconn_t *c)
{
    if (c->closed && c->pending == 0) {
        free(c->in.p);
        free(c);
    }
}

static void on_sconn_closed(uv_handle_t *h)
{
    sconn_t *c = h->data;
    c->closed = true;
    sconn_maybe_free(c);
}

static void sconn_kill(sconn_t *c)
{
    if (c->dead) return;
    c->dead = true;
    if (c->srv) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->srv->conns = c->next;
        if (c->next) c->next->prev = c->prev;
        if (c->srv->on_closed) c->srv->on_closed(c->srv->on_closed_arg, c->id);
    }
    uv_close((uv_handle_t *)&c->tcp, on_sconn_closed);
}

static void on_request(void *arg, const json_t *msg, const uint8_t *raw, size_t rawlen)
{
    sconn_t *c = arg;
    if (c->dead || !c->srv) return;
    const char *op = json_string_value(json_object_get(msg, "op"));
    gn_rpc_call_t *call = malloc(sizeof(*call));
    if (!call) return;
    call->conn = c;
    call->id = json_incref(json_object_get(msg, "id"));
    c->pending++;
    for (size_t i = 0; op && i < c->srv->nhandlers; i++) {
        if (strcmp(c->srv->handlers[i].op, op) == 0) {
            c->srv->handlers[i].cb(c->srv->handlers[i].arg, call, msg, raw, rawlen);
            return;
        }
    }
    gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
}

void gn__rpc_reply(gn_rpc_call_t *call, int status, json_t *resp, const uint8_t *raw, size_t rawlen)
{
    sconn_t *c = call->conn;
    json_t *msg = resp ? json_incref(resp) : json_object();
    if (msg && !c->dead) {
        json_object_set(msg, "id", call->id ? call->id : json_null());
        json_object_set_new(msg, "status", json_integer(status));
        if (send_frame((uv_stream_t *)&c->tcp, msg, raw, rawlen) < 0) sconn_kill(c);
    }
    json_decref(msg);
    json_decref(call->id);
    free(call);
    c->pending--;
    sconn_maybe_free(c);
}

static void on_sconn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    sconn_t *c = s->data;
    if (n < 0) {
        sconn_kill(c);
        return;
    }
    c->in.len += (size_t)n;
    c->pending++; /* the conn stays while its frames run */
    if (drain(&c->in, on_request, c) < 0) sconn_kill(c);
    c->pending--;
    sconn_maybe_free(c);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    rbuf_t *b = h->type == UV_TCP ? &((sconn_t *)h->data)->in : NULL;
    (void)hint;
    *out = uv_buf_init(NULL, 0);
    if (b && rbuf_reserve(b, 65536) == 0)
        *out = uv_buf_init((char *)b->p + b->len, (unsigned)(b->cap - b->len));
}

static void on_connection(uv_stream_t *l, int status)
{
    gn_rpc_server_t *srv = l->data;
    if (status < 0) return;
    sconn_t *c = calloc(1, sizeof(*c));
    if (!c) return;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    c->srv = srv;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0) {
        c->dead = true;
        uv_close((uv_handle_t *)&c->tcp, on_sconn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->id = ++srv->next_conn;
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_sconn_read);
}

static void on_server_closed(uv_handle_t *h)
{
    free(h->data);
}

int gn__rpc_server_open(uv_loop_t *loop, const char *address, gn_rpc_server_t **out)
{
    struct sockaddr_storage ss;
    int rc = resolve(address, &ss);
    if (rc < 0) {
        GN_ERROR("cluster", "bad cluster.listener address | address=%s", address);
        return GN_EINVALID_CONFIG;
    }
    gn_rpc_server_t *srv = calloc(1, sizeof(*srv));
    if (!srv) return GN_ENOMEM;
    srv->loop = loop;
    uv_tcp_init(loop, &srv->tcp);
    srv->tcp.data = srv;
    if ((rc = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&ss, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&srv->tcp, 64, on_connection)) < 0) {
        GN_ERROR("cluster", "cannot listen for the internal RPC | address=%s err=%s", address,
                 uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->tcp, on_server_closed); /* frees srv */
        return rc == UV_EADDRINUSE ? -EADDRINUSE : GN_EIO;
    }
    GN_INFO("cluster", "internal RPC listening | address=%s", address);
    *out = srv;
    return 0;
}

int gn__rpc_server_handle(gn_rpc_server_t *srv, const char *op, gn_rpc_handler_cb cb, void *arg)
{
    if (srv->nhandlers >= HANDLERS_MAX) return GN_ENOMEM;
    snprintf(srv->handlers[srv->nhandlers].op, sizeof(srv->handlers[0].op), "%s", op);
    srv->handlers[srv->nhandlers].cb = cb;
    srv->handlers[srv->nhandlers].arg = arg;
    srv->nhandlers++;
    return 0;
}

uint64_t gn__rpc_call_conn(const gn_rpc_call_t *call)
{
    return call->conn->id;
}

void gn__rpc_server_on_conn_closed(gn_rpc_server_t *srv, gn_rpc_conn_closed_cb cb, void *arg)
{
    srv->on_closed = cb;
    srv->on_closed_arg = arg;
}

void gn__rpc_server_close(gn_rpc_server_t *srv)
{
    if (!srv) return;
    srv->on_closed = NULL;
    while (srv->conns) {
        sconn_t *c = srv->conns;
        sconn_kill(c); /* unlinks */
        c->srv = NULL;
    }
    uv_close((uv_handle_t *)&srv->tcp, on_server_closed);
}

/* ---- client ---- */

typedef struct pending {
    int64_t id;
    uint64_t deadline; /* uv_now */
    gn_rpc_answer_cb cb;
    void *arg;
    struct pending *next;
} pending_t;

typedef struct cconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    gn_rpc_client_t *cli; /* NULL once detached */
    rbuf_t in;
} cconn_t;

struct gn_rpc_client {
    uv_loop_t *loop;
    char address[128];
    /* resolved at the first connect and kept; after a failed connect resolved again on the
     * thread pool (the name may point elsewhere now). Never on the loop again: getaddrinfo
     * blocks, and a name whose container is gone took seconds to fail (Docker's DNS
     * forwarding it), every retry of every follower of a dead leader */
    struct sockaddr_storage ss;
    bool resolved, resolving, timer_closed;
    uv_getaddrinfo_t gai;
    cconn_t *conn;
    pending_t *pending;
    int64_t next_id;
    uv_timer_t timer;
    bool freeing;
};

static void on_cconn_closed(uv_handle_t *h)
{
    cconn_t *c = h->data;
    free(c->in.p);
    free(c);
}

static void fail_all(gn_rpc_client_t *cli, int status)
{
    pending_t *p = cli->pending;
    cli->pending = NULL;
    while (p) {
        pending_t *nx = p->next;
        p->cb(p->arg, status, NULL, NULL, 0);
        free(p);
        p = nx;
    }
}

static void reset(gn_rpc_client_t *cli, int status)
{
    cconn_t *c = cli->conn;
    if (c) {
        cli->conn = NULL;
        c->cli = NULL;
        uv_close((uv_handle_t *)&c->tcp, on_cconn_closed);
    }
    fail_all(cli, status);
}

static void on_answer(void *arg, const json_t *msg, const uint8_t *raw, size_t rawlen)
{
    gn_rpc_client_t *cli = arg;
    int64_t id = json_integer_value(json_object_get(msg, "id"));
    for (pending_t **pp = &cli->pending; *pp; pp = &(*pp)->next) {
        if ((*pp)->id != id) continue;
        pending_t *p = *pp;
        *pp = p->next;
        int status = (int)json_integer_value(json_object_get(msg, "status"));
        p->cb(p->arg, 0, msg, raw, rawlen);
        (void)status;
        free(p);
        return;
    }
}

static void on_cconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    cconn_t *c = h->data;
    *out = uv_buf_init(NULL, 0);
    if (rbuf_reserve(&c->in, 65536) == 0)
        *out = uv_buf_init((char *)c->in.p + c->in.len, (unsigned)(c->in.cap - c->in.len));
}

static void on_cconn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    cconn_t *c = s->data;
    gn_rpc_client_t *cli = c->cli;
    if (!cli) return;
    if (n < 0) {
        reset(cli, GN_EIO);
        return;
    }
    c->in.len += (size_t)n;
    if (drain(&c->in, on_answer, cli) < 0 && cli->conn == c) reset(cli, GN_EIO);
}

static void client_maybe_free(gn_rpc_client_t *cli)
{
    if (cli->freeing && cli->timer_closed && !cli->resolving) free(cli);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    gn_rpc_client_t *cli = req->data;
    cli->resolving = false;
    if (status == 0 && res && res->ai_addrlen <= sizeof(cli->ss) && !cli->freeing)
        memcpy(&cli->ss, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    client_maybe_free(cli);
}

/* The address looked up again, off the loop, for the next connect. */
static void resolve_again(gn_rpc_client_t *cli)
{
    char host[256];
    const char *colon = strrchr(cli->address, ':');
    if (cli->resolving || !colon || (size_t)(colon - cli->address) >= sizeof(host)) return;
    memcpy(host, cli->address, (size_t)(colon - cli->address));
    host[colon - cli->address] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    cli->gai.data = cli;
    if (uv_getaddrinfo(cli->loop, &cli->gai, on_resolved, host[0] ? host : "0.0.0.0", colon + 1,
                       &hints) == 0)
        cli->resolving = true;
}

static void on_connect(uv_connect_t *req, int status)
{
    cconn_t *c = req->data;
    gn_rpc_client_t *cli = c->cli;
    if (!cli) return;
    if (status < 0) {
        resolve_again(cli);
        reset(cli, GN_EIO);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_cconn_alloc, on_cconn_read);
}

static void on_client_timer(uv_timer_t *t)
{
    gn_rpc_client_t *cli = t->data;
    uint64_t now = uv_now(cli->loop);
    for (pending_t **pp = &cli->pending; *pp;) {
        pending_t *p = *pp;
        if (p->deadline > now) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        p->cb(p->arg, GN_ETIMEOUT, NULL, NULL, 0);
        free(p);
    }
    if (!cli->pending) uv_timer_stop(t);
}

gn_rpc_client_t *gn__rpc_client_new(uv_loop_t *loop, const char *address)
{
    gn_rpc_client_t *cli = calloc(1, sizeof(*cli));
    if (!cli) return NULL;
    cli->loop = loop;
    snprintf(cli->address, sizeof(cli->address), "%s", address);
    uv_timer_init(loop, &cli->timer);
    cli->timer.data = cli;
    cli->next_id = 1;
    return cli;
}

const char *gn__rpc_client_address(const gn_rpc_client_t *cli)
{
    return cli->address;
}

int gn__rpc_call(gn_rpc_client_t *cli, const json_t *req, const uint8_t *raw, size_t rawlen,
                 int64_t timeout_ms, gn_rpc_answer_cb cb, void *arg)
{
    if (cli->freeing) return GN_ESHUTDOWN;
    if (!cli->conn) {
        if (!cli->resolved && resolve(cli->address, &cli->ss) < 0) return GN_EINVAL;
        cli->resolved = true;
        cconn_t *c = calloc(1, sizeof(*c));
        if (!c) return GN_ENOMEM;
        uv_tcp_init(cli->loop, &c->tcp);
        c->tcp.data = c;
        c->creq.data = c;
        c->cli = cli;
        if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&cli->ss, on_connect) < 0) {
            uv_close((uv_handle_t *)&c->tcp, on_cconn_closed);
            return GN_EIO;
        }
        cli->conn = c;
    }
    pending_t *p = calloc(1, sizeof(*p));
    json_t *msg = json_deep_copy(req);
    if (!p || !msg) {
        free(p);
        json_decref(msg);
        return GN_ENOMEM;
    }
    p->id = cli->next_id++;
    json_object_set_new(msg, "id", json_integer(p->id));
    int rc = send_frame((uv_stream_t *)&cli->conn->tcp, msg, raw, rawlen);
    json_decref(msg);
    if (rc < 0) {
        free(p);
        return rc;
    }
    p->cb = cb;
    p->arg = arg;
    p->deadline = uv_now(cli->loop) + (uint64_t)(timeout_ms > 0 ? timeout_ms : 5000);
    p->next = cli->pending;
    cli->pending = p;
    if (!uv_is_active((uv_handle_t *)&cli->timer))
        uv_timer_start(&cli->timer, on_client_timer, 50, 50);
    return 0;
}

static void on_client_timer_closed(uv_handle_t *h)
{
    gn_rpc_client_t *cli = h->data;
    cli->timer_closed = true;
    client_maybe_free(cli);
}

void gn__rpc_client_free(gn_rpc_client_t *cli)
{
    if (!cli) return;
    cli->freeing = true;
    if (cli->resolving) uv_cancel((uv_req_t *)&cli->gai); /* or it completes: freed then */
    reset(cli, GN_ESHUTDOWN);
    uv_close((uv_handle_t *)&cli->timer, on_client_timer_closed);
}
