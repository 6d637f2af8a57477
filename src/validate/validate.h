/*
 * validate.h - applies a schema to raw records (record blocks, batch/records.h): header checks,
 * dtype parsing (the dtype check), nullability, uniqueness and the Pandera checks. Produces typed
 * batches and failure cases.
 *
 * The validator never decides what happens to a failing file; it marks rows (batch.row_ok) and
 * emits one struct failure per failure case to a failure sink, lazily (every case, not only the
 * first). Memory is bounded by the batch, except for unique/frame-unique sets, which hold one
 * packed entry per distinct key seen (unique.h: about 13 bytes for a key of at most 8 bytes, 18
 * for a string or several columns, the line of the first occurrence included), unless the caller
 * plans them on disk (validator_plan_keys).
 *
 * Semantics (product decisions):
 * - Nulls. In a str column an unquoted empty field is null and a quoted empty field ("") is the
 *   empty string (as PostgreSQL reads CSV). In every other dtype a field that is empty after
 *   trimming spaces and tabs, quoted or not, is null. The spec's null_values and the column's
 *   null_values add markers: exact, case-sensitive match of the whole field text (for str columns
 *   only unquoted fields match a marker). A null in a nullable: false column fails with check
 *   "not_nullable". No other spelling (NA, null, NaN...) is null unless declared.
 * - Every value is parsed to its dtype (coerce is implied: CSV is text). A value that does not
 *   parse fails with check "coerce_dtype('<dtype name>')" (Pandera's name) and a message saying
 *   what was expected; the batch then holds a null in its place. Non-string dtypes ignore
 *   surrounding spaces and tabs. ints: [+-]digits, range-checked per width (uint: no sign '-' at
 *   all, "-0" included).
 *   floats: decimal or exponent notation, nan, inf, infinity (case-insensitive, optional sign),
 *   correctly rounded, locale-independent; float32 rounded once to float; a finite literal beyond
 *   the type's range (1e309, or 1e39 for float32) fails; underflow rounds to 0 or a subnormal.
 *   NaN is a value, not a null, but checks with ignore_na pass it (pandas counts NaN as missing).
 *   bool: true/false, t/f, yes/no, y/n, 1/0 (case-insensitive), or exactly the column's
 *   true_values/false_values when it gives them. date: YYYY-MM-DD or the column's format.
 *   datetime: YYYY-MM-DD[T| ]HH:MM[:SS[.f{1,9}]][Z|+HH:MM|+HHMM] or a date alone (midnight), or
 *   the format; digits beyond microseconds must be zeros; a naive column refuses offsets, a UTC
 *   column converts them (values without one are UTC). format: a strptime subset, %Y %m %d %y %b
 *   %H %M %S %f %z %% and literal bytes (1- or 2-digit numbers as Python accepts; %y only with
 *   the column's century_pivot, below it 20yy, else 19yy). Check values are ISO 8601. Dates are real proleptic Gregorian dates in years 0001..9999. decimal(p,s): exact,
 *   [+-]digits[.digits], at most p-s integer digits, extra fractional digits only if zeros.
 *   str: valid UTF-8. A field the reader flagged REC_F_BAD_ENCODING fails with check "encoding"
 *   in any column, and one flagged REC_F_NUL (a NUL byte) with check "nul_byte" in any column,
 *   always: no SQL database keeps a NUL in text (PostgreSQL refuses the load, other tools cut
 *   the value), so the file fails at validation, with its line, rather than at the load.
 * - Quoting. A one-line record with text after a closing quote (`"p"q`, read as `pq`: csv.h) is
 *   emitted once as a warning with check "quoting" (row-level, no column); the row stays valid.
 * - Patterns. str_matches / str_contains patterns that PCRE2 runs (those rx.h refuses) have
 *   explicit match, depth and heap limits (vinternal.h VCK_*): a value on which PCRE2 gives up
 *   fails the check with a message saying the pattern hit its limit (not "does not match"); a
 *   regex: true column's pattern that hits a limit on a header name fails the header with check
 *   "column_pattern".
 * - JSON values. A field with a REC_F_JSON_* flag (records.h: the NDJSON and JSON readers) is
 *   first judged by its JSON type, strictly: a string fits str, date, datetime and decimal
 *   columns; a number fits int/uint columns when it has no fraction (3, 3.0, 1e3), float and
 *   decimal columns; a boolean fits bool; null fits every column (as a null). Any other pairing
 *   fails with check "dtype('<dtype>')" and a message naming the JSON type, unless the column's
 *   or the schema's coerce is true: then the value's text is parsed as a CSV field would be. A
 *   number with a fraction in an int column and an object or array in any column fail even with
 *   coerce. A value that fits is then parsed and checked like any field. A record flagged
 *   REC_R_UNREADABLE (JSON that does not parse, or is not an object) fails once with check
 *   "json_record" and the reader's reason (its one field) as the message; its values are not
 *   checked, and it is an ordinary bad row (not a broken record: its neighbours are intact).
 * - Rows. A record whose field count differs from the header fails once with check
 *   "field_count" and its values are not checked; a REC_R_UNTERMINATED record fails once with
 *   "unterminated_quote" (its last field swallowed the rest of the file) and is not checked
 *   either. Both are broken records (validate_counts.broken_records) when the quoting went wrong:
 *   an unterminated quote always, a field_count failure when the record spans more than one
 *   physical line (a quote opened a field and swallowed line breaks up to the next quote), and
 *   a record with the right field count that fails with check "record_lines" because it spans
 *   more than the spec's max_record_lines lines (default CONFIG_MAX_RECORD_LINES), or spans
 *   several lines and has text after a closing quote (`"a\nb"c`: the quote that closed it was
 *   not a closing quote). The
 *   lines such a record swallowed may have been rows, so a broken record fails the file whatever
 *   its bad-row threshold: a threshold tolerates bad rows, never an unknown number of lost ones.
 *   Their messages give the lines the record spans. Every row lands in the batch; failing rows have
 * row_ok = 0 and nulls where values failed. rows_read == rows_valid + rows_invalid always (the
 * header is not a row).
 * - Header: see validator_new.
 * - default (a column's Pandera `default`): typed when the schema compiles (a default that is not
 *   a value of the dtype is a schema error); a null of the column is replaced by it before the
 *   checks and uniqueness, as Pandera fills nulls before validating.
 * - Checks: Pandera's names and semantics (equal_to, not_equal_to, greater_than,
 *   greater_than_or_equal_to, less_than, less_than_or_equal_to, in_range, isin, notin,
 *   str_matches (anchored at the start, as re.match), str_contains (re.search), str_startswith,
 *   str_endswith, str_length (code points; min_value (also the positional value), max_value,
 *   exact_value), unique_values_eq (judged at the end of the file by validator_finish) and our
 *   email (a pragmatic address shape)). Arguments are typed with the data's parsers against the
 *   column's dtype. ignore_na (default true): nulls pass; with ignore_na: false a null fails the
 *   check. raise_warning: the case is emitted with warning = true and the row stays valid. error:
 *   replaces the message and names the check (as Pandera). n_failure_cases: only the first n
 *   cases of the check are emitted; the others are counted and their rows fail. Check names in
 *   failures are Pandera's exactly: the arguments as Python shows what PyYAML reads
 *   ("equal_to(x)", "equal_to(True)", "less_than(1.5)", "isin(['a', 'b'])",
 *   "greater_than(2010-01-01 00:00:00)" for a datetime column, "str_matches('^\d{3}')").
 *   Patterns run with PCRE2_UCP (\w \d \s \b Unicode-aware, as Python's re).
 * - Index: a schema's index block checks the 0-based row position (validator_commit, in file
 *   order); its cases have the index's name as column (NULL when unnamed), the position as
 *   value.
 * - unique: true columns and frame-level unique sets compare typed values ("01" == "1" in an int
 *   column). By default the first occurrence is kept: a later row with a key seen before fails
 *   ("field_uniqueness" / "multiple_fields_uniqueness", message naming the line of the first
 *   occurrence) while the first stays valid, like Pandera's report_duplicates: exclude_first.
 *   A schema stating report_duplicates: all or exclude_last gets Pandera's meaning (see
 *   validator_prepass). Nulls take no part in a unique column; in a frame-level set a null member
 *   is part of the key, equal to every other null (pandas' duplicated(), Pandera's verdict).
 *   Values of rows failing for other reasons still take part: uniqueness is a property of the
 *   column's values.
 * - Failure cases of one validator_run come out in line order. Frame-level cases
 *   (unique_values_eq) have line 0.
 */
#ifndef ASTRO_VALIDATE_VALIDATE_H
#define ASTRO_VALIDATE_VALIDATE_H

#include "batch/batch.h"
#include "config/config.h"
#include "batch/records.h"

#include <stdio.h>

/* One failure case. All pointers are borrowed and valid only during the emit call. */
struct failure {
    uint64_t line;      /* physical start line of the record (header problems: the header's line) */
    const char *column; /* column name, or NULL for row- or frame-level failures */
    const char *check;  /* "coerce_dtype('int64')", "not_nullable", "field_uniqueness",
                           "field_count", "encoding",
                           "greater_than_or_equal_to(0)", "column_in_dataframe", ... */
    const char *value;  /* offending value (NULL when none) */
    size_t value_len;
    const char *message; /* full sentence for a person */
    const char *hint;    /* what probably fixes it (validate/hint.h), or NULL */
    const char *raw;     /* raw record text (NULL for header-level failures) */
    size_t raw_len;
    bool warning;          /* raise_warning checks: reported, row still valid */
    uint64_t row;          /* 1-based position of the record among the data rows (the header is
                              not a row), 0 for header-, file- and frame-level failures */
    uint32_t check_number; /* 1 + index of the check among its column's checks, 0 when the
                              failure is not one of the column's checks */
    bool has_offset;       /* offset is known: the record came from a JSON reader */
    uint64_t offset;       /* byte offset of the record's first byte in the file's text (after
                              decompression), 0-based */
    bool in_array;         /* the record is an element of a top-level JSON array (format json):
                              row - 1 is its 0-based index in the array */
    const char *cell;      /* worksheet input (xlsx): the cell of a value's case ("C17"), also
                              named at the start of the message; NULL otherwise */
};

struct failure_sink {
    /* Returns 0, or a negative AE_* code with e (which may be NULL) filled: what could not be
     * written where, and the system's reason. */
    int (*emit)(void *ctx, const struct failure *f, struct err *e);
    void *ctx;
};

/* Checks that every check argument of schema s can be typed against its column's dtype, that
 * regexes compile, and that names are sane. Errors (AE_CONFIG) name the file, line and key path. */
int validate_schema_check(const struct schema *s, struct err *e) ASTRO_WUR;

/* validate_schema_check of spec's schema, with the spec's number separators (thousands, decimal)
 * applying to its numeric columns. */
int validate_spec_check(const struct ingest_spec *spec, struct err *e) ASTRO_WUR;

struct validator;

/* Builds a validator for one file of spec, whose header holds nheader names (for a headerless file
 * pass spec->column_names). Header problems (missing required column, duplicate name, unexpected
 * column when strict is true, wrong order when ordered) are emitted as failures on line
 * header_line; the validator still validates rows so that every problem is reported. The validator
 * borrows spec and fs for its lifetime; header is copied. Header rules: names match exactly; schema
 * columns with regex: true claim every remaining name their PCRE2 pattern matches from its start
 * (Pandera's re.match: `foo_*` claims foo_0; end the pattern with $ for a full match). A
 * missing required column fails with "column_in_dataframe" (required: false columns are simply
 * absent from the output; a required regex column nothing matches fails with
 * "no_regex_column_match('<pattern>')"); a repeated name fails with
 * "dataframe_column_labels_unique" (the first occurrence is used); an undeclared name fails with
 * "column_in_schema" under strict: true, is kept as a nullable str column under strict: false and
 * dropped under strict: filter; with ordered: true a declared
 * column found before one the schema declares ahead of it fails with "column_ordered". These
 * failures have column = the name, value = NULL, raw = NULL. With add_missing_columns a missing
 * (non-regex) column that is nullable or has a default is added to the output instead (every value
 * its default, or null); one that is neither still fails. With unique_column_names: false a
 * repeated undeclared name that strict: filter drops is no failure; every other repeated name fails
 * (Parquet needs unique names). Fails (AE_CONFIG) when the schema does not compile (see
 * validate_schema_check), or AE_NOMEM, or with the sink's error. */
/* The most columns a header may have: a wider file fails with check "column_count" on its header
 * line (memory is bounded per column and thread, and by this limit). */
#define VALIDATE_MAX_COLUMNS 100000

int validator_new(struct validator **out, const struct ingest_spec *spec, const char *const *header,
                  size_t nheader, uint64_t header_line, const struct failure_sink *fs,
                  struct err *e) ASTRO_WUR;

/* As validator_new, for a file whose header is record row of rows (as the reader gave it, with
 * each field's flags). Header names are checked like values, and more, because they become
 * column names in Parquet files and database tables: a name that reaches the output (a declared
 * column, or an undeclared one under strict: false) fails the header when it is empty
 * ("column_name"), holds a NUL byte ("column_name"), is not valid in the file's encoding
 * ("encoding", as a value would), or is longer than VALIDATE_MAX_NAME_BYTES ("column_name":
 * PostgreSQL cuts identifiers to 63 bytes, so a load would create or look for another column);
 * each failure has the header's line and the column's position in its message. Names that
 * strict: true refuses (column_in_schema) or strict: filter drops are not checked again. */
int validator_new_from_record(struct validator **out, const struct ingest_spec *spec,
                              const struct record_block *rows, size_t row,
                              const struct failure_sink *fs, struct err *e) ASTRO_WUR;

/* As validator_new, for a reader that names its fields itself (input.h): flags (NULL, or one
 * per name) holds each name's REC_F_* flags (REC_F_NUL: the name held a NUL byte, and is cut
 * there), checked as validator_new_from_record checks a header record's. */
int validator_new_named(struct validator **out, const struct ingest_spec *spec,
                        const char *const *header, const uint8_t *flags, size_t nheader,
                        const struct failure_sink *fs, struct err *e) ASTRO_WUR;

/* Sets used[i] (for i < n) when the output reads header field i (a declared column, or one
 * strict: false keeps): the others (refused by strict: true, dropped by strict: filter, repeated
 * names after the first) are never looked at. */
void validator_used_fields(const struct validator *v, bool *used, size_t n);

/* The longest column name astro accepts, in bytes: PostgreSQL's NAMEDATALEN - 1. */
#define VALIDATE_MAX_NAME_BYTES 63

/* True when the header had a failure (the file can no longer pass). */
bool validator_header_failed(const struct validator *v);

/* The output columns, in output order: schema columns present in the file (schema order), then,
 * with strict: false, undeclared columns as nullable str in file order. Arrays are owned by v. */
size_t validator_out_ncols(const struct validator *v);
const char *validator_out_name(const struct validator *v, size_t i);
struct dtype_info validator_out_type(const struct validator *v, size_t i);
bool validator_out_nullable(const struct validator *v, size_t i);

/* Batch capacity to use with validator_run (rows per call). */
#define VALIDATE_BATCH_ROWS 8192

/* Validates rows [first, in->nrows) of in and appends them to out (which the caller initialised
 * with batch_init() using the validator_out_* types and resets between calls). Every row lands in
 * out, failing rows with row_ok = 0. Fails only on memory or sink errors. */
int validator_run(struct validator *v, const struct record_block *in, size_t first,
                  struct batch *out, struct err *e) ASTRO_WUR;

/* Parallel validation of one file. A block is validated in two steps: validator_run_local (row-
 * and value-level checks: everything that depends on the block alone) on any thread, with a clone
 * of the validator per thread, then validator_commit, in file order, on the validator the clones
 * came from: unique columns and sets, fail-fast, counts and the emission of every failure case
 * happen there, so reports read exactly as with validator_run (which is the two steps on one
 * validator). The block's failure cases wait in a struct vblock between the steps; in and out must
 * stay untouched in between. After the last commit, validator_absorb each clone (its
 * unique_values_eq state), then validator_finish. */
struct vblock;
int vblock_new(struct vblock **out) ASTRO_WUR; /* 0 or AE_NOMEM */
void vblock_free(struct vblock *vb);
/* A validator for the same spec and header, with its own scratch state and no failure sink. */
int validator_clone(struct validator **out, const struct validator *v, struct err *e) ASTRO_WUR;
/* As validator_run, without anything that spans blocks; the cases go to vb. */
int validator_run_local(struct validator *w, const struct record_block *in, size_t first,
                        struct batch *out, struct vblock *vb, struct err *e) ASTRO_WUR;
/* Completes the block vb of (in, first, out): uniqueness, fail-fast (out->nrows may shrink),
 * counts, emission. After a fail-fast stop every later commit leaves out empty. */
int validator_commit(struct validator *v, struct vblock *vb, const struct record_block *in,
                     size_t first, struct batch *out, struct err *e) ASTRO_WUR;
int validator_absorb(struct validator *v, const struct validator *w, struct err *e) ASTRO_WUR;

/* Parallel uniqueness. The keys of a block are computed by validator_run_local; their probes into
 * the key sets can also leave the commit: validator_unique_groups(v, G) splits the sets' hash
 * partitions into G groups (partition % G), and validator_unique_group(v, vb, in, first, g), for
 * each g, probes the keys of group g only, on any thread, at the same time as the other groups,
 * provided that each group sees the blocks in file order (group g of block k after group g of
 * block k-1: then every partition still sees its keys in file order, which decides which
 * occurrence is first). The commit of the block, once every group is done, records the groups'
 * failures by row and key set, exactly as the probes in the commit would have. Returns the
 * number of groups (0: keep the probes in the commit; so for fewer than 2 groups, no key, a
 * spilled check, or sets the pre-pass judged: see validator_prepass) or AE_NOMEM. Call once, after
 * the pre-pass, before the first block.
 * vblock_set_groups gives a block room for G groups (0, AE_NOMEM, or AE_INTERNAL for another G). */
int validator_unique_groups(struct validator *v, size_t groups, struct err *e) ASTRO_WUR;
int vblock_set_groups(struct vblock *vb, size_t groups) ASTRO_WUR;
int validator_unique_group(struct validator *v, struct vblock *vb, const struct record_block *in,
                           size_t first, size_t g, struct err *e) ASTRO_WUR;

/* report_duplicates (Pandera's meaning, for unique: true columns and frame-level unique sets):
 * exclude_first fails every occurrence of a key but the first, exclude_last every one but the
 * last, all every one. When the schema does not state it, astro keeps the first occurrence
 * (exclude_first), which needs one pass. all and exclude_last must know the later rows: the caller
 * first feeds every block of the file (the same records, from a second reader) to
 * validator_prepass, then calls validator_prepass_done, then runs the file as usual. The pre-pass
 * types only key columns and finds every repeated key of those sets (unique.h: struct kdups: one
 * set, released at validator_prepass_done, plus 16 bytes per occurrence of a repeated key), so the
 * main pass computes no key for them and only applies the verdicts by line (nor does it probe
 * the frame-level sets kept to their first occurrence in parallel then: validator_unique_groups
 * returns 0). validator_run fails with AE_INTERNAL when a needed pre-pass was not done. */
bool validator_wants_prepass(const struct validator *v);
/* Rows [first, in->nrows) (at most VALIDATE_BATCH_ROWS). AE_NOMEM, or AE_IO writing a spill. */
int validator_prepass(struct validator *v, const struct record_block *in, size_t first,
                      struct err *e) ASTRO_WUR;
/* Ends the pre-pass (a spilled one is judged here, partition by partition). AE_NOMEM or AE_IO. */
int validator_prepass_done(struct validator *v, struct err *e) ASTRO_WUR;

/* Memory of the key sets, planned before the first row (the engine does it: engine.h).
 * validator_key_bytes: what the key sets take in memory for a file of rows data rows (0 when the
 * schema has no key). validator_plan_keys, for a file of at most about rows data rows:
 * - spill_dir NULL: the sets stay in memory, sized once for rows (they still grow past it).
 * - spill_dir given: the check is spilled to disk (unique.h, struct kspill), and
 *   validator_wants_prepass becomes true whatever report_duplicates says; the pre-pass writes every
 * key with its line to hash partitions in an unlinked temporary file under spill_dir,
 * validator_prepass_done finds the failing occurrences partition by partition (one in memory at a
 * time, within about mem bytes) and the main pass applies them row by row. Every verdict, failure
 * case (both lines named) and its order is exactly that of the in-memory check, so bad-row
 * thresholds, fail-fast and row_ok mean the same; the cost is a second read of the key columns.
 * Memory: about mem. Call once, before the pre-pass. AE_IO (spill_dir unusable) or AE_NOMEM. */
uint64_t validator_key_bytes(const struct validator *v, uint64_t rows);
int validator_plan_keys(struct validator *v, uint64_t rows, const char *spill_dir, uint64_t mem,
                        struct err *e) ASTRO_WUR;
/* True when validator_plan_keys spilled the key check to disk. */
bool validator_spilled(const struct validator *v);
/* True when the pre-pass decides every key set (unique columns; frame-level sets only under
 * report_duplicates: all or exclude_last): the main pass then holds no key set, and the pre-pass
 * may be planned on an estimate of the rows, its real memory checked as it goes. */
bool validator_prepass_decides_all(const struct validator *v);
/* A file run on the bet that its keys do not repeat (the caller can run it again from scratch):
 * call before validator_plan_keys, on a check the pre-pass would decide whole
 * (validator_prepass_decides_all), planned in memory, without fail_fast (a stop before the end of
 * the file could not know of a later repeat); the key sets may take mem bytes in all. Then
 * validator_wants_prepass is false; the main pass probes the keys (in parallel groups too) as
 * report_duplicates: exclude_first does, and a file whose keys never repeat gets exactly the
 * result the pre-pass gives (no key failure). At the first repeated key, or once the sets would
 * outgrow mem, the commit of that block records nothing, validator_stopped becomes true and
 * validator_keys_retry says the caller must discard what it got (output rows, failure cases) and
 * run the file again without this. */
void validator_keys_optimistic(struct validator *v, uint64_t mem);
bool validator_keys_retry(const struct validator *v);
/* Bytes the key sets and the pre-pass's lists of repeats hold now. */
uint64_t validator_key_mem(const struct validator *v);
/* Forgets the key plan and whatever the pre-pass recorded (the memory is freed), so that
 * validator_plan_keys and the pre-pass can run again: for a pre-pass planned in memory that
 * outgrew the limit, which then spills. */
void validator_keys_reset(struct validator *v);

/* With on, validator_run stops at the row of the first error case (warnings do not stop): the
 * cases of that row are all emitted, later rows of the block are neither counted nor appended,
 * and every later call does nothing. A header failure stops before the first row. */
void validator_set_fail_fast(struct validator *v, bool on);
/* True once fail_fast stopped (validator_run returns without reading further rows). */
bool validator_stopped(const struct validator *v);

struct validate_counts {
    uint64_t rows_read;
    uint64_t rows_valid;
    uint64_t rows_invalid;
    uint64_t failure_cases; /* errors (not warnings) emitted, header failures included */
    uint64_t warnings;
    uint64_t broken_records; /* records whose quoting went wrong (see "Rows" above): each fails
                                the file whatever its bad-row threshold */
    uint64_t rows_droppable; /* invalid rows whose every error is in a column with
                                drop_invalid_rows: true (dropped, not counted against the file) */
};

void validator_counts(const struct validator *v, struct validate_counts *out);

/* Ends the file: emits the frame-level failure cases that need every row (unique_values_eq), with
 * line 0. Call once after the last validator_run (further calls do nothing). Fails only on sink
 * errors. */
int validator_finish(struct validator *v, struct err *e) ASTRO_WUR;

void validator_free(struct validator *v);

/* A failure sink that counts cases per (column, check, level), keeps the first 5 examples of each
 * (line, value, message, hint), and writes every case as one JSON line to jsonl when it is not
 * NULL:
 *   {"file":...,"line":12,"column":...,"check":...,"value":...,"message":...,"hint":...,
 *    "raw":...,"level":"error"|"warning"}
 * (line 0 and NULL column/value/hint/raw are written as null; a JSON reader's case also has
 * "offset" and, in a JSON array, "record" after "line": see report.c). jsonl is borrowed (not
 * closed); file_name is copied. The sink returns AE_IO when a write fails (naming the file, as
 * given to report_set_paths, and the system's reason), AE_NOMEM when memory runs out.
 * report_print_summary prints a table (column, check, count) with up to max_examples (<= 5)
 * examples per row, each with its message and hint
 * ("    line 12: '12x' is not a valid int64"; "    line 5: expected 4 fields, found 2";
 * "    line 3: 'N/A' is not a valid int64; hint: add 'N/A' to null_values"): the message when it
 * opens with the quoted value, else the quoted value, a colon and the message; a JSON reader's
 * case gives its byte offset, its record index in a JSON array and, on the next line, the
 * record's text. Column names that are not plain (report_put_name) are quoted. AE_IO on a write
 * error. */
struct report;

int report_new(struct report **out, FILE *jsonl, const char *file_name, struct err *e) ASTRO_WUR;
struct failure_sink report_sink(struct report *r);
/* The paths of the JSONL and failure-cases CSV files (borrowed, either may be NULL), for the
 * messages of failed writes. */
void report_set_paths(struct report *r, const char *jsonl_path, const char *csv_path);
/* Writes the human summary (counts per column and check, first examples with line numbers). */
int report_print_summary(const struct report *r, FILE *out, size_t max_examples) ASTRO_WUR;
uint64_t report_total(const struct report *r); /* every case, warnings included */
uint64_t report_warnings(const struct report *r);
void report_free(struct report *r);

/* Caps the stored and printed detail at the first max cases (warnings included; 0 = unlimited,
 * the default): later cases are still counted (report_total, the per-check counts) but neither
 * written to the JSONL or CSV files nor kept as examples. Set it before the first case. */
void report_set_max_cases(struct report *r, uint64_t max);
/* True when a case was left out of the stored detail because of the cap. */
bool report_capped(const struct report *r);
uint64_t report_max_cases(const struct report *r);

/* Also writes every stored case to csv (borrowed, not closed) in Pandera's failure_cases layout:
 *   schema_context,column,check,check_number,failure_case,index
 * schema_context is "Column" for a value of a column and "DataFrameSchema" for header-, row-,
 * file- and frame-level cases; check_number is the 0-based index of the check among the column's
 * checks (empty when the case is not a check); failure_case is the value (empty when none); index
 * is the 0-based position of the row among the data rows (empty when the case has no row). Fields
 * are quoted as RFC 4180 requires. The header line is written at once (so a file with no case
 * still has it); call before the first case. AE_IO when the write fails. For `astro ingest` the
 * file is errors/{name}.failure_cases.csv, written and committed like errors/{name}.jsonl. */
int report_set_failure_cases_csv(struct report *r, FILE *csv, struct err *e) ASTRO_WUR;
/* The cases come from a JSON reader (call before report_set_failure_cases_csv): the failure-cases
 * CSV then has three columns after Pandera's: line, offset (the record's byte offset in the
 * file's text) and raw (the record's text). */
void report_set_positions(struct report *r);

/* Read access to the groups of cases, in order of first appearance (for machine-readable
 * reports). Pointers are owned by r and valid until report_free. */
struct report_group {
    const char *column; /* NULL for row-, file- and frame-level cases */
    const char *check;
    bool warning;
    uint64_t count;   /* exact, whatever the cap */
    size_t nexamples; /* at most 5 */
};
size_t report_ngroups(const struct report *r);
void report_get_group(const struct report *r, size_t i, struct report_group *g);
/* Example k of group i (pointers borrowed from the report, valid until report_free). */
struct report_example {
    uint64_t line;     /* 0 = whole file */
    const char *value; /* NULL when the case had none; len bytes (at most 200) of a value */
    size_t len;        /*   full_len bytes long */
    size_t full_len;
    bool has_offset; /* a JSON reader's case: offset and raw are set */
    uint64_t offset; /* the record's byte offset in the file's text */
    bool has_record; /* an element of a JSON array: record is its 0-based index */
    uint64_t record;
    const char *raw; /* NULL, or raw_len bytes (at most 200) of the record's text, */
    size_t raw_len;  /*   raw_full_len bytes long */
    size_t raw_full_len;
    const char *message; /* the sentence that explains the case, or NULL */
    const char *hint;    /* what probably fixes it, or NULL */
    const char *cell;    /* a worksheet's case (xlsx): its cell ("C17"), or NULL */
};
void report_get_example(const struct report *r, size_t i, size_t k, struct report_example *x);
/* Where example x is, for a person: "cell C17" (xlsx), "line 7", "line 7 (byte 52)" (NDJSON), "line 9 (record 2,
 * byte 131)" (a JSON array) or "whole file"; snprintf's result. */
int report_example_where(const struct report_example *x, char *out, size_t n);

#endif
