/* SPDX-License-Identifier: Apache-2.0 */
/* PINGRESP, the answer to PINGREQ. Loop thread only. */
#include "mqtt.h"

int mqtt__send_pingresp(mqtt_conn_t *conn)
{
    const uint8_t *out;
    size_t len;
    int err = mqtt_encode_pingresp(&conn->srv->w, &out, &len);
    return err < 0 ? err : mqtt__conn_send(conn, out, len);
}
