/* SPDX-License-Identifier: Apache-2.0 */
/* Decodes one client message of the WebSocket JSON protocol (subscribe, unsubscribe,
 * produce, commit, ping) into a ws_msg_t, checking every field's type and range;
 * binary keys/values arrive base64 with "encoding": "base64". Pure; fuzzed by
 * tests/fuzz/fuzz_http_json.c. Any thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/base64.h"
#include "ws.h"

#define FAIL(c, ...)                                                                               \
    do {                                                                                           \
        *code = (c);                                                                               \
        snprintf(err, err_cap, __VA_ARGS__);                                                       \
        goto fail;                                                                                 \
    } while (0)

static const struct {
    const char *name;
    ws_msg_type_t type;
} types[] = {
    {"subscribe", WS_MSG_SUBSCRIBE}, {"unsubscribe", WS_MSG_UNSUBSCRIBE},
    {"produce", WS_MSG_PRODUCE},     {"commit", WS_MSG_COMMIT},
    {"ping", WS_MSG_PING},
};

/* Appends a string field's bytes (decoded when base64) to the arena; the arena is
 * sized up front so views stay valid. */
static int put_bytes(json_t *v, bool base64, uint8_t *arena, size_t *used, gn_bytes_t *out)
{
    if (!v || json_is_null(v)) {
        *out = GN_BYTES_NULL;
        return 0;
    }
    if (!json_is_string(v)) return -1;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    uint8_t *dst = arena + *used;
    if (base64) {
        long n = gn_base64_decode(s, len, dst);
        if (n < 0) return -1;
        len = (size_t)n;
    } else {
        memcpy(dst, s, len);
    }
    *out = (gn_bytes_t){dst, len};
    *used += len;
    return 0;
}

static size_t strlen_or0(json_t *v)
{
    return json_is_string(v) ? json_string_length(v) : 0;
}

int ws_msg_decode(const char *text, size_t len, ws_msg_t *msg, const char **code, char *err,
                  size_t err_cap)
{
    memset(msg, 0, sizeof *msg);
    msg->partition = -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        *code = "bad_json";
        snprintf(err, err_cap, "Malformed JSON: %s (column %d)", jerr.text, jerr.column);
        return -1;
    }
    msg->root = root;
    if (!json_is_object(root)) FAIL("invalid_request", "A message is a JSON object");
    msg->id = json_object_get(root, "id");
    json_t *jt = json_object_get(root, "type");
    if (!json_is_string(jt)) FAIL("invalid_request", "\"type\" (a string) is missing");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(json_string_value(jt), types[i].name) == 0) msg->type = types[i].type;
    if (!msg->type) FAIL("unknown_type", "Unknown message type '%.64s'", json_string_value(jt));
    if (msg->type == WS_MSG_PING) return 0;

    json_t *topic = json_object_get(root, "topic");
    if (!json_is_string(topic)) FAIL("invalid_request", "\"topic\" (a string) is missing");
    msg->topic = json_string_value(topic);
    if (gn_topic_name_validate(msg->topic, json_string_length(topic)) < 0)
        FAIL("invalid_topic", "Invalid topic name '%.64s'", msg->topic);
    json_t *group = json_object_get(root, "group");
    if (group && !json_is_null(group)) {
        if (!json_is_string(group) || json_string_length(group) == 0 ||
            json_string_length(group) > 255)
            FAIL("invalid_request", "\"group\" must be a non-empty string");
        msg->group = json_string_value(group);
    }
    json_t *jp = json_object_get(root, "partition");
    if (jp && !json_is_null(jp)) {
        if (!json_is_integer(jp) || json_integer_value(jp) < 0 ||
            json_integer_value(jp) >= WS_MAX_PARTITIONS)
            FAIL("invalid_request", "\"partition\" must be an integer in [0, %d)",
                 WS_MAX_PARTITIONS);
        msg->partition = (int32_t)json_integer_value(jp);
    }

    switch (msg->type) {
    case WS_MSG_SUBSCRIBE: {
        json_t *parts = json_object_get(root, "partitions");
        if (parts && !json_is_null(parts)) {
            if (!json_is_array(parts) || json_array_size(parts) > WS_MAX_PARTITIONS)
                FAIL("invalid_request", "\"partitions\" must be an array of partition numbers");
            size_t i;
            json_t *v;
            json_array_foreach(parts, i, v)
            {
                if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                    json_integer_value(v) >= WS_MAX_PARTITIONS)
                    FAIL("invalid_request", "partitions[%zu] is not a partition number", i);
                msg->partitions[msg->partitions_count++] = (int32_t)json_integer_value(v);
            }
        }
        json_t *from = json_object_get(root, "from");
        msg->from = msg->group ? WS_FROM_COMMITTED : WS_FROM_LATEST;
        if (!from || json_is_null(from)) break;
        if (json_is_string(from) && strcmp(json_string_value(from), "latest") == 0) {
            msg->from = WS_FROM_LATEST;
        } else if (json_is_string(from) && strcmp(json_string_value(from), "earliest") == 0) {
            msg->from = WS_FROM_EARLIEST;
        } else if (json_is_integer(from) && json_integer_value(from) >= 0) {
            msg->from = WS_FROM_OFFSET;
            msg->from_value = json_integer_value(from);
        } else if (json_is_object(from) && json_is_integer(json_object_get(from, "offset")) &&
                   json_integer_value(json_object_get(from, "offset")) >= 0) {
            msg->from = WS_FROM_OFFSET;
            msg->from_value = json_integer_value(json_object_get(from, "offset"));
        } else if (json_is_object(from) && json_is_integer(json_object_get(from, "timestamp"))) {
            msg->from = WS_FROM_TIMESTAMP;
            msg->from_value = json_integer_value(json_object_get(from, "timestamp"));
        } else {
            FAIL("invalid_request", "\"from\" must be \"latest\", \"earliest\", an offset, "
                                    "{\"offset\": n} or {\"timestamp\": ms}");
        }
        break;
    }
    case WS_MSG_UNSUBSCRIBE:
        break;
    case WS_MSG_COMMIT: {
        if (!msg->group) FAIL("invalid_request", "\"group\" is required to commit");
        json_t *off = json_object_get(root, "offset");
        if (msg->partition < 0 || !json_is_integer(off) || json_integer_value(off) < 0)
            FAIL("invalid_request", "commit needs \"partition\" and \"offset\" (the next offset "
                                    "to read)");
        msg->offset = json_integer_value(off);
        break;
    }
    case WS_MSG_PRODUCE: {
        json_t *enc = json_object_get(root, "encoding");
        bool b64 = false;
        if (enc && !json_is_null(enc)) {
            if (!json_is_string(enc) || (strcmp(json_string_value(enc), "base64") != 0 &&
                                         strcmp(json_string_value(enc), "utf8") != 0))
                FAIL("invalid_request", "\"encoding\" must be \"base64\" or \"utf8\"");
            b64 = strcmp(json_string_value(enc), "base64") == 0;
        }
        json_t *key = json_object_get(root, "key"), *value = json_object_get(root, "value");
        json_t *headers = json_object_get(root, "headers");
        if (headers && !json_is_null(headers) && !json_is_object(headers))
            FAIL("invalid_request", "\"headers\" must be an object of strings");
        if (json_object_size(headers) > WS_MAX_HEADERS)
            FAIL("invalid_request", "At most %d headers", WS_MAX_HEADERS);
        size_t need = strlen_or0(key) + strlen_or0(value) + 1;
        const char *hk;
        json_t *hv;
        json_object_foreach(headers, hk, hv) need += strlen(hk) + strlen_or0(hv);
        msg->arena = malloc(need);
        if (!msg->arena) FAIL("internal", "out of memory");
        size_t used = 0;
        if (put_bytes(key, b64, msg->arena, &used, &msg->key) < 0)
            FAIL("invalid_request", "\"key\" must be a %sstring or null", b64 ? "base64 " : "");
        if (put_bytes(value, b64, msg->arena, &used, &msg->value) < 0)
            FAIL("invalid_request", "\"value\" must be a %sstring or null", b64 ? "base64 " : "");
        json_object_foreach(headers, hk, hv)
        {
            gn_record_header_t *h = &msg->headers[msg->headers_count++];
            size_t kl = strlen(hk);
            memcpy(msg->arena + used, hk, kl);
            h->key = (gn_bytes_t){msg->arena + used, kl};
            used += kl;
            if (put_bytes(hv, b64, msg->arena, &used, &h->value) < 0)
                FAIL("invalid_request", "header '%.64s' must be a %sstring or null", hk,
                     b64 ? "base64 " : "");
        }
        break;
    }
    default:
        break;
    }
    return 0;
fail:
    ws_msg_free(msg);
    return -1;
}

void ws_msg_free(ws_msg_t *msg)
{
    json_decref(msg->root);
    free(msg->arena);
    msg->root = NULL;
    msg->arena = NULL;
    msg->id = NULL;
}
