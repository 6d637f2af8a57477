/*
 * cmd_schema.c - `astro schema infer FILE`: prints a Pandera YAML schema inferred from a CSV file
 * (advice only: ingest never infers).
 */
#include "cli/commands.h"

#include "util/err.h"

#include <stdio.h>

int cmd_schema(const struct cli_globals *g, int argc, char **argv)
{
    (void)g;
    (void)argc;
    (void)argv;
    fputs("astro: schema infer is not implemented yet\n", stderr);
    return AE_CONFIG;
}
