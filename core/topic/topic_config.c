/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's topic-level configs: one table {name, type, default, doc, field, validator}
 * drives defaults, parsing, rendering (DescribeConfigs) and the docs, so they cannot
 * drift. Names, defaults and validators follow Kafka's LogConfig. Pure functions. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"

#define LMAX "9223372036854775807"

typedef enum kind { K_LONG, K_INT, K_DOUBLE, K_BOOL, K_POLICY, K_TSTYPE, K_COMPRESSION } kind_t;

/* XX(name, type, default, field, kind, min, max, doc); min/max bound K_LONG/K_INT/K_DOUBLE. */
#define GN__TOPIC_CONFIGS(XX)                                                                      \
    XX("cleanup.policy", "list", "delete", cleanup_policy, K_POLICY, 0, 0,                         \
       "delete: drop old segments by retention; compact: keep the newest record per key")          \
    XX("compression.type", "string", "producer", compression_type, K_COMPRESSION, 0, 0,            \
       "final compression of the topic's batches; producer keeps the producer's codec")            \
    XX("delete.retention.ms", "long", "86400000", delete_retention_ms, K_LONG, 0, INT64_MAX,       \
       "how long tombstones are kept in a compacted topic")                                        \
    XX("file.delete.delay.ms", "long", "60000", file_delete_delay_ms, K_LONG, 0, INT64_MAX,        \
       "delay before a deleted segment file is removed from the filesystem")                       \
    XX("flush.messages", "long", LMAX, flush_messages, K_LONG, 1, INT64_MAX,                       \
       "fsync after this many messages (flush=interval)")                                          \
    XX("flush.ms", "long", LMAX, flush_ms, K_LONG, 0, INT64_MAX,                                   \
       "fsync after this many milliseconds (flush=interval)")                                      \
    XX("index.interval.bytes", "int", "4096", index_interval_bytes, K_INT, 0, INT32_MAX,           \
       "bytes between offset index entries")                                                       \
    XX("max.compaction.lag.ms", "long", LMAX, max_compaction_lag_ms, K_LONG, 1, INT64_MAX,         \
       "longest time a record stays ineligible for compaction")                                    \
    XX("max.message.bytes", "int", "1048588", max_message_bytes, K_INT, 0, INT32_MAX,              \
       "largest record batch accepted")                                                            \
    XX("message.timestamp.after.max.ms", "long", LMAX, timestamp_after_max_ms, K_LONG, 0,          \
       INT64_MAX, "how far a CreateTime timestamp may be ahead of the broker clock")               \
    XX("message.timestamp.before.max.ms", "long", LMAX, timestamp_before_max_ms, K_LONG, 0,        \
       INT64_MAX, "how far a CreateTime timestamp may be behind the broker clock")                 \
    XX("message.timestamp.type", "string", "CreateTime", timestamp_type, K_TSTYPE, 0, 0,           \
       "CreateTime keeps the producer's timestamp; LogAppendTime stamps the broker's")             \
    XX("min.cleanable.dirty.ratio", "double", "0.5", min_cleanable_dirty_ratio, K_DOUBLE, 0, 1,    \
       "dirty share of the log above which the cleaner compacts it")                               \
    XX("min.compaction.lag.ms", "long", "0", min_compaction_lag_ms, K_LONG, 0, INT64_MAX,          \
       "shortest time a record stays uncompacted")                                                 \
    XX("min.insync.replicas", "int", "1", min_insync_replicas, K_INT, 1, INT32_MAX,                \
       "in-sync replicas needed for acks=all")                                                     \
    XX("preallocate", "boolean", "false", preallocate, K_BOOL, 0, 0,                               \
       "preallocate a new segment file")                                                           \
    XX("retention.bytes", "long", "-1", retention_bytes, K_LONG, INT64_MIN, INT64_MAX,             \
       "largest size of a partition before old segments are deleted; -1 unlimited")                \
    XX("retention.ms", "long", "604800000", retention_ms, K_LONG, -1, INT64_MAX,                   \
       "longest time a segment is kept; -1 forever")                                               \
    XX("segment.bytes", "int", "1073741824", segment_bytes, K_INT, 14, INT32_MAX,                  \
       "segment file size at which the log rolls")                                                 \
    XX("segment.index.bytes", "int", "10485760", segment_index_bytes, K_INT, 4, INT32_MAX,         \
       "size of a segment's offset index")                                                         \
    XX("segment.ms", "long", "604800000", segment_ms, K_LONG, 1, INT64_MAX,                        \
       "age at which the active segment rolls")                                                    \
    XX("unclean.leader.election.enable", "boolean", "false", unclean_leader_election, K_BOOL, 0,   \
       0, "allow an out-of-sync replica to become leader (data loss)")

static const gn_topic_config_key_t keys[] = {
#define XX_KEY(n, t, d, f, k, lo, hi, doc) {n, t, d, doc},
    GN__TOPIC_CONFIGS(XX_KEY)
#undef XX_KEY
};

typedef struct spec {
    size_t off;
    size_t size;
    kind_t kind;
    double min, max; /* K_DOUBLE */
    int64_t lmin, lmax;
} spec_t;

static const spec_t specs[] = {
#define XX_SPEC(n, t, d, f, k, lo, hi, doc)                                                        \
    {offsetof(gn_topic_config_t, f),                                                               \
     sizeof(((gn_topic_config_t *)0)->f),                                                          \
     k,                                                                                            \
     (double)(lo),                                                                                 \
     (double)(hi),                                                                                 \
     (int64_t)(lo),                                                                                \
     (int64_t)(hi)},
    GN__TOPIC_CONFIGS(XX_SPEC)
#undef XX_SPEC
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const compressions[] = {"producer", "uncompressed", "gzip",
                                           "snappy",   "lz4",          "zstd"};

const gn_topic_config_key_t *gn_topic_config_keys(size_t *count)
{
    if (count) *count = NKEYS;
    return keys;
}

static int find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0) return (int)i;
    return -1;
}

/* Kafka trims values before parsing. Copies into buf; GN_EINVALID_CONFIG if too long. */
static int trimmed(const char *value, char *buf, size_t cap)
{
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    if (n >= cap) return GN_EINVALID_CONFIG;
    memcpy(buf, value, n);
    buf[n] = 0;
    return 0;
}

static int parse_long(const char *s, int64_t *out)
{
    if (*s == 0) return GN_EINVALID_CONFIG;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return GN_EINVALID_CONFIG;
    *out = v;
    return 0;
}

/* "delete", "compact", "compact,delete" (any order, spaces allowed) -> bits. */
static int parse_policy(const char *s, int32_t *out)
{
    int32_t bits = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && isspace((unsigned char)*p))
            p++, n--;
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n == 6 && strncmp(p, "delete", 6) == 0)
            bits |= GN_CLEANUP_DELETE;
        else if (n == 7 && strncmp(p, "compact", 7) == 0)
            bits |= GN_CLEANUP_COMPACT;
        else
            return GN_EINVALID_CONFIG;
        if (!comma) break;
        p = comma + 1;
    }
    if (!bits) return GN_EINVALID_CONFIG;
    *out = bits;
    return 0;
}

int gn_topic_config_set(gn_topic_config_t *cfg, const char *name, const char *value)
{
    if (!cfg || !name || !value) return GN_EINVALID_CONFIG;
    int i = find_key(name);
    if (i < 0) return GN_EINVALID_CONFIG;
    const spec_t *sp = &specs[i];
    char buf[64];
    if (trimmed(value, buf, sizeof(buf)) < 0) return GN_EINVALID_CONFIG;
    char *field = (char *)cfg + sp->off;

    switch (sp->kind) {
    case K_LONG:
    case K_INT: {
        int64_t v;
        if (parse_long(buf, &v) < 0 || v < sp->lmin || v > sp->lmax) return GN_EINVALID_CONFIG;
        if (sp->size == sizeof(int32_t)) {
            int32_t v32 = (int32_t)v;
            memcpy(field, &v32, sizeof(v32));
        } else {
            memcpy(field, &v, sizeof(v));
        }
        return 0;
    }
    case K_DOUBLE: {
        if (!buf[0]) return GN_EINVALID_CONFIG;
        char *end;
        errno = 0;
        double d = strtod(buf, &end);
        if (errno || *end || isnan(d) || d < sp->min || d > sp->max) return GN_EINVALID_CONFIG;
        memcpy(field, &d, sizeof(d));
        return 0;
    }
    case K_BOOL: {
        bool b;
        if (strcasecmp(buf, "true") == 0)
            b = true;
        else if (strcasecmp(buf, "false") == 0)
            b = false;
        else
            return GN_EINVALID_CONFIG;
        memcpy(field, &b, sizeof(b));
        return 0;
    }
    case K_POLICY: {
        int32_t bits;
        if (parse_policy(buf, &bits) < 0) return GN_EINVALID_CONFIG;
        memcpy(field, &bits, sizeof(bits));
        return 0;
    }
    case K_TSTYPE: {
        int32_t t;
        if (strcmp(buf, "CreateTime") == 0)
            t = GN_TIMESTAMP_CREATE_TIME;
        else if (strcmp(buf, "LogAppendTime") == 0)
            t = GN_TIMESTAMP_LOG_APPEND_TIME;
        else
            return GN_EINVALID_CONFIG;
        memcpy(field, &t, sizeof(t));
        return 0;
    }
    case K_COMPRESSION:
        for (size_t c = 0; c < sizeof(compressions) / sizeof(compressions[0]); c++) {
            if (strcmp(buf, compressions[c]) == 0) {
                memset(cfg->compression_type, 0, sizeof(cfg->compression_type));
                memcpy(cfg->compression_type, compressions[c], strlen(compressions[c]));
                return 0;
            }
        }
        return GN_EINVALID_CONFIG;
    }
    return GN_EINVALID_CONFIG;
}

/* Shortest "%g" form that reads back to the same double (0.5 -> "0.5"). */
static int render_double(double d, char *buf, size_t cap)
{
    int n = 0;
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, d);
        if (n < 0 || (size_t)n >= cap) return GN_EINVALID_CONFIG;
        if (strtod(buf, NULL) == d) break;
    }
    return n;
}

int gn_topic_config_get(const gn_topic_config_t *cfg, const char *name, char *buf, size_t cap)
{
    if (!cfg || !name || !buf || cap == 0) return GN_EINVALID_CONFIG;
    int i = find_key(name);
    if (i < 0) return GN_EINVALID_CONFIG;
    const spec_t *sp = &specs[i];
    const char *field = (const char *)cfg + sp->off;
    int n;

    switch (sp->kind) {
    case K_LONG:
    case K_INT: {
        int64_t v;
        if (sp->size == sizeof(int32_t)) {
            int32_t v32;
            memcpy(&v32, field, sizeof(v32));
            v = v32;
        } else {
            memcpy(&v, field, sizeof(v));
        }
        n = snprintf(buf, cap, "%" PRId64, v);
        break;
    }
    case K_DOUBLE: {
        double d;
        memcpy(&d, field, sizeof(d));
        return render_double(d, buf, cap);
    }
    case K_BOOL: {
        bool b;
        memcpy(&b, field, sizeof(b));
        n = snprintf(buf, cap, "%s", b ? "true" : "false");
        break;
    }
    case K_POLICY: {
        int32_t bits;
        memcpy(&bits, field, sizeof(bits));
        const char *s = bits == (GN_CLEANUP_DELETE | GN_CLEANUP_COMPACT) ? "compact,delete"
                        : bits == GN_CLEANUP_COMPACT                     ? "compact"
                                                                         : "delete";
        n = snprintf(buf, cap, "%s", s);
        break;
    }
    case K_TSTYPE: {
        int32_t t;
        memcpy(&t, field, sizeof(t));
        n = snprintf(buf, cap, "%s",
                     t == GN_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime");
        break;
    }
    case K_COMPRESSION:
        n = snprintf(buf, cap, "%s", cfg->compression_type);
        break;
    default:
        return GN_EINVALID_CONFIG;
    }
    if (n < 0 || (size_t)n >= cap) return GN_EINVALID_CONFIG;
    return n;
}

void gn_topic_config_defaults(gn_topic_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        int rc = gn_topic_config_set(cfg, keys[i].name, keys[i].default_value);
        (void)rc; /* the table's defaults are valid; test_topic_config checks it */
    }
}
