/* SPDX-License-Identifier: Apache-2.0 */
/* Serves the console: "/" is web/index.html, "/console/<file>" the other static ES
 * modules and styles of web/ (GN_WEB_DIR at build time, GANGLION_WEB_DIR at run
 * time). Names are checked (no "..", a fixed character set) and files bounded.
 * Loop thread only (files are small and read at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/error.h"
#include "http.h"

#ifndef GN_WEB_DIR
#define GN_WEB_DIR "web"
#endif
#define STATIC_MAX_BYTES (4u << 20)

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".ico", "image/x-icon"},
};

static bool name_ok(const char *name)
{
    if (!*name || strstr(name, "..") || name[0] == '/') return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-' || *c == '/'))
            return false;
    return true;
}

int http_handle_static(http_req_t *req)
{
    const char *name = strcmp(req->path, "/") == 0 ? "index.html" : req->path + strlen("/console/");
    if (!name_ok(name)) {
        http_respond_error(req, 404, 40401, "Not found: %s", req->path);
        return 0;
    }
    const char *dir = getenv("GANGLION_WEB_DIR");
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : GN_WEB_DIR, name);
    const char *type = "application/octet-stream";
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0) type = types[i].type;
    FILE *f = fopen(path, "rb");
    if (!f) {
        http_respond_error(req, 404, 40401, "Not found: %s", req->path);
        return 0;
    }
    char *buf = malloc(STATIC_MAX_BYTES);
    size_t n = buf ? fread(buf, 1, STATIC_MAX_BYTES, f) : 0;
    fclose(f);
    if (!buf) return GN_ENOMEM;
    http_req_add_header(req, "Cache-Control", "no-cache");
    http_respond(req, 200, type, buf, n);
    free(buf);
    return 0;
}
