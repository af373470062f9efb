/* SPDX-License-Identifier: Apache-2.0 */
/* Connect's two internal topics, both compacted with one partition: __connect_configs
 * (connector configs and target states, read by connect.c) and __connect_offsets (source
 * positions under Connect's key ["<name>",{"filename":"<path>"}], value {"position":N}).
 * Writes are acks=all appends through gn_produce; reads are http__topic_scan's
 * (topic_scan.c). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"

typedef struct write_ctx {
    connect_written_cb cb;
    void *arg;
} write_ctx_t;

static void on_written(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    write_ctx_t *ctx = arg;
    if (ctx->cb) ctx->cb(ctx->arg, status);
    free(ctx);
}

static gn_partition_t *store_partition(gn_broker_t *broker, const char *topic)
{
    gn_partition_t *part = gn_partition_get(broker, topic, 0);
    if (part) return part;
    static const gn_config_entry_t cfg[] = {{"cleanup.policy", "compact"}};
    int rc = gn_topic_create(broker, topic, 1, -1, cfg, 1, false, NULL, NULL);
    if (rc < 0 && rc != GN_ETOPIC_EXISTS) {
        GN_ERROR(CONNECT_MOD, "cannot create internal topic | topic=%s err=%s", topic,
                 gn_err_name(rc));
        return NULL;
    }
    return gn_partition_get(broker, topic, 0);
}

int connect_store_write(gn_broker_t *broker, const char *topic, const char *const *keys,
                        const char *const *values, size_t n, connect_written_cb cb, void *arg)
{
    gn_partition_t *part = store_partition(broker, topic);
    if (!part) return GN_EUNKNOWN_TOPIC;
    write_ctx_t *ctx = malloc(sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    *ctx = (write_ctx_t){cb, arg};
    gn_batch_builder_t b;
    gn_bytes_t batch;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    int rc = 0;
    int64_t now = gn_now_ms();
    for (size_t i = 0; i < n && rc == 0; i++) {
        gn_bytes_t v =
            values[i] ? (gn_bytes_t){(const uint8_t *)values[i], strlen(values[i])} : GN_BYTES_NULL;
        rc = gn_batch_builder_add(&b, (gn_bytes_t){(const uint8_t *)keys[i], strlen(keys[i])}, v,
                                  NULL, 0, now);
    }
    if (rc == 0) rc = gn_batch_builder_finish(&b, 0, &batch);
    if (rc == 0)
        rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_ALL, on_written, ctx);
    gn_batch_builder_close(&b);
    if (rc < 0) free(ctx);
    return rc;
}

char *connect_offset_key(const char *name, const char *path)
{
    json_t *k = json_pack("[s,{s:s}]", name, "filename", path);
    char *s = k ? json_dumps(k, JSON_COMPACT) : NULL;
    json_decref(k);
    return s;
}
