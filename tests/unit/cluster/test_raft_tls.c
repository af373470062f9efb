/* SPDX-License-Identifier: Apache-2.0 */
/* The preamble a broker sends first on a Raft connection over TLS (core/cluster/
 * raft_tls.c): it names the dialler's raft id and address for raft's accept callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/raft_tls.h"

#define ROOM (GN_RAFT_TLS_PREAMBLE_HEAD + GN_RAFT_TLS_ADDRESS_MAX)

static void test_preamble__round_trip_and_split_anywhere(void **state)
{
    (void)state;
    uint8_t buf[ROOM + 8];
    size_t n = gn__raft_tls_preamble(buf, 3, "10.0.0.3:9093");
    assert_int_equal(n, GN_RAFT_TLS_PREAMBLE_HEAD + 13);
    memcpy(buf + n, "raft", 4); /* raft's first message follows at once */
    raft_id id = 0;
    char addr[GN_RAFT_TLS_ADDRESS_MAX + 1];
    for (size_t have = 0; have < n; have++) /* a read may end anywhere: need more */
        assert_int_equal(gn__raft_tls_preamble_parse(buf, have, &id, addr), 0);
    assert_int_equal(gn__raft_tls_preamble_parse(buf, n + 4, &id, addr), (int)n);
    assert_int_equal(id, 3);
    assert_string_equal(addr, "10.0.0.3:9093");
}

static void test_preamble__refuses_what_is_not_one(void **state)
{
    (void)state;
    uint8_t buf[ROOM];
    raft_id id;
    char addr[GN_RAFT_TLS_ADDRESS_MAX + 1];
    size_t n = gn__raft_tls_preamble(buf, 1, "127.0.0.1:1");
    buf[0] = 2; /* another version: refused from its first 8 bytes */
    assert_true(gn__raft_tls_preamble_parse(buf, 8, &id, addr) < 0);
    buf[0] = 1;
    buf[16] = 0; /* an empty address */
    assert_true(gn__raft_tls_preamble_parse(buf, n, &id, addr) < 0);
    buf[16] = 0xff, buf[17] = 0xff; /* longer than any address */
    assert_true(gn__raft_tls_preamble_parse(buf, n, &id, addr) < 0);
    gn__raft_tls_preamble(buf, 1, "127.0.0.1:1");
    buf[GN_RAFT_TLS_PREAMBLE_HEAD + 3] = 0; /* a NUL inside the address */
    assert_true(gn__raft_tls_preamble_parse(buf, n, &id, addr) < 0);
    /* a plaintext RPC frame or a TLS record is no preamble either */
    const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
    assert_true(gn__raft_tls_preamble_parse(hello, sizeof hello, &id, addr) < 0);
}

static void test_preamble__address_too_long_not_written(void **state)
{
    (void)state;
    uint8_t buf[ROOM];
    char longer[GN_RAFT_TLS_ADDRESS_MAX + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert_int_equal(gn__raft_tls_preamble(buf, 1, longer), 0);
    assert_int_equal(gn__raft_tls_preamble(buf, 1, ""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preamble__round_trip_and_split_anywhere),
        cmocka_unit_test(test_preamble__refuses_what_is_not_one),
        cmocka_unit_test(test_preamble__address_too_long_not_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
