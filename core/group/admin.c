/* SPDX-License-Identifier: Apache-2.0 */
/* Group administration: ListGroups (with state filter), DescribeGroups (members,
 * metadata and assignments, state, protocol) and DeleteGroups (tombstones for the
 * group and its offsets). Answers are snapshots handed to the callback on the next
 * loop turn. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "group/group_int.h"

/* ---- ListGroups ---------------------------------------------------------------------- */

typedef struct list_op {
    gn__op_t op;
    gn_group_list_cb cb;
    void *arg;
    int status;
    gn_group_listing_t *groups;
    size_t count;
    gn__arena_t ar;
} list_op_t;

static void list_op_run(gn__op_t *op, int shutdown)
{
    list_op_t *l = (list_op_t *)op;
    int status = shutdown ? GN_ESHUTDOWN : (l->status ? l->status : l->ar.err);
    l->cb(l->arg, status, l->groups, status ? 0 : l->count);
    gn__arena_free(&l->ar);
    free(l);
}

int gn_group_list(gn_group_coordinator_t *coord, const gn_group_state_t *states,
                  size_t states_count, gn_group_list_cb cb, void *arg)
{
    if (!coord || !cb || (states_count && !states)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    list_op_t *l = calloc(1, sizeof(*l));
    if (!l) return GN_ENOMEM;
    l->op.run = list_op_run;
    l->cb = cb;
    l->arg = arg;
    if (gn__owner_loading(coord)) {
        l->status = GN_ECOORDINATOR_LOADING;
    } else { /* the groups this broker coordinates (Kafka clients ask every broker) */
        l->groups = gn__arena_alloc(&l->ar, (coord->groups_count + 1) * sizeof(*l->groups));
        for (size_t b = 0; l->groups && b < GN__GROUP_BUCKETS; b++) {
            for (gn__group_t *g = coord->buckets[b]; g; g = g->hnext) {
                bool keep = states_count == 0;
                for (size_t i = 0; i < states_count && !keep; i++)
                    keep = states[i] == g->state;
                if (!keep || g->state == GN_GROUP_DEAD) continue;
                gn_group_listing_t *o = &l->groups[l->count++];
                o->group_id = gn__arena_strdup(&l->ar, g->id);
                o->protocol_type =
                    gn__arena_strdup(&l->ar, g->protocol_type ? g->protocol_type : "");
                o->state = g->state;
            }
        }
    }
    gn__group_defer(coord, &l->op);
    return 0;
}

/* ---- DescribeGroups ------------------------------------------------------------------ */

typedef struct describe_op {
    gn__op_t op;
    gn_group_describe_cb cb;
    void *arg;
    int status;
    gn_group_desc_t *groups;
    size_t count;
    gn__arena_t ar;
} describe_op_t;

static void describe_op_run(gn__op_t *op, int shutdown)
{
    describe_op_t *d = (describe_op_t *)op;
    int status = shutdown ? GN_ESHUTDOWN : (d->status ? d->status : d->ar.err);
    d->cb(d->arg, status, d->groups, status ? 0 : d->count);
    gn__arena_free(&d->ar);
    free(d);
}

static void describe_one(gn_group_coordinator_t *coord, gn__arena_t *ar, const char *id,
                         gn_group_desc_t *out)
{
    out->group_id = gn__arena_strdup(ar, id ? id : "");
    out->protocol_type = "";
    out->protocol_name = "";
    out->state = GN_GROUP_DEAD;
    out->generation_id = -1;
    if ((out->error = gn__owner_check(coord, id))) return;
    gn__group_t *g = id ? gn__group_find(coord, id) : NULL;
    if (!g) return; /* Kafka answers Dead, no error, for an unknown group */
    out->state = g->state;
    out->generation_id = g->generation;
    out->protocol_type = gn__arena_strdup(ar, g->protocol_type ? g->protocol_type : "");
    bool chosen = g->state == GN_GROUP_STABLE || g->state == GN_GROUP_COMPLETING_REBALANCE;
    out->protocol_name = chosen && g->protocol_name ? gn__arena_strdup(ar, g->protocol_name) : "";
    if (!g->members_count) return;
    gn_group_member_desc_t *ms = gn__arena_alloc(ar, g->members_count * sizeof(*ms));
    if (!ms) return;
    size_t k = 0;
    for (gn__member_t *m = g->members; m; m = m->next, k++) {
        gn_group_member_desc_t *d = &ms[k];
        d->member_id = gn__arena_strdup(ar, m->member_id);
        d->instance_id = gn__arena_strdup(ar, m->instance_id);
        d->client_id = gn__arena_strdup(ar, m->client_id ? m->client_id : "");
        d->client_host = gn__arena_strdup(ar, m->client_host ? m->client_host : "");
        d->metadata = gn__arena_bytes(ar, NULL, 0);
        d->assignment = gn__arena_bytes(ar, NULL, 0);
        if (chosen) {
            for (size_t i = 0; i < m->protos_count; i++)
                if (g->protocol_name && strcmp(m->protos[i].name, g->protocol_name) == 0)
                    d->metadata = gn__arena_bytes(ar, m->protos[i].meta, m->protos[i].meta_len);
        }
        if (g->state == GN_GROUP_STABLE)
            d->assignment = gn__arena_bytes(ar, m->assignment, m->assignment_len);
    }
    out->members = ms;
    out->members_count = k;
}

int gn_group_describe(gn_group_coordinator_t *coord, const char *const *group_ids, size_t count,
                      gn_group_describe_cb cb, void *arg)
{
    if (!coord || !cb || (count && !group_ids)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    describe_op_t *d = calloc(1, sizeof(*d));
    if (!d) return GN_ENOMEM;
    d->op.run = describe_op_run;
    d->cb = cb;
    d->arg = arg;
    d->count = count;
    d->groups = gn__arena_alloc(&d->ar, (count ? count : 1) * sizeof(*d->groups));
    for (size_t i = 0; d->groups && i < count; i++)
        describe_one(coord, &d->ar, group_ids[i], &d->groups[i]);
    gn__group_defer(coord, &d->op);
    return 0;
}

/* ---- DeleteGroups -------------------------------------------------------------------- */

typedef struct delete_op {
    gn__op_t op;
    gn_group_errors_cb cb;
    void *arg;
    int status;
    size_t count;
    size_t waiting; /* appends in flight */
    int errors[];
} delete_op_t;

typedef struct delete_one {
    gn_group_coordinator_t *coord;
    delete_op_t *d;
    size_t index;
} delete_one_t;

static void delete_op_run(gn__op_t *op, int shutdown)
{
    delete_op_t *d = (delete_op_t *)op;
    if (shutdown)
        for (size_t i = 0; i < d->count; i++)
            d->errors[i] = GN_ESHUTDOWN;
    d->cb(d->arg, shutdown ? GN_ESHUTDOWN : d->status, d->errors, d->count);
    free(d);
}

static void on_delete_stored(void *arg, int status)
{
    delete_one_t *one = arg;
    delete_op_t *d = one->d;
    one->coord->store_inflight--;
    if (status) d->errors[one->index] = status;
    free(one);
    if (--d->waiting == 0) delete_op_run(&d->op, 0);
}

int gn_group_delete(gn_group_coordinator_t *coord, const char *const *group_ids, size_t count,
                    gn_group_errors_cb cb, void *arg)
{
    if (!coord || !cb || (count && !group_ids)) return GN_EINVAL;
    if (coord->closing) return GN_ESHUTDOWN;
    delete_op_t *d = calloc(1, sizeof(*d) + count * sizeof(int));
    if (!d) return GN_ENOMEM;
    d->op.run = delete_op_run;
    d->cb = cb;
    d->arg = arg;
    d->count = count;
    d->waiting = 1; /* released below, so no store callback can finish d early */
    for (size_t i = 0; i < count; i++) {
        if ((d->errors[i] = gn__owner_check(coord, group_ids[i]))) continue;
        gn__group_t *g = group_ids[i] ? gn__group_find(coord, group_ids[i]) : NULL;
        if (!g || g->state == GN_GROUP_DEAD) {
            d->errors[i] = GN_EGROUP_ID_NOT_FOUND;
            continue;
        }
        if (g->state != GN_GROUP_EMPTY) {
            d->errors[i] = GN_EGROUP_NOT_EMPTY;
            continue;
        }
        /* tombstones: every offset, then the group */
        size_t n = g->offsets_count + 1;
        gn__wr_t *kw = calloc(n, sizeof(gn__wr_t));
        gn_bytes_t *keys = calloc(n, sizeof(gn_bytes_t));
        gn_bytes_t *vals = calloc(n, sizeof(gn_bytes_t));
        delete_one_t *one = calloc(1, sizeof(*one));
        int rc = (!kw || !keys || !vals || !one) ? GN_ENOMEM : 0;
        for (size_t j = 0; !rc && j < g->offsets_count; j++) {
            rc = gn__offset_key_encode(&kw[j], g->id, g->offsets[j].topic, g->offsets[j].partition);
            keys[j] = (gn_bytes_t){kw[j].buf, kw[j].len};
        }
        if (!rc) rc = gn__group_key_encode(&kw[n - 1], g->id);
        if (!rc) {
            keys[n - 1] = (gn_bytes_t){kw[n - 1].buf, kw[n - 1].len};
            one->coord = coord;
            one->d = d;
            one->index = i;
            rc = coord->store->append(coord, g->id, keys, vals, n, on_delete_stored, one);
        }
        if (rc == 0) {
            one = NULL;
            d->waiting++;
            coord->store_inflight++;
            GN_INFO("group", "group deleted | group=%s offsets=%zu", g->id, g->offsets_count);
            gn__group_remove(g);
        } else {
            d->errors[i] = rc;
        }
        for (size_t j = 0; kw && j < n; j++)
            gn__wr_free(&kw[j]);
        free(kw);
        free(keys);
        free(vals);
        free(one);
    }
    if (--d->waiting == 0) gn__group_defer(coord, &d->op);
    return 0;
}
