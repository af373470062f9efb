/* SPDX-License-Identifier: Apache-2.0 */
/* SyncGroup (key 14), v0-5: the leader's assignments go to the coordinator, which
 * stores them in __consumer_offsets and answers every member with its own. Loop
 * thread. */
#include "group_api.h"

static void encode(kafka_req_t *req, int status, const char *ptype, const char *pname,
                   gn_bytes_t assignment)
{
    kafka_SyncGroupResponse_t out;
    kafka_SyncGroupResponse_init(&out);
    out.ErrorCode = kafka_err_from_gn(status);
    out.ProtocolType = status ? GN_BYTES_NULL : kafka_group_bytes(ptype);
    out.ProtocolName = status ? GN_BYTES_NULL : kafka_group_bytes(pname);
    out.Assignment = status || !assignment.ptr ? GN_BYTES_STR("") : assignment;
    kafka_resp_begin(req);
    kafka_SyncGroupResponse_encode(&req->w, req->version, &out);
}

static void on_sync(void *arg, int status, const char *ptype, const char *pname,
                    gn_bytes_t assignment)
{
    kafka_req_t *req = arg;
    encode(req, status, ptype, pname, assignment);
    kafka_req_done(req, false);
}

int kafka_handle_SyncGroup(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_SyncGroupRequest_t in;
    int rc = kafka_SyncGroupRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    int32_t n = in.Assignments.count > 0 ? in.Assignments.count : 0;
    gn_group_assignment_t *asg = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *asg);
    if (!asg) return GN_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        asg[i].member_id = kafka_group_str(req, in.Assignments.items[i].MemberId);
        asg[i].assignment = in.Assignments.items[i].Assignment.ptr
                                ? in.Assignments.items[i].Assignment
                                : GN_BYTES_STR("");
        if (!asg[i].member_id) return GN_EINVALID_REQUEST;
    }
    gn_group_sync_req_t sr = {
        .group_id = kafka_group_str(req, in.GroupId),
        .generation_id = in.GenerationId,
        .member_id = kafka_group_str(req, in.MemberId),
        .instance_id = req->version >= 3 ? kafka_group_opt(req, in.GroupInstanceId) : NULL,
        .protocol_type = req->version >= 5 ? kafka_group_opt(req, in.ProtocolType) : NULL,
        .protocol_name = req->version >= 5 ? kafka_group_opt(req, in.ProtocolName) : NULL,
        .assignments = asg,
        .assignments_count = (size_t)n,
    };
    if (!sr.group_id || !sr.member_id) return GN_EINVALID_REQUEST;
    rc = !kafka_group_authorize(req, sr.group_id) ? GN_EGROUP_AUTHORIZATION
         : coord                                  ? gn_group_sync(coord, &sr, on_sync, req)
                                                  : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(req, rc, NULL, NULL, GN_BYTES_NULL);
    return KAFKA_DONE;
}
