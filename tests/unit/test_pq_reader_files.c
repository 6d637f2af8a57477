/*
 * test_pq_reader_files.c - the Parquet reader on the apache/parquet-testing reference files (files
 * written by other writers, and corrupt ones), and on every single-byte corruption of one of them.
 *
 * The reference files are not part of this repository: the test reads them from the folder named
 * by ASTRO_PARQUET_TESTING at run time (scripts/test sets it to ../shared/parquet-testing when
 * that folder exists) and reports itself skipped (exit 77, ctest's SKIP_RETURN_CODE) when the
 * variable is unset or empty. A variable naming a folder without data/ and bad_data/ fails. The
 * reader's coverage that a clone alone keeps is tests/e2e/test_pq_reader_writers.sh (files that
 * DuckDB, arrow-rs and hyparquet-writer write at test time) and test_pq_reader_sweep.c.
 *
 * Expected values: spot values come from each file's .md or from DuckDB (tests/oracle); the
 * whole-file digests were checked against DuckDB value by value (every row, every column, floats
 * bit for bit) before being written down here, so a digest change means a behaviour change. Set
 * PQ_READER_PRINT=1 to print the digests the reader computes. Each file is read with several
 * batch sizes, which must all give the same digest (batches cross pages and row groups).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "parquet/pq.h"
#include "pq_read_helpers.h"
#include "test_helpers.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The parquet-testing folder (from ASTRO_PARQUET_TESTING, set in main). */
static const char *pt_dir;
#define PT pt_dir

struct ref_file {
    const char *name;
    uint64_t rows;
    uint64_t digest;
};

/* Every flat file of parquet-testing the reader supports, with the digest of its values. */
static const struct ref_file ref_files[] = {
    {"alltypes_dictionary.parquet", 2, 0x87097fd9a9f7e084ull},
    {"alltypes_plain.parquet", 8, 0xa752a20e9e510a45ull},
    {"alltypes_plain.snappy.parquet", 2, 0xe617e15b8f5be6beull},
    {"alltypes_tiny_pages.parquet", 7300, 0x86799971c3e1c804ull},
    {"alltypes_tiny_pages_plain.parquet", 7300, 0x86799971c3e1c804ull},
    {"binary.parquet", 12, 0xf3ae4de16017b099ull},
    {"byte_array_decimal.parquet", 24, 0x380afff805653bdeull},
    {"column_chunk_key_value_metadata.parquet", 0, 0xcbf29ce484222325ull},
    {"concatenated_gzip_members.parquet", 513, 0xaa9247b4c75dd101ull},
    {"data_index_bloom_encoding_stats.parquet", 14, 0x7d554605844bfb72ull},
    {"data_index_bloom_encoding_with_length.parquet", 14, 0x7d554605844bfb72ull},
    {"delta_binary_packed.parquet", 200, 0xfb22d82485251c4aull},
    {"delta_byte_array.parquet", 1000, 0x661a6682b560216eull},
    {"delta_length_byte_array.parquet", 1000, 0xbd665a81a0944854ull},
    {"delta_encoding_optional_column.parquet", 100, 0x5e75e07335a694fdull},
    {"delta_encoding_required_column.parquet", 100, 0x5e2d74a1fca85b2cull},
    {"byte_stream_split.zstd.parquet", 300, 0x1dc235d59bfc8288ull},
    {"datapage_v1-snappy-compressed-checksum.parquet", 5120, 0x4c5c2fb2c44ba625ull},
    {"datapage_v1-uncompressed-checksum.parquet", 5120, 0x4c5c2fb2c44ba625ull},
    {"datapage_v2_empty_datapage.snappy.parquet", 1, 0xaf63bd4c8601b7dfull},
    {"dict-page-offset-zero.parquet", 39, 0xc8cb43f412364bd8ull},
    {"fixed_length_decimal.parquet", 24, 0x380afff805653bdeull},
    {"fixed_length_decimal_legacy.parquet", 24, 0x380afff805653bdeull},
    {"int32_decimal.parquet", 24, 0x380afff805653bdeull},
    {"int32_with_null_pages.parquet", 1000, 0xb479962ebd51ad2aull},
    {"int64_decimal.parquet", 24, 0x380afff805653bdeull},
    {"int96_from_spark.parquet", 6, 0xc36fcedf09323694ull},
    {"lz4_raw_compressed.parquet", 4, 0x5d21cdb5f1d4988dull},
    {"lz4_raw_compressed_larger.parquet", 10000, 0x4a93f2f05d156555ull},
    {"nan_in_stats.parquet", 2, 0xbaf068109119d9e5ull},
    {"overflow_i16_page_cnt.parquet", 40000, 0xde861d2ff5949825ull},
    {"page_v2_empty_compressed.parquet", 10, 0x69d307cc20f6ef8dull},
    {"plain-dict-uncompressed-checksum.parquet", 1000, 0xaeb82eefb0ad0065ull},
    {"rle-dict-snappy-checksum.parquet", 1000, 0xb03858e812d5c1a5ull},
    {"rle_boolean_encoding.parquet", 68, 0x5a15f092f569e8e5ull},
    {"single_nan.parquet", 1, 0xaf63bd4c8601b7dfull},
    {"sort_columns.parquet", 6, 0x868c7bd378cdd8dfull},
    {"unknown-logical-type.parquet", 3, 0x754e981b6bad58ceull},
};

static void test_reference_digests(void **state)
{
    (void)state;
    bool print = getenv("PQ_READER_PRINT") != NULL;
    for (size_t i = 0; i < sizeof(ref_files) / sizeof(ref_files[0]); i++) {
        const struct ref_file *f = &ref_files[i];
        char path[512];
        snprintf(path, sizeof(path), "%s/data/%s", PT, f->name);
        struct summary a, b;
        read_file(path, 1024, &a);
        if (a.rc != 0) {
            fprintf(stderr, "%s: %s\n", f->name, a.msg);
            fail();
        }
        if (print) {
            printf("    {\"%s\", %llu, 0x%016llxull},\n", f->name, (unsigned long long)a.rows,
                   (unsigned long long)a.digest);
            continue;
        }
        assert_int_equal(a.rows, f->rows);
        if (a.digest != f->digest) {
            fprintf(stderr, "%s: digest 0x%016llx, want 0x%016llx\n", f->name,
                    (unsigned long long)a.digest, (unsigned long long)f->digest);
            fail();
        }
        /* Every PLAIN page streamed, and with a snappy history of 1 byte (each copy takes the
         * whole-page fallback): same values. */
        read_file_tuned(path, 1024, &b, 0, 64u << 10);
        assert_int_equal(b.rc, 0);
        assert_true(b.digest == f->digest);
        read_file_tuned(path, 1024, &b, 0, 1);
        assert_int_equal(b.rc, 0);
        assert_true(b.digest == f->digest);
        /* Other batch sizes: same values. One-row batches only for the smaller files. */
        const size_t caps[] = {7, 1, 100000};
        for (size_t k = 0; k < 3; k++) {
            if (caps[k] == 1 && f->rows > 10000) {
                continue;
            }
            read_file(path, caps[k], &b);
            assert_int_equal(b.rc, 0);
            assert_int_equal(b.rows, f->rows);
            assert_true(b.digest == f->digest);
        }
    }
}

/* Opens path and reads everything into one batch of cap rows (files here are small). */
static struct pq_reader *open_one(const char *name, struct batch *b, size_t cap)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/data/%s", PT, name);
    struct err e = {0};
    struct pq_reader *r;
    if (pq_reader_open(&r, path, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        fail();
    }
    size_t nc = pq_reader_ncols(r);
    struct dtype_info types[128];
    assert_true(nc <= 128);
    for (size_t i = 0; i < nc; i++) {
        types[i] = pq_reader_column(r, i)->type;
    }
    assert_int_equal(batch_init(b, types, nc, cap), 0);
    if (pq_reader_next(r, b, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        fail();
    }
    return r;
}

static size_t col_index(struct pq_reader *r, const char *name)
{
    for (size_t i = 0; i < pq_reader_ncols(r); i++) {
        if (strcmp(pq_reader_column(r, i)->name, name) == 0) {
            return i;
        }
    }
    fail_msg("no column %s", name);
    return 0;
}

static void test_alltypes_plain(void **state)
{
    (void)state;
    struct batch b;
    struct pq_reader *r = open_one("alltypes_plain.parquet", &b, 100);
    assert_int_equal(b.nrows, 8);
    /* Impala's alltypes: ids in file order, bools alternate, INT96 timestamps one minute
     * apart from 2009-03-01 (values as DuckDB prints them). */
    const int64_t ids[] = {4, 5, 6, 7, 2, 3, 0, 1};
    size_t id = col_index(r, "id"), bo = col_index(r, "bool_col"),
           ts = col_index(r, "timestamp_col");
    size_t fl = col_index(r, "float_col"), ds = col_index(r, "date_string_col");
    assert_int_equal(pq_reader_column(r, ts)->type.id, DT_TIMESTAMP);
    assert_int_equal(pq_reader_column(r, fl)->type.id, DT_FLOAT32);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(b.cols[id].v.i64[i], ids[i]);
        assert_int_equal(b.cols[bo].v.u8[i], i % 2 == 0);
    }
    assert_int_equal(b.cols[ts].v.i64[0], 1235865600000000); /* 2009-03-01 00:00:00 */
    assert_int_equal(b.cols[ts].v.i64[1], 1235865660000000); /* 2009-03-01 00:01:00 */
    assert_true(b.cols[fl].v.f64[1] == (double)1.1f);
    assert_int_equal(b.cols[ds].offs[1], 8);
    assert_memory_equal(b.cols[ds].data.data, "03/01/09", 8);
    batch_release(&b);
    pq_reader_free(r);
}

static void test_decimals(void **state)
{
    (void)state;
    /* The four decimal layouts of the same 24 values 1.00 .. 24.00 (decimal(p,2)). */
    const char *files[] = {"int32_decimal.parquet", "int64_decimal.parquet",
                           "fixed_length_decimal.parquet", "byte_array_decimal.parquet"};
    const int prec[] = {4, 10, 25, 4};
    for (size_t f = 0; f < 4; f++) {
        struct batch b;
        struct pq_reader *r = open_one(files[f], &b, 100);
        const struct column_desc *c = pq_reader_column(r, 0);
        assert_int_equal(c->type.id, DT_DECIMAL);
        assert_int_equal(c->type.precision, prec[f]);
        assert_int_equal(c->type.scale, 2);
        assert_int_equal(b.nrows, 24);
        for (size_t i = 0; i < 24; i++) {
            assert_true(b.cols[0].v.i128[i] == (__int128)(i + 1) * 100);
        }
        batch_release(&b);
        pq_reader_free(r);
    }
}

static void test_delta_files(void **state)
{
    (void)state;
    /* Spot values from delta_binary_packed_expect.csv and delta_byte_array_expect.csv (the
     * digests above cover every value; they were checked against these CSVs and DuckDB). */
    struct batch b;
    struct pq_reader *r = open_one("delta_binary_packed.parquet", &b, 500);
    assert_int_equal(b.nrows, 200);
    assert_int_equal(b.cols[0].v.i64[0], 6374628540732951412);
    size_t last = pq_reader_ncols(r) - 1;
    assert_int_equal(pq_reader_column(r, last)->type.id, DT_INT32);
    assert_int_equal(b.cols[last].v.i64[0], -2070986743);
    assert_int_equal(b.cols[1].v.i64[199], -104); /* the last row */
    batch_release(&b);
    pq_reader_free(r);
    r = open_one("delta_byte_array.parquet", &b, 2000);
    assert_int_equal(b.nrows, 1000);
    assert_int_equal(b.cols[0].offs[1], 16);
    assert_memory_equal(b.cols[0].data.data, "AAAAAAAAIODAAAAA", 16);
    size_t login = col_index(r, "c_login");
    assert_int_equal(b.cols[login].valid[0], 0);
    size_t mail = col_index(r, "c_email_address");
    const char *m = "Mark.Bailey@rg9qCNVJ0s7qeY.com";
    assert_int_equal(b.cols[mail].offs[1] - b.cols[mail].offs[0], strlen(m));
    assert_memory_equal(b.cols[mail].data.data, m, strlen(m));
    batch_release(&b);
    pq_reader_free(r);
}

static void test_int96_spark(void **state)
{
    (void)state;
    /* parquet-testing int96_from_spark.md lists the expected microseconds. */
    const int64_t want[] = {
        1704141296123456,   1704070800000000, 253402225200000000, 1735599600000000, 0,
        9089380393200000000};
    struct batch b;
    struct pq_reader *r = open_one("int96_from_spark.parquet", &b, 10);
    assert_int_equal(b.nrows, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(b.cols[0].valid[i], i != 4);
        assert_int_equal(b.cols[0].v.i64[i], want[i]);
    }
    batch_release(&b);
    pq_reader_free(r);
}

static void test_misc_values(void **state)
{
    (void)state;
    struct batch b;
    /* binary.parquet: un-annotated BYTE_ARRAY read as str, bytes 0x00 .. 0x0b. */
    struct pq_reader *r = open_one("binary.parquet", &b, 100);
    assert_int_equal(b.nrows, 12);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(b.cols[0].offs[i + 1] - b.cols[0].offs[i], 1);
        assert_int_equal((uint8_t)b.cols[0].data.data[b.cols[0].offs[i]], i);
    }
    batch_release(&b);
    pq_reader_free(r);
    /* GZIP page of two members: UINT_64 values 1 .. 513. */
    r = open_one("concatenated_gzip_members.parquet", &b, 1000);
    assert_int_equal(pq_reader_column(r, 0)->type.id, DT_UINT64);
    assert_int_equal(b.nrows, 513);
    for (size_t i = 0; i < 513; i++) {
        assert_int_equal(b.cols[0].v.i64[i], (int64_t)i + 1);
    }
    batch_release(&b);
    pq_reader_free(r);
    /* V2 page whose values section is empty (no snappy stream at all). */
    r = open_one("datapage_v2_empty_datapage.snappy.parquet", &b, 10);
    assert_int_equal(b.nrows, 1);
    assert_int_equal(b.cols[0].valid[0], 0);
    batch_release(&b);
    pq_reader_free(r);
    /* V2 ZSTD page of 10 nulls whose values compress to an empty zstd frame. */
    r = open_one("page_v2_empty_compressed.parquet", &b, 100);
    assert_int_equal(b.nrows, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(b.cols[0].valid[i], 0);
    }
    batch_release(&b);
    pq_reader_free(r);
    /* single_nan.parquet holds one null double (its statistics are the NaN; DuckDB agrees);
     * nan_in_stats.parquet holds 1.0 and a NaN. */
    r = open_one("single_nan.parquet", &b, 10);
    assert_int_equal(b.nrows, 1);
    assert_int_equal(b.cols[0].valid[0], 0);
    batch_release(&b);
    pq_reader_free(r);
    r = open_one("nan_in_stats.parquet", &b, 10);
    assert_int_equal(b.nrows, 2);
    assert_true(b.cols[0].v.f64[0] == 1.0);
    assert_true(isnan(b.cols[0].v.f64[1]));
    batch_release(&b);
    pq_reader_free(r);
    /* rle_boolean_encoding: 68 rows, 62 present, 36 true (DuckDB). */
    r = open_one("rle_boolean_encoding.parquet", &b, 100);
    size_t nn = 0, t = 0;
    for (size_t i = 0; i < b.nrows; i++) {
        nn += b.cols[0].valid[i];
        t += b.cols[0].v.u8[i];
    }
    assert_int_equal(b.nrows, 68);
    assert_int_equal(nn, 62);
    assert_int_equal(t, 36);
    batch_release(&b);
    pq_reader_free(r);
    /* int32_with_null_pages: 1000 rows, 725 present, sum -12383254597 (DuckDB). */
    r = open_one("int32_with_null_pages.parquet", &b, 1000);
    int64_t sum = 0;
    nn = 0;
    for (size_t i = 0; i < b.nrows; i++) {
        nn += b.cols[0].valid[i];
        sum += b.cols[0].v.i64[i];
    }
    assert_int_equal(nn, 725);
    assert_int_equal(sum, -12383254597);
    batch_release(&b);
    pq_reader_free(r);
    /* sort_columns: two row groups of 3 rows, a null first. */
    r = open_one("sort_columns.parquet", &b, 100);
    assert_int_equal(b.nrows, 6);
    assert_int_equal(b.cols[0].valid[0], 0);
    assert_int_equal(b.cols[0].v.i64[1], 2);
    assert_int_equal(b.cols[0].v.i64[5], 1);
    assert_int_equal(b.cols[1].offs[6] - b.cols[1].offs[5], 1);
    assert_int_equal(b.cols[1].data.data[b.cols[1].offs[5]], 'c');
    batch_release(&b);
    pq_reader_free(r);
    /* overflow_i16_page_cnt: 40000 REQUIRED booleans, all false, in > 32767 pages. */
    r = open_one("overflow_i16_page_cnt.parquet", &b, 40000);
    assert_int_equal(b.nrows, 40000);
    assert_false(pq_reader_column(r, 0)->nullable);
    for (size_t i = 0; i < 40000; i++) {
        assert_int_equal(b.cols[0].valid[i], 1);
        assert_int_equal(b.cols[0].v.u8[i], 0);
    }
    batch_release(&b);
    pq_reader_free(r);
}

struct bad_file {
    const char *path; /* under parquet-testing */
    const char *text; /* expected in the message */
};

static void test_bad_files(void **state)
{
    (void)state;
    static const struct bad_file bad[] = {
        {"bad_data/ARROW-GH-41317.parquet", "is nested (a list, struct or map)"},
        {"bad_data/ARROW-GH-41321.parquet", "is nested (a list, struct or map)"},
        {"bad_data/ARROW-GH-45185.parquet", "is nested (a list, struct or map)"},
        {"bad_data/ARROW-GH-47662.parquet", "FIXED_LEN_BYTE_ARRAY"},
        {"bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet", "outside the file"},
        {"bad_data/ARROW-RS-GH-6229-LEVELS.parquet", "is nested (a list, struct or map)"},
        {"bad_data/PARQUET-1481.parquet", "corrupt footer metadata"},
        {"data/nonnullable.impala.parquet", "column 'Int_Array' is nested (a list, struct or map)"},
        {"data/nullable.impala.parquet", "column 'int_array' is nested (a list, struct or map)"},
        {"data/datapage_v1-corrupt-checksum.parquet", "checksum"},
        {"data/rle-dict-uncompressed-corrupt-checksum.parquet", "checksum"},
        {"data/nation.dict-malformed.parquet", "runs past the end of its chunk"},
        {"data/binary_truncated_min_max.parquet", "is not valid UTF-8"},
        {"data/byte_stream_split_extended.gzip.parquet", "FLOAT16"},
        {"data/float16_nonzeros_and_nans.parquet", "FLOAT16"},
        {"data/hadoop_lz4_compressed.parquet", "codec LZ4 is not supported"},
        {"data/non_hadoop_lz4_compressed.parquet", "codec LZ4 is not supported"},
        {"data/fixed_length_byte_array.parquet", "FIXED_LEN_BYTE_ARRAY"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", PT, bad[i].path);
        struct summary s;
        read_file(path, 64, &s);
        if (s.rc != AE_FORMAT || strstr(s.msg, bad[i].text) == NULL) {
            fprintf(stderr, "%s: rc %d, message: %s\n", bad[i].path, s.rc, s.msg);
            fail();
        }
        /* The message names the file. */
        assert_non_null(strstr(s.msg, bad[i].path));
        /* The same verdict with every PLAIN page streamed (a corrupt checksum is then found
         * piece by piece, before any value of the page is handed out). */
        read_file_tuned(path, 64, &s, 0, 64u << 10);
        if (s.rc != AE_FORMAT || strstr(s.msg, bad[i].text) == NULL) {
            fprintf(stderr, "%s (streamed): rc %d, message: %s\n", bad[i].path, s.rc, s.msg);
            fail();
        }
    }
}

/* bad_data/ARROW-GH-43605.parquet is listed as bad data, but what it holds is valid: a
 * dictionary-index page with bit width 0 (every index 0; apache/arrow#3400 shows writers that
 * produce it). Arrow's fix (apache/arrow#43607) made the Go reader read it rather than crash, and
 * DuckDB reads it as 21186 zeros; so does astro. */
static void test_bit_width_zero(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/bad_data/ARROW-GH-43605.parquet", PT);
    struct summary s;
    read_file(path, 4096, &s);
    assert_int_equal(s.rc, 0);
    assert_int_equal(s.rows, 21186);
    struct batch b;
    struct pq_reader *r;
    struct err e = {0};
    assert_int_equal(pq_reader_open(&r, path, &e), 0);
    assert_int_equal(pq_reader_column(r, 0)->type.id, DT_UINT16);
    struct dtype_info t = pq_reader_column(r, 0)->type;
    assert_int_equal(batch_init(&b, &t, 1, 30000), 0);
    assert_int_equal(pq_reader_next(r, &b, &e), 0);
    for (size_t i = 0; i < b.nrows; i++) {
        assert_int_equal(b.cols[0].valid[i], 1);
        assert_int_equal(b.cols[0].v.i64[i], 0);
    }
    batch_release(&b);
    pq_reader_free(r);
}

static void test_corruption_sweep(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    char path[512];
    size_t n;
    /* An Impala file: dictionary pages, INT96, PLAIN_DICTIONARY. */
    snprintf(path, sizeof(path), "%s/data/alltypes_dictionary.parquet", PT);
    uint8_t *ext = slurp(path, &n);
    sweep(ext, n, dir);
    free(ext);
    th_rmrf(dir);
    free(dir);
}

int main(void)
{
    pt_dir = getenv("ASTRO_PARQUET_TESTING");
    if (pt_dir == NULL || pt_dir[0] == '\0') {
        printf("SKIP: test_pq_reader_files: ASTRO_PARQUET_TESTING is not set (the folder of "
               "apache/parquet-testing; scripts/test sets it when ../shared/parquet-testing "
               "exists)\n");
        return 77;
    }
    char probe[1024];
    snprintf(probe, sizeof(probe), "%s/bad_data/PARQUET-1481.parquet", pt_dir);
    if (access(probe, R_OK) != 0) {
        fprintf(stderr, "FAIL: ASTRO_PARQUET_TESTING=%s is not a parquet-testing folder (no %s)\n",
                pt_dir, probe);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_digests), cmocka_unit_test(test_alltypes_plain),
        cmocka_unit_test(test_decimals),          cmocka_unit_test(test_int96_spark),
        cmocka_unit_test(test_delta_files),       cmocka_unit_test(test_misc_values),
        cmocka_unit_test(test_bad_files),         cmocka_unit_test(test_bit_width_zero),
        cmocka_unit_test(test_corruption_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
