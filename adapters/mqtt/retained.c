/* SPDX-License-Identifier: Apache-2.0 */
/* Retained messages: an in-memory table by MQTT topic, written through to the compacted
 * topic __mqtt_retained (key = MQTT topic, value = payload, headers as in the log;
 * a tombstone deletes) and rebuilt from it at start. $SYS entries live in memory only.
 * Sent on subscribe to matching filters with the retain flag set. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

static size_t bucket_of(gn_bytes_t t)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < t.len; i++)
        h = (h ^ t.ptr[i]) * 16777619u;
    return h % MQTT_RETAINED_BUCKETS;
}

static void entry_free(mqtt_retained_t *r)
{
    free(r->topic);
    free(r->payload);
    free(r->headers);
    free(r);
}

void mqtt__retained_set(mqtt_server_t *srv, gn_bytes_t topic, gn_bytes_t payload,
                        const uint8_t *headers, size_t headers_len, int32_t headers_count,
                        int64_t ts, bool sys)
{
    mqtt_retained_t **pp = &srv->retained[bucket_of(topic)];
    while (*pp &&
           !(strlen((*pp)->topic) == topic.len && memcmp((*pp)->topic, topic.ptr, topic.len) == 0))
        pp = &(*pp)->hnext;
    if (*pp) {
        mqtt_retained_t *old = *pp;
        *pp = old->hnext;
        entry_free(old);
        srv->nretained--;
    }
    if (payload.len == 0) return; /* an empty retained payload deletes */
    mqtt_retained_t *r = calloc(1, sizeof(*r));
    if (!r) return;
    r->topic = strndup((const char *)topic.ptr, topic.len);
    r->payload = malloc(payload.len);
    r->headers = malloc(headers_len + 1);
    if (!r->topic || !r->payload || !r->headers) {
        entry_free(r);
        return;
    }
    memcpy(r->payload, payload.ptr, payload.len);
    r->payload_len = payload.len;
    if (headers_len) memcpy(r->headers, headers, headers_len);
    r->headers_len = headers_len;
    r->headers_count = headers_count;
    r->timestamp = ts;
    r->sys = sys;
    size_t b = bucket_of(topic);
    r->hnext = srv->retained[b];
    srv->retained[b] = r;
    srv->nretained++;
}

void mqtt__retained_free_all(mqtt_server_t *srv)
{
    for (size_t b = 0; b < MQTT_RETAINED_BUCKETS; b++) {
        while (srv->retained[b]) {
            mqtt_retained_t *r = srv->retained[b];
            srv->retained[b] = r->hnext;
            entry_free(r);
        }
    }
    srv->nretained = 0;
}

void mqtt__retained_send(mqtt_session_t *sess, const mqtt_sub_t *sub)
{
    mqtt_server_t *srv = sess->srv;
    for (size_t b = 0; b < MQTT_RETAINED_BUCKETS; b++) {
        for (mqtt_retained_t *r = srv->retained[b]; r; r = r->hnext) {
            gn_bytes_t t = {(const uint8_t *)r->topic, strlen(r->topic)};
            if (!mqtt__filter_matches(sub->filter, t)) continue;
            mqtt_msg_t msg = {.topic = t,
                              .payload = {r->payload, r->payload_len},
                              .headers = {r->headers, r->headers_len},
                              .headers_count = r->headers_count,
                              .timestamp = r->timestamp};
            mqtt__msg_parse_headers(&msg);
            if (r->sys) msg.qos = 0;
            uint8_t qos = sub->qos < msg.qos ? sub->qos : msg.qos;
            uint32_t id = sub->sub_id;
            /* retained messages always carry the retain flag on subscribe */
            if (!mqtt__send_publish(sess, &msg, qos, true, &id, id ? 1 : 0))
                srv->stats.msgs_dropped++;
        }
    }
}

typedef struct load_ctx {
    mqtt_server_t *srv;
} load_ctx_t;

static int load_record(void *arg, const gn_record_t *rec)
{
    load_ctx_t *ctx = arg;
    if (!rec->key.ptr || !mqtt_topic_name_valid(rec->key)) return 0;
    gn_bytes_t value = rec->value.ptr ? rec->value : (gn_bytes_t){(const uint8_t *)"", 0};
    mqtt__retained_set(ctx->srv, rec->key, value, rec->headers.ptr, rec->headers.len,
                       rec->headers_count, rec->timestamp, false);
    return 0;
}

/* Records appended to __mqtt_retained (by this broker, or replicated from the leader
 * when another broker's client published them) update the table in log order, so every
 * broker of a cluster serves the same retained messages. */
void mqtt__retained_apply(mqtt_server_t *srv, gn_partition_t *part, int64_t base, int64_t last)
{
    load_ctx_t ctx = {srv};
    int64_t next = base;
    while (next <= last) {
        int64_t before = next;
        int rc = mqtt__log_scan(srv, part, next, last + 1, 1u << 20, load_record, &ctx, &next);
        if (rc < 0) {
            GN_WARN(MQTT_MOD, "reading retained messages failed | offset=%lld err=%s",
                    (long long)next, gn_err_name(rc));
            return;
        }
        if (next == before) return;
    }
}

int mqtt__retained_load(mqtt_server_t *srv)
{
    gn_partition_t *part = gn_partition_get(srv->broker, MQTT_RETAINED_TOPIC, 0);
    if (!part) return 0;
    load_ctx_t ctx = {srv};
    int64_t next = gn_partition_log_start_offset(part), hw = gn_partition_high_watermark(part);
    while (next < hw) {
        int64_t before = next;
        int rc = mqtt__log_scan(srv, part, next, hw, 1u << 20, load_record, &ctx, &next);
        if (rc < 0) return rc;
        if (next == before) break;
    }
    return 0;
}
