/* SPDX-License-Identifier: Apache-2.0 */
/* Session records in the compacted topic __mqtt_sessions: key = client id, value =
 * JSON {expiry, disconnected_at, subs, cursors, will, q2in, q2out} (the cursor saved is
 * the first offset not yet acknowledged; will: the client's will, "due" 0 while it is
 * connected, else when it goes out; q2in: inbound QoS 2 packet ids answered PUBREC and
 * not released; q2out: outbound QoS 2 packet ids the client answered PUBREC, so a PUBREL
 * is owed), a tombstone when the session ends; header "mqtt.session" = "owner=N gen=G
 * kind=state|claim|release|adopt online=0|1 clean=0|1" (session_owner.c decides what a
 * record means). Read from the start when the broker starts and followed as records are
 * appended or replicated, so every broker of a cluster holds every session and offline
 * queues (log offsets) survive a restart. Loop thread only. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

static char *hex_of(const uint8_t *p, size_t n)
{
    char *out = malloc(n * 2 + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[p[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
    }
    out[n * 2] = 0;
    return out;
}

static int nibble(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes hex text into a fresh buffer; false on bad text or no memory. */
static bool hex_to(const char *t, uint8_t **out, size_t *len)
{
    size_t n = t ? strlen(t) : 0;
    *out = NULL;
    *len = 0;
    if (n % 2) return false;
    if (n == 0) return true;
    uint8_t *b = malloc(n / 2);
    if (!b) return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = nibble(t[2 * i]), lo = nibble(t[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return false;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return true;
}

/* The client's will, saved with the session: while it is connected (due 0), so that
 * another broker can publish it when this one is lost; waiting for its delay (the client
 * went away uncleanly), so that a restart does not lose it. */
static json_t *will_json(const mqtt_will_t *w, int64_t due)
{
    if (!w) return NULL;
    char *payload = hex_of(w->payload, w->payload_len);
    char *props = hex_of(w->props, w->props_len);
    json_t *j = payload && props ? json_pack("{s:s, s:s, s:s, s:i, s:b, s:I, s:I}", "t", w->topic,
                                             "m", payload, "p", props, "q", w->qos, "r", w->retain,
                                             "d", (json_int_t)w->delay, "due", (json_int_t)due)
                                 : NULL;
    free(payload);
    free(props);
    return j;
}

/* An integer field of a record in lo..hi, else false. */
static bool int_in(json_t *obj, const char *key, json_int_t lo, json_int_t hi, json_int_t *out)
{
    json_t *v = json_object_get(obj, key);
    *out = v ? json_integer_value(v) : 0; /* absent: 0, as the first records wrote */
    return (!v || json_is_integer(v)) && *out >= lo && *out <= hi;
}

static void will_restore(mqtt_session_t *sess, json_t *j)
{
    const char *topic = json_string_value(json_object_get(j, "t"));
    json_int_t qos;
    if (!topic || !mqtt_topic_name_valid((gn_bytes_t){(const uint8_t *)topic, strlen(topic)}) ||
        !int_in(j, "q", 0, 2, &qos)) {
        GN_WARN(MQTT_MOD, "unreadable will skipped | client=%s", sess->client_id);
        return;
    }
    mqtt_will_t *w = calloc(1, sizeof(*w));
    if (!w || !(w->topic = strdup(topic)) ||
        !hex_to(json_string_value(json_object_get(j, "m")), &w->payload, &w->payload_len) ||
        !hex_to(json_string_value(json_object_get(j, "p")), &w->props, &w->props_len)) {
        if (w) {
            free(w->topic);
            free(w->payload);
            free(w->props);
        }
        free(w);
        return;
    }
    w->qos = (uint8_t)qos;
    w->retain = json_is_true(json_object_get(j, "r"));
    w->delay = (uint32_t)json_integer_value(json_object_get(j, "d"));
    sess->will = w;
    sess->will_due = json_integer_value(json_object_get(j, "due"));
    if (sess->will_due < 0) sess->will_due = 0;
}

/* QoS 2 packet ids: inbound ones held until PUBREL, outbound ones owed a PUBREL. */
static json_t *qos2_in_json(const mqtt_session_t *sess)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sess->nqos2_in; i++)
        if (!(sess->qos2_in[i] & MQTT_QOS2_PENDING)) /* appended: PUBREC sent or due */
            json_array_append_new(a, json_integer(sess->qos2_in[i] & 0xffff));
    return a;
}

static json_t *qos2_out_json(const mqtt_session_t *sess)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < sess->inflight_cap; i++)
        if (sess->inflight[i].state == MQTT_WAIT_PUBCOMP)
            json_array_append_new(a, json_integer(sess->inflight[i].pid));
    return a;
}

/* Restored inbound ids are flagged: a PUBLISH of that id without DUP is a new message
 * (its PUBREL was answered after the last save). Bounded as a live session is. */
static void qos2_restore(mqtt_session_t *sess, json_t *in, json_t *out)
{
    size_t n = json_array_size(in), i;
    if (n > MQTT_QOS2_IN_MAX) n = MQTT_QOS2_IN_MAX;
    if (n && (sess->qos2_in = calloc(n, sizeof(*sess->qos2_in)))) {
        for (i = 0; i < n; i++) {
            json_int_t pid = json_integer_value(json_array_get(in, i));
            if (pid > 0 && pid <= 0xffff && !mqtt__qos2_find(sess, (uint16_t)pid))
                sess->qos2_in[sess->nqos2_in++] = (uint32_t)pid | MQTT_QOS2_RESTORED;
        }
    }
    n = json_array_size(out);
    for (i = 0; i < n; i++) {
        json_int_t pid = json_integer_value(json_array_get(out, i));
        mqtt_inflight_t *f =
            pid > 0 && pid <= 0xffff ? mqtt__inflight_take(sess, (uint16_t)pid) : NULL;
        if (f) f->state = MQTT_WAIT_PUBCOMP; /* resumed with PUBREL, never the PUBLISH */
    }
}

static void on_saved(void *arg, int status, const gn_produce_result_t *res)
{
    (void)arg;
    (void)res;
    if (status < 0) GN_WARN(MQTT_MOD, "session state not saved | err=%s", gn_err_name(status));
}

/* A record written while the adapter stops (its sessions saved offline, without wills):
 * the stop waits for its answer, so that it reaches the store before the broker closes
 * (other brokers would adopt the sessions otherwise, and publish their wills). */
static void on_stop_saved(void *arg, int status, const gn_produce_result_t *res)
{
    on_saved(NULL, status, res);
    mqtt__server_handle_closed(arg);
}

#define META_HEADER "mqtt.session"
static const char *const kind_names[] = {"state", "claim", "release", "adopt"};

static int write_record(mqtt_server_t *srv, const char *client_id, gn_bytes_t value,
                        const mqtt_session_rec_t *meta, gn_produce_cb cb, void *arg)
{
    gn_partition_t *part = gn_partition_get(srv->broker, MQTT_SESSIONS_TOPIC, 0);
    if (!part) return GN_EUNKNOWN_TOPIC;
    char m[96];
    int mlen = snprintf(m, sizeof m, "owner=%d gen=%u kind=%s online=%d clean=%d", meta->owner,
                        meta->gen, kind_names[meta->kind], meta->online, meta->clean);
    gn_record_header_t hdr = {{(const uint8_t *)META_HEADER, strlen(META_HEADER)},
                              {(const uint8_t *)m, (size_t)mlen}};
    gn_batch_builder_t b;
    gn_bytes_t batch;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    gn_bytes_t key = {(const uint8_t *)client_id, strlen(client_id)};
    int rc = gn_batch_builder_add(&b, key, value, &hdr, 1, gn_now_ms());
    if (rc == 0) rc = gn_batch_builder_finish(&b, 0, &batch);
    bool held = !cb && srv->stopping;
    if (held) {
        cb = on_stop_saved;
        arg = srv;
    }
    if (rc == 0)
        rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_LEADER, cb ? cb : on_saved,
                        arg);
    if (rc == 0 && held) srv->open_handles++; /* until the answer */
    gn_batch_builder_close(&b);
    if (rc < 0 && !cb)
        GN_WARN(MQTT_MOD, "session state not saved | client=%s err=%s", client_id, gn_err_name(rc));
    return rc;
}

/* The record's "mqtt.session" header into rec (owner -1, gen 0, state: records written
 * before ownership existed). */
static void meta_read(const gn_record_t *r, mqtt_session_rec_t *rec)
{
    rec->owner = -1;
    rec->gen = 0;
    rec->kind = MQTT_REC_STATE;
    rec->online = rec->clean = false;
    gn_bytes_t raw = r->headers;
    gn_record_header_t h;
    while (gn_record_header_next(&raw, &h) == 1) {
        if (h.key.len != strlen(META_HEADER) || memcmp(h.key.ptr, META_HEADER, h.key.len) != 0 ||
            !h.value.ptr || h.value.len >= 96)
            continue;
        char m[96], kind[16] = "";
        memcpy(m, h.value.ptr, h.value.len);
        m[h.value.len] = 0;
        int owner = -1, online = 0, clean = 0;
        unsigned gen = 0;
        if (sscanf(m, "owner=%d gen=%u kind=%15s online=%d clean=%d", &owner, &gen, kind, &online,
                   &clean) != 5)
            continue;
        rec->owner = owner;
        rec->gen = gen;
        for (int k = 0; k < 4; k++)
            if (strcmp(kind, kind_names[k]) == 0) rec->kind = (mqtt_rec_kind_t)k;
        rec->online = online != 0;
        rec->clean = clean != 0;
    }
}

void mqtt__session_forget_id(mqtt_server_t *srv, const char *client_id, int32_t owner, uint32_t gen)
{
    mqtt_session_rec_t meta = {.owner = owner, .gen = gen, .kind = MQTT_REC_STATE};
    write_record(srv, client_id, GN_BYTES_NULL, &meta, NULL, NULL);
}

void mqtt__session_forget(mqtt_session_t *sess)
{
    mqtt__session_forget_id(sess->srv, sess->client_id, sess->owner, sess->gen);
}

/* The session's state as JSON; sess NULL: an empty session of the given expiry; will
 * (not NULL) instead of the session's. */
static json_t *state_json(const mqtt_session_t *sess, uint32_t expiry, const mqtt_will_t *will)
{
    json_t *subs = json_array(), *curs = json_array();
    size_t nsubs = sess ? sess->nsubs : 0, ncursors = sess ? sess->ncursors : 0;
    for (size_t i = 0; i < nsubs; i++) {
        mqtt_sub_t *s = sess->subs[i];
        json_array_append_new(subs, json_pack("{s:s, s:s?, s:i, s:b, s:b, s:i, s:I}", "f",
                                              s->filter, "s", s->share, "q", s->qos, "nl",
                                              s->no_local, "rap", s->retain_as_published, "rh",
                                              s->retain_handling, "id", (json_int_t)s->sub_id));
    }
    for (size_t i = 0; i < ncursors; i++) {
        mqtt_cursor_t *c = &sess->cursors[i];
        int64_t pos = c->next;
        for (size_t k = 0; k < sess->inflight_cap; k++) {
            mqtt_inflight_t *f = &sess->inflight[k];
            if (f->state && f->log_topic && f->partition == c->partition && f->offset < pos &&
                f->state != MQTT_WAIT_PUBCOMP && strcmp(f->log_topic, c->topic) == 0)
                pos = f->offset;
        }
        json_array_append_new(curs, json_pack("{s:s, s:i, s:I}", "t", c->topic, "p", c->partition,
                                              "o", (json_int_t)pos));
    }
    int64_t at = !sess || sess->conn ? gn_now_ms() : sess->disconnected_at;
    json_t *doc = json_pack("{s:i, s:I, s:I, s:o, s:o}", "v", 1, "expiry",
                            (json_int_t)(sess ? sess->expiry : expiry), "disconnected_at",
                            (json_int_t)at, "subs", subs, "cursors", curs);
    json_t *wj = will ? will_json(will, 0) : sess ? will_json(sess->will, sess->will_due) : NULL;
    if (doc && wj)
        json_object_set_new(doc, "will", wj);
    else
        json_decref(wj);
    if (doc && sess && sess->nqos2_in) json_object_set_new(doc, "q2in", qos2_in_json(sess));
    if (doc && sess && sess->ninflight) json_object_set_new(doc, "q2out", qos2_out_json(sess));
    return doc;
}

int mqtt__session_write(mqtt_server_t *srv, const char *client_id, const mqtt_session_t *sess,
                        uint32_t expiry, const mqtt_will_t *will, const mqtt_session_rec_t *meta,
                        gn_produce_cb cb, void *arg)
{
    json_t *doc = state_json(sess, expiry, will);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) return GN_ENOMEM;
    int rc =
        write_record(srv, client_id, (gn_bytes_t){(uint8_t *)text, strlen(text)}, meta, cb, arg);
    free(text);
    return rc;
}

void mqtt__session_save(mqtt_session_t *sess)
{
    mqtt_session_rec_t meta = {.owner = sess->owner,
                               .gen = sess->gen,
                               .kind = MQTT_REC_STATE,
                               .online = sess->conn != NULL};
    mqtt__session_write(sess->srv, sess->client_id, sess, 0, NULL, &meta, NULL, NULL);
    sess->dirty = false;
    sess->moved = false;
}

int mqtt__session_write_adopt(mqtt_session_t *sess, int64_t now)
{
    int64_t at = sess->disconnected_at, due = sess->will_due;
    sess->disconnected_at = now; /* the connection counts as lost now */
    if (sess->will && !sess->will_due) sess->will_due = now + (int64_t)sess->will->delay * 1000;
    mqtt_session_rec_t meta = {
        .owner = sess->srv->self_id, .gen = sess->gen + 1, .kind = MQTT_REC_ADOPT};
    int rc = mqtt__session_write(sess->srv, sess->client_id, sess, 0, NULL, &meta, NULL, NULL);
    sess->disconnected_at = at; /* the record, once applied, says so */
    sess->will_due = due;
    return rc;
}

mqtt_session_t *mqtt__session_restore(mqtt_server_t *srv, const mqtt_session_rec_t *rec)
{
    const char *id = rec->client_id;
    mqtt_session_t *old = mqtt__session_find(srv, id);
    if (old) mqtt__session_free(old);
    if (!rec->value.ptr) return NULL;
    json_error_t err;
    json_t *doc = json_loadb((const char *)rec->value.ptr, rec->value.len, 0, &err);
    if (!doc) {
        GN_WARN(MQTT_MOD, "unreadable session state skipped | client=%s err=\"%s\"", id, err.text);
        return NULL;
    }
    mqtt_session_t *sess = mqtt__session_new(srv, id);
    if (!sess) goto out;
    sess->expiry = (uint32_t)json_integer_value(json_object_get(doc, "expiry"));
    sess->persistent = sess->expiry > 0;
    sess->disconnected_at = json_integer_value(json_object_get(doc, "disconnected_at"));
    if (sess->disconnected_at < 0) sess->disconnected_at = 0; /* deadlines are computed from it */
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(doc, "subs"), i, it)
    {
        const char *f = json_string_value(json_object_get(it, "f"));
        const char *share = json_string_value(json_object_get(it, "s"));
        if (!f) continue;
        char full[1024];
        int n = share ? snprintf(full, sizeof full, "$share/%s/%s", share, f)
                      : snprintf(full, sizeof full, "%s", f);
        json_int_t qos, rh;
        gn_bytes_t filter = {(const uint8_t *)full, n > 0 ? (size_t)n : 0};
        /* what SUBSCRIBE would have refused (a corrupt record) is not restored */
        if (n < 0 || (size_t)n >= sizeof full || !mqtt__sub_filter_ok(filter) ||
            !int_in(it, "q", 0, 2, &qos) || !int_in(it, "rh", 0, 2, &rh)) {
            GN_WARN(MQTT_MOD, "unreadable subscription skipped | client=%s filter=\"%.200s\"", id,
                    full);
            continue;
        }
        mqtt_sub_entry_t e = {
            .filter = filter,
            .qos = (uint8_t)qos,
            .no_local = json_is_true(json_object_get(it, "nl")),
            .retain_as_published = json_is_true(json_object_get(it, "rap")),
            .retain_handling = (uint8_t)rh,
        };
        bool existed;
        mqtt__session_subscribe(sess, &e, (uint32_t)json_integer_value(json_object_get(it, "id")),
                                &existed);
    }
    json_array_foreach(json_object_get(doc, "cursors"), i, it)
    {
        const char *t = json_string_value(json_object_get(it, "t"));
        if (!t) continue;
        mqtt__cursor_get(sess, t, (int32_t)json_integer_value(json_object_get(it, "p")),
                         json_integer_value(json_object_get(it, "o")), true);
    }
    json_t *will = json_object_get(doc, "will");
    if (will) will_restore(sess, will);
    qos2_restore(sess, json_object_get(doc, "q2in"), json_object_get(doc, "q2out"));
    sess->dirty = false;
out:
    json_decref(doc);
    return sess;
}

typedef struct load_ctx {
    mqtt_server_t *srv;
    bool loading;
} load_ctx_t;

static int load_record(void *arg, const gn_record_t *r)
{
    load_ctx_t *ctx = arg;
    if (!r->key.ptr || r->key.len == 0 || r->key.len > 65535) return 0;
    char *id = strndup((const char *)r->key.ptr, r->key.len);
    if (!id) return 0;
    mqtt_session_rec_t rec = {.client_id = id, .value = r->value};
    meta_read(r, &rec);
    mqtt__owner_apply(ctx->srv, &rec, ctx->loading);
    free(id);
    return 0;
}

static int scan(mqtt_server_t *srv, gn_partition_t *part, int64_t from, int64_t end, bool loading)
{
    load_ctx_t ctx = {srv, loading};
    int64_t next = from;
    while (next < end) {
        int64_t before = next;
        int rc = mqtt__log_scan(srv, part, next, end, 1u << 20, load_record, &ctx, &next);
        if (rc < 0) return rc;
        if (next == before) break;
    }
    return 0;
}

int mqtt__sessions_load(mqtt_server_t *srv)
{
    gn_partition_t *part = gn_partition_get(srv->broker, MQTT_SESSIONS_TOPIC, 0);
    if (!part) return 0;
    int rc = scan(srv, part, gn_partition_log_start_offset(part), gn_partition_high_watermark(part),
                  true);
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++)
        for (mqtt_session_t *s = srv->sessions[b]; s; s = s->hnext)
            mqtt__session_arm_timer(s);
    return rc;
}

void mqtt__sessions_apply(mqtt_server_t *srv, gn_partition_t *part, int64_t base, int64_t last)
{
    int rc = scan(srv, part, base, last + 1, false);
    if (rc < 0)
        GN_WARN(MQTT_MOD, "reading session records failed | offset=%lld err=%s", (long long)base,
                gn_err_name(rc));
    mqtt__claims_run(srv);
}
