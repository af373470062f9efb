/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP adapter's descriptor (gn_http_adapter): creates the libwebsockets context on
 * the broker's libuv loop (a foreign loop) with two listener-less vhosts (HTTP/1.1 and
 * h2c prior knowledge) that accept.c feeds, dispatches lws callbacks to requests, SSE
 * streams and WebSockets, and stops in order. Loop thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "consumer.h"
#include "http.h"

/* The WebSocket subprotocols lws may select; serve_stream routes pick among them. */
const struct lws_protocols http__protocols[] = {
    {"http", http__lws_callback, sizeof(http_pss_t), 0, 0, NULL, 0},
    {"mqtt", http__lws_callback, sizeof(http_pss_t), 0, 0, NULL, 0},
    {"mqttv3.1", http__lws_callback, sizeof(http_pss_t), 0, 0, NULL, 0},
    {"ganglion.v1.json", http__lws_callback, sizeof(http_pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line)
{
    char buf[300];
    size_t n = strlen(line);
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, line, n);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    /* lws lines start with a timestamp "[2024/..]": keep the message only. */
    const char *msg = buf;
    if (msg[0] == '[') {
        const char *e = strchr(msg, ']');
        if (e) msg = e + 1;
    }
    while (*msg == ' ')
        msg++;
    for (char *c = buf; *c; c++)
        if (*c == '|') *c = '/';
    if (strstr(msg, "calling service")) return; /* lws 4.1 logs adoption at error level */
    if (level & LLL_ERR)
        GN_WARN("lws", "%s", msg);
    else
        GN_DEBUG("lws", "%s", msg);
}

void http__server_handle_closed(http_server_t *srv)
{
    srv->open_handles--;
}

static void on_stop_timer_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    gn_adapter_stopped_cb cb = srv->stop_cb;
    void *arg = srv->stop_arg;
    GN_DEBUG(HTTP_MOD, "stopped");
    if (srv->anchor[1] >= 0) close(srv->anchor[1]);
    free(srv->ws_scratch);
    http__auth_free(srv);
    for (size_t i = 0; i < srv->nws_routes; i++) /* every WebSocket session closed by now */
        if (srv->ws_route_state_owned[i])
            srv->ws_routes[i].protocol->state_free(srv->ws_routes[i].adapter_state);
    free(srv);
    if (cb) cb(arg);
}

/* Polls until lws has closed its handles, our requests are freed and our handles are
 * closed; lws reports completion only by writing NULL into ctx_destroyed. */
static void on_stop_timer(uv_timer_t *t)
{
    http_server_t *srv = t->data;
    /* On a foreign loop lws 4.1 finishes (destroy2/3) only if its static handles were
     * already closed when its last wsi went; otherwise it waits for another call. Once
     * no wsi is left, two ticks (two loop turns, so every uv_close callback has run)
     * later, call it again. */
    if (srv->ctx_destroyed && srv->wsi_live == 0) {
        if (++srv->idle_ticks >= 3) lws_context_destroy(srv->ctx_destroyed);
    } else {
        srv->idle_ticks = 0;
    }
    if (srv->ctx_destroyed || srv->reqs || srv->open_handles > 0) {
        if (++srv->stop_ticks % 400 == 0) /* every ~2 s */
            GN_WARN(HTTP_MOD, "still stopping | lws_context=%s wsi=%d requests=%s handles=%d",
                    srv->ctx_destroyed ? "open" : "closed", srv->wsi_live,
                    srv->reqs ? "some" : "none", srv->open_handles);
        return;
    }
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, on_stop_timer_closed);
}

static void http_stop(void *state, gn_adapter_stopped_cb cb, void *arg)
{
    http_server_t *srv = state;
    srv->stopping = true;
    srv->stop_cb = cb;
    srv->stop_arg = arg;
    http__accept_stop(srv);
    http__consumers_stop(srv);
    http__connect_stop(srv);
    http__streams_stop(srv);
    http__ws_flush_stop(srv);
    if (srv->ctx) {
        struct lws_context *ctx = srv->ctx;
        srv->ctx = NULL;
        lws_context_destroy(ctx);
    }
    uv_timer_init(srv->loop, &srv->stop_timer);
    srv->stop_timer.data = srv;
    uv_timer_start(&srv->stop_timer, on_stop_timer, 0, 5);
}

static int http_start(gn_broker_t *broker, const gn_listener_config_t *cfg, void **state)
{
    *state = NULL;
    http_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) return GN_ENOMEM;
    srv->broker = broker;
    srv->loop = gn_broker_loop(broker);
    srv->listen_fd = srv->tls_listen_fd = -1;
    srv->anchor[0] = srv->anchor[1] = -1;
    srv->max_body = cfg->max_request_bytes > 0 ? cfg->max_request_bytes : HTTP_DEFAULT_MAX_BODY;
    /* REST bodies are JSON records, not Kafka batches: bounded by the smaller limit. */
    if (srv->max_body > HTTP_DEFAULT_MAX_BODY) srv->max_body = HTTP_DEFAULT_MAX_BODY;
    snprintf(srv->host, sizeof srv->host, "%s", cfg->host && cfg->host[0] ? cfg->host : "0.0.0.0");
    srv->port = cfg->port;
    snprintf(srv->adv_host, sizeof srv->adv_host, "%s",
             cfg->advertised_host && cfg->advertised_host[0] ? cfg->advertised_host : "");
    srv->adv_port = cfg->advertised_port ? cfg->advertised_port : cfg->port;
    if (http__auth_init(srv, cfg) < 0) {
        free(srv);
        return GN_ENOMEM;
    }

    lws_set_log_level(gn_logger_enabled(GN_LEVEL_DEBUG) ? LLL_ERR | LLL_WARN | LLL_NOTICE : LLL_ERR,
                      lws_log_emit);

    void *loops[1] = {srv->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    if (cfg->tls && cfg->tls_port) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.foreign_loops = loops;
    info.pcontext = &srv->ctx_destroyed;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    /* lws 4.1.6 sends only the first pt_serv_buf_size bytes (default 4096) of an h2 DATA
     * write and reports it whole: h2 responses over 4 KiB stalled. Writes are at most
     * HTTP_WRITE_CHUNK (16 KiB) plus headers, well under this. */
    info.pt_serv_buf_size = HTTP_LWS_SERV_BUF;
    int rc = GN_ENOMEM;
    srv->ctx = lws_create_context(&info);
    if (!srv->ctx) {
        GN_ERROR(HTTP_MOD, "cannot create the libwebsockets context");
        http__auth_free(srv);
        free(srv);
        return GN_ENOMEM;
    }
    srv->ctx_destroyed = srv->ctx;

    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    vi.protocols = http__protocols;
    vi.vhost_name = "http1";
    vi.keepalive_timeout = 60;
    vi.timeout_secs = 30;
    vi.server_string = "ganglion";
    vi.user = srv;
    srv->vh_h1 = lws_create_vhost(srv->ctx, &vi);
    vi.vhost_name = "h2c";
    vi.options = LWS_SERVER_OPTION_H2_PRIOR_KNOWLEDGE;
    srv->vh_h2c = lws_create_vhost(srv->ctx, &vi);
    if (!srv->vh_h1 || !srv->vh_h2c) {
        GN_ERROR(HTTP_MOD, "cannot create the libwebsockets vhosts");
        goto fail;
    }
    if ((rc = http__tls_vhost(srv, cfg)) < 0) goto fail;
    /* lws finishes destroying a context on a foreign loop when its last wsi closes; with
     * no listening wsi of its own, an idle pipe is that wsi. */
    if (pipe2(srv->anchor, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = -errno;
        goto fail;
    }
    lws_sock_file_fd_type fd = {.filefd = srv->anchor[0]};
    if (!lws_adopt_descriptor_vhost(srv->vh_h1, LWS_ADOPT_RAW_FILE_DESC, fd, "http", NULL)) {
        GN_ERROR(HTTP_MOD, "cannot adopt the anchor descriptor");
        goto fail;
    }
    srv->metrics.connections_open--;                            /* the anchor is no client */
    srv->ws_scratch = malloc(LWS_PRE + HTTP_WS_COALESCE_BYTES); /* NULL: one write per message */
    http__ws_flush_start(srv);
    if ((rc = http__consumers_start(srv)) < 0) goto fail;
    if ((rc = http__connect_start(srv)) < 0) goto fail;
    if ((rc = http__streams_start(srv)) < 0) goto fail;
    rc = http__accept_start(srv);
    if (rc < 0) {
        GN_ERROR(HTTP_MOD, "cannot listen | host=%s port=%d err=%s", srv->host, srv->port,
                 uv_strerror(rc));
        goto fail;
    }
    rc = http__tls_accept_start(srv);
    if (rc < 0) {
        GN_ERROR(HTTP_MOD, "cannot listen | listener=tls host=%s port=%d err=%s", srv->host,
                 srv->tls_port, uv_strerror(rc));
        goto fail;
    }
    GN_INFO(HTTP_MOD,
            "listening | host=%s port=%d protocols=http/1.1,h2c,websocket max_body=%ld auth=%s",
            srv->host, srv->port, srv->max_body, http__auth_required(srv) ? "basic" : "none");
    *state = srv;
    return 0;
fail:
    /* Stop in the background: the context's handles close on the loop. */
    http_stop(srv, NULL, NULL);
    return rc;
}

static int http_serve_stream(void *state, const gn_ws_route_t *route)
{
    http_server_t *srv = state;
    if (!route || !route->path || !route->protocol) return GN_EINVAL;
    if (srv->nws_routes == HTTP_MAX_WS_ROUTES) return GN_ENOMEM;
    size_t i = srv->nws_routes;
    snprintf(srv->ws_paths[i], sizeof srv->ws_paths[i], "%s", route->path);
    snprintf(srv->ws_subprotocols[i], sizeof srv->ws_subprotocols[i], "%s",
             route->subprotocols ? route->subprotocols : "");
    srv->ws_routes[i] = *route;
    srv->ws_routes[i].path = srv->ws_paths[i];
    srv->ws_routes[i].subprotocols = srv->ws_subprotocols[i];
    if (!srv->ws_routes[i].max_message_bytes)
        srv->ws_routes[i].max_message_bytes = HTTP_WS_DEFAULT_MAX_MSG;
    if (!route->adapter_state && route->protocol->state_new && route->protocol->state_free) {
        int rc = route->protocol->state_new(srv->broker, &srv->ws_routes[i].adapter_state);
        if (rc < 0) return rc;
        srv->ws_route_state_owned[i] = true;
    }
    srv->nws_routes++;
    GN_INFO(HTTP_MOD, "websocket route | path=%s protocol=%s subprotocols=%s", route->path,
            route->protocol->name, srv->ws_subprotocols[i][0] ? srv->ws_subprotocols[i] : "-");
    return 0;
}

const gn_adapter_t gn_http_adapter = {
    .name = "http",
    .default_port = 8080,
    .start = http_start,
    .stop = http_stop,
    .serve_stream = http_serve_stream,
};
