/* SPDX-License-Identifier: Apache-2.0 */
/* Server-Sent Events: GET /topics/{t}/events?from=earliest|latest|<offset> streams a
 * topic's records as `record` events whose id lists every partition's next offset
 * ("0:42,1:17"), so a reconnect with Last-Event-ID resumes with nothing lost or
 * repeated. Records are read from the log only when the previous events have left
 * (lws says writeable): a slow client pauses at its log position. Caught up, it arms
 * one gn_watch per partition. Loop thread only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"
#include "http.h"
#include "record_json.h"

#define SSE_MAX_PARTITIONS 1024
#define SSE_FILL_BYTES     (64u << 10)  /* events formatted per writeable turn */
#define SSE_READ_BYTES     (256u << 10) /* log bytes read per partition read */
#define SSE_WRITE_CHUNK    16384
#define LATEST_PENDING     (-1) /* from=latest on a copy not yet told the leader's end */

struct http_sse {
    http_req_t *req;
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t nparts;
    int64_t *next; /* per partition: the next offset to send, or LATEST_PENDING */
    gn_watch_t *watches;
    char *out; /* formatted events not yet written */
    size_t out_len, out_off, out_cap;
    bool headers_sent;
    bool failed; /* topic gone: end the stream once out is written */
    int32_t rr;  /* partition to read first next time (fairness) */
};

static bool out_append(http_sse_t *sse, const char *s, size_t len)
{
    if (sse->out_len + len > sse->out_cap) {
        size_t cap = sse->out_cap ? sse->out_cap : 8192;
        while (cap < sse->out_len + len)
            cap *= 2;
        char *n = realloc(sse->out, cap);
        if (!n) return false;
        sse->out = n;
        sse->out_cap = cap;
    }
    memcpy(sse->out + sse->out_len, s, len);
    sse->out_len += len;
    return true;
}

/* "0:12,1:7": every partition's next offset (a partition still LATEST_PENDING is left
 * out, and a resume starts it at its log start). */
static void format_id(const http_sse_t *sse, char *buf, size_t cap)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int32_t p = 0; p < sse->nparts && pos + 32 < cap; p++)
        if (sse->next[p] >= 0)
            pos += (size_t)snprintf(buf + pos, cap - pos, "%s%d:%lld", pos ? "," : "", (int)p,
                                    (long long)sse->next[p]);
}

static bool emit_record(http_sse_t *sse, int32_t p, const gn_record_t *rec)
{
    json_t *j = http_record_json(sse->topic, p, rec);
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!data) return false;
    sse->next[p] = rec->offset + 1;
    size_t idcap = (size_t)sse->nparts * 24 + 8;
    char *id = malloc(idcap);
    bool ok = id != NULL;
    if (ok) {
        format_id(sse, id, idcap);
        ok = out_append(sse, "id: ", 4) && out_append(sse, id, strlen(id)) &&
             out_append(sse, "\nevent: record\ndata: ", 21) &&
             out_append(sse, data, strlen(data)) && out_append(sse, "\n\n", 2);
    }
    sse->req->srv->metrics.records_out++;
    sse->req->srv->metrics.bytes_out += rec->key.len + rec->value.len;
    free(id);
    free(data);
    return ok;
}

/* Reads from partition p into out, up to SSE_FILL_BYTES. 1 read something, 0 nothing,
 * < 0 error (partition gone). */
static int fill_partition(http_sse_t *sse, int32_t p)
{
    gn_partition_t *part = gn_partition_get(sse->req->srv->broker, sse->topic, p);
    if (!part) return GN_EUNKNOWN_TOPIC;
    if (sse->next[p] == LATEST_PENDING) { /* the copy's first answer wakes the watch */
        int64_t latest;
        if (gn_partition_latest(part, &latest) < 0) return 0;
        sse->next[p] = latest;
    }
    int64_t hw = gn_partition_high_watermark(part);
    if (sse->next[p] >= hw) return 0;
    gn_read_result_t res;
    int rc = gn_partition_read(part, sse->next[p], SSE_READ_BYTES, &res);
    if (rc == GN_EOFFSETRANGE) {
        /* retention removed what we wanted: continue at the log start, as a Kafka
         * consumer with auto.offset.reset=earliest would */
        sse->next[p] = gn_partition_log_start_offset(part);
        return 1;
    }
    if (rc < 0) return rc;
    if (res.slice.len <= 0) {
        gn_log_slice_release(&res.slice);
        return 0;
    }
    size_t len = (size_t)res.slice.len;
    uint8_t *buf = malloc(len);
    if (!buf) {
        gn_log_slice_release(&res.slice);
        return GN_ENOMEM;
    }
    rc = gn_log_slice_read(&res.slice, buf);
    gn_log_slice_release(&res.slice);
    if (rc < 0) goto out;
    rc = 0;
    size_t pos = 0;
    while (pos < len && sse->out_len < SSE_FILL_BYTES) {
        gn_batch_header_t hdr;
        int64_t size = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (size <= 0) break;
        int64_t last = gn_batch_last_offset(&hdr);
        if (last >= sse->next[p] && last < hw) {
            if (!(hdr.attributes & GN_ATTR_CONTROL)) {
                gn_record_iter_t it;
                if (gn_record_iter_init(&it, buf + pos, (size_t)size) == 0) {
                    gn_record_t rec;
                    while (gn_record_iter_next(&it, &rec) == 1)
                        if (rec.offset >= sse->next[p] && !emit_record(sse, p, &rec)) {
                            rc = GN_ENOMEM;
                            break;
                        }
                    gn_record_iter_close(&it);
                }
            }
            /* past this batch even when its tail records were compacted away */
            sse->next[p] = last + 1;
            rc = rc < 0 ? rc : 1;
        } else if (last >= hw) {
            break;
        }
        pos += (size_t)size;
    }
out:
    free(buf);
    return rc;
}

static void on_watch(gn_watch_t *w, int status)
{
    http_sse_t *sse = w->data;
    if (status < 0) sse->failed = true;
    if (sse->req->wsi) lws_callback_on_writable(sse->req->wsi);
}

static void arm_watches(http_sse_t *sse)
{
    for (int32_t p = 0; p < sse->nparts; p++) {
        gn_watch_t *w = &sse->watches[p];
        if (w->part) continue; /* armed */
        gn_partition_t *part = gn_partition_get(sse->req->srv->broker, sse->topic, p);
        if (!part) {
            sse->failed = true;
            continue;
        }
        w->data = sse;
        int64_t at =
            sse->next[p] == LATEST_PENDING ? gn_partition_high_watermark(part) : sse->next[p];
        gn_partition_watch(part, w, at, on_watch);
    }
}

static int write_pending(http_sse_t *sse, struct lws *wsi)
{
    size_t left = sse->out_len - sse->out_off;
    size_t chunk = left > SSE_WRITE_CHUNK ? SSE_WRITE_CHUNK : left;
    uint8_t buf[LWS_PRE + SSE_WRITE_CHUNK];
    memcpy(buf + LWS_PRE, sse->out + sse->out_off, chunk);
    if (lws_write(wsi, buf + LWS_PRE, chunk, LWS_WRITE_HTTP) < (int)chunk) return -1;
    sse->out_off += chunk;
    if (sse->out_off == sse->out_len) sse->out_off = sse->out_len = 0;
    lws_callback_on_writable(wsi);
    return 0;
}

int http__sse_writeable(http_req_t *req)
{
    http_sse_t *sse = req->sse;
    struct lws *wsi = req->wsi;
    if (!sse->headers_sent) {
        uint8_t buf[LWS_PRE + 512];
        uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
        if (lws_add_http_common_headers(wsi, 200, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN,
                                        &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-cache", 8, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return -1;
        if (lws_get_network_wsi(wsi) != wsi)
            lws_http_mark_sse(wsi); /* h2 stream: no idle timeout from here on */
        else
            lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
        sse->headers_sent = true;
        out_append(sse, "retry: 1000\n\n", 13);
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (sse->out_len) return write_pending(sse, wsi);
    if (sse->failed) return -1; /* the topic went away: end the stream */
    bool any = false;
    for (int32_t i = 0; i < sse->nparts && sse->out_len < SSE_FILL_BYTES; i++) {
        int32_t p = (sse->rr + i) % sse->nparts;
        int rc = fill_partition(sse, p);
        if (rc < 0) {
            GN_DEBUG(HTTP_MOD, "sse read failed | topic=%s partition=%d err=%s", sse->topic, (int)p,
                     gn_err_name(rc));
            sse->failed = true;
            break;
        }
        if (rc > 0) any = true;
    }
    sse->rr = (sse->rr + 1) % sse->nparts;
    if (sse->out_len) return write_pending(sse, wsi);
    if (any) {
        lws_callback_on_writable(wsi); /* skipped batches only: look again */
        return 0;
    }
    if (sse->failed) return -1;
    arm_watches(sse); /* caught up: wait for appends */
    return 0;
}

void http__sse_free(http_sse_t *sse)
{
    if (!sse) return;
    for (int32_t p = 0; sse->watches && p < sse->nparts; p++)
        gn_watch_cancel(&sse->watches[p]);
    if (sse->req && sse->req->srv) sse->req->srv->metrics.sse_open--;
    free(sse->watches);
    free(sse->next);
    free(sse->out);
    free(sse);
}

/* "0:12,1:7" into next[]; partitions it does not name keep their value. */
static bool parse_event_id(const char *s, int64_t *next, int32_t nparts)
{
    while (*s) {
        char *end;
        long p = strtol(s, &end, 10);
        if (end == s || *end != ':') return false;
        s = end + 1;
        long long o = strtoll(s, &end, 10);
        if (end == s || o < 0) return false;
        if (p >= 0 && p < nparts) next[p] = o;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return false;
    }
    return true;
}

int http_handle_topic_events(http_req_t *req)
{
    http_server_t *srv = req->srv;
    const char *topic = req->params[0];
    gn_topic_info_t info;
    if (gn_topic_describe(srv->broker, topic, &info) < 0) {
        http_respond_error(req, 404, 40401, "Topic %s not found.", topic);
        return 0;
    }
    if (info.partitions > SSE_MAX_PARTITIONS) {
        http_respond_error(req, 422, 42209, "Topics of more than %d partitions cannot be tailed",
                           SSE_MAX_PARTITIONS);
        return 0;
    }
    for (int32_t p = 0; p < info.partitions; p++) { /* held elsewhere: read from its leader */
        gn_partition_t *part = gn_partition_get(srv->broker, topic, p);
        if (part && gn_partition_check_read(part) < 0) {
            GN_WARN(HTTP_MOD,
                    "SSE refused: a partition held elsewhere has no leader | topic=%s "
                    "partition=%d",
                    topic, (int)p);
            http_respond_error(req, 503, 50301,
                               "Partition %d of %s has no replica on this broker and no leader "
                               "to read from (its replicas are down); retry later",
                               (int)p, topic);
            return 0;
        }
    }
    http_sse_t *sse = calloc(1, sizeof *sse);
    if (!sse) return GN_ENOMEM;
    sse->req = req;
    snprintf(sse->topic, sizeof sse->topic, "%.249s", topic);
    sse->nparts = info.partitions;
    sse->next = calloc((size_t)info.partitions, sizeof *sse->next);
    sse->watches = calloc((size_t)info.partitions, sizeof *sse->watches);
    srv->metrics.sse_open++;
    req->sse = sse;
    if (!sse->next || !sse->watches) return GN_ENOMEM;

    char from[64] = "", last_id[8192] = "";
    http_req_query(req, "from", from, sizeof from);
    if (req->wsi && lws_hdr_custom_length(req->wsi, "last-event-id:", 14) > 0)
        lws_hdr_custom_copy(req->wsi, last_id, sizeof last_id, "last-event-id:", 14);
    if (!last_id[0]) http_req_query(req, "last_event_id", last_id, sizeof last_id);

    char *end = NULL;
    long long from_offset = from[0] ? strtoll(from, &end, 10) : -1;
    bool from_number = from[0] && end && *end == '\0' && from_offset >= 0;
    if (from[0] && !from_number && strcmp(from, "earliest") != 0 && strcmp(from, "latest") != 0) {
        http_respond_error(req, 422, 42207, "from must be earliest, latest or an offset, not '%s'",
                           from);
        return 0;
    }
    for (int32_t p = 0; p < sse->nparts; p++) {
        gn_partition_t *part = gn_partition_get(srv->broker, topic, p);
        int64_t lso = part ? gn_partition_log_start_offset(part) : 0;
        /* the end: the leader's on a copy (INT64_MAX until the copy has heard from it) */
        int64_t last = INT64_MAX;
        if (!part || gn_partition_latest(part, &last) < 0) last = part ? INT64_MAX : 0;
        if (last_id[0] || strcmp(from, "earliest") == 0)
            sse->next[p] = lso; /* partitions a resume id does not name: from the start */
        else if (from_number)
            sse->next[p] = from_offset < lso ? lso : from_offset > last ? last : from_offset;
        else
            sse->next[p] = last == INT64_MAX ? LATEST_PENDING : last;
    }
    if (last_id[0] && !parse_event_id(last_id, sse->next, sse->nparts)) {
        http_respond_error(req, 422, 42207, "Malformed Last-Event-ID '%s'", last_id);
        return 0;
    }
    req->state = HTTP_REQ_STREAMING;
    http_metrics_observe(srv, req->method, 200, (double)(uv_hrtime() - req->start_ns) / 1e9);
    if (req->wsi) lws_callback_on_writable(req->wsi);
    return 0;
}
