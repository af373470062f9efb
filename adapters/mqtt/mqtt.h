/* SPDX-License-Identifier: Apache-2.0 */
/* The MQTT adapter's internal types: the server (listener, session table, topic-filter
 * trie, retained store), connections (one per transport: parser, aliases, keepalive)
 * and sessions (subscriptions, QoS state, per-partition log cursors, will). Shared by
 * the files of adapters/mqtt only. Loop thread only. */
#ifndef MQTT_MQTT_H
#define MQTT_MQTT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "codec.h"
#include "ganglion/adapter.h"
#include "ganglion/auth.h"
#include "ganglion/broker.h"
#include "ganglion/cluster.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/tls.h"
#include "ganglion/topic.h"
#include "ganglion/transport.h"

#define MQTT_MOD            "mqtt"
#define MQTT_RETAINED_TOPIC "__mqtt_retained"
#define MQTT_SESSIONS_TOPIC "__mqtt_sessions"

#define MQTT_CONNECT_TIMEOUT_MS  10000      /* a client that never sends CONNECT */
#define MQTT_MAX_PACKET_IN       (1u << 20) /* maximum packet size we accept (1 MiB) */
#define MQTT_MAX_INFLIGHT        1024       /* our cap on outbound QoS 1/2 in flight (2^n) */
#define MQTT_RECEIVE_MAXIMUM     64         /* inbound QoS 1/2 we accept unacknowledged */
#define MQTT_TOPIC_ALIAS_MAXIMUM 32         /* inbound aliases a client may use */
#define MQTT_QOS0_QUEUE_LIMIT    (8u << 20) /* QoS 0 dropped beyond this many queued bytes */
#define MQTT_CATCHUP_READ_BYTES  (256u << 10)
#define MQTT_SYS_INTERVAL_MS     10000        /* $SYS/broker/... refresh, as Mosquitto's default */
#define MQTT_BATCH_MAX_BYTES     (256u << 10) /* a pending per-partition batch is sent at this */
#define MQTT_BATCH_MAX_RECORDS   64           /* bounds what a catch-up re-decodes per batch */
#define MQTT_ORIGINS             1024         /* recent MQTT-originated appends kept for no-local */
#define MQTT_SWEEP_MS            1000         /* CONNECT timeout and keepalive check period */
#define MQTT_SESSION_BUCKETS     1024
#define MQTT_LIVE_MAX            64   /* live brokers tracked for session ownership */
#define MQTT_CLAIM_WAIT_MS       3000 /* CONNECT waits this long for the previous owner */
#define MQTT_CLAIM_STORE_WAIT_MS 5000 /* ... and for __mqtt_sessions to take its claim */
#define MQTT_RETAINED_BUCKETS    1024
#define MQTT_QOS2_IN_MAX         1024 /* inbound QoS 2 ids held until PUBREL, per session */
#define MQTT_ADOPT_PER_SWEEP     1000 /* lost brokers' sessions taken over per sweep */

typedef struct mqtt_server mqtt_server_t;
typedef struct mqtt_conn mqtt_conn_t;
typedef struct mqtt_session mqtt_session_t;
typedef struct mqtt_trie mqtt_trie_t;
typedef struct mqtt_share mqtt_share_t;
typedef void (*mqtt_publish_cb)(void *arg, int status);

/* A message about to be delivered: from a log record, a retained entry or $SYS.
 * Views are borrowed for the delivery call. */
typedef struct mqtt_msg {
    gn_bytes_t topic; /* MQTT topic */
    gn_bytes_t payload;
    gn_bytes_t headers; /* raw record headers (Kafka form) */
    int32_t headers_count;
    int64_t timestamp;     /* ms */
    uint8_t qos;           /* mqtt.qos header; 2 for records from other protocols */
    bool retain;           /* published with retain (mqtt.retain) */
    uint32_t expiry;       /* mqtt.message_expiry, seconds; 0 none */
    const char *log_topic; /* NULL: not from the log ($SYS, retained) */
    int32_t partition;
    int64_t offset;
    uint64_t origin_session; /* session serial of the MQTT publisher, 0 unknown */
    const void *origin_part; /* set with origin_pending: look origin_session up lazily */
    bool origin_pending;
} mqtt_msg_t;

typedef struct mqtt_sub {
    char *filter; /* as subscribed (with $share/G/ stripped) */
    char *share;  /* shared-subscription group, or NULL */
    uint8_t qos;
    bool no_local;
    bool retain_as_published;
    uint8_t retain_handling;
    uint32_t sub_id; /* 0: none */
    mqtt_session_t *session;
} mqtt_sub_t;

/* Where a session is in one log partition: the next offset it has not been sent. */
typedef struct mqtt_cursor {
    char *topic;
    int32_t partition;
    int64_t next;
    bool lagging; /* records from next on wait for credit: read them from the log */
} mqtt_cursor_t;

typedef enum mqtt_inflight_state {
    MQTT_WAIT_PUBACK = 1,
    MQTT_WAIT_PUBREC = 2,
    MQTT_WAIT_PUBCOMP = 3,
} mqtt_inflight_state_t;

/* A PUBLISH as encoded once (send_publish.c), with packet id 0: shared by every
 * subscriber of a fan-out that gets the same bytes (each one's packet id is patched in
 * as the bytes are copied to its output) and held by their inflight entries for a DUP
 * resend. Refcounted. */
typedef struct mqtt_pkt {
    uint32_t refs;
    uint32_t pid_pos; /* where the packet id goes; 0 for QoS 0 (none) */
    size_t len;
    uint8_t bytes[];
} mqtt_pkt_t;

/* The packets of one fan-out, one per distinct encoding (protocol level, QoS, retain). */
#define MQTT_ENC_FORMS 4
typedef struct mqtt_enc_cache {
    struct {
        mqtt_pkt_t *pkt;
        uint8_t version, qos;
        bool retain;
    } e[MQTT_ENC_FORMS];
    size_t n;
} mqtt_enc_cache_t;

/* mqtt_inflight_t.pubrel: the PUBREL answering the client's PUBREC waits for the
 * session's save (session_sync.c) */
#define MQTT_PUBREL_UNSAVED 1
#define MQTT_PUBREL_SAVING  2

typedef struct mqtt_inflight {
    uint16_t pid;
    uint8_t state;
    uint8_t pubrel; /* 0, MQTT_PUBREL_UNSAVED or MQTT_PUBREL_SAVING */
    int32_t partition;
    const char *log_topic; /* the session's cursor's topic (borrowed); NULL: not from the log */
    int64_t offset;
    mqtt_pkt_t *packet; /* the PUBLISH as sent, resent with DUP on reconnect; NULL after PUBREC */
} mqtt_inflight_t;

typedef struct mqtt_will {
    char *topic;
    uint8_t *payload;
    size_t payload_len;
    uint8_t *props; /* raw v5 will properties */
    size_t props_len;
    uint8_t qos;
    bool retain;
    uint32_t delay;
} mqtt_will_t;

/* A CONNECT as handle_connect keeps it while authentication runs (enhanced
 * authentication answers it only after an AUTH exchange). */
typedef struct mqtt_connect {
    char *client_id; /* as sent; "" when empty */
    char *user;      /* user name, NULL when none */
    mqtt_will_t *will;
    uint32_t session_expiry; /* v5 property; 3.1.x: from the clean flag */
    uint16_t keep_alive;
    bool clean;
    bool assigned; /* client_id was empty: the server chose it */
} mqtt_connect_t;

/* Enhanced authentication of a connection (auth.c): the method given in CONNECT, the
 * exchange in progress, and the user it authenticated. NULL on connections without an
 * Authentication Method. */
typedef struct mqtt_auth {
    gn_scram_server_t *scram; /* the exchange in progress, NULL between exchanges */
    mqtt_connect_t *pending;  /* CONNECT waiting for the exchange's end; NULL once connected */
    char *user;               /* authenticated user; NULL before the first success */
    gn_scram_mech_t mech;
} mqtt_auth_t;

struct mqtt_session { /* fields ordered by size: one per connection, kept small */
    mqtt_server_t *srv;
    mqtt_session_t *hnext;
    uint64_t serial;
    mqtt_conn_t *conn; /* NULL while offline */
    int64_t disconnected_at;
    uv_timer_t *timer; /* expiry, will delay, catch-up; NULL until first needed */
    mqtt_will_t *will;
    int64_t will_due;   /* ms; 0: none, or not triggered (the client is connected) */
    int64_t adopted_at; /* ms: this broker wrote an adopt record for it (session_owner.c) */
    mqtt_sub_t **subs;
    mqtt_cursor_t *cursors;
    mqtt_inflight_t *inflight;    /* inflight.c: slot i holds packet id i + 1; state 0 free */
    uint32_t *qos2_in;            /* inbound QoS 2 ids awaiting PUBREL; bit 16: append pending */
    uint64_t match_stamp;         /* fan-out: last record this session matched */
    mqtt_session_t *catchup_next; /* srv->catchups list */
    mqtt_session_t *sync_next;    /* srv->syncs list */
    uint32_t match_slot;          /* ... and its entry in srv->hits */
    uint32_t expiry;              /* session expiry interval, s; UINT32_MAX never */
    int32_t owner;                /* broker holding it (session_owner.c); -1 unknown */
    uint32_t gen;                 /* ownership generation: each claim adds one */
    uint32_t nsubs;
    uint32_t ncursors;
    uint16_t ninflight;     /* inflight slots taken (<= MQTT_MAX_INFLIGHT) */
    uint16_t nqos2_in;      /* <= MQTT_QOS2_IN_MAX */
    uint16_t inflight_cap;  /* slots (a power of two, up to MQTT_MAX_INFLIGHT) */
    uint16_t inflight_next; /* the slot tried first by the next send */
    uint16_t acks_since_catchup;
    bool persistent;
    bool dirty;         /* subscription set changed since the last save */
    bool catchup_due;   /* queued on srv->catchups for the end of the loop turn */
    bool remote_online; /* the last record said online, and it is not connected here */
    bool moved;         /* acknowledged positions moved since the last save */
    bool sync_due;      /* on srv->syncs: its QoS 2 state is saved at the turn's end */
    char client_id[];   /* same allocation */
};
_Static_assert(MQTT_MAX_INFLIGHT <= UINT16_MAX && MQTT_QOS2_IN_MAX <= UINT16_MAX,
               "ninflight and nqos2_in are uint16_t");

/* A connection's partial input packet or this loop turn's output: a connection holds
 * one only while it has bytes in it, so an idle connection holds none (conn.c). Output
 * buffers come from and go back to the server's spares (srv->out_spare). */
typedef struct mqtt_buf {
    mqtt_conn_t *conn; /* output being written: its connection (holds a reference) */
    size_t len, cap;
    uint8_t b[];
} mqtt_buf_t;

/* Output buffers kept across loop turns for the next connections that write: at most
 * this many, each of at most MQTT_OUT_SPARE_CAP bytes. */
#define MQTT_OUT_SPARES    64
#define MQTT_OUT_SPARE_CAP (64 * 1024)

struct mqtt_conn { /* fields ordered by size: one per connection, kept small */
    mqtt_server_t *srv;
    mqtt_conn_t *prev, *next;
    gn_transport_t *tr;
    mqtt_session_t *session;
    mqtt_auth_t *auth;        /* enhanced authentication; NULL without (auth.c) */
    char *user;               /* the user name and password CONNECT checked (auth.c); NULL: none */
    struct mqtt_claim *claim; /* CONNECT waiting for its session claim (session_owner.c) */
    mqtt_buf_t *in;           /* a partial packet only; NULL when idle */
    char **alias_in;          /* [MQTT_TOPIC_ALIAS_MAXIMUM + 1] */
    char **alias_out;         /* [topic_alias_max_out + 1] */
    mqtt_buf_t *out; /* output of this loop turn, written with one write at its end (server.c) */
    mqtt_conn_t *out_next;
    /* until the CONNACK: when the transport attached (CONNECT timeout); then the last
     * input (keepalive). The server's sweep checks both. */
    int64_t last_rx_ms;
    uint32_t max_packet_out; /* client's maximum packet size; 0 no limit */
    int inbound_qos_pending;
    int refs; /* produce callbacks in flight + 1 while open */
    uint16_t receive_max_out;
    uint16_t topic_alias_max_out;
    uint16_t alias_out_next;
    uint16_t keep_alive;
    uint8_t version; /* 0 until CONNECT */
    bool request_problem_info;
    bool closing;
    bool graceful; /* DISCONNECT 0x00 received: no will */
    bool takeover;
    bool out_queued; /* on srv->outq (holds a reference) */
    bool q2_saving;  /* a save of the session's QoS 2 state is in flight (session_sync.c) */
};

typedef struct mqtt_stats {
    uint64_t clients_connected;
    uint64_t clients_total;
    uint64_t clients_maximum;
    uint64_t msgs_received;
    uint64_t msgs_sent;
    uint64_t msgs_dropped;
    uint64_t bytes_received;
    uint64_t bytes_sent;
    uint64_t publish_received;
    uint64_t publish_sent;
    uint64_t publish_not_authorized; /* PUBLISH refused by the ACLs (QoS 0 ones dropped) */
    int64_t started_ms;
} mqtt_stats_t;

/* Publishes of one loop turn to one partition, appended with one gn_produce at its
 * end (publish.c). The waiters are answered when the batch is (durably) appended. */
typedef void (*mqtt_batch_cb)(void *arg, uint32_t tag, int status);
typedef struct mqtt_pub_waiter {
    mqtt_batch_cb cb;
    void *arg;
    uint32_t tag;
} mqtt_pub_waiter_t;

typedef struct mqtt_pending {
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
    int32_t nparts; /* the topic's partition count, as looked up this turn */
    bool acks_all;
    gn_batch_builder_t b; /* kept (reset) across turns */
    mqtt_pub_waiter_t *w;
    uint64_t *origins; /* publisher session serial per record */
    size_t n, cap;
} mqtt_pending_t;

/* A batch this adapter appended this loop turn, its bytes in srv->recent_buf (recent.c). */
typedef struct mqtt_recent {
    const gn_partition_t *part; /* compared only */
    int64_t base, last;
    size_t pos, len;
    uint64_t turn; /* srv->turn when appended */
} mqtt_recent_t;

/* One session matched by the record being fanned out (delivery.c). */
typedef struct mqtt_hit {
    mqtt_session_t *sess;
    uint8_t qos;
    bool rap;
    uint8_t nids;
    uint32_t ids[8];
} mqtt_hit_t;

typedef struct mqtt_retained {
    struct mqtt_retained *hnext;
    char *topic;
    uint8_t *payload;
    size_t payload_len;
    uint8_t *headers;
    size_t headers_len;
    int32_t headers_count;
    int64_t timestamp;
    bool sys; /* $SYS: memory only */
} mqtt_retained_t;

struct mqtt_server {
    gn_broker_t *broker;
    const gn_auth_store_t *auth;  /* auth.users.file; NULL: credentials are not checked */
    gn_auth_throttle_t *throttle; /* failed password checks per client host */
    bool allow_anonymous;         /* mqtt.allow.anonymous */
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    uv_tcp_t tls_listener; /* mqtt.tls.port (transport_tls.c) */
    bool tls_listening;
    gn_tls_ctx_t *tls; /* the gateway's TLS context; NULL: no TLS listener */
    uv_timer_t sys_timer;
    bool sys_timer_init;
    uv_timer_t sweep_timer; /* CONNECT timeouts and keepalives of every connection */
    bool sweep_timer_init;
    mqtt_conn_t *conns;
    mqtt_session_t *sessions[MQTT_SESSION_BUCKETS];
    size_t nsessions;
    uint64_t next_serial;
    mqtt_trie_t *trie;
    mqtt_retained_t *retained[MQTT_RETAINED_BUCKETS];
    size_t nretained;
    uint64_t match_stamp;
    mqtt_hit_t *hits; /* fan-out of one record, kept across records */
    size_t nhits, cap_hits;
    bool hits_busy;
    uint32_t rr;          /* round-robin partition for keyless records */
    uint8_t rbuf[65536];  /* the TCP transports' shared read buffer (transport_tcp.c) */
    mqtt_share_t *shares; /* $share group memberships of online sessions (share.c) */
    uv_timer_t share_timer;
    bool share_timer_init;
    mqtt_wbuf_t w;
    mqtt_wbuf_t props;
    mqtt_buf_t *out_spare[MQTT_OUT_SPARES]; /* conn.c */
    size_t nout_spare;
    mqtt_stats_t stats;
    uint64_t acl_generation; /* the ACL bindings subscriptions were last checked against */
    uv_prepare_t turn_end;   /* end of each loop turn: pending batches, catch-ups, output */
    bool turn_end_init;      /* ... and polled, started with it */
    uv_check_t polled;       /* right after each poll: that poll's publishes and acks out */
    mqtt_pending_t *pending; /* [npending] in use of [cap_pending] */
    size_t npending, cap_pending;
    mqtt_session_t *catchups;
    mqtt_session_t *syncs; /* sessions whose QoS 2 state is saved at the turn's end */
    mqtt_conn_t *outq;
    mqtt_recent_t *recent; /* batches appended this turn, delivered from memory (recent.c) */
    size_t nrecent, cap_recent;
    uint8_t *recent_buf;
    size_t recent_len, recent_cap;
    uint64_t turn;       /* loop turns ended */
    bool recent_walking; /* delivering from recent_buf */
    uint8_t *scan_buf;   /* log reads for delivery and catch-up (delivery.c) */
    size_t scan_cap;
    bool scan_busy;
    bool observing;
    bool internal_topics_warned; /* their creation failed once (logged) */
    int internal_topics_waits;   /* sweeps a non-controller broker let the controller create them */
    /* session ownership across brokers (session_owner.c) */
    struct mqtt_claim *claims; /* CONNECTs waiting for their claim */
    uint64_t next_claim_id;
    int32_t self_id;             /* this broker's node id */
    int32_t live[MQTT_LIVE_MAX]; /* live brokers, ascending, as of the sweep */
    size_t nlive;
    struct {
        int32_t id;
        int64_t since;     /* ms: first sweep that found it not live */
    } gone[MQTT_LIVE_MAX]; /* owners of sessions that are not live */
    size_t ngone;
    bool stopping;
    int open_handles;
    gn_adapter_stopped_cb stop_cb;
    void *stop_arg;
    /* recent MQTT-originated appends, for no-local */
    struct {
        const void *part;
        int64_t offset;
        uint64_t serial;
    } origins[MQTT_ORIGINS];
    size_t norigins;
};

/* server.c */
void mqtt__server_handle_closed(mqtt_server_t *srv);
/* transport_tcp.c: wraps an accepted uv_tcp_t in a gn_transport_t. */
int mqtt__tcp_accept(mqtt_server_t *srv);
/* transport_tls.c: the TLS listener when cfg has a context and a port (0 otherwise, or
 * -errno: then mqtt__tls_close still closes what was opened); closing it. */
int mqtt__tls_listen(mqtt_server_t *srv, const gn_listener_config_t *cfg);
void mqtt__tls_close(mqtt_server_t *srv);

/* conn.c */
int mqtt__conn_attach(mqtt_server_t *srv, gn_transport_t *tr);
/* Queues packet bytes (copied); counts bytes and packets for $SYS. */
int mqtt__conn_send(mqtt_conn_t *conn, const uint8_t *p, size_t len);
/* Writes what mqtt__conn_send queued this loop turn (one write). */
void mqtt__conn_flush(mqtt_conn_t *conn);
/* Bytes queued and not yet written (the transport's queue plus this turn's output). */
size_t mqtt__conn_queued(const mqtt_conn_t *conn);
/* Closes the transport; the session goes offline (or away) when it has closed. */
void mqtt__conn_close(mqtt_conn_t *conn, const char *why);
/* v5: DISCONNECT with rc (and a reason string), then close; 3.1.x: close. */
void mqtt__conn_disconnect(mqtt_conn_t *conn, uint8_t rc, const char *why);
void mqtt__conn_unref(mqtt_conn_t *conn);
void mqtt__conn_keepalive_start(mqtt_conn_t *conn);
/* Frees the server's spare output buffers (server stop). */
void mqtt__conn_spares_free(mqtt_server_t *srv);
/* Handles the packets that arrived while CONNECT waited for its session claim. */
void mqtt__conn_input_resume(mqtt_conn_t *conn);
/* The one timer that checks CONNECT timeouts and keepalives of all connections. */
void mqtt__conn_sweep_start(mqtt_server_t *srv);
/* __mqtt_retained and __mqtt_sessions exist (created if not: server.c). */
void mqtt__internal_topics_ensure(mqtt_server_t *srv);
/* remote.c: partitions of the log topics the trie may match are fetched here when other
 * brokers hold them (gn_partition_want); with subscriber, a partition without a leader
 * is logged with its client id. Called at subscribe and from the sweep. */
void mqtt__remote_want(mqtt_server_t *srv, const mqtt_session_t *subscriber);
/* The peer address "ip:port" into buf ("?" when unknown). */
const char *mqtt__conn_peer(const mqtt_conn_t *conn, char *buf, size_t cap);

/* Authorization (authz.c, core/acl) as "User:<the authenticated user>" or User:ANONYMOUS
 * from the client's IP address: WRITE on the log topic a PUBLISH topic maps to (true for
 * a topic that maps to none: the publish path refuses it), READ on a SUBSCRIBE filter's
 * topic (every topic for a wildcard first level) and on the group of $share/G/... A
 * refusal is logged by the authorizer. */
bool mqtt__authorize_publish(mqtt_conn_t *conn, gn_bytes_t topic);
bool mqtt__authorize_subscribe(mqtt_conn_t *conn, gn_bytes_t filter, gn_bytes_t group);
/* Checks the subscriptions of conn's session again, removing (and logging) those the
 * ACLs no longer allow: at CONNECT of a session that was present, before its queue is
 * sent. */
void mqtt__authz_recheck(mqtt_conn_t *conn);
/* From the 1 s sweep: when the bindings changed since the last sweep, every connected
 * session's subscriptions are checked again. */
void mqtt__authz_sweep(mqtt_server_t *srv);

/* handle_connect.c: answers a CONNECT that authentication let through (session,
 * takeover, CONNACK with extra properties, e.g. the server-final of SCRAM). Takes c.
 * 0, or -1 when the connection was closed. */
int mqtt__connect_accept(mqtt_conn_t *conn, mqtt_connect_t *c, const mqtt_wbuf_t *extra);
/* The claim settled (session_owner.c): takeover of a local connection, clean start,
 * CONNACK, resume; the session becomes this broker's at gen. 0, or -1 when closed. */
int mqtt__connect_finish(mqtt_conn_t *conn, mqtt_connect_t *c, const mqtt_wbuf_t *extra,
                         uint32_t gen);
void mqtt__connect_free(mqtt_connect_t *c);

/* auth.c: authentication */
#define MQTT_AUTH_PENDING 1 /* mqtt__auth_connect: an AUTH exchange runs; CONNECT waits */
/* Decides CONNECT's credentials: 0 go on (anonymous or a good user name and password),
 * MQTT_AUTH_PENDING (enhanced authentication started: c is taken and answered when the
 * exchange ends; the connection may already be closing when it failed at once), -1
 * refused (CONNACK sent, connection closing; c is still the caller's). */
int mqtt__auth_connect(mqtt_conn_t *conn, const mqtt_packet_t *pkt, mqtt_connect_t *c);
/* Feeds the client's Authentication Data to the exchange in progress and answers: AUTH
 * 0x18 to continue, CONNACK (connecting) or AUTH 0x00 (re-authenticating) when done,
 * CONNACK 0x86/0x87 or DISCONNECT 0x87 when it failed. 0, or -1 when closed. */
int mqtt__auth_step(mqtt_conn_t *conn, gn_bytes_t data);
/* Starts a re-authentication (AUTH 0x19) with the connection's method. */
int mqtt__auth_restart(mqtt_conn_t *conn);
void mqtt__auth_free(mqtt_auth_t *auth);

/* handle_*.c: one per client packet. 0, or < 0 when the connection was closed. */
int mqtt__handle_connect(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_publish(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_puback(mqtt_conn_t *conn, const mqtt_packet_t *pkt); /* PUBACK/REC/COMP */
int mqtt__handle_pubrel(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_subscribe(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_unsubscribe(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_pingreq(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_disconnect(mqtt_conn_t *conn, const mqtt_packet_t *pkt);
int mqtt__handle_auth(mqtt_conn_t *conn, const mqtt_packet_t *pkt);

/* send_*.c: one per server packet. */
int mqtt__send_connack(mqtt_conn_t *conn, bool session_present, uint8_t rc, const char *reason);
int mqtt__send_connack_props(mqtt_conn_t *conn, bool session_present, uint8_t rc,
                             const char *reason, const mqtt_wbuf_t *extra);
int mqtt__send_ack(mqtt_conn_t *conn, uint8_t type, uint16_t pid, uint8_t rc, const char *reason);
int mqtt__send_suback(mqtt_conn_t *conn, uint8_t type, uint16_t pid, const uint8_t *rcs, size_t n);
int mqtt__send_pingresp(mqtt_conn_t *conn);
int mqtt__send_disconnect(mqtt_conn_t *conn, uint8_t rc, const char *reason);
/* AUTH (v5): reason code with the connection's method and data as properties. */
int mqtt__send_auth(mqtt_conn_t *conn, uint8_t rc, gn_bytes_t data);
/* Sends msg to the session (QoS, alias, expiry, subscription ids); false when it was
 * not sent for want of credit (QoS > 0) — the caller leaves the cursor lagging. */
bool mqtt__send_publish(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos, bool retain,
                        const uint32_t *sub_ids, size_t nids);
/* As mqtt__send_publish, sharing the encoded packet through cache (a fan-out's) with
 * the other subscribers that get the same bytes; cache NULL: no sharing. */
bool mqtt__send_publish_shared(mqtt_session_t *sess, const mqtt_msg_t *msg, uint8_t qos,
                               bool retain, const uint32_t *sub_ids, size_t nids,
                               mqtt_enc_cache_t *cache);
/* Releases the packets of a fan-out's cache. */
void mqtt__enc_cache_clear(mqtt_enc_cache_t *cache);
/* Queues pkt on conn with packet id pid (and DUP). 0 or < 0 as mqtt__conn_send. */
int mqtt__send_pkt(mqtt_conn_t *conn, const mqtt_pkt_t *pkt, uint16_t pid, bool dup);
void mqtt__pkt_unref(mqtt_pkt_t *pkt);

/* inflight.c: outbound QoS 1/2 awaiting acknowledgement, found by packet id in O(1) */
mqtt_inflight_t *mqtt__inflight_find(mqtt_session_t *sess, uint16_t pid);
/* A taken slot with its packet id set (the caller sets state); NULL when out of memory
 * or the table is at MQTT_MAX_INFLIGHT. */
mqtt_inflight_t *mqtt__inflight_add(mqtt_session_t *sess);
/* The entry of packet id pid, taken (a session restored with it in flight; the caller
 * sets state); NULL when pid is out of the table's range, taken, or out of memory. */
mqtt_inflight_t *mqtt__inflight_take(mqtt_session_t *sess, uint16_t pid);
void mqtt__inflight_drop(mqtt_session_t *sess, mqtt_inflight_t *f);
void mqtt__inflight_free_all(mqtt_session_t *sess);

/* session.c */
mqtt_session_t *mqtt__session_find(mqtt_server_t *srv, const char *client_id);
mqtt_session_t *mqtt__session_new(mqtt_server_t *srv, const char *client_id);
/* Removes subscriptions, cursors, state; frees. */
void mqtt__session_free(mqtt_session_t *sess);
void mqtt__session_went_offline(mqtt_session_t *sess);
/* Reconnected (or restored): resend inflight, catch up from cursors. */
void mqtt__session_resume(mqtt_session_t *sess);
mqtt_cursor_t *mqtt__cursor_get(mqtt_session_t *sess, const char *topic, int32_t partition,
                                int64_t start, bool create);
/* Reads lagging cursors from the log while the session has credit. */
void mqtt__session_catch_up(mqtt_session_t *sess);
/* Catch up at the end of this loop turn (once, however many acks came in). */
void mqtt__session_catch_up_later(mqtt_session_t *sess);
bool mqtt__session_has_credit(const mqtt_session_t *sess);
/* qos2_in entries: the packet id, and flags */
#define MQTT_QOS2_PENDING  0x10000u /* the append is in flight */
#define MQTT_QOS2_UNSAVED  0x20000u /* appended; PUBREC waits for the session's save */
#define MQTT_QOS2_SAVING   0x40000u /* ... which is in flight */
#define MQTT_QOS2_RESTORED 0x80000u /* from __mqtt_sessions (another connection's) */
#define MQTT_QOS2_WAITING  (MQTT_QOS2_PENDING | MQTT_QOS2_UNSAVED | MQTT_QOS2_SAVING)
uint32_t *mqtt__qos2_find(mqtt_session_t *sess, uint16_t pid);
void mqtt__qos2_remove(mqtt_session_t *sess, uint16_t pid);
/* The SUBSCRIBE rules for one filter: a valid topic filter, or $share/G/filter with a
 * non-empty G free of '+' and '#' and a valid filter. */
bool mqtt__sub_filter_ok(gn_bytes_t f);
int mqtt__session_subscribe(mqtt_session_t *sess, const mqtt_sub_entry_t *e, uint32_t sub_id,
                            bool *existed);
bool mqtt__session_unsubscribe(mqtt_session_t *sess, gn_bytes_t filter);
void mqtt__session_will_free(mqtt_session_t *sess);
void mqtt__session_will_publish(mqtt_session_t *sess);
/* Arms the expiry (and will-delay) timer of an offline session. */
void mqtt__session_arm_timer(mqtt_session_t *sess);

/* session_sync.c: the QoS 2 state of persistent sessions saved promptly */
/* The session's QoS 2 state changed: it is saved at the end of this loop turn. */
void mqtt__session_sync_later(mqtt_session_t *sess);
/* End of the loop turn: saves the queued sessions (PUBRECs waiting for it go out once
 * the record is in __mqtt_sessions). */
void mqtt__sessions_sync(mqtt_server_t *srv);
/* The session leaves srv->syncs (freed). */
void mqtt__session_sync_cancel(mqtt_session_t *sess);
/* True when a PUBREC of this session waits for its state to be saved (persistent, and
 * __mqtt_sessions exists). */
bool mqtt__session_sync_gates(const mqtt_session_t *sess);

/* session_store.c: __mqtt_sessions records. Value: the session's state as JSON
 * (NULL: a tombstone); header "mqtt.session": who owns it and why it was written. */
typedef enum mqtt_rec_kind {
    MQTT_REC_STATE = 0,   /* the owner's state (saved, checkpoint, gone offline) */
    MQTT_REC_CLAIM = 1,   /* a broker takes the session for a CONNECT */
    MQTT_REC_RELEASE = 2, /* the previous owner's final state, for the claimer */
    MQTT_REC_ADOPT = 3,   /* a session left online on a lost broker, taken over offline */
} mqtt_rec_kind_t;

typedef struct mqtt_session_rec {
    const char *client_id;
    gn_bytes_t value; /* ptr NULL: tombstone */
    int32_t owner;    /* -1: written before ownership existed */
    uint32_t gen;
    mqtt_rec_kind_t kind;
    bool online; /* the owner has it connected */
    bool clean;  /* a claim for a clean start: no state goes on */
} mqtt_session_rec_t;

/* Writes a record for client_id: sess's state (NULL: an empty session of the given
 * expiry, with will when not NULL). cb (may be NULL) gets the produce result; 0 or < 0
 * (cb will not run). */
int mqtt__session_write(mqtt_server_t *srv, const char *client_id, const mqtt_session_t *sess,
                        uint32_t expiry, const mqtt_will_t *will, const mqtt_session_rec_t *meta,
                        gn_produce_cb cb, void *arg);
/* The adopt record of a session left online on a lost broker: offline since now, its
 * will due after its delay; generation sess->gen + 1, owner this broker. */
int mqtt__session_write_adopt(mqtt_session_t *sess, int64_t now);
/* The owner's state record (sess->owner, sess->gen). */
void mqtt__session_save(mqtt_session_t *sess);
/* A tombstone: the session (of sess->owner at sess->gen) ended. */
void mqtt__session_forget(mqtt_session_t *sess);
/* The same for a session this broker does not hold. */
void mqtt__session_forget_id(mqtt_server_t *srv, const char *client_id, int32_t owner,
                             uint32_t gen);
/* Replaces the session client_id (if any) by the one in rec's JSON. NULL when unreadable. */
mqtt_session_t *mqtt__session_restore(mqtt_server_t *srv, const mqtt_session_rec_t *rec);
/* Reads __mqtt_sessions from its start (broker start). */
int mqtt__sessions_load(mqtt_server_t *srv);
/* Appended (or replicated) records of __mqtt_sessions, applied in log order. */
void mqtt__sessions_apply(mqtt_server_t *srv, gn_partition_t *part, int64_t base, int64_t last);

/* session_owner.c: one owner per session across the brokers of a cluster */
/* One record of __mqtt_sessions, in log order; loading: at broker start. */
void mqtt__owner_apply(mqtt_server_t *srv, const mqtt_session_rec_t *rec, bool loading);
/* After a load or a batch of applied records: CONNECTs whose claim is settled go on. */
void mqtt__claims_run(mqtt_server_t *srv);
/* CONNECT accepted by authentication: claims the session, answers when settled. Takes c;
 * 0, or -1 when the connection was closed. */
int mqtt__claim_start(mqtt_conn_t *conn, mqtt_connect_t *c, const mqtt_wbuf_t *extra);
/* The connection closes: its waiting CONNECT is dropped. */
void mqtt__claim_cancel(mqtt_conn_t *conn);
/* Every second: claims past their time, live brokers (expiry moves to another broker
 * when an owner dies), checkpoints of online persistent sessions. */
void mqtt__owner_sweep(mqtt_server_t *srv);
/* This broker runs the session's expiry and delayed will: its owner, or the lowest live
 * broker when the owner is not live. */
bool mqtt__session_acting(const mqtt_session_t *sess);
/* What the sweep knows of a session whose record says online but that no connection of
 * this broker holds, when it decides whether to write an adopt record for it. */
typedef struct {
    bool owner_is_self;          /* owned by this broker's previous run */
    bool owner_live;             /* its owner is a live broker */
    bool self_lowest_live;       /* this broker is the lowest live one */
    bool owner_stopping;         /* its owner was fenced in a controlled shutdown */
    int64_t owner_gone_ms;       /* how long its owner has not been live */
    int64_t shutdown_timeout_ms; /* controlled.shutdown.timeout.ms */
    int64_t since_adopt_ms;      /* since this broker's last adopt record of it; <0 none */
    bool claim_pending;          /* its client is connecting to this broker */
} mqtt_adopt_facts_t;
/* Whether this broker adopts it now (pure; tests/unit/mqtt/test_adopt.c). */
bool mqtt__should_adopt(const mqtt_adopt_facts_t *f);
void mqtt__claims_free(mqtt_server_t *srv);

/* share.c: $share/G/... sessions as members of consumer group G */
/* Joins, rejoins or leaves the groups of the session's shared subscriptions: online
 * sessions are members, offline ones are not. Call after the subscriptions or the
 * connection changed. */
void mqtt__share_sync(mqtt_session_t *sess);
/* Commits and leaves every group of the session (it is being freed). */
void mqtt__share_drop(mqtt_session_t *sess);
/* True when group's member for sess is assigned (topic, partition), position known. */
bool mqtt__share_owns(mqtt_session_t *sess, const char *group, const char *topic,
                      int32_t partition);

/* trie.c */
mqtt_trie_t *mqtt__trie_new(void);
void mqtt__trie_free(mqtt_trie_t *t);
int mqtt__trie_add(mqtt_trie_t *t, mqtt_sub_t *sub);
void mqtt__trie_remove(mqtt_trie_t *t, mqtt_sub_t *sub);
typedef void (*mqtt_match_cb)(void *arg, mqtt_sub_t *sub);
/* Calls cb for every subscription matching topic, shared ones included: which member
 * of a shared group gets a record is decided by partition assignment (share.c). */
void mqtt__trie_match(mqtt_trie_t *t, gn_bytes_t topic, mqtt_match_cb cb, void *arg);
/* True when some subscription could match MQTT topics under log topic first level. */
bool mqtt__trie_may_match_first(mqtt_trie_t *t, const char *first);
bool mqtt__filter_matches(const char *filter, gn_bytes_t topic);

/* mapping.c: MQTT topic <-> log topic and key; headers */
/* Splits "T/rest": log topic T (NUL-terminated into buf) and key rest (NULL ptr when
 * single level). GN_EINVALID_TOPIC when T is not a valid, non-internal log topic. */
int mqtt__map_topic(gn_bytes_t mqtt_topic, char *buf, size_t cap, gn_bytes_t *key);
/* Fills msg meta fields (qos, retain, expiry) from the headers. */
void mqtt__msg_parse_headers(mqtt_msg_t *msg);
/* Writes v5 properties for msg's headers (user properties and mqtt.* ones) into w. */
void mqtt__msg_props(const mqtt_msg_t *msg, mqtt_wbuf_t *w, int64_t now_ms);
/* Builds record headers from a PUBLISH's properties (v5) plus mqtt.qos/retain: into buf
 * when buf_cap is enough, else into a malloc'd array (*out != buf: the caller frees). */
int mqtt__headers_from_props(const mqtt_props_t *props, uint8_t qos, bool retain,
                             gn_record_header_t **out, size_t *count, char *scratch,
                             size_t scratch_cap, gn_record_header_t *buf, size_t buf_cap);

/* publish.c: into the log */
/* Appends one MQTT message to its log topic (and to __mqtt_retained when retain).
 * acks per QoS; cb (may be NULL) runs once unless the call fails. */
int mqtt__publish(mqtt_server_t *srv, uint64_t origin, gn_bytes_t topic, gn_bytes_t payload,
                  const mqtt_props_t *props, uint8_t qos, bool retain, mqtt_publish_cb cb,
                  void *arg);
/* As mqtt__publish for a message without retain, but it joins its partition's pending
 * batch, appended at the end of the loop turn (mqtt__publish_flush): many PUBLISH
 * packets, one gn_produce per partition. cb (arg, tag) runs once whenever this
 * returns 0; the message is copied. */
int mqtt__publish_batched(mqtt_server_t *srv, uint64_t origin, gn_bytes_t topic, gn_bytes_t payload,
                          const mqtt_props_t *props, uint8_t qos, mqtt_batch_cb cb, void *arg,
                          uint32_t tag);
/* Appends every pending batch (end of the loop turn, stop). */
void mqtt__publish_flush(mqtt_server_t *srv);
void mqtt__publish_free(mqtt_server_t *srv);

/* delivery.c: fan-out at append time */
void mqtt__on_append(void *arg, gn_partition_t *part, int64_t base, int64_t last);
/* Delivers to one session with cursor bookkeeping (live or catch-up). */
void mqtt__deliver_record(mqtt_session_t *sess, mqtt_msg_t *msg, uint8_t qos, bool rap,
                          const uint32_t *ids, size_t nids, mqtt_enc_cache_t *cache);
/* Matches msg against the trie and sends it to every matching online session. */
void mqtt__fanout(mqtt_server_t *srv, mqtt_msg_t *msg);
/* A record of part as a message (topic T/key into *buf, grown as needed). */
int mqtt__msg_from_record(mqtt_server_t *srv, gn_partition_t *part, const gn_record_t *rec,
                          char **buf, size_t *cap, mqtt_msg_t *msg);
/* The MQTT publisher's session serial of msg (no-local), 0 unknown. */
uint64_t mqtt__msg_origin(mqtt_server_t *srv, mqtt_msg_t *msg);
typedef int (*mqtt_record_cb)(void *arg, const gn_record_t *rec);
/* Iterates records of part from offset to end (exclusive), at most max_bytes read;
 * *next gets where to continue. cb returning < 0 stops early (at that record). */
int mqtt__log_scan(mqtt_server_t *srv, gn_partition_t *part, int64_t offset, int64_t end,
                   size_t max_bytes, mqtt_record_cb cb, void *arg, int64_t *next);

/* Walks the whole batches in buf from *next to end (exclusive), moving *next: 0 at the
 * end of buf, 1 when cb stopped (at *next), < 0 on corrupt bytes. */
int mqtt__walk_batches(const uint8_t *buf, size_t len, int64_t *next, int64_t end,
                       mqtt_record_cb cb, void *arg);

/* recent.c: batches appended this turn, kept for the append observer */
/* Keeps a copy of a batch just appended to part (base..last, offsets assigned). */
void mqtt__recent_add(mqtt_server_t *srv, const gn_partition_t *part, int64_t base, int64_t last,
                      const uint8_t *bytes, size_t len);
/* The kept batch of part starting at offset: true and *bytes; else false and *upto the
 * base of the next kept batch of part (INT64_MAX none). */
bool mqtt__recent_find(mqtt_server_t *srv, const gn_partition_t *part, int64_t offset,
                       gn_bytes_t *bytes, int64_t *upto);
/* The append observer delivered part up to last: its kept batches are done. */
void mqtt__recent_delivered(mqtt_server_t *srv, const gn_partition_t *part, int64_t last);
/* End of a loop turn: drops what the previous turn kept and nobody delivered. */
void mqtt__recent_turn_end(mqtt_server_t *srv);
void mqtt__recent_free(mqtt_server_t *srv);

/* retained.c */
int mqtt__retained_load(mqtt_server_t *srv);
/* Appended records of __mqtt_retained (offsets base..last) applied to the table. */
void mqtt__retained_apply(mqtt_server_t *srv, gn_partition_t *part, int64_t base, int64_t last);
void mqtt__retained_set(mqtt_server_t *srv, gn_bytes_t topic, gn_bytes_t payload,
                        const uint8_t *headers, size_t headers_len, int32_t headers_count,
                        int64_t ts, bool sys);
void mqtt__retained_send(mqtt_session_t *sess, const mqtt_sub_t *sub);
void mqtt__retained_free_all(mqtt_server_t *srv);

/* sys.c */
void mqtt__sys_start(mqtt_server_t *srv);
void mqtt__sys_publish(mqtt_server_t *srv);

#endif
