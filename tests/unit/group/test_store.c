/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator on a real broker: group metadata and committed offsets persist
 * in __consumer_offsets and come back after the broker is closed and reopened; a
 * group mixing a Kafka-like member (join/sync API, the test plays the Kafka leader)
 * and a server-side gateway member splits the partitions, whichever leads; lag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "group/group_int.h"
#include "group/group_test_util.h"

typedef struct fx {
    uv_loop_t loop;
    char *dir;
    gn_broker_t *broker;
    gn_group_coordinator_t *coord;
} fx_t;

#define RUN(flag) assert_int_equal(gt_run_until(&f->loop, &(flag), 5000), 0)

static void on_ready(void *arg, int status)
{
    int *r = arg;
    *r = status == 0 ? 1 : status;
}

static void open_all(fx_t *f)
{
    gn_broker_config_t bc;
    gn_broker_config_defaults(&bc);
    bc.data_dir = f->dir;
    assert_int_equal(gn_broker_open(&f->loop, &bc, &f->broker), 0);
    gn_group_config_t gc;
    gn_group_config_defaults(&gc);
    gc.offsets_topic_partitions = 4;
    gc.group_min_session_timeout_ms = 10;
    gc.group_initial_rebalance_delay_ms = 0;
    int ready = 0;
    assert_int_equal(gn_group_coordinator_new(f->broker, &gc, on_ready, &ready, &f->coord), 0);
    assert_false(gn_group_coordinator_ready(f->coord));
    RUN(ready);
    assert_int_equal(ready, 1);
    assert_true(gn_group_coordinator_ready(f->coord));
}

static void on_closed(void *arg)
{
    *(int *)arg = 1;
}

static void close_all(fx_t *f)
{
    int closed = 0;
    gn_group_coordinator_close(f->coord, on_closed, &closed);
    RUN(closed);
    tu_close(&f->loop, f->broker);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    f->dir = tu_mkdtemp();
    open_all(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    close_all(f);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&f->loop);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return rc ? -1 : 0;
}

typedef struct commit_res {
    int done, status, errors[4];
} commit_res_t;

static void on_commit(void *arg, int status, const gn_group_offset_t *res, size_t count)
{
    commit_res_t *c = arg;
    c->done = 1;
    c->status = status;
    for (size_t i = 0; i < count && i < 4; i++)
        c->errors[i] = res[i].error;
}

typedef struct fetch_res {
    int done, count;
    int64_t offsets[4];
    char meta[4][32];
} fetch_res_t;

static void on_fetch(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    fetch_res_t *r = arg;
    (void)status;
    r->done = 1;
    if (!count) return;
    r->count = (int)groups[0].count;
    for (size_t i = 0; i < groups[0].count && i < 4; i++) {
        r->offsets[i] = groups[0].offsets[i].offset;
        snprintf(r->meta[i], 32, "%s", groups[0].offsets[i].metadata);
    }
}

typedef struct desc_res {
    int done;
    gn_group_state_t state;
    int members;
    int32_t generation;
    char protocol[32];
    char member[256];
    size_t assignment_len;
} desc_res_t;

static void on_describe(void *arg, int status, const gn_group_desc_t *g, size_t count)
{
    desc_res_t *d = arg;
    (void)status;
    d->done = 1;
    if (!count) return;
    d->state = g[0].state;
    d->members = (int)g[0].members_count;
    d->generation = g[0].generation_id;
    snprintf(d->protocol, sizeof(d->protocol), "%s", g[0].protocol_name);
    if (g[0].members_count) {
        snprintf(d->member, sizeof(d->member), "%s", g[0].members[0].member_id);
        d->assignment_len = g[0].members[0].assignment.len;
    }
}

static desc_res_t describe(fx_t *f, const char *group)
{
    desc_res_t d = {0};
    assert_int_equal(gn_group_describe(f->coord, &group, 1, on_describe, &d), 0);
    RUN(d.done);
    return d;
}

static fetch_res_t fetch_all(fx_t *f, const char *group)
{
    gn_group_fetch_group_t q = {group, NULL, 0};
    fetch_res_t r = {0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, &q, 1, on_fetch, &r), 0);
    RUN(r.done);
    return r;
}

static void on_errors(void *arg, int status, const int *errors, size_t count)
{
    (void)status;
    *(int *)arg = count && errors[0] ? errors[0] : 1;
}

static void test_store__restart_keeps_offsets_and_groups(void **state)
{
    fx_t *f = *state;
    /* simple commits */
    gn_group_offset_t o[] = {{"t", 0, 42, 2, "m0", 0}, {"t", 3, 9, -1, NULL, 0}};
    gn_group_commit_req_t req = {"simple", -1, "", NULL, o, 2};
    commit_res_t c = {0};
    assert_int_equal(gn_group_commit(f->coord, &req, on_commit, &c), 0);
    RUN(c.done);
    assert_int_equal(c.errors[0], 0);
    assert_int_equal(c.errors[1], 0);
    /* a consumer group with one member and an assignment */
    gt_client_t a = {.group = "cg", .session_ms = 30000};
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    gn_group_assignment_t asg = {a.member_id, GN_BYTES_STR("ASSIGN")};
    assert_int_equal(gt_sync(f->coord, &a, &asg, 1), 0);
    RUN(a.sync_done);
    assert_int_equal(a.sync_status, 0);
    gn_group_offset_t o2 = {"t", 1, 100, -1, "x", 0};
    gn_group_commit_req_t req2 = {"cg", a.generation, a.member_id, NULL, &o2, 1};
    c = (commit_res_t){0};
    assert_int_equal(gn_group_commit(f->coord, &req2, on_commit, &c), 0);
    RUN(c.done);
    assert_int_equal(c.errors[0], 0);
    /* a group deleted before the restart stays deleted */
    gn_group_commit_req_t req3 = {"gone", -1, "", NULL, o, 1};
    c = (commit_res_t){0};
    assert_int_equal(gn_group_commit(f->coord, &req3, on_commit, &c), 0);
    RUN(c.done);
    const char *gone = "gone";
    int del = 0;
    assert_int_equal(gn_group_delete(f->coord, &gone, 1, on_errors, &del), 0);
    RUN(del);
    assert_int_equal(del, 1);

    close_all(f);
    open_all(f);

    fetch_res_t r = fetch_all(f, "simple");
    assert_int_equal(r.count, 2);
    assert_int_equal(r.offsets[0], 42);
    assert_string_equal(r.meta[0], "m0");
    assert_int_equal(r.offsets[1], 9);
    r = fetch_all(f, "cg");
    assert_int_equal(r.count, 1);
    assert_int_equal(r.offsets[0], 100);
    assert_int_equal(fetch_all(f, "gone").count, 0);
    assert_int_equal(describe(f, "gone").state, GN_GROUP_DEAD);
    desc_res_t d = describe(f, "cg");
    assert_int_equal(d.state, GN_GROUP_STABLE);
    assert_int_equal(d.generation, a.generation);
    assert_int_equal(d.members, 1);
    assert_string_equal(d.member, a.member_id);
    assert_string_equal(d.protocol, "range");
    assert_int_equal(d.assignment_len, 6);
    /* the member carries on in its generation after the restart */
    assert_int_equal(gt_heartbeat(f->coord, &a), 0);
    RUN(a.hb_done);
    assert_int_equal(a.hb_status, 0);
    assert_int_equal(gt_sync(f->coord, &a, NULL, 0), 0);
    RUN(a.sync_done);
    assert_int_equal(a.assignment_len, 6);
}

/* ---- a Kafka-like member and a server-side member in one group ---------------- */

typedef struct local_state {
    int assigned, revoked, failed;
    int32_t parts[16];
    int nparts;
} local_state_t;

static void on_assigned(void *arg, gn_group_member_t *m, int32_t gen,
                        const gn_topic_partition_t *tps, size_t n)
{
    local_state_t *s = arg;
    (void)m;
    (void)gen;
    s->assigned++;
    s->nparts = 0;
    for (size_t i = 0; i < n && i < 16; i++) {
        assert_string_equal(tps[i].topic, "orders");
        s->parts[s->nparts++] = tps[i].partition;
    }
}

static void on_revoked(void *arg, gn_group_member_t *m, const gn_topic_partition_t *tps, size_t n)
{
    local_state_t *s = arg;
    (void)m;
    (void)tps;
    (void)n;
    s->revoked++;
}

static void on_failed(void *arg, gn_group_member_t *m, int status)
{
    local_state_t *s = arg;
    (void)m;
    s->failed = status;
}

static const gn_group_member_callbacks_t local_cbs = {on_assigned, on_revoked, on_failed};

static int32_t orders_parts(void *arg, const char *topic)
{
    (void)arg;
    return strcmp(topic, "orders") == 0 ? 4 : -1;
}

/* The test as a Kafka leader: decode the subscriptions, run range, sync. */
static void kafka_leader_sync(fx_t *f, gt_client_t *a)
{
    gn__subscription_t subs[8];
    gn__assign_member_t am[8];
    gn__wr_t w[8];
    gn_group_assignment_t asg[8];
    memset(am, 0, sizeof(am));
    memset(w, 0, sizeof(w));
    for (int i = 0; i < a->members; i++) {
        assert_int_equal(gn__subscription_decode(a->member_meta[i], &subs[i]), 0);
        am[i].member_id = a->member_ids[i];
        am[i].topics = (const char *const *)subs[i].topics;
        am[i].topics_count = subs[i].topics_count;
    }
    assert_int_equal(gn__assign_range(am, (size_t)a->members, orders_parts, NULL), 0);
    for (int i = 0; i < a->members; i++) {
        gn__assignment_encode(&w[i], 0, am[i].out.topics, am[i].out.topics_count, GN_BYTES_NULL);
        asg[i] = (gn_group_assignment_t){a->member_ids[i], {w[i].buf, w[i].len}};
    }
    assert_int_equal(gt_sync(f->coord, a, asg, (size_t)a->members), 0);
    RUN(a->sync_done);
    assert_int_equal(a->sync_status, 0);
    for (int i = 0; i < a->members; i++) {
        gn__wr_free(&w[i]);
        gn__assignment_free(&am[i].out);
        gn__subscription_free(&subs[i]);
    }
}

static int decode_parts(gt_client_t *a, int32_t *out)
{
    gn__assignment_t asg;
    assert_int_equal(gn__assignment_decode((gn_bytes_t){a->assignment, a->assignment_len}, &asg),
                     0);
    int n = 0;
    for (size_t t = 0; t < asg.topics_count; t++)
        for (size_t p = 0; p < asg.topics[t].count; p++)
            out[n++] = asg.topics[t].partitions[p];
    gn__assignment_free(&asg);
    return n;
}

static void assert_split(const int32_t *x, int nx, const int32_t *y, int ny)
{
    int seen[4] = {0};
    assert_int_equal(nx, 2);
    assert_int_equal(ny, 2);
    for (int i = 0; i < nx; i++)
        seen[x[i]]++;
    for (int i = 0; i < ny; i++)
        seen[y[i]]++;
    for (int i = 0; i < 4; i++)
        assert_int_equal(seen[i], 1);
}

static gn_bytes_t orders_subscription(gn__wr_t *w)
{
    const char *topics[] = {"orders"};
    gn__subscription_encode(w, 0, topics, 1, GN_BYTES_NULL);
    return (gn_bytes_t){w->buf, w->len};
}

static void test_store__kafka_leader_assigns_to_gateway_member(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tu_create(&f->loop, f->broker, "orders", 4, NULL, 0), 0);
    gn__wr_t w = {0};
    gt_client_t a = {.group = "mix", .metadata = orders_subscription(&w)};
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    kafka_leader_sync(f, &a);
    /* a gateway session joins the same group */
    local_state_t s = {0};
    const char *topics[] = {"orders"};
    gn_group_member_opts_t opts = {
        .group_id = "mix", .topics = topics, .topics_count = 1, .client_id = "mqtt"};
    gn_group_member_t *mem = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &local_cbs, &s, &mem), 0);
    assert_int_equal(gt_heartbeat(f->coord, &a), 0);
    RUN(a.hb_done);
    assert_int_equal(a.hb_status, GN_EREBALANCE_IN_PROGRESS);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, 0);
    assert_string_equal(a.leader, a.member_id);
    assert_int_equal(a.members, 2);
    kafka_leader_sync(f, &a);
    RUN(s.assigned);
    int32_t mine[16];
    int n = decode_parts(&a, mine);
    assert_split(mine, n, s.parts, s.nparts);
    assert_int_equal(gn_group_member_generation(mem), a.generation);
    assert_string_not_equal(gn_group_member_id(mem), "");
    assert_int_equal(s.failed, 0);
    gn_group_member_leave(mem);
    gn__wr_free(&w);
}

typedef struct lag_rows {
    int n;
    gn_group_lag_t rows[8];
    char member[8][128];
} lag_rows_t;

static void on_lag(void *arg, const gn_group_lag_t *row)
{
    lag_rows_t *l = arg;
    if (l->n >= 8) return;
    l->rows[l->n] = *row;
    snprintf(l->member[l->n], 128, "%s", row->member_id ? row->member_id : "");
    l->n++;
}

static void test_store__gateway_member_leads_and_assigns_to_kafka_member(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tu_create(&f->loop, f->broker, "orders", 4, NULL, 0), 0);
    local_state_t s = {0};
    const char *topics[] = {"orders"};
    gn_group_member_opts_t opts = {
        .group_id = "mix2", .topics = topics, .topics_count = 1, .client_id = "ws"};
    gn_group_member_t *mem = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &local_cbs, &s, &mem), 0);
    RUN(s.assigned);
    assert_int_equal(s.nparts, 4); /* alone: everything */
    gn__wr_t w = {0};
    gt_client_t a = {.group = "mix2", .metadata = orders_subscription(&w)};
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, 0);
    assert_string_equal(a.leader, gn_group_member_id(mem)); /* the gateway leads */
    assert_int_equal(a.members, 0);
    assert_int_equal(s.revoked, 1);
    assert_int_equal(gt_sync(f->coord, &a, NULL, 0), 0);
    RUN(a.sync_done);
    assert_int_equal(a.sync_status, 0);
    int target = 2;
    for (int i = 0; i < 500 && s.assigned < target; i++)
        gt_run_for(&f->loop, 1);
    assert_int_equal(s.assigned, 2);
    int32_t mine[16];
    int n = decode_parts(&a, mine);
    assert_split(mine, n, s.parts, s.nparts);

    /* lag: 10 records in the gateway member's first partition, 4 committed */
    gn_partition_t *part = gn_partition_get(f->broker, "orders", s.parts[0]);
    assert_non_null(part);
    tu_produce_t pr;
    assert_int_equal(tu_produce(&f->loop, part, 10, GN_ACKS_ALL, &pr), 0);
    gn_group_offset_t o = {"orders", s.parts[0], 4, -1, NULL, 0};
    commit_res_t c = {0};
    assert_int_equal(gn_group_member_commit(mem, &o, 1, on_commit, &c), 0);
    RUN(c.done);
    assert_int_equal(c.errors[0], 0);
    lag_rows_t l = {0};
    assert_int_equal(gn_group_lag(f->coord, "mix2", on_lag, &l), 4);
    int found = 0;
    for (int i = 0; i < l.n; i++) {
        if (l.rows[i].partition != s.parts[0]) {
            assert_int_equal(l.rows[i].committed, -1);
            assert_int_equal(l.rows[i].lag, -1);
            continue;
        }
        found = 1;
        assert_int_equal(l.rows[i].committed, 4);
        assert_int_equal(l.rows[i].high_watermark, 10);
        assert_int_equal(l.rows[i].lag, 6);
        assert_string_equal(l.member[i], gn_group_member_id(mem));
    }
    assert_true(found);
    assert_int_equal(gn_group_lag(f->coord, "no-such-group", on_lag, &l), GN_EGROUP_ID_NOT_FOUND);
    /* the gateway member leaves: the Kafka member is told to rebalance */
    gn_group_member_leave(mem);
    assert_int_equal(gt_heartbeat(f->coord, &a), 0);
    RUN(a.hb_done);
    assert_int_equal(a.hb_status, GN_EREBALANCE_IN_PROGRESS);
    gn__wr_free(&w);
}

/* A REST consumer instance (a static gateway member) survives a broker restart: it
 * comes back under its instance id, in the same generation, with its partitions. */
static void test_store__static_gateway_member_survives_restart(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tu_create(&f->loop, f->broker, "orders", 4, NULL, 0), 0);
    local_state_t s = {0};
    const char *topics[] = {"orders"};
    gn_group_member_opts_t opts = {.group_id = "rest",
                                   .topics = topics,
                                   .topics_count = 1,
                                   .client_id = "rest",
                                   .instance_id = "instance-7"};
    gn_group_member_t *mem = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &local_cbs, &s, &mem), 0);
    RUN(s.assigned);
    assert_int_equal(s.nparts, 4);
    int32_t gen = gn_group_member_generation(mem);
    /* the process goes away without leaving (a static member keeps its place) */
    close_all(f);
    open_all(f);
    desc_res_t d = describe(f, "rest");
    assert_int_equal(d.state, GN_GROUP_STABLE);
    assert_int_equal(d.members, 1);
    local_state_t s2 = {0};
    gn_group_member_t *mem2 = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &local_cbs, &s2, &mem2), 0);
    RUN(s2.assigned);
    assert_int_equal(s2.nparts, 4);
    assert_int_equal(gn_group_member_generation(mem2), gen); /* no rebalance */
    assert_int_equal(s2.failed, 0);
    /* a second session with the same instance id fences the first */
    local_state_t s3 = {0};
    gn_group_member_t *mem3 = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &local_cbs, &s3, &mem3), 0);
    RUN(s3.assigned);
    for (int i = 0; i < 100 && !s2.failed; i++)
        gt_run_for(&f->loop, 1);
    assert_int_equal(s2.failed, GN_EFENCED_INSTANCE);
    assert_int_equal(describe(f, "rest").members, 1);
    gn_group_member_leave(mem2);
    gn_group_member_leave(mem3);
}

static void on_ready_flag(void *arg, int status)
{
    (void)status;
    *(int *)arg = 1;
}

static void test_store__broker_owns_its_coordinator(void **state)
{
    fx_t *f = *state;
    /* a second broker, whose coordinator is made on first use and closed with it */
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *dir = tu_mkdtemp();
    gn_broker_config_t bc;
    gn_broker_config_defaults(&bc);
    bc.data_dir = dir;
    gn_broker_t *broker;
    assert_int_equal(gn_broker_open(&loop, &bc, &broker), 0);
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(broker);
    assert_non_null(coord);
    assert_ptr_equal(gn_broker_group_coordinator(broker), coord);
    coord->ready_cb = on_ready_flag;
    int ready = 0;
    coord->ready_arg = &ready;
    assert_int_equal(gt_run_until(&loop, &ready, 5000), 0);
    assert_true(gn_group_coordinator_ready(coord));
    gn_topic_info_t info;
    assert_int_equal(gn_topic_describe(broker, GN_GROUP_OFFSETS_TOPIC, &info), 0);
    assert_int_equal(info.partitions, 50);
    gn_group_offset_t o = {"t", 0, 1, -1, NULL, 0};
    gn_group_commit_req_t req = {"g", -1, "", NULL, &o, 1};
    commit_res_t c = {0};
    assert_int_equal(gn_group_commit(coord, &req, on_commit, &c), 0);
    tu_close(&loop, broker); /* closes the coordinator too */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(c.done, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    tu_rm_rf(dir);
    free(dir);
    (void)f;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store__restart_keeps_offsets_and_groups, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store__kafka_leader_assigns_to_gateway_member, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_store__gateway_member_leads_and_assigns_to_kafka_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__broker_owns_its_coordinator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__static_gateway_member_survives_restart, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
