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

/* astro validate FILE [--spec NAME] [--format text|json] [--fail-fast] [--max-failure-cases N]
 * [--failure-cases csv] [--failure-cases-file PATH]: 0 valid, AE_DATA invalid. */
int cmd_validate(const struct cli_globals *g, int argc, char **argv);

/* astro schema infer FILE [--rows N] [--encoding E] [--delimiter D] [--no-header]: prints a
 * Pandera YAML schema inferred from the file (advice only). */
int cmd_schema(const struct cli_globals *g, int argc, char **argv);

/* astro run [RUN_ID], astro runs, astro status RUN_ID (cmd_run.c) */
int cmd_run(const struct cli_globals *g, int argc, char **argv);
int cmd_runs(const struct cli_globals *g, int argc, char **argv);
int cmd_status(const struct cli_globals *g, int argc, char **argv);

/* astro watch [DATA_ROOT] [--once] [--threads N] (cmd_watch.c) */
int cmd_watch(const struct cli_globals *g, int argc, char **argv);

#endif
