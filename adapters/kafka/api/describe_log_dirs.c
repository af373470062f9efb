/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeLogDirs (key 35), v0-4: the one data directory, the size of every partition
 * asked for (all when the list is null), and (v4+) the file system's total and usable
 * bytes. Needs DESCRIBE on the cluster (v3+ say CLUSTER_AUTHORIZATION_FAILED, older
 * versions get no directory). Loop thread. */
#include "../kafka.h"

#include <sys/statvfs.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"

typedef kafka_DescribeLogDirsResponse_DescribeLogDirsTopic_t topic_resp_t;
typedef kafka_DescribeLogDirsResponse_DescribeLogDirsPartition_t part_resp_t;

typedef struct all_ctx {
    kafka_req_t *req;
    kafka_DescribeLogDirsResponse_DescribeLogDirsResult_t *res;
    int rc;
} all_ctx_t;

static int fill(kafka_req_t *req, topic_resp_t *tr, const char *name, const int32_t *ids, int32_t n)
{
    tr->Name = kafka_cstr_bytes(name);
    tr->Partitions.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(part_resp_t));
    if (!tr->Partitions.items) return GN_ENOMEM;
    for (int32_t i = 0; i < n; i++) {
        int32_t id = ids ? ids[i] : i;
        gn_partition_t *part = gn_partition_get(req->broker, name, id);
        if (!part) continue; /* Kafka leaves out partitions it does not host */
        part_resp_t *pr = &tr->Partitions.items[tr->Partitions.count++];
        pr->PartitionIndex = id;
        pr->PartitionSize = gn_partition_size_bytes(part);
        pr->OffsetLag = 0;
        pr->IsFutureKey = false;
    }
    return 0;
}

static void each(void *arg, const gn_topic_info_t *info)
{
    all_ctx_t *ac = arg;
    topic_resp_t *tr = &ac->res->Topics.items[ac->res->Topics.count++];
    const char *name = kafka_arena_strdup(&ac->req->arena, kafka_cstr_bytes(info->name));
    if (!name || fill(ac->req, tr, name, NULL, info->partitions) < 0) ac->rc = GN_ENOMEM;
}

int kafka_handle_DescribeLogDirs(kafka_req_t *req, kafka_reader_t *body)
{
    kafka_DescribeLogDirsRequest_t in;
    int rc = kafka_DescribeLogDirsRequest_decode(body, req->version, &req->arena, &in);
    if (rc < 0) return rc;
    kafka_DescribeLogDirsResponse_t out;
    kafka_DescribeLogDirsResponse_init(&out);
    if (!kafka_authorize_cluster(req, GN_ACL_OP_DESCRIBE)) { /* as Kafka: no directory */
        out.ErrorCode = KAFKA_CLUSTER_AUTHORIZATION_FAILED;
        kafka_resp_begin(req);
        kafka_DescribeLogDirsResponse_encode(&req->w, req->version, &out);
        return KAFKA_DONE;
    }
    kafka_DescribeLogDirsResponse_DescribeLogDirsResult_t *res =
        kafka_arena_alloc(&req->arena, sizeof *res);
    if (!res) return GN_ENOMEM;
    const char *dir = gn_broker_config(req->broker)->data_dir;
    res->LogDir = kafka_cstr_bytes(dir ? dir : "");
    res->TotalBytes = res->UsableBytes = -1;
    struct statvfs sv;
    if (dir && statvfs(dir, &sv) == 0) {
        res->TotalBytes = (int64_t)sv.f_blocks * (int64_t)sv.f_frsize;
        res->UsableBytes = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
    }
    out.Results = (kafka_DescribeLogDirsResponse_DescribeLogDirsResult_array_t){res, 1, false};
    if (in.Topics.is_null) {
        size_t n = gn_topic_list(req->broker, NULL, NULL);
        res->Topics.items = kafka_arena_calloc(&req->arena, n + 1, sizeof(topic_resp_t));
        if (!res->Topics.items) return GN_ENOMEM;
        all_ctx_t ac = {.req = req, .res = res};
        gn_topic_list(req->broker, each, &ac);
        if (ac.rc < 0) return ac.rc;
    } else {
        int32_t n = in.Topics.count;
        res->Topics.items = kafka_arena_calloc(&req->arena, (size_t)n + 1, sizeof(topic_resp_t));
        if (!res->Topics.items) return GN_ENOMEM;
        for (int32_t i = 0; i < n; i++) {
            kafka_DescribeLogDirsRequest_DescribableLogDirTopic_t *t = &in.Topics.items[i];
            const char *name = kafka_req_cstr(req, t->Topic);
            if (!name || gn_topic_describe(req->broker, name, &(gn_topic_info_t){0}) < 0) continue;
            topic_resp_t *tr = &res->Topics.items[res->Topics.count++];
            if (fill(req, tr, name, t->Partitions.items, t->Partitions.count) < 0) return GN_ENOMEM;
        }
    }
    kafka_resp_begin(req);
    kafka_DescribeLogDirsResponse_encode(&req->w, req->version, &out);
    return KAFKA_DONE;
}
