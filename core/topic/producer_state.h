/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotent-producer state of one partition, as Kafka's ProducerStateManager: per
 * producer id its epoch and its last 5 runs (sequence range, offsets, timestamp; a run is
 * one batch or several contiguous in both sequence and offset, merged as appended),
 * the sequence/epoch checks gn_produce runs before appending, and the snapshot files
 * (<offset %020d>.snapshot) written at segment roll and close and reloaded (plus a
 * replay of the log tail) at open. Loop thread only. */
#ifndef GN_CORE_TOPIC_PRODUCER_STATE_H
#define GN_CORE_TOPIC_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/record.h"
#include "log/log.h"

/* Kafka keeps 5 batches: an idempotent producer has at most 5 requests in flight per
 * partition. Here 5 runs (at least 5 batches), so that forwarded produce's requests of many
 * batches each, 5 in flight, are all recognised when resent. */
#define GN__PRODUCER_BATCHES        5
#define GN__PRODUCER_EXPIRATION_MS  86400000LL   /* producer.id.expiration.ms */
#define GN__PRODUCER_SNAPSHOTS_KEPT 2            /* the newest, and one fallback */
#define GN__PRODUCER_SNAPSHOT_MAX   (256u << 20) /* refuse to load a larger file */

typedef struct gn__producer_batch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
    int64_t timestamp; /* the batch's max timestamp */
} gn__producer_batch_t;

typedef struct gn__producer {
    int64_t id;
    int16_t epoch;
    uint8_t nbatches;
    gn__producer_batch_t batches[GN__PRODUCER_BATCHES]; /* oldest first */
    int64_t last_timestamp;                             /* for expiration */
} gn__producer_t;

typedef struct gn__producer_state {
    gn__producer_t *v; /* sorted by id (bsearch) */
    size_t n, cap;
    int64_t expiration_ms; /* GN__PRODUCER_EXPIRATION_MS unless a test changes it */
} gn__producer_state_t;

/* What a duplicate is answered with: the original batch(es), never appended again. */
typedef struct gn__producer_dup {
    int64_t first_offset, last_offset;
    int64_t timestamp;
} gn__producer_dup_t;

void gn__producer_state_init(gn__producer_state_t *ps);
void gn__producer_state_close(gn__producer_state_t *ps);
const gn__producer_t *gn__producer_state_find(const gn__producer_state_t *ps, int64_t id);

/* The last sequence of a batch: base_sequence + last_offset_delta, wrapping past
 * INT32_MAX to 0 as Kafka's DefaultRecordBatch.incrementSequence. */
int32_t gn__producer_last_seq(const gn_batch_header_t *hdr);

/* Checks every batch of buf (whole batches, as gn_produce gets them) in order, each
 * as if the ones before it in buf were appended. Batches without a producer id pass.
 * 0: append them all. 1: every idempotent batch of buf is a duplicate of a cached one
 * (and buf holds nothing else): *dup holds the original offsets. Errors:
 * GN_EPRODUCER_FENCED (epoch older than known), GN_EOUT_OF_ORDER_SEQ (gap, or a new
 * epoch not starting at 0), GN_EDUPLICATE_SEQ (a duplicate mixed with new batches),
 * GN_ECORRUPT (a header does not parse). Nothing is changed. */
int gn__producer_state_check(const gn__producer_state_t *ps, const uint8_t *buf, size_t len,
                             gn__producer_dup_t *dup);

/* Records the batches of buf after the log appended them (base offsets assigned).
 * now_ms stands for a batch without timestamps. 0 or GN_ENOMEM (state for that producer
 * lost: its next batch is accepted as from an unknown producer). */
int gn__producer_state_update(gn__producer_state_t *ps, const uint8_t *buf, size_t len,
                              int64_t now_ms);
/* One batch header (base offset assigned). */
int gn__producer_state_update_one(gn__producer_state_t *ps, const gn_batch_header_t *hdr,
                                  int64_t now_ms);

/* Drops producers whose last timestamp is expiration_ms or more before now_ms. Returns
 * the number removed. */
size_t gn__producer_state_expire(gn__producer_state_t *ps, int64_t now_ms);

/* Snapshot bytes (format in docs/storage.md, "Producer state"); *out malloc'd. */
int gn__producer_state_encode(const gn__producer_state_t *ps, int64_t offset, uint8_t **out,
                              size_t *len);
/* Replaces ps's content from snapshot bytes; GN_ECORRUPT (ps unchanged) or GN_ENOMEM. */
int gn__producer_state_decode(gn__producer_state_t *ps, const uint8_t *buf, size_t len,
                              int64_t *offset);

/* Writes DIR/<offset>.snapshot atomically (blocking: tmp, fdatasync, rename, fsync
 * dir) and removes older snapshots beyond GN__PRODUCER_SNAPSHOTS_KEPT. 0 or -errno. */
int gn__producer_state_write_snapshot(const gn__producer_state_t *ps, const char *dir,
                                      int64_t offset);

/* At partition open: removes snapshots above the log end (a truncated tail), loads the
 * newest valid one (a corrupt one is skipped with a warning), then replays the batch
 * headers of the log from max(snapshot offset, log start) to the log end. Expired
 * producers are dropped. 0, or a log read error. */
int gn__producer_state_load(gn__producer_state_t *ps, const char *dir, gn_log_t *log,
                            int64_t now_ms);

#endif
