/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648, standard alphabet) for the adapters that carry binary keys and
 * values in JSON (REST, WebSocket): OpenSSL's codec with strict input checks. Pure
 * functions, any thread. */
#ifndef GANGLION_BASE64_H
#define GANGLION_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes gn_base64_encode writes for len input bytes, NUL included. */
#define GN_BASE64_ENCODED_SIZE(len) (((len) + 2) / 3 * 4 + 1)

/* Strict decode: trailing '=' optional, no whitespace, no other characters, canonical
 * trailing bits. out needs len * 3 / 4 + 3 bytes. Returns the decoded length or -1. */
long gn_base64_decode(const char *in, size_t len, uint8_t *out);
/* Padded encoding, NUL-terminated; out needs GN_BASE64_ENCODED_SIZE(len). Returns the
 * length without the NUL. */
size_t gn_base64_encode(const uint8_t *in, size_t len, char *out);

#endif
