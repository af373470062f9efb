/* SPDX-License-Identifier: Apache-2.0 */
/* Big-endian loads and stores for the fixed fields of RecordBatch v2, and the
 * record walker shared by batch validation and the record iterator. Internal to
 * core/record; pure functions, any thread. */
#ifndef GN_CORE_RECORD_WIRE_H
#define GN_CORE_RECORD_WIRE_H

#include <stdint.h>
#include <string.h>

#include "ganglion/record.h"

/* byte offsets of the batch header fields (Kafka docs, "Message Format") */
#define GN__OFF_BASE_OFFSET       0
#define GN__OFF_BATCH_LENGTH      8
#define GN__OFF_LEADER_EPOCH      12
#define GN__OFF_MAGIC             16
#define GN__OFF_CRC               17
#define GN__OFF_ATTRIBUTES        21 /* CRC covers from here to the end of the batch */
#define GN__OFF_LAST_OFFSET_DELTA 23
#define GN__OFF_BASE_TIMESTAMP    27
#define GN__OFF_MAX_TIMESTAMP     35
#define GN__OFF_PRODUCER_ID       43
#define GN__OFF_PRODUCER_EPOCH    51
#define GN__OFF_BASE_SEQUENCE     53
#define GN__OFF_RECORDS_COUNT     57
/* smallest batchLength: the header after the batchLength field */
#define GN__MIN_BATCH_LENGTH (GN_BATCH_HEADER_SIZE - GN_BATCH_LOG_OVERHEAD)

static inline uint16_t gn__be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t gn__be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t gn__be64(const uint8_t *p)
{
    return ((uint64_t)gn__be32(p) << 32) | gn__be32(p + 4);
}
static inline void gn__put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void gn__put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void gn__put64(uint8_t *p, uint64_t v)
{
    gn__put32(p, (uint32_t)(v >> 32));
    gn__put32(p + 4, (uint32_t)v);
}

/* One record as found on the wire, fields still relative to the batch. */
typedef struct gn__raw_record {
    int64_t timestamp_delta;
    int32_t offset_delta;
    gn_bytes_t key;   /* ptr NULL = null */
    gn_bytes_t value; /* ptr NULL = null */
    int32_t headers_count;
    gn_bytes_t headers;
} gn__raw_record_t;

/* Parses the record at p (at most len bytes). Every length is checked against the
 * record's own length varint, and the record must end exactly where that says.
 * Returns bytes consumed (> 0) or GN_ECORRUPT. (record_iter.c) */
int64_t gn__record_parse(const uint8_t *p, size_t len, gn__raw_record_t *rec);

/* Walks count records in [p, p+len): each parses, offset deltas strictly increase
 * within [0, last_offset_delta], and they fill the blob exactly. 0 or GN_ECORRUPT. */
int gn__records_check(const uint8_t *p, size_t len, int32_t count, int32_t last_offset_delta);

/* The fixed header fields of the batch at p (GN_BATCH_HEADER_SIZE bytes readable). */
static inline void gn__batch_header_decode(const uint8_t *p, gn_batch_header_t *hdr)
{
    hdr->base_offset = (int64_t)gn__be64(p + GN__OFF_BASE_OFFSET);
    hdr->batch_length = (int32_t)gn__be32(p + GN__OFF_BATCH_LENGTH);
    hdr->partition_leader_epoch = (int32_t)gn__be32(p + GN__OFF_LEADER_EPOCH);
    hdr->magic = (int8_t)p[GN__OFF_MAGIC];
    hdr->crc = gn__be32(p + GN__OFF_CRC);
    hdr->attributes = (int16_t)gn__be16(p + GN__OFF_ATTRIBUTES);
    hdr->last_offset_delta = (int32_t)gn__be32(p + GN__OFF_LAST_OFFSET_DELTA);
    hdr->base_timestamp = (int64_t)gn__be64(p + GN__OFF_BASE_TIMESTAMP);
    hdr->max_timestamp = (int64_t)gn__be64(p + GN__OFF_MAX_TIMESTAMP);
    hdr->producer_id = (int64_t)gn__be64(p + GN__OFF_PRODUCER_ID);
    hdr->producer_epoch = (int16_t)gn__be16(p + GN__OFF_PRODUCER_EPOCH);
    hdr->base_sequence = (int32_t)gn__be32(p + GN__OFF_BASE_SEQUENCE);
    hdr->records_count = (int32_t)gn__be32(p + GN__OFF_RECORDS_COUNT);
}

#endif
