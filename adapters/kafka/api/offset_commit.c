/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetCommit (key 8), v0-8: checks generation and member (v1+; v0 and generation
 * -1 are simple commits for groups without members), and answers once the offsets
 * are durable in __consumer_offsets. RetentionTimeMs (v2-4) is ignored, as Kafka
 * 2.1+ does. With the authorizer: READ on the group (else every partition is
 * GROUP_AUTHORIZATION_FAILED) and on each topic (else its partitions are
 * TOPIC_AUTHORIZATION_FAILED and the others are committed), as Kafka. Loop thread. */
#include "group_api.h"

typedef struct commit_ctx {
    kafka_req_t *req;
    kafka_OffsetCommitRequest_t in;
    bool *denied; /* [k]: the k-th partition's topic may not be read; not committed */
} commit_ctx_t;

static void encode(commit_ctx_t *ctx, int status, const gn_group_offset_t *res, size_t count)
{
    kafka_req_t *req = ctx->req;
    kafka_OffsetCommitResponse_t out;
    kafka_OffsetCommitResponse_init(&out);
    int32_t nt = ctx->in.Topics.count > 0 ? ctx->in.Topics.count : 0;
    out.Topics.items = kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out.Topics.items);
    out.Topics.count = out.Topics.items ? nt : 0;
    size_t k = 0, r = 0; /* r: the next of the committed partitions' results */
    for (int32_t i = 0; i < out.Topics.count; i++) {
        kafka_OffsetCommitRequest_OffsetCommitRequestTopic_t *t = &ctx->in.Topics.items[i];
        kafka_OffsetCommitResponse_OffsetCommitResponseTopic_t *o = &out.Topics.items[i];
        int32_t np = t->Partitions.count > 0 ? t->Partitions.count : 0;
        o->Name = t->Name;
        o->Partitions.items =
            kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof *o->Partitions.items);
        o->Partitions.count = o->Partitions.items ? np : 0;
        for (int32_t j = 0; j < o->Partitions.count; j++, k++) {
            o->Partitions.items[j].PartitionIndex = t->Partitions.items[j].PartitionIndex;
            int err = status           ? status
                      : ctx->denied[k] ? GN_ETOPIC_AUTHORIZATION
                      : r < count      ? res[r++].error
                                       : GN_ESHUTDOWN;
            o->Partitions.items[j].ErrorCode = kafka_err_from_gn(err);
        }
    }
    kafka_resp_begin(req);
    kafka_OffsetCommitResponse_encode(&req->w, req->version, &out);
}

static void on_commit(void *arg, int status, const gn_group_offset_t *res, size_t count)
{
    commit_ctx_t *ctx = arg;
    encode(ctx, status, res, count);
    kafka_req_done(ctx->req, false);
}

int kafka_handle_OffsetCommit(kafka_req_t *req, kafka_reader_t *body)
{
    commit_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    int rc = kafka_OffsetCommitRequest_decode(body, req->version, &req->arena, &ctx->in);
    if (rc < 0) return rc;
    kafka_OffsetCommitRequest_t *in = &ctx->in;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    size_t n = 0;
    for (int32_t i = 0; i < in->Topics.count; i++)
        n +=
            (size_t)(in->Topics.items[i].Partitions.count > 0 ? in->Topics.items[i].Partitions.count
                                                              : 0);
    gn_group_offset_t *offs = kafka_arena_calloc(&req->arena, n + 1, sizeof *offs);
    ctx->denied = kafka_arena_calloc(&req->arena, n + 1, sizeof *ctx->denied);
    if (!offs || !ctx->denied) return GN_ENOMEM;
    size_t k = 0, committed = 0;
    for (int32_t i = 0; i < in->Topics.count; i++) {
        kafka_OffsetCommitRequest_OffsetCommitRequestTopic_t *t = &in->Topics.items[i];
        t->Name = kafka_req_keep(req, t->Name); /* echoed in the async response */
        const char *topic = kafka_group_str(req, t->Name);
        if (!topic) return GN_EINVALID_REQUEST;
        bool denied = t->Partitions.count > 0 &&
                      !kafka_authorize(req, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < t->Partitions.count; j++, k++) {
            kafka_OffsetCommitRequest_OffsetCommitRequestPartition_t *p = &t->Partitions.items[j];
            if ((ctx->denied[k] = denied)) continue;
            gn_group_offset_t *o = &offs[committed++];
            o->topic = topic;
            o->partition = p->PartitionIndex;
            o->offset = p->CommittedOffset;
            o->leader_epoch = req->version >= 6 ? p->CommittedLeaderEpoch : -1;
            o->metadata = kafka_group_opt(req, p->CommittedMetadata);
        }
    }
    gn_group_commit_req_t cr = {
        .group_id = kafka_group_str(req, in->GroupId),
        .generation_id = req->version >= 1 ? in->GenerationIdOrMemberEpoch : -1,
        .member_id = req->version >= 1 ? kafka_group_str(req, in->MemberId) : "",
        .instance_id = req->version >= 7 ? kafka_group_opt(req, in->GroupInstanceId) : NULL,
        .offsets = offs,
        .count = committed,
    };
    if (!cr.group_id || !cr.member_id) return GN_EINVALID_REQUEST;
    rc = !kafka_group_authorize(req, cr.group_id) ? GN_EGROUP_AUTHORIZATION
         : coord                                  ? gn_group_commit(coord, &cr, on_commit, ctx)
                                                  : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    encode(ctx, rc, NULL, 0);
    return KAFKA_DONE;
}
