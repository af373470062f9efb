/* SPDX-License-Identifier: Apache-2.0 */
/* The internal RPC (rpc.h): a server dispatching framed JSON requests to handlers by
 * "op", and a client keeping one connection per peer with calls matched by id, over plain
 * TCP or TLS links (rpc_link.c). Buffers are bounded by GN_RPC_FRAME_MAX. Loop thread
 * only. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/rpc.h"
#include "cluster/rpc_link.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

#define HANDLERS_MAX 16

/* ---- framing ---- */

typedef struct rbuf {
    uint8_t *p;
    size_t len, cap;
} rbuf_t;

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

/* Room for at least 64 KiB more in b (len 0 when memory ran out). */
static void room_in(rbuf_t *b, uv_buf_t *room)
{
    *room = uv_buf_init(NULL, 0);
    if (rbuf_reserve(b, 65536) == 0)
        *room = uv_buf_init((char *)b->p + b->len, (unsigned)(b->cap - b->len));
}

static int send_frame(gn_rpc_link_t *link, const json_t *msg, const uint8_t *raw, size_t rawlen)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text) return GN_ENOMEM;
    size_t jl = strlen(text), n = 4 + jl + rawlen;
    uint8_t *head = n + 4 <= GN_RPC_FRAME_MAX ? malloc(8 + jl) : NULL;
    if (!head) {
        free(text);
        return n + 4 > GN_RPC_FRAME_MAX ? GN_ETOOLARGE : GN_ENOMEM;
    }
    wr32(head, (uint32_t)n);
    wr32(head + 4, (uint32_t)jl);
    memcpy(head + 8, text, jl);
    free(text);
    /* the raw bytes (record batches) are not copied into one frame: the link takes both */
    uv_buf_t parts[2] = {uv_buf_init((char *)head, (unsigned)(8 + jl)),
                         uv_buf_init((char *)raw, (unsigned)rawlen)};
    int rc = gn__rpc_link_send(link, parts, rawlen ? 2 : 1);
    free(head);
    return rc < 0 ? GN_EIO : 0;
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
    gn_tls_ctx_t *tls; /* cluster.tls.*: NULL plain TCP */
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
    gn_rpc_link_t *link;
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

static void on_sconn_closed(void *arg)
{
    sconn_t *c = arg;
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
    gn__rpc_link_close(c->link);
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
        if (send_frame(c->link, msg, raw, rawlen) < 0) sconn_kill(c);
    }
    json_decref(msg);
    json_decref(call->id);
    free(call);
    c->pending--;
    sconn_maybe_free(c);
}

static void on_sconn_read(void *arg, ssize_t n)
{
    sconn_t *c = arg;
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

static void on_sconn_alloc(void *arg, uv_buf_t *room)
{
    room_in(&((sconn_t *)arg)->in, room);
}

static const gn_rpc_link_cbs_t sconn_cbs = {on_sconn_alloc, on_sconn_read, on_sconn_closed};

static void on_connection(uv_stream_t *l, int status)
{
    gn_rpc_server_t *srv = l->data;
    if (status < 0) return;
    sconn_t *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->srv = srv;
    if (gn__rpc_link_accept(l, srv->tls, &sconn_cbs, c, &c->link) < 0) {
        free(c);
        return;
    }
    c->id = ++srv->next_conn;
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
}

static void on_server_closed(uv_handle_t *h)
{
    free(h->data);
}

int gn__rpc_server_open(uv_loop_t *loop, const char *address, gn_tls_ctx_t *tls,
                        gn_rpc_server_t **out)
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
    srv->tls = tls;
    uv_tcp_init(loop, &srv->tcp);
    srv->tcp.data = srv;
    if ((rc = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&ss, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&srv->tcp, 64, on_connection)) < 0) {
        GN_ERROR("cluster", "cannot listen for the internal RPC | address=%s err=%s", address,
                 uv_strerror(rc));
        uv_close((uv_handle_t *)&srv->tcp, on_server_closed); /* frees srv */
        return rc == UV_EADDRINUSE ? -EADDRINUSE : GN_EIO;
    }
    GN_INFO("cluster", "internal RPC listening | address=%s tls=%s", address,
            tls ? "true" : "false");
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
    gn_rpc_link_t *link;
    gn_rpc_client_t *cli; /* NULL once detached */
    rbuf_t in;
} cconn_t;

struct gn_rpc_client {
    uv_loop_t *loop;
    gn_tls_ctx_t *tls; /* cluster.tls.*: NULL plain TCP */
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

static void on_cconn_closed(void *arg)
{
    cconn_t *c = arg;
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
        gn__rpc_link_close(c->link);
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

static void on_cconn_alloc(void *arg, uv_buf_t *room)
{
    room_in(&((cconn_t *)arg)->in, room);
}

static void resolve_again(gn_rpc_client_t *cli);

/* n < 0: the connect failed or the connection ended: the peer's name is looked up
 * again for the next one (it may point elsewhere now). */
static void on_cconn_read(void *arg, ssize_t n)
{
    cconn_t *c = arg;
    gn_rpc_client_t *cli = c->cli;
    if (!cli) return;
    if (n < 0) {
        resolve_again(cli);
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

static const gn_rpc_link_cbs_t cconn_cbs = {on_cconn_alloc, on_cconn_read, on_cconn_closed};

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

gn_rpc_client_t *gn__rpc_client_new(uv_loop_t *loop, const char *address, gn_tls_ctx_t *tls)
{
    gn_rpc_client_t *cli = calloc(1, sizeof(*cli));
    if (!cli) return NULL;
    cli->loop = loop;
    cli->tls = tls;
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
        c->cli = cli;
        if (gn__rpc_link_connect(cli->loop, (struct sockaddr *)&cli->ss, cli->tls, &cconn_cbs, c,
                                 &c->link) < 0) {
            free(c);
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
    int rc = send_frame(cli->conn->link, msg, raw, rawlen);
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
