/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the record tests: a hand-computed golden batch, building a
 * small batch per codec, and loading fixture files from tests/fixtures/record. */
#ifndef GN_TEST_RECORD_UTIL_H
#define GN_TEST_RECORD_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/record.h"

/* One record, key "k", value "v", timestamp 1000, base offset 0, no producer.
 * Written out by hand from the Kafka docs; the CRC (0x716A6189) was computed with
 * an independent bitwise CRC-32C in Python, not with our code. */
static const uint8_t golden_one_record[70] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* baseOffset 0 */
    0x00, 0x00, 0x00, 0x3a,                               /* batchLength 58 */
    0xff, 0xff, 0xff, 0xff,                               /* partitionLeaderEpoch -1 */
    0x02,                                                 /* magic */
    0x71, 0x6a, 0x61, 0x89,                               /* crc */
    0x00, 0x00,                                           /* attributes */
    0x00, 0x00, 0x00, 0x00,                               /* lastOffsetDelta */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,       /* baseTimestamp 1000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,       /* maxTimestamp 1000 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,       /* producerId -1 */
    0xff, 0xff,                                           /* producerEpoch -1 */
    0xff, 0xff, 0xff, 0xff,                               /* baseSequence -1 */
    0x00, 0x00, 0x00, 0x01,                               /* recordsCount 1 */
    0x10, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x00, /* the record */
};

/* Reads tests/fixtures/record/<name> (found from this file's path); NULL if absent. */
static inline uint8_t *fixture_load(const char *name, size_t *len)
{
    char path[1024];
    const char *here = __FILE__;
    const char *cut = strstr(here, "tests/unit/record/");
    uint8_t *buf = NULL;
    long n;
    FILE *f;

    if (!cut) return NULL;
    snprintf(path, sizeof(path), "%.*stests/fixtures/record/%s", (int)(cut - here), here, name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

/* The six records of the librdkafka fixtures (capture_librdkafka.c), which the
 * builder reproduces: headers, null key, null value, empty value, a large value,
 * and a timestamp earlier than the first (a negative delta). */
#define FIXTURE_RECORDS 6
#define FIXTURE_TS0     1700000000000LL
static char fixture_big[3000];

static inline void fixture_record(int i, gn_bytes_t *key, gn_bytes_t *value, int64_t *ts,
                                  char kbuf[32], char vbuf[32])
{
    snprintf(kbuf, 32, "key-%d", i);
    snprintf(vbuf, 32, "value-%d", i);
    *key = (gn_bytes_t){(const uint8_t *)kbuf, strlen(kbuf)};
    *value = (gn_bytes_t){(const uint8_t *)vbuf, strlen(vbuf)};
    *ts = FIXTURE_TS0 + i;
    switch (i) {
    case 1:
        *key = GN_BYTES_NULL;
        break;
    case 2:
        *value = GN_BYTES_NULL;
        break;
    case 3:
        *value = (gn_bytes_t){(const uint8_t *)"", 0};
        break;
    case 4:
        memset(fixture_big, 'x', sizeof(fixture_big));
        *value = (gn_bytes_t){(const uint8_t *)fixture_big, sizeof(fixture_big)};
        break;
    case 5:
        *ts = FIXTURE_TS0 - 5000;
        break;
    }
}

static const gn_record_header_t fixture_headers[2] = {
    {{(const uint8_t *)"h1", 2}, {(const uint8_t *)"hv1", 3}},
    {{(const uint8_t *)"h2", 2}, {NULL, 0}},
};

static inline int fixture_build(gn_batch_builder_t *b)
{
    for (int i = 0; i < FIXTURE_RECORDS; i++) {
        char kbuf[32], vbuf[32];
        gn_bytes_t key, value;
        int64_t ts;
        int rc;
        fixture_record(i, &key, &value, &ts, kbuf, vbuf);
        rc = gn_batch_builder_add(b, key, value, i == 0 ? fixture_headers : NULL, i == 0 ? 2 : 0,
                                  ts);
        if (rc < 0) return rc;
    }
    return 0;
}

static inline void bytes_equal(gn_bytes_t got, gn_bytes_t want)
{
    assert_true((got.ptr == NULL) == (want.ptr == NULL));
    assert_int_equal(got.len, want.len);
    if (want.len) assert_memory_equal(got.ptr, want.ptr, want.len);
}

/* Iterates batch and checks it holds exactly the fixture records. */
static inline void fixture_check(const uint8_t *batch, size_t len, int64_t base_offset)
{
    gn_record_iter_t it;
    gn_record_t rec;
    int i = 0;
    int rc;

    assert_int_equal(gn_record_iter_init(&it, batch, len), 0);
    assert_int_equal(it.hdr.records_count, FIXTURE_RECORDS);
    assert_true(it.hdr.base_timestamp == FIXTURE_TS0);
    assert_true(it.hdr.max_timestamp == FIXTURE_TS0 + 4);
    assert_int_equal(it.hdr.last_offset_delta, FIXTURE_RECORDS - 1);
    while ((rc = gn_record_iter_next(&it, &rec)) == 1) {
        char kbuf[32], vbuf[32];
        gn_bytes_t key, value;
        int64_t ts;
        assert_true(i < FIXTURE_RECORDS);
        fixture_record(i, &key, &value, &ts, kbuf, vbuf);
        assert_true(rec.offset == base_offset + i);
        assert_true(rec.timestamp == ts);
        bytes_equal(rec.key, key);
        bytes_equal(rec.value, value);
        if (i == 0) {
            gn_bytes_t raw = rec.headers;
            gn_record_header_t h;
            assert_int_equal(rec.headers_count, 2);
            for (int k = 0; k < 2; k++) {
                assert_int_equal(gn_record_header_next(&raw, &h), 1);
                bytes_equal(h.key, fixture_headers[k].key);
                bytes_equal(h.value, fixture_headers[k].value);
            }
            assert_int_equal(gn_record_header_next(&raw, &h), 0);
        } else {
            assert_int_equal(rec.headers_count, 0);
            assert_int_equal(rec.headers.len, 0);
        }
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, FIXTURE_RECORDS);
    assert_int_equal(gn_record_iter_next(&it, &rec), 0); /* stays at the end */
    gn_record_iter_close(&it);
}

#endif
