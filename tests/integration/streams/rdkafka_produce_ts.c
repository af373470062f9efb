/* SPDX-License-Identifier: Apache-2.0 */
/* Produces records with explicit CreateTime timestamps, which kcat cannot set: one record
 * per stdin line "key|timestamp|value" (key empty: null key) to topic argv[2] on broker
 * argv[1], acks=all, in order (one in flight). Exit 0 once every record is acknowledged.
 * Used by the stream processor scripts for event-time windows and late records. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static int delivery_errors;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        delivery_errors++;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s host:port topic <lines key|timestamp|value\n", argv[0]);
        return 2;
    }
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) ||
        rd_kafka_conf_set(conf, "acks", "all", err, sizeof err) ||
        rd_kafka_conf_set(conf, "max.in.flight", "1", err, sizeof err) ||
        rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err)) {
        fprintf(stderr, "config: %s\n", err);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        return 1;
    }
    char line[65536];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *ts = strchr(line, '|'), *value = ts ? strchr(ts + 1, '|') : NULL;
        if (!value) {
            fprintf(stderr, "bad line: %s\n", line);
            rc = 1;
            break;
        }
        *ts++ = '\0';
        *value++ = '\0';
        size_t klen = strlen(line);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_KEY(klen ? line : NULL, klen),
            RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_TIMESTAMP(strtoll(ts, NULL, 10)), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "producev: %s\n", rd_kafka_err2str(e));
            rc = 1;
        }
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 20000) != RD_KAFKA_RESP_ERR_NO_ERROR) rc = 1;
    rd_kafka_destroy(rk);
    return rc || delivery_errors ? 1 : 0;
}
