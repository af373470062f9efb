/* SPDX-License-Identifier: Apache-2.0 */
/* The stream processor registry: the processors as __streams_configs says (key
 * stream-<name>: the definition, null when deleted; key target-state-<name>:
 * {"state":"PAUSED"|"RUNNING"}), applied in log order at start and on every tick, and the
 * tick that runs them. As Connect's connectors, processors run on the broker that leads
 * __streams_configs partition 0 and are UNASSIGNED elsewhere. Loop thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"
#include "streams.h"

const char *streams_state_name(streams_run_state_t s)
{
    static const char *const names[] = {"UNASSIGNED", "RUNNING", "PAUSED", "FAILED"};
    return names[s];
}

stream_t *streams_find(streams_registry_t *reg, const char *name)
{
    for (stream_t *s = reg->list; s; s = s->next)
        if (strcmp(s->def.name, name) == 0) return s;
    return NULL;
}

void streams_task_reset(stream_t *s)
{
    s->epoch++;
    s->loaded = s->commit_due = false;
    s->authorized = s->denied = false;
    s->nparts = 0;
    s->trace[0] = '\0';
    streams_state_clear(&s->st);
    streams_state_init(&s->st);
    s->state = s->paused ? STREAMS_PAUSED : STREAMS_RUNNING;
}

static void stream_free(stream_t *s)
{
    streams_state_clear(&s->st);
    json_decref(s->doc);
    free(s);
}

void streams_op_begin(stream_t *s)
{
    s->busy = true;
    s->op_epoch = s->epoch;
}

bool streams_op_done(stream_t *s)
{
    s->busy = false;
    if (!s->reg) {
        stream_free(s);
        return false;
    }
    return s->op_epoch == s->epoch;
}

void streams_fail(stream_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->trace, sizeof s->trace, fmt, ap);
    va_end(ap);
    s->state = STREAMS_FAILED;
    GN_WARN(STREAMS_MOD, "stream processor failed | name=%s reason=%s", s->def.name, s->trace);
}

static void remove_stream(streams_registry_t *reg, stream_t *s)
{
    for (stream_t **pp = &reg->list; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    reg->count--;
    s->reg = NULL;
    s->epoch++;
    GN_INFO(STREAMS_MOD, "stream processor deleted | name=%s", s->def.name);
    if (!s->busy) stream_free(s);
}

static void apply_definition(streams_registry_t *reg, const char *name, json_t *doc)
{
    stream_t *s = streams_find(reg, name);
    if (!doc) {
        if (s) remove_stream(reg, s);
        return;
    }
    if (s && json_equal(s->doc, doc)) return;
    streams_def_t def;
    char err[512];
    if (streams_def_parse(doc, &def, err, sizeof err) < 0 || strcmp(def.name, name) != 0) {
        GN_WARN(STREAMS_MOD, "definition record skipped | name=%s reason=%s", name, err);
        return;
    }
    if (!s) {
        if (reg->count >= STREAMS_MAX) {
            GN_WARN(STREAMS_MOD, "too many stream processors: record skipped | name=%s", name);
            return;
        }
        if (!(s = calloc(1, sizeof *s))) return;
        s->reg = reg;
        streams_state_init(&s->st);
        s->next = reg->list;
        reg->list = s;
        reg->count++;
    }
    json_decref(s->doc);
    s->doc = json_incref(doc);
    streams_def_parse(s->doc, &s->def, err, sizeof err); /* borrows from s->doc */
    streams_task_reset(s);
    s->records_in = s->records_out = s->skipped = s->dead_lettered = s->dropped_late = 0;
    s->late_unlogged = 0;
    GN_INFO(STREAMS_MOD, "stream processor defined | name=%s source=%s sink=%s steps=%zu%s", name,
            def.source, def.sink, def.nsteps,
            def.agg == AGG_COUNT ? " +count"
            : def.agg == AGG_SUM ? " +sum"
                                 : "");
}

static void apply_target_state(streams_registry_t *reg, const char *name, json_t *doc)
{
    stream_t *s = streams_find(reg, name);
    const char *state = json_string_value(json_object_get(doc, "state"));
    bool paused = state && strcmp(state, "PAUSED") == 0;
    if (!s || s->paused == paused) return;
    s->paused = paused;
    if (s->state != STREAMS_FAILED) s->state = paused ? STREAMS_PAUSED : STREAMS_RUNNING;
    GN_INFO(STREAMS_MOD, "stream processor %s | name=%s", paused ? "paused" : "resumed", name);
}

static void on_config_record(void *arg, gn_bytes_t key, gn_bytes_t value)
{
    streams_registry_t *reg = arg;
    char k[STREAMS_NAME_MAX + 32];
    json_t *doc = value.ptr ? json_loadb((const char *)value.ptr, value.len, 0, NULL) : NULL;
    size_t klen = key.len < sizeof k ? key.len : sizeof k - 1;
    if (key.ptr) memcpy(k, key.ptr, klen);
    k[key.ptr ? klen : 0] = '\0';
    if (strncmp(k, "stream-", 7) == 0 && streams_name_valid(k + 7) && (doc || !value.ptr))
        apply_definition(reg, k + 7, doc);
    else if (strncmp(k, "target-state-", 13) == 0 && streams_name_valid(k + 13))
        apply_target_state(reg, k + 13, doc);
    else
        GN_WARN(STREAMS_MOD, "record of %s skipped: not a stream definition | key=%.64s",
                STREAMS_CONFIGS_TOPIC, k);
    json_decref(doc);
}

void streams_catch_up(streams_registry_t *reg)
{
    int rc = http__topic_scan(reg->srv->broker, STREAMS_CONFIGS_TOPIC, &reg->configs_next,
                              on_config_record, reg);
    if (rc < 0 && rc != GN_EOFFSETRANGE)
        GN_DEBUG(STREAMS_MOD, "definitions not read | err=%s", gn_err_name(rc));
}

static void on_tick(uv_timer_t *t)
{
    streams_registry_t *reg = t->data;
    streams_catch_up(reg);
    gn_partition_t *part = gn_partition_get(reg->srv->broker, STREAMS_CONFIGS_TOPIC, 0);
    bool here = part && gn_partition_is_leader(part);
    if (here != reg->runs_here) {
        reg->runs_here = here;
        GN_INFO(STREAMS_MOD, "stream processors %s this broker", here ? "run on" : "left");
        for (stream_t *s = reg->list; s; s = s->next)
            streams_task_reset(s);
    }
    for (stream_t *s = reg->list; s; s = s->next) {
        if (!here) {
            s->state = STREAMS_UNASSIGNED;
            continue;
        }
        if (streams_denial_stale(s)) { /* bindings changed since the refusal */
            GN_INFO(STREAMS_MOD, "stream processor starts again: ACLs changed | name=%s",
                    s->def.name);
            streams_task_reset(s);
        }
        if (s->busy || s->paused || s->state == STREAMS_FAILED) continue;
        s->state = STREAMS_RUNNING;
        streams_task_step(s);
    }
}

int http__streams_start(http_server_t *srv)
{
    streams_registry_t *reg = calloc(1, sizeof *reg);
    if (!reg) return GN_ENOMEM;
    reg->srv = srv;
    srv->streams = reg;
    streams_catch_up(reg);
    uv_timer_init(srv->loop, &reg->tick);
    reg->tick.data = reg;
    reg->tick_open = true;
    srv->open_handles++;
    uv_timer_start(&reg->tick, on_tick, STREAMS_TICK_MS, STREAMS_TICK_MS);
    GN_INFO(STREAMS_MOD, "streams ready | processors=%zu", reg->count);
    return 0;
}

static void on_tick_closed(uv_handle_t *h)
{
    streams_registry_t *reg = h->data;
    http_server_t *srv = reg->srv;
    free(reg);
    srv->streams = NULL;
    http__server_handle_closed(srv);
}

static void finish_stop(streams_registry_t *reg)
{
    while (reg->list) {
        stream_t *s = reg->list;
        reg->list = s->next;
        s->reg = NULL;
        if (!s->busy) stream_free(s); /* else when its operation ends */
    }
    reg->count = 0;
    reg->tick_open = false;
    uv_timer_stop(&reg->tick);
    uv_close((uv_handle_t *)&reg->tick, on_tick_closed);
}

static void on_stop_tick(uv_timer_t *t)
{
    streams_registry_t *reg = t->data;
    bool busy = false;
    for (stream_t *s = reg->list; s; s = s->next)
        busy |= s->busy;
    if (!busy || ++reg->stop_ticks * STREAMS_STOP_TICK_MS >= STREAMS_STOP_WAIT_MS) {
        if (busy) GN_WARN(STREAMS_MOD, "stopping with a stream operation still out");
        finish_stop(reg);
    }
}

/* The cycle in flight finishes (its commit included) before the registry goes: a clean
 * stop repeats nothing. */
void http__streams_stop(http_server_t *srv)
{
    streams_registry_t *reg = srv->streams;
    if (!reg || !reg->tick_open || reg->stopping) return;
    reg->stopping = true;
    uv_timer_start(&reg->tick, on_stop_tick, 0, STREAMS_STOP_TICK_MS);
}
