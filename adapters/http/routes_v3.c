/* SPDX-License-Identifier: Apache-2.0 */
/* Confluent REST Proxy v3 (the API Confluent now recommends): clusters, topics
 * (list, get, create, delete), partitions, configs, and producing one record per
 * request to /topics/{t}/records. One cluster, id "ganglion" until the cluster work
 * exposes its own id. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"
#include "http.h"
#include "produce.h"
#include "rest_decode.h"

#define V3_CLUSTER_ID "ganglion"

static bool cluster_ok(http_req_t *req)
{
    if (strcmp(req->params[0], V3_CLUSTER_ID) == 0) return true;
    http_respond_error(req, 404, 404, "Cluster %s not found.", req->params[0]);
    return false;
}

static json_t *topic_json(const gn_topic_info_t *info)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:i,s:i}", "kind", "KafkaTopic", "cluster_id", V3_CLUSTER_ID,
                     "topic_name", info->name, "is_internal", info->internal, "replication_factor",
                     (int)info->replication_factor, "partitions_count", (int)info->partitions);
}

int http_handle_v3_clusters(http_req_t *req)
{
    json_t *cluster = json_pack("{s:s,s:s}", "kind", "KafkaCluster", "cluster_id", V3_CLUSTER_ID);
    if (req->params[0][0]) {
        if (!cluster_ok(req)) {
            json_decref(cluster);
            return 0;
        }
        http_respond_json(req, 200, cluster);
        return 0;
    }
    http_respond_json(req, 200,
                      json_pack("{s:s,s:[o]}", "kind", "KafkaClusterList", "data", cluster));
    return 0;
}

static void add_topic(void *arg, const gn_topic_info_t *info)
{
    json_array_append_new(arg, topic_json(info));
}

int http_handle_v3_topics_list(http_req_t *req)
{
    if (!cluster_ok(req)) return 0;
    json_t *data = json_array();
    gn_topic_list(req->srv->broker, add_topic, data);
    http_respond_json(req, 200, json_pack("{s:s,s:o}", "kind", "KafkaTopicList", "data", data));
    return 0;
}

static bool describe(http_req_t *req, gn_topic_info_t *info)
{
    if (!cluster_ok(req)) return false;
    if (gn_topic_describe(req->srv->broker, req->params[1], info) == 0) return true;
    http_respond_error(req, 404, 40403, "This server does not host this topic-partition.");
    return false;
}

int http_handle_v3_topic_get(http_req_t *req)
{
    gn_topic_info_t info;
    if (describe(req, &info)) http_respond_json(req, 200, topic_json(&info));
    return 0;
}

int http_handle_v3_partitions(http_req_t *req)
{
    gn_topic_info_t info;
    if (!describe(req, &info)) return 0;
    const gn_broker_config_t *cfg = gn_broker_config(req->srv->broker);
    json_t *data = json_array();
    for (int32_t p = 0; p < info.partitions; p++)
        json_array_append_new(data, json_pack("{s:s,s:s,s:s,s:i,s:{s:i}}", "kind", "KafkaPartition",
                                              "cluster_id", V3_CLUSTER_ID, "topic_name", info.name,
                                              "partition_id", (int)p, "leader", "broker_id",
                                              cfg ? (int)cfg->node_id : 0));
    http_respond_json(req, 200, json_pack("{s:s,s:o}", "kind", "KafkaPartitionList", "data", data));
    return 0;
}

int http_handle_v3_configs(http_req_t *req)
{
    gn_topic_info_t info;
    if (!describe(req, &info)) return 0;
    size_t count;
    const gn_topic_config_key_t *keys = gn_topic_config_keys(&count);
    json_t *data = json_array();
    for (size_t i = 0; i < count; i++) {
        char value[256];
        if (gn_topic_config_get(info.config, keys[i].name, value, sizeof value) < 0) continue;
        bool is_default = true;
        for (size_t o = 0; o < info.overrides_count; o++)
            if (strcmp(info.overrides[o].name, keys[i].name) == 0) is_default = false;
        json_array_append_new(data,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b}", "kind", "KafkaTopicConfig",
                                        "cluster_id", V3_CLUSTER_ID, "topic_name", info.name,
                                        "name", keys[i].name, "value", value, "is_default",
                                        is_default, "is_read_only", 0));
    }
    http_respond_json(req, 200,
                      json_pack("{s:s,s:o}", "kind", "KafkaTopicConfigList", "data", data));
    return 0;
}

static void on_created(void *arg, int status)
{
    http_req_t *req = arg;
    if (!http_req_async_done(req)) return;
    gn_topic_info_t info;
    if (status == 0 && gn_topic_describe(req->srv->broker, req->ctx, &info) == 0)
        http_respond_json(req, 201, topic_json(&info));
    else if (status == GN_ETOPIC_EXISTS)
        http_respond_error(req, 400, 40002, "Topic '%s' already exists.", (char *)req->ctx);
    else
        http_respond_gn_error(req, status ? status : GN_EUNKNOWN_TOPIC);
}

int http_handle_v3_topic_create(http_req_t *req)
{
    if (!cluster_ok(req)) return 0;
    json_error_t jerr;
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, &jerr);
    const char *name = json_string_value(json_object_get(body, "topic_name"));
    if (!name) {
        json_decref(body);
        http_respond_error(req, 400, 40002, "topic_name is required");
        return 0;
    }
    json_t *jp = json_object_get(body, "partitions_count");
    json_t *jr = json_object_get(body, "replication_factor");
    int32_t parts = json_is_integer(jp) ? (int32_t)json_integer_value(jp) : -1;
    int16_t rf = json_is_integer(jr) ? (int16_t)json_integer_value(jr) : -1;
    json_t *jc = json_object_get(body, "configs");
    size_t nc = json_is_array(jc) ? json_array_size(jc) : 0;
    gn_config_entry_t *entries = nc ? calloc(nc, sizeof *entries) : NULL;
    for (size_t i = 0; entries && i < nc; i++) {
        entries[i].name = json_string_value(json_object_get(json_array_get(jc, i), "name"));
        entries[i].value = json_string_value(json_object_get(json_array_get(jc, i), "value"));
        if (!entries[i].name) entries[i].name = "";
    }
    req->ctx = strdup(name);
    req->ctx_free = free;
    int rc = req->ctx ? gn_topic_create(req->srv->broker, name, parts, rf, entries,
                                        entries ? nc : 0, false, on_created, req)
                      : GN_ENOMEM;
    free(entries);
    json_decref(body); /* name is gone from here on; req->ctx holds a copy */
    if (rc == 0) {
        req->async++;
    } else if (rc == GN_ETOPIC_EXISTS) {
        http_respond_error(req, 400, 40002, "Topic '%s' already exists.", (char *)req->ctx);
    } else {
        http_respond_gn_error(req, rc);
    }
    return 0;
}

static void on_deleted(void *arg, int status)
{
    http_req_t *req = arg;
    if (!http_req_async_done(req)) return;
    if (status == 0)
        http_respond(req, 204, NULL, NULL, 0);
    else
        http_respond_gn_error(req, status);
}

int http_handle_v3_topic_delete(http_req_t *req)
{
    gn_topic_info_t info;
    if (!describe(req, &info)) return 0;
    int rc = gn_topic_delete(req->srv->broker, req->params[1], on_deleted, req);
    if (rc < 0) return rc;
    req->async++;
    return 0;
}

/* {"type": "JSON"|"BINARY"|"STRING", "data": ...} into one REST record field. */
static int v3_field(json_t *f, uint8_t **owned, gn_bytes_t *out)
{
    *out = GN_BYTES_NULL;
    if (!f || json_is_null(f)) return 0;
    json_t *data = json_object_get(f, "data");
    const char *type = json_string_value(json_object_get(f, "type"));
    if (!type) type = json_is_string(data) ? "STRING" : "JSON";
    if (!data || json_is_null(data)) return 0;
    if (strcmp(type, "BINARY") == 0) {
        if (!json_is_string(data)) return -1;
        size_t len = json_string_length(data);
        *owned = malloc(len / 4 * 3 + 4);
        if (!*owned) return -1;
        long n = http_base64_decode(json_string_value(data), len, *owned);
        if (n < 0) return -1;
        *out = (gn_bytes_t){*owned, (size_t)n};
    } else if (strcmp(type, "STRING") == 0) {
        if (!json_is_string(data)) return -1;
        *owned = (uint8_t *)strdup(json_string_value(data));
        if (!*owned) return -1;
        *out = (gn_bytes_t){*owned, json_string_length(data)};
    } else {
        char *s = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) return -1;
        *owned = (uint8_t *)s;
        *out = (gn_bytes_t){*owned, strlen(s)};
    }
    return 0;
}

static void on_v3_produced(http_req_t *req, const http_produce_job_t *job)
{
    const http_produce_result_t *r = &job->results[0];
    if (r->error) {
        http_respond_gn_error(req, r->error);
        return;
    }
    http_respond_json(req, 200,
                      json_pack("{s:i,s:s,s:s,s:i,s:I,s:I}", "error_code", 200, "cluster_id",
                                V3_CLUSTER_ID, "topic_name", job->topic, "partition_id",
                                (int)r->partition, "offset", (json_int_t)r->offset, "timestamp",
                                (json_int_t)gn_now_ms()));
}

int http_handle_v3_records(http_req_t *req)
{
    gn_topic_info_t info;
    if (!describe(req, &info)) return 0;
    json_error_t jerr;
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, &jerr);
    if (!json_is_object(body)) {
        json_decref(body);
        http_respond_error(req, 400, 400, "Malformed JSON: %s", jerr.text);
        return 0;
    }
    uint8_t *kown = NULL, *vown = NULL;
    http_rest_record_t rec = {.partition = -1};
    json_t *jp = json_object_get(body, "partition_id");
    if (json_is_integer(jp)) rec.partition = (int32_t)json_integer_value(jp);
    if (v3_field(json_object_get(body, "key"), &kown, &rec.key) < 0 ||
        v3_field(json_object_get(body, "value"), &vown, &rec.value) < 0) {
        http_respond_error(req, 400, 400, "key and value are {\"type\", \"data\"} objects");
    } else {
        int rc = http_produce_start(req, info.name, -1, &rec, 1, on_v3_produced);
        if (rc == HTTP_EPARTITION)
            http_respond_error(req, 404, 40403, "This server does not host this partition.");
        else if (rc < 0)
            http_respond_gn_error(req, rc);
    }
    free(kown);
    free(vown);
    json_decref(body);
    return 0;
}
