/* SPDX-License-Identifier: Apache-2.0 */
/* Produce forwarding's idempotence pieces (core/replica/forward.c): stamping an entry's
 * batches with producer id, epoch and sequences (CRC still valid, sequences wrapping as
 * Kafka's), and the leader's check that a batch refused as out of order is in its log
 * already (older than the 5 runs its duplicate check keeps), so that the forwarder is
 * told "duplicate" and never renumbers it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "replica/forward.c"

/* One batch of count records from producer pid/epoch at sequence seq (pid -1: none). */
static size_t pbatch(int64_t pid, int16_t epoch, int32_t seq, int count, uint8_t **out)
{
    gn_batch_builder_t b;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    b.producer_id = pid;
    b.producer_epoch = pid < 0 ? -1 : epoch;
    b.base_sequence = pid < 0 ? -1 : seq;
    for (int i = 0; i < count; i++) {
        gn_bytes_t val = {(const uint8_t *)"v", 1};
        if (gn_batch_builder_add(&b, GN_BYTES_NULL, val, NULL, 0, gn_now_ms()) < 0) abort();
    }
    gn_bytes_t bytes;
    if (gn_batch_builder_finish(&b, 0, &bytes) < 0) abort();
    *out = malloc(bytes.len);
    memcpy(*out, bytes.ptr, bytes.len);
    gn_batch_builder_close(&b);
    return bytes.len;
}

/* An entry holding a batch of 3 records and one of 2, without producer id. */
static entry_t *two_batch_entry(void)
{
    uint8_t *a, *b;
    size_t la = pbatch(-1, 0, 0, 3, &a), lb = pbatch(-1, 0, 0, 2, &b);
    entry_t *e = calloc(1, sizeof(*e) + la + lb);
    memcpy(e->data, a, la);
    memcpy(e->data + la, b, lb);
    e->len = la + lb;
    free(a);
    free(b);
    return e;
}

static void assert_batch(const uint8_t *p, size_t len, int64_t pid, int16_t epoch, int32_t seq,
                         int64_t *size)
{
    gn_batch_header_t hdr;
    *size = gn_batch_validate(p, len, SIZE_MAX, &hdr);
    assert_true(*size > 0); /* the CRC covers the stamped fields */
    assert_int_equal(hdr.producer_id, pid);
    assert_int_equal(hdr.producer_epoch, epoch);
    assert_int_equal(hdr.base_sequence, seq);
}

static void test_forward__stamp_numbers_every_batch(void **state)
{
    (void)state;
    entry_t *e = two_batch_entry();
    int64_t n;
    /* sequences INT32_MAX-1, INT32_MAX, 0 for the first batch; 1, 2 for the second */
    assert_int_equal(stamp(e, 42, 7, INT32_MAX - 1), 3);
    assert_true(e->stamped);
    assert_batch(e->data, e->len, 42, 7, INT32_MAX - 1, &n);
    assert_batch(e->data + n, e->len - (size_t)n, 42, 7, 1, &n);
    /* back to no producer id (a local drain, a new epoch) */
    stamp(e, -1, -1, -1);
    assert_false(e->stamped);
    assert_batch(e->data, e->len, -1, -1, -1, &n);
    assert_batch(e->data + n, e->len - (size_t)n, -1, -1, -1, &n);
    free(e);
    assert_int_equal(seq_add(5, 3), 8);
    assert_int_equal(seq_add(INT32_MAX, 1), 0);
}

typedef struct fixture {
    char *dir;
    uv_loop_t loop;
    gn_broker_t *broker;
    gn_partition_t *part;
} fixture_t;

static int produce(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int count)
{
    uint8_t *buf;
    size_t len = pbatch(pid, epoch, seq, count, &buf);
    tu_produce_t p;
    memset(&p, 0, sizeof(p));
    int rc = gn_produce(f->part, buf, len, GN_ACKS_LEADER, tu_produce_cb, &p);
    free(buf);
    if (rc < 0) return rc;
    if (tu_run_until(&f->loop, &p.done) < 0) return GN_ETIMEOUT;
    return p.status;
}

static bool behind(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int count)
{
    uint8_t *buf;
    size_t len = pbatch(pid, epoch, seq, count, &buf);
    bool r = behind_producer(f->part, buf, len);
    free(buf);
    return r;
}

static void test_forward__old_batch_is_behind_its_producer(void **state)
{
    (void)state;
    fixture_t f = {.dir = tu_mkdtemp()};
    uv_loop_init(&f.loop);
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = f.dir;
    assert_int_equal(gn_broker_open(&f.loop, &cfg, &f.broker), 0);
    assert_int_equal(tu_create(&f.loop, f.broker, "t", 1, NULL, 0), 0);
    f.part = gn_partition_get(f.broker, "t", 0);
    /* 8 runs of producer 7 (a record without producer id after each): 5 are remembered */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(produce(&f, 7, 0, 2 * i, 2), 0);
        assert_int_equal(produce(&f, -1, 0, 0, 1), 0);
    }
    /* the first run: Kafka's answer is out of order, yet it is in the log */
    assert_int_equal(produce(&f, 7, 0, 0, 2), GN_EOUT_OF_ORDER_SEQ);
    assert_true(behind(&f, 7, 0, 0, 2));
    assert_true(behind(&f, 7, 0, 14, 2)); /* the newest */
    /* a gap ahead, an older epoch, another producer, no producer id: not in the log */
    assert_false(behind(&f, 7, 0, 17, 1));
    assert_false(behind(&f, 7, 1, 0, 2));
    assert_false(behind(&f, 8, 0, 0, 2));
    assert_false(behind(&f, -1, 0, 0, 2));
    tu_close(&f.loop, f.broker);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    tu_rm_rf(f.dir);
    free(f.dir);
}

int main(void)
{
    gn_logger_set_level(GN_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward__stamp_numbers_every_batch),
        cmocka_unit_test(test_forward__old_batch_is_behind_its_producer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
