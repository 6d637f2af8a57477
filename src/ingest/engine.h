/*
 * engine.h - one delivered file through input reader -> validator -> the caller's sink, on N
 * threads, in file order, with the verdict. The engine every driver uses: `astro ingest` (a
 * Parquet sink), `astro validate` (no sink) and, later, `astro watch` (a load sink). It never
 * prints, parses arguments or decides an exit code; it reports through the failure sink and the
 * progress callback it is given.
 *
 * Header: a CSV reader hands the header over as its first record (has_header: true) or the spec
 * names the columns (column_names); a reader that names its fields itself (input_field_names:
 * the JSON formats, whose fields are the schema's columns) has no header row, and its names are
 * checked as the header, on line 0.
 *
 * Lifecycle: ingest_file_open (opens the file, reads and checks the header, builds the
 * validator) -> the caller looks at the output columns and, when the file can still pass, opens
 * its sink with them -> ingest_file_run (streams every record; valid rows go to the sink) ->
 * the caller commits its sink when the verdict is ok and aborts it otherwise -> ingest_file_free.
 * The caller owns the sink from open to commit or abort; the engine only writes to it, and
 * stops writing as soon as the output can no longer be kept.
 *
 * The verdict applies the spec's bad-row thresholds:
 * - a header problem, a frame-level failure (e.g. unique_values_eq), a broken record (quoting
 *   that swallowed line breaks: validate.h), a record the reader refuses (AE_FORMAT: over its
 *   size limit, check "record_length"; a broken JSON structure, "json"; corrupt or truncated
 *   compressed data, "decompression": input_refusal_check) or a file that changed while it was
 *   read always fails the file;
 * - otherwise the file passes when rows_invalid <= the allowed number of bad rows: max_bad_rows
 *   and floor(max_bad_row_fraction * rows_read), the stricter of the two when both are set, 0 when
 *   neither is (any failure fails the file, as Pandera does). Failing rows are never written.
 *
 * Keys: the key sets of unique columns and frame-level unique sets are planned when the file is
 * opened, within ingest_file_opts.memory_limit. From the reader's row count when it knows it
 * (input_row_count: a Parquet footer), else from the file's size and its first records, the
 * engine bounds the rows (counting the file's line breaks when the size alone does not settle
 * it, unless the key pre-pass holds every key set: then it starts in memory on the estimate and
 * starts again spilled if the keys outgrow the limit); when the sets, sized for that bound, fit
 * the limit they stay in memory and are sized once;
 * otherwise the check spills to disk under spill_dir (validate.h: validator_plan_keys): a first
 * pass writes the keys to hash partitions and judges them partition by partition, and the main
 * pass applies the verdicts, identical to the in-memory ones (same failure cases, same order,
 * same verdict with any threshold). ingest_file_result.keys_spilled tells which way it went.
 * A check that needs all its keys before the first verdict (unique columns; frame-level sets under
 * report_duplicates: all / exclude_last) reads them in a pre-pass, unless the caller lets it bet
 * on distinct keys (ingest_file_opts.keys_optimistic).
 */
#ifndef ASTRO_INGEST_ENGINE_H
#define ASTRO_INGEST_ENGINE_H

#include "batch/batch.h"
#include "config/config.h"
#include "ingest/checksum.h"
#include "input/input.h"
#include "sink/sink.h"
#include "validate/validate.h"

/* Where a file is, for progress displays: called in file order after each block, and once with
 * done at the end. */
struct ingest_progress {
    const char *name; /* the spec's name */
    uint64_t size;    /* of the file when it was opened */
    uint64_t bytes;   /* read so far */
    uint64_t rows;    /* records judged so far */
    uint64_t failures; /* failure cases (errors, not warnings) so far */
    bool done;
};

struct ingest_file_opts {
    const struct ingest_spec *spec; /* borrowed, outlives the file */
    const char *path;               /* the delivered file (copied) */
    struct failure_sink fs;         /* every failure case goes here */
    bool fail_fast;                 /* stop reading at the first failure case */
    int threads; /* threads reading, validating and writing this file (the caller's included);
                    0 or 1 = the caller's thread alone. The sink is called by one thread at a
                    time, in file order, but not always the same thread. */
    void (*progress)(void *ctx, const struct ingest_progress *p); /* NULL: none */
    void *progress_ctx;
    const struct input_ops *reader; /* NULL: the reader of spec->format (input_ops_for); tests
                                       plug in their own */
    uint64_t memory_limit; /* bytes the key sets of unique checks may take; 0 = the default,
                              INGEST_DEFAULT_MEMORY_LIMIT (see "Keys" above) */
    const char *spill_dir; /* where keys spill past the limit (borrowed); NULL = $TMPDIR or /tmp */
    int (*interrupted)(void *ctx, struct err *e); /* NULL: never. Asked before each block is read,
                        by one thread at a time: non-zero (AE_CANCELLED, e filled) stops the
                        file and ingest_file_run returns it; the caller aborts its sink */
    void *interrupt_ctx;
    const char *confine_dir; /* NULL, or a resolved absolute folder the opened file must lie in
                                (links followed): checked on the descriptor itself after the open,
                                so a link swapped in after the folder check cannot escape */
    /* Row counts. spec->min_rows: fewer data rows fail the file (check "min_rows"). prev_rows:
     * the rows of the spec's last delivery that passed (0: unknown, nothing compared), named
     * prev_run in messages (borrowed, may be NULL): a file with fewer than half of them is a
     * warning, or with spec->row_count_drop fail a failure (check "row_count_drop"). Neither
     * applies to a file that already failed for its header or its reading, nor after a
     * fail-fast stop (the counts cover only the rows read). */
    uint64_t prev_rows;
    const char *prev_run;
    /* Checksum side files of the file (borrowed, ingest/checksum.h): the digests of the delivered
     * bytes are computed while they are read (md5 only when asked) and compared at the end; a
     * mismatch, or a side file with a problem, fails the file (check "checksum"). Not compared
     * when the file was not read to its end (header or reader failure, fail-fast stop). */
    const struct checksum *checksums;
    size_t nchecksums;
    /* The caller can run the file again from scratch (its sink aborted, its failure cases
     * dropped): a key check that would read the file twice (unique columns; frame-level sets
     * under report_duplicates: all / exclude_last), planned in memory, bets instead that no key
     * repeats and probes the keys in the main pass, its sets capped at memory_limit
     * (validate.h: validator_keys_optimistic); a file without a repeated key is done in one pass
     * with exactly the pre-pass's result. At the first repeated key, or when the sets reach the
     * cap, the file stops and ingest_file_run returns with keys_retry set: the caller discards
     * what it got and runs the file again with this false. Not with fail_fast. */
    bool keys_optimistic;
};

#define INGEST_DEFAULT_MEMORY_LIMIT ((uint64_t)256 << 20)

struct ingest_file_result {
    uint64_t size;
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failures; /* error cases (warnings not included) */
    uint64_t warnings;
    uint64_t allowed_bad_rows; /* the threshold applied */
    uint64_t rows_droppable;   /* invalid rows failing only columns with drop_invalid_rows: true:
                                  left out like the others, never counted against the threshold */
    char sha256[65];           /* of the file as delivered */
    bool ok;                   /* the verdict */
    bool stopped;              /* fail_fast stopped before the end of the file */
    bool changed;              /* the file changed while it was read (still being written) */
    bool keys_spilled;         /* the unique check spilled to disk (see "Keys" above) */
    bool keys_retry; /* keys_optimistic lost its bet: nothing here counts, run the file again */
    char reason[512];          /* why the file failed, for people */
    char notice[512];          /* a warning about the whole file (row_count_drop), or "" */
};

struct ingest_file;

/* Opens o->path (a regular file), reads its header and builds the validator; header failures are
 * already reported through o->fs. Fails only for environment or internal errors (AE_IO, AE_NOMEM,
 * AE_CONFIG for a schema that does not compile or a path that is not a regular file: a FIFO is
 * refused, never waited on), with nothing left open. */
int ingest_file_open(struct ingest_file **out, const struct ingest_file_opts *o,
                     struct err *e) ASTRO_WUR;

/* The size of the file when it was opened. */
uint64_t ingest_file_size(const struct ingest_file *f);

/* The output columns, in order (owned by f). When ingest_file_can_pass is false, no output is
 * worth opening: the file has already failed (header problem, empty file, unreadable first
 * record). */
size_t ingest_file_columns(const struct ingest_file *f, const struct column_desc **cols);
bool ingest_file_can_pass(const struct ingest_file *f);

/* Streams the file: every record is validated and every valid row written to s (borrowed; NULL
 * for no output), then decides the verdict into res. Returns 0 whatever the verdict; a negative
 * code only for environment or internal errors, including a failed sink_write (the caller then
 * aborts its sink). Call once. */
int ingest_file_run(struct ingest_file *f, struct sink *s, struct ingest_file_result *res,
                    struct err *e) ASTRO_WUR;

void ingest_file_free(struct ingest_file *f);

#endif
