/* SPDX-License-Identifier: Apache-2.0 */
/* gn_base64: RFC 4648 vectors both ways, optional padding, and the strict refusals
 * (whitespace, foreign characters, impossible lengths, non-canonical bits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/base64.h"

static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_base64__rfc4648_vectors(void **state)
{
    (void)state;
    char enc[32];
    uint8_t dec[32];
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t n = strlen(plain[i]);
        assert_int_equal(gn_base64_encode((const uint8_t *)plain[i], n, enc), strlen(coded[i]));
        assert_string_equal(enc, coded[i]);
        assert_int_equal(gn_base64_decode(coded[i], strlen(coded[i]), dec), (long)n);
        assert_memory_equal(dec, plain[i], n);
    }
}

static void test_base64__padding_is_optional(void **state)
{
    (void)state;
    uint8_t dec[16];
    assert_int_equal(gn_base64_decode("Zm9vYg", 6, dec), 4);
    assert_memory_equal(dec, "foob", 4);
    assert_int_equal(gn_base64_decode("Zm9vYmE", 7, dec), 5);
    assert_memory_equal(dec, "fooba", 5);
}

static void test_base64__strict_refusals(void **state)
{
    (void)state;
    uint8_t dec[16];
    assert_int_equal(gn_base64_decode(" Zm9v", 5, dec), -1); /* whitespace */
    assert_int_equal(gn_base64_decode("Zm9v\n", 5, dec), -1);
    assert_int_equal(gn_base64_decode("Zm9-", 4, dec), -1);  /* url-safe alphabet */
    assert_int_equal(gn_base64_decode("Zm9vY", 5, dec), -1); /* 4n+1 characters */
    assert_int_equal(gn_base64_decode("Zh==", 4, dec), -1);  /* non-canonical bits */
    assert_int_equal(gn_base64_decode("Zm9=", 4, dec), -1);
    assert_int_equal(gn_base64_decode("Zm=v", 4, dec), -1); /* '=' inside */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64__rfc4648_vectors),
        cmocka_unit_test(test_base64__padding_is_optional),
        cmocka_unit_test(test_base64__strict_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
