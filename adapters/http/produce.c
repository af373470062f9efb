/* SPDX-License-Identifier: Apache-2.0 */
/* Producing REST records (v2 and v3): places each record on a partition (the one
 * given, Kafka's murmur2 of the key, or one sticky partition per request for keyless
 * records), builds one batch per partition with gn_batch_builder, appends each with
 * gn_produce (acks=all) and reports every record's partition and offset or error.
 * Loop thread only. */
#include "produce.h"

#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"

typedef struct part_ctx {
    http_produce_job_t *job;
    int32_t partition;
} part_ctx_t;

static void job_finish(http_produce_job_t *job)
{
    http_req_t *req = job->req;
    if (http_req_async_done(req)) job->done(req, job);
    free(job->part_ctx);
    free(job->results);
    free(job);
}

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    part_ctx_t *pc = arg;
    http_produce_job_t *job = pc->job;
    int64_t next = status == 0 ? res->base_offset : -1;
    for (size_t i = 0; i < job->count; i++) {
        if (job->results[i].partition != pc->partition) continue;
        if (status == 0)
            job->results[i].offset = next++;
        else
            job->results[i].error = status;
    }
    if (--job->pending == 0) job_finish(job);
}

int http_produce_start(http_req_t *req, const char *topic, int32_t only_partition,
                       const http_rest_record_t *recs, size_t count, http_produce_done_cb done)
{
    http_server_t *srv = req->srv;
    gn_partition_t *part0 = NULL;
    int rc = gn_topic_client_may_write(topic, "produce to");
    if (rc < 0) return rc;
    if ((rc = gn_partition_get_or_create(srv->broker, topic, 0, &part0)) < 0) return rc;
    gn_topic_info_t info;
    rc = gn_topic_describe(srv->broker, topic, &info);
    if (rc < 0) return rc;
    int32_t nparts = info.partitions;
    if (only_partition >= nparts) return HTTP_EPARTITION;
    for (size_t i = 0; i < count; i++)
        if (only_partition < 0 && recs[i].partition >= nparts) return HTTP_EPARTITION;

    http_produce_job_t *job = calloc(1, sizeof *job);
    if (!job) return GN_ENOMEM;
    job->req = req;
    job->done = done;
    job->count = count;
    snprintf(job->topic, sizeof job->topic, "%s", topic);
    job->results = calloc(count, sizeof *job->results);
    job->part_ctx = calloc((size_t)nparts, sizeof(part_ctx_t));
    if (!job->results || !job->part_ctx) {
        free(job->results);
        free(job->part_ctx);
        free(job);
        return GN_ENOMEM;
    }
    int32_t sticky = (int32_t)(srv->metrics.records_in % (uint64_t)nparts);
    for (size_t i = 0; i < count; i++) {
        int32_t p = only_partition >= 0      ? only_partition
                    : recs[i].partition >= 0 ? recs[i].partition
                    : recs[i].key.ptr        ? gn_partition_for_key(recs[i].key, nparts)
                                             : sticky;
        job->results[i] = (http_produce_result_t){.partition = p, .offset = -1};
    }

    /* One batch per partition, in record order. */
    req->async++;
    job->pending = 1; /* held until every partition is started */
    int64_t now = gn_now_ms();
    part_ctx_t *pcs = job->part_ctx;
    for (int32_t p = 0; p < nparts; p++) {
        gn_batch_builder_t b;
        gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
        int err = 0;
        size_t n = 0;
        for (size_t i = 0; i < count && !err; i++) {
            if (job->results[i].partition != p) continue;
            err = gn_batch_builder_add(&b, recs[i].key, recs[i].value, NULL, 0, now);
            n++;
            srv->metrics.records_in++;
            srv->metrics.bytes_in += recs[i].key.len + recs[i].value.len;
        }
        if (n == 0) {
            gn_batch_builder_close(&b);
            continue;
        }
        gn_bytes_t batch;
        gn_partition_t *part = gn_partition_get(srv->broker, topic, p);
        if (!err) err = gn_batch_builder_finish(&b, 0, &batch);
        if (!err && !part) err = GN_EUNKNOWN_TOPIC;
        if (!err) {
            pcs[p] = (part_ctx_t){job, p};
            err = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_ALL, on_produced,
                             &pcs[p]);
            if (!err) job->pending++;
        }
        gn_batch_builder_close(&b);
        if (err)
            for (size_t i = 0; i < count; i++)
                if (job->results[i].partition == p) job->results[i].error = err;
    }
    if (--job->pending == 0) job_finish(job);
    return 0;
}

/* Kafka's retriable errors: the REST Proxy reports error_code 2 for them, 1 otherwise. */
int http_produce_error_code(int err)
{
    switch (err) {
    case GN_ENOTLEADER:
    case GN_ENOT_ENOUGH_REPLICAS:
    case GN_ETIMEOUT:
    case GN_ESHUTDOWN:
        return 2;
    default:
        return 1;
    }
}
