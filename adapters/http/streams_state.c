/* SPDX-License-Identifier: Apache-2.0 */
/* The windowed count/sum of a processor and its changelog, the compacted topic
 * __streams_<name>_state (one partition). Records: key ["agg",<key>|null,<window start>]
 * value {"count":N,"sum":S}; key ["offset",<source partition>] value {"offset":N}, the next
 * source offset the aggregates include. A cycle's changed aggregates and its offsets are
 * one batch, so a restore always sees aggregates and offsets that belong together. Loop
 * thread only. */
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "streams.h"

void streams_state_init(streams_state_t *st)
{
    st->aggs = json_object();
    st->dirty = json_object();
    st->offsets = json_object();
}

void streams_state_clear(streams_state_t *st)
{
    json_decref(st->aggs);
    json_decref(st->dirty);
    json_decref(st->offsets);
    st->aggs = st->dirty = st->offsets = NULL;
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
    if (kind && text && strcmp(kind, "agg") == 0 && json_array_size(k) == 3) {
        if (json_is_object(v))
            json_object_set(st->aggs, text, v);
        else
            json_object_del(st->aggs, text);
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
    json_object_clear(st->dirty);
    json_object_clear(st->offsets);
    return http__topic_scan(broker, topic, &next, on_record, st);
}

json_t *streams_state_update(streams_state_t *st, const streams_def_t *def,
                             const streams_rec_t *rec, int64_t ts, const char **why)
{
    double add = 0;
    if (def->agg == AGG_SUM) {
        json_t *f = json_object_get(rec->value, def->agg_field);
        if (!json_is_number(f)) {
            *why = "sum field missing or not a number";
            return NULL;
        }
        add = json_number_value(f);
    }
    json_t *key = rec->key ? json_stringn(rec->key, rec->key_len) : json_null();
    if (!key) {
        *why = "key is not UTF-8";
        return NULL;
    }
    int64_t start = ts - ((ts % def->window_ms) + def->window_ms) % def->window_ms;
    json_t *k = json_pack("[s,O,I]", "agg", key, (json_int_t)start);
    char *text = k ? json_dumps(k, JSON_COMPACT) : NULL;
    json_decref(k);
    json_t *agg = text ? json_object_get(st->aggs, text) : NULL;
    if (text && !agg && json_object_size(st->aggs) >= STREAMS_STATE_MAX) {
        *why = "too many (key, window) aggregates";
        free(text);
        json_decref(key);
        return NULL;
    }
    json_int_t count = json_integer_value(json_object_get(agg, "count")) + 1;
    double sum = json_number_value(json_object_get(agg, "sum")) + add;
    json_t *nv = json_pack("{s:I,s:f}", "count", count, "sum", sum);
    json_t *out = NULL;
    if (text && nv) {
        json_object_set(st->aggs, text, nv);
        json_object_set(st->dirty, text, nv);
        out = json_pack("{s:O,s:I,s:I}", "key", key, "window_start", (json_int_t)start,
                        "window_end", (json_int_t)(start + def->window_ms));
        if (def->agg == AGG_COUNT)
            json_object_set_new(out, "count", json_integer(count));
        else if (sum == (double)(json_int_t)sum && sum < 9e15 && sum > -9e15)
            json_object_set_new(out, "sum", json_integer((json_int_t)sum));
        else
            json_object_set_new(out, "sum", json_real(sum));
    }
    if (!out) *why = "out of memory";
    json_decref(nv);
    free(text);
    json_decref(key);
    return out;
}

int streams_state_write(gn_broker_t *broker, const char *name, streams_state_t *st,
                        streams_written_cb cb, void *arg)
{
    char topic[300];
    streams_state_topic(name, topic, sizeof topic);
    size_t n = json_object_size(st->dirty) + json_object_size(st->offsets), i = 0;
    char **keys = calloc(n ? n : 1, sizeof *keys), **values = calloc(n ? n : 1, sizeof *values);
    int rc = keys && values ? 0 : GN_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach(st->dirty, k, v)
    {
        if (rc < 0) break;
        keys[i] = strdup(k);
        values[i] = json_dumps(v, JSON_COMPACT);
        if (!keys[i++] || !values[i - 1]) rc = GN_ENOMEM;
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
