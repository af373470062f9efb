/* SPDX-License-Identifier: Apache-2.0 */
/* The local topic-metadata store: DATA/__cluster_metadata/topics.json (jansson). Each
 * change updates the in-memory document; the serialized document is replaced
 * atomically on libuv's thread pool, one write in flight, and every change that
 * arrived meanwhile completes with the next write (group commit). Loop thread. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/atomic_file.h"
#include "topic/metastore.h"
#include "topic/uuid.h"

#define TOPICS_JSON_MAX (64u << 20)

typedef struct waiter {
    gn_metastore_cb cb;
    void *arg;
    struct waiter *next;
} waiter_t;

typedef struct local_store {
    gn_metastore_t base;
    uv_loop_t *loop;
    char path[PATH_MAX];
    json_t *topics;     /* name -> {id, partitions, replication_factor, configs} */
    bool writing;       /* a write is on the thread pool */
    waiter_t *inflight; /* complete with the write in flight */
    waiter_t *next;     /* complete with the next write */
    bool dirty;         /* a change is not in any write yet */
    gn_metastore_cb close_cb;
    void *close_arg;
    bool closing;
} local_store_t;

static void start_write(local_store_t *st);

static void fire(waiter_t *w, int status)
{
    while (w) {
        waiter_t *nx = w->next;
        if (w->cb) w->cb(w->arg, status);
        free(w);
        w = nx;
    }
}

static void finish_close(local_store_t *st)
{
    gn_metastore_cb cb = st->close_cb;
    void *arg = st->close_arg;
    json_decref(st->topics);
    free(st);
    if (cb) cb(arg, 0);
}

static void write_done(void *arg, int status)
{
    local_store_t *st = arg;
    st->writing = false;
    if (status < 0)
        GN_ERROR("topic", "topic metadata write failed | path=%s err=%s", st->path,
                 gn_strerror(status));
    waiter_t *done = st->inflight;
    st->inflight = NULL;
    if (st->dirty) start_write(st);
    fire(done, status);
    if (st->closing && !st->writing) finish_close(st);
}

static void start_write(local_store_t *st)
{
    json_t *doc = json_pack("{s:i, s:O}", "version", 1, "topics", st->topics);
    char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    st->dirty = false;
    st->inflight = st->next;
    st->next = NULL;
    int rc = text ? 0 : GN_ENOMEM;
    if (text) {
        size_t len = strlen(text);
        text[len] = 0;
        rc = gn__atomic_write_async(st->loop, st->path, text, len, write_done, st);
    }
    if (rc < 0) {
        /* report on the next loop turn is not possible without a handle: fail now, the
         * callers' callbacks run from a later write_done or close at the latest */
        GN_ERROR("topic", "cannot queue topic metadata write | err=%s", gn_strerror(rc));
        st->next = st->inflight; /* retried with the next change */
        st->inflight = NULL;
        st->dirty = true;
        return;
    }
    st->writing = true;
}

static int enqueue(local_store_t *st, gn_metastore_cb cb, void *arg)
{
    waiter_t *w = malloc(sizeof(*w));
    if (!w) return GN_ENOMEM;
    w->cb = cb;
    w->arg = arg;
    w->next = NULL;
    waiter_t **pp = &st->next;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    st->dirty = true;
    if (!st->writing) start_write(st);
    return 0;
}

static int local_put(gn_metastore_t *ms, const gn_topic_record_t *rec, gn_metastore_cb cb,
                     void *arg)
{
    local_store_t *st = (local_store_t *)ms;
    char id[GN_UUID_B64_LEN + 1];
    gn__uuid_to_base64(rec->id, id);
    json_t *configs = json_object();
    for (size_t i = 0; configs && i < rec->configs_count; i++)
        json_object_set_new(configs, rec->configs[i].name,
                            json_string(rec->configs[i].value ? rec->configs[i].value : ""));
    json_t *obj =
        json_pack("{s:s, s:i, s:i, s:o}", "id", id, "partitions", (json_int_t)rec->partitions,
                  "replication_factor", (json_int_t)rec->replication_factor, "configs", configs);
    if (!obj) return GN_ENOMEM;
    json_t *prev = json_object_get(st->topics, rec->name);
    json_incref(prev);
    if (json_object_set_new(st->topics, rec->name, obj) < 0) {
        json_decref(prev);
        return GN_ENOMEM;
    }
    int rc = enqueue(st, cb, arg);
    if (rc < 0) { /* undo: the caller sees the store unchanged */
        if (prev)
            json_object_set(st->topics, rec->name, prev);
        else
            json_object_del(st->topics, rec->name);
    }
    json_decref(prev);
    return rc;
}

static int local_delete(gn_metastore_t *ms, const char *name, const uint8_t *id, gn_metastore_cb cb,
                        void *arg)
{
    (void)id; /* one node: the name is the incarnation */
    local_store_t *st = (local_store_t *)ms;
    json_t *prev = json_object_get(st->topics, name);
    if (!prev) return GN_EUNKNOWN_TOPIC;
    json_incref(prev);
    json_object_del(st->topics, name);
    int rc = enqueue(st, cb, arg);
    if (rc < 0) json_object_set(st->topics, name, prev);
    json_decref(prev);
    return rc;
}

static int corrupt(const local_store_t *st, const char *why, const char *topic)
{
    GN_ERROR("topic",
             "topic metadata is corrupt; refusing to guess | path=%s reason=\"%s\" "
             "topic=%s",
             st->path, why, topic ? topic : "-");
    return GN_ECORRUPT;
}

static int local_load(gn_metastore_t *ms, gn_metastore_each_cb each, void *arg)
{
    local_store_t *st = (local_store_t *)ms;
    char *text = NULL;
    size_t len = 0;
    int rc = gn__read_small_file(st->path, TOPICS_JSON_MAX, &text, &len);
    if (rc == -ENOENT) return 0; /* a new data directory */
    if (rc < 0) {
        GN_ERROR("topic", "cannot read topic metadata | path=%s err=%s", st->path, gn_strerror(rc));
        return rc;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!doc) {
        GN_ERROR("topic", "topic metadata is not JSON | path=%s line=%d reason=\"%s\"", st->path,
                 jerr.line, jerr.text);
        return GN_ECORRUPT;
    }
    json_t *topics = json_object_get(doc, "topics");
    if (!json_is_object(topics) || json_integer_value(json_object_get(doc, "version")) != 1) {
        rc = corrupt(st, "no version 1 topics object", NULL);
        goto out;
    }
    const char *name;
    json_t *t;
    json_object_foreach(topics, name, t)
    {
        gn_topic_record_t rec = {.name = name};
        json_t *id = json_object_get(t, "id"), *parts = json_object_get(t, "partitions");
        json_t *rf = json_object_get(t, "replication_factor"),
               *cfgs = json_object_get(t, "configs");
        if (gn_topic_name_validate(name, strlen(name)) < 0) {
            rc = corrupt(st, "invalid topic name", name);
            goto out;
        }
        if (!json_is_string(id) || gn__uuid_from_base64(json_string_value(id), rec.id) < 0 ||
            !json_is_integer(parts) || json_integer_value(parts) < 1 ||
            json_integer_value(parts) > INT32_MAX || !json_is_integer(rf) ||
            json_integer_value(rf) < 1 || json_integer_value(rf) > INT16_MAX ||
            (cfgs && !json_is_object(cfgs))) {
            rc = corrupt(st, "bad topic record", name);
            goto out;
        }
        rec.partitions = (int32_t)json_integer_value(parts);
        rec.replication_factor = (int16_t)json_integer_value(rf);
        size_t n = cfgs ? json_object_size(cfgs) : 0;
        gn_config_entry_t *entries = n ? calloc(n, sizeof(*entries)) : NULL;
        if (n && !entries) {
            rc = GN_ENOMEM;
            goto out;
        }
        const char *key;
        json_t *val;
        size_t i = 0;
        if (cfgs) {
            json_object_foreach(cfgs, key, val)
            {
                if (!json_is_string(val)) continue;
                entries[i].name = key;
                entries[i].value = json_string_value(val);
                i++;
            }
        }
        rec.configs = entries;
        rec.configs_count = i;
        each(arg, &rec);
        free(entries);
    }
    json_decref(st->topics);
    st->topics = json_incref(topics);
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

static void local_close(gn_metastore_t *ms, gn_metastore_cb cb, void *arg)
{
    local_store_t *st = (local_store_t *)ms;
    st->close_cb = cb;
    st->close_arg = arg;
    st->closing = true;
    if (st->writing) return; /* write_done finishes (and writes what is dirty first) */
    if (st->dirty && st->next) {
        start_write(st);
        if (st->writing) return;
        fire(st->next, GN_ESHUTDOWN);
        st->next = NULL;
    }
    finish_close(st);
}

static const gn_metastore_ops_t local_ops = {
    .load = local_load,
    .put_topic = local_put,
    .delete_topic = local_delete,
    .close = local_close,
};

int gn__metastore_local_open(uv_loop_t *loop, const char *data_dir, gn_metastore_t **out)
{
    local_store_t *st = calloc(1, sizeof(*st));
    if (!st) return GN_ENOMEM;
    st->base.ops = &local_ops;
    st->loop = loop;
    char dir[PATH_MAX];
    int rc = 0;
    if (snprintf(dir, sizeof(dir), "%s/__cluster_metadata", data_dir) >= (int)sizeof(dir) ||
        snprintf(st->path, sizeof(st->path), "%s/topics.json", dir) >= (int)sizeof(st->path)) {
        rc = -ENAMETOOLONG;
        goto out;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        rc = -errno;
        GN_ERROR("topic", "cannot create metadata directory | dir=%s err=%s", dir, gn_strerror(rc));
        goto out;
    }
    st->topics = json_object();
    if (!st->topics) {
        rc = GN_ENOMEM;
        goto out;
    }
    *out = &st->base;
    return 0;
out:
    free(st);
    return rc;
}
