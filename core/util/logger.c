/* SPDX-License-Identifier: Apache-2.0 */
/* Structured log lines in logfmt on stderr, one write(2) per line so lines from the
 * loop and the thread pool never interleave. The level is set once by the gateway. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"

static volatile int current_level = GN_LEVEL_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void gn_logger_set_level(gn_log_level_t level)
{
    current_level = (int)level;
}

int gn_logger_enabled(gn_log_level_t level)
{
    return (int)level <= current_level;
}

int gn_logger_parse_level(const char *s, gn_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (gn_log_level_t)i;
            return 0;
        }
    }
    return GN_EINVAL;
}

/* Appends src to buf as a quoted logfmt value, escaping quotes and newlines. */
static size_t put_quoted(char *buf, size_t pos, size_t cap, const char *src, size_t n)
{
    if (pos < cap) buf[pos++] = '"';
    for (size_t i = 0; i < n && pos + 2 < cap; i++) {
        char c = src[i];
        if (c == '"' || c == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = c;
        } else if (c == '\n') {
            buf[pos++] = '\\';
            buf[pos++] = 'n';
        } else {
            buf[pos++] = c;
        }
    }
    if (pos < cap) buf[pos++] = '"';
    return pos;
}

void gn_logger_write(gn_log_level_t level, const char *module, const char *fmt, ...)
{
    if (!gn_logger_enabled(level)) return;
    char text[1536];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t tlen = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;

    const char *fields = NULL;
    size_t msg_len = tlen;
    const char *bar = strstr(text, " | ");
    if (bar) {
        msg_len = (size_t)(bar - text);
        fields = bar + 3;
    }

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char line[2048];
    size_t pos = (size_t)snprintf(
        line, sizeof(line),
        "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s mod=%s msg=", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
        level_names[level], module);
    pos = put_quoted(line, pos, sizeof(line) - 2, text, msg_len);
    if (fields && pos + 1 < sizeof(line) - 2) {
        int m = snprintf(line + pos, sizeof(line) - 2 - pos, " %s", fields);
        if (m > 0) pos += (size_t)m < sizeof(line) - 2 - pos ? (size_t)m : sizeof(line) - 3 - pos;
    }
    line[pos++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, pos);
    (void)w;
}
