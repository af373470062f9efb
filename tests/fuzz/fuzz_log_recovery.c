/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for opening a partition's log directory (core/log/recovery.c,
 * segment_index.c): files written by an earlier run (segments, offset and time indexes,
 * strays of compaction and deletion, any 20-digit base offset) are opened as after a
 * crash (every batch from the recovery point checked, the log cut at the first bad
 * byte) or as after a clean shutdown (the files trusted). Whatever they hold, the open
 * must succeed or fail with an error, never crash; an opened log must read from its
 * start to its end, answer time queries, take an append at its end, close, and reopen
 * cleanly at the same end. Input: [flags][n][files...], each file [selector][u16 length]
 * [bytes]; selector bits 0-1 pick the base offset (0, 3, 10, 1000; bit 4: 20 more input
 * bytes give its digits instead), bits 2-3 the extension (.log, .index, .timeindex,
 * .log.swap). flags bit 0: clean shutdown, bit 1: recompute each .log batch's CRC, bit 2:
 * renumber its batches from the base offset (so the fuzzer gets past the checks), bit 3:
 * log-start-offset n (else unknown); the recovery point is n. The directory is private
 * (on /dev/shm when there is one) and emptied after each input.
 * Seeds: tests/fuzz/corpus/log_recovery/. */
#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/record.h"
#include "log/log.h"

static uv_loop_t loop;
static char dir[64];
static gn_topic_config_t cfg;

static void init_once(void)
{
    snprintf(dir, sizeof dir, "%s/gn-fuzz-log-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir) || uv_loop_init(&loop)) abort();
    gn_logger_set_level(GN_LEVEL_ERROR); /* every cut is a warning */
    cfg.retention_ms = 604800000;
    cfg.retention_bytes = -1;
    cfg.segment_bytes = 1 << 30;
    cfg.segment_ms = 604800000;
    cfg.segment_index_bytes = 10 << 20;
    cfg.index_interval_bytes = 64; /* dense indexes: more of them to get wrong */
    cfg.max_message_bytes = 1048588;
    cfg.cleanup_policy = GN_CLEANUP_DELETE;
    cfg.delete_retention_ms = 86400000;
    cfg.min_cleanable_dirty_ratio = 0.5;
    cfg.timestamp_type = GN_TIMESTAMP_CREATE_TIME;
}

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[512];
    if (!d) abort();
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    closedir(d);
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the batches of a segment image: renumbers them from base, fixes their CRCs. */
static void touch_batches(uint8_t *p, size_t len, int64_t base, bool renumber, bool crc)
{
    size_t pos = 0;
    int64_t next = base;
    while (len - pos >= 61) {
        uint32_t blen = get_be32(p + pos + 8);
        if (blen < 49 || blen > len - pos - 12) return;
        size_t size = 12 + (size_t)blen;
        if (renumber) {
            put_be(p + pos, (uint64_t)next, 8);
            next += (int64_t)(get_be32(p + pos + 23) & 0xffff) + 1;
        }
        if (crc) put_be(p + pos + 17, gn_crc32c(0, p + pos + 21, size - 21), 4);
        pos += size;
    }
}

static const uint8_t *write_file(const uint8_t *p, const uint8_t *end, uint8_t flags)
{
    static const int64_t bases[] = {0, 3, 10, 1000};
    static const char *const exts[] = {".log", ".index", ".timeindex", ".log.swap"};
    uint8_t sel = *p++;
    char name[64], path[512];
    if (sel & 16) {
        char digits[21];
        if (end - p < 20) return end;
        for (int i = 0; i < 20; i++)
            digits[i] = (char)('0' + p[i] % 10);
        digits[20] = 0;
        p += 20;
        snprintf(name, sizeof name, "%s%s", digits, exts[(sel >> 2) & 3]);
    } else {
        snprintf(name, sizeof name, "%020" PRId64 "%s", bases[sel & 3], exts[(sel >> 2) & 3]);
    }
    if (end - p < 2) return end;
    size_t len = (size_t)p[0] << 8 | p[1];
    p += 2;
    if (len > (size_t)(end - p)) len = (size_t)(end - p);
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) abort();
    memcpy(copy, p, len);
    if (((sel >> 2) & 3) == 0 || ((sel >> 2) & 3) == 3)
        touch_batches(copy, len, bases[sel & 3], flags & 4, flags & 2);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(copy, 1, len, fp) != len || fclose(fp) != 0) abort();
    free(copy);
    return p + len;
}

/* Every batch from the start to the end can be read. */
static void read_all(gn_log_t *log)
{
    int64_t off = gn_log_start_offset(log), end = gn_log_end_offset(log);
    for (int guard = 0; off < end && guard < 10000; guard++) {
        gn_log_slice_t s;
        if (gn_log_read(log, off, 1 << 16, -1, &s) < 0) return;
        if (s.len <= 0) {
            gn_log_slice_release(&s);
            return;
        }
        uint8_t *buf = malloc((size_t)s.len);
        if (!buf || gn_log_slice_read(&s, buf) < 0) abort();
        gn_log_slice_release(&s);
        size_t pos = 0;
        int64_t next = off;
        while (pos < (size_t)s.len) {
            gn_batch_header_t h;
            int64_t n = gn_batch_peek(buf + pos, (size_t)s.len - pos, &h);
            if (n <= 0) break;
            if (gn_batch_last_offset(&h) >= next) next = gn_batch_last_offset(&h) + 1;
            pos += (size_t)n;
        }
        free(buf);
        if (next <= off) return; /* a trusted file's garbage: no progress, no crash */
        off = next;
    }
}

static int64_t append_one(gn_log_t *log)
{
    gn_batch_builder_t b;
    gn_bytes_t batch;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    gn_bytes_t v = {(const uint8_t *)"value", 5};
    if (gn_batch_builder_add(&b, GN_BYTES_NULL, v, NULL, 0, 5000) < 0 ||
        gn_batch_builder_finish(&b, 0, &batch) < 0)
        abort();
    gn_log_append_info_t info;
    int rc = gn_log_append(log, (uint8_t *)batch.ptr, batch.len, 5000, &info);
    gn_batch_builder_close(&b);
    return rc < 0 ? rc : info.base_offset;
}

static void close_log(gn_log_t *log)
{
    gn_log_close(log);
    while (uv_run(&loop, UV_RUN_DEFAULT) != 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) init_once();
    if (size < 2) return 0;
    uint8_t flags = data[0], n = data[1];
    const uint8_t *p = data + 2, *end = data + size;
    for (int files = 0; p < end && files < 8; files++)
        p = write_file(p, end, flags);
    gn_log_open_opts_t o = {.clean_shutdown = flags & 1,
                            .recovery_point = n,
                            .log_start_offset = (flags & 8) ? n : -1,
                            .now_ms = 10000};
    gn_log_t *log;
    if (gn_log_open(&loop, dir, &cfg, &o, &log) == 0) {
        read_all(log);
        int64_t off, ts;
        (void)gn_log_offset_for_time(log, n * 100, &off, &ts);
        (void)gn_log_max_timestamp(log, &off, &ts);
        int64_t end_before = gn_log_end_offset(log);
        int64_t at = append_one(log);
        if (at >= 0 && at != end_before) abort(); /* appends go at the end */
        int64_t end_after = gn_log_end_offset(log);
        close_log(log);
        /* after a recovery every byte was checked: our own clean close reopens at the
         * same end (files trusted after a clean shutdown may still be cut now) */
        bool checked = !(flags & 1);
        o.clean_shutdown = true;
        o.recovery_point = end_after;
        if (gn_log_open(&loop, dir, &cfg, &o, &log) != 0) {
            if (checked) abort();
        } else {
            if (checked && gn_log_end_offset(log) != end_after) abort();
            close_log(log);
        }
    }
    while (uv_run(&loop, UV_RUN_DEFAULT) != 0) {
    }
    empty_dir();
    return 0;
}
