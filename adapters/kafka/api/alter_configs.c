/* SPDX-License-Identifier: Apache-2.0 */
/* AlterConfigs (key 33, v0-2) and IncrementalAlterConfigs (key 44, v0-1) of topic
 * overrides. AlterConfigs replaces a topic's overrides with the given set (Kafka's
 * non-incremental semantics: keys not listed go back to their defaults);
 * IncrementalAlterConfigs applies SET / DELETE / APPEND / SUBTRACT per key. Broker configs
 * are static (set at start-up): refused with INVALID_REQUEST. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

/* One resource of either request: its admin op answers into *code and *msg. `err` is
 * what decoding its configs found wrong (0: none); ops NULL for AlterConfigs. Returns
 * GN_ENOMEM when the request must be aborted, 0 otherwise. */
static int alter_resource(kafka_req_t *req, kafka_admin_t *adm, int8_t type, gn_bytes_t rname,
                          int16_t *code, gn_bytes_t *msg, const gn_config_entry_t *entries,
                          const gn_alter_op_t *ops, size_t n, int err, bool validate_only)
{
    *msg = GN_BYTES_NULL;
    void *op = kafka_admin_op(adm, code, msg);
    if (!op) return GN_ENOMEM;
    const char *name = kafka_req_cstr(req, rname);
    if (type != 2 || !name) {
        kafka_admin_fail(op, type != 2 ? GN_EINVALID_REQUEST : GN_EINVALID_TOPIC);
        return 0;
    }
    if (!kafka_authorize(req, GN_ACL_OP_ALTER_CONFIGS, GN_ACL_RESOURCE_TOPIC, name)) {
        kafka_admin_refuse(op, KAFKA_TOPIC_AUTHORIZATION_FAILED);
        return 0;
    }
    if (!entries) return GN_ENOMEM;
    if (!err)
        err = gn_topic_alter_configs(req->broker, name, entries, ops, n, ops == NULL, validate_only,
                                     kafka_admin_cb, op);
    if (err < 0) kafka_admin_fail(op, err);
    return 0;
}

static void finish_alter(kafka_req_t *req, void *arg)
{
    kafka_resp_begin(req);
    kafka_AlterConfigsResponse_encode(&req->w, req->version, arg);
}

int kafka_handle_AlterConfigs(kafka_req_t *req, kafka_reader_t *body)
{
    typedef kafka_AlterConfigsResponse_AlterConfigsResourceResponse_t resp_t;
    kafka_AlterConfigsRequest_t in;
    int rc = kafka_AlterConfigsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_AlterConfigsResponse_t *out = kafka_arena_alloc(&req->arena, sizeof *out);
    if (!out) return GN_ENOMEM;
    kafka_AlterConfigsResponse_init(out);
    int32_t n = in.Resources.count;
    out->Responses.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(resp_t));
    kafka_admin_t *adm = kafka_admin_new(req, finish_alter, out);
    if (!out->Responses.items || !adm) return GN_ENOMEM;
    out->Responses.count = n;
    for (int32_t i = 0; i < n; i++) {
        kafka_AlterConfigsRequest_AlterConfigsResource_t *r = &in.Resources.items[i];
        resp_t *res = &out->Responses.items[i];
        res->ResourceType = r->ResourceType;
        res->ResourceName = kafka_req_keep(req, r->ResourceName);
        int32_t nc = r->Configs.count;
        gn_config_entry_t *entries =
            kafka_arena_calloc(&req->arena, (size_t)nc + 1, sizeof *entries);
        int err = 0;
        for (int32_t c = 0; entries && c < nc; c++) {
            entries[c].name = kafka_req_cstr(req, r->Configs.items[c].Name);
            entries[c].value = kafka_req_cstr(req, r->Configs.items[c].Value);
            if (!entries[c].name) err = GN_EINVALID_CONFIG;
        }
        if (alter_resource(req, adm, r->ResourceType, r->ResourceName, &res->ErrorCode,
                           &res->ErrorMessage, entries, NULL, (size_t)nc, err, in.ValidateOnly) < 0)
            return kafka_admin_abort(adm, GN_ENOMEM);
    }
    return kafka_admin_complete(adm);
}

static void finish_incremental(kafka_req_t *req, void *arg)
{
    kafka_resp_begin(req);
    kafka_IncrementalAlterConfigsResponse_encode(&req->w, req->version, arg);
}

int kafka_handle_IncrementalAlterConfigs(kafka_req_t *req, kafka_reader_t *body)
{
    typedef kafka_IncrementalAlterConfigsResponse_AlterConfigsResourceResponse_t resp_t;
    kafka_IncrementalAlterConfigsRequest_t in;
    int rc = kafka_IncrementalAlterConfigsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_IncrementalAlterConfigsResponse_t *out = kafka_arena_alloc(&req->arena, sizeof *out);
    if (!out) return GN_ENOMEM;
    kafka_IncrementalAlterConfigsResponse_init(out);
    int32_t n = in.Resources.count;
    out->Responses.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(resp_t));
    kafka_admin_t *adm = kafka_admin_new(req, finish_incremental, out);
    if (!out->Responses.items || !adm) return GN_ENOMEM;
    out->Responses.count = n;
    for (int32_t i = 0; i < n; i++) {
        kafka_IncrementalAlterConfigsRequest_AlterConfigsResource_t *r = &in.Resources.items[i];
        resp_t *res = &out->Responses.items[i];
        res->ResourceType = r->ResourceType;
        res->ResourceName = kafka_req_keep(req, r->ResourceName);
        int32_t nc = r->Configs.count;
        gn_config_entry_t *entries =
            kafka_arena_calloc(&req->arena, (size_t)nc + 1, sizeof *entries);
        gn_alter_op_t *ops = kafka_arena_calloc(&req->arena, (size_t)nc + 1, sizeof *ops);
        if (!ops) entries = NULL;
        int err = 0;
        for (int32_t c = 0; entries && c < nc; c++) {
            kafka_IncrementalAlterConfigsRequest_AlterableConfig_t *ac = &r->Configs.items[c];
            entries[c].name = kafka_req_cstr(req, ac->Name);
            entries[c].value = kafka_req_cstr(req, ac->Value);
            if (!entries[c].name || ac->ConfigOperation < 0 || ac->ConfigOperation > 3)
                err = GN_EINVALID_CONFIG;
            ops[c] = (gn_alter_op_t)ac->ConfigOperation; /* same numbering as Kafka's */
            if (ops[c] == GN_ALTER_DELETE) entries[c].value = NULL;
        }
        if (alter_resource(req, adm, r->ResourceType, r->ResourceName, &res->ErrorCode,
                           &res->ErrorMessage, entries, ops, (size_t)nc, err, in.ValidateOnly) < 0)
            return kafka_admin_abort(adm, GN_ENOMEM);
    }
    return kafka_admin_complete(adm);
}
