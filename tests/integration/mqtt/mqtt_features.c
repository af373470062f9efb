/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT 5 features mosquitto_sub cannot drive, checked with libmosquitto (and a raw
 * socket for receive maximum, since libmosquitto acknowledges on its own): no-local,
 * retain-as-published, retain handling 0/1/2, subscription identifiers, topic aliases
 * both ways, receive maximum flow control, request/response properties; and what a
 * 3.1.1 client gets for the same traffic. Run by 13-features.sh: mqtt_features HOST
 * PORT. Single thread: every client is pumped with mosquitto_loop. */
#include <arpa/inet.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 8
#define MAXM 64

typedef struct msg {
    char topic[128];
    char payload[128];
    int qos;
    bool retain;
    int sub_ids[4];
    int nids;
    char resp_topic[64];
    char corr[64];
    char ctype[32];
    char user[64];
} msg_t;

typedef struct client {
    struct mosquitto *m;
    bool connected;
    int subacks;
    int pubacks;
    msg_t msgs[MAXM];
    int n;
    int topic_alias_max; /* from CONNACK */
    int receive_max;
} client_t;

static client_t clients[MAXC];
static int nclients;
static const char *host;
static int port;
static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pump(int ms)
{
    long end = now_ms() + ms;
    while (now_ms() < end)
        for (int i = 0; i < nclients; i++)
            if (clients[i].m) mosquitto_loop(clients[i].m, 5, 1);
}

/* Pumps until cond holds or ms passed. */
#define PUMP_UNTIL(cond, ms)                                                                       \
    do {                                                                                           \
        long end_ = now_ms() + (ms);                                                               \
        while (!(cond) && now_ms() < end_)                                                         \
            pump(5);                                                                               \
    } while (0)

static void on_connect(struct mosquitto *m, void *arg, int rc, int flags,
                       const mosquitto_property *p)
{
    (void)m, (void)flags;
    client_t *c = arg;
    c->connected = rc == 0;
    uint16_t v;
    if (mosquitto_property_read_int16(p, MQTT_PROP_TOPIC_ALIAS_MAXIMUM, &v, false))
        c->topic_alias_max = v;
    if (mosquitto_property_read_int16(p, MQTT_PROP_RECEIVE_MAXIMUM, &v, false)) c->receive_max = v;
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *q,
                         const mosquitto_property *p)
{
    (void)m, (void)mid, (void)n, (void)q, (void)p;
    ((client_t *)arg)->subacks++;
}

static void on_publish(struct mosquitto *m, void *arg, int mid, int rc, const mosquitto_property *p)
{
    (void)m, (void)mid, (void)rc, (void)p;
    ((client_t *)arg)->pubacks++;
}

static void on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
    (void)m;
    client_t *c = arg;
    if (c->n == MAXM) return;
    msg_t *x = &c->msgs[c->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->topic, sizeof x->topic, "%s", msg->topic);
    snprintf(x->payload, sizeof x->payload, "%.*s", msg->payloadlen, (const char *)msg->payload);
    x->qos = msg->qos;
    x->retain = msg->retain;
    const mosquitto_property *p = props;
    uint32_t id;
    bool first = true;
    while (x->nids < 4 && (p = mosquitto_property_read_varint(p, MQTT_PROP_SUBSCRIPTION_IDENTIFIER,
                                                              &id, !first))) {
        x->sub_ids[x->nids++] = (int)id;
        first = false;
    }
    char *s = NULL, *k = NULL;
    void *b = NULL;
    uint16_t blen = 0;
    if (mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &s, false)) {
        snprintf(x->resp_topic, sizeof x->resp_topic, "%s", s);
        free(s);
    }
    if (mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &s, false)) {
        snprintf(x->ctype, sizeof x->ctype, "%s", s);
        free(s);
    }
    if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &b, &blen, false)) {
        snprintf(x->corr, sizeof x->corr, "%.*s", (int)blen, (const char *)b);
        free(b);
    }
    if (mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &k, &s, false)) {
        snprintf(x->user, sizeof x->user, "%s=%s", k, s);
        free(k);
        free(s);
    }
}

static client_t *client(const char *id, int version, mosquitto_property *connect_props)
{
    client_t *c = &clients[nclients++];
    memset(c, 0, sizeof *c);
    c->m = mosquitto_new(id, true, c);
    mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, version);
    mosquitto_connect_v5_callback_set(c->m, on_connect);
    mosquitto_subscribe_v5_callback_set(c->m, on_subscribe);
    mosquitto_publish_v5_callback_set(c->m, on_publish);
    mosquitto_message_v5_callback_set(c->m, on_message);
    int rc = mosquitto_connect_bind_v5(c->m, host, port, 30, NULL, connect_props);
    CHECK(rc == 0, "%s: connect: %s", id, mosquitto_strerror(rc));
    PUMP_UNTIL(c->connected, 3000);
    CHECK(c->connected, "%s: no CONNACK", id);
    return c;
}

static void sub(client_t *c, const char *filter, int qos, int opts, int sub_id)
{
    mosquitto_property *p = NULL;
    if (sub_id) mosquitto_property_add_varint(&p, MQTT_PROP_SUBSCRIPTION_IDENTIFIER, sub_id);
    int before = c->subacks;
    int rc = mosquitto_subscribe_v5(c->m, NULL, filter, qos, opts, p);
    mosquitto_property_free_all(&p);
    CHECK(rc == 0, "subscribe %s: %s", filter, mosquitto_strerror(rc));
    PUMP_UNTIL(c->subacks > before, 3000);
    CHECK(c->subacks > before, "no SUBACK for %s", filter);
}

static void pub(client_t *c, const char *topic, const char *payload, int qos, bool retain,
                mosquitto_property *props)
{
    int before = c->pubacks;
    int rc =
        mosquitto_publish_v5(c->m, NULL, topic, (int)strlen(payload), payload, qos, retain, props);
    CHECK(rc == 0, "publish %s: %s", topic ? topic : "(alias)", mosquitto_strerror(rc));
    PUMP_UNTIL(c->pubacks > before, 3000);
}

static int count(const client_t *c, const char *topic, const char *payload)
{
    int n = 0;
    for (int i = 0; i < c->n; i++)
        n += strcmp(c->msgs[i].topic, topic) == 0 &&
             (!payload || strcmp(c->msgs[i].payload, payload) == 0);
    return n;
}

static const msg_t *find(const client_t *c, const char *topic, const char *payload)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->msgs[i].topic, topic) == 0 &&
            (!payload || strcmp(c->msgs[i].payload, payload) == 0))
            return &c->msgs[i];
    return NULL;
}

static void done(void)
{
    for (int i = 0; i < nclients; i++) {
        mosquitto_disconnect(clients[i].m);
        mosquitto_loop(clients[i].m, 10, 1);
        mosquitto_destroy(clients[i].m);
    }
    nclients = 0;
}

/* ---- the cases ------------------------------------------------------------------- */

static void test_no_local(int v)
{
    char t[64];
    snprintf(t, sizeof t, "nl%d/x", v);
    client_t *a = client("nl-a", v, NULL), *b = client("nl-b", v, NULL);
    char f[64];
    snprintf(f, sizeof f, "nl%d/#", v);
    sub(a, f, 1, v == 5 ? MQTT_SUB_OPT_NO_LOCAL : 0, 0);
    pub(a, t, "own", 1, false, NULL);
    pub(b, t, "other", 1, false, NULL);
    PUMP_UNTIL(count(a, t, "other") == 1, 3000);
    pump(200);
    CHECK(count(a, t, "other") == 1, "v%d no-local: other's message missing", v);
    /* 3.1.1 has no no-local: a client gets its own messages */
    CHECK(count(a, t, "own") == (v == 5 ? 0 : 1), "v%d no-local: own message count %d", v,
          count(a, t, "own"));
    done();
}

static void test_retain_as_published(int v)
{
    char t[64], f[64];
    snprintf(t, sizeof t, "rap%d/x", v);
    snprintf(f, sizeof f, "rap%d/#", v);
    client_t *p = client("rap-p", v, NULL);
    client_t *a = client("rap-a", v, NULL), *b = client("rap-b", v, NULL);
    sub(a, f, 1, v == 5 ? MQTT_SUB_OPT_RETAIN_AS_PUBLISHED : 0, 0);
    sub(b, f, 1, 0, 0);
    pub(p, t, "live", 1, true, NULL);
    PUMP_UNTIL(count(a, t, "live") && count(b, t, "live"), 3000);
    const msg_t *ma = find(a, t, "live"), *mb = find(b, t, "live");
    CHECK(ma && ma->retain == (v == 5), "v%d retain-as-published: retain=%d", v,
          ma ? ma->retain : -1);
    CHECK(mb && !mb->retain, "v%d without retain-as-published: retain flag set", v);
    pub(p, t, "", 1, true, NULL); /* clear */
    done();
}

static void test_retain_handling(int v)
{
    char t[64], f[64];
    snprintf(t, sizeof t, "rh%d/x", v);
    snprintf(f, sizeof f, "rh%d/#", v);
    client_t *p = client("rh-p", v, NULL);
    pub(p, t, "kept", 1, true, NULL);
    for (int rh = 0; rh <= (v == 5 ? 2 : 0); rh++) {
        client_t *a = client("rh-a", v, NULL);
        int opt = rh == 1   ? MQTT_SUB_OPT_SEND_RETAIN_NEW
                  : rh == 2 ? MQTT_SUB_OPT_SEND_RETAIN_NEVER
                            : 0;
        sub(a, f, 1, opt, 0);
        PUMP_UNTIL(count(a, t, "kept") >= 1, rh == 2 ? 300 : 3000);
        CHECK(count(a, t, "kept") == (rh == 2 ? 0 : 1), "v%d rh=%d: first subscribe got %d", v, rh,
              count(a, t, "kept"));
        const msg_t *m = find(a, t, "kept");
        CHECK(!m || m->retain, "v%d rh=%d: retained message without retain flag", v, rh);
        sub(a, f, 1, opt, 0); /* the same subscription again */
        pump(300);
        CHECK(count(a, t, "kept") == (rh == 0   ? 2
                                      : rh == 1 ? 1
                                                : 0),
              "v%d rh=%d: after re-subscribe got %d", v, rh, count(a, t, "kept"));
        mosquitto_disconnect(a->m);
        mosquitto_loop(a->m, 10, 1);
        mosquitto_destroy(a->m);
        a->m = NULL;
    }
    pub(p, t, "", 1, true, NULL);
    done();
}

/* One identifier per delivery: libmosquitto 2.0.11 drops the connection on a PUBLISH
 * carrying several (one per matching subscription, as MQTT 5 allows); overlapping
 * subscriptions are checked with MQTT.js (13-features.sh). */
static void test_subscription_ids(void)
{
    client_t *a = client("si-a", 5, NULL), *p = client("si-p", 5, NULL);
    sub(a, "si/a/#", 1, 0, 7);
    sub(a, "si/+/x", 1, 0, 9);
    sub(a, "si/c", 1, 0, 0);
    pub(p, "si/a/y", "seven", 1, false, NULL);
    pub(p, "si/b/x", "nine", 1, false, NULL);
    pub(p, "si/c", "none", 1, false, NULL);
    PUMP_UNTIL(count(a, "si/a/y", NULL) && count(a, "si/b/x", NULL) && count(a, "si/c", NULL),
               3000);
    const msg_t *m = find(a, "si/a/y", "seven");
    CHECK(m && m->nids == 1 && m->sub_ids[0] == 7, "subscription id for si/a/y: n=%d id=%d",
          m ? m->nids : -1, m && m->nids ? m->sub_ids[0] : -1);
    m = find(a, "si/b/x", "nine");
    CHECK(m && m->nids == 1 && m->sub_ids[0] == 9, "subscription id for si/b/x: n=%d id=%d",
          m ? m->nids : -1, m && m->nids ? m->sub_ids[0] : -1);
    m = find(a, "si/c", "none");
    CHECK(m && m->nids == 0, "subscription without identifier: n=%d", m ? m->nids : -1);
    done();
}

static void test_topic_aliases(void)
{
    mosquitto_property *cp = NULL;
    /* libmosquitto 2.0.11 loses inbound aliased PUBLISHes: the subscriber takes no
     * aliases here; server -> client aliases are checked with MQTT.js (13-features.sh) */
    client_t *a = client("ta-a", 5, NULL);
    mosquitto_property_free_all(&cp);
    client_t *p = client("ta-p", 5, NULL);
    CHECK(p->topic_alias_max >= 1, "CONNACK topic alias maximum %d", p->topic_alias_max);
    sub(a, "ta/#", 0, 0, 0);
    /* client -> server: set alias 1, then use it with an empty topic */
    mosquitto_property *pp = NULL;
    mosquitto_property_add_int16(&pp, MQTT_PROP_TOPIC_ALIAS, 1);
    pub(p, "ta/long/topic/name", "m1", 1, false, pp);
    pub(p, NULL, "m2", 1, false, pp);
    pub(p, NULL, "m3", 1, false, pp);
    mosquitto_property_free_all(&pp);
    PUMP_UNTIL(count(a, "ta/long/topic/name", NULL) == 3, 3000);
    CHECK(count(a, "ta/long/topic/name", "m1") == 1 && count(a, "ta/long/topic/name", "m2") == 1 &&
              count(a, "ta/long/topic/name", "m3") == 1,
          "topic aliases: got %d messages on the aliased topic",
          count(a, "ta/long/topic/name", NULL));
    done();
}

static void test_request_response(int v)
{
    char f[64];
    snprintf(f, sizeof f, "rr%d/#", v);
    client_t *a = client("rr-a", v, NULL), *p = client("rr-p", 5, NULL);
    sub(a, f, 1, 0, 0);
    mosquitto_property *pp = NULL;
    mosquitto_property_add_string(&pp, MQTT_PROP_RESPONSE_TOPIC, "reply/to/me");
    mosquitto_property_add_binary(&pp, MQTT_PROP_CORRELATION_DATA, "corr-42", 7);
    mosquitto_property_add_string(&pp, MQTT_PROP_CONTENT_TYPE, "text/plain");
    mosquitto_property_add_string_pair(&pp, MQTT_PROP_USER_PROPERTY, "k", "v");
    char t[64];
    snprintf(t, sizeof t, "rr%d/req", v);
    pub(p, t, "question", 1, false, pp);
    mosquitto_property_free_all(&pp);
    PUMP_UNTIL(count(a, t, "question"), 3000);
    const msg_t *m = find(a, t, "question");
    CHECK(m, "v%d request not delivered", v);
    if (m && v == 5) {
        CHECK(strcmp(m->resp_topic, "reply/to/me") == 0, "response topic '%s'", m->resp_topic);
        CHECK(strcmp(m->corr, "corr-42") == 0, "correlation data '%s'", m->corr);
        CHECK(strcmp(m->ctype, "text/plain") == 0, "content type '%s'", m->ctype);
        CHECK(strcmp(m->user, "k=v") == 0, "user property '%s'", m->user);
    }
    done();
}

/* ---- receive maximum, on a raw socket ----------------------------------------------- */

static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return -1;
    /* CONNECT v5, client id "rm-raw", clean start, keepalive 30, Receive Maximum 2 */
    static const uint8_t c[] = {0x10, 22,   0, 4, 'M', 'Q', 'T', 'T', 5,   0x02, 0,   30,
                                3,    0x21, 0, 2, 0,   6,   'r', 'm', '-', 'r',  'a', 'w'};
    if (write(fd, c, sizeof c) != (ssize_t)sizeof c) return -1;
    return fd;
}

/* Reads whole packets for up to ms; returns PUBLISH packet ids (QoS 1) in ids. */
static int raw_read(int fd, int ms, uint16_t *ids, int cap, int *other)
{
    static uint8_t buf[65536];
    static size_t len;
    int n = 0;
    long end = now_ms() + ms;
    for (;;) {
        /* parse what we have */
        for (;;) {
            if (len < 2) break;
            size_t rl = 0, mul = 1, i = 1;
            while (i < len && i < 5) {
                rl += (buf[i] & 0x7f) * mul;
                mul *= 128;
                if (!(buf[i++] & 0x80)) break;
            }
            if (len < i + rl) break;
            if ((buf[0] & 0xf0) == 0x30 && ((buf[0] >> 1) & 3) == 1 && n < cap) {
                size_t tl = (size_t)buf[i] << 8 | buf[i + 1];
                ids[n++] = (uint16_t)(buf[i + 2 + tl] << 8 | buf[i + 3 + tl]);
            } else if (other) {
                (*other)++;
            }
            memmove(buf, buf + i + rl, len - i - rl);
            len -= i + rl;
        }
        long left = end - now_ms();
        if (left <= 0) break;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, (int)left) <= 0) break;
        ssize_t r = read(fd, buf + len, sizeof buf - len);
        if (r <= 0) break;
        len += (size_t)r;
    }
    return n;
}

static void raw_puback(int fd, uint16_t id)
{
    uint8_t p[] = {0x40, 2, (uint8_t)(id >> 8), (uint8_t)id};
    if (write(fd, p, sizeof p) != 4) failures++;
}

static void test_receive_maximum(void)
{
    int fd = raw_connect();
    CHECK(fd >= 0, "raw connect");
    if (fd < 0) return;
    int other = 0;
    uint16_t ids[16];
    raw_read(fd, 300, ids, 16, &other); /* CONNACK */
    /* SUBSCRIBE id 1, "rm/#" QoS 1 (v5: properties length 0) */
    static const uint8_t s[] = {0x82, 10, 0, 1, 0, 0, 4, 'r', 'm', '/', '#', 1};
    CHECK(write(fd, s, sizeof s) == (ssize_t)sizeof s, "raw subscribe");
    raw_read(fd, 300, ids, 16, &other); /* SUBACK */
    CHECK(other == 2, "raw: CONNACK and SUBACK expected, got %d packets", other);
    client_t *p = client("rm-p", 5, NULL);
    for (int i = 0; i < 5; i++) {
        char pl[8];
        snprintf(pl, sizeof pl, "m%d", i);
        pub(p, "rm/x", pl, 1, false, NULL);
    }
    int got = raw_read(fd, 500, ids, 16, NULL);
    CHECK(got == 2, "receive maximum 2: %d PUBLISH in flight before any PUBACK", got);
    int total = got;
    for (int round = 0; round < 10 && total < 5; round++) {
        raw_puback(fd, ids[0]);
        int more = raw_read(fd, 300, ids + 1, 15, NULL);
        CHECK(more <= 1, "one PUBACK released %d PUBLISH", more);
        memmove(ids, ids + 1, sizeof ids - sizeof ids[0]);
        total += more;
    }
    CHECK(total == 5, "receive maximum: %d of 5 delivered after acknowledgements", total);
    close(fd);
    CHECK(p->receive_max > 0, "CONNACK receive maximum %d", p->receive_max);
    done();
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    mosquitto_lib_init();
    int versions[] = {MQTT_PROTOCOL_V311, MQTT_PROTOCOL_V5};
    for (int i = 0; i < 2; i++) {
        int v = versions[i] == MQTT_PROTOCOL_V5 ? 5 : 4;
        test_no_local(versions[i] == MQTT_PROTOCOL_V5 ? 5 : 4);
        test_retain_as_published(v);
        test_retain_handling(v);
        test_request_response(v);
    }
    test_subscription_ids();
    test_topic_aliases();
    test_receive_maximum();
    mosquitto_lib_cleanup();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all MQTT feature checks passed\n");
    return 0;
}
