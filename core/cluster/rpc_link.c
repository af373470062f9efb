/* SPDX-License-Identifier: Apache-2.0 */
/* One connection of the internal RPC (rpc_link.h): plain TCP read straight into the
 * owner's buffer, or core/tls's transport whose plaintext is copied into it. Accepted by
 * rpc.c's server, dialled by its client. Loop thread only. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/rpc_link.h"
#include "ganglion/error.h"

struct gn_rpc_link {
    uv_tcp_t tcp; /* plain */
    uv_connect_t creq;
    gn_transport_t *tr; /* TLS */
    const gn_rpc_link_cbs_t *cbs;
    void *arg;
    bool ended;   /* read(< 0) given */
    bool closing; /* the owner closed it */
    bool silent;  /* failed while being made: freed without the owner's callbacks */
};

typedef struct link_write {
    uv_write_t req;
    uint8_t data[];
} link_write_t;

static void end(gn_rpc_link_t *link, ssize_t status)
{
    if (link->ended || link->closing) return;
    link->ended = true;
    if (!link->tr) uv_read_stop((uv_stream_t *)&link->tcp);
    link->cbs->read(link->arg, status);
}

/* ---- plain TCP ------------------------------------------------------------------------ */

static void on_plain_alloc(uv_handle_t *h, size_t hint, uv_buf_t *room)
{
    gn_rpc_link_t *link = h->data;
    (void)hint;
    link->cbs->alloc(link->arg, room);
}

static void on_plain_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    gn_rpc_link_t *link = s->data;
    (void)buf;
    if (n < 0)
        end(link, n == UV_ENOBUFS ? GN_ENOMEM : n);
    else if (n > 0 && !link->ended && !link->closing)
        link->cbs->read(link->arg, n);
}

static void on_plain_connect(uv_connect_t *req, int status)
{
    gn_rpc_link_t *link = req->data;
    if (link->closing) return;
    if (status == 0) {
        uv_tcp_nodelay(&link->tcp, 1);
        status = uv_read_start((uv_stream_t *)&link->tcp, on_plain_alloc, on_plain_read);
    }
    if (status < 0) end(link, status);
}

static void on_plain_closed(uv_handle_t *h)
{
    gn_rpc_link_t *link = h->data;
    if (!link->silent) link->cbs->closed(link->arg);
    free(link);
}

static void on_plain_written(uv_write_t *req, int status)
{
    (void)status; /* a failed write ends the link through its read */
    free(req);
}

/* ---- TLS -------------------------------------------------------------------------------- */

static void on_tls_read(gn_transport_t *tr, const uint8_t *data, size_t len)
{
    gn_rpc_link_t *link = tr->session;
    while (len > 0 && !link->ended && !link->closing) {
        uv_buf_t room = uv_buf_init(NULL, 0);
        link->cbs->alloc(link->arg, &room);
        if (room.len == 0) {
            end(link, GN_ENOMEM);
            return;
        }
        size_t n = len < room.len ? len : room.len;
        memcpy(room.base, data, n);
        data += n;
        len -= n;
        link->cbs->read(link->arg, (ssize_t)n);
    }
}

static void on_tls_close(gn_transport_t *tr)
{
    gn_rpc_link_t *link = tr->session;
    if (!link->silent) end(link, UV_EOF); /* the transport logged a TLS failure */
}

static void on_tls_closed(void *arg)
{
    gn_rpc_link_t *link = arg;
    if (!link->silent) link->cbs->closed(link->arg);
    free(link);
}

static void attach(gn_rpc_link_t *link)
{
    link->tr->session = link;
    link->tr->on_read = on_tls_read;
    link->tr->on_close = on_tls_close;
}

/* ---- the API ---------------------------------------------------------------------------- */

static gn_rpc_link_t *link_new(const gn_rpc_link_cbs_t *cbs, void *arg)
{
    gn_rpc_link_t *link = calloc(1, sizeof *link);
    if (!link) return NULL;
    link->cbs = cbs;
    link->arg = arg;
    link->tcp.data = link;
    link->creq.data = link;
    return link;
}

int gn__rpc_link_accept(uv_stream_t *listener, gn_tls_ctx_t *tls, const gn_rpc_link_cbs_t *cbs,
                        void *arg, gn_rpc_link_t **out)
{
    gn_rpc_link_t *link = link_new(cbs, arg);
    int rc;
    if (!link) return GN_ENOMEM;
    if (tls) {
        if ((rc = gn_tls_transport_accept(tls, listener, "cluster", on_tls_closed, link,
                                          &link->tr)) < 0) {
            free(link);
            return rc;
        }
        attach(link);
        if ((rc = gn_tls_transport_start(link->tr)) < 0) {
            link->silent = true; /* closing: freed by its callbacks */
            return rc;
        }
        *out = link;
        return 0;
    }
    uv_tcp_init(listener->loop, &link->tcp);
    if ((rc = uv_accept(listener, (uv_stream_t *)&link->tcp)) == 0 &&
        (rc = uv_read_start((uv_stream_t *)&link->tcp, on_plain_alloc, on_plain_read)) == 0) {
        uv_tcp_nodelay(&link->tcp, 1);
        *out = link;
        return 0;
    }
    link->silent = true;
    uv_close((uv_handle_t *)&link->tcp, on_plain_closed);
    return rc;
}

int gn__rpc_link_connect(uv_loop_t *loop, const struct sockaddr *addr, gn_tls_ctx_t *tls,
                         const gn_rpc_link_cbs_t *cbs, void *arg, gn_rpc_link_t **out)
{
    gn_rpc_link_t *link = link_new(cbs, arg);
    int rc;
    if (!link) return GN_ENOMEM;
    if (tls) {
        if ((rc = gn_tls_transport_connect(tls, loop, addr, "cluster", on_tls_closed, link,
                                           &link->tr)) < 0) {
            free(link);
            return rc;
        }
        attach(link);
        *out = link;
        return 0;
    }
    uv_tcp_init(loop, &link->tcp);
    if ((rc = uv_tcp_connect(&link->creq, &link->tcp, addr, on_plain_connect)) < 0) {
        link->silent = true;
        uv_close((uv_handle_t *)&link->tcp, on_plain_closed);
        return rc;
    }
    *out = link;
    return 0;
}

int gn__rpc_link_send(gn_rpc_link_t *link, const uv_buf_t *parts, unsigned nparts)
{
    if (link->closing || link->ended) return UV_ECANCELED;
    if (link->tr) /* encrypted at once, no copy of ours */
        return link->tr->ops->write(link->tr, parts, nparts, NULL, NULL);
    size_t len = 0;
    for (unsigned i = 0; i < nparts; i++)
        len += parts[i].len;
    link_write_t *w = malloc(sizeof *w + len);
    if (!w) return GN_ENOMEM;
    len = 0;
    for (unsigned i = 0; i < nparts; i++) {
        if (parts[i].len) memcpy(w->data + len, parts[i].base, parts[i].len);
        len += parts[i].len;
    }
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&link->tcp, &b, 1, on_plain_written);
    if (rc < 0) free(w);
    return rc;
}

void gn__rpc_link_close(gn_rpc_link_t *link)
{
    if (link->closing) return;
    link->closing = true;
    if (link->tr)
        link->tr->ops->close(link->tr);
    else
        uv_close((uv_handle_t *)&link->tcp, on_plain_closed);
}
