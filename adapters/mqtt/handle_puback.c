/* SPDX-License-Identifier: Apache-2.0 */
/* PUBACK, PUBREC and PUBCOMP from a client for what we delivered: QoS 1 ends at
 * PUBACK; QoS 2 moves to PUBREL at PUBREC (or ends there on a v5 failure code; a
 * persistent session's PUBREL goes once that state is saved: session_sync.c) and ends
 * at PUBCOMP. A freed slot lets a lagging cursor catch up from the log. Loop thread. */
#include "ganglion/logger.h"
#include "mqtt.h"

int mqtt__handle_puback(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_session_t *sess = conn->session;
    mqtt_inflight_t *f = mqtt__inflight_find(sess, pkt->packet_id);
    if (!f) {
        GN_DEBUG(MQTT_MOD, "ack for an unknown packet id | client=%s type=%u pid=%u",
                 sess->client_id, pkt->type, pkt->packet_id);
        if (pkt->type == MQTT_PUBREC)
            mqtt__send_ack(conn, MQTT_PUBREL, pkt->packet_id, MQTT_RC_PACKET_ID_NOT_FOUND, NULL);
        return 0;
    }
    bool done = false;
    if (pkt->type == MQTT_PUBACK && f->state == MQTT_WAIT_PUBACK) {
        done = true;
    } else if (pkt->type == MQTT_PUBREC && f->state == MQTT_WAIT_PUBREC) {
        if (pkt->reason >= 0x80) {
            done = true;
        } else {
            f->state = MQTT_WAIT_PUBCOMP;
            mqtt__pkt_unref(f->packet); /* from here on a resend is PUBREL, not the PUBLISH */
            f->packet = NULL;
            if (mqtt__session_sync_gates(sess)) { /* PUBREL once another broker would too */
                f->pubrel = MQTT_PUBREL_UNSAVED;
                mqtt__session_sync_later(sess);
            } else {
                mqtt__send_ack(conn, MQTT_PUBREL, pkt->packet_id, 0, NULL);
            }
        }
    } else if (pkt->type == MQTT_PUBCOMP && f->state == MQTT_WAIT_PUBCOMP) {
        done = true;
    } else if (pkt->type == MQTT_PUBREC && f->state == MQTT_WAIT_PUBCOMP) {
        if (!f->pubrel) mqtt__send_ack(conn, MQTT_PUBREL, pkt->packet_id, 0, NULL); /* resent */
    } else {
        mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR, "acknowledgement out of order");
        return -1;
    }
    if (done) {
        mqtt__inflight_drop(sess, f);
        sess->moved = true; /* the saved position (first unacknowledged) may move */
        /* once per loop turn however many acks, and when half the window is free (or
         * after a quarter window of acks, so that live traffic on another partition
         * cannot starve a lagging one): a lagging session reads (and decodes) a batch
         * per many messages, not per message */
        size_t max =
            conn->receive_max_out < MQTT_MAX_INFLIGHT ? conn->receive_max_out : MQTT_MAX_INFLIGHT;
        if (sess->ninflight <= max / 2 || ++sess->acks_since_catchup >= max / 4) {
            sess->acks_since_catchup = 0;
            mqtt__session_catch_up_later(sess);
        }
    }
    return 0;
}
