/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer-group handlers of the Kafka adapter (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups,
 * OffsetDelete): prototypes for the API table and small shared helpers. They call the
 * broker's group coordinator (ganglion/group.h) and answer from its callbacks, so all
 * are asynchronous. Loop thread. */
#ifndef KAFKA_API_GROUP_API_H
#define KAFKA_API_GROUP_API_H

#include <stdio.h>

#include "../kafka.h"
#include "group_msgs.h"
#include "ganglion/error.h"
#include "ganglion/group.h"

int kafka_handle_OffsetCommit(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_OffsetFetch(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_JoinGroup(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_Heartbeat(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_LeaveGroup(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_SyncGroup(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DescribeGroups(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_ListGroups(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_DeleteGroups(kafka_req_t *req, kafka_reader_t *body);
int kafka_handle_OffsetDelete(kafka_req_t *req, kafka_reader_t *body);

/* "" for a null string; NULL only when out of memory or for an embedded NUL. */
static inline const char *kafka_group_str(kafka_req_t *req, gn_bytes_t s)
{
    return s.ptr ? kafka_req_cstr(req, s) : "";
}

/* A nullable request string (group.instance.id): NULL for null. */
static inline const char *kafka_group_opt(kafka_req_t *req, gn_bytes_t s)
{
    return s.ptr ? kafka_req_cstr(req, s) : NULL;
}

/* Kafka reports the member's host as "/ip". */
static inline const char *kafka_group_host(kafka_req_t *req)
{
    const char *peer = kafka_req_peer(req);
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    char *h = kafka_arena_alloc(&req->arena, n + 2);
    if (!h) return "";
    h[0] = '/';
    memcpy(h + 1, peer, n);
    return h;
}

/* READ on the group (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit). */
static inline bool kafka_group_authorize(kafka_req_t *req, const char *group)
{
    return kafka_authorize(req, GN_ACL_OP_READ, GN_ACL_RESOURCE_GROUP, group);
}

static inline gn_bytes_t kafka_group_bytes(const char *s)
{
    return kafka_cstr_bytes(s ? s : "");
}

#endif
