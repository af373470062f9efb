/* SPDX-License-Identifier: Apache-2.0 */
/* $SYS/broker/... statistics as Mosquitto publishes them (clients connected, total,
 * maximum; messages and publish received/sent/dropped; bytes; uptime; version), every
 * MQTT_SYS_INTERVAL_MS, as retained messages kept in memory only ('$' is not a log
 * topic name) and sent straight to matching subscribers. Loop thread only. */
#include <stdio.h>
#include <string.h>

#include "mqtt.h"

static void sys_set(mqtt_server_t *srv, const char *topic, const char *value)
{
    gn_bytes_t t = {(const uint8_t *)topic, strlen(topic)};
    gn_bytes_t v = {(const uint8_t *)value, strlen(value)};
    mqtt__retained_set(srv, t, v, NULL, 0, 0, gn_now_ms(), true);
    mqtt_msg_t msg = {.topic = t, .payload = v, .timestamp = gn_now_ms(), .qos = 0};
    mqtt__fanout(srv, &msg);
}

static void sys_u64(mqtt_server_t *srv, const char *topic, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    sys_set(srv, topic, buf);
}

void mqtt__sys_publish(mqtt_server_t *srv)
{
    mqtt_stats_t *st = &srv->stats;
    char buf[64];
    snprintf(buf, sizeof buf, "%lld seconds", (long long)((gn_now_ms() - st->started_ms) / 1000));
    sys_set(srv, "$SYS/broker/uptime", buf);
    sys_set(srv, "$SYS/broker/version", "ganglion");
    sys_u64(srv, "$SYS/broker/clients/connected", st->clients_connected);
    sys_u64(srv, "$SYS/broker/clients/total", srv->nsessions);
    sys_u64(srv, "$SYS/broker/clients/maximum", st->clients_maximum);
    sys_u64(srv, "$SYS/broker/messages/received", st->msgs_received);
    sys_u64(srv, "$SYS/broker/messages/sent", st->msgs_sent);
    sys_u64(srv, "$SYS/broker/publish/messages/received", st->publish_received);
    sys_u64(srv, "$SYS/broker/publish/messages/not_authorized", st->publish_not_authorized);
    sys_u64(srv, "$SYS/broker/publish/messages/sent", st->publish_sent);
    sys_u64(srv, "$SYS/broker/publish/messages/dropped", st->msgs_dropped);
    sys_u64(srv, "$SYS/broker/bytes/received", st->bytes_received);
    sys_u64(srv, "$SYS/broker/bytes/sent", st->bytes_sent);
    sys_u64(srv, "$SYS/broker/retained messages/count", srv->nretained);
}

static void on_sys_timer(uv_timer_t *t)
{
    mqtt__sys_publish(t->data);
}

void mqtt__sys_start(mqtt_server_t *srv)
{
    uv_timer_init(srv->loop, &srv->sys_timer);
    srv->sys_timer.data = srv;
    srv->sys_timer_init = true;
    srv->open_handles++;
    mqtt__sys_publish(srv);
    uv_timer_start(&srv->sys_timer, on_sys_timer, MQTT_SYS_INTERVAL_MS, MQTT_SYS_INTERVAL_MS);
}
