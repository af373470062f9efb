/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to core/log: the gn_log struct and the functions its files share
 * (log.c, recovery.c, flush.c, retention.c, compaction.c). Loop thread only. */
#ifndef GN_CORE_LOG_IMPL_H
#define GN_CORE_LOG_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "log/epoch_cache.h"
#include "log/log.h"
#include "log/segment.h"

#define GN__SYNC_WAITERS_MAX 65536 /* bound on queued gn_log_sync calls: GN_EAGAIN beyond */
#define GN__FLUSH_DEPTH      2     /* group-commit fsyncs in flight at once per log */
/* Zeros are written ahead of the active segment's end (segment.c) only while the
 * log's fsyncs cover fewer bytes than this on average: there the journal commit each
 * fsync saves outweighs writing every byte twice; past it (bulk acks=all) it does not. */
#define GN__ZERO_AHEAD_BELOW (64 << 10)

typedef struct gn_sync_waiter {
    int64_t upto;
    gn_log_sync_cb cb;
    void *arg;
} gn_sync_waiter_t;

typedef struct gn_flush_work gn_flush_work_t;
typedef struct gn_compact_work gn_compact_work_t;

struct gn_log {
    uv_loop_t *loop;
    char *dir;
    const gn_topic_config_t *cfg;
    gn_segment_t **segs; /* ascending base offsets; the last one is active */
    int nsegs, segs_cap;
    int64_t log_start;
    int64_t recovery_point; /* offsets below are fsynced */
    int64_t size_bytes;
    int failed; /* 0, or the fsync/write error that stopped the log */

    /* flush.c: group commit */
    gn_sync_waiter_t *waiters;
    int nwaiters, waiters_cap;
    gn_segment_t **unsynced; /* rolled since the last fsync started (refs held) */
    int nunsynced, unsynced_cap;
    bool dir_dirty; /* a file was created or renamed since the last fsync */
    gn_flush_work_t *flush_head, *flush_tail; /* fsyncs in flight, oldest first */
    int nflushing;
    uv_timer_t *wake; /* delivers waiters that need no fsync, next loop turn */
    int firing;       /* depth of waiter delivery (close is deferred inside) */
    bool close_pending;
    bool discard;       /* closing for removal: nothing is synced or sealed */
    uint64_t fsyncs;    /* completed group-commit fsyncs (tests, metrics) */
    int64_t appended;   /* bytes appended since open */
    int64_t flush_mark; /* appended when the last fsync started */
    int64_t per_fsync;  /* bytes each fsync covered, moving average; -1 before the first */

    gn_epoch_cache_t epochs; /* leader-epoch-checkpoint */

    /* compaction.c */
    gn_compact_work_t *compacting;
    int64_t cleaned_upto; /* offsets below were compacted at least once */
};

static inline gn_segment_t *gn__log_active(const gn_log_t *log)
{
    return log->segs[log->nsegs - 1];
}

/* log.c */
int gn__log_add_segment(gn_log_t *log, gn_segment_t *seg); /* takes the reference */
int gn__log_roll(gn_log_t *log, int64_t now_ms);
/* Index of the segment holding offset (greatest base <= offset), 0 if below all. */
int gn__log_find_segment(const gn_log_t *log, int64_t offset);
/* Removes segs[i] from the array: rename to .deleted, unlink on the thread pool. */
void gn__log_delete_segment(gn_log_t *log, int i, const char *why);
void gn__log_free(gn_log_t *log);

/* recovery.c */
int gn__log_load(gn_log_t *log, const gn_log_open_opts_t *opts);

/* flush.c */
int gn__flush_init(gn_log_t *log);
int gn__flush_note_roll(gn_log_t *log, gn_segment_t *seg);
/* Synchronous fsync of everything unflushed (close; none with log->discard); fails
 * waiters with err. */
void gn__flush_close(gn_log_t *log, int err);

/* compaction.c: stops a compaction in flight (its output is discarded). With
 * rm_dir, the work removes that directory once done; returns true if one was
 * in flight (the caller must then not remove the directory itself). */
bool gn__compact_detach(gn_log_t *log, const char *rm_dir);

/* retention.c */
/* Runs fn(path) on the thread pool (path copied); synchronously if that fails. */
void gn__log_queue_unlink(uv_loop_t *loop, const char *path, void (*fn)(const char *));
void gn__log_remove_dir(uv_loop_t *loop, const char *dir); /* on the thread pool */

#endif
