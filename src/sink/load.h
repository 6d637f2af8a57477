/*
 * load.h - database load sinks: PostgreSQL (libpq, binary COPY) and SQLite (libsqlite3, prepared
 * INSERTs), behind the struct sink interface of sink.h (open -> write* -> commit | abort).
 *
 * Guarantees, both databases:
 * - One load is one transaction: the table creation (create: true), TRUNCATE/DELETE (replace), the
 *   rows and the checkpoint row in astro_checkpoints commit together or not at all. A failed
 *   write or commit rolls back; nothing is ever half-loaded.
 * - A load is identified by (dataset, source_sha256, target table). When astro_checkpoints already
 *   holds that triple the load is skipped: open succeeds, writes are ignored, commit changes
 *   nothing and reports skipped (load_result.skipped), so a re-run never doubles rows. The check
 *   happens inside the load's transaction under a lock (PostgreSQL: an advisory transaction lock
 *   on the triple; SQLite: BEGIN IMMEDIATE), so two concurrent loads of one file cannot both run.
 *   To load the same file into the same table again, delete its checkpoint row.
 * - Identifiers are always quoted ("a""b"); values travel only through COPY or bound parameters.
 *   A table name "schema.table" (one dot) names a table in a schema (PostgreSQL) or an attached
 *   database (SQLite); each part is quoted.
 * - Errors are AE_DB (AE_NOMEM for memory, AE_CONFIG for unusable options) with a message that
 *   names the target and, for PostgreSQL, host, port, dbname and user, never the password.
 *
 * astro_checkpoints (created if missing, in the target database):
 *   run_id text, dataset text, source_sha256 text, target_table text, rows bigint (rows sent),
 *   status text ('loaded'), loaded_at (timestamptz on PostgreSQL, ISO-8601 UTC text on SQLite),
 *   PRIMARY KEY (dataset, source_sha256, target_table).
 *
 * Modes: append inserts the rows; replace empties the table first (TRUNCATE on PostgreSQL,
 * DELETE FROM on SQLite); upsert needs key columns and a unique constraint on them (create: true
 * declares PRIMARY KEY (key)); on_conflict "update" (default) updates only rows whose values
 * differ, "nothing" keeps the existing rows, "error" fails the load on the first duplicate key.
 * Keys must be unique within one file for PostgreSQL upserts (the server refuses to update a row
 * twice in one statement); declare them unique in the schema.
 *
 * Type mapping (create: true; an existing table must have these column types on PostgreSQL,
 * because binary COPY sends exactly them; varchar/char are accepted for str and any numeric for
 * decimal and uint64):
 *   dtype            PostgreSQL           SQLite column / stored value
 *   str              text                 TEXT / UTF-8 text
 *   bool             boolean              INTEGER / 0 or 1
 *   int8, int16      smallint             INTEGER
 *   int32            integer              INTEGER
 *   int64            bigint               INTEGER
 *   uint8            smallint             INTEGER
 *   uint16           integer              INTEGER
 *   uint32           bigint               INTEGER
 *   uint64           numeric(20,0)        INTEGER (a value above 2^63-1 fails the load: SQLite's
 *                                         INTEGER is signed 64-bit and would turn it into a REAL)
 *   float32          real                 REAL (NaN is stored as NULL by SQLite)
 *   float64          double precision     REAL
 *   date             date                 TEXT 'YYYY-MM-DD'
 *   datetime         timestamp            TEXT 'YYYY-MM-DDTHH:MM:SS.ffffff'
 *   datetime UTC     timestamptz          TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ'
 *   decimal(p,s)     numeric(p,s)         s == 0 and p <= 18: INTEGER; otherwise TEXT holding the
 *                                         exact digits with s decimals ('-12.30'), never a REAL
 * Non-nullable columns and key columns are NOT NULL. Timestamps always carry six fractional
 * digits so that their text sorts in time order.
 */
#ifndef ASTRO_SINK_LOAD_H
#define ASTRO_SINK_LOAD_H

#include "config/config.h"
#include "sink/sink.h"

#include <stdbool.h>
#include <stdint.h>

/* Counts of one load, filled by commit (and abort) through load_opts.result. */
struct load_result {
    uint64_t rows_sent;    /* rows with row_ok == 1 handed to the database */
    uint64_t rows_written; /* rows inserted or updated in the target table (PostgreSQL: the
                              command tag of COPY or INSERT; SQLite: the sum of changes()) */
    uint64_t bytes_sent;   /* PostgreSQL: bytes of binary COPY data; SQLite: 0 */
    bool skipped;          /* the checkpoint existed: nothing was loaded */
    bool committed;        /* the transaction committed (false after abort or failure) */
};

/* What to load and how. Every pointer is borrowed for the duration of the open call only (the
 * sink copies what it keeps), except result, which must stay valid until commit or abort. */
struct load_opts {
    const char *table;          /* target table; "schema.table" allowed */
    enum load_mode mode;        /* LOAD_APPEND, LOAD_UPSERT, LOAD_REPLACE (config/config.h) */
    const char *const *key;     /* upsert key columns (names after renames) */
    size_t nkey;                /* > 0 for LOAD_UPSERT */
    bool create;                /* CREATE TABLE IF NOT EXISTS from the columns */
    const char *on_conflict;    /* "update" (NULL means this), "nothing", "error" */
    const char *run_id;         /* recorded in the checkpoint row */
    const char *dataset;        /* checkpoint identity */
    const char *source_sha256;  /* checkpoint identity: the source file's hash */
    const char *const *renames; /* optional pairs: renames[2i] dataset column -> renames[2i+1] */
    size_t nrenames;            /* number of pairs */
    struct load_result *result; /* optional out: filled at commit or abort */
};

/* Opens a load into a PostgreSQL target. t->dsn is a libpq connection string or URI (NULL or ""
 * means the PG* variables, service file and .pgpass). Connects, BEGINs, takes the checkpoint
 * lock, creates the table (o->create), TRUNCATEs (replace; the COPY then uses FREEZE) or, for an
 * upsert, either finds the keyed table empty (checked, locked SHARE ROW EXCLUSIVE, checked again:
 * the COPY goes straight into it) or creates the staging table, and starts COPY ... FROM STDIN
 * (FORMAT binary) (see pg.c for when the direct path applies). cols (borrowed for this call)
 * describe the batch columns that sink_write() will receive, in order. Fails with AE_DB
 * (connection, SQL, table columns not matching cols), AE_CONFIG (bad options) or AE_NOMEM; nothing
 * is left open. */
int sink_pg_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                 const struct column_desc *cols, size_t ncols, struct err *e) ASTRO_WUR;

/* Opens a load into a SQLite database file t->path (created if missing). Same contract. */
int sink_sqlite_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                     const struct column_desc *cols, size_t ncols, struct err *e) ASTRO_WUR;

/* Opens the load sink for t->kind (one of the two above). */
int sink_load_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                   const struct column_desc *cols, size_t ncols, struct err *e) ASTRO_WUR;

/* The counts so far of an open load sink s (before commit). */
void sink_load_result(const struct sink *s, struct load_result *out);

/* *done = true when astro_checkpoints in target t holds (dataset, sha256, table); table NULL
 * matches any table. A missing checkpoint table or (SQLite) a missing database file means not
 * done. A cheap pre-check for the steps runner; the sink itself checks again under its lock.
 * Fails with AE_DB when the database cannot be reached. */
int load_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                      const char *table, bool *done, struct err *e) ASTRO_WUR;

/* The SQL column type that create: true uses for type t (PostgreSQL: "numeric(12,2)"...;
 * SQLite: "INTEGER", "TEXT", "REAL"). Writes into buf (at least 32 bytes) and returns it. */
const char *load_pg_type(struct dtype_info t, char *buf, size_t n);
const char *load_sqlite_type(struct dtype_info t, char *buf, size_t n);

/*
 * Shared by pg.c and sqlite_load.c (not for other modules).
 */

/* The checked options of one load: target column names after renames, key flags, conflict mode. */
enum load_conflict { LOAD_CONFLICT_UPDATE, LOAD_CONFLICT_NOTHING, LOAD_CONFLICT_ERROR };

struct load_plan {
    char **names;   /* ncols target column names (owned) */
    bool *is_key;   /* ncols flags: the column is one of o->key (upsert) */
    bool *not_null; /* ncols flags: not nullable, or a key (create: true declares NOT NULL) */
    size_t ncols;
    size_t nvalue; /* columns that are not keys */
    enum load_conflict conflict;
};

/* Checks o against cols (table set, upsert keys present and named columns, no duplicate target
 * names, renames naming dataset columns) and fills p. target names the target in messages.
 * Fails with AE_CONFIG or AE_NOMEM; p is then empty. */
int load_plan_init(struct load_plan *p, const struct load_opts *o, const struct column_desc *cols,
                   size_t ncols, const char *target, struct err *e) ASTRO_WUR;
void load_plan_release(struct load_plan *p);

/* load_checkpointed() for a PostgreSQL target (pg.c). */
int load_pg_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                         const char *table, bool *done, struct err *e) ASTRO_WUR;

/* Appends name as a quoted identifier: "a""b". */
int load_quote_ident(struct buf *b, const char *name) ASTRO_WUR;

/* Appends a table name quoted: "t", or "s"."t" when it holds a dot (split at the first one). */
int load_quote_table(struct buf *b, const char *table) ASTRO_WUR;

/* Appends CREATE TABLE IF NOT EXISTS table (...) for plan p: the columns with their types from
 * type_name (load_pg_type or load_sqlite_type), NOT NULL where p->not_null says (keys included:
 * a non-rowid PRIMARY KEY accepts NULLs in SQLite, a documented legacy quirk), and PRIMARY KEY
 * (the key columns) when pk. AE_NOMEM when b cannot grow. */
int load_create_table_sql(struct buf *b, const char *table, const struct load_plan *p,
                          const struct dtype_info *types,
                          const char *(*type_name)(struct dtype_info, char *, size_t),
                          bool pk) ASTRO_WUR;

#endif
