/* SPDX-License-Identifier: Apache-2.0 */
/* The serving side of the group RPC (op "group" on the internal listener): the group
 * calls of server-side members whose sessions live on other brokers (remote.c sends
 * them) run here through the public coordinator API, exactly as a Kafka client's
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit and OffsetFetch would: the
 * member is an ordinary member of the group here (session timeout, heartbeats,
 * DescribeGroups). A request for a group this broker does not coordinate answers
 * GN_ENOT_COORDINATOR and the caller looks again; requests are never forwarded on.
 *
 *   {"op":"group","call":"join"|"sync"|"heartbeat"|"leave"|"commit"|"fetch","group",...}
 *   {"op":"group","call":"view","group"?}    groups with members and lag (view.c)
 *   {"op":"group","call":"ends","partitions":[[topic, partition], ...]}
 *                                           high watermarks of partitions led here (ends.c)
 *
 * Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "broker/broker_internal.h"
#include "cluster/controller.h"
#include "cluster/rpc.h"
#include "group/group_int.h"
#include "group/serve.h"

#define SERVE_PROTOCOLS_MAX   16
#define SERVE_ASSIGNMENTS_MAX 100000
#define SERVE_OFFSETS_MAX     100000

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int32_t jint(const json_t *o, const char *key)
{
    return (int32_t)json_integer_value(json_object_get(o, key));
}

static void reply_status(gn_rpc_call_t *call, int status)
{
    gn__rpc_reply(call, status, NULL, NULL, 0);
}

/* Splits raw by "lens"; false when the lengths do not add up to rawlen. */
static bool split(const json_t *lens, size_t n, const uint8_t *raw, size_t rawlen, gn_bytes_t *out)
{
    size_t off = 0;
    if (json_array_size(lens) != n) return false;
    for (size_t i = 0; i < n; i++) {
        json_int_t l = json_integer_value(json_array_get(lens, i));
        if (l < 0 || (size_t)l > rawlen - off) return false;
        out[i] = (gn_bytes_t){raw + off, (size_t)l};
        off += (size_t)l;
    }
    return off == rawlen;
}

/* ---- join ---------------------------------------------------------------------------- */

static void on_join(void *arg, int status, const gn_group_join_res_t *res)
{
    gn_rpc_call_t *call = arg;
    json_t *j = json_object(), *ms = json_array(), *lens = json_array();
    size_t total = 0, off = 0;
    for (size_t i = 0; status == 0 && i < res->members_count; i++)
        total += res->members[i].metadata.len;
    uint8_t *raw = malloc(total ? total : 1);
    if (!j || !ms || !lens || !raw) status = status ? status : GN_ENOMEM;
    for (size_t i = 0; status == 0 && i < res->members_count; i++) {
        const gn_group_join_member_t *m = &res->members[i];
        json_t *e = json_pack("{s:s}", "id", m->member_id);
        if (e && m->instance_id) json_object_set_new(e, "instance", json_string(m->instance_id));
        json_array_append_new(ms, e);
        json_array_append_new(lens, json_integer((json_int_t)m->metadata.len));
        if (m->metadata.len) memcpy(raw + off, m->metadata.ptr, m->metadata.len);
        off += m->metadata.len;
    }
    if (status == 0) {
        json_object_set_new(j, "generation", json_integer(res->generation_id));
        if (res->protocol_type)
            json_object_set_new(j, "protocol_type", json_string(res->protocol_type));
        if (res->protocol_name)
            json_object_set_new(j, "protocol_name", json_string(res->protocol_name));
        json_object_set_new(j, "leader", json_string(res->leader_id ? res->leader_id : ""));
        json_object_set_new(j, "member", json_string(res->member_id ? res->member_id : ""));
        json_object_set_new(j, "skip_assignment", json_boolean(res->skip_assignment));
        json_object_set(j, "members", ms);
        json_object_set(j, "lens", lens);
    }
    gn__rpc_reply(call, status, status == 0 ? j : NULL, raw, off);
    json_decref(j);
    json_decref(ms);
    json_decref(lens);
    free(raw);
}

static void serve_join(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req,
                       const uint8_t *raw, size_t rawlen)
{
    const json_t *names = json_object_get(req, "protocols");
    size_t n = json_array_size(names);
    gn_group_protocol_t protos[SERVE_PROTOCOLS_MAX];
    gn_bytes_t meta[SERVE_PROTOCOLS_MAX];
    if (n == 0 || n > SERVE_PROTOCOLS_MAX ||
        !split(json_object_get(req, "lens"), n, raw, rawlen, meta)) {
        reply_status(call, GN_EINVALID_REQUEST);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        protos[i] = (gn_group_protocol_t){json_string_value(json_array_get(names, i)), meta[i]};
        if (!protos[i].name) {
            reply_status(call, GN_EINVALID_REQUEST);
            return;
        }
    }
    gn_group_join_req_t jr = {
        .group_id = jstr(req, "group"),
        .member_id = jstr(req, "member") ? jstr(req, "member") : "",
        .instance_id = jstr(req, "instance"),
        .client_id = jstr(req, "client_id") ? jstr(req, "client_id") : "",
        .client_host = jstr(req, "client_host") ? jstr(req, "client_host") : "",
        .protocol_type = jstr(req, "protocol_type"),
        .protocols = protos,
        .protocols_count = n,
        .session_timeout_ms = jint(req, "session_timeout"),
        .rebalance_timeout_ms = jint(req, "rebalance_timeout"),
    };
    int rc = gn_group_join(coord, &jr, on_join, call);
    if (rc) reply_status(call, rc);
}

/* ---- sync ---------------------------------------------------------------------------- */

static void on_sync(void *arg, int status, const char *ptype, const char *pname,
                    gn_bytes_t assignment)
{
    gn_rpc_call_t *call = arg;
    json_t *j = status == 0 ? json_object() : NULL;
    if (j && ptype) json_object_set_new(j, "protocol_type", json_string(ptype));
    if (j && pname) json_object_set_new(j, "protocol_name", json_string(pname));
    gn__rpc_reply(call, status, j, status == 0 ? assignment.ptr : NULL,
                  status == 0 ? assignment.len : 0);
    json_decref(j);
}

static void serve_sync(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req,
                       const uint8_t *raw, size_t rawlen)
{
    const json_t *ids = json_object_get(req, "assignments");
    size_t n = json_array_size(ids);
    gn_bytes_t *blobs = calloc(n + 1, sizeof(*blobs));
    gn_group_assignment_t *asg = calloc(n + 1, sizeof(*asg));
    int rc = blobs && asg ? 0 : GN_ENOMEM;
    if (!rc &&
        (n > SERVE_ASSIGNMENTS_MAX || !split(json_object_get(req, "lens"), n, raw, rawlen, blobs)))
        rc = GN_EINVALID_REQUEST;
    for (size_t i = 0; !rc && i < n; i++) {
        asg[i] = (gn_group_assignment_t){json_string_value(json_array_get(ids, i)), blobs[i]};
        if (!asg[i].member_id) rc = GN_EINVALID_REQUEST;
    }
    gn_group_sync_req_t sr = {
        .group_id = jstr(req, "group"),
        .generation_id = jint(req, "generation"),
        .member_id = jstr(req, "member"),
        .instance_id = jstr(req, "instance"),
        .protocol_type = jstr(req, "protocol_type"),
        .protocol_name = jstr(req, "protocol_name"),
        .assignments = asg,
        .assignments_count = n,
    };
    if (!rc && !sr.member_id) rc = GN_EINVALID_REQUEST;
    if (!rc) rc = gn_group_sync(coord, &sr, on_sync, call); /* copies what it keeps */
    if (rc) reply_status(call, rc);
    free(blobs);
    free(asg);
}

/* ---- heartbeat, leave ------------------------------------------------------------------ */

static void on_status(void *arg, int status)
{
    reply_status(arg, status);
}

static void on_leave(void *arg, int status, const int *errors, size_t count)
{
    reply_status(arg, status ? status : (count ? errors[0] : 0));
}

static void serve_heartbeat(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req)
{
    const char *member = jstr(req, "member");
    int rc = member ? gn_group_heartbeat(coord, jstr(req, "group"), jint(req, "generation"), member,
                                         jstr(req, "instance"), on_status, call)
                    : GN_EINVALID_REQUEST;
    if (rc) reply_status(call, rc);
}

static void serve_leave(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req)
{
    gn_group_member_ref_t ref = {jstr(req, "member") ? jstr(req, "member") : "",
                                 jstr(req, "instance")};
    int rc = gn_group_leave(coord, jstr(req, "group"), &ref, 1, on_leave, call);
    if (rc) reply_status(call, rc);
}

/* ---- commit, fetch --------------------------------------------------------------------- */

static json_t *offsets_json(const gn_group_offset_t *offs, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const gn_group_offset_t *o = &offs[i];
        json_t *e = json_pack("{s:s, s:i, s:I, s:i, s:i}", "topic", o->topic ? o->topic : "",
                              "partition", o->partition, "offset", (json_int_t)o->offset,
                              "leader_epoch", o->leader_epoch, "error", o->error);
        if (e && o->metadata) json_object_set_new(e, "metadata", json_string(o->metadata));
        json_array_append_new(a, e);
    }
    return a;
}

static void on_commit(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    json_t *j = json_object();
    if (j) json_object_set_new(j, "offsets", offsets_json(results, results ? count : 0));
    gn__rpc_reply(arg, status, j, NULL, 0);
    json_decref(j);
}

static void serve_commit(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req)
{
    const json_t *offs = json_object_get(req, "offsets");
    size_t n = json_array_size(offs);
    gn_group_offset_t *o = calloc(n + 1, sizeof(*o));
    int rc = o ? 0 : GN_ENOMEM;
    if (!rc && (n == 0 || n > SERVE_OFFSETS_MAX)) rc = GN_EINVALID_REQUEST;
    for (size_t i = 0; !rc && i < n; i++) {
        const json_t *e = json_array_get(offs, i);
        o[i] = (gn_group_offset_t){.topic = jstr(e, "topic"),
                                   .partition = jint(e, "partition"),
                                   .offset = json_integer_value(json_object_get(e, "offset")),
                                   .leader_epoch = jint(e, "leader_epoch"),
                                   .metadata = jstr(e, "metadata")};
        if (!o[i].topic) rc = GN_EINVALID_REQUEST;
    }
    gn_group_commit_req_t cr = {
        .group_id = jstr(req, "group"),
        .generation_id = jint(req, "generation"),
        .member_id = jstr(req, "member") ? jstr(req, "member") : "",
        .instance_id = jstr(req, "instance"),
        .offsets = o,
        .count = n,
    };
    if (!rc) rc = gn_group_commit(coord, &cr, on_commit, call);
    if (rc) reply_status(call, rc);
    free(o);
}

static void on_fetch(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    json_t *j = json_object();
    if (j && count == 1) {
        json_object_set_new(j, "error", json_integer(groups[0].error));
        json_object_set_new(j, "offsets", offsets_json(groups[0].offsets, groups[0].count));
    }
    gn__rpc_reply(arg, status, j, NULL, 0);
    json_decref(j);
}

static void serve_fetch(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req)
{
    const json_t *topics = json_object_get(req, "topics");
    size_t nt = json_array_size(topics), np = 0;
    for (size_t t = 0; t < nt; t++)
        np += json_array_size(json_object_get(json_array_get(topics, t), "partitions"));
    gn_group_topic_partitions_t *tps = calloc(nt + 1, sizeof(*tps));
    int32_t *ids = calloc(np + 1, sizeof(*ids));
    int rc = tps && ids ? 0 : GN_ENOMEM;
    if (!rc && np > SERVE_OFFSETS_MAX) rc = GN_EINVALID_REQUEST;
    size_t k = 0;
    for (size_t t = 0; !rc && t < nt; t++) {
        const json_t *e = json_array_get(topics, t), *ps = json_object_get(e, "partitions");
        tps[t] = (gn_group_topic_partitions_t){jstr(e, "topic"), &ids[k], json_array_size(ps)};
        for (size_t i = 0; i < json_array_size(ps); i++)
            ids[k++] = (int32_t)json_integer_value(json_array_get(ps, i));
        if (!tps[t].topic) rc = GN_EINVALID_REQUEST;
    }
    gn_group_fetch_group_t fg = {jstr(req, "group"), topics ? tps : NULL, nt};
    if (!rc && !fg.group_id) rc = GN_EINVALID_REQUEST;
    if (!rc) rc = gn_group_fetch_offsets(coord, &fg, 1, on_fetch, call);
    if (rc) reply_status(call, rc);
    free(tps);
    free(ids);
}

static void on_view(void *arg, int status, json_t *groups)
{
    gn_rpc_call_t *call = arg;
    if (status) {
        reply_status(call, status);
        return;
    }
    json_t *resp = json_pack("{s:O}", "groups", groups);
    gn__rpc_reply(call, 0, resp, NULL, 0);
    json_decref(resp);
}

/* Every group this broker coordinates, or one ("group" given). */
static void serve_view(gn_group_coordinator_t *coord, gn_rpc_call_t *call, const json_t *req)
{
    int rc = gn__group_view_local(coord, json_string_value(json_object_get(req, "group")), true,
                                  on_view, call);
    if (rc) reply_status(call, rc);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static void handle_group(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                         size_t rawlen)
{
    gn_broker_t *broker = arg;
    const char *what = jstr(req, "call"), *group = jstr(req, "group");
    bool all = what && strcmp(what, "view") == 0 && !group; /* a view of every group */
    if (what && strcmp(what, "ends") == 0) { /* partitions, not a group: no coordinator */
        gn__group_serve_ends(broker, call, req);
        return;
    }
    if (!what || (!all && (!group || !*group))) {
        GN_WARN("group", "bad group RPC request | call=%s", what ? what : "(none)");
        reply_status(call, GN_EINVALID_REQUEST);
        return;
    }
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(broker); /* made on first use */
    if (!coord) {
        reply_status(call, GN_ECOORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (strcmp(what, "join") == 0)
        serve_join(coord, call, req, raw, rawlen);
    else if (strcmp(what, "sync") == 0)
        serve_sync(coord, call, req, raw, rawlen);
    else if (strcmp(what, "heartbeat") == 0)
        serve_heartbeat(coord, call, req);
    else if (strcmp(what, "leave") == 0)
        serve_leave(coord, call, req);
    else if (strcmp(what, "commit") == 0)
        serve_commit(coord, call, req);
    else if (strcmp(what, "fetch") == 0)
        serve_fetch(coord, call, req);
    else if (strcmp(what, "view") == 0)
        serve_view(coord, call, req);
    else {
        GN_WARN("group", "unknown group RPC call | call=%s group=%s", what, group);
        reply_status(call, GN_EINVALID_REQUEST);
    }
}

int gn__group_serve_open(gn_broker_t *broker)
{
    gn_rpc_server_t *srv = broker->controller ? gn__controller_rpc(broker->controller) : NULL;
    return srv ? gn__rpc_server_handle(srv, "group", handle_group, broker) : 0;
}
