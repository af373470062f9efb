/* SPDX-License-Identifier: Apache-2.0 */
/* libraft's transport over TLS (core/cluster/raft_tls.c): the preamble a broker sends
 * first (its raft id and address, for raft's accept callback), and the transport itself
 * on loopback (ports 29627-29629) with the certificates of tests/fixtures/tls: bytes
 * relayed through the socketpairs both ways, an end closed seen by the other, a broker of
 * another CA never accepted, a refused dial, a dial cancelled by close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "cluster/tls_fixtures.h"
#include "cluster/raft_tls.h"
#include "ganglion/logger.h"

#define ROOM (GN_RAFT_TLS_PREAMBLE_HEAD + GN_RAFT_TLS_ADDRESS_MAX)

static void test_preamble__round_trip_and_split_anywhere(void **state)
{
    (void)state;
    uint8_t buf[ROOM + 8];
    size_t n = gn__raft_tls_preamble(buf, 3, "10.0.0.3:9093");
    assert_int_equal(n, GN_RAFT_TLS_PREAMBLE_HEAD + 13);
    memcpy(buf + n, "raft", 4); /* raft's first message follows at once */
    raft_id id = 0;
    char addr[GN_RAFT_TLS_ADDRESS_MAX + 1];
    for (size_t have = 0; have < n; have++) /* a read may end anywhere: need more */
        assert_int_equal(gn__raft_tls_preamble_parse(buf, have, &id, addr), 0);
    assert_int_equal(gn__raft_tls_preamble_parse(buf, n + 4, &id, addr), (int)n);
    assert_int_equal(id, 3);
    assert_string_equal(addr, "10.0.0.3:9093");
}

static void test_preamble__refuses_what_is_not_one(void **state)
{
    (void)state;
    uint8_t buf[ROOM];
    raft_id id;
    char addr[GN_RAFT_TLS_ADDRESS_MAX + 1];
    size_t n = gn__raft_tls_preamble(buf, 1, "127.0.0.1:1");
    buf[0] = 2; /* another version: refused from its first 8 bytes */
    assert_true(gn__raft_tls_preamble_parse(buf, 8, &id, addr) < 0);
    buf[0] = 1;
    buf[16] = 0; /* an empty address */
    assert_true(gn__raft_tls_preamble_parse(buf, n, &id, addr) < 0);
    buf[16] = 0xff, buf[17] = 0xff; /* longer than any address */
    assert_true(gn__raft_tls_preamble_parse(buf, n, &id, addr) < 0);
    gn__raft_tls_preamble(buf, 1, "127.0.0.1:1");
    buf[GN_RAFT_TLS_PREAMBLE_HEAD + 3] = 0; /* a NUL inside the address */
    assert_true(gn__raft_tls_preamble_parse(buf, n, &id, addr) < 0);
    /* a plaintext RPC frame or a TLS record is no preamble either */
    const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01};
    assert_true(gn__raft_tls_preamble_parse(hello, sizeof hello, &id, addr) < 0);
}

static void test_preamble__address_too_long_not_written(void **state)
{
    (void)state;
    uint8_t buf[ROOM];
    char longer[GN_RAFT_TLS_ADDRESS_MAX + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert_int_equal(gn__raft_tls_preamble(buf, 1, longer), 0);
    assert_int_equal(gn__raft_tls_preamble(buf, 1, ""), 0);
}

#define A_ADDR "127.0.0.1:29627"
#define B_ADDR "127.0.0.1:29628"
#define NOBODY "127.0.0.1:29629"

typedef struct end { /* one raft stream as raft would use it */
    uv_stream_t *stream;
    char got[64];
    size_t len;
    int eof;
} end_t;

typedef struct side { /* one transport */
    struct raft_uv_transport t;
    gn_tls_ctx_t *tls;
    int accepted, closed;
    raft_id id;
    char address[64];
    end_t in;
} side_t;

typedef struct dial {
    struct raft_uv_connect req;
    int done, status;
    end_t out;
} dial_t;

static char rbuf[256];

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h, (void)hint;
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_end_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    end_t *e = s->data;
    if (n < 0) {
        e->eof = 1;
        uv_read_stop(s);
        return;
    }
    size_t take = (size_t)n < sizeof e->got - e->len ? (size_t)n : sizeof e->got - e->len;
    memcpy(e->got + e->len, buf->base, take);
    e->len += take;
}

static void watch(end_t *e, uv_stream_t *stream)
{
    e->stream = stream;
    stream->data = e;
    assert_int_equal(uv_read_start(stream, on_alloc, on_end_read), 0);
}

static void on_accept(struct raft_uv_transport *t, raft_id id, const char *address,
                      struct uv_stream_s *stream)
{
    side_t *s = t->data;
    s->accepted++;
    s->id = id;
    snprintf(s->address, sizeof s->address, "%s", address);
    watch(&s->in, stream);
}

static void on_connect(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
    dial_t *d = req->data;
    d->done = 1;
    d->status = status;
    if (status == 0) watch(&d->out, stream);
}

static void on_transport_closed(struct raft_uv_transport *t)
{
    ((side_t *)t->data)->closed = 1;
}

static void release(uv_handle_t *h)
{
    raft_free(h); /* as raft does with its streams */
}

static void side_init(side_t *s, uv_loop_t *loop, const char *cert, raft_id id, const char *addr)
{
    memset(s, 0, sizeof *s);
    s->tls = tu_peers_ctx(cert);
    assert_int_equal(gn__raft_tls_init(&s->t, loop, s->tls), 0);
    s->t.data = s;
    assert_int_equal(s->t.init(&s->t, id, addr), 0);
}

static void side_close(uv_loop_t *loop, side_t *s)
{
    s->t.close(&s->t, on_transport_closed);
    assert_int_equal(tu_run_until(loop, &s->closed), 0);
    gn__raft_tls_free(&s->t);
    gn_tls_ctx_free(s->tls);
}

static void dial(side_t *s, dial_t *d, raft_id to, const char *addr)
{
    memset(d, 0, sizeof *d);
    d->req.data = d;
    assert_int_equal(s->t.connect(&s->t, &d->req, to, addr, on_connect), 0);
}

static void send_text(uv_stream_t *stream, const char *text)
{
    uv_buf_t b = uv_buf_init((char *)text, (unsigned)strlen(text));
    assert_int_equal(uv_try_write(stream, &b, 1), (int)strlen(text));
}

/* Runs the loop until *len reaches want (bounded: about 10 s). */
static int run_until_len(uv_loop_t *loop, const size_t *len, size_t want)
{
    uint64_t start = uv_hrtime();
    while (*len < want) {
        uv_run(loop, UV_RUN_ONCE);
        if (uv_hrtime() - start > 10ull * 1000 * 1000 * 1000) return -1;
    }
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    (void)t; /* keeps tu_run_until's loop turning */
}

static void test_transport__relays_and_refuses(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 20, 20);
    side_t a, b, c;
    side_init(&a, &loop, "broker", 1, A_ADDR);
    side_init(&b, &loop, "broker", 2, B_ADDR);
    side_init(&c, &loop, "stranger", 3, "127.0.0.1:29630");
    assert_int_equal(a.t.listen(&a.t, on_accept), 0);

    /* b dials a: a learns who from the preamble; bytes go through both ways */
    dial_t d;
    dial(&b, &d, 1, A_ADDR);
    assert_int_equal(tu_run_until(&loop, &d.done), 0);
    assert_int_equal(d.status, 0);
    send_text(d.out.stream, "append entries");
    assert_int_equal(tu_run_until(&loop, &a.accepted), 0);
    assert_int_equal(run_until_len(&loop, &a.in.len, 14), 0);
    assert_int_equal(a.id, 2);
    assert_string_equal(a.address, B_ADDR);
    assert_memory_equal(a.in.got, "append entries", 14);
    send_text(a.in.stream, "ok");
    assert_int_equal(run_until_len(&loop, &d.out.len, 2), 0);
    assert_memory_equal(d.out.got, "ok", 2);
    /* raft closes its end: the other side's stream ends */
    uv_close((uv_handle_t *)d.out.stream, release);
    assert_int_equal(tu_run_until(&loop, &a.in.eof), 0);
    uv_close((uv_handle_t *)a.in.stream, release);

    /* a broker of another CA: refused by a, never accepted, its stream ends */
    dial_t dc;
    dial(&c, &dc, 1, A_ADDR);
    assert_int_equal(tu_run_until(&loop, &dc.done), 0);
    if (dc.status == 0) { /* TLS 1.3: its handshake ended before a checked it */
        assert_int_equal(tu_run_until(&loop, &dc.out.eof), 0);
        uv_close((uv_handle_t *)dc.out.stream, release);
    }
    assert_int_equal(a.accepted, 1);

    /* nobody listening: the dial fails; a dial pending at close is cancelled */
    dial_t dn, dp;
    dial(&b, &dn, 9, NOBODY);
    assert_int_equal(tu_run_until(&loop, &dn.done), 0);
    assert_int_equal(dn.status, RAFT_NOCONNECTION);
    dial(&b, &dp, 1, A_ADDR);
    side_close(&loop, &b);
    assert_true(dp.done);
    assert_int_equal(dp.status, RAFT_CANCELED);
    side_close(&loop, &a);
    side_close(&loop, &c);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    gn_logger_set_level(GN_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preamble__round_trip_and_split_anywhere),
        cmocka_unit_test(test_preamble__refuses_what_is_not_one),
        cmocka_unit_test(test_preamble__address_too_long_not_written),
        cmocka_unit_test(test_transport__relays_and_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
