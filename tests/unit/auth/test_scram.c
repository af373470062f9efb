/* SPDX-License-Identifier: Apache-2.0 */
/* SCRAM key derivation and the server exchange (core/auth/scram.c, scram_server.c):
 * RFC 7677's SCRAM-SHA-256 example byte for byte; RFC 5802's example exchange run with
 * SHA-512 (expected proof and signature computed independently with Python's hashlib
 * and hmac, which reproduce both RFCs' own examples); wrong proofs, unknown users,
 * SASL name escapes, authzid, and every malformed message refused with an "e=" error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ganglion/auth.h"
#include "ganglion/base64.h"
#include "ganglion/error.h"

void gn__scram_server_fix_nonce(gn_scram_server_t *s, const char *snonce);

static void assert_out(gn_bytes_t out, const char *want)
{
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.ptr, want, out.len);
}

static int step(gn_scram_server_t *s, const char *msg, gn_bytes_t *out)
{
    return gn_scram_server_step(s, (const uint8_t *)msg, strlen(msg), out);
}

static gn_auth_store_t *store_with(const char *user, gn_scram_mech_t mech, const char *pw,
                                   const char *salt_b64)
{
    gn_auth_store_t *store = gn_auth_store_new();
    assert_non_null(store);
    uint8_t salt[64];
    long n = gn_base64_decode(salt_b64, strlen(salt_b64), salt);
    assert_true(n > 0);
    gn_scram_cred_t cred;
    assert_int_equal(
        gn_scram_cred_derive(mech, (const uint8_t *)pw, strlen(pw), salt, (size_t)n, 4096, &cred),
        0);
    assert_int_equal(gn_auth_store_put(store, user, &cred), 0);
    return store;
}

/* RFC 7677 section 3. */
static void test_scram__rfc7677_sha256_vector(void **state)
{
    (void)state;
    gn_auth_store_t *store =
        store_with("user", GN_SCRAM_SHA_256, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==");
    const gn_scram_cred_t *cred = gn_auth_store_find(store, "user", 4, GN_SCRAM_SHA_256);
    char b64[128];
    gn_base64_encode(cred->stored_key, 32, b64);
    assert_string_equal(b64, "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
    gn_base64_encode(cred->server_key, 32, b64);
    assert_string_equal(b64, "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");

    gn_scram_server_t *s = gn_scram_server_new(store, GN_SCRAM_SHA_256);
    gn__scram_server_fix_nonce(s, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    gn_bytes_t out;
    assert_int_equal(step(s, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", &out), GN_SCRAM_CONTINUE);
    assert_out(out, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    assert_string_equal(gn_scram_server_user(s), "user");
    assert_int_equal(step(s,
                          "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                          "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
                          &out),
                     0);
    assert_out(out, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    /* the exchange is over */
    assert_int_equal(step(s, "c=biws", &out), GN_EINVAL);
    gn_scram_server_free(s);
    gn_auth_store_free(store);
}

/* RFC 5802 section 5's exchange, with SHA-512 instead of SHA-1. */
static void test_scram__rfc5802_exchange_sha512(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("user", GN_SCRAM_SHA_512, "pencil", "QSXCR+Q6sek8bf92");
    const gn_scram_cred_t *cred = gn_auth_store_find(store, "user", 4, GN_SCRAM_SHA_512);
    char b64[128];
    gn_base64_encode(cred->stored_key, 64, b64);
    assert_string_equal(b64, "Lm7w6zPGAx+UoahlEm1whIN7PS1KGU+9+V5PyudK6c/"
                             "mWVVtkXSCpVPmUKQLYDKR7v0uSkxrBzPm7HuSwZ/ytw==");
    gn_scram_server_t *s = gn_scram_server_new(store, GN_SCRAM_SHA_512);
    gn__scram_server_fix_nonce(s, "3rfcNHYJY1ZVvWVs7j");
    gn_bytes_t out;
    assert_int_equal(step(s, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", &out), GN_SCRAM_CONTINUE);
    assert_out(out, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    assert_int_equal(
        step(s,
             "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=VdS8LkrURiej1tG6iX+"
             "fqCXQfUnBb//d9llXYaH+ylUbDwBUz9geyR9fC4TewskRUM2tlYSalhAT4Aay1Q5dTA==",
             &out),
        0);
    assert_out(out,
               "v=14PAAuavk9hxBEkgB0brDxUhvWu+N16meYk+qxVNFqchR8QPohM09Y4Z6WaTCuX4C6nqMB9KIJTDm6R"
               "pSM990g==");
    gn_scram_server_free(s);
    gn_auth_store_free(store);
}

/* What the client puts before the nonce of server-first in client-final: nothing
 * (RFC 5802) or, as librdkafka does, its own nonce again. */
static const char *final_nonce_prefix = "";

/* The client side, for exchanges with a random server nonce: parses server-first and
 * returns client-final for password. */
static void client_final(gn_scram_mech_t mech, const char *gs2, const char *bare,
                         gn_bytes_t server_first, const char *password, char *out, size_t cap)
{
    const EVP_MD *md = mech == GN_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
    size_t kl = gn_scram_key_len(mech);
    char sf[512];
    snprintf(sf, sizeof sf, "%.*s", (int)server_first.len, (const char *)server_first.ptr);
    char *nonce = strstr(sf, "r=") + 2, *salt = strstr(sf, ",s=") + 3, *it = strstr(sf, ",i=") + 3;
    uint8_t saltb[64], salted[64], ck[64], stored[64], sig[64];
    long sl = gn_base64_decode(salt, (size_t)(strchr(salt, ',') - salt), saltb);
    assert_true(sl > 0);
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), saltb, (int)sl, atoi(it), md, (int)kl,
                      salted);
    unsigned n;
    HMAC(md, salted, (int)kl, (const uint8_t *)"Client Key", 10, ck, &n);
    EVP_Digest(ck, kl, stored, &n, md, NULL);
    char cb[64], without[512], am[2048];
    gn_base64_encode((const uint8_t *)gs2, strlen(gs2), cb);
    snprintf(without, sizeof without, "c=%s,r=%s%.*s", cb, final_nonce_prefix,
             (int)(strchr(nonce, ',') - nonce), nonce);
    snprintf(am, sizeof am, "%s,%s,%s", bare, sf, without);
    HMAC(md, stored, (int)kl, (const uint8_t *)am, strlen(am), sig, &n);
    for (size_t i = 0; i < kl; i++)
        ck[i] ^= sig[i];
    char proof[128];
    gn_base64_encode(ck, kl, proof);
    snprintf(out, cap, "%s,p=%s", without, proof);
}

static int exchange(gn_auth_store_t *store, gn_scram_mech_t mech, const char *gs2, const char *bare,
                    const char *password, gn_bytes_t *out)
{
    gn_scram_server_t *s = gn_scram_server_new(store, mech);
    char first[512], final[1024];
    snprintf(first, sizeof first, "%s%s", gs2, bare);
    int rc = step(s, first, out);
    if (rc == GN_SCRAM_CONTINUE) {
        client_final(mech, gs2, bare, *out, password, final, sizeof final);
        rc = step(s, final, out);
    }
    static char last[256]; /* *out outlives the exchange */
    snprintf(last, sizeof last, "%.*s", (int)out->len, (const char *)out->ptr);
    *out = (gn_bytes_t){(const uint8_t *)last, strlen(last)};
    gn_scram_server_free(s);
    return rc;
}

static void test_scram__random_nonce_exchange_succeeds(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("alice", GN_SCRAM_SHA_256, "s3cret", "c2FsdHNhbHQ=");
    gn_bytes_t out;
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "n,,", "n=alice,r=abc", "s3cret", &out), 0);
    /* 'y': the client could bind but thinks we cannot; the binding is then "y,," */
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "y,,", "n=alice,r=abc", "s3cret", &out), 0);
    /* authzid equal to the user is accepted */
    assert_int_equal(
        exchange(store, GN_SCRAM_SHA_256, "n,a=alice,", "n=alice,r=abc", "s3cret", &out), 0);
    /* extensions after the nonce are ignored (Kafka sends tokenauth=true) */
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "n,,", "n=alice,r=abc,t=x", "s3cret", &out),
                     0);
    gn_auth_store_free(store);
}

/* librdkafka sends r=<client nonce><nonce of server-first>; Kafka accepts a nonce that
 * ends with the server's, and so do we. One that does not end with it still fails. */
static void test_scram__librdkafka_nonce_accepted(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("alice", GN_SCRAM_SHA_256, "s3cret", "c2FsdHNhbHQ=");
    gn_bytes_t out;
    final_nonce_prefix = "abc";
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "n,,", "n=alice,r=abc", "s3cret", &out), 0);
    final_nonce_prefix = "";
    gn_auth_store_free(store);
}

static void test_scram__wrong_password_fails_with_invalid_proof(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("alice", GN_SCRAM_SHA_256, "s3cret", "c2FsdHNhbHQ=");
    gn_bytes_t out;
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "n,,", "n=alice,r=abc", "wrong", &out),
                     GN_EAUTH);
    assert_out(out, "e=invalid-proof");
    /* a credential for the other mechanism does not count */
    assert_int_equal(exchange(store, GN_SCRAM_SHA_512, "n,,", "n=alice,r=abc", "s3cret", &out),
                     GN_EAUTH);
    gn_auth_store_free(store);
}

static void test_scram__unknown_user_fails_like_a_wrong_password(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("alice", GN_SCRAM_SHA_256, "s3cret", "c2FsdHNhbHQ=");
    gn_bytes_t out;
    char first1[256], first2[256];
    gn_scram_server_t *s = gn_scram_server_new(store, GN_SCRAM_SHA_256);
    assert_int_equal(step(s, "n,,n=mallory,r=abc", &out), GN_SCRAM_CONTINUE);
    snprintf(first1, sizeof first1, "%.*s", (int)out.len, (const char *)out.ptr);
    gn_scram_server_free(s);
    s = gn_scram_server_new(store, GN_SCRAM_SHA_256);
    assert_int_equal(step(s, "n,,n=mallory,r=abc", &out), GN_SCRAM_CONTINUE);
    snprintf(first2, sizeof first2, "%.*s", (int)out.len, (const char *)out.ptr);
    gn_scram_server_free(s);
    /* the same salt and iterations each time, as for a real user */
    assert_string_equal(strstr(first1, ",s="), strstr(first2, ",s="));
    assert_non_null(strstr(first1, ",i=4096"));
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "n,,", "n=mallory,r=abc", "", &out),
                     GN_EAUTH);
    assert_out(out, "e=invalid-proof");
    gn_auth_store_free(store);
}

static void test_scram__sasl_name_escapes_decode(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("a,b=c", GN_SCRAM_SHA_256, "pw", "c2FsdHNhbHQ=");
    gn_bytes_t out;
    assert_int_equal(exchange(store, GN_SCRAM_SHA_256, "n,,", "n=a=2Cb=3Dc,r=x", "pw", &out), 0);
    gn_auth_store_free(store);
}

static void test_scram__malformed_client_first_refused(void **state)
{
    (void)state;
    static const struct {
        const char *msg;
        int rc;
        const char *err;
    } bad[] = {
        {"", GN_EINVALID_REQUEST, "e=invalid-encoding"},
        {"x,,n=alice,r=abc", GN_EINVALID_REQUEST, "e=other-error"},
        {"p=tls-unique,,n=alice,r=abc", GN_EINVALID_REQUEST, "e=channel-binding-not-supported"},
        {"n,,m=ext,n=alice,r=abc", GN_EINVALID_REQUEST, "e=extensions-not-supported"},
        {"n,,n=al=ice,r=abc", GN_EINVALID_REQUEST, "e=invalid-username-encoding"},
        {"n,,n=alice=2,r=abc", GN_EINVALID_REQUEST, "e=invalid-username-encoding"},
        {"n,,n=,r=abc", GN_EINVALID_REQUEST, "e=invalid-username-encoding"},
        {"n,,n=a:b,r=abc", GN_EINVALID_REQUEST, "e=invalid-username-encoding"},
        {"n,,n=alice", GN_EINVALID_REQUEST, "e=other-error"},
        {"n,,n=alice,r=", GN_EINVALID_REQUEST, "e=other-error"},
        {"n,,r=abc,n=alice", GN_EINVALID_REQUEST, "e=invalid-username-encoding"},
        {"n,x=y,n=alice,r=abc", GN_EINVALID_REQUEST, "e=invalid-username-encoding"},
        {"n,", GN_EINVALID_REQUEST, "e=other-error"},
        {"n", GN_EINVALID_REQUEST, "e=other-error"},
        {"n,a=bob,n=alice,r=abc", GN_EAUTH, "e=other-error"},
    };
    gn_auth_store_t *store = store_with("alice", GN_SCRAM_SHA_256, "pw", "c2FsdHNhbHQ=");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gn_scram_server_t *s = gn_scram_server_new(store, GN_SCRAM_SHA_256);
        gn_bytes_t out;
        int rc = step(s, bad[i].msg, &out);
        if (rc != bad[i].rc) fail_msg("%s: rc %d", bad[i].msg, rc);
        assert_out(out, bad[i].err);
        assert_int_equal(step(s, "n,,n=alice,r=abc", &out), GN_EINVAL); /* over */
        gn_scram_server_free(s);
    }
    /* a NUL inside */
    gn_scram_server_t *s = gn_scram_server_new(store, GN_SCRAM_SHA_256);
    gn_bytes_t out;
    assert_int_equal(gn_scram_server_step(s, (const uint8_t *)"n,,n=a\0,r=x", 11, &out),
                     GN_EINVALID_REQUEST);
    gn_scram_server_free(s);
    gn_auth_store_free(store);
}

static void test_scram__malformed_client_final_refused(void **state)
{
    (void)state;
    gn_auth_store_t *store = store_with("alice", GN_SCRAM_SHA_256, "pw", "c2FsdHNhbHQ=");
    static const char *const bad[] = {
        "c=eSws,r=%s,p=AAAA",                                          /* binding "y,," */
        "r=%s,c=biws,p=AAAA",                                          /* order */
        "c=biws,r=%sX,p=AAAA",                                         /* nonce */
        "c=biws,r=SRV,p=AAAA",                                         /* a part of it */
        "c=biws,r=%s",                                                 /* no proof */
        "c=biws,r=%s,p=AAAA,x=y",                                      /* proof not last */
        "c=biws,r=%s,p=!!!!",                                          /* base64 */
        "c=biws,r=%s,p=AAAA",                                          /* too short */
        "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", /* our nonce missing */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gn_scram_server_t *s = gn_scram_server_new(store, GN_SCRAM_SHA_256);
        gn__scram_server_fix_nonce(s, "SRV");
        gn_bytes_t out;
        assert_int_equal(step(s, "n,,n=alice,r=abc", &out), GN_SCRAM_CONTINUE);
        char msg[256];
        snprintf(msg, sizeof msg, bad[i], "abcSRV");
        int rc = step(s, msg, &out);
        if (rc != GN_EINVALID_REQUEST) fail_msg("%s: rc %d", msg, rc);
        assert_true(out.len > 2 && memcmp(out.ptr, "e=", 2) == 0);
        gn_scram_server_free(s);
    }
    gn_auth_store_free(store);
}

static void test_scram__mechanism_names(void **state)
{
    (void)state;
    gn_scram_mech_t m;
    assert_int_equal(gn_scram_mech_find("SCRAM-SHA-512", 13, &m), 0);
    assert_int_equal(m, GN_SCRAM_SHA_512);
    assert_int_equal(gn_scram_mech_find("SCRAM-SHA-256", 13, &m), 0);
    assert_int_equal(m, GN_SCRAM_SHA_256);
    assert_int_equal(gn_scram_mech_find("SCRAM-SHA-1", 11, &m), GN_ENOENT);
    assert_int_equal(gn_scram_mech_find("scram-sha-256", 13, &m), GN_ENOENT);
    assert_string_equal(gn_scram_mech_name(GN_SCRAM_SHA_256), "SCRAM-SHA-256");
    assert_int_equal(gn_scram_key_len(GN_SCRAM_SHA_512), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram__rfc7677_sha256_vector),
        cmocka_unit_test(test_scram__rfc5802_exchange_sha512),
        cmocka_unit_test(test_scram__random_nonce_exchange_succeeds),
        cmocka_unit_test(test_scram__librdkafka_nonce_accepted),
        cmocka_unit_test(test_scram__wrong_password_fails_with_invalid_proof),
        cmocka_unit_test(test_scram__unknown_user_fails_like_a_wrong_password),
        cmocka_unit_test(test_scram__sasl_name_escapes_decode),
        cmocka_unit_test(test_scram__malformed_client_first_refused),
        cmocka_unit_test(test_scram__malformed_client_final_refused),
        cmocka_unit_test(test_scram__mechanism_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
