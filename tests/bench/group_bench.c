/* SPDX-License-Identifier: Apache-2.0 */
/* Consumer-group benchmark, as librdkafka users see it: starts the `ganglion` program
 * built next to this binary (127.0.0.1:29410, fresh data dir) and drives it with
 * librdkafka (loaded with dlopen: benchmarks not named kafka_* link no client).
 * 1. Rebalance time: 9 consumers own a 60-partition topic; the 10th subscribes; time
 *    until all 10 hold their new assignment (median of RUNS; default heartbeat 3 s and
 *    heartbeat.interval.ms=100, which shows the coordinator's own share).
 * 2. Commit throughput: rd_kafka_commit sync one at a time, and async with many in
 *    flight, with flush=on_ack_all and flush=os. Prints a table; asserts nothing. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT       29410
#define PARTITIONS 60
#define MEMBERS    10
#define RUNS       3

static const char *bootstrap = "127.0.0.1:29410";

/* ---- librdkafka through dlopen ----------------------------------------------------- */

static struct {
    rd_kafka_conf_t *(*conf_new)(void);
    rd_kafka_conf_res_t (*conf_set)(rd_kafka_conf_t *, const char *, const char *, char *, size_t);
    void (*conf_set_opaque)(rd_kafka_conf_t *, void *);
    void (*conf_set_rebalance_cb)(rd_kafka_conf_t *,
                                  void (*)(rd_kafka_t *, rd_kafka_resp_err_t,
                                           rd_kafka_topic_partition_list_t *, void *));
    void (*conf_set_offset_commit_cb)(rd_kafka_conf_t *,
                                      void (*)(rd_kafka_t *, rd_kafka_resp_err_t,
                                               rd_kafka_topic_partition_list_t *, void *));
    rd_kafka_t *(*new_)(rd_kafka_type_t, rd_kafka_conf_t *, char *, size_t);
    void (*destroy)(rd_kafka_t *);
    rd_kafka_resp_err_t (*consumer_close)(rd_kafka_t *);
    rd_kafka_resp_err_t (*poll_set_consumer)(rd_kafka_t *);
    rd_kafka_resp_err_t (*subscribe)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *);
    rd_kafka_message_t *(*consumer_poll)(rd_kafka_t *, int);
    void (*message_destroy)(rd_kafka_message_t *);
    rd_kafka_topic_partition_list_t *(*list_new)(int);
    rd_kafka_topic_partition_t *(*list_add)(rd_kafka_topic_partition_list_t *, const char *,
                                            int32_t);
    void (*list_destroy)(rd_kafka_topic_partition_list_t *);
    rd_kafka_resp_err_t (*assign)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *);
    rd_kafka_resp_err_t (*commit)(rd_kafka_t *, const rd_kafka_topic_partition_list_t *, int);
    rd_kafka_resp_err_t (*metadata)(rd_kafka_t *, int, rd_kafka_topic_t *,
                                    const struct rd_kafka_metadata **, int);
    void (*metadata_destroy)(const struct rd_kafka_metadata *);
    rd_kafka_topic_t *(*topic_new)(rd_kafka_t *, const char *, rd_kafka_topic_conf_t *);
    void (*topic_destroy)(rd_kafka_topic_t *);
    const char *(*err2str)(rd_kafka_resp_err_t);
} rk;

static int load_rdkafka(void)
{
    void *h = dlopen("librdkafka.so.1", RTLD_NOW);
    if (!h) {
        fprintf(stderr, "group_bench: %s (install librdkafka1)\n", dlerror());
        return -1;
    }
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        *(void **)&rk.field = dlsym(h, name);                                                      \
        if (!rk.field) {                                                                           \
            fprintf(stderr, "group_bench: no %s in librdkafka\n", name);                           \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
    SYM(conf_new, "rd_kafka_conf_new");
    SYM(conf_set, "rd_kafka_conf_set");
    SYM(conf_set_opaque, "rd_kafka_conf_set_opaque");
    SYM(conf_set_rebalance_cb, "rd_kafka_conf_set_rebalance_cb");
    SYM(conf_set_offset_commit_cb, "rd_kafka_conf_set_offset_commit_cb");
    SYM(new_, "rd_kafka_new");
    SYM(destroy, "rd_kafka_destroy");
    SYM(consumer_close, "rd_kafka_consumer_close");
    SYM(poll_set_consumer, "rd_kafka_poll_set_consumer");
    SYM(subscribe, "rd_kafka_subscribe");
    SYM(consumer_poll, "rd_kafka_consumer_poll");
    SYM(message_destroy, "rd_kafka_message_destroy");
    SYM(list_new, "rd_kafka_topic_partition_list_new");
    SYM(list_add, "rd_kafka_topic_partition_list_add");
    SYM(list_destroy, "rd_kafka_topic_partition_list_destroy");
    SYM(assign, "rd_kafka_assign");
    SYM(commit, "rd_kafka_commit");
    SYM(metadata, "rd_kafka_metadata");
    SYM(metadata_destroy, "rd_kafka_metadata_destroy");
    SYM(topic_new, "rd_kafka_topic_new");
    SYM(topic_destroy, "rd_kafka_topic_destroy");
    SYM(err2str, "rd_kafka_err2str");
#undef SYM
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the broker process ------------------------------------------------------------- */

static pid_t broker_pid;
static char data_dir[64];

static bool port_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void broker_stop(void)
{
    if (broker_pid <= 0) return;
    kill(broker_pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(broker_pid, NULL, WNOHANG) == broker_pid) {
            broker_pid = 0;
            break;
        }
        usleep(50000);
    }
    if (broker_pid > 0) {
        kill(broker_pid, SIGKILL);
        waitpid(broker_pid, NULL, 0);
        broker_pid = 0;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0) fprintf(stderr, "group_bench: cannot remove %s\n", data_dir);
}

static int broker_start(const char *flush)
{
    char self[PATH_MAX], exe[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0; /* BUILD/tests */
    snprintf(exe, sizeof exe, "%s/../ganglion", self);
    if (access(exe, X_OK) != 0) {
        fprintf(stderr, "group_bench: %s not built\n", exe);
        return -1;
    }
    if (port_open()) {
        fprintf(stderr, "group_bench: port %d busy\n", PORT);
        return -1;
    }
    snprintf(data_dir, sizeof data_dir, "/tmp/gn-group-bench-XXXXXX");
    if (!mkdtemp(data_dir)) return -1;
    char a_dir[128], a_flush[64], a_port[32], a_parts[48];
    snprintf(a_dir, sizeof a_dir, "--data.dir=%s", data_dir);
    snprintf(a_flush, sizeof a_flush, "--flush=%s", flush);
    snprintf(a_port, sizeof a_port, "--kafka.port=%d", PORT);
    snprintf(a_parts, sizeof a_parts, "--num.partitions=%d", PARTITIONS);
    broker_pid = fork();
    if (broker_pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(exe, exe, a_dir, a_flush, a_port, a_parts, "--kafka.host=127.0.0.1", "--mqtt.port=0",
              "--http.port=0", "--group.initial.rebalance.delay.ms=0", "--log.level=warn",
              (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (port_open()) return 0;
        usleep(50000);
    }
    fprintf(stderr, "group_bench: ganglion did not listen within 10 s\n");
    broker_stop();
    return -1;
}

/* ---- consumers ------------------------------------------------------------------------ */

typedef struct member {
    rd_kafka_t *c;
    int owned;       /* partitions of the current assignment */
    int assigns;     /* assign callbacks so far */
    int commits_ok;  /* commit callbacks without error */
    int commits_bad; /* commit callbacks with an error */
} member_t;

static void on_rebalance(rd_kafka_t *c, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    member_t *m = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rk.assign(c, parts);
        m->owned = parts->cnt;
        m->assigns++;
    } else {
        rk.assign(c, NULL);
        m->owned = 0;
    }
}

static void on_commit(rd_kafka_t *c, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)c;
    (void)offsets;
    member_t *m = opaque;
    if (err)
        m->commits_bad++;
    else
        m->commits_ok++;
}

static rd_kafka_t *consumer_new(member_t *m, const char *group, const char *heartbeat_ms)
{
    char err[256];
    rd_kafka_conf_t *conf = rk.conf_new();
    rk.conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err);
    rk.conf_set(conf, "group.id", group, err, sizeof err);
    rk.conf_set(conf, "session.timeout.ms", "10000", err, sizeof err);
    if (heartbeat_ms) rk.conf_set(conf, "heartbeat.interval.ms", heartbeat_ms, err, sizeof err);
    rk.conf_set(conf, "allow.auto.create.topics", "true", err, sizeof err);
    rk.conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rk.conf_set(conf, "log_level", "3", err, sizeof err); /* no offset-reset warnings */
    rk.conf_set_opaque(conf, m);
    rk.conf_set_rebalance_cb(conf, on_rebalance);
    rk.conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_t *c = rk.new_(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c) {
        fprintf(stderr, "group_bench: %s\n", err);
        return NULL;
    }
    rk.poll_set_consumer(c);
    return c;
}

static void subscribe(member_t *m, const char *topic)
{
    rd_kafka_topic_partition_list_t *l = rk.list_new(1);
    rk.list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rk.subscribe(m->c, l);
    rk.list_destroy(l);
}

static void poll_all(member_t *ms, int n)
{
    for (int i = 0; i < n; i++) {
        if (!ms[i].c) continue;
        rd_kafka_message_t *msg = rk.consumer_poll(ms[i].c, 0);
        if (msg) rk.message_destroy(msg);
    }
    usleep(1000);
}

/* All n members hold an assignment newer than since[i] (if given), covering every
 * partition. */
static bool settled(member_t *ms, int n, const int *since)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (ms[i].owned == 0) return false;
        if (since && ms[i].assigns <= since[i]) return false;
        total += ms[i].owned;
    }
    return total == PARTITIONS;
}

static bool wait_settled(member_t *ms, int n, const int *since, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        poll_all(ms, n);
        if (settled(ms, n, since)) return true;
    }
    return false;
}

static void close_member(member_t *m)
{
    if (!m->c) return;
    rk.consumer_close(m->c);
    rk.destroy(m->c);
    m->c = NULL;
    m->owned = 0;
}

static int ensure_topic(const char *topic)
{
    member_t m = {0};
    rd_kafka_t *c = consumer_new(&m, "bench-meta", NULL);
    if (!c) return -1;
    int rc = -1;
    for (int i = 0; i < 50 && rc; i++) { /* metadata for it auto-creates it */
        rd_kafka_topic_t *t = rk.topic_new(c, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (rk.metadata(c, 0, t, &md, 2000) == 0 && md->topic_cnt == 1 &&
            md->topics[0].partition_cnt == PARTITIONS)
            rc = 0;
        if (md) rk.metadata_destroy(md);
        rk.topic_destroy(t);
        if (rc) usleep(100000);
    }
    rk.destroy(c);
    return rc;
}

/* Rebalance time of the 10th member; -1 on timeout. */
static int bench_rebalance(const char *heartbeat_ms, double *out_ms, int runs)
{
    static int round;
    char group[64];
    snprintf(group, sizeof group, "bench-rebalance-%d", round++);
    member_t ms[MEMBERS];
    memset(ms, 0, sizeof ms);
    int rc = -1;
    for (int i = 0; i < MEMBERS - 1; i++) {
        if (!(ms[i].c = consumer_new(&ms[i], group, heartbeat_ms))) goto out;
        subscribe(&ms[i], "bench60");
    }
    if (!wait_settled(ms, MEMBERS - 1, NULL, 60)) {
        fprintf(stderr, "group_bench: 9 members did not settle\n");
        goto out;
    }
    for (int r = 0; r < runs; r++) {
        int since[MEMBERS];
        for (int i = 0; i < MEMBERS; i++)
            since[i] = ms[i].assigns;
        member_t *last = &ms[MEMBERS - 1];
        if (!(last->c = consumer_new(last, group, heartbeat_ms))) goto out;
        double t0 = now_s();
        subscribe(last, "bench60");
        if (!wait_settled(ms, MEMBERS, since, 60)) {
            fprintf(stderr, "group_bench: 10 members did not settle\n");
            goto out;
        }
        out_ms[r] = (now_s() - t0) * 1000;
        close_member(last); /* LeaveGroup: back to 9, settled before the next run */
        for (int i = 0; i < MEMBERS - 1; i++)
            since[i] = ms[i].assigns;
        if (!wait_settled(ms, MEMBERS - 1, since, 60)) goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < MEMBERS; i++)
        close_member(&ms[i]);
    return rc;
}

/* Commits per second: sync (one at a time) for max_s seconds, or async (all in flight). */
static double bench_commits(bool async, int count, double max_s)
{
    member_t m = {0};
    static int round;
    char group[64];
    snprintf(group, sizeof group, "bench-commit-%d", round++);
    if (!(m.c = consumer_new(&m, group, NULL))) return -1;
    rd_kafka_topic_partition_list_t *l = rk.list_new(1);
    rd_kafka_topic_partition_t *tp = rk.list_add(l, "bench60", 0);
    rk.assign(m.c, l); /* manual assignment: simple commits (generation -1) */
    tp->offset = 0;    /* warm-up, untimed: finds and connects to the coordinator */
    if (rk.commit(m.c, l, 0)) fprintf(stderr, "group_bench: warm-up commit failed\n");
    int done = 0;
    double t0 = now_s(), elapsed = 0;
    for (int i = 0; i < count; i++) {
        tp->offset = i + 1;
        rd_kafka_resp_err_t e = rk.commit(m.c, l, async);
        if (e) {
            fprintf(stderr, "group_bench: commit: %s\n", rk.err2str(e));
            break;
        }
        if (!async) {
            done++;
            if (now_s() - t0 > max_s) break;
        }
        if (async && i % 64 == 63) {
            rd_kafka_message_t *msg = rk.consumer_poll(m.c, 0);
            if (msg) rk.message_destroy(msg);
        }
    }
    if (async) {
        while (m.commits_ok + m.commits_bad < count && now_s() - t0 < max_s) {
            rd_kafka_message_t *msg = rk.consumer_poll(m.c, 10);
            if (msg) rk.message_destroy(msg);
        }
        done = m.commits_ok;
        if (m.commits_bad) fprintf(stderr, "group_bench: %d commits failed\n", m.commits_bad);
    }
    elapsed = now_s() - t0;
    rk.list_destroy(l);
    close_member(&m);
    return done / elapsed;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (load_rdkafka()) return 0; /* skipped, not failed */
    int status = 0;
    double reb_default[RUNS], reb_fast[RUNS];
    double sync_ack[RUNS], async_ack[RUNS], sync_os[RUNS], async_os[RUNS];
    const char *flushes[] = {"on_ack_all", "os"};
    for (int f = 0; f < 2; f++) {
        if (broker_start(flushes[f])) return 1;
        if (ensure_topic("bench60")) {
            fprintf(stderr, "group_bench: topic bench60 not created with %d partitions\n",
                    PARTITIONS);
            status = 1;
            goto stop;
        }
        if (f == 0) {
            if (bench_rebalance(NULL, reb_default, RUNS) ||
                bench_rebalance("100", reb_fast, RUNS)) {
                status = 1;
                goto stop;
            }
        }
        for (int r = 0; r < RUNS; r++) {
            double s = bench_commits(false, 100000, 1.0), a = bench_commits(true, 5000, 10.0);
            if (f == 0) {
                sync_ack[r] = s;
                async_ack[r] = a;
            } else {
                sync_os[r] = s;
                async_os[r] = a;
            }
        }
    stop:
        broker_stop();
        if (status) return status;
    }
    printf("consumer groups, librdkafka against ganglion (medians of %d runs)\n", RUNS);
    printf("  %-58s %10.0f ms\n", "rebalance, 10th member joins 9 on 60 partitions (hb 3 s)",
           median(reb_default, RUNS));
    printf("  %-58s %10.0f ms\n", "rebalance, same with heartbeat.interval.ms=100",
           median(reb_fast, RUNS));
    printf("  %-58s %10.0f /s\n", "rd_kafka_commit sync, flush=on_ack_all", median(sync_ack, RUNS));
    printf("  %-58s %10.0f /s\n", "rd_kafka_commit async (5000 in flight), flush=on_ack_all",
           median(async_ack, RUNS));
    printf("  %-58s %10.0f /s\n", "rd_kafka_commit sync, flush=os", median(sync_os, RUNS));
    printf("  %-58s %10.0f /s\n", "rd_kafka_commit async (5000 in flight), flush=os",
           median(async_os, RUNS));
    return status;
}
