/* SPDX-License-Identifier: Apache-2.0 */
/* kafka_bench: the Kafka listener (adapters/kafka, issue #3) driven by librdkafka, in one
 * run: producer rates (100 B and 1 KiB, acks=1 and acks=all) against a real `ganglion`
 * and against librdkafka's in-process mock cluster (the client's ceiling), consumer
 * MiB/s from offset 0 with the broker's VmRSS sampled before/during/after, and
 * end-to-end latency at half the peak rate. Main thread plus one consumer or sampler
 * thread at a time. Prints a table; asserts nothing. See tests/bench/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define KiB        (1024LL)
#define MiB        (1024LL * 1024)
#define GiB        (1024LL * 1024 * 1024)
#define MAX_REPS   15
#define MAX_RSS    4096 /* RSS samples kept (every 100 ms) */
#define LISTEN_TAG "mod=kafka msg=\"listening\""

typedef struct opts {
    const char *ganglion; /* path of the broker program */
    const char *dir;      /* where the temp data dir is made */
    int port;
    int reps;
    double case_s;       /* time bound of one producer case */
    int64_t msgs_1k;     /* messages per producer case, 1 KiB */
    int64_t msgs_100;    /* messages per producer case, 100 B */
    int64_t big_bytes;   /* the large topic read from offset 0 */
    double lat_s;        /* seconds of each latency run */
    double lat_low_rate; /* msg/s of the low-rate latency runs */
    const char *linger;  /* producer linger.ms */
    const char *batch;   /* producer batch.size (NULL: librdkafka's default) */
} opts_t;

/* ---- process, clocks, helpers ----------------------------------------------------- */

static char g_root[PATH_MAX]; /* the run's temp dir, removed at exit */
static volatile pid_t g_broker_pid;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double tmp[MAX_REPS];
    if (n <= 0) return 0;
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void stop_broker(void)
{
    pid_t pid = g_broker_pid;
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* up to 10 s for a clean shutdown */
        if (waitpid(pid, NULL, WNOHANG) == pid) goto out;
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
out:
    g_broker_pid = 0;
}

static void cleanup(void)
{
    stop_broker();
    if (g_root[0]) nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    g_root[0] = '\0';
}

static void on_signal(int sig)
{
    if (g_broker_pid > 0) kill(g_broker_pid, SIGKILL);
    if (g_root[0]) nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "kafka_bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static int64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    switch (*end) {
    case 'k':
    case 'K':
        v *= KiB;
        break;
    case 'm':
    case 'M':
        v *= MiB;
        break;
    case 'g':
    case 'G':
        v *= GiB;
        break;
    case '\0':
        break;
    default:
        return -1;
    }
    return (int64_t)v;
}

/* VmRSS of a process in KiB, -1 if unreadable. */
static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* utime + stime of a process in seconds, -1 if unreadable. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may hold spaces */
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* after ")": state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Default broker path: ../ganglion next to this executable (build/tests/kafka_bench). */
static const char *default_ganglion(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
    if (n <= 0) return "ganglion";
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    if (!slash) return "ganglion";
    strcpy(slash, "/../ganglion");
    return path;
}

/* Starts `ganglion` with a fresh data dir under g_root, its log in g_root/ganglion.log;
 * waits (bounded, 10 s) for the Kafka listening line. */
static void start_broker(const opts_t *o)
{
    char data[PATH_MAX + 16], logp[PATH_MAX + 16], a_data[PATH_MAX + 32], a_port[64];
    snprintf(data, sizeof(data), "%s/data", g_root);
    snprintf(logp, sizeof(logp), "%s/ganglion.log", g_root);
    snprintf(a_data, sizeof(a_data), "--data.dir=%s", data);
    snprintf(a_port, sizeof(a_port), "--kafka.port=%d", o->port);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0) _exit(126);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) dup2(nul, 1);
        execl(o->ganglion, o->ganglion, a_data, "--kafka.host=127.0.0.1", a_port, "--mqtt.port=0",
              "--http.port=0", (char *)NULL);
        _exit(127);
    }
    g_broker_pid = pid;
    for (int i = 0; i < 100; i++) {
        char buf[8192];
        FILE *f = fopen(logp, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof(buf) - 1, f);
            fclose(f);
            buf[n] = '\0';
            if (strstr(buf, LISTEN_TAG)) return;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            g_broker_pid = 0;
            die("ganglion exited during start-up (see %s)", logp);
        }
        usleep(100 * 1000);
    }
    die("no Kafka listening line within 10 s in %s", logp);
}

/* ---- librdkafka plumbing --------------------------------------------------------- */

static void conf_set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) die("conf: %s", err);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3) fprintf(stderr, "  rdkafka %s: %s\n", fac, buf);
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *c, const char *bootstrap)
{
    char err[512];
    conf_set(c, "bootstrap.servers", bootstrap);
    rd_kafka_conf_set_log_cb(c, on_log);
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
    if (!rk) die("rd_kafka_new: %s", err);
    return rk;
}

/* CreateTopics (1 partition) or DeleteTopics on the broker, waiting for the answer. */
static void admin_topic(const char *bootstrap, const char *topic, bool create)
{
    char err[512];
    rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), bootstrap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (create) {
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err, sizeof(err));
        if (!nt) die("NewTopic: %s", err);
        rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        rd_kafka_NewTopic_destroy(nt);
    } else {
        rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
        rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
        rd_kafka_DeleteTopic_destroy(dt);
    }
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev) die("admin request on %s: no answer in 30 s", topic);
    if (rd_kafka_event_error(ev)) die("admin: %s", rd_kafka_event_error_string(ev));
    const rd_kafka_topic_result_t **res;
    size_t n = 0;
    if (create)
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    else
        res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (n == 1 && rd_kafka_topic_result_error(res[0]))
        die("admin: %s", rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* A target: ganglion over TCP, or the mock cluster in this process. */
typedef struct target {
    const char *name;
    char bootstrap[256];
    rd_kafka_mock_cluster_t *mock; /* NULL: ganglion */
    pid_t pid;                     /* ganglion's pid (CPU accounting), 0 for the mock */
} target_t;

static void make_topic(const target_t *t, const char *topic)
{
    if (t->mock) {
        if (rd_kafka_mock_topic_create(t->mock, topic, 1, 1)) die("mock topic %s", topic);
    } else {
        admin_topic(t->bootstrap, topic, true);
    }
}

static void drop_topic(const target_t *t, const char *topic)
{
    if (!t->mock) admin_topic(t->bootstrap, topic, false);
}

/* ---- producer cases ---------------------------------------------------------------- */

typedef struct prod_stats {
    atomic_long delivered;
    atomic_long failed;
    rd_kafka_resp_err_t first_err;
} prod_stats_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    prod_stats_t *s = opaque;
    if (m->err) {
        if (!atomic_fetch_add(&s->failed, 1)) s->first_err = m->err;
    } else {
        atomic_fetch_add(&s->delivered, 1);
    }
}

static rd_kafka_t *new_producer(const opts_t *o, const target_t *t, const char *acks,
                                const char *linger, prod_stats_t *s)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    conf_set(c, "acks", acks);
    conf_set(c, "linger.ms", linger);
    if (o->batch) conf_set(c, "batch.size", o->batch);
    conf_set(c, "enable.idempotence", "false");
    conf_set(c, "compression.codec", "none");
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_conf_set_opaque(c, s);
    return new_client(RD_KAFKA_PRODUCER, c, t->bootstrap);
}

/* produce() of one copied message to partition 0, waiting for queue room. */
static void produce_one(rd_kafka_t *rk, rd_kafka_topic_t *rkt, void *val, size_t len)
{
    while (rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, val, len, NULL, 0, NULL) != 0) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            die("produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_poll(rk, 1);
    }
}

typedef struct prod_result {
    double msgs_s, mib_s;
    double broker_cpu_per_gib; /* broker CPU seconds per GiB of values, -1 for the mock */
    int64_t sent;
    bool bounded; /* stopped by the time bound before the count */
} prod_result_t;

/* One case: count messages of size bytes, bounded by o->case_s; the rate is taken from
 * the first produce() to the last delivery report (connection and metadata warmed up
 * by one untimed message). */
static prod_result_t produce_case(const opts_t *o, const target_t *t, const char *topic, int size,
                                  const char *acks, int64_t count)
{
    prod_result_t r = {0};
    prod_stats_t s = {0};
    make_topic(t, topic);
    rd_kafka_t *rk = new_producer(o, t, acks, o->linger, &s);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *val = malloc((size_t)size);
    memset(val, 'x', (size_t)size);

    produce_one(rk, rkt, val, (size_t)size); /* warm-up: connect, metadata, first batch */
    rd_kafka_flush(rk, 30000);
    if (atomic_load(&s.delivered) != 1) die("warm-up message not delivered to %s", t->name);
    atomic_store(&s.delivered, 0);

    double cpu0 = t->pid ? proc_cpu_s(t->pid) : 0;
    double t0 = now_s(), deadline = t0 + o->case_s;
    int64_t i;
    for (i = 0; i < count; i++) {
        produce_one(rk, rkt, val, (size_t)size);
        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
            if (now_s() > deadline) {
                r.bounded = true;
                break;
            }
        }
    }
    r.sent = i;
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("flush timed out on %s", t->name);
    double el = now_s() - t0;
    double cpu1 = t->pid ? proc_cpu_s(t->pid) : 0;
    long ok = atomic_load(&s.delivered);
    if (atomic_load(&s.failed))
        fprintf(stderr, "  %s %s: %ld delivery failures (%s)\n", t->name, topic,
                atomic_load(&s.failed), rd_kafka_err2str(s.first_err));
    r.msgs_s = (double)ok / el;
    r.mib_s = (double)ok * size / (double)MiB / el;
    r.broker_cpu_per_gib = t->pid ? (cpu1 - cpu0) / ((double)ok * size / (double)GiB) : -1;
    free(val);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    drop_topic(t, topic);
    return r;
}

/* ---- consumer from offset 0, broker RSS sampled ---------------------------------- */

typedef struct sampler {
    pthread_t th;
    pid_t pid;
    atomic_bool stop;
    long kib[MAX_RSS];
    int n;
} sampler_t;

static void *sampler_main(void *arg)
{
    sampler_t *s = arg;
    while (!atomic_load(&s->stop) && s->n < MAX_RSS) {
        s->kib[s->n++] = rss_kib(s->pid);
        usleep(100 * 1000);
    }
    return NULL;
}

static rd_kafka_t *new_consumer(const target_t *t, const char *group)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    conf_set(c, "group.id", group); /* assign() only: never joins */
    conf_set(c, "enable.auto.commit", "false");
    conf_set(c, "enable.auto.offset.store", "false");
    conf_set(c, "auto.offset.reset", "earliest");
    return new_client(RD_KAFKA_CONSUMER, c, t->bootstrap);
}

static void assign_at(rd_kafka_t *rk, const char *topic, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0)->offset = offset;
    if (rd_kafka_assign(rk, l)) die("assign %s", topic);
    rd_kafka_topic_partition_list_destroy(l);
}

typedef struct cons_result {
    double mib_s, msgs_s, secs;
    int64_t bytes, msgs;
    double broker_cpu_per_gib;
} cons_result_t;

/* Reads topic partition 0 from offset 0 up to end_offset; value bytes per second. */
static cons_result_t consume_all(const target_t *t, const char *topic, int64_t end_offset,
                                 double limit_s)
{
    cons_result_t r = {0};
    rd_kafka_t *rk = new_consumer(t, "kafka-bench-read");
    rd_kafka_poll_set_consumer(rk);
    double cpu0 = proc_cpu_s(t->pid);
    double t0 = now_s();
    assign_at(rk, topic, 0);
    int64_t next = 0;
    while (next < end_offset && now_s() - t0 < limit_s) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "  consume: %s\n", rd_kafka_message_errstr(m));
        } else {
            r.bytes += (int64_t)m->len;
            r.msgs++;
            next = m->offset + 1;
        }
        rd_kafka_message_destroy(m);
    }
    r.secs = now_s() - t0;
    double cpu1 = proc_cpu_s(t->pid);
    if (next < end_offset)
        fprintf(stderr,
                "  consume stopped by the %.0f s bound at offset %" PRId64 " of %" PRId64 "\n",
                limit_s, next, end_offset);
    r.mib_s = (double)r.bytes / (double)MiB / r.secs;
    r.msgs_s = (double)r.msgs / r.secs;
    r.broker_cpu_per_gib = (cpu1 - cpu0) / ((double)r.bytes / (double)GiB);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return r;
}

/* ---- end-to-end latency ------------------------------------------------------------- */

#define LAT_WINDOWS 8 /* the run is also cut into this many windows by send time */

typedef struct lat_run {
    const target_t *t;
    const char *topic;
    int64_t expect; /* messages after the warm-up */
    atomic_bool ready, stop;
    atomic_llong got;
    double *us; /* latency by sequence number, microseconds; < 0: not received */
} lat_run_t;

/* Payload: [int64 monotonic ns at produce()][int64 sequence, -1 = warm-up][padding]. */
static void *lat_consumer(void *arg)
{
    lat_run_t *L = arg;
    rd_kafka_t *rk = new_consumer(L->t, "kafka-bench-latency");
    rd_kafka_poll_set_consumer(rk);
    assign_at(rk, L->topic, 0);
    while (!atomic_load(&L->stop) && atomic_load(&L->got) < L->expect) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
        if (!m) continue;
        int64_t now = now_ns();
        if (!m->err && m->len >= 16) {
            int64_t ts, seq;
            memcpy(&ts, m->payload, 8);
            memcpy(&seq, (char *)m->payload + 8, 8);
            if (seq < 0) {
                atomic_store(&L->ready, true);
            } else if (seq < L->expect && L->us[seq] < 0) {
                L->us[seq] = (double)(now - ts) / 1e3;
                atomic_fetch_add(&L->got, 1);
            }
        } else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "  latency consumer on %s: %s\n", L->t->name,
                    rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

typedef struct lat_result {
    double p50, p99, p999, max; /* ms */
    double win_p99[LAT_WINDOWS];
    double rate; /* achieved msgs/s */
    int64_t sent, got;
} lat_result_t;

/* Percentiles of v[0..n) (sorted in place), in ms from microseconds. */
static double pct(const double *v, int64_t n, double p)
{
    if (n <= 0) return 0;
    int64_t i = (int64_t)(p * (double)(n - 1) + 0.5);
    return v[i] / 1e3;
}

static int64_t gather(const double *us, int64_t from, int64_t to, double *out)
{
    int64_t n = 0;
    for (int64_t i = from; i < to; i++)
        if (us[i] >= 0) out[n++] = us[i];
    qsort(out, (size_t)n, sizeof(double), cmp_double);
    return n;
}

/* acks=1 producer paced at rate msg/s for o->lat_s seconds (after a warm-up), with a
 * consumer thread on the same partition from offset 0; latency = consumer's receive
 * time - the producer's time just before produce(), both CLOCK_MONOTONIC. */
static lat_result_t latency_run(const opts_t *o, const target_t *t, const char *topic,
                                const char *linger, double rate, int size)
{
    lat_result_t r = {0};
    prod_stats_t s = {0};
    lat_run_t L = {.t = t, .topic = topic};
    L.expect = (int64_t)(rate * o->lat_s);
    L.us = malloc(((size_t)L.expect + 1) * sizeof(double));
    double *tmp = malloc(((size_t)L.expect + 1) * sizeof(double));
    for (int64_t i = 0; i < L.expect; i++)
        L.us[i] = -1;
    make_topic(t, topic);
    rd_kafka_t *rk = new_producer(o, t, "1", linger, &s);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *val = calloc(1, (size_t)size);
    pthread_t th;
    pthread_create(&th, NULL, lat_consumer, &L);

    /* Warm-up: until the consumer has seen a warm-up message (its fetch loop runs). */
    int64_t seq = -1;
    double w0 = now_s();
    while (!atomic_load(&L.ready) && now_s() - w0 < 30) {
        int64_t ts = now_ns();
        memcpy(val, &ts, 8);
        memcpy(val + 8, &seq, 8);
        produce_one(rk, rkt, val, (size_t)size);
        rd_kafka_poll(rk, 20);
    }
    if (!atomic_load(&L.ready)) die("latency: consumer on %s saw nothing in 30 s", t->name);
    rd_kafka_flush(rk, 10000);

    /* Paced: every ~100 us send what the schedule owes by now. */
    double t0 = now_s();
    int64_t sent = 0;
    while (sent < L.expect) {
        double el = now_s() - t0;
        int64_t owed = (int64_t)(el * rate) + 1;
        if (owed > L.expect) owed = L.expect;
        while (sent < owed) {
            int64_t ts = now_ns();
            memcpy(val, &ts, 8);
            memcpy(val + 8, &sent, 8);
            produce_one(rk, rkt, val, (size_t)size);
            sent++;
        }
        rd_kafka_poll(rk, 0);
        if (el > o->lat_s * 3 + 10) break; /* the client cannot keep up: stop */
        struct timespec nap = {0, 100 * 1000};
        nanosleep(&nap, NULL);
    }
    double el = now_s() - t0;
    rd_kafka_flush(rk, 30000);
    double c0 = now_s(); /* bounded wait for the consumer, then stop it */
    while (atomic_load(&L.got) < sent && now_s() - c0 < 10)
        usleep(10 * 1000);
    atomic_store(&L.stop, true);
    pthread_join(th, NULL);

    r.sent = sent;
    r.got = atomic_load(&L.got);
    r.rate = (double)sent / el;
    for (int w = 0; w < LAT_WINDOWS; w++) {
        int64_t n = gather(L.us, sent * w / LAT_WINDOWS, sent * (w + 1) / LAT_WINDOWS, tmp);
        r.win_p99[w] = pct(tmp, n, 0.99);
    }
    int64_t n = gather(L.us, 0, sent, tmp);
    r.p50 = pct(tmp, n, 0.50);
    r.p99 = pct(tmp, n, 0.99);
    r.p999 = pct(tmp, n, 0.999);
    r.max = pct(tmp, n, 1.0);
    free(tmp);
    free(L.us);
    free(val);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    drop_topic(t, topic);
    return r;
}

static void print_latency(const char *name, const char *linger, double asked, const lat_result_t *L)
{
    printf("  latency %-8s linger.ms=%s at %.0f msg/s (asked %.0f): p50 %.2f p99 %.2f p99.9 %.2f"
           " max %.2f ms; %" PRId64 "/%" PRId64 " received; p99 per 1/%d of the run:",
           name, linger, L->rate, asked, L->p50, L->p99, L->p999, L->max, L->got, L->sent,
           LAT_WINDOWS);
    for (int w = 0; w < LAT_WINDOWS; w++)
        printf(" %.1f", L->win_p99[w]);
    printf("\n");
    fflush(stdout);
}

/* ---- main -------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: kafka_bench [--ganglion PATH] [--dir DIR] [--port N] [--reps N] [--case-s S]\n"
            "                   [--msgs-1k N] [--msgs-100 N] [--big BYTES] [--lat-s S]\n"
            "                   [--lat-rate N] [--linger MS] [--batch BYTES]\n"
            "  --ganglion  broker program (default: ../ganglion next to this executable)\n"
            "  --dir       where the temp data dir is made (default /var/tmp)\n"
            "  --port      Kafka port on 127.0.0.1 (default 29301)\n"
            "  --reps      producer repetitions, medians reported (default 3)\n"
            "  --case-s    time bound of one producer case in seconds (default 10)\n"
            "  --msgs-1k   messages per 1 KiB producer case (default 1500000)\n"
            "  --msgs-100  messages per 100 B producer case (default 4000000)\n"
            "  --big       size of the topic read from offset 0, K/M/G (default 3G)\n"
            "  --lat-s     seconds per latency run (default 4)\n"
            "  --lat-rate  msg/s of the low-rate latency runs, ganglion and mock (default 10000)\n"
            "  --linger    producer linger.ms (default 5)\n"
            "  --batch     producer batch.size (default: librdkafka's, 1000000)\n");
    exit(2);
}

typedef struct prod_case {
    int size;
    const char *acks;
    prod_result_t g[MAX_REPS], m[MAX_REPS];
    double ratio[MAX_REPS];
} prod_case_t;

static double med_field(const prod_result_t *v, int n, size_t off)
{
    double x[MAX_REPS];
    for (int i = 0; i < n; i++)
        x[i] = *(const double *)((const char *)&v[i] + off);
    return median(x, n);
}

int main(int argc, char **argv)
{
    opts_t o = {.ganglion = NULL,
                .dir = "/var/tmp",
                .port = 29301,
                .reps = 3,
                .case_s = 10,
                .msgs_1k = 1500000,
                .msgs_100 = 4000000,
                .big_bytes = 3 * GiB,
                .lat_s = 4,
                .lat_low_rate = 10000,
                .linger = "5",
                .batch = NULL};
    static const struct option lopts[] = {
        {"ganglion", required_argument, 0, 'g'}, {"dir", required_argument, 0, 'd'},
        {"port", required_argument, 0, 'p'},     {"reps", required_argument, 0, 'n'},
        {"case-s", required_argument, 0, 'c'},   {"msgs-1k", required_argument, 0, 'k'},
        {"msgs-100", required_argument, 0, 'h'}, {"big", required_argument, 0, 'b'},
        {"lat-s", required_argument, 0, 'l'},    {"linger", required_argument, 0, 'L'},
        {"batch", required_argument, 0, 'B'},    {"lat-rate", required_argument, 0, 'R'},
        {"help", no_argument, 0, '?'},           {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 'g':
            o.ganglion = optarg;
            break;
        case 'd':
            o.dir = optarg;
            break;
        case 'p':
            o.port = atoi(optarg);
            break;
        case 'n':
            o.reps = atoi(optarg);
            break;
        case 'c':
            o.case_s = atof(optarg);
            break;
        case 'k':
            o.msgs_1k = parse_size(optarg);
            break;
        case 'h':
            o.msgs_100 = parse_size(optarg);
            break;
        case 'b':
            o.big_bytes = parse_size(optarg);
            break;
        case 'l':
            o.lat_s = atof(optarg);
            break;
        case 'L':
            o.linger = optarg;
            break;
        case 'B':
            o.batch = optarg;
            break;
        case 'R':
            o.lat_low_rate = atof(optarg);
            break;
        default:
            usage();
        }
    }
    if (!o.ganglion) o.ganglion = default_ganglion();
    if (o.reps <= 0 || o.reps > MAX_REPS || o.case_s <= 0 || o.msgs_1k <= 0 || o.msgs_100 <= 0 ||
        o.big_bytes < MiB || o.lat_s <= 0 || o.lat_low_rate <= 0 || o.port <= 0)
        usage();
    if (access(o.ganglion, X_OK) != 0) die("broker program %s not found (--ganglion)", o.ganglion);

    snprintf(g_root, sizeof(g_root), "%s/kafka_bench.XXXXXX", o.dir);
    if (!mkdtemp(g_root)) {
        g_root[0] = '\0';
        die("mkdtemp: %s", strerror(errno));
    }
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    double run0 = now_s();

    start_broker(&o);
    target_t gan = {.name = "ganglion", .pid = g_broker_pid};
    snprintf(gan.bootstrap, sizeof(gan.bootstrap), "127.0.0.1:%d", o.port);

    /* The mock cluster lives in a handle of its own for the whole run. */
    char err[512];
    rd_kafka_conf_t *mc = rd_kafka_conf_new();
    conf_set(mc, "log_level", "3");
    rd_kafka_t *mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, mc, err, sizeof(err));
    if (!mock_rk) die("mock handle: %s", err);
    target_t mock = {.name = "mock", .mock = rd_kafka_mock_cluster_new(mock_rk, 1)};
    if (!mock.mock) die("%s", "rd_kafka_mock_cluster_new failed");
    snprintf(mock.bootstrap, sizeof(mock.bootstrap), "%s",
             rd_kafka_mock_cluster_bootstraps(mock.mock));

    printf(
        "kafka_bench: ganglion's Kafka listener vs librdkafka's mock cluster (client ceiling)\n");
    printf("  librdkafka %s; ganglion %s pid %d on %s, data in %s; %ld cores\n",
           rd_kafka_version_str(), o.ganglion, (int)gan.pid, gan.bootstrap, g_root,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  producer: linger.ms=%s batch.size=%s, no compression, no idempotence, 1 partition,"
           " %d reps (targets alternate order), each case <= %.0f s\n",
           o.linger, o.batch ? o.batch : "default", o.reps, o.case_s);
    fflush(stdout);

    /* 1. Producer cases. */
    prod_case_t pc[4] = {{.size = 100, .acks = "1"},
                         {.size = 1024, .acks = "1"},
                         {.size = 100, .acks = "all"},
                         {.size = 1024, .acks = "all"}};
    for (int rep = 0; rep < o.reps; rep++) {
        for (int k = 0; k < 4; k++) {
            prod_case_t *p = &pc[k];
            int64_t count = p->size == 100 ? o.msgs_100 : o.msgs_1k;
            char topic[128];
            for (int side = 0; side < 2; side++) {
                bool ganglion_now = (side == 0) == (rep % 2 == 0);
                snprintf(topic, sizeof(topic), "p%d-acks%s-r%d-%s", p->size, p->acks, rep,
                         ganglion_now ? "g" : "m");
                if (ganglion_now)
                    p->g[rep] = produce_case(&o, &gan, topic, p->size, p->acks, count);
                else
                    p->m[rep] = produce_case(&o, &mock, topic, p->size, p->acks, count);
            }
            p->ratio[rep] = p->g[rep].msgs_s / p->m[rep].msgs_s;
            printf("  rep %d %5d B acks=%-3s ganglion %9.0f msg/s %7.1f MiB/s%s | mock %9.0f msg/s"
                   " %7.1f MiB/s%s | ratio %.2f | broker %.2f CPU s/GiB\n",
                   rep, p->size, p->acks, p->g[rep].msgs_s, p->g[rep].mib_s,
                   p->g[rep].bounded ? " (time-bound)" : "", p->m[rep].msgs_s, p->m[rep].mib_s,
                   p->m[rep].bounded ? " (time-bound)" : "", p->ratio[rep],
                   p->g[rep].broker_cpu_per_gib);
            fflush(stdout);
        }
    }
    double prod_s = now_s() - run0;

    /* 2. A large topic, read from offset 0 (3 times) with the broker's RSS sampled. */
    const int big_size = 1024;
    int64_t big_msgs = o.big_bytes / big_size;
    prod_stats_t bs = {0};
    make_topic(&gan, "big");
    rd_kafka_t *bp = new_producer(&o, &gan, "1", o.linger, &bs);
    rd_kafka_topic_t *bt = rd_kafka_topic_new(bp, "big", NULL);
    char *bval = malloc(big_size);
    memset(bval, 'y', big_size);
    double b0 = now_s();
    for (int64_t i = 0; i < big_msgs; i++) {
        produce_one(bp, bt, bval, big_size);
        if ((i & 1023) == 0) rd_kafka_poll(bp, 0);
    }
    rd_kafka_flush(bp, 120000);
    double big_fill_s = now_s() - b0;
    if (atomic_load(&bs.delivered) != big_msgs)
        fprintf(stderr, "  big topic: %ld of %" PRId64 " delivered\n", atomic_load(&bs.delivered),
                big_msgs);
    free(bval);
    rd_kafka_topic_destroy(bt);
    rd_kafka_destroy(bp);
    printf("  big topic: %" PRId64 " x %d B (%.2f GiB of values) produced in %.1f s (%.0f MiB/s)\n",
           big_msgs, big_size, (double)big_msgs * big_size / GiB, big_fill_s,
           (double)big_msgs * big_size / MiB / big_fill_s);
    fflush(stdout);

    sleep(1);
    long rss_before = rss_kib(gan.pid);
    sampler_t *smp = calloc(1, sizeof(*smp));
    smp->pid = gan.pid;
    pthread_create(&smp->th, NULL, sampler_main, smp);
    cons_result_t cr[MAX_REPS];
    double cons_mib[MAX_REPS], cons_msgs[MAX_REPS], cons_cpu[MAX_REPS];
    for (int rep = 0; rep < o.reps; rep++) {
        cr[rep] = consume_all(&gan, "big", big_msgs, 120);
        cons_mib[rep] = cr[rep].mib_s;
        cons_msgs[rep] = cr[rep].msgs_s;
        cons_cpu[rep] = cr[rep].broker_cpu_per_gib;
        printf("  read 0..end rep %d: %.2f GiB in %.1f s = %.1f MiB/s, %.0f msg/s, broker %.2f CPU"
               " s/GiB\n",
               rep, (double)cr[rep].bytes / GiB, cr[rep].secs, cr[rep].mib_s, cr[rep].msgs_s,
               cr[rep].broker_cpu_per_gib);
        fflush(stdout);
    }
    atomic_store(&smp->stop, true);
    pthread_join(smp->th, NULL);
    sleep(1);
    long rss_after = rss_kib(gan.pid);
    long rss_min = LONG_MAX, rss_max = 0;
    for (int i = 0; i < smp->n; i++) {
        if (smp->kib[i] < rss_min) rss_min = smp->kib[i];
        if (smp->kib[i] > rss_max) rss_max = smp->kib[i];
    }
    printf("  broker VmRSS (KiB) every 100 ms during the reads, %d samples:", smp->n);
    int step = smp->n > 40 ? smp->n / 40 : 1;
    for (int i = 0; i < smp->n; i += step)
        printf(" %ld", smp->kib[i]);
    printf("\n");

    /* 3. End-to-end latency: at half the peak 1 KiB acks=1 rate against ganglion (the
     * mock keeps ~5 MiB per partition, so its consumer falls off the log at that rate);
     * and at a low fixed rate against both. */
    double peak = med_field(pc[1].g, o.reps, offsetof(prod_result_t, msgs_s));
    double lat_rate = peak / 2;
    const char *lingers[2] = {o.linger, "0"};
    lat_result_t lat_hi[2], lat_lo[2][2];
    for (int li = 0; li < 2; li++) {
        char topic[64];
        snprintf(topic, sizeof(topic), "lat-hi-l%s", lingers[li]);
        lat_hi[li] = latency_run(&o, &gan, topic, lingers[li], lat_rate, 1024);
        print_latency("ganglion", lingers[li], lat_rate, &lat_hi[li]);
        for (int side = 0; side < 2; side++) {
            const target_t *t = side == 0 ? &gan : &mock;
            snprintf(topic, sizeof(topic), "lat-lo-l%s-%s", lingers[li], t->name);
            lat_lo[li][side] = latency_run(&o, t, topic, lingers[li], o.lat_low_rate, 1024);
            print_latency(t->name, lingers[li], o.lat_low_rate, &lat_lo[li][side]);
        }
    }
    long rss_end = rss_kib(gan.pid);
    double total_s = now_s() - run0;

    /* The table. */
    printf("\n%-34s %12s %12s %7s  %-22s %s\n", "figure (medians)", "ganglion", "mock(ceil)",
           "ratio", "target", "");
    for (int k = 0; k < 4; k++) {
        prod_case_t *p = &pc[k];
        char fig[64];
        double gm = med_field(p->g, o.reps, offsetof(prod_result_t, msgs_s));
        double mm = med_field(p->m, o.reps, offsetof(prod_result_t, msgs_s));
        double gb = med_field(p->g, o.reps, offsetof(prod_result_t, mib_s));
        double mb = med_field(p->m, o.reps, offsetof(prod_result_t, mib_s));
        double ra = median(p->ratio, o.reps);
        bool tgt = p->size == 1024;
        snprintf(fig, sizeof(fig), "produce %4d B acks=%s msg/s", p->size, p->acks);
        printf("%-34s %12.0f %12.0f %7.2f  %-22s %s\n", fig, gm, mm, ra,
               tgt ? ">= 0.90 of the mock" : "-", tgt ? (ra >= 0.9 ? "met" : "NOT met") : "");
        snprintf(fig, sizeof(fig), "produce %4d B acks=%s MiB/s", p->size, p->acks);
        printf("%-34s %12.1f %12.1f\n", fig, gb, mb);
    }
    printf("%-34s %12.1f %12s %7s  %-22s\n", "consume 0..end MiB/s (1 KiB)",
           median(cons_mib, o.reps), "-", "", "-");
    printf("%-34s %12.0f\n", "consume 0..end msg/s", median(cons_msgs, o.reps));
    for (int li = 0; li < 2; li++) {
        char fig[64], gs[48], ms[48];
        snprintf(fig, sizeof(fig), "e2e ms p50/p99/p99.9 half peak l=%s", lingers[li]);
        snprintf(gs, sizeof(gs), "%.1f/%.1f/%.1f", lat_hi[li].p50, lat_hi[li].p99, lat_hi[li].p999);
        printf("%-34s %16s %16s %7s  %-22s %s\n", fig, gs, "(mock cannot)", "", "p99 <= 5 ms",
               lat_hi[li].p99 <= 5.0 ? "met" : "NOT met");
        snprintf(fig, sizeof(fig), "e2e ms p50/p99/p99.9 %.0f/s l=%s", o.lat_low_rate, lingers[li]);
        snprintf(gs, sizeof(gs), "%.2f/%.2f/%.2f", lat_lo[li][0].p50, lat_lo[li][0].p99,
                 lat_lo[li][0].p999);
        snprintf(ms, sizeof(ms), "%.2f/%.2f/%.2f", lat_lo[li][1].p50, lat_lo[li][1].p99,
                 lat_lo[li][1].p999);
        printf("%-34s %16s %16s %7s  %-22s %s\n", fig, gs, ms, "", "p99 <= 5 ms",
               lat_lo[li][0].p99 <= 5.0 ? "met" : "NOT met");
    }
    printf("%-34s %12ld %12s %7s  %-22s\n", "broker VmRSS before reads (KiB)", rss_before, "", "",
           "flat");
    printf("%-34s %12ld %12s %7.2f  %-22s %s\n", "broker VmRSS max during (KiB)", rss_max, "",
           (double)rss_max / (double)rss_before, "flat (<= 1.25x)",
           rss_max <= rss_before * 1.25 ? "met" : "NOT met");
    printf("%-34s %12ld\n", "broker VmRSS min during (KiB)", rss_min);
    printf("%-34s %12ld\n", "broker VmRSS after reads (KiB)", rss_after);
    printf("%-34s %12ld\n", "broker VmRSS at the end (KiB)", rss_end);

    printf("\ndetails:\n");
    printf("  ratio = ganglion msg/s / mock msg/s in the same repetition (median of %d); the mock"
           " runs inside this process, ganglion in its own, on the same cores\n",
           o.reps);
    printf("  consume: 1 KiB values, %.2f GiB from offset 0 via assign(), librdkafka's default"
           " fetch settings, %d reads; broker CPU %.2f s per GiB read (median)\n",
           (double)big_msgs * big_size / GiB, o.reps, median(cons_cpu, o.reps));
    printf("  latency: 1 KiB, acks=1, at half the median ganglion 1 KiB acks=1 rate (%.0f msg/s)"
           " for %.0f s, CLOCK_MONOTONIC ns in the payload, producer and consumer in this"
           " process\n",
           lat_rate, o.lat_s);
    printf("  broker CPU per GiB produced (median):");
    for (int k = 0; k < 4; k++)
        printf(" %dB/acks=%s %.2f s", pc[k].size, pc[k].acks,
               med_field(pc[k].g, o.reps, offsetof(prod_result_t, broker_cpu_per_gib)));
    printf("\n  producer phase %.1f s, whole run %.1f s\n", prod_s, total_s);
    fflush(stdout);

    free(smp);
    rd_kafka_mock_cluster_destroy(mock.mock);
    rd_kafka_destroy(mock_rk);
    return 0;
}
