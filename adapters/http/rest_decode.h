/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding REST Proxy v2 produce bodies ({"records": [{"key", "value", "partition"}]}
 * in the json or binary embedded format) and strict base64. Pure functions over
 * caller buffers; fuzzed by tests/fuzz/fuzz_http_json.c. Any thread. */
#ifndef GN_HTTP_REST_DECODE_H
#define GN_HTTP_REST_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ganglion/bytes.h"

#define HTTP_REST_MAX_RECORDS 10000

typedef enum http_rest_format {
    HTTP_REST_JSON = 0,   /* application/vnd.kafka.json.v2+json: any JSON value */
    HTTP_REST_BINARY = 1, /* application/vnd.kafka.binary.v2+json: base64 strings */
} http_rest_format_t;

typedef struct http_rest_record {
    gn_bytes_t key;    /* ptr NULL: null key */
    gn_bytes_t value;  /* ptr NULL: null value */
    int32_t partition; /* -1: not given */
} http_rest_record_t;

typedef struct http_rest_produce {
    http_rest_record_t *records;
    size_t count;
    uint8_t *arena; /* owns every key and value */
    size_t arena_len, arena_cap;
} http_rest_produce_t;

/* 0, or a REST Proxy error code (42201 malformed JSON, 42205 invalid data such as bad
 * base64 or a wrong type, 42206 too many records) with a sentence in err. */
int http_rest_decode_produce(const char *body, size_t len, http_rest_format_t fmt,
                             http_rest_produce_t *out, char *err, size_t err_cap);
void http_rest_produce_free(http_rest_produce_t *p);

#endif
