/* SPDX-License-Identifier: Apache-2.0 */
/* Metadata (key 3), v0-12: the cluster's live brokers (this one at the advertised
 * address, by default the local address of the client's connection), and the topics
 * asked for (all when the list is null, or empty in v0) with each partition's leader,
 * replicas and ISR from the cluster metadata image. Unknown topics are created when
 * both the request (v4+) and auto.create.topics.enable allow it. With the authorizer,
 * the full list holds only the topics the client may DESCRIBE, a topic asked for by name
 * without DESCRIBE is TOPIC_AUTHORIZATION_FAILED, and auto-creation needs CREATE on the
 * cluster or the topic (as Kafka). Loop thread. */
#include "../kafka.h"

#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_MetadataResponse_MetadataResponseTopic_t topic_resp_t;
typedef kafka_MetadataResponse_MetadataResponsePartition_t part_resp_t;

static int fill_topic(kafka_req_t *req, topic_resp_t *t, const gn_topic_info_t *info)
{
    gn_cluster_partition_t cp0;
    t->ErrorCode = KAFKA_NONE;
    t->Name = kafka_cstr_bytes(kafka_arena_strdup(&req->arena, kafka_cstr_bytes(info->name)));
    if (gn_cluster_partition(req->broker, info->name, 0, &cp0) < 0) {
        /* a creation the metadata log has not decided yet (this broker's, perhaps losing to
         * another's): as Kafka answers for a topic being auto-created; clients retry */
        t->ErrorCode = KAFKA_LEADER_NOT_AVAILABLE;
        t->Partitions = (kafka_MetadataResponse_MetadataResponsePartition_array_t){NULL, 0, false};
        return 0;
    }
    memcpy(t->TopicId, info->id, 16);
    t->IsInternal = info->internal;
    t->Partitions.items =
        kafka_arena_calloc(&req->arena, (size_t)info->partitions, sizeof(part_resp_t));
    if (!t->Partitions.items) return GN_ENOMEM;
    t->Partitions.count = info->partitions;
    for (int32_t i = 0; i < info->partitions; i++) {
        part_resp_t *p = &t->Partitions.items[i];
        /* leader, epoch, replicas and ISR from the cluster's metadata image; a partition
         * it does not have yet (created here, not applied) has no leader in a cluster
         * (LEADER_NOT_AVAILABLE: clients ask again), this broker on a single node */
        gn_cluster_partition_t cp = {
            .leader = gn_broker_config(req->broker)->node_id, .nreplicas = 1, .nisr = 1};
        cp.replicas[0] = cp.isr[0] = cp.leader;
        if (gn_cluster_partition(req->broker, info->name, i, &cp) < 0 &&
            gn_cluster_replicated(req->broker))
            cp.leader = -1;
        int32_t *nodes =
            kafka_arena_alloc(&req->arena, sizeof(*nodes) * (cp.nreplicas + cp.nisr + 1));
        if (!nodes) return GN_ENOMEM;
        memcpy(nodes, cp.replicas, sizeof(*nodes) * cp.nreplicas);
        memcpy(nodes + cp.nreplicas, cp.isr, sizeof(*nodes) * cp.nisr);
        p->ErrorCode = cp.leader < 0 ? KAFKA_LEADER_NOT_AVAILABLE : KAFKA_NONE;
        p->PartitionIndex = i;
        p->LeaderId = cp.leader;
        p->LeaderEpoch = cp.leader_epoch;
        p->ReplicaNodes = (kafka_int32_array_t){nodes, cp.nreplicas, false};
        p->IsrNodes = (kafka_int32_array_t){nodes + cp.nreplicas, cp.nisr, false};
        p->OfflineReplicas = (kafka_int32_array_t){NULL, 0, false};
    }
    return 0;
}

typedef struct list_ctx {
    kafka_req_t *req;
    kafka_MetadataResponse_t *resp;
    int rc;
    /* v10+ lookups by topic id */
    const uint8_t *want_id;
    const char *found_name;
} list_ctx_t;

static void each_topic(void *arg, const gn_topic_info_t *info)
{
    list_ctx_t *lc = arg;
    if (lc->want_id) {
        if (!memcmp(info->id, lc->want_id, 16))
            lc->found_name = kafka_arena_strdup(&lc->req->arena, kafka_cstr_bytes(info->name));
        return;
    }
    if (!kafka_allowed(lc->req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, info->name)) return;
    topic_resp_t *t = &lc->resp->Topics.items[lc->resp->Topics.count];
    memset(t, 0, sizeof *t);
    t->TopicAuthorizedOperations = INT32_MIN;
    if (fill_topic(lc->req, t, info) < 0) lc->rc = GN_ENOMEM;
    lc->resp->Topics.count++;
}

static bool is_zero_id(const uint8_t id[16])
{
    for (int i = 0; i < 16; i++)
        if (id[i]) return false;
    return true;
}

int kafka_handle_Metadata(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_MetadataRequest_t in;
    int rc = kafka_MetadataRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_broker_t *broker = req->broker;
    const gn_broker_config_t *bcfg = gn_broker_config(broker);

    kafka_MetadataResponse_t out;
    kafka_MetadataResponse_init(&out);
    kafka_endpoint_t ep;
    kafka_req_advertised(req, &ep);
    kafka_MetadataResponse_MetadataResponseBroker_t *b = kafka_arena_alloc(&req->arena, sizeof *b);
    const char *host = kafka_arena_strdup(&req->arena, kafka_cstr_bytes(ep.host));
    if (!b || !host) return GN_ENOMEM;
    /* every live broker of the cluster; this one at its advertised address */
    gn_cluster_broker_t cbs[64];
    size_t nb = gn_cluster_brokers(broker, cbs, 64);
    nb = nb > 64 ? 64 : nb;
    b = kafka_arena_calloc(&req->arena, nb, sizeof *b);
    if (!b) return GN_ENOMEM;
    for (size_t i = 0; i < nb; i++) {
        bool self = cbs[i].node_id == bcfg->node_id;
        const char *h =
            self ? host : kafka_arena_strdup(&req->arena, kafka_cstr_bytes(cbs[i].host));
        if (!h) return GN_ENOMEM;
        b[i].NodeId = cbs[i].node_id;
        b[i].Host = kafka_cstr_bytes(h);
        b[i].Port = self ? ep.port : kafka_req_broker_port(req, &cbs[i]);
        b[i].Rack = GN_BYTES_NULL;
    }
    out.Brokers = (kafka_MetadataResponse_MetadataResponseBroker_array_t){b, nb, false};
    out.ClusterId = kafka_cstr_bytes(gn_broker_cluster_id(broker)); /* meta.properties */
    out.ControllerId = gn_cluster_controller_id(broker);

    bool all = in.Topics.is_null || (req->version == 0 && in.Topics.count == 0);
    list_ctx_t lc = {.req = req, .resp = &out};
    if (all) {
        size_t n = gn_topic_list(broker, NULL, NULL);
        out.Topics.items = kafka_arena_calloc(&req->arena, n ? n : 1, sizeof(topic_resp_t));
        if (!out.Topics.items) return GN_ENOMEM;
        out.Topics.count = 0;
        /* the callback fills at most n entries: the registry cannot change meanwhile */
        gn_topic_list(broker, each_topic, &lc);
        if (lc.rc < 0) return lc.rc;
    } else {
        int32_t n = in.Topics.count;
        out.Topics.items =
            kafka_arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof(topic_resp_t));
        if (!out.Topics.items) return GN_ENOMEM;
        out.Topics.count = n;
        bool auto_create = in.AllowAutoTopicCreation && bcfg->auto_create_topics;
        /* names first, creating where allowed: a creation invalidates borrowed infos */
        const char **names = kafka_arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *names);
        int16_t *errs = kafka_arena_calloc(&req->arena, (size_t)(n ? n : 1), sizeof *errs);
        if (!names || !errs) return GN_ENOMEM;
        for (int32_t i = 0; i < n; i++) {
            kafka_MetadataRequest_MetadataRequestTopic_t *rt = &in.Topics.items[i];
            if (!rt->Name.ptr && !is_zero_id(rt->TopicId)) {
                lc.want_id = rt->TopicId;
                lc.found_name = NULL;
                gn_topic_list(broker, each_topic, &lc);
                lc.want_id = NULL;
                names[i] = lc.found_name;
                if (!names[i])
                    errs[i] = KAFKA_UNKNOWN_TOPIC_ID;
                else if (!kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, names[i]))
                    errs[i] = KAFKA_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            names[i] = kafka_req_cstr(req, rt->Name);
            if (!names[i] || gn_topic_name_validate(names[i], strlen(names[i])) < 0) {
                errs[i] = KAFKA_INVALID_TOPIC_EXCEPTION;
                continue;
            }
            if (!kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, names[i])) {
                errs[i] = KAFKA_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            gn_topic_info_t info;
            if (gn_topic_describe(broker, names[i], &info) == 0) continue;
            /* a missing internal topic is only unknown (Kafka's answer), not bad input: the
             * broker creates those itself, and clients poll for them */
            if (!auto_create || gn_topic_name_internal(names[i])) {
                errs[i] = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (!kafka_allowed(req, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_CLUSTER,
                               GN_ACL_CLUSTER_NAME) &&
                !kafka_authorize(req, GN_ACL_OP_CREATE, GN_ACL_RESOURCE_TOPIC, names[i])) {
                errs[i] = KAFKA_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            gn_partition_t *part;
            rc = gn_partition_get_or_create(broker, names[i], 0, &part);
            if (rc < 0) errs[i] = kafka_err_from_gn(rc);
        }
        for (int32_t i = 0; i < n; i++) {
            topic_resp_t *t = &out.Topics.items[i];
            t->TopicAuthorizedOperations = INT32_MIN;
            t->Name = names[i] ? kafka_cstr_bytes(names[i]) : in.Topics.items[i].Name;
            if (req->version < 12 && !t->Name.ptr) t->Name = GN_BYTES_STR("");
            memcpy(t->TopicId, in.Topics.items[i].TopicId, 16);
            gn_topic_info_t info;
            if (!errs[i] && gn_topic_describe(broker, names[i], &info) < 0)
                errs[i] = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            if (errs[i]) {
                t->ErrorCode = errs[i];
                continue;
            }
            if (fill_topic(req, t, &info) < 0) return GN_ENOMEM;
        }
    }
    kafka_resp_begin(req);
    kafka_MetadataResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
