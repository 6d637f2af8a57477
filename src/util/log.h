/*
 * log.h - session logging to the console (stderr) and to a run's astro.log.
 *
 * Every line carries the time, the level and, for file events, the ingest file's name. The console
 * honours -q/-v; the run log always receives INFO and above (DEBUG with -v). The text format is
 *   2026-05-22T14:30:00.123456+00:00 INFO  [establishments] 2000 rows read
 * and --log-format json writes one object per line with keys time, level, file, msg (and, from
 * log_event, event and its fields).
 * A struct log is owned by the command that runs; nothing here is global.
 */
#ifndef ASTRO_UTIL_LOG_H
#define ASTRO_UTIL_LOG_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

struct log {
    FILE *console; /* borrowed, usually stderr; NULL = silent */
    FILE *file;    /* owned: the run's astro.log, or NULL */
    enum log_level console_level;
    enum log_level file_level;
    bool json;
};

void log_init(struct log *l, FILE *console, enum log_level console_level, bool json);

/* Opens (appending) the run log at path and writes the session separator naming the command and
 * run id. */
int log_open_file(struct log *l, const char *path, const char *command, const char *run_id,
                  struct err *e) ASTRO_WUR;

/* Logs one message, as one line; file_name may be NULL. In text, control characters (line breaks
 * included) and bytes that are not UTF-8, in file_name and in the message, are written escaped
 * (buf_put_escaped: \n, \xHH), so a name or value from outside can never start a line of its
 * own; JSON escapes them its way. */
void log_msg(struct log *l, enum log_level lvl, const char *file_name, const char *fmt, ...)
    ASTRO_PRINTF(4, 5);

/* Logs one message that belongs in the run log but not on the console (a database server's
 * notices): written to the run log at lvl, and to the console only with -v. */
void log_detail(struct log *l, enum log_level lvl, const char *file_name, const char *fmt, ...)
    ASTRO_PRINTF(4, 5);

/* A named value that log_event adds to a JSON line: a string (str set) or a count (str NULL). */
struct log_field {
    const char *key;
    const char *str;
    uint64_t num;
};

/* log_msg with machine-readable fields: with --log-format json the line also holds
 * "event": event and one key per field (for tools that follow a service's log); the text line
 * is the message alone. */
void log_event(struct log *l, enum log_level lvl, const char *file_name, const char *event,
               const struct log_field *fields, size_t nfields, const char *fmt, ...)
    ASTRO_PRINTF(7, 8);

/* Writes a multi-line text (summaries, tables) to the console (if its level allows INFO) and the
 * run log: its line breaks are kept, every other control character and byte that is not UTF-8 is
 * escaped; whoever builds the text escapes names inside it (buf_put_escaped) so that they cannot
 * break lines. */
void log_block(struct log *l, enum log_level lvl, const char *text);

void log_close(struct log *l);

#endif
