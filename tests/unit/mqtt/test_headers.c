/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the record headers of a PUBLISH (adapters/mqtt/mapping.c,
 * mqtt__headers_from_props): built into the caller's array when it is big enough (the
 * batched publish path allocates nothing per message), into a malloc'd one otherwise,
 * with mqtt.qos and mqtt.retain as the log stores them; and back (mqtt__msg_props): a
 * header a Kafka producer repeats gives its MQTT 5 property once (found by
 * fuzz_mqtt_headers: twice was a protocol error that made subscribers disconnect). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/codec_internal.h"
#include "../../../adapters/mqtt/mqtt.h"

static bool bytes_is(gn_bytes_t b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static void test_headers__caller_buffer(void **state)
{
    (void)state;
    gn_record_header_t buf[16], *hs = NULL;
    size_t n = 0;
    char scratch[16];
    assert_int_equal(
        mqtt__headers_from_props(NULL, 1, false, &hs, &n, scratch, sizeof scratch, buf, 16), 0);
    assert_ptr_equal(hs, buf);
    assert_int_equal(n, 1);
    assert_true(bytes_is(hs[0].key, "mqtt.qos"));
    assert_true(bytes_is(hs[0].value, "1"));
}

static void test_headers__heap_when_small(void **state)
{
    (void)state;
    gn_record_header_t buf[2], *hs = NULL;
    size_t n = 0;
    char scratch[16];
    assert_int_equal(
        mqtt__headers_from_props(NULL, 2, true, &hs, &n, scratch, sizeof scratch, buf, 2), 0);
    assert_ptr_not_equal(hs, buf);
    assert_int_equal(n, 2);
    assert_true(bytes_is(hs[0].value, "2"));
    assert_true(bytes_is(hs[1].key, "mqtt.retain"));
    assert_true(bytes_is(hs[1].value, "1"));
    free(hs);
}

static void test_headers__repeated_header_sent_once(void **state)
{
    (void)state;
    /* Kafka record headers (zigzag varint lengths): content type, format and expiry twice */
    static const char raw[] = "\x22mqtt.content_type\x02"
                              "a"
                              "\x22mqtt.content_type\x02"
                              "b"
                              "\x26mqtt.payload_format\x02"
                              "1"
                              "\x26mqtt.payload_format\x02"
                              "1"
                              "\x26mqtt.message_expiry\x04"
                              "60"
                              "\x26mqtt.message_expiry\x04"
                              "30";
    mqtt_msg_t msg = {.headers = {(const uint8_t *)raw, sizeof raw - 1}, .headers_count = 6};
    mqtt__msg_parse_headers(&msg);
    assert_int_equal(msg.expiry, 30);
    mqtt_wbuf_t w;
    mqtt_wbuf_init(&w);
    mqtt__msg_props(&msg, &w, 0);
    uint8_t blk[256];
    size_t plen = w.len - 5; /* after the fixed header's headroom */
    assert_true(plen < 128);
    blk[0] = (uint8_t)plen;
    memcpy(blk + 1, w.buf + 5, plen);
    mqtt_reader_t r = {.pos = blk, .end = blk + 1 + plen};
    mqtt_props_t props;
    assert_int_equal(mqtt__props_read(&r, MQTT_IN(MQTT_PUBLISH), &props), 0);
    assert_true(bytes_is(props.content_type, "a"));
    assert_int_equal(props.payload_format, 1);
    assert_int_equal(props.message_expiry, 30);
    mqtt_wbuf_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers__caller_buffer),
        cmocka_unit_test(test_headers__heap_when_small),
        cmocka_unit_test(test_headers__repeated_header_sent_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
