/* SPDX-License-Identifier: Apache-2.0 */
/* adapters/ws chunks: record messages serialized and framed once (unmasked text frames
 * back to back), and the reference counting that lets every subscriber's transport
 * queue hold the same buffer: freed only after the builder and the last queue let go
 * (ASan reports a use after free or a leak), a refused write takes no reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../adapters/ws/ws.h"
#include "ganglion/error.h"

/* ---- a fake transport: write_shared keeps what it was given ----------------------- */
typedef struct fake_tr {
    gn_transport_t tr;
    struct {
        uv_buf_t buf;
        gn_transport_write_cb cb;
        void *arg;
    } q[8];
    int n;
    int refuse; /* write_shared answers -EPIPE */
} fake_tr_t;

static int fake_write_shared(gn_transport_t *tr, const uv_buf_t *bufs, unsigned nbufs,
                             gn_transport_write_cb cb, void *arg)
{
    fake_tr_t *f = tr->impl;
    if (f->refuse || nbufs != 1 || f->n == 8) return -EPIPE;
    f->q[f->n].buf = bufs[0];
    f->q[f->n].cb = cb;
    f->q[f->n].arg = arg;
    f->n++;
    return 0;
}

static size_t fake_queue_size(gn_transport_t *tr)
{
    (void)tr;
    return 0;
}

static const gn_transport_ops_t fake_ops = {.write_shared = fake_write_shared,
                                            .write_queue_size = fake_queue_size};

static void fake_init(fake_tr_t *f)
{
    memset(f, 0, sizeof *f);
    f->tr = (gn_transport_t){.ops = &fake_ops, .kind = "ws", .impl = f}; /* no session */
}

/* The transport finished its i-th write: the chunk's reference goes. */
static void fake_complete(fake_tr_t *f, int i)
{
    f->q[i].cb(&f->tr, f->q[i].arg, 0);
}

/* Walks the frames of a chunk: count, and each payload starts with '{' and ends '}'. */
static size_t count_frames(const uint8_t *p, size_t len)
{
    size_t n = 0, pos = 0;
    while (pos < len) {
        assert_int_equal(p[pos], 0x81);         /* FIN, text */
        assert_int_equal(p[pos + 1] & 0x80, 0); /* not masked */
        size_t plen = p[pos + 1], h = 2;
        if (plen == 126) {
            plen = (size_t)p[pos + 2] << 8 | p[pos + 3];
            h = 4;
        } else if (plen == 127) {
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | p[pos + 2 + i];
            h = 10;
        }
        assert_true(pos + h + plen <= len);
        assert_int_equal(p[pos + h], '{');
        assert_int_equal(p[pos + h + plen - 1], '}');
        pos += h + plen;
        n++;
    }
    assert_int_equal(pos, len);
    return n;
}

static void test_chunk__frames_each_message_once_with_its_length(void **state)
{
    (void)state;
    ws_chunk_t *c = ws_chunk_new(5);
    assert_non_null(c);
    assert_int_equal(c->refs, 1);
    assert_int_equal(c->first, 5);
    json_t *small = json_pack("{s:s}", "type", "pong"); /* 15 bytes: 2-byte header */
    char *big_value = malloc(70000);
    memset(big_value, 'x', 69999);
    big_value[69999] = '\0';
    json_t *big = json_pack("{s:s}", "v", big_value);         /* > 65535: 10-byte header */
    json_t *mid = json_pack("{s:s}", "v", big_value + 69800); /* 126..65535: 4 bytes */
    assert_int_equal(ws_chunk_add_json(c, small), 0);
    assert_int_equal(ws_chunk_add_json(c, big), 0);
    assert_int_equal(ws_chunk_add_json(c, mid), 0);
    assert_int_equal(c->records, 3);
    assert_int_equal(count_frames(c->data, c->len), 3);
    assert_int_equal(c->data[1], 15);
    assert_memory_equal(c->data + 2, "{\"type\":\"pong\"}", 15);
    json_decref(small);
    json_decref(big);
    json_decref(mid);
    free(big_value);
    ws_chunk_unref(c);
}

static void test_chunk__shared_by_queues_freed_after_the_last(void **state)
{
    (void)state;
    fake_tr_t a, b, d;
    fake_init(&a);
    fake_init(&b);
    fake_init(&d);
    ws_chunk_t *c = ws_chunk_new(0);
    json_t *j = json_pack("{s:s,s:i}", "type", "record", "offset", 0);
    assert_int_equal(ws_chunk_add_json(c, j), 0);
    json_decref(j);
    assert_int_equal(ws_chunk_send(c, &a.tr), 0);
    assert_int_equal(ws_chunk_send(c, &b.tr), 0);
    assert_int_equal(ws_chunk_send(c, &d.tr), 0);
    assert_int_equal(c->refs, 4);
    /* every queue holds the very same bytes, not a copy */
    assert_ptr_equal(a.q[0].buf.base, c->data);
    assert_ptr_equal(b.q[0].buf.base, c->data);
    assert_int_equal(d.q[0].buf.len, c->len);
    ws_chunk_unref(c); /* the builder lets go: the queues keep it alive */
    assert_int_equal(c->refs, 3);
    fake_complete(&a, 0);
    fake_complete(&b, 0);
    assert_int_equal(c->refs, 1);
    assert_int_equal(d.q[0].buf.base[0], (char)0x81); /* still readable (ASan) */
    fake_complete(&d, 0);                             /* freed here; ASan's leak check sees it */
}

static void test_chunk__refused_write_takes_no_reference(void **state)
{
    (void)state;
    fake_tr_t a;
    fake_init(&a);
    a.refuse = 1;
    ws_chunk_t *c = ws_chunk_new(0);
    json_t *j = json_pack("{s:s}", "type", "record");
    ws_chunk_add_json(c, j);
    json_decref(j);
    assert_int_equal(ws_chunk_send(c, &a.tr), -EPIPE);
    assert_int_equal(c->refs, 1);
    ws_chunk_unref(c);
}

static void test_chunk__empty_chunk_is_not_queued(void **state)
{
    (void)state;
    fake_tr_t a;
    fake_init(&a);
    ws_chunk_t *c = ws_chunk_new(7);
    assert_int_equal(ws_chunk_send(c, &a.tr), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(c->refs, 1);
    ws_chunk_unref(c);
    ws_chunk_unref(NULL);
}

/* Builds a batch of n records "v<base+i>" at base_offset into a malloc'd copy. */
static uint8_t *batch(int64_t base, int n, size_t *len)
{
    gn_batch_builder_t b;
    gn_batch_builder_init(&b, GN_COMPRESSION_NONE);
    char v[32];
    for (int i = 0; i < n; i++) {
        int k = snprintf(v, sizeof v, "v%d", (int)(base + i));
        gn_batch_builder_add(&b, (gn_bytes_t){NULL, 0}, (gn_bytes_t){(uint8_t *)v, (size_t)k}, NULL,
                             0, 1000 + i);
    }
    gn_bytes_t out;
    assert_int_equal(gn_batch_builder_finish(&b, base, &out), 0);
    uint8_t *p = malloc(out.len);
    memcpy(p, out.ptr, out.len);
    *len = out.len;
    gn_batch_builder_close(&b);
    return p;
}

static void test_chunk__batches_from_position_below_high_watermark(void **state)
{
    (void)state;
    size_t l1, l2;
    uint8_t *b1 = batch(10, 3, &l1), *b2 = batch(13, 2, &l2);
    uint8_t *buf = malloc(l1 + l2);
    memcpy(buf, b1, l1);
    memcpy(buf + l1, b2, l2);
    /* a subscriber at 11: records 11 and 12 of the first batch; the second batch ends at
     * 14 >= hw 14, so it is not taken yet */
    ws_chunk_t *c = ws_chunk_new(11);
    size_t used = ws_chunk_add_batches(c, "t", 0, buf, l1 + l2, 14);
    assert_int_equal(used, l1);
    assert_int_equal(c->records, 2);
    assert_int_equal(c->next, 13);
    assert_int_equal(count_frames(c->data, c->len), 2);
    assert_non_null(memmem(c->data, c->len, "\"offset\":11", 11));
    assert_null(memmem(c->data, c->len, "\"offset\":10", 11));
    /* then the rest once the high watermark passes it */
    assert_int_equal(ws_chunk_add_batches(c, "t", 0, buf + l1, l2, 15), l2);
    assert_int_equal(c->records, 4);
    assert_int_equal(c->next, 15);
    assert_non_null(memmem(c->data, c->len, "\"value\":\"v14\"", 13));
    ws_chunk_unref(c);
    free(b1);
    free(b2);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk__frames_each_message_once_with_its_length),
        cmocka_unit_test(test_chunk__shared_by_queues_freed_after_the_last),
        cmocka_unit_test(test_chunk__refused_write_takes_no_reference),
        cmocka_unit_test(test_chunk__empty_chunk_is_not_queued),
        cmocka_unit_test(test_chunk__batches_from_position_below_high_watermark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
