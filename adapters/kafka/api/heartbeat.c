/* SPDX-License-Identifier: Apache-2.0 */
/* Heartbeat (key 12), v0-4: keeps the member's session alive; REBALANCE_IN_PROGRESS
 * tells it to rejoin. Loop thread. */
#include "group_api.h"

static void encode(kafka_req_t *req, int status)
{
    kafka_HeartbeatResponse_t out;
    kafka_HeartbeatResponse_init(&out);
    out.ErrorCode = kafka_err_from_gn(status);
    kafka_resp_begin(req);
    kafka_HeartbeatResponse_encode(&req->w, req->version, &out);
}

static void on_heartbeat(void *arg, int status)
{
    kafka_req_t *req = arg;
    encode(req, status);
    kafka_req_done(req, false);
}

int kafka_handle_Heartbeat(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_HeartbeatRequest_t in;
    int rc = kafka_HeartbeatRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    const char *group = kafka_group_str(req, in.GroupId);
    const char *member = kafka_group_str(req, in.MemberId);
    if (!group || !member) return GN_EINVALID_REQUEST;
    const char *instance = req->version >= 3 ? kafka_group_opt(req, in.GroupInstanceId) : NULL;
    rc = !kafka_group_authorize(req, group) ? GN_EGROUP_AUTHORIZATION
         : coord ? gn_group_heartbeat(coord, group, in.GenerationId, member, instance, on_heartbeat,
                                      req)
                 : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(req, rc);
    return KAFKA_DONE;
}
