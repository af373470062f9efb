/* SPDX-License-Identifier: Apache-2.0 */
/* Window expiry of the stream processors' count/sum (adapters/http/streams_state.c,
 * docs/streams.md): a window closes once stream time reaches its end + grace_ms; a record
 * for a closed window is late; closing drops the window's aggregates and marks them as
 * changelog tombstones; grace_ms is checked in the definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../adapters/http/streams.h"

static streams_def_t def_of(const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    streams_def_t def;
    char err[512];
    assert_non_null(doc);
    assert_int_equal(streams_def_parse(doc, &def, err, sizeof err), 0);
    json_decref(doc); /* count steps borrow nothing */
    return def;
}

static int refused(const char *text, const char *want)
{
    json_t *doc = json_loads(text, 0, NULL);
    streams_def_t def;
    char err[512] = "";
    int rc = streams_def_parse(doc, &def, err, sizeof err);
    json_decref(doc);
    return rc < 0 && strstr(err, want) != NULL;
}

#define COUNT(grace)                                                                               \
    "{\"name\":\"c\",\"source\":\"a\",\"sink\":\"b\",\"steps\":[{\"count\":{\"window_ms\":"        \
    "1000" grace "}}]}"

static void test_grace__parsed_defaulted_refused(void **state)
{
    (void)state;
    assert_int_equal(def_of(COUNT(",\"grace_ms\":500")).grace_ms, 500);
    assert_int_equal(def_of(COUNT(",\"grace_ms\":0")).grace_ms, 0);
    assert_int_equal(def_of(COUNT("")).grace_ms, STREAMS_GRACE_DEFAULT);
    assert_true(refused(COUNT(",\"grace_ms\":-1"), "grace_ms"));
    assert_true(refused(COUNT(",\"grace_ms\":\"5s\""), "grace_ms"));
    assert_true(refused(COUNT(",\"grace_ms\":1.5"), "grace_ms"));
    assert_true(refused(COUNT(",\"grace_ms\":40000000000"), "grace_ms"));
    assert_true(refused(COUNT(",\"grace\":5"), "unknown field \"grace\""));
}

static void test_closed__at_end_plus_grace(void **state)
{
    (void)state;
    streams_def_t def = def_of(COUNT(",\"grace_ms\":500"));
    /* window [10000, 11000): open until stream time 11499, closed from 11500 */
    assert_false(streams_window_closed(&def, 10000, -1));
    assert_false(streams_window_closed(&def, 10000, 10999));
    assert_false(streams_window_closed(&def, 10000, 11499));
    assert_true(streams_window_closed(&def, 10000, 11500));
    assert_true(streams_window_closed(&def, 10000, 99999));
    def.grace_ms = 0;
    assert_false(streams_window_closed(&def, 10000, 10999));
    assert_true(streams_window_closed(&def, 10000, 11000));
    /* an end beyond INT64_MAX never closes */
    assert_false(streams_window_closed(&def, INT64_MAX - 10, INT64_MAX));
}

static streams_update_t add(streams_state_t *st, const streams_def_t *def, const char *key,
                            int64_t ts, json_int_t *count)
{
    json_t *v = json_object();
    streams_rec_t rec = {v, (char *)key, strlen(key)};
    json_t *out = NULL;
    const char *why = NULL;
    streams_update_t u = streams_state_update(st, def, &rec, ts, &out, &why);
    *count = out ? json_integer_value(json_object_get(out, "count")) : -1;
    json_decref(out);
    json_decref(v);
    return u;
}

static void test_update__late_records_dropped(void **state)
{
    (void)state;
    streams_def_t def = def_of(COUNT(",\"grace_ms\":500"));
    streams_state_t st;
    json_int_t n;
    streams_state_init(&st);
    assert_int_equal(add(&st, &def, "a", 10100, &n), STREAMS_UPDATED);
    assert_int_equal(n, 1);
    assert_int_equal(add(&st, &def, "a", 11400, &n), STREAMS_UPDATED); /* stream time 11400 */
    assert_int_equal(add(&st, &def, "a", 10900, &n), STREAMS_UPDATED); /* within grace */
    assert_int_equal(n, 2);
    assert_int_equal(add(&st, &def, "b", 11500, &n), STREAMS_UPDATED); /* closes [10000, 11000) */
    assert_int_equal(st.stream_time, 11500);
    assert_int_equal(add(&st, &def, "a", 10999, &n), STREAMS_LATE);
    assert_int_equal(add(&st, &def, "c", 10000, &n), STREAMS_LATE);
    assert_int_equal(st.stream_time, 11500); /* a late record does not move it back */
    assert_int_equal(add(&st, &def, "a", -1, &n), STREAMS_REJECTED);
    streams_state_clear(&st);
}

static void test_expire__drops_and_tombstones(void **state)
{
    (void)state;
    streams_def_t def = def_of(COUNT(",\"grace_ms\":500"));
    streams_state_t st;
    json_int_t n;
    streams_state_init(&st);
    for (int64_t ts = 0; ts < 5000; ts += 100) /* windows 0..4, keys a and b */
        add(&st, &def, ts % 200 ? "a" : "b", ts, &n);
    assert_int_equal(json_object_size(st.aggs), 10);
    json_object_clear(st.dirty); /* as after a changelog write */
    /* stream time 4900: windows 0..3 closed (end + 500 <= 4900), 4 open */
    assert_int_equal(streams_state_expire(&st, &def), 8);
    assert_int_equal(json_object_size(st.aggs), 2);
    assert_int_equal(json_object_size(st.windows), 1);
    assert_int_equal(json_object_size(st.dirty), 8);
    assert_true(json_is_null(json_object_get(st.dirty, "[\"agg\",\"a\",0]")));
    assert_true(json_is_null(json_object_get(st.dirty, "[\"agg\",\"b\",3000]")));
    assert_null(json_object_get(st.aggs, "[\"agg\",\"a\",3000]"));
    assert_non_null(json_object_get(st.aggs, "[\"agg\",\"a\",4000]"));
    assert_int_equal(streams_state_expire(&st, &def), 0); /* nothing more closed */
    /* a key bounded to its open windows: 1,000 more seconds of records keep 2 windows */
    for (int64_t ts = 5000; ts < 1005000; ts += 100) {
        add(&st, &def, "a", ts, &n);
        streams_state_expire(&st, &def);
    }
    assert_true(json_object_size(st.aggs) <= 2);
    streams_state_clear(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grace__parsed_defaulted_refused),
        cmocka_unit_test(test_closed__at_end_plus_grace),
        cmocka_unit_test(test_update__late_records_dropped),
        cmocka_unit_test(test_expire__drops_and_tombstones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
