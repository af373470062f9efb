/* SPDX-License-Identifier: Apache-2.0 */
/* The record iterator and the codecs: batches written by real librdkafka 2.0.2 in
 * every codec, builder round trips, LogAppendTime, snappy's xerial framing, gzip
 * members, the decompression bound, corrupt or truncated compressed blobs, and the
 * validation walk against the parser on every byte flip and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "record/wire.h"
#include "record_test_util.h"

static void reseal(uint8_t *p, size_t len)
{
    gn__put32(p + GN__OFF_BATCH_LENGTH, (uint32_t)(len - GN_BATCH_LOG_OVERHEAD));
    gn__put32(p + GN__OFF_CRC, gn_crc32c(0, p + GN__OFF_ATTRIBUTES, len - GN__OFF_ATTRIBUTES));
}

static void test_record_iter__golden_batch(void **state)
{
    gn_record_iter_t it;
    gn_record_t rec;
    (void)state;

    assert_int_equal(gn_record_iter_init(&it, golden_one_record, sizeof(golden_one_record)), 0);
    assert_int_equal(gn_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 0);
    assert_int_equal(rec.timestamp, 1000);
    assert_int_equal(rec.key.len, 1);
    assert_memory_equal(rec.key.ptr, "k", 1);
    assert_int_equal(rec.value.len, 1);
    assert_memory_equal(rec.value.ptr, "v", 1);
    assert_int_equal(rec.headers_count, 0);
    assert_int_equal(gn_record_iter_next(&it, &rec), 0);
    gn_record_iter_close(&it);
}

/* Bytes written by librdkafka itself (tests/fixtures/record/README.md). */
static void test_record_iter__reads_librdkafka_batches_in_every_codec(void **state)
{
    (void)state;
    for (int c = 0; c <= GN_COMPRESSION_ZSTD; c++) {
        char name[64];
        size_t len = 0;
        snprintf(name, sizeof(name), "librdkafka_%s.bin", codec_names[c]);
        uint8_t *b = fixture_load(name, &len);
        assert_non_null(b);
        gn_batch_header_t hdr;
        assert_int_equal(gn_batch_validate(b, len, 1 << 20, &hdr), (int64_t)len);
        assert_int_equal(hdr.attributes & GN_ATTR_COMPRESSION_MASK, c);
        fixture_check(b, len, 0);
        /* the broker assigns the base offset: records follow it */
        gn_batch_set_base_offset(b, 1000);
        fixture_check(b, len, 1000);
        free(b);
    }
}

static void test_record_iter__builder_round_trip_every_codec(void **state)
{
    (void)state;
    for (int c = 0; c <= GN_COMPRESSION_ZSTD; c++) {
        gn_batch_builder_t b;
        gn_bytes_t out;
        gn_batch_builder_init(&b, (gn_compression_t)c);
        assert_int_equal(fixture_build(&b), 0);
        assert_int_equal(gn_batch_builder_finish(&b, 77, &out), 0);
        fixture_check(out.ptr, out.len, 77);
        gn_batch_builder_close(&b);
    }
}

/* LogAppendTime: every record reports the batch's max timestamp, as Kafka does */
static void test_record_iter__log_append_time_overrides_record_timestamps(void **state)
{
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_bytes_t out;
    int n = 0;
    (void)state;

    gn_batch_builder_init(&b, GN_COMPRESSION_LZ4);
    assert_int_equal(fixture_build(&b), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    gn_batch_set_log_append_time((uint8_t *)out.ptr, 1800000000000LL);
    assert_int_equal(gn_record_iter_init(&it, out.ptr, out.len), 0);
    while (gn_record_iter_next(&it, &rec) == 1) {
        assert_true(rec.timestamp == 1800000000000LL);
        n++;
    }
    assert_int_equal(n, FIXTURE_RECORDS);
    gn_record_iter_close(&it);
    gn_batch_builder_close(&b);
}

/* snappy-java (xerial) framing, as the Java client writes it, split in blocks */
static void test_record_iter__snappy_xerial_framing(void **state)
{
    size_t len = 0;
    uint8_t *none = fixture_load("librdkafka_none.bin", &len);
    const uint8_t *recs = none + GN_BATCH_HEADER_SIZE;
    size_t recs_len = len - GN_BATCH_HEADER_SIZE;
    uint8_t *batch = malloc(GN_BATCH_HEADER_SIZE + 16 + recs_len * 2 + 1024);
    size_t pos = GN_BATCH_HEADER_SIZE;
    uint8_t *out = NULL;
    size_t out_len = 0;
    (void)state;

    assert_non_null(none);
    memcpy(batch, none, GN_BATCH_HEADER_SIZE);
    memcpy(batch + pos, "\x82SNAPPY\0\0\0\0\1\0\0\0\1", 16);
    pos += 16;
    for (size_t off = 0; off < recs_len; off += 1000) { /* 1000-byte blocks */
        size_t n = recs_len - off < 1000 ? recs_len - off : 1000;
        size_t clen = snappy_max_compressed_length(n);
        assert_int_equal(
            snappy_compress((const char *)recs + off, n, (char *)batch + pos + 4, &clen),
            SNAPPY_OK);
        gn__put32(batch + pos, (uint32_t)clen);
        pos += 4 + clen;
    }
    assert_int_equal(gn_decompress(GN_COMPRESSION_SNAPPY, batch + GN_BATCH_HEADER_SIZE,
                                   pos - GN_BATCH_HEADER_SIZE, 1 << 20, &out, &out_len),
                     0);
    assert_int_equal(out_len, recs_len);
    assert_memory_equal(out, recs, recs_len);
    free(out);
    gn__put16(batch + GN__OFF_ATTRIBUTES, GN_COMPRESSION_SNAPPY);
    reseal(batch, pos);
    fixture_check(batch, pos, 0);
    /* a block length running past the blob */
    gn__put32(batch + GN_BATCH_HEADER_SIZE + 16, 1u << 30);
    reseal(batch, pos);
    gn_record_iter_t it;
    assert_int_equal(gn_record_iter_init(&it, batch, pos), GN_ECORRUPT);
    free(batch);
    free(none);
}

/* two gzip members back to back decode as one stream (Java's GZIPInputStream) */
static void test_record_iter__gzip_concatenated_members(void **state)
{
    uint8_t *a = NULL, *b = NULL, *out = NULL;
    size_t alen, blen, out_len;
    (void)state;

    assert_int_equal(gn_compress(GN_COMPRESSION_GZIP, (const uint8_t *)"hello ", 6, &a, &alen), 0);
    assert_int_equal(gn_compress(GN_COMPRESSION_GZIP, (const uint8_t *)"world", 5, &b, &blen), 0);
    a = realloc(a, alen + blen);
    memcpy(a + alen, b, blen);
    assert_int_equal(gn_decompress(GN_COMPRESSION_GZIP, a, alen + blen, 100, &out, &out_len), 0);
    assert_int_equal(out_len, 11);
    assert_memory_equal(out, "hello world", 11);
    free(out);
    /* trailing garbage after a member is refused */
    a[alen] = 0;
    assert_int_equal(gn_decompress(GN_COMPRESSION_GZIP, a, alen + blen, 100, &out, &out_len),
                     GN_ECORRUPT);
    free(a);
    free(b);
}

/* The bound: exactly max_out passes, one byte more is a decompression bomb. */
static void test_record_iter__decompression_is_bounded(void **state)
{
    enum { N = 200000 };
    uint8_t *zeros = calloc(1, N);
    (void)state;

    for (int c = GN_COMPRESSION_GZIP; c <= GN_COMPRESSION_ZSTD; c++) {
        uint8_t *blob = NULL, *out = NULL;
        size_t blob_len, out_len;
        assert_int_equal(gn_compress((gn_compression_t)c, zeros, N, &blob, &blob_len), 0);
        assert_true(blob_len < N / 10);
        assert_int_equal(gn_decompress((gn_compression_t)c, blob, blob_len, N, &out, &out_len), 0);
        assert_int_equal(out_len, N);
        free(out);
        out = NULL;
        assert_int_equal(gn_decompress((gn_compression_t)c, blob, blob_len, N - 1, &out, &out_len),
                         GN_ECORRUPT);
        assert_null(out);
        assert_int_equal(gn_decompress((gn_compression_t)c, blob, blob_len, 1000, &out, &out_len),
                         GN_ECORRUPT);
        free(blob);
    }
    free(zeros);
}

/* incompressible input: every codec's worst case round trips */
static void test_record_iter__codecs_round_trip_incompressible(void **state)
{
    enum { N = 300000 };
    uint8_t *in = malloc(N);
    uint32_t seed = 99;
    (void)state;

    for (size_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        in[i] = (uint8_t)(seed >> 16);
    }
    for (int c = GN_COMPRESSION_GZIP; c <= GN_COMPRESSION_ZSTD; c++) {
        for (size_t n = 0; n <= N; n += N / 3) {
            uint8_t *blob = NULL, *out = NULL;
            size_t blob_len, out_len;
            assert_int_equal(gn_compress((gn_compression_t)c, in, n, &blob, &blob_len), 0);
            assert_int_equal(gn_decompress((gn_compression_t)c, blob, blob_len, N, &out, &out_len),
                             0);
            assert_int_equal(out_len, n);
            if (n) assert_memory_equal(out, in, n);
            free(blob);
            free(out);
        }
    }
    free(in);
}

static void test_record_iter__unknown_codec_refused(void **state)
{
    uint8_t *out = NULL;
    size_t out_len;
    (void)state;

    assert_int_equal(
        gn_decompress((gn_compression_t)5, (const uint8_t *)"x", 1, 10, &out, &out_len),
        GN_EUNSUPPORTED_COMPRESSION);
    assert_int_equal(gn_compress(GN_COMPRESSION_NONE, (const uint8_t *)"x", 1, &out, &out_len),
                     GN_EUNSUPPORTED_COMPRESSION);
}

/* Corrupt or cut compressed blobs, with a valid CRC (a producer's bug, not a disk
 * flip): init refuses, never crashes. */
static void test_record_iter__corrupt_compressed_blob_refused(void **state)
{
    (void)state;
    for (int c = GN_COMPRESSION_GZIP; c <= GN_COMPRESSION_ZSTD; c++) {
        char name[64];
        size_t len = 0;
        snprintf(name, sizeof(name), "librdkafka_%s.bin", codec_names[c]);
        uint8_t *orig = fixture_load(name, &len);
        assert_non_null(orig);
        uint8_t *b = malloc(len);
        gn_record_iter_t it;
        gn_record_t rec;
        /* every truncation of the blob, resealed */
        for (size_t cut = GN_BATCH_HEADER_SIZE; cut < len; cut++) {
            memcpy(b, orig, cut);
            reseal(b, cut);
            int rc = gn_record_iter_init(&it, b, cut);
            if (rc == 0) { /* a codec may decode a prefix: the records must then fail */
                int r;
                while ((r = gn_record_iter_next(&it, &rec)) == 1)
                    ;
                gn_record_iter_close(&it);
                fail_msg("codec %d cut at %zu accepted", c, cut);
            }
            assert_true(rc < 0);
        }
        /* flips inside the blob: refused or, if the codec cannot tell, still bounded */
        for (size_t i = GN_BATCH_HEADER_SIZE; i < len; i++) {
            memcpy(b, orig, len);
            b[i] ^= 0x5A;
            reseal(b, len);
            if (gn_record_iter_init(&it, b, len) == 0) {
                while (gn_record_iter_next(&it, &rec) == 1)
                    ;
                gn_record_iter_close(&it);
            }
        }
        free(b);
        free(orig);
    }
}

/* Every truncation of a whole batch: GN_EAGAIN (more is needed), never a crash. */
static void test_record_iter__truncated_batch_needs_more(void **state)
{
    (void)state;
    for (int c = 0; c <= GN_COMPRESSION_ZSTD; c++) {
        char name[64];
        size_t len = 0;
        snprintf(name, sizeof(name), "librdkafka_%s.bin", codec_names[c]);
        uint8_t *orig = fixture_load(name, &len);
        assert_non_null(orig);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *b = malloc(cut ? cut : 1);
            gn_record_iter_t it;
            memcpy(b, orig, cut);
            assert_int_equal(gn_record_iter_init(&it, b, cut), GN_EAGAIN);
            free(b);
        }
        free(orig);
    }
}

static void test_record_iter__header_walk_refuses_corrupt(void **state)
{
    gn_record_header_t h;
    gn_bytes_t raw;
    (void)state;

    raw = (gn_bytes_t){(const uint8_t *)"\x04h1\x01", 4}; /* key "h1", null value */
    assert_int_equal(gn_record_header_next(&raw, &h), 1);
    assert_null(h.value.ptr);
    assert_int_equal(raw.len, 0);
    raw = (gn_bytes_t){(const uint8_t *)"\x01\x00", 2}; /* null key: refused */
    assert_int_equal(gn_record_header_next(&raw, &h), GN_ECORRUPT);
    raw = (gn_bytes_t){(const uint8_t *)"\x08h1", 3}; /* key longer than the bytes */
    assert_int_equal(gn_record_header_next(&raw, &h), GN_ECORRUPT);
    raw = (gn_bytes_t){(const uint8_t *)"\x04h1", 3}; /* value missing */
    assert_int_equal(gn_record_header_next(&raw, &h), GN_ECORRUPT);
}

/* The validation walk (gn__records_check, skip-only) and the parser the iterator uses
 * (gn__record_parse) must agree on every blob: the reference below is the walk as it
 * was written on top of the parser. */
static int records_check_by_parse(const uint8_t *p, size_t len, int32_t count, int32_t last)
{
    gn__raw_record_t rec;
    int64_t prev = -1;
    size_t pos = 0;
    for (int32_t i = 0; i < count; i++) {
        int64_t n = gn__record_parse(p + pos, len - pos, &rec);
        if (n < 0 || rec.offset_delta <= prev || rec.offset_delta > last) return GN_ECORRUPT;
        prev = rec.offset_delta;
        pos += (size_t)n;
    }
    return pos == len ? 0 : GN_ECORRUPT;
}

static void test_record_iter__record_walk_agrees_with_parser(void **state)
{
    static const uint8_t flips[] = {0x00, 0x01, 0x02, 0x7F, 0x80, 0x81, 0xFE, 0xFF};
    gn_batch_builder_t b;
    gn_bytes_t out;
    uint8_t big[300];
    (void)state;

    memset(big, 'v', sizeof(big));
    /* an empty header key: one flip (0x00 -> 0x01) makes it null, which is refused */
    gn_record_header_t hs[3] = {{GN_BYTES_STR("h1"), GN_BYTES_STR("x")},
                                {GN_BYTES_STR("h2"), GN_BYTES_NULL},
                                {GN_BYTES_STR(""), GN_BYTES_STR("y")}};
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_NULL, GN_BYTES_STR("a"), NULL, 0, 5), 0);
    assert_int_equal(
        gn_batch_builder_add(&b, GN_BYTES_STR("k"), (gn_bytes_t){big, sizeof(big)}, hs, 3, 7), 0);
    assert_int_equal(gn_batch_builder_add(&b, GN_BYTES_STR(""), GN_BYTES_NULL, hs, 1, 1), 0);
    assert_int_equal(gn_batch_builder_finish(&b, 0, &out), 0);
    const uint8_t *blob0 = out.ptr + GN_BATCH_HEADER_SIZE;
    size_t len = out.len - GN_BATCH_HEADER_SIZE;
    assert_int_equal(gn__records_check(blob0, len, 3, 2), 0);

    uint8_t *blob = malloc(len);
    int agreed_corrupt = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t f = 0; f < sizeof(flips); f++) {
            memcpy(blob, blob0, len);
            blob[i] = flips[f];
            int want = records_check_by_parse(blob, len, 3, 2);
            assert_int_equal(gn__records_check(blob, len, 3, 2), want);
            agreed_corrupt += want < 0;
        }
    }
    assert_true(agreed_corrupt > 0);         /* the flips did reach the checks */
    for (size_t cut = 0; cut < len; cut++) { /* exact-size copies: ASan sees any overread */
        uint8_t *t = malloc(cut ? cut : 1);
        memcpy(t, blob0, cut);
        for (int32_t count = 0; count <= 3; count++)
            assert_int_equal(gn__records_check(t, cut, count, 2),
                             records_check_by_parse(t, cut, count, 2));
        free(t);
    }
    /* offset deltas: the declared last delta bounds them */
    assert_int_equal(gn__records_check(blob0, len, 3, 1), GN_ECORRUPT);
    assert_int_equal(gn__records_check(blob0, len, 2, 2), GN_ECORRUPT); /* trailing record */
    free(blob);
    gn_batch_builder_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_iter__golden_batch),
        cmocka_unit_test(test_record_iter__reads_librdkafka_batches_in_every_codec),
        cmocka_unit_test(test_record_iter__builder_round_trip_every_codec),
        cmocka_unit_test(test_record_iter__log_append_time_overrides_record_timestamps),
        cmocka_unit_test(test_record_iter__snappy_xerial_framing),
        cmocka_unit_test(test_record_iter__gzip_concatenated_members),
        cmocka_unit_test(test_record_iter__decompression_is_bounded),
        cmocka_unit_test(test_record_iter__codecs_round_trip_incompressible),
        cmocka_unit_test(test_record_iter__unknown_codec_refused),
        cmocka_unit_test(test_record_iter__corrupt_compressed_blob_refused),
        cmocka_unit_test(test_record_iter__truncated_batch_needs_more),
        cmocka_unit_test(test_record_iter__header_walk_refuses_corrupt),
        cmocka_unit_test(test_record_iter__record_walk_agrees_with_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
