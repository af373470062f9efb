/* SPDX-License-Identifier: Apache-2.0 */
/* GET /consumers/{g}/instances/{i}/records: reads the instance's assigned partitions
 * from their positions, round-robin, into the REST Proxy's record array (json or
 * binary embedded format), at most max_bytes of keys and values (at least one record,
 * so a large one cannot stall the instance). With fewer than fetch.min.bytes it waits
 * (long-poll): one gn_watch per partition wakes it, the registry's tick ends it at the
 * timeout. Positions advance only when the answer is sent. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/base64.h"
#include "consumer.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

void http__consumer_watches_cancel(http_consumer_t *c)
{
    for (size_t i = 0; i < c->nparts; i++)
        gn_watch_cancel(&c->parts[i].watch);
}

static void on_watch(gn_watch_t *w, int status)
{
    (void)status;
    http_cpart_t *cp = w->data;
    http_consumer_t *c = cp->c;
    if (c->poll) http__consumer_poll_try(c, false);
}

/* Text that parses as JSON stays JSON; other UTF-8 becomes a string, the rest base64. */
static json_t *embedded(gn_bytes_t b, http_rest_format_t fmt)
{
    if (!b.ptr) return json_null();
    if (fmt == HTTP_REST_JSON) {
        json_t *j = json_loadb((const char *)b.ptr, b.len, JSON_DECODE_ANY, NULL);
        if (j) return j;
        j = json_stringn((const char *)b.ptr, b.len);
        if (j) return j;
    }
    char *tmp = malloc(b.len / 3 * 4 + 8);
    if (!tmp) return NULL;
    size_t n = gn_base64_encode(b.ptr, b.len, tmp);
    json_t *s = json_stringn(tmp, n);
    free(tmp);
    return s;
}

typedef struct collect {
    json_t *arr;
    size_t bytes; /* keys and values */
    size_t count;
    long max_bytes;
    http_rest_format_t fmt;
} collect_t;

/* Reads one partition from *next into col until max_bytes; advances *next. */
static void collect_part(http_consumer_t *c, http_cpart_t *cp, int64_t *next, collect_t *col)
{
    for (int rounds = 0; rounds < 64 && (long)col->bytes < col->max_bytes; rounds++) {
        gn_partition_t *part = gn_partition_get(c->srv->broker, cp->topic, cp->partition);
        if (!part) return;
        int64_t hw = gn_partition_high_watermark(part);
        if (*next >= hw) return;
        gn_read_result_t res;
        int rc = gn_partition_read(part, *next, HTTP_CONSUMER_READ_BYTES, &res);
        if (rc == GN_EOFFSETRANGE) { /* out of range: auto.offset.reset, as Kafka */
            int64_t reset = http__consumer_reset_offset(c, cp->topic, cp->partition, 0);
            if (reset == *next) return;
            *next = reset;
            continue;
        }
        if (rc < 0) return;
        if (res.slice.len <= 0) {
            gn_log_slice_release(&res.slice);
            return;
        }
        size_t len = (size_t)res.slice.len;
        uint8_t *buf = malloc(len);
        if (!buf || gn_log_slice_read(&res.slice, buf) < 0) {
            gn_log_slice_release(&res.slice);
            free(buf);
            return;
        }
        gn_log_slice_release(&res.slice);
        size_t pos = 0;
        bool full = false;
        while (pos < len && !full) {
            gn_batch_header_t hdr;
            int64_t size = gn_batch_peek(buf + pos, len - pos, &hdr);
            if (size <= 0) break;
            int64_t last = gn_batch_last_offset(&hdr);
            if (hdr.base_offset >= hw) break;
            if (last >= *next && !(hdr.attributes & GN_ATTR_CONTROL)) {
                gn_record_iter_t it;
                if (gn_record_iter_init(&it, buf + pos, (size_t)size) == 0) {
                    gn_record_t rec;
                    while (gn_record_iter_next(&it, &rec) == 1) {
                        if (rec.offset < *next) continue;
                        if (rec.offset >= hw) break;
                        size_t sz = rec.key.len + rec.value.len;
                        if (col->count && (long)(col->bytes + sz) > col->max_bytes) {
                            full = true;
                            break;
                        }
                        json_t *j = json_pack("{s:s,s:o?,s:o?,s:i,s:I}", "topic", cp->topic, "key",
                                              embedded(rec.key, col->fmt), "value",
                                              embedded(rec.value, col->fmt), "partition",
                                              (int)cp->partition, "offset", (json_int_t)rec.offset);
                        if (j) json_array_append_new(col->arr, j);
                        col->bytes += sz;
                        col->count++;
                        *next = rec.offset + 1;
                    }
                    gn_record_iter_close(&it);
                }
            }
            if (!full && last + 1 > *next) *next = last + 1; /* control batches, gaps */
            pos += (size_t)size;
        }
        free(buf);
        if (full) return;
    }
}

static void arm_watches(http_consumer_t *c)
{
    for (size_t i = 0; i < c->nparts; i++) {
        http_cpart_t *cp = &c->parts[i];
        if (cp->watch.part || cp->position == -1) continue;
        gn_partition_t *part = gn_partition_get(c->srv->broker, cp->topic, cp->partition);
        if (!part) continue;
        cp->watch.data = cp;
        int64_t at = cp->position == HTTP_POSITION_LATEST_PENDING
                         ? gn_partition_high_watermark(part) /* woken when latest is known */
                         : cp->position;
        gn_partition_watch(part, &cp->watch, at, on_watch);
    }
}

static const char *media_type(http_rest_format_t fmt)
{
    return fmt == HTTP_REST_JSON ? "application/vnd.kafka.json.v2+json"
                                 : "application/vnd.kafka.binary.v2+json";
}

static void poll_finish(http_consumer_t *c, json_t *arr)
{
    http_poll_t *poll = c->poll;
    c->poll = NULL;
    http__consumer_watches_cancel(c);
    http_req_t *req = poll->req;
    free(poll);
    if (http_req_async_done(req)) {
        char *s = json_dumps(arr, JSON_COMPACT);
        if (s)
            http_respond(req, 200, media_type(c->format), s, strlen(s));
        else
            http_respond_error(req, 500, 50001, "out of memory");
        free(s);
    }
    json_decref(arr);
    c->last_used_ms = now_ms();
}

void http__consumer_poll_try(http_consumer_t *c, bool timed_out)
{
    if (!c->poll) return;
    if (!c->poll->req->wsi) { /* the client went away: nobody to answer */
        http_poll_t *poll = c->poll;
        c->poll = NULL;
        http__consumer_watches_cancel(c);
        http_req_async_done(poll->req);
        free(poll);
        return;
    }
    bool unresolved = false;
    for (size_t i = 0; i < c->nparts; i++) {
        http_cpart_t *cp = &c->parts[i];
        gn_partition_t *part = cp->position == HTTP_POSITION_LATEST_PENDING
                                   ? gn_partition_get(c->srv->broker, cp->topic, cp->partition)
                                   : NULL;
        int64_t end;
        if (part && gn_partition_latest(part, &end) == 0) cp->position = end;
        if (cp->position == -1) unresolved = true;
    }
    if (unresolved && !c->resolving) http__consumer_resolve_positions(c);

    collect_t col = {json_array(), 0, 0, c->poll->max_bytes, c->format};
    int64_t *next = calloc(c->nparts ? c->nparts : 1, sizeof *next);
    if (!col.arr || !next) {
        free(next);
        json_decref(col.arr);
        poll_finish(c, json_array());
        return;
    }
    /* Round-robin: start after the partition that answered first last time. */
    size_t n = c->nparts, start = n ? c->rr++ % n : 0;
    for (size_t k = 0; k < n && (long)col.bytes < col.max_bytes; k++) {
        size_t i = (start + k) % n;
        next[i] = c->parts[i].position;
        if (next[i] >= 0) collect_part(c, &c->parts[i], &next[i], &col);
    }
    bool enough =
        col.count > 0 && (c->fetch_min_bytes <= 0 || (long)col.bytes >= c->fetch_min_bytes ||
                          (long)col.bytes >= col.max_bytes);
    if (!enough && !timed_out) {
        json_decref(col.arr);
        free(next);
        arm_watches(c);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (c->parts[i].position >= 0 && next[i] > c->parts[i].position) {
            c->parts[i].position = next[i];
            c->parts[i].consumed = next[i];
        }
    free(next);
    bool delivered = col.count > 0;
    poll_finish(c, col.arr);
    if (delivered && c->auto_commit) {
        gn_group_offset_t offs[64];
        size_t m = 0;
        for (size_t i = 0; i < c->nparts; i++) {
            if (c->parts[i].consumed < 0) continue;
            offs[m++] = (gn_group_offset_t){.topic = c->parts[i].topic,
                                            .partition = c->parts[i].partition,
                                            .offset = c->parts[i].consumed,
                                            .leader_epoch = -1};
            if (m == 64) {
                http__consumer_commit(c, offs, m, NULL, NULL);
                m = 0;
            }
        }
        if (m) http__consumer_commit(c, offs, m, NULL, NULL);
    }
}

void http__consumer_poll_abort(http_consumer_t *c)
{
    if (c->poll) poll_finish(c, json_array());
}

/* A partition held elsewhere without a leader (its replicas down) is answered with 503:
 * records of the others would come with a silent hole. */
static bool refuse_unreadable(http_consumer_t *c, http_req_t *req)
{
    for (size_t i = 0; i < c->nparts; i++) {
        http_cpart_t *cp = &c->parts[i];
        gn_partition_t *part = gn_partition_get(c->srv->broker, cp->topic, cp->partition);
        if (!part || gn_partition_check_read(part) == 0) continue;
        GN_WARN(HTTP_MOD,
                "consumer records refused: a partition held elsewhere has no leader | "
                "instance=%s topic=%s partition=%d",
                c->name, cp->topic, (int)cp->partition);
        http_respond_error(req, 503, 50301,
                           "Partition %d of %s has no replica on this broker and no leader to "
                           "read from (its replicas are down); retry later",
                           (int)cp->partition, cp->topic);
        return true;
    }
    return false;
}

int http__consumer_poll_start(http_consumer_t *c, http_req_t *req, long timeout_ms, long max_bytes)
{
    if (refuse_unreadable(c, req)) return 0;
    /* One records request at a time, as the Proxy's consumer: the older one answers
     * with what it has. */
    if (c->poll) http__consumer_poll_try(c, true);
    http_poll_t *poll = calloc(1, sizeof *poll);
    if (!poll) return GN_ENOMEM;
    poll->req = req;
    poll->deadline_ms = now_ms() + (uint64_t)timeout_ms;
    poll->max_bytes = max_bytes;
    req->async++;
    c->poll = poll;
    c->last_used_ms = now_ms();
    http__consumer_poll_try(c, timeout_ms == 0);
    if (c->poll) http__consumers_tick_start(c->srv);
    return 0;
}
