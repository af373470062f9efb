/* SPDX-License-Identifier: Apache-2.0 */
/* AUTH (v5 enhanced authentication): no method is supported, so CONNECT refuses an
 * authentication method and any AUTH afterwards is a protocol error. Loop thread only. */
#include "mqtt.h"

int mqtt__handle_auth(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    (void)pkt;
    mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR, "AUTH without an authentication method");
    return -1;
}
