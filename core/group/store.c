/* SPDX-License-Identifier: Apache-2.0 */
/* The broker-backed coordinator: creates the compacted internal topic
 * __consumer_offsets when missing (through the controller, replicated like any topic),
 * loads the groups and committed offsets of one partition from its log when this broker
 * becomes its leader (ownership.c), and appends group records with acks=all to the
 * partition Kafka would pick (Utils.abs(groupId.hashCode) % partitions). Loop thread;
 * a load reads the partition's files synchronously. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"
#include "broker/broker_internal.h"
#include "group/group_int.h"
#include "topic/topic_internal.h"

#define LOAD_READ_BYTES (1u << 20)
#define CREATE_RETRY_MS 1000 /* a failed create of __consumer_offsets is tried again */

typedef struct append_ctx {
    gn__store_cb cb;
    void *arg;
} append_ctx_t;

/* A failed append as Kafka's group coordinator reports it: leadership moved (the client
 * finds the new coordinator), or too few in-sync replicas (retry later). */
static int append_error(int status)
{
    if (status == GN_ENOTLEADER) return GN_ENOT_COORDINATOR;
    if (status == GN_ENOT_ENOUGH_REPLICAS) return GN_ECOORDINATOR_NOT_AVAILABLE;
    return status;
}

static void on_produced(void *arg, int status, const gn_produce_result_t *res)
{
    append_ctx_t *c = arg;
    (void)res;
    c->cb(c->arg, append_error(status));
    free(c);
}

static int32_t offsets_partitions(gn_group_coordinator_t *coord)
{
    gn_topic_info_t info;
    if (gn_topic_describe(coord->broker, GN_GROUP_OFFSETS_TOPIC, &info) == 0)
        return info.partitions;
    return coord->cfg.offsets_topic_partitions;
}

static int broker_append(gn_group_coordinator_t *coord, const char *group_id,
                         const gn_bytes_t *keys, const gn_bytes_t *values, size_t count,
                         gn__store_cb cb, void *arg)
{
    int rc;
    gn_batch_builder_t b;
    gn_bytes_t out;
    append_ctx_t *c = NULL;
    int32_t p = gn_group_partition_for(group_id, coord->nparts);
    gn_partition_t *part = gn_partition_get(coord->broker, GN_GROUP_OFFSETS_TOPIC, p);
    if (!part) return GN_ECOORDINATOR_NOT_AVAILABLE;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    int64_t now = gn_now_ms();
    for (size_t i = 0; i < count; i++)
        if ((rc = gn_batch_builder_add(&b, keys[i], values[i], NULL, 0, now)) < 0) goto out;
    if ((rc = gn_batch_builder_finish(&b, 0, &out)) < 0) goto out;
    if (!(c = malloc(sizeof(*c)))) {
        rc = GN_ENOMEM;
        goto out;
    }
    c->cb = cb;
    c->arg = arg;
    /* the builder's buffer is ours: gn_produce may rewrite it in place */
    rc = gn_produce(part, (uint8_t *)out.ptr, out.len, GN_ACKS_ALL, on_produced, c);
    if (rc == 0) c = NULL;
out:
    free(c);
    gn_batch_builder_close(&b);
    return rc < 0 ? append_error(rc) : 0;
}

static int32_t broker_partitions(gn_group_coordinator_t *coord, const char *topic)
{
    gn_topic_info_t info;
    if (!coord->broker || gn_topic_describe(coord->broker, topic, &info) != 0) return -1;
    return info.partitions;
}

const gn__store_ops_t gn__store_broker_ops = {broker_append, broker_partitions};

/* ---- loading ---------------------------------------------------------------------- */

static int load_batches(gn_group_coordinator_t *coord, const uint8_t *buf, size_t len,
                        int64_t *next, size_t *records)
{
    size_t pos = 0;
    while (pos < len) {
        gn_batch_header_t hdr;
        int64_t size = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (size == GN_EAGAIN) break; /* the slice ends inside a batch: read on from there */
        if (size < 0) return (int)size;
        *next = gn_batch_last_offset(&hdr) + 1;
        if (!(hdr.attributes & GN_ATTR_CONTROL)) {
            gn_record_iter_t it;
            gn_record_t rec;
            int rc = gn_record_iter_init(&it, buf + pos, (size_t)size);
            if (rc < 0) return rc;
            while ((rc = gn_record_iter_next(&it, &rec)) == 1) {
                int arc = gn__store_apply(coord, rec.key, rec.value);
                if (arc)
                    GN_WARN("group", "skipped a record of %s | offset=%lld err=%s",
                            GN_GROUP_OFFSETS_TOPIC, (long long)rec.offset, gn_err_name(arc));
                (*records)++;
            }
            gn_record_iter_close(&it);
            if (rc < 0) return rc;
        }
        pos += (size_t)size;
    }
    return 0;
}

int gn__store_load_partition(gn_group_coordinator_t *coord, int32_t p, size_t *records)
{
    gn_partition_t *part = gn_partition_get(coord->broker, GN_GROUP_OFFSETS_TOPIC, p);
    if (!part) return 0; /* not opened here: nothing to load */
    int64_t off = gn_partition_log_start_offset(part);
    int64_t end = gn_partition_log_end_offset(part);
    int rc = 0;
    while (off < end) {
        gn_log_slice_t slice;
        if ((rc = gn_log_read(part->log, off, LOAD_READ_BYTES, end, &slice)) < 0) return rc;
        if (slice.len <= 0) {
            gn_log_slice_release(&slice);
            break;
        }
        uint8_t *buf = malloc((size_t)slice.len);
        if (!buf) {
            gn_log_slice_release(&slice);
            return GN_ENOMEM;
        }
        rc = gn_log_slice_read(&slice, buf);
        int64_t next = off;
        if (rc == 0) rc = load_batches(coord, buf, (size_t)slice.len, &next, records);
        gn_log_slice_release(&slice);
        free(buf);
        if (rc < 0) return rc;
        if (next <= off) break; /* no whole batch: nothing more to learn */
        off = next;
    }
    return 0;
}

typedef struct ready_op {
    gn__op_t op;
    gn_group_coordinator_t *coord;
    int status;
} ready_op_t;

static void finish_ready(gn_group_coordinator_t *coord, int status)
{
    if (status == 0 && !coord->closing) {
        coord->ready = true; /* the partitions led now load first */
        status = gn__owner_open(coord, offsets_partitions(coord));
        if (status) coord->ready = false;
    }
    if (coord->closing && status == 0) status = GN_ESHUTDOWN;
    if (coord->ready_cb) coord->ready_cb(coord->ready_arg, status);
}

static void ready_op_run(gn__op_t *op, int shutdown)
{
    ready_op_t *r = (ready_op_t *)op;
    finish_ready(r->coord, shutdown ? GN_ESHUTDOWN : r->status);
    free(r);
}

/* The create of __consumer_offsets, tried again every CREATE_RETRY_MS until it succeeds or
 * the coordinator closes: in a cluster it fails while the controller changes (or before
 * enough brokers registered), and a coordinator never ready answers every group request
 * COORDINATOR_LOAD_IN_PROGRESS until the broker restarts. One store_inflight all along. */
typedef struct create_ctx {
    gn_group_coordinator_t *coord;
    uv_timer_t retry;
} create_ctx_t;

static int create_offsets_topic(create_ctx_t *c);
static void on_topic_created(void *arg, int status);

static void on_create_ctx_closed(uv_handle_t *h)
{
    free(h->data);
}

static void create_done(create_ctx_t *c, int status)
{
    gn_group_coordinator_t *coord = c->coord;
    coord->store_inflight--;
    uv_close((uv_handle_t *)&c->retry, on_create_ctx_closed);
    finish_ready(coord, status);
}

static void on_create_retry(uv_timer_t *t)
{
    create_ctx_t *c = t->data;
    if (c->coord->closing) {
        create_done(c, GN_ESHUTDOWN);
        return;
    }
    int rc = create_offsets_topic(c);
    if (rc) on_topic_created(c, rc); /* e.g. GN_ETOPIC_EXISTS: the first one was applied */
}

static void on_topic_created(void *arg, int status)
{
    create_ctx_t *c = arg;
    if (status == GN_ETOPIC_EXISTS) status = 0;
    /* GN_ESHUTDOWN too, unless this coordinator is closing: a forwarded proposal whose RPC
     * client was replaced (the controller moved) answers it, and giving up then left the
     * coordinator loading for good (cluster/0013 in CI) */
    if (status && !c->coord->closing) {
        GN_WARN("group", "cannot create %s yet; retrying | err=%s retry_ms=%d",
                GN_GROUP_OFFSETS_TOPIC, gn_err_name(status), CREATE_RETRY_MS);
        uv_timer_start(&c->retry, on_create_retry, CREATE_RETRY_MS, 0);
        return;
    }
    if (status)
        GN_ERROR("group", "cannot create %s | err=%s", GN_GROUP_OFFSETS_TOPIC, gn_err_name(status));
    create_done(c, status);
}

/* offsets.topic.replication.factor, at most the live brokers (Kafka refuses to create the
 * topic below its replication factor; a cluster that grows later keeps what it got). */
static int16_t offsets_replication(gn_broker_t *broker, int16_t rf)
{
    if (rf < 1) return rf; /* -1: default.replication.factor */
    size_t live = gn_cluster_brokers(broker, NULL, 0);
    return (size_t)rf > live ? (int16_t)(live ? live : 1) : rf;
}

static int create_offsets_topic(create_ctx_t *c)
{
    gn_group_coordinator_t *coord = c->coord;
    char seg[32];
    snprintf(seg, sizeof(seg), "%d", coord->cfg.offsets_topic_segment_bytes);
    const gn_config_entry_t cfgs[] = {
        {"cleanup.policy", "compact"},
        {"segment.bytes", seg},
        {"compression.type", "producer"},
    };
    return gn_topic_create(coord->broker, GN_GROUP_OFFSETS_TOPIC,
                           coord->cfg.offsets_topic_partitions,
                           offsets_replication(coord->broker, coord->cfg.offsets_topic_replication),
                           cfgs, sizeof(cfgs) / sizeof(cfgs[0]), false, on_topic_created, c);
}

int gn_group_coordinator_new(gn_broker_t *broker, const gn_group_config_t *cfg,
                             gn_group_ready_cb ready, void *arg, gn_group_coordinator_t **out)
{
    if (!broker || !out) return GN_EINVAL;
    gn_group_coordinator_t *coord = malloc(sizeof(*coord));
    if (!coord) return GN_ENOMEM;
    int rc =
        gn__coordinator_init(coord, gn_broker_loop(broker), broker, cfg, &gn__store_broker_ops);
    if (rc) {
        free(coord);
        return rc;
    }
    coord->ready_cb = ready;
    coord->ready_arg = arg;
    gn_topic_info_t info;
    if (gn_topic_describe(broker, GN_GROUP_OFFSETS_TOPIC, &info) == 0) {
        ready_op_t *r = calloc(1, sizeof(*r));
        if (!r) goto nomem;
        r->op.run = ready_op_run;
        r->coord = coord;
        gn__group_defer(coord, &r->op);
    } else {
        create_ctx_t *c = calloc(1, sizeof(*c));
        if (!c) goto nomem;
        c->coord = coord;
        uv_timer_init(gn_broker_loop(broker), &c->retry);
        c->retry.data = c;
        coord->store_inflight++;
        rc = create_offsets_topic(c);
        if (rc) {
            coord->store_inflight--;
            uv_close((uv_handle_t *)&c->retry, on_create_ctx_closed);
            gn_group_coordinator_close(coord, NULL, NULL);
            return rc;
        }
    }
    *out = coord;
    return 0;
nomem:
    gn_group_coordinator_close(coord, NULL, NULL);
    return GN_ENOMEM;
}

/* The broker's group.* / offsets.* settings (Kafka's units) as the coordinator's config;
 * all zero (offsets_topic_num_partitions 0) keeps every default. */
static void config_from_broker(const gn_broker_group_config_t *b, gn_group_config_t *cfg)
{
    gn_group_config_defaults(cfg);
    if (b->offsets_topic_num_partitions <= 0) return;
    cfg->offsets_topic_partitions = b->offsets_topic_num_partitions;
    cfg->offsets_topic_replication = b->offsets_topic_replication_factor;
    if (b->offsets_topic_segment_bytes > 0)
        cfg->offsets_topic_segment_bytes = b->offsets_topic_segment_bytes;
    if (b->offsets_retention_minutes > 0)
        cfg->offsets_retention_ms = (int64_t)b->offsets_retention_minutes * 60000;
    cfg->offsets_retention_check_ms = b->offsets_retention_check_interval_ms;
    if (b->offset_metadata_max_bytes >= 0)
        cfg->offset_metadata_max_bytes = b->offset_metadata_max_bytes;
    cfg->group_min_session_timeout_ms = b->group_min_session_timeout_ms;
    cfg->group_max_session_timeout_ms = b->group_max_session_timeout_ms;
    cfg->group_initial_rebalance_delay_ms = b->group_initial_rebalance_delay_ms;
    if (b->group_max_size > 0) cfg->group_max_size = b->group_max_size;
}

gn_group_coordinator_t *gn_broker_group_coordinator(gn_broker_t *broker)
{
    if (!broker || broker->closing) return NULL;
    if (!broker->groups) {
        gn_group_config_t cfg;
        config_from_broker(&broker->cfg.groups, &cfg);
        if (gn_group_coordinator_new(broker, &cfg, NULL, NULL, &broker->groups)) {
            GN_ERROR("group", "cannot start the group coordinator | hint=%s",
                     "check group.min.session.timeout.ms <= group.max.session.timeout.ms");
            broker->groups = NULL;
        }
    }
    return broker->groups;
}
