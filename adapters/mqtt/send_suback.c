/* SPDX-License-Identifier: Apache-2.0 */
/* SUBACK and UNSUBACK: one reason code per filter (granted QoS or failure); an MQTT
 * 3.1.1 UNSUBACK carries none. Loop thread only. */
#include "mqtt.h"

int mqtt__send_suback(mqtt_conn_t *conn, uint8_t type, uint16_t pid, const uint8_t *rcs, size_t n)
{
    const uint8_t *out;
    size_t len;
    int err = mqtt_encode_suback(&conn->srv->w, conn->version, type, pid, rcs, n, NULL, &out, &len);
    return err < 0 ? err : mqtt__conn_send(conn, out, len);
}
