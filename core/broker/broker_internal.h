/* SPDX-License-Identifier: Apache-2.0 */
/* The gn_broker_t itself, shared by core/broker and core/topic: the topic registry,
 * the metadata store, timers, the deferred-completion queue and the recovery
 * information read at open. Loop thread only. */
#ifndef GN_CORE_BROKER_INTERNAL_H
#define GN_CORE_BROKER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "broker/checkpoint.h"
#include "log/log.h"
#include "ganglion/broker.h"
#include "ganglion/partition.h"
#include "topic/metastore.h"

typedef struct gn_topic gn_topic_t;

/* A completion deferred to the loop (callbacks never run before their call returns).
 * Embedded in its owner; queued at most once. */
typedef struct gn__task gn__task_t;
struct gn__task {
    void (*run)(gn__task_t *task);
    gn__task_t *prev, *next;
    bool queued;
};

struct gn_broker {
    uv_loop_t *loop;
    gn_broker_config_t cfg;
    char data_dir[PATH_MAX];
    char cluster_id[32];
    gn_metastore_t *meta;
    struct gn_cluster *cluster;       /* core/cluster: the controller quorum and metadata image */
    struct gn_controller *controller; /* core/cluster: heartbeats, fencing, internal RPC */
    struct gn_replica_mgr *replicas;  /* core/replica: followers fetch, ISR, high watermark */
    struct gn_forwarder *forwarder;   /* core/replica: produce forwarded to other leaders */
    struct gn_remote_mgr *remote;     /* core/replica: reads of partitions held elsewhere */
    struct gn_acl *acl;               /* core/acl: the authorizer (bindings from the image) */

    gn_topic_t **topics; /* sorted by name (bsearch) */
    size_t ntopics, topics_cap;

    /* deferred completions, run from an idle handle */
    uv_idle_t idle;
    gn__task_t *task_head, *task_tail;
    size_t ntasks;

    uv_timer_t retention_timer, cleaner_timer, checkpoint_timer, flush_timer;
    int64_t checkpoint_interval_ms;
    int checkpoint_writing; /* checkpoint files on the thread pool */
    bool finishing;
    int compactions_inflight;

    /* read at open, used while opening logs */
    bool clean_shutdown;
    gn__checkpoint_t recovery_points, log_starts;
    int logs_recovering; /* logs opened without the clean-shutdown fast path */

    bool closing;
    int handles_open;
    int close_waits; /* metastore close and checkpoint writes still to finish */
    gn__checkpoint_t close_recovery, close_starts;
    gn_broker_closed_cb closed_cb;
    void *closed_arg;
    struct gn_group_coordinator *groups; /* core/group: made on first use, closed first */

    /* gn_broker_observe_appends (core/topic/partition.c) */
    struct {
        gn_append_observer_cb cb;
        void *arg;
    } append_observers[8];
    size_t nappend_observers;

    /* producer_id.c: ids [pid_next, pid_end) are ours, then the spare block; pid_request
     * is the nonce of the block request not applied yet (0: none) */
    int64_t pid_next, pid_end, pid_spare_first, pid_spare_end, pid_request, pid_floor;
    int pid_floor_rc; /* the pre-quorum file could not be read: no ids */
    bool pid_asking;
    gn__task_t pid_retry; /* a block asked for again after a failed first request */
};

/* producer_id.c: blocks of producer ids from the controller (asked for at open) */
void gn__producer_ids_open(gn_broker_t *broker);
void gn__producer_ids_close(gn_broker_t *broker);

void gn__defer(gn_broker_t *broker, gn__task_t *task);
void gn__defer_cancel(gn_broker_t *broker, gn__task_t *task);
/* Runs at most the tasks queued when called (tasks they queue wait a turn). */
void gn__defer_run(gn_broker_t *broker);

/* Recovery options for one partition's log, from the checkpoints read at open. */
void gn__broker_log_opts(gn_broker_t *broker, const char *topic, int32_t partition,
                         gn_log_open_opts_t *opts);

#endif
