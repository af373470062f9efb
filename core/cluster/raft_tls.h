/* SPDX-License-Identifier: Apache-2.0 */
/* libraft's transport over TLS (cluster.tls.*): a struct raft_uv_transport whose
 * connections are core/tls transports with mutual certificate checks, each handed to
 * raft as one end of a socketpair while the loop relays bytes between the other end and
 * the TLS connection (raft_tls.c). Used by quorum.c instead of raft_uv_tcp. Loop thread. */
#ifndef GN_CORE_CLUSTER_RAFT_TLS_H
#define GN_CORE_CLUSTER_RAFT_TLS_H

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "ganglion/tls.h"

/* Sets up t (as raft_uv_tcp_init does) to dial and accept over TLS with tls (a peers
 * context, borrowed: it outlives t). 0 or RAFT_NOMEM. */
int gn__raft_tls_init(struct raft_uv_transport *t, uv_loop_t *loop, gn_tls_ctx_t *tls);
/* Releases t's memory once raft has closed it (as raft_uv_tcp_close does). */
void gn__raft_tls_free(struct raft_uv_transport *t);

/* The first bytes a dialling broker sends over TLS, before raft's messages: who it is.
 * u64 LE version (1) | u64 LE raft id | u64 LE address length | address (no NUL). */
#define GN_RAFT_TLS_PREAMBLE_HEAD 24
#define GN_RAFT_TLS_ADDRESS_MAX   255
/* Writes the preamble into buf (room for HEAD + ADDRESS_MAX); its length, or 0 when the
 * address is too long. */
size_t gn__raft_tls_preamble(uint8_t *buf, raft_id id, const char *address);
/* Parses a preamble at the start of buf: > 0 its length (id and address, NUL-terminated,
 * set), 0 need more bytes, < 0 not one (a bad version or address length). */
int gn__raft_tls_preamble_parse(const uint8_t *buf, size_t len, raft_id *id,
                                char address[GN_RAFT_TLS_ADDRESS_MAX + 1]);

#endif
