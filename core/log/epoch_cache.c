/* SPDX-License-Identifier: Apache-2.0 */
/* The leader-epoch cache (epoch_cache.h): (epoch, start offset) pairs in memory, written
 * through to leader-epoch-checkpoint ("0\n<count>\n<epoch> <start>\n...", Kafka's format)
 * on every change, and the KIP-101/KIP-279 lookups. Changes are rare (a new epoch, a
 * truncation): the checkpoint is replaced synchronously, as Kafka does. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "log/epoch_cache.h"
#include "topic/atomic_file.h"

#define CHECKPOINT_MAX   (1u << 20)
#define ENTRY_TEXT_BYTES 32 /* "<int32> <int64>\n" */

static int reserve(gn_epoch_cache_t *c, size_t n)
{
    if (n <= c->cap) return 0;
    size_t cap = c->cap ? c->cap * 2 : 8;
    while (cap < n)
        cap *= 2;
    gn_epoch_entry_t *e = realloc(c->e, cap * sizeof(*e));
    if (!e) return GN_ENOMEM;
    c->e = e;
    c->cap = cap;
    return 0;
}

static int store(const gn_epoch_cache_t *c)
{
    if (!c->path) return 0;
    size_t cap = 32 + c->n * ENTRY_TEXT_BYTES, used;
    char *out = malloc(cap);
    if (!out) return GN_ENOMEM;
    used = (size_t)snprintf(out, cap, "0\n%zu\n", c->n);
    for (size_t i = 0; i < c->n; i++)
        used += (size_t)snprintf(out + used, cap - used, "%" PRId32 " %" PRId64 "\n", c->e[i].epoch,
                                 c->e[i].start);
    int rc = gn__atomic_write(c->path, out, used);
    free(out);
    if (rc < 0)
        GN_WARN("log", "cannot write leader-epoch-checkpoint | path=%s err=%s", c->path,
                gn_strerror(rc));
    return rc;
}

/* Parses Kafka's text; false when malformed (entries not strictly increasing included). */
static bool parse(gn_epoch_cache_t *c, const char *text)
{
    char *end;
    errno = 0;
    long version = strtol(text, &end, 10);
    if (end == text || version != 0) return false;
    const char *p = end;
    long long count = strtoll(p, &end, 10);
    if (end == p || count < 0 || count > (long long)(CHECKPOINT_MAX / 4)) return false;
    p = end;
    for (long long i = 0; i < count; i++) {
        long long epoch = strtoll(p, &end, 10);
        if (end == p) return false;
        p = end;
        long long start = strtoll(p, &end, 10);
        if (end == p || epoch < 0 || epoch > INT32_MAX || start < 0 || errno == ERANGE)
            return false;
        p = end;
        if (c->n > 0 && (epoch <= c->e[c->n - 1].epoch || start < c->e[c->n - 1].start))
            return false;
        /* an epoch starting where the previous one did: that one held no record, and
         * starts stay strictly increasing (as assign keeps them) */
        if (c->n > 0 && start == c->e[c->n - 1].start) c->n--;
        if (reserve(c, c->n + 1) < 0) return false;
        c->e[c->n++] = (gn_epoch_entry_t){(int32_t)epoch, (int64_t)start};
    }
    while (*p == '\n' || *p == ' ')
        p++;
    return *p == '\0';
}

int gn__epoch_cache_load(gn_epoch_cache_t *c, const char *dir)
{
    memset(c, 0, sizeof(*c));
    if (!dir) return 0;
    size_t len = strlen(dir) + sizeof("/" GN_EPOCH_CHECKPOINT);
    if (!(c->path = malloc(len))) return GN_ENOMEM;
    snprintf(c->path, len, "%s/%s", dir, GN_EPOCH_CHECKPOINT);
    char *text = NULL;
    size_t n = 0;
    int rc = gn__read_small_file(c->path, CHECKPOINT_MAX, &text, &n);
    if (rc == -ENOENT) return 0;
    if (rc < 0 || !parse(c, text)) {
        GN_WARN("log", "leader-epoch-checkpoint unreadable, starting empty | path=%s err=%s",
                c->path, rc < 0 ? gn_strerror(rc) : "malformed");
        c->n = 0;
    }
    free(text);
    return 0;
}

void gn__epoch_cache_free(gn_epoch_cache_t *c)
{
    free(c->e);
    free(c->path);
    memset(c, 0, sizeof(*c));
}

int32_t gn__epoch_cache_latest(const gn_epoch_cache_t *c)
{
    return c->n ? c->e[c->n - 1].epoch : -1;
}

int gn__epoch_cache_assign(gn_epoch_cache_t *c, int32_t epoch, int64_t start)
{
    if (epoch < 0 || start < 0) return 0;
    if (c->n && c->e[c->n - 1].epoch == epoch && c->e[c->n - 1].start <= start) return 0;
    if (reserve(c, c->n + 1) < 0) return GN_ENOMEM;
    while (c->n && (c->e[c->n - 1].epoch >= epoch || c->e[c->n - 1].start >= start))
        c->n--;
    c->e[c->n++] = (gn_epoch_entry_t){epoch, start};
    int rc = store(c);
    return rc < 0 ? rc : 1;
}

int gn__epoch_cache_truncate_end(gn_epoch_cache_t *c, int64_t end)
{
    size_t n = c->n;
    while (c->n && c->e[c->n - 1].start >= end)
        c->n--;
    if (c->n == n) return 0;
    store(c);
    return 1;
}

int gn__epoch_cache_truncate_start(gn_epoch_cache_t *c, int64_t start)
{
    size_t k = 0; /* entries starting at or before start */
    while (k < c->n && c->e[k].start <= start)
        k++;
    if (k == 0 || (k == 1 && c->e[0].start == start)) return 0;
    c->e[0] = (gn_epoch_entry_t){c->e[k - 1].epoch, start};
    memmove(&c->e[1], &c->e[k], (c->n - k) * sizeof(c->e[0]));
    c->n -= k - 1;
    store(c);
    return 1;
}

void gn__epoch_cache_end_offset_for(const gn_epoch_cache_t *c, int32_t epoch, int64_t log_end,
                                    int32_t *out_epoch, int64_t *out_end)
{
    *out_epoch = -1;
    *out_end = -1;
    if (epoch < 0 || c->n == 0) return;
    if (epoch == c->e[c->n - 1].epoch) {
        *out_epoch = epoch;
        *out_end = log_end;
        return;
    }
    size_t hi = 0; /* the first entry of a later epoch */
    while (hi < c->n && c->e[hi].epoch <= epoch)
        hi++;
    if (hi == c->n) return; /* above every known epoch */
    *out_epoch = hi == 0 ? epoch : c->e[hi - 1].epoch;
    *out_end = c->e[hi].start;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

bool gn__epoch_divergence(int64_t log_end, int32_t leader_epoch, int64_t leader_end,
                          int32_t follower_epoch, int64_t follower_end, int64_t *to)
{
    if (leader_end < 0) { /* the leader knows no such epoch */
        *to = log_end;
        return true;
    }
    if (leader_epoch < 0 || follower_epoch < 0 || follower_end < 0) {
        *to = min64(leader_end, log_end);
        return true;
    }
    if (follower_epoch != leader_epoch) { /* unknown here: cut to our end of it, ask again */
        *to = min64(follower_end, log_end);
        return false;
    }
    *to = min64(min64(follower_end, leader_end), log_end);
    return true;
}
