/* SPDX-License-Identifier: Apache-2.0 */
/* Committed offsets: the per-group table (sorted by topic, partition), OffsetCommit
 * (generation and member checks, simple commits for groups without members; durable
 * in __consumer_offsets before the answer), OffsetFetch for several groups,
 * OffsetDelete, and offsets.retention.minutes expiry. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "group/group_int.h"

int gn__group_check_commit(gn__group_t *g, const char *member_id, const char *instance_id,
                           int32_t generation); /* group.c */

static int tp_cmp(const char *ta, int32_t pa, const char *tb, int32_t pb)
{
    int c = strcmp(ta, tb);
    if (c) return c;
    return pa < pb ? -1 : pa > pb;
}

/* Index of (topic, partition) or of where it would be inserted. */
static size_t offset_search(gn__group_t *g, const char *topic, int32_t partition, bool *found)
{
    size_t lo = 0, hi = g->offsets_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = tp_cmp(g->offsets[mid].topic, g->offsets[mid].partition, topic, partition);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

gn__offset_t *gn__offset_find(gn__group_t *g, const char *topic, int32_t partition)
{
    bool found;
    size_t i = offset_search(g, topic, partition, &found);
    return found ? &g->offsets[i] : NULL;
}

int gn__offset_put(gn__group_t *g, const char *topic, int32_t partition, int64_t offset,
                   int32_t leader_epoch, const char *metadata, int64_t commit_ts)
{
    bool found;
    size_t i = offset_search(g, topic, partition, &found);
    char *meta = gn__group_strdup(metadata);
    if (metadata && !meta) return GN_ENOMEM;
    if (!found) {
        if (g->offsets_count == g->offsets_cap) {
            size_t cap = g->offsets_cap ? g->offsets_cap * 2 : 8;
            gn__offset_t *n = realloc(g->offsets, cap * sizeof(*n));
            if (!n) {
                free(meta);
                return GN_ENOMEM;
            }
            g->offsets = n;
            g->offsets_cap = cap;
        }
        char *t = strdup(topic);
        if (!t) {
            free(meta);
            return GN_ENOMEM;
        }
        memmove(&g->offsets[i + 1], &g->offsets[i], (g->offsets_count - i) * sizeof(gn__offset_t));
        g->offsets_count++;
        memset(&g->offsets[i], 0, sizeof(gn__offset_t));
        g->offsets[i].topic = t;
        g->offsets[i].partition = partition;
    }
    gn__offset_t *o = &g->offsets[i];
    free(o->metadata);
    o->metadata = meta;
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    o->commit_ts = commit_ts;
    return 0;
}

void gn__offset_remove(gn__group_t *g, const char *topic, int32_t partition)
{
    bool found;
    size_t i = offset_search(g, topic, partition, &found);
    if (!found) return;
    free(g->offsets[i].topic);
    free(g->offsets[i].metadata);
    memmove(&g->offsets[i], &g->offsets[i + 1], (g->offsets_count - i - 1) * sizeof(gn__offset_t));
    g->offsets_count--;
}

void gn__offsets_free(gn__group_t *g)
{
    for (size_t i = 0; i < g->offsets_count; i++) {
        free(g->offsets[i].topic);
        free(g->offsets[i].metadata);
    }
    free(g->offsets);
    g->offsets = NULL;
    g->offsets_count = g->offsets_cap = 0;
}

/* ---- OffsetCommit / OffsetDelete -------------------------------------------------- */

typedef struct commit_op {
    gn__op_t op;
    gn_group_commit_cb cb;
    void *arg;
    int status;
    gn__group_t *g; /* ref held while the append is in flight */
    bool delete;    /* OffsetDelete: tombstones */
    size_t count;
    gn_group_offset_t *res;
    bool *write; /* res[i] goes to the log */
    int64_t commit_ts;
    gn__arena_t ar;
} commit_op_t;

static void commit_op_free(commit_op_t *c)
{
    if (c->g) gn__group_unref(c->g);
    gn__arena_free(&c->ar);
    free(c);
}

static void commit_op_run(gn__op_t *op, int shutdown)
{
    commit_op_t *c = (commit_op_t *)op;
    if (shutdown)
        for (size_t i = 0; i < c->count; i++)
            c->res[i].error = GN_ESHUTDOWN;
    c->cb(c->arg, shutdown ? GN_ESHUTDOWN : c->status, c->res, c->count);
    commit_op_free(c);
}

static void on_commit_stored(void *arg, int status)
{
    commit_op_t *c = arg;
    gn__group_t *g = c->g;
    g->coord->store_inflight--;
    for (size_t i = 0; i < c->count; i++) {
        gn_group_offset_t *r = &c->res[i];
        if (!c->write[i]) continue;
        if (status) {
            r->error = status;
            continue;
        }
        if (g->state == GN_GROUP_DEAD) continue; /* deleted meanwhile */
        if (c->delete) {
            gn__offset_remove(g, r->topic, r->partition);
        } else {
            int rc = gn__offset_put(g, r->topic, r->partition, r->offset, r->leader_epoch,
                                    r->metadata, c->commit_ts);
            if (rc) r->error = rc;
        }
    }
    if (status)
        GN_WARN("group", "storing offsets failed | group=%s err=%s", g->id, gn_err_name(status));
    c->cb(c->arg, 0, c->res, c->count);
    commit_op_free(c);
}

static commit_op_t *commit_op_new(gn_group_commit_cb cb, void *arg,
                                  const gn_group_offset_t *offsets, size_t count)
{
    commit_op_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->op.run = commit_op_run;
    c->cb = cb;
    c->arg = arg;
    c->count = count;
    c->res = gn__arena_alloc(&c->ar, (count ? count : 1) * sizeof(*c->res));
    c->write = gn__arena_alloc(&c->ar, (count ? count : 1) * sizeof(bool));
    for (size_t i = 0; c->res && i < count; i++) {
        c->res[i] = offsets[i];
        c->res[i].topic = gn__arena_strdup(&c->ar, offsets[i].topic ? offsets[i].topic : "");
        c->res[i].metadata = gn__arena_strdup(&c->ar, offsets[i].metadata);
        c->res[i].error = 0;
    }
    if (c->ar.err) {
        commit_op_free(c);
        return NULL;
    }
    return c;
}

/* Writes the records of c (offset values or tombstones) in one batch. */
static int commit_append(gn_group_coordinator_t *coord, gn__group_t *g, commit_op_t *c)
{
    int rc = 0;
    size_t n = 0;
    gn_bytes_t *keys = calloc(c->count ? c->count : 1, sizeof(gn_bytes_t));
    gn_bytes_t *vals = calloc(c->count ? c->count : 1, sizeof(gn_bytes_t));
    gn__wr_t *kw = calloc(c->count ? c->count : 1, sizeof(gn__wr_t));
    gn__wr_t *vw = calloc(c->count ? c->count : 1, sizeof(gn__wr_t));
    if (!keys || !vals || !kw || !vw) {
        rc = GN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < c->count; i++) {
        if (!c->write[i]) continue;
        gn_group_offset_t *r = &c->res[i];
        gn__offset_t o = {(char *)r->topic, r->partition,        r->offset,
                          r->leader_epoch,  (char *)r->metadata, c->commit_ts};
        if ((rc = gn__offset_key_encode(&kw[n], g->id, r->topic, r->partition))) goto out;
        keys[n] = (gn_bytes_t){kw[n].buf, kw[n].len};
        if (!c->delete) {
            if ((rc = gn__offset_value_encode(&vw[n], &o))) goto out;
            vals[n] = (gn_bytes_t){vw[n].buf, vw[n].len};
        }
        n++;
    }
    if (n == 0) {
        gn__group_defer(coord, &c->op);
        goto out;
    }
    rc = coord->store->append(coord, g->id, keys, vals, n, on_commit_stored, c);
    if (rc == 0) {
        c->g = g;
        gn__group_ref(g);
        coord->store_inflight++;
    }
out:
    for (size_t i = 0; kw && vw && i < c->count; i++) {
        gn__wr_free(&kw[i]);
        gn__wr_free(&vw[i]);
    }
    free(kw);
    free(vw);
    free(keys);
    free(vals);
    return rc;
}

static void fail_all(commit_op_t *c, int status)
{
    c->status = status;
    for (size_t i = 0; i < c->count; i++)
        c->res[i].error = status;
}

int gn_group_commit(gn_group_coordinator_t *coord, const gn_group_commit_req_t *req,
                    gn_group_commit_cb cb, void *arg)
{
    if (!coord || !req || !cb || (req->count && !req->offsets)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    commit_op_t *c = commit_op_new(cb, arg, req->offsets, req->count);
    if (!c) return GN_ENOMEM;
    c->commit_ts = gn_now_ms();
    gn__group_t *g = NULL;
    int status = 0;
    if (!coord->ready) {
        status = GN_ECOORDINATOR_LOADING;
    } else if (!req->group_id || !*req->group_id) {
        status = GN_EINVALID_GROUP_ID;
    } else if ((status = gn__owner_check(coord, req->group_id))) {
        /* another broker coordinates it, or its partition is loading */
    } else if (!(g = gn__group_find(coord, req->group_id))) {
        if (req->generation_id >= 0) {
            status = GN_EILLEGAL_GENERATION;
        } else if (!(g = gn__group_get_or_create(coord, req->group_id))) {
            commit_op_free(c);
            return GN_ENOMEM;
        }
    }
    if (!status && g)
        status = gn__group_check_commit(g, req->member_id, req->instance_id, req->generation_id);
    if (status) {
        fail_all(c, status);
        gn__group_defer(coord, &c->op);
        return 0;
    }
    for (size_t i = 0; i < c->count; i++) {
        gn_group_offset_t *r = &c->res[i];
        if (r->metadata && strlen(r->metadata) > (size_t)coord->cfg.offset_metadata_max_bytes)
            r->error = GN_EOFFSET_METADATA_TOO_LARGE;
        else if (gn_topic_name_validate(r->topic, strlen(r->topic)) || r->partition < 0)
            r->error = GN_EUNKNOWN_TOPIC;
        else
            c->write[i] = true;
    }
    int rc = commit_append(coord, g, c);
    if (rc) {
        commit_op_free(c);
        return rc;
    }
    return 0;
}

int gn_group_offset_delete(gn_group_coordinator_t *coord, const char *group_id,
                           const gn_group_offset_t *offsets, size_t count, gn_group_commit_cb cb,
                           void *arg)
{
    if (!coord || !cb || (count && !offsets)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    commit_op_t *c = commit_op_new(cb, arg, offsets, count);
    if (!c) return GN_ENOMEM;
    c->delete = true;
    gn__group_t *g = NULL;
    int owner = gn__owner_check(coord, group_id);
    if (owner) {
        fail_all(c, owner);
    } else if (!group_id || !(g = gn__group_find(coord, group_id)) || g->state == GN_GROUP_DEAD) {
        fail_all(c, GN_EGROUP_ID_NOT_FOUND);
    } else if (g->state != GN_GROUP_EMPTY &&
               (!g->protocol_type || strcmp(g->protocol_type, GN_GROUP_CONSUMER_PROTOCOL))) {
        fail_all(c, GN_EGROUP_NOT_EMPTY);
    }
    if (c->status) {
        gn__group_defer(coord, &c->op);
        return 0;
    }
    for (size_t i = 0; i < c->count; i++) {
        gn_group_offset_t *r = &c->res[i];
        if (g->state != GN_GROUP_EMPTY && gn__group_subscribes(g, r->topic))
            r->error = GN_EGROUP_SUBSCRIBED_TO_TOPIC;
        else
            c->write[i] = gn__offset_find(g, r->topic, r->partition) != NULL;
    }
    int rc = commit_append(coord, g, c);
    if (rc) {
        commit_op_free(c);
        return rc;
    }
    return 0;
}

/* ---- OffsetFetch --------------------------------------------------------------------- */

typedef struct fetch_op {
    gn__op_t op;
    gn_group_fetch_cb cb;
    void *arg;
    int status;
    gn_group_fetch_res_t *groups;
    size_t count;
    gn__arena_t ar;
} fetch_op_t;

static void fetch_op_run(gn__op_t *op, int shutdown)
{
    fetch_op_t *f = (fetch_op_t *)op;
    int status = shutdown ? GN_ESHUTDOWN : f->status;
    if (!status && f->ar.err) status = f->ar.err;
    f->cb(f->arg, status, f->groups, status ? 0 : f->count);
    gn__arena_free(&f->ar);
    free(f);
}

static void fetch_fill(gn__arena_t *ar, gn_group_offset_t *r, const gn__offset_t *o,
                       const char *topic, int32_t partition)
{
    r->topic = gn__arena_strdup(ar, topic);
    r->partition = partition;
    r->offset = o ? o->offset : -1;
    r->leader_epoch = o ? o->leader_epoch : -1;
    r->metadata = o ? gn__arena_strdup(ar, o->metadata ? o->metadata : "") : "";
    r->error = 0;
}

int gn_group_fetch_offsets(gn_group_coordinator_t *coord, const gn_group_fetch_group_t *groups,
                           size_t count, gn_group_fetch_cb cb, void *arg)
{
    if (!coord || !cb || (count && !groups)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    fetch_op_t *f = calloc(1, sizeof(*f));
    if (!f) return GN_ENOMEM;
    f->op.run = fetch_op_run;
    f->cb = cb;
    f->arg = arg;
    f->count = count;
    f->groups = gn__arena_alloc(&f->ar, (count ? count : 1) * sizeof(*f->groups));
    for (size_t i = 0; f->groups && i < count; i++) {
        const gn_group_fetch_group_t *q = &groups[i];
        gn_group_fetch_res_t *r = &f->groups[i];
        r->group_id = gn__arena_strdup(&f->ar, q->group_id ? q->group_id : "");
        if (!coord->ready) {
            r->error = GN_ECOORDINATOR_LOADING;
            continue;
        }
        if (!q->group_id || !*q->group_id) {
            r->error = GN_EINVALID_GROUP_ID;
            continue;
        }
        if ((r->error = gn__owner_check(coord, q->group_id))) continue;
        gn__group_t *g = gn__group_find(coord, q->group_id);
        if (g && g->state == GN_GROUP_DEAD) g = NULL;
        size_t n = 0;
        if (q->topics) {
            for (size_t t = 0; t < q->topics_count; t++)
                n += q->topics[t].count;
        } else {
            n = g ? g->offsets_count : 0;
        }
        gn_group_offset_t *out = gn__arena_alloc(&f->ar, (n ? n : 1) * sizeof(*out));
        if (!out) break;
        size_t k = 0;
        if (q->topics) {
            for (size_t t = 0; t < q->topics_count; t++) {
                const gn_group_topic_partitions_t *tp = &q->topics[t];
                for (size_t p = 0; p < tp->count; p++) {
                    const gn__offset_t *o =
                        g ? gn__offset_find(g, tp->topic, tp->partitions[p]) : NULL;
                    fetch_fill(&f->ar, &out[k++], o, tp->topic, tp->partitions[p]);
                }
            }
        } else {
            for (size_t j = 0; j < n; j++)
                fetch_fill(&f->ar, &out[k++], &g->offsets[j], g->offsets[j].topic,
                           g->offsets[j].partition);
        }
        r->offsets = out;
        r->count = k;
    }
    gn__group_defer(coord, &f->op);
    return 0;
}

/* ---- offsets.retention.minutes ------------------------------------------------------ */

typedef struct expire_ctx {
    gn__group_t *g;
    bool delete_group;
} expire_ctx_t;

static void on_expired_stored(void *arg, int status)
{
    expire_ctx_t *e = arg;
    e->g->coord->store_inflight--;
    if (status)
        GN_WARN("group", "storing expired offsets failed | group=%s err=%s", e->g->id,
                gn_err_name(status));
    gn__group_unref(e->g);
    free(e);
}

/* Kafka 2.1+ (KIP-211): a group's offsets expire retention after the group became
 * Empty; offsets of a group that never had members expire by commit time. Groups
 * with members keep theirs. An Empty group left without offsets is deleted. */
void gn__offsets_expire(gn_group_coordinator_t *coord, int64_t now_ms)
{
    int64_t ret = coord->cfg.offsets_retention_ms;
    if (ret < 0) return;
    for (size_t b = 0; b < GN__GROUP_BUCKETS; b++) {
        gn__group_t *next;
        for (gn__group_t *g = coord->buckets[b]; g; g = next) {
            next = g->hnext;
            if (g->state != GN_GROUP_EMPTY) continue;
            size_t n = 0, cap = g->offsets_count + 1;
            gn__wr_t *kw = calloc(cap, sizeof(gn__wr_t));
            gn_bytes_t *keys = calloc(cap, sizeof(gn_bytes_t));
            gn_bytes_t *vals = calloc(cap, sizeof(gn_bytes_t));
            if (!kw || !keys || !vals) goto next_group;
            for (size_t i = 0; i < g->offsets_count;) {
                gn__offset_t *o = &g->offsets[i];
                int64_t base = g->protocol_type
                                   ? (g->state_ts > o->commit_ts ? g->state_ts : o->commit_ts)
                                   : o->commit_ts;
                if (now_ms - base < ret) {
                    i++;
                    continue;
                }
                if (gn__offset_key_encode(&kw[n], g->id, o->topic, o->partition) == 0) {
                    keys[n] = (gn_bytes_t){kw[n].buf, kw[n].len};
                    n++;
                }
                gn__offset_remove(g, o->topic, o->partition);
            }
            bool delete_group = g->offsets_count == 0 && !g->members && !g->pending;
            if (delete_group && g->protocol_type && gn__group_key_encode(&kw[n], g->id) == 0) {
                keys[n] = (gn_bytes_t){kw[n].buf, kw[n].len};
                n++;
            }
            if (n) {
                GN_INFO("group", "expired offsets | group=%s records=%zu", g->id, n);
                expire_ctx_t *e = calloc(1, sizeof(*e));
                if (e) {
                    e->g = g;
                    if (coord->store->append(coord, g->id, keys, vals, n, on_expired_stored, e) ==
                        0) {
                        gn__group_ref(g);
                        coord->store_inflight++;
                    } else {
                        free(e);
                    }
                }
            }
            if (delete_group) gn__group_remove(g);
        next_group:
            for (size_t i = 0; kw && i < cap; i++)
                gn__wr_free(&kw[i]);
            free(kw);
            free(keys);
            free(vals);
        }
    }
}
