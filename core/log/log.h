/* SPDX-License-Identifier: Apache-2.0 */
/* One partition's log on disk, in Kafka's layout: segments (.log), sparse offset
 * (.index) and time (.timeindex) indexes, recovery, retention, compaction and
 * group-commit fsync. Internal to core/ (core/topic wraps it as a partition).
 * Loop thread only; fsync, deletion and compaction run on libuv's thread pool. */
#ifndef GN_CORE_LOG_H
#define GN_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/partition.h"
#include "ganglion/topic.h"

typedef struct gn_log gn_log_t;

typedef struct gn_log_open_opts {
    bool clean_shutdown;      /* the broker's clean-shutdown marker was present: no scan */
    int64_t recovery_point;   /* offsets below are known flushed; recovery scans from here */
    int64_t log_start_offset; /* from log-start-offset-checkpoint, -1 if unknown */
    int64_t now_ms;
} gn_log_open_opts_t;

/* Opens dir (creating it if missing), loads segments, recovers the tail when not
 * clean (truncates at the first bad byte, rebuilds indexes, logs what was cut).
 * cfg is borrowed for the log's lifetime (the topic owns it; alter updates it). */
int gn_log_open(uv_loop_t *loop, const char *dir, const gn_topic_config_t *cfg,
                const gn_log_open_opts_t *opts, gn_log_t **out);
/* Synchronous: waits for an fsync in flight, fsyncs what is unflushed, trims the
 * index files and closes. Pending sync waiters fire with GN_ESHUTDOWN. */
void gn_log_close(gn_log_t *log);
/* For a log whose files are removed next: closes without gn_log_close's fsyncs and
 * index rewrite (a deleted topic may hold gigabytes not yet written back, and close
 * runs on the loop), leaving the files as a crash at this instant would. */
void gn_log_close_discard(gn_log_t *log);
/* Closes (as gn_log_close_discard) and removes the directory (unlink on the thread pool). */
void gn_log_close_and_delete(gn_log_t *log);

typedef struct gn_log_append_info {
    int64_t base_offset;
    int64_t last_offset;
    int64_t log_append_time; /* -1 unless cfg says LogAppendTime */
    int64_t max_timestamp;
    int32_t batches;
    int64_t records;
} gn_log_append_info_t;

/* Validates every batch of buf (CRC, lengths, magic 2, max.message.bytes), assigns
 * offsets, rewrites them in place, and writes all batches with one write; rolls the
 * segment first when segment.bytes / segment.ms say so. On any error the log is
 * untouched (a failed write is truncated back). After an fsync error the log
 * refuses appends with GN_ESTORAGE. */
int gn_log_append(gn_log_t *log, uint8_t *buf, size_t len, int64_t now_ms,
                  gn_log_append_info_t *info);
/* The same, on a partition leader: every batch's partitionLeaderEpoch is set to
 * leader_epoch (outside the CRC; -1 keeps the bytes as they are, as a follower does).
 * Either way a batch of an epoch later than the cache's latest starts that epoch. */
int gn_log_append_epoch(gn_log_t *log, uint8_t *buf, size_t len, int64_t now_ms,
                        int32_t leader_epoch, gn_log_append_info_t *info);

/* Group commit: cb runs on the loop once every offset < upto is fsynced (status 0),
 * or with a negative error if the fsync failed. One fsync on the thread pool covers
 * every waiter that arrived while the previous one ran. Never runs before return. */
typedef void (*gn_log_sync_cb)(void *arg, int status);
int gn_log_sync(gn_log_t *log, int64_t upto, gn_log_sync_cb cb, void *arg);

/* Reads whole batches starting with the one that holds offset, up to max_bytes
 * (at least one whole batch) and ending before max_offset (exclusive).
 * offset == end (or max_offset): slice.len 0. GN_EOFFSETRANGE outside
 * [start, end]. Cost independent of log size (binary searches). */
int gn_log_read(gn_log_t *log, int64_t offset, size_t max_bytes, int64_t max_offset,
                gn_log_slice_t *slice);

/* The first offset of the first batch whose max timestamp >= ts; -1 if none. */
int gn_log_offset_for_time(gn_log_t *log, int64_t ts, int64_t *offset, int64_t *timestamp);
int gn_log_max_timestamp(gn_log_t *log, int64_t *offset, int64_t *timestamp);

int64_t gn_log_start_offset(const gn_log_t *log);
int64_t gn_log_end_offset(const gn_log_t *log); /* next offset to assign */
int64_t gn_log_size_bytes(const gn_log_t *log);
int64_t gn_log_recovery_point(const gn_log_t *log); /* offsets below are fsynced */
int gn_log_segment_count(const gn_log_t *log);

/* DeleteRecords: raise the log start offset to offset (<= end) and delete the
 * segments wholly below it. GN_EOFFSETRANGE if offset > end. */
int gn_log_delete_records(gn_log_t *log, int64_t offset);
/* Replication: drop everything at and above offset (and the epochs starting there). */
int gn_log_truncate(gn_log_t *log, int64_t offset);
/* A copy that fell behind a log whose start moved past its end (Kafka's
 * truncateFullyAndStartAt): drops every record and starts empty at offset (> end). */
int gn_log_restart_at(gn_log_t *log, int64_t offset);

/* The leader-epoch cache (epoch_cache.h), kept in leader-epoch-checkpoint. A new leader
 * assigns its epoch at its log end (1 changed, 0 already known, < 0 not written). */
int gn_log_assign_epoch(gn_log_t *log, int32_t epoch, int64_t start);
int32_t gn_log_latest_epoch(const gn_log_t *log); /* -1: none */
/* OffsetForLeaderEpoch: the largest epoch <= epoch and its end offset; (-1, -1) unknown. */
void gn_log_end_offset_for_epoch(const gn_log_t *log, int32_t epoch, int32_t *out_epoch,
                                 int64_t *out_end);

/* Retention by retention.ms (segment max timestamp) and retention.bytes, whole
 * segments, never the active one (rolled first if segment.ms passed). Returns the
 * number of segments deleted. */
int gn_log_enforce_retention(gn_log_t *log, int64_t now_ms);

/* cleanup.policy=compact: keep the newest record per key in the closed segments,
 * drop tombstones older than delete.retention.ms. Runs on the thread pool; cb on the
 * loop. Returns GN_EAGAIN if a compaction is already running, 0 when started. */
typedef void (*gn_log_compact_cb)(void *arg, int status);
int gn_log_compact(gn_log_t *log, int64_t now_ms, gn_log_compact_cb cb, void *arg);
/* Ratio of not-yet-compacted bytes to the closed segments' bytes. */
double gn_log_dirty_ratio(const gn_log_t *log);

#endif
