/* SPDX-License-Identifier: Apache-2.0 */
/* gn_murmur2 / gn_partition_for_key against librdkafka's murmur2 partitioner, the
 * truth (bit-compatible with the Java client): (1) stored vectors computed by
 * librdkafka (tests/fixtures/topic/gen_murmur2_vectors.c), (2) live, by loading the
 * installed librdkafka with dlopen (the unit tests link no client library). */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ganglion/topic.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void test_partitioner__matches_librdkafka_vectors(void **state)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s", __FILE__);
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash, sizeof(path) - (size_t)(slash - path),
             "/../../fixtures/topic/murmur2_vectors.txt");
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    char line[512];
    int checked = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#') continue;
        char hex[256];
        int cnt, want;
        assert_int_equal(sscanf(line, "%255s %d %d", hex, &cnt, &want), 3);
        uint8_t key[128];
        size_t len = 0;
        if (strcmp(hex, "-") != 0) {
            for (size_t i = 0; hex[i] && hex[i + 1]; i += 2)
                key[len++] = (uint8_t)(hexval(hex[i]) << 4 | hexval(hex[i + 1]));
        }
        int32_t got = gn_partition_for_key((gn_bytes_t){key, len}, cnt);
        if (got != want) fail_msg("key %s cnt %d: got %d want %d", hex, cnt, got, want);
        checked++;
    }
    fclose(f);
    assert_true(checked >= 400);
}

typedef void *(*conf_new_fn)(void);
typedef int (*conf_set_fn)(void *, const char *, const char *, char *, size_t);
typedef void *(*new_fn)(int, void *, char *, size_t);
typedef void *(*topic_new_fn)(void *, const char *, void *);
typedef int32_t (*part_fn)(const void *, const void *, size_t, int32_t, void *, void *);
typedef void (*destroy_fn)(void *);

static void test_partitioner__matches_librdkafka_live(void **state)
{
    void *lib = dlopen("librdkafka.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) skip();
    conf_new_fn conf_new = (conf_new_fn)dlsym(lib, "rd_kafka_conf_new");
    conf_set_fn conf_set = (conf_set_fn)dlsym(lib, "rd_kafka_conf_set");
    new_fn rk_new = (new_fn)dlsym(lib, "rd_kafka_new");
    topic_new_fn topic_new = (topic_new_fn)dlsym(lib, "rd_kafka_topic_new");
    part_fn murmur2 = (part_fn)dlsym(lib, "rd_kafka_msg_partitioner_murmur2");
    destroy_fn topic_destroy = (destroy_fn)dlsym(lib, "rd_kafka_topic_destroy");
    destroy_fn rk_destroy = (destroy_fn)dlsym(lib, "rd_kafka_destroy");
    assert_true(conf_new && conf_set && rk_new && topic_new && murmur2 && topic_destroy &&
                rk_destroy);
    char err[256];
    void *conf = conf_new();
    conf_set(conf, "log_level", "0", err, sizeof(err));
    void *rk = rk_new(0 /* RD_KAFKA_PRODUCER */, conf, err, sizeof(err));
    assert_non_null(rk);
    void *rkt = topic_new(rk, "t", NULL);
    assert_non_null(rkt);

    uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift: reproducible random keys */
    for (int i = 0; i < 500; i++) {
        uint8_t key[80];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % 70);
        for (size_t j = 0; j < len; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            key[j] = (uint8_t)x;
        }
        int32_t cnt = (int32_t)(1 + (x >> 20) % (i % 2 ? 64 : 0x7ffffffe));
        int32_t want = murmur2(rkt, key, len, cnt, NULL, NULL);
        int32_t got = gn_partition_for_key((gn_bytes_t){key, len}, cnt);
        if (got != want) fail_msg("len %zu cnt %d: got %d want %d", len, cnt, got, want);
    }
    topic_destroy(rkt);
    rk_destroy(rk);
    /* not dlclose()d: librdkafka keeps global state (SSL, rand) that LSan would then
     * report as leaked from an unknown module */
    (void)lib;
}

static void test_partitioner__bad_partition_count(void **state)
{
    assert_int_equal(gn_partition_for_key(GN_BYTES_STR("k"), 0), -1);
    assert_int_equal(gn_partition_for_key(GN_BYTES_STR("k"), -3), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partitioner__matches_librdkafka_vectors),
        cmocka_unit_test(test_partitioner__matches_librdkafka_live),
        cmocka_unit_test(test_partitioner__bad_partition_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
