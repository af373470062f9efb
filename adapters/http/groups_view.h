/* SPDX-License-Identifier: Apache-2.0 */
/* A snapshot of consumer groups for /metrics and REST Proxy v3 consumer-groups
 * (gn_group_view: members and per-partition lag in one callback), plus the v3 handlers. Never
 * creates the coordinator (no __consumer_offsets: no groups). Shared by groups_view.c, routes_v3.c,
 * metrics.c and routes.c. Loop thread only. */
#ifndef GN_HTTP_GROUPS_VIEW_H
#define GN_HTTP_GROUPS_VIEW_H

#include "ganglion/group.h"
#include "http.h"

typedef gn_group_view_t http_group_view_t;

/* status 0 and the groups (borrowed for the call; none when there is no coordinator),
 * GN_EGROUP_ID_NOT_FOUND for an unknown group_id, or an error of gn_group_view. Runs only
 * while req's connection is open (before return when there is no coordinator). */
typedef void (*http_groups_cb)(http_req_t *req, int status, const http_group_view_t *groups,
                               size_t count);
/* group_id NULL: every group. cluster false: the groups this broker coordinates (its
 * /metrics); true: wherever coordinated (REST v3). Returns 0 (cb will run) or <0 (cb will
 * not run). */
int http_groups_collect(http_req_t *req, const char *group_id, bool cluster, http_groups_cb cb);

int http_handle_v3_groups_list(http_req_t *req);
int http_handle_v3_group_get(http_req_t *req);
int http_handle_v3_group_consumers(http_req_t *req);
int http_handle_v3_group_consumer_get(http_req_t *req);
int http_handle_v3_group_consumer_assignments(http_req_t *req);
int http_handle_v3_group_lags(http_req_t *req);
int http_handle_v3_group_lag_summary(http_req_t *req);

#endif
