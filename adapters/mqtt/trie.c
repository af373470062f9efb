/* SPDX-License-Identifier: Apache-2.0 */
/* The topic-filter trie: one node per filter level ("+" and "#" are nodes too), each
 * holding its plain subscriptions and its shared-subscription groups. A topic is
 * matched once per record by walking its levels, so the cost depends on the topic's
 * depth and the matching filters, not on the number of subscriptions. '$' topics are
 * not matched by a leading wildcard (MQTT 4.7.2). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "mqtt.h"

typedef struct trie_group {
    char *name;
    mqtt_sub_t **members;
    size_t n;
} trie_group_t;

typedef struct trie_node trie_node_t;
struct trie_node {
    char *level;
    trie_node_t **children;
    size_t nchildren;
    mqtt_sub_t **subs;
    size_t nsubs;
    trie_group_t *groups;
    size_t ngroups;
};

struct mqtt_trie {
    trie_node_t root;
};

mqtt_trie_t *mqtt__trie_new(void)
{
    return calloc(1, sizeof(mqtt_trie_t));
}

static void node_free(trie_node_t *n)
{
    for (size_t i = 0; i < n->nchildren; i++) {
        node_free(n->children[i]);
        free(n->children[i]);
    }
    for (size_t i = 0; i < n->ngroups; i++) {
        free(n->groups[i].name);
        free(n->groups[i].members);
    }
    free(n->children);
    free(n->subs);
    free(n->groups);
    free(n->level);
}

void mqtt__trie_free(mqtt_trie_t *t)
{
    if (!t) return;
    node_free(&t->root);
    free(t);
}

static trie_node_t *child(trie_node_t *n, const char *level, size_t len, bool create)
{
    for (size_t i = 0; i < n->nchildren; i++) {
        trie_node_t *c = n->children[i];
        if (strlen(c->level) == len && memcmp(c->level, level, len) == 0) return c;
    }
    if (!create) return NULL;
    trie_node_t **nc = realloc(n->children, (n->nchildren + 1) * sizeof(*nc));
    if (!nc) return NULL;
    n->children = nc;
    trie_node_t *c = calloc(1, sizeof(*c));
    if (!c || !(c->level = strndup(level, len))) {
        free(c);
        return NULL;
    }
    nc[n->nchildren++] = c;
    return c;
}

static trie_node_t *walk(mqtt_trie_t *t, const char *filter, bool create)
{
    trie_node_t *n = &t->root;
    const char *p = filter;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!(n = child(n, p, len, create))) return NULL;
        if (!slash) return n;
        p = slash + 1;
    }
}

static int ptr_push(mqtt_sub_t ***arr, size_t *n, mqtt_sub_t *sub)
{
    mqtt_sub_t **na = realloc(*arr, (*n + 1) * sizeof(*na));
    if (!na) return GN_ENOMEM;
    *arr = na;
    na[(*n)++] = sub;
    return 0;
}

static bool ptr_remove(mqtt_sub_t **arr, size_t *n, mqtt_sub_t *sub)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] != sub) continue;
        memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(*arr));
        (*n)--;
        return true;
    }
    return false;
}

int mqtt__trie_add(mqtt_trie_t *t, mqtt_sub_t *sub)
{
    trie_node_t *n = walk(t, sub->filter, true);
    if (!n) return GN_ENOMEM;
    if (!sub->share) return ptr_push(&n->subs, &n->nsubs, sub);
    for (size_t i = 0; i < n->ngroups; i++)
        if (strcmp(n->groups[i].name, sub->share) == 0)
            return ptr_push(&n->groups[i].members, &n->groups[i].n, sub);
    trie_group_t *ng = realloc(n->groups, (n->ngroups + 1) * sizeof(*ng));
    if (!ng) return GN_ENOMEM;
    n->groups = ng;
    trie_group_t *g = &ng[n->ngroups];
    memset(g, 0, sizeof(*g));
    if (!(g->name = strdup(sub->share))) return GN_ENOMEM;
    n->ngroups++;
    return ptr_push(&g->members, &g->n, sub);
}

static bool node_empty(const trie_node_t *n)
{
    return n->nsubs == 0 && n->ngroups == 0 && n->nchildren == 0;
}

/* Removes sub below n along filter p; drops nodes left empty on the way back up, so
 * that a departed "#" subscriber stops making every append look interesting. */
static void remove_at(trie_node_t *n, const char *p, mqtt_sub_t *sub)
{
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    trie_node_t *c = child(n, p, len, false);
    if (!c) return;
    if (slash) {
        remove_at(c, slash + 1, sub);
    } else if (!sub->share) {
        ptr_remove(c->subs, &c->nsubs, sub);
    } else {
        for (size_t i = 0; i < c->ngroups; i++) {
            trie_group_t *g = &c->groups[i];
            if (strcmp(g->name, sub->share) != 0) continue;
            ptr_remove(g->members, &g->n, sub);
            if (g->n == 0) {
                free(g->name);
                free(g->members);
                c->groups[i] = c->groups[--c->ngroups];
            }
            break;
        }
    }
    if (!node_empty(c)) return;
    for (size_t i = 0; i < n->nchildren; i++) {
        if (n->children[i] != c) continue;
        n->children[i] = n->children[--n->nchildren];
        break;
    }
    node_free(c);
    free(c);
}

void mqtt__trie_remove(mqtt_trie_t *t, mqtt_sub_t *sub)
{
    remove_at(&t->root, sub->filter, sub);
}

static void emit(trie_node_t *n, mqtt_match_cb cb, void *arg)
{
    for (size_t i = 0; i < n->nsubs; i++)
        cb(arg, n->subs[i]);
    /* shared groups: every online member; the caller keeps the one assigned the
     * record's partition */
    for (size_t i = 0; i < n->ngroups; i++) {
        trie_group_t *g = &n->groups[i];
        for (size_t k = 0; k < g->n; k++)
            if (g->members[k]->session->conn) cb(arg, g->members[k]);
    }
}

static void match(trie_node_t *n, const char *p, const char *end, bool first, mqtt_match_cb cb,
                  void *arg)
{
    const char *slash = memchr(p, '/', (size_t)(end - p));
    size_t len = slash ? (size_t)(slash - p) : (size_t)(end - p);
    bool dollar = first && len > 0 && p[0] == '$';
    for (size_t i = 0; i < n->nchildren; i++) {
        trie_node_t *c = n->children[i];
        if (c->level[0] == '#' && c->level[1] == 0) {
            if (!dollar) emit(c, cb, arg);
            continue;
        }
        bool plus = c->level[0] == '+' && c->level[1] == 0;
        if (plus ? dollar : (strlen(c->level) != len || memcmp(c->level, p, len) != 0)) continue;
        if (!slash) {
            emit(c, cb, arg);
            /* "a/#" also matches "a" */
            trie_node_t *h = child(c, "#", 1, false);
            if (h) emit(h, cb, arg);
        } else {
            match(c, slash + 1, end, false, cb, arg);
        }
    }
}

void mqtt__trie_match(mqtt_trie_t *t, gn_bytes_t topic, mqtt_match_cb cb, void *arg)
{
    const char *p = (const char *)topic.ptr;
    match(&t->root, p, p + topic.len, true, cb, arg);
}

bool mqtt__trie_may_match_first(mqtt_trie_t *t, const char *first)
{
    return child(&t->root, first, strlen(first), false) || child(&t->root, "+", 1, false) ||
           child(&t->root, "#", 1, false);
}

bool mqtt__filter_matches(const char *filter, gn_bytes_t topic)
{
    const char *f = filter;
    const char *p = (const char *)topic.ptr, *end = p + topic.len;
    if ((f[0] == '+' || f[0] == '#') && topic.len > 0 && p[0] == '$') return false;
    for (;;) {
        const char *fs = strchr(f, '/');
        size_t flen = fs ? (size_t)(fs - f) : strlen(f);
        if (flen == 1 && f[0] == '#') return true;
        const char *ts = memchr(p, '/', (size_t)(end - p));
        size_t tlen = ts ? (size_t)(ts - p) : (size_t)(end - p);
        if (!(flen == 1 && f[0] == '+') && (flen != tlen || memcmp(f, p, tlen) != 0)) return false;
        if (!fs && !ts) return true;
        if (!ts) return fs && strcmp(fs + 1, "#") == 0; /* "a/#" matches "a" */
        if (!fs) return false;
        f = fs + 1;
        p = ts + 1;
    }
}
