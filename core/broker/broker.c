/* SPDX-License-Identifier: Apache-2.0 */
/* gn_broker_t's life: open (data directory, meta.properties, clean-shutdown marker,
 * checkpoints, topics from the metadata store, logs with recovery info), the periodic
 * work (retention, compaction, checkpoints, interval flush) and close (logs flushed,
 * checkpoints, then the clean-shutdown marker last). Loop thread only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "acl/acl_internal.h"
#include "broker/broker_internal.h"
#include "broker/meta_properties.h"
#include "cluster/cluster.h"
#include "cluster/controller.h"
#include "replica/forward.h"
#include "replica/remote_read.h"
#include "group/serve.h"
#include "replica/replica.h"
#include "ganglion/error.h"
#include "ganglion/group.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"
#include "topic/topic_internal.h"

#define CLEAN_SHUTDOWN_FILE    ".kafka_cleanshutdown"
#define RECOVERY_CHECKPOINT    "recovery-point-offset-checkpoint"
#define LOG_START_CHECKPOINT   "log-start-offset-checkpoint"
#define CHECKPOINT_INTERVAL_MS 60000 /* log.flush.offset.checkpoint.interval.ms */
#define NUM_HANDLES            5     /* idle + four timers */

static const char *const flush_names[] = {"on_ack_all", "always", "interval", "os"};

int gn_flush_policy_parse(const char *s, gn_flush_policy_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcasecmp(s, flush_names[i]) == 0) {
            *out = (gn_flush_policy_t)i;
            return 0;
        }
    }
    return GN_EINVALID_CONFIG;
}

const char *gn_flush_policy_name(gn_flush_policy_t p)
{
    return (unsigned)p < 4 ? flush_names[p] : "unknown";
}

int64_t gn_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void gn_broker_config_defaults(gn_broker_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->node_id = 1;
    cfg->data_dir = "./data";
    cfg->flush = GN_FLUSH_ON_ACK_ALL;
    cfg->num_partitions = 1;
    cfg->default_replication_factor = 1;
    cfg->auto_create_topics = true;
    cfg->retention_check_interval_ms = 300000;
    cfg->cleaner_backoff_ms = 15000;
    gn_topic_config_defaults(&cfg->topic_defaults);
    cfg->advertised_host = "127.0.0.1";
    cfg->advertised_port = 9092;
    cfg->broker_session_timeout_ms = 3000;
    cfg->broker_heartbeat_interval_ms = 500;
    cfg->replica_lag_time_max_ms = 30000;
    cfg->controlled_shutdown_timeout_ms = 5000;
    cfg->allow_everyone_if_no_acl_found = true;
}

uv_loop_t *gn_broker_loop(gn_broker_t *broker)
{
    return broker->loop;
}
const gn_broker_config_t *gn_broker_config(gn_broker_t *broker)
{
    return &broker->cfg;
}
const char *gn_broker_cluster_id(const gn_broker_t *broker)
{
    /* one id for the whole cluster, from the metadata log (core/cluster); until it is
     * there, this broker's meta.properties */
    const json_t *id =
        broker->cluster ? json_object_get(gn__cluster_image(broker->cluster), "cluster_id") : NULL;
    const char *s = json_string_value(id);
    if (s && strlen(s) < sizeof(broker->cluster_id) && strcmp(s, broker->cluster_id) != 0)
        strcpy(((gn_broker_t *)broker)->cluster_id, s); /* kept: callers hold the pointer */
    return broker->cluster_id;
}

static int path_join(char *out, size_t cap, const gn_broker_t *broker, const char *file)
{
    return snprintf(out, cap, "%s/%s", broker->data_dir, file) >= (int)cap ? -ENAMETOOLONG : 0;
}

void gn__broker_log_opts(gn_broker_t *broker, const char *topic, int32_t partition,
                         gn_log_open_opts_t *opts)
{
    int64_t rp = gn__checkpoint_get(&broker->recovery_points, topic, partition);
    int64_t start = gn__checkpoint_get(&broker->log_starts, topic, partition);
    /* no recovery point for this partition (new, or a corrupt checkpoint): scan it all */
    opts->clean_shutdown = broker->clean_shutdown && rp >= 0;
    if (!opts->clean_shutdown) broker->logs_recovering++;
    opts->recovery_point = rp >= 0 ? rp : 0;
    opts->log_start_offset = start;
    opts->now_ms = gn_now_ms();
}

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp)) return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -errno;
    return 0;
}

/* ---- checkpoints ---- */

static int collect_checkpoints(gn_broker_t *broker, gn__checkpoint_t *rp, gn__checkpoint_t *start)
{
    memset(rp, 0, sizeof(*rp));
    memset(start, 0, sizeof(*start));
    for (size_t i = 0; i < broker->ntopics; i++) {
        gn_topic_t *topic = broker->topics[i];
        for (int32_t p = 0; p < topic->partitions; p++) {
            gn_log_t *log = topic->parts[p]->log;
            if (gn__checkpoint_add(rp, topic->name, p, gn_log_recovery_point(log)) < 0 ||
                gn__checkpoint_add(start, topic->name, p, gn_log_start_offset(log)) < 0)
                return GN_ENOMEM;
        }
    }
    return 0;
}

static void maybe_finish_close(gn_broker_t *broker);

static void checkpoint_written(void *arg, int status)
{
    gn_broker_t *broker = arg;
    if (status < 0) GN_WARN("broker", "checkpoint write failed | err=%s", gn_strerror(status));
    if (--broker->checkpoint_writing == 0 && broker->closing) maybe_finish_close(broker);
}

static void write_checkpoint_async(gn_broker_t *broker, const char *file, gn__checkpoint_t *cp)
{
    char path[PATH_MAX];
    size_t len;
    if (path_join(path, sizeof(path), broker, file) < 0) return;
    char *text = gn__checkpoint_format(cp, &len);
    if (!text) return;
    broker->checkpoint_writing++;
    if (gn__atomic_write_async(broker->loop, path, text, len, checkpoint_written, broker) < 0)
        broker->checkpoint_writing--;
}

static void on_checkpoint_timer(uv_timer_t *timer)
{
    gn_broker_t *broker = timer->data;
    if (broker->checkpoint_writing) return; /* the previous one is still on the pool */
    gn__checkpoint_t rp, start;
    if (collect_checkpoints(broker, &rp, &start) == 0) {
        write_checkpoint_async(broker, RECOVERY_CHECKPOINT, &rp);
        write_checkpoint_async(broker, LOG_START_CHECKPOINT, &start);
    }
    gn__checkpoint_free(&rp);
    gn__checkpoint_free(&start);
}

static void write_checkpoint_sync(gn_broker_t *broker, const char *file, gn__checkpoint_t *cp)
{
    char path[PATH_MAX];
    size_t len;
    if (path_join(path, sizeof(path), broker, file) < 0) return;
    char *text = gn__checkpoint_format(cp, &len);
    int rc = text ? gn__atomic_write(path, text, len) : GN_ENOMEM;
    if (rc < 0)
        GN_ERROR("broker", "cannot write checkpoint | path=%s err=%s", path, gn_strerror(rc));
    free(text);
}

/* ---- periodic work ---- */

static void on_retention_timer(uv_timer_t *timer)
{
    gn_broker_t *broker = timer->data;
    int64_t now = gn_now_ms();
    for (size_t i = 0; i < broker->ntopics; i++) {
        gn_topic_t *topic = broker->topics[i];
        /* producer.id.expiration.ms: producers silent that long are forgotten, whatever
         * the retention did to their batches (Kafka keeps them until then, KIP-360) */
        for (int32_t p = 0; p < topic->partitions; p++)
            gn__producer_state_expire(&topic->parts[p]->producers, now);
        if (!(topic->config.cleanup_policy & GN_CLEANUP_DELETE)) continue;
        for (int32_t p = 0; p < topic->partitions; p++) {
            int n = gn_log_enforce_retention(topic->parts[p]->log, now);
            if (n > 0)
                GN_INFO("broker", "retention deleted segments | topic=%s partition=%d segments=%d",
                        topic->name, p, n);
            else if (n < 0)
                GN_WARN("broker", "retention failed | topic=%s partition=%d err=%s", topic->name, p,
                        gn_strerror(n));
        }
    }
}

typedef struct compact_token {
    gn_broker_t *broker;
    int32_t partition;
    char topic[GN_TOPIC_NAME_MAX + 1];
} compact_token_t;

static void compaction_done(void *arg, int status)
{
    compact_token_t *tok = arg;
    gn_broker_t *broker = tok->broker;
    broker->compactions_inflight--;
    if (status < 0 && status != GN_ESHUTDOWN)
        GN_WARN("broker", "compaction failed | topic=%s partition=%d err=%s", tok->topic,
                tok->partition, gn_strerror(status));
    gn_topic_t *topic = gn__topic_find(broker, tok->topic);
    if (topic && tok->partition < topic->partitions)
        topic->parts[tok->partition]->compacting = false;
    free(tok);
    if (broker->closing) maybe_finish_close(broker);
}

static void on_cleaner_timer(uv_timer_t *timer)
{
    gn_broker_t *broker = timer->data;
    int64_t now = gn_now_ms();
    for (size_t i = 0; i < broker->ntopics; i++) {
        gn_topic_t *topic = broker->topics[i];
        if (!(topic->config.cleanup_policy & GN_CLEANUP_COMPACT)) continue;
        for (int32_t p = 0; p < topic->partitions; p++) {
            gn_partition_t *part = topic->parts[p];
            if (part->compacting ||
                gn_log_dirty_ratio(part->log) <= topic->config.min_cleanable_dirty_ratio)
                continue;
            compact_token_t *tok = calloc(1, sizeof(*tok));
            if (!tok) return;
            tok->broker = broker;
            tok->partition = p;
            snprintf(tok->topic, sizeof(tok->topic), "%s", topic->name);
            int rc = gn_log_compact(part->log, now, compaction_done, tok);
            if (rc < 0) {
                free(tok);
                continue;
            }
            part->compacting = true;
            broker->compactions_inflight++;
        }
    }
}

static void on_flush_timer(uv_timer_t *timer)
{
    gn_broker_t *broker = timer->data;
    int64_t now = gn_now_ms();
    for (size_t i = 0; i < broker->ntopics; i++) {
        gn_topic_t *topic = broker->topics[i];
        for (int32_t p = 0; p < topic->partitions; p++)
            gn__partition_flush_due(topic->parts[p], now);
    }
}

static uint64_t clamp_ms(int64_t v, int64_t lo, int64_t hi)
{
    return (uint64_t)(v < lo ? lo : v > hi ? hi : v);
}

/* ---- open ---- */

/* Partition directories renamed for deletion before a crash: finish removing them. */
static void remove_deleted_dirs(gn_broker_t *broker)
{
    DIR *d = opendir(broker->data_dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 7 && strcmp(e->d_name + n - 7, "-delete") == 0 && strchr(e->d_name, '.')) {
            char path[PATH_MAX];
            if (path_join(path, sizeof(path), broker, e->d_name) == 0)
                gn__remove_tree_async(broker->loop, path);
        }
    }
    closedir(d);
}

typedef struct load_ctx {
    gn_broker_t *broker;
    int rc;
} load_ctx_t;

static void load_one(void *arg, const gn_topic_record_t *rec)
{
    load_ctx_t *ctx = arg;
    if (ctx->rc < 0) return;
    int rc = gn__topic_load(ctx->broker, rec);
    if (rc < 0) {
        GN_ERROR("broker", "cannot load topic | topic=%s err=%s", rec->name, gn_strerror(rc));
        ctx->rc = rc;
    }
}

static void meta_closed_noop(void *arg, int status)
{
    (void)arg, (void)status;
}

static void cluster_closed_flag(void *arg)
{
    *(bool *)arg = true;
}

int gn_broker_open(uv_loop_t *loop, const gn_broker_config_t *cfg, gn_broker_t **out)
{
    int rc;
    if (!loop || !cfg || !cfg->data_dir || !out) return GN_EINVAL;
    gn_broker_t *broker = calloc(1, sizeof(*broker));
    if (!broker) return GN_ENOMEM;
    broker->loop = loop;
    broker->cfg = *cfg;
    broker->checkpoint_interval_ms = CHECKPOINT_INTERVAL_MS;
    rc = -ENAMETOOLONG;
    if (snprintf(broker->data_dir, sizeof(broker->data_dir), "%s", cfg->data_dir) >=
        (int)sizeof(broker->data_dir))
        goto out;
    broker->cfg.data_dir = broker->data_dir;
    if ((rc = mkdir_p(broker->data_dir)) < 0) {
        GN_ERROR("broker", "cannot create data directory | dir=%s err=%s", broker->data_dir,
                 gn_strerror(rc));
        goto out;
    }
    if ((rc = gn__meta_properties_ensure(broker->data_dir, cfg->node_id, broker->cluster_id,
                                         sizeof(broker->cluster_id))) < 0)
        goto out;

    /* the marker goes before anything is written: a crash from here on is unclean */
    char path[PATH_MAX];
    if ((rc = path_join(path, sizeof(path), broker, CLEAN_SHUTDOWN_FILE)) < 0) goto out;
    broker->clean_shutdown = access(path, F_OK) == 0;
    if (broker->clean_shutdown && unlink(path) < 0) {
        rc = -errno;
        goto out;
    }
    if (path_join(path, sizeof(path), broker, RECOVERY_CHECKPOINT) < 0 ||
        gn__checkpoint_read(path, &broker->recovery_points) < 0 ||
        path_join(path, sizeof(path), broker, LOG_START_CHECKPOINT) < 0 ||
        gn__checkpoint_read(path, &broker->log_starts) < 0) {
        rc = GN_ENOMEM;
        goto out;
    }
    GN_INFO("broker", "opening | dir=%s clean_shutdown=%s", broker->data_dir,
            broker->clean_shutdown ? "true" : "false");

    gn_cluster_opts_t copts = {.node_id = cfg->node_id,
                               .data_dir = broker->data_dir,
                               .voters = cfg->quorum_voters,
                               .tls = cfg->cluster_tls};
    if ((rc = gn__cluster_open(loop, &copts, &broker->cluster)) < 0) goto out;
    if ((rc = gn__metastore_raft_open(broker->cluster, loop, broker->data_dir, &broker->meta)) < 0)
        goto out;
    gn__acl_config_t acfg = {.enabled = cfg->authorizer_enabled,
                             .super_users = cfg->super_users,
                             .allow_if_no_acl = cfg->allow_everyone_if_no_acl_found};
    if ((rc = gn__acl_new(&acfg, broker->cluster, &broker->acl)) < 0) goto out;
    remove_deleted_dirs(broker);
    load_ctx_t ctx = {broker, 0};
    rc = gn__metastore_load(broker->meta, load_one, &ctx);
    if (rc == 0) rc = ctx.rc;
    if (rc < 0) goto out;
    gn__checkpoint_free(&broker->recovery_points);
    gn__checkpoint_free(&broker->log_starts);
    if ((rc = gn__controller_open(broker, &broker->controller)) < 0) goto out;
    if ((rc = gn__replica_open(broker, &broker->replicas)) < 0) goto out;
    if ((rc = gn__forward_open(broker, &broker->forwarder)) < 0) goto out;
    if ((rc = gn__remote_open(broker, &broker->remote)) < 0) goto out;
    if ((rc = gn__group_serve_open(broker)) < 0) goto out;

    uv_idle_init(loop, &broker->idle);
    uv_timer_t *timers[] = {&broker->retention_timer, &broker->cleaner_timer,
                            &broker->checkpoint_timer, &broker->flush_timer};
    for (size_t i = 0; i < 4; i++) {
        uv_timer_init(loop, timers[i]);
        timers[i]->data = broker;
    }
    broker->idle.data = broker;
    broker->handles_open = NUM_HANDLES;
    uint64_t every = clamp_ms(cfg->retention_check_interval_ms, 1, INT64_MAX / 2);
    uv_timer_start(&broker->retention_timer, on_retention_timer, every, every);
    every = clamp_ms(cfg->cleaner_backoff_ms, 100, INT64_MAX / 2);
    uv_timer_start(&broker->cleaner_timer, on_cleaner_timer, every, every);
    every = (uint64_t)broker->checkpoint_interval_ms;
    uv_timer_start(&broker->checkpoint_timer, on_checkpoint_timer, every, every);
    if (cfg->flush == GN_FLUSH_INTERVAL) {
        every = clamp_ms(cfg->topic_defaults.flush_ms, 1, 1000);
        uv_timer_start(&broker->flush_timer, on_flush_timer, every, every);
    }
    gn__producer_ids_open(broker); /* last: a quorum of one runs the loop for its block */
    GN_INFO("broker",
            "open | dir=%s topics=%zu recovered_logs=%d node_id=%d cluster_id=%s flush=%s",
            broker->data_dir, broker->ntopics, broker->logs_recovering, cfg->node_id,
            broker->cluster_id, gn_flush_policy_name(cfg->flush));
    *out = broker;
    return 0;
out:
    broker->closing = true; /* no deferral from here: nothing ran */
    gn__topic_close_all(broker);
    if (broker->meta) gn__metastore_close(broker->meta, meta_closed_noop, NULL);
    gn__acl_free(broker->acl);
    if (broker->cluster) {
        bool cluster_closed = false;
        gn__cluster_close(broker->cluster, cluster_closed_flag, &cluster_closed);
        while (!cluster_closed)
            uv_run(loop, UV_RUN_ONCE);
    }
    gn__checkpoint_free(&broker->recovery_points);
    gn__checkpoint_free(&broker->log_starts);
    free(broker);
    return rc;
}

/* ---- close ---- */

static void on_handle_closed(uv_handle_t *handle)
{
    gn_broker_t *broker = handle->data;
    if (--broker->handles_open > 0) return;
    gn_broker_closed_cb cb = broker->closed_cb;
    void *arg = broker->closed_arg;
    free(broker);
    if (cb) cb(arg);
}

static void maybe_finish_close(gn_broker_t *broker)
{
    if (broker->close_waits > 0 || broker->checkpoint_writing > 0 ||
        broker->compactions_inflight > 0 || broker->finishing)
        return;
    broker->finishing = true;
    /* completions still queued run now (their calls returned long ago) */
    for (int guard = 0; broker->ntasks > 0 && guard < 1000; guard++)
        gn__defer_run(broker);
    write_checkpoint_sync(broker, RECOVERY_CHECKPOINT, &broker->close_recovery);
    write_checkpoint_sync(broker, LOG_START_CHECKPOINT, &broker->close_starts);
    gn__checkpoint_free(&broker->close_recovery);
    gn__checkpoint_free(&broker->close_starts);
    /* the marker last: present only if everything before it is on disk */
    char path[PATH_MAX];
    if (path_join(path, sizeof(path), broker, CLEAN_SHUTDOWN_FILE) == 0) {
        int rc = gn__atomic_write(path, "", 0);
        if (rc < 0)
            GN_ERROR("broker", "cannot write clean-shutdown marker | err=%s", gn_strerror(rc));
    }
    GN_INFO("broker", "closed | dir=%s", broker->data_dir);
    uv_close((uv_handle_t *)&broker->idle, on_handle_closed);
    uv_close((uv_handle_t *)&broker->retention_timer, on_handle_closed);
    uv_close((uv_handle_t *)&broker->cleaner_timer, on_handle_closed);
    uv_close((uv_handle_t *)&broker->checkpoint_timer, on_handle_closed);
    uv_close((uv_handle_t *)&broker->flush_timer, on_handle_closed);
}

static void on_cluster_closed(void *arg)
{
    gn_broker_t *broker = arg;
    broker->cluster = NULL;
    broker->close_waits--;
    maybe_finish_close(broker);
}

static void on_meta_closed(void *arg, int status)
{
    gn_broker_t *broker = arg;
    broker->meta = NULL;
    /* the quorum after the store: its last proposals complete first */
    gn__cluster_close(broker->cluster, on_cluster_closed, broker);
}

void gn_broker_drain(gn_broker_t *broker, gn_broker_drained_cb cb, void *arg)
{
    if (!broker || broker->closing || !broker->controller) {
        cb(arg);
        return;
    }
    gn__controller_drain(broker->controller, (uint64_t)broker->cfg.controlled_shutdown_timeout_ms,
                         cb, arg);
}

void gn_broker_close(gn_broker_t *broker, gn_broker_closed_cb cb, void *arg)
{
    if (!broker || broker->closing) return;
    broker->closing = true;
    broker->closed_cb = cb;
    broker->closed_arg = arg;
    gn_group_coordinator_close(broker->groups, NULL, NULL); /* before the logs it writes */
    gn__remote_close(broker->remote); /* parked remote reads get GN_ESHUTDOWN */
    broker->remote = NULL;
    gn__forward_close(broker->forwarder); /* forwarded produces get GN_ESHUTDOWN */
    broker->forwarder = NULL;
    gn__replica_close(broker->replicas); /* acks=all waiters get GN_ESHUTDOWN */
    broker->replicas = NULL;
    gn__controller_close(broker->controller); /* no more cluster decisions or RPCs */
    broker->controller = NULL;
    gn__producer_ids_close(broker);
    gn__acl_free(broker->acl); /* the adapters asking it have stopped */
    broker->acl = NULL;
    uv_timer_stop(&broker->retention_timer);
    uv_timer_stop(&broker->cleaner_timer);
    uv_timer_stop(&broker->checkpoint_timer);
    uv_timer_stop(&broker->flush_timer);
    /* gn_log_close fsyncs everything: afterwards the recovery point is the log end */
    for (size_t i = 0; i < broker->ntopics; i++) {
        gn_topic_t *topic = broker->topics[i];
        for (int32_t p = 0; p < topic->partitions; p++) {
            gn_log_t *log = topic->parts[p]->log;
            gn__checkpoint_add(&broker->close_recovery, topic->name, p, gn_log_end_offset(log));
            gn__checkpoint_add(&broker->close_starts, topic->name, p, gn_log_start_offset(log));
        }
    }
    /* counted first: a log's close may call back (compaction) into maybe_finish_close */
    broker->close_waits++;
    gn__topic_close_all(broker);
    gn__metastore_close(broker->meta, on_meta_closed, broker);
}
