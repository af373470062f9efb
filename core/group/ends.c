/* SPDX-License-Identifier: Apache-2.0 */
/* Partition ends for consumer lag in a cluster: a group view's lag rows take the high
 * watermark of each partition from its leader, as Kafka's lag does (the end consumers
 * see), not from this broker, which may hold no replica of it or follow it a fetch
 * behind. The rows another broker leads are asked of that leader over the internal RPC
 * (op "group", call "ends"), one call per leader broker for a whole view, within
 * ENDS_TIMEOUT_MS; the serving side answers from its partitions if it leads them (with
 * its metadata lease), as ListOffsets does. A partition without any leader (offline: its
 * replicas are down and fenced) has no end anyone can give: -1, as for an unknown one.
 * Called by view.c and serve.c. Loop thread. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/topic.h"
#include "broker/broker_internal.h"
#include "cluster/rpc.h"
#include "group/group_int.h"

/* Below the 5 s a broker waits for another's view (remote.c), so that a view asked
 * through a third broker fails with this broker's answer, naming the leader. */
#define ENDS_TIMEOUT_MS 2000
#define ENDS_MAX        100000 /* partitions per call, both sides */
#define KEY_MAX         (GN_TOPIC_NAME_MAX + 16)

typedef struct ends {
    gn_group_coordinator_t *coord;
    json_t *groups; /* the view being filled (owned) */
    json_t *got;    /* "partition:topic" -> end offset */
    bool strict;
    int status;  /* the first failure (strict) */
    int pending; /* calls in flight, plus one while they are being sent */
    gn__view_json_cb cb;
    void *arg;
} ends_t;

typedef struct batch {
    ends_t *e;
    int32_t node;
    json_t *parts; /* [[topic, partition], ...] as sent */
} batch_t;

/* "partition:topic": the partition ends at the first colon, so any topic name fits */
static void row_key(char *buf, size_t cap, const char *topic, json_int_t partition)
{
    snprintf(buf, cap, "%lld:%s", (long long)partition, topic);
}

static void ends_done(ends_t *e)
{
    if (--e->pending > 0) return;
    int status = e->strict ? e->status : 0;
    size_t gi, ri;
    json_t *g, *row;
    char key[KEY_MAX];
    json_array_foreach(e->groups, gi, g)
    {
        json_array_foreach(json_object_get(g, "lags"), ri, row)
        {
            const char *topic = json_string_value(json_object_get(row, "topic"));
            row_key(key, sizeof(key), topic ? topic : "",
                    json_integer_value(json_object_get(row, "partition")));
            const json_t *end = json_object_get(e->got, key);
            if (!end) continue;
            int64_t committed = json_integer_value(json_object_get(row, "committed"));
            json_object_set(row, "high_watermark", (json_t *)end);
            json_object_set_new(row, "lag",
                                json_integer(gn__group_lag_of(committed, json_integer_value(end))));
        }
    }
    e->cb(e->arg, status, status ? NULL : e->groups);
    json_decref(e->groups);
    json_decref(e->got);
    free(e);
}

static void fail(ends_t *e, int32_t node, const json_t *part, int status)
{
    if (e->strict && !e->status) {
        GN_WARN("group",
                "lag: a partition's leader did not give its end | topic=%s "
                "partition=%lld leader=%d err=%s",
                json_string_value(json_array_get(part, 0)),
                (long long)json_integer_value(json_array_get(part, 1)), node, gn_err_name(status));
        /* a timeout stays one (504); anything else: the leader is not available (503) */
        e->status = status == GN_ETIMEOUT ? GN_ETIMEOUT : GN_ENOTLEADER;
    }
}

static void on_ends(void *arg, int status, json_t *answer)
{
    batch_t *b = arg;
    ends_t *e = b->e;
    if (status == 0 && json_array_size(answer) != json_array_size(b->parts))
        status = GN_EINVALID_REQUEST;
    size_t i;
    json_t *part;
    char key[KEY_MAX];
    json_array_foreach(b->parts, i, part)
    {
        const json_t *a = json_array_get(answer, i);
        int err = status ? status : (int)json_integer_value(json_object_get(a, "error"));
        const json_t *end = json_object_get(a, "end");
        if (!err && !json_is_integer(end)) err = GN_EINVALID_REQUEST;
        if (err) {
            fail(e, b->node, part, err);
            continue;
        }
        row_key(key, sizeof(key), json_string_value(json_array_get(part, 0)),
                json_integer_value(json_array_get(part, 1)));
        json_object_set(e->got, key, (json_t *)end);
    }
    json_decref(b->parts);
    free(b);
    ends_done(e);
}

static void send_batch(ends_t *e, int32_t node, json_t *parts)
{
    batch_t *b = calloc(1, sizeof(*b));
    int rc = GN_ENOMEM;
    e->pending++;
    if (b) {
        *b = (batch_t){e, node, parts}; /* taken: freed in on_ends */
        rc = gn__group_remote_ends(e->coord, node, parts, ENDS_TIMEOUT_MS, on_ends, b);
    }
    if (rc == 0) return;
    if (b) {
        b->parts = NULL;
        free(b);
    }
    fail(e, node, json_array_get(parts, 0), rc);
    json_decref(parts);
    ends_done(e);
}

/* The rows to ask for, by leader: {"node": [[topic, partition], ...]}, each partition
 * once. Rows led here, of unknown topics, or without a leader are not asked for. */
static json_t *rows_by_leader(ends_t *e)
{
    gn_broker_t *broker = e->coord->broker;
    int32_t self = gn_broker_config(broker)->node_id;
    json_t *by = json_object(), *seen = json_object();
    size_t gi, ri;
    json_t *g, *row;
    char key[KEY_MAX], node[16];
    json_array_foreach(e->groups, gi, g)
    {
        json_array_foreach(json_object_get(g, "lags"), ri, row)
        {
            const char *topic = json_string_value(json_object_get(row, "topic"));
            json_int_t p = json_integer_value(json_object_get(row, "partition"));
            gn_cluster_partition_t cp;
            if (!topic || gn_cluster_partition(broker, topic, (int32_t)p, &cp) < 0 ||
                cp.leader == self)
                continue;
            row_key(key, sizeof(key), topic, p);
            if (json_object_get(seen, key)) continue;
            json_object_set_new(seen, key, json_true());
            if (cp.leader < 0) { /* offline: nobody knows its end now (a replica here may
                                  * be behind); strict views say -1, not a stale value */
                if (e->strict) json_object_set_new(e->got, key, json_integer(-1));
                continue;
            }
            json_t *part = json_pack("[s,I]", topic, p);
            snprintf(node, sizeof(node), "%d", (int)cp.leader);
            json_t *list = json_object_get(by, node);
            if (!list) json_object_set_new(by, node, list = json_array());
            json_array_append_new(list, part);
        }
    }
    json_decref(seen);
    return by;
}

void gn__group_ends_fill(gn_group_coordinator_t *coord, json_t *groups, bool strict,
                         gn__view_json_cb cb, void *arg)
{
    ends_t *e = calloc(1, sizeof(*e));
    json_t *got = json_object();
    if (!e || !got) {
        free(e);
        json_decref(got);
        cb(arg, GN_ENOMEM, NULL);
        json_decref(groups);
        return;
    }
    *e = (ends_t){.coord = coord,
                  .groups = groups,
                  .got = got,
                  .strict = strict,
                  .pending = 1,
                  .cb = cb,
                  .arg = arg};
    if (coord->broker && coord->broker->cluster) {
        json_t *by = rows_by_leader(e);
        const char *node;
        json_t *list;
        json_object_foreach(by, node, list)
        {
            int32_t id = (int32_t)strtol(node, NULL, 10);
            for (size_t at = 0; at < json_array_size(list); at += ENDS_MAX) {
                json_t *chunk = json_array();
                for (size_t i = at; i < at + ENDS_MAX && i < json_array_size(list); i++)
                    json_array_append(chunk, json_array_get(list, i));
                send_batch(e, id, chunk); /* takes chunk */
            }
        }
        json_decref(by);
    }
    ends_done(e);
}

/* ---- serving: the high watermarks of partitions led here ------------------------------ */

static json_t *end_of(gn_broker_t *broker, const json_t *part)
{
    const char *topic = json_string_value(json_array_get(part, 0));
    const json_t *p = json_array_get(part, 1);
    gn_partition_t *pt = topic && json_is_integer(p)
                             ? gn_partition_get(broker, topic, (int32_t)json_integer_value(p))
                             : NULL;
    int rc = !topic || !json_is_integer(p) ? GN_EINVALID_REQUEST
             : !pt                         ? GN_EUNKNOWN_TOPIC
                                           : gn_partition_leader_epoch(pt, -1, NULL);
    if (rc < 0) return json_pack("{s:i}", "error", rc);
    return json_pack("{s:I}", "end", (json_int_t)gn_partition_high_watermark(pt));
}

void gn__group_serve_ends(gn_broker_t *broker, gn_rpc_call_t *call, const json_t *req)
{
    const json_t *parts = json_object_get(req, "partitions");
    size_t n = json_array_size(parts);
    if (!json_is_array(parts) || n > ENDS_MAX) {
        GN_WARN("group", "bad ends RPC request | partitions=%zu", n);
        gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
        return;
    }
    json_t *ends = json_array();
    for (size_t i = 0; ends && i < n; i++)
        json_array_append_new(ends, end_of(broker, json_array_get(parts, i)));
    json_t *resp = ends ? json_pack("{s:o}", "ends", ends) : NULL;
    gn__rpc_reply(call, resp ? 0 : GN_ENOMEM, resp, NULL, 0);
    json_decref(resp);
}
