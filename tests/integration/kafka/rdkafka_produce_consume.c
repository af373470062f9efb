/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka against a running broker (argv[1] = host:port): for every compression
 * codec, produce with acks=all records with null and non-null keys and values,
 * headers and explicit CreateTime timestamps; read them back with assign() from the
 * beginning and check every field; then assign() from the end and from an offset.
 * Run by 0100-rdkafka-produce-consume.sh. Exit 0 on success. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define N   100
#define TS0 1600000000000LL

static int failures;
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

static int delivered, delivery_errors;
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err) {
        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        delivery_errors++;
    } else {
        delivered++;
    }
}

static rd_kafka_t *make(rd_kafka_type_t type, const char *broker, const char *codec)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", broker, err, sizeof err);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
        rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
        if (rd_kafka_conf_set(conf, "compression.codec", codec, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return NULL;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    } else {
        rd_kafka_conf_set(conf, "group.id", "unused-assign-only", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) fprintf(stderr, "rd_kafka_new: %s\n", err);
    return rk;
}

/* Record i: key "k<i>" except every 7th (null); value "v<i>" except every 5th (null),
 * every 3rd has two headers. */
static int produce(rd_kafka_t *rk, const char *topic, int from, int to)
{
    for (int i = from; i < to; i++) {
        char key[16], val[96];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(val, sizeof val, "v%d-%s", i, topic);
        rd_kafka_headers_t *hdrs = NULL;
        if (i % 3 == 0) {
            hdrs = rd_kafka_headers_new(2);
            rd_kafka_header_add(hdrs, "h1", -1, "one", 3);
            rd_kafka_header_add(hdrs, "h2", -1, NULL, 0);
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_KEY((i % 7 ? key : NULL), (i % 7 ? strlen(key) : 0)),
            RD_KAFKA_V_VALUE((i % 5 ? val : NULL), (i % 5 ? strlen(val) : 0)),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(TS0 + i),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        CHECK(!e, "producev: %s", rd_kafka_err2str(e));
    }
    rd_kafka_flush(rk, 20000);
    return 0;
}

static int check_msg(const rd_kafka_message_t *m, const char *topic, int i)
{
    char key[16], val[96];
    snprintf(key, sizeof key, "k%d", i);
    snprintf(val, sizeof val, "v%d-%s", i, topic);
    CHECK(m->offset == i, "offset %" PRId64 " != %d", m->offset, i);
    if (i % 7)
        CHECK(m->key && m->key_len == strlen(key) && !memcmp(m->key, key, m->key_len),
              "record %d: key", i);
    else
        CHECK(m->key == NULL, "record %d: key should be null", i);
    if (i % 5)
        CHECK(m->payload && m->len == strlen(val) && !memcmp(m->payload, val, m->len),
              "record %d: value", i);
    else
        CHECK(m->payload == NULL, "record %d: value should be null", i);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    CHECK(ts == TS0 + i && tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME,
          "record %d: timestamp %" PRId64, i, ts);
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_message_headers(m, &hdrs);
    if (i % 3 == 0) {
        const void *v;
        size_t vlen;
        CHECK(hdrs && rd_kafka_header_cnt(hdrs) == 2, "record %d: header count", i);
        CHECK(!rd_kafka_header_get_last(hdrs, "h1", &v, &vlen) && vlen == 3 && !memcmp(v, "one", 3),
              "record %d: header h1", i);
        CHECK(!rd_kafka_header_get_last(hdrs, "h2", &v, &vlen) && v == NULL,
              "record %d: header h2 should be null", i);
    } else {
        CHECK(!hdrs || rd_kafka_header_cnt(hdrs) == 0, "record %d: unexpected headers", i);
    }
    return 0;
}

/* Consumes from start until EOF; checks records first..; returns how many. */
static int consume(rd_kafka_t *rk, const char *topic, int64_t start, int first, int expect)
{
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, topic, 0)->offset = start;
    rd_kafka_assign(rk, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    int got = 0;
    for (int polls = 0; polls < 200; polls++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            if (got >= expect) break;
            continue;
        }
        if (m->err) {
            fprintf(stderr, "consume error: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            failures++;
            break;
        }
        int rc = check_msg(m, topic, first + got);
        rd_kafka_message_destroy(m);
        if (rc < 0) break;
        got++;
    }
    rd_kafka_assign(rk, NULL);
    return got;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    const char *broker = argv[1];
    const char *codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    rd_kafka_t *cons = make(RD_KAFKA_CONSUMER, broker, NULL);
    if (!cons) return 1;
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++) {
        char topic[64];
        snprintf(topic, sizeof topic, "rd-%s", codecs[c]);
        rd_kafka_t *prod = make(RD_KAFKA_PRODUCER, broker, codecs[c]);
        if (!prod) return 1;
        delivered = delivery_errors = 0;
        produce(prod, topic, 0, N);
        if (delivered != N || delivery_errors) {
            fprintf(stderr, "FAIL %s: delivered %d of %d\n", codecs[c], delivered, N);
            return 1;
        }
        int got = consume(cons, topic, RD_KAFKA_OFFSET_BEGINNING, 0, N);
        if (got != N) {
            fprintf(stderr, "FAIL %s: consumed %d of %d\n", codecs[c], got, N);
            return 1;
        }
        /* from an offset */
        got = consume(cons, topic, 60, 60, N - 60);
        if (got != N - 60) {
            fprintf(stderr, "FAIL %s: from offset 60 consumed %d\n", codecs[c], got);
            return 1;
        }
        /* from the end: only what is produced after the assignment */
        if (c == 0) {
            rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(tp, topic, 0)->offset = RD_KAFKA_OFFSET_END;
            rd_kafka_assign(cons, tp);
            rd_kafka_topic_partition_list_destroy(tp);
            for (int i = 0; i < 10; i++)
                rd_kafka_poll(cons, 50); /* let it resolve the end */
            rd_kafka_message_t *m;
            while ((m = rd_kafka_consumer_poll(cons, 300)))
                rd_kafka_message_destroy(m);
            produce(prod, topic, N, N + 1);
            int seen = -1;
            for (int polls = 0; polls < 100 && seen < 0; polls++) {
                m = rd_kafka_consumer_poll(cons, 100);
                if (!m) continue;
                if (!m->err) seen = (int)m->offset;
                rd_kafka_message_destroy(m);
            }
            rd_kafka_assign(cons, NULL);
            if (seen != N) {
                fprintf(stderr, "FAIL: from end saw offset %d, want %d\n", seen, N);
                return 1;
            }
        }
        rd_kafka_destroy(prod);
        printf("%s: ok\n", codecs[c]);
    }
    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    return failures ? 1 : 0;
}
