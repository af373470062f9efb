/* SPDX-License-Identifier: Apache-2.0 */
/* Renders one record as JSON for SSE (and the REST records the console reads): UTF-8
 * keys, values and header values as strings; when any of them is not UTF-8, all of
 * them as base64 and "encoding": "base64". Pure; any thread. */
#include "ganglion/json_bytes.h"
#include "record_json.h"

#include "rest_decode.h"

json_t *http_record_json(const char *topic, int32_t partition, const gn_record_t *rec)
{
    bool base64 = !gn_record_is_text(rec);
    gn_bytes_t raw = rec->headers;
    gn_record_header_t h;

    json_t *headers = json_array();
    while (gn_record_header_next(&raw, &h) == 1)
        json_array_append_new(headers, json_pack("{s:o?,s:o?}", "key", gn_json_bytes(h.key, base64),
                                                 "value", gn_json_bytes(h.value, base64)));
    json_t *j = json_pack("{s:s,s:i,s:I,s:I,s:o?,s:o?,s:o}", "topic", topic, "partition",
                          (int)partition, "offset", (json_int_t)rec->offset, "timestamp",
                          (json_int_t)rec->timestamp, "key", gn_json_bytes(rec->key, base64),
                          "value", gn_json_bytes(rec->value, base64), "headers", headers);
    if (j && base64) json_object_set_new(j, "encoding", json_string("base64"));
    return j;
}
