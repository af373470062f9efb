/* SPDX-License-Identifier: Apache-2.0 */
/* AUTH from the server (MQTT 5 enhanced authentication): 0x18 continue with the next
 * challenge (SCRAM server-first), or 0x00 success ending a re-authentication (SCRAM
 * server-final); both carry the connection's Authentication Method. Loop thread only. */
#include <string.h>

#include "mqtt.h"

int mqtt__send_auth(mqtt_conn_t *conn, uint8_t rc, gn_bytes_t data)
{
    const char *method = gn_scram_mech_name(conn->auth->mech);
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    mqtt_p_str(&props, MQTT_PROP_AUTHENTICATION_METHOD,
               (gn_bytes_t){(const uint8_t *)method, strlen(method)});
    if (data.len) mqtt_p_str(&props, MQTT_PROP_AUTHENTICATION_DATA, data);
    const uint8_t *out;
    size_t len;
    int err = props.err ? props.err : mqtt_encode_auth(&conn->srv->w, rc, &props, &out, &len);
    if (err == 0) err = mqtt__conn_send(conn, out, len);
    mqtt_wbuf_free(&props);
    return err;
}
