/* SPDX-License-Identifier: Apache-2.0 */
/* ganglion-users: edits the users file the broker reads (auth.users.file): adds a user
 * (or changes their password) with SCRAM-SHA-256 and SCRAM-SHA-512 credentials derived
 * from a password given by flag or on stdin, deletes a user, lists users. The password
 * itself is never written. Exit 0 done, 1 failed, 2 bad usage. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/auth.h"
#include "ganglion/error.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ganglion-users --file=PATH add NAME [--password=PW] [--mechanism=M] "
            "[--iterations=N]\n"
            "       ganglion-users --file=PATH delete NAME\n"
            "       ganglion-users --file=PATH list\n"
            "\n"
            "  --file=PATH        the users file (the broker's auth.users.file); created by add\n"
            "  --password=PW      the password; without it, the first line of stdin\n"
            "  --mechanism=M      SCRAM-SHA-256 or SCRAM-SHA-512 (default: both)\n"
            "  --iterations=N     PBKDF2 rounds, %d..%d (default %d)\n",
            GN_SCRAM_MIN_ITERATIONS, GN_SCRAM_MAX_ITERATIONS, GN_SCRAM_MIN_ITERATIONS);
}

/* The store in path; an absent file is an empty store when may_be_absent. */
static gn_auth_store_t *load(const char *path, bool may_be_absent)
{
    gn_auth_store_t *store = gn_auth_store_new();
    char err[512];
    if (!store) {
        fprintf(stderr, "ganglion-users: out of memory\n");
        return NULL;
    }
    int rc = gn_auth_store_load(store, path, err, sizeof err);
    if (rc == 0 || (rc == GN_ENOENT && may_be_absent)) return store;
    fprintf(stderr, "ganglion-users: %s\n", err);
    gn_auth_store_free(store);
    return NULL;
}

static int save(gn_auth_store_t *store, const char *path)
{
    int rc = gn_auth_store_save(store, path);
    if (rc < 0) fprintf(stderr, "ganglion-users: cannot write %s: %s\n", path, gn_strerror(rc));
    gn_auth_store_free(store);
    return rc < 0 ? 1 : 0;
}

/* The password from the flag, or the first line of stdin without its newline. */
static int read_password(const char *flag, char *buf, size_t cap)
{
    if (flag) {
        if (strlen(flag) >= cap) return -1;
        strcpy(buf, flag);
        return 0;
    }
    if (!fgets(buf, (int)cap, stdin)) return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int cmd_add(const char *path, const char *name, const char *pw_flag, int mechs,
                   uint32_t iterations)
{
    if (!gn_auth_user_valid(name, strlen(name))) {
        fprintf(stderr,
                "ganglion-users: bad user name (1..%d bytes, no ':' or control "
                "characters)\n",
                GN_AUTH_USER_MAX);
        return 2;
    }
    char pw[1024];
    if (read_password(pw_flag, pw, sizeof pw) < 0 || pw[0] == '\0') {
        fprintf(stderr, "ganglion-users: no password (--password=PW or one line on stdin)\n");
        return 2;
    }
    gn_auth_store_t *store = load(path, true);
    if (!store) return 1;
    int rc = 0;
    for (int m = 0; rc == 0 && m < GN_SCRAM_MECH_COUNT; m++) {
        if (!(mechs & (1 << m))) continue;
        uint8_t salt[GN_SCRAM_SALT_LEN];
        gn_scram_cred_t cred;
        if (RAND_bytes(salt, sizeof salt) != 1) rc = GN_ENOMEM;
        if (rc == 0)
            rc = gn_scram_cred_derive((gn_scram_mech_t)m, (const uint8_t *)pw, strlen(pw), salt,
                                      sizeof salt, iterations, &cred);
        if (rc == 0) rc = gn_auth_store_put(store, name, &cred);
        OPENSSL_cleanse(&cred, sizeof cred);
    }
    OPENSSL_cleanse(pw, sizeof pw);
    if (rc < 0) {
        fprintf(stderr, "ganglion-users: %s\n", gn_strerror(rc));
        gn_auth_store_free(store);
        return 1;
    }
    return save(store, path);
}

static int cmd_delete(const char *path, const char *name)
{
    gn_auth_store_t *store = load(path, false);
    if (!store) return 1;
    if (gn_auth_store_remove(store, name) < 0) {
        fprintf(stderr, "ganglion-users: no user %s in %s\n", name, path);
        gn_auth_store_free(store);
        return 1;
    }
    return save(store, path);
}

static int cmd_list(const char *path)
{
    gn_auth_store_t *store = load(path, false);
    if (!store) return 1;
    for (size_t i = 0; i < gn_auth_store_count(store); i++) {
        unsigned mechs;
        const char *name = gn_auth_store_user(store, i, &mechs);
        printf("%s", name);
        for (int m = 0; m < GN_SCRAM_MECH_COUNT; m++)
            if (mechs & (1u << m)) printf(" %s", gn_scram_mech_name((gn_scram_mech_t)m));
        printf("\n");
    }
    gn_auth_store_free(store);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'},
        {"password", required_argument, NULL, 'p'},
        {"mechanism", required_argument, NULL, 'm'},
        {"iterations", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *password = NULL;
    int mechs = (1 << GN_SCRAM_MECH_COUNT) - 1;
    long iterations = GN_SCRAM_MIN_ITERATIONS;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        gn_scram_mech_t m;
        char *end;
        switch (c) {
        case 'f':
            path = optarg;
            break;
        case 'p':
            password = optarg;
            break;
        case 'm':
            if (gn_scram_mech_find(optarg, strlen(optarg), &m) < 0) {
                fprintf(stderr, "ganglion-users: unknown mechanism %s\n", optarg);
                return 2;
            }
            mechs = 1 << m;
            break;
        case 'i':
            iterations = strtol(optarg, &end, 10);
            if (*end || iterations < GN_SCRAM_MIN_ITERATIONS ||
                iterations > GN_SCRAM_MAX_ITERATIONS) {
                fprintf(stderr, "ganglion-users: --iterations must be %d..%d\n",
                        GN_SCRAM_MIN_ITERATIONS, GN_SCRAM_MAX_ITERATIONS);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int nargs = argc - optind;
    const char *cmd = nargs > 0 ? argv[optind] : "";
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "add") == 0 && nargs == 2)
        return cmd_add(path, argv[optind + 1], password, mechs, (uint32_t)iterations);
    if (strcmp(cmd, "delete") == 0 && nargs == 2) return cmd_delete(path, argv[optind + 1]);
    if (strcmp(cmd, "list") == 0 && nargs == 1) return cmd_list(path);
    usage(stderr);
    return 2;
}
