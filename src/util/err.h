/*
 * err.h - error codes and the error record every fallible function fills.
 *
 * A fallible function returns int: 0 on success, a negative AE_* code on failure, and on failure
 * it fills the caller's struct err with a message a user can act on (file, line, column, value,
 * what was expected). Only src/main.c maps codes to exit statuses.
 */
#ifndef ASTRO_UTIL_ERR_H
#define ASTRO_UTIL_ERR_H

#include <stddef.h>
#include <stdint.h>

#define ASTRO_WUR __attribute__((warn_unused_result))
#define ASTRO_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum {
    AE_OK = 0,
    AE_NOMEM = -1,   /* allocation failed or a hard cap was reached */
    AE_IO = -2,      /* I/O error on a file or directory (environment) */
    AE_CONFIG = -3,  /* bad usage, astro.yaml or schema (user must fix the configuration) */
    AE_DATA = -4,    /* the data failed validation */
    AE_FORMAT = -5,  /* a file is not in the format it should be (corrupt input) */
    AE_DB = -6,      /* database error (environment) */
    AE_BUSY = -7,    /* refused by the execution mode (serial run in progress) */
    AE_INTERNAL = -8, /* a bug: an invariant did not hold */
    AE_CANCELLED = -9 /* stopped on request (SIGINT, SIGTERM): the work was cleaned up */
};

struct err {
    int code;       /* AE_* code, 0 when no error was recorded */
    char msg[1024]; /* complete, human-readable message (already includes file:line:col) */
};

/* Records code and a printf-formatted message into e (if e is not NULL); returns code. */
int err_set(struct err *e, int code, const char *fmt, ...) ASTRO_PRINTF(3, 4);

/* Prefixes the message already in e with a printf-formatted context and ": "; returns e->code. */
int err_prefix(struct err *e, const char *fmt, ...) ASTRO_PRINTF(2, 3);

/* Records AE_IO with "what: strerror(errnum)"; returns AE_IO. */
int err_errno(struct err *e, int errnum, const char *fmt, ...) ASTRO_PRINTF(3, 4);

/* Resets e to "no error". */
void err_clear(struct err *e);

/* A short lowercase name for an AE_* code ("io", "config", ...). */
const char *err_code_name(int code);

#endif
