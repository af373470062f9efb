/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's offset checkpoint files: the text format round-trips, lookups by
 * (topic, partition), and every malformed file is ignored (empty table), not fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "broker/checkpoint.h"

static void test_checkpoint__kafka_format_round_trip(void **state)
{
    gn__checkpoint_t cp = {0};
    assert_int_equal(gn__checkpoint_add(&cp, "orders", 1, 42), 0);
    assert_int_equal(gn__checkpoint_add(&cp, "orders", 0, 7), 0);
    assert_int_equal(gn__checkpoint_add(&cp, "a.b", 3, 0), 0);
    size_t len;
    char *text = gn__checkpoint_format(&cp, &len);
    assert_string_equal(text, "0\n3\norders 1 42\norders 0 7\na.b 3 0\n");
    assert_int_equal(len, strlen(text));
    gn__checkpoint_free(&cp);

    char *dir = tu_mkdtemp();
    tu_write_file(dir, "cp", text);
    char path[4096];
    snprintf(path, sizeof(path), "%s/cp", dir);
    assert_int_equal(gn__checkpoint_read(path, &cp), 0);
    assert_int_equal(cp.count, 3);
    assert_int_equal(gn__checkpoint_get(&cp, "orders", 1), 42);
    assert_int_equal(gn__checkpoint_get(&cp, "orders", 0), 7);
    assert_int_equal(gn__checkpoint_get(&cp, "a.b", 3), 0);
    assert_int_equal(gn__checkpoint_get(&cp, "orders", 2), -1);
    assert_int_equal(gn__checkpoint_get(&cp, "x", 0), -1);
    gn__checkpoint_free(&cp);
    /* missing file: empty */
    snprintf(path, sizeof(path), "%s/none", dir);
    assert_int_equal(gn__checkpoint_read(path, &cp), 0);
    assert_int_equal(cp.count, 0);
    free(text);
    tu_rm_rf(dir);
    free(dir);
}

static void test_checkpoint__corrupt_files_are_ignored(void **state)
{
    static const char *bad[] = {
        "",
        "1\n0\n",                    /* unknown version */
        "0\n2\norders 0 5\n",        /* fewer entries than counted */
        "0\n1\norders 0 5\nx 1 1\n", /* more */
        "0\n1\norders zero 5\n",
        "0\n1\norders 0 -5\n",
        "0\n1\nbad/name 0 5\n",
        "0\n1\norders 0 5", /* torn last line */
        "\x01\x02garbage",
    };
    char *dir = tu_mkdtemp();
    char path[4096];
    snprintf(path, sizeof(path), "%s/cp", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_write_file(dir, "cp", bad[i]);
        gn__checkpoint_t cp;
        assert_int_equal(gn__checkpoint_read(path, &cp), 0);
        if (cp.count != 0) fail_msg("case %zu accepted", i);
        gn__checkpoint_free(&cp);
    }
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint__kafka_format_round_trip),
        cmocka_unit_test(test_checkpoint__corrupt_files_are_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
