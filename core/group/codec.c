/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's classic encoding for the group module's own bytes: the ConsumerProtocol
 * subscription/assignment and the __consumer_offsets keys and values. A
 * bounds-checked reader with a sticky error and a growable writer. Pure code. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "group/group_int.h"

void gn__rd_init(gn__rd_t *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->end = p ? p + len : p;
    r->err = 0;
}

static const uint8_t *rd_take(gn__rd_t *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->p) < n) {
        r->err = GN_ECORRUPT;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

int16_t gn__rd_i16(gn__rd_t *r)
{
    const uint8_t *p = rd_take(r, 2);
    return p ? (int16_t)(uint16_t)((p[0] << 8) | p[1]) : 0;
}

int32_t gn__rd_i32(gn__rd_t *r)
{
    const uint8_t *p = rd_take(r, 4);
    if (!p) return 0;
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
                     p[3]);
}

int64_t gn__rd_i64(gn__rd_t *r)
{
    uint64_t hi = (uint32_t)gn__rd_i32(r);
    uint64_t lo = (uint32_t)gn__rd_i32(r);
    return (int64_t)((hi << 32) | lo);
}

gn_bytes_t gn__rd_str(gn__rd_t *r)
{
    int16_t n = gn__rd_i16(r);
    if (r->err || n < 0) {
        if (n < -1) r->err = GN_ECORRUPT;
        return GN_BYTES_NULL;
    }
    const uint8_t *p = rd_take(r, (size_t)n);
    if (!p) return GN_BYTES_NULL;
    return (gn_bytes_t){p, (size_t)n};
}

gn_bytes_t gn__rd_bytes(gn__rd_t *r)
{
    int32_t n = gn__rd_i32(r);
    if (r->err || n < 0) {
        if (n < -1) r->err = GN_ECORRUPT;
        return GN_BYTES_NULL;
    }
    const uint8_t *p = rd_take(r, (size_t)n);
    if (!p) return GN_BYTES_NULL;
    return (gn_bytes_t){p, (size_t)n};
}

int32_t gn__rd_count(gn__rd_t *r, size_t min_elem_bytes)
{
    int32_t n = gn__rd_i32(r);
    if (r->err) return 0;
    if (n < -1 ||
        (n > 0 && (size_t)n * (min_elem_bytes ? min_elem_bytes : 1) > (size_t)(r->end - r->p))) {
        r->err = GN_ECORRUPT;
        return 0;
    }
    return n;
}

static uint8_t *wr_room(gn__wr_t *w, size_t n)
{
    if (w->err) return NULL;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 128;
        while (cap < w->len + n)
            cap *= 2;
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

void gn__wr_i16(gn__wr_t *w, int16_t v)
{
    uint8_t *p = wr_room(w, 2);
    if (!p) return;
    p[0] = (uint8_t)((uint16_t)v >> 8);
    p[1] = (uint8_t)v;
}

void gn__wr_i32(gn__wr_t *w, int32_t v)
{
    uint8_t *p = wr_room(w, 4);
    if (!p) return;
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

void gn__wr_i64(gn__wr_t *w, int64_t v)
{
    gn__wr_i32(w, (int32_t)(uint32_t)((uint64_t)v >> 32));
    gn__wr_i32(w, (int32_t)(uint32_t)(uint64_t)v);
}

void gn__wr_strn(gn__wr_t *w, const char *s, size_t n)
{
    if (n > INT16_MAX) {
        w->err = GN_EINVAL;
        return;
    }
    gn__wr_i16(w, (int16_t)n);
    uint8_t *p = wr_room(w, n);
    if (p && n) memcpy(p, s, n);
}

void gn__wr_str(gn__wr_t *w, const char *s)
{
    if (!s) {
        gn__wr_i16(w, -1);
        return;
    }
    gn__wr_strn(w, s, strlen(s));
}

void gn__wr_bytes(gn__wr_t *w, gn_bytes_t b)
{
    if (!b.ptr) {
        gn__wr_i32(w, -1);
        return;
    }
    if (b.len > INT32_MAX) {
        w->err = GN_EINVAL;
        return;
    }
    gn__wr_i32(w, (int32_t)b.len);
    uint8_t *p = wr_room(w, b.len);
    if (p && b.len) memcpy(p, b.ptr, b.len);
}

void gn__wr_free(gn__wr_t *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

char *gn__group_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

typedef struct arena_blk {
    struct arena_blk *next;
    max_align_t data[];
} arena_blk_t;

void *gn__arena_alloc(gn__arena_t *a, size_t n)
{
    if (a->err) return NULL;
    arena_blk_t *b = calloc(1, sizeof(*b) + (n ? n : 1));
    if (!b) {
        a->err = GN_ENOMEM;
        return NULL;
    }
    b->next = a->head;
    a->head = b;
    return b->data;
}

char *gn__arena_strdup(gn__arena_t *a, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = gn__arena_alloc(a, n + 1);
    if (d) memcpy(d, s, n);
    return d;
}

gn_bytes_t gn__arena_bytes(gn__arena_t *a, const uint8_t *p, size_t n)
{
    uint8_t *d = gn__arena_alloc(a, n);
    if (!d) return (gn_bytes_t){(const uint8_t *)"", 0};
    if (n) memcpy(d, p, n);
    return (gn_bytes_t){d, n};
}

void gn__arena_free(gn__arena_t *a)
{
    arena_blk_t *b = a->head;
    while (b) {
        arena_blk_t *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->err = 0;
}
