/* SPDX-License-Identifier: Apache-2.0 */
/* core/log offset and time indexes: binary search over many entries, Kafka's
 * big-endian file format at its real size, sanity checks that refuse corrupt files
 * (sizes, order, positions past the segment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log/segment.h"
#include "log_test_util.h"

static void test_segment_index__offset_binary_search(void **state)
{
    gn_offset_index_t idx = {0};
    (void)state;

    assert_int_equal(gn__oindex_find(&idx, 5), -1);
    for (int32_t i = 0; i < 100000; i++)
        assert_int_equal(gn__oindex_append(&idx, i * 3 + 2, i * 100 + 50), 0);
    assert_int_equal(idx.n, 100000);
    /* stale entries (not increasing) are skipped, not stored */
    assert_int_equal(gn__oindex_append(&idx, 5, 1 << 30), 0);
    assert_int_equal(idx.n, 100000);
    assert_int_equal(gn__oindex_find(&idx, 0), -1);
    assert_int_equal(gn__oindex_find(&idx, 1), -1);
    assert_int_equal(gn__oindex_find(&idx, 2), 0);
    assert_int_equal(gn__oindex_find(&idx, 4), 0);
    assert_int_equal(gn__oindex_find(&idx, 5), 1);
    assert_int_equal(gn__oindex_find(&idx, 3 * 77777 + 2), 77777);
    assert_int_equal(gn__oindex_find(&idx, INT32_MAX), 99999);
    assert_int_equal(gn__oindex_find_pos(&idx, 49), -1);
    assert_int_equal(gn__oindex_find_pos(&idx, 50), 0);
    assert_int_equal(gn__oindex_find_pos(&idx, 149), 0);
    assert_int_equal(gn__oindex_find_pos(&idx, 150), 1);
    gn__oindex_truncate(&idx, 3 * 500 + 2, INT64_MAX);
    assert_int_equal(idx.n, 500);
    gn__oindex_free(&idx);
}

static void test_segment_index__time_binary_search(void **state)
{
    gn_time_index_t idx = {0};
    (void)state;

    for (int32_t i = 0; i < 50000; i++)
        assert_int_equal(gn__tindex_append(&idx, 1000 + i * 10, i * 2), 0);
    assert_int_equal(gn__tindex_append(&idx, 5, 200000), 0); /* older ts: skipped */
    assert_int_equal(idx.n, 50000);
    assert_int_equal(gn__tindex_find(&idx, 999), -1);
    assert_int_equal(gn__tindex_find(&idx, 1000), 0);
    assert_int_equal(gn__tindex_find(&idx, 1009), 0);
    assert_int_equal(gn__tindex_find(&idx, 1010 + 10 * 4321), 4322);
    gn__tindex_truncate(&idx, 100);
    assert_int_equal(idx.n, 50);
    gn__tindex_free(&idx);
}

static void test_segment_index__file_round_trip_kafka_format(void **state)
{
    char *dir = tl_mkdtemp(), *p = tl_sub(dir, "x.index"), *t = tl_sub(dir, "x.timeindex");
    gn_offset_index_t o = {0}, o2;
    gn_time_index_t ti = {0}, t2;
    uint8_t raw[12];
    (void)state;

    for (int32_t i = 0; i < 1000; i++) {
        gn__oindex_append(&o, i + 1, i * 4096);
        gn__tindex_append(&ti, 1700000000000LL + i, i + 1);
    }
    assert_int_equal(gn__oindex_write(p, &o), 0);
    assert_int_equal(gn__tindex_write(t, &ti), 0);
    assert_int_equal(tl_file_size(dir, "x.index"), 8000);
    assert_int_equal(tl_file_size(dir, "x.timeindex"), 12000);
    /* entry 1: relative offset 2, position 4096, big-endian */
    int fd = open(p, O_RDONLY);
    assert_int_equal(pread(fd, raw, 8, 8), 8);
    close(fd);
    uint8_t want[8] = {0, 0, 0, 2, 0, 0, 0x10, 0};
    assert_memory_equal(raw, want, 8);
    fd = open(t, O_RDONLY);
    assert_int_equal(pread(fd, raw, 12, 0), 12);
    close(fd);
    uint8_t want_t[12] = {0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0, 0, 0, 0, 1};
    assert_memory_equal(raw, want_t, 12);

    assert_int_equal(gn__oindex_load(p, 1000 * 4096, &o2), 0);
    assert_int_equal(o2.n, 1000);
    assert_memory_equal(o2.e, o.e, sizeof(*o.e) * 1000);
    assert_int_equal(gn__tindex_load(t, &t2), 0);
    assert_int_equal(t2.n, 1000);
    gn__oindex_free(&o2);
    gn__tindex_free(&t2);

    /* positions past the segment, odd sizes, disorder: refused */
    assert_int_equal(gn__oindex_load(p, 4096 * 500, &o2), GN_ECORRUPT);
    tl_truncate_file(dir, "x.index", 8 * 10 + 3);
    assert_int_equal(gn__oindex_load(p, 1000 * 4096, &o2), GN_ECORRUPT);
    tl_write_at(dir, "x.index", 8, "\0\0\0\0\0\0\0\0", 8);
    tl_truncate_file(dir, "x.index", 16);
    assert_int_equal(gn__oindex_load(p, 1000 * 4096, &o2), GN_ECORRUPT);
    tl_write_at(dir, "x.timeindex", 12, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    assert_int_equal(gn__tindex_load(t, &t2), GN_ECORRUPT);
    unlink(p);
    assert_int_equal(gn__oindex_load(p, 1, &o2), -ENOENT);
    /* an empty index is valid */
    assert_int_equal(gn__oindex_write(p, &(gn_offset_index_t){0}), 0);
    assert_int_equal(gn__oindex_load(p, 0, &o2), 0);
    assert_int_equal(o2.n, 0);

    gn__oindex_free(&o);
    gn__tindex_free(&ti);
    free(p), free(t);
    tl_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_index__offset_binary_search),
        cmocka_unit_test(test_segment_index__time_binary_search),
        cmocka_unit_test(test_segment_index__file_round_trip_kafka_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
