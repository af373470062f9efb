/* SPDX-License-Identifier: Apache-2.0 */
/* Structured log lines (logfmt: ts=... level=... mod=... msg="..." k=v) to stderr.
 * The gateway sets the level at start-up; every module logs through these macros.
 * Any thread (one write(2) per line). */
#ifndef GANGLION_LOGGER_H
#define GANGLION_LOGGER_H

typedef enum gn_log_level {
    GN_LEVEL_ERROR = 0,
    GN_LEVEL_WARN = 1,
    GN_LEVEL_INFO = 2,
    GN_LEVEL_DEBUG = 3,
} gn_log_level_t;

void gn_logger_set_level(gn_log_level_t level);
int gn_logger_parse_level(const char *s, gn_log_level_t *out);
int gn_logger_enabled(gn_log_level_t level);
/* msg is a printf format; the text after the first " | " is appended verbatim as
 * key=value fields, e.g. GN_INFO("log", "truncated torn tail | dir=%s bytes=%lld", d, n). */
void gn_logger_write(gn_log_level_t level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define GN_ERROR(mod, ...) gn_logger_write(GN_LEVEL_ERROR, mod, __VA_ARGS__)
#define GN_WARN(mod, ...)  gn_logger_write(GN_LEVEL_WARN, mod, __VA_ARGS__)
#define GN_INFO(mod, ...)  gn_logger_write(GN_LEVEL_INFO, mod, __VA_ARGS__)
#define GN_DEBUG(mod, ...)                                                                         \
    do {                                                                                           \
        if (gn_logger_enabled(GN_LEVEL_DEBUG)) gn_logger_write(GN_LEVEL_DEBUG, mod, __VA_ARGS__);  \
    } while (0)

#endif
