/*
 * run.h - run folders under <project>/.working/: ids, locks, paths, the manifest document and
 * execution modes.
 *
 * A run is the folder .working/{run_id}/ with manifest.json (the run record), astro.log,
 * ingested/ and errors/; run_path() and run_relpath() spell those paths. Changes to a run go
 * through the run record (run/record.h), which keeps manifest.json and stats.db in step. Run ids
 * are 5 characters of [a-z0-9], random, and never reused (checked against the folders and against
 * stats.db by the caller's `taken` callback).
 * Locks (flock): .working/.lock is held while deciding whether a run may start and creating its
 * folder, so two processes never race; .working/{id}/.lock is held by the process working on the
 * run for as long as it does, which tells a live run from one whose process died.
 */
#ifndef ASTRO_RUN_RUN_H
#define ASTRO_RUN_RUN_H

#include "run/status.h"
#include "stats/stats.h"
#include "util/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define RUN_ID_LEN 5

/* The members of a run folder. The names are part of the product contract (DESIGN.md). */
enum run_path_kind {
    RUN_PATH_DIR,           /* the run folder itself */
    RUN_PATH_MANIFEST,      /* manifest.json */
    RUN_PATH_LOG,           /* astro.log */
    RUN_PATH_LOCK,          /* .lock, held by the process working on the run */
    RUN_PATH_INGESTED_DIR,  /* ingested/ */
    RUN_PATH_ERRORS_DIR,    /* errors/ */
    RUN_PATH_PARQUET,       /* ingested/{name}.parquet */
    RUN_PATH_ERRORS,        /* errors/{name}.jsonl */
    RUN_PATH_FAILURE_CASES, /* errors/{name}.failure_cases.csv */
};

/* A run-folder member relative to the run folder, as the manifest records it
 * ("ingested/x.parquet"). name is the dataset for PARQUET, ERRORS and FAILURE_CASES and ignored
 * otherwise; RUN_PATH_DIR gives "". Returns a string the caller frees, or NULL when out of memory.
 */
char *run_relpath(enum run_path_kind kind, const char *name);

/* The same member under working: "{working}/{id}/{member}" ("{working}/{id}" for RUN_PATH_DIR).
 * Returns a string the caller frees, or NULL when out of memory. */
char *run_path(const char *working, const char *id, enum run_path_kind kind, const char *name);

/* True when s is a run id: RUN_ID_LEN characters of [a-z0-9]. */
bool run_id_valid(const char *s);

struct run_info {
    char id[RUN_ID_LEN + 1];
    enum run_status status;      /* the manifest's status */
    enum run_phase failed_phase; /* the manifest's failed_phase */
    char *created_at;            /* owned; NULL when the manifest has none */
    bool live;                   /* a process holds the run's lock */
};

/* Lists the runs under working (missing directory = no runs), oldest first; *out is owned by the
 * caller (run_list_free). A run whose manifest says ingesting/running while no process holds its
 * lock is reported as failed in the interrupted phase, and its record is corrected the same way
 * (run_record_set_status: the manifest, and stats.db when stats is not NULL), under the run's lock.
 * A run no process holds whose stats.db row says another status than its manifest (its process
 * died between the two writes) gets the manifest's status in stats.db too.
 * Every run no process holds also loses the temporary files a killed process left in it
 * (.NAME.RANDOM.tmp in the run folder, ingested/ and errors/: util/fs.h).
 * Fails only when working cannot be read or out of memory; unreadable manifests are skipped. */
int run_list(const char *working, struct stats *stats, struct run_info **out, size_t *n,
             struct err *e) ASTRO_WUR;
/* Frees what run_list returned; run_list_free(NULL, 0) is a no-op. */
void run_list_free(struct run_info *runs, size_t n);

/* True when the run keeps serial mode from starting another: any status but completed or
 * abandoned, except a run whose ingest failed (it holds nothing to continue; fix the files and
 * ingest again). */
bool run_blocks_serial(const struct run_info *r);

/* Takes the exclusive .working/.lock (waits for it), creating working if needed. *fd receives the
 * lock's descriptor (release it with run_unlock); -1 on failure (AE_IO). */
int run_lock_working(const char *working, int *fd, struct err *e) ASTRO_WUR;
/* Releases and closes a lock taken above; run_unlock(-1) is a no-op. */
void run_unlock(int fd);

/* Generates an id not present under working and which taken(ctx, id, &t, e) reports free (taken
 * may be NULL; it returns 0, or an AE_* code with e filled, which run_new_id returns as it is).
 * Fails with AE_INTERNAL after 1000 attempts, AE_IO when no random bytes can be read or working
 * cannot be looked at. */
int run_new_id(const char *working, int (*taken)(void *ctx, const char *id, bool *t, struct err *e),
               void *ctx, char out[RUN_ID_LEN + 1], struct err *e) ASTRO_WUR;

/* Creates .working/{id}/ with ingested/ and errors/, and takes the run's own lock (*fd, release
 * with run_unlock). Fails (AE_IO) when the folder exists already. */
int run_create_dir(const char *working, const char *id, int *fd, struct err *e) ASTRO_WUR;

/* Takes the lock of an existing run (*fd receives it), waiting at most 2 s: a process listing the
 * runs holds a run's lock for milliseconds. AE_BUSY when another process still holds it then
 * (that process is working on the run). */
int run_lock_run(const char *working, const char *id, int *fd, struct err *e) ASTRO_WUR;

/* The manifest document, kept as JSON so later phases (steps) keep what earlier ones wrote. This is
 * the document layer: changes to a run go through the run record (run/record.h), which saves the
 * manifest and updates stats.db together. Both members are owned (manifest_release). */
struct manifest {
    json_t *root;
    char *path;
};

/* A new JSON string holding s, for text that comes from outside (paths, names, reasons that quote
 * them): valid UTF-8 is kept as is (JSON escapes control characters), and each byte that is not
 * UTF-8 is recorded as the four characters \xHH (buf_put_escaped), since a JSON string cannot hold
 * it. NULL only when out of memory. */
json_t *manifest_str(const char *s);

/* New manifest (in memory) for run id with the given fields; status ingesting. Strings are copied.
 * On failure (AE_NOMEM) m holds nothing. */
int manifest_new(struct manifest *m, const char *path, const char *run_id, const char *pipeline,
                 const char *config_path, const char *source_dir, struct err *e) ASTRO_WUR;
/* Reads the manifest at path; AE_FORMAT when it is missing, unreadable or not a JSON object (then m
 * holds nothing). */
int manifest_load(struct manifest *m, const char *path, struct err *e) ASTRO_WUR;

/* Sets status, reason (NULL: null), failed_phase (RUN_PHASE_NONE: null) and updated_at, in memory.
 * AE_NOMEM on failure. */
int manifest_set_status(struct manifest *m, enum run_status status, const char *reason,
                        enum run_phase failed_phase, struct err *e) ASTRO_WUR;

/* The manifest's status; RUN_STATUS_UNKNOWN when missing or not a status word. */
enum run_status manifest_status(const struct manifest *m);

/* The element of array (a JSON array of objects, or anything else: no element) whose "name" is
 * name, or NULL. The result is borrowed from array. */
json_t *manifest_find(json_t *array, const char *name);

/* Replaces (or adds) the files[] entry whose "name" equals name; takes ownership of entry, even on
 * failure (AE_NOMEM). */
int manifest_put_file(struct manifest *m, const char *name, json_t *entry, struct err *e) ASTRO_WUR;

/* Writes the manifest atomically (temp, fsync, rename); AE_IO or AE_NOMEM on failure, when the file
 * on disk is left as it was. */
int manifest_save(const struct manifest *m, struct err *e) ASTRO_WUR;

/* Frees what m holds and leaves it empty; safe on an empty (zeroed) manifest. */
void manifest_release(struct manifest *m);

#endif
