/*
 * cli.c - placeholder dispatcher; the commands land in their own files.
 */
#include "cli/cli.h"

#include "util/err.h"

#include <stdio.h>
#include <string.h>

int cli_exit_code(int ae_code)
{
    switch (ae_code) {
    case AE_OK: return EXIT_OK;
    case AE_DATA: return EXIT_DATA;
    case AE_CONFIG: return EXIT_USAGE;
    case AE_BUSY: return EXIT_REFUSED;
    default: return EXIT_ENV;
    }
}

int cli_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("astro %s\n", ASTRO_VERSION);
        return EXIT_OK;
    }
    fprintf(stderr, "usage: astro COMMAND ...\n");
    return EXIT_USAGE;
}
