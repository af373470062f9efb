/* SPDX-License-Identifier: Apache-2.0 */
/* Group views (gn_group_view, for REST v3 and /metrics): groups with their members and
 * lag. Locally: ListGroups (or the one id), DescribeGroups, then gn_group_lag per group
 * inside the describe callback (members and lag of one loop turn), rendered as JSON,
 * then the ends of partitions other brokers lead taken from those leaders (ends.c) —
 * the JSON the internal RPC answers (op "group", call "view", served by serve.c), so a
 * cluster view merges this broker's answer with every other unfenced broker's (or asks
 * one group's coordinator) and decodes them all one way. The result always arrives
 * from the coordinator's deferred queue, never inside the call. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "group/group_int.h"

#define VIEW_GROUPS_MAX 10000 /* groups described per broker and snapshot */

/* ---- this broker's groups as JSON --------------------------------------------------- */

typedef struct local_view {
    gn_group_coordinator_t *coord;
    gn__view_json_cb cb;
    void *arg;
    char **ids;
    size_t count;
    bool one;    /* one group asked for: unknown is GN_EGROUP_ID_NOT_FOUND */
    bool strict; /* every lag row's end from its leader, or fail (ends.c) */
} local_view_t;

static void local_free(local_view_t *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->ids[i]);
    free(v->ids);
    free(v);
}

static void lag_row_json(void *arg, const gn_group_lag_t *row)
{
    json_array_append_new(
        arg, json_pack("{s:s,s:i,s:I,s:I,s:I,s:s?}", "topic", row->topic ? row->topic : "",
                       "partition", (int)row->partition, "committed", (json_int_t)row->committed,
                       "high_watermark", (json_int_t)row->high_watermark, "lag",
                       (json_int_t)row->lag, "member_id", row->member_id));
}

static json_t *members_json(const gn_group_desc_t *d)
{
    json_t *a = json_array();
    for (size_t i = 0; i < d->members_count; i++) {
        const gn_group_member_desc_t *m = &d->members[i];
        json_array_append_new(a, json_pack("{s:s,s:s?,s:s,s:s}", "member_id", m->member_id,
                                           "instance_id", m->instance_id, "client_id",
                                           m->client_id ? m->client_id : "", "client_host",
                                           m->client_host ? m->client_host : ""));
    }
    return a;
}

static void on_local_describe(void *arg, int status, const gn_group_desc_t *groups, size_t count)
{
    local_view_t *v = arg;
    int32_t self = gn_broker_config(v->coord->broker)->node_id;
    json_t *out = json_array();
    for (size_t i = 0; status == 0 && i < count; i++) {
        const gn_group_desc_t *d = &groups[i];
        if (d->error || d->state == GN_GROUP_DEAD) {
            if (v->one)
                status = d->error && d->error != GN_EGROUP_ID_NOT_FOUND ? d->error
                                                                        : GN_EGROUP_ID_NOT_FOUND;
            continue;
        }
        json_t *lags = json_array();
        int rc = gn_group_lag(v->coord, d->group_id, lag_row_json, lags);
        if (rc < 0 && rc != GN_EGROUP_ID_NOT_FOUND) status = rc;
        json_array_append_new(
            out, json_pack("{s:s,s:s,s:s,s:i,s:i,s:i,s:o,s:o}", "group_id", d->group_id,
                           "protocol_type", d->protocol_type ? d->protocol_type : "",
                           "protocol_name", d->protocol_name ? d->protocol_name : "", "state",
                           (int)d->state, "generation_id", (int)d->generation_id, "coordinator",
                           (int)self, "members", members_json(d), "lags", lags));
    }
    if (status == 0) {
        gn__group_ends_fill(v->coord, out, v->strict, v->cb, v->arg); /* takes out */
    } else {
        v->cb(v->arg, status, NULL);
        json_decref(out);
    }
    local_free(v);
}

static void on_local_list(void *arg, int status, const gn_group_listing_t *groups, size_t count)
{
    local_view_t *v = arg;
    if (status == 0) {
        if (count > VIEW_GROUPS_MAX) count = VIEW_GROUPS_MAX;
        if (!(v->ids = calloc(count + 1, sizeof(char *)))) status = GN_ENOMEM;
        for (size_t i = 0; status == 0 && i < count; i++) {
            if (!(v->ids[i] = strdup(groups[i].group_id))) status = GN_ENOMEM;
            v->count++;
        }
    }
    if (status == 0)
        status = gn_group_describe(v->coord, (const char *const *)v->ids, v->count,
                                   on_local_describe, v);
    if (status == 0) return;
    v->cb(v->arg, status, NULL);
    local_free(v);
}

int gn__group_view_local(gn_group_coordinator_t *coord, const char *group_id, bool strict,
                         gn__view_json_cb cb, void *arg)
{
    local_view_t *v = calloc(1, sizeof(*v));
    if (!v) return GN_ENOMEM;
    v->coord = coord;
    v->strict = strict;
    v->cb = cb;
    v->arg = arg;
    int rc;
    if (group_id) {
        v->one = true;
        if (!(v->ids = calloc(1, sizeof(char *))) || !(v->ids[0] = strdup(group_id))) {
            rc = GN_ENOMEM;
        } else {
            v->count = 1;
            rc = gn_group_describe(coord, (const char *const *)v->ids, 1, on_local_describe, v);
        }
    } else {
        rc = gn_group_list(coord, NULL, 0, on_local_list, v);
    }
    if (rc < 0) local_free(v);
    return rc;
}

/* ---- gathering: here and at other brokers ------------------------------------------- */

typedef struct gather {
    gn__op_t op; /* the result is delivered from the deferred queue */
    gn_group_coordinator_t *coord;
    gn_group_view_cb cb;
    void *arg;
    bool one;
    bool cluster; /* lag from the partitions' leaders or an error; else as known here */
    int pending;  /* answers still due, plus one while the calls are being made */
    int status;
    json_t *groups; /* every answer's groups, in arrival order */
} gather_t;

static void gather_free(gather_t *g)
{
    json_decref(g->groups);
    free(g);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static const char *jstr_or_null(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Decodes one group of an answer into views[n] (strings borrowed from the JSON);
 * members and lags arrays are allocated. false on a malformed group. */
static bool decode_group(const json_t *j, gn_group_view_t *v)
{
    const json_t *members = json_object_get(j, "members"), *lags = json_object_get(j, "lags");
    if (!json_is_array(members) || !json_is_array(lags) || !jstr_or_null(j, "group_id"))
        return false;
    size_t nm = json_array_size(members), nl = json_array_size(lags);
    gn_group_member_desc_t *m = calloc(nm + 1, sizeof(*m));
    gn_group_lag_t *l = calloc(nl + 1, sizeof(*l));
    if (!m || !l) {
        free(m);
        free(l);
        return false;
    }
    for (size_t i = 0; i < nm; i++) {
        const json_t *x = json_array_get(members, i);
        m[i] = (gn_group_member_desc_t){.member_id = jstr(x, "member_id"),
                                        .instance_id = jstr_or_null(x, "instance_id"),
                                        .client_id = jstr(x, "client_id"),
                                        .client_host = jstr(x, "client_host")};
    }
    for (size_t i = 0; i < nl; i++) {
        const json_t *x = json_array_get(lags, i);
        l[i] = (gn_group_lag_t){.topic = jstr(x, "topic"),
                                .partition = (int32_t)jint(x, "partition"),
                                .committed = jint(x, "committed"),
                                .high_watermark = jint(x, "high_watermark"),
                                .lag = jint(x, "lag"),
                                .member_id = jstr_or_null(x, "member_id")};
    }
    *v = (gn_group_view_t){.group_id = jstr(j, "group_id"),
                           .protocol_type = jstr(j, "protocol_type"),
                           .protocol_name = jstr(j, "protocol_name"),
                           .state = (gn_group_state_t)jint(j, "state"),
                           .generation_id = (int32_t)jint(j, "generation_id"),
                           .coordinator = (int32_t)jint(j, "coordinator"),
                           .members = m,
                           .members_count = nm,
                           .lags = l,
                           .lags_count = nl};
    return true;
}

static bool seen_before(const gn_group_view_t *views, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(views[i].group_id, id) == 0) return true;
    return false;
}

/* Decodes the gathered groups and calls back. A group two brokers answered for (its
 * coordinator moving between the two answers) is shown once, as the first answer had it. */
static void deliver(gn__op_t *op, int shutdown)
{
    gather_t *g = (gather_t *)op;
    int status = shutdown ? GN_ESHUTDOWN : g->status;
    size_t total = json_array_size(g->groups), n = 0;
    gn_group_view_t *views = status ? NULL : calloc(total + 1, sizeof(*views));
    if (status == 0 && !views) status = GN_ENOMEM;
    for (size_t i = 0; status == 0 && i < total; i++) {
        const json_t *j = json_array_get(g->groups, i);
        if (seen_before(views, n, jstr(j, "group_id"))) continue;
        if (decode_group(j, &views[n]))
            n++;
        else
            GN_WARN("group", "bad group in a view answer | group=%s", jstr(j, "group_id"));
    }
    if (status == 0 && g->one && n == 0) status = GN_EGROUP_ID_NOT_FOUND;
    g->cb(g->arg, status, status == 0 ? views : NULL, status == 0 ? n : 0);
    for (size_t i = 0; views && i < n; i++) {
        free((void *)views[i].members);
        free((void *)views[i].lags);
    }
    free(views);
    gather_free(g);
}

static void gather_done(gather_t *g)
{
    if (--g->pending > 0) return;
    g->op.run = deliver;
    gn__group_defer(g->coord, &g->op);
}

static void on_answer(void *arg, int status, json_t *groups)
{
    gather_t *g = arg;
    if (status == 0 && json_is_array(groups))
        json_array_extend(g->groups, groups);
    else if (status == 0)
        status = GN_EINVALID_REQUEST;
    /* one group: its coordinator's "not found" is the answer; for a listing any broker's
     * failure makes the whole view fail rather than show part of the cluster */
    if (status == GN_EIO) status = GN_ECOORDINATOR_NOT_AVAILABLE; /* connection lost */
    if (status && !g->status) g->status = status;
    gather_done(g);
}

static void ask(gather_t *g, int32_t node, const char *group_id)
{
    g->pending++;
    int32_t self = gn_broker_config(g->coord->broker)->node_id;
    int rc = node == self ? gn__group_view_local(g->coord, group_id, g->cluster, on_answer, g)
                          : gn__group_remote_view(g->coord, node, group_id, on_answer, g);
    if (rc < 0) on_answer(g, rc, NULL);
}

/* Every registered broker that is not fenced: the brokers whose coordinators can own
 * groups now. No cluster: this broker only. */
static void ask_every_broker(gather_t *g)
{
    const json_t *brokers =
        g->coord->broker->cluster
            ? json_object_get(gn__cluster_image(g->coord->broker->cluster), "brokers")
            : NULL;
    const char *key;
    const json_t *b;
    int32_t self = gn_broker_config(g->coord->broker)->node_id;
    ask(g, self, NULL);
    json_object_foreach((json_t *)brokers, key, b)
    {
        int32_t node = (int32_t)strtol(key, NULL, 10);
        if (node != self && !json_is_true(json_object_get(b, "fenced"))) ask(g, node, NULL);
    }
}

int gn_group_view(gn_group_coordinator_t *coord, const char *group_id, bool cluster,
                  gn_group_view_cb cb, void *arg)
{
    if (!coord || !cb) return GN_EINVAL;
    int32_t node = gn_broker_config(coord->broker)->node_id;
    if (cluster && group_id) {
        int rc = gn__group_route(coord, group_id, &node);
        if (rc < 0) return rc;
        if (rc == 0) node = gn_broker_config(coord->broker)->node_id;
    }
    gather_t *g = calloc(1, sizeof(*g));
    if (!g || !(g->groups = json_array())) {
        free(g);
        return GN_ENOMEM;
    }
    g->coord = coord;
    g->cb = cb;
    g->arg = arg;
    g->one = group_id != NULL;
    g->cluster = cluster;
    g->pending = 1; /* held while asking, so no answer delivers early */
    if (cluster && !group_id)
        ask_every_broker(g);
    else
        ask(g, node, group_id);
    gather_done(g);
    return 0;
}
