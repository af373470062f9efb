/* SPDX-License-Identifier: Apache-2.0 */
/* core/cluster: a quorum of one on a real loop in a temp dir — bootstrap, propose, apply
 * to the image, restart (log replay and snapshots), voters parsing; the image's records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "cluster/cluster.h"
#include "ganglion/broker.h"
#include "ganglion/topic.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

typedef struct done {
    int done, status;
} done_t;

static void on_done(void *arg, int status)
{
    done_t *d = arg;
    d->done = 1;
    d->status = status;
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static gn_cluster_t *open_one(uv_loop_t *loop, const char *dir)
{
    gn_cluster_opts_t o = {.node_id = 3, .data_dir = dir, .ready_timeout_ms = 5000};
    gn_cluster_t *cl = NULL;
    assert_int_equal(gn__cluster_open(loop, &o, &cl), 0);
    assert_true(gn__cluster_is_leader(cl));
    assert_int_equal(gn__cluster_leader_id(cl), 3);
    return cl;
}

static void close_one(uv_loop_t *loop, gn_cluster_t *cl)
{
    int closed = 0;
    gn__cluster_close(cl, on_closed, &closed);
    assert_int_equal(tu_run_until(loop, &closed), 0);
}

static int propose(uv_loop_t *loop, gn_cluster_t *cl, const char *json)
{
    json_t *rec = json_loads(json, 0, NULL);
    assert_non_null(rec);
    done_t d = {0};
    int rc = gn__cluster_propose(cl, rec, on_done, &d);
    json_decref(rec);
    if (rc < 0) return rc;
    assert_int_equal(tu_run_until(loop, &d.done), 0);
    return d.status;
}

static void test_quorum__one_voter_apply_restart(void **state)
{
    char *dir = tu_mkdtemp();
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_cluster_t *cl = open_one(&loop, dir);
    assert_int_equal(
        propose(&loop, cl, "{\"type\":\"broker_registered\",\"id\":3,\"host\":\"h\",\"port\":9}"),
        0);
    assert_int_equal(propose(&loop, cl,
                             "{\"type\":\"topic\",\"name\":\"t\",\"id\":\"AAAAAAAAAAAAAAAAAAAAAA\","
                             "\"partitions\":2,\"replication_factor\":1,\"replicas\":[[3],[3]]}"),
                     0);
    assert_int_equal(propose(&loop, cl, "{\"type\":\"nonsense\"}"), GN_EINVAL);
    const json_t *img = gn__cluster_image(cl);
    json_t *p1 = json_array_get(
        json_object_get(json_object_get(json_object_get(img, "topics"), "t"), "states"), 1);
    assert_int_equal(json_integer_value(json_object_get(p1, "leader")), 3);
    close_one(&loop, cl);

    cl = open_one(&loop, dir); /* replays the log */
    img = gn__cluster_image(cl);
    assert_non_null(json_object_get(json_object_get(img, "topics"), "t"));
    assert_non_null(json_object_get(json_object_get(img, "brokers"), "3"));
    assert_int_equal(propose(&loop, cl, "{\"type\":\"topic_deleted\",\"name\":\"t\"}"), 0);
    assert_null(json_object_get(json_object_get(gn__cluster_image(cl), "topics"), "t"));
    close_one(&loop, cl);

    cl = open_one(&loop, dir);
    assert_null(json_object_get(json_object_get(gn__cluster_image(cl), "topics"), "t"));
    close_one(&loop, cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    tu_rm_rf(dir);
    free(dir);
}

static void test_quorum__voters(void **state)
{
    gn_cluster_voter_t v[4];
    size_t n;
    assert_int_equal(gn__cluster_parse_voters("1@127.0.0.1:9093,2@10.0.0.2:1", v, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[1].id, 2);
    assert_string_equal(v[1].address, "10.0.0.2:1");
    assert_int_equal(gn__cluster_parse_voters("", v, 4, &n), 0);
    assert_int_equal(n, 0);
    /* names too: libraft's transport takes IPv4 addresses only */
    const char *bad[] = {"1@",          "x@h:1",    "1@h",  "1@h:0",
                         "1@h:1,1@h:2", "1@h:1,",   "@h:1", "1@broker1:9093",
                         "1@10.0.0:1",  "1@[::1]:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gn__cluster_parse_voters(bad[i], v, 4, &n), GN_EINVALID_CONFIG);
}

/* A data directory from before the quorum: topics.json is moved into the metadata log
 * once, renamed, and the topics open with their ids and configs. */
static void test_quorum__migrates_topics_json(void **state)
{
    char *dir = tu_mkdtemp();
    uv_loop_t loop;
    uv_loop_init(&loop);
    char sub[4096];
    snprintf(sub, sizeof(sub), "%s/__cluster_metadata", dir);
    mkdir(sub, 0755);
    tu_write_file(dir, "__cluster_metadata/topics.json",
                  "{\"version\": 1, \"topics\": {\"old\": {\"id\": \"AAAAAAAAAAAAAAAAAAAAAQ\", "
                  "\"partitions\": 2, \"replication_factor\": 1, \"configs\": "
                  "{\"retention.ms\": \"1000\"}}}}");
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = dir;
    gn_broker_t *broker = NULL;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(gn_broker_open(&loop, &cfg, &broker), 0);
        gn_topic_info_t info;
        assert_int_equal(gn_topic_describe(broker, "old", &info), 0);
        assert_int_equal(info.partitions, 2);
        assert_int_equal(info.config->retention_ms, 1000);
        assert_int_equal(info.id[15], 1);
        assert_false(tu_file_exists(dir, "__cluster_metadata/topics.json"));
        assert_true(tu_file_exists(dir, "__cluster_metadata/topics.json.migrated"));
        tu_close(&loop, broker);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    gn_logger_set_level(GN_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quorum__voters),
        cmocka_unit_test(test_quorum__one_voter_apply_restart),
        cmocka_unit_test(test_quorum__migrates_topics_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
