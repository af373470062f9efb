/* SPDX-License-Identifier: Apache-2.0 */
/* The `ganglion` program's configuration: defaults, then the JSON file (--config), then
 * the command-line flags, all driven by the key table (config_keys.c); --help and
 * docs/configuration.md are generated from the same table. Start-up (main thread) only. */
#ifndef GN_GATEWAY_CONFIG_H
#define GN_GATEWAY_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "config_keys.h"
#include "ganglion/adapter.h"

#define GN_GATEWAY_VERSION "0.1.0-dev"

/* gn_gateway_config_parse results besides negative errors. */
#define GN_GATEWAY_CONFIG_RUN  0 /* cfg is complete: run the broker */
#define GN_GATEWAY_CONFIG_DONE 1 /* --help, --version or --print-config-doc printed: exit 0 */

/* Fills every key with its default. 0, or -ENOMEM / GN_EINVALID_CONFIG (a bad table
 * default, written to err when err is not NULL). Free with gn_gateway_config_free even
 * on failure. */
int gn_gateway_config_init(gn_gateway_config_t *cfg, FILE *err);
void gn_gateway_config_free(gn_gateway_config_t *cfg);

/* Sets one key from its string form. 0, or GN_EINVALID_CONFIG with a sentence in
 * errbuf (unknown key, bad value, out of range), or -ENOMEM. cfg is unchanged on error. */
int gn_gateway_config_set(gn_gateway_config_t *cfg, const char *key, const char *value,
                          char *errbuf, size_t errcap);

/* Reads a JSON file holding one flat object of "key": string | number | boolean and
 * sets each key. 0, or GN_EINVALID_CONFIG after a message naming the file and key on err. */
int gn_gateway_config_load_file(gn_gateway_config_t *cfg, const char *path, FILE *err);

/* Renders one key's current value in the form the parser accepts (durations in ms).
 * Returns bytes written (truncated to cap-1), or GN_EINVALID_CONFIG for an unknown key. */
int gn_gateway_config_get(const gn_gateway_config_t *cfg, const char *key, char *buf, size_t cap);

/* Checks what no single key can: data.dir set, no two listeners on one port. */
int gn_gateway_config_check(const gn_gateway_config_t *cfg, FILE *err);

/* The whole start-up: init, the --config file, then the flags (--key=value or --key value;
 * a bool flag alone means true). Returns GN_GATEWAY_CONFIG_RUN, GN_GATEWAY_CONFIG_DONE
 * (help/version/doc written to out), or GN_EINVALID_CONFIG after a message on err (the
 * program exits 2). Free cfg with gn_gateway_config_free in every case. */
int gn_gateway_config_parse(gn_gateway_config_t *cfg, int argc, char **argv, FILE *out, FILE *err);

void gn_gateway_config_print_help(FILE *out);
/* docs/configuration.md, byte for byte. */
void gn_gateway_config_print_doc(FILE *out);

/* The listener settings of the adapter called name ("kafka"): the keys "<name>.host",
 * "<name>.port" and, if present, "<name>.advertised.host|port", plus
 * socket.request.max.bytes. Strings are borrowed from cfg. 0, or GN_ENOENT when the
 * table has no "<name>.port" key. */
int gn_gateway_config_listener(const gn_gateway_config_t *cfg, const char *name,
                               gn_listener_config_t *out);

#endif
