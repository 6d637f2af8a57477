/*
 * status.h - the typed statuses of the run record: of a run, of each ingested file and of each
 * step, and the phase a run failed in.
 *
 * These are the only spellings of the status words: manifest.json and stats.db store exactly the
 * *_name() of a value, and everything that reads a status back parses it here. The words are part
 * of the product contract (DESIGN.md, README), so a name never changes; a new status is a new
 * enumerator plus its word, and every switch over these enums has no default so that -Wswitch
 * names the place that forgot it.
 */
#ifndef ASTRO_RUN_STATUS_H
#define ASTRO_RUN_STATUS_H

#include <stdbool.h>

/* A run: ingesting -> ingested (or failed) -> running -> completed (or failed). A run that is not
 * live and not completed can be abandoned by the user (`astro runs abandon`): it is then never
 * run and does not block serial mode. */
enum run_status {
    RUN_STATUS_INGESTING,
    RUN_STATUS_INGESTED,
    RUN_STATUS_RUNNING,
    RUN_STATUS_COMPLETED,
    RUN_STATUS_FAILED,
    RUN_STATUS_ABANDONED,
    /* Never written: what a manifest whose status is missing or not a word above reads as. */
    RUN_STATUS_UNKNOWN,
};

/* Where a failed run stopped: its ingest or its steps (`astro run`). NONE unless failed. */
enum run_phase { RUN_PHASE_NONE, RUN_PHASE_INGEST, RUN_PHASE_RUN };

/* One ingested file: it passed (its Parquet output is in ingested/) or failed validation. */
enum file_status { FILE_STATUS_INGESTED, FILE_STATUS_FAILED };

/* One step of `astro run`. Done and skipped steps are not run again when a run resumes. */
enum step_status {
    STEP_STATUS_PENDING,
    STEP_STATUS_RUNNING,
    STEP_STATUS_DONE,
    STEP_STATUS_SKIPPED,
    STEP_STATUS_FAILED,
};

/* The word stored for a status ("ingesting", ..., "unknown"); a static string, never NULL. */
const char *run_status_name(enum run_status s);
/* The word stored as failed_phase ("ingest", "run"); NULL for RUN_PHASE_NONE (stored as null). */
const char *run_phase_name(enum run_phase p);
/* "ingested" | "failed"; a static string. */
const char *file_status_name(enum file_status s);
/* "pending" | "running" | "done" | "skipped" | "failed"; a static string. */
const char *step_status_name(enum step_status s);

/* Each parse sets *out and returns true when word (may be NULL) is exactly one of the words
 * above; otherwise returns false and leaves *out unchanged. "unknown" is not a run status. */
bool run_status_parse(const char *word, enum run_status *out);
bool run_phase_parse(const char *word, enum run_phase *out);
bool file_status_parse(const char *word, enum file_status *out);
bool step_status_parse(const char *word, enum step_status *out);

/* True while a process works on the run (ingesting, running): such a run whose lock is free was
 * interrupted. */
bool run_status_active(enum run_status s);

#endif
