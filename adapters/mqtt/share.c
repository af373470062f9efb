/* SPDX-License-Identifier: Apache-2.0 */
/* Shared subscriptions as consumer-group members: every online session with
 * `$share/G/...` subscriptions is one server-side member of consumer group G
 * (include/ganglion/group.h) subscribed to the log topics its G filters reach, so MQTT
 * subscribers and Kafka consumers with group.id=G split the partitions. A member gets
 * only records of its assigned partitions; it starts each at G's committed offset
 * (the high watermark when there is none) and commits its position (first offset not
 * acknowledged) every second, on revocation and when it leaves. An offline session
 * leaves its groups. A 1 s tick retries joins while the coordinator loads and rejoins
 * when the topics a filter reaches change. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/group.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "mqtt.h"

#define SHARE_TICK_MS 1000

typedef struct share_part {
    char *topic;
    int32_t partition;
    bool ready; /* position known: records are delivered */
} share_part_t;

typedef struct share_fetch share_fetch_t;

struct mqtt_share {
    mqtt_share_t *next; /* server list */
    mqtt_session_t *sess;
    char *group;
    gn_group_member_t *member;
    char **topics;
    size_t ntopics;
    uint64_t signature; /* topics and their partition counts */
    share_part_t *parts;
    size_t nparts;
    share_fetch_t *fetch; /* offsets being fetched for the current assignment */
    bool join_pending;    /* coordinator loading or missing: retry on the tick */
    int join_err;         /* the last join's error: logged when it changes, not each tick */
    bool mark;
};

struct share_fetch {
    mqtt_share_t *share; /* NULL once the share moved on */
};

/* ---- topics a set of filters reaches ----------------------------------------------- */

typedef struct topics_ctx {
    mqtt_share_t *sh;
    char **v;
    size_t n;
    uint64_t sig;
} topics_ctx_t;

static bool filter_reaches(const char *f, const char *topic)
{
    if ((f[0] == '#' || f[0] == '+') && (f[1] == 0 || f[1] == '/')) return true;
    size_t n = strlen(topic);
    return strncmp(f, topic, n) == 0 && (f[n] == '/' || f[n] == 0);
}

static void topics_each(void *arg, const gn_topic_info_t *info)
{
    topics_ctx_t *ctx = arg;
    if (info->internal || (info->name[0] == '_' && info->name[1] == '_')) return;
    mqtt_session_t *sess = ctx->sh->sess;
    for (size_t i = 0; i < sess->nsubs; i++) {
        mqtt_sub_t *sub = sess->subs[i];
        if (!sub->share || strcmp(sub->share, ctx->sh->group) != 0) continue;
        if (!filter_reaches(sub->filter, info->name)) continue;
        char **nv = realloc(ctx->v, (ctx->n + 1) * sizeof(*nv));
        if (!nv) return;
        ctx->v = nv;
        if (!(nv[ctx->n] = strdup(info->name))) return;
        ctx->n++;
        for (const char *p = info->name; *p; p++)
            ctx->sig = (ctx->sig ^ (uint8_t)*p) * 1099511628211ull;
        ctx->sig = (ctx->sig ^ (uint64_t)info->partitions) * 1099511628211ull;
        return;
    }
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- positions and commits --------------------------------------------------------- */

/* First offset of the partition not acknowledged by the session (-1: no cursor). */
static int64_t position_of(mqtt_session_t *sess, const char *topic, int32_t partition)
{
    mqtt_cursor_t *c = mqtt__cursor_get(sess, topic, partition, 0, false);
    if (!c) return -1;
    int64_t pos = c->next;
    for (size_t k = 0; k < sess->inflight_cap; k++) {
        mqtt_inflight_t *f = &sess->inflight[k];
        if (f->state && f->log_topic && f->partition == partition && f->offset < pos &&
            f->state != MQTT_WAIT_PUBCOMP && strcmp(f->log_topic, topic) == 0)
            pos = f->offset;
    }
    return pos;
}

static void on_committed(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    (void)arg, (void)results, (void)count;
    if (status < 0 && status != GN_EREBALANCE_IN_PROGRESS && status != GN_ESHUTDOWN)
        GN_DEBUG(MQTT_MOD, "shared subscription commit failed | err=%s", gn_err_name(status));
}

static void commit_positions(mqtt_share_t *sh)
{
    if (!sh->member || gn_group_member_generation(sh->member) < 0 || sh->nparts == 0) return;
    gn_group_offset_t offs[64];
    size_t n = 0;
    for (size_t i = 0; i < sh->nparts; i++) {
        share_part_t *p = &sh->parts[i];
        if (!p->ready) continue;
        int64_t pos = position_of(sh->sess, p->topic, p->partition);
        if (pos < 0) continue;
        offs[n++] = (gn_group_offset_t){
            .topic = p->topic, .partition = p->partition, .offset = pos, .leader_epoch = -1};
        if (n == 64) {
            gn_group_member_commit(sh->member, offs, n, on_committed, NULL);
            n = 0;
        }
    }
    if (n) gn_group_member_commit(sh->member, offs, n, on_committed, NULL);
}

static void parts_clear(mqtt_share_t *sh)
{
    for (size_t i = 0; i < sh->nparts; i++)
        free(sh->parts[i].topic);
    free(sh->parts);
    sh->parts = NULL;
    sh->nparts = 0;
    if (sh->fetch) sh->fetch->share = NULL;
    sh->fetch = NULL;
}

/* ---- member callbacks -------------------------------------------------------------- */

static void on_offsets(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    share_fetch_t *fx = arg;
    mqtt_share_t *sh = fx->share;
    free(fx);
    if (!sh) return;
    sh->fetch = NULL;
    mqtt_session_t *sess = sh->sess;
    mqtt_server_t *srv = sess->srv;
    for (size_t i = 0; i < sh->nparts; i++) {
        share_part_t *p = &sh->parts[i];
        int64_t committed = -1;
        for (size_t g = 0; status == 0 && g < count; g++)
            for (size_t k = 0; k < groups[g].count; k++) {
                const gn_group_offset_t *o = &groups[g].offsets[k];
                if (o->partition == p->partition && strcmp(o->topic, p->topic) == 0 &&
                    o->error == 0)
                    committed = o->offset;
            }
        gn_partition_t *part = gn_partition_get(srv->broker, p->topic, p->partition);
        int64_t start = committed;
        if (start < 0) start = part ? gn_partition_high_watermark(part) : 0;
        mqtt_cursor_t *c = mqtt__cursor_get(sess, p->topic, p->partition, start, true);
        if (!c) continue;
        c->next = start;
        c->lagging = true;
        p->ready = true;
    }
    GN_DEBUG(MQTT_MOD, "shared subscription positions | client=%s group=%s partitions=%zu",
             sess->client_id, sh->group, sh->nparts);
    mqtt__session_catch_up(sess);
}

static void on_assigned(void *arg, gn_group_member_t *member, int32_t generation_id,
                        const gn_topic_partition_t *tps, size_t count)
{
    (void)member;
    mqtt_share_t *sh = arg;
    parts_clear(sh);
    if (count == 0) goto log;
    if (!(sh->parts = calloc(count, sizeof(*sh->parts)))) return;
    gn_group_topic_partitions_t *tp = calloc(count, sizeof(*tp));
    int32_t *ids = calloc(count, sizeof(*ids));
    share_fetch_t *fx = calloc(1, sizeof(*fx));
    for (size_t i = 0; i < count; i++) {
        if (!(sh->parts[sh->nparts].topic = strdup(tps[i].topic))) break;
        sh->parts[sh->nparts++].partition = tps[i].partition;
    }
    if (!tp || !ids || !fx) goto fail;
    for (size_t i = 0; i < sh->nparts; i++) {
        ids[i] = sh->parts[i].partition;
        tp[i] = (gn_group_topic_partitions_t){sh->parts[i].topic, &ids[i], 1};
    }
    gn_group_fetch_group_t fg = {.group_id = sh->group, .topics = tp, .topics_count = sh->nparts};
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(sh->sess->srv->broker);
    fx->share = sh;
    if (!coord || gn_group_fetch_offsets_routed(coord, &fg, on_offsets, fx) < 0) goto fail;
    sh->fetch = fx;
    free(tp);
    free(ids);
log:
    GN_INFO(MQTT_MOD,
            "shared subscription assigned | client=%s group=%s generation=%d partitions=%zu",
            sh->sess->client_id, sh->group, (int)generation_id, count);
    return;
fail:
    /* no committed offsets readable: start at the high watermarks */
    free(tp);
    free(ids);
    if (fx) {
        fx->share = sh;
        on_offsets(fx, GN_ENOMEM, NULL, 0);
    }
}

static void on_revoked(void *arg, gn_group_member_t *member, const gn_topic_partition_t *tps,
                       size_t count)
{
    (void)member, (void)tps, (void)count;
    mqtt_share_t *sh = arg;
    commit_positions(sh);
    parts_clear(sh);
}

static void on_failed(void *arg, gn_group_member_t *member, int status)
{
    (void)member;
    mqtt_share_t *sh = arg;
    GN_WARN(MQTT_MOD, "shared subscription left its group | client=%s group=%s err=%s",
            sh->sess->client_id, sh->group, gn_err_name(status));
    parts_clear(sh);
    sh->join_pending = true; /* the tick leaves and joins again */
}

static const gn_group_member_callbacks_t member_cbs = {on_assigned, on_revoked, on_failed};

/* ---- join / leave ------------------------------------------------------------------ */

static void leave(mqtt_share_t *sh)
{
    commit_positions(sh);
    parts_clear(sh);
    if (sh->member) gn_group_member_leave(sh->member);
    sh->member = NULL;
}

static void share_tick_start(mqtt_server_t *srv);

static void join(mqtt_share_t *sh)
{
    mqtt_server_t *srv = sh->sess->srv;
    topics_ctx_t ctx = {.sh = sh, .sig = 14695981039346656037ull};
    gn_topic_list(srv->broker, topics_each, &ctx);
    strv_free(sh->topics, sh->ntopics);
    sh->topics = ctx.v;
    sh->ntopics = ctx.n;
    sh->signature = ctx.sig;
    sh->join_pending = false;
    if (sh->ntopics == 0) return; /* nothing to read yet; the tick looks again */
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(srv->broker);
    if (!coord) {
        sh->join_pending = true;
        return;
    }
    char host[80];
    host[0] = '/';
    host[1] = 0;
    mqtt_conn_t *conn = sh->sess->conn;
    if (conn) mqtt__conn_peer(conn, host + 1, sizeof host - 1);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    gn_group_member_opts_t opts = {.group_id = sh->group,
                                   .topics = (const char *const *)sh->topics,
                                   .topics_count = sh->ntopics,
                                   .client_id = sh->sess->client_id,
                                   .client_host = host,
                                   .session_timeout_ms = 45000};
    int rc = gn_group_member_join(coord, &opts, &member_cbs, sh, &sh->member);
    if (rc < 0) {
        sh->member = NULL;
        sh->join_pending = true;
        /* GN_ECOORDINATOR_NOT_AVAILABLE: no broker coordinates the group now (its
         * __consumer_offsets partition has no leader); the tick retries, as it does
         * while loading */
        if (rc != GN_ECOORDINATOR_LOADING && rc != sh->join_err)
            GN_WARN(MQTT_MOD, "shared subscription cannot join | client=%s group=%s err=%s",
                    sh->sess->client_id, sh->group, gn_err_name(rc));
    }
    sh->join_err = rc < 0 ? rc : 0;
}

static void share_free(mqtt_server_t *srv, mqtt_share_t *sh)
{
    leave(sh);
    for (mqtt_share_t **pp = &srv->shares; *pp; pp = &(*pp)->next)
        if (*pp == sh) {
            *pp = sh->next;
            break;
        }
    strv_free(sh->topics, sh->ntopics);
    free(sh->group);
    free(sh);
}

static mqtt_share_t *share_find(mqtt_session_t *sess, const char *group)
{
    for (mqtt_share_t *sh = sess->srv->shares; sh; sh = sh->next)
        if (sh->sess == sess && strcmp(sh->group, group) == 0) return sh;
    return NULL;
}

void mqtt__share_sync(mqtt_session_t *sess)
{
    mqtt_server_t *srv = sess->srv;
    bool online = sess->conn && !sess->conn->closing && !srv->stopping;
    for (mqtt_share_t *sh = srv->shares; sh; sh = sh->next)
        if (sh->sess == sess) sh->mark = false;
    for (size_t i = 0; online && i < sess->nsubs; i++) {
        mqtt_sub_t *sub = sess->subs[i];
        if (!sub->share) continue;
        mqtt_share_t *sh = share_find(sess, sub->share);
        if (!sh) {
            if (!(sh = calloc(1, sizeof(*sh))) || !(sh->group = strdup(sub->share))) {
                free(sh);
                continue;
            }
            sh->sess = sess;
            sh->join_pending = true; /* joined below */
            sh->next = srv->shares;
            srv->shares = sh;
        }
        sh->mark = true;
    }
    mqtt_share_t *sh = srv->shares;
    while (sh) {
        mqtt_share_t *next = sh->next;
        if (sh->sess == sess) {
            if (!sh->mark) {
                share_free(srv, sh);
            } else {
                /* (re)join: new share, or its filters may reach other topics now */
                topics_ctx_t ctx = {.sh = sh, .sig = 14695981039346656037ull};
                gn_topic_list(srv->broker, topics_each, &ctx);
                strv_free(ctx.v, ctx.n);
                if (sh->join_pending || ctx.sig != sh->signature || !sh->member) {
                    leave(sh);
                    join(sh);
                }
            }
        }
        sh = next;
    }
    if (srv->shares) share_tick_start(srv);
}

void mqtt__share_drop(mqtt_session_t *sess)
{
    mqtt_server_t *srv = sess->srv;
    mqtt_share_t *sh = srv->shares;
    while (sh) {
        mqtt_share_t *next = sh->next;
        if (sh->sess == sess) share_free(srv, sh);
        sh = next;
    }
}

bool mqtt__share_owns(mqtt_session_t *sess, const char *group, const char *topic, int32_t partition)
{
    if (!topic) return false;
    for (mqtt_share_t *sh = sess->srv->shares; sh; sh = sh->next) {
        if (sh->sess != sess || strcmp(sh->group, group) != 0) continue;
        for (size_t i = 0; i < sh->nparts; i++)
            if (sh->parts[i].ready && sh->parts[i].partition == partition &&
                strcmp(sh->parts[i].topic, topic) == 0)
                return true;
        return false;
    }
    return false;
}

/* ---- the tick ---------------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
    mqtt_server_t *srv = t->data;
    if (srv->stopping) return;
    for (mqtt_share_t *sh = srv->shares; sh; sh = sh->next) {
        if (sh->join_pending) {
            leave(sh);
            join(sh);
            continue;
        }
        topics_ctx_t ctx = {.sh = sh, .sig = 14695981039346656037ull};
        gn_topic_list(srv->broker, topics_each, &ctx);
        strv_free(ctx.v, ctx.n);
        if (ctx.sig != sh->signature) {
            leave(sh);
            join(sh);
            continue;
        }
        commit_positions(sh);
    }
    if (!srv->shares) uv_timer_stop(t);
}

static void share_tick_start(mqtt_server_t *srv)
{
    if (!srv->share_timer_init) {
        uv_timer_init(srv->loop, &srv->share_timer);
        srv->share_timer.data = srv;
        srv->share_timer_init = true;
        srv->open_handles++;
    }
    if (!uv_is_active((uv_handle_t *)&srv->share_timer))
        uv_timer_start(&srv->share_timer, on_tick, SHARE_TICK_MS, SHARE_TICK_MS);
}
