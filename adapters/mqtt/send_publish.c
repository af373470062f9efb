/* SPDX-License-Identifier: Apache-2.0 */
/* PUBLISH to a subscriber: QoS and packet id, inflight tracking (a copy of the packet
 * for DUP resend on reconnect), receive maximum, the client's maximum packet size,
 * message expiry (remaining time; expired messages are not sent), outbound topic
 * aliases (QoS 0 only, so resent packets never depend on an alias), subscription
 * identifiers, and the record headers as v5 properties. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/logger.h"
#include "mqtt.h"

static uint16_t alloc_pid(mqtt_session_t *sess)
{
    for (int tries = 0; tries < 65536; tries++) {
        uint16_t pid = ++sess->next_pid;
        if (pid == 0) pid = sess->next_pid = 1;
        bool used = false;
        for (size_t i = 0; i < sess->ninflight && !used; i++)
            used = sess->inflight[i].pid == pid;
        if (!used) return pid;
    }
    return 0;
}

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

bool mqtt__send_publish(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos, bool retain,
                        const uint32_t *sub_ids, size_t nids)
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
    uint16_t pid = qos > 0 ? alloc_pid(sess) : 0;
    const uint8_t *out;
    size_t len;
    int rc = mqtt_encode_publish(&srv->w, conn->version, qos, false, retain, topic, pid, &props,
                                 msg->payload, &out, &len);
    mqtt_wbuf_free(&props);
    if (rc < 0) return true;
    if (conn->max_packet_out && len > conn->max_packet_out) {
        srv->stats.msgs_dropped++; /* MQTT 5: never send what the client cannot take */
        return true;
    }
    if (qos > 0) {
        mqtt_inflight_t *nf = realloc(sess->inflight, (sess->ninflight + 1) * sizeof(*nf));
        if (!nf) return false;
        sess->inflight = nf;
        mqtt_inflight_t *f = &nf[sess->ninflight];
        memset(f, 0, sizeof(*f));
        f->pid = pid;
        f->qos = qos;
        f->state = qos == 1 ? MQTT_WAIT_PUBACK : MQTT_WAIT_PUBREC;
        f->partition = msg->partition;
        f->offset = msg->offset;
        f->log_topic = msg->log_topic ? strdup(msg->log_topic) : NULL;
        f->packet = malloc(len);
        if (!f->packet) {
            free(f->log_topic);
            return false;
        }
        memcpy(f->packet, out, len);
        f->packet_len = len;
        sess->ninflight++;
    }
    if (mqtt__conn_send(conn, out, len) == 0) {
        srv->stats.msgs_sent++;
        srv->stats.publish_sent++;
    }
    return true;
}
