/* SPDX-License-Identifier: Apache-2.0 */
/* Persistent sessions in the compacted topic __mqtt_sessions: key = client id, value =
 * JSON {expiry, disconnected_at, subs, cursors, will} (the cursor saved is the first
 * offset not yet acknowledged; will: a will waiting for its delay), a tombstone when
 * the session ends. Loaded at start, so
 * sessions and their offline queues (log offsets) survive a broker restart. Loop
 * thread only. */
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

/* A will waiting for its delay (the client went away uncleanly): saved with the
 * session so that a broker restart does not lose it. */
static json_t *will_json(const mqtt_session_t *sess)
{
    const mqtt_will_t *w = sess->will;
    if (!w || !sess->will_due) return NULL;
    char *payload = hex_of(w->payload, w->payload_len);
    char *props = hex_of(w->props, w->props_len);
    json_t *j = payload && props
                    ? json_pack("{s:s, s:s, s:s, s:i, s:b, s:I, s:I}", "t", w->topic, "m", payload,
                                "p", props, "q", w->qos, "r", w->retain, "d", (json_int_t)w->delay,
                                "due", (json_int_t)sess->will_due)
                    : NULL;
    free(payload);
    free(props);
    return j;
}

static void will_restore(mqtt_session_t *sess, json_t *j)
{
    const char *topic = json_string_value(json_object_get(j, "t"));
    if (!topic) return;
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
    w->qos = (uint8_t)json_integer_value(json_object_get(j, "q"));
    w->retain = json_is_true(json_object_get(j, "r"));
    w->delay = (uint32_t)json_integer_value(json_object_get(j, "d"));
    sess->will = w;
    sess->will_due = json_integer_value(json_object_get(j, "due"));
    if (sess->will_due <= 0) sess->will_due = gn_now_ms();
}

static void on_saved(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    if (status < 0) GN_WARN(MQTT_MOD, "session state not saved | err=%s", gn_err_name(status));
    free(arg);
}

static void write_record(mqtt_server_t *srv, const char *client_id, gn_bytes_t value)
{
    gn_partition_t *part = gn_partition_get(srv->broker, MQTT_SESSIONS_TOPIC, 0);
    if (!part) return;
    gn_batch_builder_t b;
    gn_bytes_t batch;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    gn_bytes_t key = {(const uint8_t *)client_id, strlen(client_id)};
    if (gn_batch_builder_add(&b, key, value, NULL, 0, gn_now_ms()) == 0 &&
        gn_batch_builder_finish(&b, 0, &batch) == 0) {
        int rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_LEADER, on_saved, NULL);
        if (rc < 0)
            GN_WARN(MQTT_MOD, "session state not saved | client=%s err=%s", client_id,
                    gn_err_name(rc));
    }
    gn_batch_builder_close(&b);
}

void mqtt__session_forget(mqtt_server_t *srv, const char *client_id)
{
    write_record(srv, client_id, GN_BYTES_NULL);
}

void mqtt__session_save(mqtt_session_t *sess)
{
    json_t *subs = json_array(), *curs = json_array();
    for (size_t i = 0; i < sess->nsubs; i++) {
        mqtt_sub_t *s = sess->subs[i];
        json_array_append_new(subs, json_pack("{s:s, s:s?, s:i, s:b, s:b, s:i, s:I}", "f",
                                              s->filter, "s", s->share, "q", s->qos, "nl",
                                              s->no_local, "rap", s->retain_as_published, "rh",
                                              s->retain_handling, "id", (json_int_t)s->sub_id));
    }
    for (size_t i = 0; i < sess->ncursors; i++) {
        mqtt_cursor_t *c = &sess->cursors[i];
        int64_t pos = c->next;
        for (size_t k = 0; k < sess->ninflight; k++) {
            mqtt_inflight_t *f = &sess->inflight[k];
            if (f->log_topic && f->partition == c->partition && f->offset < pos &&
                f->state != MQTT_WAIT_PUBCOMP && strcmp(f->log_topic, c->topic) == 0)
                pos = f->offset;
        }
        json_array_append_new(curs, json_pack("{s:s, s:i, s:I}", "t", c->topic, "p", c->partition,
                                              "o", (json_int_t)pos));
    }
    json_t *doc =
        json_pack("{s:i, s:I, s:I, s:o, s:o}", "v", 1, "expiry", (json_int_t)sess->expiry,
                  "disconnected_at", (json_int_t)(sess->conn ? gn_now_ms() : sess->disconnected_at),
                  "subs", subs, "cursors", curs);
    json_t *will = will_json(sess);
    if (doc && will)
        json_object_set_new(doc, "will", will);
    else
        json_decref(will);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (text) write_record(sess->srv, sess->client_id, (gn_bytes_t){(uint8_t *)text, strlen(text)});
    free(text);
    json_decref(doc);
    sess->dirty = false;
}

static void restore(mqtt_server_t *srv, const char *id, gn_bytes_t value)
{
    mqtt_session_t *old = mqtt__session_find(srv, id);
    if (old) mqtt__session_free(old);
    if (!value.ptr) return;
    json_error_t err;
    json_t *doc = json_loadb((const char *)value.ptr, value.len, 0, &err);
    if (!doc) {
        GN_WARN(MQTT_MOD, "unreadable session state skipped | client=%s err=\"%s\"", id, err.text);
        return;
    }
    mqtt_session_t *sess = mqtt__session_new(srv, id);
    if (!sess) goto out;
    sess->expiry = (uint32_t)json_integer_value(json_object_get(doc, "expiry"));
    sess->persistent = true;
    sess->disconnected_at = json_integer_value(json_object_get(doc, "disconnected_at"));
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(doc, "subs"), i, it)
    {
        const char *f = json_string_value(json_object_get(it, "f"));
        const char *share = json_string_value(json_object_get(it, "s"));
        if (!f) continue;
        char full[1024];
        if (share)
            snprintf(full, sizeof full, "$share/%s/%s", share, f);
        else
            snprintf(full, sizeof full, "%s", f);
        mqtt_sub_entry_t e = {
            .filter = {(const uint8_t *)full, strlen(full)},
            .qos = (uint8_t)json_integer_value(json_object_get(it, "q")),
            .no_local = json_is_true(json_object_get(it, "nl")),
            .retain_as_published = json_is_true(json_object_get(it, "rap")),
            .retain_handling = (uint8_t)json_integer_value(json_object_get(it, "rh")),
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
    sess->dirty = false;
out:
    json_decref(doc);
}

typedef struct load_ctx {
    mqtt_server_t *srv;
    size_t records;
} load_ctx_t;

static int load_record(void *arg, const gn_record_t *rec)
{
    load_ctx_t *ctx = arg;
    if (!rec->key.ptr || rec->key.len == 0 || rec->key.len > 65535) return 0;
    char *id = strndup((const char *)rec->key.ptr, rec->key.len);
    if (!id) return 0;
    restore(ctx->srv, id, rec->value);
    free(id);
    ctx->records++;
    return 0;
}

int mqtt__sessions_load(mqtt_server_t *srv)
{
    gn_partition_t *part = gn_partition_get(srv->broker, MQTT_SESSIONS_TOPIC, 0);
    if (!part) return 0;
    load_ctx_t ctx = {srv, 0};
    int64_t next = gn_partition_log_start_offset(part), hw = gn_partition_high_watermark(part);
    while (next < hw) {
        int64_t before = next;
        int rc = mqtt__log_scan(srv, part, next, hw, 1u << 20, load_record, &ctx, &next);
        if (rc < 0) return rc;
        if (next == before) break;
    }
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++)
        for (mqtt_session_t *s = srv->sessions[b]; s; s = s->hnext)
            mqtt__session_arm_timer(s);
    return 0;
}
