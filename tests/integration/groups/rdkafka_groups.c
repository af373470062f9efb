/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka consumer-group checks against a running broker: rdkafka_groups BROKER CASE
 * with CASE one of assignors (range, roundrobin, cooperative-sticky), static (group.
 * instance.id), commit (rd_kafka_commit sync/async/explicit, auto commit) and position
 * (offsets_for_times, seek, pause/resume). Each asserts what a user would notice and
 * exits 1 with a message on the first failure. Single-threaded: every consumer is
 * polled in turn from main. Run by the numbered .sh scripts of this directory. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define MAXP 64 /* partitions tracked per consumer (bit mask) */
#define TS0  1700000000000LL

static const char *broker;
static char run_id[32]; /* makes topic and group names unique per run */

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                       \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        exit(1);                                                                                   \
    } while (0)
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) FAIL(__VA_ARGS__);                                                            \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void name(char *out, size_t cap, const char *what)
{
    snprintf(out, cap, "%s-%s", what, run_id);
}

/* ---- topics and producing ------------------------------------------------------ */

static rd_kafka_t *producer;
static int delivery_errors;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "delivery: %s\n", rd_kafka_err2str(m->err));
        delivery_errors++;
    }
}

static void producer_start(void)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker, err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "1", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CHECK(producer, "producer: %s", err);
}

static void create_topic(const char *topic, int partitions)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    CHECK(nt, "NewTopic: %s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(producer);
    rd_kafka_CreateTopics(producer, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    CHECK(ev, "CreateTopics: no answer in 15 s");
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    CHECK(res, "CreateTopics: %s", rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    CHECK(n == 1 && rd_kafka_topic_result_error(tr[0]) == 0, "CreateTopics %s: %s", topic,
          n ? rd_kafka_err2str(rd_kafka_topic_result_error(tr[0])) : "no result");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

/* Values "<prefix><i>" for i in [from, to), timestamps TS0 + i s (one record per batch)
 * when ts is set. */
static void produce(const char *topic, int partition, const char *prefix, int from, int to, bool ts)
{
    for (int i = from; i < to; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "%s%d", prefix, i);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_VALUE(v, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(ts ? TS0 + (int64_t)i * 1000 : 0), RD_KAFKA_V_END);
        CHECK(!e, "producev: %s", rd_kafka_err2str(e));
        /* One record per batch when timestamps matter: ListOffsets by time answers the
         * first offset of the batch holding the time (see check_position). */
        if (ts) CHECK(rd_kafka_flush(producer, 15000) == 0, "flush timed out");
    }
    CHECK(rd_kafka_flush(producer, 15000) == 0, "flush timed out");
    CHECK(delivery_errors == 0, "%d deliveries failed", delivery_errors);
}

/* ---- consumers ------------------------------------------------------------------- */

typedef struct consumer {
    rd_kafka_t *rk;
    const char *label;
    uint64_t owned[2];   /* partitions currently assigned, per topic index (0/1) */
    char topics[2][128]; /* topic names mapped to index 0/1 */
    int rebalances;      /* assign or revoke callbacks */
    int revoked_total;   /* partitions revoked, summed */
    bool ever_empty_after_assign;
    bool had_assignment;
    bool cooperative;
    int msgs; /* messages received */
    char last[64];
    int64_t last_offset;
    int32_t last_partition;
    int commit_cb_calls, commit_cb_errors;
} consumer_t;

static int topic_index(consumer_t *c, const char *topic)
{
    for (int i = 0; i < 2; i++)
        if (strcmp(c->topics[i], topic) == 0) return i;
    FAIL("%s: partition of unknown topic %s", c->label, topic);
}

static int popcount(uint64_t v)
{
    return __builtin_popcountll(v);
}
static int owned_count(const consumer_t *c)
{
    return popcount(c->owned[0]) + popcount(c->owned[1]);
}

static void apply(consumer_t *c, const rd_kafka_topic_partition_list_t *parts, bool add)
{
    for (int i = 0; i < parts->cnt; i++) {
        int t = topic_index(c, parts->elems[i].topic);
        CHECK(parts->elems[i].partition < MAXP, "partition too large");
        uint64_t bit = 1ULL << parts->elems[i].partition;
        if (add)
            c->owned[t] |= bit;
        else
            c->owned[t] &= ~bit;
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    consumer_t *c = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    c->cooperative = coop;
    c->rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            CHECK(!e, "incremental_assign: %s", rd_kafka_error_string(e));
        } else {
            CHECK(rd_kafka_assign(rk, parts) == 0, "assign failed");
            c->owned[0] = c->owned[1] = 0;
        }
        apply(c, parts, true);
        c->had_assignment = true;
    } else {
        c->revoked_total += parts->cnt;
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            CHECK(!e, "incremental_unassign: %s", rd_kafka_error_string(e));
            apply(c, parts, false);
        } else {
            rd_kafka_assign(rk, NULL);
            c->owned[0] = c->owned[1] = 0;
        }
        if (c->had_assignment && owned_count(c) == 0) c->ever_empty_after_assign = true;
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    (void)offsets;
    consumer_t *c = opaque;
    c->commit_cb_calls++;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) c->commit_cb_errors++;
}

/* kv: NULL-terminated "key", "value" pairs added to the defaults. */
static void consumer_start(consumer_t *c, const char *label, const char *group,
                           const char *const *topics, int ntopics, const char *const *kv)
{
    char err[512];
    memset(c, 0, sizeof *c);
    c->label = label;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *defaults[] = {"bootstrap.servers",
                              broker,
                              "group.id",
                              group,
                              "session.timeout.ms",
                              "6000",
                              "heartbeat.interval.ms",
                              "300",
                              "auto.offset.reset",
                              "earliest",
                              "topic.metadata.refresh.interval.ms",
                              "1000",
                              NULL};
    for (int i = 0; defaults[i]; i += 2)
        CHECK(rd_kafka_conf_set(conf, defaults[i], defaults[i + 1], err, sizeof err) == 0, "%s",
              err);
    for (int i = 0; kv && kv[i]; i += 2)
        CHECK(rd_kafka_conf_set(conf, kv[i], kv[i + 1], err, sizeof err) == 0, "%s", err);
    const char *debug = getenv("GN_RDKAFKA_DEBUG"); /* e.g. cgrp,protocol */
    if (debug && *debug) rd_kafka_conf_set(conf, "debug", debug, err, sizeof err);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CHECK(c->rk, "consumer %s: %s", label, err);
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(ntopics);
    for (int i = 0; i < ntopics; i++) {
        snprintf(c->topics[i], sizeof c->topics[i], "%s", topics[i]);
        rd_kafka_topic_partition_list_add(sub, topics[i], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, sub);
    CHECK(!e, "subscribe: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(sub);
}

static void consumer_stop(consumer_t *c, bool close)
{
    if (!c->rk) return;
    if (close) rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    c->rk = NULL;
}

/* Seen values, to check exactly-once across consumers: seen[i] counts value i. */
static int seen[4096];

static void poll_one(consumer_t *c, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!m) return;
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "%s: consume error: %s\n", c->label, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return;
    }
    c->msgs++;
    size_t len = m->len < sizeof c->last - 1 ? m->len : sizeof c->last - 1;
    memcpy(c->last, m->payload, len);
    c->last[len] = 0;
    c->last_offset = m->offset;
    c->last_partition = m->partition;
    const char *dash = strrchr(c->last, '-');
    if (dash) {
        int v = atoi(dash + 1);
        if (v >= 0 && v < (int)(sizeof seen / sizeof seen[0])) seen[v]++;
    }
    rd_kafka_message_destroy(m);
}

/* Polls every consumer in turn until pred() is true or timeout_ms passed. */
typedef bool (*pred_fn)(void);
static bool poll_until(consumer_t **cs, int n, pred_fn pred, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        for (int i = 0; i < n; i++)
            if (cs[i]->rk) poll_one(cs[i], 10);
        if (pred && pred()) return true;
    }
    return pred ? pred() : true;
}

/* ---- assignors ------------------------------------------------------------------- */

static consumer_t A, B;
static consumer_t *AB[] = {&A, &B};
static int expect_total;

static bool a_has_all(void)
{
    return owned_count(&A) == expect_total;
}
static bool split_done(void)
{
    return owned_count(&A) > 0 && owned_count(&B) > 0 &&
           owned_count(&A) + owned_count(&B) == expect_total && (A.owned[0] & B.owned[0]) == 0 &&
           (A.owned[1] & B.owned[1]) == 0;
}
static int want_msgs;
static bool all_read(void)
{
    return A.msgs + B.msgs >= want_msgs;
}

static void check_assignor(const char *strategy)
{
    char t0[128], t1[128], group[128], g[96];
    snprintf(g, sizeof g, "t0-%s", strategy);
    name(t0, sizeof t0, g);
    snprintf(g, sizeof g, "t1-%s", strategy);
    name(t1, sizeof t1, g);
    snprintf(g, sizeof g, "g-%s", strategy);
    name(group, sizeof group, g);
    create_topic(t0, 3);
    create_topic(t1, 3);
    const char *topics[] = {t0, t1};
    const char *kv[] = {"partition.assignment.strategy", strategy, NULL};
    expect_total = 6;
    memset(seen, 0, sizeof seen);

    consumer_start(&A, "A", group, topics, 2, kv);
    CHECK(poll_until(AB, 1, a_has_all, 20000), "%s: A alone did not get all 6 partitions (has %d)",
          strategy, owned_count(&A));
    int a_rebalances = A.rebalances;
    consumer_start(&B, "B", group, topics, 2, kv);
    CHECK(poll_until(AB, 2, split_done, 20000),
          "%s: no disjoint split of 6 partitions (A %d, B %d)", strategy, owned_count(&A),
          owned_count(&B));
    poll_until(AB, 2, NULL, 1000); /* settle: no further rebalance expected */
    CHECK(split_done(), "%s: split did not hold", strategy);
    int na = owned_count(&A), nb = owned_count(&B);
    printf("%s: A %d partitions (%s %#" PRIx64 ", %s %#" PRIx64 "), B %d; A revoked %d in "
           "%d callbacks\n",
           strategy, na, t0, A.owned[0], t1, A.owned[1], nb, A.revoked_total,
           A.rebalances - a_rebalances);
    if (strcmp(strategy, "range") == 0) {
        /* Range per topic: 3 partitions over 2 members = 2 + 1 of each topic. */
        CHECK((na == 4 && nb == 2) || (na == 2 && nb == 4), "range: expected 4/2, got %d/%d", na,
              nb);
        const consumer_t *big = na == 4 ? &A : &B;
        CHECK(big->owned[0] == 0x3 && big->owned[1] == 0x3,
              "range: the first member should own partitions 0,1 of both topics");
    } else {
        CHECK(na == 3 && nb == 3, "%s: expected 3/3, got %d/%d", strategy, na, nb);
    }
    if (strcmp(strategy, "cooperative-sticky") == 0) {
        CHECK(A.cooperative && B.cooperative, "cooperative-sticky: protocol not COOPERATIVE");
        CHECK(A.revoked_total == 3, "cooperative-sticky: A revoked %d partitions, expected 3",
              A.revoked_total);
        CHECK(!A.ever_empty_after_assign, "cooperative-sticky: A lost every partition");
    } else {
        CHECK(A.revoked_total == 6, "%s (eager): A revoked %d partitions, expected all 6", strategy,
              A.revoked_total);
    }

    /* Every message read exactly once across the two. */
    A.msgs = B.msgs = 0;
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < 3; p++) {
        produce(t0, p, "m-", p * 100, p * 100 + 20, false);
        produce(t1, p, "m-", 1000 + p * 100, 1000 + p * 100 + 20, false);
    }
    want_msgs = 120;
    CHECK(poll_until(AB, 2, all_read, 20000), "%s: read %d of 120 messages", strategy,
          A.msgs + B.msgs);
    poll_until(AB, 2, NULL, 500);
    CHECK(A.msgs + B.msgs == 120, "%s: read %d messages, expected 120", strategy, A.msgs + B.msgs);
    for (int i = 0; i < 4096; i++)
        CHECK(seen[i] <= 1, "%s: message %d read %d times", strategy, i, seen[i]);
    /* B leaves: A gets everything back. */
    consumer_stop(&B, true);
    CHECK(poll_until(AB, 1, a_has_all, 20000), "%s: A did not get all 6 back after B left (has %d)",
          strategy, owned_count(&A));
    consumer_stop(&A, true);
    printf("%s: OK\n", strategy);
}

/* ---- static membership ------------------------------------------------------------ */

static bool b_only_has_rest(void)
{
    return owned_count(&B) > 0 && split_done();
}

static void check_static(void)
{
    char t[128], group[128];
    name(t, sizeof t, "static");
    name(group, sizeof group, "g-static");
    create_topic(t, 4);
    const char *topics[] = {t};
    const char *kva[] = {"group.instance.id", "inst-a", NULL};
    const char *kvb[] = {"group.instance.id", "inst-b", NULL};
    expect_total = 4;
    consumer_start(&A, "A", group, topics, 1, kva);
    CHECK(poll_until(AB, 1, a_has_all, 20000), "static: A alone did not get 4 partitions");
    consumer_start(&B, "B", group, topics, 1, kvb);
    CHECK(poll_until(AB, 2, split_done, 20000), "static: no 2/2 split (A %d, B %d)",
          owned_count(&A), owned_count(&B));
    poll_until(AB, 2, NULL, 1000);
    uint64_t a_owned = A.owned[0], b_owned = B.owned[0];
    int b_rebalances = B.rebalances;

    /* A restarts: a static member's close sends no LeaveGroup (KIP-345). */
    consumer_stop(&A, true);
    int64_t t0 = now_ms();
    poll_until(AB, 2, NULL, 1000); /* B keeps going alone meanwhile */
    consumer_start(&A, "A2", group, topics, 1, kva);
    CHECK(poll_until(AB, 2, b_only_has_rest, 20000), "static: restarted A got no assignment");
    int64_t back_ms = now_ms() - t0;
    poll_until(AB, 2, NULL, 2000);
    printf("static: A back with %#" PRIx64 " (had %#" PRIx64 ") after %" PRId64
           " ms; B rebalances during the restart: %d\n",
           A.owned[0], a_owned, back_ms, B.rebalances - b_rebalances);
    CHECK(A.owned[0] == a_owned, "static: A got %#" PRIx64 " back, had %#" PRIx64, A.owned[0],
          a_owned);
    CHECK(B.owned[0] == b_owned && B.rebalances == b_rebalances,
          "static: B was rebalanced (%d callbacks) while A restarted", B.rebalances - b_rebalances);
    CHECK(back_ms < 6000, "static: A took %" PRId64 " ms to come back", back_ms);

    /* Messages still flow to both, exactly once. */
    A.msgs = B.msgs = 0;
    memset(seen, 0, sizeof seen);
    for (int p = 0; p < 4; p++)
        produce(t, p, "s-", p * 100, p * 100 + 10, false);
    want_msgs = 40;
    CHECK(poll_until(AB, 2, all_read, 20000), "static: read %d of 40", A.msgs + B.msgs);
    CHECK(A.msgs == 20 && B.msgs == 20, "static: A read %d, B read %d, expected 20 each", A.msgs,
          B.msgs);
    consumer_stop(&A, true);
    consumer_stop(&B, true);
    printf("static: OK\n");
}

/* ---- commits --------------------------------------------------------------------- */

static int64_t committed(rd_kafka_t *rk, const char *topic, int32_t partition, char *meta,
                         size_t meta_cap)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 10000);
    CHECK(!e, "committed: %s", rd_kafka_err2str(e));
    CHECK(!l->elems[0].err, "committed: %s", rd_kafka_err2str(l->elems[0].err));
    int64_t off = l->elems[0].offset;
    if (meta) {
        size_t n =
            l->elems[0].metadata_size < meta_cap - 1 ? l->elems[0].metadata_size : meta_cap - 1;
        if (n) memcpy(meta, l->elems[0].metadata, n);
        meta[n] = 0;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return off;
}

static int want_a;
static bool a_read_enough(void)
{
    return A.msgs >= want_a;
}
static bool a_assigned(void)
{
    return owned_count(&A) > 0;
}

static void check_commit(void)
{
    char t[128], group[128], ga[128];
    name(t, sizeof t, "commit");
    name(group, sizeof group, "g-manual");
    name(ga, sizeof ga, "g-auto");
    create_topic(t, 1);
    const char *topics[] = {t};
    produce(t, 0, "c-", 0, 20, false);

    /* Manual: read 10, commit synchronously the position. */
    const char *manual[] = {"enable.auto.commit", "false", NULL};
    expect_total = 1;
    consumer_start(&A, "A", group, topics, 1, manual);
    CHECK(poll_until(AB, 1, a_assigned, 20000), "commit: no assignment");
    /* Read exactly 10: the poll loop stops at the predicate. */
    want_a = 10;
    CHECK(poll_until(AB, 1, a_read_enough, 20000), "commit: read %d of 10", A.msgs);
    CHECK(A.last_offset == 9, "commit: 10th message at offset %" PRId64, A.last_offset);
    CHECK(committed(A.rk, t, 0, NULL, 0) == RD_KAFKA_OFFSET_INVALID,
          "commit: an offset was committed with enable.auto.commit=false");
    /* rd_kafka_commit(NULL) commits the consumed position (last + 1). */
    rd_kafka_resp_err_t e = rd_kafka_commit(A.rk, NULL, 0);
    CHECK(!e, "rd_kafka_commit(sync): %s", rd_kafka_err2str(e));
    int64_t c = committed(A.rk, t, 0, NULL, 0);
    CHECK(c == 10, "commit: committed %" PRId64 " after reading 10, expected 10", c);

    /* Explicit offset with metadata, asynchronously: the commit callback reports it. */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, t, 0);
    tp->offset = 15;
    tp->metadata = strdup("checkpoint-15");
    tp->metadata_size = strlen("checkpoint-15");
    e = rd_kafka_commit(A.rk, l, 1);
    CHECK(!e, "rd_kafka_commit(async): %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
    int calls = A.commit_cb_calls;
    for (int64_t end = now_ms() + 10000; A.commit_cb_calls == calls && now_ms() < end;)
        poll_one(&A, 50);
    CHECK(A.commit_cb_calls > calls && A.commit_cb_errors == 0,
          "commit: async commit callback %d calls, %d errors", A.commit_cb_calls - calls,
          A.commit_cb_errors);
    char meta[64];
    c = committed(A.rk, t, 0, meta, sizeof meta);
    CHECK(c == 15 && strcmp(meta, "checkpoint-15") == 0,
          "commit: committed %" PRId64 " '%s', expected 15 'checkpoint-15'", c, meta);
    consumer_stop(&A, true);

    /* A new consumer of the group starts at the commit. */
    consumer_start(&A, "A2", group, topics, 1, manual);
    want_a = 1;
    CHECK(poll_until(AB, 1, a_read_enough, 20000), "commit: restarted consumer read nothing");
    CHECK(A.last_offset == 15 && strcmp(A.last, "c-15") == 0,
          "commit: restarted consumer began at offset %" PRId64 " (%s), expected 15", A.last_offset,
          A.last);
    consumer_stop(&A, true);
    printf("commit: manual sync, async with metadata and resume at the commit OK\n");

    /* Auto commit: read all 20, the interval commits 20 without any call. */
    const char *autoc[] = {"enable.auto.commit", "true", "auto.commit.interval.ms", "200", NULL};
    consumer_start(&A, "A3", ga, topics, 1, autoc);
    want_a = 20;
    CHECK(poll_until(AB, 1, a_read_enough, 20000), "auto: read %d of 20", A.msgs);
    int64_t t0 = now_ms();
    while (now_ms() - t0 < 5000) {
        poll_one(&A, 100);
        if (committed(A.rk, t, 0, NULL, 0) == 20) break;
    }
    c = committed(A.rk, t, 0, NULL, 0);
    CHECK(c == 20, "auto: committed %" PRId64 " within 5 s, expected 20", c);
    printf("auto: committed 20 within %" PRId64 " ms\n", now_ms() - t0);
    consumer_stop(&A, false); /* no close: the interval's commit is all there is */
    produce(t, 0, "c-", 20, 25, false);
    consumer_start(&A, "A4", ga, topics, 1, autoc);
    want_a = 5;
    CHECK(poll_until(AB, 1, a_read_enough, 20000), "auto: resumed consumer read %d of 5", A.msgs);
    poll_until(AB, 1, NULL, 500);
    CHECK(A.msgs == 5 && strcmp(A.last, "c-24") == 0,
          "auto: resumed consumer read %d messages ending with %s, expected 5 new ones", A.msgs,
          A.last);
    consumer_stop(&A, true);
    printf("commit: OK\n");
}

/* ---- offsets_for_times, seek, pause/resume --------------------------------------- */

static void check_position(void)
{
    char t[128], group[128];
    name(t, sizeof t, "position");
    name(group, sizeof group, "g-position");
    create_topic(t, 1);
    produce(t, 0, "p-", 0, 30, true); /* offset i has timestamp TS0 + i s */

    /* offsets_for_times: the first offset whose timestamp is >= the time. */
    struct {
        int64_t ts, want;
    } q[] = {{TS0 - 5000, 0}, {TS0 + 10500, 11}, {TS0 + 29000, 29}, {TS0 + 99000, -1}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, t, 0)->offset = q[i].ts;
        rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(producer, l, 10000);
        CHECK(!e && !l->elems[0].err, "offsets_for_times: %s",
              rd_kafka_err2str(e ? e : l->elems[0].err));
        CHECK(l->elems[0].offset == q[i].want,
              "offsets_for_times(TS0%+" PRId64 " ms) = %" PRId64 ", expected %" PRId64,
              (int64_t)(q[i].ts - TS0), l->elems[0].offset, q[i].want);
        rd_kafka_topic_partition_list_destroy(l);
    }
    printf("position: offsets_for_times OK\n");

    const char *topics[] = {t};
    const char *kv[] = {"enable.auto.commit", "false", NULL};
    expect_total = 1;
    consumer_start(&A, "A", group, topics, 1, kv);
    want_a = 5;
    CHECK(poll_until(AB, 1, a_read_enough, 20000), "position: read %d of 5", A.msgs);
    CHECK(A.last_offset == 4, "position: 5th message at %" PRId64, A.last_offset);

    /* seek forward to 20: the next message is offset 20. */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t, 0)->offset = 20;
    rd_kafka_error_t *err = rd_kafka_seek_partitions(A.rk, l, 5000);
    CHECK(!err, "seek_partitions: %s", rd_kafka_error_string(err));
    CHECK(!l->elems[0].err, "seek: %s", rd_kafka_err2str(l->elems[0].err));
    rd_kafka_topic_partition_list_destroy(l);
    want_a = 6;
    CHECK(poll_until(AB, 1, a_read_enough, 10000), "position: nothing after seek");
    CHECK(A.last_offset == 20 && strcmp(A.last, "p-20") == 0,
          "position: after seek(20) got offset %" PRId64 " (%s)", A.last_offset, A.last);

    /* seek back to a time, through offsets_for_times on the consumer: 10.5 s -> 11. */
    l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t, 0)->offset = TS0 + 10500;
    CHECK(rd_kafka_offsets_for_times(A.rk, l, 10000) == 0, "consumer offsets_for_times");
    err = rd_kafka_seek_partitions(A.rk, l, 5000);
    CHECK(!err, "seek back: %s", rd_kafka_error_string(err));
    rd_kafka_topic_partition_list_destroy(l);
    /* Messages after 20 may already be queued from before the seek; read until 11. */
    for (int64_t end = now_ms() + 10000; A.last_offset != 11 && now_ms() < end;) {
        int before = A.msgs;
        poll_one(&A, 50);
        if (A.msgs != before && A.last_offset != 11)
            CHECK(A.last_offset > 20, "position: offset %" PRId64 " before the seek's 11",
                  A.last_offset);
    }
    CHECK(A.last_offset == 11, "position: seek back to 11 read offset %" PRId64, A.last_offset);
    want_a = A.msgs + 18; /* 12..29 */
    CHECK(poll_until(AB, 1, a_read_enough, 10000), "position: read to the end after seek");
    CHECK(A.last_offset == 29, "position: end at %" PRId64, A.last_offset);
    printf("position: seek forward and back (by time) OK\n");

    /* pause: nothing arrives, even for new messages; resume: they all arrive. */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, t, 0);
    CHECK(rd_kafka_pause_partitions(A.rk, parts) == 0, "pause");
    poll_until(AB, 1, NULL, 300); /* drain anything fetched before the pause */
    int before = A.msgs;
    produce(t, 0, "p-", 30, 40, false);
    poll_until(AB, 1, NULL, 2000);
    CHECK(A.msgs == before, "position: %d messages while paused", A.msgs - before);
    CHECK(rd_kafka_resume_partitions(A.rk, parts) == 0, "resume");
    rd_kafka_topic_partition_list_destroy(parts);
    want_a = before + 10;
    CHECK(poll_until(AB, 1, a_read_enough, 10000), "position: read %d of 10 after resume",
          A.msgs - before);
    CHECK(A.last_offset == 39, "position: after resume ended at %" PRId64, A.last_offset);
    consumer_stop(&A, true);
    printf("position: pause/resume OK\n");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST:PORT assignors|static|commit|position\n", argv[0]);
        return 2;
    }
    broker = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(run_id, sizeof run_id, "%ld", (long)time(NULL));
    producer_start();
    if (strcmp(argv[2], "assignors") == 0) {
        check_assignor("range");
        check_assignor("roundrobin");
        check_assignor("cooperative-sticky");
    } else if (strcmp(argv[2], "static") == 0) {
        check_static();
    } else if (strcmp(argv[2], "commit") == 0) {
        check_commit();
    } else if (strcmp(argv[2], "position") == 0) {
        check_position();
    } else {
        FAIL("unknown case %s", argv[2]);
    }
    rd_kafka_destroy(producer);
    printf("PASS %s\n", argv[2]);
    return 0;
}
