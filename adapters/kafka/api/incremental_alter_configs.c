/* SPDX-License-Identifier: Apache-2.0 */
/* IncrementalAlterConfigs (key 44), v0-1: per-key SET / DELETE / APPEND / SUBTRACT on
 * a topic's overrides. Broker configs are static: refused with INVALID_REQUEST. Loop
 * thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_t resp_t;

static void finish(kafka_req_t *req, void *arg)
{
    kafka_resp_begin(req);
    kafka_IncrementalAlterConfigsResponse_encode(&req->w, req->version, arg);
}

int kafka_handle_IncrementalAlterConfigs(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_IncrementalAlterConfigsRequest_t in;
    int rc = kafka_IncrementalAlterConfigsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_IncrementalAlterConfigsResponse_t *out = kafka_arena_alloc(&req->arena, sizeof *out);
    if (!out) return GN_ENOMEM;
    kafka_IncrementalAlterConfigsResponse_init(out);
    int32_t n = in.Resources.count;
    out->Responses.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(resp_t));
    kafka_admin_t *adm = kafka_admin_new(req, finish, out);
    if (!out->Responses.items || !adm) return GN_ENOMEM;
    out->Responses.count = n;
    for (int32_t i = 0; i < n; i++) {
        kafka_IncrementalAlterConfigsRequest_AlterConfigsResource_t *r = &in.Resources.items[i];
        resp_t *res = &out->Responses.items[i];
        res->ResourceType = r->ResourceType;
        res->ResourceName = kafka_req_keep(req, r->ResourceName);
        res->ErrorMessage = GN_BYTES_NULL;
        void *op = kafka_admin_op(adm, &res->ErrorCode, &res->ErrorMessage);
        if (!op) return kafka_admin_abort(adm, GN_ENOMEM);
        const char *name = kafka_req_cstr(req, r->ResourceName);
        if (r->ResourceType != 2 || !name) {
            kafka_admin_fail(op, r->ResourceType != 2 ? GN_EINVALID_REQUEST : GN_EINVALID_TOPIC);
            continue;
        }
        int32_t nc = r->Configs.count;
        gn_config_entry_t *entries =
            kafka_arena_calloc(&req->arena, (size_t)nc + 1, sizeof *entries);
        gn_alter_op_t *ops = kafka_arena_calloc(&req->arena, (size_t)nc + 1, sizeof *ops);
        if (!entries || !ops) return kafka_admin_abort(adm, GN_ENOMEM);
        int err = 0;
        for (int32_t c = 0; c < nc; c++) {
            kafka_IncrementalAlterConfigsRequest_AlterableConfig_t *ac = &r->Configs.items[c];
            entries[c].name = kafka_req_cstr(req, ac->Name);
            entries[c].value = kafka_req_cstr(req, ac->Value);
            if (!entries[c].name || ac->ConfigOperation < 0 || ac->ConfigOperation > 3)
                err = GN_EINVALID_CONFIG;
            ops[c] = (gn_alter_op_t)ac->ConfigOperation; /* same numbering as Kafka's */
            if (ops[c] == GN_ALTER_DELETE) entries[c].value = NULL;
        }
        if (!err)
            err = gn_topic_alter_configs(req->broker, name, entries, ops, (size_t)nc, false,
                                         in.ValidateOnly, kafka_admin_cb, op);
        if (err < 0) kafka_admin_fail(op, err);
    }
    return kafka_admin_complete(adm);
}
