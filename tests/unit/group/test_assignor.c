/* SPDX-License-Identifier: Apache-2.0 */
/* Assignors against the outputs of Kafka's own RangeAssignorTest and
 * RoundRobinAssignorTest; the ConsumerProtocol codec (golden bytes, round trips,
 * every truncation refused); the group -> __consumer_offsets partition mapping
 * against Java's String.hashCode. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ganglion/error.h"
#include "ganglion/group.h"
#include "group/group_int.h"

typedef struct topic_parts {
    const char *name;
    int32_t n;
} topic_parts_t;

static int32_t parts_of(void *arg, const char *topic)
{
    for (const topic_parts_t *t = arg; t->name; t++)
        if (strcmp(t->name, topic) == 0) return t->n;
    return -1;
}

/* "t1-0,t1-2,t2-1" */
static void render(const gn__assignment_t *a, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t t = 0; t < a->topics_count; t++)
        for (size_t p = 0; p < a->topics[t].count; p++)
            len += (size_t)snprintf(buf + len, cap - len, "%s%s-%d", len ? "," : "",
                                    a->topics[t].topic, a->topics[t].partitions[p]);
}

static void check(gn__assign_member_t *m, const char *want)
{
    char buf[512];
    render(&m->out, buf, sizeof(buf));
    assert_string_equal(buf, want);
    gn__assignment_free(&m->out);
}

static const char *const T1[] = {"t1"};
static const char *const T12[] = {"t1", "t2"};

static void test_range__two_consumers_one_topic_three_partitions(void **state)
{
    (void)state;
    topic_parts_t tp[] = {{"t1", 3}, {NULL, 0}};
    gn__assign_member_t m[] = {{.member_id = "consumer2", .topics = T1, .topics_count = 1},
                               {.member_id = "consumer1", .topics = T1, .topics_count = 1}};
    assert_int_equal(gn__assign_range(m, 2, parts_of, tp), 0);
    check(&m[1], "t1-0,t1-1");
    check(&m[0], "t1-2");
}

static void test_range__multiple_consumers_mixed_topics(void **state)
{
    (void)state;
    topic_parts_t tp[] = {{"t1", 3}, {"t2", 2}, {NULL, 0}};
    gn__assign_member_t m[] = {{.member_id = "consumer1", .topics = T1, .topics_count = 1},
                               {.member_id = "consumer2", .topics = T12, .topics_count = 2},
                               {.member_id = "consumer3", .topics = T1, .topics_count = 1}};
    assert_int_equal(gn__assign_range(m, 3, parts_of, tp), 0);
    check(&m[0], "t1-0");
    check(&m[1], "t1-1,t2-0,t2-1");
    check(&m[2], "t1-2");
}

static void test_range__two_consumers_two_topics_six_partitions(void **state)
{
    (void)state;
    topic_parts_t tp[] = {{"t1", 3}, {"t2", 3}, {NULL, 0}};
    gn__assign_member_t m[] = {{.member_id = "consumer1", .topics = T12, .topics_count = 2},
                               {.member_id = "consumer2", .topics = T12, .topics_count = 2}};
    assert_int_equal(gn__assign_range(m, 2, parts_of, tp), 0);
    check(&m[0], "t1-0,t1-1,t2-0,t2-1");
    check(&m[1], "t1-2,t2-2");
}

static void test_range__static_members_sort_by_instance_id(void **state)
{
    (void)state;
    /* Kafka's MemberInfo order: static members first, by group.instance.id */
    topic_parts_t tp[] = {{"t1", 3}, {NULL, 0}};
    gn__assign_member_t m[] = {
        {.member_id = "a", .topics = T1, .topics_count = 1},
        {.member_id = "z", .instance_id = "i2", .topics = T1, .topics_count = 1},
        {.member_id = "y", .instance_id = "i1", .topics = T1, .topics_count = 1}};
    assert_int_equal(gn__assign_range(m, 3, parts_of, tp), 0);
    check(&m[2], "t1-0");
    check(&m[1], "t1-1");
    check(&m[0], "t1-2");
}

static void test_roundrobin__two_consumers_two_topics_six_partitions(void **state)
{
    (void)state;
    topic_parts_t tp[] = {{"t1", 3}, {"t2", 3}, {NULL, 0}};
    gn__assign_member_t m[] = {{.member_id = "consumer1", .topics = T12, .topics_count = 2},
                               {.member_id = "consumer2", .topics = T12, .topics_count = 2}};
    assert_int_equal(gn__assign_roundrobin(m, 2, parts_of, tp), 0);
    check(&m[0], "t1-0,t1-2,t2-1");
    check(&m[1], "t1-1,t2-0,t2-2");
}

static void test_roundrobin__multiple_consumers_mixed_topics(void **state)
{
    (void)state;
    topic_parts_t tp[] = {{"t1", 3}, {"t2", 2}, {NULL, 0}};
    gn__assign_member_t m[] = {{.member_id = "consumer1", .topics = T1, .topics_count = 1},
                               {.member_id = "consumer2", .topics = T12, .topics_count = 2},
                               {.member_id = "consumer3", .topics = T1, .topics_count = 1}};
    assert_int_equal(gn__assign_roundrobin(m, 3, parts_of, tp), 0);
    check(&m[0], "t1-0");
    check(&m[1], "t1-1,t2-0,t2-1");
    check(&m[2], "t1-2");
}

static void test_roundrobin__unknown_topic_assigns_nothing(void **state)
{
    (void)state;
    topic_parts_t tp[] = {{NULL, 0}};
    gn__assign_member_t m[] = {{.member_id = "c", .topics = T1, .topics_count = 1}};
    assert_int_equal(gn__assign_roundrobin(m, 1, parts_of, tp), 0);
    check(&m[0], "");
    assert_ptr_equal(gn__assignor_find("RoundRobinAssigner"), gn__assign_roundrobin);
    assert_ptr_equal(gn__assignor_find("range"), gn__assign_range);
    assert_null(gn__assignor_find("cooperative-sticky"));
}

static void test_consumer_protocol__golden_subscription_v0(void **state)
{
    (void)state;
    /* what Kafka's Java ConsumerProtocol writes for version 0, topics ["t"], no user data */
    static const uint8_t want[] = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff};
    const char *topics[] = {"t"};
    gn__wr_t w = {0};
    assert_int_equal(gn__subscription_encode(&w, 0, topics, 1, GN_BYTES_NULL), 0);
    assert_int_equal(w.len, sizeof(want));
    assert_memory_equal(w.buf, want, sizeof(want));
    gn__subscription_t s;
    assert_int_equal(gn__subscription_decode((gn_bytes_t){w.buf, w.len}, &s), 0);
    assert_int_equal(s.topics_count, 1);
    assert_string_equal(s.topics[0], "t");
    assert_null(s.user_data.ptr);
    gn__subscription_free(&s);
    gn__wr_free(&w);
}

static void test_consumer_protocol__assignment_round_trip_and_truncation(void **state)
{
    (void)state;
    int32_t p1[] = {0, 2}, p2[] = {1};
    gn__assigned_topic_t topics[] = {{"alpha", p1, 2}, {"beta", p2, 1}};
    gn__wr_t w = {0};
    assert_int_equal(gn__assignment_encode(&w, 1, topics, 2, GN_BYTES_STR("ud")), 0);
    gn__assignment_t a;
    assert_int_equal(gn__assignment_decode((gn_bytes_t){w.buf, w.len}, &a), 0);
    char buf[128];
    render(&a, buf, sizeof(buf));
    assert_string_equal(buf, "alpha-0,alpha-2,beta-1");
    assert_int_equal(a.user_data.len, 2);
    gn__assignment_free(&a);
    /* every strict prefix that cuts a field is refused, never read past */
    for (size_t n = 1; n < w.len; n++) {
        uint8_t *copy = malloc(n);
        memcpy(copy, w.buf, n);
        int rc = gn__assignment_decode((gn_bytes_t){copy, n}, &a);
        if (rc == 0)
            gn__assignment_free(&a); /* ends exactly before the optional user data */
        else
            assert_int_equal(rc, GN_ECORRUPT);
        free(copy);
    }
    /* a huge array count is refused without allocating it */
    static const uint8_t evil[] = {0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'x'};
    assert_int_equal(gn__assignment_decode((gn_bytes_t){evil, sizeof(evil)}, &a), GN_ECORRUPT);
    assert_int_equal(
        gn__subscription_decode((gn_bytes_t){evil, sizeof(evil)}, &(gn__subscription_t){0}),
        GN_ECORRUPT);
    gn__wr_free(&w);
}

static void test_partition_for__java_string_hashcode(void **state)
{
    (void)state;
    /* values from Java: "hello".hashCode() = 99162322; "polygenelubricants" hashes to
     * Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0 */
    assert_int_equal(gn_group_partition_for("hello", INT32_MAX), 99162322);
    assert_int_equal(gn_group_partition_for("hello", 50), 22);
    assert_int_equal(gn_group_partition_for("polygenelubricants", 50), 0);
    assert_int_equal(gn_group_partition_for("my-group", 50), 12);
    assert_int_equal(gn_group_partition_for("console-consumer-12345", 50), 6);
    /* UTF-16 code units: a 2-byte UTF-8 char and a surrogate pair */
    assert_int_equal(gn_group_partition_for("gr\xc3\xbcppe", 50), 12);
    assert_int_equal(gn_group_partition_for("g\xf0\x9f\x98\x80x", 50), 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range__two_consumers_one_topic_three_partitions),
        cmocka_unit_test(test_range__multiple_consumers_mixed_topics),
        cmocka_unit_test(test_range__two_consumers_two_topics_six_partitions),
        cmocka_unit_test(test_range__static_members_sort_by_instance_id),
        cmocka_unit_test(test_roundrobin__two_consumers_two_topics_six_partitions),
        cmocka_unit_test(test_roundrobin__multiple_consumers_mixed_topics),
        cmocka_unit_test(test_roundrobin__unknown_topic_assigns_nothing),
        cmocka_unit_test(test_consumer_protocol__golden_subscription_v0),
        cmocka_unit_test(test_consumer_protocol__assignment_round_trip_and_truncation),
        cmocka_unit_test(test_partition_for__java_string_hashcode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
