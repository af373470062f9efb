/* SPDX-License-Identifier: Apache-2.0 */
/* Authorization (core/acl), Kafka's model as its StandardAuthorizer has it: ACL bindings
 * (resource pattern + principal, host, operation, permission) kept in the cluster's
 * metadata image, and the authorizer every adapter asks before it acts for a client.
 * Off unless authorizer.enabled=true (then everything is allowed, as before). The enum
 * values are Kafka's wire values (ResourceType, PatternType, AclOperation,
 * AclPermissionType), so the Kafka adapter passes them through. Loop thread only. */
#ifndef GANGLION_ACL_H
#define GANGLION_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"

typedef enum gn_acl_resource_type {
    GN_ACL_RESOURCE_ANY = 1, /* filters only */
    GN_ACL_RESOURCE_TOPIC = 2,
    GN_ACL_RESOURCE_GROUP = 3,
    GN_ACL_RESOURCE_CLUSTER = 4, /* one resource, named GN_ACL_CLUSTER_NAME */
    GN_ACL_RESOURCE_TRANSACTIONAL_ID = 5,
} gn_acl_resource_type_t;

typedef enum gn_acl_pattern {
    GN_ACL_PATTERN_ANY = 1,      /* filters only: any pattern type */
    GN_ACL_PATTERN_MATCH = 2,    /* filters only: the bindings that would apply to the name */
    GN_ACL_PATTERN_LITERAL = 3,  /* the name, or every name when it is "*" */
    GN_ACL_PATTERN_PREFIXED = 4, /* every name starting with it */
} gn_acl_pattern_t;

typedef enum gn_acl_op {
    GN_ACL_OP_ANY = 1, /* filters only */
    GN_ACL_OP_ALL = 2, /* in a binding: every operation */
    GN_ACL_OP_READ = 3,
    GN_ACL_OP_WRITE = 4,
    GN_ACL_OP_CREATE = 5,
    GN_ACL_OP_DELETE = 6,
    GN_ACL_OP_ALTER = 7,
    GN_ACL_OP_DESCRIBE = 8, /* implied by READ, WRITE, DELETE, ALTER */
    GN_ACL_OP_CLUSTER_ACTION = 9,
    GN_ACL_OP_DESCRIBE_CONFIGS = 10, /* implied by ALTER_CONFIGS */
    GN_ACL_OP_ALTER_CONFIGS = 11,
    GN_ACL_OP_IDEMPOTENT_WRITE = 12,
} gn_acl_op_t;

typedef enum gn_acl_permission {
    GN_ACL_PERMISSION_ANY = 1, /* filters only */
    GN_ACL_PERMISSION_DENY = 2,
    GN_ACL_PERMISSION_ALLOW = 3,
} gn_acl_permission_t;

#define GN_ACL_CLUSTER_NAME  "kafka-cluster"  /* the CLUSTER resource's only name */
#define GN_ACL_WILDCARD      "*"              /* a LITERAL name, principal "User:*", host */
#define GN_ACL_ANONYMOUS     "User:ANONYMOUS" /* a client that did not authenticate */
#define GN_ACL_PRINCIPAL_MAX 512              /* bytes of "User:<name>" with its NUL */

/* One ACL binding, or a filter (ANY values, NULL strings: any). Strings are borrowed. */
typedef struct gn_acl_binding {
    gn_acl_resource_type_t resource_type;
    gn_acl_pattern_t pattern;
    const char *name;      /* resource name; "*" (LITERAL): every resource of the type */
    const char *principal; /* "User:<name>" or "User:*" */
    const char *host;      /* "*" or an IP address as the client's connection shows it */
    gn_acl_op_t op;
    gn_acl_permission_t permission;
} gn_acl_binding_t;

/* Names as Kafka spells them ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW"); "?" for
 * a value out of range. */
const char *gn_acl_resource_type_name(gn_acl_resource_type_t type);
const char *gn_acl_pattern_name(gn_acl_pattern_t pattern);
const char *gn_acl_op_name(gn_acl_op_t op);
const char *gn_acl_permission_name(gn_acl_permission_t permission);

/* Whether b may be stored: concrete values only (no ANY/MATCH), a principal "User:...",
 * a host, a name (the CLUSTER's is "kafka-cluster", LITERAL). 0, or GN_EINVALID_REQUEST
 * with a sentence in why (may be NULL). */
int gn_acl_binding_check(const gn_acl_binding_t *b, const char **why);
/* Whether filter f selects the stored binding b (Kafka's AclBindingFilter.matches). */
bool gn_acl_filter_matches(const gn_acl_binding_t *f, const gn_acl_binding_t *b);

/* "User:<user>", or GN_ACL_ANONYMOUS when user is NULL or "". Truncated to cap. */
void gn_acl_principal(char *buf, size_t cap, const char *user);

/* ---- the authorizer ------------------------------------------------------------- */

typedef struct gn_acl gn_acl_t;

/* The broker's authorizer (made at gn_broker_open, lives as long as the broker). */
gn_acl_t *gn_broker_acl(gn_broker_t *broker);
/* authorizer.enabled: false means every gn_acl_authorize is true. */
bool gn_acl_enabled(const gn_acl_t *acl);

/* May principal, connected from host (an IP address, no port), perform op on the
 * resource (type, name; GN_ACL_CLUSTER_NAME for the cluster)? Kafka's rules: a
 * super.users principal may do anything; a DENY binding matching op (or ALL) wins over
 * any ALLOW; ALLOW of op or ALL allows, and so do READ/WRITE/DELETE/ALTER for DESCRIBE and
 * ALTER_CONFIGS for DESCRIBE_CONFIGS; a resource no binding matches at all (whoever
 * they are for) is allowed when allow.everyone.if.no.acl.found (default true), else
 * denied; otherwise denied. A refusal writes one log line (at most 20 a second; the
 * count of those not written follows). acl NULL or disabled: true. */
bool gn_acl_authorize(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                      gn_acl_resource_type_t type, const char *name);
/* The same decision without the log line: for filtering what a client is shown
 * (Metadata's topic list), as Kafka does. */
bool gn_acl_allowed(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                    gn_acl_resource_type_t type, const char *name);

/* May principal perform op on some resource of the type (Kafka's
 * authorizeByResourceType: InitProducerId lets a producer with WRITE on any topic be
 * idempotent)? True for super.users, when an ALLOW covering op exists for the principal
 * and host and no DENY of op (or ALL) covers every name ("*"), or when the type has no
 * bindings at all and allow.everyone.if.no.acl.found. Not logged. acl NULL or disabled:
 * true. */
bool gn_acl_allowed_any(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                        gn_acl_resource_type_t type);

/* May principal perform op on every resource of the type, present and future (an MQTT
 * subscription whose first level is a wildcard)? Conservative: true for super.users;
 * false when any DENY of op (or ALL) on the type applies to the principal and host;
 * true with an ALLOW of op (or ALL, or an implying op) on LITERAL "*", or when the type
 * has no bindings at all and allow.everyone.if.no.acl.found; else false. Not logged.
 * acl NULL or disabled: true. */
bool gn_acl_allowed_all(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                        gn_acl_resource_type_t type);

/* The refusal line of gn_acl_authorize (rate-limited alike), for a refusal an adapter
 * decided with gn_acl_allowed_any/_all. */
void gn_acl_log_refusal(gn_acl_t *acl, const char *principal, const char *host, gn_acl_op_t op,
                        gn_acl_resource_type_t type, const char *name);

/* A number that changes whenever the bindings this broker holds change (a binding
 * created or deleted anywhere in the cluster, once applied here): what an adapter that
 * granted something earlier (an MQTT subscription) compares to check it again. */
uint64_t gn_acl_generation(gn_acl_t *acl);

/* ---- the bindings: listed from, and changed through, the metadata log ------------ */

/* Calls fn for every binding of this broker's image that filter selects (NULL: every
 * one), in the order they were created; the binding is valid during the call. */
typedef void (*gn_acl_each_cb)(void *arg, const gn_acl_binding_t *b);
void gn_acl_list(gn_acl_t *acl, const gn_acl_binding_t *filter, gn_acl_each_cb fn, void *arg);

/* status 0 once the change is committed and applied to this broker's image. */
typedef void (*gn_acl_admin_cb)(void *arg, int status);
/* Proposes the bindings (each passed gn_acl_binding_check; copied) to the controller
 * (forwarded from any broker); bindings already stored are kept once. 0 and cb later,
 * or an error (cb never runs): GN_EINVALID_REQUEST, GN_ENOTLEADER, GN_ENOMEM. */
int gn_acl_create(gn_broker_t *broker, const gn_acl_binding_t *bindings, size_t n,
                  gn_acl_admin_cb cb, void *arg);
/* Proposes the removal of exactly these bindings (those gone meanwhile are skipped).
 * As gn_acl_create. */
int gn_acl_delete(gn_broker_t *broker, const gn_acl_binding_t *bindings, size_t n,
                  gn_acl_admin_cb cb, void *arg);

#endif
