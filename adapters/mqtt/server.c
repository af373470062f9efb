/* SPDX-License-Identifier: Apache-2.0 */
/* The MQTT adapter's descriptor (gn_mqtt_adapter) and stream protocol
 * (gn_mqtt_stream_protocol): binds the listener, loads retained messages and persistent
 * sessions from their compacted topics, registers the append observer that drives
 * delivery, and on stop saves sessions, closes every connection and calls back once
 * every handle is closed. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"
#include "mqtt.h"

void mqtt__server_handle_closed(mqtt_server_t *srv)
{
    if (--srv->open_handles > 0 || !srv->stopping) return;
    gn_adapter_stopped_cb cb = srv->stop_cb;
    void *arg = srv->stop_arg;
    mqtt__trie_free(srv->trie);
    mqtt__retained_free_all(srv);
    mqtt__publish_free(srv);
    mqtt__recent_free(srv);
    free(srv->scan_buf);
    free(srv->hits);
    mqtt__conn_spares_free(srv);
    mqtt_wbuf_free(&srv->w);
    mqtt_wbuf_free(&srv->props);
    gn_auth_throttle_free(srv->throttle);
    free(srv);
    if (cb) cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    mqtt__server_handle_closed(h->data);
}

static void flush_output(mqtt_server_t *srv)
{
    while (srv->outq) {
        mqtt_conn_t *conn = srv->outq;
        srv->outq = conn->out_next;
        conn->out_next = NULL;
        conn->out_queued = false;
        mqtt__conn_flush(conn);
        mqtt__conn_unref(conn);
    }
}

/* Right after the loop polled (uv_check): the PUBLISH packets just read go to the log
 * (one batch per partition), and what the poll's callbacks queued (the acks of batches
 * that just became durable) is written, before the next turn's deliveries run: the
 * publisher's round trip is an fsync, not an fsync plus a turn of fan-out work. */
static void on_polled(uv_check_t *h)
{
    mqtt_server_t *srv = h->data;
    if (srv->npending > 0) mqtt__publish_flush(srv);
    flush_output(srv);
}

/* The end of every loop turn (before the loop polls again): the publishes of the turn
 * go to the log as one batch per partition, sessions acknowledged this turn catch up
 * once, and each connection's output of the turn is written with one write. */
static void on_turn_end(uv_prepare_t *h)
{
    mqtt_server_t *srv = h->data;
    mqtt__recent_turn_end(srv);
    if (srv->npending > 0) mqtt__publish_flush(srv);
    while (srv->catchups) {
        mqtt_session_t *sess = srv->catchups;
        srv->catchups = sess->catchup_next;
        sess->catchup_next = NULL;
        sess->catchup_due = false;
        mqtt__session_catch_up(sess);
    }
    if (srv->syncs) mqtt__sessions_sync(srv);
    flush_output(srv);
}

static void on_connection(uv_stream_t *listener, int status)
{
    mqtt_server_t *srv = listener->data;
    if (status < 0) {
        GN_WARN(MQTT_MOD, "accept failed | err=%s", uv_strerror(status));
        return;
    }
    if (srv->stopping) return;
    mqtt__tcp_accept(srv);
}

/* The cluster's size: the controller quorum's voters (1 on a single node). */
static int16_t cluster_size(gn_broker_t *broker)
{
    const char *v = gn_broker_config(broker)->quorum_voters;
    int16_t n = 1;
    for (; v && *v; v++)
        n += *v == ',';
    return n;
}

/* Internal compacted topics: created once, one partition each, with a replica on every
 * broker (the replication factor is the cluster's size, or the default when larger), so
 * every broker follows the sessions and retained messages of all. In a cluster that is
 * starting, that may exceed the brokers registered yet: the sweep timer tries again each
 * second (the failure is logged once). */
static void ensure_topic(mqtt_server_t *srv, const char *name)
{
    gn_topic_info_t info;
    if (gn_topic_describe(srv->broker, name, &info) == 0) return;
    static const gn_config_entry_t cfg[] = {{"cleanup.policy", "compact"}};
    int16_t rf = cluster_size(srv->broker);
    int16_t def = gn_broker_config(srv->broker)->default_replication_factor;
    if (def > rf) rf = def;
    int rc = gn_topic_create(srv->broker, name, 1, rf, cfg, 1, false, NULL, NULL);
    if (rc < 0 && rc != GN_ETOPIC_EXISTS && !srv->internal_topics_warned) {
        srv->internal_topics_warned = true;
        GN_WARN(MQTT_MOD, "cannot create internal topic yet; retrying | topic=%s err=%s", name,
                gn_err_name(rc));
    }
}

/* In a cluster the controller creates them: brokers starting together would otherwise
 * race, the metadata log keeps one creation and drops the others, and what a broker did
 * meanwhile on its dropped copy (a session claim) is lost (CONNECT refused 0x88, seen in
 * tests/cluster/0004). Another broker creates them itself only after this many sweeps
 * (seconds) without them: a controller with its MQTT listener off. */
#define INTERNAL_TOPICS_WAIT_SWEEPS 5

void mqtt__internal_topics_ensure(mqtt_server_t *srv)
{
    if (cluster_size(srv->broker) > 1 &&
        gn_cluster_controller_id(srv->broker) != gn_broker_config(srv->broker)->node_id &&
        srv->internal_topics_waits++ < INTERNAL_TOPICS_WAIT_SWEEPS)
        return;
    ensure_topic(srv, MQTT_RETAINED_TOPIC);
    ensure_topic(srv, MQTT_SESSIONS_TOPIC);
}

static int mqtt_start(gn_broker_t *broker, const gn_listener_config_t *cfg, void **state)
{
    *state = NULL;
    mqtt_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) return GN_ENOMEM;
    srv->broker = broker;
    srv->auth = cfg->auth;
    srv->allow_anonymous = cfg->allow_anonymous;
    srv->loop = gn_broker_loop(broker);
    srv->stats.started_ms = gn_now_ms();
    mqtt_wbuf_init(&srv->w);
    mqtt_wbuf_init(&srv->props);
    srv->next_serial = 1;
    if (!(srv->trie = mqtt__trie_new()) || !(srv->throttle = gn_auth_throttle_new())) {
        mqtt__trie_free(srv->trie);
        free(srv);
        return GN_ENOMEM;
    }
    mqtt__internal_topics_ensure(srv);

    const char *host = cfg->host && cfg->host[0] ? cfg->host : "0.0.0.0";
    uv_tcp_init(srv->loop, &srv->listener);
    srv->listener.data = srv;
    srv->open_handles = 1;
    int rc = gn_tcp_listen(&srv->listener, host, cfg->port, on_connection);
    if (rc < 0)
        GN_ERROR(MQTT_MOD, "cannot listen | host=%s port=%d err=%s", host, cfg->port,
                 uv_strerror(rc));
    else
        rc = mqtt__tls_listen(srv, cfg);
    if (rc < 0) {
        srv->stopping = true;
        mqtt__tls_close(srv);
        uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
        return rc;
    }
    srv->listening = true;
    uv_prepare_init(srv->loop, &srv->turn_end);
    srv->turn_end.data = srv;
    srv->turn_end_init = true;
    srv->open_handles++;
    uv_prepare_start(&srv->turn_end, on_turn_end);
    uv_unref((uv_handle_t *)&srv->turn_end);
    uv_check_init(srv->loop, &srv->polled);
    srv->polled.data = srv;
    srv->open_handles++;
    uv_check_start(&srv->polled, on_polled);
    uv_unref((uv_handle_t *)&srv->polled);
    mqtt__conn_sweep_start(srv);
    srv->self_id = gn_broker_config(broker)->node_id;
    mqtt__owner_sweep(srv); /* the live brokers, before sessions decide who expires them */
    if ((rc = mqtt__retained_load(srv)) < 0)
        GN_ERROR(MQTT_MOD, "loading retained messages failed | err=%s", gn_err_name(rc));
    if ((rc = mqtt__sessions_load(srv)) < 0)
        GN_ERROR(MQTT_MOD, "loading sessions failed | err=%s", gn_err_name(rc));
    if (gn_broker_observe_appends(broker, mqtt__on_append, srv) == 0) srv->observing = true;
    mqtt__sys_start(srv);
    GN_INFO(MQTT_MOD, "listening | host=%s port=%d sessions=%zu retained=%zu", host, cfg->port,
            srv->nsessions, srv->nretained);
    *state = srv;
    return 0;
}

static void mqtt_stop(void *state, gn_adapter_stopped_cb cb, void *arg)
{
    mqtt_server_t *srv = state;
    if (!srv) {
        if (cb) cb(arg);
        return;
    }
    srv->stopping = true;
    srv->stop_cb = cb;
    srv->stop_arg = arg;
    if (srv->observing) gn_broker_unobserve_appends(srv->broker, mqtt__on_append, srv);
    srv->observing = false;
    srv->open_handles++; /* held while tearing down */
    for (mqtt_conn_t *conn = srv->conns; conn; conn = conn->next) {
        conn->graceful = true; /* a broker shutdown is not the client's failure: no will */
        mqtt__conn_disconnect(conn, MQTT_RC_SERVER_SHUTTING_DOWN, "server shutting down");
    }
    mqtt__claims_free(srv);
    /* sessions: this broker's persistent ones are saved (positions included), then
     * every one is freed (the others' are their owners' to save) */
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++) {
        while (srv->sessions[b]) {
            mqtt_session_t *sess = srv->sessions[b];
            if (sess->conn) { /* a shutdown is no failure of the client's: no will */
                sess->conn->session = NULL;
                sess->conn = NULL;
                mqtt__session_will_free(sess);
                if (!sess->persistent && sess->owner == srv->self_id) mqtt__session_forget(sess);
            }
            if (sess->persistent && sess->owner == srv->self_id) mqtt__session_save(sess);
            mqtt__session_free(sess);
        }
    }
    if (srv->turn_end_init) {
        on_turn_end(&srv->turn_end); /* what the last turn queued */
        uv_close((uv_handle_t *)&srv->turn_end, on_handle_closed);
        uv_close((uv_handle_t *)&srv->polled, on_handle_closed);
    }
    if (srv->sweep_timer_init) uv_close((uv_handle_t *)&srv->sweep_timer, on_handle_closed);
    if (srv->sys_timer_init) uv_close((uv_handle_t *)&srv->sys_timer, on_handle_closed);
    if (srv->share_timer_init) uv_close((uv_handle_t *)&srv->share_timer, on_handle_closed);
    uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
    mqtt__tls_close(srv);
    mqtt__server_handle_closed(srv);
}

static int mqtt_attach(gn_broker_t *broker, void *adapter_state, gn_transport_t *tr)
{
    (void)broker;
    mqtt_server_t *srv = adapter_state;
    if (!srv || srv->stopping) return GN_ESHUTDOWN;
    return mqtt__conn_attach(srv, tr);
}

const gn_stream_protocol_t gn_mqtt_stream_protocol = {
    .name = "mqtt",
    .attach = mqtt_attach,
};

const gn_adapter_t gn_mqtt_adapter = {
    .name = "mqtt",
    .default_port = 1883,
    .start = mqtt_start,
    .stop = mqtt_stop,
    .serve_stream = NULL,
};
