/* SPDX-License-Identifier: Apache-2.0 */
/* One MQTT connection on any transport: buffers input until whole packets, decodes
 * them (codec), dispatches through a table to handle_*.c (only AUTH and DISCONNECT
 * while an enhanced authentication holds the CONNACK back), enforces the CONNECT
 * timeout (which also bounds that exchange) and keepalive (1.5 x), and closes with the right reason
 * and a log line naming the client. The session outlives the connection when it is persistent. Loop
 * thread. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

typedef int (*handler_fn)(mqtt_conn_t *conn, const mqtt_packet_t *pkt);

static const handler_fn handlers[16] = {
    [MQTT_CONNECT] = mqtt__handle_connect,     [MQTT_PUBLISH] = mqtt__handle_publish,
    [MQTT_PUBACK] = mqtt__handle_puback,       [MQTT_PUBREC] = mqtt__handle_puback,
    [MQTT_PUBREL] = mqtt__handle_pubrel,       [MQTT_PUBCOMP] = mqtt__handle_puback,
    [MQTT_SUBSCRIBE] = mqtt__handle_subscribe, [MQTT_UNSUBSCRIBE] = mqtt__handle_unsubscribe,
    [MQTT_PINGREQ] = mqtt__handle_pingreq,     [MQTT_DISCONNECT] = mqtt__handle_disconnect,
    [MQTT_AUTH] = mqtt__handle_auth,
};

/* CONNECT waits for the end of its enhanced authentication or for its session claim
 * (session_owner.c): no CONNACK yet. */
static bool connecting(const mqtt_conn_t *conn)
{
    return (conn->auth && conn->auth->pending) || conn->claim;
}

static const char *client_name(const mqtt_conn_t *conn)
{
    return conn->session ? conn->session->client_id : "-";
}

static void conn_free(mqtt_conn_t *conn)
{
    mqtt_server_t *srv = conn->srv;
    free(conn->user);
    if (conn->alias_in) {
        for (size_t i = 0; i <= MQTT_TOPIC_ALIAS_MAXIMUM; i++)
            free(conn->alias_in[i]);
        free(conn->alias_in);
    }
    if (conn->alias_out) {
        for (size_t i = 0; i <= conn->topic_alias_max_out; i++)
            free(conn->alias_out[i]);
        free(conn->alias_out);
    }
    mqtt__auth_free(conn->auth);
    free(conn->in);
    free(conn->out);
    free(conn);
    mqtt__server_handle_closed(srv);
}

void mqtt__conn_unref(mqtt_conn_t *conn)
{
    if (--conn->refs == 0) conn_free(conn);
}

static void on_transport_close(gn_transport_t *tr)
{
    mqtt_conn_t *conn = tr->session;
    mqtt_server_t *srv = conn->srv;
    conn->closing = true;
    conn->tr = NULL;
    if (conn->prev)
        conn->prev->next = conn->next;
    else if (srv->conns == conn)
        srv->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    mqtt__claim_cancel(conn);
    mqtt_session_t *sess = conn->session;
    if (sess) {
        if (srv->stats.clients_connected > 0) srv->stats.clients_connected--;
        sess->conn = NULL;
        conn->session = NULL;
        if (!conn->graceful && sess->will && !conn->takeover) {
            /* the will goes out after its delay, unless the session comes back */
            uint32_t delay = sess->will->delay;
            if (delay > sess->expiry && !sess->persistent) delay = 0;
            if (delay == 0)
                mqtt__session_will_publish(sess);
            else
                sess->will_due = gn_now_ms() + (int64_t)delay * 1000;
        } else if (conn->graceful) {
            mqtt__session_will_free(sess);
        }
        mqtt__session_went_offline(sess);
    }
    mqtt__conn_unref(conn);
}

const char *mqtt__conn_peer(const mqtt_conn_t *conn, char *buf, size_t cap)
{
    if (!conn->tr || conn->tr->ops->peer_name(conn->tr, buf, cap) < 0) snprintf(buf, cap, "?");
    return buf;
}

/* CONNECT timeout and keepalive (1.5 x) of one connection, checked by the server's
 * one-second sweep instead of a timer per connection. */
static void check_timeouts(mqtt_conn_t *conn, int64_t now)
{
    char pb[64];
    if (conn->closing) return;
    if (conn->version == 0 || connecting(conn)) { /* no CONNECT, or no end to its AUTH */
        if (now - conn->last_rx_ms < MQTT_CONNECT_TIMEOUT_MS) return; /* the attach time */
        GN_INFO(MQTT_MOD, "client sent no CONNECT in time, closing | peer=%s timeout_ms=%d",
                mqtt__conn_peer(conn, pb, sizeof pb), MQTT_CONNECT_TIMEOUT_MS);
        mqtt__conn_close(conn, NULL);
        return;
    }
    if (conn->keep_alive == 0) return;
    int64_t limit = (int64_t)conn->keep_alive * 1500;
    int64_t idle = now - conn->last_rx_ms;
    if (idle >= limit) {
        GN_INFO(MQTT_MOD, "keepalive expired | client=%s peer=%s keep_alive=%u idle_ms=%lld",
                client_name(conn), mqtt__conn_peer(conn, pb, sizeof pb), conn->keep_alive,
                (long long)idle);
        mqtt__conn_disconnect(conn, MQTT_RC_KEEP_ALIVE_TIMEOUT, NULL);
    }
}

static void on_sweep(uv_timer_t *t)
{
    mqtt_server_t *srv = t->data;
    int64_t now = (int64_t)uv_now(srv->loop);
    /* closing unlinks a connection only in a later callback: next stays valid */
    for (mqtt_conn_t *conn = srv->conns; conn; conn = conn->next)
        check_timeouts(conn, now);
    mqtt__internal_topics_ensure(srv); /* a no-op once they exist */
    mqtt__remote_want(srv, NULL);      /* partitions held elsewhere keep coming */
    mqtt__owner_sweep(srv);
    mqtt__authz_sweep(srv); /* bindings changed: subscriptions checked again */
}

void mqtt__conn_sweep_start(mqtt_server_t *srv)
{
    uv_timer_init(srv->loop, &srv->sweep_timer);
    srv->sweep_timer.data = srv;
    srv->sweep_timer_init = true;
    srv->open_handles++;
    uv_timer_start(&srv->sweep_timer, on_sweep, MQTT_SWEEP_MS, MQTT_SWEEP_MS);
    uv_unref((uv_handle_t *)&srv->sweep_timer);
}

void mqtt__conn_keepalive_start(mqtt_conn_t *conn)
{
    conn->last_rx_ms = (int64_t)uv_now(conn->srv->loop);
}

/* Grows *bp (NULL: none yet) to hold need bytes, its capacity doubling from min.
 * 0 or GN_ENOMEM (*bp unchanged). */
static int buf_reserve(mqtt_buf_t **bp, size_t need, size_t min)
{
    mqtt_buf_t *b = *bp;
    if (b && need <= b->cap) return 0;
    size_t cap = b ? b->cap : min;
    while (cap < need)
        cap *= 2;
    mqtt_buf_t *nb = realloc(b, sizeof(*nb) + cap);
    if (!nb) return GN_ENOMEM;
    if (!b) nb->len = 0;
    nb->cap = cap;
    *bp = nb;
    return 0;
}

/* Grows conn->in to hold need bytes; closes the connection when out of memory. */
static int in_reserve(mqtt_conn_t *conn, size_t need)
{
    if (buf_reserve(&conn->in, need, 4096) == 0) return 0;
    mqtt__conn_close(conn, "out of memory");
    return -1;
}

static size_t in_len(const mqtt_conn_t *conn)
{
    return conn->in ? conn->in->len : 0;
}

/* Decodes and handles the whole packets of data (after what conn->in holds); keeps
 * the rest, and everything after a CONNECT whose session claim is still running. */
/* Handles the whole packets of the input; true when one of them was a QoS 0 PUBLISH,
 * which the client gets no reply to. */
static bool consume(mqtt_conn_t *conn, const uint8_t *data, size_t len)
{
    /* parse straight from the transport's buffer; only a partial packet is kept */
    const uint8_t *buf = data;
    size_t blen = len;
    if (in_len(conn) > 0) {
        if (in_reserve(conn, conn->in->len + len) < 0) return false;
        memcpy(conn->in->b + conn->in->len, data, len);
        conn->in->len += len;
        buf = conn->in->b;
        blen = conn->in->len;
    }
    size_t pos = 0;
    bool unanswered = false;
    conn->refs++; /* a handler may close the connection */
    while (!conn->closing && !conn->claim && pos < blen) {
        mqtt_packet_t pkt;
        uint8_t reason = 0;
        char pb[64];
        int64_t n = mqtt_packet_decode(buf + pos, blen - pos, conn->version, MQTT_MAX_PACKET_IN,
                                       &pkt, &reason);
        if (n == GN_EAGAIN) break;
        if (n < 0) {
            if (conn->version == 0 && pkt.type == MQTT_CONNECT &&
                reason == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION) {
                /* answer in the form the client can read */
                conn->version = pkt.protocol_level == MQTT_V5 ? MQTT_V5 : MQTT_V311;
                GN_INFO(MQTT_MOD,
                        "refused CONNECT: unsupported protocol | peer=%s name=%.*s level=%u",
                        mqtt__conn_peer(conn, pb, sizeof pb),
                        (int)(pkt.protocol_name.len < 16 ? pkt.protocol_name.len : 16),
                        pkt.protocol_name.ptr ? (const char *)pkt.protocol_name.ptr : "",
                        pkt.protocol_level);
                mqtt__send_connack(conn, false, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION, NULL);
                mqtt__conn_close(conn, NULL);
                break;
            }
            GN_INFO(MQTT_MOD, "protocol error, disconnecting | client=%s peer=%s reason=%s",
                    client_name(conn), mqtt__conn_peer(conn, pb, sizeof pb), mqtt_rc_name(reason));
            if (conn->version == 0 && pkt.type == MQTT_CONNECT) conn->version = MQTT_V311;
            mqtt__conn_disconnect(conn, reason, NULL);
            break;
        }
        pos += (size_t)n;
        if (connecting(conn) && pkt.type != MQTT_AUTH && pkt.type != MQTT_DISCONNECT) {
            mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                                  "only AUTH or DISCONNECT before the CONNACK of an enhanced "
                                  "authentication");
            break;
        }
        if (pkt.type == MQTT_PUBLISH && pkt.qos == 0) unanswered = true;
        handler_fn fn = handlers[pkt.type];
        if (fn && fn(conn, &pkt) < 0) break;
    }
    if (!conn->closing) {
        size_t left = blen - pos;
        if (conn->in && buf == conn->in->b) {
            memmove(conn->in->b, conn->in->b + pos, left);
            conn->in->len = left;
        } else if (left > 0 && in_reserve(conn, left) == 0) {
            memcpy(conn->in->b, buf + pos, left);
            conn->in->len = left;
        }
        if (in_len(conn) == 0) { /* an idle connection holds no input buffer */
            free(conn->in);
            conn->in = NULL;
        }
    }
    mqtt__conn_unref(conn);
    return unanswered;
}

static void on_read(gn_transport_t *tr, const uint8_t *data, size_t len)
{
    mqtt_conn_t *conn = tr->session;
    mqtt_server_t *srv = conn->srv;
    if (conn->closing) return;
    if (conn->version != 0 && !connecting(conn)) /* else it keeps the attach time */
        conn->last_rx_ms = (int64_t)uv_now(srv->loop);
    srv->stats.bytes_received += len;
    if (conn->claim && in_len(conn) + len > MQTT_MAX_PACKET_IN) {
        mqtt__conn_close(conn, "too much input while CONNECT waits for its session");
        return;
    }
    conn->refs++;
    /* a QoS 0 publisher gets no reply for the ACK to ride on: acknowledge now */
    if (consume(conn, data, len) && !conn->closing && conn->tr && conn->tr->ops->ack_now)
        conn->tr->ops->ack_now(conn->tr);
    mqtt__conn_unref(conn);
}

void mqtt__conn_input_resume(mqtt_conn_t *conn)
{
    if (conn->closing || conn->claim || in_len(conn) == 0) return;
    mqtt_buf_t *in = conn->in;
    conn->in = NULL;
    consume(conn, in->b, in->len);
    free(in);
}

int mqtt__conn_attach(mqtt_server_t *srv, gn_transport_t *tr)
{
    mqtt_conn_t *conn = calloc(1, sizeof(*conn));
    if (!conn) return GN_ENOMEM;
    conn->srv = srv;
    conn->tr = tr;
    conn->refs = 1; /* the transport */
    conn->receive_max_out = 65535;
    srv->open_handles++; /* the connection, released by conn_free */
    tr->session = conn;
    tr->on_read = on_read;
    tr->on_close = on_transport_close;
    conn->next = srv->conns;
    if (srv->conns) srv->conns->prev = conn;
    srv->conns = conn;
    conn->last_rx_ms = (int64_t)uv_now(srv->loop);
    return 0;
}

/* Output buffers start small and grow; a written one goes back to the server's spares
 * (up to MQTT_OUT_SPARES of up to MQTT_OUT_SPARE_CAP bytes), where the next connection
 * with output takes it: busy connections reuse the same few buffers turn after turn
 * instead of a malloc, its growth by realloc and a free each (which made glibc trim
 * and regrow the heap with brk), and an idle connection holds none. */
#define OUT_MIN 1024

static mqtt_buf_t *spare_take(mqtt_server_t *srv)
{
    if (srv->nout_spare == 0) return NULL;
    mqtt_buf_t *b = srv->out_spare[--srv->nout_spare];
    b->len = 0;
    return b;
}

static void spare_put(mqtt_server_t *srv, mqtt_buf_t *b)
{
    if (srv->nout_spare < MQTT_OUT_SPARES && b->cap <= MQTT_OUT_SPARE_CAP)
        srv->out_spare[srv->nout_spare++] = b;
    else
        free(b);
}

void mqtt__conn_spares_free(mqtt_server_t *srv)
{
    while (srv->nout_spare > 0)
        free(srv->out_spare[--srv->nout_spare]);
}

static void on_sent(gn_transport_t *tr, void *arg, int status)
{
    (void)tr;
    (void)status;
    mqtt_buf_t *out = arg;
    mqtt_conn_t *conn = out->conn;
    spare_put(conn->srv, out);
    mqtt__conn_unref(conn);
}

int mqtt__conn_send(mqtt_conn_t *conn, const uint8_t *p, size_t len)
{
    if (conn->closing || !conn->tr) return GN_ESHUTDOWN;
    if (conn->max_packet_out && len > conn->max_packet_out) return GN_ETOOLARGE;
    if (!conn->out) conn->out = spare_take(conn->srv);
    size_t have = conn->out ? conn->out->len : 0;
    if (buf_reserve(&conn->out, have + len, OUT_MIN) < 0) return GN_ENOMEM;
    memcpy(conn->out->b + have, p, len);
    conn->out->len += len;
    if (!conn->out_queued) { /* written once at the end of the loop turn (server.c) */
        conn->out_queued = true;
        conn->refs++;
        conn->out_next = conn->srv->outq;
        conn->srv->outq = conn;
    }
    conn->srv->stats.bytes_sent += len;
    return 0;
}

void mqtt__conn_flush(mqtt_conn_t *conn)
{
    mqtt_buf_t *out = conn->out;
    if (!out) return;
    conn->out = NULL;
    if (!conn->tr || out->len == 0) {
        spare_put(conn->srv, out);
        return;
    }
    /* the buffer goes with the write (most leave whole at once, and come back before
     * write returns) and holds the connection until it is back */
    out->conn = conn;
    conn->refs++;
    uv_buf_t buf = uv_buf_init((char *)out->b, (unsigned)out->len);
    if (conn->tr->ops->write(conn->tr, &buf, 1, on_sent, out) < 0) on_sent(conn->tr, out, 0);
}

size_t mqtt__conn_queued(const mqtt_conn_t *conn)
{
    size_t q = conn->out ? conn->out->len : 0;
    if (conn->tr) q += conn->tr->ops->write_queue_size(conn->tr);
    return q;
}

void mqtt__conn_close(mqtt_conn_t *conn, const char *why)
{
    if (conn->closing) return;
    char pb[64];
    if (why)
        GN_INFO(MQTT_MOD, "closing connection | client=%s peer=%s reason=\"%s\"", client_name(conn),
                mqtt__conn_peer(conn, pb, sizeof pb), why);
    mqtt__conn_flush(conn); /* what was queued (CONNACK, DISCONNECT) goes out first */
    conn->closing = true;
    if (conn->tr) conn->tr->ops->close(conn->tr);
}

void mqtt__conn_disconnect(mqtt_conn_t *conn, uint8_t rc, const char *why)
{
    if (conn->closing) return;
    char pb[64];
    if (why)
        GN_INFO(MQTT_MOD, "disconnecting client | client=%s peer=%s reason=%s detail=\"%s\"",
                client_name(conn), mqtt__conn_peer(conn, pb, sizeof pb), mqtt_rc_name(rc), why);
    if (connecting(conn)) /* no DISCONNECT before CONNACK (MQTT-3.14.0-1) */
        mqtt__send_connack(conn, false, rc, why);
    else if (conn->version == MQTT_V5)
        mqtt__send_disconnect(conn, rc, why);
    mqtt__conn_close(conn, NULL);
}
