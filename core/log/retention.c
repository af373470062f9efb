/* SPDX-License-Identifier: Apache-2.0 */
/* Deleting whole segments: retention.ms (by the segment's largest timestamp),
 * retention.bytes, the log start offset (DeleteRecords), and truncation for
 * replication. Deleted segments are renamed to .deleted at once and unlinked on
 * libuv's thread pool; slices still reading them keep their fd. Loop thread. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/log_impl.h"

typedef struct path_work {
    uv_work_t req;
    void (*fn)(const char *path);
    char path[];
} path_work_t;

static void path_work_run(uv_work_t *req)
{
    path_work_t *w = req->data;
    w->fn(w->path);
}

static void path_work_done(uv_work_t *req, int status)
{
    (void)status;
    free(req->data);
}

void gn__log_queue_unlink(uv_loop_t *loop, const char *path, void (*fn)(const char *))
{
    size_t n = strlen(path) + 1;
    path_work_t *w = malloc(sizeof(*w) + n);

    if (!w) {
        fn(path); /* no memory for the work item: do it now rather than leak files */
        return;
    }
    memcpy(w->path, path, n);
    w->fn = fn;
    w->req.data = w;
    if (uv_queue_work(loop, &w->req, path_work_run, path_work_done) < 0) {
        fn(path);
        free(w);
    }
}

static void remove_dir(const char *dir)
{
    char p[4096];
    struct dirent *de;
    DIR *d = opendir(dir);

    if (!d) return;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    if (rmdir(dir) < 0) GN_WARN("log", "cannot remove log directory | dir=%s err=%d", dir, errno);
}

void gn__log_remove_dir(uv_loop_t *loop, const char *dir)
{
    gn__log_queue_unlink(loop, dir, remove_dir);
}

/* Kafka's largestTimestamp: the max timestamp, or the file's mtime when none. */
static int64_t segment_largest_ts(gn_segment_t *seg)
{
    struct stat st;

    if (gn__segment_load_indexes(seg, seg->interval) == 0 && seg->max_ts > GN__NO_TIMESTAMP)
        return seg->max_ts;
    if (fstat(seg->fd, &st) < 0) return INT64_MAX; /* unknown age: never expire it by time */
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static int delete_below_start(gn_log_t *log)
{
    int n = 0;

    while (log->nsegs > 1 && log->segs[1]->base_offset <= log->log_start) {
        gn__log_delete_segment(log, 0, "log start offset");
        n++;
    }
    return n;
}

int gn_log_enforce_retention(gn_log_t *log, int64_t now_ms)
{
    const gn_topic_config_t *cfg = log->cfg;
    gn_segment_t *active = gn__log_active(log);
    int n, rc;

    if (log->close_pending) return GN_ESHUTDOWN;
    if (active->size > 0 && active->roll_base_ms >= 0 &&
        now_ms - active->roll_base_ms > cfg->segment_ms && (rc = gn__log_roll(log, now_ms)) < 0)
        return rc;
    n = delete_below_start(log);
    if (cfg->cleanup_policy & GN_CLEANUP_DELETE) {
        while (cfg->retention_ms >= 0 && log->nsegs > 1 &&
               now_ms - segment_largest_ts(log->segs[0]) > cfg->retention_ms) {
            gn__log_delete_segment(log, 0, "retention.ms");
            n++;
        }
        int64_t over = cfg->retention_bytes >= 0 ? log->size_bytes - cfg->retention_bytes : 0;
        while (cfg->retention_bytes >= 0 && log->nsegs > 1 && over >= log->segs[0]->size) {
            over -= log->segs[0]->size;
            gn__log_delete_segment(log, 0, "retention.bytes");
            n++;
        }
    }
    if (log->segs[0]->base_offset > log->log_start) log->log_start = log->segs[0]->base_offset;
    gn__epoch_cache_truncate_start(&log->epochs, log->log_start);
    return n;
}

int gn_log_restart_at(gn_log_t *log, int64_t offset)
{
    gn_segment_t *fresh;
    int rc;

    if (offset <= gn_log_end_offset(log)) return GN_EOFFSETRANGE;
    gn__compact_detach(log, NULL); /* it read what is about to go */
    if ((rc = gn__segment_create(log->dir, offset, -1, &fresh)) < 0) return rc;
    if ((rc = gn__log_add_segment(log, fresh)) < 0) {
        gn__segment_unref(fresh);
        return rc;
    }
    while (log->nsegs > 1)
        gn__log_delete_segment(log, 0, "restart");
    log->log_start = log->recovery_point = log->cleaned_upto = offset;
    gn__epoch_cache_truncate_end(&log->epochs, 0);
    log->dir_dirty = true;
    return 0;
}

int gn_log_delete_records(gn_log_t *log, int64_t offset)
{
    if (offset > gn_log_end_offset(log) || offset < 0) return GN_EOFFSETRANGE;
    if (offset <= log->log_start) return 0;
    log->log_start = offset;
    delete_below_start(log);
    gn__epoch_cache_truncate_start(&log->epochs, log->log_start);
    return 0;
}

int gn_log_truncate(gn_log_t *log, int64_t offset)
{
    gn_segment_t *seg;
    int64_t before;
    int rc;

    if (offset < 0) return GN_EOFFSETRANGE;
    if (offset >= gn_log_end_offset(log)) return 0;
    gn__compact_detach(log, NULL); /* it read what is about to change */
    while (log->nsegs > 1 && gn__log_active(log)->base_offset >= offset)
        gn__log_delete_segment(log, log->nsegs - 1, "truncation");
    seg = gn__log_active(log);
    if (seg->base_offset > offset) {
        /* nothing survives: start over with one empty segment at offset (a new name) */
        gn_segment_t *fresh;
        if ((rc = gn__segment_create(log->dir, offset, -1, &fresh)) < 0) return rc;
        if ((rc = gn__log_add_segment(log, fresh)) < 0) {
            gn__segment_unref(fresh);
            return rc;
        }
        gn__log_delete_segment(log, 0, "truncation");
        log->log_start = offset;
    } else {
        before = seg->size;
        if ((rc = gn__segment_truncate(seg, offset, seg->interval)) < 0) return rc;
        log->size_bytes -= before - seg->size;
    }
    if (log->log_start > gn_log_end_offset(log)) log->log_start = gn_log_end_offset(log);
    if (log->recovery_point > gn_log_end_offset(log)) log->recovery_point = gn_log_end_offset(log);
    if (log->cleaned_upto > gn_log_end_offset(log)) log->cleaned_upto = gn_log_end_offset(log);
    gn__epoch_cache_truncate_end(&log->epochs, gn_log_end_offset(log));
    log->dir_dirty = true;
    return 0;
}
