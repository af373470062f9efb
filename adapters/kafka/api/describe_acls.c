/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeAcls (key 29), v0-3: the bindings of this broker's metadata image a filter
 * selects, grouped by resource pattern. Needs DESCRIBE on the cluster; SECURITY_DISABLED
 * without authorizer.enabled. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

typedef kafka_DescribeAclsResponse_DescribeAclsResource_t resource_t;
typedef kafka_DescribeAclsResponse_AclDescription_t description_t;

typedef struct collect {
    kafka_req_t *req;
    kafka_DescribeAclsResponse_t *out;
    size_t cap;
    bool nomem;
} collect_t;

static gn_bytes_t keep(kafka_req_t *req, const char *s)
{
    return kafka_req_keep(req, kafka_cstr_bytes(s));
}

static bool append(kafka_arena_t *a, void **items, int32_t count, size_t *cap, size_t size)
{
    if ((size_t)count < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *n = kafka_arena_calloc(a, ncap, size);
    if (!n) return false;
    if (count) memcpy(n, *items, (size_t)count * size);
    *items = n;
    *cap = ncap;
    return true;
}

/* One binding: into its resource's entry (made when new). */
static void on_binding(void *arg, const gn_acl_binding_t *b)
{
    collect_t *c = arg;
    kafka_DescribeAclsResponse_DescribeAclsResource_array_t *rs = &c->out->Resources;
    resource_t *r = NULL;
    for (int32_t i = 0; i < rs->count && !r; i++) {
        resource_t *x = &rs->items[i];
        if (x->ResourceType == (int8_t)b->resource_type && x->PatternType == (int8_t)b->pattern &&
            x->ResourceName.len == strlen(b->name) &&
            memcmp(x->ResourceName.ptr, b->name, x->ResourceName.len) == 0)
            r = x;
    }
    if (!r) {
        if (!append(&c->req->arena, (void **)&rs->items, rs->count, &c->cap, sizeof *r)) {
            c->nomem = true;
            return;
        }
        r = &rs->items[rs->count++];
        r->ResourceType = (int8_t)b->resource_type;
        r->ResourceName = keep(c->req, b->name);
        r->PatternType = (int8_t)b->pattern;
    }
    /* the array's capacity is not kept: append() only grows at multiples of 8 */
    size_t cap = r->Acls.count ? (((size_t)r->Acls.count + 7) / 8) * 8 : 0;
    if (!append(&c->req->arena, (void **)&r->Acls.items, r->Acls.count, &cap,
                sizeof(description_t))) {
        c->nomem = true;
        return;
    }
    description_t *d = &r->Acls.items[r->Acls.count++];
    d->Principal = keep(c->req, b->principal);
    d->Host = keep(c->req, b->host);
    d->Operation = (int8_t)b->op;
    d->PermissionType = (int8_t)b->permission;
}

/* A filter from the request's values: GN_EINVALID_REQUEST for values Kafka has not. */
int kafka_acl_filter(kafka_req_t *req, int8_t type, gn_bytes_t name, int8_t pattern,
                     gn_bytes_t principal, gn_bytes_t host, int8_t op, int8_t permission,
                     gn_acl_binding_t *f)
{
    if (type < GN_ACL_RESOURCE_ANY || type > 7 || pattern < GN_ACL_PATTERN_ANY ||
        pattern > GN_ACL_PATTERN_PREFIXED || op < GN_ACL_OP_ANY || op > 14 ||
        permission < GN_ACL_PERMISSION_ANY || permission > GN_ACL_PERMISSION_ALLOW)
        return GN_EINVALID_REQUEST;
    *f = (gn_acl_binding_t){
        .resource_type = (gn_acl_resource_type_t)type,
        .pattern = (gn_acl_pattern_t)pattern,
        .name = kafka_req_cstr(req, name),
        .principal = kafka_req_cstr(req, principal),
        .host = kafka_req_cstr(req, host),
        .op = (gn_acl_op_t)op,
        .permission = (gn_acl_permission_t)permission,
    };
    if ((name.ptr && !f->name) || (principal.ptr && !f->principal) || (host.ptr && !f->host))
        return GN_EINVALID_REQUEST; /* an embedded NUL (or no memory) */
    return 0;
}

int kafka_handle_DescribeAcls(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DescribeAclsRequest_t in;
    int rc = kafka_DescribeAclsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_DescribeAclsResponse_t out;
    kafka_DescribeAclsResponse_init(&out);
    out.ErrorMessage = GN_BYTES_NULL;
    gn_acl_binding_t filter;
    gn_acl_t *acl = gn_broker_acl(req->broker);
    if (!gn_acl_enabled(acl)) {
        out.ErrorCode = KAFKA_SECURITY_DISABLED;
        out.ErrorMessage = kafka_cstr_bytes("No Authorizer is configured.");
    } else if (!kafka_authorize_cluster(req, GN_ACL_OP_DESCRIBE)) {
        out.ErrorCode = KAFKA_CLUSTER_AUTHORIZATION_FAILED;
    } else if (kafka_acl_filter(req, in.ResourceTypeFilter, in.ResourceNameFilter,
                                in.PatternTypeFilter, in.PrincipalFilter, in.HostFilter,
                                in.Operation, in.PermissionType, &filter) < 0) {
        out.ErrorCode = KAFKA_INVALID_REQUEST;
        out.ErrorMessage = kafka_cstr_bytes("invalid ACL filter");
    } else {
        collect_t c = {.req = req, .out = &out};
        gn_acl_list(acl, &filter, on_binding, &c);
        if (c.nomem) return GN_ENOMEM;
    }
    kafka_resp_begin(req);
    kafka_DescribeAclsResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
