/* SPDX-License-Identifier: Apache-2.0 */
/* The batches this adapter appended in the last loop turn, kept in memory (the bytes
 * as the log holds them, offsets assigned) until the append observer has run: delivery
 * decodes these bytes instead of reading them back from the log. Dropped once
 * delivered, or at the end of the turn after the one that appended them; bounded (a
 * batch that does not fit is read from the log). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

#define RECENT_MAX_BYTES (4u << 20)

void mqtt__recent_add(mqtt_server_t *srv, const gn_partition_t *part, int64_t base, int64_t last,
                      const uint8_t *bytes, size_t len)
{
    /* never while a kept batch is being delivered: its bytes must not move */
    if (srv->recent_walking || srv->recent_len + len > RECENT_MAX_BYTES) return;
    if (srv->recent_len + len > srv->recent_cap) {
        size_t cap = srv->recent_cap ? srv->recent_cap : 65536;
        while (cap < srv->recent_len + len)
            cap *= 2;
        uint8_t *nb = realloc(srv->recent_buf, cap);
        if (!nb) return;
        srv->recent_buf = nb;
        srv->recent_cap = cap;
    }
    if (srv->nrecent == srv->cap_recent) {
        size_t cap = srv->cap_recent ? srv->cap_recent * 2 : 8;
        mqtt_recent_t *nr = realloc(srv->recent, cap * sizeof(*nr));
        if (!nr) return;
        srv->recent = nr;
        srv->cap_recent = cap;
    }
    memcpy(srv->recent_buf + srv->recent_len, bytes, len);
    srv->recent[srv->nrecent++] = (mqtt_recent_t){.part = part,
                                                  .base = base,
                                                  .last = last,
                                                  .pos = srv->recent_len,
                                                  .len = len,
                                                  .turn = srv->turn};
    srv->recent_len += len;
}

bool mqtt__recent_find(mqtt_server_t *srv, const gn_partition_t *part, int64_t offset,
                       gn_bytes_t *bytes, int64_t *upto)
{
    *upto = INT64_MAX;
    for (size_t i = 0; i < srv->nrecent; i++) {
        const mqtt_recent_t *r = &srv->recent[i];
        if (r->part != part) continue;
        if (r->base == offset) {
            *bytes = (gn_bytes_t){srv->recent_buf + r->pos, r->len};
            return true;
        }
        if (r->base > offset && r->base < *upto) *upto = r->base;
    }
    return false;
}

static void drop_where(mqtt_server_t *srv, const gn_partition_t *part, int64_t last,
                       uint64_t before_turn)
{
    size_t k = 0;
    for (size_t i = 0; i < srv->nrecent; i++) {
        const mqtt_recent_t *r = &srv->recent[i];
        bool drop = (part && r->part == part && r->last <= last) || r->turn < before_turn;
        if (!drop) srv->recent[k++] = *r;
    }
    srv->nrecent = k;
    if (k == 0) srv->recent_len = 0; /* the holes of dropped batches are reused then */
}

void mqtt__recent_delivered(mqtt_server_t *srv, const gn_partition_t *part, int64_t last)
{
    if (srv->nrecent) drop_where(srv, part, last, 0);
}

void mqtt__recent_turn_end(mqtt_server_t *srv)
{
    srv->turn++;
    if (srv->nrecent) drop_where(srv, NULL, 0, srv->turn - 1);
}

void mqtt__recent_free(mqtt_server_t *srv)
{
    free(srv->recent_buf);
    free(srv->recent);
    srv->recent_buf = NULL;
    srv->recent = NULL;
    srv->recent_cap = srv->cap_recent = srv->nrecent = srv->recent_len = 0;
}
