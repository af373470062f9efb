/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the record headers of a PUBLISH (adapters/mqtt/mapping.c,
 * mqtt__headers_from_props): built into the caller's array when it is big enough (the
 * batched publish path allocates nothing per message), into a malloc'd one otherwise,
 * with mqtt.qos and mqtt.retain as the log stores them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/mqtt/mqtt.h"

static bool bytes_is(gn_bytes_t b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

static void test_headers__caller_buffer(void **state)
{
    (void)state;
    gn_record_header_t buf[16], *hs = NULL;
    size_t n = 0;
    char scratch[16];
    assert_int_equal(
        mqtt__headers_from_props(NULL, 1, false, &hs, &n, scratch, sizeof scratch, buf, 16), 0);
    assert_ptr_equal(hs, buf);
    assert_int_equal(n, 1);
    assert_true(bytes_is(hs[0].key, "mqtt.qos"));
    assert_true(bytes_is(hs[0].value, "1"));
}

static void test_headers__heap_when_small(void **state)
{
    (void)state;
    gn_record_header_t buf[2], *hs = NULL;
    size_t n = 0;
    char scratch[16];
    assert_int_equal(
        mqtt__headers_from_props(NULL, 2, true, &hs, &n, scratch, sizeof scratch, buf, 2), 0);
    assert_ptr_not_equal(hs, buf);
    assert_int_equal(n, 2);
    assert_true(bytes_is(hs[0].value, "2"));
    assert_true(bytes_is(hs[1].key, "mqtt.retain"));
    assert_true(bytes_is(hs[1].value, "1"));
    free(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers__caller_buffer),
        cmocka_unit_test(test_headers__heap_when_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
