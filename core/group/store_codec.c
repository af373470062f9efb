/* SPDX-License-Identifier: Apache-2.0 */
/* The records of __consumer_offsets in Kafka's own schemas, so operators' tools
 * recognise them: OffsetCommitKey v1 (group, topic, partition) with
 * OffsetCommitValue v3 (offset, leaderEpoch, metadata, commitTimestamp), and
 * GroupMetadataKey v2 (group) with GroupMetadataValue v3; a null value deletes.
 * Also the group -> partition mapping (Java String.hashCode) and applying loaded
 * records to the coordinator. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "group/group_int.h"

int32_t gn_group_partition_for(const char *group_id, int32_t partitions)
{
    /* Java hashes UTF-16 code units: decode UTF-8, split supplementary characters
     * into surrogate pairs; invalid bytes count as themselves. */
    uint32_t h = 0;
    const unsigned char *p = (const unsigned char *)group_id;
    while (p && *p) {
        uint32_t c = *p, need = 0;
        if (c >= 0xf0 && c < 0xf8)
            need = 3, c &= 0x07;
        else if (c >= 0xe0)
            need = 2, c &= 0x0f;
        else if (c >= 0xc0)
            need = 1, c &= 0x1f;
        uint32_t k = 1;
        for (; k <= need && (p[k] & 0xc0) == 0x80; k++)
            c = (c << 6) | (p[k] & 0x3f);
        if (k <= need) { /* truncated sequence */
            c = *p;
            k = 1;
        }
        p += k;
        if (c >= 0x10000) {
            c -= 0x10000;
            h = 31 * h + (0xd800 + (c >> 10));
            h = 31 * h + (0xdc00 + (c & 0x3ff));
        } else {
            h = 31 * h + c;
        }
    }
    int32_t s = (int32_t)h;
    int32_t a = s == INT32_MIN ? 0 : (s < 0 ? -s : s); /* Kafka's Utils.abs */
    return partitions > 0 ? a % partitions : 0;
}

#define KEY_OFFSET_V1   1
#define KEY_GROUP_V2    2
#define OFFSET_VALUE_V3 3
#define GROUP_VALUE_V3  3

int gn__offset_key_encode(gn__wr_t *w, const char *group, const char *topic, int32_t partition)
{
    gn__wr_i16(w, KEY_OFFSET_V1);
    gn__wr_str(w, group);
    gn__wr_str(w, topic);
    gn__wr_i32(w, partition);
    return w->err;
}

int gn__offset_value_encode(gn__wr_t *w, const gn__offset_t *o)
{
    gn__wr_i16(w, OFFSET_VALUE_V3);
    gn__wr_i64(w, o->offset);
    gn__wr_i32(w, o->leader_epoch);
    gn__wr_str(w, o->metadata ? o->metadata : ""); /* non-nullable in the schema */
    gn__wr_i64(w, o->commit_ts);
    return w->err;
}

int gn__group_key_encode(gn__wr_t *w, const char *group)
{
    gn__wr_i16(w, KEY_GROUP_V2);
    gn__wr_str(w, group);
    return w->err;
}

int gn__group_value_encode(gn__wr_t *w, const gn__group_t *g)
{
    gn__wr_i16(w, GROUP_VALUE_V3);
    gn__wr_str(w, g->protocol_type ? g->protocol_type : "");
    gn__wr_i32(w, g->generation);
    gn__wr_str(w, g->protocol_name);
    gn__wr_str(w, g->leader_id);
    gn__wr_i64(w, g->state_ts);
    gn__wr_i32(w, (int32_t)g->members_count);
    for (const gn__member_t *m = g->members; m; m = m->next) {
        const gn__proto_t *p = NULL;
        for (size_t i = 0; g->protocol_name && i < m->protos_count; i++)
            if (strcmp(m->protos[i].name, g->protocol_name) == 0) p = &m->protos[i];
        gn__wr_str(w, m->member_id);
        gn__wr_str(w, m->instance_id);
        gn__wr_str(w, m->client_id ? m->client_id : "");
        gn__wr_str(w, m->client_host ? m->client_host : "");
        gn__wr_i32(w, m->rebalance_timeout_ms);
        gn__wr_i32(w, m->session_timeout_ms);
        gn__wr_bytes(w,
                     p ? (gn_bytes_t){p->meta, p->meta_len} : (gn_bytes_t){(const uint8_t *)"", 0});
        gn__wr_bytes(w, (gn_bytes_t){m->assignment ? m->assignment : (const uint8_t *)"",
                                     m->assignment_len});
    }
    return w->err;
}

static char *dup_view(gn_bytes_t b)
{
    if (!b.ptr) return NULL;
    char *s = malloc(b.len + 1);
    if (!s) return NULL;
    memcpy(s, b.ptr, b.len);
    s[b.len] = '\0';
    return s;
}

static uint8_t *dup_mem(gn_bytes_t b)
{
    uint8_t *p = malloc(b.len ? b.len : 1);
    if (p && b.len) memcpy(p, b.ptr, b.len);
    return p;
}

static int apply_offset(gn_group_coordinator_t *coord, gn__rd_t *k, gn_bytes_t value)
{
    int rc = 0;
    char *group = dup_view(gn__rd_str(k));
    char *topic = dup_view(gn__rd_str(k));
    int32_t partition = gn__rd_i32(k);
    char *meta = NULL;
    if (k->err || !group || !topic) {
        rc = k->err ? GN_ECORRUPT : GN_ENOMEM;
        goto out;
    }
    gn__group_t *g = gn__group_find(coord, group);
    if (!value.ptr) {
        if (g) gn__offset_remove(g, topic, partition);
        goto out;
    }
    gn__rd_t v;
    gn__rd_init(&v, value.ptr, value.len);
    int16_t ver = gn__rd_i16(&v);
    int64_t offset = gn__rd_i64(&v);
    int32_t epoch = -1;
    if (ver >= 3) epoch = gn__rd_i32(&v);
    if (ver > 3) { /* v4+ is flexible: we never write it */
        rc = GN_EUNSUPPORTED_VERSION;
        goto out;
    }
    gn_bytes_t mb = gn__rd_str(&v);
    int64_t ts = gn__rd_i64(&v);
    if (v.err || ver < 0) {
        rc = GN_ECORRUPT;
        goto out;
    }
    meta = dup_view(mb);
    if (!g && !(g = gn__group_get_or_create(coord, group))) {
        rc = GN_ENOMEM;
        goto out;
    }
    rc = gn__offset_put(g, topic, partition, offset, epoch, meta, ts);
out:
    free(group);
    free(topic);
    free(meta);
    return rc;
}

static void drop_members(gn__group_t *g)
{
    while (g->members) {
        gn__member_t *m = g->members;
        g->members = m->next;
        gn__member_free(m);
    }
    g->members_count = 0;
}

static int apply_group(gn_group_coordinator_t *coord, gn__rd_t *k, gn_bytes_t value)
{
    int rc = 0;
    char *group = dup_view(gn__rd_str(k));
    if (k->err || !group) {
        free(group);
        return k->err ? GN_ECORRUPT : GN_ENOMEM;
    }
    gn__group_t *g = gn__group_find(coord, group);
    if (!value.ptr) {
        if (g) {
            drop_members(g);
            free(g->protocol_type);
            g->protocol_type = NULL;
            free(g->protocol_name);
            g->protocol_name = NULL;
            free(g->leader_id);
            g->leader_id = NULL;
            g->state = GN_GROUP_EMPTY;
            if (!g->offsets_count) gn__group_remove(g);
        }
        free(group);
        return 0;
    }
    gn__rd_t v;
    gn__rd_init(&v, value.ptr, value.len);
    int16_t ver = gn__rd_i16(&v);
    if (ver < 0 || ver > 3) {
        free(group);
        return ver < 0 ? GN_ECORRUPT : GN_EUNSUPPORTED_VERSION;
    }
    if (!g && !(g = gn__group_get_or_create(coord, group))) {
        free(group);
        return GN_ENOMEM;
    }
    free(group);
    drop_members(g);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->leader_id);
    g->protocol_type = dup_view(gn__rd_str(&v));
    g->generation = gn__rd_i32(&v);
    g->protocol_name = dup_view(gn__rd_str(&v));
    g->leader_id = dup_view(gn__rd_str(&v));
    g->state_ts = ver >= 2 ? gn__rd_i64(&v) : gn_now_ms();
    int32_t n = gn__rd_count(&v, 14);
    gn__member_t **tail = &g->members;
    for (int32_t i = 0; i < n && !v.err; i++) {
        gn__member_t *m = calloc(1, sizeof(*m));
        if (!m) {
            rc = GN_ENOMEM;
            break;
        }
        m->member_id = dup_view(gn__rd_str(&v));
        if (ver >= 3) m->instance_id = dup_view(gn__rd_str(&v));
        m->client_id = dup_view(gn__rd_str(&v));
        m->client_host = dup_view(gn__rd_str(&v));
        m->rebalance_timeout_ms = ver >= 1 ? gn__rd_i32(&v) : 0;
        m->session_timeout_ms = gn__rd_i32(&v);
        if (m->rebalance_timeout_ms <= 0) m->rebalance_timeout_ms = m->session_timeout_ms;
        gn_bytes_t sub = gn__rd_bytes(&v);
        gn_bytes_t asg = gn__rd_bytes(&v);
        if (v.err || !m->member_id) {
            gn__member_free(m);
            break;
        }
        m->protos = calloc(1, sizeof(gn__proto_t));
        if (m->protos) {
            m->protos_count = 1;
            m->protos[0].name = strdup(g->protocol_name ? g->protocol_name : "");
            m->protos[0].meta = dup_mem(sub);
            m->protos[0].meta_len = sub.len;
        }
        if (asg.len) {
            m->assignment = dup_mem(asg);
            m->assignment_len = m->assignment ? asg.len : 0;
        }
        *tail = m;
        tail = &m->next;
        g->members_count++;
    }
    if (v.err) rc = GN_ECORRUPT;
    g->state = g->members ? GN_GROUP_STABLE : GN_GROUP_EMPTY;
    return rc;
}

int gn__store_apply(gn_group_coordinator_t *coord, gn_bytes_t key, gn_bytes_t value)
{
    if (!key.ptr) return GN_ECORRUPT;
    gn__rd_t k;
    gn__rd_init(&k, key.ptr, key.len);
    int16_t ver = gn__rd_i16(&k);
    if (k.err) return GN_ECORRUPT;
    if (ver == 0 || ver == KEY_OFFSET_V1) return apply_offset(coord, &k, value);
    if (ver == KEY_GROUP_V2) return apply_group(coord, &k, value);
    return 0; /* other record types (transactions, KIP-848 groups): not ours */
}
