/* SPDX-License-Identifier: Apache-2.0 */
/* REST Proxy v2 produce bodies: parsed with jansson, every record's key and value
 * copied into one arena (json format: the value's compact JSON text; binary format:
 * the base64-decoded bytes). Strict base64 both ways. Pure; any thread. */
#include "ganglion/base64.h"
#include "rest_decode.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies bytes into the arena; returns the offset or -1. Views are fixed up at the end
 * because the arena moves while it grows. */
static long arena_put(http_rest_produce_t *p, const void *data, size_t len)
{
    if (p->arena_len + len > p->arena_cap) {
        size_t cap = p->arena_cap ? p->arena_cap * 2 : 1024;
        while (cap < p->arena_len + len)
            cap *= 2;
        uint8_t *na = realloc(p->arena, cap);
        if (!na) return -1;
        p->arena = na;
        p->arena_cap = cap;
    }
    long off = (long)p->arena_len;
    if (len) memcpy(p->arena + p->arena_len, data, len);
    p->arena_len += len;
    return off;
}

/* One key or value: *off -1 for JSON null. 0 or an error code. */
static int decode_field(http_rest_produce_t *p, json_t *v, http_rest_format_t fmt, long *off,
                        size_t *len, const char *what, size_t idx, char *err, size_t err_cap)
{
    *off = -1;
    *len = 0;
    if (!v || json_is_null(v)) return 0;
    if (fmt == HTTP_REST_BINARY) {
        if (!json_is_string(v)) {
            snprintf(err, err_cap, "records[%zu].%s must be a base64 string or null", idx, what);
            return 42205;
        }
        size_t slen = json_string_length(v);
        uint8_t *tmp = malloc(slen / 4 * 3 + 4);
        if (!tmp) return 50001;
        long n = gn_base64_decode(json_string_value(v), slen, tmp);
        if (n < 0) {
            free(tmp);
            snprintf(err, err_cap, "records[%zu].%s is not valid base64", idx, what);
            return 42205;
        }
        *off = arena_put(p, tmp, (size_t)n);
        *len = (size_t)n;
        free(tmp);
        return *off < 0 ? 50001 : 0;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return 50001;
    *len = strlen(s);
    *off = arena_put(p, s, *len);
    free(s);
    return *off < 0 ? 50001 : 0;
}

int http_rest_decode_produce(const char *body, size_t len, http_rest_format_t fmt,
                             http_rest_produce_t *out, char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    int rc = 0;
    long *offs = NULL;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, err_cap, "Malformed JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                 jerr.column);
        return 42201;
    }
    json_t *records = json_is_object(root) ? json_object_get(root, "records") : NULL;
    if (!json_is_array(records)) {
        snprintf(err, err_cap, "The request body must be an object with a \"records\" array");
        rc = 42205;
        goto out;
    }
    size_t n = json_array_size(records);
    if (n == 0) {
        snprintf(err, err_cap, "\"records\" is empty");
        rc = 42205;
        goto out;
    }
    if (n > HTTP_REST_MAX_RECORDS) {
        snprintf(err, err_cap, "At most %d records per request", HTTP_REST_MAX_RECORDS);
        rc = 42206;
        goto out;
    }
    out->records = calloc(n, sizeof *out->records);
    offs = calloc(n * 2, sizeof *offs);
    if (!out->records || !offs) {
        rc = 50001;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_array_get(records, i);
        if (!json_is_object(rec)) {
            snprintf(err, err_cap, "records[%zu] must be an object", i);
            rc = 42205;
            goto out;
        }
        http_rest_record_t *r = &out->records[i];
        r->partition = -1;
        json_t *jp = json_object_get(rec, "partition");
        if (jp && !json_is_null(jp)) {
            if (!json_is_integer(jp) || json_integer_value(jp) < 0 ||
                json_integer_value(jp) > INT32_MAX) {
                snprintf(err, err_cap, "records[%zu].partition must be a non-negative integer", i);
                rc = 42205;
                goto out;
            }
            r->partition = (int32_t)json_integer_value(jp);
        }
        size_t klen, vlen;
        rc = decode_field(out, json_object_get(rec, "key"), fmt, &offs[2 * i], &klen, "key", i, err,
                          err_cap);
        if (rc == 0)
            rc = decode_field(out, json_object_get(rec, "value"), fmt, &offs[2 * i + 1], &vlen,
                              "value", i, err, err_cap);
        if (rc) goto out;
        r->key.len = klen;
        r->value.len = vlen;
    }
    /* The arena no longer moves: turn offsets into views. */
    static const uint8_t empty[1];
    for (size_t i = 0; i < n; i++) {
        http_rest_record_t *r = &out->records[i];
        r->key.ptr = offs[2 * i] < 0 ? NULL : out->arena ? out->arena + offs[2 * i] : empty;
        r->value.ptr = offs[2 * i + 1] < 0 ? NULL
                       : out->arena        ? out->arena + offs[2 * i + 1]
                                           : empty;
    }
    out->count = n;
out:
    free(offs);
    json_decref(root);
    if (rc) http_rest_produce_free(out);
    if (rc == 50001) snprintf(err, err_cap, "out of memory");
    return rc;
}

void http_rest_produce_free(http_rest_produce_t *p)
{
    free(p->records);
    free(p->arena);
    memset(p, 0, sizeof *p);
}
