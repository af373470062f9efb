/* SPDX-License-Identifier: Apache-2.0 */
/* One connection of the internal RPC (rpc.c), accepted or dialled: plain TCP, or with
 * cluster.tls.enabled core/tls's "tls" transport (both ends verify the other's
 * certificate against cluster.tls.ca.file). rpc.c reads, writes and closes both alike.
 * Loop thread only. */
#ifndef GN_CORE_CLUSTER_RPC_LINK_H
#define GN_CORE_CLUSTER_RPC_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/tls.h"

typedef struct gn_rpc_link gn_rpc_link_t;

typedef struct gn_rpc_link_cbs {
    /* Room for incoming bytes (len 0: none; the link then ends with GN_ENOMEM). */
    void (*alloc)(void *arg, uv_buf_t *room);
    /* n > 0: n bytes landed at the start of the room alloc gave. n < 0: the link ended
     * (connect failed, peer gone, TLS refused): the owner calls gn__rpc_link_close. */
    void (*read)(void *arg, ssize_t n);
    /* After gn__rpc_link_close: the link's memory is gone. */
    void (*closed)(void *arg);
} gn_rpc_link_cbs_t;

/* Accepts a connection from listener (tls NULL: plain TCP) and starts reading. 0 or a
 * negative error (nothing to close then). cbs is borrowed for the link's life. */
int gn__rpc_link_accept(uv_stream_t *listener, gn_tls_ctx_t *tls, const gn_rpc_link_cbs_t *cbs,
                        void *arg, gn_rpc_link_t **out);
/* Dials addr; reading starts once connected, writes before that are queued. A failed
 * connect ends the link (read < 0). 0 or a negative error (nothing to close then). */
int gn__rpc_link_connect(uv_loop_t *loop, const struct sockaddr *addr, gn_tls_ctx_t *tls,
                         const gn_rpc_link_cbs_t *cbs, void *arg, gn_rpc_link_t **out);
/* Sends the parts in order as one stream of bytes; they are borrowed for the call only
 * (copied into one block on plain TCP, encrypted at once on TLS). 0 or a negative error. */
int gn__rpc_link_send(gn_rpc_link_t *link, const uv_buf_t *parts, unsigned nparts);
/* Closes; closed runs once, later, on the loop. Idempotent. */
void gn__rpc_link_close(gn_rpc_link_t *link);

#endif
