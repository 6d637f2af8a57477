/*
 * test_pq_bigpage.c - the Parquet reader on files whose columns are each one large PLAIN data
 * page (DataPage V1, REQUIRED and OPTIONAL with nulls, strings and int64), written by our own
 * writer with a page limit above the data, in every codec astro writes.
 *
 * The reader streams such pages (reader.c, "Large PLAIN pages"): every value must come back as
 * written, in batches of 4096 and of 7 rows, while the page memory a column holds
 * (pq_reader_page_peak) stays under 1 MiB for a string page of about 22 MB; with the snappy
 * history cut to 1 KiB (pq_reader_stream_history) the pages take the whole-page fallback and
 * still read exactly; a corrupt page is refused with an error naming its column, never a crash.
 * tests/e2e/test_pq_bigpages.sh reads such pages from DuckDB, arrow-rs and hyparquet-writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "parquet/pq.h"
#include "pq_gen_table.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/astro_pqbig_XXXXXX";

enum { NROWS = 400000, NCORRUPT = 100000, WBATCH = 8192, NCOLS = 4 };

/* id int64 REQUIRED, s str REQUIRED (about 22 MB of PLAIN values), n int64 OPTIONAL, t str
 * OPTIONAL. */
static const struct column_desc cols[NCOLS] = {{"id", {DT_INT64, 0, 0}, false},
                                               {"s", {DT_STR, 0, 0}, false},
                                               {"n", {DT_INT64, 0, 0}, true},
                                               {"t", {DT_STR, 0, 0}, true}};

static bool cell_valid(size_t c, size_t r)
{
    return c == 2 ? r % 7 != 3 : c == 3 ? r % 5 != 1 : true;
}

static int64_t cell_int(size_t c, size_t r)
{
    return c == 0 ? (int64_t)r * 7919 - 300000000 : (int64_t)r * -1000003 + 5;
}

static size_t cell_str(size_t c, size_t r, char *s, size_t n)
{
    static const char xs[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    if (c == 1) {
        return (size_t)snprintf(s, n, "user%zu.%.*s\xc3\xa9@example.com", r, (int)(r % 53), xs);
    }
    return (size_t)snprintf(s, n, "t-%08zu-%.*s", r * 31, (int)(r % 31), xs);
}

static void path_for(char *path, size_t n, const char *name)
{
    snprintf(path, n, "%s/%s.parquet", tmpdir, name);
}

static const struct gen_table table = {cols, NCOLS, cell_valid, cell_int, cell_str};

/* Writes the first nrows rows of the first ncols columns of the table (one page per column:
 * the page limits are above it; the fastest level of each codec). */
static void write_table(const char *name, enum pq_codec codec, size_t ncols, size_t nrows)
{
    char path[256];
    path_for(path, sizeof(path), name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    o.level = codec == PQ_CODEC_NONE || codec == PQ_CODEC_SNAPPY ? 0 : 1;
    o.page_bytes = 64u << 20;
    o.page_rows = 10u * NROWS;
    gen_write(fd, &table, ncols, nrows, WBATCH, &o);
    close(fd);
}

/* Reads every row of the file in batches of cap rows and checks each value against the table;
 * returns the reader's page peak. history: 0, or a snappy history for pq_reader_stream_history. */
static size_t read_check(const char *name, size_t cap, size_t history)
{
    char path[256];
    path_for(path, sizeof(path), name);
    struct err e;
    struct pq_reader *r = NULL;
    if (pq_reader_open(&r, path, &e) != 0) {
        fail_msg("pq_reader_open: %s", e.msg);
    }
    if (history > 0) {
        pq_reader_stream_tune(r, 512u << 10, history);
    }
    size_t nc = pq_reader_ncols(r);
    struct dtype_info types[NCOLS];
    for (size_t c = 0; c < nc; c++) {
        types[c] = pq_reader_column(r, c)->type;
        assert_int_equal(pq_reader_column(r, c)->nullable, cols[c].nullable);
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, nc, cap), 0);
    size_t row = 0;
    for (;;) {
        if (pq_reader_next(r, &b, &e) != 0) {
            fail_msg("%s: pq_reader_next at row %zu: %s", name, row, e.msg);
        }
        if (b.nrows == 0) {
            break;
        }
        gen_check(&table, name, &b, row);
        row += b.nrows;
    }
    assert_int_equal(row, NROWS);
    size_t peak = pq_reader_page_peak(r);
    batch_release(&b);
    pq_reader_free(r);
    return peak;
}

static const struct {
    const char *name;
    enum pq_codec codec;
} cases[] = {{"snappy", PQ_CODEC_SNAPPY},
             {"zstd", PQ_CODEC_ZSTD},
             {"gzip", PQ_CODEC_GZIP},
             {"none", PQ_CODEC_NONE}};

static void test_codecs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t peak = read_check(cases[i].name, 4096, 0);
        /* The string page alone is about 22 MB: read whole, it would be held with its
         * compressed bytes. Streamed, a column holds its window and a slice. */
        if (peak >= (1u << 20)) {
            fail_msg("%s: a column held %zu bytes of page memory", cases[i].name, peak);
        }
    }
    /* Batches of 7 rows: values and levels cut at other places than the refills. */
    assert_true(read_check("snappy", 7, 0) < (1u << 20));
    assert_true(read_check("none", 7, 0) < (1u << 20));
}

/* A snappy copy reaching further back than the history kept: the page is decompressed whole,
 * from the value it had reached, and every value still reads as written. */
static void test_fallback(void **state)
{
    (void)state;
    size_t peak = read_check("snappy", 4096, 1024);
    if (peak < (20u << 20)) {
        fail_msg("the fallback did not read the string page whole (peak %zu)", peak);
    }
}

/* Bytes of 0xff written over the middle of a page (a snappy copy with an offset of 4 GiB, or no
 * valid deflate or zstd data): an AE_FORMAT error naming the column, never a crash. gzip pages
 * carry a CRC-32 of their data, so a change is always found; a zstd page without a checksum may
 * decode to other values, and is only required not to crash. */
static void test_corrupt(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum pq_codec codec;
        bool must_fail;
    } bad[] = {{"bad_snappy", PQ_CODEC_SNAPPY, true},
               {"bad_gzip", PQ_CODEC_GZIP, true},
               {"bad_zstd", PQ_CODEC_ZSTD, false}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* id, then s (5.5 MB): s fills most of the file */
        write_table(bad[i].name, bad[i].codec, 2, NCORRUPT);
        char path[256];
        path_for(path, sizeof(path), bad[i].name);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        int fd = open(path, O_WRONLY);
        assert_true(fd >= 0);
        static uint8_t junk[4096];
        memset(junk, 0xff, sizeof(junk));
        off_t at = st.st_size * 3 / 4;
        assert_int_equal(pwrite(fd, junk, sizeof(junk), at), (ssize_t)sizeof(junk));
        close(fd);
        struct err e;
        struct pq_reader *r = NULL;
        assert_int_equal(pq_reader_open(&r, path, &e), 0);
        struct dtype_info types[2] = {cols[0].type, cols[1].type};
        struct batch b;
        assert_int_equal(batch_init(&b, types, 2, 4096), 0);
        int rc;
        do {
            rc = pq_reader_next(r, &b, &e);
        } while (rc == 0 && b.nrows > 0);
        if (bad[i].must_fail || rc != 0) {
            assert_int_equal(rc, AE_FORMAT);
            if (strstr(e.msg, "column 's'") == NULL) {
                fail_msg("%s: %s", bad[i].name, e.msg);
            }
        }
        batch_release(&b);
        pq_reader_free(r);
    }
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"snappy",     "zstd",     "gzip",    "none",
                                        "bad_snappy", "bad_gzip", "bad_zstd"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[256];
        path_for(path, sizeof(path), names[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_table(cases[i].name, cases[i].codec, NCOLS, NROWS);
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
