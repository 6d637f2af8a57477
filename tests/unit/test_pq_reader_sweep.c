/*
 * test_pq_reader_sweep.c - every single-byte change (three XOR masks at every offset) and every
 * truncation of a small file of astro's own writer must be read or refused cleanly (AE_FORMAT
 * with a message), never crash or misbehave under ASan/UBSan. The file is written here, so the
 * test needs nothing outside this repository; test_pq_reader_files.c sweeps a parquet-testing
 * file the same way when those are present.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_own_file_sweep(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    /* A file of our own writer: dictionary strings, optional ints, required decimals, snappy,
     * two row groups of two pages. */
    struct column_desc cols[] = {{"s", {DT_STR, 0, 0}, true},
                                 {"i", {DT_INT32, 0, 0}, true},
                                 {"d", {DT_DECIMAL, 20, 2}, false},
                                 {"b", {DT_BOOL, 0, 0}, true}};
    struct dtype_info types[4];
    for (int i = 0; i < 4; i++) {
        types[i] = cols[i].type;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/own.parquet", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct pq_options o;
    pq_options_default(&o);
    o.codec = PQ_CODEC_SNAPPY;
    o.page_rows = 3;
    o.rg_rows = 6;
    struct err e = {0};
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(&w, fd, cols, 4, &o, &e), 0);
    struct batch b;
    assert_int_equal(batch_init(&b, types, 4, 12), 0);
    for (size_t r = 0; r < 12; r++) {
        const char *v = r % 3 ? "ab" : "\xc3\xa9";
        assert_int_equal(batch_put_bytes(&b, 0, r, v, strlen(v), r != 4), 0);
        b.cols[1].v.i64[r] = (int64_t)r * 1000 - 5000;
        b.cols[1].valid[r] = r % 4 != 1;
        b.cols[2].v.i128[r] = (__int128)r * 123456789;
        b.cols[2].valid[r] = 1;
        b.cols[3].v.u8[r] = r & 1;
        b.cols[3].valid[r] = r != 7;
        b.row_ok[r] = 1;
    }
    b.nrows = 12;
    assert_int_equal(pq_writer_write(w, &b, &e), 0);
    uint64_t bytes;
    assert_int_equal(pq_writer_close(w, &bytes, &e), 0);
    pq_writer_free(w);
    close(fd);
    batch_release(&b);
    size_t n;
    uint8_t *own = slurp(path, &n);
    sweep(own, n, dir);
    free(own);
    th_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_file_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
