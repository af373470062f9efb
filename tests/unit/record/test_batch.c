/* SPDX-License-Identifier: Apache-2.0 */
/* RecordBatch v2 header and validation: the golden batch, every refusal the
 * validator owes (magic, CRC, lengths, attributes, codec, counts, size), every
 * single-byte flip and every truncation, and the in-place rewrites (a missing max
 * timestamp filled in from the records). */
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

/* Re-seals a modified batch so that a test reaches the check it aims at. */
static void reseal(uint8_t *p, size_t len)
{
    gn__put32(p + GN__OFF_CRC, gn_crc32c(0, p + GN__OFF_ATTRIBUTES, len - GN__OFF_ATTRIBUTES));
}

static void test_batch__golden_batch_decodes(void **state)
{
    gn_batch_header_t hdr;
    (void)state;

    assert_int_equal(gn_batch_peek(golden_one_record, sizeof(golden_one_record), &hdr), 70);
    assert_int_equal(gn_batch_validate(golden_one_record, sizeof(golden_one_record), 1 << 20, &hdr),
                     70);
    assert_int_equal(hdr.base_offset, 0);
    assert_int_equal(hdr.batch_length, 58);
    assert_int_equal(hdr.partition_leader_epoch, -1);
    assert_int_equal(hdr.magic, 2);
    assert_int_equal(hdr.crc, 0x716A6189u);
    assert_int_equal(hdr.attributes, 0);
    assert_int_equal(hdr.last_offset_delta, 0);
    assert_int_equal(hdr.base_timestamp, 1000);
    assert_int_equal(hdr.max_timestamp, 1000);
    assert_int_equal(hdr.producer_id, -1);
    assert_int_equal(hdr.producer_epoch, -1);
    assert_int_equal(hdr.base_sequence, -1);
    assert_int_equal(hdr.records_count, 1);
    assert_int_equal(gn_batch_size(&hdr), 70);
    assert_int_equal(gn_batch_last_offset(&hdr), 0);
}

/* peek answers GN_EAGAIN until the whole batch is there, never reading further */
static void test_batch__peek_needs_whole_batch(void **state)
{
    gn_batch_header_t hdr;
    (void)state;

    for (size_t len = 0; len < sizeof(golden_one_record); len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        memcpy(copy, golden_one_record, len);
        assert_int_equal(gn_batch_peek(copy, len, &hdr), GN_EAGAIN);
        assert_int_equal(gn_batch_validate(copy, len, 1 << 20, &hdr), GN_EAGAIN);
        free(copy);
    }
}

/* two batches back to back: peek reports the first one's size only */
static void test_batch__peek_stops_at_batch_end(void **state)
{
    uint8_t two[140];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(two, golden_one_record, 70);
    memcpy(two + 70, golden_one_record, 70);
    assert_int_equal(gn_batch_peek(two, sizeof(two), &hdr), 70);
    assert_int_equal(gn_batch_validate(two, sizeof(two), 1 << 20, &hdr), 70);
    assert_int_equal(gn_batch_validate(two + 70, 70, 1 << 20, &hdr), 70);
}

static void test_batch__refuses_magic_0_and_1(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    for (int magic = 0; magic <= 1; magic++) {
        memcpy(b, golden_one_record, sizeof(b));
        b[GN__OFF_MAGIC] = (uint8_t)magic;
        assert_int_equal(gn_batch_peek(b, sizeof(b), &hdr), GN_EUNSUPPORTED_VERSION);
        assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_EUNSUPPORTED_VERSION);
        /* an old MessageSet entry is shorter than a v2 header: still named as such */
        assert_int_equal(gn_batch_peek(b, 17, &hdr), GN_EUNSUPPORTED_VERSION);
    }
    b[GN__OFF_MAGIC] = 3;
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_EUNSUPPORTED_VERSION);
}

static void test_batch__refuses_impossible_length(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(b, golden_one_record, sizeof(b));
    gn__put32(b + GN__OFF_BATCH_LENGTH, 48); /* shorter than its own header */
    assert_int_equal(gn_batch_peek(b, sizeof(b), &hdr), GN_ECORRUPT);
    gn__put32(b + GN__OFF_BATCH_LENGTH, (uint32_t)-1);
    assert_int_equal(gn_batch_peek(b, sizeof(b), &hdr), GN_ECORRUPT);
    gn__put32(b + GN__OFF_BATCH_LENGTH, 0x7FFFFFFF); /* possible, just not here yet */
    assert_int_equal(gn_batch_peek(b, sizeof(b), &hdr), GN_EAGAIN);
}

static void test_batch__refuses_oversized(void **state)
{
    gn_batch_header_t hdr;
    (void)state;

    assert_int_equal(gn_batch_validate(golden_one_record, 70, 69, &hdr), GN_ETOOLARGE);
    assert_int_equal(gn_batch_validate(golden_one_record, 70, 70, &hdr), 70);
    /* the size is known from the header: refused before the rest arrives */
    assert_int_equal(gn_batch_validate(golden_one_record, 61, 69, &hdr), GN_ETOOLARGE);
}

static void test_batch__refuses_bad_crc(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(b, golden_one_record, sizeof(b));
    b[GN__OFF_CRC] ^= 1;
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    /* peek does not check the CRC */
    assert_int_equal(gn_batch_peek(b, sizeof(b), &hdr), 70);
}

/* Every single-byte change of the covered bytes or lengths is caught. Base offset
 * and leader epoch are outside the CRC by design (the broker rewrites them). */
static void test_batch__detects_every_single_byte_flip(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    for (size_t i = 0; i < sizeof(b); i++) {
        if (i < GN__OFF_BATCH_LENGTH || (i >= GN__OFF_LEADER_EPOCH && i < GN__OFF_MAGIC)) continue;
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, golden_one_record, sizeof(b));
            b[i] ^= (uint8_t)(1u << bit);
            int64_t rc = gn_batch_validate(b, sizeof(b), 1 << 20, &hdr);
            assert_true(rc < 0);
        }
        memcpy(b, golden_one_record, sizeof(b));
        b[i] ^= 0xFF;
        assert_true(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr) < 0);
    }
}

static void test_batch__refuses_reserved_attribute_bits(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    for (int bit = 7; bit < 16; bit++) {
        memcpy(b, golden_one_record, sizeof(b));
        gn__put16(b + GN__OFF_ATTRIBUTES, (uint16_t)(1u << bit));
        reseal(b, sizeof(b));
        assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    }
    /* the defined bits (timestamp type, transactional, control, delete horizon) pass */
    memcpy(b, golden_one_record, sizeof(b));
    gn__put16(b + GN__OFF_ATTRIBUTES, 0x78);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), 70);
}

static void test_batch__refuses_unknown_codec(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    for (int codec = 5; codec <= 7; codec++) {
        memcpy(b, golden_one_record, sizeof(b));
        gn__put16(b + GN__OFF_ATTRIBUTES, (uint16_t)codec);
        reseal(b, sizeof(b));
        assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr),
                         GN_EUNSUPPORTED_COMPRESSION);
    }
}

static void test_batch__refuses_inconsistent_counts(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    /* negative records_count */
    memcpy(b, golden_one_record, sizeof(b));
    gn__put32(b + GN__OFF_RECORDS_COUNT, (uint32_t)-1);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    /* more records promised than present */
    gn__put32(b + GN__OFF_RECORDS_COUNT, 2);
    gn__put32(b + GN__OFF_LAST_OFFSET_DELTA, 1);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    /* fewer promised than present: trailing bytes */
    gn__put32(b + GN__OFF_RECORDS_COUNT, 0);
    gn__put32(b + GN__OFF_LAST_OFFSET_DELTA, 0);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    /* negative last_offset_delta */
    memcpy(b, golden_one_record, sizeof(b));
    gn__put32(b + GN__OFF_LAST_OFFSET_DELTA, (uint32_t)-1);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    /* a record whose offset delta lies beyond last_offset_delta */
    memcpy(b, golden_one_record, sizeof(b));
    b[64] = 0x02; /* offsetDelta 1 */
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
    /* ... which is fine once last_offset_delta covers it (a compacted gap) */
    gn__put32(b + GN__OFF_LAST_OFFSET_DELTA, 5);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), 70);
}

/* The record length varint must match what the record's fields use. */
static void test_batch__refuses_record_length_mismatch(void **state)
{
    uint8_t b[71];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(b, golden_one_record, 70);
    b[61] = 0x0E; /* length 7 instead of 8: headers count falls outside */
    reseal(b, 70);
    assert_int_equal(gn_batch_validate(b, 70, 1 << 20, &hdr), GN_ECORRUPT);
    /* length 9 with one spare byte inside the record */
    memcpy(b, golden_one_record, 70);
    b[70] = 0;
    b[61] = 0x12;
    gn__put32(b + GN__OFF_BATCH_LENGTH, 59);
    reseal(b, 71);
    assert_int_equal(gn_batch_validate(b, 71, 1 << 20, &hdr), GN_ECORRUPT);
}

static void test_batch__empty_batch_is_valid(void **state)
{
    uint8_t b[61];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(b, golden_one_record, sizeof(b));
    gn__put32(b + GN__OFF_BATCH_LENGTH, 49);
    gn__put32(b + GN__OFF_RECORDS_COUNT, 0);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), 61);
    /* but a compressed batch promising records needs a blob */
    gn__put16(b + GN__OFF_ATTRIBUTES, GN_COMPRESSION_ZSTD);
    gn__put32(b + GN__OFF_RECORDS_COUNT, 1);
    reseal(b, sizeof(b));
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), GN_ECORRUPT);
}

static void test_batch__rewrites_offset_and_epoch_without_crc(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(b, golden_one_record, sizeof(b));
    gn_batch_set_base_offset(b, 0x0102030405060708LL);
    gn_batch_set_leader_epoch(b, 7);
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), 70);
    assert_true(hdr.base_offset == 0x0102030405060708LL);
    assert_int_equal(hdr.partition_leader_epoch, 7);
    assert_int_equal(gn_batch_last_offset(&hdr), 0x0102030405060708LL);
    assert_int_equal(hdr.crc, 0x716A6189u);
}

static void test_batch__log_append_time_sets_attribute_and_crc(void **state)
{
    uint8_t b[70];
    gn_batch_header_t hdr;
    (void)state;

    memcpy(b, golden_one_record, sizeof(b));
    gn_batch_set_log_append_time(b, 1700000000000LL);
    assert_int_equal(gn_batch_validate(b, sizeof(b), 1 << 20, &hdr), 70);
    assert_int_equal(hdr.attributes, GN_ATTR_LOG_APPEND_TIME);
    assert_true(hdr.max_timestamp == 1700000000000LL);
    assert_int_equal(hdr.base_timestamp, 1000);
    assert_int_not_equal(hdr.crc, 0x716A6189u);
}

/* Three records stamped 1000, 3000, 2000 with codec c, maxTimestamp then written as
 * -1 and the CRC resealed, as Sarama 1.22 sends them; copied into buf (<= cap). */
static size_t sarama_like_batch(gn_compression_t c, uint8_t *buf, size_t cap)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    const int64_t ts[3] = {1000, 3000, 2000};

    gn_batch_builder_init(&b, c);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_NULL,
                                              (gn_bytes_t){(const uint8_t *)"v", 1}, NULL, 0,
                                              ts[i]),
                         0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    assert_true(out.len <= cap);
    memcpy(buf, out.ptr, out.len);
    gn_batch_builder_close(&b);
    gn__put64(buf + GN__OFF_MAX_TIMESTAMP, (uint64_t)-1);
    reseal(buf, out.len);
    return out.len;
}

static void test_batch__repairs_missing_max_timestamp(void **state)
{
    const gn_compression_t codecs[] = {GN_COMPRESSION_NONE, GN_COMPRESSION_GZIP,
                                       GN_COMPRESSION_ZSTD};
    uint8_t b[512];
    gn_batch_header_t hdr;
    (void)state;

    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
        size_t n = sarama_like_batch(codecs[i], b, sizeof(b));
        assert_int_equal(gn_batch_repair_max_timestamp(b, n), 1);
        assert_int_equal(gn_batch_validate(b, n, 1 << 20, &hdr), (int64_t)n);
        assert_true(hdr.max_timestamp == 3000);
        assert_int_equal(hdr.base_timestamp, 1000);
        assert_int_equal(gn_batch_repair_max_timestamp(b, n), 0); /* now consistent */
    }
}

static void test_batch__repair_leaves_good_and_corrupt_batches(void **state)
{
    uint8_t b[512], before[512];
    (void)state;

    memcpy(b, golden_one_record, sizeof(golden_one_record)); /* max == base: untouched */
    assert_int_equal(gn_batch_repair_max_timestamp(b, sizeof(golden_one_record)), 0);
    assert_memory_equal(b, golden_one_record, sizeof(golden_one_record));

    size_t n = sarama_like_batch(GN_COMPRESSION_NONE, b, sizeof(b));
    b[n - 1] ^= 0x01; /* a record byte: the CRC no longer matches */
    memcpy(before, b, n);
    assert_int_equal(gn_batch_repair_max_timestamp(b, n), GN_ECORRUPT);
    assert_memory_equal(b, before, n); /* not resealed */

    n = sarama_like_batch(GN_COMPRESSION_NONE, b, sizeof(b));
    gn_batch_set_log_append_time(b, 5000); /* LogAppendTime: the broker's field */
    memcpy(before, b, n);
    assert_int_equal(gn_batch_repair_max_timestamp(b, n), 0);
    assert_memory_equal(b, before, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch__golden_batch_decodes),
        cmocka_unit_test(test_batch__peek_needs_whole_batch),
        cmocka_unit_test(test_batch__peek_stops_at_batch_end),
        cmocka_unit_test(test_batch__refuses_magic_0_and_1),
        cmocka_unit_test(test_batch__refuses_impossible_length),
        cmocka_unit_test(test_batch__refuses_oversized),
        cmocka_unit_test(test_batch__refuses_bad_crc),
        cmocka_unit_test(test_batch__detects_every_single_byte_flip),
        cmocka_unit_test(test_batch__refuses_reserved_attribute_bits),
        cmocka_unit_test(test_batch__refuses_unknown_codec),
        cmocka_unit_test(test_batch__refuses_inconsistent_counts),
        cmocka_unit_test(test_batch__refuses_record_length_mismatch),
        cmocka_unit_test(test_batch__empty_batch_is_valid),
        cmocka_unit_test(test_batch__rewrites_offset_and_epoch_without_crc),
        cmocka_unit_test(test_batch__log_append_time_sets_attribute_and_crc),
        cmocka_unit_test(test_batch__repairs_missing_max_timestamp),
        cmocka_unit_test(test_batch__repair_leaves_good_and_corrupt_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
