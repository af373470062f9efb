/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a log directory: stray .deleted/.cleaned files removed, a .swap left by a
 * compaction interrupted mid-swap completed, orphan indexes removed, segments loaded
 * by base offset. After a clean shutdown the files are trusted and the end is found
 * with a bounded walk; otherwise every batch from the recovery point on is checked
 * (length, CRC32C, offsets), the log is cut at the first bad byte and the indexes
 * rebuilt. Loop thread, during gn_log_open. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/log_impl.h"
#include "record/wire.h"

#define RECOVER_WINDOW    (1 << 20)
#define RECOVER_BATCH_MAX (256 << 20) /* larger than any accepted batch: corrupt */

/* "%020d" + ext: returns the base offset and points *ext after the digits; -1 for
 * other names, also 20 digits beyond INT64_MAX (no offset: not a segment of ours). */
static int64_t parse_name(const char *name, const char **ext)
{
    int64_t v = 0;

    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return -1;
        if (v > (INT64_MAX - (name[i] - '0')) / 10) return -1;
        v = v * 10 + (name[i] - '0');
    }
    *ext = name + 20;
    return v;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void remove_file(const char *dir, const char *name, const char *why)
{
    char p[4096];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    if (unlink(p) == 0) GN_INFO("log", "removed stray file | file=%s reason=%s", p, why);
}

/* Kafka's interrupted-swap rule: X.log.swap replaces X.log; its indexes are rebuilt. */
static void complete_swap(const char *dir, int64_t base)
{
    char from[4096], to[4096];

    snprintf(from, sizeof(from), "%s/%020" PRId64 ".log.swap", dir, base);
    snprintf(to, sizeof(to), "%s/%020" PRId64 ".log", dir, base);
    if (rename(from, to) == 0)
        GN_WARN("log", "completed an interrupted compaction swap | file=%s", to);
    snprintf(to, sizeof(to), "%s/%020" PRId64 ".index", dir, base);
    unlink(to);
    snprintf(to, sizeof(to), "%s/%020" PRId64 ".timeindex", dir, base);
    unlink(to);
}

/* Pass 1: stray files. Pass 2: orphan indexes; collects the .log base offsets. */
static int scan_dir(const char *dir, bool strays, int64_t **bases, int *nbases)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int cap = 0, rc = 0;
    char p[4096];

    if (!d) return -errno;
    while ((de = readdir(d))) {
        const char *ext;
        int64_t base = parse_name(de->d_name, &ext);
        if (base < 0) continue; /* not ours: checkpoints, partition.metadata, ... */
        if (strays) {
            if (ends_with(ext, ".deleted") || ends_with(ext, ".cleaned"))
                remove_file(dir, de->d_name, "leftover of deletion or compaction");
            else if (strcmp(ext, ".log.swap") == 0)
                complete_swap(dir, base);
            else if (ends_with(ext, ".swap"))
                remove_file(dir, de->d_name, "index of an interrupted swap");
        } else if (strcmp(ext, ".index") == 0 || strcmp(ext, ".timeindex") == 0) {
            snprintf(p, sizeof(p), "%s/%020" PRId64 ".log", dir, base);
            if (access(p, F_OK) < 0) remove_file(dir, de->d_name, "orphan index without .log");
        } else if (strcmp(ext, ".log") == 0) {
            if (*nbases == cap) {
                int64_t *n = realloc(*bases, (size_t)(cap ? cap * 2 : 16) * sizeof(*n));
                if (!n) {
                    rc = GN_ENOMEM;
                    break;
                }
                *bases = n;
                cap = cap ? cap * 2 : 16;
            }
            (*bases)[(*nbases)++] = base;
        }
    }
    closedir(d);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int load_segments(gn_log_t *log, int64_t start, int64_t now_ms)
{
    int64_t *bases = NULL;
    int nbases = 0, rc;
    gn_segment_t *seg;

    if ((rc = scan_dir(log->dir, true, &bases, &nbases)) < 0 ||
        (rc = scan_dir(log->dir, false, &bases, &nbases)) < 0)
        goto out;
    if (nbases > 1) qsort(bases, (size_t)nbases, sizeof(*bases), cmp_i64);
    for (int i = 0; i < nbases; i++) {
        if ((rc = gn__segment_open(log->dir, bases[i], &seg)) < 0) goto out;
        if ((rc = gn__log_add_segment(log, seg)) < 0) {
            gn__segment_unref(seg);
            goto out;
        }
    }
    if (log->nsegs == 0) {
        if ((rc = gn__segment_create(log->dir, start < 0 ? 0 : start, now_ms, &seg)) < 0) goto out;
        if ((rc = gn__log_add_segment(log, seg)) < 0) gn__segment_unref(seg);
        log->dir_dirty = true;
    }
out:
    free(bases);
    return rc;
}

typedef struct recover_buf {
    uint8_t *p;
    size_t cap;
    int64_t win_pos; /* file position of p[0] */
    size_t win_len;
} recover_buf_t;

static int window_at(recover_buf_t *rb, const gn_segment_t *seg, int64_t pos, size_t need)
{
    size_t want = need > RECOVER_WINDOW ? need : RECOVER_WINDOW;
    size_t got = 0;

    if (want > (size_t)(seg->size - pos)) want = (size_t)(seg->size - pos);
    if (want > rb->cap) {
        uint8_t *n = realloc(rb->p, want);
        if (!n) return GN_ENOMEM;
        rb->p = n;
        rb->cap = want;
    }
    while (got < want) {
        ssize_t r = pread(seg->fd, rb->p + got, want - got, (off_t)(pos + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return r < 0 ? -errno : GN_EIO;
        got += (size_t)r;
    }
    rb->win_pos = pos;
    rb->win_len = got;
    return 0;
}

/* Checks the batch at pos; > 0 its size, or the reason it is bad (< 0). */
static int64_t check_batch(recover_buf_t *rb, gn_segment_t *seg, int64_t pos, int64_t expected,
                           gn_batch_header_t *hdr)
{
    int64_t left = seg->size - pos, need, size;
    int rc;

    if (left < GN_BATCH_HEADER_SIZE) return GN_EAGAIN; /* torn header */
    if (pos + GN_BATCH_HEADER_SIZE > rb->win_pos + (int64_t)rb->win_len &&
        (rc = window_at(rb, seg, pos, GN_BATCH_HEADER_SIZE)) < 0)
        return rc;
    need = (int64_t)(int32_t)gn__be32(rb->p + (pos - rb->win_pos) + GN__OFF_BATCH_LENGTH) +
           GN_BATCH_LOG_OVERHEAD;
    if (need > left)
        return need < GN_BATCH_HEADER_SIZE || need > RECOVER_BATCH_MAX ? GN_ECORRUPT : GN_EAGAIN;
    if (need >= GN_BATCH_HEADER_SIZE && need <= RECOVER_BATCH_MAX &&
        pos + need > rb->win_pos + (int64_t)rb->win_len &&
        (rc = window_at(rb, seg, pos, (size_t)need)) < 0)
        return rc;
    size = gn_batch_validate(rb->p + (pos - rb->win_pos), rb->win_len - (size_t)(pos - rb->win_pos),
                             SIZE_MAX, hdr);
    if (size < 0) return size;
    if (hdr->base_offset < expected || gn_batch_last_offset(hdr) - seg->base_offset > INT32_MAX)
        return GN_ECORRUPT; /* offsets must increase within the segment */
    return size;
}

/* Whether [pos, seg->size) holds only zeros: the zeros an active segment had written
 * ahead of its end (segment.c), cut after a crash without a warning. */
static int zero_tail(recover_buf_t *rb, const gn_segment_t *seg, int64_t pos)
{
    while (pos < seg->size) {
        int rc = window_at(rb, seg, pos, 1);
        if (rc < 0) return rc;
        for (size_t i = 0; i < rb->win_len; i++)
            if (rb->p[i]) return 0;
        pos += (int64_t)rb->win_len;
    }
    return 1;
}

/* Validates every batch of seg; cuts the file at the first bad byte. 1 if cut. */
static int recover_segment(gn_log_t *log, gn_segment_t *seg, recover_buf_t *rb)
{
    gn_batch_header_t hdr;
    int64_t pos = 0, expected = seg->base_offset, size = 0;
    int rc;

    rb->win_pos = 0;
    rb->win_len = 0;
    gn__oindex_free(&seg->oidx);
    gn__tindex_free(&seg->tidx);
    seg->indexes_loaded = true;
    seg->end_known = true;
    seg->dirty_index = true;
    seg->bytes_since_index = 0;
    seg->next_offset = seg->base_offset;
    seg->max_ts = GN__NO_TIMESTAMP;
    seg->max_ts_offset = -1;
    while (pos < seg->size && (size = check_batch(rb, seg, pos, expected, &hdr)) > 0) {
        rc = gn__segment_track_batch(seg, log->cfg->index_interval_bytes, pos, size,
                                     gn_batch_last_offset(&hdr), hdr.max_timestamp);
        if (rc < 0) return rc;
        expected = gn_batch_last_offset(&hdr) + 1;
        pos += size;
    }
    if (size == GN_ENOMEM || size == -EIO) return (int)size;
    if (pos < seg->size) {
        if ((rc = zero_tail(rb, seg, pos)) < 0) return rc;
        if (rc == 1)
            GN_INFO("log",
                    "cutting the zeros written ahead of the last batch | file=%s.log pos=%" PRId64
                    " bytes=%" PRId64,
                    seg->path, pos, seg->size - pos);
        else
            GN_WARN("log",
                    "truncating log at the first bad batch | file=%s.log pos=%" PRId64
                    " bytes=%" PRId64 " reason=%s",
                    seg->path, pos, seg->size - pos,
                    size == GN_EAGAIN ? "torn" : gn_err_name((int)size));
        if (ftruncate(seg->fd, (off_t)pos) < 0) return -errno;
        log->size_bytes -= seg->size - pos;
        seg->size = seg->file_end = pos;
        rc = 1;
    } else {
        rc = 0;
    }
    if (gn__segment_write_indexes(seg) < 0)
        GN_WARN("log", "cannot write rebuilt index files | file=%s.index", seg->path);
    return rc;
}

/* Recovers segs[from..]; after a cut, every later segment is deleted. */
static int recover_from(gn_log_t *log, int from)
{
    recover_buf_t rb = {0};
    int rc = 0;

    for (int i = from; i < log->nsegs; i++) {
        gn_segment_t *seg = log->segs[i];
        if ((rc = recover_segment(log, seg, &rb)) < 0) break;
        if (fdatasync(seg->fd) < 0) {
            rc = -errno;
            break;
        }
        if (rc == 1) {
            while (log->nsegs > i + 1)
                gn__log_delete_segment(log, log->nsegs - 1, "after a truncated segment");
            rc = 0;
            break;
        }
    }
    free(rb.p);
    return rc;
}

/* segment.ms counts from the first batch's timestamp, as Kafka's rollingBasedTimestamp. */
static void set_roll_base(gn_segment_t *seg, int64_t now_ms)
{
    gn_seg_cursor_t cur;
    gn_batch_header_t hdr;
    int64_t pos;

    seg->roll_base_ms = now_ms;
    gn__cursor_init(&cur, seg, 0, seg->size);
    if (gn__cursor_next(&cur, &hdr, &pos) == 1 && hdr.max_timestamp >= 0)
        seg->roll_base_ms = hdr.max_timestamp;
}

int gn__log_load(gn_log_t *log, const gn_log_open_opts_t *opts)
{
    gn_segment_t *active;
    int rc;

    if ((rc = load_segments(log, opts->log_start_offset, opts->now_ms)) < 0) return rc;
    active = gn__log_active(log);
    if (opts->clean_shutdown) {
        rc = gn__segment_find_end(active);
        if (rc == GN_ECORRUPT) {
            GN_WARN("log",
                    "clean shutdown marker but the tail does not parse, recovering | "
                    "file=%s.log",
                    active->path);
            rc = recover_from(log, log->nsegs - 1);
        }
    } else {
        int from = gn__log_find_segment(log, opts->recovery_point < 0 ? 0 : opts->recovery_point);
        rc = recover_from(log, from);
    }
    if (rc < 0) return rc;
    active = gn__log_active(log);
    set_roll_base(active, opts->now_ms);
    log->log_start = log->segs[0]->base_offset;
    if (opts->log_start_offset > log->log_start) log->log_start = opts->log_start_offset;
    if (log->log_start > active->next_offset) log->log_start = active->next_offset;
    log->recovery_point = active->next_offset;
    return 0;
}
