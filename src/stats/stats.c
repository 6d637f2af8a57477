/*
 * stats.c - SQLite bookkeeping of runs and files. Every statement is prepared with bound
 * parameters; nothing is formatted into SQL text.
 */
#include "stats/stats.h"

#include "util/fs.h"

#include <libgen.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct stats {
    sqlite3 *db;
    char *path;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS runs ("
    "  run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,"
    "  source_dir TEXT, started_at TEXT NOT NULL, finished_at TEXT, astro_version TEXT);"
    "CREATE TABLE IF NOT EXISTS files ("
    "  run_id TEXT NOT NULL REFERENCES runs(run_id), name TEXT NOT NULL, source_path TEXT,"
    "  size_bytes INTEGER, sha256 TEXT, rows_read INTEGER, rows_valid INTEGER,"
    "  rows_invalid INTEGER, failure_cases INTEGER, output_path TEXT, output_bytes INTEGER,"
    "  duration_ms INTEGER, status TEXT NOT NULL, PRIMARY KEY (run_id, name));"
    "CREATE TABLE IF NOT EXISTS steps ("
    "  run_id TEXT NOT NULL REFERENCES runs(run_id), step TEXT NOT NULL, kind TEXT NOT NULL,"
    "  status TEXT NOT NULL, started_at TEXT, finished_at TEXT, rows INTEGER, reason TEXT,"
    "  PRIMARY KEY (run_id, step));"
    "PRAGMA user_version = 2;";

/* SQLite's message, and the system's reason when SQLite met one (its "disk I/O error" says
 * nothing of a full disk). */
static int db_error(struct stats *s, struct err *e, const char *what)
{
    int sys = sqlite3_system_errno(s->db);
    if (sys != 0) {
        return err_set(e, AE_IO, "%s: %s: %s (%s)", s->path, what, sqlite3_errmsg(s->db),
                       strerror(sys));
    }
    return err_set(e, AE_IO, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int stats_open(const char *path, struct stats **out, struct err *e)
{
    *out = NULL;
    struct stats *s = calloc(1, sizeof(*s));
    char *dircopy = strdup(path);
    int rc = 0;
    if (s == NULL || dircopy == NULL || (s->path = strdup(path)) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    rc = fs_mkdirs(dirname(dircopy), e);
    if (rc != 0) {
        goto fail;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = s->db ? db_error(s, e, "cannot open") : err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 30000);
    /* BEGIN IMMEDIATE takes the write lock up front, through the busy handler: two processes
     * creating the tables at once then wait for each other instead of one failing with "database
     * is locked" (SQLite skips the busy handler when two readers both try to upgrade). */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_error(s, e, "cannot lock the database");
        goto fail;
    }
    if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
        rc = db_error(s, e, "cannot create tables");
        sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
        goto fail;
    }
    /* WAL lets readers (astro runs/status) work while a run writes. It is an optimisation: when
     * another process holds the database at this moment the rollback journal serves as well. */
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK) {
        /* keep the current journal mode */
    }
    free(dircopy);
    *out = s;
    return 0;
fail:
    free(dircopy);
    stats_close(s);
    return rc;
}

/* Binds text or NULL. */
static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static int run_stmt(struct stats *s, sqlite3_stmt *st, const char *what, struct err *e)
{
    int step = sqlite3_step(st);
    int rc = 0;
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        rc = db_error(s, e, what);
    }
    sqlite3_finalize(st);
    return rc;
}

int stats_run_begin(struct stats *s, const char *run_id, const char *pipeline,
                    const char *source_dir, const char *started_at, struct err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO runs (run_id, pipeline, status, source_dir, started_at,"
                           " astro_version) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_error(s, e, "cannot record the run");
    }
    bind_text(st, 1, run_id);
    bind_text(st, 2, pipeline);
    bind_text(st, 3, run_status_name(RUN_STATUS_INGESTING));
    bind_text(st, 4, source_dir);
    bind_text(st, 5, started_at);
    bind_text(st, 6, ASTRO_VERSION);
    return run_stmt(s, st, "cannot record the run", e);
}

int stats_run_status(struct stats *s, const char *run_id, enum run_status status,
                     const char *reason, const char *finished_at, struct err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET status = ?, reason = ?, finished_at = ?"
                           " WHERE run_id = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_error(s, e, "cannot update the run");
    }
    bind_text(st, 1, run_status_name(status));
    bind_text(st, 2, reason);
    bind_text(st, 3, finished_at);
    bind_text(st, 4, run_id);
    return run_stmt(s, st, "cannot update the run", e);
}

int stats_run_sync_status(struct stats *s, const char *run_id, enum run_status status,
                          const char *reason, const char *finished_at, bool *changed,
                          struct err *e)
{
    *changed = false;
    sqlite3_stmt *st = NULL;
    /* Read first: a listing writes nothing when the stores agree (the usual case). */
    if (sqlite3_prepare_v2(s->db, "SELECT status FROM runs WHERE run_id = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        return db_error(s, e, "cannot read the run");
    }
    bind_text(st, 1, run_id);
    int step = sqlite3_step(st);
    bool differs = false;
    if (step == SQLITE_ROW) {
        const char *now = (const char *)sqlite3_column_text(st, 0);
        differs = now == NULL || strcmp(now, run_status_name(status)) != 0;
    } else if (step != SQLITE_DONE) {
        int rc = db_error(s, e, "cannot read the run");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (!differs) {
        return 0;
    }
    int rc = stats_run_status(s, run_id, status, reason, finished_at, e);
    *changed = rc == 0;
    return rc;
}

int stats_put_file(struct stats *s, const char *run_id, const struct stats_file *f, struct err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO files (run_id, name, source_path, size_bytes,"
                           " sha256, rows_read, rows_valid, rows_invalid, failure_cases,"
                           " output_path, output_bytes, duration_ms, status)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_error(s, e, "cannot record the file");
    }
    bind_text(st, 1, run_id);
    bind_text(st, 2, f->name);
    bind_text(st, 3, f->source_path);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)f->size_bytes);
    bind_text(st, 5, f->sha256);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)f->rows_read);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)f->rows_valid);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)f->rows_invalid);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)f->failure_cases);
    bind_text(st, 10, f->output_path);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)f->output_bytes);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)f->duration_ms);
    bind_text(st, 13, file_status_name(f->status));
    return run_stmt(s, st, "cannot record the file", e);
}

int stats_put_step(struct stats *s, const char *run_id, const struct stats_step *st, struct err *e)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO steps (run_id, step, kind, status, started_at,"
                           " finished_at, rows, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK) {
        return db_error(s, e, "cannot record the step");
    }
    bind_text(q, 1, run_id);
    bind_text(q, 2, st->step);
    bind_text(q, 3, st->kind);
    bind_text(q, 4, step_status_name(st->status));
    bind_text(q, 5, st->started_at);
    bind_text(q, 6, st->finished_at);
    if (st->rows >= 0) {
        sqlite3_bind_int64(q, 7, st->rows);
    } else {
        sqlite3_bind_null(q, 7);
    }
    bind_text(q, 8, st->reason);
    return run_stmt(s, q, "cannot record the step", e);
}

int stats_each_run(struct stats *s, int (*fn)(void *ctx, const char *const *cols), void *ctx,
                   struct err *e)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT run_id, pipeline, status, started_at, finished_at, reason"
                           " FROM runs ORDER BY started_at DESC, run_id",
                           -1, &q, NULL) != SQLITE_OK) {
        return db_error(s, e, "cannot list runs");
    }
    int rc = 0;
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *cols[6];
        for (int i = 0; i < 6; i++) {
            cols[i] = (const char *)sqlite3_column_text(q, i);
        }
        if (fn(ctx, cols) != 0) {
            break;
        }
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_error(s, e, "cannot list runs");
    }
    sqlite3_finalize(q);
    return rc;
}

int stats_run_exists(struct stats *s, const char *run_id, bool *exists, struct err *e)
{
    *exists = true; /* cannot tell: treat as taken so an id is never reused */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM runs WHERE run_id = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        return db_error(s, e, "cannot look up a run id");
    }
    bind_text(st, 1, run_id);
    int step = sqlite3_step(st);
    int rc = 0;
    if (step == SQLITE_ROW || step == SQLITE_DONE) {
        *exists = step == SQLITE_ROW;
    } else {
        rc = db_error(s, e, "cannot look up a run id");
    }
    sqlite3_finalize(st);
    return rc;
}

int stats_last_rows(struct stats *s, const char *name, const char *except_run, bool *found,
                    uint64_t *rows, char *run_id, size_t run_id_size, struct err *e)
{
    *found = false;
    *rows = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT f.rows_read, f.run_id FROM files f JOIN runs r USING (run_id) "
                           "WHERE f.name = ? AND f.status = ? AND f.run_id IS NOT ? "
                           "ORDER BY r.started_at DESC, r.rowid DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK) {
        return db_error(s, e, "cannot look up the last delivery of a file");
    }
    bind_text(st, 1, name);
    bind_text(st, 2, file_status_name(FILE_STATUS_INGESTED));
    if (except_run != NULL) {
        bind_text(st, 3, except_run);
    } else {
        sqlite3_bind_null(st, 3);
    }
    int step = sqlite3_step(st);
    int rc = 0;
    if (step == SQLITE_ROW) {
        *found = true;
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        *rows = n > 0 ? (uint64_t)n : 0;
        const unsigned char *id = sqlite3_column_text(st, 1);
        if (run_id != NULL && run_id_size > 0) {
            snprintf(run_id, run_id_size, "%s", id != NULL ? (const char *)id : "");
        }
    } else if (step != SQLITE_DONE) {
        rc = db_error(s, e, "cannot look up the last delivery of a file");
    }
    sqlite3_finalize(st);
    return rc;
}

void stats_close(struct stats *s)
{
    if (s == NULL) {
        return;
    }
    if (s->db != NULL) {
        sqlite3_close(s->db);
    }
    free(s->path);
    free(s);
}
