/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka SASL state of a connection (adapters/kafka/sasl.c): mechanism choice and the
 * errors Kafka answers, PLAIN tokens (RFC 4616, a null one too), which requests may run
 * before and after authentication. SCRAM itself is tested in tests/unit/auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../../adapters/kafka/kafka.h"
#include "../../../adapters/kafka/sasl.h"
#include "ganglion/auth.h"

static gn_auth_store_t *store_alice(void)
{
    gn_auth_store_t *store = gn_auth_store_new();
    gn_scram_cred_t cred;
    const uint8_t salt[16] = {1, 2, 3};
    assert_int_equal(gn_scram_cred_derive(GN_SCRAM_SHA_256, (const uint8_t *)"pw", 2, salt,
                                          sizeof salt, 4096, &cred),
                     0);
    assert_int_equal(gn_auth_store_put(store, "alice", &cred), 0);
    return store;
}

/* literals with NULs inside */
#define TOKEN(lit) ((gn_bytes_t){(const uint8_t *)(lit), sizeof(lit) - 1})

static int plain(const gn_auth_store_t *store, gn_bytes_t token, kafka_sasl_t *s)
{
    *s = (kafka_sasl_t){0};
    assert_int_equal(kafka_sasl_handshake(s, store, TOKEN("PLAIN"), false), KAFKA_NONE);
    gn_bytes_t out;
    const char *why = NULL;
    int rc = kafka_sasl_step(s, store, token, &out, &why);
    if (rc < 0) assert_non_null(why);
    return rc;
}

static void test_sasl__handshake_errors(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_alice();
    kafka_sasl_t s = {0};
    assert_int_equal(kafka_sasl_handshake(&s, NULL, TOKEN("PLAIN"), false),
                     KAFKA_UNSUPPORTED_SASL_MECHANISM); /* no users file */
    assert_int_equal(kafka_sasl_handshake(&s, store, TOKEN("GSSAPI"), false),
                     KAFKA_UNSUPPORTED_SASL_MECHANISM);
    assert_int_equal(kafka_sasl_handshake(&s, store, TOKEN("SCRAM-SHA-512"), true), KAFKA_NONE);
    assert_true(s.raw);
    assert_int_equal(kafka_sasl_handshake(&s, store, TOKEN("PLAIN"), false),
                     KAFKA_ILLEGAL_SASL_STATE);
    kafka_sasl_free(&s);
    gn_bytes_t out;
    const char *why;
    assert_int_equal(kafka_sasl_step(&s, store, TOKEN("x"), &out, &why), -KAFKA_ILLEGAL_SASL_STATE);
    gn_auth_store_free(store);
}

static void test_sasl__plain_tokens(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_alice();
    kafka_sasl_t s;
    assert_int_equal(plain(store, TOKEN("\0alice\0pw"), &s), 0);
    assert_string_equal(s.user, "alice");
    assert_int_equal(s.state, KAFKA_SASL_DONE);
    kafka_sasl_free(&s);
    assert_int_equal(plain(store, TOKEN("alice\0alice\0pw"), &s), 0); /* authzid = user */
    kafka_sasl_free(&s);
    const gn_bytes_t bad[] = {
        TOKEN("\0alice\0wrong"), TOKEN("\0bob\0pw"), TOKEN("bob\0alice\0pw"), /* acting as bob */
        TOKEN("alice\0pw"),      TOKEN(""),          TOKEN("\0alice\0pw\0"),
        GN_BYTES_NULL, /* AuthBytes of length -1 (found by fuzz_kafka_sasl: UB before) */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = plain(store, bad[i], &s);
        if (rc != -KAFKA_SASL_AUTHENTICATION_FAILED) fail_msg("bad token %zu: rc %d", i, rc);
        assert_int_equal(s.state, KAFKA_SASL_FAILED);
        assert_null(s.user);
        kafka_sasl_free(&s);
    }
    gn_auth_store_free(store);
}

static void test_sasl__requests_allowed(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_alice();
    kafka_sasl_t s = {0};
    /* anonymous listener: anything until a handshake starts */
    assert_true(kafka_sasl_allows(&s, true, 3));
    assert_false(kafka_sasl_allows(&s, false, 3));
    assert_true(kafka_sasl_allows(&s, false, 18));
    assert_true(kafka_sasl_allows(&s, false, 17));
    assert_int_equal(kafka_sasl_handshake(&s, store, TOKEN("PLAIN"), false), KAFKA_NONE);
    assert_false(kafka_sasl_allows(&s, true, 3)); /* begun: finish it first */
    assert_true(kafka_sasl_allows(&s, true, 36));
    kafka_sasl_free(&s);
    assert_int_equal(plain(store, TOKEN("\0alice\0pw"), &s), 0);
    assert_true(kafka_sasl_allows(&s, false, 0));
    kafka_sasl_free(&s);
    assert_int_equal(plain(store, TOKEN("\0alice\0no"), &s), -KAFKA_SASL_AUTHENTICATION_FAILED);
    assert_false(kafka_sasl_allows(&s, true, 3));
    assert_false(kafka_sasl_allows(&s, true, 18));
    assert_false(kafka_sasl_allows(&s, true, 36));
    kafka_sasl_free(&s);
    gn_auth_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sasl__handshake_errors),
        cmocka_unit_test(test_sasl__plain_tokens),
        cmocka_unit_test(test_sasl__requests_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
