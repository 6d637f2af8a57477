/*
 * parquet.c - the Parquet input reader (input.h): `format: parquet`, files written by pandas /
 * pyarrow, Spark, DuckDB, arrow-rs or astro itself, read through the streaming reader of
 * src/parquet (pq.h), one row group and one page per column at a time.
 *
 * The file's columns are its header (input_ops.names: the names in its schema, no header row;
 * a file column that a schema column's `path:` names is shown under the schema column's name).
 * Work is split in two (input_ops.complete): pqin_next reads the typed values (one thread) and
 * copies each value's bytes into the block; pqin_complete, on the validating threads, makes the
 * fields. In a block that takes binary fields (record_block.binary: the validator's), a value of
 * a fixed-width type that binary_type lists stays its storage bytes (REC_F_BINARY, with its
 * dtype), which the validator takes as they are when they are its column's dtype, and a string
 * points at its bytes in the block; every other value becomes a field holding its text (the
 * text dtype_format_value gives a binary field too), flagged with its type class (records.h):
 * strings REC_F_JSON_STRING, integers, floats and decimals REC_F_JSON_NUMBER (exact text: decimals
 * with their scale, floats in the shortest form that reads back as the same double), booleans
 * REC_F_JSON_BOOL, dates and timestamps REC_F_TYPED_TIME (ISO 8601, microseconds, "Z" for UTC
 * timestamps), nulls REC_F_JSON_NULL; every field also carries REC_F_PARQUET. The validator then
 * judges the file's type against the schema's dtype (validate.h, "JSON values") and parses the
 * text, so range checks (an int64 value in an int8 column) and Pandera checks run on the value.
 * A BYTE_ARRAY value that is not UTF-8 is flagged REC_F_BAD_ENCODING (a value failure, check
 * "encoding"), one holding a NUL byte REC_F_NUL.
 *
 * Positions: line is the 1-based row number in the file (row index + 1), raw is the text
 * "row group G, row index R" (both 0-based), which the failure reports carry.
 *
 * Bytes as delivered: the source (source.h) is read to its end alongside the rows, in step with
 * them, so that its sha256 and size are those of the file; the rows themselves come from the
 * descriptor with pread. A file the Parquet reader cannot open (no PAR1 magic, a truncated or
 * corrupt footer) is not refused at open: open keeps the error, names the schema's columns (so
 * the header raises nothing) and the first next fails with AE_FORMAT, which fails the file with
 * check "parquet" and the reader's message, as corrupt data (exit 1), never an environment error.
 *
 * Projection (input_ops.select): the columns the validator does not read (strict: filter drops
 * them, strict: true refuses them in the header) are never read from the file; their fields are
 * nulls. A column astro cannot read (nested: a list, struct or map; or of a type without a dtype,
 * pq_reader_open_fd_any) is such a column when the schema does not read it; when it does, the
 * first next fails as above, naming the column.
 */
#include "input/input.h"

#include "parquet/decode.h"
#include "parquet/pq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PQIN_HASH_CHUNK ((size_t)1 << 17)

struct pqin {
    struct source *src; /* borrowed */
    struct pq_reader *pq;
    struct err failed;  /* sticky: open or read failure, returned by next */
    const char **names; /* the file's columns (owned by pq), or the schema's when pq is NULL */
    size_t ncols;
    struct batch b;
    struct dtype_info *types; /* per column: the batch's type (pq_reader_batch_type) */
    bool *nanos;        /* per column: timestamps in nanoseconds (pq_reader_keep_nanos) */
    bool *as_bin;       /* per column: binary_type, its values' bytes kept in a block that
                           takes binary fields */
    bool *skip;         /* per column: not read (pqin_select), every field null */
    size_t *base;       /* per column: where fill_block put its values in the block's utext */
    uint8_t *name_flags; /* per column: REC_F_NUL when its name in the file holds a NUL byte */
    uint64_t row;       /* rows returned so far */
    size_t rg;          /* row group of the next row */
    uint64_t rg_end;    /* first row after row group rg */
    uint64_t file_size; /* of the descriptor when opened */
    char *hb;           /* hashing buffer */
    bool hashed;        /* the source has been read to its end */
};

/* Reads the source on until it has read upto bytes (or its end when upto is UINT64_MAX). */
static int hash_upto(struct pqin *r, uint64_t upto, struct err *e)
{
    while (!r->hashed && source_bytes(r->src) < upto) {
        size_t got = 0;
        int rc = source_read(r->src, r->hb, PQIN_HASH_CHUNK, &got, e);
        if (rc != 0) {
            return rc;
        }
        r->hashed = got == 0;
    }
    return 0;
}

/* True when the values of a column of type t (nanos: timestamps in nanoseconds, or INT96) go to
 * a block that takes binary fields as their storage bytes (records.h, REC_F_BINARY): every
 * fixed-width type the validator may take as it is (validate.c, bin_value). The others are made
 * text. */
static bool binary_type(struct dtype_info t, bool nanos)
{
    return !nanos && t.id != DT_STR && t.id != DT_TIMEDELTA;
}

static void pqin_free(void *impl)
{
    struct pqin *r = impl;
    if (r == NULL) {
        return;
    }
    pq_reader_free(r->pq);
    batch_release(&r->b);
    free(r->names);
    free(r->nanos);
    free(r->as_bin);
    free(r->types);
    free(r->skip);
    free(r->base);
    free(r->name_flags);
    free(r->hb);
    free(r);
}

/* Opens the file; see the top of the file for why bad data is not refused here. Fails with
 * AE_NOMEM, or AE_IO when the file cannot be read. */
static int pqin_open(void **impl, struct source *src, const struct ingest_spec *spec, struct err *e)
{
    *impl = NULL;
    struct dtype_info *types = NULL;
    struct pqin *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    r->hb = malloc(PQIN_HASH_CHUNK);
    if (r->hb == NULL) {
        free(r);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    r->src = src;
    int rc = pq_reader_open_fd_any(&r->pq, source_fd(src), source_name(src), &r->failed);
    if (rc == AE_NOMEM || rc == AE_IO) {
        err_set(e, rc, "%s", r->failed.msg);
        goto fail;
    }
    if (rc != 0) {
        /* Bad data: the schema's names stand for the header, the first next reports it, and
         * the file is hashed now, since nothing else will read it. */
        r->failed.code = AE_FORMAT;
        r->ncols = spec->schema.ncols;
        r->names = calloc(r->ncols ? r->ncols : 1, sizeof(*r->names));
        if (r->names == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t c = 0; c < r->ncols; c++) {
            r->names[c] = spec->schema.cols[c].name;
        }
        struct err he;
        err_clear(&he);
        rc = hash_upto(r, UINT64_MAX, &he);
        if (rc != 0 && rc != AE_FORMAT) {
            err_set(e, rc, "%s", he.msg);
            goto fail;
        }
        *impl = r;
        return 0;
    }
    pq_reader_allow_binary(r->pq);
    pq_reader_keep_nanos(r->pq);
    r->file_size = pq_reader_size(r->pq);
    r->ncols = pq_reader_ncols(r->pq);
    r->rg_end = pq_reader_row_group_rows(r->pq, 0);
    r->names = calloc(r->ncols ? r->ncols : 1, sizeof(*r->names));
    r->nanos = calloc(r->ncols ? r->ncols : 1, sizeof(*r->nanos));
    r->as_bin = calloc(r->ncols ? r->ncols : 1, sizeof(*r->as_bin));
    r->skip = calloc(r->ncols ? r->ncols : 1, sizeof(*r->skip));
    r->base = calloc(r->ncols ? r->ncols : 1, sizeof(*r->base));
    r->name_flags = calloc(r->ncols ? r->ncols : 1, sizeof(*r->name_flags));
    types = calloc(r->ncols ? r->ncols : 1, sizeof(*types));
    if (r->names == NULL || r->nanos == NULL || r->as_bin == NULL || r->skip == NULL ||
        r->base == NULL || r->name_flags == NULL || types == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t c = 0; c < r->ncols; c++) {
        r->names[c] = pq_reader_column(r->pq, c)->name;
        r->name_flags[c] = pq_reader_column_name_nul(r->pq, c) ? REC_F_NUL : 0;
        /* A schema column with path: P reads the file's column P: the header shows it under
         * the schema's name (config.c allows one flat path per column, each path once). */
        for (size_t k = 0; k < spec->schema.ncols; k++) {
            const struct column_spec *cs = &spec->schema.cols[k];
            if (cs->path != NULL && strcmp(cs->path, r->names[c]) == 0 && r->name_flags[c] == 0) {
                r->names[c] = cs->name;
                break;
            }
        }
        types[c] = pq_reader_batch_type(r->pq, c);
        r->nanos[c] = pq_reader_column_nanos(r->pq, c);
        r->as_bin[c] = binary_type(types[c], r->nanos[c]);
    }
    /* A block holds at most REC_BLOCK_MAX_FIELDS fields (records.h). */
    rc = batch_init(&r->b, types, r->ncols, batch_rows_for(r->ncols, 8192));
    if (rc != 0) {
        err_set(e, rc, "out of memory");
        goto fail;
    }
    r->types = types; /* read by pqin_complete on any thread: never changed */
    *impl = r;
    return 0;
fail:
    free(types);
    pqin_free(r);
    return rc;
}

/* The ISO text of a timestamp of type id at us microseconds and ns (0..999) nanoseconds: nine
 * fractional digits, so that the validator fails a value with digits beyond the microsecond
 * (validate.h) instead of astro dropping them. */
static size_t nanos_text(char *out, size_t n, enum dtype id, int64_t us, int ns)
{
    size_t k = (size_t)dtype_format_time(out, n, DT_TIMESTAMP, us);
    return k + (size_t)snprintf(out + k, n - k, "%03d%s", ns, id == DT_TIMESTAMP_TZ ? "Z" : "");
}

/* nanos_text of a value held in nanoseconds (TIMESTAMP(NANOS)). */
static size_t ns_text(char *out, size_t n, enum dtype id, int64_t v)
{
    int64_t us = v / 1000 - (v % 1000 < 0);
    return nanos_text(out, n, id, us, (int)(v - us * 1000));
}

/* nanos_text of an INT96 value as pq_reader_batch_type holds it: microseconds * 1000 + the
 * nanoseconds beyond them, which are negative before 1970 when Spark's truncation toward zero
 * made them so (the instant is then a microsecond earlier plus 1000 + ns). */
static size_t int96_text(char *out, size_t n, __int128 v)
{
    __int128 us = v / 1000 - (v % 1000 < 0);
    return nanos_text(out, n, DT_TIMESTAMP, (int64_t)us, (int)(v - us * 1000));
}

/* Appends the text of a value of type t (its bytes as value_bytes gave them, n of them) to fb
 * and sets its field f; nanos: a timestamp in nanoseconds (or an INT96 one, as a decimal). A
 * string's field points at its bytes in place (at bin, in the block's utext), not into fb. */
static int put_value(struct buf *fb, struct record_field *f, struct dtype_info t, bool nanos,
                     const char *bin, size_t bn)
{
    f->off = fb->len;
    f->len = 0;
    char tmp[DTYPE_VALUE_TEXT];
    const char *p = tmp;
    size_t n = 0;
    uint16_t fl = REC_F_PARQUET | REC_F_JSON_NUMBER;
    switch (t.id) {
    case DT_STR:
        if (bn > UINT32_MAX) {
            return AE_NOMEM;
        }
        fl = REC_F_PARQUET | REC_F_JSON_STRING | REC_F_QUOTED;
        if (!pq_utf8_valid((const uint8_t *)bin, bn)) {
            fl |= REC_F_BAD_ENCODING;
        } else if (memchr(bin, '\0', bn) != NULL) {
            fl |= REC_F_NUL;
        }
        f->p = bin;
        f->len = (uint32_t)bn;
        f->flags = fl;
        return 0;
    case DT_BOOL:
        n = dtype_format_value(tmp, t, bin);
        fl = REC_F_PARQUET | REC_F_JSON_BOOL;
        break;
    case DT_DECIMAL:
        if (nanos) { /* an INT96 timestamp (pq_reader_batch_type) */
            __int128 i128;
            memcpy(&i128, bin, sizeof(i128));
            n = int96_text(tmp, sizeof(tmp), i128);
            fl = REC_F_PARQUET | REC_F_TYPED_TIME;
            break;
        }
        n = dtype_format_value(tmp, t, bin);
        break;
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ:
        if (nanos) {
            int64_t i64;
            memcpy(&i64, bin, sizeof(i64));
            n = ns_text(tmp, sizeof(tmp), t.id, i64);
        } else {
            n = dtype_format_value(tmp, t, bin);
        }
        fl = REC_F_PARQUET | REC_F_TYPED_TIME;
        break;
    default: n = dtype_format_value(tmp, t, bin); break;
    }
    f->len = (uint32_t)n;
    f->flags = fl;
    if (fb->len + n <= fb->cap) { /* the common case, without a call */
        memcpy(fb->data + fb->len, p, n);
        fb->len += n;
        return 0;
    }
    return n > 0 ? buf_append(fb, p, n) : 0;
}

/* The class flag of a binary field of type t: what put_value would give its text. */
static uint16_t binary_class(enum dtype id)
{
    switch (id) {
    case DT_BOOL: return REC_F_JSON_BOOL;
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: return REC_F_TYPED_TIME;
    default: return REC_F_JSON_NUMBER;
    }
}

/* A field pqin_next leaves to pqin_complete: its value's bytes at off in the block's utext. A
 * field with a type class (REC_F_JSON_NULL: a null, or a column not read) is final. */
#define PQIN_PENDING REC_F_PARQUET

/* The rows of r->b as records of blk, delimited only (input_ops.complete): line, raw text
 * ("row group G, row index R") and, per field, its value's bytes (the storage value, dtype.h, of
 * a fixed-width type; a string's bytes), all in blk->utext (raw texts first, then each column's
 * values); pqin_complete formats them, on any thread. */
static int fill_block(struct pqin *r, struct record_block *blk)
{
    size_t n = r->b.nrows;
    if (record_block_reserve(blk, n, n * r->ncols + 1) != 0) {
        return AE_NOMEM;
    }
    buf_reset(&blk->utext);
    /* "row group G, row index R" per row, without printf: the prefix once per row group. */
    enum { RAW_MAX = 64 }; /* "row group " + 20 digits + ", row index " + 20 digits */
    int rc = n > SIZE_MAX / RAW_MAX ? AE_NOMEM : buf_reserve(&blk->utext, n * RAW_MAX);
    char pre[RAW_MAX];
    size_t npre = 0;
    size_t pre_rg = SIZE_MAX;
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint64_t row = r->row + i;
        while (row >= r->rg_end && r->rg + 1 < pq_reader_nrow_groups(r->pq)) {
            r->rg++;
            r->rg_end += pq_reader_row_group_rows(r->pq, r->rg);
        }
        blk->line[i] = row + 1;
        blk->row_flags[i] = 0;
        if (r->rg != pre_rg) {
            pre_rg = r->rg;
            memcpy(pre, "row group ", 10);
            npre = 10 + dtype_format_u64(pre + 10, r->rg);
            memcpy(pre + npre, ", row index ", 12);
            npre += 12;
        }
        char *d = blk->utext.data + blk->utext.len;
        memcpy(d, pre, npre);
        size_t k = npre + dtype_format_u64(d + npre, row);
        blk->utext.len += k;
        blk->raw_len[i] = (uint32_t)k;
    }
    if (rc == 0) {
        blk->utext.data[blk->utext.len] = '\0';
    }
    /* Each column's values in one copy (the batch's value array or string bytes), then the
     * fields point into them: the reading thread does no per-value work but this. */
    for (size_t c = 0; c < r->ncols && rc == 0; c++) {
        const struct column *col = &r->b.cols[c];
        enum dtype_storage st = dtype_storage(col->type.id);
        size_t bytes = st == DS_BYTES ? col->offs[n] : n * dtype_storage_size(st);
        r->base[c] = blk->utext.len;
        if (!r->skip[c] && bytes > 0) {
            const void *src = st == DS_BYTES ? (const void *)col->data.data : col->v.raw;
            rc = blk->utext.len + bytes > UINT32_MAX ? AE_NOMEM
                                                     : buf_append(&blk->utext, src, bytes);
        }
    }
    size_t nf = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        blk->row_first[i] = (uint32_t)nf;
        for (size_t c = 0; c < r->ncols; c++) {
            struct record_field *f = &blk->fields[nf++];
            const struct column *col = &r->b.cols[c];
            if (r->skip[c] || !col->valid[i]) {
                f->off = 0;
                f->len = 0;
                f->flags = REC_F_PARQUET | REC_F_JSON_NULL;
            } else if (col->offs != NULL) {
                f->off = r->base[c] + col->offs[i];
                f->len = col->offs[i + 1] - col->offs[i];
                f->flags = PQIN_PENDING;
            } else {
                size_t ss = dtype_storage_size(dtype_storage(col->type.id));
                f->off = r->base[c] + i * ss;
                f->len = (uint32_t)ss;
                f->flags = PQIN_PENDING;
            }
        }
    }
    if (rc != 0) {
        blk->nrows = 0;
        blk->nfields = 0;
        return AE_NOMEM;
    }
    blk->nfields = nf;
    blk->row_first[n] = (uint32_t)nf;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        blk->raw[i] = blk->utext.data + at;
        at += blk->raw_len[i];
    }
    blk->nrows = n;
    r->row += n;
    return 0;
}

/* input_ops.complete: formats the values fill_block left in blk->utext as text into blk->text
 * (records.h: the block owns both), reading nothing of r but what open set (names, types,
 * nanos): safe on any thread, on several blocks at once, while pqin_next reads on. */
static int pqin_complete(const void *impl, struct record_block *blk, struct err *e)
{
    const struct pqin *r = impl;
    struct buf fb = {blk->text, 0, blk->text_cap, 0};
    int rc = 0;
    for (size_t i = 0; i < blk->nrows && rc == 0; i++) {
        struct record_field *row = &blk->fields[blk->row_first[i]];
        for (size_t c = 0; c < r->ncols && rc == 0; c++) {
            struct record_field *f = &row[c];
            if (f->flags != PQIN_PENDING) {
                f->off = fb.len; /* a null: an empty field */
                continue;
            }
            const char *at = blk->utext.data + f->off;
            if (blk->binary && r->as_bin[c]) { /* its storage bytes stay (REC_F_BINARY) */
                f->p = at;
                f->flags = REC_F_PARQUET | REC_F_BINARY | binary_class(r->types[c].id);
                f->dt = (uint8_t)r->types[c].id;
                f->scale = r->types[c].scale;
                continue;
            }
            rc = put_value(&fb, f, r->types[c], r->nanos[c], at, f->len);
        }
    }
    blk->text = fb.data;
    blk->text_cap = fb.cap;
    if (rc != 0) {
        return err_set(e, AE_NOMEM, "%s: out of memory", source_name(r->src));
    }
    /* Offsets into the text become pointers now that the buffer no longer moves (a block of
     * null fields only has no text buffer: its fields point at an empty string, never at NULL +
     * 0). Strings and binary fields already point into utext. */
    for (size_t k = 0; k < blk->nfields; k++) {
        struct record_field *f = &blk->fields[k];
        if (!(f->flags & REC_F_BINARY) && (f->flags & REC_F_JSON_MASK) != REC_F_JSON_STRING) {
            f->p = blk->text != NULL ? blk->text + f->off : "";
        }
    }
    return 0;
}

static int pqin_next(void *impl, struct record_block *blk, size_t max_rows, struct err *e)
{
    struct pqin *r = impl;
    blk->nrows = 0;
    blk->nfields = 0;
    if (r->failed.code != 0) {
        return input_failed(&r->failed, e);
    }
    if (max_rows == 0) {
        return err_set(e, AE_INTERNAL, "pqin_next: max_rows must be at least 1");
    }
    size_t cap = r->b.cap;
    r->b.cap = max_rows < cap ? max_rows : cap;
    int rc = pq_reader_next(r->pq, &r->b, e);
    r->b.cap = cap;
    if (rc == 0 && r->b.nrows > 0) {
        rc = fill_block(r, blk);
        if (rc != 0) {
            err_set(e, AE_NOMEM, "%s: out of memory", source_name(r->src));
        }
    }
    /* The source follows the rows, in proportion, and reaches the end with the last of them. */
    uint64_t total = pq_reader_nrows(r->pq);
    uint64_t size = r->file_size;
    if (rc == 0) {
        uint64_t upto = r->b.nrows == 0 || total == 0
                            ? UINT64_MAX
                            : (uint64_t)((double)size * ((double)r->row / (double)total));
        rc = hash_upto(r, upto, e);
    }
    return rc != 0 ? input_fail(&r->failed, blk, rc, false, e) : 0;
}

static uint64_t pqin_position(const void *impl)
{
    const struct pqin *r = impl;
    return r->pq == NULL ? 0 : r->row + 1;
}

static uint64_t pqin_row_count(const void *impl)
{
    const struct pqin *r = impl;
    return r->pq != NULL ? pq_reader_nrows(r->pq) : UINT64_MAX;
}

static size_t pqin_names(const void *impl, const char *const **names)
{
    const struct pqin *r = impl;
    *names = r->names;
    return r->ncols;
}

static const uint8_t *pqin_name_flags(const void *impl)
{
    const struct pqin *r = impl;
    return r->name_flags;
}

/* The columns the validator does not read are not read from the file at all (pq_reader_select);
 * one it reads that astro cannot (nested, or a type without a dtype) fails the first next with
 * the reader's message, naming it. */
static int pqin_select(void *impl, const bool *used, size_t n, struct err *e)
{
    struct pqin *r = impl;
    (void)e;
    if (r->pq == NULL) {
        return 0; /* the file failed to open: next reports it */
    }
    for (size_t c = 0; c < r->ncols && c < n; c++) {
        r->skip[c] = !used[c];
        pq_reader_select(r->pq, c, used[c]);
        const char *why = pq_reader_column_problem(r->pq, c);
        if (used[c] && why != NULL && r->failed.code == 0) {
            err_set(&r->failed, AE_FORMAT,
                    "%s: %s; the schema reads it (declared, or kept by strict: false): declare "
                    "only the columns astro reads, and strict: filter skips the others",
                    source_name(r->src), why);
        }
    }
    if (r->failed.code != 0) {
        /* Nothing else will read the file: hash it now, as for a file that fails to open. */
        struct err he;
        err_clear(&he);
        int rc = hash_upto(r, UINT64_MAX, &he);
        if (rc != 0 && rc != AE_FORMAT) {
            return err_set(e, rc, "%s", he.msg);
        }
    }
    return 0;
}

const struct input_ops input_parquet_ops = {
    .name = "parquet",
    .refusal_check = "parquet",
    .open = pqin_open,
    .next = pqin_next,
    .position = pqin_position,
    .names = pqin_names,
    .name_flags = pqin_name_flags,
    .select = pqin_select,
    .complete = pqin_complete,
    .row_count = pqin_row_count,
    .free = pqin_free,
};
