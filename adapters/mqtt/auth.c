/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT authentication against the broker's users (core/auth): a CONNECT is anonymous
 * (accepted unless mqtt.allow.anonymous is false), carries a user name and password
 * (checked: 0x86 / 3.1.1 code 4 when wrong), or names an Authentication Method (MQTT 5
 * enhanced authentication, SCRAM-SHA-256/512: CONNECT or a first AUTH 0x18 carries
 * client-first, AUTH 0x18 answers server-first, AUTH 0x18 brings client-final, CONNACK
 * carries server-final). Re-authentication (AUTH 0x19) runs the same exchange and ends
 * with AUTH 0x00, or DISCONNECT 0x87. Log lines name the client and the reason, never
 * a password. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

void mqtt__auth_free(mqtt_auth_t *auth)
{
    if (!auth) return;
    gn_scram_server_free(auth->scram);
    mqtt__connect_free(auth->pending);
    free(auth->user);
    free(auth);
}

static const char *client_of(const mqtt_conn_t *conn, const mqtt_connect_t *c)
{
    if (conn->session) return conn->session->client_id;
    return c && c->client_id[0] ? c->client_id : "-";
}

/* CONNACK rc with a reason string, a log line, close. Always -1. */
static int refuse(mqtt_conn_t *conn, const mqtt_connect_t *c, uint8_t rc, const char *user,
                  const char *why)
{
    char pb[64];
    GN_INFO(MQTT_MOD, "refused CONNECT: %s | client=%s user=%s peer=%s reason=%s", why,
            client_of(conn, c), user ? user : "-", mqtt__conn_peer(conn, pb, sizeof pb),
            mqtt_rc_name(rc));
    mqtt__send_connack(conn, false, rc, conn->request_problem_info ? why : NULL);
    mqtt__conn_close(conn, NULL);
    return -1;
}

/* A user name and password (v5 allows a password alone: refused, there is no user). */
static int check_password(mqtt_conn_t *conn, const mqtt_packet_t *pkt, mqtt_connect_t *c)
{
    if (!pkt->username.ptr)
        return refuse(conn, c, MQTT_RC_BAD_USERNAME_OR_PASSWORD, NULL,
                      "password without user name");
    if (!pkt->password.ptr)
        return refuse(conn, c, MQTT_RC_BAD_USERNAME_OR_PASSWORD, c->user, "no password");
    char pb[64], host[64];
    gn_auth_throttle_host(mqtt__conn_peer(conn, pb, sizeof pb), host, sizeof host);
    uint64_t now = uv_now(conn->srv->loop);
    if (gn_auth_throttle_wait_ms(conn->srv->throttle, host, now) > 0) /* 3.1.1: code 3 */
        return refuse(conn, c, MQTT_RC_CONNECTION_RATE_EXCEEDED, c->user,
                      "too many failed authentications from this address; retry later");
    int rc = gn_auth_verify_password(conn->srv->auth, (const char *)pkt->username.ptr,
                                     pkt->username.len, pkt->password.ptr, pkt->password.len);
    if (rc < 0) {
        gn_auth_throttle_failed(conn->srv->throttle, host, now);
        return refuse(conn, c, MQTT_RC_BAD_USERNAME_OR_PASSWORD, c->user,
                      "bad user name or password");
    }
    free(conn->user); /* the principal the ACLs know it as */
    conn->user = strndup((const char *)pkt->username.ptr, pkt->username.len);
    if (!conn->user) return refuse(conn, c, MQTT_RC_SERVER_UNAVAILABLE, c->user, "out of memory");
    return 0;
}

/* Authentication Method in CONNECT: set up the exchange, run it on the Authentication
 * Data if the CONNECT has some (else the first AUTH 0x18 brings client-first). */
static int start_enhanced(mqtt_conn_t *conn, const mqtt_packet_t *pkt, mqtt_connect_t *c)
{
    const mqtt_props_t *pr = &pkt->props;
    gn_scram_mech_t mech;
    char method[64];
    snprintf(method, sizeof method, "%.*s",
             (int)(pr->auth_method.len < 48 ? pr->auth_method.len : 48),
             (const char *)pr->auth_method.ptr);
    if (!conn->srv->auth ||
        gn_scram_mech_find((const char *)pr->auth_method.ptr, pr->auth_method.len, &mech) < 0) {
        char why[128];
        snprintf(why, sizeof why, "authentication method %s is not supported", method);
        return refuse(conn, c, MQTT_RC_BAD_AUTHENTICATION_METHOD, c->user, why);
    }
    mqtt_auth_t *auth = calloc(1, sizeof(*auth));
    if (auth) auth->scram = gn_scram_server_new(conn->srv->auth, mech);
    if (!auth || !auth->scram) {
        mqtt__auth_free(auth);
        mqtt__conn_close(conn, "out of memory");
        return -1;
    }
    auth->mech = mech;
    auth->pending = c;
    conn->auth = auth;
    /* c belongs to the exchange now, even if it fails at once (conn->auth frees it) */
    if (mqtt_props_has(pr, MQTT_PROP_AUTHENTICATION_DATA)) mqtt__auth_step(conn, pr->auth_data);
    return MQTT_AUTH_PENDING;
}

int mqtt__auth_connect(mqtt_conn_t *conn, const mqtt_packet_t *pkt, mqtt_connect_t *c)
{
    mqtt_server_t *srv = conn->srv;
    const mqtt_props_t *pr = &pkt->props;
    if (conn->version == MQTT_V5) {
        bool method = mqtt_props_has(pr, MQTT_PROP_AUTHENTICATION_METHOD);
        if (!method && mqtt_props_has(pr, MQTT_PROP_AUTHENTICATION_DATA))
            return refuse(conn, c, MQTT_RC_PROTOCOL_ERROR, c->user,
                          "Authentication Data without Authentication Method");
        if (method) return start_enhanced(conn, pkt, c);
    }
    if (!srv->auth) return 0; /* no users file: credentials are not checked */
    if (pkt->username.ptr || pkt->password.ptr) return check_password(conn, pkt, c);
    if (!srv->allow_anonymous)
        return refuse(conn, c, MQTT_RC_NOT_AUTHORIZED, NULL, "anonymous clients are not allowed");
    return 0;
}

/* The exchange failed: CONNACK while connecting, DISCONNECT 0x87 when re-authenticating. */
static int auth_failed(mqtt_conn_t *conn, int err, gn_bytes_t out)
{
    mqtt_auth_t *auth = conn->auth;
    const char *user = gn_scram_server_user(auth->scram);
    char why[160], pb[64];
    snprintf(why, sizeof why, "%s failed: %.*s", gn_scram_mech_name(auth->mech),
             (int)(out.len < 64 ? out.len : 64), out.ptr ? (const char *)out.ptr : "");
    if (auth->pending) {
        uint8_t rc = err == GN_EAUTH ? MQTT_RC_BAD_USERNAME_OR_PASSWORD : MQTT_RC_NOT_AUTHORIZED;
        refuse(conn, auth->pending, rc, user, why);
        return -1;
    }
    GN_INFO(MQTT_MOD, "re-authentication failed | client=%s user=%s peer=%s detail=\"%s\"",
            client_of(conn, NULL), user ? user : "-", mqtt__conn_peer(conn, pb, sizeof pb), why);
    mqtt__conn_disconnect(conn, MQTT_RC_NOT_AUTHORIZED, NULL);
    return -1;
}

/* The exchange succeeded with server-final in out. */
static int auth_done(mqtt_conn_t *conn, gn_bytes_t out)
{
    mqtt_auth_t *auth = conn->auth;
    const char *user = gn_scram_server_user(auth->scram);
    char pb[64];
    mqtt_connect_t *c = auth->pending;
    if (c && c->user && strcmp(c->user, user) != 0)
        return auth_failed(conn, GN_EINVALID_REQUEST,
                           (gn_bytes_t){(const uint8_t *)"user name differs", 17});
    if (!c && auth->user && strcmp(auth->user, user) != 0) /* same identity, new proof */
        return auth_failed(conn, GN_EINVALID_REQUEST,
                           (gn_bytes_t){(const uint8_t *)"another user", 12});
    char *name = strdup(user);
    if (!name) {
        mqtt__conn_close(conn, "out of memory");
        return -1;
    }
    free(auth->user);
    auth->user = name;
    GN_INFO(MQTT_MOD, "client %s | client=%s user=%s method=%s peer=%s",
            c ? "authenticated" : "re-authenticated", client_of(conn, c), name,
            gn_scram_mech_name(auth->mech), mqtt__conn_peer(conn, pb, sizeof pb));
    if (!c) {
        int rc = mqtt__send_auth(conn, MQTT_RC_SUCCESS, out);
        gn_scram_server_free(auth->scram); /* out lived in it */
        auth->scram = NULL;
        return rc < 0 ? -1 : 0;
    }
    const char *method = gn_scram_mech_name(auth->mech);
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    mqtt_p_str(&props, MQTT_PROP_AUTHENTICATION_METHOD,
               (gn_bytes_t){(const uint8_t *)method, strlen(method)});
    mqtt_p_str(&props, MQTT_PROP_AUTHENTICATION_DATA, out);
    auth->pending = NULL;
    int rc = mqtt__connect_accept(conn, c, &props); /* takes c */
    mqtt_wbuf_free(&props);
    gn_scram_server_free(auth->scram);
    auth->scram = NULL;
    return rc;
}

int mqtt__auth_step(mqtt_conn_t *conn, gn_bytes_t data)
{
    mqtt_auth_t *auth = conn->auth;
    gn_bytes_t out;
    int rc = gn_scram_server_step(auth->scram, data.ptr, data.len, &out);
    if (rc == GN_SCRAM_CONTINUE)
        return mqtt__send_auth(conn, MQTT_RC_CONTINUE_AUTHENTICATION, out) < 0 ? -1 : 0;
    if (rc == 0) return auth_done(conn, out);
    return auth_failed(conn, rc, out);
}

int mqtt__auth_restart(mqtt_conn_t *conn)
{
    mqtt_auth_t *auth = conn->auth;
    auth->scram = gn_scram_server_new(conn->srv->auth, auth->mech);
    if (!auth->scram) {
        mqtt__conn_close(conn, "out of memory");
        return -1;
    }
    return 0;
}
