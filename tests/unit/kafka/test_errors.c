/* SPDX-License-Identifier: Apache-2.0 */
/* kafka_err_from_gn (adapters/kafka/errors.c): every value of GN_ERRNO_MAP has its own
 * row (a new core error without a Kafka mapping fails here), and the mappings clients
 * act on are Kafka's codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../../adapters/kafka/kafka.h"
#include "ganglion/error.h"

int kafka__err_has_row(int err);

static void test_errors__every_gn_error_has_a_row(void **state)
{
#define CHECK_ROW(name, value, sentence)                                                           \
    if (!kafka__err_has_row(value)) fail_msg("GN_%s has no Kafka error code", #name);
    GN_ERRNO_MAP(CHECK_ROW)
#undef CHECK_ROW
}

static void test_errors__client_visible_codes(void **state)
{
    assert_int_equal(kafka_err_from_gn(0), 0);
    assert_int_equal(kafka_err_from_gn(GN_EOFFSETRANGE), 1);
    assert_int_equal(kafka_err_from_gn(GN_ECORRUPT), 2);
    assert_int_equal(kafka_err_from_gn(GN_EUNKNOWN_TOPIC), 3);
    assert_int_equal(kafka_err_from_gn(GN_ETIMEOUT), 7);
    assert_int_equal(kafka_err_from_gn(GN_ETOOLARGE), 10);
    assert_int_equal(kafka_err_from_gn(GN_EINVALID_TOPIC), 17);
    assert_int_equal(kafka_err_from_gn(GN_ENOT_ENOUGH_REPLICAS), 19);
    assert_int_equal(kafka_err_from_gn(GN_EUNSUPPORTED_VERSION), 35);
    assert_int_equal(kafka_err_from_gn(GN_ETOPIC_EXISTS), 36);
    assert_int_equal(kafka_err_from_gn(GN_EINVALID_CONFIG), 40);
    assert_int_equal(kafka_err_from_gn(GN_ESTORAGE), 56);
    assert_int_equal(kafka_err_from_gn(GN_EUNSUPPORTED_COMPRESSION), 76);
    assert_int_equal(kafka_err_from_gn(GN_EINVALID_RECORD), 87);
    assert_int_equal(kafka_err_from_gn(-EPIPE), 56);             /* other system errors */
    assert_int_equal(kafka_err_from_gn(GN__ERR_BASE - 999), -1); /* unknown own error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors__every_gn_error_has_a_row),
        cmocka_unit_test(test_errors__client_visible_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
