/* SPDX-License-Identifier: Apache-2.0 */
/* Stream processors inside the broker (docs/streams.md): the definition parser
 * (streams_def.c), the stateless steps over one JSON record (streams_pipeline.c), the
 * windowed count/sum state and its changelog (streams_state.c), the registry applied from
 * __streams_configs (streams.c), one running processor's read-process-append-commit cycle
 * (streams_task.c), its authorization (streams_authz.c) and the REST API
 * (routes_streams.c). Beside Connect, on the HTTP adapter's loop, for the same reasons
 * (its REST API is on this port; it uses only include/ganglion). Shared by those files
 * only. Loop thread only. */
#ifndef GN_HTTP_STREAMS_H
#define GN_HTTP_STREAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/bytes.h"
#include "http.h"

#define STREAMS_MOD           "streams"
#define STREAMS_CONFIGS_TOPIC "__streams_configs"
#define STREAMS_TICK_MS       100
#define STREAMS_STOP_TICK_MS  10
#define STREAMS_STOP_WAIT_MS  5000
#define STREAMS_MAX           256 /* processors per cluster */
#define STREAMS_NAME_MAX      200 /* group streams-<name>, topic __streams_<name>_state */
#define STREAMS_MAX_STEPS     16
#define STREAMS_MAX_PARTS     256          /* source and sink partitions */
#define STREAMS_READ_BYTES    (256u << 10) /* read from the source per cycle */
#define STREAMS_STATE_MAX     100000       /* (key, window) aggregates kept */
#define STREAMS_FIELD_MAX     255
#define STREAMS_GRACE_DEFAULT (24LL * 3600 * 1000) /* as Kafka Streams' TimeWindows.of */
#define STREAMS_LATE_LOG_MS   10000                /* one late-records line per processor */

/* ---- the definition (streams_def.c) --------------------------------------------- */

typedef enum streams_step_kind { STEP_FILTER = 0, STEP_MAP, STEP_REKEY } streams_step_kind_t;
typedef enum streams_op { OP_EQ = 0, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_EXISTS } streams_op_t;
typedef enum streams_agg { AGG_NONE = 0, AGG_COUNT, AGG_SUM } streams_agg_t;

typedef struct streams_step {
    streams_step_kind_t kind;
    char field[STREAMS_FIELD_MAX + 1]; /* filter, rekey */
    streams_op_t op;                   /* filter */
    json_t *value;                     /* filter: borrowed from the definition */
    json_t *keep, *rename, *set;       /* map: borrowed; each may be NULL */
} streams_step_t;

typedef struct streams_def {
    char name[STREAMS_NAME_MAX + 1];
    char source[256], sink[256], dead_letter[256]; /* dead_letter "" = none */
    streams_step_t steps[STREAMS_MAX_STEPS];
    size_t nsteps;
    streams_agg_t agg; /* the last step, if any */
    char agg_field[STREAMS_FIELD_MAX + 1];
    int64_t window_ms;
    int64_t grace_ms; /* a window closes once stream time reaches its end + grace_ms */
} streams_def_t;

bool streams_name_valid(const char *name);
/* Checks a definition object; 0 and *def (borrowing from doc, which must outlive it), or
 * -1 with a sentence in err. Pure; fuzzed (tests/fuzz/fuzz_streams_def.c). */
int streams_def_parse(const json_t *doc, streams_def_t *def, char *err, size_t errlen);

/* ---- one record through the stateless steps (streams_pipeline.c) ----------------- */

typedef struct streams_rec {
    json_t *value; /* owned */
    char *key;     /* owned; NULL = null key */
    size_t key_len;
} streams_rec_t;

/* Runs def's filter/map/rekey steps on rec in place; true if it passes every filter. */
bool streams_pipeline_run(const streams_def_t *def, streams_rec_t *rec);

/* ---- windowed aggregates (streams_state.c) ------------------------------------- */

typedef struct streams_state {
    json_t *aggs;        /* state key text -> {"count":N,"sum":S}: the open windows' */
    json_t *windows;     /* "<window start>" -> {state key text: true, ...} */
    json_t *dirty;       /* keys changed since the last changelog write; null: closed */
    json_t *offsets;     /* "<partition>" -> next source offset the aggregates include */
    int64_t stream_time; /* the largest timestamp aggregated; -1: none yet */
} streams_state_t;

void streams_state_init(streams_state_t *st);
void streams_state_clear(streams_state_t *st);
/* The changelog topic's name: __streams_<name>_state. */
void streams_state_topic(const char *name, char *out, size_t cap);
/* Reads the whole changelog into st (synchronous, partition 0). 0 or an error. */
int streams_state_restore(gn_broker_t *broker, const char *name, streams_state_t *st);
/* Whether the window starting at start is closed at stream time now: now has reached its
 * end + def->grace_ms (never when that overflows). Pure. */
bool streams_window_closed(const streams_def_t *def, int64_t start, int64_t now);
typedef enum streams_update {
    STREAMS_UPDATED = 0, /* *out: the aggregate's new value, the output record's (owned) */
    STREAMS_LATE,        /* the record's window is closed: dropped */
    STREAMS_REJECTED,    /* the record cannot count: *why */
} streams_update_t;
/* Adds rec (timestamp ts) to its (key, window) aggregate after advancing stream time. */
streams_update_t streams_state_update(streams_state_t *st, const streams_def_t *def,
                                      const streams_rec_t *rec, int64_t ts, json_t **out,
                                      const char **why);
/* Drops the aggregates of the windows closed at the current stream time, each marked
 * dirty as a tombstone for the changelog; the number dropped. */
size_t streams_state_expire(streams_state_t *st, const streams_def_t *def);
/* Appends the dirty aggregates (tombstones for the closed ones), the offsets and the
 * stream time as one batch to the changelog (acks=all);
 * cb only when 0 is returned. */
typedef void (*streams_written_cb)(void *arg, int status);
int streams_state_write(gn_broker_t *broker, const char *name, streams_state_t *st,
                        streams_written_cb cb, void *arg);

/* ---- the registry (streams.c) and a running processor (streams_task.c) ---------- */

typedef enum streams_run_state {
    STREAMS_UNASSIGNED = 0, /* runs on another broker */
    STREAMS_RUNNING,
    STREAMS_PAUSED,
    STREAMS_FAILED,
} streams_run_state_t;

const char *streams_state_name(streams_run_state_t s);

typedef struct stream stream_t;
struct stream {
    struct streams_registry *reg; /* NULL once deleted (freed when no operation is out) */
    stream_t *next;
    json_t *doc; /* the definition as stored */
    streams_def_t def;
    bool paused;
    streams_run_state_t state;
    char trace[512];
    bool busy; /* one append, changelog write or commit at a time */
    uint32_t epoch, op_epoch;
    /* the task */
    bool loaded; /* positions (and state) read */
    bool commit_due;
    streams_state_t st;
    struct stream_part {
        int32_t partition;
        int64_t position; /* next source offset to process; -1: from the log start */
        int64_t next;     /* position after the cycle in flight */
    } parts[STREAMS_MAX_PARTS];
    size_t nparts;
    unsigned pending; /* appends of the cycle still out */
    int cycle_status;
    /* counters since the processor started here */
    uint64_t records_in, records_out, skipped, dead_lettered, dropped_late;
    uint64_t late_unlogged; /* late records since the last log line about them */
    int64_t late_logged_ms; /* when that line was written */
    /* authorization (streams_authz.c): as of which ACL generation */
    bool authorized, denied;
    uint64_t authorized_gen, denied_gen;
};

typedef struct streams_registry {
    http_server_t *srv;
    stream_t *list;
    size_t count;
    int64_t configs_next;
    uv_timer_t tick;
    bool tick_open;
    bool runs_here;
    bool stopping;
    unsigned stop_ticks;
} streams_registry_t;

stream_t *streams_find(streams_registry_t *reg, const char *name);
void streams_catch_up(streams_registry_t *reg);
void streams_fail(stream_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void streams_task_reset(stream_t *s);
void streams_op_begin(stream_t *s);
/* false when the stream was deleted or reset meanwhile: drop the answer. */
bool streams_op_done(stream_t *s);

/* streams_authz.c: the processor as principal User:streams-<name> */
void streams_principal(const stream_t *s, char *out, size_t cap);
/* Whether the processor may run: READ source and group, WRITE sink and dead-letter
 * topics, READ and WRITE changelog; checked again when the bindings changed. A refusal
 * fails it (reason in the trace, a log line). True when the authorizer is off. */
bool streams_authorized(stream_t *s);
/* Whether it may create topic (CREATE cluster, else CREATE topic); fails it if not. */
bool streams_may_create(stream_t *s, const char *topic);
/* Whether it failed for a refusal and the bindings changed since: time to try again. */
bool streams_denial_stale(const stream_t *s);

/* streams_task.c: one cycle of a running processor (not busy) */
void streams_task_step(stream_t *s);
/* Sum over the source partitions of high watermark - position (-1 before loading). */
int64_t streams_task_lag(stream_t *s);

#endif
