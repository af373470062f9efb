/* SPDX-License-Identifier: Apache-2.0 */
/* ACL bindings: the names of their enum values, the check a binding passes before it is
 * stored, filters (Kafka's AclBindingFilter), principals, and the JSON form the metadata
 * log and image keep. Pure functions; any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl/acl_internal.h"
#include "ganglion/error.h"

static const char *const resource_names[] = {
    [GN_ACL_RESOURCE_ANY] = "ANY",
    [GN_ACL_RESOURCE_TOPIC] = "TOPIC",
    [GN_ACL_RESOURCE_GROUP] = "GROUP",
    [GN_ACL_RESOURCE_CLUSTER] = "CLUSTER",
    [GN_ACL_RESOURCE_TRANSACTIONAL_ID] = "TRANSACTIONAL_ID",
};
static const char *const pattern_names[] = {
    [GN_ACL_PATTERN_ANY] = "ANY",
    [GN_ACL_PATTERN_MATCH] = "MATCH",
    [GN_ACL_PATTERN_LITERAL] = "LITERAL",
    [GN_ACL_PATTERN_PREFIXED] = "PREFIXED",
};
static const char *const op_names[] = {
    [GN_ACL_OP_ANY] = "ANY",
    [GN_ACL_OP_ALL] = "ALL",
    [GN_ACL_OP_READ] = "READ",
    [GN_ACL_OP_WRITE] = "WRITE",
    [GN_ACL_OP_CREATE] = "CREATE",
    [GN_ACL_OP_DELETE] = "DELETE",
    [GN_ACL_OP_ALTER] = "ALTER",
    [GN_ACL_OP_DESCRIBE] = "DESCRIBE",
    [GN_ACL_OP_CLUSTER_ACTION] = "CLUSTER_ACTION",
    [GN_ACL_OP_DESCRIBE_CONFIGS] = "DESCRIBE_CONFIGS",
    [GN_ACL_OP_ALTER_CONFIGS] = "ALTER_CONFIGS",
    [GN_ACL_OP_IDEMPOTENT_WRITE] = "IDEMPOTENT_WRITE",
};
static const char *const permission_names[] = {
    [GN_ACL_PERMISSION_ANY] = "ANY",
    [GN_ACL_PERMISSION_DENY] = "DENY",
    [GN_ACL_PERMISSION_ALLOW] = "ALLOW",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n && names[v] ? names[v] : "?";
}

/* The value named s (exactly), or -1. */
static int value_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0) return (int)i;
    return -1;
}

const char *gn_acl_resource_type_name(gn_acl_resource_type_t type)
{
    return name_of(resource_names, COUNT(resource_names), (int)type);
}
const char *gn_acl_pattern_name(gn_acl_pattern_t pattern)
{
    return name_of(pattern_names, COUNT(pattern_names), (int)pattern);
}
const char *gn_acl_op_name(gn_acl_op_t op)
{
    return name_of(op_names, COUNT(op_names), (int)op);
}
const char *gn_acl_permission_name(gn_acl_permission_t permission)
{
    return name_of(permission_names, COUNT(permission_names), (int)permission);
}

static int refuse(const char **why, const char *sentence)
{
    if (why) *why = sentence;
    return GN_EINVALID_REQUEST;
}

int gn_acl_binding_check(const gn_acl_binding_t *b, const char **why)
{
    if (b->resource_type < GN_ACL_RESOURCE_TOPIC ||
        b->resource_type > GN_ACL_RESOURCE_TRANSACTIONAL_ID)
        return refuse(why, "resource type must be TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID");
    if (b->pattern != GN_ACL_PATTERN_LITERAL && b->pattern != GN_ACL_PATTERN_PREFIXED)
        return refuse(why, "pattern type must be LITERAL or PREFIXED");
    if (b->op < GN_ACL_OP_ALL || b->op > GN_ACL_OP_IDEMPOTENT_WRITE)
        return refuse(why, "invalid operation");
    if (b->permission != GN_ACL_PERMISSION_DENY && b->permission != GN_ACL_PERMISSION_ALLOW)
        return refuse(why, "permission type must be ALLOW or DENY");
    if (!b->name || !b->name[0]) return refuse(why, "resource name must not be empty");
    if (b->resource_type == GN_ACL_RESOURCE_CLUSTER &&
        (strcmp(b->name, GN_ACL_CLUSTER_NAME) != 0 || b->pattern != GN_ACL_PATTERN_LITERAL))
        return refuse(why, "the only valid name for the CLUSTER resource is kafka-cluster");
    if (!b->principal || strncmp(b->principal, "User:", 5) != 0 || !b->principal[5])
        return refuse(why, "principal must be User:<name> or User:*");
    if (strlen(b->principal) >= GN_ACL_PRINCIPAL_MAX) return refuse(why, "principal too long");
    if (!b->host || !b->host[0]) return refuse(why, "host must be * or an IP address");
    return 0;
}

static bool str_matches(const char *filter, const char *s)
{
    return !filter || strcmp(filter, s) == 0;
}

/* Kafka's ResourcePatternFilter.matches. */
static bool pattern_matches(const gn_acl_binding_t *f, const gn_acl_binding_t *b)
{
    if (f->resource_type != GN_ACL_RESOURCE_ANY && f->resource_type != b->resource_type)
        return false;
    switch (f->pattern) {
    case GN_ACL_PATTERN_ANY:
        return str_matches(f->name, b->name);
    case GN_ACL_PATTERN_MATCH: /* the bindings that would apply to a resource so named */
        if (!f->name) return true;
        if (b->pattern == GN_ACL_PATTERN_LITERAL)
            return strcmp(b->name, f->name) == 0 || strcmp(b->name, GN_ACL_WILDCARD) == 0;
        return strncmp(f->name, b->name, strlen(b->name)) == 0;
    default:
        return f->pattern == b->pattern && str_matches(f->name, b->name);
    }
}

bool gn_acl_filter_matches(const gn_acl_binding_t *f, const gn_acl_binding_t *b)
{
    return pattern_matches(f, b) && str_matches(f->principal, b->principal) &&
           str_matches(f->host, b->host) && (f->op == GN_ACL_OP_ANY || f->op == b->op) &&
           (f->permission == GN_ACL_PERMISSION_ANY || f->permission == b->permission);
}

void gn_acl_principal(char *buf, size_t cap, const char *user)
{
    if (!user || !user[0])
        snprintf(buf, cap, "%s", GN_ACL_ANONYMOUS);
    else
        snprintf(buf, cap, "User:%s", user);
}

json_t *gn__acl_binding_json(const gn_acl_binding_t *b)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "resource_type",
                     gn_acl_resource_type_name(b->resource_type), "pattern",
                     gn_acl_pattern_name(b->pattern), "name", b->name, "principal", b->principal,
                     "host", b->host, "operation", gn_acl_op_name(b->op), "permission",
                     gn_acl_permission_name(b->permission));
}

static const char *str(const json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

int gn__acl_binding_from_json(const json_t *j, gn_acl_binding_t *b)
{
    int type = value_of(resource_names, COUNT(resource_names), str(j, "resource_type"));
    int pattern = value_of(pattern_names, COUNT(pattern_names), str(j, "pattern"));
    int op = value_of(op_names, COUNT(op_names), str(j, "operation"));
    int permission = value_of(permission_names, COUNT(permission_names), str(j, "permission"));
    if (type < 0 || pattern < 0 || op < 0 || permission < 0) return GN_EINVAL;
    *b = (gn_acl_binding_t){
        .resource_type = (gn_acl_resource_type_t)type,
        .pattern = (gn_acl_pattern_t)pattern,
        .name = str(j, "name"),
        .principal = str(j, "principal"),
        .host = str(j, "host"),
        .op = (gn_acl_op_t)op,
        .permission = (gn_acl_permission_t)permission,
    };
    return gn_acl_binding_check(b, NULL) < 0 ? GN_EINVAL : 0;
}

bool gn__acl_binding_equal(const gn_acl_binding_t *a, const gn_acl_binding_t *b)
{
    return a->resource_type == b->resource_type && a->pattern == b->pattern && a->op == b->op &&
           a->permission == b->permission && strcmp(a->name, b->name) == 0 &&
           strcmp(a->principal, b->principal) == 0 && strcmp(a->host, b->host) == 0;
}

gn__acl_entry_t *gn__acl_entry_new(const gn_acl_binding_t *b)
{
    size_t ln = strlen(b->name) + 1, lp = strlen(b->principal) + 1, lh = strlen(b->host) + 1;
    gn__acl_entry_t *e = malloc(sizeof(*e) + ln + lp + lh);
    if (!e) return NULL;
    char *s = (char *)(e + 1);
    e->b = *b;
    e->b.name = memcpy(s, b->name, ln);
    e->b.principal = memcpy(s + ln, b->principal, lp);
    e->b.host = memcpy(s + ln + lp, b->host, lh);
    return e;
}
