/* SPDX-License-Identifier: Apache-2.0 */
/* The consumer-group coordinator (Kafka's classic group protocol): join, sync,
 * heartbeat, leave, offset commit/fetch, list, describe, delete, offset delete, and
 * server-side members for gateway sessions (MQTT shared subscriptions, REST consumer
 * instances, WebSocket groups) that sit in the same groups as Kafka clients. Group
 * metadata and committed offsets persist in the compacted topic __consumer_offsets.
 * Loop thread only; every callback runs on the loop, never before the call returns,
 * and only when the call returned 0. */
#ifndef GANGLION_GROUP_H
#define GANGLION_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "bytes.h"

typedef struct gn_group_coordinator gn_group_coordinator_t;

#define GN_GROUP_OFFSETS_TOPIC     "__consumer_offsets"
#define GN_GROUP_CONSUMER_PROTOCOL "consumer" /* protocol type of consumer groups */

/* Kafka's group.* and offsets.* broker settings, same names and defaults. */
typedef struct gn_group_config {
    int32_t offsets_topic_partitions;         /* offsets.topic.num.partitions (50) */
    int16_t offsets_topic_replication;        /* offsets.topic.replication.factor (3; at most
                                                 the live brokers; -1: default.replication.factor) */
    int32_t offsets_topic_segment_bytes;      /* offsets.topic.segment.bytes (100 MiB) */
    int64_t offsets_retention_ms;             /* offsets.retention.minutes (7 days) in ms */
    int64_t offsets_retention_check_ms;       /* offsets.retention.check.interval.ms (600000) */
    int32_t offset_metadata_max_bytes;        /* offset.metadata.max.bytes (4096) */
    int32_t group_min_session_timeout_ms;     /* group.min.session.timeout.ms (6000) */
    int32_t group_max_session_timeout_ms;     /* group.max.session.timeout.ms (1800000) */
    int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (3000) */
    int32_t group_max_size;                   /* group.max.size (INT32_MAX) */
} gn_group_config_t;

void gn_group_config_defaults(gn_group_config_t *cfg);

/* Creates the coordinator on the broker's loop: creates __consumer_offsets when it
 * is missing (compacted, through the controller), then loads the groups and offsets of
 * the partitions this broker leads; it follows their leadership from then on. Until loaded
 * (gn_group_coordinator_ready), requests fail with GN_ECOORDINATOR_LOADING. cfg is
 * copied; NULL takes the defaults. The caller (the broker or gateway) owns *out. */
typedef void (*gn_group_ready_cb)(void *arg, int status);
int gn_group_coordinator_new(gn_broker_t *broker, const gn_group_config_t *cfg,
                             gn_group_ready_cb ready, void *arg, gn_group_coordinator_t **out);
bool gn_group_coordinator_ready(const gn_group_coordinator_t *coord);
/* The broker's own coordinator, what adapters use: created with the defaults on
 * first use (so a broker whose clients never use groups has no __consumer_offsets),
 * closed by gn_broker_close. NULL once the broker is closing or if creation failed. */
gn_group_coordinator_t *gn_broker_group_coordinator(gn_broker_t *broker);
/* NULL is a no-op. Pending requests complete with GN_ESHUTDOWN (on the loop); server-side members
 * are dropped without callbacks; timers close. cb (may be NULL) runs when the
 * memory is freed. Call before gn_broker_close. */
typedef void (*gn_group_closed_cb)(void *arg);
void gn_group_coordinator_close(gn_group_coordinator_t *coord, gn_group_closed_cb cb, void *arg);

/* FindCoordinator: the node id of the broker coordinating group_id, the leader of its
 * __consumer_offsets partition in the metadata image (possibly this broker); 0, or
 * GN_ECOORDINATOR_NOT_AVAILABLE while the topic is being created or the partition has
 * no leader. Group requests reaching another broker answer GN_ENOT_COORDINATOR. */
int gn_group_coordinator_locate(gn_group_coordinator_t *coord, const char *group_id,
                                int32_t *node_id);

/* The __consumer_offsets partition that stores the group (FindCoordinator's key):
 * Kafka's Utils.abs(groupId.hashCode()) % partitions with Java's String.hashCode. */
int32_t gn_group_partition_for(const char *group_id, int32_t partitions);

/* States as Kafka reports them (ListGroups / DescribeGroups strings). */
typedef enum gn_group_state {
    GN_GROUP_EMPTY = 0,
    GN_GROUP_PREPARING_REBALANCE = 1,
    GN_GROUP_COMPLETING_REBALANCE = 2,
    GN_GROUP_STABLE = 3,
    GN_GROUP_DEAD = 4,
} gn_group_state_t;

/* "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead". */
const char *gn_group_state_name(gn_group_state_t state);
/* Case-insensitive, as ListGroups' StatesFilter; -1 when unknown. */
int gn_group_state_parse(const char *name);

/* ---- JoinGroup ---------------------------------------------------------------- */

typedef struct gn_group_protocol {
    const char *name;    /* "range", "roundrobin", "cooperative-sticky" ... */
    gn_bytes_t metadata; /* for "consumer": the ConsumerProtocol subscription */
} gn_group_protocol_t;

typedef struct gn_group_join_req {
    const char *group_id;
    const char *member_id;   /* "" on the first join */
    const char *instance_id; /* group.instance.id (static membership) or NULL */
    const char *client_id;   /* prefix of generated member ids; "" allowed */
    const char *client_host; /* "/127.0.0.1" as Kafka reports it */
    const char *protocol_type;
    const gn_group_protocol_t *protocols; /* in the member's order of preference */
    size_t protocols_count;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* -1: session_timeout_ms (JoinGroup v0) */
    /* JoinGroup v4+: a first join without member id is answered with
     * GN_EMEMBER_ID_REQUIRED and the member id to rejoin with. */
    bool require_known_member_id;
} gn_group_join_req_t;

typedef struct gn_group_join_member {
    const char *member_id;
    const char *instance_id; /* NULL when dynamic */
    gn_bytes_t metadata;     /* for the chosen protocol */
} gn_group_join_member_t;

/* Everything is borrowed for the callback only. status 0, or:
 * GN_EMEMBER_ID_REQUIRED (member_id filled), GN_EUNKNOWN_MEMBER,
 * GN_EINCONSISTENT_PROTOCOL, GN_EGROUP_MAX_SIZE, GN_EINVALID_SESSION_TIMEOUT,
 * GN_EINVALID_GROUP_ID, GN_EFENCED_INSTANCE, GN_ECOORDINATOR_LOADING,
 * GN_ECOORDINATOR_NOT_AVAILABLE, GN_EREBALANCE_IN_PROGRESS (a newer join of the
 * same member superseded this one), GN_ESHUTDOWN. */
typedef struct gn_group_join_res {
    int32_t generation_id;
    const char *protocol_type;
    const char *protocol_name;
    const char *leader_id;
    const char *member_id;
    bool skip_assignment; /* JoinGroup v9: static leader rejoined, keep the assignment */
    const gn_group_join_member_t *members; /* the leader gets every member; others none */
    size_t members_count;
} gn_group_join_res_t;

typedef void (*gn_group_join_cb)(void *arg, int status, const gn_group_join_res_t *res);
/* Completes when the rebalance completes (every member rejoined or the rebalance
 * timeout passed), which may take up to rebalance_timeout_ms. */
int gn_group_join(gn_group_coordinator_t *coord, const gn_group_join_req_t *req,
                  gn_group_join_cb cb, void *arg);

/* ---- SyncGroup ---------------------------------------------------------------- */

typedef struct gn_group_assignment {
    const char *member_id;
    gn_bytes_t assignment; /* for "consumer": the ConsumerProtocol assignment */
} gn_group_assignment_t;

typedef struct gn_group_sync_req {
    const char *group_id;
    int32_t generation_id;
    const char *member_id;
    const char *instance_id;                  /* or NULL */
    const char *protocol_type;                /* SyncGroup v5 checks, or NULL */
    const char *protocol_name;                /* or NULL */
    const gn_group_assignment_t *assignments; /* the leader's; others send none */
    size_t assignments_count;
} gn_group_sync_req_t;

/* status 0 and the member's assignment (borrowed for the callback), or
 * GN_EUNKNOWN_MEMBER, GN_EILLEGAL_GENERATION, GN_EREBALANCE_IN_PROGRESS,
 * GN_EFENCED_INSTANCE, GN_EINCONSISTENT_PROTOCOL, a store error. */
typedef void (*gn_group_sync_cb)(void *arg, int status, const char *protocol_type,
                                 const char *protocol_name, gn_bytes_t assignment);
int gn_group_sync(gn_group_coordinator_t *coord, const gn_group_sync_req_t *req,
                  gn_group_sync_cb cb, void *arg);

/* ---- Heartbeat, LeaveGroup ---------------------------------------------------- */

/* status 0, GN_EREBALANCE_IN_PROGRESS (rejoin), GN_EUNKNOWN_MEMBER,
 * GN_EILLEGAL_GENERATION, GN_EFENCED_INSTANCE, GN_ECOORDINATOR_NOT_AVAILABLE. */
typedef void (*gn_group_status_cb)(void *arg, int status);
int gn_group_heartbeat(gn_group_coordinator_t *coord, const char *group_id, int32_t generation_id,
                       const char *member_id, const char *instance_id, gn_group_status_cb cb,
                       void *arg);

typedef struct gn_group_member_ref {
    const char *member_id;   /* may be "" when instance_id is given (LeaveGroup v3+) */
    const char *instance_id; /* or NULL */
} gn_group_member_ref_t;

/* status is the group-level error (GN_EUNKNOWN_MEMBER when the group is unknown);
 * errors[i] is member i's (0, GN_EUNKNOWN_MEMBER, GN_EFENCED_INSTANCE). */
typedef void (*gn_group_leave_cb)(void *arg, int status, const int *errors, size_t count);
int gn_group_leave(gn_group_coordinator_t *coord, const char *group_id,
                   const gn_group_member_ref_t *members, size_t count, gn_group_leave_cb cb,
                   void *arg);

/* ---- OffsetCommit, OffsetFetch, OffsetDelete ---------------------------------- */

typedef struct gn_group_offset {
    const char *topic;
    int32_t partition;
    int64_t offset;       /* -1 in a fetch: no committed offset */
    int32_t leader_epoch; /* -1 unknown */
    const char *metadata; /* NULL = null */
    int error;            /* per-partition result */
} gn_group_offset_t;

typedef struct gn_group_commit_req {
    const char *group_id;
    int32_t generation_id; /* -1 with member "": a simple commit (group without members) */
    const char *member_id;
    const char *instance_id; /* or NULL */
    const gn_group_offset_t *offsets;
    size_t count;
} gn_group_commit_req_t;

/* status: group-level error (then every partition carries it too). results[i]
 * answers offsets[i]: .error 0, GN_EOFFSET_METADATA_TOO_LARGE, or a store error. */
typedef void (*gn_group_commit_cb)(void *arg, int status, const gn_group_offset_t *results,
                                   size_t count);
/* Durable (acks=all on __consumer_offsets) before the callback. */
int gn_group_commit(gn_group_coordinator_t *coord, const gn_group_commit_req_t *req,
                    gn_group_commit_cb cb, void *arg);

typedef struct gn_group_topic_partitions {
    const char *topic;
    const int32_t *partitions;
    size_t count;
} gn_group_topic_partitions_t;

typedef struct gn_group_fetch_group {
    const char *group_id;
    const gn_group_topic_partitions_t *topics; /* NULL: every committed offset */
    size_t topics_count;
} gn_group_fetch_group_t;

typedef struct gn_group_fetch_res {
    const char *group_id;
    int error; /* group-level */
    const gn_group_offset_t *offsets;
    size_t count;
} gn_group_fetch_res_t;

typedef void (*gn_group_fetch_cb)(void *arg, int status, const gn_group_fetch_res_t *groups,
                                  size_t count);
/* OffsetFetch for several groups (v8+); unknown partitions answer offset -1. */
int gn_group_fetch_offsets(gn_group_coordinator_t *coord, const gn_group_fetch_group_t *groups,
                           size_t count, gn_group_fetch_cb cb, void *arg);

/* For gateway sessions: gn_group_commit and gn_group_fetch_offsets (one group) at the
 * group's coordinator wherever it is: here when this broker coordinates the group,
 * otherwise at the broker that does, over the internal RPC (a Kafka client would go
 * there itself after FindCoordinator). Callbacks as the local calls; a connection lost
 * or a timeout answers GN_EIO / GN_ETIMEOUT. */
int gn_group_commit_routed(gn_group_coordinator_t *coord, const gn_group_commit_req_t *req,
                           gn_group_commit_cb cb, void *arg);
int gn_group_fetch_offsets_routed(gn_group_coordinator_t *coord,
                                  const gn_group_fetch_group_t *group, gn_group_fetch_cb cb,
                                  void *arg);

/* OffsetDelete: status GN_EGROUP_ID_NOT_FOUND, GN_EGROUP_NOT_EMPTY (group not a
 * consumer group with members); errors[i] GN_EGROUP_SUBSCRIBED_TO_TOPIC when a
 * member still subscribes to offsets[i]'s topic. */
int gn_group_offset_delete(gn_group_coordinator_t *coord, const char *group_id,
                           const gn_group_offset_t *offsets, size_t count, gn_group_commit_cb cb,
                           void *arg);

/* ---- ListGroups, DescribeGroups, DeleteGroups --------------------------------- */

typedef struct gn_group_listing {
    const char *group_id;
    const char *protocol_type;
    gn_group_state_t state;
} gn_group_listing_t;

typedef void (*gn_group_list_cb)(void *arg, int status, const gn_group_listing_t *groups,
                                 size_t count);
/* states/states_count: filter (ListGroups v4); 0 = all. */
int gn_group_list(gn_group_coordinator_t *coord, const gn_group_state_t *states,
                  size_t states_count, gn_group_list_cb cb, void *arg);

typedef struct gn_group_member_desc {
    const char *member_id;
    const char *instance_id; /* NULL when dynamic */
    const char *client_id;
    const char *client_host;
    gn_bytes_t metadata;   /* for the chosen protocol (empty unless Stable/Completing) */
    gn_bytes_t assignment; /* empty unless Stable */
} gn_group_member_desc_t;

typedef struct gn_group_desc {
    const char *group_id;
    int error;
    gn_group_state_t state; /* DEAD for an unknown group, as Kafka answers */
    const char *protocol_type;
    const char *protocol_name; /* "" unless a protocol is chosen */
    int32_t generation_id;
    const gn_group_member_desc_t *members;
    size_t members_count;
} gn_group_desc_t;

typedef void (*gn_group_describe_cb)(void *arg, int status, const gn_group_desc_t *groups,
                                     size_t count);
int gn_group_describe(gn_group_coordinator_t *coord, const char *const *group_ids, size_t count,
                      gn_group_describe_cb cb, void *arg);

/* errors[i]: 0, GN_EGROUP_ID_NOT_FOUND, GN_EGROUP_NOT_EMPTY, a store error. Deletes
 * the group's metadata and every committed offset (tombstones). */
typedef void (*gn_group_errors_cb)(void *arg, int status, const int *errors, size_t count);
int gn_group_delete(gn_group_coordinator_t *coord, const char *const *group_ids, size_t count,
                    gn_group_errors_cb cb, void *arg);

/* ---- Consumer lag ------------------------------------------------------------- */

typedef struct gn_group_lag {
    const char *topic;
    int32_t partition;
    int64_t committed;      /* -1: none */
    int64_t high_watermark; /* -1: unknown here (no such partition, or no replica here);
                             * in views: the partition leader's */
    int64_t lag;            /* high_watermark - committed; -1 when either is unknown */
    const char *member_id;  /* assigned member, or NULL */
} gn_group_lag_t;

typedef void (*gn_group_lag_each_cb)(void *arg, const gn_group_lag_t *row);
/* Synchronous (in-memory state only): one row per committed or assigned partition
 * of the group, sorted by topic and partition. Returns the row count or
 * GN_EGROUP_ID_NOT_FOUND. */
int gn_group_lag(gn_group_coordinator_t *coord, const char *group_id, gn_group_lag_each_cb each,
                 void *arg);

/* ---- Views (REST v3, /metrics) ------------------------------------------------- */

typedef struct gn_group_view {
    const char *group_id;
    const char *protocol_type;
    const char *protocol_name; /* "" unless chosen */
    gn_group_state_t state;
    int32_t generation_id;
    int32_t coordinator;                   /* the broker that coordinates the group */
    const gn_group_member_desc_t *members; /* metadata and assignment bytes left empty */
    size_t members_count;
    const gn_group_lag_t *lags; /* sorted by topic, partition */
    size_t lags_count;
} gn_group_view_t;

/* status 0 and the groups (borrowed for the call), GN_EGROUP_ID_NOT_FOUND for an unknown
 * group_id, or an error (GN_ECOORDINATOR_LOADING, GN_ECOORDINATOR_NOT_AVAILABLE, GN_EIO,
 * GN_ETIMEOUT, GN_ESHUTDOWN, GN_ENOMEM; cluster views also GN_ENOTLEADER / GN_ETIMEOUT
 * when a partition's leader cannot give its high watermark). */
typedef void (*gn_group_view_cb)(void *arg, int status, const gn_group_view_t *groups,
                                 size_t count);
/* A snapshot of groups with members and lag: every group (group_id NULL) or one. cluster
 * false: the groups this broker coordinates. cluster true: one group at its coordinator
 * wherever it is; every group from this broker and each unfenced broker over the internal
 * RPC, and an error if one of them does not answer (never part of the cluster). Lag rows
 * of partitions another broker leads take that leader's high watermark (core/group/
 * ends.c); without cluster, a leader that cannot answer leaves this broker's value. cb
 * runs later from the loop, never inside the call. Returns 0 or an error (cb will not
 * run). */
int gn_group_view(gn_group_coordinator_t *coord, const char *group_id, bool cluster,
                  gn_group_view_cb cb, void *arg);

/* ---- Server-side members (gateway sessions) ----------------------------------- */

/* A member whose heartbeats and rejoins the coordinator drives itself: it joins
 * with protocol type "consumer" offering the assignors (ConsumerProtocol v1
 * subscription), computes the assignment when elected leader, and otherwise takes
 * the one a Kafka leader sends. It lives until gn_group_member_leave. When another
 * broker coordinates the group, the member joins there over the internal RPC and
 * heartbeats (an ordinary member there); when the coordinator moves or cannot be
 * reached it gives its partitions up (revoked), finds the coordinator again and
 * rejoins with a backoff; after about a minute of failures it fails (failed). */
typedef struct gn_group_member gn_group_member_t;

typedef struct gn_topic_partition {
    const char *topic;
    int32_t partition;
} gn_topic_partition_t;

typedef struct gn_group_member_callbacks {
    /* The partitions of a new generation (possibly none). Borrowed for the call. */
    void (*assigned)(void *arg, gn_group_member_t *member, int32_t generation_id,
                     const gn_topic_partition_t *tps, size_t count);
    /* Before a rebalance: stop reading and commit these. Borrowed for the call. */
    void (*revoked)(void *arg, gn_group_member_t *member, const gn_topic_partition_t *tps,
                    size_t count);
    /* The member cannot continue (group deleted, fenced, protocol conflict); it
     * stays allocated until gn_group_member_leave. May be NULL. */
    void (*failed)(void *arg, gn_group_member_t *member, int status);
} gn_group_member_callbacks_t;

typedef struct gn_group_member_opts {
    const char *group_id;
    const char *const *topics; /* subscription (log topic names) */
    size_t topics_count;
    const char *const *assignors; /* NULL: {"range", "roundrobin", "RoundRobinAssigner"} */
    size_t assignors_count;
    const char *client_id; /* "mqtt", "rest", "ws" ... */
    const char *client_host;
    const char *instance_id;      /* static membership (REST instance name) or NULL */
    int32_t session_timeout_ms;   /* reported to others; 0: 45000 */
    int32_t rebalance_timeout_ms; /* 0: 60000 */
} gn_group_member_opts_t;

/* Joins now; opts and its strings are copied. GN_ECOORDINATOR_LOADING (this broker is
 * taking the group over: retry) or GN_ECOORDINATOR_NOT_AVAILABLE (no broker coordinates
 * the group now) without a member. */
int gn_group_member_join(gn_group_coordinator_t *coord, const gn_group_member_opts_t *opts,
                         const gn_group_member_callbacks_t *cbs, void *arg,
                         gn_group_member_t **out);
/* Commits with the member's generation at its coordinator; cb as gn_group_commit. */
int gn_group_member_commit(gn_group_member_t *member, const gn_group_offset_t *offsets,
                           size_t count, gn_group_commit_cb cb, void *arg);
/* Leaves the group and frees the member; no callback of it runs afterwards. */
void gn_group_member_leave(gn_group_member_t *member);
const char *gn_group_member_id(const gn_group_member_t *member); /* "" until joined */
int32_t gn_group_member_generation(const gn_group_member_t *member);

/* The assignors the gateway offers (ConsumerProtocol): range and round-robin. */
#define GN_ASSIGNOR_RANGE              "range"
#define GN_ASSIGNOR_ROUNDROBIN         "roundrobin"
#define GN_ASSIGNOR_KAFKAJS_ROUNDROBIN "RoundRobinAssigner"

#endif
