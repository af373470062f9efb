/* SPDX-License-Identifier: Apache-2.0 */
/* The connector registry: the connectors as __connect_configs says (applied in log
 * order at start and on every tick, so the topic is the only truth and every broker
 * sees the same connectors), and the tick that runs them. A connector runs on the
 * broker that leads __connect_configs partition 0; elsewhere it is UNASSIGNED. Each
 * running connector does one file or log operation at a time (connect_source.c,
 * connect_sink.c). Loop thread only. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/partition.h"

connector_t *connect_find(connect_registry_t *reg, const char *name)
{
    for (connector_t *c = reg->list; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static void task_reset(connector_t *c)
{
    if (c->fd >= 0 && c->busy)
        c->stale_fd = c->fd; /* a file operation still uses it: closed when it ends */
    else if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->epoch++;
    c->position = c->sending = -1;
    c->offsets_loaded = c->commit_due = false;
    c->nparts = 0;
    c->trace[0] = '\0';
    c->state = c->paused ? CONNECT_PAUSED : CONNECT_RUNNING;
}

static void connector_free(connector_t *c)
{
    if (c->fd >= 0) close(c->fd);
    json_decref(c->config);
    free(c->buf);
    free(c->out);
    free(c);
}

void connect_op_begin(connector_t *c)
{
    c->busy = true;
    c->op_epoch = c->epoch;
}

bool connect_op_done(connector_t *c)
{
    c->busy = false;
    if (c->stale_fd >= 0) close(c->stale_fd);
    c->stale_fd = -1;
    if (!c->reg) {
        connector_free(c);
        return false;
    }
    return c->op_epoch == c->epoch;
}

void connect_fail(connector_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->trace, sizeof c->trace, fmt, ap);
    va_end(ap);
    c->state = CONNECT_FAILED;
    GN_WARN(CONNECT_MOD, "connector failed | name=%s reason=%s", c->name, c->trace);
}

void connect_restart(connector_t *c)
{
    task_reset(c);
    GN_INFO(CONNECT_MOD, "connector started | name=%s class=%s file=%s", c->name,
            json_string_value(json_object_get(c->config, "connector.class")), c->spec.path);
}

static void remove_connector(connect_registry_t *reg, connector_t *c)
{
    for (connector_t **pp = &reg->list; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    reg->count--;
    c->reg = NULL;
    c->epoch++;
    GN_INFO(CONNECT_MOD, "connector deleted | name=%s", c->name);
    if (!c->busy) connector_free(c);
}

static void apply_config(connect_registry_t *reg, const connect_rec_t *rec)
{
    connector_t *c = connect_find(reg, rec->name);
    if (rec->tombstone) {
        if (c) remove_connector(reg, c);
        return;
    }
    if (c && json_equal(c->config, rec->config)) return;
    connect_spec_t spec;
    char err[512];
    int rc = connect_config_check(rec->config, rec->name, reg->dir, &spec, err, sizeof err);
    if (!c) {
        if (reg->count >= CONNECT_MAX) {
            GN_WARN(CONNECT_MOD, "too many connectors: record skipped | name=%s", rec->name);
            return;
        }
        c = calloc(1, sizeof *c);
        if (!c) return;
        c->reg = reg;
        c->fd = c->stale_fd = -1;
        snprintf(c->name, sizeof c->name, "%s", rec->name);
        c->next = reg->list;
        reg->list = c;
        reg->count++;
    }
    json_decref(c->config);
    c->config = json_incref(rec->config);
    c->spec = spec;
    connect_restart(c);
    if (rc < 0) connect_fail(c, "%s", err); /* e.g. connect.file.dir changed since */
}

static void on_config_record(void *arg, gn_bytes_t key, gn_bytes_t value)
{
    connect_registry_t *reg = arg;
    connect_rec_t rec;
    if (connect_rec_decode(key, value, &rec) < 0) {
        GN_WARN(CONNECT_MOD, "record of %s skipped: not a connector config | key=%.*s",
                CONNECT_CONFIGS_TOPIC, (int)(key.len > 64 ? 64 : key.len),
                key.ptr ? (const char *)key.ptr : "");
        return;
    }
    if (rec.kind == CONNECT_REC_CONNECTOR) {
        apply_config(reg, &rec);
    } else {
        connector_t *c = connect_find(reg, rec.name);
        bool paused = !rec.tombstone && rec.paused;
        if (c && c->paused != paused) {
            c->paused = paused;
            if (c->state != CONNECT_FAILED) c->state = paused ? CONNECT_PAUSED : CONNECT_RUNNING;
            GN_INFO(CONNECT_MOD, "connector %s | name=%s", paused ? "paused" : "resumed", c->name);
        }
    }
    json_decref(rec.config);
}

void connect_catch_up(connect_registry_t *reg)
{
    int rc = http__topic_scan(reg->srv->broker, CONNECT_CONFIGS_TOPIC, &reg->configs_next,
                              on_config_record, reg);
    if (rc < 0 && rc != GN_EOFFSETRANGE)
        GN_DEBUG(CONNECT_MOD, "configs not read | err=%s", gn_err_name(rc));
}

static void on_offset_record(void *arg, gn_bytes_t key, gn_bytes_t value)
{
    connect_registry_t *reg = arg;
    char *k = key.ptr ? strndup((const char *)key.ptr, key.len) : NULL;
    if (!k) return;
    json_t *doc = value.ptr ? json_loadb((const char *)value.ptr, value.len, 0, NULL) : NULL;
    json_t *pos = json_object_get(doc, "position");
    if (json_is_integer(pos) && json_integer_value(pos) >= 0)
        json_object_set(reg->offsets, k, pos);
    else
        json_object_del(reg->offsets, k);
    json_decref(doc);
    free(k);
}

static void on_tick(uv_timer_t *t)
{
    connect_registry_t *reg = t->data;
    connect_catch_up(reg);
    gn_partition_t *part = gn_partition_get(reg->srv->broker, CONNECT_CONFIGS_TOPIC, 0);
    bool here = part && gn_partition_is_leader(part);
    if (here != reg->runs_here) {
        reg->runs_here = here;
        GN_INFO(CONNECT_MOD, "connectors %s this broker", here ? "run on" : "left");
        for (connector_t *c = reg->list; c; c = c->next)
            task_reset(c);
    }
    for (connector_t *c = reg->list; c; c = c->next) {
        if (!here) {
            c->state = CONNECT_UNASSIGNED;
            continue;
        }
        if (c->busy || c->paused || c->state == CONNECT_FAILED) continue;
        c->state = CONNECT_RUNNING;
        if (c->spec.type == CONNECT_SOURCE)
            connect_source_step(c);
        else
            connect_sink_step(c);
    }
}

/* The allowed directory: <data.dir>/connect, made if missing, resolved. */
static void set_dir(connect_registry_t *reg)
{
    const gn_broker_config_t *cfg = gn_broker_config(reg->srv->broker);
    char dir[PATH_MAX];
    reg->dir[0] = '\0';
    if (!cfg->data_dir || !cfg->data_dir[0]) return;
    if ((size_t)snprintf(dir, sizeof dir, "%s/connect", cfg->data_dir) >= sizeof dir) return;
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        GN_WARN(CONNECT_MOD, "no directory for connector files | dir=%s err=%s", dir,
                strerror(errno));
        return;
    }
    if (!realpath(dir, reg->dir)) reg->dir[0] = '\0';
}

int http__connect_start(http_server_t *srv)
{
    connect_registry_t *reg = calloc(1, sizeof *reg);
    if (!reg) return GN_ENOMEM;
    reg->srv = srv;
    reg->offsets = json_object();
    srv->connect = reg;
    set_dir(reg);
    int64_t next = 0;
    int rc = http__topic_scan(srv->broker, CONNECT_OFFSETS_TOPIC, &next, on_offset_record, reg);
    if (rc < 0) GN_WARN(CONNECT_MOD, "source offsets not read | err=%s", gn_err_name(rc));
    connect_catch_up(reg);
    uv_timer_init(srv->loop, &reg->tick);
    reg->tick.data = reg;
    reg->tick_open = true;
    srv->open_handles++;
    uv_timer_start(&reg->tick, on_tick, CONNECT_TICK_MS, CONNECT_TICK_MS);
    GN_INFO(CONNECT_MOD, "connect ready | connectors=%zu file.dir=%s", reg->count,
            reg->dir[0] ? reg->dir : "(none)");
    return 0;
}

static void on_tick_closed(uv_handle_t *h)
{
    connect_registry_t *reg = h->data;
    http_server_t *srv = reg->srv;
    json_decref(reg->offsets);
    free(reg);
    srv->connect = NULL;
    http__server_handle_closed(srv);
}

/* Frees every connector and closes the tick once no operation is out: an append that
 * is acknowledged during the shutdown still gets its position stored. */
static void finish_stop(connect_registry_t *reg)
{
    while (reg->list) {
        connector_t *c = reg->list;
        reg->list = c->next;
        c->reg = NULL;
        if (!c->busy) connector_free(c); /* else when its operation ends */
    }
    reg->count = 0;
    reg->tick_open = false;
    uv_timer_stop(&reg->tick);
    uv_close((uv_handle_t *)&reg->tick, on_tick_closed);
}

static void on_stop_tick(uv_timer_t *t)
{
    connect_registry_t *reg = t->data;
    bool busy = false;
    for (connector_t *c = reg->list; c; c = c->next)
        busy |= c->busy;
    if (!busy || ++reg->stop_ticks * CONNECT_STOP_TICK_MS >= CONNECT_STOP_WAIT_MS) {
        if (busy) GN_WARN(CONNECT_MOD, "stopping with a connector operation still out");
        finish_stop(reg);
    }
}

void http__connect_stop(http_server_t *srv)
{
    connect_registry_t *reg = srv->connect;
    if (!reg || !reg->tick_open || reg->stopping) return;
    /* Configs stay in __connect_configs: the connectors come back with the broker. */
    reg->stopping = true;
    uv_timer_start(&reg->tick, on_stop_tick, 0, CONNECT_STOP_TICK_MS);
}

int connect_open(connector_t *c, int flags)
{
    /* The path was checked when the config was; a symbolic link planted since then in a
     * directory on the way must still not lead outside. */
    char parent[PATH_MAX], real[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", c->spec.path);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = '\0';
    if (!realpath(parent, real)) return -errno;
    size_t dlen = strlen(c->reg->dir);
    if (!dlen || strncmp(real, c->reg->dir, dlen) != 0 || (real[dlen] && real[dlen] != '/'))
        return -EACCES;
    int fd = open(c->spec.path, flags | O_NOFOLLOW | O_CLOEXEC, 0640);
    return fd < 0 ? -errno : fd;
}
