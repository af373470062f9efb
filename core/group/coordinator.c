/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator object: configuration, the table of groups, the queue of deferred
 * completions (so no callback runs inside the API call that caused it), the offset
 * retention timer, and shutdown. The broker-backed constructor is in store.c.
 * Loop thread only. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "group/group_int.h"

#define OWN_HANDLES 5 /* defer_idle, defer_check, defer_timer, retention_timer, member_timer */

void gn_group_config_defaults(gn_group_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->offsets_topic_partitions = 50;
    cfg->offsets_topic_replication = 3;
    cfg->offsets_topic_segment_bytes = 104857600;
    cfg->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->offsets_retention_check_ms = 600000;
    cfg->offset_metadata_max_bytes = 4096;
    cfg->group_min_session_timeout_ms = 6000;
    cfg->group_max_session_timeout_ms = 1800000;
    cfg->group_initial_rebalance_delay_ms = 3000;
    cfg->group_max_size = INT32_MAX;
}

static const char *const state_names[] = {
    [GN_GROUP_EMPTY] = "Empty",
    [GN_GROUP_PREPARING_REBALANCE] = "PreparingRebalance",
    [GN_GROUP_COMPLETING_REBALANCE] = "CompletingRebalance",
    [GN_GROUP_STABLE] = "Stable",
    [GN_GROUP_DEAD] = "Dead",
};

const char *gn_group_state_name(gn_group_state_t state)
{
    if ((unsigned)state > GN_GROUP_DEAD) return "Unknown";
    return state_names[state];
}

int gn_group_state_parse(const char *name)
{
    for (int i = 0; i <= GN_GROUP_DEAD; i++)
        if (name && strcasecmp(name, state_names[i]) == 0) return i;
    return -1;
}

uint64_t gn__group_now(gn_group_coordinator_t *coord)
{
    return uv_now(coord->loop);
}

/* ---- deferred completions ---------------------------------------------------- */

static void drain_ops(gn_group_coordinator_t *coord, int shutdown)
{
    /* Ops queued while running run in the same pass: bounded by what callbacks
     * queue, and every op completes a distinct request. */
    while (coord->ops_head) {
        gn__op_t *op = coord->ops_head;
        coord->ops_head = op->next;
        if (!coord->ops_head) coord->ops_tail = NULL;
        op->next = NULL;
        op->run(op, shutdown);
    }
}

static void on_defer_idle(uv_idle_t *idle)
{
    (void)idle; /* its being active makes the poll return at once */
}

static void on_defer_check(uv_check_t *check)
{
    gn_group_coordinator_t *coord = check->data;
    drain_ops(coord, 0);
    if (!coord->ops_head) {
        uv_idle_stop(&coord->defer_idle);
        uv_check_stop(&coord->defer_check);
    }
}

void gn__group_defer(gn_group_coordinator_t *coord, gn__op_t *op)
{
    op->next = NULL;
    if (coord->ops_tail)
        coord->ops_tail->next = op;
    else
        coord->ops_head = op;
    coord->ops_tail = op;
    /* Node's setImmediate: run after this turn's poll, which does not block meanwhile,
     * so uv_run(UV_RUN_ONCE) drivers see the callback in the same turn. While
     * closing, on_close_tick polls the queue instead. */
    if (!coord->closing && !uv_is_active((uv_handle_t *)&coord->defer_check)) {
        uv_idle_start(&coord->defer_idle, on_defer_idle);
        uv_check_start(&coord->defer_check, on_defer_check);
    }
}

/* ---- the table ----------------------------------------------------------------- */

static uint32_t bucket_of(const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % GN__GROUP_BUCKETS;
}

gn__group_t *gn__group_find(gn_group_coordinator_t *coord, const char *id)
{
    for (gn__group_t *g = coord->buckets[bucket_of(id)]; g; g = g->hnext)
        if (strcmp(g->id, id) == 0) return g;
    return NULL;
}

static void group_free(gn__group_t *g)
{
    while (g->members) {
        gn__member_t *m = g->members;
        g->members = m->next;
        gn__member_free(m);
    }
    while (g->pending) {
        gn__pending_t *p = g->pending;
        g->pending = p->next;
        free(p->member_id);
        free(p);
    }
    gn__offsets_free(g);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->leader_id);
    free(g->id);
    free(g);
}

void gn__group_ref(gn__group_t *g)
{
    g->refs++;
}

void gn__group_unref(gn__group_t *g)
{
    if (--g->refs == 0) group_free(g);
}

static void on_group_timer_closed(uv_handle_t *h)
{
    gn__group_t *g = h->data;
    gn_group_coordinator_t *coord = g->coord;
    gn__group_unref(g);
    coord->open_handles--;
}

extern void gn__group_on_timer(uv_timer_t *t); /* group.c */

gn__group_t *gn__group_get_or_create(gn_group_coordinator_t *coord, const char *id)
{
    gn__group_t *g = gn__group_find(coord, id);
    if (g) return g;
    g = calloc(1, sizeof(*g));
    if (!g || !(g->id = strdup(id))) {
        free(g);
        return NULL;
    }
    g->coord = coord;
    g->state = GN_GROUP_EMPTY;
    g->state_ts = gn_now_ms();
    uv_timer_init(coord->loop, &g->timer);
    g->timer.data = g;
    coord->open_handles++;
    g->refs = 2; /* the table and the timer handle */
    uint32_t b = bucket_of(id);
    g->hnext = coord->buckets[b];
    coord->buckets[b] = g;
    coord->groups_count++;
    return g;
}

void gn__group_remove(gn__group_t *g)
{
    gn_group_coordinator_t *coord = g->coord;
    gn__group_t **pp = &coord->buckets[bucket_of(g->id)];
    while (*pp && *pp != g)
        pp = &(*pp)->hnext;
    if (!*pp) return; /* already removed */
    *pp = g->hnext;
    g->hnext = NULL;
    coord->groups_count--;
    g->state = GN_GROUP_DEAD;
    uv_timer_stop(&g->timer);
    uv_close((uv_handle_t *)&g->timer, on_group_timer_closed);
    gn__group_unref(g);
}

/* ---- life cycle ---------------------------------------------------------------- */

static void on_retention(uv_timer_t *t)
{
    gn_group_coordinator_t *coord = t->data;
    if (coord->ready) gn__offsets_expire(coord, gn_now_ms());
}

int gn__coordinator_init(gn_group_coordinator_t *coord, uv_loop_t *loop, gn_broker_t *broker,
                         const gn_group_config_t *cfg, const gn__store_ops_t *store)
{
    memset(coord, 0, sizeof(*coord));
    coord->loop = loop;
    coord->broker = broker;
    if (cfg)
        coord->cfg = *cfg;
    else
        gn_group_config_defaults(&coord->cfg);
    if (coord->cfg.offsets_topic_partitions <= 0 || coord->cfg.group_max_size <= 0 ||
        coord->cfg.group_min_session_timeout_ms > coord->cfg.group_max_session_timeout_ms)
        return GN_EINVALID_CONFIG;
    coord->store = store;
    uv_idle_init(loop, &coord->defer_idle);
    coord->defer_idle.data = coord;
    uv_check_init(loop, &coord->defer_check);
    coord->defer_check.data = coord;
    uv_timer_init(loop, &coord->defer_timer);
    coord->defer_timer.data = coord;
    uv_timer_init(loop, &coord->retention_timer);
    coord->retention_timer.data = coord;
    uv_timer_init(loop, &coord->member_timer); /* started while members need it */
    coord->member_timer.data = coord;
    coord->open_handles = OWN_HANDLES;
    if (coord->cfg.offsets_retention_check_ms > 0)
        uv_timer_start(&coord->retention_timer, on_retention,
                       (uint64_t)coord->cfg.offsets_retention_check_ms,
                       (uint64_t)coord->cfg.offsets_retention_check_ms);
    return 0;
}

static int32_t mem_partitions(gn_group_coordinator_t *coord, const char *topic)
{
    (void)coord;
    (void)topic;
    return -1;
}

typedef struct mem_append_op {
    gn__op_t op;
    gn__store_cb cb;
    void *arg;
} mem_append_op_t;

static void mem_append_run(gn__op_t *op, int shutdown)
{
    mem_append_op_t *a = (mem_append_op_t *)op;
    (void)shutdown;
    a->cb(a->arg, 0);
    free(a);
}

static int mem_append(gn_group_coordinator_t *coord, const char *group_id, const gn_bytes_t *keys,
                      const gn_bytes_t *values, size_t count, gn__store_cb cb, void *arg)
{
    (void)group_id;
    (void)keys;
    (void)values;
    (void)count;
    mem_append_op_t *a = calloc(1, sizeof(*a));
    if (!a) return GN_ENOMEM;
    a->op.run = mem_append_run;
    a->cb = cb;
    a->arg = arg;
    gn__group_defer(coord, &a->op);
    return 0;
}

static const gn__store_ops_t mem_ops = {mem_append, mem_partitions};

int gn__group_coordinator_new_mem(uv_loop_t *loop, const gn_group_config_t *cfg,
                                  gn_group_coordinator_t **out)
{
    gn_group_coordinator_t *coord = malloc(sizeof(*coord));
    if (!coord) return GN_ENOMEM;
    int rc = gn__coordinator_init(coord, loop, NULL, cfg, &mem_ops);
    if (rc) {
        free(coord);
        return rc;
    }
    coord->ready = true;
    *out = coord;
    return 0;
}

bool gn_group_coordinator_ready(const gn_group_coordinator_t *coord)
{
    return coord->ready && !coord->closing;
}

extern void gn__group_shutdown(gn__group_t *g); /* group.c: fail waits */

static void maybe_finish_close(gn_group_coordinator_t *coord);

static void on_coord_handle_closed(uv_handle_t *h)
{
    gn_group_coordinator_t *coord = h->data;
    coord->open_handles--;
    maybe_finish_close(coord);
}

static void maybe_finish_close(gn_group_coordinator_t *coord)
{
    if (!coord->closing) return;
    /* group timers close first; then the coordinator's own handles */
    if (coord->open_handles == OWN_HANDLES && coord->store_inflight == 0 &&
        !uv_is_closing((uv_handle_t *)&coord->defer_timer)) {
        drain_ops(coord, 1);
        gn__locals_drop(coord);
        drain_ops(coord, 1);
        uv_close((uv_handle_t *)&coord->defer_idle, on_coord_handle_closed);
        uv_close((uv_handle_t *)&coord->defer_check, on_coord_handle_closed);
        uv_close((uv_handle_t *)&coord->defer_timer, on_coord_handle_closed);
        uv_close((uv_handle_t *)&coord->retention_timer, on_coord_handle_closed);
        uv_close((uv_handle_t *)&coord->member_timer, on_coord_handle_closed);
        return;
    }
    if (coord->open_handles == 0) {
        gn_group_closed_cb cb = coord->closed_cb;
        void *arg = coord->closed_arg;
        free(coord->parts);
        free(coord);
        if (cb) cb(arg);
    }
}

static void on_close_tick(uv_timer_t *t)
{
    gn_group_coordinator_t *coord = t->data;
    drain_ops(coord, 1);
    maybe_finish_close(coord);
    if (!uv_is_closing((uv_handle_t *)&coord->defer_timer) && coord->closing)
        uv_timer_start(&coord->defer_timer, on_close_tick, 1, 0);
}

void gn_group_coordinator_close(gn_group_coordinator_t *coord, gn_group_closed_cb cb, void *arg)
{
    if (!coord || coord->closing) return;
    coord->closing = true;
    gn__owner_close(coord);
    coord->closed_cb = cb;
    coord->closed_arg = arg;
    uv_timer_stop(&coord->retention_timer);
    uv_timer_stop(&coord->member_timer);
    uv_idle_stop(&coord->defer_idle);
    uv_check_stop(&coord->defer_check);
    for (size_t b = 0; b < GN__GROUP_BUCKETS; b++) {
        while (coord->buckets[b]) {
            gn__group_t *g = coord->buckets[b];
            gn__group_shutdown(g); /* waits fail with GN_ESHUTDOWN, deferred */
            gn__group_remove(g);
        }
    }
    gn__group_remote_close(coord); /* calls to other brokers answer GN_ESHUTDOWN, deferred */
    /* On the next tick: run queued completions, wait for store appends in flight
     * and for the group timers to close, then free. */
    uv_timer_start(&coord->defer_timer, on_close_tick, 0, 0);
}
