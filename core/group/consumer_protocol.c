/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's ConsumerProtocol bytes, carried opaquely in JoinGroup/SyncGroup:
 * Subscription (version int16, topics [string], user_data bytes, v1+: owned
 * partitions [topic, [int32]], v2+: generation int32, v3+: rack string) and
 * Assignment (version int16, [topic, [int32]], user_data bytes). Decoding reads the
 * fields every version shares and ignores what follows, as Kafka's readers do for
 * newer versions. Pure code; every read bounds-checked. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "group/group_int.h"

static char *dup_bytes(gn_bytes_t b)
{
    char *s = malloc(b.len + 1);
    if (!s) return NULL;
    if (b.len) memcpy(s, b.ptr, b.len);
    s[b.len] = '\0';
    return s;
}

int gn__subscription_encode(gn__wr_t *w, int16_t version, const char *const *topics, size_t n,
                            gn_bytes_t user_data)
{
    gn__wr_i16(w, version);
    gn__wr_i32(w, (int32_t)n);
    for (size_t i = 0; i < n; i++)
        gn__wr_str(w, topics[i]);
    gn__wr_bytes(w, user_data);
    if (version >= 1) gn__wr_i32(w, 0); /* owned partitions: none (eager protocols) */
    return w->err;
}

void gn__subscription_free(gn__subscription_t *s)
{
    for (size_t i = 0; i < s->topics_count; i++)
        free(s->topics[i]);
    free(s->topics);
    memset(s, 0, sizeof(*s));
}

int gn__subscription_decode(gn_bytes_t in, gn__subscription_t *out)
{
    gn__rd_t r;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    gn__rd_init(&r, in.ptr, in.len);
    out->version = gn__rd_i16(&r);
    int32_t n = gn__rd_count(&r, 2);
    if (r.err || out->version < 0 || n < 0) {
        rc = GN_ECORRUPT;
        goto out;
    }
    out->topics = calloc(n ? (size_t)n : 1, sizeof(char *));
    if (!out->topics) {
        rc = GN_ENOMEM;
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        gn_bytes_t t = gn__rd_str(&r);
        if (r.err || !t.ptr) {
            rc = GN_ECORRUPT;
            goto out;
        }
        if (!(out->topics[out->topics_count] = dup_bytes(t))) {
            rc = GN_ENOMEM;
            goto out;
        }
        out->topics_count++;
    }
    /* user data is optional in practice: some clients end the v0 struct early */
    if (r.p < r.end) out->user_data = gn__rd_bytes(&r);
    if (r.err) rc = GN_ECORRUPT;
out:
    if (rc) gn__subscription_free(out);
    return rc;
}

int gn__assignment_encode(gn__wr_t *w, int16_t version, const gn__assigned_topic_t *topics,
                          size_t n, gn_bytes_t user_data)
{
    gn__wr_i16(w, version);
    gn__wr_i32(w, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        gn__wr_str(w, topics[i].topic);
        gn__wr_i32(w, (int32_t)topics[i].count);
        for (size_t j = 0; j < topics[i].count; j++)
            gn__wr_i32(w, topics[i].partitions[j]);
    }
    gn__wr_bytes(w, user_data);
    return w->err;
}

void gn__assignment_free(gn__assignment_t *a)
{
    for (size_t i = 0; i < a->topics_count; i++) {
        free(a->topics[i].topic);
        free(a->topics[i].partitions);
    }
    free(a->topics);
    memset(a, 0, sizeof(*a));
}

int gn__assignment_decode(gn_bytes_t in, gn__assignment_t *out)
{
    gn__rd_t r;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (in.len == 0) return 0; /* an empty assignment: nothing assigned (Kafka accepts) */
    gn__rd_init(&r, in.ptr, in.len);
    out->version = gn__rd_i16(&r);
    int32_t n = gn__rd_count(&r, 6);
    if (r.err || out->version < 0 || n < 0) {
        rc = GN_ECORRUPT;
        goto out;
    }
    out->topics = calloc(n ? (size_t)n : 1, sizeof(*out->topics));
    if (!out->topics) {
        rc = GN_ENOMEM;
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        gn__assigned_topic_t *t = &out->topics[i];
        gn_bytes_t name = gn__rd_str(&r);
        int32_t np = gn__rd_count(&r, 4);
        if (r.err || !name.ptr || np < 0) {
            rc = GN_ECORRUPT;
            goto out;
        }
        out->topics_count++;
        t->topic = dup_bytes(name);
        t->partitions = malloc((np ? (size_t)np : 1) * sizeof(int32_t));
        if (!t->topic || !t->partitions) {
            rc = GN_ENOMEM;
            goto out;
        }
        for (int32_t j = 0; j < np; j++)
            t->partitions[j] = gn__rd_i32(&r);
        t->count = (size_t)np;
    }
    if (r.p < r.end) out->user_data = gn__rd_bytes(&r);
    if (r.err) rc = GN_ECORRUPT;
out:
    if (rc) gn__assignment_free(out);
    return rc;
}
