/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit. gn_log_sync queues a waiter; an fdatasync on libuv's thread pool covers
 * every waiter whose offset is below the log end when it started (and the segments
 * rolled since the previous one started, their indexes and the directory). It starts at
 * once when a waiter is not covered by the fsyncs in flight; up to GN__FLUSH_DEPTH run at
 * the same time, so a waiter that comes while one is running does not wait for it to end
 * (and for the hop back to the loop) before its own starts; what comes while all are
 * busy rides on the next one, started when one ends. Finished fsyncs retire in the order
 * they started, so the recovery point never passes a segment an older fsync still owes.
 * An fsync error fails the log: waiters get the error, appends GN_ESTORAGE. Waiters,
 * state and callbacks on the loop thread; only the fsync calls run on the pool. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/log_impl.h"

struct gn_flush_work {
    uv_work_t req;
    gn_log_t *log;       /* NULL once the log was closed under it */
    int64_t target;      /* log end when it started: offsets below become durable */
    gn_segment_t **segs; /* refs held; the last one is the active segment */
    int nsegs;
    char *dir; /* fsync the directory too */
    int status;
    bool done;             /* finished, waiting for older fsyncs to retire first */
    gn_flush_work_t *next; /* the next younger fsync in flight */
};

static void wake_cb(uv_timer_t *t);

int gn__flush_init(gn_log_t *log)
{
    if (!(log->wake = malloc(sizeof(*log->wake)))) return GN_ENOMEM;
    uv_timer_init(log->loop, log->wake);
    log->wake->data = log;
    return 0;
}

int gn__flush_note_roll(gn_log_t *log, gn_segment_t *seg)
{
    if (log->nunsynced == log->unsynced_cap) {
        int cap = log->unsynced_cap ? log->unsynced_cap * 2 : 4;
        gn_segment_t **p = realloc(log->unsynced, (size_t)cap * sizeof(*p));
        if (!p) return GN_ENOMEM;
        log->unsynced = p;
        log->unsynced_cap = cap;
    }
    gn__segment_ref(seg);
    log->unsynced[log->nunsynced++] = seg;
    return 0;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC), rc = 0;

    if (fd < 0) return errno == ENOENT ? 0 : -errno; /* deleted meanwhile: nothing to keep */
    if (fsync(fd) < 0) rc = -errno;
    close(fd);
    return rc;
}

/* fdatasync of the data, fsync of a sealed segment's index files. */
static int sync_segment(gn_segment_t *seg, bool sealed)
{
    char p[4096];
    int rc;

    if (fdatasync(seg->fd) < 0) return -errno;
    if (!sealed) return 0;
    gn__segment_path(seg, ".index", p, sizeof(p));
    if ((rc = fsync_path(p, O_RDONLY)) < 0) return rc;
    gn__segment_path(seg, ".timeindex", p, sizeof(p));
    return fsync_path(p, O_RDONLY);
}

static void flush_work(uv_work_t *req)
{
    gn_flush_work_t *w = req->data;

    for (int i = 0; i < w->nsegs && w->status == 0; i++)
        w->status = sync_segment(w->segs[i], i < w->nsegs - 1);
    if (w->status == 0 && w->dir) w->status = fsync_path(w->dir, O_RDONLY | O_DIRECTORY);
}

static void work_free(gn_flush_work_t *w)
{
    for (int i = 0; i < w->nsegs; i++)
        gn__segment_unref(w->segs[i]);
    free(w->segs);
    free(w->dir);
    free(w);
}

/* The offset below which everything will be durable once the fsyncs in flight end. */
static int64_t covered(const gn_log_t *log)
{
    return log->flush_tail ? log->flush_tail->target : log->recovery_point;
}

static bool has_uncovered(const gn_log_t *log)
{
    int64_t c = covered(log);
    for (int i = 0; i < log->nwaiters; i++)
        if (log->waiters[i].upto > c) return true;
    return false;
}

static void deliver(gn_log_t *log);
static void flush_done(uv_work_t *req, int status);

static int start_flush(gn_log_t *log)
{
    gn_flush_work_t *w = calloc(1, sizeof(*w));
    int rc;

    if (!w || !(w->segs = malloc((size_t)(log->nunsynced + 1) * sizeof(*w->segs)))) {
        free(w);
        return GN_ENOMEM;
    }
    if (log->dir_dirty && !(w->dir = strdup(log->dir))) {
        work_free(w);
        return GN_ENOMEM;
    }
    if (log->nunsynced) memcpy(w->segs, log->unsynced, (size_t)log->nunsynced * sizeof(*w->segs));
    w->nsegs = log->nunsynced;
    log->nunsynced = 0;
    gn__segment_ref(gn__log_active(log));
    w->segs[w->nsegs++] = gn__log_active(log);
    w->target = gn_log_end_offset(log);
    w->log = log;
    int64_t bytes = log->appended - log->flush_mark;
    log->flush_mark = log->appended;
    log->per_fsync = log->per_fsync < 0 ? bytes : (log->per_fsync * 7 + bytes) / 8;
    w->req.data = w;
    log->dir_dirty = false;
    if ((rc = uv_queue_work(log->loop, &w->req, flush_work, flush_done)) < 0) {
        work_free(w);
        return rc;
    }
    if (log->flush_tail)
        log->flush_tail->next = w;
    else
        log->flush_head = w;
    log->flush_tail = w;
    log->nflushing++;
    return 0;
}

/* Starts another fsync if a waiter is not covered by those in flight and fewer than
 * GN__FLUSH_DEPTH are running. */
static int maybe_start(gn_log_t *log)
{
    if (log->failed || log->nflushing >= GN__FLUSH_DEPTH || !has_uncovered(log)) return 0;
    return start_flush(log);
}

/* Retires finished fsyncs in the order they started: an fsync covers the segments rolled
 * before it started only together with the older ones, so the recovery point moves only
 * over a prefix of finished fsyncs. */
static void retire(gn_log_t *log)
{
    gn_flush_work_t *w;
    while ((w = log->flush_head) && w->done) {
        log->flush_head = w->next;
        if (!log->flush_head) log->flush_tail = NULL;
        log->nflushing--;
        log->fsyncs++;
        if (w->status < 0 && !log->failed) {
            GN_ERROR("log", "fsync failed, log refuses writes | dir=%s err=%s", log->dir,
                     gn_err_name(w->status));
            log->failed = w->status;
        } else if (w->status == 0 && w->target > log->recovery_point) {
            /* a truncation meanwhile may have moved the end below the target */
            int64_t end = gn_log_end_offset(log);
            log->recovery_point = w->target < end ? w->target : end;
        }
        work_free(w);
    }
}

static void flush_done(uv_work_t *req, int status)
{
    gn_flush_work_t *w = req->data;
    gn_log_t *log = w->log;

    if (!log) { /* the log was closed under it */
        work_free(w);
        return;
    }
    w->status = status < 0 ? status : w->status;
    w->done = true;
    retire(log);
    if (maybe_start(log) < 0) log->failed = GN_ESTORAGE;
    deliver(log);
}

/* Runs the callbacks of every waiter that is covered (or failed); callbacks may
 * queue new waiters, append, or close the log (then freed here, at the end). */
static void deliver(gn_log_t *log)
{
    gn_sync_waiter_t *ws = log->waiters;
    int n = log->nwaiters;

    log->waiters = NULL;
    log->nwaiters = log->waiters_cap = 0;
    log->firing++;
    for (int i = 0; i < n; i++) {
        gn_sync_waiter_t w = ws[i];
        if (log->close_pending)
            w.cb(w.arg, GN_ESHUTDOWN);
        else if (log->failed)
            w.cb(w.arg, log->failed);
        else if (w.upto <= log->recovery_point)
            w.cb(w.arg, 0);
        else if (gn_log_sync(log, w.upto, w.cb, w.arg) < 0)
            w.cb(w.arg, GN_ENOMEM);
    }
    free(ws);
    if (--log->firing == 0 && log->close_pending) gn__log_free(log);
}

static void wake_cb(uv_timer_t *t)
{
    deliver(t->data);
}

int gn_log_sync(gn_log_t *log, int64_t upto, gn_log_sync_cb cb, void *arg)
{
    gn_sync_waiter_t *w;

    if (log->close_pending) return GN_ESHUTDOWN;
    if (upto > gn_log_end_offset(log)) return GN_EOFFSETRANGE;
    if (log->nwaiters >= GN__SYNC_WAITERS_MAX) return GN_EAGAIN;
    if (log->nwaiters == log->waiters_cap) {
        int cap = log->waiters_cap ? log->waiters_cap * 2 : 16;
        gn_sync_waiter_t *p = realloc(log->waiters, (size_t)cap * sizeof(*p));
        if (!p) return GN_ENOMEM;
        log->waiters = p;
        log->waiters_cap = cap;
    }
    w = &log->waiters[log->nwaiters++];
    w->upto = upto;
    w->cb = cb;
    w->arg = arg;
    if (log->failed || upto <= log->recovery_point) {
        uv_timer_start(log->wake, wake_cb, 0, 0); /* never before we return */
        return 0;
    }
    if (upto > covered(log) && log->nflushing < GN__FLUSH_DEPTH && start_flush(log) < 0) {
        log->nwaiters--;
        return GN_ENOMEM;
    }
    return 0;
}

void gn__flush_close(gn_log_t *log, int err)
{
    gn_segment_t *active = gn__log_active(log);
    int rc = 0;

    for (gn_flush_work_t *w = log->flush_head; w; w = w->next)
        w->log = NULL; /* each finishes on its own refs */
    log->flush_head = log->flush_tail = NULL;
    log->nflushing = 0;
    for (int i = 0; i < log->nunsynced; i++) {
        if (rc == 0 && !log->discard) rc = sync_segment(log->unsynced[i], true);
        gn__segment_unref(log->unsynced[i]);
    }
    log->nunsynced = 0;
    if (log->discard) { /* the files are removed next: keep nothing */
        deliver(log);
        return;
    }
    /* the index files are trimmed to their entries and hold the final time entry */
    if (gn__segment_seal(active) < 0)
        GN_WARN("log", "cannot write index files on close | file=%s.index", active->path);
    if (rc == 0) rc = sync_segment(active, true);
    if (rc == 0 && log->dir_dirty) rc = fsync_path(log->dir, O_RDONLY | O_DIRECTORY);
    if (rc < 0)
        GN_ERROR("log", "fsync on close failed | dir=%s err=%s", log->dir, gn_err_name(rc));
    else if (!log->failed)
        log->recovery_point = gn_log_end_offset(log);
    log->dir_dirty = false;
    (void)err;
    deliver(log); /* close_pending is set: every waiter gets GN_ESHUTDOWN */
}
