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
