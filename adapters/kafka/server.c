/* SPDX-License-Identifier: Apache-2.0 */
/* The Kafka adapter's descriptor and listener: binds the configured address on the
 * broker's loop, accepts connections (conn.c), and on stop closes the listener and
 * every connection, calling back once all handles are closed. Loop thread only. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"

static void on_connection(uv_stream_t *listener, int status)
{
    kafka_server_t *srv = listener->data;
    if (status < 0) {
        GN_WARN("kafka", "accept failed | err=%s", uv_strerror(status));
        return;
    }
    if (srv->stopping) return;
    kafka__conn_accept(srv);
}

void kafka__server_handle_closed(kafka_server_t *srv)
{
    if (--srv->open_handles > 0 || !srv->stopping) return;
    gn_adapter_stopped_cb cb = srv->stop_cb;
    void *arg = srv->stop_arg;
    free(srv->tls_chunk);
    gn_auth_throttle_free(srv->throttle);
    free(srv);
    if (cb) cb(arg);
}

/* The listener's and the flush handles' close callback. */
static void on_listener_closed(uv_handle_t *h)
{
    kafka__server_handle_closed(h->data);
}

/* connections.max.idle.ms: closes the connections that sent nothing (a TLS client's
 * handshake counts as nothing) and wait for no answer of ours for that long. */
static void on_idle_sweep(uv_timer_t *t)
{
    kafka_server_t *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    for (kafka_conn_t *conn = srv->conns, *next; conn; conn = next) {
        next = conn->next;
        if (conn->closing || conn->q_count > 0 || now - conn->last_read < srv->max_idle_ms)
            continue;
        GN_INFO("kafka", "closing an idle connection | client=%s idle_ms=%llu tls=%s", conn->peer,
                (unsigned long long)(now - conn->last_read), conn->tls ? "true" : "false");
        kafka__conn_close(conn, NULL);
    }
}

/* The sweep runs every quarter of the limit (between 100 ms and 10 s). */
static void idle_sweep_start(kafka_server_t *srv, long max_idle_ms)
{
    if (max_idle_ms <= 0) return;
    srv->max_idle_ms = (uint64_t)max_idle_ms;
    uint64_t every = srv->max_idle_ms / 4;
    every = every < 100 ? 100 : every > 10000 ? 10000 : every;
    uv_timer_init(srv->loop, &srv->idle_timer);
    srv->idle_timer.data = srv;
    srv->open_handles++;
    uv_timer_start(&srv->idle_timer, on_idle_sweep, every, every);
}

static int kafka_start(gn_broker_t *broker, const gn_listener_config_t *cfg, void **state)
{
    *state = NULL;
    kafka_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) return GN_ENOMEM;
    srv->broker = broker;
    srv->loop = gn_broker_loop(broker);
    srv->auth = cfg->auth;
    if (!(srv->throttle = gn_auth_throttle_new())) {
        free(srv);
        return GN_ENOMEM;
    }
    srv->allow_anonymous = cfg->allow_anonymous || !cfg->auth; /* no users: nobody could log in */
    srv->max_request_bytes = cfg->max_request_bytes > 0 ? (size_t)cfg->max_request_bytes
                                                        : KAFKA_DEFAULT_MAX_REQUEST_BYTES;
    if (cfg->advertised_host && cfg->advertised_host[0]) {
        snprintf(srv->adv_host, sizeof srv->adv_host, "%s", cfg->advertised_host);
        srv->adv_port = cfg->advertised_port ? cfg->advertised_port : cfg->port;
    } else if (cfg->advertised_port) {
        srv->adv_port = cfg->advertised_port;
    }

    const char *host = cfg->host && cfg->host[0] ? cfg->host : "0.0.0.0";
    uv_tcp_init(srv->loop, &srv->listener);
    srv->listener.data = srv;
    srv->open_handles = 1;
    int rc = gn_tcp_listen(&srv->listener, host, cfg->port, on_connection);
    if (rc < 0)
        GN_ERROR("kafka", "cannot listen | host=%s port=%d err=%s", host, cfg->port,
                 uv_strerror(rc));
    else
        rc = kafka__tls_listen(srv, cfg);
    if (rc < 0) {
        srv->stopping = true;
        kafka__tls_close(srv);
        uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
        return rc;
    }
    srv->listening = true;
    uv_prepare_init(srv->loop, &srv->flush_prepare);
    uv_check_init(srv->loop, &srv->flush_check);
    srv->flush_prepare.data = srv->flush_check.data = srv;
    srv->open_handles += 2;
    idle_sweep_start(srv, cfg->max_idle_ms);
    GN_INFO("kafka", "listening | host=%s port=%d max_request_bytes=%zu max_idle_ms=%ld", host,
            cfg->port, srv->max_request_bytes, cfg->max_idle_ms);
    *state = srv;
    return 0;
}

static void kafka_stop(void *state, gn_adapter_stopped_cb cb, void *arg)
{
    kafka_server_t *srv = state;
    if (!srv) {
        if (cb) cb(arg);
        return;
    }
    srv->stopping = true;
    srv->stop_cb = cb;
    srv->stop_arg = arg;
    for (kafka_conn_t *conn = srv->conns; conn; conn = conn->next)
        kafka__conn_close(conn, NULL);
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    kafka__tls_close(srv);
    uv_close((uv_handle_t *)&srv->flush_prepare, on_listener_closed);
    uv_close((uv_handle_t *)&srv->flush_check, on_listener_closed);
    if (srv->max_idle_ms) uv_close((uv_handle_t *)&srv->idle_timer, on_listener_closed);
}

const gn_adapter_t gn_kafka_adapter = {
    .name = "kafka",
    .default_port = 9092,
    .start = kafka_start,
    .stop = kafka_stop,
};
