/* SPDX-License-Identifier: Apache-2.0 */
/* CONNACK: the session-present flag and reason code (the 3.1.1 return code below v5)
 * and, in v5, the properties handle_connect chose (limits, assigned client id, server
 * keep-alive) plus a reason string when the client asked for problem information.
 * Loop thread only. */
#include <string.h>

#include "mqtt.h"

int mqtt__send_connack_props(mqtt_conn_t *conn, bool session_present, uint8_t rc,
                             const char *reason, const mqtt_wbuf_t *extra)
{
    mqtt_server_t *srv = conn->srv;
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    if (conn->version == MQTT_V5) {
        if (extra && extra->len > 5) mqtt_w_bytes(&props, extra->buf + 5, extra->len - 5);
        if (reason)
            mqtt_p_str(&props, MQTT_PROP_REASON_STRING,
                       (gn_bytes_t){(const uint8_t *)reason, strlen(reason)});
    }
    const uint8_t *out;
    size_t len;
    int err = mqtt_encode_connack(&srv->w, conn->version, session_present, rc,
                                  conn->version == MQTT_V5 ? &props : NULL, &out, &len);
    if (err == 0) err = mqtt__conn_send(conn, out, len);
    mqtt_wbuf_free(&props);
    return err;
}

int mqtt__send_connack(mqtt_conn_t *conn, bool session_present, uint8_t rc, const char *reason)
{
    return mqtt__send_connack_props(conn, session_present, rc, reason, NULL);
}
