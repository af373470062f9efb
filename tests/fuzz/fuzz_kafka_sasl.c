/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the Kafka connection's SASL state (adapters/kafka/sasl.c): a
 * SaslHandshake then up to four SaslAuthenticate tokens, as the handlers pass them (a
 * token may be null: a -1 length in the request). The PLAIN token (RFC 4616) is parsed
 * here; SCRAM goes to core/auth (fuzz_scram goes deeper there). Input: [flags][mechanism
 * length][mechanism][u16 token length, 0xffff null][token]...; flags bit 0-1 pick
 * PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or the mechanism bytes given, bit 2 a v0
 * handshake, bit 3 a broker without a users file. The store holds "user" (password
 * "pencil"). Every answer must be one the handler knows how to send. Seeds:
 * tests/fuzz/corpus/kafka_sasl/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/kafka/kafka.h"
#include "../../adapters/kafka/sasl.h"

static gn_auth_store_t *store;

static void store_init(void)
{
    store = gn_auth_store_new();
    for (int m = 0; m < GN_SCRAM_MECH_COUNT; m++) {
        gn_scram_cred_t cred;
        if (gn_scram_cred_derive((gn_scram_mech_t)m, (const uint8_t *)"pencil", 6,
                                 (const uint8_t *)"0123456789abcdef", 16, 4096, &cred) < 0 ||
            gn_auth_store_put(store, "user", &cred) < 0)
            abort();
    }
}

static bool take(const uint8_t **p, const uint8_t *end, size_t n)
{
    if ((size_t)(end - *p) < n) return false;
    *p += n;
    return true;
}

static void check_step(const kafka_sasl_t *s, int rc, gn_bytes_t out, const char *why)
{
    if (!out.ptr) abort();
    if (rc == 0 && (s->state != KAFKA_SASL_DONE || !s->user)) abort();
    if (rc == 1 && (s->state != KAFKA_SASL_STARTED || s->plain)) abort();
    if (rc < 0) {
        if (rc != -KAFKA_SASL_AUTHENTICATION_FAILED && rc != -KAFKA_ILLEGAL_SASL_STATE) abort();
        if (!why || !why[0]) abort();
    }
    if (rc > 1) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const mechs[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
    if (!store) store_init();
    const uint8_t *p = data, *end = data + size;
    if (size < 2) return 0;
    uint8_t flags = *p++;
    size_t mlen = *p++;
    gn_bytes_t mech;
    if ((flags & 3) < 3) {
        mech = (gn_bytes_t){(const uint8_t *)mechs[flags & 3], strlen(mechs[flags & 3])};
    } else {
        mech = (gn_bytes_t){p, mlen};
        if (!take(&p, end, mlen)) return 0;
    }
    kafka_sasl_t s = {0};
    const gn_auth_store_t *st = (flags & 8) ? NULL : store;
    int16_t hs = kafka_sasl_handshake(&s, st, mech, (flags & 4) != 0);
    if (hs != KAFKA_NONE && hs != KAFKA_UNSUPPORTED_SASL_MECHANISM &&
        hs != KAFKA_ILLEGAL_SASL_STATE && hs != KAFKA_UNKNOWN_SERVER_ERROR)
        abort();
    if (hs == KAFKA_NONE && kafka_sasl_handshake(&s, st, mech, false) != KAFKA_ILLEGAL_SASL_STATE)
        abort(); /* one handshake per connection */
    for (int step = 0; step < 4 && end - p >= 2; step++) {
        size_t tlen = (size_t)p[0] << 8 | p[1];
        p += 2;
        gn_bytes_t token = GN_BYTES_NULL;
        if (tlen != 0xffff) {
            token = (gn_bytes_t){p, tlen};
            if (!take(&p, end, tlen)) token.len = (size_t)(end - token.ptr), p = end;
        }
        gn_bytes_t out;
        const char *why = NULL;
        int rc = kafka_sasl_step(&s, st, token, &out, &why);
        check_step(&s, rc, out, why);
        if (rc == 0 && s.plain && strcmp(s.user, "user") != 0) abort(); /* nobody else */
        (void)kafka_sasl_allows(&s, flags & 16, 3);
    }
    kafka_sasl_free(&s);
    return 0;
}
