/* SPDX-License-Identifier: Apache-2.0 */
/* core/log compaction: the newest record per key survives with its offset, old
 * tombstones go and young ones stay, compressed batches are rebuilt with their
 * codec, the active segment is untouched, appends and retention go on meanwhile,
 * and the result survives a reopen (clean or scanned). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_test_util.h"

#define NOW 100000

typedef struct fx {
    TL_FX_FIELDS;
    int done, status;
} fx_t;

static int setup(void **state)
{
    fx_t *f = tl_fx_new(sizeof(*f));
    f->cfg.cleanup_policy = GN_CLEANUP_COMPACT;
    f->cfg.segment_bytes = 700;
    f->cfg.segment_ms = 1000;
    f->cfg.delete_retention_ms = 50000;
    f->cfg.index_interval_bytes = 100;
    *state = f;
    return 0;
}

static void append_kv(fx_t *f, const char *k, const char *v, int64_t ts, int64_t expect)
{
    size_t len;
    uint8_t *b = tl_kv_batch(&k, &v, 1, ts, &len);
    gn_log_append_info_t info;
    assert_int_equal(gn_log_append(f->log, b, len, NOW, &info), 0);
    assert_int_equal(info.base_offset, expect);
    free(b);
}

static void append_round(fx_t *f, int r, gn_compression_t codec)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    char k[16], v[16];
    gn_log_append_info_t info;

    gn_batch_builder_init(&b, codec);
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "r%d", r);
        gn_batch_builder_add(&b, (gn_bytes_t){(uint8_t *)k, strlen(k)},
                             (gn_bytes_t){(uint8_t *)v, strlen(v)}, NULL, 0, NOW + r);
    }
    gn_batch_builder_finish(&b, 0, &out);
    assert_int_equal(gn_log_append(f->log, (uint8_t *)out.ptr, out.len, NOW, &info), 0);
    assert_int_equal(info.base_offset, r * 10);
    gn_batch_builder_close(&b);
}

/* offsets 0..49: five rounds of k0..k9 (round 2 zstd); 50/51 "t_old" value then an
 * old tombstone; 52/53 "t_new" value then a young tombstone; all closed; 54 in the
 * active segment. */
static void fill(fx_t *f)
{
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int r = 0; r < 5; r++)
        append_round(f, r, r == 2 ? GN_COMPRESSION_ZSTD : GN_COMPRESSION_NONE);
    append_kv(f, "t_old", "x", 1000, 50);
    append_kv(f, "t_old", NULL, 1000, 51);
    append_kv(f, "t_new", "x", NOW, 52);
    append_kv(f, "t_new", NULL, NOW, 53);
    gn_log_enforce_retention(f->log, NOW + 2000); /* segment.ms: rolls the active one */
    append_kv(f, "k0", "active", NOW, 54);
}

static void on_compacted(void *arg, int status)
{
    fx_t *f = arg;
    f->done++;
    f->status = status;
}

typedef struct rec {
    int64_t offset;
    char key[16], value[16];
    bool tombstone;
} rec_t;

static int read_records(gn_log_t *log, rec_t *out, int cap)
{
    size_t total, off = 0;
    uint8_t *all = tl_read_all(log, gn_log_start_offset(log), &total);
    int n = 0;
    int64_t next = 0;

    assert_true(tl_validate_all(all, total, &next) >= 0);
    while (off < total) {
        gn_batch_header_t h;
        int64_t sz = gn_batch_peek(all + off, total - off, &h);
        gn_record_iter_t it;
        gn_record_t r;
        assert_int_equal(gn_record_iter_init(&it, all + off, (size_t)sz), 0);
        while (gn_record_iter_next(&it, &r) == 1 && n < cap) {
            out[n].offset = r.offset;
            snprintf(out[n].key, sizeof(out[n].key), "%.*s", (int)r.key.len, r.key.ptr);
            out[n].tombstone = r.value.ptr == NULL;
            snprintf(out[n].value, sizeof(out[n].value), "%.*s", (int)r.value.len,
                     r.value.ptr ? (const char *)r.value.ptr : "");
            n++;
        }
        gn_record_iter_close(&it);
        off += (size_t)sz;
    }
    free(all);
    return n;
}

static void check_compacted(gn_log_t *log)
{
    rec_t r[128];
    int n = read_records(log, r, 128);

    assert_int_equal(n, 12);
    for (int i = 0; i < 10; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        assert_int_equal(r[i].offset, 40 + i);
        assert_string_equal(r[i].key, k);
        assert_string_equal(r[i].value, "r4");
    }
    assert_int_equal(r[10].offset, 53); /* the young tombstone stays; t_old is gone */
    assert_string_equal(r[10].key, "t_new");
    assert_true(r[10].tombstone);
    assert_int_equal(r[11].offset, 54); /* the active segment is untouched */
    assert_string_equal(r[11].value, "active");
    assert_int_equal(gn_log_end_offset(log), 55);
}

static void test_compaction__keeps_latest_per_key_and_offsets(void **state)
{
    fx_t *f = *state;
    fill(f);
    int64_t before = gn_log_size_bytes(f->log);
    assert_true(gn_log_dirty_ratio(f->log) > 0.99);
    assert_int_equal(gn_log_compact(f->log, NOW + 25000, on_compacted, f), 0);
    assert_int_equal(gn_log_compact(f->log, NOW + 25000, on_compacted, f), GN_EAGAIN);
    tl_drain(&f->loop);
    assert_int_equal(f->done, 1);
    assert_int_equal(f->status, 0);
    assert_true(gn_log_size_bytes(f->log) < before);
    assert_true(gn_log_dirty_ratio(f->log) < 0.01);
    check_compacted(f->log);
    /* reads of a compacted-away offset land on the next batch that exists */
    gn_log_slice_t s;
    assert_int_equal(gn_log_read(f->log, 5, 1, -1, &s), 0);
    assert_int_equal(s.first_offset, 40);
    gn_log_slice_release(&s);
    /* no .cleaned/.swap/.deleted left once the unlinks ran */
    gn_log_close(f->log);
    f->log = NULL;
    tl_drain(&f->loop);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log.cleaned"), -1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log.deleted"), -1);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    check_compacted(f->log);
    gn_log_close(f->log);
    tl_drain(&f->loop);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    check_compacted(f->log);
    append_kv(f, "k1", "later", NOW, 55);
}

static void test_compaction__appends_and_retention_meanwhile(void **state)
{
    fx_t *f = *state;
    rec_t r[128];
    fill(f);
    assert_int_equal(gn_log_compact(f->log, NOW + 25000, on_compacted, f), 0);
    /* while it runs on the pool: appends, and DeleteRecords removing a segment */
    for (int i = 0; i < 5; i++)
        append_kv(f, "more", "m", NOW, 55 + i);
    assert_int_equal(gn_log_delete_records(f->log, 20), 0);
    tl_drain(&f->loop);
    assert_int_equal(f->status, 0);
    int n = read_records(f->log, r, 128);
    assert_int_equal(r[n - 1].offset, 59);
    assert_int_equal(gn_log_start_offset(f->log), 20);
    for (int i = 0; i < n; i++)
        assert_true(r[i].offset >= 20);
    assert_int_equal(gn_log_end_offset(f->log), 60);
}

static void test_compaction__close_while_running(void **state)
{
    fx_t *f = *state;
    fill(f);
    assert_int_equal(gn_log_compact(f->log, NOW + 25000, on_compacted, f), 0);
    gn_log_close(f->log);
    f->log = NULL;
    assert_int_equal(f->status, GN_ESHUTDOWN);
    tl_drain(&f->loop);
    assert_int_equal(f->done, 1);
    assert_int_equal(tl_file_size(f->dir, "00000000000000000000.log.cleaned"), -1);
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, true, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 55);
}

static void test_compaction__refused_for_delete_policy(void **state)
{
    fx_t *f = *state;
    f->cfg.cleanup_policy = GN_CLEANUP_DELETE;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(gn_log_compact(f->log, NOW, on_compacted, f), GN_EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tl_teardown)
    const struct CMUnitTest tests[] = {
        T(test_compaction__keeps_latest_per_key_and_offsets),
        T(test_compaction__appends_and_retention_meanwhile),
        T(test_compaction__close_while_running),
        T(test_compaction__refused_for_delete_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
