/* SPDX-License-Identifier: Apache-2.0 */
/* REST Proxy v2 consumer instances: one per (group, name), a server-side member of its
 * group (group.h) when subscribed, its assigned partitions with their positions, and a
 * records long-poll. Settings and subscription persist in the compacted topic
 * __rest_consumers, committed offsets in __consumer_offsets, so an instance survives a
 * restart (consumer.c, consumer_store.c, consumer_records.c). Loop thread only. */
#ifndef GN_HTTP_CONSUMER_H
#define GN_HTTP_CONSUMER_H

#include "ganglion/group.h"
#include "ganglion/topic.h"
#include "http.h"
#include "rest_decode.h"

#define HTTP_CONSUMERS_TOPIC      "__rest_consumers"
#define HTTP_CONSUMER_NAME_MAX    200
#define HTTP_CONSUMER_MAX         10000 /* instances per broker: 42902 above */
#define HTTP_CONSUMER_MAX_TOPICS  256
#define HTTP_CONSUMER_MAX_PARTS   4096
#define HTTP_CONSUMER_IDLE_MS     300000      /* consumer.instance.timeout.ms */
#define HTTP_CONSUMER_TICK_MS     50          /* long-poll deadlines, join retries, expiry */
#define HTTP_CONSUMER_MAX_BYTES   (64L << 20) /* consumer.request.max.bytes */
#define HTTP_CONSUMER_MAX_TIMEOUT 300000
#define HTTP_CONSUMER_READ_BYTES  (256u << 10) /* log bytes per partition read */

typedef struct http_consumer http_consumer_t;

typedef struct http_cpart {
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
    int64_t position; /* next offset to return; -1 until resolved, or LATEST_PENDING */
    int64_t consumed; /* next offset after the last record returned; -1 none */
    gn_watch_t watch; /* armed while a records request waits */
    http_consumer_t *c;
} http_cpart_t;

typedef struct http_poll {
    http_req_t *req;
    uint64_t deadline_ms;
    long max_bytes;
} http_poll_t;

struct http_consumer {
    http_server_t *srv;
    http_consumer_t *next;
    char group[HTTP_CONSUMER_NAME_MAX + 56];
    char name[HTTP_CONSUMER_NAME_MAX + 1];
    /* settings (POST /consumers/{g}) */
    http_rest_format_t format;
    bool earliest;    /* auto.offset.reset */
    bool auto_commit; /* auto.commit.enable */
    int32_t fetch_min_bytes;
    int32_t request_timeout_ms;
    /* subscription xor manual assignment */
    char **topics;
    size_t ntopics;
    char *pattern;
    bool manual;
    gn_group_member_t *member;
    bool join_pending; /* subscribed but not joined yet (coordinator loading) */
    /* assignment */
    http_cpart_t *parts;
    size_t nparts;
    uint32_t assign_epoch; /* bumped on every assignment: stale lookups are dropped */
    int resolving;         /* committed-offset lookups in flight */
    http_poll_t *poll;     /* the records request waiting, or NULL */
    size_t rr;             /* partition read first by the next records request */
    uint64_t last_used_ms;
    int refs; /* async operations that point here */
    bool deleted;
};

typedef struct http_consumers {
    http_server_t *srv;
    http_consumer_t *list;
    size_t count;
    uv_timer_t tick;
    bool tick_open, tick_running;
} http_consumers_t;

/* Registry (consumer.c). */
int http__consumers_start(http_server_t *srv); /* restores __rest_consumers */
void http__consumers_stop(http_server_t *srv);
http_consumer_t *http__consumer_find(http_server_t *srv, const char *group, const char *name);
http_consumer_t *http__consumer_new(http_server_t *srv, const char *group, const char *name);
/* Deletes: leaves the group, answers its waiting poll, frees once no op points here.
 * forget: also writes the tombstone. */
void http__consumer_delete(http_consumer_t *c, bool forget);
void http__consumer_unref(http_consumer_t *c);
/* Subscription (topics or pattern already set on c): joins the group. 0 or gn error. */
int http__consumer_subscribe(http_consumer_t *c);
void http__consumer_unsubscribe(http_consumer_t *c);
/* Manual assignment: replaces parts, positions from committed offsets / reset. */
int http__consumer_assign(http_consumer_t *c, const gn_topic_partition_t *tps, size_t n);
/* Sets c->topics to the topics c->pattern fully matches (POSIX ERE, as Java's
 * Pattern.matches for the usual patterns). Count, or GN_EINVAL for a bad pattern. */
int http__consumer_resolve_pattern(http_consumer_t *c);
/* Looks up committed offsets for parts whose position is unknown. */
void http__consumer_resolve_positions(http_consumer_t *c);
http_cpart_t *http__consumer_part(http_consumer_t *c, const char *topic, int32_t partition);
/* `latest` on a remote copy that has not heard from the leader yet (gn_partition_latest):
 * the next poll resolves it, woken by the partition's watch. */
#define HTTP_POSITION_LATEST_PENDING (-2)
/* The position a reset gives (auto.offset.reset), or beginning/end when forced (end may
 * be HTTP_POSITION_LATEST_PENDING). */
int64_t http__consumer_reset_offset(http_consumer_t *c, const char *topic, int32_t partition,
                                    int which /* 0 policy, 1 beginning, 2 end */);
/* Commits offsets (next offsets to read) through the member or as a simple commit;
 * cb as gn_group_commit (may be NULL). */
int http__consumer_commit(http_consumer_t *c, const gn_group_offset_t *offs, size_t n,
                          gn_group_commit_cb cb, void *arg);
void http__consumers_tick_start(http_server_t *srv);

/* Persistence (consumer_store.c). cb(arg, status) after the record is durable; NULL ok. */
typedef void (*http_consumer_saved_cb)(void *arg, int status);
int http__consumer_save(http_consumer_t *c, http_consumer_saved_cb cb, void *arg);
int http__consumer_forget(http_server_t *srv, const char *group, const char *name);
int http__consumers_load(http_server_t *srv);
/* One record of __rest_consumers applied to the registry, as the load does (a tombstone
 * deletes; a record that does not parse is skipped). */
void http__consumer_restore(http_server_t *srv, gn_bytes_t key, gn_bytes_t value);

/* Records (consumer_records.c). */
int http__consumer_poll_start(http_consumer_t *c, http_req_t *req, long timeout_ms, long max_bytes);
/* Tries the waiting poll again; timed_out answers with whatever there is. */
void http__consumer_poll_try(http_consumer_t *c, bool timed_out);
void http__consumer_poll_abort(http_consumer_t *c);
void http__consumer_watches_cancel(http_consumer_t *c);

#endif
