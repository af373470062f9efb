/* SPDX-License-Identifier: Apache-2.0 */
/* CRC-32C (Castagnoli) as Kafka computes it over RecordBatch v2: ISA-L's
 * crc32_iscsi (SSE4.2/PCLMUL kernels, dispatched at run time) and a portable
 * table-driven fallback the tests compare it against. Pure functions, any thread. */
#include <isa-l/crc.h>
#include <limits.h>
#include <stdint.h>

#include "ganglion/record.h"

/* ISA-L's crc32_iscsi takes the raw register and applies no final xor, so the
 * standard CRC-32C of buf continuing from crc is ~crc32_iscsi(buf, len, ~crc):
 * gn_crc32c(0, "123456789", 9) == 0xE3069283, as Kafka's Crc32C. */
uint32_t gn_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint32_t reg = ~crc;

    while (len > 0) {
        int n = len > (size_t)INT_MAX ? INT_MAX : (int)len; /* ISA-L takes an int length */
        reg = crc32_iscsi((unsigned char *)p, n, reg);
        p += n;
        len -= (size_t)n;
    }
    return ~reg;
}

/* Reflected polynomial 0x1EDC6F41 -> 0x82F63B78; slicing-by-1 table built once. */
static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
    crc_table_ready = 1;
}

uint32_t gn__crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t reg = ~crc;

    /* Benign race: every thread writes the same values. */
    if (!crc_table_ready) crc_table_init();
    for (size_t i = 0; i < len; i++)
        reg = crc_table[(reg ^ p[i]) & 0xFF] ^ (reg >> 8);
    return ~reg;
}
