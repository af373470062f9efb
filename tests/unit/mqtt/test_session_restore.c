/* SPDX-License-Identifier: Apache-2.0 */
/* A session record of __mqtt_sessions read back (adapters/mqtt/session_store.c, through
 * mqtt__owner_apply as at start-up): a good record restores its subscriptions and will;
 * what SUBSCRIBE or CONNECT would have refused (a bad filter or share name, QoS or retain
 * handling out of 0..2, a will topic with wildcards) is skipped with a warning instead
 * of restored, and extreme timestamps arm the expiry timer without overflow (found by
 * fuzz_mqtt_sessions). In memory: a server without a broker, nothing written back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/mqtt.h"

static uv_loop_t loop;

static mqtt_server_t *server(void)
{
    mqtt_server_t *srv = calloc(1, sizeof *srv);
    assert_non_null(srv);
    srv->trie = mqtt__trie_new();
    srv->loop = &loop;
    srv->self_id = 1000; /* no record's owner: nothing is this broker's own */
    return srv;
}

static void server_free(mqtt_server_t *srv)
{
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++)
        while (srv->sessions[b])
            mqtt__session_free(srv->sessions[b]);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(srv->open_handles, 0);
    mqtt__trie_free(srv->trie);
    free(srv);
}

static mqtt_session_t *load(mqtt_server_t *srv, const char *id, const char *json)
{
    mqtt_session_rec_t rec = {.client_id = id,
                              .value = {(const uint8_t *)json, strlen(json)},
                              .owner = 2,
                              .gen = 1,
                              .kind = MQTT_REC_STATE};
    mqtt__owner_apply(srv, &rec, true);
    return mqtt__session_find(srv, id);
}

static void test_restore__good_record(void **state)
{
    (void)state;
    mqtt_server_t *srv = server();
    mqtt_session_t *s =
        load(srv, "c1",
             "{\"v\":1,\"expiry\":60,\"disconnected_at\":1,\"subs\":["
             "{\"f\":\"a/+/c\",\"q\":1,\"rh\":2},{\"f\":\"x/#\",\"s\":\"g\",\"q\":2}],"
             "\"will\":{\"t\":\"status/c1\",\"m\":\"6f6b\",\"p\":\"\",\"q\":1}}");
    assert_non_null(s);
    assert_int_equal(s->nsubs, 2);
    assert_string_equal(s->subs[0]->filter, "a/+/c");
    assert_int_equal(s->subs[0]->qos, 1);
    assert_int_equal(s->subs[0]->retain_handling, 2);
    assert_string_equal(s->subs[1]->share, "g");
    assert_non_null(s->will);
    assert_int_equal(s->will->qos, 1);
    assert_int_equal(s->will->payload_len, 2);
    server_free(srv);
}

static void test_restore__refused_values_skipped(void **state)
{
    (void)state;
    mqtt_server_t *srv = server();
    mqtt_session_t *s = load(srv, "c2",
                             "{\"expiry\":60,\"subs\":["
                             "{\"f\":\"a/#/b\",\"q\":0},{\"f\":\"\",\"q\":0},"
                             "{\"f\":\"x\",\"s\":\"g+\",\"q\":0},{\"f\":\"x\",\"s\":\"\",\"q\":0},"
                             "{\"f\":\"q\",\"q\":3},{\"f\":\"q\",\"q\":256},{\"f\":\"q\",\"q\":-1},"
                             "{\"f\":\"r\",\"q\":0,\"rh\":3},{\"f\":\"ok\",\"q\":2}],"
                             "\"will\":{\"t\":\"a/+\",\"m\":\"\",\"p\":\"\",\"q\":0}}");
    assert_non_null(s); /* the session itself is kept */
    assert_int_equal(s->nsubs, 1);
    assert_string_equal(s->subs[0]->filter, "ok");
    assert_null(s->will);
    s = load(srv, "c3", "{\"expiry\":60,\"will\":{\"t\":\"a\",\"m\":\"\",\"p\":\"\",\"q\":257}}");
    assert_null(s->will);
    server_free(srv);
}

static void test_restore__extreme_times(void **state)
{
    (void)state;
    mqtt_server_t *srv = server();
    /* a deadline beyond INT64_MAX saturates (no timer: never); one before the epoch
     * counts from 0, long past: the timer is armed to fire at once */
    mqtt_session_t *s =
        load(srv, "late", "{\"expiry\":10,\"disconnected_at\":9223372036854775807}");
    assert_non_null(s);
    assert_null(s->timer);
    s = load(srv, "early", "{\"expiry\":1,\"disconnected_at\":-9223372036854775807}");
    assert_non_null(s);
    assert_int_equal(s->disconnected_at, 0);
    assert_non_null(s->timer);
    server_free(srv);
}

int main(void)
{
    uv_loop_init(&loop);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore__good_record),
        cmocka_unit_test(test_restore__refused_values_skipped),
        cmocka_unit_test(test_restore__extreme_times),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    uv_loop_close(&loop);
    return rc;
}
