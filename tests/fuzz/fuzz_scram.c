/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the SCRAM server exchange (core/auth/scram_server.c): the input
 * is client-first and client-final separated by the first newline, stepped through one
 * exchange against a store holding "user" (password "pencil", both mechanisms; the
 * first byte's low bit picks the mechanism) with the server nonce fixed to "SRV", so
 * that the fuzzer can reach the proof check. Every answer must be a server-first, a
 * "v=" server-final or an "e=" error. Seeds: tests/fuzz/corpus/scram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/auth.h"
#include "ganglion/error.h"

void gn__scram_server_fix_nonce(gn_scram_server_t *s, const char *snonce);

static gn_auth_store_t *store;

static void store_init(void)
{
    store = gn_auth_store_new();
    for (int m = 0; m < GN_SCRAM_MECH_COUNT; m++) {
        gn_scram_cred_t cred;
        gn_scram_cred_derive((gn_scram_mech_t)m, (const uint8_t *)"pencil", 6,
                             (const uint8_t *)"0123456789abcdef", 16, 4096, &cred);
        gn_auth_store_put(store, "user", &cred);
    }
}

static void check(int rc, gn_bytes_t out)
{
    if (rc == GN_SCRAM_CONTINUE && (out.len < 2 || memcmp(out.ptr, "r=", 2) != 0)) abort();
    if (rc == 0 && (out.len < 2 || memcmp(out.ptr, "v=", 2) != 0)) abort();
    if ((rc == GN_EAUTH || rc == GN_EINVALID_REQUEST) &&
        (out.len < 2 || memcmp(out.ptr, "e=", 2) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) store_init();
    if (size < 1) return 0;
    gn_scram_mech_t mech = (data[0] & 1) ? GN_SCRAM_SHA_512 : GN_SCRAM_SHA_256;
    data++;
    size--;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first_len = nl ? (size_t)(nl - data) : size;
    gn_scram_server_t *s = gn_scram_server_new(store, mech);
    gn__scram_server_fix_nonce(s, "SRV");
    gn_bytes_t out;
    int rc = gn_scram_server_step(s, data, first_len, &out);
    check(rc, out);
    if (rc == GN_SCRAM_CONTINUE && nl) {
        rc = gn_scram_server_step(s, nl + 1, size - first_len - 1, &out);
        check(rc, out);
        if (rc == 0 && !gn_scram_server_user(s)) abort();
    }
    gn_scram_server_free(s);
    return 0;
}
