/* SPDX-License-Identifier: Apache-2.0 */
/* gn_partition_t: one partition of a topic, wrapping its gn_log_t. Produce (acks and
 * the flush policy decide when the callback runs), reads bounded by the high
 * watermark (the log end on one node), offsets, DeleteRecords and watches. Callbacks
 * are deferred to the loop, never run before their call returns. Loop thread only. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/record.h"
#include "topic/atomic_file.h"
#include "topic/producer_state.h"
#include "replica/forward.h"
#include "replica/remote_read.h"
#include "replica/replica.h"
#include "topic/topic_internal.h"
#include "topic/uuid.h"

/* ---- lookup ---- */

gn_partition_t *gn_partition_get(gn_broker_t *broker, const char *topic, int32_t partition)
{
    if (!broker || !topic || broker->closing) return NULL;
    gn_topic_t *t = gn__topic_find(broker, topic);
    if (!t || partition < 0 || partition >= t->partitions) return NULL;
    return t->parts[partition];
}

int gn_partition_get_or_create(gn_broker_t *broker, const char *topic, int32_t partition,
                               gn_partition_t **out)
{
    if (!broker || !topic || !out) return GN_EINVAL;
    if (broker->closing) return GN_ESHUTDOWN;
    gn_topic_t *t = gn__topic_find(broker, topic);
    if (!t) {
        int rc = gn_topic_name_validate(topic, strnlen(topic, GN_TOPIC_NAME_MAX + 1));
        if (rc < 0) return rc;
        if (!broker->cfg.auto_create_topics) return GN_EUNKNOWN_TOPIC;
        rc = gn_topic_create(broker, topic, -1, -1, NULL, 0, false, NULL, NULL);
        if (rc < 0) return rc;
        t = gn__topic_find(broker, topic);
        if (!t) return GN_EUNKNOWN_TOPIC;
    }
    if (partition < 0 || partition >= t->partitions) return GN_EUNKNOWN_TOPIC;
    *out = t->parts[partition];
    return 0;
}

const char *gn_partition_topic(const gn_partition_t *part)
{
    return part->topic->name;
}
int32_t gn_partition_id(const gn_partition_t *part)
{
    return part->id;
}

/* ---- open / close ---- */

static int write_small(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) return -ENAMETOOLONG;
    return gn__atomic_write(path, text, strlen(text));
}

static void watch_task_run(gn__task_t *task);

int gn__partition_open(gn_broker_t *broker, gn_topic_t *topic, int32_t id, bool create,
                       gn_partition_t **out)
{
    char dir[PATH_MAX], text[128];
    int rc;
    if (snprintf(dir, sizeof(dir), "%s/%s-%" PRId32, broker->data_dir, topic->name, id) >=
        (int)sizeof(dir))
        return -ENAMETOOLONG;
    gn_partition_t *part = calloc(1, sizeof(*part));
    if (!part) return GN_ENOMEM;
    part->broker = broker;
    part->topic = topic;
    part->id = id;
    part->watch_task.run = watch_task_run;
    part->last_flush_ms = gn_now_ms();
    gn__producer_state_init(&part->producers);

    gn_log_open_opts_t opts;
    if (create) {
        opts = (gn_log_open_opts_t){.clean_shutdown = true,
                                    .recovery_point = 0,
                                    .log_start_offset = -1,
                                    .now_ms = gn_now_ms()};
    } else {
        gn__broker_log_opts(broker, topic->name, id, &opts);
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        goto out;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/partition.metadata", dir);
    if (create || access(path, F_OK) < 0) {
        /* Kafka's PartitionMetadataFile: the topic id survives a rename-less restore */
        char b64[GN_UUID_B64_LEN + 1];
        gn__uuid_to_base64(topic->id, b64);
        snprintf(text, sizeof(text), "version: 0\ntopic_id: %s\n", b64);
        if ((rc = write_small(dir, "partition.metadata", text)) < 0) goto out;
    }
    snprintf(path, sizeof(path), "%s/leader-epoch-checkpoint", dir);
    if (create || access(path, F_OK) < 0) {
        if ((rc = write_small(dir, "leader-epoch-checkpoint", "0\n0\n")) < 0) goto out;
    }
    if ((rc = gn_log_open(broker->loop, dir, &topic->config, &opts, &part->log)) < 0) goto out;
    part->observed_end = gn_log_end_offset(part->log);
    if (!create &&
        (rc = gn__producer_state_load(&part->producers, dir, part->log, gn_now_ms())) < 0)
        goto out;
    *out = part;
    return 0;
out:
    if (part->log) gn_log_close(part->log);
    gn__producer_state_close(&part->producers);
    free(part);
    return rc;
}

static void snapshot_at(gn_partition_t *part, int64_t offset, const char *why)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s/%s-%" PRId32, part->broker->data_dir, part->topic->name,
                 part->id) >= (int)sizeof(dir))
        return;
    int rc = gn__producer_state_write_snapshot(&part->producers, dir, offset);
    if (rc < 0)
        GN_WARN("topic", "cannot write producer snapshot | dir=%s offset=%" PRId64 " at=%s err=%s",
                dir, offset, why, gn_strerror(rc));
}

static void fire_all_watches(gn_partition_t *part, int status)
{
    while (part->watches) {
        gn_watch_t *w = part->watches;
        part->watches = w->next;
        if (part->watches) part->watches->prev = NULL;
        w->prev = w->next = NULL;
        w->part = NULL;
        w->cb(w, status);
    }
}

void gn__partition_close(gn_partition_t *part, int status, bool del)
{
    gn__replica_partition_closed(part, status); /* acks=all waiters, replica fetches */
    gn__remote_partition_closed(part);          /* a copy fetched for remote reads */
    gn__defer_cancel(part->broker, &part->watch_task);
    fire_all_watches(part, status);
    if (part->log && !del) {
        /* the snapshot at the log end makes the next open replay nothing */
        int64_t end = gn_log_end_offset(part->log);
        gn_log_close(part->log);
        part->log = NULL;
        snapshot_at(part, end, "close");
    }
    if (part->log) gn_log_close_discard(part->log); /* deleted: its files go next */
    gn__producer_state_close(&part->producers);
    if (del) {
        /* as Kafka: rename to <topic>-<p>.<uuid>-delete first, so a topic re-created
         * under the same name never meets the files being removed */
        char dir[PATH_MAX + 512], gone[PATH_MAX + 600], hex[33];
        uint8_t id[16];
        snprintf(dir, sizeof(dir), "%s/%s-%" PRId32, part->broker->data_dir, part->topic->name,
                 part->id);
        if (gn__uuid_random(id) < 0) memset(id, 0, sizeof(id));
        gn__uuid_to_hex(id, hex);
        snprintf(gone, sizeof(gone), "%s.%s-delete", dir, hex);
        if (rename(dir, gone) == 0) {
            gn__remove_tree_async(part->broker->loop, gone);
        } else {
            GN_WARN("topic", "cannot rename deleted partition | dir=%s err=%s", dir,
                    gn_strerror(-errno));
            gn__remove_tree_async(part->broker->loop, dir);
        }
    }
    free(part);
}

/* ---- watches ---- */

/* Every watch armed now runs once, whatever its offset (oldest first: a callback that arms
 * again goes to the head and waits for the next wake). */
static void wake_every_watch(gn_partition_t *part)
{
    size_t n = 0;
    for (gn_watch_t *w = part->watches; w; w = w->next)
        n++;
    while (n-- > 0 && part->watches) {
        gn_watch_t *w = part->watches;
        while (w->next)
            w = w->next;
        gn_watch_cancel(w);
        w->cb(w, 0);
    }
}

void gn__partition_wake_watches(gn_partition_t *part)
{
    part->wake_all = true;
    gn__defer(part->broker, &part->watch_task);
}

static void watch_task_run(gn__task_t *task)
{
    gn_partition_t *part = (gn_partition_t *)((char *)task - offsetof(gn_partition_t, watch_task));
    if (part->wake_all) {
        part->wake_all = false;
        wake_every_watch(part);
    }
    int64_t hw = gn_partition_high_watermark(part);
    if (hw > part->observed_end) {
        gn_broker_t *broker = part->broker;
        int64_t base = part->observed_end;
        part->observed_end = hw;
        for (size_t i = 0; i < broker->nappend_observers; i++)
            broker->append_observers[i].cb(broker->append_observers[i].arg, part, base, hw - 1);
    }
    gn_watch_t *w = part->watches;
    /* a callback may cancel or arm other watches: restart after each one */
    while (w) {
        if (w->offset < hw) {
            gn_watch_cancel(w);
            w->cb(w, 0);
            w = part->watches;
            hw = gn_partition_high_watermark(part);
            continue;
        }
        w = w->next;
    }
}

int gn_broker_observe_appends(gn_broker_t *broker, gn_append_observer_cb cb, void *arg)
{
    size_t max = sizeof(broker->append_observers) / sizeof(broker->append_observers[0]);
    if (!broker || !cb) return GN_EINVAL;
    if (broker->nappend_observers == max) return GN_ENOMEM;
    broker->append_observers[broker->nappend_observers].cb = cb;
    broker->append_observers[broker->nappend_observers].arg = arg;
    broker->nappend_observers++;
    return 0;
}

void gn_broker_unobserve_appends(gn_broker_t *broker, gn_append_observer_cb cb, void *arg)
{
    for (size_t i = 0; i < broker->nappend_observers; i++) {
        if (broker->append_observers[i].cb != cb || broker->append_observers[i].arg != arg)
            continue;
        memmove(&broker->append_observers[i], &broker->append_observers[i + 1],
                (broker->nappend_observers - i - 1) * sizeof(broker->append_observers[0]));
        broker->nappend_observers--;
        return;
    }
}

void gn_partition_watch(gn_partition_t *part, gn_watch_t *watch, int64_t offset, gn_watch_cb cb)
{
    if (watch->part) gn_watch_cancel(watch);
    gn__remote_want(part); /* held elsewhere: fetched here while watched */
    watch->cb = cb;
    watch->offset = offset;
    watch->part = part;
    watch->prev = NULL;
    watch->next = part->watches;
    if (part->watches) part->watches->prev = watch;
    part->watches = watch;
    if (offset < gn_partition_high_watermark(part)) gn__defer(part->broker, &part->watch_task);
}

void gn_watch_cancel(gn_watch_t *watch)
{
    gn_partition_t *part = watch->part;
    if (!part) return;
    if (watch->prev)
        watch->prev->next = watch->next;
    else
        part->watches = watch->next;
    if (watch->next) watch->next->prev = watch->prev;
    watch->prev = watch->next = NULL;
    watch->part = NULL;
}

/* ---- produce ---- */

typedef struct produce_req {
    gn__task_t task;
    gn_produce_cb cb;
    void *arg;
    int status;
    gn_produce_result_t res;
    gn_partition_t *part; /* acks=all: waits for the high watermark (core/replica) */
} produce_req_t;

static void produce_run(gn__task_t *task)
{
    produce_req_t *req = (produce_req_t *)task;
    if (req->cb) req->cb(req->arg, req->status, req->status < 0 ? NULL : &req->res);
    free(req);
}

static void produce_synced(void *arg, int status)
{
    produce_req_t *req = arg;
    req->status = status;
    req->res.durable = status == 0;
    if (status == 0 && req->part &&
        gn__replica_await(req->part, req->res.last_offset + 1, &req->task, &req->status) == 0)
        return; /* replicated to the ISR first */
    produce_run(&req->task);
}

static void flush_done(void *arg, int status)
{
    gn_partition_t *part = arg;
    (void)part;
    if (status < 0) GN_ERROR("topic", "interval flush failed | err=%s", gn_strerror(status));
}

static void flush_now(gn_partition_t *part, int64_t now_ms)
{
    part->unflushed = 0;
    part->last_flush_ms = now_ms;
    /* the arg is not dereferenced: the partition may be gone when this completes */
    int rc = gn_log_sync(part->log, gn_log_end_offset(part->log), flush_done, part);
    if (rc < 0)
        GN_ERROR("topic", "interval flush failed | topic=%s partition=%d err=%s", part->topic->name,
                 part->id, gn_strerror(rc));
}

void gn__partition_flush_due(gn_partition_t *part, int64_t now_ms)
{
    if (part->unflushed > 0 && now_ms - part->last_flush_ms >= part->topic->config.flush_ms)
        flush_now(part, now_ms);
}

/* message.timestamp.before/after.max.ms, checked per batch (base and max timestamp)
 * for CreateTime topics, as Kafka's LogValidator does per record. */
static int check_timestamps(const gn_topic_config_t *cfg, const uint8_t *p, size_t len, int64_t now)
{
    if (cfg->timestamp_type != GN_TIMESTAMP_CREATE_TIME ||
        (cfg->timestamp_before_max_ms == INT64_MAX && cfg->timestamp_after_max_ms == INT64_MAX))
        return 0;
    while (len > 0) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(p, len, &hdr);
        if (n < 0) return n == GN_EAGAIN ? GN_ECORRUPT : (int)n;
        int64_t ts[2] = {hdr.base_timestamp, hdr.max_timestamp};
        for (int i = 0; i < 2; i++) {
            if (ts[i] < 0) continue; /* no timestamp */
            if (cfg->timestamp_before_max_ms != INT64_MAX &&
                ts[i] < now - cfg->timestamp_before_max_ms)
                return GN_EINVALID_TIMESTAMP;
            if (cfg->timestamp_after_max_ms != INT64_MAX &&
                ts[i] > now + cfg->timestamp_after_max_ms)
                return GN_EINVALID_TIMESTAMP;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A retry of batches already appended: answered with the original offsets once they
 * are as durable as acks asks (Kafka answers acks=all when the original is replicated). */
static int answer_duplicate(gn_partition_t *part, produce_req_t *req, const gn__producer_dup_t *dup,
                            gn_acks_t acks, gn_produce_cb cb, void *arg)
{
    gn_broker_t *broker = part->broker;
    req->task.run = produce_run;
    req->cb = cb;
    req->arg = arg;
    req->res = (gn_produce_result_t){
        .base_offset = dup->first_offset,
        .last_offset = dup->last_offset,
        .log_append_time = -1,
        .log_start_offset = gn_log_start_offset(part->log),
        .durable = gn_log_recovery_point(part->log) > dup->last_offset,
        .duplicate = true,
    };
    bool sync = broker->cfg.flush == GN_FLUSH_ALWAYS ||
                (broker->cfg.flush == GN_FLUSH_ON_ACK_ALL && acks == GN_ACKS_ALL);
    if (acks == GN_ACKS_ALL) req->part = part; /* and replicated (core/replica) */
    if (sync && !req->res.durable) {
        int rc = gn_log_sync(part->log, dup->last_offset + 1, produce_synced, req);
        if (rc == 0) return 0;
        req->status = rc;
    }
    if (acks == GN_ACKS_ALL && req->status == 0 &&
        gn__replica_await(part, dup->last_offset + 1, &req->task, &req->status) == 0)
        return 0;
    gn__defer(broker, &req->task);
    return 0;
}

/* A partition led by another broker: the batches go to the leader (core/replica/forward.c),
 * as do later ones while earlier forwards of the partition are still queued here. */
int gn_produce(gn_partition_t *part, uint8_t *batches, size_t len, gn_acks_t acks, gn_produce_cb cb,
               void *arg)
{
    if (!part || !batches || len == 0) return GN_EINVAL;
    gn_broker_t *broker = part->broker;
    if (broker->closing) return GN_ESHUTDOWN;
    if (acks != GN_ACKS_NONE && acks != GN_ACKS_LEADER && acks != GN_ACKS_ALL) return GN_EINVAL;
    /* a topic this broker is creating has no leader before the metadata log decides it:
     * written here, the records would go if another broker's creation won (one node: no
     * other creation can) */
    bool undecided = part->topic->creating && gn__cluster_voter_count(broker->cluster) > 1;
    if (broker->forwarder &&
        (undecided || gn__forward_busy(broker->forwarder, part) || !gn_partition_is_leader(part)))
        return gn__forward_produce(broker->forwarder, part, batches, len, acks, cb, arg);
    return gn__produce_local(part, batches, len, acks, cb, arg);
}

bool gn_partition_is_leader(const gn_partition_t *part)
{
    /* the image's word only: the produce checks (ISR, metadata lease) come after */
    gn_cluster_partition_t cp;
    if (!part->broker->cluster ||
        gn_cluster_partition(part->broker, part->topic->name, part->id, &cp) < 0)
        return !gn_cluster_replicated(part->broker);
    return cp.leader == part->broker->cfg.node_id;
}

int gn__produce_local(gn_partition_t *part, uint8_t *batches, size_t len, gn_acks_t acks,
                      gn_produce_cb cb, void *arg)
{
    if (!part || !batches || len == 0) return GN_EINVAL;
    gn_broker_t *broker = part->broker;
    const gn_topic_config_t *cfg = &part->topic->config;
    if (broker->closing) return GN_ESHUTDOWN;
    if (acks != GN_ACKS_NONE && acks != GN_ACKS_LEADER && acks != GN_ACKS_ALL) return GN_EINVAL;
    /* core/replica: only the leader writes; acks=all needs min.insync.replicas in the ISR */
    int32_t leader_epoch;
    int lrc = gn__replica_check_produce(part, acks, &leader_epoch);
    if (lrc < 0) return lrc;
    int64_t now = gn_now_ms();
    int rc = check_timestamps(cfg, batches, len, now);
    if (rc < 0) return rc;

    /* idempotent producers: epoch and sequence checks before anything is written */
    gn__producer_dup_t dup;
    int verdict = gn__producer_state_check(&part->producers, batches, len, &dup);
    if (verdict < 0) return verdict;

    produce_req_t *req = calloc(1, sizeof(*req));
    if (!req) return GN_ENOMEM;
    if (verdict == 1) {
        GN_DEBUG("topic",
                 "duplicate batch answered with its original offsets | topic=%s partition=%d "
                 "base_offset=%" PRId64 " last_offset=%" PRId64,
                 part->topic->name, part->id, dup.first_offset, dup.last_offset);
        return answer_duplicate(part, req, &dup, acks, cb, arg);
    }
    gn_log_append_info_t info;
    int nsegs = gn_log_segment_count(part->log);
    int64_t end_before = gn_log_end_offset(part->log);
    if ((rc = gn_log_append_epoch(part->log, batches, len, now, leader_epoch, &info)) < 0) {
        free(req);
        return rc;
    }
    /* a roll: snapshot the state as of the new segment's base, as Kafka does */
    if (gn_log_segment_count(part->log) != nsegs) snapshot_at(part, end_before, "roll");
    if (gn__producer_state_update(&part->producers, batches, len, now) < 0)
        GN_ERROR("topic", "producer state update failed | topic=%s partition=%d err=%s",
                 part->topic->name, part->id, gn_strerror(GN_ENOMEM));
    req->task.run = produce_run;
    req->cb = cb;
    req->arg = arg;
    req->res = (gn_produce_result_t){
        .base_offset = info.base_offset,
        .last_offset = info.last_offset,
        .log_append_time = info.log_append_time,
        .log_start_offset = gn_log_start_offset(part->log),
        .durable = false,
    };
    /* high watermark = log end on one node: wake the watches on the next turn */
    if (part->watches || broker->nappend_observers) gn__defer(broker, &part->watch_task);
    gn__replica_appended(part); /* followers waiting for data fetch it now */

    bool sync = false;
    switch (broker->cfg.flush) {
    case GN_FLUSH_ALWAYS:
        sync = true;
        break;
    case GN_FLUSH_ON_ACK_ALL:
        sync = acks == GN_ACKS_ALL;
        break;
    case GN_FLUSH_INTERVAL:
        part->unflushed += info.records > 0 ? info.records : 1;
        if (part->unflushed >= cfg->flush_messages) flush_now(part, now);
        break;
    case GN_FLUSH_OS:
        break;
    }
    if (acks == GN_ACKS_ALL) req->part = part;
    if (sync) {
        rc = gn_log_sync(part->log, info.last_offset + 1, produce_synced, req);
        if (rc == 0) return 0;
        req->status = rc; /* written but not durable: the caller learns why */
    } else if (gn_log_recovery_point(part->log) > info.last_offset) {
        req->res.durable = true;
    }
    if (acks == GN_ACKS_ALL &&
        gn__replica_await(part, info.last_offset + 1, &req->task, &req->status) == 0)
        return 0;
    gn__defer(broker, &req->task);
    return 0;
}

/* ---- reads and offsets ---- */

int64_t gn_partition_high_watermark(const gn_partition_t *part)
{
    return gn__replica_high_watermark(part); /* the log end unless replicated */
}
int64_t gn_partition_log_start_offset(const gn_partition_t *part)
{
    return gn_log_start_offset(part->log);
}
int64_t gn_partition_log_end_offset(const gn_partition_t *part)
{
    return gn_log_end_offset(part->log);
}
int64_t gn_partition_size_bytes(const gn_partition_t *part)
{
    return gn_log_size_bytes(part->log);
}

void gn_partition_want(gn_partition_t *part)
{
    gn__remote_want(part);
}

int gn_partition_check_read(gn_partition_t *part)
{
    return gn__remote_check(part);
}

int gn_partition_latest(gn_partition_t *part, int64_t *offset)
{
    if (!part || !offset) return GN_EINVAL;
    gn__remote_want(part);
    int rc = gn__remote_latest(part, offset);
    if (rc == 1) *offset = gn_partition_high_watermark(part);
    return rc == 1 ? 0 : rc;
}

int gn_partition_read(gn_partition_t *part, int64_t offset, size_t max_bytes, gn_read_result_t *res)
{
    if (!part || !res) return GN_EINVAL;
    gn__remote_want(part); /* held elsewhere: fetched here while read */
    int64_t hw = gn_partition_high_watermark(part);
    int64_t start = gn_partition_log_start_offset(part);
    memset(res, 0, sizeof(*res));
    res->slice.fd = -1;
    res->high_watermark = hw;
    res->last_stable_offset = hw; /* no transactions yet */
    res->log_start_offset = start;
    if (offset < start || offset > hw) return GN_EOFFSETRANGE;
    return gn_log_read(part->log, offset, max_bytes, hw, &res->slice);
}

int gn_partition_leader_epoch(const gn_partition_t *part, int32_t current_epoch, int32_t *epoch)
{
    int32_t mine;
    int rc = gn__replica_leader_epoch(part, &mine);
    if (epoch) *epoch = mine;
    if (rc < 0) return rc;
    if (current_epoch >= 0 && current_epoch < mine) return GN_EFENCED_LEADER_EPOCH;
    if (current_epoch > mine) return GN_EUNKNOWN_LEADER_EPOCH;
    return 0;
}

void gn_partition_epoch_end(const gn_partition_t *part, int32_t epoch, int32_t *out_epoch,
                            int64_t *out_end)
{
    gn_log_end_offset_for_epoch(part->log, epoch, out_epoch, out_end);
}

int gn_partition_offset_for_time(gn_partition_t *part, int64_t ts, int64_t *offset,
                                 int64_t *timestamp)
{
    return gn_log_offset_for_time(part->log, ts, offset, timestamp);
}

int gn_partition_max_timestamp(gn_partition_t *part, int64_t *offset, int64_t *timestamp)
{
    return gn_log_max_timestamp(part->log, offset, timestamp);
}

int gn_partition_delete_records(gn_partition_t *part, int64_t offset, int64_t *low)
{
    int64_t hw = gn_partition_high_watermark(part);
    if (offset == -1) offset = hw;
    if (offset < 0 || offset > hw) return GN_EOFFSETRANGE;
    if (offset > gn_log_start_offset(part->log)) {
        int rc = gn_log_delete_records(part->log, offset);
        if (rc < 0) return rc;
    }
    if (low) *low = gn_log_start_offset(part->log);
    return 0;
}
