/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the group unit tests: a "Kafka-like" client driven through the
 * join/sync/heartbeat API, with every answer recorded, and bounded loop runs. */
#ifndef GN_TESTS_GROUP_TEST_UTIL_H
#define GN_TESTS_GROUP_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ganglion/error.h"
#include "ganglion/group.h"

/* Runs the loop until *flag != 0 or ms pass; returns 0 or -1 on timeout. */
static inline int gt_run_until(uv_loop_t *loop, const int *flag, int ms)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (uv_hrtime() - start > (uint64_t)ms * 1000000ull) return -1;
        if (!*flag) uv_sleep(1);
    }
    return 0;
}

static inline void gt_run_for(uv_loop_t *loop, int ms)
{
    uint64_t start = uv_hrtime();
    while (uv_hrtime() - start < (uint64_t)ms * 1000000ull) {
        uv_run(loop, UV_RUN_NOWAIT);
        uv_sleep(1);
    }
}

typedef struct gt_client {
    const char *group;
    const char *instance_id;
    const char *protocol; /* "range" */
    gn_bytes_t metadata;  /* subscription bytes */
    int32_t session_ms, rebalance_ms;
    char member_id[256];
    int32_t generation;
    char leader[256];
    char protocol_name[64];
    int members; /* count in the last join answer */
    char member_ids[8][256];
    gn_bytes_t member_meta[8];
    uint8_t meta_store[8][256];
    int join_done, join_status;
    bool skip_assignment;
    int sync_done, sync_status;
    uint8_t assignment[1024];
    size_t assignment_len;
    int hb_done, hb_status;
} gt_client_t;

static inline void gt_on_join(void *arg, int status, const gn_group_join_res_t *res)
{
    gt_client_t *c = arg;
    c->join_done++;
    c->join_status = status;
    if (res && res->member_id && *res->member_id)
        snprintf(c->member_id, sizeof(c->member_id), "%s", res->member_id);
    if (status) return;
    c->generation = res->generation_id;
    c->skip_assignment = res->skip_assignment;
    snprintf(c->leader, sizeof(c->leader), "%s", res->leader_id);
    snprintf(c->protocol_name, sizeof(c->protocol_name), "%s", res->protocol_name);
    c->members = (int)res->members_count;
    for (size_t i = 0; i < res->members_count && i < 8; i++) {
        snprintf(c->member_ids[i], sizeof(c->member_ids[i]), "%s", res->members[i].member_id);
        size_t n = res->members[i].metadata.len < 256 ? res->members[i].metadata.len : 256;
        memcpy(c->meta_store[i], res->members[i].metadata.ptr, n);
        c->member_meta[i] = (gn_bytes_t){c->meta_store[i], n};
    }
}

static inline void gt_on_sync(void *arg, int status, const char *ptype, const char *pname,
                              gn_bytes_t assignment)
{
    gt_client_t *c = arg;
    (void)ptype;
    (void)pname;
    c->sync_done++;
    c->sync_status = status;
    c->assignment_len = 0;
    if (status == 0 && assignment.len <= sizeof(c->assignment)) {
        memcpy(c->assignment, assignment.ptr, assignment.len);
        c->assignment_len = assignment.len;
    }
}

static inline void gt_on_hb(void *arg, int status)
{
    gt_client_t *c = arg;
    c->hb_done++;
    c->hb_status = status;
}

/* Starts a join (does not wait). require: JoinGroup v4+ behaviour. */
static inline int gt_join(gn_group_coordinator_t *coord, gt_client_t *c, bool require)
{
    gn_group_protocol_t proto = {c->protocol ? c->protocol : "range", c->metadata};
    gn_group_join_req_t req = {
        .group_id = c->group,
        .member_id = c->member_id,
        .instance_id = c->instance_id,
        .client_id = "test",
        .client_host = "/127.0.0.1",
        .protocol_type = "consumer",
        .protocols = &proto,
        .protocols_count = 1,
        .session_timeout_ms = c->session_ms ? c->session_ms : 10000,
        .rebalance_timeout_ms = c->rebalance_ms ? c->rebalance_ms : 10000,
        .require_known_member_id = require,
    };
    c->join_done = 0;
    return gn_group_join(coord, &req, gt_on_join, c);
}

static inline int gt_sync(gn_group_coordinator_t *coord, gt_client_t *c,
                          const gn_group_assignment_t *asg, size_t n)
{
    gn_group_sync_req_t req = {
        .group_id = c->group,
        .generation_id = c->generation,
        .member_id = c->member_id,
        .instance_id = c->instance_id,
        .assignments = asg,
        .assignments_count = n,
    };
    c->sync_done = 0;
    return gn_group_sync(coord, &req, gt_on_sync, c);
}

static inline int gt_heartbeat(gn_group_coordinator_t *coord, gt_client_t *c)
{
    c->hb_done = 0;
    return gn_group_heartbeat(coord, c->group, c->generation, c->member_id, c->instance_id,
                              gt_on_hb, c);
}

/* The fixture of the coordinator tests: a loop and a coordinator on it. */
typedef struct gt_fx {
    uv_loop_t loop;
    gn_group_coordinator_t *coord;
} gt_fx_t;

static inline void gt_on_closed(void *arg)
{
    *(int *)arg = 1;
}

/* cmocka teardown: closes the coordinator, runs the loop until it has, frees the fixture. */
static inline int gt_teardown(void **state)
{
    gt_fx_t *f = *state;
    int closed = 0;
    gn_group_coordinator_close(f->coord, gt_on_closed, &closed);
    if (gt_run_until(&f->loop, &closed, 2000)) return -1;
    uv_run(&f->loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&f->loop)) return -1;
    free(f);
    return 0;
}

#endif
