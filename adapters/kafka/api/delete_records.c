/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteRecords (key 21), v0-2: advances each partition's log start offset (offset
 * -1 = the high watermark) and answers the new low watermark. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_DeleteRecordsResponse_DeleteRecordsPartitionResult_t part_resp_t;

int kafka_handle_DeleteRecords(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DeleteRecordsRequest_t in;
    int rc = kafka_DeleteRecordsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_DeleteRecordsResponse_t out;
    kafka_DeleteRecordsResponse_init(&out);
    int32_t nt = in.Topics.count;
    out.Topics.items = kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out.Topics.items);
    if (!out.Topics.items) return GN_ENOMEM;
    out.Topics.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        kafka_DeleteRecordsRequest_DeleteRecordsTopic_t *t = &in.Topics.items[i];
        kafka_DeleteRecordsResponse_DeleteRecordsTopicResult_t *tr = &out.Topics.items[i];
        tr->Name = t->Name;
        int32_t np = t->Partitions.count;
        tr->Partitions.items = kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(part_resp_t));
        if (!tr->Partitions.items) return GN_ENOMEM;
        tr->Partitions.count = np;
        const char *topic = kafka_req_cstr(req, t->Name);
        bool denied = topic && np > 0 &&
                      !kafka_authorize(req, GN_ACL_OP_DELETE, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < np; j++) {
            part_resp_t *pr = &tr->Partitions.items[j];
            pr->PartitionIndex = t->Partitions.items[j].PartitionIndex;
            pr->LowWatermark = -1;
            if (denied) {
                pr->ErrorCode = KAFKA_TOPIC_AUTHORIZATION_FAILED;
                continue;
            }
            gn_partition_t *part =
                topic ? gn_partition_get(req->broker, topic, pr->PartitionIndex) : NULL;
            if (!part) {
                pr->ErrorCode =
                    topic ? KAFKA_UNKNOWN_TOPIC_OR_PARTITION : KAFKA_INVALID_TOPIC_EXCEPTION;
                continue;
            }
            int64_t low = -1;
            if ((rc = gn_topic_client_may_write(topic, "delete records of")) == 0)
                rc = gn_partition_delete_records(part, t->Partitions.items[j].Offset, &low);
            pr->ErrorCode = kafka_err_from_gn(rc);
            pr->LowWatermark = rc < 0 ? -1 : low;
        }
    }
    kafka_resp_begin(req);
    kafka_DeleteRecordsResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
