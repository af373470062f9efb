/* SPDX-License-Identifier: Apache-2.0 */
/* log_bench: the core log (core/log, issue #2) against this machine's ceilings, in one
 * run on one filesystem: append (flush=os and group commit) vs write()/fdatasync, reads
 * (gn_log_read + gn_log_slice_read) vs pread, and open times after clean and unclean
 * shutdown. Prints a table; asserts nothing. Single thread with its own libuv loop (the
 * log's fsyncs run on libuv's thread pool). See tests/bench/README.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "ganglion/error.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"
#include "log/log.h"

#define KiB          (1024LL)
#define MiB          (1024LL * 1024)
#define GiB          (1024LL * 1024 * 1024)
#define MAX_WINDOWS  64
#define MAX_REPS     32
#define MAX_SEGMENTS 4096
#define READ_SLICE   (1 * MiB)

/* ---- fsync counting -------------------------------------------------------------- */

/* The log fsyncs on libuv's thread pool; counting its fsync()/fdatasync() calls is
 * the only exact way to learn the cadence group commit achieved. These definitions
 * interpose libc's (the executable's symbols win over libc.so's for libuv and the
 * static core alike) and make the same system call. */
static atomic_long g_fsyncs;

int fdatasync(int fd)
{
    atomic_fetch_add(&g_fsyncs, 1);
    return (int)syscall(SYS_fdatasync, fd);
}

int fsync(int fd)
{
    atomic_fetch_add(&g_fsyncs, 1);
    return (int)syscall(SYS_fsync, fd);
}

/* ---- options and helpers --------------------------------------------------------- */

typedef struct opts {
    const char *dir;
    int64_t bytes;    /* per append phase */
    int64_t gc_bytes; /* group-commit phase */
    int record_bytes; /* value size of each record */
    int batch_bytes;  /* batch size target */
    int inflight;     /* group commit: sync waiters outstanding at most */
    int windows;      /* append phases are split in windows, ceiling and log alternate */
    int reps;         /* repetitions of the short measurements */
} opts_t;

static char g_root[4096]; /* the run's data dir, removed at exit */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Process CPU time (every thread: the log's thread-pool work counts): on a shared,
 * overloaded machine the CPU a page-cache copy costs is steadier than its wall time. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double tmp[MAX_WINDOWS > MAX_REPS ? MAX_WINDOWS : MAX_REPS];
    if (n <= 0) return 0;
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static double mibps(int64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / (double)MiB / secs : 0;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "log_bench: %s: %s (%d)\n", what, rc < -9999 ? gn_strerror(rc) : strerror(-rc),
            rc);
    exit(1);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
    if (g_root[0]) rm_rf(g_root);
}

static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
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

static const char *fs_name(const char *dir)
{
    static char buf[32];
    struct statfs sfs;
    if (statfs(dir, &sfs) != 0) return "?";
    switch ((unsigned long)sfs.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x58465342:
        return "xfs";
    case 0x9123683E:
        return "btrfs";
    case 0x01021994:
        return "tmpfs";
    case 0x794C7630:
        return "overlayfs";
    case 0x2FC12FC1:
        return "zfs";
    case 0x6969:
        return "nfs";
    default:
        snprintf(buf, sizeof(buf), "0x%lx", (unsigned long)sfs.f_type);
        return buf;
    }
}

static void write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write", -errno);
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Kafka's topic defaults: segment.bytes 1 GiB, index.interval.bytes 4096, ... */
static void topic_config(gn_topic_config_t *cfg)
{
    gn_topic_config_defaults(cfg);
}

/* One batch of records with record_bytes values, as many as fit in batch_bytes (at
 * least one), built with the public builder. Returned malloc'd. */
static uint8_t *build_batch(const opts_t *o, size_t *len_out, int *count_out)
{
    gn_batch_builder_t b;
    gn_bytes_t out;
    uint8_t *value = malloc((size_t)o->record_bytes), *batch;
    size_t rec_size = 0;
    int64_t ts = wall_ms();
    int rc;

    if (!value) die("malloc", GN_ENOMEM);
    for (int i = 0; i < o->record_bytes; i++)
        value[i] = (uint8_t)(i * 131 + 7);
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    for (;;) {
        size_t before = b.len;
        if (b.count > 0 && b.len + rec_size > (size_t)o->batch_bytes) break;
        rc = gn_batch_builder_add(&b, GN_BYTES_NULL, (gn_bytes_t){value, (size_t)o->record_bytes},
                                  NULL, 0, ts);
        if (rc < 0) die("gn_batch_builder_add", rc);
        rec_size = b.len - before;
    }
    *count_out = b.count;
    rc = gn_batch_builder_finish(&b, 0, &out);
    if (rc < 0) die("gn_batch_builder_finish", rc);
    batch = malloc(out.len);
    if (!batch) die("malloc", GN_ENOMEM);
    memcpy(batch, out.ptr, out.len);
    *len_out = out.len;
    gn_batch_builder_close(&b);
    free(value);
    return batch;
}

/* ---- the log under test ---------------------------------------------------------- */

typedef struct bench {
    opts_t o;
    uv_loop_t loop;
    gn_topic_config_t cfg;
    uint8_t *batch;
    size_t batch_len;
    int batch_records;
    int64_t now_ms;
    /* group commit */
    int inflight;
    int64_t acks;
    double *ack_lat; /* seconds, one per acked append, for percentiles */
    int64_t ack_lat_cap;
    double last_cpu; /* CPU seconds of the last window measured */
} bench_t;

typedef struct waiter {
    bench_t *b;
    double t0;
    struct waiter *next_free;
} waiter_t;

static waiter_t *g_free_waiters;

static gn_log_t *log_open(bench_t *b, const char *dir, bool clean, int64_t recovery_point,
                          int64_t start)
{
    gn_log_open_opts_t oo = {.clean_shutdown = clean,
                             .recovery_point = recovery_point,
                             .log_start_offset = start,
                             .now_ms = wall_ms()};
    gn_log_t *log = NULL;
    int rc = gn_log_open(&b->loop, dir, &b->cfg, &oo, &log);
    if (rc < 0) die("gn_log_open", rc);
    return log;
}

static void log_append_one(bench_t *b, gn_log_t *log, gn_log_append_info_t *info)
{
    /* The log rewrites the base offset in place; the CRC does not cover it, so the
     * same bytes can be appended again once it is reset. */
    gn_batch_set_base_offset(b->batch, 0);
    int rc = gn_log_append(log, b->batch, b->batch_len, b->now_ms, info);
    if (rc < 0) die("gn_log_append", rc);
}

static void on_sync(void *arg, int status)
{
    waiter_t *w = arg;
    bench_t *b = w->b;
    if (status < 0) die("gn_log_sync callback", status);
    if (b->acks < b->ack_lat_cap) b->ack_lat[b->acks] = now_s() - w->t0;
    b->acks++;
    b->inflight--;
    w->next_free = g_free_waiters;
    g_free_waiters = w;
}

/* ---- append phases ---------------------------------------------------------------- */

typedef struct window {
    double log_s, ceil_s;
    double log_cpu, ceil_cpu;
    long log_fsyncs, ceil_fsyncs;
} window_t;

static double window_ceiling_write(bench_t *b, int fd, int64_t nbatches, int64_t every,
                                   long *fsyncs)
{
    long f0 = atomic_load(&g_fsyncs);
    double c0 = cpu_s(), t0 = now_s();
    for (int64_t i = 0; i < nbatches; i++) {
        write_all(fd, b->batch, b->batch_len);
        if (every > 0 && ((i + 1) % every == 0 || i + 1 == nbatches) && fdatasync(fd) != 0)
            die("fdatasync", -errno);
    }
    double t = now_s() - t0;
    b->last_cpu = cpu_s() - c0;
    *fsyncs = atomic_load(&g_fsyncs) - f0;
    return t;
}

static double window_log_os(bench_t *b, gn_log_t *log, int64_t nbatches)
{
    gn_log_append_info_t info;
    double c0 = cpu_s(), t0 = now_s();
    for (int64_t i = 0; i < nbatches; i++) {
        if ((i & 1023) == 0) b->now_ms = wall_ms();
        log_append_one(b, log, &info);
    }
    double t = now_s() - t0;
    b->last_cpu = cpu_s() - c0;
    return t;
}

static double window_log_gc(bench_t *b, gn_log_t *log, int64_t nbatches, long *fsyncs)
{
    gn_log_append_info_t info;
    long f0 = atomic_load(&g_fsyncs);
    double t0 = now_s();
    for (int64_t i = 0; i < nbatches; i++) {
        if ((i & 1023) == 0) b->now_ms = wall_ms();
        while (b->inflight >= b->o.inflight)
            uv_run(&b->loop, UV_RUN_ONCE);
        log_append_one(b, log, &info);
        waiter_t *w = g_free_waiters;
        g_free_waiters = w->next_free;
        w->b = b;
        w->t0 = now_s();
        int rc = gn_log_sync(log, info.last_offset + 1, on_sync, w);
        if (rc < 0) die("gn_log_sync", rc);
        b->inflight++;
    }
    while (b->inflight > 0)
        uv_run(&b->loop, UV_RUN_ONCE);
    double t = now_s() - t0;
    *fsyncs = atomic_load(&g_fsyncs) - f0;
    return t;
}

typedef struct phase_result {
    double log_mibps, ceil_mibps, ratio; /* medians over windows */
    double log_total_mibps, ceil_total_mibps;
    double cpu_ratio;            /* median over windows of ceiling CPU / log CPU */
    double ratio_min, ratio_max; /* over windows */
    long log_fsyncs, ceil_fsyncs;
    int64_t bytes;
} phase_result_t;

static void summarize(const window_t *w, int n, int64_t win_bytes, phase_result_t *r)
{
    double lr[MAX_WINDOWS] = {0}, cr[MAX_WINDOWS] = {0}, rr[MAX_WINDOWS] = {0};
    double cu[MAX_WINDOWS] = {0}, lt = 0, ct = 0;
    r->log_fsyncs = r->ceil_fsyncs = 0;
    for (int i = 0; i < n; i++) {
        lr[i] = mibps(win_bytes, w[i].log_s);
        cr[i] = mibps(win_bytes, w[i].ceil_s);
        rr[i] = cr[i] > 0 ? lr[i] / cr[i] : 0;
        cu[i] = w[i].log_cpu > 0 ? w[i].ceil_cpu / w[i].log_cpu : 0;
        lt += w[i].log_s;
        ct += w[i].ceil_s;
        r->log_fsyncs += w[i].log_fsyncs;
        r->ceil_fsyncs += w[i].ceil_fsyncs;
    }
    r->log_mibps = median(lr, n);
    r->ceil_mibps = median(cr, n);
    r->ratio = median(rr, n);
    r->cpu_ratio = median(cu, n);
    r->ratio_min = r->ratio_max = n > 0 ? rr[0] : 0;
    for (int i = 1; i < n; i++) {
        if (rr[i] < r->ratio_min) r->ratio_min = rr[i];
        if (rr[i] > r->ratio_max) r->ratio_max = rr[i];
    }
    r->bytes = win_bytes * n;
    r->log_total_mibps = mibps(r->bytes, lt);
    r->ceil_total_mibps = mibps(r->bytes, ct);
}

/* flush=os: no gn_log_sync. Windows alternate ceiling-first and log-first so that
 * writeback starting midway weighs on both alike. The log stays open for the read
 * and restart phases. */
static gn_log_t *phase_append_os(bench_t *b, const char *logdir, phase_result_t *r)
{
    char path[4200];
    int n = b->o.windows;
    int64_t per = b->o.bytes / (int64_t)b->batch_len / n; /* batches per window */
    window_t w[MAX_WINDOWS] = {{0}};

    snprintf(path, sizeof(path), "%s/ceiling-write", g_root);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("open ceiling file", -errno);
    gn_log_t *log = log_open(b, logdir, true, 0, -1);
    for (int i = 0; i < n; i++) {
        if (i % 2 == 0) {
            w[i].ceil_s = window_ceiling_write(b, fd, per, 0, &w[i].ceil_fsyncs);
            w[i].ceil_cpu = b->last_cpu;
            w[i].log_s = window_log_os(b, log, per);
            w[i].log_cpu = b->last_cpu;
        } else {
            w[i].log_s = window_log_os(b, log, per);
            w[i].log_cpu = b->last_cpu;
            w[i].ceil_s = window_ceiling_write(b, fd, per, 0, &w[i].ceil_fsyncs);
            w[i].ceil_cpu = b->last_cpu;
        }
    }
    close(fd);
    unlink(path); /* drops its dirty pages: no writeback for the ceiling's copy */
    summarize(w, n, per * (int64_t)b->batch_len, r);
    return log;
}

/* Group commit: gn_log_sync after every append, at most o.inflight waiters. The
 * ceiling writes the same bytes with fdatasync every (bytes per fsync the log
 * achieved in that window), rounded to whole batches. */
static void phase_append_gc(bench_t *b, const char *logdir, phase_result_t *r, double *p50,
                            double *p99)
{
    char path[4200];
    int n = b->o.windows;
    int64_t per = b->o.gc_bytes / (int64_t)b->batch_len / n;
    window_t w[MAX_WINDOWS] = {{0}};

    b->ack_lat_cap = per * n;
    b->ack_lat = calloc((size_t)b->ack_lat_cap, sizeof(double));
    waiter_t *pool = calloc((size_t)b->o.inflight, sizeof(*pool));
    if (!b->ack_lat || !pool) die("calloc", GN_ENOMEM);
    g_free_waiters = NULL;
    for (int i = 0; i < b->o.inflight; i++) {
        pool[i].next_free = g_free_waiters;
        g_free_waiters = &pool[i];
    }
    b->acks = 0;

    snprintf(path, sizeof(path), "%s/ceiling-fdatasync", g_root);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("open ceiling file", -errno);
    gn_log_t *log = log_open(b, logdir, true, 0, -1);
    for (int i = 0; i < n; i++) {
        w[i].log_s = window_log_gc(b, log, per, &w[i].log_fsyncs);
        int64_t every = w[i].log_fsyncs > 0 ? (per + w[i].log_fsyncs / 2) / w[i].log_fsyncs : per;
        if (every < 1) every = 1;
        w[i].ceil_s = window_ceiling_write(b, fd, per, every, &w[i].ceil_fsyncs);
    }
    close(fd);
    unlink(path);
    /* gn_log_close + our own removal rather than gn_log_close_and_delete: the latter
     * queues the removal before close rewrites the index files (see docs). */
    gn_log_close(log);
    rm_rf(logdir);
    summarize(w, n, per * (int64_t)b->batch_len, r);

    int64_t k = b->acks < b->ack_lat_cap ? b->acks : b->ack_lat_cap;
    qsort(b->ack_lat, (size_t)k, sizeof(double), cmp_double);
    *p50 = k ? b->ack_lat[k / 2] : 0;
    *p99 = k ? b->ack_lat[(k * 99) / 100] : 0;
    free(b->ack_lat);
    b->ack_lat = NULL;
    free(pool);
}

/* ---- reads ------------------------------------------------------------------------ */

/* Reads [from, end) with gn_log_read in 1 MiB slices copied out with
 * gn_log_slice_read; the next offset comes from the last batch header, as a
 * consumer does. Returns bytes read. */
static int64_t log_read_range(gn_log_t *log, int64_t from, uint8_t *buf, size_t cap)
{
    int64_t end = gn_log_end_offset(log), off = from, total = 0;
    while (off < end) {
        gn_log_slice_t slice;
        gn_batch_header_t hdr;
        int rc = gn_log_read(log, off, READ_SLICE, end, &slice);
        if (rc < 0) die("gn_log_read", rc);
        if (slice.len <= 0) break;
        if ((size_t)slice.len > cap) die("gn_log_read: slice larger than asked", GN_EINVAL);
        rc = gn_log_slice_read(&slice, buf);
        if (rc < 0) die("gn_log_slice_read", rc);
        /* walk batch headers to the last one */
        int64_t pos = 0, next = -1;
        while (pos < slice.len) {
            int64_t sz = gn_batch_peek(buf + pos, (size_t)(slice.len - pos), &hdr);
            if (sz <= 0) die("gn_batch_peek on a slice", sz < 0 ? (int)sz : GN_ECORRUPT);
            next = gn_batch_last_offset(&hdr) + 1;
            pos += sz;
        }
        total += slice.len;
        gn_log_slice_release(&slice);
        if (next <= off) die("gn_log_read made no progress", GN_ECORRUPT);
        off = next;
    }
    return total;
}

typedef struct segfiles {
    char path[MAX_SEGMENTS][4400];
    int64_t size[MAX_SEGMENTS];
    int n;
    int64_t total;
} segfiles_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void list_segments(const char *dir, segfiles_t *s)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) die("opendir", -errno);
    s->n = 0;
    s->total = 0;
    while ((e = readdir(d)) != NULL && s->n < MAX_SEGMENTS) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".log") == 0)
            snprintf(s->path[s->n++], sizeof(s->path[0]), "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(s->path, (size_t)s->n, sizeof(s->path[0]), cmp_str);
    for (int i = 0; i < s->n; i++) {
        struct stat st;
        if (stat(s->path[i], &st) != 0) die("stat segment", -errno);
        s->size[i] = st.st_size;
        s->total += st.st_size;
    }
}

/* The ceiling: pread of the segment files' bytes [from, total) in 1 MiB chunks. */
static int64_t pread_range(const segfiles_t *s, int64_t from, uint8_t *buf)
{
    int64_t base = 0, total = 0;
    for (int i = 0; i < s->n; i++) {
        int64_t lo = from > base ? from - base : 0;
        if (lo < s->size[i]) {
            int fd = open(s->path[i], O_RDONLY | O_CLOEXEC);
            if (fd < 0) die("open segment", -errno);
            for (int64_t pos = lo; pos < s->size[i];) {
                size_t want =
                    (size_t)(s->size[i] - pos < READ_SLICE ? s->size[i] - pos : READ_SLICE);
                ssize_t got = pread(fd, buf, want, pos);
                if (got < 0) die("pread", -errno);
                if (got == 0) break;
                pos += got;
                total += got;
            }
            close(fd);
        }
        base += s->size[i];
    }
    return total;
}

typedef struct read_result {
    double log_full, ceil_full, ratio_full;
    double log_tail, ceil_tail, ratio_tail;
    double tail_vs_full, pread_tail_vs_full; /* medians of per-repetition ratios */
    double cpu_full, cpu_tail;               /* medians of pread CPU / log CPU */
    int64_t full_bytes, tail_bytes;
} read_result_t;

#define TAIL_ROUNDS 5 /* the tail region is read this many times in a row per repetition */

static void phase_read(bench_t *b, gn_log_t *log, const char *logdir, read_result_t *r)
{
    size_t cap = READ_SLICE > (int64_t)b->cfg.max_message_bytes ? READ_SLICE
                                                                : (size_t)b->cfg.max_message_bytes;
    uint8_t *buf = malloc(cap);
    segfiles_t *s = malloc(sizeof(*s));
    double lf[MAX_REPS], cf[MAX_REPS], rf[MAX_REPS], lt[MAX_REPS], ct[MAX_REPS], rt[MAX_REPS];
    double tv[MAX_REPS], pv[MAX_REPS], uf[MAX_REPS], ut[MAX_REPS];
    int reps = b->o.reps;
    if (!buf || !s) die("malloc", GN_ENOMEM);
    list_segments(logdir, s);

    int64_t start = gn_log_start_offset(log), end = gn_log_end_offset(log);
    int64_t tail_from = start + (end - start) * 9 / 10;
    int64_t tail_byte = s->total - s->total / 10;

    for (int i = 0; i < reps; i++) {
        int64_t lb = 0, cb = 0;
        double c0 = cpu_s(), t0 = now_s();
        r->full_bytes = log_read_range(log, start, buf, cap);
        double c1 = cpu_s(), t1 = now_s();
        cb = pread_range(s, 0, buf);
        double c2 = cpu_s(), t2 = now_s();
        uf[i] = (c2 - c1) / (c1 - c0);
        lf[i] = mibps(r->full_bytes, t1 - t0);
        cf[i] = mibps(cb, t2 - t1);
        rf[i] = lf[i] / cf[i];
        /* the tail: the last 10% of offsets, read TAIL_ROUNDS times in a row */
        c0 = cpu_s(), t0 = now_s();
        for (int k = 0; k < TAIL_ROUNDS; k++)
            lb += log_read_range(log, tail_from, buf, cap);
        c1 = cpu_s(), t1 = now_s();
        cb = 0;
        for (int k = 0; k < TAIL_ROUNDS; k++)
            cb += pread_range(s, tail_byte, buf);
        c2 = cpu_s(), t2 = now_s();
        ut[i] = (c2 - c1) / (c1 - c0);
        r->tail_bytes = lb / TAIL_ROUNDS;
        lt[i] = mibps(lb, t1 - t0);
        ct[i] = mibps(cb, t2 - t1);
        rt[i] = lt[i] / ct[i];
        tv[i] = lt[i] / lf[i];
        pv[i] = ct[i] / cf[i];
    }
    r->log_full = median(lf, reps);
    r->ceil_full = median(cf, reps);
    r->ratio_full = median(rf, reps);
    r->log_tail = median(lt, reps);
    r->ceil_tail = median(ct, reps);
    r->ratio_tail = median(rt, reps);
    r->tail_vs_full = median(tv, reps);
    r->pread_tail_vs_full = median(pv, reps);
    r->cpu_full = median(uf, reps);
    r->cpu_tail = median(ut, reps);
    free(s);
    free(buf);
}

/* ---- restart ---------------------------------------------------------------------- */

typedef struct restart_result {
    double close_ms, clean_ms, unclean_ms, full_ms;
    int segments;
    int64_t bytes;
} restart_result_t;

static void check_reopen(gn_log_t *log, int64_t end, const char *what)
{
    if (gn_log_end_offset(log) != end) {
        fprintf(stderr,
                "log_bench: %s reopened with end offset %" PRId64 ", expected %" PRId64 "\n", what,
                gn_log_end_offset(log), end);
        exit(1);
    }
}

static void phase_restart(bench_t *b, gn_log_t *log, const char *logdir, restart_result_t *r)
{
    double cl[MAX_REPS], op[MAX_REPS], un[MAX_REPS];
    int reps = b->o.reps;
    int64_t start = gn_log_start_offset(log), end = gn_log_end_offset(log);
    r->segments = gn_log_segment_count(log);
    r->bytes = gn_log_size_bytes(log);

    double t0 = now_s();
    gn_log_close(log);
    cl[0] = now_s() - t0;
    for (int i = 0; i < reps; i++) {
        t0 = now_s();
        log = log_open(b, logdir, true, end, start);
        op[i] = now_s() - t0;
        check_reopen(log, end, "clean open");
        t0 = now_s();
        gn_log_close(log);
        if (i + 1 < reps) cl[i + 1] = now_s() - t0;
    }
    for (int i = 0; i < reps; i++) {
        t0 = now_s();
        log = log_open(b, logdir, false, end, start);
        un[i] = now_s() - t0;
        check_reopen(log, end, "unclean open");
        gn_log_close(log);
    }
    t0 = now_s();
    log = log_open(b, logdir, false, 0, start);
    r->full_ms = (now_s() - t0) * 1e3;
    check_reopen(log, end, "full recovery");
    gn_log_close(log);

    r->close_ms = median(cl, reps) * 1e3;
    r->clean_ms = median(op, reps) * 1e3;
    r->unclean_ms = median(un, reps) * 1e3;
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: log_bench [--dir DIR] [--bytes N] [--gc-bytes N] [--record N] [--batch N]\n"
            "                 [--inflight N] [--windows N] [--reps N]\n"
            "  --dir       where the data dir is made (default /var/tmp)\n"
            "  --bytes     bytes per append phase, K/M/G suffixes (default 2G)\n"
            "  --gc-bytes  bytes of the group-commit phase (default: --bytes)\n"
            "  --record    record value bytes (default 1024)\n"
            "  --batch     batch size target (default 16K)\n"
            "  --inflight  group commit: sync waiters outstanding at most (default 64)\n"
            "  --windows   append phases alternate log and ceiling in N windows (default 32)\n"
            "  --reps      repetitions of reads and opens, medians reported (default 5)\n");
    exit(2);
}

/* One table row; a negative number prints as blank. */
static void row(const char *figure, double value, const char *unit, double ceiling, double ratio,
                double cpu, const char *target, const char *verdict_str)
{
    char c[32] = "", r[32] = "", u[32] = "";
    if (ceiling >= 0) snprintf(c, sizeof(c), "%9.*f", ceiling < 10 ? 2 : 1, ceiling);
    if (ratio >= 0) snprintf(r, sizeof(r), "%6.2f", ratio);
    if (cpu >= 0) snprintf(u, sizeof(u), "%6.2f", cpu);
    printf("%-36s %9.*f %-5s %9s %6s %6s  %-18s %s\n", figure, value < 10 ? 2 : 1, value, unit, c,
           r, u, target, verdict_str);
}

static const char *verdict(double ratio, double lo, double hi)
{
    return ratio >= lo && ratio <= hi ? "met" : "NOT met";
}

int main(int argc, char **argv)
{
    bench_t bench = {.o = {.dir = "/var/tmp",
                           .bytes = 2 * GiB,
                           .gc_bytes = -1,
                           .record_bytes = 1024,
                           .batch_bytes = 16 * KiB,
                           .inflight = 64,
                           .windows = 32,
                           .reps = 5}};
    bench_t *b = &bench;
    static const struct option lopts[] = {
        {"dir", required_argument, 0, 'd'},      {"bytes", required_argument, 0, 'b'},
        {"gc-bytes", required_argument, 0, 'g'}, {"record", required_argument, 0, 'r'},
        {"batch", required_argument, 0, 'B'},    {"inflight", required_argument, 0, 'i'},
        {"windows", required_argument, 0, 'w'},  {"reps", required_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            b->o.dir = optarg;
            break;
        case 'b':
            b->o.bytes = parse_size(optarg);
            break;
        case 'g':
            b->o.gc_bytes = parse_size(optarg);
            break;
        case 'r':
            b->o.record_bytes = atoi(optarg);
            break;
        case 'B':
            b->o.batch_bytes = (int)parse_size(optarg);
            break;
        case 'i':
            b->o.inflight = atoi(optarg);
            break;
        case 'w':
            b->o.windows = atoi(optarg);
            break;
        case 'n':
            b->o.reps = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (b->o.gc_bytes < 0) b->o.gc_bytes = b->o.bytes;
    if (b->o.bytes <= 0 || b->o.gc_bytes <= 0 || b->o.record_bytes <= 0 || b->o.batch_bytes <= 0 ||
        b->o.inflight <= 0 || b->o.windows <= 0 || b->o.windows > MAX_WINDOWS || b->o.reps <= 0 ||
        b->o.reps > MAX_REPS)
        usage();

    snprintf(g_root, sizeof(g_root), "%s/log_bench.XXXXXX", b->o.dir);
    if (!mkdtemp(g_root)) {
        g_root[0] = '\0';
        die("mkdtemp", -errno);
    }
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    char os_dir[4200], gc_dir[4200];
    snprintf(os_dir, sizeof(os_dir), "%s/bench-0", g_root);
    snprintf(gc_dir, sizeof(gc_dir), "%s/bench-1", g_root);
    if (uv_loop_init(&b->loop) != 0) die("uv_loop_init", GN_ENOMEM);
    topic_config(&b->cfg);
    b->batch = build_batch(&b->o, &b->batch_len, &b->batch_records);
    b->now_ms = wall_ms();

    printf("log_bench: core log vs this machine's ceilings, same run, same filesystem\n");
    printf("  dir %s (%s), %ld cores; records %d B values, %d per batch, batch %zu B;\n", g_root,
           fs_name(g_root), sysconf(_SC_NPROCESSORS_ONLN), b->o.record_bytes, b->batch_records,
           b->batch_len);
    printf("  append %.2f GiB (flush=os), %.2f GiB (group commit, <= %d waiters), %d windows;"
           " segment.bytes %" PRId64 "\n",
           (double)b->o.bytes / GiB, (double)b->o.gc_bytes / GiB, b->o.inflight, b->o.windows,
           b->cfg.segment_bytes);
    fflush(stdout);

    phase_result_t os = {0}, gc = {0};
    read_result_t rd = {0};
    restart_result_t rs = {0};
    double p50 = 0, p99 = 0;

    double t0 = now_s();
    gn_log_t *log = phase_append_os(b, os_dir, &os);
    /* Untimed: write the flush=os log back so its writeback does not weigh on the
     * group-commit phase (and so close has nothing left to fsync). */
    double tw = now_s();
    int dfd = open(g_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || syncfs(dfd) != 0) die("syncfs", -errno);
    close(dfd);
    double writeback_s = now_s() - tw;

    phase_append_gc(b, gc_dir, &gc, &p50, &p99);
    phase_read(b, log, os_dir, &rd);
    phase_restart(b, log, os_dir, &rs);
    rm_rf(os_dir);
    double total_s = now_s() - t0;

    double gc_bpf = gc.log_fsyncs ? (double)gc.bytes / (double)gc.log_fsyncs : 0;
    printf("\n%-36s %9s %-5s %9s %6s %6s  %-18s %s\n", "figure (medians)", "value", "unit",
           "ceiling", "ratio", "cpu", "target", "");
    row("append flush=os", os.log_mibps, "MiB/s", os.ceil_mibps, os.ratio, os.cpu_ratio,
        ">= 0.80 of write()", verdict(os.ratio, 0.8, 1e9));
    row("append group commit", gc.log_mibps, "MiB/s", gc.ceil_mibps, gc.ratio, -1,
        ">= 0.80 of fdatasync", verdict(gc.ratio, 0.8, 1e9));
    row("read 0..end, 1 MiB slices", rd.log_full, "MiB/s", rd.ceil_full, rd.ratio_full, rd.cpu_full,
        "(ceiling: pread)", "");
    row("read last 10%, 1 MiB slices", rd.log_tail, "MiB/s", rd.ceil_tail, rd.ratio_tail,
        rd.cpu_tail, "(ceiling: pread)", "");
    double tail_norm = rd.pread_tail_vs_full > 0 ? rd.tail_vs_full / rd.pread_tail_vs_full : 0;
    double tail_cpu = rd.cpu_full > 0 ? rd.cpu_tail / rd.cpu_full : 0;
    row("read tail rate / read full rate", rd.tail_vs_full, "x", rd.pread_tail_vs_full, tail_norm,
        tail_cpu, "0.90 .. 1.10", verdict(tail_norm, 0.9, 1.1));
    row("open after clean shutdown", rs.clean_ms, "ms", 200.0, rs.clean_ms / 200.0, -1, "<= 200 ms",
        verdict(rs.clean_ms, 0, 200));
    row("open unclean, recovery point = end", rs.unclean_ms, "ms", -1, -1, -1, "", "");
    row("open unclean, full recovery (once)", rs.full_ms, "ms", -1, -1, -1, "", "");
    row("close (nothing left to flush)", rs.close_ms, "ms", -1, -1, -1, "", "");

    printf("\ndetails:\n");
    printf("  append flush=os: totals log %.1f MiB/s, write() %.1f MiB/s over %.2f GiB; window "
           "ratios %.2f .. %.2f; writeback after (untimed) %.1f s\n",
           os.log_total_mibps, os.ceil_total_mibps, (double)os.bytes / GiB, os.ratio_min,
           os.ratio_max, writeback_s);
    printf("  group commit: %ld log fsyncs for %.2f GiB = %.0f KiB per fsync; ceiling %ld "
           "fdatasyncs; ack latency p50 %.2f ms p99 %.2f ms\n",
           gc.log_fsyncs, (double)gc.bytes / GiB, gc_bpf / KiB, gc.ceil_fsyncs, p50 * 1e3,
           p99 * 1e3);
    printf("  group commit totals: log %.1f MiB/s, write()+fdatasync %.1f MiB/s; window ratios "
           "%.2f .. %.2f\n",
           gc.log_total_mibps, gc.ceil_total_mibps, gc.ratio_min, gc.ratio_max);
    printf("  reads: %.2f GiB full, %.1f MiB tail read %d times in a row, %d reps, from the page "
           "cache (caches are not dropped); tail/full row: ceiling = pread's tail/full, ratio = "
           "log's / pread's\n",
           (double)rd.full_bytes / GiB, (double)rd.tail_bytes / MiB, TAIL_ROUNDS, b->o.reps);
    printf("  restart: %d segments, %.2f GiB; full recovery scanned at %.1f MiB/s\n", rs.segments,
           (double)rs.bytes / GiB, mibps(rs.bytes, rs.full_ms / 1e3));
    printf("  cpu column: median of (ceiling CPU time / log CPU time), process-wide, per window "
           "or repetition: the log's cost, insensitive to other load on the machine\n");
    printf("  whole run %.1f s\n", total_s);

    free(b->batch);
    uv_run(&b->loop, UV_RUN_DEFAULT); /* the log's pending thread-pool work, if any */
    uv_loop_close(&b->loop);
    return 0;
}
