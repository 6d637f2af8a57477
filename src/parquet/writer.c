/*
 * writer.c - the Parquet file writer behind pq.h.
 *
 * Data flow: pq_writer_write() appends the accepted rows of a batch to each column's open page
 * (definition levels as one byte per row, values in their PLAIN byte form, or dictionary indices
 * while the chunk is dictionary encoded). As soon as the open page is full (page_rows rows, or
 * page_bytes of values) it is sealed: its body is encoded (RLE levels, then the indices at the
 * bit width of the dictionary's current size, or the PLAIN values), compressed and kept with its
 * PageHeader in a block of its exact size in the column's chunk (struct pq_blk), and the rows
 * after it start the next open page.
 * When the group reaches rg_rows rows or rg_bytes raw bytes (rg_buffered: levels, PLAIN values,
 * or while a chunk is all dictionary its 4-byte indices plus the dictionary, the bytes a writer
 * that buffered the raw group would hold), every column's last page is
 * sealed and the chunks are written in column order: the dictionary page (at most one, first),
 * then the buffered data pages. The RowGroup metadata is serialised at once and kept as bytes
 * for the footer. So the memory held is the row group's compressed pages plus one open page and
 * one dictionary per column, not the raw row group.
 *
 * The dictionary decision is streaming, Arrow style (PARQUET.md §1.7): a chunk starts dictionary
 * encoded (unless its column fell back in the last row groups, DICT_RETRY_GROUPS); when the
 * dictionary passes dict_bytes, or when the chunk's first sealed page holds more than 3/4
 * distinct values, the rest of the chunk is PLAIN. Before any page was sealed, the open page is
 * turned back into PLAIN values and the chunk has no dictionary at all; later, the open page is
 * sealed as an index page first, and the chunk is the dictionary page, index pages, then PLAIN
 * pages, which ColumnMetaData.encodings and encoding_stats list.
 *
 * Statistics are merged page by page: the PLAIN values of every PLAIN page and the dictionary's
 * entries (exactly the values of the index pages) are scanned when the page is compressed.
 *
 * Threads (pq_options.threads > 1): sealed pages are queued with a copy of their raw levels and
 * values; when the queue holds PEND_BYTES (or PEND_MAX pages), or at the row-group flush, the
 * queued pages are encoded and compressed on up to that many threads, each with its own
 * compression context and scratch (struct pq_enc), each page into its own output buffer, and
 * then appended to their chunks in the order they were sealed. With one thread a sealed page is
 * compressed at once, from the open page's own buffers. Every page's bytes depend only on its
 * contents, so the file is the same at every thread count. The threads are created per batch
 * and joined before it returns (about 26 us per thread against milliseconds of compression per
 * batch), so no thread outlives a call, failed or not.
 *
 * Memory: per column the open page, the dictionary and the chunk's compressed pages (one row
 * group; in a scratch file instead when pq_options.spool_dir is set, read back through the
 * output buffer when the group is written), the queue of sealed pages (PEND_BYTES, threads > 1 only), page scratch buffers (one
 * set per thread), the output buffer and the footer bytes. One allocation per page (its block),
 * none per value.
 */
#include "parquet/codec.h"
#include "parquet/encode.h"
#include "parquet/pq.h"
#include "parquet/thrift.h"
#include "util/fs.h"

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

/* Small: a chunk's compressed pages are written from their own blocks, most of them larger. */
#define OUT_BUF_SIZE (256u << 10)
#define SLICE_ROWS 8192
/* A column whose chunk gave up its dictionary starts the next row groups PLAIN, trying again
 * every DICT_RETRY_GROUPS row groups: high-cardinality strings (names, e-mails, addresses) would
 * otherwise be hashed into a dictionary and turned back into PLAIN values in every row group. */
#define DICT_RETRY_GROUPS 8
#define STAT_MAX_BYTES 4096
#define MAX_THREADS 64
/* threads > 1: the raw bytes of sealed pages queued before they are compressed together, and
 * the most pages queued (a file of 100,000 columns seals one page per column at each flush). */
#define PEND_BYTES ((size_t)1 << 20)
#define PEND_MAX 256

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

/* Min/max found in one page's PLAIN values (stats_scan): pointers into the values or into
 * minb/maxb, in the statistics' byte form. */
struct pq_mm {
    bool has;
    uint8_t minb[16], maxb[16];
    const uint8_t *minp, *maxp;
    size_t minlen, maxlen;
    int64_t nan_count;
};

/* One compressed page with its PageHeader, in an allocation of its exact size (owned), or, when
 * p is NULL, n bytes at offset off of the writer's spool file. */
struct pq_blk {
    uint8_t *p;
    size_t n;
    uint64_t off;
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
    /* The open page: rows prows, values pvals. */
    struct buf levels; /* nullable only: 1 byte per row, 1 = present */
    struct buf vals;   /* PLAIN values (BOOLEAN: bytes 0/1) when !dict_on */
    struct buf idx;    /* uint32 indices when dict_on */
    size_t prows, pvals;
    /* page_cut's walk over the open page so far (rows, values, PLAIN bytes), so that each
     * row is looked at once: reset whenever the open page changes other than at its end. */
    size_t scan_r, scan_nv, scan_vb;
    /* The chunk of the current row group. */
    struct pq_dict dict;
    bool dict_on;  /* values still go to the dictionary */
    bool has_dict; /* the chunk has (or will have) a dictionary page */
    uint32_t plain_groups; /* consecutive chunks that gave up the dictionary although dict_ok */
    size_t nrows, nvals;
    uint64_t plain_bytes; /* the chunk's values in PLAIN form, for the row-group budget */
    size_t npages;        /* data pages sealed (queued or compressed) */
    struct pq_blk *blks;  /* the compressed data pages, each with its header, in order */
    size_t nblks, blks_cap;
    struct pq_blk dpage;  /* at flush: the compressed dictionary page with its header */
    uint64_t unc, comp;   /* data pages' sizes, headers included */
    uint64_t dunc, dcomp; /* the dictionary page's */
    int32_t ndict_pages, nplain_pages; /* data pages per encoding */
    /* Statistics of the values seen so far (struct pq_mm merged page by page). */
    bool st_has;
    struct buf st_min, st_max;
    int64_t nan_count;
};

struct pq_kv {
    char *key;
    char *value;
};

/* The scratch one thread needs to turn a page into bytes: its own compression context (a
 * ZSTD_CCtx or zlib stream is not shareable between threads) and page buffers. */
struct pq_enc {
    struct pq_compressor comp;
    struct buf body, cbody, hdr;
};

/* A sealed page waiting to be encoded and compressed: a data page (rows rows, nv values, levels
 * lv when nullable, then indices at bit width bw > 0 or vbytes of PLAIN values) or the chunk's
 * dictionary page (nv entries, vbytes bytes). lv and vals point into raw (threads > 1) or into
 * the column's open page or dictionary, which do not change until the page is compressed. */
struct pq_pend {
    size_t col;
    int type;
    size_t rows, nv, vbytes;
    int bw;
    const uint8_t *lv, *vals;
    struct buf raw;
    struct pq_blk out; /* PageHeader + compressed body */
    uint64_t unc, comp;
    struct pq_mm mm; /* statistics of PLAIN values */
    int rc;          /* 1 until compressed */
    struct err e;
};

struct pq_writer {
    int fd;
    uint8_t *obuf;
    size_t olen;
    uint64_t pos; /* bytes handed to the file so far, buffered ones included */
    struct pq_col *cols;
    size_t ncols;
    struct pq_options o;
    char *created_by;
    struct pq_enc *enc; /* nenc encoders: enc[0] for this thread, one per thread */
    size_t nenc;
    struct pq_pend *pend; /* npend queued of pend_cap */
    size_t npend, pend_cap, pend_bytes;
    struct buf meta, rowgroups;
    size_t nrowgroups;
    uint64_t rows_total;
    size_t rg_rows;
    uint32_t *sel;
    size_t sel_cap;
    struct pq_kv *kv;
    size_t nkv, kv_cap;
    int spool;          /* pq_options.spool_dir: the row group's data pages, or -1 */
    uint64_t spool_end; /* bytes of the current row group in it */
    int failed; /* sticky AE_* code after an error that left the file inconsistent */
    bool closed;
    size_t fault_col; /* pq_writer_inject_fault: column + 1, or 0 */
    int fault_code;
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
    o->spool_dir = NULL;
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

/* Appends a compressed data page to its chunk: into the spool file when there is one (the page's
 * memory is freed), else kept as it is. */
static int blk_keep(struct pq_writer *w, struct pq_blk *b, struct err *e)
{
    if (w->spool < 0) {
        return 0;
    }
    int rc = fs_write_all(w->spool, b->p, b->n, "the Parquet writer's scratch file", e);
    if (rc != 0) {
        return rc;
    }
    free(b->p);
    b->p = NULL;
    b->off = w->spool_end;
    w->spool_end += b->n;
    return 0;
}

/* Writes a chunk's page to the file, from memory or read back from the spool into the output
 * buffer. */
static int blk_out(struct pq_writer *w, const struct pq_blk *b, struct err *e)
{
    if (b->p != NULL || b->n == 0) {
        return out_write(w, b->p, b->n, e);
    }
    for (uint64_t off = b->off, left = b->n; left > 0;) {
        if (w->olen == OUT_BUF_SIZE) {
            int rc = out_flush(w, e);
            if (rc != 0) {
                return rc;
            }
        }
        size_t k = OUT_BUF_SIZE - w->olen < left ? OUT_BUF_SIZE - w->olen : (size_t)left;
        int rc = fs_read_at(w->spool, w->obuf + w->olen, k, off, "the Parquet writer's scratch file", e);
        if (rc != 0) {
            return rc;
        }
        w->olen += k;
        w->pos += k;
        off += k;
        left -= k;
    }
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
    buf_release(&c->levels);
    buf_release(&c->vals);
    buf_release(&c->idx);
    dict_release(&c->dict);
    for (size_t i = 0; i < c->nblks; i++) {
        free(c->blks[i].p);
    }
    free(c->blks);
    free(c->dpage.p);
    buf_release(&c->st_min);
    buf_release(&c->st_max);
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
    if (w->spool >= 0) {
        close(w->spool);
    }
    free(w->sel);
    for (size_t i = 0; i < w->nenc; i++) {
        pq_compressor_release(&w->enc[i].comp);
        buf_release(&w->enc[i].body);
        buf_release(&w->enc[i].cbody);
        buf_release(&w->enc[i].hdr);
    }
    free(w->enc);
    for (size_t i = 0; i < w->pend_cap; i++) {
        buf_release(&w->pend[i].raw);
        free(w->pend[i].out.p);
    }
    free(w->pend);
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
    w->spool = -1;
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
        if (o->spool_dir != NULL) {
            rc = fs_tmp_unlinked(o->spool_dir, ".astro-pages-", &w->spool, e);
            if (rc != 0) {
                goto fail;
            }
        }
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
        c->has_dict = c->dict_on;
    }
    rc = unique_names(w, e);
    if (rc != 0) {
        goto fail;
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


/* ---------------------------------------------------------------- the open page */

/* Turns the open page's dictionary indices back into PLAIN values and drops the dictionary.
 * Only before the chunk's first page is sealed: the chunk then has no dictionary at all. */
static int col_materialize(struct pq_col *c)
{
    const uint32_t *ix = (const uint32_t *)(void *)c->idx.data;
    const uint8_t *dd = (const uint8_t *)c->dict.data.data;
    buf_reset(&c->vals);
    if (c->ptype == PT_BYTE_ARRAY) {
        size_t total = 0;
        for (size_t i = 0; i < c->pvals; i++) {
            total += 4 + pq_get_u32le(dd + c->dict.offs[ix[i]]);
        }
        if (buf_reserve(&c->vals, total) != 0) {
            return AE_NOMEM;
        }
        uint8_t *p = (uint8_t *)c->vals.data;
        for (size_t i = 0; i < c->pvals; i++) {
            const uint8_t *q = dd + c->dict.offs[ix[i]];
            size_t n = 4 + pq_get_u32le(q);
            memcpy(p, q, n);
            p += n;
        }
        c->vals.len = total;
    } else {
        size_t wdt = (size_t)c->width;
        if (buf_reserve(&c->vals, c->pvals * wdt) != 0) {
            return AE_NOMEM;
        }
        uint8_t *p = (uint8_t *)c->vals.data;
        for (size_t i = 0; i < c->pvals; i++) {
            memcpy(p + i * wdt, dd + (size_t)ix[i] * wdt, wdt);
        }
        c->vals.len = c->pvals * wdt;
    }
    c->vals.data[c->vals.len] = '\0';
    buf_release(&c->idx);
    dict_release(&c->dict);
    c->dict_on = false;
    c->has_dict = false;
    c->scan_r = c->scan_nv = c->scan_vb = 0;
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

/* Appends the n selected rows sel[] of src to the open page of column c. */
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
    c->prows += n;
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
            uint64_t bytes = 0;
            for (size_t k = 0; k < n && rc == 0; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    size_t len = src->offs[i + 1] - src->offs[i];
                    bytes += 4 + len;
                    rc = dict_bytes(&c->dict, data + src->offs[i], len, &ix[m++]);
                }
            }
            c->plain_bytes += bytes;
        } else {
            uint64_t mask = c->width == 4 ? 0xffffffffull : ~0ull;
            for (size_t k = 0; k < n && rc == 0; k++) {
                size_t i = sel[k];
                if (valid[i]) {
                    rc = dict_fixed(&c->dict, int_bits(c, src, i) & mask, c->width, &ix[m++]);
                }
            }
            c->plain_bytes += nv * (uint64_t)c->width;
        }
        if (rc != 0) {
            return rc;
        }
        c->idx.len += nv * 4;
        c->nvals += nv;
        c->pvals += nv;
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
        c->plain_bytes += bytes;
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
        c->plain_bytes += nv * (uint64_t)c->width;
    }
    c->vals.data[c->vals.len] = '\0';
    c->nvals += nv;
    c->pvals += nv;
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

static double float_at(const struct pq_col *c, const uint8_t *p)
{
    if (c->ptype == PT_FLOAT) {
        uint32_t u = pq_get_u32le(p);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    uint64_t u = pq_get_u64le(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* Compares two values in their statistics byte form by the column's order (parquet.thrift
 * ColumnOrder; NaN never reaches here). */
static int stat_cmp(const struct pq_col *c, const uint8_t *a, size_t al, const uint8_t *b,
                    size_t bl)
{
    switch (c->ptype) {
    case PT_BOOLEAN: return (a[0] > b[0]) - (a[0] < b[0]);
    case PT_INT32:
        if (c->is_unsigned) {
            uint32_t x = pq_get_u32le(a), y = pq_get_u32le(b);
            return (x > y) - (x < y);
        } else {
            int32_t x = (int32_t)pq_get_u32le(a), y = (int32_t)pq_get_u32le(b);
            return (x > y) - (x < y);
        }
    case PT_INT64:
        if (c->is_unsigned) {
            uint64_t x = pq_get_u64le(a), y = pq_get_u64le(b);
            return (x > y) - (x < y);
        } else {
            int64_t x = (int64_t)pq_get_u64le(a), y = (int64_t)pq_get_u64le(b);
            return (x > y) - (x < y);
        }
    case PT_FLOAT:
    case PT_DOUBLE: {
        double x = float_at(c, a), y = float_at(c, b);
        return (x > y) - (x < y);
    }
    case PT_BYTE_ARRAY: return bytes_cmp(a, al, b, bl);
    case PT_FLBA: return flba_dec_cmp(a, b, (size_t)c->width);
    default: return 0;
    }
}

/* Min/max of n PLAIN values at p (a PLAIN page, or the dictionary's entries: exactly the values
 * of its index pages), orders per parquet.thrift ColumnOrder. */
static void stats_scan(const struct pq_col *c, const uint8_t *p, size_t n, struct pq_mm *mm)
{
    memset(mm, 0, sizeof(*mm));
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
        mm->minb[0] = any0 ? 0 : 1;
        mm->maxb[0] = any1 ? 1 : 0;
        mm->minlen = mm->maxlen = 1;
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
            pq_put_u32le(mm->minb, mn);
            pq_put_u32le(mm->maxb, mx);
        } else {
            int32_t mn = INT32_MAX, mx = INT32_MIN;
            for (size_t i = 0; i < n; i++) {
                int32_t v = (int32_t)pq_get_u32le(p + 4 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u32le(mm->minb, (uint32_t)mn);
            pq_put_u32le(mm->maxb, (uint32_t)mx);
        }
        mm->minlen = mm->maxlen = 4;
        break;
    case PT_INT64:
        if (c->is_unsigned) {
            uint64_t mn = UINT64_MAX, mx = 0;
            for (size_t i = 0; i < n; i++) {
                uint64_t v = pq_get_u64le(p + 8 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u64le(mm->minb, mn);
            pq_put_u64le(mm->maxb, mx);
        } else {
            int64_t mn = INT64_MAX, mx = INT64_MIN;
            for (size_t i = 0; i < n; i++) {
                int64_t v = (int64_t)pq_get_u64le(p + 8 * i);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            pq_put_u64le(mm->minb, (uint64_t)mn);
            pq_put_u64le(mm->maxb, (uint64_t)mx);
        }
        mm->minlen = mm->maxlen = 8;
        break;
    case PT_FLOAT:
    case PT_DOUBLE: {
        /* parquet.thrift ColumnOrder: NaN is left out of min/max (and counted in nan_count);
         * a zero min is written as -0.0 and a zero max as +0.0. */
        size_t wdt = c->ptype == PT_FLOAT ? 4 : 8;
        bool any = false;
        double mn = 0, mx = 0;
        for (size_t i = 0; i < n; i++) {
            double v = float_at(c, p + wdt * i);
            if (v != v) {
                mm->nan_count++;
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
            pq_put_u32le(mm->minb, u);
            memcpy(&u, &fmx, 4);
            pq_put_u32le(mm->maxb, u);
        } else {
            uint64_t u;
            memcpy(&u, &mn, 8);
            pq_put_u64le(mm->minb, u);
            memcpy(&u, &mx, 8);
            pq_put_u64le(mm->maxb, u);
        }
        mm->minlen = mm->maxlen = wdt;
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
        mm->minp = mnp, mm->minlen = mnl;
        mm->maxp = mxp, mm->maxlen = mxl;
        mm->has = true;
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
        mm->minp = mnp, mm->maxp = mxp;
        mm->minlen = mm->maxlen = wdt;
        mm->has = true;
        return;
    }
    default:
        return;
    }
    mm->minp = mm->minb;
    mm->maxp = mm->maxb;
    mm->has = true;
}

/* Merges one page's min/max into the chunk's (copied: the page's bytes do not stay). */
static int stats_merge(struct pq_col *c, const struct pq_mm *mm)
{
    c->nan_count += mm->nan_count;
    if (!mm->has) {
        return 0;
    }
    if (!c->st_has || stat_cmp(c, mm->minp, mm->minlen, (const uint8_t *)c->st_min.data,
                               c->st_min.len) < 0) {
        buf_reset(&c->st_min);
        if (buf_append(&c->st_min, mm->minp, mm->minlen) != 0) {
            return AE_NOMEM;
        }
    }
    if (!c->st_has || stat_cmp(c, mm->maxp, mm->maxlen, (const uint8_t *)c->st_max.data,
                               c->st_max.len) > 0) {
        buf_reset(&c->st_max);
        if (buf_append(&c->st_max, mm->maxp, mm->maxlen) != 0) {
            return AE_NOMEM;
        }
    }
    c->st_has = true;
    return 0;
}

/* ---------------------------------------------------------------- pages */

/* Compresses body (n bytes) and sets pg->out to PageHeader + payload, and pg's sizes. */
static int page_out(const struct pq_options *o, struct pq_enc *x, struct pq_pend *pg,
                    const void *body, size_t n, size_t nvalues, int enc, struct err *e)
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
    tc_field_i32(&t, 1, pg->type);
    tc_field_i32(&t, 2, (int32_t)n);
    tc_field_i32(&t, 3, (int32_t)plen);
    if (pg->type == PAGE_DATA) {
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
    /* An allocation of the page's exact size: a row group of them is held until the flush. */
    free(pg->out.p);
    pg->out.n = x->hdr.len + plen;
    pg->out.p = tc_error(&t) != 0 ? NULL : malloc(pg->out.n);
    if (pg->out.p == NULL) {
        return err_set(e, AE_NOMEM, "out of memory writing a page");
    }
    memcpy(pg->out.p, x->hdr.data, x->hdr.len);
    if (plen > 0) {
        memcpy(pg->out.p + x->hdr.len, payload, plen);
    }
    pg->unc = x->hdr.len + n;
    pg->comp = x->hdr.len + plen;
    return 0;
}

/* Encodes, compresses and scans (statistics of PLAIN values) one queued page. Reads the column
 * without changing it, so pages of one chunk may be compressed on different threads at once. */
static int page_encode(const struct pq_options *o, struct pq_enc *x, const struct pq_col *c,
                       struct pq_pend *pg, struct err *e)
{
    memset(&pg->mm, 0, sizeof(pg->mm));
    if (pg->type == PAGE_DICTIONARY) {
        stats_scan(c, pg->vals, pg->nv, &pg->mm);
        return page_out(o, x, pg, pg->vals, pg->vbytes, pg->nv, ENC_PLAIN_DICTIONARY, e);
    }
    if (pg->bw == 0) {
        stats_scan(c, pg->vals, pg->nv, &pg->mm);
    }
    if (!c->nullable && pg->bw == 0 && c->ptype != PT_BOOLEAN) {
        /* No levels, PLAIN values: the page body is the values as they are. */
        return page_out(o, x, pg, pg->vals, pg->vbytes, pg->rows, ENC_PLAIN, e);
    }
    buf_reset(&x->body);
    if (c->nullable) {
        /* V1 definition levels: u32 LE byte length, then the hybrid runs (Encodings.md). */
        if (buf_append(&x->body, "\0\0\0\0", 4) != 0 ||
            pq_rle_encode_levels(&x->body, pg->lv, pg->rows) != 0) {
            return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
        }
        pq_put_u32le((uint8_t *)x->body.data, (uint32_t)(x->body.len - 4));
    }
    int mrc;
    if (pg->bw > 0) {
        char b = (char)pg->bw;
        mrc = buf_append(&x->body, &b, 1);
        if (mrc == 0 && pg->nv > 0) {
            mrc = pq_rle_encode_u32(&x->body, (const uint32_t *)(const void *)pg->vals, pg->nv,
                                    pg->bw);
        }
    } else if (c->ptype == PT_BOOLEAN) {
        mrc = pq_plain_bool(&x->body, pg->vals, pg->nv);
    } else {
        mrc = buf_append(&x->body, pg->vals, pg->vbytes);
    }
    if (mrc != 0) {
        return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
    }
    return page_out(o, x, pg, x->body.data, x->body.len, pg->rows,
                    pg->bw > 0 ? ENC_PLAIN_DICTIONARY : ENC_PLAIN, e);
}

/* The queued pages are compressed in batches of tasks: every worker takes the next page not
 * yet taken until none is left. */
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

static int pend_task(struct pq_writer *w, struct pq_enc *x, size_t i)
{
    struct pq_pend *pg = &w->pend[i];
    if (pg->type == PAGE_DATA && w->fault_col == pg->col + 1) {
        pg->rc = err_set(&pg->e, w->fault_code, "injected fault");
        return pg->rc;
    }
    pg->rc = page_encode(&w->o, x, &w->cols[pg->col], pg, &pg->e);
    return pg->rc;
}

/* A new entry at the end of the queue (its buffers kept from earlier use). */
static int pend_new(struct pq_writer *w, struct pq_pend **out, struct err *e)
{
    if (w->npend == w->pend_cap) {
        size_t nc = w->pend_cap ? w->pend_cap * 2 : 4;
        struct pq_pend *np = realloc(w->pend, nc * sizeof(*np));
        if (np == NULL) {
            return err_set(e, AE_NOMEM, "out of memory queueing a Parquet page");
        }
        memset(np + w->pend_cap, 0, (nc - w->pend_cap) * sizeof(*np));
        w->pend = np;
        w->pend_cap = nc;
    }
    struct pq_pend *pg = &w->pend[w->npend++];
    buf_reset(&pg->raw);
    free(pg->out.p);
    pg->out.p = NULL;
    pg->rc = 1;
    err_clear(&pg->e);
    *out = pg;
    return 0;
}

/* After a batch: the queue's buffers keep their memory for the next one unless they hold much
 * more than a batch needs (a few large pages once), so what stays allocated stays bounded. */
static void pend_trim(struct pq_writer *w)
{
    size_t cap = 0;
    for (size_t i = 0; i < w->pend_cap; i++) {
        cap += w->pend[i].raw.cap;
    }
    if (cap > 2 * PEND_BYTES) {
        for (size_t i = 0; i < w->pend_cap; i++) {
            buf_release(&w->pend[i].raw);
        }
    }
}

/* Compresses the queued pages on up to nenc threads and appends them, in the order they were
 * queued, to their chunks (a dictionary page to the chunk's dpage), merging their statistics.
 * Fails with the error of the first failed page, naming its column. */
static int pend_drain(struct pq_writer *w, struct err *e)
{
    if (w->npend == 0) {
        return 0;
    }
    size_t n = w->npend;
    w->npend = 0;
    w->pend_bytes = 0;
    job_run(w, pend_task, n);
    for (size_t i = 0; i < n; i++) {
        struct pq_pend *pg = &w->pend[i];
        if (pg->rc < 0) {
            if (e != NULL) {
                *e = pg->e;
            }
            err_prefix(e, "writing column '%s'", w->cols[pg->col].name);
            return pg->rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct pq_pend *pg = &w->pend[i];
        struct pq_col *c = &w->cols[pg->col];
        if (pg->rc != 0) {
            return err_set(e, AE_INTERNAL, "column '%s': a page was not compressed", c->name);
        }
        if (stats_merge(c, &pg->mm) != 0) {
            return err_set(e, AE_NOMEM, "out of memory buffering Parquet column '%s'", c->name);
        }
        if (pg->type == PAGE_DICTIONARY) {
            free(c->dpage.p);
            c->dpage = pg->out;
            c->dunc = pg->unc;
            c->dcomp = pg->comp;
        } else {
            if (c->nblks == c->blks_cap) {
                size_t nc = c->blks_cap ? c->blks_cap * 2 : 8;
                struct pq_blk *nb = realloc(c->blks, nc * sizeof(*nb));
                if (nb == NULL) {
                    return err_set(e, AE_NOMEM, "out of memory buffering Parquet column '%s'",
                                   c->name);
                }
                c->blks = nb;
                c->blks_cap = nc;
            }
            pg->out.off = 0;
            int rc = blk_keep(w, &pg->out, e);
            if (rc != 0) {
                return err_prefix(e, "column '%s'", c->name);
            }
            c->blks[c->nblks++] = pg->out;
            c->unc += pg->unc;
            c->comp += pg->comp;
        }
        pg->out.p = NULL; /* the chunk owns it now */
    }
    pend_trim(w);
    return 0;
}

/* Queues pg (filled by the caller, lv and vals pointing at the column's buffers): with threads
 * its bytes are copied into pg->raw, values first (aligned for the indices); with one thread it
 * is compressed at once, while the buffers it points at are still as they are. */
static int pend_push(struct pq_writer *w, struct pq_pend *pg, size_t lvbytes, struct err *e)
{
    if (w->nenc > 1) {
        if (buf_reserve(&pg->raw, pg->vbytes + lvbytes) != 0) {
            return err_set(e, AE_NOMEM, "out of memory queueing a Parquet page");
        }
        if (pg->vbytes > 0) {
            memcpy(pg->raw.data, pg->vals, pg->vbytes);
        }
        if (lvbytes > 0) {
            memcpy(pg->raw.data + pg->vbytes, pg->lv, lvbytes);
        }
        pg->raw.len = pg->vbytes + lvbytes;
        pg->vals = (const uint8_t *)pg->raw.data;
        pg->lv = pg->vals + pg->vbytes;
        w->pend_bytes += pg->raw.len;
    }
    if (w->nenc == 1 || w->pend_bytes >= PEND_BYTES || w->npend >= PEND_MAX) {
        return pend_drain(w, e);
    }
    return 0;
}

static size_t count_present(const uint8_t *lv, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += lv[i];
    }
    return k;
}

/* The bit width of the dictionary's current indices (width 0 trips some readers: PARQUET.md
 * §1.5). */
static int dict_bw(const struct pq_col *c)
{
    int bw = pq_bit_width(c->dict.count > 0 ? c->dict.count - 1 : 0);
    return bw < 1 ? 1 : bw;
}

/* Where the open page's first page ends, as rows r1 holding nv values of vb PLAIN bytes: at
 * page_rows rows, at page_bytes of values (rows for fixed widths and indices, the values
 * themselves for PLAIN strings: at least one value), or at the open page's end. True when that
 * page is full (or final): it is then sealed. */
static bool page_cut(const struct pq_options *o, struct pq_col *c, bool final, size_t *r1,
                     size_t *nv, size_t *vb)
{
    if (c->prows == 0) {
        return false;
    }
    size_t full;
    if (c->dict_on) {
        full = o->page_bytes * 8 / (size_t)dict_bw(c);
    } else if (c->ptype == PT_BOOLEAN) {
        full = o->page_bytes * 8;
    } else if (c->ptype == PT_BYTE_ARRAY) {
        full = SIZE_MAX;
    } else {
        full = o->page_bytes / (size_t)c->width;
    }
    full = full < 1 ? 1 : full;
    full = full < o->page_rows ? full : o->page_rows;
    size_t limit = c->prows < full ? c->prows : full;
    if (c->scan_r > limit) {
        c->scan_r = c->scan_nv = c->scan_vb = 0; /* a wider dictionary index: fewer rows */
    }
    const uint8_t *lv = (const uint8_t *)c->levels.data;
    if (c->ptype == PT_BYTE_ARRAY && !c->dict_on) {
        /* Walk the PLAIN values to cut the page near page_bytes (one value at least). */
        const uint8_t *vals = (const uint8_t *)c->vals.data;
        size_t r = c->scan_r, n = c->scan_nv, bytes = c->scan_vb;
        while (r < limit) {
            if (!c->nullable || lv[r]) {
                size_t sz = 4 + (size_t)pq_get_u32le(vals + bytes);
                if (bytes > 0 && bytes + sz > o->page_bytes) {
                    break;
                }
                bytes += sz;
                n++;
            }
            r++;
        }
        *r1 = r, *nv = n, *vb = bytes;
    } else {
        *r1 = limit;
        *nv = c->nullable ? c->scan_nv + count_present(lv + c->scan_r, limit - c->scan_r) : limit;
        *vb = c->dict_on ? 0 : *nv * (size_t)c->width;
    }
    c->scan_r = *r1, c->scan_nv = *nv, c->scan_vb = *vb;
    return final || *r1 == full || *r1 < c->prows;
}

/* Seals the first r1 rows (nv values, vb PLAIN bytes) of column ci's open page as a data page
 * and moves the rest to the front. Returns 1 without sealing when the chunk's first page shows
 * more than 3/4 distinct values (PARQUET.md §1.7, Polars' ratio): the open page was turned
 * PLAIN and must be cut again. */
static int page_seal(struct pq_writer *w, size_t ci, size_t r1, size_t nv, size_t vb,
                     struct err *e)
{
    struct pq_col *c = &w->cols[ci];
    if (c->dict_on && c->npages == 0 && (c->pvals == 0 || c->dict.count * 4 > c->pvals * 3)) {
        if (col_materialize(c) != 0) {
            return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
        }
        return 1;
    }
    struct pq_pend *pg;
    int rc = pend_new(w, &pg, e);
    if (rc != 0) {
        return rc;
    }
    pg->col = ci;
    pg->type = PAGE_DATA;
    pg->rows = r1;
    pg->nv = nv;
    pg->bw = c->dict_on ? dict_bw(c) : 0;
    pg->vbytes = c->dict_on ? nv * 4 : vb;
    pg->vals = (const uint8_t *)(c->dict_on ? c->idx.data : c->vals.data);
    pg->lv = (const uint8_t *)c->levels.data;
    c->npages++;
    if (c->dict_on) {
        c->ndict_pages++;
    } else {
        c->nplain_pages++;
    }
    rc = pend_push(w, pg, c->nullable ? r1 : 0, e);
    if (rc != 0) {
        return rc;
    }
    /* The rest of the open page moves to the front (a page of nulls may have no values, and
     * its buffer no memory yet). */
    if (c->nullable && c->prows > r1) {
        memmove(c->levels.data, c->levels.data + r1, c->prows - r1);
    }
    c->levels.len -= c->nullable ? r1 : 0;
    struct buf *v = c->dict_on ? &c->idx : &c->vals;
    if (v->len > pg->vbytes) {
        memmove(v->data, v->data + pg->vbytes, v->len - pg->vbytes);
    }
    v->len -= pg->vbytes;
    c->prows -= r1;
    c->pvals -= nv;
    c->scan_r = c->scan_nv = c->scan_vb = 0;
    return 0;
}

/* Seals the full pages of column ci's open page, or (final) all of it. */
static int col_cut(struct pq_writer *w, size_t ci, bool final, struct err *e)
{
    struct pq_col *c = &w->cols[ci];
    for (;;) {
        size_t r1, nv, vb;
        if (!page_cut(&w->o, c, final, &r1, &nv, &vb)) {
            return 0;
        }
        int rc = page_seal(w, ci, r1, nv, vb, e);
        if (rc < 0) {
            return rc;
        }
    }
}

/* After rows were appended to column ci: the dictionary limit (PARQUET.md §1.7), then the full
 * pages are sealed. A dictionary past dict_bytes before any page was sealed is dropped (the
 * open page turned PLAIN); later, the open page is sealed as index pages and the rest of the
 * chunk is PLAIN. */
static int col_pages(struct pq_writer *w, size_t ci, struct err *e)
{
    struct pq_col *c = &w->cols[ci];
    if (c->dict_on && c->dict.data.len > w->o.dict_bytes) {
        if (c->npages == 0) {
            if (col_materialize(c) != 0) {
                return err_set(e, AE_NOMEM, "out of memory encoding column '%s'", c->name);
            }
        } else {
            int rc = col_cut(w, ci, true, e);
            if (rc != 0) {
                return rc;
            }
            c->dict_on = false;
            buf_release(&c->idx);
            /* The entries stay for the dictionary page; their hash table is not needed. */
            free(c->dict.slots);
            c->dict.slots = NULL;
            c->dict.cap = 0;
        }
    }
    return col_cut(w, ci, false, e);
}

/* ---------------------------------------------------------------- chunks and row groups */

static void col_reset(struct pq_col *c)
{
    buf_reset(&c->levels);
    buf_reset(&c->vals);
    buf_reset(&c->idx);
    if (c->dict_on) {
        dict_reset(&c->dict);
    } else {
        dict_release(&c->dict); /* a chunk that fell back mid-way kept it for its page */
    }
    for (size_t i = 0; i < c->nblks; i++) {
        free(c->blks[i].p);
    }
    c->nblks = 0;
    free(c->dpage.p);
    c->dpage.p = NULL;
    c->dpage.n = 0;
    /* dict_on still says whether the chunk just flushed kept its dictionary to the end. */
    c->plain_groups = c->dict_ok && !c->dict_on ? c->plain_groups + 1 : 0;
    c->dict_on = c->dict_ok && c->plain_groups % DICT_RETRY_GROUPS == 0;
    c->has_dict = c->dict_on;
    c->prows = c->pvals = 0;
    c->scan_r = c->scan_nv = c->scan_vb = 0;
    c->nrows = c->nvals = 0;
    c->plain_bytes = 0;
    c->npages = 0;
    c->unc = c->comp = c->dunc = c->dcomp = 0;
    c->ndict_pages = c->nplain_pages = 0;
    c->st_has = false;
    c->nan_count = 0;
}

/* ColumnChunk { 2: file_offset = 0, 3: ColumnMetaData } as one list element. */
static void chunk_thrift(struct tc *t, const struct pq_writer *w, const struct pq_col *c,
                         uint64_t dict_off, uint64_t data_off, size_t nrows)
{
    bool mixed = c->has_dict && c->nplain_pages > 0;
    tc_elem_struct(t);
    tc_field_i64(t, 2, 0); /* PARQUET-2090: write 0, never an offset past the chunk */
    tc_field_struct(t, 3);
    tc_field_i32(t, 1, c->ptype);
    /* Every encoding used: the dictionary's, RLE for levels, PLAIN for the pages after a
     * mid-chunk fallback (PARQUET.md §1.7). */
    tc_field_list(t, 2, TC_I32, mixed ? 3 : 2);
    tc_elem_i32(t, c->has_dict ? ENC_PLAIN_DICTIONARY : ENC_PLAIN);
    tc_elem_i32(t, ENC_RLE);
    if (mixed) {
        tc_elem_i32(t, ENC_PLAIN);
    }
    tc_field_list(t, 3, TC_BINARY, 1);
    tc_elem_str(t, c->name);
    tc_field_i32(t, 4, (int32_t)w->o.codec);
    tc_field_i64(t, 5, (int64_t)nrows);
    tc_field_i64(t, 6, (int64_t)(c->unc + c->dunc));
    tc_field_i64(t, 7, (int64_t)(c->comp + c->dcomp));
    tc_field_i64(t, 9, (int64_t)data_off);
    if (c->has_dict) {
        tc_field_i64(t, 11, (int64_t)dict_off);
    }
    /* Long strings get no min/max rather than a truncation that could break UTF-8; the
     * deprecated min/max only for signed orders (PARQUET.md §1.9). */
    bool minmax = c->st_has && (c->ptype != PT_BYTE_ARRAY || (c->st_min.len <= STAT_MAX_BYTES &&
                                                              c->st_max.len <= STAT_MAX_BYTES));
    bool deprecated = ((c->ptype == PT_INT32 || c->ptype == PT_INT64) && !c->is_unsigned) ||
                      c->ptype == PT_FLOAT || c->ptype == PT_DOUBLE;
    const uint8_t *mn = (const uint8_t *)c->st_min.data, *mx = (const uint8_t *)c->st_max.data;
    tc_field_struct(t, 12);
    if (minmax && deprecated) {
        tc_field_bin(t, 1, mx, c->st_max.len);
        tc_field_bin(t, 2, mn, c->st_min.len);
    }
    tc_field_i64(t, 3, (int64_t)(c->nrows - c->nvals));
    if (minmax) {
        tc_field_bin(t, 5, mx, c->st_max.len);
        tc_field_bin(t, 6, mn, c->st_min.len);
    }
    if (c->ptype == PT_FLOAT || c->ptype == PT_DOUBLE) {
        tc_field_i64(t, 9, c->nan_count);
    }
    tc_struct_end(t);
    size_t nstats = (c->has_dict ? 1 : 0) + (c->ndict_pages > 0) + (c->nplain_pages > 0);
    tc_field_list(t, 13, TC_STRUCT, nstats);
    if (c->has_dict) {
        tc_elem_struct(t);
        tc_field_i32(t, 1, PAGE_DICTIONARY);
        tc_field_i32(t, 2, ENC_PLAIN_DICTIONARY);
        tc_field_i32(t, 3, 1);
        tc_struct_end(t);
    }
    if (c->ndict_pages > 0) {
        tc_elem_struct(t);
        tc_field_i32(t, 1, PAGE_DATA);
        tc_field_i32(t, 2, ENC_PLAIN_DICTIONARY);
        tc_field_i32(t, 3, c->ndict_pages);
        tc_struct_end(t);
    }
    if (c->nplain_pages > 0) {
        tc_elem_struct(t);
        tc_field_i32(t, 1, PAGE_DATA);
        tc_field_i32(t, 2, ENC_PLAIN);
        tc_field_i32(t, 3, c->nplain_pages);
        tc_struct_end(t);
    }
    tc_struct_end(t); /* ColumnMetaData */
    tc_struct_end(t); /* ColumnChunk */
}

/* Seals every column's last page, queues the dictionary pages, compresses what is queued, then
 * writes the chunks in column order (dictionary page, data pages) and the RowGroup metadata. */
static int flush_rowgroup(struct pq_writer *w, struct err *e)
{
    int rc;
    size_t nrows = w->rg_rows;
    for (size_t i = 0; i < w->ncols; i++) {
        struct pq_col *c = &w->cols[i];
        rc = col_cut(w, i, true, e);
        if (rc != 0) {
            return rc;
        }
        if (c->has_dict) {
            struct pq_pend *pg;
            rc = pend_new(w, &pg, e);
            if (rc != 0) {
                return rc;
            }
            pg->col = i;
            pg->type = PAGE_DICTIONARY;
            pg->rows = 0;
            pg->nv = c->dict.count;
            pg->bw = 0;
            pg->vbytes = c->dict.data.len;
            pg->vals = (const uint8_t *)c->dict.data.data;
            pg->lv = NULL;
            /* The dictionary does not change until the flush ends: no copy. */
            if (w->nenc == 1 || w->npend >= PEND_MAX) {
                rc = pend_drain(w, e);
                if (rc != 0) {
                    return rc;
                }
            }
        }
    }
    rc = pend_drain(w, e);
    if (rc != 0) {
        return rc;
    }
    uint64_t start = w->pos, unc = 0, comp = 0;
    buf_reset(&w->meta);
    struct tc t;
    tc_init(&t, &w->meta);
    for (size_t i = 0; i < w->ncols; i++) {
        struct pq_col *c = &w->cols[i];
        uint64_t dict_off = w->pos;
        rc = out_write(w, c->dpage.p, c->dpage.n, e);
        uint64_t data_off = w->pos;
        for (size_t b = 0; rc == 0 && b < c->nblks; b++) {
            rc = blk_out(w, &c->blks[b], e);
        }
        if (rc != 0) {
            err_prefix(e, "writing column '%s'", c->name);
            return rc;
        }
        unc += c->unc + c->dunc;
        comp += c->comp + c->dcomp;
        chunk_thrift(&t, w, c, dict_off, data_off, nrows);
        col_reset(c);
    }
    if (w->spool >= 0) {
        /* The next group's pages overwrite this one's: the file stays a row group long. */
        if (lseek(w->spool, 0, SEEK_SET) != 0) {
            return err_errno(e, errno, "rewinding the Parquet writer's scratch file");
        }
        w->spool_end = 0;
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

/* The row-group budget: the bytes the raw buffers of the group would hold (levels, then PLAIN
 * values, or 4-byte indices plus the dictionary while the chunk is all dictionary), so groups
 * are cut where they were when the writer buffered them. */
static size_t rg_buffered(const struct pq_writer *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct pq_col *c = &w->cols[i];
        n += c->nullable ? c->nrows : 0;
        if (c->dict_on) {
            n += c->nvals * 4 + c->dict.data.len + c->dict.cap * sizeof(uint64_t) +
                 c->dict.count * sizeof(uint64_t);
        } else {
            n += (size_t)c->plain_bytes;
        }
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
            if (rc != 0) {
                rc = err_set(e, rc, "out of memory buffering Parquet column '%s'",
                             w->cols[c].name);
                goto fail;
            }
            rc = col_pages(w, c, e);
            if (rc != 0) {
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

