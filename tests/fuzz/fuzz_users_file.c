/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the users file (core/auth/store.c, gn_auth_store_load): the
 * input is the file's text, loaded into a store that already holds "base". A bad file
 * must be refused with a message and leave the store as it was; a good one, saved with
 * gn_auth_store_save and loaded again, must give the same users and mechanisms. The file
 * lives in a private temp dir (on /dev/shm when there is one). Seeds:
 * tests/fuzz/corpus/users_file/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/auth.h"

static char in_path[128], out_path[128];

static void paths_init(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "%s/gn-fuzz-users-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
}

static gn_auth_store_t *base_store(void)
{
    static gn_scram_cred_t cred; /* derived once: PBKDF2 is slow */
    if (!cred.iterations &&
        gn_scram_cred_derive(GN_SCRAM_SHA_256, (const uint8_t *)"pw", 2,
                             (const uint8_t *)"0123456789abcdef", 16, 4096, &cred) < 0)
        abort();
    gn_auth_store_t *s = gn_auth_store_new();
    if (!s || gn_auth_store_put(s, "base", &cred) < 0) abort();
    return s;
}

/* Same users, each with the same mechanisms and credentials. */
static void check_same(const gn_auth_store_t *a, const gn_auth_store_t *b)
{
    if (gn_auth_store_count(a) != gn_auth_store_count(b)) abort();
    for (size_t i = 0; i < gn_auth_store_count(a); i++) {
        unsigned ma, mb;
        const char *u = gn_auth_store_user(a, i, &ma);
        if (strcmp(u, gn_auth_store_user(b, i, &mb)) != 0 || ma != mb) abort();
        for (int m = 0; m < GN_SCRAM_MECH_COUNT; m++) {
            const gn_scram_cred_t *ca = gn_auth_store_find(a, u, strlen(u), (gn_scram_mech_t)m);
            const gn_scram_cred_t *cb = gn_auth_store_find(b, u, strlen(u), (gn_scram_mech_t)m);
            if (!ca != !cb) abort();
            if (ca && (ca->iterations != cb->iterations || ca->salt_len != cb->salt_len ||
                       memcmp(ca->salt, cb->salt, ca->salt_len) != 0 ||
                       memcmp(ca->stored_key, cb->stored_key, gn_scram_key_len(ca->mech)) != 0))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!in_path[0]) paths_init();
    FILE *fp = fopen(in_path, "w");
    if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) abort();
    gn_auth_store_t *store = base_store();
    char err[512] = "";
    int rc = gn_auth_store_load(store, in_path, err, sizeof err);
    if (rc < 0) {
        if (!err[0] || gn_auth_store_count(store) != 1 ||
            !gn_auth_store_find(store, "base", 4, GN_SCRAM_SHA_256))
            abort();
    } else {
        gn_auth_store_t *again = gn_auth_store_new();
        if (gn_auth_store_save(store, out_path) < 0 ||
            gn_auth_store_load(again, out_path, err, sizeof err) < 0)
            abort();
        check_same(store, again);
        gn_auth_store_free(again);
    }
    gn_auth_store_free(store);
    return 0;
}
