/* SPDX-License-Identifier: Apache-2.0 */
/* CreateTopics (key 19), v0-7: one gn_topic_create per topic (validate_only honoured);
 * the answer waits until every creation is persisted. Manual assignments are accepted
 * when they place every replica on this node. v5+ answers describe the new topic's
 * partitions, replication factor and configs. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_CreateTopicsResponse_CreatableTopicResult_t topic_resp_t;

typedef struct create_ctx {
    kafka_CreateTopicsResponse_t resp;
    const char **names;
} create_ctx_t;

static void describe_new(kafka_req_t *req, const char *name, topic_resp_t *tr)
{
    gn_topic_info_t info;
    if (!name || gn_topic_describe(req->broker, name, &info) < 0) return;
    memcpy(tr->TopicId, info.id, 16);
    tr->NumPartitions = info.partitions;
    tr->ReplicationFactor = info.replication_factor;
    size_t nkeys;
    const gn_topic_config_key_t *keys = gn_topic_config_keys(&nkeys);
    tr->Configs.items = kafka_arena_calloc(&req->arena, nkeys + 1, sizeof *tr->Configs.items);
    if (!tr->Configs.items) return;
    tr->Configs.is_null = false; /* set null for a failed topic: listed now */
    for (size_t k = 0; k < nkeys; k++) {
        char buf[256];
        if (gn_topic_config_get(info.config, keys[k].name, buf, sizeof buf) < 0) continue;
        kafka_CreateTopicsResponse_CreatableTopicConfigs_t *c =
            &tr->Configs.items[tr->Configs.count++];
        c->Name = kafka_cstr_bytes(keys[k].name);
        c->Value = kafka_cstr_bytes(kafka_arena_strdup(&req->arena, kafka_cstr_bytes(buf)));
        c->ConfigSource = 5; /* DEFAULT_CONFIG */
        for (size_t o = 0; o < info.overrides_count; o++)
            if (!strcmp(info.overrides[o].name, keys[k].name)) c->ConfigSource = 1; /* topic */
    }
}

static void finish(kafka_req_t *req, void *arg)
{
    create_ctx_t *ctx = arg;
    if (req->version >= 5) {
        for (int32_t i = 0; i < ctx->resp.Topics.count; i++) {
            topic_resp_t *tr = &ctx->resp.Topics.items[i];
            if (tr->ErrorCode == KAFKA_NONE) describe_new(req, ctx->names[i], tr);
        }
    }
    kafka_resp_begin(req);
    kafka_CreateTopicsResponse_encode(&req->w, req->version, &ctx->resp);
}

/* Manual assignment on one node: every partition's replicas must be [this node]. */
static int check_assignments(kafka_req_t *req, kafka_CreateTopicsRequest_CreatableTopic_t *t,
                             int32_t *partitions, int16_t *rf)
{
    int32_t node = gn_broker_config(req->broker)->node_id;
    if (t->NumPartitions != -1 || t->ReplicationFactor != -1) return GN_EINVALID_REQUEST;
    for (int32_t i = 0; i < t->Assignments.count; i++) {
        kafka_CreateTopicsRequest_CreatableReplicaAssignment_t *a = &t->Assignments.items[i];
        if (a->PartitionIndex != i || a->BrokerIds.count != 1 || a->BrokerIds.items[0] != node)
            return GN_EINVALID_REPLICATION;
    }
    *partitions = t->Assignments.count;
    *rf = 1;
    return 0;
}

int kafka_handle_CreateTopics(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_CreateTopicsRequest_t in;
    int rc = kafka_CreateTopicsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    create_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    kafka_CreateTopicsResponse_init(&ctx->resp);
    int32_t n = in.Topics.count;
    ctx->resp.Topics.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(topic_resp_t));
    ctx->names = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *ctx->names);
    kafka_admin_t *adm = kafka_admin_new(req, finish, ctx);
    if (!ctx->resp.Topics.items || !ctx->names || !adm) return GN_ENOMEM;
    ctx->resp.Topics.count = n;
    bool cluster_create =
        n > 0 && kafka_allowed(req, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_CLUSTER, GN_ACL_CLUSTER_NAME);
    for (int32_t i = 0; i < n; i++) {
        kafka_CreateTopicsRequest_CreatableTopic_t *t = &in.Topics.items[i];
        topic_resp_t *tr = &ctx->resp.Topics.items[i];
        tr->Name = kafka_req_keep(req, t->Name);
        tr->ErrorMessage = GN_BYTES_NULL;
        tr->NumPartitions = -1;
        tr->ReplicationFactor = -1;
        tr->Configs.is_null = true;
        void *op = kafka_admin_op(adm, &tr->ErrorCode, &tr->ErrorMessage);
        if (!op) return kafka_admin_abort(adm, GN_ENOMEM);
        const char *name = kafka_req_cstr(req, t->Name);
        ctx->names[i] = name;
        if (!name || gn_topic_client_may_write(name, "create") < 0) {
            kafka_admin_fail(op, GN_EINVALID_TOPIC);
            continue;
        }
        /* Kafka: CREATE on the cluster, or else on the topic */
        if (!cluster_create &&
            !kafka_authorize(req, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_TOPIC, name)) {
            kafka_admin_refuse(op, KAFKA_TOPIC_AUTHORIZATION_FAILED);
            continue;
        }
        int32_t partitions = t->NumPartitions;
        int16_t rf = t->ReplicationFactor;
        int err = 0;
        if (t->Assignments.count > 0 && (err = check_assignments(req, t, &partitions, &rf)) < 0) {
            kafka_admin_fail(op, err);
            continue;
        }
        int32_t nc = t->Configs.count;
        gn_config_entry_t *cfg = kafka_arena_calloc(&req->arena, (size_t)nc + 1, sizeof *cfg);
        if (!cfg) return kafka_admin_abort(adm, GN_ENOMEM);
        for (int32_t c = 0; c < nc; c++) {
            cfg[c].name = kafka_req_cstr(req, t->Configs.items[c].Name);
            cfg[c].value = kafka_req_cstr(req, t->Configs.items[c].Value);
            if (!cfg[c].name) err = GN_EINVALID_CONFIG;
        }
        if (err < 0) {
            kafka_admin_fail(op, err);
            continue;
        }
        err = gn_topic_create(req->broker, name, partitions, rf, cfg, (size_t)nc, in.validateOnly,
                              kafka_admin_cb, op);
        if (err < 0) kafka_admin_fail(op, err);
    }
    return kafka_admin_complete(adm);
}
