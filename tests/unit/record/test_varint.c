/* SPDX-License-Identifier: Apache-2.0 */
/* Zigzag varints: the exact bytes of edge values (as Kafka's ByteUtils writes
 * them), round trips, sizes, and refusal of truncated or overlong encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/error.h"
#include "ganglion/record.h"

static void expect_bytes(int64_t v, const uint8_t *want, int want_len)
{
    uint8_t buf[10];
    int64_t back = 0;

    assert_int_equal(gn_varint_write(buf, v), want_len);
    assert_int_equal(gn_varint_size(v), want_len);
    assert_memory_equal(buf, want, (size_t)want_len);
    assert_int_equal(gn_varint_read(buf, (size_t)want_len, &back), want_len);
    assert_true(back == v);
}

static void test_varint__known_encodings(void **state)
{
    (void)state;
    expect_bytes(0, (const uint8_t[]){0x00}, 1);
    expect_bytes(-1, (const uint8_t[]){0x01}, 1);
    expect_bytes(1, (const uint8_t[]){0x02}, 1);
    expect_bytes(63, (const uint8_t[]){0x7E}, 1);
    expect_bytes(-64, (const uint8_t[]){0x7F}, 1);
    expect_bytes(64, (const uint8_t[]){0x80, 0x01}, 2);
    expect_bytes(-65, (const uint8_t[]){0x81, 0x01}, 2);
    expect_bytes(300, (const uint8_t[]){0xD8, 0x04}, 2);
    expect_bytes(INT32_MAX, (const uint8_t[]){0xFE, 0xFF, 0xFF, 0xFF, 0x0F}, 5);
    expect_bytes(INT32_MIN, (const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, 5);
    expect_bytes(INT64_MAX,
                 (const uint8_t[]){0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10);
    expect_bytes(INT64_MIN,
                 (const uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 10);
}

/* every power-of-two boundary, both signs, and its neighbours */
static void test_varint__round_trips_at_every_boundary(void **state)
{
    uint8_t buf[10];
    (void)state;

    for (int bit = 0; bit < 63; bit++) {
        int64_t base = (int64_t)1 << bit;
        int64_t vals[] = {base - 1, base, base + 1, -base, -base - 1, -base + 1};
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            int64_t back = 0;
            int n = gn_varint_write(buf, vals[i]);
            assert_int_equal(n, gn_varint_size(vals[i]));
            assert_in_range(n, 1, 10);
            assert_int_equal(gn_varint_read(buf, (size_t)n, &back), n);
            assert_true(back == vals[i]);
            /* one byte short is refused, never read past */
            assert_int_equal(gn_varint_read(buf, (size_t)n - 1, &back), GN_ECORRUPT);
        }
    }
}

static void test_varint__refuses_overlong_and_overflowing(void **state)
{
    uint8_t eleven[11];
    uint8_t ten_overflow[10];
    int64_t v;
    (void)state;

    memset(eleven, 0x80, sizeof(eleven));
    eleven[10] = 0x00;
    assert_int_equal(gn_varint_read(eleven, sizeof(eleven), &v), GN_ECORRUPT);
    memset(ten_overflow, 0xFF, sizeof(ten_overflow));
    ten_overflow[9] = 0x02; /* bit 64 */
    assert_int_equal(gn_varint_read(ten_overflow, sizeof(ten_overflow), &v), GN_ECORRUPT);
    assert_int_equal(gn_varint_read(eleven, 0, &v), GN_ECORRUPT);
}

/* a non-minimal encoding (0 as 0x80 0x00) is read, as Java's ByteUtils reads it */
static void test_varint__reads_non_minimal_encoding(void **state)
{
    const uint8_t zero2[] = {0x80, 0x00};
    int64_t v = 99;
    (void)state;

    assert_int_equal(gn_varint_read(zero2, sizeof(zero2), &v), 2);
    assert_true(v == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint__known_encodings),
        cmocka_unit_test(test_varint__round_trips_at_every_boundary),
        cmocka_unit_test(test_varint__refuses_overlong_and_overflowing),
        cmocka_unit_test(test_varint__reads_non_minimal_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
