/* SPDX-License-Identifier: Apache-2.0 */
/* Encoders for every packet the server sends: CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL,
 * PUBCOMP, SUBACK, UNSUBACK, PINGRESP, DISCONNECT, AUTH. Each writes one whole packet into a
 * caller-owned mqtt_wbuf_t. Pure functions: any thread. */
#include "codec.h"
#include "codec_internal.h"

int mqtt_encode_connack(mqtt_wbuf_t *w, int version, bool session_present, uint8_t rc,
                        const mqtt_wbuf_t *props, const uint8_t **out, size_t *out_len)
{
    mqtt__wbuf_reset(w);
    mqtt_w_u8(w, session_present ? 1 : 0);
    mqtt_w_u8(w, version == MQTT_V5 ? rc : mqtt_rc_to_connack_v3(rc));
    if (version == MQTT_V5) mqtt_w_props(w, props);
    return mqtt_wbuf_finish(w, MQTT_CONNACK << 4, out, out_len);
}

int mqtt_encode_ack(mqtt_wbuf_t *w, int version, uint8_t type, uint16_t packet_id, uint8_t rc,
                    const mqtt_wbuf_t *props, const uint8_t **out, size_t *out_len)
{
    mqtt__wbuf_reset(w);
    mqtt_w_u16(w, packet_id);
    bool has_props = props && props->len > 5;
    if (version == MQTT_V5 && (rc != 0 || has_props)) {
        mqtt_w_u8(w, rc);
        if (has_props) mqtt_w_props(w, props);
    }
    return mqtt_wbuf_finish(w, (uint8_t)(type << 4 | (type == MQTT_PUBREL ? 2 : 0)), out, out_len);
}

int mqtt_encode_suback(mqtt_wbuf_t *w, int version, uint8_t type, uint16_t packet_id,
                       const uint8_t *rcs, size_t n, const mqtt_wbuf_t *props, const uint8_t **out,
                       size_t *out_len)
{
    mqtt__wbuf_reset(w);
    mqtt_w_u16(w, packet_id);
    if (version == MQTT_V5) mqtt_w_props(w, props);
    /* an MQTT 3.1.1 UNSUBACK has no payload */
    if (type == MQTT_SUBACK || version == MQTT_V5) mqtt_w_bytes(w, rcs, n);
    return mqtt_wbuf_finish(w, (uint8_t)(type << 4), out, out_len);
}

int mqtt_encode_pingresp(mqtt_wbuf_t *w, const uint8_t **out, size_t *out_len)
{
    mqtt__wbuf_reset(w);
    return mqtt_wbuf_finish(w, MQTT_PINGRESP << 4, out, out_len);
}

int mqtt_encode_disconnect(mqtt_wbuf_t *w, int version, uint8_t rc, const mqtt_wbuf_t *props,
                           const uint8_t **out, size_t *out_len)
{
    mqtt__wbuf_reset(w);
    bool has_props = props && props->len > 5;
    if (version == MQTT_V5 && (rc != 0 || has_props)) {
        mqtt_w_u8(w, rc);
        if (has_props) mqtt_w_props(w, props);
    }
    return mqtt_wbuf_finish(w, MQTT_DISCONNECT << 4, out, out_len);
}

int mqtt_encode_auth(mqtt_wbuf_t *w, uint8_t rc, const mqtt_wbuf_t *props, const uint8_t **out,
                     size_t *out_len)
{
    mqtt__wbuf_reset(w);
    mqtt_w_u8(w, rc); /* always written: the method property is always there */
    mqtt_w_props(w, props);
    return mqtt_wbuf_finish(w, MQTT_AUTH << 4, out, out_len);
}

int mqtt_encode_publish(mqtt_wbuf_t *w, int version, uint8_t qos, bool dup, bool retain,
                        gn_bytes_t topic, uint16_t packet_id, const mqtt_wbuf_t *props,
                        gn_bytes_t payload, const uint8_t **out, size_t *out_len)
{
    mqtt__wbuf_reset(w);
    mqtt_w_str(w, topic);
    if (qos > 0) mqtt_w_u16(w, packet_id);
    if (version == MQTT_V5) mqtt_w_props(w, props);
    mqtt_w_bytes(w, payload.ptr, payload.len);
    uint8_t first = (uint8_t)(MQTT_PUBLISH << 4 | (dup ? 8 : 0) | qos << 1 | (retain ? 1 : 0));
    return mqtt_wbuf_finish(w, first, out, out_len);
}
