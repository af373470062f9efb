/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata image: the state every broker builds by applying the committed records
 * of the metadata log, in order (README.md lists the record types). A jansson document,
 * so that a raft snapshot is its serialization. Loop thread (the raft fsm callbacks). */
#include <stdio.h>
#include <string.h>

#include "acl/acl_internal.h"
#include "cluster/cluster.h"
#include "ganglion/error.h"
#include "ganglion/topic.h"

json_t *gn__image_new(void)
{
    return json_pack("{s:{}, s:{}, s:I}", "brokers", "topics", "next_producer_id", (json_int_t)0);
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static bool int_in(const json_t *rec, const char *key, json_int_t lo, json_int_t hi, json_int_t *v)
{
    json_t *j = json_object_get(rec, key);
    if (!json_is_integer(j)) return false;
    *v = json_integer_value(j);
    return *v >= lo && *v <= hi;
}

static bool is_id_array(const json_t *a)
{
    if (!json_is_array(a)) return false;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (!json_is_integer(v)) return false;
    return true;
}

/* A block of producer ids for a broker: it starts at the image's next id (or at the
 * record's "first", a floor, when higher); the broker finds it by its "request" nonce. */
static int apply_producer_ids(json_t *image, const json_t *rec)
{
    json_int_t broker, first = 0, size, request = 0;
    json_int_t next = json_integer_value(json_object_get(image, "next_producer_id"));
    char key[16];
    if (!int_in(rec, "broker", 0, INT32_MAX, &broker) ||
        !int_in(rec, "size", 1, INT32_MAX, &size) ||
        (json_object_get(rec, "first") && !int_in(rec, "first", 0, INT64_MAX / 2, &first)) ||
        (json_object_get(rec, "request") && !int_in(rec, "request", 0, INT64_MAX, &request)))
        return GN_EINVAL;
    if (first < next) first = next;
    if (first > INT64_MAX / 2) return GN_EINVAL;
    json_t *blocks = json_object_get(image, "producer_id_blocks");
    if (!blocks) json_object_set_new(image, "producer_id_blocks", blocks = json_object());
    snprintf(key, sizeof(key), "%lld", (long long)broker);
    json_object_set_new(
        blocks, key,
        json_pack("{s:I, s:I, s:I}", "first", first, "size", size, "request", request));
    json_object_set_new(image, "next_producer_id", json_integer(first + size));
    return 0;
}

static int apply_broker(json_t *image, const json_t *rec, const char *type)
{
    json_int_t id, port = 0;
    char key[16];
    if (!int_in(rec, "id", 0, INT32_MAX, &id)) return GN_EINVAL;
    snprintf(key, sizeof(key), "%lld", (long long)id);
    json_t *brokers = json_object_get(image, "brokers");
    json_t *b = json_object_get(brokers, key);
    if (strcmp(type, "broker_registered") == 0) {
        const char *host = str(rec, "host");
        if (!host || !int_in(rec, "port", 0, 65535, &port)) return GN_EINVAL;
        json_int_t epoch = b ? json_integer_value(json_object_get(b, "epoch")) + 1 : 1;
        const char *listener = str(rec, "listener"), *incarnation = str(rec, "incarnation");
        json_t *nb =
            json_pack("{s:I, s:s, s:I, s:s, s:I, s:b}", "id", id, "host", host, "port", port,
                      "listener", listener ? listener : "", "epoch", epoch, "fenced", 0);
        if (nb && incarnation) json_object_set_new(nb, "incarnation", json_string(incarnation));
        json_int_t tls_port; /* absent before TLS listeners, and without one */
        if (nb && int_in(rec, "tls_port", 1, 65535, &tls_port))
            json_object_set_new(nb, "tls_port", json_integer(tls_port));
        if (!nb) return GN_ENOMEM;
        return json_object_set_new(brokers, key, nb) < 0 ? GN_ENOMEM : 0;
    }
    if (!b) return GN_EINVAL;
    /* a fence naming a registration epoch is for that registration only: proposed for a
     * previous incarnation and committed after the broker registered again, it changes
     * nothing (no "epoch": whatever registration is current, as older logs have it) */
    json_int_t epoch;
    if (json_object_get(rec, "epoch")) {
        if (!int_in(rec, "epoch", 1, INT64_MAX, &epoch)) return GN_EINVAL;
        if (epoch != json_integer_value(json_object_get(b, "epoch"))) return 0;
    }
    bool fenced = strcmp(type, "broker_fenced") == 0;
    json_object_set_new(b, "fenced", json_boolean(fenced));
    /* fenced at its own request (a controlled shutdown): it still runs, handing over */
    json_object_set_new(b, "shutdown",
                        json_boolean(fenced && json_is_true(json_object_get(rec, "shutdown"))));
    return 0;
}

/* Partition states of a topic record: kept for partitions the image knows, made from
 * the replica assignment ("replicas", [[ids]...]) for new ones. */
static int merge_partitions(json_t *nt, const json_t *old, const json_t *rec, json_int_t n)
{
    json_t *parts = json_array();
    const json_t *oldparts = old ? json_object_get(old, "states") : NULL;
    const json_t *assign = json_object_get(rec, "replicas");
    if (!parts) return GN_ENOMEM;
    for (json_int_t p = 0; p < n; p++) {
        json_t *st = json_array_get(oldparts, (size_t)p);
        if (st) {
            json_array_append(parts, st);
            continue;
        }
        json_t *replicas = json_array_get(assign, (size_t)p);
        replicas = is_id_array(replicas) ? json_deep_copy(replicas) : json_array();
        json_t *leader = json_array_get(replicas, 0);
        st = json_pack("{s:o, s:I, s:I, s:O}", "replicas", replicas, "leader",
                       leader ? json_integer_value(leader) : (json_int_t)-1, "leader_epoch",
                       (json_int_t)0, "isr", replicas);
        if (!st) {
            json_decref(parts);
            return GN_ENOMEM;
        }
        json_array_append_new(parts, st);
    }
    json_object_set_new(nt, "states", parts);
    return 0;
}

/* Puts name = {id, n, rf, cfg (taken)} with its partition states (kept from old). */
static int put_topic(json_t *topics, const char *name, const char *id, json_int_t n, json_int_t rf,
                     json_t *cfg, const json_t *old, const json_t *rec)
{
    json_t *nt = json_pack("{s:s, s:I, s:I, s:o}", "id", id, "partitions", n, "replication_factor",
                           rf, "configs", cfg); /* "o" takes cfg, even on failure */
    if (!nt) return GN_ENOMEM;
    int rc = merge_partitions(nt, old, rec, n);
    if (rc == 0 && json_object_set_new(topics, name, nt) < 0) return GN_ENOMEM;
    if (rc < 0) json_decref(nt);
    return rc;
}

/* Kafka refuses a name that equals an existing one once '.' and '_' are the same. */
static bool name_collides(const json_t *topics, const char *name)
{
    const char *key;
    json_t *t;
    if (!strpbrk(name, "._")) return false;
    json_object_foreach((json_t *)topics, key,
                        t) if (gn_topic_name_collides(key, name)) return true;
    return false;
}

/* The topic a change names: GN_EUNKNOWN_TOPIC when the name is gone or is another
 * incarnation (another id) now. */
static const json_t *named_topic(const json_t *topics, const json_t *rec, const char **name)
{
    const char *id = str(rec, "id");
    *name = str(rec, "name");
    const json_t *t = *name ? json_object_get(topics, *name) : NULL;
    if (!t || !id || strcmp(str(t, "id"), id) != 0) return NULL;
    return t;
}

/* op "create": refused when the name exists (or collides); no op: an older broker's
 * create-or-replace, applied as it always was. */
static int apply_topic_create(json_t *topics, const json_t *rec, bool conditional)
{
    const char *name = str(rec, "name"), *id = str(rec, "id");
    json_int_t n, rf;
    json_t *configs = json_object_get(rec, "configs");
    if (!name || !id || !int_in(rec, "partitions", 1, GN_TOPIC_PARTITIONS_MAX, &n) ||
        !int_in(rec, "replication_factor", 1, INT16_MAX, &rf) ||
        (configs && !json_is_object(configs)))
        return GN_EINVAL;
    const json_t *old = json_object_get(topics, name);
    if (conditional && old) return GN_ETOPIC_EXISTS;
    if (conditional && name_collides(topics, name)) return GN_EINVALID_TOPIC;
    /* a re-created topic (another id) starts afresh */
    if (old && strcmp(str(old, "id"), id) != 0) old = NULL;
    return put_topic(topics, name, id, n, rf, configs ? json_deep_copy(configs) : json_object(),
                     old, rec);
}

/* op "partitions": the topic (same id) grows to "partitions"; not more than it has now is
 * GN_EINVALID_PARTITIONS (a concurrent increase got there first). */
static int apply_topic_partitions(json_t *topics, const json_t *rec)
{
    const char *name;
    json_int_t n;
    if (!int_in(rec, "partitions", 1, GN_TOPIC_PARTITIONS_MAX, &n)) return GN_EINVAL;
    const json_t *old = named_topic(topics, rec, &name);
    if (!old) return GN_EUNKNOWN_TOPIC;
    if (n <= json_integer_value(json_object_get(old, "partitions"))) return GN_EINVALID_PARTITIONS;
    json_incref((json_t *)old); /* replaced below while its states are copied */
    int rc = put_topic(topics, name, str(old, "id"), n,
                       json_integer_value(json_object_get(old, "replication_factor")),
                       json_deep_copy(json_object_get(old, "configs")), old, rec);
    json_decref((json_t *)old);
    return rc;
}

/* op "configs": "replace" (all overrides become "set") or a delta on the image's own
 * overrides ("delete" [keys], then "set" {key: value}), so concurrent changes of other
 * keys are kept. The values were validated by the proposer. */
static int apply_topic_configs(json_t *topics, const json_t *rec)
{
    const char *name, *key;
    json_t *set = json_object_get(rec, "set"), *del = json_object_get(rec, "delete"), *v;
    size_t i;
    if ((set && !json_is_object(set)) || (del && !json_is_array(del))) return GN_EINVAL;
    json_object_foreach(set, key, v) if (!json_is_string(v)) return GN_EINVAL;
    json_array_foreach(del, i, v) if (!json_is_string(v)) return GN_EINVAL;
    json_t *t = (json_t *)named_topic(topics, rec, &name);
    if (!t) return GN_EUNKNOWN_TOPIC;
    json_t *cfg = json_is_true(json_object_get(rec, "replace"))
                      ? json_object()
                      : json_deep_copy(json_object_get(t, "configs"));
    if (!cfg) return GN_ENOMEM;
    json_array_foreach(del, i, v) json_object_del(cfg, json_string_value(v));
    if (set && json_object_update(cfg, set) < 0) {
        json_decref(cfg);
        return GN_ENOMEM;
    }
    return json_object_set_new(t, "configs", cfg) < 0 ? GN_ENOMEM : 0;
}

static int apply_topic(json_t *image, const json_t *rec)
{
    json_t *topics = json_object_get(image, "topics");
    const char *op = str(rec, "op");
    if (!str(rec, "name")) return GN_EINVAL;
    if (!op) return apply_topic_create(topics, rec, false);
    if (strcmp(op, "create") == 0) return apply_topic_create(topics, rec, true);
    if (strcmp(op, "partitions") == 0) return apply_topic_partitions(topics, rec);
    if (strcmp(op, "configs") == 0) return apply_topic_configs(topics, rec);
    return GN_EINVAL;
}

/* By name; with "id" only that incarnation (GN_EUNKNOWN_TOPIC when it is gone). */
static int apply_topic_deleted(json_t *image, const json_t *rec)
{
    json_t *topics = json_object_get(image, "topics");
    const char *name = str(rec, "name");
    if (!name) return GN_EINVAL;
    if (json_object_get(rec, "id")) {
        if (!named_topic(topics, rec, &name)) return GN_EUNKNOWN_TOPIC;
    } else if (!json_object_get(topics, name)) {
        return GN_EUNKNOWN_TOPIC;
    }
    return json_object_del(topics, name) < 0 ? GN_ENOMEM : 0;
}

static int apply_partition(json_t *image, const json_t *rec)
{
    const char *name = str(rec, "topic");
    json_int_t p, leader, epoch;
    json_t *isr = json_object_get(rec, "isr");
    if (!name || !int_in(rec, "partition", 0, INT32_MAX, &p) ||
        !int_in(rec, "leader", -1, INT32_MAX, &leader) ||
        !int_in(rec, "leader_epoch", 0, INT32_MAX, &epoch) || !is_id_array(isr))
        return GN_EINVAL;
    json_t *t = json_object_get(json_object_get(image, "topics"), name);
    json_t *st = json_array_get(json_object_get(t, "states"), (size_t)p);
    if (!st) return GN_EINVAL; /* deleted meanwhile */
    json_object_set_new(st, "leader", json_integer(leader));
    json_object_set_new(st, "leader_epoch", json_integer(epoch));
    json_object_set(st, "isr", isr);
    return 0;
}

bool gn__image_refusal(int status)
{
    return status == GN_ETOPIC_EXISTS || status == GN_EUNKNOWN_TOPIC ||
           status == GN_EINVALID_PARTITIONS || status == GN_EINVALID_TOPIC;
}

int gn__image_apply(json_t *image, const json_t *record)
{
    const char *type = str(record, "type");
    if (!type) return GN_EINVAL;
    if (strcmp(type, "broker_registered") == 0 || strcmp(type, "broker_fenced") == 0 ||
        strcmp(type, "broker_unfenced") == 0)
        return apply_broker(image, record, type);
    if (strcmp(type, "topic") == 0) return apply_topic(image, record);
    if (strcmp(type, "topic_deleted") == 0) return apply_topic_deleted(image, record);
    if (strcmp(type, "partition") == 0) return apply_partition(image, record);
    if (strcmp(type, "cluster_id") == 0) { /* the first one wins: ids never change */
        const char *id = str(record, "id");
        if (!id || !id[0] || strlen(id) > 64) return GN_EINVAL;
        if (!json_object_get(image, "cluster_id"))
            json_object_set_new(image, "cluster_id", json_string(id));
        return 0;
    }
    if (strcmp(type, "producer_ids") == 0) return apply_producer_ids(image, record);
    if (strcmp(type, "acl") == 0) return gn__acl_image_apply(image, record);
    return GN_EINVAL; /* unknown type: a newer broker's record; ignored */
}
