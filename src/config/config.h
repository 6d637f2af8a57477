/*
 * config.h - astro.yaml and Pandera YAML schemas as plain structs.
 *
 * config_load() reads and checks the whole file up front: unknown keys, wrong types and missing
 * required keys are errors naming the file, line, column and key path
 * (ingest_files[0].schema.columns.URN.dtype), with the nearest known key suggested for a
 * misspelling. Check arguments are kept as YAML scalars (struct cfg_arg) with their location: the
 * validator types them against the column's dtype when it compiles the schema (validate.h), so a
 * bad argument is still reported with its place in the file.
 * Every string in these structs is owned by the struct config and freed by config_free().
 */
#ifndef ASTRO_CONFIG_CONFIG_H
#define ASTRO_CONFIG_CONFIG_H

#include "batch/dtype.h"
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a value was written: file, 1-based line and column, and its key path. */
struct cfg_loc {
    const char *file; /* borrowed from struct config (config->path or a schema_file path) */
    uint32_t line;
    uint32_t col;
    char *path; /* "ingest_files[0].schema.columns.URN.checks.isin" */
};

/* One argument of a check. key is NULL for the positional value (`greater_than: 0` or the
 * `value:` of the newer Pandera form). A YAML null gives is_null; a YAML sequence gives items. */
struct cfg_arg {
    char *key;
    char *value; /* scalar text as written; NULL when is_null or is_list */
    bool is_null;
    bool is_list;
    char **items; /* is_list: nitems scalars (a null item is NULL) */
    size_t nitems;
    struct cfg_loc loc;
};

/* A check as written in the schema. name is canonical (aliases such as eq, ge, gt resolved to
 * equal_to, greater_than_or_equal_to, greater_than). Options common to all checks (ignore_na,
 * raise_warning, error) are parsed into fields; the rest stay in args. */
struct check_spec {
    char *name;
    struct cfg_arg *args;
    size_t nargs;
    bool ignore_na;     /* default true */
    bool raise_warning; /* default false */
    char *error;        /* custom message or NULL */
    bool has_n_failure_cases; /* Pandera's n_failure_cases given (not null): report at most */
    int64_t n_failure_cases;  /* this many cases of the check (its rows still fail) */
    struct cfg_loc loc;
};

struct column_spec {
    char *name;
    struct dtype_info type;
    char *dtype_text; /* as written; "str" when the schema gives none (Pandera's "any") */
    bool nullable;    /* Pandera default: false */
    bool unique;      /* default false */
    bool drop_invalid_rows; /* a row failing only this column's rules (of the columns that say
                               so) is dropped and reported, and does not fail the file */
    bool required;    /* default true */
    bool coerce;      /* default false (or the schema's coerce) */
    bool regex;       /* name is a pattern matching several columns */
    char *title;
    char *description;
    char *format;   /* strptime-style format for date/datetime, or NULL; the first of
                       formats when a list was given */
    char **formats; /* `format: [A, B]`: the formats tried in order (the first that parses
                       wins), or NULL when format was one string */
    size_t nformats;
    char thousands;         /* numbers: digit group separator, 0 = the ingest spec's (none) */
    char decimal;           /* numbers: decimal mark, 0 = the ingest spec's ('.') */
    bool has_century_pivot; /* century_pivot given (required by a format with %y) */
    int century_pivot;      /* 0..100: %y below it is 20yy, the others 19yy */
    char *path;         /* JSON formats: the dotted key path of the value (customer.email), or
                           NULL for the column's name (input/json.c) */
    char **null_values; /* extra null markers for this column */
    size_t n_null_values;
    char **true_values; /* bool spellings; NULL means the defaults */
    size_t n_true_values;
    char **false_values;
    size_t n_false_values;
    char *default_value; /* Pandera `default`: text as written (typed by the validator), or NULL */
    struct check_spec *checks;
    size_t nchecks;
    struct cfg_loc loc;
};

enum strict_mode { STRICT_FALSE, STRICT_TRUE, STRICT_FILTER };

struct schema {
    struct column_spec *cols;
    size_t ncols;
    enum strict_mode strict; /* default STRICT_FALSE, as Pandera */
    bool ordered;
    bool coerce;
    char ***unique_sets; /* frame-level unique: nunique sets of column names, each NULL-ended */
    size_t nunique;
    char *report_duplicates;    /* "all" (default), "exclude_first", "exclude_last" */
    bool report_duplicates_set; /* added: the schema states report_duplicates (else astro keeps
                                   the first occurrence, see validate.h) */
    char *name;
    /* Added: the remaining Pandera frame options, and the file the schema was read from. */
    bool unique_column_names; /* default false */
    bool add_missing_columns; /* default false */
    char *title;
    char *description;
    /* drop_invalid_rows: true (the frame's): invalid rows are dropped and reported, and they do
     * not fail the file unless astro.yaml sets a bad-row threshold (ingest/engine.h). A column's
     * drop_invalid_rows is scoped to its own failures (column_spec); drop_columns: any column
     * says so. */
    bool drop_invalid_rows;
    bool drop_columns;
    /* The index block as Pandera writes it (a RangeIndex): astro's index is the 0-based row
     * position, an int64; its checks run on it. NULL when the schema has none. name may be NULL
     * (Pandera's unnamed index). */
    struct column_spec *index;
    /* Frame-level dtype and checks (Pandera's DataFrameSchema(dtype=..., checks=...)): when the
     * schema has either, the loader gives every declared column the frame dtype (it overrides
     * theirs, as in Pandera) and appends the frame checks to each column's checks; extra is the
     * rule of the columns it does not declare (kept by strict: false): the frame dtype (str when
     * none), not nullable when a frame dtype is given (Pandera's Column(dtype)), and the frame
     * checks. NULL when the schema has neither. */
    struct column_spec *extra;
    char *file; /* owned: the schema_file path as opened (locations borrow it); NULL when inline */
    struct cfg_loc loc;
};

/* The default of ingest_spec.max_record_lines: quoted values with a few line breaks (addresses,
 * short comments) are common; a record over twenty lines is far more often a quote that opened a
 * field by mistake and swallowed the rows after it, which would pass as one valid record. Failing
 * a file that really holds such values is loud and fixed with one key; losing rows is silent. */
#define CONFIG_MAX_RECORD_LINES 20

/* The format of a delivered file (its reader: input/input.h). Compression is not a format: the
 * source recognises it by its magic bytes (input/source.h). */
enum input_format { INPUT_CSV, INPUT_NDJSON, INPUT_JSON, INPUT_XLSX, INPUT_PARQUET };

/* The format a file name or source_pattern glob implies: its extension once trailing '*' and a
 * compression extension (.gz, .zst, .zstd, .bz2, .xz) are removed: .ndjson and .jsonl are ndjson,
 * .json is json, .xlsx is xlsx, .parquet is parquet, anything else csv ("orders*.ndjson.gz" and
 * "orders*.ndjson*" are ndjson). */
enum input_format config_format_of_name(const char *name);

/* The config word of f ("csv"). */
const char *config_format_name(enum input_format f);

/* What `astro ingest` does when a file has fewer than half the rows of the last file of its spec
 * that was ingested (stats.db). */
enum row_drop_mode { ROW_DROP_WARN, ROW_DROP_FAIL, ROW_DROP_OFF };

struct ingest_spec {
    char *name;
    char *source_pattern;
    enum input_format format; /* default: config_format_of_name(source_pattern) */
    char *encoding;           /* default "utf-8" */
    char *sheet;              /* xlsx: the worksheet's name, or NULL for the first sheet */
    bool has_header;          /* default true */
    char **column_names;      /* required when has_header is false */
    size_t ncolumn_names;
    char delimiter;     /* default ',' */
    char quote;         /* default '"' */
    char escape;        /* default '\0' = none (quotes are escaped by doubling) */
    char **null_values; /* extra null markers for every column */
    size_t n_null_values;
    int64_t max_bad_rows;        /* -1 = not set */
    double max_bad_row_fraction; /* < 0 = not set */
    int64_t max_failure_cases;   /* cap on stored/printed failure detail; -1 = unlimited */
    int64_t max_record_lines;    /* a record spanning more physical lines fails the file
                                    (validate.h); default CONFIG_MAX_RECORD_LINES */
    bool allow_symlinks_outside; /* a symbolic link in the source folder may resolve outside
                                    it (default false: such a link is refused, see ingest/match.h) */
    char thousands;              /* numbers of every numeric column (unless the column says):
                                    digit group separator, 0 = none */
    char decimal;                /* and decimal mark, 0 = '.' */
    int64_t min_rows;            /* fewer data rows fail the file (check min_rows); 0 = none */
    enum row_drop_mode row_count_drop; /* a file with fewer than half the rows of the spec's
                                          last ingested file: warn (default), fail, off */
    char *schema_file;           /* as written, or NULL when inline */
    struct schema schema;
    struct cfg_loc loc;
};

enum target_kind { TARGET_POSTGRES, TARGET_SQLITE };

struct target_spec {
    char *name;
    enum target_kind kind;
    /* As written in astro.yaml, ${VAR} not expanded (its syntax is checked by config_load):
     * config_target_expand gives the values to connect with, where the target is used. */
    char *dsn;       /* postgres; may be NULL (PG* variables) */
    char *path;      /* sqlite; relative: to dir */
    const char *dir; /* borrowed: the folder of astro.yaml (NULL: paths taken as they are) */
    struct cfg_loc loc;
    struct cfg_loc dsn_loc, path_loc; /* where dsn and path were written (path NULL if not) */
};

enum step_kind { STEP_LOAD, STEP_SQL, STEP_EXEC };
enum load_mode { LOAD_APPEND, LOAD_UPSERT, LOAD_REPLACE };

struct step_spec {
    char *name;
    enum step_kind kind;
    /* load */
    char *dataset;
    char *target;
    char *table;         /* default: the dataset name */
    enum load_mode mode; /* default append; upsert needs key */
    char **key;
    size_t nkey;
    bool create;       /* default false */
    char *on_conflict; /* "update" (default), "nothing", "error" */
    char **renames;    /* pairs: renames[2i] dataset column -> renames[2i+1] table column */
    size_t nrenames;   /* number of pairs */
    /* sql */
    char *sql_file;
    char *statements;
    /* exec */
    char **argv;
    size_t nargv;
    struct cfg_loc loc;
};

struct watch_spec {
    bool present;
    char *root;
    char *target;          /* a key of targets, or NULL */
    char *readiness;       /* done_marker | stable (default) | rename */
    int64_t quiet_seconds; /* default 5, >= 0 */
    int64_t poll_seconds;  /* default 10, > 0 */
    bool archive_parquet;    /* archive: parquet: a typed copy beside each file in processed/ */
    struct step_spec *loads; /* kind STEP_LOAD, name = dataset: where each dataset's files go */
    size_t nloads;
    uint32_t line, col;    /* where the block starts in astro.yaml */
};

enum exec_mode { EXEC_SERIAL, EXEC_PARALLEL };

struct config {
    char *path; /* the file read */
    char *dir;  /* its directory: relative paths in the config resolve from here */
    char *pipeline;
    enum exec_mode execution_mode;      /* default serial */
    int64_t large_file_threshold_bytes; /* default 104857600 */
    struct ingest_spec *ingest;
    size_t ningest;
    struct target_spec *targets;
    size_t ntargets;
    struct step_spec *steps;
    size_t nsteps;
    struct watch_spec watch;
    /* fnmatch globs of delivery entries that are neither data nor extra (README.txt, _SUCCESS,
     * *.md5): the folder check of astro ingest and astro watch leave them alone */
    char **ignore_patterns;
    size_t nignore_patterns;
};

/* Reads astro.yaml at path (and any schema_file it names, relative to its directory) into a new
 * struct config owned by the caller. On failure *out is NULL and e holds the first error found
 * (AE_CONFIG for content, AE_IO for files that cannot be read). */
int config_load(const char *path, struct config **out, struct err *e) ASTRO_WUR;

/* Reads a Pandera DataFrameSchema YAML file (any of the forms Pandera writes) into s, which the
 * caller releases with schema_release(); s->file is a copy of path and every location in s
 * borrows it. Key paths in messages and locations start at the file's root ("columns.URN.dtype").
 * On failure s is left zeroed (nothing to release) and e holds the error (AE_IO, AE_CONFIG). */
int config_load_schema_file(const char *path, struct schema *s, struct err *e) ASTRO_WUR;

void config_free(struct config *c);

/* Frees the members of s (not s itself). */
void schema_release(struct schema *s);

/* The ingest spec called name, or NULL. */
const struct ingest_spec *config_find_ingest(const struct config *c, const char *name);

/* The target called name, or NULL. */
const struct target_spec *config_find_target(const struct config *c, const char *name);

/* The target t with its settings ready to use: *out is a copy of t whose dsn and path have their
 * ${VAR} expanded from the environment now (see the README: a variable in the place of a dsn
 * value is pasted as one value) and a relative path resolved against t->dir. out->dsn and
 * out->path are owned (config_target_expanded_release); the other members are borrowed from t.
 * Fails with AE_CONFIG "FILE:LINE:COL: targets.NAME.dsn: environment variable 'X' is not set"
 * (naming the key and the variable), or AE_NOMEM; *out then holds no owned memory. */
int config_target_expand(const struct target_spec *t, struct target_spec *out,
                         struct err *e) ASTRO_WUR;
/* Frees what config_target_expand allocated in t; safe to call twice. */
void config_target_expanded_release(struct target_spec *t);

/* Whether a delivered file called file_name belongs to spec s: its source_pattern is an fnmatch
 * glob on the name (FNM_PERIOD: a leading dot must be matched explicitly). The one definition
 * that ingest's folder check, validate and watch share. */
bool config_spec_matches(const struct ingest_spec *s, const char *file_name);

/* Whether file_name matches one of the config's ignore_patterns (FNM_PERIOD, as source_pattern). */
bool config_ignored(const struct config *c, const char *file_name);

/* How many specs file_name belongs to; *first is the first of them (NULL when none). */
size_t config_match_ingest(const struct config *c, const char *file_name,
                           const struct ingest_spec **first);

#endif
