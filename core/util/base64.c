/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 over OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock. OpenSSL is lenient (it
 * skips surrounding whitespace and needs padded input), so decoding first checks what
 * REST Proxy clients must send: the alphabet only, optional padding, canonical
 * trailing bits. Pure; any thread. */
#include <openssl/evp.h>
#include <string.h>

#include "ganglion/base64.h"

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long gn_base64_decode(const char *in, size_t len, uint8_t *out)
{
    while (len && in[len - 1] == '=')
        len--;
    size_t tail = len % 4, full = len - tail;
    if (tail == 1) return -1;
    for (size_t i = 0; i < len; i++)
        if (b64_val((unsigned char)in[i]) < 0) return -1;
    /* the unused low bits of the last character must be zero (one encoding per input) */
    if (tail && (b64_val((unsigned char)in[len - 1]) & (tail == 2 ? 0x0F : 0x03))) return -1;
    long n = 0;
    if (full) {
        if (full > (size_t)INT32_MAX) return -1;
        n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)full);
        if (n < 0) return -1;
    }
    if (tail) {
        unsigned char quad[4] = {'=', '=', '=', '='}, three[3];
        memcpy(quad, in + full, tail);
        if (EVP_DecodeBlock(three, quad, 4) < 0) return -1;
        memcpy(out + n, three, tail - 1);
        n += (long)tail - 1;
    }
    return n;
}

size_t gn_base64_encode(const uint8_t *in, size_t len, char *out)
{
    if (len == 0) {
        out[0] = '\0';
        return 0;
    }
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}
