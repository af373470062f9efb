/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket transport's coalesced writes build server frames themselves: headers
 * for the three length encodings of RFC 6455 5.2 (7-bit, 16-bit, 64-bit), FIN set,
 * text or binary opcode, never masked (core/util/ws_frame.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ganglion/transport.h"

static void test_frame_header__short_text(void **state)
{
    (void)state;
    uint8_t h[10];
    assert_int_equal(gn_ws_frame_header(h, false, 125), 2);
    assert_int_equal(h[0], 0x81);
    assert_int_equal(h[1], 125);
}

static void test_frame_header__16_bit_length(void **state)
{
    (void)state;
    uint8_t h[10];
    assert_int_equal(gn_ws_frame_header(h, true, 126), 4);
    assert_int_equal(h[0], 0x82);
    assert_int_equal(h[1], 126);
    assert_int_equal(h[2] << 8 | h[3], 126);
    assert_int_equal(gn_ws_frame_header(h, false, 65535), 4);
    assert_int_equal(h[2] << 8 | h[3], 65535);
}

static void test_frame_header__64_bit_length(void **state)
{
    (void)state;
    uint8_t h[10];
    assert_int_equal(gn_ws_frame_header(h, false, 65536), 10);
    assert_int_equal(h[1], 127);
    uint64_t len = 0;
    for (int i = 0; i < 8; i++)
        len = len << 8 | h[2 + i];
    assert_int_equal(len, 65536);
    assert_int_equal(h[1] & 0x80, 0); /* server frames are never masked */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_header__short_text),
        cmocka_unit_test(test_frame_header__16_bit_length),
        cmocka_unit_test(test_frame_header__64_bit_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
