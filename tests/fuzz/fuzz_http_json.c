/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the JSON request decoders of the HTTP side: REST Proxy v2
 * produce bodies (json and binary formats, adapters/http/rest_decode.c) and WebSocket
 * JSON protocol messages (adapters/ws/decode.c). The first byte picks the decoder.
 * Seeds: tests/fuzz/corpus/http_json/. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ganglion/base64.h"
#include "../../adapters/http/rest_decode.h"
#include "../../adapters/ws/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[256];
    switch (data[0] % 3) {
    case 0:
    case 1: {
        http_rest_produce_t p;
        int rc = http_rest_decode_produce(
            text, len, data[0] % 3 ? HTTP_REST_BINARY : HTTP_REST_JSON, &p, err, sizeof err);
        if (rc == 0) {
            for (size_t i = 0; i < p.count; i++) { /* touch every view */
                volatile uint8_t sink = 0;
                if (p.records[i].key.ptr && p.records[i].key.len)
                    sink ^= p.records[i].key.ptr[p.records[i].key.len - 1];
                if (p.records[i].value.ptr && p.records[i].value.len)
                    sink ^= p.records[i].value.ptr[p.records[i].value.len - 1];
                (void)sink;
            }
            http_rest_produce_free(&p);
        }
        break;
    }
    default: {
        ws_msg_t msg;
        const char *code;
        if (ws_msg_decode(text, len, &msg, &code, err, sizeof err) == 0) {
            volatile uint8_t sink = 0;
            if (msg.value.ptr && msg.value.len) sink ^= msg.value.ptr[msg.value.len - 1];
            for (size_t i = 0; i < msg.headers_count; i++)
                if (msg.headers[i].key.len) sink ^= msg.headers[i].key.ptr[0];
            (void)sink;
            ws_msg_free(&msg);
        }
        break;
    }
    }
    /* base64: whatever decodes re-encodes and decodes to the same bytes */
    static uint8_t out[1 << 16], again[1 << 16];
    static char enc[(1 << 16) / 3 * 4 + 8];
    if (len / 4 * 3 + 4 <= sizeof out) {
        long n = gn_base64_decode(text, len, out);
        if (n >= 0 && (size_t)n <= sizeof again &&
            GN_BASE64_ENCODED_SIZE((size_t)n) <= sizeof enc) {
            size_t e = gn_base64_encode(out, (size_t)n, enc);
            long m = gn_base64_decode(enc, e, again);
            if (m != n || memcmp(out, again, (size_t)n) != 0) __builtin_trap();
        }
    }
    return 0;
}
