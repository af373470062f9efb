/* SPDX-License-Identifier: Apache-2.0 */
/* Failed-authentication throttle (include/ganglion/auth.h): a token bucket per client
 * host, in a fixed table of GN_AUTH_THROTTLE_SLOTS entries found by hash. A failed
 * password check takes a token; a host with none left may not have a password checked
 * until one comes back (GN_AUTH_THROTTLE_PER_SEC a second), so a guessing client costs
 * the loop at most that many PBKDF2 runs a second after its burst. A new host takes the
 * slot its hash names, evicting a host that is full again or, failing that, the one
 * throttled the longest ago. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/auth.h"

#define MS_PER_TOKEN (1000u / GN_AUTH_THROTTLE_PER_SEC)
#define PROBES       4

typedef struct slot {
    char host[64];
    uint32_t tokens;   /* out of GN_AUTH_THROTTLE_BURST */
    uint64_t since_ms; /* when the next token comes back (tokens < burst) */
} slot_t;

struct gn_auth_throttle {
    slot_t slots[GN_AUTH_THROTTLE_SLOTS];
};

gn_auth_throttle_t *gn_auth_throttle_new(void)
{
    return calloc(1, sizeof(gn_auth_throttle_t));
}

void gn_auth_throttle_free(gn_auth_throttle_t *t)
{
    free(t);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Gives back the tokens earned since the slot's clock. */
static void refill(slot_t *s, uint64_t now_ms)
{
    if (s->tokens >= GN_AUTH_THROTTLE_BURST) return;
    if (now_ms <= s->since_ms) return;
    uint64_t earned = (now_ms - s->since_ms) / MS_PER_TOKEN;
    if (earned == 0) return;
    if (earned >= GN_AUTH_THROTTLE_BURST - s->tokens) {
        s->tokens = GN_AUTH_THROTTLE_BURST;
        return;
    }
    s->tokens += (uint32_t)earned;
    s->since_ms += earned * MS_PER_TOKEN;
}

/* The host's slot, or NULL when it has none (it has failed nothing lately). */
static slot_t *find(gn_auth_throttle_t *t, const char *host)
{
    uint32_t h = hash(host);
    for (uint32_t i = 0; i < PROBES; i++) {
        slot_t *s = &t->slots[(h + i) % GN_AUTH_THROTTLE_SLOTS];
        if (s->host[0] && strcmp(s->host, host) == 0) return s;
    }
    return NULL;
}

/* A slot for a host not in the table: a free or full one among its probes, else the
 * one whose clock is oldest. */
static slot_t *claim(gn_auth_throttle_t *t, const char *host, uint64_t now_ms)
{
    uint32_t h = hash(host);
    slot_t *victim = NULL;
    for (uint32_t i = 0; i < PROBES; i++) {
        slot_t *s = &t->slots[(h + i) % GN_AUTH_THROTTLE_SLOTS];
        if (s->host[0]) refill(s, now_ms);
        if (!s->host[0] || s->tokens >= GN_AUTH_THROTTLE_BURST) {
            victim = s;
            break;
        }
        if (!victim || s->since_ms < victim->since_ms) victim = s;
    }
    size_t n = strlen(host);
    if (n >= sizeof victim->host) n = sizeof victim->host - 1;
    memcpy(victim->host, host, n);
    victim->host[n] = '\0';
    victim->tokens = GN_AUTH_THROTTLE_BURST;
    victim->since_ms = now_ms;
    return victim;
}

uint64_t gn_auth_throttle_wait_ms(gn_auth_throttle_t *t, const char *host, uint64_t now_ms)
{
    slot_t *s = t ? find(t, host) : NULL;
    if (!s) return 0;
    refill(s, now_ms);
    if (s->tokens > 0) return 0;
    uint64_t due = s->since_ms + MS_PER_TOKEN;
    return due > now_ms ? due - now_ms : 1;
}

void gn_auth_throttle_failed(gn_auth_throttle_t *t, const char *host, uint64_t now_ms)
{
    if (!t) return;
    slot_t *s = find(t, host);
    if (!s) s = claim(t, host, now_ms);
    refill(s, now_ms);
    if (s->tokens == GN_AUTH_THROTTLE_BURST) s->since_ms = now_ms; /* the clock starts */
    if (s->tokens > 0) s->tokens--;
}

void gn_auth_throttle_host(const char *peer, char *host, size_t cap)
{
    if (cap == 0) return;
    const char *start = peer[0] == '[' ? peer + 1 : peer;
    const char *end = peer[0] == '[' ? strchr(start, ']') : strrchr(start, ':');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    if (n >= cap) n = cap - 1;
    memcpy(host, start, n);
    host[n] = '\0';
}
