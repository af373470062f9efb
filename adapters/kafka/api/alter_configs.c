/* SPDX-License-Identifier: Apache-2.0 */
/* AlterConfigs (key 33), v0-2: replaces a topic's overrides with the given set
 * (Kafka's non-incremental semantics: keys not listed go back to their defaults).
 * Broker configs are static (set at start-up): refused with INVALID_REQUEST. Loop
 * thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_AlterConfigsResponse_AlterConfigsResourceResponse_t resp_t;

static void finish(kafka_req_t *req, void *arg)
{
    kafka_resp_begin(req);
    kafka_AlterConfigsResponse_encode(&req->w, req->version, arg);
}

int kafka_handle_AlterConfigs(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_AlterConfigsRequest_t in;
    int rc = kafka_AlterConfigsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_AlterConfigsResponse_t *out = kafka_arena_alloc(&req->arena, sizeof *out);
    if (!out) return GN_ENOMEM;
    kafka_AlterConfigsResponse_init(out);
    int32_t n = in.Resources.count;
    out->Responses.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(resp_t));
    kafka_admin_t *adm = kafka_admin_new(req, finish, out);
    if (!out->Responses.items || !adm) return GN_ENOMEM;
    out->Responses.count = n;
    for (int32_t i = 0; i < n; i++) {
        kafka_AlterConfigsRequest_AlterConfigsResource_t *r = &in.Resources.items[i];
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
        if (!entries) return kafka_admin_abort(adm, GN_ENOMEM);
        int err = 0;
        for (int32_t c = 0; c < nc; c++) {
            entries[c].name = kafka_req_cstr(req, r->Configs.items[c].Name);
            entries[c].value = kafka_req_cstr(req, r->Configs.items[c].Value);
            if (!entries[c].name) err = GN_EINVALID_CONFIG;
        }
        if (!err)
            err = gn_topic_alter_configs(req->broker, name, entries, NULL, (size_t)nc, true,
                                         in.ValidateOnly, kafka_admin_cb, op);
        if (err < 0) kafka_admin_fail(op, err);
    }
    return kafka_admin_complete(adm);
}
