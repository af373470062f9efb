/* SPDX-License-Identifier: Apache-2.0 */
/* Confluent REST Proxy v2: topics, partitions, offsets, brokers, and produce to a
 * topic or a partition in the json and binary embedded formats, with the Proxy's
 * JSON shapes and error codes (40401 topic, 40402 partition, 422xx bad input, 40601
 * not acceptable). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/partition.h"
#include "ganglion/topic.h"
#include "http.h"
#include "produce.h"
#include "rest_decode.h"

/* The REST Proxy's content negotiation: v2 JSON, plain JSON or anything. */
static bool accept_ok(http_req_t *req)
{
    const char *a = req->accept;
    if (!a[0] || strstr(a, "*/*") || strstr(a, "application/vnd.kafka.v2+json") ||
        strstr(a, "application/vnd.kafka+json") || strstr(a, "application/json") ||
        strstr(a, "application/*"))
        return true;
    http_respond_error(req, 406, 40601, "Not acceptable: %s", a);
    return false;
}

static bool parse_partition(const char *s, int32_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < 0 || v > INT32_MAX) return false;
    *out = (int32_t)v;
    return true;
}

static void topic_not_found(http_req_t *req, const char *topic)
{
    http_respond_error(req, 404, 40401, "Topic %s not found.", topic);
}

static void partition_not_found(http_req_t *req)
{
    http_respond_error(req, 404, 40402, "Partition not found.");
}

typedef struct topic_names {
    http_req_t *req;
    json_t *arr;
} topic_names_t;

/* The topics the client may DESCRIBE, as Kafka's Metadata lists them. */
static void add_name(void *arg, const gn_topic_info_t *info)
{
    topic_names_t *t = arg;
    if (!info->internal &&
        http_allowed(t->req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, info->name))
        json_array_append_new(t->arr, json_string(info->name));
}

int http_handle_topics_list(http_req_t *req)
{
    if (!accept_ok(req)) return 0;
    topic_names_t t = {req, json_array()};
    gn_topic_list(req->srv->broker, add_name, &t);
    http_respond_json(req, 200, t.arr);
    return 0;
}

static int32_t node_id(http_server_t *srv)
{
    const gn_broker_config_t *cfg = gn_broker_config(srv->broker);
    return cfg ? cfg->node_id : 0;
}

static json_t *partition_json(http_server_t *srv, int32_t p)
{
    int32_t id = node_id(srv);
    return json_pack("{s:i,s:i,s:[{s:i,s:b,s:b}]}", "partition", p, "leader", id, "replicas",
                     "broker", id, "leader", 1, "in_sync", 1);
}

int http_handle_topic_get(http_req_t *req)
{
    if (!accept_ok(req)) return 0;
    const char *topic = req->params[0];
    gn_topic_info_t info;
    if (gn_topic_describe(req->srv->broker, topic, &info) < 0) {
        topic_not_found(req, topic);
        return 0;
    }
    json_t *configs = json_object();
    for (size_t i = 0; i < info.overrides_count; i++)
        if (info.overrides[i].value)
            json_object_set_new(configs, info.overrides[i].name,
                                json_string(info.overrides[i].value));
    json_t *parts = json_array();
    for (int32_t p = 0; p < info.partitions; p++)
        json_array_append_new(parts, partition_json(req->srv, p));
    http_respond_json(
        req, 200,
        json_pack("{s:s,s:o,s:o}", "name", info.name, "configs", configs, "partitions", parts));
    return 0;
}

int http_handle_partitions_list(http_req_t *req)
{
    if (!accept_ok(req)) return 0;
    gn_topic_info_t info;
    if (gn_topic_describe(req->srv->broker, req->params[0], &info) < 0) {
        topic_not_found(req, req->params[0]);
        return 0;
    }
    json_t *parts = json_array();
    for (int32_t p = 0; p < info.partitions; p++)
        json_array_append_new(parts, partition_json(req->srv, p));
    http_respond_json(req, 200, parts);
    return 0;
}

/* The partition named by params[0] and params[1], or an answer already sent. */
static gn_partition_t *lookup_partition(http_req_t *req, int32_t *p)
{
    gn_topic_info_t info;
    if (gn_topic_describe(req->srv->broker, req->params[0], &info) < 0) {
        topic_not_found(req, req->params[0]);
        return NULL;
    }
    gn_partition_t *part = NULL;
    if (!parse_partition(req->params[1], p) ||
        !(part = gn_partition_get(req->srv->broker, req->params[0], *p)))
        partition_not_found(req);
    return part;
}

int http_handle_partition_get(http_req_t *req)
{
    if (!accept_ok(req)) return 0;
    int32_t p;
    if (!lookup_partition(req, &p)) return 0;
    http_respond_json(req, 200, partition_json(req->srv, p));
    return 0;
}

int http_handle_partition_offsets(http_req_t *req)
{
    if (!accept_ok(req)) return 0;
    int32_t p;
    gn_partition_t *part = lookup_partition(req, &p);
    if (!part) return 0;
    http_respond_json(req, 200,
                      json_pack("{s:I,s:I}", "beginning_offset",
                                (json_int_t)gn_partition_log_start_offset(part), "end_offset",
                                (json_int_t)gn_partition_high_watermark(part)));
    return 0;
}

int http_handle_brokers(http_req_t *req)
{
    if (!accept_ok(req)) return 0;
    http_respond_json(req, 200, json_pack("{s:[i]}", "brokers", (int)node_id(req->srv)));
    return 0;
}

static void on_v2_produced(http_req_t *req, const http_produce_job_t *job)
{
    json_t *offsets = json_array();
    for (size_t i = 0; i < job->count; i++) {
        const http_produce_result_t *r = &job->results[i];
        if (r->error)
            json_array_append_new(offsets, json_pack("{s:i,s:I,s:i,s:s}", "partition", r->partition,
                                                     "offset", (json_int_t)-1, "error_code",
                                                     http_produce_error_code(r->error), "error",
                                                     gn_strerror(r->error)));
        else
            json_array_append_new(offsets, json_pack("{s:i,s:I,s:n,s:n}", "partition", r->partition,
                                                     "offset", (json_int_t)r->offset, "error_code",
                                                     "error"));
    }
    http_respond_json(
        req, 200,
        json_pack("{s:n,s:n,s:o}", "key_schema_id", "value_schema_id", "offsets", offsets));
}

static int produce_v2(http_req_t *req, int32_t only_partition)
{
    if (!accept_ok(req)) return 0;
    const char *topic = req->params[0];
    if (gn_topic_name_validate(topic, strlen(topic)) < 0) {
        http_respond_error(req, 422, 42208, "Invalid topic name '%s'", topic);
        return 0;
    }
    http_rest_format_t fmt =
        http_media_type_in(req->content_type, "application/vnd.kafka.binary.v2+json")
            ? HTTP_REST_BINARY
            : HTTP_REST_JSON;
    http_rest_produce_t body;
    char err[256];
    int code = http_rest_decode_produce((const char *)req->body, req->body_len, fmt, &body, err,
                                        sizeof err);
    if (code) {
        http_respond_error(req, code / 100, code, "%s", err);
        return 0;
    }
    int rc =
        http_produce_start(req, topic, only_partition, body.records, body.count, on_v2_produced);
    http_rest_produce_free(&body);
    if (rc == GN_EUNKNOWN_TOPIC)
        topic_not_found(req, topic);
    else if (rc == HTTP_EPARTITION)
        partition_not_found(req);
    else if (rc < 0)
        http_respond_gn_error(req, rc);
    return 0;
}

int http_handle_topic_produce(http_req_t *req)
{
    return produce_v2(req, -1);
}

int http_handle_partition_produce(http_req_t *req)
{
    int32_t p;
    if (!parse_partition(req->params[1], &p)) {
        partition_not_found(req);
        return 0;
    }
    return produce_v2(req, p);
}
