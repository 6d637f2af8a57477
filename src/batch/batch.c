/*
 * batch.c - allocation and reuse of column batches.
 */
#include "batch/batch.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of one array in the slab, rounded up so that every array starts 16-byte aligned (for
 * __int128 values). A batch is filled by one thread at a time, so columns sharing a cache line
 * cost nothing. */
static size_t slab_round(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

int batch_init(struct batch *b, const struct dtype_info *types, size_t ncols, size_t cap)
{
    memset(b, 0, sizeof(*b));
    if (cap == 0 || cap > (SIZE_MAX / 16) - 1 || ncols > SIZE_MAX / 64 / (cap + 1)) {
        return AE_NOMEM;
    }
    /* Every column's valid and value (or offset) arrays live in one slab: one allocation
     * instead of two per column, which for a file of thousands of columns was most of a
     * batch's memory (malloc's overhead per allocation) and time. */
    size_t total = 0;
    for (size_t c = 0; c < ncols; c++) {
        enum dtype_storage st = dtype_storage(types[c].id);
        size_t vbytes =
            st == DS_BYTES ? (cap + 1) * sizeof(uint32_t) : cap * dtype_storage_size(st);
        total += slab_round(cap) + slab_round(vbytes);
    }
    b->cols = calloc(ncols ? ncols : 1, sizeof(*b->cols));
    b->line = malloc(cap * sizeof(*b->line));
    b->row_ok = malloc(cap);
    b->slab = malloc(total ? total : 16); /* aligned for max_align_t, so for __int128 */
    if (b->cols == NULL || b->line == NULL || b->row_ok == NULL || b->slab == NULL) {
        batch_release(b);
        return AE_NOMEM;
    }
    memset(b->slab, 0, total);
    b->ncols = ncols;
    b->cap = cap;
    unsigned char *at = b->slab;
    for (size_t c = 0; c < ncols; c++) {
        struct column *col = &b->cols[c];
        col->type = types[c];
        buf_init(&col->data, 0);
        col->valid = at;
        at += slab_round(cap);
        enum dtype_storage st = dtype_storage(types[c].id);
        if (st == DS_BYTES) {
            col->offs = (uint32_t *)(void *)at;
            at += slab_round((cap + 1) * sizeof(uint32_t));
        } else {
            col->v.raw = at;
            at += slab_round(cap * dtype_storage_size(st));
        }
    }
    return 0;
}

size_t batch_rows_for(size_t ncols, size_t max_rows)
{
    size_t n = BATCH_MAX_CELLS / (ncols ? ncols : 1);
    n = n < max_rows ? n : max_rows;
    return n ? n : 1;
}

void batch_reset(struct batch *b)
{
    b->nrows = 0;
    for (size_t c = 0; c < b->ncols; c++) {
        struct column *col = &b->cols[c];
        if (col->offs != NULL) {
            col->offs[0] = 0;
            buf_reset(&col->data);
        }
    }
}

void batch_claim(struct batch *b)
{
    batch_reset(b);
    memset(b->line, 0, b->cap * sizeof(*b->line));
    memset(b->row_ok, 0, b->cap);
    for (size_t c = 0; c < b->ncols; c++) {
        struct column *col = &b->cols[c];
        memset(col->valid, 0, b->cap);
        if (col->offs != NULL) {
            memset(col->offs, 0, (b->cap + 1) * sizeof(*col->offs));
            if (col->data.cap > 0) {
                memset(col->data.data, 0, col->data.cap);
            }
        } else {
            memset(col->v.raw, 0, b->cap * dtype_storage_size(dtype_storage(col->type.id)));
        }
    }
}

void batch_release(struct batch *b)
{
    if (b->cols != NULL) {
        for (size_t c = 0; c < b->ncols; c++) {
            buf_release(&b->cols[c].data);
        }
    }
    free(b->cols);
    free(b->slab);
    free(b->line);
    free(b->row_ok);
    memset(b, 0, sizeof(*b));
}

size_t batch_count_ok(const struct batch *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        n += b->row_ok[i] != 0;
    }
    return n;
}

int batch_put_bytes(struct batch *b, size_t c, size_t row, const char *p, size_t n, int valid)
{
    struct column *col = &b->cols[c];
    if (valid && n > 0) {
        if (col->data.len + n > UINT32_MAX || buf_append(&col->data, p, n) != 0) {
            return AE_NOMEM;
        }
    }
    col->valid[row] = valid ? 1 : 0;
    col->offs[row + 1] = (uint32_t)col->data.len;
    return 0;
}

int batch_copy(struct batch *dst, const struct batch *src)
{
    if (dst->ncols != src->ncols || dst->cap < src->nrows) {
        return AE_INTERNAL;
    }
    size_t n = src->nrows;
    memcpy(dst->line, src->line, n * sizeof(*dst->line));
    memcpy(dst->row_ok, src->row_ok, n);
    for (size_t c = 0; c < src->ncols; c++) {
        const struct column *s = &src->cols[c];
        struct column *d = &dst->cols[c];
        if (s->type.id != d->type.id) {
            return AE_INTERNAL;
        }
        memcpy(d->valid, s->valid, n);
        if (s->offs != NULL) {
            memcpy(d->offs, s->offs, (n + 1) * sizeof(*d->offs));
            buf_reset(&d->data);
            if (buf_append(&d->data, s->data.data, s->data.len) != 0) {
                return AE_NOMEM;
            }
        } else {
            memcpy(d->v.raw, s->v.raw, n * dtype_storage_size(dtype_storage(s->type.id)));
        }
    }
    dst->nrows = n;
    return 0;
}
