/*
 * sqlite.c - the SQLite load target (struct load_target_ops load_target_sqlite): loads as a sink,
 * the checkpoint look-up, SQL statements in one transaction, and the column types.
 *
 * A load is one transaction opened with BEGIN IMMEDIATE, which takes SQLite's write lock at once:
 * the checkpoint check, the table creation, the DELETE of replace, every row and the checkpoint row
 * happen under that one lock and commit together (sqlite.org/lang_transaction.html). Rows go
 * through one prepared INSERT bound per row; upsert is INSERT ... ON CONFLICT (key) DO UPDATE ...
 * WHERE (old values) IS NOT (new values), with SQLite row values (sqlite.org/rowvalue.html), so an
 * unchanged row is not rewritten and does not count in changes(). The value mapping is in load.h.
 * A sql step's statements run the same way, between BEGIN IMMEDIATE and COMMIT.
 */
#include "load/load.h"
#include "load/load_int.h"

#include <sqlite3.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *sqlite_type_name(struct dtype_info t, char *buf, size_t n)
{
    const char *s = "INTEGER";
    switch (t.id) {
    case DT_STR:
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: s = "TEXT"; break;
    case DT_FLOAT32:
    case DT_FLOAT64: s = "REAL"; break;
    case DT_DECIMAL: s = (t.scale == 0 && t.precision <= 18) ? "INTEGER" : "TEXT"; break;
    default: break;
    }
    snprintf(buf, n, "%s", s);
    return buf;
}

/* ------------------------------------------------------------------ value text */

/* ------------------------------------------------------------------ the SQLite sink */

struct sqlite_load {
    struct load_state ls; /* plan, names, counts (load_int.h) */
    sqlite3 *db;
    sqlite3_stmt *ins;
    bool in_tx;
};

static int db_err(struct sqlite_load *l, struct err *e, const char *what)
{
    return err_set(e, AE_DB, "target \"%s\" (sqlite): %s \"%s\": %s", l->ls.target, what,
                   l->ls.table, l->db != NULL ? sqlite3_errmsg(l->db) : "out of memory");
}

static int sq_exec(struct sqlite_load *l, const char *sql, const char *what, struct err *e)
{
    if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return db_err(l, e, what);
    }
    return 0;
}

static void sqlite_free(struct sqlite_load *l)
{
    load_state_publish(&l->ls);
    sqlite3_finalize(l->ins);
    if (l->in_tx) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_close(l->db);
    load_state_release(&l->ls);
    free(l);
}

static const char checkpoint_ddl[] =
    "CREATE TABLE IF NOT EXISTS astro_checkpoints ("
    "run_id TEXT NOT NULL, dataset TEXT NOT NULL, source_sha256 TEXT NOT NULL, "
    "target_table TEXT NOT NULL, rows INTEGER NOT NULL, status TEXT NOT NULL, "
    "loaded_at TEXT NOT NULL, schema_fingerprint TEXT NOT NULL DEFAULT '', "
    "PRIMARY KEY (dataset, source_sha256, target_table))";

/* *has = astro_checkpoints (which must exist) has the schema_fingerprint column, which astro
 * before checkpoint identities with a schema did not create. */
static int checkpoint_has_fp(sqlite3 *db, bool *has)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT 1 FROM pragma_table_info('astro_checkpoints') WHERE name "
                                "= 'schema_fingerprint'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        *has = rc == SQLITE_ROW;
        rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static const char files_ddl[] =
    "CREATE TABLE IF NOT EXISTS astro_files ("
    "file_name TEXT NOT NULL, file_size INTEGER NOT NULL, file_sha256 TEXT NOT NULL, "
    "dataset TEXT NOT NULL, target_table TEXT NOT NULL, rows_loaded INTEGER NOT NULL, "
    "rows_quarantined INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, "
    "ingested_at TEXT NOT NULL)";

/* Inserts r into astro_files (which must exist) on db; SQLite's result code. */
static int insert_file(sqlite3 *db, const struct load_file_record *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO astro_files (file_name, file_size, file_sha256, "
                                "dataset, target_table, rows_loaded, rows_quarantined, status, "
                                "reason, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->file->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)r->file->size);
        sqlite3_bind_text(st, 3, r->file->sha256, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->dataset, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->table, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)r->rows_loaded);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)r->file->rows_quarantined);
        sqlite3_bind_text(st, 8, r->status, -1, SQLITE_STATIC);
        if (r->reason != NULL) {
            sqlite3_bind_text(st, 9, r->reason, -1, SQLITE_STATIC);
        }
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
    return rc;
}

/* *found = the checkpoint row of (dataset, sha, table) exists; table NULL matches any. With fp
 * (at least 65 bytes), the row's schema fingerprint is copied there ("" for a row from before
 * the column existed, has_fp false). */
static int query_checkpoint(sqlite3 *db, const char *dataset, const char *sha, const char *table,
                            bool has_fp, bool *found, char *fp)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                has_fp ? "SELECT schema_fingerprint FROM astro_checkpoints WHERE "
                                         "dataset = ?1 AND source_sha256 = ?2 AND (?3 IS NULL OR "
                                         "target_table = ?3)"
                                       : "SELECT '' FROM astro_checkpoints WHERE dataset = ?1 AND "
                                         "source_sha256 = ?2 AND (?3 IS NULL OR target_table = ?3)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, dataset != NULL ? dataset : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, sha != NULL ? sha : "", -1, SQLITE_STATIC);
        if (table != NULL) {
            sqlite3_bind_text(st, 3, table, -1, SQLITE_STATIC);
        }
        rc = sqlite3_step(st);
        *found = rc == SQLITE_ROW;
        if (*found && fp != NULL) {
            const char *v = (const char *)sqlite3_column_text(st, 0);
            snprintf(fp, 65, "%s", v != NULL ? v : "");
        }
        rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The state of l's checkpoint row, in l's transaction (astro_checkpoints has the column). */
static int sq_checkpoint_state(struct sqlite_load *l, enum load_ckpt *state, struct err *e)
{
    bool found = false;
    char fp[65] = "";
    if (query_checkpoint(l->db, l->ls.dataset, l->ls.sha, l->ls.table, true, &found, fp) !=
        SQLITE_OK) {
        return db_err(l, e, "cannot read astro_checkpoints for");
    }
    *state = load_ckpt_of(&l->ls, found ? fp : NULL);
    return 0;
}

static int sq_create_table(struct sqlite_load *l, const struct load_opts *o, struct err *e)
{
    struct buf b = BUF_INIT;
    int rc = load_create_table_sql(&b, l->ls.table, &l->ls.plan, l->ls.types, sqlite_type_name,
                                   o->mode == LOAD_UPSERT);
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else {
        rc = sq_exec(l, b.data, "cannot create table", e);
    }
    buf_release(&b);
    return rc;
}

/* The type affinity of a declared column type (sqlite.org/datatype3.html, 3.1): 'I'nteger,
 * 'T'ext, 'B'lob (no type), 'R'eal, 'N'umeric. */
static char sq_affinity(const char *decl)
{
    char up[64];
    size_t n = 0;
    for (; decl != NULL && decl[n] != '\0' && n + 1 < sizeof(up); n++) {
        up[n] = (char)((decl[n] >= 'a' && decl[n] <= 'z') ? decl[n] - 'a' + 'A' : decl[n]);
    }
    up[n] = '\0';
    if (strstr(up, "INT") != NULL) {
        return 'I';
    }
    if (strstr(up, "CHAR") != NULL || strstr(up, "CLOB") != NULL || strstr(up, "TEXT") != NULL) {
        return 'T';
    }
    if (n == 0 || strstr(up, "BLOB") != NULL) {
        return 'B';
    }
    if (strstr(up, "REAL") != NULL || strstr(up, "FLOA") != NULL || strstr(up, "DOUB") != NULL) {
        return 'R';
    }
    return 'N';
}

/* True when a column of declared type decl stores the values of type t unchanged: the same
 * affinity as the type create: true declares, or no affinity (BLOB) at all. NUMERIC takes
 * integers and reals as they are. */
static bool sq_type_fits(const char *decl, struct dtype_info t)
{
    char want[32];
    char a = sq_affinity(decl);
    char w = sq_affinity(sqlite_type_name(t, want, sizeof(want)));
    return a == w || a == 'B' || (a == 'N' && w != 'T');
}

/* Every load column must exist in the table (SQLite compares names case-insensitively) with a
 * type that keeps its values, and every table column the load does not fill must take NULL or
 * have a default. */
static int sq_check_columns(struct sqlite_load *l, struct err *e)
{
    const char *dot = strchr(l->ls.table, '.');
    char *schema = dot != NULL ? strndup(l->ls.table, (size_t)(dot - l->ls.table)) : strdup("main");
    const char *name = dot != NULL ? dot + 1 : l->ls.table;
    bool *seen = calloc(l->ls.plan.ncols, sizeof(*seen));
    sqlite3_stmt *st = NULL;
    int rc = 0;
    size_t ntable = 0;
    if (schema == NULL || seen == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_prepare_v2(l->db,
                           "SELECT name, type, \"notnull\", dflt_value IS NOT NULL, pk FROM "
                           "pragma_table_info(?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(l, e, "cannot read the columns of");
        goto done;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(st, 0);
        const char *decl = (const char *)sqlite3_column_text(st, 1);
        bool filled = false;
        ntable++;
        for (size_t i = 0; col != NULL && i < l->ls.plan.ncols; i++) {
            if (sqlite3_stricmp(col, l->ls.plan.names[i]) == 0) {
                seen[i] = true;
                filled = true;
                if (!sq_type_fits(decl, l->ls.types[i])) {
                    char want[32];
                    rc = load_column_type_err(e, &l->ls, "sqlite", "", col,
                                              decl != NULL && decl[0] != '\0' ? decl : "untyped",
                                              l->ls.types[i],
                                              sqlite_type_name(l->ls.types[i], want, sizeof(want)));
                    goto done;
                }
            }
        }
        /* An INTEGER PRIMARY KEY is the rowid: SQLite fills it. */
        bool rowid = sqlite3_column_int(st, 4) == 1 && decl != NULL &&
                     sqlite3_stricmp(decl, "INTEGER") == 0;
        if (!filled && col != NULL && sqlite3_column_int(st, 2) != 0 &&
            sqlite3_column_int(st, 3) == 0 && !rowid) {
            rc = load_column_unfilled_err(e, &l->ls, "sqlite", "", col);
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        rc = db_err(l, e, "cannot read the columns of");
        goto done;
    }
    if (ntable == 0) {
        rc =
            err_set(e, AE_DB,
                    "target \"%s\" (sqlite): table \"%s\" does not exist (create: true creates it)",
                    l->ls.target, l->ls.table);
        goto done;
    }
    for (size_t i = 0; i < l->ls.plan.ncols; i++) {
        if (!seen[i]) {
            rc = err_set(e, AE_DB, "target \"%s\" (sqlite): table \"%s\" has no column \"%s\"",
                         l->ls.target, l->ls.table, l->ls.plan.names[i]);
            goto done;
        }
    }
done:
    sqlite3_finalize(st);
    free(seen);
    free(schema);
    return rc;
}

static int sq_prepare_insert(struct sqlite_load *l, const struct load_opts *o, struct err *e)
{
    struct buf b = BUF_INIT;
    int rc = buf_puts(&b, "INSERT INTO ");
    rc = rc != 0 ? rc : load_quote_table(&b, l->ls.table);
    rc = rc != 0 ? rc : buf_puts(&b, " AS astro_t (");
    for (size_t i = 0; rc == 0 && i < l->ls.plan.ncols; i++) {
        rc = i > 0 ? buf_puts(&b, ", ") : 0;
        rc = rc != 0 ? rc : load_quote_ident(&b, l->ls.plan.names[i]);
    }
    rc = rc != 0 ? rc : buf_puts(&b, ") VALUES (");
    for (size_t i = 0; rc == 0 && i < l->ls.plan.ncols; i++) {
        rc = buf_puts(&b, i > 0 ? ", ?" : "?");
    }
    rc = rc != 0 ? rc : buf_putc(&b, ')');
    if (rc == 0 && o->mode == LOAD_UPSERT && l->ls.plan.conflict != LOAD_CONFLICT_ERROR) {
        rc = buf_puts(&b, " ON CONFLICT (");
        bool first = true;
        for (size_t i = 0; rc == 0 && i < l->ls.plan.ncols; i++) {
            if (l->ls.plan.is_key[i]) {
                rc = first ? 0 : buf_puts(&b, ", ");
                rc = rc != 0 ? rc : load_quote_ident(&b, l->ls.plan.names[i]);
                first = false;
            }
        }
        if (l->ls.plan.conflict == LOAD_CONFLICT_NOTHING || l->ls.plan.nvalue == 0) {
            rc = rc != 0 ? rc : buf_puts(&b, ") DO NOTHING");
        } else {
            /* Update only rows whose values differ: IS NOT compares NULLs as values. */
            struct buf olds = BUF_INIT, news = BUF_INIT;
            rc = rc != 0 ? rc : buf_puts(&b, ") DO UPDATE SET ");
            first = true;
            for (size_t i = 0; rc == 0 && i < l->ls.plan.ncols; i++) {
                if (l->ls.plan.is_key[i]) {
                    continue;
                }
                const char *sep = first ? "" : ", ";
                rc = buf_puts(&b, sep);
                rc = rc != 0 ? rc : load_quote_ident(&b, l->ls.plan.names[i]);
                rc = rc != 0 ? rc : buf_puts(&b, " = excluded.");
                rc = rc != 0 ? rc : load_quote_ident(&b, l->ls.plan.names[i]);
                rc = rc != 0 ? rc : buf_printf(&olds, "%sastro_t.", sep);
                rc = rc != 0 ? rc : load_quote_ident(&olds, l->ls.plan.names[i]);
                rc = rc != 0 ? rc : buf_printf(&news, "%sexcluded.", sep);
                rc = rc != 0 ? rc : load_quote_ident(&news, l->ls.plan.names[i]);
                first = false;
            }
            rc = rc != 0 ? rc : buf_printf(&b, " WHERE (%s) IS NOT (%s)", olds.data, news.data);
            buf_release(&olds);
            buf_release(&news);
        }
    }
    if (rc != 0) {
        rc = err_set(e, AE_NOMEM, "out of memory");
    } else if (sqlite3_prepare_v2(l->db, b.data, -1, &l->ins, NULL) != SQLITE_OK) {
        rc = db_err(l, e, "cannot prepare the insert into");
    }
    buf_release(&b);
    return rc;
}

/* Binds the value of row r of column c to parameter c+1. */
static int sq_bind(struct sqlite_load *l, const struct batch *b, size_t c, size_t r, struct err *e)
{
    const struct column *col = &b->cols[c];
    int p = (int)c + 1;
    int src;
    char tmp[64];
    if (!col->valid[r]) {
        src = sqlite3_bind_null(l->ins, p);
    } else {
        switch (col->type.id) {
        case DT_STR:
            src = sqlite3_bind_text(l->ins, p, col->data.data + col->offs[r],
                                    (int)(col->offs[r + 1] - col->offs[r]), SQLITE_STATIC);
            break;
        case DT_BOOL: src = sqlite3_bind_int(l->ins, p, col->v.u8[r] != 0); break;
        case DT_UINT64:
            if (col->v.i64[r] < 0) {
                return err_set(e, AE_DB,
                               "target \"%s\" (sqlite): %s, column \"%s\": %" PRIu64
                               " does not fit SQLite's signed 64-bit INTEGER",
                               l->ls.target, load_line_text(tmp, sizeof(tmp), b->line[r]),
                               l->ls.plan.names[c], (uint64_t)col->v.i64[r]);
            }
            src = sqlite3_bind_int64(l->ins, p, col->v.i64[r]);
            break;
        case DT_FLOAT32:
        case DT_FLOAT64: src = sqlite3_bind_double(l->ins, p, col->v.f64[r]); break;
        case DT_DATE:
            dtype_format_time(tmp, sizeof(tmp), DT_DATE, col->v.i64[r]);
            src = sqlite3_bind_text(l->ins, p, tmp, -1, SQLITE_TRANSIENT);
            break;
        case DT_TIMESTAMP:
        case DT_TIMESTAMP_TZ:
            dtype_format_time(tmp, sizeof(tmp), col->type.id, col->v.i64[r]);
            src = sqlite3_bind_text(l->ins, p, tmp, -1, SQLITE_TRANSIENT);
            break;
        case DT_DECIMAL:
            if (col->type.scale == 0 && col->type.precision <= 18) {
                src = sqlite3_bind_int64(l->ins, p, (sqlite3_int64)col->v.i128[r]);
            } else {
                size_t n = dtype_format_decimal(tmp, col->v.i128[r], col->type.scale);
                src = sqlite3_bind_text(l->ins, p, tmp, (int)n, SQLITE_TRANSIENT);
            }
            break;
        default: src = sqlite3_bind_int64(l->ins, p, col->v.i64[r]); break;
        }
    }
    if (src != SQLITE_OK) {
        return db_err(l, e, "cannot bind a value for");
    }
    return 0;
}

static int sqlite_write(void *impl, const struct batch *b, struct err *e)
{
    struct sqlite_load *l = impl;
    if (l->ls.res.skipped) {
        return 0;
    }
    if (b->ncols != l->ls.plan.ncols) {
        return err_set(e, AE_INTERNAL, "target \"%s\": batch of %zu columns for a load of %zu",
                       l->ls.target, b->ncols, l->ls.plan.ncols);
    }
    for (size_t r = 0; r < b->nrows; r++) {
        if (!b->row_ok[r]) {
            continue;
        }
        for (size_t c = 0; c < b->ncols; c++) {
            if (l->ls.plan.is_key[c] && !b->cols[c].valid[r]) {
                /* A NULL into a one-column INTEGER PRIMARY KEY (the rowid) would be given a new
                 * number by SQLite, silently: refused like PostgreSQL refuses it. */
                char where[48];
                sqlite3_reset(l->ins);
                return err_set(e, AE_DB,
                               "target \"%s\" (sqlite): upsert into \"%s\": the row from %s of "
                               "the source file has no value for key column \"%s\"",
                               l->ls.target, l->ls.table,
                               load_line_text(where, sizeof(where), b->line[r]),
                               l->ls.plan.names[c]);
            }
            int rc = sq_bind(l, b, c, r, e);
            if (rc != 0) {
                sqlite3_reset(l->ins);
                return rc;
            }
        }
        int step = sqlite3_step(l->ins);
        if (step != SQLITE_DONE) {
            /* sqlite3_reset() returns the error again; the message stays in the connection. */
            char where[48];
            int rc = err_set(e, AE_DB,
                             "target \"%s\" (sqlite): insert into \"%s\" failed at the "
                             "row from %s of the source file: %s",
                             l->ls.target, l->ls.table,
                             load_line_text(where, sizeof(where), b->line[r]),
                             sqlite3_errmsg(l->db));
            sqlite3_reset(l->ins);
            return rc;
        }
        l->ls.res.rows_written += (uint64_t)sqlite3_changes(l->db);
        l->ls.res.rows_sent++;
        sqlite3_reset(l->ins);
    }
    sqlite3_clear_bindings(l->ins); /* text bindings point into b */
    load_state_publish(&l->ls);
    return 0;
}

static void sqlite_abort(void *impl)
{
    sqlite_free(impl);
}

static int sqlite_commit(void *impl, uint64_t *bytes, struct err *e)
{
    struct sqlite_load *l = impl;
    int rc = 0;
    sqlite3_stmt *st = NULL;
    if (bytes != NULL) {
        *bytes = 0;
    }
    if (l->ls.res.skipped) {
        goto done; /* sqlite_free() rolls the empty transaction back */
    }
    if (l->ls.file != NULL) {
        /* A watch load: the content's identity is known now. Already loaded: roll back. */
        enum load_ckpt state = LOAD_CKPT_NONE;
        rc = load_state_take_sha(&l->ls, e);
        rc = rc != 0 ? rc : sq_checkpoint_state(l, &state, e);
        if (rc != 0) {
            goto done;
        }
        if (state != LOAD_CKPT_NONE) { /* watch: any schema (no fingerprint yet) */
            l->ls.res.skipped = true;
            l->ls.res.rows_written = 0;
            goto done; /* sqlite_free() rolls the transaction back */
        }
    }
    if (sqlite3_prepare_v2(l->db,
                           "INSERT INTO astro_checkpoints (run_id, dataset, source_sha256, "
                           "target_table, rows, status, loaded_at, schema_fingerprint) VALUES "
                           "(?1, ?2, ?3, ?4, ?5, 'loaded', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                           "?6) ON CONFLICT (dataset, source_sha256, target_table) DO UPDATE SET "
                           "run_id = excluded.run_id, rows = excluded.rows, status = "
                           "excluded.status, loaded_at = excluded.loaded_at, schema_fingerprint "
                           "= excluded.schema_fingerprint",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = db_err(l, e, "cannot record the checkpoint of");
        goto done;
    }
    sqlite3_bind_text(st, 1, l->ls.run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, l->ls.dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, l->ls.sha, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, l->ls.table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)l->ls.res.rows_sent);
    sqlite3_bind_text(st, 6, l->ls.fingerprint, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_err(l, e, "cannot record the checkpoint of");
        goto done;
    }
    if (l->ls.file != NULL) {
        struct load_file_record fr = {l->ls.dataset, l->ls.table, l->ls.file,
                                      l->ls.res.rows_sent, "success", NULL};
        if (insert_file(l->db, &fr) != SQLITE_OK) {
            rc = db_err(l, e, "cannot record the file in astro_files for");
            goto done;
        }
    }
    rc = sq_exec(l, "COMMIT", "cannot commit the load into", e);
    if (rc == 0) {
        l->in_tx = false;
        l->ls.res.committed = true;
    }
done:
    sqlite3_finalize(st);
    sqlite_free(l);
    return rc;
}

static const struct sink_ops sqlite_ops = {sqlite_write, sqlite_commit, sqlite_abort};

static int sqlite_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                       const struct column_desc *cols, size_t ncols, struct err *e)
{
    s->ops = &sqlite_ops;
    s->impl = NULL;
    struct sqlite_load *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    int rc = load_state_init(&l->ls, t, "sqlite", o, cols, ncols, e);
    if (rc != 0) {
        free(l);
        return rc;
    }
    const char *tname = l->ls.target;
    if (t->path == NULL || t->path[0] == '\0') {
        rc = err_set(e, AE_CONFIG, "target \"%s\" (sqlite): no database path", tname);
        goto fail;
    }
    if (sqlite3_open_v2(t->path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = err_set(e, AE_DB, "target \"%s\" (sqlite): cannot open %s: %s", tname, t->path,
                     l->db != NULL ? sqlite3_errmsg(l->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(l->db, 30000);
    sqlite3_extended_result_codes(l->db, 1);
    rc = sq_exec(l, "BEGIN IMMEDIATE", "cannot start the load into", e);
    if (rc != 0) {
        goto fail;
    }
    l->in_tx = true;
    rc = sq_exec(l, checkpoint_ddl, "cannot create astro_checkpoints for", e);
    if (rc != 0) {
        goto fail;
    }
    bool has_fp = false;
    if (checkpoint_has_fp(l->db, &has_fp) != SQLITE_OK) {
        rc = db_err(l, e, "cannot read astro_checkpoints for");
        goto fail;
    }
    if (!has_fp) {
        /* A checkpoint table from before schema fingerprints: its rows read as "" (unknown). */
        rc = sq_exec(l,
                     "ALTER TABLE astro_checkpoints ADD COLUMN schema_fingerprint TEXT NOT NULL "
                     "DEFAULT ''",
                     "cannot add schema_fingerprint to astro_checkpoints for", e);
        if (rc != 0) {
            goto fail;
        }
    }
    if (l->ls.file != NULL) {
        rc = sq_exec(l, files_ddl, "cannot create astro_files for", e);
        if (rc != 0) {
            goto fail;
        }
    } else {
        enum load_ckpt state = LOAD_CKPT_NONE;
        bool skip = false;
        rc = sq_checkpoint_state(l, &state, e);
        rc = rc != 0 ? rc : load_ckpt_decide(&l->ls, o, state, &skip, e);
        if (rc != 0) {
            goto fail;
        }
        if (skip) {
            l->ls.res.skipped = true;
            goto opened;
        }
    }
    if (o->create) {
        rc = sq_create_table(l, o, e);
        if (rc != 0) {
            goto fail;
        }
    }
    rc = sq_check_columns(l, e);
    if (rc != 0) {
        goto fail;
    }
    if (o->mode == LOAD_REPLACE) {
        struct buf b = BUF_INIT;
        if (buf_puts(&b, "DELETE FROM ") != 0 || load_quote_table(&b, l->ls.table) != 0) {
            buf_release(&b);
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto fail;
        }
        rc = sq_exec(l, b.data, "cannot empty", e);
        buf_release(&b);
        if (rc != 0) {
            goto fail;
        }
    }
    rc = sq_prepare_insert(l, o, e);
    if (rc != 0) {
        goto fail;
    }
opened:
    l->ls.out = o->result; /* a failed open reports through e only */
    load_state_publish(&l->ls);
    s->impl = l;
    return 0;
fail:
    sqlite_free(l);
    return rc;
}

/* ------------------------------------------------------------------ checkpoints */

static int sqlite_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                               const char *table, bool *done, struct err *e)
{
    const char *tname = t->name != NULL ? t->name : "sqlite";
    struct stat st;
    *done = false;
    if (t->path == NULL || stat(t->path, &st) != 0) {
        return 0; /* no database yet: nothing was loaded */
    }
    sqlite3 *db = NULL;
    int rc = 0;
    if (sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = err_set(e, AE_DB, "target \"%s\" (sqlite): cannot open %s: %s", tname, t->path,
                     db != NULL ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    sqlite3_busy_timeout(db, 30000);
    sqlite3_stmt *q = NULL;
    bool exists = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                           "'astro_checkpoints'",
                           -1, &q, NULL) == SQLITE_OK) {
        int step = sqlite3_step(q);
        exists = step == SQLITE_ROW;
        rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : AE_DB;
    } else {
        rc = AE_DB;
    }
    sqlite3_finalize(q);
    bool has_fp = false;
    if (rc == 0 && exists &&
        (checkpoint_has_fp(db, &has_fp) != SQLITE_OK ||
         query_checkpoint(db, dataset, sha256, table, has_fp, done, NULL) != SQLITE_OK)) {
        rc = AE_DB;
    }
    if (rc != 0) {
        rc = err_set(e, AE_DB, "target \"%s\" (sqlite): cannot read astro_checkpoints in %s: %s",
                     tname, t->path, sqlite3_errmsg(db));
    }
done:
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------------ SQL statements */

static int sqlite_exec_sql(const struct target_spec *t, const char *sql, struct log *log,
                           struct err *e)
{
    (void)log; /* SQLite has no server notices */
    const char *tname = t->name != NULL ? t->name : "sqlite";
    if (t->path == NULL || t->path[0] == '\0') {
        return err_set(e, AE_CONFIG, "target \"%s\" (sqlite): no database path", tname);
    }
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = 0;
    if (sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = err_set(e, AE_DB, "target \"%s\" (sqlite): cannot open %s: %s", tname, t->path,
                     db != NULL ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    sqlite3_busy_timeout(db, 30000);
    /* sqlite3_exec() stops at the first failing statement; the ROLLBACK undoes the ones before. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        rc = err_set(e, AE_DB, "target \"%s\" (sqlite %s): %s", tname, t->path,
                     msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
done:
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------------ watch files and claims */

static int sqlite_record_file(const struct target_spec *t, const struct load_file_record *r,
                              struct err *e)
{
    const char *tname = t->name != NULL ? t->name : "sqlite";
    if (t->path == NULL || t->path[0] == '\0') {
        return err_set(e, AE_CONFIG, "target \"%s\" (sqlite): no database path", tname);
    }
    sqlite3 *db = NULL;
    int rc = 0;
    if (sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(db, 30000) != SQLITE_OK ||
        sqlite3_exec(db, files_ddl, NULL, NULL, NULL) != SQLITE_OK ||
        insert_file(db, r) != SQLITE_OK) {
        rc = err_set(e, AE_DB, "target \"%s\" (sqlite): cannot record %s in astro_files of %s: %s",
                     tname, r->file->name, t->path,
                     db != NULL ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_close(db);
    return rc;
}

/* One watch process per SQLite drop zone (load_target_ops.concurrent is false): every claim is
 * granted, and all claims are the same object. */
static struct load_claim sqlite_claim_token;

static int sqlite_claim(const struct target_spec *t, const char *key, struct load_claim **out,
                        struct err *e)
{
    (void)t;
    (void)key;
    (void)e;
    *out = &sqlite_claim_token;
    return 0;
}

static void sqlite_release(struct load_claim *c)
{
    (void)c;
}

const struct load_target_ops load_target_sqlite = {
    .name = "sqlite",
    .open = sqlite_open,
    .checkpointed = sqlite_checkpointed,
    .exec_sql = sqlite_exec_sql,
    .record_file = sqlite_record_file,
    .concurrent = false,
    .claim = sqlite_claim,
    .release = sqlite_release,
    .type_name = sqlite_type_name,
};
