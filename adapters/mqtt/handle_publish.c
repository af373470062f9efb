/* SPDX-License-Identifier: Apache-2.0 */
/* PUBLISH from a client: topic alias resolution, receive maximum, payload format check,
 * then the append to the log (publish.c). QoS 0 is answered by nothing, QoS 1 by PUBACK
 * once the append is durable, QoS 2 by PUBREC once durable (and, for a persistent
 * session, once its packet id is saved with the session: session_sync.c) with
 * per-session packet-id deduplication until PUBREL (at most MQTT_QOS2_IN_MAX ids). Failures: v5
 * reason code in the ack (or DISCONNECT for QoS 0), 3.1.1 closes the connection; never a silent
 * drop. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

typedef struct pub_ctx {
    mqtt_conn_t *conn;
    uint16_t pid;
    uint8_t qos;
    char topic[128];
} pub_ctx_t;

/* Refuse one publish: the v5 ack reason, or the connection for 3.1.x and QoS 0. */
static int refuse(mqtt_conn_t *conn, uint8_t qos, uint16_t pid, uint8_t rc, const char *topic,
                  const char *why)
{
    const char *client = conn->session ? conn->session->client_id : "-";
    GN_INFO(MQTT_MOD, "publish refused | client=%s topic=\"%s\" reason=%s detail=\"%s\"", client,
            topic, mqtt_rc_name(rc), why);
    if (conn->version == MQTT_V5 && qos > 0) {
        if (qos == 2 && conn->session) mqtt__qos2_remove(conn->session, pid);
        mqtt__send_ack(conn, qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, pid, rc, why);
        return 0;
    }
    mqtt__conn_disconnect(conn, rc, why);
    return -1;
}

/* The ACLs refuse it (the authorizer logged it): MQTT 5 answers QoS 1/2 with 0x87 Not
 * authorized; 3.1.1 has no negative ack, so its QoS 1/2 are acknowledged as if accepted
 * (the spec's [MQTT-3.3.5-2] allows that or closing); QoS 0 is dropped. Nothing is
 * appended; every one is counted. A QoS 2 refused here holds no packet id. */
static int not_authorized(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    conn->srv->stats.publish_not_authorized++;
    if (pkt->qos == 0) return 0;
    uint8_t rc = conn->version == MQTT_V5 ? MQTT_RC_NOT_AUTHORIZED : 0;
    mqtt__send_ack(conn, pkt->qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, pkt->packet_id, rc,
                   rc ? "not authorized" : NULL);
    return 0;
}

static void published(mqtt_conn_t *conn, uint16_t pid, uint8_t qos, const char *topic, int status)
{
    if (!conn->closing) {
        if (qos > 0 && conn->inbound_qos_pending > 0) conn->inbound_qos_pending--;
        if (status < 0) {
            refuse(conn, qos, pid, (uint8_t)mqtt_rc_from_gn(status), topic, gn_strerror(status));
        } else if (qos == 1) {
            mqtt__send_ack(conn, MQTT_PUBACK, pid, 0, NULL);
        } else if (qos == 2) {
            mqtt_session_t *sess = conn->session;
            uint32_t *e = sess ? mqtt__qos2_find(sess, pid) : NULL;
            if (e) *e &= 0xffff;
            if (e && mqtt__session_sync_gates(sess)) { /* PUBREC once the id is saved */
                *e |= MQTT_QOS2_UNSAVED;
                mqtt__session_sync_later(sess);
            } else {
                mqtt__send_ack(conn, MQTT_PUBREC, pid, 0, NULL);
            }
        }
    }
    mqtt__conn_unref(conn);
}

/* retained messages (produced at once) */
static void on_published(void *arg, int status)
{
    pub_ctx_t *ctx = arg;
    published(ctx->conn, ctx->pid, ctx->qos, ctx->topic, status);
    free(ctx);
}

/* batched messages: tag = packet id | QoS << 16 (no allocation per message) */
static void on_batch_published(void *arg, uint32_t tag, int status)
{
    published(arg, (uint16_t)(tag & 0xffff), (uint8_t)(tag >> 16), "(batched)", status);
}

static void topic_name(gn_bytes_t topic, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.*s", (int)topic.len, (const char *)topic.ptr);
}

int mqtt__handle_publish(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_server_t *srv = conn->srv;
    mqtt_session_t *sess = conn->session;
    srv->stats.msgs_received++;
    srv->stats.publish_received++;
    gn_bytes_t topic = pkt->topic;
    char tname[128];
    if (conn->version == MQTT_V5 && mqtt_props_has(&pkt->props, MQTT_PROP_TOPIC_ALIAS)) {
        uint16_t a = pkt->props.topic_alias;
        if (a == 0 || a > MQTT_TOPIC_ALIAS_MAXIMUM) {
            mqtt__conn_disconnect(conn, MQTT_RC_TOPIC_ALIAS_INVALID, "topic alias out of range");
            return -1;
        }
        if (!conn->alias_in &&
            !(conn->alias_in = calloc(MQTT_TOPIC_ALIAS_MAXIMUM + 1, sizeof(char *)))) {
            mqtt__conn_close(conn, "out of memory");
            return -1;
        }
        if (topic.len > 0) {
            free(conn->alias_in[a]);
            conn->alias_in[a] = strndup((const char *)topic.ptr, topic.len);
        } else if (!conn->alias_in[a]) {
            mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR, "unknown topic alias");
            return -1;
        } else {
            topic = (gn_bytes_t){(const uint8_t *)conn->alias_in[a], strlen(conn->alias_in[a])};
        }
    }
    if (pkt->qos > 0) {
        if (conn->inbound_qos_pending >= MQTT_RECEIVE_MAXIMUM && conn->version == MQTT_V5) {
            mqtt__conn_disconnect(conn, MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED,
                                  "receive maximum exceeded");
            return -1;
        }
    }
    if (!mqtt__authorize_publish(conn, topic)) return not_authorized(conn, pkt);
    if (pkt->qos == 2) {
        uint32_t *e = mqtt__qos2_find(sess, pkt->packet_id);
        if (e && (*e & MQTT_QOS2_RESTORED) && !pkt->dup) {
            /* an id saved by another connection, sent anew: released after the last save */
            mqtt__qos2_remove(sess, pkt->packet_id);
            e = NULL;
        }
        if (e) {
            /* a resent PUBLISH we already hold: no second append */
            if (!(*e & MQTT_QOS2_WAITING))
                mqtt__send_ack(conn, MQTT_PUBREC, pkt->packet_id, 0, NULL);
            return 0;
        }
        if (sess->nqos2_in >= MQTT_QOS2_IN_MAX) {
            mqtt__conn_disconnect(conn, MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED,
                                  "too many QoS 2 messages not released");
            return -1;
        }
        uint32_t *nq = realloc(sess->qos2_in, (sess->nqos2_in + 1) * sizeof(*nq));
        if (!nq) {
            mqtt__conn_close(conn, "out of memory");
            return -1;
        }
        sess->qos2_in = nq;
        nq[sess->nqos2_in++] = pkt->packet_id | MQTT_QOS2_PENDING;
    }
    if (conn->version == MQTT_V5 && pkt->props.payload_format == 1 &&
        !mqtt_utf8_valid(pkt->payload.ptr, pkt->payload.len)) {
        topic_name(topic, tname, sizeof tname);
        return refuse(conn, pkt->qos, pkt->packet_id, MQTT_RC_PAYLOAD_FORMAT_INVALID, tname,
                      "payload is not UTF-8 as its format indicator says");
    }
    const mqtt_props_t *props = conn->version == MQTT_V5 ? &pkt->props : NULL;
    int rc;
    if (!pkt->retain) {
        rc = mqtt__publish_batched(srv, sess->serial, topic, pkt->payload, props, pkt->qos,
                                   on_batch_published, conn,
                                   (uint32_t)pkt->packet_id | (uint32_t)pkt->qos << 16);
    } else {
        pub_ctx_t *ctx = calloc(1, sizeof(*ctx));
        if (!ctx) {
            mqtt__conn_close(conn, "out of memory");
            return -1;
        }
        ctx->conn = conn;
        ctx->pid = pkt->packet_id;
        ctx->qos = pkt->qos;
        topic_name(topic, ctx->topic, sizeof ctx->topic);
        rc = mqtt__publish(srv, sess->serial, topic, pkt->payload, props, pkt->qos, true,
                           on_published, ctx);
        if (rc < 0) free(ctx);
    }
    if (rc < 0) {
        const char *why = rc == GN_EINVALID_TOPIC
                              ? "the first topic level is not a valid log topic name"
                              : gn_strerror(rc);
        topic_name(topic, tname, sizeof tname);
        return refuse(conn, pkt->qos, pkt->packet_id, (uint8_t)mqtt_rc_from_gn(rc), tname, why);
    }
    conn->refs++;
    if (pkt->qos > 0) conn->inbound_qos_pending++;
    return 0;
}
