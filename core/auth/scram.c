/* SPDX-License-Identifier: Apache-2.0 */
/* The SCRAM mechanisms (RFC 5802 with the SHA-256 of RFC 7677, and SHA-512) and their
 * key derivation over OpenSSL: SaltedPassword = PBKDF2, ClientKey/ServerKey = HMAC,
 * StoredKey = H(ClientKey). Used by the store (plain-password checks, new credentials)
 * and the SCRAM server exchange. Pure functions, any thread. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "auth_internal.h"
#include "ganglion/error.h"

static const struct {
    const char *name;
    size_t key_len;
} mechs[GN_SCRAM_MECH_COUNT] = {
    [GN_SCRAM_SHA_256] = {"SCRAM-SHA-256", 32},
    [GN_SCRAM_SHA_512] = {"SCRAM-SHA-512", 64},
};

const char *gn_scram_mech_name(gn_scram_mech_t mech)
{
    return (unsigned)mech < GN_SCRAM_MECH_COUNT ? mechs[mech].name : "?";
}

int gn_scram_mech_find(const char *name, size_t len, gn_scram_mech_t *mech)
{
    for (int i = 0; i < GN_SCRAM_MECH_COUNT; i++) {
        if (strlen(mechs[i].name) == len && memcmp(mechs[i].name, name, len) == 0) {
            *mech = (gn_scram_mech_t)i;
            return 0;
        }
    }
    return GN_ENOENT;
}

size_t gn_scram_key_len(gn_scram_mech_t mech)
{
    return mechs[mech].key_len;
}

const EVP_MD *gn__scram_md(gn_scram_mech_t mech)
{
    return mech == GN_SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

int gn__scram_hmac(gn_scram_mech_t mech, const uint8_t *key, size_t key_len, const uint8_t *msg,
                   size_t msg_len, uint8_t *out)
{
    unsigned int n = 0;
    if (!HMAC(gn__scram_md(mech), key, (int)key_len, msg, msg_len, out, &n)) return GN_ENOMEM;
    return 0;
}

int gn__scram_hash(gn_scram_mech_t mech, const uint8_t *in, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    if (!EVP_Digest(in, len, out, &n, gn__scram_md(mech), NULL)) return GN_ENOMEM;
    return 0;
}

/* ClientKey and ServerKey from SaltedPassword. */
static int keys_from_salted(gn_scram_mech_t mech, const uint8_t *salted, uint8_t *client_key,
                            uint8_t *server_key)
{
    size_t kl = gn_scram_key_len(mech);
    int rc = gn__scram_hmac(mech, salted, kl, (const uint8_t *)"Client Key", 10, client_key);
    if (rc == 0 && server_key)
        rc = gn__scram_hmac(mech, salted, kl, (const uint8_t *)"Server Key", 10, server_key);
    return rc;
}

static int salted_password(gn_scram_mech_t mech, const uint8_t *password, size_t password_len,
                           const uint8_t *salt, size_t salt_len, uint32_t iterations, uint8_t *out)
{
    if (!PKCS5_PBKDF2_HMAC((const char *)password, (int)password_len, salt, (int)salt_len,
                           (int)iterations, gn__scram_md(mech), (int)gn_scram_key_len(mech), out))
        return GN_ENOMEM;
    return 0;
}

int gn_scram_cred_derive(gn_scram_mech_t mech, const uint8_t *password, size_t password_len,
                         const uint8_t *salt, size_t salt_len, uint32_t iterations,
                         gn_scram_cred_t *out)
{
    if ((unsigned)mech >= GN_SCRAM_MECH_COUNT || salt_len == 0 || salt_len > GN_SCRAM_SALT_MAX ||
        iterations == 0 || iterations > GN_SCRAM_MAX_ITERATIONS || password_len > INT32_MAX)
        return GN_EINVAL;
    uint8_t salted[GN_SCRAM_KEY_MAX], client_key[GN_SCRAM_KEY_MAX];
    memset(out, 0, sizeof(*out));
    out->mech = mech;
    out->iterations = iterations;
    out->salt_len = salt_len;
    memcpy(out->salt, salt, salt_len);
    int rc = salted_password(mech, password, password_len, salt, salt_len, iterations, salted);
    if (rc == 0) rc = keys_from_salted(mech, salted, client_key, out->server_key);
    if (rc == 0) rc = gn__scram_hash(mech, client_key, gn_scram_key_len(mech), out->stored_key);
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return rc;
}

bool gn_scram_cred_check(const gn_scram_cred_t *cred, const uint8_t *password, size_t password_len)
{
    gn_scram_cred_t probe;
    if (gn_scram_cred_derive(cred->mech, password, password_len, cred->salt, cred->salt_len,
                             cred->iterations, &probe) < 0)
        return false;
    bool ok = CRYPTO_memcmp(probe.stored_key, cred->stored_key, gn_scram_key_len(cred->mech)) == 0;
    OPENSSL_cleanse(&probe, sizeof probe);
    return ok;
}

bool gn_auth_user_valid(const char *name, size_t len)
{
    if (len == 0 || len > GN_AUTH_USER_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == ':') return false;
    }
    return true;
}
