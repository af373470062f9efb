/* SPDX-License-Identifier: Apache-2.0 */
/* Producer-id allocation for idempotent producers (InitProducerId), as Kafka's
 * AllocateProducerIds: the broker takes ids from blocks of 1000 that the controller hands
 * out as "producer_ids" records in the metadata log (core/cluster, image.c assigns each
 * block's first id), so no two brokers and no two lives of one broker hand out the same id.
 * One block is asked for at open and the next when 90% of the current one is used; until
 * the first arrives InitProducerId is answered COORDINATOR_LOAD_IN_PROGRESS (retried by
 * clients). A block's unused rest is dropped at restart. The DATA/producer-id-block file of
 * the brokers before the quorum is read once: no id below its end is handed out.
 * Loop thread only. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"

#define PRODUCER_ID_FILE  "producer-id-block" /* before the quorum */
#define PRODUCER_ID_BLOCK 1000                /* Kafka's ProducerIdsBlock size */

/* "version=0\nblock.end=<N>\n": every id below N may have been handed out. */
static int read_block_end(const char *path, int64_t *end)
{
    char *text = NULL;
    size_t len;
    int rc = gn__read_small_file(path, 4096, &text, &len);
    if (rc == -ENOENT) {
        *end = 0;
        return 0;
    }
    if (rc < 0) return rc;
    const char *p = strstr(text, "block.end=");
    char *stop = NULL;
    long long v = p ? strtoll(p + 10, &stop, 10) : -1;
    rc = (!p || stop == p + 10 || v < 0 || strncmp(text, "version=0\n", 10) != 0) ? GN_ECORRUPT : 0;
    if (rc == 0) *end = v;
    free(text);
    return rc;
}

/* The lowest id the cluster may hand out, from the pre-quorum file: ids below its end were
 * given out, and in a cluster as id * 1024 + node id. */
static int legacy_floor(gn_broker_t *broker, int64_t *floor)
{
    char path[PATH_MAX];
    int64_t end;
    if (snprintf(path, sizeof(path), "%s/%s", broker->data_dir, PRODUCER_ID_FILE) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    int rc = read_block_end(path, &end);
    if (rc < 0) {
        GN_ERROR("broker", "cannot read producer id block | file=%s err=%s", path, gn_strerror(rc));
        return rc;
    }
    if (end > INT64_MAX / 2048) return GN_ECORRUPT;
    *floor = end > 0 && gn__cluster_voter_count(broker->cluster) > 1 ? (end + 1) * 1024 : end;
    return 0;
}

static void on_block_proposed(void *arg, int status)
{
    gn_broker_t *broker = arg;
    broker->pid_asking = false;
    if (status < 0 && status != GN_ESHUTDOWN && !broker->closing)
        GN_WARN("broker", "no producer id block from the controller yet | err=%s",
                gn_strerror(status));
}

/* Asks the controller for the next block (one request at a time). */
static void ask_block(gn_broker_t *broker)
{
    if (broker->pid_asking || broker->closing || !broker->cluster) return;
    int64_t nonce = 0;
    if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) nonce = (int64_t)uv_hrtime();
    nonce &= INT64_MAX;
    json_t *rec = json_pack("{s:s, s:i, s:i, s:I, s:I}", "type", "producer_ids", "broker",
                            broker->cfg.node_id, "size", PRODUCER_ID_BLOCK, "first",
                            (json_int_t)broker->pid_floor, "request", (json_int_t)nonce);
    if (rec && gn__cluster_propose(broker->cluster, rec, on_block_proposed, broker) == 0) {
        broker->pid_asking = true;
        broker->pid_request = nonce;
    }
    json_decref(rec);
}

static void retry_ask(gn__task_t *task)
{
    gn_broker_t *broker = (gn_broker_t *)((char *)task - offsetof(gn_broker_t, pid_retry));
    if (broker->pid_end <= broker->pid_next && broker->pid_spare_end <= broker->pid_spare_first)
        ask_block(broker);
}

/* Every applied record: our block request, answered (the image holds its first id). */
static void on_record(void *arg, const json_t *rec)
{
    gn_broker_t *broker = arg;
    const char *type = json_string_value(json_object_get(rec, "type"));
    /* a first request that found no controller yet: again as the cluster forms (on the
     * next loop turn, not inside raft's apply) */
    if (broker->pid_end <= broker->pid_next && broker->pid_spare_end <= broker->pid_spare_first &&
        broker->pid_floor_rc == 0 && !broker->pid_asking && !broker->closing)
        gn__defer(broker, &broker->pid_retry);
    if (!type || strcmp(type, "producer_ids") != 0 || broker->pid_request == 0 ||
        json_integer_value(json_object_get(rec, "request")) != broker->pid_request)
        return;
    char key[16];
    snprintf(key, sizeof(key), "%d", broker->cfg.node_id);
    const json_t *b = json_object_get(
        json_object_get(gn__cluster_image(broker->cluster), "producer_id_blocks"), key);
    int64_t first = json_integer_value(json_object_get(b, "first"));
    int64_t size = json_integer_value(json_object_get(b, "size"));
    broker->pid_request = 0;
    if (broker->pid_spare_end > broker->pid_spare_first || size <= 0) return;
    broker->pid_spare_first = first;
    broker->pid_spare_end = first + size;
    GN_DEBUG("broker", "producer id block | first=%" PRId64 " size=%" PRId64, first, size);
}

static void on_wait_timer(uv_timer_t *t)
{
    ((bool *)t->data)[0] = true; /* expired */
}

static void on_wait_timer_closed(uv_handle_t *h)
{
    ((bool *)h->data)[1] = true; /* closed */
}

void gn__producer_ids_open(gn_broker_t *broker)
{
    int rc = legacy_floor(broker, &broker->pid_floor);
    broker->pid_floor_rc = rc;
    broker->pid_retry.run = retry_ask;
    gn__cluster_on_apply(broker->cluster, on_record, broker);
    if (rc < 0) return; /* a damaged legacy file fails InitProducerId, not the broker */
    ask_block(broker);
    /* a quorum of one commits at once: the first InitProducerId finds its block (in a
     * cluster it comes with the controller's answer, and clients retry meanwhile) */
    if (gn__cluster_voter_count(broker->cluster) == 1 && broker->pid_asking) {
        uv_timer_t timer;
        bool flags[2] = {false, false}; /* expired, closed */
        uv_timer_init(broker->loop, &timer);
        timer.data = flags;
        uv_timer_start(&timer, on_wait_timer, 5000, 0);
        while (broker->pid_asking && !flags[0])
            uv_run(broker->loop, UV_RUN_ONCE);
        uv_close((uv_handle_t *)&timer, on_wait_timer_closed);
        while (!flags[1])
            uv_run(broker->loop, UV_RUN_ONCE);
    }
}

void gn__producer_ids_close(gn_broker_t *broker)
{
    if (broker->cluster) gn__cluster_off_apply(broker->cluster, on_record, broker);
    gn__defer_cancel(broker, &broker->pid_retry);
}

int gn_broker_next_producer_id(gn_broker_t *broker, int64_t *id)
{
    if (!broker || !id) return GN_EINVAL;
    if (broker->pid_floor_rc < 0) return broker->pid_floor_rc;
    if (broker->pid_next >= broker->pid_end && broker->pid_spare_end > broker->pid_spare_first) {
        broker->pid_next = broker->pid_spare_first;
        broker->pid_end = broker->pid_spare_end;
        broker->pid_spare_first = broker->pid_spare_end = 0;
    }
    /* the next block when this one is 90% used */
    if (broker->pid_spare_end <= broker->pid_spare_first &&
        broker->pid_end - broker->pid_next <= PRODUCER_ID_BLOCK / 10)
        ask_block(broker);
    if (broker->pid_next >= broker->pid_end) return GN_ECOORDINATOR_LOADING;
    *id = broker->pid_next++;
    return 0;
}
