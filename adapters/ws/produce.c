/* SPDX-License-Identifier: Apache-2.0 */
/* produce and commit requests of the WebSocket JSON protocol: one record per produce,
 * placed by Kafka's partitioner (or the partition given), appended with acks=all and
 * acknowledged with its partition and offset; commits go through the session's group
 * member, or as a simple commit when the session is not a member. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "ws.h"

gn_group_member_t *ws__member_for(ws_session_t *sess, const char *group, const char *topic);

typedef struct op_ctx {
    ws_session_t *sess;
    json_t *id;
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
} op_ctx_t;

static op_ctx_t *op_new(ws_session_t *sess, ws_msg_t *msg, int32_t partition)
{
    op_ctx_t *op = calloc(1, sizeof *op);
    if (!op) return NULL;
    op->sess = sess;
    op->id = msg->id ? json_incref(msg->id) : NULL;
    snprintf(op->topic, sizeof op->topic, "%s", msg->topic);
    op->partition = partition;
    sess->refs++;
    return op;
}

static void op_free(op_ctx_t *op)
{
    json_decref(op->id);
    ws_session_unref(op->sess);
    free(op);
}

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    op_ctx_t *op = arg;
    ws_session_t *sess = op->sess;
    sess->inflight--;
    if (!sess->closed) {
        if (status < 0) {
            ws_send_error(sess, op->id, ws_err_code(status), "%s", gn_strerror(status));
        } else {
            json_t *j =
                json_pack("{s:s,s:s,s:i,s:I}", "type", "ack", "topic", op->topic, "partition",
                          (int)op->partition, "offset", (json_int_t)res->base_offset);
            if (j && op->id) json_object_set(j, "id", op->id);
            ws_send_json(sess, j);
        }
    }
    op_free(op);
}

void ws_handle_produce(ws_session_t *sess, ws_msg_t *msg)
{
    if (sess->inflight >= WS_MAX_INFLIGHT) {
        ws_send_error(sess, msg->id, "too_many_requests",
                      "More than %d produce requests await their ack", WS_MAX_INFLIGHT);
        return;
    }
    if (!ws_authorize(sess, msg->id, GN_ACL_OP_WRITE, GN_ACL_RESOURCE_TOPIC, msg->topic)) return;
    gn_partition_t *part0 = NULL;
    int rc = gn_topic_client_may_write(msg->topic, "produce to");
    if (rc == 0) rc = gn_partition_get_or_create(sess->broker, msg->topic, 0, &part0);
    gn_topic_info_t info;
    if (rc == 0) rc = gn_topic_describe(sess->broker, msg->topic, &info);
    if (rc < 0) {
        ws_send_error(sess, msg->id, rc == GN_EUNKNOWN_TOPIC ? "unknown_topic" : ws_err_code(rc),
                      "%s: %s", msg->topic, gn_strerror(rc));
        return;
    }
    int32_t p = msg->partition;
    if (p >= info.partitions) {
        ws_send_error(sess, msg->id, "unknown_partition", "Topic %s has no partition %d",
                      msg->topic, (int)p);
        return;
    }
    if (p < 0)
        p = msg->key.ptr ? gn_partition_for_key(msg->key, info.partitions)
                         : (int32_t)((uint32_t)gn_now_ms() % (uint32_t)info.partitions);
    gn_partition_t *part = gn_partition_get(sess->broker, msg->topic, p);
    gn_batch_builder_t b;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    gn_bytes_t batch;
    rc = gn_batch_builder_add(&b, msg->key, msg->value, msg->headers, msg->headers_count,
                              gn_now_ms());
    if (rc == 0) rc = gn_batch_builder_finish(&b, 0, &batch);
    op_ctx_t *op = rc == 0 ? op_new(sess, msg, p) : NULL;
    if (rc == 0 && !op) rc = GN_ENOMEM;
    if (rc == 0 && !part) rc = GN_EUNKNOWN_TOPIC;
    if (rc == 0)
        rc = gn_produce(part, (uint8_t *)batch.ptr, batch.len, GN_ACKS_ALL, on_produced, op);
    gn_batch_builder_close(&b);
    if (rc < 0) {
        if (op) op_free(op);
        ws_send_error(sess, msg->id, ws_err_code(rc), "%s", gn_strerror(rc));
        return;
    }
    sess->inflight++;
}

static void on_committed(void *arg, int status, const gn_group_offset_t *results, size_t count)
{
    op_ctx_t *op = arg;
    ws_session_t *sess = op->sess;
    int err = status ? status : count ? results[0].error : 0;
    if (!sess->closed) {
        if (err) {
            ws_send_error(sess, op->id, ws_err_code(err), "%s", gn_strerror(err));
        } else {
            json_t *j = json_pack("{s:s,s:s,s:i}", "type", "committed", "topic", op->topic,
                                  "partition", (int)op->partition);
            if (j && op->id) json_object_set(j, "id", op->id);
            ws_send_json(sess, j);
        }
    }
    op_free(op);
}

void ws_handle_commit(ws_session_t *sess, ws_msg_t *msg)
{
    /* Kafka's OffsetCommit: READ on the group and on the topic */
    if (!ws_authorize(sess, msg->id, GN_ACL_OP_READ, GN_ACL_RESOURCE_GROUP, msg->group) ||
        !ws_authorize(sess, msg->id, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, msg->topic))
        return;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(sess->broker);
    op_ctx_t *op = op_new(sess, msg, msg->partition);
    if (!op || !coord) {
        if (op) op_free(op);
        ws_send_error(sess, msg->id, "coordinator_not_available", "No group coordinator");
        return;
    }
    gn_group_offset_t off = {.topic = msg->topic,
                             .partition = msg->partition,
                             .offset = msg->offset,
                             .leader_epoch = -1};
    gn_group_member_t *member = ws__member_for(sess, msg->group, msg->topic);
    int rc;
    if (member) {
        rc = gn_group_member_commit(member, &off, 1, on_committed, op);
    } else {
        gn_group_commit_req_t req = {.group_id = msg->group,
                                     .generation_id = -1,
                                     .member_id = "",
                                     .offsets = &off,
                                     .count = 1};
        rc = gn_group_commit_routed(coord, &req, on_committed, op);
    }
    if (rc < 0) {
        op_free(op);
        ws_send_error(sess, msg->id, ws_err_code(rc), "%s", gn_strerror(rc));
    }
}
