/* SPDX-License-Identifier: Apache-2.0 */
/* Matches a request path and method against the route table (routes.c): patterns of
 * literal segments and {} placeholders, 404 when no pattern matches the path, 405 when
 * one does but not for this method. Media-type checks for 415. Pure functions. */
#include <string.h>
#include <strings.h>

#include "http.h"

/* One pattern against one path; fills params with the {} segments. */
static bool pattern_match(const char *pattern, const char *path, char params[][256])
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            const char *e = strchr(s, '/');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (len == 0 || len >= 256 || np >= HTTP_MAX_PARAMS) return false;
            memcpy(params[np], s, len);
            params[np][len] = '\0';
            np++;
            s += len;
            p += 2;
        } else if (*p == '*' && p[1] == '\0') {
            return true; /* prefix route */
        } else {
            if (*p != *s) return false;
            p++;
            s++;
        }
    }
    if (*p == '*' && p[1] == '\0') return true;
    if (*s == '/' && s[1] == '\0' && !*p) return true; /* tolerate one trailing slash */
    return !*p && !*s;
}

const http_route_t *http_route_match(const char *path, http_method_t m, char params[][256],
                                     int *status)
{
    bool path_known = false;
    for (size_t i = 0; i < http_routes_count; i++) {
        const http_route_t *r = &http_routes[i];
        char tmp[HTTP_MAX_PARAMS][256] = {{0}};
        if (!pattern_match(r->pattern, path, tmp)) continue;
        path_known = true;
        if (r->method != m && !(m == HTTP_HEAD && r->method == HTTP_GET)) continue;
        memcpy(params, tmp, sizeof tmp);
        return r;
    }
    *status = path_known ? 405 : 404;
    return NULL;
}

bool http_media_type_in(const char *content_type, const char *list)
{
    size_t tlen = strcspn(content_type, ";");
    while (tlen && content_type[tlen - 1] == ' ')
        tlen--;
    if (tlen == 0) return false;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, "|");
        if (len == tlen && strncasecmp(p, content_type, len) == 0) return true;
        p += len;
        if (*p == '|') p++;
    }
    return false;
}
