/* SPDX-License-Identifier: Apache-2.0 */
/* RecordBatch v2 (Kafka magic 2): validate batches in place, iterate their records
 * (decompressing gzip, snappy, lz4, zstd), and build batches for adapters that
 * produce single records. Pure functions and caller-owned structs: any thread. */
#ifndef GANGLION_RECORD_H
#define GANGLION_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

#define GN_BATCH_HEADER_SIZE  61 /* bytes before the first record */
#define GN_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */

/* attributes, int16 at byte 21 */
#define GN_ATTR_COMPRESSION_MASK 0x07
#define GN_ATTR_LOG_APPEND_TIME  0x08
#define GN_ATTR_TRANSACTIONAL    0x10
#define GN_ATTR_CONTROL          0x20
#define GN_ATTR_DELETE_HORIZON   0x40

typedef enum gn_compression {
    GN_COMPRESSION_NONE = 0,
    GN_COMPRESSION_GZIP = 1,
    GN_COMPRESSION_SNAPPY = 2,
    GN_COMPRESSION_LZ4 = 3,
    GN_COMPRESSION_ZSTD = 4,
} gn_compression_t;

/* The fixed 61-byte header, decoded (host byte order). */
typedef struct gn_batch_header {
    int64_t base_offset;
    int32_t batch_length; /* bytes after this field */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} gn_batch_header_t;

static inline int64_t gn_batch_size(const gn_batch_header_t *hdr)
{
    return (int64_t)hdr->batch_length + GN_BATCH_LOG_OVERHEAD;
}
static inline int64_t gn_batch_last_offset(const gn_batch_header_t *hdr)
{
    return hdr->base_offset + hdr->last_offset_delta;
}

/* CRC-32C (Castagnoli) as Kafka computes it; crc starts at 0. Hardware (SSE4.2 via
 * ISA-L) when available, portable table otherwise. */
uint32_t gn_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t gn__crc32c_portable(uint32_t crc, const void *buf, size_t len); /* for tests */

/* Decode the header of the batch at p. Returns the whole batch size (> 0) when the
 * header is readable and the batch fits in len; GN_EAGAIN when more bytes are needed;
 * GN_ECORRUPT for an impossible length; GN_EUNSUPPORTED_VERSION for magic != 2.
 * Does not check the CRC. */
int64_t gn_batch_peek(const uint8_t *p, size_t len, gn_batch_header_t *hdr);

/* Full validation of one batch at p: lengths, magic, CRC32C, records_count and
 * last_offset_delta consistent, batch size <= max_batch_bytes (GN_ETOOLARGE).
 * Returns the batch size or a negative error; the bytes are not changed. */
int64_t gn_batch_validate(const uint8_t *p, size_t len, size_t max_batch_bytes,
                          gn_batch_header_t *hdr);

/* Fields the CRC does not cover: rewritten in place. */
void gn_batch_set_base_offset(uint8_t *p, int64_t base_offset);
void gn_batch_set_leader_epoch(uint8_t *p, int32_t epoch);
/* Mark LogAppendTime with timestamp ts (sets attribute bit 3 and maxTimestamp) and
 * recompute the CRC, as Kafka does for message.timestamp.type=LogAppendTime. */
void gn_batch_set_log_append_time(uint8_t *p, int64_t ts);
/* A CreateTime batch whose maxTimestamp is below its baseTimestamp (Sarama before 1.23
 * writes -1) gets the largest record timestamp written in, and a new CRC, as Kafka's
 * LogValidator rewrites it; the log's time index and time retention read that field.
 * The batch is validated first (decompressed if need be): a batch that does not
 * validate is left as it is, for the append to refuse. Returns 1 if rewritten, 0 if
 * nothing was to do, or the validation error. */
int gn_batch_repair_max_timestamp(uint8_t *p, size_t len);

/* Varints (zigzag, protobuf style) used inside records. Return bytes read (> 0) or
 * GN_ECORRUPT if malformed/truncated. */
int gn_varint_read(const uint8_t *p, size_t len, int64_t *out);
int gn_varint_write(uint8_t *p, int64_t v); /* p needs 10 bytes; returns bytes written */
int gn_varint_size(int64_t v);

typedef struct gn_record_header {
    gn_bytes_t key;
    gn_bytes_t value; /* null when ptr == NULL */
} gn_record_header_t;

/* One record, borrowed from the iterator's buffer: valid until the next call. */
typedef struct gn_record {
    int64_t offset;
    int64_t timestamp;
    gn_bytes_t key;   /* ptr NULL = null key */
    gn_bytes_t value; /* ptr NULL = null value (tombstone) */
    int32_t headers_count;
    gn_bytes_t headers; /* raw header bytes, walk with gn_record_header_next */
} gn_record_t;

/* Walks the records of one batch. Owns a decompression buffer when the batch is
 * compressed (bounded by max_decompressed_bytes). */
typedef struct gn_record_iter {
    gn_batch_header_t hdr;
    const uint8_t *pos;
    const uint8_t *end;
    int32_t remaining;
    uint8_t *owned; /* decompressed records, freed by close */
    size_t owned_cap;
} gn_record_iter_t;

#define GN_MAX_DECOMPRESSED_BYTES (64u << 20)

/* Validates the batch (as gn_batch_validate, no size limit) and prepares iteration.
 * The batch bytes must outlive the iterator. Returns 0 or a negative error
 * (GN_ECORRUPT, GN_EUNSUPPORTED_COMPRESSION, GN_EUNSUPPORTED_VERSION, GN_ENOMEM). */
int gn_record_iter_init(gn_record_iter_t *it, const uint8_t *batch, size_t len);
/* 1: rec filled; 0: no more records; < 0: GN_ECORRUPT. */
int gn_record_iter_next(gn_record_iter_t *it, gn_record_t *rec);
void gn_record_iter_close(gn_record_iter_t *it);

/* Walk raw headers: 1 and *hdr filled, 0 at end, < 0 GN_ECORRUPT. Advances *raw. */
int gn_record_header_next(gn_bytes_t *raw, gn_record_header_t *hdr);

/* Decompress a codec's blob into *out (malloc'd, caller frees); at most max_out bytes.
 * Snappy accepts raw and xerial framing; lz4 is the LZ4 frame format. */
int gn_decompress(gn_compression_t codec, const uint8_t *in, size_t in_len, size_t max_out,
                  uint8_t **out, size_t *out_len);
/* Compress (for the batch builder and tests); *out malloc'd. */
int gn_compress(gn_compression_t codec, const uint8_t *in, size_t in_len, uint8_t **out,
                size_t *out_len);

/* Builds one uncompressed (or compressed at finish) batch, for adapters that
 * produce single records, and for compaction. Offsets are deltas from 0; the log
 * assigns the real base offset on append. */
typedef struct gn_batch_builder {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int32_t count;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    gn_compression_t codec;
    int16_t extra_attributes;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
} gn_batch_builder_t;

/* producer_id -1 / epoch -1 / sequence -1 for a non-idempotent batch. */
void gn_batch_builder_init(gn_batch_builder_t *b, gn_compression_t codec);
/* Appends a record at offset delta = the next one (count). */
int gn_batch_builder_add(gn_batch_builder_t *b, gn_bytes_t key, gn_bytes_t value,
                         const gn_record_header_t *headers, size_t headers_count,
                         int64_t timestamp);
/* Appends at an explicit offset delta (> the last one): compaction keeps offsets. */
int gn_batch_builder_add_at(gn_batch_builder_t *b, int32_t offset_delta, gn_bytes_t key,
                            gn_bytes_t value, const gn_record_header_t *headers,
                            size_t headers_count, int64_t timestamp);
/* Writes the header and CRC; *out points into the builder (valid until close/reset).
 * base_offset is written as given. */
int gn_batch_builder_finish(gn_batch_builder_t *b, int64_t base_offset, gn_bytes_t *out);
void gn_batch_builder_reset(gn_batch_builder_t *b);
void gn_batch_builder_close(gn_batch_builder_t *b);

#endif
