/* SPDX-License-Identifier: Apache-2.0 */
/* PINGREQ: answered by PINGRESP (the keepalive clock was reset by the read itself).
 * Loop thread only. */
#include "mqtt.h"

int mqtt__handle_pingreq(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    (void)pkt;
    mqtt__send_pingresp(conn);
    return 0;
}
