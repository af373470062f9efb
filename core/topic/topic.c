/* SPDX-License-Identifier: Apache-2.0 */
/* The topic registry (a sorted array searched with bsearch) and the admin operations:
 * create, delete, add partitions, alter configs, describe, list. Each is checked here,
 * then proposed to the metadata store, whose log decides it against the latest state;
 * the caller's gn_admin_cb gets that decision once it is applied here. The registry
 * follows the applied records (core/cluster/topic_sync.c through the gn__topic_* calls
 * below), except a creation, which is opened here at once (produce paths need the
 * partition now) and dropped or replaced if the log decides otherwise. Loop thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "cluster/cluster.h"
#include "ganglion/cluster.h"
#include "topic/topic_internal.h"
#include "topic/uuid.h"

/* ---- registry ---- */

static size_t lower_bound(gn_broker_t *broker, const char *name, bool *found)
{
    size_t lo = 0, hi = broker->ntopics;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(broker->topics[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

gn_topic_t *gn__topic_find(gn_broker_t *broker, const char *name)
{
    bool found;
    size_t i = lower_bound(broker, name, &found);
    return found ? broker->topics[i] : NULL;
}

static int registry_insert(gn_broker_t *broker, gn_topic_t *topic)
{
    bool found;
    size_t i = lower_bound(broker, topic->name, &found);
    if (found) return GN_ETOPIC_EXISTS;
    if (broker->ntopics == broker->topics_cap) {
        size_t cap = broker->topics_cap ? broker->topics_cap * 2 : 16;
        gn_topic_t **t = realloc(broker->topics, cap * sizeof(*t));
        if (!t) return GN_ENOMEM;
        broker->topics = t;
        broker->topics_cap = cap;
    }
    memmove(&broker->topics[i + 1], &broker->topics[i],
            (broker->ntopics - i) * sizeof(broker->topics[0]));
    broker->topics[i] = topic;
    broker->ntopics++;
    return 0;
}

static void registry_remove(gn_broker_t *broker, gn_topic_t *topic)
{
    bool found;
    size_t i = lower_bound(broker, topic->name, &found);
    if (!found) return;
    memmove(&broker->topics[i], &broker->topics[i + 1],
            (broker->ntopics - i - 1) * sizeof(broker->topics[0]));
    broker->ntopics--;
}

/* ---- overrides ---- */

static void overrides_free(gn_config_entry_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)o[i].name);
        free((char *)o[i].value);
    }
    free(o);
}

/* Sets (value != NULL) or removes name in the owned list *o of *n entries. */
static int overrides_put(gn_config_entry_t **o, size_t *n, const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (strcmp((*o)[i].name, name) == 0) break;
    if (!value) {
        if (i == *n) return 0;
        free((char *)(*o)[i].name);
        free((char *)(*o)[i].value);
        memmove(&(*o)[i], &(*o)[i + 1], (*n - i - 1) * sizeof(**o));
        (*n)--;
        return 0;
    }
    char *v = strdup(value);
    if (!v) return GN_ENOMEM;
    if (i < *n) {
        free((char *)(*o)[i].value);
        (*o)[i].value = v;
        return 0;
    }
    char *k = strdup(name);
    gn_config_entry_t *grown = realloc(*o, (*n + 1) * sizeof(**o));
    if (!k || !grown) {
        free(k);
        free(v);
        if (grown) *o = grown;
        return GN_ENOMEM;
    }
    *o = grown;
    (*o)[(*n)++] = (gn_config_entry_t){k, v};
    return 0;
}

static int overrides_copy(const gn_config_entry_t *src, size_t n, gn_config_entry_t **o, size_t *on)
{
    *o = NULL;
    *on = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = overrides_put(o, on, src[i].name, src[i].value);
        if (rc < 0) {
            overrides_free(*o, *on);
            *o = NULL;
            *on = 0;
            return rc;
        }
    }
    return 0;
}

int gn__topic_effective_config(gn_broker_t *broker, const gn_config_entry_t *overrides, size_t n,
                               gn_topic_config_t *out)
{
    gn_topic_config_t cfg = broker->cfg.topic_defaults;
    for (size_t i = 0; i < n; i++) {
        if (!overrides[i].name || !overrides[i].value) return GN_EINVALID_CONFIG;
        int rc = gn_topic_config_set(&cfg, overrides[i].name, overrides[i].value);
        if (rc < 0) return rc;
    }
    *out = cfg;
    return 0;
}

/* ---- topic objects ---- */

static void topic_free(gn_topic_t *topic)
{
    if (!topic) return;
    overrides_free(topic->overrides, topic->noverrides);
    free(topic->parts);
    free(topic->name);
    free(topic);
}

static gn_topic_t *topic_new(const char *name)
{
    gn_topic_t *topic = calloc(1, sizeof(*topic));
    if (!topic) return NULL;
    topic->name = strdup(name);
    if (!topic->name) {
        free(topic);
        return NULL;
    }
    topic->internal = gn_topic_name_internal(name);
    return topic;
}

/* Opens partitions [from, to); on failure closes (and, if created, deletes) those opened. */
static int open_partitions(gn_broker_t *broker, gn_topic_t *topic, int32_t from, int32_t to,
                           bool create)
{
    gn_partition_t **parts = realloc(topic->parts, (size_t)to * sizeof(*parts));
    if (!parts) return GN_ENOMEM;
    topic->parts = parts;
    for (int32_t p = from; p < to; p++) {
        int rc = gn__partition_open(broker, topic, p, create, &parts[p]);
        if (rc < 0) {
            GN_ERROR("topic", "cannot open partition | topic=%s partition=%d err=%s", topic->name,
                     p, gn_strerror(rc));
            while (p-- > from)
                gn__partition_close(parts[p], GN_EUNKNOWN_TOPIC, create);
            return rc;
        }
    }
    return 0;
}

static void close_partitions(gn_topic_t *topic, int32_t from, int32_t to, int status, bool del)
{
    for (int32_t p = from; p < to; p++) {
        if (topic->parts[p]) gn__partition_close(topic->parts[p], status, del);
        topic->parts[p] = NULL;
    }
}

static gn_topic_record_t topic_record(const gn_topic_t *topic)
{
    gn_topic_record_t rec = {
        .name = topic->name,
        .partitions = topic->partitions,
        .replication_factor = topic->replication_factor,
        .configs = topic->overrides,
        .configs_count = topic->noverrides,
    };
    memcpy(rec.id, topic->id, sizeof(rec.id));
    return rec;
}

/* Stored overrides as a topic's own list and effective config: one that no longer
 * validates is dropped, loudly, not fatal. */
static int stored_overrides(gn_broker_t *broker, const char *name, const gn_config_entry_t *o,
                            size_t n, gn_config_entry_t **out, size_t *nout, gn_topic_config_t *cfg)
{
    *cfg = broker->cfg.topic_defaults;
    *out = NULL;
    *nout = 0;
    for (size_t i = 0; i < n; i++) {
        gn_topic_config_t probe = *cfg;
        if (gn_topic_config_set(&probe, o[i].name, o[i].value) < 0) {
            GN_WARN("topic", "dropping invalid stored config | topic=%s key=%s value=%s", name,
                    o[i].name, o[i].value);
            continue;
        }
        *cfg = probe;
        int rc = overrides_put(out, nout, o[i].name, o[i].value);
        if (rc < 0) {
            overrides_free(*out, *nout);
            *out = NULL;
            *nout = 0;
            return rc;
        }
    }
    return 0;
}

int gn__topic_load(gn_broker_t *broker, const gn_topic_record_t *rec)
{
    int rc;
    gn_topic_t *topic = topic_new(rec->name);
    if (!topic) return GN_ENOMEM;
    memcpy(topic->id, rec->id, sizeof(topic->id));
    topic->partitions = rec->partitions;
    topic->replication_factor = rec->replication_factor;
    if ((rc = stored_overrides(broker, rec->name, rec->configs, rec->configs_count,
                               &topic->overrides, &topic->noverrides, &topic->config)) < 0)
        goto out;
    if ((rc = registry_insert(broker, topic)) < 0) goto out;
    if ((rc = open_partitions(broker, topic, 0, topic->partitions, false)) < 0) {
        registry_remove(broker, topic);
        goto out;
    }
    return 0;
out:
    topic_free(topic);
    return rc;
}

void gn__topic_drop(gn_broker_t *broker, gn_topic_t *topic)
{
    registry_remove(broker, topic);
    close_partitions(topic, 0, topic->partitions, GN_EUNKNOWN_TOPIC, true);
    topic_free(topic);
}

int gn__topic_grow(gn_broker_t *broker, gn_topic_t *topic, int32_t total)
{
    if (total <= topic->partitions) return 0;
    int rc = open_partitions(broker, topic, topic->partitions, total, true);
    if (rc == 0) topic->partitions = total;
    return rc;
}

int gn__topic_set_overrides(gn_broker_t *broker, gn_topic_t *topic, const gn_config_entry_t *o,
                            size_t n)
{
    gn_config_entry_t *next;
    size_t nnext;
    gn_topic_config_t cfg;
    int rc = stored_overrides(broker, topic->name, o, n, &next, &nnext, &cfg);
    if (rc < 0) return rc;
    overrides_free(topic->overrides, topic->noverrides);
    topic->overrides = next;
    topic->noverrides = nnext;
    topic->config = cfg; /* in place: the live logs read this struct */
    return 0;
}

void gn__topic_close_all(gn_broker_t *broker)
{
    /* out of the registry before closing: callbacks run by a log's close (compaction,
     * sync waiters) must not find a topic that is half freed */
    while (broker->ntopics > 0) {
        gn_topic_t *topic = broker->topics[--broker->ntopics];
        close_partitions(topic, 0, topic->partitions, GN_ESHUTDOWN, false);
        topic_free(topic);
    }
    free(broker->topics);
    broker->topics = NULL;
    broker->ntopics = broker->topics_cap = 0;
}

/* ---- admin completions ---- */

typedef struct admin_req {
    gn__task_t task;
    gn_admin_cb cb;
    void *arg;
    int status;
} admin_req_t;

static void admin_run(gn__task_t *task)
{
    admin_req_t *req = (admin_req_t *)task;
    if (req->cb) req->cb(req->arg, req->status);
    free(req);
}

/* validate_only: the answer still comes from the loop, after return. */
static int admin_later(gn_broker_t *broker, gn_admin_cb cb, void *arg, int status)
{
    admin_req_t *req = calloc(1, sizeof(*req));
    if (!req) return GN_ENOMEM;
    req->task.run = admin_run;
    req->cb = cb;
    req->arg = arg;
    req->status = status;
    gn__defer(broker, &req->task);
    return 0;
}

typedef struct persist_req {
    gn_broker_t *broker;
    gn_admin_cb cb;
    void *arg;
    bool create;
    uint8_t id[16];
    char what[32];
    char topic[GN_TOPIC_NAME_MAX + 1];
} persist_req_t;

static void persisted(void *arg, int status)
{
    persist_req_t *req = arg;
    gn_broker_t *broker = req->broker;
    /* refused: what the log checked no longer held (another broker's change came first) */
    if (gn__image_refusal(status))
        GN_INFO("topic", "topic change refused by the metadata log | op=%s topic=%s err=%s",
                req->what, req->topic, gn_err_name(status));
    else if (status < 0)
        GN_ERROR("topic", "topic change not durable | op=%s topic=%s err=%s", req->what, req->topic,
                 gn_strerror(status));
    if (req->create && !broker->closing) {
        /* decided: applied (the registry has it already), refused or failed (the registry
         * takes what the image has instead, or nothing) */
        gn_topic_t *topic = gn__topic_find(broker, req->topic);
        if (topic && memcmp(topic->id, req->id, sizeof(req->id)) == 0) {
            topic->creating = false;
            if (status < 0) {
                GN_INFO("topic", "dropping this broker's creation | topic=%s err=%s", req->topic,
                        gn_err_name(status));
                gn__topic_drop(broker, topic);
            }
        }
        if (broker->cluster) gn__topic_sync(broker, req->topic);
    }
    if (req->cb) req->cb(req->arg, status);
    free(req);
}

static persist_req_t *persist_req_new(gn_broker_t *broker, const char *what, const char *topic,
                                      gn_admin_cb cb, void *arg)
{
    persist_req_t *req = calloc(1, sizeof(*req));
    if (!req) return NULL;
    req->broker = broker;
    req->cb = cb;
    req->arg = arg;
    snprintf(req->what, sizeof(req->what), "%s", what);
    snprintf(req->topic, sizeof(req->topic), "%s", topic);
    return req;
}

/* ---- create ---- */

static int check_name(gn_broker_t *broker, const char *name)
{
    if (!name) return GN_EINVALID_TOPIC;
    int rc = gn_topic_name_validate(name, strnlen(name, GN_TOPIC_NAME_MAX + 1));
    if (rc < 0) return rc;
    if (gn__topic_find(broker, name)) return GN_ETOPIC_EXISTS;
    /* Kafka refuses a name that collides with an existing one once '.' == '_' */
    if (strpbrk(name, "._")) {
        for (size_t i = 0; i < broker->ntopics; i++)
            if (gn_topic_name_collides(broker->topics[i]->name, name)) return GN_EINVALID_TOPIC;
    }
    return 0;
}

int gn_topic_create(gn_broker_t *broker, const char *name, int32_t partitions,
                    int16_t replication_factor, const gn_config_entry_t *configs,
                    size_t configs_count, bool validate_only, gn_admin_cb cb, void *arg)
{
    int rc;
    gn_topic_t *topic = NULL;
    persist_req_t *req = NULL;
    if (!broker) return GN_EINVAL;
    if (broker->closing) return GN_ESHUTDOWN;
    if ((rc = check_name(broker, name)) < 0) return rc;
    if (partitions == -1) partitions = broker->cfg.num_partitions;
    if (partitions < 1 || partitions > GN_TOPIC_PARTITIONS_MAX) return GN_EINVALID_PARTITIONS;
    if (replication_factor == -1) replication_factor = broker->cfg.default_replication_factor;
    /* core/cluster places replicas on distinct live brokers */
    if (replication_factor < 1 || (size_t)replication_factor > gn_cluster_brokers(broker, NULL, 0))
        return GN_EINVALID_REPLICATION;
    gn_topic_config_t cfg;
    if ((rc = gn__topic_effective_config(broker, configs, configs_count, &cfg)) < 0) return rc;
    if (validate_only) return admin_later(broker, cb, arg, 0);

    rc = GN_ENOMEM;
    if (!(topic = topic_new(name))) goto out;
    if ((rc = gn__uuid_random(topic->id)) < 0) goto out;
    topic->partitions = partitions;
    topic->replication_factor = replication_factor;
    topic->config = cfg;
    if ((rc = overrides_copy(configs, configs_count, &topic->overrides, &topic->noverrides)) < 0)
        goto out;
    rc = GN_ENOMEM;
    if (!(req = persist_req_new(broker, "create", name, cb, arg))) goto out;
    req->create = true;
    memcpy(req->id, topic->id, sizeof(req->id));
    topic->creating = true;
    if ((rc = registry_insert(broker, topic)) < 0) goto out;
    if ((rc = open_partitions(broker, topic, 0, partitions, true)) < 0) {
        registry_remove(broker, topic);
        goto out;
    }
    gn_topic_record_t rec = topic_record(topic);
    if ((rc = gn__metastore_put_topic(broker->meta, &rec, persisted, req)) < 0) {
        registry_remove(broker, topic);
        close_partitions(topic, 0, partitions, GN_EUNKNOWN_TOPIC, true);
        goto out;
    }
    GN_INFO("topic", "creating topic | topic=%s partitions=%d", name, partitions);
    return 0;
out:
    free(req);
    topic_free(topic);
    return rc;
}

/* ---- delete ---- */

/* The registry drops the topic when the deletion is applied (before cb runs). */
int gn_topic_delete(gn_broker_t *broker, const char *name, gn_admin_cb cb, void *arg)
{
    if (!broker || !name) return GN_EINVAL;
    if (broker->closing) return GN_ESHUTDOWN;
    gn_topic_t *topic = gn__topic_find(broker, name);
    if (!topic) return GN_EUNKNOWN_TOPIC;
    /* an internal topic's existence and partitions are the broker's own state (one
     * __mqtt_sessions partition, the __consumer_offsets hash): nobody changes them */
    if (topic->internal) return gn_topic_client_may_write(name, "delete");
    persist_req_t *req = persist_req_new(broker, "delete", name, cb, arg);
    if (!req) return GN_ENOMEM;
    int rc = gn__metastore_delete_topic(broker->meta, name, topic->id, persisted, req);
    if (rc < 0) {
        free(req);
        return rc;
    }
    return 0;
}

/* ---- add partitions ---- */

/* The new partitions open when the change is applied (before cb runs). */
int gn_topic_add_partitions(gn_broker_t *broker, const char *name, int32_t total,
                            bool validate_only, gn_admin_cb cb, void *arg)
{
    if (!broker || !name) return GN_EINVAL;
    if (broker->closing) return GN_ESHUTDOWN;
    gn_topic_t *topic = gn__topic_find(broker, name);
    if (!topic) return GN_EUNKNOWN_TOPIC;
    if (topic->internal) return gn_topic_client_may_write(name, "add partitions to");
    if (total <= topic->partitions || total > GN_TOPIC_PARTITIONS_MAX)
        return GN_EINVALID_PARTITIONS;
    if (validate_only) return admin_later(broker, cb, arg, 0);
    persist_req_t *req = persist_req_new(broker, "add_partitions", name, cb, arg);
    if (!req) return GN_ENOMEM;
    gn_topic_record_t rec = topic_record(topic);
    rec.partitions = total;
    rec.change = GN_TOPIC_ADD_PARTITIONS;
    int rc = gn__metastore_put_topic(broker->meta, &rec, persisted, req);
    if (rc < 0) free(req);
    return rc;
}

/* ---- alter configs ---- */

static bool known_key(const char *name)
{
    size_t n;
    const gn_topic_config_key_t *keys = gn_topic_config_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0) return true;
    return false;
}

/* cleanup.policy is the one list-typed key: APPEND/SUBTRACT work on its items. */
static int list_edit(const gn_topic_t *topic, const gn_config_entry_t *e, gn_alter_op_t op,
                     char *out, size_t cap)
{
    size_t nkeys;
    const gn_topic_config_key_t *keys = gn_topic_config_keys(&nkeys);
    size_t k;
    for (k = 0; k < nkeys; k++)
        if (strcmp(keys[k].name, e->name) == 0) break;
    if (k == nkeys || strcmp(keys[k].type, "list") != 0 || !e->value) return GN_EINVALID_CONFIG;
    char cur[64];
    if (gn_topic_config_get(&topic->config, e->name, cur, sizeof(cur)) < 0)
        return GN_EINVALID_CONFIG;
    gn_topic_config_t probe;
    gn_topic_config_defaults(&probe);
    int32_t bits_cur = 0, bits_arg = 0;
    if (gn_topic_config_set(&probe, e->name, cur) == 0) bits_cur = probe.cleanup_policy;
    if (gn_topic_config_set(&probe, e->name, e->value) < 0) return GN_EINVALID_CONFIG;
    bits_arg = probe.cleanup_policy;
    int32_t bits = op == GN_ALTER_APPEND ? (bits_cur | bits_arg) : (bits_cur & ~bits_arg);
    if (!bits) return GN_EINVALID_CONFIG; /* an empty cleanup.policy is not valid */
    snprintf(out, cap, "%s",
             bits == (GN_CLEANUP_COMPACT | GN_CLEANUP_DELETE) ? "compact,delete"
             : bits == GN_CLEANUP_COMPACT                     ? "compact"
                                                              : "delete");
    return 0;
}

/* The change as asked, one entry per key: value NULL removes it. APPEND and SUBTRACT
 * are resolved here, against this broker's view of the list. */
static int config_change(const gn_topic_t *topic, const gn_config_entry_t *e, gn_alter_op_t op,
                         char *buf, size_t cap, const char **value)
{
    switch (op) {
    case GN_ALTER_SET: /* AlterConfigs: a null value means "back to the default" */
        *value = e->value;
        return 0;
    case GN_ALTER_DELETE:
        *value = NULL;
        return 0;
    case GN_ALTER_APPEND:
    case GN_ALTER_SUBTRACT: {
        int rc = list_edit(topic, e, op, buf, cap);
        *value = buf;
        return rc;
    }
    default:
        return GN_EINVALID_CONFIG;
    }
}

/* The new overrides apply, and the live config changes in place, when the change is
 * applied (before cb runs); it is checked here against this broker's view. */
int gn_topic_alter_configs(gn_broker_t *broker, const char *name, const gn_config_entry_t *entries,
                           const gn_alter_op_t *ops, size_t count, bool replace_all,
                           bool validate_only, gn_admin_cb cb, void *arg)
{
    int rc;
    gn_config_entry_t *next = NULL, *chg = NULL;
    size_t nnext = 0;
    char(*bufs)[64] = NULL;
    persist_req_t *req = NULL;
    if (!broker || !name) return GN_EINVAL;
    if (broker->closing) return GN_ESHUTDOWN;
    gn_topic_t *topic = gn__topic_find(broker, name);
    if (!topic) return GN_EUNKNOWN_TOPIC;

    if (!replace_all &&
        (rc = overrides_copy(topic->overrides, topic->noverrides, &next, &nnext)) < 0)
        return rc;
    rc = GN_ENOMEM;
    chg = calloc(count ? count : 1, sizeof(*chg));
    bufs = calloc(count ? count : 1, sizeof(*bufs));
    if (!chg || !bufs) goto out;
    for (size_t i = 0; i < count; i++) {
        const gn_config_entry_t *e = &entries[i];
        gn_alter_op_t op = replace_all ? GN_ALTER_SET : (ops ? ops[i] : GN_ALTER_SET);
        rc = GN_EINVALID_CONFIG;
        if (!e->name || !known_key(e->name)) goto out;
        chg[i].name = e->name;
        if ((rc = config_change(topic, e, op, bufs[i], sizeof(bufs[i]), &chg[i].value)) < 0 ||
            (rc = overrides_put(&next, &nnext, e->name, chg[i].value)) < 0)
            goto out;
    }
    gn_topic_config_t cfg;
    if ((rc = gn__topic_effective_config(broker, next, nnext, &cfg)) < 0) goto out;
    if (validate_only) {
        rc = admin_later(broker, cb, arg, 0);
        goto out;
    }
    rc = GN_ENOMEM;
    if (!(req = persist_req_new(broker, "alter_configs", name, cb, arg))) goto out;
    gn_topic_record_t rec = topic_record(topic);
    rec.configs = next;
    rec.configs_count = nnext;
    rec.change = GN_TOPIC_SET_CONFIGS;
    rec.config_changes = chg;
    rec.config_changes_count = count;
    rec.configs_replace = replace_all;
    if ((rc = gn__metastore_put_topic(broker->meta, &rec, persisted, req)) < 0) goto out;
    req = NULL;
out:
    free(req);
    free(chg);
    free(bufs);
    overrides_free(next, nnext);
    return rc;
}

/* ---- describe / list ---- */

static void fill_info(const gn_topic_t *topic, gn_topic_info_t *info)
{
    info->name = topic->name;
    memcpy(info->id, topic->id, sizeof(info->id));
    info->partitions = topic->partitions;
    info->replication_factor = topic->replication_factor;
    info->internal = topic->internal;
    info->config = &topic->config;
    info->overrides = topic->overrides;
    info->overrides_count = topic->noverrides;
}

int gn_topic_describe(gn_broker_t *broker, const char *name, gn_topic_info_t *info)
{
    if (!broker || !name || !info) return GN_EINVAL;
    gn_topic_t *topic = gn__topic_find(broker, name);
    if (!topic) return GN_EUNKNOWN_TOPIC;
    fill_info(topic, info);
    return 0;
}

size_t gn_topic_list(gn_broker_t *broker, gn_topic_each_cb each, void *arg)
{
    if (!broker) return 0;
    size_t n = broker->ntopics;
    for (size_t i = 0; each && i < n && i < broker->ntopics; i++) {
        gn_topic_info_t info;
        fill_info(broker->topics[i], &info);
        each(arg, &info);
    }
    return n;
}
