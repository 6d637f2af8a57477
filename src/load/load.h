/*
 * load.h - load targets behind one interface: a database a run's rows are loaded into and SQL is
 * run against. Each kind of target (enum target_kind in config/config.h) is one implementation of
 * struct load_target_ops in its own file (pg.c: libpq, binary COPY; sqlite.c: libsqlite3,
 * prepared INSERTs), and load.c holds the one registry that maps a kind to its table, so callers
 * never test which kind they have. A load is a struct sink (sink/sink.h: open -> write* -> commit
 * | abort); its counts reach the caller through load_opts.result, never through the sink handle.
 * Adding a kind is one new file filling a struct load_target_ops plus one case in
 * load_target_ops_for(), whose switch has no default so that -Wswitch names the place.
 *
 * Guarantees, both databases:
 * - One load is one transaction: the table creation (create: true), TRUNCATE/DELETE (replace), the
 *   rows and the checkpoint row in astro_checkpoints commit together or not at all. A failed
 *   write or commit rolls back; nothing is ever half-loaded.
 * - A load is identified by (dataset, source_sha256, target table) and the schema fingerprint of
 *   the rows (load_opts.schema_fingerprint: what decides their values and types). When
 *   astro_checkpoints holds that triple with the same fingerprint the load is skipped: open
 *   succeeds, writes are ignored, commit changes nothing and reports skipped
 *   (load_result.skipped), so a re-run never doubles rows. When it holds the triple with another
 *   fingerprint (the schema changed since; a row written before the column existed has "", an
 *   unknown schema, which never matches) the file is loaded again for replace and upsert, and
 *   refused (AE_CONFIG) for append, which would add its rows a second time; load_opts.reload
 *   loads in every case. The checkpoint row is then rewritten (one row per triple: the last
 *   load). The check happens inside the load's transaction under a lock (PostgreSQL: an advisory
 *   transaction lock on the triple; SQLite: BEGIN IMMEDIATE), so two concurrent loads of one
 *   file cannot both run.
 * - Identifiers are always quoted ("a""b"); values travel only through COPY or bound parameters.
 *   A table name "schema.table" (one dot) names a table in a schema (PostgreSQL) or an attached
 *   database (SQLite); each part is quoted.
 * - Errors are AE_DB (AE_NOMEM for memory, AE_CONFIG for unusable options) with a message that
 *   names the target and, for PostgreSQL, host, port, dbname and user, never the password: loads,
 *   checkpoint look-ups and SQL statements all report through the same scrubbed path.
 *
 * astro_checkpoints (created if missing, in the target database):
 *   run_id text, dataset text, source_sha256 text, target_table text, rows bigint (rows sent),
 *   status text ('loaded'), loaded_at (timestamptz on PostgreSQL, ISO-8601 UTC text on SQLite),
 *   schema_fingerprint text NOT NULL DEFAULT '', PRIMARY KEY (dataset, source_sha256,
 *   target_table). A table from an earlier astro without schema_fingerprint gets the column on
 *   the first load (ALTER TABLE ... ADD COLUMN); its rows read as "".
 *
 * Before rows are sent, the table's columns are compared with the load's: a load column the
 * table lacks, a column whose type does not take the load's values (PostgreSQL: the exact type
 * binary COPY sends; SQLite: the type affinity of the declared type), or a table column the load
 * does not fill that is NOT NULL without a default is an AE_DB error naming the column, the type
 * expected and the type found, and saying to drop or alter the table or load into another.
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
#ifndef ASTRO_LOAD_LOAD_H
#define ASTRO_LOAD_LOAD_H

#include "config/config.h"
#include "sink/sink.h"

#include <stdbool.h>
#include <stdint.h>

struct log; /* util/log.h */

/* Counts of one load, published through load_opts.result. */
struct load_result {
    uint64_t rows_sent;    /* rows with row_ok == 1 handed to the database */
    uint64_t rows_written; /* rows inserted or updated in the target table (PostgreSQL: the
                              command tag of COPY or INSERT; SQLite: the sum of changes()) */
    uint64_t bytes_sent;   /* PostgreSQL: bytes of binary COPY data; SQLite: 0 */
    bool skipped;          /* the checkpoint existed: nothing was loaded */
    bool committed;        /* the transaction committed (false after abort or failure) */
};

/* A file astro watch takes in (load_opts.file). Its content's identity is known only once it has
 * been read, in the same pass as the load: the caller fills sha256 and rows_quarantined before
 * commit. */
struct load_file {
    const char *name;          /* the file's name in the drop zone */
    uint64_t size;             /* bytes as delivered */
    char sha256[65];           /* of the content, filled before commit */
    uint64_t rows_quarantined; /* rows left out of the load (invalid), filled before commit */
};

/* What happened to a file astro watch took in: one row of astro_files. */
struct load_file_record {
    const char *dataset;
    const char *table;
    const struct load_file *file;
    uint64_t rows_loaded;
    const char *status; /* "success" (written by the load itself), "failed", "skipped" */
    const char *reason; /* or NULL */
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
    const char *schema_fingerprint; /* checkpoint identity: the rows' schema (NULL means "") */
    bool reload;                /* load even when checkpointed with this fingerprint */
    const char *const *renames; /* optional pairs: renames[2i] dataset column -> renames[2i+1] */
    size_t nrenames;            /* number of pairs */
    struct load_result *result; /* optional out, owned by the caller: the counts so far after a
                                   successful open and after every successful write, the final
                                   counts after commit or abort; untouched by a failed open */
    struct log *log; /* optional, owned by the caller, valid until commit or abort: where the
                        server's notices and warnings go (log_detail: the run log, the console
                        only with -v); NULL drops them */
    const struct load_file *file; /* optional, owned by the caller, valid until commit or abort:
                                     a watch load. source_sha256 is then NULL: the checkpoint is
                                     checked at commit, under its lock, from file->sha256 (content
                                     already loaded, with whatever schema fingerprint: the
                                     transaction rolls back and the result says skipped), and a
                                     "success" row goes to astro_files in the load's
                                     transaction */
};

/* A claim on a name (load_target_ops.claim). */
struct load_claim;

/*
 * One kind of load target. Every member is set; t is borrowed for the call (its kind is the
 * table's), and nothing a call receives is kept after it returns, except what open copies.
 */
struct load_target_ops {
    /* The config word of the kind ("postgres", "sqlite"), as messages name it. */
    const char *name;

    /* Opens a load of the columns cols (borrowed for this call; the batches sink_write() will
     * receive, in order) into target t, as a sink s: connects, starts the load's transaction,
     * takes the checkpoint lock, skips when the checkpoint exists, creates (o->create), checks
     * the table's columns and empties it (replace). PostgreSQL: t->dsn is a libpq connection
     * string or URI (NULL or "" means the PG* variables, service file and .pgpass); the rows go
     * by COPY ... FROM STDIN (FORMAT binary), straight into the table, with FREEZE after a
     * replace's TRUNCATE, or through a staging table for an upsert unless the keyed table is
     * empty (see pg.c). SQLite: t->path is the database file, created if missing. Fails with
     * AE_DB (connection, SQL, table columns not matching cols), AE_CONFIG (bad options) or
     * AE_NOMEM; nothing is then left open and s holds no load. */
    int (*open)(struct sink *s, const struct target_spec *t, const struct load_opts *o,
                const struct column_desc *cols, size_t ncols, struct err *e);

    /* *done = true when astro_checkpoints in t holds (dataset, sha256, table), whatever its
     * schema fingerprint; table NULL matches any table. A missing checkpoint table or (SQLite) a missing database file means not done.
     * A cheap pre-check for the steps runner; the load checks again under its lock. Fails with
     * AE_DB when the database cannot be reached (*done is then false). */
    int (*checkpointed)(const struct target_spec *t, const char *dataset, const char *sha256,
                        const char *table, bool *done, struct err *e);

    /* Runs the statements in sql (borrowed; several separated by ';') in one transaction:
     * all commit or none (PostgreSQL: BEGIN ... COMMIT; SQLite: BEGIN IMMEDIATE ... COMMIT).
     * Results of queries are discarded; the server's notices (RAISE NOTICE, "relation already
     * exists, skipping") go to log (borrowed; NULL drops them), as a load's do. Fails with AE_DB
     * (connection, SQL), AE_CONFIG (a PostgreSQL dsn that does not parse, a SQLite target without
     * a path) or AE_NOMEM. */
    int (*exec_sql)(const struct target_spec *t, const char *sql, struct log *log, struct err *e);

    /* Records r in astro_files (created if missing) in its own transaction: a file that failed
     * (quarantined) or was skipped. Fails with AE_DB or AE_NOMEM. */
    int (*record_file)(const struct target_spec *t, const struct load_file_record *r,
                       struct err *e);

    /* True when several processes may load into one target at once (PostgreSQL): astro watch
     * workers then share a drop zone and claim each file through claim(). False (SQLite): one
     * watch process per drop zone. */
    bool concurrent;

    /* Claims key (a file's name) for this process until release() or its death: *out is NULL
     * when another process holds it. PostgreSQL: a session advisory lock on a connection the
     * claim keeps. SQLite: always granted (see concurrent). AE_DB when the target cannot be
     * reached. */
    int (*claim)(const struct target_spec *t, const char *key, struct load_claim **out,
                 struct err *e);
    void (*release)(struct load_claim *c); /* c may be NULL */

    /* The SQL column type create: true declares for type t (PostgreSQL: "numeric(12,2)",
     * "bigint"...; SQLite: "INTEGER", "TEXT", "REAL"). Writes into buf (at least 32 bytes) and
     * returns it; cannot fail. */
    const char *(*type_name)(struct dtype_info t, char *buf, size_t n);
};

/* The load target of kind: a static table, never freed; NULL only for a value that is not a
 * target_kind (a caller's bug). */
const struct load_target_ops *load_target_ops_for(enum target_kind kind);

/* The registry's open, checkpointed, exec_sql, record_file and claim for t->kind (see struct
 * load_target_ops), on t with its ${VAR} expanded first (config_target_expand: AE_CONFIG naming
 * the key and the variable when one is not set); AE_INTERNAL when t->kind is not a target_kind.
 * Drivers call these, never the ops' entries themselves, which take expanded targets. */
int load_open(struct sink *s, const struct target_spec *t, const struct load_opts *o,
              const struct column_desc *cols, size_t ncols, struct err *e) ASTRO_WUR;
int load_checkpointed(const struct target_spec *t, const char *dataset, const char *sha256,
                      const char *table, bool *done, struct err *e) ASTRO_WUR;
int load_exec_sql(const struct target_spec *t, const char *sql, struct log *log,
                  struct err *e) ASTRO_WUR;
int load_record_file(const struct target_spec *t, const struct load_file_record *r,
                     struct err *e) ASTRO_WUR;
int load_claim(const struct target_spec *t, const char *key, struct load_claim **out,
               struct err *e) ASTRO_WUR;

#endif
