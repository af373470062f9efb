/* SPDX-License-Identifier: Apache-2.0 */
/* Completion of asynchronous admin requests (CreateTopics, DeleteTopics,
 * CreatePartitions, AlterConfigs ...): counts the core's gn_admin_cb completions of
 * one request, writes each outcome into its response entry, and encodes the response
 * when the last one arrives. Also small request helpers. Loop thread. */
#include "kafka.h"

#include "ganglion/error.h"

struct kafka_admin {
    kafka_req_t *req;
    kafka_admin_finish_fn finish;
    void *resp;
    int pending;
    bool armed;   /* every operation has been started */
    bool aborted; /* the handler failed: close instead of answering */
};

typedef struct kafka_admin_op {
    kafka_admin_t *adm;
    int16_t *error_code;
    gn_bytes_t *error_message;
} kafka_admin_op_t;

const char *kafka_req_cstr(kafka_req_t *req, gn_bytes_t s)
{
    if (!s.ptr || memchr(s.ptr, 0, s.len)) return NULL;
    return kafka_arena_strdup(&req->arena, s);
}

gn_bytes_t kafka_req_keep(kafka_req_t *req, gn_bytes_t s)
{
    if (!s.ptr) return s;
    uint8_t *p = kafka_arena_alloc(&req->arena, s.len + 1);
    if (!p) return GN_BYTES_STR(""); /* out of memory: an empty name, never a dangling one */
    memcpy(p, s.ptr, s.len);
    return (gn_bytes_t){p, s.len};
}

kafka_admin_t *kafka_admin_new(kafka_req_t *req, kafka_admin_finish_fn finish, void *resp)
{
    kafka_admin_t *adm = kafka_arena_alloc(&req->arena, sizeof *adm);
    if (!adm) return NULL;
    adm->req = req;
    adm->finish = finish;
    adm->resp = resp;
    return adm;
}

void *kafka_admin_op(kafka_admin_t *adm, int16_t *error_code, gn_bytes_t *error_message)
{
    kafka_admin_op_t *op = kafka_arena_alloc(&adm->req->arena, sizeof *op);
    if (!op) return NULL;
    op->adm = adm;
    op->error_code = error_code;
    op->error_message = error_message;
    adm->pending++;
    return op;
}

static void record(kafka_admin_op_t *op, int status)
{
    if (op->error_code) *op->error_code = kafka_err_from_gn(status);
    if (op->error_message)
        *op->error_message = status < 0 ? kafka_cstr_bytes(gn_strerror(status)) : GN_BYTES_NULL;
}

static void finish(kafka_admin_t *adm)
{
    adm->finish(adm->req, adm->resp);
}

void kafka_admin_cb(void *arg, int status)
{
    kafka_admin_op_t *op = arg;
    kafka_admin_t *adm = op->adm;
    record(op, status);
    if (--adm->pending > 0 || !adm->armed) return;
    kafka_req_t *req = adm->req;
    if (adm->aborted) {
        if (req->conn) kafka__conn_close(req->conn, "out of memory");
        kafka_req_done(req, true); /* the connection is gone: frees the request */
        return;
    }
    finish(adm);
    kafka_req_done(req, false);
}

void kafka_admin_fail(void *arg, int status)
{
    kafka_admin_op_t *op = arg;
    record(op, status);
    op->adm->pending--;
}

int kafka_admin_abort(kafka_admin_t *adm, int err)
{
    if (adm->pending == 0) return err;
    adm->armed = true;
    adm->aborted = true;
    return KAFKA_ASYNC;
}

int kafka_admin_complete(kafka_admin_t *adm)
{
    adm->armed = true;
    if (adm->pending > 0) return KAFKA_ASYNC;
    finish(adm);
    return KAFKA_DONE;
}

void kafka_admin_refuse(void *arg, int16_t error_code)
{
    kafka_admin_op_t *op = arg;
    record(op, 0);
    if (op->error_code) *op->error_code = error_code;
    op->adm->pending--;
}
