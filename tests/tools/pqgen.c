/*
 * pqgen.c - writes Parquet test files through pq.h for tests/e2e/test_parquet_duckdb.sh, which
 * reads them back with DuckDB (an independent reader) and checks values, types and metadata.
 *
 * Usage: pqgen SCENARIO OUT.parquet [CODEC]
 *   alltypes  every dtype, nullable and REQUIRED columns, extreme values, non-ASCII strings
 *   multi     100000 rows, small page and row-group limits (several pages and row groups),
 *             dictionary and PLAIN-fallback string and integer columns; the values are a
 *             function of the row id that the test script recomputes in SQL
 *   dictlimit a low-cardinality string column whose dictionary passes a tiny dict_bytes
 *   dictcarry 20 row groups of 100 rows: column s all distinct in row group 0, then three values;
 *             a chunk that gave up its dictionary makes the next ones PLAIN until a retry every
 *             8 row groups (row group 8 gets its dictionary back, and keeps it)
 *   multibytes the multi data with rg_bytes = 256 KiB: row groups cut by bytes, not rows
 *   fallback  10000 rows in batches of 1000, 1000 rows per page, dict_bytes 16 KiB: columns
 *             whose dictionary passes the limit mid-chunk (mid after 4 index pages, midn after
 *             6: dictionary page + index pages + PLAIN pages) and one whose first page is more
 *             than 3/4 distinct (first: no dictionary at all); values as in the test script
 *   floats    NaN and signed zeros, for the float statistics rules
 *   bench     pqgen bench OUT CODEC [ROWS]: writer throughput on a 10-column table
 *   empty     every dtype, zero rows
 *   filtered  batches where some rows have row_ok = 0 (they must not be written)
 *   int96     a file built byte by byte (our writer writes no INT96): REQUIRED columns id
 *             (INT32) and ts (INT96: Julian day + nanoseconds of the day), 4 rows: row 0
 *             2024-01-02T03:04:05.123456, row 1 2024-01-02T03:04:05.123456789 (digits beyond
 *             the microsecond), row 2 1970-01-01T00:00:00, row 3 1969-12-31T23:59:59.999999001
 *   names     a file built byte by byte whose column names our writer refuses to write: "id",
 *             "" (empty), "a\0b" (a NUL byte), "bad\xff" (not UTF-8), 64 x "n" (over 63
 *             bytes) and "ok", all REQUIRED INT32, 2 rows
 */
#include "batch/batch.h"
#include "parquet/encode.h"
#include "parquet/pq.h"
#include "parquet/thrift.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(x)                                                                                 \
    do {                                                                                         \
        if ((x) != 0) {                                                                          \
            fprintf(stderr, "pqgen: %s failed: %s\n", #x, e.msg);                                \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

static struct err e;

static __int128 pow10_128(int n)
{
    __int128 v = 1;
    for (int i = 0; i < n; i++) {
        v *= 10;
    }
    return v;
}

static void put_str(struct batch *b, size_t c, size_t row, const char *s)
{
    CHECK(batch_put_bytes(b, c, row, s ? s : "", s ? strlen(s) : 0, s != NULL));
}

enum { A_ID, A_S, A_SREQ, A_B, A_I8, A_I16, A_I32, A_I64, A_U8, A_U16, A_U32, A_U64, A_F32, A_F64,
       A_D, A_TS, A_TSTZ, A_DEC9, A_DEC18, A_DEC38, A_DEC20, A_I64REQ, A_NCOLS };

static const struct column_desc alltypes_cols[A_NCOLS] = {
    {"id", {DT_INT32, 0, 0}, false},
    {"s", {DT_STR, 0, 0}, true},
    {"s_req", {DT_STR, 0, 0}, false},
    {"b", {DT_BOOL, 0, 0}, true},
    {"i8", {DT_INT8, 0, 0}, true},
    {"i16", {DT_INT16, 0, 0}, true},
    {"i32", {DT_INT32, 0, 0}, true},
    {"i64", {DT_INT64, 0, 0}, true},
    {"u8", {DT_UINT8, 0, 0}, true},
    {"u16", {DT_UINT16, 0, 0}, true},
    {"u32", {DT_UINT32, 0, 0}, true},
    {"u64", {DT_UINT64, 0, 0}, true},
    {"f32", {DT_FLOAT32, 0, 0}, true},
    {"f64", {DT_FLOAT64, 0, 0}, true},
    {"d", {DT_DATE, 0, 0}, true},
    {"ts", {DT_TIMESTAMP, 0, 0}, true},
    {"tstz", {DT_TIMESTAMP_TZ, 0, 0}, true},
    {"dec9", {DT_DECIMAL, 9, 2}, true},
    {"dec18", {DT_DECIMAL, 18, 4}, true},
    {"dec38", {DT_DECIMAL, 38, 10}, true},
    {"dec20", {DT_DECIMAL, 20, 0}, true},
    {"i64_req", {DT_INT64, 0, 0}, false},
};

static int open_out(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    return fd;
}

static void finish(struct pq_writer *w, int fd)
{
    uint64_t bytes = 0;
    CHECK(pq_writer_add_kv(w, "astro.test", "pqgen", &e));
    CHECK(pq_writer_close(w, &bytes, &e));
    pq_writer_free(w);
    if (close(fd) != 0) {
        perror("close");
        exit(1);
    }
    printf("%llu\n", (unsigned long long)bytes);
}

static void init_batch(struct batch *b, const struct column_desc *cols, size_t ncols, size_t cap)
{
    struct dtype_info types[64];
    for (size_t i = 0; i < ncols; i++) {
        types[i] = cols[i].type;
    }
    if (batch_init(b, types, ncols, cap) != 0) {
        fprintf(stderr, "pqgen: batch_init failed\n");
        exit(1);
    }
}

static void set_valid_all(struct batch *b, size_t nrows)
{
    b->nrows = nrows;
    for (size_t r = 0; r < nrows; r++) {
        b->row_ok[r] = 1;
        b->line[r] = r + 2;
        for (size_t c = 0; c < b->ncols; c++) {
            if (b->cols[c].offs == NULL) {
                b->cols[c].valid[r] = 1;
            }
        }
    }
}

static void null_at(struct batch *b, size_t c, size_t r)
{
    b->cols[c].valid[r] = 0;
    if (b->cols[c].v.raw != NULL) {
        memset((char *)b->cols[c].v.raw + r * dtype_storage_size(dtype_storage(b->cols[c].type.id)),
               0, dtype_storage_size(dtype_storage(b->cols[c].type.id)));
    }
}

static void gen_alltypes(const char *path, enum pq_codec codec, bool empty)
{
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, alltypes_cols, A_NCOLS, &o, &e));
    if (!empty) {
        enum { N = 6 };
        struct batch b;
        init_batch(&b, alltypes_cols, A_NCOLS, N);
        set_valid_all(&b, N);
        static const char *s[N] = {"hello", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93",
                                   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "", NULL,
                                   "emoji \xf0\x9f\x98\x80"};
        static const char *sreq[N] = {"a", "b", "a", "c", "a", "\xc3\xa9"};
        static const int b_[N] = {1, 0, -1, 1, 0, 1};
        static const int64_t i8[N] = {-128, 127, 0, -1, 0, 5};
        static const int64_t i16[N] = {-32768, 32767, 0, -1, 0, 300};
        static const int64_t i32[N] = {INT32_MIN, INT32_MAX, 0, -1, 0, 123456};
        static const int64_t i64[N] = {INT64_MIN, INT64_MAX, 0, -1, 0, 1234567890123};
        static const uint64_t u8[N] = {0, 255, 1, 128, 0, 7};
        static const uint64_t u16[N] = {0, 65535, 1, 32768, 0, 7};
        static const uint64_t u32[N] = {0, 4294967295u, 1, 2147483648u, 0, 7};
        static const uint64_t u64[N] = {0, UINT64_MAX, 1, 9223372036854775808u, 0, 7};
        static const double f32[N] = {1.5, -2.25, 0.0, 1e10, 0, -0.0};
        static const double f64[N] = {1.5, -2.25, 0.1, 1e300, 0, -1e-300};
        static const int64_t d[N] = {0, -1, -25567, 19782, 0, 2932896};
        static const int64_t ts[N] = {0, -1, 1700000000123456, -2208988800000000, 0,
                                      253402300799999999};
        for (size_t r = 0; r < N; r++) {
            b.cols[A_ID].v.i64[r] = (int64_t)r;
            put_str(&b, A_S, r, s[r]);
            put_str(&b, A_SREQ, r, sreq[r]);
            b.cols[A_B].v.u8[r] = b_[r] > 0;
            b.cols[A_I8].v.i64[r] = i8[r];
            b.cols[A_I16].v.i64[r] = i16[r];
            b.cols[A_I32].v.i64[r] = i32[r];
            b.cols[A_I64].v.i64[r] = i64[r];
            b.cols[A_U8].v.i64[r] = (int64_t)u8[r];
            b.cols[A_U16].v.i64[r] = (int64_t)u16[r];
            b.cols[A_U32].v.i64[r] = (int64_t)u32[r];
            b.cols[A_U64].v.i64[r] = (int64_t)u64[r];
            b.cols[A_F32].v.f64[r] = (double)(float)f32[r];
            b.cols[A_F64].v.f64[r] = f64[r];
            b.cols[A_D].v.i64[r] = d[r];
            b.cols[A_TS].v.i64[r] = ts[r];
            b.cols[A_TSTZ].v.i64[r] = ts[r];
            b.cols[A_I64REQ].v.i64[r] = i64[5 - r];
        }
        /* decimals: extremes, negatives, small values */
        __int128 m9 = pow10_128(9) - 1, m18 = pow10_128(18) - 1, m38 = pow10_128(38) - 1,
                 m20 = pow10_128(20) - 1;
        __int128 dv[4][N] = {
            {m9, -m9, 1, -1, 0, 123456789},
            {m18, -m18, 1, -1, 0, -12345},
            {m38, -m38, 1, -1, 0, -pow10_128(10)},
            {m20, -m20, 1, -1, 0, 42},
        };
        for (size_t r = 0; r < N; r++) {
            b.cols[A_DEC9].v.i128[r] = dv[0][r];
            b.cols[A_DEC18].v.i128[r] = dv[1][r];
            b.cols[A_DEC38].v.i128[r] = dv[2][r];
            b.cols[A_DEC20].v.i128[r] = dv[3][r];
        }
        /* row 4 is null in every nullable column; b is also null in row 2 */
        for (size_t c = 0; c < A_NCOLS; c++) {
            if (alltypes_cols[c].nullable && c != A_S) {
                null_at(&b, c, 4);
            }
        }
        null_at(&b, A_B, 2);
        CHECK(pq_writer_write(w, &b, &e));
        batch_release(&b);
    }
    finish(w, fd);
}

static const struct column_desc multi_cols[] = {
    {"id", {DT_INT64, 0, 0}, false},       {"cat", {DT_STR, 0, 0}, true},
    {"uniq", {DT_STR, 0, 0}, false},       {"small", {DT_INT32, 0, 0}, true},
    {"f", {DT_FLOAT64, 0, 0}, true},       {"flag", {DT_BOOL, 0, 0}, false},
    {"dec", {DT_DECIMAL, 30, 5}, true},    {"day", {DT_DATE, 0, 0}, false},
    {"big", {DT_INT64, 0, 0}, false},
};

static void gen_multi(const char *path, enum pq_codec codec, size_t rg_bytes)
{
    enum { NC = sizeof(multi_cols) / sizeof(multi_cols[0]), CAP = 4096, TOTAL = 100000 };
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    o.page_rows = 1000;
    o.page_bytes = 2048; /* uniq and f pages are cut by bytes before rows */
    o.rg_rows = 30000;
    if (rg_bytes != 0) {
        o.rg_rows = 0; /* default */
        o.rg_bytes = rg_bytes;
    }
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, multi_cols, NC, &o, &e));
    struct batch b;
    init_batch(&b, multi_cols, NC, CAP);
    int64_t id = 0;
    while (id < TOTAL) {
        batch_reset(&b);
        size_t n = TOTAL - id < CAP ? (size_t)(TOTAL - id) : CAP;
        set_valid_all(&b, n);
        for (size_t r = 0; r < n; r++, id++) {
            char tmp[64];
            b.cols[0].v.i64[r] = id;
            if (id % 7 == 3) {
                put_str(&b, 1, r, NULL);
            } else {
                snprintf(tmp, sizeof(tmp), "cat%d", (int)(id % 13));
                put_str(&b, 1, r, tmp);
            }
            snprintf(tmp, sizeof(tmp), "u%lld", (long long)(id * 7919));
            put_str(&b, 2, r, tmp);
            b.cols[3].v.i64[r] = id % 100;
            if (id % 11 == 0) {
                null_at(&b, 3, r);
            }
            b.cols[4].v.f64[r] = (double)id * 0.5;
            if (id % 5 == 0) {
                null_at(&b, 4, r);
            }
            b.cols[5].v.u8[r] = id % 3 == 0;
            b.cols[6].v.i128[r] = (__int128)id * pow10_128(20) - 7;
            if (id % 2 == 1) {
                null_at(&b, 6, r);
            }
            b.cols[7].v.i64[r] = id % 1000 - 500;
            b.cols[8].v.i64[r] = id * 1000003;
        }
        CHECK(pq_writer_write(w, &b, &e));
    }
    if (pq_writer_rows(w) != TOTAL) {
        fprintf(stderr, "pqgen: pq_writer_rows is wrong\n");
        exit(1);
    }
    batch_release(&b);
    finish(w, fd);
}

static void gen_dictlimit(const char *path, enum pq_codec codec)
{
    static const struct column_desc cols[] = {{"id", {DT_INT32, 0, 0}, false},
                                            {"s", {DT_STR, 0, 0}, false},
                                            {"low", {DT_STR, 0, 0}, false}};
    enum { N = 5000 };
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    o.dict_bytes = 1000;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, cols, 3, &o, &e));
    struct batch b;
    init_batch(&b, cols, 3, N);
    set_valid_all(&b, N);
    for (size_t r = 0; r < N; r++) {
        char tmp[64];
        b.cols[0].v.i64[r] = (int64_t)r;
        snprintf(tmp, sizeof(tmp), "value-%03d", (int)(r % 500)); /* 500 x 13 bytes > 1000 */
        put_str(&b, 1, r, tmp);
        snprintf(tmp, sizeof(tmp), "v%d", (int)(r % 3));
        put_str(&b, 2, r, tmp);
    }
    CHECK(pq_writer_write(w, &b, &e));
    batch_release(&b);
    finish(w, fd);
}

static void gen_fallback(const char *path, enum pq_codec codec)
{
    static const struct column_desc cols[] = {{"id", {DT_INT32, 0, 0}, false},
                                            {"mid", {DT_STR, 0, 0}, false},
                                            {"midn", {DT_INT64, 0, 0}, true},
                                            {"first", {DT_STR, 0, 0}, true}};
    enum { N = 10000, B = 1000 };
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    o.page_rows = 1000;
    o.dict_bytes = 16384;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, cols, 4, &o, &e));
    struct batch b;
    init_batch(&b, cols, 4, B);
    for (int r0 = 0; r0 < N; r0 += B) {
        batch_reset(&b);
        set_valid_all(&b, B);
        for (int k = 0; k < B; k++) {
            int r = r0 + k;
            char tmp[32];
            b.cols[0].v.i64[k] = r;
            if (r < 3000) {
                snprintf(tmp, sizeof(tmp), "k%d", r % 5);
            } else {
                snprintf(tmp, sizeof(tmp), "distinct-%d", r);
            }
            put_str(&b, 1, (size_t)k, tmp);
            b.cols[2].valid[k] = r % 10 != 3;
            b.cols[2].v.i64[k] = r < 3000 ? r % 7 : (int64_t)r * 1000003;
            if (r < 1000) {
                snprintf(tmp, sizeof(tmp), "u%d", r);
            } else {
                snprintf(tmp, sizeof(tmp), "k%d", r % 3);
            }
            put_str(&b, 3, (size_t)k, r % 9 == 4 ? NULL : tmp);
        }
        CHECK(pq_writer_write(w, &b, &e));
    }
    batch_release(&b);
    finish(w, fd);
}

static void gen_dictcarry(const char *path, enum pq_codec codec)
{
    static const struct column_desc cols[] = {{"id", {DT_INT32, 0, 0}, false},
                                            {"s", {DT_STR, 0, 0}, false}};
    enum { N = 100, GROUPS = 20 };
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    o.rg_rows = N;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, cols, 2, &o, &e));
    struct batch b;
    init_batch(&b, cols, 2, N);
    for (int g = 0; g < GROUPS; g++) {
        batch_reset(&b);
        set_valid_all(&b, N);
        for (size_t r = 0; r < N; r++) {
            char tmp[32];
            int id = g * N + (int)r;
            b.cols[0].v.i64[r] = id;
            if (g == 0) {
                snprintf(tmp, sizeof(tmp), "distinct-%d", id);
            } else {
                snprintf(tmp, sizeof(tmp), "k%d", id % 3);
            }
            put_str(&b, 1, r, tmp);
        }
        CHECK(pq_writer_write(w, &b, &e));
    }
    batch_release(&b);
    finish(w, fd);
}

static void gen_filtered(const char *path, enum pq_codec codec)
{
    static const struct column_desc cols[] = {{"id", {DT_INT64, 0, 0}, false},
                                            {"s", {DT_STR, 0, 0}, true}};
    enum { N = 1000 };
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, cols, 2, &o, &e));
    struct batch b;
    init_batch(&b, cols, 2, N);
    for (int rep = 0; rep < 3; rep++) {
        batch_reset(&b);
        set_valid_all(&b, N);
        for (size_t r = 0; r < N; r++) {
            char tmp[32];
            b.cols[0].v.i64[r] = rep * N + (int64_t)r;
            snprintf(tmp, sizeof(tmp), "r%d", (int)(r % 4));
            /* rejected rows carry nulls even in the REQUIRED column: they must be skipped */
            b.row_ok[r] = r % 4 != 1;
            if (!b.row_ok[r]) {
                null_at(&b, 0, r);
            }
            put_str(&b, 1, r, r % 4 == 2 ? NULL : tmp);
        }
        CHECK(pq_writer_write(w, &b, &e));
    }
    batch_release(&b);
    finish(w, fd);
}

static void gen_floats(const char *path, enum pq_codec codec)
{
    static const struct column_desc cols[] = {{"id", {DT_INT32, 0, 0}, false},
                                            {"zeros", {DT_FLOAT64, 0, 0}, true},
                                            {"allnan", {DT_FLOAT32, 0, 0}, true},
                                            {"mixed", {DT_FLOAT64, 0, 0}, false}};
    enum { N = 5 };
    const double nan = __builtin_nan("");
    const double zeros[N] = {nan, 0.0, -0.0, nan, 0};
    const double mixed[N] = {nan, 2.5, -1.0, 0.5, 3.0};
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, cols, 4, &o, &e));
    struct batch b;
    init_batch(&b, cols, 4, N);
    set_valid_all(&b, N);
    for (size_t r = 0; r < N; r++) {
        b.cols[0].v.i64[r] = (int64_t)r;
        b.cols[1].v.f64[r] = zeros[r];
        b.cols[2].v.f64[r] = nan;
        b.cols[3].v.f64[r] = mixed[r];
    }
    null_at(&b, 1, 4);
    null_at(&b, 2, 4);
    CHECK(pq_writer_write(w, &b, &e));
    batch_release(&b);
    finish(w, fd);
}

/* Writer throughput on a typical ingest table; prints rows/s to stderr. Batches are built once
 * and written repeatedly so the figure is the writer's alone. */
static void gen_bench(const char *path, enum pq_codec codec, long rows)
{
    static const struct column_desc cols[] = {
        {"id", {DT_INT64, 0, 0}, false},         {"country", {DT_STR, 0, 0}, true},
        {"email", {DT_STR, 0, 0}, false},        {"amount", {DT_DECIMAL, 12, 2}, true},
        {"day", {DT_DATE, 0, 0}, true},          {"ts", {DT_TIMESTAMP_TZ, 0, 0}, true},
        {"ok", {DT_BOOL, 0, 0}, true},           {"score", {DT_FLOAT64, 0, 0}, true},
        {"qty", {DT_INT32, 0, 0}, true},         {"note", {DT_STR, 0, 0}, true},
    };
    enum { NC = 10, CAP = 8192 };
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    int fd = open_out(path);
    struct pq_writer *w;
    CHECK(pq_writer_open(&w, fd, cols, NC, &o, &e));
    struct batch b[4];
    static const char *countries[] = {"FR", "DE", "US", "JP", "BR", "IN", "CN", "GB"};
    for (int k = 0; k < 4; k++) {
        init_batch(&b[k], cols, NC, CAP);
        set_valid_all(&b[k], CAP);
        for (size_t r = 0; r < CAP; r++) {
            long id = (long)k * CAP + (long)r;
            char tmp[96];
            b[k].cols[0].v.i64[r] = id;
            put_str(&b[k], 1, r, r % 17 == 0 ? NULL : countries[(id * 7) % 8]);
            snprintf(tmp, sizeof(tmp), "user%ld.%ld@example.com", id * 2654435761 % 1000003, id);
            put_str(&b[k], 2, r, tmp);
            b[k].cols[3].v.i128[r] = (id * 7919) % 1000000;
            b[k].cols[4].v.i64[r] = 18000 + id % 2000;
            b[k].cols[5].v.i64[r] = 1600000000000000 + id * 1000003;
            b[k].cols[6].v.u8[r] = id % 3 == 0;
            b[k].cols[7].v.f64[r] = (double)(id % 10007) / 7.0;
            b[k].cols[8].v.i64[r] = id % 50;
            snprintf(tmp, sizeof(tmp), "note number %ld for the order", id % 5000);
            put_str(&b[k], 9, r, r % 3 == 0 ? NULL : tmp);
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long done = 0; done < rows; done += CAP) {
        CHECK(pq_writer_write(w, &b[(done / CAP) % 4], &e));
    }
    uint64_t bytes = 0;
    rows = (long)pq_writer_rows(w);
    CHECK(pq_writer_close(w, &bytes, &e));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "%ld rows in %.3f s: %.2f M rows/s, %.1f MB written\n", rows, s,
            (double)rows / s / 1e6, (double)bytes / 1e6);
    pq_writer_free(w);
    close(fd);
    for (int k = 0; k < 4; k++) {
        batch_release(&b[k]);
    }
}

/* ---- files built byte by byte (Parquet format spec: parquet.thrift), for what pq_writer does
 * not write: one row group, REQUIRED columns, one PLAIN DataPage V1 each, uncompressed. */
struct raw_col {
    const char *name; /* name_len bytes, may hold a NUL */
    size_t name_len;
    int ptype;    /* parquet.thrift Type: 1 INT32, 3 INT96 */
    size_t width; /* bytes per value */
    const uint8_t *values;
};

static void raw_write(const char *path, const struct raw_col *cols, size_t ncols, size_t nrows)
{
    struct buf out = BUF_INIT, meta = BUF_INIT;
    uint64_t offs[16];
    uint64_t sizes[16];
    if (ncols > 16 || buf_append(&out, "PAR1", 4) != 0) {
        exit(1);
    }
    for (size_t c = 0; c < ncols; c++) {
        struct buf hdr = BUF_INIT;
        struct tc t;
        size_t body = nrows * cols[c].width;
        tc_init(&t, &hdr);
        tc_field_i32(&t, 1, 0); /* DATA_PAGE */
        tc_field_i32(&t, 2, (int32_t)body);
        tc_field_i32(&t, 3, (int32_t)body);
        tc_field_struct(&t, 5);
        tc_field_i32(&t, 1, (int32_t)nrows);
        tc_field_i32(&t, 2, 0); /* PLAIN */
        tc_field_i32(&t, 3, 3); /* RLE */
        tc_field_i32(&t, 4, 3);
        tc_struct_end(&t);
        tc_struct_end(&t);
        offs[c] = out.len;
        sizes[c] = hdr.len + body;
        if (tc_error(&t) != 0 || buf_append(&out, hdr.data, hdr.len) != 0 ||
            buf_append(&out, cols[c].values, body) != 0) {
            exit(1);
        }
        buf_release(&hdr);
    }
    struct tc t;
    tc_init(&t, &meta);
    tc_field_i32(&t, 1, 1);
    tc_field_list(&t, 2, TC_STRUCT, ncols + 1);
    tc_elem_struct(&t);
    tc_field_str(&t, 4, "schema");
    tc_field_i32(&t, 5, (int32_t)ncols);
    tc_struct_end(&t);
    for (size_t c = 0; c < ncols; c++) {
        tc_elem_struct(&t);
        tc_field_i32(&t, 1, cols[c].ptype);
        tc_field_i32(&t, 3, 0); /* REQUIRED */
        tc_field_bin(&t, 4, cols[c].name, cols[c].name_len);
        tc_struct_end(&t);
    }
    tc_field_i64(&t, 3, (int64_t)nrows);
    tc_field_list(&t, 4, TC_STRUCT, 1);
    tc_elem_struct(&t);
    tc_field_list(&t, 1, TC_STRUCT, ncols);
    uint64_t total = 0;
    for (size_t c = 0; c < ncols; c++) {
        tc_elem_struct(&t);
        tc_field_i64(&t, 2, (int64_t)offs[c]);
        tc_field_struct(&t, 3);
        tc_field_i32(&t, 1, cols[c].ptype);
        tc_field_list(&t, 2, TC_I32, 1);
        tc_elem_i32(&t, 0);
        tc_field_list(&t, 3, TC_BINARY, 1);
        tc_elem_bin(&t, cols[c].name, cols[c].name_len);
        tc_field_i32(&t, 4, 0); /* UNCOMPRESSED */
        tc_field_i64(&t, 5, (int64_t)nrows);
        tc_field_i64(&t, 6, (int64_t)sizes[c]);
        tc_field_i64(&t, 7, (int64_t)sizes[c]);
        tc_field_i64(&t, 9, (int64_t)offs[c]);
        tc_struct_end(&t);
        tc_struct_end(&t);
        total += sizes[c];
    }
    tc_field_i64(&t, 2, (int64_t)total);
    tc_field_i64(&t, 3, (int64_t)nrows);
    tc_struct_end(&t);
    tc_struct_end(&t);
    uint8_t len[4];
    pq_put_u32le(len, (uint32_t)meta.len);
    if (tc_error(&t) != 0 || buf_append(&out, meta.data, meta.len) != 0 ||
        buf_append(&out, len, 4) != 0 || buf_append(&out, "PAR1", 4) != 0) {
        exit(1);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    printf("%zu\n", out.len);
    buf_release(&out);
    buf_release(&meta);
}

static void put_int96(uint8_t *p, int32_t julian_day, uint64_t nanos_of_day)
{
    pq_put_u64le(p, nanos_of_day);
    pq_put_u32le(p + 8, (uint32_t)julian_day);
}

static void gen_int96(const char *path)
{
    enum { N = 4 };
    uint8_t ids[4 * N], ts[12 * N];
    for (uint32_t i = 0; i < N; i++) {
        pq_put_u32le(ids + 4 * i, i + 1);
    }
    /* 2024-01-02 is 19724 days after 1970-01-01, Julian day 2440588. */
    uint64_t t3h = ((3 * 60 + 4) * 60 + 5) * 1000000000ull;
    put_int96(ts, 2440588 + 19724, t3h + 123456000);
    put_int96(ts + 12, 2440588 + 19724, t3h + 123456789);
    put_int96(ts + 24, 2440588, 0);
    put_int96(ts + 36, 2440588 - 1, 86399999999001ull);
    const struct raw_col cols[] = {{"id", 2, 1, 4, ids}, {"ts", 2, 3, 12, ts}};
    raw_write(path, cols, 2, N);
}

static void gen_names(const char *path)
{
    uint8_t v[8];
    pq_put_u32le(v, 1);
    pq_put_u32le(v + 4, 2);
    char longname[65];
    memset(longname, 'n', 64);
    longname[64] = '\0';
    const struct raw_col cols[] = {
        {"id", 2, 1, 4, v},      {"", 0, 1, 4, v},        {"a\0b", 3, 1, 4, v},
        {"bad\xff", 4, 1, 4, v}, {longname, 64, 1, 4, v}, {"ok", 2, 1, 4, v},
    };
    raw_write(path, cols, 6, 2);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pqgen "
                        "alltypes|multi|multibytes|dictlimit|dictcarry|floats|empty|filtered|int96|"
                        "names OUT [CODEC]\n");
        return 2;
    }
    enum pq_codec codec = PQ_CODEC_ZSTD;
    if (argc > 3) {
        CHECK(pq_codec_parse(argv[3], &codec, &e));
    }
    if (strcmp(argv[1], "alltypes") == 0) {
        gen_alltypes(argv[2], codec, false);
    } else if (strcmp(argv[1], "empty") == 0) {
        gen_alltypes(argv[2], codec, true);
    } else if (strcmp(argv[1], "multi") == 0) {
        gen_multi(argv[2], codec, 0);
    } else if (strcmp(argv[1], "multibytes") == 0) {
        gen_multi(argv[2], codec, 256 * 1024);
    } else if (strcmp(argv[1], "bench") == 0) {
        gen_bench(argv[2], codec, argc > 4 ? atol(argv[4]) : 4000000);
    } else if (strcmp(argv[1], "floats") == 0) {
        gen_floats(argv[2], codec);
    } else if (strcmp(argv[1], "dictlimit") == 0) {
        gen_dictlimit(argv[2], codec);
    } else if (strcmp(argv[1], "fallback") == 0) {
        gen_fallback(argv[2], codec);
    } else if (strcmp(argv[1], "dictcarry") == 0) {
        gen_dictcarry(argv[2], codec);
    } else if (strcmp(argv[1], "filtered") == 0) {
        gen_filtered(argv[2], codec);
    } else if (strcmp(argv[1], "int96") == 0) {
        gen_int96(argv[2]);
    } else if (strcmp(argv[1], "names") == 0) {
        gen_names(argv[2]);
    } else {
        fprintf(stderr, "pqgen: unknown scenario %s\n", argv[1]);
        return 2;
    }
    return 0;
}
