/* SPDX-License-Identifier: Apache-2.0 */
/* One consumer group, two protocols: a real librdkafka consumer (through the Kafka
 * adapter on 127.0.0.1:29199) and a server-side gateway member share topic "mixed"
 * (4 partitions): each ends with 2, disjoint. librdkafka is loaded with dlopen (the
 * unit tests link no client library); its thread only talks TCP, the loop runs here. */
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "ganglion/adapter.h"
#include "ganglion/group.h"

#define PORT 29199

extern const gn_adapter_t gn_kafka_adapter;

typedef struct rk_api {
    rd_kafka_conf_t *(*conf_new)(void);
    rd_kafka_conf_res_t (*conf_set)(rd_kafka_conf_t *, const char *, const char *, char *, size_t);
    rd_kafka_t *(*new_)(rd_kafka_type_t, rd_kafka_conf_t *, char *, size_t);
    rd_kafka_topic_partition_list_t *(*list_new)(int);
    rd_kafka_topic_partition_t *(*list_add)(rd_kafka_topic_partition_list_t *, const char *,
                                            int32_t);
    void (*list_destroy)(rd_kafka_topic_partition_list_t *);
    rd_kafka_resp_err_t (*subscribe)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *);
    rd_kafka_message_t *(*poll)(rd_kafka_t *, int);
    void (*msg_destroy)(rd_kafka_message_t *);
    rd_kafka_resp_err_t (*assignment)(rd_kafka_t *, rd_kafka_topic_partition_list_t **);
    rd_kafka_resp_err_t (*close)(rd_kafka_t *);
    void (*destroy)(rd_kafka_t *);
} rk_api_t;

typedef struct fx {
    uv_loop_t loop;
    char *dir;
    gn_broker_t *broker;
    void *adapter;
    gn_group_member_t *mem;
    uv_async_t done;
    uv_timer_t tick;
    pthread_t thread;
    pthread_mutex_t mu;
    rk_api_t rk;
    /* shared, under mu */
    int kafka_parts[8], kafka_n, kafka_ok, local_n_seen;
    int local_parts[8], local_n, local_assigned;
    int failed;
    int snap_parts[8], snap_n; /* the gateway member's partitions when both had 2 */
    int kafka_first;           /* 1: the librdkafka consumer joins (and leads) first */
    bool thread_started;
} fx_t;

static void on_assigned(void *arg, gn_group_member_t *m, int32_t gen,
                        const gn_topic_partition_t *tps, size_t n)
{
    fx_t *f = arg;
    (void)m;
    (void)gen;
    pthread_mutex_lock(&f->mu);
    f->local_n = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        f->local_parts[f->local_n++] = tps[i].partition;
    f->local_assigned++;
    pthread_mutex_unlock(&f->mu);
}

static const gn_group_member_callbacks_t cbs = {on_assigned, NULL, NULL};

/* The librdkafka consumer: subscribe, poll until it owns 2 partitions while the
 * gateway member owns the other 2 (bounded: 40 s), then close (LeaveGroup). */
static void *client_main(void *arg)
{
    fx_t *f = arg;
    rk_api_t *rk = &f->rk;
    char err[256];
    rd_kafka_conf_t *conf = rk->conf_new();
    rk->conf_set(conf, "bootstrap.servers", "127.0.0.1:29199", err, sizeof err);
    rk->conf_set(conf, "group.id", "mixg", err, sizeof err);
    rk->conf_set(conf, "session.timeout.ms", "6000", err, sizeof err);
    rk->conf_set(conf, "partition.assignment.strategy", "range", err, sizeof err);
    rk->conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_t *c = rk->new_(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c) abort();
    rd_kafka_topic_partition_list_t *topics = rk->list_new(1);
    rk->list_add(topics, "mixed", RD_KAFKA_PARTITION_UA);
    rk->subscribe(c, topics);
    rk->list_destroy(topics);
    uint64_t start = uv_hrtime();
    while (uv_hrtime() - start < 40ull * 1000000000ull) {
        rd_kafka_message_t *msg = rk->poll(c, 100);
        if (msg) rk->msg_destroy(msg);
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rk->assignment(c, &a) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        pthread_mutex_lock(&f->mu);
        f->kafka_n = 0;
        for (int i = 0; i < a->cnt && i < 8; i++)
            f->kafka_parts[f->kafka_n++] = a->elems[i].partition;
        bool done = f->kafka_n == 2 && f->local_n == 2;
        if (done) {
            memcpy(f->snap_parts, f->local_parts, sizeof f->snap_parts);
            f->snap_n = f->local_n;
        }
        pthread_mutex_unlock(&f->mu);
        rk->list_destroy(a);
        if (done) {
            f->kafka_ok = 1;
            break;
        }
    }
    rk->close(c);
    rk->destroy(c);
    uv_async_send(&f->done);
    return NULL;
}

static void on_stopped(void *arg)
{
    fx_t *f = arg;
    gn_broker_close(f->broker, NULL, NULL);
    uv_close((uv_handle_t *)&f->done, NULL);
}

static void on_done(uv_async_t *a)
{
    fx_t *f = a->data;
    pthread_join(f->thread, NULL);
    if (f->mem) gn_group_member_leave(f->mem);
    f->mem = NULL;
    gn_kafka_adapter.stop(f->adapter, on_stopped, f);
}

static void join_member(fx_t *f, gn_group_coordinator_t *coord)
{
    const char *topics[] = {"mixed"};
    gn_group_member_opts_t opts = {
        .group_id = "mixg", .topics = topics, .topics_count = 1, .client_id = "mqtt"};
    if (gn_group_member_join(coord, &opts, &cbs, f, &f->mem)) f->failed = 1;
}

static void start_client(fx_t *f)
{
    f->thread_started = true;
    pthread_create(&f->thread, NULL, client_main, f);
}

static void stop_tick(fx_t *f)
{
    uv_timer_stop(&f->tick);
    uv_close((uv_handle_t *)&f->tick, NULL);
    if (f->failed) uv_async_send(&f->done);
}

/* Drives the scenario on the loop: waits for the coordinator, then joins the
 * gateway member and starts the librdkafka thread in the scenario's order, each
 * once the first one owns all 4 partitions. */
static void on_tick(uv_timer_t *t)
{
    fx_t *f = t->data;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(f->broker);
    if (!coord || !gn_group_coordinator_ready(coord)) return;
    pthread_mutex_lock(&f->mu);
    int local_n = f->local_n, local_assigned = f->local_assigned, kafka_n = f->kafka_n;
    pthread_mutex_unlock(&f->mu);
    if (!f->kafka_first) {
        if (!f->mem) join_member(f, coord);
        if (f->failed || (local_assigned == 1 && local_n == 4)) {
            if (!f->failed) start_client(f);
            stop_tick(f);
        }
        return;
    }
    if (!f->thread_started) start_client(f);
    if (kafka_n == 4 && !f->mem) {
        join_member(f, coord);
        stop_tick(f);
    }
}

static void run(int kafka_first)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->kafka_first = kafka_first;
    void *lib = dlopen("librdkafka.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) skip();
    rk_api_t *rk = &f->rk;
    *(void **)&rk->conf_new = dlsym(lib, "rd_kafka_conf_new");
    *(void **)&rk->conf_set = dlsym(lib, "rd_kafka_conf_set");
    *(void **)&rk->new_ = dlsym(lib, "rd_kafka_new");
    *(void **)&rk->list_new = dlsym(lib, "rd_kafka_topic_partition_list_new");
    *(void **)&rk->list_add = dlsym(lib, "rd_kafka_topic_partition_list_add");
    *(void **)&rk->list_destroy = dlsym(lib, "rd_kafka_topic_partition_list_destroy");
    *(void **)&rk->subscribe = dlsym(lib, "rd_kafka_subscribe");
    *(void **)&rk->poll = dlsym(lib, "rd_kafka_consumer_poll");
    *(void **)&rk->msg_destroy = dlsym(lib, "rd_kafka_message_destroy");
    *(void **)&rk->assignment = dlsym(lib, "rd_kafka_assignment");
    *(void **)&rk->close = dlsym(lib, "rd_kafka_consumer_close");
    *(void **)&rk->destroy = dlsym(lib, "rd_kafka_destroy");
    pthread_mutex_init(&f->mu, NULL);
    uv_loop_init(&f->loop);
    f->dir = tu_mkdtemp();
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.flush = GN_FLUSH_OS;
    assert_int_equal(gn_broker_open(&f->loop, &cfg, &f->broker), 0);
    assert_int_equal(tu_create(&f->loop, f->broker, "mixed", 4, NULL, 0), 0);
    gn_listener_config_t lcfg = {.host = "127.0.0.1", .port = PORT, .max_request_bytes = 1 << 20};
    assert_int_equal(gn_kafka_adapter.start(f->broker, &lcfg, &f->adapter), 0);
    assert_non_null(gn_broker_group_coordinator(f->broker)); /* loading starts */
    uv_async_init(&f->loop, &f->done, on_done);
    f->done.data = f;
    uv_timer_init(&f->loop, &f->tick);
    f->tick.data = f;
    uv_timer_start(&f->tick, on_tick, 10, 10);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    assert_int_equal(f->failed, 0);
    assert_int_equal(f->kafka_ok, 1);
    int seen[4] = {0};
    for (int i = 0; i < f->kafka_n; i++)
        seen[f->kafka_parts[i]]++;
    for (int i = 0; i < f->snap_n; i++)
        seen[f->snap_parts[i]]++;
    for (int i = 0; i < 4; i++)
        assert_int_equal(seen[i], 1);
    tu_rm_rf(f->dir);
    free(f->dir);
    pthread_mutex_destroy(&f->mu);
    free(f);
    /* librdkafka stays loaded: its threads' exit handlers live in it (LSan) */
}

/* The gateway member leads: Ganglion computes the range assignment for both. */
static void test_kafka_group__gateway_leader_assigns_to_librdkafka(void **state)
{
    (void)state;
    run(0);
}

/* librdkafka leads: its range assignor gives the gateway member its share. */
static void test_kafka_group__librdkafka_leader_assigns_to_gateway_member(void **state)
{
    (void)state;
    run(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_group__gateway_leader_assigns_to_librdkafka),
        cmocka_unit_test(test_kafka_group__librdkafka_leader_assigns_to_gateway_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
