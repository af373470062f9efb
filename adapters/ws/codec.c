/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648, strict) and the JSON form of a record sent to browsers: UTF-8
 * text as strings, otherwise base64 with "encoding": "base64". Pure; any thread. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/base64.h"
#include "ws.h"

static bool is_text(gn_bytes_t b)
{
    if (!b.ptr) return true;
    json_t *s = json_stringn((const char *)b.ptr, b.len); /* NULL unless UTF-8 */
    json_decref(s);
    return s != NULL;
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

json_t *ws_record_json(const char *topic, int32_t partition, const gn_record_t *rec)
{
    bool base64 = !is_text(rec->key) || !is_text(rec->value);
    gn_bytes_t raw = rec->headers;
    gn_record_header_t h;
    while (!base64 && gn_record_header_next(&raw, &h) == 1)
        if (!is_text(h.key) || !is_text(h.value)) base64 = true;
    json_t *headers = json_object();
    raw = rec->headers;
    while (gn_record_header_next(&raw, &h) == 1) {
        char name[256];
        size_t n = h.key.len < sizeof name - 1 ? h.key.len : sizeof name - 1;
        if (base64) {
            n = h.key.len / 3 * 4 + 4 < sizeof name - 1
                    ? gn_base64_encode(h.key.ptr, h.key.len, name)
                    : 0;
        } else {
            if (n) memcpy(name, h.key.ptr, n);
            name[n] = '\0';
        }
        json_object_set_new(headers, name, bytes_json(h.value, base64));
    }
    json_t *j =
        json_pack("{s:s,s:s,s:i,s:I,s:I,s:o?,s:o?,s:o}", "type", "record", "topic", topic,
                  "partition", (int)partition, "offset", (json_int_t)rec->offset, "timestamp",
                  (json_int_t)rec->timestamp, "key", bytes_json(rec->key, base64), "value",
                  bytes_json(rec->value, base64), "headers", headers);
    if (j && base64) json_object_set_new(j, "encoding", json_string("base64"));
    return j;
}
