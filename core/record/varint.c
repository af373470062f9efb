/* SPDX-License-Identifier: Apache-2.0 */
/* Zigzag varints (protobuf style) of Kafka records: varint for int32 fields and
 * varlong for int64 ones share one 10-byte encoding. Pure functions, any thread. */
#include <stdint.h>

#include "ganglion/error.h"
#include "ganglion/record.h"

#define VARINT_MAX_BYTES 10

int gn_varint_read(const uint8_t *p, size_t len, int64_t *out)
{
    uint64_t u = 0;
    size_t n = len < VARINT_MAX_BYTES ? len : VARINT_MAX_BYTES;

    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        /* the 10th byte holds bit 63 only: anything more would overflow */
        if (i == VARINT_MAX_BYTES - 1 && b > 1) return GN_ECORRUPT;
        u |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return (int)i + 1;
        }
    }
    return GN_ECORRUPT; /* truncated, or longer than 10 bytes */
}

static inline uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

int gn_varint_write(uint8_t *p, int64_t v)
{
    uint64_t u = zigzag(v);
    int n = 0;

    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

int gn_varint_size(int64_t v)
{
    uint64_t u = zigzag(v);
    int n = 1;

    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}
