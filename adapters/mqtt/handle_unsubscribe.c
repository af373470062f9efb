/* SPDX-License-Identifier: Apache-2.0 */
/* UNSUBSCRIBE: removes each filter from the session and the trie; v5 UNSUBACK says
 * success or NO_SUBSCRIPTION_EXISTED per filter. A persistent session is saved.
 * Loop thread only. */
#include "mqtt.h"

int mqtt__handle_unsubscribe(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_session_t *sess = conn->session;
    uint8_t rcs[128];
    size_t pos = 0, n = 0;
    mqtt_sub_entry_t e;
    while (mqtt_sub_next(pkt, conn->version, &pos, &e) == 1) {
        bool found = mqtt__session_unsubscribe(sess, e.filter);
        if (n < sizeof rcs) rcs[n++] = found ? MQTT_RC_SUCCESS : MQTT_RC_NO_SUBSCRIPTION_EXISTED;
    }
    mqtt__send_suback(conn, MQTT_UNSUBACK, pkt->packet_id, rcs, n);
    mqtt__share_sync(sess);
    if (sess->persistent) mqtt__session_save(sess);
    return 0;
}
