/* SPDX-License-Identifier: Apache-2.0 */
/* The failed-authentication throttle (core/auth/throttle.c): a host's burst, its
 * tokens coming back over time, other hosts unaffected, many hosts at once, the host of
 * a peer's address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ganglion/auth.h"

#define MS_PER_TOKEN (1000 / GN_AUTH_THROTTLE_PER_SEC)

static void fail_n(gn_auth_throttle_t *t, const char *host, int n, uint64_t now)
{
    for (int i = 0; i < n; i++)
        gn_auth_throttle_failed(t, host, now);
}

static void test_burst_then_wait(void **state)
{
    (void)state;
    gn_auth_throttle_t *t = gn_auth_throttle_new();
    assert_non_null(t);
    uint64_t now = 1000000;
    assert_int_equal(gn_auth_throttle_wait_ms(t, "10.0.0.1", now), 0); /* never failed */
    fail_n(t, "10.0.0.1", GN_AUTH_THROTTLE_BURST - 1, now);
    assert_int_equal(gn_auth_throttle_wait_ms(t, "10.0.0.1", now), 0);
    gn_auth_throttle_failed(t, "10.0.0.1", now);
    assert_int_equal(gn_auth_throttle_wait_ms(t, "10.0.0.1", now), MS_PER_TOKEN);
    assert_int_equal(gn_auth_throttle_wait_ms(t, "10.0.0.1", now + 100), MS_PER_TOKEN - 100);
    /* others are not throttled */
    assert_int_equal(gn_auth_throttle_wait_ms(t, "10.0.0.2", now), 0);
    gn_auth_throttle_free(t);
}

static void test_tokens_come_back(void **state)
{
    (void)state;
    gn_auth_throttle_t *t = gn_auth_throttle_new();
    uint64_t now = 5000;
    fail_n(t, "::1", GN_AUTH_THROTTLE_BURST, now);
    assert_true(gn_auth_throttle_wait_ms(t, "::1", now) > 0);
    now += MS_PER_TOKEN; /* one token back */
    assert_int_equal(gn_auth_throttle_wait_ms(t, "::1", now), 0);
    gn_auth_throttle_failed(t, "::1", now);
    assert_int_equal(gn_auth_throttle_wait_ms(t, "::1", now), MS_PER_TOKEN);
    /* a quiet host gets its whole burst back, and no more */
    now += (uint64_t)MS_PER_TOKEN * GN_AUTH_THROTTLE_BURST * 10;
    fail_n(t, "::1", GN_AUTH_THROTTLE_BURST - 1, now);
    assert_int_equal(gn_auth_throttle_wait_ms(t, "::1", now), 0);
    gn_auth_throttle_failed(t, "::1", now);
    assert_true(gn_auth_throttle_wait_ms(t, "::1", now) > 0);
    gn_auth_throttle_free(t);
}

static void test_failures_keep_it_throttled(void **state)
{
    (void)state;
    gn_auth_throttle_t *t = gn_auth_throttle_new();
    uint64_t now = 0;
    /* a client failing at twice the refill rate is let through at the refill rate */
    int allowed = 0;
    for (int i = 0; i < 400; i++, now += MS_PER_TOKEN / 2) {
        if (gn_auth_throttle_wait_ms(t, "192.0.2.7", now) == 0) {
            allowed++;
            gn_auth_throttle_failed(t, "192.0.2.7", now);
        }
    }
    /* over 200 token intervals: the burst plus one per interval */
    assert_in_range(allowed, 200 + GN_AUTH_THROTTLE_BURST - 2, 200 + GN_AUTH_THROTTLE_BURST + 1);
    gn_auth_throttle_free(t);
}

static void test_many_hosts(void **state)
{
    (void)state;
    gn_auth_throttle_t *t = gn_auth_throttle_new();
    char host[32];
    uint64_t now = 0;
    fail_n(t, "203.0.113.9", GN_AUTH_THROTTLE_BURST, now);
    for (int i = 0; i < 5 * GN_AUTH_THROTTLE_SLOTS; i++) { /* more hosts than slots */
        snprintf(host, sizeof host, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        gn_auth_throttle_failed(t, host, now);
    }
    for (int i = 0; i < 5 * GN_AUTH_THROTTLE_SLOTS; i++) {
        snprintf(host, sizeof host, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        assert_int_equal(gn_auth_throttle_wait_ms(t, host, now), 0); /* one failure each */
    }
    /* a NULL throttle (none configured) lets everything through */
    gn_auth_throttle_failed(NULL, "x", now);
    assert_int_equal(gn_auth_throttle_wait_ms(NULL, "x", now), 0);
    gn_auth_throttle_free(t);
}

static void test_host_of_peer(void **state)
{
    (void)state;
    char h[64];
    gn_auth_throttle_host("127.0.0.1:5432", h, sizeof h);
    assert_string_equal(h, "127.0.0.1");
    gn_auth_throttle_host("::1:40000", h, sizeof h); /* unbracketed v6, as libuv names it */
    assert_string_equal(h, "::1");
    gn_auth_throttle_host("[fe80::1]:80", h, sizeof h);
    assert_string_equal(h, "fe80::1");
    gn_auth_throttle_host("nohost", h, sizeof h);
    assert_string_equal(h, "nohost");
    gn_auth_throttle_host("10.1.2.3:1", h, 5);
    assert_string_equal(h, "10.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_wait),
        cmocka_unit_test(test_tokens_come_back),
        cmocka_unit_test(test_failures_keep_it_throttled),
        cmocka_unit_test(test_many_hosts),
        cmocka_unit_test(test_host_of_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
