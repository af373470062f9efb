/* SPDX-License-Identifier: Apache-2.0 */
/* core/log recovery of hand-damaged directories: torn tail, flipped byte, garbage
 * appended, corrupt/truncated/missing indexes, empty segment files, stray and
 * orphan files, an interrupted compaction swap. Every valid batch before the damage
 * is kept, the log validates end to end afterwards and appends continue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <time.h>

#include "ganglion/logger.h"
#include "log_test_util.h"

#define SEG0 "00000000000000000000"

typedef struct fx {
    TL_FX_FIELDS;
    size_t batch_len; /* every test batch: 1 record, 40-byte value */
} fx_t;

static int setup(void **state)
{
    fx_t *f = tl_fx_new(sizeof(*f));
    f->cfg.index_interval_bytes = 200;
    free(tl_batch(1, 0, 0, 40, &f->batch_len));
    *state = f;
    return 0;
}

static void close_log(fx_t *f)
{
    gn_log_close(f->log);
    tl_drain(&f->loop);
    f->log = NULL;
}

/* n one-record batches, then a clean close. */
static void fill(fx_t *f, int n)
{
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(tl_append(f->log, 1, 1000 + i, i, 40), i);
    close_log(f);
}

/* Reopens and checks: end offset, every batch valid and in order, appends go on. */
static void reopen_expect(fx_t *f, bool clean, int64_t end)
{
    size_t total;
    int64_t next = 0;

    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, clean, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), end);
    uint8_t *all = tl_read_all(f->log, 0, &total);
    assert_int_equal(tl_validate_all(all, total, &next), end);
    assert_int_equal(next, end);
    free(all);
    assert_int_equal(tl_append(f->log, 1, 5000, 77, 40), end);
    close_log(f);
    /* and again, cleanly: the repaired files are trusted now */
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), end + 1);
    all = tl_read_all(f->log, 0, &total);
    next = 0;
    assert_int_equal(tl_validate_all(all, total, &next), end + 1);
    free(all);
}

static void test_recovery__torn_tail(void **state)
{
    fx_t *f = *state;
    fill(f, 10);
    tl_truncate_file(f->dir, SEG0 ".log", (int64_t)f->batch_len * 10 - 7);
    reopen_expect(f, false, 9);
    assert_int_equal(tl_file_size(f->dir, SEG0 ".log"), (int64_t)f->batch_len * 10);
}

static void test_recovery__torn_header(void **state)
{
    fx_t *f = *state;
    fill(f, 10);
    tl_truncate_file(f->dir, SEG0 ".log", (int64_t)f->batch_len * 9 + 20);
    reopen_expect(f, false, 9);
}

static void test_recovery__torn_tail_despite_clean_marker(void **state)
{
    fx_t *f = *state;
    fill(f, 10);
    tl_truncate_file(f->dir, SEG0 ".log", (int64_t)f->batch_len * 10 - 7);
    reopen_expect(f, true, 9);
}

static void test_recovery__flipped_byte_in_last_batch(void **state)
{
    fx_t *f = *state;
    fill(f, 10);
    tl_flip_byte(f->dir, SEG0 ".log", (int64_t)f->batch_len * 9 + 70);
    reopen_expect(f, false, 9);
}

static void test_recovery__flipped_byte_in_middle_cuts_there(void **state)
{
    fx_t *f = *state;
    fill(f, 10);
    tl_flip_byte(f->dir, SEG0 ".log", (int64_t)f->batch_len * 4 + 65);
    reopen_expect(f, false, 4);
}

static void test_recovery__garbage_appended(void **state)
{
    fx_t *f = *state;
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    fill(f, 10);
    tl_write_at(f->dir, SEG0 ".log", (int64_t)f->batch_len * 10, junk, sizeof(junk));
    reopen_expect(f, false, 10);
    /* zeros (a preallocated or sparse tail) as well */
    memset(junk, 0, sizeof(junk));
    close_log(f);
    int64_t sz = tl_file_size(f->dir, SEG0 ".log");
    tl_write_at(f->dir, SEG0 ".log", sz, junk, sizeof(junk));
    reopen_expect(f, false, 11);
}

static void test_recovery__corrupt_index_rebuilt(void **state)
{
    fx_t *f = *state;
    uint8_t bad[16] = {0, 0, 0, 9, 0, 0, 0, 50, 0, 0, 0, 2, 0, 0, 0, 10}; /* not ascending */
    fill(f, 20);
    tl_write_at(f->dir, SEG0 ".index", 0, bad, sizeof(bad));
    tl_truncate_file(f->dir, SEG0 ".index", sizeof(bad));
    reopen_expect(f, true, 20);
    int64_t isz = tl_file_size(f->dir, SEG0 ".index");
    assert_true(isz > 0 && isz % 8 == 0);
}

static void test_recovery__index_pointing_past_the_file(void **state)
{
    fx_t *f = *state;
    uint8_t bad[8] = {0, 0, 0, 5, 0, 1, 0, 0}; /* position 65536 */
    fill(f, 20);
    tl_write_at(f->dir, SEG0 ".index", 0, bad, sizeof(bad));
    tl_truncate_file(f->dir, SEG0 ".index", sizeof(bad));
    reopen_expect(f, true, 20);
}

static void test_recovery__truncated_and_missing_indexes(void **state)
{
    fx_t *f = *state;
    char *p;
    fill(f, 20);
    tl_truncate_file(f->dir, SEG0 ".index", 5);
    tl_truncate_file(f->dir, SEG0 ".timeindex", 13);
    reopen_expect(f, true, 21 - 1);
    close_log(f);
    p = tl_sub(f->dir, SEG0 ".index");
    unlink(p);
    free(p);
    p = tl_sub(f->dir, SEG0 ".timeindex");
    unlink(p);
    free(p);
    reopen_expect(f, true, 21);
    assert_true(tl_file_size(f->dir, SEG0 ".timeindex") >= 12);
}

static void test_recovery__old_segment_index_rebuilt_lazily(void **state)
{
    fx_t *f = *state;
    gn_log_slice_t s;
    f->cfg.segment_bytes = (int64_t)f->batch_len * 10;
    fill(f, 30);
    tl_truncate_file(f->dir, SEG0 ".index", 3);
    tl_truncate_file(f->dir, SEG0 ".timeindex", 0);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    assert_int_equal(gn_log_read(f->log, 7, 1, -1, &s), 0);
    assert_int_equal(s.first_offset, 7);
    assert_int_equal(s.pos, (int64_t)f->batch_len * 7);
    gn_log_slice_release(&s);
    int64_t off, ts;
    assert_int_equal(gn_log_offset_for_time(f->log, 1005, &off, &ts), 0);
    assert_int_equal(off, 5);
    assert_true(tl_file_size(f->dir, SEG0 ".timeindex") >= 12);
}

static void test_recovery__empty_segment_files(void **state)
{
    fx_t *f = *state;
    f->cfg.segment_bytes = (int64_t)f->batch_len * 10;
    fill(f, 25);
    /* the active segment (base 20) emptied, as after a crash right after a roll */
    tl_truncate_file(f->dir, "00000000000000000020.log", 0);
    reopen_expect(f, false, 20);
    close_log(f);
    /* a log that is a single empty file */
    char *d2 = tl_mkdtemp();
    tl_write_at(d2, SEG0 ".log", 0, "", 0);
    assert_int_equal(tl_open(&f->loop, d2, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 40), 0);
    close_log(f);
    tl_rmrf(d2);
}

static void test_recovery__from_recovery_point_only(void **state)
{
    fx_t *f = *state;
    f->cfg.segment_bytes = (int64_t)f->batch_len * 10;
    fill(f, 30);
    /* damage in a segment below the recovery point is not scanned (trusted, as Kafka) */
    tl_flip_byte(f->dir, SEG0 ".log", 70);
    tl_truncate_file(f->dir, "00000000000000000020.log", (int64_t)f->batch_len * 5 - 1);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 20, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 24);
    close_log(f);
    /* from 0, the flipped byte cuts the first segment and drops the later ones */
    reopen_expect(f, false, 0);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000010.log"), -1);
}

static void test_recovery__stray_and_orphan_files(void **state)
{
    fx_t *f = *state;
    fill(f, 5);
    tl_write_at(f->dir, "00000000000000000100.index", 0, "12345678", 8);
    tl_write_at(f->dir, "00000000000000000100.timeindex", 0, "123456789012", 12);
    tl_write_at(f->dir, "00000000000000000003.log.deleted", 0, "x", 1);
    tl_write_at(f->dir, "00000000000000000003.index.cleaned", 0, "x", 1);
    tl_write_at(f->dir, "leader-epoch-checkpoint", 0, "0\n0\n", 4);
    /* 20 digits beyond INT64_MAX: no offset, not a segment (overflowed before) */
    tl_write_at(f->dir, "99999999999999999999.log", 0, "x", 1);
    reopen_expect(f, true, 5);
    assert_int_equal(tl_file_size(f->dir, "99999999999999999999.log"), 1); /* not ours */
    assert_int_equal(tl_file_size(f->dir, "00000000000000000100.index"), -1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000100.timeindex"), -1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000003.log.deleted"), -1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000003.index.cleaned"), -1);
    assert_int_equal(tl_file_size(f->dir, "leader-epoch-checkpoint"), 4); /* not ours */
}

static void test_recovery__interrupted_swap_completed(void **state)
{
    fx_t *f = *state;
    char *from, *to;
    f->cfg.segment_bytes = (int64_t)f->batch_len * 10;
    fill(f, 15);
    /* crash between "old segment renamed .deleted" and ".swap renamed .log" */
    from = tl_sub(f->dir, SEG0 ".log");
    to = tl_sub(f->dir, SEG0 ".log.swap");
    assert_int_equal(rename(from, to), 0);
    free(from), free(to);
    tl_write_at(f->dir, SEG0 ".log.deleted", 0, "old", 3);
    reopen_expect(f, false, 15);
    assert_int_equal(tl_file_size(f->dir, SEG0 ".log.swap"), -1);
    assert_int_equal(tl_file_size(f->dir, SEG0 ".log.deleted"), -1);
}

static void test_recovery__damaged_time_entry_cannot_expire_data(void **state)
{
    fx_t *f = *state;
    f->cfg.segment_bytes = (int64_t)f->batch_len * 10;
    f->cfg.retention_ms = 100000;
    f->cfg.index_interval_bytes = 500;
    /* segment 0: its largest timestamp (5000) is on its first batch, so the only time
     * entry is (5000, 0) and no walk of the tail would see it again */
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 25; i++)
        assert_int_equal(tl_append(f->log, 1, i == 0 ? 5000 : 1000 + i, i, 40), i);
    close_log(f);
    assert_int_equal(tl_file_size(f->dir, SEG0 ".timeindex"), 12);
    uint8_t bad[8] = {0, 0, 0, 0, 0, 0, 4000 >> 8, 4000 & 0xff}; /* claims 4000 */
    tl_write_at(f->dir, SEG0 ".timeindex", 0, bad, 8);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    assert_int_equal(gn_log_enforce_retention(f->log, 4000 + 100000 + 1), 0);
    assert_int_equal(gn_log_start_offset(f->log), 0);
    assert_int_equal(gn_log_enforce_retention(f->log, 5000 + 100000 + 1), 2);
}

/* Random damage to one file of a 3-segment log. */
static void damage(const char *dir, unsigned *seed)
{
    static const char *const names[] = {
        SEG0 ".log",       "00000000000000000010.log",   "00000000000000000020.log",
        SEG0 ".index",     "00000000000000000010.index", "00000000000000000020.timeindex",
        SEG0 ".timeindex", "00000000000000000020.index"};
    const char *name = names[rand_r(seed) % 8];
    int64_t size = tl_file_size(dir, name);
    uint8_t junk[64];

    if (size < 0) return;
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rand_r(seed);
    switch (rand_r(seed) % 5) {
    case 0:
        tl_truncate_file(dir, name, size ? rand_r(seed) % size : 0);
        break;
    case 1:
        if (size) tl_flip_byte(dir, name, rand_r(seed) % size);
        break;
    case 2:
        tl_write_at(dir, name, size, junk, 1 + (size_t)rand_r(seed) % sizeof(junk));
        break;
    case 3:
        if (size > 8) tl_write_at(dir, name, rand_r(seed) % (size - 8), junk, 8);
        break;
    default: {
        char *p = tl_sub(dir, name);
        unlink(p);
        free(p);
    }
    }
}

/* Reads every offset once; errors and garbage are allowed, crashes are not. */
static void read_tolerant(gn_log_t *log)
{
    uint8_t *buf = NULL;
    int64_t o = gn_log_start_offset(log);
    for (int i = 0; i < 1000 && o < gn_log_end_offset(log); i++) {
        gn_log_slice_t s;
        gn_batch_header_t h;
        if (gn_log_read(log, o, 1 << 16, -1, &s) < 0 || s.len == 0) break;
        size_t len = (size_t)s.len;
        buf = realloc(buf, len);
        int rc = gn_log_slice_read(&s, buf);
        gn_log_slice_release(&s);
        if (rc < 0 || gn_batch_peek(buf, len, &h) <= 0) break;
        o = gn_batch_last_offset(&h) + 1 > o ? gn_batch_last_offset(&h) + 1 : o + 1;
    }
    free(buf);
}

static void test_recovery__random_damage_never_crashes(void **state)
{
    fx_t *f = *state;
    unsigned seed =
        getenv("GN_TEST_SEED") ? (unsigned)atol(getenv("GN_TEST_SEED")) : (unsigned)time(NULL);
    print_message("seed %u\n", seed);
    f->cfg.segment_bytes = (int64_t)f->batch_len * 10;
    gn_logger_set_level(GN_LEVEL_ERROR);
    for (int round = 0; round < 60; round++) {
        char *d = tl_mkdtemp();
        size_t total;
        assert_int_equal(tl_open(&f->loop, d, &f->cfg, false, 0, &f->log), 0);
        for (int i = 0; i < 25; i++)
            assert_int_equal(tl_append(f->log, 1, 1000 + i, i, 40), i);
        close_log(f);
        for (int n = 1 + rand_r(&seed) % 3; n > 0; n--)
            damage(d, &seed);
        /* a clean open must not crash whatever it finds */
        if (tl_open(&f->loop, d, &f->cfg, true, 0, &f->log) == 0) {
            read_tolerant(f->log);
            int64_t o, t;
            gn_log_offset_for_time(f->log, 1010, &o, &t);
            gn_log_max_timestamp(f->log, &o, &t);
            close_log(f);
        }
        /* a scanning open repairs: everything left validates, appends continue */
        assert_int_equal(tl_open(&f->loop, d, &f->cfg, false, 0, &f->log), 0);
        int64_t end = gn_log_end_offset(f->log), next = 0;
        uint8_t *all = tl_read_all(f->log, 0, &total);
        assert_true(tl_validate_all(all, total, &next) >= 0);
        assert_true(next <= end);
        free(all);
        assert_int_equal(tl_append(f->log, 1, 1, 0, 40), end);
        close_log(f);
        tl_rmrf(d);
    }
    gn_logger_set_level(GN_LEVEL_INFO);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tl_teardown)
    const struct CMUnitTest tests[] = {
        T(test_recovery__torn_tail),
        T(test_recovery__torn_header),
        T(test_recovery__torn_tail_despite_clean_marker),
        T(test_recovery__flipped_byte_in_last_batch),
        T(test_recovery__flipped_byte_in_middle_cuts_there),
        T(test_recovery__garbage_appended),
        T(test_recovery__corrupt_index_rebuilt),
        T(test_recovery__index_pointing_past_the_file),
        T(test_recovery__truncated_and_missing_indexes),
        T(test_recovery__old_segment_index_rebuilt_lazily),
        T(test_recovery__empty_segment_files),
        T(test_recovery__from_recovery_point_only),
        T(test_recovery__stray_and_orphan_files),
        T(test_recovery__interrupted_swap_completed),
        T(test_recovery__damaged_time_entry_cannot_expire_data),
        T(test_recovery__random_damage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
