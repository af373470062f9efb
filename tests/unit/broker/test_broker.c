/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's life on disk: Kafka's files (meta.properties, checkpoints, the
 * clean-shutdown marker), reopen after a clean close without a recovery scan,
 * reopen after a crash (a forked child that never closes) with recovery, corrupt
 * metadata and checkpoint files, the retention timer. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "broker/broker_internal.h"
#include "broker/broker_test_util.h"
#include "ganglion/logger.h"

typedef struct env {
    char *dir;
    uv_loop_t loop;
    gn_broker_config_t cfg;
    gn_broker_t *broker;
} env_t;

static void env_init(env_t *e)
{
    memset(e, 0, sizeof(*e));
    e->dir = tu_mkdtemp();
    uv_loop_init(&e->loop);
    gn_broker_config_defaults(&e->cfg);
    e->cfg.data_dir = e->dir;
}

static void env_open(env_t *e)
{
    assert_int_equal(gn_broker_open(&e->loop, &e->cfg, &e->broker), 0);
}

static void env_close(env_t *e)
{
    tu_close(&e->loop, e->broker);
    e->broker = NULL;
}

static void env_free(env_t *e)
{
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    tu_rm_rf(e->dir);
    free(e->dir);
}

static gn_partition_t *part_of(env_t *e, const char *t, int p)
{
    gn_partition_t *part = gn_partition_get(e->broker, t, p);
    assert_non_null(part);
    return part;
}

static void test_broker__config_and_flush_names(void **state)
{
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    assert_int_equal(cfg.flush, GN_FLUSH_ON_ACK_ALL);
    assert_int_equal(cfg.num_partitions, 1);
    assert_true(cfg.auto_create_topics);
    assert_int_equal(cfg.retention_check_interval_ms, 300000);
    assert_int_equal(cfg.topic_defaults.retention_ms, 604800000);
    static const char *names[] = {"on_ack_all", "always", "interval", "os"};
    for (int i = 0; i < 4; i++) {
        gn_flush_policy_t p;
        assert_int_equal(gn_flush_policy_parse(names[i], &p), 0);
        assert_int_equal(p, i);
        assert_string_equal(gn_flush_policy_name(p), names[i]);
    }
    gn_flush_policy_t p;
    assert_int_equal(gn_flush_policy_parse("sometimes", &p), GN_EINVALID_CONFIG);
    int64_t now = gn_now_ms();
    assert_true(now > 1600000000000LL);
}

static void test_broker__clean_reopen_keeps_everything(void **state)
{
    env_t e;
    env_init(&e);
    env_open(&e);
    assert_true(tu_file_exists(e.dir, "meta.properties"));
    char *meta = tu_read_file(e.dir, "meta.properties");
    assert_non_null(strstr(meta, "\nnode.id=1\n"));
    assert_non_null(strstr(meta, "\nversion=1\n"));
    assert_non_null(strstr(meta, "\ncluster.id="));
    free(meta);
    gn_config_entry_t cfg[] = {{"retention.ms", "123456"}};
    assert_int_equal(tu_create(&e.loop, e.broker, "a", 2, cfg, 1), 0);
    assert_int_equal(tu_create(&e.loop, e.broker, "b", 1, NULL, 0), 0);
    gn_topic_info_t info;
    assert_int_equal(gn_topic_describe(e.broker, "a", &info), 0);
    uint8_t id[16];
    memcpy(id, info.id, 16);
    tu_produce_t p;
    assert_int_equal(tu_produce(&e.loop, part_of(&e, "a", 0), 5, GN_ACKS_LEADER, &p), 0);
    assert_int_equal(tu_produce(&e.loop, part_of(&e, "a", 1), 3, GN_ACKS_LEADER, &p), 0);
    int64_t low;
    assert_int_equal(gn_partition_delete_records(part_of(&e, "a", 0), 2, &low), 0);
    env_close(&e);

    assert_true(tu_file_exists(e.dir, ".kafka_cleanshutdown"));
    char *rp = tu_read_file(e.dir, "recovery-point-offset-checkpoint");
    assert_non_null(rp);
    assert_true(strncmp(rp, "0\n3\n", 4) == 0);
    assert_non_null(strstr(rp, "\na 0 5\n"));
    assert_non_null(strstr(rp, "\na 1 3\n"));
    assert_non_null(strstr(rp, "\nb 0 0\n"));
    free(rp);
    char *ls = tu_read_file(e.dir, "log-start-offset-checkpoint");
    assert_non_null(strstr(ls, "\na 0 2\n"));
    free(ls);

    env_open(&e);
    assert_int_equal(e.broker->logs_recovering, 0); /* no recovery scan */
    assert_false(tu_file_exists(e.dir, ".kafka_cleanshutdown"));
    assert_int_equal(gn_topic_list(e.broker, NULL, NULL), 2);
    assert_int_equal(gn_topic_describe(e.broker, "a", &info), 0);
    assert_memory_equal(info.id, id, 16);
    assert_int_equal(info.partitions, 2);
    assert_int_equal(info.config->retention_ms, 123456);
    assert_int_equal(info.overrides_count, 1);
    assert_int_equal(gn_partition_high_watermark(part_of(&e, "a", 0)), 5);
    assert_int_equal(gn_partition_log_start_offset(part_of(&e, "a", 0)), 2);
    assert_int_equal(gn_partition_high_watermark(part_of(&e, "a", 1)), 3);
    assert_int_equal(tu_produce(&e.loop, part_of(&e, "a", 0), 1, GN_ACKS_ALL, &p), 0);
    assert_int_equal(p.res.base_offset, 5);
    env_close(&e);
    env_free(&e);
}

static void test_broker__unclean_stop_recovers(void **state)
{
    env_t e;
    env_init(&e);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the "crashed" broker: acks=all records, then gone without a close */
        uv_loop_t loop;
        gn_broker_t *broker;
        uv_loop_init(&loop);
        if (gn_broker_open(&loop, &e.cfg, &broker) < 0) _exit(2);
        if (tu_create(&loop, broker, "c", 1, NULL, 0) < 0) _exit(3);
        tu_produce_t p;
        if (tu_produce(&loop, gn_partition_get(broker, "c", 0), 4, GN_ACKS_ALL, &p) < 0 ||
            !p.res.durable)
            _exit(4);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_false(tu_file_exists(e.dir, ".kafka_cleanshutdown"));
    /* a torn write after the last acknowledged batch */
    char path[4096];
    snprintf(path, sizeof(path), "%s/c-0/00000000000000000000.log", e.dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    for (int i = 0; i < 37; i++)
        fputc(0x5a, f);
    fclose(f);

    env_open(&e);
    assert_true(e.broker->logs_recovering > 0);
    gn_partition_t *part = part_of(&e, "c", 0);
    assert_int_equal(gn_partition_high_watermark(part), 4);
    tu_produce_t p;
    assert_int_equal(tu_produce(&e.loop, part, 1, GN_ACKS_ALL, &p), 0);
    assert_int_equal(p.res.base_offset, 4);
    env_close(&e);
    env_free(&e);
}

static void test_broker__corrupt_files(void **state)
{
    env_t e;
    env_init(&e);
    env_open(&e);
    assert_int_equal(tu_create(&e.loop, e.broker, "d", 1, NULL, 0), 0);
    tu_produce_t p;
    assert_int_equal(tu_produce(&e.loop, part_of(&e, "d", 0), 3, GN_ACKS_ALL, &p), 0);
    env_close(&e);

    /* corrupt checkpoints: ignored with a warning, the logs recover fully */
    tu_write_file(e.dir, "recovery-point-offset-checkpoint", "0\n5\nd 0 3\n");
    tu_write_file(e.dir, "log-start-offset-checkpoint", "garbage");
    env_open(&e);
    assert_true(e.broker->logs_recovering > 0);
    assert_int_equal(gn_partition_high_watermark(part_of(&e, "d", 0)), 3);
    env_close(&e);

    /* corrupt topic metadata (the raft log of __cluster_metadata): a clear error, not a
     * crash and not an empty broker */
    char seg[4096] = "";
    char rdir[4096];
    snprintf(rdir, sizeof(rdir), "%s/__cluster_metadata/raft", e.dir);
    DIR *d = opendir(rdir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));) /* the largest closed segment: the topic */
        if (strlen(de->d_name) == 33 && de->d_name[16] == '-' && strcmp(de->d_name, seg) > 0)
            snprintf(seg, sizeof(seg), "%s", de->d_name);
    closedir(d);
    assert_true(seg[0]);
    snprintf(rdir + strlen(rdir), sizeof(rdir) - strlen(rdir), "/%s", seg);
    FILE *sf = fopen(rdir, "r+b");
    assert_non_null(sf);
    fseek(sf, -12, SEEK_END); /* inside the last entry's data: its checksum fails */
    int byte = fgetc(sf);
    fseek(sf, -12, SEEK_END);
    fputc(byte ^ 0x55, sf);
    fclose(sf);
    gn_broker_t *b = NULL;
    assert_int_equal(gn_broker_open(&e.loop, &e.cfg, &b), GN_ECORRUPT);
    assert_null(b);
    /* repaired, it opens again with its data */
    sf = fopen(rdir, "r+b");
    fseek(sf, -12, SEEK_END);
    fputc(byte, sf);
    fclose(sf);
    env_open(&e);
    assert_int_equal(gn_partition_high_watermark(part_of(&e, "d", 0)), 3);
    env_close(&e);

    /* another node's data directory */
    e.cfg.node_id = 7;
    assert_int_equal(gn_broker_open(&e.loop, &e.cfg, &b), GN_EINVALID_CONFIG);
    tu_write_file(e.dir, "meta.properties", "nonsense\n");
    assert_int_equal(gn_broker_open(&e.loop, &e.cfg, &b), GN_ECORRUPT);
    env_free(&e);
}

static void test_broker__retention_timer_deletes_old_segments(void **state)
{
    env_t e;
    env_init(&e);
    e.cfg.retention_check_interval_ms = 20;
    env_open(&e);
    gn_config_entry_t cfg[] = {{"retention.ms", "1"}, {"segment.bytes", "100"}};
    assert_int_equal(tu_create(&e.loop, e.broker, "r", 1, cfg, 2), 0);
    gn_partition_t *part = part_of(&e, "r", 0);
    tu_produce_t p;
    for (int i = 0; i < 4; i++)
        assert_int_equal(tu_produce(&e.loop, part, 2, GN_ACKS_LEADER, &p), 0);
    /* the records carry a 2023 timestamp: every closed segment is past retention.ms */
    uint64_t t0 = uv_hrtime();
    while (gn_partition_log_start_offset(part) == 0 && uv_hrtime() - t0 < 3000000000ull)
        uv_run(&e.loop, UV_RUN_ONCE);
    assert_true(gn_partition_log_start_offset(part) > 0);
    assert_int_equal(gn_partition_high_watermark(part), 8);
    env_close(&e);
    env_free(&e);
}

static void on_shutdown_watch(gn_watch_t *w, int status)
{
    *(int *)w->data = status;
}

static void test_broker__close_answers_pending_work(void **state)
{
    env_t e;
    env_init(&e);
    env_open(&e);
    assert_int_equal(tu_create(&e.loop, e.broker, "x", 1, NULL, 0), 0);
    uint8_t *buf;
    size_t len = tu_batch(2, 1700000000000LL, &buf);
    tu_produce_t p1 = {0}, p2 = {0};
    assert_int_equal(gn_produce(part_of(&e, "x", 0), buf, len, GN_ACKS_ALL, tu_produce_cb, &p1), 0);
    free(buf);
    len = tu_batch(2, 1700000000000LL, &buf);
    assert_int_equal(gn_produce(part_of(&e, "x", 0), buf, len, GN_ACKS_LEADER, tu_produce_cb, &p2),
                     0);
    free(buf);
    gn_watch_t w = {0};
    int fired = 0;
    w.data = &fired;
    gn_partition_watch(part_of(&e, "x", 0), &w, 1000, on_shutdown_watch);
    tu_admin_t a = {0};
    assert_int_equal(gn_topic_create(e.broker, "y", 1, 1, NULL, 0, false, tu_admin_cb, &a), 0);
    env_close(&e); /* every callback runs exactly once before the close completes */
    assert_int_equal(p1.done, 1);
    assert_int_equal(p2.done, 1);
    assert_int_equal(p2.status, 0);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.status, 0);
    assert_int_equal(fired, GN_ESHUTDOWN);
    env_open(&e);
    assert_int_equal(gn_topic_list(e.broker, NULL, NULL), 2);
    assert_int_equal(gn_partition_high_watermark(part_of(&e, "x", 0)), 4);
    assert_null(gn_partition_get(e.broker, "x", 1));
    env_close(&e);
    env_free(&e);
}

int main(void)
{
    gn_logger_set_level(GN_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broker__config_and_flush_names),
        cmocka_unit_test(test_broker__clean_reopen_keeps_everything),
        cmocka_unit_test(test_broker__unclean_stop_recovers),
        cmocka_unit_test(test_broker__corrupt_files),
        cmocka_unit_test(test_broker__retention_timer_deletes_old_segments),
        cmocka_unit_test(test_broker__close_answers_pending_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
