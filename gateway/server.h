/* SPDX-License-Identifier: Apache-2.0 */
/* One run of the broker: the libuv loop, gn_broker_open, the adapters' listeners,
 * signals (SIGINT/SIGTERM: clean shutdown; SIGHUP: logged; SIGPIPE: ignored) and the
 * clean shutdown. Called by main() on the main thread, which becomes the loop thread. */
#ifndef GN_GATEWAY_SERVER_H
#define GN_GATEWAY_SERVER_H

#include "adapters.h"
#include "config_keys.h"
#include "ganglion/adapter.h"

#define GN_GATEWAY_MAX_ADAPTERS 16

/* Runs until SIGINT or SIGTERM has shut everything down cleanly. adapters is a
 * NULL-terminated table and ws_routes a table ended by .server == NULL (may be NULL):
 * gn_gateway_adapters and gn_gateway_ws_routes in the program; tests pass their own.
 * Returns the process exit code: 0 after a clean shutdown, 1 when start-up failed.
 * A second SIGINT or SIGTERM during the shutdown exits the process at once (128+signo). */
int gn_gateway_run(const gn_gateway_config_t *cfg, const gn_adapter_t *const *adapters,
                   const gn_gateway_ws_route_t *ws_routes);

#endif
