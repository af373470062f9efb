/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeGroups (key 15), v0-5: state, protocol type and chosen assignor, members
 * with their metadata and assignment. An unknown group answers state "Dead" without
 * an error, as Kafka does. A group the client may not DESCRIBE answers
 * GROUP_AUTHORIZATION_FAILED and nothing else. Loop thread. */
#include "group_api.h"

typedef kafka_DescribeGroupsResponse_DescribedGroupMember_t member_t;

static void encode(kafka_req_t *req, int status, const gn_group_desc_t *groups, size_t count)
{
    kafka_DescribeGroupsResponse_t out;
    kafka_DescribeGroupsResponse_init(&out);
    out.Groups.items = kafka_arena_calloc(&req->arena, count + 1, sizeof *out.Groups.items);
    if (out.Groups.items) out.Groups.count = (int32_t)count;
    for (size_t i = 0; out.Groups.items && i < count; i++) {
        const gn_group_desc_t *g = &groups[i];
        kafka_DescribeGroupsResponse_DescribedGroup_t *o = &out.Groups.items[i];
        o->ErrorCode = kafka_err_from_gn(status ? status : g->error);
        o->GroupId = kafka_req_keep(req, kafka_cstr_bytes(g->group_id));
        o->GroupState = kafka_cstr_bytes(gn_group_state_name(g->state));
        o->ProtocolType = kafka_req_keep(req, kafka_group_bytes(g->protocol_type));
        o->ProtocolData = kafka_req_keep(req, kafka_group_bytes(g->protocol_name));
        o->AuthorizedOperations = INT32_MIN;
        if (!kafka_allowed(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_GROUP, g->group_id)) {
            o->ErrorCode = KAFKA_GROUP_AUTHORIZATION_FAILED; /* logged when asked */
            o->GroupState = o->ProtocolType = o->ProtocolData = GN_BYTES_STR("");
            continue;
        }
        if (!g->members_count) continue;
        o->Members.items = kafka_arena_calloc(&req->arena, g->members_count, sizeof(member_t));
        if (!o->Members.items) continue;
        o->Members.count = (int32_t)g->members_count;
        for (size_t k = 0; k < g->members_count; k++) {
            const gn_group_member_desc_t *m = &g->members[k];
            member_t *om = &o->Members.items[k];
            om->MemberId = kafka_req_keep(req, kafka_cstr_bytes(m->member_id));
            om->GroupInstanceId = m->instance_id
                                      ? kafka_req_keep(req, kafka_cstr_bytes(m->instance_id))
                                      : GN_BYTES_NULL;
            om->ClientId = kafka_req_keep(req, kafka_group_bytes(m->client_id));
            om->ClientHost = kafka_req_keep(req, kafka_group_bytes(m->client_host));
            om->MemberMetadata =
                kafka_req_keep(req, m->metadata.ptr ? m->metadata : GN_BYTES_STR(""));
            om->MemberAssignment =
                kafka_req_keep(req, m->assignment.ptr ? m->assignment : GN_BYTES_STR(""));
        }
    }
    kafka_resp_begin(req);
    kafka_DescribeGroupsResponse_encode(&req->w, req->version, &out);
}

static void on_describe(void *arg, int status, const gn_group_desc_t *groups, size_t count)
{
    kafka_req_t *req = arg;
    encode(req, status, groups, count);
    kafka_req_done(req, false);
}

int kafka_handle_DescribeGroups(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DescribeGroupsRequest_t in;
    int rc = kafka_DescribeGroupsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    size_t n = in.Groups.count > 0 ? (size_t)in.Groups.count : 0;
    const char **ids = kafka_arena_calloc(&req->arena, n + 1, sizeof *ids);
    if (!ids) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(ids[i] = kafka_group_str(req, in.Groups.items[i]))) return GN_EINVALID_REQUEST;
    for (size_t i = 0; i < n; i++)
        kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_GROUP, ids[i]);
    rc = coord ? gn_group_describe(coord, ids, n, on_describe, req) : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    gn_group_desc_t *errs = kafka_arena_calloc(&req->arena, n + 1, sizeof *errs);
    if (!errs) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        errs[i].group_id = ids[i];
        errs[i].state = GN_GROUP_DEAD;
    }
    encode(req, rc, errs, n);
    return KAFKA_DONE;
}
