/* SPDX-License-Identifier: Apache-2.0 */
/* The controller duties around the quorum, on every broker: the internal RPC listener,
 * registration and heartbeats to the controller (the Raft leader), forwarding metadata
 * changes proposed on a follower, the registry following applied topic records; and on
 * the controller: fencing brokers that miss heartbeats (broker.session.timeout.ms) and
 * moving their partition leaderships to live in-sync replicas (leader epoch + 1; no
 * unclean election). A broker whose heartbeat connection drops, and the previous
 * controller when this one takes over, get a short grace instead of what is left of their
 * session (see fast_fence). Each process start is a new incarnation of its broker id: a
 * heartbeat from a new incarnation fences the previous one at once, and the broker is
 * registered again only once its leaderships have moved (see heartbeat_seen). Loop thread
 * only. */
#include <stdlib.h>
#include <string.h>

#include "broker/broker_internal.h"
#include "cluster/cluster.h"
#include "cluster/controller.h"
#include "cluster/rpc.h"
#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "topic/topic_internal.h"

#define SEEN_MAX          256
#define TICK_MS           100  /* the controller's decisions and the heartbeat clock */
#define REGISTER_RETRY_MS 1000 /* a registration proposed but not in the image: again */

/* what the controller knows of a broker beyond the image */
typedef struct seen {
    int32_t id;
    uint64_t seen;
    uint64_t conn;              /* the RPC connection its heartbeats came on (0: none) */
    int64_t fenced_epoch;       /* the registration epoch it proposed a fence for (0: none) */
    json_t *registration;       /* a registration to propose once settled() (owned), or NULL */
    uint64_t registration_sent; /* when it was proposed (0: not yet) */
    bool shutting_down;         /* a controlled shutdown: fenced, never registered again */
} seen_t;

struct gn_controller {
    gn_broker_t *broker;
    gn_cluster_t *cl;
    gn_rpc_server_t *srv;
    gn_rpc_client_t *leader_cli;
    uv_timer_t timer;
    bool hb_inflight, hb_registering, was_leader, closing, timer_closed;
    int32_t hb_leader;   /* the controller it went to */
    int32_t last_leader; /* the controller last known while following */
    int inflight;        /* controller proposals in flight: no new decisions meanwhile */
    int pending;         /* callbacks still to come (proposals, forwarded proposals): keep ctl */
    seen_t seen[SEEN_MAX];
    size_t nseen;
    char incarnation[17];            /* this process's: 16 hex digits, random at open */
    gn_controller_apply_cb on_apply; /* core/replica */
    void *on_apply_arg;
    /* the metadata lease: the controller answered a heartbeat sent at lease_from, having
     * applied lease_index; nothing it decides before lease_from + lease_ms() can take this
     * broker's leaderships (it fences a broker only that long after its last heartbeat) */
    uint64_t hb_sent_at, lease_from, lease_index;
    enum { LEASE_NEVER, LEASE_HELD, LEASE_LOST } lease; /* for the log lines */
    /* controlled shutdown of this broker (gn__controller_drain) */
    bool draining, drain_ready;
    uint64_t drain_deadline;
    gn_controller_drained_cb drain_cb;
    void *drain_arg;
};

static const json_t *image_brokers(gn_controller_t *ctl)
{
    return json_object_get(gn__cluster_image(ctl->cl), "brokers");
}

static const json_t *image_broker(gn_controller_t *ctl, int32_t id)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", id);
    return json_object_get(image_brokers(ctl), key);
}

static bool broker_live(gn_controller_t *ctl, int32_t id)
{
    const json_t *b = image_broker(ctl, id);
    return b && !json_is_true(json_object_get(b, "fenced"));
}

/* The broker's entry, its last heartbeat now; NULL when the table is full. */
static seen_t *seen_now(gn_controller_t *ctl, int32_t id)
{
    uint64_t now = uv_now(ctl->broker->loop);
    for (size_t i = 0; i < ctl->nseen; i++)
        if (ctl->seen[i].id == id) {
            ctl->seen[i].seen = now;
            return &ctl->seen[i];
        }
    if (ctl->nseen >= SEEN_MAX) return NULL;
    ctl->seen[ctl->nseen] = (seen_t){.id = id, .seen = now};
    return &ctl->seen[ctl->nseen++];
}

/* How long a broker acts as partition leader after sending a heartbeat the controller
 * answered: two heartbeat intervals (a live broker renews it every interval), at most a
 * session. */
static uint64_t lease_ms(const gn_broker_config_t *cfg)
{
    uint64_t two = 2 * (uint64_t)cfg->broker_heartbeat_interval_ms;
    return two < (uint64_t)cfg->broker_session_timeout_ms
               ? two
               : (uint64_t)cfg->broker_session_timeout_ms;
}

static uint64_t seen_at(gn_controller_t *ctl, int32_t id)
{
    for (size_t i = 0; i < ctl->nseen; i++)
        if (ctl->seen[i].id == id) return ctl->seen[i].seen;
    return 0;
}

/* Leaves a broker only grace_ms (at most its session) from now: it is fenced then unless
 * it heartbeats meanwhile. For a broker that is likely gone, so that failover does not
 * wait a whole session: its heartbeat connection closed (a killed process's socket is
 * closed by its kernel; a live broker reconnects with its next heartbeat), or it was the
 * controller before an election (the voters heard nothing from it for an election
 * timeout). Safe with the metadata lease: a broker acts as partition leader only for
 * lease_ms() after its last heartbeat that was answered (see the callers). */
static void fast_fence(gn_controller_t *ctl, int32_t id, uint64_t grace, const char *why)
{
    const gn_broker_config_t *cfg = &ctl->broker->cfg;
    uint64_t now = uv_now(ctl->broker->loop), session = (uint64_t)cfg->broker_session_timeout_ms;
    if (grace > session) grace = session;
    for (size_t i = 0; i < ctl->nseen; i++) {
        if (ctl->seen[i].id != id) continue;
        uint64_t at = now + grace > session ? now + grace - session : 0;
        if (ctl->seen[i].seen <= at || !broker_live(ctl, id)) return;
        ctl->seen[i].seen = at;
        GN_INFO("cluster", "fencing soon unless it heartbeats | id=%d grace_ms=%llu reason=%s", id,
                (unsigned long long)grace, why);
        return;
    }
}

/* ---- proposals made by the controller itself ---- */

static void ctl_maybe_free(gn_controller_t *ctl)
{
    if (!ctl->closing || !ctl->timer_closed || ctl->pending > 0) return;
    for (size_t i = 0; i < ctl->nseen; i++)
        json_decref(ctl->seen[i].registration);
    free(ctl);
}

static void on_tick(uv_timer_t *timer);

static void ctl_proposed(void *arg, int status)
{
    gn_controller_t *ctl = arg;
    ctl->inflight--;
    ctl->pending--;
    if (status < 0 && status != GN_ESHUTDOWN && !ctl->closing)
        GN_WARN("cluster", "controller proposal failed | err=%s", gn_strerror(status));
    /* the next decisions on the next loop turn (leader moves right after the fence that
     * needs them), not inside raft's callback */
    if (ctl->inflight == 0 && !ctl->closing) uv_timer_start(&ctl->timer, on_tick, 0, TICK_MS);
    ctl_maybe_free(ctl);
}

static void ctl_propose(gn_controller_t *ctl, json_t *rec)
{
    if (rec && gn__cluster_propose(ctl->cl, rec, ctl_proposed, ctl) == 0) {
        ctl->inflight++;
        ctl->pending++;
    }
    json_decref(rec);
}

static json_t *registration(int32_t id, const char *host, int64_t port, int64_t tls_port,
                            const char *listener, const char *incarnation)
{
    json_t *rec = json_pack("{s:s, s:i, s:s, s:I, s:s}", "type", "broker_registered", "id", id,
                            "host", host, "port", (json_int_t)port, "listener", listener);
    if (rec && incarnation) json_object_set_new(rec, "incarnation", json_string(incarnation));
    if (rec && tls_port > 0) json_object_set_new(rec, "tls_port", json_integer(tls_port));
    return rec;
}

static void log_registration(const json_t *rec)
{
    GN_INFO("cluster",
            "registering broker | id=%lld host=%s port=%lld tls_port=%lld listener=%s "
            "incarnation=%s",
            (long long)json_integer_value(json_object_get(rec, "id")),
            json_string_value(json_object_get(rec, "host")),
            (long long)json_integer_value(json_object_get(rec, "port")),
            (long long)json_integer_value(json_object_get(rec, "tls_port")),
            json_string_value(json_object_get(rec, "listener")),
            json_string_value(json_object_get(rec, "incarnation")));
}

/* Fences broker b's current registration (its epoch: a fence that commits after the broker
 * registered again changes nothing). */
/* shutdown: the broker asked for it (a controlled shutdown), which the image keeps */
static void fence(gn_controller_t *ctl, const json_t *b, bool shutdown)
{
    json_int_t id = json_integer_value(json_object_get(b, "id"));
    json_int_t epoch = json_integer_value(json_object_get(b, "epoch"));
    ctl_propose(ctl, json_pack("{s:s, s:I, s:I, s:b}", "type", "broker_fenced", "id", id, "epoch",
                               epoch, "shutdown", shutdown));
}

static bool str_eq(const json_t *o, const char *key, const char *v)
{
    const char *have = json_string_value(json_object_get(o, key));
    return have && v && strcmp(have, v) == 0;
}

/* A heartbeat reached the controller (its own too, every tick). 0: this incarnation is the
 * registered, unfenced one (it may act on its leaderships); GN_EAGAIN: not yet.
 * A broker that is fenced, unknown, or a new incarnation of a registered one (its process
 * restarted, within its session or not) is registered (register_waiting) only once the
 * image is settled() for it: decide() has moved the leaderships its previous incarnation
 * held and taken it out of the ISRs of led partitions, so that it never resumes as leader
 * at an epoch whose state it lost. A new incarnation fences the previous one first, at
 * once (Kafka's broker epochs). An address change of a live broker, or a registration from
 * before incarnations, is re-registered in place. */
static int heartbeat_seen(gn_controller_t *ctl, int32_t id, const char *host, int64_t port,
                          int64_t tls_port, const char *listener, const char *incarnation)
{
    seen_t *s = seen_now(ctl, id);
    const json_t *b = image_broker(ctl, id);
    const char *had = json_string_value(json_object_get(b, "incarnation"));
    bool fenced = !b || json_is_true(json_object_get(b, "fenced"));
    bool new_incarnation = had && incarnation && strcmp(had, incarnation) != 0;
    /* a quorum of one has no other replica to hand anything to: a restart re-registers in
     * place, without taking every partition offline for a moment and bumping its epoch */
    bool restarted = new_incarnation && gn__cluster_voter_count(ctl->cl) > 1;
    if (!fenced && restarted && s) {
        json_int_t epoch = json_integer_value(json_object_get(b, "epoch"));
        if (s->fenced_epoch != epoch) {
            GN_WARN("cluster",
                    "broker restarted: fencing its previous incarnation | id=%d "
                    "incarnation=%s previous=%s",
                    id, incarnation, had);
            s->fenced_epoch = epoch;
            fence(ctl, b, false);
        }
    }
    if (fenced || restarted) {
        json_t *rec = s ? registration(id, host, port, tls_port, listener, incarnation) : NULL;
        if (rec && !json_equal(rec, s->registration)) { /* else: the one held already */
            json_decref(s->registration);
            s->registration = rec;
            s->registration_sent = 0;
            rec = NULL;
        }
        json_decref(rec);
        return GN_EAGAIN;
    }
    if (s && s->registration) { /* registered: nothing held */
        json_decref(s->registration);
        s->registration = NULL;
    }
    if ((!had && incarnation) || new_incarnation || !str_eq(b, "host", host) ||
        json_integer_value(json_object_get(b, "port")) != port ||
        json_integer_value(json_object_get(b, "tls_port")) != tls_port ||
        !str_eq(b, "listener", listener)) {
        json_t *rec = registration(id, host, port, tls_port, listener, incarnation);
        if (rec) log_registration(rec);
        ctl_propose(ctl, rec);
    }
    return 0;
}

static bool in_ids(const json_t *a, int32_t id)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (json_integer_value(v) == id) return true;
    return false;
}

/* fn(ctl, topic, partition, state, arg) for every partition state of the image, topic by
 * topic, until it returns false; whether it never did */
typedef bool (*partition_state_fn)(gn_controller_t *ctl, const char *topic, size_t p, json_t *st,
                                   void *arg);
static bool each_partition_state(gn_controller_t *ctl, partition_state_fn fn, void *arg)
{
    const char *name;
    json_t *t;
    json_object_foreach(json_object_get(gn__cluster_image(ctl->cl), "topics"), name, t)
    {
        size_t p;
        json_t *st;
        json_array_foreach(json_object_get(t, "states"), p,
                           st) if (!fn(ctl, name, p, st, arg)) return false;
    }
    return true;
}

static bool partition_settled(gn_controller_t *ctl, const char *topic, size_t p, json_t *st,
                              void *arg)
{
    (void)topic, (void)p;
    int32_t id = *(const int32_t *)arg;
    int32_t leader = (int32_t)json_integer_value(json_object_get(st, "leader"));
    if (leader == id) return false;
    return !(leader >= 0 && broker_live(ctl, leader) && in_ids(json_object_get(st, "isr"), id));
}

/* Whether decide() has nothing left to change for broker id's registration in the image:
 * fenced (or absent), leading no partition, and in the ISR only of partitions without a
 * live leader (an offline partition keeps its ISR: its last members may lead it again). */
static bool settled(gn_controller_t *ctl, int32_t id)
{
    if (broker_live(ctl, id)) return false; /* the previous incarnation: fenced first */
    return each_partition_state(ctl, partition_settled, &id);
}

/* A controlled shutdown's heartbeat (its own, on the controller): the broker is fenced at
 * its current registration, so decide() moves its leaderships to in-sync replicas and
 * takes it out of the ISRs, and it is never registered again by this process (a restart
 * is a new incarnation). True once settled(): nothing is left for it to hand over. */
static bool shutdown_seen(gn_controller_t *ctl, int32_t id)
{
    seen_t *s = seen_now(ctl, id);
    const json_t *b = image_broker(ctl, id);
    if (s) {
        s->shutting_down = true;
        json_decref(s->registration);
        s->registration = NULL;
    }
    if (s && b && broker_live(ctl, id)) {
        json_int_t epoch = json_integer_value(json_object_get(b, "epoch"));
        if (s->fenced_epoch != epoch) {
            GN_INFO("cluster", "controlled shutdown: moving the broker's leaderships | id=%d", id);
            s->fenced_epoch = epoch;
            fence(ctl, b, true);
        }
    }
    return settled(ctl, id);
}

/* The registrations heartbeat_seen holds, of brokers settled() in the image: whatever else
 * is in flight, nothing the image says of them can change any more. One in the image
 * already, or of a broker silent for a session since, is dropped. */
static void register_waiting(gn_controller_t *ctl)
{
    uint64_t now = uv_now(ctl->broker->loop);
    uint64_t session = (uint64_t)ctl->broker->cfg.broker_session_timeout_ms;
    for (size_t i = 0; i < ctl->nseen; i++) {
        seen_t *s = &ctl->seen[i];
        if (!s->registration) continue;
        const char *inc = json_string_value(json_object_get(s->registration, "incarnation"));
        const json_t *b = image_broker(ctl, s->id);
        if ((broker_live(ctl, s->id) && (!inc || str_eq(b, "incarnation", inc))) ||
            now - s->seen > session) {
            json_decref(s->registration);
            s->registration = NULL;
            continue;
        }
        if ((s->registration_sent && now - s->registration_sent < REGISTER_RETRY_MS) ||
            !settled(ctl, s->id))
            continue;
        s->registration_sent = now ? now : 1;
        log_registration(s->registration);
        ctl_propose(ctl, json_incref(s->registration));
    }
}

/* The controller's decisions, from the image: fence silent brokers, give leaderless
 * partitions a live in-sync leader, drop fenced brokers from ISRs. */
/* The metadata record a partition's state calls for, proposed: its leadership moved to a
 * live in-sync replica (epoch + 1), offline when none is left, or its ISR shrunk to the
 * live members. */
static bool decide_partition(gn_controller_t *ctl, const char *name, size_t p, json_t *st,
                             void *arg)
{
    (void)arg;
    int32_t leader = (int32_t)json_integer_value(json_object_get(st, "leader"));
    int64_t epoch = json_integer_value(json_object_get(st, "leader_epoch"));
    json_t *isr = json_object_get(st, "isr");
    bool leader_ok = leader >= 0 && broker_live(ctl, leader);
    json_t *live = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(isr, i, v) if (broker_live(ctl, (int32_t)json_integer_value(v)))
        json_array_append(live, v);
    int32_t to = leader;
    json_t *to_isr = live;
    if (!leader_ok && json_array_size(live) > 0) {
        to = (int32_t)json_integer_value(json_array_get(live, 0));
        epoch++;
        GN_WARN("cluster",
                "moving partition leadership | topic=%s partition=%zu from=%d to=%d "
                "leader_epoch=%lld",
                name, p, leader, to, (long long)epoch);
    } else if (!leader_ok && leader >= 0) {
        GN_WARN("cluster", "partition offline: no live in-sync replica | topic=%s partition=%zu",
                name, p);
        to = -1;
        epoch++;
        to_isr = isr;
    } else if (!leader_ok || json_array_size(live) == json_array_size(isr)) {
        to_isr = NULL; /* offline already, or nothing to shrink: nothing to change */
    }
    if (to_isr)
        ctl_propose(ctl, json_pack("{s:s, s:s, s:I, s:i, s:I, s:O}", "type", "partition", "topic",
                                   name, "partition", (json_int_t)p, "leader", to, "leader_epoch",
                                   (json_int_t)epoch, "isr", to_isr));
    json_decref(live);
    return true;
}

static void decide(gn_controller_t *ctl)
{
    const gn_broker_config_t *cfg = &ctl->broker->cfg;
    uint64_t now = uv_now(ctl->broker->loop);
    int32_t self = cfg->node_id;
    register_waiting(ctl);
    if (ctl->inflight > 0) return; /* decided from an image about to change */
    const char *key;
    json_t *b;
    json_object_foreach((json_t *)image_brokers(ctl), key, b)
    {
        int32_t id = (int32_t)json_integer_value(json_object_get(b, "id"));
        if (id == self || json_is_true(json_object_get(b, "fenced"))) continue;
        if (now - seen_at(ctl, id) > (uint64_t)cfg->broker_session_timeout_ms) {
            GN_WARN("cluster", "fencing broker: no heartbeat | id=%d timeout_ms=%lld", id,
                    (long long)cfg->broker_session_timeout_ms);
            fence(ctl, b, false);
        }
    }
    if (ctl->inflight > 0) return; /* fences first */
    each_partition_state(ctl, decide_partition, NULL);
}

/* ---- heartbeats ---- */

static const char *self_listener(gn_controller_t *ctl)
{
    const char *l = ctl->broker->cfg.cluster_listener;
    return l ? l : "";
}

static void on_heartbeat_answer(void *arg, int status, const json_t *resp, const uint8_t *raw,
                                size_t rawlen)
{
    gn_controller_t *ctl = arg;
    ctl->hb_inflight = false;
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    /* GN_EAGAIN: the controller registers this incarnation once it has moved the previous
     * one's leaderships; no lease until then */
    ctl->hb_registering = rc == GN_EAGAIN;
    if (rc < 0 && rc != GN_EAGAIN && !ctl->closing)
        GN_DEBUG("cluster", "heartbeat failed | err=%s", gn_strerror(rc));
    if (rc < 0) return;
    if (ctl->draining) { /* fenced on purpose: no lease, only whether it is done */
        ctl->drain_ready = json_is_true(json_object_get(resp, "shutdown_ready"));
        return;
    }
    ctl->lease_from = ctl->hb_sent_at;
    ctl->lease_index = (uint64_t)json_integer_value(json_object_get(resp, "index"));
}

static bool other_live_broker(gn_controller_t *ctl)
{
    const char *key;
    json_t *b;
    json_object_foreach((json_t *)image_brokers(ctl), key, b)
    {
        int32_t id = (int32_t)json_integer_value(json_object_get(b, "id"));
        if (id != ctl->broker->cfg.node_id && !json_is_true(json_object_get(b, "fenced")))
            return true;
    }
    return false;
}

/* A controlled shutdown is over when the controller says nothing is left to hand over
 * and this broker no longer leads the quorum, or at the deadline, or when no other broker
 * is there to take anything. */
static void drain_check(gn_controller_t *ctl, uint64_t now)
{
    if (!ctl->draining || !ctl->drain_cb) return;
    bool done = ctl->drain_ready && !gn__cluster_is_leader(ctl->cl);
    bool alone = gn__cluster_voter_count(ctl->cl) <= 1 || !other_live_broker(ctl);
    if (!done && !alone && now < ctl->drain_deadline) return;
    if (done || alone)
        GN_INFO("cluster", "controlled shutdown: nothing left to hand over");
    else
        GN_WARN("cluster", "controlled shutdown: timed out, shutting down anyway | ready=%s",
                ctl->drain_ready ? "yes" : "no");
    gn_controller_drained_cb cb = ctl->drain_cb;
    ctl->drain_cb = NULL;
    cb(ctl->drain_arg);
}

static gn_rpc_client_t *leader_client(gn_controller_t *ctl)
{
    int32_t leader = gn__cluster_leader_id(ctl->cl);
    const json_t *b = leader >= 0 ? image_broker(ctl, leader) : NULL;
    const char *addr = json_string_value(json_object_get(b, "listener"));
    if (!addr || !addr[0]) return NULL;
    if (ctl->leader_cli && strcmp(gn__rpc_client_address(ctl->leader_cli), addr) != 0) {
        gn__rpc_client_free(ctl->leader_cli);
        ctl->leader_cli = NULL;
    }
    if (!ctl->leader_cli)
        ctl->leader_cli = gn__rpc_client_new(ctl->broker->loop, addr, ctl->broker->cfg.cluster_tls);
    return ctl->leader_cli;
}

static void log_lease(gn_controller_t *ctl)
{
    bool ok = gn__controller_lease_ok(ctl);
    if (ok == (ctl->lease == LEASE_HELD) || (!ok && ctl->lease == LEASE_NEVER)) return;
    bool was_lost = ctl->lease == LEASE_LOST;
    ctl->lease = ok ? LEASE_HELD : LEASE_LOST;
    if (ok && was_lost)
        GN_INFO("cluster", "metadata lease renewed: acting as partition leader again");
    else if (!ok)
        GN_WARN("cluster",
                "metadata lease lost: not acting as partition leader | "
                "session_timeout_ms=%lld",
                (long long)ctl->broker->cfg.broker_session_timeout_ms);
}

static void on_tick(uv_timer_t *timer)
{
    gn_controller_t *ctl = timer->data;
    const gn_broker_config_t *cfg = &ctl->broker->cfg;
    log_lease(ctl);
    uint64_t now = uv_now(ctl->broker->loop);
    drain_check(ctl, now);
    if (gn__cluster_is_leader(ctl->cl)) {
        if (!ctl->was_leader) { /* a new controller gives every broker a full session */
            for (size_t i = 0; i < ctl->nseen; i++) { /* nothing held from an earlier term */
                ctl->seen[i].seen = now;
                ctl->seen[i].conn = 0;
                ctl->seen[i].fenced_epoch = 0;
                json_decref(ctl->seen[i].registration);
                ctl->seen[i].registration = NULL;
                ctl->seen[i].registration_sent = 0;
            }
            const char *key;
            json_t *b;
            json_object_foreach((json_t *)image_brokers(ctl), key, b)
                seen_now(ctl, (int32_t)json_integer_value(json_object_get(b, "id")));
            /* but the previous controller, which the voters stopped hearing from: it renewed
             * its lease every tick until Raft deposed it (an election timeout without a
             * majority, as this one was being elected) and holds it a lease longer */
            if (ctl->last_leader >= 0 && ctl->last_leader != cfg->node_id)
                fast_fence(ctl, ctl->last_leader,
                           GN_CLUSTER_ELECTION_TIMEOUT_MS + TICK_MS + lease_ms(cfg),
                           "previous controller");
            ctl->was_leader = true;
            GN_INFO("cluster", "this broker is the controller now | id=%d", cfg->node_id);
        }
        /* its own lease, while its own registration is the image's; a controlled shutdown
         * hands over its leaderships, then the quorum's */
        if (ctl->draining) {
            ctl->drain_ready = shutdown_seen(ctl, cfg->node_id);
            if (ctl->drain_ready) gn__cluster_transfer_leadership(ctl->cl);
        } else if (heartbeat_seen(ctl, cfg->node_id, cfg->advertised_host, cfg->advertised_port,
                                  cfg->advertised_tls_port, self_listener(ctl),
                                  ctl->incarnation) == 0) {
            ctl->lease_from = now;
            ctl->lease_index = 0;
        } else { /* its registration before anything else: the others wait for it to heartbeat */
            register_waiting(ctl);
        }
        /* the cluster's id: the first controller's meta.properties cluster.id */
        if (!json_object_get(gn__cluster_image(ctl->cl), "cluster_id") && ctl->inflight == 0)
            ctl_propose(
                ctl, json_pack("{s:s, s:s}", "type", "cluster_id", "id", ctl->broker->cluster_id));
        decide(ctl);
        return;
    }
    ctl->was_leader = false;
    int32_t leader = gn__cluster_leader_id(ctl->cl);
    if (leader >= 0 && leader != ctl->last_leader)
        GN_INFO("cluster", "following the controller | id=%d", leader);
    if (leader >= 0) ctl->last_leader = leader;
    /* every interval, at once to a new controller, and every tick while registering */
    if (ctl->hb_inflight || leader < 0 ||
        (leader == ctl->hb_leader && !ctl->hb_registering && !ctl->draining &&
         now - ctl->hb_sent_at < (uint64_t)cfg->broker_heartbeat_interval_ms))
        return;
    gn_rpc_client_t *cli = leader_client(ctl);
    if (!cli) return;
    json_t *req =
        json_pack("{s:s, s:i, s:s, s:i, s:s, s:s}", "op", "heartbeat", "broker", cfg->node_id,
                  "host", cfg->advertised_host, "port", cfg->advertised_port, "listener",
                  self_listener(ctl), "incarnation", ctl->incarnation);
    if (req && ctl->draining) json_object_set_new(req, "shutdown", json_true());
    if (req && cfg->advertised_tls_port > 0)
        json_object_set_new(req, "tls_port", json_integer(cfg->advertised_tls_port));
    if (req && gn__rpc_call(cli, req, NULL, 0, cfg->broker_heartbeat_interval_ms,
                            on_heartbeat_answer, ctl) == 0) {
        ctl->hb_inflight = true;
        ctl->hb_sent_at = now;
        ctl->hb_leader = leader;
    }
    json_decref(req);
}

/* ---- RPC handlers (the controller side) ---- */

static void handle_heartbeat(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                             size_t rawlen)
{
    gn_controller_t *ctl = arg;
    if (!gn__cluster_is_leader(ctl->cl)) {
        gn__rpc_reply(call, GN_ENOTLEADER, NULL, NULL, 0);
        return;
    }
    const char *host = json_string_value(json_object_get(req, "host"));
    const char *listener = json_string_value(json_object_get(req, "listener"));
    /* absent from brokers before incarnations: re-registered in place as before */
    const char *incarnation = json_string_value(json_object_get(req, "incarnation"));
    json_int_t id = json_integer_value(json_object_get(req, "broker"));
    if (!host || !listener || id < 0 || id > INT32_MAX) {
        gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
        return;
    }
    if (json_is_true(json_object_get(req, "shutdown"))) { /* a controlled shutdown */
        bool ready = shutdown_seen(ctl, (int32_t)id);
        if (!ready) uv_timer_start(&ctl->timer, on_tick, 0, TICK_MS); /* decide() at once */
        json_t *resp = json_pack("{s:b}", "shutdown_ready", ready);
        gn__rpc_reply(call, 0, resp, NULL, 0);
        json_decref(resp);
        return;
    }
    int rc =
        heartbeat_seen(ctl, (int32_t)id, host, json_integer_value(json_object_get(req, "port")),
                       json_integer_value(json_object_get(req, "tls_port")), listener, incarnation);
    for (size_t i = 0; i < ctl->nseen; i++)
        if (ctl->seen[i].id == (int32_t)id) ctl->seen[i].conn = gn__rpc_call_conn(call);
    if (rc < 0) { /* registering: decide() at once rather than at the next tick */
        uv_timer_start(&ctl->timer, on_tick, 0, TICK_MS);
        gn__rpc_reply(call, rc, NULL, NULL, 0);
        return;
    }
    /* what the broker must have applied before it acts on its leaderships again */
    json_t *resp = json_pack("{s:I}", "index", (json_int_t)gn__cluster_applied_index(ctl->cl));
    gn__rpc_reply(call, 0, resp, NULL, 0);
    json_decref(resp);
}

/* A connection a broker heartbeated on ended: that broker is probably gone. */
static void on_conn_closed(void *arg, uint64_t conn)
{
    gn_controller_t *ctl = arg;
    if (ctl->closing || !gn__cluster_is_leader(ctl->cl)) return;
    for (size_t i = 0; i < ctl->nseen; i++)
        if (ctl->seen[i].conn == conn) {
            ctl->seen[i].conn = 0;
            /* its lease began before its last heartbeat reached us */
            fast_fence(ctl, ctl->seen[i].id, lease_ms(&ctl->broker->cfg),
                       "heartbeat connection lost");
        }
}

typedef struct fwd_call {
    gn_controller_t *ctl;
    gn_rpc_call_t *call;
} fwd_call_t;

static void forwarded_applied(void *arg, int status)
{
    fwd_call_t *fc = arg;
    gn_controller_t *ctl = fc->ctl;
    /* applied (or refused) at that index: the proposer completes once it applied as far */
    json_t *resp = status == 0 || gn__image_refusal(status)
                       ? json_pack("{s:I}", "index", (json_int_t)gn__cluster_applied_index(ctl->cl))
                       : NULL;
    gn__rpc_reply(fc->call, status, resp, NULL, 0);
    json_decref(resp);
    free(fc);
    ctl->pending--;
    ctl_maybe_free(ctl);
}

static void handle_propose(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                           size_t rawlen)
{
    gn_controller_t *ctl = arg;
    const json_t *rec = json_object_get(req, "record");
    fwd_call_t *fc = malloc(sizeof(*fc));
    int rc = !fc                               ? GN_ENOMEM
             : !gn__cluster_is_leader(ctl->cl) ? GN_ENOTLEADER
             : !json_is_object(rec)            ? GN_EINVALID_REQUEST
                                               : 0;
    if (rc == 0) {
        *fc = (fwd_call_t){ctl, call};
        rc = gn__cluster_propose(ctl->cl, rec, forwarded_applied, fc);
        if (rc == 0) ctl->pending++;
    }
    if (rc < 0) {
        free(fc);
        gn__rpc_reply(call, rc, NULL, NULL, 0);
    }
}

/* ---- forwarding (the follower side) ---- */

typedef struct fwd {
    gn_controller_t *ctl;
    gn_cluster_propose_cb cb;
    void *arg;
} fwd_t;

static void on_forward_answer(void *arg, int status, const json_t *resp, const uint8_t *raw,
                              size_t rawlen)
{
    fwd_t *f = arg;
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    /* the controller's index: its apply's result, a refusal included, holds here once this
     * broker applied as far */
    uint64_t index =
        status == 0 && resp ? (uint64_t)json_integer_value(json_object_get(resp, "index")) : 0;
    gn__cluster_after_applied(f->ctl->cl, index, rc, f->cb, f->arg);
    free(f);
}

static int forward(void *arg, const json_t *record, gn_cluster_propose_cb cb, void *cb_arg)
{
    gn_controller_t *ctl = arg;
    gn_rpc_client_t *cli = leader_client(ctl);
    if (!cli) return GN_ENOTLEADER;
    fwd_t *f = malloc(sizeof(*f));
    json_t *req = json_pack("{s:s, s:O}", "op", "propose", "record", record);
    int rc = f && req ? 0 : GN_ENOMEM;
    if (rc == 0) {
        *f = (fwd_t){ctl, cb, cb_arg};
        rc = gn__rpc_call(cli, req, NULL, 0, 10000, on_forward_answer, f);
    }
    json_decref(req);
    if (rc < 0) free(f);
    return rc;
}

/* ---- records applied here ---- */

static void on_record(void *arg, const json_t *rec)
{
    gn_controller_t *ctl = arg;
    gn_broker_t *broker = ctl->broker;
    const char *type = json_string_value(json_object_get(rec, "type"));
    const char *name = json_string_value(json_object_get(rec, "name"));
    if (broker->closing || !type) return;
    /* whoever proposed it: the registry follows the image (topic_sync.c) */
    if (name && (strcmp(type, "topic") == 0 || strcmp(type, "topic_deleted") == 0))
        gn__topic_sync(broker, name);
    if (ctl->on_apply) ctl->on_apply(ctl->on_apply_arg, rec);
}

/* ---- life ---- */

/* A random id for this process's registration (Kafka's incarnation id): the controller
 * tells a restarted broker from the one it knew by it. */
static void new_incarnation(gn_controller_t *ctl)
{
    uint8_t r[8] = {0};
    if (uv_random(NULL, NULL, r, sizeof(r), 0, NULL) < 0) { /* no entropy: time and pid */
        uint64_t t = uv_hrtime() ^ ((uint64_t)uv_os_getpid() << 32);
        memcpy(r, &t, sizeof(r));
    }
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(ctl->incarnation + 2 * i, 3, "%02x", r[i]);
}

int gn__controller_open(gn_broker_t *broker, gn_controller_t **out)
{
    gn_controller_t *ctl = calloc(1, sizeof(*ctl));
    if (!ctl) return GN_ENOMEM;
    ctl->broker = broker;
    ctl->cl = broker->cluster;
    const char *listener = broker->cfg.cluster_listener;
    if (listener && listener[0]) {
        int rc = gn__rpc_server_open(broker->loop, listener, broker->cfg.cluster_tls, &ctl->srv);
        if (rc < 0) {
            free(ctl);
            return rc;
        }
        gn__rpc_server_handle(ctl->srv, "heartbeat", handle_heartbeat, ctl);
        gn__rpc_server_handle(ctl->srv, "propose", handle_propose, ctl);
        gn__rpc_server_on_conn_closed(ctl->srv, on_conn_closed, ctl);
    }
    gn__cluster_on_apply(ctl->cl, on_record, ctl);
    gn__cluster_set_forwarder(ctl->cl, forward, ctl);
    new_incarnation(ctl);
    ctl->last_leader = ctl->hb_leader = -1;
    uv_timer_init(broker->loop, &ctl->timer);
    ctl->timer.data = ctl;
    uv_timer_start(&ctl->timer, on_tick, 0, TICK_MS);
    *out = ctl;
    return 0;
}

bool gn__controller_lease_ok(gn_controller_t *ctl)
{
    if (!ctl || gn__cluster_voter_count(ctl->cl) <= 1) return true; /* a quorum of one */
    if (ctl->draining && !broker_live(ctl, ctl->broker->cfg.node_id))
        return false; /* handed over */
    uint64_t now = uv_now(ctl->broker->loop);
    if (now - ctl->lease_from > lease_ms(&ctl->broker->cfg)) return false;
    return gn__cluster_applied_index(ctl->cl) >= ctl->lease_index;
}

void gn__controller_drain(gn_controller_t *ctl, uint64_t timeout_ms, gn_controller_drained_cb cb,
                          void *arg)
{
    if (!ctl || ctl->closing || ctl->draining) {
        if (cb) cb(arg);
        return;
    }
    GN_INFO("cluster", "controlled shutdown: handing over partition leaderships | timeout_ms=%llu",
            (unsigned long long)timeout_ms);
    ctl->draining = true;
    ctl->drain_cb = cb;
    ctl->drain_arg = arg;
    ctl->drain_deadline = uv_now(ctl->broker->loop) + timeout_ms;
    uv_timer_start(&ctl->timer, on_tick, 0, TICK_MS); /* the first heartbeat now */
}

gn_rpc_server_t *gn__controller_rpc(gn_controller_t *ctl)
{
    return ctl ? ctl->srv : NULL;
}

void gn__controller_on_apply(gn_controller_t *ctl, gn_controller_apply_cb cb, void *arg)
{
    ctl->on_apply = cb;
    ctl->on_apply_arg = arg;
}

static void on_ctl_timer_closed(uv_handle_t *h)
{
    gn_controller_t *ctl = h->data;
    ctl->timer_closed = true;
    ctl_maybe_free(ctl);
}

void gn__controller_close(gn_controller_t *ctl)
{
    if (!ctl) return;
    ctl->closing = true;
    gn__cluster_off_apply(ctl->cl, on_record, ctl);
    gn__cluster_set_forwarder(ctl->cl, NULL, NULL);
    gn__rpc_server_close(ctl->srv);
    gn__rpc_client_free(ctl->leader_cli);
    uv_close((uv_handle_t *)&ctl->timer, on_ctl_timer_closed);
}

/* ---- include/ganglion/cluster.h ---- */

size_t gn_cluster_brokers(gn_broker_t *broker, gn_cluster_broker_t *out, size_t cap)
{
    size_t n = 0;
    bool self_seen = false;
    const char *key;
    json_t *b;
    json_object_foreach(json_object_get(gn__cluster_image(broker->cluster), "brokers"), key, b)
    {
        if (json_is_true(json_object_get(b, "fenced"))) continue;
        int32_t id = (int32_t)json_integer_value(json_object_get(b, "id"));
        self_seen |= id == broker->cfg.node_id;
        if (n < cap) {
            size_t i = n;
            for (; i > 0 && out[i - 1].node_id > id; i--)
                out[i] = out[i - 1];
            out[i].node_id = id;
            snprintf(out[i].host, sizeof(out[i].host), "%s",
                     json_string_value(json_object_get(b, "host")));
            out[i].port = (int32_t)json_integer_value(json_object_get(b, "port"));
            out[i].tls_port = (int32_t)json_integer_value(json_object_get(b, "tls_port"));
        }
        n++;
    }
    if (!self_seen) {
        if (n < cap) {
            size_t i = n;
            for (; i > 0 && out[i - 1].node_id > broker->cfg.node_id; i--)
                out[i] = out[i - 1];
            out[i].node_id = broker->cfg.node_id;
            snprintf(out[i].host, sizeof(out[i].host), "%s",
                     broker->cfg.advertised_host ? broker->cfg.advertised_host : "");
            out[i].port = broker->cfg.advertised_port;
            out[i].tls_port = broker->cfg.advertised_tls_port;
        }
        n++;
    }
    return n;
}

bool gn_cluster_broker_stopping(gn_broker_t *broker, int32_t id)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", id);
    const json_t *b =
        json_object_get(json_object_get(gn__cluster_image(broker->cluster), "brokers"), key);
    return json_is_true(json_object_get(b, "fenced")) &&
           json_is_true(json_object_get(b, "shutdown"));
}

static size_t ids(const json_t *a, int32_t *out)
{
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(a, i, v) if (n < GN_CLUSTER_REPLICAS_MAX) out[n++] =
        (int32_t)json_integer_value(v);
    return n;
}

int gn_cluster_partition(gn_broker_t *broker, const char *topic, int32_t partition,
                         gn_cluster_partition_t *out)
{
    const json_t *t =
        json_object_get(json_object_get(gn__cluster_image(broker->cluster), "topics"), topic);
    const json_t *st = json_array_get(json_object_get(t, "states"), (size_t)partition);
    if (!st || partition < 0) return GN_EUNKNOWN_TOPIC;
    out->leader = (int32_t)json_integer_value(json_object_get(st, "leader"));
    out->leader_epoch = (int32_t)json_integer_value(json_object_get(st, "leader_epoch"));
    out->nreplicas = ids(json_object_get(st, "replicas"), out->replicas);
    out->nisr = ids(json_object_get(st, "isr"), out->isr);
    return 0;
}

bool gn_cluster_holds_replica(gn_broker_t *broker, const char *topic, int32_t partition)
{
    gn_cluster_partition_t cp;
    if (gn_cluster_partition(broker, topic, partition, &cp) < 0) return true;
    for (size_t i = 0; i < cp.nreplicas; i++)
        if (cp.replicas[i] == broker->cfg.node_id) return true;
    return false;
}

bool gn_cluster_replicated(gn_broker_t *broker)
{
    return broker->cluster && gn__cluster_voter_count(broker->cluster) > 1;
}

int32_t gn_cluster_controller_id(gn_broker_t *broker)
{
    return gn__cluster_leader_id(broker->cluster);
}
