/* SPDX-License-Identifier: Apache-2.0 */
/* REST Proxy v2 consumer endpoints: /consumers/{g} (create), instances/{i}
 * (delete), subscription, assignments, positions (+ beginning, end), records and
 * offsets, with the Proxy's shapes, content negotiation and error codes (40403
 * instance not found, 40902 instance exists, 40901/40903 conflicting state, 40601
 * format mismatch, 42204 invalid configuration). Changes that define an instance
 * answer once saved in __rest_consumers. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"

/* ---- helpers ------------------------------------------------------------------- */

static http_consumer_t *get_consumer(http_req_t *req)
{
    http_consumer_t *c = http__consumer_find(req->srv, req->params[0], req->params[1]);
    if (!c) {
        http_respond_error(req, 404, 40403, "Consumer instance not found.");
        return NULL;
    }
    c->last_used_ms = uv_hrtime() / 1000000u;
    return c;
}

/* The body as a JSON object; *root NULL for an empty body. false: answered (422). */
static bool body_json(http_req_t *req, json_t **root)
{
    *root = NULL;
    size_t len = req->body_len;
    while (len && (req->body[len - 1] == ' ' || req->body[len - 1] == '\n' ||
                   req->body[len - 1] == '\r' || req->body[len - 1] == '\t'))
        len--;
    if (len == 0) return true;
    if (!http_media_type_in(req->content_type, "application/json|application/vnd.kafka.v2+json|"
                                               "application/vnd.kafka+json")) {
        http_respond_error(req, 415, 41501, "Unsupported Content-Type '%s'", req->content_type);
        return false;
    }
    json_error_t err;
    *root = json_loadb((const char *)req->body, len, 0, &err);
    if (!*root || !json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        http_respond_error(req, 422, 42201, "Malformed JSON: %s", err.text);
        return false;
    }
    return true;
}

/* A setting given as a JSON string, number or boolean; "" when absent. */
static const char *setting(json_t *root, const char *key, char *buf, size_t cap)
{
    json_t *v = json_object_get(root, key);
    buf[0] = '\0';
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    return buf;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > HTTP_CONSUMER_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

typedef struct save_ctx {
    http_req_t *req;
    int status;
    json_t *body;             /* NULL: no content */
    http_consumer_t *created; /* a new instance: dropped when it cannot be saved */
} save_ctx_t;

/* A new instance that could not be saved (e.g. 503 while __rest_consumers has no leader
 * yet) is not kept: the client's retry creates it again instead of getting 409. */
static void drop_unsaved(http_consumer_t *c, int status)
{
    if (!c) return;
    if (status < 0) http__consumer_delete(c, false);
    http__consumer_unref(c);
}

static void on_saved(void *arg, int status)
{
    save_ctx_t *ctx = arg;
    http_req_t *req = ctx->req;
    drop_unsaved(ctx->created, status);
    if (http_req_async_done(req)) {
        if (status < 0) {
            json_decref(ctx->body);
            http_respond_gn_error(req, status);
        } else if (ctx->body) {
            http_respond_json(req, ctx->status, ctx->body);
        } else {
            http_respond(req, ctx->status, NULL, NULL, 0);
        }
    } else {
        json_decref(ctx->body);
    }
    free(ctx);
}

/* Writes the instance to __rest_consumers, then answers status with body (stolen). */
static void save_then_respond(http_consumer_t *c, http_req_t *req, int status, json_t *body,
                              bool created)
{
    save_ctx_t *ctx = malloc(sizeof *ctx);
    int rc = GN_ENOMEM;
    if (created) c->refs++;
    if (ctx) {
        *ctx = (save_ctx_t){req, status, body, created ? c : NULL};
        req->async++;
        rc = http__consumer_save(c, on_saved, ctx);
        if (rc == 0) return;
        req->async--;
        free(ctx);
    }
    if (created) drop_unsaved(c, rc);
    json_decref(body);
    http_respond_gn_error(req, rc);
}

/* {topic, partition} entries of arr; false: answered (404/422). */
static bool parse_tps(http_req_t *req, json_t *arr, gn_topic_partition_t *tps, size_t *n,
                      bool must_exist)
{
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) > HTTP_CONSUMER_MAX_PARTS) {
        http_respond_error(req, 422, 42204, "Expected an array of at most %d partitions",
                           HTTP_CONSUMER_MAX_PARTS);
        return false;
    }
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *t = json_string_value(json_object_get(it, "topic"));
        json_t *p = json_object_get(it, "partition");
        if (!t || !json_is_integer(p) || json_integer_value(p) < 0 ||
            json_integer_value(p) > INT32_MAX) {
            http_respond_error(req, 422, 42204,
                               "partitions[%zu] needs a topic and a non-negative partition", i);
            return false;
        }
        if (must_exist) {
            gn_topic_info_t info;
            if (gn_topic_describe(req->srv->broker, t, &info) < 0) {
                http_respond_error(req, 404, 40401, "Topic %s not found.", t);
                return false;
            }
            if (json_integer_value(p) >= info.partitions) {
                http_respond_error(req, 404, 40402, "Partition not found.");
                return false;
            }
        }
        tps[(*n)++] = (gn_topic_partition_t){t, (int32_t)json_integer_value(p)};
    }
    return true;
}

static json_t *tps_json(const http_consumer_t *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < c->nparts; i++)
        json_array_append_new(arr, json_pack("{s:s,s:i}", "topic", c->parts[i].topic, "partition",
                                             (int)c->parts[i].partition));
    return arr;
}

static bool subscribed(const http_consumer_t *c)
{
    return c->ntopics || c->pattern || c->member || c->join_pending;
}

/* ---- instances ------------------------------------------------------------------ */

int http_handle_consumer_create(http_req_t *req)
{
    const char *group = req->params[0];
    json_t *root;
    if (!body_json(req, &root)) return 0;
    char name[HTTP_CONSUMER_NAME_MAX + 1], fmt[32], reset[32], commit[16], minb[32], tmo[32];
    setting(root, "name", name, sizeof name);
    setting(root, "format", fmt, sizeof fmt);
    setting(root, "auto.offset.reset", reset, sizeof reset);
    setting(root, "auto.commit.enable", commit, sizeof commit);
    setting(root, "fetch.min.bytes", minb, sizeof minb);
    setting(root, "consumer.request.timeout.ms", tmo, sizeof tmo);
    json_decref(root);
    if (strlen(group) > 249) {
        http_respond_error(req, 422, 42204, "Group id longer than 249 characters");
        return 0;
    }
    if (!name[0]) {
        static unsigned seq;
        char gen[64];
        snprintf(gen, sizeof gen, "rest-consumer-%llx-%x", (unsigned long long)uv_hrtime(), ++seq);
        memcpy(name, gen, strlen(gen) + 1);
    }
    if (!name_ok(name)) {
        http_respond_error(req, 422, 42204,
                           "Invalid consumer name '%s': 1..%d characters of [a-zA-Z0-9._-]", name,
                           HTTP_CONSUMER_NAME_MAX);
        return 0;
    }
    http_rest_format_t format = HTTP_REST_BINARY;
    if (strcmp(fmt, "json") == 0)
        format = HTTP_REST_JSON;
    else if (fmt[0] && strcmp(fmt, "binary") != 0) {
        http_respond_error(req, 422, 42204,
                           "Unsupported format '%s': json and binary (avro, jsonschema and "
                           "protobuf need a schema registry)",
                           fmt);
        return 0;
    }
    bool earliest = false;
    if (strcmp(reset, "earliest") == 0 || strcmp(reset, "smallest") == 0)
        earliest = true;
    else if (reset[0] && strcmp(reset, "latest") != 0 && strcmp(reset, "largest") != 0) {
        http_respond_error(req, 422, 42204, "auto.offset.reset must be earliest or latest");
        return 0;
    }
    bool auto_commit = true;
    if (strcmp(commit, "false") == 0)
        auto_commit = false;
    else if (commit[0] && strcmp(commit, "true") != 0) {
        http_respond_error(req, 422, 42204, "auto.commit.enable must be true or false");
        return 0;
    }
    long min_bytes = -1, timeout = 1000;
    if ((minb[0] && !parse_long(minb, -1, HTTP_CONSUMER_MAX_BYTES, &min_bytes)) ||
        (tmo[0] && !parse_long(tmo, 0, HTTP_CONSUMER_MAX_TIMEOUT, &timeout))) {
        http_respond_error(req, 422, 42204,
                           "fetch.min.bytes and consumer.request.timeout.ms must be integers in "
                           "range");
        return 0;
    }
    if (http__consumer_find(req->srv, group, name)) {
        http_respond_error(req, 409, 40902,
                           "Consumer with specified consumer ID already exists in the specified "
                           "consumer group.");
        return 0;
    }
    http_consumer_t *c = http__consumer_new(req->srv, group, name);
    if (!c) {
        http_respond_error(req, 429, 42902, "Too many consumer instances (at most %d)",
                           HTTP_CONSUMER_MAX);
        return 0;
    }
    c->format = format;
    c->earliest = earliest;
    c->auto_commit = auto_commit;
    c->fetch_min_bytes = (int32_t)min_bytes;
    c->request_timeout_ms = (int32_t)timeout;

    char host[300], uri[1024];
    http_req_header(req, WSI_TOKEN_HOST, host, 256);
    if (!host[0]) http_req_header(req, WSI_TOKEN_HTTP_COLON_AUTHORITY, host, 256);
    if (!host[0])
        snprintf(host, sizeof host, "%.255s:%d",
                 req->srv->adv_host[0] ? req->srv->adv_host : req->srv->host, req->srv->adv_port);
    snprintf(uri, sizeof uri, "%s://%s/consumers/%s/instances/%s", http_req_scheme(req), host,
             group, name);
    save_then_respond(c, req, 200, json_pack("{s:s,s:s}", "instance_id", name, "base_uri", uri),
                      true);
    return 0;
}

int http_handle_consumer_delete(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    http__consumer_delete(c, true);
    http_respond(req, 204, NULL, NULL, 0);
    return 0;
}

/* ---- subscription ----------------------------------------------------------------- */

int http_handle_subscription_set(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *root;
    if (!body_json(req, &root)) return 0;
    json_t *topics = json_object_get(root, "topics");
    const char *pattern = json_string_value(json_object_get(root, "topic_pattern"));
    int rc = 0;
    if ((topics != NULL) == (pattern != NULL) || (topics && !json_is_array(topics)) ||
        (topics &&
         (json_array_size(topics) == 0 || json_array_size(topics) > HTTP_CONSUMER_MAX_TOPICS))) {
        http_respond_error(req, 422, 42204, "Give either topics (1..%d names) or topic_pattern",
                           HTTP_CONSUMER_MAX_TOPICS);
        goto out;
    }
    if (c->manual) {
        http_respond_error(req, 409, 40903,
                           "Subscription to topics, partitions and pattern are mutually "
                           "exclusive.");
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(topics, i, it)
    {
        const char *t = json_string_value(it);
        if (!t || gn_topic_name_validate(t, strlen(t)) < 0) {
            http_respond_error(req, 422, 42204, "Invalid topic name in topics[%zu]", i);
            goto out;
        }
        if (!http_authorize(req, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, t)) goto out;
    }
    /* a pattern also matches topics created later: READ on every topic is needed */
    if (pattern && !gn_acl_allowed_all(gn_broker_acl(req->srv->broker), req->principal,
                                       req->client_host, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC)) {
        gn_acl_log_refusal(gn_broker_acl(req->srv->broker), req->principal, req->client_host,
                           GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, pattern);
        http_respond_error(req, 403, 40301,
                           "Not authorized: a topic_pattern needs READ on every topic (%s)",
                           req->principal);
        goto out;
    }
    http__consumer_unsubscribe(c);
    if (pattern) {
        c->pattern = strdup(pattern);
        if (!c->pattern || http__consumer_resolve_pattern(c) < 0) {
            http__consumer_unsubscribe(c);
            http_respond_error(req, 422, 42204, "Invalid topic_pattern '%s'", pattern);
            goto out;
        }
    } else {
        c->topics = calloc(json_array_size(topics), sizeof(char *));
        json_array_foreach(topics, i, it)
        {
            if (c->topics && (c->topics[c->ntopics] = strdup(json_string_value(it)))) c->ntopics++;
        }
    }
    rc = http__consumer_subscribe(c);
    if (rc < 0) {
        http__consumer_unsubscribe(c);
        http_respond_gn_error(req, rc);
        goto out;
    }
    save_then_respond(c, req, 204, NULL, false);
out:
    json_decref(root);
    return 0;
}

int http_handle_subscription_get(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < c->ntopics; i++)
        json_array_append_new(arr, json_string(c->topics[i]));
    json_t *j = json_pack("{s:o}", "topics", arr);
    if (c->pattern) json_object_set_new(j, "topic_pattern", json_string(c->pattern));
    http_respond_json(req, 200, j);
    return 0;
}

int http_handle_subscription_delete(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    if (c->manual) { /* unsubscribe() also clears a manual assignment in Kafka */
        http__consumer_unsubscribe(c);
    } else {
        if (c->auto_commit) {
            /* commit what was consumed before the partitions go */
            gn_group_offset_t offs[64];
            size_t n = 0;
            for (size_t i = 0; i < c->nparts && n < 64; i++)
                if (c->parts[i].consumed >= 0)
                    offs[n++] = (gn_group_offset_t){.topic = c->parts[i].topic,
                                                    .partition = c->parts[i].partition,
                                                    .offset = c->parts[i].consumed,
                                                    .leader_epoch = -1};
            if (n) http__consumer_commit(c, offs, n, NULL, NULL);
        }
        http__consumer_unsubscribe(c);
    }
    save_then_respond(c, req, 204, NULL, false);
    return 0;
}

/* ---- assignments -------------------------------------------------------------------- */

/* READ on each assigned partition's topic (403 at the first that is not). */
static bool topics_readable(http_req_t *req, const gn_topic_partition_t *tps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!http_authorize(req, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, tps[i].topic)) return false;
    return true;
}

int http_handle_assignments_set(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *root;
    if (!body_json(req, &root)) return 0;
    gn_topic_partition_t *tps = calloc(HTTP_CONSUMER_MAX_PARTS, sizeof *tps);
    size_t n = 0;
    if (!tps) {
        http_respond_gn_error(req, GN_ENOMEM);
    } else if (subscribed(c)) {
        http_respond_error(req, 409, 40903,
                           "Subscription to topics, partitions and pattern are mutually "
                           "exclusive.");
    } else if (parse_tps(req, json_object_get(root, "partitions"), tps, &n, true) &&
               topics_readable(req, tps, n)) {
        http__consumer_assign(c, tps, n);
        save_then_respond(c, req, 204, NULL, false);
    }
    free(tps);
    json_decref(root);
    return 0;
}

int http_handle_assignments_get(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    http_respond_json(req, 200, json_pack("{s:o}", "partitions", tps_json(c)));
    return 0;
}

/* ---- positions -------------------------------------------------------------------- */

static void not_assigned(http_req_t *req, const char *topic, int32_t p)
{
    http_respond_error(req, 409, 40903, "Partition %s-%d is not assigned to this consumer instance",
                       topic, (int)p);
}

int http_handle_positions_set(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *root;
    if (!body_json(req, &root)) return 0;
    json_t *arr = json_object_get(root, "offsets");
    size_t i;
    json_t *it;
    if (!json_is_array(arr)) {
        http_respond_error(req, 422, 42204, "Expected {\"offsets\": [...]}");
        goto out;
    }
    /* All or nothing: check every entry first. */
    json_array_foreach(arr, i, it)
    {
        const char *t = json_string_value(json_object_get(it, "topic"));
        json_t *p = json_object_get(it, "partition"), *o = json_object_get(it, "offset");
        if (!t || !json_is_integer(p) || !json_is_integer(o) || json_integer_value(o) < 0) {
            http_respond_error(req, 422, 42204, "offsets[%zu] needs topic, partition and offset",
                               i);
            goto out;
        }
        if (!http__consumer_part(c, t, (int32_t)json_integer_value(p))) {
            not_assigned(req, t, (int32_t)json_integer_value(p));
            goto out;
        }
    }
    json_array_foreach(arr, i, it)
    {
        http_cpart_t *cp =
            http__consumer_part(c, json_string_value(json_object_get(it, "topic")),
                                (int32_t)json_integer_value(json_object_get(it, "partition")));
        gn_watch_cancel(&cp->watch);
        cp->position = json_integer_value(json_object_get(it, "offset"));
    }
    http_respond(req, 204, NULL, NULL, 0);
out:
    json_decref(root);
    return 0;
}

static int positions_edge(http_req_t *req, int which)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *root;
    if (!body_json(req, &root)) return 0;
    gn_topic_partition_t *tps = calloc(HTTP_CONSUMER_MAX_PARTS, sizeof *tps);
    size_t n = 0;
    if (!tps) {
        http_respond_gn_error(req, GN_ENOMEM);
        goto out;
    }
    if (!parse_tps(req, json_object_get(root, "partitions"), tps, &n, false)) goto out;
    for (size_t i = 0; i < n; i++)
        if (!http__consumer_part(c, tps[i].topic, tps[i].partition)) {
            not_assigned(req, tps[i].topic, tps[i].partition);
            goto out;
        }
    for (size_t i = 0; i < n; i++) {
        http_cpart_t *cp = http__consumer_part(c, tps[i].topic, tps[i].partition);
        gn_watch_cancel(&cp->watch);
        cp->position = http__consumer_reset_offset(c, cp->topic, cp->partition, which);
    }
    http_respond(req, 204, NULL, NULL, 0);
out:
    free(tps);
    json_decref(root);
    return 0;
}

int http_handle_positions_beginning(http_req_t *req)
{
    return positions_edge(req, 1);
}

int http_handle_positions_end(http_req_t *req)
{
    return positions_edge(req, 2);
}

/* ---- records ----------------------------------------------------------------------- */

int http_handle_consumer_records(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    const char *a = req->accept;
    bool want_json = strstr(a, "application/vnd.kafka.json.v2+json") != NULL;
    bool want_bin = strstr(a, "application/vnd.kafka.binary.v2+json") != NULL;
    bool generic = !a[0] || strstr(a, "*/*") || strstr(a, "application/json") ||
                   strstr(a, "application/vnd.kafka.v2+json") ||
                   strstr(a, "application/vnd.kafka+json");
    if ((c->format == HTTP_REST_JSON && !want_json && (want_bin || !generic)) ||
        (c->format == HTTP_REST_BINARY && !want_bin && (want_json || !generic))) {
        http_respond_error(req, 406, 40601,
                           "The requested embedded data format does not match the deserializer "
                           "for this consumer instance (%s)",
                           c->format == HTTP_REST_JSON ? "json" : "binary");
        return 0;
    }
    char buf[32];
    long timeout = c->request_timeout_ms, max_bytes = HTTP_CONSUMER_MAX_BYTES;
    if (http_req_query(req, "timeout", buf, sizeof buf) &&
        !parse_long(buf, 0, HTTP_CONSUMER_MAX_TIMEOUT, &timeout)) {
        http_respond_error(req, 422, 42204, "timeout must be 0..%d ms", HTTP_CONSUMER_MAX_TIMEOUT);
        return 0;
    }
    if (http_req_query(req, "max_bytes", buf, sizeof buf) &&
        !parse_long(buf, 1, HTTP_CONSUMER_MAX_BYTES, &max_bytes)) {
        http_respond_error(req, 422, 42204, "max_bytes must be 1..%ld", HTTP_CONSUMER_MAX_BYTES);
        return 0;
    }
    int rc = http__consumer_poll_start(c, req, timeout, max_bytes);
    if (rc < 0) http_respond_gn_error(req, rc);
    return 0;
}

/* ---- offsets ----------------------------------------------------------------------- */

static void on_committed(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    http_req_t *req = arg;
    if (!http_req_async_done(req)) return;
    for (size_t i = 0; status == 0 && i < count; i++)
        if (results[i].error) status = results[i].error;
    if (status < 0)
        http_respond_gn_error(req, status);
    else
        http_respond(req, 200, NULL, NULL, 0);
}

int http_handle_offsets_commit(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *root;
    if (!body_json(req, &root)) return 0;
    gn_group_offset_t *offs = calloc(HTTP_CONSUMER_MAX_PARTS, sizeof *offs);
    size_t n = 0;
    if (!offs) {
        http_respond_gn_error(req, GN_ENOMEM);
        goto out;
    }
    json_t *arr = json_object_get(root, "offsets");
    if (root && !json_is_array(arr)) {
        http_respond_error(req, 422, 42204, "Expected {\"offsets\": [...]} or an empty body");
        goto out;
    }
    if (arr) {
        size_t i;
        json_t *it;
        json_array_foreach(arr, i, it)
        {
            const char *t = json_string_value(json_object_get(it, "topic"));
            json_t *p = json_object_get(it, "partition"), *o = json_object_get(it, "offset");
            if (!t || !json_is_integer(p) || !json_is_integer(o) || json_integer_value(o) < 0 ||
                n == HTTP_CONSUMER_MAX_PARTS) {
                http_respond_error(req, 422, 42204,
                                   "offsets[%zu] needs topic, partition and offset", i);
                goto out;
            }
            /* The Proxy commits offset + 1: the given offset is the last one processed. */
            offs[n++] =
                (gn_group_offset_t){.topic = t,
                                    .partition = (int32_t)json_integer_value(p),
                                    .offset = json_integer_value(o) + 1,
                                    .leader_epoch = -1,
                                    .metadata = json_string_value(json_object_get(it, "metadata"))};
        }
    } else { /* empty body: everything consumed so far */
        for (size_t i = 0; i < c->nparts; i++)
            if (c->parts[i].consumed >= 0)
                offs[n++] = (gn_group_offset_t){.topic = c->parts[i].topic,
                                                .partition = c->parts[i].partition,
                                                .offset = c->parts[i].consumed,
                                                .leader_epoch = -1};
    }
    if (n == 0) {
        http_respond(req, 200, NULL, NULL, 0);
        goto out;
    }
    req->async++;
    int rc = http__consumer_commit(c, offs, n, on_committed, req);
    if (rc < 0) {
        req->async--;
        http_respond_gn_error(req, rc);
    }
out:
    free(offs);
    json_decref(root);
    return 0;
}

static void on_fetched(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    http_req_t *req = arg;
    if (!http_req_async_done(req)) return;
    if (status < 0) {
        http_respond_gn_error(req, status);
        return;
    }
    json_t *arr = json_array();
    for (size_t g = 0; g < count; g++)
        for (size_t i = 0; i < groups[g].count; i++) {
            const gn_group_offset_t *o = &groups[g].offsets[i];
            if (o->offset < 0 || o->error) continue;
            json_array_append_new(arr,
                                  json_pack("{s:s,s:i,s:I,s:s}", "topic", o->topic, "partition",
                                            (int)o->partition, "offset", (json_int_t)o->offset,
                                            "metadata", o->metadata ? o->metadata : ""));
        }
    http_respond_json(req, 200, json_pack("{s:o}", "offsets", arr));
}

int http_handle_offsets_get(http_req_t *req)
{
    http_consumer_t *c = get_consumer(req);
    if (!c) return 0;
    json_t *root;
    if (!body_json(req, &root)) return 0;
    gn_topic_partition_t *tps = calloc(HTTP_CONSUMER_MAX_PARTS, sizeof *tps);
    gn_group_topic_partitions_t *tp = calloc(HTTP_CONSUMER_MAX_PARTS, sizeof *tp);
    int32_t *ids = calloc(HTTP_CONSUMER_MAX_PARTS, sizeof *ids);
    size_t n = 0;
    if (!tps || !tp || !ids) {
        http_respond_gn_error(req, GN_ENOMEM);
        goto out;
    }
    if (root) {
        if (!parse_tps(req, json_object_get(root, "partitions"), tps, &n, false)) goto out;
    } else {
        for (size_t i = 0; i < c->nparts; i++)
            tps[n++] = (gn_topic_partition_t){c->parts[i].topic, c->parts[i].partition};
    }
    if (n == 0) {
        http_respond_json(req, 200, json_pack("{s:[]}", "offsets"));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ids[i] = tps[i].partition;
        tp[i] = (gn_group_topic_partitions_t){tps[i].topic, &ids[i], 1};
    }
    gn_group_fetch_group_t fg = {c->group, tp, n};
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->srv->broker);
    req->async++;
    int rc = coord ? gn_group_fetch_offsets_routed(coord, &fg, on_fetched, req)
                   : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc < 0) {
        req->async--;
        http_respond_gn_error(req, rc);
    }
out:
    free(tps);
    free(tp);
    free(ids);
    json_decref(root);
    return 0;
}
