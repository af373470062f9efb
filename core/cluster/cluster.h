/* SPDX-License-Identifier: Apache-2.0 */
/* The controller quorum and the metadata image (core/cluster): libraft over the broker's
 * libuv loop holds the cluster metadata log; every broker applies committed records
 * (JSON objects, see README.md) to its in-memory image. Loop thread only. */
#ifndef GN_CORE_CLUSTER_CLUSTER_H
#define GN_CORE_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include <jansson.h>

#include "topic/metastore.h"

#define GN_CLUSTER_VOTERS_MAX 16
/* Raft's election timeout with several voters (libraft randomises it to 1-2x) */
#define GN_CLUSTER_ELECTION_TIMEOUT_MS 500

typedef struct gn_cluster gn_cluster_t;

typedef struct gn_cluster_voter {
    int32_t id;
    char address[64]; /* host:port of its raft transport */
} gn_cluster_voter_t;

typedef struct gn_cluster_opts {
    int32_t node_id;
    const char *data_dir;     /* the broker's; raft lives in DATA/__cluster_metadata/raft */
    const char *voters;       /* "1@host:port,2@host:port"; NULL/"" = this node alone */
    int64_t ready_timeout_ms; /* open waits this long for a leader (0: 30000) */
    struct gn_tls_ctx *tls;   /* cluster.tls.*: Raft over TLS (raft_tls.c); NULL plain TCP */
} gn_cluster_opts_t;

/* "1@127.0.0.1:9093,2@h:p": 0 and *n, or GN_EINVALID_CONFIG with a logged reason. */
int gn__cluster_parse_voters(const char *s, gn_cluster_voter_t *out, size_t cap, size_t *n);

/* Opens the quorum: bootstraps the voters' configuration in a new directory, starts raft
 * on loop, then runs the loop until the image has caught up with the log (a leader is
 * known and everything logged before the start is applied), bounded by the timeout. */
int gn__cluster_open(uv_loop_t *loop, const gn_cluster_opts_t *opts, gn_cluster_t **out);
typedef void (*gn_cluster_closed_cb)(void *arg);
/* Pending proposals complete with GN_ESHUTDOWN; cb runs once raft's handles are closed. */
void gn__cluster_close(gn_cluster_t *cl, gn_cluster_closed_cb cb, void *arg);

/* status 0 once committed and applied to the image, or a negative error. */
typedef void (*gn_cluster_propose_cb)(void *arg, int status);
/* Appends one record (borrowed; serialized at once) to the metadata log. GN_ENOTLEADER
 * when this node is not the controller leader; cb never runs when this fails. */
int gn__cluster_propose(gn_cluster_t *cl, const json_t *record, gn_cluster_propose_cb cb,
                        void *arg);

/* A follower's proposals go to the forwarder (core/cluster/controller.c), which sends them
 * to the leader and completes them with gn__cluster_after_applied. */
typedef int (*gn_cluster_forward_fn)(void *arg, const json_t *record, gn_cluster_propose_cb cb,
                                     void *cb_arg);
void gn__cluster_set_forwarder(gn_cluster_t *cl, gn_cluster_forward_fn fn, void *arg);
/* cb(arg, status) once this broker applied the log up to index (at once if it has, or
 * when status < 0 without an index: nothing was applied). */
void gn__cluster_after_applied(gn_cluster_t *cl, uint64_t index, int status,
                               gn_cluster_propose_cb cb, void *arg);
uint64_t gn__cluster_applied_index(gn_cluster_t *cl);

/* Called after every applied record (on every broker), with the record (borrowed). */
typedef void (*gn_cluster_apply_cb)(void *arg, const json_t *record);
void gn__cluster_on_apply(gn_cluster_t *cl, gn_cluster_apply_cb cb, void *arg);
void gn__cluster_off_apply(gn_cluster_t *cl, gn_cluster_apply_cb cb, void *arg);

bool gn__cluster_is_leader(gn_cluster_t *cl);
/* The Raft leader hands its leadership to the most up-to-date other voter (libraft's
 * raft_transfer: TimeoutNow, no election timeout to wait); watch gn__cluster_is_leader.
 * 0 started (or already), GN_ENOTLEADER when not the leader or alone, GN_EIO. */
int gn__cluster_transfer_leadership(gn_cluster_t *cl);
size_t gn__cluster_voter_count(gn_cluster_t *cl);
int32_t gn__cluster_leader_id(gn_cluster_t *cl); /* -1 when unknown */
int32_t gn__cluster_node_id(gn_cluster_t *cl);
/* The image: {"brokers": {id: {...}}, "topics": {name: {...}}, "next_producer_id": n}.
 * Borrowed; changes only when a record applies. */
const json_t *gn__cluster_image(gn_cluster_t *cl);

/* ---- image.c ---- */
json_t *gn__image_new(void);
/* Applies one record; 0, GN_EINVAL for a malformed record, or the client's error for a
 * change whose precondition no longer holds (GN_ETOPIC_EXISTS, GN_EUNKNOWN_TOPIC,
 * GN_EINVALID_PARTITIONS, GN_EINVALID_TOPIC). A refused record changes nothing. */
int gn__image_apply(json_t *image, const json_t *record);
/* One of those refusals (a decision of the log, not a failure to reach it). */
bool gn__image_refusal(int status);

/* ---- topic_sync.c: this broker's topic registry follows the image ---- */
/* Makes the registry's topic `name` what the image says (opened, grown, configs set,
 * dropped, or replaced by another incarnation); a creation of this broker still in flight
 * is kept until the image decides it. After every topic record applied, and when this
 * broker's own creation completes. */
void gn__topic_sync(gn_broker_t *broker, const char *name);

/* ---- metastore.c: the topic-metadata store on the quorum ---- */
/* topics.json from before the quorum (if any and the image has no topics) is proposed
 * once and renamed topics.json.migrated. */
int gn__metastore_raft_open(gn_cluster_t *cl, uv_loop_t *loop, const char *data_dir,
                            gn_metastore_t **out);
/* A "topic" record for rec with its replica assignment (taken). */
json_t *gn__cluster_topic_record(const gn_topic_record_t *rec, json_t *replicas);
/* An image topic as a record; *entries (free it) backs rec->configs. */
int gn__cluster_topic_from_image(const char *name, const json_t *t, gn_topic_record_t *rec,
                                 gn_config_entry_t **entries);

#endif
