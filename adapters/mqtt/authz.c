/* SPDX-License-Identifier: Apache-2.0 */
/* Authorization of MQTT clients (core/acl): the principal is "User:<name>" of the user
 * CONNECT authenticated (user name and password checked against auth.users.file, or
 * MQTT 5 enhanced authentication), else User:ANONYMOUS — an unchecked user name (no users
 * file) is not trusted. PUBLISH needs WRITE on the log topic its topic maps to (the first
 * level), SUBSCRIBE READ on the filter's log topic (every topic for a wildcard first
 * level) and READ on the group G of $share/G/... Subscriptions are checked again when
 * the bindings change (the 1 s sweep) and when a present session reconnects; those no
 * longer allowed are removed. Loop thread only. */
#include <stdio.h>
#include <string.h>

#include "ganglion/acl.h"
#include "ganglion/logger.h"
#include "mqtt.h"

typedef struct who {
    char principal[GN_ACL_PRINCIPAL_MAX];
    char host[64];
} who_t;

static gn_acl_t *acl_of(mqtt_conn_t *conn)
{
    gn_acl_t *acl = gn_broker_acl(conn->srv->broker);
    return gn_acl_enabled(acl) ? acl : NULL;
}

static void who(mqtt_conn_t *conn, who_t *w)
{
    const char *user = conn->auth && conn->auth->user ? conn->auth->user : conn->user;
    gn_acl_principal(w->principal, sizeof w->principal, user);
    char peer[64];
    mqtt__conn_peer(conn, peer, sizeof peer);
    const char *end = strrchr(peer, ':');
    if (peer[0] == '[' && (end = strchr(peer, ']')))
        snprintf(w->host, sizeof w->host, "%.*s", (int)(end - peer - 1), peer + 1);
    else
        snprintf(w->host, sizeof w->host, "%.*s", end ? (int)(end - peer) : (int)strlen(peer),
                 peer);
}

bool mqtt__authorize_publish(mqtt_conn_t *conn, gn_bytes_t topic)
{
    gn_acl_t *acl = acl_of(conn);
    if (!acl) return true;
    char name[256];
    gn_bytes_t key;
    if (mqtt__map_topic(topic, name, sizeof name, &key) < 0) return true; /* refused later */
    who_t w;
    who(conn, &w);
    return gn_acl_authorize(acl, w.principal, w.host, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC, name);
}

bool mqtt__authorize_subscribe(mqtt_conn_t *conn, gn_bytes_t filter, gn_bytes_t group)
{
    gn_acl_t *acl = acl_of(conn);
    if (!acl) return true;
    who_t w;
    who(conn, &w);
    char name[256];
    if (group.len > 0) {
        snprintf(name, sizeof name, "%.*s", (int)group.len, (const char *)group.ptr);
        if (!gn_acl_authorize(acl, w.principal, w.host, GN_ACL_OP_READ, GN_ACL_RESOURCE_GROUP,
                              name))
            return false;
    }
    const uint8_t *slash = memchr(filter.ptr, '/', filter.len);
    size_t first = slash ? (size_t)(slash - filter.ptr) : filter.len;
    if (first > 0 && filter.ptr[0] == '$') return true; /* $SYS/...: no log topic */
    if ((first == 1 && (filter.ptr[0] == '+' || filter.ptr[0] == '#')) || first == 0) {
        if (gn_acl_allowed_all(acl, w.principal, w.host, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC))
            return true;
        gn_acl_log_refusal(acl, w.principal, w.host, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC,
                           GN_ACL_WILDCARD); /* READ on every topic */
        return false;
    }
    gn_bytes_t key;
    if (mqtt__map_topic(filter, name, sizeof name, &key) < 0) return true; /* matches no log */
    return gn_acl_authorize(acl, w.principal, w.host, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, name);
}

void mqtt__authz_recheck(mqtt_conn_t *conn)
{
    mqtt_session_t *sess = conn->session;
    if (!acl_of(conn) || !sess) return;
    bool removed = false;
    for (size_t i = sess->nsubs; i-- > 0;) {
        const mqtt_sub_t *sub = sess->subs[i];
        gn_bytes_t filter = {(const uint8_t *)sub->filter, strlen(sub->filter)};
        gn_bytes_t group = sub->share
                               ? (gn_bytes_t){(const uint8_t *)sub->share, strlen(sub->share)}
                               : GN_BYTES_NULL;
        if (mqtt__authorize_subscribe(conn, filter, group)) continue;
        char full[1024];
        int n = sub->share ? snprintf(full, sizeof full, "$share/%s/%s", sub->share, sub->filter)
                           : snprintf(full, sizeof full, "%s", sub->filter);
        if (n < 0 || (size_t)n >= sizeof full) continue;
        GN_INFO(MQTT_MOD, "subscription removed: not authorized any more | client=%s filter=\"%s\"",
                sess->client_id, full);
        removed |= mqtt__session_unsubscribe(sess, (gn_bytes_t){(const uint8_t *)full, (size_t)n});
    }
    if (!removed) return;
    mqtt__share_sync(sess);
    if (sess->persistent) mqtt__session_save(sess);
}

void mqtt__authz_sweep(mqtt_server_t *srv)
{
    gn_acl_t *acl = gn_broker_acl(srv->broker);
    if (!gn_acl_enabled(acl)) return;
    uint64_t generation = gn_acl_generation(acl);
    if (generation == srv->acl_generation) return;
    srv->acl_generation = generation;
    for (mqtt_conn_t *conn = srv->conns; conn; conn = conn->next)
        if (conn->session && !conn->closing) mqtt__authz_recheck(conn);
}
