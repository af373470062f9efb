/* SPDX-License-Identifier: Apache-2.0 */
/* Which groups this broker coordinates: a group lives on the leader of its
 * __consumer_offsets partition in the metadata image (core/cluster), as in Kafka. After
 * every applied metadata record the partitions this broker now leads are marked loading
 * and read back from their log (store.c) on a later loop turn; the ones it no longer
 * leads are unloaded: their groups leave the table and waiting members get
 * GN_ENOT_COORDINATOR, so clients rediscover the coordinator. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "cluster/controller.h"
#include "group/group_int.h"

/* Without the metadata lease (core/cluster/controller.h) this broker's image may be stale:
 * it may have been fenced and its partitions moved, so it coordinates nothing meanwhile
 * (as it leads no partition); clients retry. A quorum of one always holds it. */
static bool lease_ok(gn_group_coordinator_t *coord)
{
    return !coord->broker || !coord->broker->controller ||
           gn__controller_lease_ok(coord->broker->controller);
}

int gn__owner_check(gn_group_coordinator_t *coord, const char *group_id)
{
    if (!coord->ready) return GN_ECOORDINATOR_LOADING;
    if (!coord->parts || !group_id) return 0; /* memory backend: every group is here */
    if (!lease_ok(coord)) return GN_ECOORDINATOR_NOT_AVAILABLE;
    switch (coord->parts[gn_group_partition_for(group_id, coord->nparts)].state) {
    case GN__PART_LOADED:
        return 0;
    case GN__PART_LOADING:
        return GN_ECOORDINATOR_LOADING;
    default:
        return GN_ENOT_COORDINATOR;
    }
}

bool gn__owner_loading(const gn_group_coordinator_t *coord)
{
    if (!coord->ready) return true;
    for (int32_t p = 0; coord->parts && p < coord->nparts; p++)
        if (coord->parts[p].state == GN__PART_LOADING) return true;
    return false;
}

int gn_group_coordinator_locate(gn_group_coordinator_t *coord, const char *group_id,
                                int32_t *node_id)
{
    if (!coord || !group_id || !node_id) return GN_EINVAL;
    gn_topic_info_t info; /* the topic may exist before this coordinator is ready */
    if (!coord->broker || !lease_ok(coord) ||
        gn_topic_describe(coord->broker, GN_GROUP_OFFSETS_TOPIC, &info) < 0 || info.partitions <= 0)
        return GN_ECOORDINATOR_NOT_AVAILABLE;
    gn_cluster_partition_t cp;
    int32_t p = gn_group_partition_for(group_id, info.partitions);
    if (gn_cluster_partition(coord->broker, GN_GROUP_OFFSETS_TOPIC, p, &cp) < 0 || cp.leader < 0)
        return GN_ECOORDINATOR_NOT_AVAILABLE;
    *node_id = cp.leader;
    return 0;
}

/* ---- unloading ----------------------------------------------------------------- */

static void unload(gn_group_coordinator_t *coord, int32_t p)
{
    size_t n = 0;
    for (size_t b = 0; b < GN__GROUP_BUCKETS; b++) {
        gn__group_t *next;
        for (gn__group_t *g = coord->buckets[b]; g; g = next) {
            next = g->hnext;
            if (gn_group_partition_for(g->id, coord->nparts) != p) continue;
            gn__group_unload(g, GN_ENOT_COORDINATOR);
            n++;
        }
    }
    coord->parts[p].state = GN__PART_NONE;
    GN_INFO("group", "no longer the coordinator: groups unloaded | partition=%d groups=%zu", p, n);
}

/* ---- loading ------------------------------------------------------------------- */

static void load_pending(gn_group_coordinator_t *coord)
{
    for (int32_t p = 0; p < coord->nparts; p++) {
        if (coord->parts[p].state != GN__PART_LOADING) continue;
        size_t groups = coord->groups_count, records = 0;
        uint64_t t0 = uv_hrtime();
        int rc = gn__store_load_partition(coord, p, &records);
        if (rc < 0) {
            /* what was read is dropped; the next metadata change tries again */
            GN_ERROR("group", "loading %s failed | partition=%d err=%s", GN_GROUP_OFFSETS_TOPIC, p,
                     gn_err_name(rc));
            unload(coord, p);
            continue;
        }
        coord->parts[p].state = GN__PART_LOADED;
        for (size_t b = 0; b < GN__GROUP_BUCKETS; b++)
            for (gn__group_t *g = coord->buckets[b]; g; g = g->hnext)
                if (gn_group_partition_for(g->id, coord->nparts) == p) gn__group_loaded_metadata(g);
        /* fifty empty partitions at start-up say nothing worth a line each */
        if (records)
            GN_INFO("group",
                    "coordinator for partition loaded | partition=%d leader_epoch=%d groups=%zu "
                    "records=%zu ms=%.1f",
                    p, coord->parts[p].epoch, coord->groups_count - groups, records,
                    (double)(uv_hrtime() - t0) / 1e6);
        else
            GN_DEBUG("group", "coordinator for partition loaded | partition=%d leader_epoch=%d", p,
                     coord->parts[p].epoch);
    }
}

static void load_op_run(gn__op_t *op, int shutdown)
{
    gn_group_coordinator_t *coord =
        (gn_group_coordinator_t *)((char *)op - offsetof(gn_group_coordinator_t, load_op));
    coord->load_queued = false;
    if (!shutdown && !coord->closing) load_pending(coord);
}

/* ---- leadership from the image --------------------------------------------------- */

/* Marks the partitions gained as loading and unloads the ones lost; true when some
 * partition is to be loaded. */
static bool refresh(gn_group_coordinator_t *coord)
{
    int32_t self = gn_broker_config(coord->broker)->node_id;
    bool loading = false;
    for (int32_t p = 0; p < coord->nparts; p++) {
        gn__opart_t *op = &coord->parts[p];
        gn_cluster_partition_t cp;
        bool lead = gn_cluster_partition(coord->broker, GN_GROUP_OFFSETS_TOPIC, p, &cp) == 0 &&
                    cp.leader == self;
        /* lost, or lost and regained between two looks (a new leader epoch): what is in
         * memory may miss records another leader wrote meanwhile */
        if (op->state != GN__PART_NONE && (!lead || cp.leader_epoch != op->epoch)) unload(coord, p);
        if (lead && op->state == GN__PART_NONE) {
            op->state = GN__PART_LOADING;
            op->epoch = cp.leader_epoch;
            loading = true;
        }
    }
    return loading;
}

/* After each applied metadata record, on the apply path itself (as core/replica), so no
 * request is answered from the previous leadership once the record is applied; the
 * partitions gained are read on a later turn: COORDINATOR_LOAD_IN_PROGRESS meanwhile. */
static void on_metadata_applied(void *arg, const json_t *record)
{
    gn_group_coordinator_t *coord = arg;
    (void)record;
    if (coord->closing) return;
    if (refresh(coord) && !coord->load_queued) {
        coord->load_queued = true;
        gn__group_defer(coord, &coord->load_op);
    }
}

int gn__owner_open(gn_group_coordinator_t *coord, int32_t nparts)
{
    if (nparts <= 0) return GN_EINVAL;
    coord->parts = calloc((size_t)nparts, sizeof(*coord->parts));
    if (!coord->parts) return GN_ENOMEM;
    coord->nparts = nparts;
    coord->load_op.run = load_op_run;
    gn__cluster_on_apply(coord->broker->cluster, on_metadata_applied, coord);
    coord->listening = true;
    /* the partitions led now load before the coordinator is ready */
    refresh(coord);
    load_pending(coord);
    return 0;
}

void gn__owner_close(gn_group_coordinator_t *coord)
{
    if (coord->listening && coord->broker->cluster)
        gn__cluster_off_apply(coord->broker->cluster, on_metadata_applied, coord);
    coord->listening = false;
}
