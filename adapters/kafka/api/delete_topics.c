/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteTopics (key 20), v0-6: by name (v0-5: TopicNames; v6: Topics with a name or a
 * topic id); the answer waits until every deletion is persisted. Loop thread. */
#include "../kafka.h"

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_DeleteTopicsResponse_DeletableTopicResult_t topic_resp_t;

static void finish(kafka_req_t *req, void *arg)
{
    kafka_resp_begin(req);
    kafka_DeleteTopicsResponse_encode(&req->w, req->version, arg);
}

typedef struct by_id {
    const uint8_t *id;
    const char *name;
    kafka_req_t *req;
} by_id_t;

static void each(void *arg, const gn_topic_info_t *info)
{
    by_id_t *b = arg;
    if (!memcmp(info->id, b->id, 16))
        b->name = kafka_arena_strdup(&b->req->arena, kafka_cstr_bytes(info->name));
}

int kafka_handle_DeleteTopics(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DeleteTopicsRequest_t in;
    int rc = kafka_DeleteTopicsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_DeleteTopicsResponse_t *out = kafka_arena_alloc(&req->arena, sizeof *out);
    if (!out) return GN_ENOMEM;
    kafka_DeleteTopicsResponse_init(out);
    bool v6 = req->version >= 6;
    int32_t n = v6 ? in.Topics.count : in.TopicNames.count;
    out->Responses.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(topic_resp_t));
    kafka_admin_t *adm = kafka_admin_new(req, finish, out);
    if (!out->Responses.items || !adm) return GN_ENOMEM;
    out->Responses.count = n;
    for (int32_t i = 0; i < n; i++) {
        topic_resp_t *tr = &out->Responses.items[i];
        tr->ErrorMessage = GN_BYTES_NULL;
        void *op = kafka_admin_op(adm, &tr->ErrorCode, &tr->ErrorMessage);
        if (!op) return kafka_admin_abort(adm, GN_ENOMEM);
        const char *name;
        if (v6) {
            kafka_DeleteTopicsRequest_DeleteTopicState_t *t = &in.Topics.items[i];
            memcpy(tr->TopicId, t->TopicId, 16);
            tr->Name = kafka_req_keep(req, t->Name);
            if (t->Name.ptr) {
                name = kafka_req_cstr(req, t->Name);
            } else {
                by_id_t b = {.id = t->TopicId, .req = req};
                gn_topic_list(req->broker, each, &b);
                name = b.name;
                tr->Name = kafka_cstr_bytes(name);
                if (!name) {
                    kafka_admin_fail(op, GN_EUNKNOWN_TOPIC);
                    tr->ErrorCode = KAFKA_UNKNOWN_TOPIC_ID;
                    continue;
                }
            }
        } else {
            tr->Name = kafka_req_keep(req, in.TopicNames.items[i]);
            name = kafka_req_cstr(req, tr->Name);
        }
        if (!name) {
            kafka_admin_fail(op, GN_EINVALID_TOPIC);
            continue;
        }
        if (!kafka_authorize(req, GN_ACL_OP_DELETE, GN_ACL_RESOURCE_TOPIC, name)) {
            kafka_admin_refuse(op, KAFKA_TOPIC_AUTHORIZATION_FAILED);
            continue;
        }
        rc = gn_topic_delete(req->broker, name, kafka_admin_cb, op);
        if (rc < 0) kafka_admin_fail(op, rc);
    }
    return kafka_admin_complete(adm);
}
