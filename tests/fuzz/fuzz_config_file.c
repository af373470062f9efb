/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the JSON config file (gateway/config.c, --config=FILE): the
 * input is the file's text, read with gn_gateway_config_load_file over the defaults, then
 * checked as start-up checks it (gn_gateway_config_check, the listeners). A refused file
 * must say why; every key of a loaded config must render (gn_gateway_config_get) as a
 * value the parser takes back unchanged. The file lives in a private temp dir (on
 * /dev/shm when there is one). Seeds: tests/fuzz/corpus/config_file/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../gateway/config.h"

static char path[128];
static FILE *sink;

static void init_once(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "%s/gn-fuzz-config-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!(sink = fopen("/dev/null", "w"))) abort();
}

/* get -> set -> get gives the same text for every key. */
static void check_round_trip(gn_gateway_config_t *cfg)
{
    size_t count;
    const gn_config_key_t *keys = gn_config_keys(&count);
    for (size_t i = 0; i < count; i++) {
        char a[4096], b[4096], err[512];
        if (gn_gateway_config_get(cfg, keys[i].name, a, sizeof a) < 0) abort();
        if (gn_gateway_config_set(cfg, keys[i].name, a, err, sizeof err) != 0) abort();
        if (gn_gateway_config_get(cfg, keys[i].name, b, sizeof b) < 0 || strcmp(a, b) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink) init_once();
    FILE *fp = fopen(path, "w");
    if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0) abort();
    gn_gateway_config_t cfg;
    if (gn_gateway_config_init(&cfg, sink) != 0) abort();
    char *msg = NULL;
    size_t msglen = 0;
    FILE *err = open_memstream(&msg, &msglen);
    if (!err) abort();
    int rc = gn_gateway_config_load_file(&cfg, path, err);
    fclose(err);
    if (rc != 0 && msglen == 0) abort(); /* refused without a word */
    free(msg);
    if (rc == 0) {
        (void)gn_gateway_config_check(&cfg, sink);
        static const char *const adapters[] = {"kafka", "mqtt", "http", "nope"};
        for (size_t i = 0; i < 4; i++) {
            gn_listener_config_t l;
            (void)gn_gateway_config_listener(&cfg, adapters[i], &l);
        }
        check_round_trip(&cfg);
    }
    gn_gateway_config_free(&cfg);
    return 0;
}
