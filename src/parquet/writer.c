/*
 * writer.c - the Parquet file writer behind pq.h.
 *
 * Data flow: pq_writer_write() appends the accepted rows of a batch to per-column buffers that
 * hold one row group (definition levels as one byte per row, values in their PLAIN byte form, or
 * dictionary indices plus the dictionary while a chunk is still dictionary-encoded). When the
 * group reaches rg_rows rows or rg_bytes buffered bytes, every column is encoded into pages and
 * written out: at most one dictionary page first, then DataPage V1 pages bounded by page_rows and
 * page_bytes. The RowGroup metadata is serialised at once and kept as bytes for the footer.
 *
 * The dictionary decision is made per chunk (PARQUET.md §1.7): a chunk stops being dictionary
 * encoded as soon as its dictionary passes dict_bytes, or when distinct/non-null values exceed 3/4
 * (checked once after 64 Ki values to stop paying for hashing early, and again at chunk end). The
 * buffered indices are then turned back into PLAIN values, so a chunk is either all dictionary or
 * all PLAIN, and there is never more than one dictionary page.
 *
 * Parallel flush (pq_options.threads > 1): flushing a row group is split into chunk_plan (the
 * chunk-end dictionary decision, statistics, the cut into pages), run for every column at once,
 * then encode_pages over segments of consecutive pages, run for every segment at once; each
 * thread has its own compression context and page scratch (struct pq_enc), each segment its
 * own output buffer. The segments are then written in column and page order and the chunk
 * offsets computed as they land in the file, so the bytes are exactly those of the serial path
 * (which runs the same two functions for one column after the other, streaming the pages to
 * the file). The threads are created per row group and joined before the flush returns (about
 * 26 us per thread and round against ~100 ms of encoding per million rows: a pool would buy
 * nothing measurable), so no thread outlives a call, failed or not.
 *
 * Memory: the column buffers of one row group (bounded by rg_bytes plus one slice of rows), page
 * scratch buffers (one set per thread), the output buffer and the footer bytes; with threads > 1
 * also the encoded pages of the row group being flushed. Nothing is allocated per value.
 */
#include "parquet/codec.h"
#include "parquet/encode.h"
#include "parquet/pq.h"
#include "parquet/thrift.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ASTRO_VERSION
#define ASTRO_VERSION "0.0.0"
#endif

/* parquet.thrift enums (PARQUET.md §1.3). */
enum { PT_BOOLEAN = 0, PT_INT32 = 1, PT_INT64 = 2, PT_FLOAT = 4, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6,
       PT_FLBA = 7 };
enum { CT_NONE = -1, CT_UTF8 = 0, CT_DECIMAL = 5, CT_DATE = 6, CT_TIMESTAMP_MICROS = 10,
       CT_UINT_8 = 11, CT_UINT_16 = 12, CT_UINT_32 = 13, CT_UINT_64 = 14, CT_INT_8 = 15,
       CT_INT_16 = 16, CT_INT_32 = 17, CT_INT_64 = 18 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICTIONARY = 2, ENC_RLE = 3 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

#define OUT_BUF_SIZE (4u << 20)
#define SLICE_ROWS 8192
#define DICT_RATIO_CHECK_AT 65536
/* A column whose chunk gave up its dictionary starts the next row groups PLAIN, trying again
 * every DICT_RETRY_GROUPS row groups: high-cardinality strings (names, e-mails, addresses) would
 * otherwise be hashed into a dictionary and copied out of it again in every row group. */
#define DICT_RETRY_GROUPS 8
#define STAT_MAX_BYTES 4096
#define MAX_THREADS 64
#define WIDE_PLAN_BYTES ((size_t)64 << 20)

/* The dictionary of one chunk: entries in PLAIN form in data, an open-addressing table whose
 * slots hold (hash32 << 32 | entry + 1), and for byte arrays the offset of every entry. */
struct pq_dict {
    uint64_t *slots;
    size_t cap; /* power of two, or 0 before first use */
    size_t count;
    struct buf data;
    uint64_t *offs; /* BYTE_ARRAY only: start of entry k in data */
    size_t offs_cap;
};

/* One data page of the chunk being flushed: rows [r0, r1), values [v0, v0 + nv), and for
 * PLAIN values other than booleans their bytes [voff, voff + vbytes) in vals. */
struct pq_page {
    size_t r0, r1, v0, nv, voff, vbytes;
};

struct pq_col {
    char *name;
    struct dtype_info type;
    bool nullable;
    int ptype;
    int width;  /* PLAIN bytes per value (BOOLEAN: one byte per value in vals); 0 for strings */
    int conv;   /* ConvertedType or CT_NONE */
    bool is_unsigned;
    bool dict_ok;
    /* Buffered chunk of the current row group. */
    struct buf levels; /* nullable only: 1 byte per row, 1 = present */
    struct buf vals;   /* PLAIN values (BOOLEAN: bytes 0/1) when !dict_on */
    struct buf idx;    /* uint32 indices when dict_on */
    struct pq_dict dict;
    bool dict_on;
    bool ratio_checked;
    uint32_t plain_groups; /* consecutive chunks written PLAIN although dict_ok */
    size_t nrows;
    size_t nvals;
    /* The page plan of the chunk being flushed (chunk_plan). */
    struct pq_page *pages;
    size_t npages, pages_cap;
    int bw; /* dictionary index bit width */
};

struct pq_kv {
    char *key;
    char *value;
};

/* The scratch one thread needs to turn a column chunk into pages: its own compression context
 * (a ZSTD_CCtx or zlib stream is not shareable between threads) and page buffers. */
struct pq_enc {
    struct pq_compressor comp;
    struct buf body, cbody, hdr;
};

struct pq_chunk; /* one column's plan during a parallel flush */
struct pq_seg;   /* a range of one chunk's pages during a parallel flush */

struct pq_writer {
    int fd;
    uint8_t *obuf;
    size_t olen;
    uint64_t pos; /* bytes handed to the file so far, buffered ones included */
    struct pq_col *cols;
    size_t ncols;
    struct pq_options o;
    char *created_by;
    struct pq_enc *enc; /* nenc encoders: enc[0] for the serial path, one per thread */
    size_t nenc;
    struct pq_chunk *chunks; /* ncols, when nenc > 1 */
    struct pq_seg *segs;     /* nsegs of segs_cap, when nenc > 1 */
    size_t nsegs, segs_cap;
    struct buf meta, rowgroups;
    size_t nrowgroups;
    uint64_t rows_total;
    size_t rg_rows;
    uint32_t *sel;
    size_t sel_cap;
    struct pq_kv *kv;
    size_t nkv, kv_cap;
    int failed; /* sticky AE_* code after an error that left the file inconsistent */
    bool closed;
    size_t fault_col; /* pq_writer_inject_fault: column + 1, or 0 */
    int fault_code;
};

/* Per-chunk figures collected while its pages are written. */
struct chunk_meta {
    uint64_t start, data_off, dict_off;
    bool has_dict;
    uint64_t unc, comp;
    int32_t ndata_pages;
    int data_enc;
    /* statistics */
    bool has_minmax, deprecated;
    uint8_t minb[16], maxb[16];
    const uint8_t *minp, *maxp;
    size_t minlen, maxlen;
    int64_t null_count;
    bool has_nan_count;
    int64_t nan_count;
};

/* A column chunk planned by a worker of a parallel flush (chunk_plan), or the error that
 * stopped it. */
struct pq_chunk {
    struct chunk_meta cm;
    int rc; /* 1 until planned */
    struct err e;
};

/* The pages [p0, p1) of column col encoded by a worker of a parallel flush: their bytes, their
 * sizes and count in cm (with, when p0 == 0, the offsets relative to out), or the error. */
struct pq_seg {
    size_t col, p0, p1;
    struct buf out;
    struct chunk_meta cm;
    int rc; /* 1 until encoded */
    struct err e;
};

void pq_options_default(struct pq_options *o)
{
    o->codec = PQ_CODEC_ZSTD;
    o->level = 0;
    o->page_bytes = 1u << 20;
    o->page_rows = 20000;
    o->rg_rows = 1048576;
    o->rg_bytes = 128u << 20;
    o->dict_bytes = 1u << 20;
    o->created_by = NULL;
    o->threads = 1;
}

/* ---------------------------------------------------------------- output */

static int full_write(struct pq_writer *w, const uint8_t *p, size_t n, struct err *e)
{
    while (n > 0) {
        ssize_t r = write(w->fd, p, n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return err_errno(e, errno, "writing the Parquet file");
        }
        if (r == 0) {
            return err_set(e, AE_IO, "writing the Parquet file: write returned 0");
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int out_flush(struct pq_writer *w, struct err *e)
{
    int rc = full_write(w, w->obuf, w->olen, e);
    w->olen = 0;
    return rc;
}

static int out_write(struct pq_writer *w, const void *p, size_t n, struct err *e)
{
    if (w->olen + n > OUT_BUF_SIZE) {
        int rc = out_flush(w, e);
        if (rc != 0) {
            return rc;
        }
    }
    if (n >= OUT_BUF_SIZE) {
        int rc = full_write(w, p, n, e);
        if (rc != 0) {
            return rc;
        }
    } else if (n > 0) {
        memcpy(w->obuf + w->olen, p, n);
        w->olen += n;
    }
    w->pos += n;
    return 0;
}

/* ---------------------------------------------------------------- dictionary */

static uint64_t mix64(uint64_t x)
{
    x *= 0x9E3779B97F4A7C15ull;
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ull;
    x ^= x >> 29;
    return x;
}

/* Short strings (enum-like values: statuses, country codes) are hashed and compared with at
 * most two overlapping loads that stay inside [p, p + n), instead of a byte loop and a memcmp
 * call per value. The hash only places entries in the table; the dictionary's order (and so
 * the file) does not depend on it. */
static inline uint64_t load_short(const uint8_t *p, size_t n)
{
    if (n >= 8) {
        return pq_get_u64le(p) ^ (pq_get_u64le(p + n - 8) << 1); /* n <= 16 */
    }
    if (n >= 4) {
        return (uint64_t)pq_get_u32le(p) | ((uint64_t)pq_get_u32le(p + n - 4) << 32);
    }
    if (n > 0) {
        return (uint64_t)p[0] | ((uint64_t)p[n / 2] << 8) | ((uint64_t)p[n - 1] << 16);
    }
    return 0;
}

static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n <= 16) {
        if (n >= 8) {
            return pq_get_u64le(a) == pq_get_u64le(b) &&
                   pq_get_u64le(a + n - 8) == pq_get_u64le(b + n - 8);
        }
        return load_short(a, n) == load_short(b, n);
    }
    return memcmp(a, b, n) == 0;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x243F6A8885A308D3ull ^ ((uint64_t)n * 0x9E3779B97F4A7C15ull);
    if (n <= 16) {
        return mix64(h ^ load_short(p, n));
    }
    while (n >= 8) {
        h = (h ^ pq_get_u64le(p)) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t t = 0;
    for (size_t k = 0; k < n; k++) {
        t |= (uint64_t)p[k] << (8 * k);
    }
    return mix64(h ^ t);
}

static void dict_release(struct pq_dict *d)
{
    free(d->slots);
    free(d->offs);
    buf_release(&d->data);
    memset(d, 0, sizeof(*d));
}

static void dict_reset(struct pq_dict *d)
{
    if (d->slots != NULL) {
        memset(d->slots, 0, d->cap * sizeof(*d->slots));
    }
    d->count = 0;
    buf_reset(&d->data);
}

static int dict_grow(struct pq_dict *d)
{
    /* Small at first: a file of 100,000 columns has 100,000 dictionaries, and 1024 slots each
     * came to 1.6 GB for a few rows. Doubling keeps the growth amortised. */
    size_t ncap = d->cap ? d->cap * 2 : 16;
    uint64_t *ns = calloc(ncap, sizeof(*ns));
    if (ns == NULL) {
        return AE_NOMEM;
    }
    for (size_t i = 0; i < d->cap; i++) {
        uint64_t s = d->slots[i];
        if (s != 0) {
            size_t j = (size_t)(s >> 32) & (ncap - 1);
            while (ns[j] != 0) {
                j = (j + 1) & (ncap - 1);
            }
            ns[j] = s;
        }
    }
    free(d->slots);
    d->slots = ns;
    d->cap = ncap;
    return 0;
}

/* Finds or adds a 4- or 8-byte value (given as its little-endian bits). */
static int dict_fixed(struct pq_dict *d, uint64_t key, int wdt, uint32_t *out)
{
    if ((d->count + 1) * 2 > d->cap && dict_grow(d) != 0) {
        return AE_NOMEM;
    }
    uint32_t h = (uint32_t)(mix64(key) >> 32);
    size_t mask = d->cap - 1;
    size_t s = h & mask;
    const uint8_t *base = (const uint8_t *)d->data.data;
    for (;;) {
        uint64_t slot = d->slots[s];
        if (slot == 0) {
            break;
        }
        if ((uint32_t)(slot >> 32) == h) {
            uint32_t ent = (uint32_t)slot - 1;
            const uint8_t *p = base + (size_t)ent * (size_t)wdt;
            uint64_t k2 = wdt == 4 ? pq_get_u32le(p) : pq_get_u64le(p);
            if (k2 == key) {
                *out = ent;
                return 0;
            }
        }
        s = (s + 1) & mask;
    }
    uint8_t tmp[8];
    pq_put_u64le(tmp, key);
    if (buf_append(&d->data, tmp, (size_t)wdt) != 0) {
        return AE_NOMEM;
    }
    d->slots[s] = ((uint64_t)h << 32) | (uint64_t)(d->count + 1);
    *out = (uint32_t)d->count++;
    return 0;
}

/* Finds or adds a byte string; the dictionary keeps it in PLAIN form (u32 length + bytes). */
static int dict_bytes(struct pq_dict *d, const uint8_t *p, size_t n, uint32_t *out)
{
    if ((d->count + 1) * 2 > d->cap && dict_grow(d) != 0) {
        return AE_NOMEM;
    }
    uint32_t h = (uint32_t)(hash_bytes(p, n) >> 32);
    size_t mask = d->cap - 1;
    size_t s = h & mask;
    for (;;) {
        uint64_t slot = d->slots[s];
        if (slot == 0) {
            break;
        }
        if ((uint32_t)(slot >> 32) == h) {
            uint32_t ent = (uint32_t)slot - 1;
            const uint8_t *q = (const uint8_t *)d->data.data + d->offs[ent];
            if (pq_get_u32le(q) == n && bytes_eq(q + 4, p, n)) {
                *out = ent;
                return 0;
            }
        }
        s = (s + 1) & mask;
    }
    if (d->count + 1 > d->offs_cap) {
        size_t nc = d->offs_cap ? d->offs_cap * 2 : 16;
        uint64_t *no = realloc(d->offs, nc * sizeof(*no));
        if (no == NULL) {
            return AE_NOMEM;
        }
        d->offs = no;
        d->offs_cap = nc;
    }
    if (buf_reserve(&d->data, 4 + n) != 0) {
        return AE_NOMEM;
    }
    d->offs[d->count] = d->data.len;
    uint8_t *q = (uint8_t *)d->data.data + d->data.len;
    pq_put_u32le(q, (uint32_t)n);
    memcpy(q + 4, p, n);
    d->data.len += 4 + n;
    d->data.data[d->data.len] = '\0';
    d->slots[s] = ((uint64_t)h << 32) | (uint64_t)(d->count + 1);
    *out = (uint32_t)d->count++;
    return 0;
}

/* ---------------------------------------------------------------- schema mapping */

/* Fills the physical and converted types of a column (PARQUET.md §1.8); AE_CONFIG if invalid. */
static int col_map(struct pq_col *c, struct err *e)
{
    c->conv = CT_NONE;
    c->is_unsigned = false;
    c->dict_ok = false;
    switch (c->type.id) {
    case DT_STR:
        c->ptype = PT_BYTE_ARRAY, c->width = 0, c->conv = CT_UTF8, c->dict_ok = true;
        return 0;
    case DT_BOOL: c->ptype = PT_BOOLEAN, c->width = 1; return 0;
    case DT_INT8: c->ptype = PT_INT32, c->width = 4, c->conv = CT_INT_8; break;
    case DT_INT16: c->ptype = PT_INT32, c->width = 4, c->conv = CT_INT_16; break;
    case DT_INT32: c->ptype = PT_INT32, c->width = 4, c->conv = CT_INT_32; break;
    case DT_INT64: c->ptype = PT_INT64, c->width = 8, c->conv = CT_INT_64; break;
    case DT_TIMEDELTA:
        /* Parquet has no duration type (INTERVAL holds unsigned milliseconds): the nanoseconds
         * as a signed INT64, which DuckDB reads as a BIGINT (docs/schema.md). */
        c->ptype = PT_INT64, c->width = 8, c->conv = CT_INT_64;
        break;
    case DT_UINT8: c->ptype = PT_INT32, c->width = 4, c->conv = CT_UINT_8; break;
    case DT_UINT16: c->ptype = PT_INT32, c->width = 4, c->conv = CT_UINT_16; break;
    case DT_UINT32: c->ptype = PT_INT32, c->width = 4, c->conv = CT_UINT_32; break;
    case DT_UINT64: c->ptype = PT_INT64, c->width = 8, c->conv = CT_UINT_64; break;
    case DT_FLOAT32: c->ptype = PT_FLOAT, c->width = 4; return 0;
    case DT_FLOAT64: c->ptype = PT_DOUBLE, c->width = 8; return 0;
    case DT_DATE: c->ptype = PT_INT32, c->width = 4, c->conv = CT_DATE; break;
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ:
        c->ptype = PT_INT64, c->width = 8, c->conv = CT_TIMESTAMP_MICROS;
        break;
    case DT_DECIMAL:
        if (c->type.precision < 1 || c->type.precision > 38 || c->type.scale > c->type.precision) {
            return err_set(e, AE_CONFIG, "column '%s': invalid decimal(%d,%d)", c->name,
                           c->type.precision, c->type.scale);
        }
        c->conv = CT_DECIMAL;
        if (c->type.precision <= 9) {
            c->ptype = PT_INT32, c->width = 4;
        } else if (c->type.precision <= 18) {
            c->ptype = PT_INT64, c->width = 8;
        } else {
            c->ptype = PT_FLBA, c->width = pq_decimal_flba_width(c->type.precision);
            return 0;
        }
        break;
    default:
        return err_set(e, AE_CONFIG, "column '%s': unsupported dtype %d", c->name,
                       (int)c->type.id);
    }
    c->is_unsigned = c->conv >= CT_UINT_8 && c->conv <= CT_UINT_64;
    c->dict_ok = true; /* INT32 and INT64 columns */
    return 0;
}

static void schema_element(struct tc *t, const struct pq_col *c)
{
    tc_elem_struct(t);
    tc_field_i32(t, 1, c->ptype);
    if (c->ptype == PT_FLBA) {
        tc_field_i32(t, 2, c->width);
    }
    tc_field_i32(t, 3, c->nullable ? 1 : 0);
    tc_field_str(t, 4, c->name);
    if (c->conv != CT_NONE) {
        tc_field_i32(t, 6, c->conv);
    }
    if (c->conv == CT_DECIMAL) {
        tc_field_i32(t, 7, c->type.scale);
        tc_field_i32(t, 8, c->type.precision);
    }
    if (c->conv != CT_NONE) {
        tc_field_struct(t, 10); /* LogicalType union: exactly one member */
        switch (c->type.id) {
        case DT_STR:
            tc_field_struct(t, 1);
            tc_struct_end(t);
            break;
        case DT_DATE:
            tc_field_struct(t, 6);
            tc_struct_end(t);
            break;
        case DT_TIMESTAMP:
        case DT_TIMESTAMP_TZ:
            tc_field_struct(t, 8);
            tc_field_bool(t, 1, c->type.id == DT_TIMESTAMP_TZ);
            tc_field_struct(t, 2); /* TimeUnit */
            tc_field_struct(t, 2); /* MICROS */
            tc_struct_end(t);
            tc_struct_end(t);
            tc_struct_end(t);
            break;
        case DT_DECIMAL:
            tc_field_struct(t, 5);
            tc_field_i32(t, 1, c->type.scale);
            tc_field_i32(t, 2, c->type.precision);
            tc_struct_end(t);
            break;
        default: {
            static const int8_t bits[] = {8, 16, 32, 64};
            int k = c->is_unsigned ? c->conv - CT_UINT_8 : c->conv - CT_INT_8;
            tc_field_struct(t, 10);
            tc_field_i8(t, 1, bits[k]); /* i8 on the wire: PARQUET.md §1.2 */
            tc_field_bool(t, 2, !c->is_unsigned);
            tc_struct_end(t);
            break;
        }
        }
        tc_struct_end(t);
    }
    tc_struct_end(t);
}

/* ---------------------------------------------------------------- open / free */

static void col_release(struct pq_col *c)
{
    free(c->name);
    free(c->pages);
    buf_release(&c->levels);
    buf_release(&c->vals);
    buf_release(&c->idx);
    dict_release(&c->dict);
}

void pq_writer_free(struct pq_writer *w)
{
    if (w == NULL) {
        return;
    }
    for (size_t i = 0; i < w->ncols; i++) {
        col_release(&w->cols[i]);
    }
    free(w->cols);
    for (size_t i = 0; i < w->nkv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].value);
    }
    free(w->kv);
    free(w->created_by);
    free(w->obuf);
    free(w->sel);
    for (size_t i = 0; i < w->nenc; i++) {
        pq_compressor_release(&w->enc[i].comp);
        buf_release(&w->enc[i].body);
        buf_release(&w->enc[i].cbody);
        buf_release(&w->enc[i].hdr);
    }
    free(w->enc);
    free(w->chunks);
    for (size_t i = 0; i < w->segs_cap; i++) {
        buf_release(&w->segs[i].out);
    }
    free(w->segs);
    buf_release(&w->meta);
    buf_release(&w->rowgroups);
    free(w);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Column names must be unique: sorted, so that a file of 100,000 columns takes milliseconds
 * rather than comparing every pair. */
static int unique_names(const struct pq_writer *w, struct err *e)
{
    const char **names = malloc(w->ncols * sizeof(*names));
    if (names == NULL) {
        return err_set(e, AE_NOMEM, "out of memory creating the Parquet writer");
    }
    for (size_t i = 0; i < w->ncols; i++) {
        names[i] = w->cols[i].name;
    }
    qsort(names, w->ncols, sizeof(*names), cmp_name);
    int rc = 0;
    for (size_t i = 1; i < w->ncols && rc == 0; i++) {
        if (strcmp(names[i - 1], names[i]) == 0) {
            rc = err_set(e, AE_CONFIG, "duplicate column name '%s'", names[i]);
        }
    }
    free(names);
    return rc;
}

int pq_writer_open(struct pq_writer **out, int fd, const struct column_desc *cols, size_t ncols,
                   const struct pq_options *o, struct err *e)
{
    int rc;
    *out = NULL;
    if (ncols == 0) {
        return err_set(e, AE_CONFIG, "a Parquet file needs at least one column");
    }
    struct pq_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return err_set(e, AE_NOMEM, "out of memory creating the Parquet writer");
    }
    w->fd = fd;
    pq_options_default(&w->o);
    if (o != NULL) {
        /* Zero limits fall back to the defaults so a partly filled struct stays safe. */
        w->o.codec = o->codec;
        w->o.level = o->level;
        w->o.page_bytes = o->page_bytes ? o->page_bytes : w->o.page_bytes;
        w->o.page_rows = o->page_rows ? o->page_rows : w->o.page_rows;
        w->o.rg_rows = o->rg_rows ? o->rg_rows : w->o.rg_rows;
        w->o.rg_bytes = o->rg_bytes ? o->rg_bytes : w->o.rg_bytes;
        w->o.dict_bytes = o->dict_bytes ? o->dict_bytes : w->o.dict_bytes;
        w->o.created_by = o->created_by;
        w->o.threads = o->threads;
    }
    /* MAX_THREADS keeps a bad value from exhausting the process. */
    w->o.threads = w->o.threads < 1 ? 1 : w->o.threads;
    w->o.threads = w->o.threads > MAX_THREADS ? MAX_THREADS : w->o.threads;

    if (w->o.page_rows > INT32_MAX) {
        w->o.page_rows = INT32_MAX;
    }
    w->created_by = strdup(w->o.created_by ? w->o.created_by
                                           : "astro version " ASTRO_VERSION " (build astro)");
    w->o.created_by = NULL;
    w->obuf = malloc(OUT_BUF_SIZE);
    w->cols = calloc(ncols, sizeof(*w->cols));
    if (w->created_by == NULL || w->obuf == NULL || w->cols == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory creating the Parquet writer");
        goto fail;
    }
    w->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        struct pq_col *c = &w->cols[i];
        if (cols[i].name == NULL || cols[i].name[0] == '\0') {
            rc = err_set(e, AE_CONFIG, "column %zu has an empty name", i + 1);
            goto fail;
        }
        c->name = strdup(cols[i].name);
        if (c->name == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory creating the Parquet writer");
            goto fail;
        }
        c->type = cols[i].type;
        c->nullable = cols[i].nullable;
        rc = col_map(c, e);
        if (rc != 0) {
            goto fail;
        }
        c->dict_on = c->dict_ok;
    }
    rc = unique_names(w, e);
    if (rc != 0) {
        goto fail;
    }
    /* A parallel flush keeps a plan and at least one segment per column: a very wide file is
     * flushed on fewer threads so that these stay under WIDE_PLAN_BYTES (100,000 columns: one
     * thread). */
    size_t most = WIDE_PLAN_BYTES / (ncols * (sizeof(struct pq_chunk) + sizeof(struct pq_seg)));
    if ((size_t)w->o.threads > most) {
        w->o.threads = most > 1 ? (int)most : 1;
    }
    size_t nenc = (size_t)w->o.threads;
    w->enc = calloc(nenc, sizeof(*w->enc));
    if (w->enc == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory creating the Parquet writer");
        goto fail;
    }
    w->nenc = nenc;
    for (size_t i = 0; i < w->nenc; i++) {
        rc = pq_compressor_init(&w->enc[i].comp, w->o.codec, w->o.level, e);
        if (rc != 0) {
            goto fail;
        }
    }
    if (w->nenc > 1) {
        w->chunks = calloc(ncols, sizeof(*w->chunks));
        if (w->chunks == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory creating the Parquet writer");
            goto fail;
        }
    }
    rc = out_write(w, "PAR1", 4, e);
    if (rc != 0) {
        goto fail;
    }
    *out = w;
    return 0;
fail:
    pq_writer_free(w);
    return rc;
}

void pq_writer_inject_fault(struct pq_writer *w, size_t col, int code)
{
    w->fault_col = code != 0 ? col + 1 : 0;
    w->fault_code = code;
}

uint64_t pq_writer_rows(const struct pq_writer *w)
{
    return w->rows_total;
}

int pq_writer_add_kv(struct pq_writer *w, const char *key, const char *value, struct err *e)
{
    if (w->closed) {
        return err_set(e, AE_INTERNAL, "pq_writer_add_kv after close");
    }
    for (size_t i = 0; i < w->nkv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            return err_set(e, AE_INTERNAL, "Parquet key-value metadata key '%s' is set twice", key);
        }
    }
    if (w->nkv == w->kv_cap) {
        size_t nc = w->kv_cap ? w->kv_cap * 2 : 8;
        struct pq_kv *n = realloc(w->kv, nc * sizeof(*n));
        if (n == NULL) {
            return err_set(e, AE_NOMEM, "out of memory adding Parquet metadata");
        }
        w->kv = n;
        w->kv_cap = nc;
    }
    char *k = strdup(key);
    char *v = strdup(value ? value : "");
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return err_set(e, AE_NOMEM, "out of memory adding Parquet metadata");
    }
    w->kv[w->nkv].key = k;
    w->kv[w->nkv].value = v;
    w->nkv++;
    return 0;
}

/* ---------------------------------------------------------------- buffering rows */

/* Turns the buffered dictionary indices of c back into PLAIN values and drops the dictionary
 * for the rest of the chunk. */
static int col_materialize(struct pq_col *c)
{
    const uint32_t *ix = (const uint32_t *)(void *)c->idx.data;
    const uint8_t *dd = (const uint8_t *)c->dict.data.data;
    buf_reset(&c->vals);
    if (c->ptype == PT_BYTE_ARRAY) {
        size_t total = 0;
        for (size_t i = 0; i < c->nvals; i++) {
            total += 4 + pq_get_u32le(dd + c->dict.offs[ix[i]]);
        }
        if (buf_reserve(&c->vals, total) != 0) {
            return AE_NOMEM;
        }
        uint8_t *p = (uint8_t *)c->vals.data;
        for (size_t i = 0; i < c->nvals; i++) {
            const uint8_t *q = dd + c->dict.offs[ix[i]];
            size_t n = 4 + pq_get_u32le(q);
            memcpy(p, q, n);
            p += n;
        }
        c->vals.len = total;
    } else {
        size_t wdt = (size_t)c->width;
        if (buf_reserve(&c->vals, c->nvals * wdt) != 0) {
            return AE_NOMEM;
        }
        uint8_t *p = (uint8_t *)c->vals.data;
        for (size_t i = 0; i < c->nvals; i++) {
            memcpy(p + i * wdt, dd + (size_t)ix[i] * wdt, wdt);
        }
        c->vals.len = c->nvals * wdt;
    }
    c->vals.data[c->vals.len] = '\0';
    buf_release(&c->idx);
    dict_release(&c->dict);
    c->dict_on = false;
    return 0;
}

/* The value bits of row i of a fixed-width INT32/INT64 column. */
static inline uint64_t int_bits(const struct pq_col *c, const struct column *src, size_t i)
{
    if (c->type.id == DT_DECIMAL) {
        return (uint64_t)(int64_t)src->v.i128[i];
    }
    return (uint64_t)src->v.i64[i];
}

/* Appends the n selected rows sel[] of src to column c. */
static int col_append(struct pq_col *c, const struct column *src, const uint32_t *sel, size_t n)
{
    size_t nv = n;
    if (c->nullable) {
        if (buf_reserve(&c->levels, n) != 0) {
            return AE_NOMEM;
        }
        uint8_t *lv = (uint8_t *)c->levels.data + c->levels.len;
        nv = 0;
        for (size_t k = 0; k < n; k++) {
            uint8_t v = src->valid[sel[k]] != 0;
            lv[k] = v;
            nv += v;
        }
        c->levels.len += n;
    }
    c->nrows += n;
    if (nv == 0) {
        return 0;
    }
    const uint8_t *valid = src->valid;
    if (c->dict_on) {
        if (buf_reserve(&c->idx, nv * 4) != 0) {
            return AE_NOMEM;
        }
        uint32_t *ix = (uint32_t *)(void *)(c->idx.data + c->idx.len);
        size_t m = 0;
        int rc = 0;
        if (c->ptype == PT_BYTE_ARRAY) {
            const uint8_t *data = (const uint8_t *)src->data.data;
            for (size_t k = 0; k < n && rc == 0; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    rc = dict_bytes(&c->dict, data + src->offs[i], src->offs[i + 1] - src->offs[i],
                                    &ix[m++]);
                }
            }
        } else {
            uint64_t mask = c->width == 4 ? 0xffffffffull : ~0ull;
            for (size_t k = 0; k < n && rc == 0; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    rc = dict_fixed(&c->dict, int_bits(c, src, i) & mask, c->width, &ix[m++]);
                }
            }
        }
        if (rc != 0) {
            return rc;
        }
        c->idx.len += nv * 4;
        c->nvals += nv;
        return 0;
    }
    if (c->ptype == PT_BYTE_ARRAY) {
        size_t bytes = 0;
        for (size_t k = 0; k < n; k++) {
            size_t i = sel[k];
            if (valid[i]) {
                bytes += 4 + (size_t)(src->offs[i + 1] - src->offs[i]);
            }
        }
        if (buf_reserve(&c->vals, bytes) != 0) {
            return AE_NOMEM;
        }
        uint8_t *p = (uint8_t *)c->vals.data + c->vals.len;
        const char *data = src->data.data;
        for (size_t k = 0; k < n; k++) {
            size_t i = sel[k];
            if (valid[i]) {
                uint32_t len = src->offs[i + 1] - src->offs[i];
                pq_put_u32le(p, len);
                memcpy(p + 4, data + src->offs[i], len);
                p += 4 + len;
            }
        }
        c->vals.len += bytes;
    } else {
        if (buf_reserve(&c->vals, nv * (size_t)c->width) != 0) {
            return AE_NOMEM;
        }
        uint8_t *p = (uint8_t *)c->vals.data + c->vals.len;
        switch (c->ptype) {
        case PT_BOOLEAN:
            for (size_t k = 0; k < n; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    *p++ = src->v.u8[i] != 0;
                }
            }
            break;
        case PT_INT32:
            for (size_t k = 0; k < n; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    pq_put_u32le(p, (uint32_t)int_bits(c, src, i));
                    p += 4;
                }
            }
            break;
        case PT_INT64:
            for (size_t k = 0; k < n; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    pq_put_u64le(p, int_bits(c, src, i));
                    p += 8;
                }
            }
            break;
        case PT_FLOAT:
            for (size_t k = 0; k < n; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    float f = (float)src->v.f64[i];
                    uint32_t u;
                    memcpy(&u, &f, 4);
                    pq_put_u32le(p, u);
                    p += 4;
                }
            }
            break;
        case PT_DOUBLE:
            for (size_t k = 0; k < n; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    uint64_t u;
                    memcpy(&u, &src->v.f64[i], 8);
                    pq_put_u64le(p, u);
                    p += 8;
                }
            }
            break;
        case PT_FLBA:
            for (size_t k = 0; k < n; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    pq_put_i128be(p, src->v.i128[i], c->width);
                    p += c->width;
                }
            }
            break;
        default:
            return AE_INTERNAL;
        }
        c->vals.len += nv * (size_t)c->width;
    }
    c->vals.data[c->vals.len] = '\0';
    c->nvals += nv;
    return 0;
}

/* ---------------------------------------------------------------- statistics */

static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    /* Most pairs differ in their first 8 bytes: compare those as one big-endian word (the same
     * unsigned lexicographic order as memcmp) before calling memcmp. */
    if (al >= 8 && bl >= 8) {
        uint64_t x = __builtin_bswap64(pq_get_u64le(a)), y = __builtin_bswap64(pq_get_u64le(b));
        if (x != y) {
            return x < y ? -1 : 1;
        }
    }
    int r = memcmp(a, b, al < bl ? al : bl);
    if (r != 0) {
        return r;
    }
    return (al > bl) - (al < bl);
}

/* Big-endian two's complement comparison of two n-byte decimals: sign byte signed, rest unsigned. */
static int flba_dec_cmp(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (a[0] != b[0]) {
        return (int8_t)a[0] < (int8_t)b[0] ? -1 : 1;
    }
    return memcmp(a + 1, b + 1, n - 1);
}

/* Min/max over the distinct values when the chunk is dictionary encoded (the dictionary holds
 * exactly the chunk's values), else over all values; orders per parquet.thrift ColumnOrder. */
static void stats_compute(const struct pq_col *c, struct chunk_meta *cm)
{
    const uint8_t *p = (const uint8_t *)(c->dict_on ? c->dict.data.data : c->vals.data);
    size_t n = c->dict_on ? c->dict.count : c->nvals;
    cm->null_count = (int64_t)(c->nrows - c->nvals);
    cm->has_minmax = false;
    cm->deprecated = false;
    cm->has_nan_count = false;
    cm->nan_count = 0;
    if (c->ptype == PT_FLOAT || c->ptype == PT_DOUBLE) {
        cm->has_nan_count = true;
    }
    if (n == 0) {
        return;
    }
    switch (c->ptype) {
    case PT_BOOLEAN: {
        bool any0 = false, any1 = false;
        for (size_t i = 0; i < n; i++) {
            any0 |= p[i] == 0;
            any1 |= p[i] != 0;
        }
        cm->minb[0] = any0 ? 0 : 1;
        cm->maxb[0] = any1 ? 1 : 0;
        cm->minlen = cm->maxlen = 1;
        break;
    }
    case PT_INT32:
        if (c->is_unsigned) {
            uint32_t mn = UINT32_MAX, mx = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t v = pq_get_u32le(p + 4 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u32le(cm->minb, mn);
            pq_put_u32le(cm->maxb, mx);
        } else {
            int32_t mn = INT32_MAX, mx = INT32_MIN;
            for (size_t i = 0; i < n; i++) {
                int32_t v = (int32_t)pq_get_u32le(p + 4 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u32le(cm->minb, (uint32_t)mn);
            pq_put_u32le(cm->maxb, (uint32_t)mx);
            cm->deprecated = true;
        }
        cm->minlen = cm->maxlen = 4;
        break;
    case PT_INT64:
        if (c->is_unsigned) {
            uint64_t mn = UINT64_MAX, mx = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t v = pq_get_u64le(p + 8 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u64le(cm->minb, mn);
            pq_put_u64le(cm->maxb, mx);
        } else {
            int64_t mn = INT64_MAX, mx = INT64_MIN;
            for (size_t i = 0; i < n; i++) {
                int64_t v = (int64_t)pq_get_u64le(p + 8 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u64le(cm->minb, (uint64_t)mn);
            pq_put_u64le(cm->maxb, (uint64_t)mx);
            cm->deprecated = true;
        }
        cm->minlen = cm->maxlen = 8;
        break;
    case PT_FLOAT:
    case PT_DOUBLE: {
        /* parquet.thrift ColumnOrder: NaN is left out of min/max (and counted in nan_count);
         * a zero min is written as -0.0 and a zero max as +0.0. */
        bool any = false;
        double mn = 0, mx = 0;
        for (size_t i = 0; i < n; i++) {
            double v;
            if (c->ptype == PT_FLOAT) {
                uint32_t u = pq_get_u32le(p + 4 * i);
                float f;
                memcpy(&f, &u, 4);
                v = f;
            } else {
                uint64_t u = pq_get_u64le(p + 8 * i);
                memcpy(&v, &u, 8);
            }
            if (v != v) {
                cm->nan_count++;
                continue;
            }
            if (!any) {
                mn = mx = v;
                any = true;
            } else {
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
        }
        if (!any) {
            return;
        }
        if (mn == 0) {
            mn = -0.0;
        }
        if (mx == 0) {
            mx = 0.0;
        }
        if (c->ptype == PT_FLOAT) {
            float fmn = (float)mn, fmx = (float)mx;
            uint32_t u;
            memcpy(&u, &fmn, 4);
            pq_put_u32le(cm->minb, u);
            memcpy(&u, &fmx, 4);
            pq_put_u32le(cm->maxb, u);
            cm->minlen = cm->maxlen = 4;
        } else {
            uint64_t u;
            memcpy(&u, &mn, 8);
            pq_put_u64le(cm->minb, u);
            memcpy(&u, &mx, 8);
            pq_put_u64le(cm->maxb, u);
            cm->minlen = cm->maxlen = 8;
        }
        cm->deprecated = true;
        break;
    }
    case PT_BYTE_ARRAY: {
        const uint8_t *q = p;
        const uint8_t *mnp = NULL, *mxp = NULL;
        size_t mnl = 0, mxl = 0;
        for (size_t i = 0; i < n; i++) {
            size_t l = pq_get_u32le(q);
            const uint8_t *s = q + 4;
            if (mnp == NULL || bytes_cmp(s, l, mnp, mnl) < 0) {
                mnp = s, mnl = l;
            }
            if (mxp == NULL || bytes_cmp(s, l, mxp, mxl) > 0) {
                mxp = s, mxl = l;
            }
            q = s + l;
        }
        /* Long values get no min/max rather than a truncation that could break UTF-8. */
        if (mnl > STAT_MAX_BYTES || mxl > STAT_MAX_BYTES) {
            return;
        }
        cm->minp = mnp, cm->minlen = mnl;
        cm->maxp = mxp, cm->maxlen = mxl;
        cm->has_minmax = true;
        return;
    }
    case PT_FLBA: {
        size_t wdt = (size_t)c->width;
        const uint8_t *mnp = p, *mxp = p;
        for (size_t i = 1; i < n; i++) {
            const uint8_t *v = p + i * wdt;
            if (flba_dec_cmp(v, mnp, wdt) < 0) {
                mnp = v;
            }
            if (flba_dec_cmp(v, mxp, wdt) > 0) {
                mxp = v;
            }
        }
        cm->minp = mnp, cm->maxp = mxp;
        cm->minlen = cm->maxlen = wdt;
        cm->has_minmax = true;
        return;
    }
    default:
        return;
    }
    cm->minp = cm->minb;
    cm->maxp = cm->maxb;
    cm->has_minmax = true;
}

/* ---------------------------------------------------------------- pages and chunks */

/* Where a chunk's pages go: straight to the file (out == NULL: the serial path) or into the
 * buffer of a worker of a parallel flush. len counts the chunk's bytes so far; the offsets in
 * chunk_meta are taken from it, relative to the chunk's first byte. */
struct chunk_sink {
    struct pq_writer *w; /* used, by out_write, only when out == NULL */
    struct buf *out;
    uint64_t len;
};

static int sink_write(struct chunk_sink *k, const void *p, size_t n, struct err *e)
{
    if (k->out == NULL) {
        int rc = out_write(k->w, p, n, e);
        if (rc != 0) {
            return rc;
        }
    } else if (buf_append(k->out, p, n) != 0) {
        return err_set(e, AE_NOMEM, "out of memory buffering a column chunk");
    }
    k->len += n;
    return 0;
}

/* Compresses body, writes PageHeader + payload, and adds both to the chunk's sizes. */
static int write_page(const struct pq_options *o, struct pq_enc *x, struct chunk_sink *k,
                      struct chunk_meta *cm, int type, const void *body, size_t n,
                      size_t nvalues, int enc, struct err *e)
{
    const void *payload = body;
    size_t plen = n;
    int rc;
    if (o->codec != PQ_CODEC_NONE) {
        rc = pq_compress(&x->comp, body, n, &x->cbody, e);
        if (rc != 0) {
            return rc;
        }
        payload = x->cbody.data;
        plen = x->cbody.len;
    }
    if (n > INT32_MAX || plen > INT32_MAX || nvalues > INT32_MAX) {
        return err_set(e, AE_DATA, "a Parquet page would exceed 2 GiB (a single value too large?)");
    }
    buf_reset(&x->hdr);
    struct tc t;
    tc_init(&t, &x->hdr);
    tc_field_i32(&t, 1, type);
    tc_field_i32(&t, 2, (int32_t)n);
    tc_field_i32(&t, 3, (int32_t)plen);
    if (type == PAGE_DATA) {
        tc_field_struct(&t, 5);
        tc_field_i32(&t, 1, (int32_t)nvalues);
        tc_field_i32(&t, 2, enc);
        tc_field_i32(&t, 3, ENC_RLE);
        tc_field_i32(&t, 4, ENC_RLE);
        tc_struct_end(&t);
    } else {
        tc_field_struct(&t, 7);
        tc_field_i32(&t, 1, (int32_t)nvalues);
        tc_field_i32(&t, 2, enc);
        tc_field_bool(&t, 3, false);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    if (tc_error(&t) != 0) {
        return err_set(e, AE_NOMEM, "out of memory writing a page header");
    }
    rc = sink_write(k, x->hdr.data, x->hdr.len, e);
    if (rc == 0) {
        rc = sink_write(k, payload, plen, e);
    }
    cm->unc += x->hdr.len + n;
    cm->comp += x->hdr.len + plen;
    return rc;
}

static size_t count_present(const uint8_t *lv, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += lv[i];
    }
    return k;
}

/* First half of a chunk flush: the chunk-end dictionary decision, the statistics (into cm, which
 * it zeroes) and the cut of the chunk into data pages (c->pages). Touches only c. */
static int chunk_plan(const struct pq_options *o, struct pq_col *c, struct chunk_meta *cm,
                      struct err *e)
{
    memset(cm, 0, sizeof(*cm));
    /* Chunk-end dictionary decision (PARQUET.md §1.7): more than 3/4 distinct goes PLAIN. */
    if (c->dict_on && (c->nvals == 0 || c->dict.count * 4 > c->nvals * 3)) {
        if (col_materialize(c) != 0) {
            return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
        }
    }
    stats_compute(c, cm);
    c->bw = 0;
    if (c->dict_on) {
        cm->has_dict = true;
        c->bw = pq_bit_width(c->dict.count - 1);
        c->bw = c->bw < 1 ? 1 : c->bw; /* width 0 trips some readers: PARQUET.md §1.5 */
    }
    cm->data_enc = c->dict_on ? ENC_PLAIN_DICTIONARY : ENC_PLAIN;

    size_t cap_rows;
    if (c->dict_on) {
        cap_rows = o->page_bytes * 8 / (size_t)c->bw;
    } else if (c->ptype == PT_BOOLEAN) {
        cap_rows = o->page_bytes * 8;
    } else if (c->ptype == PT_BYTE_ARRAY) {
        cap_rows = SIZE_MAX;
    } else {
        cap_rows = o->page_bytes / (size_t)c->width;
    }
    cap_rows = cap_rows < 1 ? 1 : cap_rows;
    const uint8_t *lv = (const uint8_t *)c->levels.data;
    const uint8_t *vals = (const uint8_t *)c->vals.data;
    size_t r0 = 0, v0 = 0, voff = 0;
    c->npages = 0;
    while (r0 < c->nrows) {
        size_t limit = c->nrows - r0;
        limit = limit < o->page_rows ? limit : o->page_rows;
        limit = limit < cap_rows ? limit : cap_rows;
        size_t r1, nv, vbytes = 0;
        if (c->ptype == PT_BYTE_ARRAY && !c->dict_on) {
            /* Walk the PLAIN values to cut the page near page_bytes (one value at least). */
            size_t r = r0;
            nv = 0;
            while (r - r0 < limit) {
                if (!c->nullable || lv[r]) {
                    size_t sz = 4 + (size_t)pq_get_u32le(vals + voff + vbytes);
                    if (vbytes > 0 && vbytes + sz > o->page_bytes) {
                        break;
                    }
                    vbytes += sz;
                    nv++;
                }
                r++;
            }
            r1 = r;
        } else {
            r1 = r0 + limit;
            nv = c->nullable ? count_present(lv + r0, r1 - r0) : r1 - r0;
            vbytes = c->dict_on ? 0 : nv * (size_t)c->width;
        }
        if (c->npages == c->pages_cap) {
            /* Most chunks have a page or two; 64 pages per column came to 300 MB for a file of
             * 100,000 columns. */
            size_t nc = c->pages_cap ? c->pages_cap * 2 : 2;
            struct pq_page *np = realloc(c->pages, nc * sizeof(*np));
            if (np == NULL) {
                return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
            }
            c->pages = np;
            c->pages_cap = nc;
        }
        struct pq_page *pg = &c->pages[c->npages++];
        pg->r0 = r0, pg->r1 = r1, pg->v0 = v0, pg->nv = nv, pg->voff = voff, pg->vbytes = vbytes;
        r0 = r1;
        v0 += nv;
        voff += c->ptype == PT_BOOLEAN ? 0 : vbytes;
    }
    return 0;
}

/* Second half: encodes the planned data pages [p0, p1) of c, preceded when p0 == 0 by the
 * dictionary page, into k; adds their sizes and count to cm, and when p0 == 0 sets cm's
 * dict_off and data_off (relative to k's start). Reads c without changing it, so ranges of one
 * chunk may be encoded on different threads at once. fault is the pq_writer_inject_fault code
 * for this column, or 0. */
static int encode_pages(const struct pq_options *o, struct pq_enc *x, struct chunk_sink *k,
                        const struct pq_col *c, struct chunk_meta *cm, size_t p0, size_t p1,
                        int fault, struct err *e)
{
    int rc;
    if (p0 == 0) {
        if (c->dict_on) {
            cm->dict_off = k->len;
            rc = write_page(o, x, k, cm, PAGE_DICTIONARY, c->dict.data.data, c->dict.data.len,
                            c->dict.count, ENC_PLAIN_DICTIONARY, e);
            if (rc != 0) {
                return rc;
            }
        }
        if (fault != 0) {
            return err_set(e, fault, "injected fault");
        }
        cm->data_off = k->len;
    }
    const uint8_t *lv = (const uint8_t *)c->levels.data;
    const uint8_t *vals = (const uint8_t *)c->vals.data;
    for (size_t p = p0; p < p1; p++) {
        const struct pq_page *pg = &c->pages[p];
        if (!c->nullable && !c->dict_on && c->ptype != PT_BOOLEAN) {
            /* No levels, PLAIN values: the page body is the buffered bytes as they are. */
            rc = write_page(o, x, k, cm, PAGE_DATA, vals + pg->voff, pg->vbytes,
                            pg->r1 - pg->r0, ENC_PLAIN, e);
            if (rc != 0) {
                return rc;
            }
            cm->ndata_pages++;
            continue;
        }
        buf_reset(&x->body);
        if (c->nullable) {
            /* V1 definition levels: u32 LE byte length, then the hybrid runs (Encodings.md). */
            if (buf_append(&x->body, "\0\0\0\0", 4) != 0 ||
                pq_rle_encode_levels(&x->body, lv + pg->r0, pg->r1 - pg->r0) != 0) {
                return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
            }
            pq_put_u32le((uint8_t *)x->body.data, (uint32_t)(x->body.len - 4));
        }
        int mrc;
        if (c->dict_on) {
            char b = (char)c->bw;
            const uint32_t *ix = (const uint32_t *)(const void *)c->idx.data;
            mrc = buf_append(&x->body, &b, 1);
            if (mrc == 0 && pg->nv > 0) {
                mrc = pq_rle_encode_u32(&x->body, ix + pg->v0, pg->nv, c->bw);
            }
        } else if (c->ptype == PT_BOOLEAN) {
            mrc = pq_plain_bool(&x->body, vals + pg->v0, pg->nv);
        } else {
            mrc = buf_append(&x->body, vals + pg->voff, pg->vbytes);
        }
        if (mrc != 0) {
            return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
        }
        rc = write_page(o, x, k, cm, PAGE_DATA, x->body.data, x->body.len, pg->r1 - pg->r0,
                        c->dict_on ? ENC_PLAIN_DICTIONARY : ENC_PLAIN, e);
        if (rc != 0) {
            return rc;
        }
        cm->ndata_pages++;
    }
    return 0;
}

static void col_reset(struct pq_col *c)
{
    buf_reset(&c->levels);
    buf_reset(&c->vals);
    buf_reset(&c->idx);
    dict_reset(&c->dict);
    /* dict_on still says how the chunk just flushed was written. */
    c->plain_groups = c->dict_ok && !c->dict_on ? c->plain_groups + 1 : 0;
    c->dict_on = c->dict_ok && c->plain_groups % DICT_RETRY_GROUPS == 0;
    c->ratio_checked = false;
    c->nrows = 0;
    c->nvals = 0;
}

/* ColumnChunk { 2: file_offset = 0, 3: ColumnMetaData } as one list element. */
static void chunk_thrift(struct tc *t, const struct pq_writer *w, const struct pq_col *c,
                         const struct chunk_meta *cm, size_t nrows)
{
    tc_elem_struct(t);
    tc_field_i64(t, 2, 0); /* PARQUET-2090: write 0, never an offset past the chunk */
    tc_field_struct(t, 3);
    tc_field_i32(t, 1, c->ptype);
    tc_field_list(t, 2, TC_I32, 2);
    tc_elem_i32(t, cm->has_dict ? ENC_PLAIN_DICTIONARY : ENC_PLAIN);
    tc_elem_i32(t, ENC_RLE);
    tc_field_list(t, 3, TC_BINARY, 1);
    tc_elem_str(t, c->name);
    tc_field_i32(t, 4, (int32_t)w->o.codec);
    tc_field_i64(t, 5, (int64_t)nrows);
    tc_field_i64(t, 6, (int64_t)cm->unc);
    tc_field_i64(t, 7, (int64_t)cm->comp);
    tc_field_i64(t, 9, (int64_t)cm->data_off);
    if (cm->has_dict) {
        tc_field_i64(t, 11, (int64_t)cm->dict_off);
    }
    tc_field_struct(t, 12);
    if (cm->has_minmax && cm->deprecated) {
        tc_field_bin(t, 1, cm->maxp, cm->maxlen);
        tc_field_bin(t, 2, cm->minp, cm->minlen);
    }
    tc_field_i64(t, 3, cm->null_count);
    if (cm->has_minmax) {
        tc_field_bin(t, 5, cm->maxp, cm->maxlen);
        tc_field_bin(t, 6, cm->minp, cm->minlen);
    }
    if (cm->has_nan_count) {
        tc_field_i64(t, 9, cm->nan_count);
    }
    tc_struct_end(t);
    tc_field_list(t, 13, TC_STRUCT, cm->has_dict ? 2 : 1);
    if (cm->has_dict) {
        tc_elem_struct(t);
        tc_field_i32(t, 1, PAGE_DICTIONARY);
        tc_field_i32(t, 2, ENC_PLAIN_DICTIONARY);
        tc_field_i32(t, 3, 1);
        tc_struct_end(t);
    }
    tc_elem_struct(t);
    tc_field_i32(t, 1, PAGE_DATA);
    tc_field_i32(t, 2, cm->data_enc);
    tc_field_i32(t, 3, cm->ndata_pages);
    tc_struct_end(t);
    tc_struct_end(t); /* ColumnMetaData */
    tc_struct_end(t); /* ColumnChunk */
}

/* A parallel flush runs in two rounds of tasks: chunk_plan for every column, then
 * encode_pages for every segment (a run of consecutive pages of one chunk, cut to about a
 * quarter of an even share per thread, so one large column, say e-mail addresses, is spread
 * over all threads instead of holding the flush back). In each round every worker takes the
 * next task not yet taken until none is left. */
typedef int (*pq_task_fn)(struct pq_writer *w, struct pq_enc *x, size_t i);

struct pq_job {
    struct pq_writer *w;
    pq_task_fn fn;
    size_t ntasks;
    atomic_size_t next;
    atomic_bool stop; /* a task failed: the rest need not run */
};

struct pq_worker {
    struct pq_job *job;
    struct pq_enc *x;
    pthread_t tid;
};

static void job_work(struct pq_job *j, struct pq_enc *x)
{
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->ntasks || atomic_load(&j->stop)) {
            return;
        }
        if (j->fn(j->w, x, i) != 0) {
            atomic_store(&j->stop, true);
        }
    }
}

static void *job_thread(void *arg)
{
    struct pq_worker *r = arg;
    job_work(r->job, r->x);
    return NULL;
}

/* Runs tasks 0..ntasks-1 of fn on up to nenc threads, this one included, and joins them all
 * before returning: no thread outlives the call, whatever failed. */
static void job_run(struct pq_writer *w, pq_task_fn fn, size_t ntasks)
{
    struct pq_job job;
    job.w = w;
    job.fn = fn;
    job.ntasks = ntasks;
    atomic_init(&job.next, 0);
    atomic_init(&job.stop, false);
    struct pq_worker workers[MAX_THREADS];
    size_t started = 0;
    for (size_t t = 1; t < w->nenc && t < ntasks; t++) {
        struct pq_worker *r = &workers[started];
        r->job = &job;
        r->x = &w->enc[t];
        /* A thread that cannot be created is not an error: the others take its tasks. */
        if (pthread_create(&r->tid, NULL, job_thread, r) == 0) {
            started++;
        }
    }
    job_work(&job, &w->enc[0]);
    for (size_t t = 0; t < started; t++) {
        pthread_join(workers[t].tid, NULL);
    }
}

static int plan_task(struct pq_writer *w, struct pq_enc *x, size_t i)
{
    (void)x;
    struct pq_chunk *ch = &w->chunks[i];
    ch->rc = chunk_plan(&w->o, &w->cols[i], &ch->cm, &ch->e);
    return ch->rc;
}

static int seg_task(struct pq_writer *w, struct pq_enc *x, size_t i)
{
    struct pq_seg *sg = &w->segs[i];
    struct chunk_sink k = {NULL, &sg->out, 0};
    int fault = sg->p0 == 0 && w->fault_col == sg->col + 1 ? w->fault_code : 0;
    sg->rc = encode_pages(&w->o, x, &k, &w->cols[sg->col], &sg->cm, sg->p0, sg->p1, fault,
                          &sg->e);
    return sg->rc;
}

/* The work of encoding a page, in input bytes (a rough measure used only to cut segments). */
static uint64_t page_weight(const struct pq_col *c, const struct pq_page *pg)
{
    uint64_t n = pg->r1 - pg->r0;
    return n + (c->dict_on ? 4 * (uint64_t)pg->nv : pg->vbytes + pg->nv);
}

static int seg_add(struct pq_writer *w, size_t col, size_t p0, size_t p1, struct err *e)
{
    if (w->nsegs == w->segs_cap) {
        size_t nc = w->segs_cap ? w->segs_cap * 2 : 64;
        struct pq_seg *ns = realloc(w->segs, nc * sizeof(*ns));
        if (ns == NULL) {
            return err_set(e, AE_NOMEM, "out of memory flushing a row group");
        }
        memset(ns + w->segs_cap, 0, (nc - w->segs_cap) * sizeof(*ns));
        w->segs = ns;
        w->segs_cap = nc;
    }
    struct pq_seg *sg = &w->segs[w->nsegs++];
    sg->col = col, sg->p0 = p0, sg->p1 = p1;
    buf_reset(&sg->out);
    memset(&sg->cm, 0, sizeof(sg->cm));
    sg->rc = 1;
    err_clear(&sg->e);
    return 0;
}

/* Cuts every planned chunk into segments, in column and page order. */
static int segs_build(struct pq_writer *w, struct err *e)
{
    uint64_t total = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct pq_col *c = &w->cols[i];
        total += c->dict_on ? c->dict.data.len : 0;
        for (size_t p = 0; p < c->npages; p++) {
            total += page_weight(c, &c->pages[p]);
        }
    }
    uint64_t target = total / (4 * (uint64_t)w->nenc);
    target = target < (256u << 10) ? (256u << 10) : target;
    w->nsegs = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct pq_col *c = &w->cols[i];
        uint64_t acc = c->dict_on ? c->dict.data.len : 0;
        size_t p0 = 0;
        for (size_t p = 0; p < c->npages; p++) {
            acc += page_weight(c, &c->pages[p]);
            if (acc >= target || p + 1 == c->npages) {
                int rc = seg_add(w, i, p0, p + 1, e);
                if (rc != 0) {
                    return rc;
                }
                p0 = p + 1;
                acc = 0;
            }
        }
    }
    return 0;
}

/* Plans and encodes every chunk of the row group into w->segs on up to nenc threads. Returns
 * the failure of the first column (in column order) that failed, with its name. */
static int encode_parallel(struct pq_writer *w, struct err *e)
{
    for (size_t i = 0; i < w->ncols; i++) {
        w->chunks[i].rc = 1;
        err_clear(&w->chunks[i].e);
    }
    job_run(w, plan_task, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        struct pq_chunk *ch = &w->chunks[i];
        if (ch->rc < 0) {
            if (e != NULL) {
                *e = ch->e;
            }
            err_prefix(e, "writing column '%s'", w->cols[i].name);
            return ch->rc;
        }
        if (ch->rc != 0) {
            return err_set(e, AE_INTERNAL, "column '%s' was not planned", w->cols[i].name);
        }
    }
    int rc = segs_build(w, e);
    if (rc != 0) {
        return rc;
    }
    job_run(w, seg_task, w->nsegs);
    for (size_t s = 0; s < w->nsegs; s++) {
        struct pq_seg *sg = &w->segs[s];
        if (sg->rc < 0) {
            if (e != NULL) {
                *e = sg->e;
            }
            err_prefix(e, "writing column '%s'", w->cols[sg->col].name);
            return sg->rc;
        }
    }
    for (size_t s = 0; s < w->nsegs; s++) {
        if (w->segs[s].rc != 0) {
            return err_set(e, AE_INTERNAL, "column '%s' was not encoded",
                           w->cols[w->segs[s].col].name);
        }
    }
    return 0;
}

/* After a parallel flush: the segment buffers keep their memory for the next row group unless
 * they hold much more than this one needed (a smaller last group, a shift between columns), so
 * what stays allocated is bounded by about twice one row group's encoded chunks. */
static void segs_trim(struct pq_writer *w)
{
    size_t len = 0, cap = 0;
    for (size_t i = 0; i < w->segs_cap; i++) {
        len += w->segs[i].out.len;
        cap += w->segs[i].out.cap;
    }
    for (size_t i = 0; i < w->segs_cap; i++) {
        if (cap > 2 * len + (1u << 20)) {
            buf_release(&w->segs[i].out);
        } else {
            buf_reset(&w->segs[i].out);
        }
    }
}

static int flush_rowgroup(struct pq_writer *w, struct err *e)
{
    int rc;
    size_t nrows = w->rg_rows;
    uint64_t start = w->pos, unc = 0, comp = 0;
    bool parallel = w->nenc > 1;
    if (parallel) {
        rc = encode_parallel(w, e);
        if (rc != 0) {
            return rc;
        }
    }
    buf_reset(&w->meta);
    struct tc t;
    tc_init(&t, &w->meta);
    size_t s = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        struct pq_col *c = &w->cols[i];
        struct chunk_meta cm;
        uint64_t base = w->pos;
        if (parallel) {
            /* The chunk's segments, in page order, and their sizes and counts. */
            cm = w->chunks[i].cm;
            rc = 0;
            for (; rc == 0 && s < w->nsegs && w->segs[s].col == i; s++) {
                const struct pq_seg *sg = &w->segs[s];
                if (sg->p0 == 0) {
                    cm.dict_off = sg->cm.dict_off;
                    cm.data_off = sg->cm.data_off;
                }
                cm.unc += sg->cm.unc;
                cm.comp += sg->cm.comp;
                cm.ndata_pages += sg->cm.ndata_pages;
                rc = out_write(w, sg->out.data, sg->out.len, e);
            }
        } else {
            /* Serial: the pages stream to the file as they are encoded; no chunk is held. */
            struct chunk_sink k = {w, NULL, 0};
            int fault = w->fault_col == i + 1 ? w->fault_code : 0;
            rc = chunk_plan(&w->o, c, &cm, e);
            if (rc == 0) {
                rc = encode_pages(&w->o, &w->enc[0], &k, c, &cm, 0, c->npages, fault, e);
            }
        }
        if (rc != 0) {
            err_prefix(e, "writing column '%s'", c->name);
            return rc;
        }
        /* The chunk's offsets were counted from its first byte; now it has a place in the file. */
        cm.start += base;
        cm.data_off += base;
        cm.dict_off += cm.has_dict ? base : 0;
        unc += cm.unc;
        comp += cm.comp;
        chunk_thrift(&t, w, c, &cm, nrows);
        col_reset(c);
    }
    if (parallel) {
        segs_trim(w);
    }
    struct tc r;
    tc_init(&r, &w->rowgroups);
    tc_field_list(&r, 1, TC_STRUCT, w->ncols);
    tc_raw(&r, w->meta.data, w->meta.len);
    tc_field_i64(&r, 2, (int64_t)unc);
    tc_field_i64(&r, 3, (int64_t)nrows);
    tc_field_i64(&r, 5, (int64_t)start); /* the group's first page (PARQUET-2078) */
    tc_field_i64(&r, 6, (int64_t)comp);
    tc_struct_end(&r);
    if (tc_error(&t) != 0 || tc_error(&r) != 0) {
        return err_set(e, AE_NOMEM, "out of memory writing row group metadata");
    }
    w->nrowgroups++;
    w->rg_rows = 0;
    return 0;
}

static size_t rg_buffered(const struct pq_writer *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct pq_col *c = &w->cols[i];
        n += c->levels.len + c->vals.len + c->idx.len + c->dict.data.len +
             c->dict.cap * sizeof(uint64_t) + c->dict.count * sizeof(uint64_t);
    }
    return n;
}

/* ---------------------------------------------------------------- write / close */

static int check_batch(struct pq_writer *w, const struct batch *b, size_t nsel, struct err *e)
{
    if (b->ncols != w->ncols) {
        return err_set(e, AE_INTERNAL, "batch has %zu columns, the Parquet file %zu", b->ncols,
                       w->ncols);
    }
    for (size_t c = 0; c < w->ncols; c++) {
        const struct pq_col *pc = &w->cols[c];
        const struct column *bc = &b->cols[c];
        if (bc->type.id != pc->type.id ||
            (pc->type.id == DT_DECIMAL && (bc->type.precision != pc->type.precision ||
                                           bc->type.scale != pc->type.scale))) {
            return err_set(e, AE_INTERNAL, "column '%s': batch type differs from the file's",
                           pc->name);
        }
        for (size_t k = 0; k < nsel && !pc->nullable; k++) {
            size_t i = w->sel[k];
            if (!bc->valid[i]) {
                return err_set(e, AE_INTERNAL,
                               "line %llu: column '%s' is REQUIRED in Parquet but holds a null",
                               (unsigned long long)b->line[i], pc->name);
            }
        }
        if (pc->type.id == DT_DATE) {
            for (size_t k = 0; k < nsel; k++) {
                size_t i = w->sel[k];
                if (bc->valid[i] && (bc->v.i64[i] < INT32_MIN || bc->v.i64[i] > INT32_MAX)) {
                    return err_set(e, AE_INTERNAL, "line %llu: column '%s': date out of range",
                                   (unsigned long long)b->line[i], pc->name);
                }
            }
        }
    }
    return 0;
}

/* After each slice: enforce the dictionary limits of PARQUET.md §1.7. */
static int dict_limits(struct pq_writer *w, struct pq_col *c)
{
    if (!c->dict_on) {
        return 0;
    }
    bool drop = c->dict.data.len > w->o.dict_bytes;
    if (!drop && !c->ratio_checked && c->nvals >= DICT_RATIO_CHECK_AT) {
        c->ratio_checked = true;
        drop = c->dict.count * 4 > c->nvals * 3;
    }
    return drop ? col_materialize(c) : 0;
}

int pq_writer_write(struct pq_writer *w, const struct batch *b, struct err *e)
{
    int rc;
    if (w->failed) {
        return err_set(e, w->failed, "the Parquet writer failed earlier");
    }
    if (w->closed) {
        return err_set(e, AE_INTERNAL, "pq_writer_write after close");
    }
    if (b->nrows > w->sel_cap) {
        uint32_t *ns = realloc(w->sel, b->nrows * sizeof(*ns));
        if (ns == NULL) {
            return err_set(e, AE_NOMEM, "out of memory writing Parquet rows");
        }
        w->sel = ns;
        w->sel_cap = b->nrows;
    }
    size_t nsel = 0;
    for (size_t i = 0; i < b->nrows; i++) {
        if (b->row_ok[i]) {
            w->sel[nsel++] = (uint32_t)i;
        }
    }
    rc = check_batch(w, b, nsel, e);
    if (rc != 0) {
        return rc;
    }
    size_t k = 0;
    while (k < nsel) {
        size_t take = nsel - k;
        size_t room = w->o.rg_rows - w->rg_rows;
        take = take < room ? take : room;
        take = take < SLICE_ROWS ? take : SLICE_ROWS;
        for (size_t c = 0; c < w->ncols; c++) {
            rc = col_append(&w->cols[c], &b->cols[c], w->sel + k, take);
            if (rc == 0) {
                rc = dict_limits(w, &w->cols[c]);
            }
            if (rc != 0) {
                rc = err_set(e, rc, "out of memory buffering Parquet column '%s'",
                             w->cols[c].name);
                goto fail;
            }
        }
        w->rg_rows += take;
        w->rows_total += take;
        k += take;
        if (w->rg_rows >= w->o.rg_rows || rg_buffered(w) >= w->o.rg_bytes) {
            rc = flush_rowgroup(w, e);
            if (rc != 0) {
                goto fail;
            }
        }
    }
    return 0;
fail:
    w->failed = rc;
    return rc;
}

int pq_writer_close(struct pq_writer *w, uint64_t *bytes, struct err *e)
{
    int rc;
    if (w->failed) {
        return err_set(e, w->failed, "the Parquet writer failed earlier");
    }
    if (w->closed) {
        return err_set(e, AE_INTERNAL, "pq_writer_close called twice");
    }
    /* PARQUET.md §1.13 (4): never a 0-row row group; an empty file has no row groups. */
    if (w->rg_rows > 0) {
        rc = flush_rowgroup(w, e);
        if (rc != 0) {
            goto fail;
        }
    }
    buf_reset(&w->meta);
    struct tc t;
    tc_init(&t, &w->meta);
    tc_field_i32(&t, 1, 1);
    tc_field_list(&t, 2, TC_STRUCT, w->ncols + 1);
    tc_elem_struct(&t); /* root: name and num_children only */
    tc_field_str(&t, 4, "schema");
    tc_field_i32(&t, 5, (int32_t)w->ncols);
    tc_struct_end(&t);
    for (size_t i = 0; i < w->ncols; i++) {
        schema_element(&t, &w->cols[i]);
    }
    tc_field_i64(&t, 3, (int64_t)w->rows_total);
    tc_field_list(&t, 4, TC_STRUCT, w->nrowgroups);
    tc_raw(&t, w->rowgroups.data, w->rowgroups.len);
    if (w->nkv > 0) {
        tc_field_list(&t, 5, TC_STRUCT, w->nkv);
        for (size_t i = 0; i < w->nkv; i++) {
            tc_elem_struct(&t);
            tc_field_str(&t, 1, w->kv[i].key);
            tc_field_str(&t, 2, w->kv[i].value);
            tc_struct_end(&t);
        }
    }
    tc_field_str(&t, 6, w->created_by);
    tc_field_list(&t, 7, TC_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        tc_elem_struct(&t); /* ColumnOrder union */
        tc_field_struct(&t, 1); /* TYPE_ORDER: TypeDefinedOrder {} */
        tc_struct_end(&t);
        tc_struct_end(&t);
    }
    tc_struct_end(&t);
    if (tc_error(&t) != 0 || w->meta.len > UINT32_MAX) {
        rc = err_set(e, AE_NOMEM, "out of memory writing the Parquet footer");
        goto fail;
    }
    uint8_t tail[8];
    pq_put_u32le(tail, (uint32_t)w->meta.len);
    memcpy(tail + 4, "PAR1", 4);
    rc = out_write(w, w->meta.data, w->meta.len, e);
    if (rc == 0) {
        rc = out_write(w, tail, 8, e);
    }
    if (rc == 0) {
        rc = out_flush(w, e);
    }
    if (rc != 0) {
        goto fail;
    }
    w->closed = true;
    if (bytes != NULL) {
        *bytes = w->pos;
    }
    return 0;
fail:
    w->failed = rc;
    return rc;
}
