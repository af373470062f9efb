/* SPDX-License-Identifier: Apache-2.0 */
/* Produce forwarding (forward.h). The gateways (MQTT, REST, WebSocket) hold sessions on
 * one broker and produce to every partition of a topic; a partition led by another
 * broker gets its batches over the internal RPC:
 *
 *   request  {"op":"produce", "topic", "partition", "leader_epoch", "acks":[a...],
 *             "lens":[n...]} + the batches one after the other (raw bytes)
 *   answer   {"results":[{"status","base","last","lat","lso","durable","dup"}...]}
 *
 * Each partition has a FIFO queue of entries (one gn_produce each). Up to FWD_INFLIGHT
 * requests of up to FWD_BATCH_MAX entries are in flight per partition, in order on the
 * one connection to the leader, and callers complete in queue order; a full window
 * leaves the rest queued (the callers' acknowledgements wait, which is what holds their
 * clients back), a full queue refuses with GN_ENOMEM. A peer takes FWD_PEER_INFLIGHT
 * requests at once.
 *
 * Idempotent, as Kafka's idempotent producer: the forwarder has a producer id from the
 * broker's blocks (gn_broker_next_producer_id) and each queue its own epoch of it and a
 * sequence; an entry's batches get the producer id, epoch and base sequences (CRC
 * recomputed) when first sent and keep them when sent again, so the leader's producer
 * state answers a batch it already has with its original offsets instead of appending it
 * twice. After a failure nothing new is sent until every request of the queue is back
 * (librdkafka's drain); then entries whose fate is unknown (connection lost, timeout,
 * GN_ENOTLEADER, possibly appended) are sent again with their numbers, once, after the
 * image names another leader or a broker session passed (a second failure completes them
 * with GN_ETIMEOUT or GN_ENOTLEADER), and when the numbering has a hole (an entry refused
 * for good, out of order, fenced) and nothing is in doubt, the queue takes a new epoch
 * and numbers the rest from 0 (librdkafka's epoch bump). Completions always run on a
 * later loop turn (gn__defer). */
#include <inttypes.h>
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
#include "record/wire.h"
#include "replica/forward.h"
#include "replica/replica.h"
#include "topic/producer_state.h"
#include "topic/topic_internal.h"

#define FWD_TIMEOUT_MS      30000 /* one request: Kafka's request.timeout.ms */
#define FWD_INFLIGHT        5     /* requests in flight per partition: Kafka's idempotent max */
#define FWD_PEER_INFLIGHT   64    /* requests in flight to one broker */
#define FWD_QUEUE_MAX       4096  /* entries queued for one partition */
#define FWD_QUEUE_BYTES     (64u << 20)
#define FWD_BATCH_MAX       64 /* entries in one request */
#define FWD_BATCH_BYTES     (4u << 20)
#define FWD_TICK_MS         100
#define FWD_SERVE_MAX       1024 /* entries a served request may carry */
#define FWD_RESEND_SLACK_MS 2000
#define FWD_RESETS_MAX      3 /* new epochs in a row without an entry acknowledged */

enum entry_state {
    E_QUEUED,   /* to be sent (again) */
    E_INFLIGHT, /* in a request whose answer is pending */
    E_DONE,     /* status and result known: completes when it reaches the head */
    E_RETRY,    /* its fate is unknown (possibly appended): resend with the same numbers */
    E_REFUSED,  /* not appended (out of order, fenced): resend, renumbered if need be */
};

typedef struct entry {
    gn__task_t task; /* the completion, deferred */
    struct entry *next;
    gn_acks_t acks;
    gn_produce_cb cb;
    void *arg;
    int status;
    gn_produce_result_t res;
    uint8_t state;
    bool stamped;  /* carries the queue's producer id, epoch and sequences */
    bool in_doubt; /* sent with these numbers and maybe appended */
    bool own_id;   /* a batch has its own producer id: forwarded as it is */
    size_t len;
    uint8_t data[];
} entry_t;

typedef struct peer {
    int32_t id;
    gn_rpc_client_t *cli;
    int inflight;
    struct peer *next;
} peer_t;

typedef struct fqueue fqueue_t;

typedef struct freq { /* one request in flight */
    gn_forwarder_t *f;
    fqueue_t *q; /* gone when f is closing */
    int32_t to;
    size_t n;
    entry_t *ents[FWD_BATCH_MAX];
} freq_t;

struct fqueue {
    gn_forwarder_t *f;
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
    entry_t *head, *tail;
    size_t n, bytes;
    entry_t *cursor; /* the next entry to send; those before it are sent or done */
    int inflight;    /* requests out */
    bool failed;     /* an entry failed: send nothing new until every request is back */
    bool gap;        /* a stamped entry was not appended: its numbers leave a hole */
    bool resent;     /* the entries in doubt were sent twice already */
    bool waiting;    /* for a new leader (or a producer id) before sending again */
    bool pid_wait;   /* waiting for the broker's first producer id block */
    bool idem;       /* entries are stamped (idem_set: decided) */
    bool idem_set;
    int16_t epoch;
    int32_t next_seq;
    int resets;
    int32_t sent_to, sent_epoch;
    uint64_t created, resend_at; /* uv_now */
    int last_err;
    fqueue_t *prev, *next;
};

struct gn_forwarder {
    gn_broker_t *broker;
    fqueue_t *queues;
    peer_t *peers;
    uv_timer_t timer;
    int64_t pid;        /* -1 until the first one */
    int32_t next_epoch; /* of pid; a new pid past INT16_MAX */
    int answers;        /* requests whose answer (or failure) is still to come */
    bool closing, timer_closed, warned_no_pid;
};

static void pump(fqueue_t *q);

static void forwarder_maybe_free(gn_forwarder_t *f)
{
    if (f->closing && f->timer_closed && f->answers == 0) free(f);
}

static uint64_t session_deadline(gn_forwarder_t *f)
{
    return uv_now(f->broker->loop) + (uint64_t)f->broker->cfg.broker_session_timeout_ms +
           FWD_RESEND_SLACK_MS;
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
    if (q->cursor == e) q->cursor = e->next;
    q->n--;
    q->bytes -= e->len;
    return e;
}

/* Completes every entry with status (nothing of the queue is in flight). */
static void fail_all(fqueue_t *q, int status)
{
    while (q->head)
        complete(q->f->broker, pop(q), status, NULL);
}

/* Completes the entries at the head whose outcome is known, in order. */
static void settle(fqueue_t *q)
{
    while (q->head && q->head->state == E_DONE) {
        entry_t *e = pop(q);
        if (e->status == 0) { /* progress: the next failure is a first one again */
            q->resent = false;
            q->resets = 0;
        }
        complete(q->f->broker, e, e->status, e->status < 0 ? NULL : &e->res);
    }
}

/* ---- producer id, epoch and sequences ---- */

/* Kafka's DefaultRecordBatch.incrementSequence: wraps past INT32_MAX to 0. */
static int32_t seq_add(int32_t seq, int32_t inc)
{
    if (seq > INT32_MAX - inc) return inc - (INT32_MAX - seq) - 1;
    return seq + inc;
}

/* Writes producer id, epoch and base sequences into every batch of e (pid -1: none, as
 * built) and recomputes their CRCs. Returns the sequence after e's last record. */
static int32_t stamp(entry_t *e, int64_t pid, int16_t epoch, int32_t seq)
{
    size_t pos = 0;
    while (pos < e->len) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(e->data + pos, e->len - pos, &hdr);
        if (n <= 0) break; /* checked when queued */
        uint8_t *b = e->data + pos;
        gn__put64(b + GN__OFF_PRODUCER_ID, (uint64_t)pid);
        gn__put16(b + GN__OFF_PRODUCER_EPOCH, (uint16_t)(pid < 0 ? -1 : epoch));
        gn__put32(b + GN__OFF_BASE_SEQUENCE, (uint32_t)(pid < 0 ? -1 : seq));
        gn__put32(b + GN__OFF_CRC,
                  gn_crc32c(0, b + GN__OFF_ATTRIBUTES, (size_t)n - GN__OFF_ATTRIBUTES));
        if (pid >= 0) seq = seq_add(seq, hdr.last_offset_delta + 1);
        pos += (size_t)n;
    }
    e->stamped = pid >= 0;
    return seq;
}

/* A new epoch of the forwarder's producer id for q (a new id when none yet or the epochs
 * are used up); sequences restart at 0. 0 or the error of gn_broker_next_producer_id. */
static int new_epoch(fqueue_t *q)
{
    gn_forwarder_t *f = q->f;
    if (f->pid < 0 || f->next_epoch > INT16_MAX) {
        int64_t pid;
        int rc = gn_broker_next_producer_id(f->broker, &pid);
        if (rc < 0) return rc;
        f->pid = pid;
        f->next_epoch = 0;
        GN_DEBUG("replica", "produce forward producer id | id=%" PRId64, pid);
    }
    q->epoch = (int16_t)f->next_epoch++;
    q->next_seq = 0;
    q->idem = q->idem_set = true;
    return 0;
}

/* Whether q stamps its entries: decided once it has an epoch, or when no producer id came
 * within a broker session of the queue's start (then it forwards at least once, warned). */
static bool idem_ready(fqueue_t *q)
{
    gn_forwarder_t *f = q->f;
    if (q->idem_set) return true;
    if (new_epoch(q) == 0) return true;
    if (uv_now(f->broker->loop) <
        q->created + (uint64_t)f->broker->cfg.broker_session_timeout_ms + FWD_RESEND_SLACK_MS) {
        q->waiting = q->pid_wait = true;
        return false;
    }
    if (!f->warned_no_pid)
        GN_WARN("replica",
                "produce forward without a producer id: a resend may append a batch "
                "twice | topic=%s partition=%d",
                q->topic, q->partition);
    f->warned_no_pid = true;
    q->idem = false;
    q->idem_set = true;
    return true;
}

/* Nothing in flight: a new epoch, every entry not done numbered again when sent. */
static void reset_sequence(fqueue_t *q)
{
    int rc = new_epoch(q);
    GN_INFO("replica",
            "produce forward: new producer epoch | topic=%s partition=%d epoch=%d err=%s", q->topic,
            q->partition, q->epoch, rc < 0 ? gn_err_name(rc) : "none");
    if (rc < 0) { /* no id to take: forward the rest at least once */
        q->idem = false;
        q->idem_set = true;
    }
    for (entry_t *e = q->head; e; e = e->next)
        if (e->state != E_DONE && e->stamped) stamp(e, -1, -1, -1);
    q->gap = false;
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
    if (!p->cli) p->cli = gn__rpc_client_new(f->broker->loop, addr, f->broker->cfg.cluster_tls);
    return p->cli;
}

/* Queues waiting for capacity at this peer get another chance. */
static void kick_peer(gn_forwarder_t *f, int32_t id)
{
    for (fqueue_t *q = f->queues, *nx; q; q = nx) {
        nx = q->next;
        if (q->inflight < FWD_INFLIGHT && !q->waiting && !q->failed && q->cursor) {
            gn_cluster_partition_t cp;
            if (gn_cluster_partition(f->broker, q->topic, q->partition, &cp) == 0 &&
                cp.leader == id)
                pump(q);
        }
    }
}

/* ---- the forwarding side ---- */

/* The leader is this broker now and nothing is in flight: the queue drains into the local
 * log, in order. Entries in doubt keep their numbers (the local producer state has what
 * the old leader replicated here); the others go without (a hole would refuse them). */
static void drain_local(fqueue_t *q)
{
    gn_broker_t *broker = q->f->broker;
    gn_partition_t *part = gn_partition_get(broker, q->topic, q->partition);
    while (q->head) {
        entry_t *e = pop(q);
        if (e->state == E_DONE) {
            complete(broker, e, e->status, e->status < 0 ? NULL : &e->res);
            continue;
        }
        if (e->stamped && !e->in_doubt) stamp(e, -1, -1, -1);
        int rc = part ? gn__produce_local(part, e->data, e->len, e->acks, e->cb, e->arg)
                      : GN_EUNKNOWN_TOPIC;
        if (rc < 0)
            complete(broker, e, rc, NULL);
        else
            free(e);
    }
}

/* No leader now: wait (on_tick) for one, at most a broker session. */
static void wait_for_leader(fqueue_t *q, int32_t epoch)
{
    q->last_err = GN_ENOTLEADER;
    q->sent_to = -1;
    q->sent_epoch = epoch;
    q->waiting = true;
    q->resend_at = session_deadline(q->f);
}

static void on_answer(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen);

/* Sends the entries from the cursor on (up to FWD_BATCH_MAX, FWD_BATCH_BYTES), stamping
 * those not numbered yet. 0, 1 (nothing left to send), or an error (nothing sent, the
 * entries stay queued). */
static int send_request(fqueue_t *q, peer_t *p, int32_t epoch)
{
    gn_forwarder_t *f = q->f;
    gn_rpc_client_t *cli = peer_client(f, p);
    freq_t *r = calloc(1, sizeof(*r));
    json_t *acks = json_array(), *lens = json_array();
    size_t bytes = 0;
    entry_t *e = q->cursor;
    for (; r && e && r->n < FWD_BATCH_MAX; e = e->next) {
        if (e->state == E_DONE) continue;
        if (r->n > 0 && bytes + e->len > FWD_BATCH_BYTES) break;
        r->ents[r->n++] = e;
        bytes += e->len;
    }
    if (r && r->n == 0) { /* only completed entries left past the cursor */
        free(r);
        json_decref(acks);
        json_decref(lens);
        q->cursor = NULL;
        return 1;
    }
    uint8_t *raw = r ? malloc(bytes ? bytes : 1) : NULL;
    int rc = !cli ? GN_EIO : !r || !raw || !acks || !lens ? GN_ENOMEM : 0;
    size_t off = 0;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        entry_t *x = r->ents[i];
        if (q->idem && !x->stamped && !x->own_id)
            q->next_seq = stamp(x, q->f->pid, q->epoch, q->next_seq);
        json_array_append_new(acks, json_integer(x->acks));
        json_array_append_new(lens, json_integer((json_int_t)x->len));
        memcpy(raw + off, x->data, x->len);
        off += x->len;
    }
    json_t *req = rc == 0 ? json_pack("{s:s, s:s, s:i, s:i, s:O, s:O}", "op", "produce", "topic",
                                      q->topic, "partition", q->partition, "leader_epoch", epoch,
                                      "acks", acks, "lens", lens)
                          : NULL;
    if (rc == 0 && !req) rc = GN_ENOMEM;
    if (rc == 0) {
        r->f = f;
        r->q = q;
        r->to = p->id;
        rc = gn__rpc_call(cli, req, raw, bytes, FWD_TIMEOUT_MS, on_answer, r);
    }
    json_decref(req);
    json_decref(acks);
    json_decref(lens);
    free(raw);
    if (rc < 0) {
        free(r);
        return rc;
    }
    for (size_t i = 0; i < r->n; i++) {
        r->ents[i]->state = E_INFLIGHT;
        r->ents[i]->in_doubt = r->ents[i]->stamped;
    }
    q->cursor = e;
    q->sent_to = p->id;
    q->sent_epoch = epoch;
    q->inflight++;
    p->inflight++;
    f->answers++;
    return 0;
}

/* A topic this broker is creating, not in the image yet: it has no leader until the
 * metadata log decides the creation (the batches then go to the incarnation it kept). */
static bool creating(gn_forwarder_t *f, const char *topic)
{
    gn_topic_t *t = gn__topic_find(f->broker, topic);
    return t && t->creating;
}

static void resolve(fqueue_t *q);

/* A request could not go out (no listener known for the leader, no memory): as a lost
 * connection for the entries from the cursor on (no memory: they fail at once). */
static void not_sent(fqueue_t *q, int rc)
{
    for (entry_t *e = q->cursor; e; e = e->next)
        if (e->state == E_QUEUED) e->state = E_RETRY;
    q->last_err = rc;
    q->failed = true;
    if (rc == GN_ENOMEM) q->resent = true;
    if (q->inflight == 0) resolve(q);
}

/* Sends what the window allows to the partition's leader, or drains the queue locally
 * when this broker leads now; frees the queue once empty and idle. */
static void pump(fqueue_t *q)
{
    gn_forwarder_t *f = q->f;
    if (q->waiting || q->failed || f->closing) return;
    if (!q->head) {
        if (q->inflight == 0) queue_free(q);
        return;
    }
    if (!q->cursor) return; /* everything is in flight */
    gn_cluster_partition_t cp;
    if (gn_cluster_partition(f->broker, q->topic, q->partition, &cp) < 0) {
        if (q->inflight > 0) return;
        if (creating(f, q->topic)) {
            wait_for_leader(q, -1);
            return;
        }
        fail_all(q, GN_EUNKNOWN_TOPIC);
        queue_free(q);
        return;
    }
    /* a new leader gets nothing before every request to the old one is back */
    if (q->inflight > 0 && (cp.leader != q->sent_to || cp.leader_epoch != q->sent_epoch)) return;
    if (cp.leader == f->broker->cfg.node_id) {
        drain_local(q);
        queue_free(q);
        return;
    }
    if (cp.leader < 0) { /* offline: wait for an election, as after a failure */
        if (q->inflight == 0) wait_for_leader(q, cp.leader_epoch);
        return;
    }
    if (!idem_ready(q)) {
        q->resend_at = session_deadline(f);
        return;
    }
    peer_t *p = peer_get(f, cp.leader);
    while (p && q->cursor && q->inflight < FWD_INFLIGHT && p->inflight < FWD_PEER_INFLIGHT) {
        int rc = send_request(q, p, cp.leader_epoch);
        if (rc == 0) continue;
        if (rc > 0) break;
        not_sent(q, rc);
        return;
    }
    if (!p) not_sent(q, GN_ENOMEM);
}

/* Gives up on the entries in doubt: GN_ENOTLEADER, or GN_ETIMEOUT (the leader could not
 * be reached), or GN_ENOMEM. */
static void give_up(fqueue_t *q)
{
    int err = q->last_err;
    int status = err == GN_ENOTLEADER || err == GN_ENOMEM ? err : GN_ETIMEOUT;
    size_t n = 0;
    for (entry_t *e = q->head; e; e = e->next) {
        if (e->state != E_RETRY && e->state != E_QUEUED) continue;
        if (e->state == E_QUEUED && !q->waiting) continue; /* not part of the failure */
        if (e->stamped) q->gap = true;
        e->state = E_DONE;
        e->status = status;
        n++;
    }
    GN_WARN("replica",
            "produce forward failed: leader unreachable | topic=%s partition=%d leader=%d "
            "batches=%zu err=%s",
            q->topic, q->partition, q->sent_to, n, gn_err_name(err));
    q->resent = false;
    q->waiting = false;
}

/* Every request of a failed round is back: resend what is in doubt (once, after a leader
 * change or a broker session), renumber when the sequence has a hole and nothing is in
 * doubt, complete what is known. */
static void resolve(fqueue_t *q)
{
    size_t doubt = 0, refused = 0;
    q->failed = false;
    for (entry_t *e = q->head; e; e = e->next) {
        doubt += e->state == E_RETRY;
        refused += e->state == E_REFUSED;
    }
    if (doubt > 0 && q->resent) {
        give_up(q);
        doubt = 0;
    } else if (doubt > 0) {
        GN_INFO("replica",
                "produce forward failed; resending once the leader is known | topic=%s "
                "partition=%d leader=%d batches=%zu err=%s",
                q->topic, q->partition, q->sent_to, doubt, gn_err_name(q->last_err));
        q->resent = true;
        q->waiting = true;
        q->resend_at = session_deadline(q->f);
    }
    if (doubt == 0 && (q->gap || refused > 0)) {
        if (++q->resets > FWD_RESETS_MAX) { /* refused again and again: give those up */
            for (entry_t *e = q->head; e; e = e->next)
                if (e->state == E_REFUSED) e->state = E_DONE;
            q->resets = 0;
        }
        reset_sequence(q);
    }
    for (entry_t *e = q->head; e; e = e->next)
        if (e->state == E_RETRY || e->state == E_REFUSED) e->state = E_QUEUED;
    q->cursor = q->head;
    settle(q);
}

/* Errors after which the batch may be in the leader's log, or will be with a resend. */
static bool retriable(int err)
{
    return err == GN_EIO || err == GN_ETIMEOUT || err == GN_ENOTLEADER || err == GN_ESHUTDOWN;
}

/* One entry's answer. */
static void outcome(fqueue_t *q, entry_t *e, int status, const gn_produce_result_t *res)
{
    e->status = status;
    if (status == 0) {
        e->state = E_DONE;
        e->in_doubt = false;
        e->res = *res;
        return;
    }
    q->failed = true;
    if (retriable(status)) {
        e->state = E_RETRY;
        q->last_err = status;
    } else if (e->stamped && (status == GN_EOUT_OF_ORDER_SEQ || status == GN_EPRODUCER_FENCED)) {
        e->state = E_REFUSED; /* not appended: after a hole, or an epoch the leader fenced */
        e->in_doubt = false;
    } else if (status == GN_EDUPLICATE_SEQ) {
        /* in the leader's log already but too old for its duplicate check to give the
         * offsets (or part of a multi-batch entry): never sent again; if part of it is
         * missing, the batches behind come back out of order and get a new epoch */
        e->state = E_DONE;
        e->in_doubt = false;
    } else {
        e->state = E_DONE; /* refused for good (not appended): a hole when numbered */
        e->in_doubt = false;
        if (e->stamped) q->gap = true;
    }
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
    freq_t *r = arg;
    gn_forwarder_t *f = r->f;
    (void)raw;
    (void)rawlen;
    f->answers--;
    if (f->closing) { /* gn__forward_close fails the queues' entries */
        free(r);
        forwarder_maybe_free(f);
        return;
    }
    fqueue_t *q = r->q;
    peer_t *p = peer_get(f, r->to);
    if (p) p->inflight--;
    q->inflight--;
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    const json_t *results = resp ? json_object_get(resp, "results") : NULL;
    bool whole = rc == 0 && json_array_size(results) == r->n;
    for (size_t i = 0; i < r->n; i++) {
        gn_produce_result_t res;
        int st = whole ? 0 : rc == 0 ? GN_EINVALID_REQUEST : rc;
        if (whole) result_of(json_array_get(results, i), &res, &st);
        outcome(q, r->ents[i], st, &res);
    }
    int32_t peer_id = r->to;
    free(r);
    settle(q);
    if (q->failed && q->inflight == 0) resolve(q);
    pump(q); /* may free q */
    kick_peer(f, peer_id);
}

/* Queues waiting after a failure: resend once the image names another leader (or a
 * later epoch), or to the same one after a broker session (it was not fenced, so it
 * lives); give up when the partition stays offline. Idle queues with entries are pumped. */
static void on_tick(uv_timer_t *t)
{
    gn_forwarder_t *f = t->data;
    uint64_t now = uv_now(f->broker->loop);
    for (fqueue_t *q = f->queues, *nx; q; q = nx) {
        nx = q->next;
        if (!q->waiting) {
            if (!q->failed && q->inflight == 0) pump(q);
            continue;
        }
        if (q->pid_wait) { /* idem_ready asks again, or gives up on idempotence */
            q->waiting = q->pid_wait = false;
            pump(q);
            continue;
        }
        gn_cluster_partition_t cp;
        if (gn_cluster_partition(f->broker, q->topic, q->partition, &cp) < 0) {
            if (creating(f, q->topic) && now < q->resend_at) continue;
            if (creating(f, q->topic)) {
                q->last_err = GN_ENOTLEADER;
                give_up(q);
                settle(q);
            }
            q->waiting = false;
            pump(q); /* fails the queue */
            continue;
        }
        bool moved = cp.leader >= 0 && (cp.leader != q->sent_to || cp.leader_epoch > q->sent_epoch);
        if (moved || (now >= q->resend_at && cp.leader >= 0)) {
            q->waiting = false;
            pump(q);
        } else if (now >= q->resend_at) {
            give_up(q);
            if (q->gap) reset_sequence(q);
            q->cursor = q->head;
            settle(q);
            pump(q);
        }
    }
}

bool gn__forward_busy(gn_forwarder_t *f, const gn_partition_t *part)
{
    return f && f->queues && queue_find(f, part->topic->name, part->id) != NULL;
}

/* Whole batches (the leader validates them fully); *own: one carries a producer id. */
static int check_batches(const uint8_t *p, size_t len, bool *own)
{
    *own = false;
    while (len > 0) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(p, len, &hdr);
        if (n < 0) return n == GN_EAGAIN ? GN_ECORRUPT : (int)n;
        if (hdr.producer_id >= 0) *own = true;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int gn__forward_produce(gn_forwarder_t *f, gn_partition_t *part, const uint8_t *batches, size_t len,
                        gn_acks_t acks, gn_produce_cb cb, void *arg)
{
    if (f->closing) return GN_ESHUTDOWN;
    bool own;
    int rc = check_batches(batches, len, &own);
    if (rc < 0) return rc;
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
    e->own_id = own;
    e->state = E_QUEUED;
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
        q->sent_to = -1;
        q->created = uv_now(f->broker->loop);
        q->next = f->queues;
        if (f->queues) f->queues->prev = q;
        f->queues = q;
    }
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    if (!q->cursor) q->cursor = e;
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

/* Sequence a is at or before b, in the space that wraps past INT32_MAX (within 2^30). */
static bool seq_not_after(int32_t a, int32_t b)
{
    return (((uint32_t)b - (uint32_t)a) & 0x7fffffffu) < (1u << 30);
}

/* Every batch of buf is its producer's (same epoch) and at or before its last sequence:
 * appended already, though older than the 5 runs the duplicate check remembers. Kafka
 * answers OUT_OF_ORDER_SEQUENCE there; a forwarder taking that for "not appended" would
 * renumber the batch and append it twice, so the forwarded path says duplicate. */
static bool behind_producer(const gn_partition_t *part, const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        gn_batch_header_t hdr;
        int64_t n = gn_batch_peek(buf + pos, len - pos, &hdr);
        if (n <= 0 || hdr.producer_id < 0) return false;
        const gn__producer_t *p = gn__producer_state_find(&part->producers, hdr.producer_id);
        if (!p || p->nbatches == 0 || p->epoch != hdr.producer_epoch ||
            !seq_not_after(gn__producer_last_seq(&hdr), p->batches[p->nbatches - 1].last_seq))
            return false;
        pos += (size_t)n;
    }
    return pos > 0;
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
        if (rc == GN_EOUT_OF_ORDER_SEQ && behind_producer(part, copy + off, l))
            rc = GN_EDUPLICATE_SEQ; /* in the log already: the forwarder must not renumber it */
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
    f->pid = -1;
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
    /* in-flight requests answer GN_ESHUTDOWN (on_answer only frees them) */
    while (f->peers) {
        peer_t *p = f->peers;
        f->peers = p->next;
        gn__rpc_client_free(p->cli);
        free(p);
    }
    while (f->queues) {
        fqueue_t *q = f->queues;
        fail_all(q, GN_ESHUTDOWN); /* in flight or not */
        queue_free(q);
    }
    uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}
