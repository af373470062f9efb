/* SPDX-License-Identifier: Apache-2.0 */
/* Builds one RecordBatch v2 from single records, for adapters that produce record
 * by record (MQTT, REST, WebSocket) and for compaction. Records are encoded
 * uncompressed after 61 bytes of headroom; finish compresses them when asked and
 * writes the header and CRC last. Caller-owned builder, any thread. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "record/wire.h"

#define BUILDER_MIN_CAP 512
/* what extra_attributes may set: timestamp type, transactional, control, delete
 * horizon; the codec comes from b->codec, bits 7-15 are reserved */
#define EXTRA_ATTR_MASK                                                                            \
    (GN_ATTR_LOG_APPEND_TIME | GN_ATTR_TRANSACTIONAL | GN_ATTR_CONTROL | GN_ATTR_DELETE_HORIZON)
#define NO_TIMESTAMP (-1) /* Kafka's RecordBatch.NO_TIMESTAMP, for an empty batch */

void gn_batch_builder_init(gn_batch_builder_t *b, gn_compression_t codec)
{
    memset(b, 0, sizeof(*b));
    b->len = GN_BATCH_HEADER_SIZE; /* headroom: the header is written by finish */
    b->last_offset_delta = -1;
    b->base_timestamp = NO_TIMESTAMP;
    b->max_timestamp = NO_TIMESTAMP;
    b->codec = codec;
    b->producer_id = -1;
    b->producer_epoch = -1;
    b->base_sequence = -1;
}

/* Amortised growth: doubling, so n records cost O(log n) allocations. */
static int builder_reserve(gn_batch_builder_t *b, size_t more)
{
    size_t need = b->len + more;
    size_t cap;
    uint8_t *p;

    if (more > SIZE_MAX - b->len) return GN_ETOOLARGE;
    if (need <= b->cap) return 0;
    cap = b->cap ? b->cap : BUILDER_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->buf, cap);
    if (!p) return GN_ENOMEM;
    b->buf = p;
    b->cap = cap;
    return 0;
}

/* Length of a nullable field: -1 for null. */
static int64_t field_len(gn_bytes_t v)
{
    return v.ptr ? (int64_t)v.len : -1;
}

static size_t put_field(uint8_t *p, gn_bytes_t v)
{
    size_t n = (size_t)gn_varint_write(p, field_len(v));
    if (v.ptr && v.len) {
        memcpy(p + n, v.ptr, v.len);
        n += v.len;
    }
    return n;
}

static int field_size(gn_bytes_t v, int64_t *acc)
{
    if (v.ptr && v.len > INT32_MAX) return GN_ETOOLARGE;
    *acc += gn_varint_size(field_len(v)) + (v.ptr ? (int64_t)v.len : 0);
    return 0;
}

int gn_batch_builder_add_at(gn_batch_builder_t *b, int32_t offset_delta, gn_bytes_t key,
                            gn_bytes_t value, const gn_record_header_t *headers,
                            size_t headers_count, int64_t timestamp)
{
    int64_t body = 1; /* attributes */
    int64_t ts_delta;
    size_t total;
    uint8_t *p;
    int rc;

    if (offset_delta < 0 || offset_delta <= b->last_offset_delta || b->count == INT32_MAX ||
        headers_count > INT32_MAX)
        return GN_EINVAL;
    if (b->count == 0) b->base_timestamp = timestamp;
    ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp);

    body += gn_varint_size(ts_delta) + gn_varint_size(offset_delta);
    if ((rc = field_size(key, &body)) < 0 || (rc = field_size(value, &body)) < 0) return rc;
    body += gn_varint_size((int64_t)headers_count);
    for (size_t i = 0; i < headers_count; i++) {
        /* a NULL header key is written as the empty key: Kafka has no null keys */
        gn_bytes_t hkey = headers[i].key.ptr ? headers[i].key : GN_BYTES_STR("");
        if ((rc = field_size(hkey, &body)) < 0 || (rc = field_size(headers[i].value, &body)) < 0)
            return rc;
        if (body > INT32_MAX) return GN_ETOOLARGE;
    }
    if (body > INT32_MAX) return GN_ETOOLARGE;
    total = (size_t)gn_varint_size(body) + (size_t)body;
    if (b->len - GN_BATCH_LOG_OVERHEAD + total > INT32_MAX)
        return GN_ETOOLARGE; /* batchLength is an int32 */
    if ((rc = builder_reserve(b, total)) < 0) return rc;

    p = b->buf + b->len;
    p += gn_varint_write(p, body);
    *p++ = 0; /* record attributes: unused */
    p += gn_varint_write(p, ts_delta);
    p += gn_varint_write(p, offset_delta);
    p += put_field(p, key);
    p += put_field(p, value);
    p += gn_varint_write(p, (int64_t)headers_count);
    for (size_t i = 0; i < headers_count; i++) {
        gn_bytes_t hkey = headers[i].key.ptr ? headers[i].key : GN_BYTES_STR("");
        p += put_field(p, hkey);
        p += put_field(p, headers[i].value);
    }
    b->len += total;
    b->count++;
    b->last_offset_delta = offset_delta;
    if (b->count == 1 || timestamp > b->max_timestamp) b->max_timestamp = timestamp;
    return 0;
}

int gn_batch_builder_add(gn_batch_builder_t *b, gn_bytes_t key, gn_bytes_t value,
                         const gn_record_header_t *headers, size_t headers_count, int64_t timestamp)
{
    /* the next offset after the last one (count, unless add_at left a gap) */
    if (b->last_offset_delta == INT32_MAX) return GN_EINVAL;
    return gn_batch_builder_add_at(b, b->last_offset_delta + 1, key, value, headers, headers_count,
                                   timestamp);
}

int gn_batch_builder_finish(gn_batch_builder_t *b, int64_t base_offset, gn_bytes_t *out)
{
    uint8_t *blob = NULL;
    size_t blob_len;
    uint16_t attrs;
    uint8_t *p;
    int rc;

    if ((rc = builder_reserve(b, 0)) < 0) /* an empty batch still needs its header */
        goto out;
    if (b->codec != GN_COMPRESSION_NONE && b->count > 0) {
        rc = gn_compress(b->codec, b->buf + GN_BATCH_HEADER_SIZE, b->len - GN_BATCH_HEADER_SIZE,
                         &blob, &blob_len);
        if (rc < 0) goto out;
        if (blob_len > INT32_MAX - GN_BATCH_HEADER_SIZE) {
            rc = GN_ETOOLARGE;
            goto out;
        }
        b->len = GN_BATCH_HEADER_SIZE;
        if ((rc = builder_reserve(b, blob_len)) < 0) goto out;
        memcpy(b->buf + GN_BATCH_HEADER_SIZE, blob, blob_len);
        b->len += blob_len;
    }
    /* an empty batch is written uncompressed, as Kafka writes empty headers */
    p = b->buf;
    gn__put64(p + GN__OFF_BASE_OFFSET, (uint64_t)base_offset);
    gn__put32(p + GN__OFF_BATCH_LENGTH, (uint32_t)(b->len - GN_BATCH_LOG_OVERHEAD));
    gn__put32(p + GN__OFF_LEADER_EPOCH, (uint32_t)-1);
    p[GN__OFF_MAGIC] = 2;
    attrs = b->count > 0 ? (uint16_t)(b->codec & GN_ATTR_COMPRESSION_MASK) : 0;
    attrs |= (uint16_t)b->extra_attributes & EXTRA_ATTR_MASK;
    gn__put16(p + GN__OFF_ATTRIBUTES, attrs);
    gn__put32(p + GN__OFF_LAST_OFFSET_DELTA,
              (uint32_t)(b->last_offset_delta < 0 ? 0 : b->last_offset_delta));
    gn__put64(p + GN__OFF_BASE_TIMESTAMP, (uint64_t)b->base_timestamp);
    gn__put64(p + GN__OFF_MAX_TIMESTAMP, (uint64_t)b->max_timestamp);
    gn__put64(p + GN__OFF_PRODUCER_ID, (uint64_t)b->producer_id);
    gn__put16(p + GN__OFF_PRODUCER_EPOCH, (uint16_t)b->producer_epoch);
    gn__put32(p + GN__OFF_BASE_SEQUENCE, (uint32_t)b->base_sequence);
    gn__put32(p + GN__OFF_RECORDS_COUNT, (uint32_t)b->count);
    gn__put32(p + GN__OFF_CRC, gn_crc32c(0, p + GN__OFF_ATTRIBUTES, b->len - GN__OFF_ATTRIBUTES));
    out->ptr = b->buf;
    out->len = b->len;
    rc = 0;
out:
    free(blob);
    return rc;
}

void gn_batch_builder_reset(gn_batch_builder_t *b)
{
    uint8_t *buf = b->buf;
    size_t cap = b->cap;
    gn_compression_t codec = b->codec;
    int16_t extra = b->extra_attributes;

    /* keeps the buffer and the settings; producer fields go back to -1 */
    gn_batch_builder_init(b, codec);
    b->buf = buf;
    b->cap = cap;
    b->extra_attributes = extra;
}

void gn_batch_builder_close(gn_batch_builder_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof(*b));
}
