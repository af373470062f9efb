/* SPDX-License-Identifier: Apache-2.0 */
/* PUBLISH to a subscriber: QoS and packet id, inflight tracking (the packet kept for a
 * DUP resend on reconnect), receive maximum, the client's maximum packet size,
 * message expiry (remaining time; expired messages are not sent), outbound topic
 * aliases (QoS 0 only, so resent packets never depend on an alias), subscription
 * identifiers, and the record headers as v5 properties. A fan-out encodes each distinct
 * packet once (mqtt_pkt_t, refcounted) and patches every subscriber's packet id into
 * its copy of the bytes. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

/* 0 no alias; otherwise the alias and *known says whether the client has it already. */
static uint16_t alias_for(mqtt_conn_t *conn, gn_bytes_t topic, bool *known)
{
    if (conn->topic_alias_max_out == 0) return 0;
    if (!conn->alias_out) {
        conn->alias_out = calloc((size_t)conn->topic_alias_max_out + 1, sizeof(char *));
        if (!conn->alias_out) return 0;
    }
    for (uint16_t a = 1; a <= conn->topic_alias_max_out && conn->alias_out[a]; a++) {
        if (strlen(conn->alias_out[a]) == topic.len &&
            memcmp(conn->alias_out[a], topic.ptr, topic.len) == 0) {
            *known = true;
            return a;
        }
    }
    if (conn->alias_out_next >= conn->topic_alias_max_out) return 0; /* all taken */
    uint16_t a = ++conn->alias_out_next;
    conn->alias_out[a] = strndup((const char *)topic.ptr, topic.len);
    if (!conn->alias_out[a]) return 0;
    *known = false;
    return a;
}

static mqtt_pkt_t *pkt_new(const uint8_t *p, size_t len, uint8_t qos)
{
    mqtt_pkt_t *pkt = malloc(sizeof(*pkt) + len);
    if (!pkt) return NULL;
    pkt->refs = 1;
    pkt->len = len;
    memcpy(pkt->bytes, p, len);
    pkt->pid_pos = 0;
    if (qos > 0) { /* fixed header, remaining length, topic (2 + n), then the packet id */
        size_t pos = 1;
        while (pos < len && (p[pos] & 0x80))
            pos++;
        pos++;
        size_t tlen = pos + 2 <= len ? (size_t)p[pos] << 8 | p[pos + 1] : 0;
        pkt->pid_pos = (uint32_t)(pos + 2 + tlen);
    }
    return pkt;
}

void mqtt__pkt_unref(mqtt_pkt_t *pkt)
{
    if (pkt && --pkt->refs == 0) free(pkt);
}

void mqtt__enc_cache_clear(mqtt_enc_cache_t *cache)
{
    for (size_t i = 0; i < cache->n; i++)
        mqtt__pkt_unref(cache->e[i].pkt);
    cache->n = 0;
}

int mqtt__send_pkt(mqtt_conn_t *conn, const mqtt_pkt_t *pkt, uint16_t pid, bool dup)
{
    int rc = mqtt__conn_send(conn, pkt->bytes, pkt->len);
    if (rc < 0) return rc;
    uint8_t *p = conn->out->b + conn->out->len - pkt->len; /* this connection's copy */
    if (dup) p[0] |= 0x08;
    if (pkt->pid_pos && pkt->pid_pos + 2 <= pkt->len) {
        p[pkt->pid_pos] = (uint8_t)(pid >> 8);
        p[pkt->pid_pos + 1] = (uint8_t)pid;
    }
    return 0;
}

/* The same bytes go to every subscriber of this form: v3.1.x always; v5 unless the
 * packet carries something of this subscriber's (subscription ids, a topic alias) or a
 * message expiry (its remaining time is computed per send). */
static bool shareable(const mqtt_conn_t *conn, const mqtt_msg_t *msg, uint8_t qos, size_t nids)
{
    if (conn->version != MQTT_V5) return true;
    return nids == 0 && !msg->expiry && (qos > 0 || conn->topic_alias_max_out == 0);
}

static mqtt_pkt_t *cache_find(mqtt_enc_cache_t *cache, int version, uint8_t qos, bool retain)
{
    for (size_t i = 0; i < cache->n; i++)
        if (cache->e[i].version == version && cache->e[i].qos == qos &&
            cache->e[i].retain == retain)
            return cache->e[i].pkt;
    return NULL;
}

static void cache_put(mqtt_enc_cache_t *cache, int version, uint8_t qos, bool retain,
                      mqtt_pkt_t *pkt)
{
    if (cache->n == MQTT_ENC_FORMS) return;
    pkt->refs++;
    cache->e[cache->n].pkt = pkt;
    cache->e[cache->n].version = (uint8_t)version;
    cache->e[cache->n].qos = qos;
    cache->e[cache->n].retain = retain;
    cache->n++;
}

/* Encodes msg for this connection (packet id 0). QoS 0 outside a fan-out: *pkt stays
 * NULL and the bytes are in srv->w (*out, *len). 0, or < 0: not encodable. */
static int encode(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos, bool retain,
                  const uint32_t *sub_ids, size_t nids, int64_t now, bool keep, mqtt_pkt_t **pkt,
                  const uint8_t **out, size_t *len)
{
    mqtt_conn_t *conn = sess->conn;
    mqtt_server_t *srv = sess->srv;
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    gn_bytes_t topic = msg->topic;
    if (conn->version == MQTT_V5) {
        mqtt__msg_props(msg, &props, now);
        for (size_t i = 0; i < nids; i++)
            mqtt_p_varint(&props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER, sub_ids[i]);
        bool known = false;
        uint16_t alias = qos == 0 ? alias_for(conn, topic, &known) : 0;
        if (alias) {
            mqtt_p_u16(&props, MQTT_PROP_TOPIC_ALIAS, alias);
            if (known) topic = (gn_bytes_t){(const uint8_t *)"", 0};
        }
    }
    int rc = mqtt_encode_publish(&srv->w, conn->version, qos, false, retain, topic, 0, &props,
                                 msg->payload, out, len);
    mqtt_wbuf_free(&props);
    if (rc < 0) return rc;
    *pkt = NULL;
    if (!keep) return 0;
    if (!(*pkt = pkt_new(*out, *len, qos))) return GN_ENOMEM;
    return 0;
}

/* The packet id of the new inflight entry, 0 when none could be taken. */
static uint16_t inflight_add(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos,
                             mqtt_pkt_t *pkt)
{
    mqtt_inflight_t *f = mqtt__inflight_add(sess);
    if (!f) return 0;
    f->state = qos == 1 ? MQTT_WAIT_PUBACK : MQTT_WAIT_PUBREC;
    f->partition = msg->partition;
    f->offset = msg->offset;
    if (msg->log_topic) { /* cursors live as long as the session: borrow its topic */
        mqtt_cursor_t *c =
            mqtt__cursor_get(sess, msg->log_topic, msg->partition, msg->offset, true);
        f->log_topic = c ? c->topic : NULL;
    }
    f->packet = pkt;
    return f->pid;
}

bool mqtt__send_publish_shared(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos,
                               bool retain, const uint32_t *sub_ids, size_t nids,
                               mqtt_enc_cache_t *cache)
{
    mqtt_conn_t *conn = sess->conn;
    mqtt_server_t *srv = sess->srv;
    if (!conn || conn->closing) return false;
    if (qos > 0 && !mqtt__session_has_credit(sess)) return false;
    int64_t now = gn_now_ms();
    if (msg->expiry && msg->timestamp > 0 && (now - msg->timestamp) / 1000 >= msg->expiry)
        return true; /* expired: as good as delivered */
    if (qos == 0 && mqtt__conn_queued(conn) > MQTT_QOS0_QUEUE_LIMIT) {
        srv->stats.msgs_dropped++;
        return true;
    }
    bool share = cache && shareable(conn, msg, qos, nids);
    mqtt_pkt_t *pkt = share ? cache_find(cache, conn->version, qos, retain) : NULL;
    const uint8_t *out = NULL;
    size_t len = 0;
    if (pkt) {
        pkt->refs++;
    } else {
        int rc =
            encode(sess, msg, qos, retain, sub_ids, nids, now, qos > 0 || share, &pkt, &out, &len);
        if (rc == GN_ENOMEM) return false;
        if (rc < 0) return true;
        if (share) cache_put(cache, conn->version, qos, retain, pkt);
    }
    if (pkt) len = pkt->len;
    if (conn->max_packet_out && len > conn->max_packet_out) {
        srv->stats.msgs_dropped++; /* MQTT 5: never send what the client cannot take */
        mqtt__pkt_unref(pkt);
        return true;
    }
    uint16_t pid = 0;
    if (qos > 0) {
        if (!(pid = inflight_add(sess, msg, qos, pkt))) {
            mqtt__pkt_unref(pkt);
            return false;
        }
    }
    int rc = pkt ? mqtt__send_pkt(conn, pkt, pid, false) : mqtt__conn_send(conn, out, len);
    if (qos == 0) mqtt__pkt_unref(pkt); /* QoS > 0: the inflight entry holds it */
    if (rc == 0) {
        srv->stats.msgs_sent++;
        srv->stats.publish_sent++;
    }
    return true;
}

bool mqtt__send_publish(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos, bool retain,
                        const uint32_t *sub_ids, size_t nids)
{
    return mqtt__send_publish_shared(sess, msg, qos, retain, sub_ids, nids, NULL);
}
