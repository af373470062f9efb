/* SPDX-License-Identifier: Apache-2.0 */
/* cleanup.policy=compact. On libuv's thread pool: an offset map (128-bit key hash ->
 * newest offset) over the closed segments, then each segment rewritten into
 * <base>.log.cleaned keeping the newest record per key, records without key, and
 * tombstones younger than delete.retention.ms; offsets are preserved, untouched
 * batches are copied byte for byte. Back on the loop thread each cleaned file is
 * swapped in as Kafka does (.cleaned -> .swap, old -> .deleted, .swap -> .log) so a
 * crash mid-swap recovers. The active segment is never touched; appends and
 * retention go on meanwhile (a segment deleted meanwhile is simply not swapped). */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/log_impl.h"

#define MAP_MIN_SLOTS 1024
#define MAP_MAX_SLOTS (1u << 20) /* 24 MiB: ~786k keys per round, the rest next round */
#define HDR_MAX       256        /* headers per record kept when a batch is rebuilt */

typedef struct map_slot {
    uint64_t h1, h2; /* h1 == 0: empty */
    int64_t offset;
} map_slot_t;

typedef struct offset_map {
    map_slot_t *slots;
    uint32_t cap, used;
} offset_map_t;

typedef struct compact_seg {
    gn_segment_t *seg;   /* ref held */
    int64_t size;        /* snapshot taken on the loop */
    gn_segment_t *clean; /* the rewritten segment (<base>.log.cleaned), or NULL */
} compact_seg_t;

struct gn_compact_work {
    uv_work_t req;
    uv_loop_t *loop;
    gn_log_t *log; /* NULL once detached (closed, truncated) */
    atomic_bool cancel;
    gn_log_compact_cb cb;
    void *arg;
    char *dir;
    char *rm_dir;              /* remove this directory when done (close_and_delete meanwhile) */
    int64_t tombstone_horizon; /* tombstones in batches older than this go */
    int32_t interval;
    compact_seg_t *segs;
    int nsegs, ncleaned; /* segs[0..ncleaned) were covered by the map */
    int status;
    uint8_t *buf; /* one batch */
    size_t buf_cap;
};

static void key_hash(gn_bytes_t key, uint64_t *h1, uint64_t *h2)
{
    uint64_t a = 0xcbf29ce484222325ull, b = 0x9e3779b97f4a7c15ull ^ key.len;

    for (size_t i = 0; i < key.len; i++) {
        a = (a ^ key.ptr[i]) * 0x100000001b3ull;      /* FNV-1a */
        b = (b ^ key.ptr[i]) * 0xff51afd7ed558ccdull; /* a second, independent mix */
        b ^= b >> 29;
    }
    *h1 = a | 1; /* never 0: 0 marks an empty slot */
    *h2 = b;
}

static map_slot_t *map_find(offset_map_t *m, uint64_t h1, uint64_t h2)
{
    uint32_t i = (uint32_t)(h1 ^ (h1 >> 32)) & (m->cap - 1);

    while (m->slots[i].h1 && (m->slots[i].h1 != h1 || m->slots[i].h2 != h2))
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

/* 0, or GN_ENOMEM when the map is at its bound (the caller stops there). */
static int map_put(offset_map_t *m, gn_bytes_t key, int64_t offset)
{
    uint64_t h1, h2;
    map_slot_t *s;

    if ((m->used + 1) * 4 > m->cap * 3) {
        offset_map_t n = {.cap = m->cap * 2};
        if (n.cap > MAP_MAX_SLOTS || !(n.slots = calloc(n.cap, sizeof(*n.slots)))) return GN_ENOMEM;
        for (uint32_t i = 0; i < m->cap; i++)
            if (m->slots[i].h1) *map_find(&n, m->slots[i].h1, m->slots[i].h2) = m->slots[i];
        n.used = m->used;
        free(m->slots);
        *m = n;
    }
    key_hash(key, &h1, &h2);
    s = map_find(m, h1, h2);
    if (!s->h1) m->used++;
    s->h1 = h1;
    s->h2 = h2;
    s->offset = offset;
    return 0;
}

static int64_t map_get(offset_map_t *m, gn_bytes_t key)
{
    uint64_t h1, h2;
    key_hash(key, &h1, &h2);
    map_slot_t *s = map_find(m, h1, h2);
    return s->h1 ? s->offset : -1;
}

/* Reads the batch at pos into w->buf. */
static int read_batch(gn_compact_work_t *w, const gn_segment_t *seg, int64_t pos, size_t size)
{
    gn_log_slice_t slice = {.fd = seg->fd, .pos = pos, .len = (int64_t)size};

    if (size > w->buf_cap) {
        uint8_t *p = realloc(w->buf, size);
        if (!p) return GN_ENOMEM;
        w->buf = p;
        w->buf_cap = size;
    }
    return gn_log_slice_read(&slice, w->buf);
}

typedef int (*batch_fn)(gn_compact_work_t *w, compact_seg_t *cs, offset_map_t *m, int64_t pos,
                        const gn_batch_header_t *hdr);

/* Calls fn for every batch of cs (bytes in w->buf). */
static int each_batch(gn_compact_work_t *w, compact_seg_t *cs, offset_map_t *m, batch_fn fn)
{
    gn_seg_cursor_t cur;
    gn_batch_header_t hdr;
    int64_t pos;
    int rc;

    gn__cursor_init(&cur, cs->seg, 0, cs->size);
    while ((rc = gn__cursor_next(&cur, &hdr, &pos)) == 1) {
        if (atomic_load(&w->cancel)) return GN_ESHUTDOWN;
        if ((rc = read_batch(w, cs->seg, pos, (size_t)gn_batch_size(&hdr))) < 0 ||
            (rc = fn(w, cs, m, pos, &hdr)) < 0)
            return rc;
    }
    return rc;
}

static int map_batch(gn_compact_work_t *w, compact_seg_t *cs, offset_map_t *m, int64_t pos,
                     const gn_batch_header_t *hdr)
{
    gn_record_iter_t it;
    gn_record_t rec;
    int rc;

    if (hdr->attributes & GN_ATTR_CONTROL) return 0;
    if ((rc = gn_record_iter_init(&it, w->buf, (size_t)gn_batch_size(hdr))) < 0) return rc;
    while ((rc = gn_record_iter_next(&it, &rec)) == 1)
        if (rec.key.ptr && (rc = map_put(m, rec.key, rec.offset)) < 0) break;
    gn_record_iter_close(&it);
    return rc;
}

static bool keep_record(gn_compact_work_t *w, offset_map_t *m, const gn_batch_header_t *hdr,
                        const gn_record_t *rec)
{
    if (!rec->key.ptr) return true;
    if (map_get(m, rec->key) > rec->offset) return false; /* a newer record has this key */
    return rec->value.ptr || hdr->max_timestamp >= w->tombstone_horizon;
}

static int write_clean(gn_compact_work_t *w, compact_seg_t *cs, const uint8_t *p, size_t len)
{
    gn_batch_header_t hdr;
    int64_t pos = cs->clean->size;
    int rc;

    if (gn_batch_peek(p, len, &hdr) < 0) return GN_ECORRUPT;
    if ((rc = gn__segment_write(cs->clean, p, len)) < 0) return rc;
    return gn__segment_track_batch(cs->clean, w->interval, pos, (int64_t)len,
                                   gn_batch_last_offset(&hdr), hdr.max_timestamp);
}

/* Rebuilds a batch from its kept records, same offsets, producer and attributes. */
static int rebuild_batch(gn_compact_work_t *w, compact_seg_t *cs, offset_map_t *m,
                         const gn_batch_header_t *hdr)
{
    gn_record_header_t hs[HDR_MAX];
    gn_batch_builder_t b;
    gn_record_iter_t it;
    gn_record_t rec;
    gn_bytes_t out;
    int rc;

    gn_batch_builder_init(&b, (gn_compression_t)(hdr->attributes & GN_ATTR_COMPRESSION_MASK));
    b.extra_attributes = (int16_t)(hdr->attributes & ~GN_ATTR_COMPRESSION_MASK);
    if ((rc = gn_record_iter_init(&it, w->buf, (size_t)gn_batch_size(hdr))) < 0) goto out;
    while ((rc = gn_record_iter_next(&it, &rec)) == 1) {
        gn_bytes_t raw = rec.headers;
        size_t nh = 0;
        if (!keep_record(w, m, hdr, &rec)) continue;
        while (nh < HDR_MAX && gn_record_header_next(&raw, &hs[nh]) == 1)
            nh++;
        rc = gn_batch_builder_add_at(&b, (int32_t)(rec.offset - hdr->base_offset), rec.key,
                                     rec.value, hs, nh, rec.timestamp);
        if (rc < 0) break;
    }
    gn_record_iter_close(&it);
    if (rc < 0 || b.count == 0) goto out; /* nothing kept: the batch goes */
    /* as Kafka: offsets span, producer state and the batch timestamp survive */
    b.last_offset_delta = hdr->last_offset_delta;
    b.producer_id = hdr->producer_id;
    b.producer_epoch = hdr->producer_epoch;
    b.base_sequence = hdr->base_sequence;
    if (hdr->attributes & GN_ATTR_LOG_APPEND_TIME) b.max_timestamp = hdr->max_timestamp;
    if ((rc = gn_batch_builder_finish(&b, hdr->base_offset, &out)) < 0) goto out;
    gn_batch_set_leader_epoch((uint8_t *)out.ptr, hdr->partition_leader_epoch);
    rc = write_clean(w, cs, out.ptr, out.len);
out:
    gn_batch_builder_close(&b);
    return rc;
}

static int clean_batch(gn_compact_work_t *w, compact_seg_t *cs, offset_map_t *m, int64_t pos,
                       const gn_batch_header_t *hdr)
{
    gn_record_iter_t it;
    gn_record_t rec;
    int rc, dropped = 0;

    if (hdr->attributes & GN_ATTR_CONTROL)
        return write_clean(w, cs, w->buf, (size_t)gn_batch_size(hdr));
    if ((rc = gn_record_iter_init(&it, w->buf, (size_t)gn_batch_size(hdr))) < 0) return rc;
    while ((rc = gn_record_iter_next(&it, &rec)) == 1)
        dropped += !keep_record(w, m, hdr, &rec);
    gn_record_iter_close(&it);
    if (rc < 0) return rc;
    if (dropped == 0) return write_clean(w, cs, w->buf, (size_t)gn_batch_size(hdr));
    return rebuild_batch(w, cs, m, hdr);
}

static void compact_run(uv_work_t *req)
{
    gn_compact_work_t *w = req->data;
    offset_map_t m = {.cap = MAP_MIN_SLOTS};
    int rc = 0;

    if (!(m.slots = calloc(m.cap, sizeof(*m.slots)))) {
        w->status = GN_ENOMEM;
        return;
    }
    /* the map covers whole segments; when it fills, this round cleans those before */
    for (w->ncleaned = 0; w->ncleaned < w->nsegs; w->ncleaned++)
        if ((rc = each_batch(w, &w->segs[w->ncleaned], &m, map_batch)) < 0) break;
    if (rc == GN_ENOMEM && w->ncleaned > 0) rc = 0;
    for (int i = 0; rc == 0 && i < w->ncleaned; i++) {
        compact_seg_t *cs = &w->segs[i];
        if ((rc = gn__segment_create_file(w->dir, cs->seg->base_offset, ".log.cleaned",
                                          &cs->clean)) < 0)
            break;
        cs->clean->interval = w->interval;
        if ((rc = each_batch(w, cs, &m, clean_batch)) < 0) break;
        if (fdatasync(cs->clean->fd) < 0) rc = -errno;
    }
    free(m.slots);
    w->status = rc;
}

static void discard_cleaned(compact_seg_t *cs)
{
    char p[4096];

    if (!cs->clean) return;
    gn__segment_path(cs->clean, ".log.cleaned", p, sizeof(p));
    unlink(p);
    gn__segment_unref(cs->clean);
    cs->clean = NULL;
}

static int rename_ext(const gn_segment_t *seg, const char *from_ext, const char *to_ext)
{
    char from[4096], to[4096];

    gn__segment_path(seg, from_ext, from, sizeof(from));
    gn__segment_path(seg, to_ext, to, sizeof(to));
    return rename(from, to) < 0 ? -errno : 0;
}

/* Kafka's swap: .cleaned -> .swap, old -> .deleted, .swap -> .log. A crash
 * anywhere leaves either the old .log or a .swap that recovery completes. */
static int swap_in(gn_log_t *log, compact_seg_t *cs)
{
    int i = gn__log_find_segment(log, cs->seg->base_offset);
    gn_segment_t *old = log->segs[i], *nw = cs->clean;
    int rc;

    if (old != cs->seg || i == log->nsegs - 1) {
        discard_cleaned(cs); /* deleted or truncated meanwhile */
        return 0;
    }
    if ((rc = rename_ext(nw, ".log.cleaned", ".log.swap")) < 0) return rc;
    gn__segment_rename_deleted(old);
    if ((rc = rename_ext(nw, ".log.swap", ".log")) < 0) return rc;
    nw->dirty_index = true;
    if (gn__segment_write_indexes(nw) < 0)
        GN_WARN("log", "cannot write index files after compaction | file=%s.index", nw->path);
    log->size_bytes += nw->size - old->size;
    log->segs[i] = nw;
    cs->clean = NULL;
    gn__log_queue_unlink(log->loop, old->path, gn__segment_unlink_deleted);
    gn__segment_unref(old);
    return 0;
}

static void work_free(gn_compact_work_t *w)
{
    for (int i = 0; i < w->nsegs; i++) {
        discard_cleaned(&w->segs[i]);
        gn__segment_unref(w->segs[i].seg);
    }
    free(w->segs);
    free(w->buf);
    free(w->dir);
    free(w->rm_dir);
    free(w);
}

static void compact_done(uv_work_t *req, int status)
{
    gn_compact_work_t *w = req->data;
    gn_log_t *log = w->log;
    gn_log_compact_cb cb = w->cb;
    void *arg = w->arg;

    if (status == 0) status = w->status;
    if (!log) {
        if (w->rm_dir) gn__log_remove_dir(w->loop, w->rm_dir);
        work_free(w);
        return; /* the log went away: its callback already fired */
    }
    log->compacting = NULL;
    for (int i = 0; status == 0 && i < w->ncleaned; i++)
        status = swap_in(log, &w->segs[i]);
    if (status == 0 && w->ncleaned > 0) {
        const gn_segment_t *last = w->segs[w->ncleaned - 1].seg;
        int next = gn__log_find_segment(log, last->base_offset) + 1;
        if (next < log->nsegs) log->cleaned_upto = log->segs[next]->base_offset;
        log->dir_dirty = true;
    }
    if (status < 0)
        GN_WARN("log", "compaction failed, segments unchanged | dir=%s err=%s", log->dir,
                gn_err_name(status));
    work_free(w);
    cb(arg, status);
}

/* The closed segments old enough for min.compaction.lag.ms, oldest first. */
static int pick_segments(gn_log_t *log, gn_compact_work_t *w, int64_t now_ms)
{
    int n = 0;

    if (!(w->segs = calloc((size_t)log->nsegs, sizeof(*w->segs)))) return GN_ENOMEM;
    for (int i = 0; i < log->nsegs - 1; i++) {
        gn_segment_t *seg = log->segs[i];
        if (gn__segment_load_indexes(seg, seg->interval) < 0 ||
            seg->max_ts > now_ms - log->cfg->min_compaction_lag_ms)
            break;
        gn__segment_ref(seg);
        w->segs[n].seg = seg;
        w->segs[n].size = seg->size;
        n++;
    }
    w->nsegs = n;
    return 0;
}

int gn_log_compact(gn_log_t *log, int64_t now_ms, gn_log_compact_cb cb, void *arg)
{
    gn_compact_work_t *w;
    int rc;

    if (log->close_pending) return GN_ESHUTDOWN;
    if (!(log->cfg->cleanup_policy & GN_CLEANUP_COMPACT)) return GN_EINVAL;
    if (log->compacting) return GN_EAGAIN;
    if (!(w = calloc(1, sizeof(*w))) || !(w->dir = strdup(log->dir))) {
        free(w);
        return GN_ENOMEM;
    }
    w->loop = log->loop;
    w->log = log;
    w->cb = cb;
    w->arg = arg;
    w->interval = log->cfg->index_interval_bytes;
    w->tombstone_horizon = now_ms - log->cfg->delete_retention_ms;
    w->req.data = w;
    atomic_init(&w->cancel, false);
    if ((rc = pick_segments(log, w, now_ms)) < 0 ||
        (rc = uv_queue_work(log->loop, &w->req, compact_run, compact_done)) < 0) {
        work_free(w);
        return rc;
    }
    log->compacting = w;
    return 0;
}

bool gn__compact_detach(gn_log_t *log, const char *rm_dir)
{
    gn_compact_work_t *w = log->compacting;

    if (!w) return false;
    log->compacting = NULL;
    w->log = NULL;
    atomic_store(&w->cancel, true);
    if (rm_dir) w->rm_dir = strdup(rm_dir);
    w->cb(w->arg, GN_ESHUTDOWN); /* the caller's log is going: tell it now */
    return true;
}

double gn_log_dirty_ratio(const gn_log_t *log)
{
    int64_t closed = 0, dirty = 0;

    for (int i = 0; i < log->nsegs - 1; i++) {
        closed += log->segs[i]->size;
        if (log->segs[i]->base_offset >= log->cleaned_upto) dirty += log->segs[i]->size;
    }
    return closed > 0 ? (double)dirty / (double)closed : 0.0;
}
