/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the MQTT codec (adapters/mqtt/codec.c, decode.c, encode.c): golden
 * frames captured from mosquitto_pub/mosquitto_sub 2.0 (tests/fixtures/mqtt, recorded
 * by capture.py), hand-written malformed frames, UTF-8 and topic rules, and encoder
 * output checked byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/codec.h"
#include "ganglion/error.h"

static uint8_t *load(const char *name, size_t *len)
{
    char path[1024];
    const char *here = __FILE__;
    const char *cut = strstr(here, "tests/unit/mqtt/");
    assert_non_null(cut);
    snprintf(path, sizeof path, "%.*stests/fixtures/mqtt/%s", (int)(cut - here), here, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(65536);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static int64_t decode_file(const char *name, int version, mqtt_packet_t *pkt, uint8_t **buf)
{
    size_t len;
    uint8_t reason = 0xff;
    *buf = load(name, &len);
    int64_t n = mqtt_packet_decode(*buf, len, version, 0, pkt, &reason);
    assert_int_equal(n, (int64_t)len);
    assert_int_equal(reason, 0);
    /* every strict prefix asks for more */
    for (size_t k = 0; k < len; k++) {
        mqtt_packet_t tmp;
        assert_int_equal(mqtt_packet_decode(*buf, k, version, 0, &tmp, &reason), GN_EAGAIN);
    }
    return n;
}

static int eq(gn_bytes_t b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static void test_decode__mosquitto_v311_connect_and_publish(void **state)
{
    mqtt_packet_t pkt;
    uint8_t *buf;
    decode_file("v311-pub-qos0-1-connect.bin", 0, &pkt, &buf);
    assert_int_equal(pkt.type, MQTT_CONNECT);
    assert_int_equal(pkt.protocol_level, MQTT_V311);
    assert_true(eq(pkt.client_id, "golden1"));
    assert_true(pkt.connect_flags & MQTT_CF_CLEAN);
    assert_int_equal(pkt.keep_alive, 60);
    free(buf);
    decode_file("v311-pub-qos0-2-publish.bin", MQTT_V311, &pkt, &buf);
    assert_int_equal(pkt.type, MQTT_PUBLISH);
    assert_int_equal(pkt.qos, 0);
    assert_true(eq(pkt.topic, "sensors/room1/temp"));
    assert_true(eq(pkt.payload, "21.5"));
    free(buf);
    decode_file("v311-pub-qos0-3-disconnect.bin", MQTT_V311, &pkt, &buf);
    assert_int_equal(pkt.type, MQTT_DISCONNECT);
    free(buf);
}

static void test_decode__mosquitto_v311_credentials_retain_qos1(void **state)
{
    mqtt_packet_t pkt;
    uint8_t *buf;
    decode_file("v311-pub-qos1-1-connect.bin", 0, &pkt, &buf);
    assert_true(eq(pkt.username, "alice"));
    assert_true(eq(pkt.password, "secret"));
    free(buf);
    decode_file("v311-pub-qos1-2-publish.bin", MQTT_V311, &pkt, &buf);
    assert_int_equal(pkt.qos, 1);
    assert_true(pkt.retain);
    assert_int_not_equal(pkt.packet_id, 0);
    assert_true(eq(pkt.payload, "22.0"));
    free(buf);
}

static void test_decode__mosquitto_v311_will_and_qos2(void **state)
{
    mqtt_packet_t pkt;
    uint8_t *buf;
    decode_file("v311-will-1-connect.bin", 0, &pkt, &buf);
    assert_true(pkt.connect_flags & MQTT_CF_WILL);
    assert_true(pkt.connect_flags & MQTT_CF_WILL_RETAIN);
    assert_int_equal(MQTT_CF_WILL_QOS(pkt.connect_flags), 1);
    assert_true(eq(pkt.will_topic, "status/golden3"));
    assert_true(eq(pkt.will_payload, "offline"));
    assert_int_equal(pkt.keep_alive, 30);
    free(buf);
    decode_file("v311-will-2-publish.bin", MQTT_V311, &pkt, &buf);
    assert_int_equal(pkt.qos, 2);
    free(buf);
    decode_file("v311-will-3-pubrel.bin", MQTT_V311, &pkt, &buf);
    assert_int_equal(pkt.type, MQTT_PUBREL);
    free(buf);
}

static void test_decode__mosquitto_v5_properties(void **state)
{
    mqtt_packet_t pkt;
    uint8_t *buf;
    decode_file("v5-pub-qos1-1-connect.bin", 0, &pkt, &buf);
    assert_int_equal(pkt.protocol_level, MQTT_V5);
    assert_true(mqtt_props_has(&pkt.props, MQTT_PROP_SESSION_EXPIRY_INTERVAL));
    assert_int_equal(pkt.props.session_expiry, 300);
    assert_int_equal(pkt.props.receive_maximum, 10);
    free(buf);
    decode_file("v5-pub-qos1-2-publish.bin", MQTT_V5, &pkt, &buf);
    assert_int_equal(pkt.qos, 1);
    assert_true(eq(pkt.props.content_type, "text/plain"));
    assert_true(eq(pkt.props.response_topic, "reply/golden4"));
    assert_true(eq(pkt.props.correlation_data, "abc"));
    assert_int_equal(pkt.props.message_expiry, 60);
    assert_int_equal(pkt.props.user_count, 1);
    size_t pos = 0;
    gn_bytes_t k, v;
    assert_int_equal(mqtt_props_next_user(&pkt.props, &pos, &k, &v), 1);
    assert_true(eq(k, "unit"));
    assert_true(eq(v, "celsius"));
    assert_int_equal(mqtt_props_next_user(&pkt.props, &pos, &k, &v), 0);
    assert_true(eq(pkt.payload, "23.5"));
    free(buf);
    decode_file("v5-pub-alias-2-publish.bin", MQTT_V5, &pkt, &buf);
    assert_int_equal(pkt.props.topic_alias, 3);
    assert_int_equal(pkt.props.payload_format, 1);
    free(buf);
}

static void test_decode__mosquitto_subscribe(void **state)
{
    mqtt_packet_t pkt;
    uint8_t *buf;
    decode_file("v311-sub-2-subscribe.bin", MQTT_V311, &pkt, &buf);
    assert_int_equal(pkt.entry_count, 2);
    size_t pos = 0;
    mqtt_sub_entry_t e;
    assert_int_equal(mqtt_sub_next(&pkt, MQTT_V311, &pos, &e), 1);
    assert_true(eq(e.filter, "sensors/#"));
    assert_int_equal(e.qos, 1);
    assert_int_equal(mqtt_sub_next(&pkt, MQTT_V311, &pos, &e), 1);
    assert_true(eq(e.filter, "+/room1/+"));
    assert_int_equal(mqtt_sub_next(&pkt, MQTT_V311, &pos, &e), 0);
    free(buf);
    decode_file("v5-sub-2-subscribe.bin", MQTT_V5, &pkt, &buf);
    assert_int_equal(pkt.props.subscription_id, 42);
    pos = 0;
    assert_int_equal(mqtt_sub_next(&pkt, MQTT_V5, &pos, &e), 1);
    assert_int_equal(e.qos, 2);
    free(buf);
}

static void expect_error(const uint8_t *p, size_t len, int version, uint8_t want)
{
    mqtt_packet_t pkt;
    uint8_t reason = 0;
    int64_t n = mqtt_packet_decode(p, len, version, 0, &pkt, &reason);
    assert_true(n < 0 && n != GN_EAGAIN);
    assert_int_equal(reason, want);
}

static void test_decode__refuses_bad_input(void **state)
{
    /* remaining length with 5 continuation bytes */
    static const uint8_t badlen[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_error(badlen, sizeof badlen, MQTT_V311, MQTT_RC_MALFORMED_PACKET);
    /* PUBLISH before CONNECT */
    static const uint8_t pub[] = {0x30, 0x05, 0x00, 0x01, 'a', 'x', 'y'};
    expect_error(pub, sizeof pub, 0, MQTT_RC_PROTOCOL_ERROR);
    /* wildcard in a PUBLISH topic */
    static const uint8_t wild[] = {0x30, 0x06, 0x00, 0x03, 'a', '/', '#', 0x00};
    expect_error(wild, sizeof wild, MQTT_V5, MQTT_RC_TOPIC_NAME_INVALID);
    /* QoS 3 */
    static const uint8_t q3[] = {0x36, 0x05, 0x00, 0x01, 'a', 0, 1};
    expect_error(q3, sizeof q3, MQTT_V311, MQTT_RC_MALFORMED_PACKET);
    /* invalid UTF-8 (overlong '/') and a surrogate in topics */
    static const uint8_t utf[] = {0x30, 0x05, 0x00, 0x03, 'a', 0xc0, 0xaf};
    expect_error(utf, sizeof utf, MQTT_V311, MQTT_RC_MALFORMED_PACKET);
    static const uint8_t sur[] = {0x30, 0x06, 0x00, 0x03, 0xed, 0xa0, 0x80, 'x'};
    expect_error(sur, sizeof sur, MQTT_V311, MQTT_RC_MALFORMED_PACKET);
    /* unknown protocol name, and level 6 */
    static const uint8_t proto[] = {0x10, 0x0c, 0x00, 0x04, 'M',  'Q',  'T',
                                    'X',  4,    0x02, 0x00, 0x3c, 0x00, 0x00};
    expect_error(proto, sizeof proto, 0, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION);
    static const uint8_t lvl[] = {0x10, 0x0c, 0x00, 0x04, 'M',  'Q',  'T',
                                  'T',  6,    0x02, 0x00, 0x3c, 0x00, 0x00};
    expect_error(lvl, sizeof lvl, 0, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION);
    /* a second CONNECT */
    static const uint8_t conn[] = {0x10, 0x0c, 0x00, 0x04, 'M',  'Q',  'T',
                                   'T',  4,    0x02, 0x00, 0x3c, 0x00, 0x00};
    expect_error(conn, sizeof conn, MQTT_V311, MQTT_RC_PROTOCOL_ERROR);
    /* reserved CONNECT flag */
    static const uint8_t rsv[] = {0x10, 0x0c, 0x00, 0x04, 'M',  'Q',  'T',
                                  'T',  4,    0x03, 0x00, 0x3c, 0x00, 0x00};
    expect_error(rsv, sizeof rsv, 0, MQTT_RC_MALFORMED_PACKET);
    /* SUBSCRIBE with wrong fixed-header flags, and with no entries */
    static const uint8_t subf[] = {0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00};
    expect_error(subf, sizeof subf, MQTT_V311, MQTT_RC_MALFORMED_PACKET);
    static const uint8_t sube[] = {0x82, 0x02, 0x00, 0x01};
    expect_error(sube, sizeof sube, MQTT_V311, MQTT_RC_PROTOCOL_ERROR);
    /* v5 PUBLISH with a duplicate content type, and a client-sent subscription id */
    static const uint8_t dup[] = {0x30, 0x0c, 0x00, 0x01, 'a',  0x08, 0x03,
                                  0x00, 0x01, 'x',  0x03, 0x00, 0x00, 'p'};
    expect_error(dup, sizeof dup, MQTT_V5, MQTT_RC_PROTOCOL_ERROR);
    static const uint8_t sid[] = {0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x0b, 0x01};
    expect_error(sid, sizeof sid, MQTT_V5, MQTT_RC_PROTOCOL_ERROR);
    /* unknown property id */
    static const uint8_t unk[] = {0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x7e, 0x01};
    expect_error(unk, sizeof unk, MQTT_V5, MQTT_RC_MALFORMED_PACKET);
    /* AUTH in 3.1.1 */
    static const uint8_t auth[] = {0xf0, 0x00};
    expect_error(auth, sizeof auth, MQTT_V311, MQTT_RC_PROTOCOL_ERROR);
    /* server-only packet from a client */
    static const uint8_t ca[] = {0x20, 0x02, 0x00, 0x00};
    expect_error(ca, sizeof ca, MQTT_V311, MQTT_RC_PROTOCOL_ERROR);
}

static void test_decode__maximum_packet_size_before_buffering(void **state)
{
    /* the header says 1000 bytes; 3 arrived; the limit is 100 */
    static const uint8_t big[] = {0x30, 0xe8, 0x07};
    mqtt_packet_t pkt;
    uint8_t reason;
    assert_int_equal(mqtt_packet_decode(big, sizeof big, MQTT_V5, 100, &pkt, &reason),
                     GN_ETOOLARGE);
    assert_int_equal(reason, MQTT_RC_PACKET_TOO_LARGE);
}

static void test_utf8__mqtt_rules(void **state)
{
    assert_true(mqtt_utf8_valid((const uint8_t *)"h\xc3\xa9llo \xf0\x9f\x98\x80", 11));
    assert_false(mqtt_utf8_valid((const uint8_t *)"a\0b", 3));
    assert_false(mqtt_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));     /* overlong */
    assert_false(mqtt_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(mqtt_utf8_valid((const uint8_t *)"\xc3", 1));             /* truncated */
    assert_true(mqtt_topic_filter_valid(GN_BYTES_STR("sensors/+/temp")));
    assert_true(mqtt_topic_filter_valid(GN_BYTES_STR("#")));
    assert_true(mqtt_topic_filter_valid(GN_BYTES_STR("a//+/#")));
    assert_false(mqtt_topic_filter_valid(GN_BYTES_STR("a/#/b")));
    assert_false(mqtt_topic_filter_valid(GN_BYTES_STR("a/b#")));
    assert_false(mqtt_topic_filter_valid(GN_BYTES_STR("a+/b")));
    assert_true(mqtt_topic_name_valid(GN_BYTES_STR("a/b/c")));
    assert_false(mqtt_topic_name_valid(GN_BYTES_STR("a/+")));
    assert_false(mqtt_topic_name_valid(GN_BYTES_STR("")));
}

static void test_encode__golden_server_packets(void **state)
{
    mqtt_wbuf_t w, props;
    const uint8_t *out;
    size_t len;
    mqtt_wbuf_init(&w);
    mqtt_wbuf_init(&props);
    assert_int_equal(mqtt_encode_connack(&w, MQTT_V311, true, 0, NULL, &out, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\x20\x02\x01\x00", 4);
    assert_int_equal(mqtt_encode_connack(&w, MQTT_V311, false, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION,
                                         NULL, &out, &len),
                     0);
    assert_memory_equal(out, "\x20\x02\x00\x01", 4);
    mqtt_p_u16(&props, MQTT_PROP_SERVER_KEEP_ALIVE, 30);
    assert_int_equal(mqtt_encode_connack(&w, MQTT_V5, false, 0, &props, &out, &len), 0);
    assert_int_equal(len, 8);
    assert_memory_equal(out, "\x20\x06\x00\x00\x03\x13\x00\x1e", 8);
    assert_int_equal(mqtt_encode_ack(&w, MQTT_V5, MQTT_PUBACK, 7, 0, NULL, &out, &len), 0);
    assert_memory_equal(out, "\x40\x02\x00\x07", 4);
    assert_int_equal(mqtt_encode_ack(&w, MQTT_V5, MQTT_PUBREC, 7, 0x90, NULL, &out, &len), 0);
    assert_memory_equal(out, "\x50\x03\x00\x07\x90", 5);
    assert_int_equal(mqtt_encode_ack(&w, MQTT_V311, MQTT_PUBREL, 9, 0, NULL, &out, &len), 0);
    assert_memory_equal(out, "\x62\x02\x00\x09", 4);
    static const uint8_t rcs[] = {1, 0x80};
    assert_int_equal(mqtt_encode_suback(&w, MQTT_V311, MQTT_SUBACK, 5, rcs, 2, NULL, &out, &len),
                     0);
    assert_memory_equal(out, "\x90\x04\x00\x05\x01\x80", 6);
    assert_int_equal(mqtt_encode_suback(&w, MQTT_V311, MQTT_UNSUBACK, 5, rcs, 2, NULL, &out, &len),
                     0);
    assert_memory_equal(out, "\xb0\x02\x00\x05", 4);
    assert_int_equal(mqtt_encode_pingresp(&w, &out, &len), 0);
    assert_memory_equal(out, "\xd0\x00", 2);
    assert_int_equal(mqtt_encode_disconnect(&w, MQTT_V5, 0x8e, NULL, &out, &len), 0);
    assert_memory_equal(out, "\xe0\x01\x8e", 3);
    assert_int_equal(mqtt_encode_publish(&w, MQTT_V311, 1, false, true, GN_BYTES_STR("a/b"), 3,
                                         NULL, GN_BYTES_STR("hi"), &out, &len),
                     0);
    assert_memory_equal(out,
                        "\x33\x09\x00\x03"
                        "a/b\x00\x03hi",
                        11);
    /* a 200-byte payload takes a 2-byte remaining length, and decodes back */
    uint8_t payload[200];
    memset(payload, 'z', sizeof payload);
    mqtt_wbuf_t p2;
    mqtt_wbuf_init(&p2);
    mqtt_p_str(&p2, MQTT_PROP_CONTENT_TYPE, GN_BYTES_STR("text/plain"));
    mqtt_p_pair(&p2, GN_BYTES_STR("k"), GN_BYTES_STR("v"));
    assert_int_equal(mqtt_encode_publish(&w, MQTT_V5, 2, true, false, GN_BYTES_STR("t"), 65535, &p2,
                                         (gn_bytes_t){payload, sizeof payload}, &out, &len),
                     0);
    assert_int_equal(out[0], 0x3c);
    mqtt_packet_t pkt;
    uint8_t reason;
    assert_int_equal(mqtt_packet_decode(out, len, MQTT_V5, 0, &pkt, &reason), (int64_t)len);
    assert_int_equal(pkt.packet_id, 65535);
    assert_true(pkt.dup);
    assert_true(eq(pkt.props.content_type, "text/plain"));
    assert_int_equal(pkt.props.user_count, 1);
    assert_int_equal(pkt.payload.len, 200);
    mqtt_wbuf_free(&p2);
    mqtt_wbuf_free(&props);
    mqtt_wbuf_free(&w);
}

static void test_rc__names_and_translation(void **state)
{
    assert_string_equal(mqtt_rc_name(0x90), "TOPIC_NAME_INVALID");
    assert_string_equal(mqtt_rc_sentence(0x8e), "session taken over");
    assert_int_equal(mqtt_rc_from_gn(GN_EINVALID_TOPIC), 0x90);
    assert_int_equal(mqtt_rc_to_connack_v3(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION), 1);
    assert_non_null(mqtt_prop_def(MQTT_PROP_USER_PROPERTY));
    assert_null(mqtt_prop_def(0x7f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode__mosquitto_v311_connect_and_publish),
        cmocka_unit_test(test_decode__mosquitto_v311_credentials_retain_qos1),
        cmocka_unit_test(test_decode__mosquitto_v311_will_and_qos2),
        cmocka_unit_test(test_decode__mosquitto_v5_properties),
        cmocka_unit_test(test_decode__mosquitto_subscribe),
        cmocka_unit_test(test_decode__refuses_bad_input),
        cmocka_unit_test(test_decode__maximum_packet_size_before_buffering),
        cmocka_unit_test(test_utf8__mqtt_rules),
        cmocka_unit_test(test_encode__golden_server_packets),
        cmocka_unit_test(test_rc__names_and_translation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
