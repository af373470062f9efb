/* SPDX-License-Identifier: Apache-2.0 */
/* PUBREL from a client (QoS 2, step 3): releases the packet id held since PUBLISH and
 * answers PUBCOMP (v5: PACKET_ID_NOT_FOUND when it was not held). Loop thread only. */
#include "mqtt.h"

int mqtt__handle_pubrel(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_session_t *sess = conn->session;
    uint32_t *e = mqtt__qos2_find(sess, pkt->packet_id);
    uint8_t rc = e ? 0 : MQTT_RC_PACKET_ID_NOT_FOUND;
    if (e) {
        mqtt__qos2_remove(sess, pkt->packet_id);
        sess->moved = true; /* the next checkpoint drops the saved id */
    }
    mqtt__send_ack(conn, MQTT_PUBCOMP, pkt->packet_id, rc, NULL);
    return 0;
}
