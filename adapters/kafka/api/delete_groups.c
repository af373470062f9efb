/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteGroups (key 42), v0-2: deletes empty groups with their committed offsets
 * (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown ones).
 * Loop thread. */
#include "group_api.h"

typedef struct delete_ctx {
    kafka_req_t *req;
    const char **ids;
    size_t count;
    bool *denied; /* [i]: no DELETE on group i: GROUP_AUTHORIZATION_FAILED, not deleted */
} delete_ctx_t;

static void encode(delete_ctx_t *ctx, int status, const int *errors)
{
    kafka_req_t *req = ctx->req;
    kafka_DeleteGroupsResponse_t out;
    kafka_DeleteGroupsResponse_init(&out);
    out.Results.items = kafka_arena_calloc(&req->arena, ctx->count + 1, sizeof *out.Results.items);
    if (out.Results.items) out.Results.count = (int32_t)ctx->count;
    for (size_t i = 0, k = 0; out.Results.items && i < ctx->count; i++) {
        out.Results.items[i].GroupId = kafka_cstr_bytes(ctx->ids[i]);
        int err = ctx->denied[i] ? GN_EGROUP_AUTHORIZATION : status ? status : errors[k++];
        out.Results.items[i].ErrorCode = kafka_err_from_gn(err);
    }
    kafka_resp_begin(req);
    kafka_DeleteGroupsResponse_encode(&req->w, req->version, &out);
}

static void on_delete(void *arg, int status, const int *errors, size_t count)
{
    delete_ctx_t *ctx = arg;
    (void)count;
    encode(ctx, status, errors);
    kafka_req_done(ctx->req, false);
}

int kafka_handle_DeleteGroups(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DeleteGroupsRequest_t in;
    int rc = kafka_DeleteGroupsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    delete_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    ctx->count = in.GroupsNames.count > 0 ? (size_t)in.GroupsNames.count : 0;
    ctx->ids = kafka_arena_calloc(&req->arena, ctx->count + 1, sizeof *ctx->ids);
    ctx->denied = kafka_arena_calloc(&req->arena, ctx->count + 1, sizeof *ctx->denied);
    const char **allowed = kafka_arena_calloc(&req->arena, ctx->count + 1, sizeof *allowed);
    if (!ctx->ids || !ctx->denied || !allowed) return GN_ENOMEM;
    size_t nallowed = 0;
    for (size_t i = 0; i < ctx->count; i++) { /* copies: the frame buffer moves on */
        if (!(ctx->ids[i] = kafka_group_str(req, in.GroupsNames.items[i])))
            return GN_EINVALID_REQUEST;
        ctx->denied[i] =
            !kafka_authorize(req, GN_ACL_OP_DELETE, GN_ACL_RESOURCE_GROUP, ctx->ids[i]);
        if (!ctx->denied[i]) allowed[nallowed++] = ctx->ids[i];
    }
    if (nallowed == 0) {
        encode(ctx, 0, NULL);
        return KAFKA_DONE;
    }
    rc = coord ? gn_group_delete(coord, allowed, nallowed, on_delete, ctx)
               : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(ctx, rc, NULL);
    return KAFKA_DONE;
}
