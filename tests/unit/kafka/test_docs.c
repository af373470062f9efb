/* SPDX-License-Identifier: Apache-2.0 */
/* docs/kafka.md lists exactly the APIs and versions of the API table (the one the
 * broker dispatches on and answers ApiVersions from). Regenerate the block with
 * `unit_kafka_test_docs --print` and paste it between the markers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../adapters/kafka/kafka.h"

#define BEGIN "<!-- api-table:begin (generated: unit_kafka_test_docs --print) -->\n"
#define END   "<!-- api-table:end -->"

static size_t render(char *buf, size_t cap)
{
    size_t n = 0, count;
    const kafka_api_t *apis = kafka_api_table(&count);
    n += (size_t)snprintf(buf + n, cap - n,
                          "| key | API | versions | flexible (compact) versions |\n"
                          "|---:|---|---|---|\n");
    for (size_t i = 0; i < count && n < cap; i++) {
        char flex[32];
        if (apis[i].flexible_min <= apis[i].max_version)
            snprintf(flex, sizeof flex, "%d-%d",
                     apis[i].flexible_min > apis[i].min_version ? apis[i].flexible_min
                                                                : apis[i].min_version,
                     apis[i].max_version);
        else
            snprintf(flex, sizeof flex, "none");
        n += (size_t)snprintf(buf + n, cap - n, "| %d | %s | %d-%d | %s |\n", apis[i].api_key,
                              apis[i].name, apis[i].min_version, apis[i].max_version, flex);
    }
    return n;
}

static void test_docs__kafka_md_matches_the_api_table(void **state)
{
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/kafka/test_docs.c");
    assert_non_null(cut);
    strcpy(cut, "docs/kafka.md");
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot open %s", path);
    static char doc[1 << 16];
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = 0;
    char *begin = strstr(doc, BEGIN);
    if (!begin) fail_msg("docs/kafka.md lacks the api-table markers");
    begin += strlen(BEGIN);
    char *end = strstr(begin, END);
    assert_non_null(end);
    *end = 0;
    static char want[1 << 14];
    render(want, sizeof want);
    if (strcmp(begin, want))
        fail_msg("docs/kafka.md API table is stale; regenerate with --print:\n%s", want);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--print")) {
        static char out[1 << 14];
        render(out, sizeof out);
        fputs(out, stdout);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs__kafka_md_matches_the_api_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
