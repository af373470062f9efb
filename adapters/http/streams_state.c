/* SPDX-License-Identifier: Apache-2.0 */
/* The windowed count/sum of a processor and its changelog, the compacted topic
 * __streams_<name>_state (one partition). Records: key ["agg",<key>|null,<window start>]
 * value {"count":N,"sum":S}, or null once the window closed; key ["offset",<source
 * partition>] value {"offset":N}, the next source offset the aggregates include; key
 * ["stream_time"] value {"stream_time":N}, the largest timestamp aggregated. A cycle's
 * changed and closed aggregates, its offsets and its stream time are one batch, so a
 * restore always sees state that belongs together. A window closes when stream time
 * reaches its end + grace_ms (Kafka Streams' rule): its aggregates leave memory, and
 * records for it are late. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "streams.h"

void streams_state_init(streams_state_t *st)
{
    st->aggs = json_object();
    st->windows = json_object();
    st->dirty = json_object();
    st->offsets = json_object();
    st->stream_time = -1;
}

void streams_state_clear(streams_state_t *st)
{
    json_decref(st->aggs);
    json_decref(st->windows);
    json_decref(st->dirty);
    json_decref(st->offsets);
    st->aggs = st->windows = st->dirty = st->offsets = NULL;
    st->stream_time = -1;
}

bool streams_window_closed(const streams_def_t *def, int64_t start, int64_t now)
{
    int64_t end, close_at;
    if (__builtin_add_overflow(start, def->window_ms, &end) ||
        __builtin_add_overflow(end, def->grace_ms, &close_at))
        return false;
    return now >= close_at;
}

/* The aggregate under state key text (window start) enters or leaves the index. */
static void index_add(streams_state_t *st, const char *text, int64_t start)
{
    char w[24];
    snprintf(w, sizeof w, "%lld", (long long)start);
    json_t *keys = json_object_get(st->windows, w);
    if (!keys) json_object_set_new(st->windows, w, keys = json_object());
    json_object_set_new(keys, text, json_true());
}

static void index_del(streams_state_t *st, const char *text, int64_t start)
{
    char w[24];
    snprintf(w, sizeof w, "%lld", (long long)start);
    json_t *keys = json_object_get(st->windows, w);
    json_object_del(keys, text);
    if (keys && json_object_size(keys) == 0) json_object_del(st->windows, w);
}

void streams_state_topic(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "__streams_%s_state", name);
}

static void on_record(void *arg, gn_bytes_t key, gn_bytes_t value)
{
    streams_state_t *st = arg;
    json_t *k = key.ptr ? json_loadb((const char *)key.ptr, key.len, 0, NULL) : NULL;
    json_t *v = value.ptr ? json_loadb((const char *)value.ptr, value.len, 0, NULL) : NULL;
    const char *kind = json_string_value(json_array_get(k, 0));
    char *text = k ? json_dumps(k, JSON_COMPACT) : NULL;
    json_t *start = json_array_get(k, 2);
    if (kind && text && strcmp(kind, "agg") == 0 && json_array_size(k) == 3 &&
        json_is_integer(start)) {
        if (json_is_object(v)) {
            json_object_set(st->aggs, text, v);
            index_add(st, text, json_integer_value(start));
        } else {
            json_object_del(st->aggs, text);
            index_del(st, text, json_integer_value(start));
        }
    } else if (kind && strcmp(kind, "stream_time") == 0 &&
               json_is_integer(json_object_get(v, "stream_time"))) {
        st->stream_time = json_integer_value(json_object_get(v, "stream_time"));
    } else if (kind && strcmp(kind, "offset") == 0 && json_is_integer(json_array_get(k, 1))) {
        char part[24];
        snprintf(part, sizeof part, "%lld", (long long)json_integer_value(json_array_get(k, 1)));
        json_t *off = json_object_get(v, "offset");
        if (json_is_integer(off)) json_object_set(st->offsets, part, off);
    } else {
        GN_WARN(STREAMS_MOD, "changelog record skipped: not ours | key=%.*s",
                (int)(key.len > 64 ? 64 : key.len), key.ptr ? (const char *)key.ptr : "");
    }
    free(text);
    json_decref(k);
    json_decref(v);
}

int streams_state_restore(gn_broker_t *broker, const char *name, streams_state_t *st)
{
    char topic[300];
    streams_state_topic(name, topic, sizeof topic);
    int64_t next = 0;
    json_object_clear(st->aggs);
    json_object_clear(st->windows);
    json_object_clear(st->dirty);
    json_object_clear(st->offsets);
    st->stream_time = -1;
    return http__topic_scan(broker, topic, &next, on_record, st);
}

/* The output record's value: {"key","window_start","window_end","count"|"sum"}. */
static json_t *update_json(const streams_def_t *def, json_t *key, int64_t start, json_int_t count,
                           double sum)
{
    json_t *out = json_pack("{s:O,s:I,s:I}", "key", key, "window_start", (json_int_t)start,
                            "window_end", (json_int_t)(start + def->window_ms));
    if (!out) return NULL;
    if (def->agg == AGG_COUNT)
        json_object_set_new(out, "count", json_integer(count));
    else if (sum == (double)(json_int_t)sum && sum < 9e15 && sum > -9e15)
        json_object_set_new(out, "sum", json_integer((json_int_t)sum));
    else
        json_object_set_new(out, "sum", json_real(sum));
    return out;
}

streams_update_t streams_state_update(streams_state_t *st, const streams_def_t *def,
                                      const streams_rec_t *rec, int64_t ts, json_t **out,
                                      const char **why)
{
    *out = NULL;
    double add = 0;
    if (def->agg == AGG_SUM) {
        json_t *f = json_object_get(rec->value, def->agg_field);
        if (!json_is_number(f)) {
            *why = "sum field missing or not a number";
            return STREAMS_REJECTED;
        }
        add = json_number_value(f);
    }
    if (ts < 0 || ts > INT64_MAX - def->window_ms) {
        *why = "timestamp out of range";
        return STREAMS_REJECTED;
    }
    json_t *key = rec->key ? json_stringn(rec->key, rec->key_len) : json_null();
    if (!key) {
        *why = "key is not UTF-8";
        return STREAMS_REJECTED;
    }
    if (ts > st->stream_time) st->stream_time = ts;
    int64_t start = ts - ts % def->window_ms;
    if (streams_window_closed(def, start, st->stream_time)) {
        json_decref(key);
        return STREAMS_LATE;
    }
    json_t *k = json_pack("[s,O,I]", "agg", key, (json_int_t)start);
    char *text = k ? json_dumps(k, JSON_COMPACT) : NULL;
    json_decref(k);
    json_t *agg = text ? json_object_get(st->aggs, text) : NULL;
    streams_update_t res = STREAMS_REJECTED;
    *why = "out of memory";
    if (text && !agg && json_object_size(st->aggs) >= STREAMS_STATE_MAX) {
        *why = "too many (key, window) aggregates";
        goto out;
    }
    json_int_t count = json_integer_value(json_object_get(agg, "count")) + 1;
    double sum = json_number_value(json_object_get(agg, "sum")) + add;
    json_t *nv = json_pack("{s:I,s:f}", "count", count, "sum", sum);
    if (text && nv && (*out = update_json(def, key, start, count, sum))) {
        json_object_set(st->aggs, text, nv);
        json_object_set(st->dirty, text, nv);
        if (!agg) index_add(st, text, start);
        res = STREAMS_UPDATED;
    }
    json_decref(nv);
out:
    free(text);
    json_decref(key);
    return res;
}

size_t streams_state_expire(streams_state_t *st, const streams_def_t *def)
{
    size_t dropped = 0;
    const char *w;
    json_t *keys, *tmp;
    json_object_foreach_safe(st->windows, tmp, w, keys)
    {
        if (!streams_window_closed(def, strtoll(w, NULL, 10), st->stream_time)) continue;
        const char *text;
        json_t *v;
        json_object_foreach(keys, text, v)
        {
            json_object_del(st->aggs, text);
            json_object_set(st->dirty, text, json_null());
            dropped++;
        }
        json_object_del(st->windows, w);
    }
    return dropped;
}

int streams_state_write(gn_broker_t *broker, const char *name, streams_state_t *st,
                        streams_written_cb cb, void *arg)
{
    char topic[300];
    streams_state_topic(name, topic, sizeof topic);
    size_t n = json_object_size(st->dirty) + json_object_size(st->offsets) + 1, i = 0;
    char **keys = calloc(n ? n : 1, sizeof *keys), **values = calloc(n ? n : 1, sizeof *values);
    int rc = keys && values ? 0 : GN_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(st->dirty, k, v)
    {
        if (rc < 0) break;
        keys[i] = strdup(k);
        values[i] = json_is_null(v) ? NULL : json_dumps(v, JSON_COMPACT); /* a tombstone */
        if (!keys[i++] || (!values[i - 1] && !json_is_null(v))) rc = GN_ENOMEM;
    }
    json_object_foreach(st->offsets, k, v)
    {
        if (rc < 0) break;
        json_t *kk = json_pack("[s,I]", "offset", (json_int_t)strtoll(k, NULL, 10));
        json_t *vv = json_pack("{s:O}", "offset", v);
        keys[i] = kk ? json_dumps(kk, JSON_COMPACT) : NULL;
        values[i] = vv ? json_dumps(vv, JSON_COMPACT) : NULL;
        json_decref(kk);
        json_decref(vv);
        if (!keys[i++] || !values[i - 1]) rc = GN_ENOMEM;
    }
    if (rc == 0 && st->stream_time >= 0) {
        json_t *vv = json_pack("{s:I}", "stream_time", (json_int_t)st->stream_time);
        keys[i] = strdup("[\"stream_time\"]");
        values[i] = vv ? json_dumps(vv, JSON_COMPACT) : NULL;
        json_decref(vv);
        if (!keys[i++] || !values[i - 1]) rc = GN_ENOMEM;
    }
    n = i;
    if (rc == 0)
        rc = connect_store_write(broker, topic, (const char *const *)keys,
                                 (const char *const *)values, n, cb, arg);
    if (rc == 0) json_object_clear(st->dirty);
    for (size_t j = 0; keys && values && j < n; j++) {
        free(keys[j]);
        free(values[j]);
    }
    free(keys);
    free(values);
    return rc;
}
