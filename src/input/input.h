/*
 * input.h - the input-reader interface: a delivered file, in any format, as record blocks.
 *
 * An input is a source (the delivered bytes, hashed and counted: input/source.h) and a format
 * reader on top of it, chosen by the spec's format through one registry (input.c). Every reader
 * fills the same struct record_block (batch/records.h), so the validator and the engine never
 * know which format they read. A new format is one file with its struct input_ops and one line in
 * input_ops_for().
 */
#ifndef ASTRO_INPUT_INPUT_H
#define ASTRO_INPUT_INPUT_H

#include "batch/records.h"
#include "config/config.h"
#include "input/source.h"

/* One format's reader. impl is the reader's own state.
 *
 * Header rows: a reader either hands the header over as its first record, as a CSV file with
 * has_header: true does (the engine takes the names from it, and spec->column_names for a
 * headerless CSV), or, when it has a names op, has no header row at all: every record it returns
 * is data, and its fields are the columns the names op lists, in that order (the JSON formats:
 * one field per schema column, looked up by key). The engine asks input_field_names first. */
struct input_ops {
    const char *name;          /* the config word: "csv" */
    const char *refusal_check; /* the check named in the file failure an AE_FORMAT of next
                                  becomes ("record_length"; "decompression" is the source's) */
    /* NULL, or: the check of the refusal that happened when it is not refusal_check (NULL
     * otherwise): the CSV reader's "encoding" for a contradicting byte-order mark. */
    const char *(*refusal)(const void *impl);
    /* Starts reading src (borrowed, outlives the reader) with spec's dialect (borrowed, outlives
     * the reader). AE_CONFIG for a dialect the reader cannot use, AE_NOMEM. */
    int (*open)(void **impl, struct source *src, const struct ingest_spec *spec, struct err *e);
    /* Fills b with up to max_rows records (b is reset first; max_rows >= 1); b->nrows == 0 at the
     * end. AE_IO for read errors, AE_FORMAT for input the reader refuses (the records before it
     * are returned first; the call after them fails). A failure is final. */
    int (*next)(void *impl, struct record_block *b, size_t max_rows, struct err *e);
    /* Where the next record starts, for messages: the physical line (after a failure, the line of
     * the record that failed). */
    uint64_t (*position)(const void *impl);
    /* NULL, or: the names of the fields of every record (owned by the reader, valid until free);
     * the reader returns no header record. */
    size_t (*names)(const void *impl, const char *const **names);
    /* NULL, or (with names): the REC_F_* flags of each name, owned by the reader: REC_F_NUL
     * when the name held a NUL byte (names holds it cut there), so that the header check fails
     * it as a CSV header name (validate.h). */
    const uint8_t *(*name_flags)(const void *impl);
    /* NULL, or (with names): which fields the validator reads (used[i] for field i of names, n
     * of them), told once before the first next. The reader may leave the others unread (their
     * fields are then null); a used field the reader cannot read makes the first next fail with
     * AE_FORMAT naming it (Parquet: a nested column). AE_NOMEM only. */
    int (*select)(void *impl, const bool *used, size_t n, struct err *e);
    /* NULL, or: the second half of next, split off so that it can run in parallel. next then
     * only delimits records (nrows, line, raw, row_flags), and complete fills the fields of a block
     * next returned (fields, row_first; it may flag a row), touching nothing but the block and
     * the reader's immutable state: it may run on any thread, on several blocks at once, while
     * next goes on. AE_NOMEM only (bad records become flagged rows). The JSON readers parse
     * here. */
    int (*complete)(const void *impl, struct record_block *b, struct err *e);
    /* NULL, or: the exact number of data rows of the file, known before reading them (Parquet:
     * its footer), or UINT64_MAX when the reader does not know it. The engine sizes the key sets
     * of unique checks with it (engine.h, "Keys") instead of estimating from the bytes. */
    uint64_t (*row_count)(const void *impl);
    void (*free)(void *impl);
};

extern const struct input_ops input_csv_ops;
extern const struct input_ops input_ndjson_ops;
extern const struct input_ops input_json_ops;
extern const struct input_ops input_xlsx_ops; /* xlsx.c: one worksheet of an Excel workbook */
extern const struct input_ops input_parquet_ops; /* parquet.c: a Parquet file's flat columns */

/* The reader of format f. */
const struct input_ops *input_ops_for(enum input_format f);

/* An open input: the source and the format reader reading it. */
struct input {
    const struct input_ops *ops;
    void *impl;
    struct source *src;
};

/* Opens fd (borrowed: the caller closes it after input_close) as a file of spec (borrowed, must
 * outlive the input); name is used in messages. On failure *in is left closed (input_close is
 * still safe). */
int input_open(struct input *in, int fd, const char *name, const struct ingest_spec *spec,
               struct err *e) ASTRO_WUR;

/* input_open with the reader ops instead of the one of spec->format. */
int input_open_with(struct input *in, const struct input_ops *ops, int fd, const char *name,
                    const struct ingest_spec *spec, struct err *e) ASTRO_WUR;

/* The next records, complete (input_read, then input_complete). */
int input_next(struct input *in, struct record_block *b, size_t max_rows, struct err *e) ASTRO_WUR;

/* The next records, delimited only when the reader has a complete op (see input_ops): the caller
 * calls input_complete on the block before it reads the fields, on any thread. The engine reads
 * with this so that parsing runs on the validating threads. */
static inline int input_read(struct input *in, struct record_block *b, size_t max_rows,
                             struct err *e)
{
    return in->ops->next(in->impl, b, max_rows, e);
}

/* Fills the fields of a block input_read returned (nothing to do for most readers). Safe on any
 * thread, for different blocks at once. AE_NOMEM. */
static inline int input_complete(const struct input *in, struct record_block *b, struct err *e)
{
    return in->ops->complete != NULL && b->nrows > 0 ? in->ops->complete(in->impl, b, e) : 0;
}

/* Bytes of the delivered file read so far, and their sha256 (of the whole file at the end). */
uint64_t input_bytes(const struct input *in);
void input_sha256(const struct input *in, unsigned char out[32]);

/* The bytes read from now on are not hashed (source_skip_hash): for a second reading of a file
 * whose hash the first reading takes. */
void input_skip_hash(struct input *in);
/* True when the reader names its fields itself (input_ops.names): *names and *n are set, and no
 * header record comes first. False: the spec's has_header and column_names apply. */
bool input_field_names(const struct input *in, const char *const **names, size_t *n);

/* See input_ops.name_flags: NULL when the reader has none. */
const uint8_t *input_field_name_flags(const struct input *in);

/* See input_ops.select (nothing to do for a reader without it). */
int input_select(struct input *in, const bool *used, size_t n, struct err *e) ASTRO_WUR;

/* The check of the file failure that an AE_FORMAT of input_next means: "decompression" when the
 * compressed data is corrupt or truncated, else the reader's refusal_check. */
const char *input_refusal_check(const struct input *in);

/* See input_ops.row_count: UINT64_MAX when the reader does not know it. */
uint64_t input_row_count(const struct input *in);

/* See input_ops.position. */
uint64_t input_position(const struct input *in);

/* Frees the reader and the source; in may be zeroed or already closed. */
void input_close(struct input *in);

/* For the readers behind input_ops.next, whose failures are final (one mechanism for all): */
/* The failure saved in *failed, copied into e, or 0 when there is none (call first). */
int input_failed(const struct err *failed, struct err *e) ASTRO_WUR;
/* Ends a next call that failed with rc: the failure (e's, with code rc) is saved in *failed for
 * every later call. With hand_over, bad data (AE_FORMAT) after rows of b were read hands those
 * rows over first: e is cleared and 0 returned (the next call fails). Otherwise b is emptied and
 * rc returned. */
int input_fail(struct err *failed, struct record_block *b, int rc, bool hand_over, struct err *e);

#endif
