/* SPDX-License-Identifier: Apache-2.0 */
/* Remote reads (remote_read.h). Leader side: op "read" serves committed batches of a
 * partition this broker leads (any replication factor) to brokers without a replica,
 * parked on a partition watch until the high watermark passes the offset. Reader side:
 * a copy (gn__remote) per partition that local readers want, appending what the leader
 * sends to this broker's own log of the partition, so reads, watches and append
 * observers serve it as they serve a local replica. Loop thread only. */
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
#include "topic/topic_internal.h"

#define READ_MAX_BYTES (1u << 20)
#define READ_WAIT_MS   500  /* a read with nothing to send waits as long at the leader */
#define READ_TIMEOUT   5000 /* the wait, and room for a busy leader */
#define TICK_MS        100
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

typedef struct parked_read {
    gn_watch_t watch; /* fires when the high watermark passes offset */
    gn_remote_mgr_t *m;
    gn_partition_t *part; /* valid while the watch is armed */
    gn_rpc_call_t *call;
    int32_t epoch;
    int64_t offset, since_ms;
    size_t max_bytes;
    uint64_t deadline;
    struct parked_read *prev, *next;
} parked_read_t;

typedef struct gn__remote {
    gn_remote_mgr_t *m;
    gn_partition_t *part; /* NULL once dropped (the call in flight frees the copy) */
    gn_rpc_client_t *cli;
    bool fetching;
    int32_t leader;     /* asked last, -1: none known */
    int64_t live_from;  /* the first offset committed since this stream started (-1: not
                         * known yet): older batches are history, not reported as appends */
    int64_t leader_hw;  /* the leader's high watermark in its last answer (-1: none yet) */
    int64_t started_ms; /* wall clock at the start, for the leader's time index */
    uint64_t want_ms, retry_at;
    uint32_t backoff_ms;
    bool warned; /* the partition has no leader: logged once until it has one */
    struct gn__remote *prev, *next;
} gn__remote_t;

struct gn_remote_mgr {
    gn_broker_t *broker;
    uv_timer_t timer;
    uint64_t gen; /* image generation, bumped on every applied metadata record */
    gn__remote_t *all;
    parked_read_t *parked;
    bool closing;
};

static int32_t self_id(const gn_remote_mgr_t *m)
{
    return m->broker->cfg.node_id;
}

/* ---- the leader serves reads ---- */

static void on_parked_watch(gn_watch_t *w, int status);

static void unlink_parked(gn_remote_mgr_t *m, parked_read_t *pr)
{
    if (pr->prev)
        pr->prev->next = pr->next;
    else
        m->parked = pr->next;
    if (pr->next) pr->next->prev = pr->prev;
}

static bool park(gn_remote_mgr_t *m, gn_partition_t *part, gn_rpc_call_t *call, int32_t epoch,
                 int64_t offset, int64_t since_ms, size_t max_bytes)
{
    parked_read_t *pr = calloc(1, sizeof(*pr));
    if (!pr) return false;
    *pr = (parked_read_t){.m = m,
                          .part = part,
                          .call = call,
                          .epoch = epoch,
                          .offset = offset,
                          .since_ms = since_ms,
                          .max_bytes = max_bytes,
                          .deadline = uv_now(m->broker->loop) + READ_WAIT_MS,
                          .next = m->parked};
    if (m->parked) m->parked->prev = pr;
    m->parked = pr;
    pr->watch.data = pr;
    gn_partition_watch(part, &pr->watch, offset, on_parked_watch);
    return true;
}

/* Where a stream that started at since_ms (wall clock, -1: not asked) begins to be live:
 * the first batch stamped at or after it (the time index), at most the high watermark. */
static int64_t live_from(gn_partition_t *part, int64_t since_ms, int64_t hw)
{
    int64_t off = -1, ts;
    if (since_ms >= 0 && gn_partition_offset_for_time(part, since_ms, &off, &ts) == 0 && off >= 0 &&
        off < hw)
        return off;
    return hw;
}

/* Committed batches from offset (up to max_bytes), with the leader's high watermark and log
 * start; an offset at the high watermark waits for the next commit when may_park. */
static void serve_read(gn_remote_mgr_t *m, gn_rpc_call_t *call, gn_partition_t *part, int32_t epoch,
                       int64_t offset, int64_t since_ms, size_t max_bytes, bool may_park)
{
    int32_t mine = -1;
    int rc = gn_partition_leader_epoch(part, epoch, &mine);
    if (rc < 0) {
        gn__rpc_reply(call, rc, NULL, NULL, 0);
        return;
    }
    int64_t hw = gn_partition_high_watermark(part), start = gn_partition_log_start_offset(part);
    if (offset == hw && may_park && park(m, part, call, epoch, offset, since_ms, max_bytes)) return;
    json_t *resp =
        json_pack("{s:I, s:I, s:i, s:I}", "hw", (json_int_t)hw, "log_start", (json_int_t)start,
                  "leader_epoch", mine, "live_from", (json_int_t)live_from(part, since_ms, hw));
    gn_read_result_t rr;
    uint8_t *buf = NULL;
    size_t n = 0;
    rc = offset < start || offset > hw ? GN_EOFFSETRANGE
         : offset == hw                ? 0
                                       : gn_partition_read(part, offset, max_bytes, &rr);
    if (rc == 0 && offset < hw) {
        if (rr.slice.len > 0) {
            buf = malloc((size_t)rr.slice.len);
            if (buf && gn_log_slice_read(&rr.slice, buf) == 0)
                n = (size_t)rr.slice.len;
            else
                rc = buf ? GN_EIO : GN_ENOMEM;
        }
        gn_log_slice_release(&rr.slice);
    }
    gn__rpc_reply(call, resp ? rc : GN_ENOMEM, resp, buf, n);
    json_decref(resp);
    free(buf);
}

static void on_parked_watch(gn_watch_t *w, int status)
{
    parked_read_t *pr = w->data;
    unlink_parked(pr->m, pr);
    if (status < 0) /* the partition went away */
        gn__rpc_reply(pr->call, status, NULL, NULL, 0);
    else
        serve_read(pr->m, pr->call, pr->part, pr->epoch, pr->offset, pr->since_ms, pr->max_bytes,
                   false);
    free(pr);
}

/* A parked read whose wait ran out: answered with what there is (usually nothing). */
static void expire_parked(gn_remote_mgr_t *m, uint64_t now)
{
    for (parked_read_t *pr = m->parked, *nx; pr; pr = nx) {
        nx = pr->next;
        if (pr->deadline > now) continue;
        gn_watch_cancel(&pr->watch);
        unlink_parked(m, pr);
        serve_read(m, pr->call, pr->part, pr->epoch, pr->offset, pr->since_ms, pr->max_bytes,
                   false);
        free(pr);
        nx = m->parked; /* serving may have parked or answered others: start over */
    }
}

static void handle_read(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                        size_t rawlen)
{
    gn_remote_mgr_t *m = arg;
    const char *topic = json_string_value(json_object_get(req, "topic"));
    json_int_t p = json_integer_value(json_object_get(req, "partition"));
    json_t *jo = json_object_get(req, "offset"), *je = json_object_get(req, "leader_epoch");
    json_int_t max = json_integer_value(json_object_get(req, "max_bytes"));
    gn_partition_t *part = topic ? gn_partition_get(m->broker, topic, (int32_t)p) : NULL;
    if (!part) {
        gn__rpc_reply(call, GN_EUNKNOWN_TOPIC, NULL, NULL, 0);
        return;
    }
    if (!json_is_integer(jo) || json_integer_value(jo) < 0 || !json_is_integer(je)) {
        gn__rpc_reply(call, GN_EINVALID_REQUEST, NULL, NULL, 0);
        return;
    }
    size_t max_bytes = max > 0 && max < READ_MAX_BYTES ? (size_t)max : READ_MAX_BYTES;
    const json_t *js = json_object_get(req, "since_ms");
    serve_read(m, call, part, (int32_t)json_integer_value(je), json_integer_value(jo),
               json_is_integer(js) ? json_integer_value(js) : -1, max_bytes, true);
}

/* ---- the reader side: a copy per wanted partition ---- */

static bool wanted(const gn__remote_t *c)
{
    uint64_t now = uv_now(c->m->broker->loop);
    return c->part->watches || now - c->want_ms < GN_REMOTE_IDLE_MS;
}

/* Stops the copy (the log keeps what it fetched). A call in flight frees it. */
static void drop(gn__remote_t *c, const char *why)
{
    gn_remote_mgr_t *m = c->m;
    gn_partition_t *part = c->part;
    GN_INFO("replica", "remote read stopped | topic=%s partition=%d log_end=%lld reason=%s",
            part->topic->name, part->id, (long long)gn_log_end_offset(part->log), why);
    part->remote = NULL;
    c->part = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        m->all = c->next;
    if (c->next) c->next->prev = c->prev;
    gn_rpc_client_t *cli = c->cli;
    c->cli = NULL;
    if (!c->fetching) free(c);
    gn__rpc_client_free(cli); /* a call in flight answers GN_ESHUTDOWN and frees c */
}

static void backoff(gn__remote_t *c)
{
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (c->backoff_ms > BACKOFF_MAX_MS) c->backoff_ms = BACKOFF_MAX_MS;
    c->retry_at = uv_now(c->m->broker->loop) + c->backoff_ms;
}

static bool holds(const gn_cluster_partition_t *cp, int32_t node)
{
    for (size_t i = 0; i < cp->nreplicas; i++)
        if (cp->replicas[i] == node) return true;
    return false;
}

static void on_read(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen);

/* The leader's internal listener from the image; NULL while it has none. */
static const char *leader_address(gn_remote_mgr_t *m, int32_t leader)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", leader);
    const json_t *b =
        json_object_get(json_object_get(gn__cluster_image(m->broker->cluster), "brokers"), key);
    const char *addr = json_string_value(json_object_get(b, "listener"));
    return addr && addr[0] ? addr : NULL;
}

static void start_read(gn__remote_t *c)
{
    gn_remote_mgr_t *m = c->m;
    gn_partition_t *part = c->part;
    if (c->fetching || uv_now(m->broker->loop) < c->retry_at) return;
    gn_cluster_partition_t cp;
    if (gn_cluster_partition(m->broker, part->topic->name, part->id, &cp) < 0 ||
        holds(&cp, self_id(m)) || cp.leader == self_id(m)) {
        drop(c, "replica here");
        return;
    }
    const char *addr = cp.leader >= 0 ? leader_address(m, cp.leader) : NULL;
    if (!addr) {
        if (!c->warned)
            GN_WARN("replica",
                    "remote read: the partition has no leader to read from; local readers "
                    "wait for one | topic=%s partition=%d leader=%d",
                    part->topic->name, part->id, cp.leader);
        c->warned = true;
        backoff(c);
        return;
    }
    if (c->warned)
        GN_INFO("replica",
                "remote read: the partition has a leader again | topic=%s "
                "partition=%d leader=%d",
                part->topic->name, part->id, cp.leader);
    c->warned = false;
    if (c->cli && strcmp(gn__rpc_client_address(c->cli), addr) != 0) {
        gn__rpc_client_free(c->cli); /* no call in flight here */
        c->cli = NULL;
    }
    if (!c->cli) c->cli = gn__rpc_client_new(m->broker->loop, addr, m->broker->cfg.cluster_tls);
    c->leader = cp.leader;
    json_t *req =
        json_pack("{s:s, s:s, s:i, s:I, s:i, s:i}", "op", "read", "topic", part->topic->name,
                  "partition", part->id, "offset", (json_int_t)gn_log_end_offset(part->log),
                  "leader_epoch", cp.leader_epoch, "max_bytes", (int)READ_MAX_BYTES);
    if (req && c->live_from < 0) /* the first answer says where live records begin */
        json_object_set_new(req, "since_ms", json_integer(c->started_ms));
    if (c->cli && req && gn__rpc_call(c->cli, req, NULL, 0, READ_TIMEOUT, on_read, c) == 0)
        c->fetching = true;
    else
        backoff(c);
    json_decref(req);
}

/* The leader's log start passed our end (retention, DeleteRecords), or our copy is longer
 * than what the leader has committed (a topic re-created under the same name). */
static void realign(gn__remote_t *c, const json_t *resp)
{
    gn_partition_t *part = c->part;
    int64_t start = json_integer_value(json_object_get(resp, "log_start"));
    int64_t hw = json_integer_value(json_object_get(resp, "hw"));
    int64_t end = gn_log_end_offset(part->log);
    int rc = 0;
    if (start > end) {
        GN_INFO("replica",
                "remote read: leader's log starts past the copy, restarting it | "
                "topic=%s partition=%d log_end=%lld leader_log_start=%lld",
                part->topic->name, part->id, (long long)end, (long long)start);
        rc = gn_log_restart_at(part->log, start);
        if (rc == 0 && part->observed_end < start) part->observed_end = start;
    } else if (hw < end) {
        GN_WARN("replica",
                "remote read: copy longer than the leader's committed log, "
                "truncating | topic=%s partition=%d log_end=%lld leader_hw=%lld",
                part->topic->name, part->id, (long long)end, (long long)hw);
        rc = gn_log_truncate(part->log, hw);
    }
    if (rc < 0) {
        GN_ERROR("replica", "remote read: cannot realign the copy | topic=%s partition=%d err=%s",
                 part->topic->name, part->id, gn_strerror(rc));
        backoff(c);
    }
}

/* Appends the leader's batches (they must start at our log end: the offsets are the
 * leader's). 0 or a negative error. */
static int append(gn__remote_t *c, const uint8_t *raw, size_t rawlen)
{
    gn_partition_t *part = c->part;
    int64_t end = gn_log_end_offset(part->log), base = 0;
    for (int i = 0; i < 8 && rawlen >= 8; i++)
        base = base << 8 | raw[i];
    if (rawlen < 8 || base != end) {
        GN_WARN("replica",
                "remote read: batches do not start at the copy's end | topic=%s "
                "partition=%d base=%lld log_end=%lld",
                part->topic->name, part->id, (long long)base, (long long)end);
        return GN_ECORRUPT;
    }
    uint8_t *copy = malloc(rawlen);
    if (!copy) return GN_ENOMEM;
    memcpy(copy, raw, rawlen);
    gn_log_append_info_t info;
    int rc = gn_log_append(part->log, copy, rawlen, gn_now_ms(), &info);
    free(copy);
    if (rc < 0)
        GN_ERROR("replica", "remote read: append failed | topic=%s partition=%d err=%s",
                 part->topic->name, part->id, gn_strerror(rc));
    return rc;
}

static void on_read(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    gn__remote_t *c = arg;
    c->fetching = false;
    if (!c->part) { /* dropped meanwhile */
        free(c);
        return;
    }
    gn_partition_t *part = c->part;
    gn_broker_t *broker = c->m->broker;
    int rc = status < 0 ? status : (int)json_integer_value(json_object_get(resp, "status"));
    if (rc == GN_EOFFSETRANGE && resp) {
        realign(c, resp);
        start_read(c);
        return;
    }
    if (rc < 0) { /* not the leader any more, a newer epoch, a lost connection: ask the image */
        GN_DEBUG("replica", "remote read failed | topic=%s partition=%d leader=%d err=%s",
                 part->topic->name, part->id, c->leader, gn_strerror(rc));
        backoff(c);
        return;
    }
    c->backoff_ms = 0;
    int64_t before = gn_log_end_offset(part->log);
    if (rawlen > 0 && append(c, raw, rawlen) < 0) {
        backoff(c);
        return;
    }
    int64_t end = gn_log_end_offset(part->log);
    if (c->live_from < 0) {
        const json_t *lf = json_object_get(resp, "live_from");
        c->live_from = json_integer_value(lf ? lf : json_object_get(resp, "hw"));
    }
    bool first = c->leader_hw < 0;
    c->leader_hw = json_integer_value(json_object_get(resp, "hw"));
    if (first && part->watches) gn__partition_wake_watches(part); /* `latest` is known now */
    /* what the leader had committed before this stream started is history: readers reach it
     * by offset, but the append observers (MQTT's live delivery) start at live_from */
    int64_t history_end = c->live_from < end ? c->live_from : end;
    if (part->observed_end < history_end) part->observed_end = history_end;
    if (end > before && (part->watches || broker->nappend_observers))
        gn__defer(broker, &part->watch_task);
    if (wanted(c)) start_read(c); /* at once: the leader parks it until there is more */
}

/* ---- the API ---- */

static bool remote_here(gn_remote_mgr_t *m, gn_partition_t *part)
{
    if (part->remote_gen == m->gen) return part->remote_here;
    gn_cluster_partition_t cp;
    part->remote_here = !part->replica &&
                        gn_cluster_partition(m->broker, part->topic->name, part->id, &cp) == 0 &&
                        !holds(&cp, self_id(m)) && cp.leader != self_id(m);
    part->remote_gen = m->gen;
    return part->remote_here;
}

void gn__remote_want(gn_partition_t *part)
{
    gn_remote_mgr_t *m = part->broker->remote;
    if (!m || m->closing) return;
    uint64_t now = uv_now(m->broker->loop);
    if (part->remote) {
        part->remote->want_ms = now;
        return;
    }
    if (!remote_here(m, part)) return;
    gn__remote_t *c = calloc(1, sizeof(*c));
    if (!c) return;
    *c = (gn__remote_t){.m = m,
                        .part = part,
                        .leader = -1,
                        .live_from = -1,
                        .leader_hw = -1,
                        .started_ms = gn_now_ms(),
                        .want_ms = now};
    c->next = m->all;
    if (m->all) m->all->prev = c;
    m->all = c;
    part->remote = c;
    GN_INFO("replica",
            "remote read started: no replica here, fetching from the leader | "
            "topic=%s partition=%d from=%lld",
            part->topic->name, part->id, (long long)gn_log_end_offset(part->log));
    start_read(c);
}

int gn__remote_latest(gn_partition_t *part, int64_t *offset)
{
    gn_remote_mgr_t *m = part->broker->remote;
    if (!m || !remote_here(m, part)) return 1;
    const gn__remote_t *c = part->remote;
    if (!c || c->leader_hw < 0) return GN_EAGAIN;
    int64_t hw = gn_partition_high_watermark(part);
    *offset = c->leader_hw > hw ? c->leader_hw : hw;
    return 0;
}

int gn__remote_check(gn_partition_t *part)
{
    gn_remote_mgr_t *m = part->broker->remote;
    if (!m || !remote_here(m, part)) return 0;
    gn_cluster_partition_t cp;
    if (gn_cluster_partition(m->broker, part->topic->name, part->id, &cp) < 0) return 0;
    return cp.leader < 0 || !leader_address(m, cp.leader) ? GN_ENOTLEADER : 0;
}

void gn__remote_image_changed(gn_remote_mgr_t *m)
{
    if (!m) return;
    m->gen++;
    /* a partition that lost its leader retries at once when one is named */
    for (gn__remote_t *c = m->all; c; c = c->next)
        if (c->warned) c->retry_at = 0;
}

void gn__remote_partition_closed(gn_partition_t *part)
{
    if (part->remote) drop(part->remote, "partition closed");
}

static void on_tick(uv_timer_t *t)
{
    gn_remote_mgr_t *m = t->data;
    uint64_t now = uv_now(m->broker->loop);
    expire_parked(m, now);
    for (gn__remote_t *c = m->all, *nx; c; c = nx) {
        nx = c->next;
        if (c->fetching) continue;
        if (!wanted(c))
            drop(c, "no local reader");
        else
            start_read(c);
    }
}

int gn__remote_open(gn_broker_t *broker, gn_remote_mgr_t **out)
{
    gn_remote_mgr_t *m = calloc(1, sizeof(*m));
    if (!m) return GN_ENOMEM;
    m->broker = broker;
    m->gen = 1;
    gn_rpc_server_t *srv = gn__controller_rpc(broker->controller);
    if (srv) gn__rpc_server_handle(srv, "read", handle_read, m);
    uv_timer_init(broker->loop, &m->timer);
    m->timer.data = m;
    uv_timer_start(&m->timer, on_tick, TICK_MS, TICK_MS);
    *out = m;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

void gn__remote_close(gn_remote_mgr_t *m)
{
    if (!m) return;
    m->closing = true;
    while (m->all)
        drop(m->all, "shutdown");
    while (m->parked) {
        parked_read_t *pr = m->parked;
        gn_watch_cancel(&pr->watch);
        unlink_parked(m, pr);
        gn__rpc_reply(pr->call, GN_ESHUTDOWN, NULL, NULL, 0);
        free(pr);
    }
    uv_close((uv_handle_t *)&m->timer, on_timer_closed);
}
