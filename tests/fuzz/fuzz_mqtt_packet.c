/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the MQTT packet decoder (adapters/mqtt/decode.c, codec.c): the
 * input's first byte picks the session's protocol state (before CONNECT, 3.1, 3.1.1,
 * 5.0) and the rest is decoded as a stream of packets, as a connection would; every
 * decoded packet's properties, user properties and subscription entries are walked,
 * and PUBLISH packets are re-encoded and decoded again. Seeds: tests/fixtures/mqtt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/mqtt/codec.h"
#include "ganglion/error.h"

static volatile size_t sink;

static void walk(const mqtt_packet_t *pkt, int version)
{
    size_t pos = 0;
    gn_bytes_t k, v;
    while (mqtt_props_next_user(&pkt->props, &pos, &k, &v) == 1)
        sink += k.len + v.len;
    pos = 0;
    while (mqtt_props_next_user(&pkt->will_props, &pos, &k, &v) == 1)
        sink += k.len + v.len;
    mqtt_sub_entry_t e;
    pos = 0;
    while (mqtt_sub_next(pkt, version, &pos, &e) == 1) {
        sink += e.filter.len + mqtt_topic_filter_valid(e.filter);
    }
    if (pkt->type == MQTT_PUBLISH && pkt->topic.len) {
        mqtt_wbuf_t w;
        const uint8_t *out;
        size_t len;
        mqtt_wbuf_init(&w);
        if (mqtt_encode_publish(&w, version, pkt->qos, pkt->dup, pkt->retain, pkt->topic,
                                pkt->qos ? pkt->packet_id : 0, NULL, pkt->payload, &out,
                                &len) == 0) {
            mqtt_packet_t again;
            uint8_t reason;
            int64_t n = mqtt_packet_decode(out, len, version, 0, &again, &reason);
            if (n != (int64_t)len) abort(); /* what we encode we must decode */
        }
        mqtt_wbuf_free(&w);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const int versions[4] = {0, MQTT_V31, MQTT_V311, MQTT_V5};
    int version = versions[data[0] & 3];
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    while (len > 0) {
        mqtt_packet_t pkt;
        uint8_t reason;
        int64_t n = mqtt_packet_decode(p, len, version, (data[0] & 4) ? 64 : 0, &pkt, &reason);
        if (n <= 0) break;
        if ((size_t)n > len) abort();
        if (pkt.type == MQTT_CONNECT) version = pkt.protocol_level;
        walk(&pkt, version);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
