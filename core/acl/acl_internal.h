/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of core/acl shared by its files and by core/broker (which opens the broker's
 * authorizer) and core/cluster (whose image applies "acl" records): the authorizer's
 * state, the JSON form of a binding, and the record application. Loop thread only. */
#ifndef GN_CORE_ACL_INTERNAL_H
#define GN_CORE_ACL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ganglion/acl.h"

struct gn_cluster;

/* A stored binding with its own strings (one allocation: the struct, then the strings). */
typedef struct gn__acl_entry {
    gn_acl_binding_t b;
} gn__acl_entry_t;

typedef struct gn__acl_config {
    bool enabled;            /* authorizer.enabled */
    const char *super_users; /* super.users "User:a;User:b" (borrowed during open) */
    bool allow_if_no_acl;    /* allow.everyone.if.no.acl.found */
} gn__acl_config_t;

struct gn_acl {
    bool enabled, allow_if_no_acl;
    char **super_users;
    size_t nsuper;
    struct gn_cluster *cluster; /* the image the bindings come from; NULL: set by hand */
    const json_t *image_seen;   /* the image they were read from (a restore replaces it) */
    bool dirty;                 /* an "acl" record applied since */
    gn__acl_entry_t **entries;  /* in the image's order */
    size_t nentries;
    uint64_t generation; /* + 1 at each load of the bindings */
    /* refusal log lines: at most GN__ACL_LOG_PER_SEC a second */
    int64_t log_window_ms;
    int logged;
    uint64_t suppressed;
};

#define GN__ACL_LOG_PER_SEC 20

/* ---- authorizer.c ---- */
/* An authorizer with cfg and no bindings; cluster (may be NULL) is read for them and
 * watched for "acl" records. GN_EINVALID_CONFIG (a bad super.users, logged), GN_ENOMEM. */
int gn__acl_new(const gn__acl_config_t *cfg, struct gn_cluster *cluster, gn_acl_t **out);
void gn__acl_free(gn_acl_t *acl);
/* Replaces the bindings with those of an image's "acls" array (NULL: none). */
int gn__acl_load(gn_acl_t *acl, const json_t *acls);

/* ---- binding.c: the JSON form of a binding ---- */
/* {"resource_type": "TOPIC", "pattern": "LITERAL", "name", "principal", "host",
 * "operation": "READ", "permission": "ALLOW"}; NULL when out of memory. */
json_t *gn__acl_binding_json(const gn_acl_binding_t *b);
/* The binding of j (strings borrowed from j). 0, or GN_EINVAL when j is not a valid one. */
int gn__acl_binding_from_json(const json_t *j, gn_acl_binding_t *b);
bool gn__acl_binding_equal(const gn_acl_binding_t *a, const gn_acl_binding_t *b);
/* A stored copy of b; NULL when out of memory. free() it. */
gn__acl_entry_t *gn__acl_entry_new(const gn_acl_binding_t *b);

/* ---- records.c: "acl" records of the metadata log (core/cluster/image.c applies them) ---- */
/* {"type": "acl", "op": "create"|"delete", "acls": [bindings]}: create appends those the
 * image's "acls" does not hold, delete removes those it holds. 0, GN_EINVAL (malformed:
 * nothing changes), GN_ENOMEM. */
int gn__acl_image_apply(json_t *image, const json_t *record);

#endif
