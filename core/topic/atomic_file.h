/* SPDX-License-Identifier: Apache-2.0 */
/* Durable replacement of a small file (metadata, checkpoints): write <path>.tmp,
 * fdatasync, rename over <path>, fsync the directory. Shared by core/topic and
 * core/broker. The blocking form runs on any thread; the async forms on the pool. Also
 * the removal of a deleted partition's directory tree, on the pool. */
#ifndef GN_CORE_TOPIC_ATOMIC_FILE_H
#define GN_CORE_TOPIC_ATOMIC_FILE_H

#include <stddef.h>
#include <uv.h>

/* Blocking; 0 or -errno. */
int gn__atomic_write(const char *path, const void *data, size_t len);

/* Takes data (malloc'd; freed when done) and writes it on libuv's thread pool; cb runs
 * on the loop with 0 or -errno, never before return. Returns 0 or -errno (data freed). */
typedef void (*gn__atomic_write_cb)(void *arg, int status);
int gn__atomic_write_async(uv_loop_t *loop, const char *path, char *data, size_t len,
                           gn__atomic_write_cb cb, void *arg);

/* Removes a directory tree on libuv's thread pool (deleted partitions); fire and forget,
 * failures are logged. */
void gn__remove_tree_async(uv_loop_t *loop, const char *path);

/* Reads a whole small file (at most max bytes) into a NUL-terminated malloc'd buffer.
 * 0, -ENOENT, -EFBIG or -errno. */
int gn__read_small_file(const char *path, size_t max, char **out, size_t *len);

#endif
