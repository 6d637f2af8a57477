/*
 * test_pq_parallel.c - the Parquet writer's parallel page compression (pq_options.threads).
 *
 * The contract is byte identity: a file written with threads = 2, 4 or more must be the very
 * file threads = 1 writes (the serial path, whose bytes test_parquet.c pins by hand and
 * tests/e2e/test_parquet_duckdb.sh reads back with DuckDB). Every dtype, nullable and REQUIRED,
 * with nulls, dictionary and PLAIN chunks, both dictionary fallbacks (dict_bytes mid-chunk, the
 * 3/4 distinct ratio), several pages and row groups (cut by rows and by bytes), rejected rows,
 * and every codec are written at each thread count and compared byte for byte; one parallel
 * file is also read back with pq_reader and checked value by value against the generator.
 * Failures inside a worker (pq_writer_inject_fault: a page that fails where it is compressed)
 * must fail write/close cleanly, naming the column, with no thread left behind and nothing
 * leaked (run under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "parquet/pq.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/astro_pqpar_XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* ---------------------------------------------------------------- the data */

enum { C_ID, C_SLOW, C_SHIGH, C_SLONG, C_SREQ, C_B, C_I8, C_I16, C_I32, C_I64, C_U8, C_U16, C_U32,
       C_U64, C_F32, C_F64, C_D, C_TS, C_TSTZ, C_DEC9, C_DEC18, C_DEC38, C_DEC20, C_I64REQ,
       C_NCOLS };

static const struct column_desc all_cols[C_NCOLS] = {
    {"id", {DT_INT64, 0, 0}, false},       {"s_low", {DT_STR, 0, 0}, true},
    {"s_high", {DT_STR, 0, 0}, true},      {"s_long", {DT_STR, 0, 0}, true},
    {"s_req", {DT_STR, 0, 0}, false},      {"b", {DT_BOOL, 0, 0}, true},
    {"i8", {DT_INT8, 0, 0}, true},         {"i16", {DT_INT16, 0, 0}, true},
    {"i32", {DT_INT32, 0, 0}, true},       {"i64", {DT_INT64, 0, 0}, true},
    {"u8", {DT_UINT8, 0, 0}, true},        {"u16", {DT_UINT16, 0, 0}, true},
    {"u32", {DT_UINT32, 0, 0}, true},      {"u64", {DT_UINT64, 0, 0}, true},
    {"f32", {DT_FLOAT32, 0, 0}, true},     {"f64", {DT_FLOAT64, 0, 0}, true},
    {"d", {DT_DATE, 0, 0}, true},          {"ts", {DT_TIMESTAMP, 0, 0}, true},
    {"tstz", {DT_TIMESTAMP_TZ, 0, 0}, true}, {"dec9", {DT_DECIMAL, 9, 2}, true},
    {"dec18", {DT_DECIMAL, 18, 4}, true},  {"dec38", {DT_DECIMAL, 38, 10}, true},
    {"dec20", {DT_DECIMAL, 20, 0}, true},  {"i64_req", {DT_INT64, 0, 0}, false},
};

/* One cell of the generated table: a pure function of (column, row), so the writer's input and
 * the read-back check agree without storing anything. */
struct cell {
    bool valid;
    int64_t i;
    double f;
    __int128 d;
    char s[6000];
    size_t slen;
};

static void gen_cell(const struct column_desc *col, size_t c, uint64_t row, struct cell *v)
{
    uint64_t h = mix(row * 64 + c + 1);
    memset(v, 0, offsetof(struct cell, s));
    v->slen = 0;
    v->s[0] = '\0';
    v->valid = !col->nullable || h % 7 != 3;
    if (!v->valid) {
        return;
    }
    static const char *words[] = {"alpha", "beta", "gamma", "delta", "", "zeta", "eta", "été"};
    switch (col->type.id) {
    case DT_STR:
        if (strcmp(col->name, "s_high") == 0) {
            v->slen = (size_t)snprintf(v->s, sizeof(v->s), "user%llu@host%llu.example",
                                       (unsigned long long)(h % 1000003),
                                       (unsigned long long)row);
        } else if (strcmp(col->name, "s_long") == 0 && row % 5000 == 17) {
            /* Longer than the writer's statistics limit: a chunk without min/max. */
            v->slen = 5000 + row % 100;
            memset(v->s, 'a' + (int)(row % 26), v->slen);
        } else {
            v->slen = (size_t)snprintf(v->s, sizeof(v->s), "%s", words[h % 8]);
        }
        return;
    case DT_BOOL: v->i = (int64_t)(h & 1); return;
    case DT_INT8: v->i = (int8_t)h; return;
    case DT_INT16: v->i = (int16_t)(h >> 8); return;
    case DT_INT32: v->i = (int64_t)(h % 100) - 50; return;
    case DT_INT64: v->i = c == C_ID ? (int64_t)row : (int64_t)h; return;
    case DT_UINT8: v->i = (int64_t)(h & 0xff); return;
    case DT_UINT16: v->i = (int64_t)(h % 40); return;
    case DT_UINT32: v->i = (int64_t)(h & 0xffffffffu); return;
    case DT_UINT64: v->i = (int64_t)h; return; /* the uint64 bit pattern, top bit often set */
    case DT_FLOAT32:
        v->f = h % 101 == 0   ? NAN
               : h % 103 == 0 ? -0.0
                              : (double)(float)((double)(h % 10000) / 7.0);
        return;
    case DT_FLOAT64:
        v->f = h % 101 == 0 ? NAN : (double)(int64_t)(h % 2000001 - 1000000) / 1024.0;
        return;
    case DT_DATE: v->i = 18000 + (int64_t)(h % 3000); return;
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: v->i = 1600000000000000LL + (int64_t)(h % 1000000000000ULL); return;
    case DT_DECIMAL:
        if (col->type.precision <= 9) {
            v->d = (__int128)(h % 1000000000ULL) - 500000000;
        } else if (col->type.precision <= 18) {
            v->d = (__int128)(h % 1000) * 1000000000000LL; /* few distinct: dictionary */
        } else if (col->type.precision == 38) {
            v->d = ((__int128)(int64_t)h * (__int128)1000000000000000000LL) + (int64_t)(h >> 3);
        } else {
            v->d = (__int128)(h % 100000000000000000ULL) * 1000 - ((__int128)1 << 64);
        }
        return;
    default: fail_msg("unexpected dtype %d", (int)col->type.id);
    }
}

/* Rows rejected by the "validator": never written. */
static bool row_rejected(uint64_t row)
{
    return row % 97 == 5;
}

/* Fills b (batch_init'ed for cols) with rows [first, first + n). */
static void fill_batch(struct batch *b, const struct column_desc *cols, size_t ncols, uint64_t first,
                       size_t n, struct cell *v)
{
    for (size_t c = 0; c < ncols; c++) {
        buf_reset(&b->cols[c].data);
        if (b->cols[c].offs != NULL) {
            b->cols[c].offs[0] = 0;
        }
    }
    for (size_t r = 0; r < n; r++) {
        uint64_t row = first + r;
        b->row_ok[r] = !row_rejected(row);
        b->line[r] = row + 2;
        for (size_t c = 0; c < ncols; c++) {
            gen_cell(&cols[c], c, row, v);
            struct column *bc = &b->cols[c];
            switch (cols[c].type.id) {
            case DT_STR:
                assert_int_equal(batch_put_bytes(b, c, r, v->s, v->slen, v->valid), 0);
                continue;
            case DT_BOOL: bc->v.u8[r] = (uint8_t)v->i; break;
            case DT_FLOAT32:
            case DT_FLOAT64: bc->v.f64[r] = v->f; break;
            case DT_DECIMAL: bc->v.i128[r] = v->d; break;
            default: bc->v.i64[r] = v->i; break;
            }
            bc->valid[r] = v->valid;
        }
    }
    b->nrows = n;
}

/* ---------------------------------------------------------------- writing */

struct file {
    uint8_t *data;
    size_t len;
};

static void path_for(char *path, size_t n, const char *name)
{
    snprintf(path, n, "%s/%s.parquet", tmpdir, name);
}

/* Writes rows [0, nrows) of cols in batches of batch_rows with o and returns the file's bytes
 * (the file is kept at path_for(name) until the caller unlinks it). */
static struct file write_table(const struct column_desc *cols, size_t ncols, size_t nrows,
                               size_t batch_rows, const struct pq_options *o, const char *name)
{
    char path[256];
    path_for(path, sizeof(path), name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct err e;
    struct pq_writer *w = NULL;
    assert_int_equal(pq_writer_open(&w, fd, cols, ncols, o, &e), 0);
    struct dtype_info types[C_NCOLS];
    for (size_t c = 0; c < ncols; c++) {
        types[c] = cols[c].type;
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, ncols, batch_rows), 0);
    struct cell *v = malloc(sizeof(*v));
    assert_non_null(v);
    uint64_t kept = 0;
    for (size_t first = 0; first < nrows; first += batch_rows) {
        size_t n = nrows - first < batch_rows ? nrows - first : batch_rows;
        fill_batch(&b, cols, ncols, first, n, v);
        kept += batch_count_ok(&b);
        int rc = pq_writer_write(w, &b, &e);
        if (rc != 0) {
            fail_msg("pq_writer_write: %s", e.msg);
        }
    }
    assert_int_equal(pq_writer_add_kv(w, "k", "v", &e), 0);
    uint64_t bytes = 0;
    int rc = pq_writer_close(w, &bytes, &e);
    if (rc != 0) {
        fail_msg("pq_writer_close: %s", e.msg);
    }
    assert_int_equal(pq_writer_rows(w), kept);
    pq_writer_free(w);
    free(v);
    batch_release(&b);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal((uint64_t)st.st_size, bytes);
    struct file f = {malloc(bytes ? bytes : 1), bytes};
    assert_non_null(f.data);
    assert_int_equal(pread(fd, f.data, bytes, 0), (ssize_t)bytes);
    close(fd);
    return f;
}

static void assert_same_file(const struct file *a, const struct file *b, const char *what)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
        size_t i = 0;
        while (i < a->len && i < b->len && a->data[i] == b->data[i]) {
            i++;
        }
        fail_msg("%s: files differ (%zu vs %zu bytes, first difference at byte %zu)", what,
                 a->len, b->len, i);
    }
}

/* Writes the table with threads = 1 and with each of threads[], and checks every file is the
 * threads = 1 one, byte for byte. */
static void check_identical(const struct column_desc *cols, size_t ncols, size_t nrows,
                            size_t batch_rows, struct pq_options o, const int *threads,
                            size_t nthreads, const char *what)
{
    o.threads = 1;
    struct file ref = write_table(cols, ncols, nrows, batch_rows, &o, "ref");
    assert_true(ref.len > 12);
    assert_memory_equal(ref.data, "PAR1", 4);
    assert_memory_equal(ref.data + ref.len - 4, "PAR1", 4);
    for (size_t k = 0; k < nthreads; k++) {
        o.threads = threads[k];
        struct file f = write_table(cols, ncols, nrows, batch_rows, &o, "par");
        char msg[160];
        snprintf(msg, sizeof(msg), "%s, codec %d level %d, threads %d", what, (int)o.codec,
                 o.level, threads[k]);
        assert_same_file(&ref, &f, msg);
        free(f.data);
    }
    free(ref.data);
    char path[256];
    path_for(path, sizeof(path), "ref");
    unlink(path);
    path_for(path, sizeof(path), "par");
    unlink(path);
}

static const enum pq_codec codecs[] = {PQ_CODEC_NONE, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,
                                       PQ_CODEC_ZSTD};

/* ---------------------------------------------------------------- tests */

/* Every dtype and codec; 3 row groups of several pages each, the last one partial. */
static void test_alltypes_every_codec(void **state)
{
    (void)state;
    static const int threads[] = {2, 4, 7, 64};
    for (size_t k = 0; k < sizeof(codecs) / sizeof(codecs[0]); k++) {
        struct pq_options o;
        pq_options_default(&o);
        o.codec = codecs[k];
        o.rg_rows = 12000;
        o.page_rows = 3000;
        check_identical(all_cols, C_NCOLS, 30011, 4096, o, threads, 4, "alltypes");
    }
    /* zstd at the level ingest uses, and the largest row-group count. */
    struct pq_options o;
    pq_options_default(&o);
    o.level = 1;
    o.rg_rows = 1000;
    o.page_rows = 300;
    o.page_bytes = 2048;
    check_identical(all_cols, C_NCOLS, 9000, 1500, o, threads, 2, "alltypes small groups");
}

/* Both dictionary fallbacks: the dictionary passing dict_bytes mid-chunk and the 3/4 distinct
 * ratio checked after 64 Ki values, next to columns that stay dictionary encoded. */
static void test_dictionary_fallbacks(void **state)
{
    (void)state;
    static const struct column_desc cols[] = {
        {"s_high", {DT_STR, 0, 0}, true},  {"s_low", {DT_STR, 0, 0}, false},
        {"i64", {DT_INT64, 0, 0}, true},   {"u16", {DT_UINT16, 0, 0}, true},
        {"dec18", {DT_DECIMAL, 18, 4}, false},
    };
    static const int threads[] = {2, 3, 4};
    struct pq_options o;
    pq_options_default(&o);
    o.level = 1;
    check_identical(cols, 5, 140000, 8192, o, threads, 3, "ratio fallback");
    o.dict_bytes = 4096;
    o.codec = PQ_CODEC_SNAPPY;
    check_identical(cols, 5, 70000, 8192, o, threads, 3, "dict_bytes fallback");
}

/* Row groups cut by buffered bytes rather than rows. */
static void test_rowgroups_by_bytes(void **state)
{
    (void)state;
    static const int threads[] = {2, 4};
    struct pq_options o;
    pq_options_default(&o);
    o.rg_bytes = 256 * 1024;
    o.codec = PQ_CODEC_GZIP;
    o.level = 1;
    check_identical(all_cols, C_NCOLS, 20000, 2000, o, threads, 2, "rg_bytes");
}

/* No rows (no row group), one row, one column (its pages shared between the threads), and
 * thread counts 0 and negative (both mean 1). */
static void test_edge_cases(void **state)
{
    (void)state;
    static const int threads[] = {0, -3, 2, 4};
    struct pq_options o;
    pq_options_default(&o);
    check_identical(all_cols, C_NCOLS, 0, 16, o, threads, 4, "empty");
    check_identical(all_cols, 2, 1, 1, o, threads, 4, "one row");
    o.page_rows = 2000;
    check_identical(all_cols + C_SHIGH, 1, 60000, 5000, o, threads, 4, "one column");
}

/* A parallel file read back by pq_reader: every value as generated, rejected rows absent. */
static void test_parallel_read_back(void **state)
{
    (void)state;
    struct pq_options o;
    pq_options_default(&o);
    o.threads = 4;
    o.rg_rows = 7000;
    o.page_rows = 2500;
    const size_t nrows = 20000;
    struct file f = write_table(all_cols, C_NCOLS, nrows, 3000, &o, "rb");
    free(f.data);
    char path[256];
    path_for(path, sizeof(path), "rb");
    struct err e;
    struct pq_reader *r = NULL;
    if (pq_reader_open(&r, path, &e) != 0) {
        fail_msg("pq_reader_open: %s", e.msg);
    }
    assert_int_equal(pq_reader_ncols(r), C_NCOLS);
    struct dtype_info types[C_NCOLS];
    for (size_t c = 0; c < C_NCOLS; c++) {
        const struct column_desc *pc = pq_reader_column(r, c);
        assert_string_equal(pc->name, all_cols[c].name);
        assert_int_equal(pc->type.id, all_cols[c].type.id);
        assert_int_equal(pc->nullable, all_cols[c].nullable);
        types[c] = pc->type;
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, C_NCOLS, 1024), 0);
    struct cell *v = malloc(sizeof(*v));
    assert_non_null(v);
    uint64_t row = 0, seen = 0;
    for (;;) {
        if (pq_reader_next(r, &b, &e) != 0) {
            fail_msg("pq_reader_next: %s", e.msg);
        }
        if (b.nrows == 0) {
            break;
        }
        for (size_t i = 0; i < b.nrows; i++, row++, seen++) {
            while (row_rejected(row)) {
                row++;
            }
            for (size_t c = 0; c < C_NCOLS; c++) {
                gen_cell(&all_cols[c], c, row, v);
                const struct column *bc = &b.cols[c];
                if (!v->valid || !bc->valid[i]) {
                    assert_int_equal(bc->valid[i], v->valid);
                    continue;
                }
                switch (all_cols[c].type.id) {
                case DT_STR:
                    assert_int_equal(bc->offs[i + 1] - bc->offs[i], v->slen);
                    assert_memory_equal(bc->data.data + bc->offs[i], v->s, v->slen);
                    break;
                case DT_BOOL: assert_int_equal(bc->v.u8[i], v->i); break;
                case DT_FLOAT32:
                case DT_FLOAT64:
                    if (isnan(v->f)) {
                        assert_true(isnan(bc->v.f64[i]));
                    } else {
                        assert_memory_equal(&bc->v.f64[i], &v->f, sizeof(double));
                    }
                    break;
                case DT_DECIMAL: assert_true(bc->v.i128[i] == v->d); break;
                default: assert_int_equal(bc->v.i64[i], v->i); break;
                }
            }
        }
    }
    while (row < nrows && row_rejected(row)) {
        row++;
    }
    assert_int_equal(row, nrows);
    assert_int_equal(seen, pq_reader_nrows(r));
    assert_string_equal(pq_reader_kv(r, "k"), "v");
    free(v);
    batch_release(&b);
    pq_reader_free(r);
    unlink(path);
}

/* A worker that fails: the call that flushes fails with the worker's code and the column's
 * name, the writer stays failed, and free leaves nothing behind (ASan). */
static void fault_case(int threads, size_t col, int code, bool at_close)
{
    char path[256];
    path_for(path, sizeof(path), "fault");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct pq_options o;
    pq_options_default(&o);
    o.threads = threads;
    o.rg_rows = 1000;
    struct err e;
    struct pq_writer *w = NULL;
    assert_int_equal(pq_writer_open(&w, fd, all_cols, C_NCOLS, &o, &e), 0);
    struct dtype_info types[C_NCOLS];
    for (size_t c = 0; c < C_NCOLS; c++) {
        types[c] = all_cols[c].type;
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, C_NCOLS, 1500), 0);
    struct cell *v = malloc(sizeof(*v));
    assert_non_null(v);
    /* 1500 rows, 15 rejected: one full group of 1000 flushed, 485 rows left buffered. */
    fill_batch(&b, all_cols, C_NCOLS, 0, 1500, v);
    if (!at_close) {
        pq_writer_inject_fault(w, col, code);
        assert_int_equal(pq_writer_write(w, &b, &e), code);
    } else {
        assert_int_equal(pq_writer_write(w, &b, &e), 0);
        pq_writer_inject_fault(w, col, code);
        uint64_t bytes;
        assert_int_equal(pq_writer_close(w, &bytes, &e), code);
    }
    char want[128];
    snprintf(want, sizeof(want), "writing column '%s': injected fault", all_cols[col].name);
    if (strstr(e.msg, want) == NULL) {
        fail_msg("threads %d column %zu: message '%s' lacks '%s'", threads, col, e.msg, want);
    }
    /* Sticky: nothing more is written, and close refuses too. */
    assert_int_equal(pq_writer_write(w, &b, &e), code);
    uint64_t bytes;
    assert_int_equal(pq_writer_close(w, &bytes, &e), code);
    pq_writer_free(w);
    free(v);
    batch_release(&b);
    close(fd);
    unlink(path);
}

static void test_worker_faults(void **state)
{
    (void)state;
    static const int threads[] = {1, 2, 4};
    static const size_t cols[] = {0, C_SHIGH, C_DEC38, C_NCOLS - 1};
    for (size_t t = 0; t < 3; t++) {
        for (size_t k = 0; k < 4; k++) {
            fault_case(threads[t], cols[k], AE_NOMEM, false);
            fault_case(threads[t], cols[k], AE_INTERNAL, true);
        }
    }
}

/* Faults cleared before the flush leave the file exactly as without them. */
static void test_fault_cleared(void **state)
{
    (void)state;
    char path[256];
    path_for(path, sizeof(path), "cleared");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct pq_options o;
    pq_options_default(&o);
    o.threads = 3;
    struct err e;
    struct pq_writer *w = NULL;
    assert_int_equal(pq_writer_open(&w, fd, all_cols, 3, &o, &e), 0);
    pq_writer_inject_fault(w, 1, AE_NOMEM);
    pq_writer_inject_fault(w, 1, 0);
    struct dtype_info types[3] = {all_cols[0].type, all_cols[1].type, all_cols[2].type};
    struct batch b;
    assert_int_equal(batch_init(&b, types, 3, 100), 0);
    struct cell *v = malloc(sizeof(*v));
    assert_non_null(v);
    fill_batch(&b, all_cols, 3, 0, 100, v);
    assert_int_equal(pq_writer_write(w, &b, &e), 0);
    uint64_t bytes;
    assert_int_equal(pq_writer_close(w, &bytes, &e), 0);
    pq_writer_free(w);
    close(fd);
    free(v);
    batch_release(&b);
    o.threads = 1;
    struct file ref = write_table(all_cols, 3, 100, 100, &o, "ref");
    /* write_table adds one key-value pair, so compare up to the footer's start only: the row
     * data (all pages) is what a fault could have disturbed. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t *got = malloc((size_t)st.st_size);
    assert_non_null(got);
    assert_int_equal(read(fd, got, (size_t)st.st_size), st.st_size);
    close(fd);
    uint32_t flen = (uint32_t)got[st.st_size - 8] | (uint32_t)got[st.st_size - 7] << 8 |
                    (uint32_t)got[st.st_size - 6] << 16 | (uint32_t)got[st.st_size - 5] << 24;
    size_t data_end = (size_t)st.st_size - 8 - flen;
    assert_true(data_end > 4 && data_end < ref.len);
    assert_memory_equal(got, ref.data, data_end);
    free(got);
    free(ref.data);
    unlink(path);
    path_for(path, sizeof(path), "ref");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alltypes_every_codec),
        cmocka_unit_test(test_dictionary_fallbacks),
        cmocka_unit_test(test_rowgroups_by_bytes),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_parallel_read_back),
        cmocka_unit_test(test_worker_faults),
        cmocka_unit_test(test_fault_cleared),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
