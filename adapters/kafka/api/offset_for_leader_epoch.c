/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetForLeaderEpoch (key 23), v0-4 (KIP-101, KIP-320): for each partition this broker
 * leads, the largest leader epoch <= the one asked and the offset where it ended in the
 * log (the log end for the current epoch), from the log's leader-epoch cache. Consumers
 * use it to validate their position after a leader change; CurrentLeaderEpoch (v2+)
 * fences clients with older or newer metadata. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

typedef kafka_OffsetForLeaderEpochResponse_EpochEndOffset_t part_resp_t;

static void lookup(kafka_req_t *req, const char *topic, bool denied,
                   const kafka_OffsetForLeaderEpochRequest_OffsetForLeaderPartition_t *in,
                   part_resp_t *out)
{
    out->Partition = in->Partition;
    out->LeaderEpoch = -1;
    out->EndOffset = -1;
    if (denied) {
        out->ErrorCode = KAFKA_TOPIC_AUTHORIZATION_FAILED;
        return;
    }
    gn_partition_t *part = topic ? gn_partition_get(req->broker, topic, in->Partition) : NULL;
    if (!part) {
        out->ErrorCode = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    int32_t current = req->version >= 2 ? in->CurrentLeaderEpoch : -1;
    int rc = gn_partition_leader_epoch(part, current, NULL);
    if (rc < 0) {
        out->ErrorCode = kafka_err_from_gn(rc);
        return;
    }
    gn_partition_epoch_end(part, in->LeaderEpoch, &out->LeaderEpoch, &out->EndOffset);
}

int kafka_handle_OffsetForLeaderEpoch(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_OffsetForLeaderEpochRequest_t in;
    int rc = kafka_OffsetForLeaderEpochRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_OffsetForLeaderEpochResponse_t out;
    kafka_OffsetForLeaderEpochResponse_init(&out);
    int32_t nt = in.Topics.count;
    out.Topics.items = kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out.Topics.items);
    if (!out.Topics.items) return GN_ENOMEM;
    out.Topics.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        kafka_OffsetForLeaderEpochRequest_OffsetForLeaderTopic_t *t = &in.Topics.items[i];
        kafka_OffsetForLeaderEpochResponse_OffsetForLeaderTopicResult_t *tr = &out.Topics.items[i];
        tr->Topic = t->Topic;
        int32_t np = t->Partitions.count;
        tr->Partitions.items = kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(part_resp_t));
        if (!tr->Partitions.items) return GN_ENOMEM;
        tr->Partitions.count = np;
        const char *topic = kafka_req_cstr(req, t->Topic);
        bool denied = topic && np > 0 &&
                      !kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < np; j++)
            lookup(req, topic, denied, &t->Partitions.items[j], &tr->Partitions.items[j]);
    }
    kafka_resp_begin(req);
    kafka_OffsetForLeaderEpochResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
