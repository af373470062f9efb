/* SPDX-License-Identifier: Apache-2.0 */
/* Subscriptions of a WebSocket session: a topic's partitions (all, some, or those a
 * consumer group assigns this session as a server-side member), each with its next
 * offset. The pump reads the log and sends records while the transport's queue is
 * below WS_QUEUE_HIGH; above it the session pauses at its log position and resumes
 * when the browser has drained the queue. Caught up, one gn_watch per partition.
 * Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ws.h"

static void on_watch(gn_watch_t *w, int status)
{
    ws_part_t *wp = w->data;
    ws_session_t *sess = wp->sub->sess;
    if (status < 0) {
        ws_send_error(sess, NULL, "topic_gone", "Topic %s went away", wp->sub->topic);
        return;
    }
    ws_pump(sess);
}

static void parts_clear(ws_sub_t *sub)
{
    for (size_t i = 0; i < sub->nparts; i++) {
        ws_feed_leave(&sub->parts[i], false);
        gn_watch_cancel(&sub->parts[i].watch);
    }
    free(sub->parts);
    sub->parts = NULL;
    sub->nparts = 0;
}

void ws__part_watch(ws_part_t *wp, gn_partition_t *part)
{
    wp->watch.data = wp;
    int64_t at = wp->next == WS_LATEST_PENDING ? gn_partition_high_watermark(part) : wp->next;
    gn_partition_watch(part, &wp->watch, at, on_watch);
}

void ws_sub_free(ws_sub_t *sub)
{
    parts_clear(sub);
    if (sub->member) gn_group_member_leave(sub->member);
    sub->member = NULL;
    sub->active = false;
    /* fetches in flight see active == false and drop the sub */
    if (sub->fetch_pending == 0) free(sub);
}

/* `latest`: the leader's end on a remote copy, WS_LATEST_PENDING until it is known. */
static int64_t latest(gn_partition_t *part)
{
    int64_t off;
    return gn_partition_latest(part, &off) == 0 ? off : WS_LATEST_PENDING;
}

static int64_t start_offset(gn_partition_t *part, ws_from_kind_t from, int64_t value)
{
    int64_t lso = gn_partition_log_start_offset(part), last = latest(part);
    switch (from) {
    case WS_FROM_EARLIEST:
        return lso;
    case WS_FROM_OFFSET:
        return value < lso ? lso : last != WS_LATEST_PENDING && value > last ? last : value;
    case WS_FROM_TIMESTAMP: {
        int64_t off = -1, ts = -1;
        if (gn_partition_offset_for_time(part, value, &off, &ts) < 0 || off < 0) return last;
        return off;
    }
    default:
        return last;
    }
}

/* Sends records of one partition; false when the queue is full (stop pumping). A
 * subscription behind the high watermark reads alone (one chunk per read, still shared
 * by reference with its transport, not copied); caught up, it joins its partition's
 * feed, which reads and frames each new batch once for all its members. */
static bool pump_part(ws_session_t *sess, ws_sub_t *sub, ws_part_t *wp)
{
    gn_transport_t *tr = sess->tr;
    if (wp->feed) return true; /* the feed delivers */
    for (int rounds = 0; rounds < 64; rounds++) {
        if (tr->ops->write_queue_size(tr) >= WS_QUEUE_HIGH) return false;
        gn_partition_t *part = gn_partition_get(sess->broker, sub->topic, wp->partition);
        if (!part) return true;
        if (wp->next == WS_LATEST_PENDING && (wp->next = latest(part)) == WS_LATEST_PENDING) {
            if (!wp->watch.part) ws__part_watch(wp, part); /* the copy's first answer wakes it */
            return true;
        }
        int64_t hw = gn_partition_high_watermark(part);
        if (wp->next >= hw) {
            if (!ws_feed_join(sess->hub, wp, part) && !wp->watch.part) ws__part_watch(wp, part);
            return true;
        }
        ws_chunk_t *c = NULL;
        int rc = ws_chunk_read(part, sub->topic, wp->partition, wp->next, WS_READ_BYTES, &c);
        if (rc == GN_EOFFSETRANGE) {
            wp->next = gn_partition_log_start_offset(part);
            continue;
        }
        if (rc < 0 || !c) return true;
        int sent = ws_chunk_send(c, tr);
        if (sent == 0) wp->next = c->next;
        ws_chunk_unref(c);
        if (sent < 0) return false;
    }
    return true;
}

void ws_pump(ws_session_t *sess)
{
    if (sess->closed || sess->pumping) return;
    sess->pumping = true;
    for (size_t s = 0; s < sess->nsubs; s++) {
        ws_sub_t *sub = sess->subs[s];
        if (!sub->active || sub->fetch_pending) continue;
        for (size_t i = 0; i < sub->nparts; i++)
            if (!pump_part(sess, sub, &sub->parts[i])) goto out;
    }
out:
    sess->pumping = false;
}

static json_t *parts_json(const ws_sub_t *sub)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < sub->nparts; i++)
        json_array_append_new(
            arr, json_pack("{s:i,s:o}", "partition", sub->parts[i].partition, "offset",
                           sub->parts[i].next == WS_LATEST_PENDING
                               ? json_null() /* latest, as soon as the leader has said where */
                               : json_integer(sub->parts[i].next)));
    return arr;
}

static int parts_set(ws_sub_t *sub, const int32_t *ids, size_t n)
{
    parts_clear(sub);
    if (n == 0) return 0;
    sub->parts = calloc(n, sizeof *sub->parts);
    if (!sub->parts) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        ws_part_t *wp = &sub->parts[i];
        wp->partition = ids[i];
        wp->sub = sub;
        gn_partition_t *part = gn_partition_get(sub->sess->broker, sub->topic, ids[i]);
        wp->next = part ? start_offset(part, sub->from, sub->from_value) : 0;
    }
    sub->nparts = n;
    return 0;
}

/* ---- group members ----------------------------------------------------------- */

typedef struct fetch_ctx {
    ws_sub_t *sub;
    ws_session_t *sess;
} fetch_ctx_t;

static void on_committed_fetched(void *arg, int status, const gn_group_fetch_res_t *groups,
                                 size_t count)
{
    fetch_ctx_t *fc = arg;
    ws_sub_t *sub = fc->sub;
    ws_session_t *sess = fc->sess;
    free(fc);
    sub->fetch_pending--;
    if (!sub->active) {
        if (sub->fetch_pending == 0) free(sub);
        ws_session_unref(sess);
        return;
    }
    for (size_t g = 0; status == 0 && g < count; g++)
        for (size_t i = 0; i < groups[g].count; i++) {
            const gn_group_offset_t *o = &groups[g].offsets[i];
            if (o->offset < 0 || strcmp(o->topic, sub->topic) != 0) continue;
            for (size_t k = 0; k < sub->nparts; k++)
                if (sub->parts[k].partition == o->partition) sub->parts[k].next = o->offset;
        }
    ws_send_json(sess, json_pack("{s:s,s:s,s:s,s:o}", "type", "assigned", "topic", sub->topic,
                                 "group", sub->group, "partitions", parts_json(sub)));
    ws_session_unref(sess);
    ws_pump(sess);
}

static void on_assigned(void *arg, gn_group_member_t *member, int32_t generation_id,
                        const gn_topic_partition_t *tps, size_t count)
{
    ws_sub_t *sub = arg;
    int32_t ids[WS_MAX_PARTITIONS];
    size_t n = 0;
    for (size_t i = 0; i < count && n < WS_MAX_PARTITIONS; i++)
        if (strcmp(tps[i].topic, sub->topic) == 0) ids[n++] = tps[i].partition;
    if (parts_set(sub, ids, n) < 0) return;
    fetch_ctx_t *fc = malloc(sizeof *fc);
    if (!fc) return;
    *fc = (fetch_ctx_t){sub, sub->sess};
    gn_group_topic_partitions_t tp = {sub->topic, ids, n};
    gn_group_fetch_group_t fg = {sub->group, &tp, 1};
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(sub->sess->broker);
    if (!coord || gn_group_fetch_offsets_routed(coord, &fg, on_committed_fetched, fc) != 0) {
        free(fc);
        ws_pump(sub->sess);
        return;
    }
    sub->fetch_pending++;
    sub->sess->refs++;
}

static void on_revoked(void *arg, gn_group_member_t *member, const gn_topic_partition_t *tps,
                       size_t count)
{
    ws_sub_t *sub = arg;
    ws_send_json(sub->sess, json_pack("{s:s,s:s,s:s,s:o}", "type", "revoked", "topic", sub->topic,
                                      "group", sub->group, "partitions", parts_json(sub)));
    parts_clear(sub);
}

static void on_failed(void *arg, gn_group_member_t *member, int status)
{
    ws_sub_t *sub = arg;
    ws_send_error(sub->sess, NULL, "group_failed", "Group %s: %s", sub->group, gn_strerror(status));
    parts_clear(sub);
}

static const gn_group_member_callbacks_t member_cbs = {on_assigned, on_revoked, on_failed};

/* ---- requests ---------------------------------------------------------------- */

static ws_sub_t **find_sub(ws_session_t *sess, const char *topic)
{
    for (size_t i = 0; i < sess->nsubs; i++)
        if (strcmp(sess->subs[i]->topic, topic) == 0) return &sess->subs[i];
    return NULL;
}

static void remove_sub(ws_session_t *sess, ws_sub_t **slot)
{
    ws_sub_free(*slot);
    *slot = sess->subs[--sess->nsubs];
}

void ws_handle_subscribe(ws_session_t *sess, ws_msg_t *msg)
{
    if (!ws_authorize(sess, msg->id, GN_ACL_OP_READ, GN_ACL_RESOURCE_TOPIC, msg->topic)) return;
    if (msg->group &&
        !ws_authorize(sess, msg->id, GN_ACL_OP_READ, GN_ACL_RESOURCE_GROUP, msg->group))
        return;
    gn_topic_info_t info;
    if (gn_topic_describe(sess->broker, msg->topic, &info) < 0) {
        ws_send_error(sess, msg->id, "unknown_topic", "Topic %s does not exist", msg->topic);
        return;
    }
    for (size_t i = 0; i < msg->partitions_count; i++)
        if (msg->partitions[i] >= info.partitions) {
            ws_send_error(sess, msg->id, "unknown_partition", "Topic %s has no partition %d",
                          msg->topic, (int)msg->partitions[i]);
            return;
        }
    ws_sub_t **old = find_sub(sess, msg->topic);
    if (old) remove_sub(sess, old);
    if (sess->nsubs == WS_MAX_SUBS) {
        ws_send_error(sess, msg->id, "too_many_subscriptions", "At most %d subscriptions",
                      WS_MAX_SUBS);
        return;
    }
    ws_sub_t *sub = calloc(1, sizeof *sub);
    if (!sub) return;
    sub->sess = sess;
    sub->active = true;
    snprintf(sub->topic, sizeof sub->topic, "%s", msg->topic);
    sub->from = msg->from;
    sub->from_value = msg->from_value;
    sess->subs[sess->nsubs++] = sub;

    if (msg->group) {
        snprintf(sub->group, sizeof sub->group, "%s", msg->group);
        gn_group_coordinator_t *coord = gn_broker_group_coordinator(sess->broker);
        const char *topics[1] = {sub->topic};
        char peer[64] = "";
        sess->tr->ops->peer_name(sess->tr, peer, sizeof peer);
        gn_group_member_opts_t opts = {.group_id = sub->group,
                                       .topics = topics,
                                       .topics_count = 1,
                                       .client_id = "ws",
                                       .client_host = peer};
        int rc = coord ? gn_group_member_join(coord, &opts, &member_cbs, sub, &sub->member)
                       : GN_ECOORDINATOR_NOT_AVAILABLE;
        if (rc < 0) {
            ws_send_error(sess, msg->id, "group_failed", "Cannot join group %s: %s", sub->group,
                          gn_strerror(rc));
            remove_sub(sess, find_sub(sess, sub->topic));
            return;
        }
        json_t *j = json_pack("{s:s,s:s,s:s}", "type", "subscribed", "topic", sub->topic, "group",
                              sub->group);
        if (j && msg->id) json_object_set(j, "id", msg->id);
        ws_send_json(sess, j); /* partitions follow in an "assigned" message */
        return;
    }
    int32_t ids[WS_MAX_PARTITIONS];
    size_t n = msg->partitions_count;
    if (n)
        memcpy(ids, msg->partitions, n * sizeof ids[0]);
    else
        for (int32_t p = 0; p < info.partitions && n < WS_MAX_PARTITIONS; p++)
            ids[n++] = p;
    for (size_t i = 0; i < n; i++) { /* held elsewhere: read from its leader, if it has one */
        gn_partition_t *part = gn_partition_get(sess->broker, sub->topic, ids[i]);
        if (!part || gn_partition_check_read(part) == 0) continue;
        GN_WARN("ws",
                "subscription refused: a partition held elsewhere has no leader | "
                "topic=%s partition=%d",
                sub->topic, (int)ids[i]);
        ws_send_error(sess, msg->id, "partition_unavailable",
                      "Partition %d of %s has no replica on this broker and no leader to read "
                      "from (its replicas are down); retry later",
                      (int)ids[i], sub->topic);
        remove_sub(sess, find_sub(sess, sub->topic));
        return;
    }
    if (parts_set(sub, ids, n) < 0) return;
    json_t *j = json_pack("{s:s,s:s,s:o}", "type", "subscribed", "topic", sub->topic, "partitions",
                          parts_json(sub));
    if (j && msg->id) json_object_set(j, "id", msg->id);
    ws_send_json(sess, j);
    ws_pump(sess);
}

void ws_handle_unsubscribe(ws_session_t *sess, ws_msg_t *msg)
{
    ws_sub_t **slot = find_sub(sess, msg->topic);
    if (!slot) {
        ws_send_error(sess, msg->id, "not_subscribed", "Not subscribed to %s", msg->topic);
        return;
    }
    remove_sub(sess, slot);
    json_t *j = json_pack("{s:s,s:s}", "type", "unsubscribed", "topic", msg->topic);
    if (j && msg->id) json_object_set(j, "id", msg->id);
    ws_send_json(sess, j);
}

/* The member of this session in group for topic, or NULL (then a simple commit). */
gn_group_member_t *ws__member_for(ws_session_t *sess, const char *group, const char *topic)
{
    ws_sub_t **slot = find_sub(sess, topic);
    if (slot && (*slot)->member && strcmp((*slot)->group, group) == 0) return (*slot)->member;
    return NULL;
}
