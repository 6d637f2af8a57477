/*
 * cli.h - command-line front end: parses commands and options, runs them, maps errors to exit
 * codes. The only place that decides exit codes:
 *   0 success, 1 data failed validation, 2 usage or configuration error,
 *   3 environment error (I/O, database), 4 refused by the execution mode.
 */
#ifndef ASTRO_CLI_CLI_H
#define ASTRO_CLI_CLI_H

enum {
    EXIT_OK = 0,
    EXIT_DATA = 1,
    EXIT_USAGE = 2,
    EXIT_ENV = 3,
    EXIT_REFUSED = 4
};

/* Runs astro with the given arguments and returns the process exit status. */
int cli_main(int argc, char **argv);

/* Maps an AE_* code to an exit status. */
int cli_exit_code(int ae_code);

#endif
