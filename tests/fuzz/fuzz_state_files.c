/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the broker's small state files, read at every start from what an
 * earlier run wrote (or a disk or an operator damaged): the offset checkpoints
 * (core/broker/checkpoint.c: recovery-point- and log-start-offset-checkpoint), a
 * partition's leader-epoch-checkpoint (core/log/epoch_cache.c), meta.properties
 * (core/broker/meta_properties.c) and the single-node topic store
 * __cluster_metadata/topics.json (core/topic/metastore.c). The first byte picks the file,
 * the rest is its content. A bad file must be refused or read as empty, as each module
 * documents, never crash: a checkpoint read back formats and parses to the same table;
 * an epoch cache keeps epochs and starts strictly increasing through lookups, assigns and
 * truncations; every loaded topic record is walked. Files live in a private temp dir (on
 * /dev/shm when there is one). Seeds: tests/fuzz/corpus/state_files/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "broker/checkpoint.h"
#include "broker/meta_properties.h"
#include "ganglion/logger.h"
#include "log/epoch_cache.h"
#include "topic/metastore.h"

static char dir[64];
static uv_loop_t loop;

static void init_once(void)
{
    snprintf(dir, sizeof dir, "%s/gn-fuzz-state-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir) || uv_loop_init(&loop)) abort();
    gn_logger_set_level(GN_LEVEL_ERROR); /* bad files are warnings */
}

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) abort();
}

static void drop(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void checkpoint(const uint8_t *p, size_t n)
{
    char path[256];
    put("checkpoint", p, n);
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    gn__checkpoint_t a = {0}, b = {0};
    if (gn__checkpoint_read(path, &a) < 0) abort();
    size_t len;
    char *text = gn__checkpoint_format(&a, &len);
    if (!text) abort();
    put("checkpoint", (const uint8_t *)text, len);
    free(text);
    if (gn__checkpoint_read(path, &b) < 0 || a.count != b.count) abort();
    for (size_t i = 0; i < a.count; i++)
        if (gn__checkpoint_get(&b, a.entries[i].topic, a.entries[i].partition) !=
            gn__checkpoint_get(&a, a.entries[i].topic, a.entries[i].partition))
            abort();
    gn__checkpoint_free(&a);
    gn__checkpoint_free(&b);
    drop("checkpoint");
}

static void check_cache(const gn_epoch_cache_t *c)
{
    for (size_t i = 1; i < c->n; i++)
        if (c->e[i].epoch <= c->e[i - 1].epoch || c->e[i].start <= c->e[i - 1].start) abort();
}

static void epochs(const uint8_t *p, size_t n)
{
    put(GN_EPOCH_CHECKPOINT, p, n);
    gn_epoch_cache_t c = {0};
    if (gn__epoch_cache_load(&c, dir) < 0) abort();
    check_cache(&c);
    int32_t e;
    int64_t end;
    int32_t latest = gn__epoch_cache_latest(&c);
    gn__epoch_cache_end_offset_for(&c, latest, 1000, &e, &end);
    gn__epoch_cache_end_offset_for(&c, 0, 1000, &e, &end);
    (void)gn__epoch_cache_assign(&c, latest < 0 ? 0 : latest, 500);
    check_cache(&c);
    (void)gn__epoch_cache_truncate_end(&c, 100);
    check_cache(&c);
    (void)gn__epoch_cache_truncate_start(&c, 50);
    check_cache(&c);
    gn__epoch_cache_free(&c);
    drop(GN_EPOCH_CHECKPOINT);
}

static void meta_properties(const uint8_t *p, size_t n)
{
    put("meta.properties", p, n);
    char id[64];
    (void)gn__meta_properties_ensure(dir, 1, id, sizeof id);
    drop("meta.properties");
}

static void each_topic(void *arg, const gn_topic_record_t *rec)
{
    (void)arg;
    volatile size_t sink = strlen(rec->name);
    (void)sink;
}

static void on_closed(void *arg, int status)
{
    (void)status;
    *(int *)arg = 1;
}

static void topics(const uint8_t *p, size_t n)
{
    char sub[128];
    snprintf(sub, sizeof sub, "%s/__cluster_metadata", dir);
    mkdir(sub, 0755);
    put("__cluster_metadata/topics.json", p, n);
    gn_metastore_t *ms;
    if (gn__metastore_local_open(&loop, dir, &ms) == 0) {
        (void)gn__metastore_load(ms, each_topic, NULL);
        int closed = 0;
        gn__metastore_close(ms, on_closed, &closed);
        while (!closed && uv_run(&loop, UV_RUN_ONCE)) {
        }
        if (!closed) abort();
    }
    while (uv_run(&loop, UV_RUN_DEFAULT) != 0) {
    }
    drop("__cluster_metadata/topics.json");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) init_once();
    if (size < 1) return 0;
    switch (data[0] % 4) {
    case 0:
        checkpoint(data + 1, size - 1);
        break;
    case 1:
        epochs(data + 1, size - 1);
        break;
    case 2:
        meta_properties(data + 1, size - 1);
        break;
    default:
        topics(data + 1, size - 1);
        break;
    }
    return 0;
}
