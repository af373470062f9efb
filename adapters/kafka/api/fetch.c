/* SPDX-License-Identifier: Apache-2.0 */
/* Fetch (key 1), v4-11, session-less (SessionId 0). Reads whole batches per partition
 * as file slices (gn_partition_read) that conn.c sends with sendfile, bounded by
 * PartitionMaxBytes and the response MaxBytes (at least one batch, KIP-74). When less
 * than MinBytes is available it long-polls: a watch per partition on its high
 * watermark plus a MaxWaitMs timer; whichever fires first re-evaluates. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"

typedef kafka_FetchResponse_PartitionData_t part_resp_t;

typedef struct fetch_ctx fetch_ctx_t;

typedef struct fetch_part {
    fetch_ctx_t *ctx;
    const char *topic; /* NULL: invalid name */
    bool denied;       /* no READ on the topic */
    kafka_FetchRequest_FetchPartition_t *in;
    part_resp_t *out;
    gn_watch_t watch;
} fetch_part_t;

struct fetch_ctx {
    kafka_req_t *req;
    kafka_FetchRequest_t in;
    kafka_FetchResponse_t resp;
    fetch_part_t *parts;
    int32_t nparts;
    uv_timer_t timer;
    bool timer_init;
    bool finished; /* response built (or cancelled); waiting for the timer to close */
};

static void release_slices(fetch_ctx_t *ctx)
{
    for (int32_t i = 0; i < ctx->nparts; i++) {
        kafka_records_t *rec = &ctx->parts[i].out->Records;
        if (rec->has_slice) gn_log_slice_release(&rec->slice);
        rec->has_slice = false;
    }
}

/* Reads every partition; returns the bytes found. Errors count as "something to say"
 * (Kafka answers at once when a partition has an error). */
static int64_t evaluate(fetch_ctx_t *ctx, bool *has_error)
{
    int64_t total = 0;
    int64_t max_bytes = ctx->req->version >= 3 ? ctx->in.MaxBytes : INT32_MAX;
    if (max_bytes <= 0) max_bytes = 1;
    bool committed = ctx->in.IsolationLevel == 1;
    for (int32_t i = 0; i < ctx->nparts; i++) {
        fetch_part_t *fp = &ctx->parts[i];
        part_resp_t *pr = fp->out;
        pr->ErrorCode = KAFKA_NONE;
        pr->HighWatermark = pr->LastStableOffset = pr->LogStartOffset = -1;
        pr->AbortedTransactions.is_null = !committed;
        pr->AbortedTransactions.count = 0;
        pr->PreferredReadReplica = -1;
        if (fp->denied || !fp->topic) {
            pr->ErrorCode =
                fp->denied ? KAFKA_TOPIC_AUTHORIZATION_FAILED : KAFKA_INVALID_TOPIC_EXCEPTION;
            *has_error = true;
            continue;
        }
        gn_partition_t *part = gn_partition_get(ctx->req->broker, fp->topic, fp->in->Partition);
        if (!part) {
            pr->ErrorCode = KAFKA_UNKNOWN_TOPIC_OR_PARTITION;
            *has_error = true;
            continue;
        }
        /* only the leader serves, at the epoch the client knows (v9+) */
        int lrc = gn_partition_leader_epoch(
            part, ctx->req->version >= 9 ? fp->in->CurrentLeaderEpoch : -1, NULL);
        if (lrc < 0) {
            pr->ErrorCode = kafka_err_from_gn(lrc);
            *has_error = true;
            continue;
        }
        int64_t left = max_bytes - total;
        int64_t limit = fp->in->PartitionMaxBytes;
        if (limit > left) limit = left;
        gn_read_result_t rr;
        int rc;
        if (limit <= 0 && total > 0) {
            /* the response is full: report offsets only */
            rr.high_watermark = gn_partition_high_watermark(part);
            rr.last_stable_offset = rr.high_watermark;
            rr.log_start_offset = gn_partition_log_start_offset(part);
            rc = 0;
            if (fp->in->FetchOffset < rr.log_start_offset ||
                fp->in->FetchOffset > rr.high_watermark)
                rc = GN_EOFFSETRANGE;
            rr.slice.len = 0;
        } else {
            if (limit <= 0) limit = 1; /* KIP-74: still at least one batch */
            rc = gn_partition_read(part, fp->in->FetchOffset, (size_t)limit, &rr);
            if (rc < 0) {
                rr.high_watermark = gn_partition_high_watermark(part);
                rr.last_stable_offset = rr.high_watermark;
                rr.log_start_offset = gn_partition_log_start_offset(part);
            }
        }
        pr->HighWatermark = rr.high_watermark;
        pr->LastStableOffset = rr.last_stable_offset;
        pr->LogStartOffset = rr.log_start_offset;
        if (rc < 0) {
            pr->ErrorCode = kafka_err_from_gn(rc);
            *has_error = true;
            continue;
        }
        if (rr.slice.len > 0) {
            pr->Records.has_slice = true;
            pr->Records.slice = rr.slice;
            total += rr.slice.len;
        } else if (rr.slice.seg) {
            gn_log_slice_release(&rr.slice);
        }
    }
    return total;
}

static void respond(fetch_ctx_t *ctx)
{
    kafka_req_t *req = ctx->req;
    kafka_resp_begin(req);
    kafka_FetchResponse_encode(&req->w, req->version, &ctx->resp); /* slices move into w */
    release_slices(ctx); /* any not moved (an encoding error) */
}

static void arm_watches(fetch_ctx_t *ctx);
static void disarm_watches(fetch_ctx_t *ctx)
{
    for (int32_t i = 0; i < ctx->nparts; i++)
        gn_watch_cancel(&ctx->parts[i].watch);
}

static void on_timer_closed(uv_handle_t *h)
{
    fetch_ctx_t *ctx = h->data;
    kafka_req_done(ctx->req, false);
}

static void finish_async(fetch_ctx_t *ctx)
{
    ctx->finished = true;
    disarm_watches(ctx);
    uv_timer_stop(&ctx->timer);
    uv_close((uv_handle_t *)&ctx->timer, on_timer_closed);
}

static void wake(fetch_ctx_t *ctx, bool timeout)
{
    if (ctx->finished) return;
    disarm_watches(ctx);
    bool has_error = false;
    int64_t total = evaluate(ctx, &has_error);
    if (timeout || has_error || total >= ctx->in.MinBytes) {
        respond(ctx);
        finish_async(ctx);
        return;
    }
    release_slices(ctx);
    arm_watches(ctx);
}

static void on_watch(gn_watch_t *watch, int status)
{
    fetch_part_t *fp = watch->data;
    wake(fp->ctx, false);
}

static void on_timer(uv_timer_t *timer)
{
    wake(timer->data, true);
}

static void arm_watches(fetch_ctx_t *ctx)
{
    for (int32_t i = 0; i < ctx->nparts; i++) {
        fetch_part_t *fp = &ctx->parts[i];
        if (!fp->topic) continue;
        gn_partition_t *part = gn_partition_get(ctx->req->broker, fp->topic, fp->in->Partition);
        if (!part) continue;
        /* wake on data past what is already there */
        int64_t at = gn_partition_high_watermark(part);
        if (at < fp->in->FetchOffset) at = fp->in->FetchOffset;
        fp->watch.data = fp;
        gn_partition_watch(part, &fp->watch, at, on_watch);
    }
}

static void cancel(kafka_req_t *req)
{
    fetch_ctx_t *ctx = req->ctx;
    if (ctx->finished) return; /* the timer's close callback frees the request */
    release_slices(ctx);
    finish_async(ctx);
}

int kafka_handle_Fetch(kafka_req_t *req, kafka_reader_t *body)
{
    fetch_ctx_t *ctx = kafka_arena_alloc(&req->arena, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    int rc = kafka_FetchRequest_decode(body, req->version, &req->arena, &ctx->in);
    if (rc < 0) return rc;
    ctx->req = req;
    kafka_FetchResponse_t *out = &ctx->resp;
    kafka_FetchResponse_init(out);
    out->SessionId = 0;
    /* Fetch sessions (KIP-227) are not kept: a client asking for one gets a full
     * response each time; an id we never handed out is unknown. */
    if (ctx->in.SessionId != 0) {
        out->ErrorCode = KAFKA_FETCH_SESSION_ID_NOT_FOUND;
        kafka_resp_begin(req);
        kafka_FetchResponse_encode(&req->w, req->version, out);
        return KAFKA_DONE;
    }
    int32_t nt = ctx->in.Topics.count, total_parts = 0;
    for (int32_t i = 0; i < nt; i++)
        total_parts += ctx->in.Topics.items[i].Partitions.count;
    out->Responses.items =
        kafka_arena_calloc(&req->arena, (size_t)nt + 1, sizeof *out->Responses.items);
    ctx->parts = kafka_arena_calloc(&req->arena, (size_t)total_parts + 1, sizeof *ctx->parts);
    if (!out->Responses.items || !ctx->parts) return GN_ENOMEM;
    out->Responses.count = nt;
    for (int32_t i = 0; i < nt; i++) {
        kafka_FetchRequest_FetchTopic_t *ft = &ctx->in.Topics.items[i];
        kafka_FetchResponse_FetchableTopicResponse_t *tr = &out->Responses.items[i];
        tr->Topic = kafka_req_keep(req, ft->Topic);
        memcpy(tr->TopicId, ft->TopicId, 16);
        int32_t np = ft->Partitions.count;
        tr->Partitions.items = kafka_arena_calloc(&req->arena, (size_t)np + 1, sizeof(part_resp_t));
        if (!tr->Partitions.items) return GN_ENOMEM;
        tr->Partitions.count = np;
        const char *topic = kafka_req_cstr(req, ft->Topic);
        bool denied =
            topic && np > 0 && !kafka_authorize(req, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, topic);
        for (int32_t j = 0; j < np; j++) {
            fetch_part_t *fp = &ctx->parts[ctx->nparts++];
            fp->ctx = ctx;
            fp->topic = topic;
            fp->denied = denied;
            fp->in = &ft->Partitions.items[j];
            fp->out = &tr->Partitions.items[j];
            fp->out->PartitionIndex = fp->in->Partition;
        }
    }
    bool has_error = false;
    int64_t total = evaluate(ctx, &has_error);
    if (has_error || total >= ctx->in.MinBytes || ctx->in.MaxWaitMs <= 0 || ctx->nparts == 0) {
        respond(ctx);
        return KAFKA_DONE;
    }
    release_slices(ctx);
    rc = uv_timer_init(gn_broker_loop(req->broker), &ctx->timer);
    if (rc < 0) return rc;
    ctx->timer.data = ctx;
    ctx->timer_init = true;
    uv_timer_start(&ctx->timer, on_timer, (uint64_t)ctx->in.MaxWaitMs, 0);
    arm_watches(ctx);
    req->ctx = ctx;
    req->cancel = cancel;
    return KAFKA_ASYNC;
}
