/* SPDX-License-Identifier: Apache-2.0 */
/* Chunks: the record messages of a run of batches, each serialized once and framed once
 * (unmasked text frames, back to back), in one reference-counted buffer that every
 * subscriber's transport queue holds by reference (write_shared): a fan-out to N
 * sessions costs one decode, one JSON text and N queue entries. Loop thread only (the
 * reference count is not atomic). */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ws.h"

ws_chunk_t *ws_chunk_new(int64_t first)
{
    ws_chunk_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->refs = 1;
    c->first = first;
    c->next = first;
    return c;
}

void ws_chunk_ref(ws_chunk_t *c)
{
    c->refs++;
}

void ws_chunk_unref(ws_chunk_t *c)
{
    if (!c || --c->refs > 0) return;
    free(c->data);
    free(c);
}

static int reserve(ws_chunk_t *c, size_t more)
{
    if (c->len + more <= c->cap) return 0;
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + more)
        cap *= 2;
    uint8_t *d = realloc(c->data, cap);
    if (!d) return GN_ENOMEM;
    c->data = d;
    c->cap = cap;
    return 0;
}

int ws_chunk_add_json(ws_chunk_t *c, json_t *j)
{
    /* the text goes after a 4-byte header (the common 126..65535 case) and moves when
     * its header turns out to be 2 or 10 bytes */
    size_t need = json_dumpb(j, NULL, 0, JSON_COMPACT);
    if (need == 0) return GN_EINVAL;
    if (reserve(c, need + 10) < 0) return GN_ENOMEM;
    uint8_t *at = c->data + c->len;
    if (json_dumpb(j, (char *)at + 4, need, JSON_COMPACT) != need) return GN_EINVAL;
    uint8_t hdr[GN_WS_FRAME_HEADER_MAX];
    size_t hlen = gn_ws_frame_header(hdr, false, need);
    if (hlen != 4) memmove(at + hlen, at + 4, need);
    memcpy(at, hdr, hlen);
    c->len += hlen + need;
    c->records++;
    return 0;
}

int ws_chunk_add_record(ws_chunk_t *c, const char *topic, int32_t partition, const gn_record_t *rec)
{
    json_t *j = ws_record_json(topic, partition, rec);
    if (!j) return GN_ENOMEM;
    int rc = ws_chunk_add_json(c, j);
    json_decref(j);
    return rc;
}

size_t ws_chunk_add_batches(ws_chunk_t *c, const char *topic, int32_t partition, const uint8_t *buf,
                            size_t len, int64_t hw)
{
    size_t pos = 0;
    while (pos < len) {
        gn_batch_header_t hdr;
        int64_t size = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (size <= 0) break;
        int64_t last = gn_batch_last_offset(&hdr);
        if (last >= hw) break;
        if (last >= c->next) {
            if (!(hdr.attributes & GN_ATTR_CONTROL)) {
                gn_record_iter_t it;
                if (gn_record_iter_init(&it, buf + pos, (size_t)size) == 0) {
                    gn_record_t rec;
                    while (gn_record_iter_next(&it, &rec) == 1)
                        if (rec.offset >= c->next) ws_chunk_add_record(c, topic, partition, &rec);
                    gn_record_iter_close(&it);
                }
            }
            c->next = last + 1;
        }
        pos += (size_t)size;
    }
    return pos;
}

int ws_chunk_read(gn_partition_t *part, const char *topic, int32_t partition, int64_t from,
                  size_t max_bytes, ws_chunk_t **out)
{
    *out = NULL;
    gn_read_result_t res;
    int rc = gn_partition_read(part, from, max_bytes, &res);
    if (rc < 0) return rc;
    uint8_t *buf = NULL;
    ws_chunk_t *c = NULL;
    if (res.slice.len <= 0) goto out;
    size_t len = (size_t)res.slice.len;
    buf = malloc(len);
    c = ws_chunk_new(from);
    if (!buf || !c) {
        rc = GN_ENOMEM;
        goto out;
    }
    if ((rc = gn_log_slice_read(&res.slice, buf)) < 0) goto out;
    ws_chunk_add_batches(c, topic, partition, buf, len, res.high_watermark);
    if (c->next == from) goto out; /* nothing below the high watermark yet */
    *out = c;
    c = NULL;
out:
    gn_log_slice_release(&res.slice);
    free(buf);
    ws_chunk_unref(c);
    return rc;
}

static void on_chunk_written(gn_transport_t *tr, void *arg, int status)
{
    (void)status;
    ws_chunk_unref(arg);
    ws__on_written(tr);
}

int ws_chunk_send(ws_chunk_t *c, gn_transport_t *tr)
{
    if (c->len == 0) return 0;
    uv_buf_t buf = uv_buf_init((char *)c->data, (unsigned)c->len);
    ws_chunk_ref(c);
    int rc = tr->ops->write_shared(tr, &buf, 1, on_chunk_written, c);
    if (rc < 0) c->refs--; /* the callback never runs; the caller still holds its ref */
    return rc;
}
