/* SPDX-License-Identifier: Apache-2.0 */
/* Gathers consumer groups for /metrics (this broker's) and REST v3 (the cluster's) with
 * gn_group_view, holding the request open while it runs. The coordinator is looked up
 * only once __consumer_offsets exists: a read never creates it. Loop thread only. */
#include <stdlib.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"
#include "groups_view.h"

typedef struct collect {
    http_req_t *req;
    http_groups_cb cb;
} collect_t;

static void on_view(void *arg, int status, const gn_group_view_t *groups, size_t count)
{
    collect_t *c = arg;
    if (http_req_async_done(c->req)) c->cb(c->req, status, groups, count);
    free(c);
}

int http_groups_collect(http_req_t *req, const char *group_id, bool cluster, http_groups_cb cb)
{
    gn_topic_info_t info;
    gn_broker_t *broker = req->srv->broker;
    gn_group_coordinator_t *coord = NULL;
    /* No offsets topic: no group ever existed; do not create one for a read. */
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
    int rc = gn_group_view(coord, group_id, cluster, on_view, c);
    if (rc < 0)
        free(c);
    else
        req->async++;
    return rc;
}
