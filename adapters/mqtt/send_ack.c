/* SPDX-License-Identifier: Apache-2.0 */
/* PUBACK, PUBREC, PUBREL and PUBCOMP (one shape: packet id, v5 reason code and an
 * optional reason string). Loop thread only. */
#include <string.h>

#include "mqtt.h"

int mqtt__send_ack(mqtt_conn_t *conn, uint8_t type, uint16_t pid, uint8_t rc, const char *reason)
{
    mqtt_server_t *srv = conn->srv;
    mqtt_wbuf_t props;
    mqtt_wbuf_init(&props);
    if (conn->version == MQTT_V5 && reason && conn->request_problem_info)
        mqtt_p_str(&props, MQTT_PROP_REASON_STRING,
                   (gn_bytes_t){(const uint8_t *)reason, strlen(reason)});
    const uint8_t *out;
    size_t len;
    int err = mqtt_encode_ack(&srv->w, conn->version, type, pid, rc, &props, &out, &len);
    if (err == 0) err = mqtt__conn_send(conn, out, len);
    mqtt_wbuf_free(&props);
    return err;
}
