/*
 * records.c - the record block's lifecycle (records.h); readers fill it.
 */
#include "batch/records.h"

#include <stdlib.h>
#include <string.h>

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

int record_block_reserve(struct record_block *b, size_t rows, size_t fields)
{
    size_t need = b->nrows + rows + 1;
    if (need > b->cap_rows) {
        /* Every row array has cap_rows entries: grow them all to the first one's new size. */
        size_t cap = b->cap_rows;
        size_t c2 = cap, c3 = cap, c4 = cap, c5 = cap, c6 = cap;
        if (buf_grow_array((void **)&b->row_first, &cap, need, sizeof(*b->row_first)) != 0 ||
            buf_grow_array((void **)&b->line, &c2, cap, sizeof(*b->line)) != 0 ||
            buf_grow_array((void **)&b->row_flags, &c3, cap, sizeof(*b->row_flags)) != 0 ||
            buf_grow_array((void **)&b->raw, &c4, cap, sizeof(*b->raw)) != 0 ||
            buf_grow_array((void **)&b->raw_len, &c5, cap, sizeof(*b->raw_len)) != 0 ||
            (b->offset != NULL &&
             buf_grow_array((void **)&b->offset, &c6, cap, sizeof(*b->offset)) != 0)) {
            return AE_NOMEM;
        }
        b->cap_rows = cap;
    }
    return buf_grow_array((void **)&b->fields, &b->cap_fields, b->nfields + fields,
                          sizeof(*b->fields));
}

int record_block_want_offsets(struct record_block *b)
{
    size_t cap = 0;
    return b->offset != NULL ? 0
                             : buf_grow_array((void **)&b->offset, &cap,
                                              b->cap_rows > 0 ? b->cap_rows : 1, sizeof(*b->offset));
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
    free(rows->offset);
    free(rows->text);
    buf_release(&rows->utext);
    memset(rows, 0, sizeof(*rows));
}
