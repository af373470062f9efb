/* SPDX-License-Identifier: Apache-2.0 */
/* ListOffsets (key 2), v1-7: earliest (-2) = log start offset, latest (-1) = high
 * watermark (= last stable offset without transactions), max timestamp (-3, v7+),
 * or the first offset whose batch max timestamp >= ts (the time index). Served by the
 * partition leader only, fencing a CurrentLeaderEpoch (v4+) that differs from its own;
 * LeaderEpoch is the leader's current epoch. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

#define KAFKA_TS_LATEST        (-1)
#define KAFKA_TS_EARLIEST      (-2)
#define KAFKA_TS_MAX_TIMESTAMP (-3)

typedef kafka_ListOffsetsResponse_ListOffsetsPartitionResponse_t part_resp_t;

static void lookup(kafka_req_t *req, const char *topic, bool denied,
                   const kafka_ListOffsetsRequest_ListOffsetsPartition_t *in, part_resp_t *out)
{
    out->PartitionIndex = in->PartitionIndex;
    out->Timestamp = -1;
    out->Offset = -1;
    out->LeaderEpoch = -1;
    if (denied) {
        out->ErrorCode = KAFKA_TOPIC_AUTHORIZATION_FAILED;
        return;
    }
    if (!topic) {
        out->ErrorCode = KAFKA_INVALID_TOPIC_EXCEPTION;
        return;
    }
    gn_partition_t *part = gn_partition_get(req->broker, topic, in->PartitionIndex);
    if (!part) {
        out->ErrorCode = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    int32_t epoch;
    int rc =
        gn_partition_leader_epoch(part, req->version >= 4 ? in->CurrentLeaderEpoch : -1, &epoch);
    if (rc < 0) {
        out->ErrorCode = kafka_err_from_gn(rc);
        return;
    }
    switch (in->Timestamp) {
    case KAFKA_TS_EARLIEST:
        out->Offset = gn_partition_log_start_offset(part);
        break;
    case KAFKA_TS_LATEST:
        out->Offset = gn_partition_high_watermark(part);
        break;
    case KAFKA_TS_MAX_TIMESTAMP:
        if (req->version < 7) {
            rc = GN_EINVALID_REQUEST;
            break;
        }
        rc = gn_partition_max_timestamp(part, &out->Offset, &out->Timestamp);
        break;
    default:
        if (in->Timestamp < 0) {
            rc = GN_EINVALID_REQUEST;
            break;
        }
        rc = gn_partition_offset_for_time(part, in->Timestamp, &out->Offset, &out->Timestamp);
        break;
    }
    if (rc < 0) {
        out->ErrorCode = kafka_err_from_gn(rc);
        out->Offset = out->Timestamp = -1;
        return;
    }
    out->LeaderEpoch = out->Offset >= 0 ? epoch : -1;
}

int kafka_handle_ListOffsets(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_ListOffsetsRequest_t in;
    int rc = kafka_ListOffsetsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_ListOffsetsResponse_t out;
    kafka_ListOffsetsResponse_init(&out);
    int32_t nt = in.Topics.count;
    out.Topics.items = kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out.Topics.items);
    if (!out.Topics.items) return GN_ENOMEM;
    out.Topics.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        kafka_ListOffsetsRequest_ListOffsetsTopic_t *t = &in.Topics.items[i];
        kafka_ListOffsetsResponse_ListOffsetsTopicResponse_t *tr = &out.Topics.items[i];
        tr->Name = t->Name;
        int32_t np = t->Partitions.count;
        tr->Partitions.items = kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(part_resp_t));
        if (!tr->Partitions.items) return GN_ENOMEM;
        tr->Partitions.count = np;
        const char *topic = kafka_req_cstr(req, t->Name);
        bool denied = topic && np > 0 &&
                      !kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < np; j++)
            lookup(req, topic, denied, &t->Partitions.items[j], &tr->Partitions.items[j]);
    }
    kafka_resp_begin(req);
    kafka_ListOffsetsResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
