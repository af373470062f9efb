/* SPDX-License-Identifier: Apache-2.0 */
/* Server-side group members for gateway sessions (MQTT $share subscribers, REST
 * consumer instances, WebSocket clients with a group). Each drives the same
 * join/sync protocol as a Kafka client, with protocol type "consumer" and the
 * ConsumerProtocol subscription; it computes the assignment when it leads.
 *
 * The group's coordinator is the leader of its __consumer_offsets partition. When that
 * is this broker the member is local: it needs no heartbeats, the coordinator tells it
 * directly when a rebalance starts. When another broker coordinates the group the
 * member is remote: it joins, syncs, heartbeats (every MEMBER_HEARTBEAT_MS), commits and
 * leaves there over the internal RPC (remote.c), an ordinary member of the group there.
 * On a coordinator error (NOT_COORDINATOR, loading, unavailable, connection lost,
 * timeout) it gives up its partitions, looks the coordinator up again and rejoins after
 * a backoff, as a Kafka consumer does; after MAX_COORD_RETRIES such rounds in a row it
 * fails. Loop thread only; user callbacks run from deferred completions. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "group/group_int.h"

int gn__group_join_local(gn_group_coordinator_t *coord, const gn_group_join_req_t *req,
                         gn_group_member_t *local, gn_group_join_cb cb, void *arg);
void gn__group_remove_local(gn_group_coordinator_t *coord, const char *group_id,
                            gn_group_member_t *local);

#define MAX_FAILURES        8    /* consecutive failed rounds before the member gives up */
#define MAX_COORD_RETRIES   16   /* consecutive coordinator errors: about a minute */
#define RETRY_MIN_MS        200  /* backoff after a coordinator error, doubling ... */
#define RETRY_MAX_MS        5000 /* ... up to this */
#define MEMBER_HEARTBEAT_MS 1000 /* a remote member's heartbeat interval */
#define MEMBER_TICK_MS      100

typedef enum member_state {
    M_IDLE = 0, /* waiting for the next join attempt (due) */
    M_JOINING,
    M_SYNCING,
    M_STABLE,
    M_FAILED,
} member_state_t;

struct gn_group_member {
    gn_group_coordinator_t *coord;
    char *group_id;
    char **topics;
    size_t topics_count;
    char **assignors;
    size_t assignors_count;
    char *client_id, *client_host, *instance_id;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    gn_group_member_callbacks_t cbs;
    void *arg;
    uint8_t *subscription; /* ConsumerProtocol subscription v1, for every assignor */
    size_t subscription_len;
    char *member_id;
    int32_t generation;
    member_state_t state;
    gn__assignment_t owned;
    int inflight; /* requests and ops that still point here */
    int failures;
    int coord_failures; /* coordinator errors in a row */
    int last_err;       /* the last coordinator error logged */
    bool remote;        /* the coordinator is broker node */
    int32_t node;
    uint64_t due; /* M_IDLE: next join; remote M_STABLE: next heartbeat (uv_now) */
    bool hb_inflight;
    bool left;
    bool rejoin_queued;
    bool kick_queued;
    gn_group_member_t *next;
};

static const char *const default_assignors[] = {GN_ASSIGNOR_RANGE, GN_ASSIGNOR_ROUNDROBIN,
                                                GN_ASSIGNOR_KAFKAJS_ROUNDROBIN};

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void member_free(gn_group_member_t *mem)
{
    strv_free(mem->topics, mem->topics_count);
    strv_free(mem->assignors, mem->assignors_count);
    free(mem->group_id);
    free(mem->client_id);
    free(mem->client_host);
    free(mem->instance_id);
    free(mem->subscription);
    free(mem->member_id);
    gn__assignment_free(&mem->owned);
    free(mem);
}

/* Drops one reference; true when the member is gone (left or coordinator closed). */
static bool member_release(gn_group_member_t *mem)
{
    mem->inflight--;
    if (mem->left && mem->inflight == 0) {
        member_free(mem);
        return true;
    }
    return mem->left || mem->coord->closing;
}

static void unlink_local(gn_group_member_t *mem)
{
    gn_group_member_t **pp = &mem->coord->locals;
    while (*pp && *pp != mem)
        pp = &(*pp)->next;
    if (*pp) *pp = mem->next;
}

static void fail(gn_group_member_t *mem, int status)
{
    mem->state = M_FAILED;
    GN_WARN("group", "server-side member stopped | group=%s member=%s err=%s", mem->group_id,
            mem->member_id ? mem->member_id : "", gn_err_name(status));
    if (mem->cbs.failed) mem->cbs.failed(mem->arg, mem, status);
}

/* The partitions as gn_topic_partition_t (borrowing the assignment's strings). */
static gn_topic_partition_t *flatten(const gn__assignment_t *a, size_t *count)
{
    size_t n = 0, k = 0;
    for (size_t t = 0; t < a->topics_count; t++)
        n += a->topics[t].count;
    gn_topic_partition_t *tps = malloc((n ? n : 1) * sizeof(*tps));
    if (!tps) return NULL;
    for (size_t t = 0; t < a->topics_count; t++)
        for (size_t p = 0; p < a->topics[t].count; p++)
            tps[k++] = (gn_topic_partition_t){a->topics[t].topic, a->topics[t].partitions[p]};
    *count = k;
    return tps;
}

static void revoke_owned(gn_group_member_t *mem)
{
    size_t n = 0;
    gn_topic_partition_t *tps = flatten(&mem->owned, &n);
    if (tps && n && mem->cbs.revoked) mem->cbs.revoked(mem->arg, mem, tps, n);
    free(tps);
    gn__assignment_free(&mem->owned);
}

static void start_join(gn_group_member_t *mem);

/* ---- where the coordinator is; retries -------------------------------------------- */

/* Errors after which a Kafka consumer looks for the coordinator again. */
static bool coordinator_error(int status)
{
    return status == GN_ENOT_COORDINATOR || status == GN_ECOORDINATOR_NOT_AVAILABLE ||
           status == GN_ECOORDINATOR_LOADING || status == GN_EIO || status == GN_ETIMEOUT ||
           status == GN_ESHUTDOWN;
}

static void timer_ensure(gn_group_coordinator_t *coord)
{
    if (!coord->closing && !uv_is_active((uv_handle_t *)&coord->member_timer))
        uv_timer_start(&coord->member_timer, gn__member_timer_run, MEMBER_TICK_MS, MEMBER_TICK_MS);
}

/* Picks this broker's coordinator or the one on another broker for the next join. */
static int resolve(gn_group_member_t *mem)
{
    int32_t node = -1;
    int rc = gn__group_route(mem->coord, mem->group_id, &node);
    if (rc < 0) return rc;
    mem->remote = rc == 1;
    mem->node = node;
    return 0;
}

/* A coordinator error: look again after a backoff, or fail after too many. */
static void retry_or_fail(gn_group_member_t *mem, int status)
{
    if (!coordinator_error(status) || ++mem->coord_failures > MAX_COORD_RETRIES) {
        fail(mem, status);
        return;
    }
    int shift = mem->coord_failures - 1 < 5 ? mem->coord_failures - 1 : 5;
    uint64_t backoff = (uint64_t)RETRY_MIN_MS << shift;
    if (backoff > RETRY_MAX_MS) backoff = RETRY_MAX_MS;
    if (status != mem->last_err)
        GN_INFO("group",
                "group coordinator unavailable; looking it up again | group=%s member=%s "
                "err=%s retry_ms=%llu attempt=%d",
                mem->group_id, mem->member_id ? mem->member_id : "", gn_err_name(status),
                (unsigned long long)backoff, mem->coord_failures);
    mem->last_err = status;
    mem->state = M_IDLE;
    mem->hb_inflight = false;
    mem->due = uv_now(mem->coord->loop) + backoff;
    timer_ensure(mem->coord);
}

/* ---- sync ------------------------------------------------------------------------ */

static void on_sync(void *arg, int status, const char *ptype, const char *pname,
                    gn_bytes_t assignment)
{
    gn_group_member_t *mem = arg;
    (void)ptype;
    (void)pname;
    if (member_release(mem)) return;
    if (mem->state != M_SYNCING) return;
    if (status == 0) {
        gn__assignment_t a;
        if (gn__assignment_decode(assignment, &a)) {
            GN_WARN("group", "undecodable assignment | group=%s member=%s", mem->group_id,
                    mem->member_id);
            memset(&a, 0, sizeof(a));
        }
        gn__assignment_free(&mem->owned);
        mem->owned = a;
        mem->state = M_STABLE;
        mem->failures = 0;
        mem->coord_failures = 0;
        mem->last_err = 0;
        if (mem->remote) {
            mem->due = uv_now(mem->coord->loop) + MEMBER_HEARTBEAT_MS;
            timer_ensure(mem->coord);
        }
        size_t n = 0;
        gn_topic_partition_t *tps = flatten(&mem->owned, &n);
        if (mem->cbs.assigned) mem->cbs.assigned(mem->arg, mem, mem->generation, tps, tps ? n : 0);
        free(tps);
        return;
    }
    if (status == GN_EUNKNOWN_MEMBER) {
        free(mem->member_id);
        mem->member_id = NULL;
    }
    if (coordinator_error(status)) {
        retry_or_fail(mem, status);
        return;
    }
    if (status == GN_EFENCED_INSTANCE || status == GN_EINCONSISTENT_PROTOCOL ||
        ++mem->failures > MAX_FAILURES) {
        fail(mem, status);
        return;
    }
    start_join(mem); /* rebalance in progress, stale generation, store error: rejoin */
}

static int32_t local_partitions(void *arg, const char *topic)
{
    gn_group_coordinator_t *coord = arg;
    return coord->store->partitions(coord, topic);
}

/* The leader's work: decode every member's subscription, run the chosen assignor,
 * encode one assignment each. Members with undecodable metadata get nothing. */
static int compute_assignment(gn_group_member_t *mem, const gn_group_join_res_t *res,
                              gn_group_assignment_t **out, gn__wr_t **bufs)
{
    int rc = 0;
    size_t n = res->members_count;
    gn__assign_fn fn = gn__assignor_find(res->protocol_name);
    gn__subscription_t *subs = calloc(n + 1, sizeof(*subs));
    gn__assign_member_t *am = calloc(n + 1, sizeof(*am));
    gn_group_assignment_t *asg = calloc(n + 1, sizeof(*asg));
    gn__wr_t *w = calloc(n + 1, sizeof(*w));
    if (!subs || !am || !asg || !w) {
        rc = GN_ENOMEM;
        goto out;
    }
    if (!fn) {
        rc = GN_EINCONSISTENT_PROTOCOL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const gn_group_join_member_t *jm = &res->members[i];
        if (gn__subscription_decode(jm->metadata, &subs[i])) memset(&subs[i], 0, sizeof(subs[i]));
        am[i].member_id = jm->member_id;
        am[i].instance_id = jm->instance_id;
        am[i].topics = (const char *const *)subs[i].topics;
        am[i].topics_count = subs[i].topics_count;
    }
    if ((rc = fn(am, n, local_partitions, mem->coord))) goto out;
    for (size_t i = 0; i < n; i++) {
        rc = gn__assignment_encode(&w[i], 0, am[i].out.topics, am[i].out.topics_count,
                                   GN_BYTES_NULL);
        if (rc) goto out;
        asg[i].member_id = res->members[i].member_id;
        asg[i].assignment = (gn_bytes_t){w[i].buf, w[i].len};
    }
out:
    for (size_t i = 0; am && subs && i < n; i++) {
        gn__assignment_free(&am[i].out);
        gn__subscription_free(&subs[i]);
    }
    free(subs);
    free(am);
    if (rc) {
        for (size_t i = 0; w && i < n; i++)
            gn__wr_free(&w[i]);
        free(w);
        free(asg);
        return rc;
    }
    *out = asg;
    *bufs = w;
    return 0;
}

static void on_join(void *arg, int status, const gn_group_join_res_t *res)
{
    gn_group_member_t *mem = arg;
    if (member_release(mem)) return;
    if (mem->state != M_JOINING) return;
    if (status) {
        if (status == GN_EUNKNOWN_MEMBER) {
            free(mem->member_id);
            mem->member_id = NULL;
        }
        /* local: a newer join of ours is pending; remote: one join at a time, so retry */
        if (status == GN_EREBALANCE_IN_PROGRESS && !mem->remote) return;
        if (coordinator_error(status)) {
            retry_or_fail(mem, status);
            return;
        }
        if ((status == GN_EUNKNOWN_MEMBER || status == GN_EREBALANCE_IN_PROGRESS) &&
            ++mem->failures <= MAX_FAILURES) {
            start_join(mem);
            return;
        }
        fail(mem, status);
        return;
    }
    free(mem->member_id);
    mem->member_id = strdup(res->member_id);
    mem->generation = res->generation_id;
    gn_group_assignment_t *asg = NULL;
    gn__wr_t *bufs = NULL;
    size_t nasg = 0;
    if (strcmp(res->leader_id, res->member_id) == 0 && !res->skip_assignment) {
        int rc = compute_assignment(mem, res, &asg, &bufs);
        if (rc) {
            fail(mem, rc);
            return;
        }
        nasg = res->members_count;
    }
    gn_group_sync_req_t req = {
        .group_id = mem->group_id,
        .generation_id = mem->generation,
        .member_id = mem->member_id,
        .instance_id = mem->instance_id,
        .protocol_type = res->protocol_type,
        .protocol_name = res->protocol_name,
        .assignments = asg,
        .assignments_count = nasg,
    };
    mem->state = M_SYNCING;
    int rc = !mem->member_id ? GN_ENOMEM
             : mem->remote   ? gn__group_remote_sync(mem->coord, mem->node, &req, on_sync, mem)
                             : gn_group_sync(mem->coord, &req, on_sync, mem);
    if (rc == 0)
        mem->inflight++;
    else
        retry_or_fail(mem, rc);
    for (size_t i = 0; bufs && i < nasg; i++)
        gn__wr_free(&bufs[i]);
    free(bufs);
    free(asg);
}

static int try_join(gn_group_member_t *mem)
{
    int rc = resolve(mem);
    if (rc) return rc;
    gn_group_protocol_t protos[16];
    size_t n = mem->assignors_count < 16 ? mem->assignors_count : 16;
    for (size_t i = 0; i < n; i++)
        protos[i] =
            (gn_group_protocol_t){mem->assignors[i], {mem->subscription, mem->subscription_len}};
    gn_group_join_req_t req = {
        .group_id = mem->group_id,
        .member_id = mem->member_id ? mem->member_id : "",
        .instance_id = mem->instance_id,
        .client_id = mem->client_id,
        .client_host = mem->client_host,
        .protocol_type = GN_GROUP_CONSUMER_PROTOCOL,
        .protocols = protos,
        .protocols_count = n,
        .session_timeout_ms = mem->session_timeout_ms,
        .rebalance_timeout_ms = mem->rebalance_timeout_ms,
    };
    mem->state = M_JOINING;
    rc = mem->remote ? gn__group_remote_join(mem->coord, mem->node, &req, on_join, mem)
                     : gn__group_join_local(mem->coord, &req, mem, on_join, mem);
    if (rc == 0) mem->inflight++;
    return rc;
}

static void start_join(gn_group_member_t *mem)
{
    int rc = try_join(mem);
    if (rc) retry_or_fail(mem, rc);
}

/* ---- a remote member's heartbeats ---------------------------------------------------- */

static void on_heartbeat(void *arg, int status)
{
    gn_group_member_t *mem = arg;
    mem->hb_inflight = false;
    if (member_release(mem)) return;
    if (mem->state != M_STABLE || !mem->remote) return;
    if (status == 0) {
        mem->due = uv_now(mem->coord->loop) + MEMBER_HEARTBEAT_MS;
        return;
    }
    /* rebalance, stale generation, unknown member, coordinator gone: give the
     * partitions up and rejoin (at the coordinator found then) */
    revoke_owned(mem);
    if (mem->left) return; /* the revoked callback left */
    if (status == GN_EUNKNOWN_MEMBER) {
        free(mem->member_id);
        mem->member_id = NULL;
    }
    if (status == GN_EFENCED_INSTANCE) {
        fail(mem, status);
        return;
    }
    if (coordinator_error(status)) {
        retry_or_fail(mem, status);
        return;
    }
    start_join(mem);
}

static void heartbeat(gn_group_member_t *mem)
{
    int rc = gn__group_remote_heartbeat(mem->coord, mem->node, mem->group_id, mem->generation,
                                        mem->member_id, mem->instance_id, on_heartbeat, mem);
    if (rc == 0) {
        mem->inflight++;
        mem->hb_inflight = true;
        return;
    }
    revoke_owned(mem);
    if (!mem->left) retry_or_fail(mem, rc);
}

/* ---- notifications from the coordinator ---------------------------------------------- */

typedef struct rejoin_op {
    gn__op_t op;
    gn_group_member_t *mem;
    /* 0: rejoin; else stop with this status (GN_EFENCED_INSTANCE: a newer session took
     * over the instance id; GN_ENOT_COORDINATOR: the group moved to another broker) */
    int fail_status;
} rejoin_op_t;

static void rejoin_op_run(gn__op_t *op, int shutdown)
{
    rejoin_op_t *r = (rejoin_op_t *)op;
    gn_group_member_t *mem = r->mem;
    int fail_status = r->fail_status;
    free(r);
    mem->rejoin_queued = false;
    if (member_release(mem) || shutdown) return;
    if (fail_status && coordinator_error(fail_status)) {
        /* the group moved away from this broker: look for its new coordinator (a
         * pending join or sync fails with the same error and does the same) */
        if (mem->state != M_STABLE) return;
        revoke_owned(mem);
        if (!mem->left) retry_or_fail(mem, fail_status);
        return;
    }
    if (fail_status) {
        if (mem->state == M_STABLE) revoke_owned(mem);
        if (!mem->left && mem->state != M_FAILED) fail(mem, fail_status);
        return;
    }
    if (mem->state == M_JOINING || mem->state == M_FAILED) return;
    if (mem->state == M_STABLE) revoke_owned(mem);
    if (mem->left) return; /* the revoked callback left */
    start_join(mem);
}

static void queue_op(gn_group_member_t *mem, int fail_status)
{
    if ((mem->rejoin_queued && !fail_status) || mem->left) return;
    rejoin_op_t *r = calloc(1, sizeof(*r));
    if (!r) return;
    r->op.run = rejoin_op_run;
    r->mem = mem;
    r->fail_status = fail_status;
    mem->rejoin_queued = true;
    mem->inflight++;
    gn__group_defer(mem->coord, &r->op);
}

static void queue_rejoin(gn_group_member_t *mem)
{
    queue_op(mem, 0);
}

void gn__local_fenced(gn__member_t *m)
{
    gn_group_member_t *mem = m->local;
    m->local = NULL;
    if (!mem) return;
    free(mem->member_id);
    mem->member_id = NULL;
    queue_op(mem, GN_EFENCED_INSTANCE);
}

void gn__local_lost(gn__member_t *m, int status)
{
    gn_group_member_t *mem = m->local;
    m->local = NULL;
    if (!mem) return;
    if (!coordinator_error(status)) { /* the new coordinator may know the member id */
        free(mem->member_id);
        mem->member_id = NULL;
    }
    queue_op(mem, status);
}

void gn__local_rebalance(gn__member_t *m)
{
    gn_group_member_t *mem = m->local;
    if (mem && mem->state == M_STABLE) queue_rejoin(mem);
    /* JOINING: the pending join completes in the new generation; SYNCING: the
     * pending sync fails with REBALANCE_IN_PROGRESS and the member rejoins. */
}

void gn__local_removed(gn__member_t *m)
{
    gn_group_member_t *mem = m->local;
    m->local = NULL;
    if (!mem) return;
    free(mem->member_id);
    mem->member_id = NULL;
    if (mem->state == M_STABLE) queue_rejoin(mem);
}

void gn__locals_drop(gn_group_coordinator_t *coord)
{
    while (coord->locals) {
        gn_group_member_t *mem = coord->locals;
        coord->locals = mem->next;
        mem->left = true;
        if (mem->inflight == 0) member_free(mem);
    }
}

/* ---- the member timer: retries and remote heartbeats that are due ------------------ */

typedef struct kick_op {
    gn__op_t op;
    gn_group_member_t *mem;
} kick_op_t;

static void kick_op_run(gn__op_t *op, int shutdown)
{
    kick_op_t *k = (kick_op_t *)op;
    gn_group_member_t *mem = k->mem;
    free(k);
    mem->kick_queued = false;
    if (member_release(mem) || shutdown) return;
    if (mem->state == M_IDLE)
        start_join(mem);
    else if (mem->state == M_STABLE && mem->remote && !mem->hb_inflight)
        heartbeat(mem);
}

void gn__member_timer_run(uv_timer_t *t)
{
    gn_group_coordinator_t *coord = t->data;
    uint64_t now = uv_now(coord->loop);
    bool needed = false;
    for (gn_group_member_t *mem = coord->locals; mem; mem = mem->next) {
        bool waits = mem->state == M_IDLE || (mem->state == M_STABLE && mem->remote);
        needed |= waits;
        if (!waits || mem->kick_queued || mem->hb_inflight || now < mem->due) continue;
        kick_op_t *k = calloc(1, sizeof(*k));
        if (!k) continue;
        k->op.run = kick_op_run;
        k->mem = mem;
        mem->kick_queued = true;
        mem->inflight++;
        gn__group_defer(coord, &k->op); /* callbacks may leave: never from this walk */
    }
    if (!needed) uv_timer_stop(t);
}

/* ---- public API ------------------------------------------------------------------------ */

static char **strv_dup(const char *const *v, size_t n)
{
    char **d = calloc(n ? n : 1, sizeof(char *));
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(d[i] = strdup(v[i] ? v[i] : ""))) {
            strv_free(d, i);
            return NULL;
        }
    }
    return d;
}

int gn_group_member_join(gn_group_coordinator_t *coord, const gn_group_member_opts_t *opts,
                         const gn_group_member_callbacks_t *cbs, void *arg, gn_group_member_t **out)
{
    if (!coord || !opts || !cbs || !out || !opts->group_id || !*opts->group_id ||
        (opts->topics_count && !opts->topics))
        return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    /* loading or no coordinator anywhere: the gateway retries or shows the error */
    int32_t node;
    int rc = gn__group_route(coord, opts->group_id, &node);
    if (rc < 0) return rc;
    rc = GN_ENOMEM;
    gn__wr_t w = {0};
    gn_group_member_t *mem = calloc(1, sizeof(*mem));
    if (!mem) return GN_ENOMEM;
    mem->coord = coord;
    mem->cbs = *cbs;
    mem->arg = arg;
    mem->generation = -1;
    mem->node = -1;
    const char *const *asg = opts->assignors ? opts->assignors : default_assignors;
    size_t nasg = opts->assignors ? opts->assignors_count
                                  : sizeof(default_assignors) / sizeof(default_assignors[0]);
    if (nasg == 0 || nasg > 16) {
        rc = GN_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < nasg; i++)
        if (!gn__assignor_find(asg[i])) {
            rc = GN_EINVAL; /* the gateway can only run the assignors it knows */
            goto out;
        }
    mem->group_id = strdup(opts->group_id);
    mem->topics = strv_dup(opts->topics, opts->topics_count);
    mem->topics_count = opts->topics_count;
    mem->assignors = strv_dup(asg, nasg);
    mem->assignors_count = nasg;
    mem->client_id = strdup(opts->client_id ? opts->client_id : "ganglion");
    mem->client_host = strdup(opts->client_host ? opts->client_host : "/127.0.0.1");
    mem->instance_id = gn__group_strdup(opts->instance_id);
    mem->session_timeout_ms = opts->session_timeout_ms ? opts->session_timeout_ms : 45000;
    mem->rebalance_timeout_ms = opts->rebalance_timeout_ms ? opts->rebalance_timeout_ms : 60000;
    if (mem->session_timeout_ms < coord->cfg.group_min_session_timeout_ms)
        mem->session_timeout_ms = coord->cfg.group_min_session_timeout_ms;
    if (mem->session_timeout_ms > coord->cfg.group_max_session_timeout_ms)
        mem->session_timeout_ms = coord->cfg.group_max_session_timeout_ms;
    if (!mem->group_id || !mem->topics || !mem->assignors || !mem->client_id || !mem->client_host ||
        (opts->instance_id && !mem->instance_id))
        goto out;
    if ((rc = gn__subscription_encode(&w, 1, (const char *const *)mem->topics, mem->topics_count,
                                      GN_BYTES_NULL)))
        goto out;
    mem->subscription = w.buf;
    mem->subscription_len = w.len;
    w.buf = NULL;
    if ((rc = try_join(mem))) goto out;
    mem->next = coord->locals;
    coord->locals = mem;
    *out = mem;
    return 0;
out:
    gn__wr_free(&w);
    member_free(mem);
    return rc;
}

int gn_group_member_commit(gn_group_member_t *member, const gn_group_offset_t *offsets,
                           size_t count, gn_group_commit_cb cb, void *arg)
{
    if (!member || member->left) return GN_EINVAL;
    if (!member->member_id || member->state == M_FAILED) return GN_EUNKNOWN_MEMBER;
    gn_group_commit_req_t req = {
        .group_id = member->group_id,
        .generation_id = member->generation,
        .member_id = member->member_id,
        .instance_id = member->instance_id,
        .offsets = offsets,
        .count = count,
    };
    if (member->remote) return gn__group_remote_commit(member->coord, member->node, &req, cb, arg);
    return gn_group_commit(member->coord, &req, cb, arg);
}

static void on_remote_left(void *arg, int status)
{
    (void)arg;
    if (status < 0 && status != GN_EUNKNOWN_MEMBER && status != GN_ESHUTDOWN)
        GN_DEBUG("group", "leaving the remote coordinator failed | err=%s", gn_err_name(status));
}

void gn_group_member_leave(gn_group_member_t *member)
{
    if (!member || member->left) return;
    gn_group_coordinator_t *coord = member->coord;
    member->left = true;
    unlink_local(member);
    if (!coord->closing) gn__group_remove_local(coord, member->group_id, member);
    /* at a remote coordinator the member would otherwise stay until its session expires */
    if (!coord->closing && member->remote && member->member_id)
        gn__group_remote_leave(coord, member->node, member->group_id, member->member_id,
                               member->instance_id, on_remote_left, NULL);
    if (member->inflight == 0) member_free(member);
}

const char *gn_group_member_id(const gn_group_member_t *member)
{
    return member && member->member_id ? member->member_id : "";
}

int32_t gn_group_member_generation(const gn_group_member_t *member)
{
    return member ? member->generation : -1;
}
