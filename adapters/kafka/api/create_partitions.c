/* SPDX-License-Identifier: Apache-2.0 */
/* CreatePartitions (key 37), v0-3: grows a topic to Count partitions (validate_only
 * honoured); manual assignments must place the new partitions on this node. Loop
 * thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_CreatePartitionsResponse_CreatePartitionsTopicResult_t topic_resp_t;

static void finish(kafka_req_t *req, void *arg)
{
    kafka_resp_begin(req);
    kafka_CreatePartitionsResponse_encode(&req->w, req->version, arg);
}

int kafka_handle_CreatePartitions(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_CreatePartitionsRequest_t in;
    int rc = kafka_CreatePartitionsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_CreatePartitionsResponse_t *out = kafka_arena_alloc(&req->arena, sizeof *out);
    if (!out) return GN_ENOMEM;
    kafka_CreatePartitionsResponse_init(out);
    int32_t n = in.Topics.count;
    int32_t node = gn_broker_config(req->broker)->node_id;
    out->Results.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(topic_resp_t));
    kafka_admin_t *adm = kafka_admin_new(req, finish, out);
    if (!out->Results.items || !adm) return GN_ENOMEM;
    out->Results.count = n;
    for (int32_t i = 0; i < n; i++) {
        kafka_CreatePartitionsRequest_CreatePartitionsTopic_t *t = &in.Topics.items[i];
        topic_resp_t *tr = &out->Results.items[i];
        tr->Name = kafka_req_keep(req, t->Name);
        tr->ErrorMessage = GN_BYTES_NULL;
        void *op = kafka_admin_op(adm, &tr->ErrorCode, &tr->ErrorMessage);
        if (!op) return kafka_admin_abort(adm, GN_ENOMEM);
        const char *name = kafka_req_cstr(req, t->Name);
        if (!name) {
            kafka_admin_fail(op, GN_EINVALID_TOPIC);
            continue;
        }
        if (!kafka_authorize(req, GN_ACL_OP_ALTER, GN_ACL_RESOURCE_TOPIC, name)) {
            kafka_admin_refuse(op, KAFKA_TOPIC_AUTHORIZATION_FAILED);
            continue;
        }
        bool bad = false;
        for (int32_t a = 0; a < t->Assignments.count; a++) {
            kafka_int32_array_t *ids = &t->Assignments.items[a].BrokerIds;
            if (ids->count != 1 || ids->items[0] != node) bad = true;
        }
        if (bad) {
            kafka_admin_fail(op, GN_EINVALID_REPLICATION);
            tr->ErrorCode = KAFKA_INVALID_REPLICA_ASSIGNMENT;
            continue;
        }
        rc = gn_topic_add_partitions(req->broker, name, t->Count, in.ValidateOnly, kafka_admin_cb,
                                     op);
        if (rc < 0) kafka_admin_fail(op, rc);
    }
    return kafka_admin_complete(adm);
}
