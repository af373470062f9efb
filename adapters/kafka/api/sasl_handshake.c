/* SPDX-License-Identifier: Apache-2.0 */
/* SaslHandshake (key 17), v0-1: the client names its mechanism and learns the ones
 * offered (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 when a users file is loaded). After v1
 * the tokens come in SaslAuthenticate; after v0 as raw frames (conn.c). Loop thread. */
#include "../kafka.h"
#include "../sasl.h"
#include "../server.h"

#include "ganglion/error.h"
#include "ganglion/logger.h"

static const char *const MECHANISMS[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

int kafka_handle_SaslHandshake(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_SaslHandshakeRequest_t in;
    int rc = kafka_SaslHandshakeRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_conn_t *conn = req->conn;
    const gn_auth_store_t *store = conn->srv->auth;
    kafka_SaslHandshakeResponse_t out;
    kafka_SaslHandshakeResponse_init(&out);
    out.ErrorCode = kafka_sasl_handshake(&conn->sasl, store, in.Mechanism, req->version == 0);
    size_t n = store ? sizeof MECHANISMS / sizeof MECHANISMS[0] : 0;
    gn_bytes_t *names = kafka_arena_alloc(&req->arena, sizeof(gn_bytes_t) * (n ? n : 1));
    if (!names) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        names[i] = kafka_cstr_bytes(MECHANISMS[i]);
    out.Mechanisms = (kafka_string_array_t){names, (int32_t)n, false};
    if (out.ErrorCode)
        GN_WARN("kafka", "SASL handshake refused | client=%s mechanism=%.*s error=%d", conn->peer,
                (int)(in.Mechanism.len < 64 ? in.Mechanism.len : 64),
                in.Mechanism.ptr ? (const char *)in.Mechanism.ptr : "", out.ErrorCode);
    kafka_resp_begin(req);
    kafka_SaslHandshakeResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
