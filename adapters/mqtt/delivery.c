/* SPDX-License-Identifier: Apache-2.0 */
/* Delivery at append time: the broker's append observer calls mqtt__on_append with the
 * offsets just appended to a partition; when some filter could match that log topic,
 * the new batches are read once, each record is decoded once, its MQTT topic (T/key)
 * matched once against the trie, and the record sent to every matching online session
 * (max QoS over its matching subscriptions, all their identifiers). Each session keeps
 * a cursor per partition; one without credit lags and catches up from the log later
 * (session.c). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

/* The read buffer: the server's scratch, or a private one when a scan is running. */
static uint8_t *scan_buf_get(mqtt_server_t *srv, size_t len, bool *own)
{
    *own = srv->scan_busy;
    if (*own) return malloc(len);
    if (len > srv->scan_cap) {
        size_t cap = srv->scan_cap ? srv->scan_cap : 16384;
        while (cap < len)
            cap *= 2;
        uint8_t *nb = realloc(srv->scan_buf, cap);
        if (!nb) return NULL;
        srv->scan_buf = nb;
        srv->scan_cap = cap;
    }
    srv->scan_busy = true;
    return srv->scan_buf;
}

static void scan_buf_put(mqtt_server_t *srv, uint8_t *buf, bool own)
{
    if (own)
        free(buf);
    else
        srv->scan_busy = false;
}

/* Walks the whole batches in buf (len bytes), calling cb for records from *next up to
 * end (exclusive) and moving *next past each. 1 when cb stopped (at *next), 0 at the
 * end of buf (a partial batch at its end is left), < 0 on corrupt bytes. */
int mqtt__walk_batches(const uint8_t *buf, size_t len, int64_t *next, int64_t end,
                       mqtt_record_cb cb, void *arg)
{
    size_t pos = 0;
    while (pos < len && *next < end) {
        gn_batch_header_t hdr;
        int64_t size = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (size == GN_EAGAIN) break;
        if (size < 0) return (int)size;
        int64_t last = gn_batch_last_offset(&hdr);
        if (last >= *next && !(hdr.attributes & GN_ATTR_CONTROL)) {
            gn_record_iter_t it;
            gn_record_t rec;
            int r = gn_record_iter_init(&it, buf + pos, (size_t)size);
            if (r < 0) return r;
            while ((r = gn_record_iter_next(&it, &rec)) == 1) {
                if (rec.offset < *next) continue;
                if (rec.offset >= end) break;
                if (cb(arg, &rec) < 0) {
                    gn_record_iter_close(&it);
                    return 1; /* stopped at rec: *next stays there */
                }
                *next = rec.offset + 1;
            }
            gn_record_iter_close(&it);
            if (r < 0) return r;
        }
        if (last + 1 > *next) *next = last + 1 < end ? last + 1 : end;
        pos += (size_t)size;
    }
    return 0;
}

int mqtt__log_scan(mqtt_server_t *srv, gn_partition_t *part, int64_t offset, int64_t end,
                   size_t max_bytes, mqtt_record_cb cb, void *arg, int64_t *next)
{
    int rc = 0;
    size_t budget = max_bytes;
    *next = offset;
    while (*next < end && budget > 0) {
        gn_read_result_t res;
        if ((rc = gn_partition_read(part, *next, budget, &res)) < 0) return rc;
        if (res.slice.len <= 0) {
            gn_log_slice_release(&res.slice);
            break;
        }
        size_t len = (size_t)res.slice.len;
        bool own;
        uint8_t *buf = scan_buf_get(srv, len, &own);
        if (!buf) {
            gn_log_slice_release(&res.slice);
            return GN_ENOMEM;
        }
        rc = gn_log_slice_read(&res.slice, buf);
        gn_log_slice_release(&res.slice);
        budget = budget > len ? budget - len : 0;
        int64_t before = *next;
        if (rc == 0) rc = mqtt__walk_batches(buf, len, next, end, cb, arg);
        scan_buf_put(srv, buf, own);
        if (rc < 0) return rc;
        if (rc == 1) return 0;      /* cb stopped */
        if (*next == before) break; /* no whole batch */
    }
    return 0;
}

/* ---- fan-out -------------------------------------------------------------------- */

typedef struct fan {
    mqtt_server_t *srv;
    mqtt_msg_t *msg;
} fan_t;

static void on_match(void *arg, mqtt_sub_t *sub)
{
    fan_t *f = arg;
    mqtt_server_t *srv = f->srv;
    mqtt_session_t *sess = sub->session;
    mqtt_msg_t *msg = f->msg;
    if (!sess->conn) return; /* offline: its cursor stays, it reads the log on return */
    if (sub->no_local && mqtt__msg_origin(srv, msg) == sess->serial) return;
    /* shared: only the group member assigned the record's partition */
    if (sub->share && !mqtt__share_owns(sess, sub->share, msg->log_topic, msg->partition)) return;
    mqtt_hit_t *h;
    if (sess->match_stamp != srv->match_stamp) {
        if (srv->nhits == srv->cap_hits) { /* kept across records: no allocation per record */
            size_t cap = srv->cap_hits ? srv->cap_hits * 2 : 16;
            mqtt_hit_t *nh = realloc(srv->hits, cap * sizeof(*nh));
            if (!nh) return;
            srv->hits = nh;
            srv->cap_hits = cap;
        }
        sess->match_stamp = srv->match_stamp;
        sess->match_slot = (uint32_t)srv->nhits;
        h = &srv->hits[srv->nhits++];
        h->sess = sess;
        h->qos = sub->qos;
        h->rap = sub->retain_as_published;
        h->nids = 0;
    } else {
        h = &srv->hits[sess->match_slot];
        if (sub->qos > h->qos) h->qos = sub->qos;
        h->rap |= sub->retain_as_published;
    }
    if (sub->sub_id && h->nids < sizeof h->ids / sizeof h->ids[0]) h->ids[h->nids++] = sub->sub_id;
}

void mqtt__deliver_record(mqtt_session_t *sess, mqtt_msg_t *msg, uint8_t qos, bool rap,
                          const uint32_t *ids, size_t nids, mqtt_enc_cache_t *cache)
{
    bool retain = rap && msg->retain;
    if (!msg->log_topic) {
        mqtt__send_publish_shared(sess, msg, qos, retain, ids, nids, cache);
        return;
    }
    mqtt_cursor_t *c = mqtt__cursor_get(sess, msg->log_topic, msg->partition, msg->offset, true);
    if (!c) return;
    if (msg->offset < c->next || c->lagging) return;
    if (mqtt__send_publish_shared(sess, msg, qos, retain, ids, nids, cache)) {
        c->next = msg->offset + 1;
        sess->moved = true;
    } else {
        c->lagging = true;
    }
}

void mqtt__fanout(mqtt_server_t *srv, mqtt_msg_t *msg)
{
    fan_t f = {.srv = srv, .msg = msg};
    if (srv->hits_busy) { /* a fan-out inside a fan-out would reuse the hit list */
        GN_WARN(MQTT_MOD, "nested fan-out skipped | topic=%s offset=%lld",
                msg->log_topic ? msg->log_topic : "-", (long long)msg->offset);
        return;
    }
    srv->hits_busy = true;
    srv->match_stamp++;
    srv->nhits = 0;
    mqtt__trie_match(srv->trie, msg->topic, on_match, &f);
    mqtt_enc_cache_t cache = {.n = 0}; /* each distinct PUBLISH encoded once */
    for (size_t i = 0; i < srv->nhits; i++) {
        mqtt_hit_t *h = &srv->hits[i];
        uint8_t qos = h->qos < msg->qos ? h->qos : msg->qos;
        mqtt__deliver_record(h->sess, msg, qos, h->rap, h->ids, h->nids, &cache);
    }
    mqtt__enc_cache_clear(&cache);
    srv->nhits = 0;
    srv->hits_busy = false;
}

/* ---- from records ---------------------------------------------------------------- */

typedef struct scan_ctx {
    mqtt_server_t *srv;
    gn_partition_t *part;
    const char *topic;
    size_t topic_len;
    char *buf;
    size_t cap;
} scan_ctx_t;

static uint64_t origin_of(mqtt_server_t *srv, const void *part, int64_t offset)
{
    /* newest first: the record being delivered was most likely appended just now */
    size_t n = srv->norigins < MQTT_ORIGINS ? srv->norigins : MQTT_ORIGINS;
    size_t i = srv->norigins;
    while (n-- > 0) {
        i = (i + MQTT_ORIGINS - 1) % MQTT_ORIGINS;
        if (srv->origins[i].part == part && srv->origins[i].offset == offset)
            return srv->origins[i].serial;
    }
    return 0;
}

uint64_t mqtt__msg_origin(mqtt_server_t *srv, mqtt_msg_t *msg)
{
    if (msg->origin_pending) {
        msg->origin_pending = false;
        msg->origin_session = srv->norigins ? origin_of(srv, msg->origin_part, msg->offset) : 0;
    }
    return msg->origin_session;
}

/* The record's MQTT topic ("T/key" or "T") into ctx->buf; false if MQTT cannot name it. */
static bool record_topic(scan_ctx_t *ctx, const gn_record_t *rec, gn_bytes_t *out)
{
    size_t need = ctx->topic_len + 1 + rec->key.len;
    if (need > 65535) return false;
    if (rec->key.ptr &&
        (!mqtt_utf8_valid(rec->key.ptr, rec->key.len) || memchr(rec->key.ptr, '+', rec->key.len) ||
         memchr(rec->key.ptr, '#', rec->key.len)))
        return false;
    if (need > ctx->cap) {
        char *nb = realloc(ctx->buf, need);
        if (!nb) return false;
        ctx->buf = nb;
        ctx->cap = need;
    }
    memcpy(ctx->buf, ctx->topic, ctx->topic_len);
    size_t len = ctx->topic_len;
    if (rec->key.ptr) {
        ctx->buf[len++] = '/';
        memcpy(ctx->buf + len, rec->key.ptr, rec->key.len);
        len += rec->key.len;
    }
    *out = (gn_bytes_t){(const uint8_t *)ctx->buf, len};
    return true;
}

int mqtt__msg_from_record(mqtt_server_t *srv, gn_partition_t *part, const gn_record_t *rec,
                          char **buf, size_t *cap, mqtt_msg_t *msg)
{
    scan_ctx_t ctx = {
        .srv = srv, .part = part, .topic = gn_partition_topic(part), .buf = *buf, .cap = *cap};
    ctx.topic_len = strlen(ctx.topic);
    memset(msg, 0, sizeof(*msg));
    bool ok = record_topic(&ctx, rec, &msg->topic);
    *buf = ctx.buf;
    *cap = ctx.cap;
    if (!ok) return GN_EINVALID_TOPIC;
    msg->payload = rec->value.ptr ? rec->value : (gn_bytes_t){(const uint8_t *)"", 0};
    msg->headers = rec->headers;
    msg->headers_count = rec->headers_count;
    msg->timestamp = rec->timestamp;
    msg->log_topic = ctx.topic;
    msg->partition = gn_partition_id(part);
    msg->offset = rec->offset;
    mqtt__msg_parse_headers(msg);
    msg->origin_part = part; /* looked up only for a no-local subscription */
    msg->origin_pending = srv->norigins > 0;
    return 0;
}

static int fan_record(void *arg, const gn_record_t *rec)
{
    scan_ctx_t *ctx = arg;
    mqtt_msg_t msg;
    if (mqtt__msg_from_record(ctx->srv, ctx->part, rec, &ctx->buf, &ctx->cap, &msg) < 0) return 0;
    mqtt__fanout(ctx->srv, &msg);
    return 0;
}

/* Delivers [next, end) of part by reading the log. */
static void deliver_from_log(scan_ctx_t *ctx, int64_t next, int64_t end)
{
    while (next < end) {
        int64_t before = next;
        int rc = mqtt__log_scan(ctx->srv, ctx->part, next, end, 1u << 20, fan_record, ctx, &next);
        if (rc < 0) {
            GN_WARN(MQTT_MOD, "reading appended records failed | topic=%s partition=%d err=%s",
                    ctx->topic, gn_partition_id(ctx->part), gn_err_name(rc));
            return;
        }
        if (next == before) return;
    }
}

void mqtt__on_append(void *arg, gn_partition_t *part, int64_t base, int64_t last)
{
    mqtt_server_t *srv = arg;
    const char *topic = gn_partition_topic(part);
    if (srv->stopping) return;
    if (strcmp(topic, MQTT_RETAINED_TOPIC) == 0) {
        mqtt__retained_apply(srv, part, base, last);
        return;
    }
    if (strcmp(topic, MQTT_SESSIONS_TOPIC) == 0) {
        mqtt__sessions_apply(srv, part, base, last);
        return;
    }
    if ((topic[0] == '_' && topic[1] == '_') || !mqtt__trie_may_match_first(srv->trie, topic)) {
        mqtt__recent_delivered(srv, part, last);
        return;
    }
    scan_ctx_t ctx = {.srv = srv, .part = part, .topic = topic, .topic_len = strlen(topic)};
    /* what this adapter appended this turn is still in memory (recent.c): decode those
     * bytes instead of reading them back; the log only for what others appended */
    int64_t next = base;
    while (next <= last) {
        gn_bytes_t bytes;
        int64_t upto;
        if (mqtt__recent_find(srv, part, next, &bytes, &upto)) {
            int64_t before = next;
            srv->recent_walking = true;
            int rc = mqtt__walk_batches(bytes.ptr, bytes.len, &next, last + 1, fan_record, &ctx);
            srv->recent_walking = false;
            if (rc < 0 || next == before) { /* not expected: the log has the same bytes */
                deliver_from_log(&ctx, before, last + 1);
                break;
            }
            continue;
        }
        int64_t end = upto < last + 1 ? upto : last + 1; /* up to the next in-memory batch */
        int64_t before = next;
        deliver_from_log(&ctx, next, end);
        next = end;
        if (next == before) break;
    }
    mqtt__recent_delivered(srv, part, last);
    free(ctx.buf);
}
