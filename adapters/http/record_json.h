/* SPDX-License-Identifier: Apache-2.0 */
/* A log record as the JSON object SSE events carry: topic, partition, offset,
 * timestamp, key, value, headers; text as strings, anything not UTF-8 as base64 with
 * "encoding": "base64". Pure; any thread. */
#ifndef GN_HTTP_RECORD_JSON_H
#define GN_HTTP_RECORD_JSON_H

#include <jansson.h>

#include "ganglion/record.h"

/* New reference, or NULL when out of memory. */
json_t *http_record_json(const char *topic, int32_t partition, const gn_record_t *rec);

#endif
