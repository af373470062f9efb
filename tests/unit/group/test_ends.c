/* SPDX-License-Identifier: Apache-2.0 */
/* The serving side of the group RPC's "ends" call (core/group/ends.c) on a real broker
 * with its internal listener on loopback (port 29626), asked with core/cluster's RPC
 * client as another broker's coordinator asks it: the high watermark of each partition
 * led here, a per-partition error for unknown or malformed ones, and a malformed request
 * answered GN_EINVALID_REQUEST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "cluster/rpc.h"
#include "ganglion/error.h"
#include "ganglion/partition.h"

#define ADDR "127.0.0.1:29626"

typedef struct answer {
    int done, status, rstatus;
    json_t *ends;
} answer_t;

static void on_answer(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    (void)raw;
    (void)rawlen;
    answer_t *a = arg;
    a->done = 1;
    a->status = status;
    if (resp) {
        a->rstatus = (int)json_integer_value(json_object_get(resp, "status"));
        a->ends = json_incref(json_object_get(resp, "ends"));
    }
}

static void ask(uv_loop_t *loop, gn_rpc_client_t *cli, json_t *req, answer_t *a)
{
    assert_int_equal(gn__rpc_call(cli, req, NULL, 0, 5000, on_answer, a), 0);
    json_decref(req);
    assert_int_equal(tu_run_until(loop, &a->done), 0);
    assert_int_equal(a->status, 0);
}

static json_int_t field(const answer_t *a, size_t i, const char *key)
{
    const json_t *v = json_object_get(json_array_get(a->ends, i), key);
    assert_non_null(v);
    return json_integer_value(v);
}

static void test_ends__high_watermarks_and_errors(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *dir = tu_mkdtemp();
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = dir;
    cfg.cluster_listener = ADDR;
    gn_broker_t *broker;
    assert_int_equal(gn_broker_open(&loop, &cfg, &broker), 0);
    assert_int_equal(tu_create(&loop, broker, "t", 2, NULL, 0), 0);
    tu_produce_t p;
    assert_int_equal(tu_produce(&loop, gn_partition_get(broker, "t", 0), 3, GN_ACKS_ALL, &p), 0);
    gn_rpc_client_t *cli = gn__rpc_client_new(&loop, ADDR, NULL);

    answer_t a = {0};
    ask(&loop, cli,
        json_pack("{s:s, s:s, s:[[s,i],[s,i],[s,i],[s,i],[i,s],s]}", "op", "group", "call", "ends",
                  "partitions", "t", 0, "t", 1, "t", 7, "nope", 0, 5, "x", "bad"),
        &a);
    assert_int_equal(a.rstatus, 0);
    assert_int_equal(json_array_size(a.ends), 6);
    assert_int_equal(field(&a, 0, "end"), 3); /* the high watermark */
    assert_int_equal(field(&a, 1, "end"), 0);
    assert_int_equal(field(&a, 2, "error"), GN_EUNKNOWN_TOPIC);
    assert_int_equal(field(&a, 3, "error"), GN_EUNKNOWN_TOPIC);
    assert_int_equal(field(&a, 4, "error"), GN_EINVALID_REQUEST);
    assert_int_equal(field(&a, 5, "error"), GN_EINVALID_REQUEST);
    json_decref(a.ends);

    /* no partitions array: the request is refused, the broker goes on */
    answer_t bad = {0};
    ask(&loop, cli, json_pack("{s:s, s:s, s:s}", "op", "group", "call", "ends", "partitions", "x"),
        &bad);
    assert_int_equal(bad.rstatus, GN_EINVALID_REQUEST);
    assert_null(bad.ends);

    gn__rpc_client_free(cli);
    tu_close(&loop, broker);
    assert_int_equal(uv_loop_close(&loop), 0);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ends__high_watermarks_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
