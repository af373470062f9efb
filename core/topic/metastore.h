/* SPDX-License-Identifier: Apache-2.0 */
/* The ONE interface to durable topic metadata (name, id, partitions, replication
 * factor, config overrides). Today a local JSON file (metastore.c); the cluster work
 * swaps in a store backed by the Raft metadata log behind the same four operations.
 * Loop thread only; callbacks run on the loop once the change is durable. */
#ifndef GN_CORE_TOPIC_METASTORE_H
#define GN_CORE_TOPIC_METASTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ganglion/topic.h"

/* What a put asks of the metadata log (core/cluster decides it against the latest state,
 * the same on every broker; README.md there). The local store stores every put whole. */
typedef enum gn_topic_change {
    GN_TOPIC_CREATE = 0,     /* GN_ETOPIC_EXISTS when the name exists by then */
    GN_TOPIC_ADD_PARTITIONS, /* grow to partitions; GN_EINVALID_PARTITIONS when not more */
    GN_TOPIC_SET_CONFIGS,    /* changes (below); GN_EUNKNOWN_TOPIC when id is gone */
} gn_topic_change_t;

typedef struct gn_topic_record {
    const char *name;
    uint8_t id[16];
    int32_t partitions;
    int16_t replication_factor;
    const gn_config_entry_t *configs; /* the topic's overrides */
    size_t configs_count;
    gn_topic_change_t change;
    /* GN_TOPIC_SET_CONFIGS: the keys set (value NULL: removed), applied to the overrides
     * the log has then, so that a concurrent change of other keys stays; configs_replace:
     * the overrides become exactly these (AlterConfigs) */
    const gn_config_entry_t *config_changes;
    size_t config_changes_count;
    bool configs_replace;
} gn_topic_record_t;

typedef struct gn_metastore gn_metastore_t;
/* status 0 once durable, or a negative error. Never runs before the call returns. */
typedef void (*gn_metastore_cb)(void *arg, int status);
/* rec and its strings are borrowed for the call only. */
typedef void (*gn_metastore_each_cb)(void *arg, const gn_topic_record_t *rec);

typedef struct gn_metastore_ops {
    /* Calls each for every stored topic; 0, or GN_ECORRUPT/-errno with a logged reason. */
    int (*load)(gn_metastore_t *ms, gn_metastore_each_cb each, void *arg);
    /* Create or replace the record of rec->name. */
    int (*put_topic)(gn_metastore_t *ms, const gn_topic_record_t *rec, gn_metastore_cb cb,
                     void *arg);
    /* id (16 bytes; NULL: any): only that incarnation; GN_EUNKNOWN_TOPIC when gone. */
    int (*delete_topic)(gn_metastore_t *ms, const char *name, const uint8_t *id, gn_metastore_cb cb,
                        void *arg);
    /* Waits for changes in flight, frees ms, then cb (may run before return when idle). */
    void (*close)(gn_metastore_t *ms, gn_metastore_cb cb, void *arg);
} gn_metastore_ops_t;

struct gn_metastore {
    const gn_metastore_ops_t *ops;
};

/* The single-node store: DATA/__cluster_metadata/topics.json, replaced atomically on
 * libuv's thread pool (one write in flight; changes meanwhile share the next write). */
int gn__metastore_local_open(uv_loop_t *loop, const char *data_dir, gn_metastore_t **out);

static inline int gn__metastore_load(gn_metastore_t *ms, gn_metastore_each_cb each, void *arg)
{
    return ms->ops->load(ms, each, arg);
}
static inline int gn__metastore_put_topic(gn_metastore_t *ms, const gn_topic_record_t *rec,
                                          gn_metastore_cb cb, void *arg)
{
    return ms->ops->put_topic(ms, rec, cb, arg);
}
static inline int gn__metastore_delete_topic(gn_metastore_t *ms, const char *name,
                                             const uint8_t *id, gn_metastore_cb cb, void *arg)
{
    return ms->ops->delete_topic(ms, name, id, cb, arg);
}
static inline void gn__metastore_close(gn_metastore_t *ms, gn_metastore_cb cb, void *arg)
{
    ms->ops->close(ms, cb, arg);
}

#endif
