/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's offset checkpoint files: version line "0", entry count, then one
 * "<topic> <partition> <offset>" line per partition. A malformed file is ignored with
 * a warning (its logs recover fully), never a crash. Loop thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/checkpoint.h"
#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"
#include "topic/atomic_file.h"

#define CHECKPOINT_MAX (256u << 20)

int gn__checkpoint_add(gn__checkpoint_t *cp, const char *topic, int32_t partition, int64_t offset)
{
    if (cp->count == cp->cap) {
        size_t cap = cp->cap ? cp->cap * 2 : 16;
        gn__checkpoint_entry_t *e = realloc(cp->entries, cap * sizeof(*e));
        if (!e) return GN_ENOMEM;
        cp->entries = e;
        cp->cap = cap;
    }
    char *t = strdup(topic);
    if (!t) return GN_ENOMEM;
    cp->entries[cp->count++] = (gn__checkpoint_entry_t){t, partition, offset};
    return 0;
}

void gn__checkpoint_free(gn__checkpoint_t *cp)
{
    for (size_t i = 0; i < cp->count; i++)
        free(cp->entries[i].topic);
    free(cp->entries);
    memset(cp, 0, sizeof(*cp));
}

static int cmp_entry(const void *a, const void *b)
{
    const gn__checkpoint_entry_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c) return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

void gn__checkpoint_sort(gn__checkpoint_t *cp)
{
    if (cp->count > 1) qsort(cp->entries, cp->count, sizeof(cp->entries[0]), cmp_entry);
}

int64_t gn__checkpoint_get(const gn__checkpoint_t *cp, const char *topic, int32_t partition)
{
    if (!cp->count) return -1;
    gn__checkpoint_entry_t key = {(char *)topic, partition, 0};
    const gn__checkpoint_entry_t *e = bsearch(&key, cp->entries, cp->count, sizeof(key), cmp_entry);
    return e ? e->offset : -1;
}

/* Parses a decimal integer ending at a separator; advances *p. */
static int parse_num(char **p, char sep, int64_t *out)
{
    char *end;
    errno = 0;
    if (**p < '0' || **p > '9') {
        if (**p != '-') return -1;
    }
    long long v = strtoll(*p, &end, 10);
    if (errno || end == *p || *end != sep) return -1;
    *out = v;
    *p = end + 1;
    return 0;
}

static int parse(char *text, gn__checkpoint_t *cp, const char **why)
{
    char *p = text;
    int64_t version, count;
    if (parse_num(&p, '\n', &version) < 0 || version != 0) {
        *why = "bad version line";
        return -1;
    }
    if (parse_num(&p, '\n', &count) < 0 || count < 0) {
        *why = "bad count line";
        return -1;
    }
    for (int64_t i = 0; i < count; i++) {
        char *sp = strchr(p, ' ');
        char *nl = strchr(p, '\n');
        if (!sp || !nl || sp > nl) {
            *why = "bad entry line";
            return -1;
        }
        *sp = 0;
        if (gn_topic_name_validate(p, (size_t)(sp - p)) < 0) {
            *why = "bad topic name";
            return -1;
        }
        const char *topic = p;
        p = sp + 1;
        int64_t part, off;
        if (parse_num(&p, ' ', &part) < 0 || part < 0 || part > INT32_MAX ||
            parse_num(&p, '\n', &off) < 0 || off < 0) {
            *why = "bad partition or offset";
            return -1;
        }
        if (gn__checkpoint_add(cp, topic, (int32_t)part, off) < 0) {
            *why = "out of memory";
            return -1;
        }
    }
    if (*p) {
        *why = "more entries than counted";
        return -1;
    }
    return 0;
}

int gn__checkpoint_read(const char *path, gn__checkpoint_t *cp)
{
    char *text = NULL;
    size_t len = 0;
    memset(cp, 0, sizeof(*cp));
    int rc = gn__read_small_file(path, CHECKPOINT_MAX, &text, &len);
    if (rc == -ENOENT) return 0;
    if (rc < 0) {
        GN_WARN("broker", "cannot read checkpoint; logs recover fully | path=%s err=%s", path,
                gn_strerror(rc));
        return 0;
    }
    const char *why = NULL;
    if (strlen(text) != len) why = "NUL byte";
    if (!why && parse(text, cp, &why) < 0) gn__checkpoint_free(cp);
    if (why) {
        gn__checkpoint_free(cp);
        GN_WARN("broker", "ignoring corrupt checkpoint; logs recover fully | path=%s reason=\"%s\"",
                path, why);
    }
    free(text);
    gn__checkpoint_sort(cp);
    return 0;
}

char *gn__checkpoint_format(const gn__checkpoint_t *cp, size_t *len)
{
    size_t cap = 32;
    for (size_t i = 0; i < cp->count; i++)
        cap += strlen(cp->entries[i].topic) + 34;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    size_t n = (size_t)snprintf(buf, cap, "0\n%zu\n", cp->count);
    for (size_t i = 0; i < cp->count; i++)
        n +=
            (size_t)snprintf(buf + n, cap - n, "%s %" PRId32 " %" PRId64 "\n", cp->entries[i].topic,
                             cp->entries[i].partition, cp->entries[i].offset);
    *len = n;
    return buf;
}
