/* SPDX-License-Identifier: Apache-2.0 */
/* core/log append and read path: round trip, offsets in place, max_bytes and
 * max_offset, rolling by segment.bytes and segment.ms, time lookups, reopen after a
 * clean close, refused batches leave the log untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_test_util.h"

typedef struct fx {
    TL_FX_FIELDS;
} fx_t;

static int setup(void **state)
{
    fx_t *f = tl_fx_new(sizeof(*f));
    *state = f;
    return 0;
}

static void open_log(fx_t *f, bool clean)
{
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, clean, 0, &f->log), 0);
}

static void reopen(fx_t *f, bool clean)
{
    gn_log_close(f->log);
    tl_drain(&f->loop);
    f->log = NULL;
    open_log(f, clean);
}

static void test_log__append_read_round_trip(void **state)
{
    fx_t *f = *state;
    size_t len, total;
    uint8_t *b = tl_batch(3, 5000, 1, 20, &len);
    gn_log_append_info_t info;

    open_log(f, false);
    assert_int_equal(gn_log_end_offset(f->log), 0);
    assert_int_equal(gn_log_append(f->log, b, len, 7000, &info), 0);
    assert_int_equal(info.base_offset, 0);
    assert_int_equal(info.last_offset, 2);
    assert_int_equal(info.batches, 1);
    assert_int_equal(info.records, 3);
    assert_int_equal(info.max_timestamp, 5000);
    assert_int_equal(info.log_append_time, -1);
    assert_int_equal(gn_log_end_offset(f->log), 3);
    assert_int_equal(gn_log_size_bytes(f->log), (int64_t)len);

    uint8_t *got = tl_read_all(f->log, 0, &total);
    assert_int_equal(total, len);
    assert_memory_equal(got, b, len); /* the stored bytes are the (rewritten) input */
    gn_record_iter_t it;
    gn_record_t rec;
    assert_int_equal(gn_record_iter_init(&it, got, total), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gn_record_iter_next(&it, &rec), 1);
        assert_int_equal(rec.offset, i);
        assert_int_equal(rec.timestamp, 5000);
    }
    assert_int_equal(gn_record_iter_next(&it, &rec), 0);
    gn_record_iter_close(&it);
    free(got);
    free(b);
}

static void test_log__offsets_assigned_in_place(void **state)
{
    fx_t *f = *state;
    size_t l1, l2, l3;
    uint8_t *b1 = tl_batch(2, 1, 1, 10, &l1), *b2 = tl_batch(5, 1, 2, 10, &l2),
            *b3 = tl_batch(1, 1, 3, 10, &l3);
    uint8_t *buf = malloc(l1 + l2 + l3);
    gn_log_append_info_t info;
    gn_batch_header_t h;

    memcpy(buf, b1, l1);
    memcpy(buf + l1, b2, l2);
    memcpy(buf + l1 + l2, b3, l3);
    open_log(f, false);
    assert_int_equal(tl_append(f->log, 4, 1, 0, 10), 0);
    assert_int_equal(gn_log_append(f->log, buf, l1 + l2 + l3, 1, &info), 0);
    assert_int_equal(info.base_offset, 4);
    assert_int_equal(info.last_offset, 11);
    assert_int_equal(info.batches, 3);
    /* the caller's buffer carries the assigned base offsets, CRCs still valid */
    assert_true(gn_batch_validate(buf, l1, SIZE_MAX, &h) > 0);
    assert_int_equal(h.base_offset, 4);
    assert_true(gn_batch_validate(buf + l1, l2, SIZE_MAX, &h) > 0);
    assert_int_equal(h.base_offset, 6);
    assert_true(gn_batch_validate(buf + l1 + l2, l3, SIZE_MAX, &h) > 0);
    assert_int_equal(h.base_offset, 11);
    assert_int_equal(gn_log_end_offset(f->log), 12);
    free(b1), free(b2), free(b3), free(buf);
}

static void test_log__log_append_time(void **state)
{
    fx_t *f = *state;
    size_t len;
    uint8_t *b = tl_batch(2, 111, 1, 10, &len);
    gn_log_append_info_t info;
    gn_batch_header_t h;

    f->cfg.timestamp_type = GN_TIMESTAMP_LOG_APPEND_TIME;
    open_log(f, false);
    assert_int_equal(gn_log_append(f->log, b, len, 99999, &info), 0);
    assert_int_equal(info.log_append_time, 99999);
    assert_true(gn_batch_validate(b, len, SIZE_MAX, &h) > 0);
    assert_int_equal(h.max_timestamp, 99999);
    assert_true(h.attributes & GN_ATTR_LOG_APPEND_TIME);
    free(b);
}

static void test_log__read_max_bytes_and_max_offset(void **state)
{
    fx_t *f = *state;
    gn_log_slice_t s;
    size_t len;
    uint8_t *b = tl_batch(2, 1, 0, 100, &len); /* every batch has the same size */

    free(b);
    open_log(f, false);
    for (int i = 0; i < 10; i++)
        assert_int_equal(tl_append(f->log, 2, 1, i, 100), i * 2);
    /* max_bytes smaller than one batch: still one whole batch (KIP-74) */
    assert_int_equal(gn_log_read(f->log, 0, 1, -1, &s), 0);
    assert_int_equal(s.len, (int64_t)len);
    assert_int_equal(s.first_offset, 0);
    gn_log_slice_release(&s);
    /* 3.5 batches' worth: 3 whole batches, starting with the one holding offset 5 */
    assert_int_equal(gn_log_read(f->log, 5, len * 3 + len / 2, -1, &s), 0);
    assert_int_equal(s.len, (int64_t)len * 3);
    assert_int_equal(s.first_offset, 4);
    assert_int_equal(s.pos, (int64_t)len * 2);
    gn_log_slice_release(&s);
    /* max_offset 10: batches ending before offset 10 only */
    assert_int_equal(gn_log_read(f->log, 4, 1 << 20, 10, &s), 0);
    assert_int_equal(s.len, (int64_t)len * 3);
    gn_log_slice_release(&s);
    /* max_offset inside the first batch: nothing */
    assert_int_equal(gn_log_read(f->log, 4, 1 << 20, 5, &s), 0);
    assert_int_equal(s.len, 0);
    gn_log_slice_release(&s);
    /* at the end: empty; beyond: out of range */
    assert_int_equal(gn_log_read(f->log, 20, 100, -1, &s), 0);
    assert_int_equal(s.len, 0);
    assert_int_equal(gn_log_read(f->log, 21, 100, -1, &s), GN_EOFFSETRANGE);
    /* everything */
    assert_int_equal(gn_log_read(f->log, 0, 1 << 20, -1, &s), 0);
    assert_int_equal(s.len, (int64_t)len * 10);
    uint8_t *buf = malloc((size_t)s.len);
    assert_int_equal(gn_log_slice_read(&s, buf), 0);
    int64_t next = 0;
    assert_int_equal(tl_validate_all(buf, (size_t)s.len, &next), 20);
    assert_int_equal(next, 20);
    free(buf);
    gn_log_slice_release(&s);
}

static void test_log__rolls_at_segment_bytes(void **state)
{
    fx_t *f = *state;
    size_t len;
    free(tl_batch(1, 1, 0, 200, &len));

    f->cfg.segment_bytes = (int64_t)len * 3;
    open_log(f, false);
    for (int i = 0; i < 10; i++)
        assert_int_equal(tl_append(f->log, 1, 1, i, 200), i);
    assert_int_equal(gn_log_segment_count(f->log), 4); /* 3+3+3+1 */
    /* rolled segments hold exactly their batches; the active one may have zeros
     * written ahead of its end, never past segment.bytes */
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), (int64_t)len * 3);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000003.log"), (int64_t)len * 3);
    assert_in_range(tl_file_size(f->dir, "00000000000000000009.log"), len, len * 3);
    assert_int_equal(tl_nonzero_after(f->dir, "00000000000000000009.log", (int64_t)len), 0);
    size_t total;
    uint8_t *all = tl_read_all(f->log, 0, &total);
    int64_t next = 0;
    assert_int_equal(tl_validate_all(all, total, &next), 10);
    assert_int_equal(next, 10);
    free(all);
    /* reads starting in a middle segment */
    gn_log_slice_t s;
    assert_int_equal(gn_log_read(f->log, 4, 1, -1, &s), 0);
    assert_int_equal(s.first_offset, 4);
    assert_int_equal(s.pos, (int64_t)len);
    gn_log_slice_release(&s);
}

static void test_log__rolls_at_segment_ms(void **state)
{
    fx_t *f = *state;
    size_t len;
    uint8_t *b;
    gn_log_append_info_t info;

    f->cfg.segment_ms = 1000;
    open_log(f, false);
    for (int64_t now = 10000; now <= 10900; now += 300) {
        b = tl_batch(1, now, 0, 10, &len);
        assert_int_equal(gn_log_append(f->log, b, len, now, &info), 0);
        free(b);
    }
    assert_int_equal(gn_log_segment_count(f->log), 1);
    b = tl_batch(1, 11001, 0, 10, &len);
    assert_int_equal(gn_log_append(f->log, b, len, 11001, &info), 0);
    free(b);
    assert_int_equal(gn_log_segment_count(f->log), 2);
    assert_true(tl_file_size(f->dir, "00000000000000000004.log") >= (int64_t)len);
    assert_int_equal(tl_nonzero_after(f->dir, "00000000000000000004.log", (int64_t)len), 0);
}

static void test_log__offset_and_time_lookups_many_segments(void **state)
{
    fx_t *f = *state;
    size_t len;
    free(tl_batch(2, 0, 0, 30, &len));

    /* 4000 batches, 50 per segment, an index entry every batch: 80 segments
     * (each roll costs 3 fsyncs at close, so not thousands of segments here) */
    f->cfg.segment_bytes = (int64_t)len * 50;
    f->cfg.index_interval_bytes = 1;
    open_log(f, false);
    for (int i = 0; i < 4000; i++)
        assert_int_equal(tl_append(f->log, 2, 100000 + i * 10, i, 30), i * 2);
    assert_int_equal(gn_log_segment_count(f->log), 80);
    for (int64_t o = 0; o < 8000; o += 37) {
        gn_log_slice_t s;
        assert_int_equal(gn_log_read(f->log, o, 1, -1, &s), 0);
        assert_int_equal(s.first_offset, o & ~1);
        assert_int_equal(s.len, (int64_t)len);
        gn_log_slice_release(&s);
    }
    for (int i = 0; i < 4000; i += 91) {
        int64_t off, ts;
        assert_int_equal(gn_log_offset_for_time(f->log, 100000 + i * 10 - 5, &off, &ts), 0);
        assert_int_equal(off, i * 2);
        assert_int_equal(ts, 100000 + i * 10);
        assert_int_equal(gn_log_offset_for_time(f->log, 100000 + i * 10, &off, &ts), 0);
        assert_int_equal(off, i * 2);
    }
    int64_t off, ts;
    assert_int_equal(gn_log_offset_for_time(f->log, 10000000, &off, &ts), 0);
    assert_int_equal(off, -1);
    /* the same after a clean reopen: old segments' indexes load lazily from files */
    reopen(f, true);
    assert_int_equal(gn_log_segment_count(f->log), 80);
    assert_int_equal(gn_log_offset_for_time(f->log, 100000 + 1234 * 10, &off, &ts), 0);
    assert_int_equal(off, 2468);
    gn_log_slice_t s;
    assert_int_equal(gn_log_read(f->log, 5001, 1, -1, &s), 0);
    assert_int_equal(s.first_offset, 5000);
    gn_log_slice_release(&s);
}

static void test_log__index_entries_every_interval(void **state)
{
    fx_t *f = *state;
    size_t len;
    free(tl_batch(1, 0, 0, 500, &len));

    f->cfg.index_interval_bytes = 4096;
    open_log(f, false);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tl_append(f->log, 1, 1000 + i, i, 500), i);
    reopen(f, true); /* close writes the index files at their real size */
    int64_t isz = tl_file_size(f->dir, "00000000000000000000.index");
    int64_t tsz = tl_file_size(f->dir, "00000000000000000000.timeindex");
    int64_t expect = (int64_t)(100 * len) / (4096 + (int64_t)len);
    assert_true(isz % 8 == 0 && tsz % 12 == 0);
    assert_true(isz / 8 >= expect - 2 && isz / 8 <= expect + 2);
    assert_true(tsz / 12 >= isz / 8);
    for (int i = 0; i < 100; i += 7) {
        gn_log_slice_t s;
        assert_int_equal(gn_log_read(f->log, i, 1, -1, &s), 0);
        assert_int_equal(s.first_offset, i);
        assert_int_equal(s.pos, (int64_t)len * i);
        gn_log_slice_release(&s);
    }
}

static void test_log__max_timestamp(void **state)
{
    fx_t *f = *state;
    const char *k[] = {"a", "b", "c"}, *v[] = {"1", "2", "3"};
    size_t len;
    gn_batch_builder_t b;
    gn_bytes_t out;
    int64_t off, ts;

    open_log(f, false);
    assert_int_equal(gn_log_max_timestamp(f->log, &off, &ts), 0);
    assert_int_equal(off, -1);
    assert_int_equal(ts, -1);
    uint8_t *b1 = tl_kv_batch(k, v, 3, 500, &len);
    assert_int_equal(gn_log_append(f->log, b1, len, 1, NULL), 0);
    free(b1);
    /* a batch whose largest timestamp sits on its middle record */
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    gn_batch_builder_add(&b, GN_BYTES_STR("x"), GN_BYTES_STR("1"), NULL, 0, 700);
    gn_batch_builder_add(&b, GN_BYTES_STR("y"), GN_BYTES_STR("2"), NULL, 0, 900);
    gn_batch_builder_add(&b, GN_BYTES_STR("z"), GN_BYTES_STR("3"), NULL, 0, 800);
    gn_batch_builder_finish(&b, 0, &out);
    assert_int_equal(gn_log_append(f->log, (uint8_t *)out.ptr, out.len, 1, NULL), 0);
    gn_batch_builder_close(&b);
    assert_int_equal(tl_append(f->log, 2, 600, 0, 10), 6);
    assert_int_equal(gn_log_max_timestamp(f->log, &off, &ts), 0);
    assert_int_equal(ts, 900);
    assert_int_equal(off, 4);
    reopen(f, true);
    assert_int_equal(gn_log_max_timestamp(f->log, &off, &ts), 0);
    assert_int_equal(ts, 900);
    assert_int_equal(off, 4);
}

/* Kafka answers ListOffsets by time with the first RECORD at or after the time, not
 * the first offset of the batch holding it. */
static void test_log__offset_for_time_is_record_exact(void **state)
{
    fx_t *f = *state;
    gn_batch_builder_t b;
    gn_bytes_t out;
    int64_t off, ts;

    open_log(f, false);
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (int i = 0; i < 10; i++)
        gn_batch_builder_add(&b, GN_BYTES_NULL, GN_BYTES_STR("v"), NULL, 0, 1000 + i * 10);
    gn_batch_builder_finish(&b, 0, &out);
    assert_int_equal(gn_log_append(f->log, (uint8_t *)out.ptr, out.len, 1, NULL), 0);
    gn_batch_builder_close(&b);
    assert_int_equal(gn_log_offset_for_time(f->log, 1045, &off, &ts), 0);
    assert_int_equal(off, 5);
    assert_int_equal(ts, 1050);
    assert_int_equal(gn_log_offset_for_time(f->log, 1030, &off, &ts), 0);
    assert_int_equal(off, 3);
    assert_int_equal(ts, 1030);
    assert_int_equal(gn_log_offset_for_time(f->log, 0, &off, &ts), 0);
    assert_int_equal(off, 0);
    assert_int_equal(gn_log_offset_for_time(f->log, 1091, &off, &ts), 0);
    assert_int_equal(off, -1);
}

static void test_log__reopen_after_clean_close_same_state(void **state)
{
    fx_t *f = *state;
    size_t len, t1, t2;

    free(tl_batch(3, 0, 0, 50, &len));
    f->cfg.segment_bytes = (int64_t)len * 5;
    f->cfg.index_interval_bytes = 100;
    open_log(f, false);
    for (int i = 0; i < 23; i++)
        assert_int_equal(tl_append(f->log, 3, 2000 + i, i, 50), i * 3);
    int64_t end = gn_log_end_offset(f->log), size = gn_log_size_bytes(f->log);
    int nseg = gn_log_segment_count(f->log);
    int64_t mo, mt, to, tt;
    gn_log_max_timestamp(f->log, &mo, &mt);
    gn_log_offset_for_time(f->log, 2010, &to, &tt);
    uint8_t *before = tl_read_all(f->log, 0, &t1);
    reopen(f, true);
    assert_int_equal(gn_log_end_offset(f->log), end);
    assert_int_equal(gn_log_size_bytes(f->log), size);
    assert_int_equal(gn_log_segment_count(f->log), nseg);
    assert_int_equal(gn_log_recovery_point(f->log), end);
    int64_t mo2, mt2, to2, tt2;
    gn_log_max_timestamp(f->log, &mo2, &mt2);
    gn_log_offset_for_time(f->log, 2010, &to2, &tt2);
    assert_int_equal(mo, mo2);
    assert_int_equal(mt, mt2);
    assert_int_equal(to, to2);
    assert_int_equal(tt, tt2);
    uint8_t *after = tl_read_all(f->log, 0, &t2);
    assert_int_equal(t1, t2);
    assert_memory_equal(before, after, t1);
    free(before), free(after);
    /* appends continue where they stopped */
    assert_int_equal(tl_append(f->log, 1, 3000, 99, 10), end);
    /* and an unclean reopen (full scan) agrees */
    reopen(f, false);
    assert_int_equal(gn_log_end_offset(f->log), end + 1);
}

static void test_log__bad_batches_refused_log_untouched(void **state)
{
    fx_t *f = *state;
    size_t len, good_len;
    uint8_t *good = tl_batch(2, 1, 0, 10, &good_len);
    uint8_t *b;
    gn_log_append_info_t info;

    f->cfg.max_message_bytes = 1000;
    open_log(f, false);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 0);
    int64_t size = gn_log_size_bytes(f->log);

    /* CRC: a flipped byte in the records */
    b = tl_batch(2, 1, 0, 10, &len);
    b[len - 3] ^= 1;
    assert_int_equal(gn_log_append(f->log, b, len, 1, &info), GN_ECORRUPT);
    free(b);
    /* magic 1 */
    b = tl_batch(2, 1, 0, 10, &len);
    b[16] = 1;
    assert_int_equal(gn_log_append(f->log, b, len, 1, &info), GN_EUNSUPPORTED_VERSION);
    b[16] = 0;
    assert_int_equal(gn_log_append(f->log, b, len, 1, &info), GN_EUNSUPPORTED_VERSION);
    free(b);
    /* max.message.bytes */
    b = tl_batch(2, 1, 0, 2000, &len);
    assert_int_equal(gn_log_append(f->log, b, len, 1, &info), GN_ETOOLARGE);
    free(b);
    /* a good batch followed by a bad one: nothing written, first batch's offset not set */
    b = tl_batch(1, 1, 0, 10, &len);
    uint8_t *two = malloc(good_len + len);
    memcpy(two, good, good_len);
    memcpy(two + good_len, b, len);
    two[good_len + len - 2] ^= 0xff;
    assert_int_equal(gn_log_append(f->log, two, good_len + len, 1, &info), GN_ECORRUPT);
    assert_memory_equal(two, good, good_len);
    /* a truncated buffer */
    assert_int_equal(gn_log_append(f->log, good, good_len - 1, 1, &info), GN_ECORRUPT);
    assert_int_equal(gn_log_append(f->log, good, 0, 1, &info), GN_EINVALID_RECORD);
    free(b), free(two);

    assert_int_equal(gn_log_end_offset(f->log), 1);
    assert_int_equal(gn_log_size_bytes(f->log), size);
    assert_int_equal(tl_nonzero_after(f->dir, "00000000000000000000.log", size), 0);
    assert_int_equal(gn_log_append(f->log, good, good_len, 1, &info), 0);
    assert_int_equal(info.base_offset, 1);
    free(good);
}

static void on_synced(void *arg, int status)
{
    assert_int_equal(status, 0);
    ++*(int *)arg;
}

/* Appends n batches of vlen-byte values, each followed by an fsync (run to its end). */
static void append_synced(fx_t *f, int n, size_t vlen)
{
    for (int i = 0; i < n; i++) {
        int64_t end = gn_log_end_offset(f->log);
        assert_int_equal(tl_append(f->log, 1, 1000 + end, (int)end, vlen), end);
        int synced = 0;
        assert_int_equal(gn_log_sync(f->log, end + 1, on_synced, &synced), 0);
        while (!synced)
            uv_run(&f->loop, UV_RUN_ONCE);
    }
}

/* The active segment's file runs ahead of its batches with zeros once its fsyncs are
 * small (so an append overwrites allocated blocks and its fdatasync commits no
 * metadata); the zeros never show in reads or sizes, and a clean close cuts them. */
static void test_log__zeros_ahead_of_the_active_segment(void **state)
{
    fx_t *f = *state;
    size_t len, total;
    free(tl_batch(1, 0, 0, 100, &len));

    open_log(f, false);
    assert_int_equal(tl_append(f->log, 1, 1000, 0, 100), 0);
    /* no fsync yet: nothing says zeros would pay */
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), (int64_t)len);
    append_synced(f, 9, 100);
    int64_t size = gn_log_size_bytes(f->log);
    assert_int_equal(size, (int64_t)len * 10);
    int64_t fsize = tl_file_size(f->dir, "00000000000000000000.log");
    assert_true(fsize >= size + (32 << 10)); /* at least half of the 64 KiB chunk ahead */
    assert_int_equal(fsize % 4096, 0);
    assert_int_equal(tl_nonzero_after(f->dir, "00000000000000000000.log", size), 0);
    uint8_t *all = tl_read_all(f->log, 0, &total);
    assert_int_equal(total, size);
    free(all);
    /* an append overwrites the zeros: the file does not grow while half a chunk is left */
    assert_int_equal(tl_append(f->log, 1, 1010, 10, 100), 10);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), fsize);
    /* a truncation cuts the file at the new end, zeros included */
    assert_int_equal(gn_log_truncate(f->log, 5), 0);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), (int64_t)len * 5);
    assert_int_equal(tl_append(f->log, 1, 1020, 5, 100), 5);
    assert_true(tl_file_size(f->dir, "00000000000000000000.log") > (int64_t)len * 6);
    reopen(f, true);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), (int64_t)len * 6);
    assert_int_equal(gn_log_end_offset(f->log), 6);
    all = tl_read_all(f->log, 0, &total);
    int64_t next = 0;
    assert_int_equal(tl_validate_all(all, total, &next), 6);
    free(all);
}

/* Bulk fsyncs (64 KiB and more each on average) get no zeros: there writing every
 * byte twice costs more than the journal commits it saves. */
static void test_log__no_zeros_ahead_for_bulk_fsyncs(void **state)
{
    fx_t *f = *state;
    size_t len;
    free(tl_batch(1, 0, 0, 200 << 10, &len));

    open_log(f, false);
    append_synced(f, 4, 200 << 10);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), (int64_t)len * 4);
}

static void test_log__close_and_delete_removes_dir(void **state)
{
    fx_t *f = *state;
    char *sub = tl_sub(f->dir, "t-0");

    assert_int_equal(tl_open(&f->loop, sub, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_append(f->log, 3, 1, 0, 10), 0);
    gn_log_close_and_delete(f->log);
    f->log = NULL;
    tl_drain(&f->loop);
    assert_int_equal(access(sub, F_OK), -1);
    free(sub);
}

/* Closed for removal (a deleted partition): no index rewrite and no fsync, the files as
 * a crash would leave them; a plain close writes the index files. */
static void test_log__close_discard_writes_no_index(void **state)
{
    fx_t *f = *state;
    char *a = tl_sub(f->dir, "a-0"), *b = tl_sub(f->dir, "b-0");

    f->cfg.index_interval_bytes = 1; /* an index entry per batch */
    assert_int_equal(tl_open(&f->loop, a, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tl_append(f->log, 1, 1000 + i, i, 10), i);
    gn_log_close(f->log);
    f->log = NULL;
    tl_drain(&f->loop);
    assert_true(tl_file_size(a, "00000000000000000000.index") > 0);

    assert_int_equal(tl_open(&f->loop, b, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tl_append(f->log, 1, 1000 + i, i, 10), i);
    int64_t data = tl_file_size(b, "00000000000000000000.log");
    gn_log_close_discard(f->log);
    f->log = NULL;
    tl_drain(&f->loop);
    assert_true(tl_file_size(b, "00000000000000000000.index") <= 0);
    assert_int_equal(tl_file_size(b, "00000000000000000000.log"), data); /* the data stays */
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log__append_read_round_trip, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__offsets_assigned_in_place, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__log_append_time, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__read_max_bytes_and_max_offset, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__rolls_at_segment_bytes, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__rolls_at_segment_ms, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__offset_and_time_lookups_many_segments, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__index_entries_every_interval, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__max_timestamp, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__offset_for_time_is_record_exact, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__reopen_after_clean_close_same_state, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__bad_batches_refused_log_untouched, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__zeros_ahead_of_the_active_segment, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__no_zeros_ahead_for_bulk_fsyncs, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__close_discard_writes_no_index, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_log__close_and_delete_removes_dir, setup, tl_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
