/* SPDX-License-Identifier: Apache-2.0 */
/* Record bytes in JSON, as the REST, SSE and WebSocket adapters send them: UTF-8 text
 * as strings; a record with any key, value or header that is not UTF-8 has all of them
 * as base64 (and says "encoding": "base64"). Pure functions, any thread. */
#ifndef GANGLION_JSON_BYTES_H
#define GANGLION_JSON_BYTES_H

#include <jansson.h>
#include <stdbool.h>

#include "ganglion/bytes.h"
#include "ganglion/record.h"

/* true when the key, the value and every header key and value are UTF-8 (or null) */
bool gn_record_is_text(const gn_record_t *rec);

/* JSON null for a null view, a string of b, or its base64; NULL when out of memory */
json_t *gn_json_bytes(gn_bytes_t b, bool base64);

#endif
