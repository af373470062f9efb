/* SPDX-License-Identifier: Apache-2.0 */
/* A stream processor's definition (docs/streams.md): {"name", "source", "sink",
 * "dead_letter_topic"?, "steps": [{"filter": {...}} | {"map": {...}} | {"rekey": {...}} |
 * {"count": {...}} | {"sum": {...}}]} (count and sum: "window_ms", "grace_ms"), checked
 * into a streams_def_t that borrows from the JSON document. Every refusal is one sentence. Pure;
 * fuzzed (tests/fuzz/fuzz_streams_def.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ganglion/topic.h"
#include "streams.h"

static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

bool streams_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > STREAMS_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* A topic the processor reads or writes: a valid name, not an internal one. */
static int topic_field(const json_t *doc, const char *what, bool required, char *out, size_t cap,
                       char *err, size_t errlen)
{
    json_t *v = json_object_get(doc, what);
    out[0] = '\0';
    if (!v && !required) return 0;
    const char *t = json_string_value(v);
    if (!t) return refuse(err, errlen, "\"%s\" must be a topic name", what);
    if (gn_topic_name_validate(t, strlen(t)) < 0 || strlen(t) >= cap)
        return refuse(err, errlen, "\"%s\" is not a valid topic name", what);
    if (gn_topic_name_internal(t))
        return refuse(err, errlen, "\"%s\" may not be an internal topic (\"__\" prefix)", what);
    snprintf(out, cap, "%s", t);
    return 0;
}

static int field_name(const json_t *obj, const char *step, char *out, char *err, size_t errlen)
{
    const char *f = json_string_value(json_object_get(obj, "field"));
    if (!f || !f[0] || strlen(f) > STREAMS_FIELD_MAX)
        return refuse(err, errlen, "%s needs \"field\": a field name of 1 to %d bytes", step,
                      STREAMS_FIELD_MAX);
    snprintf(out, STREAMS_FIELD_MAX + 1, "%s", f);
    return 0;
}

static int parse_filter(const json_t *obj, streams_step_t *st, char *err, size_t errlen)
{
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">=", "exists"};
    if (field_name(obj, "filter", st->field, err, errlen) < 0) return -1;
    const char *op = json_string_value(json_object_get(obj, "op"));
    size_t i = 0;
    while (op && i < sizeof ops / sizeof ops[0] && strcmp(op, ops[i]) != 0)
        i++;
    if (!op || i == sizeof ops / sizeof ops[0])
        return refuse(err, errlen, "filter \"op\" must be one of == != < <= > >= exists");
    st->op = (streams_op_t)i;
    st->value = json_object_get(obj, "value");
    if (st->op == OP_EXISTS) return 0;
    if (!st->value) return refuse(err, errlen, "filter with op %s needs a \"value\"", op);
    if (st->op >= OP_LT && !json_is_number(st->value) && !json_is_string(st->value))
        return refuse(err, errlen, "filter with op %s compares a number or a string", op);
    if (json_is_object(st->value) || json_is_array(st->value))
        return refuse(err, errlen, "filter \"value\" must be a string, number, boolean or null");
    return 0;
}

static int parse_map(const json_t *obj, streams_step_t *st, char *err, size_t errlen)
{
    st->keep = json_object_get(obj, "keep");
    st->rename = json_object_get(obj, "rename");
    st->set = json_object_get(obj, "set");
    if (!st->keep && !st->rename && !st->set)
        return refuse(err, errlen, "map needs \"keep\", \"rename\" or \"set\"");
    if (st->keep && !json_is_array(st->keep))
        return refuse(err, errlen, "map \"keep\" must be an array of field names");
    size_t i;
    json_t *v;
    json_array_foreach(st->keep, i, v) if (!json_is_string(v)) return refuse(
        err, errlen, "map \"keep\" must be an array of field names");
    if (st->rename && !json_is_object(st->rename))
        return refuse(err, errlen, "map \"rename\" must be an object {\"from\": \"to\"}");
    const char *k;
    json_object_foreach(
        st->rename, k,
        v) if (!json_is_string(v) ||
               !json_string_value(
                   v)[0]) return refuse(err, errlen,
                                        "map \"rename\" must map field names to field names");
    if (st->set && !json_is_object(st->set))
        return refuse(err, errlen, "map \"set\" must be an object {\"field\": value}");
    return 0;
}

#define ONE_YEAR_MS (366LL * 24 * 3600 * 1000)

/* count {"window_ms", "grace_ms"?} or sum {"field", "window_ms", "grace_ms"?}. */
static int parse_window(const json_t *obj, streams_def_t *def, const char *what, char *err,
                        size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (strcmp(k, "window_ms") && strcmp(k, "grace_ms") &&
            (def->agg != AGG_SUM || strcmp(k, "field")))
            return refuse(err, errlen, "%s: unknown field \"%.64s\"", what, k);
    }
    json_t *w = json_object_get(obj, "window_ms");
    if (!json_is_integer(w) || json_integer_value(w) < 1 || json_integer_value(w) > ONE_YEAR_MS)
        return refuse(err, errlen, "%s needs \"window_ms\": an integer from 1 to one year", what);
    def->window_ms = json_integer_value(w);
    json_t *g = json_object_get(obj, "grace_ms");
    if (g &&
        (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > ONE_YEAR_MS))
        return refuse(err, errlen, "%s \"grace_ms\" must be an integer from 0 to one year", what);
    def->grace_ms = g ? json_integer_value(g) : STREAMS_GRACE_DEFAULT;
    return 0;
}

static int parse_step(const json_t *step, size_t idx, size_t n, streams_def_t *def, char *err,
                      size_t errlen)
{
    if (!json_is_object(step) || json_object_size(step) != 1)
        return refuse(err, errlen, "step %zu must be an object with one key", idx + 1);
    const char *kind = json_object_iter_key(json_object_iter((json_t *)step));
    json_t *obj = json_object_get(step, kind);
    if (!json_is_object(obj))
        return refuse(err, errlen, "step %zu (%s) must have an object value", idx + 1, kind);
    bool agg = strcmp(kind, "count") == 0 || strcmp(kind, "sum") == 0;
    if (agg) {
        if (idx + 1 != n)
            return refuse(err, errlen, "step %zu: %s must be the last step", idx + 1, kind);
        def->agg = kind[0] == 'c' ? AGG_COUNT : AGG_SUM;
        if (def->agg == AGG_SUM && field_name(obj, "sum", def->agg_field, err, errlen) < 0)
            return -1;
        return parse_window(obj, def, kind, err, errlen);
    }
    streams_step_t *st = &def->steps[def->nsteps++];
    if (strcmp(kind, "filter") == 0) {
        st->kind = STEP_FILTER;
        return parse_filter(obj, st, err, errlen);
    }
    if (strcmp(kind, "map") == 0) {
        st->kind = STEP_MAP;
        return parse_map(obj, st, err, errlen);
    }
    if (strcmp(kind, "rekey") == 0) {
        st->kind = STEP_REKEY;
        return field_name(obj, "rekey", st->field, err, errlen);
    }
    return refuse(err, errlen, "step %zu: unknown step \"%.64s\" (filter, map, rekey, count, sum)",
                  idx + 1, kind);
}

int streams_def_parse(const json_t *doc, streams_def_t *def, char *err, size_t errlen)
{
    memset(def, 0, sizeof *def);
    if (!json_is_object(doc)) return refuse(err, errlen, "a definition is a JSON object");
    const char *name = json_string_value(json_object_get(doc, "name"));
    if (!name || !streams_name_valid(name))
        return refuse(err, errlen, "\"name\" must be 1 to %d of [a-zA-Z0-9._-]", STREAMS_NAME_MAX);
    snprintf(def->name, sizeof def->name, "%s", name);
    if (topic_field(doc, "source", true, def->source, sizeof def->source, err, errlen) < 0 ||
        topic_field(doc, "sink", true, def->sink, sizeof def->sink, err, errlen) < 0 ||
        topic_field(doc, "dead_letter_topic", false, def->dead_letter, sizeof def->dead_letter, err,
                    errlen) < 0)
        return -1;
    if (strcmp(def->source, def->sink) == 0 || strcmp(def->source, def->dead_letter) == 0)
        return refuse(err, errlen,
                      "the source topic may not also be the sink or dead-letter topic");
    json_t *steps = json_object_get(doc, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0 ||
        json_array_size(steps) > STREAMS_MAX_STEPS)
        return refuse(err, errlen, "\"steps\" must be an array of 1 to %d steps",
                      STREAMS_MAX_STEPS);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        if (strcmp(k, "name") && strcmp(k, "source") && strcmp(k, "sink") &&
            strcmp(k, "dead_letter_topic") && strcmp(k, "steps"))
            return refuse(err, errlen, "unknown field \"%.64s\"", k);
    }
    size_t n = json_array_size(steps);
    for (size_t i = 0; i < n; i++)
        if (parse_step(json_array_get(steps, i), i, n, def, err, errlen) < 0) return -1;
    return 0;
}
