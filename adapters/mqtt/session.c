/* SPDX-License-Identifier: Apache-2.0 */
/* Sessions: the table by client id, subscriptions (also in the trie), outbound QoS
 * state, inbound QoS 2 ids, wills with delay, expiry, and the per-partition cursors
 * that make an offline queue a log offset: on reconnect (or when credit returns) a
 * lagging cursor is read from the log and filtered against this session's own
 * subscriptions. One timer per session: expiry and will delay while offline, catch-up
 * retries while online. Loop thread only. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "mqtt.h"

static size_t bucket_of(const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 16777619u;
    return h % MQTT_SESSION_BUCKETS;
}

mqtt_session_t *mqtt__session_find(mqtt_server_t *srv, const char *client_id)
{
    for (mqtt_session_t *s = srv->sessions[bucket_of(client_id)]; s; s = s->hnext)
        if (strcmp(s->client_id, client_id) == 0) return s;
    return NULL;
}

static void on_timer(uv_timer_t *t);

mqtt_session_t *mqtt__session_new(mqtt_server_t *srv, const char *client_id)
{
    /* the client id lives in the same allocation; the timer comes when first needed */
    size_t idlen = strlen(client_id);
    mqtt_session_t *sess = calloc(1, offsetof(mqtt_session_t, client_id) + idlen + 1);
    if (!sess) return NULL;
    memcpy(sess->client_id, client_id, idlen + 1);
    sess->srv = srv;
    sess->serial = srv->next_serial++;
    sess->owner = srv->self_id;
    size_t b = bucket_of(client_id);
    sess->hnext = srv->sessions[b];
    srv->sessions[b] = sess;
    srv->nsessions++;
    return sess;
}

/* The session's timer (expiry, will delay, catch-up continuation), created on first use:
 * an online session that never needs one holds none. NULL when out of memory. */
static uv_timer_t *session_timer(mqtt_session_t *sess)
{
    if (!sess->timer) {
        if (!(sess->timer = malloc(sizeof(*sess->timer)))) return NULL;
        uv_timer_init(sess->srv->loop, sess->timer);
        sess->timer->data = sess;
        sess->srv->open_handles++;
    }
    return sess->timer;
}

static void sub_free(mqtt_sub_t *sub)
{
    free(sub->filter);
    free(sub->share);
    free(sub);
}

void mqtt__session_will_free(mqtt_session_t *sess)
{
    if (!sess->will) return;
    free(sess->will->topic);
    free(sess->will->payload);
    free(sess->will->props);
    free(sess->will);
    sess->will = NULL;
    sess->will_due = 0;
}

static void on_session_timer_closed(uv_handle_t *h)
{
    mqtt_server_t *srv = h->data;
    free(h);
    mqtt__server_handle_closed(srv);
}

void mqtt__session_free(mqtt_session_t *sess)
{
    mqtt_server_t *srv = sess->srv;
    mqtt_session_t **pp = &srv->sessions[bucket_of(sess->client_id)];
    while (*pp && *pp != sess)
        pp = &(*pp)->hnext;
    if (*pp) *pp = sess->hnext;
    srv->nsessions--;
    mqtt__share_drop(sess); /* commits positions while the cursors still exist */
    if (sess->conn) sess->conn->session = NULL;
    for (size_t i = 0; i < sess->nsubs; i++) {
        mqtt__trie_remove(srv->trie, sess->subs[i]);
        sub_free(sess->subs[i]);
    }
    free(sess->subs);
    for (size_t i = 0; i < sess->ncursors; i++)
        free(sess->cursors[i].topic);
    free(sess->cursors);
    mqtt__inflight_free_all(sess);
    free(sess->qos2_in);
    mqtt__session_will_free(sess);
    mqtt__session_sync_cancel(sess);
    if (sess->catchup_due) {
        mqtt_session_t **cp = &srv->catchups;
        while (*cp && *cp != sess)
            cp = &(*cp)->catchup_next;
        if (*cp) *cp = sess->catchup_next;
        sess->catchup_due = false;
    }
    if (sess->timer) {
        uv_timer_stop(sess->timer);
        sess->timer->data = srv;
        uv_close((uv_handle_t *)sess->timer, on_session_timer_closed);
    }
    free(sess);
}

void mqtt__session_catch_up_later(mqtt_session_t *sess)
{
    if (sess->catchup_due) return;
    sess->catchup_due = true;
    sess->catchup_next = sess->srv->catchups;
    sess->srv->catchups = sess;
}

uint32_t *mqtt__qos2_find(mqtt_session_t *sess, uint16_t pid)
{
    for (size_t i = 0; i < sess->nqos2_in; i++)
        if ((sess->qos2_in[i] & 0xffff) == pid) return &sess->qos2_in[i];
    return NULL;
}

void mqtt__qos2_remove(mqtt_session_t *sess, uint16_t pid)
{
    uint32_t *e = mqtt__qos2_find(sess, pid);
    if (e) *e = sess->qos2_in[--sess->nqos2_in];
}

bool mqtt__session_has_credit(const mqtt_session_t *sess)
{
    if (!sess->conn) return false;
    size_t max = sess->conn->receive_max_out < MQTT_MAX_INFLIGHT ? sess->conn->receive_max_out
                                                                 : MQTT_MAX_INFLIGHT;
    return sess->ninflight < max;
}

/* ---- subscriptions ------------------------------------------------------------ */

static int split_share(gn_bytes_t f, char **share, char **filter)
{
    *share = NULL;
    if (f.len > 7 && memcmp(f.ptr, "$share/", 7) == 0) {
        const uint8_t *slash = memchr(f.ptr + 7, '/', f.len - 7);
        if (!slash) return GN_EINVAL;
        *share = strndup((const char *)f.ptr + 7, (size_t)(slash - f.ptr - 7));
        *filter = strndup((const char *)slash + 1, f.len - (size_t)(slash + 1 - f.ptr));
    } else {
        *filter = strndup((const char *)f.ptr, f.len);
    }
    if (!*filter || (f.len > 7 && !memcmp(f.ptr, "$share/", 7) && !*share)) {
        free(*share);
        free(*filter);
        return GN_ENOMEM;
    }
    return 0;
}

bool mqtt__sub_filter_ok(gn_bytes_t f)
{
    if (!(f.len > 7 && memcmp(f.ptr, "$share/", 7) == 0)) return mqtt_topic_filter_valid(f);
    const uint8_t *slash = memchr(f.ptr + 7, '/', f.len - 7);
    if (!slash) return false;
    gn_bytes_t group = {f.ptr + 7, (size_t)(slash - f.ptr - 7)};
    gn_bytes_t rest = {slash + 1, f.len - (size_t)(slash + 1 - f.ptr)};
    return group.len > 0 && !memchr(group.ptr, '+', group.len) &&
           !memchr(group.ptr, '#', group.len) && mqtt_topic_filter_valid(rest);
}

static bool same_sub(const mqtt_sub_t *s, const char *share, const char *filter)
{
    if (strcmp(s->filter, filter) != 0) return false;
    if (!s->share || !share) return !s->share && !share;
    return strcmp(s->share, share) == 0;
}

static void sub_remove_at(mqtt_session_t *sess, size_t i)
{
    mqtt__trie_remove(sess->srv->trie, sess->subs[i]);
    sub_free(sess->subs[i]);
    memmove(&sess->subs[i], &sess->subs[i + 1], (sess->nsubs - i - 1) * sizeof(sess->subs[0]));
    sess->nsubs--;
}

int mqtt__session_subscribe(mqtt_session_t *sess, const mqtt_sub_entry_t *e, uint32_t sub_id,
                            bool *existed)
{
    char *share, *filter;
    int rc = split_share(e->filter, &share, &filter);
    if (rc < 0) return rc;
    *existed = false;
    for (size_t i = 0; i < sess->nsubs; i++) {
        if (!same_sub(sess->subs[i], share, filter)) continue;
        sub_remove_at(sess, i);
        *existed = true;
        break;
    }
    mqtt_sub_t *sub = calloc(1, sizeof(*sub));
    mqtt_sub_t **ns = realloc(sess->subs, (sess->nsubs + 1) * sizeof(*ns));
    if (!sub || !ns) {
        free(sub);
        if (ns) sess->subs = ns;
        free(share);
        free(filter);
        return GN_ENOMEM;
    }
    sess->subs = ns;
    sub->filter = filter;
    sub->share = share;
    sub->qos = e->qos;
    sub->no_local = e->no_local;
    sub->retain_as_published = e->retain_as_published;
    sub->retain_handling = e->retain_handling;
    sub->sub_id = sub_id;
    sub->session = sess;
    if ((rc = mqtt__trie_add(sess->srv->trie, sub)) < 0) {
        sub_free(sub);
        return rc;
    }
    ns[sess->nsubs++] = sub;
    sess->dirty = true;
    return 0;
}

bool mqtt__session_unsubscribe(mqtt_session_t *sess, gn_bytes_t f)
{
    char *share, *filter;
    if (split_share(f, &share, &filter) < 0) return false;
    bool found = false;
    for (size_t i = 0; i < sess->nsubs && !found; i++) {
        if (!same_sub(sess->subs[i], share, filter)) continue;
        sub_remove_at(sess, i);
        found = true;
    }
    free(share);
    free(filter);
    sess->dirty |= found;
    return found;
}

/* ---- cursors and catch-up ------------------------------------------------------ */

mqtt_cursor_t *mqtt__cursor_get(mqtt_session_t *sess, const char *topic, int32_t partition,
                                int64_t start, bool create)
{
    for (size_t i = 0; i < sess->ncursors; i++)
        if (sess->cursors[i].partition == partition && strcmp(sess->cursors[i].topic, topic) == 0)
            return &sess->cursors[i];
    if (!create) return NULL;
    mqtt_cursor_t *nc = realloc(sess->cursors, (sess->ncursors + 1) * sizeof(*nc));
    if (!nc) return NULL;
    sess->cursors = nc;
    mqtt_cursor_t *c = &nc[sess->ncursors];
    if (!(c->topic = strdup(topic))) return NULL;
    c->partition = partition;
    c->next = start;
    c->lagging = false;
    sess->ncursors++;
    return c;
}

typedef struct catch_ctx {
    mqtt_session_t *sess;
    gn_partition_t *part;
    char *buf;
    size_t cap;
} catch_ctx_t;

static int catch_record(void *arg, const gn_record_t *rec)
{
    catch_ctx_t *ctx = arg;
    mqtt_session_t *sess = ctx->sess;
    mqtt_msg_t msg;
    if (mqtt__msg_from_record(sess->srv, ctx->part, rec, &ctx->buf, &ctx->cap, &msg) < 0) return 0;
    bool hit = false, rap = false;
    uint8_t qos = 0;
    uint32_t ids[8];
    size_t nids = 0;
    for (size_t i = 0; i < sess->nsubs; i++) {
        mqtt_sub_t *sub = sess->subs[i];
        if (sub->share && !mqtt__share_owns(sess, sub->share, msg.log_topic, msg.partition))
            continue;
        if (!mqtt__filter_matches(sub->filter, msg.topic)) continue;
        if (sub->no_local && mqtt__msg_origin(sess->srv, &msg) == sess->serial) continue;
        if (!hit || sub->qos > qos) qos = sub->qos;
        hit = true;
        rap |= sub->retain_as_published;
        if (sub->sub_id && nids < 8) ids[nids++] = sub->sub_id;
    }
    if (!hit) return 0;
    if (msg.qos < qos) qos = msg.qos;
    return mqtt__send_publish(sess, &msg, qos, rap && msg.retain, ids, nids) ? 0 : -1;
}

#define CATCHUP_BUDGET (4u << 20)

void mqtt__session_catch_up(mqtt_session_t *sess)
{
    mqtt_server_t *srv = sess->srv;
    if (!sess->conn || sess->conn->closing) return;
    size_t spent = 0;
    catch_ctx_t ctx = {.sess = sess};
    for (size_t i = 0; i < sess->ncursors; i++) {
        mqtt_cursor_t *c = &sess->cursors[i];
        if (!c->lagging) continue;
        gn_partition_t *part = gn_partition_get(srv->broker, c->topic, c->partition);
        if (!part) {
            c->lagging = false;
            continue;
        }
        ctx.part = part;
        for (;;) {
            int64_t start = gn_partition_log_start_offset(part);
            int64_t hw = gn_partition_high_watermark(part);
            if (c->next < start) c->next = start;
            if (c->next >= hw) {
                c->lagging = false;
                break;
            }
            if (!mqtt__session_has_credit(sess)) goto out;
            if (spent >= CATCHUP_BUDGET || mqtt__conn_queued(sess->conn) > MQTT_QOS0_QUEUE_LIMIT) {
                uv_timer_t *t = session_timer(sess);
                if (t) uv_timer_start(t, on_timer, 10, 0); /* go on later */
                goto out;
            }
            /* read about what the credit lets us send, not a fixed 256 KiB per ack */
            size_t max = sess->conn->receive_max_out < MQTT_MAX_INFLIGHT
                             ? sess->conn->receive_max_out
                             : MQTT_MAX_INFLIGHT;
            size_t want = (max - sess->ninflight) * 2048;
            if (want < 8192) want = 8192;
            if (want > MQTT_CATCHUP_READ_BYTES) want = MQTT_CATCHUP_READ_BYTES;
            int64_t next;
            int rc = mqtt__log_scan(srv, part, c->next, hw, want, catch_record, &ctx, &next);
            spent += want;
            if (rc < 0) {
                GN_WARN(MQTT_MOD, "catch-up read failed | client=%s topic=%s partition=%d err=%s",
                        sess->client_id, c->topic, c->partition, gn_err_name(rc));
                c->lagging = false;
                break;
            }
            bool progressed = next > c->next;
            c->next = next;
            sess->moved |= progressed;
            if (!progressed) break; /* stopped for credit, or nothing readable */
        }
    }
out:
    free(ctx.buf);
}

/* Partitions the session's filters can reach but it has no cursor for (topics created
 * or first written while it was away): start from its disconnect time. */
typedef struct discover_ctx {
    mqtt_session_t *sess;
} discover_ctx_t;

static void discover_topic(mqtt_session_t *sess, const char *topic, int32_t partitions)
{
    for (int32_t p = 0; p < partitions; p++) {
        mqtt_cursor_t *c = mqtt__cursor_get(sess, topic, p, 0, false);
        if (c) continue;
        gn_partition_t *part = gn_partition_get(sess->srv->broker, topic, p);
        if (!part) continue;
        int64_t off = -1, ts;
        if (sess->disconnected_at > 0)
            gn_partition_offset_for_time(part, sess->disconnected_at, &off, &ts);
        if (off < 0) off = gn_partition_high_watermark(part);
        if ((c = mqtt__cursor_get(sess, topic, p, off, true))) c->lagging = true;
    }
}

static void discover_each(void *arg, const gn_topic_info_t *info)
{
    discover_ctx_t *ctx = arg;
    if (info->internal || (info->name[0] == '_' && info->name[1] == '_')) return;
    mqtt_session_t *sess = ctx->sess;
    for (size_t i = 0; i < sess->nsubs; i++) {
        mqtt_sub_t *sub = sess->subs[i];
        if (sub->share) continue;
        size_t n = strlen(info->name);
        const char *f = sub->filter;
        bool hit = (f[0] == '#' || f[0] == '+')
                       ? true
                       : strncmp(f, info->name, n) == 0 && (f[n] == '/' || f[n] == '\0');
        if (hit) {
            discover_topic(sess, info->name, info->partitions);
            return;
        }
    }
}

void mqtt__session_resume(mqtt_session_t *sess)
{
    mqtt_conn_t *conn = sess->conn;
    /* QoS 2 of a previous connection whose PUBREC (PUBREL) waited for a save: the
     * message was appended (the client's PUBREC came), so the answers go out now */
    for (size_t i = 0; i < sess->nqos2_in; i++)
        sess->qos2_in[i] &= ~(MQTT_QOS2_UNSAVED | MQTT_QOS2_SAVING);
    /* in-flight from the previous connection: PUBLISH again with DUP, or PUBREL; from
     * the slot after the last one taken, the oldest first when acks came in order */
    for (size_t i = 0; i < sess->inflight_cap; i++) {
        mqtt_inflight_t *f =
            &sess->inflight[(sess->inflight_next + i) & ((size_t)sess->inflight_cap - 1)];
        if (!f->state) continue;
        f->pubrel = 0;
        if (f->state == MQTT_WAIT_PUBCOMP) {
            mqtt__send_ack(conn, MQTT_PUBREL, f->pid, 0, NULL);
        } else if (f->packet) {
            mqtt__send_pkt(conn, f->packet, f->pid, true);
        }
    }
    mqtt__share_sync(sess);
    discover_ctx_t ctx = {sess};
    gn_topic_list(sess->srv->broker, discover_each, &ctx);
    for (size_t i = 0; i < sess->ncursors; i++)
        sess->cursors[i].lagging = true;
    mqtt__session_catch_up(sess);
}

/* ---- going offline, expiry, wills ----------------------------------------------- */

static int64_t expiry_deadline(const mqtt_session_t *sess)
{
    int64_t span = (int64_t)sess->expiry * 1000;
    /* saturates: disconnected_at comes from a record (session_store.c keeps it >= 0) */
    if (sess->expiry == UINT32_MAX || sess->disconnected_at > INT64_MAX - span) return INT64_MAX;
    return sess->disconnected_at + span;
}

void mqtt__session_arm_timer(mqtt_session_t *sess)
{
    if (sess->conn) return;
    if (sess->remote_online) { /* connected on its owner; if that is lost, adopted first */
        if (sess->timer) uv_timer_stop(sess->timer);
        return;
    }
    if (!mqtt__session_acting(sess)) { /* another broker expires it */
        if (sess->timer) uv_timer_stop(sess->timer);
        return;
    }
    int64_t due = expiry_deadline(sess);
    if (sess->will_due && sess->will_due < due) due = sess->will_due;
    if (due == INT64_MAX) return;
    int64_t wait = due - gn_now_ms();
    uv_timer_t *t = session_timer(sess);
    if (t) uv_timer_start(t, on_timer, wait > 0 ? (uint64_t)wait : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    mqtt_session_t *sess = t->data;
    if (sess->conn) {
        mqtt__session_catch_up(sess);
        return;
    }
    if (!mqtt__session_acting(sess)) return; /* its owner (or the lowest live broker) acts */
    int64_t now = gn_now_ms();
    bool expired = now >= expiry_deadline(sess);
    if (sess->will && sess->will_due && (now >= sess->will_due || expired)) {
        mqtt__session_will_publish(sess);
        if (!expired) mqtt__session_save(sess); /* the saved will is gone too */
    }
    if (expired) {
        GN_INFO(MQTT_MOD, "session expired | client=%s", sess->client_id);
        mqtt__session_forget(sess);
        mqtt__session_free(sess);
        return;
    }
    mqtt__session_arm_timer(sess);
}

void mqtt__session_will_publish(mqtt_session_t *sess)
{
    mqtt_will_t *w = sess->will;
    if (!w) return;
    mqtt_props_t props, *pp = NULL;
    if (w->props_len) {
        /* re-read the stored block: same reader as at CONNECT */
        uint8_t hdr[4 + 4];
        size_t hl = 0;
        uint32_t v = (uint32_t)w->props_len;
        do {
            hdr[hl++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
        uint8_t *blk = malloc(hl + w->props_len);
        if (blk) {
            memcpy(blk, hdr, hl);
            memcpy(blk + hl, w->props, w->props_len);
            mqtt_reader_t r = {.pos = blk, .end = blk + hl + w->props_len};
            if (mqtt__props_read(&r, MQTT_IN_WILL, &props) == 0) {
                /* views must point into w->props, which outlives the publish call */
                pp = &props;
            }
            int rc = mqtt__publish(
                sess->srv, sess->serial, (gn_bytes_t){(const uint8_t *)w->topic, strlen(w->topic)},
                (gn_bytes_t){w->payload, w->payload_len}, pp, w->qos, w->retain, NULL, NULL);
            if (rc < 0)
                GN_WARN(MQTT_MOD, "will not published | client=%s topic=%s err=%s", sess->client_id,
                        w->topic, gn_err_name(rc));
            free(blk);
        }
    } else {
        int rc = mqtt__publish(
            sess->srv, sess->serial, (gn_bytes_t){(const uint8_t *)w->topic, strlen(w->topic)},
            (gn_bytes_t){w->payload, w->payload_len}, NULL, w->qos, w->retain, NULL, NULL);
        if (rc < 0)
            GN_WARN(MQTT_MOD, "will not published | client=%s topic=%s err=%s", sess->client_id,
                    w->topic, gn_err_name(rc));
    }
    GN_DEBUG(MQTT_MOD, "will published | client=%s topic=%s", sess->client_id, w->topic);
    mqtt__session_will_free(sess);
}

void mqtt__session_went_offline(mqtt_session_t *sess)
{
    sess->disconnected_at = gn_now_ms();
    mqtt__share_sync(sess); /* an offline session is no group member */
    if (!sess->persistent) {
        if (sess->will && sess->will_due) mqtt__session_will_publish(sess);
        mqtt__session_forget(sess); /* its claim told the other brokers it existed */
        mqtt__session_free(sess);
        return;
    }
    mqtt__session_save(sess);
    mqtt__session_arm_timer(sess);
}
