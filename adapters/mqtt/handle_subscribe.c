/* SPDX-License-Identifier: Apache-2.0 */
/* SUBSCRIBE: checks each filter ($share/G/filter for shared subscriptions), adds it to
 * the session and the topic-filter trie, answers SUBACK with the granted QoS or a
 * failure per filter, then sends retained messages as retain handling says (never for
 * shared subscriptions). A persistent session is saved. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "mqtt.h"

#define SUBS_PER_PACKET 128

int mqtt__handle_subscribe(mqtt_conn_t *conn, const mqtt_packet_t *pkt)
{
    mqtt_session_t *sess = conn->session;
    bool v5 = conn->version == MQTT_V5;
    uint8_t rcs[SUBS_PER_PACKET];
    mqtt_sub_t *added[SUBS_PER_PACKET];
    bool fresh[SUBS_PER_PACKET];
    if (pkt->entry_count > SUBS_PER_PACKET) {
        mqtt__conn_disconnect(conn, MQTT_RC_QUOTA_EXCEEDED, "too many filters in one SUBSCRIBE");
        return -1;
    }
    uint32_t sub_id = v5 ? pkt->props.subscription_id : 0;
    size_t pos = 0, n = 0;
    mqtt_sub_entry_t e;
    while (mqtt_sub_next(pkt, conn->version, &pos, &e) == 1) {
        added[n] = NULL;
        fresh[n] = false;
        gn_bytes_t f = e.filter;
        bool shared = f.len > 7 && memcmp(f.ptr, "$share/", 7) == 0;
        if (!mqtt__sub_filter_ok(f)) {
            if (!shared)
                GN_INFO(MQTT_MOD, "subscription refused | client=%s filter=\"%.*s\" reason=%s",
                        sess->client_id, (int)(f.len < 200 ? f.len : 200), (const char *)f.ptr,
                        mqtt_rc_name(MQTT_RC_TOPIC_FILTER_INVALID));
            rcs[n++] = v5 ? MQTT_RC_TOPIC_FILTER_INVALID : 0x80;
            continue;
        }
        if (shared && e.no_local) {
            mqtt__conn_disconnect(conn, MQTT_RC_PROTOCOL_ERROR,
                                  "no-local on a shared subscription");
            return -1;
        }
        gn_bytes_t group = GN_BYTES_NULL, topic_filter = f;
        if (shared) {
            const uint8_t *slash = memchr(f.ptr + 7, '/', f.len - 7);
            group = (gn_bytes_t){f.ptr + 7, (size_t)(slash - f.ptr - 7)};
            topic_filter = (gn_bytes_t){slash + 1, f.len - (size_t)(slash + 1 - f.ptr)};
        }
        if (!mqtt__authorize_subscribe(conn, topic_filter, group)) { /* logged by core/acl */
            rcs[n++] = v5 ? MQTT_RC_NOT_AUTHORIZED : 0x80;
            continue;
        }
        bool existed = false;
        int rc = mqtt__session_subscribe(sess, &e, sub_id, &existed);
        if (rc < 0) {
            rcs[n++] = v5 ? MQTT_RC_UNSPECIFIED : 0x80;
            continue;
        }
        added[n] = sess->subs[sess->nsubs - 1];
        fresh[n] = !existed;
        rcs[n++] = e.qos;
    }
    mqtt__send_suback(conn, MQTT_SUBACK, pkt->packet_id, rcs, n);
    mqtt__remote_want(sess->srv, sess); /* held elsewhere: fetched from the leader from now */
    for (size_t i = 0; i < n; i++) {
        mqtt_sub_t *sub = added[i];
        if (!sub || sub->share) continue;
        if (sub->retain_handling == 2 || (sub->retain_handling == 1 && !fresh[i])) continue;
        mqtt__retained_send(sess, sub);
    }
    mqtt__share_sync(sess);
    if (sess->persistent) mqtt__session_save(sess);
    return 0;
}
