/* SPDX-License-Identifier: Apache-2.0 */
/* A partition's leader-epoch cache (Kafka's LeaderEpochFileCache, KIP-101): the ordered
 * (epoch, start offset) pairs of the log, kept in DIR/leader-epoch-checkpoint in Kafka's
 * format, and the lookups that find where a follower's log diverges from its leader's
 * (OffsetForLeaderEpoch, KIP-279). Owned by the log (log.c); loop thread only. */
#ifndef GN_CORE_LOG_EPOCH_CACHE_H
#define GN_CORE_LOG_EPOCH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_EPOCH_CHECKPOINT "leader-epoch-checkpoint"

typedef struct gn_epoch_entry {
    int32_t epoch;
    int64_t start; /* the first offset written in this epoch */
} gn_epoch_entry_t;

typedef struct gn_epoch_cache {
    char *path;          /* the checkpoint file; NULL keeps the cache in memory only */
    gn_epoch_entry_t *e; /* epochs and start offsets both strictly increasing */
    size_t n, cap;
} gn_epoch_cache_t;

/* Reads DIR/leader-epoch-checkpoint (dir NULL: memory only). A missing file is an empty
 * cache; a malformed one is logged and treated as empty (it is rewritten on the next
 * change). 0 or GN_ENOMEM. */
int gn__epoch_cache_load(gn_epoch_cache_t *c, const char *dir);
void gn__epoch_cache_free(gn_epoch_cache_t *c);

/* Epoch starts at offset start. Nothing changes when it is already the latest epoch at or
 * before start; otherwise entries of epochs >= epoch or starting at or after start go
 * (never committed) and the pair is added and written through. 1 changed, 0 not, < 0
 * error (the memory state is changed even when the write failed; it is logged). */
int gn__epoch_cache_assign(gn_epoch_cache_t *c, int32_t epoch, int64_t start);
/* The log was cut at end: entries starting at or after end go. 1 changed, 0 not. */
int gn__epoch_cache_truncate_end(gn_epoch_cache_t *c, int64_t end);

/* The log start moved to start (retention, DeleteRecords): entries starting at or before
 * it go, the last of them kept as starting at start (Kafka's truncateFromStart). 1
 * changed, 0 not. */
int gn__epoch_cache_truncate_start(gn_epoch_cache_t *c, int64_t start);

/* The latest epoch, -1 when the cache is empty. */
int32_t gn__epoch_cache_latest(const gn_epoch_cache_t *c);

/* OffsetForLeaderEpoch on this log (Kafka's endOffsetFor): the largest epoch <= epoch
 * and the offset where it ended (the start of the next epoch; log_end for the latest).
 * (-1, -1) when epoch is -1, the cache is empty or epoch is above every known one. For
 * an epoch below the first known one: (epoch, first start). */
void gn__epoch_cache_end_offset_for(const gn_epoch_cache_t *c, int32_t epoch, int64_t log_end,
                                    int32_t *out_epoch, int64_t *out_end);

/* One step of a follower's truncation (KIP-279). The follower asked its leader for the end
 * of its latest epoch and got (leader_epoch, leader_end); follower_epoch/follower_end are
 * the follower's own end_offset_for(leader_epoch), log_end its log end. Sets *to, the
 * offset to truncate at (<= log_end), and returns true when truncation is complete, false
 * when the follower must ask again with its new latest epoch (it did not know the epoch
 * the leader answered with). A leader knowing no epoch (leader_end -1) gives log_end:
 * the caller falls back to its high watermark. */
bool gn__epoch_divergence(int64_t log_end, int32_t leader_epoch, int64_t leader_end,
                          int32_t follower_epoch, int64_t follower_end, int64_t *to);

#endif
