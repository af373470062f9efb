/* SPDX-License-Identifier: Apache-2.0 */
/* The local topic-metadata store: durable puts and deletes (topics.json replaced
 * atomically on the thread pool), reload, group commit, corrupt files refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "topic/metastore.h"

typedef struct loaded {
    int count;
    char names[8][64];
    int32_t partitions[8];
    uint8_t id[8][16];
    size_t configs[8];
    char retention[8][32];
} loaded_t;

static void on_each(void *arg, const gn_topic_record_t *rec)
{
    loaded_t *l = arg;
    if (l->count >= 8) return;
    snprintf(l->names[l->count], 64, "%s", rec->name);
    l->partitions[l->count] = rec->partitions;
    memcpy(l->id[l->count], rec->id, 16);
    l->configs[l->count] = rec->configs_count;
    for (size_t i = 0; i < rec->configs_count; i++)
        if (strcmp(rec->configs[i].name, "retention.ms") == 0)
            snprintf(l->retention[l->count], 32, "%s", rec->configs[i].value);
    l->count++;
}

static void closed(void *arg, int status)
{
    *(int *)arg = 1;
}

static void test_metastore__put_reload_delete(void **state)
{
    char *dir = tu_mkdtemp();
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_metastore_t *ms;
    assert_int_equal(gn__metastore_local_open(&loop, dir, &ms), 0);
    loaded_t l = {0};
    assert_int_equal(gn__metastore_load(ms, on_each, &l), 0); /* no file yet */
    assert_int_equal(l.count, 0);

    gn_config_entry_t cfg[] = {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}};
    gn_topic_record_t rec = {.name = "orders",
                             .partitions = 3,
                             .replication_factor = 1,
                             .configs = cfg,
                             .configs_count = 2};
    for (int i = 0; i < 16; i++)
        rec.id[i] = (uint8_t)(i * 7);
    tu_admin_t a1 = {0}, a2 = {0}, a3 = {0};
    assert_int_equal(gn__metastore_put_topic(ms, &rec, tu_admin_cb, &a1), 0);
    rec.name = "events";
    rec.configs_count = 0;
    assert_int_equal(gn__metastore_put_topic(ms, &rec, tu_admin_cb, &a2), 0);
    assert_int_equal(gn__metastore_put_topic(ms, &rec, tu_admin_cb, &a3), 0);
    assert_int_equal(a1.done + a2.done + a3.done, 0); /* never before return */
    assert_int_equal(tu_run_until(&loop, &a3.done), 0);
    assert_int_equal(a1.done, 1);
    assert_int_equal(a2.done, 1);
    assert_int_equal(a1.status, 0);
    assert_true(tu_file_exists(dir, "__cluster_metadata/topics.json"));
    assert_false(tu_file_exists(dir, "__cluster_metadata/topics.json.tmp"));
    assert_int_equal(gn__metastore_delete_topic(ms, "nope", NULL, tu_admin_cb, &a1),
                     GN_EUNKNOWN_TOPIC);
    int done = 0;
    gn__metastore_close(ms, closed, &done);
    assert_int_equal(tu_run_until(&loop, &done), 0);

    /* a second store sees both topics */
    assert_int_equal(gn__metastore_local_open(&loop, dir, &ms), 0);
    memset(&l, 0, sizeof(l));
    assert_int_equal(gn__metastore_load(ms, on_each, &l), 0);
    assert_int_equal(l.count, 2);
    int o = strcmp(l.names[0], "orders") == 0 ? 0 : 1;
    assert_string_equal(l.names[o], "orders");
    assert_int_equal(l.partitions[o], 3);
    assert_int_equal(l.id[o][1], 7);
    assert_int_equal(l.configs[o], 2);
    assert_string_equal(l.retention[o], "1000");
    tu_admin_t d = {0};
    assert_int_equal(gn__metastore_delete_topic(ms, "orders", NULL, tu_admin_cb, &d), 0);
    assert_int_equal(tu_run_until(&loop, &d.done), 0);
    assert_int_equal(d.status, 0);
    done = 0;
    gn__metastore_close(ms, closed, &done);
    assert_int_equal(tu_run_until(&loop, &done), 0);

    assert_int_equal(gn__metastore_local_open(&loop, dir, &ms), 0);
    memset(&l, 0, sizeof(l));
    assert_int_equal(gn__metastore_load(ms, on_each, &l), 0);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.names[0], "events");
    done = 0;
    gn__metastore_close(ms, closed, &done);
    assert_int_equal(done, 1); /* idle: closes at once */

    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    tu_rm_rf(dir);
    free(dir);
}

static void test_metastore__corrupt_file_is_a_clear_error(void **state)
{
    static const char *bad[] = {
        "{\"version\": 1, \"topics\": {\"t\": ", /* torn */
        "[]",                                    /* not an object */
        "{\"version\": 7, \"topics\": {}}",      /* unknown version */
        "{\"version\": 1, \"topics\": {\"t\": {\"id\": \"x\", \"partitions\": 1, "
        "\"replication_factor\": 1}}}", /* bad id */
        "{\"version\": 1, \"topics\": {\"a b\": {\"id\": \"AAAAAAAAAAAAAAAAAAAAAA\", "
        "\"partitions\": 1, \"replication_factor\": 1}}}", /* bad name */
        "{\"version\": 1, \"topics\": {\"t\": {\"id\": \"AAAAAAAAAAAAAAAAAAAAAA\", "
        "\"partitions\": 0, \"replication_factor\": 1}}}", /* bad count */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *dir = tu_mkdtemp();
        uv_loop_t loop;
        uv_loop_init(&loop);
        gn_metastore_t *ms;
        assert_int_equal(gn__metastore_local_open(&loop, dir, &ms), 0);
        tu_write_file(dir, "__cluster_metadata/topics.json", bad[i]);
        loaded_t l = {0};
        assert_int_equal(gn__metastore_load(ms, on_each, &l), GN_ECORRUPT);
        int done = 0;
        gn__metastore_close(ms, closed, &done);
        assert_int_equal(done, 1);
        assert_int_equal(uv_loop_close(&loop), 0);
        tu_rm_rf(dir);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metastore__put_reload_delete),
        cmocka_unit_test(test_metastore__corrupt_file_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
