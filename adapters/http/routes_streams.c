/* SPDX-License-Identifier: Apache-2.0 */
/* The stream processors' REST API on the HTTP port: POST /streams (a definition),
 * GET /streams, GET /streams/{name}, GET /streams/{name}/status, PUT .../pause,
 * PUT .../resume, DELETE /streams/{name}. Errors are REST Proxy bodies {"error_code",
 * "message"} with a log line: 400 (body not a JSON object), 404, 409, 422 (a definition
 * that does not check). A change is a record appended to __streams_configs, answered
 * once acknowledged and applied (streams.c). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "streams.h"

static void refuse(http_req_t *req, int status, int code, const char *msg)
{
    GN_WARN(STREAMS_MOD, "request refused | method=%s path=%s status=%d reason=%s",
            http_method_name(req->method), req->path, status, msg);
    http_respond_error(req, status, code, "%s", msg);
}

static streams_registry_t *registry(http_req_t *req)
{
    streams_registry_t *reg = req->srv->streams;
    if (reg) streams_catch_up(reg);
    return reg;
}

static stream_t *find_or_404(http_req_t *req)
{
    streams_registry_t *reg = registry(req);
    stream_t *s = reg ? streams_find(reg, req->params[0]) : NULL;
    if (!s) {
        char msg[300];
        snprintf(msg, sizeof msg, "Stream processor %.200s not found", req->params[0]);
        refuse(req, 404, 40403, msg);
    }
    return s;
}

static json_t *info_json(const stream_t *s)
{
    return json_pack("{s:s,s:O,s:s}", "name", s->def.name, "definition", s->doc, "state",
                     streams_state_name(s->state));
}

static json_t *status_json(stream_t *s)
{
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "name", s->def.name, "state",
                          streams_state_name(s->state), "records_in", (json_int_t)s->records_in,
                          "records_out", (json_int_t)s->records_out, "skipped",
                          (json_int_t)s->skipped, "dead_lettered", (json_int_t)s->dead_lettered,
                          "lag", (json_int_t)streams_task_lag(s));
    char group[STREAMS_NAME_MAX + 16];
    snprintf(group, sizeof group, "streams-%s", s->def.name);
    json_object_set_new(o, "group", json_string(group));
    char principal[STREAMS_NAME_MAX + 32];
    streams_principal(s, principal, sizeof principal);
    json_object_set_new(o, "principal", json_string(principal));
    if (s->def.agg != AGG_NONE) {
        json_object_set_new(o, "aggregates",
                            json_integer((json_int_t)json_object_size(s->st.aggs)));
        json_object_set_new(o, "dropped_late", json_integer((json_int_t)s->dropped_late));
        json_object_set_new(o, "stream_time",
                            s->st.stream_time >= 0 ? json_integer(s->st.stream_time) : json_null());
    }
    if (s->state == STREAMS_FAILED) json_object_set_new(o, "trace", json_string(s->trace));
    return o;
}

/* ---- writes --------------------------------------------------------------------- */

typedef struct write_ctx {
    http_req_t *req;
    char name[STREAMS_NAME_MAX + 1];
    int status; /* answered with: 201 (the processor), 202 or 204 */
} write_ctx_t;

static void on_written(void *arg, int status)
{
    write_ctx_t *ctx = arg;
    http_req_t *req = ctx->req;
    if (!http_req_async_done(req)) goto out;
    if (status < 0) {
        GN_WARN(STREAMS_MOD, "definition not stored | name=%s err=%s", ctx->name,
                gn_err_name(status));
        http_respond_error(req, 500, 50001, "Failed to store the stream processor: %s",
                           gn_strerror(status));
        goto out;
    }
    streams_registry_t *reg = registry(req);
    stream_t *s = reg ? streams_find(reg, ctx->name) : NULL;
    if (ctx->status != 201)
        http_respond(req, ctx->status, NULL, NULL, 0);
    else if (!s)
        http_respond_error(req, 500, 50001, "Stream processor %s was not applied", ctx->name);
    else
        http_respond_json(req, 201, info_json(s));
out:
    free(ctx);
}

static int write_records(http_req_t *req, const char *name, const char *const *keys,
                         const char *const *values, size_t n, int status)
{
    write_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    ctx->status = status;
    snprintf(ctx->name, sizeof ctx->name, "%s", name);
    int rc = connect_store_write(req->srv->broker, STREAMS_CONFIGS_TOPIC, keys, values, n,
                                 on_written, ctx);
    if (rc < 0) {
        free(ctx);
        return rc;
    }
    req->async++;
    return 0;
}

/* ---- handlers ------------------------------------------------------------------- */

int http_handle_streams_list(http_req_t *req)
{
    streams_registry_t *reg = registry(req);
    json_t *out = json_array();
    for (stream_t *s = reg ? reg->list : NULL; s; s = s->next)
        json_array_append_new(out, info_json(s));
    http_respond_json(req, 200, out);
    return 0;
}

int http_handle_stream_create(http_req_t *req)
{
    json_t *doc = json_loadb((const char *)req->body, req->body_len, 0, NULL);
    streams_registry_t *reg = registry(req);
    streams_def_t def;
    char err[512], msg[600];
    int rc = 0;
    if (!json_is_object(doc)) {
        refuse(req, 400, 40001, "Request body is not a JSON object");
    } else if (streams_def_parse(doc, &def, err, sizeof err) < 0) {
        snprintf(msg, sizeof msg, "Invalid stream definition: %s", err);
        refuse(req, 422, 42206, msg);
    } else if (!reg) {
        rc = GN_ESHUTDOWN;
    } else if (streams_find(reg, def.name)) {
        snprintf(msg, sizeof msg, "Stream processor %s already exists", def.name);
        refuse(req, 409, 40902, msg);
    } else {
        char key[STREAMS_NAME_MAX + 16];
        char *value = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(key, sizeof key, "stream-%s", def.name);
        const char *keys[] = {key}, *values[] = {value};
        rc = value ? write_records(req, def.name, keys, values, 1, 201) : GN_ENOMEM;
        free(value);
    }
    json_decref(doc);
    return rc;
}

int http_handle_stream_get(http_req_t *req)
{
    stream_t *s = find_or_404(req);
    if (s) http_respond_json(req, 200, info_json(s));
    return 0;
}

int http_handle_stream_status(http_req_t *req)
{
    stream_t *s = find_or_404(req);
    if (s) http_respond_json(req, 200, status_json(s));
    return 0;
}

static int set_target_state(http_req_t *req, bool paused)
{
    stream_t *s = find_or_404(req);
    if (!s) return 0;
    char key[STREAMS_NAME_MAX + 16];
    snprintf(key, sizeof key, "target-state-%s", s->def.name);
    const char *keys[] = {key};
    const char *values[] = {paused ? "{\"state\":\"PAUSED\"}" : "{\"state\":\"RUNNING\"}"};
    return write_records(req, s->def.name, keys, values, 1, 202);
}

int http_handle_stream_pause(http_req_t *req)
{
    return set_target_state(req, true);
}

int http_handle_stream_resume(http_req_t *req)
{
    return set_target_state(req, false);
}

int http_handle_stream_delete(http_req_t *req)
{
    stream_t *s = find_or_404(req);
    if (!s) return 0;
    char k1[STREAMS_NAME_MAX + 16], k2[STREAMS_NAME_MAX + 16];
    snprintf(k1, sizeof k1, "stream-%s", s->def.name);
    snprintf(k2, sizeof k2, "target-state-%s", s->def.name);
    const char *keys[] = {k1, k2}, *values[] = {NULL, NULL};
    return write_records(req, s->def.name, keys, values, 2, 204);
}
