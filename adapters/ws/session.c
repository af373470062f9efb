/* SPDX-License-Identifier: Apache-2.0 */
/* The WebSocket JSON protocol (gn_ws_json_protocol): one session per WebSocket the
 * HTTP adapter accepts at /ws. Each text message is one JSON request, dispatched by
 * its "type"; a malformed one is answered with an error message, never a disconnect.
 * Answers and records go out as text messages through the transport. Loop thread. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ws.h"

void ws__on_written(gn_transport_t *tr)
{
    ws_session_t *sess = tr->session;
    if (sess && !sess->closed && tr->ops->write_queue_size(tr) < WS_QUEUE_LOW) ws_pump(sess);
}

static void on_written(gn_transport_t *tr, void *arg, int status)
{
    (void)status;
    free(arg);
    ws__on_written(tr);
}

void ws_send_json(ws_session_t *sess, json_t *j)
{
    if (!j) return;
    char *s = sess->closed ? NULL : json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return;
    uv_buf_t buf = uv_buf_init(s, (unsigned)strlen(s));
    if (sess->tr->ops->write(sess->tr, &buf, 1, on_written, s) != 0) free(s);
}

void ws_send_error(ws_session_t *sess, json_t *id, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", msg);
    if (j && id) json_object_set(j, "id", id);
    ws_send_json(sess, j);
}

/* The protocol's error code for a gn error: its name in lower case without the E
 * ("coordinator_loading"). Loop thread only (one static buffer). */
const char *ws_err_code(int err)
{
    static char buf[64];
    const char *name = gn_err_name(err);
    if (name[0] == 'E') name++;
    size_t i = 0;
    for (; name[i] && i < sizeof buf - 1; i++)
        buf[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    buf[i] = '\0';
    return buf;
}

void ws_session_unref(ws_session_t *sess)
{
    if (--sess->refs == 0) free(sess);
}

static void on_read(gn_transport_t *tr, const uint8_t *data, size_t len)
{
    ws_session_t *sess = tr->session;
    ws_msg_t msg;
    const char *code = "invalid_request";
    char err[256];
    if (ws_msg_decode((const char *)data, len, &msg, &code, err, sizeof err) < 0) {
        ws_send_error(sess, NULL, code, "%s", err);
        return;
    }
    switch (msg.type) {
    case WS_MSG_SUBSCRIBE:
        ws_handle_subscribe(sess, &msg);
        break;
    case WS_MSG_UNSUBSCRIBE:
        ws_handle_unsubscribe(sess, &msg);
        break;
    case WS_MSG_PRODUCE:
        ws_handle_produce(sess, &msg);
        break;
    case WS_MSG_COMMIT:
        ws_handle_commit(sess, &msg);
        break;
    case WS_MSG_PING: {
        json_t *j = json_pack("{s:s,s:I}", "type", "pong", "time", (json_int_t)gn_now_ms());
        if (j && msg.id) json_object_set(j, "id", msg.id);
        ws_send_json(sess, j);
        break;
    }
    }
    ws_msg_free(&msg);
}

static void on_close(gn_transport_t *tr)
{
    ws_session_t *sess = tr->session;
    tr->session = NULL;
    sess->closed = true;
    for (size_t i = 0; i < sess->nsubs; i++)
        ws_sub_free(sess->subs[i]);
    sess->nsubs = 0;
    ws_session_unref(sess);
}

bool ws_authorize(ws_session_t *sess, json_t *id, gn_acl_op_t op, gn_acl_resource_type_t type,
                  const char *name)
{
    if (gn_acl_authorize(gn_broker_acl(sess->broker), sess->principal, sess->host, op, type, name))
        return true;
    ws_send_error(sess, id, "not_authorized", "%s may not %s %s %s", sess->principal,
                  gn_acl_op_name(op), gn_acl_resource_type_name(type), name);
    return false;
}

static int ws_attach(gn_broker_t *broker, void *adapter_state, gn_transport_t *tr)
{
    if (!tr->ops->write_shared) return GN_EINVAL; /* records go out as shared frames */
    ws_session_t *sess = calloc(1, sizeof *sess);
    if (!sess) return GN_ENOMEM;
    sess->broker = broker;
    sess->hub = adapter_state;
    sess->tr = tr;
    sess->refs = 1;
    if (!tr->ops->principal || tr->ops->principal(tr, sess->principal, sizeof sess->principal) < 0)
        gn_acl_principal(sess->principal, sizeof sess->principal, NULL);
    if (tr->ops->peer_name(tr, sess->host, sizeof sess->host) < 0) sess->host[0] = '\0';
    char *colon = strrchr(sess->host, ':'); /* "ip:port" */
    if (colon) *colon = '\0';
    tr->session = sess;
    tr->on_read = on_read;
    tr->on_close = on_close;
    ws_send_json(sess, json_pack("{s:s,s:s,s:I}", "type", "welcome", "protocol", "ganglion.v1.json",
                                 "time", (json_int_t)gn_now_ms()));
    return 0;
}

const gn_stream_protocol_t gn_ws_json_protocol = {
    .name = "ws-json",
    .attach = ws_attach,
    .state_new = ws_hub_new,
    .state_free = ws_hub_free,
};
