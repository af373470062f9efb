/* SPDX-License-Identifier: Apache-2.0 */
/* One owner per session across the brokers of a cluster. Every broker follows
 * __mqtt_sessions (session_store.c) and keeps every session: its own (owner = this
 * broker) and mirrors of the others' (never connected here). A CONNECT claims its client
 * id with a record of the next generation; records apply in log order, so every broker
 * agrees which claim won (a claim of a generation not above the current one lost and is
 * sent again). The previous owner, seeing a higher claim, closes its connection (v5:
 * DISCONNECT 0x8E; no will) and writes its final state as a release record; the
 * claimer answers CONNACK once it holds that state, or after MQTT_CLAIM_WAIT_MS (the
 * previous owner's last saved state: QoS 1 messages since then come again), at once
 * when the previous owner is not live or had the session offline. A claim the session
 * store cannot take (not created yet, no leader: tried again each second) within
 * MQTT_CLAIM_STORE_WAIT_MS gets CONNACK 0x88 (3.1.1: 3). Expiry and delayed wills run on the
 * owner, or on the lowest live broker when the owner is not live. A session its owner
 * had online when that broker was lost (fenced or unregistered; or this broker, before
 * it restarted) is adopted by the lowest live broker, once that broker has not been live
 * for longer than a controlled shutdown may take (a broker shutting down cleanly is
 * fenced first, then its adapter saves its sessions offline without wills), plus a
 * sweep: an adopt record of the next
 * generation takes it over offline, its connection lost now, its will due after its
 * delay; records apply in log order, so of adopts and claims of one generation the
 * first wins, and only the broker whose adopt won publishes the will. Online persistent
 * sessions save their acknowledged positions each second. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "mqtt.h"

#define CLAIM_TRIES 3

typedef struct mqtt_claim {
    struct mqtt_claim *next;
    mqtt_conn_t *conn;
    mqtt_connect_t *c;
    mqtt_wbuf_t extra; /* CONNACK properties from authentication */
    int64_t started;   /* ms */
    uint32_t gen;
    int32_t prev_owner;
    uint8_t tries;
    bool unwritten;    /* the store could not take it yet: written again each second */
    bool produced;     /* the session store took the record */
    bool won;          /* applied here as the session's new generation */
    bool lost;         /* applied, but another claim of that generation came first */
    bool wait_release; /* the previous owner had it online: its final state comes */
    bool released;
} mqtt_claim_t;

/* ---- who is live ---------------------------------------------------------------- */

static bool live(const mqtt_server_t *srv, int32_t id)
{
    for (size_t i = 0; i < srv->nlive; i++)
        if (srv->live[i] == id) return true;
    return false;
}

/* Refreshes the live brokers; true when the set changed. */
static bool live_refresh(mqtt_server_t *srv)
{
    gn_cluster_broker_t b[MQTT_LIVE_MAX];
    size_t n = gn_cluster_brokers(srv->broker, b, MQTT_LIVE_MAX);
    if (n > MQTT_LIVE_MAX) n = MQTT_LIVE_MAX;
    bool changed = n != srv->nlive;
    for (size_t i = 0; i < n; i++) {
        changed |= srv->live[i] != b[i].node_id;
        srv->live[i] = b[i].node_id;
    }
    srv->nlive = n;
    return changed;
}

bool mqtt__session_acting(const mqtt_session_t *sess)
{
    const mqtt_server_t *srv = sess->srv;
    if (sess->owner == srv->self_id) return true;
    if (sess->owner >= 0 && live(srv, sess->owner)) return false;
    return srv->nlive == 0 || srv->live[0] == srv->self_id;
}

/* ---- claims: a CONNECT waiting for its session ------------------------------------ */

static mqtt_claim_t *claim_find(mqtt_server_t *srv, const char *client_id, uint32_t gen)
{
    for (mqtt_claim_t *cl = srv->claims; cl; cl = cl->next)
        if (cl->gen == gen && strcmp(cl->c->client_id, client_id) == 0) return cl;
    return NULL;
}

static void claim_unlink(mqtt_claim_t *cl)
{
    mqtt_server_t *srv = cl->conn->srv;
    mqtt_claim_t **pp = &srv->claims;
    while (*pp && *pp != cl)
        pp = &(*pp)->next;
    if (*pp) *pp = cl->next;
    cl->conn->claim = NULL;
}

static void claim_free(mqtt_claim_t *cl)
{
    mqtt__connect_free(cl->c);
    mqtt_wbuf_free(&cl->extra);
    free(cl);
}

/* The session store did not take the claim: CONNACK 0x88 (3.1.1: 3, server unavailable). */
static void claim_refuse(mqtt_claim_t *cl, const char *why, int err)
{
    mqtt_conn_t *conn = cl->conn;
    char pb[64];
    GN_WARN(MQTT_MOD,
            "session store unavailable, CONNECT refused | client=%s peer=%s why=\"%s\" err=%s",
            cl->c->client_id, mqtt__conn_peer(conn, pb, sizeof pb), why,
            err ? gn_err_name(err) : "-");
    claim_unlink(cl);
    claim_free(cl);
    mqtt__send_connack(conn, false, MQTT_RC_SERVER_UNAVAILABLE, "session store unavailable");
    mqtt__conn_close(conn, NULL);
}

/* The store cannot take a record for now (being created, no leader yet, leadership
 * moving): the sweep writes the claim again until MQTT_CLAIM_STORE_WAIT_MS. */
static bool store_busy(int err)
{
    return err == GN_EUNKNOWN_TOPIC || err == GN_ENOTLEADER;
}

static void claim_finish(mqtt_claim_t *cl)
{
    mqtt_conn_t *conn = cl->conn;
    mqtt_connect_t *c = cl->c;
    claim_unlink(cl);
    cl->c = NULL;
    conn->refs++; /* finishing may close it */
    if (mqtt__connect_finish(conn, c, &cl->extra, cl->gen) == 0) mqtt__conn_input_resume(conn);
    claim_free(cl);
    mqtt__conn_unref(conn);
}

static void on_claim_written(void *arg, int status, const gn_produce_result_t *res)
{
    (void)res;
    mqtt_conn_t *conn = arg;
    mqtt_claim_t *cl = conn->claim;
    if (cl) {
        if (store_busy(status) && gn_now_ms() - cl->started < MQTT_CLAIM_STORE_WAIT_MS) {
            cl->unwritten = true; /* not appended: the sweep writes it again */
        } else if (status < 0) {
            claim_refuse(cl, "claim not written", status);
        } else {
            cl->produced = true;
            mqtt__claims_run(conn->srv);
        }
    }
    mqtt__conn_unref(conn);
}

/* Writes the claim: the next generation of what this broker knows of the session. */
static int claim_send(mqtt_claim_t *cl)
{
    mqtt_server_t *srv = cl->conn->srv;
    mqtt_session_t *sess = mqtt__session_find(srv, cl->c->client_id);
    cl->gen = (sess ? sess->gen : 0) + 1;
    cl->tries++;
    cl->produced = cl->won = cl->lost = cl->wait_release = cl->released = false;
    mqtt_session_rec_t meta = {.owner = srv->self_id,
                               .gen = cl->gen,
                               .kind = MQTT_REC_CLAIM,
                               .online = true,
                               .clean = cl->c->clean};
    /* with the CONNECT's will: a broker adopting the session publishes it if this one is
     * lost */
    int rc =
        mqtt__session_write(srv, cl->c->client_id, cl->c->clean ? NULL : sess,
                            cl->c->session_expiry, cl->c->will, &meta, on_claim_written, cl->conn);
    if (rc == 0) cl->conn->refs++; /* until the produce answers */
    /* without a replica here the claim is never seen applied: it stands as written */
    if (rc == 0 && !gn_cluster_holds_replica(srv->broker, MQTT_SESSIONS_TOPIC, 0)) cl->won = true;
    return rc;
}

int mqtt__claim_start(mqtt_conn_t *conn, mqtt_connect_t *c, const mqtt_wbuf_t *extra)
{
    mqtt_server_t *srv = conn->srv;
    mqtt_claim_t *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        mqtt__connect_free(c);
        mqtt__conn_close(conn, "out of memory");
        return -1;
    }
    cl->conn = conn;
    cl->c = c;
    cl->started = gn_now_ms();
    cl->prev_owner = -1;
    mqtt_wbuf_init(&cl->extra);
    if (extra && extra->len > 5) mqtt_w_bytes(&cl->extra, extra->buf + 5, extra->len - 5);
    cl->next = srv->claims;
    srv->claims = cl;
    conn->claim = cl;
    int rc = claim_send(cl);
    if (store_busy(rc)) { /* the sweep tries again */
        cl->unwritten = true;
    } else if (rc < 0) {
        claim_refuse(cl, "claim not written", rc);
        return -1;
    }
    mqtt__claims_run(srv);
    return conn->closing ? -1 : 0;
}

void mqtt__claim_cancel(mqtt_conn_t *conn)
{
    mqtt_claim_t *cl = conn->claim;
    if (!cl) return;
    claim_unlink(cl);
    claim_free(cl);
}

void mqtt__claims_free(mqtt_server_t *srv)
{
    while (srv->claims)
        mqtt__claim_cancel(srv->claims->conn);
}

void mqtt__claims_run(mqtt_server_t *srv)
{
    bool again = true;
    while (again) { /* finishing or refusing changes the list: start over */
        again = false;
        for (mqtt_claim_t *cl = srv->claims; cl; cl = cl->next) {
            if (cl->lost && cl->produced) {
                if (cl->tries >= CLAIM_TRIES) {
                    claim_refuse(cl, "claimed by other brokers at the same time", 0);
                } else if (claim_send(cl) < 0) {
                    claim_refuse(cl, "claim not written", 0);
                } else {
                    continue;
                }
                again = true;
                break;
            }
            if (cl->produced && cl->won && (!cl->wait_release || cl->released)) {
                claim_finish(cl);
                again = true;
                break;
            }
        }
    }
}

/* Claims not written yet (__mqtt_sessions being created or without a leader) are
 * written again; claims
 * past MQTT_CLAIM_WAIT_MS: the previous owner did not hand over (dead, or cut off): go
 * on from its last saved state; not taken by the store within MQTT_CLAIM_STORE_WAIT_MS:
 * refused. */
static void claims_expire(mqtt_server_t *srv, int64_t now)
{
    bool again = true;
    while (again) {
        again = false;
        for (mqtt_claim_t *cl = srv->claims; cl; cl = cl->next) {
            if (cl->unwritten && now - cl->started < MQTT_CLAIM_STORE_WAIT_MS) {
                cl->tries--; /* not a lost race */
                int rc = claim_send(cl);
                if (store_busy(rc)) continue;
                cl->unwritten = false;
                if (rc == 0) continue;
                claim_refuse(cl, "claim not written", rc);
                again = true;
                break;
            }
            int64_t wait = cl->produced ? MQTT_CLAIM_WAIT_MS : MQTT_CLAIM_STORE_WAIT_MS;
            if (now - cl->started < wait) continue;
            if (!cl->produced) {
                claim_refuse(cl, "claim not answered in time", GN_ETIMEOUT);
            } else {
                GN_WARN(MQTT_MOD,
                        "previous owner did not hand the session over in time; resuming from its "
                        "last saved state | client=%s previous_owner=%d applied=%d",
                        cl->c->client_id, cl->prev_owner, cl->won);
                claim_finish(cl);
            }
            again = true;
            break;
        }
    }
}

/* ---- applying records ----------------------------------------------------------- */

/* This broker's session, claimed by another broker: the connection goes (0x8E, no
 * will) and the final state follows as a release record for the claimer. Adopted by
 * another broker (this one was fenced, with the client still connected): the connection
 * goes too; the adopter has the state and publishes the will. */
static void hand_over(mqtt_session_t *sess, const mqtt_session_rec_t *rec)
{
    mqtt_server_t *srv = sess->srv;
    if (!rec->clean && rec->kind != MQTT_REC_ADOPT) {
        mqtt_session_rec_t meta = {
            .owner = rec->owner, .gen = rec->gen, .kind = MQTT_REC_RELEASE, .online = true};
        mqtt__session_write(srv, sess->client_id, sess->persistent ? sess : NULL, 0, NULL, &meta,
                            NULL, NULL);
    }
    mqtt_conn_t *conn = sess->conn;
    if (conn) {
        char pb[64];
        GN_INFO(MQTT_MOD, "session taken over by another broker | client=%s peer=%s broker=%d",
                sess->client_id, mqtt__conn_peer(conn, pb, sizeof pb), rec->owner);
        conn->takeover = true;
        conn->session = NULL;
        sess->conn = NULL;
        if (srv->stats.clients_connected > 0) srv->stats.clients_connected--;
        mqtt__conn_disconnect(conn, MQTT_RC_SESSION_TAKEN_OVER, NULL);
        mqtt__share_sync(sess); /* no longer a group member here */
    }
    mqtt__session_will_free(sess); /* taken over: no will, a delayed one is cancelled */
    if (sess->timer) uv_timer_stop(sess->timer);
}

/* Our claim is the session's new generation. */
static void claim_won(mqtt_server_t *srv, mqtt_session_t *sess, const mqtt_session_rec_t *rec)
{
    int32_t prev = sess ? sess->owner : -1;
    bool prev_online = sess && (sess->conn || sess->remote_online);
    if (sess) {
        sess->owner = srv->self_id;
        sess->gen = rec->gen;
        sess->remote_online = false;
        if (sess->timer && !sess->conn) uv_timer_stop(sess->timer);
    }
    mqtt_claim_t *cl = claim_find(srv, rec->client_id, rec->gen);
    if (!cl) { /* the client left before its claim applied: nobody has it online */
        if (sess && sess->conn) return;
        if (sess && sess->persistent) {
            mqtt__session_save(sess);
            mqtt__session_arm_timer(sess);
        } else if (sess) {
            mqtt__session_forget(sess);
            mqtt__session_free(sess);
        } else {
            mqtt__session_forget_id(srv, rec->client_id, srv->self_id, rec->gen);
        }
        return;
    }
    cl->won = true;
    cl->prev_owner = prev;
    cl->wait_release =
        !rec->clean && prev >= 0 && prev != srv->self_id && prev_online && live(srv, prev);
}

/* The previous owner's final state for our claim. */
static void released(mqtt_server_t *srv, mqtt_session_t *sess, const mqtt_session_rec_t *rec)
{
    mqtt_claim_t *cl = claim_find(srv, rec->client_id, rec->gen);
    if (!cl || sess->conn) return; /* gone, or resumed already from the last saved state */
    mqtt_session_t *fresh = mqtt__session_restore(srv, rec);
    if (fresh) {
        fresh->owner = srv->self_id;
        fresh->gen = rec->gen;
    }
    cl->released = true;
}

/* Another broker's state (or this broker's, when loading) replaces what we hold. A
 * session this broker had online before it restarted counts as online elsewhere: its
 * connection is lost, it is adopted (the sweep). */
static void mirror(mqtt_server_t *srv, mqtt_session_t *sess, const mqtt_session_rec_t *rec,
                   bool loading)
{
    if (rec->kind != MQTT_REC_CLAIM || rec->clean || !sess)
        sess = mqtt__session_restore(srv, rec); /* a dirty claim keeps the state we have */
    if (!sess) return;
    sess->owner = rec->owner;
    sess->gen = rec->gen;
    sess->remote_online = rec->online && (loading || rec->owner != srv->self_id);
    mqtt__session_arm_timer(sess); /* stopped unless this broker acts for it */
    if (rec->kind == MQTT_REC_ADOPT && rec->owner == srv->self_id && !loading)
        GN_INFO(MQTT_MOD,
                "session of a lost connection adopted | client=%s expiry=%u will_in_ms=%lld",
                sess->client_id, sess->expiry,
                sess->will ? (long long)(sess->will_due - gn_now_ms()) : -1LL);
}

static void apply_tombstone(mqtt_session_t *sess, const mqtt_session_rec_t *rec)
{
    if (!sess || sess->gen > rec->gen || sess->conn) return;
    mqtt__session_free(sess);
}

void mqtt__owner_apply(mqtt_server_t *srv, const mqtt_session_rec_t *rec, bool loading)
{
    mqtt_session_t *sess = mqtt__session_find(srv, rec->client_id);
    if (!rec->value.ptr) {
        apply_tombstone(sess, rec);
        return;
    }
    if (sess && rec->gen < sess->gen) return; /* older than what we hold */
    bool mine = !loading && sess && sess->owner == srv->self_id;
    if (sess && rec->gen == sess->gen) {
        if (mine) { /* our own records coming back, a claim that lost, or our release */
            if (rec->owner == srv->self_id && rec->kind == MQTT_REC_RELEASE)
                released(srv, sess, rec);
            return;
        }
        if (rec->kind == MQTT_REC_CLAIM) { /* the same generation was claimed first */
            mqtt_claim_t *cl =
                rec->owner == srv->self_id ? claim_find(srv, rec->client_id, rec->gen) : NULL;
            if (cl) cl->lost = true;
            return;
        }
        if (rec->kind == MQTT_REC_ADOPT) return; /* a claim or adopt of it came first */
        mirror(srv, sess, rec, loading);
        return;
    }
    /* a newer generation */
    if (mine && rec->owner != srv->self_id) hand_over(sess, rec);
    if (!loading && rec->kind == MQTT_REC_CLAIM && rec->owner == srv->self_id) {
        claim_won(srv, sess, rec);
        return;
    }
    mirror(srv, sess, rec, loading);
}

/* ---- sessions of lost connections ------------------------------------------------- */

/* Owners that are not live: since when (the first sweep that found them so). */
static int64_t gone_since(mqtt_server_t *srv, int32_t id, int64_t now)
{
    for (size_t i = 0; i < srv->ngone; i++)
        if (srv->gone[i].id == id) return srv->gone[i].since;
    if (srv->ngone < MQTT_LIVE_MAX) {
        srv->gone[srv->ngone].id = id;
        srv->gone[srv->ngone++].since = now;
    }
    return now;
}

/* Forgets the owners that are live again. */
static void gone_refresh(mqtt_server_t *srv)
{
    for (size_t i = 0; i < srv->ngone;)
        if (live(srv, srv->gone[i].id))
            srv->gone[i] = srv->gone[--srv->ngone];
        else
            i++;
}

/* How long an owner stays not live before its online sessions are adopted: none once it
 * is fenced for missing heartbeats (killed, or cut off); a broker in a controlled shutdown
 * is fenced while its clients are still connected, then saves them offline (no will: a
 * clean shutdown is no failure of theirs), so its sessions wait for as long as that may
 * take. */
bool mqtt__should_adopt(const mqtt_adopt_facts_t *f)
{
    if (!f->owner_is_self) {
        if (f->owner_live) return false;
        if (!f->self_lowest_live) return false; /* the lowest live broker adopts */
        int64_t grace = f->owner_stopping ? f->shutdown_timeout_ms + 2 * MQTT_SWEEP_MS : 0;
        if (f->owner_gone_ms < grace) return false; /* its own records may still come */
    }
    if (f->since_adopt_ms >= 0 && f->since_adopt_ms < MQTT_CLAIM_STORE_WAIT_MS)
        return false;         /* the last adopt record is not applied yet */
    return !f->claim_pending; /* its client is back here */
}

static bool claim_pending(mqtt_server_t *srv, const char *client_id)
{
    for (mqtt_claim_t *cl = srv->claims; cl; cl = cl->next)
        if (strcmp(cl->c->client_id, client_id) == 0) return true;
    return false;
}

/* Sessions whose record says online but whose connection is gone with its broker (not
 * live), or with this broker's previous run: the lowest live broker adopts them (an adopt
 * record not applied after MQTT_CLAIM_STORE_WAIT_MS is written again). */
static void adopt_lost(mqtt_server_t *srv, int64_t now)
{
    if (!gn_partition_get(srv->broker, MQTT_SESSIONS_TOPIC, 0)) return;
    gn_cluster_partition_t cp; /* not known to the image: a single node */
    if (gn_cluster_partition(srv->broker, MQTT_SESSIONS_TOPIC, 0, &cp) == 0 &&
        (cp.leader < 0 || !live(srv, cp.leader)))
        return; /* no store to write to: after its election */
    size_t budget = MQTT_ADOPT_PER_SWEEP;
    gone_refresh(srv);
    for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++) {
        for (mqtt_session_t *s = srv->sessions[b]; s; s = s->hnext) {
            if (s->conn || !s->remote_online) continue;
            mqtt_adopt_facts_t f = {
                .owner_is_self = s->owner == srv->self_id,
                .owner_live = s->owner >= 0 && live(srv, s->owner),
                .self_lowest_live = srv->nlive > 0 && srv->live[0] == srv->self_id,
                .shutdown_timeout_ms =
                    gn_broker_config(srv->broker)->controlled_shutdown_timeout_ms,
                .since_adopt_ms = s->adopted_at ? now - s->adopted_at : -1,
                .claim_pending = claim_pending(srv, s->client_id),
            };
            if (!f.owner_is_self && !f.owner_live) {
                f.owner_stopping = gn_cluster_broker_stopping(srv->broker, s->owner);
                f.owner_gone_ms = now - gone_since(srv, s->owner, now);
            }
            if (!mqtt__should_adopt(&f)) continue;
            int rc = mqtt__session_write_adopt(s, now);
            if (rc < 0) {
                GN_WARN(MQTT_MOD,
                        "adopting the session of a lost broker failed | client=%s "
                        "owner=%d err=%s",
                        s->client_id, s->owner, gn_err_name(rc));
                return; /* the store is unavailable: next sweep */
            }
            s->adopted_at = now;
            if (--budget == 0) return;
        }
    }
}

/* ---- every second ----------------------------------------------------------------- */

void mqtt__owner_sweep(mqtt_server_t *srv)
{
    if (live_refresh(srv)) /* an owner died or came back: who expires what changed */
        for (size_t b = 0; b < MQTT_SESSION_BUCKETS; b++)
            for (mqtt_session_t *s = srv->sessions[b]; s; s = s->hnext)
                if (!s->conn) mqtt__session_arm_timer(s);
    adopt_lost(srv, gn_now_ms());
    for (mqtt_conn_t *conn = srv->conns; conn; conn = conn->next) {
        mqtt_session_t *sess = conn->session;
        if (sess && sess->persistent && sess->moved && !conn->closing) mqtt__session_save(sess);
    }
    claims_expire(srv, gn_now_ms());
}
