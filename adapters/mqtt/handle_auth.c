/* SPDX-License-Identifier: Apache-2.0 */
/* AUTH from a client (MQTT 5 enhanced authentication, section 4.12): 0x18 continues the
 * exchange in progress (or brings client-first when CONNECT had no Authentication
 * Data), 0x19 starts a re-authentication once connected. Its Authentication Method must
 * be the one of CONNECT; AUTH on a connection without one, any other reason code, 0x18
 * with no exchange or 0x19 during one get DISCONNECT 0x82. The exchange itself is in
 * auth.c. Loop thread only. */
#include <string.h>

#include "mqtt.h"

int mqtt__handle_auth(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_auth_t *auth = conn->auth;
    const mqtt_props_t *pr = &pkt->props;
    if (!auth) {
        mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                              "AUTH without an authentication method in CONNECT");
        return -1;
    }
    const char *method = gn_scram_mech_name(auth->mech);
    if (!mqtt_props_has(pr, MQTT_PROP_AUTHENTICATION_METHOD) ||
        pr->auth_method.len != strlen(method) ||
        memcmp(pr->auth_method.ptr, method, pr->auth_method.len) != 0) {
        mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                              "AUTH with another authentication method than CONNECT's");
        return -1;
    }
    switch (pkt->reason) {
    case MQTT_RC_CONTINUE_AUTHENTICATION:
        if (!auth->scram) {
            mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                                  "AUTH continue without an exchange in progress");
            return -1;
        }
        break;
    case MQTT_RC_REAUTHENTICATE:
        if (auth->pending || auth->scram) {
            mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                                  "re-authentication while an exchange is in progress");
            return -1;
        }
        if (mqtt__auth_restart(conn) < 0) return -1;
        break;
    default:
        mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                              "AUTH with a reason code a client may not send");
        return -1;
    }
    return mqtt__auth_step(conn, pr->auth_data);
}
