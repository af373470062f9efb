/* SPDX-License-Identifier: Apache-2.0 */
/* The sparse offset index (.index: int32 relative offset + int32 position) and the
 * time index (.timeindex: int64 timestamp + int32 relative offset), big-endian as
 * Kafka writes them. Kept in memory as sorted arrays; lookups are binary searches.
 * Files are written whole at their real size (no preallocation) and sanity-checked
 * on load. Loop thread, or thread-pool work on an index it owns. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "log/segment.h"
#include "record/wire.h"

#define INDEX_MIN_CAP  16
#define INDEX_FILE_MAX (256 << 20) /* larger than any segment.index.bytes: corrupt */

static int grow(void **arr, int32_t *cap, size_t elem)
{
    int32_t ncap = *cap ? *cap * 2 : INDEX_MIN_CAP;
    void *p;

    if (*cap > INT32_MAX / 2) return GN_ENOMEM;
    p = realloc(*arr, (size_t)ncap * elem);
    if (!p) return GN_ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

int gn__oindex_append(gn_offset_index_t *idx, int32_t rel, int32_t pos)
{
    int rc;

    if (idx->n > 0 && (rel <= idx->e[idx->n - 1].rel || pos <= idx->e[idx->n - 1].pos))
        return 0; /* entries strictly increase; a stale one is simply not indexed */
    if (idx->n == idx->cap && (rc = grow((void **)&idx->e, &idx->cap, sizeof(*idx->e))) < 0)
        return rc;
    idx->e[idx->n].rel = rel;
    idx->e[idx->n].pos = pos;
    idx->n++;
    return 0;
}

int32_t gn__oindex_find(const gn_offset_index_t *idx, int32_t target)
{
    int32_t lo = 0, hi = idx->n - 1, ans = -1;

    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (idx->e[mid].rel <= target) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

int32_t gn__oindex_find_pos(const gn_offset_index_t *idx, int64_t pos_limit)
{
    int32_t lo = 0, hi = idx->n - 1, ans = -1;

    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (idx->e[mid].pos <= pos_limit) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

void gn__oindex_truncate(gn_offset_index_t *idx, int32_t rel, int64_t pos)
{
    while (idx->n > 0 && (idx->e[idx->n - 1].rel >= rel || idx->e[idx->n - 1].pos >= pos))
        idx->n--;
}

int gn__tindex_append(gn_time_index_t *idx, int64_t ts, int32_t rel)
{
    int rc;

    if (idx->n > 0 && (ts <= idx->e[idx->n - 1].ts || rel < idx->e[idx->n - 1].rel))
        return 0; /* only a new largest timestamp is worth an entry */
    if (idx->n == idx->cap && (rc = grow((void **)&idx->e, &idx->cap, sizeof(*idx->e))) < 0)
        return rc;
    idx->e[idx->n].ts = ts;
    idx->e[idx->n].rel = rel;
    idx->n++;
    return 0;
}

int32_t gn__tindex_find(const gn_time_index_t *idx, int64_t target)
{
    int32_t lo = 0, hi = idx->n - 1, ans = -1;

    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (idx->e[mid].ts <= target) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

void gn__tindex_truncate(gn_time_index_t *idx, int32_t rel)
{
    while (idx->n > 0 && idx->e[idx->n - 1].rel >= rel)
        idx->n--;
}

void gn__oindex_free(gn_offset_index_t *idx)
{
    free(idx->e);
    memset(idx, 0, sizeof(*idx));
}

void gn__tindex_free(gn_time_index_t *idx)
{
    free(idx->e);
    memset(idx, 0, sizeof(*idx));
}

static int write_all(int fd, const uint8_t *p, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
        off += w;
    }
    return 0;
}

/* Encodes entries in chunks through a stack buffer: one pwrite per 4 KiB. */
static int index_write(const char *path, const void *entries, int32_t n, int entry_size,
                       void (*encode)(uint8_t *dst, const void *entries, int32_t i))
{
    uint8_t chunk[4096 / 24 * 24];
    size_t used = 0;
    off_t off = 0;
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    for (int32_t i = 0; i < n; i++) {
        encode(chunk + used, entries, i);
        used += (size_t)entry_size;
        if (used + (size_t)entry_size > sizeof(chunk) || i == n - 1) {
            if ((rc = write_all(fd, chunk, used, off)) < 0) goto out;
            off += (off_t)used;
            used = 0;
        }
    }
out:
    close(fd);
    return rc;
}

static void oenc(uint8_t *dst, const void *entries, int32_t i)
{
    const gn_offset_entry_t *e = (const gn_offset_entry_t *)entries + i;
    gn__put32(dst, (uint32_t)e->rel);
    gn__put32(dst + 4, (uint32_t)e->pos);
}

static void tenc(uint8_t *dst, const void *entries, int32_t i)
{
    const gn_time_entry_t *e = (const gn_time_entry_t *)entries + i;
    gn__put64(dst, (uint64_t)e->ts);
    gn__put32(dst + 8, (uint32_t)e->rel);
}

int gn__oindex_write(const char *path, const gn_offset_index_t *idx)
{
    return index_write(path, idx->e, idx->n, GN__OINDEX_ENTRY, oenc);
}

int gn__tindex_write(const char *path, const gn_time_index_t *idx)
{
    return index_write(path, idx->e, idx->n, GN__TINDEX_ENTRY, tenc);
}

/* Reads a whole index file whose size must be a multiple of entry_size. */
static int read_file(const char *path, int entry_size, uint8_t **out, size_t *len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    int fd, rc = 0;

    *out = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (st.st_size % entry_size != 0 || st.st_size > INDEX_FILE_MAX) {
        rc = GN_ECORRUPT;
        goto out;
    }
    if (st.st_size == 0) goto out;
    if (!(buf = malloc((size_t)st.st_size))) {
        rc = GN_ENOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : GN_ECORRUPT;
            goto out;
        }
        got += (size_t)r;
    }
    *out = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

int gn__oindex_load(const char *path, int64_t seg_size, gn_offset_index_t *idx)
{
    uint8_t *buf;
    size_t len;
    int rc;

    memset(idx, 0, sizeof(*idx));
    if ((rc = read_file(path, GN__OINDEX_ENTRY, &buf, &len)) < 0) return rc;
    for (size_t i = 0; i < len / GN__OINDEX_ENTRY; i++) {
        int32_t rel = (int32_t)gn__be32(buf + i * GN__OINDEX_ENTRY);
        int32_t pos = (int32_t)gn__be32(buf + i * GN__OINDEX_ENTRY + 4);
        bool ordered =
            idx->n == 0 || (rel > idx->e[idx->n - 1].rel && pos > idx->e[idx->n - 1].pos);
        if (rel < 0 || pos < 0 || pos >= seg_size || !ordered) {
            rc = GN_ECORRUPT;
            goto out;
        }
        if ((rc = gn__oindex_append(idx, rel, pos)) < 0) goto out;
    }
out:
    free(buf);
    if (rc < 0) gn__oindex_free(idx);
    return rc;
}

int gn__tindex_load(const char *path, gn_time_index_t *idx)
{
    uint8_t *buf;
    size_t len;
    int rc;

    memset(idx, 0, sizeof(*idx));
    if ((rc = read_file(path, GN__TINDEX_ENTRY, &buf, &len)) < 0) return rc;
    for (size_t i = 0; i < len / GN__TINDEX_ENTRY; i++) {
        int64_t ts = (int64_t)gn__be64(buf + i * GN__TINDEX_ENTRY);
        int32_t rel = (int32_t)gn__be32(buf + i * GN__TINDEX_ENTRY + 8);
        bool ordered = idx->n == 0 || (ts > idx->e[idx->n - 1].ts && rel >= idx->e[idx->n - 1].rel);
        if (rel < 0 || !ordered) {
            rc = GN_ECORRUPT;
            goto out;
        }
        if ((rc = gn__tindex_append(idx, ts, rel)) < 0) goto out;
    }
out:
    free(buf);
    if (rc < 0) gn__tindex_free(idx);
    return rc;
}
