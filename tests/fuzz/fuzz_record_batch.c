/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the RecordBatch v2 codec: arbitrary bytes are walked as a
 * sequence of batches (peek, validate, iterate every record and header). Each batch
 * is tried twice: as given, and with its CRC recomputed, so that the fuzzer reaches
 * the record parser and the four decompressors instead of stopping at the CRC. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/record.h"

static volatile size_t sink; /* keeps the reads from being optimised away */

static void walk_batch(const uint8_t *p, size_t len)
{
    gn_batch_header_t hdr;
    gn_record_iter_t it;
    gn_record_t rec;
    int rc;

    (void)gn_batch_validate(p, len, 1 << 20, &hdr);
    if (gn_record_iter_init(&it, p, len) < 0) return;
    while ((rc = gn_record_iter_next(&it, &rec)) == 1) {
        gn_record_header_t h;
        gn_bytes_t raw = rec.headers;
        int32_t n = 0;
        if (rec.key.ptr && rec.key.len) sink += rec.key.ptr[rec.key.len - 1];
        if (rec.value.ptr && rec.value.len) sink += rec.value.ptr[rec.value.len - 1];
        while (gn_record_header_next(&raw, &h) == 1) {
            if (h.key.len) sink += h.key.ptr[h.key.len - 1];
            if (h.value.ptr && h.value.len) sink += h.value.ptr[h.value.len - 1];
            n++;
        }
        /* the iterator vouched for the headers: the walk must agree with the count */
        if (n != rec.headers_count || raw.len != 0) abort();
    }
    if (rc < 0) /* init checks every record first: next never fails afterwards */
        abort();
    gn_record_iter_close(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size > 0) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(data, size, &hdr);
        uint8_t *copy;

        if (n <= 0) {
            walk_batch(data, size); /* the error paths, on what is left */
            return 0;
        }
        walk_batch(data, (size_t)n);
        /* the same batch with a correct CRC; the copy is exactly n bytes so ASan
         * catches any read past the batch */
        copy = malloc((size_t)n);
        if (!copy) return 0;
        memcpy(copy, data, (size_t)n);
        uint32_t crc = gn_crc32c(0, copy + 21, (size_t)n - 21);
        copy[17] = (uint8_t)(crc >> 24);
        copy[18] = (uint8_t)(crc >> 16);
        copy[19] = (uint8_t)(crc >> 8);
        copy[20] = (uint8_t)crc;
        walk_batch(copy, (size_t)n);
        free(copy);
        data += n;
        size -= (size_t)n;
    }
    return 0;
}
