/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the MQTT topic-filter trie (adapters/mqtt/trie.c) and the topic
 * rules (codec.c): a sequence of subscribe, unsubscribe and match operations on 32
 * subscription slots. Every match is checked against the brute-force answer of
 * mqtt__filter_matches over every live subscription (each matching one reported exactly
 * once; a shared one only when its session is online), and a match implies
 * mqtt__trie_may_match_first of the topic's first level. Filters that fail
 * mqtt_topic_filter_valid are still added when the op says so (a corrupt session record
 * is read back without the SUBSCRIBE checks): they must not crash, but are left out of
 * the comparison. Ops: [op][flags][len][bytes]; op&3: 0 subscribe slot op>>2&31 (flags
 * bit 0 shared in group "g"+(bit 1), bit 2 online session, bit 3 add even if invalid),
 * 1 unsubscribe slot, 2 and 3 match the topic. Seeds: tests/fuzz/corpus/mqtt_trie/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/mqtt/mqtt.h"

#define SLOTS 32

typedef struct slot {
    mqtt_sub_t sub;
    bool live, valid;
    unsigned hits;
} slot_t;

static slot_t slots[SLOTS];

static void on_hit(void *arg, mqtt_sub_t *sub)
{
    slot_t *s = (slot_t *)sub; /* sub is the first member */
    if (s < slots || s >= slots + SLOTS || !s->live) abort();
    s->hits++;
    (void)arg;
}

static void check_match(mqtt_trie_t *t, gn_bytes_t topic)
{
    for (size_t i = 0; i < SLOTS; i++)
        slots[i].hits = 0;
    mqtt__trie_match(t, topic, on_hit, NULL);
    if (!mqtt_topic_name_valid(topic)) return; /* no crash is all we ask */
    bool any = false;
    for (size_t i = 0; i < SLOTS; i++) {
        slot_t *s = &slots[i];
        if (!s->live || !s->valid) continue;
        bool want =
            mqtt__filter_matches(s->sub.filter, topic) && (!s->sub.share || s->sub.session->conn);
        if (s->hits != (want ? 1u : 0u)) abort();
        any |= want;
    }
    const uint8_t *slash = memchr(topic.ptr, '/', topic.len);
    char first[256];
    size_t flen = slash ? (size_t)(slash - topic.ptr) : topic.len;
    if (any && flen < sizeof first) {
        memcpy(first, topic.ptr, flen);
        first[flen] = 0;
        if (!memchr(first, 0, flen) && !mqtt__trie_may_match_first(t, first)) abort();
    }
}

static void unsubscribe(mqtt_trie_t *t, slot_t *s)
{
    if (!s->live) return;
    mqtt__trie_remove(t, &s->sub);
    free(s->sub.filter);
    free(s->sub.share);
    s->sub.filter = s->sub.share = NULL;
    s->live = false;
}

static void subscribe(mqtt_trie_t *t, slot_t *s, uint8_t flags, gn_bytes_t f,
                      mqtt_session_t *online, mqtt_session_t *offline)
{
    unsubscribe(t, s);
    bool valid = mqtt_topic_filter_valid(f);
    if (!valid && !(flags & 8)) return;
    if (!(s->sub.filter = strndup((const char *)f.ptr, f.len))) abort();
    if (flags & 1) s->sub.share = strdup(flags & 2 ? "g2" : "g1");
    s->sub.session = (flags & 4) ? online : offline;
    s->valid = valid && strlen(s->sub.filter) == f.len;
    if (mqtt__trie_add(t, &s->sub) < 0) {
        free(s->sub.filter);
        free(s->sub.share);
        s->sub.filter = s->sub.share = NULL;
        return;
    }
    s->live = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mqtt_trie_t *t = mqtt__trie_new();
    mqtt_conn_t conn = {0};
    mqtt_session_t online = {0}, offline = {0};
    online.conn = &conn;
    memset(slots, 0, sizeof slots);
    const uint8_t *p = data, *end = data + size;
    while (end - p >= 3) {
        uint8_t op = p[0], flags = p[1];
        size_t len = p[2];
        p += 3;
        if (len > (size_t)(end - p)) len = (size_t)(end - p);
        gn_bytes_t b = {p, len};
        p += len;
        slot_t *s = &slots[(op >> 2) % SLOTS];
        switch (op & 3) {
        case 0:
            subscribe(t, s, flags, b, &online, &offline);
            break;
        case 1:
            unsubscribe(t, s);
            break;
        default:
            check_match(t, b);
            break;
        }
    }
    for (size_t i = 0; i < SLOTS; i++)
        unsubscribe(t, &slots[i]);
    /* every node gone with its last subscription: nothing can match */
    if (mqtt__trie_may_match_first(t, "a")) abort();
    mqtt__trie_free(t);
    return 0;
}
