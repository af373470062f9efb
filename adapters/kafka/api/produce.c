/* SPDX-License-Identifier: Apache-2.0 */
/* Produce (key 0), v3-7: each partition's record set must be exactly one RecordBatch
 * v2; it goes to gn_produce, which validates it in place and appends it with one
 * write. acks=0 sends nothing back, acks=1 answers after the append, acks=-1 once
 * durable (the flush policy) and replicated to the ISR, or after the request's
 * TimeoutMs with REQUEST_TIMED_OUT for the partitions still waiting (the records stay
 * in the log, as in Kafka's DelayedProduce). The answer waits for every partition;
 * later answers on the connection wait for it (in-order responses). Loop thread. */
#include <stdlib.h>

#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/record.h"

typedef kafka_ProduceResponse_PartitionProduceResponse_t part_resp_t;
typedef struct produce_ctx produce_ctx_t;

typedef struct produce_part {
    produce_ctx_t *ctx;
    part_resp_t *out;     /* in the request's arena: only while ctx->req is set */
    gn_partition_t *part; /* valid during the handler only */
    bool waiting;         /* gn_produce's callback has not run yet */
} produce_part_t;

/* Heap-allocated (not in the request's arena): core callbacks may still arrive after
 * the request was answered by its timeout or freed with its connection. */
struct produce_ctx {
    kafka_req_t *req; /* NULL once answered or cancelled */
    kafka_ProduceResponse_t resp;
    int16_t acks;
    int32_t timeout_ms;
    int pending; /* gn_produce callbacks still to come */
    int refs;    /* pending callbacks + the timer until it is closed */
    bool armed;  /* every append was started */
    uv_timer_t timer;
    bool has_timer;
    int32_t nparts;
    produce_part_t parts[];
};

static void ctx_unref(produce_ctx_t *ctx)
{
    if (--ctx->refs == 0) free(ctx);
}

static void on_timer_closed(uv_handle_t *h)
{
    ctx_unref(h->data);
}

static void stop_timer(produce_ctx_t *ctx)
{
    if (!ctx->has_timer) return;
    ctx->has_timer = false;
    uv_timer_stop(&ctx->timer);
    uv_close((uv_handle_t *)&ctx->timer, on_timer_closed);
}

static int finish(produce_ctx_t *ctx)
{
    if (ctx->acks == 0) return KAFKA_NO_RESPONSE;
    kafka_resp_begin(ctx->req);
    kafka_ProduceResponse_encode(&ctx->req->w, ctx->req->version, &ctx->resp);
    return KAFKA_DONE;
}

/* The asynchronous answer: once, from the last callback or from the timeout. */
static void answer(produce_ctx_t *ctx)
{
    kafka_req_t *req = ctx->req;
    int rc = finish(ctx);
    ctx->req = NULL;
    req->ctx = NULL;
    req->cancel = NULL;
    stop_timer(ctx);
    kafka_req_done(req, rc == KAFKA_NO_RESPONSE);
}

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    produce_part_t *pp = arg;
    produce_ctx_t *ctx = pp->ctx;
    pp->waiting = false;
    ctx->pending--;
    if (ctx->req) {
        if (status < 0) {
            pp->out->ErrorCode = kafka_err_from_gn(status);
        } else {
            pp->out->BaseOffset = res->base_offset;
            pp->out->LogAppendTimeMs = res->log_append_time;
            pp->out->LogStartOffset = res->log_start_offset;
        }
        if (ctx->pending == 0 && ctx->armed) answer(ctx);
    }
    ctx_unref(ctx);
}

/* TimeoutMs passed before every acks=all partition was replicated (or synced). */
static void on_timeout(uv_timer_t *timer)
{
    produce_ctx_t *ctx = timer->data;
    if (!ctx->req) return;
    int timed_out = 0;
    for (int32_t i = 0; i < ctx->nparts; i++) {
        if (!ctx->parts[i].waiting) continue;
        ctx->parts[i].out->ErrorCode = KAFKA_REQUEST_TIMED_OUT;
        timed_out++;
    }
    GN_DEBUG("kafka",
             "produce timed out waiting for the ISR | client=%s partitions=%d timeout_ms=%d",
             kafka_req_peer(ctx->req), timed_out, (int)ctx->timeout_ms);
    answer(ctx);
}

/* The connection closed while the request waits: nothing is sent; the callbacks still to
 * come only release the context. */
static void cancel(kafka_req_t *req)
{
    produce_ctx_t *ctx = req->ctx;
    ctx->req = NULL;
    req->ctx = NULL;
    req->cancel = NULL;
    stop_timer(ctx);
    kafka_req_done(req, true);
}

/* A Produce v3+ record set: exactly one magic-2 batch (Kafka's INVALID_RECORD rule);
 * zstd from v7 only (Kafka's rule: the clients of older versions cannot read it); a
 * maxTimestamp below the base timestamp (Sarama before 1.23 sends -1) is filled in from
 * the records, as Kafka's LogValidator does, for the time index and retention. */
static int16_t check_records(gn_bytes_t rec, int16_t version)
{
    if (!rec.ptr || rec.len == 0) return KAFKA_INVALID_RECORD;
    gn_batch_header_t hdr;
    int64_t size = gn_batch_peek(rec.ptr, rec.len, &hdr);
    if (size == GN_EAGAIN) return KAFKA_CORRUPT_MESSAGE;
    if (size < 0) return kafka_err_from_gn((int)size);
    if ((size_t)size != rec.len) return KAFKA_INVALID_RECORD;
    if (version < 7 && (hdr.attributes & GN_ATTR_COMPRESSION_MASK) == GN_COMPRESSION_ZSTD)
        return KAFKA_UNSUPPORTED_COMPRESSION_TYPE;
    int rc = gn_batch_repair_max_timestamp((uint8_t *)rec.ptr, rec.len);
    return rc < 0 ? kafka_err_from_gn(rc) : KAFKA_NONE;
}

/* Arms the request's TimeoutMs for acks=all (Kafka applies it to acks=all only; a
 * TimeoutMs <= 0 waits without limit here, see docs/kafka.md). */
static int start_timer(produce_ctx_t *ctx)
{
    if (ctx->acks != -1 || ctx->timeout_ms <= 0) return 0;
    int rc = uv_timer_init(gn_broker_loop(ctx->req->broker), &ctx->timer);
    if (rc < 0) return rc;
    ctx->timer.data = ctx;
    ctx->has_timer = true;
    ctx->refs++;
    return uv_timer_start(&ctx->timer, on_timeout, (uint64_t)ctx->timeout_ms, 0);
}

int kafka_handle_Produce(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_ProduceRequest_t in;
    int rc = kafka_ProduceRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    int32_t nt = in.TopicData.count, nparts = 0;
    for (int32_t i = 0; i < nt; i++)
        nparts += in.TopicData.items[i].PartitionData.count;
    produce_ctx_t *ctx = calloc(1, sizeof *ctx + (size_t)nparts * sizeof(produce_part_t));
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    ctx->acks = in.Acks;
    ctx->timeout_ms = in.TimeoutMs;
    ctx->nparts = nparts;
    ctx->refs = 1; /* the handler's, dropped at its end */
    kafka_ProduceResponse_init(&ctx->resp);
    kafka_ProduceResponse_t *out = &ctx->resp;
    out->Responses.items =
        kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out->Responses.items);
    if (!out->Responses.items) {
        free(ctx);
        return GN_ENOMEM;
    }
    out->Responses.count = nt;
    bool bad_acks = in.Acks != 0 && in.Acks != 1 && in.Acks != -1;
    bool txn = in.TransactionalId.ptr != NULL; /* transactions are not supported yet */

    /* Pass 1 allocates and checks everything, so that once the first append is in
     * flight nothing can fail the whole request (its callbacks reference ctx). */
    produce_part_t *pp = ctx->parts;
    for (int32_t i = 0; i < nt; i++) {
        kafka_ProduceRequest_TopicProduceData_t *td = &in.TopicData.items[i];
        kafka_ProduceResponse_TopicProduceResponse_t *tr = &out->Responses.items[i];
        int32_t np = td->PartitionData.count;
        tr->Name = kafka_req_keep(req, td->Name);
        tr->PartitionResponses.items =
            kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(part_resp_t));
        if (!tr->PartitionResponses.items) {
            free(ctx);
            return GN_ENOMEM;
        }
        tr->PartitionResponses.count = np;
        const char *topic = kafka_req_cstr(req, td->Name);
        bool allowed =
            !topic || kafka_authorize(req, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < np; j++, pp++) {
            kafka_ProduceRequest_PartitionProduceData_t *pd = &td->PartitionData.items[j];
            part_resp_t *pr = &tr->PartitionResponses.items[j];
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
            else if (!allowed)
                pr->ErrorCode = KAFKA_TOPIC_AUTHORIZATION_FAILED;
            else if (!topic || gn_topic_name_validate(topic, strlen(topic)) < 0)
                pr->ErrorCode = KAFKA_INVALID_TOPIC_EXCEPTION;
            else if (gn_topic_client_may_write(topic, "produce to") < 0)
                pr->ErrorCode = KAFKA_INVALID_TOPIC_EXCEPTION; /* as Kafka's */
            else if (!(pp->part = gn_partition_get(req->broker, topic, pd->Index)))
                pr->ErrorCode = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            else
                pr->ErrorCode = check_records(pd->Records.bytes, req->version);
        }
    }
    /* Pass 2: append. The frame is ours until the handler returns: gn_produce rewrites
     * offsets in place during the call. */
    pp = ctx->parts;
    for (int32_t i = 0; i < nt; i++) {
        kafka_ProduceRequest_TopicProduceData_t *td = &in.TopicData.items[i];
        for (int32_t j = 0; j < td->PartitionData.count; j++, pp++) {
            if (pp->out->ErrorCode != KAFKA_NONE) continue;
            gn_bytes_t rec = td->PartitionData.items[j].Records.bytes;
            if (!gn_partition_is_leader(pp->part)) { /* Kafka clients follow Metadata */
                pp->out->ErrorCode = KAFKA_NOT_LEADER_OR_FOLLOWER;
                continue;
            }
            rc = gn_produce(pp->part, (uint8_t *)rec.ptr, rec.len, (gn_acks_t)in.Acks, on_produced,
                            pp);
            if (rc < 0) {
                pp->out->ErrorCode = kafka_err_from_gn(rc);
            } else {
                pp->waiting = true;
                ctx->pending++;
                ctx->refs++;
            }
        }
    }
    ctx->armed = true;
    if (ctx->pending == 0) {
        rc = finish(ctx);
        ctx_unref(ctx);
        return rc;
    }
    if ((rc = start_timer(ctx)) < 0)
        GN_WARN("kafka", "cannot start the produce timeout; waiting without it | client=%s err=%s",
                kafka_req_peer(req), gn_err_name(rc));
    req->ctx = ctx;
    req->cancel = cancel;
    ctx_unref(ctx);
    return KAFKA_ASYNC;
}
