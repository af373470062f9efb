/* SPDX-License-Identifier: Apache-2.0 */
/* One partition's log: the ordered segments, the append path (validate every batch,
 * assign offsets in place, one pwrite, index), rolling by segment.bytes/segment.ms,
 * reads by offset and by time, open and close. Loop thread only; the blocking
 * work (fsync, unlink, compaction) is queued on libuv's thread pool by flush.c,
 * retention.c and compaction.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/log_impl.h"
#include "record/wire.h"

static int mkdir_p(const char *dir)
{
    char p[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(p)) return GN_EINVAL;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) return -errno;
        p[i] = c;
    }
    return 0;
}

int gn_log_open(uv_loop_t *loop, const char *dir, const gn_topic_config_t *cfg,
                const gn_log_open_opts_t *opts, gn_log_t **out)
{
    gn_log_t *log;
    int rc;

    *out = NULL;
    if ((rc = mkdir_p(dir)) < 0) return rc;
    if (!(log = calloc(1, sizeof(*log))) || !(log->dir = strdup(dir))) {
        free(log);
        return GN_ENOMEM;
    }
    log->loop = loop;
    log->cfg = cfg;
    log->per_fsync = -1;
    if ((rc = gn__flush_init(log)) < 0 || (rc = gn__log_load(log, opts)) < 0 ||
        (rc = gn__epoch_cache_load(&log->epochs, dir)) < 0) {
        gn__log_free(log);
        return rc;
    }
    gn__epoch_cache_truncate_end(&log->epochs, gn_log_end_offset(log)); /* recovery cut */
    gn__epoch_cache_truncate_start(&log->epochs, log->log_start);
    log->cleaned_upto = log->log_start;
    *out = log;
    return 0;
}

static void free_timer(uv_handle_t *h)
{
    free(h);
}

void gn__log_free(gn_log_t *log)
{
    for (int i = 0; i < log->nsegs; i++)
        gn__segment_unref(log->segs[i]);
    for (int i = 0; i < log->nunsynced; i++)
        gn__segment_unref(log->unsynced[i]);
    if (log->wake) uv_close((uv_handle_t *)log->wake, free_timer);
    free(log->segs);
    free(log->unsynced);
    free(log->waiters);
    gn__epoch_cache_free(&log->epochs);
    free(log->dir);
    free(log);
}

void gn_log_close(gn_log_t *log)
{
    if (!log || log->close_pending) return;
    log->close_pending = true;
    log->firing++; /* waiter callbacks run below may close again: defer the free */
    gn__compact_detach(log, NULL);
    gn__flush_close(log, GN_ESHUTDOWN);
    if (--log->firing == 0)
        gn__log_free(log); /* else freed when the outer waiter delivery unwinds */
}

void gn_log_close_discard(gn_log_t *log)
{
    if (!log || log->close_pending) return;
    log->discard = true;
    gn_log_close(log);
}

void gn_log_close_and_delete(gn_log_t *log)
{
    uv_loop_t *loop;
    char *dir;

    if (!log || log->close_pending) return;
    loop = log->loop;
    dir = strdup(log->dir);
    /* Close first: its files must be closed before the removal starts. */
    bool handed_to_cleaner = dir && gn__compact_detach(log, dir);
    gn_log_close_discard(log);
    if (!handed_to_cleaner && dir) gn__log_remove_dir(loop, dir);
    free(dir);
}

int gn__log_add_segment(gn_log_t *log, gn_segment_t *seg)
{
    if (log->nsegs == log->segs_cap) {
        int cap = log->segs_cap ? log->segs_cap * 2 : 8;
        gn_segment_t **p = realloc(log->segs, (size_t)cap * sizeof(*p));
        if (!p) return GN_ENOMEM;
        log->segs = p;
        log->segs_cap = cap;
    }
    seg->interval = log->cfg->index_interval_bytes;
    log->segs[log->nsegs++] = seg;
    log->size_bytes += seg->size;
    return 0;
}

int gn__log_find_segment(const gn_log_t *log, int64_t offset)
{
    int lo = 0, hi = log->nsegs - 1, ans = 0;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base_offset <= offset) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

void gn__log_delete_segment(gn_log_t *log, int i, const char *why)
{
    gn_segment_t *seg = log->segs[i];

    memmove(&log->segs[i], &log->segs[i + 1], (size_t)(log->nsegs - i - 1) * sizeof(seg));
    log->nsegs--;
    log->size_bytes -= seg->size;
    if (gn__segment_rename_deleted(seg) < 0)
        GN_WARN("log", "cannot rename segment to .deleted | file=%s.log err=%d", seg->path, errno);
    GN_INFO("log", "deleting segment | file=%s.log reason=%s bytes=%" PRId64, seg->path, why,
            seg->size);
    log->dir_dirty = true;
    gn__log_queue_unlink(log->loop, seg->path, gn__segment_unlink_deleted);
    gn__segment_unref(seg); /* slices still holding it keep the fd open */
}

int gn__log_roll(gn_log_t *log, int64_t now_ms)
{
    gn_segment_t *old = gn__log_active(log), *seg;
    int rc;

    if (old->size == 0) return 0;
    /* not only a warning like the index files: a segment below the recovery point is
     * trusted at its file size after a restart */
    if ((rc = gn__segment_cut_zeros(old)) < 0) {
        GN_ERROR("log", "cannot cut the zeros ahead of a segment's end | file=%s.log err=%s",
                 old->path, gn_err_name(rc));
        return rc;
    }
    if ((rc = gn__segment_create(log->dir, old->next_offset, now_ms, &seg)) < 0) return rc;
    if ((rc = gn__log_add_segment(log, seg)) < 0) {
        gn__segment_unref(seg);
        return rc;
    }
    /* index files are rebuilt when missing or corrupt: a failure here costs a scan */
    if ((rc = gn__segment_seal(old)) < 0)
        GN_WARN("log", "cannot write index files | file=%s.index err=%d", old->path, rc);
    log->dir_dirty = true;
    return gn__flush_note_roll(log, old);
}

static bool should_roll(const gn_log_t *log, size_t len, int64_t noffsets, int64_t now_ms)
{
    const gn_segment_t *seg = gn__log_active(log);
    const gn_topic_config_t *cfg = log->cfg;
    int64_t max_entries_o = cfg->segment_index_bytes / GN__OINDEX_ENTRY;
    int64_t max_entries_t = cfg->segment_index_bytes / GN__TINDEX_ENTRY;

    if (seg->size == 0) return false;
    return seg->size + (int64_t)len > cfg->segment_bytes ||
           (seg->roll_base_ms >= 0 && now_ms - seg->roll_base_ms > cfg->segment_ms) ||
           seg->oidx.n >= max_entries_o || seg->tidx.n >= max_entries_t ||
           seg->next_offset + noffsets - seg->base_offset > INT32_MAX ||
           seg->size + (int64_t)len > INT32_MAX;
}

/* Every batch is checked before anything is written: on error the log is untouched. */
static int validate_all(const gn_log_t *log, const uint8_t *buf, size_t len, int64_t *noffsets,
                        gn_log_append_info_t *info)
{
    gn_batch_header_t hdr;
    size_t off = 0;

    *noffsets = 0;
    while (off < len) {
        int64_t size =
            gn_batch_validate(buf + off, len - off, (size_t)log->cfg->max_message_bytes, &hdr);
        if (size == GN_EAGAIN) return GN_ECORRUPT; /* a batch cut short by the buffer's end */
        if (size < 0) return (int)size;
        if (size > log->cfg->segment_bytes) return GN_ETOOLARGE;
        *noffsets += (int64_t)hdr.last_offset_delta + 1;
        info->batches++;
        info->records += hdr.records_count;
        off += (size_t)size;
    }
    return 0;
}

static void assign_offsets(gn_log_t *log, uint8_t *buf, size_t len, int64_t now_ms,
                           int32_t leader_epoch)
{
    int64_t next = gn__log_active(log)->next_offset;
    bool lat = log->cfg->timestamp_type == GN_TIMESTAMP_LOG_APPEND_TIME;

    for (size_t off = 0; off < len;) {
        uint8_t *p = buf + off;
        gn_batch_set_base_offset(p, next);
        if (leader_epoch >= 0) gn_batch_set_leader_epoch(p, leader_epoch); /* outside the CRC */
        if (lat) gn_batch_set_log_append_time(p, now_ms);
        next += (int64_t)(int32_t)gn__be32(p + GN__OFF_LAST_OFFSET_DELTA) + 1;
        off += (size_t)(int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH) + GN_BATCH_LOG_OVERHEAD;
    }
}

static int index_appended(gn_log_t *log, const uint8_t *buf, size_t len, int64_t pos0,
                          gn_log_append_info_t *info)
{
    gn_segment_t *seg = gn__log_active(log);
    int rc = 0;

    for (size_t off = 0; off < len;) {
        const uint8_t *p = buf + off;
        int64_t size = (int64_t)(int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH) + GN_BATCH_LOG_OVERHEAD;
        int64_t last = (int64_t)gn__be64(p) + (int32_t)gn__be32(p + GN__OFF_LAST_OFFSET_DELTA);
        int64_t max_ts = (int64_t)gn__be64(p + GN__OFF_MAX_TIMESTAMP);
        if (max_ts > info->max_timestamp) info->max_timestamp = max_ts;
        if (rc == 0)
            rc = gn__segment_track_batch(seg, log->cfg->index_interval_bytes, pos0 + (int64_t)off,
                                         size, last, max_ts);
        info->last_offset = last;
        off += (size_t)size;
    }
    return rc;
}

/* A batch of a later leader epoch than the cache knows starts that epoch (Kafka assigns
 * from every appended batch, so followers learn epochs from the leader's bytes). */
static void note_epochs(gn_log_t *log, const uint8_t *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        const uint8_t *p = buf + off;
        int32_t epoch = (int32_t)gn__be32(p + GN__OFF_LEADER_EPOCH);
        if (epoch >= 0 && epoch > gn__epoch_cache_latest(&log->epochs))
            gn__epoch_cache_assign(&log->epochs, epoch, (int64_t)gn__be64(p));
        off += (size_t)(int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH) + GN_BATCH_LOG_OVERHEAD;
    }
}

int gn_log_append(gn_log_t *log, uint8_t *buf, size_t len, int64_t now_ms,
                  gn_log_append_info_t *info)
{
    return gn_log_append_epoch(log, buf, len, now_ms, -1, info);
}

int gn_log_append_epoch(gn_log_t *log, uint8_t *buf, size_t len, int64_t now_ms,
                        int32_t leader_epoch, gn_log_append_info_t *info)
{
    gn_log_append_info_t tmp;
    gn_segment_t *seg;
    int64_t noffsets, pos0;
    int rc;

    if (!info) info = &tmp;
    memset(info, 0, sizeof(*info));
    info->log_append_time = -1;
    info->max_timestamp = GN__NO_TIMESTAMP;
    if (log->close_pending) return GN_ESHUTDOWN;
    if (log->failed) return GN_ESTORAGE;
    if (len == 0) return GN_EINVALID_RECORD;
    if ((rc = validate_all(log, buf, len, &noffsets, info)) < 0) return rc;
    if (should_roll(log, len, noffsets, now_ms) && (rc = gn__log_roll(log, now_ms)) < 0) return rc;
    seg = gn__log_active(log);
    info->base_offset = seg->next_offset;
    assign_offsets(log, buf, len, now_ms, leader_epoch);
    pos0 = seg->size;
    if ((rc = gn__segment_write(seg, buf, len)) < 0) {
        if (rc == GN_ESTORAGE) log->failed = rc;
        GN_WARN("log", "append failed, log unchanged | dir=%s bytes=%zu err=%s", log->dir, len,
                gn_err_name(rc));
        return rc;
    }
    if (pos0 == 0 || seg->roll_base_ms < 0)
        seg->roll_base_ms = now_ms; /* segment.ms counts from the first append */
    log->size_bytes += (int64_t)len;
    log->appended += (int64_t)len;
    if (log->cfg->timestamp_type == GN_TIMESTAMP_LOG_APPEND_TIME) info->log_append_time = now_ms;
    /* an index allocation failure only makes lookups walk further: not an error */
    if (index_appended(log, buf, len, pos0, info) < 0)
        GN_WARN("log", "offset index entry dropped (out of memory) | dir=%s", log->dir);
    seg->next_offset = info->last_offset + 1;
    note_epochs(log, buf, len);
    /* the next appends overwrite zeros: their fdatasync commits no metadata */
    if (log->per_fsync >= 0 && log->per_fsync < GN__ZERO_AHEAD_BELOW &&
        (rc = gn__segment_zero_ahead(seg, log->cfg->segment_bytes)) < 0)
        GN_DEBUG("log", "cannot write zeros ahead | file=%s.log err=%s", seg->path,
                 gn_err_name(rc));
    return 0;
}

int gn_log_read(gn_log_t *log, int64_t offset, size_t max_bytes, int64_t max_offset,
                gn_log_slice_t *slice)
{
    int64_t end = gn_log_end_offset(log);
    int rc;

    memset(slice, 0, sizeof(*slice));
    slice->fd = -1;
    slice->first_offset = offset;
    if (offset < log->log_start || offset > end) return GN_EOFFSETRANGE;
    if (max_offset > end || max_offset < 0) max_offset = end;
    if (offset >= max_offset) return 0;
    for (int i = gn__log_find_segment(log, offset); i < log->nsegs; i++) {
        rc = gn__segment_read(log->segs[i], offset, max_bytes, max_offset, slice);
        if (rc != 0) return rc < 0 ? rc : 0;
    }
    return 0;
}

/* Walks the records of the batch holding batch_offset in seg and returns the first one
 * whose timestamp is >= ts (exact: match equal only). LogAppendTime batches report
 * every record at the batch's time, so their first record matches. 1 found, 0 none. */
static int first_record_at(gn_segment_t *seg, int64_t batch_offset, int64_t ts, bool exact,
                           int64_t *offset, int64_t *timestamp)
{
    gn_batch_header_t hdr;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_log_slice_t slice = {.fd = seg->fd};
    uint8_t *buf = NULL;
    int64_t pos;
    int rc;

    if ((rc = gn__segment_translate(seg, batch_offset, &pos, &hdr)) <= 0) return rc;
    slice.pos = pos;
    slice.len = gn_batch_size(&hdr);
    if (!(buf = malloc((size_t)slice.len))) return GN_ENOMEM;
    if ((rc = gn_log_slice_read(&slice, buf)) < 0 ||
        (rc = gn_record_iter_init(&it, buf, (size_t)slice.len)) < 0)
        goto out;
    while ((rc = gn_record_iter_next(&it, &rec)) == 1) {
        if (exact ? rec.timestamp == ts : rec.timestamp >= ts) {
            *offset = rec.offset;
            *timestamp = rec.timestamp;
            break;
        }
    }
    gn_record_iter_close(&it);
out:
    free(buf);
    return rc;
}

int gn_log_offset_for_time(gn_log_t *log, int64_t ts, int64_t *offset, int64_t *timestamp)
{
    int rc;

    *offset = -1;
    *timestamp = -1;
    /* segment max timestamps need not be ordered (CreateTime): a linear pass over the
     * in-memory list, then binary searches inside the one segment, then the records of
     * the one batch (Kafka answers the first record at or after ts, not its batch) */
    for (int i = 0; i < log->nsegs; i++) {
        rc = gn__segment_find_time(log->segs[i], ts, offset, timestamp);
        if (rc < 0) return rc;
        if (rc == 1) {
            rc = first_record_at(log->segs[i], *offset, ts, false, offset, timestamp);
            if (rc < 0) return rc;
            if (*offset < log->log_start) *offset = log->log_start;
            return 0;
        }
    }
    return 0;
}

int gn_log_max_timestamp(gn_log_t *log, int64_t *offset, int64_t *timestamp)
{
    gn_segment_t *best = NULL;
    int rc;

    *offset = -1;
    *timestamp = -1;
    for (int i = 0; i < log->nsegs; i++) {
        gn_segment_t *seg = log->segs[i];
        if ((rc = gn__segment_load_indexes(seg, seg->interval)) < 0) return rc;
        if (seg->max_ts > GN__NO_TIMESTAMP && (!best || seg->max_ts > best->max_ts)) best = seg;
    }
    if (!best) return 0;
    *timestamp = best->max_ts;
    int64_t found_ts;
    *offset = best->max_ts_offset;
    rc = first_record_at(best, best->max_ts_offset, best->max_ts, true, offset, &found_ts);
    rc = rc < 0 ? rc : 0;
    if (*offset < log->log_start) *offset = log->log_start;
    return rc;
}

int64_t gn_log_start_offset(const gn_log_t *log)
{
    return log->log_start;
}
int64_t gn_log_end_offset(const gn_log_t *log)
{
    return gn__log_active(log)->next_offset;
}
int64_t gn_log_size_bytes(const gn_log_t *log)
{
    return log->size_bytes;
}
int64_t gn_log_recovery_point(const gn_log_t *log)
{
    return log->recovery_point;
}
int gn_log_segment_count(const gn_log_t *log)
{
    return log->nsegs;
}

int gn_log_assign_epoch(gn_log_t *log, int32_t epoch, int64_t start)
{
    return gn__epoch_cache_assign(&log->epochs, epoch, start);
}
int32_t gn_log_latest_epoch(const gn_log_t *log)
{
    return gn__epoch_cache_latest(&log->epochs);
}
void gn_log_end_offset_for_epoch(const gn_log_t *log, int32_t epoch, int32_t *out_epoch,
                                 int64_t *out_end)
{
    gn__epoch_cache_end_offset_for(&log->epochs, epoch, gn_log_end_offset(log), out_epoch, out_end);
}
