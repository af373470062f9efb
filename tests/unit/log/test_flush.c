/* SPDX-License-Identifier: Apache-2.0 */
/* core/log group commit: many gn_log_sync waiters are served by a few fsyncs (at most
 * GN__FLUSH_DEPTH in flight, then one more for all that came meanwhile), callbacks never
 * run before the call returns, the recovery point advances (also over rolled segments,
 * with fsyncs overlapping), close fails pending waiters with GN_ESHUTDOWN; and an
 * append that does not fit on a full disk returns -ENOSPC with the log intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "log/log_impl.h"
#include "log_test_util.h"

typedef struct fx {
    TL_FX_FIELDS;
    int done, ok, errs, last_err;
    bool in_call;
} fx_t;

static int setup(void **state)
{
    fx_t *f = tl_fx_new(sizeof(*f));
    *state = f;
    return 0;
}

static void on_sync(void *arg, int status)
{
    fx_t *f = arg;
    assert_false(f->in_call); /* never before gn_log_sync returned */
    f->done++;
    if (status == 0)
        f->ok++;
    else {
        f->errs++;
        f->last_err = status;
    }
}

static int sync_now(fx_t *f, int64_t upto)
{
    f->in_call = true;
    int rc = gn_log_sync(f->log, upto, on_sync, f);
    f->in_call = false;
    return rc;
}

static void test_flush__group_commit_few_fsyncs(void **state)
{
    fx_t *f = *state;
    gn_log_t *log;

    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    log = f->log;
    assert_int_equal(tl_append(log, 1, 1, 0, 100), 0);
    assert_int_equal(sync_now(f, 1), 0); /* starts the first fsync */
    for (int i = 1; i <= 200; i++) {
        assert_int_equal(tl_append(log, 1, 1, i, 100), i);
        assert_int_equal(sync_now(f, i + 1), 0);
    }
    assert_int_equal(f->done, 0);
    tl_drain(&f->loop);
    assert_int_equal(f->ok, 201);
    assert_true(log->fsyncs >= 1 && log->fsyncs <= GN__FLUSH_DEPTH + 1);
    assert_int_equal(log->nflushing, 0);
    assert_int_equal(gn_log_recovery_point(log), 201);
    print_message("201 waiters, %d fsyncs\n", (int)log->fsyncs);
}

/* Each append rolls a segment and asks for its own sync: the fsyncs overlap, each covers
 * the segments rolled before it started, and the recovery point only moves over fsyncs
 * that finished in order, so it ends at the log end with every rolled segment synced. */
static void test_flush__overlapping_fsyncs_over_rolls(void **state)
{
    fx_t *f = *state;
    size_t len;
    free(tl_batch(1, 0, 0, 100, &len));

    f->cfg.segment_bytes = (int64_t)len;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(tl_append(f->log, 1, 1, i, 100), i);
        assert_int_equal(sync_now(f, i + 1), 0);
        assert_true(f->log->nflushing <= GN__FLUSH_DEPTH);
        assert_true(gn_log_recovery_point(f->log) <= i + 1);
        if (i % 8 == 0) uv_run(&f->loop, UV_RUN_NOWAIT); /* some finish meanwhile */
    }
    tl_drain(&f->loop);
    assert_int_equal(f->ok, 40);
    assert_int_equal(f->errs, 0);
    assert_int_equal(gn_log_recovery_point(f->log), 40);
    assert_int_equal(f->log->nunsynced, 0);
    assert_int_equal(f->log->nflushing, 0);
    assert_true(gn_log_segment_count(f->log) >= 40);
}

static void test_flush__already_durable_needs_no_fsync(void **state)
{
    fx_t *f = *state;

    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(sync_now(f, 0), 0);
    assert_int_equal(f->done, 0);
    tl_drain(&f->loop);
    assert_int_equal(f->ok, 1);
    assert_int_equal(f->log->fsyncs, 0);
    assert_int_equal(sync_now(f, 1), GN_EOFFSETRANGE);
}

static void test_flush__rolled_segments_synced(void **state)
{
    fx_t *f = *state;
    size_t len;
    free(tl_batch(1, 0, 0, 100, &len));

    f->cfg.segment_bytes = (int64_t)len * 2;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 9; i++)
        assert_int_equal(tl_append(f->log, 1, 1, i, 100), i);
    assert_int_equal(gn_log_segment_count(f->log), 5);
    assert_int_equal(gn_log_recovery_point(f->log), 0);
    assert_int_equal(sync_now(f, 9), 0);
    tl_drain(&f->loop);
    assert_int_equal(f->ok, 1);
    assert_int_equal(gn_log_recovery_point(f->log), 9);
    assert_int_equal(f->log->nunsynced, 0);
}

static void resync_in_cb(void *arg, int status)
{
    fx_t *f = arg;
    on_sync(arg, status);
    if (f->done == 1) {
        assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 1);
        assert_int_equal(gn_log_sync(f->log, 2, on_sync, f), 0);
    }
}

static void test_flush__waiter_added_from_callback(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 0);
    assert_int_equal(gn_log_sync(f->log, 1, resync_in_cb, f), 0);
    tl_drain(&f->loop);
    assert_int_equal(f->ok, 2);
    assert_int_equal(gn_log_recovery_point(f->log), 2);
}

static void close_in_cb(void *arg, int status)
{
    fx_t *f = arg;
    on_sync(arg, status);
    if (f->log) {
        gn_log_close(f->log);
        f->log = NULL;
    }
}

static void test_flush__close_fails_pending_waiters(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 0);
    assert_int_equal(gn_log_sync(f->log, 1, on_sync, f), 0);
    assert_int_equal(gn_log_sync(f->log, 1, on_sync, f), 0);
    gn_log_close(f->log); /* synchronous: fsyncs, then fails the waiters */
    f->log = NULL;
    assert_int_equal(f->errs, 2);
    assert_int_equal(f->last_err, GN_ESHUTDOWN);
    tl_drain(&f->loop);
    assert_int_equal(f->done, 2);
    /* the data is there: a clean reopen needs no scan */
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 1);
}

/* Two fsyncs in flight when the log closes: both finish on their own references after
 * the close (ASan checks nothing leaks), their waiters get GN_ESHUTDOWN. */
static void test_flush__close_with_fsyncs_in_flight(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 0);
    assert_int_equal(sync_now(f, 1), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 1, 10), 1);
    assert_int_equal(sync_now(f, 2), 0);
    assert_int_equal(f->log->nflushing, GN__FLUSH_DEPTH >= 2 ? 2 : 1);
    gn_log_close(f->log);
    f->log = NULL;
    assert_int_equal(f->errs, 2);
    assert_int_equal(f->last_err, GN_ESHUTDOWN);
    tl_drain(&f->loop);
    assert_int_equal(f->done, 2);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 2);
}

static void test_flush__close_from_a_callback(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gn_log_sync(f->log, 1, close_in_cb, f), 0);
    tl_drain(&f->loop);
    assert_null(f->log);
    assert_int_equal(f->done, 3);
    assert_int_equal(f->ok, 1);
    assert_int_equal(f->last_err, GN_ESHUTDOWN);
}

static void test_flush__enospc_leaves_log_intact(void **state)
{
    fx_t *f = *state;
    char *mnt = tl_sub(f->dir, "tiny");
    size_t total;

    mkdir(mnt, 0755);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0) {
        free(mnt);
        skip(); /* needs root; the test is meaningless without a full disk */
    }
    assert_int_equal(tl_open(&f->loop, mnt, &f->cfg, false, 0, &f->log), 0);
    int64_t n = 0, rc;
    while ((rc = tl_append(f->log, 1, 1, (int)n, 60000)) >= 0)
        n++;
    assert_int_equal(rc, -ENOSPC);
    assert_true(n >= 10);
    assert_int_equal(gn_log_end_offset(f->log), n);
    uint8_t *all = tl_read_all(f->log, 0, &total);
    int64_t next = 0;
    assert_int_equal(tl_validate_all(all, total, &next), n);
    assert_int_equal((int64_t)total, gn_log_size_bytes(f->log));
    free(all);
    /* a small batch may still fit in what is left */
    rc = tl_append(f->log, 1, 1, 0, 10);
    assert_true(rc == n || rc == -ENOSPC);
    gn_log_close(f->log);
    f->log = NULL;
    tl_drain(&f->loop);
    /* and the log reopens (recovering) to the same end */
    assert_int_equal(tl_open(&f->loop, mnt, &f->cfg, false, 0, &f->log), 0);
    assert_true(gn_log_end_offset(f->log) >= n);
    gn_log_close(f->log);
    f->log = NULL;
    tl_drain(&f->loop);
    umount2(mnt, MNT_DETACH);
    free(mnt);
}

static void test_flush__fsync_error_fails_log(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), 0);
    /* the active segment's fd now refers to /dev/null: fdatasync fails (EINVAL) */
    int devnull = open("/dev/null", O_RDWR);
    assert_true(devnull >= 0);
    assert_true(dup2(devnull, gn__log_active(f->log)->fd) >= 0);
    close(devnull);
    assert_int_equal(sync_now(f, 1), 0);
    assert_int_equal(sync_now(f, 1), 0);
    tl_drain(&f->loop);
    assert_int_equal(f->errs, 2);
    assert_int_equal(f->last_err, -EINVAL);
    assert_int_equal(gn_log_recovery_point(f->log), 0);
    assert_int_equal(tl_append(f->log, 1, 1, 0, 10), GN_ESTORAGE);
    /* later waiters get the error too, without another fsync */
    assert_int_equal(sync_now(f, 1), 0);
    tl_drain(&f->loop);
    assert_int_equal(f->errs, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tl_teardown)
    const struct CMUnitTest tests[] = {
        T(test_flush__group_commit_few_fsyncs),        T(test_flush__overlapping_fsyncs_over_rolls),
        T(test_flush__already_durable_needs_no_fsync), T(test_flush__rolled_segments_synced),
        T(test_flush__waiter_added_from_callback),     T(test_flush__close_fails_pending_waiters),
        T(test_flush__close_with_fsyncs_in_flight),    T(test_flush__close_from_a_callback),
        T(test_flush__fsync_error_fails_log),          T(test_flush__enospc_leaves_log_intact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
