/* SPDX-License-Identifier: Apache-2.0 */
/* CONNECT: protocol version, the client's limits (receive maximum, maximum packet
 * size, topic alias maximum), then authentication (auth.c), then — at once, or when an
 * enhanced authentication exchange has ended — the client id (assigned when empty) and
 * the session's claim (session_owner.c); once the claim has settled: clean start and
 * session expiry, session takeover by the same client id on this broker (the old
 * connection gets DISCONNECT 0x8E), the will, keepalive (server keep-alive caps it in
 * v5); answers CONNACK and resumes a present session. Loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

#define MQTT_MAX_KEEPALIVE 3600

static void will_free(mqtt_will_t *w)
{
    if (!w) return;
    free(w->topic);
    free(w->payload);
    free(w->props);
    free(w);
}

static mqtt_will_t *will_copy(const mqtt_packet_t *pkt)
{
    mqtt_will_t *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->topic = strndup((const char *)pkt->will_topic.ptr, pkt->will_topic.len);
    w->payload = malloc(pkt->will_payload.len + 1);
    w->props = malloc(pkt->will_props.raw.len + 1);
    if (!w->topic || !w->payload || !w->props) {
        free(w->topic);
        free(w->payload);
        free(w->props);
        free(w);
        return NULL;
    }
    if (pkt->will_payload.len) memcpy(w->payload, pkt->will_payload.ptr, pkt->will_payload.len);
    w->payload_len = pkt->will_payload.len;
    if (pkt->will_props.raw.len) memcpy(w->props, pkt->will_props.raw.ptr, pkt->will_props.raw.len);
    w->props_len = pkt->will_props.raw.len;
    w->qos = MQTT_CF_WILL_QOS(pkt->connect_flags);
    w->retain = pkt->connect_flags & MQTT_CF_WILL_RETAIN;
    w->delay = pkt->will_props.will_delay;
    return w;
}

void mqtt__connect_free(mqtt_connect_t *c)
{
    if (!c) return;
    free(c->client_id);
    free(c->user);
    will_free(c->will);
    free(c);
}

/* What accepting the CONNECT needs once the packet buffer is gone. */
static mqtt_connect_t *connect_copy(const mqtt_packet_t *pkt)
{
    mqtt_connect_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->clean = pkt->connect_flags & MQTT_CF_CLEAN;
    c->keep_alive = pkt->keep_alive;
    if (pkt->protocol_level == MQTT_V5)
        c->session_expiry = pkt->props.session_expiry;
    else
        c->session_expiry = c->clean ? 0 : UINT32_MAX;
    c->client_id = strndup((const char *)pkt->client_id.ptr, pkt->client_id.len);
    bool ok = c->client_id != NULL;
    if (ok && pkt->username.ptr)
        ok = (c->user = strndup((const char *)pkt->username.ptr, pkt->username.len)) != NULL;
    if (ok && (pkt->connect_flags & MQTT_CF_WILL)) ok = (c->will = will_copy(pkt)) != NULL;
    if (!ok) {
        mqtt__connect_free(c);
        return NULL;
    }
    return c;
}

int mqtt__handle_connect(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    char pb[64];
    int v = pkt->protocol_level;
    conn->version = v;
    const mqtt_props_t *pr = &pkt->props;
    conn->request_problem_info = true;
    if (v == MQTT_V5) {
        if (mqtt_props_has(pr, MQTT_PROP_RECEIVE_MAXIMUM))
            conn->receive_max_out = pr->receive_maximum;
        if (mqtt_props_has(pr, MQTT_PROP_MAXIMUM_PACKET_SIZE))
            conn->max_packet_out = pr->maximum_packet_size;
        conn->topic_alias_max_out = pr->topic_alias_maximum;
        if (mqtt_props_has(pr, MQTT_PROP_REQUEST_PROBLEM_INFORMATION))
            conn->request_problem_info = pr->request_problem_info;
    }
    if (pkt->client_id.len == 0 && v != MQTT_V5 && !(pkt->connect_flags & MQTT_CF_CLEAN)) {
        GN_INFO(MQTT_MOD, "refused CONNECT: empty client id needs a clean session | peer=%s",
                mqtt__conn_peer(conn, pb, sizeof pb));
        mqtt__send_connack(conn, false, MQTT_RC_CLIENT_ID_NOT_VALID, NULL);
        mqtt__conn_close(conn, NULL);
        return -1;
    }
    mqtt_connect_t *c = connect_copy(pkt);
    if (!c) {
        mqtt__conn_close(conn, "out of memory");
        return -1;
    }
    int rc = mqtt__auth_connect(conn, pkt, c);
    if (rc == MQTT_AUTH_PENDING) return conn->closing ? -1 : 0;
    if (rc < 0) {
        mqtt__connect_free(c);
        return -1;
    }
    return mqtt__connect_accept(conn, c, NULL);
}

int mqtt__connect_accept(mqtt_conn_t *conn, mqtt_connect_t *c, const mqtt_wbuf_t *extra)
{
    /* a will is a PUBLISH made later: its topic needs WRITE now, as Mosquitto checks it */
    if (c->will && !mqtt__authorize_publish(conn, (gn_bytes_t){(const uint8_t *)c->will->topic,
                                                               strlen(c->will->topic)})) {
        char pb[64];
        GN_INFO(MQTT_MOD,
                "refused CONNECT: will topic not authorized | client=%s peer=%s topic=\"%s\"",
                c->client_id, mqtt__conn_peer(conn, pb, sizeof pb), c->will->topic);
        mqtt__send_connack(conn, false, MQTT_RC_NOT_AUTHORIZED,
                           conn->request_problem_info ? "will topic not authorized" : NULL);
        mqtt__connect_free(c);
        mqtt__conn_close(conn, NULL);
        return -1;
    }
    if (!c->client_id[0]) {
        uint8_t rnd[8];
        char idbuf[64];
        uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL);
        snprintf(idbuf, sizeof idbuf, "gn-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
                 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        char *id = strdup(idbuf);
        if (!id) {
            mqtt__connect_free(c);
            mqtt__conn_close(conn, "out of memory");
            return -1;
        }
        free(c->client_id);
        c->client_id = id;
        c->assigned = true;
    }
    return mqtt__claim_start(conn, c, extra);
}

int mqtt__connect_finish(mqtt_conn_t *conn, mqtt_connect_t *c, const mqtt_wbuf_t *extra,
                         uint32_t gen)
{
    mqtt_server_t *srv = conn->srv;
    char pb[64], pb2[64];
    int v = conn->version;
    bool clean = c->clean;
    const char *client_id = c->client_id;
    bool assigned = c->assigned;

    bool session_present = false;
    mqtt_session_t *sess = mqtt__session_find(srv, client_id);
    bool local = sess && sess->conn;
    if (local) {
        mqtt_conn_t *old = sess->conn;
        GN_INFO(MQTT_MOD, "session taken over | client=%s old_peer=%s new_peer=%s", client_id,
                mqtt__conn_peer(old, pb2, sizeof pb2), mqtt__conn_peer(conn, pb, sizeof pb));
        old->takeover = true;
        old->session = NULL;
        sess->conn = NULL;
        if (srv->stats.clients_connected > 0) srv->stats.clients_connected--;
        mqtt__conn_disconnect(old, MQTT_RC_SESSION_TAKEN_OVER, NULL);
    }
    /* clean start, or a session another broker held without persistence: a new one
     * (the claim record already told every broker) */
    if (sess && (clean || (!local && !sess->persistent))) {
        mqtt__session_free(sess);
        sess = NULL;
    }
    if (sess) {
        session_present = true;
        mqtt__session_will_free(sess); /* a pending delayed will is cancelled */
    } else if (!(sess = mqtt__session_new(srv, client_id))) {
        mqtt__connect_free(c);
        mqtt__conn_close(conn, "out of memory");
        return -1;
    }
    sess->expiry = c->session_expiry;
    sess->persistent = sess->expiry > 0;
    if (sess->timer) uv_timer_stop(sess->timer);
    if (c->will) {
        mqtt__session_will_free(sess);
        sess->will = c->will;
        c->will = NULL;
    }
    sess->conn = conn;
    conn->session = sess;
    sess->owner = srv->self_id;
    sess->gen = gen;
    sess->remote_online = false;

    conn->keep_alive = c->keep_alive;
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    if (v == MQTT_V5) {
        mqtt_p_u16(&props, MQTT_PROP_RECEIVE_MAXIMUM, MQTT_RECEIVE_MAXIMUM);
        mqtt_p_u32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, MQTT_MAX_PACKET_IN);
        mqtt_p_u16(&props, MQTT_PROP_TOPIC_ALIAS_MAXIMUM, MQTT_TOPIC_ALIAS_MAXIMUM);
        mqtt_p_u8(&props, MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 1);
        if (assigned)
            mqtt_p_str(&props, MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER,
                       (gn_bytes_t){(const uint8_t *)sess->client_id, strlen(sess->client_id)});
        if (conn->keep_alive == 0 || conn->keep_alive > MQTT_MAX_KEEPALIVE) {
            conn->keep_alive = MQTT_MAX_KEEPALIVE;
            mqtt_p_u16(&props, MQTT_PROP_SERVER_KEEP_ALIVE, MQTT_MAX_KEEPALIVE);
        }
        if (extra && extra->len > 5) mqtt_w_bytes(&props, extra->buf + 5, extra->len - 5);
    }
    int rc = mqtt__send_connack_props(conn, session_present, MQTT_RC_SUCCESS, NULL, &props);
    mqtt_wbuf_free(&props);
    if (rc < 0) {
        mqtt__connect_free(c);
        mqtt__conn_close(conn, "CONNACK not sent");
        return -1;
    }
    srv->stats.clients_connected++;
    srv->stats.clients_total++;
    if (srv->stats.clients_connected > srv->stats.clients_maximum)
        srv->stats.clients_maximum = srv->stats.clients_connected;
    mqtt__conn_keepalive_start(conn);
    GN_INFO(MQTT_MOD,
            "client connected | client=%s peer=%s transport=%s version=%d clean=%d keep_alive=%u "
            "session_present=%d expiry=%u user=%s",
            sess->client_id, mqtt__conn_peer(conn, pb, sizeof pb), conn->tr->kind, v, clean,
            conn->keep_alive, session_present, sess->expiry,
            conn->auth && conn->auth->user ? conn->auth->user
                                           : (srv->auth && c->user ? c->user : "-"));
    mqtt__connect_free(c);
    if (session_present) {
        mqtt__authz_recheck(conn); /* what it subscribed to before may be refused now */
        mqtt__session_resume(sess);
    }
    /* every broker learns it is online here, with its state (the saved will is gone) */
    if (sess->persistent) mqtt__session_save(sess);
    return 0;
}
