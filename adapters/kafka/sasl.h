/* SPDX-License-Identifier: Apache-2.0 */
/* SASL on one Kafka connection (KIP-43, KIP-152): SaslHandshake picks the mechanism,
 * then the client's tokens arrive in SaslAuthenticate requests (handshake v1) or as
 * raw size-prefixed frames (handshake v0). PLAIN and SCRAM-SHA-256/512, checked
 * against the users file (core/auth). Loop thread. */
#ifndef GN_KAFKA_SASL_H
#define GN_KAFKA_SASL_H

#include <stdbool.h>
#include <stdint.h>

#include "ganglion/auth.h"
#include "ganglion/bytes.h"

enum {
    KAFKA_SASL_NONE = 0, /* no handshake yet */
    KAFKA_SASL_STARTED,  /* mechanism chosen, tokens expected */
    KAFKA_SASL_DONE,     /* authenticated as user */
    KAFKA_SASL_FAILED,   /* a wrong token: nothing but the close follows */
};

#define KAFKA_SASL_MECHANISMS "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"

typedef struct kafka_sasl {
    int state;  /* KAFKA_SASL_* */
    bool raw;   /* handshake v0: the tokens are raw frames */
    bool plain; /* PLAIN, else SCRAM (scram != NULL) */
    gn_scram_server_t *scram;
    char *user;    /* the authenticated principal (malloc'd), NULL before */
    char why[128]; /* the last failure, for the client and the log */
} kafka_sasl_t;

/* SaslHandshake: 0 with the mechanism chosen, or the Kafka error code
 * (UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE, UNKNOWN_SERVER_ERROR). */
int16_t kafka_sasl_handshake(kafka_sasl_t *s, const gn_auth_store_t *store, gn_bytes_t mech,
                             bool raw);
/* One client token. Returns 1 (more to come) or 0 (authenticated) with the server's
 * token in *out (owned by s until the next call; empty for PLAIN), or the Kafka error
 * code negated (-SASL_AUTHENTICATION_FAILED, -ILLEGAL_SASL_STATE) with a sentence
 * in *why for the client and the log. */
int kafka_sasl_step(kafka_sasl_t *s, const gn_auth_store_t *store, gn_bytes_t in, gn_bytes_t *out,
                    const char **why);
/* May a request of api_key run now? Before authentication only ApiVersions,
 * SaslHandshake and SaslAuthenticate may, when anonymous clients are refused or a
 * handshake has begun. */
bool kafka_sasl_allows(const kafka_sasl_t *s, bool allow_anonymous, int16_t api_key);
void kafka_sasl_free(kafka_sasl_t *s);

#endif
