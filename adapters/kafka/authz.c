/* SPDX-License-Identifier: Apache-2.0 */
/* Authorization of Kafka requests (core/acl): the principal of a connection as Kafka's
 * default principal builder names it — "User:<SASL user>" once SASL succeeded, else
 * "User:<subject DN>" of a TLS client certificate, else "User:ANONYMOUS" — its host
 * (the client's IP address), and the checks the handlers make. Loop thread. */
#include "kafka.h"
#include "server.h"

#include <stdio.h>

/* The client's IP address of conn->peer ("ip:port" or "[ipv6]:port"). */
static void peer_host(const char *peer, char *buf, size_t cap)
{
    const char *end;
    if (peer[0] == '[' && (end = strchr(peer, ']'))) {
        snprintf(buf, cap, "%.*s", (int)(end - peer - 1), peer + 1);
        return;
    }
    end = strrchr(peer, ':');
    snprintf(buf, cap, "%.*s", end ? (int)(end - peer) : (int)strlen(peer), peer);
}

/* The principal and host of req's connection; "User:ANONYMOUS" and "" without one. */
static void who(kafka_req_t *req, const char **principal, const char **host)
{
    kafka_conn_t *conn = req->conn;
    *principal = GN_ACL_ANONYMOUS;
    *host = "";
    if (!conn) return;
    if (!conn->principal[0] || conn->principal_sasl != (conn->sasl.state == KAFKA_SASL_DONE)) {
        conn->principal_sasl = conn->sasl.state == KAFKA_SASL_DONE;
        if (conn->principal_sasl)
            gn_acl_principal(conn->principal, sizeof conn->principal, conn->sasl.user);
        else if (conn->tls && gn_tls_transport_peer_subject(conn->tls, conn->tls_subject,
                                                            sizeof conn->tls_subject) == 0)
            gn_acl_principal(conn->principal, sizeof conn->principal, conn->tls_subject);
        else
            gn_acl_principal(conn->principal, sizeof conn->principal, NULL);
        peer_host(conn->peer, conn->host, sizeof conn->host);
    }
    *principal = conn->principal;
    *host = conn->host;
}

const char *kafka_req_principal(kafka_req_t *req)
{
    const char *principal, *host;
    who(req, &principal, &host);
    return principal;
}

bool kafka_authorize(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type,
                     const char *name)
{
    gn_acl_t *acl = gn_broker_acl(req->broker);
    if (!gn_acl_enabled(acl)) return true;
    const char *principal, *host;
    who(req, &principal, &host);
    return gn_acl_authorize(acl, principal, host, op, type, name);
}

bool kafka_allowed(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name)
{
    gn_acl_t *acl = gn_broker_acl(req->broker);
    if (!gn_acl_enabled(acl)) return true;
    const char *principal, *host;
    who(req, &principal, &host);
    return gn_acl_allowed(acl, principal, host, op, type, name);
}

bool kafka_authorize_bytes(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type,
                           gn_bytes_t name)
{
    if (!gn_acl_enabled(gn_broker_acl(req->broker))) return true;
    char buf[512];
    if (!name.ptr || name.len >= sizeof buf || memchr(name.ptr, 0, name.len)) {
        /* no resource can be named so: only an ACL for every name could allow it */
        const char *cname = kafka_req_cstr(req, name);
        return kafka_authorize(req, op, type, cname ? cname : "");
    }
    memcpy(buf, name.ptr, name.len);
    buf[name.len] = 0;
    return kafka_authorize(req, op, type, buf);
}

bool kafka_authorize_cluster(kafka_req_t *req, gn_acl_op_t op)
{
    return kafka_authorize(req, op, GN_ACL_RESOURCE_CLUSTER, GN_ACL_CLUSTER_NAME);
}

bool kafka_allowed_any(kafka_req_t *req, gn_acl_op_t op, gn_acl_resource_type_t type)
{
    gn_acl_t *acl = gn_broker_acl(req->broker);
    if (!gn_acl_enabled(acl)) return true;
    const char *principal, *host;
    who(req, &principal, &host);
    return gn_acl_allowed_any(acl, principal, host, op, type);
}
