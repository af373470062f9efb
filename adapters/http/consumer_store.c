/* SPDX-License-Identifier: Apache-2.0 */
/* REST consumer instances in the compacted topic __rest_consumers (one partition):
 * key = the JSON text ["group","name"], value = JSON {v, format, auto.offset.reset,
 * auto.commit.enable, fetch.min.bytes, consumer.request.timeout.ms, topics |
 * topic_pattern | assignments}, a tombstone on delete. Loaded when the adapter starts,
 * so instances (and, through __consumer_offsets, their committed offsets) survive a
 * restart. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"

typedef struct save_ctx {
    http_consumer_saved_cb cb;
    void *arg;
} save_ctx_t;

static void on_saved(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    save_ctx_t *ctx = arg;
    if (status < 0) GN_WARN(HTTP_MOD, "consumer instance not saved | err=%s", gn_err_name(status));
    if (ctx->cb) ctx->cb(ctx->arg, status);
    free(ctx);
}

static gn_partition_t *store_partition(http_server_t *srv)
{
    gn_partition_t *part = gn_partition_get(srv->broker, HTTP_CONSUMERS_TOPIC, 0);
    if (part) return part;
    static const gn_config_entry_t cfg[] = {{"cleanup.policy", "compact"}};
    int rc = gn_topic_create(srv->broker, HTTP_CONSUMERS_TOPIC, 1, -1, cfg, 1, false, NULL, NULL);
    if (rc < 0 && rc != GN_ETOPIC_EXISTS) {
        GN_ERROR(HTTP_MOD, "cannot create internal topic | topic=%s err=%s", HTTP_CONSUMERS_TOPIC,
                 gn_err_name(rc));
        return NULL;
    }
    return gn_partition_get(srv->broker, HTTP_CONSUMERS_TOPIC, 0);
}

static char *key_text(const char *group, const char *name)
{
    json_t *k = json_pack("[s,s]", group, name);
    char *s = k ? json_dumps(k, JSON_COMPACT) : NULL;
    json_decref(k);
    return s;
}

static int write_record(http_server_t *srv, const char *group, const char *name, gn_bytes_t value,
                        http_consumer_saved_cb cb, void *arg)
{
    gn_partition_t *part = store_partition(srv);
    if (!part) return GN_EUNKNOWN_TOPIC;
    char *key = key_text(group, name);
    save_ctx_t *ctx = malloc(sizeof *ctx);
    int rc = GN_ENOMEM;
    gn_batch_builder_t b;
    gn_bytes_t batch;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    if (!key || !ctx) goto out;
    *ctx = (save_ctx_t){cb, arg};
    rc = gn_batch_builder_add(&b, (gn_bytes_t){(const uint8_t *)key, strlen(key)}, value, NULL, 0,
                              gn_now_ms());
    if (rc == 0) rc = gn_batch_builder_finish(&b, 0, &batch);
    if (rc == 0) rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_ALL, on_saved, ctx);
    if (rc == 0) ctx = NULL;
out:
    gn_batch_builder_close(&b);
    free(ctx);
    free(key);
    return rc;
}

int http__consumer_save(http_consumer_t *c, http_consumer_saved_cb cb, void *arg)
{
    json_t *doc = json_pack("{s:i,s:s,s:s,s:b,s:i,s:i}", "v", 1, "format",
                            c->format == HTTP_REST_JSON ? "json" : "binary", "auto.offset.reset",
                            c->earliest ? "earliest" : "latest", "auto.commit.enable",
                            c->auto_commit, "fetch.min.bytes", (int)c->fetch_min_bytes,
                            "consumer.request.timeout.ms", (int)c->request_timeout_ms);
    if (!doc) return GN_ENOMEM;
    if (c->pattern) {
        json_object_set_new(doc, "topic_pattern", json_string(c->pattern));
    } else if (c->ntopics) {
        json_t *t = json_array();
        for (size_t i = 0; i < c->ntopics; i++)
            json_array_append_new(t, json_string(c->topics[i]));
        json_object_set_new(doc, "topics", t);
    } else if (c->manual) {
        json_t *a = json_array();
        for (size_t i = 0; i < c->nparts; i++)
            json_array_append_new(a, json_pack("{s:s,s:i}", "topic", c->parts[i].topic, "partition",
                                               (int)c->parts[i].partition));
        json_object_set_new(doc, "assignments", a);
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text) return GN_ENOMEM;
    int rc = write_record(c->srv, c->group, c->name, (gn_bytes_t){(uint8_t *)text, strlen(text)},
                          cb, arg);
    free(text);
    return rc;
}

int http__consumer_forget(http_server_t *srv, const char *group, const char *name)
{
    if (srv->stopping) return 0;
    return write_record(srv, group, name, GN_BYTES_NULL, NULL, NULL);
}

/* ---- loading ------------------------------------------------------------------- */

void http__consumer_restore(http_server_t *srv, gn_bytes_t key, gn_bytes_t value)
{
    if (!key.ptr) return;
    json_t *k = json_loadb((const char *)key.ptr, key.len, 0, NULL);
    const char *group = json_string_value(json_array_get(k, 0));
    const char *name = json_string_value(json_array_get(k, 1));
    json_t *doc = NULL;
    if (!group || !name) goto out;
    http_consumer_t *old = http__consumer_find(srv, group, name);
    if (old) http__consumer_delete(old, false);
    if (!value.ptr) goto out;
    doc = json_loadb((const char *)value.ptr, value.len, 0, NULL);
    if (!doc) goto out;
    http_consumer_t *c = http__consumer_new(srv, group, name);
    if (!c) goto out;
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    c->format = fmt && strcmp(fmt, "json") == 0 ? HTTP_REST_JSON : HTTP_REST_BINARY;
    const char *reset = json_string_value(json_object_get(doc, "auto.offset.reset"));
    c->earliest = reset && strcmp(reset, "earliest") == 0;
    c->auto_commit = json_is_true(json_object_get(doc, "auto.commit.enable"));
    c->fetch_min_bytes = (int32_t)json_integer_value(json_object_get(doc, "fetch.min.bytes"));
    c->request_timeout_ms =
        (int32_t)json_integer_value(json_object_get(doc, "consumer.request.timeout.ms"));
    if (c->request_timeout_ms <= 0) c->request_timeout_ms = 1000;
    const char *pattern = json_string_value(json_object_get(doc, "topic_pattern"));
    json_t *topics = json_object_get(doc, "topics"), *asg = json_object_get(doc, "assignments");
    size_t i;
    json_t *it;
    if (pattern) {
        c->pattern = strdup(pattern);
        if (c->pattern) http__consumer_resolve_pattern(c); /* the topics it matches now */
    } else if (json_array_size(topics)) {
        c->topics = calloc(json_array_size(topics), sizeof(char *));
        json_array_foreach(topics, i, it)
        {
            if (c->topics && json_string_value(it))
                c->topics[c->ntopics++] = strdup(json_string_value(it));
        }
    } else if (json_is_array(asg)) {
        gn_topic_partition_t tps[HTTP_CONSUMER_MAX_PARTS];
        size_t n = 0;
        json_array_foreach(asg, i, it)
        {
            const char *t = json_string_value(json_object_get(it, "topic"));
            if (t && n < HTTP_CONSUMER_MAX_PARTS)
                tps[n++] = (gn_topic_partition_t){
                    t, (int32_t)json_integer_value(json_object_get(it, "partition"))};
        }
        c->manual = true;
        /* positions from committed offsets: looked up when the first records request
         * comes (the coordinator may still be loading now) */
        c->parts = calloc(n ? n : 1, sizeof *c->parts);
        for (size_t p = 0; c->parts && p < n; p++) {
            snprintf(c->parts[p].topic, sizeof c->parts[p].topic, "%s", tps[p].topic);
            c->parts[p].partition = tps[p].partition;
            c->parts[p].position = c->parts[p].consumed = -1;
            c->parts[p].c = c;
        }
        c->nparts = c->parts ? n : 0;
    }
out:
    json_decref(doc);
    json_decref(k);
}

static void restore(void *arg, gn_bytes_t key, gn_bytes_t value)
{
    http__consumer_restore(arg, key, value);
}

int http__consumers_load(http_server_t *srv)
{
    int64_t next = 0;
    return http__topic_scan(srv->broker, HTTP_CONSUMERS_TOPIC, &next, restore, srv);
}
