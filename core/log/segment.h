/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to core/log: one segment (a .log file with its sparse .index and
 * .timeindex), the two indexes, and the reader that walks batch headers with pread.
 * Segments are refcounted so a read slice keeps the fd open after deletion.
 * Mutated on the loop thread only; thread-pool work reads immutable segments. */
#ifndef GN_CORE_LOG_SEGMENT_H
#define GN_CORE_LOG_SEGMENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/partition.h"
#include "ganglion/record.h"

/* .index: 8-byte entries, int32 relative offset + int32 position, big-endian */
#define GN__OINDEX_ENTRY 8
/* .timeindex: 12-byte entries, int64 timestamp + int32 relative offset, big-endian */
#define GN__TINDEX_ENTRY 12
#define GN__NO_TIMESTAMP (-1)

typedef struct gn_offset_entry {
    int32_t rel; /* last offset of the batch, minus the segment's base offset */
    int32_t pos; /* file position of that batch */
} gn_offset_entry_t;

typedef struct gn_time_entry {
    int64_t ts;  /* largest timestamp so far in the segment */
    int32_t rel; /* relative offset of the batch that holds it */
} gn_time_entry_t;

typedef struct gn_offset_index {
    gn_offset_entry_t *e;
    int32_t n, cap;
} gn_offset_index_t;

typedef struct gn_time_index {
    gn_time_entry_t *e;
    int32_t n, cap;
} gn_time_index_t;

struct gn_segment {
    atomic_int refs;
    int fd;                /* .log, O_RDWR; closed when refs drop to 0 */
    int64_t base_offset;   /* from the file name */
    int64_t next_offset;   /* one past the last offset written (base when empty) */
    int64_t size;          /* valid bytes in the file */
    int64_t file_end;      /* file length: size, plus zeros written ahead (active segment) */
    int64_t max_ts;        /* largest batch max timestamp (-1: none) */
    int64_t max_ts_offset; /* last offset of the batch holding max_ts */
    int64_t roll_base_ms;  /* segment.ms counts from here (-1: not yet known) */
    int64_t bytes_since_index;
    int32_t interval; /* index.interval.bytes when the segment was opened */
    gn_offset_index_t oidx;
    gn_time_index_t tidx;
    bool indexes_loaded; /* oidx/tidx in memory (lazy for old segments) */
    bool end_known;      /* next_offset/max_ts valid */
    bool dirty_index;    /* in-memory indexes differ from the files */
    char *path;          /* "DIR/%020lld", extensions appended */
};

/* segment_index.c */
int gn__oindex_append(gn_offset_index_t *idx, int32_t rel, int32_t pos);
/* Largest entry with rel <= target; -1 when none (start at position 0). */
int32_t gn__oindex_find(const gn_offset_index_t *idx, int32_t target);
/* Largest entry with pos <= pos_limit; -1 when none. */
int32_t gn__oindex_find_pos(const gn_offset_index_t *idx, int64_t pos_limit);
void gn__oindex_truncate(gn_offset_index_t *idx, int32_t rel, int64_t pos);
int gn__tindex_append(gn_time_index_t *idx, int64_t ts, int32_t rel);
/* Largest entry with ts <= target; -1 when none. */
int32_t gn__tindex_find(const gn_time_index_t *idx, int64_t target);
void gn__tindex_truncate(gn_time_index_t *idx, int32_t rel);
int gn__oindex_write(const char *path, const gn_offset_index_t *idx);
int gn__tindex_write(const char *path, const gn_time_index_t *idx);
/* Loads and sanity-checks a file (sizes, monotonic entries, positions < seg_size).
 * GN_ECORRUPT when it must be rebuilt, -ENOENT when missing. */
int gn__oindex_load(const char *path, int64_t seg_size, gn_offset_index_t *idx);
int gn__tindex_load(const char *path, gn_time_index_t *idx);
void gn__oindex_free(gn_offset_index_t *idx);
void gn__tindex_free(gn_time_index_t *idx);

/* segment.c */
int gn__segment_create(const char *dir, int64_t base, int64_t now_ms, gn_segment_t **out);
/* A segment whose data file is "<base><log_ext>" (".log.cleaned" for compaction);
 * no index files are created. */
int gn__segment_create_file(const char *dir, int64_t base, const char *log_ext, gn_segment_t **out);
int gn__segment_open(const char *dir, int64_t base, gn_segment_t **out);
void gn__segment_ref(gn_segment_t *seg);
void gn__segment_unref(gn_segment_t *seg);
/* Writes buf at the end with pwrite; on a short or failed write truncates back. */
int gn__segment_write(gn_segment_t *seg, const uint8_t *buf, size_t len);
/* Writes zeros ahead of the end (never past limit) once fewer than half a chunk are
 * left, so that appends overwrite allocated blocks: the file's size and extents do not
 * change and fdatasync needs no journal commit. The chunk grows with the segment
 * (64 KiB up to 1 MiB). Active segment only; a failure leaves the segment valid. */
int gn__segment_zero_ahead(gn_segment_t *seg, int64_t limit);
/* Cuts the zeros written ahead: the file then holds exactly the segment's batches (a
 * segment that is no longer active must, since it is trusted after a restart). */
int gn__segment_cut_zeros(gn_segment_t *seg);
/* Records one appended batch (at pos) in the in-memory indexes. */
int gn__segment_track_batch(gn_segment_t *seg, int32_t interval, int64_t pos, int64_t size,
                            int64_t last_offset, int64_t max_ts);
/* Makes the segment inactive: zeros written ahead cut off, last time entry, index
 * files written and trimmed. */
int gn__segment_seal(gn_segment_t *seg);
int gn__segment_write_indexes(gn_segment_t *seg);
/* Loads the index files (lazily, for old segments); rebuilds them when corrupt. */
int gn__segment_load_indexes(gn_segment_t *seg, int32_t interval);
/* Drops everything at and after offset (ftruncate + indexes). */
int gn__segment_truncate(gn_segment_t *seg, int64_t offset, int32_t interval);
int gn__segment_path(const gn_segment_t *seg, const char *ext, char *buf, size_t cap);
/* Renames .log/.index/.timeindex to <name>.deleted (Kafka's convention). */
int gn__segment_rename_deleted(gn_segment_t *seg);
void gn__segment_unlink_deleted(const char *path_prefix);

/* segment_reader.c: walks batch headers from a position with bounded preads */
typedef struct gn_seg_cursor {
    const gn_segment_t *seg;
    int64_t pos;   /* position of the next header */
    int64_t limit; /* stop here (segment size) */
    int64_t buf_pos;
    size_t buf_len;
    uint8_t buf[4096];
} gn_seg_cursor_t;

void gn__cursor_init(gn_seg_cursor_t *cur, const gn_segment_t *seg, int64_t pos, int64_t limit);
/* 1: *hdr is the batch at *pos (cursor advanced past it); 0: at limit;
 * GN_ECORRUPT for an impossible header or one that runs past the limit. */
int gn__cursor_next(gn_seg_cursor_t *cur, gn_batch_header_t *hdr, int64_t *pos);
/* Position of the first batch whose last offset >= offset: 1 found, 0 not here. */
int gn__segment_translate(gn_segment_t *seg, int64_t offset, int64_t *pos, gn_batch_header_t *hdr);
int gn__segment_read(gn_segment_t *seg, int64_t offset, size_t max_bytes, int64_t max_offset,
                     gn_log_slice_t *slice);
/* First batch with max timestamp >= ts: 1 found (offset = its base offset). */
int gn__segment_find_time(gn_segment_t *seg, int64_t ts, int64_t *offset, int64_t *found_ts);
/* Rebuilds the indexes (and next_offset, max_ts) by walking headers; stops at the
 * first impossible header and returns its position in *bad_pos (-1 if none). */
int gn__segment_rebuild(gn_segment_t *seg, int32_t interval, int64_t *bad_pos);
/* Finds next_offset and max_ts with a bounded walk from the last index entry.
 * GN_ECORRUPT when the tail does not parse (the caller then recovers). */
int gn__segment_find_end(gn_segment_t *seg);

#endif
