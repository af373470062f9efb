/* SPDX-License-Identifier: Apache-2.0 */
/* Produce (key 0), v3-7: each partition's record set must be exactly one RecordBatch
 * v2; it goes to gn_produce, which validates it in place and appends it with one
 * write. acks=0 sends nothing back, acks=1 answers after the append, acks=-1 once
 * durable (the flush policy). The answer waits for every partition; later answers on
 * the connection wait for it (in-order responses). Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/record.h"

typedef kafka_ProduceResponse_PartitionProduceResponse_t part_resp_t;

typedef struct produce_ctx {
    kafka_req_t *req;
    kafka_ProduceResponse_t resp;
    int16_t acks;
    int pending;
    bool armed;
} produce_ctx_t;

typedef struct produce_part {
    produce_ctx_t *ctx;
    part_resp_t *out;
    gn_partition_t *part; /* valid during the handler only */
} produce_part_t;

static int finish(produce_ctx_t *ctx)
{
    if (ctx->acks == 0) return KAFKA_NO_RESPONSE;
    kafka_resp_begin(ctx->req);
    kafka_ProduceResponse_encode(&ctx->req->w, ctx->req->version, &ctx->resp);
    return KAFKA_DONE;
}

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    produce_part_t *pp = arg;
    produce_ctx_t *ctx = pp->ctx;
    if (status < 0) {
        pp->out->ErrorCode = kafka_err_from_gn(status);
    } else {
        pp->out->BaseOffset = res->base_offset;
        pp->out->LogAppendTimeMs = res->log_append_time;
        pp->out->LogStartOffset = res->log_start_offset;
    }
    if (--ctx->pending > 0 || !ctx->armed) return;
    int rc = finish(ctx);
    kafka_req_done(ctx->req, rc == KAFKA_NO_RESPONSE);
}

/* A Produce v3+ record set: exactly one magic-2 batch (Kafka's INVALID_RECORD rule). */
static int16_t check_records(gn_bytes_t rec)
{
    if (!rec.ptr || rec.len == 0) return KAFKA_INVALID_RECORD;
    gn_batch_header_t hdr;
    int64_t size = gn_batch_peek(rec.ptr, rec.len, &hdr);
    if (size == GN_EAGAIN) return KAFKA_CORRUPT_MESSAGE;
    if (size < 0) return kafka_err_from_gn((int)size);
    if ((size_t)size != rec.len) return KAFKA_INVALID_RECORD;
    return KAFKA_NONE;
}

int kafka_handle_Produce(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_ProduceRequest_t in;
    int rc = kafka_ProduceRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    produce_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    ctx->acks = in.Acks;
    kafka_ProduceResponse_init(&ctx->resp);
    kafka_ProduceResponse_t *out = &ctx->resp;
    int32_t nt = in.TopicData.count;
    out->Responses.items =
        kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out->Responses.items);
    if (!out->Responses.items) return GN_ENOMEM;
    out->Responses.count = nt;
    bool bad_acks = in.Acks != 0 && in.Acks != 1 && in.Acks != -1;
    bool txn = in.TransactionalId.ptr != NULL; /* transactions are not supported yet */

    /* Pass 1 allocates and checks everything, so that once the first append is in
     * flight nothing can fail the whole request (its callbacks reference ctx). */
    produce_part_t **parts = kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *parts);
    if (!parts) return GN_ENOMEM;
    for (int32_t i = 0; i < nt; i++) {
        kafka_ProduceRequest_TopicProduceData_t *td = &in.TopicData.items[i];
        kafka_ProduceResponse_TopicProduceResponse_t *tr = &out->Responses.items[i];
        int32_t np = td->PartitionData.count;
        tr->Name = kafka_req_keep(req, td->Name);
        tr->PartitionResponses.items =
            kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(part_resp_t));
        parts[i] = kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(produce_part_t));
        if (!tr->PartitionResponses.items || !parts[i]) return GN_ENOMEM;
        tr->PartitionResponses.count = np;
        const char *topic = kafka_req_cstr(req, td->Name);
        for (int32_t j = 0; j < np; j++) {
            kafka_ProduceRequest_PartitionProduceData_t *pd = &td->PartitionData.items[j];
            part_resp_t *pr = &tr->PartitionResponses.items[j];
            produce_part_t *pp = &parts[i][j];
            pp->ctx = ctx;
            pp->out = pr;
            pr->Index = pd->Index;
            pr->BaseOffset = -1;
            pr->LogAppendTimeMs = -1;
            pr->LogStartOffset = -1;
            pr->ErrorMessage = GN_BYTES_NULL;
            if (bad_acks)
                pr->ErrorCode = KAFKA_INVALID_REQUIRED_ACKS;
            else if (txn)
                pr->ErrorCode = KAFKA_INVALID_REQUEST;
            else if (!topic || gn_topic_name_validate(topic, strlen(topic)) < 0)
                pr->ErrorCode = KAFKA_INVALID_TOPIC_EXCEPTION;
            else if (!(pp->part = gn_partition_get(req->broker, topic, pd->Index)))
                pr->ErrorCode = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            else
                pr->ErrorCode = check_records(pd->Records.bytes);
        }
    }
    /* Pass 2: append. The frame is ours until the handler returns: gn_produce rewrites
     * offsets in place during the call. */
    for (int32_t i = 0; i < nt; i++) {
        kafka_ProduceRequest_TopicProduceData_t *td = &in.TopicData.items[i];
        for (int32_t j = 0; j < td->PartitionData.count; j++) {
            produce_part_t *pp = &parts[i][j];
            if (pp->out->ErrorCode != KAFKA_NONE) continue;
            gn_bytes_t rec = td->PartitionData.items[j].Records.bytes;
            rc = gn_produce(pp->part, (uint8_t *)rec.ptr, rec.len, (gn_acks_t)in.Acks, on_produced,
                            pp);
            if (rc < 0)
                pp->out->ErrorCode = kafka_err_from_gn(rc);
            else
                ctx->pending++;
        }
    }
    ctx->armed = true;
    if (ctx->pending > 0) return KAFKA_ASYNC;
    return finish(ctx);
}
