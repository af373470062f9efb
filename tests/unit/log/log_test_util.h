/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the core/log unit tests: a fresh temp dir per test, a topic
 * config with Kafka's defaults, batches built with the batch builder, and small
 * file-damaging helpers. Header-only, test thread only. */
#ifndef GN_TEST_LOG_UTIL_H
#define GN_TEST_LOG_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"
#include "log/log.h"

static inline void tl_cfg(gn_topic_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->retention_ms = 604800000;
    cfg->retention_bytes = -1;
    cfg->segment_bytes = 1 << 30;
    cfg->segment_ms = 604800000;
    cfg->segment_index_bytes = 10 << 20;
    cfg->index_interval_bytes = 4096;
    cfg->max_message_bytes = 1048588;
    cfg->cleanup_policy = GN_CLEANUP_DELETE;
    cfg->delete_retention_ms = 86400000;
    cfg->min_cleanable_dirty_ratio = 0.5;
    cfg->timestamp_type = GN_TIMESTAMP_CREATE_TIME;
}

static inline char *tl_mkdtemp(void)
{
    char *d = strdup("/tmp/gn_log_test_XXXXXX");
    if (!d || !mkdtemp(d)) abort();
    return d;
}

static inline int tl_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static inline void tl_rmrf(char *dir)
{
    nftw(dir, tl_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static inline char *tl_sub(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

/* One batch of n records "k<i>"/"v<seq>-<i>" with timestamp ts; malloc'd copy. */
static inline uint8_t *tl_batch(int n, int64_t ts, int seq, size_t value_len, size_t *len)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    char key[32], *val = malloc(value_len + 32);
    uint8_t *copy;

    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (int i = 0; i < n; i++) {
        int k = snprintf(key, sizeof(key), "k%d", i);
        int v = snprintf(val, 32, "v%d-%d-", seq, i);
        memset(val + v, 'x', value_len > (size_t)v ? value_len - (size_t)v : 0);
        size_t vl = value_len > (size_t)v ? value_len : (size_t)v;
        if (gn_batch_builder_add(&b, (gn_bytes_t){(uint8_t *)key, (size_t)k},
                                 (gn_bytes_t){(uint8_t *)val, vl}, NULL, 0, ts) < 0)
            abort();
    }
    if (gn_batch_builder_finish(&b, 0, &out) < 0) abort();
    copy = malloc(out.len);
    memcpy(copy, out.ptr, out.len);
    *len = out.len;
    gn_batch_builder_close(&b);
    free(val);
    return copy;
}

/* A batch with explicit keys/values (value NULL = tombstone). */
static inline uint8_t *tl_kv_batch(const char **keys, const char **vals, int n, int64_t ts,
                                   size_t *len)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    uint8_t *copy;

    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (int i = 0; i < n; i++) {
        gn_bytes_t k = {(const uint8_t *)keys[i], strlen(keys[i])};
        gn_bytes_t v =
            vals[i] ? (gn_bytes_t){(const uint8_t *)vals[i], strlen(vals[i])} : GN_BYTES_NULL;
        if (gn_batch_builder_add(&b, k, v, NULL, 0, ts) < 0) abort();
    }
    if (gn_batch_builder_finish(&b, 0, &out) < 0) abort();
    copy = malloc(out.len);
    memcpy(copy, out.ptr, out.len);
    *len = out.len;
    gn_batch_builder_close(&b);
    return copy;
}

static inline int tl_open(uv_loop_t *loop, const char *dir, const gn_topic_config_t *cfg,
                          bool clean, int64_t rp, gn_log_t **out)
{
    gn_log_open_opts_t o = {
        .clean_shutdown = clean, .recovery_point = rp, .log_start_offset = -1, .now_ms = 1000};
    return gn_log_open(loop, dir, cfg, &o, out);
}

/* Appends one batch; returns its base offset or a negative error. */
static inline int64_t tl_append(gn_log_t *log, int n, int64_t ts, int seq, size_t vlen)
{
    size_t len;
    uint8_t *b = tl_batch(n, ts, seq, vlen, &len);
    gn_log_append_info_t info;
    int rc = gn_log_append(log, b, len, ts, &info);
    free(b);
    return rc < 0 ? rc : info.base_offset;
}

/* Reads the whole log from offset into a malloc'd buffer (max 64 MiB). */
static inline uint8_t *tl_read_all(gn_log_t *log, int64_t offset, size_t *total)
{
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    gn_log_slice_t s;

    while (offset < gn_log_end_offset(log)) {
        if (gn_log_read(log, offset, 1 << 20, -1, &s) < 0 || s.len == 0) break;
        while (len + (size_t)s.len > cap)
            buf = realloc(buf, cap *= 2);
        if (gn_log_slice_read(&s, buf + len) < 0) abort();
        /* next offset: after the last batch of the slice */
        size_t p = len;
        int64_t next = offset;
        while (p < len + (size_t)s.len) {
            gn_batch_header_t h;
            int64_t sz = gn_batch_peek(buf + p, len + (size_t)s.len - p, &h);
            if (sz <= 0) abort();
            next = gn_batch_last_offset(&h) + 1;
            p += (size_t)sz;
        }
        len += (size_t)s.len;
        offset = next;
        gn_log_slice_release(&s);
    }
    *total = len;
    return buf;
}

/* Validates every batch of a buffer; returns the number of records or < 0. */
static inline int64_t tl_validate_all(const uint8_t *buf, size_t len, int64_t *next_offset)
{
    int64_t records = 0;
    size_t off = 0;
    while (off < len) {
        gn_batch_header_t h;
        int64_t sz = gn_batch_validate(buf + off, len - off, SIZE_MAX, &h);
        if (sz < 0) return sz;
        if (next_offset) {
            if (h.base_offset < *next_offset) return GN_ECORRUPT;
            *next_offset = gn_batch_last_offset(&h) + 1;
        }
        records += h.records_count;
        off += (size_t)sz;
    }
    return records;
}

static inline int64_t tl_file_size(const char *dir, const char *name)
{
    struct stat st;
    char *p = tl_sub(dir, name);
    int rc = stat(p, &st);
    free(p);
    return rc < 0 ? -1 : st.st_size;
}

/* Bytes of the file from pos on that are not zero (-1: no such file). The active
 * segment's file holds its batches, then the zeros written ahead of its end. */
static inline int64_t tl_nonzero_after(const char *dir, const char *name, int64_t pos)
{
    char *p = tl_sub(dir, name);
    FILE *fp = fopen(p, "rb");
    int64_t n = 0;
    int c;
    free(p);
    if (!fp) return -1;
    if (fseeko(fp, pos, SEEK_SET) < 0) abort();
    while ((c = fgetc(fp)) != EOF)
        n += c != 0;
    fclose(fp);
    return n;
}

static inline void tl_truncate_file(const char *dir, const char *name, int64_t size)
{
    char *p = tl_sub(dir, name);
    if (truncate(p, size) < 0) abort();
    free(p);
}

static inline void tl_write_at(const char *dir, const char *name, int64_t pos, const void *buf,
                               size_t len)
{
    char *p = tl_sub(dir, name);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || pwrite(fd, buf, len, pos) != (ssize_t)len) abort();
    close(fd);
    free(p);
}

static inline void tl_flip_byte(const char *dir, const char *name, int64_t pos)
{
    char *p = tl_sub(dir, name);
    int fd = open(p, O_RDWR);
    uint8_t c;
    if (fd < 0 || pread(fd, &c, 1, pos) != 1) abort();
    c ^= 0x5a;
    if (pwrite(fd, &c, 1, pos) != 1) abort();
    close(fd);
    free(p);
}

/* Runs the loop until no handle or request keeps it alive (closes timers too). */
static inline void tl_drain(uv_loop_t *loop)
{
    while (uv_run(loop, UV_RUN_DEFAULT) != 0) {
    }
}

/* The fields every log test's fixture starts with (its struct begins with TL_FX_FIELDS, so
 * the helpers below see a tl_fx_t): a loop, a fresh directory, Kafka's default config and
 * the log under test, closed at teardown. */
#define TL_FX_FIELDS                                                                               \
    uv_loop_t loop;                                                                                \
    char *dir;                                                                                     \
    gn_topic_config_t cfg;                                                                         \
    gn_log_t *log

typedef struct tl_fx {
    TL_FX_FIELDS;
} tl_fx_t;

/* A zeroed fixture of size bytes (the test's own struct) with the common part set up. */
static inline void *tl_fx_new(size_t size)
{
    tl_fx_t *f = calloc(1, size);
    uv_loop_init(&f->loop);
    f->dir = tl_mkdtemp();
    tl_cfg(&f->cfg);
    return f;
}

/* cmocka teardown for every log test: closes the log, drains the loop, removes the dir. */
static inline int tl_teardown(void **state)
{
    tl_fx_t *f = *state;
    gn_log_close(f->log);
    tl_drain(&f->loop);
    uv_loop_close(&f->loop);
    tl_rmrf(f->dir);
    free(f);
    return 0;
}

#endif
