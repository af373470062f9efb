/* SPDX-License-Identifier: Apache-2.0 */
/* A session's outbound QoS 1/2 messages awaiting PUBACK, PUBREC or PUBCOMP: a table of
 * slots whose packet id is the slot's index + 1, so an acknowledgement finds its entry
 * in O(1) and a packet id is free exactly when its slot is (no scan per message, which a
 * window of hundreds would make costly). Slots are taken round-robin from after the
 * last one taken: with acknowledgements in order, the next free slot is the first one
 * tried, and a packet id is reused only a whole table later. The table doubles (a power
 * of two, up to the session's window) when full. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

_Static_assert(MQTT_MAX_INFLIGHT >= 4 && MQTT_MAX_INFLIGHT <= 32768 &&
                   (MQTT_MAX_INFLIGHT & (MQTT_MAX_INFLIGHT - 1)) == 0,
               "the inflight table doubles from 4 up to MQTT_MAX_INFLIGHT slots");

mqtt_inflight_t *mqtt__inflight_find(mqtt_session_t *sess, uint16_t pid)
{
    size_t slot = (size_t)pid - 1; /* pid 0 is never used: SIZE_MAX, out of range */
    if (slot >= sess->inflight_cap || !sess->inflight[slot].state) return NULL;
    return &sess->inflight[slot];
}

static bool grow(mqtt_session_t *sess)
{
    size_t cap = sess->inflight_cap ? (size_t)sess->inflight_cap * 2 : 4;
    if (cap > MQTT_MAX_INFLIGHT) return false;
    mqtt_inflight_t *nf = realloc(sess->inflight, cap * sizeof(*nf));
    if (!nf) return false;
    memset(nf + sess->inflight_cap, 0, (cap - sess->inflight_cap) * sizeof(*nf));
    sess->inflight_next = sess->inflight_cap; /* the first new slot */
    sess->inflight = nf;
    sess->inflight_cap = (uint16_t)cap;
    return true;
}

mqtt_inflight_t *mqtt__inflight_add(mqtt_session_t *sess)
{
    if (sess->ninflight == sess->inflight_cap && !grow(sess)) return NULL;
    size_t mask = (size_t)sess->inflight_cap - 1;
    for (size_t k = 0; k <= mask; k++) {
        size_t slot = (sess->inflight_next + k) & mask;
        mqtt_inflight_t *f = &sess->inflight[slot];
        if (f->state) continue;
        memset(f, 0, sizeof(*f));
        f->pid = (uint16_t)(slot + 1);
        sess->inflight_next = (uint16_t)((slot + 1) & mask);
        sess->ninflight++;
        return f; /* the caller sets state (non-zero: taken) */
    }
    return NULL; /* not reached: ninflight < cap means a free slot */
}

mqtt_inflight_t *mqtt__inflight_take(mqtt_session_t *sess, uint16_t pid)
{
    if (pid == 0 || pid > MQTT_MAX_INFLIGHT) return NULL;
    while (sess->inflight_cap < pid)
        if (!grow(sess)) return NULL;
    mqtt_inflight_t *f = &sess->inflight[pid - 1];
    if (f->state) return NULL;
    memset(f, 0, sizeof(*f));
    f->pid = pid;
    sess->ninflight++;
    return f;
}

void mqtt__inflight_drop(mqtt_session_t *sess, mqtt_inflight_t *f)
{
    mqtt__pkt_unref(f->packet);
    memset(f, 0, sizeof(*f));
    sess->ninflight--;
}

void mqtt__inflight_free_all(mqtt_session_t *sess)
{
    for (size_t i = 0; i < sess->inflight_cap; i++)
        if (sess->inflight[i].state) mqtt__pkt_unref(sess->inflight[i].packet);
    free(sess->inflight);
    sess->inflight = NULL;
    sess->inflight_cap = sess->inflight_next = 0;
    sess->ninflight = 0;
}
