/* SPDX-License-Identifier: Apache-2.0 */
/* LeaveGroup (key 13), v0-5: one member (v0-2) or a batch of members identified by
 * member id and/or group.instance.id (v3+) leave; the group rebalances. Loop
 * thread. */
#include "group_api.h"

typedef struct leave_ctx {
    kafka_req_t *req;
    kafka_LeaveGroupRequest_t in;
} leave_ctx_t;

static void encode(leave_ctx_t *ctx, int status, const int *errors, size_t count)
{
    kafka_req_t *req = ctx->req;
    kafka_LeaveGroupResponse_t out;
    kafka_LeaveGroupResponse_init(&out);
    out.ErrorCode = kafka_err_from_gn(status);
    if (req->version < 3) {
        if (!status && count) out.ErrorCode = kafka_err_from_gn(errors[0]);
    } else if (!status && count) {
        out.Members.items = kafka_arena_calloc(&req->arena, count, sizeof *out.Members.items);
        if (out.Members.items) {
            out.Members.count = (int32_t)count;
            for (size_t i = 0; i < count; i++) {
                out.Members.items[i].MemberId = ctx->in.Members.items[i].MemberId;
                out.Members.items[i].GroupInstanceId = ctx->in.Members.items[i].GroupInstanceId;
                out.Members.items[i].ErrorCode = kafka_err_from_gn(errors[i]);
            }
        } else {
            out.ErrorCode = kafka_err_from_gn(GN_ENOMEM);
        }
    }
    kafka_resp_begin(req);
    kafka_LeaveGroupResponse_encode(&req->w, req->version, &out);
}

static void on_leave(void *arg, int status, const int *errors, size_t count)
{
    leave_ctx_t *ctx = arg;
    encode(ctx, status, errors, count);
    kafka_req_done(ctx->req, false);
}

int kafka_handle_LeaveGroup(kafka_req_t *req, kafka_reader_t *body)
{
    leave_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    int rc = kafka_LeaveGroupRequest_decode(body, req->version, &req->arena, &ctx->in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    const char *group = kafka_group_str(req, ctx->in.GroupId);
    if (!group) return GN_EINVALID_REQUEST;
    size_t n =
        req->version >= 3 ? (size_t)(ctx->in.Members.count > 0 ? ctx->in.Members.count : 0) : 1;
    gn_group_member_ref_t *refs = kafka_arena_calloc(&req->arena, n + 1, sizeof *refs);
    if (!refs) return GN_ENOMEM;
    if (req->version < 3) {
        refs[0].member_id = kafka_group_str(req, ctx->in.MemberId);
        if (!refs[0].member_id) return GN_EINVALID_REQUEST;
    }
    for (size_t i = 0; req->version >= 3 && i < n; i++) {
        /* the response echoes them after the frame buffer moved on */
        ctx->in.Members.items[i].MemberId = kafka_req_keep(req, ctx->in.Members.items[i].MemberId);
        ctx->in.Members.items[i].GroupInstanceId =
            kafka_req_keep(req, ctx->in.Members.items[i].GroupInstanceId);
        refs[i].member_id = kafka_group_str(req, ctx->in.Members.items[i].MemberId);
        refs[i].instance_id = kafka_group_opt(req, ctx->in.Members.items[i].GroupInstanceId);
        if (!refs[i].member_id) return GN_EINVALID_REQUEST;
    }
    rc = !kafka_group_authorize(req, group) ? GN_EGROUP_AUTHORIZATION
         : coord                            ? gn_group_leave(coord, group, refs, n, on_leave, ctx)
                                            : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(ctx, rc, NULL, 0);
    return KAFKA_DONE;
}
