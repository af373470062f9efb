/* SPDX-License-Identifier: Apache-2.0 */
/* Authentication shared by every protocol adapter: a store of users holding SCRAM
 * credentials (RFC 5802 / RFC 7677: salt, iterations, StoredKey, ServerKey; never the
 * password), read from the users file; plain-password checks (MQTT user name and
 * password); and the server side of a SCRAM exchange (MQTT 5 enhanced authentication,
 * Kafka SASL/SCRAM). The store is filled at start-up and read-only afterwards, so any
 * thread may read it; a SCRAM exchange belongs to the thread of its connection. */
#ifndef GANGLION_AUTH_H
#define GANGLION_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

typedef enum gn_scram_mech {
    GN_SCRAM_SHA_256 = 0,
    GN_SCRAM_SHA_512 = 1,
} gn_scram_mech_t;
#define GN_SCRAM_MECH_COUNT 2

#define GN_SCRAM_KEY_MAX        64      /* SHA-512 output */
#define GN_SCRAM_SALT_MAX       64      /* bytes of salt a credential may carry */
#define GN_SCRAM_SALT_LEN       16      /* bytes of salt new credentials get */
#define GN_SCRAM_MIN_ITERATIONS 4096    /* RFC 7677's minimum, also Kafka's */
#define GN_SCRAM_MAX_ITERATIONS 1000000 /* a password check costs this many HMACs */
#define GN_AUTH_USER_MAX        255     /* bytes of a user name */

/* "SCRAM-SHA-256", "SCRAM-SHA-512". */
const char *gn_scram_mech_name(gn_scram_mech_t mech);
/* The mechanism named exactly name[0..len). 0, or GN_ENOENT. */
int gn_scram_mech_find(const char *name, size_t len, gn_scram_mech_t *mech);
/* Bytes of the mechanism's digest (32 or 64). */
size_t gn_scram_key_len(gn_scram_mech_t mech);

/* What the server keeps of one password for one mechanism. */
typedef struct gn_scram_cred {
    gn_scram_mech_t mech;
    uint32_t iterations;
    size_t salt_len;
    uint8_t salt[GN_SCRAM_SALT_MAX];
    uint8_t stored_key[GN_SCRAM_KEY_MAX]; /* H(HMAC(SaltedPassword, "Client Key")) */
    uint8_t server_key[GN_SCRAM_KEY_MAX]; /* HMAC(SaltedPassword, "Server Key") */
} gn_scram_cred_t;

/* Derives the credential of a password: SaltedPassword = PBKDF2(password, salt,
 * iterations), then StoredKey and ServerKey. 0, or GN_EINVAL (salt or iterations out
 * of range), GN_ENOMEM. */
int gn_scram_cred_derive(gn_scram_mech_t mech, const uint8_t *password, size_t password_len,
                         const uint8_t *salt, size_t salt_len, uint32_t iterations,
                         gn_scram_cred_t *out);
/* True when password derives cred's StoredKey (compared in constant time). Costs one
 * PBKDF2 of cred->iterations rounds. */
bool gn_scram_cred_check(const gn_scram_cred_t *cred, const uint8_t *password, size_t password_len);

/* A user name the users file can hold: 1..GN_AUTH_USER_MAX bytes, no ':', no control
 * characters. Names are compared as bytes (no SASLprep). */
bool gn_auth_user_valid(const char *name, size_t len);

/* ---- the credential store ------------------------------------------------------ */

typedef struct gn_auth_store gn_auth_store_t;

/* An empty store; NULL when out of memory. Free with gn_auth_store_free. */
gn_auth_store_t *gn_auth_store_new(void);
void gn_auth_store_free(gn_auth_store_t *store);
/* Adds the lines of the users file at path (format: core/auth/README.md). 0; GN_ENOENT
 * or -errno when it cannot be read; GN_EINVALID_CONFIG for a bad line. On error a
 * sentence naming the file (and line) is in err, and the store is unchanged. */
int gn_auth_store_load(gn_auth_store_t *store, const char *path, char *err, size_t errcap);
/* Writes every credential to path atomically (a temporary file renamed over it), mode
 * 0600. 0 or -errno. */
int gn_auth_store_save(const gn_auth_store_t *store, const char *path);
/* Adds user's credential for cred->mech, replacing one of the same mechanism. 0, or
 * GN_EINVAL (bad name), GN_ENOMEM. cred is copied. */
int gn_auth_store_put(gn_auth_store_t *store, const char *user, const gn_scram_cred_t *cred);
/* Removes every credential of user. 0, or GN_ENOENT. */
int gn_auth_store_remove(gn_auth_store_t *store, const char *user);
/* User's credential for mech, or NULL. Borrowed until the store changes. */
const gn_scram_cred_t *gn_auth_store_find(const gn_auth_store_t *store, const char *user,
                                          size_t user_len, gn_scram_mech_t mech);
/* Number of users. */
size_t gn_auth_store_count(const gn_auth_store_t *store);
/* The i-th user's name in byte order (i < count), *mechs gets a bit (1 << mech) per
 * credential held. */
const char *gn_auth_store_user(const gn_auth_store_t *store, size_t i, unsigned *mechs);

/* Checks a plain password (MQTT CONNECT, Kafka SASL/PLAIN) against user's credential:
 * 0, or GN_EAUTH for an unknown user, a wrong password or one holding a NUL byte; each
 * costs one PBKDF2, so the time taken does not tell which. */
int gn_auth_verify_password(const gn_auth_store_t *store, const char *user, size_t user_len,
                            const uint8_t *password, size_t password_len);

/* ---- SCRAM, server side --------------------------------------------------------- */

/* One SCRAM exchange: client-first -> server-first -> client-final -> server-final.
 * Channel binding is not offered (gs2 flags "n" and "y" are accepted, "p=" is not). */
typedef struct gn_scram_server gn_scram_server_t;

/* A new exchange for mech against store (borrowed: it must outlive the exchange only
 * until the client-first message has been stepped; the credential is copied then).
 * NULL when out of memory. */
gn_scram_server_t *gn_scram_server_new(const gn_auth_store_t *store, gn_scram_mech_t mech);
void gn_scram_server_free(gn_scram_server_t *scram);

#define GN_SCRAM_CONTINUE 1 /* gn_scram_server_step: *out is server-first; more to come */

/* Feeds the client's next message. Returns GN_SCRAM_CONTINUE with server-first in *out,
 * 0 with server-final in *out (the user is authenticated), or an error: GN_EAUTH
 * (unknown user or wrong proof), GN_EINVALID_REQUEST (a malformed or unsupported
 * message), GN_EINVAL (a step after the end), GN_ENOMEM. After GN_EAUTH and
 * GN_EINVALID_REQUEST, *out holds the RFC 5802 "e=..." server-final a protocol may send.
 * *out is owned by the exchange and valid until the next call. */
int gn_scram_server_step(gn_scram_server_t *scram, const uint8_t *in, size_t len, gn_bytes_t *out);
/* The user name of the client-first message (NUL-terminated, SASL escapes decoded), or
 * NULL before it. Authenticated only once step returned 0. */
const char *gn_scram_server_user(const gn_scram_server_t *scram);
gn_scram_mech_t gn_scram_server_mech(const gn_scram_server_t *scram);

/* Failed-authentication throttle (core/auth/throttle.c), per client host: each failed
 * password check takes one of GN_AUTH_THROTTLE_BURST tokens, which come back at
 * GN_AUTH_THROTTLE_PER_SEC a second; a host without a token has no password checked
 * (each check is a PBKDF2 on the loop thread, ~2 ms). Hosts are strings ("127.0.0.1");
 * GN_AUTH_THROTTLE_SLOTS hosts are tracked at once. Loop thread only. */
#define GN_AUTH_THROTTLE_BURST   10
#define GN_AUTH_THROTTLE_PER_SEC 2
#define GN_AUTH_THROTTLE_SLOTS   1024

typedef struct gn_auth_throttle gn_auth_throttle_t;

gn_auth_throttle_t *gn_auth_throttle_new(void); /* NULL when out of memory */
void gn_auth_throttle_free(gn_auth_throttle_t *t);
/* 0 when a password from host may be checked now, else the milliseconds until it may. */
uint64_t gn_auth_throttle_wait_ms(gn_auth_throttle_t *t, const char *host, uint64_t now_ms);
/* A password check from host failed. */
void gn_auth_throttle_failed(gn_auth_throttle_t *t, const char *host, uint64_t now_ms);
/* The host part of a peer's "ip:port" ("[v6]:port" or an unbracketed v6 "a:b::c:port"). */
void gn_auth_throttle_host(const char *peer, char *host, size_t cap);

#endif
