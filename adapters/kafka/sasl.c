/* SPDX-License-Identifier: Apache-2.0 */
/* SASL state of one Kafka connection (sasl.h): mechanism choice, PLAIN (RFC 4616) and
 * SCRAM (core/auth's server) steps, and which requests may run before the end of it.
 * Loop thread. */
#include "sasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "kafka.h"

int16_t kafka_sasl_handshake(kafka_sasl_t *s, const gn_auth_store_t *store, gn_bytes_t mech,
                             bool raw)
{
    if (s->state != KAFKA_SASL_NONE) return KAFKA_ILLEGAL_SASL_STATE;
    if (!store) return KAFKA_UNSUPPORTED_SASL_MECHANISM; /* no users: nobody could log in */
    gn_scram_mech_t sm;
    bool plain = mech.len == 5 && memcmp(mech.ptr, "PLAIN", 5) == 0;
    if (!plain && gn_scram_mech_find((const char *)mech.ptr, mech.len, &sm) < 0)
        return KAFKA_UNSUPPORTED_SASL_MECHANISM;
    if (!plain && !(s->scram = gn_scram_server_new(store, sm))) return KAFKA_UNKNOWN_SERVER_ERROR;
    s->plain = plain;
    s->raw = raw;
    s->state = KAFKA_SASL_STARTED;
    return KAFKA_NONE;
}

static int authenticated(kafka_sasl_t *s, const char *user, size_t len)
{
    if (!(s->user = strndup(user, len))) return -KAFKA_UNKNOWN_SERVER_ERROR;
    s->state = KAFKA_SASL_DONE;
    return 0;
}

static int failed(kafka_sasl_t *s, const char **why, const char *sentence)
{
    s->state = KAFKA_SASL_FAILED;
    *why = sentence;
    return -KAFKA_SASL_AUTHENTICATION_FAILED;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd; an authzid other than the user is refused
 * (no impersonation). */
static int step_plain(kafka_sasl_t *s, const gn_auth_store_t *store, gn_bytes_t in,
                      const char **why)
{
    const uint8_t *p = in.ptr, *end = in.ptr + in.len;
    const uint8_t *nul1 = memchr(p, 0, in.len);
    const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, (size_t)(end - nul1 - 1)) : NULL;
    /* a third NUL would reach PBKDF2, where HMAC's zero padding makes "pw\0" equal "pw" */
    if (!nul2 || memchr(nul2 + 1, 0, (size_t)(end - nul2 - 1)))
        return failed(s, why, "malformed PLAIN token");
    gn_bytes_t authz = {p, (size_t)(nul1 - p)};
    gn_bytes_t user = {nul1 + 1, (size_t)(nul2 - nul1 - 1)};
    gn_bytes_t pass = {nul2 + 1, (size_t)(end - nul2 - 1)};
    if (authz.len && (authz.len != user.len || memcmp(authz.ptr, user.ptr, user.len) != 0))
        return failed(s, why, "PLAIN authorization id differs from the user name");
    if (gn_auth_verify_password(store, (const char *)user.ptr, user.len, pass.ptr, pass.len) < 0)
        return failed(s, why, "Authentication failed: invalid credentials");
    return authenticated(s, (const char *)user.ptr, user.len);
}

int kafka_sasl_step(kafka_sasl_t *s, const gn_auth_store_t *store, gn_bytes_t in, gn_bytes_t *out,
                    const char **why)
{
    *out = (gn_bytes_t){(const uint8_t *)"", 0};
    if (s->state != KAFKA_SASL_STARTED) {
        *why = s->state == KAFKA_SASL_DONE ? "already authenticated"
                                           : "SaslAuthenticate before SaslHandshake";
        return -KAFKA_ILLEGAL_SASL_STATE;
    }
    if (!in.ptr) in = (gn_bytes_t){(const uint8_t *)"", 0}; /* a null AuthBytes: empty */
    if (s->plain) return step_plain(s, store, in, why);
    int rc = gn_scram_server_step(s->scram, in.ptr, in.len, out);
    if (rc == GN_SCRAM_CONTINUE) return 1;
    if (rc == 0) { /* *out: server-final, kept by the exchange until the connection ends */
        const char *user = gn_scram_server_user(s->scram);
        return authenticated(s, user, strlen(user));
    }
    if (rc == GN_EAUTH)
        return failed(s, why,
                      "Authentication failed during authentication due to invalid credentials "
                      "with SASL mechanism SCRAM");
    snprintf(s->why, sizeof s->why, "malformed SCRAM message (%.*s)",
             (int)(out->len < 64 ? out->len : 64), out->ptr ? (const char *)out->ptr : "");
    return failed(s, why, s->why);
}

bool kafka_sasl_allows(const kafka_sasl_t *s, bool allow_anonymous, int16_t api_key)
{
    if (s->state == KAFKA_SASL_DONE) return true;
    if (api_key == 18 || api_key == 17 || api_key == 36) return s->state != KAFKA_SASL_FAILED;
    return allow_anonymous && s->state == KAFKA_SASL_NONE;
}

void kafka_sasl_free(kafka_sasl_t *s)
{
    gn_scram_server_free(s->scram);
    free(s->user);
    *s = (kafka_sasl_t){0};
}
