/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's offset checkpoint files (recovery-point-offset-checkpoint,
 * log-start-offset-checkpoint): "0\n<count>\n<topic> <partition> <offset>\n...".
 * Parsed into a sorted table for lookups while logs open. Loop thread. */
#ifndef GN_CORE_BROKER_CHECKPOINT_H
#define GN_CORE_BROKER_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

typedef struct gn__checkpoint_entry {
    char *topic;
    int32_t partition;
    int64_t offset;
} gn__checkpoint_entry_t;

typedef struct gn__checkpoint {
    gn__checkpoint_entry_t *entries;
    size_t count, cap;
} gn__checkpoint_t;

/* Reads path; a missing file is an empty table. A malformed file is logged (GN_WARN)
 * and read as empty (the logs then recover fully): returns 0 either way, or GN_ENOMEM. */
int gn__checkpoint_read(const char *path, gn__checkpoint_t *cp);
int gn__checkpoint_add(gn__checkpoint_t *cp, const char *topic, int32_t partition, int64_t offset);
/* Sorts for lookup (call once after the adds). */
void gn__checkpoint_sort(gn__checkpoint_t *cp);
/* The offset recorded for (topic, partition), or -1. */
int64_t gn__checkpoint_get(const gn__checkpoint_t *cp, const char *topic, int32_t partition);
/* Kafka's text form; malloc'd, NUL-terminated; *len set. NULL on ENOMEM. */
char *gn__checkpoint_format(const gn__checkpoint_t *cp, size_t *len);
void gn__checkpoint_free(gn__checkpoint_t *cp);

#endif
