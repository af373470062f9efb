/* SPDX-License-Identifier: Apache-2.0 */
/* Leader and follower sides of data replication (replica.h). A gn__replica hangs off each
 * partition whose image entry has more than one replica; its role, leader epoch and ISR
 * follow the metadata image (refreshed on every applied record). Loop thread only. */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/controller.h"
#include "cluster/rpc.h"
#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "replica/remote_read.h"
#include "replica/replica.h"
#include "log/epoch_cache.h"
#include "topic/topic_internal.h"

#define FETCH_MAX_BYTES    (1u << 20)
#define FETCH_WAIT_MS      500
#define TICK_MS            100
#define RETRY_MS           200
#define GN_EPOCH_STEPS_MAX 64 /* KIP-279 lookups before settling (each drops an epoch) */

typedef struct hw_wait {
    int64_t end;
    gn__task_t *task;
    int *status;
    struct hw_wait *next;
} hw_wait_t;

typedef struct parked {
    gn_rpc_call_t *call;
    int32_t replica;
    int64_t offset;
    int64_t hw; /* the follower's high watermark */
    uint64_t deadline;
    struct parked *next;
} parked_t;

typedef struct follower {
    int32_t id;
    int64_t leo; /* -1: not heard from since this broker became leader */
    uint64_t caught_up_ms;
    uint64_t fetched_ms; /* its last fetch: a follower silent for a session is not counted */
} follower_t;

typedef struct gn__replica {
    gn_replica_mgr_t *m;
    gn_partition_t *part; /* NULL once closed */
    int32_t leader, epoch;
    int32_t isr[GN_CLUSTER_REPLICAS_MAX];
    size_t nisr;
    int64_t hw;
    follower_t fol[GN_CLUSTER_REPLICAS_MAX];
    size_t nfol;
    hw_wait_t *waits;
    parked_t *parked;
    gn__task_t wake; /* queued by an append here: answers the parked follower fetches */
    bool isr_change; /* a proposal in flight */
    /* follower side */
    gn_rpc_client_t *cli;
    bool fetching;
    bool truncating; /* a new leader: find where our log diverges before fetching */
    int truncate_steps;
    int32_t sent_leader, sent_epoch; /* of the call in flight: a stale answer is dropped */
    uint64_t retry_at;
    struct gn__replica *prev, *next;
} gn__replica_t;

struct gn_replica_mgr {
    gn_broker_t *broker;
    uv_timer_t timer;
    gn__replica_t *all;
    int pending; /* ISR proposals still to answer: keep the manager */
    bool closing, timer_closed;
};

static void mgr_maybe_free(gn_replica_mgr_t *m)
{
    if (m->closing && m->timer_closed && m->pending == 0) free(m);
}

static int32_t self_id(gn_replica_mgr_t *m)
{
    return m->broker->cfg.node_id;
}

static bool in_isr(const gn__replica_t *rs, int32_t id)
{
    for (size_t i = 0; i < rs->nisr; i++)
        if (rs->isr[i] == id) return true;
    return false;
}

static follower_t *follower(gn__replica_t *rs, int32_t id)
{
    for (size_t i = 0; i < rs->nfol; i++)
        if (rs->fol[i].id == id) return &rs->fol[i];
    if (rs->nfol >= GN_CLUSTER_REPLICAS_MAX) return NULL;
    rs->fol[rs->nfol] = (follower_t){id, -1, 0, 0};
    return &rs->fol[rs->nfol++];
}

static void fire_waits(gn__replica_t *rs, bool all, int status)
{
    gn_broker_t *broker = rs->m->broker;
    for (hw_wait_t **pp = &rs->waits; *pp;) {
        hw_wait_t *w = *pp;
        if (!all && w->end > rs->hw) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (all && w->status) *w->status = status;
        gn__defer(broker, w->task);
        free(w);
    }
}

/* Leader: the high watermark is the minimum log end over the ISR (a follower not heard
 * from since the election holds it where it was). Never goes back. */
static void unpark(gn__replica_t *rs, bool expired_only, int status);

static void advance_hw(gn__replica_t *rs)
{
    if (!rs->part || rs->leader != self_id(rs->m)) return;
    int64_t hw = gn_log_end_offset(rs->part->log);
    for (size_t i = 0; i < rs->nisr; i++) {
        if (rs->isr[i] == self_id(rs->m)) continue;
        follower_t *f = follower(rs, rs->isr[i]);
        int64_t leo = f && f->leo >= 0 ? f->leo : rs->hw;
        if (leo < hw) hw = leo;
    }
    if (hw <= rs->hw) return;
    rs->hw = hw;
    fire_waits(rs, false, 0);
    if (rs->part->watches || rs->m->broker->nappend_observers)
        gn__defer(rs->m->broker, &rs->part->watch_task);
    /* parked fetches carry an older high watermark: followers learn the new one now (their
     * readers, gateway subscribers among them, see the records without a 500 ms wait) */
    if (rs->parked) unpark(rs, false, 0);
}

/* ---- ISR changes, proposed by the leader ---- */

typedef struct isr_ctx {
    gn_replica_mgr_t *m;
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
} isr_ctx_t;

static void isr_done(void *arg, int status)
{
    isr_ctx_t *c = arg;
    gn_replica_mgr_t *m = c->m;
    m->pending--;
    if (!m->closing) {
        gn_partition_t *part = gn_partition_get(m->broker, c->topic, c->partition);
        if (part && part->replica) part->replica->isr_change = false;
        if (status < 0 && status != GN_ESHUTDOWN)
            GN_WARN("replica", "ISR change failed | topic=%s partition=%d err=%s", c->topic,
                    c->partition, gn_strerror(status));
    }
    free(c);
    mgr_maybe_free(m);
}

static void propose_isr(gn__replica_t *rs, const int32_t *isr, size_t n)
{
    if (rs->isr_change || !rs->part) return;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(isr[i]));
    json_t *rec = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o}", "type", "partition", "topic",
                            rs->part->topic->name, "partition", rs->part->id, "leader", rs->leader,
                            "leader_epoch", rs->epoch, "isr", a);
    isr_ctx_t *c = calloc(1, sizeof(*c));
    if (rec && c) {
        c->m = rs->m;
        snprintf(c->topic, sizeof(c->topic), "%s", rs->part->topic->name);
        c->partition = rs->part->id;
        if (gn__cluster_propose(rs->m->broker->cluster, rec, isr_done, c) == 0) {
            rs->isr_change = true;
            rs->m->pending++;
            c = NULL;
        }
    }
    free(c);
    json_decref(rec);
}

/* ---- the leader serves fetches ---- */

/* Whether broker id is registered and unfenced in the image: only such a follower goes
 * back into an ISR (as KIP-841). A broker in a controlled shutdown keeps fetching while it
 * hands over, and the controller drops it from every ISR: re-adding it on each fetch made
 * ISR records ping-pong, and every broker's metadata lease flapped with them (the leader
 * refused produce, and a stopping broker's MQTT sessions were never saved offline). */
static bool registered(gn__replica_t *rs, int32_t id)
{
    gn_cluster_broker_t live[64];
    size_t n = gn_cluster_brokers(rs->m->broker, live, 64);
    if (n > 64) return true; /* beyond what we looked at: the controller decides */
    for (size_t i = 0; i < n; i++)
        if (live[i].node_id == id) return true;
    return false;
}

static void serve_fetch(gn__replica_t *rs, gn_rpc_call_t *call, int32_t replica, int64_t offset,
                        int64_t their_hw, bool may_park)
{
    gn_partition_t *part = rs->part;
    uint64_t now = uv_now(rs->m->broker->loop);
    int64_t leo = gn_log_end_offset(part->log);
    json_t *resp = json_pack("{s:I, s:I, s:i}", "log_end", (json_int_t)leo, "log_start",
                             (json_int_t)gn_log_start_offset(part->log), "leader_epoch", rs->epoch);
    if (offset > leo) { /* a divergent, longer log: the follower truncates */
        gn__rpc_reply(call, GN_EOFFSETRANGE, resp, NULL, 0);
        json_decref(resp);
        return;
    }
    follower_t *f = follower(rs, replica);
    if (f) {
        f->leo = offset;
        f->fetched_ms = now;
        if (offset >= leo) f->caught_up_ms = now;
    }
    advance_hw(rs);
    if (f && offset >= leo && !in_isr(rs, replica) && registered(rs, replica)) {
        /* caught up: back into the ISR */
        int32_t isr[GN_CLUSTER_REPLICAS_MAX + 1];
        memcpy(isr, rs->isr, rs->nisr * sizeof(isr[0]));
        isr[rs->nisr] = replica;
        GN_INFO("replica",
                "follower caught up: expanding ISR | topic=%s partition=%d "
                "replica=%d",
                part->topic->name, part->id, replica);
        propose_isr(rs, isr, rs->nisr + 1);
    }
    gn_log_slice_t slice = {.fd = -1};
    uint8_t *buf = NULL;
    int rc = offset < leo ? gn_log_read(part->log, offset, FETCH_MAX_BYTES, leo, &slice) : 0;
    if (rc == GN_EOFFSETRANGE && offset < gn_log_start_offset(part->log)) rc = GN_EOFFSETRANGE;
    if (rc == 0 && slice.len == 0 && may_park && their_hw >= rs->hw) {
        parked_t *pk = malloc(sizeof(*pk));
        if (pk) {
            *pk = (parked_t){call, replica, offset, rs->hw, now + FETCH_WAIT_MS, rs->parked};
            rs->parked = pk;
            json_decref(resp);
            return;
        }
    }
    if (rc == 0 && slice.len > 0) {
        buf = malloc((size_t)slice.len);
        if (!buf || pread(slice.fd, buf, (size_t)slice.len, slice.pos) != slice.len) rc = GN_EIO;
    }
    size_t n = rc == 0 && buf ? (size_t)slice.len : 0;
    if (slice.fd >= 0 || slice.seg) gn_log_slice_release(&slice);
    json_object_set_new(resp, "hw", json_integer(rs->hw));
    gn__rpc_reply(call, rc, resp, n ? buf : NULL, n);
    json_decref(resp);
    free(buf);
}

static void unpark(gn__replica_t *rs, bool expired_only, int status)
{
    uint64_t now = uv_now(rs->m->broker->loop);
    parked_t *keep = NULL, *pk = rs->parked;
    rs->parked = NULL;
    while (pk) {
        parked_t *nx = pk->next;
        if (expired_only && pk->deadline > now) {
            pk->next = keep;
            keep = pk;
        } else if (status < 0 || !rs->part) {
            gn__rpc_reply(pk->call, status < 0 ? status : GN_ENOTLEADER, NULL, NULL, 0);
            free(pk);
        } else {
            serve_fetch(rs, pk->call, pk->replica, pk->offset, pk->hw, false);
            free(pk);
        }
        pk = nx;
    }
    for (pk = keep; pk;) { /* back, in any order */
        parked_t *nx = pk->next;
        pk->next = rs->parked;
        rs->parked = pk;
        pk = nx;
    }
}

/* The partition a follower's request names, when this broker leads it at the epoch the
 * follower knows (Kafka's current leader epoch); else the request is answered here. */
static gn__replica_t *leader_for(gn_replica_mgr_t *m, gn_rpc_call_t *call, const json_t *req)
{
    const char *topic = json_string_value(json_object_get(req, "topic"));
    json_int_t p = json_integer_value(json_object_get(req, "partition"));
    json_t *je = json_object_get(req, "leader_epoch");
    gn_partition_t *part = topic ? gn_partition_get(m->broker, topic, (int32_t)p) : NULL;
    if (!part) {
        gn__rpc_reply(call, GN_EUNKNOWN_TOPIC, NULL, NULL, 0);
        return NULL;
    }
    gn__replica_t *rs = part->replica;
    int rc = !rs || rs->leader != self_id(m) || !gn__controller_lease_ok(m->broker->controller)
                 ? GN_ENOTLEADER
             : !json_is_integer(je)               ? GN_EINVALID_REQUEST
             : json_integer_value(je) < rs->epoch ? GN_EFENCED_LEADER_EPOCH
             : json_integer_value(je) > rs->epoch ? GN_EUNKNOWN_LEADER_EPOCH
                                                  : 0;
    if (rc < 0) {
        gn__rpc_reply(call, rc, NULL, NULL, 0);
        return NULL;
    }
    return rs;
}

static void handle_fetch(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                         size_t rawlen)
{
    gn_replica_mgr_t *m = arg;
    json_int_t offset = json_integer_value(json_object_get(req, "offset"));
    json_int_t replica = json_integer_value(json_object_get(req, "replica"));
    gn__replica_t *rs = leader_for(m, call, req);
    if (!rs) return;
    if (offset < 0) {
        gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
        return;
    }
    /* "hw": what the follower knows (absent from older brokers: never held back) */
    const json_t *jhw = json_object_get(req, "hw");
    int64_t their_hw = jhw ? json_integer_value(jhw) : INT64_MAX;
    serve_fetch(rs, call, (int32_t)replica, offset, their_hw, true);
}

/* OffsetForLeaderEpoch (op "epoch_end"): the largest epoch <= epoch and its end offset in
 * the leader's log, (-1, -1) when unknown. */
static void handle_epoch_end(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                             size_t rawlen)
{
    gn_replica_mgr_t *m = arg;
    json_t *je = json_object_get(req, "epoch");
    gn__replica_t *rs = leader_for(m, call, req);
    if (!rs) return;
    if (!json_is_integer(je)) {
        gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
        return;
    }
    int32_t epoch;
    int64_t end;
    gn_log_end_offset_for_epoch(rs->part->log, (int32_t)json_integer_value(je), &epoch, &end);
    json_t *resp = json_pack("{s:i, s:I}", "epoch", epoch, "end_offset", (json_int_t)end);
    gn__rpc_reply(call, resp ? 0 : GN_ENOMEM, resp, NULL, 0);
    json_decref(resp);
}

static void wake_run(gn__task_t *task)
{
    gn__replica_t *rs = (gn__replica_t *)((char *)task - offsetof(gn__replica_t, wake));
    if (rs->part && rs->parked) unpark(rs, false, 0);
}

void gn__replica_appended(gn_partition_t *part)
{
    gn__replica_t *rs = part->replica;
    if (rs && rs->parked && rs->leader == part->broker->cfg.node_id)
        gn__defer(part->broker, &rs->wake);
}

/* The high watermark moved: parked followers learn it (their readers serve up to it). */
static void on_append(void *arg, gn_partition_t *part, int64_t base, int64_t last)
{
    gn__replica_t *rs = part->replica;
    if (rs && rs->parked) unpark(rs, false, 0);
}

/* ---- the follower fetches ---- */

static void free_rs(gn__replica_t *rs)
{
    free(rs);
}

static void start_fetch(gn__replica_t *rs);

/* An answer from a leader (or epoch) we no longer follow: dropped, asked again. */
static bool stale_answer(gn__replica_t *rs)
{
    if (rs->sent_leader == rs->leader && rs->sent_epoch == rs->epoch) return false;
    start_fetch(rs);
    return true;
}

static void sent(gn__replica_t *rs)
{
    rs->fetching = true;
    rs->sent_leader = rs->leader;
    rs->sent_epoch = rs->epoch;
}

static void on_fetched(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    gn__replica_t *rs = arg;
    rs->fetching = false;
    if (!rs->part) { /* closed meanwhile */
        free_rs(rs);
        return;
    }
    if (stale_answer(rs)) return;
    if (rs->truncating) { /* guard: a fetch answer must never skip the truncation */
        start_fetch(rs);
        return;
    }
    gn_partition_t *part = rs->part;
    uint64_t now = uv_now(rs->m->broker->loop);
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    if (rc == GN_EOFFSETRANGE && resp) {
        int64_t end = json_integer_value(json_object_get(resp, "log_end"));
        int64_t leo = gn_log_end_offset(part->log);
        if (end < leo) {
            GN_WARN("replica",
                    "truncating a divergent tail | topic=%s partition=%d from=%lld "
                    "to=%lld",
                    part->topic->name, part->id, (long long)leo, (long long)end);
            gn_log_truncate(part->log, end);
            if (rs->hw > end) rs->hw = end;
            start_fetch(rs);
            return;
        }
    }
    if (rc < 0) {
        GN_DEBUG("replica", "fetch failed | topic=%s partition=%d leader=%d err=%s",
                 part->topic->name, part->id, rs->leader, gn_strerror(rc));
        rs->retry_at = now + RETRY_MS;
        return;
    }
    if (rawlen > 0) {
        int64_t leo = gn_log_end_offset(part->log);
        uint8_t *copy = malloc(rawlen);
        gn_log_append_info_t info;
        int64_t base = -1;
        if (rawlen >= 8) {
            base = 0;
            for (int i = 0; i < 8; i++)
                base = base << 8 | raw[i];
        }
        if (!copy || base != leo) {
            GN_WARN("replica",
                    "fetched batches do not start at the log end | topic=%s "
                    "partition=%d base=%lld log_end=%lld",
                    part->topic->name, part->id, (long long)base, (long long)leo);
            free(copy);
            rs->retry_at = now + RETRY_MS;
            return;
        }
        memcpy(copy, raw, rawlen);
        rc = gn_log_append(part->log, copy, rawlen, gn_now_ms(), &info);
        if (rc == 0) gn__producer_state_update(&part->producers, copy, rawlen, gn_now_ms());
        free(copy);
        if (rc < 0) {
            GN_ERROR("replica", "follower append failed | topic=%s partition=%d err=%s",
                     part->topic->name, part->id, gn_strerror(rc));
            rs->retry_at = now + RETRY_MS;
            return;
        }
    }
    int64_t hw = json_integer_value(json_object_get(resp, "hw"));
    int64_t leo = gn_log_end_offset(part->log), before = rs->hw;
    rs->hw = hw < leo ? hw : leo;
    /* readers here (gateway subscribers, watches, append observers) see what is committed */
    if (rs->hw > before && (part->watches || rs->m->broker->nappend_observers))
        gn__defer(rs->m->broker, &part->watch_task);
    start_fetch(rs); /* at once: the leader learns our new log end from it */
}

/* Cuts the log at to (when below its end); done: the next call is a fetch. */
static int cut(gn__replica_t *rs, int64_t to, const char *why, bool done)
{
    gn_partition_t *part = rs->part;
    int64_t leo = gn_log_end_offset(part->log);
    if (to < leo) {
        GN_INFO("replica",
                "follower: truncating a divergent tail | topic=%s partition=%d leader=%d "
                "leader_epoch=%d from=%lld to=%lld by=%s",
                part->topic->name, part->id, rs->leader, rs->epoch, (long long)leo, (long long)to,
                why);
        int rc = gn_log_truncate(part->log, to);
        if (rc < 0) {
            GN_ERROR("replica", "truncation failed | topic=%s partition=%d err=%s",
                     part->topic->name, part->id, gn_strerror(rc));
            rs->retry_at = uv_now(rs->m->broker->loop) + RETRY_MS;
            return rc;
        }
    }
    if (rs->hw > gn_log_end_offset(part->log)) rs->hw = gn_log_end_offset(part->log);
    if (done) rs->truncating = false;
    return 0;
}

/* The leader's end of our latest epoch (KIP-279): cut what diverges, ask again when the
 * leader answered with an epoch we do not know. */
static void on_epoch_end(void *arg, int status, const json_t *resp, const uint8_t *raw,
                         size_t rawlen)
{
    gn__replica_t *rs = arg;
    rs->fetching = false;
    if (!rs->part) { /* closed meanwhile */
        free_rs(rs);
        return;
    }
    if (stale_answer(rs)) return;
    gn_partition_t *part = rs->part;
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    if (rc < 0) {
        GN_DEBUG("replica", "epoch lookup failed | topic=%s partition=%d leader=%d err=%s",
                 part->topic->name, part->id, rs->leader, gn_strerror(rc));
        rs->retry_at = uv_now(rs->m->broker->loop) + RETRY_MS;
        return;
    }
    int32_t leader_epoch = (int32_t)json_integer_value(json_object_get(resp, "epoch"));
    int64_t leader_end = json_integer_value(json_object_get(resp, "end_offset"));
    if (leader_end < 0) { /* the leader knows nothing of our epochs: what may be uncommitted */
        rc = cut(rs, rs->hw, "high watermark", true);
    } else {
        int32_t f_epoch;
        int64_t f_end, to;
        gn_log_end_offset_for_epoch(part->log, leader_epoch, &f_epoch, &f_end);
        bool done = gn__epoch_divergence(gn_log_end_offset(part->log), leader_epoch, leader_end,
                                         f_epoch, f_end, &to);
        rc = cut(rs, to, "leader epoch", done || ++rs->truncate_steps >= GN_EPOCH_STEPS_MAX);
    }
    if (rc == 0) start_fetch(rs);
}

static void start_epoch_end(gn__replica_t *rs)
{
    gn_replica_mgr_t *m = rs->m;
    int32_t latest = gn_log_latest_epoch(rs->part->log);
    if (latest < 0) { /* a log without epochs (written before them): Kafka's fallback */
        if (cut(rs, rs->hw, "high watermark", true) == 0) start_fetch(rs);
        return;
    }
    json_t *req = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "op", "epoch_end", "topic",
                            rs->part->topic->name, "partition", rs->part->id, "epoch", latest,
                            "replica", self_id(m), "leader_epoch", rs->epoch);
    if (req && gn__rpc_call(rs->cli, req, NULL, 0, FETCH_WAIT_MS * 4, on_epoch_end, rs) == 0)
        sent(rs);
    else
        rs->retry_at = uv_now(m->broker->loop) + RETRY_MS;
    json_decref(req);
}

static void start_fetch(gn__replica_t *rs)
{
    gn_replica_mgr_t *m = rs->m;
    if (rs->fetching || !rs->part || rs->leader < 0 || rs->leader == self_id(m)) return;
    if (uv_now(m->broker->loop) < rs->retry_at) return;
    char key[16];
    snprintf(key, sizeof(key), "%d", rs->leader);
    const json_t *b =
        json_object_get(json_object_get(gn__cluster_image(m->broker->cluster), "brokers"), key);
    const char *addr = json_string_value(json_object_get(b, "listener"));
    if (!addr || !addr[0]) {
        GN_DEBUG("replica", "leader has no listener yet | leader=%d", rs->leader);
        rs->retry_at = uv_now(m->broker->loop) + RETRY_MS;
        return;
    }
    if (rs->cli && strcmp(gn__rpc_client_address(rs->cli), addr) != 0) {
        gn__rpc_client_free(rs->cli); /* no fetch in flight here */
        rs->cli = NULL;
    }
    if (!rs->cli) rs->cli = gn__rpc_client_new(m->broker->loop, addr, m->broker->cfg.cluster_tls);
    if (!rs->cli) {
        rs->retry_at = uv_now(m->broker->loop) + RETRY_MS;
        return;
    }
    if (rs->truncating) {
        start_epoch_end(rs);
        return;
    }
    json_t *req = json_pack("{s:s, s:s, s:i, s:I, s:i, s:i, s:I}", "op", "fetch", "topic",
                            rs->part->topic->name, "partition", rs->part->id, "offset",
                            (json_int_t)gn_log_end_offset(rs->part->log), "replica", self_id(m),
                            "leader_epoch", rs->epoch, "hw", (json_int_t)rs->hw);
    if (req && gn__rpc_call(rs->cli, req, NULL, 0, FETCH_WAIT_MS * 4, on_fetched, rs) == 0)
        sent(rs);
    else
        rs->retry_at = uv_now(m->broker->loop) + RETRY_MS;
    json_decref(req);
}

/* ---- roles from the image ---- */

static bool holds_replica(const gn_cluster_partition_t *cp, int32_t node)
{
    for (size_t i = 0; i < cp->nreplicas; i++)
        if (cp->replicas[i] == node) return true;
    return false;
}

static void refresh(gn_replica_mgr_t *m, gn_partition_t *part)
{
    gn_cluster_partition_t cp;
    if (gn_cluster_partition(m->broker, part->topic->name, part->id, &cp) < 0) return;
    gn__replica_t *rs = part->replica;
    if (!rs && cp.nreplicas <= 1) return; /* not replicated: the log end is the watermark */
    if (!rs && !holds_replica(&cp, self_id(m))) return; /* not ours: never fetch or join the ISR */
    if (!rs) {
        rs = calloc(1, sizeof(*rs));
        if (!rs) return;
        rs->m = m;
        rs->part = part;
        rs->wake.run = wake_run;
        rs->leader = -2;
        rs->epoch = -1;
        /* the durable part of the log is all we know to be committed */
        rs->hw = gn_log_recovery_point(part->log);
        if (rs->hw > gn_log_end_offset(part->log)) rs->hw = gn_log_end_offset(part->log);
        part->replica = rs;
        rs->next = m->all;
        if (m->all) m->all->prev = rs;
        m->all = rs;
    }
    int32_t self = self_id(m);
    bool was_leader = rs->leader == self;
    bool changed = cp.leader != rs->leader || cp.leader_epoch != rs->epoch;
    rs->nisr = cp.nisr;
    memcpy(rs->isr, cp.isr, cp.nisr * sizeof(cp.isr[0]));
    if (changed) {
        rs->leader = cp.leader;
        rs->epoch = cp.leader_epoch;
        if (cp.leader == self) {
            GN_INFO("replica", "leader | topic=%s partition=%d leader_epoch=%d isr=%zu",
                    part->topic->name, part->id, cp.leader_epoch, cp.nisr);
            /* the new epoch starts at our log end (Kafka's makeLeader) */
            gn_log_assign_epoch(part->log, cp.leader_epoch, gn_log_end_offset(part->log));
            rs->nfol = 0; /* every follower reports its log end afresh */
            uint64_t now = uv_now(m->broker->loop);
            for (size_t i = 0; i < cp.nisr; i++)
                if (cp.isr[i] != self) {
                    follower_t *f = follower(rs, cp.isr[i]);
                    if (f) f->caught_up_ms = f->fetched_ms = now;
                }
        } else {
            if (was_leader) {
                fire_waits(rs, true, GN_ENOTLEADER);
                unpark(rs, false, GN_ENOTLEADER);
            }
            /* a new leader (or a restart): ask it where our log diverges before fetching
             * (KIP-101/KIP-279); a fetch or lookup in flight is answered by the old one
             * and its answer ignored (start_fetch asks again) */
            rs->truncating = true;
            rs->truncate_steps = 0;
            rs->retry_at = 0;
        }
    }
    if (rs->leader == self)
        advance_hw(rs); /* an ISR that shrank may release waiters */
    else if (holds_replica(&cp, self))
        start_fetch(rs);
}

static void refresh_all(gn_replica_mgr_t *m)
{
    gn_broker_t *broker = m->broker;
    for (size_t i = 0; i < broker->ntopics; i++) {
        gn_topic_t *topic = broker->topics[i];
        for (int32_t p = 0; p < topic->partitions; p++)
            refresh(m, topic->parts[p]);
    }
}

static void on_record(void *arg, const json_t *rec)
{
    gn_replica_mgr_t *m = arg;
    refresh_all(m);
    gn__remote_image_changed(m->broker->remote); /* remote reads follow leaders too */
}

static void on_tick(uv_timer_t *t)
{
    gn_replica_mgr_t *m = t->data;
    uint64_t now = uv_now(m->broker->loop);
    int64_t lag = m->broker->cfg.replica_lag_time_max_ms;
    int32_t self = self_id(m);
    for (gn__replica_t *rs = m->all; rs; rs = rs->next) {
        if (!rs->part) continue;
        if (rs->leader != self) {
            start_fetch(rs);
            continue;
        }
        if (rs->parked) unpark(rs, true, 0);
        /* followers that have not caught up for replica.lag.time.max.ms leave the ISR */
        int32_t keep[GN_CLUSTER_REPLICAS_MAX];
        size_t n = 0;
        for (size_t i = 0; i < rs->nisr; i++) {
            follower_t *f = rs->isr[i] == self ? NULL : follower(rs, rs->isr[i]);
            if (f && now - f->caught_up_ms > (uint64_t)lag) {
                GN_WARN("replica",
                        "follower lagging: shrinking ISR | topic=%s partition=%d "
                        "replica=%d",
                        rs->part->topic->name, rs->part->id, rs->isr[i]);
                continue;
            }
            keep[n++] = rs->isr[i];
        }
        if (n < rs->nisr) propose_isr(rs, keep, n);
    }
}

/* ---- the API ---- */

/* The leader, its epoch and the ISR size as this broker's image has them (the metadata
 * lease is checked by the callers). */
static void leadership(const gn_partition_t *part, int32_t *leader, int32_t *epoch, size_t *nisr)
{
    gn_broker_t *broker = part->broker;
    *leader = broker->cfg.node_id;
    *epoch = -1;
    *nisr = 1;
    if (part->replica) {
        *leader = part->replica->leader;
        *epoch = part->replica->epoch;
        *nisr = part->replica->nisr;
    } else if (broker->cluster) {
        gn_cluster_partition_t cp;
        if (gn_cluster_partition(broker, part->topic->name, part->id, &cp) == 0) {
            *leader = cp.leader;
            *epoch = cp.leader_epoch;
            *nisr = cp.nisr;
        } else if (gn_cluster_replicated(broker)) {
            *leader = -1; /* created here, not applied yet: the real leader may be another */
        }
    }
}

int gn__replica_leader_epoch(const gn_partition_t *part, int32_t *epoch)
{
    int32_t leader;
    size_t nisr;
    leadership(part, &leader, epoch, &nisr);
    /* without the lease it may have been fenced and replaced unaware: no stale reads */
    return leader == part->broker->cfg.node_id && gn__controller_lease_ok(part->broker->controller)
               ? 0
               : GN_ENOTLEADER;
}

int gn__replica_check_produce(gn_partition_t *part, gn_acks_t acks, int32_t *leader_epoch)
{
    gn_broker_t *broker = part->broker;
    int32_t leader;
    size_t nisr;
    leadership(part, &leader, leader_epoch, &nisr);
    if (part->replica) {
        gn__replica_t *rs = part->replica;
        if (leader == broker->cfg.node_id && acks == GN_ACKS_ALL) {
            /* the ISR of the image, less followers silent for a broker session: without a
             * controller majority the image cannot shrink, yet acks=all must not wait on
             * brokers that are gone (Kafka's leader shrinks its ISR itself) */
            uint64_t now = uv_now(broker->loop);
            nisr = 0;
            for (size_t i = 0; i < rs->nisr; i++) {
                follower_t *f = rs->isr[i] == leader ? NULL : follower(rs, rs->isr[i]);
                if (rs->isr[i] == leader ||
                    (f && now - f->fetched_ms <= (uint64_t)broker->cfg.broker_session_timeout_ms))
                    nisr++;
            }
        }
    }
    if (leader != broker->cfg.node_id) return GN_ENOTLEADER;
    /* before the lease: with its followers gone the answer is the same either way */
    if (acks == GN_ACKS_ALL && (int64_t)nisr < part->topic->config.min_insync_replicas)
        return GN_ENOT_ENOUGH_REPLICAS;
    if (!gn__controller_lease_ok(broker->controller)) return GN_ENOTLEADER;
    return 0;
}

int gn__replica_await(gn_partition_t *part, int64_t end, gn__task_t *task, int *status)
{
    gn__replica_t *rs = part->replica;
    if (!rs || rs->leader != part->broker->cfg.node_id) return 1;
    advance_hw(rs);
    if (rs->hw >= end) return 1;
    hw_wait_t *w = malloc(sizeof(*w));
    if (!w) return 1;
    *w = (hw_wait_t){end, task, status, rs->waits};
    rs->waits = w;
    return 0;
}

int64_t gn__replica_high_watermark(const gn_partition_t *part)
{
    const gn__replica_t *rs = part->replica;
    int64_t leo = gn_log_end_offset(part->log);
    if (!rs) return leo;
    if (rs->leader == part->broker->cfg.node_id && rs->nisr <= 1) return leo;
    return rs->hw < leo ? rs->hw : leo;
}

void gn__replica_partition_closed(gn_partition_t *part, int status)
{
    gn__replica_t *rs = part->replica;
    if (!rs) return;
    part->replica = NULL;
    gn__defer_cancel(part->broker, &rs->wake);
    fire_waits(rs, true, status);
    unpark(rs, false, status);
    gn_replica_mgr_t *m = rs->m;
    if (rs->prev)
        rs->prev->next = rs->next;
    else
        m->all = rs->next;
    if (rs->next) rs->next->prev = rs->prev;
    rs->part = NULL;
    gn_rpc_client_t *cli = rs->cli;
    rs->cli = NULL;
    bool fetching = rs->fetching;
    if (!fetching) free_rs(rs);
    gn__rpc_client_free(cli); /* a fetch in flight answers GN_ESHUTDOWN and frees rs */
}

int gn__replica_open(gn_broker_t *broker, gn_replica_mgr_t **out)
{
    gn_replica_mgr_t *m = calloc(1, sizeof(*m));
    if (!m) return GN_ENOMEM;
    m->broker = broker;
    gn_rpc_server_t *srv = gn__controller_rpc(broker->controller);
    if (srv) {
        gn__rpc_server_handle(srv, "fetch", handle_fetch, m);
        gn__rpc_server_handle(srv, "epoch_end", handle_epoch_end, m);
    }
    gn__controller_on_apply(broker->controller, on_record, m);
    gn_broker_observe_appends(broker, on_append, m);
    uv_timer_init(broker->loop, &m->timer);
    m->timer.data = m;
    uv_timer_start(&m->timer, on_tick, TICK_MS, TICK_MS);
    refresh_all(m);
    *out = m;
    return 0;
}

static void on_mgr_timer_closed(uv_handle_t *h)
{
    gn_replica_mgr_t *m = h->data;
    m->timer_closed = true;
    mgr_maybe_free(m);
}

void gn__replica_close(gn_replica_mgr_t *m)
{
    if (!m) return;
    m->closing = true;
    gn_broker_unobserve_appends(m->broker, on_append, m);
    gn__controller_on_apply(m->broker->controller, NULL, NULL);
    while (m->all)
        gn__replica_partition_closed(m->all->part, GN_ESHUTDOWN);
    uv_close((uv_handle_t *)&m->timer, on_mgr_timer_closed);
}
