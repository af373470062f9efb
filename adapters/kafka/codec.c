/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka wire primitives (see codec.h): bounds-checked big-endian reads with a sticky
 * error, compact/classic strings, bytes and arrays, unsigned varints, tagged-field
 * sections, the segmented response writer and the per-request arena. Any thread. */
#include "codec.h"

#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"

/* ---- reader ---------------------------------------------------------------------------- */

static const uint8_t *take(kafka_reader_t *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->p) < n) {
        r->err = GN_EINVALID_REQUEST;
        r->p = r->end;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int8_t kr_int8(kafka_reader_t *r)
{
    const uint8_t *p = take(r, 1);
    return p ? (int8_t)p[0] : 0;
}
int16_t kr_int16(kafka_reader_t *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (int16_t)be(p, 2) : 0;
}
int32_t kr_int32(kafka_reader_t *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (int32_t)be(p, 4) : 0;
}
int64_t kr_int64(kafka_reader_t *r)
{
    const uint8_t *p = take(r, 8);
    return p ? (int64_t)be(p, 8) : 0;
}
uint16_t kr_uint16(kafka_reader_t *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (uint16_t)be(p, 2) : 0;
}
uint32_t kr_uint32(kafka_reader_t *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)be(p, 4) : 0;
}
double kr_float64(kafka_reader_t *r)
{
    uint64_t u = (uint64_t)kr_int64(r);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
bool kr_bool(kafka_reader_t *r)
{
    return kr_int8(r) != 0;
}

void kr_uuid(kafka_reader_t *r, uint8_t out[16])
{
    const uint8_t *p = take(r, 16);
    if (p)
        memcpy(out, p, 16);
    else
        memset(out, 0, 16);
}

uint32_t kr_uvarint(kafka_reader_t *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        const uint8_t *p = take(r, 1);
        if (!p) return 0;
        if (i == 4 && (p[0] & 0xf0)) break; /* more than 32 bits */
        v |= (uint32_t)(p[0] & 0x7f) << (7 * i);
        if (!(p[0] & 0x80)) return v;
    }
    r->err = GN_EINVALID_REQUEST;
    r->p = r->end;
    return 0;
}

/* Length of a string/bytes/array field: -1 null, else >= 0; flex uses N+1 varints. */
static int64_t read_len(kafka_reader_t *r, bool flex, int width)
{
    int64_t n;
    if (flex)
        n = (int64_t)kr_uvarint(r) - 1;
    else
        n = width == 2 ? kr_int16(r) : kr_int32(r);
    if (r->err) return 0;
    if (n < -1) {
        r->err = GN_EINVALID_REQUEST;
        r->p = r->end;
        return 0;
    }
    return n;
}

static gn_bytes_t read_view(kafka_reader_t *r, bool flex, int width)
{
    int64_t n = read_len(r, flex, width);
    if (r->err || n < 0) return GN_BYTES_NULL;
    const uint8_t *p = take(r, (size_t)n);
    if (!p) return GN_BYTES_NULL;
    /* An empty non-null view must not be NULL: point it at the current position. */
    return (gn_bytes_t){p, (size_t)n};
}

gn_bytes_t kr_string(kafka_reader_t *r, bool flex)
{
    return read_view(r, flex, 2);
}
gn_bytes_t kr_bytes(kafka_reader_t *r, bool flex)
{
    return read_view(r, flex, 4);
}
gn_bytes_t kr_records(kafka_reader_t *r, bool flex)
{
    return read_view(r, flex, 4);
}

int32_t kr_array_len(kafka_reader_t *r, bool flex)
{
    int64_t n = read_len(r, flex, 4);
    if (r->err) return -1;
    if (n > (int64_t)kafka_reader_left(r)) {
        r->err = GN_EINVALID_REQUEST;
        r->p = r->end;
        return -1;
    }
    return (int32_t)n;
}

void kr_tags_skip(kafka_reader_t *r)
{
    uint32_t n = kr_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        (void)kr_uvarint(r); /* tag */
        uint32_t size = kr_uvarint(r);
        (void)take(r, size);
    }
}

/* ---- writer ---------------------------------------------------------------------------- */

void kafka_writer_init(kafka_writer_t *w, size_t max)
{
    memset(w, 0, sizeof *w);
    w->max = max ? max : KAFKA_WRITER_DEFAULT_MAX;
    w->len = 4; /* headroom for the size prefix */
}

void kafka_writer_close(kafka_writer_t *w)
{
    for (size_t i = 0; i < w->nsegs; i++)
        if (w->segs[i].is_file) gn_log_slice_release(&w->segs[i].slice);
    free(w->segs);
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static uint8_t *grow(kafka_writer_t *w, size_t n)
{
    if (w->err) return NULL;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        if (cap > w->max) cap = w->len + n;
        if (cap > w->max) {
            w->err = GN_ENOMEM;
            return NULL;
        }
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->err = GN_ENOMEM;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void kw_raw(kafka_writer_t *w, const void *src, size_t n)
{
    uint8_t *p = grow(w, n);
    if (p && n) memcpy(p, src, n);
}

static void put_be(kafka_writer_t *w, uint64_t v, size_t n)
{
    uint8_t *p = grow(w, n);
    if (!p) return;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void kw_int8(kafka_writer_t *w, int8_t v)
{
    put_be(w, (uint8_t)v, 1);
}
void kw_int16(kafka_writer_t *w, int16_t v)
{
    put_be(w, (uint16_t)v, 2);
}
void kw_int32(kafka_writer_t *w, int32_t v)
{
    put_be(w, (uint32_t)v, 4);
}
void kw_int64(kafka_writer_t *w, int64_t v)
{
    put_be(w, (uint64_t)v, 8);
}
void kw_uint16(kafka_writer_t *w, uint16_t v)
{
    put_be(w, v, 2);
}
void kw_uint32(kafka_writer_t *w, uint32_t v)
{
    put_be(w, v, 4);
}
void kw_float64(kafka_writer_t *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_be(w, u, 8);
}
void kw_bool(kafka_writer_t *w, bool v)
{
    put_be(w, v ? 1 : 0, 1);
}
void kw_uuid(kafka_writer_t *w, const uint8_t v[16])
{
    kw_raw(w, v, 16);
}

void kw_uvarint(kafka_writer_t *w, uint32_t v)
{
    uint8_t tmp[5];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    kw_raw(w, tmp, n);
}

static void write_len(kafka_writer_t *w, bool flex, int width, int64_t n)
{
    if (flex)
        kw_uvarint(w, (uint32_t)(n + 1));
    else if (width == 2)
        kw_int16(w, (int16_t)n);
    else
        kw_int32(w, (int32_t)n);
}

void kw_string(kafka_writer_t *w, bool flex, gn_bytes_t s)
{
    if (!s.ptr) {
        write_len(w, flex, 2, -1);
        return;
    }
    size_t n = s.len > INT16_MAX ? INT16_MAX : s.len;
    write_len(w, flex, 2, (int64_t)n);
    kw_raw(w, s.ptr, n);
}

void kw_bytes(kafka_writer_t *w, bool flex, gn_bytes_t b)
{
    if (!b.ptr) {
        write_len(w, flex, 4, -1);
        return;
    }
    write_len(w, flex, 4, (int64_t)b.len);
    kw_raw(w, b.ptr, b.len);
}

void kw_array_len(kafka_writer_t *w, bool flex, int32_t count)
{
    write_len(w, flex, 4, count);
}

void kw_tags_empty(kafka_writer_t *w, bool flex)
{
    if (flex) kw_uvarint(w, 0);
}

static int add_seg(kafka_writer_t *w, const kafka_wseg_t *seg)
{
    if (w->nsegs == w->segcap) {
        size_t cap = w->segcap ? w->segcap * 2 : 8;
        kafka_wseg_t *ns = realloc(w->segs, cap * sizeof *ns);
        if (!ns) return GN_ENOMEM;
        w->segs = ns;
        w->segcap = cap;
    }
    w->segs[w->nsegs++] = *seg;
    return 0;
}

static void close_run(kafka_writer_t *w)
{
    if (w->len > w->run_start) {
        kafka_wseg_t seg = {.off = w->run_start, .len = w->len - w->run_start};
        if (add_seg(w, &seg) < 0) w->err = GN_ENOMEM;
        w->run_start = w->len;
    }
}

void kw_file(kafka_writer_t *w, gn_log_slice_t *slice)
{
    if (w->err) {
        gn_log_slice_release(slice);
        return;
    }
    close_run(w);
    kafka_wseg_t seg = {.is_file = true, .slice = *slice};
    if (w->err || add_seg(w, &seg) < 0) {
        w->err = GN_ENOMEM;
        gn_log_slice_release(slice);
        return;
    }
    w->file_bytes += slice->len;
    memset(slice, 0, sizeof *slice);
}

void kw_records(kafka_writer_t *w, bool flex, kafka_records_t *rec)
{
    if (rec->has_slice && rec->slice.len > 0) {
        write_len(w, flex, 4, rec->slice.len);
        kw_file(w, &rec->slice);
        rec->has_slice = false;
        return;
    }
    if (rec->has_slice) {
        gn_log_slice_release(&rec->slice);
        rec->has_slice = false;
    }
    /* Kafka answers an empty, non-null record set where there is no data. */
    write_len(w, flex, 4, (int64_t)rec->bytes.len);
    if (rec->bytes.len) kw_raw(w, rec->bytes.ptr, rec->bytes.len);
}

void kw_put_int32_at(kafka_writer_t *w, size_t off, int32_t v)
{
    if (w->err || off + 4 > w->len) return;
    uint32_t u = (uint32_t)v;
    w->buf[off] = (uint8_t)(u >> 24);
    w->buf[off + 1] = (uint8_t)(u >> 16);
    w->buf[off + 2] = (uint8_t)(u >> 8);
    w->buf[off + 3] = (uint8_t)u;
}

int kafka_writer_finish(kafka_writer_t *w)
{
    if (!w->buf && !w->err) (void)grow(w, 0);
    close_run(w);
    if (w->err) return w->err;
    int64_t total = kafka_writer_total(w) - 4;
    if (total > INT32_MAX) return GN_ENOMEM;
    kw_put_int32_at(w, 0, (int32_t)total);
    return 0;
}

/* ---- arena ------------------------------------------------------------------------------ */

struct kafka_arena_chunk {
    kafka_arena_chunk_t *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
};

void kafka_arena_init(kafka_arena_t *a, size_t max)
{
    a->head = NULL;
    a->used = 0;
    a->max = max ? max : KAFKA_ARENA_DEFAULT_MAX;
}

void *kafka_arena_alloc(kafka_arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (n > a->max || a->used + n > a->max) return NULL;
    kafka_arena_chunk_t *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void *kafka_arena_calloc(kafka_arena_t *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    return kafka_arena_alloc(a, count * size);
}

char *kafka_arena_strdup(kafka_arena_t *a, gn_bytes_t s)
{
    char *p = kafka_arena_alloc(a, s.len + 1);
    if (p && s.len) memcpy(p, s.ptr, s.len);
    return p;
}

void kafka_arena_free(kafka_arena_t *a)
{
    kafka_arena_chunk_t *c = a->head;
    while (c) {
        kafka_arena_chunk_t *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->used = 0;
}

/* ---- frames and headers ---------------------------------------------------------------- */

/* api_key, api_version, correlation_id and client_id's length */
#define KAFKA_MIN_REQUEST_HEADER 10

int64_t kafka_frame_peek(const uint8_t *buf, size_t len, size_t max_size)
{
    if (len < 4) return GN_EAGAIN;
    int32_t size = (int32_t)be(buf, 4);
    if (size < KAFKA_MIN_REQUEST_HEADER) return GN_EINVALID_REQUEST;
    if ((size_t)size > max_size) return GN_ETOOLARGE;
    if (len - 4 < (size_t)size) return GN_EAGAIN;
    return (int64_t)size + 4;
}

int kafka_req_header_peek(const uint8_t *p, size_t len, int16_t *api_key, int16_t *api_version)
{
    if (len < 4) return GN_EINVALID_REQUEST;
    *api_key = (int16_t)be(p, 2);
    *api_version = (int16_t)be(p + 2, 2);
    return 0;
}

int kafka_req_header_read(kafka_reader_t *r, bool flex, kafka_req_header_t *hdr)
{
    hdr->api_key = kr_int16(r);
    hdr->api_version = kr_int16(r);
    hdr->correlation_id = kr_int32(r);
    hdr->client_id = kr_string(r, false); /* always classic, even in header v2 */
    if (flex) kr_tags_skip(r);
    return r->err;
}

void kafka_resp_header_write(kafka_writer_t *w, bool flex, int32_t correlation_id)
{
    kw_int32(w, correlation_id);
    kw_tags_empty(w, flex);
}
