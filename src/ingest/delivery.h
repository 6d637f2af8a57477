/*
 * delivery.h - one delivery -> one run: the folder is checked against the expected files, a run
 * is created under .working/, each file goes through the engine (engine.h) into a Parquet file,
 * and the run record (manifest.json + stats.db: run/record.h), errors/{name}.jsonl and astro.log
 * are kept up to date. The engine of `astro ingest`; the command only parses its arguments and
 * prints.
 *
 * Order of safety: the source folder is checked before anything is created; the run folder is
 * created under the .working lock (serial mode checked there); each output is written under a
 * temporary name and only renamed into place when its file passed; every record change is saved
 * atomically.
 */
#ifndef ASTRO_INGEST_DELIVERY_H
#define ASTRO_INGEST_DELIVERY_H

#include "ingest/engine.h"
#include "parquet/pq.h"
#include "run/project.h"
#include "run/run.h"
#include "util/buf.h"
#include "util/log.h"

struct delivery_opts {
    struct project *project; /* borrowed: config loaded; stats.db is opened here if needed */
    const char *source_dir;  /* absolute */
    struct log *log;         /* borrowed: the driver's console settings; the run's astro.log is
                                opened on it once the run exists, and closed before returning */
    enum pq_codec codec;     /* Parquet output */
    int level;               /* codec level, 0 = the codec's default */
    int threads;             /* per file (engine.h) */
    bool failure_cases_csv;  /* also errors/{name}.failure_cases.csv */
    bool fail_fast;          /* stop each file at its first failing row */
    uint64_t memory_limit;   /* for the key sets of each file (engine.h); 0 = the default */
    void (*progress)(void *ctx, const struct ingest_progress *p); /* per file (engine.h); NULL */
    void *progress_ctx;
    /* A stop request (engine.h): asked before each file and each block. When it stops the run,
     * every temporary file is removed, the run is recorded failed with its message as the reason,
     * and delivery_ingest returns its code (AE_CANCELLED). NULL: never. */
    int (*interrupted)(void *ctx, struct err *e);
    void *interrupt_ctx;
};

struct delivery_result {
    char run_id[RUN_ID_LEN + 1]; /* "" when no run was created */
    size_t nfiles;
    size_t nfailed; /* files that failed validation */
};

/* Ingests the delivery in o->source_dir. Returns 0 when every file passed, AE_DATA when a file
 * failed validation (the run is recorded failed) or when the folder does not hold exactly the
 * expected files (then nothing is created, res->run_id is "", and problems holds one line per
 * problem), AE_BUSY when serial mode refuses a new run, and other negative codes for environment
 * errors (a run already created is recorded failed with the reason, as far as the environment
 * allows). */
int delivery_ingest(const struct delivery_opts *o, struct delivery_result *res,
                    struct buf *problems, struct err *e) ASTRO_WUR;

#endif
