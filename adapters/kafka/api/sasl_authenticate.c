/* SPDX-License-Identifier: Apache-2.0 */
/* SaslAuthenticate (key 36), v0-2: one SASL token each way, after a v1 SaslHandshake.
 * A failure answers SASL_AUTHENTICATION_FAILED with Kafka's message, and the connection
 * is closed once that answer is out (conn.c), as Kafka does. No re-authentication:
 * SessionLifetimeMs 0. Also the raw tokens that follow a v0 handshake (kafka_sasl_raw_frame).
 * A client host whose authentications keep failing is throttled (gn_auth_throttle): its
 * tokens fail unchecked until a token of the throttle comes back. Loop thread. */
#include "../kafka.h"
#include "../sasl.h"
#include "../server.h"

#include "ganglion/error.h"
#include "ganglion/logger.h"

static void log_outcome(const kafka_conn_t *conn, int rc, const char *why)
{
    if (rc == 0)
        GN_INFO("kafka", "SASL authenticated | client=%s user=%s mechanism=%s", conn->peer,
                conn->sasl.user, conn->sasl.plain ? "PLAIN" : "SCRAM");
    else if (rc < 0)
        GN_WARN("kafka", "SASL authentication failed | client=%s reason=\"%s\"", conn->peer, why);
}

/* One SASL step, unless the client's host is throttled; a failure counts against it. */
static int step(kafka_conn_t *conn, gn_bytes_t in, gn_bytes_t *token, const char **why)
{
    kafka_server_t *srv = conn->srv;
    char host[64];
    gn_auth_throttle_host(conn->peer, host, sizeof host);
    uint64_t now = uv_now(srv->loop);
    if (gn_auth_throttle_wait_ms(srv->throttle, host, now) > 0) {
        conn->sasl.state = KAFKA_SASL_FAILED;
        *why = "Authentication failed: too many failed authentications from this address; "
               "retry later";
        return -KAFKA_SASL_AUTHENTICATION_FAILED;
    }
    int rc = kafka_sasl_step(&conn->sasl, srv->auth, in, token, why);
    if (rc == -KAFKA_SASL_AUTHENTICATION_FAILED) gn_auth_throttle_failed(srv->throttle, host, now);
    return rc;
}

int kafka_handle_SaslAuthenticate(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_SaslAuthenticateRequest_t in;
    int rc = kafka_SaslAuthenticateRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_conn_t *conn = req->conn;
    kafka_SaslAuthenticateResponse_t out;
    kafka_SaslAuthenticateResponse_init(&out);
    const char *why = NULL;
    gn_bytes_t token;
    if (conn->sasl.raw) { /* v0 handshake: tokens must come raw */
        rc = -KAFKA_ILLEGAL_SASL_STATE;
        why = "SaslAuthenticate after a v0 SaslHandshake";
    } else {
        rc = step(conn, in.AuthBytes, &token, &why);
    }
    log_outcome(conn, rc, why);
    out.ErrorCode = rc < 0 ? (int16_t)-rc : KAFKA_NONE;
    out.ErrorMessage = rc < 0 ? kafka_cstr_bytes(why) : GN_BYTES_NULL;
    out.AuthBytes = rc < 0 ? (gn_bytes_t){(const uint8_t *)"", 0} : token;
    out.SessionLifetimeMs = 0;
    kafka_resp_begin(req);
    kafka_SaslAuthenticateResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}

int kafka_sasl_raw_frame(kafka_req_t *req, const uint8_t *frame, size_t len)
{
    kafka_conn_t *conn = req->conn;
    const char *why = NULL;
    gn_bytes_t token;
    int rc = step(conn, (gn_bytes_t){frame, len}, &token, &why);
    log_outcome(conn, rc, why);
    if (rc < 0) return GN_EAUTH; /* Kafka closes a v0 connection whose token fails */
    kw_raw(&req->w, token.ptr, token.len);
    return KAFKA_DONE;
}
