/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka wire primitives: a bounds-checked reader and a growable writer for the
 * classic and flexible (compact, tagged) encodings, request/response headers and
 * the 4-byte size-prefixed frame. Used by the generated message codecs
 * (gen/kafka_msgs.c) and the handlers. Pure code, any thread. */
#ifndef KAFKA_CODEC_H
#define KAFKA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/bytes.h"
#include "ganglion/partition.h"

/* ---- reader ---------------------------------------------------------------------------- */

/* A view of one complete frame. Errors are sticky: after the first short read or bad
 * length every read returns 0 and err stays GN_EINVALID_REQUEST, so decoders check once
 * at the end (Mosquitto's packet__read_* with a sticky flag). */
typedef struct kafka_reader {
    const uint8_t *p;
    const uint8_t *end;
    int err;
} kafka_reader_t;

static inline void kafka_reader_init(kafka_reader_t *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->end = p + len;
    r->err = 0;
}
static inline size_t kafka_reader_left(const kafka_reader_t *r)
{
    return (size_t)(r->end - r->p);
}

int8_t kr_int8(kafka_reader_t *r);
int16_t kr_int16(kafka_reader_t *r);
int32_t kr_int32(kafka_reader_t *r);
int64_t kr_int64(kafka_reader_t *r);
uint16_t kr_uint16(kafka_reader_t *r);
uint32_t kr_uint32(kafka_reader_t *r);
double kr_float64(kafka_reader_t *r);
bool kr_bool(kafka_reader_t *r);
void kr_uuid(kafka_reader_t *r, uint8_t out[16]);
uint32_t kr_uvarint(kafka_reader_t *r); /* at most 5 bytes, as Kafka's readUnsignedVarint */
/* Nullable string/bytes: GN_BYTES_NULL for null; the view borrows the frame. */
gn_bytes_t kr_string(kafka_reader_t *r, bool flex);
gn_bytes_t kr_bytes(kafka_reader_t *r, bool flex);
/* Array element count; -1 for a null array. A count larger than the bytes left is an
 * error (every element takes at least one byte), which bounds allocation by frame size. */
int32_t kr_array_len(kafka_reader_t *r, bool flex);
/* Skips a tagged-field section (flexible versions only). */
void kr_tags_skip(kafka_reader_t *r);

/* ---- writer ---------------------------------------------------------------------------- */

/* A response under construction: one growable byte buffer plus, interleaved, file
 * slices of the log (Fetch record data) that are sent with sendfile, never copied.
 * Segment i is either bytes [off, off+len) of buf or slice. The first 4 bytes of buf
 * are headroom for the size prefix, written by kafka_writer_finish. */
typedef struct kafka_wseg {
    size_t off, len; /* mem segment: range of buf */
    bool is_file;
    gn_log_slice_t slice; /* file segment: owned, released by kafka_writer_close */
} kafka_wseg_t;

typedef struct kafka_writer {
    uint8_t *buf;
    size_t len, cap;
    size_t max; /* bound on buf: a writer that would grow past it fails (ENOMEM) */
    kafka_wseg_t *segs;
    size_t nsegs, segcap;
    size_t run_start; /* start of the mem run not yet closed into a segment */
    int64_t file_bytes;
    int err;
} kafka_writer_t;

#define KAFKA_WRITER_DEFAULT_MAX (256u << 20)

void kafka_writer_init(kafka_writer_t *w, size_t max);
void kafka_writer_close(kafka_writer_t *w); /* frees buf, releases slices */
void kw_raw(kafka_writer_t *w, const void *p, size_t n);
void kw_int8(kafka_writer_t *w, int8_t v);
void kw_int16(kafka_writer_t *w, int16_t v);
void kw_int32(kafka_writer_t *w, int32_t v);
void kw_int64(kafka_writer_t *w, int64_t v);
void kw_uint16(kafka_writer_t *w, uint16_t v);
void kw_uint32(kafka_writer_t *w, uint32_t v);
void kw_float64(kafka_writer_t *w, double v);
void kw_bool(kafka_writer_t *w, bool v);
void kw_uuid(kafka_writer_t *w, const uint8_t v[16]);
void kw_uvarint(kafka_writer_t *w, uint32_t v);
void kw_string(kafka_writer_t *w, bool flex, gn_bytes_t s); /* null ptr: null string */
void kw_bytes(kafka_writer_t *w, bool flex, gn_bytes_t b);
void kw_array_len(kafka_writer_t *w, bool flex, int32_t count); /* -1: null */
void kw_tags_empty(kafka_writer_t *w, bool flex);
/* Takes the slice (released with the writer, also on error). */
void kw_file(kafka_writer_t *w, gn_log_slice_t *slice);
void kw_put_int32_at(kafka_writer_t *w, size_t off, int32_t v);
/* Closes the last mem run and writes the size prefix into the headroom. 0 or err. */
int kafka_writer_finish(kafka_writer_t *w);
static inline int64_t kafka_writer_total(const kafka_writer_t *w)
{
    return (int64_t)w->len + w->file_bytes;
}

/* "records" fields: bytes borrowed from the frame (Produce) or a log slice (Fetch). */
typedef struct kafka_records {
    gn_bytes_t bytes;
    bool has_slice;
    gn_log_slice_t slice; /* moved into the writer on encode */
} kafka_records_t;
gn_bytes_t kr_records(kafka_reader_t *r, bool flex);
void kw_records(kafka_writer_t *w, bool flex, kafka_records_t *rec);

/* ---- arrays used by the generated structs ---------------------------------------------- */

typedef struct kafka_int32_array {
    int32_t *items;
    int32_t count;
    bool is_null;
} kafka_int32_array_t;
typedef struct kafka_int64_array {
    int64_t *items;
    int32_t count;
    bool is_null;
} kafka_int64_array_t;
typedef struct kafka_string_array {
    gn_bytes_t *items;
    int32_t count;
    bool is_null;
} kafka_string_array_t;

/* ---- per-request arena ----------------------------------------------------------------- */

/* Bump allocator for decoded requests and the structs of their responses: freed in one go
 * with the request. Bounded: an allocation past max fails (the request is refused). */
typedef struct kafka_arena_chunk kafka_arena_chunk_t;
typedef struct kafka_arena {
    kafka_arena_chunk_t *head;
    size_t used, max;
} kafka_arena_t;

#define KAFKA_ARENA_DEFAULT_MAX (64u << 20)

void kafka_arena_init(kafka_arena_t *a, size_t max);
void *kafka_arena_alloc(kafka_arena_t *a, size_t n); /* zeroed; NULL past the bound */
void *kafka_arena_calloc(kafka_arena_t *a, size_t count, size_t size);
char *kafka_arena_strdup(kafka_arena_t *a, gn_bytes_t s); /* NUL-terminated copy */
void kafka_arena_free(kafka_arena_t *a);

/* ---- frames and headers ---------------------------------------------------------------- */

/* Peeks at the size prefix of buf. > 0: a whole frame of that many bytes (prefix
 * included) is present; GN_EAGAIN: need more; GN_ETOOLARGE: size > max_size;
 * GN_EINVALID_REQUEST: negative size or smaller than a request header. */
int64_t kafka_frame_peek(const uint8_t *buf, size_t len, size_t max_size);

typedef struct kafka_req_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    gn_bytes_t client_id; /* borrowed from the frame; null allowed */
} kafka_req_header_t;

/* Parses request header v1 (flex false) or v2 (flex true: + tagged fields) from the
 * frame body (after the size prefix). r is left at the start of the request body. */
int kafka_req_header_read(kafka_reader_t *r, bool flex, kafka_req_header_t *hdr);
/* Reads only api key and version (the first 4 bytes): enough to choose v1 or v2. */
int kafka_req_header_peek(const uint8_t *p, size_t len, int16_t *api_key, int16_t *api_version);
/* Response header v0 (flex false) or v1; the size prefix headroom is reserved. */
void kafka_resp_header_write(kafka_writer_t *w, bool flex, int32_t correlation_id);

#endif
