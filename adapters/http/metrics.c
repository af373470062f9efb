/* SPDX-License-Identifier: Apache-2.0 */
/* /metrics: the Prometheus text exposition (format 0.0.4) of the HTTP listener's
 * counters (requests by method and status class, a latency histogram, connections,
 * WebSocket and SSE streams, records in and out) and of every partition's offsets
 * and size from the core, and consumer groups (members, state, committed offset and
 * lag per partition) once a group coordinator exists. Loop thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/partition.h"
#include "ganglion/topic.h"
#include "groups_view.h"
#include "http.h"

static const double latency_bounds[HTTP_LATENCY_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
};

void http_metrics_observe(http_server_t *srv, http_method_t m, int status, double seconds)
{
    http_metrics_t *mt = &srv->metrics;
    int cls = status / 100;
    if (cls < 1 || cls > 5) cls = 0;
    if ((unsigned)m < HTTP_METHOD_COUNT) mt->requests[m][cls]++;
    size_t b = 0;
    while (b < HTTP_LATENCY_BUCKETS && seconds > latency_bounds[b])
        b++;
    mt->latency_buckets[b]++;
    mt->latency_sum += seconds;
    mt->latency_count++;
}

typedef struct out {
    char *buf;
    size_t len, cap;
    bool failed;
} out_t;

static void outf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(out_t *o, const char *fmt, ...)
{
    if (o->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *nb = realloc(o->buf, cap);
        if (!nb) {
            o->failed = true;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
}

typedef struct part_row {
    out_t *o;
    gn_broker_t *broker;
    int pass;
} part_row_t;

static void each_topic(void *arg, const gn_topic_info_t *info)
{
    part_row_t *pr = arg;
    for (int32_t p = 0; p < info->partitions; p++) {
        gn_partition_t *part = gn_partition_get(pr->broker, info->name, p);
        if (!part) continue;
        int64_t v = 0;
        switch (pr->pass) {
        case 0:
            v = gn_partition_log_end_offset(part);
            break;
        case 1:
            v = gn_partition_log_start_offset(part);
            break;
        case 2:
            v = gn_partition_high_watermark(part);
            break;
        default:
            v = gn_partition_size_bytes(part);
            break;
        }
        static const char *const names[] = {
            "ganglion_partition_log_end_offset",
            "ganglion_partition_log_start_offset",
            "ganglion_partition_high_watermark",
            "ganglion_partition_size_bytes",
        };
        outf(pr->o, "%s{topic=\"%s\",partition=\"%d\"} %lld\n", names[pr->pass], info->name, (int)p,
             (long long)v);
    }
}

char *http_metrics_render(http_server_t *srv, size_t *len)
{
    out_t o = {.cap = 8192};
    o.buf = malloc(o.cap);
    if (!o.buf) return NULL;
    http_metrics_t *mt = &srv->metrics;

    outf(&o, "# HELP ganglion_http_requests_total HTTP requests answered, by method and "
             "status class.\n# TYPE ganglion_http_requests_total counter\n");
    static const char *const cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int m = 0; m < HTTP_METHOD_COUNT; m++)
        for (int c = 0; c < 6; c++)
            if (mt->requests[m][c])
                outf(&o, "ganglion_http_requests_total{method=\"%s\",code=\"%s\"} %llu\n",
                     http_method_name((http_method_t)m), cls[c],
                     (unsigned long long)mt->requests[m][c]);
    outf(&o, "# HELP ganglion_http_request_duration_seconds Time from request to response "
             "ready.\n# TYPE ganglion_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < HTTP_LATENCY_BUCKETS; b++) {
        cum += mt->latency_buckets[b];
        outf(&o, "ganglion_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
             latency_bounds[b], (unsigned long long)cum);
    }
    cum += mt->latency_buckets[HTTP_LATENCY_BUCKETS];
    outf(&o, "ganglion_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
         (unsigned long long)cum);
    outf(&o, "ganglion_http_request_duration_seconds_sum %.6f\n", mt->latency_sum);
    outf(&o, "ganglion_http_request_duration_seconds_count %llu\n",
         (unsigned long long)mt->latency_count);

    outf(&o,
         "# HELP ganglion_connections_open Open client connections, by listener.\n"
         "# TYPE ganglion_connections_open gauge\n"
         "ganglion_connections_open{listener=\"http\"} %lld\n"
         "# HELP ganglion_connections_total Connections accepted, by listener and protocol.\n"
         "# TYPE ganglion_connections_total counter\n"
         "ganglion_connections_total{listener=\"http\",protocol=\"any\"} %llu\n"
         "ganglion_connections_total{listener=\"http\",protocol=\"h2c\"} %llu\n"
         "# HELP ganglion_websocket_open Open WebSocket connections (/ws and /mqtt).\n"
         "# TYPE ganglion_websocket_open gauge\n"
         "ganglion_websocket_open %lld\n"
         "# HELP ganglion_sse_open Open Server-Sent Events streams.\n"
         "# TYPE ganglion_sse_open gauge\n"
         "ganglion_sse_open %lld\n"
         "# HELP ganglion_websocket_messages_total WebSocket messages, by direction.\n"
         "# TYPE ganglion_websocket_messages_total counter\n"
         "ganglion_websocket_messages_total{direction=\"in\"} %llu\n"
         "ganglion_websocket_messages_total{direction=\"out\"} %llu\n"
         "# HELP ganglion_http_records_total Records produced (in) and delivered (out) "
         "through REST, SSE and WebSocket.\n"
         "# TYPE ganglion_http_records_total counter\n"
         "ganglion_http_records_total{direction=\"in\"} %llu\n"
         "ganglion_http_records_total{direction=\"out\"} %llu\n"
         "# HELP ganglion_http_record_bytes_total Key and value bytes of those records.\n"
         "# TYPE ganglion_http_record_bytes_total counter\n"
         "ganglion_http_record_bytes_total{direction=\"in\"} %llu\n"
         "ganglion_http_record_bytes_total{direction=\"out\"} %llu\n",
         (long long)mt->connections_open, (unsigned long long)mt->connections_total,
         (unsigned long long)mt->connections_h2, (long long)mt->ws_open, (long long)mt->sse_open,
         (unsigned long long)mt->ws_messages_in, (unsigned long long)mt->ws_messages_out,
         (unsigned long long)mt->records_in, (unsigned long long)mt->records_out,
         (unsigned long long)mt->bytes_in, (unsigned long long)mt->bytes_out);

    static const char *const help[] = {
        "# HELP ganglion_partition_log_end_offset Next offset to be written: records "
        "appended to the partition so far, from every protocol.\n"
        "# TYPE ganglion_partition_log_end_offset counter\n",
        "# HELP ganglion_partition_log_start_offset First offset still in the log.\n"
        "# TYPE ganglion_partition_log_start_offset gauge\n",
        "# HELP ganglion_partition_high_watermark Offset up to which records are readable.\n"
        "# TYPE ganglion_partition_high_watermark gauge\n",
        "# HELP ganglion_partition_size_bytes Bytes of the partition's log on disk.\n"
        "# TYPE ganglion_partition_size_bytes gauge\n",
    };
    for (int pass = 0; pass < 4; pass++) {
        outf(&o, "%s", help[pass]);
        part_row_t pr = {&o, srv->broker, pass};
        gn_topic_list(srv->broker, each_topic, &pr);
    }
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void out_label(out_t *o, const char *v)
{
    for (; *v && !o->failed; v++) {
        if (*v == '\\' || *v == '"')
            outf(o, "\\%c", *v);
        else if (*v == '\n')
            outf(o, "\\n");
        else
            outf(o, "%c", *v);
    }
}

static const gn_group_state_t group_states[] = {
    GN_GROUP_EMPTY, GN_GROUP_PREPARING_REBALANCE, GN_GROUP_COMPLETING_REBALANCE, GN_GROUP_STABLE,
    GN_GROUP_DEAD,
};

/* ganglion_consumer_group_*: one family at a time, as the exposition format wants. */
static void render_groups(out_t *o, const http_group_view_t *groups, size_t count)
{
    outf(o, "# HELP ganglion_consumer_group_members Members of the consumer group.\n"
            "# TYPE ganglion_consumer_group_members gauge\n");
    for (size_t g = 0; g < count; g++) {
        outf(o, "ganglion_consumer_group_members{group=\"");
        out_label(o, groups[g].group_id);
        outf(o, "\"} %zu\n", groups[g].members_count);
    }
    outf(o, "# HELP ganglion_consumer_group_state 1 for the group's current state.\n"
            "# TYPE ganglion_consumer_group_state gauge\n");
    for (size_t g = 0; g < count; g++)
        for (size_t s = 0; s < sizeof group_states / sizeof group_states[0]; s++) {
            outf(o, "ganglion_consumer_group_state{group=\"");
            out_label(o, groups[g].group_id);
            outf(o, "\",state=\"%s\"} %d\n", gn_group_state_name(group_states[s]),
                 groups[g].state == group_states[s]);
        }
    static const char *const fams[2][2] = {
        {"ganglion_consumer_group_committed_offset",
         "Offset the group committed for the partition (next record to consume)."},
        {"ganglion_consumer_group_lag",
         "High watermark minus the committed offset, per partition."},
    };
    for (int f = 0; f < 2; f++) {
        outf(o, "# HELP %s %s\n# TYPE %s gauge\n", fams[f][0], fams[f][1], fams[f][0]);
        for (size_t g = 0; g < count; g++)
            for (size_t i = 0; i < groups[g].lags_count; i++) {
                const gn_group_lag_t *r = &groups[g].lags[i];
                int64_t v = f == 0 ? r->committed : r->lag;
                if (v < 0) continue; /* nothing committed, or the partition is unknown */
                outf(o, "%s{group=\"", fams[f][0]);
                out_label(o, groups[g].group_id);
                outf(o, "\",topic=\"");
                out_label(o, r->topic);
                outf(o, "\",partition=\"%d\"} %lld\n", (int)r->partition, (long long)v);
            }
    }
}

static void out_free(void *p)
{
    out_t *o = p;
    free(o->buf);
    free(o);
}

static void on_groups(http_req_t *req, int status, const http_group_view_t *groups, size_t count)
{
    out_t *o = req->ctx;
    if (status == 0) render_groups(o, groups, count); /* else: the listener metrics only */
    if (o->failed) {
        http_respond_gn_error(req, GN_ENOMEM);
        return;
    }
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", o->buf, o->len);
}

int http_handle_metrics(http_req_t *req)
{
    out_t *o = calloc(1, sizeof(*o));
    if (!o) return GN_ENOMEM;
    o->buf = http_metrics_render(req->srv, &o->len);
    if (!o->buf) {
        free(o);
        return GN_ENOMEM;
    }
    o->cap = o->len + 1;
    req->ctx = o;
    req->ctx_free = out_free;
    if (http_groups_collect(req, NULL, false, on_groups) < 0) on_groups(req, -1, NULL, 0);
    return 0;
}
