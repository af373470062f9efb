/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT load generator (issue #5), raw MQTT 3.1.1 over loopback TCP, one thread, epoll:
 *   mqtt_bench HOST PORT SHAPE N QOS BYTES SECONDS   SHAPE: pairs | fanin | fanout
 *   mqtt_bench HOST PORT idle N BROKER_PID           N idle connections, broker RSS/conn
 * Publishers send with a window (messages sent but not yet delivered to every
 * subscriber, 128; QoS 1 also at most 64 unacknowledged), each payload carrying its
 * send time; subscribers count deliveries and end-to-end latency. A packet goes out in
 * its own send with Nagle's algorithm on, as libmosquitto's defaults have it
 * (GN_MQTT_BENCH_WRITES=nodelay: with TCP_NODELAY; =turn: a connection's packets of a
 * loop turn in one send), and the loop sleeps in epoll_wait while every publisher's
 * window is full (it used to spin, taking one of the two cores from the broker). Prints:
 * delivered msg/s, p50/p99 latency in microseconds, messages lost. Driven by
 * mqtt_bench.sh side by side with Mosquitto. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW      128
#define QOS1_UNACK  64
#define MAX_SAMPLES (4u << 20)

typedef struct conn {
    int fd;
    bool sub;
    int id; /* publisher index */
    uint8_t in[1 << 16];
    size_t len;
    bool connacked, subacked;
    uint64_t sent, unacked;
    uint16_t pid;
    uint8_t *out; /* packets queued this turn, written in one send */
    size_t outlen, outcap;
} conn_t;

static conn_t *conns;
static int nconns;
static uint64_t *recv_per_pub;
static int receivers_per_msg;
static uint64_t received, lost_guess;
static uint32_t *samples;
static size_t nsamples;
static int ep;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, 10);
        } else {
            perror("send");
            exit(1);
        }
    }
}

/* Sends bytes on a connection: at once, one send per packet as libmosquitto does, with
 * Nagle's algorithm on as libmosquitto has it by default (GN_MQTT_BENCH_WRITES=nagle, the
 * default) or with TCP_NODELAY (=nodelay: every packet its own segment, the costliest
 * load for a broker); or queued, and flush_all writes every connection's queue once per
 * loop turn with TCP_NODELAY (=turn), as a client that batches its writes. */
static bool per_packet = true, nodelay = false;

static void queue(conn_t *c, const uint8_t *p, size_t n)
{
    if (per_packet) {
        send_all(c->fd, p, n);
        return;
    }
    if (c->outcap - c->outlen < n) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap - c->outlen < n)
            cap *= 2;
        if (!(c->out = realloc(c->out, cap))) {
            perror("realloc");
            exit(1);
        }
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
}

static void flush_all(void)
{
    for (int i = 0; i < nconns; i++) {
        if (!conns[i].outlen) continue;
        send_all(conns[i].fd, conns[i].out, conns[i].outlen);
        conns[i].outlen = 0;
    }
}

static size_t put_rl(uint8_t *p, size_t v)
{
    size_t i = 0;
    do {
        p[i] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
        i++;
    } while (v);
    return i;
}

static int dial(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        perror("socket");
        exit(1);
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int one = 1;
    if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(1);
    }
    struct pollfd pfd = {fd, POLLOUT, 0};
    poll(&pfd, 1, 5000);
    return fd;
}

static void mqtt_connect(conn_t *c, const char *id)
{
    uint8_t b[128];
    size_t idl = strlen(id), n = 0;
    b[n++] = 0x10;
    n += put_rl(b + n, 10 + 2 + idl);
    memcpy(b + n, "\0\4MQTT\4\2\0\x3c", 10); /* level 4, clean session, keepalive 60 */
    n += 10;
    b[n++] = (uint8_t)(idl >> 8);
    b[n++] = (uint8_t)idl;
    memcpy(b + n, id, idl);
    send_all(c->fd, b, n + idl);
}

static void mqtt_subscribe(conn_t *c, const char *filter, int qos)
{
    uint8_t b[256];
    size_t fl = strlen(filter), n = 0;
    b[n++] = 0x82;
    n += put_rl(b + n, 2 + 2 + fl + 1);
    b[n++] = 0;
    b[n++] = 1;
    b[n++] = (uint8_t)(fl >> 8);
    b[n++] = (uint8_t)fl;
    memcpy(b + n, filter, fl);
    n += fl;
    b[n++] = (uint8_t)qos;
    send_all(c->fd, b, n);
}

static uint8_t pubbuf[1 << 16];

static void mqtt_publish(conn_t *c, const char *topic, int qos, size_t bytes)
{
    size_t tl = strlen(topic), n = 0;
    size_t rl = 2 + tl + (qos ? 2 : 0) + bytes;
    pubbuf[n++] = (uint8_t)(0x30 | qos << 1);
    n += put_rl(pubbuf + n, rl);
    pubbuf[n++] = (uint8_t)(tl >> 8);
    pubbuf[n++] = (uint8_t)tl;
    memcpy(pubbuf + n, topic, tl);
    n += tl;
    if (qos) {
        if (++c->pid == 0) c->pid = 1;
        pubbuf[n++] = (uint8_t)(c->pid >> 8);
        pubbuf[n++] = (uint8_t)c->pid;
        c->unacked++;
    }
    uint64_t t = now_ns();
    memset(pubbuf + n, 'x', bytes);
    memcpy(pubbuf + n, &t, 8);
    int32_t id = c->id;
    memcpy(pubbuf + n + 8, &id, 4);
    n += bytes;
    queue(c, pubbuf, n);
    c->sent++;
}

static void on_packet(conn_t *c, const uint8_t *p, size_t len, uint8_t type)
{
    switch (type >> 4) {
    case 2:
        c->connacked = true;
        break;
    case 9:
        c->subacked = true;
        break;
    case 4:
        if (c->unacked) c->unacked--;
        break;
    case 3: {
        int qos = (type >> 1) & 3;
        if (len < 2) return;
        size_t tl = (size_t)p[0] << 8 | p[1];
        size_t off = 2 + tl + (qos ? 2 : 0);
        if (qos) {
            uint8_t ack[4] = {0x40, 2, p[2 + tl], p[3 + tl]};
            queue(c, ack, 4);
        }
        if (len < off + 12) return;
        uint64_t t;
        int32_t id;
        memcpy(&t, p + off, 8);
        memcpy(&id, p + off + 8, 4);
        received++;
        if (id >= 0 && id < nconns) recv_per_pub[id]++;
        if (nsamples < MAX_SAMPLES) samples[nsamples++] = (uint32_t)((now_ns() - t) / 1000);
        break;
    }
    default:
        break;
    }
}

static void on_readable(conn_t *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, c->in + c->len, sizeof c->in - c->len, 0);
        if (r == 0) {
            fprintf(stderr, "broker closed a connection\n");
            exit(1);
        }
        if (r < 0) return;
        c->len += (size_t)r;
        size_t pos = 0;
        while (c->len - pos >= 2) {
            size_t rl = 0, mul = 1, i = pos + 1;
            bool ok = false;
            while (i < c->len && i < pos + 5) {
                rl += (c->in[i] & 0x7f) * mul;
                mul <<= 7;
                if (!(c->in[i++] & 0x80)) {
                    ok = true;
                    break;
                }
            }
            if (!ok || c->len - i < rl) break;
            on_packet(c, c->in + i, rl, c->in[pos]);
            pos = i + rl;
        }
        memmove(c->in, c->in + pos, c->len - pos);
        c->len -= pos;
    }
}

static void poll_once(int ms)
{
    struct epoll_event ev[256];
    int n = epoll_wait(ep, ev, 256, ms);
    for (int i = 0; i < n; i++)
        on_readable(&conns[ev[i].data.u32]);
    flush_all();
}

static conn_t *open_conn(const char *host, int port, int idx, const char *name)
{
    conn_t *c = &conns[idx];
    memset(c, 0, sizeof *c);
    c->fd = dial(host, port);
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
    mqtt_connect(c, name);
    return c;
}

static void wait_all(bool (*done)(const conn_t *), int from, int to)
{
    uint64_t end = now_ns() + 10000000000ull;
    for (;;) {
        bool all = true;
        for (int i = from; i < to && all; i++)
            all = done(&conns[i]);
        if (all) return;
        if (now_ns() > end) {
            fprintf(stderr, "timeout waiting for the broker\n");
            exit(1);
        }
        poll_once(5);
    }
}

static bool is_connacked(const conn_t *c)
{
    return c->connacked;
}
static bool is_subacked(const conn_t *c)
{
    return !c->sub || c->subacked;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static long rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
    if (f) fclose(f);
    return kib;
}

static int run_idle(const char *host, int port, int n, int pid)
{
    conns = calloc((size_t)n, sizeof *conns);
    if (!conns) return 1;
    nconns = n;
    long before = rss_kib(pid);
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "idle-%d", i);
        open_conn(host, port, i, name);
        if (i % 500 == 499) wait_all(is_connacked, i - 499, i + 1);
    }
    wait_all(is_connacked, 0, n);
    usleep(500000);
    long after = rss_kib(pid);
    printf("idle connections=%d rss_before_kib=%ld rss_after_kib=%ld bytes_per_conn=%.0f\n", n,
           before, after, (double)(after - before) * 1024.0 / n);
    for (int i = 0; i < n; i++)
        close(conns[i].fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr,
                "usage: %s HOST PORT pairs|fanin|fanout N QOS BYTES SECONDS\n"
                "       %s HOST PORT idle N BROKER_PID\n",
                argv[0], argv[0]);
        return 2;
    }
    const char *host = argv[1], *shape = argv[3];
    int port = atoi(argv[2]), n = atoi(argv[4]);
    ep = epoll_create1(0);
    const char *writes = getenv("GN_MQTT_BENCH_WRITES");
    if (writes && strcmp(writes, "nodelay") == 0) nodelay = true;
    if (writes && strcmp(writes, "turn") == 0) {
        per_packet = false;
        nodelay = true;
    }
    if (strcmp(shape, "idle") == 0) return run_idle(host, port, n, atoi(argv[5]));
    if (argc < 8) return 2;
    int qos = atoi(argv[5]);
    size_t bytes = (size_t)atoi(argv[6]);
    double seconds = atof(argv[7]);
    if (bytes < 12) bytes = 12;
    int npub = strcmp(shape, "fanout") == 0 ? 1 : n;
    int nsub = strcmp(shape, "fanin") == 0 ? 1 : n;
    receivers_per_msg = strcmp(shape, "fanout") == 0 ? n : 1;
    nconns = npub + nsub;
    conns = calloc((size_t)nconns, sizeof *conns);
    recv_per_pub = calloc((size_t)nconns, sizeof *recv_per_pub);
    samples = malloc(MAX_SAMPLES * sizeof *samples);
    if (!conns || !recv_per_pub || !samples) return 1;
    char name[64], topic[64];
    int run = (int)(now_ns() % 100000);
    for (int i = 0; i < nsub; i++) {
        snprintf(name, sizeof name, "bs-%d-%d", run, i);
        conn_t *c = open_conn(host, port, npub + i, name);
        c->sub = true;
    }
    wait_all(is_connacked, npub, nconns);
    for (int i = 0; i < nsub; i++) {
        if (strcmp(shape, "pairs") == 0)
            snprintf(topic, sizeof topic, "bench%d/p%d", run, i);
        else if (strcmp(shape, "fanin") == 0)
            snprintf(topic, sizeof topic, "bench%d/#", run);
        else
            snprintf(topic, sizeof topic, "bench%d/all", run);
        mqtt_subscribe(&conns[npub + i], topic, qos);
    }
    wait_all(is_subacked, npub, nconns);
    for (int i = 0; i < npub; i++) {
        snprintf(name, sizeof name, "bp-%d-%d", run, i);
        open_conn(host, port, i, name)->id = i;
    }
    wait_all(is_connacked, 0, npub);
    usleep(200000);
    char(*topics)[64] = calloc((size_t)npub, sizeof *topics);
    for (int i = 0; i < npub; i++)
        snprintf(topics[i], 64, strcmp(shape, "fanout") == 0 ? "bench%d/all" : "bench%d/p%d", run,
                 i);
    uint64_t *stall = calloc((size_t)npub, sizeof *stall);
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9);
    while (now_ns() < end) {
        uint64_t now = now_ns();
        bool sending = false;
        for (int i = 0; i < npub; i++) {
            conn_t *c = &conns[i];
            uint64_t delivered = recv_per_pub[i] / (uint64_t)receivers_per_msg;
            int k = 0;
            while (c->sent - delivered < WINDOW && (!qos || c->unacked < QOS1_UNACK) && k++ < 16) {
                mqtt_publish(c, topics[i], qos, bytes);
                sending = true;
            }
            if (c->sent - delivered >= WINDOW) {
                if (!stall[i]) stall[i] = now;
                if (now - stall[i] > 500000000u) { /* lost: give the window back */
                    lost_guess += c->sent - delivered;
                    recv_per_pub[i] += (c->sent - delivered) * (uint64_t)receivers_per_msg;
                    stall[i] = 0;
                }
            } else {
                stall[i] = 0;
            }
        }
        flush_all();
        poll_once(sending ? 0 : 1); /* every window full: sleep until the broker answers */
    }
    uint64_t sent = 0;
    for (int i = 0; i < npub; i++)
        sent += conns[i].sent;
    uint64_t drain_end = now_ns() + 2000000000ull;
    while (received < sent * (uint64_t)receivers_per_msg && now_ns() < drain_end)
        poll_once(5);
    double secs = (double)(now_ns() - t0) / 1e9;
    qsort(samples, nsamples, sizeof *samples, cmp_u32);
    uint32_t p50 = nsamples ? samples[nsamples / 2] : 0;
    uint32_t p99 = nsamples ? samples[nsamples * 99 / 100] : 0;
    uint64_t expected = sent * (uint64_t)receivers_per_msg;
    printf("shape=%s n=%d qos=%d bytes=%zu sent=%llu delivered=%llu lost=%llu msg_per_s=%.0f "
           "p50_us=%u p99_us=%u\n",
           shape, n, qos, bytes, (unsigned long long)sent, (unsigned long long)received,
           (unsigned long long)(expected > received ? expected - received : 0),
           (double)received / secs, p50, p99);
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    return 0;
}
