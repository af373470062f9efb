/* SPDX-License-Identifier: Apache-2.0 */
/* kafka_bench: the Kafka listener (adapters/kafka, issue #3) driven by librdkafka, in one
 * run: producer rates (100 B and 1 KiB, acks=1 and acks=all) against a real `ganglion`
 * and against librdkafka's in-process mock cluster (the client's ceiling), consumer
 * MiB/s from offset 0 with the broker's VmRSS sampled before/during/after, and
 * end-to-end latency at half the peak rate and at a low rate. Main thread plus one
 * consumer or sampler thread at a time. Prints a table; asserts nothing. Method and
 * figures: docs/performance.md, "Kafka protocol (issue #3)". */
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
#define MAX_REPS   31
#define MAX_RSS    4096 /* RSS samples kept (every 100 ms) */
#define LISTEN_TAG "mod=kafka msg=\"listening\""

typedef struct opts {
    const char *ganglion; /* path of the broker program */
    const char *dir;      /* where the temp data dir is made */
    int port;
    int reps;
    int windows;         /* producer windows per case (alternating targets) */
    double window_s;     /* time bound of one producer window */
    const char *phases;  /* p = produce, c = consume, l = latency */
    double lat_high;     /* high latency rate when the produce phase is skipped */
    int64_t msgs_1k;     /* messages per producer case, 1 KiB */
    int64_t msgs_100;    /* messages per producer case, 100 B */
    int64_t big_bytes;   /* the large topic read from offset 0 */
    double lat_s;        /* seconds of each latency run */
    double lat_low_rate; /* msg/s of the low-rate latency runs */
    int lat_reps;        /* rounds of the whole latency grid, medians reported */
    const char *linger;  /* producer linger.ms */
    const char *batch;   /* producer batch.size (NULL: librdkafka's default) */
    const char *cases;   /* producer cases to run, "SIZE/ACKS,..." (NULL: all four) */
    int passes;          /* reads of the small topic per re-read window */
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

/* CPU time of this process (every thread: the client's, and the mock's when it runs). */
static double self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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
            if ((f = fopen(logp, "r"))) { /* its log goes with the temp dir: show it */
                size_t n = fread(buf, 1, sizeof(buf) - 1, f);
                fclose(f);
                buf[n] = '\0';
                fprintf(stderr, "%s", buf);
            }
            die("ganglion exited during start-up (port %s in use?)", a_port);
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
    const char *fetch_wait;        /* consumer fetch.wait.max.ms, NULL: librdkafka's 500 */
} target_t;

static void make_topic(const target_t *t, const char *topic)
{
    if (t->mock) {
        if (rd_kafka_mock_topic_create(t->mock, topic, 1, 1)) die("mock topic %s", topic);
    } else {
        admin_topic(t->bootstrap, topic, true);
    }
}

/* Deletes topic on ganglion (the mock's go with it); prints how long DeleteTopics took. */
static void drop_topic(const target_t *t, const char *topic)
{
    if (t->mock) return;
    double t0 = now_s();
    admin_topic(t->bootstrap, topic, false);
    printf("  DeleteTopics %s: answered in %.0f ms\n", topic, (now_s() - t0) * 1e3);
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
    double cpu_us_per_msg;     /* this process + the broker: CPU microseconds per message */
    int64_t sent;
    bool bounded; /* stopped by the time bound before the count */
} prod_result_t;

/* One producer on one target, kept open for a whole case (all its windows). */
typedef struct producer {
    const target_t *t;
    char topic[128];
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    prod_stats_t s;
} producer_t;

static void producer_open(producer_t *p, const opts_t *o, const target_t *t, const char *topic,
                          const char *acks, const char *val, int size)
{
    p->t = t;
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    make_topic(t, topic);
    p->rk = new_producer(o, t, acks, o->linger, &p->s);
    p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    produce_one(p->rk, p->rkt, (void *)val, (size_t)size); /* connect, metadata, first batch */
    rd_kafka_flush(p->rk, 30000);
    if (atomic_load(&p->s.delivered) != 1) die("warm-up message not delivered to %s", t->name);
}

static void producer_close(producer_t *p)
{
    if (atomic_load(&p->s.failed))
        fprintf(stderr, "  %s %s: %ld delivery failures (%s)\n", p->t->name, p->topic,
                atomic_load(&p->s.failed), rd_kafka_err2str(p->s.first_err));
    rd_kafka_topic_destroy(p->rkt);
    rd_kafka_destroy(p->rk);
    drop_topic(p->t, p->topic);
}

/* One window: count messages, bounded by o->window_s; the rate is taken from the first
 * produce() to the last delivery report of the window (flush). */
static prod_result_t produce_window(const opts_t *o, producer_t *p, const char *val, int size,
                                    int64_t count)
{
    prod_result_t r = {0};
    long ok0 = atomic_load(&p->s.delivered);
    double cpu0 = p->t->pid ? proc_cpu_s(p->t->pid) : 0, self0 = self_cpu_s();
    double t0 = now_s(), deadline = t0 + o->window_s;
    int64_t i;
    for (i = 0; i < count; i++) {
        produce_one(p->rk, p->rkt, (void *)val, (size_t)size);
        if ((i & 1023) == 0) {
            rd_kafka_poll(p->rk, 0);
            if (now_s() > deadline) {
                r.bounded = true;
                break;
            }
        }
    }
    r.sent = i;
    if (rd_kafka_flush(p->rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("flush timed out on %s", p->t->name);
    double el = now_s() - t0;
    double cpu1 = p->t->pid ? proc_cpu_s(p->t->pid) : 0, self1 = self_cpu_s();
    long ok = atomic_load(&p->s.delivered) - ok0;
    r.cpu_us_per_msg = (self1 - self0 + cpu1 - cpu0) * 1e6 / (double)ok;
    r.msgs_s = (double)ok / el;
    r.mib_s = (double)ok * size / (double)MiB / el;
    r.broker_cpu_per_gib = p->t->pid ? (cpu1 - cpu0) / ((double)ok * size / (double)GiB) : -1;
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
    if (t->fetch_wait) conf_set(c, "fetch.wait.max.ms", t->fetch_wait);
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

/* ---- consumer vs the mock: a small topic read again and again --------------------------- */

#define SMALL_MSGS 3000 /* 1 KiB values, ~3 MiB: under the ~5 MiB the mock keeps per partition */

/* One consumer on one target for the whole phase, assigned to partition 0 of topic. The
 * mock answers a Fetch at the log end only when fetch.wait.max.ms expires, so both
 * targets get fetch.wait.max.ms=1 (the same client settings). */
typedef struct reader {
    const target_t *t;
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *at0; /* partition 0 at offset 0, for the seeks */
} reader_t;

/* Reads offsets 0..end-1 once; false when more than 30 s pass. */
static bool read_pass(reader_t *r, int64_t end, int64_t *bytes)
{
    int64_t next = 0;
    double t0 = now_s();
    while (next < end) {
        if (now_s() - t0 > 30) return false;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 100);
        if (!m) continue;
        if (!m->err) {
            *bytes += (int64_t)m->len;
            next = m->offset + 1;
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "  re-read %s: %s\n", r->t->name, rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_error_t *err = rd_kafka_seek_partitions(r->rk, r->at0, 10000);
    if (err) die("seek: %s", rd_kafka_error_string(err));
    return true;
}

static void reader_open(reader_t *r, const target_t *t, const char *topic)
{
    target_t tt = *t;
    tt.fetch_wait = "1";
    int64_t bytes = 0;
    r->t = t;
    r->rk = new_consumer(&tt, "kafka-bench-reread");
    rd_kafka_poll_set_consumer(r->rk);
    r->at0 = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(r->at0, topic, 0)->offset = 0;
    assign_at(r->rk, topic, 0);
    if (!read_pass(r, SMALL_MSGS, &bytes)) die("re-read warm-up on %s timed out", t->name);
}

static void reader_close(reader_t *r)
{
    rd_kafka_topic_partition_list_destroy(r->at0);
    rd_kafka_consumer_close(r->rk);
    rd_kafka_destroy(r->rk);
}

/* One window: passes reads of the whole topic; rates and CPU as for a producer window. */
static prod_result_t reread_window(reader_t *r, int passes)
{
    prod_result_t res = {0};
    int64_t bytes = 0;
    double cpu0 = r->t->pid ? proc_cpu_s(r->t->pid) : 0, self0 = self_cpu_s(), t0 = now_s();
    for (int i = 0; i < passes; i++)
        if (!read_pass(r, SMALL_MSGS, &bytes)) die("re-read on %s timed out", r->t->name);
    double el = now_s() - t0;
    double cpu1 = r->t->pid ? proc_cpu_s(r->t->pid) : 0, self1 = self_cpu_s();
    double msgs = (double)passes * SMALL_MSGS;
    res.sent = (int64_t)msgs;
    res.msgs_s = msgs / el;
    res.mib_s = (double)bytes / (double)MiB / el;
    res.cpu_us_per_msg = (self1 - self0 + cpu1 - cpu0) * 1e6 / msgs;
    res.broker_cpu_per_gib = r->t->pid ? (cpu1 - cpu0) / ((double)bytes / (double)GiB) : -1;
    return res;
}

/* Fills topic on target t with SMALL_MSGS values of 1 KiB (acks=1). */
static void fill_small(const opts_t *o, const target_t *t, const char *topic)
{
    prod_stats_t s = {0};
    char val[1024];
    memset(val, 'z', sizeof(val));
    make_topic(t, topic);
    rd_kafka_t *rk = new_producer(o, t, "1", o->linger, &s);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    for (int i = 0; i < SMALL_MSGS; i++)
        produce_one(rk, rkt, val, sizeof(val));
    rd_kafka_flush(rk, 30000);
    if (atomic_load(&s.delivered) != SMALL_MSGS) die("small topic on %s not filled", t->name);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

/* ---- end-to-end latency ------------------------------------------------------------- */

#define LAT_WINDOWS  8 /* the run is also cut into this many windows by send time */
#define LAT_RATES    2 /* half the peak, --lat-rate */
#define LAT_LINGERS  2 /* --linger, 0 */
#define LAT_WAYS     3 /* ganglion, ganglion fw=1, mock fw=1 */
#define MAX_LAT_REPS 5

static const char *const lat_way_names[LAT_WAYS] = {"ganglion", "ganglion fw=1", "mock fw=1"};

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
    int64_t max_lag;  /* most messages sent but not yet received, sampled every ~100 us */
    double drain_ms;  /* from the last produce() to the last message received */
    double broker_us; /* broker CPU microseconds per message (ganglion only) */
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
    double cpu0 = t->pid ? proc_cpu_s(t->pid) : 0;
    double t0 = now_s();
    int64_t sent = 0;
    while (sent < L.expect) {
        int64_t lag = sent - atomic_load(&L.got);
        if (lag > r.max_lag) r.max_lag = lag;
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
    double c0 = now_s(), moved = c0; /* bounded wait for the consumer, then stop it */
    int64_t last_got = atomic_load(&L.got);
    while (last_got < sent && now_s() - c0 < 10 && now_s() - moved < 2) {
        rd_kafka_poll(rk, 0);
        usleep(100);
        int64_t g = atomic_load(&L.got);
        if (g != last_got) moved = now_s(), last_got = g;
    }
    r.drain_ms = (now_s() - c0) * 1e3;
    r.broker_us = t->pid ? (proc_cpu_s(t->pid) - cpu0) * 1e6 / (double)sent : -1;
    rd_kafka_flush(rk, 30000);
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
    printf("  latency %-13s linger.ms=%s at %.0f msg/s (asked %.0f%s): p50 %.2f p99 %.2f p99.9 %.2f"
           " max %.2f ms; %" PRId64 "/%" PRId64 " received, consumer lag max %" PRId64
           " msgs, drained %.1f ms after the last send; broker %.2f CPU us/msg; p99 per 1/%d"
           " of the run:",
           name, linger, L->rate, asked, L->rate < 0.98 * asked ? ", producer BEHIND schedule" : "",
           L->p50, L->p99, L->p999, L->max, L->got, L->sent, L->max_lag, L->drain_ms, L->broker_us,
           LAT_WINDOWS);
    for (int w = 0; w < LAT_WINDOWS; w++)
        printf(" %.1f", L->win_p99[w]);
    printf("\n");
    fflush(stdout);
}

/* ---- main -------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(
        stderr,
        "usage: kafka_bench [--ganglion PATH] [--dir DIR] [--port N] [--phases pcl]\n"
        "                   [--windows N] [--window-s S] [--msgs-1k N] [--msgs-100 N]\n"
        "                   [--big BYTES] [--reps N] [--lat-s S] [--lat-rate N] [--lat-high N]\n"
        "                   [--lat-reps N]\n"
        "                   [--linger MS] [--batch BYTES] [--cases SIZE/ACKS,...] [--passes N]\n"
        "  --ganglion  broker program (default: ../ganglion next to this executable)\n"
        "  --dir       where the temp data dir is made (default /var/tmp)\n"
        "  --port      Kafka port on 127.0.0.1 (default 29301)\n"
        "  --phases    p = produce vs mock, r = re-read a 3 MiB topic vs mock, c = consume from 0\n"
        "              + RSS, l = latency (default prcl)\n"
        "  --windows   producer windows per case, targets alternate (default 15)\n"
        "  --window-s  time bound of one producer window in seconds (default 5)\n"
        "  --msgs-1k   messages per 1 KiB producer window (default 200000)\n"
        "  --msgs-100  messages per 100 B producer window (default 500000)\n"
        "  --big       size of the topic read from offset 0, K/M/G (default 6G)\n"
        "  --reps      reads of the big topic from offset 0, median reported (default 3)\n"
        "  --lat-s     seconds per latency run (default 4)\n"
        "  --lat-rate  msg/s of the low-rate latency runs (default 10000)\n"
        "  --lat-reps  rounds of the latency runs, medians reported (default 1, at most 5)\n"
        "  --lat-high  msg/s of the high-rate runs if the produce phase is skipped (150000)\n"
        "  --linger    producer linger.ms (default 5)\n"
        "  --batch     producer batch.size (default: librdkafka's, 1000000)\n"
        "  --cases     producer cases, e.g. 1024/1,1024/all (default: 100/1,1024/1,100/all,"
        "1024/all)\n"
        "  --passes    reads of the 3 MiB topic per re-read window (default 40)\n");
    exit(2);
}

typedef struct prod_case {
    int size;
    const char *acks;
    bool on; /* selected by --cases */
    bool bounded;
    prod_result_t g[MAX_REPS], m[MAX_REPS];
    double ratio[MAX_REPS];
    double cpu_ratio[MAX_REPS]; /* mock's CPU per message / ganglion's (client included) */
} prod_case_t;

/* --cases "1024/1,100/all": is this case in the list (every case without the option)? */
static bool case_selected(const opts_t *o, const prod_case_t *p)
{
    char tok[32], list[256];
    if (!o->cases) return true;
    snprintf(tok, sizeof(tok), ",%d/%s,", p->size, p->acks);
    snprintf(list, sizeof(list), ",%s,", o->cases);
    return strstr(list, tok) != NULL;
}

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
                .windows = 15,
                .window_s = 5,
                .phases = "prcl",
                .lat_high = 150000,
                .msgs_1k = 200000,
                .msgs_100 = 500000,
                .big_bytes = 6 * GiB,
                .lat_s = 4,
                .lat_low_rate = 10000,
                .lat_reps = 1,
                .linger = "5",
                .batch = NULL,
                .passes = 40};
    static const struct option lopts[] = {
        {"ganglion", required_argument, 0, 'g'}, {"dir", required_argument, 0, 'd'},
        {"port", required_argument, 0, 'p'},     {"reps", required_argument, 0, 'n'},
        {"window-s", required_argument, 0, 'c'}, {"windows", required_argument, 0, 'w'},
        {"phases", required_argument, 0, 'P'},   {"lat-high", required_argument, 0, 'H'},
        {"msgs-1k", required_argument, 0, 'k'},  {"msgs-100", required_argument, 0, 'h'},
        {"big", required_argument, 0, 'b'},      {"lat-s", required_argument, 0, 'l'},
        {"linger", required_argument, 0, 'L'},   {"batch", required_argument, 0, 'B'},
        {"lat-rate", required_argument, 0, 'R'}, {"lat-reps", required_argument, 0, 'r'},
        {"cases", required_argument, 0, 'C'},    {"passes", required_argument, 0, 'A'},
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
            o.window_s = atof(optarg);
            break;
        case 'w':
            o.windows = atoi(optarg);
            break;
        case 'P':
            o.phases = optarg;
            break;
        case 'H':
            o.lat_high = atof(optarg);
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
        case 'r':
            o.lat_reps = atoi(optarg);
            break;
        case 'R':
            o.lat_low_rate = atof(optarg);
            break;
        case 'C':
            o.cases = optarg;
            break;
        case 'A':
            o.passes = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (!o.ganglion) o.ganglion = default_ganglion();
    if (o.reps <= 0 || o.reps > MAX_REPS || o.window_s <= 0 || o.windows <= 0 ||
        o.windows > MAX_REPS || o.lat_high <= 0 || o.msgs_1k <= 0 || o.msgs_100 <= 0 ||
        o.big_bytes < MiB || o.lat_s <= 0 || o.lat_low_rate <= 0 || o.port <= 0 || o.lat_reps < 1 ||
        o.passes < 1 || o.lat_reps > MAX_LAT_REPS)
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
    printf("  producer: linger.ms=%s batch.size=%s, no compression, no idempotence, 1 partition;"
           " %d windows per case alternating ganglion and mock, each <= %.0f s\n",
           o.linger, o.batch ? o.batch : "default", o.windows, o.window_s);
    fflush(stdout);

    /* 1. Producer cases: both producers open for the whole case, windows alternate
     * between them (ganglion first in even windows), ratio per pair of windows. */
    prod_case_t pc[4] = {{.size = 100, .acks = "1"},
                         {.size = 1024, .acks = "1"},
                         {.size = 100, .acks = "all"},
                         {.size = 1024, .acks = "all"}};
    for (int k = 0; k < 4; k++)
        pc[k].on = case_selected(&o, &pc[k]);
    if (strchr(o.phases, 'p')) {
        for (int k = 0; k < 4; k++) {
            prod_case_t *p = &pc[k];
            if (!p->on) continue;
            int64_t count = p->size == 100 ? o.msgs_100 : o.msgs_1k;
            char *val = malloc((size_t)p->size), topic[128];
            memset(val, 'x', (size_t)p->size);
            producer_t *pg = calloc(1, sizeof(*pg)), *pm = calloc(1, sizeof(*pm));
            snprintf(topic, sizeof(topic), "p%d-acks%s-g", p->size, p->acks);
            producer_open(pg, &o, &gan, topic, p->acks, val, p->size);
            snprintf(topic, sizeof(topic), "p%d-acks%s-m", p->size, p->acks);
            producer_open(pm, &o, &mock, topic, p->acks, val, p->size);
            printf("  produce %4d B acks=%-3s %" PRId64 " msgs per window; ratio per window:",
                   p->size, p->acks, count);
            for (int w = 0; w < o.windows; w++) {
                if (w % 2 == 0) {
                    p->g[w] = produce_window(&o, pg, val, p->size, count);
                    p->m[w] = produce_window(&o, pm, val, p->size, count);
                } else {
                    p->m[w] = produce_window(&o, pm, val, p->size, count);
                    p->g[w] = produce_window(&o, pg, val, p->size, count);
                }
                p->ratio[w] = p->g[w].msgs_s / p->m[w].msgs_s;
                p->cpu_ratio[w] = p->m[w].cpu_us_per_msg / p->g[w].cpu_us_per_msg;
                p->bounded |= p->g[w].bounded || p->m[w].bounded;
                printf(" %.2f", p->ratio[w]);
                fflush(stdout);
            }
            printf("%s\n", p->bounded ? " (some windows stopped by --window-s)" : "");
            producer_close(pg);
            producer_close(pm);
            free(pg);
            free(pm);
            free(val);
        }
    }
    double prod_s = now_s() - run0;
    bool do_p = strchr(o.phases, 'p'), do_c = strchr(o.phases, 'c'), do_l = strchr(o.phases, 'l');
    bool do_r = strchr(o.phases, 'r');

    /* 1b. Consumer vs the mock: the same ~3 MiB topic on both, read from offset 0 to its
     * end --passes times per window, windows alternating as for the producer. */
    prod_result_t rr_g[MAX_REPS], rr_m[MAX_REPS];
    double rr_ratio[MAX_REPS], rr_cpu_ratio[MAX_REPS];
    if (do_r) {
        reader_t *rg = calloc(1, sizeof(*rg)), *rm = calloc(1, sizeof(*rm));
        fill_small(&o, &gan, "reread-g");
        fill_small(&o, &mock, "reread-m");
        reader_open(rg, &gan, "reread-g");
        reader_open(rm, &mock, "reread-m");
        printf("  re-read %d x 1 KiB from offset 0, %d passes per window; ratio per window:",
               SMALL_MSGS, o.passes);
        for (int w = 0; w < o.windows; w++) {
            if (w % 2 == 0) {
                rr_g[w] = reread_window(rg, o.passes);
                rr_m[w] = reread_window(rm, o.passes);
            } else {
                rr_m[w] = reread_window(rm, o.passes);
                rr_g[w] = reread_window(rg, o.passes);
            }
            rr_ratio[w] = rr_g[w].mib_s / rr_m[w].mib_s;
            rr_cpu_ratio[w] = rr_m[w].cpu_us_per_msg / rr_g[w].cpu_us_per_msg;
            printf(" %.2f", rr_ratio[w]);
            fflush(stdout);
        }
        printf("\n");
        reader_close(rg);
        reader_close(rm);
        drop_topic(&gan, "reread-g");
        free(rg);
        free(rm);
    }

    /* 2. A large topic, read from offset 0 --reps times with the broker's RSS sampled. */
    const int big_size = 1024;
    int64_t big_msgs = o.big_bytes / big_size;
    long rss_before = 0, rss_after = 0, rss_min = LONG_MAX, rss_max = 0;
    double cons_mib[MAX_REPS] = {0}, cons_msgs[MAX_REPS] = {0}, cons_cpu[MAX_REPS] = {0};
    double big_fill_s = 0;
    if (do_c) {
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
        big_fill_s = now_s() - b0;
        if (atomic_load(&bs.delivered) != big_msgs)
            fprintf(stderr, "  big topic: %ld of %" PRId64 " delivered\n",
                    atomic_load(&bs.delivered), big_msgs);
        free(bval);
        rd_kafka_topic_destroy(bt);
        rd_kafka_destroy(bp);
        printf("  big topic: %" PRId64 " x %d B (%.2f GiB of values) produced in %.1f s"
               " (%.0f MiB/s)\n",
               big_msgs, big_size, (double)big_msgs * big_size / GiB, big_fill_s,
               (double)big_msgs * big_size / MiB / big_fill_s);
        fflush(stdout);

        sleep(1);
        rss_before = rss_kib(gan.pid);
        sampler_t *smp = calloc(1, sizeof(*smp));
        smp->pid = gan.pid;
        pthread_create(&smp->th, NULL, sampler_main, smp);
        for (int rep = 0; rep < o.reps; rep++) {
            cons_result_t cr = consume_all(&gan, "big", big_msgs, 120);
            cons_mib[rep] = cr.mib_s;
            cons_msgs[rep] = cr.msgs_s;
            cons_cpu[rep] = cr.broker_cpu_per_gib;
            printf("  read 0..end rep %d: %.2f GiB in %.1f s = %.1f MiB/s, %.0f msg/s, broker"
                   " %.2f CPU s/GiB\n",
                   rep, (double)cr.bytes / GiB, cr.secs, cr.mib_s, cr.msgs_s,
                   cr.broker_cpu_per_gib);
            fflush(stdout);
        }
        atomic_store(&smp->stop, true);
        pthread_join(smp->th, NULL);
        sleep(1);
        rss_after = rss_kib(gan.pid);
        for (int i = 0; i < smp->n; i++) {
            if (smp->kib[i] < rss_min) rss_min = smp->kib[i];
            if (smp->kib[i] > rss_max) rss_max = smp->kib[i];
        }
        printf("  broker VmRSS (KiB) before %ld; every 100 ms during the reads (%d samples, at most"
               " 40 shown):",
               rss_before, smp->n);
        int step = smp->n > 40 ? smp->n / 40 : 1;
        for (int i = 0; i < smp->n; i += step)
            printf(" %ld", smp->kib[i]);
        printf("; 1 s after %ld\n", rss_after);
        free(smp);
        drop_topic(&gan, "big");
    }

    /* 3. End-to-end latency at half the peak 1 KiB acks=1 rate and at --lat-rate, with
     * each linger, three ways: ganglion with librdkafka's consumer defaults
     * (fetch.wait.max.ms=500, a long poll the broker answers on the append), then ganglion
     * and the mock both with fetch.wait.max.ms=1: the same client settings, the mock's run
     * being the client's and the machine's own ceiling. The mock cannot serve the default:
     * it answers a Fetch that finds no data only when fetch.wait.max.ms expires (p50
     * ~260 ms with 500), so it is polled every millisecond. It keeps only ~5 MiB per
     * partition: a consumer lagging further behind loses records there (received <
     * sent, and those records have no latency). */
    double peak = do_p && pc[1].on ? med_field(pc[1].g, o.windows, offsetof(prod_result_t, msgs_s))
                                   : 2 * o.lat_high;
    double rates[LAT_RATES] = {peak / 2, o.lat_low_rate};
    const char *lingers[LAT_LINGERS] = {o.linger, "0"};
    static lat_result_t lat[MAX_LAT_REPS][LAT_RATES][LAT_LINGERS][LAT_WAYS];
    target_t gan_poll = gan, mock_poll = mock;
    gan_poll.fetch_wait = mock_poll.fetch_wait = "1";
    const target_t *ways[LAT_WAYS] = {&gan, &gan_poll, &mock_poll};
    for (int k = 0; do_l && k < o.lat_reps; k++) {
        for (int ri = 0; ri < LAT_RATES; ri++) {
            for (int li = 0; li < LAT_LINGERS; li++) {
                for (int w = 0; w < LAT_WAYS; w++) {
                    char topic[64];
                    lat_result_t *L = &lat[k][ri][li][w];
                    snprintf(topic, sizeof(topic), "lat-%d-r%d-l%s-%d", k, ri, lingers[li], w);
                    *L = latency_run(&o, ways[w], topic, lingers[li], rates[ri], 1024);
                    print_latency(lat_way_names[w], lingers[li], rates[ri], L);
                }
            }
        }
    }
    long rss_end = rss_kib(gan.pid);
    double total_s = now_s() - run0;

    /* The table. */
    printf("\n%-36s %14s %14s %7s  %-20s %-8s %s\n", "figure (medians)", "ganglion",
           "mock (ceiling)", "ratio", "target", "", "cpu ratio");
    for (int k = 0; do_p && k < 4; k++) {
        prod_case_t *p = &pc[k];
        char fig[64];
        if (!p->on) continue;
        double gm = med_field(p->g, o.windows, offsetof(prod_result_t, msgs_s));
        double mm = med_field(p->m, o.windows, offsetof(prod_result_t, msgs_s));
        double gb = med_field(p->g, o.windows, offsetof(prod_result_t, mib_s));
        double mb = med_field(p->m, o.windows, offsetof(prod_result_t, mib_s));
        double ra = median(p->ratio, o.windows);
        bool tgt = p->size == 1024;
        snprintf(fig, sizeof(fig), "produce %4d B acks=%s msg/s", p->size, p->acks);
        printf("%-36s %14.0f %14.0f %7.2f  %-20s %-8s %.2f\n", fig, gm, mm, ra,
               tgt ? ">= 0.90 of the mock" : "-", tgt ? (ra >= 0.9 ? "met" : "NOT met") : "",
               median(p->cpu_ratio, o.windows));
        snprintf(fig, sizeof(fig), "produce %4d B acks=%s MiB/s", p->size, p->acks);
        printf("%-36s %14.1f %14.1f\n", fig, gb, mb);
    }
    if (do_r) {
        double ra = median(rr_ratio, o.windows);
        printf("%-36s %14.1f %14.1f %7.2f  %-20s %-8s %.2f\n", "re-read 3 MiB topic MiB/s (1 KiB)",
               med_field(rr_g, o.windows, offsetof(prod_result_t, mib_s)),
               med_field(rr_m, o.windows, offsetof(prod_result_t, mib_s)), ra,
               ">= 0.90 of the mock", ra >= 0.9 ? "met" : "NOT met",
               median(rr_cpu_ratio, o.windows));
    }
    if (do_c) {
        printf("%-36s %14.1f %14s %7s  %-20s\n", "consume 0..end MiB/s (1 KiB values)",
               median(cons_mib, o.reps), "-", "", "-");
        printf("%-36s %14.0f\n", "consume 0..end msg/s", median(cons_msgs, o.reps));
        printf("%-36s %14ld %14s %7s  %-20s\n", "broker VmRSS before reads (KiB)", rss_before, "",
               "", "flat");
        printf("%-36s %14ld %14s %7.2f  %-20s %s\n", "broker VmRSS max during reads (KiB)", rss_max,
               "", (double)rss_max / (double)rss_before, "flat (<= 1.25x)",
               rss_max <= rss_before * 1.25 ? "met" : "NOT met");
        printf("%-36s %14ld\n", "broker VmRSS min during reads (KiB)", rss_min);
        printf("%-36s %14ld\n", "broker VmRSS 1 s after reads (KiB)", rss_after);
    }
    if (do_l)
        printf("\n%-30s %-24s %-24s %-24s %-8s %s\n", "e2e ms p50/p99/p99.9 (recv %)",
               lat_way_names[0], lat_way_names[1], lat_way_names[2], "p99<=5", "p99 per round");
    for (int ri = 0; do_l && ri < LAT_RATES; ri++) {
        for (int li = 0; li < LAT_LINGERS; li++) {
            char fig[64], col[LAT_WAYS][48], per[LAT_WAYS * MAX_LAT_REPS * 10] = "";
            double p99_0 = 0;
            snprintf(fig, sizeof(fig), "%.0f msg/s linger.ms=%s", rates[ri], lingers[li]);
            for (int w = 0; w < LAT_WAYS; w++) {
                double p50[MAX_LAT_REPS], p99[MAX_LAT_REPS], p999[MAX_LAT_REPS], rc[MAX_LAT_REPS];
                for (int k = 0; k < o.lat_reps; k++) {
                    const lat_result_t *L = &lat[k][ri][li][w];
                    p50[k] = L->p50, p99[k] = L->p99, p999[k] = L->p999;
                    rc[k] = L->sent ? 100.0 * (double)L->got / (double)L->sent : 0.0;
                    size_t n = strlen(per);
                    snprintf(per + n, sizeof(per) - n, "%s%.1f", k ? " " : (w ? " | " : ""),
                             p99[k]);
                }
                if (w == 0) p99_0 = median(p99, o.lat_reps);
                snprintf(col[w], sizeof(col[w]), "%.2f/%.2f/%.2f (%.0f)", median(p50, o.lat_reps),
                         median(p99, o.lat_reps), median(p999, o.lat_reps), median(rc, o.lat_reps));
            }
            printf("%-30s %-24s %-24s %-24s %-8s %s\n", fig, col[0], col[1], col[2],
                   p99_0 <= 5.0 ? "met" : "NOT met", per);
        }
    }
    printf("%-36s %14ld\n", "broker VmRSS at the end (KiB)", rss_end);

    printf("\ndetails:\n");
    if (do_p) {
        printf("  produce: ratio = ganglion msg/s / mock msg/s in adjacent windows, median of %d;"
               " the mock runs inside this process, ganglion in its own, on the same cores\n",
               o.windows);
        printf("  cpu ratio = (this process's CPU per message with the mock) / (this process's +"
               " the broker's CPU per message with ganglion), median per pair of windows: the"
               " whole setup's cost, steadier than wall time on a shared machine\n");
        for (int k = 0; k < 4; k++) {
            double lo = 1e9, hi = 0;
            if (!pc[k].on) continue;
            for (int i = 0; i < o.windows; i++) {
                if (pc[k].ratio[i] < lo) lo = pc[k].ratio[i];
                if (pc[k].ratio[i] > hi) hi = pc[k].ratio[i];
            }
            printf("  produce %4d B acks=%-3s window ratios %.2f .. %.2f; broker %.2f CPU s per GiB"
                   " of values; CPU us/msg ganglion setup %.2f, mock setup %.2f\n",
                   pc[k].size, pc[k].acks, lo, hi,
                   med_field(pc[k].g, o.windows, offsetof(prod_result_t, broker_cpu_per_gib)),
                   med_field(pc[k].g, o.windows, offsetof(prod_result_t, cpu_us_per_msg)),
                   med_field(pc[k].m, o.windows, offsetof(prod_result_t, cpu_us_per_msg)));
            printf("    broker CPU s per GiB by window:");
            for (int i = 0; i < o.windows; i++)
                printf(" %.2f", pc[k].g[i].broker_cpu_per_gib);
            printf("\n    CPU us/msg by window, ganglion setup | mock setup:");
            for (int i = 0; i < o.windows; i++)
                printf(" %.2f", pc[k].g[i].cpu_us_per_msg);
            printf(" |");
            for (int i = 0; i < o.windows; i++)
                printf(" %.2f", pc[k].m[i].cpu_us_per_msg);
            printf("\n");
        }
    }
    if (do_r) {
        double lo = 1e9, hi = 0;
        for (int i = 0; i < o.windows; i++) {
            if (rr_ratio[i] < lo) lo = rr_ratio[i];
            if (rr_ratio[i] > hi) hi = rr_ratio[i];
        }
        printf("  re-read: one consumer per target (assign, fetch.wait.max.ms=1 for both, other"
               " settings librdkafka's), %d passes of offsets 0..%d per window, a seek to 0"
               " after each; window ratios %.2f .. %.2f; broker %.2f CPU s per GiB read; CPU"
               " us/msg ganglion setup %.2f, mock setup %.2f\n",
               o.passes, SMALL_MSGS - 1, lo, hi,
               med_field(rr_g, o.windows, offsetof(prod_result_t, broker_cpu_per_gib)),
               med_field(rr_g, o.windows, offsetof(prod_result_t, cpu_us_per_msg)),
               med_field(rr_m, o.windows, offsetof(prod_result_t, cpu_us_per_msg)));
    }
    if (do_c)
        printf("  consume: 1 KiB values, %.2f GiB from offset 0 via assign(), librdkafka's default"
               " fetch settings, %d reads; broker CPU %.2f s per GiB read (median)\n",
               (double)big_msgs * big_size / GiB, o.reps, median(cons_cpu, o.reps));
    if (do_l)
        printf(
            "  latency: 1 KiB, acks=1, %.0f s per run, at half the median ganglion 1 KiB acks=1"
            " rate and at --lat-rate; latency = consumer receive - producer's clock just before"
            " produce() (CLOCK_MONOTONIC, one process); producer linger.ms as listed,"
            " batch.size default, no compression, acks=1; consumer librdkafka's defaults"
            " (fetch.min.bytes=1, fetch.wait.max.ms=500, queued.min.messages=100000,"
            " max.partition.fetch.bytes=1 MiB) except fetch.wait.max.ms=1 in the fw=1 columns,"
            " the same for ganglion and the mock; recv %% = received / sent (the mock drops"
            " what lies more than ~5 MiB behind its log end); target on the first column; medians"
            " over %d round(s) of the whole grid\n",
            o.lat_s, o.lat_reps);
    printf("  producer phase %.1f s, whole run %.1f s\n", prod_s, total_s);
    fflush(stdout);

    rd_kafka_mock_cluster_destroy(mock.mock);
    rd_kafka_destroy(mock_rk);
    return 0;
}
