/* SPDX-License-Identifier: Apache-2.0 */
/* RecordBatch v2 in place: decode the 61-byte header, validate a whole batch
 * (length, magic, attributes, CRC-32C, record count and offsets), and rewrite the
 * fields the broker owns (base offset, leader epoch, LogAppendTime, a missing max
 * timestamp). Called by the
 * log on append and recovery and by the Kafka adapter; pure functions, any thread. */
#include <stdint.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "record/wire.h"

/* attributes bits 7-15 are reserved and must be zero */
#define ATTR_KNOWN_MASK 0x7F

/* The header checks that need no more than the header: the batch size, even when
 * it does not fit in len yet, or GN_EAGAIN / GN_ECORRUPT / GN_EUNSUPPORTED_VERSION. */
static int64_t header_peek(const uint8_t *p, size_t len, gn_batch_header_t *hdr)
{
    int32_t batch_length;

    if (len < GN__OFF_MAGIC + 1) return GN_EAGAIN;
    /* magic sits at byte 16 in every message format: refuse old ones by name */
    if (p[GN__OFF_MAGIC] != 2) return GN_EUNSUPPORTED_VERSION;
    batch_length = (int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH);
    if (batch_length < GN__MIN_BATCH_LENGTH) return GN_ECORRUPT;
    if (len < GN_BATCH_HEADER_SIZE) return GN_EAGAIN;
    gn__batch_header_decode(p, hdr);
    return gn_batch_size(hdr);
}

int64_t gn_batch_peek(const uint8_t *p, size_t len, gn_batch_header_t *hdr)
{
    gn_batch_header_t tmp;
    int64_t size = header_peek(p, len, hdr ? hdr : &tmp);

    if (size > 0 && (uint64_t)size > len) return GN_EAGAIN;
    return size;
}

int64_t gn_batch_validate(const uint8_t *p, size_t len, size_t max_batch_bytes,
                          gn_batch_header_t *hdr)
{
    gn_batch_header_t tmp;
    int64_t size;
    int codec;
    int rc;

    if (!hdr) hdr = &tmp;
    size = header_peek(p, len, hdr);
    if (size < 0) return size;
    if ((uint64_t)size > max_batch_bytes) return GN_ETOOLARGE;
    if ((uint64_t)size > len) return GN_EAGAIN;

    if (gn_crc32c(0, p + GN__OFF_ATTRIBUTES, (size_t)size - GN__OFF_ATTRIBUTES) != hdr->crc)
        return GN_ECORRUPT;
    if ((uint16_t)hdr->attributes & ~ATTR_KNOWN_MASK) return GN_ECORRUPT;
    codec = hdr->attributes & GN_ATTR_COMPRESSION_MASK;
    if (codec > GN_COMPRESSION_ZSTD) return GN_EUNSUPPORTED_COMPRESSION;
    if (hdr->records_count < 0 || hdr->last_offset_delta < 0) return GN_ECORRUPT;
    /* offset deltas strictly increase from 0, so n records span at least n offsets;
     * compaction may leave gaps (and keep lastOffsetDelta), never overlaps */
    if (hdr->records_count > 0 && hdr->last_offset_delta < hdr->records_count - 1)
        return GN_ECORRUPT;

    if (codec == GN_COMPRESSION_NONE) {
        rc = gn__records_check(p + GN_BATCH_HEADER_SIZE, (size_t)size - GN_BATCH_HEADER_SIZE,
                               hdr->records_count, hdr->last_offset_delta);
        if (rc < 0) return rc;
    } else if (hdr->records_count > 0 && size == GN_BATCH_HEADER_SIZE) {
        return GN_ECORRUPT; /* records promised, no compressed blob */
    }
    return size;
}

void gn_batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
    gn__put64(p + GN__OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void gn_batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
    gn__put32(p + GN__OFF_LEADER_EPOCH, (uint32_t)epoch);
}

void gn_batch_set_log_append_time(uint8_t *p, int64_t ts)
{
    int64_t size = (int64_t)(int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH) + GN_BATCH_LOG_OVERHEAD;
    uint16_t attrs = gn__be16(p + GN__OFF_ATTRIBUTES);

    gn__put16(p + GN__OFF_ATTRIBUTES, (uint16_t)(attrs | GN_ATTR_LOG_APPEND_TIME));
    gn__put64(p + GN__OFF_MAX_TIMESTAMP, (uint64_t)ts);
    gn__put32(p + GN__OFF_CRC,
              gn_crc32c(0, p + GN__OFF_ATTRIBUTES, (size_t)size - GN__OFF_ATTRIBUTES));
}

int gn_batch_repair_max_timestamp(uint8_t *p, size_t len)
{
    gn_record_iter_t it;
    gn_record_t rec;
    int64_t size, max = -1; /* Kafka's NO_TIMESTAMP */
    int rc;

    if (len < GN_BATCH_HEADER_SIZE) return 0;
    if (gn__be16(p + GN__OFF_ATTRIBUTES) & GN_ATTR_LOG_APPEND_TIME) return 0;
    if ((int64_t)gn__be64(p + GN__OFF_MAX_TIMESTAMP) >=
        (int64_t)gn__be64(p + GN__OFF_BASE_TIMESTAMP))
        return 0;
    if ((rc = gn_record_iter_init(&it, p, len)) < 0) return rc;
    while ((rc = gn_record_iter_next(&it, &rec)) == 1)
        if (rec.timestamp > max) max = rec.timestamp;
    gn_record_iter_close(&it);
    if (rc < 0) return rc;
    if (max == (int64_t)gn__be64(p + GN__OFF_MAX_TIMESTAMP)) return 0;
    size = (int64_t)(int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH) + GN_BATCH_LOG_OVERHEAD;
    gn__put64(p + GN__OFF_MAX_TIMESTAMP, (uint64_t)max);
    gn__put32(p + GN__OFF_CRC,
              gn_crc32c(0, p + GN__OFF_ATTRIBUTES, (size_t)size - GN__OFF_ATTRIBUTES));
    return 1;
}
