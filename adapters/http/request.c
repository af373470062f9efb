/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP request on lws: the protocol callback turns lws events (headers, body
 * chunks, writeable, closed) into a request that is routed (router.c), bounded
 * (413), checked for its Content-Type (415), handled, and answered (response.c).
 * WebSocket events go to ws_transport.c. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "http.h"

static const char *const method_names[HTTP_METHOD_COUNT] = {
    "GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT", "HEAD",
};

const char *http_method_name(http_method_t m)
{
    return (unsigned)m < HTTP_METHOD_COUNT ? method_names[m] : "?";
}

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

const char *http_req_scheme(const http_req_t *req)
{
    /* an h2 stream's own wsi does not carry the TLS: its connection's does */
    return req->wsi && lws_is_ssl(lws_get_network_wsi(req->wsi)) ? "https" : "http";
}

const char *http_req_header(http_req_t *req, enum lws_token_indexes tok, char *buf, int cap)
{
    buf[0] = '\0';
    if (!req->wsi || lws_hdr_total_length(req->wsi, tok) <= 0) return buf;
    if (lws_hdr_copy(req->wsi, buf, cap, tok) < 0) buf[0] = '\0';
    return buf;
}

const char *http_req_query(http_req_t *req, const char *name, char *buf, int cap)
{
    if (!req->wsi) return NULL;
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    /* lws_get_urlarg_by_name wants "name=", copies the decoded "name=value" fragment
     * into buf and points after the '='. */
    const char *v = lws_get_urlarg_by_name(req->wsi, key, buf, cap);
    if (!v) {
        buf[0] = '\0';
        return NULL;
    }
    memmove(buf, v, strlen(v) + 1);
    return buf;
}

static void req_link(http_server_t *srv, http_req_t *req)
{
    req->next = srv->reqs;
    if (srv->reqs) srv->reqs->prev = req;
    srv->reqs = req;
}

void http__req_free(http_req_t *req)
{
    http_server_t *srv = req->srv;
    if (req->prev)
        req->prev->next = req->next;
    else
        srv->reqs = req->next;
    if (req->next) req->next->prev = req->prev;
    if (req->sse) http__sse_free(req->sse);
    if (req->ctx_free) req->ctx_free(req->ctx);
    free(req->body);
    free(req->resp);
    free(req);
}

bool http_req_async_done(http_req_t *req)
{
    req->async--;
    if (req->wsi) return true;
    if (req->async == 0) http__req_free(req);
    return false;
}

static void run_handler(http_req_t *req)
{
    req->state = HTTP_REQ_RUNNING;
    if (req->body_too_large) {
        req->close_after = true;
        http_respond_error(req, 413, 41301, "Request body larger than %ld bytes",
                           req->srv->max_body);
        return;
    }
    if (!http__route_authorize(req)) return;
    int rc = req->route->handler(req);
    if (rc < 0 && req->state == HTTP_REQ_RUNNING && !req->async) http_respond_gn_error(req, rc);
}

static int on_http(struct lws *wsi, http_pss_t *pss, http_server_t *srv)
{
    if (pss->req) { /* a previous transaction on this connection never finished */
        if (pss->req->async)
            pss->req->wsi = NULL;
        else
            http__req_free(pss->req);
        pss->req = NULL;
    }
    http_req_t *req = calloc(1, sizeof *req);
    if (!req) return -1;
    req->srv = srv;
    req->wsi = wsi;
    req->start_ns = now_ns();
    req->content_length = -1;
    req_link(srv, req);
    pss->req = req;

    char *uri = NULL;
    int ulen = 0;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    if (m < 0 || m >= HTTP_METHOD_COUNT) {
        req->method = HTTP_GET;
        http_respond_error(req, 405, 40501, "Method not allowed");
        return 0;
    }
    req->method = (http_method_t)m;
    if (ulen >= (int)sizeof req->path) {
        http_respond_error(req, 414, 41401, "URI too long");
        return 0;
    }
    memcpy(req->path, uri, (size_t)ulen);
    req->path[ulen] = '\0';
    char *q = strchr(req->path, '?');
    if (q) *q = '\0';

    char buf[64];
    http_req_header(req, WSI_TOKEN_HTTP_CONTENT_TYPE, req->content_type, sizeof req->content_type);
    http_req_header(req, WSI_TOKEN_HTTP_ACCEPT, req->accept, sizeof req->accept);
    if (*http_req_header(req, WSI_TOKEN_HTTP_CONTENT_LENGTH, buf, sizeof buf))
        req->content_length = strtol(buf, NULL, 10);

    http__auth_client_host(wsi, req->client_host, sizeof req->client_host);
    const char *why = "";
    int arc = http__auth_principal(srv, wsi, req->principal, sizeof req->principal, &why);
    if (arc < 0 && !http__auth_open_path(req->path)) {
        http__auth_log_refusal(wsi, req->path, arc, why);
        if (req->content_length > 0 ||
            lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
            req->close_after = true; /* body left unread */
        if (arc == GN_ETHROTTLED)
            http_respond_throttled(req, why);
        else
            http_respond_unauthorized(req, why);
        return 0;
    }

    int status = 404;
    req->route = http_route_match(req->path, req->method, req->params, &status);
    if (!req->route) {
        if (status == 405)
            http_respond_error(req, 405, 40501, "Method %s not allowed on %s",
                               http_method_name(req->method), req->path);
        else
            http_respond_error(req, 404, 40401, "Not found: %s", req->path);
        if (req->content_length > 0) req->close_after = true; /* body left unread */
        return 0;
    }
    if (req->route->body && req->route->content_types &&
        !http_media_type_in(req->content_type, req->route->content_types)) {
        if (req->content_length > 0) req->close_after = true;
        http_respond_error(req, 415, 41501, "Unsupported Content-Type '%s'; expected %s",
                           req->content_type, req->route->content_types);
        return 0;
    }
    if (req->content_length > req->srv->max_body) {
        req->body_too_large = true;
        run_handler(req);
        return 0;
    }
    bool expect_body = req->content_length > 0;
    if (!expect_body && req->content_length < 0 &&
        (req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH)) {
        /* h2 may omit content-length; HTTP/1.1 without it and without chunking has none */
        expect_body = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_COLON_METHOD) > 0 ||
                      lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    }
    if (expect_body) {
        req->state = HTTP_REQ_HEADERS; /* body chunks follow */
        return 0;
    }
    run_handler(req);
    return 0;
}

static int on_body(http_req_t *req, const void *in, size_t len)
{
    if (req->state != HTTP_REQ_HEADERS) return 0; /* already answered (404, 415) */
    if (req->body_too_large || req->body_len + len > (size_t)req->srv->max_body) {
        req->body_too_large = true;
        return 0;
    }
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap * 2 : 4096;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        if (cap > (size_t)req->srv->max_body + 1) cap = (size_t)req->srv->max_body + 1;
        uint8_t *nb = realloc(req->body, cap);
        if (!nb) return -1;
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, in, len);
    req->body_len += len;
    req->body[req->body_len] = '\0'; /* handlers may treat it as a string */
    return 0;
}

int http__lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    http_pss_t *pss = user;
    struct lws_vhost *vh = lws_get_vhost(wsi);
    http_server_t *srv = vh ? lws_get_vhost_user(vh) : NULL;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        /* lws takes our answer over OpenSSL's (0 accepts): keep OpenSSL's verdict on a
         * client certificate, len being its preverify_ok (accept_tls.c) */
        return http__tls_verify(wsi, user, len); /* user: the X509_STORE_CTX */
    case LWS_CALLBACK_HTTP:
        if (!srv || srv->stopping) return -1;
        return on_http(wsi, pss, srv);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (!srv || srv->stopping) return -1;
        return http__ws_confirm_upgrade(srv, wsi, in);
    case LWS_CALLBACK_HTTP_BODY:
        if (!pss || !pss->req) return 0;
        return on_body(pss->req, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!pss || !pss->req) return 0;
        if (pss->req->state == HTTP_REQ_HEADERS) run_handler(pss->req);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!pss || !pss->req) return 0;
        if (pss->req->state == HTTP_REQ_STREAMING) return http__sse_writeable(pss->req);
        {
            http_req_t *req = pss->req;
            int rc = http__req_write(req);
            if (rc != 1) return rc; /* 0: more to write, -1: close */
            /* The response is complete. */
            /* An unread body forces HTTP/1.1 to close; an h2 stream just ends (its
             * remaining DATA frames are dropped) and the connection lives on. */
            bool close_after = req->close_after && lws_get_network_wsi(wsi) == wsi;
            pss->req = NULL;
            if (req->async)
                req->wsi = NULL;
            else
                http__req_free(req);
            if (close_after) return -1;
            if (lws_http_transaction_completed(wsi)) return -1;
            return 0;
        }
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss && pss->req) {
            http_req_t *req = pss->req;
            pss->req = NULL;
            if (req->async)
                req->wsi = NULL;
            else
                http__req_free(req);
        }
        return 0;
    case LWS_CALLBACK_WSI_CREATE:
        if (srv) {
            srv->wsi_live++;
            if (lws_get_network_wsi(wsi) == wsi) srv->metrics.connections_open++;
        }
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (pss && pss->ws) /* an upgrade that never became established */
            http__ws_callback(wsi, LWS_CALLBACK_CLOSED, &pss->ws, NULL, 0);
        if (srv) {
            srv->wsi_live--;
            if (lws_get_network_wsi(wsi) == wsi) srv->metrics.connections_open--;
        }
        break;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (!srv) return -1;
        return http__ws_callback(wsi, reason, pss ? &pss->ws : NULL, in, len);
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
