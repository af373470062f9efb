/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the Kafka wire primitives (adapters/kafka/codec.c) and the generated
 * message codecs, against golden bytes written from the protocol's encoding rules and
 * a real librdkafka ApiVersions v3 request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/kafka/codec.h"
#include "../../../adapters/kafka/gen/kafka_msgs.h"
#include "ganglion/error.h"

static void test_codec__reads_classic_primitives(void **state)
{
    static const uint8_t in[] = {0x7f, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x03, 'a',  'b',  'c',
                                 0xff, 0xff, 0x00, 0x00, 0x00, 0x02, 'x',  'y'};
    kafka_reader_t r;
    kafka_reader_init(&r, in, sizeof in);
    assert_int_equal(kr_int8(&r), 127);
    assert_int_equal(kr_int16(&r), -2);
    assert_int_equal(kr_int32(&r), 256);
    assert_int_equal(kr_int64(&r), -2);
    gn_bytes_t s = kr_string(&r, false);
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "abc", 3);
    assert_true(gn_bytes_is_null(kr_string(&r, false)));
    gn_bytes_t b = kr_bytes(&r, false);
    assert_int_equal(b.len, 2);
    assert_int_equal(r.err, 0);
    assert_int_equal(kafka_reader_left(&r), 0);
    (void)kr_int8(&r);
    assert_int_equal(r.err, GN_EINVALID_REQUEST);
}

static void test_codec__reads_compact_and_varints(void **state)
{
    /* uvarint 300 = ac 02; compact string "hi" = 03 'h' 'i'; null compact string = 00;
     * empty compact bytes = 01; compact array of 2 = 03; tags: 2 fields, skipped. */
    static const uint8_t in[] = {0xac, 0x02, 0x03, 'h',  'i',  0x00, 0x01, 0x03, 0x02,
                                 0x00, 0x01, 0xaa, 0x05, 0x02, 0xbb, 0xcc, 0x42};
    kafka_reader_t r;
    kafka_reader_init(&r, in, sizeof in);
    assert_int_equal(kr_uvarint(&r), 300);
    gn_bytes_t s = kr_string(&r, true);
    assert_int_equal(s.len, 2);
    assert_memory_equal(s.ptr, "hi", 2);
    assert_true(gn_bytes_is_null(kr_string(&r, true)));
    gn_bytes_t e = kr_bytes(&r, true);
    assert_false(gn_bytes_is_null(e));
    assert_int_equal(e.len, 0);
    assert_int_equal(kr_array_len(&r, true), 2);
    kr_tags_skip(&r);
    assert_int_equal(kr_int8(&r), 0x42);
    assert_int_equal(r.err, 0);
}

static void test_codec__rejects_bad_lengths(void **state)
{
    /* string longer than the frame */
    static const uint8_t a[] = {0x00, 0x05, 'a'};
    kafka_reader_t r;
    kafka_reader_init(&r, a, sizeof a);
    (void)kr_string(&r, false);
    assert_int_equal(r.err, GN_EINVALID_REQUEST);
    /* array count larger than the bytes left */
    static const uint8_t b[] = {0x00, 0x00, 0x10, 0x00, 0x01};
    kafka_reader_init(&r, b, sizeof b);
    assert_int_equal(kr_array_len(&r, false), -1);
    assert_int_equal(r.err, GN_EINVALID_REQUEST);
    /* string length -2 */
    static const uint8_t c[] = {0xff, 0xfe};
    kafka_reader_init(&r, c, sizeof c);
    (void)kr_string(&r, false);
    assert_int_equal(r.err, GN_EINVALID_REQUEST);
    /* uvarint of 6 bytes */
    static const uint8_t d[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    kafka_reader_init(&r, d, sizeof d);
    (void)kr_uvarint(&r);
    assert_int_equal(r.err, GN_EINVALID_REQUEST);
}

static void test_codec__frame_peek(void **state)
{
    static const uint8_t f[] = {0x00, 0x00, 0x00, 0x0a, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff};
    assert_int_equal(kafka_frame_peek(f, 3, 100), GN_EAGAIN);
    assert_int_equal(kafka_frame_peek(f, 10, 100), GN_EAGAIN);
    assert_int_equal(kafka_frame_peek(f, sizeof f, 100), 14);
    assert_int_equal(kafka_frame_peek(f, sizeof f, 9), GN_ETOOLARGE);
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xff};
    assert_int_equal(kafka_frame_peek(neg, 4, 100), GN_EINVALID_REQUEST);
}

/* librdkafka 2.0.2's first request: ApiVersions v3, header v2, client "rdkafka",
 * ClientSoftwareName "librdkafka", ClientSoftwareVersion "2.0.2" (captured from kcat). */
static const uint8_t rdkafka_apiversions_v3[] = {
    0x00, 0x00, 0x00, 0x24, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07,
    'r',  'd',  'k',  'a',  'f',  'k',  'a',  0x00, 0x0b, 'l',  'i',  'b',  'r',  'd',
    'k',  'a',  'f',  'k',  'a',  0x06, '2',  '.',  '0',  '.',  '2',  0x00};

static void test_codec__parses_flexible_request_header(void **state)
{
    size_t len = sizeof rdkafka_apiversions_v3;
    assert_int_equal(kafka_frame_peek(rdkafka_apiversions_v3, len, 1000), len);
    kafka_reader_t r;
    kafka_reader_init(&r, rdkafka_apiversions_v3 + 4, len - 4);
    kafka_req_header_t hdr;
    assert_int_equal(kafka_req_header_read(&r, true, &hdr), 0);
    assert_int_equal(hdr.api_key, 18);
    assert_int_equal(hdr.api_version, 3);
    assert_int_equal(hdr.correlation_id, 1);
    assert_int_equal(hdr.client_id.len, 7);
    assert_memory_equal(hdr.client_id.ptr, "rdkafka", 7);
    kafka_arena_t a;
    kafka_arena_init(&a, 0);
    kafka_ApiVersionsRequest_t req;
    assert_int_equal(kafka_ApiVersionsRequest_decode(&r, 3, &a, &req), 0);
    assert_int_equal(req.ClientSoftwareName.len, 10);
    assert_memory_equal(req.ClientSoftwareName.ptr, "librdkafka", 10);
    assert_memory_equal(req.ClientSoftwareVersion.ptr, "2.0.2", 5);
    assert_int_equal(kafka_reader_left(&r), 0);
    kafka_arena_free(&a);
}

static void test_codec__writes_golden_api_versions_v3_response(void **state)
{
    kafka_writer_t w;
    kafka_writer_init(&w, 0);
    kafka_resp_header_write(&w, false, 7); /* ApiVersions: header v0 even when flexible */
    kafka_ApiVersionsResponse_t resp;
    kafka_ApiVersionsResponse_init(&resp);
    kafka_ApiVersionsResponse_ApiVersion_t keys[1] = {
        {.ApiKey = 18, .MinVersion = 0, .MaxVersion = 3}};
    resp.ApiKeys.items = keys;
    resp.ApiKeys.count = 1;
    kafka_ApiVersionsResponse_encode(&w, 3, &resp);
    assert_int_equal(kafka_writer_finish(&w), 0);
    static const uint8_t golden[] = {
        0x00, 0x00, 0x00, 0x13,             /* size 19 */
        0x00, 0x00, 0x00, 0x07,             /* correlation id, no header tags */
        0x00, 0x00,                         /* ErrorCode */
        0x02,                               /* compact array of 1 */
        0x00, 0x12, 0x00, 0x00, 0x00, 0x03, /* 18, 0, 3 */
        0x00,                               /* element tags */
        0x00, 0x00, 0x00, 0x00,             /* ThrottleTimeMs */
        0x00,                               /* message tags */
    };
    assert_int_equal(w.nsegs, 1);
    assert_int_equal(w.len, sizeof golden);
    assert_memory_equal(w.buf, golden, sizeof golden);
    kafka_writer_close(&w);
}

static void test_codec__writes_classic_and_null_fields(void **state)
{
    kafka_writer_t w;
    kafka_writer_init(&w, 0);
    kw_string(&w, false, GN_BYTES_NULL);
    kw_string(&w, true, GN_BYTES_NULL);
    kw_string(&w, true, GN_BYTES_STR("ab"));
    kw_bytes(&w, false, GN_BYTES_STR("z"));
    kw_array_len(&w, false, -1);
    kw_uvarint(&w, 16384);
    assert_int_equal(kafka_writer_finish(&w), 0);
    static const uint8_t golden[] = {0x00, 0x00, 0x00, 0x12, 0xff, 0xff, 0x00, 0x03,
                                     'a',  'b',  0x00, 0x00, 0x00, 0x01, 'z',  0xff,
                                     0xff, 0xff, 0xff, 0x80, 0x80, 0x01};
    assert_int_equal(w.len, sizeof golden);
    assert_memory_equal(w.buf, golden, sizeof golden);
    kafka_writer_close(&w);
}

static void test_codec__writer_bound_fails_cleanly(void **state)
{
    kafka_writer_t w;
    kafka_writer_init(&w, 64);
    uint8_t big[100] = {0};
    kw_raw(&w, big, sizeof big);
    assert_int_equal(kafka_writer_finish(&w), GN_ENOMEM);
    kafka_writer_close(&w);
}

static void test_codec__metadata_request_round_trip_v4_and_v9(void **state)
{
    for (int16_t v = 4; v <= 9; v += 5) {
        kafka_arena_t a;
        kafka_arena_init(&a, 0);
        kafka_MetadataRequest_t m;
        kafka_MetadataRequest_init(&m);
        kafka_MetadataRequest_MetadataRequestTopic_t t[2];
        memset(t, 0, sizeof t);
        t[0].Name = GN_BYTES_STR("orders");
        t[1].Name = GN_BYTES_STR("payments");
        m.Topics.items = t;
        m.Topics.count = 2;
        m.AllowAutoTopicCreation = false;
        kafka_writer_t w;
        kafka_writer_init(&w, 0);
        kafka_MetadataRequest_encode(&w, v, &m);
        assert_int_equal(kafka_writer_finish(&w), 0);
        kafka_reader_t r;
        kafka_reader_init(&r, w.buf + 4, w.len - 4);
        kafka_MetadataRequest_t out;
        assert_int_equal(kafka_MetadataRequest_decode(&r, v, &a, &out), 0);
        assert_int_equal(kafka_reader_left(&r), 0);
        assert_int_equal(out.Topics.count, 2);
        assert_memory_equal(out.Topics.items[1].Name.ptr, "payments", 8);
        assert_false(out.AllowAutoTopicCreation);
        if (v == 4) {
            /* classic: int32 count, int16 string lengths, bool */
            static const uint8_t golden[] = {0, 0, 0,   2,   0,   6,   'o', 'r', 'd', 'e', 'r', 's',
                                             0, 8, 'p', 'a', 'y', 'm', 'e', 'n', 't', 's', 0};
            assert_int_equal(w.len - 4, sizeof golden);
            assert_memory_equal(w.buf + 4, golden, sizeof golden);
        }
        kafka_writer_close(&w);
        kafka_arena_free(&a);
    }
}

static void test_codec__arena_is_bounded(void **state)
{
    kafka_arena_t a;
    kafka_arena_init(&a, 1024);
    assert_non_null(kafka_arena_alloc(&a, 512));
    assert_null(kafka_arena_alloc(&a, 1024));
    assert_null(kafka_arena_calloc(&a, SIZE_MAX / 2, 4));
    kafka_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec__reads_classic_primitives),
        cmocka_unit_test(test_codec__reads_compact_and_varints),
        cmocka_unit_test(test_codec__rejects_bad_lengths),
        cmocka_unit_test(test_codec__frame_peek),
        cmocka_unit_test(test_codec__parses_flexible_request_header),
        cmocka_unit_test(test_codec__writes_golden_api_versions_v3_response),
        cmocka_unit_test(test_codec__writes_classic_and_null_fields),
        cmocka_unit_test(test_codec__writer_bound_fails_cleanly),
        cmocka_unit_test(test_codec__metadata_request_round_trip_v4_and_v9),
        cmocka_unit_test(test_codec__arena_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
