/*
 * cli.h - command-line front end: parses commands and options, runs them, maps errors to exit
 * codes. The only place that decides exit codes:
 *   0 success, 1 data failed validation, 2 usage or configuration error,
 *   3 environment error (I/O, database), 4 refused by the execution mode.
 */
#ifndef ASTRO_CLI_CLI_H
#define ASTRO_CLI_CLI_H

#include "util/err.h"

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

/* --threads: how many threads work on one file (reading, validating and writing; see
 * ingest/engine.h). The default is the number of online processors, at most
 * CLI_MAX_DEFAULT_THREADS. */
#define CLI_MAX_DEFAULT_THREADS 8
#define CLI_MAX_THREADS 64
int cli_default_threads(void);
/* Parses a --threads value: a whole number 1..CLI_MAX_THREADS, else AE_CONFIG. */
int cli_parse_threads(const char *arg, int *out, struct err *e) ASTRO_WUR;
/* --memory-limit SIZE: bytes, or with a K, M or G suffix (powers of 1024, an optional B after
 * it); at least 1M. AE_CONFIG naming the option otherwise. */
int cli_parse_memory_limit(const char *arg, uint64_t *out, struct err *e) ASTRO_WUR;

#endif
