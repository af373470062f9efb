/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's Uuid: 16 random bytes (version 4), written as URL-safe base64 without
 * padding (22 characters) in partition.metadata, meta.properties and topics.json.
 * Pure functions, any thread. */
#ifndef GN_CORE_TOPIC_UUID_H
#define GN_CORE_TOPIC_UUID_H

#include <stdint.h>

#define GN_UUID_B64_LEN 22

int gn__uuid_random(uint8_t id[16]);
void gn__uuid_to_base64(const uint8_t id[16], char out[GN_UUID_B64_LEN + 1]);
int gn__uuid_from_base64(const char *s, uint8_t id[16]); /* 0 or GN_EINVAL */
void gn__uuid_to_hex(const uint8_t id[16], char out[33]);

#endif
