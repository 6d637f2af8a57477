/*
 * watch.h - the drop-zone driver (`astro watch`): files land in ROOT/incoming/, each is taken in
 * once it is completely written, matched to an ingest spec by its source_pattern, validated by the
 * engine (ingest/engine.h) while its valid rows stream into the load target that watch.loads
 * names for the spec (load/load.h), and moved to ROOT/processed/ or ROOT/quarantine/.
 *
 * Guarantees:
 * - A file is read only when ready (watch.readiness): `stable` (size and mtime unchanged for
 *   quiet_seconds, seen on two scans; with --once, a file last modified quiet_seconds ago),
 *   `done_marker` (NAME.done exists; consumed with its file), `rename` (ready at once). In every
 *   mode dotfiles and names ending .tmp or .part are never touched. A file that changes while
 *   it is read is put back for later, not quarantined.
 * - The data and the checkpoint commit in one transaction (astro_checkpoints + a "success" row
 *   of astro_files); only then is the file moved. The identity of a load is its content (dataset,
 *   sha256, table): content already loaded into the table is skipped (the transaction rolls
 *   back) and the file moved to processed/, so a crash between commit and move, a re-sent file
 *   or a copy under another name never loads twice. Same name, new content: loaded.
 * - Validation uses the spec's schema and thresholds; when the spec sets none, watch tolerates
 *   max_bad_row_fraction 0.01. Over the threshold: quarantine/NAME with NAME.errors.jsonl (every
 *   failure case), a "failed" row in astro_files, nothing loaded. Under it: the valid rows load,
 *   and NAME.errors.jsonl goes beside the file in processed/ when there were failure cases.
 * - A data problem quarantines (no matching spec or load, an empty file, not a regular file, bad
 *   rows over the threshold); an environment problem (database down, disk full, permission)
 *   leaves the file in incoming/, is logged, and is retried with backoff, forever, never dropped.
 * - A name already taken in processed/ or quarantine/ is never overwritten: NAME.1, NAME.2, ...
 * - Symbolic links and folders in incoming/ are not followed; FIFOs, sockets and devices are
 *   quarantined without being opened.
 * - Several workers: with a target whose load_target_ops.concurrent is true (PostgreSQL), any
 *   number of processes share a drop zone, each file claimed in the database for as long as a
 *   worker handles it (released by a crash). Otherwise (SQLite) one process per drop zone: a
 *   second one is refused (AE_BUSY).
 */
#ifndef ASTRO_WATCH_WATCH_H
#define ASTRO_WATCH_WATCH_H

#include "run/project.h"
#include "util/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct watch_opts {
    struct project *project;                      /* borrowed: config loaded, with a watch: block */
    const char *root;                             /* the drop zone (absolute) */
    struct log *log;                              /* borrowed: every line about a file names it */
    int threads;                                  /* per file (ingest/engine.h) */
    bool once;                                    /* one pass over incoming/, then return */
    int (*interrupted)(void *ctx, struct err *e); /* a stop request (SIGTERM/SIGINT through the
                                driver): non-zero stops the service; the file being read is rolled
                                back (it stays in incoming/) and watch_run returns 0 */
    void *interrupt_ctx;
    int stop_fd; /* -1, or a descriptor readable once interrupted would report a request (the
                    driver's signalfd): the wait between scans wakes on it */
};

/* What a watch did, for the exit status of --once and for logs. */
struct watch_summary {
    uint64_t loaded;      /* files loaded and moved to processed/ */
    uint64_t skipped;     /* content already loaded: moved to processed/ */
    uint64_t quarantined; /* moved to quarantine/ */
    uint64_t deferred;    /* left in incoming/ after an environment error (retried later) */
};

/* Serves o->root until o->interrupted reports a stop request (or after one pass with o->once).
 * Creates incoming/, processed/ and quarantine/ when missing. Returns 0, or AE_CONFIG (no
 * watch.loads, a load with an unknown target), AE_BUSY (another process serves a drop zone that
 * allows one), AE_IO (the drop zone cannot be read). Per-file problems never end the service: they
 * are logged and counted in *sum. */
int watch_run(const struct watch_opts *o, struct watch_summary *sum, struct err *e) ASTRO_WUR;

/* Prints what the drop zone o->root holds (o->project gives the readiness settings): the
 * workers and the file each is taking in, the files queued in incoming/ with their readiness,
 * and the newest files of processed/ and quarantine/ (with the first failure message). Reads
 * only; AE_IO when the drop zone cannot be read. */
int watch_status(const struct watch_opts *o, FILE *out, struct err *e) ASTRO_WUR;

#endif
