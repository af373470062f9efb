/* SPDX-License-Identifier: Apache-2.0 */
/* core/log crash test: a child appends batches and acknowledges each one once
 * gn_log_sync says it is durable (last offset + CRC of its values, to a pipe); the
 * parent SIGKILLs it at a random moment, reopens the log as after a crash (no clean
 * marker, no recovery point) and checks every acknowledged batch is there, intact,
 * and the log validates end to end. 20 rounds, bounded in time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "log_test_util.h"

#define ROUNDS      20
#define MAX_PENDING 256

typedef struct ack {
    int64_t last_offset;
    int64_t crc;
} ack_t;

typedef struct child {
    int fd;
    int pending;
} child_t;

typedef struct waiter {
    child_t *c;
    ack_t ack;
} waiter_t;

/* CRC32C over the values of every record of one batch. */
static int64_t values_crc(const uint8_t *batch, size_t len)
{
    gn_record_iter_t it;
    gn_record_t rec;
    uint32_t crc = 0;

    if (gn_record_iter_init(&it, batch, len) < 0) return -1;
    while (gn_record_iter_next(&it, &rec) == 1)
        crc = gn_crc32c(crc, rec.value.ptr, rec.value.len);
    gn_record_iter_close(&it);
    return crc;
}

static void on_durable(void *arg, int status)
{
    waiter_t *w = arg;
    w->c->pending--;
    if (status == 0 && write(w->c->fd, &w->ack, sizeof(w->ack)) != sizeof(w->ack)) _exit(3);
    free(w);
}

static void child_main(const char *dir, int fd, unsigned seed)
{
    uv_loop_t loop;
    gn_topic_config_t cfg;
    gn_log_t *log;
    child_t c = {.fd = fd};

    alarm(5); /* never outlive a broken parent */
    srand(seed);
    uv_loop_init(&loop);
    tl_cfg(&cfg);
    cfg.segment_bytes = 64 << 10; /* rolls during the run too */
    cfg.index_interval_bytes = 1024;
    if (tl_open(&loop, dir, &cfg, false, 0, &log) < 0) _exit(2);
    for (int seq = 0;; seq++) {
        size_t len;
        uint8_t *b = tl_batch(1 + rand() % 5, 1000 + seq, seq, 10 + (size_t)(rand() % 300), &len);
        gn_log_append_info_t info;
        if (gn_log_append(log, b, len, 1000 + seq, &info) < 0) _exit(4);
        waiter_t *w = malloc(sizeof(*w));
        w->c = &c;
        w->ack.last_offset = info.last_offset;
        w->ack.crc = values_crc(b, len);
        free(b);
        if (gn_log_sync(log, info.last_offset + 1, on_durable, w) < 0) _exit(5);
        c.pending++;
        uv_run(&loop, c.pending > MAX_PENDING ? UV_RUN_ONCE : UV_RUN_NOWAIT);
    }
}

static int cmp_last(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = ((const gn_batch_header_t *)b)->base_offset +
                                         ((const gn_batch_header_t *)b)->last_offset_delta;
    return x < y ? -1 : x > y;
}

/* Reopens as after a crash; checks acks against what the log holds. */
static void verify(const char *dir, const ack_t *acks, size_t nacks)
{
    uv_loop_t loop;
    gn_topic_config_t cfg;
    gn_log_t *log;
    size_t total, nb = 0;
    int64_t next = 0;

    uv_loop_init(&loop);
    tl_cfg(&cfg);
    cfg.segment_bytes = 64 << 10;
    cfg.index_interval_bytes = 1024;
    assert_int_equal(tl_open(&loop, dir, &cfg, false, -1, &log), 0);
    uint8_t *all = tl_read_all(log, 0, &total);
    assert_true(tl_validate_all(all, total, &next) >= 0);
    assert_int_equal(next, gn_log_end_offset(log));

    /* every batch's header and position, for a binary search by last offset */
    gn_batch_header_t *hdrs = malloc((total / GN_BATCH_HEADER_SIZE + 1) * sizeof(*hdrs));
    size_t *pos = malloc((total / GN_BATCH_HEADER_SIZE + 1) * sizeof(*pos));
    for (size_t off = 0; off < total; nb++) {
        pos[nb] = off;
        off += (size_t)gn_batch_peek(all + off, total - off, &hdrs[nb]);
    }
    for (size_t i = 0; i < nacks; i++) {
        gn_batch_header_t *h = bsearch(&acks[i].last_offset, hdrs, nb, sizeof(*hdrs), cmp_last);
        if (!h)
            fail_msg("acknowledged batch ending at %" PRId64 " lost (log end %" PRId64 ")",
                     acks[i].last_offset, gn_log_end_offset(log));
        size_t k = (size_t)(h - hdrs);
        assert_int_equal(values_crc(all + pos[k], (size_t)gn_batch_size(h)), acks[i].crc);
    }
    int64_t end = gn_log_end_offset(log);
    assert_int_equal(tl_append(log, 1, 1, 0, 10), end); /* appends continue */
    free(hdrs), free(pos), free(all);
    gn_log_close(log);
    tl_drain(&loop);
    uv_loop_close(&loop);
}

static void test_crash__acknowledged_batches_survive_sigkill(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    size_t total_acks = 0;

    print_message("seed %u\n", seed);
    srand(seed);
    for (int round = 0; round < ROUNDS; round++) {
        char *dir = tl_mkdtemp();
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child_main(dir, p[1], seed + (unsigned)round);
            _exit(0);
        }
        close(p[1]);
        usleep((useconds_t)(3000 + rand() % 197000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status)); /* it was still running: killed mid-flight */

        size_t cap = 1024, n = 0;
        ack_t *acks = malloc(cap * sizeof(*acks));
        ssize_t r;
        while ((r = read(p[0], &acks[n], sizeof(*acks))) == sizeof(*acks))
            if (++n == cap) acks = realloc(acks, (cap *= 2) * sizeof(*acks));
        close(p[0]);
        verify(dir, acks, n);
        total_acks += n;
        free(acks);
        tl_rmrf(dir);
    }
    print_message("%zu acknowledged batches checked over %d kills\n", total_acks, ROUNDS);
    assert_true(total_acks > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash__acknowledged_batches_survive_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
