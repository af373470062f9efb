/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka Connect inside the broker: the connector registry (connect.c), the config and
 * offset records (connect_config.c, connect_store.c), the two file connectors Apache
 * Kafka ships (connect_source.c, connect_sink.c) and Connect's REST API
 * (routes_connect.c). Shared by those files only. Loop thread only. */
#ifndef GN_HTTP_CONNECT_H
#define GN_HTTP_CONNECT_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/bytes.h"
#include "http.h"

#define CONNECT_MOD           "connect"
#define CONNECT_CONFIGS_TOPIC "__connect_configs"
#define CONNECT_OFFSETS_TOPIC "__connect_offsets"
#define CONNECT_TICK_MS       100
#define CONNECT_STOP_TICK_MS  10
#define CONNECT_STOP_WAIT_MS  5000
#define CONNECT_MAX           256         /* connectors per cluster */
#define CONNECT_NAME_MAX      200         /* the group connect-<name> stays a valid id */
#define CONNECT_READ_BYTES    (64u << 10) /* a source reads at most this per turn */
#define CONNECT_SINK_BYTES    (1u << 20)  /* a sink writes at most this per turn */
#define CONNECT_MAX_TOPICS    32          /* topics of one sink */
#define CONNECT_MAX_PARTS     256         /* partitions one sink follows */
#define CONNECT_DEFAULT_BATCH 2000        /* FileStreamSource's batch.size */
#define CONNECT_VERSION       "3.7.0"     /* the Connect release whose API we follow */

typedef enum connect_type { CONNECT_SOURCE = 0, CONNECT_SINK } connect_type_t;

/* A checked connector config (connect_config.c). */
typedef struct connect_spec {
    connect_type_t type;
    char path[PATH_MAX];                  /* the file, resolved inside the allowed directory */
    char topic[256];                      /* source */
    char topics[CONNECT_MAX_TOPICS][256]; /* sink */
    size_t ntopics;
    int batch_size;
} connect_spec_t;

/* One record of __connect_configs, decoded (connect_config.c). */
typedef enum connect_rec_kind {
    CONNECT_REC_CONNECTOR = 0, /* key connector-<name>: {"properties": {...}}, null: deleted */
    CONNECT_REC_TARGET_STATE,  /* key target-state-<name>: {"state": "STARTED"|"PAUSED"} */
} connect_rec_kind_t;

typedef struct connect_rec {
    connect_rec_kind_t kind;
    char name[CONNECT_NAME_MAX + 1];
    json_t *config; /* CONNECTOR: the string map (owned), NULL for a tombstone */
    bool paused;    /* TARGET_STATE */
    bool tombstone;
} connect_rec_t;

/* Decodes one record; 0, or GN_EINVAL for a record that is not ours (skipped with a log
 * line). rec->config must be json_decref'd. Pure; fuzzed (tests/fuzz/fuzz_connect_record.c). */
int connect_rec_decode(gn_bytes_t key, gn_bytes_t value, connect_rec_t *rec);
/* A REST body's config object as Connect's string map: strings kept, numbers and
 * booleans written as strings; NULL (and err) when a value is an object, array or null. */
json_t *connect_config_strings(json_t *obj, char *err, size_t errlen);
/* Checks a string map for connector `name` with files inside dir ("" = files refused).
 * 0 and *spec, or -1 with Connect's sentence in err. Pure but for realpath(). */
int connect_config_check(const json_t *config, const char *name, const char *dir,
                         connect_spec_t *spec, char *err, size_t errlen);
bool connect_name_valid(const char *name);
/* The canonical class name for connector.class (short names accepted), or NULL. */
const char *connect_class_name(const char *cls, connect_type_t *type);

typedef enum connect_state {
    CONNECT_UNASSIGNED = 0, /* runs on another broker */
    CONNECT_RUNNING,
    CONNECT_PAUSED,
    CONNECT_FAILED,
} connect_state_t;

const char *connect_state_name(connect_state_t s);

typedef struct connector connector_t;
struct connector {
    struct connect_registry *reg; /* NULL once deleted (freed when no operation is out) */
    connector_t *next;
    char name[CONNECT_NAME_MAX + 1];
    json_t *config; /* the string map */
    connect_spec_t spec;
    bool paused; /* the target state */
    connect_state_t state;
    char trace[512]; /* FAILED: why */
    bool busy;       /* one file or log operation at a time */
    uint32_t epoch;  /* bumped by restart and reconfigure: late answers are dropped */
    uint32_t op_epoch;
    uv_fs_t fs;
    int fd;
    int stale_fd; /* closed when the operation in flight ends */
    /* source */
    int64_t position; /* byte offset of the next unsent line; -1: not looked up */
    int64_t sending;  /* position once the batch in flight is acknowledged */
    uint8_t *buf;     /* CONNECT_READ_BYTES */
    /* sink */
    bool offsets_loaded;
    bool commit_due; /* the last commit failed: commit again */
    uint8_t *out;    /* lines to write, grown up to CONNECT_SINK_BYTES + one record */
    size_t out_len, out_cap;
    struct connect_part {
        char topic[256];
        int32_t partition;
        int64_t position; /* next offset to write; -1: from the log start */
        int64_t next;     /* position after the write in flight */
    } parts[CONNECT_MAX_PARTS];
    size_t nparts;
};

typedef struct connect_registry {
    http_server_t *srv;
    connector_t *list;
    size_t count;
    char dir[PATH_MAX];   /* files allowed under here; "" = none */
    int64_t configs_next; /* next offset of __connect_configs to apply */
    json_t *offsets;      /* __connect_offsets as loaded: key text -> position */
    uv_timer_t tick;
    bool tick_open;
    bool runs_here; /* this broker leads __connect_configs partition 0 */
    bool stopping;  /* no new step; waits for operations out (≤ CONNECT_STOP_WAIT_MS) */
    unsigned stop_ticks;
} connect_registry_t;

/* connect.c */
connector_t *connect_find(connect_registry_t *reg, const char *name);
/* Applies every record of __connect_configs not yet applied. */
void connect_catch_up(connect_registry_t *reg);
/* Stops the running task and starts it again from its stored position. */
void connect_restart(connector_t *c);
void connect_fail(connector_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An operation finished: false when the connector was deleted or restarted meanwhile
 * (then it is freed or its task reset, and the answer must be dropped). */
bool connect_op_done(connector_t *c);
void connect_op_begin(connector_t *c);

/* connect_store.c: the records of __connect_configs and __connect_offsets */
typedef void (*connect_written_cb)(void *arg, int status);
/* Appends records (keys[i], values[i]; a NULL value is a tombstone) to partition 0 of
 * topic, creating it compacted on first use; acks=all. cb only when 0 is returned. */
int connect_store_write(gn_broker_t *broker, const char *topic, const char *const *keys,
                        const char *const *values, size_t n, connect_written_cb cb, void *arg);
/* Connect's source offset key: ["<name>",{"filename":"<path>"}] (malloc'd). */
char *connect_offset_key(const char *name, const char *path);

/* connect_source.c, connect_sink.c: one step of a running task (not busy) */
void connect_source_step(connector_t *c);
void connect_sink_step(connector_t *c);
/* Opens a file of a connector with O_NOFOLLOW after checking that its directory still
 * resolves inside the allowed one; fd or -errno. */
int connect_open(connector_t *c, int flags);

/* routes_connect.c */
json_t *connect_info_json(const connector_t *c);

#endif
