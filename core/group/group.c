/* SPDX-License-Identifier: Apache-2.0 */
/* The classic group state machine, as Kafka's GroupCoordinator runs it: JoinGroup,
 * SyncGroup, Heartbeat and LeaveGroup; the states Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead; generations; protocol selection by vote; the
 * rebalance timeout, session expiry and pending-member expiry on one uv_timer per
 * group; static membership and fencing; group.max.size. Loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "group/group_int.h"

/* member.c */
void gn__local_removed(gn__member_t *m);
void gn__local_fenced(gn__member_t *m);
int gn__group_join_local(gn_group_coordinator_t *coord, const gn_group_join_req_t *req,
                         gn_group_member_t *local, gn_group_join_cb cb, void *arg);

static void prepare_rebalance(gn__group_t *g, const char *reason);
static void schedule_check(gn__group_t *g);
static void group_arm(gn__group_t *g);
void gn__group_on_timer(uv_timer_t *t);
void gn__group_shutdown(gn__group_t *g);

/* ---- members ------------------------------------------------------------------- */

static void protos_free(gn__proto_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].meta);
    }
    free(p);
}

void gn__member_free(gn__member_t *m)
{
    if (!m) return;
    free(m->member_id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    protos_free(m->protos, m->protos_count);
    free(m->assignment);
    free(m);
}

gn__member_t *gn__member_find(gn__group_t *g, const char *member_id)
{
    for (gn__member_t *m = g->members; m; m = m->next)
        if (strcmp(m->member_id, member_id) == 0) return m;
    return NULL;
}

static gn__member_t *member_by_instance(gn__group_t *g, const char *instance_id)
{
    if (!instance_id) return NULL;
    for (gn__member_t *m = g->members; m; m = m->next)
        if (m->instance_id && strcmp(m->instance_id, instance_id) == 0) return m;
    return NULL;
}

static int protos_copy(const gn_group_join_req_t *req, gn__proto_t **out)
{
    gn__proto_t *p = calloc(req->protocols_count, sizeof(*p));
    if (!p) return GN_ENOMEM;
    for (size_t i = 0; i < req->protocols_count; i++) {
        const gn_group_protocol_t *src = &req->protocols[i];
        p[i].name = strdup(src->name ? src->name : "");
        p[i].meta = malloc(src->metadata.len ? src->metadata.len : 1);
        if (!p[i].name || !p[i].meta) {
            protos_free(p, req->protocols_count);
            return GN_ENOMEM;
        }
        if (src->metadata.len) memcpy(p[i].meta, src->metadata.ptr, src->metadata.len);
        p[i].meta_len = src->metadata.len;
    }
    *out = p;
    return 0;
}

static bool protos_equal(const gn__member_t *m, const gn_group_join_req_t *req)
{
    if (m->protos_count != req->protocols_count) return false;
    for (size_t i = 0; i < m->protos_count; i++) {
        const gn_group_protocol_t *p = &req->protocols[i];
        if (strcmp(m->protos[i].name, p->name ? p->name : "") != 0 ||
            m->protos[i].meta_len != p->metadata.len ||
            (p->metadata.len && memcmp(m->protos[i].meta, p->metadata.ptr, p->metadata.len)))
            return false;
    }
    return true;
}

static const gn__proto_t *member_proto(const gn__member_t *m, const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < m->protos_count; i++)
        if (strcmp(m->protos[i].name, name) == 0) return &m->protos[i];
    return NULL;
}

/* Kafka: clientId + "-" + UUID (groupInstanceId for static members). */
static char *new_member_id(gn_group_coordinator_t *coord, const char *prefix)
{
    uint8_t r[16];
    char buf[320];
    if (uv_random(NULL, NULL, r, sizeof(r), 0, NULL) != 0) {
        uint64_t seq = ++coord->next_member_seq, t = uv_hrtime();
        memcpy(r, &seq, 8);
        memcpy(r + 8, &t, 8);
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    snprintf(buf, sizeof(buf),
             "%.255s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             prefix ? prefix : "", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
             r[10], r[11], r[12], r[13], r[14], r[15]);
    return strdup(buf);
}

/* ---- completions ----------------------------------------------------------------- */

typedef struct join_op {
    gn__op_t op;
    gn_group_join_cb cb;
    void *arg;
    int status;
    gn_group_join_res_t res;
    gn__arena_t ar;
} join_op_t;

static void join_op_run(gn__op_t *op, int shutdown)
{
    join_op_t *j = (join_op_t *)op;
    int status = shutdown ? GN_ESHUTDOWN : j->status;
    if (j->ar.err && !status) status = j->ar.err;
    j->cb(j->arg, status, &j->res);
    gn__arena_free(&j->ar);
    free(j);
}

/* Queues a join answer for m (or an error answer with only member_id). */
static void join_reply(gn_group_coordinator_t *coord, gn__group_t *g, const char *member_id,
                       gn_group_join_cb cb, void *arg, int status, bool with_members,
                       bool skip_assignment)
{
    join_op_t *j = calloc(1, sizeof(*j));
    if (!j) {
        GN_ERROR("group", "out of memory answering a join; the member will time out");
        return;
    }
    j->op.run = join_op_run;
    j->cb = cb;
    j->arg = arg;
    j->status = status;
    gn_group_join_res_t *res = &j->res;
    res->generation_id = -1;
    res->member_id = gn__arena_strdup(&j->ar, member_id ? member_id : "");
    res->protocol_type = "";
    res->protocol_name = "";
    res->leader_id = "";
    if (status == 0 && g) {
        res->generation_id = g->generation;
        res->protocol_type = gn__arena_strdup(&j->ar, g->protocol_type ? g->protocol_type : "");
        res->protocol_name = gn__arena_strdup(&j->ar, g->protocol_name ? g->protocol_name : "");
        res->leader_id = gn__arena_strdup(&j->ar, g->leader_id ? g->leader_id : "");
        res->skip_assignment = skip_assignment;
        if (with_members && g->members_count) {
            gn_group_join_member_t *ms = gn__arena_alloc(&j->ar, g->members_count * sizeof(*ms));
            size_t k = 0;
            for (gn__member_t *m = g->members; m && ms; m = m->next) {
                const gn__proto_t *p = member_proto(m, g->protocol_name);
                ms[k].member_id = gn__arena_strdup(&j->ar, m->member_id);
                ms[k].instance_id = gn__arena_strdup(&j->ar, m->instance_id);
                ms[k].metadata = p ? gn__arena_bytes(&j->ar, p->meta, p->meta_len)
                                   : gn__arena_bytes(&j->ar, NULL, 0);
                k++;
            }
            res->members = ms;
            res->members_count = ms ? k : 0;
        }
    }
    gn__group_defer(coord, &j->op);
}

typedef struct sync_op {
    gn__op_t op;
    gn_group_sync_cb cb;
    void *arg;
    int status;
    char *ptype, *pname;
    uint8_t *assignment;
    size_t len;
} sync_op_t;

static void sync_op_run(gn__op_t *op, int shutdown)
{
    sync_op_t *s = (sync_op_t *)op;
    gn_bytes_t a = {s->assignment ? s->assignment : (const uint8_t *)"", s->len};
    s->cb(s->arg, shutdown ? GN_ESHUTDOWN : s->status, s->ptype ? s->ptype : "",
          s->pname ? s->pname : "", a);
    free(s->ptype);
    free(s->pname);
    free(s->assignment);
    free(s);
}

static void sync_reply(gn_group_coordinator_t *coord, gn__group_t *g, gn_group_sync_cb cb,
                       void *arg, int status, const uint8_t *assignment, size_t len)
{
    sync_op_t *s = calloc(1, sizeof(*s));
    if (!s) {
        GN_ERROR("group", "out of memory answering a sync; the member will time out");
        return;
    }
    s->op.run = sync_op_run;
    s->cb = cb;
    s->arg = arg;
    s->status = status;
    if (status == 0 && g) {
        s->ptype = gn__group_strdup(g->protocol_type);
        s->pname = gn__group_strdup(g->protocol_name);
        if (len) {
            s->assignment = malloc(len);
            if (s->assignment)
                memcpy(s->assignment, assignment, len);
            else
                s->status = GN_ENOMEM;
        }
        s->len = s->assignment ? len : 0;
    }
    gn__group_defer(coord, &s->op);
}

typedef struct status_op {
    gn__op_t op;
    gn_group_status_cb cb;
    void *arg;
    int status;
} status_op_t;

static void status_op_run(gn__op_t *op, int shutdown)
{
    status_op_t *s = (status_op_t *)op;
    s->cb(s->arg, shutdown ? GN_ESHUTDOWN : s->status);
    free(s);
}

static int status_reply(gn_group_coordinator_t *coord, gn_group_status_cb cb, void *arg, int status)
{
    status_op_t *s = calloc(1, sizeof(*s));
    if (!s) return GN_ENOMEM;
    s->op.run = status_op_run;
    s->cb = cb;
    s->arg = arg;
    s->status = status;
    gn__group_defer(coord, &s->op);
    return 0;
}

static void fail_waits(gn__group_t *g, gn__member_t *m, int status)
{
    if (m->has_join) {
        m->has_join = false;
        join_reply(g->coord, NULL, m->member_id, m->join.cb, m->join.arg, status, false, false);
    }
    if (m->has_sync) {
        m->has_sync = false;
        sync_reply(g->coord, NULL, m->sync.cb, m->sync.arg, status, NULL, 0);
    }
}

void gn__group_unload(gn__group_t *g, int status)
{
    GN_INFO("group", "group unloaded | group=%s members=%zu err=%s", g->id, g->members_count,
            gn_err_name(status));
    for (gn__member_t *m = g->members; m; m = m->next) {
        if (m->local) gn__local_lost(m, status);
        fail_waits(g, m, status);
    }
    gn__group_remove(g);
}

void gn__group_shutdown(gn__group_t *g)
{
    for (gn__member_t *m = g->members; m; m = m->next) {
        m->local = NULL; /* dropped by gn__locals_drop */
        fail_waits(g, m, GN_ESHUTDOWN);
    }
}

/* ---- state --------------------------------------------------------------------- */

void gn__group_set_state(gn__group_t *g, gn_group_state_t state)
{
    if (g->state != state) {
        GN_DEBUG("group", "state change | group=%s from=%s to=%s generation=%d", g->id,
                 gn_group_state_name(g->state), gn_group_state_name(state), g->generation);
        g->state = state;
        g->state_ts = gn_now_ms();
    }
}

static void member_unlink(gn__group_t *g, gn__member_t *m)
{
    gn__member_t **pp = &g->members;
    while (*pp && *pp != m)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = m->next;
        g->members_count--;
    }
    if (g->leader_id && strcmp(g->leader_id, m->member_id) == 0) {
        free(g->leader_id);
        g->leader_id = NULL;
    }
}

/* Removes m (expired, left, or did not rejoin) and frees it; its waits fail. */
static void member_remove(gn__group_t *g, gn__member_t *m, int status, bool rebalance)
{
    member_unlink(g, m);
    fail_waits(g, m, status);
    if (m->local) gn__local_removed(m);
    gn__member_free(m);
    if (!rebalance) return;
    switch (g->state) {
    case GN_GROUP_STABLE:
    case GN_GROUP_COMPLETING_REBALANCE:
        prepare_rebalance(g, "member removed");
        break;
    case GN_GROUP_PREPARING_REBALANCE:
        schedule_check(g);
        break;
    default:
        break;
    }
}

static int32_t group_rebalance_timeout(gn__group_t *g)
{
    int32_t t = 0;
    for (gn__member_t *m = g->members; m; m = m->next)
        if (m->rebalance_timeout_ms > t) t = m->rebalance_timeout_ms;
    return t;
}

static void prepare_rebalance(gn__group_t *g, const char *reason)
{
    gn_group_coordinator_t *coord = g->coord;
    uint64_t now = gn__group_now(coord);
    if (g->state == GN_GROUP_COMPLETING_REBALANCE) {
        /* assignments of the aborted generation are void (Kafka's
         * resetAndPropagateAssignmentError) */
        for (gn__member_t *m = g->members; m; m = m->next) {
            if (m->has_sync) {
                m->has_sync = false;
                sync_reply(coord, NULL, m->sync.cb, m->sync.arg, GN_EREBALANCE_IN_PROGRESS, NULL,
                           0);
            }
        }
    }
    bool was_empty = g->state == GN_GROUP_EMPTY;
    gn__group_set_state(g, GN_GROUP_PREPARING_REBALANCE);
    g->sync_deadline = 0;
    /* an assignment still being stored belongs to the aborted generation (its completion
     * is ignored): the next leader's SyncGroup stores its own */
    g->syncing = false;
    int32_t rt = group_rebalance_timeout(g);
    g->rebalance_deadline = now + (uint64_t)rt;
    g->initial_deadline = 0;
    if (was_empty && coord->cfg.group_initial_rebalance_delay_ms > 0) {
        int32_t d = coord->cfg.group_initial_rebalance_delay_ms;
        g->initial_deadline = now + (uint64_t)(d < rt ? d : rt);
    }
    GN_INFO("group", "preparing rebalance | group=%s generation=%d reason=\"%s\" members=%zu",
            g->id, g->generation, reason, g->members_count);
    for (gn__member_t *m = g->members; m; m = m->next)
        if (m->local && !m->has_join) gn__local_rebalance(m);
    group_arm(g);
    schedule_check(g);
}

static bool all_joined(gn__group_t *g)
{
    if (g->pending) return false;
    for (gn__member_t *m = g->members; m; m = m->next)
        if (!m->has_join) return false;
    return true;
}

/* Kafka's selectProtocol: candidates every member supports; each member votes for
 * its most preferred candidate; most votes wins (ties: the leader's order). */
static char *select_protocol(gn__group_t *g)
{
    gn__member_t *first = g->members;
    const char *best = NULL;
    size_t best_votes = 0;
    for (size_t i = 0; first && i < first->protos_count; i++) {
        const char *cand = first->protos[i].name;
        bool all = true;
        for (gn__member_t *m = g->members; m && all; m = m->next)
            all = member_proto(m, cand) != NULL;
        if (!all) continue;
        size_t votes = 0;
        for (gn__member_t *m = g->members; m; m = m->next) {
            for (size_t k = 0; k < m->protos_count; k++) {
                const char *name = m->protos[k].name;
                bool supported = true;
                for (gn__member_t *o = g->members; o && supported; o = o->next)
                    supported = member_proto(o, name) != NULL;
                if (!supported) continue;
                if (strcmp(name, cand) == 0) votes++;
                break; /* this member's vote */
            }
        }
        if (!best || votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return gn__group_strdup(best);
}

static void store_group(gn__group_t *g); /* below */

static void complete_join(gn__group_t *g)
{
    gn_group_coordinator_t *coord = g->coord;
    /* members that did not rejoin within the rebalance timeout leave the group */
    gn__member_t *m = g->members;
    while (m) {
        gn__member_t *next = m->next;
        if (!m->has_join) {
            GN_INFO("group", "member did not rejoin in time | group=%s member=%s", g->id,
                    m->member_id);
            member_remove(g, m, GN_EUNKNOWN_MEMBER, false);
        }
        m = next;
    }
    g->rebalance_deadline = 0;
    g->initial_deadline = 0;
    g->generation++;
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (!g->members) {
        free(g->leader_id);
        g->leader_id = NULL;
        gn__group_set_state(g, GN_GROUP_EMPTY);
        GN_INFO("group", "group is empty | group=%s generation=%d", g->id, g->generation);
        store_group(g);
        group_arm(g);
        return;
    }
    g->protocol_name = select_protocol(g);
    if (!g->leader_id) g->leader_id = gn__group_strdup(g->members->member_id);
    for (m = g->members; m; m = m->next) {
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
    }
    gn__group_set_state(g, GN_GROUP_COMPLETING_REBALANCE);
    g->sync_deadline = gn__group_now(coord) + (uint64_t)group_rebalance_timeout(g);
    GN_INFO("group", "rebalance joined | group=%s generation=%d protocol=%s leader=%s members=%zu",
            g->id, g->generation, g->protocol_name ? g->protocol_name : "", g->leader_id,
            g->members_count);
    for (m = g->members; m; m = m->next) {
        m->has_join = false;
        m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
        bool leader = strcmp(m->member_id, g->leader_id) == 0;
        join_reply(coord, g, m->member_id, m->join.cb, m->join.arg, 0, leader, false);
    }
    group_arm(g);
}

static void check_join(gn__group_t *g)
{
    if (g->state != GN_GROUP_PREPARING_REBALANCE) return;
    uint64_t now = gn__group_now(g->coord);
    if (g->initial_deadline && now < g->initial_deadline) return;
    if (all_joined(g) || (g->rebalance_deadline && now >= g->rebalance_deadline)) complete_join(g);
}

typedef struct check_op {
    gn__op_t op;
    gn__group_t *g;
} check_op_t;

static void check_op_run(gn__op_t *op, int shutdown)
{
    check_op_t *c = (check_op_t *)op;
    gn__group_t *g = c->g;
    g->check_queued = false;
    if (!shutdown && g->state != GN_GROUP_DEAD) check_join(g);
    gn__group_unref(g);
    free(c);
}

static void schedule_check(gn__group_t *g)
{
    if (g->check_queued) return;
    check_op_t *c = calloc(1, sizeof(*c));
    if (!c) return; /* the group timer still completes the rebalance */
    c->op.run = check_op_run;
    c->g = g;
    g->check_queued = true;
    gn__group_ref(g);
    gn__group_defer(g->coord, &c->op);
}

/* ---- timers -------------------------------------------------------------------- */

static void min_deadline(uint64_t *best, uint64_t d)
{
    if (d && (!*best || d < *best)) *best = d;
}

static void group_arm(gn__group_t *g)
{
    if (g->state == GN_GROUP_DEAD || g->coord->closing) return;
    uint64_t best = 0;
    for (gn__member_t *m = g->members; m; m = m->next)
        if (!m->local && !m->has_join && !m->has_sync) min_deadline(&best, m->session_deadline);
    for (gn__pending_t *p = g->pending; p; p = p->next)
        min_deadline(&best, p->deadline);
    if (g->state == GN_GROUP_PREPARING_REBALANCE) {
        min_deadline(&best, g->rebalance_deadline);
        min_deadline(&best, g->initial_deadline);
    }
    if (g->state == GN_GROUP_COMPLETING_REBALANCE) min_deadline(&best, g->sync_deadline);
    if (!best) {
        uv_timer_stop(&g->timer);
        return;
    }
    uint64_t now = gn__group_now(g->coord);
    uv_timer_start(&g->timer, gn__group_on_timer, best > now ? best - now : 0, 0);
}

void gn__group_on_timer(uv_timer_t *t)
{
    gn__group_t *g = t->data;
    uint64_t now = gn__group_now(g->coord);
    gn__group_ref(g);
    gn__pending_t **pp = &g->pending;
    while (*pp) {
        gn__pending_t *p = *pp;
        if (p->deadline <= now) {
            *pp = p->next;
            free(p->member_id);
            free(p);
        } else {
            pp = &p->next;
        }
    }
    gn__member_t *m = g->members;
    while (m) {
        gn__member_t *next = m->next;
        if (!m->local && !m->has_join && !m->has_sync && m->session_deadline <= now) {
            GN_INFO("group", "member session expired | group=%s member=%s", g->id, m->member_id);
            member_remove(g, m, GN_EUNKNOWN_MEMBER, true);
        }
        m = next;
    }
    if (g->state == GN_GROUP_COMPLETING_REBALANCE && g->sync_deadline && now >= g->sync_deadline) {
        /* the leader never sent the assignment: members that did not sync go */
        m = g->members;
        while (m) {
            gn__member_t *next = m->next;
            if (!m->has_sync && !m->local) member_remove(g, m, GN_EUNKNOWN_MEMBER, false);
            m = next;
        }
        prepare_rebalance(g, "sync timeout");
    }
    check_join(g);
    group_arm(g);
    gn__group_unref(g);
}

/* ---- persistence of group metadata ------------------------------------------------ */

typedef struct store_group_ctx {
    gn__group_t *g;
    int32_t generation;
    bool for_sync;
} store_group_ctx_t;

static void finish_sync(gn__group_t *g, int status)
{
    g->syncing = false;
    if (g->state != GN_GROUP_COMPLETING_REBALANCE) return; /* a rebalance began meanwhile */
    if (status) {
        GN_WARN("group", "storing the assignment failed | group=%s err=%s", g->id,
                gn_err_name(status));
        for (gn__member_t *m = g->members; m; m = m->next) {
            free(m->assignment);
            m->assignment = NULL;
            m->assignment_len = 0;
            if (m->has_sync) {
                m->has_sync = false;
                sync_reply(g->coord, NULL, m->sync.cb, m->sync.arg, status, NULL, 0);
            }
        }
        prepare_rebalance(g, "storing the assignment failed");
        return;
    }
    gn__group_set_state(g, GN_GROUP_STABLE);
    g->sync_deadline = 0;
    uint64_t now = gn__group_now(g->coord);
    for (gn__member_t *m = g->members; m; m = m->next) {
        if (m->has_sync) {
            m->has_sync = false;
            m->session_deadline = now + (uint64_t)m->session_timeout_ms;
            sync_reply(g->coord, g, m->sync.cb, m->sync.arg, 0, m->assignment, m->assignment_len);
        }
    }
    group_arm(g);
}

static void on_group_stored(void *arg, int status)
{
    store_group_ctx_t *c = arg;
    gn__group_t *g = c->g;
    g->coord->store_inflight--;
    if (c->for_sync && g->state != GN_GROUP_DEAD && g->generation == c->generation)
        finish_sync(g, status);
    else if (status)
        GN_WARN("group", "storing group metadata failed | group=%s err=%s", g->id,
                gn_err_name(status));
    gn__group_unref(g);
    free(c);
}

static int store_group_append(gn__group_t *g, bool for_sync)
{
    gn__wr_t k = {0}, v = {0};
    int rc = GN_ENOMEM;
    store_group_ctx_t *c = calloc(1, sizeof(*c));
    if (!c) goto out;
    if ((rc = gn__group_key_encode(&k, g->id)) || (rc = gn__group_value_encode(&v, g))) goto out;
    c->g = g;
    c->generation = g->generation;
    c->for_sync = for_sync;
    gn_bytes_t key = {k.buf, k.len}, val = {v.buf, v.len};
    rc = g->coord->store->append(g->coord, g->id, &key, &val, 1, on_group_stored, c);
    if (rc == 0) {
        gn__group_ref(g);
        g->coord->store_inflight++;
        c = NULL;
    }
out:
    free(c);
    gn__wr_free(&k);
    gn__wr_free(&v);
    return rc;
}

static void store_group(gn__group_t *g)
{
    int rc = store_group_append(g, false);
    if (rc)
        GN_WARN("group", "cannot store group metadata | group=%s err=%s", g->id, gn_err_name(rc));
}

/* ---- JoinGroup ------------------------------------------------------------------- */

static int member_update(gn__member_t *m, const gn_group_join_req_t *req)
{
    gn__proto_t *protos;
    int rc = protos_copy(req, &protos);
    if (rc) return rc;
    protos_free(m->protos, m->protos_count);
    m->protos = protos;
    m->protos_count = req->protocols_count;
    m->session_timeout_ms = req->session_timeout_ms;
    m->rebalance_timeout_ms =
        req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
    if (req->client_id) {
        char *c = strdup(req->client_id);
        if (c) {
            free(m->client_id);
            m->client_id = c;
        }
    }
    if (req->client_host) {
        char *c = strdup(req->client_host);
        if (c) {
            free(m->client_host);
            m->client_host = c;
        }
    }
    return 0;
}

static void member_set_join(gn__group_t *g, gn__member_t *m, gn_group_join_cb cb, void *arg)
{
    if (m->has_join) /* superseded by this newer join of the same member */
        join_reply(g->coord, NULL, m->member_id, m->join.cb, m->join.arg, GN_EREBALANCE_IN_PROGRESS,
                   false, false);
    m->has_join = true;
    m->join.cb = cb;
    m->join.arg = arg;
    m->session_deadline = gn__group_now(g->coord) + (uint64_t)m->session_timeout_ms;
}

static int add_member(gn__group_t *g, char *member_id, const gn_group_join_req_t *req,
                      gn_group_member_t *local, gn_group_join_cb cb, void *arg)
{
    gn__member_t *m = calloc(1, sizeof(*m));
    if (!m) {
        free(member_id);
        return GN_ENOMEM;
    }
    m->member_id = member_id;
    m->instance_id = gn__group_strdup(req->instance_id);
    m->local = local;
    int rc = member_update(m, req);
    if (rc || (req->instance_id && !m->instance_id)) {
        gn__member_free(m);
        return rc ? rc : GN_ENOMEM;
    }
    if (!g->protocol_type) {
        g->protocol_type = strdup(req->protocol_type);
        if (!g->protocol_type) {
            gn__member_free(m);
            return GN_ENOMEM;
        }
    }
    gn__member_t **pp = &g->members;
    while (*pp)
        pp = &(*pp)->next;
    *pp = m;
    g->members_count++;
    member_set_join(g, m, cb, arg);
    if (g->state == GN_GROUP_PREPARING_REBALANCE) {
        /* Kafka's InitialDelayedJoin: each new member extends the initial delay */
        if (g->initial_deadline) {
            uint64_t now = gn__group_now(g->coord);
            uint64_t ext = now + (uint64_t)g->coord->cfg.group_initial_rebalance_delay_ms;
            if (ext > g->rebalance_deadline) ext = g->rebalance_deadline;
            if (ext > g->initial_deadline) g->initial_deadline = ext;
        }
        group_arm(g);
        schedule_check(g);
    } else {
        prepare_rebalance(g, "member joined");
    }
    return 0;
}

static bool supports_protocols(gn__group_t *g, const gn_group_join_req_t *req)
{
    if (!g->members) return true;
    if (!g->protocol_type || strcmp(g->protocol_type, req->protocol_type) != 0) return false;
    /* at least one of the member's protocols is supported by every current member */
    for (size_t i = 0; i < req->protocols_count; i++) {
        bool all = true;
        for (gn__member_t *m = g->members; m && all; m = m->next)
            all = member_proto(m, req->protocols[i].name) != NULL;
        if (all) return true;
    }
    return false;
}

static bool pending_take(gn__group_t *g, const char *member_id)
{
    for (gn__pending_t **pp = &g->pending; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->member_id, member_id) == 0) {
            gn__pending_t *p = *pp;
            *pp = p->next;
            free(p->member_id);
            free(p);
            return true;
        }
    }
    return false;
}

static int join_static_replace(gn__group_t *g, gn__member_t *m, const gn_group_join_req_t *req,
                               gn_group_member_t *local, gn_group_join_cb cb, void *arg)
{
    gn_group_coordinator_t *coord = g->coord;
    char *id = new_member_id(coord, req->instance_id);
    if (!id) return GN_ENOMEM;
    int rc = member_update(m, req);
    if (rc) {
        free(id);
        return rc;
    }
    GN_INFO("group", "static member replaced | group=%s instance=%s old=%s new=%s", g->id,
            req->instance_id, m->member_id, id);
    /* the old instance's pending requests learn it was fenced */
    fail_waits(g, m, GN_EFENCED_INSTANCE);
    if (m->local && m->local != local) gn__local_fenced(m); /* an older gateway session */
    m->local = local;
    bool was_leader = g->leader_id && strcmp(g->leader_id, m->member_id) == 0;
    free(m->member_id);
    m->member_id = id;
    if (was_leader) {
        free(g->leader_id);
        g->leader_id = gn__group_strdup(id);
    }
    switch (g->state) {
    case GN_GROUP_STABLE:
        /* no rebalance: the new instance takes over the old one's assignment */
        m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
        join_reply(coord, g, id, cb, arg, 0, was_leader, was_leader);
        store_group(g);
        group_arm(g);
        return 0;
    case GN_GROUP_PREPARING_REBALANCE:
        member_set_join(g, m, cb, arg);
        schedule_check(g);
        return 0;
    default:
        member_set_join(g, m, cb, arg);
        prepare_rebalance(g, "static member replaced during a rebalance");
        return 0;
    }
}

static int join_impl(gn_group_coordinator_t *coord, const gn_group_join_req_t *req,
                     gn_group_member_t *local, gn_group_join_cb cb, void *arg)
{
    int status = 0;
    gn__group_t *g = NULL;
    const char *member_id = req->member_id ? req->member_id : "";
    char *new_id = NULL;
    if (!coord || !req || !cb) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    if (!coord->ready) {
        status = GN_ECOORDINATOR_LOADING;
        goto reply;
    }
    if (!req->group_id || !*req->group_id) {
        status = GN_EINVALID_GROUP_ID;
        goto reply;
    }
    if ((status = gn__owner_check(coord, req->group_id))) goto reply;
    if (req->session_timeout_ms < coord->cfg.group_min_session_timeout_ms ||
        req->session_timeout_ms > coord->cfg.group_max_session_timeout_ms) {
        status = GN_EINVALID_SESSION_TIMEOUT;
        goto reply;
    }
    if (!req->protocol_type || !*req->protocol_type || req->protocols_count == 0 ||
        !req->protocols) {
        status = GN_EINCONSISTENT_PROTOCOL;
        goto reply;
    }
    g = gn__group_find(coord, req->group_id);
    if (!g) {
        if (*member_id) {
            status = GN_EUNKNOWN_MEMBER;
            goto reply;
        }
        if (!(g = gn__group_get_or_create(coord, req->group_id))) return GN_ENOMEM;
    }
    if (g->state == GN_GROUP_DEAD) {
        status = GN_ECOORDINATOR_NOT_AVAILABLE;
        goto reply;
    }
    if (!supports_protocols(g, req)) {
        status = GN_EINCONSISTENT_PROTOCOL;
        goto reply;
    }
    if (!*member_id) {
        gn__member_t *old = member_by_instance(g, req->instance_id);
        if (old) return join_static_replace(g, old, req, local, cb, arg);
        size_t size = g->members_count;
        for (gn__pending_t *p = g->pending; p; p = p->next)
            size++;
        if (size >= (size_t)coord->cfg.group_max_size) {
            status = GN_EGROUP_MAX_SIZE;
            goto reply;
        }
        new_id = new_member_id(coord, req->instance_id ? req->instance_id
                                                       : (req->client_id ? req->client_id : ""));
        if (!new_id) return GN_ENOMEM;
        if (req->require_known_member_id && !req->instance_id) {
            gn__pending_t *p = calloc(1, sizeof(*p));
            if (!p) {
                free(new_id);
                return GN_ENOMEM;
            }
            p->member_id = new_id;
            p->deadline = gn__group_now(coord) + (uint64_t)req->session_timeout_ms;
            p->next = g->pending;
            g->pending = p;
            group_arm(g);
            join_reply(coord, g, new_id, cb, arg, GN_EMEMBER_ID_REQUIRED, false, false);
            return 0;
        }
        return add_member(g, new_id, req, local, cb, arg);
    }
    if (pending_take(g, member_id)) {
        if (g->members_count >= (size_t)coord->cfg.group_max_size) {
            status = GN_EGROUP_MAX_SIZE;
            goto reply;
        }
        if (!(new_id = strdup(member_id))) return GN_ENOMEM;
        return add_member(g, new_id, req, local, cb, arg);
    }
    gn__member_t *m = gn__member_find(g, member_id);
    if (req->instance_id) {
        gn__member_t *owner = member_by_instance(g, req->instance_id);
        if (owner && owner != m) {
            status = GN_EFENCED_INSTANCE;
            goto reply;
        }
    }
    if (!m) {
        status = GN_EUNKNOWN_MEMBER;
        goto reply;
    }
    if (local) m->local = local;
    switch (g->state) {
    case GN_GROUP_PREPARING_REBALANCE: {
        int rc = member_update(m, req);
        if (rc) return rc;
        member_set_join(g, m, cb, arg);
        schedule_check(g);
        group_arm(g);
        return 0;
    }
    case GN_GROUP_COMPLETING_REBALANCE:
        if (protos_equal(m, req)) {
            /* a retried join: answer with the generation in progress */
            bool leader = g->leader_id && strcmp(g->leader_id, m->member_id) == 0;
            m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
            join_reply(coord, g, m->member_id, cb, arg, 0, leader, false);
            return 0;
        }
        goto rebalance;
    case GN_GROUP_STABLE: {
        bool leader = g->leader_id && strcmp(g->leader_id, m->member_id) == 0;
        if (!leader && protos_equal(m, req)) {
            m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
            join_reply(coord, g, m->member_id, cb, arg, 0, false, false);
            group_arm(g);
            return 0;
        }
        goto rebalance;
    }
    default:
        status = GN_EUNKNOWN_MEMBER;
        goto reply;
    }
rebalance : {
    int rc = member_update(m, req);
    if (rc) return rc;
    member_set_join(g, m, cb, arg);
    prepare_rebalance(g, "member rejoined with new metadata or as leader");
    return 0;
}
reply:
    join_reply(coord, NULL, member_id, cb, arg, status, false, false);
    return 0;
}

int gn_group_join(gn_group_coordinator_t *coord, const gn_group_join_req_t *req,
                  gn_group_join_cb cb, void *arg)
{
    return join_impl(coord, req, NULL, cb, arg);
}

int gn__group_join_local(gn_group_coordinator_t *coord, const gn_group_join_req_t *req,
                         gn_group_member_t *local, gn_group_join_cb cb, void *arg)
{
    return join_impl(coord, req, local, cb, arg);
}

/* Common checks of SyncGroup, Heartbeat and OffsetCommit (Kafka's validateMember). */
static int check_member(gn__group_t *g, const char *member_id, const char *instance_id,
                        int32_t generation, gn__member_t **out)
{
    if (!g) return GN_EUNKNOWN_MEMBER;
    if (g->state == GN_GROUP_DEAD) return GN_ECOORDINATOR_NOT_AVAILABLE;
    if (instance_id) {
        gn__member_t *owner = member_by_instance(g, instance_id);
        if (owner && strcmp(owner->member_id, member_id ? member_id : "") != 0)
            return GN_EFENCED_INSTANCE;
    }
    gn__member_t *m = gn__member_find(g, member_id ? member_id : "");
    if (!m) return GN_EUNKNOWN_MEMBER;
    if (generation != g->generation) return GN_EILLEGAL_GENERATION;
    *out = m;
    return 0;
}

/* ---- SyncGroup ------------------------------------------------------------------- */

int gn_group_sync(gn_group_coordinator_t *coord, const gn_group_sync_req_t *req,
                  gn_group_sync_cb cb, void *arg)
{
    if (!coord || !req || !cb) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    int status;
    gn__member_t *m = NULL;
    gn__group_t *g = NULL;
    if ((status = gn__owner_check(coord, req->group_id))) goto reply;
    g = req->group_id ? gn__group_find(coord, req->group_id) : NULL;
    if ((status = check_member(g, req->member_id, req->instance_id, req->generation_id, &m)))
        goto reply;
    if ((req->protocol_type && g->protocol_type && strcmp(req->protocol_type, g->protocol_type)) ||
        (req->protocol_name && g->protocol_name && strcmp(req->protocol_name, g->protocol_name))) {
        status = GN_EINCONSISTENT_PROTOCOL;
        goto reply;
    }
    switch (g->state) {
    case GN_GROUP_EMPTY:
        status = GN_EUNKNOWN_MEMBER;
        goto reply;
    case GN_GROUP_PREPARING_REBALANCE:
        status = GN_EREBALANCE_IN_PROGRESS;
        goto reply;
    case GN_GROUP_STABLE:
        m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
        sync_reply(coord, g, cb, arg, 0, m->assignment, m->assignment_len);
        group_arm(g);
        return 0;
    case GN_GROUP_COMPLETING_REBALANCE:
        break;
    default:
        status = GN_ECOORDINATOR_NOT_AVAILABLE;
        goto reply;
    }
    if (m->has_sync)
        sync_reply(coord, NULL, m->sync.cb, m->sync.arg, GN_EREBALANCE_IN_PROGRESS, NULL, 0);
    m->has_sync = true;
    m->sync.cb = cb;
    m->sync.arg = arg;
    m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
    if (g->leader_id && strcmp(g->leader_id, m->member_id) == 0 && !g->syncing) {
        for (gn__member_t *o = g->members; o; o = o->next) {
            free(o->assignment);
            o->assignment = NULL;
            o->assignment_len = 0;
            for (size_t i = 0; i < req->assignments_count; i++) {
                const gn_group_assignment_t *a = &req->assignments[i];
                if (!a->member_id || strcmp(a->member_id, o->member_id) != 0) continue;
                if (a->assignment.len) {
                    o->assignment = malloc(a->assignment.len);
                    if (!o->assignment) {
                        m->has_sync = false;
                        return GN_ENOMEM;
                    }
                    memcpy(o->assignment, a->assignment.ptr, a->assignment.len);
                    o->assignment_len = a->assignment.len;
                }
                break;
            }
        }
        g->syncing = true;
        int rc = store_group_append(g, true);
        if (rc) {
            g->syncing = false;
            m->has_sync = false;
            return rc;
        }
    }
    group_arm(g);
    return 0;
reply:
    sync_reply(coord, NULL, cb, arg, status, NULL, 0);
    return 0;
}

/* ---- Heartbeat -------------------------------------------------------------------- */

int gn_group_heartbeat(gn_group_coordinator_t *coord, const char *group_id, int32_t generation_id,
                       const char *member_id, const char *instance_id, gn_group_status_cb cb,
                       void *arg)
{
    if (!coord || !cb) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    int owner = gn__owner_check(coord, group_id);
    if (owner) return status_reply(coord, cb, arg, owner);
    gn__group_t *g = group_id ? gn__group_find(coord, group_id) : NULL;
    gn__member_t *m = NULL;
    int status = check_member(g, member_id, instance_id, generation_id, &m);
    if (status == 0) {
        if (g->state == GN_GROUP_EMPTY) {
            status = GN_EUNKNOWN_MEMBER;
        } else {
            m->session_deadline = gn__group_now(coord) + (uint64_t)m->session_timeout_ms;
            if (g->state == GN_GROUP_PREPARING_REBALANCE) status = GN_EREBALANCE_IN_PROGRESS;
            group_arm(g);
        }
    } else if (status == GN_EILLEGAL_GENERATION && g && g->state == GN_GROUP_PREPARING_REBALANCE) {
        /* a member a generation behind learns to rejoin (as Kafka answers) */
        status = GN_EREBALANCE_IN_PROGRESS;
    }
    return status_reply(coord, cb, arg, status);
}

/* Refreshes a member's session on an offset commit (Kafka does the same). */
int gn__group_check_commit(gn__group_t *g, const char *member_id, const char *instance_id,
                           int32_t generation)
{
    gn__member_t *m = NULL;
    if (g->state == GN_GROUP_DEAD) return GN_ECOORDINATOR_NOT_AVAILABLE;
    if (generation < 0 && (!member_id || !*member_id) && !instance_id) {
        /* a simple commit: only groups without members accept it */
        return g->state == GN_GROUP_EMPTY ? 0 : GN_EUNKNOWN_MEMBER;
    }
    int rc = check_member(g, member_id, instance_id, generation, &m);
    if (rc) return rc;
    if (g->state == GN_GROUP_COMPLETING_REBALANCE) return GN_EREBALANCE_IN_PROGRESS;
    m->session_deadline = gn__group_now(g->coord) + (uint64_t)m->session_timeout_ms;
    group_arm(g);
    return 0;
}

/* ---- LeaveGroup ------------------------------------------------------------------- */

typedef struct leave_op {
    gn__op_t op;
    gn_group_leave_cb cb;
    void *arg;
    int status;
    size_t count;
    int errors[];
} leave_op_t;

static void leave_op_run(gn__op_t *op, int shutdown)
{
    leave_op_t *l = (leave_op_t *)op;
    if (shutdown)
        for (size_t i = 0; i < l->count; i++)
            l->errors[i] = GN_ESHUTDOWN;
    l->cb(l->arg, shutdown ? GN_ESHUTDOWN : l->status, l->errors, l->count);
    free(l);
}

int gn_group_leave(gn_group_coordinator_t *coord, const char *group_id,
                   const gn_group_member_ref_t *members, size_t count, gn_group_leave_cb cb,
                   void *arg)
{
    if (!coord || !cb || (count && !members)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    leave_op_t *l = calloc(1, sizeof(*l) + count * sizeof(int));
    if (!l) return GN_ENOMEM;
    l->op.run = leave_op_run;
    l->cb = cb;
    l->arg = arg;
    l->count = count;
    gn__group_t *g = group_id ? gn__group_find(coord, group_id) : NULL;
    if ((l->status = gn__owner_check(coord, group_id))) {
        /* the group-level error answers every member */
    } else if (!g || g->state == GN_GROUP_DEAD) {
        for (size_t i = 0; i < count; i++)
            l->errors[i] = GN_EUNKNOWN_MEMBER;
    } else {
        bool removed = false;
        for (size_t i = 0; i < count; i++) {
            const char *mid = members[i].member_id ? members[i].member_id : "";
            gn__member_t *m;
            if (members[i].instance_id) {
                m = member_by_instance(g, members[i].instance_id);
                if (!m) {
                    l->errors[i] = GN_EUNKNOWN_MEMBER;
                    continue;
                }
                if (*mid && strcmp(mid, m->member_id) != 0) {
                    l->errors[i] = GN_EFENCED_INSTANCE;
                    continue;
                }
            } else {
                if (pending_take(g, mid)) continue;
                m = gn__member_find(g, mid);
                if (!m) {
                    l->errors[i] = GN_EUNKNOWN_MEMBER;
                    continue;
                }
            }
            GN_INFO("group", "member left | group=%s member=%s", g->id, m->member_id);
            member_remove(g, m, GN_EUNKNOWN_MEMBER, false);
            removed = true;
        }
        if (removed) {
            if (g->state == GN_GROUP_STABLE || g->state == GN_GROUP_COMPLETING_REBALANCE)
                prepare_rebalance(g, "member left");
            else if (g->state == GN_GROUP_PREPARING_REBALANCE)
                schedule_check(g);
            group_arm(g);
        }
    }
    gn__group_defer(coord, &l->op);
    return 0;
}

/* The server-side member m leaves (member.c): removed, the group rebalances. */
void gn__group_remove_local(gn_group_coordinator_t *coord, const char *group_id,
                            gn_group_member_t *local)
{
    gn__group_t *g = gn__group_find(coord, group_id);
    if (!g) return;
    for (gn__member_t *m = g->members; m; m = m->next) {
        if (m->local != local) continue;
        m->local = NULL;
        GN_INFO("group", "member left | group=%s member=%s", g->id, m->member_id);
        member_remove(g, m, GN_EUNKNOWN_MEMBER, true);
        group_arm(g);
        return;
    }
}

bool gn__group_subscribes(gn__group_t *g, const char *topic)
{
    if (!g->protocol_type || strcmp(g->protocol_type, GN_GROUP_CONSUMER_PROTOCOL) != 0)
        return false;
    for (gn__member_t *m = g->members; m; m = m->next) {
        const gn__proto_t *p = member_proto(m, g->protocol_name);
        if (!p && m->protos_count) p = &m->protos[0];
        if (!p) continue;
        gn__subscription_t sub;
        if (gn__subscription_decode((gn_bytes_t){p->meta, p->meta_len}, &sub)) continue;
        bool found = false;
        for (size_t i = 0; i < sub.topics_count && !found; i++)
            found = strcmp(sub.topics[i], topic) == 0;
        gn__subscription_free(&sub);
        if (found) return true;
    }
    return false;
}

/* After loading: members restored from the log get fresh session timers, as Kafka
 * schedules them on load; those who do not come back expire and rebalance. */
void gn__group_loaded_metadata(gn__group_t *g)
{
    uint64_t now = gn__group_now(g->coord);
    for (gn__member_t *m = g->members; m; m = m->next)
        m->session_deadline = now + (uint64_t)m->session_timeout_ms;
    group_arm(g);
}
