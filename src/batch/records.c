/*
 * records.c - the record block's lifecycle (records.h); readers fill it.
 */
#include "batch/records.h"

#include <stdlib.h>
#include <string.h>

int record_array_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return 0;
    }
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (q == NULL) {
        return AE_NOMEM;
    }
    *p = q;
    *cap = c;
    return 0;
}

int record_block_reserve(struct record_block *b, size_t rows, size_t fields)
{
    size_t need = rows + 1;
    if (need > b->cap_rows) {
        /* Every per-row array has cap_rows entries: each grows to the same capacity, and
         * cap_rows moves only once all of them have. */
        size_t cap = b->cap_rows;
        size_t c2 = cap, c3 = cap, c4 = cap, c5 = cap;
        if (record_array_grow((void **)&b->row_first, &cap, need, sizeof(*b->row_first)) != 0 ||
            record_array_grow((void **)&b->line, &c2, cap, sizeof(*b->line)) != 0 ||
            record_array_grow((void **)&b->row_flags, &c3, cap, sizeof(*b->row_flags)) != 0 ||
            record_array_grow((void **)&b->raw, &c4, cap, sizeof(*b->raw)) != 0 ||
            record_array_grow((void **)&b->raw_len, &c5, cap, sizeof(*b->raw_len)) != 0) {
            return AE_NOMEM;
        }
        b->cap_rows = cap;
    }
    return record_array_grow((void **)&b->fields, &b->cap_fields, fields, sizeof(*b->fields));
}

void record_block_claim(struct record_block *rows)
{
    /* cap_* count entries every array of its kind has (rows_reserve, fields_grow). */
    if (rows->cap_fields > 0) {
        memset(rows->fields, 0, rows->cap_fields * sizeof(*rows->fields));
    }
    if (rows->cap_rows > 0) {
        memset(rows->row_first, 0, rows->cap_rows * sizeof(*rows->row_first));
        memset(rows->line, 0, rows->cap_rows * sizeof(*rows->line));
        memset(rows->row_flags, 0, rows->cap_rows * sizeof(*rows->row_flags));
        memset(rows->raw, 0, rows->cap_rows * sizeof(*rows->raw));
        memset(rows->raw_len, 0, rows->cap_rows * sizeof(*rows->raw_len));
    }
}

void record_block_release(struct record_block *rows)
{
    if (rows == NULL) {
        return;
    }
    free(rows->fields);
    free(rows->row_first);
    free(rows->line);
    free(rows->row_flags);
    free(rows->raw);
    free(rows->raw_len);
    free(rows->text);
    buf_release(&rows->utext);
    memset(rows, 0, sizeof(*rows));
}
