/*
 * record.h - the run record: one run's manifest.json and its rows in .astro/stats.db, changed
 * together and only here.
 *
 * Every change to a run (its status, a file's result, a step's state) is one call that updates the
 * manifest in memory, rewrites manifest.json atomically (temp, fsync, rename) and writes the same
 * fact to stats.db, so the two never tell different stories for longer than between two writes.
 * The manifest is the source of truth a resumed run reads (steps done, outputs); stats.db is the
 * project-wide history that `astro runs` lists. Statuses are typed (run/status.h); the shapes
 * written (manifest keys, their order and values, stats.db rows) are the ones README documents.
 * A record does not lock: the caller holds the run's lock (run/run.h) while it changes the run.
 */
#ifndef ASTRO_RUN_RECORD_H
#define ASTRO_RUN_RECORD_H

#include "run/run.h"
#include "run/status.h"
#include "stats/stats.h"
#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct run_record {
    struct manifest manifest; /* owned: the run's manifest.json, as last saved */
    struct stats *stats;      /* borrowed: the project's stats.db; NULL: the manifest alone */
    char id[RUN_ID_LEN + 1];
    char *dir; /* owned: {working}/{id} */
};

/* One ingested file's result, as run_record_put_file() records it. Strings are borrowed. */
struct run_file {
    const char *name;   /* the ingest_files name (the dataset) */
    const char *source; /* the source file's path */
    uint64_t size_bytes;
    const char *sha256; /* hex digest of the source bytes */
    enum file_status status;
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failure_cases;
    uint64_t warnings;
    uint64_t output_bytes; /* bytes of ingested/{name}.parquet (written only when ingested) */
    bool errors_file;      /* errors/{name}.jsonl was written */
    double duration_s;
    const char *schema_fingerprint;
    const char *reason; /* why the file failed; recorded only when failed */
};

/* Starts the record of a new run whose folder run_create_dir() made: writes manifest.json (status
 * ingesting, created_at now) and inserts the run's stats.db row (stats must not be NULL).
 * config_path and source_dir are recorded as given. On failure rec holds nothing; the manifest may
 * be on disk already (the run's lock, once released, marks it interrupted). */
int run_record_create(struct run_record *rec, struct stats *stats, const char *working,
                      const char *id, const char *pipeline, const char *config_path,
                      const char *source_dir, struct err *e) ASTRO_WUR;

/* Opens the record of an existing run (loads its manifest). stats may be NULL: then changes reach
 * the manifest alone. AE_FORMAT when the manifest cannot be read; then rec holds nothing. */
int run_record_open(struct run_record *rec, struct stats *stats, const char *working,
                    const char *id, struct err *e) ASTRO_WUR;

/* Frees what rec holds (not the borrowed stats handle) and zeroes it; safe on a zeroed record. */
void run_record_release(struct run_record *rec);

/* The run's status as last recorded. */
enum run_status run_record_status(const struct run_record *rec);

/* Sets the run's status with reason (NULL: none) and failed_phase (RUN_PHASE_NONE unless failed),
 * in the manifest (with updated_at) and in stats.db (finished_at is now, except for the active
 * statuses ingesting and running, where it is cleared). Both writes are attempted even when the
 * first fails, so a failure is recorded as far as the environment allows; returns the first
 * error (AE_IO, AE_NOMEM). */
int run_record_set_status(struct run_record *rec, enum run_status status, const char *reason,
                          enum run_phase failed_phase, struct err *e) ASTRO_WUR;

/* Records one file's result: replaces (or adds) its files[] entry in the manifest and its stats.db
 * row. Output paths come from run_path(): the manifest holds them relative to the run folder, the
 * row under the run folder. Both writes are attempted; returns the first error. */
int run_record_put_file(struct run_record *rec, const struct run_file *f, struct err *e) ASTRO_WUR;

/* The status of step name in the manifest. A step not recorded yet is added (in memory, saved by
 * the next change) as pending, with kind ("load", "sql", "exec"), and reads as pending; so does a
 * step whose status is not a step status word. AE_NOMEM on failure. */
int run_record_step(struct run_record *rec, const char *name, const char *kind,
                    enum step_status *status, struct err *e) ASTRO_WUR;

/* Records step name's new state: running sets started_at to now and clears finished_at; any other
 * status sets finished_at to now. rows < 0 and reason NULL are recorded as null. The step is added
 * (as by run_record_step) when missing. Both writes are attempted; returns the first error. */
int run_record_put_step(struct run_record *rec, const char *name, const char *kind,
                        enum step_status status, int64_t rows, const char *reason,
                        struct err *e) ASTRO_WUR;

#endif
