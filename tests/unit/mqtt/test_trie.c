/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the topic-filter trie (adapters/mqtt/trie.c) and the MQTT <-> log
 * topic mapping (mapping.c): wildcard rules of MQTT 4.7 including '$' topics and
 * "a/#" matching "a", shared-group members, and which first levels are log topics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/mqtt.h"
#include "ganglion/error.h"

typedef struct hits {
    mqtt_sub_t *got[16];
    size_t n;
} hits_t;

static void on_hit(void *arg, mqtt_sub_t *sub)
{
    hits_t *h = arg;
    if (h->n < 16) h->got[h->n++] = sub;
}

static size_t count(mqtt_trie_t *t, const char *topic)
{
    hits_t h = {0};
    mqtt__trie_match(t, (gn_bytes_t){(const uint8_t *)topic, strlen(topic)}, on_hit, &h);
    return h.n;
}

static void test_trie__wildcards(void **state)
{
    mqtt_trie_t *t = mqtt__trie_new();
    mqtt_session_t sess = {0};
    mqtt_conn_t conn = {0};
    sess.conn = &conn;
    mqtt_sub_t s[5] = {{.filter = "sensors/+/temp"},
                       {.filter = "sensors/#"},
                       {.filter = "#"},
                       {.filter = "+"},
                       {.filter = "$SYS/#"}};
    for (int i = 0; i < 5; i++) {
        s[i].session = &sess;
        assert_int_equal(mqtt__trie_add(t, &s[i]), 0);
    }
    assert_int_equal(count(t, "sensors/room1/temp"), 3); /* +/temp, #, sensors/# */
    assert_int_equal(count(t, "sensors"), 3);            /* sensors/#, #, + */
    assert_int_equal(count(t, "sensors/room1/hum"), 2);
    assert_int_equal(count(t, "$SYS/broker/uptime"), 1); /* not # */
    assert_int_equal(count(t, "other/x"), 1);
    assert_true(mqtt__trie_may_match_first(t, "anything"));
    mqtt__trie_remove(t, &s[2]);
    mqtt__trie_remove(t, &s[3]);
    assert_int_equal(count(t, "other/x"), 0);
    assert_false(mqtt__trie_may_match_first(t, "other"));
    assert_true(mqtt__trie_may_match_first(t, "sensors"));
    mqtt__trie_free(t);
}

static void test_trie__shared_members(void **state)
{
    mqtt_trie_t *t = mqtt__trie_new();
    mqtt_conn_t conn = {0};
    mqtt_session_t a = {.conn = &conn}, b = {.conn = &conn}, off = {0};
    mqtt_sub_t sa = {.filter = "jobs/#", .share = "g", .session = &a};
    mqtt_sub_t sb = {.filter = "jobs/#", .share = "g", .session = &b};
    mqtt_sub_t so = {.filter = "jobs/#", .share = "g", .session = &off};
    mqtt__trie_add(t, &sa);
    mqtt__trie_add(t, &so);
    mqtt__trie_add(t, &sb);
    hits_t h = {0};
    mqtt__trie_match(t, GN_BYTES_STR("jobs/1"), on_hit, &h);
    /* every online member (partition assignment picks one later), never the offline one */
    assert_int_equal(h.n, 2);
    assert_true((h.got[0] == &sa && h.got[1] == &sb) || (h.got[0] == &sb && h.got[1] == &sa));
    mqtt__trie_remove(t, &sa);
    mqtt__trie_remove(t, &so);
    mqtt__trie_remove(t, &sb);
    assert_false(mqtt__trie_may_match_first(t, "jobs"));
    mqtt__trie_free(t);
}

static void test_filter__matches(void **state)
{
    assert_true(mqtt__filter_matches("a/+/c", GN_BYTES_STR("a/b/c")));
    assert_false(mqtt__filter_matches("a/+/c", GN_BYTES_STR("a/b/d")));
    assert_true(mqtt__filter_matches("a/#", GN_BYTES_STR("a")));
    assert_true(mqtt__filter_matches("a/#", GN_BYTES_STR("a/b/c")));
    assert_false(mqtt__filter_matches("#", GN_BYTES_STR("$SYS/x")));
    assert_true(mqtt__filter_matches("+/", GN_BYTES_STR("a/")));
    assert_false(mqtt__filter_matches("a", GN_BYTES_STR("a/b")));
}

static void test_map__topic_and_key(void **state)
{
    char buf[250];
    gn_bytes_t key;
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("sensors/room1/temp"), buf, sizeof buf, &key), 0);
    assert_string_equal(buf, "sensors");
    assert_int_equal(key.len, 10);
    assert_memory_equal(key.ptr, "room1/temp", 10);
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("sensors"), buf, sizeof buf, &key), 0);
    assert_null(key.ptr);
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("sensors/"), buf, sizeof buf, &key), 0);
    assert_non_null(key.ptr);
    assert_int_equal(key.len, 0);
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("a!b/c"), buf, sizeof buf, &key),
                     GN_EINVALID_TOPIC);
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("/x"), buf, sizeof buf, &key), GN_EINVALID_TOPIC);
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("$SYS/x"), buf, sizeof buf, &key),
                     GN_EINVALID_TOPIC);
    assert_int_equal(mqtt__map_topic(GN_BYTES_STR("__mqtt_sessions/x"), buf, sizeof buf, &key),
                     GN_EINVALID_TOPIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trie__wildcards),
        cmocka_unit_test(test_trie__shared_members),
        cmocka_unit_test(test_filter__matches),
        cmocka_unit_test(test_map__topic_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
