/* SPDX-License-Identifier: Apache-2.0 */
/* CreateAcls (key 30), v0-3: the valid creations go to the controller as one "acl"
 * record (core/acl, forwarded from any broker); the answer waits until it is applied
 * here. Needs ALTER on the cluster; SECURITY_DISABLED without authorizer.enabled, as
 * Kafka answers without an authorizer. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/logger.h"

typedef kafka_CreateAclsResponse_AclCreationResult_t result_t;

typedef struct create_ctx {
    kafka_CreateAclsResponse_t resp;
    bool *proposed;     /* [i]: creation i is in the record */
    int16_t error_code; /* the record's outcome */
    gn_bytes_t error_message;
} create_ctx_t;

static void finish(kafka_req_t *req, void *arg)
{
    create_ctx_t *ctx = arg;
    for (int32_t i = 0; i < ctx->resp.Results.count; i++) {
        if (!ctx->proposed[i]) continue;
        ctx->resp.Results.items[i].ErrorCode = ctx->error_code;
        ctx->resp.Results.items[i].ErrorMessage = ctx->error_message;
    }
    kafka_resp_begin(req);
    kafka_CreateAclsResponse_encode(&req->w, req->version, &ctx->resp);
}

/* Every result gets code (with message), none is proposed. */
static int answer_all(kafka_req_t *req, create_ctx_t *ctx, int16_t code, const char *message)
{
    for (int32_t i = 0; i < ctx->resp.Results.count; i++) {
        ctx->resp.Results.items[i].ErrorCode = code;
        ctx->resp.Results.items[i].ErrorMessage = kafka_cstr_bytes(message);
    }
    kafka_resp_begin(req);
    kafka_CreateAclsResponse_encode(&req->w, req->version, &ctx->resp);
    return KAFKA_DONE;
}

int kafka_handle_CreateAcls(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_CreateAclsRequest_t in;
    int rc = kafka_CreateAclsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    int32_t n = in.Creations.count;
    create_ctx_t *ctx = kafka_arena_calloc(&req->arena, 1, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    kafka_CreateAclsResponse_init(&ctx->resp);
    ctx->resp.Results.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(result_t));
    ctx->proposed = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *ctx->proposed);
    gn_acl_binding_t *bindings = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *bindings);
    if (!ctx->resp.Results.items || !ctx->proposed || !bindings) return GN_ENOMEM;
    ctx->resp.Results.count = n;
    for (int32_t i = 0; i < n; i++)
        ctx->resp.Results.items[i].ErrorMessage = GN_BYTES_NULL;
    if (!gn_acl_enabled(gn_broker_acl(req->broker)))
        return answer_all(req, ctx, KAFKA_SECURITY_DISABLED, "No Authorizer is configured.");
    if (!kafka_authorize_cluster(req, GN_ACL_OP_ALTER))
        return answer_all(req, ctx, KAFKA_CLUSTER_AUTHORIZATION_FAILED, NULL);
    size_t nb = 0;
    for (int32_t i = 0; i < n; i++) {
        kafka_CreateAclsRequest_AclCreation_t *c = &in.Creations.items[i];
        gn_acl_binding_t b = {
            .resource_type = (gn_acl_resource_type_t)c->ResourceType,
            .pattern = (gn_acl_pattern_t)c->ResourcePatternType,
            .name = kafka_req_cstr(req, c->ResourceName),
            .principal = kafka_req_cstr(req, c->Principal),
            .host = kafka_req_cstr(req, c->Host),
            .op = (gn_acl_op_t)c->Operation,
            .permission = (gn_acl_permission_t)c->PermissionType,
        };
        const char *why = NULL;
        if (gn_acl_binding_check(&b, &why) < 0) {
            ctx->resp.Results.items[i].ErrorCode = KAFKA_INVALID_REQUEST;
            ctx->resp.Results.items[i].ErrorMessage = kafka_cstr_bytes(why);
            continue;
        }
        bindings[nb++] = b;
        ctx->proposed[i] = true;
    }
    kafka_admin_t *adm = kafka_admin_new(req, finish, ctx);
    if (!adm) return GN_ENOMEM;
    if (nb > 0) {
        void *op = kafka_admin_op(adm, &ctx->error_code, &ctx->error_message);
        if (!op) return GN_ENOMEM;
        int err = gn_acl_create(req->broker, bindings, nb, kafka_admin_cb, op);
        if (err < 0)
            kafka_admin_fail(op, err);
        else
            GN_INFO("kafka", "creating ACLs | client=%s principal=\"%s\" count=%zu",
                    kafka_req_peer(req), kafka_req_principal(req), nb);
    }
    return kafka_admin_complete(adm);
}
