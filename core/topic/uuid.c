/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka-style UUIDs: random v4 bytes from getrandom(2), rendered as URL-safe base64
 * without padding (Kafka's Uuid.toString) or hex (deleted-directory suffixes).
 * Pure functions, any thread. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "ganglion/error.h"
#include "topic/uuid.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int gn__uuid_random(uint8_t id[16])
{
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(id + got, 16 - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        got += (size_t)n;
    }
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* version 4 */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80); /* IETF variant */
    return 0;
}

void gn__uuid_to_base64(const uint8_t id[16], char out[GN_UUID_B64_LEN + 1])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)id[i] << 16;
        if (i + 1 < 16) v |= (uint32_t)id[i + 1] << 8;
        if (i + 2 < 16) v |= id[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < 16) out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < 16) out[o++] = b64[v & 63];
    }
    out[o] = 0;
}

int gn__uuid_from_base64(const char *s, uint8_t id[16])
{
    if (!s || strlen(s) != GN_UUID_B64_LEN) return GN_EINVAL;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < GN_UUID_B64_LEN; i++) {
        const char *p = strchr(b64, s[i]);
        if (!p || !s[i]) return GN_EINVAL;
        acc = acc << 6 | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < 16) id[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o == 16 ? 0 : GN_EINVAL;
}

void gn__uuid_to_hex(const uint8_t id[16], char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = hex[id[i] >> 4];
        out[2 * i + 1] = hex[id[i] & 15];
    }
    out[32] = 0;
}
