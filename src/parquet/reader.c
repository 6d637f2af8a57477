/*
 * reader.c - the streaming Parquet reader (pq_reader_* in pq.h), for flat schemas.
 *
 * Open reads the footer once (FileMetaData, PARQUET.md §1.1 and §1.3), maps every leaf to an
 * astro dtype and checks every column chunk's byte range against the file. Reading walks each
 * column independently through its chunks, one page at a time: a column keeps a read window of
 * its chunk (page header + compressed page, read with pread), the decompressed page, and the
 * chunk's dictionary. Levels, dictionary indices and PLAIN values are decoded straight from the
 * page as rows are asked for, so memory is bounded by the largest page and dictionary whatever
 * the number of rows. Every column chunk holds exactly its row group's rows (checked), so the
 * columns stay aligned across page and row-group boundaries without talking to each other.
 *
 * Large PLAIN pages: some writers put a whole row group's column in one page (DuckDB writes one
 * data page per column chunk: 4 MB of strings for 122,880 rows), so holding each column's page
 * decompressed, beside its compressed bytes, costs megabytes per column. A PLAIN data page (V1
 * or V2, required or optional, fixed-width or BYTE_ARRAY values) that decompresses to more than
 * RD_STREAM_MIN bytes is therefore streamed: its compressed bytes are read RD_STREAM_IN at a
 * time into the column's window and decompressed RD_STREAM_STEP at a time into c->page as the
 * values are consumed (dstream.h: zstd's streaming API, zlib's inflate, a raw snappy decoder of
 * our own, or plain reads), and its definition levels are copied into a buffer of their own
 * first. Each column then holds about RD_STREAM_IN + PQ_SNAPPY_HISTORY + RD_STREAM_STEP bytes
 * for such a page, plus, for zstd, the frame's window (which the writer chooses: up to 2 MiB at
 * zstd's default levels; a zstd page whose frame's window is not RD_STREAM_ZSTD_GAIN smaller
 * than the page is read whole, and one asking for more than twice the page falls back to that),
 * plus a value longer than that when one is. A snappy copy reaching back further than the 64 KiB
 * kept (no known writer makes one) or such a zstd frame makes that page fall back to being
 * decompressed whole. Dictionary pages, dictionary indices, booleans, DELTA_* and
 * BYTE_STREAM_SPLIT pages and LZ4_RAW pages are always read whole: they are small or rare.
 * pq_reader_page_peak reports the most page memory one column held.
 *
 * Invariants: c->page_left rows remain in the current data page and c->rows_left in the
 * current chunk (page_left <= rows_left); when both are 0 the next call opens the next chunk.
 * While c->ps_on, c->page holds the page's decompressed bytes [ds.produced - page.len,
 * ds.produced), c->vend is its end, and c->pos is the next compressed byte to read.
 * Errors are sticky: after a failed pq_reader_next every later call fails the same way.
 */
#include "parquet/pq.h"

#include "parquet/decode.h"
#include "parquet/dstream.h"
#include "parquet/encode.h"
#include "parquet/tdecode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* parquet.thrift enums (PARQUET.md §1.3). */
enum {
    PT_BOOLEAN = 0,
    PT_INT32 = 1,
    PT_INT64 = 2,
    PT_INT96 = 3,
    PT_FLOAT = 4,
    PT_DOUBLE = 5,
    PT_BYTE_ARRAY = 6,
    PT_FLBA = 7
};
enum {
    ENC_PLAIN = 0,
    ENC_PLAIN_DICTIONARY = 2,
    ENC_RLE = 3,
    ENC_BIT_PACKED = 4,
    ENC_DELTA_BINARY_PACKED = 5,
    ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    ENC_DELTA_BYTE_ARRAY = 7,
    ENC_RLE_DICTIONARY = 8,
    ENC_BYTE_STREAM_SPLIT = 9
};
enum { PAGE_DATA = 0, PAGE_INDEX = 1, PAGE_DICTIONARY = 2, PAGE_DATA_V2 = 3 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
/* LogicalType union members. */
enum {
    LT_NONE = 0,
    LT_STRING = 1,
    LT_MAP = 2,
    LT_LIST = 3,
    LT_ENUM = 4,
    LT_DECIMAL = 5,
    LT_DATE = 6,
    LT_TIME = 7,
    LT_TIMESTAMP = 8,
    LT_INTEGER = 10,
    LT_UNKNOWN = 11,
    LT_JSON = 12,
    LT_BSON = 13,
    LT_UUID = 14,
    LT_FLOAT16 = 15
};
enum { UNIT_MILLIS = 1, UNIT_MICROS = 2, UNIT_NANOS = 3 };

/* Limits against hostile metadata; real files stay far below them. */
#define RD_MAX_FOOTER (512u << 20)
#define RD_MAX_PAGE (1024u << 20)
#define RD_MAX_HEADER (64u << 20)
/* One byte short of a power of two: struct buf keeps a NUL after its bytes, so a window of
 * RD_READ_AHEAD bytes has a capacity of 256 KiB, not 512. */
#define RD_READ_AHEAD ((256u << 10) - 1)

/* Large PLAIN pages (see the top of the file): streamed above RD_STREAM_MIN decompressed bytes
 * (DuckDB's INT64 pages of 122,880 rows are 960 KiB), decompressed RD_STREAM_STEP at a time from
 * RD_STREAM_IN compressed bytes at a time. */
#define RD_STREAM_MIN (512u << 10)
#define RD_STREAM_STEP (128u << 10)
#define RD_STREAM_IN ((64u << 10) - 1)
#define RD_STREAM_ZSTD_GAIN (1u << 20)

/* How a physical value becomes its batch storage value (dtype.h). */
enum rd_conv {
    CV_BOOL,      /* BOOLEAN -> u8 */
    CV_I32,       /* INT32 -> i64, sign-extended */
    CV_U32,       /* INT32 holding an unsigned value -> i64, zero-extended */
    CV_I64,       /* INT64 -> i64 (also the bit pattern of UINT_64) */
    CV_TS_MILLIS, /* INT64 milliseconds -> microseconds */
    CV_TS_NANOS,  /* INT64 nanoseconds -> microseconds, rounded toward negative infinity */
    CV_INT96,     /* legacy Impala/Spark timestamp -> microseconds */
    CV_INT96_NS,  /* the same, kept exact (pq_reader_keep_nanos): i128 microseconds * 1000 + the
                     nanoseconds beyond the microsecond */
    CV_FLOAT,     /* FLOAT -> double */
    CV_DOUBLE,    /* DOUBLE -> double */
    CV_STR,       /* BYTE_ARRAY -> bytes, checked UTF-8 */
    CV_DEC_I32,   /* INT32 decimal -> i128 */
    CV_DEC_I64,   /* INT64 decimal -> i128 */
    CV_DEC_BE     /* FLBA or BYTE_ARRAY big-endian decimal -> i128 */
};

/* One SchemaElement, as read from the footer (pointers into the footer buffer). */
struct rd_sel {
    int type, rep, conv, logical, unit, int_bits;
    int32_t type_len, nchild, scale, precision, lscale, lprecision;
    bool has_type, has_nchild, ts_utc, int_signed;
    const uint8_t *name;
    size_t name_len;
};

struct rd_chunk {
    uint64_t start, end; /* byte range of the chunk's pages */
    int64_t nvalues;     /* ColumnMetaData.num_values */
    int codec;
};

struct rd_col {
    struct column_desc pub;
    char *name;
    int ptype;
    size_t width; /* bytes per PLAIN value for fixed-width types (0 for BYTE_ARRAY, BOOLEAN) */
    enum rd_conv cv;
    enum dtype_storage st;
    bool optional;
    bool binary_ok; /* the reader's binary_ok (load_dict sees only the column) */
    bool ns_kept;   /* pq_reader_keep_nanos: a TIMESTAMP(NANOS) column left in nanoseconds, or
                       an INT96 column read as CV_INT96_NS */
    size_t leaf;    /* its first leaf: the index of its column chunks in a row group */
    char *problem;  /* why astro cannot read it (nested, or a type without a dtype), or NULL */
    bool name_nul;  /* its name in the file holds a NUL byte (name is cut there) */
    bool skip;      /* pq_reader_select: not read, every value null */

    /* The chunk being read. */
    size_t rg;          /* index of the next row group to open */
    uint64_t rows_left; /* rows of the current chunk not yet returned */
    uint64_t pos, end;  /* file offsets: next unread byte of the chunk, end of the chunk */
    int codec;
    struct buf win; /* window of file bytes [win_off, win_off + win.len) */
    uint64_t win_off;
    struct buf page; /* decompressed page values (or the whole V1 body), or a streamed piece */

    /* A large PLAIN page being streamed (see the top of the file). */
    bool ps_on;
    int ps_codec;
    uint64_t ps_start, ps_cend; /* file range of its compressed values */
    struct pq_dstream ds;
    struct buf lvb; /* its definition levels */

    /* The chunk's dictionary, already in storage form. */
    bool has_dict, seen_data;
    size_t dict_n;
    void *dict_fix;     /* dict_n storage values (fixed-width types) */
    uint32_t *dict_off; /* DS_BYTES: dict_n + 1 offsets into dict_data */
    struct buf dict_data;

    /* The current data page. */
    uint64_t page_left;
    struct pq_rle lv; /* definition levels (optional columns) */
    int enc;          /* ENC_PLAIN, ENC_RLE_DICTIONARY (either dictionary flavour) or ENC_RLE */
    const uint8_t *vp, *vend; /* PLAIN values left */
    uint64_t bitpos;          /* PLAIN BOOLEAN: next bit at vp */
    struct pq_rle ix;         /* dictionary indices, or RLE booleans */
    struct pq_delta dv;       /* DELTA_BINARY_PACKED values, or byte-array (prefix) lengths */
    struct pq_delta dsuf;     /* DELTA_BYTE_ARRAY suffix lengths */
    struct buf prev;          /* DELTA_BYTE_ARRAY: the previous value */
    struct buf cur;           /* DELTA_BYTE_ARRAY: the value being built */
    uint64_t bss_n, bss_i;    /* BYTE_STREAM_SPLIT: values in the page, next one */
};

struct pq_reader {
    int fd;
    char *path;
    uint64_t size;
    size_t ncols;
    struct rd_col *cols;
    size_t nleaves;  /* column chunks per row group (a nested column has one per leaf) */
    bool any_column; /* pq_reader_open_fd_any: open despite columns with a problem */
    size_t nrg;
    uint64_t *rg_rows;
    struct rd_chunk *chunks; /* nrg * ncols, row group major */
    uint64_t nrows, row;
    size_t nkv;
    char **kv; /* 2 * nkv: key, value, ... */
    struct pq_decompressor dec;
    uint32_t *ix;
    size_t ix_cap;
    int64_t *tmp;    /* DELTA_BINARY_PACKED scratch, ix_cap values */
    struct buf tmpb; /* BYTE_STREAM_SPLIT gather scratch */
    size_t page_peak;  /* pq_reader_page_peak */
    size_t history;    /* output kept for snappy copies: PQ_SNAPPY_HISTORY, or a test's value */
    size_t stream_min; /* pages above it are streamed: RD_STREAM_MIN, or a test's value */
    bool binary_ok;  /* pq_reader_allow_binary: BYTE_ARRAY values are not checked for UTF-8 */
    int failed;      /* sticky error code */
    char failed_msg[sizeof(((struct err *)0)->msg)];
};

/* ---------------------------------------------------------------- footer */

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        if (n > 0) {
            memcpy(s, p, n);
        }
        s[n] = '\0';
    }
    return s;
}

static void parse_logical(struct td *t, struct rd_sel *s)
{
    struct td_struct u, in, unit;
    int ty, ty2;
    int16_t id, id2;
    td_struct_begin(t, &u);
    while (td_field(t, &u, &ty, &id)) {
        if (ty != TD_STRUCT) {
            td_skip(t, ty);
            continue;
        }
        s->logical = id;
        td_struct_begin(t, &in);
        while (td_field(t, &in, &ty2, &id2)) {
            if (id == LT_DECIMAL && id2 == 1) {
                s->lscale = (int32_t)td_int(t, ty2, INT32_MIN, INT32_MAX);
            } else if (id == LT_DECIMAL && id2 == 2) {
                s->lprecision = (int32_t)td_int(t, ty2, INT32_MIN, INT32_MAX);
            } else if ((id == LT_TIMESTAMP || id == LT_TIME) && id2 == 1) {
                s->ts_utc = td_bool(t, ty2);
            } else if ((id == LT_TIMESTAMP || id == LT_TIME) && id2 == 2 && ty2 == TD_STRUCT) {
                int ty3;
                int16_t id3;
                td_struct_begin(t, &unit);
                while (td_field(t, &unit, &ty3, &id3)) {
                    s->unit = id3;
                    td_skip(t, ty3);
                }
            } else if (id == LT_INTEGER && id2 == 1) {
                s->int_bits = (int)td_int(t, ty2, INT8_MIN, INT8_MAX);
            } else if (id == LT_INTEGER && id2 == 2) {
                s->int_signed = td_bool(t, ty2);
            } else {
                td_skip(t, ty2);
            }
        }
    }
}

static void parse_schema_el(struct td *t, struct rd_sel *s)
{
    struct td_struct st;
    int ty;
    int16_t id;
    memset(s, 0, sizeof(*s));
    s->type = -1;
    s->rep = REP_REQUIRED;
    s->conv = -1;
    td_struct_begin(t, &st);
    while (td_field(t, &st, &ty, &id)) {
        switch (id) {
        case 1:
            s->type = (int)td_int(t, ty, 0, 7);
            s->has_type = true;
            break;
        case 2: s->type_len = (int32_t)td_int(t, ty, INT32_MIN, INT32_MAX); break;
        case 3: s->rep = (int)td_int(t, ty, 0, 2); break;
        case 4: s->name = td_bin(t, ty, &s->name_len); break;
        case 5:
            s->nchild = (int32_t)td_int(t, ty, INT32_MIN, INT32_MAX);
            s->has_nchild = true;
            break;
        case 6: s->conv = (int)td_int(t, ty, INT32_MIN, INT32_MAX); break;
        case 7: s->scale = (int32_t)td_int(t, ty, INT32_MIN, INT32_MAX); break;
        case 8: s->precision = (int32_t)td_int(t, ty, INT32_MIN, INT32_MAX); break;
        case 10:
            if (ty == TD_STRUCT) {
                parse_logical(t, s);
            } else {
                td_skip(t, ty);
            }
            break;
        default: td_skip(t, ty); break;
        }
    }
    if (t->err == 0 && s->name == NULL) {
        td_fail(t, "a schema element has no name");
    }
}

/* Maps a leaf's physical type and annotations to an astro dtype and a conversion
 * (LogicalTypes.md; the LogicalType wins over the ConvertedType when both are present; an
 * unknown LogicalType falls back to the ConvertedType, then to the physical type). */
static int map_type(struct rd_col *c, const struct rd_sel *s, struct err *e)
{
    int lt = s->logical;
    if (lt == LT_UNKNOWN || lt > LT_FLOAT16 || lt == 9) {
        lt = LT_NONE; /* unknown to us (or the null type): read the physical type */
    }
    int ct = s->conv;
    int prec = lt == LT_DECIMAL ? s->lprecision : s->precision;
    int scale = lt == LT_DECIMAL ? s->lscale : s->scale;
    bool dec = lt == LT_DECIMAL || (lt == LT_NONE && ct == 5);
    struct dtype_info *ty = &c->pub.type;
    memset(ty, 0, sizeof(*ty));
    c->ptype = s->type;
    if (lt == LT_TIME || (lt == LT_NONE && (ct == 7 || ct == 8))) {
        return err_set(e, AE_FORMAT, "column '%s': TIME columns are not supported", c->name);
    }
    if (lt == LT_UUID || lt == LT_FLOAT16 || lt == LT_MAP || lt == LT_LIST ||
        (lt == LT_NONE && (ct == 1 || ct == 2 || ct == 3 || ct == 21))) {
        return err_set(e, AE_FORMAT, "column '%s': its logical type (%s) is not supported", c->name,
                       lt == LT_UUID      ? "UUID"
                       : lt == LT_FLOAT16 ? "FLOAT16"
                       : ct == 21         ? "INTERVAL"
                                          : "MAP/LIST");
    }
    if (dec) {
        if (prec < 1 || prec > 38 || scale < 0 || scale > prec) {
            return err_set(e, AE_FORMAT, "column '%s': decimal(%d,%d) is not supported", c->name,
                           prec, scale);
        }
        ty->id = DT_DECIMAL;
        ty->precision = (uint8_t)prec;
        ty->scale = (uint8_t)scale;
    }
    switch (s->type) {
    case PT_BOOLEAN:
        ty->id = DT_BOOL;
        c->cv = CV_BOOL;
        return 0;
    case PT_INT32:
        c->width = 4;
        if (dec) {
            c->cv = CV_DEC_I32;
            return 0;
        }
        c->cv = CV_I32;
        ty->id = DT_INT32;
        if (lt == LT_DATE || (lt == LT_NONE && ct == 6)) {
            ty->id = DT_DATE;
        } else if (lt == LT_INTEGER) {
            static const enum dtype sid[] = {DT_INT8, DT_INT16, DT_INT32};
            static const enum dtype uid[] = {DT_UINT8, DT_UINT16, DT_UINT32};
            int k = s->int_bits == 8 ? 0 : s->int_bits == 16 ? 1 : s->int_bits == 32 ? 2 : -1;
            if (k < 0) {
                return err_set(e, AE_FORMAT, "column '%s': INTEGER(%d) on INT32 is invalid",
                               c->name, s->int_bits);
            }
            ty->id = s->int_signed ? sid[k] : uid[k];
        } else if (lt == LT_NONE && ct >= 11 && ct <= 17 && ct != 14) {
            static const enum dtype byct[] = {DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64,
                                              DT_INT8,  DT_INT16,  DT_INT32};
            ty->id = byct[ct - 11];
        } else if (lt != LT_NONE || (ct != -1 && ct != 17)) {
            return err_set(e, AE_FORMAT, "column '%s': INT32 with this annotation is invalid",
                           c->name);
        }
        if (ty->id == DT_UINT8 || ty->id == DT_UINT16 || ty->id == DT_UINT32) {
            c->cv = CV_U32;
        }
        return 0;
    case PT_INT64:
        c->width = 8;
        if (dec) {
            c->cv = CV_DEC_I64;
            return 0;
        }
        c->cv = CV_I64;
        ty->id = DT_INT64;
        if (lt == LT_TIMESTAMP) {
            ty->id = s->ts_utc ? DT_TIMESTAMP_TZ : DT_TIMESTAMP;
            c->cv = s->unit == UNIT_MILLIS  ? CV_TS_MILLIS
                    : s->unit == UNIT_NANOS ? CV_TS_NANOS
                                            : CV_I64;
            if (s->unit < UNIT_MILLIS || s->unit > UNIT_NANOS) {
                return err_set(e, AE_FORMAT, "column '%s': TIMESTAMP without a valid unit",
                               c->name);
            }
        } else if (lt == LT_NONE && (ct == 9 || ct == 10)) {
            /* LogicalTypes.md: TIMESTAMP_MILLIS/MICROS mean isAdjustedToUTC = true. */
            ty->id = DT_TIMESTAMP_TZ;
            c->cv = ct == 9 ? CV_TS_MILLIS : CV_I64;
        } else if (lt == LT_INTEGER) {
            if (s->int_bits != 64) {
                return err_set(e, AE_FORMAT, "column '%s': INTEGER(%d) on INT64 is invalid",
                               c->name, s->int_bits);
            }
            ty->id = s->int_signed ? DT_INT64 : DT_UINT64;
        } else if (lt == LT_NONE && ct == 14) {
            ty->id = DT_UINT64;
        } else if (lt != LT_NONE || (ct != -1 && ct != 18)) {
            return err_set(e, AE_FORMAT, "column '%s': INT64 with this annotation is invalid",
                           c->name);
        }
        return 0;
    case PT_INT96:
        /* Deprecated Impala/Spark timestamps: nanoseconds of the day + Julian day, naive. */
        c->width = 12;
        c->cv = CV_INT96;
        ty->id = DT_TIMESTAMP;
        return 0;
    case PT_FLOAT:
        c->width = 4;
        c->cv = CV_FLOAT;
        ty->id = DT_FLOAT32;
        return 0;
    case PT_DOUBLE:
        c->width = 8;
        c->cv = CV_DOUBLE;
        ty->id = DT_FLOAT64;
        return 0;
    case PT_BYTE_ARRAY:
        if (dec) {
            c->cv = CV_DEC_BE;
            return 0;
        }
        /* STRING, ENUM, JSON, BSON and un-annotated binary all read as str; the bytes must be
         * UTF-8, which pq_reader_next checks value by value. */
        ty->id = DT_STR;
        c->cv = CV_STR;
        return 0;
    case PT_FLBA:
        if (s->type_len < 1) {
            return err_set(e, AE_FORMAT, "column '%s': FIXED_LEN_BYTE_ARRAY without a length",
                           c->name);
        }
        if (!dec) {
            return err_set(e, AE_FORMAT,
                           "column '%s': FIXED_LEN_BYTE_ARRAY is only supported for decimals",
                           c->name);
        }
        if (s->type_len > 16) {
            return err_set(e, AE_FORMAT, "column '%s': decimal of %d bytes is not supported",
                           c->name, (int)s->type_len);
        }
        c->width = (size_t)s->type_len;
        c->cv = CV_DEC_BE;
        return 0;
    default: break;
    }
    return err_set(e, AE_FORMAT, "column '%s': physical type %d is not supported", c->name,
                   s->type);
}

/* The number of leaves of the subtree at sel[*i] (a leaf counts 1), moving *i past it; -1 when
 * the subtree claims more elements than follow it, or nests deeper than 100 levels. */
static long count_leaves(const struct rd_sel *sel, size_t n, size_t *i, int depth)
{
    const struct rd_sel *s = &sel[(*i)++];
    if (!s->has_nchild || s->nchild <= 0) {
        return s->has_type ? 1 : 0;
    }
    if (depth > 100) {
        return -1;
    }
    long leaves = 0;
    for (int32_t k = 0; k < s->nchild; k++) {
        if (*i >= n) {
            return -1;
        }
        long l = count_leaves(sel, n, i, depth + 1);
        if (l < 0) {
            return -1;
        }
        leaves += l;
    }
    return leaves;
}

/* Builds the columns: one per child of the schema root. PARQUET.md §1.3: the schema list is the
 * tree flattened depth first, the root first. A child that is a group or a repeated field is a
 * nested column (a list, struct or map), read by no one: its problem says so, as for a leaf of a
 * type astro has no dtype for; with r->any_column such a column is only refused when selected
 * (pq_reader_next), else the first one fails the open. */
static int build_columns(struct pq_reader *r, const struct rd_sel *sel, size_t n, struct err *e)
{
    if (n == 0) {
        return err_set(e, AE_FORMAT, "the schema is empty");
    }
    size_t nroot = sel[0].nchild > 0 ? (size_t)sel[0].nchild : 0;
    if (nroot > n - 1) {
        return err_set(e, AE_FORMAT, "the schema root has %d children but %zu elements follow it",
                       (int)sel[0].nchild, n - 1);
    }
    r->ncols = nroot;
    r->cols = calloc(r->ncols ? r->ncols : 1, sizeof(*r->cols));
    if (r->cols == NULL) {
        return err_set(e, AE_NOMEM, "out of memory reading the schema");
    }
    size_t at = 1;
    struct err first; /* without any_column: the first column of a type astro lacks */
    err_clear(&first);
    for (size_t i = 0; i < r->ncols; i++) {
        struct rd_col *c = &r->cols[i];
        buf_init(&c->win, 0);
        buf_init(&c->page, 0);
        buf_init(&c->lvb, 0);
        pq_dstream_init(&c->ds);
        buf_init(&c->dict_data, 0);
        buf_init(&c->prev, 0);
        buf_init(&c->cur, 0);
        if (at >= n) {
            return err_set(e, AE_FORMAT,
                           "the schema root has %d children but %zu elements follow it",
                           (int)sel[0].nchild, n - 1);
        }
        const struct rd_sel *s = &sel[at];
        c->name = dup_n(s->name, s->name_len);
        if (c->name == NULL) {
            return err_set(e, AE_NOMEM, "out of memory reading the schema");
        }
        c->pub.name = c->name;
        c->name_nul = memchr(s->name, '\0', s->name_len) != NULL;
        c->leaf = r->nleaves;
        bool nested = (s->has_nchild && s->nchild > 0) || !s->has_type || s->rep == REP_REPEATED;
        long leaves = count_leaves(sel, n, &at, 0);
        if (leaves < 0) {
            return err_set(e, AE_FORMAT,
                           "column '%s': its group claims more schema elements "
                           "than follow it",
                           c->name);
        }
        r->nleaves += (size_t)leaves;
        int rc = 0;
        struct err pe;
        err_clear(&pe);
        if (nested) {
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(s->name_len < 200 ? s->name_len : 200),
                     (const char *)s->name);
            rc = err_set(&pe, AE_FORMAT,
                         "column '%s' is nested (a list, struct or map): astro reads flat "
                         "columns only",
                         name);
        } else {
            c->optional = s->rep == REP_OPTIONAL;
            c->pub.nullable = c->optional;
            rc = map_type(c, s, &pe);
        }
        if (rc == AE_FORMAT && r->any_column) {
            /* Read as nulls of str when not selected; refused when selected. */
            c->problem = strdup(pe.msg);
            if (c->problem == NULL) {
                return err_set(e, AE_NOMEM, "out of memory reading the schema");
            }
            memset(&c->pub.type, 0, sizeof(c->pub.type));
            c->pub.type.id = DT_STR;
            c->pub.nullable = true;
            c->optional = true;
            c->ptype = -1;
        } else if (rc == AE_FORMAT && !nested) {
            /* A nested column, anywhere, is named first (the schema's shape before its types). */
            if (first.code == 0) {
                first = pe;
            }
        } else if (rc != 0) {
            *e = pe;
            return rc;
        }
        c->st = dtype_storage(c->pub.type.id);
    }
    if (at != n) {
        return err_set(e, AE_FORMAT, "the schema root has %d children but %zu elements follow it",
                       (int)sel[0].nchild, n - 1);
    }
    if (first.code != 0) {
        *e = first;
        return first.code;
    }
    return 0;
}

/* ColumnMetaData fields a reader needs. */
struct rd_cmeta {
    int type, codec;
    int64_t nvalues, total_comp, data_off, dict_off;
    bool has_type, has_codec, has_nvalues, has_comp, has_data_off, has_dict_off;
};

static void parse_cmeta(struct td *t, struct rd_cmeta *m)
{
    struct td_struct st;
    int ty;
    int16_t id;
    td_struct_begin(t, &st);
    while (td_field(t, &st, &ty, &id)) {
        switch (id) {
        case 1:
            m->type = (int)td_int(t, ty, 0, 7);
            m->has_type = true;
            break;
        case 4:
            m->codec = (int)td_int(t, ty, 0, INT32_MAX);
            m->has_codec = true;
            break;
        case 5:
            m->nvalues = td_int(t, ty, 0, INT64_MAX);
            m->has_nvalues = true;
            break;
        case 7:
            m->total_comp = td_int(t, ty, 0, INT64_MAX);
            m->has_comp = true;
            break;
        case 9:
            m->data_off = td_int(t, ty, 0, INT64_MAX);
            m->has_data_off = true;
            break;
        case 11:
            m->dict_off = td_int(t, ty, INT64_MIN, INT64_MAX);
            m->has_dict_off = true;
            break;
        default: td_skip(t, ty); break;
        }
    }
}

/* Parses the row_groups list at t and fills r->rg_rows and r->chunks, checking every chunk. */
static int parse_row_groups(struct pq_reader *r, struct td *t, int ty, uint64_t data_end,
                            struct err *e)
{
    int et;
    size_t n;
    if (!td_list(t, ty, &et, &n)) {
        return AE_FORMAT;
    }
    if (et != TD_STRUCT) {
        return td_fail(t, "row_groups is not a list of structs");
    }
    r->nrg = n;
    r->rg_rows = calloc(n ? n : 1, sizeof(*r->rg_rows));
    if (n > 0 && r->nleaves > SIZE_MAX / sizeof(*r->chunks) / n) {
        return err_set(e, AE_NOMEM, "too many column chunks");
    }
    size_t nch = n * r->nleaves;
    r->chunks = calloc(nch ? nch : 1, sizeof(*r->chunks));
    if (r->rg_rows == NULL || r->chunks == NULL) {
        return err_set(e, AE_NOMEM, "out of memory reading the row groups");
    }
    for (size_t g = 0; g < n && t->err == 0; g++) {
        struct td_struct st;
        int fty;
        int16_t id;
        size_t ncc = 0;
        bool has_rows = false;
        int64_t rows = 0;
        td_struct_begin(t, &st);
        while (td_field(t, &st, &fty, &id)) {
            if (id == 3) {
                rows = td_int(t, fty, 0, INT64_MAX);
                has_rows = true;
                continue;
            }
            if (id != 1) {
                td_skip(t, fty);
                continue;
            }
            int cet;
            size_t nc;
            if (!td_list(t, fty, &cet, &nc)) {
                break;
            }
            if (cet != TD_STRUCT || nc != r->nleaves) {
                if (t->err == 0) {
                    return err_set(e, AE_FORMAT,
                                   "row group %zu has %zu column chunks for %zu columns", g, nc,
                                   r->nleaves);
                }
                break;
            }
            size_t ci = 0; /* the column of chunk c */
            for (size_t c = 0; c < nc && t->err == 0; c++) {
                struct td_struct cs;
                int cty;
                int16_t cid;
                struct rd_cmeta m;
                memset(&m, 0, sizeof(m));
                bool has_meta = false;
                td_struct_begin(t, &cs);
                while (td_field(t, &cs, &cty, &cid)) {
                    if (cid == 1 && cty == TD_BINARY) {
                        size_t plen;
                        (void)td_bin(t, cty, &plen);
                        if (t->err == 0 && plen > 0) {
                            return err_set(e, AE_FORMAT,
                                           "column chunks stored in other files are not "
                                           "supported");
                        }
                    } else if (cid == 3 && cty == TD_STRUCT) {
                        parse_cmeta(t, &m);
                        has_meta = true;
                    } else if ((cid == 8 || cid == 9) && t->err == 0) {
                        return err_set(e, AE_FORMAT, "encrypted columns are not supported");
                    } else {
                        td_skip(t, cty);
                    }
                }
                if (t->err != 0) {
                    break;
                }
                while (ci + 1 < r->ncols && r->cols[ci + 1].leaf <= c) {
                    ci++;
                }
                const struct rd_col *col = &r->cols[ci];
                if (col->problem != NULL) {
                    continue; /* never read: a nested column's leaves, or a type astro lacks */
                }
                if (!has_meta || !m.has_type || !m.has_codec || !m.has_nvalues || !m.has_comp ||
                    !m.has_data_off) {
                    return err_set(e, AE_FORMAT,
                                   "column '%s' in row group %zu has incomplete metadata",
                                   col->name, g);
                }
                if (m.type != col->ptype) {
                    return err_set(e, AE_FORMAT,
                                   "column '%s' in row group %zu has physical type %d, the schema "
                                   "says %d",
                                   col->name, g, m.type, col->ptype);
                }
                if (!pq_codec_supported(m.codec)) {
                    return err_set(e, AE_FORMAT,
                                   "column '%s': compression codec %s is not supported", col->name,
                                   pq_codec_name(m.codec));
                }
                /* PARQUET.md §1.13.1-2: the chunk starts at the dictionary page when there is
                 * one; a dictionary offset of 0 (Dremio) or past the data offset is bogus. */
                uint64_t start = (uint64_t)m.data_off;
                if (m.has_dict_off && m.dict_off >= 4 && m.dict_off < m.data_off) {
                    start = (uint64_t)m.dict_off;
                }
                struct rd_chunk *ch = &r->chunks[g * r->nleaves + c];
                ch->start = start;
                ch->end = (uint64_t)m.total_comp; /* a length until checked below */
                ch->codec = m.codec;
                ch->nvalues = m.nvalues;
            }
            ncc = nc;
            td_list_end(t);
        }
        if (t->err != 0) {
            break;
        }
        if (!has_rows || ncc != r->nleaves) {
            return err_set(e, AE_FORMAT, "row group %zu has no num_rows or no columns", g);
        }
        for (size_t c = 0; c < r->ncols; c++) {
            if (r->cols[c].problem != NULL) {
                continue;
            }
            struct rd_chunk *ch = &r->chunks[g * r->nleaves + r->cols[c].leaf];
            /* Flat columns have exactly one value (null or not) per row. */
            if (ch->nvalues != rows) {
                return err_set(e, AE_FORMAT,
                               "column '%s' in row group %zu has %lld values for %lld rows",
                               r->cols[c].name, g, (long long)ch->nvalues, (long long)rows);
            }
            /* A 0-row group is never read, and writers leave its offsets at 0
             * (parquet-testing column_chunk_key_value_metadata.parquet). */
            uint64_t len = ch->end;
            if (rows > 0 && (ch->start < 4 || ch->start > data_end || len > data_end - ch->start)) {
                return err_set(e, AE_FORMAT,
                               "column '%s' in row group %zu: chunk bytes %llu..+%llu lie "
                               "outside the file's data (%llu bytes)",
                               r->cols[c].name, g, (unsigned long long)ch->start,
                               (unsigned long long)len, (unsigned long long)data_end);
            }
            ch->end = rows > 0 ? ch->start + len : ch->start;
        }
        r->rg_rows[g] = (uint64_t)rows;
        if (r->nrows > UINT64_MAX - (uint64_t)rows) {
            return err_set(e, AE_FORMAT, "row counts overflow");
        }
        r->nrows += (uint64_t)rows;
    }
    td_list_end(t);
    return t->err;
}

static int parse_kv(struct pq_reader *r, struct td *t, int ty, struct err *e)
{
    int et;
    size_t n;
    if (!td_list(t, ty, &et, &n)) {
        return AE_FORMAT;
    }
    if (et != TD_STRUCT) {
        return td_fail(t, "key_value_metadata is not a list of structs");
    }
    r->kv = calloc(2 * n + 1, sizeof(*r->kv));
    if (r->kv == NULL) {
        return err_set(e, AE_NOMEM, "out of memory reading key-value metadata");
    }
    for (size_t i = 0; i < n && t->err == 0; i++) {
        struct td_struct st;
        int fty;
        int16_t id;
        const uint8_t *k = NULL, *v = NULL;
        size_t kn = 0, vn = 0;
        td_struct_begin(t, &st);
        while (td_field(t, &st, &fty, &id)) {
            if (id == 1) {
                k = td_bin(t, fty, &kn);
            } else if (id == 2) {
                v = td_bin(t, fty, &vn);
            } else {
                td_skip(t, fty);
            }
        }
        if (t->err != 0 || k == NULL) {
            break; /* a key-value without a key is skipped below by the error check */
        }
        /* Kept in file order: pq_reader_kv returns the first occurrence of a key. A missing
         * value reads as "". */
        r->kv[2 * r->nkv] = dup_n(k, kn);
        r->kv[2 * r->nkv + 1] = dup_n(v ? v : (const uint8_t *)"", vn);
        if (r->kv[2 * r->nkv] == NULL || r->kv[2 * r->nkv + 1] == NULL) {
            r->nkv++;
            return err_set(e, AE_NOMEM, "out of memory reading key-value metadata");
        }
        r->nkv++;
    }
    td_list_end(t);
    return t->err;
}

/* Parses FileMetaData. The row_groups list is parsed after the whole struct because it needs
 * the schema, which a writer may place after it (thrift fields need not be in id order). */
static int parse_footer(struct pq_reader *r, const uint8_t *p, size_t n, uint64_t data_end,
                        struct err *e)
{
    struct td t;
    struct td_struct st;
    int ty, rg_ty = 0;
    int16_t id;
    struct rd_sel *sel = NULL;
    size_t nsel = 0;
    bool has_schema = false, has_rows = false;
    int64_t num_rows = 0;
    const uint8_t *rg_at = NULL;
    int rc = 0;
    td_init(&t, p, n);
    td_struct_begin(&t, &st);
    while (rc == 0 && td_field(&t, &st, &ty, &id)) {
        switch (id) {
        case 2: {
            int et;
            if (has_schema || !td_list(&t, ty, &et, &nsel)) {
                td_fail(&t, "bad schema list");
                break;
            }
            if (et != TD_STRUCT) {
                td_fail(&t, "schema is not a list of structs");
                break;
            }
            sel = calloc(nsel ? nsel : 1, sizeof(*sel));
            if (sel == NULL) {
                rc = err_set(e, AE_NOMEM, "out of memory reading the schema");
                break;
            }
            for (size_t i = 0; i < nsel && t.err == 0; i++) {
                parse_schema_el(&t, &sel[i]);
            }
            td_list_end(&t);
            has_schema = true;
            break;
        }
        case 3:
            num_rows = td_int(&t, ty, 0, INT64_MAX);
            has_rows = true;
            break;
        case 4:
            rg_at = t.p;
            rg_ty = ty;
            td_skip(&t, ty);
            break;
        case 5:
            if (r->kv != NULL) {
                td_skip(&t, ty); /* a repeated field: keep the first */
            } else {
                rc = parse_kv(r, &t, ty, e);
            }
            break;
        case 8: rc = err_set(e, AE_FORMAT, "encrypted Parquet files are not supported"); break;
        default: td_skip(&t, ty); break;
        }
    }
    if (rc == 0 && t.err == 0 && (!has_schema || !has_rows || rg_at == NULL)) {
        rc = err_set(e, AE_FORMAT, "the footer lacks its schema, num_rows or row_groups");
    }
    if (rc == 0 && t.err == 0) {
        rc = build_columns(r, sel, nsel, e);
    }
    if (rc == 0 && t.err == 0) {
        struct td t2;
        td_init(&t2, rg_at, (size_t)(p + n - rg_at));
        rc = parse_row_groups(r, &t2, rg_ty, data_end, e);
        if (t2.err != 0) {
            t.err = t2.err;
            t.why = t2.why;
            t.p = t.base + (size_t)(t2.p - p);
        }
    }
    if (t.err != 0) {
        rc = err_set(e, AE_FORMAT, "corrupt footer metadata: %s (near byte %zu of %zu)",
                     t.why ? t.why : "invalid thrift", td_pos(&t), n);
    } else if (rc == 0 && r->ncols == 0 && r->nrows > 0) {
        rc = err_set(e, AE_FORMAT, "the file has %llu rows but no columns",
                     (unsigned long long)r->nrows);
    } else if (rc == 0 && (uint64_t)num_rows != r->nrows) {
        rc = err_set(e, AE_FORMAT, "the footer says %lld rows but its row groups hold %llu",
                     (long long)num_rows, (unsigned long long)r->nrows);
    }
    free(sel);
    return rc;
}

static int pread_full(int fd, void *dst, size_t n, uint64_t off, struct err *e)
{
    uint8_t *p = (uint8_t *)dst;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return err_errno(e, errno, "cannot read");
        }
        if (k == 0) {
            return err_set(e, AE_FORMAT, "the file is shorter than its metadata says");
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Reads the footer of r->fd (opened, owned by r) into r. */
static int open_fd(struct pq_reader *r, struct err *e)
{
    int rc = 0;
    uint8_t tail[8], head[4];
    uint8_t *footer = NULL;
    const char *path = r->path;
    struct stat sb;
    if (fstat(r->fd, &sb) != 0) {
        rc = err_errno(e, errno, "cannot stat %s", path);
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = err_set(e, AE_IO, "%s is not a regular file", path);
        goto fail;
    }
    r->size = (uint64_t)sb.st_size;
    /* README.md "File format": "PAR1" ... FileMetaData, u32 LE length, "PAR1". */
    if (r->size < 12) {
        rc = err_set(e, AE_FORMAT, "%s is not a Parquet file (only %llu bytes)", path,
                     (unsigned long long)r->size);
        goto fail;
    }
    rc = pread_full(r->fd, head, 4, 0, e);
    if (rc == 0) {
        rc = pread_full(r->fd, tail, 8, r->size - 8, e);
    }
    if (rc != 0) {
        err_prefix(e, "%s", path);
        goto fail;
    }
    if (memcmp(tail + 4, "PARE", 4) == 0) {
        rc = err_set(e, AE_FORMAT, "%s: encrypted Parquet files are not supported", path);
        goto fail;
    }
    if (memcmp(head, "PAR1", 4) == 0 && memcmp(tail + 4, "PAR1", 4) != 0) {
        rc = err_set(e, AE_FORMAT,
                     "%s starts as a Parquet file but does not end with one (no PAR1 magic after "
                     "the footer): truncated?",
                     path);
        goto fail;
    }
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        rc = err_set(e, AE_FORMAT, "%s is not a Parquet file (no PAR1 magic)", path);
        goto fail;
    }
    uint32_t flen = pq_get_u32le(tail);
    if (flen == 0 || (uint64_t)flen > r->size - 12 || flen > RD_MAX_FOOTER) {
        rc = err_set(e, AE_FORMAT, "%s: footer length %u does not fit the file (%llu bytes)", path,
                     flen, (unsigned long long)r->size);
        goto fail;
    }
    footer = malloc(flen);
    if (footer == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory reading the footer of %s", path);
        goto fail;
    }
    uint64_t data_end = r->size - 8 - flen;
    rc = pread_full(r->fd, footer, flen, data_end, e);
    if (rc == 0) {
        rc = parse_footer(r, footer, flen, data_end, e);
    }
    if (rc != 0) {
        err_prefix(e, "%s", path);
    }
fail:
    free(footer);
    return rc;
}

int pq_reader_open(struct pq_reader **out, const char *path, struct err *e)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return err_errno(e, errno, "cannot open %s", path);
    }
    int rc = pq_reader_open_fd(out, fd, path, e);
    close(fd); /* the reader reads its own duplicate */
    return rc;
}

static int open_fd_as(struct pq_reader **out, int fd, const char *name, bool any_column,
                      struct err *e)
{
    *out = NULL;
    struct pq_reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return err_set(e, AE_NOMEM, "out of memory opening %s", name);
    }
    r->fd = -1;
    r->any_column = any_column;
    r->history = PQ_SNAPPY_HISTORY;
    r->stream_min = RD_STREAM_MIN;
    pq_decompressor_init(&r->dec);
    r->path = strdup(name);
    if (r->path == NULL) {
        pq_reader_free(r);
        return err_set(e, AE_NOMEM, "out of memory opening %s", name);
    }
    int rc = 0;
    r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (r->fd < 0) {
        rc = err_errno(e, errno, "cannot read %s", name);
    } else {
        rc = open_fd(r, e);
    }
    if (rc != 0) {
        pq_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int pq_reader_open_fd(struct pq_reader **out, int fd, const char *name, struct err *e)
{
    return open_fd_as(out, fd, name, false, e);
}

int pq_reader_open_fd_any(struct pq_reader **out, int fd, const char *name, struct err *e)
{
    return open_fd_as(out, fd, name, true, e);
}

const char *pq_reader_column_problem(const struct pq_reader *r, size_t i)
{
    return i < r->ncols ? r->cols[i].problem : NULL;
}

bool pq_reader_column_name_nul(const struct pq_reader *r, size_t i)
{
    return i < r->ncols && r->cols[i].name_nul;
}

void pq_reader_select(struct pq_reader *r, size_t i, bool on)
{
    if (i < r->ncols) {
        r->cols[i].skip = !on;
    }
}

void pq_reader_allow_binary(struct pq_reader *r)
{
    r->binary_ok = true;
    for (size_t i = 0; i < r->ncols; i++) {
        r->cols[i].binary_ok = true;
    }
}

size_t pq_reader_nrow_groups(const struct pq_reader *r)
{
    return r->nrg;
}

void pq_reader_keep_nanos(struct pq_reader *r)
{
    for (size_t i = 0; i < r->ncols; i++) {
        if (r->cols[i].cv == CV_TS_NANOS) {
            r->cols[i].cv = CV_I64;
            r->cols[i].ns_kept = true;
        } else if (r->cols[i].cv == CV_INT96) {
            r->cols[i].cv = CV_INT96_NS;
            r->cols[i].st = DS_I128;
            r->cols[i].ns_kept = true;
        }
    }
}

bool pq_reader_column_nanos(const struct pq_reader *r, size_t i)
{
    return i < r->ncols && r->cols[i].ns_kept;
}

struct dtype_info pq_reader_batch_type(const struct pq_reader *r, size_t i)
{
    struct dtype_info t = r->cols[i].pub.type;
    if (r->cols[i].cv == CV_INT96_NS) {
        t.id = DT_DECIMAL;
        t.precision = 38;
        t.scale = 3;
    }
    return t;
}

size_t pq_reader_page_peak(const struct pq_reader *r)
{
    return r->page_peak;
}

void pq_reader_stream_tune(struct pq_reader *r, size_t min_page, size_t history)
{
    r->stream_min = min_page;
    r->history = history;
}

uint64_t pq_reader_row_group_rows(const struct pq_reader *r, size_t i)
{
    return i < r->nrg ? r->rg_rows[i] : 0;
}

size_t pq_reader_ncols(const struct pq_reader *r)
{
    return r->ncols;
}

const struct column_desc *pq_reader_column(const struct pq_reader *r, size_t i)
{
    return i < r->ncols ? &r->cols[i].pub : NULL;
}

uint64_t pq_reader_nrows(const struct pq_reader *r)
{
    return r->nrows;
}

uint64_t pq_reader_size(const struct pq_reader *r)
{
    return r->size;
}

const char *pq_reader_kv(const struct pq_reader *r, const char *key)
{
    for (size_t i = 0; i < r->nkv; i++) {
        if (strcmp(r->kv[2 * i], key) == 0) {
            return r->kv[2 * i + 1];
        }
    }
    return NULL;
}

static void col_release(struct rd_col *c)
{
    free(c->name);
    free(c->problem);
    buf_release(&c->win);
    buf_release(&c->page);
    buf_release(&c->lvb);
    pq_dstream_release(&c->ds);
    buf_release(&c->dict_data);
    buf_release(&c->prev);
    buf_release(&c->cur);
    free(c->dict_fix);
    free(c->dict_off);
}

void pq_reader_free(struct pq_reader *r)
{
    if (r == NULL) {
        return;
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    for (size_t i = 0; r->cols != NULL && i < r->ncols; i++) {
        col_release(&r->cols[i]);
    }
    for (size_t i = 0; r->kv != NULL && i < 2 * r->nkv; i++) {
        free(r->kv[i]);
    }
    pq_decompressor_release(&r->dec);
    free(r->kv);
    free(r->cols);
    free(r->rg_rows);
    free(r->chunks);
    free(r->ix);
    free(r->tmp);
    buf_release(&r->tmpb);
    free(r->path);
    free(r);
}

/* ---------------------------------------------------------------- pages */

/* Makes the file bytes [c->pos, c->pos + need) available at win_at(c); need must not run past
 * the chunk. Reads ahead up to ahead bytes inside the chunk so small pages cost no syscall. */
static int win_ensure_ahead(struct pq_reader *r, struct rd_col *c, size_t need, size_t ahead,
                            struct err *e)
{
    uint64_t have_end = c->win_off + c->win.len;
    if (c->pos >= c->win_off && c->pos <= have_end && need <= have_end - c->pos) {
        return 0;
    }
    /* Keep the bytes already read from pos on, then read the rest. */
    size_t keep = 0;
    if (c->pos >= c->win_off && c->pos < have_end) {
        keep = (size_t)(have_end - c->pos);
        memmove(c->win.data, c->win.data + (c->pos - c->win_off), keep);
    }
    uint64_t left = c->end - c->pos;
    size_t want = need > ahead ? need : ahead;
    if (want > left) {
        want = (size_t)left;
    }
    c->win.len = keep;
    c->win_off = c->pos;
    if (want > keep) {
        if (buf_reserve(&c->win, want - keep) != 0) {
            return err_set(e, AE_NOMEM, "out of memory reading a page of %zu bytes", want);
        }
        int rc = pread_full(r->fd, c->win.data + keep, want - keep, c->pos + keep, e);
        if (rc != 0) {
            c->win.len = 0;
            return rc;
        }
        c->win.len = want;
    }
    return 0;
}

static int win_ensure(struct pq_reader *r, struct rd_col *c, size_t need, struct err *e)
{
    return win_ensure_ahead(r, c, need, RD_READ_AHEAD, e);
}

static const uint8_t *win_at(const struct rd_col *c)
{
    return (const uint8_t *)c->win.data + (c->pos - c->win_off);
}

/* Records the page memory column c holds now (its page buffer and its window). */
static void note_peak(struct pq_reader *r, const struct rd_col *c)
{
    size_t held = c->page.cap + c->win.cap;
    if (held > r->page_peak) {
        r->page_peak = held;
    }
}

/* Called once a page's compressed bytes have been decompressed into c->page and nothing points
 * into the window any more: a window that grew past the read-ahead to hold a large page is
 * released, so that each column does not keep its last compressed page alongside its
 * decompressed one (DuckDB writes a whole row group's column as one page). The next page is
 * read again from the file. */
static void win_drop_large(struct rd_col *c)
{
    if (c->win.cap > 2 * (size_t)RD_READ_AHEAD) {
        buf_release(&c->win);
        c->win_off = 0;
    }
}

struct rd_page {
    int type;
    int32_t usize, csize;
    bool has_crc;
    uint32_t crc;
    int64_t nvalues, nrows, nnulls; /* nrows: V2 only */
    int enc, def_enc;
    int32_t def_len, rep_len; /* V2 only */
    bool compressed;          /* V2 only */
    bool has_sub;
};

static void parse_page_sub(struct td *t, struct rd_page *h, int which)
{
    struct td_struct st;
    int ty;
    int16_t id;
    td_struct_begin(t, &st);
    h->has_sub = true;
    while (td_field(t, &st, &ty, &id)) {
        if (id == 1) {
            h->nvalues = td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if (which == PAGE_DATA_V2 && id == 2) {
            h->nnulls = td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if (which == PAGE_DATA_V2 && id == 3) {
            h->nrows = td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if ((which != PAGE_DATA_V2 && id == 2) || (which == PAGE_DATA_V2 && id == 4)) {
            h->enc = (int)td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if (which == PAGE_DATA && id == 3) {
            h->def_enc = (int)td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if (which == PAGE_DATA_V2 && id == 5) {
            h->def_len = (int32_t)td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if (which == PAGE_DATA_V2 && id == 6) {
            h->rep_len = (int32_t)td_int(t, ty, INT32_MIN, INT32_MAX);
        } else if (which == PAGE_DATA_V2 && id == 7) {
            h->compressed = td_bool(t, ty);
        } else {
            td_skip(t, ty);
        }
    }
}

static void parse_page_header(struct td *t, struct rd_page *h)
{
    struct td_struct st;
    int ty;
    int16_t id;
    bool has_type = false, has_u = false, has_c = false;
    memset(h, 0, sizeof(*h));
    h->def_enc = ENC_RLE;
    h->compressed = true; /* parquet.thrift: is_compressed defaults to true */
    td_struct_begin(t, &st);
    while (td_field(t, &st, &ty, &id)) {
        switch (id) {
        case 1:
            h->type = (int)td_int(t, ty, INT32_MIN, INT32_MAX);
            has_type = true;
            break;
        case 2:
            h->usize = (int32_t)td_int(t, ty, 0, INT32_MAX);
            has_u = true;
            break;
        case 3:
            h->csize = (int32_t)td_int(t, ty, 0, INT32_MAX);
            has_c = true;
            break;
        case 4:
            h->crc = (uint32_t)td_int(t, ty, INT32_MIN, INT32_MAX);
            h->has_crc = true;
            break;
        case 5:
        case 7:
        case 8:
            if (ty == TD_STRUCT && !h->has_sub &&
                ((id == 5 && h->type == PAGE_DATA) || (id == 7 && h->type == PAGE_DICTIONARY) ||
                 (id == 8 && h->type == PAGE_DATA_V2))) {
                parse_page_sub(t, h, h->type);
            } else {
                td_skip(t, ty);
            }
            break;
        default: td_skip(t, ty); break;
        }
    }
    if (t->err == 0 && (!has_type || !has_u || !has_c)) {
        td_fail(t, "a page header lacks its type or sizes");
    }
}

static int col_fail(struct rd_col *c, int code, const char *what, struct err *e)
{
    return err_set(e, code, "column '%s': %s", c->name, what);
}

/* An INT96 timestamp at q in microseconds, and in *rem the nanoseconds beyond them (with the
 * sign of the nanoseconds of the day, as their truncation toward zero). 8 bytes LE nanoseconds
 * of the day, then 4 bytes LE signed Julian day number (2440588 is 1970-01-01). Spark, the main
 * INT96 writer, computes its Julian microseconds in wrapping 64-bit arithmetic, so dates far
 * from 1970 (year 290000 in parquet-testing int96_from_spark.md) only come back through the same
 * wrapping computation, which is what is done here (in unsigned arithmetic, as Spark's
 * fromJulianDay does in Java longs; nanoseconds truncate toward zero). */
static int64_t int96_us(const uint8_t *q, int *rem)
{
    int64_t ns = (int64_t)pq_get_u64le(q);
    int64_t day = (int64_t)(int32_t)pq_get_u32le(q + 8) - 2440588;
    uint64_t us = (uint64_t)day * 86400000000u + (uint64_t)(ns / 1000);
    *rem = (int)(ns % 1000);
    return (int64_t)us;
}

/* Decodes k PLAIN values from [*pp, end) into dst (storage form). */
static int plain_fixed(struct rd_col *c, const uint8_t **pp, const uint8_t *end, uint64_t *bitpos,
                       void *dst, size_t k, struct err *e)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p);
    if (c->cv == CV_BOOL) {
        /* Encodings.md PLAIN BOOLEAN: bit-packed, LSB first. */
        if (*bitpos + k > (uint64_t)avail * 8) {
            return col_fail(c, AE_FORMAT, "page has fewer values than its levels say", e);
        }
        uint8_t *o = dst;
        uint64_t b = *bitpos;
        for (size_t i = 0; i < k; i++, b++) {
            o[i] = (uint8_t)((p[b >> 3] >> (b & 7)) & 1);
        }
        *bitpos = b;
        return 0;
    }
    if (c->ptype == PT_BYTE_ARRAY) { /* decimal on BYTE_ARRAY */
        __int128 *o = dst;
        for (size_t i = 0; i < k; i++) {
            if ((size_t)(end - p) < 4) {
                return col_fail(c, AE_FORMAT, "page has fewer values than its levels say", e);
            }
            uint32_t n = pq_get_u32le(p);
            p += 4;
            if (n > (size_t)(end - p)) {
                return col_fail(c, AE_FORMAT, "a value runs past the end of its page", e);
            }
            if (n > 16) {
                return col_fail(c, AE_FORMAT, "a decimal value is wider than 16 bytes", e);
            }
            o[i] = pq_get_i128be(p, n);
            p += n;
        }
        *pp = p;
        return 0;
    }
    if (k > avail / c->width) {
        return col_fail(c, AE_FORMAT, "page has fewer values than its levels say", e);
    }
    int64_t *i64 = dst;
    double *f64 = dst;
    __int128 *i128 = dst;
    switch (c->cv) {
    case CV_I32:
        for (size_t i = 0; i < k; i++) {
            i64[i] = (int32_t)pq_get_u32le(p + 4 * i);
        }
        break;
    case CV_U32:
        for (size_t i = 0; i < k; i++) {
            i64[i] = (int64_t)pq_get_u32le(p + 4 * i);
        }
        break;
    case CV_I64:
        for (size_t i = 0; i < k; i++) {
            i64[i] = (int64_t)pq_get_u64le(p + 8 * i);
        }
        break;
    case CV_TS_MILLIS:
        for (size_t i = 0; i < k; i++) {
            if (__builtin_mul_overflow((int64_t)pq_get_u64le(p + 8 * i), 1000, &i64[i])) {
                return col_fail(c, AE_FORMAT, "a millisecond timestamp is out of range", e);
            }
        }
        break;
    case CV_TS_NANOS:
        /* Microseconds are astro's unit: nanoseconds are truncated toward negative infinity. */
        for (size_t i = 0; i < k; i++) {
            int64_t v = (int64_t)pq_get_u64le(p + 8 * i);
            int64_t q = v / 1000;
            i64[i] = (v % 1000 < 0) ? q - 1 : q;
        }
        break;
    case CV_INT96:
        for (size_t i = 0; i < k; i++) {
            int rem;
            i64[i] = int96_us(p + 12 * i, &rem);
        }
        break;
    case CV_INT96_NS:
        for (size_t i = 0; i < k; i++) {
            /* As CV_INT96, and the nanoseconds the microseconds leave out kept beside them. */
            int rem;
            int64_t us = int96_us(p + 12 * i, &rem);
            i128[i] = (__int128)us * 1000 + rem;
        }
        break;
    case CV_FLOAT:
        for (size_t i = 0; i < k; i++) {
            uint32_t u = pq_get_u32le(p + 4 * i);
            float f;
            memcpy(&f, &u, 4);
            f64[i] = f;
        }
        break;
    case CV_DOUBLE:
        for (size_t i = 0; i < k; i++) {
            uint64_t u = pq_get_u64le(p + 8 * i);
            memcpy(&f64[i], &u, 8);
        }
        break;
    case CV_DEC_I32:
        for (size_t i = 0; i < k; i++) {
            i128[i] = (int32_t)pq_get_u32le(p + 4 * i);
        }
        break;
    case CV_DEC_I64:
        for (size_t i = 0; i < k; i++) {
            i128[i] = (int64_t)pq_get_u64le(p + 8 * i);
        }
        break;
    case CV_DEC_BE:
        for (size_t i = 0; i < k; i++) {
            i128[i] = pq_get_i128be(p + c->width * i, c->width);
        }
        break;
    default: return col_fail(c, AE_INTERNAL, "plain_fixed called for bytes", e);
    }
    *pp = p + k * c->width;
    return 0;
}

/* Loads a dictionary page body (PLAIN values, Encodings.md "Dictionary Encoding"). */
static int load_dict(struct rd_col *c, const struct rd_page *h, const uint8_t *body, struct err *e)
{
    if (c->has_dict) {
        return col_fail(c, AE_FORMAT, "a column chunk has more than one dictionary page", e);
    }
    if (c->seen_data) {
        return col_fail(c, AE_FORMAT, "a dictionary page follows data pages", e);
    }
    if (h->enc != ENC_PLAIN && h->enc != ENC_PLAIN_DICTIONARY) {
        return col_fail(c, AE_FORMAT, "the dictionary page is not PLAIN-encoded", e);
    }
    if (h->nvalues < 0) {
        return col_fail(c, AE_FORMAT, "the dictionary page has a negative size", e);
    }
    size_t n = (size_t)h->nvalues, len = (size_t)h->usize;
    /* Each entry takes at least 4 bytes (BYTE_ARRAY length) or its width (or 1 bit): a count
     * above that is corrupt, which also bounds the allocation below by the page size. */
    size_t min_each = c->ptype == PT_BYTE_ARRAY ? 4 : c->width;
    if ((min_each > 0 && n > len / min_each) || (c->cv == CV_BOOL && n > len * 8)) {
        return col_fail(c, AE_FORMAT, "the dictionary page has fewer values than it says", e);
    }
    c->dict_n = n;
    if (c->st == DS_BYTES) {
        /* Keep the page bytes; entries are slices of them. */
        buf_reset(&c->dict_data);
        if (buf_append(&c->dict_data, body, len) != 0) {
            return col_fail(c, AE_NOMEM, "out of memory for the dictionary", e);
        }
        c->dict_off = malloc((n + 1) * sizeof(*c->dict_off) * 2);
        if (c->dict_off == NULL) {
            return col_fail(c, AE_NOMEM, "out of memory for the dictionary", e);
        }
        const uint8_t *base = (const uint8_t *)c->dict_data.data, *p = base, *end = base + len;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)(end - p) < 4) {
                return col_fail(c, AE_FORMAT, "the dictionary page is truncated", e);
            }
            uint32_t l = pq_get_u32le(p);
            p += 4;
            if (l > (size_t)(end - p)) {
                return col_fail(c, AE_FORMAT, "a dictionary value runs past its page", e);
            }
            if (!c->binary_ok && !pq_utf8_valid(p, l)) {
                return err_set(e, AE_FORMAT, "column '%s': dictionary entry %zu is not valid UTF-8",
                               c->name, i);
            }
            c->dict_off[2 * i] = (uint32_t)(p - base);
            c->dict_off[2 * i + 1] = l;
            p += l;
        }
    } else {
        size_t ss = dtype_storage_size(c->st);
        c->dict_fix = malloc((n ? n : 1) * ss);
        if (c->dict_fix == NULL) {
            return col_fail(c, AE_NOMEM, "out of memory for the dictionary", e);
        }
        const uint8_t *p = body;
        uint64_t bit = 0;
        int rc = plain_fixed(c, &p, body + len, &bit, c->dict_fix, n, e);
        if (rc != 0) {
            return rc;
        }
    }
    c->has_dict = true;
    return 0;
}

static void dict_drop(struct rd_col *c)
{
    free(c->dict_fix);
    free(c->dict_off);
    c->dict_fix = NULL;
    c->dict_off = NULL;
    c->dict_n = 0;
    c->has_dict = false;
    c->seen_data = false;
    buf_reset(&c->dict_data);
}

/* Sets up the values section [p, end) of a data page with encoding enc. */
static int start_values(struct rd_col *c, int enc, const uint8_t *p, const uint8_t *end,
                        struct err *e)
{
    c->vp = p;
    c->vend = end;
    c->bitpos = 0;
    switch (enc) {
    case ENC_PLAIN: c->enc = ENC_PLAIN; return 0;
    case ENC_PLAIN_DICTIONARY:
    case ENC_RLE_DICTIONARY: {
        if (!c->has_dict) {
            return col_fail(c, AE_FORMAT, "a dictionary-encoded page has no dictionary page", e);
        }
        c->enc = ENC_RLE_DICTIONARY;
        /* Encodings.md: one byte of bit width, then the hybrid runs with no length prefix. A
         * page of nulls only may have no values section at all. */
        int bw = p < end ? *p : 0;
        if (p < end) {
            p++;
        }
        if (pq_rle_init(&c->ix, p, (size_t)(end - p), bw) != 0) {
            return col_fail(c, AE_FORMAT, "dictionary index bit width is above 32", e);
        }
        return 0;
    }
    case ENC_DELTA_BINARY_PACKED:
        if (c->ptype != PT_INT32 && c->ptype != PT_INT64) {
            return col_fail(c, AE_FORMAT, "DELTA_BINARY_PACKED on a non-integer column", e);
        }
        c->enc = enc;
        /* A page of nulls only may have no values section. */
        if (p < end && pq_delta_init(&c->dv, p, (size_t)(end - p)) != 0) {
            return col_fail(c, AE_FORMAT, "corrupt DELTA_BINARY_PACKED header", e);
        }
        if (p == end) {
            memset(&c->dv, 0, sizeof(c->dv));
        }
        return 0;
    case ENC_DELTA_LENGTH_BYTE_ARRAY:
    case ENC_DELTA_BYTE_ARRAY: {
        if (c->ptype != PT_BYTE_ARRAY) {
            return col_fail(c, AE_FORMAT, "a DELTA byte-array encoding on a non-BYTE_ARRAY column",
                            e);
        }
        c->enc = enc;
        memset(&c->dv, 0, sizeof(c->dv));
        memset(&c->dsuf, 0, sizeof(c->dsuf));
        buf_reset(&c->prev);
        if (p == end) {
            return 0;
        }
        /* Encodings.md: DELTA_LENGTH_BYTE_ARRAY = lengths (DELTA_BINARY_PACKED), then the bytes;
         * DELTA_BYTE_ARRAY = prefix lengths, then the suffixes as DELTA_LENGTH_BYTE_ARRAY. The
         * length streams are walked once to find where the next part starts, then decoded
         * lazily, so no array of lengths is ever allocated. */
        struct pq_delta walk;
        const uint8_t *q = p;
        struct pq_delta *lens = &c->dv;
        if (enc == ENC_DELTA_BYTE_ARRAY) {
            if (pq_delta_init(&c->dv, q, (size_t)(end - q)) != 0) {
                return col_fail(c, AE_FORMAT, "corrupt DELTA_BYTE_ARRAY prefix lengths", e);
            }
            walk = c->dv;
            if (pq_delta_skip(&walk) != 0) {
                return col_fail(c, AE_FORMAT, "DELTA_BYTE_ARRAY prefix lengths run past the page",
                                e);
            }
            q = pq_delta_end(&walk);
            lens = &c->dsuf;
        }
        if (pq_delta_init(lens, q, (size_t)(end - q)) != 0) {
            return col_fail(c, AE_FORMAT, "corrupt byte-array lengths", e);
        }
        walk = *lens;
        if (pq_delta_skip(&walk) != 0) {
            return col_fail(c, AE_FORMAT, "byte-array lengths run past the page", e);
        }
        if (enc == ENC_DELTA_BYTE_ARRAY && c->dsuf.total != c->dv.total) {
            return col_fail(c, AE_FORMAT, "DELTA_BYTE_ARRAY prefix and suffix counts differ", e);
        }
        c->vp = pq_delta_end(&walk);
        c->vend = end;
        return 0;
    }
    case ENC_BYTE_STREAM_SPLIT:
        if (c->width == 0 || c->ptype == PT_INT96 || c->ptype == PT_BYTE_ARRAY) {
            return col_fail(c, AE_FORMAT, "BYTE_STREAM_SPLIT on a column of variable width", e);
        }
        /* Encodings.md: byte k of value i sits at k * N + i, N the number of values. */
        if ((size_t)(end - p) % c->width != 0) {
            return col_fail(c, AE_FORMAT, "BYTE_STREAM_SPLIT data is not a whole number of values",
                            e);
        }
        c->enc = enc;
        c->bss_n = (size_t)(end - p) / c->width;
        c->bss_i = 0;
        return 0;
    case ENC_RLE:
        if (c->cv != CV_BOOL) {
            return col_fail(c, AE_FORMAT, "RLE values are only valid for BOOLEAN columns", e);
        }
        c->enc = ENC_RLE;
        /* Encodings.md: RLE booleans keep a 4-byte length prefix in V1 and V2 pages. */
        if (end - p >= 4) {
            uint32_t n = pq_get_u32le(p);
            p += 4;
            if (n > (size_t)(end - p)) {
                return col_fail(c, AE_FORMAT, "RLE boolean length runs past its page", e);
            }
            end = p + n;
        } else {
            end = p;
        }
        return pq_rle_init(&c->ix, p, (size_t)(end - p), 1) != 0 ? AE_INTERNAL : 0;
    default: {
        static const char *const names[] = {
            "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
            "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
            "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
        const char *nm = enc >= 0 && enc < 10 ? names[enc] : "unknown";
        return err_set(e, AE_FORMAT, "column '%s': encoding %s (%d) is not supported", c->name, nm,
                       enc);
    }
    }
}

/* ---------------------------------------------------------------- large PLAIN pages */

/* True when the data page h is streamed rather than decompressed whole (see the top of the
 * file). Pages the whole-page path would refuse (bad level lengths, BIT_PACKED levels) are left
 * to it, so that they fail with its messages. */
static bool ps_eligible(const struct pq_reader *r, const struct rd_col *c, const struct rd_page *h)
{
    if ((h->type != PAGE_DATA && h->type != PAGE_DATA_V2) || !h->has_sub || h->enc != ENC_PLAIN ||
        c->cv == CV_BOOL || (uint32_t)h->usize <= r->stream_min || h->nvalues <= 0) {
        return false;
    }
    if (h->type == PAGE_DATA) {
        return pq_dstream_codec(c->codec) && (!c->optional || h->def_enc == ENC_RLE);
    }
    if (h->def_len < 0 || h->rep_len < 0 || (int64_t)h->def_len + h->rep_len > (int64_t)h->csize ||
        (int64_t)h->def_len + h->rep_len > (int64_t)h->usize) {
        return false;
    }
    size_t ulen = (size_t)h->usize - (size_t)h->def_len - (size_t)h->rep_len;
    return ulen > r->stream_min && ulen > 0 && (!h->compressed || pq_dstream_codec(c->codec));
}

/* A zstd page (ps_eligible) is streamed only when its frame's window is at least
 * RD_STREAM_ZSTD_GAIN smaller than the page: zstd's stream holds the window, two blocks of
 * 128 KiB and its context, so a page whose window is about its size (astro's own pages: 700 KB
 * of e-mails under a 512 KiB window) holds as much streamed as whole, and a context is created
 * per page. The frame header is read from the window (c->pos is at the page header, hlen bytes
 * long). */
static int ps_zstd_worth(struct pq_reader *r, struct rd_col *c, const struct rd_page *h,
                         size_t hlen, bool *stream, struct err *e)
{
    size_t lvl = h->type == PAGE_DATA_V2 ? (size_t)h->def_len + (size_t)h->rep_len : 0;
    if (c->codec != PQ_CODEC_ZSTD || (h->type == PAGE_DATA_V2 && !h->compressed)) {
        return 0;
    }
    size_t clen = (size_t)h->csize - lvl, k = clen < 32 ? clen : 32;
    int rc = win_ensure(r, c, hlen + lvl + k, e);
    if (rc != 0) {
        return rc;
    }
    size_t w = pq_zstd_window(win_at(c) + hlen + lvl, k), ulen = (size_t)h->usize - lvl;
    *stream = w < ulen && ulen - w >= RD_STREAM_ZSTD_GAIN;
    return 0;
}

/* The compressed bytes of the streamed page at hand from c->pos: reads up to RD_STREAM_IN more
 * when the window holds none of them. *n is 0 once the page's bytes are all read. */
static int ps_input(struct pq_reader *r, struct rd_col *c, const uint8_t **in, size_t *n,
                    struct err *e)
{
    static const uint8_t none[1] = {0};
    uint64_t left = c->ps_cend - c->pos;
    *in = none;
    *n = 0;
    if (left == 0) {
        return 0;
    }
    uint64_t wend = c->win_off + c->win.len;
    if (c->pos < c->win_off || c->pos >= wend) {
        if (c->win.cap > 2 * (size_t)RD_STREAM_IN) {
            buf_release(&c->win); /* grown by a read-ahead, and none of it is needed now */
            c->win_off = 0;
        }
        int rc = win_ensure_ahead(r, c, left < RD_STREAM_IN ? (size_t)left : RD_STREAM_IN,
                                  RD_STREAM_IN, e);
        if (rc != 0) {
            return rc;
        }
        wend = c->win_off + c->win.len;
    }
    uint64_t avail = wend - c->pos;
    *in = win_at(c);
    *n = (size_t)(avail < left ? avail : left);
    return 0;
}

/* A snappy copy reached back further than the history kept, or a zstd frame asked for a window
 * of more than twice the page (dstream.h): decompresses the page whole, as pages of at most
 * RD_STREAM_MIN bytes are, and goes on from the same value. */
static int ps_fallback(struct pq_reader *r, struct rd_col *c, struct err *e)
{
    size_t off = c->ds.produced - (size_t)(c->vend - c->vp);
    size_t ulen = c->ds.total, clen = (size_t)(c->ps_cend - c->ps_start);
    pq_dstream_release(&c->ds);
    c->ps_on = false;
    c->pos = c->ps_start;
    int rc = win_ensure(r, c, clen, e);
    if (rc != 0) {
        return rc;
    }
    rc = pq_decompress(&r->dec, c->ps_codec, win_at(c), clen, ulen, &c->page, e);
    if (rc != 0) {
        err_prefix(e, "column '%s'", c->name);
        return rc;
    }
    note_peak(r, c);
    c->pos = c->ps_cend;
    win_drop_large(c);
    c->vp = (const uint8_t *)c->page.data + off;
    c->vend = (const uint8_t *)c->page.data + ulen;
    return 0;
}

/* Makes at least need bytes of the streamed page available from c->vp, fewer only when the page
 * ends first (the caller's own check then reports the short page). The bytes move: a pointer
 * into the page taken before the call is void after it (slices are valid until the next value
 * is asked for, so none is held across a call). Bytes before c->vp are dropped, except the last
 * r->history produced, which snappy copies may read. */
static int ps_more(struct pq_reader *r, struct rd_col *c, size_t need, struct err *e)
{
    uint8_t *base = (uint8_t *)c->page.data;
    size_t len = c->page.len, at = (size_t)(c->vp - base);
    size_t have = len - at, left = c->ds.total - c->ds.produced;
    if (need > have + left) {
        need = have + left;
    }
    if (have >= need) {
        return 0;
    }
    size_t from = at;
    if (len - from < r->history) {
        from = len > r->history ? len - r->history : 0;
    }
    if (from > 0) {
        memmove(base, base + from, len - from);
        len -= from;
        at -= from;
        c->page.len = len;
    }
    size_t room = need - have < RD_STREAM_STEP ? RD_STREAM_STEP : need - have;
    if (room > left) {
        room = left;
    }
    if (buf_reserve(&c->page, room) != 0) {
        return col_fail(c, AE_NOMEM, "out of memory for a page", e);
    }
    note_peak(r, c);
    base = (uint8_t *)c->page.data;
    size_t cap = len + room;
    int rc = 0;
    while (len - at < need) {
        const uint8_t *in;
        size_t n, used = 0, before = len;
        rc = ps_input(r, c, &in, &n, e);
        if (rc != 0) {
            break;
        }
        rc = pq_dstream_step(&c->ds, in, n, &used, base, &len, cap, e);
        c->pos += used;
        if (rc == PQ_STREAM_FAR) {
            c->page.len = len;
            c->vp = base + at;
            c->vend = base + len;
            return ps_fallback(r, c, e);
        }
        if (rc != 0) {
            err_prefix(e, "column '%s'", c->name);
            break;
        }
        if (used == 0 && len == before) {
            rc = n == 0 ? err_set(e, AE_FORMAT,
                                  "column '%s': the page ends after %zu of the %zu bytes its "
                                  "header says",
                                  c->name, c->ds.produced, c->ds.total)
                        : col_fail(c, AE_FORMAT, "corrupt compressed page", e);
            break;
        }
    }
    c->page.len = len;
    base[len] = '\0';
    c->vp = base + at;
    c->vend = base + len;
    return rc;
}

/* Every row of the streamed page was handed out: decompresses what the rows did not need and
 * reads the rest of its compressed bytes, so that a page is only accepted when it comes out at
 * exactly its declared size, as a page read whole is. */
static int ps_finish(struct pq_reader *r, struct rd_col *c, struct err *e)
{
    int rc = 0;
    while (rc == 0 && c->ps_on && c->ds.produced < c->ds.total) {
        c->vp = c->vend;
        rc = ps_more(r, c, RD_STREAM_STEP, e);
    }
    if (rc != 0 || !c->ps_on) {
        return rc; /* failed, or fell back to the whole page (checked by pq_decompress) */
    }
    while (c->pos < c->ps_cend) {
        const uint8_t *in;
        size_t n, used = 0, len = c->page.len;
        rc = ps_input(r, c, &in, &n, e);
        if (rc != 0) {
            return rc;
        }
        rc = pq_dstream_step(&c->ds, in, n, &used, (uint8_t *)c->page.data, &len, len, e);
        if (rc != 0) {
            err_prefix(e, "column '%s'", c->name);
            return rc;
        }
        if (used == 0) {
            return col_fail(c, AE_FORMAT, "corrupt compressed page (data after its end)", e);
        }
        c->pos += used;
    }
    rc = pq_dstream_end(&c->ds, e);
    if (rc != 0) {
        err_prefix(e, "column '%s'", c->name);
        return rc;
    }
    c->ps_on = false;
    c->vp = c->vend;
    return 0;
}

/* parquet.thrift PageHeader.crc (CRC-32 of the compressed page) of a streamed page, whose csize
 * bytes start at c->pos: computed a window at a time before any value is handed out, so a page
 * that fails it is refused as a whole page is. */
static int ps_crc(struct pq_reader *r, struct rd_col *c, size_t csize, uint32_t want, struct err *e)
{
    uint64_t start = c->pos;
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t done = 0;
    while (done < csize) {
        size_t k = csize - done < RD_STREAM_IN ? csize - done : RD_STREAM_IN;
        c->pos = start + done;
        int rc = win_ensure_ahead(r, c, k, RD_STREAM_IN, e);
        if (rc != 0) {
            c->pos = start;
            return rc;
        }
        crc = crc32(crc, win_at(c), (uInt)k);
        done += k;
    }
    c->pos = start;
    if ((uint32_t)crc != want) {
        return col_fail(c, AE_FORMAT, "page checksum (CRC-32) mismatch", e);
    }
    return 0;
}

/* Starts streaming the data page h (ps_eligible), whose compressed body starts at c->pos: reads
 * its definition levels into c->lvb and leaves c->vp at its first value. */
static int ps_begin(struct pq_reader *r, struct rd_col *c, const struct rd_page *h, struct err *e)
{
    size_t clen = (size_t)h->csize, ulen = (size_t)h->usize;
    int codec = c->codec, rc;
    if (h->type == PAGE_DATA_V2) {
        /* PARQUET.md §1.4: the levels come first, uncompressed. */
        size_t lvl = (size_t)h->def_len + (size_t)h->rep_len;
        if (c->optional) {
            rc = win_ensure(r, c, lvl, e);
            if (rc != 0) {
                return rc;
            }
            buf_reset(&c->lvb);
            if (buf_append(&c->lvb, win_at(c) + h->rep_len, (size_t)h->def_len) != 0) {
                return col_fail(c, AE_NOMEM, "out of memory for definition levels", e);
            }
            if (pq_rle_init(&c->lv, c->lvb.data, (size_t)h->def_len, 1) != 0) {
                return AE_INTERNAL;
            }
        }
        c->pos += lvl;
        clen -= lvl;
        ulen -= lvl;
        if (!h->compressed) {
            codec = 0;
        }
    }
    if (codec == 0 && clen != ulen) {
        return col_fail(c, AE_FORMAT, "uncompressed page sizes disagree", e);
    }
    c->ps_codec = codec;
    c->ps_start = c->pos;
    c->ps_cend = c->pos + clen;
    rc = pq_dstream_start(&c->ds, codec, ulen, e);
    if (rc != 0) {
        return rc;
    }
    if (c->page.cap > 4 * (size_t)RD_STREAM_STEP) {
        buf_release(&c->page); /* left large by a page read whole */
    }
    buf_reset(&c->page);
    if (buf_reserve(&c->page, RD_STREAM_STEP) != 0) {
        return col_fail(c, AE_NOMEM, "out of memory for a page", e);
    }
    c->vp = c->vend = (const uint8_t *)c->page.data;
    c->ps_on = true;
    if (h->type == PAGE_DATA && c->optional) {
        /* Encodings.md: V1 definition levels keep their 4-byte length. */
        rc = ps_more(r, c, 4, e);
        if (rc != 0) {
            return rc;
        }
        if (c->vend - c->vp < 4 || pq_get_u32le(c->vp) > ulen - 4) {
            return col_fail(c, AE_FORMAT, "definition levels run past their page", e);
        }
        size_t dl = pq_get_u32le(c->vp);
        rc = ps_more(r, c, 4 + dl, e);
        if (rc != 0) {
            return rc;
        }
        if ((size_t)(c->vend - c->vp) < 4 + dl) {
            return col_fail(c, AE_FORMAT, "definition levels run past their page", e);
        }
        buf_reset(&c->lvb);
        if (buf_append(&c->lvb, c->vp + 4, dl) != 0) {
            return col_fail(c, AE_NOMEM, "out of memory for definition levels", e);
        }
        if (pq_rle_init(&c->lv, c->lvb.data, dl, 1) != 0) {
            return AE_INTERNAL;
        }
        c->vp += 4 + dl;
    }
    return 0;
}

/* Decodes k PLAIN fixed-width values of the streamed page into dst, a piece at a time. */
static int ps_fixed(struct pq_reader *r, struct rd_col *c, void *dst, size_t k, struct err *e)
{
    uint8_t *o = dst;
    size_t ss = dtype_storage_size(c->st);
    while (k > 0) {
        if (c->ps_on && (size_t)(c->vend - c->vp) < c->width) {
            int rc = ps_more(r, c, c->width, e);
            if (rc != 0) {
                return rc;
            }
        }
        size_t m = (size_t)(c->vend - c->vp) / c->width;
        if (m > k || m == 0) {
            m = k; /* all of them, or plain_fixed reports the short page */
        }
        int rc = plain_fixed(c, &c->vp, c->vend, &c->bitpos, o, m, e);
        if (rc != 0) {
            return rc;
        }
        o += m * ss;
        k -= m;
    }
    return 0;
}

/* Opens the next chunk with rows. */
static int open_chunk(struct pq_reader *r, struct rd_col *c, size_t ci, struct err *e)
{
    (void)ci;
    while (c->rg < r->nrg && r->rg_rows[c->rg] == 0) {
        c->rg++;
    }
    if (c->rg >= r->nrg) {
        return col_fail(c, AE_INTERNAL, "read past the last row group", e);
    }
    const struct rd_chunk *ch = &r->chunks[c->rg * r->nleaves + c->leaf];
    dict_drop(c);
    c->pos = ch->start;
    c->end = ch->end;
    c->codec = ch->codec;
    c->rows_left = r->rg_rows[c->rg];
    c->rg++;
    c->win.len = 0;
    c->win_off = 0;
    return 0;
}

/* Reads pages until a data page with rows is set up. */
static int next_page(struct pq_reader *r, struct rd_col *c, size_t ci, struct err *e)
{
    int rc;
    if (c->rows_left == 0) {
        rc = open_chunk(r, c, ci, e);
        if (rc != 0) {
            return rc;
        }
    }
    for (;;) {
        if (c->pos >= c->end) {
            return err_set(e, AE_FORMAT,
                           "column '%s': its chunk ends with %llu rows of its row group missing",
                           c->name, (unsigned long long)c->rows_left);
        }
        /* The header's length is only known once decoded: try the bytes at hand, and read
         * more only when the decoder ran out of them. */
        uint64_t left = c->end - c->pos;
        size_t want = left < 4096 ? (size_t)left : 4096;
        struct rd_page h;
        struct td t;
        for (;;) {
            rc = win_ensure(r, c, want, e);
            if (rc != 0) {
                return rc;
            }
            size_t avail = (size_t)(c->win_off + c->win.len - c->pos);
            td_init(&t, win_at(c), avail < left ? avail : (size_t)left);
            parse_page_header(&t, &h);
            if (t.err == 0 || !t.truncated || avail >= left || want >= RD_MAX_HEADER) {
                break;
            }
            want = avail * 4 < left ? avail * 4 : (size_t)left;
        }
        if (t.err != 0) {
            return err_set(e, AE_FORMAT, "column '%s': corrupt page header at byte %llu: %s",
                           c->name, (unsigned long long)c->pos, t.why);
        }
        size_t hlen = td_pos(&t);
        if ((uint64_t)h.csize > left - hlen) {
            return err_set(e, AE_FORMAT,
                           "column '%s': a page at byte %llu runs past the end of its chunk",
                           c->name, (unsigned long long)c->pos);
        }
        if ((uint32_t)h.usize > RD_MAX_PAGE) {
            return col_fail(c, AE_FORMAT, "a page is larger than 1 GiB", e);
        }
        bool stream = ps_eligible(r, c, &h);
        if (stream) {
            rc = ps_zstd_worth(r, c, &h, hlen, &stream, e);
            if (rc != 0) {
                return rc;
            }
        }
        const uint8_t *body = NULL;
        if (stream) {
            /* A large PLAIN page: its body is read as its values are (ps_begin). */
            c->pos += hlen;
            if (h.has_crc) {
                rc = ps_crc(r, c, (size_t)h.csize, h.crc, e);
                if (rc != 0) {
                    return rc;
                }
            }
        } else {
            rc = win_ensure(r, c, hlen + (size_t)h.csize, e);
            if (rc != 0) {
                return rc;
            }
            note_peak(r, c);
            body = win_at(c) + hlen;
            c->pos += hlen + (size_t)h.csize;
            if (h.has_crc &&
                (h.type == PAGE_DATA || h.type == PAGE_DICTIONARY || h.type == PAGE_DATA_V2)) {
                /* parquet.thrift PageHeader.crc: CRC-32 of the page bytes after compression. */
                uLong crc = crc32(0L, body, (uInt)h.csize);
                if ((uint32_t)crc != h.crc) {
                    return col_fail(c, AE_FORMAT, "page checksum (CRC-32) mismatch", e);
                }
            }
        }
        if (h.type == PAGE_DICTIONARY) {
            if (!h.has_sub) {
                return col_fail(c, AE_FORMAT, "a dictionary page lacks its header", e);
            }
            rc = pq_decompress(&r->dec, c->codec, body, (size_t)h.csize, (size_t)h.usize, &c->page,
                               e);
            if (rc != 0) {
                err_prefix(e, "column '%s'", c->name);
                return rc;
            }
            note_peak(r, c);
            win_drop_large(c);
            rc = load_dict(c, &h, (const uint8_t *)c->page.data, e);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (h.type != PAGE_DATA && h.type != PAGE_DATA_V2) {
            continue; /* index pages and unknown page types carry no rows */
        }
        if (!h.has_sub) {
            return col_fail(c, AE_FORMAT, "a data page lacks its header", e);
        }
        c->seen_data = true;
        int64_t rows = h.type == PAGE_DATA_V2 ? h.nrows : h.nvalues;
        if (rows < 0 || h.nvalues != rows) {
            return col_fail(c, AE_FORMAT, "a data page has an invalid row count", e);
        }
        if ((uint64_t)rows > c->rows_left) {
            return err_set(e, AE_FORMAT,
                           "column '%s': a page holds %lld rows but its row group has %llu left",
                           c->name, (long long)rows, (unsigned long long)c->rows_left);
        }
        const uint8_t *vals, *vend;
        if (stream) {
            rc = ps_begin(r, c, &h, e);
            if (rc != 0) {
                return rc;
            }
            vals = c->vp;
            vend = c->vend;
        } else if (h.type == PAGE_DATA) {
            rc = pq_decompress(&r->dec, c->codec, body, (size_t)h.csize, (size_t)h.usize, &c->page,
                               e);
            if (rc != 0) {
                err_prefix(e, "column '%s'", c->name);
                return rc;
            }
            note_peak(r, c);
            win_drop_large(c);
            const uint8_t *p = (const uint8_t *)c->page.data, *end = p + h.usize;
            if (c->optional) {
                /* Encodings.md: V1 definition levels keep their 4-byte length. */
                if (h.def_enc != ENC_RLE) {
                    return col_fail(c, AE_FORMAT,
                                    "definition level encoding BIT_PACKED is not supported", e);
                }
                if (end - p < 4 || pq_get_u32le(p) > (size_t)(end - p - 4)) {
                    return col_fail(c, AE_FORMAT, "definition levels run past their page", e);
                }
                size_t dl = pq_get_u32le(p);
                if (pq_rle_init(&c->lv, p + 4, dl, 1) != 0) {
                    return AE_INTERNAL;
                }
                p += 4 + dl;
            }
            vals = p;
            vend = end;
        } else {
            /* DataPageV2: levels first, uncompressed and without length prefixes; only the
             * values may be compressed (PARQUET.md §1.4). */
            if (h.def_len < 0 || h.rep_len < 0 ||
                (int64_t)h.def_len + h.rep_len > (int64_t)h.csize ||
                (int64_t)h.def_len + h.rep_len > (int64_t)h.usize) {
                return col_fail(c, AE_FORMAT, "level lengths exceed the page", e);
            }
            size_t lvl = (size_t)h.def_len + (size_t)h.rep_len;
            if (c->optional && pq_rle_init(&c->lv, body + h.rep_len, (size_t)h.def_len, 1) != 0) {
                return AE_INTERNAL;
            }
            size_t clen = (size_t)h.csize - lvl, ulen = (size_t)h.usize - lvl;
            if (ulen == 0) {
                /* Nothing to decompress (and an empty snappy stream is invalid: arrow-rs
                 * #7388, parquet-testing datapage_v2_empty_datapage.snappy.parquet). */
                buf_reset(&c->page);
                vals = vend = body + lvl;
            } else if (!h.compressed || c->codec == 0) {
                if (clen != ulen) {
                    return col_fail(c, AE_FORMAT, "uncompressed page sizes disagree", e);
                }
                vals = body + lvl;
                vend = vals + ulen;
            } else {
                rc = pq_decompress(&r->dec, c->codec, body + lvl, clen, ulen, &c->page, e);
                if (rc != 0) {
                    err_prefix(e, "column '%s'", c->name);
                    return rc;
                }
                note_peak(r, c);
                vals = (const uint8_t *)c->page.data;
                vend = vals + ulen;
            }
        }
        rc = start_values(c, h.enc, vals, vend, e);
        if (rc != 0) {
            return rc;
        }
        c->page_left = (uint64_t)rows;
        if (rows > 0) {
            return 0;
        }
    }
}

/* ---------------------------------------------------------------- rows */

static int need_ix(struct pq_reader *r, size_t n, struct err *e)
{
    if (n <= r->ix_cap) {
        return 0;
    }
    uint32_t *p = realloc(r->ix, n * sizeof(*p));
    if (p != NULL) {
        r->ix = p;
    }
    int64_t *q = p ? realloc(r->tmp, n * sizeof(*q)) : NULL;
    if (p == NULL || q == NULL) {
        return err_set(e, AE_NOMEM, "out of memory decoding a page");
    }
    r->tmp = q;
    r->ix_cap = n;
    return 0;
}

/* The next value of a BYTE_ARRAY column in a PLAIN, DELTA_LENGTH_BYTE_ARRAY or DELTA_BYTE_ARRAY
 * page: a slice valid until the next call. */
static int next_slice(struct pq_reader *r, struct rd_col *c, const uint8_t **out, size_t *len,
                      struct err *e)
{
    if (c->enc == ENC_PLAIN) {
        if (c->ps_on && c->vend - c->vp < 4) {
            int rc = ps_more(r, c, 4, e);
            if (rc != 0) {
                return rc;
            }
        }
        if (c->vend - c->vp < 4) {
            return col_fail(c, AE_FORMAT, "page has fewer values than its levels say", e);
        }
        size_t n = pq_get_u32le(c->vp);
        if (c->ps_on && n > (size_t)(c->vend - c->vp) - 4) {
            int rc = ps_more(r, c, 4 + n, e); /* moves the bytes: c->vp is read again below */
            if (rc != 0) {
                return rc;
            }
        }
        c->vp += 4;
        if (n > (size_t)(c->vend - c->vp)) {
            return col_fail(c, AE_FORMAT, "a value runs past the end of its page", e);
        }
        *out = c->vp;
        *len = n;
        c->vp += n;
        return 0;
    }
    struct pq_delta *lens = c->enc == ENC_DELTA_BYTE_ARRAY ? &c->dsuf : &c->dv;
    int64_t n, pl = 0;
    if (pq_delta_get(lens, &n, 1) != 0 ||
        (c->enc == ENC_DELTA_BYTE_ARRAY && pq_delta_get(&c->dv, &pl, 1) != 0)) {
        return col_fail(c, AE_FORMAT, "page has fewer values than its levels say", e);
    }
    if (n < 0 || (uint64_t)n > (uint64_t)(c->vend - c->vp)) {
        return col_fail(c, AE_FORMAT, "a value runs past the end of its page", e);
    }
    const uint8_t *p = c->vp;
    c->vp += n;
    if (c->enc == ENC_DELTA_LENGTH_BYTE_ARRAY) {
        *out = p;
        *len = (size_t)n;
        return 0;
    }
    /* DELTA_BYTE_ARRAY: the value is pl bytes of the previous value, then the suffix. */
    if (pl < 0 || (uint64_t)pl > c->prev.len) {
        return col_fail(c, AE_FORMAT, "a DELTA_BYTE_ARRAY prefix is longer than the previous value",
                        e);
    }
    buf_reset(&c->cur);
    if ((pl > 0 && buf_append(&c->cur, c->prev.data, (size_t)pl) != 0) ||
        (n > 0 && buf_append(&c->cur, p, (size_t)n) != 0)) {
        return col_fail(c, AE_NOMEM, "out of memory decoding DELTA_BYTE_ARRAY", e);
    }
    struct buf t = c->prev;
    c->prev = c->cur;
    c->cur = t;
    *out = (const uint8_t *)(c->prev.data ? c->prev.data : "");
    *len = c->prev.len;
    return 0;
}

/* Converts k integers decoded by DELTA_BINARY_PACKED into storage values (INT32 columns keep
 * the low 32 bits: the deltas wrap in the column's width). */
static int conv_ints(struct rd_col *c, const int64_t *src, void *dst, size_t k, struct err *e)
{
    int64_t *i64 = dst;
    __int128 *i128 = dst;
    for (size_t i = 0; i < k; i++) {
        int64_t v = src[i];
        switch (c->cv) {
        case CV_I32: i64[i] = (int32_t)(uint32_t)v; break;
        case CV_U32: i64[i] = (int64_t)(uint32_t)v; break;
        case CV_I64: i64[i] = v; break;
        case CV_TS_MILLIS:
            if (__builtin_mul_overflow(v, 1000, &i64[i])) {
                return col_fail(c, AE_FORMAT, "a millisecond timestamp is out of range", e);
            }
            break;
        case CV_TS_NANOS: i64[i] = v / 1000 - (v % 1000 < 0); break;
        case CV_DEC_I32: i128[i] = (int32_t)(uint32_t)v; break;
        case CV_DEC_I64: i128[i] = v; break;
        default: return col_fail(c, AE_INTERNAL, "conv_ints on a non-integer column", e);
        }
    }
    return 0;
}

/* Decodes the next k non-null fixed-width values of the current page into dst. */
static int values_fixed(struct pq_reader *r, struct rd_col *c, void *dst, size_t k, struct err *e)
{
    if (k == 0) {
        return 0;
    }
    if (c->ptype == PT_BYTE_ARRAY && c->enc != ENC_RLE_DICTIONARY) {
        /* Decimals on BYTE_ARRAY, in any of the byte-array encodings. */
        __int128 *o = dst;
        for (size_t i = 0; i < k; i++) {
            const uint8_t *p = NULL;
            size_t n = 0;
            int rc = next_slice(r, c, &p, &n, e);
            if (rc != 0) {
                return rc;
            }
            if (n > 16) {
                return col_fail(c, AE_FORMAT, "a decimal value is wider than 16 bytes", e);
            }
            o[i] = pq_get_i128be(p, n);
        }
        return 0;
    }
    switch (c->enc) {
    case ENC_PLAIN:
        if (c->ps_on) {
            return ps_fixed(r, c, dst, k, e);
        }
        return plain_fixed(c, &c->vp, c->vend, &c->bitpos, dst, k, e);
    case ENC_DELTA_BINARY_PACKED: {
        int rc = need_ix(r, k, e);
        if (rc != 0) {
            return rc;
        }
        if (pq_delta_get(&c->dv, r->tmp, k) != 0) {
            return col_fail(c, AE_FORMAT, "DELTA_BINARY_PACKED values end early or are corrupt", e);
        }
        return conv_ints(c, r->tmp, dst, k, e);
    }
    case ENC_BYTE_STREAM_SPLIT: {
        if (k > c->bss_n - c->bss_i) {
            return col_fail(c, AE_FORMAT, "page has fewer values than its levels say", e);
        }
        size_t w = c->width;
        buf_reset(&r->tmpb);
        if (buf_reserve(&r->tmpb, k * w) != 0) {
            return col_fail(c, AE_NOMEM, "out of memory decoding BYTE_STREAM_SPLIT", e);
        }
        uint8_t *g = (uint8_t *)r->tmpb.data;
        for (size_t b = 0; b < w; b++) {
            const uint8_t *stream = c->vp + b * c->bss_n + c->bss_i;
            for (size_t i = 0; i < k; i++) {
                g[i * w + b] = stream[i];
            }
        }
        c->bss_i += k;
        const uint8_t *gp = g;
        uint64_t unused = 0;
        return plain_fixed(c, &gp, g + k * w, &unused, dst, k, e);
    }
    case ENC_RLE: {
        size_t ones;
        if (pq_rle_get_u8(&c->ix, dst, k, &ones) != 0) {
            return col_fail(c, AE_FORMAT, "corrupt RLE boolean values", e);
        }
        return 0;
    }
    default: break;
    }
    int rc = need_ix(r, k, e);
    if (rc != 0) {
        return rc;
    }
    if (pq_rle_get(&c->ix, r->ix, k) != 0) {
        return col_fail(c, AE_FORMAT, "dictionary indices end early or are corrupt", e);
    }
    const uint32_t *ix = r->ix;
    size_t n = c->dict_n;
    for (size_t i = 0; i < k; i++) {
        if (ix[i] >= n) {
            return err_set(e, AE_FORMAT,
                           "column '%s': dictionary index %u is out of range (%zu entries)",
                           c->name, ix[i], n);
        }
    }
    switch (c->st) {
    case DS_U8: {
        const uint8_t *d = c->dict_fix;
        uint8_t *o = dst;
        for (size_t i = 0; i < k; i++) {
            o[i] = d[ix[i]];
        }
        break;
    }
    case DS_I64:
    case DS_F64: {
        const uint64_t *d = c->dict_fix;
        uint64_t *o = dst;
        for (size_t i = 0; i < k; i++) {
            o[i] = d[ix[i]];
        }
        break;
    }
    case DS_I128: {
        const __int128 *d = c->dict_fix;
        __int128 *o = dst;
        for (size_t i = 0; i < k; i++) {
            o[i] = d[ix[i]];
        }
        break;
    }
    default: return col_fail(c, AE_INTERNAL, "values_fixed called for bytes", e);
    }
    return 0;
}

/* Appends the strings of n rows (valid[] already set) to col starting at row off. */
static int values_bytes(struct pq_reader *r, struct rd_col *c, struct column *col, size_t off,
                        size_t n, size_t k, struct err *e)
{
    const uint32_t *ix = NULL;
    if (c->enc == ENC_RLE_DICTIONARY) {
        int rc = need_ix(r, k ? k : 1, e);
        if (rc != 0) {
            return rc;
        }
        if (k > 0 && pq_rle_get(&c->ix, r->ix, k) != 0) {
            return col_fail(c, AE_FORMAT, "dictionary indices end early or are corrupt", e);
        }
        ix = r->ix;
    } else if (c->enc != ENC_PLAIN && c->enc != ENC_DELTA_LENGTH_BYTE_ARRAY &&
               c->enc != ENC_DELTA_BYTE_ARRAY) {
        return col_fail(c, AE_INTERNAL, "bad encoding for a string column", e);
    }
    struct buf *data = &col->data;
    const uint8_t *valid = col->valid + off;
    uint32_t *offs = col->offs + off;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (valid[i]) {
            const uint8_t *p = NULL;
            size_t len = 0;
            if (ix != NULL) {
                uint32_t x = ix[j++];
                if (x >= c->dict_n) {
                    return err_set(e, AE_FORMAT,
                                   "column '%s': dictionary index %u is out of range (%zu "
                                   "entries)",
                                   c->name, x, c->dict_n);
                }
                p = (const uint8_t *)c->dict_data.data + c->dict_off[2 * x];
                len = c->dict_off[2 * x + 1];
            } else {
                int rc = next_slice(r, c, &p, &len, e);
                if (rc != 0) {
                    return rc;
                }
                if (!r->binary_ok && !pq_utf8_valid(p, len)) {
                    return err_set(e, AE_FORMAT,
                                   "column '%s': row %llu is not valid UTF-8 (astro reads "
                                   "binary columns as str)",
                                   c->name, (unsigned long long)(r->row + off + i + 1));
                }
            }
            if (len > 0) {
                if (data->len + len > UINT32_MAX || buf_append(data, p, len) != 0) {
                    return col_fail(c, AE_NOMEM, "out of memory for the strings of a batch", e);
                }
            }
        }
        offs[i + 1] = (uint32_t)data->len;
    }
    return 0;
}

/* Fills n rows of column c into col from row off, from the current page. */
static int emit(struct pq_reader *r, struct rd_col *c, struct column *col, size_t off, size_t n,
                struct err *e)
{
    uint8_t *valid = col->valid + off;
    size_t k = n;
    if (c->optional) {
        if (pq_rle_get_u8(&c->lv, valid, n, &k) != 0) {
            return col_fail(c, AE_FORMAT, "definition levels end early or are corrupt", e);
        }
    } else {
        memset(valid, 1, n);
    }
    int rc;
    if (c->st == DS_BYTES) {
        rc = values_bytes(r, c, col, off, n, k, e);
    } else {
        /* Decode the k values packed at the start of the slot range, then spread them out to
         * their rows from the end (j <= i always holds, so nothing is overwritten early). */
        size_t ss = dtype_storage_size(c->st);
        uint8_t *slots = (uint8_t *)col->v.raw + off * ss;
        rc = values_fixed(r, c, slots, k, e);
        if (rc == 0 && k < n) {
            size_t j = k;
            for (size_t i = n; i-- > 0;) {
                if (valid[i]) {
                    j--;
                    if (j != i) {
                        memcpy(slots + i * ss, slots + j * ss, ss);
                    }
                } else {
                    memset(slots + i * ss, 0, ss);
                }
            }
        }
    }
    if (rc != 0) {
        return rc;
    }
    c->page_left -= n;
    c->rows_left -= n;
    if (c->page_left == 0 && c->ps_on) {
        return ps_finish(r, c, e);
    }
    return 0;
}

int pq_reader_next(struct pq_reader *r, struct batch *b, struct err *e)
{
    if (r->failed != 0) {
        return err_set(e, r->failed, "%s", r->failed_msg);
    }
    batch_reset(b);
    if (b->ncols != r->ncols) {
        return err_set(e, AE_INTERNAL, "batch has %zu columns, the reader %zu", b->ncols, r->ncols);
    }
    for (size_t ci = 0; ci < r->ncols; ci++) {
        if (dtype_storage(b->cols[ci].type.id) != r->cols[ci].st) {
            return err_set(e, AE_INTERNAL, "batch column %zu does not match the file's type", ci);
        }
        if (r->cols[ci].problem != NULL && !r->cols[ci].skip) {
            /* Selected, and astro cannot read it: refused, naming it (not sticky: the caller
             * may deselect it). */
            return err_set(e, AE_FORMAT, "%s: %s", r->path, r->cols[ci].problem);
        }
    }
    uint64_t left = r->nrows - r->row;
    size_t n = left < b->cap ? (size_t)left : b->cap;
    int rc = 0;
    for (size_t ci = 0; ci < r->ncols && rc == 0; ci++) {
        struct rd_col *c = &r->cols[ci];
        struct column *col = &b->cols[ci];
        if (col->offs != NULL) {
            col->offs[0] = 0;
        }
        if (c->skip) {
            /* Not selected: its chunks are never read; every value is null. */
            memset(col->valid, 0, n);
            if (col->offs != NULL) {
                memset(col->offs, 0, (n + 1) * sizeof(*col->offs));
            } else {
                memset(col->v.raw, 0, n * dtype_storage_size(c->st));
            }
            continue;
        }
        size_t filled = 0;
        while (filled < n && rc == 0) {
            if (c->page_left == 0) {
                rc = next_page(r, c, ci, e);
                if (rc != 0) {
                    break;
                }
            }
            size_t take = n - filled;
            if (take > c->page_left) {
                take = (size_t)c->page_left;
            }
            rc = emit(r, c, col, filled, take, e);
            filled += take;
        }
        if (rc != 0) {
            err_prefix(e, "%s (row group %zu)", r->path, c->rg ? c->rg - 1 : 0);
        }
    }
    if (rc != 0) {
        r->failed = rc;
        snprintf(r->failed_msg, sizeof(r->failed_msg), "%s", e ? e->msg : "read failed");
        batch_reset(b);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        b->line[i] = r->row + i + 1;
        b->row_ok[i] = 1;
    }
    b->nrows = n;
    r->row += n;
    return 0;
}
