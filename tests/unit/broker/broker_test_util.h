/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the topic and broker unit tests: a temp data directory, a broker on a
 * real libuv loop, bounded loop runs, RecordBatch bytes from the batch builder. */
#ifndef GN_TESTS_BROKER_TEST_UTIL_H
#define GN_TESTS_BROKER_TEST_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/broker.h"
#include "ganglion/error.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"

static int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static inline void tu_rm_rf(const char *dir)
{
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *tu_mkdtemp(void)
{
    char *dir = strdup("/tmp/gn-test-XXXXXX");
    if (!dir || !mkdtemp(dir)) abort();
    return dir;
}

/* Runs the loop until *flag is set (bounded: about 10 s of iterations). */
static inline int tu_run_until(uv_loop_t *loop, const int *flag)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(loop, UV_RUN_ONCE);
        if (uv_hrtime() - start > 10ull * 1000 * 1000 * 1000) return -1;
    }
    return 0;
}

typedef struct tu_admin {
    int done;
    int status;
} tu_admin_t;

static inline void tu_admin_cb(void *arg, int status)
{
    tu_admin_t *a = arg;
    a->done++;
    a->status = status;
}

static inline void tu_closed_cb(void *arg)
{
    *(int *)arg = 1;
}

static inline void tu_close(uv_loop_t *loop, gn_broker_t *broker)
{
    int closed = 0;
    gn_broker_close(broker, tu_closed_cb, &closed);
    if (tu_run_until(loop, &closed) < 0) abort();
}

/* Creates a topic and waits until its creation is durable; returns the cb status. */
static inline int tu_create(uv_loop_t *loop, gn_broker_t *broker, const char *name,
                            int32_t partitions, const gn_config_entry_t *cfgs, size_t n)
{
    tu_admin_t a = {0, 0};
    int rc = gn_topic_create(broker, name, partitions, -1, cfgs, n, false, tu_admin_cb, &a);
    if (rc < 0) return rc;
    if (tu_run_until(loop, &a.done) < 0) return GN_ETIMEOUT;
    return a.status;
}

/* One uncompressed batch of count records "k<i>" -> "v<i>"; malloc'd copy in *out. */
static inline size_t tu_batch(int count, int64_t ts, uint8_t **out)
{
    gn_batch_builder_t b;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (int i = 0; i < count; i++) {
        char k[32], v[32];
        int kl = snprintf(k, sizeof(k), "k%d", i), vl = snprintf(v, sizeof(v), "v%d", i);
        gn_bytes_t key = {(const uint8_t *)k, (size_t)kl}, val = {(const uint8_t *)v, (size_t)vl};
        if (gn_batch_builder_add(&b, key, val, NULL, 0, ts) < 0) abort();
    }
    gn_bytes_t bytes;
    if (gn_batch_builder_finish(&b, 0, &bytes) < 0) abort();
    *out = malloc(bytes.len);
    memcpy(*out, bytes.ptr, bytes.len);
    gn_batch_builder_close(&b);
    return bytes.len;
}

typedef struct tu_produce {
    int done;
    int status;
    gn_produce_result_t res;
} tu_produce_t;

static inline void tu_produce_cb(void *arg, int status, const gn_produce_result_t *res)
{
    tu_produce_t *p = arg;
    p->done++;
    p->status = status;
    if (res) p->res = *res;
}

/* Produces count records in one batch and waits for the answer. */
static inline int tu_produce(uv_loop_t *loop, gn_partition_t *part, int count, gn_acks_t acks,
                             tu_produce_t *out)
{
    uint8_t *buf;
    size_t len = tu_batch(count, 1700000000000LL, &buf);
    memset(out, 0, sizeof(*out));
    int rc = gn_produce(part, buf, len, acks, tu_produce_cb, out);
    free(buf);
    if (rc < 0) return rc;
    if (out->done) return -9999; /* the callback ran before gn_produce returned */
    if (tu_run_until(loop, &out->done) < 0) return GN_ETIMEOUT;
    return out->status;
}

static inline int tu_file_exists(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

static inline void tu_write_file(const char *dir, const char *file, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static inline char *tu_read_file(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

#endif
