/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between context.c and transport.c: the context's layout. Loop thread only. */
#ifndef GN_TLS_INTERNAL_H
#define GN_TLS_INTERNAL_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "ganglion/tls.h"

/* One socket read of ciphertext, and the plaintext handed to a protocol per call. */
#define GN_TLS_READ_BYTES  (64u << 10)
#define GN_TLS_PLAIN_BYTES (64u << 10)

struct gn_tls_ctx {
    SSL_CTX *ssl;
    gn_tls_config_t cfg; /* its strings owned */
    /* Borrowed by one transport at a time, for the length of one read callback: the
     * loop thread processes reads one after another, so one pair serves all. */
    uint8_t rbuf[GN_TLS_READ_BYTES];
    uint8_t pbuf[GN_TLS_PLAIN_BYTES];
};

void gn__tls_err_text(char *buf, size_t cap);

#endif
