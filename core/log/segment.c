/* SPDX-License-Identifier: Apache-2.0 */
/* One segment: the .log file named by its base offset and its two indexes.
 * Create, open, append (pwrite, truncate back on failure), zeros written ahead of the
 * active segment's end (cut off on seal), seal on roll, truncate, rename to .deleted;
 * refcounted so slices (gn_log_slice_t) outlive deletion.
 * Loop thread; the last unref may come from thread-pool completion on the loop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/segment.h"

int gn__segment_path(const gn_segment_t *seg, const char *ext, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", seg->path, ext);
    return n < 0 || (size_t)n >= cap ? GN_EINVAL : 0;
}

static int segment_alloc(const char *dir, int64_t base, gn_segment_t **out)
{
    gn_segment_t *seg = calloc(1, sizeof(*seg));
    size_t cap = strlen(dir) + 32;

    if (!seg || !(seg->path = malloc(cap))) {
        free(seg);
        return GN_ENOMEM;
    }
    snprintf(seg->path, cap, "%s/%020" PRId64, dir, base);
    atomic_init(&seg->refs, 1);
    seg->fd = -1;
    seg->base_offset = base;
    seg->next_offset = base;
    seg->max_ts = GN__NO_TIMESTAMP;
    seg->max_ts_offset = -1;
    seg->roll_base_ms = -1;
    *out = seg;
    return 0;
}

static int touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    close(fd);
    return 0;
}

int gn__segment_create_file(const char *dir, int64_t base, const char *log_ext, gn_segment_t **out)
{
    char p[4096];
    gn_segment_t *seg = NULL;
    int rc;

    if ((rc = segment_alloc(dir, base, &seg)) < 0) return rc;
    gn__segment_path(seg, log_ext, p, sizeof(p));
    seg->fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (seg->fd < 0) {
        rc = -errno;
        gn__segment_unref(seg);
        return rc;
    }
    seg->indexes_loaded = true;
    seg->end_known = true;
    *out = seg;
    return 0;
}

int gn__segment_create(const char *dir, int64_t base, int64_t now_ms, gn_segment_t **out)
{
    char p[4096];
    gn_segment_t *seg = NULL;
    int rc;

    if ((rc = gn__segment_create_file(dir, base, ".log", &seg)) < 0) return rc;
    gn__segment_path(seg, ".index", p, sizeof(p));
    if ((rc = touch(p)) < 0) goto out;
    gn__segment_path(seg, ".timeindex", p, sizeof(p));
    if ((rc = touch(p)) < 0) goto out;
    seg->roll_base_ms = now_ms;
    *out = seg;
    return 0;
out:
    gn__segment_unref(seg);
    return rc;
}

int gn__segment_open(const char *dir, int64_t base, gn_segment_t **out)
{
    char p[4096];
    struct stat st;
    gn_segment_t *seg = NULL;
    int rc;

    if ((rc = segment_alloc(dir, base, &seg)) < 0) return rc;
    gn__segment_path(seg, ".log", p, sizeof(p));
    seg->fd = open(p, O_RDWR | O_CLOEXEC);
    if (seg->fd < 0 || fstat(seg->fd, &st) < 0) {
        rc = -errno;
        gn__segment_unref(seg);
        return rc;
    }
    seg->size = seg->file_end = st.st_size; /* recovery cuts a zero tail after a crash */
    *out = seg;
    return 0;
}

void gn__segment_ref(gn_segment_t *seg)
{
    atomic_fetch_add(&seg->refs, 1);
}

void gn__segment_unref(gn_segment_t *seg)
{
    if (!seg || atomic_fetch_sub(&seg->refs, 1) != 1) return;
    if (seg->fd >= 0) close(seg->fd);
    gn__oindex_free(&seg->oidx);
    gn__tindex_free(&seg->tidx);
    free(seg->path);
    free(seg);
}

int gn__segment_write(gn_segment_t *seg, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    int rc;

    while (done < len) {
        ssize_t w = pwrite(seg->fd, buf + done, len - done, (off_t)(seg->size + (int64_t)done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : GN_EIO;
            goto fail;
        }
        done += (size_t)w;
    }
    seg->size += (int64_t)len;
    if (seg->file_end < seg->size) seg->file_end = seg->size;
    return 0;
fail:
    /* leave no partial batch behind: the log must stay readable */
    seg->file_end = seg->size;
    if (ftruncate(seg->fd, (off_t)seg->size) < 0) {
        GN_ERROR("log", "cannot truncate after a failed write | file=%s.log pos=%" PRId64 " err=%d",
                 seg->path, seg->size, errno);
        return GN_ESTORAGE;
    }
    return rc;
}

#define ZERO_CHUNK_MIN (64 << 10)
#define ZERO_CHUNK_MAX (1 << 20)
#define ZERO_ALIGN     4096

int gn__segment_zero_ahead(gn_segment_t *seg, int64_t limit)
{
    static const uint8_t zeros[64 << 10];
    int64_t chunk = seg->size < ZERO_CHUNK_MIN   ? ZERO_CHUNK_MIN
                    : seg->size > ZERO_CHUNK_MAX ? ZERO_CHUNK_MAX
                                                 : seg->size;
    int64_t target = (seg->size + chunk) / ZERO_ALIGN * ZERO_ALIGN;

    if (seg->file_end - seg->size >= chunk / 2) return 0;
    if (target > limit) target = limit;
    while (seg->file_end < target) {
        size_t n = (size_t)(target - seg->file_end);
        if (n > sizeof(zeros)) n = sizeof(zeros);
        ssize_t w = pwrite(seg->fd, zeros, n, (off_t)seg->file_end);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? -errno : GN_EIO; /* the zeros written so far stay */
        seg->file_end += w;
    }
    return 0;
}

int gn__segment_cut_zeros(gn_segment_t *seg)
{
    if (seg->file_end <= seg->size) return 0;
    if (ftruncate(seg->fd, (off_t)seg->size) < 0) return -errno;
    seg->file_end = seg->size;
    return 0;
}

int gn__segment_track_batch(gn_segment_t *seg, int32_t interval, int64_t pos, int64_t size,
                            int64_t last_offset, int64_t max_ts)
{
    int32_t rel = (int32_t)(last_offset - seg->base_offset);
    int rc = 0;

    if (max_ts > seg->max_ts) {
        seg->max_ts = max_ts;
        seg->max_ts_offset = last_offset;
    }
    if (seg->bytes_since_index > interval) {
        if ((rc = gn__oindex_append(&seg->oidx, rel, (int32_t)pos)) < 0) return rc;
        if (seg->max_ts > GN__NO_TIMESTAMP)
            rc = gn__tindex_append(&seg->tidx, seg->max_ts,
                                   (int32_t)(seg->max_ts_offset - seg->base_offset));
        seg->bytes_since_index = 0;
        seg->dirty_index = true;
    }
    seg->bytes_since_index += size;
    seg->next_offset = last_offset + 1;
    return rc;
}

int gn__segment_write_indexes(gn_segment_t *seg)
{
    char p[4096];
    int rc;

    if (!seg->indexes_loaded || !seg->dirty_index) return 0;
    gn__segment_path(seg, ".index", p, sizeof(p));
    if ((rc = gn__oindex_write(p, &seg->oidx)) < 0) return rc;
    gn__segment_path(seg, ".timeindex", p, sizeof(p));
    if ((rc = gn__tindex_write(p, &seg->tidx)) < 0) return rc;
    seg->dirty_index = false;
    return 0;
}

int gn__segment_seal(gn_segment_t *seg)
{
    int rc;

    if ((rc = gn__segment_cut_zeros(seg)) < 0) return rc;
    /* Kafka's onBecomeInactiveSegment: the last time entry holds the segment's
     * largest timestamp, so retention reads it from the file's last entry */
    if (seg->indexes_loaded && seg->max_ts > GN__NO_TIMESTAMP) {
        int32_t n = seg->tidx.n;
        rc = gn__tindex_append(&seg->tidx, seg->max_ts,
                               (int32_t)(seg->max_ts_offset - seg->base_offset));
        if (rc < 0) return rc;
        if (seg->tidx.n != n) seg->dirty_index = true;
    }
    return gn__segment_write_indexes(seg);
}

/* The last offset index entry must point at a batch holding its offset. */
static bool last_entry_ok(gn_segment_t *seg)
{
    gn_seg_cursor_t cur;
    gn_batch_header_t hdr;
    int64_t pos;
    const gn_offset_entry_t *e;

    if (seg->oidx.n == 0) return true;
    e = &seg->oidx.e[seg->oidx.n - 1];
    gn__cursor_init(&cur, seg, e->pos, seg->size);
    if (gn__cursor_next(&cur, &hdr, &pos) != 1) return false;
    return hdr.base_offset <= seg->base_offset + e->rel &&
           gn_batch_last_offset(&hdr) == seg->base_offset + e->rel;
}

/* Retention trusts the last time entry as the segment's largest timestamp: it must
 * be the max timestamp of the batch it names (a damaged entry could expire data). */
static bool last_time_entry_ok(gn_segment_t *seg)
{
    gn_batch_header_t hdr;
    const gn_time_entry_t *t;
    int64_t pos;

    if (seg->tidx.n == 0) return true;
    t = &seg->tidx.e[seg->tidx.n - 1];
    if (gn__segment_translate(seg, seg->base_offset + t->rel, &pos, &hdr) != 1) return false;
    return gn_batch_last_offset(&hdr) == seg->base_offset + t->rel && hdr.max_timestamp == t->ts;
}

int gn__segment_load_indexes(gn_segment_t *seg, int32_t interval)
{
    char p[4096];
    int64_t bad = -1;
    int orc, trc, rc;

    if (seg->indexes_loaded) return 0;
    gn__segment_path(seg, ".index", p, sizeof(p));
    orc = gn__oindex_load(p, seg->size, &seg->oidx);
    gn__segment_path(seg, ".timeindex", p, sizeof(p));
    trc = gn__tindex_load(p, &seg->tidx);
    seg->indexes_loaded = true;
    if (orc == 0 && trc == 0 && (seg->size == 0 || seg->tidx.n > 0) && last_entry_ok(seg)) {
        if (seg->tidx.n > 0) {
            const gn_time_entry_t *t = &seg->tidx.e[seg->tidx.n - 1];
            seg->max_ts = t->ts;
            seg->max_ts_offset = seg->base_offset + t->rel;
        }
        /* the end: a walk of at most one index interval past the last entry */
        rc = gn__segment_find_end(seg);
        if (rc < 0 && rc != GN_ECORRUPT) return rc;
        if (rc == 0 && last_time_entry_ok(seg)) return 0;
    }
    if (seg->size > 0 || orc != GN_ENOENT)
        GN_WARN("log",
                "index files missing or corrupt, rebuilding | file=%s.index "
                "index_err=%d timeindex_err=%d",
                seg->path, orc, trc);
    gn__oindex_free(&seg->oidx);
    gn__tindex_free(&seg->tidx);
    if ((rc = gn__segment_rebuild(seg, interval, &bad)) < 0) return rc;
    if (bad >= 0)
        GN_WARN("log",
                "unreadable batch header in a trusted segment, reads stop there | "
                "file=%s.log pos=%" PRId64,
                seg->path, bad);
    seg->dirty_index = true;
    return gn__segment_write_indexes(seg);
}

int gn__segment_truncate(gn_segment_t *seg, int64_t offset, int32_t interval)
{
    gn_batch_header_t hdr;
    int64_t pos, bad;
    int rc;

    if ((rc = gn__segment_load_indexes(seg, interval)) < 0) return rc;
    if ((rc = gn__segment_translate(seg, offset, &pos, &hdr)) <= 0)
        return rc; /* nothing at or after offset here */
    if (ftruncate(seg->fd, (off_t)pos) < 0) return -errno;
    seg->size = seg->file_end = pos;
    /* the indexes and the end are rebuilt from the (now shorter) file: a bounded
     * walk from the last surviving index entry would do, a full one is simpler */
    gn__oindex_free(&seg->oidx);
    gn__tindex_free(&seg->tidx);
    seg->max_ts = GN__NO_TIMESTAMP;
    seg->max_ts_offset = -1;
    if ((rc = gn__segment_rebuild(seg, interval, &bad)) < 0) return rc;
    seg->dirty_index = true;
    return 0;
}

static const char *const seg_exts[] = {".log", ".index", ".timeindex"};

int gn__segment_rename_deleted(gn_segment_t *seg)
{
    char from[4096], to[4096 + 16];
    int rc = 0;

    for (size_t i = 0; i < sizeof(seg_exts) / sizeof(seg_exts[0]); i++) {
        gn__segment_path(seg, seg_exts[i], from, sizeof(from));
        snprintf(to, sizeof(to), "%s.deleted", from);
        if (rename(from, to) < 0 && errno != ENOENT && rc == 0) rc = -errno;
    }
    return rc;
}

void gn__segment_unlink_deleted(const char *path_prefix)
{
    char p[4096];

    for (size_t i = 0; i < sizeof(seg_exts) / sizeof(seg_exts[0]); i++) {
        snprintf(p, sizeof(p), "%s%s.deleted", path_prefix, seg_exts[i]);
        unlink(p);
    }
}

void gn_log_slice_release(gn_log_slice_t *slice)
{
    if (!slice) return;
    gn__segment_unref(slice->seg);
    slice->seg = NULL;
    slice->fd = -1;
    slice->len = 0;
}

int gn_log_slice_read(const gn_log_slice_t *slice, uint8_t *buf)
{
    int64_t done = 0;

    while (done < slice->len) {
        ssize_t r =
            pread(slice->fd, buf + done, (size_t)(slice->len - done), (off_t)(slice->pos + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        if (r == 0) return GN_EIO; /* the file is shorter than the slice: truncated under us */
        done += r;
    }
    return 0;
}
