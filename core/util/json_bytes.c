/* SPDX-License-Identifier: Apache-2.0 */
/* Record bytes as JSON strings or base64 (include/ganglion/json_bytes.h), shared by
 * the REST/SSE and WebSocket renderers. Pure; any thread. */
#include "ganglion/json_bytes.h"

#include <stdlib.h>

#include "ganglion/base64.h"

static bool is_text(gn_bytes_t b)
{
    if (!b.ptr) return true;
    json_t *s = json_stringn((const char *)b.ptr, b.len); /* NULL unless UTF-8 */
    json_decref(s);
    return s != NULL;
}

bool gn_record_is_text(const gn_record_t *rec)
{
    if (!is_text(rec->key) || !is_text(rec->value)) return false;
    gn_bytes_t raw = rec->headers;
    gn_record_header_t h;
    while (gn_record_header_next(&raw, &h) == 1)
        if (!is_text(h.key) || !is_text(h.value)) return false;
    return true;
}

json_t *gn_json_bytes(gn_bytes_t b, bool base64)
{
    if (!b.ptr) return json_null();
    if (!base64) return json_stringn((const char *)b.ptr, b.len);
    char *tmp = malloc(GN_BASE64_ENCODED_SIZE(b.len));
    if (!tmp) return NULL;
    size_t n = gn_base64_encode(b.ptr, b.len, tmp);
    json_t *s = json_stringn(tmp, n);
    free(tmp);
    return s;
}
