/*
 * steps.h - `astro run`: the pipeline's steps for one ingested run, in order, resumable.
 *
 * Each step's state lives in manifest.json (steps[]: name, kind, status, started_at,
 * finished_at, rows, reason) and in stats.db (table steps). A step already "done" or "skipped" is
 * not run again, so running a failed run again resumes at the first step not done. Kinds:
 * - load: the run's Parquet output of a dataset into a target table (src/load/load.h), skipped
 *   when the target's astro_checkpoints already holds that file with the same schema fingerprint
 *   (a re-run never doubles rows; reload loads it anyway);
 * - sql: statements (inline or from a file relative to astro.yaml) against a target, in one
 *   transaction;
 * - exec: an external command (argv, no shell) run in the project folder with ASTRO_RUN_ID,
 *   ASTRO_RUN_DIR, ASTRO_CONFIG and ASTRO_DATASET_<NAME> (the Parquet path of each dataset, NAME
 *   upper-cased with other characters as '_') in its environment; its output goes to the log and
 *   its exit status decides.
 */
#ifndef ASTRO_STEPS_STEPS_H
#define ASTRO_STEPS_STEPS_H

#include "config/config.h"
#include "run/record.h"
#include "util/log.h"

/* Where a load step is, for progress displays: called after each block sent, and once with done
 * at the end (not for a load skipped by its checkpoint). */
struct steps_progress {
    const char *step;     /* the step's name */
    uint64_t rows;        /* rows sent so far */
    uint64_t total_rows;  /* rows of the dataset's Parquet file */
    uint64_t total_bytes; /* size of that file */
    bool done;
};

struct steps_env {
    const struct config *cfg;
    const char *project_dir;  /* absolute folder of astro.yaml */
    const struct manifest *m; /* rec's manifest, read by the steps (datasets' outputs) */
    struct run_record *rec;   /* the run record: every step's state goes through it */
    struct log *log;
    const char *run_id;  /* rec's id */
    const char *run_dir; /* rec's folder */
    bool reload; /* `astro run --reload`: every step runs again, done or not, and every load
                    ignores and rewrites its checkpoint */
    void (*progress)(void *ctx, const struct steps_progress *p); /* NULL: none */
    void *progress_ctx;
};

/* Runs every step not yet done, in order. Returns 0 when all are done. Otherwise stops at the
 * failing step and returns AE_DATA (the step ran and failed: a command's non-zero exit, a load
 * the database refused for its data), AE_DB or AE_IO (environment), with e naming the step. */
int steps_run(const struct steps_env *env, struct err *e) ASTRO_WUR;

#endif
