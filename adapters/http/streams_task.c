/* SPDX-License-Identifier: Apache-2.0 */
/* One running stream processor: a cycle reads ≤ 256 KiB of records from every source
 * partition at its position, runs each JSON-object value through the steps, appends the
 * outputs to the sink (acks=all; partition by the output key's murmur2, a null key keeps
 * the source partition modulo the sink's; the record timestamp kept) and the values that
 * are not JSON objects to the dead-letter topic, or counts them as skipped with a log line;
 * with a count/sum step it then drops the windows closed at the new stream time and writes
 * the changed aggregates, their tombstones, the new positions and the stream time to the
 * changelog as one batch (records for closed windows are dropped, counted and logged at
 * most every 10 s); last it commits the positions as group streams-<name>. A
 * failed append or changelog write resets the task: state and positions are read again.
 * At start the positions are the group's committed offsets, or for an aggregating
 * processor the changelog's when ahead (written before the commit). Each step first
 * checks the processor's ACLs (streams_authz.c). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/broker.h"
#include "ganglion/error.h"
#include "ganglion/group.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"
#include "streams.h"

typedef struct out_batch {
    gn_batch_builder_t b;
    bool used;
} out_batch_t;

typedef struct cycle {
    stream_t *s;
    out_batch_t *sink, *dlq;
    int32_t sink_parts, dlq_parts;
    uint64_t skipped;
    const char *skip_why;
} cycle_t;

static void group_id(const stream_t *s, char *out, size_t cap)
{
    snprintf(out, cap, "streams-%s", s->def.name);
}

static struct stream_part *part_add(stream_t *s, int32_t partition)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].partition == partition) return &s->parts[i];
    if (s->nparts == STREAMS_MAX_PARTS) return NULL;
    struct stream_part *p = &s->parts[s->nparts++];
    *p = (struct stream_part){partition, -1, -1};
    return p;
}

int64_t streams_task_lag(stream_t *s)
{
    if (!s->loaded || !s->reg) return -1;
    int64_t lag = 0;
    gn_topic_info_t info;
    if (gn_topic_describe(s->reg->srv->broker, s->def.source, &info) < 0) return 0;
    for (int32_t i = 0; i < info.partitions; i++) {
        gn_partition_t *part = gn_partition_get(s->reg->srv->broker, s->def.source, i);
        if (!part) continue;
        int64_t hw = gn_partition_high_watermark(part), pos = -1;
        for (size_t j = 0; j < s->nparts; j++)
            if (s->parts[j].partition == i) pos = s->parts[j].position;
        if (pos < gn_partition_log_start_offset(part)) pos = gn_partition_log_start_offset(part);
        if (hw > pos) lag += hw - pos;
    }
    return lag;
}

/* ---- loading positions ---------------------------------------------------------- */

static void on_fetched(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    stream_t *s = arg;
    if (!streams_op_done(s)) return;
    if (status == 0 && count == 1 && groups[0].error) status = groups[0].error;
    if (status < 0) { /* the coordinator may still be loading: next tick */
        GN_DEBUG(STREAMS_MOD, "offsets not fetched yet | name=%s err=%s", s->def.name,
                 gn_err_name(status));
        return;
    }
    for (size_t i = 0; count == 1 && i < groups[0].count; i++) {
        const gn_group_offset_t *o = &groups[0].offsets[i];
        if (o->offset < 0 || strcmp(o->topic, s->def.source) != 0) continue;
        struct stream_part *p = part_add(s, o->partition);
        if (p) p->position = o->offset;
    }
    const char *k;
    json_t *v;
    json_object_foreach(s->st.offsets, k, v)
    { /* the changelog is written before the commit: it may be ahead */
        struct stream_part *p = part_add(s, (int32_t)strtol(k, NULL, 10));
        if (p && json_integer_value(v) > p->position) p->position = json_integer_value(v);
    }
    s->loaded = true;
    GN_INFO(STREAMS_MOD, "stream processor resumes | name=%s partitions=%zu aggregates=%zu",
            s->def.name, s->nparts, json_object_size(s->st.aggs));
}

static void load(stream_t *s)
{
    gn_broker_t *broker = s->reg->srv->broker;
    if (s->def.agg != AGG_NONE) {
        char changelog[STREAMS_NAME_MAX + 32];
        gn_topic_info_t info;
        streams_state_topic(s->def.name, changelog, sizeof changelog);
        if (gn_topic_describe(broker, changelog, &info) < 0 && !streams_may_create(s, changelog))
            return; /* created by the first changelog write */
        int rc = streams_state_restore(broker, s->def.name, &s->st);
        if (rc < 0) {
            GN_WARN(STREAMS_MOD, "state not restored yet | name=%s err=%s", s->def.name,
                    gn_err_name(rc));
            return;
        }
        streams_state_expire(&s->st, &s->def); /* a grace_ms made shorter since */
    }
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(broker);
    if (!coord) return;
    char group[STREAMS_NAME_MAX + 16];
    group_id(s, group, sizeof group);
    gn_group_fetch_group_t g = {.group_id = group};
    streams_op_begin(s);
    if (gn_group_fetch_offsets_routed(coord, &g, on_fetched, s) < 0) streams_op_done(s);
}

/* ---- committing ----------------------------------------------------------------- */

typedef struct commit_ctx {
    stream_t *s;
    gn_group_offset_t offs[STREAMS_MAX_PARTS];
} commit_ctx_t;

static void on_committed(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    commit_ctx_t *ctx = arg;
    stream_t *s = ctx->s;
    free(ctx);
    for (size_t i = 0; status == 0 && i < count; i++)
        if (results[i].error) status = results[i].error;
    if (!streams_op_done(s)) return;
    s->commit_due = status < 0;
    if (status < 0)
        GN_WARN(STREAMS_MOD, "offsets not committed, will retry | name=%s err=%s", s->def.name,
                gn_err_name(status));
    else if (s->state == STREAMS_RUNNING && !s->paused)
        streams_task_step(s); /* more may wait */
}

/* Commits the positions; ends the operation begun by the cycle (or begins one). */
static void commit(stream_t *s)
{
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(s->reg->srv->broker);
    commit_ctx_t *ctx = calloc(1, sizeof *ctx);
    size_t n = 0;
    if (!s->busy) streams_op_begin(s);
    if (!coord || !ctx) goto fail;
    ctx->s = s;
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].position >= 0)
            ctx->offs[n++] = (gn_group_offset_t){.topic = s->def.source,
                                                 .partition = s->parts[i].partition,
                                                 .offset = s->parts[i].position,
                                                 .leader_epoch = -1};
    char group[STREAMS_NAME_MAX + 16];
    group_id(s, group, sizeof group);
    gn_group_commit_req_t req = {
        .group_id = group, .generation_id = -1, .member_id = "", .offsets = ctx->offs, .count = n};
    if (gn_group_commit_routed(coord, &req, on_committed, ctx) == 0) return;
fail:
    free(ctx);
    if (streams_op_done(s)) s->commit_due = true;
}

/* ---- after the appends ---------------------------------------------------------- */

static void advance(stream_t *s)
{
    for (size_t i = 0; i < s->nparts; i++)
        s->parts[i].position = s->parts[i].next;
}

static void cycle_failed(stream_t *s, const char *what, int status)
{
    GN_WARN(STREAMS_MOD, "%s failed, state and positions reloaded | name=%s err=%s", what,
            s->def.name, gn_err_name(status));
    if (streams_op_done(s)) streams_task_reset(s);
}

static void on_changelog(void *arg, int status)
{
    stream_t *s = arg;
    if (!s->reg || s->op_epoch != s->epoch) {
        streams_op_done(s);
        return;
    }
    if (status < 0) {
        cycle_failed(s, "changelog write", status);
        return;
    }
    advance(s);
    commit(s);
}

static void appends_done(stream_t *s)
{
    if (!s->reg || s->op_epoch != s->epoch) {
        streams_op_done(s);
        return;
    }
    if (s->cycle_status < 0) {
        cycle_failed(s, "append", s->cycle_status);
        return;
    }
    if (s->def.agg == AGG_NONE) {
        advance(s);
        commit(s);
        return;
    }
    for (size_t i = 0; i < s->nparts; i++) {
        char k[24];
        snprintf(k, sizeof k, "%d", s->parts[i].partition);
        if (s->parts[i].next >= 0)
            json_object_set_new(s->st.offsets, k, json_integer(s->parts[i].next));
    }
    int rc = streams_state_write(s->reg->srv->broker, s->def.name, &s->st, on_changelog, s);
    if (rc < 0) cycle_failed(s, "changelog write", rc);
}

static void on_appended(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    stream_t *s = arg;
    if (status < 0) s->cycle_status = status;
    if (--s->pending == 0) appends_done(s);
}

/* ---- one cycle -------------------------------------------------------------------- */

static void add_out(out_batch_t *o, gn_bytes_t key, gn_bytes_t value, int64_t ts)
{
    if (!o->used) gn_batch_builder_init(&o->b, GN_COMPRESSION_NONE);
    o->used = true;
    gn_batch_builder_add(&o->b, key, value, NULL, 0, ts);
}

static int32_t pick(gn_bytes_t key, int32_t src_part, int32_t parts)
{
    return key.ptr ? gn_partition_for_key(key, parts) : src_part % parts;
}

static void reject(cycle_t *cy, const gn_record_t *r, int32_t src_part, const char *why)
{
    if (cy->dlq) {
        add_out(&cy->dlq[pick(r->key, src_part, cy->dlq_parts)], r->key, r->value, r->timestamp);
        cy->s->dead_lettered++;
    } else {
        cy->s->skipped++;
        cy->skipped++;
        cy->skip_why = why;
    }
}

static void process(cycle_t *cy, const gn_record_t *r, int32_t src_part)
{
    stream_t *s = cy->s;
    s->records_in++;
    json_t *v = r->value.ptr ? json_loadb((const char *)r->value.ptr, r->value.len, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        reject(cy, r, src_part, "value is not a JSON object");
        return;
    }
    streams_rec_t rec = {v, NULL, 0};
    if (r->key.ptr && (rec.key = malloc(r->key.len + 1))) {
        memcpy(rec.key, r->key.ptr, r->key.len);
        rec.key[r->key.len] = '\0';
        rec.key_len = r->key.len;
    }
    json_t *out = NULL;
    if (streams_pipeline_run(&s->def, &rec)) {
        const char *why = NULL;
        streams_update_t u = STREAMS_UPDATED;
        if (s->def.agg == AGG_NONE)
            out = json_incref(rec.value);
        else
            u = streams_state_update(&s->st, &s->def, &rec, r->timestamp, &out, &why);
        if (u == STREAMS_REJECTED) reject(cy, r, src_part, why);
        if (u == STREAMS_LATE) {
            s->dropped_late++;
            s->late_unlogged++;
        }
    }
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (text) {
        gn_bytes_t key =
            rec.key ? (gn_bytes_t){(const uint8_t *)rec.key, rec.key_len} : GN_BYTES_NULL;
        add_out(&cy->sink[pick(key, src_part, cy->sink_parts)], key,
                (gn_bytes_t){(const uint8_t *)text, strlen(text)}, r->timestamp);
        s->records_out++;
    }
    free(text);
    json_decref(out);
    json_decref(rec.value);
    free(rec.key);
}

/* The records of one partition from its position, ≤ budget bytes. */
static size_t collect(cycle_t *cy, struct stream_part *p, size_t budget)
{
    stream_t *s = cy->s;
    gn_partition_t *part = gn_partition_get(s->reg->srv->broker, s->def.source, p->partition);
    if (!part) return 0;
    int64_t start = gn_partition_log_start_offset(part), hw = gn_partition_high_watermark(part);
    int64_t pos = p->position < start ? start : p->position;
    p->next = pos;
    gn_read_result_t res;
    if (pos >= hw || budget == 0 || gn_partition_read(part, pos, budget, &res) < 0) return 0;
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
                process(cy, &rec, p->partition);
                p->next = rec.offset + 1;
            }
            gn_record_iter_close(&it);
        }
        int64_t last = gn_batch_last_offset(&hdr);
        if (last + 1 > p->next && last + 1 <= hw) p->next = last + 1; /* control records */
        off += (size_t)size;
    }
    free(buf);
    return len;
}

/* The partition count of an output topic, created with `want` partitions if missing. */
static int32_t out_partitions(stream_t *s, const char *topic, int32_t want)
{
    gn_broker_t *broker = s->reg->srv->broker;
    gn_topic_info_t info;
    if (gn_topic_describe(broker, topic, &info) == 0) return info.partitions;
    if (!streams_may_create(s, topic)) return 0;
    int rc = gn_topic_create(broker, topic, want, -1, NULL, 0, false, NULL, NULL);
    if (rc < 0 && rc != GN_ETOPIC_EXISTS) {
        streams_fail(s, "Cannot create topic %s: %s", topic, gn_strerror(rc));
        return 0;
    }
    return gn_topic_describe(broker, topic, &info) == 0 ? info.partitions : 0;
}

static int produce_all(stream_t *s, const char *topic, out_batch_t *outs, int32_t n)
{
    int rc = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!outs[i].used) continue;
        gn_bytes_t batch;
        gn_partition_t *part = gn_partition_get(s->reg->srv->broker, topic, i);
        int r = part ? gn_batch_builder_finish(&outs[i].b, 0, &batch) : GN_EUNKNOWN_TOPIC;
        if (r == 0)
            r = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_ALL, on_appended, s);
        if (r == 0)
            s->pending++;
        else
            rc = r;
        gn_batch_builder_close(&outs[i].b);
    }
    return rc;
}

static void run_cycle(stream_t *s, int32_t src_parts)
{
    cycle_t cy = {.s = s};
    cy.sink_parts = out_partitions(s, s->def.sink, src_parts);
    if (s->def.dead_letter[0]) cy.dlq_parts = out_partitions(s, s->def.dead_letter, src_parts);
    if (s->state == STREAMS_FAILED || cy.sink_parts <= 0 ||
        (s->def.dead_letter[0] && cy.dlq_parts <= 0))
        return;
    cy.sink = calloc((size_t)cy.sink_parts, sizeof *cy.sink);
    cy.dlq = cy.dlq_parts ? calloc((size_t)cy.dlq_parts, sizeof *cy.dlq) : NULL;
    if (!cy.sink || (cy.dlq_parts && !cy.dlq)) goto out;
    size_t budget = STREAMS_READ_BYTES, moved = 0;
    for (size_t i = 0; i < s->nparts; i++) {
        size_t used = collect(&cy, &s->parts[i], budget);
        budget -= used < budget ? used : budget;
        moved += s->parts[i].next != s->parts[i].position;
    }
    if (s->def.agg != AGG_NONE && moved) streams_state_expire(&s->st, &s->def);
    if (cy.skipped)
        GN_WARN(STREAMS_MOD,
                "records skipped (no dead-letter topic) | name=%s count=%llu reason=%s",
                s->def.name, (unsigned long long)cy.skipped, cy.skip_why);
    if (!moved) {
        if (s->commit_due) commit(s);
        goto out;
    }
    streams_op_begin(s);
    s->cycle_status = 0;
    s->pending = 1; /* held until every append is out */
    int rc = produce_all(s, s->def.sink, cy.sink, cy.sink_parts);
    if (cy.dlq) {
        int r = produce_all(s, s->def.dead_letter, cy.dlq, cy.dlq_parts);
        if (r < 0) rc = r;
    }
    if (rc < 0) s->cycle_status = rc;
    if (--s->pending == 0) appends_done(s);
out:
    free(cy.sink);
    free(cy.dlq);
}

/* At most one line per STREAMS_LATE_LOG_MS about the records dropped as late. */
static void log_late(stream_t *s)
{
    int64_t now = gn_now_ms();
    if (!s->late_unlogged || now - s->late_logged_ms < STREAMS_LATE_LOG_MS) return;
    GN_WARN(STREAMS_MOD,
            "late records dropped: window closed | name=%s count=%llu stream_time=%lld "
            "grace_ms=%lld",
            s->def.name, (unsigned long long)s->late_unlogged, (long long)s->st.stream_time,
            (long long)s->def.grace_ms);
    s->late_unlogged = 0;
    s->late_logged_ms = now;
}

void streams_task_step(stream_t *s)
{
    log_late(s);
    if (s->reg->stopping || s->busy || !streams_authorized(s)) return;
    if (!s->loaded) {
        load(s);
        return;
    }
    gn_topic_info_t info;
    if (gn_topic_describe(s->reg->srv->broker, s->def.source, &info) < 0) return; /* not yet */
    for (int32_t p = 0; p < info.partitions; p++)
        if (!part_add(s, p)) {
            streams_fail(s, "More than %d source partitions", STREAMS_MAX_PARTS);
            return;
        }
    run_cycle(s, info.partitions);
}
