/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT over TLS (mqtt.tls.port, 8883 by Mosquitto's convention): a second listener
 * whose connections run on core/tls's "tls" transport, attached to the same sessions
 * as the TCP listener's. Off unless the gateway hands a TLS context (tls.cert.file).
 * Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/listen.h"
#include "ganglion/logger.h"
#include "mqtt.h"

static void on_tls_closed(void *arg)
{
    mqtt__server_handle_closed(arg);
}

static void on_tls_connection(uv_stream_t *listener, int status)
{
    mqtt_server_t *srv = listener->data;
    if (status < 0) {
        GN_WARN(MQTT_MOD, "accept failed | listener=tls err=%s", uv_strerror(status));
        return;
    }
    if (srv->stopping) return;
    gn_transport_t *tr;
    if (gn_tls_transport_accept(srv->tls, listener, MQTT_MOD, on_tls_closed, srv, &tr) < 0) return;
    srv->open_handles++; /* the transport, released by on_tls_closed */
    if (mqtt__conn_attach(srv, tr) < 0) {
        tr->ops->close(tr);
        return;
    }
    gn_tls_transport_start(tr);
}

static void on_listener_closed(uv_handle_t *h)
{
    mqtt__server_handle_closed(h->data);
}

int mqtt__tls_listen(mqtt_server_t *srv, const gn_listener_config_t *cfg)
{
    if (!cfg->tls || cfg->tls_port == 0) return 0;
    const char *host = cfg->host && cfg->host[0] ? cfg->host : "0.0.0.0";
    srv->tls = cfg->tls;
    uv_tcp_init(srv->loop, &srv->tls_listener);
    srv->tls_listener.data = srv;
    srv->tls_listening = true; /* closed by mqtt__tls_close from here on */
    srv->open_handles++;
    int rc = gn_tcp_listen(&srv->tls_listener, host, cfg->tls_port, on_tls_connection);
    if (rc < 0) {
        GN_ERROR(MQTT_MOD, "cannot listen | listener=tls host=%s port=%d err=%s", host,
                 cfg->tls_port, uv_strerror(rc));
        return rc;
    }
    GN_INFO(MQTT_MOD, "listening | listener=tls host=%s port=%d", host, cfg->tls_port);
    return 0;
}

void mqtt__tls_close(mqtt_server_t *srv)
{
    if (!srv->tls_listening) return;
    srv->tls_listening = false;
    uv_close((uv_handle_t *)&srv->tls_listener, on_listener_closed);
}
