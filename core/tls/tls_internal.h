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
/* Ciphertext taken from OpenSSL per socket write. */
#define GN_TLS_OUT_BYTES (256u << 10)

struct gn_tls_ctx {
    SSL_CTX *ssl;
    gn_tls_config_t cfg; /* its strings owned */
    /* Borrowed by one transport at a time, for the length of one read callback (obuf:
     * one flush): the loop thread runs them one after another, so one set serves all. */
    uint8_t rbuf[GN_TLS_READ_BYTES];
    uint8_t pbuf[GN_TLS_PLAIN_BYTES];
    uint8_t obuf[GN_TLS_OUT_BYTES]; /* borrowed by one flush at a time */
};

void gn__tls_err_text(char *buf, size_t cap);

#endif
