/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of core/group shared by its files: the coordinator, group and member
 * structs, the deferred-completion queue, the persistence backend (store ops), the
 * bounds-checked Kafka-encoding reader/writer, and the assignors. Loop thread only. */
#ifndef GN_CORE_GROUP_INT_H
#define GN_CORE_GROUP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "ganglion/group.h"

/* ---- Kafka classic encoding: big-endian ints, int16-length strings, int32-length
 * bytes, int32-count arrays. The reader's error is sticky (check once at the end). */

typedef struct gn__rd {
    const uint8_t *p, *end;
    int err;
} gn__rd_t;

typedef struct gn__wr {
    uint8_t *buf;
    size_t len, cap;
    int err;
} gn__wr_t;

void gn__rd_init(gn__rd_t *r, const uint8_t *p, size_t len);
int16_t gn__rd_i16(gn__rd_t *r);
int32_t gn__rd_i32(gn__rd_t *r);
int64_t gn__rd_i64(gn__rd_t *r);
/* Nullable; the view borrows the input. */
gn_bytes_t gn__rd_str(gn__rd_t *r);
gn_bytes_t gn__rd_bytes(gn__rd_t *r);
/* -1 for null; a count above the bytes left is an error (bounds allocation). */
int32_t gn__rd_count(gn__rd_t *r, size_t min_elem_bytes);

void gn__wr_i16(gn__wr_t *w, int16_t v);
void gn__wr_i32(gn__wr_t *w, int32_t v);
void gn__wr_i64(gn__wr_t *w, int64_t v);
void gn__wr_str(gn__wr_t *w, const char *s); /* NULL writes null (-1) */
void gn__wr_strn(gn__wr_t *w, const char *s, size_t n);
void gn__wr_bytes(gn__wr_t *w, gn_bytes_t b); /* null ptr writes null (-1) */
void gn__wr_free(gn__wr_t *w);

/* ---- ConsumerProtocol (consumer_protocol.c) --------------------------------- */

typedef struct gn__subscription {
    int16_t version;
    char **topics;
    size_t topics_count;
    gn_bytes_t user_data; /* borrowed from the decoded bytes */
} gn__subscription_t;

typedef struct gn__assigned_topic {
    char *topic;
    int32_t *partitions;
    size_t count;
} gn__assigned_topic_t;

typedef struct gn__assignment {
    int16_t version;
    gn__assigned_topic_t *topics;
    size_t topics_count;
    gn_bytes_t user_data;
} gn__assignment_t;

int gn__subscription_encode(gn__wr_t *w, int16_t version, const char *const *topics, size_t n,
                            gn_bytes_t user_data);
/* 0 or GN_ECORRUPT (truncated, negative counts, oversized). Free with _free. */
int gn__subscription_decode(gn_bytes_t in, gn__subscription_t *out);
void gn__subscription_free(gn__subscription_t *s);
int gn__assignment_encode(gn__wr_t *w, int16_t version, const gn__assigned_topic_t *topics,
                          size_t n, gn_bytes_t user_data);
int gn__assignment_decode(gn_bytes_t in, gn__assignment_t *out);
void gn__assignment_free(gn__assignment_t *a);

/* ---- Assignors (assignor.c), as Kafka's Java RangeAssignor/RoundRobinAssignor. */

typedef struct gn__assign_member {
    const char *member_id;
    const char *instance_id; /* NULL when dynamic; sorts members as Kafka does */
    const char *const *topics;
    size_t topics_count;
    gn__assignment_t out; /* filled: topics sorted by name, partitions ascending */
} gn__assign_member_t;

/* Partition count of a topic, -1 when unknown (its partitions are not assigned). */
typedef int32_t (*gn__partitions_fn)(void *arg, const char *topic);

int gn__assign_range(gn__assign_member_t *members, size_t n, gn__partitions_fn parts, void *arg);
int gn__assign_roundrobin(gn__assign_member_t *members, size_t n, gn__partitions_fn parts,
                          void *arg);
/* By protocol name (range, roundrobin, RoundRobinAssigner); NULL when unknown. */
typedef int (*gn__assign_fn)(gn__assign_member_t *, size_t, gn__partitions_fn, void *);
gn__assign_fn gn__assignor_find(const char *name);

/* ---- deferred completions: user callbacks never run inside an API call ------ */

typedef struct gn__op gn__op_t;
struct gn__op {
    void (*run)(gn__op_t *op, int shutdown); /* shutdown: the coordinator is closing */
    gn__op_t *next;
};

/* ---- state ------------------------------------------------------------------ */

typedef struct gn__proto {
    char *name;
    uint8_t *meta;
    size_t meta_len;
} gn__proto_t;

typedef struct gn__join_wait {
    gn_group_join_cb cb;
    void *arg;
} gn__join_wait_t;

typedef struct gn__sync_wait {
    gn_group_sync_cb cb;
    void *arg;
} gn__sync_wait_t;

typedef struct gn__member {
    char *member_id;
    char *instance_id;
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    gn__proto_t *protos;
    size_t protos_count;
    uint8_t *assignment;
    size_t assignment_len;
    uint64_t session_deadline; /* uv_now; refreshed by join, sync, heartbeat */
    bool has_join;
    gn__join_wait_t join;
    bool has_sync;
    gn__sync_wait_t sync;
    gn_group_member_t *local; /* server-side member, never session-expired */
    struct gn__member *next;
} gn__member_t;

typedef struct gn__pending {
    char *member_id;
    uint64_t deadline;
    struct gn__pending *next;
} gn__pending_t;

typedef struct gn__offset {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts;
} gn__offset_t;

typedef struct gn__group {
    gn_group_coordinator_t *coord;
    char *id;
    gn_group_state_t state;
    int32_t generation;
    char *protocol_type; /* NULL: no members ever joined (simple offsets only) */
    char *protocol_name;
    char *leader_id;
    gn__member_t *members; /* join order */
    size_t members_count;
    gn__pending_t *pending;      /* ids handed out with MEMBER_ID_REQUIRED */
    int64_t state_ts;            /* wall clock of the last state change (currentStateTimestamp) */
    uint64_t rebalance_deadline; /* PreparingRebalance: complete the join by then */
    uint64_t initial_deadline;   /* group.initial.rebalance.delay.ms extension */
    uint64_t sync_deadline;      /* CompletingRebalance: the leader syncs by then */
    bool syncing;                /* leader's assignment being stored */
    bool check_queued;
    gn__offset_t *offsets; /* sorted by (topic, partition) */
    size_t offsets_count, offsets_cap;
    uv_timer_t timer;
    int refs; /* the table, store appends in flight, queued checks */
    struct gn__group *hnext;
} gn__group_t;

/* The persistence backend: broker-backed (store.c) or none (unit tests). */
typedef void (*gn__store_cb)(void *arg, int status);
typedef struct gn__store_ops {
    /* Appends one batch of records (key/value pairs) to the group's partition of
     * __consumer_offsets with acks=all. cb later, only if 0 is returned. */
    int (*append)(gn_group_coordinator_t *coord, const char *group_id, const gn_bytes_t *keys,
                  const gn_bytes_t *values, size_t count, gn__store_cb cb, void *arg);
    /* Partition count of a log topic, -1 unknown. */
    int32_t (*partitions)(gn_group_coordinator_t *coord, const char *topic);
} gn__store_ops_t;

#define GN__GROUP_BUCKETS 256

/* A __consumer_offsets partition as this broker's coordinator sees it (ownership.c). */
typedef enum gn__part_state {
    GN__PART_NONE = 0, /* another broker leads it: its groups answer GN_ENOT_COORDINATOR */
    GN__PART_LOADING,  /* led here, its log being read back: GN_ECOORDINATOR_LOADING */
    GN__PART_LOADED,
} gn__part_state_t;

typedef struct gn__opart {
    gn__part_state_t state;
    int32_t epoch; /* the leader epoch it was loaded for */
} gn__opart_t;

struct gn_group_coordinator {
    uv_loop_t *loop;
    gn_broker_t *broker; /* NULL with the memory backend */
    gn_group_config_t cfg;
    const gn__store_ops_t *store;
    bool ready;
    bool closing;
    gn_group_ready_cb ready_cb;
    void *ready_arg;
    gn__group_t *buckets[GN__GROUP_BUCKETS];
    size_t groups_count;
    gn__op_t *ops_head, *ops_tail;
    uv_idle_t defer_idle;   /* keeps the poll from blocking while ops are queued */
    uv_check_t defer_check; /* runs the queued ops after the poll (setImmediate) */
    uv_timer_t defer_timer; /* close: polls for the end of pending work */
    uv_timer_t retention_timer;
    int open_handles;
    int store_inflight; /* appends not yet answered: close waits for them */
    gn_group_closed_cb closed_cb;
    void *closed_arg;
    uint64_t next_member_seq;
    gn_group_member_t *locals; /* server-side members */
    uv_timer_t member_timer;   /* member.c: remote heartbeats and join retries */
    struct gn__peer *peers;    /* remote.c: RPC clients of coordinators on other brokers */
    /* ownership.c; parts NULL with the memory backend (every group is local) */
    int32_t nparts; /* partitions of __consumer_offsets */
    gn__opart_t *parts;
    gn__op_t load_op;
    bool load_queued, listening;
};

/* group.c */
int gn__coordinator_init(gn_group_coordinator_t *coord, uv_loop_t *loop, gn_broker_t *broker,
                         const gn_group_config_t *cfg, const gn__store_ops_t *store);
/* For tests: a coordinator without persistence on loop (ready at once). */
int gn__group_coordinator_new_mem(uv_loop_t *loop, const gn_group_config_t *cfg,
                                  gn_group_coordinator_t **out);
void gn__group_defer(gn_group_coordinator_t *coord, gn__op_t *op);
gn__group_t *gn__group_find(gn_group_coordinator_t *coord, const char *id);
gn__group_t *gn__group_get_or_create(gn_group_coordinator_t *coord, const char *id);
void gn__group_ref(gn__group_t *g);
void gn__group_unref(gn__group_t *g);
void gn__group_set_state(gn__group_t *g, gn_group_state_t state);
gn__member_t *gn__member_find(gn__group_t *g, const char *member_id);
void gn__member_free(gn__member_t *m);
/* Subscribed topics of the "consumer" group's members (for OffsetDelete). */
bool gn__group_subscribes(gn__group_t *g, const char *topic);
/* Restore from the store (loading). */
void gn__group_loaded_metadata(gn__group_t *g);
void gn__group_remove(gn__group_t *g); /* Dead: out of the table */
/* This broker stopped coordinating g: waits fail with status, server-side members are
 * told, g leaves the table. */
void gn__group_unload(gn__group_t *g, int status);

/* offsets.c */
gn__offset_t *gn__offset_find(gn__group_t *g, const char *topic, int32_t partition);
int gn__offset_put(gn__group_t *g, const char *topic, int32_t partition, int64_t offset,
                   int32_t leader_epoch, const char *metadata, int64_t commit_ts);
void gn__offset_remove(gn__group_t *g, const char *topic, int32_t partition);
void gn__offsets_free(gn__group_t *g);
void gn__offsets_expire(gn_group_coordinator_t *coord, int64_t now_ms);

/* store_codec.c: the records of __consumer_offsets in Kafka's schemas.
 * OffsetCommitKey v1 (group, topic, partition), OffsetCommitValue v3 (offset,
 * leaderEpoch, metadata, commitTimestamp); GroupMetadataKey v2 (group),
 * GroupMetadataValue v3. */
int gn__offset_key_encode(gn__wr_t *w, const char *group, const char *topic, int32_t partition);
int gn__offset_value_encode(gn__wr_t *w, const gn__offset_t *o);
int gn__group_key_encode(gn__wr_t *w, const char *group);
int gn__group_value_encode(gn__wr_t *w, const gn__group_t *g);
/* Applies one record of __consumer_offsets to the coordinator's state. */
int gn__store_apply(gn_group_coordinator_t *coord, gn_bytes_t key, gn_bytes_t value);

/* store.c: the broker backend */
extern const gn__store_ops_t gn__store_broker_ops;
/* Reads partition p of __consumer_offsets from its log start to its log end (Kafka's
 * loader: what a new leader holds beyond its high watermark is committed once its
 * followers fetch it) and applies every record; *records counts them. */
int gn__store_load_partition(gn_group_coordinator_t *coord, int32_t p, size_t *records);

/* ownership.c: a group is coordinated by the leader of its __consumer_offsets partition */
/* 0 when this broker coordinates group_id now, GN_ECOORDINATOR_LOADING (coordinator or
 * partition loading) or GN_ENOT_COORDINATOR. */
int gn__owner_check(gn_group_coordinator_t *coord, const char *group_id);
/* True while the coordinator or any partition it leads is loading (ListGroups). */
bool gn__owner_loading(const gn_group_coordinator_t *coord);
/* __consumer_offsets exists with nparts partitions: follow its leaders in the metadata
 * image; the partitions led now are loaded before this returns. */
int gn__owner_open(gn_group_coordinator_t *coord, int32_t nparts);
void gn__owner_close(gn_group_coordinator_t *coord); /* stop following the image */

/* member.c: server-side members */
void gn__local_rebalance(gn__member_t *m);           /* group entered PreparingRebalance */
void gn__local_lost(gn__member_t *m, int status);    /* group unloaded: the member fails */
void gn__locals_drop(gn_group_coordinator_t *coord); /* coordinator closing */
void gn__member_timer_run(uv_timer_t *t);            /* the member_timer's callback */

/* remote.c: the calls of a server-side member to the coordinator on broker node, over the
 * internal RPC; the same requests and callbacks as the local API. 0 (cb runs later, on
 * the loop) or an error (cb never runs): GN_ECOORDINATOR_NOT_AVAILABLE when the broker
 * has no known listener. Transport failures answer GN_EIO or GN_ETIMEOUT. */
int gn__group_remote_join(gn_group_coordinator_t *coord, int32_t node,
                          const gn_group_join_req_t *req, gn_group_join_cb cb, void *arg);
int gn__group_remote_sync(gn_group_coordinator_t *coord, int32_t node,
                          const gn_group_sync_req_t *req, gn_group_sync_cb cb, void *arg);
int gn__group_remote_heartbeat(gn_group_coordinator_t *coord, int32_t node, const char *group_id,
                               int32_t generation_id, const char *member_id,
                               const char *instance_id, gn_group_status_cb cb, void *arg);
int gn__group_remote_leave(gn_group_coordinator_t *coord, int32_t node, const char *group_id,
                           const char *member_id, const char *instance_id, gn_group_status_cb cb,
                           void *arg);
int gn__group_remote_commit(gn_group_coordinator_t *coord, int32_t node,
                            const gn_group_commit_req_t *req, gn_group_commit_cb cb, void *arg);
/* One group. */
int gn__group_remote_fetch(gn_group_coordinator_t *coord, int32_t node,
                           const gn_group_fetch_group_t *group, gn_group_fetch_cb cb, void *arg);
/* Group views (view.c): the groups this broker coordinates (group_id NULL) or one of
 * them, as the JSON array the "view" RPC answers; groups is borrowed for the call, NULL
 * unless status is 0. Returns 0 (cb runs later) or an error (cb never runs). */
typedef void (*gn__view_json_cb)(void *arg, int status, json_t *groups);
/* strict: a lag row's end offset comes from the partition's leader or the view fails
 * (ends.c); otherwise a leader that cannot be asked leaves this broker's value. */
int gn__group_view_local(gn_group_coordinator_t *coord, const char *group_id, bool strict,
                         gn__view_json_cb cb, void *arg);
/* The same at broker node (remote.c), strict. */
int gn__group_remote_view(gn_group_coordinator_t *coord, int32_t node, const char *group_id,
                          gn__view_json_cb cb, void *arg);
/* ends.c: fills the "high_watermark" and "lag" of every lag row of groups (the view's
 * JSON, taken) that another broker leads with that leader's high watermark, asked over
 * the internal RPC (call "ends"), one call per leader. cb gets groups (borrowed for the
 * call) or, when strict and a leader could not answer, GN_ETIMEOUT / GN_ENOTLEADER and
 * NULL. cb may run inside this call. */
void gn__group_ends_fill(gn_group_coordinator_t *coord, json_t *groups, bool strict,
                         gn__view_json_cb cb, void *arg);
/* Asks broker node for the high watermarks of partitions ([[topic, partition], ...],
 * borrowed); cb gets the answer's "ends" (remote.c). */
int gn__group_remote_ends(gn_group_coordinator_t *coord, int32_t node, json_t *partitions,
                          int64_t timeout_ms, gn__view_json_cb cb, void *arg);
typedef struct gn_rpc_call gn_rpc_call_t; /* cluster/rpc.h */
/* Serves call "ends" (ends.c): answers {"ends": [{"end"} or {"error"} per partition]}. */
void gn__group_serve_ends(gn_broker_t *broker, gn_rpc_call_t *call, const json_t *req);
/* lag.c: end - committed, 0 when the commit is past the end, -1 when either is unknown. */
int64_t gn__group_lag_of(int64_t committed, int64_t end);
/* Where group_id is coordinated: 0 here, 1 on broker *node, or GN_ECOORDINATOR_LOADING
 * (here, not loaded yet) / GN_ECOORDINATOR_NOT_AVAILABLE (no leader, no metadata lease). */
int gn__group_route(gn_group_coordinator_t *coord, const char *group_id, int32_t *node);
/* Coordinator closing: the RPC clients go; their pending calls complete with GN_ESHUTDOWN
 * on the deferred queue. */
void gn__group_remote_close(gn_group_coordinator_t *coord);

/* An owner of many small allocations freed at once: the snapshots handed to
 * callbacks (codec.c). Each allocation is zeroed; err is sticky. */
typedef struct gn__arena {
    void *head;
    int err;
} gn__arena_t;
void *gn__arena_alloc(gn__arena_t *a, size_t n);
char *gn__arena_strdup(gn__arena_t *a, const char *s);                  /* NULL -> NULL */
gn_bytes_t gn__arena_bytes(gn__arena_t *a, const uint8_t *p, size_t n); /* copy */
void gn__arena_free(gn__arena_t *a);

/* small helpers */
char *gn__group_strdup(const char *s); /* NULL -> NULL */
uint64_t gn__group_now(gn_group_coordinator_t *coord);

#endif
