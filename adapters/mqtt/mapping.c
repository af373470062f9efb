/* SPDX-License-Identifier: Apache-2.0 */
/* The MQTT <-> log mapping (DESIGN.md "MQTT <-> log"): MQTT topic T/rest is log topic
 * T with key rest (no key for one level); MQTT 5 user properties are record headers;
 * content type, response topic, correlation data, message expiry and payload format
 * are mqtt.-prefixed headers, as are the publish QoS and retain flag (mqtt.qos,
 * mqtt.retain) that delivery needs. Pure functions: loop thread callers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"
#include "mqtt.h"

#define H_CONTENT_TYPE   "mqtt.content_type"
#define H_RESPONSE_TOPIC "mqtt.response_topic"
#define H_CORRELATION    "mqtt.correlation_data"
#define H_EXPIRY         "mqtt.message_expiry"
#define H_FORMAT         "mqtt.payload_format"
#define H_QOS            "mqtt.qos"
#define H_RETAIN         "mqtt.retain"

int mqtt__map_topic(gn_bytes_t t, char *buf, size_t cap, gn_bytes_t *key)
{
    const uint8_t *slash = memchr(t.ptr, '/', t.len);
    size_t first = slash ? (size_t)(slash - t.ptr) : t.len;
    if (first == 0 || first >= cap) return GN_EINVALID_TOPIC;
    memcpy(buf, t.ptr, first);
    buf[first] = '\0';
    if (gn_topic_name_validate(buf, first) < 0) return GN_EINVALID_TOPIC;
    if (gn_topic_name_internal(buf)) return GN_EINVALID_TOPIC; /* internal: the caller logs */
    if (slash)
        *key = (gn_bytes_t){slash + 1, t.len - first - 1};
    else
        *key = GN_BYTES_NULL;
    return 0;
}

static bool name_is(gn_bytes_t k, const char *s)
{
    return k.len == strlen(s) && memcmp(k.ptr, s, k.len) == 0;
}

static uint32_t parse_u32(gn_bytes_t v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < v.len && i < 11; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') return 0;
        x = x * 10 + (v.ptr[i] - '0');
    }
    return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

void mqtt__msg_parse_headers(mqtt_msg_t *msg)
{
    msg->qos = 2;
    msg->retain = false;
    msg->expiry = 0;
    gn_bytes_t raw = msg->headers;
    gn_record_header_t h;
    for (int32_t i = 0; i < msg->headers_count && gn_record_header_next(&raw, &h) == 1; i++) {
        if (h.key.len < 5 || memcmp(h.key.ptr, "mqtt.", 5) != 0) continue;
        if (name_is(h.key, H_QOS) && h.value.len == 1 && h.value.ptr[0] >= '0' &&
            h.value.ptr[0] <= '2')
            msg->qos = h.value.ptr[0] - '0';
        else if (name_is(h.key, H_RETAIN))
            msg->retain = h.value.len == 1 && h.value.ptr[0] == '1';
        else if (name_is(h.key, H_EXPIRY))
            msg->expiry = parse_u32(h.value);
    }
}

/* A property MQTT allows once per PUBLISH, not written yet: then it is marked written. */
static bool once(uint32_t *sent, uint8_t id)
{
    if (*sent & (1u << (id & 31))) return false;
    *sent |= 1u << (id & 31);
    return true;
}

void mqtt__msg_props(const mqtt_msg_t *msg, mqtt_wbuf_t *w, int64_t now_ms)
{
    gn_bytes_t raw = msg->headers;
    gn_record_header_t h;
    uint32_t sent = 0; /* a record may repeat a header (any Kafka producer): the first wins */
    for (int32_t i = 0; i < msg->headers_count && gn_record_header_next(&raw, &h) == 1; i++) {
        gn_bytes_t v = h.value.ptr ? h.value : (gn_bytes_t){(const uint8_t *)"", 0};
        if (h.key.len >= 5 && memcmp(h.key.ptr, "mqtt.", 5) == 0) {
            if (name_is(h.key, H_CONTENT_TYPE) && mqtt_utf8_valid(v.ptr, v.len) &&
                once(&sent, MQTT_PROP_CONTENT_TYPE))
                mqtt_p_str(w, MQTT_PROP_CONTENT_TYPE, v);
            else if (name_is(h.key, H_RESPONSE_TOPIC) && mqtt_topic_name_valid(v) &&
                     once(&sent, MQTT_PROP_RESPONSE_TOPIC))
                mqtt_p_str(w, MQTT_PROP_RESPONSE_TOPIC, v);
            else if (name_is(h.key, H_CORRELATION) && v.len <= 65535 &&
                     once(&sent, MQTT_PROP_CORRELATION_DATA))
                mqtt_p_str(w, MQTT_PROP_CORRELATION_DATA, v);
            else if (name_is(h.key, H_FORMAT) && v.len == 1 && v.ptr[0] == '1' &&
                     once(&sent, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR))
                mqtt_p_u8(w, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
            else if (name_is(h.key, H_EXPIRY) && msg->expiry &&
                     once(&sent, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL)) {
                int64_t left = (int64_t)msg->expiry;
                if (msg->timestamp > 0 && now_ms > msg->timestamp)
                    left -= (now_ms - msg->timestamp) / 1000;
                mqtt_p_u32(w, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, left > 1 ? (uint32_t)left : 1);
            }
            continue;
        }
        if (h.key.len > 65535 || v.len > 65535 || !mqtt_utf8_valid(h.key.ptr, h.key.len) ||
            !mqtt_utf8_valid(v.ptr, v.len))
            continue; /* a Kafka header MQTT cannot carry */
        mqtt_p_pair(w, h.key, v);
    }
}

static void put(gn_record_header_t *hs, size_t *n, const char *name, gn_bytes_t v)
{
    hs[*n].key = (gn_bytes_t){(const uint8_t *)name, strlen(name)};
    hs[*n].value = v;
    (*n)++;
}

int mqtt__headers_from_props(const mqtt_props_t *props, uint8_t qos, bool retain,
                             gn_record_header_t **out, size_t *count, char *scratch,
                             size_t scratch_cap, gn_record_header_t *buf, size_t buf_cap)
{
    size_t max = 8 + (props ? props->user_count : 0), n = 0;
    gn_record_header_t *hs = max <= buf_cap ? buf : malloc(max * sizeof(*hs));
    if (!hs) return GN_ENOMEM;
    if (props) {
        size_t pos = 0;
        gn_bytes_t k, v;
        while (n < max - 8 && mqtt_props_next_user(props, &pos, &k, &v) == 1) {
            hs[n].key = k;
            hs[n].value = v;
            n++;
        }
        if (mqtt_props_has(props, MQTT_PROP_CONTENT_TYPE))
            put(hs, &n, H_CONTENT_TYPE, props->content_type);
        if (mqtt_props_has(props, MQTT_PROP_RESPONSE_TOPIC))
            put(hs, &n, H_RESPONSE_TOPIC, props->response_topic);
        if (mqtt_props_has(props, MQTT_PROP_CORRELATION_DATA))
            put(hs, &n, H_CORRELATION, props->correlation_data);
        if (mqtt_props_has(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL)) {
            int len = snprintf(scratch, scratch_cap, "%u", props->message_expiry);
            put(hs, &n, H_EXPIRY, (gn_bytes_t){(const uint8_t *)scratch, (size_t)len});
        }
        if (mqtt_props_has(props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) && props->payload_format)
            put(hs, &n, H_FORMAT, GN_BYTES_STR("1"));
    }
    static const char *digits[] = {"0", "1", "2"};
    put(hs, &n, H_QOS, (gn_bytes_t){(const uint8_t *)digits[qos], 1});
    if (retain) put(hs, &n, H_RETAIN, GN_BYTES_STR("1"));
    *out = hs;
    *count = n;
    return 0;
}
