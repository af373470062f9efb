/* SPDX-License-Identifier: Apache-2.0 */
/* FileStreamSink: appends each record value of `topics` (every partition) to a file as a
 * line, and records its progress as the committed offsets of consumer group
 * connect-<name>, as Connect's sink tasks do. A step reads up to 1 MiB of records from
 * the log at the committed positions, writes their lines with one uv_fs_write (thread
 * pool, O_APPEND), then commits the positions after them. A restart resumes at the
 * committed offsets: a line is written twice only if the broker stops between a write and
 * its commit. Called from the registry's tick (connect.c). Loop thread only. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/group.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"

static struct connect_part *part_find(connector_t *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0)
            return &c->parts[i];
    return NULL;
}

static struct connect_part *part_add(connector_t *c, const char *topic, int32_t partition)
{
    struct connect_part *p = part_find(c, topic, partition);
    if (p || c->nparts == CONNECT_MAX_PARTS) return p;
    p = &c->parts[c->nparts++];
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    p->partition = partition;
    p->position = p->next = -1;
    return p;
}

static void group_id(const connector_t *c, char *out, size_t cap)
{
    snprintf(out, cap, "connect-%s", c->name);
}

/* ---- committed offsets ---------------------------------------------------------- */

static bool wanted_topic(const connector_t *c, const char *topic)
{
    for (size_t i = 0; i < c->spec.ntopics; i++)
        if (strcmp(c->spec.topics[i], topic) == 0) return true;
    return false;
}

static void on_fetched(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    connector_t *c = arg;
    if (!connect_op_done(c)) return;
    if (status == 0 && count == 1 && groups[0].error) status = groups[0].error;
    if (status < 0) { /* the coordinator may still be loading: next tick */
        GN_DEBUG(CONNECT_MOD, "sink offsets not fetched yet | name=%s err=%s", c->name,
                 gn_err_name(status));
        return;
    }
    for (size_t i = 0; count == 1 && i < groups[0].count; i++) {
        const gn_group_offset_t *o = &groups[0].offsets[i];
        if (o->offset < 0 || !wanted_topic(c, o->topic)) continue;
        struct connect_part *p = part_add(c, o->topic, o->partition);
        if (p) p->position = p->next = o->offset;
    }
    c->offsets_loaded = true;
    GN_INFO(CONNECT_MOD, "sink resumes at committed offsets | name=%s partitions=%zu", c->name,
            c->nparts);
    connect_sink_step(c);
}

static void fetch_offsets(connector_t *c)
{
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(c->reg->srv->broker);
    if (!coord) return;
    char group[CONNECT_NAME_MAX + 16];
    group_id(c, group, sizeof group);
    gn_group_fetch_group_t g = {.group_id = group};
    connect_op_begin(c);
    int rc = gn_group_fetch_offsets_routed(coord, &g, on_fetched, c);
    if (rc < 0) connect_op_done(c);
}

typedef struct commit_ctx {
    connector_t *c;
    gn_group_offset_t offs[CONNECT_MAX_PARTS];
} commit_ctx_t;

static void on_committed(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    commit_ctx_t *ctx = arg;
    connector_t *c = ctx->c;
    free(ctx);
    for (size_t i = 0; status == 0 && i < count; i++)
        if (results[i].error) status = results[i].error;
    if (!connect_op_done(c)) return;
    c->commit_due = status < 0;
    if (status < 0)
        GN_WARN(CONNECT_MOD, "sink offsets not committed, will retry | name=%s err=%s", c->name,
                gn_err_name(status));
    else if (c->state == CONNECT_RUNNING && !c->paused)
        connect_sink_step(c); /* more may wait */
}

static void commit(connector_t *c)
{
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(c->reg->srv->broker);
    commit_ctx_t *ctx = calloc(1, sizeof *ctx);
    size_t n = 0;
    if (!coord || !ctx) goto fail;
    ctx->c = c;
    for (size_t i = 0; i < c->nparts; i++)
        if (c->parts[i].position >= 0)
            ctx->offs[n++] = (gn_group_offset_t){.topic = c->parts[i].topic,
                                                 .partition = c->parts[i].partition,
                                                 .offset = c->parts[i].position,
                                                 .leader_epoch = -1};
    char group[CONNECT_NAME_MAX + 16];
    group_id(c, group, sizeof group);
    gn_group_commit_req_t req = {
        .group_id = group, .generation_id = -1, .member_id = "", .offsets = ctx->offs, .count = n};
    connect_op_begin(c);
    if (gn_group_commit_routed(coord, &req, on_committed, ctx) == 0) return;
    connect_op_done(c);
fail:
    free(ctx);
    c->commit_due = true;
}

/* ---- reading and writing -------------------------------------------------------- */

static bool out_append(connector_t *c, gn_bytes_t value)
{
    static const char null_line[] = "null"; /* Connect's println(null) */
    if (!value.ptr) value = (gn_bytes_t){(const uint8_t *)null_line, 4};
    size_t need = c->out_len + value.len + 1;
    if (need > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < need)
            cap *= 2;
        uint8_t *p = realloc(c->out, cap);
        if (!p) return false;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, value.ptr, value.len);
    c->out_len += value.len;
    c->out[c->out_len++] = '\n';
    return true;
}

/* The lines of one partition from its position, while the buffer has room. */
static void collect(connector_t *c, struct connect_part *p)
{
    gn_partition_t *part = gn_partition_get(c->reg->srv->broker, p->topic, p->partition);
    if (!part) return;
    int64_t start = gn_partition_log_start_offset(part), hw = gn_partition_high_watermark(part);
    int64_t pos = p->position < start ? start : p->position; /* earliest, as Connect's sinks */
    p->next = pos;
    if (pos >= hw || c->out_len >= CONNECT_SINK_BYTES) return;
    gn_read_result_t res;
    if (gn_partition_read(part, pos, CONNECT_SINK_BYTES - c->out_len, &res) < 0) return;
    size_t len = res.slice.len > 0 ? (size_t)res.slice.len : 0;
    uint8_t *buf = len ? malloc(len) : NULL;
    if (!buf || gn_log_slice_read(&res.slice, buf) < 0) len = 0;
    gn_log_slice_release(&res.slice);
    for (size_t off = 0; off < len;) {
        gn_batch_header_t hdr;
        int64_t size = gn_batch_peek(buf + off, len - off, &hdr);
        if (size <= 0) break;
        gn_record_iter_t it;
        if (!(hdr.attributes & GN_ATTR_CONTROL) &&
            gn_record_iter_init(&it, buf + off, (size_t)size) == 0) {
            gn_record_t rec;
            while (gn_record_iter_next(&it, &rec) == 1) {
                if (rec.offset < p->next || rec.offset >= hw) continue;
                if (!out_append(c, rec.value)) break;
                p->next = rec.offset + 1;
            }
            gn_record_iter_close(&it);
        }
        int64_t last = gn_batch_last_offset(&hdr);
        if (last + 1 > p->next && last + 1 <= hw) p->next = last + 1; /* control records */
        off += (size_t)size;
    }
    free(buf);
}

static void on_written(uv_fs_t *fs)
{
    connector_t *c = fs->data;
    ssize_t n = fs->result;
    uv_fs_req_cleanup(fs);
    if (!connect_op_done(c)) return;
    size_t len = c->out_len;
    c->out_len = 0;
    if (n < 0 || (size_t)n != len) {
        connect_fail(c, "Couldn't write to %s: %s", c->spec.path,
                     n < 0 ? uv_strerror((int)n) : "short write");
        return;
    }
    for (size_t i = 0; i < c->nparts; i++)
        c->parts[i].position = c->parts[i].next;
    commit(c);
}

/* Every partition of the configured topics that exists now. */
static void discover(connector_t *c)
{
    for (size_t t = 0; t < c->spec.ntopics; t++) {
        gn_topic_info_t info;
        if (gn_topic_describe(c->reg->srv->broker, c->spec.topics[t], &info) < 0) continue;
        for (int32_t p = 0; p < info.partitions; p++)
            if (!part_add(c, c->spec.topics[t], p)) {
                connect_fail(c, "More than %d partitions to follow", CONNECT_MAX_PARTS);
                return;
            }
    }
}

void connect_sink_step(connector_t *c)
{
    if (c->reg->stopping) return;
    if (!c->offsets_loaded) {
        fetch_offsets(c);
        return;
    }
    if (c->fd < 0) {
        int fd = connect_open(c, O_WRONLY | O_APPEND | O_CREAT);
        if (fd < 0) {
            connect_fail(c, "Couldn't find or create file '%s' for FileStreamSinkTask: %s",
                         c->spec.path, strerror(-fd));
            return;
        }
        c->fd = fd;
    }
    discover(c);
    if (c->state == CONNECT_FAILED) return;
    c->out_len = 0;
    for (size_t i = 0; i < c->nparts; i++)
        collect(c, &c->parts[i]);
    if (!c->out_len) {
        if (c->commit_due) commit(c);
        return;
    }
    uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
    c->fs.data = c;
    connect_op_begin(c);
    int rc = uv_fs_write(c->reg->srv->loop, &c->fs, c->fd, &b, 1, -1, on_written);
    if (rc < 0) {
        connect_op_done(c);
        c->out_len = 0;
        connect_fail(c, "Couldn't write to %s: %s", c->spec.path, uv_strerror(rc));
    }
}
