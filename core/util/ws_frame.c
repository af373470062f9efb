/* SPDX-License-Identifier: Apache-2.0 */
/* WebSocket server frame headers (RFC 6455 5.2): FIN set, text or binary opcode, never
 * masked, the 7-, 16- or 64-bit length. Shared by the WebSocket transport (adapters/http)
 * and the fan-out chunks that pre-frame record messages (adapters/ws). Pure, any thread. */
#include "ganglion/transport.h"

size_t gn_ws_frame_header(uint8_t *p, bool binary, size_t len)
{
    p[0] = (uint8_t)(0x80 | (binary ? 0x2 : 0x1)); /* FIN + opcode */
    if (len < 126) {
        p[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        p[1] = 126;
        p[2] = (uint8_t)(len >> 8);
        p[3] = (uint8_t)len;
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; i++)
        p[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    return 10;
}
