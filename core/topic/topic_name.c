/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's topic-name rules (Topic.validate): [a-zA-Z0-9._-], 1..249 characters, not
 * "." or "..", the '.'/'_' collision check Kafka warns about (metric names map both to
 * '_'), and which names clients may append to. Pure functions, any thread. */
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/logger.h"
#include "ganglion/topic.h"

static int legal_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int gn_topic_name_validate(const char *name, size_t len)
{
    if (!name || len == 0 || len > GN_TOPIC_NAME_MAX) return GN_EINVALID_TOPIC;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return GN_EINVALID_TOPIC;
    for (size_t i = 0; i < len; i++)
        if (!legal_char((unsigned char)name[i])) return GN_EINVALID_TOPIC;
    return 0;
}

bool gn_topic_name_internal(const char *name)
{
    return name && strncmp(name, "__", 2) == 0;
}

int gn_topic_client_may_write(const char *name, const char *what)
{
    if (!gn_topic_name_internal(name)) return 0;
    GN_WARN("topic", "refused: clients may not %s an internal topic | topic=%s", what, name);
    return GN_EINVALID_TOPIC;
}

bool gn_topic_name_collides(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return false;
    for (size_t i = 0; i < la; i++) {
        char ca = a[i] == '.' ? '_' : a[i];
        char cb = b[i] == '.' ? '_' : b[i];
        if (ca != cb) return false;
    }
    return true;
}
