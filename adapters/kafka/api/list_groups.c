/* SPDX-License-Identifier: Apache-2.0 */
/* ListGroups (key 16), v0-5: every group with its protocol type, state (v4+) and
 * type "classic" (v5+); StatesFilter (v4+) and TypesFilter (v5+) narrow the list.
 * With the authorizer, as Kafka: DESCRIBE on the cluster lists every group, else only
 * the groups the client may DESCRIBE. Loop thread. */
#include <strings.h>

#include "group_api.h"

static void encode(kafka_req_t *req, int status, const gn_group_listing_t *groups, size_t count)
{
    kafka_ListGroupsResponse_t out;
    kafka_ListGroupsResponse_init(&out);
    out.ErrorCode = kafka_err_from_gn(status);
    bool none = req->ctx != NULL; /* a filter no group can match */
    if (!status && !none && count) {
        out.Groups.items = kafka_arena_calloc(&req->arena, count, sizeof *out.Groups.items);
        bool all =
            kafka_allowed(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_CLUSTER, GN_ACL_CLUSTER_NAME);
        for (size_t i = 0; out.Groups.items && i < count; i++) {
            if (!all &&
                !kafka_allowed(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_GROUP, groups[i].group_id))
                continue;
            kafka_ListGroupsResponse_ListedGroup_t *o = &out.Groups.items[out.Groups.count++];
            o->GroupId = kafka_req_keep(req, kafka_cstr_bytes(groups[i].group_id));
            o->ProtocolType = kafka_req_keep(req, kafka_group_bytes(groups[i].protocol_type));
            o->GroupState = kafka_cstr_bytes(gn_group_state_name(groups[i].state));
            o->GroupType = GN_BYTES_STR("classic");
        }
    }
    kafka_resp_begin(req);
    kafka_ListGroupsResponse_encode(&req->w, req->version, &out);
}

static void on_list(void *arg, int status, const gn_group_listing_t *groups, size_t count)
{
    kafka_req_t *req = arg;
    encode(req, status, groups, count);
    req->ctx = NULL;
    kafka_req_done(req, false);
}

int kafka_handle_ListGroups(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_ListGroupsRequest_t in;
    int rc = kafka_ListGroupsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    int32_t ns = req->version >= 4 && in.StatesFilter.count > 0 ? in.StatesFilter.count : 0;
    gn_group_state_t *states = kafka_arena_calloc(&req->arena, (size_t)ns + 1, sizeof *states);
    if (!states) return GN_ENOMEM;
    size_t known = 0;
    for (int32_t i = 0; i < ns; i++) {
        const char *name = kafka_group_str(req, in.StatesFilter.items[i]);
        int st = name ? gn_group_state_parse(name) : -1;
        if (st >= 0) states[known++] = (gn_group_state_t)st;
    }
    bool none = ns > 0 && known == 0;
    if (req->version >= 5 && in.TypesFilter.count > 0) {
        bool classic = false;
        for (int32_t i = 0; i < in.TypesFilter.count; i++) {
            const char *t = kafka_group_str(req, in.TypesFilter.items[i]);
            if (t && strcasecmp(t, "classic") == 0) classic = true;
        }
        if (!classic) none = true;
    }
    req->ctx = none ? (void *)req : NULL;
    rc = coord ? gn_group_list(coord, states, known, on_list, req) : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(req, rc, NULL, 0);
    req->ctx = NULL;
    return KAFKA_DONE;
}
