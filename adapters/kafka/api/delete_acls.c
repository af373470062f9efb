/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteAcls (key 31), v0-3: the bindings each filter selects in this broker's metadata
 * image are answered as its matches and removed through the controller as one "acl"
 * record (core/acl); the answer waits until it is applied here. Needs ALTER on the
 * cluster; SECURITY_DISABLED without authorizer.enabled. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/logger.h"

typedef kafka_DeleteAclsResponse_DeleteAclsFilterResult_t result_t;
typedef kafka_DeleteAclsResponse_DeleteAclsMatchingAcl_t match_t;

typedef struct delete_ctx {
    kafka_DeleteAclsResponse_t resp;
    kafka_req_t *req;
    result_t *current; /* the filter whose matches are being collected */
    size_t cap;
    gn_acl_binding_t *all; /* every match, for the record */
    size_t nall, allcap;
    bool nomem;
    int16_t error_code; /* the record's outcome */
    gn_bytes_t error_message;
} delete_ctx_t;

static const char *keep(kafka_req_t *req, const char *s)
{
    return kafka_arena_strdup(&req->arena, kafka_cstr_bytes(s));
}

static void *grow(kafka_req_t *req, void *items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap) return items;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *n = kafka_arena_calloc(&req->arena, ncap, size);
    if (!n) return NULL;
    if (count) memcpy(n, items, count * size);
    *cap = ncap;
    return n;
}

static void on_match(void *arg, const gn_acl_binding_t *b)
{
    delete_ctx_t *ctx = arg;
    result_t *r = ctx->current;
    match_t *items = grow(ctx->req, r->MatchingAcls.items, (size_t)r->MatchingAcls.count, &ctx->cap,
                          sizeof(match_t));
    gn_acl_binding_t *all =
        grow(ctx->req, ctx->all, ctx->nall, &ctx->allcap, sizeof(gn_acl_binding_t));
    gn_acl_binding_t copy = *b;
    copy.name = keep(ctx->req, b->name);
    copy.principal = keep(ctx->req, b->principal);
    copy.host = keep(ctx->req, b->host);
    if (!items || !all || !copy.name || !copy.principal || !copy.host) {
        ctx->nomem = true;
        return;
    }
    r->MatchingAcls.items = items;
    ctx->all = all;
    ctx->all[ctx->nall++] = copy;
    match_t *m = &items[r->MatchingAcls.count++];
    m->ErrorMessage = GN_BYTES_NULL;
    m->ResourceType = (int8_t)copy.resource_type;
    m->ResourceName = kafka_cstr_bytes(copy.name);
    m->PatternType = (int8_t)copy.pattern;
    m->Principal = kafka_cstr_bytes(copy.principal);
    m->Host = kafka_cstr_bytes(copy.host);
    m->Operation = (int8_t)copy.op;
    m->PermissionType = (int8_t)copy.permission;
}

static void encode(kafka_req_t *req, delete_ctx_t *ctx)
{
    kafka_resp_begin(req);
    kafka_DeleteAclsResponse_encode(&req->w, req->version, &ctx->resp);
}

/* The record failed: every filter that matched says so, its matches stay. */
static void finish(kafka_req_t *req, void *arg)
{
    delete_ctx_t *ctx = arg;
    for (int32_t i = 0; ctx->error_code != KAFKA_NONE && i < ctx->resp.FilterResults.count; i++) {
        result_t *r = &ctx->resp.FilterResults.items[i];
        if (r->ErrorCode != KAFKA_NONE || r->MatchingAcls.count == 0) continue;
        r->ErrorCode = ctx->error_code;
        r->ErrorMessage = ctx->error_message;
        r->MatchingAcls.count = 0;
    }
    encode(req, ctx);
}

static int answer_all(kafka_req_t *req, delete_ctx_t *ctx, int16_t code, const char *message)
{
    for (int32_t i = 0; i < ctx->resp.FilterResults.count; i++) {
        ctx->resp.FilterResults.items[i].ErrorCode = code;
        ctx->resp.FilterResults.items[i].ErrorMessage = kafka_cstr_bytes(message);
    }
    encode(req, ctx);
    return KAFKA_DONE;
}

int kafka_handle_DeleteAcls(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DeleteAclsRequest_t in;
    int rc = kafka_DeleteAclsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    int32_t n = in.Filters.count;
    delete_ctx_t *ctx = kafka_arena_calloc(&req->arena, 1, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    kafka_DeleteAclsResponse_init(&ctx->resp);
    ctx->resp.FilterResults.items =
        kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(result_t));
    if (!ctx->resp.FilterResults.items) return GN_ENOMEM;
    ctx->resp.FilterResults.count = n;
    for (int32_t i = 0; i < n; i++)
        ctx->resp.FilterResults.items[i].ErrorMessage = GN_BYTES_NULL;
    gn_acl_t *acl = gn_broker_acl(req->broker);
    if (!gn_acl_enabled(acl))
        return answer_all(req, ctx, KAFKA_SECURITY_DISABLED, "No Authorizer is configured.");
    if (!kafka_authorize_cluster(req, GN_ACL_OP_ALTER))
        return answer_all(req, ctx, KAFKA_CLUSTER_AUTHORIZATION_FAILED, NULL);
    for (int32_t i = 0; i < n; i++) {
        kafka_DeleteAclsRequest_DeleteAclsFilter_t *f = &in.Filters.items[i];
        result_t *r = &ctx->resp.FilterResults.items[i];
        gn_acl_binding_t filter;
        if (kafka_acl_filter(req, f->ResourceTypeFilter, f->ResourceNameFilter,
                             f->PatternTypeFilter, f->PrincipalFilter, f->HostFilter, f->Operation,
                             f->PermissionType, &filter) < 0) {
            r->ErrorCode = KAFKA_INVALID_REQUEST;
            r->ErrorMessage = kafka_cstr_bytes("invalid ACL filter");
            continue;
        }
        ctx->current = r;
        ctx->cap = 0;
        gn_acl_list(acl, &filter, on_match, ctx);
        if (ctx->nomem) return GN_ENOMEM;
    }
    kafka_admin_t *adm = kafka_admin_new(req, finish, ctx);
    if (!adm) return GN_ENOMEM;
    if (ctx->nall > 0) {
        void *op = kafka_admin_op(adm, &ctx->error_code, &ctx->error_message);
        if (!op) return GN_ENOMEM;
        int err = gn_acl_delete(req->broker, ctx->all, ctx->nall, kafka_admin_cb, op);
        if (err < 0)
            kafka_admin_fail(op, err);
        else
            GN_INFO("kafka", "deleting ACLs | client=%s principal=\"%s\" count=%zu",
                    kafka_req_peer(req), kafka_req_principal(req), ctx->nall);
    }
    return kafka_admin_complete(adm);
}
