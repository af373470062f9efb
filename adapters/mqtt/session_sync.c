/* SPDX-License-Identifier: Apache-2.0 */
/* The QoS 2 state of persistent sessions, saved promptly so that it moves with the
 * session to another broker (even one that takes over after this broker is lost):
 * sessions whose QoS 2 state changed during a loop turn (an inbound message appended,
 * the client's PUBREC of an outbound one) are saved once at the turn's end; the answer
 * (PUBREC, PUBREL) goes out only once the record holding that state is in
 * __mqtt_sessions, so a client holding PUBREC N finds N on any broker (PUBREL N: PUBCOMP
 * 0; PUBLISH N again with DUP: PUBREC, no second append), and one holding PUBREL N gets
 * PUBREL N again from any broker, never the PUBLISH. One save per connection in flight.
 * Loop thread only. */
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

bool mqtt__session_sync_gates(const mqtt_session_t *sess)
{
    return sess->persistent && gn_partition_get(sess->srv->broker, MQTT_SESSIONS_TOPIC, 0) != NULL;
}

void mqtt__session_sync_later(mqtt_session_t *sess)
{
    if (sess->sync_due || !sess->persistent) return;
    sess->sync_due = true;
    sess->sync_next = sess->srv->syncs;
    sess->srv->syncs = sess;
}

void mqtt__session_sync_cancel(mqtt_session_t *sess)
{
    if (!sess->sync_due) return;
    mqtt_session_t **pp = &sess->srv->syncs;
    while (*pp && *pp != sess)
        pp = &(*pp)->sync_next;
    if (*pp) *pp = sess->sync_next;
    sess->sync_due = false;
}

/* The PUBRECs and PUBRELs the finished save covered. */
static void acks_out(mqtt_conn_t *conn, mqtt_session_t *sess)
{
    for (size_t i = 0; i < sess->nqos2_in; i++) {
        uint32_t *e = &sess->qos2_in[i];
        if (!(*e & MQTT_QOS2_SAVING)) continue;
        *e &= ~MQTT_QOS2_SAVING;
        mqtt__send_ack(conn, MQTT_PUBREC, (uint16_t)(*e & 0xffff), 0, NULL);
    }
    for (size_t i = 0; i < sess->inflight_cap; i++) {
        mqtt_inflight_t *f = &sess->inflight[i];
        if (f->pubrel != MQTT_PUBREL_SAVING) continue;
        f->pubrel = 0;
        mqtt__send_ack(conn, MQTT_PUBREL, f->pid, 0, NULL);
    }
}

/* Answers that came while a save was in flight wait for the next one. */
static bool acks_unsaved(const mqtt_session_t *sess)
{
    for (size_t i = 0; i < sess->nqos2_in; i++)
        if (sess->qos2_in[i] & MQTT_QOS2_UNSAVED) return true;
    for (size_t i = 0; i < sess->inflight_cap; i++)
        if (sess->inflight[i].pubrel == MQTT_PUBREL_UNSAVED) return true;
    return false;
}

static void on_synced(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    mqtt_conn_t *conn = arg;
    mqtt_session_t *sess = conn->session;
    conn->q2_saving = false;
    if (sess && !conn->closing) {
        if (status < 0) /* the message is in the log once either way */
            GN_WARN(
                MQTT_MOD,
                "QoS 2 state not saved; its answers sent anyway (a move may not know the ids) | "
                "client=%s err=%s",
                sess->client_id, gn_err_name(status));
        acks_out(conn, sess);
        if (acks_unsaved(sess)) mqtt__session_sync_later(sess);
    }
    mqtt__conn_unref(conn);
}

/* Saves one session; its waiting PUBRECs go out when the record is appended. */
static void sync_one(mqtt_session_t *sess)
{
    mqtt_conn_t *conn = sess->conn;
    if (conn && conn->q2_saving) { /* the next save waits for the one in flight */
        mqtt__session_sync_later(sess);
        return;
    }
    bool gated = false;
    for (size_t i = 0; i < sess->nqos2_in; i++) {
        uint32_t *e = &sess->qos2_in[i];
        if (!(*e & MQTT_QOS2_UNSAVED)) continue;
        *e = (*e & ~MQTT_QOS2_UNSAVED) | MQTT_QOS2_SAVING;
        gated = true;
    }
    for (size_t i = 0; i < sess->inflight_cap; i++) {
        mqtt_inflight_t *f = &sess->inflight[i];
        if (f->pubrel != MQTT_PUBREL_UNSAVED) continue;
        f->pubrel = MQTT_PUBREL_SAVING;
        gated = true;
    }
    mqtt_session_rec_t meta = {
        .owner = sess->owner, .gen = sess->gen, .kind = MQTT_REC_STATE, .online = conn != NULL};
    bool cb = gated && conn && !conn->closing;
    int rc = mqtt__session_write(sess->srv, sess->client_id, sess, 0, NULL, &meta,
                                 cb ? on_synced : NULL, cb ? conn : NULL);
    if (rc == 0) {
        sess->dirty = sess->moved = false;
        if (cb) {
            conn->refs++;
            conn->q2_saving = true;
        }
    } else if (cb) {
        GN_WARN(MQTT_MOD, "QoS 2 state not saved; its answers sent anyway | client=%s err=%s",
                sess->client_id, gn_err_name(rc));
        acks_out(conn, sess);
    }
}

void mqtt__sessions_sync(mqtt_server_t *srv)
{
    mqtt_session_t *list = srv->syncs;
    srv->syncs = NULL; /* a session whose save is in flight queues itself again */
    while (list) {
        mqtt_session_t *sess = list;
        list = sess->sync_next;
        sess->sync_next = NULL;
        sess->sync_due = false;
        if (sess->owner == srv->self_id) sync_one(sess);
    }
}
