/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the records of __mqtt_sessions as a broker applies them
 * (adapters/mqtt/session_owner.c mqtt__owner_apply, session_store.c restore: JSON state,
 * subscriptions, cursors, will, QoS 2 ids): read back at every start and followed as
 * other brokers write them, so a corrupt record must be skipped or restored to a sane
 * session, never crash the broker. The server is an in-memory mqtt_server_t without a
 * broker (its id is one no record names, so no record is this broker's own and nothing
 * is written back). After the records: every session holds sane values (QoS and retain
 * handling <= 2, valid filters, a valid will topic and QoS, bounded QoS 2 ids), each
 * plain subscription is found in the trie under its own filter, and once every session
 * is freed the trie is empty and every timer closed. Input: records of [flags][owner]
 * [gen][id length][id][u16 value length, 0xffff tombstone][value]; flags bits 0-1 the
 * kind (state, claim, release, adopt), bit 2 online, bit 3 clean, bit 4 applied while
 * following (else at start-up). Seeds: tests/fuzz/corpus/mqtt_sessions/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../../adapters/mqtt/mqtt.h"
#include "ganglion/logger.h"

#define SELF_ID 1000 /* no record's owner (an int8 in the input) */

static uv_loop_t loop;

typedef struct find {
    const mqtt_sub_t *want;
    bool found;
} find_t;

static void on_find(void *arg, mqtt_sub_t *sub)
{
    find_t *f = arg;
    if (sub == f->want) f->found = true;
}

static bool share_name_ok(const char *s)
{
    return s[0] && !strpbrk(s, "/+#");
}

static void check_session(mqtt_server_t *srv, mqtt_session_t *sess)
{
    if (mqtt__session_find(srv, sess->client_id) != sess) abort();
    for (size_t i = 0; i < sess->nsubs; i++) {
        mqtt_sub_t *s = sess->subs[i];
        gn_bytes_t f = {(const uint8_t *)s->filter, strlen(s->filter)};
        if (s->qos > 2 || s->retain_handling > 2 || s->session != sess) abort();
        if (!mqtt_topic_filter_valid(f) || (s->share && !share_name_ok(s->share))) abort();
        if (s->share || !mqtt_topic_name_valid(f)) continue;
        find_t fd = {s, false};
        mqtt__trie_match(srv->trie, f, on_find, &fd);
        if (!fd.found) abort();
    }
    if (sess->will) {
        const char *t = sess->will->topic;
        if (!mqtt_topic_name_valid((gn_bytes_t){(const uint8_t *)t, strlen(t)})) abort();
        if (sess->will->qos > 2) abort();
    }
    if (sess->nqos2_in > MQTT_QOS2_IN_MAX) abort();
}

static void apply(mqtt_server_t *srv, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    uint8_t flags = p[0];
    mqtt_session_rec_t rec = {.owner = (int8_t)p[1],
                              .gen = p[2],
                              .kind = (mqtt_rec_kind_t)(flags & 3),
                              .online = flags & 4,
                              .clean = flags & 8};
    size_t idlen = p[3];
    p += 4;
    if (idlen > (size_t)(end - p)) idlen = (size_t)(end - p);
    char id[256];
    memcpy(id, p, idlen);
    id[idlen] = 0;
    p += idlen;
    size_t vlen = 0xffff;
    if (end - p >= 2) vlen = (size_t)p[0] << 8 | p[1], p += 2;
    if (vlen != 0xffff) {
        if (vlen > (size_t)(end - p)) vlen = (size_t)(end - p);
        rec.value = (gn_bytes_t){p, vlen};
        p += vlen;
    }
    *pp = p;
    if (!id[0] || strlen(id) != idlen) return; /* load_record: the key is a client id */
    rec.client_id = id;
    mqtt__owner_apply(srv, &rec, !(flags & 16));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!loop.data) {
        if (uv_loop_init(&loop)) abort();
        loop.data = &loop;
        gn_logger_set_level(GN_LEVEL_ERROR); /* skipped records warn */
    }
    mqtt_server_t *srv = calloc(1, sizeof *srv);
    if (!srv || !(srv->trie = mqtt__trie_new())) abort();
    srv->loop = &loop;
    srv->self_id = SELF_ID;
    const uint8_t *p = data, *end = data + size;
    while (end - p >= 4)
        apply(srv, &p, end);
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++)
        for (mqtt_session_t *s = srv->sessions[b]; s; s = s->hnext)
            check_session(srv, s);
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++)
        while (srv->sessions[b])
            mqtt__session_free(srv->sessions[b]);
    if (srv->nsessions != 0 || mqtt__trie_may_match_first(srv->trie, "a")) abort();
    uv_run(&loop, UV_RUN_NOWAIT); /* the session timers' close callbacks */
    if (srv->open_handles != 0) abort();
    mqtt__trie_free(srv->trie);
    free(srv);
    return 0;
}
