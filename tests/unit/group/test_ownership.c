/* SPDX-License-Identifier: Apache-2.0 */
/* Which groups a broker coordinates (core/group/ownership.c), on a real libuv loop with
 * the in-memory store and the partition states set by hand (the metadata image is
 * tests/cluster's business): requests for a partition led elsewhere answer
 * NOT_COORDINATOR, for one loading COORDINATOR_LOAD_IN_PROGRESS; unloading a partition
 * answers pending joins with NOT_COORDINATOR, sends server-side members looking for the
 * coordinator again (they rejoin once it is back) and leaves the other partitions' groups
 * alone. Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "group/group_int.h"
#include "group/group_test_util.h"
#include "group/ownership.c" /* unload() */

#define NPARTS 4

typedef gt_fx_t fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    gn_group_config_t cfg;
    gn_group_config_defaults(&cfg);
    cfg.group_min_session_timeout_ms = 10;
    cfg.group_initial_rebalance_delay_ms = 0;
    uv_loop_init(&f->loop);
    if (gn__group_coordinator_new_mem(&f->loop, &cfg, &f->coord)) return -1;
    /* as a broker leading every partition (the coordinator frees parts at close) */
    f->coord->nparts = NPARTS;
    f->coord->parts = calloc(NPARTS, sizeof(*f->coord->parts));
    for (int p = 0; p < NPARTS; p++)
        f->coord->parts[p].state = GN__PART_LOADED;
    *state = f;
    return 0;
}

#define RUN(flag) assert_int_equal(gt_run_until(&f->loop, &(flag), 3000), 0)

/* A group id whose partition is p (ids "g0", "g1", ... tried in turn). */
static const char *group_in(int32_t p, char *buf, size_t cap)
{
    for (int i = 0;; i++) {
        snprintf(buf, cap, "g%d", i);
        if (gn_group_partition_for(buf, NPARTS) == p) return buf;
    }
}

static void join_sync(fx_t *f, gt_client_t *c)
{
    assert_int_equal(gt_join(f->coord, c, false), 0);
    RUN(c->join_done);
    assert_int_equal(c->join_status, 0);
    assert_int_equal(gt_sync(f->coord, c, NULL, 0), 0);
    RUN(c->sync_done);
    assert_int_equal(c->sync_status, 0);
}

typedef struct listed {
    int done, status;
    size_t count;
} listed_t;

static void on_list(void *arg, int status, const gn_group_listing_t *groups, size_t count)
{
    listed_t *l = arg;
    (void)groups;
    l->done++;
    l->status = status;
    l->count = count;
}

typedef struct committed {
    int done, status, error;
} committed_t;

static void on_commit(void *arg, int status, const gn_group_offset_t *res, size_t count)
{
    committed_t *c = arg;
    c->done++;
    c->status = status;
    c->error = count ? res[0].error : 0;
}

static void test_ownership__answers_by_partition_state(void **state)
{
    fx_t *f = *state;
    char here[16], loading[16], elsewhere[16];
    gt_client_t a = {.group = group_in(0, here, sizeof here)};
    gt_client_t b = {.group = group_in(1, loading, sizeof loading)};
    gt_client_t c = {.group = group_in(2, elsewhere, sizeof elsewhere)};
    f->coord->parts[1].state = GN__PART_LOADING;
    f->coord->parts[2].state = GN__PART_NONE;

    assert_int_equal(gt_join(f->coord, &c, false), 0);
    RUN(c.join_done);
    assert_int_equal(c.join_status, GN_ENOT_COORDINATOR);
    assert_int_equal(gt_join(f->coord, &b, false), 0);
    RUN(b.join_done);
    assert_int_equal(b.join_status, GN_ECOORDINATOR_LOADING);
    join_sync(f, &a);

    /* a commit for a group led elsewhere is refused, never stored */
    gn_group_offset_t off = {.topic = "t", .partition = 0, .offset = 5, .leader_epoch = -1};
    gn_group_commit_req_t req = {
        .group_id = elsewhere, .generation_id = -1, .member_id = "", .offsets = &off, .count = 1};
    committed_t cm = {0};
    assert_int_equal(gn_group_commit(f->coord, &req, on_commit, &cm), 0);
    RUN(cm.done);
    assert_int_equal(cm.status, GN_ENOT_COORDINATOR);
    assert_null(gn__group_find(f->coord, elsewhere));

    /* ListGroups waits for the loading partition, then lists what is coordinated here */
    listed_t l = {0};
    assert_int_equal(gn_group_list(f->coord, NULL, 0, on_list, &l), 0);
    RUN(l.done);
    assert_int_equal(l.status, GN_ECOORDINATOR_LOADING);
    f->coord->parts[1].state = GN__PART_LOADED;
    l.done = 0;
    assert_int_equal(gn_group_list(f->coord, NULL, 0, on_list, &l), 0);
    RUN(l.done);
    assert_int_equal(l.status, 0);
    assert_int_equal(l.count, 1);

    /* a server-side member of a group coordinated elsewhere joins there over the RPC; the
     * memory backend has no metadata image, so no other coordinator is known */
    const char *topics[] = {"t"};
    gn_group_member_opts_t opts = {.group_id = elsewhere, .topics = topics, .topics_count = 1};
    gn_group_member_callbacks_t cbs = {0};
    gn_group_member_t *mem = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &cbs, NULL, &mem),
                     GN_ECOORDINATOR_NOT_AVAILABLE);
    assert_null(mem);
}

typedef struct local_state {
    int assigned, failed, status;
} local_state_t;

static void on_assigned(void *arg, gn_group_member_t *m, int32_t gen,
                        const gn_topic_partition_t *tps, size_t n)
{
    (void)m, (void)gen, (void)tps, (void)n;
    ((local_state_t *)arg)->assigned++;
}

static void on_failed(void *arg, gn_group_member_t *m, int status)
{
    (void)m;
    local_state_t *s = arg;
    s->failed++;
    s->status = status;
}

static void test_ownership__unload_answers_not_coordinator(void **state)
{
    fx_t *f = *state;
    char lost[16], kept[16];
    gt_client_t a1 = {.group = group_in(3, lost, sizeof lost)};
    gt_client_t a2 = {.group = lost};
    gt_client_t k = {.group = group_in(0, kept, sizeof kept)};
    join_sync(f, &a1);
    join_sync(f, &k);
    /* a second member's join waits for a1 to rejoin */
    assert_int_equal(gt_join(f->coord, &a2, false), 0);
    gt_run_for(&f->loop, 20);
    assert_int_equal(a2.join_done, 0);
    /* a server-side member in the same group */
    local_state_t s = {0};
    const char *topics[] = {"t"};
    gn_group_member_opts_t opts = {.group_id = lost, .topics = topics, .topics_count = 1};
    gn_group_member_callbacks_t cbs = {.assigned = on_assigned, .failed = on_failed};
    gn_group_member_t *mem = NULL;
    assert_int_equal(gn_group_member_join(f->coord, &opts, &cbs, &s, &mem), 0);
    gt_run_for(&f->loop, 20);

    unload(f->coord, 3);
    assert_int_equal(f->coord->parts[3].state, GN__PART_NONE);
    assert_null(gn__group_find(f->coord, lost));
    RUN(a2.join_done);
    assert_int_equal(a2.join_status, GN_ENOT_COORDINATOR);
    assert_int_equal(gt_heartbeat(f->coord, &a1), 0);
    RUN(a1.hb_done);
    assert_int_equal(a1.hb_status, GN_ENOT_COORDINATOR);
    /* the other partition's group goes on */
    assert_int_equal(gt_heartbeat(f->coord, &k), 0);
    RUN(k.hb_done);
    assert_int_equal(k.hb_status, 0);
    /* the server-side member did not fail: it looks for the coordinator again (with a
     * backoff) and rejoins once the partition is led here again */
    f->coord->parts[3].state = GN__PART_LOADED;
    RUN(s.assigned);
    assert_int_equal(s.failed, 0);
    gn_group_member_leave(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ownership__answers_by_partition_state, setup,
                                        gt_teardown),
        cmocka_unit_test_setup_teardown(test_ownership__unload_answers_not_coordinator, setup,
                                        gt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
