/* SPDX-License-Identifier: Apache-2.0 */
/* kafka_failover_probe: the client side of the cluster failover measurement
 * (tests/cluster/bench/acks_all.sh). An idempotent librdkafka producer (acks=all) sends one
 * small record every --every-ms to partition 0 of --topic for --seconds, and prints one line
 * per delivery report: "<unix ms> <broker id the record was acknowledged by> <error name>
 * <ms from produce() to the report>". acks_all.sh kills the leader and reads the first
 * success from another broker after the kill: the failover time as a client sees it;
 * ack_latency.sh takes percentiles of the last column. Asserts nothing; exits 1 only on
 * setup errors. GN_PROBE_DEBUG=metadata,broker turns librdkafka's debug log on (stderr).
 * usage: kafka_failover_probe BOOTSTRAP TOPIC [--seconds S] [--every-ms MS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    long long sent_us = (long long)(intptr_t)m->_private; /* produce() time, see main */
    printf("%lld %d %s %.3f\n", now_ms(), (int)rd_kafka_message_broker_id(m),
           m->err ? rd_kafka_err2name(m->err) : "ok", (double)(mono_us() - sent_us) / 1000.0);
    fflush(stdout);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) == RD_KAFKA_CONF_OK) return 0;
    fprintf(stderr, "config %s=%s: %s\n", k, v, err);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC [--seconds S] [--every-ms MS]\n", argv[0]);
        return 1;
    }
    double seconds = 15;
    int every_ms = 5;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        if (strcmp(argv[i], "--every-ms") == 0) every_ms = atoi(argv[i + 1]);
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", argv[1]) || set(conf, "acks", "all") ||
        set(conf, "enable.idempotence", "true") || set(conf, "linger.ms", "0") ||
        set(conf, "message.timeout.ms", "60000"))
        return 1;
    const char *debug = getenv("GN_PROBE_DEBUG"); /* librdkafka's debug contexts, to stderr */
    if (debug && debug[0] && set(conf, "debug", debug)) return 1;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        return 1;
    }
    long long end = now_ms() + (long long)(seconds * 1000);
    unsigned long n = 0;
    while (now_ms() < end) {
        char v[32];
        int len = snprintf(v, sizeof(v), "%lu", n++);
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE(v, (size_t)len),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_OPAQUE((void *)(intptr_t)mono_us()), RD_KAFKA_V_END);
        rd_kafka_poll(rk, every_ms);
    }
    rd_kafka_flush(rk, 60000);
    rd_kafka_destroy(rk);
    return 0;
}
