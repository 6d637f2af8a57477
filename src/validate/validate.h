/*
 * validate.h - applies a schema to raw CSV records: header checks, dtype parsing (the dtype check),
 * nullability, uniqueness and the Pandera checks. Produces typed batches and failure cases.
 *
 * The validator never decides what happens to a failing file; it marks rows (batch.row_ok) and
 * emits one struct failure per failure case to a failure sink, lazily (every case, not only the
 * first). Memory is bounded by the batch, except for unique/frame-unique sets, which hold one
 * 16-byte hash per distinct key seen.
 */
#ifndef ASTRO_VALIDATE_VALIDATE_H
#define ASTRO_VALIDATE_VALIDATE_H

#include "batch/batch.h"
#include "config/config.h"
#include "csv/csv.h"

#include <stdio.h>

/* One failure case. All pointers are borrowed and valid only during the emit call. */
struct failure {
    uint64_t line;       /* physical start line of the record (header problems: the header's line) */
    const char *column;  /* column name, or NULL for row- or frame-level failures */
    const char *check;   /* "dtype('int64')", "not_nullable", "unique", "field_count", "encoding",
                            "greater_than_or_equal_to(0)", "column_in_dataframe", ... */
    const char *value;   /* offending value (NULL when none) */
    size_t value_len;
    const char *message; /* full sentence for a person */
    const char *raw;     /* raw record text (NULL for header-level failures) */
    size_t raw_len;
    bool warning;        /* raise_warning checks: reported, row still valid */
};

struct failure_sink {
    int (*emit)(void *ctx, const struct failure *f); /* returns 0 or a negative AE_* code */
    void *ctx;
};

/* Checks that every check argument of schema s can be typed against its column's dtype, that
 * regexes compile, and that names are sane. Errors (AE_CONFIG) name the file, line and key path. */
int validate_schema_check(const struct schema *s, struct err *e) ASTRO_WUR;

struct validator;

/* Builds a validator for one file of spec, whose header holds nheader names (for a headerless file
 * pass spec->column_names). Header problems (missing required column, duplicate name, unexpected
 * column when strict is true, wrong order when ordered) are emitted as failures on line header_line;
 * the validator still validates rows so that every problem is reported. The validator borrows spec
 * and fs for its lifetime. */
int validator_new(struct validator **out, const struct ingest_spec *spec, const char *const *header,
                  size_t nheader, uint64_t header_line, const struct failure_sink *fs,
                  struct err *e) ASTRO_WUR;

/* True when the header had a failure (the file can no longer pass). */
bool validator_header_failed(const struct validator *v);

/* The output columns, in output order: schema columns present in the file (schema order), then,
 * with strict: false, undeclared columns as nullable str in file order. Arrays are owned by v. */
size_t validator_out_ncols(const struct validator *v);
const char *validator_out_name(const struct validator *v, size_t i);
struct dtype_info validator_out_type(const struct validator *v, size_t i);
bool validator_out_nullable(const struct validator *v, size_t i);

/* Batch capacity to use with validator_run (rows per call). */
#define VALIDATE_BATCH_ROWS 65536

/* Validates rows [first, in->nrows) of in and appends them to out (which the caller initialised
 * with batch_init() using the validator_out_* types and resets between calls). Every row lands in
 * out, failing rows with row_ok = 0. Fails only on memory or sink errors. */
int validator_run(struct validator *v, const struct csv_rows *in, size_t first, struct batch *out,
                  struct err *e) ASTRO_WUR;

struct validate_counts {
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failure_cases; /* errors (not warnings) emitted, header failures included */
    uint64_t warnings;
};

void validator_counts(const struct validator *v, struct validate_counts *out);

void validator_free(struct validator *v);

/* A failure sink that counts cases per (column, check), keeps the first examples of each, and
 * writes every case as one JSON line to a FILE (optional). */
struct report;

int report_new(struct report **out, FILE *jsonl, const char *file_name, struct err *e) ASTRO_WUR;
struct failure_sink report_sink(struct report *r);
/* Writes the human summary (counts per column and check, first examples with line numbers). */
int report_print_summary(const struct report *r, FILE *out, size_t max_examples) ASTRO_WUR;
uint64_t report_total(const struct report *r);
void report_free(struct report *r);

#endif
