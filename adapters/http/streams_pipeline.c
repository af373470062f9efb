/* SPDX-License-Identifier: Apache-2.0 */
/* The stateless steps over one JSON record, in definition order: filter (a top-level
 * field compared with a value; a missing field fails every comparison, including !=),
 * map (keep, then rename, then set) and rekey (the key becomes the field's string, or the
 * JSON text of a number or boolean; a missing or null field makes a null key). Pure. */
#include <stdlib.h>
#include <string.h>

#include "streams.h"

static int compare(const json_t *a, const json_t *b, bool *comparable)
{
    *comparable = true;
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (json_is_string(a) && json_is_string(b))
        return strcmp(json_string_value(a), json_string_value(b));
    *comparable = false;
    return 0;
}

static bool filter_passes(const streams_step_t *st, const json_t *value)
{
    json_t *f = json_object_get(value, st->field);
    if (!f) return false;
    if (st->op == OP_EXISTS) return true;
    bool comparable;
    int c = compare(f, st->value, &comparable);
    switch (st->op) {
    case OP_EQ:
        return comparable ? c == 0 : json_equal(f, st->value);
    case OP_NE:
        return comparable ? c != 0 : !json_equal(f, st->value);
    case OP_LT:
        return comparable && c < 0;
    case OP_LE:
        return comparable && c <= 0;
    case OP_GT:
        return comparable && c > 0;
    case OP_GE:
        return comparable && c >= 0;
    default:
        return false;
    }
}

static void apply_map(const streams_step_t *st, json_t *value)
{
    if (st->keep) {
        json_t *kept = json_object();
        size_t i;
        json_t *name;
        json_array_foreach(st->keep, i, name)
        {
            json_t *v = json_object_get(value, json_string_value(name));
            if (v) json_object_set(kept, json_string_value(name), v);
        }
        json_object_clear(value);
        json_object_update(value, kept);
        json_decref(kept);
    }
    const char *from;
    json_t *to;
    json_object_foreach(st->rename, from, to)
    {
        json_t *v = json_object_get(value, from);
        if (!v) continue;
        json_incref(v);
        json_object_del(value, from);
        json_object_set_new(value, json_string_value(to), v);
    }
    if (st->set) json_object_update(value, st->set);
}

static void apply_rekey(const streams_step_t *st, streams_rec_t *rec)
{
    json_t *f = json_object_get(rec->value, st->field);
    free(rec->key);
    rec->key = NULL;
    rec->key_len = 0;
    if (json_is_string(f)) {
        rec->key_len = json_string_length(f);
        rec->key = malloc(rec->key_len + 1);
        if (rec->key) memcpy(rec->key, json_string_value(f), rec->key_len + 1);
    } else if (f && !json_is_null(f)) {
        rec->key = json_dumps(f, JSON_COMPACT | JSON_ENCODE_ANY);
        rec->key_len = rec->key ? strlen(rec->key) : 0;
    }
}

bool streams_pipeline_run(const streams_def_t *def, streams_rec_t *rec)
{
    for (size_t i = 0; i < def->nsteps; i++) {
        const streams_step_t *st = &def->steps[i];
        switch (st->kind) {
        case STEP_FILTER:
            if (!filter_passes(st, rec->value)) return false;
            break;
        case STEP_MAP:
            apply_map(st, rec->value);
            break;
        case STEP_REKEY:
            apply_rekey(st, rec);
            break;
        }
    }
    return true;
}
