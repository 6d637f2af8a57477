/*
 * test_pq_stream.c - the Parquet writer's streaming pages and dictionary decision.
 *
 * The writer seals, encodes and compresses each data page as soon as it is full, and decides
 * the dictionary as the chunk goes (PARQUET.md §1.7, Arrow's mid-chunk fallback): a dictionary
 * that passes dict_bytes after some pages were sealed leaves the chunk as the dictionary page,
 * those index pages, then PLAIN pages; one that is dropped before the first page (or a first
 * page more than 3/4 distinct) leaves no dictionary at all. These tests write such chunks at
 * threads 1, 2 and 7 (the same bytes), read them back value by value with pq_reader, and find
 * in the footer the encodings and encoding_stats each chunk must list, byte for byte (thrift
 * compact protocol, computed by hand). tests/e2e/test_parquet_duckdb.sh reads the same table
 * (pqgen fallback) with DuckDB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "parquet/pq.h"
#include "pq_gen_table.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/astro_pqstream_XXXXXX";

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

enum { NROWS = 10000, BATCH = 1000, NCOLS = 4 };

/* id: all distinct (PLAIN from the first page); mid: 5 strings for 3000 rows, then distinct,
 * so its dictionary passes 16 KiB in the 4th page; midn: nullable int64, 7 values for 3000 rows
 * then distinct, passing 16 KiB in the 6th page; first: nullable strings, distinct in the first
 * page (more than 3/4: PLAIN, no dictionary) then 3 values. */
static const struct column_desc cols[NCOLS] = {{"id", {DT_INT32, 0, 0}, false},
                                               {"mid", {DT_STR, 0, 0}, false},
                                               {"midn", {DT_INT64, 0, 0}, true},
                                               {"first", {DT_STR, 0, 0}, true}};

static size_t cell_str(size_t c, size_t r, char *s, size_t n)
{
    if (c == 1) {
        return (size_t)(r < 3000 ? snprintf(s, n, "k%zu", r % 5)
                                 : snprintf(s, n, "distinct-%zu", r));
    }
    return (size_t)(r < 1000 ? snprintf(s, n, "u%zu", r) : snprintf(s, n, "k%zu", r % 3));
}

static bool cell_valid(size_t c, size_t r)
{
    return c == 2 ? r % 10 != 3 : c == 3 ? r % 9 != 4 : true;
}

static int64_t cell_int(size_t c, size_t r)
{
    return c == 0 ? (int64_t)r : r < 3000 ? (int64_t)(r % 7) : (int64_t)r * 1000003;
}

static const struct gen_table table = {cols, NCOLS, cell_valid, cell_int, cell_str};

static void path_for(char *path, size_t n, int threads)
{
    snprintf(path, n, "%s/t%d.parquet", tmpdir, threads);
}

struct file {
    uint8_t *data;
    size_t len;
};

/* spool: the row groups' pages wait in a scratch file in tmpdir (pq_options.spool_dir); rg_rows:
 * the rows of a row group, 0 for the default. */
static struct file write_table_with(int threads, enum pq_codec codec, bool spool, size_t rg_rows)
{
    char path[256];
    path_for(path, sizeof(path), threads);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct pq_options o;
    pq_options_default(&o);
    o.codec = codec;
    o.page_rows = 1000;
    o.dict_bytes = 16384;
    o.threads = threads;
    o.rg_rows = rg_rows;
    o.spool_dir = spool ? tmpdir : NULL;
    uint64_t bytes = gen_write(fd, &table, NCOLS, NROWS, BATCH, &o);
    struct file f = {malloc(bytes), bytes};
    assert_non_null(f.data);
    assert_int_equal(pread(fd, f.data, bytes, 0), (ssize_t)bytes);
    close(fd);
    return f;
}

static size_t count_occurrences(const uint8_t *hay, size_t n, const uint8_t *pat, size_t m)
{
    size_t k = 0;
    for (const uint8_t *p = hay; (p = memmem(p, n - (size_t)(p - hay), pat, m)) != NULL; p++) {
        k++;
    }
    return k;
}

/* The footer lists, per chunk, every encoding used and the pages per (type, encoding). */
static void check_footer(const struct file *f)
{
    uint32_t flen = (uint32_t)f->data[f->len - 8] | (uint32_t)f->data[f->len - 7] << 8 |
                    (uint32_t)f->data[f->len - 6] << 16 | (uint32_t)f->data[f->len - 5] << 24;
    assert_true(flen < f->len);
    const uint8_t *ft = f->data + f->len - 8 - flen;
    /* ColumnMetaData 2: encodings, list<i32> of 3: PLAIN_DICTIONARY, RLE, PLAIN (zigzag). */
    static const uint8_t enc_mixed[] = {0x19, 0x35, 0x04, 0x06, 0x00};
    static const uint8_t enc_plain[] = {0x19, 0x25, 0x00, 0x06};
    assert_int_equal(count_occurrences(ft, flen, enc_mixed, sizeof(enc_mixed)), 2);
    assert_int_equal(count_occurrences(ft, flen, enc_plain, sizeof(enc_plain)), 2);
    /* 13: encoding_stats, list<PageEncodingStats> of 3: {DICTIONARY_PAGE, PLAIN_DICTIONARY, 1},
     * {DATA_PAGE, PLAIN_DICTIONARY, n}, {DATA_PAGE, PLAIN, m}: mid 4 + 6, midn 6 + 4. */
    static const uint8_t stats_mid[] = {0x19, 0x3C, 0x15, 0x04, 0x15, 0x04, 0x15, 0x02,
                                        0x00, 0x15, 0x00, 0x15, 0x04, 0x15, 0x08, 0x00,
                                        0x15, 0x00, 0x15, 0x00, 0x15, 0x0C, 0x00};
    static const uint8_t stats_midn[] = {0x19, 0x3C, 0x15, 0x04, 0x15, 0x04, 0x15, 0x02,
                                         0x00, 0x15, 0x00, 0x15, 0x04, 0x15, 0x0C, 0x00,
                                         0x15, 0x00, 0x15, 0x00, 0x15, 0x08, 0x00};
    /* id and first: {DATA_PAGE, PLAIN, 10} alone, no dictionary page. */
    static const uint8_t stats_plain[] = {0x19, 0x1C, 0x15, 0x00, 0x15, 0x00, 0x15, 0x14, 0x00};
    assert_int_equal(count_occurrences(ft, flen, stats_mid, sizeof(stats_mid)), 1);
    assert_int_equal(count_occurrences(ft, flen, stats_midn, sizeof(stats_midn)), 1);
    assert_int_equal(count_occurrences(ft, flen, stats_plain, sizeof(stats_plain)), 2);
}

static struct pq_reader *open_reader(const char *path)
{
    struct err e;
    struct pq_reader *r = NULL;
    if (pq_reader_open(&r, path, &e) != 0) {
        fail_msg("pq_reader_open: %s", e.msg);
    }
    return r;
}

/* The next rows into b; false at the end of the file. */
static bool next_rows(struct pq_reader *r, struct batch *b)
{
    struct err e;
    if (pq_reader_next(r, b, &e) != 0) {
        fail_msg("pq_reader_next: %s", e.msg);
    }
    return b->nrows > 0;
}

/* Every value of the file at path, as written in groups row groups. */
static void check_values_in(const char *path, size_t groups)
{
    struct pq_reader *r = open_reader(path);
    assert_int_equal(pq_reader_nrows(r), NROWS);
    assert_int_equal(pq_reader_nrow_groups(r), groups);
    struct dtype_info types[NCOLS];
    for (size_t c = 0; c < NCOLS; c++) {
        types[c] = pq_reader_column(r, c)->type;
        assert_int_equal(types[c].id, cols[c].type.id);
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, NCOLS, 777), 0);
    size_t row = 0;
    while (next_rows(r, &b)) {
        gen_check(&table, path, &b, row);
        row += b.nrows;
    }
    assert_int_equal(row, NROWS);
    batch_release(&b);
    pq_reader_free(r);
}

static void check_values(const char *path)
{
    check_values_in(path, 1);
}

static struct file write_table(int threads, enum pq_codec codec)
{
    return write_table_with(threads, codec, false, 0);
}

/* Mid-chunk fallback and first-page fallback: the same bytes at threads 1, 2 and 7, every value
 * read back, the footer's encodings and page counts as the pages were sealed. */
static void test_fallback_chunks(void **state)
{
    (void)state;
    static const enum pq_codec codecs[] = {PQ_CODEC_ZSTD, PQ_CODEC_NONE};
    for (size_t k = 0; k < 2; k++) {
        struct file f1 = write_table(1, codecs[k]);
        check_footer(&f1);
        char path[256];
        path_for(path, sizeof(path), 1);
        check_values(path);
        static const int threads[] = {2, 7};
        for (size_t t = 0; t < 2; t++) {
            struct file ft = write_table(threads[t], codecs[k]);
            if (ft.len != f1.len || memcmp(ft.data, f1.data, f1.len) != 0) {
                fail_msg("codec %d: threads %d wrote other bytes than threads 1", (int)codecs[k],
                         threads[t]);
            }
            free(ft.data);
            path_for(path, sizeof(path), threads[t]);
            unlink(path);
        }
        free(f1.data);
        path_for(path, sizeof(path), 1);
        unlink(path);
    }
}

/* pq_options.spool_dir: the same bytes as with the pages kept in memory, over several row groups
 * and at 1 and 3 threads, every value read back; the scratch file leaves nothing in its folder;
 * a folder that does not exist fails the open. */
static void test_spool(void **state)
{
    (void)state;
    static const int threads[] = {1, 3};
    for (size_t t = 0; t < 2; t++) {
        struct file mem = write_table_with(threads[t], PQ_CODEC_ZSTD, false, NROWS / 3);
        struct file sp = write_table_with(threads[t], PQ_CODEC_ZSTD, true, NROWS / 3);
        if (sp.len != mem.len || memcmp(sp.data, mem.data, mem.len) != 0) {
            fail_msg("threads %d: the spooled file differs from the one kept in memory", threads[t]);
        }
        char path[256];
        path_for(path, sizeof(path), threads[t]);
        check_values_in(path, 4); /* 3333 rows a group */
        unlink(path);
        free(mem.data);
        free(sp.data);
    }
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            fail_msg("left in the folder: %s", de->d_name);
        }
    }
    closedir(d);
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/no-such-folder", tmpdir);
    struct pq_options o;
    pq_options_default(&o);
    o.spool_dir = missing;
    struct pq_writer *w = NULL;
    struct err e;
    assert_int_equal(pq_writer_open(&w, 1, cols, NCOLS, &o, &e), AE_IO);
    assert_null(w);
    assert_non_null(strstr(e.msg, "no-such-folder"));
}

/* Pages of nulls only (no value bytes at all in the open page when they are sealed): a
 * dictionary string column null for its first 2500 rows, a float column (never a dictionary)
 * always null. */
static void test_null_pages(void **state)
{
    (void)state;
    static const struct column_desc nc[2] = {{"s", {DT_STR, 0, 0}, true},
                                             {"n", {DT_FLOAT64, 0, 0}, true}};
    enum { N = 5000 };
    char path[256];
    snprintf(path, sizeof(path), "%s/nulls.parquet", tmpdir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct pq_options o;
    pq_options_default(&o);
    o.page_rows = 1000;
    struct err e;
    struct pq_writer *w = NULL;
    assert_int_equal(pq_writer_open(&w, fd, nc, 2, &o, &e), 0);
    struct dtype_info types[2] = {nc[0].type, nc[1].type};
    struct batch b;
    assert_int_equal(batch_init(&b, types, 2, 500), 0);
    for (int r0 = 0; r0 < N; r0 += 500) {
        batch_reset(&b);
        for (int k = 0; k < 500; k++) {
            int r = r0 + k;
            char s[16];
            int n = snprintf(s, sizeof(s), "v%d", r % 3);
            bool valid = r >= 2500 && r % 4 != 0;
            b.row_ok[k] = 1;
            b.line[k] = (uint64_t)r + 2;
            assert_int_equal(batch_put_bytes(&b, 0, (size_t)k, s, valid ? (size_t)n : 0, valid), 0);
            b.cols[1].valid[k] = 0;
        }
        b.nrows = 500;
        if (pq_writer_write(w, &b, &e) != 0) {
            fail_msg("pq_writer_write: %s", e.msg);
        }
    }
    uint64_t bytes;
    if (pq_writer_close(w, &bytes, &e) != 0) {
        fail_msg("pq_writer_close: %s", e.msg);
    }
    pq_writer_free(w);
    close(fd);
    batch_release(&b);
    struct pq_reader *r = open_reader(path);
    assert_int_equal(batch_init(&b, types, 2, 1000), 0);
    int row = 0;
    while (next_rows(r, &b)) {
        for (size_t i = 0; i < b.nrows; i++, row++) {
            bool valid = row >= 2500 && row % 4 != 0;
            assert_int_equal(b.cols[0].valid[i], valid);
            assert_int_equal(b.cols[1].valid[i], 0);
            if (valid) {
                char s[16];
                int n = snprintf(s, sizeof(s), "v%d", row % 3);
                assert_int_equal(b.cols[0].offs[i + 1] - b.cols[0].offs[i], n);
                assert_memory_equal(b.cols[0].data.data + b.cols[0].offs[i], s, (size_t)n);
            }
        }
    }
    assert_int_equal(row, N);
    batch_release(&b);
    pq_reader_free(r);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fallback_chunks),
        cmocka_unit_test(test_spool),
        cmocka_unit_test(test_null_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
