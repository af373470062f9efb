/* SPDX-License-Identifier: Apache-2.0 */
/* The controller quorum: libraft (raft_uv storage in DATA/__cluster_metadata/raft, raft_uv
 * TCP transport, or raft_tls.c's with cluster.tls.*) on the broker's libuv loop. Its state
 * machine applies metadata records to the image (image.c); snapshots are the image
 * serialized. A single node is a quorum of one on the same path. Loop thread only. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <raft.h>
#include <raft/uv.h>

#include "cluster/cluster.h"
#include "cluster/raft_tls.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

#define READY_TIMEOUT_MS 30000
#define SEGMENT_SIZE     (1u << 20) /* the metadata log is small: 1 MiB open segments */
#define LISTENERS_MAX    8
#define SNAPSHOT_EVERY   1024

typedef struct proposal {
    struct raft_apply req; /* first: raft hands back &req */
    gn_cluster_t *cl;
    gn_cluster_propose_cb cb;
    void *arg;
} proposal_t;

struct gn_cluster {
    uv_loop_t *loop;
    struct raft raft;
    struct raft_io io;
    struct raft_uv_transport transport;
    struct raft_fsm fsm;
    json_t *image;
    int32_t node_id;
    size_t nvoters;
    char dir[PATH_MAX];
    char address[64];
    bool raft_inited, io_inited, transport_inited, closing, raft_closed;
    bool tls;     /* the transport is raft_tls.c's (cluster.tls.*), else libraft's TCP one */
    int inflight; /* proposals not yet answered */
    struct {
        gn_cluster_apply_cb cb;
        void *arg;
    } listeners[LISTENERS_MAX];
    size_t nlisteners;
    gn_cluster_closed_cb closed_cb;
    void *closed_arg;
    uv_timer_t close_timer; /* raft_close runs on its own turn, never inside a raft cb */
    uv_idle_t reaper;       /* never started: closed when raft has closed, frees on its close cb */
    gn_cluster_forward_fn forward; /* proposals on a follower go to the leader */
    void *forward_arg;
    struct applied_wait *waits;    /* forwarded proposals waiting for the local apply */
    struct raft_transfer transfer; /* a leadership hand-over (controlled shutdown) */
    bool transferring;
    uint64_t fsm_applied; /* the last entry fsm_apply applied (see applied_index) */
};

typedef struct applied_wait {
    uint64_t index;
    int status;
    gn_cluster_propose_cb cb;
    void *arg;
    struct applied_wait *next;
} applied_wait_t;

static void run_applied_waits(gn_cluster_t *cl, uint64_t applied, bool all, int status)
{
    for (applied_wait_t **pp = &cl->waits; *pp;) {
        applied_wait_t *w = *pp;
        if (!all && w->index > applied) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        w->cb(w->arg, all ? status : w->status);
        free(w);
    }
}

void gn__cluster_after_applied(gn_cluster_t *cl, uint64_t index, int status,
                               gn_cluster_propose_cb cb, void *arg)
{
    applied_wait_t *w = calloc(1, sizeof(*w));
    /* a refusal at index is a decision too: the proposer learns it once it applied it */
    if (!w || (status < 0 && index == 0) || cl->closing) {
        free(w);
        cb(arg, status < 0 ? status : cl->closing ? GN_ESHUTDOWN : GN_ENOMEM);
        return;
    }
    *w = (applied_wait_t){index, status, cb, arg, cl->waits};
    cl->waits = w;
    run_applied_waits(cl, gn__cluster_applied_index(cl), false, 0);
}

void gn__cluster_set_forwarder(gn_cluster_t *cl, gn_cluster_forward_fn fn, void *arg)
{
    cl->forward = fn;
    cl->forward_arg = arg;
}

/* raft counts an entry as applied only once its apply callbacks returned: inside them
 * (a proposal's completion, a forwarded one answered with this index) raft's figure is one
 * entry behind, and a follower waiting for it would complete before applying the record. */
uint64_t gn__cluster_applied_index(gn_cluster_t *cl)
{
    uint64_t raft = raft_last_applied(&cl->raft);
    return cl->fsm_applied > raft ? cl->fsm_applied : raft;
}

static int err_from_raft(int rv)
{
    switch (rv) {
    case 0:
        return 0;
    case RAFT_NOMEM:
        return GN_ENOMEM;
    case RAFT_NOTLEADER:
    case RAFT_LEADERSHIPLOST:
        return GN_ENOTLEADER;
    case RAFT_SHUTDOWN:
    case RAFT_CANCELED:
        return GN_ESHUTDOWN;
    case RAFT_NOSPACE:
        return GN_ENOSPC;
    case RAFT_CORRUPT:
        return GN_ECORRUPT;
    default:
        return GN_EIO;
    }
}

/* ---- voters ---- */

/* HOST..END is a dotted IPv4 address, the only form libraft's TCP transport parses (a
 * name there fails raft_start with "no connection to remote server available"). */
static bool ipv4_host(const char *host, const char *end)
{
    char buf[INET_ADDRSTRLEN];
    struct in_addr a;
    size_t len = (size_t)(end - host);
    if (len >= sizeof(buf)) return false;
    memcpy(buf, host, len);
    buf[len] = 0;
    return inet_pton(AF_INET, buf, &a) == 1;
}

int gn__cluster_parse_voters(const char *s, gn_cluster_voter_t *out, size_t cap, size_t *n)
{
    *n = 0;
    while (s && *s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char item[96];
        char *at, *colon, *stop;
        if (len == 0 || len >= sizeof(item) || *n >= cap || (end && !end[1])) goto bad;
        memcpy(item, s, len);
        item[len] = 0;
        at = strchr(item, '@');
        if (!at) goto bad;
        *at = 0;
        long id = strtol(item, &stop, 10);
        colon = strrchr(at + 1, ':');
        if (*stop || stop == item || id < 0 || id > INT32_MAX || !colon || colon == at + 1 ||
            strtol(colon + 1, &stop, 10) <= 0 || *stop || strlen(at + 1) >= sizeof(out[*n].address))
            goto bad;
        for (size_t i = 0; i < *n; i++)
            if (out[i].id == (int32_t)id) goto bad;
        if (!ipv4_host(at + 1, colon)) {
            GN_ERROR("cluster",
                     "controller.quorum.voters: the host must be an IPv4 address (libraft's "
                     "transport does not resolve names) | voter=\"%s\"",
                     at + 1);
            return GN_EINVALID_CONFIG;
        }
        out[*n].id = (int32_t)id;
        snprintf(out[*n].address, sizeof(out[*n].address), "%s", at + 1);
        (*n)++;
        s = end ? end + 1 : NULL;
    }
    return 0;
bad:
    GN_ERROR("cluster", "bad controller.quorum.voters; want id@host:port,... | value=\"%s\"",
             s ? s : "");
    return GN_EINVALID_CONFIG;
}

/* ---- the state machine ---- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    gn_cluster_t *cl = fsm->data;
    json_error_t jerr;
    json_t *rec = json_loadb(buf->base, buf->len, 0, &jerr);
    int rc = rec ? gn__image_apply(cl->image, rec) : GN_EINVAL;
    if (gn__image_refusal(rc)) /* its precondition no longer held: so on every broker */
        GN_DEBUG("cluster", "metadata record refused | type=%s name=%s err=%s",
                 json_string_value(json_object_get(rec, "type")),
                 json_string_value(json_object_get(rec, "name")), gn_err_name(rc));
    else if (rc < 0)
        GN_WARN("cluster", "metadata record ignored | err=%s len=%zu", gn_strerror(rc), buf->len);
    else
        for (size_t i = 0; i < cl->nlisteners; i++)
            cl->listeners[i].cb(cl->listeners[i].arg, rec);
    json_decref(rec);
    /* raft counts this entry as applied only after we return */
    cl->fsm_applied = raft_last_applied(&cl->raft) + 1;
    if (cl->waits) run_applied_waits(cl, cl->fsm_applied, false, 0);
    *result = (void *)(intptr_t)rc;
    return 0; /* a bad record is the proposer's error, never the quorum's */
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    gn_cluster_t *cl = fsm->data;
    char *text = json_dumps(cl->image, JSON_COMPACT | JSON_SORT_KEYS);
    struct raft_buffer *b = raft_malloc(sizeof(*b));
    size_t len = text ? strlen(text) : 0, padded = (len + 7) & ~(size_t)7;
    void *copy = text ? raft_malloc(padded) : NULL;
    if (!b || !copy) {
        free(text);
        raft_free(b);
        raft_free(copy);
        return RAFT_NOMEM;
    }
    b->len = padded; /* 8-byte aligned, as raft_uv wants; JSON whitespace */
    memcpy(copy, text, len);
    memset((char *)copy + len, ' ', padded - len);
    b->base = copy;
    free(text);
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    for (unsigned i = 0; *bufs && i < *n_bufs; i++)
        raft_free((*bufs)[i].base);
    raft_free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    gn_cluster_t *cl = fsm->data;
    json_error_t jerr;
    json_t *image = json_loadb(buf->base, buf->len, 0, &jerr);
    if (!json_is_object(image) || !json_is_object(json_object_get(image, "topics")) ||
        !json_is_object(json_object_get(image, "brokers"))) {
        GN_ERROR("cluster", "metadata snapshot is corrupt | reason=\"%s\"",
                 image ? "not an image" : jerr.text);
        json_decref(image);
        return RAFT_CORRUPT;
    }
    json_decref(cl->image);
    cl->image = image;
    raft_free(buf->base); /* the fsm owns the buffer once restored */
    return 0;
}

/* ---- open ---- */

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp)) return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -errno;
    return 0;
}

typedef struct wait_ctx {
    bool done;
    int status;
} wait_ctx_t;

static void on_barrier(struct raft_barrier *req, int status)
{
    wait_ctx_t *w = req->data;
    w->done = true;
    w->status = err_from_raft(status);
    free(req);
}

static void on_wait_timer(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop until the image is current: the leader commits a barrier (everything
 * before it applied); a follower has a leader and has applied its local log. */
static int wait_ready(gn_cluster_t *cl, int64_t timeout_ms)
{
    uv_timer_t timer;
    bool expired = false;
    wait_ctx_t w = {0};
    bool barrier = false;
    raft_index start_last = raft_last_index(&cl->raft);
    uv_timer_init(cl->loop, &timer);
    timer.data = &expired;
    uv_timer_start(&timer, on_wait_timer, (uint64_t)timeout_ms, 0);
    int rc = GN_ETIMEOUT;
    while (!expired) {
        int state = raft_state(&cl->raft);
        if (state == RAFT_LEADER && !barrier) {
            struct raft_barrier *req = calloc(1, sizeof(*req));
            if (!req) {
                rc = GN_ENOMEM;
                break;
            }
            req->data = &w;
            if (raft_barrier(&cl->raft, req, on_barrier) == 0)
                barrier = true;
            else
                free(req);
        }
        if (barrier && w.done) {
            if (w.status == 0) {
                rc = 0;
                break;
            }
            barrier = false; /* lost leadership meanwhile: look again */
            w.done = false;
        }
        if (state == RAFT_FOLLOWER && gn__cluster_leader_id(cl) >= 0 &&
            raft_last_applied(&cl->raft) >= start_last) {
            rc = 0;
            break;
        }
        uv_run(cl->loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
    /* the barrier may still be in flight: wait for it (it owns &w) */
    while (barrier && !w.done)
        uv_run(cl->loop, UV_RUN_ONCE);
    uv_run(cl->loop, UV_RUN_NOWAIT); /* the timer's close */
    return rc;
}

static void free_cluster(gn_cluster_t *cl)
{
    json_decref(cl->image);
    free(cl);
}

static void transport_free(gn_cluster_t *cl)
{
    if (cl->tls)
        gn__raft_tls_free(&cl->transport);
    else
        raft_uv_tcp_close(&cl->transport);
}

static void on_reaper_closed(uv_handle_t *h)
{
    gn_cluster_t *cl = h->data;
    raft_uv_close(&cl->io);
    transport_free(cl);
    gn_cluster_closed_cb cb = cl->closed_cb;
    void *arg = cl->closed_arg;
    free_cluster(cl);
    if (cb) cb(arg);
}

/* libraft 0.15 can call this twice. Its io fires the close callback when the last
 * handle it tracks has closed (the tick timer), but the writer of the segment it
 * finalized at close is no longer tracked and closes its handles in the same loop pass,
 * which fires the callback again (seen under load in unit/group/test_store: a crash on
 * the freed io). So the first call empties what raft's close frees (a second one frees
 * nothing) and the io and this struct are freed one closing pass later, from the
 * reaper's close callback, after those handles. */
static void on_raft_closed(struct raft *r)
{
    gn_cluster_t *cl = r->data;
    if (cl->raft_closed) return;
    cl->raft_closed = true;
    r->address = NULL;
    memset(&r->log, 0, sizeof(r->log));
    memset(&r->configuration, 0, sizeof(r->configuration));
    uv_close((uv_handle_t *)&cl->reaper, on_reaper_closed);
}

static void set_flag(void *arg)
{
    *(bool *)arg = true;
}

int gn__cluster_open(uv_loop_t *loop, const gn_cluster_opts_t *opts, gn_cluster_t **out)
{
    gn_cluster_voter_t voters[GN_CLUSTER_VOTERS_MAX];
    size_t nvoters = 0;
    struct raft_configuration conf;
    int rc, rv;
    gn_cluster_t *cl = calloc(1, sizeof(*cl));
    if (!cl) return GN_ENOMEM;
    raft_configuration_init(&conf);
    cl->loop = loop;
    cl->node_id = opts->node_id;
    cl->image = gn__image_new();
    rc = GN_ENOMEM;
    if (!cl->image) goto out;
    if ((rc = gn__cluster_parse_voters(opts->voters, voters, GN_CLUSTER_VOTERS_MAX, &nvoters)) < 0)
        goto out;
    if (nvoters == 0) {
        /* a quorum of one: nobody dials it, so an ephemeral loopback port (several
         * single-node brokers on one machine never clash) */
        voters[0].id = opts->node_id;
        snprintf(voters[0].address, sizeof(voters[0].address), "127.0.0.1:0");
        nvoters = 1;
    }
    cl->nvoters = nvoters;
    for (size_t i = 0; i < nvoters; i++) {
        if (voters[i].id == opts->node_id)
            snprintf(cl->address, sizeof(cl->address), "%s", voters[i].address);
        if (raft_configuration_add(&conf, (raft_id)voters[i].id + 1, voters[i].address,
                                   RAFT_VOTER) != 0) {
            rc = GN_ENOMEM;
            goto out;
        }
    }
    if (!cl->address[0]) {
        /* not a voter: an observer needs an address too, but not one in conf */
        GN_ERROR("cluster", "node.id is not among controller.quorum.voters | node_id=%d",
                 opts->node_id);
        rc = GN_EINVALID_CONFIG;
        goto out;
    }
    rc = -ENAMETOOLONG;
    if (snprintf(cl->dir, sizeof(cl->dir), "%s/__cluster_metadata/raft", opts->data_dir) >=
        (int)sizeof(cl->dir))
        goto out;
    if ((rc = mkdir_p(cl->dir)) < 0) {
        GN_ERROR("cluster", "cannot create raft directory | dir=%s err=%s", cl->dir,
                 gn_strerror(rc));
        goto out;
    }
    rc = GN_EIO;
    cl->tls = opts->tls != NULL;
    rv = cl->tls ? gn__raft_tls_init(&cl->transport, loop, opts->tls)
                 : raft_uv_tcp_init(&cl->transport, loop);
    if (rv != 0) goto raft_err;
    cl->transport_inited = true;
    if ((rv = raft_uv_init(&cl->io, loop, cl->dir, &cl->transport)) != 0) goto raft_err;
    cl->io_inited = true;
    raft_uv_set_segment_size(&cl->io, SEGMENT_SIZE);
    /* a damaged metadata log is refused, never silently cut (committed records matter) */
    raft_uv_set_auto_recovery(&cl->io, false);
    cl->fsm.version = 2;
    cl->fsm.data = cl;
    cl->fsm.apply = fsm_apply;
    cl->fsm.snapshot = fsm_snapshot;
    cl->fsm.snapshot_finalize = fsm_snapshot_finalize;
    cl->fsm.restore = fsm_restore;
    /* raft ids start at 1; node ids at 0 */
    if ((rv = raft_init(&cl->raft, &cl->io, &cl->fsm, (raft_id)opts->node_id + 1, cl->address)) !=
        0)
        goto raft_err;
    cl->raft_inited = true;
    cl->raft.data = cl;
    uv_timer_init(loop, &cl->close_timer);
    cl->close_timer.data = cl;
    uv_idle_init(loop, &cl->reaper);
    cl->reaper.data = cl;
    raft_set_snapshot_threshold(&cl->raft, SNAPSHOT_EVERY);
    raft_set_snapshot_trailing(&cl->raft, SNAPSHOT_EVERY / 2);
    /* 500 ms, five Raft heartbeats: electing a new controller after the old one died took
     * 2.6-3.7 s with 1000 (more than one round), 1.4-1.9 s with this (docs/performance.md) */
    raft_set_election_timeout(&cl->raft, nvoters == 1 ? 150 : GN_CLUSTER_ELECTION_TIMEOUT_MS);
    raft_set_heartbeat_timeout(&cl->raft, nvoters == 1 ? 50 : 100);
    /* a voter asks whether it could win before it raises its term: a restarted voter that
     * timed out before the leader reached it no longer deposes a healthy controller */
    raft_set_pre_vote(&cl->raft, nvoters > 1);
    rv = raft_bootstrap(&cl->raft, &conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) goto raft_err;
    if (rv == 0)
        GN_INFO("cluster", "bootstrapped the controller quorum | dir=%s voters=%zu", cl->dir,
                nvoters);
    if ((rv = raft_start(&cl->raft)) != 0) goto raft_err;
    int64_t timeout = opts->ready_timeout_ms > 0 ? opts->ready_timeout_ms : READY_TIMEOUT_MS;
    if ((rc = wait_ready(cl, timeout)) < 0) {
        GN_ERROR("cluster", "controller quorum not ready | err=%s timeout_ms=%lld", gn_strerror(rc),
                 (long long)timeout);
        goto out;
    }
    raft_configuration_close(&conf);
    GN_INFO("cluster",
            "controller quorum ready | node_id=%d address=%s voters=%zu leader=%d "
            "applied=%llu",
            cl->node_id, cl->address, nvoters, gn__cluster_leader_id(cl),
            (unsigned long long)raft_last_applied(&cl->raft));
    *out = cl;
    return 0;
raft_err:
    GN_ERROR("cluster", "raft failed | dir=%s err=%s msg=\"%s\"", cl->dir, raft_strerror(rv),
             cl->raft_inited ? raft_errmsg(&cl->raft)
             : cl->io_inited ? cl->io.errmsg
                             : "");
    rc = err_from_raft(rv);
out:
    raft_configuration_close(&conf);
    if (cl->raft_inited) { /* closing needs the loop: run it until raft's handles are gone */
        bool closed = false;
        gn__cluster_close(cl, set_flag, &closed);
        while (!closed)
            uv_run(loop, UV_RUN_ONCE);
        return rc;
    }
    if (cl->io_inited) raft_uv_close(&cl->io);
    if (cl->transport_inited) transport_free(cl);
    free_cluster(cl);
    return rc;
}

/* ---- proposals ---- */

static void on_applied(struct raft_apply *req, int status, void *result)
{
    proposal_t *prop = (proposal_t *)req;
    int rc = status != 0 ? err_from_raft(status) : (int)(intptr_t)result;
    prop->cl->inflight--;
    if (prop->cb) prop->cb(prop->arg, rc);
    free(prop);
}

int gn__cluster_propose(gn_cluster_t *cl, const json_t *record, gn_cluster_propose_cb cb, void *arg)
{
    if (cl->closing) return GN_ESHUTDOWN;
    if (raft_state(&cl->raft) != RAFT_LEADER)
        return cl->forward ? cl->forward(cl->forward_arg, record, cb, arg) : GN_ENOTLEADER;
    char *text = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return GN_ENOMEM;
    /* raft_uv stores entries 8-byte aligned: pad with JSON whitespace */
    size_t len = strlen(text);
    struct raft_buffer buf = {.len = (len + 7) & ~(size_t)7};
    buf.base = raft_malloc(buf.len);
    proposal_t *prop = calloc(1, sizeof(*prop));
    if (!buf.base || !prop) {
        free(text);
        raft_free(buf.base);
        free(prop);
        return GN_ENOMEM;
    }
    memcpy(buf.base, text, len);
    memset((char *)buf.base + len, ' ', buf.len - len);
    free(text);
    prop->cl = cl;
    prop->cb = cb;
    prop->arg = arg;
    int rv = raft_apply(&cl->raft, &prop->req, &buf, 1, on_applied);
    if (rv != 0) {
        raft_free(buf.base);
        free(prop);
        return err_from_raft(rv);
    }
    cl->inflight++;
    return 0;
}

void gn__cluster_on_apply(gn_cluster_t *cl, gn_cluster_apply_cb cb, void *arg)
{
    if (cl->nlisteners < LISTENERS_MAX) {
        cl->listeners[cl->nlisteners].cb = cb;
        cl->listeners[cl->nlisteners].arg = arg;
        cl->nlisteners++;
    }
}

size_t gn__cluster_voter_count(gn_cluster_t *cl)
{
    return cl->nvoters;
}

void gn__cluster_off_apply(gn_cluster_t *cl, gn_cluster_apply_cb cb, void *arg)
{
    for (size_t i = 0; i < cl->nlisteners; i++) {
        if (cl->listeners[i].cb != cb || cl->listeners[i].arg != arg) continue;
        memmove(&cl->listeners[i], &cl->listeners[i + 1],
                (cl->nlisteners - i - 1) * sizeof(cl->listeners[0]));
        cl->nlisteners--;
        return;
    }
}

static void on_transferred(struct raft_transfer *req)
{
    gn_cluster_t *cl = req->data;
    cl->transferring = false; /* the caller watches gn__cluster_is_leader */
}

int gn__cluster_transfer_leadership(gn_cluster_t *cl)
{
    if (cl->closing || raft_state(&cl->raft) != RAFT_LEADER || cl->nvoters <= 1)
        return GN_ENOTLEADER;
    if (cl->transferring) return 0;
    cl->transfer.data = cl;
    int rv = raft_transfer(&cl->raft, &cl->transfer, 0, on_transferred);
    if (rv != 0) {
        GN_WARN("cluster", "cannot hand the controller over | err=%s", raft_strerror(rv));
        return GN_EIO;
    }
    cl->transferring = true;
    GN_INFO("cluster", "handing the controller over to another voter");
    return 0;
}

bool gn__cluster_is_leader(gn_cluster_t *cl)
{
    return raft_state(&cl->raft) == RAFT_LEADER;
}

int32_t gn__cluster_leader_id(gn_cluster_t *cl)
{
    raft_id id = 0;
    const char *addr = NULL;
    raft_leader(&cl->raft, &id, &addr);
    return id == 0 ? -1 : (int32_t)(id - 1);
}

int32_t gn__cluster_node_id(gn_cluster_t *cl)
{
    return cl->node_id;
}

const json_t *gn__cluster_image(gn_cluster_t *cl)
{
    return cl->image;
}

static void on_close_timer_closed(uv_handle_t *h)
{
    gn_cluster_t *cl = h->data;
    raft_close(&cl->raft, on_raft_closed); /* pending applies get RAFT_SHUTDOWN */
}

static void on_close_timer(uv_timer_t *t)
{
    uv_close((uv_handle_t *)t, on_close_timer_closed);
}

void gn__cluster_close(gn_cluster_t *cl, gn_cluster_closed_cb cb, void *arg)
{
    if (!cl) {
        if (cb) cb(arg);
        return;
    }
    cl->closing = true;
    cl->closed_cb = cb;
    cl->closed_arg = arg;
    cl->nlisteners = 0;
    cl->forward = NULL;
    run_applied_waits(cl, 0, true, GN_ESHUTDOWN);
    uv_timer_start(&cl->close_timer, on_close_timer, 0, 0);
}
