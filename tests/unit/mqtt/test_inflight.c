/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for a session's outbound inflight table (adapters/mqtt/inflight.c): packet
 * ids unique among the messages in flight and never 0, acknowledgements in any order
 * found by id, an id not reused until the table came round, growth up to
 * MQTT_MAX_INFLIGHT and no further. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/mqtt.h"

static uint16_t take(mqtt_session_t *sess)
{
    mqtt_inflight_t *f = mqtt__inflight_add(sess);
    assert_non_null(f);
    f->state = MQTT_WAIT_PUBACK;
    assert_int_not_equal(f->pid, 0);
    return f->pid;
}

static void test_inflight__ids_unique_and_found(void **state)
{
    (void)state;
    mqtt_session_t sess = {0};
    uint16_t ids[MQTT_MAX_INFLIGHT];
    for (size_t i = 0; i < MQTT_MAX_INFLIGHT; i++) {
        ids[i] = take(&sess);
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(ids[i], ids[j]);
    }
    assert_int_equal(sess.ninflight, MQTT_MAX_INFLIGHT);
    assert_null(mqtt__inflight_add(&sess)); /* the window is the bound */
    for (size_t i = 0; i < MQTT_MAX_INFLIGHT; i++) {
        mqtt_inflight_t *f = mqtt__inflight_find(&sess, ids[i]);
        assert_non_null(f);
        assert_int_equal(f->pid, ids[i]);
    }
    assert_null(mqtt__inflight_find(&sess, 0));
    assert_null(mqtt__inflight_find(&sess, (uint16_t)(MQTT_MAX_INFLIGHT + 1)));
    mqtt__inflight_free_all(&sess);
    assert_int_equal(sess.ninflight, 0);
}

static void test_inflight__acks_out_of_order(void **state)
{
    (void)state;
    mqtt_session_t sess = {0};
    uint16_t a = take(&sess), b = take(&sess), c = take(&sess);
    mqtt__inflight_drop(&sess, mqtt__inflight_find(&sess, b));
    assert_null(mqtt__inflight_find(&sess, b)); /* a second PUBACK for b is unknown */
    assert_non_null(mqtt__inflight_find(&sess, a));
    assert_non_null(mqtt__inflight_find(&sess, c));
    assert_int_equal(sess.ninflight, 2);
    /* the next id is not the one just freed: b comes back only a whole table later */
    uint16_t d = take(&sess);
    assert_int_not_equal(d, b);
    assert_int_not_equal(d, a);
    assert_int_not_equal(d, c);
    mqtt__inflight_free_all(&sess);
}

static void test_inflight__steady_window_reuses_slots(void **state)
{
    (void)state;
    mqtt_session_t sess = {0};
    uint16_t q[8];
    for (size_t i = 0; i < 8; i++)
        q[i] = take(&sess);
    /* acks in order, one new message per ack: the table does not grow past the window */
    for (int round = 0; round < 1000; round++) {
        size_t k = (size_t)round % 8;
        mqtt__inflight_drop(&sess, mqtt__inflight_find(&sess, q[k]));
        q[k] = take(&sess);
        for (size_t j = 0; j < 8; j++)
            if (j != k) assert_int_not_equal(q[k], q[j]);
    }
    assert_int_equal(sess.ninflight, 8);
    assert_int_equal(sess.inflight_cap, 8);
    mqtt__inflight_free_all(&sess);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inflight__ids_unique_and_found),
        cmocka_unit_test(test_inflight__acks_out_of_order),
        cmocka_unit_test(test_inflight__steady_window_reuses_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
