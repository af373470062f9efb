/* SPDX-License-Identifier: Apache-2.0 */
/* Borrowed byte views (as nginx's ngx_str_t). A gn_bytes_t never owns its memory;
 * a NULL ptr with len 0 is the null value (Kafka's null key), distinct from an
 * empty non-NULL view. */
#ifndef GANGLION_BYTES_H
#define GANGLION_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct gn_bytes {
    const uint8_t *ptr;
    size_t len;
} gn_bytes_t;

#define GN_BYTES_NULL   ((gn_bytes_t){NULL, 0})
#define GN_BYTES_STR(s) ((gn_bytes_t){(const uint8_t *)(s), sizeof(s) - 1})

static inline int gn_bytes_is_null(gn_bytes_t b)
{
    return b.ptr == NULL;
}

#endif
