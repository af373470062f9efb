/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's murmur2 partitioner, bit for bit as the Java client's Utils.murmur2 and
 * librdkafka's "murmur2" partitioner: a key lands where a Kafka client puts it.
 * Pure functions, any thread. */
#include <string.h>

#include "ganglion/topic.h"

uint32_t gn_murmur2(const void *key, size_t len)
{
    const uint32_t seed = 0x9747b28c, m = 0x5bd1e995;
    const int r = 24;
    const uint8_t *data = key;
    uint32_t h = seed ^ (uint32_t)len;
    size_t n4 = len / 4;

    for (size_t i = 0; i < n4; i++) {
        const uint8_t *p = data + 4 * i;
        /* little-endian word, as Java's byte arithmetic reads it */
        uint32_t k =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }

    const uint8_t *tail = data + 4 * n4;
    switch (len & 3) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
    }

    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

int32_t gn_partition_for_key(gn_bytes_t key, int32_t partitions)
{
    if (partitions <= 0) return -1;
    /* Java: Utils.toPositive(murmur2(key)) % numPartitions */
    uint32_t h = gn_murmur2(key.ptr ? key.ptr : (const uint8_t *)"", key.len);
    return (int32_t)((h & 0x7fffffffu) % (uint32_t)partitions);
}
