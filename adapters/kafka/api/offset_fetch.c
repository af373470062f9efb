/* SPDX-License-Identifier: Apache-2.0 */
/* OffsetFetch (key 9), v0-8: committed offsets of one group (v0-7; null topics =
 * every committed offset, v2+) or of several groups (v8+). A partition never
 * committed answers offset -1 without an error, as Kafka does. With the authorizer a
 * group needs DESCRIBE (else GROUP_AUTHORIZATION_FAILED), and a topic the client may not
 * DESCRIBE answers TOPIC_AUTHORIZATION_FAILED with offset -1. Loop thread. */
#include "group_api.h"

typedef kafka_OffsetFetchResponse_OffsetFetchResponsePartition_t part_v0_t;
typedef kafka_OffsetFetchResponse_OffsetFetchResponsePartitions_t part_v8_t;

static size_t count_topics(const gn_group_fetch_res_t *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->count; i++)
        if (i == 0 || strcmp(g->offsets[i].topic, g->offsets[i - 1].topic) != 0) n++;
    return n;
}

/* A topic the client may not DESCRIBE: its partitions say so, without offsets. */
static bool topic_hidden(kafka_req_t *req, const char *topic)
{
    return !kafka_allowed(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_TOPIC, topic);
}

static void fill_v0(kafka_req_t *req, const gn_group_fetch_res_t *g,
                    kafka_OffsetFetchResponse_OffsetFetchResponseTopic_array_t *topics)
{
    size_t nt = count_topics(g), t = 0;
    topics->items = kafka_arena_calloc(&req->arena, nt + 1, sizeof *topics->items);
    if (!topics->items) return;
    topics->count = (int32_t)nt;
    for (size_t i = 0; i < g->count; t++) {
        size_t j = i;
        while (j < g->count && strcmp(g->offsets[j].topic, g->offsets[i].topic) == 0)
            j++;
        kafka_OffsetFetchResponse_OffsetFetchResponseTopic_t *o = &topics->items[t];
        o->Name = kafka_req_keep(req, kafka_cstr_bytes(g->offsets[i].topic));
        o->Partitions.items = kafka_arena_calloc(&req->arena, j - i, sizeof(part_v0_t));
        if (!o->Partitions.items) return;
        o->Partitions.count = (int32_t)(j - i);
        for (size_t k = i; k < j; k++) {
            part_v0_t *p = &o->Partitions.items[k - i];
            p->PartitionIndex = g->offsets[k].partition;
            p->CommittedOffset = g->offsets[k].offset;
            p->CommittedLeaderEpoch = g->offsets[k].leader_epoch;
            p->Metadata = kafka_req_keep(req, kafka_group_bytes(g->offsets[k].metadata));
            /* v0-1 have no group-level error: it goes to every partition */
            p->ErrorCode =
                kafka_err_from_gn(req->version < 2 && g->error ? g->error : g->offsets[k].error);
            if (topic_hidden(req, g->offsets[k].topic)) {
                p->CommittedOffset = -1;
                p->CommittedLeaderEpoch = -1;
                p->Metadata = GN_BYTES_STR("");
                p->ErrorCode = KAFKA_TOPIC_AUTHORIZATION_FAILED;
            }
        }
        i = j;
    }
}

static void fill_v8(kafka_req_t *req, const gn_group_fetch_res_t *g,
                    kafka_OffsetFetchResponse_OffsetFetchResponseGroup_t *o)
{
    o->GroupId = kafka_req_keep(req, kafka_cstr_bytes(g->group_id));
    o->ErrorCode = kafka_err_from_gn(g->error);
    if (!kafka_allowed(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_GROUP, g->group_id)) {
        o->ErrorCode = KAFKA_GROUP_AUTHORIZATION_FAILED; /* logged when asked */
        return;
    }
    size_t nt = count_topics(g), t = 0;
    o->Topics.items = kafka_arena_calloc(&req->arena, nt + 1, sizeof *o->Topics.items);
    if (!o->Topics.items) return;
    o->Topics.count = (int32_t)nt;
    for (size_t i = 0; i < g->count; t++) {
        size_t j = i;
        while (j < g->count && strcmp(g->offsets[j].topic, g->offsets[i].topic) == 0)
            j++;
        kafka_OffsetFetchResponse_OffsetFetchResponseTopics_t *ot = &o->Topics.items[t];
        ot->Name = kafka_req_keep(req, kafka_cstr_bytes(g->offsets[i].topic));
        ot->Partitions.items = kafka_arena_calloc(&req->arena, j - i, sizeof(part_v8_t));
        if (!ot->Partitions.items) return;
        ot->Partitions.count = (int32_t)(j - i);
        for (size_t k = i; k < j; k++) {
            part_v8_t *p = &ot->Partitions.items[k - i];
            p->PartitionIndex = g->offsets[k].partition;
            p->CommittedOffset = g->offsets[k].offset;
            p->CommittedLeaderEpoch = g->offsets[k].leader_epoch;
            p->Metadata = kafka_req_keep(req, kafka_group_bytes(g->offsets[k].metadata));
            p->ErrorCode = kafka_err_from_gn(g->offsets[k].error);
            if (topic_hidden(req, g->offsets[k].topic)) {
                p->CommittedOffset = -1;
                p->CommittedLeaderEpoch = -1;
                p->Metadata = GN_BYTES_STR("");
                p->ErrorCode = KAFKA_TOPIC_AUTHORIZATION_FAILED;
            }
        }
        i = j;
    }
}

static void encode(kafka_req_t *req, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    kafka_OffsetFetchResponse_t out;
    kafka_OffsetFetchResponse_init(&out);
    if (req->version >= 8) {
        out.Groups.items = kafka_arena_calloc(&req->arena, count + 1, sizeof *out.Groups.items);
        if (out.Groups.items) {
            out.Groups.count = (int32_t)count;
            for (size_t i = 0; i < count; i++)
                fill_v8(req, &groups[i], &out.Groups.items[i]);
        }
    } else if (count) {
        fill_v0(req, &groups[0], &out.Topics);
        out.ErrorCode = kafka_err_from_gn(groups[0].error);
    }
    if (status && req->version >= 2 && req->version < 8) out.ErrorCode = kafka_err_from_gn(status);
    kafka_resp_begin(req);
    kafka_OffsetFetchResponse_encode(&req->w, req->version, &out);
}

static void on_fetch(void *arg, int status, const gn_group_fetch_res_t *groups, size_t count)
{
    kafka_req_t *req = arg;
    encode(req, status, groups, count);
    kafka_req_done(req, false);
}

/* Topics of one group: NULL (all) when the array is null. */
static int topics_of(kafka_req_t *req, bool is_null, int32_t count,
                     gn_bytes_t (*name)(void *, int32_t),
                     kafka_int32_array_t (*parts)(void *, int32_t), void *arr,
                     gn_group_fetch_group_t *g)
{
    if (is_null) return 0;
    int32_t n = count > 0 ? count : 0;
    gn_group_topic_partitions_t *tps = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof *tps);
    if (!tps) return GN_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        tps[i].topic = kafka_group_str(req, name(arr, i));
        kafka_int32_array_t p = parts(arr, i);
        tps[i].partitions = p.items;
        tps[i].count = p.count > 0 ? (size_t)p.count : 0;
        if (!tps[i].topic) return GN_EINVALID_REQUEST;
    }
    g->topics = tps;
    g->topics_count = (size_t)n;
    return 0;
}

static gn_bytes_t name_v0(void *a, int32_t i)
{
    return ((kafka_OffsetFetchRequest_OffsetFetchRequestTopic_t *)a)[i].Name;
}
static kafka_int32_array_t parts_v0(void *a, int32_t i)
{
    return ((kafka_OffsetFetchRequest_OffsetFetchRequestTopic_t *)a)[i].PartitionIndexes;
}
static gn_bytes_t name_v8(void *a, int32_t i)
{
    return ((kafka_OffsetFetchRequest_OffsetFetchRequestTopics_t *)a)[i].Name;
}
static kafka_int32_array_t parts_v8(void *a, int32_t i)
{
    return ((kafka_OffsetFetchRequest_OffsetFetchRequestTopics_t *)a)[i].PartitionIndexes;
}

int kafka_handle_OffsetFetch(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_OffsetFetchRequest_t in;
    int rc = kafka_OffsetFetchRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    gn_group_coordinator_t *coord = gn_broker_group_coordinator(req->broker);
    size_t n = req->version >= 8 ? (size_t)(in.Groups.count > 0 ? in.Groups.count : 0) : 1;
    gn_group_fetch_group_t *groups = kafka_arena_calloc(&req->arena, n + 1, sizeof *groups);
    if (!groups) return GN_ENOMEM;
    if (req->version < 8) {
        groups[0].group_id = kafka_group_str(req, in.GroupId);
        rc = topics_of(req, req->version >= 2 && in.Topics.is_null, in.Topics.count, name_v0,
                       parts_v0, in.Topics.items, &groups[0]);
        if (rc < 0) return rc;
        if (!groups[0].group_id) return GN_EINVALID_REQUEST;
    }
    for (size_t i = 0; req->version >= 8 && i < n; i++) {
        kafka_OffsetFetchRequest_OffsetFetchRequestGroup_t *g = &in.Groups.items[i];
        groups[i].group_id = kafka_group_str(req, g->GroupId);
        rc = topics_of(req, g->Topics.is_null, g->Topics.count, name_v8, parts_v8, g->Topics.items,
                       &groups[i]);
        if (rc < 0) return rc;
        if (!groups[i].group_id) return GN_EINVALID_REQUEST;
        kafka_authorize(req, GN_ACL_OP_DESCRIBE, GN_ACL_RESOURCE_GROUP, groups[i].group_id);
    }
    bool denied = req->version < 8 && !kafka_authorize(req, GN_ACL_OP_DESCRIBE,
                                                       GN_ACL_RESOURCE_GROUP, groups[0].group_id);
    rc = denied  ? GN_EGROUP_AUTHORIZATION
         : coord ? gn_group_fetch_offsets(coord, groups, n, on_fetch, req)
                 : GN_ECOORDINATOR_NOT_AVAILABLE;
    if (rc == 0) return KAFKA_ASYNC;
    gn_group_fetch_res_t *errs = kafka_arena_calloc(&req->arena, n + 1, sizeof *errs);
    if (!errs) return GN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        errs[i].group_id = groups[i].group_id;
        errs[i].error = rc;
    }
    encode(req, rc, errs, n);
    return KAFKA_DONE;
}
