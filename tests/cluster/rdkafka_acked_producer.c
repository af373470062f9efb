/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka (2.0.2) producer of tests/cluster/0009-two-down.sh: what was acknowledged.
 *
 *   rdkafka_acked_producer BROKERS TOPIC PARTITION [name=value ...]
 *     Produces each line of stdin as one record (no key) to PARTITION of TOPIC (-1: the
 *     partitioner's choice), with the librdkafka settings given (acks, retries, ...), and
 *     prints one line per delivery report on stdout as it arrives:
 *       ok VALUE PARTITION OFFSET
 *       err VALUE ERROR_NAME
 *     At the end of stdin it waits for every report (message.timeout.ms bounds each) and
 *     exits 0; 2 on a usage or configuration error.
 */
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        printf("err %.*s %s\n", (int)m->len, (const char *)m->payload, rd_kafka_err2name(m->err));
    else
        printf("ok %.*s %d %lld\n", (int)m->len, (const char *)m->payload, (int)m->partition,
               (long long)m->offset);
    fflush(stdout);
}

static rd_kafka_t *producer(const char *brokers, int nsettings, char **settings)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != RD_KAFKA_CONF_OK)
        goto bad;
    for (int i = 0; i < nsettings; i++) {
        char *eq = strchr(settings[i], '=');
        if (!eq) {
            snprintf(err, sizeof err, "not name=value: %s", settings[i]);
            goto bad;
        }
        *eq = '\0';
        if (rd_kafka_conf_set(conf, settings[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK)
            goto bad;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk) return rk;
bad:
    fprintf(stderr, "config: %s\n", err);
    exit(2);
}

static void produce(rd_kafka_t *rk, const char *topic, int32_t partition, const char *value,
                    size_t len)
{
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                                  RD_KAFKA_V_VALUE((void *)value, len),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 50);
    if (e) printf("err %.*s %s\n", (int)len, value, rd_kafka_err2name(e));
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s BROKERS TOPIC PARTITION [name=value ...]\n", argv[0]);
        return 2;
    }
    rd_kafka_t *rk = producer(argv[1], argc - 4, argv + 4);
    int32_t partition = atoi(argv[3]);
    char buf[65536];
    size_t have = 0;
    for (;;) { /* stdin read as it comes, delivery reports served meanwhile */
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        rd_kafka_poll(rk, 0);
        if (poll(&pfd, 1, 20) <= 0) continue;
        ssize_t n = read(0, buf + have, sizeof buf - have);
        if (n <= 0) break;
        have += (size_t)n;
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            if (nl > line) produce(rk, argv[2], partition, line, (size_t)(nl - line));
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have == sizeof buf) have = 0; /* a line longer than the buffer: dropped */
    }
    if (have) produce(rk, argv[2], partition, buf, have);
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_poll(rk, 100);
    rd_kafka_destroy(rk);
    return 0;
}
