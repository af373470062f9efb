/* SPDX-License-Identifier: Apache-2.0 */
/* Which protocol adapters the `ganglion` program runs, and which stream protocols it
 * serves over WebSocket. To add an adapter: declare its descriptor below, list it in
 * gn_gateway_adapters, and give it the listener keys "<name>.host" and "<name>.port"
 * (optionally "<name>.advertised.host|port") in config_keys.c, <name> being the
 * descriptor's .name. Read-only data. */
#include <stddef.h>

#include "adapters.h"

extern const gn_adapter_t gn_kafka_adapter; /* adapters/kafka */
extern const gn_adapter_t gn_mqtt_adapter;  /* adapters/mqtt */
extern const gn_adapter_t gn_http_adapter;  /* adapters/http */

const gn_adapter_t *const gn_gateway_adapters[] = {
    &gn_kafka_adapter,
    &gn_mqtt_adapter,
    &gn_http_adapter,
    NULL,
};

extern const gn_stream_protocol_t gn_mqtt_stream_protocol; /* adapters/mqtt */
extern const gn_stream_protocol_t gn_ws_json_protocol;     /* adapters/ws */

const gn_gateway_ws_route_t gn_gateway_ws_routes[] = {
    /* MQTT over WebSocket on the HTTP listener */
    {.server = "http",
     .owner = "mqtt",
     .route = {.path = "/mqtt",
               .subprotocols = "mqtt,mqttv3.1",
               .binary = 1,
               .protocol = &gn_mqtt_stream_protocol,
               .authenticates = true}},
    {.server = "http", .route = {.path = "/ws", .protocol = &gn_ws_json_protocol}},
    {.server = NULL},
};
