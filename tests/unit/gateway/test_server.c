/* SPDX-License-Identifier: Apache-2.0 */
/* One run of the `ganglion` program with fake adapters: SIGTERM/SIGINT shut down
 * cleanly (adapters stopped, broker closed with its clean-shutdown marker, exit 0),
 * SIGHUP is ignored, a failing listener stops the others and exits 1, a port of 0
 * starts nothing, and a second SIGINT during shutdown exits at once. The run happens on
 * this thread; signals are sent to our own process from a timer on the broker's loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "ganglion/error.h"
#include "server.h"

/* What the fake adapters saw. */
static struct {
    int starts, stops, stopped;
    gn_listener_config_t last_cfg;
    char last_host[64];
    int signals[4]; /* sent in order by the timer, 0-terminated */
    int next_signal;
    int fail_start;   /* start returns this */
    bool hang_stop;   /* stop never calls back */
    bool sync_stop;   /* stop calls back before it returns */
    void *mqtt_state; /* the state the fake adapter on port 11883 returned */
    int served;       /* serve_stream calls */
    char served_paths[4][32];
    void *served_states[4];
} fake;

typedef struct fake_state {
    uv_timer_t timer;
    gn_adapter_stopped_cb cb;
    void *arg;
} fake_state_t;

static void on_timer(uv_timer_t *t)
{
    /* One sequence however many fake adapters run a timer. */
    (void)t;
    int sig = fake.signals[fake.next_signal];
    if (sig == 0) return;
    fake.next_signal++;
    uv_kill(getpid(), sig);
}

static int fake_start(gn_broker_t *broker, const gn_listener_config_t *cfg, void **state)
{
    fake.starts++;
    fake.last_cfg = *cfg;
    snprintf(fake.last_host, sizeof(fake.last_host), "%s", cfg->host);
    if (fake.fail_start) return fake.fail_start;
    fake_state_t *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    uv_timer_init(gn_broker_loop(broker), &st->timer);
    st->timer.data = st;
    uv_timer_start(&st->timer, on_timer, 20, 20);
    *state = st;
    if (cfg->port == 11883) fake.mqtt_state = st;
    return 0;
}

static void on_fake_closed(uv_handle_t *h)
{
    fake_state_t *st = h->data;
    fake.stopped++;
    gn_adapter_stopped_cb cb = st->cb;
    void *arg = st->arg;
    free(st);
    cb(arg);
}

static void on_fake_freed(uv_handle_t *h)
{
    free(h->data);
}

static void fake_stop(void *state, gn_adapter_stopped_cb cb, void *arg)
{
    fake_state_t *st = state;
    fake.stops++;
    st->cb = cb;
    st->arg = arg;
    if (fake.hang_stop) return; /* keeps the timer running: more signals arrive */
    if (fake.sync_stop) {
        uv_close((uv_handle_t *)&st->timer, on_fake_freed);
        fake.stopped++;
        cb(arg);
        return;
    }
    uv_close((uv_handle_t *)&st->timer, on_fake_closed);
}

static const gn_adapter_t fake_kafka = {
    .name = "kafka", .default_port = 9092, .start = fake_start, .stop = fake_stop};
static const gn_adapter_t fake_mqtt = {
    .name = "mqtt", .default_port = 1883, .start = fake_start, .stop = fake_stop};

static int fail_start(gn_broker_t *broker, const gn_listener_config_t *cfg, void **state)
{
    (void)broker, (void)cfg, (void)state;
    fake.starts++;
    return -EADDRINUSE;
}
static const gn_adapter_t failing_http = {
    .name = "http", .default_port = 8080, .start = fail_start, .stop = fake_stop};

static int fake_serve(void *state, const gn_ws_route_t *route)
{
    assert_true(fake.served < 4);
    snprintf(fake.served_paths[fake.served], sizeof(fake.served_paths[0]), "%s", route->path);
    fake.served_states[fake.served] = route->adapter_state;
    fake.served++;
    return 0;
}
static const gn_adapter_t fake_http = {.name = "http",
                                       .default_port = 8080,
                                       .start = fake_start,
                                       .stop = fake_stop,
                                       .serve_stream = fake_serve};

static int fake_attach(gn_broker_t *broker, void *adapter_state, gn_transport_t *tr)
{
    (void)broker, (void)adapter_state, (void)tr;
    return 0;
}
static const gn_stream_protocol_t fake_proto = {.name = "fake", .attach = fake_attach};
static const gn_gateway_ws_route_t fake_routes[] = {
    {.server = "http", .owner = "mqtt", .route = {.path = "/mqtt", .protocol = &fake_proto}},
    {.server = "http", .owner = NULL, .route = {.path = "/ws", .protocol = &fake_proto}},
    {.server = NULL},
};

static char tmpdir[] = "/tmp/gn_test_server_XXXXXX";
static char datadir[600];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(datadir, sizeof(datadir), "%s/data", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int reset(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    return 0;
}

static void config_for_test(gn_gateway_config_t *cfg)
{
    char msg[256];
    assert_int_equal(gn_gateway_config_init(cfg, stderr), 0);
    assert_int_equal(gn_gateway_config_set(cfg, "data.dir", datadir, msg, sizeof(msg)), 0);
    assert_int_equal(gn_gateway_config_set(cfg, "log.level", "warn", msg, sizeof(msg)), 0);
    assert_int_equal(gn_gateway_config_set(cfg, "kafka.host", "127.0.0.1", msg, sizeof(msg)), 0);
    assert_int_equal(gn_gateway_config_set(cfg, "kafka.port", "19092", msg, sizeof(msg)), 0);
    assert_int_equal(gn_gateway_config_set(cfg, "mqtt.port", "0", msg, sizeof(msg)), 0);
}

static bool marker_exists(void)
{
    char path[700];
    struct stat st;
    snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", datadir);
    return stat(path, &st) == 0;
}

static void run_until_signal(int sig)
{
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    const gn_adapter_t *adapters[] = {&fake_kafka, &fake_mqtt, NULL};
    fake.signals[0] = sig;
    assert_int_equal(gn_gateway_run(&cfg, adapters, NULL), 0);
    assert_int_equal(fake.starts, 1); /* mqtt.port=0: not started */
    assert_string_equal(fake.last_host, "127.0.0.1");
    assert_int_equal(fake.last_cfg.port, 19092);
    assert_int_equal(fake.stops, 1);
    assert_int_equal(fake.stopped, 1);
    assert_true(marker_exists());
    gn_gateway_config_free(&cfg);
}

static void test_server__sigterm_shuts_down_cleanly(void **state)
{
    (void)state;
    run_until_signal(SIGTERM);
}

static void test_server__sigint_shuts_down_cleanly(void **state)
{
    (void)state;
    run_until_signal(SIGINT);
}

static void test_server__sighup_is_ignored(void **state)
{
    (void)state;
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    const gn_adapter_t *adapters[] = {&fake_kafka, NULL};
    fake.signals[0] = SIGHUP;
    fake.signals[1] = SIGHUP;
    fake.signals[2] = SIGTERM;
    assert_int_equal(gn_gateway_run(&cfg, adapters, NULL), 0);
    assert_int_equal(fake.stops, 1);
    gn_gateway_config_free(&cfg);
}

/* A listener that cannot bind: the started ones are stopped, the broker closed, exit 1. */
static void test_server__failed_listener_exits_1(void **state)
{
    (void)state;
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    const gn_adapter_t *adapters[] = {&fake_kafka, &failing_http, NULL};
    assert_int_equal(gn_gateway_run(&cfg, adapters, NULL), 1);
    assert_int_equal(fake.starts, 2);
    assert_int_equal(fake.stops, 1);
    assert_int_equal(fake.stopped, 1);
    assert_true(marker_exists());
    gn_gateway_config_free(&cfg);
}

/* The broker cannot open its data directory: exit 1 without hanging. */
static void test_server__broker_open_failure_exits_1(void **state)
{
    (void)state;
    char path[700], msg[256];
    snprintf(path, sizeof(path), "%s/file", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/file/data", tmpdir); /* a file in the way */
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    assert_int_equal(gn_gateway_config_set(&cfg, "data.dir", path, msg, sizeof(msg)), 0);
    const gn_adapter_t *adapters[] = {&fake_kafka, NULL};
    assert_int_equal(gn_gateway_run(&cfg, adapters, NULL), 1);
    assert_int_equal(fake.starts, 0);
    gn_gateway_config_free(&cfg);
}

/* An adapter may call its stop callback before stop returns. */
static void test_server__synchronous_stop_callbacks(void **state)
{
    (void)state;
    char msg[256];
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    assert_int_equal(gn_gateway_config_set(&cfg, "mqtt.port", "11883", msg, sizeof(msg)), 0);
    const gn_adapter_t *adapters[] = {&fake_kafka, &fake_mqtt, NULL};
    fake.sync_stop = true;
    fake.signals[0] = SIGTERM;
    assert_int_equal(gn_gateway_run(&cfg, adapters, NULL), 0);
    assert_int_equal(fake.starts, 2);
    assert_int_equal(fake.stopped, 2);
    assert_true(marker_exists());
    gn_gateway_config_free(&cfg);
}

/* SIGPIPE does not end the process (a peer closing while we write gives EPIPE). */
static void test_server__sigpipe_is_ignored(void **state)
{
    (void)state;
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    const gn_adapter_t *adapters[] = {&fake_kafka, NULL};
    fake.signals[0] = SIGPIPE;
    fake.signals[1] = SIGTERM;
    assert_int_equal(gn_gateway_run(&cfg, adapters, NULL), 0);
    assert_int_equal(fake.next_signal, 2);
    assert_int_equal(fake.stops, 1);
    gn_gateway_config_free(&cfg);
}

/* WebSocket routes go to the serving adapter with the owner's state; a route whose
 * owner's listener is off is left out. */
static void test_server__ws_routes_follow_listeners(void **state)
{
    (void)state;
    char msg[256];
    gn_gateway_config_t cfg;
    config_for_test(&cfg);
    assert_int_equal(gn_gateway_config_set(&cfg, "mqtt.port", "11883", msg, sizeof(msg)), 0);
    assert_int_equal(gn_gateway_config_set(&cfg, "http.port", "18080", msg, sizeof(msg)), 0);
    const gn_adapter_t *adapters[] = {&fake_mqtt, &fake_http, NULL};
    fake.signals[0] = SIGTERM;
    assert_int_equal(gn_gateway_run(&cfg, adapters, fake_routes), 0);
    assert_int_equal(fake.starts, 2);
    assert_int_equal(fake.served, 2);
    assert_string_equal(fake.served_paths[0], "/mqtt");
    assert_non_null(fake.mqtt_state);
    assert_ptr_equal(fake.served_states[0], fake.mqtt_state);
    assert_string_equal(fake.served_paths[1], "/ws");
    assert_null(fake.served_states[1]);

    memset(&fake, 0, sizeof(fake));
    assert_int_equal(gn_gateway_config_set(&cfg, "mqtt.port", "0", msg, sizeof(msg)), 0);
    fake.signals[0] = SIGTERM;
    assert_int_equal(gn_gateway_run(&cfg, adapters, fake_routes), 0);
    assert_int_equal(fake.served, 1);
    assert_string_equal(fake.served_paths[0], "/ws");
    gn_gateway_config_free(&cfg);
}

/* The shutdown hangs (an adapter never finishes stopping): a second SIGINT exits at once
 * with 128+SIGINT. Runs in a child process, since it ends the process. */
static void test_server__second_sigint_exits_at_once(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        gn_gateway_config_t cfg;
        config_for_test(&cfg);
        const gn_adapter_t *adapters[] = {&fake_kafka, NULL};
        fake.hang_stop = true;
        fake.signals[0] = SIGINT;
        fake.signals[1] = SIGINT;
        gn_gateway_run(&cfg, adapters, NULL);
        _exit(99); /* not reached when the second SIGINT works */
    }
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 500 && done == 0; i++) { /* up to 5 s */
        done = waitpid(pid, &status, WNOHANG);
        if (done == 0) usleep(10000);
    }
    if (done == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("the second SIGINT did not end the process");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGINT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_server__sigterm_shuts_down_cleanly, reset),
        cmocka_unit_test_setup(test_server__sigint_shuts_down_cleanly, reset),
        cmocka_unit_test_setup(test_server__sighup_is_ignored, reset),
        cmocka_unit_test_setup(test_server__failed_listener_exits_1, reset),
        cmocka_unit_test_setup(test_server__broker_open_failure_exits_1, reset),
        cmocka_unit_test_setup(test_server__synchronous_stop_callbacks, reset),
        cmocka_unit_test_setup(test_server__sigpipe_is_ignored, reset),
        cmocka_unit_test_setup(test_server__ws_routes_follow_listeners, reset),
        cmocka_unit_test_setup(test_server__second_sigint_exits_at_once, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
