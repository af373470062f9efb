/* SPDX-License-Identifier: Apache-2.0 */
/* Live tails shared by sessions (the hub, the protocol's state off the HTTP route): one
 * feed per topic-partition that caught-up subscriptions follow together. A feed has one
 * gn_watch; when the high watermark passes it, it reads the new batches once, builds one
 * chunk (records serialized and framed once) and queues that chunk by reference on every
 * member. A member whose transport queue is at WS_QUEUE_HIGH leaves the feed, paused at
 * its log position, and catches up alone (subscribe.c) until it is live again. Loop
 * thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ws.h"

struct ws_feed {
    ws_feed_t *next_feed;
    ws_hub_t *hub;
    char topic[GN_TOPIC_NAME_MAX + 1];
    int32_t partition;
    int64_t pos; /* offset every member is at: the next record they need */
    gn_watch_t watch;
    ws_part_t **members;
    size_t nmembers, cap;
    bool delivering; /* members may leave meanwhile; the feed is freed afterwards */
};

int ws_hub_new(gn_broker_t *broker, void **state)
{
    ws_hub_t *hub = calloc(1, sizeof *hub);
    if (!hub) return GN_ENOMEM;
    hub->broker = broker;
    *state = hub;
    return 0;
}

static void feed_free(ws_feed_t *feed)
{
    ws_feed_t **pp = &feed->hub->feeds;
    while (*pp && *pp != feed)
        pp = &(*pp)->next_feed;
    if (*pp) *pp = feed->next_feed;
    feed->hub->nfeeds--;
    gn_watch_cancel(&feed->watch);
    free(feed->members);
    free(feed);
}

void ws_hub_free(void *state)
{
    ws_hub_t *hub = state;
    if (!hub) return;
    while (hub->feeds) { /* sessions are gone: no members left, only cleanup */
        ws_feed_t *feed = hub->feeds;
        for (size_t i = 0; i < feed->nmembers; i++)
            feed->members[i]->feed = NULL;
        feed->nmembers = 0;
        feed_free(feed);
    }
    free(hub);
}

static void on_part_watch_rearm(ws_part_t *wp)
{
    gn_partition_t *part = gn_partition_get(wp->sub->sess->broker, wp->sub->topic, wp->partition);
    if (part) ws__part_watch(wp, part);
}

void ws_feed_leave(ws_part_t *wp, bool rearm)
{
    ws_feed_t *feed = wp->feed;
    if (!feed) return;
    size_t i = wp->feed_idx;
    feed->members[i] = feed->members[--feed->nmembers];
    feed->members[i]->feed_idx = i;
    wp->feed = NULL;
    if (rearm) on_part_watch_rearm(wp); /* alone from here on: its own watch */
    if (feed->nmembers == 0 && !feed->delivering) feed_free(feed);
}

static void on_feed_watch(gn_watch_t *w, int status);

static void feed_arm(ws_feed_t *feed)
{
    gn_partition_t *part = gn_partition_get(feed->hub->broker, feed->topic, feed->partition);
    if (part) gn_partition_watch(part, &feed->watch, feed->pos, on_feed_watch);
}

/* One chunk to every member at its start; a member whose queue is full leaves. */
static void deliver(ws_feed_t *feed, ws_chunk_t *c)
{
    for (size_t i = feed->nmembers; i-- > 0;) {
        ws_part_t *wp = feed->members[i];
        gn_transport_t *tr = wp->sub->sess->tr;
        if (wp->next != c->first || wp->sub->sess->closed ||
            tr->ops->write_queue_size(tr) >= WS_QUEUE_HIGH || ws_chunk_send(c, tr) < 0) {
            feed->hub->stats.paused++;
            GN_DEBUG(WS_MOD, "subscriber leaves the live tail | topic=%s partition=%d offset=%lld",
                     feed->topic, (int)feed->partition, (long long)wp->next);
            ws_feed_leave(wp, true);
            continue;
        }
        wp->next = c->next;
        feed->hub->stats.shared_sends++;
    }
}

static void on_feed_watch(gn_watch_t *w, int status)
{
    ws_feed_t *feed = w->data;
    if (status < 0) { /* the partition went away: each member hears it once */
        feed->delivering = true;
        while (feed->nmembers) {
            ws_part_t *wp = feed->members[feed->nmembers - 1];
            ws_feed_leave(wp, false);
            ws_send_error(wp->sub->sess, NULL, "topic_gone", "Topic %s went away", feed->topic);
        }
        feed_free(feed);
        return;
    }
    gn_partition_t *part = gn_partition_get(feed->hub->broker, feed->topic, feed->partition);
    feed->delivering = true;
    for (int rounds = 0; part && rounds < 16 && feed->nmembers; rounds++) {
        if (feed->pos >= gn_partition_high_watermark(part)) break;
        ws_chunk_t *c = NULL;
        int rc = ws_chunk_read(part, feed->topic, feed->partition, feed->pos, WS_READ_BYTES, &c);
        if (rc == GN_EOFFSETRANGE) { /* retention passed the tail: members go alone */
            while (feed->nmembers)
                ws_feed_leave(feed->members[feed->nmembers - 1], true);
            break;
        }
        if (rc < 0 || !c) break;
        feed->hub->stats.chunks++;
        feed->hub->stats.records += c->records;
        deliver(feed, c);
        feed->pos = c->next;
        ws_chunk_unref(c);
    }
    feed->delivering = false;
    if (feed->nmembers == 0)
        feed_free(feed);
    else
        feed_arm(feed);
}

bool ws_feed_join(ws_hub_t *hub, ws_part_t *wp, gn_partition_t *part)
{
    if (!hub || wp->feed) return wp->feed != NULL;
    const char *topic = wp->sub->topic;
    ws_feed_t *feed = hub->feeds;
    while (feed && (feed->partition != wp->partition || strcmp(feed->topic, topic) != 0))
        feed = feed->next_feed;
    if (feed && (feed->pos != wp->next || feed->delivering)) return false;
    bool fresh = !feed;
    if (fresh) {
        feed = calloc(1, sizeof *feed);
        if (!feed) return false;
        feed->hub = hub;
        snprintf(feed->topic, sizeof feed->topic, "%s", topic);
        feed->partition = wp->partition;
        feed->pos = wp->next;
        feed->watch.data = feed;
    }
    if (feed->nmembers == feed->cap) {
        size_t cap = feed->cap ? feed->cap * 2 : 16;
        ws_part_t **m = realloc(feed->members, cap * sizeof *m);
        if (!m) {
            if (fresh) free(feed);
            return false;
        }
        feed->members = m;
        feed->cap = cap;
    }
    if (fresh) {
        feed->next_feed = hub->feeds;
        hub->feeds = feed;
        hub->nfeeds++;
        gn_partition_watch(part, &feed->watch, feed->pos, on_feed_watch);
    }
    gn_watch_cancel(&wp->watch);
    wp->feed = feed;
    wp->feed_idx = feed->nmembers;
    feed->members[feed->nmembers++] = wp;
    return true;
}
