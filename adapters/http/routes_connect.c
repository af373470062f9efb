/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka Connect's REST API on the HTTP port: /connectors (list, create, get, config,
 * status, tasks, pause, resume, restart, delete) and /connector-plugins, with Connect's
 * bodies, status codes and error body {"error_code": <status>, "message": "..."}. A
 * change is a record appended to __connect_configs; it is answered once the record is
 * acknowledged and applied (connect.c). Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"

static void refuse(http_req_t *req, int status, const char *fmt, const char *a, const char *b)
{
    char msg[768];
    snprintf(msg, sizeof msg, fmt, a, b);
    GN_WARN(CONNECT_MOD, "request refused | method=%s path=%s status=%d reason=%s",
            http_method_name(req->method), req->path, status, msg);
    http_respond_error(req, status, status, "%s", msg);
}

static connect_registry_t *registry(http_req_t *req)
{
    connect_registry_t *reg = req->srv->connect;
    if (reg) connect_catch_up(reg);
    return reg;
}

static connector_t *find_or_404(http_req_t *req)
{
    connect_registry_t *reg = registry(req);
    connector_t *c = reg ? connect_find(reg, req->params[0]) : NULL;
    if (!c) refuse(req, 404, "Connector %s not found", req->params[0], "");
    return c;
}

static const char *type_name(const connector_t *c)
{
    return c->spec.type == CONNECT_SOURCE ? "source" : "sink";
}

json_t *connect_info_json(const connector_t *c)
{
    return json_pack("{s:s,s:O,s:[{s:s,s:i}],s:s}", "name", c->name, "config", c->config, "tasks",
                     "connector", c->name, "task", 0, "type", type_name(c));
}

static json_t *state_json(const connector_t *c, const char *worker, bool task)
{
    json_t *s = json_pack("{s:s,s:s}", "state", connect_state_name(c->state), "worker_id", worker);
    if (task) json_object_set_new(s, "id", json_integer(0));
    if (c->state == CONNECT_FAILED) json_object_set_new(s, "trace", json_string(c->trace));
    return s;
}

static json_t *status_json(http_req_t *req, const connector_t *c)
{
    char worker[300];
    http_server_t *srv = req->srv;
    snprintf(worker, sizeof worker, "%s:%d", srv->adv_host[0] ? srv->adv_host : srv->host,
             srv->adv_port);
    return json_pack("{s:s,s:o,s:[o],s:s}", "name", c->name, "connector",
                     state_json(c, worker, false), "tasks", state_json(c, worker, true), "type",
                     type_name(c));
}

/* ---- writes --------------------------------------------------------------------- */

typedef enum after { AFTER_CREATED, AFTER_UPDATED, AFTER_ACCEPTED, AFTER_NO_CONTENT } after_t;

typedef struct write_ctx {
    http_req_t *req;
    char name[CONNECT_NAME_MAX + 1];
    after_t after;
} write_ctx_t;

static void on_written(void *arg, int status)
{
    write_ctx_t *ctx = arg;
    http_req_t *req = ctx->req;
    if (!http_req_async_done(req)) goto out;
    if (status < 0) {
        GN_WARN(CONNECT_MOD, "config not stored | name=%s err=%s", ctx->name, gn_err_name(status));
        http_respond_error(req, 500, 500, "Failed to write connector config: %s",
                           gn_strerror(status));
        goto out;
    }
    connect_registry_t *reg = registry(req);
    connector_t *c = reg ? connect_find(reg, ctx->name) : NULL;
    if (ctx->after == AFTER_ACCEPTED || ctx->after == AFTER_NO_CONTENT)
        http_respond(req, ctx->after == AFTER_ACCEPTED ? 202 : 204, NULL, NULL, 0);
    else if (!c)
        http_respond_error(req, 500, 500, "Connector %s was not applied", ctx->name);
    else
        http_respond_json(req, ctx->after == AFTER_CREATED ? 201 : 200, connect_info_json(c));
out:
    free(ctx);
}

static int write_records(http_req_t *req, const char *name, const char *const *keys,
                         const char *const *values, size_t n, after_t after)
{
    write_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return GN_ENOMEM;
    ctx->req = req;
    ctx->after = after;
    snprintf(ctx->name, sizeof ctx->name, "%s", name);
    int rc = connect_store_write(req->srv->broker, CONNECT_CONFIGS_TOPIC, keys, values, n,
                                 on_written, ctx);
    if (rc < 0) {
        free(ctx);
        return rc;
    }
    req->async++;
    return 0;
}

/* Checks config (a JSON object) for name and stores it; answers 201 or 200. */
static int put_config(http_req_t *req, const char *name, json_t *obj, bool created)
{
    connect_registry_t *reg = req->srv->connect;
    char err[512], key[CONNECT_NAME_MAX + 16];
    connect_spec_t spec;
    json_t *config = connect_config_strings(obj, err, sizeof err);
    if (!reg) return GN_ESHUTDOWN;
    if (!connect_name_valid(name)) {
        refuse(req, 400, "Connector name %s is invalid: use 1 to 200 of [a-zA-Z0-9._-]", name, "");
        goto out;
    }
    if (!config || connect_config_check(config, name, reg->dir, &spec, err, sizeof err) < 0) {
        refuse(req, 400,
               "Connector configuration is invalid and contains the following 1 "
               "error(s):\n%s",
               err, "");
        goto out;
    }
    if (!json_object_get(config, "name")) json_object_set_new(config, "name", json_string(name));
    json_t *doc = json_pack("{s:O}", "properties", config);
    char *value = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    snprintf(key, sizeof key, "connector-%s", name);
    const char *keys[] = {key}, *values[] = {value};
    int rc =
        value ? write_records(req, name, keys, values, 1, created ? AFTER_CREATED : AFTER_UPDATED)
              : GN_ENOMEM;
    free(value);
    json_decref(config);
    return rc;
out:
    json_decref(config);
    return 0;
}

static json_t *body_json(http_req_t *req)
{
    json_t *doc = json_loadb((const char *)req->body, req->body_len, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        refuse(req, 400, "Request body is not a JSON object%s%s", "", "");
        return NULL;
    }
    return doc;
}

/* ---- handlers ------------------------------------------------------------------- */

int http_handle_connectors_list(http_req_t *req)
{
    connect_registry_t *reg = registry(req);
    char expand[32];
    const char *ex = http_req_query(req, "expand", expand, sizeof expand);
    json_t *out = ex ? json_object() : json_array();
    for (connector_t *c = reg ? reg->list : NULL; c; c = c->next) {
        if (!ex) {
            json_array_append_new(out, json_string(c->name));
            continue;
        }
        json_t *entry = json_object();
        if (strcmp(ex, "status") == 0) json_object_set_new(entry, "status", status_json(req, c));
        if (strcmp(ex, "info") == 0) json_object_set_new(entry, "info", connect_info_json(c));
        json_object_set_new(out, c->name, entry);
    }
    http_respond_json(req, 200, out);
    return 0;
}

int http_handle_connector_create(http_req_t *req)
{
    json_t *doc = body_json(req);
    if (!doc) return 0;
    const char *name = json_string_value(json_object_get(doc, "name"));
    json_t *config = json_object_get(doc, "config");
    connect_registry_t *reg = registry(req);
    int rc = 0;
    if (!name || !name[0])
        refuse(req, 400, "Connector name is required%s%s", "", "");
    else if (!json_is_object(config))
        refuse(req, 400, "Connector config is required%s%s", "", "");
    else if (reg && connect_find(reg, name))
        refuse(req, 409, "Connector %s already exists", name, "");
    else
        rc = put_config(req, name, config, true);
    json_decref(doc);
    return rc;
}

int http_handle_connector_get(http_req_t *req)
{
    connector_t *c = find_or_404(req);
    if (c) http_respond_json(req, 200, connect_info_json(c));
    return 0;
}

int http_handle_connector_config_get(http_req_t *req)
{
    connector_t *c = find_or_404(req);
    if (c) http_respond_json(req, 200, json_incref(c->config));
    return 0;
}

int http_handle_connector_config_put(http_req_t *req)
{
    json_t *doc = body_json(req);
    if (!doc) return 0;
    connect_registry_t *reg = registry(req);
    bool exists = reg && connect_find(reg, req->params[0]);
    int rc = put_config(req, req->params[0], doc, !exists);
    json_decref(doc);
    return rc;
}

int http_handle_connector_status(http_req_t *req)
{
    connector_t *c = find_or_404(req);
    if (c) http_respond_json(req, 200, status_json(req, c));
    return 0;
}

int http_handle_connector_tasks(http_req_t *req)
{
    connector_t *c = find_or_404(req);
    if (c)
        http_respond_json(req, 200,
                          json_pack("[{s:{s:s,s:i},s:O}]", "id", "connector", c->name, "task", 0,
                                    "config", c->config));
    return 0;
}

static int set_target_state(http_req_t *req, bool paused)
{
    connector_t *c = find_or_404(req);
    if (!c) return 0;
    char key[CONNECT_NAME_MAX + 16];
    snprintf(key, sizeof key, "target-state-%s", c->name);
    const char *keys[] = {key};
    const char *values[] = {paused ? "{\"state\":\"PAUSED\"}" : "{\"state\":\"STARTED\"}"};
    return write_records(req, c->name, keys, values, 1, AFTER_ACCEPTED);
}

int http_handle_connector_pause(http_req_t *req)
{
    return set_target_state(req, true);
}

int http_handle_connector_resume(http_req_t *req)
{
    return set_target_state(req, false);
}

int http_handle_connector_restart(http_req_t *req)
{
    connector_t *c = find_or_404(req);
    if (!c) return 0;
    connect_restart(c);
    http_respond(req, 204, NULL, NULL, 0);
    return 0;
}

int http_handle_connector_task_restart(http_req_t *req)
{
    if (strcmp(req->params[1], "0") != 0) {
        refuse(req, 404, "Task %s-%s not found", req->params[0], req->params[1]);
        return 0;
    }
    return http_handle_connector_restart(req);
}

int http_handle_connector_delete(http_req_t *req)
{
    connector_t *c = find_or_404(req);
    if (!c) return 0;
    char k1[CONNECT_NAME_MAX + 16], k2[CONNECT_NAME_MAX + 16];
    snprintf(k1, sizeof k1, "connector-%s", c->name);
    snprintf(k2, sizeof k2, "target-state-%s", c->name);
    const char *keys[] = {k1, k2}, *values[] = {NULL, NULL};
    return write_records(req, c->name, keys, values, 2, AFTER_NO_CONTENT);
}

int http_handle_connector_plugins(http_req_t *req)
{
    http_respond_json(req, 200,
                      json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "class",
                                "org.apache.kafka.connect.file.FileStreamSinkConnector", "type",
                                "sink", "version", CONNECT_VERSION, "class",
                                "org.apache.kafka.connect.file.FileStreamSourceConnector", "type",
                                "source", "version", CONNECT_VERSION));
    return 0;
}
