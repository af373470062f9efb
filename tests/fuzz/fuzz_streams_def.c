/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for stream processor definitions (adapters/http/streams_def.c): the
 * input is parsed as JSON and checked; a definition that checks is then run over a fixed
 * record through its stateless steps and, if it aggregates, its windowed state (an update,
 * one two windows earlier that may be late, the expiry), so the borrowed steps are
 * exercised too. Seeds: tests/fuzz/corpus/streams_def/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../adapters/http/streams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    streams_def_t def;
    char err[512];
    if (doc && streams_def_parse(doc, &def, err, sizeof err) == 0) {
        json_t *v = json_pack("{s:i,s:s,s:b,s:n}", "a", 150, "b", "x", "c", 1, "d");
        streams_rec_t rec = {v, NULL, 0};
        if (streams_pipeline_run(&def, &rec) && def.agg != AGG_NONE) {
            streams_state_t st;
            const char *why = NULL;
            streams_state_init(&st);
            json_t *out = NULL;
            streams_state_update(&st, &def, &rec, 1700000000123LL, &out, &why);
            json_decref(out);
            streams_state_update(&st, &def, &rec, 1700000000123LL - 2 * def.window_ms, &out, &why);
            json_decref(out);
            streams_state_expire(&st, &def);
            streams_state_clear(&st);
        }
        json_decref(rec.value);
        free(rec.key);
    }
    json_decref(doc);
    return 0;
}
