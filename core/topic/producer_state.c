/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotent-producer state of one partition (Kafka's ProducerStateManager): the
 * epoch and sequence checks gn_produce runs before an append, the duplicate cache of
 * the last 5 runs of batches per producer (a run: batches contiguous in sequence and
 * offset), expiration, and the <offset>.snapshot files with the
 * log-tail replay that rebuild it at open. Called by partition.c on the loop thread. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"
#include "topic/producer_state.h"

/* ---- the table ---- */

void gn__producer_state_init(gn__producer_state_t *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->expiration_ms = GN__PRODUCER_EXPIRATION_MS;
}

void gn__producer_state_close(gn__producer_state_t *ps)
{
    free(ps->v);
    ps->v = NULL;
    ps->n = ps->cap = 0;
}

/* Index of id, or of where it would go (*found false). */
static size_t lower_bound(const gn__producer_state_t *ps, int64_t id, bool *found)
{
    size_t lo = 0, hi = ps->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < ps->n && ps->v[lo].id == id;
    return lo;
}

const gn__producer_t *gn__producer_state_find(const gn__producer_state_t *ps, int64_t id)
{
    bool found;
    size_t i = lower_bound(ps, id, &found);
    return found ? &ps->v[i] : NULL;
}

int32_t gn__producer_last_seq(const gn_batch_header_t *hdr)
{
    int32_t base = hdr->base_sequence, inc = hdr->last_offset_delta;
    if (base > INT32_MAX - inc) return inc - (INT32_MAX - base) - 1;
    return base + inc;
}

/* Kafka's ProducerStateManager.inSequence: next follows last, wrapping at INT32_MAX. */
static bool in_sequence(int32_t last, int32_t next)
{
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

/* ---- checks ---- */

/* [first, last] lies inside the cached run b (exactly b when either wraps past INT32_MAX). */
static bool within(const gn__producer_batch_t *b, int32_t first, int32_t last)
{
    if (b->first_seq > b->last_seq || first > last)
        return b->first_seq == first && b->last_seq == last;
    return b->first_seq <= first && last <= b->last_seq;
}

enum { VERDICT_APPEND = 0, VERDICT_DUP = 1 };

/* A batch against the stored state (no earlier batch of its producer in the buffer). */
static int check_stored(const gn__producer_state_t *ps, const gn_batch_header_t *hdr,
                        gn__producer_dup_t *dup)
{
    const gn__producer_t *p = gn__producer_state_find(ps, hdr->producer_id);
    int32_t last_seq = gn__producer_last_seq(hdr);
    /* KIP-360 (Kafka 2.5+): a producer the partition does not know (new, or expired
     * after retention removed its batches) is accepted at any sequence */
    if (!p || p->nbatches == 0) return VERDICT_APPEND;
    if (hdr->producer_epoch == p->epoch) {
        for (int i = 0; i < p->nbatches; i++) {
            const gn__producer_batch_t *b = &p->batches[i];
            if (within(b, hdr->base_sequence, last_seq)) {
                /* a run advances sequences and offsets together */
                dup->first_offset = b->first_offset + (hdr->base_sequence - b->first_seq);
                dup->last_offset = b->first_offset + (last_seq - b->first_seq);
                dup->timestamp = b->timestamp;
                return VERDICT_DUP;
            }
        }
    }
    if (hdr->producer_epoch < p->epoch) return GN_EPRODUCER_FENCED;
    if (hdr->producer_epoch != p->epoch)
        return hdr->base_sequence == 0 ? VERDICT_APPEND : GN_EOUT_OF_ORDER_SEQ;
    int32_t last = p->batches[p->nbatches - 1].last_seq;
    return in_sequence(last, hdr->base_sequence) ? VERDICT_APPEND : GN_EOUT_OF_ORDER_SEQ;
}

/* A batch following prev, an earlier batch of the same producer in the same buffer. */
static int check_after(const gn_batch_header_t *prev, const gn_batch_header_t *hdr)
{
    if (hdr->producer_epoch < prev->producer_epoch) return GN_EPRODUCER_FENCED;
    if (hdr->producer_epoch != prev->producer_epoch)
        return hdr->base_sequence == 0 ? VERDICT_APPEND : GN_EOUT_OF_ORDER_SEQ;
    return in_sequence(gn__producer_last_seq(prev), hdr->base_sequence) ? VERDICT_APPEND
                                                                        : GN_EOUT_OF_ORDER_SEQ;
}

/* The last batch of producer id in buf before position stop (false if none). */
static bool find_prev(const uint8_t *buf, size_t stop, int64_t id, gn_batch_header_t *out)
{
    size_t pos = 0;
    bool found = false;
    while (pos < stop) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(buf + pos, stop - pos, &hdr);
        if (n <= 0) break;
        if (hdr.producer_id == id) {
            *out = hdr;
            found = true;
        }
        pos += (size_t)n;
    }
    return found;
}

int gn__producer_state_check(const gn__producer_state_t *ps, const uint8_t *buf, size_t len,
                             gn__producer_dup_t *dup)
{
    size_t pos = 0;
    int ndup = 0, nappend = 0;
    while (pos < len) {
        gn_batch_header_t hdr, prev;
        int64_t n = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (n == GN_EAGAIN) return GN_ECORRUPT;
        if (n < 0) return (int)n;
        int rc = VERDICT_APPEND;
        if (hdr.producer_id >= 0) {
            gn__producer_dup_t d;
            /* after an earlier batch of its producer in buf, unless that one is a
             * duplicate (then the stored state still decides) */
            if (pos > 0 && find_prev(buf, pos, hdr.producer_id, &prev) &&
                check_stored(ps, &prev, &d) != VERDICT_DUP) {
                rc = check_after(&prev, &hdr);
            } else {
                rc = check_stored(ps, &hdr, &d);
                if (rc == VERDICT_DUP) {
                    if (ndup == 0) *dup = d;
                    dup->last_offset = d.last_offset;
                    if (d.timestamp > dup->timestamp) dup->timestamp = d.timestamp;
                }
            }
        }
        if (rc < 0) return rc;
        if (rc == VERDICT_DUP)
            ndup++;
        else
            nappend++;
        pos += (size_t)n;
    }
    if (ndup == 0) return VERDICT_APPEND;
    /* Kafka's Produce v3+ carries one batch per partition, so a mix cannot come from a
     * Kafka client; appending part of a buffer would break gn_produce's all-or-nothing */
    return nappend == 0 ? VERDICT_DUP : GN_EDUPLICATE_SEQ;
}

/* ---- updates ---- */

static gn__producer_t *insert(gn__producer_state_t *ps, int64_t id)
{
    bool found;
    size_t i = lower_bound(ps, id, &found);
    if (found) return &ps->v[i];
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        gn__producer_t *v = realloc(ps->v, cap * sizeof(*v));
        if (!v) return NULL;
        ps->v = v;
        ps->cap = cap;
    }
    memmove(&ps->v[i + 1], &ps->v[i], (ps->n - i) * sizeof(*ps->v));
    ps->n++;
    memset(&ps->v[i], 0, sizeof(ps->v[i]));
    ps->v[i].id = id;
    ps->v[i].epoch = -1;
    return &ps->v[i];
}

int gn__producer_state_update_one(gn__producer_state_t *ps, const gn_batch_header_t *hdr,
                                  int64_t now_ms)
{
    if (hdr->producer_id < 0) return 0;
    gn__producer_t *p = insert(ps, hdr->producer_id);
    if (!p) return GN_ENOMEM;
    if (p->epoch != hdr->producer_epoch) { /* a new epoch starts a new history */
        p->epoch = hdr->producer_epoch;
        p->nbatches = 0;
    }
    int64_t ts = hdr->max_timestamp >= 0 ? hdr->max_timestamp : now_ms;
    int32_t last_seq = gn__producer_last_seq(hdr);
    if (p->nbatches > 0) {
        /* continues the newest run in sequence and offset (nothing else appended between):
         * the run grows, so 5 runs cover a whole pipelined window of batches (forwarded
         * produce sends up to 5 requests of many batches each) */
        gn__producer_batch_t *b = &p->batches[p->nbatches - 1];
        if (b->first_seq <= b->last_seq && b->last_seq < INT32_MAX &&
            hdr->base_sequence == b->last_seq + 1 && hdr->base_sequence <= last_seq &&
            hdr->base_offset == b->last_offset + 1) {
            b->last_seq = last_seq;
            b->last_offset = gn_batch_last_offset(hdr);
            if (ts > b->timestamp) b->timestamp = ts;
            p->last_timestamp = ts;
            return 0;
        }
    }
    if (p->nbatches == GN__PRODUCER_BATCHES) {
        memmove(&p->batches[0], &p->batches[1], (GN__PRODUCER_BATCHES - 1) * sizeof(p->batches[0]));
        p->nbatches--;
    }
    p->batches[p->nbatches++] = (gn__producer_batch_t){
        .first_seq = hdr->base_sequence,
        .last_seq = last_seq,
        .first_offset = hdr->base_offset,
        .last_offset = gn_batch_last_offset(hdr),
        .timestamp = ts,
    };
    p->last_timestamp = ts;
    return 0;
}

int gn__producer_state_update(gn__producer_state_t *ps, const uint8_t *buf, size_t len,
                              int64_t now_ms)
{
    size_t pos = 0;
    int rc = 0;
    while (pos < len) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (n <= 0) break; /* validated by the append that just succeeded */
        int r = gn__producer_state_update_one(ps, &hdr, now_ms);
        if (r < 0) rc = r;
        pos += (size_t)n;
    }
    return rc;
}

size_t gn__producer_state_expire(gn__producer_state_t *ps, int64_t now_ms)
{
    size_t kept = 0, n = ps->n;
    for (size_t i = 0; i < n; i++) {
        if (now_ms - ps->v[i].last_timestamp >= ps->expiration_ms) continue;
        if (kept != i) ps->v[kept] = ps->v[i];
        kept++;
    }
    ps->n = kept;
    return n - kept;
}

/* ---- snapshot format (docs/storage.md, "Producer state"); all big-endian ----
 *   u32 magic "GNPS" | u16 version 1 | u16 0 | i64 offset | u32 count
 *   count x { i64 producer id | i16 epoch | u8 nbatches | u8 0 | i64 last timestamp |
 *             nbatches x { i32 first seq | i32 last seq | i64 first offset |
 *                          i64 last offset | i64 timestamp } }
 *   u32 CRC-32C of every byte before it */

#define SNAP_MAGIC    0x474e5053u /* "GNPS" */
#define SNAP_VERSION  1
#define SNAP_HEADER   20
#define SNAP_PRODUCER 20
#define SNAP_BATCH    32

static uint8_t *put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

static uint64_t get(const uint8_t **p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *(*p)++;
    return v;
}

int gn__producer_state_encode(const gn__producer_state_t *ps, int64_t offset, uint8_t **out,
                              size_t *len)
{
    size_t size = SNAP_HEADER + 4;
    for (size_t i = 0; i < ps->n; i++)
        size += SNAP_PRODUCER + ps->v[i].nbatches * SNAP_BATCH;
    uint8_t *buf = malloc(size), *p = buf;
    if (!buf) return GN_ENOMEM;
    p = put(p, SNAP_MAGIC, 4);
    p = put(p, SNAP_VERSION, 2);
    p = put(p, 0, 2);
    p = put(p, (uint64_t)offset, 8);
    p = put(p, (uint32_t)ps->n, 4);
    for (size_t i = 0; i < ps->n; i++) {
        const gn__producer_t *pr = &ps->v[i];
        p = put(p, (uint64_t)pr->id, 8);
        p = put(p, (uint16_t)pr->epoch, 2);
        p = put(p, pr->nbatches, 1);
        p = put(p, 0, 1);
        p = put(p, (uint64_t)pr->last_timestamp, 8);
        for (int j = 0; j < pr->nbatches; j++) {
            const gn__producer_batch_t *b = &pr->batches[j];
            p = put(p, (uint32_t)b->first_seq, 4);
            p = put(p, (uint32_t)b->last_seq, 4);
            p = put(p, (uint64_t)b->first_offset, 8);
            p = put(p, (uint64_t)b->last_offset, 8);
            p = put(p, (uint64_t)b->timestamp, 8);
        }
    }
    p = put(p, gn_crc32c(0, buf, (size_t)(p - buf)), 4);
    *out = buf;
    *len = size;
    return 0;
}

int gn__producer_state_decode(gn__producer_state_t *ps, const uint8_t *buf, size_t len,
                              int64_t *offset)
{
    const uint8_t *p = buf, *end = buf + len;
    if (len < SNAP_HEADER + 4) return GN_ECORRUPT;
    const uint8_t *c = end - 4;
    if (gn_crc32c(0, buf, len - 4) != (uint32_t)get(&c, 4)) return GN_ECORRUPT;
    end -= 4;
    if (get(&p, 4) != SNAP_MAGIC || get(&p, 2) != SNAP_VERSION) return GN_ECORRUPT;
    p += 2;
    int64_t off = (int64_t)get(&p, 8);
    uint32_t count = (uint32_t)get(&p, 4);
    if (off < 0 || count > (size_t)(end - p) / SNAP_PRODUCER) return GN_ECORRUPT;
    gn__producer_t *v = count ? calloc(count, sizeof(*v)) : NULL;
    if (count && !v) return GN_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        gn__producer_t *pr = &v[i];
        if (end - p < SNAP_PRODUCER) goto corrupt;
        pr->id = (int64_t)get(&p, 8);
        pr->epoch = (int16_t)get(&p, 2);
        pr->nbatches = (uint8_t)get(&p, 1);
        p++;
        pr->last_timestamp = (int64_t)get(&p, 8);
        if (pr->id < 0 || pr->nbatches > GN__PRODUCER_BATCHES ||
            end - p < (ptrdiff_t)pr->nbatches * SNAP_BATCH || (i > 0 && pr->id <= v[i - 1].id))
            goto corrupt;
        for (int j = 0; j < pr->nbatches; j++) {
            gn__producer_batch_t *b = &pr->batches[j];
            b->first_seq = (int32_t)get(&p, 4);
            b->last_seq = (int32_t)get(&p, 4);
            b->first_offset = (int64_t)get(&p, 8);
            b->last_offset = (int64_t)get(&p, 8);
            b->timestamp = (int64_t)get(&p, 8);
        }
    }
    if (p != end) goto corrupt;
    free(ps->v);
    ps->v = v;
    ps->n = ps->cap = count;
    *offset = off;
    return 0;
corrupt:
    free(v);
    return GN_ECORRUPT;
}

/* ---- snapshot files ---- */

/* DIR/<%020d>.snapshot -> offset, or -1 for any other name. */
static int64_t snapshot_offset(const char *name)
{
    size_t n = strlen(name);
    if (n != 20 + 9 || strcmp(name + 20, ".snapshot") != 0) return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return -1;
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The snapshot offsets in dir, newest first; *out malloc'd (NULL when none). */
static int list_snapshots(const char *dir, int64_t **out, size_t *n)
{
    DIR *d = opendir(dir);
    size_t cap = 0;
    int rc = 0;
    *out = NULL;
    *n = 0;
    if (!d) return -errno;
    struct dirent *de;
    while ((de = readdir(d))) {
        int64_t off = snapshot_offset(de->d_name);
        if (off < 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *v = realloc(*out, cap * sizeof(*v));
            if (!v) {
                rc = GN_ENOMEM;
                break;
            }
            *out = v;
        }
        (*out)[(*n)++] = off;
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof(**out), cmp_desc);
    return rc;
}

static void snapshot_path(char *path, size_t cap, const char *dir, int64_t offset)
{
    snprintf(path, cap, "%s/%020" PRId64 ".snapshot", dir, offset);
}

static void remove_snapshot(const char *dir, int64_t offset, const char *why)
{
    char path[PATH_MAX];
    snapshot_path(path, sizeof(path), dir, offset);
    if (unlink(path) == 0)
        GN_DEBUG("topic", "removed producer snapshot | file=%s reason=%s", path, why);
}

int gn__producer_state_write_snapshot(const gn__producer_state_t *ps, const char *dir,
                                      int64_t offset)
{
    char path[PATH_MAX];
    uint8_t *buf = NULL;
    size_t len, n;
    int64_t *offs = NULL;
    int rc = gn__producer_state_encode(ps, offset, &buf, &len);
    if (rc < 0) return rc;
    snapshot_path(path, sizeof(path), dir, offset);
    if ((rc = gn__atomic_write(path, buf, len)) < 0) goto out;
    if (list_snapshots(dir, &offs, &n) == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
            if (offs[i] > offset) continue; /* removed at the next open if above the end */
            if (++kept > GN__PRODUCER_SNAPSHOTS_KEPT) remove_snapshot(dir, offs[i], "superseded");
        }
    }
out:
    free(offs);
    free(buf);
    return rc;
}

static int load_snapshot(gn__producer_state_t *ps, const char *dir, int64_t off)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    int64_t got = -1;
    snapshot_path(path, sizeof(path), dir, off);
    int rc = gn__read_small_file(path, GN__PRODUCER_SNAPSHOT_MAX, &text, &len);
    if (rc == 0) rc = gn__producer_state_decode(ps, (const uint8_t *)text, len, &got);
    if (rc == 0 && got != off) rc = GN_ECORRUPT; /* renamed or copied over another */
    free(text);
    if (rc < 0)
        GN_WARN("topic", "ignoring unreadable producer snapshot | file=%s err=%s", path,
                gn_strerror(rc));
    return rc;
}

/* Replays the batch headers of [from, end): one 61-byte pread per batch. */
static int replay(gn__producer_state_t *ps, gn_log_t *log, int64_t from, int64_t now_ms,
                  int64_t *nbatches)
{
    int64_t end = gn_log_end_offset(log);
    while (from < end) {
        gn_log_slice_t s;
        int rc = gn_log_read(log, from, 64u << 20, end, &s);
        if (rc < 0) return rc;
        if (s.len == 0) {
            gn_log_slice_release(&s);
            break;
        }
        int64_t pos = s.pos, stop = s.pos + s.len, next = from;
        while (pos < stop) {
            uint8_t h[GN_BATCH_HEADER_SIZE];
            gn_batch_header_t hdr;
            ssize_t r = pread(s.fd, h, sizeof(h), pos);
            if (r != (ssize_t)sizeof(h)) {
                rc = r < 0 ? -errno : GN_ECORRUPT;
                break;
            }
            int64_t n = gn_batch_peek(h, sizeof(h), &hdr);
            if (n < 0 && n != GN_EAGAIN) {
                rc = (int)n;
                break;
            }
            if (gn_batch_last_offset(&hdr) >= from) {
                if ((rc = gn__producer_state_update_one(ps, &hdr, now_ms)) < 0) break;
                (*nbatches)++;
            }
            next = gn_batch_last_offset(&hdr) + 1;
            pos += gn_batch_size(&hdr);
        }
        gn_log_slice_release(&s);
        if (rc < 0) return rc;
        if (next <= from) break; /* no progress: never loop */
        from = next;
    }
    return 0;
}

int gn__producer_state_load(gn__producer_state_t *ps, const char *dir, gn_log_t *log,
                            int64_t now_ms)
{
    int64_t *offs = NULL, from = -1, nbatches = 0;
    size_t n = 0;
    int64_t end = gn_log_end_offset(log), start = gn_log_start_offset(log);
    int rc = list_snapshots(dir, &offs, &n);
    if (rc < 0 && rc != -ENOENT) goto out;
    for (size_t i = 0; i < n; i++) {
        if (offs[i] > end) { /* the log tail it covered is gone (crash truncation) */
            remove_snapshot(dir, offs[i], "above the log end");
            continue;
        }
        if (load_snapshot(ps, dir, offs[i]) == 0) {
            from = offs[i];
            break;
        }
    }
    if (from < start) from = start;
    rc = replay(ps, log, from, now_ms, &nbatches);
    if (rc < 0) {
        GN_ERROR("topic", "cannot rebuild producer state | dir=%s err=%s", dir, gn_strerror(rc));
        goto out;
    }
    size_t expired = gn__producer_state_expire(ps, now_ms);
    if (nbatches > 0 || expired > 0)
        GN_INFO("topic",
                "producer state loaded | dir=%s from=%" PRId64 " replayed_batches=%" PRId64
                " producers=%zu expired=%zu",
                dir, from, nbatches, ps->n, expired);
out:
    free(offs);
    return rc;
}
