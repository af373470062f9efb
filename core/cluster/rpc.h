/* SPDX-License-Identifier: Apache-2.0 */
/* The internal RPC between brokers (cluster.listener): length-prefixed frames, each a JSON
 * header plus optional raw bytes (record batches travel as they are on disk). Requests
 * name an "op"; answers carry the request's "id" and a "status" (0 or a gn error). Used by
 * core/cluster (forwarded proposals, heartbeats) and core/replica (fetch). Loop thread.
 *
 * Frame: u32 BE length of the rest | u32 BE JSON length | JSON | raw bytes. */
#ifndef GN_CORE_CLUSTER_RPC_H
#define GN_CORE_CLUSTER_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <jansson.h>

#include "ganglion/tls.h"

#define GN_RPC_FRAME_MAX (64u << 20)

typedef struct gn_rpc_server gn_rpc_server_t;
typedef struct gn_rpc_call gn_rpc_call_t; /* one request being served */

/* A handler answers exactly once with gn__rpc_reply (now or later). req is borrowed for
 * the call only; raw (request bytes) too. */
typedef void (*gn_rpc_handler_cb)(void *arg, gn_rpc_call_t *call, const json_t *req,
                                  const uint8_t *raw, size_t rawlen);

/* Listens on "host:port", over TLS with tls (a peers context, cluster.tls.*: every
 * connection must present a certificate its CA signed) or plain TCP with NULL (borrowed,
 * outlives the server). 0 or a negative error (logged). */
int gn__rpc_server_open(uv_loop_t *loop, const char *address, gn_tls_ctx_t *tls,
                        gn_rpc_server_t **out);
int gn__rpc_server_handle(gn_rpc_server_t *srv, const char *op, gn_rpc_handler_cb cb, void *arg);
/* Answers call: resp (borrowed) gets "id" and "status" added; raw is copied. Frees call. */
void gn__rpc_reply(gn_rpc_call_t *call, int status, json_t *resp, const uint8_t *raw,
                   size_t rawlen);
void gn__rpc_server_close(gn_rpc_server_t *srv);
/* Each accepted connection has an id (never 0, unique per server): the call's, and the
 * one given to the close callback when a peer's connection ends (EOF, error, reset). */
uint64_t gn__rpc_call_conn(const gn_rpc_call_t *call);
typedef void (*gn_rpc_conn_closed_cb)(void *arg, uint64_t conn);
void gn__rpc_server_on_conn_closed(gn_rpc_server_t *srv, gn_rpc_conn_closed_cb cb, void *arg);

/* ---- client: one connection per peer address, made on first use ---- */
typedef struct gn_rpc_client gn_rpc_client_t;
/* status 0 with the answer (borrowed for the call), or a negative error (connection lost,
 * timeout): then resp is NULL. */
typedef void (*gn_rpc_answer_cb)(void *arg, int status, const json_t *resp, const uint8_t *raw,
                                 size_t rawlen);
/* tls: a peers context (the server's certificate verified, ours sent), NULL plain TCP;
 * borrowed, outlives the client. */
gn_rpc_client_t *gn__rpc_client_new(uv_loop_t *loop, const char *address, gn_tls_ctx_t *tls);
/* Sends req (borrowed) with raw bytes; cb runs exactly once unless this fails. timeout_ms
 * bounds the wait (the connection is reset on a timeout). */
int gn__rpc_call(gn_rpc_client_t *cli, const json_t *req, const uint8_t *raw, size_t rawlen,
                 int64_t timeout_ms, gn_rpc_answer_cb cb, void *arg);
const char *gn__rpc_client_address(const gn_rpc_client_t *cli);
/* Pending calls get GN_ESHUTDOWN; memory goes once the handles are closed. */
void gn__rpc_client_free(gn_rpc_client_t *cli);

#endif
