/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the records of __rest_consumers (adapters/http/consumer_store.c
 * http__consumer_restore): REST Proxy consumer instances read back when the HTTP adapter
 * starts, key ["group","name"] and a JSON value (format, offset reset, commit and fetch
 * settings, topics | topic_pattern | assignments), a tombstone deleting. A corrupt record
 * must be skipped or restored to a sane instance, never crash the broker. The registry
 * is an HTTP server's without listeners, over a real broker in a private temp dir (on
 * /dev/shm when there is one) holding topics "orders" and "orders-eu", so that patterns
 * resolve. After the records: each instance is found under its own group and name and
 * holds bounded topic and partition lists; once all are deleted the registry is empty.
 * Input: records of [key length][key][u16 value length, 0xffff tombstone][value].
 * Seeds: tests/fuzz/corpus/http_consumers/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "../../adapters/http/consumer.h"
#include "ganglion/broker.h"
#include "ganglion/logger.h"

static uv_loop_t loop;
static gn_broker_t *broker;

static void on_created(void *arg, int status)
{
    (void)status;
    (*(int *)arg)++;
}

static void init_once(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "%s/gn-fuzz-consumers-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir) || uv_loop_init(&loop)) abort();
    gn_logger_set_level(GN_LEVEL_ERROR);
    gn_broker_config_t cfg;
    gn_broker_config_defaults(&cfg);
    cfg.data_dir = dir;
    if (gn_broker_open(&loop, &cfg, &broker) < 0) abort();
    int done = 0;
    if (gn_topic_create(broker, "orders", 2, -1, NULL, 0, false, on_created, &done) < 0 ||
        gn_topic_create(broker, "orders-eu", 1, -1, NULL, 0, false, on_created, &done) < 0)
        abort();
    for (int i = 0; done < 2 && i < 100000; i++)
        uv_run(&loop, UV_RUN_ONCE);
    if (done < 2) abort();
}

static void check(http_server_t *srv)
{
    size_t n = 0;
    for (http_consumer_t *c = srv->consumers->list; c; c = c->next, n++) {
        if (c->deleted) continue;
        if (http__consumer_find(srv, c->group, c->name) != c) abort();
        if (c->ntopics > HTTP_CONSUMER_MAX_TOPICS || c->nparts > HTTP_CONSUMER_MAX_PARTS) abort();
        for (size_t i = 0; i < c->ntopics; i++)
            if (!c->topics[i]) abort();
        if (c->request_timeout_ms <= 0) abort();
    }
    if (n != srv->consumers->count) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!broker) init_once();
    http_server_t *srv = calloc(1, sizeof *srv);
    http_consumers_t *reg = calloc(1, sizeof *reg);
    if (!srv || !reg) abort();
    srv->broker = broker;
    srv->loop = &loop;
    reg->srv = srv; /* no tick timer: nothing runs on the loop */
    srv->consumers = reg;
    const uint8_t *p = data, *end = data + size;
    while (end - p >= 1) {
        size_t klen = *p++;
        if (klen > (size_t)(end - p)) klen = (size_t)(end - p);
        gn_bytes_t key = {p, klen};
        p += klen;
        gn_bytes_t value = GN_BYTES_NULL;
        if (end - p >= 2) {
            size_t vlen = (size_t)p[0] << 8 | p[1];
            p += 2;
            if (vlen != 0xffff) {
                if (vlen > (size_t)(end - p)) vlen = (size_t)(end - p);
                value = (gn_bytes_t){p, vlen};
                p += vlen;
            }
        }
        http__consumer_restore(srv, key, value);
    }
    check(srv);
    while (reg->list) {
        http_consumer_t *c = reg->list;
        http__consumer_delete(c, false);
        if (reg->list == c) abort(); /* nothing else holds it: freed at once */
    }
    if (reg->count != 0) abort();
    free(reg);
    free(srv);
    return 0;
}
