/* SPDX-License-Identifier: Apache-2.0 */
/* An idempotent librdkafka producer (enable.idempotence=true, acks=all) streaming
 * COUNT records "%08d" to partition 0 of TOPIC, one every INTERVAL_US, while the test
 * script may stop and restart the broker under it. Checks every record is delivered
 * without error and that the delivered offsets increase with the record number (no
 * reordering). Run by 0300/0301: rdkafka_idempotent HOST:PORT TOPIC COUNT INTERVAL_US.
 * Exit 0 on success. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static int delivered, errors;
static int64_t *offsets;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    intptr_t i = (intptr_t)m->_private;
    if (m->err) {
        if (errors++ < 10)
            fprintf(stderr, "delivery %d failed: %s\n", (int)i, rd_kafka_err2str(m->err));
        return;
    }
    offsets[i] = m->offset;
    delivered++;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST:PORT TOPIC COUNT INTERVAL_US\n", argv[0]);
        return 2;
    }
    const char *topic = argv[2];
    int count = atoi(argv[3]);
    long interval_us = atol(argv[4]);
    char err[512];
    offsets = calloc((size_t)count, sizeof(*offsets));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", argv[1]},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "2"},
        {"message.timeout.ms", "120000"},
        {"retry.backoff.ms", "100"},
        {"reconnect.backoff.ms", "100"},
        {"reconnect.backoff.max.ms", "500"},
        {"socket.timeout.ms", "10000"},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof err)) {
            fprintf(stderr, "%s: %s\n", kv[i][0], err);
            return 2;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        return 2;
    }
    for (int i = 0; i < count; i++) {
        char v[16];
        int n = snprintf(v, sizeof v, "%08d", i);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                RD_KAFKA_V_VALUE(v, (size_t)n), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 10);
                continue;
            }
            if (e) {
                fprintf(stderr, "produce %d: %s\n", i, rd_kafka_err2str(e));
                return 1;
            }
            break;
        }
        rd_kafka_poll(rk, 0);
        if (interval_us > 0) nanosleep(&(struct timespec){0, interval_us * 1000}, NULL);
    }
    rd_kafka_flush(rk, 150000);
    char fatal[256] = "";
    rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    rd_kafka_destroy(rk);
    int bad_order = 0;
    for (int i = 1; i < count; i++)
        if (offsets[i] <= offsets[i - 1] && bad_order++ < 5)
            fprintf(stderr, "offset of %d (%" PRId64 ") <= offset of %d (%" PRId64 ")\n", i,
                    offsets[i], i - 1, offsets[i - 1]);
    printf("delivered=%d errors=%d fatal=%s first_offset=%" PRId64 " last_offset=%" PRId64 "\n",
           delivered, errors, ferr ? fatal : "none", offsets[0], offsets[count - 1]);
    free(offsets);
    return delivered == count && errors == 0 && !ferr && !bad_order ? 0 : 1;
}
