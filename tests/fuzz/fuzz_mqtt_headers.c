/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for what an MQTT subscriber is sent of a log record
 * (adapters/mqtt/mapping.c): the record's headers, written by any Kafka or HTTP producer,
 * give the QoS, retain flag and expiry (mqtt__msg_parse_headers) and the MQTT 5
 * properties (mqtt__msg_props: mqtt.* headers to their properties, the rest to user
 * properties). The property block must be one the broker's own reader accepts for a
 * PUBLISH (no duplicate single-valued property, valid strings and values), since a
 * client disconnects on anything else; the whole PUBLISH must encode. Input: [header
 * count][flags: bit 0 a record timestamp, else none][raw record headers]. Seeds:
 * tests/fuzz/corpus/mqtt_headers/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/mqtt/codec_internal.h"
#include "../../adapters/mqtt/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    mqtt_msg_t msg = {.topic = {(const uint8_t *)"t/x", 3},
                      .payload = {(const uint8_t *)"p", 1},
                      .headers = {data + 2, size - 2},
                      .headers_count = data[0],
                      .timestamp = (data[1] & 1) ? 1000 : -1};
    mqtt__msg_parse_headers(&msg);
    if (msg.qos > 2) abort();
    mqtt_wbuf_t props, pkt;
    mqtt_wbuf_init(&props);
    mqtt_wbuf_init(&pkt);
    mqtt__msg_props(&msg, &props, 5000);
    mqtt_p_varint(&props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER, 7); /* as send_publish.c adds */
    if (props.err) abort();
    /* the block as a client reads it: length, then the properties */
    size_t plen = props.len - 5;
    uint8_t *blk = malloc(plen + 5);
    if (!blk) abort();
    size_t hl = 0;
    uint32_t v = (uint32_t)plen;
    do {
        blk[hl++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    memcpy(blk + hl, props.buf + 5, plen);
    mqtt_reader_t r = {.pos = blk, .end = blk + hl + plen};
    mqtt_props_t parsed;
    if (mqtt__props_read(&r, MQTT_IN(MQTT_PUBLISH), &parsed) != 0 || r.pos != r.end) abort();
    free(blk);
    const uint8_t *out;
    size_t len;
    if (mqtt_encode_publish(&pkt, MQTT_V5, msg.qos, false, msg.retain, msg.topic, 1, &props,
                            msg.payload, &out, &len) != 0)
        abort();
    mqtt_wbuf_free(&props);
    mqtt_wbuf_free(&pkt);
    return 0;
}
