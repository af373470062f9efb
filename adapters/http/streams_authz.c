/* SPDX-License-Identifier: Apache-2.0 */
/* A stream processor as a principal (docs/streams.md, docs/security.md): with
 * authorizer.enabled it acts as User:streams-<name>, its own identity as a Kafka Streams
 * application runs with its own credentials, with no host (only bindings for host "*"
 * apply). It needs READ on the source topic and on group streams-<name>, WRITE on the
 * sink and dead-letter topics, READ and WRITE on its changelog, and CREATE (cluster or
 * topic) for a topic it has to create. The checks run again whenever the bindings
 * change (gn_acl_generation); a refusal fails the processor with the reason in its
 * status and a log line, and it starts again once the bindings change. Loop thread
 * only. */
#include "ganglion/acl.h"
#include "streams.h"

void streams_principal(const stream_t *s, char *out, size_t cap)
{
    snprintf(out, cap, "User:streams-%s", s->def.name);
}

static gn_acl_t *acl_of(const stream_t *s)
{
    return gn_broker_acl(s->reg->srv->broker);
}

/* One check, logged by the authorizer when refused; the processor fails then. */
static bool check(stream_t *s, gn_acl_op_t op, gn_acl_resource_type_t type, const char *name)
{
    char principal[GN_ACL_PRINCIPAL_MAX];
    streams_principal(s, principal, sizeof principal);
    gn_acl_t *acl = acl_of(s);
    if (gn_acl_authorize(acl, principal, "", op, type, name)) return true;
    s->denied = true;
    s->denied_gen = gn_acl_generation(acl);
    streams_fail(s, "Not authorized: %s may not %s %s %s", principal, gn_acl_op_name(op),
                 gn_acl_resource_type_name(type), name);
    return false;
}

bool streams_authorized(stream_t *s)
{
    gn_acl_t *acl = acl_of(s);
    if (!gn_acl_enabled(acl)) return true;
    uint64_t gen = gn_acl_generation(acl);
    if (s->authorized && s->authorized_gen == gen) return true;
    char group[STREAMS_NAME_MAX + 16], changelog[STREAMS_NAME_MAX + 32];
    snprintf(group, sizeof group, "streams-%s", s->def.name);
    streams_state_topic(s->def.name, changelog, sizeof changelog);
    bool ok =
        check(s, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, s->def.source) &&
        check(s, GN_ACL_OP_READ, GN_ACL_RESOURCE_GROUP, group) &&
        check(s, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC, s->def.sink) &&
        (!s->def.dead_letter[0] ||
         check(s, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC, s->def.dead_letter)) &&
        (s->def.agg == AGG_NONE || (check(s, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, changelog) &&
                                    check(s, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC, changelog)));
    s->authorized = ok;
    s->authorized_gen = gen;
    return ok;
}

bool streams_may_create(stream_t *s, const char *topic)
{
    char principal[GN_ACL_PRINCIPAL_MAX];
    streams_principal(s, principal, sizeof principal);
    if (gn_acl_allowed(acl_of(s), principal, "", GN_ACL_OP_CREATE, GN_ACL_RESOURCE_CLUSTER,
                       GN_ACL_CLUSTER_NAME))
        return true;
    return check(s, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_TOPIC, topic);
}

bool streams_denial_stale(const stream_t *s)
{
    return s->state == STREAMS_FAILED && s->denied && s->denied_gen != gn_acl_generation(acl_of(s));
}
