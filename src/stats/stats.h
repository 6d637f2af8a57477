/*
 * stats.h - run and file statistics in <project>/.astro/stats.db (SQLite).
 *
 * Tables (schema version in PRAGMA user_version):
 *   runs(run_id PK, pipeline, status, reason, source_dir, started_at, finished_at, astro_version)
 *   files(run_id, name, source_path, size_bytes, sha256, rows_read, rows_valid, rows_invalid,
 *         failure_cases, output_path, output_bytes, duration_ms, status, PK(run_id, name))
 *   steps(run_id, step, kind, status, started_at, finished_at, rows, reason, PK(run_id, step))
 * Writes use a busy timeout so concurrent astro processes wait for each other instead of failing.
 * Statuses are typed (run/status.h) and stored as their words. The run record (run/record.h) pairs
 * every change here with the same change to manifest.json; the commands go through it.
 */
#ifndef ASTRO_STATS_STATS_H
#define ASTRO_STATS_STATS_H

#include "run/status.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdint.h>

struct stats;

struct stats_file {
    const char *name;
    const char *source_path;
    uint64_t size_bytes;
    const char *sha256;
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failure_cases;
    const char *output_path; /* NULL when nothing was written */
    uint64_t output_bytes;
    uint64_t duration_ms;
    enum file_status status;
};

/* Opens (creating the folder, file and tables as needed) the database at path. *out is owned by
 * the caller (stats_close); NULL on failure (AE_NOMEM, AE_IO with SQLite's message). */
int stats_open(const char *path, struct stats **out, struct err *e) ASTRO_WUR;

/* Inserts the run's row with status ingesting. Fails (AE_IO) when run_id was recorded before. */
int stats_run_begin(struct stats *s, const char *run_id, const char *pipeline,
                    const char *source_dir, const char *started_at, struct err *e) ASTRO_WUR;

/* Updates status and reason (NULL: none); finished_at may be NULL (run still open). */
int stats_run_status(struct stats *s, const char *run_id, enum run_status status,
                     const char *reason, const char *finished_at, struct err *e) ASTRO_WUR;

/* Makes the run's row say status (with reason and finished_at, NULLs possible) when it says
 * another status; *changed tells whether it did. For a run whose process died between its
 * manifest write and its stats.db write (run/record.h writes the manifest first). A run with no
 * row is left alone. AE_IO with SQLite's reason. */
int stats_run_sync_status(struct stats *s, const char *run_id, enum run_status status,
                          const char *reason, const char *finished_at, bool *changed,
                          struct err *e) ASTRO_WUR;

/* Inserts or replaces the files row (run_id, f->name). Strings are borrowed for the call. */
int stats_put_file(struct stats *s, const char *run_id, const struct stats_file *f,
                   struct err *e) ASTRO_WUR;

struct stats_step {
    const char *step;
    const char *kind; /* "load" | "sql" | "exec" */
    enum step_status status;
    const char *started_at;
    const char *finished_at; /* NULL while running */
    int64_t rows;            /* rows loaded, -1 when not applicable */
    const char *reason;      /* NULL unless failed or skipped */
};

/* Inserts or replaces the steps row (run_id, st->step). Strings are borrowed for the call. */
int stats_put_step(struct stats *s, const char *run_id, const struct stats_step *st,
                   struct err *e) ASTRO_WUR;

/* Calls fn for each run, newest first: run_id, pipeline, status, started_at, finished_at, reason
 * (NULLs possible). Stops early when fn returns non-zero. */
int stats_each_run(struct stats *s, int (*fn)(void *ctx, const char *const *cols), void *ctx,
                   struct err *e) ASTRO_WUR;

/* *exists: whether run_id was ever recorded (run ids are never reused). Fails (AE_IO, with the
 * database's path and SQLite's reason) when the database cannot be read; *exists is then true. */
int stats_run_exists(struct stats *s, const char *run_id, bool *exists, struct err *e) ASTRO_WUR;

/* The rows_read of the newest ingested file called name (the spec's last delivery that passed),
 * in a run other than except_run (NULL: any): *found false when there is none. run_id (at least
 * RUN_ID_LEN + 1 bytes, may be NULL) gets that run's id. AE_IO with SQLite's reason. */
int stats_last_rows(struct stats *s, const char *name, const char *except_run, bool *found,
                    uint64_t *rows, char *run_id, size_t run_id_size, struct err *e) ASTRO_WUR;

/* Closes the database and frees s; stats_close(NULL) is a no-op. */
void stats_close(struct stats *s);

#endif
