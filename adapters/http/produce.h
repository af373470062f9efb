/* SPDX-License-Identifier: Apache-2.0 */
/* The REST produce path shared by v2 (/topics/{t}[/partitions/{p}]) and v3 (records):
 * partition choice, one batch per partition, per-record results. Loop thread only. */
#ifndef GN_HTTP_PRODUCE_H
#define GN_HTTP_PRODUCE_H

#include "http.h"
#include "rest_decode.h"

#define HTTP_EPARTITION (GN__ERR_BASE - 900) /* partition not in the topic (40402) */

typedef struct http_produce_result {
    int32_t partition;
    int64_t offset; /* -1 on error */
    int error;      /* 0 or a gn error */
} http_produce_result_t;

typedef struct http_produce_job http_produce_job_t;
/* Runs once all partitions answered, only while the request is still connected. */
typedef void (*http_produce_done_cb)(http_req_t *req, const http_produce_job_t *job);

struct http_produce_job {
    http_req_t *req;
    http_produce_done_cb done;
    char topic[256];
    size_t count;
    http_produce_result_t *results; /* one per record, in request order */
    int pending;
    void *part_ctx;
};

/* only_partition -1: each record's own or the partitioner's choice. 0 (done will run),
 * GN_EUNKNOWN_TOPIC, GN_EINVALID_TOPIC, HTTP_EPARTITION, GN_ENOMEM. The records are
 * borrowed for the call only. */
int http_produce_start(http_req_t *req, const char *topic, int32_t only_partition,
                       const http_rest_record_t *recs, size_t count, http_produce_done_cb done);
int http_produce_error_code(int err);

#endif
