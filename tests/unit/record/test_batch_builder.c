/* SPDX-License-Identifier: Apache-2.0 */
/* The batch builder: byte-exact against the hand-written golden batch and against
 * librdkafka's own uncompressed batch, header defaults, explicit offset deltas,
 * timestamps, empty batches, reuse, growth, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "record/wire.h"
#include "record_test_util.h"

static void test_batch_builder__matches_golden_bytes(void **state)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_STR("k"), GN_BYTES_STR("v"), NULL, 0, 1000),
                     0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    assert_int_equal(out.len, sizeof(golden_one_record));
    assert_memory_equal(out.ptr, golden_one_record, sizeof(golden_one_record));
    gn_batch_builder_close(&b);
}

/* The same records as librdkafka's fixture give the same bytes, apart from the
 * partition leader epoch (librdkafka writes 0, Kafka's Java producer and we -1;
 * the CRC does not cover it). */
static void test_batch_builder__matches_librdkafka_bytes(void **state)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    size_t len = 0;
    uint8_t *want = fixture_load("librdkafka_none.bin", &len);
    (void)state;

    assert_non_null(want);
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    assert_int_equal(fixture_build(&b), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    assert_int_equal(out.len, len);
    gn_batch_set_leader_epoch(want, -1);
    assert_memory_equal(out.ptr, want, len);
    gn_batch_builder_close(&b);
    free(want);
}

static void test_batch_builder__header_defaults_and_producer_fields(void **state)
{
    gn_batch_builder_t b;
    gn_batch_header_t hdr;
    gn_bytes_t out;
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_ZSTD);
    assert_int_equal(b.producer_id, -1);
    assert_int_equal(b.producer_epoch, -1);
    assert_int_equal(b.base_sequence, -1);
    b.producer_id = 4242;
    b.producer_epoch = 3;
    b.base_sequence = 17;
    /* codec bits and reserved bits 7-15 in extra_attributes are ignored */
    b.extra_attributes = GN_ATTR_TRANSACTIONAL | 0x0100 | GN_COMPRESSION_GZIP;
    assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_NULL, GN_BYTES_STR("a"), NULL, 0, 5), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 9, &out), 0);
    assert_int_equal(gn_batch_validate(out.ptr, out.len, 1 << 20, &hdr), (int64_t)out.len);
    assert_int_equal(hdr.base_offset, 9);
    assert_int_equal(hdr.magic, 2);
    assert_int_equal(hdr.partition_leader_epoch, -1);
    assert_int_equal(hdr.attributes, GN_COMPRESSION_ZSTD | GN_ATTR_TRANSACTIONAL);
    assert_int_equal(hdr.producer_id, 4242);
    assert_int_equal(hdr.producer_epoch, 3);
    assert_int_equal(hdr.base_sequence, 17);
    assert_int_equal(hdr.records_count, 1);
    assert_int_equal(hdr.last_offset_delta, 0);
    gn_batch_builder_close(&b);
}

/* compaction keeps offsets: explicit deltas with gaps, strictly increasing */
static void test_batch_builder__add_at_keeps_offset_gaps(void **state)
{
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_bytes_t out;
    const int32_t deltas[] = {0, 3, 4, 10};
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(gn_batch_builder_add_at(&b, deltas[i], GN_BYTES_STR("k"),
                                                 GN_BYTES_STR("v"), NULL, 0, 100),
                         0);
    assert_int_equal(gn_batch_builder_add_at(&b, 10, GN_BYTES_NULL, GN_BYTES_NULL, NULL, 0, 0),
                     GN_EINVAL);
    assert_int_equal(gn_batch_builder_add_at(&b, 2, GN_BYTES_NULL, GN_BYTES_NULL, NULL, 0, 0),
                     GN_EINVAL);
    /* add continues after the last delta */
    assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_NULL, GN_BYTES_NULL, NULL, 0, 100), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 1000, &out), 0);
    assert_int_equal(gn_record_iter_init(&it, out.ptr, out.len), 0);
    assert_int_equal(it.hdr.last_offset_delta, 11);
    assert_int_equal(it.hdr.records_count, 5);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(gn_record_iter_next(&it, &rec), 1);
        assert_int_equal(rec.offset, 1000 + deltas[i]);
    }
    assert_int_equal(gn_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 1011);
    assert_null(rec.key.ptr);
    assert_null(rec.value.ptr);
    assert_int_equal(gn_record_iter_next(&it, &rec), 0);
    gn_record_iter_close(&it);
    gn_batch_builder_close(&b);
}

static void test_batch_builder__timestamps_base_first_max_largest(void **state)
{
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_bytes_t out;
    const int64_t ts[] = {5000, 1, INT64_MAX / 2, 4999, -1};
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_GZIP);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_NULL, GN_BYTES_STR(""), NULL, 0, ts[i]),
                         0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    assert_int_equal(gn_record_iter_init(&it, out.ptr, out.len), 0);
    assert_int_equal(it.hdr.base_timestamp, 5000);
    assert_true(it.hdr.max_timestamp == INT64_MAX / 2);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(gn_record_iter_next(&it, &rec), 1);
        assert_true(rec.timestamp == ts[i]);
        assert_non_null(rec.value.ptr); /* empty, not null */
        assert_int_equal(rec.value.len, 0);
    }
    gn_record_iter_close(&it);
    gn_batch_builder_close(&b);
}

static void test_batch_builder__empty_batch(void **state)
{
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_bytes_t out;
    (void)state;

    for (int c = 0; c <= GN_COMPRESSION_ZSTD; c++) {
        gn_batch_builder_init(&b, (gn_compression_t)c);
        assert_int_equal(gn_batch_builder_finish(&b, 5, &out), 0);
        assert_int_equal(out.len, GN_BATCH_HEADER_SIZE);
        assert_int_equal(gn_record_iter_init(&it, out.ptr, out.len), 0);
        assert_int_equal(it.hdr.records_count, 0);
        assert_int_equal(it.hdr.base_timestamp, -1);
        assert_int_equal(gn_record_iter_next(&it, &rec), 0);
        gn_record_iter_close(&it);
        gn_batch_builder_close(&b);
    }
}

/* reset keeps the buffer (no allocation for the next batch) and the codec */
static void test_batch_builder__reset_reuses_buffer(void **state)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_SNAPPY);
    assert_int_equal(fixture_build(&b), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    uint8_t *buf = b.buf;
    size_t cap = b.cap;
    b.producer_id = 7;
    gn_batch_builder_reset(&b);
    assert_ptr_equal(b.buf, buf);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.count, 0);
    assert_int_equal(b.codec, GN_COMPRESSION_SNAPPY);
    assert_int_equal(b.producer_id, -1);
    assert_int_equal(fixture_build(&b), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 3, &out), 0);
    fixture_check(out.ptr, out.len, 3);
    gn_batch_builder_close(&b);
}

/* growth is geometric: 20000 records cost a handful of reallocations */
static void test_batch_builder__grows_geometrically(void **state)
{
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_bytes_t out;
    int grows = 0;
    size_t cap = 0;
    int n = 0;
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_STR("key"), GN_BYTES_STR("value"),
                                              fixture_headers, 2, i),
                         0);
        if (b.cap != cap) {
            grows++;
            cap = b.cap;
        }
    }
    assert_in_range(grows, 1, 20);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    assert_int_equal(gn_record_iter_init(&it, out.ptr, out.len), 0);
    while (gn_record_iter_next(&it, &rec) == 1) {
        assert_int_equal(rec.offset, n);
        assert_int_equal(rec.timestamp, n);
        n++;
    }
    assert_int_equal(n, 20000);
    gn_record_iter_close(&it);
    gn_batch_builder_close(&b);
}

/* a NULL header key is written as the empty key (Kafka has no null header keys) */
static void test_batch_builder__null_header_key_written_empty(void **state)
{
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_record_header_t h;
    gn_bytes_t out;
    gn_record_header_t in = {GN_BYTES_NULL, GN_BYTES_STR("x")};
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_NULL, GN_BYTES_NULL, &in, 1, 0), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    assert_int_equal(gn_record_iter_init(&it, out.ptr, out.len), 0);
    assert_int_equal(gn_record_iter_next(&it, &rec), 1);
    assert_int_equal(gn_record_header_next(&rec.headers, &h), 1);
    assert_non_null(h.key.ptr);
    assert_int_equal(h.key.len, 0);
    assert_int_equal(h.value.len, 1);
    gn_record_iter_close(&it);
    gn_batch_builder_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_builder__matches_golden_bytes),
        cmocka_unit_test(test_batch_builder__matches_librdkafka_bytes),
        cmocka_unit_test(test_batch_builder__header_defaults_and_producer_fields),
        cmocka_unit_test(test_batch_builder__add_at_keeps_offset_gaps),
        cmocka_unit_test(test_batch_builder__timestamps_base_first_max_largest),
        cmocka_unit_test(test_batch_builder__empty_batch),
        cmocka_unit_test(test_batch_builder__reset_reuses_buffer),
        cmocka_unit_test(test_batch_builder__grows_geometrically),
        cmocka_unit_test(test_batch_builder__null_header_key_written_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
