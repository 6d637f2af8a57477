/*
 * progress.h - progress of a large file: a redrawn bar on a terminal (bytes, rows, estimated total
 * rows, failure cases so far, rate, ETA), plain periodic log lines otherwise. Updates are cheap to
 * call per batch: the clock decides when anything is printed. A load (progress_init_rows) counts
 * rows against a known total instead, and shows only on a terminal.
 */
#ifndef ASTRO_CLI_PROGRESS_H
#define ASTRO_CLI_PROGRESS_H

#include "ingest/engine.h"
#include "steps/steps.h"
#include "util/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
    bool enabled;
    bool tty;
    FILE *out;        /* terminal stream for the bar (borrowed) */
    struct log *log;  /* periodic lines when not a terminal (borrowed) */
    const char *name; /* borrowed */
    uint64_t total_bytes;
    uint64_t total_rows; /* > 0: a load, measured in rows (progress_init_rows) */
    double start;
    double last;
    bool drawn;
};

/* enabled: show anything at all (large files only); out: the console stream. */
void progress_init(struct progress *p, bool enabled, FILE *out, struct log *log, const char *name,
                   uint64_t total_bytes);
/* A load of total_rows rows (a file of total_bytes bytes): bytes are then estimated from the rows
 * and the bar, on a terminal only (nothing is printed elsewhere), reads
 * "NAME [###---]  40% 400.0k/1.00M rows  12.0 MB/30.0 MB  150.0k rows/s  ETA 0:00:04". */
void progress_init_rows(struct progress *p, bool enabled, FILE *out, const char *name,
                        uint64_t total_rows, uint64_t total_bytes);
/* failures: the failure cases so far (shown as "N failures"; 0 for a load). */
void progress_update(struct progress *p, uint64_t bytes, uint64_t rows, uint64_t failures);
/* Final line (clears the bar on a terminal). */
void progress_done(struct progress *p, uint64_t bytes, uint64_t rows, uint64_t failures);

/* Progress of the files the engine reads (ingest/engine.h), one after the other: each file's
 * display starts at its first report, shown when the file is at least threshold bytes (0 =
 * never). */
struct progress_feed {
    struct progress p;
    bool started;
    uint64_t threshold;
    FILE *out;       /* borrowed */
    struct log *log; /* borrowed */
};

void progress_feed_init(struct progress_feed *f, uint64_t threshold, FILE *out, struct log *log);

/* An ingest_file_opts.progress callback; ctx is a struct progress_feed. */
void progress_feed(void *ctx, const struct ingest_progress *ip);

/* Progress of the load steps of `astro run` (steps/steps.h), one after the other, on a terminal
 * only: a steps_env.progress callback; ctx is a struct progress_feed (progress_feed_init, with
 * threshold unused). */
void progress_feed_load(void *ctx, const struct steps_progress *sp);

/* Human figures: "1.5 GB", "12.3M"; write into buf and return it. */
const char *progress_bytes(uint64_t n, char *buf, size_t len);
const char *progress_count(uint64_t n, char *buf, size_t len);

#endif
