/* SPDX-License-Identifier: Apache-2.0 */
/* Gathers consumer groups for /metrics and REST v3: ListGroups (or one id), then
 * DescribeGroups, then gn_group_lag per group inside the describe callback, so one
 * callback sees members and lag of the same loop turn. The coordinator is looked up
 * only once __consumer_offsets exists. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"
#include "groups_view.h"

#define GROUPS_MAX 10000 /* groups described per snapshot */

typedef struct collect {
    http_req_t *req;
    http_groups_cb cb;
    gn_group_coordinator_t *coord;
    char **ids;
    size_t count;
    bool one; /* a single group was asked for: unknown is GN_EGROUP_ID_NOT_FOUND */
} collect_t;

typedef struct lag_rows {
    gn_group_lag_t *rows;
    size_t count, cap;
    bool failed;
} lag_rows_t;

static void collect_free(collect_t *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->ids[i]);
    free(c->ids);
    free(c);
}

static void lag_rows_free(lag_rows_t *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free((char *)l->rows[i].topic);
        free((char *)l->rows[i].member_id);
    }
    free(l->rows);
}

static void on_lag_row(void *arg, const gn_group_lag_t *row)
{
    lag_rows_t *l = arg;
    if (l->failed) return;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        gn_group_lag_t *n = realloc(l->rows, cap * sizeof(*n));
        if (!n) {
            l->failed = true;
            return;
        }
        l->rows = n;
        l->cap = cap;
    }
    gn_group_lag_t *r = &l->rows[l->count];
    *r = *row;
    r->topic = strdup(row->topic ? row->topic : "");
    r->member_id = row->member_id ? strdup(row->member_id) : NULL;
    if (!r->topic || (row->member_id && !r->member_id)) {
        free((char *)r->topic);
        free((char *)r->member_id);
        l->failed = true;
        return;
    }
    l->count++;
}

static void on_describe(void *arg, int status, const gn_group_desc_t *groups, size_t count)
{
    collect_t *c = arg;
    http_req_t *req = c->req;
    http_group_view_t *views = NULL;
    lag_rows_t *lags = NULL;
    size_t n = 0;
    if (!http_req_async_done(req)) goto out;
    if (status == 0) {
        views = calloc(count + 1, sizeof(*views));
        lags = calloc(count + 1, sizeof(*lags));
        if (!views || !lags) status = GN_ENOMEM;
    }
    for (size_t i = 0; status == 0 && i < count; i++) {
        const gn_group_desc_t *d = &groups[i];
        if (d->error || d->state == GN_GROUP_DEAD) {
            if (c->one)
                status = d->error && d->error != GN_EGROUP_ID_NOT_FOUND ? d->error
                                                                        : GN_EGROUP_ID_NOT_FOUND;
            continue;
        }
        int rc = gn_group_lag(c->coord, d->group_id, on_lag_row, &lags[n]);
        if (lags[n].failed) rc = GN_ENOMEM;
        if (rc < 0 && rc != GN_EGROUP_ID_NOT_FOUND) status = rc;
        views[n] = (http_group_view_t){
            .group_id = d->group_id,
            .protocol_type = d->protocol_type ? d->protocol_type : "",
            .protocol_name = d->protocol_name ? d->protocol_name : "",
            .state = d->state,
            .generation_id = d->generation_id,
            .members = d->members,
            .members_count = d->members_count,
            .lags = lags[n].rows,
            .lags_count = lags[n].count,
        };
        n++;
    }
    c->cb(req, status, status == 0 ? views : NULL, status == 0 ? n : 0);
out:
    for (size_t i = 0; lags && i <= count; i++)
        lag_rows_free(&lags[i]);
    free(lags);
    free(views);
    collect_free(c);
}

static int describe_ids(collect_t *c)
{
    int rc = gn_group_describe(c->coord, (const char *const *)c->ids, c->count, on_describe, c);
    if (rc == 0) c->req->async++;
    return rc;
}

static void on_list(void *arg, int status, const gn_group_listing_t *groups, size_t count)
{
    collect_t *c = arg;
    http_req_t *req = c->req;
    if (!http_req_async_done(req)) goto fail;
    if (status == 0) {
        if (count > GROUPS_MAX) count = GROUPS_MAX;
        c->ids = calloc(count + 1, sizeof(char *));
        if (!c->ids) status = GN_ENOMEM;
        for (size_t i = 0; status == 0 && i < count; i++) {
            c->ids[i] = strdup(groups[i].group_id);
            if (!c->ids[i]) status = GN_ENOMEM;
            c->count++;
        }
    }
    if (status == 0) status = describe_ids(c);
    if (status == 0) return;
    c->cb(req, status, NULL, 0);
fail:
    collect_free(c);
}

int http_groups_collect(http_req_t *req, const char *group_id, http_groups_cb cb)
{
    gn_topic_info_t info;
    gn_broker_t *broker = req->srv->broker;
    gn_group_coordinator_t *coord = NULL;
    /* No offsets topic: no group ever existed here; do not create one for a read. */
    if (gn_topic_describe(broker, GN_GROUP_OFFSETS_TOPIC, &info) == 0)
        coord = gn_broker_group_coordinator(broker);
    if (!coord) {
        cb(req, group_id ? GN_EGROUP_ID_NOT_FOUND : 0, NULL, 0);
        return 0;
    }
    if (!gn_group_coordinator_ready(coord)) return GN_ECOORDINATOR_LOADING;
    collect_t *c = calloc(1, sizeof(*c));
    if (!c) return GN_ENOMEM;
    c->req = req;
    c->cb = cb;
    c->coord = coord;
    int rc;
    if (group_id) {
        c->one = true;
        c->ids = calloc(1, sizeof(char *));
        c->ids[0] = c->ids ? strdup(group_id) : NULL;
        if (!c->ids || !c->ids[0]) {
            rc = GN_ENOMEM;
        } else {
            c->count = 1;
            rc = describe_ids(c);
        }
    } else {
        rc = gn_group_list(coord, NULL, 0, on_list, c);
        if (rc == 0) req->async++;
    }
    if (rc < 0) collect_free(c);
    return rc;
}
