/* SPDX-License-Identifier: Apache-2.0 */
/* The topic-metadata store on the controller quorum (core/topic/metastore.h's interface):
 * put_topic and delete_topic propose "topic" / "topic_deleted" records, whose callbacks
 * run once the record is committed and applied; load reads the image. New partitions get
 * their replicas here (Kafka's round robin from a random start over unfenced brokers).
 * A pre-quorum DATA/__cluster_metadata/topics.json is migrated once. Loop thread. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/uuid.h"

typedef struct raft_store {
    gn_metastore_t base;
    gn_cluster_t *cl;
    uv_timer_t timer; /* close completes on a later loop turn, outside gn_broker_close: the
                       * quorum closing from inside it crashed libraft (unit tests) */
    int inflight;
    bool closing;
    gn_metastore_cb close_cb;
    void *close_arg;
} raft_store_t;

typedef struct op {
    raft_store_t *st;
    gn_metastore_cb cb;
    void *arg;
} op_t;

static void on_timer_closed(uv_handle_t *h)
{
    raft_store_t *st = h->data;
    gn_metastore_cb cb = st->close_cb;
    void *arg = st->close_arg;
    free(st);
    if (cb) cb(arg, 0);
}

static void finish_close(raft_store_t *st)
{
    uv_close((uv_handle_t *)&st->timer, on_timer_closed);
}

static void op_done(void *arg, int status)
{
    op_t *op = arg;
    raft_store_t *st = op->st;
    /* refused by the image (its precondition no longer held) is the client's answer */
    if (status < 0 && !gn__image_refusal(status))
        GN_ERROR("cluster", "topic metadata change failed | err=%s", gn_strerror(status));
    if (op->cb) op->cb(op->arg, status);
    free(op);
    if (--st->inflight == 0 && st->closing) finish_close(st);
}

static int propose(raft_store_t *st, json_t *rec, gn_metastore_cb cb, void *arg)
{
    op_t *op = malloc(sizeof(*op));
    int rc = GN_ENOMEM;
    if (op && rec) {
        *op = (op_t){st, cb, arg};
        rc = gn__cluster_propose(st->cl, rec, op_done, op);
    }
    if (rc < 0)
        free(op);
    else
        st->inflight++;
    json_decref(rec);
    return rc;
}

/* Unfenced brokers of the image, ascending ids; self when none registered yet. */
static size_t live_brokers(gn_cluster_t *cl, int32_t *ids, size_t cap)
{
    const char *key;
    json_t *b;
    size_t n = 0;
    json_object_foreach(json_object_get(gn__cluster_image(cl), "brokers"), key, b)
    {
        if (json_is_true(json_object_get(b, "fenced")) || n >= cap) continue;
        int32_t id = (int32_t)json_integer_value(json_object_get(b, "id"));
        size_t i = n++;
        for (; i > 0 && ids[i - 1] > id; i--)
            ids[i] = ids[i - 1];
        ids[i] = id;
    }
    if (n == 0) ids[n++] = gn__cluster_node_id(cl);
    return n;
}

static json_t *assignments(raft_store_t *st, const gn_topic_record_t *rec)
{
    int32_t ids[256];
    size_t n = live_brokers(st->cl, ids, 256);
    const json_t *old =
        json_object_get(json_object_get(gn__cluster_image(st->cl), "topics"), rec->name);
    char idb64[GN_UUID_B64_LEN + 1];
    gn__uuid_to_base64(rec->id, idb64);
    if (old && strcmp(json_string_value(json_object_get(old, "id")), idb64) != 0) old = NULL;
    const json_t *oldparts = json_object_get(old, "states");
    size_t start = (size_t)rand() % n;
    size_t rf = rec->replication_factor < 1 ? 1 : (size_t)rec->replication_factor;
    if (rf > n) rf = n; /* refused earlier by the create; never place a replica twice */
    json_t *all = json_array();
    for (int32_t p = 0; all && p < rec->partitions; p++) {
        json_t *st0 = json_array_get(oldparts, (size_t)p);
        if (st0) {
            json_array_append(all, json_object_get(st0, "replicas"));
            continue;
        }
        json_t *replicas = json_array();
        for (size_t j = 0; replicas && j < rf; j++)
            json_array_append_new(replicas, json_integer(ids[(start + (size_t)p + j) % n]));
        json_array_append_new(all, replicas);
    }
    return all;
}

static json_t *configs_object(const gn_config_entry_t *e, size_t n, bool with_null)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        if (e[i].value || !with_null)
            json_object_set_new(o, e[i].name, json_string(e[i].value ? e[i].value : ""));
    return o;
}

json_t *gn__cluster_topic_record(const gn_topic_record_t *rec, json_t *replicas)
{
    char id[GN_UUID_B64_LEN + 1];
    gn__uuid_to_base64(rec->id, id);
    json_t *configs = configs_object(rec->configs, rec->configs_count, false);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "type", "topic", "op", "create",
                     "name", rec->name, "id", id, "partitions", (json_int_t)rec->partitions,
                     "replication_factor", (json_int_t)rec->replication_factor, "configs", configs,
                     "replicas", replicas);
}

/* op "partitions": the new total and every partition's replicas (the image keeps its own
 * for the partitions it has). */
static json_t *partitions_record(const gn_topic_record_t *rec, json_t *replicas, const char *id)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "type", "topic", "op", "partitions", "name",
                     rec->name, "id", id, "partitions", (json_int_t)rec->partitions, "replicas",
                     replicas);
}

/* op "configs": the keys set and removed, or all of them (replace). */
static json_t *configs_record(const gn_topic_record_t *rec, const char *id)
{
    json_t *set = configs_object(rec->config_changes, rec->config_changes_count, true);
    json_t *del = json_array();
    for (size_t i = 0; del && i < rec->config_changes_count; i++)
        if (!rec->config_changes[i].value)
            json_array_append_new(del, json_string(rec->config_changes[i].name));
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o}", "type", "topic", "op", "configs",
                     "name", rec->name, "id", id, "replace", rec->configs_replace, "set", set,
                     "delete", del);
}

static int raft_put(gn_metastore_t *ms, const gn_topic_record_t *rec, gn_metastore_cb cb, void *arg)
{
    raft_store_t *st = (raft_store_t *)ms;
    char id[GN_UUID_B64_LEN + 1];
    gn__uuid_to_base64(rec->id, id);
    if (rec->change == GN_TOPIC_SET_CONFIGS) return propose(st, configs_record(rec, id), cb, arg);
    json_t *replicas = assignments(st, rec);
    if (!replicas) return GN_ENOMEM;
    if (rec->change == GN_TOPIC_ADD_PARTITIONS)
        return propose(st, partitions_record(rec, replicas, id), cb, arg);
    return propose(st, gn__cluster_topic_record(rec, replicas), cb, arg);
}

static int raft_delete(gn_metastore_t *ms, const char *name, const uint8_t *id, gn_metastore_cb cb,
                       void *arg)
{
    raft_store_t *st = (raft_store_t *)ms;
    if (!json_object_get(json_object_get(gn__cluster_image(st->cl), "topics"), name))
        return GN_EUNKNOWN_TOPIC;
    json_t *rec = json_pack("{s:s, s:s}", "type", "topic_deleted", "name", name);
    if (rec && id) {
        char b64[GN_UUID_B64_LEN + 1];
        gn__uuid_to_base64(id, b64);
        json_object_set_new(rec, "id", json_string(b64));
    }
    return propose(st, rec, cb, arg);
}

/* One image topic as the borrowed record the interface hands out. */
int gn__cluster_topic_from_image(const char *name, const json_t *t, gn_topic_record_t *rec,
                                 gn_config_entry_t **entries)
{
    json_t *cfgs = json_object_get(t, "configs");
    memset(rec, 0, sizeof(*rec));
    rec->name = name;
    if (gn__uuid_from_base64(json_string_value(json_object_get(t, "id")), rec->id) < 0)
        return GN_ECORRUPT;
    rec->partitions = (int32_t)json_integer_value(json_object_get(t, "partitions"));
    rec->replication_factor = (int16_t)json_integer_value(json_object_get(t, "replication_factor"));
    size_t n = json_object_size(cfgs), i = 0;
    *entries = n ? calloc(n, sizeof(**entries)) : NULL;
    if (n && !*entries) return GN_ENOMEM;
    const char *key;
    json_t *val;
    json_object_foreach(cfgs, key, val)
    {
        if (!json_is_string(val)) continue;
        (*entries)[i].name = key;
        (*entries)[i].value = json_string_value(val);
        i++;
    }
    rec->configs = *entries;
    rec->configs_count = i;
    return 0;
}

static int raft_load(gn_metastore_t *ms, gn_metastore_each_cb each, void *arg)
{
    raft_store_t *st = (raft_store_t *)ms;
    const char *name;
    json_t *t;
    json_object_foreach(json_object_get(gn__cluster_image(st->cl), "topics"), name, t)
    {
        gn_topic_record_t rec;
        gn_config_entry_t *entries = NULL;
        int rc = gn__cluster_topic_from_image(name, t, &rec, &entries);
        if (rc < 0) {
            GN_ERROR("cluster", "bad topic in the metadata image | topic=%s", name);
            return rc;
        }
        each(arg, &rec);
        free(entries);
    }
    return 0;
}

static void raft_close_store(gn_metastore_t *ms, gn_metastore_cb cb, void *arg)
{
    raft_store_t *st = (raft_store_t *)ms;
    st->close_cb = cb;
    st->close_arg = arg;
    st->closing = true;
    if (st->inflight == 0) finish_close(st);
}

static const gn_metastore_ops_t raft_ops = {
    .load = raft_load,
    .put_topic = raft_put,
    .delete_topic = raft_delete,
    .close = raft_close_store,
};

/* ---- one-time migration of topics.json ---- */

typedef struct migrate_ctx {
    raft_store_t *st;
    int pending, rc, count;
} migrate_ctx_t;

static void migrated_one(void *arg, int status)
{
    migrate_ctx_t *ctx = arg;
    ctx->pending--;
    if (status < 0) ctx->rc = status;
}

static void migrate_each(void *arg, const gn_topic_record_t *rec)
{
    migrate_ctx_t *ctx = arg;
    if (ctx->rc < 0) return;
    int rc = raft_put(&ctx->st->base, rec, migrated_one, ctx);
    if (rc < 0)
        ctx->rc = rc;
    else
        ctx->pending++, ctx->count++;
}

static void noop_closed(void *arg, int status)
{
    (void)arg, (void)status;
}

static int migrate(raft_store_t *st, uv_loop_t *loop, const char *data_dir)
{
    char path[PATH_MAX], done[PATH_MAX + 16];
    if (snprintf(path, sizeof(path), "%s/__cluster_metadata/topics.json", data_dir) >=
        (int)sizeof(path))
        return -ENAMETOOLONG;
    if (access(path, F_OK) != 0) return 0;
    if (json_object_size(json_object_get(gn__cluster_image(st->cl), "topics")) > 0) return 0;
    gn_metastore_t *local = NULL;
    int rc = gn__metastore_local_open(loop, data_dir, &local);
    if (rc < 0) return rc;
    migrate_ctx_t ctx = {st, 0, 0, 0};
    rc = gn__metastore_load(local, migrate_each, &ctx);
    gn__metastore_close(local, noop_closed, NULL);
    while (ctx.pending > 0)
        uv_run(loop, UV_RUN_ONCE);
    if (rc == 0) rc = ctx.rc;
    if (rc < 0) {
        GN_ERROR("cluster", "cannot migrate topics.json to the metadata log | err=%s",
                 gn_strerror(rc));
        return rc;
    }
    snprintf(done, sizeof(done), "%s.migrated", path);
    if (rename(path, done) < 0) return -errno;
    GN_INFO("cluster", "migrated topics.json to the metadata log | topics=%d renamed=%s", ctx.count,
            done);
    return 0;
}

int gn__metastore_raft_open(gn_cluster_t *cl, uv_loop_t *loop, const char *data_dir,
                            gn_metastore_t **out)
{
    raft_store_t *st = calloc(1, sizeof(*st));
    if (!st) return GN_ENOMEM;
    st->base.ops = &raft_ops;
    st->cl = cl;
    uv_timer_init(loop, &st->timer);
    st->timer.data = st;
    int rc = migrate(st, loop, data_dir);
    if (rc < 0) {
        finish_close(st);
        return rc;
    }
    *out = &st->base;
    return 0;
}
