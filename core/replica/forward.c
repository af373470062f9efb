/* SPDX-License-Identifier: Apache-2.0 */
/* Produce forwarding (forward.h). The gateways (MQTT, REST, WebSocket) hold sessions on
 * one broker and produce to every partition of a topic; a partition led by another
 * broker gets its batches over the internal RPC:
 *
 *   request  {"op":"produce", "topic", "partition", "leader_epoch", "acks":[a...],
 *             "lens":[n...]} + the batches one after the other (raw bytes)
 *   answer   {"results":[{"status","base","last","lat","lso","durable","dup"}...]}
 *
 * Each partition has a FIFO queue here; one request per partition is in flight (up to
 * FWD_BATCH_MAX entries of it), so records keep their order. A peer takes at most
 * FWD_PEER_INFLIGHT requests at once; the rest wait for its answers. A request that
 * fails for the transport (connection lost, FWD_TIMEOUT_MS) or is refused with
 * GN_ENOTLEADER is sent once more, to the leader the metadata image names next (or to the
 * same one once a broker session has passed without a change); a second failure
 * completes its entries with GN_ETIMEOUT (the leader could not be reached) or
 * GN_ENOTLEADER. Such a resend may append a batch twice when the first leader appended it
 * but died before answering (at least once, as a Kafka producer's retry without
 * idempotence). Completions always run on a later loop turn (gn__defer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cluster/cluster.h"
#include "cluster/controller.h"
#include "cluster/rpc.h"
#include "ganglion/cluster.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "replica/forward.h"
#include "replica/replica.h"
#include "topic/topic_internal.h"

#define FWD_TIMEOUT_MS      30000 /* one request: Kafka's request.timeout.ms */
#define FWD_PEER_INFLIGHT   64    /* requests in flight to one broker */
#define FWD_QUEUE_MAX       4096  /* entries queued for one partition */
#define FWD_QUEUE_BYTES     (64u << 20)
#define FWD_BATCH_MAX       64 /* entries in one request */
#define FWD_BATCH_BYTES     (4u << 20)
#define FWD_TICK_MS         100
#define FWD_SERVE_MAX       1024 /* entries a served request may carry */
#define FWD_RESEND_SLACK_MS 2000

typedef struct entry {
    gn__task_t task; /* the completion, deferred */
    struct entry *next;
    gn_acks_t acks;
    gn_produce_cb cb;
    void *arg;
    int status;
    gn_produce_result_t res;
    size_t len;
    uint8_t data[];
} entry_t;

typedef struct peer {
    int32_t id;
    gn_rpc_client_t *cli;
    int inflight;
    struct peer *next;
} peer_t;

typedef struct fqueue {
    gn_forwarder_t *f;
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
    entry_t *head, *tail;
    size_t n, bytes;
    size_t nsent;  /* the first nsent entries are in flight */
    bool inflight; /* a request is out (answer pending) */
    bool resent;   /* the entries in flight are a resend already */
    bool waiting;  /* for a new leader before the resend */
    int32_t sent_to, sent_epoch;
    uint64_t resend_at; /* the same leader again after this (uv_now) */
    int last_err;
    struct fqueue *prev, *next;
} fqueue_t;

struct gn_forwarder {
    gn_broker_t *broker;
    fqueue_t *queues;
    peer_t *peers;
    uv_timer_t timer;
    int answers; /* requests whose answer (or failure) is still to come */
    bool closing, timer_closed;
};

static void pump(fqueue_t *q);

static void forwarder_maybe_free(gn_forwarder_t *f)
{
    if (f->closing && f->timer_closed && f->answers == 0) free(f);
}

/* ---- completions ---- */

static void entry_run(gn__task_t *task)
{
    entry_t *e = (entry_t *)task;
    if (e->cb) e->cb(e->arg, e->status, e->status < 0 ? NULL : &e->res);
    free(e);
}

static void complete(gn_broker_t *broker, entry_t *e, int status, const gn_produce_result_t *res)
{
    e->task.run = entry_run;
    e->status = status;
    if (res) e->res = *res;
    gn__defer(broker, &e->task);
}

static entry_t *pop(fqueue_t *q)
{
    entry_t *e = q->head;
    q->head = e->next;
    if (!q->head) q->tail = NULL;
    q->n--;
    q->bytes -= e->len;
    return e;
}

/* Completes the first n entries with status. */
static void fail_first(fqueue_t *q, size_t n, int status)
{
    while (n-- > 0 && q->head)
        complete(q->f->broker, pop(q), status, NULL);
}

/* ---- queues and peers ---- */

static fqueue_t *queue_find(gn_forwarder_t *f, const char *topic, int32_t partition)
{
    for (fqueue_t *q = f->queues; q; q = q->next)
        if (q->partition == partition && strcmp(q->topic, topic) == 0) return q;
    return NULL;
}

static void queue_free(fqueue_t *q)
{
    gn_forwarder_t *f = q->f;
    if (q->prev)
        q->prev->next = q->next;
    else
        f->queues = q->next;
    if (q->next) q->next->prev = q->prev;
    free(q);
}

static peer_t *peer_get(gn_forwarder_t *f, int32_t id)
{
    for (peer_t *p = f->peers; p; p = p->next)
        if (p->id == id) return p;
    peer_t *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->id = id;
    p->next = f->peers;
    f->peers = p;
    return p;
}

/* The peer's RPC client at its current internal listener (NULL: none registered). */
static gn_rpc_client_t *peer_client(gn_forwarder_t *f, peer_t *p)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", p->id);
    const json_t *b =
        json_object_get(json_object_get(gn__cluster_image(f->broker->cluster), "brokers"), key);
    const char *addr = json_string_value(json_object_get(b, "listener"));
    if (!addr || !addr[0]) return NULL;
    if (p->cli && strcmp(gn__rpc_client_address(p->cli), addr) != 0 && p->inflight == 0) {
        gn__rpc_client_free(p->cli);
        p->cli = NULL;
    }
    if (!p->cli) p->cli = gn__rpc_client_new(f->broker->loop, addr);
    return p->cli;
}

/* Queues waiting for capacity at this peer get another chance. */
static void kick_peer(gn_forwarder_t *f, int32_t id)
{
    for (fqueue_t *q = f->queues, *nx; q; q = nx) {
        nx = q->next;
        if (!q->inflight && !q->waiting && q->head) {
            gn_cluster_partition_t cp;
            if (gn_cluster_partition(f->broker, q->topic, q->partition, &cp) == 0 &&
                cp.leader == id)
                pump(q);
        }
    }
}

/* ---- the forwarding side ---- */

/* The leader is this broker now: the queue drains into the local log, in order. */
static void drain_local(fqueue_t *q)
{
    gn_broker_t *broker = q->f->broker;
    gn_partition_t *part = gn_partition_get(broker, q->topic, q->partition);
    while (q->head) {
        entry_t *e = pop(q);
        int rc = part ? gn__produce_local(part, e->data, e->len, e->acks, e->cb, e->arg)
                      : GN_EUNKNOWN_TOPIC;
        if (rc < 0)
            complete(broker, e, rc, NULL);
        else
            free(e);
    }
}

static void give_up(fqueue_t *q, int err)
{
    int status = err == GN_ENOTLEADER ? GN_ENOTLEADER : GN_ETIMEOUT;
    GN_WARN("replica",
            "produce forward failed: leader unreachable | topic=%s partition=%d leader=%d "
            "batches=%zu err=%s",
            q->topic, q->partition, q->sent_to, q->nsent ? q->nsent : q->n, gn_err_name(err));
    fail_first(q, q->nsent ? q->nsent : q->n, status);
    q->nsent = 0;
    q->resent = false;
    q->waiting = false;
}

static void on_answer(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen);

static void send_request(fqueue_t *q, peer_t *p, int32_t epoch)
{
    gn_forwarder_t *f = q->f;
    gn_rpc_client_t *cli = peer_client(f, p);
    size_t n = 0, bytes = 0;
    for (entry_t *e = q->head; e && n < FWD_BATCH_MAX; e = e->next) {
        if (n > 0 && bytes + e->len > FWD_BATCH_BYTES) break;
        n++;
        bytes += e->len;
    }
    json_t *acks = json_array(), *lens = json_array();
    uint8_t *raw = malloc(bytes ? bytes : 1);
    size_t off = 0, i = 0;
    for (entry_t *e = q->head; raw && acks && lens && i < n; e = e->next, i++) {
        json_array_append_new(acks, json_integer(e->acks));
        json_array_append_new(lens, json_integer((json_int_t)e->len));
        memcpy(raw + off, e->data, e->len);
        off += e->len;
    }
    json_t *req = acks && lens ? json_pack("{s:s, s:s, s:i, s:i, s:O, s:O}", "op", "produce",
                                           "topic", q->topic, "partition", q->partition,
                                           "leader_epoch", epoch, "acks", acks, "lens", lens)
                               : NULL;
    int rc = !cli ? GN_EIO : !req || !raw ? GN_ENOMEM : 0;
    if (rc == 0) rc = gn__rpc_call(cli, req, raw, bytes, FWD_TIMEOUT_MS, on_answer, q);
    json_decref(req);
    json_decref(acks);
    json_decref(lens);
    free(raw);
    q->nsent = n;
    q->sent_to = p->id;
    q->sent_epoch = epoch;
    if (rc == 0) {
        q->inflight = true;
        p->inflight++;
        f->answers++;
        return;
    }
    /* not sent: the same path as a lost connection */
    q->last_err = rc;
    if (rc == GN_ENOMEM || q->resent) {
        give_up(q, rc);
        return;
    }
    q->resent = true;
    q->waiting = true;
    q->resend_at = uv_now(f->broker->loop) + (uint64_t)f->broker->cfg.broker_session_timeout_ms +
                   FWD_RESEND_SLACK_MS;
}

/* A topic this broker is creating, not in the image yet: it has no leader until the
 * metadata log decides the creation (the batches then go to the incarnation it kept). */
static bool creating(gn_forwarder_t *f, const char *topic)
{
    gn_topic_t *t = gn__topic_find(f->broker, topic);
    return t && t->creating;
}

/* No leader now: wait (on_tick) for one, at most a broker session. */
static void wait_for_leader(fqueue_t *q, int32_t epoch)
{
    gn_forwarder_t *f = q->f;
    q->nsent = 0;
    q->last_err = GN_ENOTLEADER;
    q->sent_to = -1;
    q->sent_epoch = epoch;
    q->waiting = true;
    q->resend_at = uv_now(f->broker->loop) + (uint64_t)f->broker->cfg.broker_session_timeout_ms +
                   FWD_RESEND_SLACK_MS;
}

/* Sends the head of the queue to the partition's leader, or drains it locally when this
 * broker leads now; frees the queue once empty. */
static void pump(fqueue_t *q)
{
    gn_forwarder_t *f = q->f;
    if (q->inflight || q->waiting || f->closing) return;
    if (!q->head) {
        queue_free(q);
        return;
    }
    gn_cluster_partition_t cp;
    if (gn_cluster_partition(f->broker, q->topic, q->partition, &cp) < 0) {
        if (creating(f, q->topic)) {
            wait_for_leader(q, -1);
            return;
        }
        fail_first(q, q->n, GN_EUNKNOWN_TOPIC);
        queue_free(q);
        return;
    }
    if (cp.leader == f->broker->cfg.node_id) {
        drain_local(q);
        q->resent = false;
        queue_free(q);
        return;
    }
    if (cp.leader < 0) { /* offline: wait for an election, as after a failure */
        wait_for_leader(q, cp.leader_epoch);
        return;
    }
    peer_t *p = peer_get(f, cp.leader);
    if (!p) {
        give_up(q, GN_ENOMEM);
        pump(q);
        return;
    }
    if (p->inflight >= FWD_PEER_INFLIGHT) return; /* kick_peer resumes it */
    send_request(q, p, cp.leader_epoch);
}

static bool retriable(int err)
{
    return err == GN_EIO || err == GN_ETIMEOUT || err == GN_ENOTLEADER || err == GN_ESHUTDOWN;
}

static void result_of(const json_t *r, gn_produce_result_t *res, int *status)
{
    *status = (int)json_integer_value(json_object_get(r, "status"));
    *res = (gn_produce_result_t){
        .base_offset = json_integer_value(json_object_get(r, "base")),
        .last_offset = json_integer_value(json_object_get(r, "last")),
        .log_append_time = json_integer_value(json_object_get(r, "lat")),
        .log_start_offset = json_integer_value(json_object_get(r, "lso")),
        .durable = json_is_true(json_object_get(r, "durable")),
        .duplicate = json_is_true(json_object_get(r, "dup")),
    };
}

static void on_answer(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    fqueue_t *q = arg;
    gn_forwarder_t *f = q->f;
    (void)raw;
    (void)rawlen;
    f->answers--;
    q->inflight = false;
    if (f->closing) { /* gn__forward_close: its peers are gone, the queue goes next */
        fail_first(q, q->nsent, GN_ESHUTDOWN);
        q->nsent = 0;
        forwarder_maybe_free(f);
        return;
    }
    peer_t *p = peer_get(f, q->sent_to);
    if (p) p->inflight--;
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    const json_t *results = resp ? json_object_get(resp, "results") : NULL;
    if (rc == 0 && json_array_size(results) == q->nsent) {
        for (size_t i = 0; i < q->nsent; i++) {
            gn_produce_result_t res;
            int st;
            result_of(json_array_get(results, i), &res, &st);
            complete(f->broker, pop(q), st, st < 0 ? NULL : &res);
        }
        q->nsent = 0;
        q->resent = false;
    } else if (rc == 0 || !retriable(rc)) {
        fail_first(q, q->nsent, rc == 0 ? GN_EINVALID_REQUEST : rc);
        q->nsent = 0;
        q->resent = false;
    } else if (q->resent) {
        q->last_err = rc;
        give_up(q, rc);
    } else {
        GN_INFO("replica",
                "produce forward failed; resending once the leader is known | topic=%s "
                "partition=%d leader=%d err=%s",
                q->topic, q->partition, q->sent_to, gn_err_name(rc));
        q->last_err = rc;
        q->resent = true;
        q->waiting = true;
        q->resend_at = uv_now(f->broker->loop) +
                       (uint64_t)f->broker->cfg.broker_session_timeout_ms + FWD_RESEND_SLACK_MS;
    }
    int32_t peer_id = q->sent_to;
    pump(q); /* may free q */
    kick_peer(f, peer_id);
}

/* Queues waiting after a failure: resend once the image names another leader (or a
 * later epoch), or to the same one after a broker session (it was not fenced, so it
 * lives); give up when the partition stays offline. */
static void on_tick(uv_timer_t *t)
{
    gn_forwarder_t *f = t->data;
    uint64_t now = uv_now(f->broker->loop);
    for (fqueue_t *q = f->queues, *nx; q; q = nx) {
        nx = q->next;
        if (!q->waiting) continue;
        gn_cluster_partition_t cp;
        if (gn_cluster_partition(f->broker, q->topic, q->partition, &cp) < 0) {
            if (creating(f, q->topic) && now < q->resend_at) continue;
            if (creating(f, q->topic)) give_up(q, GN_ENOTLEADER);
            q->waiting = false;
            pump(q); /* fails the queue */
            continue;
        }
        bool moved = cp.leader >= 0 && (cp.leader != q->sent_to || cp.leader_epoch > q->sent_epoch);
        if (moved || (now >= q->resend_at && cp.leader >= 0)) {
            q->waiting = false;
            pump(q);
        } else if (now >= q->resend_at) {
            give_up(q, q->last_err);
            pump(q);
        }
    }
}

bool gn__forward_busy(gn_forwarder_t *f, const gn_partition_t *part)
{
    return f && f->queues && queue_find(f, part->topic->name, part->id) != NULL;
}

int gn__forward_produce(gn_forwarder_t *f, gn_partition_t *part, const uint8_t *batches, size_t len,
                        gn_acks_t acks, gn_produce_cb cb, void *arg)
{
    if (f->closing) return GN_ESHUTDOWN;
    fqueue_t *q = queue_find(f, part->topic->name, part->id);
    if (!q) {
        gn_cluster_partition_t cp;
        if (gn_cluster_partition(f->broker, part->topic->name, part->id, &cp) < 0) {
            if (!part->topic->creating) return GN_EUNKNOWN_TOPIC;
        } else if (cp.leader < 0) {
            return GN_ENOTLEADER;
        }
    } else if (q->n >= FWD_QUEUE_MAX || q->bytes + len > FWD_QUEUE_BYTES) {
        GN_WARN("replica", "produce forward queue full | topic=%s partition=%d queued=%zu",
                q->topic, q->partition, q->n);
        return GN_ENOMEM;
    }
    entry_t *e = malloc(sizeof(*e) + len);
    if (!e) return GN_ENOMEM;
    memset(e, 0, sizeof(*e));
    e->acks = acks;
    e->cb = cb;
    e->arg = arg;
    e->len = len;
    memcpy(e->data, batches, len);
    if (!q) {
        q = calloc(1, sizeof(*q));
        if (!q) {
            free(e);
            return GN_ENOMEM;
        }
        q->f = f;
        snprintf(q->topic, sizeof(q->topic), "%s", part->topic->name);
        q->partition = part->id;
        q->next = f->queues;
        if (f->queues) f->queues->prev = q;
        f->queues = q;
    }
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->n++;
    q->bytes += len;
    pump(q); /* sends (answers come later) or drains locally (completions deferred) */
    return 0;
}

/* ---- the leader's side ---- */

typedef struct serve serve_t;
typedef struct serve_slot {
    serve_t *s;
    size_t i;
} serve_slot_t;

struct serve {
    gn_rpc_call_t *call;
    json_t *results;
    size_t left;
    serve_slot_t slots[];
};

static void serve_done_one(serve_t *s)
{
    if (--s->left > 0) return;
    json_t *resp = json_pack("{s:O}", "results", s->results);
    gn__rpc_reply(s->call, resp ? 0 : GN_ENOMEM, resp, NULL, 0);
    json_decref(resp);
    json_decref(s->results);
    free(s);
}

static void set_result(serve_t *s, size_t i, int status, const gn_produce_result_t *res)
{
    json_t *r =
        res ? json_pack("{s:i, s:I, s:I, s:I, s:I, s:b, s:b}", "status", status, "base",
                        (json_int_t)res->base_offset, "last", (json_int_t)res->last_offset, "lat",
                        (json_int_t)res->log_append_time, "lso", (json_int_t)res->log_start_offset,
                        "durable", res->durable, "dup", res->duplicate)
            : json_pack("{s:i}", "status", status);
    if (r) json_array_set_new(s->results, i, r);
}

static void on_served(void *arg, int status, const gn_produce_result_t *res)
{
    serve_slot_t *slot = arg;
    set_result(slot->s, slot->i, status, status < 0 ? NULL : res);
    serve_done_one(slot->s);
}

static void handle_produce(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                           size_t rawlen)
{
    gn_forwarder_t *f = arg;
    if (f->closing) {
        gn__rpc_reply(call, GN_ESHUTDOWN, NULL, NULL, 0);
        return;
    }
    const char *topic = json_string_value(json_object_get(req, "topic"));
    json_int_t pid = json_integer_value(json_object_get(req, "partition"));
    const json_t *acks = json_object_get(req, "acks"), *lens = json_object_get(req, "lens");
    size_t n = json_array_size(lens), total = 0;
    for (size_t i = 0; i < n; i++) {
        json_int_t l = json_integer_value(json_array_get(lens, i));
        total += l > 0 ? (size_t)l : (size_t)rawlen + 1; /* a bad length fails the check */
    }
    if (!topic || n == 0 || n > FWD_SERVE_MAX || json_array_size(acks) != n || total != rawlen) {
        GN_WARN("replica", "bad produce forward request | topic=%s entries=%zu bytes=%zu",
                topic ? topic : "(none)", n, rawlen);
        gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
        return;
    }
    gn_partition_t *part = gn_partition_get(f->broker, topic, (int32_t)pid);
    if (!part) {
        gn__rpc_reply(call, GN_EUNKNOWN_TOPIC, NULL, NULL, 0);
        return;
    }
    /* never forwarded on from here: a request goes one hop */
    if (!gn_partition_is_leader(part)) {
        gn__rpc_reply(call, GN_ENOTLEADER, NULL, NULL, 0);
        return;
    }
    serve_t *s = malloc(sizeof(*s) + n * sizeof(s->slots[0]));
    uint8_t *copy = malloc(rawlen); /* gn_produce rewrites the batches in place */
    json_t *results = json_array();
    for (size_t i = 0; results && i < n; i++)
        json_array_append_new(results, json_null());
    if (!s || !copy || !results) {
        free(s);
        free(copy);
        json_decref(results);
        gn__rpc_reply(call, GN_ENOMEM, NULL, NULL, 0);
        return;
    }
    memcpy(copy, raw, rawlen);
    s->call = call;
    s->results = results;
    s->left = n + 1; /* + 1: answered after the loop, not from inside it */
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = (size_t)json_integer_value(json_array_get(lens, i));
        json_int_t a = json_integer_value(json_array_get(acks, i));
        s->slots[i] = (serve_slot_t){s, i};
        int rc = gn__produce_local(part, copy + off, l, (gn_acks_t)a, on_served, &s->slots[i]);
        off += l;
        if (rc < 0) {
            set_result(s, i, rc, NULL);
            s->left--;
        }
    }
    free(copy);
    serve_done_one(s);
}

/* ---- open / close ---- */

int gn__forward_open(gn_broker_t *broker, gn_forwarder_t **out)
{
    gn_forwarder_t *f = calloc(1, sizeof(*f));
    if (!f) return GN_ENOMEM;
    f->broker = broker;
    gn_rpc_server_t *srv = broker->controller ? gn__controller_rpc(broker->controller) : NULL;
    if (srv) gn__rpc_server_handle(srv, "produce", handle_produce, f);
    uv_timer_init(broker->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, on_tick, FWD_TICK_MS, FWD_TICK_MS);
    *out = f;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    gn_forwarder_t *f = h->data;
    f->timer_closed = true;
    forwarder_maybe_free(f);
}

void gn__forward_close(gn_forwarder_t *f)
{
    if (!f) return;
    f->closing = true;
    /* in-flight requests answer GN_ESHUTDOWN now (on_answer fails their entries) */
    while (f->peers) {
        peer_t *p = f->peers;
        f->peers = p->next;
        gn__rpc_client_free(p->cli);
        free(p);
    }
    while (f->queues) {
        fqueue_t *q = f->queues;
        fail_first(q, q->n, GN_ESHUTDOWN);
        queue_free(q);
    }
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
