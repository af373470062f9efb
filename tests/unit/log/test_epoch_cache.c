/* SPDX-License-Identifier: Apache-2.0 */
/* The leader-epoch cache (core/log/epoch_cache.c) and its use by the log: assign and
 * truncate rules, the checkpoint file (Kafka's format, survives a reopen, malformed files
 * refused, an epoch starting where the next does dropped), OffsetForLeaderEpoch lookups,
 * the KIP-279 divergence steps between a leader's and a follower's caches, batches
 * stamped by a leader and epochs learned by a follower from the leader's bytes (CRC
 * unchanged), truncation with the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log/epoch_cache.h"
#include "log_test_util.h"
#include "record/wire.h"

typedef struct fx {
    TL_FX_FIELDS;
} fx_t;

static int setup(void **state)
{
    fx_t *f = tl_fx_new(sizeof(*f));
    *state = f;
    return 0;
}

static char *read_text(const char *dir, const char *name)
{
    char *p = tl_sub(dir, name), *buf = calloc(1, 4096);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    size_t n = fread(buf, 1, 4095, fp);
    buf[n] = '\0';
    fclose(fp);
    free(p);
    return buf;
}

/* A memory-only cache with the given (epoch, start) pairs. */
static void mk(gn_epoch_cache_t *c, const int64_t (*pairs)[2], size_t n)
{
    gn__epoch_cache_load(c, NULL);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gn__epoch_cache_assign(c, (int32_t)pairs[i][0], pairs[i][1]), 1);
}

static void test_epoch_cache__assign_rules(void **state)
{
    (void)state;
    gn_epoch_cache_t c;
    gn__epoch_cache_load(&c, NULL);
    assert_int_equal(gn__epoch_cache_latest(&c), -1);
    assert_int_equal(gn__epoch_cache_assign(&c, 0, 0), 1);
    assert_int_equal(gn__epoch_cache_assign(&c, 0, 5), 0); /* same epoch, later: known */
    assert_int_equal(gn__epoch_cache_assign(&c, 2, 10), 1);
    assert_int_equal(gn__epoch_cache_assign(&c, -1, 12), 0); /* no epoch: ignored */
    assert_int_equal(c.n, 2);
    /* an older epoch (a leader's stale view) drops the later entries */
    assert_int_equal(gn__epoch_cache_assign(&c, 1, 8), 1);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[1].epoch, 1);
    assert_int_equal(c.e[1].start, 8);
    /* a new epoch starting before an entry drops the entry */
    assert_int_equal(gn__epoch_cache_assign(&c, 3, 4), 1);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[1].epoch, 3);
    assert_int_equal(c.e[1].start, 4);
    /* truncation removes entries starting at or after the new end */
    assert_int_equal(gn__epoch_cache_truncate_end(&c, 5), 0);
    assert_int_equal(gn__epoch_cache_truncate_end(&c, 4), 1);
    assert_int_equal(gn__epoch_cache_latest(&c), 0);
    gn__epoch_cache_free(&c);
}

/* The log start moves (retention, DeleteRecords): epochs wholly below it go, the one
 * holding it starts there. */
static void test_epoch_cache__truncate_start(void **state)
{
    (void)state;
    static const int64_t pairs[][2] = {{1, 0}, {3, 10}, {4, 25}};
    gn_epoch_cache_t c;
    int32_t e;
    int64_t o;
    mk(&c, pairs, 3);
    assert_int_equal(gn__epoch_cache_truncate_start(&c, 0), 0);
    assert_int_equal(gn__epoch_cache_truncate_start(&c, 12), 1);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[0].epoch, 3);
    assert_int_equal(c.e[0].start, 12);
    assert_int_equal(gn__epoch_cache_truncate_start(&c, 12), 0);
    gn__epoch_cache_end_offset_for(&c, 1, 40, &e, &o); /* below every epoch now */
    assert_int_equal(e, 1);
    assert_int_equal(o, 12);
    assert_int_equal(gn__epoch_cache_truncate_start(&c, 30), 1); /* past the last start */
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].epoch, 4);
    assert_int_equal(c.e[0].start, 30);
    gn__epoch_cache_free(&c);
}

static void test_epoch_cache__end_offset_for(void **state)
{
    (void)state;
    static const int64_t pairs[][2] = {{1, 0}, {3, 10}, {4, 25}};
    gn_epoch_cache_t c;
    int32_t e;
    int64_t o;
    mk(&c, pairs, 3);
    gn__epoch_cache_end_offset_for(&c, 4, 40, &e, &o); /* the latest: the log end */
    assert_int_equal(e, 4);
    assert_int_equal(o, 40);
    gn__epoch_cache_end_offset_for(&c, 3, 40, &e, &o);
    assert_int_equal(e, 3);
    assert_int_equal(o, 25);
    gn__epoch_cache_end_offset_for(&c, 2, 40, &e, &o); /* unknown: the largest below */
    assert_int_equal(e, 1);
    assert_int_equal(o, 10);
    gn__epoch_cache_end_offset_for(&c, 0, 40, &e, &o); /* below every epoch */
    assert_int_equal(e, 0);
    assert_int_equal(o, 0);
    gn__epoch_cache_end_offset_for(&c, 5, 40, &e, &o); /* above every epoch */
    assert_int_equal(e, -1);
    assert_int_equal(o, -1);
    gn__epoch_cache_end_offset_for(&c, -1, 40, &e, &o);
    assert_int_equal(e, -1);
    assert_int_equal(o, -1);
    gn__epoch_cache_free(&c);
    gn__epoch_cache_load(&c, NULL); /* empty */
    gn__epoch_cache_end_offset_for(&c, 0, 40, &e, &o);
    assert_int_equal(o, -1);
}

/* Runs the follower's KIP-279 loop against a leader's cache: returns where it ends. */
static int64_t converge(gn_epoch_cache_t *leader, int64_t leader_end, gn_epoch_cache_t *fol,
                        int64_t fol_end, int *steps)
{
    *steps = 0;
    for (;;) {
        int32_t le, fe;
        int64_t lo, fo, to;
        ++*steps;
        assert_true(*steps < 10);
        gn__epoch_cache_end_offset_for(leader, gn__epoch_cache_latest(fol), leader_end, &le, &lo);
        gn__epoch_cache_end_offset_for(fol, le, fol_end, &fe, &fo);
        bool done = gn__epoch_divergence(fol_end, le, lo, fe, fo, &to);
        assert_true(to <= fol_end);
        fol_end = to;
        gn__epoch_cache_truncate_end(fol, to);
        if (done) return fol_end;
    }
}

static void test_epoch_cache__divergence(void **state)
{
    (void)state;
    gn_epoch_cache_t l, f;
    int steps;
    /* the case: A led epoch 1 and wrote 10..14 with acks=1, unreplicated; B took
     * epoch 2 at 10 and wrote 10..19. A must cut at 10. */
    static const int64_t la[][2] = {{0, 0}, {1, 5}, {2, 10}}, fa[][2] = {{0, 0}, {1, 5}};
    mk(&l, la, 3);
    mk(&f, fa, 2);
    assert_int_equal(converge(&l, 20, &f, 15, &steps), 10);
    assert_int_equal(steps, 1);
    gn__epoch_cache_free(&l);
    gn__epoch_cache_free(&f);

    /* a follower behind, same history: nothing cut */
    mk(&l, la, 3);
    mk(&f, fa, 2);
    assert_int_equal(converge(&l, 20, &f, 8, &steps), 8);
    gn__epoch_cache_free(&l);
    gn__epoch_cache_free(&f);

    /* KIP-279: the follower's epoch 2 (0..9 epoch 0, 10.. epoch 2) never reached the leader,
     * whose history is 0@0, 1@8, 3@12. First answer (1, 12): unknown here, cut to our end
     * of epoch 0 (10) and ask again: (0, 8), cut at 8. */
    static const int64_t lb[][2] = {{0, 0}, {1, 8}, {3, 12}}, fb[][2] = {{0, 0}, {2, 10}};
    mk(&l, lb, 3);
    mk(&f, fb, 2);
    assert_int_equal(converge(&l, 30, &f, 14, &steps), 8);
    assert_int_equal(steps, 2);
    assert_int_equal(gn__epoch_cache_latest(&f), 0);
    gn__epoch_cache_free(&l);
    gn__epoch_cache_free(&f);

    /* the leader knows no epoch <= ours: keep our log end (the caller falls back to its
     * high watermark); an old leader answering without an epoch: min of the ends */
    int64_t to;
    assert_true(gn__epoch_divergence(14, -1, -1, -1, -1, &to));
    assert_int_equal(to, 14);
    assert_true(gn__epoch_divergence(14, -1, 9, 0, 14, &to));
    assert_int_equal(to, 9);
}

static void test_epoch_cache__checkpoint_file(void **state)
{
    fx_t *f = *state;
    gn_epoch_cache_t c;
    assert_int_equal(gn__epoch_cache_load(&c, f->dir), 0); /* missing: empty */
    assert_int_equal(c.n, 0);
    gn__epoch_cache_assign(&c, 0, 0);
    gn__epoch_cache_assign(&c, 7, 42);
    char *text = read_text(f->dir, GN_EPOCH_CHECKPOINT);
    assert_string_equal(text, "0\n2\n0 0\n7 42\n");
    free(text);
    gn__epoch_cache_free(&c);
    assert_int_equal(gn__epoch_cache_load(&c, f->dir), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(gn__epoch_cache_latest(&c), 7);
    gn__epoch_cache_free(&c);

    static const char *bad[] = {"1\n1\n0 0\n", "0\n2\n0 0\n",     "0\n2\n3 0\n2 5\n",
                                "0\n1\n0 x\n", "0\n1\n0 0\njunk", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *p = tl_sub(f->dir, GN_EPOCH_CHECKPOINT);
        FILE *fp = fopen(p, "w");
        fputs(bad[i], fp);
        fclose(fp);
        free(p);
        assert_int_equal(gn__epoch_cache_load(&c, f->dir), 0);
        assert_int_equal(c.n, 0);
        gn__epoch_cache_free(&c);
    }
    /* an epoch starting where the previous one did replaces it, as assign would (the
     * file held two equal starts; found by fuzz_state_files) */
    char *p = tl_sub(f->dir, GN_EPOCH_CHECKPOINT);
    FILE *fp = fopen(p, "w");
    fputs("0\n3\n0 0\n2 10\n5 10\n", fp);
    fclose(fp);
    free(p);
    assert_int_equal(gn__epoch_cache_load(&c, f->dir), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[1].epoch, 5);
    assert_int_equal(c.e[1].start, 10);
    gn__epoch_cache_free(&c);
}

static int32_t batch_epoch(const uint8_t *p)
{
    return (int32_t)gn__be32(p + GN__OFF_LEADER_EPOCH);
}

/* A leader stamps its epoch outside the CRC; a follower keeps the bytes and learns the
 * epochs from them; both caches agree, are cut with the log and survive a reopen. */
static void test_epoch_cache__log_stamps_and_learns(void **state)
{
    fx_t *f = *state;
    char *fdir = tl_sub(f->dir, "follower");
    gn_log_t *fol;
    gn_log_append_info_t info;
    size_t len;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(tl_open(&f->loop, fdir, &f->cfg, false, 0, &fol), 0);
    assert_int_equal(gn_log_latest_epoch(f->log), -1);
    for (int i = 0; i < 6; i++) {
        int32_t epoch = i < 2 ? 0 : i < 5 ? 3 : 4;
        if (i == 2) /* elected: the epoch starts at the log end */
            assert_int_equal(gn_log_assign_epoch(f->log, 3, gn_log_end_offset(f->log)), 1);
        uint8_t *b = tl_batch(2, 1000 + i, i, 20, &len);
        assert_int_equal(batch_epoch(b), -1);
        uint32_t crc = gn__be32(b + GN__OFF_CRC);
        assert_int_equal(gn_log_append_epoch(f->log, b, len, 1000, epoch, &info), 0);
        assert_int_equal(batch_epoch(b), epoch);
        assert_int_equal(gn__be32(b + GN__OFF_CRC), crc);
        gn_batch_header_t hdr;
        assert_true(gn_batch_validate(b, len, 1 << 20, &hdr) > 0);    /* the CRC still holds */
        assert_int_equal(gn_log_append(fol, b, len, 1000, &info), 0); /* replicated bytes */
        assert_int_equal(batch_epoch(b), epoch);
        free(b);
    }
    char *lt = read_text(f->dir, GN_EPOCH_CHECKPOINT), *ft = read_text(fdir, GN_EPOCH_CHECKPOINT);
    assert_string_equal(lt, "0\n3\n0 0\n3 4\n4 10\n");
    assert_string_equal(ft, lt);
    free(lt);
    free(ft);
    int32_t e;
    int64_t o;
    gn_log_end_offset_for_epoch(fol, 3, &e, &o);
    assert_int_equal(e, 3);
    assert_int_equal(o, 10);
    /* DeleteRecords at 5: epoch 0 goes, epoch 3 starts at the new log start */
    assert_int_equal(gn_log_delete_records(f->log, 5), 0);
    lt = read_text(f->dir, GN_EPOCH_CHECKPOINT);
    assert_string_equal(lt, "0\n2\n3 5\n4 10\n");
    free(lt);
    /* truncated with the log (whole batches: 9 cuts the batch 8..9): epoch 4 started at
     * 10, gone */
    assert_int_equal(gn_log_truncate(fol, 9), 0);
    assert_int_equal(gn_log_end_offset(fol), 8);
    assert_int_equal(gn_log_latest_epoch(fol), 3);
    gn_log_end_offset_for_epoch(fol, 3, &e, &o);
    assert_int_equal(o, 8);
    gn_log_close(fol);
    tl_drain(&f->loop);
    assert_int_equal(tl_open(&f->loop, fdir, &f->cfg, false, 0, &fol), 0);
    assert_int_equal(gn_log_latest_epoch(fol), 3);
    ft = read_text(fdir, GN_EPOCH_CHECKPOINT);
    assert_string_equal(ft, "0\n2\n0 0\n3 4\n");
    free(ft);
    gn_log_close(fol);
    tl_drain(&f->loop);
    free(fdir);
}

/* Recovery that cuts the log drops the epochs that started in the lost tail. */
static void test_epoch_cache__recovery_cut(void **state)
{
    fx_t *f = *state;
    size_t len;
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    for (int i = 0; i < 4; i++) {
        uint8_t *b = tl_batch(1, 1000, i, 20, &len);
        assert_int_equal(gn_log_append_epoch(f->log, b, len, 1000, i < 3 ? 1 : 2, NULL), 0);
        free(b);
    }
    assert_int_equal(gn_log_latest_epoch(f->log), 2);
    gn_log_close(f->log);
    tl_drain(&f->loop);
    tl_truncate_file(f->dir, "00000000000000000000.log", (int64_t)len * 3 + 5); /* torn */
    assert_int_equal(tl_open(&f->loop, f->dir, &f->cfg, false, 0, &f->log), 0);
    assert_int_equal(gn_log_end_offset(f->log), 3);
    assert_int_equal(gn_log_latest_epoch(f->log), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_cache__assign_rules),
        cmocka_unit_test(test_epoch_cache__truncate_start),
        cmocka_unit_test(test_epoch_cache__end_offset_for),
        cmocka_unit_test(test_epoch_cache__divergence),
        cmocka_unit_test_setup_teardown(test_epoch_cache__checkpoint_file, setup, tl_teardown),
        cmocka_unit_test_setup_teardown(test_epoch_cache__log_stamps_and_learns, setup,
                                        tl_teardown),
        cmocka_unit_test_setup_teardown(test_epoch_cache__recovery_cut, setup, tl_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
