/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the records of __connect_configs (adapters/http/connect_config.c):
 * the decoder of connector-<name> / target-state-<name> records, then the check of a
 * decoded config against the file connectors and the file path rule. The first byte is
 * the key's length; the rest is key then value. Seeds: tests/fuzz/corpus/connect_record/. */
#include <stddef.h>
#include <stdint.h>

#include "../../adapters/http/connect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t klen = data[0];
    if (klen > size - 1) klen = size - 1;
    gn_bytes_t key = {data + 1, klen};
    gn_bytes_t value = {data + 1 + klen, size - 1 - klen};
    if (value.len == 0) value.ptr = NULL; /* a tombstone */
    connect_rec_t rec;
    if (connect_rec_decode(key, value, &rec) == 0 && rec.config) {
        connect_spec_t spec;
        char err[512];
        (void)connect_config_check(rec.config, rec.name, "/srv/connect", &spec, err, sizeof err);
        json_decref(rec.config);
    }
    return 0;
}
