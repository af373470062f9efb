/* SPDX-License-Identifier: Apache-2.0 */
/* FileStreamSource: tails a file line by line (each line, without its "\n" or "\r\n",
 * one record value without a key, on partition 0 of `topic`, auto-created), batch.size
 * lines per append at most. A step reads ≤ 64 KiB at the stored byte position on the
 * thread pool (uv_fs_read), appends the whole lines with acks=all, and once they are
 * acknowledged moves the position past them and stores it in __connect_offsets.
 * Called from the registry's tick (connect.c). Loop thread only. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"

static void on_offset_written(void *arg, int status)
{
    connector_t *c = arg;
    if (!connect_op_done(c)) return;
    if (status < 0)
        GN_WARN(CONNECT_MOD, "source offset not stored | name=%s err=%s", c->name,
                gn_err_name(status));
    if (c->state == CONNECT_RUNNING && !c->paused) connect_source_step(c); /* more may wait */
}

static void store_position(connector_t *c)
{
    char *key = connect_offset_key(c->name, c->spec.path);
    char value[64];
    snprintf(value, sizeof value, "{\"position\":%lld}", (long long)c->position);
    if (!key) return;
    json_object_set_new(c->reg->offsets, key, json_integer(c->position));
    const char *keys[] = {key}, *values[] = {value};
    connect_op_begin(c);
    int rc = connect_store_write(c->reg->srv->broker, CONNECT_OFFSETS_TOPIC, keys, values, 1,
                                 on_offset_written, c);
    if (rc < 0) {
        connect_op_done(c);
        GN_WARN(CONNECT_MOD, "source offset not stored | name=%s err=%s", c->name, gn_err_name(rc));
    }
    free(key);
}

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    connector_t *c = arg;
    if (!connect_op_done(c)) return;
    if (status < 0) { /* not acknowledged: the same lines go again next tick */
        GN_WARN(CONNECT_MOD, "source append failed, will retry | name=%s topic=%s err=%s", c->name,
                c->spec.topic, gn_err_name(status));
        return;
    }
    c->position = c->sending;
    store_position(c);
}

/* Appends the whole lines of buf[0..n) (batch.size at most); the bytes they span, 0
 * when there is no whole line, or a negative error. */
static int64_t send_lines(connector_t *c, const uint8_t *buf, size_t n)
{
    gn_partition_t *part = NULL;
    int rc = gn_partition_get_or_create(c->reg->srv->broker, c->spec.topic, 0, &part);
    if (rc < 0) return rc;
    gn_batch_builder_t b;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    size_t used = 0;
    int lines = 0;
    int64_t now = gn_now_ms();
    while (lines < c->spec.batch_size && rc == 0) {
        const uint8_t *nl = memchr(buf + used, '\n', n - used);
        if (!nl) break;
        size_t len = (size_t)(nl - (buf + used));
        if (len && buf[used + len - 1] == '\r') len--;
        rc = gn_batch_builder_add(&b, GN_BYTES_NULL, (gn_bytes_t){buf + used, len}, NULL, 0, now);
        used = (size_t)(nl - buf) + 1;
        lines++;
    }
    gn_bytes_t batch;
    if (rc == 0 && lines) rc = gn_batch_builder_finish(&b, 0, &batch);
    if (rc == 0 && lines) {
        c->sending = c->position + (int64_t)used;
        connect_op_begin(c);
        rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_ALL, on_produced, c);
        if (rc < 0) connect_op_done(c);
    }
    gn_batch_builder_close(&b);
    return rc < 0 ? rc : (int64_t)used;
}

static void on_read(uv_fs_t *fs)
{
    connector_t *c = fs->data;
    ssize_t n = fs->result;
    uv_fs_req_cleanup(fs);
    if (!connect_op_done(c)) return;
    if (n < 0) {
        connect_fail(c, "Error reading %s: %s", c->spec.path, uv_strerror((int)n));
        return;
    }
    int64_t used = send_lines(c, c->buf, (size_t)n);
    if (used < 0)
        GN_WARN(CONNECT_MOD, "source append failed, will retry | name=%s topic=%s err=%s", c->name,
                c->spec.topic, gn_err_name((int)used));
    else if (used == 0 && (size_t)n == CONNECT_READ_BYTES)
        connect_fail(c, "A line of %s at byte %lld is longer than %u bytes", c->spec.path,
                     (long long)c->position, CONNECT_READ_BYTES);
}

/* Where the connector stopped: __connect_offsets, else the start of the file. */
static void load_position(connector_t *c)
{
    char *key = connect_offset_key(c->name, c->spec.path);
    json_t *pos = key ? json_object_get(c->reg->offsets, key) : NULL;
    c->position = json_is_integer(pos) ? json_integer_value(pos) : 0;
    free(key);
    GN_INFO(CONNECT_MOD, "source resumes | name=%s file=%s position=%lld", c->name, c->spec.path,
            (long long)c->position);
}

void connect_source_step(connector_t *c)
{
    if (c->reg->stopping) return;
    if (c->fd < 0) {
        int fd = connect_open(c, O_RDONLY);
        if (fd == -ENOENT) return; /* Connect waits for the file to appear */
        if (fd < 0) {
            connect_fail(c, "Couldn't open %s: %s", c->spec.path, strerror(-fd));
            return;
        }
        c->fd = fd;
    }
    if (c->position < 0) load_position(c);
    if (!c->buf && !(c->buf = malloc(CONNECT_READ_BYTES))) return;
    uv_buf_t b = uv_buf_init((char *)c->buf, CONNECT_READ_BYTES);
    c->fs.data = c;
    connect_op_begin(c);
    int rc = uv_fs_read(c->reg->srv->loop, &c->fs, c->fd, &b, 1, c->position, on_read);
    if (rc < 0) {
        connect_op_done(c);
        connect_fail(c, "Error reading %s: %s", c->spec.path, uv_strerror(rc));
    }
}
