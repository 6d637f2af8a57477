/*
 * run.h - run folders under <project>/.working/: ids, locks, the manifest and execution modes.
 *
 * A run is the folder .working/{run_id}/ with manifest.json (the run record), astro.log,
 * ingested/ and errors/. Run ids are 5 characters of [a-z0-9], random, and never reused (checked
 * against the folders and against stats.db by the caller's `taken` callback).
 * Locks (flock): .working/.lock is held while deciding whether a run may start and creating its
 * folder, so two processes never race; .working/{id}/.lock is held by the process working on the
 * run for as long as it does, which tells a live run from one whose process died.
 */
#ifndef ASTRO_RUN_RUN_H
#define ASTRO_RUN_RUN_H

#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define RUN_ID_LEN 5

struct run_info {
    char id[RUN_ID_LEN + 1];
    char *status;       /* manifest status */
    char *failed_phase; /* "ingest", "run" or NULL */
    char *created_at;
    bool live;          /* a process holds the run's lock */
};

/* Lists the runs under working (missing directory = no runs), oldest first. A run whose manifest
 * says ingesting/running while no process holds its lock is reported with status "failed" and
 * failed_phase taken from the interrupted phase (the manifest is corrected on disk too). */
int run_list(const char *working, struct run_info **out, size_t *n, struct err *e) ASTRO_WUR;
void run_list_free(struct run_info *runs, size_t n);

/* True when the run keeps serial mode from starting another: any status but completed, except a
 * run whose ingest failed (it holds nothing to continue; fix the files and ingest again). */
bool run_blocks_serial(const struct run_info *r);

/* Takes the exclusive .working/.lock (waits for it). *fd receives the lock's descriptor. */
int run_lock_working(const char *working, int *fd, struct err *e) ASTRO_WUR;
void run_unlock(int fd);

/* Generates an id not present under working and for which taken(ctx, id) is false. */
int run_new_id(const char *working, bool (*taken)(void *ctx, const char *id), void *ctx,
               char out[RUN_ID_LEN + 1], struct err *e) ASTRO_WUR;

/* Creates .working/{id}/ with ingested/ and errors/, and takes the run's own lock (*fd). */
int run_create_dir(const char *working, const char *id, int *fd, struct err *e) ASTRO_WUR;

/* Takes the lock of an existing run without waiting (*fd receives it). AE_BUSY when another
 * process holds it (that process is working on the run). */
int run_lock_run(const char *working, const char *id, int *fd, struct err *e) ASTRO_WUR;

/* The manifest document, kept as JSON so later phases (steps) keep what earlier ones wrote. */
struct manifest {
    json_t *root;
    char *path;
};

/* New manifest for run id with the given fields; status "ingesting". */
int manifest_new(struct manifest *m, const char *path, const char *run_id, const char *pipeline,
                 const char *config_path, const char *source_dir, struct err *e) ASTRO_WUR;
int manifest_load(struct manifest *m, const char *path, struct err *e) ASTRO_WUR;

/* Sets status (and reason/failed_phase when not NULL) and updated_at. */
int manifest_set_status(struct manifest *m, const char *status, const char *reason,
                        const char *failed_phase, struct err *e) ASTRO_WUR;

/* Replaces (or adds) the files[] entry whose "name" equals name; takes ownership of entry. */
int manifest_put_file(struct manifest *m, const char *name, json_t *entry, struct err *e) ASTRO_WUR;

/* Writes the manifest atomically (temp, fsync, rename). */
int manifest_save(const struct manifest *m, struct err *e) ASTRO_WUR;

void manifest_release(struct manifest *m);

#endif
