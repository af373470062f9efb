/* SPDX-License-Identifier: Apache-2.0 */
/* The bounds-checked reader shared by codec.c, decode.c and encode.c (as Mosquitto's
 * packet__read_uint16): every read checks the end and sets a sticky error. */
#ifndef MQTT_CODEC_INTERNAL_H
#define MQTT_CODEC_INTERNAL_H

#include "codec.h"

typedef struct mqtt_reader {
    const uint8_t *pos;
    const uint8_t *end;
    int err;        /* sticky: GN_EINVALID_REQUEST */
    uint8_t reason; /* 0: MALFORMED_PACKET when err is set */
} mqtt_reader_t;

int mqtt__r_u8(mqtt_reader_t *r, uint8_t *v);
int mqtt__r_u16(mqtt_reader_t *r, uint16_t *v);
int mqtt__r_u32(mqtt_reader_t *r, uint32_t *v);
int mqtt__r_varint(mqtt_reader_t *r, uint32_t *v);
int mqtt__r_bin(mqtt_reader_t *r, gn_bytes_t *out); /* 2-byte length + bytes */
int mqtt__r_str(mqtt_reader_t *r, gn_bytes_t *out); /* same, UTF-8 checked */
int mqtt__varint_read(const uint8_t *p, size_t len, uint32_t *v, size_t *used);
int mqtt__props_read(mqtt_reader_t *r, uint32_t where, mqtt_props_t *props);
void mqtt__wbuf_reset(mqtt_wbuf_t *w);

#endif
