/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648, strict) and the JSON form of a record sent to browsers: UTF-8
 * text as strings, otherwise base64 with "encoding": "base64". Pure; any thread. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/base64.h"
#include "ganglion/json_bytes.h"
#include "ws.h"

json_t *ws_record_json(const char *topic, int32_t partition, const gn_record_t *rec)
{
    bool base64 = !gn_record_is_text(rec);
    gn_bytes_t raw = rec->headers;
    gn_record_header_t h;
    json_t *headers = json_object();
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
        json_object_set_new(headers, name, gn_json_bytes(h.value, base64));
    }
    json_t *j =
        json_pack("{s:s,s:s,s:i,s:I,s:I,s:o?,s:o?,s:o}", "type", "record", "topic", topic,
                  "partition", (int)partition, "offset", (json_int_t)rec->offset, "timestamp",
                  (json_int_t)rec->timestamp, "key", gn_json_bytes(rec->key, base64), "value",
                  gn_json_bytes(rec->value, base64), "headers", headers);
    if (j && base64) json_object_set_new(j, "encoding", json_string("base64"));
    return j;
}
