/* SPDX-License-Identifier: Apache-2.0 */
/* Topic admin on a real broker and libuv loop: create (and every refusal),
 * validate_only, list, describe, delete, add partitions, alter configs, and the
 * files Kafka operators expect in each partition directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>

#include "broker/broker_internal.h"
#include "broker/broker_test_util.h"
#include "cluster/cluster.h"

typedef struct fixture {
    char *dir;
    uv_loop_t loop;
    gn_broker_t *broker;
    gn_broker_config_t cfg;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->dir = tu_mkdtemp();
    uv_loop_init(&f->loop);
    gn_broker_config_defaults(&f->cfg);
    f->cfg.data_dir = f->dir;
    if (gn_broker_open(&f->loop, &f->cfg, &f->broker) < 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tu_close(&f->loop, f->broker);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void test_topic__create_writes_kafka_files(void **state)
{
    fixture_t *f = *state;
    gn_config_entry_t cfg[] = {{"retention.ms", "3600000"}};
    assert_int_equal(tu_create(&f->loop, f->broker, "orders", 3, cfg, 1), 0);
    gn_topic_info_t info;
    assert_int_equal(gn_topic_describe(f->broker, "orders", &info), 0);
    assert_string_equal(info.name, "orders");
    assert_int_equal(info.partitions, 3);
    assert_int_equal(info.replication_factor, 1);
    assert_false(info.internal);
    assert_int_equal(info.config->retention_ms, 3600000);
    assert_int_equal(info.config->segment_bytes, 1073741824); /* broker default */
    assert_int_equal(info.overrides_count, 1);
    assert_string_equal(info.overrides[0].name, "retention.ms");
    assert_int_equal(info.id[6] >> 4, 4); /* UUID v4 */
    for (int p = 0; p < 3; p++) {
        char name[64];
        snprintf(name, sizeof(name), "orders-%d/partition.metadata", p);
        char *text = tu_read_file(f->dir, name);
        assert_non_null(text);
        assert_true(strncmp(text, "version: 0\ntopic_id: ", 21) == 0);
        assert_int_equal(strlen(text), 21 + 22 + 1);
        free(text);
        snprintf(name, sizeof(name), "orders-%d/leader-epoch-checkpoint", p);
        text = tu_read_file(f->dir, name);
        assert_string_equal(text, "0\n0\n");
        free(text);
        assert_non_null(gn_partition_get(f->broker, "orders", p));
    }
    assert_null(gn_partition_get(f->broker, "orders", 3));
    assert_null(gn_partition_get(f->broker, "orders", -1));
    assert_true(tu_file_exists(f->dir, "meta.properties"));
    /* the metadata image (the committed records of the metadata log) holds it */
    char *meta = json_dumps(gn__cluster_image(f->broker->cluster), JSON_COMPACT);
    assert_non_null(strstr(meta, "\"orders\""));
    assert_non_null(strstr(meta, "\"retention.ms\":\"3600000\""));
    free(meta);
}

static void test_topic__create_refusals(void **state)
{
    fixture_t *f = *state;
    gn_broker_t *b = f->broker;
    tu_admin_t a = {0};
    assert_int_equal(tu_create(&f->loop, b, "a.b", 1, NULL, 0), 0);
    assert_int_equal(gn_topic_create(b, "a.b", 1, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_ETOPIC_EXISTS);
    assert_int_equal(gn_topic_create(b, "a_b", 1, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_TOPIC); /* collides with a.b */
    assert_int_equal(gn_topic_create(b, "bad name", 1, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_TOPIC);
    assert_int_equal(gn_topic_create(b, "..", 1, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_TOPIC);
    assert_int_equal(gn_topic_create(b, "", 1, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_TOPIC);
    assert_int_equal(gn_topic_create(b, "t", 0, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_PARTITIONS);
    assert_int_equal(gn_topic_create(b, "t", -2, 1, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_PARTITIONS);
    assert_int_equal(gn_topic_create(b, "t", 1, 3, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_REPLICATION);
    assert_int_equal(gn_topic_create(b, "t", 1, 0, NULL, 0, false, tu_admin_cb, &a),
                     GN_EINVALID_REPLICATION);
    gn_config_entry_t bad1[] = {{"segment.bytes", "1"}};
    gn_config_entry_t bad2[] = {{"no.such", "1"}};
    gn_config_entry_t bad3[] = {{"retention.ms", NULL}};
    assert_int_equal(gn_topic_create(b, "t", 1, 1, bad1, 1, false, tu_admin_cb, &a),
                     GN_EINVALID_CONFIG);
    assert_int_equal(gn_topic_create(b, "t", 1, 1, bad2, 1, false, tu_admin_cb, &a),
                     GN_EINVALID_CONFIG);
    assert_int_equal(gn_topic_create(b, "t", 1, 1, bad3, 1, true, tu_admin_cb, &a),
                     GN_EINVALID_CONFIG);
    assert_int_equal(gn_topic_list(b, NULL, NULL), 1);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(a.done, 0); /* a refused call never calls back */
    assert_false(tu_file_exists(f->dir, "t-0"));
}

static void test_topic__validate_only_creates_nothing(void **state)
{
    fixture_t *f = *state;
    tu_admin_t a = {0};
    assert_int_equal(gn_topic_create(f->broker, "v", -1, -1, NULL, 0, true, tu_admin_cb, &a), 0);
    assert_int_equal(a.done, 0);
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(a.status, 0);
    gn_topic_info_t info;
    assert_int_equal(gn_topic_describe(f->broker, "v", &info), GN_EUNKNOWN_TOPIC);
    assert_false(tu_file_exists(f->dir, "v-0"));
}

typedef struct listed {
    int n;
    char names[8][64];
    bool internal[8];
} listed_t;

static void on_topic(void *arg, const gn_topic_info_t *info)
{
    listed_t *l = arg;
    snprintf(l->names[l->n], 64, "%s", info->name);
    l->internal[l->n++] = info->internal;
}

static void test_topic__list_sorted_with_internal(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tu_create(&f->loop, f->broker, "zeta", 1, NULL, 0), 0);
    assert_int_equal(tu_create(&f->loop, f->broker, "__consumer_offsets", 2, NULL, 0), 0);
    assert_int_equal(tu_create(&f->loop, f->broker, "alpha", -1, NULL, 0), 0);
    listed_t l = {0};
    assert_int_equal(gn_topic_list(f->broker, on_topic, &l), 3);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.names[0], "__consumer_offsets");
    assert_true(l.internal[0]);
    assert_string_equal(l.names[1], "alpha");
    assert_false(l.internal[1]);
    assert_string_equal(l.names[2], "zeta");
}

static void test_topic__delete_removes_dirs(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(tu_create(&f->loop, f->broker, "gone", 2, NULL, 0), 0);
    tu_admin_t a = {0};
    assert_int_equal(gn_topic_delete(f->broker, "gone", tu_admin_cb, &a), 0);
    assert_int_equal(a.done, 0);
    /* the metadata log decides: the topic stays until the deletion is applied */
    assert_non_null(gn_partition_get(f->broker, "gone", 0));
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(a.status, 0);
    assert_null(gn_partition_get(f->broker, "gone", 0));
    assert_false(tu_file_exists(f->dir, "gone-0")); /* renamed when applied */
    assert_int_equal(gn_topic_delete(f->broker, "gone", tu_admin_cb, &a), GN_EUNKNOWN_TOPIC);
    /* the name is free again at once, and the new topic is empty */
    assert_int_equal(tu_create(&f->loop, f->broker, "gone", 1, NULL, 0), 0);
    assert_true(tu_file_exists(f->dir, "gone-0/partition.metadata"));
    /* the removal on the thread pool finishes: no *-delete directory remains */
    int leftovers = 1;
    for (int i = 0; i < 500 && leftovers; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        usleep(1000);
        DIR *d = opendir(f->dir);
        struct dirent *e;
        leftovers = 0;
        while ((e = readdir(d)))
            if (strstr(e->d_name, "-delete")) leftovers++;
        closedir(d);
    }
    assert_int_equal(leftovers, 0);
    char *meta = json_dumps(gn__cluster_image(f->broker->cluster), JSON_COMPACT);
    assert_non_null(strstr(meta, "\"gone\""));
    free(meta);
}

static void test_topic__add_partitions(void **state)
{
    fixture_t *f = *state;
    gn_broker_t *b = f->broker;
    assert_int_equal(tu_create(&f->loop, b, "grow", 2, NULL, 0), 0);
    tu_admin_t a = {0};
    assert_int_equal(gn_topic_add_partitions(b, "grow", 2, false, tu_admin_cb, &a),
                     GN_EINVALID_PARTITIONS);
    assert_int_equal(gn_topic_add_partitions(b, "grow", 1, false, tu_admin_cb, &a),
                     GN_EINVALID_PARTITIONS);
    assert_int_equal(gn_topic_add_partitions(b, "nope", 5, false, tu_admin_cb, &a),
                     GN_EUNKNOWN_TOPIC);
    assert_int_equal(gn_topic_add_partitions(b, "grow", 5, true, tu_admin_cb, &a), 0);
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_null(gn_partition_get(b, "grow", 2)); /* validate_only */
    a.done = 0;
    assert_int_equal(gn_topic_add_partitions(b, "grow", 5, false, tu_admin_cb, &a), 0);
    assert_null(gn_partition_get(b, "grow", 4)); /* opened when the log has decided */
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(a.status, 0);
    assert_non_null(gn_partition_get(b, "grow", 4));
    gn_topic_info_t info;
    assert_int_equal(gn_topic_describe(b, "grow", &info), 0);
    assert_int_equal(info.partitions, 5);
    assert_true(tu_file_exists(f->dir, "grow-4/partition.metadata"));
}

static void test_topic__alter_configs(void **state)
{
    fixture_t *f = *state;
    gn_broker_t *b = f->broker;
    gn_config_entry_t init[] = {{"retention.ms", "1000"}, {"segment.ms", "5000"}};
    assert_int_equal(tu_create(&f->loop, b, "cfg", 1, init, 2), 0);
    gn_topic_info_t info;
    assert_int_equal(gn_topic_describe(b, "cfg", &info), 0);
    const gn_topic_config_t *live = info.config; /* the logs hold this pointer */

    /* incremental: set one, delete one, append to the list */
    gn_config_entry_t e1[] = {
        {"max.message.bytes", "2000000"}, {"segment.ms", NULL}, {"cleanup.policy", "compact"}};
    gn_alter_op_t ops1[] = {GN_ALTER_SET, GN_ALTER_DELETE, GN_ALTER_APPEND};
    tu_admin_t a = {0};
    assert_int_equal(gn_topic_alter_configs(b, "cfg", e1, ops1, 3, false, false, tu_admin_cb, &a),
                     0);
    assert_int_equal(live->max_message_bytes, 1048588); /* in effect once applied */
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(a.status, 0);
    assert_int_equal(live->max_message_bytes, 2000000);
    assert_int_equal(live->segment_ms, 604800000);
    assert_int_equal(live->retention_ms, 1000);
    assert_int_equal(live->cleanup_policy, GN_CLEANUP_DELETE | GN_CLEANUP_COMPACT);
    gn_config_entry_t e2[] = {{"cleanup.policy", "delete"}};
    gn_alter_op_t ops2[] = {GN_ALTER_SUBTRACT};
    a.done = 0;
    assert_int_equal(gn_topic_alter_configs(b, "cfg", e2, ops2, 1, false, false, tu_admin_cb, &a),
                     0);
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(live->cleanup_policy, GN_CLEANUP_COMPACT);

    /* refusals leave everything as it was */
    gn_config_entry_t bad[] = {{"retention.ms", "-7"}};
    assert_int_equal(gn_topic_alter_configs(b, "cfg", bad, NULL, 1, false, false, NULL, NULL),
                     GN_EINVALID_CONFIG);
    gn_config_entry_t unk[] = {{"nope", "1"}};
    assert_int_equal(gn_topic_alter_configs(b, "cfg", unk, NULL, 1, false, false, NULL, NULL),
                     GN_EINVALID_CONFIG);
    gn_alter_op_t app[] = {GN_ALTER_APPEND};
    gn_config_entry_t notlist[] = {{"retention.ms", "5"}};
    assert_int_equal(gn_topic_alter_configs(b, "cfg", notlist, app, 1, false, false, NULL, NULL),
                     GN_EINVALID_CONFIG);
    gn_alter_op_t sub[] = {GN_ALTER_SUBTRACT};
    gn_config_entry_t empty[] = {{"cleanup.policy", "compact"}}; /* would leave none */
    assert_int_equal(gn_topic_alter_configs(b, "cfg", empty, sub, 1, false, false, NULL, NULL),
                     GN_EINVALID_CONFIG);
    assert_int_equal(gn_topic_alter_configs(b, "nope", e2, NULL, 1, false, false, NULL, NULL),
                     GN_EUNKNOWN_TOPIC);
    assert_int_equal(live->retention_ms, 1000);

    /* validate_only changes nothing but still answers */
    gn_config_entry_t e3[] = {{"retention.ms", "99"}};
    a.done = 0;
    assert_int_equal(gn_topic_alter_configs(b, "cfg", e3, NULL, 1, false, true, tu_admin_cb, &a),
                     0);
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(live->retention_ms, 1000);

    /* replace_all: overrides not listed go back to the defaults */
    a.done = 0;
    assert_int_equal(gn_topic_alter_configs(b, "cfg", e3, NULL, 1, true, false, tu_admin_cb, &a),
                     0);
    assert_int_equal(tu_run_until(&f->loop, &a.done), 0);
    assert_int_equal(live->retention_ms, 99);
    assert_int_equal(live->max_message_bytes, 1048588);
    assert_int_equal(live->cleanup_policy, GN_CLEANUP_DELETE);
    assert_int_equal(gn_topic_describe(b, "cfg", &info), 0);
    assert_int_equal(info.overrides_count, 1);
}

static void test_topic__auto_create(void **state)
{
    fixture_t *f = *state;
    gn_partition_t *part = NULL;
    assert_int_equal(gn_partition_get_or_create(f->broker, "auto", 0, &part), 0);
    assert_non_null(part);
    assert_string_equal(gn_partition_topic(part), "auto");
    assert_int_equal(gn_partition_id(part), 0);
    assert_int_equal(gn_partition_get_or_create(f->broker, "auto", 1, &part), GN_EUNKNOWN_TOPIC);
    assert_int_equal(gn_partition_get_or_create(f->broker, "bad/name", 0, &part),
                     GN_EINVALID_TOPIC);
    f->broker->cfg.auto_create_topics = false; /* via the internal struct: test only */
    assert_int_equal(gn_partition_get_or_create(f->broker, "other", 0, &part), GN_EUNKNOWN_TOPIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_topic__create_writes_kafka_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__create_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__validate_only_creates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__list_sorted_with_internal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__delete_removes_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__add_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__alter_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topic__auto_create, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
