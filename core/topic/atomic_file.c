/* SPDX-License-Identifier: Apache-2.0 */
/* Durable replacement of small files: temp file, fdatasync, rename, fsync of the
 * directory, so a reader sees the old or the new content after a crash, never a
 * torn one. Blocking helpers (any thread) and a thread-pool form for the loop. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int gn__atomic_write(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    int rc = 0, fd = -1;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    if ((rc = write_all(fd, data, len)) < 0) goto out;
    if (fdatasync(fd) < 0) {
        rc = -errno;
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = -errno;
        goto out;
    }
    rc = fsync_parent(path);
out:
    if (fd >= 0) close(fd);
    if (rc < 0) unlink(tmp);
    return rc;
}

typedef struct write_req {
    uv_work_t work;
    char *data;
    size_t len;
    int status;
    gn__atomic_write_cb cb;
    void *arg;
    char path[];
} write_req_t;

static void write_work(uv_work_t *work)
{
    write_req_t *req = work->data;
    req->status = gn__atomic_write(req->path, req->data, req->len);
}

static void write_done(uv_work_t *work, int status)
{
    write_req_t *req = work->data;
    if (status < 0) req->status = status; /* UV_ECANCELED */
    if (req->cb) req->cb(req->arg, req->status);
    free(req->data);
    free(req);
}

int gn__atomic_write_async(uv_loop_t *loop, const char *path, char *data, size_t len,
                           gn__atomic_write_cb cb, void *arg)
{
    size_t plen = strlen(path) + 1;
    write_req_t *req = malloc(sizeof(*req) + plen);
    if (!req) {
        free(data);
        return -ENOMEM;
    }
    memcpy(req->path, path, plen);
    req->data = data;
    req->len = len;
    req->status = 0;
    req->cb = cb;
    req->arg = arg;
    req->work.data = req;
    int rc = uv_queue_work(loop, &req->work, write_work, write_done);
    if (rc < 0) {
        free(data);
        free(req);
    }
    return rc;
}

int gn__read_small_file(const char *path, size_t max, char **out, size_t *len)
{
    int rc = 0;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if ((size_t)st.st_size > max) {
        rc = -EFBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

typedef struct remove_req {
    uv_work_t work;
    int status;
    char path[];
} remove_req_t;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) < 0 ? -errno : 0;
}

static void remove_work(uv_work_t *work)
{
    remove_req_t *req = work->data;
    req->status = nftw(req->path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_done(uv_work_t *work, int status)
{
    remove_req_t *req = work->data;
    if (status < 0 || req->status != 0)
        GN_WARN("topic", "cannot remove deleted directory | dir=%s err=%s", req->path,
                gn_strerror(status < 0 ? status : req->status));
    free(req);
}

void gn__remove_tree_async(uv_loop_t *loop, const char *path)
{
    size_t plen = strlen(path) + 1;
    remove_req_t *req = malloc(sizeof(*req) + plen);
    if (!req) return;
    memcpy(req->path, path, plen);
    req->work.data = req;
    req->status = 0;
    if (uv_queue_work(loop, &req->work, remove_work, remove_done) < 0) free(req);
}
