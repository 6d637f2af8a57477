/*
 * commands.h - the options every command shares, and the command entry points. Each command
 * returns an AE_* code (0 on success); cli.c maps it to the exit status.
 */
#ifndef ASTRO_CLI_COMMANDS_H
#define ASTRO_CLI_COMMANDS_H

#include "util/log.h"

#include <stdbool.h>

struct cli_globals {
    const char *config_path; /* --config, default ./astro.yaml */
    bool log_json;           /* --log-format json */
    enum log_level level;    /* -q: WARN, default INFO, -v: DEBUG */
};

/* astro ingest SOURCE_DIR [--compression CODEC] */
int cmd_ingest(const struct cli_globals *g, int argc, char **argv);

#endif
