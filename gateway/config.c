/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the `ganglion` program's configuration from the key table (config_keys.c):
 * defaults, then the JSON file named by --config, then the command-line flags. Also
 * prints --help and docs/configuration.md from the same table, so they cannot drift.
 * Called once by main() before the loop starts; main thread only. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "config.h"
#include "ganglion/error.h"
#include "ganglion/topic.h"

#define VALUE_MAX 64 /* a normalised number or enum value */

/* ---- field access (memcpy: the fields have several declared types) ---- */

static void *field_ptr(gn_gateway_config_t *cfg, const gn_config_key_t *key)
{
    return (char *)cfg + key->offset;
}

static const void *field_cptr(const gn_gateway_config_t *cfg, const gn_config_key_t *key)
{
    return (const char *)cfg + key->offset;
}

static const char *field_string(const gn_gateway_config_t *cfg, const gn_config_key_t *key)
{
    const char *s;
    memcpy(&s, field_cptr(cfg, key), sizeof(s));
    return s ? s : "";
}

static int64_t field_int(const gn_gateway_config_t *cfg, const gn_config_key_t *key)
{
    const void *p = field_cptr(cfg, key);
    if (key->type == GN_CONFIG_LONG || key->type == GN_CONFIG_DURATION) {
        int64_t v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    if (key->size == sizeof(int16_t)) {
        int16_t v;
        memcpy(&v, p, sizeof(v));
        return v;
    }
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* ---- value parsing: string form -> number, and the normalised string ---- */

static int parse_int64(const char *s, int64_t *out)
{
    if (*s == '\0' || isspace((unsigned char)*s)) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE) return -2;
    if (*end != '\0') return -1;
    *out = v;
    return 0;
}

/* Milliseconds, or a number with a unit: ms, s, m, h, d. */
static int parse_duration(const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    if (*s == '\0' || isspace((unsigned char)*s)) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE) return -2;
    if (end == s) return -1;
    if (*end == '\0') {
        *out = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0) continue;
        if (v > INT64_MAX / units[i].ms || v < INT64_MIN / units[i].ms) return -2;
        *out = v * units[i].ms;
        return 0;
    }
    return -1;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0) return *out = false, 0;
    }
    return -1;
}

static int parse_enum(const gn_config_key_t *key, const char *s, int *out)
{
    for (int i = 0; key->choices[i]; i++) {
        if (strcasecmp(s, key->choices[i]) == 0) return *out = i, 0;
    }
    return -1;
}

static void choices_list(const gn_config_key_t *key, const char *sep, char *buf, size_t cap)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; key->choices[i] && pos < cap; i++) {
        int n = snprintf(buf + pos, cap - pos, "%s%s", i ? sep : "", key->choices[i]);
        if (n < 0) break;
        pos += (size_t)n;
    }
}

/* A parsed value, before it is stored. */
typedef struct parsed {
    int64_t i;
    bool b;
    char norm[VALUE_MAX]; /* canonical string form, for topic-level keys */
} parsed_t;

static int parse_value(const gn_config_key_t *key, const char *value, parsed_t *p, char *errbuf,
                       size_t errcap)
{
    int rc;
    switch (key->type) {
    case GN_CONFIG_INT:
    case GN_CONFIG_LONG:
    case GN_CONFIG_DURATION:
        rc = key->type == GN_CONFIG_DURATION ? parse_duration(value, &p->i)
                                             : parse_int64(value, &p->i);
        if (rc == -1) {
            snprintf(errbuf, errcap, "'%s' is not %s", value,
                     key->type == GN_CONFIG_DURATION
                         ? "a duration (milliseconds, or a number with ms, s, m, h or d)"
                         : "an integer");
            return GN_EINVALID_CONFIG;
        }
        if (rc == -2 || p->i < key->min || p->i > key->max) {
            snprintf(errbuf, errcap, "%s is out of range (%" PRId64 "..%" PRId64 ")", value,
                     key->min, key->max);
            return GN_EINVALID_CONFIG;
        }
        snprintf(p->norm, sizeof(p->norm), "%" PRId64, p->i);
        return 0;
    case GN_CONFIG_BOOL:
        if (parse_bool(value, &p->b) != 0) {
            snprintf(errbuf, errcap, "'%s' is not a boolean (true or false)", value);
            return GN_EINVALID_CONFIG;
        }
        snprintf(p->norm, sizeof(p->norm), "%s", p->b ? "true" : "false");
        return 0;
    case GN_CONFIG_ENUM: {
        int idx;
        if (parse_enum(key, value, &idx) != 0) {
            char list[256];
            choices_list(key, ", ", list, sizeof(list));
            snprintf(errbuf, errcap, "'%s' is not one of %s", value, list);
            return GN_EINVALID_CONFIG;
        }
        p->i = idx;
        snprintf(p->norm, sizeof(p->norm), "%s", key->choices[idx]);
        return 0;
    }
    case GN_CONFIG_DOUBLE: {
        errno = 0;
        char *end;
        double d = strtod(value, &end);
        if (*value == '\0' || *end != '\0' || errno == ERANGE || !isfinite(d)) {
            snprintf(errbuf, errcap, "'%s' is not a number", value);
            return GN_EINVALID_CONFIG;
        }
        snprintf(p->norm, sizeof(p->norm), "%s", value);
        return 0;
    }
    case GN_CONFIG_STRING:
        return 0; /* value itself; may be longer than norm */
    }
    snprintf(errbuf, errcap, "key has an unknown type");
    return GN_EINVALID_CONFIG;
}

static int store_field(gn_gateway_config_t *cfg, const gn_config_key_t *key, const char *value,
                       const parsed_t *p)
{
    void *dst = field_ptr(cfg, key);
    switch (key->type) {
    case GN_CONFIG_INT:
        if (key->size == sizeof(int16_t)) {
            int16_t v = (int16_t)p->i;
            memcpy(dst, &v, sizeof(v));
        } else {
            int32_t v = (int32_t)p->i;
            memcpy(dst, &v, sizeof(v));
        }
        return 0;
    case GN_CONFIG_LONG:
    case GN_CONFIG_DURATION:
        memcpy(dst, &p->i, sizeof(p->i));
        return 0;
    case GN_CONFIG_BOOL:
        memcpy(dst, &p->b, sizeof(p->b));
        return 0;
    case GN_CONFIG_ENUM: {
        int v = (int)p->i;
        memcpy(dst, &v, sizeof(v));
        return 0;
    }
    case GN_CONFIG_STRING: {
        char *copy = strdup(value);
        if (!copy) return -ENOMEM;
        char *old;
        memcpy(&old, dst, sizeof(old));
        free(old);
        memcpy(dst, &copy, sizeof(copy));
        return 0;
    }
    case GN_CONFIG_DOUBLE:
        break; /* topic-level only */
    }
    return GN_EINVALID_CONFIG;
}

/* ---- "did you mean": the closest key by edit distance ---- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* flag: name came from the command line (--name), else from a file or a call. */
static void unknown_key_message(const char *name, bool flag, char *errbuf, size_t errcap)
{
    size_t count, best = SIZE_MAX;
    const gn_config_key_t *keys = gn_config_keys(&count), *near = NULL;
    for (size_t i = 0; i < count; i++) {
        size_t d = edit_distance(name, keys[i].name);
        if (d < best) best = d, near = &keys[i];
    }
    const char *what = flag ? "flag" : "key", *dash = flag ? "--" : "'", *end = flag ? "" : "'";
    if (near && best <= 3)
        snprintf(errbuf, errcap,
                 "unknown %s %s%s%s (did you mean %s%s%s? ganglion --help "
                 "lists every key)",
                 what, dash, name, end, dash, near->name, end);
    else
        snprintf(errbuf, errcap, "unknown %s %s%s%s (ganglion --help lists every key)", what, dash,
                 name, end);
}

/* ---- the public setters ---- */

static int set_key(gn_gateway_config_t *cfg, const gn_config_key_t *key, const char *value,
                   char *errbuf, size_t errcap)
{
    parsed_t p = {0};
    int rc = parse_value(key, value, &p, errbuf, errcap);
    if (rc != 0) return rc;
    if (key->target == GN_CONFIG_FIELD) return store_field(cfg, key, value, &p);

    /* Topic-level default: the topic module validates Kafka's ranges. */
    const char *norm = key->type == GN_CONFIG_STRING ? value : p.norm;
    gn_topic_config_t tmp = cfg->broker.topic_defaults;
    if (gn_topic_config_set(&tmp, key->topic_key, norm) != 0) {
        snprintf(errbuf, errcap, "'%s' is not a valid value (topic config %s)", value,
                 key->topic_key);
        return GN_EINVALID_CONFIG;
    }
    cfg->broker.topic_defaults = tmp;
    return 0;
}

int gn_gateway_config_set(gn_gateway_config_t *cfg, const char *key, const char *value,
                          char *errbuf, size_t errcap)
{
    const gn_config_key_t *row = gn_config_key_find(key);
    if (!row) {
        unknown_key_message(key, false, errbuf, errcap);
        return GN_EINVALID_CONFIG;
    }
    return set_key(cfg, row, value, errbuf, errcap);
}

int gn_gateway_config_init(gn_gateway_config_t *cfg, FILE *err)
{
    memset(cfg, 0, sizeof(*cfg));
    gn_broker_config_defaults(&cfg->broker);
    cfg->broker.data_dir = NULL; /* ours to own from here */
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        char msg[256];
        int rc = set_key(cfg, &keys[i], keys[i].default_value, msg, sizeof(msg));
        if (rc != 0) {
            if (err) fprintf(err, "ganglion: default of %s: %s\n", keys[i].name, msg);
            return rc;
        }
    }
    return 0;
}

void gn_gateway_config_free(gn_gateway_config_t *cfg)
{
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        if (keys[i].type != GN_CONFIG_STRING || keys[i].target != GN_CONFIG_FIELD) continue;
        char *s, *null = NULL;
        memcpy(&s, field_ptr(cfg, &keys[i]), sizeof(s));
        free(s);
        memcpy(field_ptr(cfg, &keys[i]), &null, sizeof(null));
    }
}

/* ---- the JSON file ---- */

int gn_gateway_config_load_file(gn_gateway_config_t *cfg, const char *path, FILE *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    int rc = GN_EINVALID_CONFIG;
    if (!root) {
        if (jerr.line > 0)
            fprintf(err, "ganglion: %s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
        else
            fprintf(err, "ganglion: cannot read config file %s: %s\n", path, jerr.text);
        return rc;
    }
    if (!json_is_object(root)) {
        fprintf(err, "ganglion: %s: must hold one JSON object of \"key\": value pairs\n", path);
        goto out;
    }
    const char *name;
    json_t *val;
    json_object_foreach(root, name, val)
    {
        char buf[VALUE_MAX], msg[512];
        const char *value = buf;
        const gn_config_key_t *key = gn_config_key_find(name);
        if (!key) {
            unknown_key_message(name, false, msg, sizeof(msg));
            fprintf(err, "ganglion: %s: %s\n", path, msg);
            goto out;
        }
        if (strcmp(name, "config") == 0) {
            fprintf(err, "ganglion: %s: key 'config' is only accepted on the command line\n", path);
            goto out;
        }
        switch (json_typeof(val)) {
        case JSON_STRING:
            value = json_string_value(val);
            break;
        case JSON_INTEGER:
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(val));
            break;
        case JSON_REAL:
            snprintf(buf, sizeof(buf), "%.17g", json_real_value(val));
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            snprintf(buf, sizeof(buf), "%s", json_is_true(val) ? "true" : "false");
            break;
        default:
            fprintf(err,
                    "ganglion: %s: key '%s': the value must be a string, number or "
                    "boolean\n",
                    path, name);
            goto out;
        }
        if (set_key(cfg, key, value, msg, sizeof(msg)) != 0) {
            fprintf(err, "ganglion: %s: key '%s': %s\n", path, name, msg);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int gn_gateway_config_get(const gn_gateway_config_t *cfg, const char *name, char *buf, size_t cap)
{
    const gn_config_key_t *key = gn_config_key_find(name);
    if (!key || cap == 0) return GN_EINVALID_CONFIG;
    if (key->target == GN_CONFIG_TOPIC) {
        int n = gn_topic_config_get(&cfg->broker.topic_defaults, key->topic_key, buf, cap);
        return n < 0 ? GN_EINVALID_CONFIG : n;
    }
    int n = 0;
    switch (key->type) {
    case GN_CONFIG_INT:
    case GN_CONFIG_LONG:
    case GN_CONFIG_DURATION:
        n = snprintf(buf, cap, "%" PRId64, field_int(cfg, key));
        break;
    case GN_CONFIG_BOOL: {
        bool b;
        memcpy(&b, field_cptr(cfg, key), sizeof(b));
        n = snprintf(buf, cap, "%s", b ? "true" : "false");
        break;
    }
    case GN_CONFIG_ENUM: {
        int v, count = 0;
        memcpy(&v, field_cptr(cfg, key), sizeof(v));
        while (key->choices[count])
            count++;
        n = snprintf(buf, cap, "%s", v >= 0 && v < count ? key->choices[v] : "?");
        break;
    }
    case GN_CONFIG_STRING:
        n = snprintf(buf, cap, "%s", field_string(cfg, key));
        break;
    case GN_CONFIG_DOUBLE:
        return GN_EINVALID_CONFIG; /* topic-level only */
    }
    return n < 0 ? GN_EINVALID_CONFIG : (size_t)n < cap ? n : (int)cap - 1;
}

/* ---- cross-key checks ---- */

/* "<name>.tls": the TLS listener of adapter <name>, on its host, at its tls_port. */
static int tls_listener(const gn_gateway_config_t *cfg, const char *name, gn_listener_config_t *out)
{
    char base[64];
    size_t len = strlen(name) - 4;
    if (len >= sizeof(base)) return GN_ENOENT;
    memcpy(base, name, len);
    base[len] = '\0';
    int rc = gn_gateway_config_listener(cfg, base, out);
    if (rc == 0) {
        out->port = out->tls_port;
        out->advertised_port = out->tls_advertised_port;
        out->tls_port = out->tls_advertised_port = 0;
    }
    return rc;
}

int gn_gateway_config_listener(const gn_gateway_config_t *cfg, const char *name,
                               gn_listener_config_t *out)
{
    char buf[128];
    const gn_config_key_t *key;
    size_t nlen = strlen(name);
    if (nlen > 4 && strcmp(name + nlen - 4, ".tls") == 0) return tls_listener(cfg, name, out);
    memset(out, 0, sizeof(*out));
    snprintf(buf, sizeof(buf), "%s.port", name);
    if (!(key = gn_config_key_find(buf)) || key->target != GN_CONFIG_FIELD) return GN_ENOENT;
    out->port = (int)field_int(cfg, key);
    snprintf(buf, sizeof(buf), "%s.host", name);
    out->host = (key = gn_config_key_find(buf)) ? field_string(cfg, key) : "0.0.0.0";
    snprintf(buf, sizeof(buf), "%s.advertised.host", name);
    if ((key = gn_config_key_find(buf)) && *field_string(cfg, key))
        out->advertised_host = field_string(cfg, key);
    snprintf(buf, sizeof(buf), "%s.advertised.port", name);
    if ((key = gn_config_key_find(buf))) out->advertised_port = (int)field_int(cfg, key);
    out->max_request_bytes = (long)cfg->socket_request_max_bytes;
    out->max_idle_ms = (long)cfg->connections_max_idle_ms;
    snprintf(buf, sizeof(buf), "%s.allow.anonymous", name);
    out->allow_anonymous = true;
    if ((key = gn_config_key_find(buf)))
        memcpy(&out->allow_anonymous, field_cptr(cfg, key), sizeof(bool));
    snprintf(buf, sizeof(buf), "%s.auth", name); /* http.auth: none | basic */
    if ((key = gn_config_key_find(buf)) && key->type == GN_CONFIG_ENUM && field_int(cfg, key) != 0)
        out->allow_anonymous = false;
    /* the TLS listener is on only with a certificate (the gateway sets out->tls) */
    snprintf(buf, sizeof(buf), "%s.tls.port", name);
    if (*cfg->tls_cert_file && (key = gn_config_key_find(buf)))
        out->tls_port = (int)field_int(cfg, key);
    snprintf(buf, sizeof(buf), "%s.tls.advertised.port", name);
    if (out->tls_port && (key = gn_config_key_find(buf)))
        out->tls_advertised_port = (int)field_int(cfg, key);
    return 0;
}

/* Listener names: every "<name>.port" key that is not "<name>.advertised.port". */
static bool listener_name(const gn_config_key_t *key, char *name, size_t cap)
{
    size_t len = strlen(key->name);
    if (len < 6 || strcmp(key->name + len - 5, ".port") != 0) return false;
    if (len >= 16 && strcmp(key->name + len - 16, ".advertised.port") == 0) return false;
    if (len - 5 >= cap) return false;
    memcpy(name, key->name, len - 5);
    name[len - 5] = '\0';
    return true;
}

static bool hosts_overlap(const char *a, const char *b)
{
    return strcmp(a, b) == 0 || strcmp(a, "0.0.0.0") == 0 || strcmp(b, "0.0.0.0") == 0 ||
           strcmp(a, "::") == 0 || strcmp(b, "::") == 0;
}

int gn_gateway_config_check(const gn_gateway_config_t *cfg, FILE *err)
{
    if (!cfg->broker.data_dir || !*cfg->broker.data_dir) {
        fprintf(err, "ganglion: data.dir must not be empty\n");
        return GN_EINVALID_CONFIG;
    }
    if (!cfg->mqtt_allow_anonymous && !*cfg->auth_users_file) {
        fprintf(err, "ganglion: mqtt.allow.anonymous=false needs auth.users.file (no user "
                     "could connect)\n");
        return GN_EINVALID_CONFIG;
    }
    if (!cfg->kafka_allow_anonymous && !*cfg->auth_users_file) {
        fprintf(err, "ganglion: kafka.allow.anonymous=false needs auth.users.file (no user "
                     "could connect)\n");
        return GN_EINVALID_CONFIG;
    }
    if (cfg->http_auth && !*cfg->auth_users_file) {
        fprintf(err, "ganglion: http.auth=basic needs auth.users.file (no user could "
                     "authenticate)\n");
        return GN_EINVALID_CONFIG;
    }
    if (*cfg->tls_cert_file && !*cfg->tls_key_file) {
        fprintf(err, "ganglion: tls.cert.file needs tls.key.file\n");
        return GN_EINVALID_CONFIG;
    }
    if (cfg->tls_client_auth != 0 && !*cfg->tls_ca_file) {
        fprintf(err,
                "ganglion: ssl.client.auth=%s needs tls.ca.file (client certificates are "
                "checked against it)\n",
                cfg->tls_client_auth == 1 ? "requested" : "required");
        return GN_EINVALID_CONFIG;
    }
    if (cfg->cluster_tls_enabled && (!*cfg->cluster_tls_cert_file || !*cfg->cluster_tls_key_file ||
                                     !*cfg->cluster_tls_ca_file)) {
        fprintf(err, "ganglion: cluster.tls.enabled needs cluster.tls.cert.file, "
                     "cluster.tls.key.file and cluster.tls.ca.file\n");
        return GN_EINVALID_CONFIG;
    }
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        char a[64];
        gn_listener_config_t la;
        if (!listener_name(&keys[i], a, sizeof(a))) continue;
        if (gn_gateway_config_listener(cfg, a, &la) != 0 || la.port == 0) continue;
        if (!*la.host) {
            fprintf(err, "ganglion: %s.host must not be empty while %s.port is %d\n", a, a,
                    la.port);
            return GN_EINVALID_CONFIG;
        }
        for (size_t j = i + 1; j < count; j++) {
            char b[64];
            gn_listener_config_t lb;
            if (!listener_name(&keys[j], b, sizeof(b))) continue;
            if (gn_gateway_config_listener(cfg, b, &lb) != 0 || lb.port != la.port) continue;
            if (!hosts_overlap(la.host, lb.host)) continue;
            fprintf(err, "ganglion: %s.port and %s.port both listen on port %d\n", a, b, la.port);
            return GN_EINVALID_CONFIG;
        }
    }
    return 0;
}

/* ---- --help and docs/configuration.md ---- */

static void default_text(const gn_config_key_t *key, char *buf, size_t cap)
{
    if (key->default_value[0] == '\0')
        snprintf(buf, cap, "%s", "none");
    else
        snprintf(buf, cap, "%s", key->default_value);
}

static void type_text(const gn_config_key_t *key, const char *sep, char *buf, size_t cap)
{
    if (key->type == GN_CONFIG_ENUM)
        choices_list(key, sep, buf, cap);
    else
        snprintf(buf, cap, "%s", gn_config_type_name(key->type));
}

/* Writes text wrapped at width columns, each line indented by indent spaces. */
static void put_wrapped(FILE *out, const char *text, int indent, int width)
{
    int col = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t wlen = strcspn(p, " ");
        if (wlen == 0) break;
        if (col > indent && col + 1 + (int)wlen > width) {
            fputc('\n', out);
            col = 0;
        }
        if (col == 0) {
            fprintf(out, "%*s", indent, "");
            col = indent;
        } else {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, wlen, out);
        col += (int)wlen;
        p += wlen;
    }
    if (col) fputc('\n', out);
}

void gn_gateway_config_print_help(FILE *out)
{
    fputs("Usage: ganglion [--config=FILE] [--KEY=VALUE | --KEY VALUE]...\n"
          "\n"
          "Ganglion, an event-streaming broker: Kafka's durable partitioned log, for Kafka,\n"
          "MQTT, HTTP and WebSocket clients. Each key takes its default, then its value in\n"
          "the JSON file given with --config (a flat object of \"key\": value), then its\n"
          "command-line flag; the last one wins. A bool flag alone means true. Durations\n"
          "are milliseconds or a number with a unit (500ms, 30s, 5m, 2h, 7d).\n"
          "\n"
          "  -h, --help             print this help and exit\n"
          "      --version          print the version and exit\n"
          "      --print-config-doc print the configuration reference (markdown) and exit\n",
          out);
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    const char *group = NULL;
    for (size_t i = 0; i < count; i++) {
        const gn_config_key_t *key = &keys[i];
        char type[256], def[64];
        if (!group || strcmp(group, key->group) != 0) {
            group = key->group;
            fprintf(out, "\n%s:\n", group);
        }
        type_text(key, "|", type, sizeof(type));
        default_text(key, def, sizeof(def));
        fprintf(out, "  --%s=<%s>  (default: %s)\n", key->name, type, def);
        put_wrapped(out, key->doc, 6, 79);
    }
}

/* Markdown table cells: '|' would end the cell. */
static void put_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s, out);
    }
}

void gn_gateway_config_print_doc(FILE *out)
{
    fputs("<!-- Generated by `ganglion --print-config-doc` from gateway/config_keys.c; do not "
          "edit by hand. -->\n"
          "# Configuration\n"
          "\n"
          "`ganglion` takes every key below from three places, each overriding the one "
          "before:\n"
          "\n"
          "1. the default in the table;\n"
          "2. the JSON file given with `--config=FILE`: one flat object of `\"key\": value` "
          "pairs, values being strings, numbers or booleans, e.g.\n"
          "   `{\"data.dir\": \"/var/lib/ganglion\", \"kafka.port\": 9092, "
          "\"auto.create.topics.enable\": false}`;\n"
          "3. the command line: `--key=value` or `--key value` (a bool flag alone means "
          "`true`).\n"
          "\n"
          "An unknown key or a bad value stops `ganglion` with a message naming it and exit "
          "code 2. Durations are milliseconds, or a number with a unit: `500ms`, `30s`, `5m`, "
          "`2h`, `7d`. A listener whose port is 0 is off.\n"
          "\n"
          "Also on the command line: `--help` (this list), `--version`, and "
          "`--print-config-doc` (this file).\n"
          "\n"
          "The *Topic defaults* are the broker-wide defaults of Kafka's topic-level configs "
          "(named in parentheses); a topic's own setting overrides them.\n",
          out);
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    const char *group = NULL;
    for (size_t i = 0; i < count; i++) {
        const gn_config_key_t *key = &keys[i];
        char type[320];
        if (!group || strcmp(group, key->group) != 0) {
            group = key->group;
            fprintf(out, "\n## %s\n\n| Key | Type | Default | Description |\n|---|---|---|---|\n",
                    group);
        }
        if (key->type == GN_CONFIG_ENUM) {
            char list[256];
            choices_list(key, "`, `", list, sizeof(list));
            snprintf(type, sizeof(type), "enum: `%s`", list);
        } else {
            snprintf(type, sizeof(type), "%s", gn_config_type_name(key->type));
        }
        fprintf(out, "| `%s` | ", key->name);
        put_cell(out, type);
        fputs(" | ", out);
        if (key->default_value[0]) {
            fputc('`', out);
            put_cell(out, key->default_value);
            fputc('`', out);
        } else {
            fputs("*(none)*", out);
        }
        fputs(" | ", out);
        put_cell(out, key->doc);
        fputs(" |\n", out);
    }
}

/* ---- the command line ---- */

typedef struct flag {
    const gn_config_key_t *key;
    const char *value;
} flag_t;

int gn_gateway_config_parse(gn_gateway_config_t *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    int rc = gn_gateway_config_init(cfg, err);
    if (rc != 0) return rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            gn_gateway_config_print_help(out);
            return GN_GATEWAY_CONFIG_DONE;
        }
        if (strcmp(argv[i], "--version") == 0) {
            fprintf(out, "ganglion %s (libuv %s, jansson %s)\n", GN_GATEWAY_VERSION,
                    uv_version_string(), JANSSON_VERSION);
            return GN_GATEWAY_CONFIG_DONE;
        }
        if (strcmp(argv[i], "--print-config-doc") == 0) {
            gn_gateway_config_print_doc(out);
            return GN_GATEWAY_CONFIG_DONE;
        }
    }

    /* Pass 1: split the flags, find --config. Pass 2: file, then flags in order. */
    rc = GN_EINVALID_CONFIG;
    flag_t *flags = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*flags));
    size_t nflags = 0;
    const char *config_path = NULL;
    if (!flags) {
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char name[128], msg[512];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            fprintf(err,
                    "ganglion: unexpected argument '%s' (flags are --key=value; "
                    "ganglion --help lists them)\n",
                    arg);
            goto out;
        }
        const char *eq = strchr(arg + 2, '=');
        size_t nlen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        snprintf(name, sizeof(name), "%.*s", (int)nlen, arg + 2);
        const gn_config_key_t *key = gn_config_key_find(name);
        if (!key) {
            unknown_key_message(name, true, msg, sizeof(msg));
            fprintf(err, "ganglion: %s\n", msg);
            goto out;
        }
        const char *value;
        bool b;
        if (eq) {
            value = eq + 1;
        } else if (key->type == GN_CONFIG_BOOL) {
            /* "--flag" alone is true; "--flag false" also works. */
            if (i + 1 < argc && parse_bool(argv[i + 1], &b) == 0)
                value = argv[++i];
            else
                value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(err, "ganglion: --%s needs a value (--%s=VALUE)\n", name, name);
            goto out;
        }
        if (strcmp(key->name, "config") == 0) config_path = value;
        flags[nflags++] = (flag_t){key, value};
    }

    if (config_path && *config_path && gn_gateway_config_load_file(cfg, config_path, err) != 0)
        goto out;
    for (size_t i = 0; i < nflags; i++) {
        char msg[512];
        int src = set_key(cfg, flags[i].key, flags[i].value, msg, sizeof(msg));
        if (src != 0) {
            fprintf(err, "ganglion: --%s: %s\n", flags[i].key->name, msg);
            if (src == -ENOMEM) rc = src;
            goto out;
        }
    }
    if (gn_gateway_config_check(cfg, err) != 0) goto out;
    rc = GN_GATEWAY_CONFIG_RUN;
out:
    free(flags);
    return rc;
}
