/*
 * batch.h - the one in-memory format between stages: up to cap rows held column by column.
 *
 * A reader/validator fills a batch, sinks consume it. Memory is bounded by cap and by the string
 * bytes of one batch, whatever the file size. Invariants:
 * - every column has exactly nrows values (nrows <= cap);
 * - valid[i] is 1 when row i holds a value and 0 when it is null (the value slot is then zero, and
 *   for strings the slice is empty);
 * - for DS_BYTES columns offs has nrows+1 entries, offs[0] == 0, and the value of row i is
 *   data.data[offs[i] .. offs[i+1]);
 * - line[i] is the 1-based physical line of the source where row i's record starts;
 * - row_ok[i] is 1 when row i passed every check so far; sinks write only rows with row_ok[i] == 1.
 * A batch owns all its arrays; batch_reset() keeps the memory for the next fill.
 */
#ifndef ASTRO_BATCH_BATCH_H
#define ASTRO_BATCH_BATCH_H

#include "batch/dtype.h"
#include "util/buf.h"

/* A column as every stage describes it (reader, validator, sinks, load targets): the Parquet
 * writer makes a nullable column OPTIONAL and the others REQUIRED; a database load declares the
 * others NOT NULL. The name is borrowed from whoever built the descriptor. */
struct column_desc {
    const char *name;
    struct dtype_info type;
    bool nullable;
};

struct column {
    struct dtype_info type;
    uint8_t *valid;
    union {
        uint8_t *u8;
        int64_t *i64;
        double *f64;
        __int128 *i128;
        void *raw;
    } v;             /* fixed-width values (NULL for DS_BYTES) */
    uint32_t *offs;  /* DS_BYTES: nrows+1 offsets into data */
    struct buf data; /* DS_BYTES: value bytes */
};

struct batch {
    size_t ncols;
    size_t nrows;
    size_t cap;
    struct column *cols;
    uint64_t *line;
    uint8_t *row_ok;
    void *slab; /* every column's valid and value/offset arrays, in one allocation */
};

/* A batch holds at most about this many cells (rows x columns): a file of thousands of columns
 * gets fewer rows per batch, so that memory follows the data rather than the column count
 * (a batch of BATCH_MAX_CELLS str cells holds 5 MiB of arrays). */
#define BATCH_MAX_CELLS ((size_t)1 << 20)

/* The rows of a batch of ncols columns: max_rows, fewer when max_rows x ncols would pass
 * BATCH_MAX_CELLS; at least 1. */
size_t batch_rows_for(size_t ncols, size_t max_rows);

/* Allocates the arrays for cap rows of the given column types (types is copied). The batch starts
 * empty. On failure everything is freed and AE_NOMEM returned. */
int batch_init(struct batch *b, const struct dtype_info *types, size_t ncols, size_t cap) ASTRO_WUR;

/* Empties the batch (nrows = 0) keeping its memory. */
void batch_reset(struct batch *b);

/* Empties the batch like batch_reset() and overwrites its arrays with zeros, in bulk, so that the
 * thread about to fill it owns their cache lines (see record_block_claim() in csv/csv.h). */
void batch_claim(struct batch *b);

/* Frees everything; b may be zeroed memory. */
void batch_release(struct batch *b);

/* Number of rows with row_ok == 1. */
size_t batch_count_ok(const struct batch *b);

/* Copies every row of src into dst, which was batch_init'ed with the same column types and a cap
 * of at least src->nrows (dst's previous content is replaced). AE_NOMEM when string data cannot
 * grow. */
int batch_copy(struct batch *dst, const struct batch *src) ASTRO_WUR;

/* Appends one string value to DS_BYTES column c at row index row (rows must be appended in order:
 * row == number of values already in the column). n bytes of p; valid=0 stores a null. */
int batch_put_bytes(struct batch *b, size_t c, size_t row, const char *p, size_t n,
                    int valid) ASTRO_WUR;

#endif
