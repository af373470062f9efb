/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's topic-name rules and the '.'/'_' collision check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/error.h"
#include "ganglion/topic.h"

static int check(const char *s)
{
    return gn_topic_name_validate(s, strlen(s));
}

static void test_topic_name__legal(void **state)
{
    assert_int_equal(check("orders"), 0);
    assert_int_equal(check("a"), 0);
    assert_int_equal(check("A.b_c-9"), 0);
    assert_int_equal(check("__consumer_offsets"), 0);
    assert_int_equal(check("..."), 0);
    char max[GN_TOPIC_NAME_MAX + 2];
    memset(max, 'x', GN_TOPIC_NAME_MAX);
    max[GN_TOPIC_NAME_MAX] = 0;
    assert_int_equal(check(max), 0);
    max[GN_TOPIC_NAME_MAX] = 'x';
    max[GN_TOPIC_NAME_MAX + 1] = 0;
    assert_int_equal(check(max), GN_EINVALID_TOPIC);
}

static void test_topic_name__illegal(void **state)
{
    static const char *bad[] = {"", ".", "..", "a b", "a/b", "é", "a:b", "a*", "t\n", "a+b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(check(bad[i]), GN_EINVALID_TOPIC);
    assert_int_equal(gn_topic_name_validate(NULL, 0), GN_EINVALID_TOPIC);
    /* the length counts, not the NUL */
    assert_int_equal(gn_topic_name_validate("ab\0c", 4), GN_EINVALID_TOPIC);
    assert_int_equal(gn_topic_name_validate("ab\0c", 2), 0);
}

static void test_topic_name__collision(void **state)
{
    assert_true(gn_topic_name_collides("a.b", "a_b"));
    assert_true(gn_topic_name_collides("a_b", "a.b"));
    assert_true(gn_topic_name_collides("x", "x"));
    assert_false(gn_topic_name_collides("a.b", "a-b"));
    assert_false(gn_topic_name_collides("a.b", "a.bc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_name__legal),
        cmocka_unit_test(test_topic_name__illegal),
        cmocka_unit_test(test_topic_name__collision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
