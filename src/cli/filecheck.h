/*
 * filecheck.h - one source file through reader -> validator -> (optional) sink: the streaming
 * core shared by `astro ingest` (with a Parquet sink) and `astro validate` (without).
 *
 * The caller owns the failure sink (where every failure case goes) and, through open_sink, decides
 * what the output is; filecheck never commits an output: it returns a verdict and the caller
 * commits or aborts the sink it opened. The verdict applies the spec's bad-row thresholds:
 * - a header problem, a frame-level failure (e.g. unique_values_eq) or a file that changed while
 *   it was read always fails the file;
 * - otherwise the file passes when rows_invalid <= the allowed number of bad rows: max_bad_rows
 *   and floor(max_bad_row_fraction * rows_read), the stricter of the two when both are set, 0 when
 *   neither is (any failure fails the file, as Pandera does). Failing rows are never written.
 */
#ifndef ASTRO_CLI_FILECHECK_H
#define ASTRO_CLI_FILECHECK_H

#include "config/config.h"
#include "parquet/pq.h"
#include "sink/sink.h"
#include "util/log.h"
#include "validate/validate.h"

struct filecheck_opts {
    const struct ingest_spec *spec;
    const char *path;       /* the source file */
    struct log *log;        /* borrowed */
    struct failure_sink fs; /* every failure case goes here */
    /* Called once the output columns are known (after the header), unless the file already
     * failed; NULL for no output. On success it must have opened *s. */
    int (*open_sink)(void *ctx, const struct column_desc *cols, size_t ncols, struct sink *s,
                     struct err *e);
    void *ctx;
    uint64_t progress_threshold; /* show progress for files at least this large (0 = never) */
    bool fail_fast;              /* stop reading at the first failure case */
    int threads; /* threads reading, validating and writing this file (the caller's included);
                    0 or 1 = the caller's thread alone. The sink is called by one thread at a
                    time, in file order, but not always the same thread. */
};

struct filecheck_result {
    uint64_t size;
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failures; /* error cases (warnings not included) */
    uint64_t warnings;
    uint64_t allowed_bad_rows; /* the threshold applied */
    char sha256[65];
    bool ok;          /* the verdict */
    bool sink_open;   /* *s is open and holds every valid row: the caller commits or aborts it */
    bool stopped;     /* fail_fast stopped before the end of the file */
    char reason[512]; /* why the file failed, for people */
};

/* Runs the file. Returns 0 whatever the verdict (see res->ok); a negative code only for
 * environment or internal errors, in which case no sink is left open. */
int filecheck_run(const struct filecheck_opts *o, struct sink *s, struct filecheck_result *res,
                  struct err *e) ASTRO_WUR;

#endif
