/* SPDX-License-Identifier: Apache-2.0 */
/* Topics: create, list, describe, delete, add partitions, alter configs; per-topic
 * configs with Kafka's names and defaults; Kafka's topic-name rules and murmur2
 * partitioner. Topic metadata sits behind one store (core/topic/metastore.c) that
 * the cluster work moves onto the Raft metadata log. Loop thread only. */
#ifndef GANGLION_TOPIC_H
#define GANGLION_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

typedef struct gn_broker gn_broker_t;

#define GN_TOPIC_NAME_MAX       249
#define GN_TOPIC_PARTITIONS_MAX 100000 /* per topic: a create cannot make a million dirs */

typedef enum gn_timestamp_type {
    GN_TIMESTAMP_CREATE_TIME = 0,
    GN_TIMESTAMP_LOG_APPEND_TIME = 1,
} gn_timestamp_type_t;

/* cleanup.policy bits */
#define GN_CLEANUP_DELETE  1
#define GN_CLEANUP_COMPACT 2

/* Kafka's topic-level configs (names in gn_topic_config_keys). Values are the
 * effective ones: broker defaults overlaid with the topic's overrides. */
typedef struct gn_topic_config {
    int64_t retention_ms;             /* retention.ms, -1 = forever */
    int64_t retention_bytes;          /* retention.bytes, -1 = unlimited (per partition) */
    int64_t segment_bytes;            /* segment.bytes */
    int64_t segment_ms;               /* segment.ms */
    int64_t segment_index_bytes;      /* segment.index.bytes */
    int32_t index_interval_bytes;     /* index.interval.bytes */
    int32_t max_message_bytes;        /* max.message.bytes: largest batch accepted */
    int32_t cleanup_policy;           /* cleanup.policy: GN_CLEANUP_* bits */
    int64_t delete_retention_ms;      /* delete.retention.ms: tombstone lifetime */
    int64_t min_compaction_lag_ms;    /* min.compaction.lag.ms */
    int64_t max_compaction_lag_ms;    /* max.compaction.lag.ms */
    double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio */
    int64_t file_delete_delay_ms;     /* file.delete.delay.ms */
    int64_t flush_messages;           /* flush.messages (used by flush=interval) */
    int64_t flush_ms;                 /* flush.ms (used by flush=interval) */
    int32_t min_insync_replicas;      /* min.insync.replicas */
    int32_t timestamp_type;           /* message.timestamp.type: gn_timestamp_type_t */
    int64_t timestamp_before_max_ms;  /* message.timestamp.before.max.ms */
    int64_t timestamp_after_max_ms;   /* message.timestamp.after.max.ms */
    char compression_type[16];        /* compression.type: producer|uncompressed|gzip|... */
    bool unclean_leader_election;     /* unclean.leader.election.enable */
    bool preallocate;                 /* preallocate */
} gn_topic_config_t;

/* One row of the topic-config table: drives parsing, DescribeConfigs and docs. */
typedef struct gn_topic_config_key {
    const char *name;
    const char *type; /* "long", "int", "double", "boolean", "string", "list" */
    const char *default_value;
    const char *doc;
} gn_topic_config_key_t;

const gn_topic_config_key_t *gn_topic_config_keys(size_t *count);
/* Kafka's defaults. */
void gn_topic_config_defaults(gn_topic_config_t *cfg);
/* Set one key from its string form; GN_EINVALID_CONFIG for an unknown key or a
 * value out of range (Kafka's validators). */
int gn_topic_config_set(gn_topic_config_t *cfg, const char *name, const char *value);
/* Render one key's value; returns bytes written or GN_EINVALID_CONFIG. */
int gn_topic_config_get(const gn_topic_config_t *cfg, const char *name, char *buf, size_t cap);

typedef struct gn_config_entry {
    const char *name;
    const char *value; /* NULL = delete the override (back to default) */
} gn_config_entry_t;

/* 0 if name follows Kafka's rules ([a-zA-Z0-9._-], 1..249 chars, not "." or ".."),
 * else GN_EINVALID_TOPIC. */
int gn_topic_name_validate(const char *name, size_t len);

/* 0 if clients (Kafka, REST, WebSocket, MQTT) may create topic name, append to it or
 * delete its records, else GN_EINVALID_TOPIC with a log line: an internal topic ("__"
 * prefix: __consumer_offsets, __mqtt_sessions, ...) holds the broker's own state and only
 * the broker makes and writes it, as Kafka refuses client appends and DeleteRecords on its
 * internal topics. Reading them is allowed; gn_topic_delete and gn_topic_add_partitions
 * refuse them for everyone. what names the change for the log line ("produce", ...). */
int gn_topic_client_may_write(const char *name, const char *what);
/* Whether name is an internal topic's ("__" prefix), without a log line. */
bool gn_topic_name_internal(const char *name);
/* Kafka's warning case: names that collide once '.' and '_' are treated as equal. */
bool gn_topic_name_collides(const char *a, const char *b);

typedef struct gn_topic_info {
    const char *name;
    uint8_t id[16]; /* topic id (UUID v4) */
    int32_t partitions;
    int16_t replication_factor;
    bool internal;                      /* name starts with "__" */
    const gn_topic_config_t *config;    /* effective */
    const gn_config_entry_t *overrides; /* the topic's own settings */
    size_t overrides_count;
} gn_topic_info_t;

/* Completion of an admin change, on the loop thread, never before the call
 * returns. Called only when the call itself returned 0. */
typedef void (*gn_admin_cb)(void *arg, int status);

/* replication_factor -1 and partitions -1 take the broker defaults. */
int gn_topic_create(gn_broker_t *broker, const char *name, int32_t partitions,
                    int16_t replication_factor, const gn_config_entry_t *configs,
                    size_t configs_count, bool validate_only, gn_admin_cb cb, void *arg);
int gn_topic_delete(gn_broker_t *broker, const char *name, gn_admin_cb cb, void *arg);
int gn_topic_add_partitions(gn_broker_t *broker, const char *name, int32_t total,
                            bool validate_only, gn_admin_cb cb, void *arg);

typedef enum gn_alter_op {
    GN_ALTER_SET = 0,
    GN_ALTER_DELETE = 1,
    GN_ALTER_APPEND = 2,
    GN_ALTER_SUBTRACT = 3,
} gn_alter_op_t;
/* replace_all: AlterConfigs semantics (overrides not listed are removed);
 * otherwise IncrementalAlterConfigs with ops[i] per entry. */
int gn_topic_alter_configs(gn_broker_t *broker, const char *name, const gn_config_entry_t *entries,
                           const gn_alter_op_t *ops, size_t count, bool replace_all,
                           bool validate_only, gn_admin_cb cb, void *arg);

/* 0 and *info filled (borrowed until the next topic change), or GN_EUNKNOWN_TOPIC. */
int gn_topic_describe(gn_broker_t *broker, const char *name, gn_topic_info_t *info);
typedef void (*gn_topic_each_cb)(void *arg, const gn_topic_info_t *info);
size_t gn_topic_list(gn_broker_t *broker, gn_topic_each_cb each, void *arg);

/* Kafka's murmur2 (the Java client's and librdkafka's "murmur2" partitioner). */
uint32_t gn_murmur2(const void *key, size_t len);
/* (murmur2(key) & 0x7fffffff) % partitions, as Kafka clients pick. */
int32_t gn_partition_for_key(gn_bytes_t key, int32_t partitions);

#endif
