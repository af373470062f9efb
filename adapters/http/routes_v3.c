/* SPDX-License-Identifier: Apache-2.0 */
/* Confluent REST Proxy v3 (the API Confluent now recommends): clusters, topics
 * (list, get, create, delete), partitions, configs, and producing one record per
 * request to /topics/{t}/records, consumer groups (groups, consumers, assignments,
 * lags, lag summary; groups_view.c gathers them). One cluster, id "ganglion" until the cluster work
 * exposes its own id. Loop thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/base64.h"
#include "ganglion/error.h"
#include "ganglion/topic.h"
#include "groups_view.h"
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

typedef struct topic_list {
    http_req_t *req;
    json_t *data;
} topic_list_t;

/* The topics the client may DESCRIBE (Kafka's Metadata filter). */
static void add_topic(void *arg, const gn_topic_info_t *info)
{
    topic_list_t *t = arg;
    if (http_allowed(t->req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, info->name))
        json_array_append_new(t->data, topic_json(info));
}

int http_handle_v3_topics_list(http_req_t *req)
{
    if (!cluster_ok(req)) return 0;
    topic_list_t t = {req, json_array()};
    json_t *data = t.data;
    gn_topic_list(req->srv->broker, add_topic, &t);
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
    /* Kafka's CreateTopics: CREATE on the cluster, else CREATE on the topic */
    if (!http_allowed(req, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_CLUSTER, GN_ACL_CLUSTER_NAME) &&
        !http_authorize(req, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_TOPIC, name)) {
        json_decref(body);
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
    int rc = req->ctx ? gn_topic_client_may_write(name, "create") : GN_ENOMEM;
    if (rc == 0)
        rc = gn_topic_create(req->srv->broker, name, parts, rf, entries, entries ? nc : 0, false,
                             on_created, req);
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
        long n = gn_base64_decode(json_string_value(data), len, *owned);
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

/* ---- consumer groups (Confluent v3: consumer-groups, consumers, lags, lag-summary) -- */

/* "http://host:port/v3/clusters/ganglion" from the request's Host (or :authority). */
static void v3_base(http_req_t *req, char *buf, size_t cap)
{
    char host[300];
    http_req_header(req, WSI_TOKEN_HOST, host, 256);
    if (!host[0]) http_req_header(req, WSI_TOKEN_HTTP_COLON_AUTHORITY, host, 256);
    if (!host[0]) snprintf(host, sizeof host, "%s:%d", req->srv->adv_host, req->srv->adv_port);
    snprintf(buf, cap, "%s://%s/v3/clusters/%s", http_req_scheme(req), host, V3_CLUSTER_ID);
}

/* path with every byte but unreserved ones and '/' percent-encoded (ids in URLs). */
static void url_path(const char *path, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)path; *c && n + 4 < cap; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~/", *c)) {
            out[n++] = (char)*c;
        } else {
            out[n++] = '%';
            out[n++] = hex[*c >> 4];
            out[n++] = hex[*c & 15];
        }
    }
    out[n] = '\0';
}

/* {"self": base + path, "resource_name": "crn:///kafka=ganglion/" + crn}. */
static json_t *v3_meta(const char *base, const char *crn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *v3_meta(const char *base, const char *crn, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    char enc[3 * sizeof path];
    url_path(path, enc, sizeof enc);
    json_t *m = json_object();
    json_object_set_new(m, "self", json_sprintf("%s%s", base, enc));
    if (crn)
        json_object_set_new(m, "resource_name",
                            json_sprintf("crn:///kafka=%s/%s", V3_CLUSTER_ID, crn));
    return m;
}

static json_t *related(const char *base, const char *path, const char *id)
{
    char raw[1024], enc[3 * sizeof raw];
    snprintf(raw, sizeof raw, "%s%s", path, id ? id : "");
    url_path(raw, enc, sizeof enc);
    return json_pack("{s:o}", "related", json_sprintf("%s%s", base, enc));
}

/* Confluent's state names: STABLE, EMPTY, PREPARING_REBALANCE ... */
static const char *v3_state(gn_group_state_t s)
{
    switch (s) {
    case GN_GROUP_EMPTY:
        return "EMPTY";
    case GN_GROUP_PREPARING_REBALANCE:
        return "PREPARING_REBALANCE";
    case GN_GROUP_COMPLETING_REBALANCE:
        return "COMPLETING_REBALANCE";
    case GN_GROUP_STABLE:
        return "STABLE";
    case GN_GROUP_DEAD:
        return "DEAD";
    }
    return "UNKNOWN";
}

static int64_t group_total_lag(const http_group_view_t *g)
{
    int64_t total = 0;
    for (size_t i = 0; i < g->lags_count; i++)
        if (g->lags[i].lag > 0) total += g->lags[i].lag;
    return total;
}

static json_t *group_json(http_req_t *req, const char *base, const http_group_view_t *g)
{
    (void)req;
    char broker[32];
    snprintf(broker, sizeof broker, "%d", (int)g->coordinator);
    char gpath[600];
    snprintf(gpath, sizeof gpath, "/consumer-groups/%s", g->group_id);
    char crn[600];
    snprintf(crn, sizeof crn, "consumer-group=%s", g->group_id);
    json_t *j = json_pack(
        "{s:s,s:o,s:s,s:s,s:b,s:s,s:s,s:o,s:o,s:o}", "kind", "KafkaConsumerGroup", "metadata",
        v3_meta(base, crn, "%s", gpath), "cluster_id", V3_CLUSTER_ID, "consumer_group_id",
        g->group_id, "is_simple", g->protocol_type[0] == '\0', "partition_assignor",
        g->protocol_name, "state", v3_state(g->state), "coordinator",
        related(base, "/brokers/", broker), "consumer", related(base, gpath, "/consumers"),
        "lag_summary", related(base, gpath, "/lag-summary"));
    /* Ganglion's additions for the console: no extra round trips per group. */
    json_object_set_new(j, "members_count", json_integer((json_int_t)g->members_count));
    json_object_set_new(j, "total_lag", json_integer(group_total_lag(g)));
    json_object_set_new(j, "generation_id", json_integer(g->generation_id));
    return j;
}

static const gn_group_member_desc_t *member_of(const http_group_view_t *g, const char *id)
{
    for (size_t i = 0; id && i < g->members_count; i++)
        if (strcmp(g->members[i].member_id, id) == 0) return &g->members[i];
    return NULL;
}

static json_t *assignments_json(const char *base, const http_group_view_t *g, const char *member)
{
    json_t *data = json_array();
    for (size_t i = 0; i < g->lags_count; i++) {
        const gn_group_lag_t *r = &g->lags[i];
        if (!r->member_id || strcmp(r->member_id, member) != 0) continue;
        json_array_append_new(
            data, json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:i,s:o}", "kind", "KafkaConsumerAssignment",
                            "metadata",
                            v3_meta(base, NULL,
                                    "/consumer-groups/%s/consumers/%s/assignments/%s/partitions/%d",
                                    g->group_id, member, r->topic, (int)r->partition),
                            "cluster_id", V3_CLUSTER_ID, "consumer_group_id", g->group_id,
                            "consumer_id", member, "topic_name", r->topic, "partition_id",
                            (int)r->partition, "lag", related(base, "", "") /* replaced below */));
        char lagp[900];
        snprintf(lagp, sizeof lagp, "/consumer-groups/%s/lags/%s/partitions/%d", g->group_id,
                 r->topic, (int)r->partition);
        json_object_set_new(json_array_get(data, json_array_size(data) - 1), "lag",
                            related(base, lagp, NULL));
    }
    return data;
}

static json_t *consumer_json(const char *base, const http_group_view_t *g,
                             const gn_group_member_desc_t *m)
{
    char apath[900];
    snprintf(apath, sizeof apath, "/consumer-groups/%s/consumers/%s", g->group_id, m->member_id);
    json_t *j = json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:o}", "kind", "KafkaConsumer", "metadata",
                          v3_meta(base, NULL, "%s", apath), "cluster_id", V3_CLUSTER_ID,
                          "consumer_group_id", g->group_id, "consumer_id", m->member_id,
                          "client_id", m->client_id ? m->client_id : "", "client_host",
                          m->client_host ? m->client_host : "", "assignments",
                          related(base, apath, "/assignments"));
    json_object_set_new(j, "instance_id",
                        m->instance_id ? json_string(m->instance_id) : json_null());
    /* Ganglion's addition: the assigned partitions inline. */
    json_t *parts = json_array();
    for (size_t i = 0; i < g->lags_count; i++)
        if (g->lags[i].member_id && strcmp(g->lags[i].member_id, m->member_id) == 0)
            json_array_append_new(parts, json_pack("{s:s,s:i}", "topic_name", g->lags[i].topic,
                                                   "partition_id", (int)g->lags[i].partition));
    json_object_set_new(j, "assigned_partitions", parts);
    return j;
}

static json_t *lag_json(const char *base, const http_group_view_t *g, const gn_group_lag_t *r)
{
    const gn_group_member_desc_t *m = member_of(g, r->member_id);
    json_t *j = json_pack(
        "{s:s,s:o,s:s,s:s,s:s,s:i,s:I,s:I,s:I}", "kind", "KafkaConsumerLag", "metadata",
        v3_meta(base, NULL, "/consumer-groups/%s/lags/%s/partitions/%d", g->group_id, r->topic,
                (int)r->partition),
        "cluster_id", V3_CLUSTER_ID, "consumer_group_id", g->group_id, "topic_name", r->topic,
        "partition_id", (int)r->partition, "current_offset", (json_int_t)r->committed,
        "log_end_offset", (json_int_t)r->high_watermark, "lag", (json_int_t)r->lag);
    json_object_set_new(j, "consumer_id", json_string(r->member_id ? r->member_id : ""));
    json_object_set_new(j, "instance_id",
                        m && m->instance_id ? json_string(m->instance_id) : json_null());
    json_object_set_new(j, "client_id", json_string(m && m->client_id ? m->client_id : ""));
    return j;
}

static void group_error(http_req_t *req, int status)
{
    if (status == GN_EGROUP_ID_NOT_FOUND)
        http_respond_error(req, 404, 404, "Consumer group %s not found.", req->params[1]);
    else
        http_respond_gn_error(req, status);
}

typedef void (*group_render_fn)(http_req_t *req, const char *base, const http_group_view_t *g);

/* The handlers of one group: collect it, then render with req->ctx's renderer. */
static void on_one_group(http_req_t *req, int status, const http_group_view_t *groups, size_t count)
{
    if (status == 0 && count == 0) status = GN_EGROUP_ID_NOT_FOUND;
    if (status) {
        group_error(req, status);
        return;
    }
    char base[400];
    v3_base(req, base, sizeof base);
    ((group_render_fn)req->ctx)(req, base, &groups[0]);
}

static int one_group(http_req_t *req, group_render_fn render)
{
    if (!cluster_ok(req)) return 0;
    req->ctx = (void *)render; /* no ctx_free: a function, not memory */
    int rc = http_groups_collect(req, req->params[1], true, on_one_group);
    if (rc < 0) group_error(req, rc);
    return 0;
}

static void on_groups_list(http_req_t *req, int status, const http_group_view_t *groups,
                           size_t count)
{
    if (status) {
        http_respond_gn_error(req, status);
        return;
    }
    char base[400];
    v3_base(req, base, sizeof base);
    json_t *data = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(data, group_json(req, base, &groups[i]));
    json_t *meta = v3_meta(base, NULL, "/consumer-groups");
    json_object_set_new(meta, "next", json_null());
    http_respond_json(req, 200,
                      json_pack("{s:s,s:o,s:o}", "kind", "KafkaConsumerGroupList", "metadata", meta,
                                "data", data));
}

int http_handle_v3_groups_list(http_req_t *req)
{
    if (!cluster_ok(req)) return 0;
    int rc = http_groups_collect(req, NULL, true, on_groups_list);
    if (rc < 0) http_respond_gn_error(req, rc);
    return 0;
}

static void render_group(http_req_t *req, const char *base, const http_group_view_t *g)
{
    http_respond_json(req, 200, group_json(req, base, g));
}

int http_handle_v3_group_get(http_req_t *req)
{
    return one_group(req, render_group);
}

static void render_consumers(http_req_t *req, const char *base, const http_group_view_t *g)
{
    json_t *data = json_array();
    for (size_t i = 0; i < g->members_count; i++)
        json_array_append_new(data, consumer_json(base, g, &g->members[i]));
    http_respond_json(req, 200,
                      json_pack("{s:s,s:o,s:o}", "kind", "KafkaConsumerList", "metadata",
                                v3_meta(base, NULL, "/consumer-groups/%s/consumers", g->group_id),
                                "data", data));
}

int http_handle_v3_group_consumers(http_req_t *req)
{
    return one_group(req, render_consumers);
}

static const gn_group_member_desc_t *consumer_or_404(http_req_t *req, const http_group_view_t *g)
{
    const gn_group_member_desc_t *m = member_of(g, req->params[2]);
    if (!m)
        http_respond_error(req, 404, 404, "Consumer %s not found in group %s.", req->params[2],
                           g->group_id);
    return m;
}

static void render_consumer(http_req_t *req, const char *base, const http_group_view_t *g)
{
    const gn_group_member_desc_t *m = consumer_or_404(req, g);
    if (m) http_respond_json(req, 200, consumer_json(base, g, m));
}

int http_handle_v3_group_consumer_get(http_req_t *req)
{
    return one_group(req, render_consumer);
}

static void render_assignments(http_req_t *req, const char *base, const http_group_view_t *g)
{
    const gn_group_member_desc_t *m = consumer_or_404(req, g);
    if (!m) return;
    http_respond_json(req, 200,
                      json_pack("{s:s,s:o,s:o}", "kind", "KafkaConsumerAssignmentList", "metadata",
                                v3_meta(base, NULL, "/consumer-groups/%s/consumers/%s/assignments",
                                        g->group_id, m->member_id),
                                "data", assignments_json(base, g, m->member_id)));
}

int http_handle_v3_group_consumer_assignments(http_req_t *req)
{
    return one_group(req, render_assignments);
}

static void render_lags(http_req_t *req, const char *base, const http_group_view_t *g)
{
    json_t *data = json_array();
    for (size_t i = 0; i < g->lags_count; i++)
        json_array_append_new(data, lag_json(base, g, &g->lags[i]));
    http_respond_json(req, 200,
                      json_pack("{s:s,s:o,s:o}", "kind", "KafkaConsumerLagList", "metadata",
                                v3_meta(base, NULL, "/consumer-groups/%s/lags", g->group_id),
                                "data", data));
}

int http_handle_v3_group_lags(http_req_t *req)
{
    return one_group(req, render_lags);
}

static void render_lag_summary(http_req_t *req, const char *base, const http_group_view_t *g)
{
    const gn_group_lag_t *max = NULL;
    for (size_t i = 0; i < g->lags_count; i++)
        if (g->lags[i].lag >= 0 && (!max || g->lags[i].lag > max->lag)) max = &g->lags[i];
    json_t *j =
        json_pack("{s:s,s:o,s:s,s:s,s:I,s:I}", "kind", "KafkaConsumerGroupLagSummary", "metadata",
                  v3_meta(base, NULL, "/consumer-groups/%s/lag-summary", g->group_id), "cluster_id",
                  V3_CLUSTER_ID, "consumer_group_id", g->group_id, "max_lag",
                  (json_int_t)(max ? max->lag : 0), "total_lag", (json_int_t)group_total_lag(g));
    if (max) {
        const gn_group_member_desc_t *m = member_of(g, max->member_id);
        char path[900];
        json_object_set_new(j, "max_lag_consumer_id",
                            json_string(max->member_id ? max->member_id : ""));
        json_object_set_new(j, "max_lag_instance_id",
                            m && m->instance_id ? json_string(m->instance_id) : json_null());
        json_object_set_new(j, "max_lag_client_id",
                            json_string(m && m->client_id ? m->client_id : ""));
        json_object_set_new(j, "max_lag_topic_name", json_string(max->topic));
        json_object_set_new(j, "max_lag_partition_id", json_integer(max->partition));
        snprintf(path, sizeof path, "/consumer-groups/%s/consumers/", g->group_id);
        json_object_set_new(j, "max_lag_consumer", related(base, path, max->member_id));
        snprintf(path, sizeof path, "/topics/%s/partitions/%d", max->topic, (int)max->partition);
        json_object_set_new(j, "max_lag_partition", related(base, path, NULL));
    }
    http_respond_json(req, 200, j);
}

int http_handle_v3_group_lag_summary(http_req_t *req)
{
    return one_group(req, render_lag_summary);
}
