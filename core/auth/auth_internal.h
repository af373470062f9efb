/* SPDX-License-Identifier: Apache-2.0 */
/* What the files of core/auth share: the digest, HMAC and hash of a mechanism, and the
 * stand-in credential of a user the store does not hold (so that an unknown user costs
 * and looks the same as a wrong password). Any thread. */
#ifndef GN_AUTH_INTERNAL_H
#define GN_AUTH_INTERNAL_H

#include <openssl/evp.h>

#include "ganglion/auth.h"

const EVP_MD *gn__scram_md(gn_scram_mech_t mech);
/* out gets gn_scram_key_len(mech) bytes. 0 or GN_ENOMEM. */
int gn__scram_hmac(gn_scram_mech_t mech, const uint8_t *key, size_t key_len, const uint8_t *msg,
                   size_t msg_len, uint8_t *out);
int gn__scram_hash(gn_scram_mech_t mech, const uint8_t *in, size_t len, uint8_t *out);

/* A credential for a user the store does not hold: a salt that is the same on every
 * attempt for that name (derived from a per-store random key), the minimum iterations,
 * and keys no password derives. */
void gn__auth_store_mock(const gn_auth_store_t *store, const char *user, size_t user_len,
                         gn_scram_mech_t mech, gn_scram_cred_t *out);

#endif
