/* SPDX-License-Identifier: Apache-2.0 */
/* Renders one record as JSON for SSE (and the REST records the console reads): UTF-8
 * keys, values and header values as strings; when any of them is not UTF-8, all of
 * them as base64 and "encoding": "base64". Pure; any thread. */
#include "ganglion/base64.h"
#include "record_json.h"

#include <stdlib.h>

#include "rest_decode.h"

static bool is_text(gn_bytes_t b)
{
    if (!b.ptr) return true;
    json_t *s = json_stringn((const char *)b.ptr, b.len); /* NULL when not UTF-8 */
    bool ok = s != NULL;
    json_decref(s);
    return ok;
}

static json_t *bytes_json(gn_bytes_t b, bool base64)
{
    if (!b.ptr) return json_null();
    if (!base64) return json_stringn((const char *)b.ptr, b.len);
    char *tmp = malloc(b.len / 3 * 4 + 8);
    if (!tmp) return NULL;
    size_t n = gn_base64_encode(b.ptr, b.len, tmp);
    json_t *s = json_stringn(tmp, n);
    free(tmp);
    return s;
}

json_t *http_record_json(const char *topic, int32_t partition, const gn_record_t *rec)
{
    bool base64 = !is_text(rec->key) || !is_text(rec->value);
    gn_bytes_t raw = rec->headers;
    gn_record_header_t h;
    while (!base64 && gn_record_header_next(&raw, &h) == 1)
        if (!is_text(h.value) || !is_text(h.key)) base64 = true;

    json_t *headers = json_array();
    raw = rec->headers;
    while (gn_record_header_next(&raw, &h) == 1)
        json_array_append_new(headers, json_pack("{s:o?,s:o?}", "key", bytes_json(h.key, base64),
                                                 "value", bytes_json(h.value, base64)));
    json_t *j = json_pack("{s:s,s:i,s:I,s:I,s:o?,s:o?,s:o}", "topic", topic, "partition",
                          (int)partition, "offset", (json_int_t)rec->offset, "timestamp",
                          (json_int_t)rec->timestamp, "key", bytes_json(rec->key, base64), "value",
                          bytes_json(rec->value, base64), "headers", headers);
    if (j && base64) json_object_set_new(j, "encoding", json_string("base64"));
    return j;
}
