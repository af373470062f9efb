/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka (2.0.2) client of tests/cluster/0010-group-failover.sh.
 *
 *   consume BROKERS GROUP TOPIC N EVERY DELAY_MS ACKED_FILE
 *     A group consumer of TOPIC, whose values are 1..N: prints each value read on
 *     stdout, sleeps DELAY_MS per record, commits synchronously after EVERY records
 *     (again after each further record while commits fail, as when the coordinator is
 *     gone), and appends the sum of the offsets each acknowledged commit stored to
 *     ACKED_FILE. Ends once N distinct values were read and committed; prints on stderr
 *     "window_max=W": the most records ever read and not yet committed, which bounds
 *     what a resumption from the committed offsets may read again.
 *   committed BROKERS GROUP TOPIC PARTITIONS
 *     Prints the sum of the group's committed offsets over the topic's partitions, as
 *     the coordinator answers OffsetFetch now (without joining the group).
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static rd_kafka_t *client(const char *brokers, const char *group)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", brokers},    {"group.id", group},
        {"client.id", "failover-test"},    {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"}, {"session.timeout.ms", "6000"},
        {"heartbeat.interval.ms", "500"},  {"topic.metadata.refresh.interval.ms", "1000"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "config %s: %s\n", kv[i][0], err);
            exit(2);
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        exit(2);
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Commits the current positions; on success appends the sum of the stored offsets. */
static int commit(rd_kafka_t *rk, const char *acked_file)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts) || !parts) return -1;
    rd_kafka_resp_err_t e = rd_kafka_position(rk, parts);
    if (!e) e = rd_kafka_commit(rk, parts, 0);
    int64_t sum = 0;
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset >= 0) sum += parts->elems[i].offset;
    int n = parts->cnt;
    rd_kafka_topic_partition_list_destroy(parts);
    if (e == RD_KAFKA_RESP_ERR__NO_OFFSET) return 0; /* nothing read yet */
    if (e) {
        fprintf(stderr, "commit failed: %s\n", rd_kafka_err2name(e));
        return -1;
    }
    /* a partial sum when fewer than all partitions are assigned: the script only
     * compares sums taken while this consumer holds every partition */
    FILE *f = fopen(acked_file, "a");
    if (f) {
        fprintf(f, "%lld %d\n", (long long)sum, n);
        fclose(f);
    }
    return 0;
}

static int consume(char **argv)
{
    const char *topic = argv[4];
    long n = atol(argv[5]), every = atol(argv[6]), delay_ms = atol(argv[7]);
    const char *acked_file = argv[8];
    if (n <= 0 || every <= 0) return 2;
    rd_kafka_t *rk = client(argv[2], argv[3]);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, sub)) return 2;
    rd_kafka_topic_partition_list_destroy(sub);
    char *seen = calloc((size_t)n + 1, 1);
    long distinct = 0, uncommitted = 0, window_max = 0, reads = 0;
    double deadline = now_s() + 180;
    int rc = 1;
    while (now_s() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m && m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "consume error: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            m = NULL;
        }
        if (m) {
            char buf[32] = {0};
            size_t len = m->len < sizeof buf - 1 ? m->len : sizeof buf - 1;
            memcpy(buf, m->payload, len);
            long v = atol(buf);
            printf("%ld\n", v);
            fflush(stdout);
            reads++;
            if (v >= 1 && v <= n && !seen[v]) {
                seen[v] = 1;
                distinct++;
            }
            rd_kafka_message_destroy(m);
            if (++uncommitted > window_max) window_max = uncommitted;
            if (delay_ms) usleep((useconds_t)delay_ms * 1000);
        }
        bool due = uncommitted >= every || (distinct == n && uncommitted > 0);
        if (due && commit(rk, acked_file) == 0) uncommitted = 0;
        if (distinct == n && uncommitted == 0) {
            rc = 0;
            break;
        }
    }
    fprintf(stderr, "reads=%ld distinct=%ld window_max=%ld\n", reads, distinct, window_max);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(seen);
    return rc;
}

static int committed(char **argv)
{
    int nparts = atoi(argv[5]);
    rd_kafka_t *rk = client(argv[2], argv[3]);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(parts, argv[4], p);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, parts, 20000);
    int64_t sum = 0;
    for (int i = 0; !e && i < parts->cnt; i++) {
        if (parts->elems[i].err) e = parts->elems[i].err;
        if (parts->elems[i].offset >= 0) sum += parts->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    if (e) {
        fprintf(stderr, "committed: %s\n", rd_kafka_err2name(e));
        return 1;
    }
    printf("%lld\n", (long long)sum);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 9 && strcmp(argv[1], "consume") == 0) return consume(argv);
    if (argc == 6 && strcmp(argv[1], "committed") == 0) return committed(argv);
    fprintf(stderr,
            "usage: %s consume BROKERS GROUP TOPIC N EVERY DELAY_MS ACKED_FILE\n"
            "       %s committed BROKERS GROUP TOPIC PARTITIONS\n",
            argv[0], argv[0]);
    return 2;
}
