/* SPDX-License-Identifier: Apache-2.0 */
/* The idempotent producer through gn_produce on a real broker and loop: sequences in
 * order, duplicates of each of the last 5 batches answered with their original offsets
 * and not appended, older ones out of order, fenced and bumped epochs, wraparound,
 * several batches in one buffer; recovery after a restart from a snapshot plus a log
 * replay, without snapshot, past a corrupt snapshot and after DeleteRecords; producer
 * ids never reused across restarts; the snapshot codec and expiration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>

#include "broker/broker_test_util.h"
#include "ganglion/logger.h"
#include "topic/producer_state.h"
#include "topic/topic_internal.h"

typedef struct fixture {
    char *dir;
    uv_loop_t loop;
    gn_broker_t *broker;
    gn_partition_t *part;
} fixture_t;

static void fx_open(fixture_t *f)
{
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    assert_int_equal(gn_broker_open(&f->loop, &cfg, &f->broker), 0);
    f->part = gn_partition_get(f->broker, "t", 0);
}

static fixture_t *fx_new(const char *segment_bytes)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp();
    uv_loop_init(&f->loop);
    fx_open(f);
    gn_config_entry_t c[] = {{"segment.bytes", segment_bytes}};
    assert_int_equal(tu_create(&f->loop, f->broker, "t", 1, c, segment_bytes ? 1 : 0), 0);
    f->part = gn_partition_get(f->broker, "t", 0);
    assert_non_null(f->part);
    return f;
}

static void fx_close_broker(fixture_t *f)
{
    tu_close(&f->loop, f->broker);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    f->broker = NULL;
    f->part = NULL;
}

static void fx_free(fixture_t *f)
{
    if (f->broker) fx_close_broker(f);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
}

/* One batch of count records from producer pid/epoch starting at sequence seq. */
static size_t pbatch(int64_t pid, int16_t epoch, int32_t seq, int count, uint8_t **out)
{
    gn_batch_builder_t b;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    b.producer_id = pid;
    b.producer_epoch = epoch;
    b.base_sequence = seq;
    for (int i = 0; i < count; i++) {
        char v[64];
        int vl = snprintf(v, sizeof(v), "p%lld-e%d-s%d-%d", (long long)pid, epoch, seq, i);
        gn_bytes_t val = {(const uint8_t *)v, (size_t)vl};
        if (gn_batch_builder_add(&b, GN_BYTES_NULL, val, NULL, 0, gn_now_ms()) < 0) abort();
    }
    gn_bytes_t bytes;
    if (gn_batch_builder_finish(&b, 0, &bytes) < 0) abort();
    *out = malloc(bytes.len);
    memcpy(*out, bytes.ptr, bytes.len);
    gn_batch_builder_close(&b);
    return bytes.len;
}

static int produce_buf(fixture_t *f, uint8_t *buf, size_t len, tu_produce_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, out);
    if (rc < 0) return rc;
    if (out->done) return -9999;
    if (tu_run_until(&f->loop, &out->done) < 0) return GN_ETIMEOUT;
    return out->status;
}

static int produce(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int count,
                   tu_produce_t *out)
{
    uint8_t *buf;
    size_t len = pbatch(pid, epoch, seq, count, &buf);
    int rc = produce_buf(f, buf, len, out);
    free(buf);
    return rc;
}

/* Produces n batches of 2 records each (pid 7, epoch 0, sequences 0,2,4,...). */
static void produce_stream(fixture_t *f, int first, int n, int64_t *bases)
{
    for (int i = first; i < first + n; i++) {
        tu_produce_t p;
        assert_int_equal(produce(f, 7, 0, 2 * i, 2, &p), 0);
        assert_false(p.res.duplicate);
        if (bases) bases[i] = p.res.base_offset;
    }
}

/* Every one of the last 5 batches (of n) is a duplicate with its original offsets. */
static void assert_last5_are_dups(fixture_t *f, int n, const int64_t *bases)
{
    int64_t end = gn_partition_log_end_offset(f->part);
    for (int i = n - 5; i < n; i++) {
        tu_produce_t p;
        assert_int_equal(produce(f, 7, 0, 2 * i, 2, &p), 0);
        assert_true(p.res.duplicate);
        assert_int_equal(p.res.base_offset, bases[i]);
        assert_int_equal(p.res.last_offset, bases[i] + 1);
        assert_int_equal(p.res.log_append_time, -1);
        assert_true(p.res.durable);
    }
    assert_int_equal(gn_partition_log_end_offset(f->part), end);
}

static void test_producer_state__in_order_and_duplicates_of_last_5(void **state)
{
    (void)state;
    fixture_t *f = fx_new(NULL);
    int64_t bases[8];
    tu_produce_t p;
    /* a record without producer id after each batch: every batch is a run of its own */
    for (int i = 0; i < 8; i++) {
        produce_stream(f, i, 1, bases);
        assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    }
    assert_int_equal(bases[0], 0);
    assert_int_equal(bases[7], 21);
    assert_last5_are_dups(f, 8, bases);
    /* the 6th newest is no longer cached: Kafka answers OUT_OF_ORDER_SEQUENCE_NUMBER */
    uint8_t *buf;
    size_t len = pbatch(7, 0, 2 * 2, 2, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(buf);
    /* a gap, and a batch overlapping the last one (14-15) without lying inside it */
    len = pbatch(7, 0, 17, 1, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(buf);
    len = pbatch(7, 0, 15, 2, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(buf);
    /* the next one in sequence is appended */
    assert_int_equal(produce(f, 7, 0, 16, 2, &p), 0);
    assert_false(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 24);
    /* batches without a producer id are not checked */
    assert_int_equal(tu_produce(&f->loop, f->part, 2, GN_ACKS_LEADER, &p), 0);
    assert_int_equal(p.res.base_offset, 26);
    fx_free(f);
}

/* Batches that follow each other in sequence and offset form one run: a window of many
 * batches (forwarded produce pipelines requests of up to 64) is recognised whole, each
 * batch, or any batch inside, answered with the offsets its sequences got. */
static void test_producer_state__contiguous_batches_form_one_run(void **state)
{
    (void)state;
    fixture_t *f = fx_new(NULL);
    int64_t bases[40];
    produce_stream(f, 0, 40, bases);
    assert_int_equal(bases[39], 78);
    assert_int_equal(gn__producer_state_find(&f->part->producers, 7)->nbatches, 1);
    int64_t end = gn_partition_log_end_offset(f->part);
    tu_produce_t p;
    for (int i = 0; i < 40; i += 3) {
        assert_int_equal(produce(f, 7, 0, 2 * i, 2, &p), 0);
        assert_true(p.res.duplicate);
        assert_int_equal(p.res.base_offset, bases[i]);
        assert_int_equal(p.res.last_offset, bases[i] + 1);
    }
    /* several batches resent as one (a request): one answer spanning them */
    assert_int_equal(produce(f, 7, 0, 10, 6, &p), 0);
    assert_true(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 10);
    assert_int_equal(p.res.last_offset, 15);
    assert_int_equal(gn_partition_log_end_offset(f->part), end);
    /* another producer's append ends the run: the next batch starts a new one */
    assert_int_equal(tu_produce(&f->loop, f->part, 1, GN_ACKS_LEADER, &p), 0);
    assert_int_equal(produce(f, 7, 0, 80, 2, &p), 0);
    assert_false(p.res.duplicate);
    assert_int_equal(gn__producer_state_find(&f->part->producers, 7)->nbatches, 2);
    assert_int_equal(produce(f, 7, 0, 0, 2, &p), 0);
    assert_true(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 0);
    fx_free(f);
}

static void test_producer_state__epochs(void **state)
{
    (void)state;
    fixture_t *f = fx_new(NULL);
    tu_produce_t p;
    uint8_t *buf;
    size_t len;
    assert_int_equal(produce(f, 9, 3, 0, 1, &p), 0);
    assert_int_equal(produce(f, 9, 3, 1, 1, &p), 0);
    /* an older epoch is fenced (Kafka INVALID_PRODUCER_EPOCH), even at a good sequence */
    len = pbatch(9, 2, 2, 1, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EPRODUCER_FENCED);
    free(buf);
    /* a new epoch must start at sequence 0 */
    len = pbatch(9, 4, 2, 1, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(buf);
    assert_int_equal(produce(f, 9, 4, 0, 1, &p), 0);
    assert_false(p.res.duplicate);
    /* the old epoch's batches are no longer duplicates: its epoch is fenced */
    len = pbatch(9, 3, 1, 1, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EPRODUCER_FENCED);
    free(buf);
    assert_int_equal(produce(f, 9, 4, 0, 1, &p), 0);
    assert_true(p.res.duplicate);
    /* KIP-360: an unknown producer is accepted at any sequence */
    assert_int_equal(produce(f, 10, 0, 42, 1, &p), 0);
    assert_false(p.res.duplicate);
    assert_int_equal(produce(f, 10, 0, 43, 1, &p), 0);
    fx_free(f);
}

static void test_producer_state__sequence_wraps(void **state)
{
    (void)state;
    fixture_t *f = fx_new(NULL);
    tu_produce_t p;
    gn_batch_header_t hdr = {.base_sequence = INT32_MAX - 1, .last_offset_delta = 2};
    assert_int_equal(gn__producer_last_seq(&hdr), 0);
    hdr.base_sequence = INT32_MAX;
    hdr.last_offset_delta = 0;
    assert_int_equal(gn__producer_last_seq(&hdr), INT32_MAX);
    /* INT32_MAX-1, INT32_MAX, 0 in one batch; then 1 follows */
    assert_int_equal(produce(f, 5, 0, INT32_MAX - 1, 3, &p), 0);
    assert_int_equal(produce(f, 5, 0, 1, 1, &p), 0);
    assert_false(p.res.duplicate);
    assert_int_equal(produce(f, 5, 0, INT32_MAX - 1, 3, &p), 0);
    assert_true(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 0);
    /* a batch ending at INT32_MAX is followed by 0 */
    assert_int_equal(produce(f, 6, 0, INT32_MAX - 1, 2, &p), 0);
    assert_int_equal(produce(f, 6, 0, 0, 1, &p), 0);
    assert_false(p.res.duplicate);
    fx_free(f);
}

static void test_producer_state__several_batches_in_one_buffer(void **state)
{
    (void)state;
    fixture_t *f = fx_new(NULL);
    tu_produce_t p;
    uint8_t *a, *b, *c;
    size_t la = pbatch(3, 0, 0, 2, &a), lb = pbatch(3, 0, 2, 2, &b), lc = pbatch(3, 0, 4, 1, &c);
    uint8_t *buf = malloc(la + lb + lc);
    /* in sequence across batches: appended together */
    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    assert_int_equal(produce_buf(f, buf, la + lb, &p), 0);
    assert_false(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 0);
    assert_int_equal(p.res.last_offset, 3);
    /* both again: one duplicate answer covering both */
    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    assert_int_equal(produce_buf(f, buf, la + lb, &p), 0);
    assert_true(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 0);
    assert_int_equal(p.res.last_offset, 3);
    /* a duplicate followed by a new batch: refused whole, nothing appended */
    memcpy(buf, b, lb);
    memcpy(buf + lb, c, lc);
    assert_int_equal(gn_produce(f->part, buf, lb + lc, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EDUPLICATE_SEQ);
    /* a gap inside the buffer (a new producer: 0, then 5) */
    uint8_t *x, *y;
    size_t lx = pbatch(4, 0, 0, 1, &x), ly = pbatch(4, 0, 5, 1, &y);
    memcpy(buf, x, lx);
    memcpy(buf + lx, y, ly);
    assert_int_equal(gn_produce(f->part, buf, lx + ly, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(x), free(y);
    assert_int_equal(gn_partition_log_end_offset(f->part), 4);
    free(a), free(b), free(c), free(buf);
    fx_free(f);
}

static int count_snapshots(const char *dir, int64_t *newest)
{
    DIR *d = opendir(dir);
    int n = 0;
    *newest = -1;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l == 29 && strcmp(de->d_name + 20, ".snapshot") == 0) {
            n++;
            int64_t off = strtoll(de->d_name, NULL, 10);
            if (off > *newest) *newest = off;
        }
    }
    if (d) closedir(d);
    return n;
}

static void part_dir(fixture_t *f, char *out, size_t cap)
{
    snprintf(out, cap, "%s/t-0", f->dir);
}

static void snapshot_file(fixture_t *f, int64_t off, char *out, size_t cap)
{
    snprintf(out, cap, "%s/t-0/%020lld.snapshot", f->dir, (long long)off);
}

static void test_producer_state__restart_from_snapshot_and_replay(void **state)
{
    (void)state;
    /* small segments: every few batches roll and leave a snapshot behind */
    fixture_t *f = fx_new("400");
    int64_t bases[21];
    char dir[4096], path[4200];
    part_dir(f, dir, sizeof(dir));
    produce_stream(f, 0, 20, bases);
    fx_close_broker(f);
    int64_t newest;
    int n = count_snapshots(dir, &newest);
    assert_true(n >= 2 && n <= GN__PRODUCER_SNAPSHOTS_KEPT + 1);
    assert_int_equal(newest, 40); /* the one written at close, at the log end */
    /* without the close snapshot: the older roll snapshot plus a replay of the tail */
    snapshot_file(f, newest, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    fx_open(f);
    assert_last5_are_dups(f, 20, bases);
    tu_produce_t p;
    uint8_t *buf;
    size_t len = pbatch(7, 0, 44, 1, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(buf);
    produce_stream(f, 20, 1, bases);
    assert_int_equal(bases[20], 40);
    fx_close_broker(f);
    /* after a clean close nothing needs replaying: the close snapshot is at the end */
    fx_open(f);
    assert_last5_are_dups(f, 21, bases);
    fx_free(f);
}

static void test_producer_state__restart_without_snapshot(void **state)
{
    (void)state;
    fixture_t *f = fx_new("400");
    int64_t bases[13];
    char dir[4096], path[4200];
    part_dir(f, dir, sizeof(dir));
    produce_stream(f, 0, 12, bases);
    fx_close_broker(f);
    int64_t newest;
    while (count_snapshots(dir, &newest) > 0) {
        snapshot_file(f, newest, path, sizeof(path));
        assert_int_equal(unlink(path), 0);
    }
    fx_open(f);
    assert_last5_are_dups(f, 12, bases);
    produce_stream(f, 12, 1, bases);
    fx_free(f);
}

static void test_producer_state__corrupt_snapshot_ignored_with_warning(void **state)
{
    (void)state;
    fixture_t *f = fx_new("400");
    int64_t bases[13];
    char dir[4096], path[4200];
    part_dir(f, dir, sizeof(dir));
    produce_stream(f, 0, 12, bases);
    fx_close_broker(f);
    int64_t newest;
    count_snapshots(dir, &newest);
    snapshot_file(f, newest, path, sizeof(path));
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, 30), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, 30), 1);
    close(fd);
    /* a snapshot above the log end (a tail lost in a crash) is removed */
    snapshot_file(f, 100000, path, sizeof(path));
    FILE *junk = fopen(path, "w");
    assert_non_null(junk);
    fputs("junk", junk);
    fclose(junk);

    char logpath[4200];
    snprintf(logpath, sizeof(logpath), "%s/stderr.txt", f->dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO), lfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(lfd, STDERR_FILENO);
    fx_open(f);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(lfd);
    char *log = tu_read_file(f->dir, "stderr.txt");
    assert_non_null(strstr(log, "ignoring unreadable producer snapshot"));
    free(log);
    assert_int_equal(access(path, F_OK), -1);
    assert_last5_are_dups(f, 12, bases);
    produce_stream(f, 12, 1, bases);
    fx_free(f);
}

static void test_producer_state__delete_records_keeps_producers(void **state)
{
    (void)state;
    fixture_t *f = fx_new("400");
    int64_t bases[11], low;
    produce_stream(f, 0, 10, bases);
    assert_int_equal(gn_partition_delete_records(f->part, -1, &low), 0);
    assert_int_equal(low, 20);
    fx_close_broker(f);
    fx_open(f);
    /* every batch is gone, the producer is not: duplicates and gaps are still caught */
    tu_produce_t p;
    assert_int_equal(produce(f, 7, 0, 18, 2, &p), 0);
    assert_true(p.res.duplicate);
    assert_int_equal(p.res.base_offset, 18);
    uint8_t *buf;
    size_t len = pbatch(7, 0, 25, 1, &buf);
    assert_int_equal(gn_produce(f->part, buf, len, GN_ACKS_ALL, tu_produce_cb, &p),
                     GN_EOUT_OF_ORDER_SEQ);
    free(buf);
    produce_stream(f, 10, 1, bases);
    assert_int_equal(bases[10], 20);
    fx_free(f);
}

/* The next producer id, running the loop while the broker's block request to its
 * controller (a quorum of one here) is being committed. */
static int next_id(fixture_t *f, int64_t *id)
{
    int rc;
    for (int i = 0; i < 1000; i++) {
        if ((rc = gn_broker_next_producer_id(f->broker, id)) != GN_ECOORDINATOR_LOADING) return rc;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    return rc;
}

static void test_producer_state__producer_ids_never_reused(void **state)
{
    (void)state;
    fixture_t *f = fx_new(NULL);
    int64_t id, last = -1;
    for (int i = 0; i < 2500; i++) { /* three blocks from the controller */
        assert_int_equal(next_id(f, &id), 0);
        assert_true(id > last);
        last = id;
    }
    assert_true(last < 3000);
    fx_close_broker(f);
    fx_open(f);
    /* a restart takes a new block: the rest of the last one is skipped */
    assert_int_equal(next_id(f, &id), 0);
    assert_true(id > last);
    assert_int_equal(id % 1000, 0);
    fx_close_broker(f);
    /* ids handed out before the quorum (DATA/producer-id-block) are never given again */
    tu_write_file(f->dir, "producer-id-block", "version=0\nblock.end=900000\n");
    fx_open(f);
    assert_int_equal(next_id(f, &id), 0);
    assert_int_equal(id, 900000);
    fx_close_broker(f);
    tu_write_file(f->dir, "producer-id-block", "garbage");
    fx_open(f);
    assert_int_equal(gn_broker_next_producer_id(f->broker, &id), GN_ECORRUPT);
    fx_free(f);
}

static void test_producer_state__codec_and_expiration(void **state)
{
    (void)state;
    gn__producer_state_t ps, back;
    gn__producer_state_init(&ps);
    gn__producer_state_init(&back);
    for (int64_t pid = 10; pid > 0; pid--) {
        for (int s = 0; s < 7; s++) {
            gn_batch_header_t hdr = {.producer_id = pid,
                                     .producer_epoch = 1,
                                     .base_sequence = s * 3,
                                     .last_offset_delta = 2,
                                     .base_offset = pid * 100 + s * 4, /* apart: 7 runs */
                                     .max_timestamp = 1000 + pid};
            assert_int_equal(gn__producer_state_update_one(&ps, &hdr, 0), 0);
        }
    }
    assert_int_equal(ps.n, 10);
    assert_int_equal(gn__producer_state_find(&ps, 4)->nbatches, GN__PRODUCER_BATCHES);
    assert_int_equal(gn__producer_state_find(&ps, 4)->batches[0].first_seq, 6);
    uint8_t *buf;
    size_t len;
    int64_t off;
    assert_int_equal(gn__producer_state_encode(&ps, 1234, &buf, &len), 0);
    assert_int_equal(gn__producer_state_decode(&back, buf, len, &off), 0);
    assert_int_equal(off, 1234);
    assert_int_equal(back.n, 10);
    assert_memory_equal(back.v, ps.v, 10 * sizeof(*ps.v));
    /* every single-bit flip and every truncation is refused */
    for (size_t i = 0; i < len; i += 7) {
        buf[i] ^= 1;
        assert_int_equal(gn__producer_state_decode(&back, buf, len, &off), GN_ECORRUPT);
        buf[i] ^= 1;
        assert_int_equal(gn__producer_state_decode(&back, buf, i, &off), GN_ECORRUPT);
    }
    free(buf);
    /* producer.id.expiration.ms counts from a producer's last batch timestamp */
    ps.expiration_ms = 1000;
    assert_int_equal(gn__producer_state_expire(&ps, 2005), 5); /* pids 1..5: ts <= 1005 */
    assert_int_equal(ps.n, 5);
    assert_null(gn__producer_state_find(&ps, 5));
    assert_non_null(gn__producer_state_find(&ps, 6));
    gn__producer_state_close(&ps);
    gn__producer_state_close(&back);
}

int main(void)
{
    gn_logger_set_level(GN_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producer_state__in_order_and_duplicates_of_last_5),
        cmocka_unit_test(test_producer_state__contiguous_batches_form_one_run),
        cmocka_unit_test(test_producer_state__epochs),
        cmocka_unit_test(test_producer_state__sequence_wraps),
        cmocka_unit_test(test_producer_state__several_batches_in_one_buffer),
        cmocka_unit_test(test_producer_state__restart_from_snapshot_and_replay),
        cmocka_unit_test(test_producer_state__restart_without_snapshot),
        cmocka_unit_test(test_producer_state__corrupt_snapshot_ignored_with_warning),
        cmocka_unit_test(test_producer_state__delete_records_keeps_producers),
        cmocka_unit_test(test_producer_state__producer_ids_never_reused),
        cmocka_unit_test(test_producer_state__codec_and_expiration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
