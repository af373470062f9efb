/* SPDX-License-Identifier: Apache-2.0 */
/* Producing and reading through gn_produce / gn_partition_read on a real broker and
 * libuv loop: offsets, acks and the flush policies (durable or not), callbacks never
 * before return, timestamps, min.insync.replicas, DeleteRecords, offsets by time and
 * watches (on append and on deletion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "topic/topic_internal.h"

typedef struct fixture {
    char *dir;
    uv_loop_t loop;
    gn_broker_t *broker;
    gn_partition_t *part;
} fixture_t;

static fixture_t *open_with(gn_flush_policy_t flush, const gn_config_entry_t *cfgs, size_t n)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp();
    uv_loop_init(&f->loop);
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.flush = flush;
    assert_int_equal(gn_broker_open(&f->loop, &cfg, &f->broker), 0);
    assert_int_equal(tu_create(&f->loop, f->broker, "t", 2, cfgs, n), 0);
    f->part = gn_partition_get(f->broker, "t", 0);
    assert_non_null(f->part);
    return f;
}

static void close_fixture(fixture_t *f)
{
    tu_close(&f->loop, f->broker);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
}

static void test_partition__produce_then_read(void **state)
{
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, NULL, 0);
    tu_produce_t p;
    assert_int_equal(tu_produce(&f->loop, f->part, 3, GN_ACKS_LEADER, &p), 0);
    assert_int_equal(p.res.base_offset, 0);
    assert_int_equal(p.res.last_offset, 2);
    assert_int_equal(p.res.log_append_time, -1);
    assert_int_equal(p.res.log_start_offset, 0);
    assert_int_equal(tu_produce(&f->loop, f->part, 2, GN_ACKS_NONE, &p), 0);
    assert_int_equal(p.res.base_offset, 3);
    assert_int_equal(gn_partition_high_watermark(f->part), 5);
    assert_int_equal(gn_partition_log_end_offset(f->part), 5);
    assert_int_equal(gn_partition_log_start_offset(f->part), 0);
    assert_true(gn_partition_size_bytes(f->part) > 0);

    /* read from the middle of the second batch: whole batches from the one holding it */
    gn_read_result_t rr;
    assert_int_equal(gn_partition_read(f->part, 4, 1 << 20, &rr), 0);
    assert_int_equal(rr.high_watermark, 5);
    assert_int_equal(rr.last_stable_offset, 5);
    assert_int_equal(rr.slice.first_offset, 3);
    assert_true(rr.slice.len > 0);
    uint8_t *buf = malloc((size_t)rr.slice.len);
    assert_int_equal(gn_log_slice_read(&rr.slice, buf), 0);
    gn_record_iter_t it;
    assert_int_equal(gn_record_iter_init(&it, buf, (size_t)rr.slice.len), 0);
    gn_record_t rec;
    assert_int_equal(gn_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 3);
    assert_memory_equal(rec.value.ptr, "v0", 2);
    assert_int_equal(gn_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 4);
    assert_memory_equal(rec.key.ptr, "k1", 2);
    assert_int_equal(gn_record_iter_next(&it, &rec), 0);
    gn_record_iter_close(&it);
    free(buf);
    gn_log_slice_release(&rr.slice);

    /* at the high watermark: nothing yet; past it: out of range */
    assert_int_equal(gn_partition_read(f->part, 5, 1 << 20, &rr), 0);
    assert_int_equal(rr.slice.len, 0);
    gn_log_slice_release(&rr.slice);
    assert_int_equal(gn_partition_read(f->part, 6, 1 << 20, &rr), GN_EOFFSETRANGE);
    /* the other partition is independent */
    gn_partition_t *p1 = gn_partition_get(f->broker, "t", 1);
    assert_int_equal(gn_partition_high_watermark(p1), 0);
    close_fixture(f);
}

static void test_partition__acks_all_waits_for_fsync(void **state)
{
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, NULL, 0);
    tu_produce_t p;
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    assert_false(p.res.durable); /* acks=1 under on_ack_all: answered before the fsync */
    assert_int_equal(tu_produce(&f->loop, f->part, 4, GN_ACKS_ALL, &p), 0);
    assert_true(p.res.durable);
    assert_int_equal(p.res.last_offset, 4);
    close_fixture(f);
}

static void test_partition__flush_always_and_os(void **state)
{
    fixture_t *f = open_with(GN_FLUSH_ALWAYS, NULL, 0);
    tu_produce_t p;
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    assert_true(p.res.durable);
    close_fixture(f);

    f = open_with(GN_FLUSH_OS, NULL, 0);
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_ALL, &p), 0);
    assert_false(p.res.durable);
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    assert_false(p.res.durable);
    close_fixture(f);
}

static void test_partition__flush_interval_by_messages(void **state)
{
    gn_config_entry_t cfg[] = {{"flush.messages", "2"}};
    fixture_t *f = open_with(GN_FLUSH_INTERVAL, cfg, 1);
    tu_produce_t p;
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_ALL, &p), 0);
    assert_false(p.res.durable); /* interval: acks=all does not wait for an fsync */
    assert_int_equal(gn_log_recovery_point(f->part->log), 0);
    /* the second message reaches flush.messages: a sync starts on the pool */
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    uint64_t t0 = uv_hrtime();
    while (gn_log_recovery_point(f->part->log) < 2 && uv_hrtime() - t0 < 5000000000ull)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(gn_log_recovery_point(f->part->log), 2);
    close_fixture(f);
}

static int order;
static void early_cb(void *arg, int status, const gn_produce_result_t *res)
{
    *(int *)arg = ++order;
}

static void test_partition__callback_never_before_return(void **state)
{
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, NULL, 0);
    gn_acks_t acks[] = {GN_ACKS_NONE, GN_ACKS_LEADER, GN_ACKS_ALL};
    for (int i = 0; i < 3; i++) {
        uint8_t *buf;
        size_t len = tu_batch(2, 1700000000000LL, &buf);
        int when = 0;
        order = 0;
        assert_int_equal(gn_produce(f->part, buf, len, acks[i], early_cb, &when), 0);
        int returned = ++order;
        free(buf);
        while (!when)
            uv_run(&f->loop, UV_RUN_ONCE);
        assert_true(when > returned);
    }
    close_fixture(f);
}

static void test_partition__refusals(void **state)
{
    gn_config_entry_t cfg[] = {{"message.timestamp.before.max.ms", "3600000"},
                               {"message.timestamp.after.max.ms", "3600000"},
                               {"max.message.bytes", "200"}};
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, cfg, 3);
    int64_t now = gn_now_ms();
    uint8_t *buf;
    size_t len;
    tu_produce_t p = {0};
    len = tu_batch(1, now - 7200000, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_LEADER, tu_produce_cb, &p),
                     GN_EINVALID_TIMESTAMP);
    free(buf);
    len = tu_batch(1, now + 7200000, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_LEADER, tu_produce_cb, &p),
                     GN_EINVALID_TIMESTAMP);
    free(buf);
    len = tu_batch(20, now, &buf); /* > max.message.bytes */
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_LEADER, tu_produce_cb, &p),
                     GN_ETOOLARGE);
    free(buf);
    len = tu_batch(1, now, &buf);
    buf[len - 1] ^= 0xff; /* CRC no longer matches */
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_LEADER, tu_produce_cb, &p), GN_ECORRUPT);
    free(buf);
    assert_int_equal(gn_partition_high_watermark(f->part), 0);
    /* a good one still goes through */
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), GN_EINVALID_TIMESTAMP);
    len = tu_batch(1, now, &buf);
    memset(&p, 0, sizeof(p));
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_LEADER, tu_produce_cb, &p), 0);
    free(buf);
    assert_int_equal(tu_run_until(&f->loop, &p.done), 0);
    assert_int_equal(p.status, 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    close_fixture(f);

    gn_config_entry_t isr[] = {{"min.insync.replicas", "2"}};
    f = open_with(GN_FLUSH_ON_ACK_ALL, isr, 1);
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_ALL, &p), GN_ENOT_ENOUGH_REPLICAS);
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    close_fixture(f);
}

static void test_partition__log_append_time(void **state)
{
    gn_config_entry_t cfg[] = {{"message.timestamp.type", "LogAppendTime"}};
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, cfg, 1);
    tu_produce_t p;
    int64_t before = gn_now_ms();
    assert_int_equal(tu_produce(&f->loop, f->part, 2, GN_ACKS_LEADER, &p), 0);
    assert_true(p.res.log_append_time >= before);
    assert_true(p.res.log_append_time <= gn_now_ms());
    close_fixture(f);
}

static void test_partition__offsets_and_delete_records(void **state)
{
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, NULL, 0);
    int64_t off, ts;
    assert_int_equal(gn_partition_max_timestamp(f->part, &off, &ts), 0);
    assert_int_equal(off, -1);
    tu_produce_t p;
    for (int i = 0; i < 3; i++)
        assert_int_equal(tu_produce(&f->loop, f->part, 2, GN_ACKS_LEADER, &p), 0);
    /* tu_batch stamps every record 1700000000000 */
    assert_int_equal(gn_partition_offset_for_time(f->part, 1700000000000LL, &off, &ts), 0);
    assert_int_equal(off, 0);
    assert_int_equal(gn_partition_offset_for_time(f->part, 1700000000001LL, &off, &ts), 0);
    assert_int_equal(off, -1);
    assert_int_equal(gn_partition_max_timestamp(f->part, &off, &ts), 0);
    assert_int_equal(ts, 1700000000000LL);

    int64_t low = 0;
    assert_int_equal(gn_partition_delete_records(f->part, 3, &low), 0);
    assert_int_equal(low, 3);
    assert_int_equal(gn_partition_log_start_offset(f->part), 3);
    gn_read_result_t rr;
    assert_int_equal(gn_partition_read(f->part, 2, 1024, &rr), GN_EOFFSETRANGE);
    assert_int_equal(rr.log_start_offset, 3);
    assert_int_equal(gn_partition_delete_records(f->part, 7, &low), GN_EOFFSETRANGE);
    assert_int_equal(gn_partition_delete_records(f->part, 1, &low), 0); /* never backwards */
    assert_int_equal(low, 3);
    assert_int_equal(gn_partition_delete_records(f->part, -1, &low), 0);
    assert_int_equal(low, 6);
    close_fixture(f);
}

typedef struct woken {
    gn_watch_t w;
    int fired;
    int status;
} woken_t;

static void on_watch(gn_watch_t *w, int status)
{
    woken_t *k = (woken_t *)w;
    k->fired++;
    k->status = status;
}

static void test_partition__watches(void **state)
{
    fixture_t *f = open_with(GN_FLUSH_ON_ACK_ALL, NULL, 0);
    woken_t a = {0}, b = {0}, c = {0}, d = {0};
    gn_partition_watch(f->part, &a.w, 0, on_watch); /* wakes when offset 0 exists */
    gn_partition_watch(f->part, &b.w, 4, on_watch); /* needs offset 4 */
    gn_partition_watch(f->part, &c.w, 0, on_watch);
    gn_watch_cancel(&c.w);
    gn_watch_cancel(&c.w); /* no-op */
    tu_produce_t p;
    assert_int_equal(tu_produce(&f->loop, f->part, 2, GN_ACKS_LEADER, &p), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(a.fired, 1);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.fired, 0);
    assert_int_equal(c.fired, 0);
    /* armed below the high watermark: fires on the next turn, not inside the call */
    gn_partition_watch(f->part, &d.w, 1, on_watch);
    assert_int_equal(d.fired, 0);
    while (!d.fired)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(tu_produce(&f->loop, f->part, 3, GN_ACKS_LEADER, &p), 0);
    while (!b.fired)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(b.status, 0);
    assert_int_equal(a.fired, 1); /* at most once */

    /* deletion wakes the rest with GN_EUNKNOWN_TOPIC */
    woken_t e = {0};
    gn_partition_watch(gn_partition_get(f->broker, "t", 1), &e.w, 100, on_watch);
    tu_admin_t del = {0};
    assert_int_equal(gn_topic_delete(f->broker, "t", tu_admin_cb, &del), 0);
    assert_int_equal(tu_run_until(&f->loop, &del.done), 0);
    assert_int_equal(e.fired, 1);
    assert_int_equal(e.status, GN_EUNKNOWN_TOPIC);
    close_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition__produce_then_read),
        cmocka_unit_test(test_partition__acks_all_waits_for_fsync),
        cmocka_unit_test(test_partition__flush_always_and_os),
        cmocka_unit_test(test_partition__flush_interval_by_messages),
        cmocka_unit_test(test_partition__callback_never_before_return),
        cmocka_unit_test(test_partition__refusals),
        cmocka_unit_test(test_partition__log_append_time),
        cmocka_unit_test(test_partition__offsets_and_delete_records),
        cmocka_unit_test(test_partition__watches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
