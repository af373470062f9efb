/* SPDX-License-Identifier: Apache-2.0 */
/* DISCONNECT from the server (MQTT 5 only): a reason code and, when the client asked
 * for problem information, a reason string. Loop thread only. */
#include <string.h>

#include "mqtt.h"

int mqtt__send_disconnect(mqtt_conn_t *conn, uint8_t rc, const char *reason)
{
    if (conn->version != MQTT_V5) return 0;
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    if (reason) /* allowed on DISCONNECT even without problem information */
        mqtt_p_str(&props, MQTT_PROP_REASON_STRING,
                   (gn_bytes_t){(const uint8_t *)reason, strlen(reason)});
    const uint8_t *out;
    size_t len;
    int err = mqtt_encode_disconnect(&conn->srv->w, MQTT_V5, rc, &props, &out, &len);
    if (err == 0) err = mqtt__conn_send(conn, out, len);
    mqtt_wbuf_free(&props);
    return err;
}
