/* SPDX-License-Identifier: Apache-2.0 */
/* The calling side of the group RPC (served by serve.c): a server-side member whose
 * group is coordinated by another broker joins, syncs, heartbeats, commits, fetches
 * offsets and leaves there, over the internal RPC (core/cluster/rpc.h, op "group"), with
 * the same request structs and callbacks as the local API. One RPC client per peer
 * broker, at the internal listener the metadata image names; views and the partition
 * ends of lag (ends.c) use the same clients. Binary fields (protocol metadata,
 * assignments) travel as the frame's raw bytes, their lengths in "lens".
 * Answers run on the loop; while the coordinator closes, callbacks get GN_ESHUTDOWN from
 * its deferred queue. Loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "cluster/rpc.h"
#include "group/group_int.h"

#define REMOTE_TIMEOUT_MS      30000 /* sync, heartbeat, commit, fetch, leave */
#define REMOTE_JOIN_SLACK_MS   10000 /* a join waits up to the rebalance timeout */
#define REMOTE_VIEW_TIMEOUT_MS 5000  /* views answer from memory (and the leaders' ends) */

struct gn__peer {
    int32_t node;
    gn_rpc_client_t *cli;
    struct gn__peer *next;
};

/* R_JSON: an answer handed over as one of its JSON members (view: "groups", ends: "ends") */
typedef enum rkind { R_JOIN, R_SYNC, R_STATUS, R_COMMIT, R_FETCH, R_JSON } rkind_t;

typedef struct rcall {
    gn__op_t op; /* GN_ESHUTDOWN completion while the coordinator closes */
    gn_group_coordinator_t *coord;
    rkind_t kind;
    union {
        gn_group_join_cb join;
        gn_group_sync_cb sync;
        gn_group_status_cb status;
        gn_group_commit_cb commit;
        gn_group_fetch_cb fetch;
        gn__view_json_cb json;
    } cb;
    void *arg;
    char *group;     /* fetch: the group answered */
    const char *key; /* R_JSON: the member of the answer handed over */
} rcall_t;

/* ---- peers ------------------------------------------------------------------------ */

static gn_rpc_client_t *peer_client(gn_group_coordinator_t *coord, int32_t node)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", node);
    const json_t *b =
        json_object_get(json_object_get(gn__cluster_image(coord->broker->cluster), "brokers"), key);
    const char *addr = json_string_value(json_object_get(b, "listener"));
    if (!addr || !addr[0]) return NULL;
    struct gn__peer *p = coord->peers;
    while (p && p->node != node)
        p = p->next;
    if (!p) {
        if (!(p = calloc(1, sizeof(*p)))) return NULL;
        p->node = node;
        p->next = coord->peers;
        coord->peers = p;
    }
    if (p->cli && strcmp(gn__rpc_client_address(p->cli), addr) != 0) {
        gn__rpc_client_free(p->cli); /* the broker moved: its calls fail with GN_ESHUTDOWN */
        p->cli = NULL;
    }
    if (!p->cli) p->cli = gn__rpc_client_new(coord->loop, addr, coord->broker->cfg.cluster_tls);
    return p->cli;
}

void gn__group_remote_close(gn_group_coordinator_t *coord)
{
    while (coord->peers) {
        struct gn__peer *p = coord->peers;
        coord->peers = p->next;
        gn__rpc_client_free(p->cli); /* pending calls answer GN_ESHUTDOWN now */
        free(p);
    }
}

/* ---- completions ------------------------------------------------------------------- */

static void rcall_free(rcall_t *rc)
{
    free(rc->group);
    free(rc);
}

static void complete_error(rcall_t *rc, int status)
{
    switch (rc->kind) {
    case R_JOIN: {
        gn_group_join_res_t res = {.generation_id = -1, .member_id = "", .leader_id = ""};
        rc->cb.join(rc->arg, status, &res);
        break;
    }
    case R_SYNC:
        rc->cb.sync(rc->arg, status, NULL, NULL, GN_BYTES_NULL);
        break;
    case R_STATUS:
        rc->cb.status(rc->arg, status);
        break;
    case R_COMMIT:
        rc->cb.commit(rc->arg, status, NULL, 0);
        break;
    case R_FETCH: {
        gn_group_fetch_res_t g = {.group_id = rc->group, .error = status};
        rc->cb.fetch(rc->arg, status, &g, 1);
        break;
    }
    case R_JSON:
        rc->cb.json(rc->arg, status, NULL);
        break;
    }
}

static void shutdown_run(gn__op_t *op, int shutdown)
{
    (void)shutdown;
    rcall_t *rc = (rcall_t *)op;
    complete_error(rc, GN_ESHUTDOWN);
    rcall_free(rc);
}

/* Splits raw into the byte strings whose lengths "lens" lists; false when they do not
 * add up. */
static bool blobs_split(const json_t *lens, const uint8_t *raw, size_t rawlen, gn_bytes_t *out,
                        size_t n)
{
    size_t off = 0;
    if (json_array_size(lens) != n) return false;
    for (size_t i = 0; i < n; i++) {
        json_int_t l = json_integer_value(json_array_get(lens, i));
        if (l < -1 || (l > 0 && (size_t)l > rawlen - off)) return false;
        out[i] = l < 0 ? GN_BYTES_NULL : (gn_bytes_t){raw + off, (size_t)l};
        off += l > 0 ? (size_t)l : 0;
    }
    return off == rawlen;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int jint(const json_t *o, const char *key)
{
    return (int)json_integer_value(json_object_get(o, key));
}

static int answer_join(rcall_t *rc, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    const json_t *ms = json_object_get(resp, "members");
    size_t n = json_array_size(ms);
    gn_group_join_member_t *members = calloc(n + 1, sizeof(*members));
    gn_bytes_t *meta = calloc(n + 1, sizeof(*meta));
    int status = members && meta ? 0 : GN_ENOMEM;
    if (!status && !blobs_split(json_object_get(resp, "lens"), raw, rawlen, meta, n))
        status = GN_EINVALID_REQUEST;
    for (size_t i = 0; !status && i < n; i++) {
        const json_t *m = json_array_get(ms, i);
        members[i] = (gn_group_join_member_t){jstr(m, "id"), jstr(m, "instance"), meta[i]};
        if (!members[i].member_id) status = GN_EINVALID_REQUEST;
    }
    gn_group_join_res_t res = {
        .generation_id = jint(resp, "generation"),
        .protocol_type = jstr(resp, "protocol_type"),
        .protocol_name = jstr(resp, "protocol_name"),
        .leader_id = jstr(resp, "leader"),
        .member_id = jstr(resp, "member"),
        .skip_assignment = json_is_true(json_object_get(resp, "skip_assignment")),
        .members = members,
        .members_count = n,
    };
    if (!status && (!res.leader_id || !res.member_id || !res.protocol_name))
        status = GN_EINVALID_REQUEST;
    if (!status) rc->cb.join(rc->arg, 0, &res);
    free(members);
    free(meta);
    return status;
}

static int answer_commit(rcall_t *rc, int status, const json_t *resp)
{
    const json_t *rs = json_object_get(resp, "offsets");
    size_t n = json_array_size(rs);
    gn_group_offset_t *res = calloc(n + 1, sizeof(*res));
    if (!res) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(rs, i);
        res[i] = (gn_group_offset_t){.topic = jstr(o, "topic"),
                                     .partition = jint(o, "partition"),
                                     .offset = json_integer_value(json_object_get(o, "offset")),
                                     .leader_epoch = jint(o, "leader_epoch"),
                                     .metadata = jstr(o, "metadata"),
                                     .error = jint(o, "error")};
        if (!res[i].topic) res[i].topic = "";
    }
    if (rc->kind == R_COMMIT) {
        rc->cb.commit(rc->arg, status, res, n);
    } else {
        gn_group_fetch_res_t g = {
            .group_id = rc->group, .error = jint(resp, "error"), .offsets = res, .count = n};
        rc->cb.fetch(rc->arg, status, &g, 1);
    }
    free(res);
    return 0;
}

static void on_answer(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    rcall_t *rc = arg;
    /* GN_ESHUTDOWN comes from inside gn__rpc_client_free (coordinator closing, or a peer's
     * listener moved): never run a callback there, complete on the deferred queue */
    if (rc->coord->closing || status == GN_ESHUTDOWN) {
        rc->op.run = shutdown_run;
        gn__group_defer(rc->coord, &rc->op);
        return;
    }
    if (status == 0) status = jint(resp, "status");
    int bad = 0;
    /* commit and fetch answer a group-level error with the per-partition results */
    bool results =
        (rc->kind == R_COMMIT || rc->kind == R_FETCH) && json_object_get(resp, "offsets");
    if (status < 0 && !results) {
        complete_error(rc, status);
    } else {
        switch (rc->kind) {
        case R_JOIN:
            bad = answer_join(rc, resp, raw, rawlen);
            break;
        case R_SYNC:
            rc->cb.sync(rc->arg, 0, jstr(resp, "protocol_type"), jstr(resp, "protocol_name"),
                        (gn_bytes_t){raw, rawlen});
            break;
        case R_STATUS:
            rc->cb.status(rc->arg, 0);
            break;
        case R_COMMIT:
        case R_FETCH:
            bad = answer_commit(rc, status, resp);
            break;
        case R_JSON:
            rc->cb.json(rc->arg, 0, json_object_get(resp, rc->key));
            break;
        }
        if (bad) {
            GN_WARN("group", "bad answer from the coordinator | err=%s", gn_err_name(bad));
            complete_error(rc, bad);
        }
    }
    rcall_free(rc);
}

/* Sends req to node; 0 (cb runs later) or an error (cb never runs). */
static int send_call(gn_group_coordinator_t *coord, int32_t node, json_t *req, const uint8_t *raw,
                     size_t rawlen, int64_t timeout_ms, rcall_t *rc)
{
    int status = GN_ENOMEM;
    gn_rpc_client_t *cli = coord->closing ? NULL : peer_client(coord, node);
    if (coord->closing)
        status = GN_ESHUTDOWN;
    else if (!cli)
        status = GN_ECOORDINATOR_NOT_AVAILABLE; /* no listener known for the broker */
    else if (req && rc)
        status = gn__rpc_call(cli, req, raw, rawlen, timeout_ms, on_answer, rc);
    json_decref(req);
    if (status) {
        if (rc) rcall_free(rc);
        if (status == GN_EIO || status == GN_EINVAL) status = GN_ECOORDINATOR_NOT_AVAILABLE;
    }
    return status;
}

static rcall_t *rcall_new(gn_group_coordinator_t *coord, rkind_t kind, void *arg)
{
    rcall_t *rc = calloc(1, sizeof(*rc));
    if (rc) {
        rc->coord = coord;
        rc->kind = kind;
        rc->arg = arg;
    }
    return rc;
}

static json_t *call_new(const char *call, const char *group)
{
    return json_pack("{s:s, s:s, s:s}", "op", "group", "call", call, "group", group);
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (o && v) json_object_set_new(o, key, json_string(v));
}

/* ---- the calls ------------------------------------------------------------------------ */

/* Named byte strings (join: protocols and their metadata; sync: members and their
 * assignments) as a request carries them: the names in a JSON array, the lengths in
 * "lens", the bytes one after another in the frame's raw part. */
typedef struct blobs_out {
    json_t *names, *lens;
    uint8_t *raw;
    size_t len, cap;
    bool failed;
} blobs_out_t;

static void blobs_add(blobs_out_t *b, const char *name, gn_bytes_t bytes)
{
    if (b->failed) return;
    if (b->len + bytes.len > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 256) + bytes.len;
        uint8_t *raw = realloc(b->raw, cap);
        if (!raw) {
            b->failed = true;
            return;
        }
        b->raw = raw;
        b->cap = cap;
    }
    if (json_array_append_new(b->names, json_string(name)) ||
        json_array_append_new(b->lens, json_integer((json_int_t)bytes.len)))
        b->failed = true;
    if (bytes.len) memcpy(b->raw + b->len, bytes.ptr, bytes.len);
    b->len += bytes.len;
}

/* Puts the names under key and the lengths under "lens" into j; false after an
 * allocation failure (the caller drops j). */
static bool blobs_set(blobs_out_t *b, json_t *j, const char *key)
{
    if (b->failed || !b->names || !b->lens || !j) return false;
    return json_object_set(j, key, b->names) == 0 && json_object_set(j, "lens", b->lens) == 0;
}

static void blobs_free(blobs_out_t *b)
{
    json_decref(b->names);
    json_decref(b->lens);
    free(b->raw);
}

int gn__group_remote_join(gn_group_coordinator_t *coord, int32_t node,
                          const gn_group_join_req_t *req, gn_group_join_cb cb, void *arg)
{
    blobs_out_t b = {.names = json_array(), .lens = json_array()};
    for (size_t i = 0; i < req->protocols_count; i++)
        blobs_add(&b, req->protocols[i].name, req->protocols[i].metadata);
    json_t *j = call_new("join", req->group_id);
    if (blobs_set(&b, j, "protocols")) {
        set_str(j, "member", req->member_id);
        set_str(j, "instance", req->instance_id);
        set_str(j, "client_id", req->client_id);
        set_str(j, "client_host", req->client_host);
        set_str(j, "protocol_type", req->protocol_type);
        json_object_set_new(j, "session_timeout", json_integer(req->session_timeout_ms));
        json_object_set_new(j, "rebalance_timeout", json_integer(req->rebalance_timeout_ms));
    } else {
        json_decref(j);
        j = NULL;
    }
    rcall_t *rc = j ? rcall_new(coord, R_JOIN, arg) : NULL;
    if (rc) rc->cb.join = cb;
    int64_t timeout = (int64_t)req->rebalance_timeout_ms + REMOTE_JOIN_SLACK_MS;
    int status = send_call(coord, node, j, b.raw, b.len, timeout, rc);
    blobs_free(&b);
    return status;
}

int gn__group_remote_sync(gn_group_coordinator_t *coord, int32_t node,
                          const gn_group_sync_req_t *req, gn_group_sync_cb cb, void *arg)
{
    blobs_out_t b = {.names = json_array(), .lens = json_array()};
    for (size_t i = 0; i < req->assignments_count; i++)
        blobs_add(&b, req->assignments[i].member_id, req->assignments[i].assignment);
    json_t *j = call_new("sync", req->group_id);
    if (blobs_set(&b, j, "assignments")) {
        json_object_set_new(j, "generation", json_integer(req->generation_id));
        set_str(j, "member", req->member_id);
        set_str(j, "instance", req->instance_id);
        set_str(j, "protocol_type", req->protocol_type);
        set_str(j, "protocol_name", req->protocol_name);
    } else {
        json_decref(j);
        j = NULL;
    }
    rcall_t *rc = j ? rcall_new(coord, R_SYNC, arg) : NULL;
    if (rc) rc->cb.sync = cb;
    int status = send_call(coord, node, j, b.raw, b.len, REMOTE_TIMEOUT_MS, rc);
    blobs_free(&b);
    return status;
}

int gn__group_remote_heartbeat(gn_group_coordinator_t *coord, int32_t node, const char *group_id,
                               int32_t generation_id, const char *member_id,
                               const char *instance_id, gn_group_status_cb cb, void *arg)
{
    json_t *j = call_new("heartbeat", group_id);
    json_object_set_new(j, "generation", json_integer(generation_id));
    set_str(j, "member", member_id);
    set_str(j, "instance", instance_id);
    rcall_t *rc = j ? rcall_new(coord, R_STATUS, arg) : NULL;
    if (rc) rc->cb.status = cb;
    return send_call(coord, node, j, NULL, 0, REMOTE_TIMEOUT_MS, rc);
}

int gn__group_remote_leave(gn_group_coordinator_t *coord, int32_t node, const char *group_id,
                           const char *member_id, const char *instance_id, gn_group_status_cb cb,
                           void *arg)
{
    json_t *j = call_new("leave", group_id);
    set_str(j, "member", member_id);
    set_str(j, "instance", instance_id);
    rcall_t *rc = j ? rcall_new(coord, R_STATUS, arg) : NULL;
    if (rc) rc->cb.status = cb;
    return send_call(coord, node, j, NULL, 0, REMOTE_TIMEOUT_MS, rc);
}

int gn__group_remote_commit(gn_group_coordinator_t *coord, int32_t node,
                            const gn_group_commit_req_t *req, gn_group_commit_cb cb, void *arg)
{
    json_t *j = call_new("commit", req->group_id), *offs = json_array();
    for (size_t i = 0; j && offs && i < req->count; i++) {
        const gn_group_offset_t *o = &req->offsets[i];
        json_t *e = json_pack("{s:s, s:i, s:I, s:i}", "topic", o->topic ? o->topic : "",
                              "partition", o->partition, "offset", (json_int_t)o->offset,
                              "leader_epoch", o->leader_epoch);
        set_str(e, "metadata", o->metadata);
        json_array_append_new(offs, e);
    }
    if (j && offs) {
        json_object_set_new(j, "generation", json_integer(req->generation_id));
        set_str(j, "member", req->member_id);
        set_str(j, "instance", req->instance_id);
        json_object_set(j, "offsets", offs);
    }
    json_decref(offs);
    rcall_t *rc = j && offs ? rcall_new(coord, R_COMMIT, arg) : NULL;
    if (rc) rc->cb.commit = cb;
    return send_call(coord, node, j, NULL, 0, REMOTE_TIMEOUT_MS, rc);
}

int gn__group_remote_fetch(gn_group_coordinator_t *coord, int32_t node,
                           const gn_group_fetch_group_t *group, gn_group_fetch_cb cb, void *arg)
{
    json_t *j = call_new("fetch", group->group_id), *topics = group->topics ? json_array() : NULL;
    for (size_t t = 0; topics && t < group->topics_count; t++) {
        const gn_group_topic_partitions_t *tp = &group->topics[t];
        json_t *ps = json_array();
        for (size_t i = 0; ps && i < tp->count; i++)
            json_array_append_new(ps, json_integer(tp->partitions[i]));
        json_array_append_new(topics, json_pack("{s:s, s:o}", "topic", tp->topic ? tp->topic : "",
                                                "partitions", ps ? ps : json_array()));
    }
    if (j && topics) json_object_set(j, "topics", topics);
    json_decref(topics);
    rcall_t *rc = j ? rcall_new(coord, R_FETCH, arg) : NULL;
    if (rc) {
        rc->cb.fetch = cb;
        if (!(rc->group = strdup(group->group_id))) {
            rcall_free(rc);
            rc = NULL;
        }
    }
    return send_call(coord, node, j, NULL, 0, REMOTE_TIMEOUT_MS, rc);
}

int gn__group_remote_view(gn_group_coordinator_t *coord, int32_t node, const char *group_id,
                          gn__view_json_cb cb, void *arg)
{
    json_t *j = json_pack("{s:s, s:s}", "op", "group", "call", "view");
    set_str(j, "group", group_id);
    rcall_t *rc = j ? rcall_new(coord, R_JSON, arg) : NULL;
    if (rc) {
        rc->cb.json = cb;
        rc->key = "groups";
    }
    return send_call(coord, node, j, NULL, 0, REMOTE_VIEW_TIMEOUT_MS, rc);
}

int gn__group_remote_ends(gn_group_coordinator_t *coord, int32_t node, json_t *partitions,
                          int64_t timeout_ms, gn__view_json_cb cb, void *arg)
{
    json_t *j =
        json_pack("{s:s, s:s, s:O}", "op", "group", "call", "ends", "partitions", partitions);
    rcall_t *rc = j ? rcall_new(coord, R_JSON, arg) : NULL;
    if (rc) {
        rc->cb.json = cb;
        rc->key = "ends";
    }
    return send_call(coord, node, j, NULL, 0, timeout_ms, rc);
}

/* ---- routing: here or at the broker that coordinates the group ------------------------ */

int gn__group_route(gn_group_coordinator_t *coord, const char *group_id, int32_t *node)
{
    *node = -1;
    int rc = gn__owner_check(coord, group_id);
    if (rc != GN_ENOT_COORDINATOR) return rc;
    if ((rc = gn_group_coordinator_locate(coord, group_id, node)) < 0) return rc;
    /* the image names this broker but it has not taken the partition over yet */
    if (*node == gn_broker_config(coord->broker)->node_id) return GN_ECOORDINATOR_LOADING;
    return 1;
}

int gn_group_commit_routed(gn_group_coordinator_t *coord, const gn_group_commit_req_t *req,
                           gn_group_commit_cb cb, void *arg)
{
    int32_t node;
    if (!coord || !req || !cb || !req->group_id) return GN_EINVAL;
    int rc = gn__group_route(coord, req->group_id, &node);
    if (rc == 1) return gn__group_remote_commit(coord, node, req, cb, arg);
    /* here, or the local answer (loading, not available) as before */
    return gn_group_commit(coord, req, cb, arg);
}

int gn_group_fetch_offsets_routed(gn_group_coordinator_t *coord,
                                  const gn_group_fetch_group_t *group, gn_group_fetch_cb cb,
                                  void *arg)
{
    int32_t node;
    if (!coord || !group || !cb || !group->group_id) return GN_EINVAL;
    int rc = gn__group_route(coord, group->group_id, &node);
    if (rc == 1) return gn__group_remote_fetch(coord, node, group, cb, arg);
    /* here, or the local answer (loading, not available) as before */
    return gn_group_fetch_offsets(coord, group, 1, cb, arg);
}
