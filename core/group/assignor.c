/* SPDX-License-Identifier: Apache-2.0 */
/* The eager assignors the gateway offers, computing what Kafka's Java RangeAssignor
 * and RoundRobinAssignor compute (members ordered as AbstractPartitionAssignor's
 * MemberInfo: static members by instance id first, then dynamic ones by member id).
 * kafkajs's RoundRobinAssigner is served by the round-robin algorithm: with equal
 * subscriptions (its assumption) the result is the same. Pure code. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "group/group_int.h"

static int member_cmp(const void *a, const void *b)
{
    const gn__assign_member_t *x = *(gn__assign_member_t *const *)a;
    const gn__assign_member_t *y = *(gn__assign_member_t *const *)b;
    if (x->instance_id && y->instance_id) return strcmp(x->instance_id, y->instance_id);
    if (x->instance_id) return -1;
    if (y->instance_id) return 1;
    return strcmp(x->member_id, y->member_id);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool subscribes(const gn__assign_member_t *m, const char *topic)
{
    for (size_t i = 0; i < m->topics_count; i++)
        if (strcmp(m->topics[i], topic) == 0) return true;
    return false;
}

/* Sorted, de-duplicated union of every subscription (borrowed strings). */
static const char **all_topics(gn__assign_member_t *members, size_t n, size_t *count)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += members[i].topics_count;
    const char **t = malloc((total ? total : 1) * sizeof(char *));
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < members[i].topics_count; j++)
            t[k++] = members[i].topics[j];
    qsort(t, k, sizeof(char *), str_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(t[u - 1], t[i]) != 0) t[u++] = t[i];
    *count = u;
    return t;
}

/* Appends partition p of topic to m's output; topics arrive in sorted order, so
 * the last output topic is the only one to compare with. */
static int add_partition(gn__assign_member_t *m, const char *topic, int32_t p)
{
    gn__assignment_t *a = &m->out;
    gn__assigned_topic_t *t = a->topics_count ? &a->topics[a->topics_count - 1] : NULL;
    if (!t || strcmp(t->topic, topic) != 0) {
        gn__assigned_topic_t *nt = realloc(a->topics, (a->topics_count + 1) * sizeof(*nt));
        if (!nt) return GN_ENOMEM;
        a->topics = nt;
        t = &a->topics[a->topics_count];
        memset(t, 0, sizeof(*t));
        if (!(t->topic = strdup(topic))) return GN_ENOMEM;
        a->topics_count++;
    }
    int32_t *np = realloc(t->partitions, (t->count + 1) * sizeof(int32_t));
    if (!np) return GN_ENOMEM;
    t->partitions = np;
    t->partitions[t->count++] = p;
    return 0;
}

static gn__assign_member_t **sorted_members(gn__assign_member_t *members, size_t n)
{
    gn__assign_member_t **s = malloc((n ? n : 1) * sizeof(*s));
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        s[i] = &members[i];
        memset(&members[i].out, 0, sizeof(members[i].out));
        members[i].out.version = 0;
    }
    qsort(s, n, sizeof(*s), member_cmp);
    return s;
}

int gn__assign_range(gn__assign_member_t *members, size_t n, gn__partitions_fn parts, void *arg)
{
    int rc = 0;
    size_t ntopics = 0;
    gn__assign_member_t **sorted = sorted_members(members, n);
    const char **topics = all_topics(members, n, &ntopics);
    gn__assign_member_t **subs = malloc((n ? n : 1) * sizeof(*subs));
    if (!sorted || !topics || !subs) {
        rc = GN_ENOMEM;
        goto out;
    }
    for (size_t t = 0; t < ntopics; t++) {
        int32_t np = parts(arg, topics[t]);
        if (np <= 0) continue;
        size_t ns = 0;
        for (size_t i = 0; i < n; i++)
            if (subscribes(sorted[i], topics[t])) subs[ns++] = sorted[i];
        if (ns == 0) continue;
        int32_t per = np / (int32_t)ns, extra = np % (int32_t)ns;
        for (int32_t i = 0; i < (int32_t)ns; i++) {
            int32_t start = per * i + (i < extra ? i : extra);
            int32_t len = per + (i + 1 > extra ? 0 : 1);
            for (int32_t p = start; p < start + len; p++)
                if ((rc = add_partition(subs[i], topics[t], p))) goto out;
        }
    }
out:
    free(subs);
    free(topics);
    free(sorted);
    return rc;
}

int gn__assign_roundrobin(gn__assign_member_t *members, size_t n, gn__partitions_fn parts,
                          void *arg)
{
    int rc = 0;
    size_t ntopics = 0, next = 0;
    gn__assign_member_t **sorted = sorted_members(members, n);
    const char **topics = all_topics(members, n, &ntopics);
    if (!sorted || !topics) {
        rc = GN_ENOMEM;
        goto out;
    }
    if (n == 0) goto out;
    for (size_t t = 0; t < ntopics; t++) {
        int32_t np = parts(arg, topics[t]);
        for (int32_t p = 0; p < np; p++) {
            /* Kafka's CircularIterator: skip members not subscribed to the topic;
             * the topic comes from someone's subscription, so one matches. */
            while (!subscribes(sorted[next], topics[t]))
                next = (next + 1) % n;
            if ((rc = add_partition(sorted[next], topics[t], p))) goto out;
            next = (next + 1) % n;
        }
    }
out:
    free(topics);
    free(sorted);
    return rc;
}

gn__assign_fn gn__assignor_find(const char *name)
{
    if (!name) return NULL;
    if (strcmp(name, GN_ASSIGNOR_RANGE) == 0) return gn__assign_range;
    if (strcmp(name, GN_ASSIGNOR_ROUNDROBIN) == 0 ||
        strcmp(name, GN_ASSIGNOR_KAFKAJS_ROUNDROBIN) == 0)
        return gn__assign_roundrobin;
    return NULL;
}
