/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the sweep's decision to adopt a session whose broker is gone
 * (adapters/mqtt/session_owner.c, mqtt__should_adopt): only the lowest live broker adopts;
 * a broker fenced for missing heartbeats gives no grace (its clients' wills come at the
 * next sweep); one in a controlled shutdown gives its timeout plus two sweeps, since it
 * saves its sessions offline itself; this broker's own previous run needs no grace; an
 * adopt record not applied yet is not written again before MQTT_CLAIM_STORE_WAIT_MS; a
 * client connecting here again wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/mqtt.h"

#define SHUTDOWN_TIMEOUT_MS 30000

/* A session of broker 2, which has just died; this broker is the lowest live one. */
static mqtt_adopt_facts_t killed_owner(void)
{
    return (mqtt_adopt_facts_t){
        .owner_is_self = false,
        .owner_live = false,
        .self_lowest_live = true,
        .owner_stopping = false,
        .owner_gone_ms = 0,
        .shutdown_timeout_ms = SHUTDOWN_TIMEOUT_MS,
        .since_adopt_ms = -1,
        .claim_pending = false,
    };
}

static void test_killed_owner_adopted_at_once(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    assert_true(mqtt__should_adopt(&f));
}

static void test_live_owner_kept(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    f.owner_live = true;
    f.owner_gone_ms = 3600000;
    assert_false(mqtt__should_adopt(&f));
}

static void test_only_lowest_live_adopts(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    f.self_lowest_live = false;
    assert_false(mqtt__should_adopt(&f));
}

static void test_stopping_owner_gets_its_grace(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    f.owner_stopping = true;
    int64_t grace = SHUTDOWN_TIMEOUT_MS + 2 * MQTT_SWEEP_MS;
    for (int64_t gone = 0; gone < grace; gone += MQTT_SWEEP_MS) {
        f.owner_gone_ms = gone;
        assert_false(mqtt__should_adopt(&f));
    }
    f.owner_gone_ms = grace - 1;
    assert_false(mqtt__should_adopt(&f));
    f.owner_gone_ms = grace;
    assert_true(mqtt__should_adopt(&f));
}

static void test_own_previous_run_needs_no_grace(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    f.owner_is_self = true;
    f.owner_live = true; /* this broker is live again */
    f.self_lowest_live = false;
    f.owner_stopping = true;
    assert_true(mqtt__should_adopt(&f));
}

static void test_adopt_record_not_repeated_early(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    f.since_adopt_ms = 0;
    assert_false(mqtt__should_adopt(&f));
    f.since_adopt_ms = MQTT_CLAIM_STORE_WAIT_MS - 1;
    assert_false(mqtt__should_adopt(&f));
    f.since_adopt_ms = MQTT_CLAIM_STORE_WAIT_MS;
    assert_true(mqtt__should_adopt(&f));
}

static void test_client_connecting_here_wins(void **state)
{
    (void)state;
    mqtt_adopt_facts_t f = killed_owner();
    f.claim_pending = true;
    assert_false(mqtt__should_adopt(&f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_owner_adopted_at_once),
        cmocka_unit_test(test_live_owner_kept),
        cmocka_unit_test(test_only_lowest_live_adopts),
        cmocka_unit_test(test_stopping_owner_gets_its_grace),
        cmocka_unit_test(test_own_previous_run_needs_no_grace),
        cmocka_unit_test(test_adopt_record_not_repeated_early),
        cmocka_unit_test(test_client_connecting_here_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
