/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeConfigs (key 32), v0-4: topic resources list every key of the core's
 * topic-config table (or the keys asked for) with its effective value, source
 * (topic override or default), type and documentation; the broker resource lists
 * the broker-level defaults that clients commonly read. Loop thread. */
#include "../kafka.h"

#include <stdio.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"

#define KAFKA_RESOURCE_TOPIC  2
#define KAFKA_RESOURCE_BROKER 4
/* ConfigSource */
#define KAFKA_SOURCE_TOPIC         1
#define KAFKA_SOURCE_STATIC_BROKER 4
#define KAFKA_SOURCE_DEFAULT       5

typedef kafka_DescribeConfigsResponse_DescribeConfigsResult_t result_t;
typedef kafka_DescribeConfigsResponse_DescribeConfigsResourceResult_t entry_t;

static int8_t config_type(const char *type)
{
    /* ConfigType: 1 BOOLEAN, 2 STRING, 3 INT, 5 LONG, 6 DOUBLE, 7 LIST */
    if (!strcmp(type, "boolean")) return 1;
    if (!strcmp(type, "string")) return 2;
    if (!strcmp(type, "int")) return 3;
    if (!strcmp(type, "long")) return 5;
    if (!strcmp(type, "double")) return 6;
    if (!strcmp(type, "list")) return 7;
    return 0;
}

static bool wanted(const kafka_string_array_t *keys, const char *name)
{
    if (keys->is_null || keys->count == 0) return true;
    size_t n = strlen(name);
    for (int32_t i = 0; i < keys->count; i++)
        if (keys->items[i].len == n && !memcmp(keys->items[i].ptr, name, n)) return true;
    return false;
}

static entry_t *add_entry(kafka_req_t *req, result_t *res, const char *name, const char *value,
                          int8_t source, const char *type, const char *doc)
{
    entry_t *e = &res->Configs.items[res->Configs.count++];
    e->Name = kafka_cstr_bytes(name);
    e->Value = kafka_cstr_bytes(kafka_arena_strdup(&req->arena, kafka_cstr_bytes(value)));
    e->ReadOnly = source != KAFKA_SOURCE_TOPIC && source != KAFKA_SOURCE_DEFAULT;
    e->IsDefault = source == KAFKA_SOURCE_DEFAULT;
    e->ConfigSource = source;
    e->IsSensitive = false;
    e->ConfigType = config_type(type);
    e->Documentation = doc ? kafka_cstr_bytes(doc) : GN_BYTES_NULL;
    return e;
}

static int describe_topic(kafka_req_t *req, const char *name, const kafka_string_array_t *keys,
                          bool synonyms, result_t *res)
{
    gn_topic_info_t info;
    int rc = gn_topic_describe(req->broker, name, &info);
    if (rc < 0) return rc;
    size_t n;
    const gn_topic_config_key_t *cfg = gn_topic_config_keys(&n);
    res->Configs.items = kafka_arena_calloc(&req->arena, n + 1, sizeof(entry_t));
    if (!res->Configs.items) return GN_ENOMEM;
    for (size_t k = 0; k < n; k++) {
        if (!wanted(keys, cfg[k].name)) continue;
        char buf[256];
        if (gn_topic_config_get(info.config, cfg[k].name, buf, sizeof buf) < 0) continue;
        int8_t source = KAFKA_SOURCE_DEFAULT;
        for (size_t o = 0; o < info.overrides_count; o++)
            if (!strcmp(info.overrides[o].name, cfg[k].name)) source = KAFKA_SOURCE_TOPIC;
        entry_t *e = add_entry(req, res, cfg[k].name, buf, source, cfg[k].type, cfg[k].doc);
        if (synonyms) {
            /* the value's own source is its first synonym (Kafka lists the chain) */
            kafka_DescribeConfigsResponse_DescribeConfigsSynonym_t *syn =
                kafka_arena_alloc(&req->arena, sizeof *syn);
            if (!syn) return GN_ENOMEM;
            syn->Name = e->Name;
            syn->Value = e->Value;
            syn->Source = source;
            e->Synonyms =
                (kafka_DescribeConfigsResponse_DescribeConfigsSynonym_array_t){syn, 1, false};
        }
    }
    return 0;
}

static int describe_broker(kafka_req_t *req, const kafka_string_array_t *keys, result_t *res)
{
    const gn_broker_config_t *cfg = gn_broker_config(req->broker);
    char buf[6][32];
    const struct {
        const char *name, *type, *value;
    } rows[] = {
        {"broker.id", "int", (snprintf(buf[0], 32, "%d", cfg->node_id), buf[0])},
        {"node.id", "int", buf[0]},
        {"num.partitions", "int", (snprintf(buf[1], 32, "%d", cfg->num_partitions), buf[1])},
        {"default.replication.factor", "int",
         (snprintf(buf[2], 32, "%d", cfg->default_replication_factor), buf[2])},
        {"auto.create.topics.enable", "boolean", cfg->auto_create_topics ? "true" : "false"},
        {"log.dirs", "string", cfg->data_dir ? cfg->data_dir : ""},
        {"log.flush.policy", "string", gn_flush_policy_name(cfg->flush)},
        {"log.retention.ms", "long",
         (snprintf(buf[3], 32, "%lld", (long long)cfg->topic_defaults.retention_ms), buf[3])},
        {"log.segment.bytes", "long",
         (snprintf(buf[4], 32, "%lld", (long long)cfg->topic_defaults.segment_bytes), buf[4])},
        {"message.max.bytes", "int",
         (snprintf(buf[5], 32, "%d", cfg->topic_defaults.max_message_bytes), buf[5])},
    };
    size_t n = sizeof rows / sizeof rows[0];
    res->Configs.items = kafka_arena_calloc(&req->arena, n, sizeof(entry_t));
    if (!res->Configs.items) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (wanted(keys, rows[i].name))
            add_entry(req, res, rows[i].name, rows[i].value, KAFKA_SOURCE_STATIC_BROKER,
                      rows[i].type, NULL);
    return 0;
}

int kafka_handle_DescribeConfigs(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DescribeConfigsRequest_t in;
    int rc = kafka_DescribeConfigsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_DescribeConfigsResponse_t out;
    kafka_DescribeConfigsResponse_init(&out);
    int32_t n = in.Resources.count;
    out.Results.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(result_t));
    if (!out.Results.items) return GN_ENOMEM;
    out.Results.count = n;
    char node[16];
    snprintf(node, sizeof node, "%d", gn_broker_config(req->broker)->node_id);
    for (int32_t i = 0; i < n; i++) {
        kafka_DescribeConfigsRequest_DescribeConfigsResource_t *r = &in.Resources.items[i];
        result_t *res = &out.Results.items[i];
        res->ResourceType = r->ResourceType;
        res->ResourceName = r->ResourceName;
        res->ErrorMessage = GN_BYTES_NULL;
        const char *name = kafka_req_cstr(req, r->ResourceName);
        /* Kafka: DESCRIBE_CONFIGS on the topic, or on the cluster for a broker's */
        bool topic = r->ResourceType == KAFKA_RESOURCE_TOPIC;
        if (name && (topic || r->ResourceType == KAFKA_RESOURCE_BROKER) &&
            !(topic ? kafka_authorize(req, GN_ACL_OP_DESCRIBE_CONFIGS, GN_ACL_RESOURCE_TOPIC, name)
                    : kafka_authorize_cluster(req, GN_ACL_OP_DESCRIBE_CONFIGS))) {
            res->ErrorCode =
                topic ? KAFKA_TOPIC_AUTHORIZATION_FAILED : KAFKA_CLUSTER_AUTHORIZATION_FAILED;
            continue;
        }
        if (r->ResourceType == KAFKA_RESOURCE_TOPIC) {
            rc = name ? describe_topic(req, name, &r->ConfigurationKeys, in.IncludeSynonyms, res)
                      : GN_EINVALID_TOPIC;
        } else if (r->ResourceType == KAFKA_RESOURCE_BROKER) {
            rc = name && (!name[0] || !strcmp(name, node))
                     ? describe_broker(req, &r->ConfigurationKeys, res)
                     : GN_EINVALID_REQUEST;
        } else {
            rc = GN_EINVALID_REQUEST;
        }
        if (rc == GN_ENOMEM) return rc;
        if (rc < 0) {
            res->ErrorCode = kafka_err_from_gn(rc);
            res->ErrorMessage = kafka_cstr_bytes(gn_strerror(rc));
            res->Configs.count = 0;
        }
    }
    kafka_resp_begin(req);
    kafka_DescribeConfigsResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
