/* SPDX-License-Identifier: Apache-2.0 */
/* The `ganglion` program: read the configuration (defaults, --config file, flags),
 * then run the broker until SIGINT/SIGTERM. Exit codes: 0 clean, 1 start-up failed,
 * 2 bad configuration or usage. Main thread. */
#include <stdio.h>

#include "adapters.h"
#include "config.h"
#include "server.h"

int main(int argc, char **argv)
{
    gn_gateway_config_t cfg;
    int rc = gn_gateway_config_parse(&cfg, argc, argv, stdout, stderr);
    int code = rc == GN_GATEWAY_CONFIG_RUN
                   ? gn_gateway_run(&cfg, gn_gateway_adapters, gn_gateway_ws_routes)
               : rc == GN_GATEWAY_CONFIG_DONE ? 0
                                              : 2;
    gn_gateway_config_free(&cfg);
    return code;
}
