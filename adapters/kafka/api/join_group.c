/* SPDX-License-Identifier: Apache-2.0 */
/* JoinGroup (key 11), v0-9: hands the join to the group coordinator and answers
 * when the rebalance completes (up to the member's rebalance timeout later).
 * v4+ first joins without a member id get MEMBER_ID_REQUIRED and the id to use.
 * Loop thread. */
#include "group_api.h"

static void encode(kafka_req_t *req, int status, const gn_group_join_res_t *res)
{
    kafka_JoinGroupResponse_t out;
    kafka_JoinGroupResponse_init(&out);
    out.ErrorCode = kafka_err_from_gn(status);
    out.GenerationId = status ? -1 : res->generation_id;
    out.ProtocolType = status ? GN_BYTES_NULL : kafka_group_bytes(res->protocol_type);
    out.ProtocolName = status ? (req->version >= 7 ? GN_BYTES_NULL : GN_BYTES_STR(""))
                              : kafka_group_bytes(res->protocol_name);
    out.Leader = status ? GN_BYTES_STR("") : kafka_group_bytes(res->leader_id);
    out.SkipAssignment = status ? false : res->skip_assignment;
    out.MemberId = kafka_group_bytes(res ? res->member_id : "");
    if (status == 0 && res->members_count) {
        out.Members.items =
            kafka_arena_calloc(&req->arena, res->members_count, sizeof *out.Members.items);
        if (out.Members.items) {
            out.Members.count = (int32_t)res->members_count;
            for (size_t i = 0; i < res->members_count; i++) {
                out.Members.items[i].MemberId = kafka_group_bytes(res->members[i].member_id);
                out.Members.items[i].GroupInstanceId =
                    res->members[i].instance_id ? kafka_cstr_bytes(res->members[i].instance_id)
                                                : GN_BYTES_NULL;
                out.Members.items[i].Metadata = res->members[i].metadata;
            }
        } else {
            out.ErrorCode = kafka_err_from_gn(GN_ENOMEM);
        }
    }
    kafka_resp_begin(req);
    kafka_JoinGroupResponse_encode(&req->w, req->version, &out);
}

static void on_join(void *arg, int status, const gn_group_join_res_t *res)
{
    kafka_req_t *req = arg;
    encode(req, status, res);
    kafka_req_done(req, false);
}

int kafka_handle_JoinGroup(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_JoinGroupRequest_t in;
    int rc = kafka_JoinGroupRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    int32_t n = in.Protocols.count > 0 ? in.Protocols.count : 0;
    gn_group_protocol_t *protos = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *protos);
    if (!protos) return GN_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        protos[i].name = kafka_group_str(req, in.Protocols.items[i].Name);
        protos[i].metadata =
            in.Protocols.items[i].Metadata.ptr ? in.Protocols.items[i].Metadata : GN_BYTES_STR("");
        if (!protos[i].name) return GN_EINVALID_REQUEST;
    }
    gn_group_join_req_t jr = {
        .group_id = kafka_group_str(req, in.GroupId),
        .member_id = kafka_group_str(req, in.MemberId),
        .instance_id = kafka_group_opt(req, in.GroupInstanceId),
        .client_id = req->client_id ? req->client_id : "",
        .client_host = kafka_group_host(req),
        .protocol_type = kafka_group_str(req, in.ProtocolType),
        .protocols = protos,
        .protocols_count = (size_t)n,
        .session_timeout_ms = in.SessionTimeoutMs,
        .rebalance_timeout_ms = req->version >= 1 ? in.RebalanceTimeoutMs : -1,
        .require_known_member_id = req->version >= 4,
    };
    if (!jr.group_id || !jr.member_id || !jr.protocol_type) return GN_EINVALID_REQUEST;
    rc = !kafka_group_authorize(req, jr.group_id) ? GN_EGROUP_AUTHORIZATION
         : coord                                  ? gn_group_join(coord, &jr, on_join, req)
                                                  : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    gn_group_join_res_t none = {.member_id = jr.member_id};
    encode(req, rc, &none);
    return KAFKA_DONE;
}
