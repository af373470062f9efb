/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for core/group's decoders. The first byte picks one: the
 * ConsumerProtocol subscription or assignment (decoded, re-encoded, decoded again and
 * compared), or a sequence of __consumer_offsets records ([u16 key len][key][u16 value
 * len, 0xffff = tombstone][value]...) applied to an in-memory coordinator, as at
 * start-up, which is then closed on its loop (a leak or double free shows in ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../../core/group/group_int.h"
#include "ganglion/error.h"

static void check_subscription(gn_bytes_t in)
{
    gn__subscription_t s, s2;
    if (gn__subscription_decode(in, &s)) return;
    gn__wr_t w = {0};
    if (gn__subscription_encode(&w, s.version, (const char *const *)s.topics, s.topics_count,
                                s.user_data) == 0) {
        if (gn__subscription_decode((gn_bytes_t){w.buf, w.len}, &s2) != 0) abort();
        if (s2.topics_count != s.topics_count || s2.user_data.len != s.user_data.len) abort();
        for (size_t i = 0; i < s.topics_count; i++)
            if (strcmp(s.topics[i], s2.topics[i]) != 0) abort();
        gn__subscription_free(&s2);
    }
    gn__wr_free(&w);
    gn__subscription_free(&s);
}

static void check_assignment(gn_bytes_t in)
{
    gn__assignment_t a, a2;
    if (gn__assignment_decode(in, &a)) return;
    gn__wr_t w = {0};
    if (in.len &&
        gn__assignment_encode(&w, a.version, a.topics, a.topics_count, a.user_data) == 0) {
        if (gn__assignment_decode((gn_bytes_t){w.buf, w.len}, &a2) != 0) abort();
        if (a2.topics_count != a.topics_count) abort();
        for (size_t i = 0; i < a.topics_count; i++) {
            if (strcmp(a.topics[i].topic, a2.topics[i].topic) != 0) abort();
            if (a.topics[i].count != a2.topics[i].count) abort();
            if (a.topics[i].count && memcmp(a.topics[i].partitions, a2.topics[i].partitions,
                                            a.topics[i].count * sizeof(int32_t)) != 0)
                abort();
        }
        gn__assignment_free(&a2);
    }
    gn__wr_free(&w);
    gn__assignment_free(&a);
}

static uv_loop_t loop;
static int loop_ready;

static void check_store(const uint8_t *p, size_t len)
{
    if (!loop_ready) {
        if (uv_loop_init(&loop)) abort();
        loop_ready = 1;
    }
    gn_group_config_t cfg;
    gn_group_config_defaults(&cfg);
    cfg.offsets_retention_check_ms = 0;
    gn_group_coordinator_t *coord = NULL;
    if (gn__group_coordinator_new_mem(&loop, &cfg, &coord)) abort();
    size_t pos = 0;
    while (pos + 4 <= len) {
        size_t kl = (size_t)p[pos] << 8 | p[pos + 1];
        pos += 2;
        if (kl > len - pos) break;
        gn_bytes_t key = {p + pos, kl};
        pos += kl;
        if (pos + 2 > len) break;
        size_t vl = (size_t)p[pos] << 8 | p[pos + 1];
        pos += 2;
        gn_bytes_t value = {NULL, 0};
        if (vl != 0xffff) {
            if (vl > len - pos) break;
            value = (gn_bytes_t){p + pos, vl};
            pos += vl;
        }
        (void)gn__store_apply(coord, key, value);
    }
    gn_group_coordinator_close(coord, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    gn_bytes_t in = {data + 1, size - 1};
    switch (data[0] % 3) {
    case 0:
        check_subscription(in);
        break;
    case 1:
        check_assignment(in);
        break;
    default:
        check_store(data + 1, size - 1);
        break;
    }
    return 0;
}
