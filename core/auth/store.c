/* SPDX-License-Identifier: Apache-2.0 */
/* The credential store: users sorted by name, each with one SCRAM credential per
 * mechanism; the users file it is loaded from and saved to (one credential a line,
 * format in core/auth/README.md); plain-password checks. The gateway loads it at
 * start-up and the adapters read it; the ganglion-users tool edits the file. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_internal.h"
#include "ganglion/base64.h"
#include "ganglion/error.h"

#define LINE_MAX_BYTES 2048

typedef struct user {
    char *name;
    size_t name_len;
    unsigned mechs; /* bit (1 << mech) per credential held */
    gn_scram_cred_t cred[GN_SCRAM_MECH_COUNT];
} user_t;

struct gn_auth_store {
    user_t *users; /* sorted by name (bytes, then length) */
    size_t n, cap;
    uint8_t mock_key[32]; /* unknown users' salts derive from it */
};

gn_auth_store_t *gn_auth_store_new(void)
{
    gn_auth_store_t *store = calloc(1, sizeof(*store));
    if (!store) return NULL;
    if (RAND_bytes(store->mock_key, sizeof store->mock_key) != 1) {
        free(store);
        return NULL;
    }
    return store;
}

void gn_auth_store_free(gn_auth_store_t *store)
{
    if (!store) return;
    for (size_t i = 0; i < store->n; i++)
        free(store->users[i].name);
    OPENSSL_cleanse(store->users, store->cap * sizeof(user_t));
    free(store->users);
    OPENSSL_cleanse(store, sizeof(*store));
    free(store);
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Index of name, or of where it would go (*found false). */
static size_t user_search(const gn_auth_store_t *store, const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = store->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(store->users[mid].name, store->users[mid].name_len, name, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int gn_auth_store_put(gn_auth_store_t *store, const char *user, const gn_scram_cred_t *cred)
{
    size_t len = strlen(user);
    if (!gn_auth_user_valid(user, len) || (unsigned)cred->mech >= GN_SCRAM_MECH_COUNT)
        return GN_EINVAL;
    bool found;
    size_t i = user_search(store, user, len, &found);
    if (!found) {
        if (store->n == store->cap) {
            size_t cap = store->cap ? store->cap * 2 : 8;
            user_t *nu = realloc(store->users, cap * sizeof(user_t));
            if (!nu) return GN_ENOMEM;
            store->users = nu;
            store->cap = cap;
        }
        char *name = strdup(user);
        if (!name) return GN_ENOMEM;
        memmove(&store->users[i + 1], &store->users[i], (store->n - i) * sizeof(user_t));
        store->n++;
        store->users[i] = (user_t){.name = name, .name_len = len};
    }
    store->users[i].cred[cred->mech] = *cred;
    store->users[i].mechs |= 1u << cred->mech;
    return 0;
}

int gn_auth_store_remove(gn_auth_store_t *store, const char *user)
{
    bool found;
    size_t i = user_search(store, user, strlen(user), &found);
    if (!found) return GN_ENOENT;
    free(store->users[i].name);
    OPENSSL_cleanse(&store->users[i], sizeof(user_t));
    memmove(&store->users[i], &store->users[i + 1], (store->n - i - 1) * sizeof(user_t));
    store->n--;
    return 0;
}

const gn_scram_cred_t *gn_auth_store_find(const gn_auth_store_t *store, const char *user,
                                          size_t user_len, gn_scram_mech_t mech)
{
    bool found;
    if ((unsigned)mech >= GN_SCRAM_MECH_COUNT) return NULL;
    size_t i = user_search(store, user, user_len, &found);
    if (!found || !(store->users[i].mechs & (1u << mech))) return NULL;
    return &store->users[i].cred[mech];
}

size_t gn_auth_store_count(const gn_auth_store_t *store)
{
    return store->n;
}

const char *gn_auth_store_user(const gn_auth_store_t *store, size_t i, unsigned *mechs)
{
    if (i >= store->n) return NULL;
    if (mechs) *mechs = store->users[i].mechs;
    return store->users[i].name;
}

void gn__auth_store_mock(const gn_auth_store_t *store, const char *user, size_t user_len,
                         gn_scram_mech_t mech, gn_scram_cred_t *out)
{
    uint8_t h[GN_SCRAM_KEY_MAX];
    memset(out, 0, sizeof(*out));
    out->mech = mech;
    out->iterations = GN_SCRAM_MIN_ITERATIONS;
    out->salt_len = GN_SCRAM_SALT_LEN;
    gn__scram_hmac(GN_SCRAM_SHA_256, store->mock_key, sizeof store->mock_key, (const uint8_t *)user,
                   user_len, h);
    memcpy(out->salt, h, GN_SCRAM_SALT_LEN);
    /* keys nobody knows: a fresh random StoredKey never matches a proof */
    RAND_bytes(out->stored_key, (int)gn_scram_key_len(mech));
    RAND_bytes(out->server_key, (int)gn_scram_key_len(mech));
}

int gn_auth_verify_password(const gn_auth_store_t *store, const char *user, size_t user_len,
                            const uint8_t *password, size_t password_len)
{
    bool found;
    size_t i = user_search(store, user, user_len, &found);
    /* No stored password holds a NUL (ganglion-users reads text), and HMAC pads its key
     * with zeros, so "pw\0" would pass for "pw": refuse it (after the same work). */
    bool nul = memchr(password, 0, password_len) != NULL;
    if (found && store->users[i].mechs && !nul) {
        /* the cheaper digest when both are held: one PBKDF2 either way */
        gn_scram_mech_t m = (store->users[i].mechs & (1u << GN_SCRAM_SHA_256)) ? GN_SCRAM_SHA_256
                                                                               : GN_SCRAM_SHA_512;
        return gn_scram_cred_check(&store->users[i].cred[m], password, password_len) ? 0 : GN_EAUTH;
    }
    gn_scram_cred_t mock;
    gn__auth_store_mock(store, user, user_len, GN_SCRAM_SHA_256, &mock);
    (void)gn_scram_cred_check(&mock, password, password_len); /* the same cost */
    return GN_EAUTH;
}

/* ---- the users file --------------------------------------------------------------- */

/* Splits line at ':' into exactly n fields (NUL-terminating each). */
static bool split_fields(char *line, char **f, int n)
{
    int k = 0;
    f[k++] = line;
    for (char *p = line; *p; p++) {
        if (*p != ':') continue;
        if (k == n) return false;
        *p = '\0';
        f[k++] = p + 1;
    }
    return k == n;
}

static bool decode_exact(const char *b64, uint8_t *out, size_t min, size_t max, size_t *len)
{
    size_t n = strlen(b64);
    if (n > GN_BASE64_ENCODED_SIZE(GN_SCRAM_KEY_MAX)) return false;
    uint8_t buf[GN_SCRAM_KEY_MAX + 4];
    long got = gn_base64_decode(b64, n, buf);
    if (got < (long)min || got > (long)max) return false;
    memcpy(out, buf, (size_t)got);
    *len = (size_t)got;
    return true;
}

/* One credential line: name:MECHANISM:iterations:salt:StoredKey:ServerKey. NULL or why
 * it is bad. */
static const char *parse_line(char *line, char **name, gn_scram_cred_t *cred)
{
    char *f[6];
    if (!split_fields(line, f, 6)) return "expected name:mechanism:iterations:salt:stored:server";
    if (!gn_auth_user_valid(f[0], strlen(f[0]))) return "bad user name";
    memset(cred, 0, sizeof(*cred));
    if (gn_scram_mech_find(f[1], strlen(f[1]), &cred->mech) < 0) return "unknown mechanism";
    char *end;
    errno = 0;
    unsigned long it = strtoul(f[2], &end, 10);
    if (errno || end == f[2] || *end || it < GN_SCRAM_MIN_ITERATIONS ||
        it > GN_SCRAM_MAX_ITERATIONS)
        return "iterations must be 4096..1000000";
    cred->iterations = (uint32_t)it;
    size_t kl = gn_scram_key_len(cred->mech), got;
    if (!decode_exact(f[3], cred->salt, 1, GN_SCRAM_SALT_MAX, &cred->salt_len))
        return "bad salt (base64, 1..64 bytes)";
    if (!decode_exact(f[4], cred->stored_key, kl, kl, &got)) return "bad StoredKey";
    if (!decode_exact(f[5], cred->server_key, kl, kl, &got)) return "bad ServerKey";
    *name = f[0];
    return NULL;
}

/* Reads every line of fp into store; the first bad line stops it. */
static int load_lines(gn_auth_store_t *store, FILE *fp, const char *path, char *err, size_t errcap)
{
    char line[LINE_MAX_BYTES];
    int lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            snprintf(err, errcap, "%s:%d: line too long", path, lineno);
            return GN_EINVALID_CONFIG;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#') continue;
        char *name;
        gn_scram_cred_t cred;
        const char *why = parse_line(line, &name, &cred);
        if (!why && gn_auth_store_find(store, name, strlen(name), cred.mech))
            why = "a second credential for this user and mechanism";
        int rc = why ? GN_EINVALID_CONFIG : gn_auth_store_put(store, name, &cred);
        OPENSSL_cleanse(&cred, sizeof cred);
        if (rc < 0) {
            snprintf(err, errcap, "%s:%d: %s", path, lineno, why ? why : gn_strerror(rc));
            return rc;
        }
    }
    if (ferror(fp)) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}

int gn_auth_store_load(gn_auth_store_t *store, const char *path, char *err, size_t errcap)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        int e = errno;
        snprintf(err, errcap, "%s: %s", path, strerror(e));
        return -e;
    }
    gn_auth_store_t *tmp = gn_auth_store_new();
    int rc = tmp ? load_lines(tmp, fp, path, err, errcap) : GN_ENOMEM;
    fclose(fp);
    if (rc == GN_ENOMEM) snprintf(err, errcap, "%s: out of memory", path);
    /* the store changes only when the whole file was good */
    for (size_t i = 0; rc == 0 && i < tmp->n; i++)
        for (int m = 0; rc == 0 && m < GN_SCRAM_MECH_COUNT; m++)
            if (tmp->users[i].mechs & (1u << m))
                rc = gn_auth_store_put(store, tmp->users[i].name, &tmp->users[i].cred[m]);
    gn_auth_store_free(tmp);
    return rc;
}

static int write_cred(FILE *fp, const char *name, const gn_scram_cred_t *c)
{
    char salt[GN_BASE64_ENCODED_SIZE(GN_SCRAM_SALT_MAX)];
    char stored[GN_BASE64_ENCODED_SIZE(GN_SCRAM_KEY_MAX)];
    char server[GN_BASE64_ENCODED_SIZE(GN_SCRAM_KEY_MAX)];
    size_t kl = gn_scram_key_len(c->mech);
    gn_base64_encode(c->salt, c->salt_len, salt);
    gn_base64_encode(c->stored_key, kl, stored);
    gn_base64_encode(c->server_key, kl, server);
    return fprintf(fp, "%s:%s:%u:%s:%s:%s\n", name, gn_scram_mech_name(c->mech), c->iterations,
                   salt, stored, server) < 0
               ? -EIO
               : 0;
}

int gn_auth_store_save(const gn_auth_store_t *store, const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) return -ENAMETOOLONG;
    int fd = mkstemp(tmp);
    if (fd < 0) return -errno;
    int rc = 0;
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        rc = -errno;
        close(fd);
        goto out;
    }
    if (fchmod(fd, 0600) < 0) rc = -errno;
    if (rc == 0 && fputs("# ganglion users file, written by ganglion-users: "
                         "name:mechanism:iterations:salt:StoredKey:ServerKey\n",
                         fp) < 0)
        rc = -EIO;
    for (size_t i = 0; rc == 0 && i < store->n; i++)
        for (int m = 0; rc == 0 && m < GN_SCRAM_MECH_COUNT; m++)
            if (store->users[i].mechs & (1u << m))
                rc = write_cred(fp, store->users[i].name, &store->users[i].cred[m]);
    if (rc == 0 && (fflush(fp) != 0 || fsync(fd) < 0)) rc = -errno;
    if (fclose(fp) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0) rc = -errno;
out:
    if (rc < 0) unlink(tmp);
    return rc;
}
