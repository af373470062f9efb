/* SPDX-License-Identifier: Apache-2.0 */
/* Answers a request: status, headers and a body queued on the request and written by
 * lws's writeable callback in chunks (headers first, then the body, the last chunk
 * marked final so h2 ends the stream). Error bodies follow the REST Proxy:
 * {"error_code": 40401, "message": "..."}. Loop thread only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "http.h"

#define HTTP_WRITE_CHUNK 16384

void http_req_add_header(http_req_t *req, const char *name, const char *value)
{
    size_t used = strlen(req->extra_headers);
    snprintf(req->extra_headers + used, sizeof req->extra_headers - used, "%s: %s\n", name, value);
}

void http_respond(http_req_t *req, int status, const char *content_type, const char *body,
                  size_t len)
{
    if (req->state == HTTP_REQ_RESPONDING || req->state == HTTP_REQ_DONE) return;
    free(req->resp);
    req->resp = NULL;
    req->resp_len = req->resp_off = 0;
    if (len) {
        req->resp = malloc(len);
        if (req->resp) {
            memcpy(req->resp, body, len);
            req->resp_len = len;
        } else {
            status = 500;
        }
    }
    req->status = status;
    snprintf(req->resp_type, sizeof req->resp_type, "%s", content_type ? content_type : "");
    req->state = HTTP_REQ_RESPONDING;
    http_metrics_observe(req->srv, req->method, status,
                         (double)(uv_hrtime() - req->start_ns) / 1e9);
    if (req->wsi) lws_callback_on_writable(req->wsi);
}

/* REST routes answer in the REST Proxy's media type; everything else in JSON. */
static const char *json_type_for(const http_req_t *req)
{
    if (strncmp(req->path, "/topics", 7) == 0 || strncmp(req->path, "/brokers", 8) == 0 ||
        strncmp(req->path, "/consumers", 10) == 0) {
        if (strstr(req->accept, "application/vnd.kafka.v2+json") || !req->accept[0] ||
            strstr(req->accept, "*/*") || !strstr(req->accept, "application/json"))
            return "application/vnd.kafka.v2+json";
    }
    return "application/json";
}

void http_respond_json(http_req_t *req, int status, json_t *json)
{
    char *s = json ? json_dumps(json, JSON_COMPACT) : NULL;
    if (!s) {
        json_decref(json);
        http_respond(req, 500, "application/json",
                     "{\"error_code\":50001,\"message\":\"out of memory\"}", 46);
        return;
    }
    http_respond(req, status, json_type_for(req), s, strlen(s));
    free(s);
    json_decref(json);
}

void http_respond_error(http_req_t *req, int status, int error_code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_respond_json(req, status,
                      json_pack("{s:i,s:s}", "error_code", error_code, "message", msg));
}

void http_respond_unauthorized(http_req_t *req, const char *why)
{
    http_req_add_header(req, "WWW-Authenticate", http__auth_challenge);
    http_respond_error(req, 401, 40101, "Unauthorized: %s", why);
}

void http_respond_throttled(http_req_t *req, const char *why)
{
    http_req_add_header(req, "Retry-After", "1");
    http_respond_error(req, 429, 42901, "Too Many Requests: %s", why);
}

void http_respond_gn_error(http_req_t *req, int err)
{
    const char *sentence = err > GN__ERR_BASE && err < 0 ? uv_strerror(err) : gn_strerror(err);
    http_respond_error(req, http_status_from_gn(err), http_rest_code_from_gn(err), "%s", sentence);
}

static int write_headers(http_req_t *req)
{
    struct lws *wsi = req->wsi;
    uint8_t buf[LWS_PRE + 2048];
    uint8_t *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, (unsigned)req->status,
                                    req->resp_type[0] ? req->resp_type : NULL,
                                    (lws_filepos_t)req->resp_len, &p, end))
        return -1;
    /* extra headers: "name: value\n" lines */
    char *line = req->extra_headers;
    while (*line) {
        char *nl = strchr(line, '\n');
        char *colon = strchr(line, ':');
        if (!nl || !colon || colon > nl) break;
        char name[64];
        size_t nlen = (size_t)(colon - line);
        if (nlen + 2 > sizeof name) break;
        for (size_t i = 0; i < nlen; i++)
            name[i] = (char)((line[i] >= 'A' && line[i] <= 'Z') ? line[i] + 32 : line[i]);
        name[nlen] = ':';
        name[nlen + 1] = '\0';
        const char *val = colon + 2;
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)val, (int)(nl - val), &p, end))
            return -1;
        line = nl + 1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    req->headers_sent = true;
    return 0;
}

int http__req_write(http_req_t *req)
{
    if (req->state != HTTP_REQ_RESPONDING) return 0; /* woken early: nothing to say yet */
    if (!req->headers_sent) {
        if (write_headers(req) < 0) return -1;
        lws_callback_on_writable(req->wsi);
        return 0;
    }
    size_t left = req->resp_len - req->resp_off;
    size_t chunk = left > HTTP_WRITE_CHUNK ? HTTP_WRITE_CHUNK : left;
    bool last = chunk == left;
    uint8_t buf[LWS_PRE + HTTP_WRITE_CHUNK];
    if (chunk) memcpy(buf + LWS_PRE, req->resp + req->resp_off, chunk);
    if (lws_write(req->wsi, buf + LWS_PRE, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
        return -1;
    req->resp_off += chunk;
    if (last) {
        req->state = HTTP_REQ_DONE;
        return 1;
    }
    lws_callback_on_writable(req->wsi);
    return 0;
}
