/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-32C: Kafka's and RFC 3720's check values, chaining, and the ISA-L kernel
 * against the portable table on random buffers of every alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/record.h"

static void test_crc32c__check_value_123456789(void **state)
{
    (void)state;
    assert_int_equal(gn_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(gn__crc32c_portable(0, "123456789", 9), 0xE3069283u);
}

/* RFC 3720 appendix B.4 (iSCSI), the vectors Kafka's Crc32CTest also uses */
static void test_crc32c__rfc3720_vectors(void **state)
{
    uint8_t buf[32];
    (void)state;

    memset(buf, 0, sizeof(buf));
    assert_int_equal(gn_crc32c(0, buf, 32), 0x8A9136AAu);
    assert_int_equal(gn__crc32c_portable(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof(buf));
    assert_int_equal(gn_crc32c(0, buf, 32), 0x62A8AB43u);
    assert_int_equal(gn__crc32c_portable(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(gn_crc32c(0, buf, 32), 0x46DD794Eu);
    assert_int_equal(gn__crc32c_portable(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(gn_crc32c(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(gn__crc32c_portable(0, buf, 32), 0x113FDB5Cu);
}

static void test_crc32c__empty_is_identity(void **state)
{
    (void)state;
    assert_int_equal(gn_crc32c(0, "", 0), 0);
    assert_int_equal(gn_crc32c(0x12345678u, "", 0), 0x12345678u);
    assert_int_equal(gn__crc32c_portable(0x12345678u, "", 0), 0x12345678u);
}

/* crc(a || b) == crc(crc(a), b): a batch may be checksummed in pieces */
static void test_crc32c__chains_across_pieces(void **state)
{
    const char *s = "123456789";
    (void)state;

    for (size_t cut = 0; cut <= 9; cut++) {
        assert_int_equal(gn_crc32c(gn_crc32c(0, s, cut), s + cut, 9 - cut), 0xE3069283u);
        assert_int_equal(gn__crc32c_portable(gn__crc32c_portable(0, s, cut), s + cut, 9 - cut),
                         0xE3069283u);
    }
}

static void test_crc32c__hardware_equals_portable_on_random_buffers(void **state)
{
    enum { MAX = 70000 };
    uint8_t *buf = malloc(MAX + 16);
    uint32_t seed = 12345;
    (void)state;

    assert_non_null(buf);
    for (size_t i = 0; i < MAX + 16; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    /* every small length and alignment (the kernels' head/tail paths), then large */
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len < 300; len++)
            assert_int_equal(gn_crc32c(0, buf + off, len), gn__crc32c_portable(0, buf + off, len));
    for (int i = 0; i < 200; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = seed % MAX;
        size_t off = (seed >> 20) % 16;
        uint32_t init = seed ^ 0xA5A5A5A5u;
        assert_int_equal(gn_crc32c(init, buf + off, len),
                         gn__crc32c_portable(init, buf + off, len));
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c__check_value_123456789),
        cmocka_unit_test(test_crc32c__rfc3720_vectors),
        cmocka_unit_test(test_crc32c__empty_is_identity),
        cmocka_unit_test(test_crc32c__chains_across_pieces),
        cmocka_unit_test(test_crc32c__hardware_equals_portable_on_random_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
