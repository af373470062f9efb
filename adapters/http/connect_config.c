/* SPDX-License-Identifier: Apache-2.0 */
/* Connector configs: the decoder of __connect_configs records (Connect's keys
 * connector-<name> and target-state-<name>), the check of a config map against the two
 * file connectors (required keys, Connect's sentences) and the file path rule: a file
 * must lie inside the allowed directory (connect.file.dir). Pure but for realpath(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "ganglion/error.h"
#include "ganglion/topic.h"

static const struct {
    const char *cls, *alias;
    connect_type_t type;
} classes[] = {
    {"org.apache.kafka.connect.file.FileStreamSourceConnector", "FileStreamSource", CONNECT_SOURCE},
    {"org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSink", CONNECT_SINK},
};

const char *connect_class_name(const char *cls, connect_type_t *type)
{
    for (size_t i = 0; cls && i < sizeof classes / sizeof classes[0]; i++) {
        size_t alen = strlen(classes[i].alias);
        /* Connect accepts the class, its simple name, and the simple name without
         * the "Connector" suffix */
        if (strcmp(cls, classes[i].cls) == 0 || strcmp(cls, classes[i].alias) == 0 ||
            (strncmp(cls, classes[i].alias, alen) == 0 && strcmp(cls + alen, "Connector") == 0)) {
            if (type) *type = classes[i].type;
            return classes[i].cls;
        }
    }
    return NULL;
}

bool connect_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > CONNECT_NAME_MAX) return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* ---- records ------------------------------------------------------------------- */

static int take_name(const char *key, size_t len, const char *prefix, char *name)
{
    size_t plen = strlen(prefix);
    if (len <= plen || len - plen > CONNECT_NAME_MAX || memcmp(key, prefix, plen) != 0)
        return GN_EINVAL;
    memcpy(name, key + plen, len - plen);
    name[len - plen] = '\0';
    return connect_name_valid(name) ? 0 : GN_EINVAL;
}

int connect_rec_decode(gn_bytes_t key, gn_bytes_t value, connect_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    if (!key.ptr) return GN_EINVAL;
    const char *k = (const char *)key.ptr;
    json_t *doc = NULL;
    if (take_name(k, key.len, "connector-", rec->name) == 0)
        rec->kind = CONNECT_REC_CONNECTOR;
    else if (take_name(k, key.len, "target-state-", rec->name) == 0)
        rec->kind = CONNECT_REC_TARGET_STATE;
    else
        return GN_EINVAL;
    if (!value.ptr) {
        rec->tombstone = true;
        return 0;
    }
    doc = json_loadb((const char *)value.ptr, value.len, JSON_REJECT_DUPLICATES, NULL);
    int rc = GN_EINVAL;
    if (!json_is_object(doc)) goto out;
    if (rec->kind == CONNECT_REC_TARGET_STATE) {
        const char *st = json_string_value(json_object_get(doc, "state"));
        if (!st || (strcmp(st, "PAUSED") != 0 && strcmp(st, "STARTED") != 0)) goto out;
        rec->paused = strcmp(st, "PAUSED") == 0;
        rc = 0;
        goto out;
    }
    char err[128];
    rec->config = connect_config_strings(json_object_get(doc, "properties"), err, sizeof err);
    rc = rec->config ? 0 : GN_EINVAL;
out:
    json_decref(doc);
    return rc;
}

json_t *connect_config_strings(json_t *obj, char *err, size_t errlen)
{
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "Connector config must be a JSON object of strings");
        return NULL;
    }
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        json_t *s = NULL;
        if (json_is_string(v))
            s = json_string(json_string_value(v));
        else if (json_is_integer(v))
            s = json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_boolean(v))
            s = json_string(json_is_true(v) ? "true" : "false");
        if (!s) {
            snprintf(err, errlen, "Connector config value of '%.100s' must be a string", k);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, k, s);
    }
    return out;
}

/* ---- the check ------------------------------------------------------------------ */

static const char *str(const json_t *config, const char *key)
{
    const char *v = json_string_value(json_object_get(config, key));
    return v && v[0] ? v : NULL;
}

/* file, taken relative to dir, or absolute inside it; no ".." component. */
static int resolve_path(const char *dir, const char *file, char *out, size_t cap, char *err,
                        size_t errlen)
{
    if (!dir[0]) {
        snprintf(err, errlen, "Files are disabled: connect.file.dir is not set");
        return -1;
    }
    size_t dlen = strlen(dir);
    const char *rel = file;
    if (file[0] == '/') {
        if (strncmp(file, dir, dlen) != 0 || file[dlen] != '/') goto outside;
        rel = file + dlen + 1;
    }
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if ((n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.') || n == 0)
            goto outside;
        p += n;
        if (*p == '/') p++;
        if (*p == '\0' && p[-1] == '/') goto outside;
    }
    if (!rel[0] || (size_t)snprintf(out, cap, "%s/%s", dir, rel) >= cap) goto outside;
    return 0;
outside:
    snprintf(err, errlen, "Invalid value %.200s for configuration file: must name a file inside %s",
             file, dir);
    return -1;
}

static int check_source(const json_t *config, connect_spec_t *spec, char *err, size_t errlen)
{
    const char *topic = str(config, "topic");
    if (!topic) {
        snprintf(err, errlen,
                 "Missing required configuration \"topic\" which has no default value.");
        return -1;
    }
    if (strchr(topic, ',')) {
        snprintf(err, errlen, "'topic' configuration requires definition of a single topic");
        return -1;
    }
    if (strlen(topic) >= sizeof spec->topic || gn_topic_name_validate(topic, strlen(topic)) < 0 ||
        gn_topic_client_may_write(topic, "connector") < 0) {
        snprintf(err, errlen, "Invalid value %.249s for configuration topic", topic);
        return -1;
    }
    snprintf(spec->topic, sizeof spec->topic, "%s", topic);
    spec->batch_size = CONNECT_DEFAULT_BATCH;
    const char *bs = str(config, "batch.size");
    if (bs) {
        char *end;
        long v = strtol(bs, &end, 10);
        if (*end || v <= 0 || v > 100000) {
            snprintf(err, errlen, "Invalid value %.32s for configuration batch.size", bs);
            return -1;
        }
        spec->batch_size = (int)v;
    }
    return 0;
}

static int check_sink(const json_t *config, connect_spec_t *spec, char *err, size_t errlen)
{
    if (str(config, "topics.regex")) {
        snprintf(err, errlen, "topics.regex is not supported: list the topics in 'topics'");
        return -1;
    }
    const char *topics = str(config, "topics");
    if (!topics) {
        snprintf(err, errlen, "Must configure one of topics or topics.regex");
        return -1;
    }
    for (const char *p = topics; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        while (n && p[n - 1] == ' ')
            n--;
        if (!n) break;
        if (spec->ntopics == CONNECT_MAX_TOPICS || n >= sizeof spec->topics[0]) {
            snprintf(err, errlen, "Invalid value for configuration topics: at most %d topics",
                     CONNECT_MAX_TOPICS);
            return -1;
        }
        char *t = spec->topics[spec->ntopics++];
        memcpy(t, p, n);
        t[n] = '\0';
        if (gn_topic_name_validate(t, n) < 0) {
            snprintf(err, errlen, "Invalid value %.249s for configuration topics", t);
            return -1;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    if (!spec->ntopics) {
        snprintf(err, errlen, "Must configure one of topics or topics.regex");
        return -1;
    }
    return 0;
}

int connect_config_check(const json_t *config, const char *name, const char *dir,
                         connect_spec_t *spec, char *err, size_t errlen)
{
    memset(spec, 0, sizeof *spec);
    const char *cls = str(config, "connector.class");
    if (!cls) {
        snprintf(err, errlen, "Connector config contains no connector type");
        return -1;
    }
    if (!connect_class_name(cls, &spec->type)) {
        snprintf(
            err, errlen,
            "Failed to find any class that implements Connector and which name matches %.200s, "
            "available connectors are: FileStreamSource, FileStreamSink",
            cls);
        return -1;
    }
    const char *cname = str(config, "name");
    if (cname && strcmp(cname, name) != 0) {
        snprintf(err, errlen,
                 "Connector name configuration (%.200s) doesn't match connector name "
                 "in the URL (%.200s)",
                 cname, name);
        return -1;
    }
    const char *tasks = str(config, "tasks.max");
    if (tasks && (atoi(tasks) < 1)) {
        snprintf(err, errlen, "Invalid value %.32s for configuration tasks.max", tasks);
        return -1;
    }
    const char *file = str(config, "file");
    if (!file) {
        snprintf(err, errlen, "Missing required configuration \"file\": this broker has no %s",
                 spec->type == CONNECT_SOURCE ? "stdin" : "stdout");
        return -1;
    }
    if (resolve_path(dir, file, spec->path, sizeof spec->path, err, errlen) < 0) return -1;
    return spec->type == CONNECT_SOURCE ? check_source(config, spec, err, errlen)
                                        : check_sink(config, spec, err, errlen);
}

const char *connect_state_name(connect_state_t s)
{
    static const char *const names[] = {"UNASSIGNED", "RUNNING", "PAUSED", "FAILED"};
    return names[s];
}
