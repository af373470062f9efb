/* SPDX-License-Identifier: Apache-2.0 */
/* core/log retention: by time (segment max timestamp), by bytes, never the active
 * segment unless segment.ms rolled it; DeleteRecords; truncation; a slice keeps a
 * deleted segment readable; a restart past the end (a remote-read copy left behind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_test_util.h"

typedef struct fx {
    TL_FX_FIELDS;
    size_t len; /* one test batch: 1 record, 100-byte value */
} fx_t;

static int setup(void **state)
{
    fx_t *f = tl_fx_new(sizeof(*f));
    free(tl_batch(1, 0, 0, 100, &f->len));
    f->cfg.segment_bytes = (int64_t)f->len * 10;
    *state = f;
    return 0;
}

/* 35 batches, timestamps 1000 + 100*i: segments [0,10) [10,20) [20,30) [30,35). */
static void fill(fx_t *f)
{
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 35; i++)
        assert_int_equal(tl_append(f->log, 1, 1000 + 100 * i, i, 100), i);
    assert_int_equal(gn_log_segment_count(f->log), 4);
}

static void test_retention__by_time(void **state)
{
    fx_t *f = *state;
    f->cfg.retention_ms = 1000;
    fill(f);
    /* segment 0 max ts 1900, segment 1 max ts 2900 */
    assert_int_equal(gn_log_enforce_retention(f->log, 2900), 0);
    assert_int_equal(gn_log_enforce_retention(f->log, 2901), 1);
    assert_int_equal(gn_log_start_offset(f->log), 10);
    assert_int_equal(gn_log_enforce_retention(f->log, 3901), 1);
    assert_int_equal(gn_log_start_offset(f->log), 20);
    /* far in the future: everything but the active segment */
    assert_int_equal(gn_log_enforce_retention(f->log, 1000000), 1);
    assert_int_equal(gn_log_segment_count(f->log), 1);
    assert_int_equal(gn_log_start_offset(f->log), 30);
    assert_int_equal(gn_log_size_bytes(f->log), (int64_t)f->len * 5);
    gn_log_slice_t s;
    assert_int_equal(gn_log_read(f->log, 29, 100, -1, &s), GN_EOFFSETRANGE);
    tl_drain(&f->loop); /* unlinks ran on the thread pool */
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), -1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log.deleted"), -1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000010.index.deleted"), -1);
}

static void test_retention__active_segment_rolled_by_segment_ms(void **state)
{
    fx_t *f = *state;
    f->cfg.retention_ms = 1000;
    f->cfg.segment_ms = 10000;
    fill(f);
    /* segment.ms has not passed since the active segment's first append (t=4000) */
    assert_int_equal(gn_log_enforce_retention(f->log, 13000), 3);
    assert_int_equal(gn_log_segment_count(f->log), 1);
    /* now it has: rolled, then deleted; a new empty active segment remains */
    assert_int_equal(gn_log_enforce_retention(f->log, 14001), 1);
    assert_int_equal(gn_log_segment_count(f->log), 1);
    assert_int_equal(gn_log_start_offset(f->log), 35);
    assert_int_equal(gn_log_end_offset(f->log), 35);
    assert_int_equal(tl_append(f->log, 1, 20000, 0, 100), 35);
}

static void test_retention__by_bytes(void **state)
{
    fx_t *f = *state;
    f->cfg.retention_bytes = (int64_t)f->len * 21;
    fill(f);
    /* 35 batches; deleting whole segments from the oldest while still above 21 */
    assert_int_equal(gn_log_enforce_retention(f->log, 1), 1);
    assert_int_equal(gn_log_size_bytes(f->log), (int64_t)f->len * 25);
    assert_int_equal(gn_log_start_offset(f->log), 10);
    assert_int_equal(gn_log_enforce_retention(f->log, 1), 0);
    f->cfg.retention_bytes = 0;
    assert_int_equal(gn_log_enforce_retention(f->log, 1), 2);
    assert_int_equal(gn_log_segment_count(f->log), 1);
}

static void test_retention__compact_only_topic_keeps_old_segments(void **state)
{
    fx_t *f = *state;
    f->cfg.retention_ms = 1;
    f->cfg.cleanup_policy = GN_CLEANUP_COMPACT;
    fill(f);
    assert_int_equal(gn_log_enforce_retention(f->log, 1000000), 0);
    assert_int_equal(gn_log_segment_count(f->log), 4);
}

static void test_retention__delete_records(void **state)
{
    fx_t *f = *state;
    gn_log_slice_t s;
    fill(f);
    assert_int_equal(gn_log_delete_records(f->log, 36), GN_EOFFSETRANGE);
    assert_int_equal(gn_log_delete_records(f->log, 15), 0);
    assert_int_equal(gn_log_start_offset(f->log), 15);
    assert_int_equal(gn_log_segment_count(f->log), 3);
    assert_int_equal(gn_log_read(f->log, 14, 100, -1, &s), GN_EOFFSETRANGE);
    assert_int_equal(gn_log_read(f->log, 15, 1, -1, &s), 0);
    assert_int_equal(s.first_offset, 15);
    gn_log_slice_release(&s);
    int64_t off, ts;
    assert_int_equal(gn_log_offset_for_time(f->log, 0, &off, &ts), 0);
    assert_int_equal(off, 15);
    /* lower is a no-op; up to the end keeps the active segment */
    assert_int_equal(gn_log_delete_records(f->log, 3), 0);
    assert_int_equal(gn_log_start_offset(f->log), 15);
    assert_int_equal(gn_log_delete_records(f->log, 35), 0);
    assert_int_equal(gn_log_segment_count(f->log), 1);
    assert_int_equal(gn_log_start_offset(f->log), 35);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 100), 35);
}

static void test_retention__slice_survives_deletion(void **state)
{
    fx_t *f = *state;
    gn_log_slice_t s;
    fill(f);
    assert_int_equal(gn_log_read(f->log, 3, 1 << 20, -1, &s), 0);
    assert_int_equal(s.len, (int64_t)f->len * 7);
    assert_int_equal(gn_log_delete_records(f->log, 20), 0);
    tl_drain(&f->loop);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log"), -1);
    uint8_t *buf = malloc((size_t)s.len);
    assert_int_equal(gn_log_slice_read(&s, buf), 0);
    int64_t next = 3;
    assert_int_equal(tl_validate_all(buf, (size_t)s.len, &next), 7);
    free(buf);
    gn_log_slice_release(&s);
}

static void test_retention__truncate(void **state)
{
    fx_t *f = *state;
    size_t total;
    fill(f);
    assert_int_equal(gn_log_truncate(f->log, 17), 0);
    assert_int_equal(gn_log_end_offset(f->log), 17);
    assert_int_equal(gn_log_segment_count(f->log), 2);
    assert_int_equal(gn_log_size_bytes(f->log), (int64_t)f->len * 17);
    uint8_t *all = tl_read_all(f->log, 0, &total);
    int64_t next = 0;
    assert_int_equal(tl_validate_all(all, total, &next), 17);
    free(all);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 100), 17);
    /* to a segment boundary, and to below everything */
    assert_int_equal(gn_log_truncate(f->log, 10), 0);
    assert_int_equal(gn_log_end_offset(f->log), 10);
    assert_int_equal(gn_log_segment_count(f->log), 1);
    assert_int_equal(gn_log_delete_records(f->log, 5), 0);
    assert_int_equal(gn_log_truncate(f->log, 2), 0);
    assert_int_equal(gn_log_end_offset(f->log), 2);
    assert_int_equal(gn_log_start_offset(f->log), 2);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 100), 2);
    gn_log_close(f->log);
    tl_drain(&f->loop);
    /* the truncated state is what reopens */
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 3);
}

static void test_retention__restart_at(void **state)
{
    fx_t *f = *state;
    fill(f);
    assert_int_equal(gn_log_restart_at(f->log, 35), GN_EOFFSETRANGE); /* not past the end */
    assert_int_equal(gn_log_restart_at(f->log, 50), 0);
    assert_int_equal(gn_log_start_offset(f->log), 50);
    assert_int_equal(gn_log_end_offset(f->log), 50);
    assert_int_equal(gn_log_segment_count(f->log), 1);
    assert_int_equal(gn_log_size_bytes(f->log), 0);
    gn_log_slice_t s;
    assert_int_equal(gn_log_read(f->log, 10, 1 << 20, 50, &s), GN_EOFFSETRANGE);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 100), 50);
    gn_log_close(f->log);
    tl_drain(&f->loop);
    /* what reopens starts at 50 */
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(gn_log_start_offset(f->log), 50);
    assert_int_equal(gn_log_end_offset(f->log), 51);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tl_teardown)
    const struct CMUnitTest tests[] = {
        T(test_retention__by_time),        T(test_retention__active_segment_rolled_by_segment_ms),
        T(test_retention__by_bytes),       T(test_retention__compact_only_topic_keeps_old_segments),
        T(test_retention__delete_records), T(test_retention__slice_survives_deletion),
        T(test_retention__truncate),       T(test_retention__restart_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
