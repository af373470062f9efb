/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetDelete (key 47), v0: removes committed offsets of a group, refusing topics
 * a member still subscribes to (GROUP_SUBSCRIBED_TO_TOPIC). With the authorizer, as
 * Kafka: DELETE on the group (else GROUP_AUTHORIZATION_FAILED) and READ on each topic
 * (else its partitions are TOPIC_AUTHORIZATION_FAILED and kept). Loop thread. */
#include "group_api.h"

typedef struct odel_ctx {
    kafka_req_t *req;
    kafka_OffsetDeleteRequest_t in;
    bool *denied; /* [k]: the k-th partition's topic may not be read; not deleted */
} odel_ctx_t;

static void encode(odel_ctx_t *ctx, int status, const gn_group_offset_t *res, size_t count)
{
    kafka_req_t *req = ctx->req;
    kafka_OffsetDeleteResponse_t out;
    kafka_OffsetDeleteResponse_init(&out);
    out.ErrorCode = kafka_err_from_gn(status);
    int32_t nt = ctx->in.Topics.count > 0 ? ctx->in.Topics.count : 0;
    if (!status) {
        out.Topics.items =
            kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out.Topics.items);
        out.Topics.count = out.Topics.items ? nt : 0;
    }
    size_t k = 0, r = 0; /* r: the next of the deleted partitions' results */
    for (int32_t i = 0; i < out.Topics.count; i++) {
        kafka_OffsetDeleteRequest_OffsetDeleteRequestTopic_t *t = &ctx->in.Topics.items[i];
        kafka_OffsetDeleteResponse_OffsetDeleteResponseTopic_t *o = &out.Topics.items[i];
        int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
        o->Name = t->Name;
        o->Partitions.items =
            kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof *o->Partitions.items);
        o->Partitions.count = o->Partitions.items ? np : 0;
        for (int32_t j = 0; j < o->Partitions.count; j++, k++) {
            o->Partitions.items[j].PartitionIndex = t->Partitions.items[j].PartitionIndex;
            int err = ctx->denied[k] ? GN_ETOPIC_AUTHORIZATION : r < count ? res[r++].error : 0;
            o->Partitions.items[j].ErrorCode = kafka_err_from_gn(err);
        }
    }
    kafka_resp_begin(req);
    kafka_OffsetDeleteResponse_encode(&req->w, req->version, &out);
}

static void on_delete(void *arg, int status, const gn_group_offset_t *res, size_t count)
{
    odel_ctx_t *ctx = arg;
    encode(ctx, status, res, count);
    kafka_req_done(ctx->req, false);
}

int kafka_handle_OffsetDelete(kafka_req_t *req, kafka_reader_t *body)
{
    odel_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    int rc = kafka_OffsetDeleteRequest_decode(body, req->version, &req->arena, &ctx->in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    size_t n = 0;
    for (int32_t i = 0; i < ctx->in.Topics.count; i++)
        n += ctx->in.Topics.items[i].Partitions.count > 0
                 ? (size_t)ctx->in.Topics.items[i].Partitions.count
                 : 0;
    gn_group_offset_t *offs = kafka_arena_calloc(&req->arena, n + 1, sizeof *offs);
    ctx->denied = kafka_arena_calloc(&req->arena, n + 1, sizeof *ctx->denied);
    if (!offs || !ctx->denied) return GN_ENOMEM;
    size_t k = 0, kept = 0;
    for (int32_t i = 0; i < ctx->in.Topics.count; i++) {
        kafka_OffsetDeleteRequest_OffsetDeleteRequestTopic_t *t = &ctx->in.Topics.items[i];
        t->Name = kafka_req_keep(req, t->Name);
        const char *topic = kafka_group_str(req, t->Name);
        if (!topic) return GN_EINVALID_REQUEST;
        bool denied = t->Partitions.count > 0 &&
                      !kafka_authorize(req, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            if ((ctx->denied[k] = denied)) continue;
            offs[kept].topic = topic;
            offs[kept].partition = t->Partitions.items[j].PartitionIndex;
            offs[kept].offset = -1;
            offs[kept].leader_epoch = -1;
            kept++;
        }
    }
    const char *group = kafka_group_str(req, ctx->in.GroupId);
    if (!group) return GN_EINVALID_REQUEST;
    rc = !kafka_authorize(req, GN_ACL_OP_DELETE, GN_ACL_RESOURCE_GROUP, group)
             ? GN_EGROUP_AUTHORIZATION
         : coord ? gn_group_offset_delete(coord, group, offs, kept, on_delete, ctx)
                 : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(ctx, rc, NULL, 0);
    return KAFKA_DONE;
}
