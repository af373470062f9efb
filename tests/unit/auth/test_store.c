/* SPDX-License-Identifier: Apache-2.0 */
/* The credential store (core/auth/store.c): plain-password checks, the users file
 * written and read back (mode 0600, no password in it), every bad line refused with
 * file:line and the store left unchanged, replace and remove, user name rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ganglion/auth.h"
#include "ganglion/error.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/gn-auth-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/users", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void add(gn_auth_store_t *store, const char *user, gn_scram_mech_t mech, const char *pw)
{
    gn_scram_cred_t cred;
    assert_int_equal(gn_scram_cred_derive(mech, (const uint8_t *)pw, strlen(pw),
                                          (const uint8_t *)"0123456789abcdef", 16, 4096, &cred),
                     0);
    assert_int_equal(gn_auth_store_put(store, user, &cred), 0);
}

static int verify(const gn_auth_store_t *store, const char *user, const char *pw)
{
    return gn_auth_verify_password(store, user, strlen(user), (const uint8_t *)pw, strlen(pw));
}

static void write_file(const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_store__verifies_passwords(void **state)
{
    (void)state;
    gn_auth_store_t *store = gn_auth_store_new();
    add(store, "alice", GN_SCRAM_SHA_256, "wonderland");
    add(store, "bob", GN_SCRAM_SHA_512, "builder");
    assert_int_equal(verify(store, "alice", "wonderland"), 0);
    assert_int_equal(verify(store, "bob", "builder"), 0);
    assert_int_equal(verify(store, "alice", "builder"), GN_EAUTH);
    assert_int_equal(verify(store, "alice", ""), GN_EAUTH);
    assert_int_equal(verify(store, "alic", "wonderland"), GN_EAUTH);
    assert_int_equal(verify(store, "carol", "wonderland"), GN_EAUTH);
    /* names are compared as bytes, the whole length */
    assert_int_equal(gn_auth_verify_password(store, "alice!", 5, (const uint8_t *)"wonderland", 10),
                     0);
    /* HMAC pads keys with zeros: a trailing NUL must not pass for the password */
    assert_int_equal(gn_auth_verify_password(store, "alice", 5, (const uint8_t *)"wonderland", 11),
                     GN_EAUTH);
    gn_auth_store_free(store);
}

static void test_store__save_then_load_round_trips(void **state)
{
    (void)state;
    gn_auth_store_t *store = gn_auth_store_new();
    add(store, "zed", GN_SCRAM_SHA_256, "z");
    add(store, "alice", GN_SCRAM_SHA_256, "wonderland");
    add(store, "alice", GN_SCRAM_SHA_512, "wonderland");
    add(store, "name with spaces, commas=and equals", GN_SCRAM_SHA_512, "x");
    assert_int_equal(gn_auth_store_save(store, path), 0);
    gn_auth_store_free(store);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char text[4096];
    FILE *fp = fopen(path, "r");
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    assert_null(strstr(text, "wonderland")); /* never the password */
    assert_non_null(strstr(text, "\nalice:SCRAM-SHA-256:4096:MDEyMzQ1Njc4OWFiY2RlZg==:"));

    store = gn_auth_store_new();
    char err[256];
    assert_int_equal(gn_auth_store_load(store, path, err, sizeof err), 0);
    assert_int_equal(gn_auth_store_count(store), 3);
    unsigned mechs;
    assert_string_equal(gn_auth_store_user(store, 0, &mechs), "alice"); /* sorted */
    assert_int_equal(mechs, 3);
    assert_int_equal(verify(store, "alice", "wonderland"), 0);
    assert_int_equal(verify(store, "zed", "z"), 0);
    assert_int_equal(verify(store, "name with spaces, commas=and equals", "x"), 0);
    assert_non_null(gn_auth_store_find(store, "alice", 5, GN_SCRAM_SHA_512));
    assert_null(gn_auth_store_find(store, "zed", 3, GN_SCRAM_SHA_512));
    gn_auth_store_free(store);
}

static void test_store__bad_lines_refused_with_file_and_line(void **state)
{
    (void)state;
    /* a good StoredKey/ServerKey pair for SHA-256 (32 bytes each) */
    const char *k = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=";
    static const struct {
        const char *line;
        const char *why;
    } bad[] = {
        {"alice:SCRAM-SHA-256:4096:c2FsdA==:%s", "expected name:mechanism"},
        {"alice:SCRAM-SHA-1:4096:c2FsdA==:%s:%s", "unknown mechanism"},
        {"alice:SCRAM-SHA-256:4095:c2FsdA==:%s:%s", "iterations"},
        {"alice:SCRAM-SHA-256:4096x:c2FsdA==:%s:%s", "iterations"},
        {"alice:SCRAM-SHA-256:4096:c2Fsd:%s:%s", "bad salt"},
        {"alice:SCRAM-SHA-256:4096::%s:%s", "bad salt"},
        {"alice:SCRAM-SHA-256:4096:c2FsdA==:c2FsdA==:%s", "bad StoredKey"},
        {"alice:SCRAM-SHA-512:4096:c2FsdA==:%s:%s", "bad StoredKey"},
        {":SCRAM-SHA-256:4096:c2FsdA==:%s:%s", "bad user name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024], line[400];
        snprintf(line, sizeof line, bad[i].line, k, k);
        snprintf(text, sizeof text, "# comment\n\nbob:SCRAM-SHA-256:4096:c2FsdA==:%s:%s\n%s\n", k,
                 k, line);
        write_file(text);
        gn_auth_store_t *store = gn_auth_store_new();
        char err[256] = "", want[200];
        assert_int_equal(gn_auth_store_load(store, path, err, sizeof err), GN_EINVALID_CONFIG);
        snprintf(want, sizeof want, "%s:4: ", path);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, bad[i].why))
            fail_msg("%s -> %s", line, err);
        assert_int_equal(gn_auth_store_count(store), 0); /* bob was not kept */
        gn_auth_store_free(store);
    }
    /* the same user and mechanism twice */
    char text[512];
    snprintf(text, sizeof text,
             "bob:SCRAM-SHA-256:4096:c2FsdA==:%s:%s\nbob:SCRAM-SHA-256:4096:c2FsdA==:%s:%s\n", k, k,
             k, k);
    write_file(text);
    gn_auth_store_t *store = gn_auth_store_new();
    char err[256];
    assert_int_equal(gn_auth_store_load(store, path, err, sizeof err), GN_EINVALID_CONFIG);
    assert_non_null(strstr(err, ":2: a second credential"));
    /* a missing file */
    unlink(path);
    assert_int_equal(gn_auth_store_load(store, path, err, sizeof err), GN_ENOENT);
    assert_non_null(strstr(err, "No such file"));
    gn_auth_store_free(store);
}

static void test_store__put_replaces_and_remove_forgets(void **state)
{
    (void)state;
    gn_auth_store_t *store = gn_auth_store_new();
    add(store, "alice", GN_SCRAM_SHA_256, "old");
    add(store, "alice", GN_SCRAM_SHA_256, "new");
    assert_int_equal(gn_auth_store_count(store), 1);
    assert_int_equal(verify(store, "alice", "old"), GN_EAUTH);
    assert_int_equal(verify(store, "alice", "new"), 0);
    assert_int_equal(gn_auth_store_remove(store, "alice"), 0);
    assert_int_equal(gn_auth_store_remove(store, "alice"), GN_ENOENT);
    assert_int_equal(verify(store, "alice", "new"), GN_EAUTH);
    gn_scram_cred_t cred;
    assert_int_equal(gn_scram_cred_derive(GN_SCRAM_SHA_256, (const uint8_t *)"x", 1,
                                          (const uint8_t *)"s", 1, 4096, &cred),
                     0);
    assert_int_equal(gn_auth_store_put(store, "a:b", &cred), GN_EINVAL);
    assert_int_equal(gn_auth_store_put(store, "", &cred), GN_EINVAL);
    assert_int_equal(gn_auth_store_put(store, "tab\there", &cred), GN_EINVAL);
    assert_int_equal(gn_scram_cred_derive(GN_SCRAM_SHA_256, (const uint8_t *)"x", 1,
                                          (const uint8_t *)"s", 0, 4096, &cred),
                     GN_EINVAL);
    gn_auth_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store__verifies_passwords),
        cmocka_unit_test_setup_teardown(test_store__save_then_load_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store__bad_lines_refused_with_file_and_line, setup,
                                        teardown),
        cmocka_unit_test(test_store__put_replaces_and_remove_forgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
