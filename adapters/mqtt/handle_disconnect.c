/* SPDX-License-Identifier: Apache-2.0 */
/* DISCONNECT from a client: normal (0x00) drops the will, 0x04 keeps it; in v5 the
 * session expiry may be changed here (but not from 0 to non-zero: protocol error).
 * Loop thread only. */
#include "ganglion/logger.h"
#include "mqtt.h"

int mqtt__handle_disconnect(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_session_t *sess = conn->session;
    if (!sess) { /* during the AUTH exchange of CONNECT: nothing to keep */
        mqtt__conn_close(conn, NULL);
        return -1;
    }
    if (conn->version == MQTT_V5 &&
        mqtt_props_has(&pkt->props, MQTT_PROP_SESSION_EXPIRY_INTERVAL)) {
        if (sess->expiry == 0 && pkt->props.session_expiry != 0) {
            mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                                  "session expiry cannot be set at DISCONNECT after 0");
            return -1;
        }
        sess->expiry = pkt->props.session_expiry;
        sess->persistent = sess->expiry > 0;
    }
    conn->graceful = pkt->reason != MQTT_RC_DISCONNECT_WITH_WILL;
    GN_DEBUG(MQTT_MOD, "client disconnected | client=%s reason=%s", sess->client_id,
             mqtt_rc_name(pkt->reason));
    mqtt__conn_close(conn, NULL);
    return -1;
}
