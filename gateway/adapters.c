/* SPDX-License-Identifier: Apache-2.0 */
/* Which protocol adapters the `ganglion` program runs: one line per adapter.
 * To add one: declare its descriptor below, list it in the table, and give it the
 * listener keys "<name>.host" and "<name>.port" (optionally "<name>.advertised.host"
 * and "<name>.advertised.port") in config_keys.c, where <name> is the descriptor's
 * .name. Read-only data. */
#include <stddef.h>

#include "adapters.h"

extern const gn_adapter_t gn_kafka_adapter; /* adapters/kafka */
/* extern const gn_adapter_t gn_mqtt_adapter;  (adapters/mqtt)  */
extern const gn_adapter_t gn_http_adapter;  /* adapters/http */

const gn_adapter_t *const gn_gateway_adapters[] = {
    &gn_kafka_adapter,
    /* &gn_mqtt_adapter, */
    &gn_http_adapter,
    NULL,
};
