/* SPDX-License-Identifier: Apache-2.0 */
/* REST consumer instances: the registry (find, create, delete, idle expiry), group
 * membership as a server-side member with the instance name as group.instance.id,
 * assignments (the group's or manual) whose positions start at the committed offsets
 * or auto.offset.reset, commits, and one timer that drives long-poll deadlines and
 * join retries while the coordinator loads. Loop thread only. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

http_consumer_t *http__consumer_find(http_server_t *srv, const char *group, const char *name)
{
    if (!srv->consumers) return NULL;
    for (http_consumer_t *c = srv->consumers->list; c; c = c->next)
        if (!c->deleted && strcmp(c->name, name) == 0 && strcmp(c->group, group) == 0) return c;
    return NULL;
}

http_consumer_t *http__consumer_new(http_server_t *srv, const char *group, const char *name)
{
    http_consumers_t *reg = srv->consumers;
    if (!reg || reg->count >= HTTP_CONSUMER_MAX) return NULL;
    http_consumer_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->srv = srv;
    snprintf(c->group, sizeof c->group, "%s", group);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->format = HTTP_REST_BINARY;
    c->earliest = false;
    c->auto_commit = true;
    c->fetch_min_bytes = -1;
    c->request_timeout_ms = 1000;
    c->last_used_ms = now_ms();
    c->next = reg->list;
    reg->list = c;
    reg->count++;
    http__consumers_tick_start(srv);
    return c;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

typedef struct pattern_ctx {
    regex_t *re;
    char **topics;
    size_t n;
} pattern_ctx_t;

static void pattern_each(void *arg, const gn_topic_info_t *info)
{
    pattern_ctx_t *pc = arg;
    if (info->internal || pc->n >= HTTP_CONSUMER_MAX_TOPICS) return;
    if (regexec(pc->re, info->name, 0, NULL, 0) != 0) return;
    char **t = realloc(pc->topics, (pc->n + 1) * sizeof(char *));
    if (!t) return;
    pc->topics = t;
    if ((t[pc->n] = strdup(info->name))) pc->n++;
}

static void parts_clear(http_consumer_t *c)
{
    http__consumer_watches_cancel(c);
    free(c->parts);
    c->parts = NULL;
    c->nparts = 0;
    c->assign_epoch++;
}

static void consumer_free(http_consumer_t *c)
{
    http_consumers_t *reg = c->srv ? c->srv->consumers : NULL; /* NULL: detached at stop */
    if (reg) {
        http_consumer_t **pp = &reg->list;
        while (*pp && *pp != c)
            pp = &(*pp)->next;
        if (*pp) *pp = c->next;
        reg->count--;
    }
    strv_free(c->topics, c->ntopics);
    free(c->pattern);
    free(c->parts);
    free(c);
}

void http__consumer_unref(http_consumer_t *c)
{
    if (--c->refs == 0 && c->deleted) consumer_free(c);
}

void http__consumer_unsubscribe(http_consumer_t *c)
{
    if (c->member) gn_group_member_leave(c->member);
    c->member = NULL;
    c->join_pending = false;
    strv_free(c->topics, c->ntopics);
    c->topics = NULL;
    c->ntopics = 0;
    free(c->pattern);
    c->pattern = NULL;
    c->manual = false;
    parts_clear(c);
}

void http__consumer_delete(http_consumer_t *c, bool forget)
{
    if (c->deleted) return;
    http__consumer_poll_abort(c);
    http__consumer_unsubscribe(c);
    if (forget) http__consumer_forget(c->srv, c->group, c->name);
    c->deleted = true;
    c->refs++;
    http__consumer_unref(c);
}

http_cpart_t *http__consumer_part(http_consumer_t *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return &c->parts[i];
    return NULL;
}

int64_t http__consumer_reset_offset(http_consumer_t *c, const char *topic, int32_t partition,
                                    int which)
{
    gn_partition_t *part = gn_partition_get(c->srv->broker, topic, partition);
    if (!part) return 0;
    bool begin = which == 1 || (which == 0 && c->earliest);
    if (begin) return gn_partition_log_start_offset(part);
    int64_t end;
    return gn_partition_latest(part, &end) == 0 ? end : HTTP_POSITION_LATEST_PENDING;
}

/* ---- positions of a new assignment ------------------------------------------ */

typedef struct resolve_ctx {
    http_consumer_t *c;
    uint32_t epoch;
} resolve_ctx_t;

static void on_committed(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    resolve_ctx_t *rc = arg;
    http_consumer_t *c = rc->c;
    bool current = rc->epoch == c->assign_epoch && !c->deleted;
    free(rc);
    c->resolving--;
    if (current) {
        for (size_t g = 0; status == 0 && g < count; g++)
            for (size_t i = 0; i < groups[g].count; i++) {
                const gn_group_offset_t *o = &groups[g].offsets[i];
                http_cpart_t *cp = http__consumer_part(c, o->topic, o->partition);
                if (cp && o->offset >= 0 && o->error == 0) cp->position = o->offset;
            }
        for (size_t i = 0; i < c->nparts; i++)
            if (c->parts[i].position < 0)
                c->parts[i].position =
                    http__consumer_reset_offset(c, c->parts[i].topic, c->parts[i].partition, 0);
        if (c->poll) http__consumer_poll_try(c, false);
    }
    http__consumer_unref(c);
}

void http__consumer_resolve_positions(http_consumer_t *c)
{
    size_t n = c->nparts;
    if (n == 0 || c->resolving) return;
    gn_group_topic_partitions_t *tp = calloc(n, sizeof *tp);
    int32_t *ids = calloc(n, sizeof *ids);
    int rc = GN_ENOMEM;
    resolve_ctx_t *ctx = malloc(sizeof *ctx);
    if (!tp || !ids || !ctx) goto out;
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = c->parts[i].partition;
        if (nt && strcmp(tp[nt - 1].topic, c->parts[i].topic) == 0) {
            tp[nt - 1].count++;
        } else {
            tp[nt] = (gn_group_topic_partitions_t){c->parts[i].topic, &ids[i], 1};
            nt++;
        }
    }
    gn_group_fetch_group_t fg = {c->group, tp, nt};
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(c->srv->broker);
    *ctx = (resolve_ctx_t){c, c->assign_epoch};
    rc = coord ? gn_group_fetch_offsets_routed(coord, &fg, on_committed, ctx)
               : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) {
        ctx = NULL;
        c->resolving++;
        c->refs++;
    }
out:
    free(ctx);
    free(tp);
    free(ids);
    if (rc == GN_ECOORDINATOR_LOADING) return; /* the next records request asks again */
    if (rc < 0) { /* no committed offsets to be had: the reset policy decides */
        for (size_t i = 0; i < c->nparts; i++)
            if (c->parts[i].position < 0)
                c->parts[i].position =
                    http__consumer_reset_offset(c, c->parts[i].topic, c->parts[i].partition, 0);
    }
}

/* Replaces the assignment and looks up the committed offsets of its partitions. */
static int parts_set(http_consumer_t *c, const gn_topic_partition_t *tps, size_t n)
{
    parts_clear(c);
    if (n > HTTP_CONSUMER_MAX_PARTS) n = HTTP_CONSUMER_MAX_PARTS;
    if (n == 0) return 0;
    c->parts = calloc(n, sizeof *c->parts);
    if (!c->parts) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        http_cpart_t *cp = &c->parts[i];
        snprintf(cp->topic, sizeof cp->topic, "%s", tps[i].topic);
        cp->partition = tps[i].partition;
        cp->position = cp->consumed = -1;
        cp->c = c;
    }
    c->nparts = n;
    http__consumer_resolve_positions(c);
    return 0;
}

int http__consumer_assign(http_consumer_t *c, const gn_topic_partition_t *tps, size_t n)
{
    c->manual = true;
    return parts_set(c, tps, n);
}

int http__consumer_resolve_pattern(http_consumer_t *c)
{
    char anchored[1100];
    snprintf(anchored, sizeof anchored, "^(%s)$", c->pattern);
    regex_t re;
    if (regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) != 0) return GN_EINVAL;
    pattern_ctx_t pc = {&re, NULL, 0};
    gn_topic_list(c->srv->broker, pattern_each, &pc);
    regfree(&re);
    strv_free(c->topics, c->ntopics);
    c->topics = pc.topics;
    c->ntopics = pc.n;
    return (int)pc.n;
}

/* ---- group membership ---------------------------------------------------------- */

static void on_assigned(void *arg, gn_group_member_t *member, int32_t generation_id,
                        const gn_topic_partition_t *tps, size_t count)
{
    (void)member;
    http_consumer_t *c = arg;
    GN_DEBUG(HTTP_MOD, "consumer assigned | group=%s instance=%s generation=%d partitions=%zu",
             c->group, c->name, (int)generation_id, count);
    parts_set(c, tps, count);
}

static void commit_consumed(http_consumer_t *c)
{
    gn_group_offset_t offs[64];
    size_t n = 0;
    for (size_t i = 0; i < c->nparts; i++) {
        http_cpart_t *cp = &c->parts[i];
        if (cp->consumed < 0) continue;
        offs[n++] = (gn_group_offset_t){.topic = cp->topic,
                                        .partition = cp->partition,
                                        .offset = cp->consumed,
                                        .leader_epoch = -1};
        if (n == 64 || i + 1 == c->nparts) {
            http__consumer_commit(c, offs, n, NULL, NULL);
            n = 0;
        }
    }
    if (n) http__consumer_commit(c, offs, n, NULL, NULL);
}

static void on_revoked(void *arg, gn_group_member_t *member, const gn_topic_partition_t *tps,
                       size_t count)
{
    (void)member, (void)tps, (void)count;
    http_consumer_t *c = arg;
    if (c->auto_commit) commit_consumed(c);
    parts_clear(c);
}

static void on_failed(void *arg, gn_group_member_t *member, int status)
{
    (void)member;
    http_consumer_t *c = arg;
    GN_WARN(HTTP_MOD, "consumer left its group | group=%s instance=%s err=%s", c->group, c->name,
            gn_err_name(status));
    parts_clear(c);
}

static const gn_group_member_callbacks_t member_cbs = {on_assigned, on_revoked, on_failed};

static int try_join(http_consumer_t *c)
{
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(c->srv->broker);
    if (!coord) return GN_ECOORDINATOR_NOT_AVAILABLE;
    gn_group_member_opts_t opts = {.group_id = c->group,
                                   .topics = (const char *const *)c->topics,
                                   .topics_count = c->ntopics,
                                   .client_id = "rest",
                                   .client_host = "/127.0.0.1",
                                   .instance_id = c->name,
                                   .session_timeout_ms = 45000};
    int rc = gn_group_member_join(coord, &opts, &member_cbs, c, &c->member);
    if (rc == GN_ECOORDINATOR_LOADING) {
        c->join_pending = true;
        http__consumers_tick_start(c->srv);
        return 0;
    }
    c->join_pending = false;
    return rc;
}

int http__consumer_subscribe(http_consumer_t *c)
{
    if (c->member) gn_group_member_leave(c->member);
    c->member = NULL;
    parts_clear(c);
    c->manual = false;
    return try_join(c);
}

/* ---- commits ------------------------------------------------------------------- */

static void on_auto_committed(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    (void)arg, (void)results, (void)count;
    if (status < 0) GN_DEBUG(HTTP_MOD, "consumer commit failed | err=%s", gn_err_name(status));
}

int http__consumer_commit(http_consumer_t *c, const gn_group_offset_t *offs, size_t n,
                          gn_group_commit_cb cb, void *arg)
{
    if (n == 0) return GN_EINVAL;
    if (!cb) cb = on_auto_committed;
    if (c->member && gn_group_member_generation(c->member) >= 0)
        return gn_group_member_commit(c->member, offs, n, cb, arg);
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(c->srv->broker);
    if (!coord) return GN_ECOORDINATOR_NOT_AVAILABLE;
    gn_group_commit_req_t req = {
        .group_id = c->group, .generation_id = -1, .member_id = "", .offsets = offs, .count = n};
    return gn_group_commit_routed(coord, &req, cb, arg);
}

/* ---- the tick: deadlines, join retries, idle expiry ---------------------------- */

static void on_tick(uv_timer_t *t)
{
    http_server_t *srv = t->data;
    http_consumers_t *reg = srv->consumers;
    uint64_t now = now_ms();
    bool busy = false;
    http_consumer_t *next;
    for (http_consumer_t *c = reg->list; c; c = next) {
        next = c->next;
        if (c->deleted) continue;
        if (c->poll) {
            busy = true;
            if (now >= c->poll->deadline_ms) http__consumer_poll_try(c, true);
            c->last_used_ms = now;
        } else if (now - c->last_used_ms > HTTP_CONSUMER_IDLE_MS) {
            GN_INFO(HTTP_MOD, "consumer instance expired | group=%s instance=%s", c->group,
                    c->name);
            http__consumer_delete(c, true);
            continue;
        }
        if (c->join_pending) {
            busy = true;
            int rc = try_join(c);
            if (rc < 0)
                GN_WARN(HTTP_MOD, "consumer cannot join | group=%s instance=%s err=%s", c->group,
                        c->name, gn_err_name(rc));
        }
    }
    /* Idle instances only need the expiry check: once a second is plenty. */
    if (!busy && reg->count) uv_timer_set_repeat(t, 1000);
    if (!reg->count) {
        uv_timer_stop(t);
        reg->tick_running = false;
    }
}

void http__consumers_tick_start(http_server_t *srv)
{
    http_consumers_t *reg = srv->consumers;
    if (!reg || !reg->tick_open || srv->stopping) return;
    if (reg->tick_running && uv_timer_get_repeat(&reg->tick) == HTTP_CONSUMER_TICK_MS) return;
    uv_timer_start(&reg->tick, on_tick, HTTP_CONSUMER_TICK_MS, HTTP_CONSUMER_TICK_MS);
    reg->tick_running = true;
}

static void on_tick_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    free(srv->consumers);
    srv->consumers = NULL;
    http__server_handle_closed(srv);
}

int http__consumers_start(http_server_t *srv)
{
    http_consumers_t *reg = calloc(1, sizeof *reg);
    if (!reg) return GN_ENOMEM;
    reg->srv = srv;
    srv->consumers = reg;
    uv_timer_init(srv->loop, &reg->tick);
    reg->tick.data = srv;
    reg->tick_open = true;
    srv->open_handles++;
    int rc = http__consumers_load(srv);
    if (rc < 0) GN_WARN(HTTP_MOD, "consumer instances not restored | err=%s", gn_err_name(rc));
    size_t joined = 0;
    for (http_consumer_t *c = reg->list; c; c = c->next) {
        if (c->ntopics) {
            rc = try_join(c);
            joined++;
        } else if (c->manual && c->nparts) {
            /* positions come from committed offsets once the coordinator is up */
            c->join_pending = false;
        }
    }
    if (reg->count)
        GN_INFO(HTTP_MOD, "consumer instances restored | count=%zu subscribed=%zu", reg->count,
                joined);
    return 0;
}

void http__consumers_stop(http_server_t *srv)
{
    http_consumers_t *reg = srv->consumers;
    if (!reg) return;
    /* Instances stay in __rest_consumers: they come back with the broker. */
    http_consumer_t *next;
    for (http_consumer_t *c = reg->list; c; c = next) {
        next = c->next;
        http__consumer_delete(c, false);
    }
    /* Those still referenced by a coordinator lookup free themselves when it answers. */
    for (http_consumer_t *c = reg->list; c; c = next) {
        next = c->next;
        c->srv = NULL;
        c->next = NULL;
    }
    reg->list = NULL;
    reg->count = 0;
    if (reg->tick_open) {
        reg->tick_open = false;
        uv_timer_stop(&reg->tick);
        uv_close((uv_handle_t *)&reg->tick, on_tick_closed);
    }
}
