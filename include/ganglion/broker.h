/* SPDX-License-Identifier: Apache-2.0 */
/* The broker: one gn_broker_t owns every topic, partition and log, and runs on
 * one libuv loop (no globals). Opened by the gateway, used by the adapters. */
#ifndef GANGLION_BROKER_H
#define GANGLION_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "topic.h"

typedef struct gn_broker gn_broker_t;

/* When the leader fsyncs (DESIGN.md, Storage). */
typedef enum gn_flush_policy {
    GN_FLUSH_ON_ACK_ALL = 0, /* fsync before answering acks=all (group commit) */
    GN_FLUSH_ALWAYS = 1,     /* fsync before answering any produce */
    GN_FLUSH_INTERVAL = 2,   /* fsync every flush.ms / flush.messages */
    GN_FLUSH_OS = 3,         /* never fsync; the OS writes back */
} gn_flush_policy_t;

int gn_flush_policy_parse(const char *s, gn_flush_policy_t *out);
const char *gn_flush_policy_name(gn_flush_policy_t p);

/* The consumer-group coordinator's broker configs, in Kafka's names and units; core/group
 * turns them into its gn_group_config_t. All zero (as gn_broker_config_defaults leaves
 * them) means Kafka's defaults for every one; set offsets_topic_num_partitions (>= 1) to
 * give them all. */
typedef struct gn_broker_group_config {
    int32_t offsets_topic_num_partitions;        /* offsets.topic.num.partitions (50) */
    int16_t offsets_topic_replication_factor;    /* offsets.topic.replication.factor (-1) */
    int32_t offsets_topic_segment_bytes;         /* offsets.topic.segment.bytes (104857600) */
    int32_t offsets_retention_minutes;           /* offsets.retention.minutes (10080) */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms */
    int32_t offset_metadata_max_bytes;           /* offset.metadata.max.bytes (4096) */
    int32_t group_min_session_timeout_ms;        /* group.min.session.timeout.ms (6000) */
    int32_t group_max_session_timeout_ms;        /* group.max.session.timeout.ms (1800000) */
    int32_t group_initial_rebalance_delay_ms;    /* group.initial.rebalance.delay.ms (3000) */
    int32_t group_max_size;                      /* group.max.size (2147483647) */
} gn_broker_group_config_t;

typedef struct gn_broker_config {
    int32_t node_id;
    const char *data_dir; /* borrowed for the broker's lifetime */
    gn_flush_policy_t flush;
    int32_t num_partitions;              /* num.partitions: default for new topics */
    int16_t default_replication_factor;  /* default.replication.factor */
    bool auto_create_topics;             /* auto.create.topics.enable */
    int64_t retention_check_interval_ms; /* log.retention.check.interval.ms */
    int64_t cleaner_backoff_ms;          /* log.cleaner.backoff.ms */
    gn_topic_config_t topic_defaults;    /* log.* broker defaults for topic configs */
    gn_broker_group_config_t groups;     /* group.* and offsets.* (all zero: defaults) */
    /* controller.quorum.voters "id@host:port,...": the Raft voters holding the cluster
     * metadata (core/cluster). NULL or "": this node alone, a quorum of one. Borrowed. */
    const char *quorum_voters;
    /* cluster.listener host:port of the internal RPC (heartbeats, forwarded metadata
     * changes, replica fetches); NULL or "": none (a quorum of one needs none). Borrowed. */
    const char *cluster_listener;
    /* cluster.tls.*: the context (core/tls, made with peers) the internal RPC and Raft
     * run TLS with, both ends verifying the other's certificate; NULL: plain TCP.
     * Borrowed for the broker's lifetime (the gateway makes and frees it). */
    struct gn_tls_ctx *cluster_tls;
    const char *advertised_host; /* this broker's Kafka listener as other brokers announce it */
    int32_t advertised_port;
    int32_t advertised_tls_port;            /* its Kafka TLS listener on the same host; 0: none */
    int64_t broker_session_timeout_ms;      /* broker.session.timeout.ms (3000): then fenced */
    int64_t broker_heartbeat_interval_ms;   /* broker.heartbeat.interval.ms (500) */
    int64_t replica_lag_time_max_ms;        /* replica.lag.time.max.ms (30000): then out of ISR */
    int64_t controlled_shutdown_timeout_ms; /* controlled.shutdown.timeout.ms (5000) */
    /* Authorization (core/acl, acl.h): authorizer.enabled (false: everything allowed),
     * super.users "User:a;User:b" (borrowed; NULL or "": none), and
     * allow.everyone.if.no.acl.found (true, as Kafka's default). */
    bool authorizer_enabled;
    const char *super_users;
    bool allow_everyone_if_no_acl_found;
} gn_broker_config_t;

void gn_broker_config_defaults(gn_broker_config_t *cfg);

/* Opens (creating if needed) the data directory, loads topics, recovers logs
 * (no scan after a clean shutdown), starts retention and compaction timers. */
int gn_broker_open(uv_loop_t *loop, const gn_broker_config_t *cfg, gn_broker_t **out);

/* Controlled shutdown, before gn_broker_close: in a cluster, hands this broker's
 * partition leaderships (and the controller role) to other in-sync brokers and waits for
 * that, at most controlled.shutdown.timeout.ms, while the listeners still answer (clients
 * are told NOT_LEADER_OR_FOLLOWER and move). cb runs on the loop; at once on a single
 * node or without another live broker. */
typedef void (*gn_broker_drained_cb)(void *arg);
void gn_broker_drain(gn_broker_t *broker, gn_broker_drained_cb cb, void *arg);

/* Stops timers, waits for fsyncs in flight, flushes every log, writes the
 * checkpoints and the clean-shutdown marker, frees everything; cb (may be NULL)
 * runs on the loop when done. Handles are closed, so the loop can then end. */
typedef void (*gn_broker_closed_cb)(void *arg);
void gn_broker_close(gn_broker_t *broker, gn_broker_closed_cb cb, void *arg);

uv_loop_t *gn_broker_loop(gn_broker_t *broker);
/* The cluster id from meta.properties (a Kafka Uuid, 22 base64 characters); valid for
 * the broker's lifetime. Metadata and DescribeCluster report it. */
const char *gn_broker_cluster_id(const gn_broker_t *broker);
/* A fresh producer id for an idempotent producer (InitProducerId), from blocks of 1000
 * the controller hands out in the metadata log, so no id is given twice, by two brokers
 * or across restarts (the unused rest of a block is skipped, as Kafka's
 * ProducerIdManager does). 0, GN_ECOORDINATOR_LOADING while no block has arrived yet
 * (the client retries), GN_ECORRUPT (the pre-quorum DATA/producer-id-block is damaged:
 * refused rather than risk reuse) or -errno. */
int gn_broker_next_producer_id(gn_broker_t *broker, int64_t *id);
const gn_broker_config_t *gn_broker_config(gn_broker_t *broker);
int64_t gn_now_ms(void); /* wall clock, milliseconds since the epoch */

#endif
