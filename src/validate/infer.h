/*
 * infer.h - a Pandera schema inferred from CSV, NDJSON or JSON records (`astro schema infer`): advice for a person
 * writing a schema, never used by ingest.
 *
 * Every candidate dtype is tried with the validator's own parsers (vparse.h) and under its null
 * rules (validate.h), so the property holds by construction: the rows the inference saw pass the
 * schema it prints. The exceptions are rows no schema can accept (a wrong field count, bytes that
 * are not valid in the encoding, an unterminated quote, a repeated header name); they are counted
 * and reported by infer_problems() so the command can say so.
 * Choices, per column, on the values that are not null:
 * - dtype: bool when every value is true/false or yes/no (any case; 0/1 stay integers); else
 *   int64 (with strict: the narrowest of int8, int16, int32, int64 holding every value) when every
 *   value is an integer (a digit string with a leading zero, such as a code "007", keeps the
 *   column str: an integer would lose the zero); else float64;
 *   else date (ISO 8601, or the first of the formats %d-%m-%Y %d/%m/%Y %d.%m.%Y %m/%d/%Y %Y/%m/%d
 *   that reads every value, printed as `format`); else datetime64[ns] (ISO, naive), else
 *   datetime64[ns, UTC] (ISO with offsets); else str. A column with no value at all is str.
 * - nullable: true when a null was seen (for str an unquoted empty field; for other dtypes a field
 *   empty after trimming spaces and tabs, or a null marker below).
 * - null_values: the markers NA, N/A, n/a, NULL, null, None, -, --, Unknown, unknown, #N/A,
 *   missing and ? (the whole field, as written) are set aside in every column; a column that gets
 *   a dtype other than str from its other values declares those it held as its null_values (in a
 *   str column they are values).
 * - observed: the minimum and maximum of ints and finite floats (floats shortest-exact: the first
 *   of 15, 16, 17 significant digits that reads back as the same double), and the values of a str
 *   column with at most INFER_ISIN_MAX distinct values, each at most INFER_ISIN_BYTES bytes, when
 *   it has at least INFER_ISIN_MIN_ROWS values and at least twice as many values as distinct
 *   ones. Written as comments; with strict as checks (greater_than_or_equal_to /
 *   less_than_or_equal_to, isin), which overfit: the next delivery may well go past them.
 * JSON values (fields with a REC_F_JSON_* flag: NDJSON and JSON input) follow the validator's
 * strict mapping: a JSON string can be str, date or datetime, a number int or float, a boolean
 * bool; a str column that also held numbers or booleans is written with coerce: true, and the
 * frame's coerce is false (for CSV it stays true: CSV is text). Objects and arrays fit no dtype
 * and unreadable records no schema: both are counted in infer_problems.
 * Memory: per column a few counters and at most INFER_ISIN_MAX + 1 short strings.
 */
#ifndef ASTRO_VALIDATE_INFER_H
#define ASTRO_VALIDATE_INFER_H

#include "batch/batch.h"
#include "batch/records.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define INFER_ISIN_MAX 10
#define INFER_ISIN_BYTES 100
#define INFER_ISIN_MIN_ROWS 20

struct infer;

/* Starts an inference over columns named names[0..n) (copied), each lens[i] bytes long (NUL bytes
 * included), or strings when lens is NULL. The schema names every column so
 * that astro accepts it (each change is counted in infer_problems): an empty name becomes
 * column_N (N its position from 1), bytes that are not valid UTF-8 are written as the text \xNN
 * (infer_name_text), and a name given again gets _N appended (until it is unique). AE_NOMEM on
 * failure. */
int infer_new(struct infer **out, const char *const *names, const size_t *lens, size_t n,
              struct err *e) ASTRO_WUR;

/* A header field p[0..n) as text a schema can hold (malloc'd; NULL when out of memory): the field
 * itself when it is valid UTF-8 without NUL bytes, else every NUL and every byte that is not part
 * of a valid UTF-8 sequence written as \xNN (so the name is never cut at a NUL). *changed says
 * whether it was rewritten. */
char *infer_name_text(const char *p, size_t n, bool *changed);

/* Feeds rows [first, rows->nrows) of a block. AE_NOMEM on failure. */
int infer_rows(struct infer *inf, const struct record_block *rows, size_t first,
               struct err *e) ASTRO_WUR;

/* Rows fed so far. */
uint64_t infer_nrows(const struct infer *inf);

/* Columns of the inference. */
size_t infer_ncols(const struct infer *inf);

/* Rows that no schema can accept, and the line of the first of them (0 when none). */
struct infer_problems {
    uint64_t ragged; /* wrong field count or unterminated quote */
    uint64_t ragged_line;
    uint64_t bad_encoding; /* fields not valid in the encoding */
    uint64_t bad_encoding_line;
    size_t duplicate_names; /* header names given more than once (renamed name_N) */
    size_t empty_names;     /* empty header names (named column_N) */
    size_t escaped_names;   /* names with NUL or bytes not valid UTF-8 (written as \xNN) */
    uint64_t unreadable;    /* JSON records that do not parse or are not objects */
    uint64_t unreadable_line;
    uint64_t composite; /* JSON objects or arrays where a column's value should be */
    uint64_t composite_line;
};
void infer_problems(const struct infer *inf, struct infer_problems *out);

/* Writes the schema as the YAML of Pandera's DataFrameSchema.to_yaml() (the older form: checks
 * as a mapping of check name to value), with astro's `format` and `null_values` where found.
 * comment (may be NULL) is written first as YAML comment lines; strict: see above. AE_IO when a
 * write fails. */
int infer_write_yaml(const struct infer *inf, FILE *out, const char *comment, bool strict,
                     struct err *e) ASTRO_WUR;

/* Writes the schema as the `schema:` block of an astro.yaml ingest_files entry, each line
 * starting with indent (at most 32 bytes): the frame's coerce, then one flow mapping a column
 * with only what differs from the defaults (`id: {dtype: int64, nullable: true}`) and what was
 * observed as a trailing comment (strict: as checks). AE_NOMEM, AE_IO when a write fails. */
int infer_write_columns(const struct infer *inf, FILE *out, const char *indent, bool strict,
                        struct err *e) ASTRO_WUR;

/* Writes text (may be NULL) as YAML comment lines ("# " and each line of it). */
void infer_write_comment(FILE *out, const char *text);

/* d with the fewest significant digits (15, 16 or 17, "%.*g") that read back as d. */
void infer_format_double(double d, char out[32]);

/* Writes a schema of the columns cols[0..n) as they are typed in a file that has its own types (a
 * Parquet file's schema: `astro schema infer FILE.parquet`), in the form of infer_write_yaml:
 * each column's dtype and nullable, no checks, coerce false, strict as given ("false", or
 * "filter" when the file has columns left out). Names are written as
 * infer_name_text makes them; *renamed counts those it changed. AE_IO or AE_NOMEM. */
int infer_write_yaml_columns(FILE *out, const char *comment, const struct column_desc *cols,
                             size_t n, const char *strict, size_t *renamed,
                             struct err *e) ASTRO_WUR;

/* The same columns as the `schema:` block of an astro.yaml ingest_files entry (the form of
 * infer_write_columns, coerce false), each line starting with indent (at most 32 bytes). */
int infer_write_desc_columns(FILE *out, const char *indent, const struct column_desc *cols,
                             size_t n, size_t *renamed, struct err *e) ASTRO_WUR;

void infer_free(struct infer *inf);

#endif
