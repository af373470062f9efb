/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket JSON protocol's internal types: a session per WebSocket (on a
 * gn_transport_t of kind "ws" the HTTP adapter provides), its subscriptions, and the
 * decoded client messages. Shared by the files of adapters/ws only. Loop thread only
 * (decode.c and codec.c are pure). */
#ifndef GN_WS_H
#define GN_WS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/acl.h"
#include "ganglion/broker.h"
#include "ganglion/bytes.h"
#include "ganglion/group.h"
#include "ganglion/partition.h"
#include "ganglion/record.h"
#include "ganglion/topic.h"
#include "ganglion/transport.h"

#define WS_MOD            "ws"
#define WS_MAX_SUBS       64
#define WS_MAX_PARTITIONS 1024
#define WS_MAX_HEADERS    64
#define WS_QUEUE_HIGH     (1u << 20)   /* stop reading the log above this many queued bytes */
#define WS_QUEUE_LOW      (256u << 10) /* ... and resume below this */
#define WS_READ_BYTES     (256u << 10)
#define WS_MAX_INFLIGHT   1024 /* produce requests awaiting their ack */

/* ---- decoded client messages (decode.c) -------------------------------------- */
typedef enum ws_msg_type {
    WS_MSG_SUBSCRIBE = 1,
    WS_MSG_UNSUBSCRIBE,
    WS_MSG_PRODUCE,
    WS_MSG_COMMIT,
    WS_MSG_PING,
} ws_msg_type_t;

typedef enum ws_from_kind {
    WS_FROM_LATEST = 0,
    WS_FROM_EARLIEST,
    WS_FROM_OFFSET,
    WS_FROM_TIMESTAMP,
    WS_FROM_COMMITTED, /* with a group: the group's committed offsets (default) */
} ws_from_kind_t;

typedef struct ws_msg {
    ws_msg_type_t type;
    json_t *id; /* borrowed from root: echoed in answers, any JSON value, or NULL */
    const char *topic;
    const char *group;
    int32_t partitions[WS_MAX_PARTITIONS];
    size_t partitions_count; /* 0: all */
    int32_t partition;       /* produce/commit: -1 not given */
    ws_from_kind_t from;
    int64_t from_value; /* offset or timestamp */
    int64_t offset;     /* commit */
    gn_bytes_t key, value;
    gn_record_header_t headers[WS_MAX_HEADERS];
    size_t headers_count;
    /* storage the views above point into */
    json_t *root;
    uint8_t *arena;
} ws_msg_t;

/* 0, or -1 with a machine code ("bad_json", "invalid_request" ...) and a sentence. */
int ws_msg_decode(const char *text, size_t len, ws_msg_t *msg, const char **code, char *err,
                  size_t err_cap);
void ws_msg_free(ws_msg_t *msg);

/* ---- codec helpers (codec.c) ------------------------------------------------- */
json_t *ws_record_json(const char *topic, int32_t partition, const gn_record_t *rec);

/* ---- chunks (chunk.c): record messages framed once, shared by reference ---------- */
typedef struct ws_chunk {
    int refs;       /* the builder's, plus one per transport queue holding it */
    int64_t first;  /* offset the chunk starts at */
    int64_t next;   /* offset after the last batch it covers */
    size_t records; /* messages in data */
    size_t len, cap;
    uint8_t *data; /* whole unmasked text frames, back to back */
} ws_chunk_t;

ws_chunk_t *ws_chunk_new(int64_t first); /* refs 1; NULL on ENOMEM */
void ws_chunk_ref(ws_chunk_t *c);
void ws_chunk_unref(ws_chunk_t *c); /* NULL: no-op */
/* Appends j as one framed message (borrowed). 0 or GN_ENOMEM/GN_EINVAL. */
int ws_chunk_add_json(ws_chunk_t *c, json_t *j);
int ws_chunk_add_record(ws_chunk_t *c, const char *topic, int32_t partition,
                        const gn_record_t *rec);
/* Appends the records of whole batches in buf at offsets >= c->next and below hw
 * (control batches skipped), advancing c->next past each batch; bytes consumed. */
size_t ws_chunk_add_batches(ws_chunk_t *c, const char *topic, int32_t partition, const uint8_t *buf,
                            size_t len, int64_t hw);
/* Reads up to max_bytes of batches at from once and builds a chunk (*out, refs 1), or
 * *out NULL when nothing is below the high watermark. 0 or gn_partition_read's error. */
int ws_chunk_read(gn_partition_t *part, const char *topic, int32_t partition, int64_t from,
                  size_t max_bytes, ws_chunk_t **out);
/* Queues the chunk on tr by reference (write_shared; a ref until written). 0 or -errno. */
int ws_chunk_send(ws_chunk_t *c, gn_transport_t *tr);

/* ---- the hub (feed.c): live tails shared by the sessions of one route ------------- */
typedef struct ws_feed ws_feed_t;
typedef struct ws_hub {
    gn_broker_t *broker;
    ws_feed_t *feeds;
    size_t nfeeds;
    struct {
        uint64_t chunks, records; /* built by feeds: each read, decoded and framed once */
        uint64_t shared_sends;    /* chunk references queued on members */
        uint64_t paused;          /* members that left a feed (queue full) */
    } stats;
} ws_hub_t;

int ws_hub_new(gn_broker_t *broker, void **state); /* gn_stream_protocol_t.state_new */
void ws_hub_free(void *state);                     /* after every session closed */

/* ---- sessions (session.c, subscribe.c, produce.c) ---------------------------- */
typedef struct ws_session ws_session_t;

typedef struct ws_part {
    int32_t partition;
    int64_t next; /* the next offset to send, or WS_LATEST_PENDING */
    gn_watch_t watch;
    struct ws_sub *sub;
    ws_feed_t *feed; /* the live tail it follows, or NULL (catching up alone) */
    size_t feed_idx;
} ws_part_t;

typedef struct ws_sub {
    ws_session_t *sess;
    char topic[GN_TOPIC_NAME_MAX + 1];
    ws_part_t *parts;
    size_t nparts;
    gn_group_member_t *member; /* with a group */
    char group[256];
    ws_from_kind_t from;
    int64_t from_value;
    int fetch_pending; /* committed-offset lookups in flight */
    bool active;
} ws_sub_t;

struct ws_session {
    gn_broker_t *broker;
    ws_hub_t *hub; /* the route's state; NULL: every subscription reads alone */
    gn_transport_t *tr;
    ws_sub_t *subs[WS_MAX_SUBS];
    size_t nsubs;
    int inflight;                         /* produces awaiting their ack */
    int refs;                             /* async operations holding the session after close */
    char principal[GN_ACL_PRINCIPAL_MAX]; /* the transport's (http.auth), for the ACLs */
    char host[64];                        /* the client's IP address */
    bool closed;
    bool pumping;
};

void ws_send_json(ws_session_t *sess, json_t *j); /* steals j */
/* A write of the session's finished: resumes the pump below WS_QUEUE_LOW. */
void ws__on_written(gn_transport_t *tr);
void ws_send_error(ws_session_t *sess, json_t *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ws_session_unref(ws_session_t *sess);
/* May the session's principal perform op on the resource? Otherwise an error message
 * "not_authorized" answers request id (the authorizer logs the refusal). */
bool ws_authorize(ws_session_t *sess, json_t *id, gn_acl_op_t op, gn_acl_resource_type_t type,
                  const char *name);
const char *ws_err_code(int err);

void ws_handle_subscribe(ws_session_t *sess, ws_msg_t *msg);
void ws_handle_unsubscribe(ws_session_t *sess, ws_msg_t *msg);
void ws_handle_produce(ws_session_t *sess, ws_msg_t *msg);
void ws_handle_commit(ws_session_t *sess, ws_msg_t *msg);
void ws_sub_free(ws_sub_t *sub);
/* Delivers records while the transport's queue is below WS_QUEUE_HIGH. */
void ws_pump(ws_session_t *sess);
/* `latest` on a remote copy that has not heard from the leader yet (gn_partition_latest):
 * resolved when the partition's watch runs. */
#define WS_LATEST_PENDING (-1)
/* Arms the partition's own watch at wp->next (a subscription outside any feed). */
void ws__part_watch(ws_part_t *wp, gn_partition_t *part);
/* Joins the feed of wp's topic-partition when wp->next is where the feed is (a caught-up
 * subscription); true when it is a member. Leave: rearm arms wp's own watch. */
bool ws_feed_join(ws_hub_t *hub, ws_part_t *wp, gn_partition_t *part);
void ws_feed_leave(ws_part_t *wp, bool rearm);

#endif
