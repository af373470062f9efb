/* SPDX-License-Identifier: Apache-2.0 */
/* The server side of one SCRAM exchange (RFC 5802 section 5): parses client-first,
 * answers server-first (the client's nonce plus ours, the user's salt and iterations),
 * checks client-final's channel binding, nonce and proof, and answers server-final
 * (the ServerSignature, or an "e=" error). An unknown user gets a stand-in salt and
 * fails at the proof, as a wrong password does. Used by every protocol's
 * authentication (MQTT 5 AUTH, Kafka SASL); the thread of its connection. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_internal.h"
#include "ganglion/base64.h"
#include "ganglion/error.h"

#define SCRAM_MSG_MAX     4096 /* bytes of one client message we read */
#define SCRAM_NONCE_MAX   256  /* bytes of the client's nonce */
#define SCRAM_SNONCE_RAND 18   /* random bytes of our nonce (24 base64 characters) */

typedef enum { S_FIRST, S_FINAL, S_DONE, S_FAILED } state_t;

struct gn_scram_server {
    const gn_auth_store_t *store;
    gn_scram_mech_t mech;
    state_t state;
    gn_scram_cred_t cred;
    char user[GN_AUTH_USER_MAX + 1];
    bool have_user;
    char *gs2_header;        /* "n,," or "y,,a=...," as the client sent it */
    char *client_first_bare; /* for the AuthMessage */
    char *server_first;
    char *nonce;       /* client nonce + server nonce */
    char *out;         /* the last message we produced */
    bool snonce_fixed; /* tests: a fixed server nonce (RFC test vectors) */
    const char *snonce_text;
};

gn_scram_server_t *gn_scram_server_new(const gn_auth_store_t *store, gn_scram_mech_t mech)
{
    if ((unsigned)mech >= GN_SCRAM_MECH_COUNT) return NULL;
    gn_scram_server_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->store = store;
    s->mech = mech;
    return s;
}

void gn_scram_server_free(gn_scram_server_t *s)
{
    if (!s) return;
    free(s->gs2_header);
    free(s->client_first_bare);
    free(s->server_first);
    free(s->nonce);
    free(s->out);
    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}

const char *gn_scram_server_user(const gn_scram_server_t *s)
{
    return s->have_user ? s->user : NULL;
}

gn_scram_mech_t gn_scram_server_mech(const gn_scram_server_t *s)
{
    return s->mech;
}

/* Tests only (RFC vectors): the server nonce to use instead of a random one. */
void gn__scram_server_fix_nonce(gn_scram_server_t *s, const char *snonce)
{
    s->snonce_text = snonce;
    s->snonce_fixed = true;
}

/* ---- the message parser ------------------------------------------------------------ */

/* A cursor over one message: attribute "x=value" fields separated by ','. */
typedef struct cursor {
    const char *p, *end;
} cursor_t;

/* The next field up to ',' or the end; false at the end. */
static bool next_field(cursor_t *c, const char **f, size_t *len)
{
    if (c->p > c->end) return false;
    const char *comma = memchr(c->p, ',', (size_t)(c->end - c->p));
    const char *e = comma ? comma : c->end;
    *f = c->p;
    *len = (size_t)(e - c->p);
    c->p = e + 1; /* past the end when there was no comma: the next call ends */
    return true;
}

/* Field f is "<attr>=value": the value. */
static bool attr(const char *f, size_t len, char a, const char **v, size_t *vlen)
{
    if (len < 2 || f[0] != a || f[1] != '=') return false;
    *v = f + 2;
    *vlen = len - 2;
    return true;
}

/* saslname: '=' only as "=2C" (',') or "=3D" ('='); decoded into out. */
static bool saslname_decode(const char *v, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = v[i];
        if (ch == '=') {
            if (i + 3 > len) return false;
            if (v[i + 1] == '2' && v[i + 2] == 'C')
                ch = ',';
            else if (v[i + 1] == '3' && v[i + 2] == 'D')
                ch = '=';
            else
                return false;
            i += 2;
        }
        if (o + 1 >= cap) return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return o > 0;
}

/* printable = %x21-2B / %x2D-7E */
static bool printable(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',') return false;
    return len > 0;
}

static int set_out(gn_scram_server_t *s, const char *text, gn_bytes_t *out)
{
    free(s->out);
    s->out = strdup(text);
    if (!s->out) return GN_ENOMEM;
    *out = (gn_bytes_t){(const uint8_t *)s->out, strlen(s->out)};
    return 0;
}

/* Ends the exchange with an RFC 5802 server-error as the message to send. */
static int fail(gn_scram_server_t *s, int err, const char *server_error, gn_bytes_t *out)
{
    char msg[64];
    s->state = S_FAILED;
    snprintf(msg, sizeof msg, "e=%s", server_error);
    int rc = set_out(s, msg, out);
    return rc < 0 ? rc : err;
}

static int server_nonce(gn_scram_server_t *s, char *out)
{
    if (s->snonce_fixed) {
        snprintf(out, SCRAM_NONCE_MAX + 1, "%s", s->snonce_text);
        return 0;
    }
    uint8_t rnd[SCRAM_SNONCE_RAND];
    if (RAND_bytes(rnd, sizeof rnd) != 1) return GN_ENOMEM;
    gn_base64_encode(rnd, sizeof rnd, out); /* 24 characters, none of them ',' */
    return 0;
}

/* client-first-message = gs2-header client-first-message-bare
 * gs2-header = ("n" / "y" / "p=" cb-name) "," [ "a=" saslname ] ","
 * client-first-message-bare = [ "m=" ext "," ] "n=" saslname "," "r=" c-nonce [ "," ext ] */
static int step_first(gn_scram_server_t *s, const char *msg, size_t len, gn_bytes_t *out)
{
    cursor_t c = {msg, msg + len};
    const char *f, *v;
    size_t fl, vl;
    if (!next_field(&c, &f, &fl)) return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    if (fl >= 2 && f[0] == 'p' && f[1] == '=')
        return fail(s, GN_EINVALID_REQUEST, "channel-binding-not-supported", out);
    if (!(fl == 1 && (f[0] == 'n' || f[0] == 'y')))
        return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    if (!next_field(&c, &f, &fl)) return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    char authzid[GN_AUTH_USER_MAX + 1] = "";
    if (fl > 0 && (!attr(f, fl, 'a', &v, &vl) || !saslname_decode(v, vl, authzid, sizeof authzid)))
        return fail(s, GN_EINVALID_REQUEST, "invalid-username-encoding", out);
    const char *bare = c.p;
    if (bare > c.end) return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    size_t gs2_len = (size_t)(bare - msg);
    if (!next_field(&c, &f, &fl)) return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    if (attr(f, fl, 'm', &v, &vl))
        return fail(s, GN_EINVALID_REQUEST, "extensions-not-supported", out);
    if (!attr(f, fl, 'n', &v, &vl) || !saslname_decode(v, vl, s->user, sizeof s->user) ||
        !gn_auth_user_valid(s->user, strlen(s->user)))
        return fail(s, GN_EINVALID_REQUEST, "invalid-username-encoding", out);
    s->have_user = true;
    if (authzid[0] && strcmp(authzid, s->user) != 0) /* acting for another user: no */
        return fail(s, GN_EAUTH, "other-error", out);
    if (!next_field(&c, &f, &fl) || !attr(f, fl, 'r', &v, &vl) || vl > SCRAM_NONCE_MAX ||
        !printable(v, vl))
        return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    /* further extensions (Kafka's tokenauth=true ...) are ignored */

    const gn_scram_cred_t *cred = gn_auth_store_find(s->store, s->user, strlen(s->user), s->mech);
    if (cred)
        s->cred = *cred;
    else
        gn__auth_store_mock(s->store, s->user, strlen(s->user), s->mech, &s->cred);

    char snonce[SCRAM_NONCE_MAX + 1];
    char salt[GN_BASE64_ENCODED_SIZE(GN_SCRAM_SALT_MAX)];
    if (server_nonce(s, snonce) < 0) return fail(s, GN_ENOMEM, "no-resources", out);
    gn_base64_encode(s->cred.salt, s->cred.salt_len, salt);
    s->gs2_header = strndup(msg, gs2_len);
    s->client_first_bare = strndup(bare, (size_t)(c.end - bare));
    if (asprintf(&s->nonce, "%.*s%s", (int)vl, v, snonce) < 0) s->nonce = NULL;
    if (asprintf(&s->server_first, "r=%s,s=%s,i=%u", s->nonce ? s->nonce : "", salt,
                 s->cred.iterations) < 0)
        s->server_first = NULL;
    if (!s->gs2_header || !s->client_first_bare || !s->nonce || !s->server_first)
        return fail(s, GN_ENOMEM, "no-resources", out);
    int rc = set_out(s, s->server_first, out);
    if (rc < 0) return fail(s, rc, "no-resources", out);
    s->state = S_FINAL;
    return GN_SCRAM_CONTINUE;
}

/* client-final-message = "c=" base64(gs2-header) "," "r=" nonce [ "," ext ] "," "p=" proof */
static int step_final(gn_scram_server_t *s, const char *msg, size_t len, gn_bytes_t *out)
{
    cursor_t c = {msg, msg + len};
    const char *f, *v;
    size_t fl, vl;
    char cbind[GN_BASE64_ENCODED_SIZE(GN_AUTH_USER_MAX + 16)];
    if (strlen(s->gs2_header) > GN_AUTH_USER_MAX + 16)
        return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    gn_base64_encode((const uint8_t *)s->gs2_header, strlen(s->gs2_header), cbind);
    if (!next_field(&c, &f, &fl) || !attr(f, fl, 'c', &v, &vl))
        return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    if (vl != strlen(cbind) || memcmp(v, cbind, vl) != 0)
        return fail(s, GN_EINVALID_REQUEST, "channel-bindings-dont-match", out);
    /* RFC 5802 wants the nonce of server-first back; librdkafka (2.0 to today) sends its
     * own nonce followed by it, and Apache Kafka accepts any nonce that ends with it: so
     * do we (the server's random part must still be there). */
    size_t nl = strlen(s->nonce);
    if (!next_field(&c, &f, &fl) || !attr(f, fl, 'r', &v, &vl) || vl < nl ||
        memcmp(v + vl - nl, s->nonce, nl) != 0)
        return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    /* the proof is the last field; anything between is an extension, ignored */
    const char *proof = NULL;
    size_t proof_len = 0, without_proof = 0;
    while (next_field(&c, &f, &fl)) {
        if (attr(f, fl, 'p', &v, &vl)) {
            proof = v;
            proof_len = vl;
            without_proof = (size_t)(f - 1 - msg);
            if (c.p <= c.end) proof = NULL; /* not last */
        }
    }
    if (!proof) return fail(s, GN_EINVALID_REQUEST, "other-error", out);
    size_t kl = gn_scram_key_len(s->mech);
    uint8_t client_proof[GN_SCRAM_KEY_MAX + 4];
    if (proof_len > GN_BASE64_ENCODED_SIZE(GN_SCRAM_KEY_MAX) ||
        gn_base64_decode(proof, proof_len, client_proof) != (long)kl)
        return fail(s, GN_EINVALID_REQUEST, "invalid-encoding", out);

    /* AuthMessage = client-first-message-bare "," server-first-message ","
     *               client-final-message-without-proof */
    char *auth_msg = NULL;
    int n = asprintf(&auth_msg, "%s,%s,%.*s", s->client_first_bare, s->server_first,
                     (int)without_proof, msg);
    if (n < 0) return fail(s, GN_ENOMEM, "no-resources", out);
    uint8_t sig[GN_SCRAM_KEY_MAX], client_key[GN_SCRAM_KEY_MAX], stored[GN_SCRAM_KEY_MAX];
    uint8_t server_sig[GN_SCRAM_KEY_MAX];
    int rc =
        gn__scram_hmac(s->mech, s->cred.stored_key, kl, (const uint8_t *)auth_msg, (size_t)n, sig);
    if (rc == 0)
        rc = gn__scram_hmac(s->mech, s->cred.server_key, kl, (const uint8_t *)auth_msg, (size_t)n,
                            server_sig);
    free(auth_msg);
    for (size_t i = 0; i < kl; i++) /* ClientKey = ClientProof XOR ClientSignature */
        client_key[i] = client_proof[i] ^ sig[i];
    if (rc == 0) rc = gn__scram_hash(s->mech, client_key, kl, stored);
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (rc < 0) return fail(s, rc, "no-resources", out);
    if (CRYPTO_memcmp(stored, s->cred.stored_key, kl) != 0)
        return fail(s, GN_EAUTH, "invalid-proof", out);
    char final[2 + GN_BASE64_ENCODED_SIZE(GN_SCRAM_KEY_MAX)] = "v=";
    gn_base64_encode(server_sig, kl, final + 2);
    rc = set_out(s, final, out);
    if (rc < 0) return fail(s, rc, "no-resources", out);
    s->state = S_DONE;
    return 0;
}

int gn_scram_server_step(gn_scram_server_t *s, const uint8_t *in, size_t len, gn_bytes_t *out)
{
    *out = (gn_bytes_t){NULL, 0};
    if (s->state == S_DONE || s->state == S_FAILED) return GN_EINVAL;
    /* SCRAM messages are text: no NUL, and bounded */
    if (len == 0 || len > SCRAM_MSG_MAX || memchr(in, '\0', len))
        return fail(s, GN_EINVALID_REQUEST, "invalid-encoding", out);
    if (s->state == S_FIRST) return step_first(s, (const char *)in, len, out);
    return step_final(s, (const char *)in, len, out);
}
