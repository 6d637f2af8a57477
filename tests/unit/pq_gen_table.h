/*
 * pq_gen_table.h - a table generated cell by cell, shared by the Parquet writer and reader tests
 * (test_pq_stream.c, test_pq_bigpage.c): written with pq_writer in batches, and checked value by
 * value against what pq_reader hands back. Columns are int64-stored (int32, int64) or strings.
 * Static functions with cmocka assertions: include after cmocka.h.
 */
#ifndef ASTRO_PQ_GEN_TABLE_H
#define ASTRO_PQ_GEN_TABLE_H

#include "batch/batch.h"
#include "parquet/pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of column c in row r (a null where valid says so). */
struct gen_table {
    const struct column_desc *cols;
    size_t ncols;
    bool (*valid)(size_t c, size_t r);
    int64_t (*i64)(size_t c, size_t r);
    size_t (*str)(size_t c, size_t r, char *s, size_t n); /* snprintf-like, into s */
};

#define GEN_MAX_COLS 16

/* Writes rows [0, nrows) of the table's first ncols columns to fd with options o, batch_rows rows
 * a batch; returns the file's size. */
static uint64_t gen_write(int fd, const struct gen_table *t, size_t ncols, size_t nrows,
                          size_t batch_rows, const struct pq_options *o)
{
    assert_true(ncols <= GEN_MAX_COLS && ncols <= t->ncols);
    struct err e;
    struct pq_writer *w = NULL;
    assert_int_equal(pq_writer_open(&w, fd, t->cols, ncols, o, &e), 0);
    struct dtype_info types[GEN_MAX_COLS];
    for (size_t c = 0; c < ncols; c++) {
        types[c] = t->cols[c].type;
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, ncols, batch_rows), 0);
    for (size_t r0 = 0; r0 < nrows; r0 += batch_rows) {
        size_t k = nrows - r0 < batch_rows ? nrows - r0 : batch_rows;
        batch_reset(&b);
        for (size_t j = 0; j < k; j++) {
            size_t r = r0 + j;
            b.row_ok[j] = 1;
            b.line[j] = (uint64_t)r + 2;
            for (size_t c = 0; c < ncols; c++) {
                bool valid = t->valid(c, r);
                if (t->cols[c].type.id == DT_STR) {
                    char s[128];
                    size_t n = t->str(c, r, s, sizeof(s));
                    assert_int_equal(batch_put_bytes(&b, c, j, s, valid ? n : 0, valid), 0);
                } else {
                    b.cols[c].valid[j] = valid;
                    b.cols[c].v.i64[j] = valid ? t->i64(c, r) : 0;
                }
            }
        }
        b.nrows = k;
        if (pq_writer_write(w, &b, &e) != 0) {
            fail_msg("pq_writer_write: %s", e.msg);
        }
    }
    uint64_t bytes = 0;
    if (pq_writer_close(w, &bytes, &e) != 0) {
        fail_msg("pq_writer_close: %s", e.msg);
    }
    pq_writer_free(w);
    batch_release(&b);
    return bytes;
}

/* Checks the rows of b, read back from the file called name, as rows row0, row0 + 1, ... of the
 * table. */
static void gen_check(const struct gen_table *t, const char *name, const struct batch *b,
                      size_t row0)
{
    for (size_t j = 0; j < b->nrows; j++) {
        size_t row = row0 + j;
        for (size_t c = 0; c < b->ncols; c++) {
            const struct column *col = &b->cols[c];
            bool valid = t->valid(c, row);
            if ((col->valid[j] != 0) != valid) {
                fail_msg("%s: row %zu column %s: valid %d", name, row, t->cols[c].name,
                         col->valid[j]);
            }
            if (!valid) {
                continue;
            }
            if (t->cols[c].type.id == DT_STR) {
                char s[128];
                size_t n = t->str(c, row, s, sizeof(s));
                size_t got = col->offs[j + 1] - col->offs[j];
                if (got != n || memcmp(col->data.data + col->offs[j], s, n) != 0) {
                    fail_msg("%s: row %zu column %s: %.*s, wrote %s", name, row, t->cols[c].name,
                             (int)got, col->data.data + col->offs[j], s);
                }
            } else if (col->v.i64[j] != t->i64(c, row)) {
                fail_msg("%s: row %zu column %s: %lld, wrote %lld", name, row, t->cols[c].name,
                         (long long)col->v.i64[j], (long long)t->i64(c, row));
            }
        }
    }
}

#endif
