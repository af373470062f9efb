/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the broker on one libuv loop: opens it, starts every adapter's listener, and on
 * SIGINT/SIGTERM shuts down in order (adapters stop accepting and close their
 * connections, then gn_broker_close flushes and writes the clean-shutdown marker, then
 * the signal handles close and the loop ends). Main thread = the loop thread. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "ganglion/auth.h"
#include "ganglion/broker.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/tls.h"
#include "server.h"

#define MOD "gateway"

#define STOP_WARN_MS 5000 /* how often a slow shutdown names the adapters it waits for */

typedef struct gateway gateway_t;

typedef struct running_adapter {
    const gn_adapter_t *adapter;
    void *state;
    gateway_t *gw;
    bool stopped;
} running_adapter_t;

struct gateway {
    const gn_gateway_config_t *cfg;
    uv_loop_t loop;
    gn_broker_t *broker;
    gn_auth_store_t *auth;     /* auth.users.file; NULL when none */
    gn_tls_ctx_t *tls;         /* tls.cert.file; NULL when none */
    gn_tls_ctx_t *cluster_tls; /* cluster.tls.*; NULL when off */
    uv_signal_t sigint, sigterm, sighup;
    running_adapter_t running[GN_GATEWAY_MAX_ADAPTERS];
    size_t nrunning;
    size_t stop_pending;   /* adapters whose stop callback has not run yet, +1 while stopping */
    uv_timer_t stop_timer; /* names the slow adapters while stopping */
    bool shutting_down;
    int exit_code;
};

/* A logfmt value: quoted when it holds a space, quote or '='. */
static const char *logfmt_value(const char *s, char *buf, size_t cap)
{
    if (*s && !strpbrk(s, " \"=\\")) return s;
    size_t pos = 0;
    buf[pos++] = '"';
    for (; *s && pos + 3 < cap; s++) {
        if (*s == '"' || *s == '\\') buf[pos++] = '\\';
        buf[pos++] = *s;
    }
    buf[pos++] = '"';
    buf[pos] = '\0';
    return buf;
}

/* System errors are -errno, which libuv names on Linux; ours have their own names. */
static const char *err_name(int err)
{
    return err > GN__ERR_BASE && err < 0 ? uv_err_name(err) : gn_err_name(err);
}

static const char *err_text(int err)
{
    return err > GN__ERR_BASE && err < 0 ? uv_strerror(err) : gn_strerror(err);
}

static void on_handle_closed(uv_handle_t *handle)
{
    (void)handle;
}

static void close_signals(gateway_t *gw)
{
    uv_signal_t *sigs[] = {&gw->sigint, &gw->sigterm, &gw->sighup};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (!uv_is_closing((uv_handle_t *)sigs[i]))
            uv_close((uv_handle_t *)sigs[i], on_handle_closed);
}

static void on_broker_closed(void *arg)
{
    gateway_t *gw = arg;
    gw->broker = NULL;
    GN_INFO(MOD, "broker closed");
    close_signals(gw); /* the last handles of ours: the loop can end */
}

static void on_adapters_stopped(gateway_t *gw)
{
    GN_INFO(MOD, "listeners stopped | count=%zu", gw->nrunning);
    gw->nrunning = 0;
    uv_close((uv_handle_t *)&gw->stop_timer, on_handle_closed);
    if (gw->broker)
        gn_broker_close(gw->broker, on_broker_closed, gw);
    else
        on_broker_closed(gw);
}

static void on_adapter_stopped(void *arg)
{
    running_adapter_t *ra = arg;
    gateway_t *gw = ra->gw;
    if (ra->adapter) {
        if (ra->stopped) {
            GN_WARN(MOD, "adapter called its stop callback twice | adapter=%s", ra->adapter->name);
            return;
        }
        ra->stopped = true;
        GN_DEBUG(MOD, "listener stopped | adapter=%s", ra->adapter->name);
    }
    if (--gw->stop_pending == 0) on_adapters_stopped(gw);
}

/* A stop that never calls back would hang the shutdown silently: say who is late. */
static void on_stop_timer(uv_timer_t *timer)
{
    gateway_t *gw = timer->data;
    for (size_t i = 0; i < gw->nrunning; i++)
        if (!gw->running[i].stopped)
            GN_WARN(MOD,
                    "still waiting for a listener to stop (a second SIGINT exits now) | "
                    "adapter=%s",
                    gw->running[i].adapter->name);
}

static void stop_adapters(void *arg)
{
    gateway_t *gw = arg;
    uv_timer_init(&gw->loop, &gw->stop_timer);
    gw->stop_timer.data = gw;
    uv_timer_start(&gw->stop_timer, on_stop_timer, STOP_WARN_MS, STOP_WARN_MS);
    /* +1 so that an adapter calling back synchronously cannot finish the count early. */
    gw->stop_pending = gw->nrunning + 1;
    for (size_t i = gw->nrunning; i-- > 0;) {
        running_adapter_t *ra = &gw->running[i];
        GN_DEBUG(MOD, "stopping listener | adapter=%s", ra->adapter->name);
        ra->adapter->stop(ra->state, on_adapter_stopped, ra);
    }
    running_adapter_t self = {.gw = gw}; /* the +1 */
    on_adapter_stopped(&self);
}

/* In a cluster the broker first hands its leaderships over (controlled shutdown) while
 * the listeners still answer, then the adapters stop, then the broker closes. */
static void shutdown_begin(gateway_t *gw, const char *reason, int exit_code)
{
    if (gw->shutting_down) return;
    gw->shutting_down = true;
    gw->exit_code = exit_code;
    GN_INFO(MOD, "shutting down | reason=%s", reason);
    if (gw->broker && exit_code == 0) /* not after a failed start-up */
        gn_broker_drain(gw->broker, stop_adapters, gw);
    else
        stop_adapters(gw);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    gateway_t *gw = handle->data;
    const char *name = signum == SIGINT ? "SIGINT" : signum == SIGTERM ? "SIGTERM" : "SIGHUP";
    if (signum == SIGHUP) {
        GN_INFO(MOD, "SIGHUP ignored: configuration is read at start-up only | signal=SIGHUP");
        return;
    }
    if (gw->shutting_down) {
        /* The operator insists: leave now. No clean-shutdown marker, so the next start
         * checks the logs' tails. */
        GN_WARN(MOD,
                "second signal during shutdown, exiting now without a clean shutdown | "
                "signal=%s exit_code=%d",
                name, 128 + signum);
        _exit(128 + signum);
    }
    shutdown_begin(gw, name, 0);
}

static int signals_start(gateway_t *gw)
{
    struct {
        uv_signal_t *handle;
        int signum;
    } sigs[] = {{&gw->sigint, SIGINT}, {&gw->sigterm, SIGTERM}, {&gw->sighup, SIGHUP}};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        int rc = uv_signal_init(&gw->loop, sigs[i].handle);
        if (rc == 0) rc = uv_signal_start(sigs[i].handle, on_signal, sigs[i].signum);
        if (rc != 0) return rc;
        sigs[i].handle->data = gw;
    }
    return 0;
}

/* The configured listeners that no adapter of the table serves: say so once each. */
static void warn_unserved_listeners(gateway_t *gw, const gn_adapter_t *const *adapters)
{
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        const char *name = keys[i].name;
        size_t len = strlen(name);
        char lname[64];
        if (len < 6 || len - 5 >= sizeof(lname) || strcmp(name + len - 5, ".port") != 0 ||
            (len >= 16 && strcmp(name + len - 16, ".advertised.port") == 0))
            continue;
        memcpy(lname, name, len - 5);
        lname[len - 5] = '\0';
        bool served = false;
        size_t base = strlen(lname);
        if (base > 4 && strcmp(lname + base - 4, ".tls") == 0) base -= 4; /* the adapter's own */
        for (size_t a = 0; adapters[a]; a++)
            if (strlen(adapters[a]->name) == base && strncmp(adapters[a]->name, lname, base) == 0)
                served = true;
        gn_listener_config_t lc;
        if (served || gn_gateway_config_listener(gw->cfg, lname, &lc) != 0 || lc.port == 0)
            continue;
        GN_WARN(MOD,
                "listener not available: this build has no such adapter | listener=%s "
                "port=%d",
                lname, lc.port);
    }
}

/* Every key's effective value, for an operator chasing "which setting won". */
static void log_config(const gn_gateway_config_t *cfg)
{
    if (!gn_logger_enabled(GN_LEVEL_DEBUG)) return;
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        char value[300], quoted[300];
        if (gn_gateway_config_get(cfg, keys[i].name, value, sizeof(value)) < 0) continue;
        GN_DEBUG(MOD, "config | key=%s value=%s", keys[i].name,
                 logfmt_value(value, quoted, sizeof(quoted)));
    }
}

static int adapters_start(gateway_t *gw, const gn_adapter_t *const *adapters)
{
    for (size_t i = 0; adapters[i]; i++) {
        const gn_adapter_t *ad = adapters[i];
        gn_listener_config_t lc;
        char hbuf[300], abuf[300];
        if (gn_gateway_config_listener(gw->cfg, ad->name, &lc) != 0) {
            /* No keys for it in config_keys.c yet: its default port on every address. */
            GN_WARN(MOD,
                    "adapter has no configuration keys, using its default port | "
                    "adapter=%s port=%d",
                    ad->name, ad->default_port);
            lc =
                (gn_listener_config_t){.host = "0.0.0.0",
                                       .port = ad->default_port,
                                       .max_request_bytes = (long)gw->cfg->socket_request_max_bytes,
                                       .allow_anonymous = true};
        }
        lc.auth = gw->auth;
        lc.tls = gw->tls;
        if (!lc.tls) lc.tls_port = 0;
        if (lc.port == 0) {
            GN_INFO(MOD, "listener off | adapter=%s", ad->name);
            continue;
        }
        if (gw->nrunning == GN_GATEWAY_MAX_ADAPTERS) {
            GN_ERROR(MOD, "too many adapters | max=%d", GN_GATEWAY_MAX_ADAPTERS);
            return GN_EINVAL;
        }
        void *state = NULL;
        int rc = ad->start(gw->broker, &lc, &state);
        if (rc != 0) {
            GN_ERROR(MOD,
                     "listener failed to start | adapter=%s host=%s port=%d error=%s "
                     "reason=%s",
                     ad->name, logfmt_value(lc.host, hbuf, sizeof(hbuf)), lc.port, err_name(rc),
                     logfmt_value(err_text(rc), abuf, sizeof(abuf)));
            return rc;
        }
        gw->running[gw->nrunning++] = (running_adapter_t){ad, state, gw, false};
        if (lc.advertised_host || lc.advertised_port)
            GN_INFO(MOD, "listening | adapter=%s host=%s port=%d advertised=%s:%d", ad->name,
                    logfmt_value(lc.host, hbuf, sizeof(hbuf)), lc.port,
                    lc.advertised_host ? lc.advertised_host : lc.host,
                    lc.advertised_port ? lc.advertised_port : lc.port);
        else
            GN_INFO(MOD, "listening | adapter=%s host=%s port=%d", ad->name,
                    logfmt_value(lc.host, hbuf, sizeof(hbuf)), lc.port);
        if (lc.tls_port)
            GN_INFO(MOD, "listening | adapter=%s host=%s port=%d tls=true", ad->name,
                    logfmt_value(lc.host, hbuf, sizeof(hbuf)), lc.tls_port);
    }
    return 0;
}

static running_adapter_t *running_find(gateway_t *gw, const char *name)
{
    for (size_t i = 0; i < gw->nrunning; i++)
        if (strcmp(gw->running[i].adapter->name, name) == 0) return &gw->running[i];
    return NULL;
}

/* Hands each WebSocket route to the adapter serving it, once server and owner run. */
static int ws_routes_serve(gateway_t *gw, const gn_gateway_ws_route_t *routes)
{
    for (size_t i = 0; routes && routes[i].server; i++) {
        const gn_gateway_ws_route_t *row = &routes[i];
        running_adapter_t *server = running_find(gw, row->server);
        running_adapter_t *owner = row->owner ? running_find(gw, row->owner) : NULL;
        if (!server || (row->owner && !owner)) {
            GN_INFO(MOD, "websocket route off: its listener is off | path=%s server=%s owner=%s",
                    row->route.path, row->server, row->owner ? row->owner : "-");
            continue;
        }
        if (!server->adapter->serve_stream) {
            GN_ERROR(MOD, "adapter cannot serve websocket routes | adapter=%s path=%s", row->server,
                     row->route.path);
            return GN_EINVAL;
        }
        gn_ws_route_t route = row->route;
        route.adapter_state = owner ? owner->state : NULL;
        int rc = server->adapter->serve_stream(server->state, &route);
        if (rc != 0) {
            GN_ERROR(MOD, "websocket route failed | path=%s server=%s error=%s", route.path,
                     row->server, err_name(rc));
            return rc;
        }
        GN_DEBUG(MOD, "websocket route | path=%s protocol=%s server=%s", route.path,
                 route.protocol ? route.protocol->name : "-", row->server);
    }
    return 0;
}

static void on_walk_close(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (uv_is_closing(handle)) return;
    GN_WARN(MOD, "handle left open at exit, closing it | type=%s",
            uv_handle_type_name(uv_handle_get_type(handle)));
    uv_close(handle, on_handle_closed);
}

/* The users of auth.users.file, read once before anything starts. */
static int auth_load(gateway_t *gw)
{
    const char *path = gw->cfg->auth_users_file;
    char err[600], pbuf[600], ebuf[700];
    if (!path || !*path) return 0;
    if (!(gw->auth = gn_auth_store_new())) {
        GN_ERROR(MOD, "cannot load the users file | file=%s error=ENOMEM",
                 logfmt_value(path, pbuf, sizeof(pbuf)));
        return -1;
    }
    int rc = gn_auth_store_load(gw->auth, path, err, sizeof(err));
    if (rc != 0) {
        GN_ERROR(MOD, "cannot load the users file | file=%s error=%s reason=%s",
                 logfmt_value(path, pbuf, sizeof(pbuf)), err_name(rc),
                 logfmt_value(err, ebuf, sizeof(ebuf)));
        gn_auth_store_free(gw->auth);
        gw->auth = NULL;
        return -1;
    }
    GN_INFO(MOD,
            "users loaded | file=%s users=%zu mqtt_allow_anonymous=%s kafka_allow_anonymous=%s",
            logfmt_value(path, pbuf, sizeof(pbuf)), gn_auth_store_count(gw->auth),
            gw->cfg->mqtt_allow_anonymous ? "true" : "false",
            gw->cfg->kafka_allow_anonymous ? "true" : "false");
    return 0;
}

/* The TLS context of tls.cert.file, made once before anything starts. */
static int tls_load(gateway_t *gw)
{
    const gn_gateway_config_t *cfg = gw->cfg;
    char err[600], ebuf[700], pbuf[600];
    if (!*cfg->tls_cert_file) return 0;
    gn_tls_config_t tc = {.cert_file = cfg->tls_cert_file,
                          .key_file = cfg->tls_key_file,
                          .ca_file = cfg->tls_ca_file,
                          .client_auth = (gn_tls_client_auth_t)cfg->tls_client_auth};
    err[0] = '\0';
    int rc = gn_tls_ctx_new(&tc, &gw->tls, err, sizeof(err));
    if (rc != 0) {
        GN_ERROR(MOD, "cannot set up TLS | error=%s reason=%s", err_name(rc),
                 logfmt_value(err, ebuf, sizeof(ebuf)));
        return -1;
    }
    GN_INFO(MOD, "TLS ready | cert=%s client_auth=%s",
            logfmt_value(cfg->tls_cert_file, pbuf, sizeof(pbuf)),
            cfg->tls_client_auth == 2   ? "required"
            : cfg->tls_client_auth == 1 ? "requested"
                                        : "none");
    return 0;
}

/* The context of cluster.tls.*, made once before the broker opens (its internal RPC and
 * Raft use it). */
static int cluster_tls_load(gateway_t *gw)
{
    const gn_gateway_config_t *cfg = gw->cfg;
    char err[600], ebuf[700], pbuf[600];
    if (!cfg->cluster_tls_enabled) return 0;
    gn_tls_config_t tc = {.cert_file = cfg->cluster_tls_cert_file,
                          .key_file = cfg->cluster_tls_key_file,
                          .ca_file = cfg->cluster_tls_ca_file,
                          .peers = true};
    err[0] = '\0';
    int rc = gn_tls_ctx_new(&tc, &gw->cluster_tls, err, sizeof(err));
    if (rc != 0) {
        GN_ERROR(MOD, "cannot set up TLS between brokers (cluster.tls.*) | error=%s reason=%s",
                 err_name(rc), logfmt_value(err, ebuf, sizeof(ebuf)));
        return -1;
    }
    GN_INFO(MOD, "TLS between brokers ready | cert=%s",
            logfmt_value(cfg->cluster_tls_cert_file, pbuf, sizeof(pbuf)));
    return 0;
}

int gn_gateway_run(const gn_gateway_config_t *cfg, const gn_adapter_t *const *adapters,
                   const gn_gateway_ws_route_t *ws_routes)
{
    gateway_t gw = {.cfg = cfg, .exit_code = 0};
    char dbuf[600], rbuf[300];
    gn_logger_set_level(cfg->log_level);
    log_config(cfg);

    /* A peer that closes while we write must give EPIPE, not kill the process. */
    struct sigaction sa = {.sa_handler = SIG_IGN};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);

    if (auth_load(&gw) != 0) return 1;
    if (tls_load(&gw) != 0 || cluster_tls_load(&gw) != 0) {
        gn_auth_store_free(gw.auth);
        gn_tls_ctx_free(gw.tls);
        return 1;
    }
    int rc = uv_loop_init(&gw.loop);
    if (rc != 0) {
        gn_auth_store_free(gw.auth);
        gn_tls_ctx_free(gw.tls);
        gn_tls_ctx_free(gw.cluster_tls);
        GN_ERROR(MOD, "cannot create the event loop | error=%s", uv_err_name(rc));
        return 1;
    }
    /* Before the broker opens, so that a signal during recovery is not lost. */
    rc = signals_start(&gw);
    if (rc != 0) {
        GN_ERROR(MOD, "cannot install signal handlers | error=%s", uv_err_name(rc));
        gw.exit_code = 1;
        close_signals(&gw);
        goto run;
    }

    /* core/cluster registers this broker with its Kafka address, as clients must dial it */
    gn_broker_config_t bcfg = cfg->broker;
    bcfg.cluster_tls = gw.cluster_tls;
    if (cfg->kafka_advertised_host && cfg->kafka_advertised_host[0])
        bcfg.advertised_host = cfg->kafka_advertised_host;
    else if (cfg->kafka_host && cfg->kafka_host[0] && strcmp(cfg->kafka_host, "0.0.0.0") != 0)
        bcfg.advertised_host = cfg->kafka_host;
    else
        bcfg.advertised_host = "127.0.0.1";
    bcfg.advertised_port =
        cfg->kafka_advertised_port > 0 ? cfg->kafka_advertised_port : cfg->kafka_port;
    if (gw.tls && cfg->kafka_port > 0 && cfg->kafka_tls_port > 0) /* its TLS listener too */
        bcfg.advertised_tls_port = cfg->kafka_tls_advertised_port > 0
                                       ? cfg->kafka_tls_advertised_port
                                       : cfg->kafka_tls_port;
    rc = gn_broker_open(&gw.loop, &bcfg, &gw.broker);
    if (rc != 0) {
        GN_ERROR(MOD, "cannot open the broker | data_dir=%s error=%s reason=%s",
                 logfmt_value(cfg->broker.data_dir, dbuf, sizeof(dbuf)), err_name(rc),
                 logfmt_value(err_text(rc), rbuf, sizeof(rbuf)));
        gw.broker = NULL;
        gw.exit_code = 1;
        close_signals(&gw);
        goto run;
    }

    rc = adapters_start(&gw, adapters);
    if (rc == 0) rc = ws_routes_serve(&gw, ws_routes);
    if (rc != 0) {
        shutdown_begin(&gw, "startup_failed", 1);
        goto run;
    }
    warn_unserved_listeners(&gw, adapters);
    GN_INFO(MOD,
            "ganglion started | data_dir=%s node_id=%d version=%s pid=%d listeners=%zu "
            "flush=%s",
            logfmt_value(cfg->broker.data_dir, dbuf, sizeof(dbuf)), (int)cfg->broker.node_id,
            GN_GATEWAY_VERSION, (int)getpid(), gw.nrunning,
            gn_flush_policy_name(cfg->broker.flush));

run:
    uv_run(&gw.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&gw.loop) == UV_EBUSY) {
        /* A module left a handle open: close it rather than hang or leak. */
        uv_walk(&gw.loop, on_walk_close, NULL);
        uv_run(&gw.loop, UV_RUN_DEFAULT);
        uv_loop_close(&gw.loop);
    }
    gn_auth_store_free(gw.auth); /* the adapters have stopped */
    gn_tls_ctx_free(gw.tls);
    gn_tls_ctx_free(gw.cluster_tls); /* the broker has closed */
    if (gw.exit_code == 0)
        GN_INFO(MOD, "ganglion stopped | exit_code=0");
    else
        GN_ERROR(MOD, "ganglion stopped | exit_code=%d", gw.exit_code);
    return gw.exit_code;
}
