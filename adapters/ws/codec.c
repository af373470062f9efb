/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648, strict) and the JSON form of a record sent to browsers: UTF-8
 * text as strings, otherwise base64 with "encoding": "base64". Pure; any thread. */
#include <stdlib.h>
#include <string.h>

#include "ws.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long ws_base64_decode(const char *in, size_t len, uint8_t *out)
{
    while (len && in[len - 1] == '=')
        len--;
    if (len % 4 == 1) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits && (acc & ((1u << bits) - 1))) return -1;
    return (long)o;
}

size_t ws_base64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

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
    size_t n = ws_base64_encode(b.ptr, b.len, tmp);
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
                    ? ws_base64_encode(h.key.ptr, h.key.len, name)
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
