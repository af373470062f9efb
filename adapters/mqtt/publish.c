/* SPDX-License-Identifier: Apache-2.0 */
/* Appends one MQTT message to the log: maps the MQTT topic to log topic and key,
 * creates the topic on first use (auto.create.topics.enable), picks the partition
 * Kafka's murmur2 picks for the key (round robin without a key), builds one record
 * with the mapped headers and produces it (QoS 0: acks=1, QoS 1/2: acks=all). A
 * retained message is also written to __mqtt_retained (empty payload: a tombstone).
 * Wills and PUBLISH packets both come here. Loop thread only. */
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
    gn_record_header_t *hs = NULL;
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
    gn_partition_t *part = gn_partition_get(srv->broker, log_topic, p);
    if (!part) return GN_EUNKNOWN_TOPIC;
    if ((rc = mqtt__headers_from_props(props, qos, retain, &hs, &nh, scratch, sizeof scratch)) < 0)
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
    rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, qos == 0 ? GN_ACKS_LEADER : GN_ACKS_ALL,
                    on_produced, ctx);
    if (rc < 0) {
        free(ctx);
        goto out;
    }
    /* the append is synchronous: the record's offset is known now (for no-local) */
    size_t slot = srv->norigins++ % (sizeof srv->origins / sizeof srv->origins[0]);
    srv->origins[slot].part = part;
    srv->origins[slot].offset = gn_partition_log_end_offset(part) - 1;
    srv->origins[slot].serial = origin;

    if (retain) {
        gn_partition_t *rpart = gn_partition_get(srv->broker, MQTT_RETAINED_TOPIC, 0);
        gn_batch_builder_t rb;
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
    free(hs);
    return rc;
}
