/* SPDX-License-Identifier: Apache-2.0 */
/* core/cluster's internal RPC on loopback (port 29625): framed JSON + raw bytes both
 * ways, answers matched by id (out of order too), unknown ops, timeouts, a peer gone; and
 * over TLS with mutual certificates (cluster.tls.*, tests/fixtures/tls): a call made
 * before the handshake answered, a broker of another CA and a plaintext peer refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/broker_test_util.h"
#include "cluster/tls_fixtures.h"
#include "cluster/rpc.h"
#include "ganglion/tls.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

#define ADDR "127.0.0.1:29625"

typedef struct answer {
    int done, status, rstatus;
    size_t rawlen;
    uint8_t first;
    int64_t echo;
} answer_t;

static gn_rpc_call_t *held; /* "slow" calls answered later */

static void on_echo(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                    size_t rawlen)
{
    json_t *resp = json_pack("{s:O}", "echo", json_object_get(req, "n"));
    uint8_t *back = malloc(rawlen + 1);
    memcpy(back, raw, rawlen);
    back[rawlen] = 0xab;
    gn__rpc_reply(call, 0, resp, back, rawlen + 1);
    free(back);
    json_decref(resp);
}

static void on_slow(void *arg, gn_rpc_call_t *call, const json_t *req, const uint8_t *raw,
                    size_t rawlen)
{
    held = call;
}

static void on_answer(void *arg, int status, const json_t *resp, const uint8_t *raw, size_t rawlen)
{
    answer_t *a = arg;
    a->done = 1;
    a->status = status;
    if (resp) {
        a->rstatus = (int)json_integer_value(json_object_get(resp, "status"));
        a->echo = json_integer_value(json_object_get(resp, "echo"));
    }
    a->rawlen = rawlen;
    a->first = rawlen ? raw[0] : 0;
}

static void test_rpc__round_trips(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_rpc_server_t *srv;
    assert_int_equal(gn__rpc_server_open(&loop, ADDR, NULL, &srv), 0);
    gn__rpc_server_handle(srv, "echo", on_echo, NULL);
    gn__rpc_server_handle(srv, "slow", on_slow, NULL);
    gn_rpc_client_t *cli = gn__rpc_client_new(&loop, ADDR, NULL);

    /* a slow call, then a fast one: answers match their calls, not their order */
    answer_t slow = {0}, fast = {0}, big = {0}, unknown = {0}, late = {0};
    json_t *req = json_pack("{s:s}", "op", "slow");
    assert_int_equal(gn__rpc_call(cli, req, NULL, 0, 5000, on_answer, &slow), 0);
    json_decref(req);
    req = json_pack("{s:s, s:i}", "op", "echo", "n", 42);
    uint8_t raw[3] = {7, 8, 9};
    assert_int_equal(gn__rpc_call(cli, req, raw, 3, 5000, on_answer, &fast), 0);
    json_decref(req);
    assert_int_equal(tu_run_until(&loop, &fast.done), 0);
    assert_int_equal(fast.status, 0);
    assert_int_equal(fast.echo, 42);
    assert_int_equal(fast.rawlen, 4);
    assert_int_equal(fast.first, 7);
    assert_false(slow.done);
    assert_non_null(held);
    gn__rpc_reply(held, GN_ENOTLEADER, NULL, NULL, 0);
    held = NULL;
    assert_int_equal(tu_run_until(&loop, &slow.done), 0);
    assert_int_equal(slow.rstatus, GN_ENOTLEADER);

    /* 3 MiB of raw bytes */
    size_t n = 3u << 20;
    uint8_t *lots = calloc(1, n);
    lots[0] = 1;
    req = json_pack("{s:s, s:i}", "op", "echo", "n", 1);
    assert_int_equal(gn__rpc_call(cli, req, lots, n, 5000, on_answer, &big), 0);
    json_decref(req);
    free(lots);
    assert_int_equal(tu_run_until(&loop, &big.done), 0);
    assert_int_equal(big.rawlen, n + 1);

    req = json_pack("{s:s}", "op", "nope");
    assert_int_equal(gn__rpc_call(cli, req, NULL, 0, 5000, on_answer, &unknown), 0);
    json_decref(req);
    assert_int_equal(tu_run_until(&loop, &unknown.done), 0);
    assert_int_equal(unknown.rstatus, GN_EINVALID_REQUEST);

    /* no answer within the timeout */
    req = json_pack("{s:s}", "op", "slow");
    assert_int_equal(gn__rpc_call(cli, req, NULL, 0, 100, on_answer, &late), 0);
    json_decref(req);
    assert_int_equal(tu_run_until(&loop, &late.done), 0);
    assert_int_equal(late.status, GN_ETIMEOUT);

    /* the server goes: the held call's answer is dropped, a new call fails */
    gn__rpc_server_close(srv);
    gn__rpc_reply(held, 0, NULL, NULL, 0);
    held = NULL;
    answer_t gone = {0};
    req = json_pack("{s:s}", "op", "echo");
    if (gn__rpc_call(cli, req, NULL, 0, 2000, on_answer, &gone) == 0) {
        assert_int_equal(tu_run_until(&loop, &gone.done), 0);
        assert_true(gone.status < 0);
    }
    json_decref(req);
    gn__rpc_client_free(cli);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* One echo call from a new client (tls NULL: plain); its answer. */
static answer_t call_once(uv_loop_t *loop, gn_tls_ctx_t *tls)
{
    answer_t a = {0};
    gn_rpc_client_t *cli = gn__rpc_client_new(loop, ADDR, tls);
    json_t *req = json_pack("{s:s, s:i}", "op", "echo", "n", 7);
    size_t n = 1u << 20; /* more than one TLS record and one read */
    uint8_t *raw = calloc(1, n);
    raw[0] = 5;
    assert_int_equal(gn__rpc_call(cli, req, raw, n, 3000, on_answer, &a), 0);
    free(raw);
    json_decref(req);
    assert_int_equal(tu_run_until(loop, &a.done), 0);
    gn__rpc_client_free(cli);
    return a;
}

static void test_rpc__tls_mutual(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    gn_tls_ctx_t *broker = tu_peers_ctx("broker"), *stranger = tu_peers_ctx("stranger");
    gn_rpc_server_t *srv;
    assert_int_equal(gn__rpc_server_open(&loop, ADDR, broker, &srv), 0);
    gn__rpc_server_handle(srv, "echo", on_echo, NULL);

    /* the call is written before the handshake: held, sent after it, answered */
    answer_t a = call_once(&loop, broker);
    assert_int_equal(a.status, 0);
    assert_int_equal(a.echo, 7);
    assert_int_equal(a.rawlen, (1u << 20) + 1);
    assert_int_equal(a.first, 5);
    /* a certificate another CA signed, and plain TCP: refused, the call fails */
    assert_true(call_once(&loop, stranger).status < 0);
    assert_true(call_once(&loop, NULL).status < 0);
    /* and the server is unharmed */
    assert_int_equal(call_once(&loop, broker).status, 0);
    gn__rpc_server_close(srv);

    /* a TLS client dialling a plaintext server: refused too */
    assert_int_equal(gn__rpc_server_open(&loop, ADDR, NULL, &srv), 0);
    gn__rpc_server_handle(srv, "echo", on_echo, NULL);
    assert_true(call_once(&loop, broker).status < 0);
    gn__rpc_server_close(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    gn_tls_ctx_free(broker);
    gn_tls_ctx_free(stranger);
}

int main(void)
{
    gn_logger_set_level(GN_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpc__round_trips),
        cmocka_unit_test(test_rpc__tls_mutual),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
