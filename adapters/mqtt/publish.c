/* SPDX-License-Identifier: Apache-2.0 */
/* Appends MQTT messages to the log: maps the MQTT topic to log topic and key, creates
 * the topic on first use (auto.create.topics.enable), picks the partition Kafka's
 * murmur2 picks for the key (round robin without a key) and builds a record with the
 * mapped headers (QoS 0: acks=1, QoS 1/2: acks=all). PUBLISH packets join their
 * partition's pending batch, produced once at the end of the loop turn (one gn_produce
 * and one write per partition however many packets and connections); wills and
 * retained messages are produced at once, after the pending batch of their partition.
 * A retained message is also written to __mqtt_retained (empty payload: a tombstone).
 * Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "mqtt.h"

typedef struct produce_ctx {
    mqtt_publish_cb cb;
    void *arg;
} produce_ctx_t;

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    produce_ctx_t *ctx = arg;
    (void)res;
    if (ctx->cb) ctx->cb(ctx->arg, status);
    free(ctx);
}

static void on_retained_written(void *arg, int status, const gn_produce_result_t *res)
{
    (void)arg;
    (void)res;
    if (status < 0) GN_WARN(MQTT_MOD, "retained message not stored | err=%s", gn_err_name(status));
}

static int partitions_of(gn_broker_t *broker, const char *topic, int32_t *n)
{
    gn_topic_info_t info;
    int rc = gn_topic_describe(broker, topic, &info);
    if (rc == GN_EUNKNOWN_TOPIC) {
        gn_partition_t *part;
        if ((rc = gn_partition_get_or_create(broker, topic, 0, &part)) < 0) return rc;
        rc = gn_topic_describe(broker, topic, &info);
    }
    if (rc < 0) return rc;
    *n = info.partitions;
    return 0;
}

static void remember_origin(mqtt_server_t *srv, gn_partition_t *part, int64_t offset,
                            uint64_t origin)
{
    size_t slot = srv->norigins++ % MQTT_ORIGINS;
    srv->origins[slot].part = part;
    srv->origins[slot].offset = offset;
    srv->origins[slot].serial = origin;
}

/* Header views for a record: the caller's array when it is big enough. */
#define HDR_STACK 16

static int build(gn_batch_builder_t *b, gn_bytes_t key, gn_bytes_t value,
                 const gn_record_header_t *hs, size_t nh, int64_t now, gn_bytes_t *out)
{
    gn_batch_builder_init(b, GN_COMPRESSION_NONE);
    int rc = gn_batch_builder_add(b, key, value, hs, nh, now);
    if (rc == 0) rc = gn_batch_builder_finish(b, 0, out);
    return rc;
}

int mqtt__publish(mqtt_server_t *srv, uint64_t origin, gn_bytes_t topic, gn_bytes_t payload,
                  const mqtt_props_t *props, uint8_t qos, bool retain, mqtt_publish_cb cb,
                  void *arg)
{
    char log_topic[GN_TOPIC_NAME_MAX + 1];
    gn_bytes_t key;
    gn_record_header_t hbuf[HDR_STACK], *hs = NULL;
    size_t nh = 0;
    char scratch[16];
    gn_batch_builder_t b;
    bool built = false;
    produce_ctx_t *ctx = NULL;
    int rc = mqtt__map_topic(topic, log_topic, sizeof log_topic, &key);
    if (rc < 0) return rc;
    int32_t nparts;
    if ((rc = partitions_of(srv->broker, log_topic, &nparts)) < 0) return rc;
    int32_t p =
        key.ptr ? gn_partition_for_key(key, nparts) : (int32_t)(srv->rr++ % (uint32_t)nparts);
    if (srv->npending > 0) mqtt__publish_flush(srv); /* keep the partition's order */
    gn_partition_t *part = gn_partition_get(srv->broker, log_topic, p);
    if (!part) return GN_EUNKNOWN_TOPIC;
    if ((rc = mqtt__headers_from_props(props, qos, retain, &hs, &nh, scratch, sizeof scratch, hbuf,
                                       HDR_STACK)) < 0)
        return rc;
    int64_t now = gn_now_ms();
    gn_bytes_t value = payload.ptr ? payload : (gn_bytes_t){(const uint8_t *)"", 0};
    gn_bytes_t batch;
    built = true;
    if ((rc = build(&b, key, value, hs, nh, now, &batch)) < 0) goto out;
    rc = GN_ENOMEM;
    if (!(ctx = malloc(sizeof(*ctx)))) goto out;
    ctx->cb = cb;
    ctx->arg = arg;
    bool local = gn_partition_is_leader(part); /* else forwarded: the offset comes later */
    rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, qos == 0 ? GN_ACKS_LEADER : GN_ACKS_ALL,
                    on_produced, ctx);
    if (rc < 0) {
        free(ctx);
        goto out;
    }
    /* the append is synchronous: the record's offset is known now (for no-local) */
    if (local) remember_origin(srv, part, gn_partition_log_end_offset(part) - 1, origin);

    if (retain) {
        gn_partition_t *rpart = gn_partition_get(srv->broker, MQTT_RETAINED_TOPIC, 0);
        gn_batch_builder_t rb;
        gn_batch_builder_init(&rb, GN_COMPRESSION_NONE); /* closed below even without rpart */
        gn_bytes_t rbatch;
        gn_bytes_t rvalue = payload.len ? payload : GN_BYTES_NULL; /* empty: delete */
        if (rpart && build(&rb, topic, rvalue, hs, nh, now, &rbatch) == 0) {
            int rrc =
                gn_produce(rpart, (uint8_t *)rbatch.ptr, rbatch.len,
                           qos == 0 ? GN_ACKS_LEADER : GN_ACKS_ALL, on_retained_written, NULL);
            if (rrc < 0)
                GN_WARN(MQTT_MOD, "retained message not stored | err=%s", gn_err_name(rrc));
        }
        gn_batch_builder_close(&rb);
        /* the in-memory view, with the headers in their stored (record) form */
        if (payload.len == 0) {
            mqtt__retained_set(srv, topic, payload, NULL, 0, 0, now, false);
        } else {
            gn_record_iter_t it;
            gn_record_t rec;
            if (gn_record_iter_init(&it, batch.ptr, batch.len) == 0) {
                if (gn_record_iter_next(&it, &rec) == 1)
                    mqtt__retained_set(srv, topic, payload, rec.headers.ptr, rec.headers.len,
                                       rec.headers_count, now, false);
                gn_record_iter_close(&it);
            }
        }
    }
    rc = 0;
out:
    if (built) gn_batch_builder_close(&b);
    if (hs != hbuf) free(hs);
    return rc;
}

/* ---- batched publishes: one batch per partition per loop turn ------------------- */

typedef struct batch_ctx {
    size_t n;
    mqtt_pub_waiter_t w[];
} batch_ctx_t;

static void on_batch_produced(void *arg, int status, const gn_produce_result_t *res)
{
    batch_ctx_t *ctx = arg;
    (void)res;
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->w[i].cb) ctx->w[i].cb(ctx->w[i].arg, ctx->w[i].tag, status);
    free(ctx);
}

static void pending_fail(mqtt_pending_t *pd, int status)
{
    for (size_t i = 0; i < pd->n; i++)
        if (pd->w[i].cb) pd->w[i].cb(pd->w[i].arg, pd->w[i].tag, status);
}

/* Produces one pending batch; answers its waiters (later, or now on failure). */
static void pending_send(mqtt_server_t *srv, mqtt_pending_t *pd)
{
    gn_bytes_t batch;
    batch_ctx_t *ctx = NULL;
    int rc = GN_EUNKNOWN_TOPIC;
    gn_partition_t *part = gn_partition_get(srv->broker, pd->topic, pd->partition);
    if (!part) goto fail;
    if ((rc = gn_batch_builder_finish(&pd->b, 0, &batch)) < 0) goto fail;
    rc = GN_ENOMEM;
    if (!(ctx = malloc(sizeof(*ctx) + pd->n * sizeof(ctx->w[0])))) goto fail;
    ctx->n = pd->n;
    memcpy(ctx->w, pd->w, pd->n * sizeof(ctx->w[0]));
    bool local = gn_partition_is_leader(part); /* else forwarded: the offsets come later */
    rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len,
                    pd->acks_all ? GN_ACKS_ALL : GN_ACKS_LEADER, on_batch_produced, ctx);
    if (rc < 0) {
        free(ctx);
        goto fail;
    }
    int64_t base = gn_partition_log_end_offset(part) - (int64_t)pd->n;
    for (size_t i = 0; local && i < pd->n; i++)
        if (pd->origins[i]) remember_origin(srv, part, base + (int64_t)i, pd->origins[i]);
    /* a local append assigned the offsets in place: these are the log's bytes, delivered
     * from memory by the append observer on the next turn */
    if (local) mqtt__recent_add(srv, part, base, base + (int64_t)pd->n - 1, batch.ptr, batch.len);
    goto done;
fail:
    GN_DEBUG(MQTT_MOD, "batched append failed | topic=%s partition=%d records=%zu err=%s",
             pd->topic, pd->partition, pd->n, gn_err_name(rc));
    pending_fail(pd, rc);
done:
    gn_batch_builder_reset(&pd->b);
    pd->n = 0;
}

void mqtt__publish_flush(mqtt_server_t *srv)
{
    /* a waiter may publish again (refusal paths do not, but stay safe): take the count */
    while (srv->npending > 0) {
        size_t n = srv->npending;
        srv->npending = 0;
        for (size_t i = 0; i < n; i++)
            if (srv->pending[i].n > 0) pending_send(srv, &srv->pending[i]);
        if (srv->npending == 0) break;
    }
}

void mqtt__publish_free(mqtt_server_t *srv)
{
    mqtt__publish_flush(srv);
    for (size_t i = 0; i < srv->cap_pending; i++) {
        gn_batch_builder_close(&srv->pending[i].b);
        free(srv->pending[i].w);
        free(srv->pending[i].origins);
    }
    free(srv->pending);
    srv->pending = NULL;
    srv->cap_pending = srv->npending = 0;
}

static mqtt_pending_t *pending_for(mqtt_server_t *srv, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < srv->npending; i++) {
        mqtt_pending_t *pd = &srv->pending[i];
        if (pd->partition == partition && strcmp(pd->topic, topic) == 0) return pd;
    }
    if (srv->npending == srv->cap_pending) {
        size_t cap = srv->cap_pending ? srv->cap_pending * 2 : 4;
        mqtt_pending_t *np = realloc(srv->pending, cap * sizeof(*np));
        if (!np) return NULL;
        memset(np + srv->cap_pending, 0, (cap - srv->cap_pending) * sizeof(*np));
        for (size_t i = srv->cap_pending; i < cap; i++)
            gn_batch_builder_init(&np[i].b, GN_COMPRESSION_NONE);
        srv->pending = np;
        srv->cap_pending = cap;
    }
    mqtt_pending_t *pd = &srv->pending[srv->npending++];
    snprintf(pd->topic, sizeof pd->topic, "%s", topic);
    pd->partition = partition;
    pd->acks_all = false;
    pd->n = 0;
    return pd;
}

int mqtt__publish_batched(mqtt_server_t *srv, uint64_t origin, gn_bytes_t topic, gn_bytes_t payload,
                          const mqtt_props_t *props, uint8_t qos, mqtt_batch_cb cb, void *arg,
                          uint32_t tag)
{
    char log_topic[GN_TOPIC_NAME_MAX + 1];
    gn_bytes_t key;
    gn_record_header_t hbuf[HDR_STACK], *hs = NULL;
    size_t nh = 0;
    char scratch[16];
    int rc = mqtt__map_topic(topic, log_topic, sizeof log_topic, &key);
    if (rc < 0) return rc;
    /* a topic already pending this turn: its partition count is known (no lookup) */
    int32_t nparts = 0;
    for (size_t i = 0; i < srv->npending && !nparts; i++)
        if (strcmp(srv->pending[i].topic, log_topic) == 0) nparts = srv->pending[i].nparts;
    if (!nparts && (rc = partitions_of(srv->broker, log_topic, &nparts)) < 0) return rc;
    int32_t p =
        key.ptr ? gn_partition_for_key(key, nparts) : (int32_t)(srv->rr++ % (uint32_t)nparts);
    mqtt_pending_t *pd = pending_for(srv, log_topic, p);
    if (!pd) return GN_ENOMEM;
    pd->nparts = nparts;
    size_t approx = payload.len + key.len + 64 + (props ? props->user_count * 32u : 0);
    if (pd->n > 0 && (pd->n >= MQTT_BATCH_MAX_RECORDS || pd->b.len + approx > MQTT_BATCH_MAX_BYTES))
        pending_send(srv, pd); /* full: out now, this message starts the next batch */
    if (pd->n == pd->cap) {
        size_t cap = pd->cap ? pd->cap * 2 : 64;
        mqtt_pub_waiter_t *nw = realloc(pd->w, cap * sizeof(*nw));
        if (!nw) return GN_ENOMEM;
        pd->w = nw;
        uint64_t *no = realloc(pd->origins, cap * sizeof(*no));
        if (!no) return GN_ENOMEM;
        pd->origins = no;
        pd->cap = cap;
    }
    if ((rc = mqtt__headers_from_props(props, qos, false, &hs, &nh, scratch, sizeof scratch, hbuf,
                                       HDR_STACK)) < 0)
        return rc;
    gn_bytes_t value = payload.ptr ? payload : (gn_bytes_t){(const uint8_t *)"", 0};
    rc = gn_batch_builder_add(&pd->b, key, value, hs, nh, gn_now_ms());
    if (hs != hbuf) free(hs);
    if (rc < 0) return rc;
    pd->w[pd->n].cb = cb;
    pd->w[pd->n].arg = arg;
    pd->w[pd->n].tag = tag;
    pd->origins[pd->n] = origin;
    pd->n++;
    if (qos > 0) pd->acks_all = true;
    return 0;
}
