/* SPDX-License-Identifier: Apache-2.0 */
/* Topics and partitions as the broker holds them: gn_topic_t (effective config,
 * overrides, partitions) and gn_partition (a gn_log_t plus watches and flush state).
 * Shared by core/topic and core/broker. Loop thread only. */
#ifndef GN_CORE_TOPIC_INTERNAL_H
#define GN_CORE_TOPIC_INTERNAL_H

#include "broker/broker_internal.h"
#include "ganglion/partition.h"
#include "ganglion/topic.h"
#include "log/log.h"
#include "topic/producer_state.h"

struct gn_topic {
    char *name;
    uint8_t id[16];
    int32_t partitions;
    int16_t replication_factor;
    bool internal;
    gn_topic_config_t config;     /* effective; the logs hold a pointer to it */
    gn_config_entry_t *overrides; /* owned strings */
    size_t noverrides;
    gn_partition_t **parts;
    bool creating; /* this broker's creation, not yet decided by the metadata log */
};

struct gn_partition {
    gn_broker_t *broker;
    gn_topic_t *topic;
    int32_t id;
    gn_log_t *log;
    gn_watch_t *watches;   /* armed watches, doubly linked */
    gn__task_t watch_task; /* fires watches on the loop after an append */
    int64_t observed_end;  /* offsets below it were reported to the append observers */
    bool wake_all;         /* the watch task runs every watch once (gn__partition_wake_watches) */
    int64_t unflushed;     /* records appended since the last sync (flush=interval) */
    int64_t last_flush_ms;
    bool compacting;
    gn__producer_state_t producers; /* idempotent producers (producer_state.c) */
    struct gn__replica *replica;    /* core/replica: NULL when not replicated */
    struct gn__remote *remote;      /* core/replica/remote_read.c: the copy fetched for local
                                     * readers when this broker holds no replica */
    uint64_t remote_gen;            /* image generation remote_here was computed at (0: never) */
    bool remote_here;               /* no replica here and another broker leads */
};

/* Registry (topic.c). */
gn_topic_t *gn__topic_find(gn_broker_t *broker, const char *name);
/* Adds a topic loaded from the metadata store and opens its logs with recovery info. */
int gn__topic_load(gn_broker_t *broker, const gn_topic_record_t *rec);
/* The registry following the metadata image (core/cluster/topic_sync.c), on every broker
 * in log order: topic removed (its files deleted), partitions [partitions, total) created,
 * overrides replaced (an invalid one dropped, loudly). */
void gn__topic_drop(gn_broker_t *broker, gn_topic_t *topic);
int gn__topic_grow(gn_broker_t *broker, gn_topic_t *topic, int32_t total);
int gn__topic_set_overrides(gn_broker_t *broker, gn_topic_t *topic, const gn_config_entry_t *o,
                            size_t n);
/* Closes every log and frees every topic (broker close); records offsets for the
 * checkpoints into broker->close_recovery / close_starts. */
void gn__topic_close_all(gn_broker_t *broker);
/* Effective config = broker defaults overlaid with overrides; GN_EINVALID_CONFIG. */
int gn__topic_effective_config(gn_broker_t *broker, const gn_config_entry_t *overrides, size_t n,
                               gn_topic_config_t *out);

/* Partitions (partition.c). */
int gn__partition_open(gn_broker_t *broker, gn_topic_t *topic, int32_t id, bool create,
                       gn_partition_t **out);
/* gn_produce on this broker's log: GN_ENOTLEADER when another broker leads the partition
 * (gn_produce forwards then; the forwarded request is served with this). */
int gn__produce_local(gn_partition_t *part, uint8_t *batches, size_t len, gn_acks_t acks,
                      gn_produce_cb cb, void *arg);
/* Fires watches with status, closes the log (deleting its files if del) and frees. */
void gn__partition_close(gn_partition_t *part, int status, bool del);
/* Syncs partitions whose flush.ms passed (flush=interval timer). */
void gn__partition_flush_due(gn_partition_t *part, int64_t now_ms);
/* Every armed watch of part runs once on the next loop turn, whatever its offset (a
 * remote copy learned `latest`, see gn_partition_latest). */
void gn__partition_wake_watches(gn_partition_t *part);

#endif
