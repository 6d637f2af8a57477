/*
 * load_int.h - what the load targets share, for src/load only: the checked options of one load
 * (struct load_plan), identifier quoting, the CREATE TABLE text, and the implementations' tables
 * that the registry in load.c lists. A target's file includes load/load.h and this header and
 * nothing of another target: the targets know the shared helpers, never each other.
 *
 * Quoting is shared because both databases take SQL-92 delimited identifiers ("a""b"); a target
 * whose quoting differs would get its own and leave these alone.
 */
#ifndef ASTRO_LOAD_LOAD_INT_H
#define ASTRO_LOAD_LOAD_INT_H

#include "load/load.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* The implementations, one per file; only load.c's registry refers to them. */
extern const struct load_target_ops load_target_postgres; /* pg.c */
extern const struct load_target_ops load_target_sqlite;   /* sqlite.c */

/* A claim (load_target_ops.claim): the target's own state behind one pointer. */
struct load_claim {
    void *impl;
};

/* How an upsert treats a key that already exists (load_opts.on_conflict). */
enum load_conflict { LOAD_CONFLICT_UPDATE, LOAD_CONFLICT_NOTHING, LOAD_CONFLICT_ERROR };

/* The checked options of one load: target column names after renames, key flags, conflict mode.
 * Owns its arrays; load_plan_release() frees them. */
struct load_plan {
    char **names;   /* ncols target column names (owned) */
    bool *is_key;   /* ncols flags: the column is one of o->key (upsert) */
    bool *not_null; /* ncols flags: not nullable, or a key (create: true declares NOT NULL) */
    size_t ncols;
    size_t nvalue; /* columns that are not keys */
    enum load_conflict conflict;
};

/* Checks o against cols (both borrowed: table set, upsert keys present and named columns, no
 * duplicate target names, renames naming dataset columns) and fills p, which copies what it
 * keeps. target names the target in messages. Fails with AE_CONFIG or AE_NOMEM; p is then empty
 * and needs no release. */
int load_plan_init(struct load_plan *p, const struct load_opts *o, const struct column_desc *cols,
                   size_t ncols, const char *target, struct err *e) ASTRO_WUR;

/* Frees what p owns and empties it; an empty (zeroed) p is a no-op. */
void load_plan_release(struct load_plan *p);

/* Appends name as a quoted identifier: "a""b". AE_NOMEM when b cannot grow. */
int load_quote_ident(struct buf *b, const char *name) ASTRO_WUR;

/* Appends a table name quoted: "t", or "s"."t" when it holds a dot (split at the first one).
 * AE_NOMEM when b cannot grow. */
int load_quote_table(struct buf *b, const char *table) ASTRO_WUR;

/* Appends CREATE TABLE IF NOT EXISTS table (...) for plan p: the columns with their types from
 * type_name (a struct load_target_ops's), NOT NULL where p->not_null says (keys included: a
 * non-rowid PRIMARY KEY accepts NULLs in SQLite, a documented legacy quirk), and PRIMARY KEY
 * (the key columns) when pk. AE_NOMEM when b cannot grow. */
int load_create_table_sql(struct buf *b, const char *table, const struct load_plan *p,
                          const struct dtype_info *types,
                          const char *(*type_name)(struct dtype_info, char *, size_t),
                          bool pk) ASTRO_WUR;

/* What every open load keeps of its open call: the checked plan, the column types, the names its
 * messages and its checkpoint row use, and its counts. Owns everything but out. */
struct load_state {
    struct load_result res;   /* the counts so far */
    struct load_result *out;  /* load_opts.result (borrowed), or NULL: see load_state_publish() */
    struct load_plan plan;    /* the checked options */
    struct dtype_info *types; /* plan.ncols column types, copied from cols */
    char *target;             /* target name, for messages */
    char *table;              /* target table, as configured */
    char *run_id;             /* checkpoint row: run, dataset and source hash ("" when not set) */
    char *dataset;
    char *sha;
    char *fingerprint; /* load_opts.schema_fingerprint, "" when not set */
    const struct load_file *file; /* load_opts.file (borrowed), or NULL */
};

/* What astro_checkpoints holds for a load's (dataset, sha256, table). */
enum load_ckpt {
    LOAD_CKPT_NONE,  /* no row: never loaded */
    LOAD_CKPT_SAME,  /* a row with the load's schema fingerprint */
    LOAD_CKPT_OTHER, /* a row with another fingerprint ("" from before the column existed) */
};

/* The state of a checkpoint row whose fingerprint is stored (borrowed; NULL when there is no
 * row), for s's load. */
enum load_ckpt load_ckpt_of(const struct load_state *s, const char *stored);

/* Decides a load that found state in astro_checkpoints: *skip when it is loaded already with this
 * schema and o->reload is not set. A file loaded with another schema is loaded again by replace
 * and upsert; an append fails with AE_CONFIG (its rows would be added twice) unless o->reload. */
int load_ckpt_decide(const struct load_state *s, const struct load_opts *o, enum load_ckpt state,
                     bool *skip, struct err *e) ASTRO_WUR;

/* The error of a table column that does not match the load (AE_DB): column name of table in
 * target (kind and where name it in the message: "sqlite", ""; "postgres", "host=...") is found, the dataset's
 * type dt loads as want. */
int load_column_type_err(struct err *e, const struct load_state *s, const char *kind,
                         const char *where, const char *column, const char *found,
                         struct dtype_info dt, const char *want);

/* The error of a NOT NULL table column without a default that the load does not fill (AE_DB). */
int load_column_unfilled_err(struct err *e, const struct load_state *s, const char *kind,
                             const char *where, const char *column);

/* A row's source line for messages, from batch.line (0: not known): "line 14", or "a line that
 * is not recorded". Writes into buf (at least 32 bytes) and returns it. */
const char *load_line_text(char *buf, size_t n, uint64_t line);

/* Sets s->sha from s->file->sha256 at commit (a watch load). AE_NOMEM. */
int load_state_take_sha(struct load_state *s, struct err *e) ASTRO_WUR;

/* Fills s from o and cols (borrowed: s copies them) with load_plan_init(), naming the target
 * t->name, or kind when t has no name. s->out stays NULL: the target sets it to o->result once
 * its open has succeeded, so that a failed open reports through e only. Fails with AE_CONFIG or
 * AE_NOMEM; s is then empty and needs no release. */
int load_state_init(struct load_state *s, const struct target_spec *t, const char *kind,
                    const struct load_opts *o, const struct column_desc *cols, size_t ncols,
                    struct err *e) ASTRO_WUR;

/* Copies the counts so far to s->out, when set: after open, after each write and at the end. */
void load_state_publish(const struct load_state *s);

/* Frees what s owns and empties it; an empty (zeroed) s is a no-op. Publishes nothing. */
void load_state_release(struct load_state *s);

#endif
