/* SPDX-License-Identifier: Apache-2.0 */
/* The group state machine on a real libuv loop with short timeouts and the
 * in-memory store: join/sync/heartbeat/leave, MEMBER_ID_REQUIRED, static members
 * replacing each other, fencing, stale generations, unknown members, session expiry
 * and rebalance timeouts, group.max.size, offset commit/fetch/delete, list,
 * describe, delete. Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "group/group_int.h"
#include "group/group_test_util.h"

typedef gt_fx_t fx_t;

static gn_group_config_t test_cfg(void)
{
    gn_group_config_t cfg;
    gn_group_config_defaults(&cfg);
    cfg.group_min_session_timeout_ms = 10;
    cfg.group_initial_rebalance_delay_ms = 0;
    return cfg;
}

static int setup_cfg(void **state, const gn_group_config_t *cfg)
{
    fx_t *f = calloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    if (gn__group_coordinator_new_mem(&f->loop, cfg, &f->coord)) return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    gn_group_config_t cfg = test_cfg();
    return setup_cfg(state, &cfg);
}

#define RUN(flag) assert_int_equal(gt_run_until(&f->loop, &(flag), 3000), 0)

/* Joins c alone into an empty group and syncs with an empty assignment. */
static void join_alone(fx_t *f, gt_client_t *c)
{
    assert_int_equal(gt_join(f->coord, c, false), 0);
    assert_int_equal(c->join_done, 0); /* never before the call returns */
    RUN(c->join_done);
    assert_int_equal(c->join_status, 0);
    assert_int_equal(gt_sync(f->coord, c, NULL, 0), 0);
    RUN(c->sync_done);
    assert_int_equal(c->sync_status, 0);
}

static void test_group__single_member_join_sync_heartbeat(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g1"};
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    assert_int_equal(a.join_done, 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, 0);
    assert_int_equal(a.generation, 1);
    assert_string_equal(a.leader, a.member_id);
    assert_string_equal(a.protocol_name, "range");
    assert_int_equal(a.members, 1);
    assert_non_null(strstr(a.member_id, "test-")); /* clientId-UUID as Kafka */
    gn_group_assignment_t asg = {a.member_id, GN_BYTES_STR("A")};
    assert_int_equal(gt_sync(f->coord, &a, &asg, 1), 0);
    assert_int_equal(a.sync_done, 0);
    RUN(a.sync_done);
    assert_int_equal(a.sync_status, 0);
    assert_int_equal(a.assignment_len, 1);
    assert_int_equal(a.assignment[0], 'A');
    assert_int_equal(gt_heartbeat(f->coord, &a), 0);
    assert_int_equal(a.hb_done, 0);
    RUN(a.hb_done);
    assert_int_equal(a.hb_status, 0);
}

static void test_group__member_id_required_then_rejoin(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g"};
    assert_int_equal(gt_join(f->coord, &a, true), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, GN_EMEMBER_ID_REQUIRED);
    assert_true(strlen(a.member_id) > 0);
    assert_int_equal(gt_join(f->coord, &a, true), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, 0);
    assert_int_equal(a.generation, 1);
    assert_string_equal(a.leader, a.member_id);
}

static void test_group__second_member_triggers_rebalance(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g"}, b = {.group = "g"};
    join_alone(f, &a);
    assert_int_equal(gt_join(f->coord, &b, false), 0);
    gt_run_for(&f->loop, 5);
    assert_int_equal(b.join_done, 0); /* waits for a to rejoin */
    assert_int_equal(gt_heartbeat(f->coord, &a), 0);
    RUN(a.hb_done);
    assert_int_equal(a.hb_status, GN_EREBALANCE_IN_PROGRESS);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    RUN(b.join_done);
    assert_int_equal(a.join_status, 0);
    assert_int_equal(b.join_status, 0);
    assert_int_equal(a.generation, 2);
    assert_int_equal(b.generation, 2);
    assert_string_equal(a.leader, a.member_id); /* the leader stays */
    assert_int_equal(a.members, 2);
    assert_int_equal(b.members, 0);
    /* b syncs first: it waits for the leader */
    assert_int_equal(gt_sync(f->coord, &b, NULL, 0), 0);
    gt_run_for(&f->loop, 5);
    assert_int_equal(b.sync_done, 0);
    gn_group_assignment_t asg[] = {{a.member_id, GN_BYTES_STR("AA")},
                                   {b.member_id, GN_BYTES_STR("BBB")}};
    assert_int_equal(gt_sync(f->coord, &a, asg, 2), 0);
    RUN(a.sync_done);
    RUN(b.sync_done);
    assert_int_equal(a.assignment_len, 2);
    assert_int_equal(b.assignment_len, 3);
    assert_memory_equal(b.assignment, "BBB", 3);
    /* stale generation and unknown member */
    gt_client_t stale = b;
    stale.generation = 1;
    assert_int_equal(gt_heartbeat(f->coord, &stale), 0);
    RUN(stale.hb_done);
    assert_int_equal(stale.hb_status, GN_EILLEGAL_GENERATION);
    assert_int_equal(gt_sync(f->coord, &stale, NULL, 0), 0);
    RUN(stale.sync_done);
    assert_int_equal(stale.sync_status, GN_EILLEGAL_GENERATION);
    gt_client_t ghost = {.group = "g", .generation = 2};
    strcpy(ghost.member_id, "ghost");
    assert_int_equal(gt_heartbeat(f->coord, &ghost), 0);
    RUN(ghost.hb_done);
    assert_int_equal(ghost.hb_status, GN_EUNKNOWN_MEMBER);
    assert_int_equal(gt_join(f->coord, &ghost, false), 0);
    RUN(ghost.join_done);
    assert_int_equal(ghost.join_status, GN_EUNKNOWN_MEMBER);
}

typedef struct desc_res {
    int done, status;
    gn_group_state_t state;
    int members;
    int32_t generation;
    char protocol[32];
    size_t assignment_len[4];
} desc_res_t;

static void on_describe(void *arg, int status, const gn_group_desc_t *groups, size_t count)
{
    desc_res_t *d = arg;
    d->done = 1;
    d->status = status;
    if (count < 1) return;
    d->state = groups[0].state;
    d->members = (int)groups[0].members_count;
    d->generation = groups[0].generation_id;
    snprintf(d->protocol, sizeof(d->protocol), "%s", groups[0].protocol_name);
    for (size_t i = 0; i < groups[0].members_count && i < 4; i++)
        d->assignment_len[i] = groups[0].members[i].assignment.len;
}

static desc_res_t describe(fx_t *f, const char *group)
{
    desc_res_t d = {0};
    assert_int_equal(gn_group_describe(f->coord, &group, 1, on_describe, &d), 0);
    RUN(d.done);
    return d;
}

/* A store whose appends complete only when the test says so. */
typedef struct held {
    gn__store_cb cb;
    void *arg;
} held_t;
static held_t held[16];
static size_t held_n;

static int held_append(gn_group_coordinator_t *coord, const char *group_id, const gn_bytes_t *keys,
                       const gn_bytes_t *values, size_t count, gn__store_cb cb, void *arg)
{
    (void)coord, (void)group_id, (void)keys, (void)values, (void)count;
    if (held_n == 16) return GN_ENOMEM;
    held[held_n++] = (held_t){cb, arg};
    return 0;
}

static int32_t held_partitions(gn_group_coordinator_t *coord, const char *topic)
{
    (void)coord, (void)topic;
    return -1;
}

static const gn__store_ops_t held_ops = {held_append, held_partitions};

static void held_release(void)
{
    size_t n = held_n;
    held_n = 0;
    for (size_t i = 0; i < n; i++)
        held[i].cb(held[i].arg, 0);
}

/* The leader's assignment is still being stored when a new member starts a rebalance:
 * the next generation's leader SyncGroup is stored and answered (it was ignored while the
 * aborted generation's store was in flight, and the group hung until the sync deadline). */
static void test_group__rebalance_during_assignment_store(void **state)
{
    fx_t *f = *state;
    held_n = 0;
    f->coord->store = &held_ops;
    gt_client_t a = {.group = "g"}, b = {.group = "g"};
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    gn_group_assignment_t one = {a.member_id, GN_BYTES_STR("A")};
    assert_int_equal(gt_sync(f->coord, &a, &one, 1), 0); /* its store is held */
    gt_run_for(&f->loop, 5);
    assert_int_equal(a.sync_done, 0);
    assert_int_equal(gt_join(f->coord, &b, false), 0); /* rebalance: a's sync is void */
    RUN(a.sync_done);
    assert_int_equal(a.sync_status, GN_EREBALANCE_IN_PROGRESS);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    RUN(b.join_done);
    assert_int_equal(a.generation, 2);
    assert_string_equal(a.leader, a.member_id);
    gn_group_assignment_t two[] = {{a.member_id, GN_BYTES_STR("AA")},
                                   {b.member_id, GN_BYTES_STR("BB")}};
    assert_int_equal(gt_sync(f->coord, &b, NULL, 0), 0);
    assert_int_equal(gt_sync(f->coord, &a, two, 2), 0);
    gt_run_for(&f->loop, 5);
    held_release(); /* generation 1's store (ignored) and generation 2's */
    RUN(a.sync_done);
    RUN(b.sync_done);
    assert_int_equal(a.sync_status, 0);
    assert_int_equal(b.sync_status, 0);
    assert_int_equal(b.assignment_len, 2);
    assert_memory_equal(b.assignment, "BB", 2);
    held_release();
}

static void test_group__session_timeout_expiry_triggers_rebalance(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g", .session_ms = 60}, b = {.group = "g", .session_ms = 60};
    join_alone(f, &a);
    assert_int_equal(gt_join(f->coord, &b, false), 0);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    RUN(b.join_done);
    gn_group_assignment_t asg[] = {{a.member_id, GN_BYTES_STR("A")},
                                   {b.member_id, GN_BYTES_STR("B")}};
    assert_int_equal(gt_sync(f->coord, &a, asg, 2), 0);
    assert_int_equal(gt_sync(f->coord, &b, NULL, 0), 0);
    RUN(a.sync_done);
    RUN(b.sync_done);
    assert_int_equal(describe(f, "g").state, GN_GROUP_STABLE);
    /* a keeps heartbeating, b goes silent: b expires after 60 ms */
    int rebalancing = 0;
    for (int i = 0; i < 100 && !rebalancing; i++) {
        assert_int_equal(gt_heartbeat(f->coord, &a), 0);
        RUN(a.hb_done);
        if (a.hb_status == GN_EREBALANCE_IN_PROGRESS)
            rebalancing = 1;
        else
            assert_int_equal(a.hb_status, 0);
        gt_run_for(&f->loop, 15);
    }
    assert_true(rebalancing);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    assert_int_equal(a.generation, 3);
    assert_int_equal(a.members, 1);
    assert_int_equal(gt_heartbeat(f->coord, &b), 0);
    RUN(b.hb_done);
    assert_int_equal(b.hb_status, GN_EUNKNOWN_MEMBER);
}

static void test_group__rebalance_timeout_removes_members_not_rejoined(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g", .rebalance_ms = 80}, b = {.group = "g", .rebalance_ms = 80},
                c = {.group = "g", .rebalance_ms = 80};
    join_alone(f, &a);
    assert_int_equal(gt_join(f->coord, &b, false), 0);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(b.join_done);
    gn_group_assignment_t asg[] = {{a.member_id, GN_BYTES_STR("A")}};
    assert_int_equal(gt_sync(f->coord, &a, asg, 1), 0);
    assert_int_equal(gt_sync(f->coord, &b, NULL, 0), 0);
    RUN(b.sync_done);
    /* c joins; only a rejoins; b is dropped when the 80 ms rebalance timeout ends */
    assert_int_equal(gt_join(f->coord, &c, false), 0);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    uint64_t t0 = uv_hrtime();
    RUN(a.join_done);
    RUN(c.join_done);
    assert_true((uv_hrtime() - t0) / 1000000 >= 60);
    assert_int_equal(a.generation, 3);
    assert_int_equal(a.members, 2);
}

static void test_group__static_member_replaced_without_rebalance(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g", .instance_id = "inst-1"};
    join_alone(f, &a);
    gn_group_assignment_t asg = {a.member_id, GN_BYTES_STR("OWN")};
    assert_int_equal(gt_join(f->coord, &a, false), 0); /* leader rejoin: rebalance */
    RUN(a.join_done);
    assert_int_equal(gt_sync(f->coord, &a, &asg, 1), 0);
    RUN(a.sync_done);
    int32_t gen = a.generation;
    /* a new process with the same group.instance.id and no member id */
    gt_client_t a2 = {.group = "g", .instance_id = "inst-1"};
    assert_int_equal(gt_join(f->coord, &a2, true), 0);
    RUN(a2.join_done);
    assert_int_equal(a2.join_status, 0);
    assert_int_equal(a2.generation, gen); /* no new generation */
    assert_string_not_equal(a2.member_id, a.member_id);
    assert_true(a2.skip_assignment); /* it led: keep the assignment */
    assert_int_equal(gt_sync(f->coord, &a2, NULL, 0), 0);
    RUN(a2.sync_done);
    assert_int_equal(a2.sync_status, 0);
    assert_int_equal(a2.assignment_len, 3); /* the old instance's assignment */
    /* the old instance is fenced */
    assert_int_equal(gt_heartbeat(f->coord, &a), 0);
    RUN(a.hb_done);
    assert_int_equal(a.hb_status, GN_EFENCED_INSTANCE);
    assert_int_equal(describe(f, "g").members, 1);
}

static void test_group__max_size(void **state)
{
    fx_t *f = *state;
    gn_group_coordinator_close(f->coord, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    gn_group_config_t cfg = test_cfg();
    cfg.group_max_size = 1;
    assert_int_equal(gn__group_coordinator_new_mem(&f->loop, &cfg, &f->coord), 0);
    gt_client_t a = {.group = "g"}, b = {.group = "g"};
    join_alone(f, &a);
    assert_int_equal(gt_join(f->coord, &b, false), 0);
    RUN(b.join_done);
    assert_int_equal(b.join_status, GN_EGROUP_MAX_SIZE);
}

static void test_group__invalid_requests(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g", .session_ms = 5}; /* below the minimum 10 */
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, GN_EINVALID_SESSION_TIMEOUT);
    gt_client_t e = {.group = ""};
    assert_int_equal(gt_join(f->coord, &e, false), 0);
    RUN(e.join_done);
    assert_int_equal(e.join_status, GN_EINVALID_GROUP_ID);
    gt_client_t b = {.group = "g"};
    join_alone(f, &b);
    gt_client_t c = {.group = "g", .protocol = "roundrobin"}; /* nothing in common */
    assert_int_equal(gt_join(f->coord, &c, false), 0);
    RUN(c.join_done);
    assert_int_equal(c.join_status, GN_EINCONSISTENT_PROTOCOL);
}

typedef struct leave_res {
    int done, status, errors[4];
} leave_res_t;

static void on_leave(void *arg, int status, const int *errors, size_t count)
{
    leave_res_t *l = arg;
    l->done = 1;
    l->status = status;
    for (size_t i = 0; i < count && i < 4; i++)
        l->errors[i] = errors[i];
}

typedef struct list_res {
    int done, count;
    char first[64];
    gn_group_state_t state;
} list_res_t;

static void on_list(void *arg, int status, const gn_group_listing_t *groups, size_t count)
{
    list_res_t *l = arg;
    (void)status;
    l->done = 1;
    l->count = (int)count;
    if (count) {
        snprintf(l->first, sizeof(l->first), "%s", groups[0].group_id);
        l->state = groups[0].state;
    }
}

static void test_group__batched_leave_empties_group(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g"}, b = {.group = "g"};
    join_alone(f, &a);
    assert_int_equal(gt_join(f->coord, &b, false), 0);
    assert_int_equal(gt_join(f->coord, &a, false), 0);
    RUN(b.join_done);
    gn_group_member_ref_t refs[] = {{a.member_id, NULL}, {b.member_id, NULL}, {"nobody", NULL}};
    leave_res_t l = {0};
    assert_int_equal(gn_group_leave(f->coord, "g", refs, 3, on_leave, &l), 0);
    assert_int_equal(l.done, 0);
    RUN(l.done);
    assert_int_equal(l.status, 0);
    assert_int_equal(l.errors[0], 0);
    assert_int_equal(l.errors[1], 0);
    assert_int_equal(l.errors[2], GN_EUNKNOWN_MEMBER);
    gt_run_for(&f->loop, 5);
    desc_res_t d = describe(f, "g");
    assert_int_equal(d.state, GN_GROUP_EMPTY);
    assert_int_equal(d.members, 0);
    assert_int_equal(d.generation, 3); /* the empty generation is a generation too */
    gn_group_state_t st = GN_GROUP_EMPTY;
    list_res_t lr = {0};
    assert_int_equal(gn_group_list(f->coord, &st, 1, on_list, &lr), 0);
    RUN(lr.done);
    assert_int_equal(lr.count, 1);
    assert_string_equal(lr.first, "g");
    st = GN_GROUP_STABLE;
    lr.done = 0;
    assert_int_equal(gn_group_list(f->coord, &st, 1, on_list, &lr), 0);
    RUN(lr.done);
    assert_int_equal(lr.count, 0);
    /* an unknown group describes as Dead */
    assert_int_equal(describe(f, "nope").state, GN_GROUP_DEAD);
}

typedef struct commit_res {
    int done, status;
    int errors[4];
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
    int done, status;
    int count;
    int64_t offsets[4];
    char meta[4][32];
} fetch_res_t;

static void on_fetch(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    fetch_res_t *r = arg;
    r->done = 1;
    r->status = status;
    if (!count) return;
    r->count = (int)groups[0].count;
    for (size_t i = 0; i < groups[0].count && i < 4; i++) {
        r->offsets[i] = groups[0].offsets[i].offset;
        snprintf(r->meta[i], sizeof(r->meta[i]), "%s",
                 groups[0].offsets[i].metadata ? groups[0].offsets[i].metadata : "(null)");
    }
}

static commit_res_t commit(fx_t *f, const char *group, int32_t gen, const char *member,
                           const gn_group_offset_t *o, size_t n)
{
    commit_res_t c = {0};
    gn_group_commit_req_t req = {group, gen, member, NULL, o, n};
    assert_int_equal(gn_group_commit(f->coord, &req, on_commit, &c), 0);
    assert_int_equal(c.done, 0);
    RUN(c.done);
    return c;
}

static void test_group__commit_and_fetch_offsets(void **state)
{
    fx_t *f = *state;
    /* a simple commit (generation -1) to a group without members */
    gn_group_offset_t o[] = {{"t", 0, 42, -1, "meta", 0}, {"t", 1, 7, 3, NULL, 0}};
    commit_res_t c = commit(f, "simple", -1, "", o, 2);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.errors[0], 0);
    int32_t parts[] = {0, 1, 2};
    gn_group_topic_partitions_t tps = {"t", parts, 3};
    gn_group_fetch_group_t q[] = {{"simple", &tps, 1}, {"absent", NULL, 0}};
    fetch_res_t r = {0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, q, 2, on_fetch, &r), 0);
    RUN(r.done);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.offsets[0], 42);
    assert_string_equal(r.meta[0], "meta");
    assert_int_equal(r.offsets[1], 7);
    assert_int_equal(r.offsets[2], -1); /* never committed */
    /* every offset of the group (topics NULL) */
    gn_group_fetch_group_t all = {"simple", NULL, 0};
    r = (fetch_res_t){0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, &all, 1, on_fetch, &r), 0);
    RUN(r.done);
    assert_int_equal(r.count, 2);

    /* a group with members: member and generation are checked */
    gt_client_t a = {.group = "g"};
    join_alone(f, &a);
    assert_int_equal(commit(f, "g", -1, "", o, 1).status, GN_EUNKNOWN_MEMBER);
    assert_int_equal(commit(f, "g", a.generation + 1, a.member_id, o, 1).status,
                     GN_EILLEGAL_GENERATION);
    assert_int_equal(commit(f, "g", a.generation, "intruder", o, 1).status, GN_EUNKNOWN_MEMBER);
    assert_int_equal(commit(f, "unknown", 3, "x", o, 1).status, GN_EILLEGAL_GENERATION);
    c = commit(f, "g", a.generation, a.member_id, o, 2);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.errors[1], 0);
    /* offset.metadata.max.bytes */
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    gn_group_offset_t ob = {"t", 0, 1, -1, big, 0};
    c = commit(f, "g", a.generation, a.member_id, &ob, 1);
    assert_int_equal(c.errors[0], GN_EOFFSET_METADATA_TOO_LARGE);
}

typedef struct errors_res {
    int done, status, errors[4];
} errors_res_t;

static void on_errors(void *arg, int status, const int *errors, size_t count)
{
    errors_res_t *e = arg;
    e->done = 1;
    e->status = status;
    for (size_t i = 0; i < count && i < 4; i++)
        e->errors[i] = errors[i];
}

static void test_group__delete_groups_and_offsets(void **state)
{
    fx_t *f = *state;
    gn_group_offset_t o[] = {{"t", 0, 5, -1, NULL, 0}, {"u", 0, 6, -1, NULL, 0}};
    assert_int_equal(commit(f, "empty", -1, "", o, 2).status, 0);
    gt_client_t a = {.group = "busy"};
    join_alone(f, &a);
    /* OffsetDelete on a group without members */
    commit_res_t od = {0};
    assert_int_equal(gn_group_offset_delete(f->coord, "empty", o, 1, on_commit, &od), 0);
    RUN(od.done);
    assert_int_equal(od.status, 0);
    assert_int_equal(od.errors[0], 0);
    gn_group_fetch_group_t all = {"empty", NULL, 0};
    fetch_res_t r = {0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, &all, 1, on_fetch, &r), 0);
    RUN(r.done);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.offsets[0], 6);
    od = (commit_res_t){0};
    assert_int_equal(gn_group_offset_delete(f->coord, "nope", o, 1, on_commit, &od), 0);
    RUN(od.done);
    assert_int_equal(od.errors[0], GN_EGROUP_ID_NOT_FOUND);

    const char *ids[] = {"empty", "busy", "nope"};
    errors_res_t e = {0};
    assert_int_equal(gn_group_delete(f->coord, ids, 3, on_errors, &e), 0);
    assert_int_equal(e.done, 0);
    RUN(e.done);
    assert_int_equal(e.errors[0], 0);
    assert_int_equal(e.errors[1], GN_EGROUP_NOT_EMPTY);
    assert_int_equal(e.errors[2], GN_EGROUP_ID_NOT_FOUND);
    assert_int_equal(describe(f, "empty").state, GN_GROUP_DEAD);
    r = (fetch_res_t){0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, &all, 1, on_fetch, &r), 0);
    RUN(r.done);
    assert_int_equal(r.count, 0);
}

static void test_group__close_fails_pending_requests(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g"}, b = {.group = "g"};
    join_alone(f, &a);
    assert_int_equal(gt_join(f->coord, &b, false), 0); /* waits for a: pending at close */
    gt_run_for(&f->loop, 2);
    int closed = 0;
    gn_group_coordinator_close(f->coord, gt_on_closed, &closed);
    RUN(closed);
    assert_int_equal(b.join_done, 1);
    assert_int_equal(b.join_status, GN_ESHUTDOWN);
    gn_group_config_t cfg = test_cfg();
    assert_int_equal(gn__group_coordinator_new_mem(&f->loop, &cfg, &f->coord), 0);
}

static void test_group__pending_member_id_expires(void **state)
{
    fx_t *f = *state;
    gt_client_t a = {.group = "g", .session_ms = 30};
    assert_int_equal(gt_join(f->coord, &a, true), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, GN_EMEMBER_ID_REQUIRED);
    gt_run_for(&f->loop, 80); /* longer than the session timeout */
    assert_int_equal(gt_join(f->coord, &a, true), 0);
    RUN(a.join_done);
    assert_int_equal(a.join_status, GN_EUNKNOWN_MEMBER);
}

static void test_group__offsets_retention_expires_empty_groups(void **state)
{
    fx_t *f = *state;
    gn_group_coordinator_close(f->coord, NULL, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    gn_group_config_t cfg = test_cfg();
    cfg.offsets_retention_ms = 40;
    cfg.offsets_retention_check_ms = 10;
    assert_int_equal(gn__group_coordinator_new_mem(&f->loop, &cfg, &f->coord), 0);
    gn_group_offset_t o = {"t", 0, 1, -1, NULL, 0};
    assert_int_equal(commit(f, "old", -1, "", &o, 1).status, 0);
    gt_client_t a = {.group = "live"};
    join_alone(f, &a);
    assert_int_equal(commit(f, "live", a.generation, a.member_id, &o, 1).status, 0);
    for (int i = 0; i < 8; i++) { /* keep a alive past the retention */
        assert_int_equal(gt_heartbeat(f->coord, &a), 0);
        RUN(a.hb_done);
        gt_run_for(&f->loop, 15);
    }
    gn_group_fetch_group_t q[] = {{"old", NULL, 0}, {"live", NULL, 0}};
    fetch_res_t r = {0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, &q[0], 1, on_fetch, &r), 0);
    RUN(r.done);
    assert_int_equal(r.count, 0); /* expired, and the group with it */
    assert_int_equal(describe(f, "old").state, GN_GROUP_DEAD);
    r = (fetch_res_t){0};
    assert_int_equal(gn_group_fetch_offsets(f->coord, &q[1], 1, on_fetch, &r), 0);
    RUN(r.done);
    assert_int_equal(r.count, 1); /* a group with members keeps its offsets */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group__single_member_join_sync_heartbeat, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__member_id_required_then_rejoin, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__second_member_triggers_rebalance, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__session_timeout_expiry_triggers_rebalance,
                                        setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__rebalance_timeout_removes_members_not_rejoined,
                                        setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__static_member_replaced_without_rebalance, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__max_size, setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__invalid_requests, setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__batched_leave_empties_group, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__commit_and_fetch_offsets, setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__delete_groups_and_offsets, setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__close_fails_pending_requests, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__pending_member_id_expires, setup, gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__rebalance_during_assignment_store, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_group__offsets_retention_expires_empty_groups, setup,
                                        gt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
