/* SPDX-License-Identifier: Apache-2.0 */
/* Consumer lag: for each partition a group has committed or been assigned, the
 * committed offset against the partition's high watermark as this broker knows it (-1
 * for a partition it holds no replica of; a follower's may trail the leader's). Reads
 * in-memory state only (the assignment bytes of a "consumer" group are decoded per
 * call), so it answers synchronously; the views replace what other brokers lead with
 * their leaders' answers (ends.c). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/partition.h"
#include "group/group_int.h"

typedef struct lag_row {
    const char *topic; /* borrowed from the group or the decoded assignment */
    int32_t partition;
    const char *member_id;
} lag_row_t;

static int row_cmp(const void *a, const void *b)
{
    const lag_row_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c) return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

int64_t gn__group_lag_of(int64_t committed, int64_t end)
{
    if (committed < 0 || end < 0) return -1;
    return end > committed ? end - committed : 0;
}

int gn_group_lag(gn_group_coordinator_t *coord, const char *group_id, gn_group_lag_each_cb each,
                 void *arg)
{
    if (!coord || !group_id || !each) return GN_EINVAL;
    gn__group_t *g = gn__group_find(coord, group_id);
    if (!g || g->state == GN_GROUP_DEAD) return GN_EGROUP_ID_NOT_FOUND;
    bool consumer = g->protocol_type && strcmp(g->protocol_type, GN_GROUP_CONSUMER_PROTOCOL) == 0 &&
                    g->state == GN_GROUP_STABLE;
    size_t nasg = 0, cap = g->offsets_count, n = 0;
    gn__assignment_t *asg = calloc(g->members_count + 1, sizeof(*asg));
    const char **owner = calloc(g->members_count + 1, sizeof(char *));
    int rc = 0;
    if (!asg || !owner) {
        rc = GN_ENOMEM;
        goto out;
    }
    for (gn__member_t *m = g->members; consumer && m; m = m->next) {
        if (gn__assignment_decode((gn_bytes_t){m->assignment, m->assignment_len}, &asg[nasg]))
            continue;
        owner[nasg] = m->member_id;
        for (size_t t = 0; t < asg[nasg].topics_count; t++)
            cap += asg[nasg].topics[t].count;
        nasg++;
    }
    lag_row_t *rows = calloc(cap + 1, sizeof(*rows));
    if (!rows) {
        rc = GN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < g->offsets_count; i++)
        rows[n++] = (lag_row_t){g->offsets[i].topic, g->offsets[i].partition, NULL};
    for (size_t a = 0; a < nasg; a++) {
        for (size_t t = 0; t < asg[a].topics_count; t++) {
            const gn__assigned_topic_t *at = &asg[a].topics[t];
            for (size_t p = 0; p < at->count; p++)
                rows[n++] = (lag_row_t){at->topic, at->partitions[p], owner[a]};
        }
    }
    qsort(rows, n, sizeof(*rows), row_cmp);
    size_t out_rows = 0;
    for (size_t i = 0; i < n;) {
        /* merge duplicates: a committed row and an assigned row of one partition */
        lag_row_t r = rows[i];
        size_t j = i + 1;
        for (; j < n && row_cmp(&rows[j], &r) == 0; j++)
            if (rows[j].member_id) r.member_id = rows[j].member_id;
        i = j;
        const gn__offset_t *o = gn__offset_find(g, r.topic, r.partition);
        /* a partition this broker holds no replica of: its end is not known here (a copy
         * fetched for readers may trail the leader, or be empty) */
        gn_partition_t *part =
            coord->broker && gn_cluster_holds_replica(coord->broker, r.topic, r.partition)
                ? gn_partition_get(coord->broker, r.topic, r.partition)
                : NULL;
        gn_group_lag_t row = {
            r.topic, r.partition, o ? o->offset : -1, part ? gn_partition_high_watermark(part) : -1,
            -1,      r.member_id};
        row.lag = gn__group_lag_of(row.committed, row.high_watermark);
        each(arg, &row);
        out_rows++;
    }
    free(rows);
    rc = (int)out_rows;
out:
    for (size_t a = 0; asg && a < nasg; a++)
        gn__assignment_free(&asg[a]);
    free(asg);
    free(owner);
    return rc;
}
