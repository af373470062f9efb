/* SPDX-License-Identifier: Apache-2.0 */
/* The table of protocol adapters the `ganglion` program starts (adapters.c). The
 * gateway only sees each adapter's descriptor (include/ganglion/adapter.h), never its
 * internals. Read-only data; used on the loop thread by server.c. */
#ifndef GN_GATEWAY_ADAPTERS_H
#define GN_GATEWAY_ADAPTERS_H

#include "ganglion/adapter.h"

/* NULL-terminated, in start order (stopped in reverse). */
extern const gn_adapter_t *const gn_gateway_adapters[];

#endif
