/* SPDX-License-Identifier: Apache-2.0 */
/* The authorizer: authorizer.enabled, super.users, allow.everyone.if.no.acl.found and the
 * bindings of the metadata image (read again after an "acl" record applies or a snapshot
 * replaces the image), and the decision of Kafka's StandardAuthorizer. Adapters ask it
 * before they act for a client. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "acl/acl_internal.h"
#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

static void clear_entries(gn_acl_t *acl)
{
    for (size_t i = 0; i < acl->nentries; i++)
        free(acl->entries[i]);
    free(acl->entries);
    acl->entries = NULL;
    acl->nentries = 0;
}

int gn__acl_load(gn_acl_t *acl, const json_t *acls)
{
    size_t n = json_array_size(acls), i;
    gn__acl_entry_t **entries = n ? calloc(n, sizeof(*entries)) : NULL;
    if (n && !entries) return GN_ENOMEM;
    size_t k = 0;
    const json_t *j;
    json_array_foreach(acls, i, j)
    {
        gn_acl_binding_t b;
        if (gn__acl_binding_from_json(j, &b) < 0) continue; /* the image holds valid ones */
        if (!(entries[k] = gn__acl_entry_new(&b))) {
            while (k > 0)
                free(entries[--k]);
            free(entries);
            return GN_ENOMEM;
        }
        k++;
    }
    clear_entries(acl);
    acl->entries = entries;
    acl->nentries = k;
    acl->generation++;
    return 0;
}

/* Every applied record: an "acl" one changes the bindings (read at the next decision). */
static void on_record(void *arg, const json_t *rec)
{
    gn_acl_t *acl = arg;
    const char *type = json_string_value(json_object_get(rec, "type"));
    if (type && strcmp(type, "acl") == 0) acl->dirty = true;
}

/* The bindings as the image has them now. */
static void refresh(gn_acl_t *acl)
{
    if (!acl->cluster) return;
    const json_t *image = gn__cluster_image(acl->cluster);
    if (!acl->dirty && image == acl->image_seen) return;
    if (gn__acl_load(acl, json_object_get(image, "acls")) < 0) {
        GN_ERROR("acl", "cannot read the ACLs of the metadata image | err=%s",
                 gn_strerror(GN_ENOMEM));
        return; /* the previous bindings stay; tried again at the next decision */
    }
    acl->image_seen = image;
    acl->dirty = false;
}

static int parse_super_users(gn_acl_t *acl, const char *s)
{
    while (s && *s) {
        const char *end = strchr(s, ';');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len) {
            if (len < 6 || strncmp(s, "User:", 5) != 0) {
                GN_ERROR("acl", "super.users: each entry must be User:<name> | entry=\"%.*s\"",
                         (int)len, s);
                return GN_EINVALID_CONFIG;
            }
            char **su = realloc(acl->super_users, (acl->nsuper + 1) * sizeof(*su));
            if (!su) return GN_ENOMEM;
            acl->super_users = su;
            if (!(su[acl->nsuper] = strndup(s, len))) return GN_ENOMEM;
            acl->nsuper++;
        }
        s = end ? end + 1 : NULL;
    }
    return 0;
}

int gn__acl_new(const gn__acl_config_t *cfg, struct gn_cluster *cluster, gn_acl_t **out)
{
    gn_acl_t *acl = calloc(1, sizeof(*acl));
    if (!acl) return GN_ENOMEM;
    acl->enabled = cfg->enabled;
    acl->allow_if_no_acl = cfg->allow_if_no_acl;
    acl->cluster = cluster;
    int rc = parse_super_users(acl, cfg->super_users);
    if (rc < 0) {
        gn__acl_free(acl);
        return rc;
    }
    if (cluster) gn__cluster_on_apply(cluster, on_record, acl);
    acl->dirty = true;
    *out = acl;
    return 0;
}

void gn__acl_free(gn_acl_t *acl)
{
    if (!acl) return;
    if (acl->cluster) gn__cluster_off_apply(acl->cluster, on_record, acl);
    clear_entries(acl);
    for (size_t i = 0; i < acl->nsuper; i++)
        free(acl->super_users[i]);
    free(acl->super_users);
    free(acl);
}

gn_acl_t *gn_broker_acl(gn_broker_t *broker)
{
    return broker ? broker->acl : NULL;
}

bool gn_acl_enabled(const gn_acl_t *acl)
{
    return acl && acl->enabled;
}

/* Does the stored binding's resource pattern cover (type, name)? */
static bool resource_matches(const gn_acl_binding_t *b, gn_acl_resource_type_t type,
                             const char *name)
{
    if (b->resource_type != type) return false;
    if (b->pattern == GN_ACL_PATTERN_PREFIXED) return strncmp(name, b->name, strlen(b->name)) == 0;
    return strcmp(b->name, name) == 0 || strcmp(b->name, GN_ACL_WILDCARD) == 0;
}

/* Does an ALLOW of granted allow op? ALL allows everything; DESCRIBE is implied by
 * READ, WRITE, DELETE and ALTER, DESCRIBE_CONFIGS by ALTER_CONFIGS (Kafka's rules). */
static bool allow_covers(gn_acl_op_t granted, gn_acl_op_t op)
{
    if (granted == op || granted == GN_ACL_OP_ALL) return true;
    if (op == GN_ACL_OP_DESCRIBE)
        return granted == GN_ACL_OP_READ || granted == GN_ACL_OP_WRITE ||
               granted == GN_ACL_OP_DELETE || granted == GN_ACL_OP_ALTER;
    if (op == GN_ACL_OP_DESCRIBE_CONFIGS) return granted == GN_ACL_OP_ALTER_CONFIGS;
    return false;
}

static bool is_super(const gn_acl_t *acl, const char *principal)
{
    for (size_t i = 0; i < acl->nsuper; i++)
        if (strcmp(acl->super_users[i], principal) == 0) return true;
    return false;
}

static bool applies_to(const gn_acl_binding_t *b, const char *principal, const char *host)
{
    return (strcmp(b->principal, principal) == 0 || strcmp(b->principal, "User:*") == 0) &&
           (strcmp(b->host, GN_ACL_WILDCARD) == 0 || strcmp(b->host, host) == 0);
}

static bool decide(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                   gn_acl_resource_type_t type, const char *name)
{
    if (!acl || !acl->enabled) return true;
    if (!principal) principal = GN_ACL_ANONYMOUS;
    if (!host) host = "";
    if (!name) name = "";
    for (size_t i = 0; i < acl->nsuper; i++)
        if (strcmp(acl->super_users[i], principal) == 0) return true;
    refresh(acl);
    bool found = false, allowed = false;
    for (size_t i = 0; i < acl->nentries; i++) {
        const gn_acl_binding_t *b = &acl->entries[i]->b;
        if (!resource_matches(b, type, name)) continue;
        found = true; /* the resource has ACLs, whoever they are for */
        if (strcmp(b->principal, principal) != 0 && strcmp(b->principal, "User:*") != 0) continue;
        if (strcmp(b->host, GN_ACL_WILDCARD) != 0 && strcmp(b->host, host) != 0) continue;
        if (b->permission == GN_ACL_PERMISSION_DENY) {
            if (b->op == op || b->op == GN_ACL_OP_ALL) return false; /* DENY wins */
        } else if (allow_covers(b->op, op)) {
            allowed = true;
        }
    }
    return allowed || (!found && acl->allow_if_no_acl);
}

bool gn_acl_allowed(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                    gn_acl_resource_type_t type, const char *name)
{
    return decide(acl, principal, host, op, type, name);
}

bool gn_acl_allowed_any(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                        gn_acl_resource_type_t type)
{
    if (!acl || !acl->enabled) return true;
    if (!principal) principal = GN_ACL_ANONYMOUS;
    if (!host) host = "";
    if (is_super(acl, principal)) return true;
    refresh(acl);
    bool found = false, allowed = false;
    for (size_t i = 0; i < acl->nentries; i++) {
        const gn_acl_binding_t *b = &acl->entries[i]->b;
        if (b->resource_type != type) continue;
        found = true;
        if (!applies_to(b, principal, host)) continue;
        if (b->permission == GN_ACL_PERMISSION_DENY) {
            if ((b->op == op || b->op == GN_ACL_OP_ALL) && b->pattern == GN_ACL_PATTERN_LITERAL &&
                strcmp(b->name, GN_ACL_WILDCARD) == 0)
                return false;
        } else if (allow_covers(b->op, op)) {
            allowed = true;
        }
    }
    return allowed || (!found && acl->allow_if_no_acl);
}

bool gn_acl_allowed_all(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                        gn_acl_resource_type_t type)
{
    if (!acl || !acl->enabled) return true;
    if (!principal) principal = GN_ACL_ANONYMOUS;
    if (!host) host = "";
    if (is_super(acl, principal)) return true;
    refresh(acl);
    bool found = false, everything = false;
    for (size_t i = 0; i < acl->nentries; i++) {
        const gn_acl_binding_t *b = &acl->entries[i]->b;
        if (b->resource_type != type) continue;
        found = true;
        if (!applies_to(b, principal, host)) continue;
        if (b->permission == GN_ACL_PERMISSION_DENY) {
            if (b->op == op || b->op == GN_ACL_OP_ALL) return false;
        } else if (allow_covers(b->op, op) && b->pattern == GN_ACL_PATTERN_LITERAL &&
                   strcmp(b->name, GN_ACL_WILDCARD) == 0) {
            everything = true;
        }
    }
    return everything || (!found && acl->allow_if_no_acl);
}

/* One line per refusal, at most GN__ACL_LOG_PER_SEC a second; the next line written
 * says how many were not. */
void gn_acl_log_refusal(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                        gn_acl_resource_type_t type, const char *name)
{
    if (!acl) return;
    int64_t now = gn_now_ms();
    if (now - acl->log_window_ms >= 1000) {
        acl->log_window_ms = now;
        acl->logged = 0;
    }
    if (acl->logged >= GN__ACL_LOG_PER_SEC) {
        acl->suppressed++;
        return;
    }
    acl->logged++;
    GN_WARN("acl",
            "authorization denied | principal=\"%s\" host=%s operation=%s resource_type=%s "
            "resource=\"%s\" not_logged_before=%llu",
            principal ? principal : GN_ACL_ANONYMOUS, host && host[0] ? host : "-",
            gn_acl_op_name(op), gn_acl_resource_type_name(type), name ? name : "",
            (unsigned long long)acl->suppressed);
    acl->suppressed = 0;
}

bool gn_acl_authorize(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                      gn_acl_resource_type_t type, const char *name)
{
    if (decide(acl, principal, host, op, type, name)) return true;
    gn_acl_log_refusal(acl, principal, host, op, type, name);
    return false;
}

uint64_t gn_acl_generation(gn_acl_t *acl)
{
    if (!acl) return 0;
    refresh(acl);
    return acl->generation;
}

void gn_acl_list(gn_acl_t *acl, const gn_acl_binding_t *filter, gn_acl_each_cb fn, void *arg)
{
    if (!acl) return;
    refresh(acl);
    for (size_t i = 0; i < acl->nentries; i++)
        if (!filter || gn_acl_filter_matches(filter, &acl->entries[i]->b))
            fn(arg, &acl->entries[i]->b);
}
