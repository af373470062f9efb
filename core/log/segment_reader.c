/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a segment: translate an offset (index binary search, then a bounded
 * forward walk of batch headers with pread), cut a slice of whole batches bounded by
 * max_bytes and max_offset, find by timestamp, rebuild indexes from the headers.
 * Loop thread (thread-pool work may walk an immutable segment). */
#include <errno.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "log/segment.h"
#include "record/wire.h"

void gn__cursor_init(gn_seg_cursor_t *cur, const gn_segment_t *seg, int64_t pos, int64_t limit)
{
    cur->seg = seg;
    cur->pos = pos;
    cur->limit = limit;
    cur->buf_pos = 0;
    cur->buf_len = 0;
}

int gn__cursor_next(gn_seg_cursor_t *cur, gn_batch_header_t *hdr, int64_t *pos)
{
    int64_t size;

    if (cur->pos >= cur->limit) return 0;
    if (cur->limit - cur->pos < GN_BATCH_HEADER_SIZE) return GN_ECORRUPT;
    if (cur->pos < cur->buf_pos ||
        cur->pos + GN_BATCH_HEADER_SIZE > cur->buf_pos + (int64_t)cur->buf_len) {
        int64_t want = cur->limit - cur->pos;
        ssize_t r;
        if (want > (int64_t)sizeof(cur->buf)) want = (int64_t)sizeof(cur->buf);
        do
            r = pread(cur->seg->fd, cur->buf, (size_t)want, (off_t)cur->pos);
        while (r < 0 && errno == EINTR);
        if (r < 0) return -errno;
        cur->buf_pos = cur->pos;
        cur->buf_len = (size_t)r;
        if (r < GN_BATCH_HEADER_SIZE) return GN_ECORRUPT;
    }
    gn__batch_header_decode(cur->buf + (cur->pos - cur->buf_pos), hdr);
    size = gn_batch_size(hdr);
    /* a batch outside the segment's int32 relative range cannot be ours: damage */
    if (hdr->magic != 2 || hdr->batch_length < GN_BATCH_HEADER_SIZE - GN_BATCH_LOG_OVERHEAD ||
        hdr->last_offset_delta < 0 || size > cur->limit - cur->pos ||
        hdr->base_offset < cur->seg->base_offset ||
        gn_batch_last_offset(hdr) - cur->seg->base_offset > INT32_MAX)
        return GN_ECORRUPT;
    *pos = cur->pos;
    cur->pos += size;
    return 1;
}

static int64_t start_pos_for(const gn_segment_t *seg, int64_t offset)
{
    int64_t rel = offset - seg->base_offset;
    int32_t i;

    if (rel > INT32_MAX) rel = INT32_MAX;
    i = rel < 0 ? -1 : gn__oindex_find(&seg->oidx, (int32_t)rel);
    return i < 0 ? 0 : seg->oidx.e[i].pos;
}

int gn__segment_translate(gn_segment_t *seg, int64_t offset, int64_t *pos, gn_batch_header_t *hdr)
{
    gn_seg_cursor_t cur;
    int rc;

    if ((rc = gn__segment_load_indexes(seg, seg->interval)) < 0) return rc;
    if (seg->end_known && offset >= seg->next_offset) return 0;
    gn__cursor_init(&cur, seg, start_pos_for(seg, offset), seg->size);
    while ((rc = gn__cursor_next(&cur, hdr, pos)) == 1) {
        if (gn_batch_last_offset(hdr) >= offset) return 1;
    }
    return rc;
}

/* The last batch boundary at or before limit, walking from a boundary >= from. */
static int64_t boundary_before(gn_segment_t *seg, int64_t from, int64_t limit, int64_t end)
{
    gn_seg_cursor_t cur;
    gn_batch_header_t hdr;
    int64_t pos, best = from;
    int32_t i = gn__oindex_find_pos(&seg->oidx, limit);

    if (i >= 0 && seg->oidx.e[i].pos > from) best = seg->oidx.e[i].pos;
    gn__cursor_init(&cur, seg, best, end);
    while (gn__cursor_next(&cur, &hdr, &pos) == 1 && pos + gn_batch_size(&hdr) <= limit)
        best = pos + gn_batch_size(&hdr);
    return best;
}

int gn__segment_read(gn_segment_t *seg, int64_t offset, size_t max_bytes, int64_t max_offset,
                     gn_log_slice_t *slice)
{
    gn_batch_header_t first, hdr;
    int64_t start, end, limit, max_pos;
    int rc;

    if ((rc = gn__segment_translate(seg, offset, &start, &first)) <= 0) return rc;
    slice->len = 0;
    if (gn_batch_last_offset(&first) >= max_offset)
        return 1; /* the batch holding offset reaches past max_offset: nothing yet */
    end = seg->size;
    if (!seg->end_known || max_offset < seg->next_offset) {
        rc = gn__segment_translate(seg, max_offset, &max_pos, &hdr);
        if (rc < 0) return rc;
        if (rc == 1 && max_pos < end) end = max_pos;
    }
    /* KIP-74: the first batch goes out whole even when larger than max_bytes */
    limit = start + (max_bytes > (size_t)(end - start) ? end - start : (int64_t)max_bytes);
    if (limit < start + gn_batch_size(&first)) limit = start + gn_batch_size(&first);
    if (limit < end) end = boundary_before(seg, start + gn_batch_size(&first), limit, end);
    gn__segment_ref(seg);
    slice->seg = seg;
    slice->fd = seg->fd;
    slice->pos = start;
    slice->len = end - start;
    slice->first_offset = first.base_offset;
    return 1;
}

int gn__segment_find_time(gn_segment_t *seg, int64_t ts, int64_t *offset, int64_t *found_ts)
{
    gn_seg_cursor_t cur;
    gn_batch_header_t hdr;
    int64_t pos, start = 0;
    int32_t i;
    int rc;

    if ((rc = gn__segment_load_indexes(seg, seg->interval)) < 0) return rc;
    if (seg->end_known && seg->max_ts < ts) return 0;
    i = gn__tindex_find(&seg->tidx, ts);
    if (i >= 0) start = start_pos_for(seg, seg->base_offset + seg->tidx.e[i].rel);
    gn__cursor_init(&cur, seg, start, seg->size);
    while ((rc = gn__cursor_next(&cur, &hdr, &pos)) == 1) {
        if (hdr.max_timestamp >= ts) {
            *offset = hdr.base_offset;
            *found_ts = hdr.max_timestamp;
            return 1;
        }
    }
    return rc;
}

static int walk_from(gn_segment_t *seg, int64_t from, int64_t *bad_pos)
{
    gn_seg_cursor_t cur;
    gn_batch_header_t hdr;
    int64_t pos;
    int rc;

    int64_t prev_next = seg->base_offset;

    *bad_pos = -1;
    seg->bytes_since_index = 0;
    gn__cursor_init(&cur, seg, from, seg->size);
    while ((rc = gn__cursor_next(&cur, &hdr, &pos)) == 1) {
        if (hdr.base_offset < prev_next) {
            rc = GN_ECORRUPT; /* offsets only grow inside a segment */
            cur.pos = pos;
            break;
        }
        prev_next = gn_batch_last_offset(&hdr) + 1;
        rc = gn__segment_track_batch(seg, seg->interval, pos, gn_batch_size(&hdr),
                                     gn_batch_last_offset(&hdr), hdr.max_timestamp);
        if (rc < 0) return rc;
    }
    if (rc == GN_ECORRUPT) *bad_pos = cur.pos;
    return rc == GN_ECORRUPT ? 0 : rc;
}

int gn__segment_rebuild(gn_segment_t *seg, int32_t interval, int64_t *bad_pos)
{
    int rc;

    seg->interval = interval;
    seg->oidx.n = 0;
    seg->tidx.n = 0;
    seg->next_offset = seg->base_offset;
    seg->max_ts = GN__NO_TIMESTAMP;
    seg->max_ts_offset = -1;
    seg->indexes_loaded = true;
    if ((rc = walk_from(seg, 0, bad_pos)) < 0) return rc;
    if (*bad_pos >= 0) seg->size = *bad_pos; /* never read past what parses */
    seg->end_known = true;
    seg->dirty_index = true;
    return 0;
}

int gn__segment_find_end(gn_segment_t *seg)
{
    int64_t from = 0, bad;
    int rc;

    if ((rc = gn__segment_load_indexes(seg, seg->interval)) < 0) return rc;
    if (seg->oidx.n > 0) {
        const gn_offset_entry_t *e = &seg->oidx.e[seg->oidx.n - 1];
        from = e->pos;
        seg->next_offset = seg->base_offset + e->rel + 1;
    }
    if ((rc = walk_from(seg, from, &bad)) < 0) return rc;
    if (bad >= 0) return GN_ECORRUPT;
    seg->end_known = true;
    return 0;
}
