/*
 * test_parquet.c - byte-exact tests of the Parquet writer's pieces: Thrift compact encoding,
 * the RLE / bit-packed hybrid, PLAIN booleans and decimal layouts, and two small files whose
 * every byte (pages and footer) was worked out by hand from parquet.thrift and Encodings.md.
 * Reading the files back with an independent reader is tests/e2e/test_parquet_duckdb.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "parquet/encode.h"
#include "parquet/pq.h"
#include "parquet/thrift.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void assert_bytes(const void *got, size_t got_len, const uint8_t *want, size_t want_len)
{
    if (got_len != want_len || memcmp(got, want, want_len) != 0) {
        const uint8_t *g = got;
        fprintf(stderr, "got  (%zu):", got_len);
        for (size_t i = 0; i < got_len; i++) {
            fprintf(stderr, " %02x", g[i]);
        }
        fprintf(stderr, "\nwant (%zu):", want_len);
        for (size_t i = 0; i < want_len; i++) {
            fprintf(stderr, " %02x", want[i]);
        }
        fprintf(stderr, "\n");
        fail();
    }
}

#define ASSERT_BUF(b, ...)                                                                       \
    do {                                                                                         \
        static const uint8_t want_[] = {__VA_ARGS__};                                            \
        assert_bytes((b)->data, (b)->len, want_, sizeof(want_));                                 \
    } while (0)

/* ---------------------------------------------------------------- thrift */

static void test_thrift_scalars(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct tc t;
    tc_init(&t, &b);
    tc_field_i32(&t, 1, 1);
    tc_field_i64(&t, 2, -1);
    tc_field_bool(&t, 3, true);
    tc_field_bool(&t, 4, false);
    tc_field_i8(&t, 5, -2);
    tc_field_str(&t, 6, "ab");
    tc_field_i16(&t, 7, 64);
    tc_struct_end(&t);
    assert_int_equal(tc_error(&t), 0);
    /* (delta<<4)|type; zigzag varints; bools in the nibble; i8 one raw byte; 64 -> zz 128 */
    ASSERT_BUF(&b, 0x15, 0x02, 0x16, 0x01, 0x11, 0x12, 0x13, 0xFE, 0x18, 0x02, 'a', 'b', 0x14,
               0x80, 0x01, 0x00);
    buf_release(&b);
}

static void test_thrift_long_field_id(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct tc t;
    tc_init(&t, &b);
    tc_field_i32(&t, 1, 0);
    tc_field_i32(&t, 20, 300); /* delta 19 > 15: type byte, then zigzag(20) = 40 */
    tc_field_i64(&t, 21, INT64_MIN);
    tc_struct_end(&t);
    ASSERT_BUF(&b, 0x15, 0x00, 0x05, 0x28, 0xD8, 0x04, 0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
               0xFF, 0xFF, 0xFF, 0x01, 0x00);
    buf_release(&b);
}

static void test_thrift_nested_and_lists(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    struct tc t;
    tc_init(&t, &b);
    tc_field_struct(&t, 1);
    tc_field_i32(&t, 1, 7);
    tc_struct_end(&t);
    tc_field_i32(&t, 2, 1); /* last id restored to 1 after the nested struct */
    tc_field_list(&t, 3, TC_I32, 3);
    tc_elem_i32(&t, 1);
    tc_elem_i32(&t, 2);
    tc_elem_i32(&t, 3);
    tc_field_list(&t, 4, TC_STRUCT, 2);
    tc_elem_struct(&t);
    tc_field_i32(&t, 2, -3); /* fresh numbering inside each element */
    tc_struct_end(&t);
    tc_elem_struct(&t);
    tc_struct_end(&t);
    tc_field_list(&t, 5, TC_BINARY, 15); /* n > 14: 0xF0|type then varint n */
    for (int i = 0; i < 15; i++) {
        tc_elem_str(&t, "");
    }
    tc_struct_end(&t);
    assert_int_equal(tc_error(&t), 0);
    ASSERT_BUF(&b, 0x1C, 0x15, 0x0E, 0x00, 0x15, 0x02, 0x19, 0x35, 0x02, 0x04, 0x06, 0x19, 0x2C,
               0x25, 0x05, 0x00, 0x00, 0x19, 0xF8, 0x0F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 0x00);
    buf_release(&b);
}

static void test_zigzag(void **state)
{
    (void)state;
    assert_int_equal(tc_zigzag64(0), 0);
    assert_int_equal(tc_zigzag64(-1), 1);
    assert_int_equal(tc_zigzag64(1), 2);
    assert_int_equal(tc_zigzag64(-2), 3);
    assert_true(tc_zigzag64(INT64_MAX) == UINT64_MAX - 1);
    assert_true(tc_zigzag64(INT64_MIN) == UINT64_MAX);
}

/* ---------------------------------------------------------------- RLE hybrid */

static void test_rle_long_run(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    uint8_t lv[10];
    memset(lv, 1, sizeof(lv));
    assert_int_equal(pq_rle_encode_levels(&b, lv, 10), 0);
    ASSERT_BUF(&b, 0x14, 0x01); /* RLE run: 10<<1, value in 1 byte */
    buf_reset(&b);
    uint32_t v[300];
    for (int i = 0; i < 300; i++) {
        v[i] = 5;
    }
    assert_int_equal(pq_rle_encode_u32(&b, v, 300, 3), 0);
    ASSERT_BUF(&b, 0xD8, 0x04, 0x05); /* 600 as ULEB128 */
    buf_reset(&b);
    for (int i = 0; i < 9; i++) {
        v[i] = 0x1FF;
    }
    assert_int_equal(pq_rle_encode_u32(&b, v, 9, 9), 0);
    ASSERT_BUF(&b, 0x12, 0xFF, 0x01); /* bw 9: value takes ceil(9/8) = 2 bytes LE */
    buf_release(&b);
}

static void test_rle_bitpacked_and_tail(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    /* Encodings.md example: 0..7 with bit width 3 packs to 10001000 11000110 11111010. */
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(pq_rle_encode_u32(&b, v, 8, 3), 0);
    ASSERT_BUF(&b, 0x03, 0x88, 0xC6, 0xFA);
    buf_reset(&b);
    /* 8 alternating levels -> one bit-packed group; the 3-value tail -> short RLE runs, never
     * a zero-padded group. */
    uint8_t lv[11] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0};
    assert_int_equal(pq_rle_encode_levels(&b, lv, 11), 0);
    ASSERT_BUF(&b, 0x03, 0x55, 0x04, 0x01, 0x02, 0x00);
    buf_reset(&b);
    /* group, then a run of 8 equal values becomes RLE */
    uint8_t lv2[16] = {1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(pq_rle_encode_levels(&b, lv2, 16), 0);
    ASSERT_BUF(&b, 0x03, 0xFB, 0x10, 0x00);
    buf_release(&b);
}

static void test_rle_bitpacked_run_split(void **state)
{
    (void)state;
    /* 64 groups of alternating bits: a run holds at most 63 groups (one-byte header). */
    uint8_t lv[512];
    for (int i = 0; i < 512; i++) {
        lv[i] = (uint8_t)(i % 2 == 0);
    }
    struct buf b = BUF_INIT;
    assert_int_equal(pq_rle_encode_levels(&b, lv, 512), 0);
    assert_int_equal(b.len, 1 + 63 + 1 + 1);
    const uint8_t *p = (const uint8_t *)b.data;
    assert_int_equal(p[0], (63 << 1) | 1);
    for (int i = 1; i <= 63; i++) {
        assert_int_equal(p[i], 0x55);
    }
    assert_int_equal(p[64], 0x03);
    assert_int_equal(p[65], 0x55);
    buf_release(&b);
}

static void test_rle_empty(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(pq_rle_encode_levels(&b, NULL, 0), 0);
    assert_int_equal(b.len, 0); /* no empty run is ever written */
    buf_release(&b);
}

/* ---------------------------------------------------------------- PLAIN and decimals */

static void test_plain_bool(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    uint8_t v[9] = {1, 0, 0, 1, 1, 0, 0, 0, 1};
    assert_int_equal(pq_plain_bool(&b, v, 9), 0);
    ASSERT_BUF(&b, 0x19, 0x01);
    buf_release(&b);
}

static void test_decimal_layout(void **state)
{
    (void)state;
    assert_int_equal(pq_decimal_flba_width(1), 1);
    assert_int_equal(pq_decimal_flba_width(2), 1);
    assert_int_equal(pq_decimal_flba_width(3), 2);
    assert_int_equal(pq_decimal_flba_width(9), 4);
    assert_int_equal(pq_decimal_flba_width(18), 8);
    assert_int_equal(pq_decimal_flba_width(19), 9);
    assert_int_equal(pq_decimal_flba_width(21), 9);
    assert_int_equal(pq_decimal_flba_width(22), 10);
    assert_int_equal(pq_decimal_flba_width(38), 16);
    uint8_t p[16];
    pq_put_i128be(p, -1, 3);
    assert_bytes(p, 3, (const uint8_t[]){0xFF, 0xFF, 0xFF}, 3);
    pq_put_i128be(p, 256, 3);
    assert_bytes(p, 3, (const uint8_t[]){0x00, 0x01, 0x00}, 3);
    pq_put_i128be(p, -256, 2);
    assert_bytes(p, 2, (const uint8_t[]){0xFF, 0x00}, 2);
    assert_int_equal(pq_bit_width(0), 0);
    assert_int_equal(pq_bit_width(1), 1);
    assert_int_equal(pq_bit_width(7), 3);
    assert_int_equal(pq_bit_width(8), 4);
}

static void test_codec_parse(void **state)
{
    (void)state;
    struct err e;
    enum pq_codec c;
    assert_int_equal(pq_codec_parse("zstd", &c, &e), 0);
    assert_int_equal(c, PQ_CODEC_ZSTD);
    assert_int_equal(pq_codec_parse("SNAPPY", &c, &e), 0);
    assert_int_equal(c, PQ_CODEC_SNAPPY);
    assert_int_equal(pq_codec_parse("gzip", &c, &e), 0);
    assert_int_equal(c, PQ_CODEC_GZIP);
    assert_int_equal(pq_codec_parse("uncompressed", &c, &e), 0);
    assert_int_equal(c, PQ_CODEC_NONE);
    assert_int_equal(pq_codec_parse("none", &c, &e), 0);
    assert_int_equal(c, PQ_CODEC_NONE);
    assert_int_equal(pq_codec_parse("lz4", &c, &e), AE_CONFIG);
    assert_non_null(strstr(e.msg, "lz4"));
}

/* ---------------------------------------------------------------- whole files */

static char tmpdir[] = "/tmp/astro_pq_XXXXXX";

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

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t data[1 << 16];
    *n = fread(data, 1, sizeof(data), f);
    fclose(f);
    return data;
}

/* Writes the rows of b (all row_ok) to a fresh file and returns its bytes. */
static uint8_t *write_file(const struct column_desc *cols, size_t ncols, struct batch *b,
                           const struct pq_options *o, size_t *n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/t.parquet", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct err e;
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(&w, fd, cols, ncols, o, &e), 0);
    for (size_t i = 0; i < b->nrows; i++) {
        b->row_ok[i] = 1;
        b->line[i] = i + 1;
    }
    assert_int_equal(pq_writer_write(w, b, &e), 0);
    assert_int_equal(pq_writer_rows(w), b->nrows);
    uint64_t bytes = 0;
    assert_int_equal(pq_writer_close(w, &bytes, &e), 0);
    pq_writer_free(w);
    close(fd);
    uint8_t *data = read_all(path, n);
    assert_int_equal(bytes, *n);
    unlink(path);
    return data;
}

static void test_file_required_int32(void **state)
{
    (void)state;
    const struct column_desc cols[] = {{"x", {DT_INT32, 0, 0}, false}};
    struct batch b;
    assert_int_equal(batch_init(&b, &cols[0].type, 1, 3), 0);
    b.nrows = 3;
    for (int i = 0; i < 3; i++) {
        b.cols[0].valid[i] = 1;
        b.cols[0].v.i64[i] = i + 1;
    }
    struct pq_options o;
    pq_options_default(&o);
    o.codec = PQ_CODEC_NONE;
    o.created_by = "t";
    size_t n;
    uint8_t *f = write_file(cols, 1, &b, &o, &n);
    batch_release(&b);
    /* 3 distinct of 3 values is above the 3/4 ratio: one PLAIN data page, no levels. */
    static const uint8_t want[] = {
        'P', 'A', 'R', '1',
        /* PageHeader: DATA_PAGE, sizes 12/12, DataPageHeader{3 values, PLAIN, RLE, RLE} */
        0x15, 0x00, 0x15, 0x18, 0x15, 0x18, 0x2C, 0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06,
        0x00, 0x00,
        1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
        /* FileMetaData */
        0x15, 0x02,                                            /* version 1 */
        0x19, 0x2C,                                            /* schema: 2 structs */
        0x48, 0x06, 's', 'c', 'h', 'e', 'm', 'a', 0x15, 0x02, 0x00, /* root, 1 child */
        0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'x', 0x25, 0x22,  /* INT32 REQUIRED "x" INT_32 */
        0x4C, 0xAC, 0x13, 0x20, 0x11, 0x00, 0x00, 0x00,       /* INTEGER(32, signed) */
        0x16, 0x06,                                           /* num_rows 3 */
        0x19, 0x1C,                                           /* row_groups: 1 */
        0x19, 0x1C,                                           /* columns: 1 */
        0x26, 0x00,                                           /* file_offset 0 */
        0x1C,                                                 /* meta_data */
        0x15, 0x02,                                           /* INT32 */
        0x19, 0x25, 0x00, 0x06,                               /* encodings PLAIN, RLE */
        0x19, 0x18, 0x01, 'x',                                /* path */
        0x15, 0x00,                                           /* UNCOMPRESSED */
        0x16, 0x06,                                           /* num_values 3 */
        0x16, 0x3A, 0x16, 0x3A,                               /* sizes 29 (17 header + 12) */
        0x26, 0x08,                                           /* data_page_offset 4 */
        0x3C,                                                 /* statistics */
        0x18, 0x04, 3, 0, 0, 0, 0x18, 0x04, 1, 0, 0, 0,       /* max, min (deprecated) */
        0x16, 0x00,                                           /* null_count 0 */
        0x28, 0x04, 3, 0, 0, 0, 0x18, 0x04, 1, 0, 0, 0,       /* max_value, min_value */
        0x00,
        0x19, 0x1C, 0x15, 0x00, 0x15, 0x00, 0x15, 0x02, 0x00, /* encoding_stats */
        0x00, 0x00,                                           /* meta_data, ColumnChunk */
        0x16, 0x3A, 0x16, 0x06, 0x26, 0x08, 0x16, 0x3A, 0x00, /* RowGroup sizes, rows, offset */
        0x28, 0x01, 't',                                      /* created_by */
        0x19, 0x1C, 0x1C, 0x00, 0x00,                         /* column_orders: TYPE_ORDER */
        0x00,
        /* footer length, magic */
        0, 0, 0, 0, 'P', 'A', 'R', '1'};
    uint8_t expect[sizeof(want)];
    memcpy(expect, want, sizeof(want));
    uint32_t footer = (uint32_t)(sizeof(want) - 8 - 33);
    pq_put_u32le(expect + sizeof(want) - 8, footer);
    assert_bytes(f, n, expect, sizeof(expect));
}

static void test_file_optional_dict_strings(void **state)
{
    (void)state;
    const struct column_desc cols[] = {{"s", {DT_STR, 0, 0}, true}};
    struct batch b;
    assert_int_equal(batch_init(&b, &cols[0].type, 1, 4), 0);
    static const char *vals[] = {"a", "b", NULL, "a"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(batch_put_bytes(&b, 0, i, vals[i] ? vals[i] : "", vals[i] ? 1 : 0,
                                         vals[i] != NULL),
                         0);
    }
    b.nrows = 4;
    struct pq_options o;
    pq_options_default(&o);
    o.codec = PQ_CODEC_NONE;
    size_t n;
    uint8_t *f = write_file(cols, 1, &b, &o, &n);
    batch_release(&b);
    /* 2 distinct of 3 values: dictionary page first, then a PLAIN_DICTIONARY data page. */
    static const uint8_t want[] = {
        'P', 'A', 'R', '1',
        /* DICTIONARY_PAGE, 10/10 bytes, DictionaryPageHeader{2, PLAIN_DICTIONARY, unsorted} */
        0x15, 0x04, 0x15, 0x14, 0x15, 0x14, 0x4C, 0x15, 0x04, 0x15, 0x04, 0x12, 0x00, 0x00,
        1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b',
        /* DATA_PAGE, 17/17 bytes, {4 values incl. the null, PLAIN_DICTIONARY, RLE, RLE} */
        0x15, 0x00, 0x15, 0x22, 0x15, 0x22, 0x2C, 0x15, 0x08, 0x15, 0x04, 0x15, 0x06, 0x15, 0x06,
        0x00, 0x00,
        6, 0, 0, 0, 0x04, 0x01, 0x02, 0x00, 0x02, 0x01, /* levels 1,1,0,1 with u32 length */
        0x01, 0x02, 0x00, 0x02, 0x01, 0x02, 0x00};      /* bit width 1; indices 0,1,0 */
    assert_true(n > sizeof(want) + 8);
    assert_bytes(f, sizeof(want), want, sizeof(want));
    assert_memory_equal(f + n - 4, "PAR1", 4);
    uint32_t flen = pq_get_u32le(f + n - 8);
    assert_int_equal(flen, n - 8 - sizeof(want));
    /* The footer records the dictionary offset (4) and the first data page offset (4 + 24). */
    const uint8_t *ft = f + sizeof(want);
    static const uint8_t dict_fields[] = {0x26, 0x38, 0x26, 0x08}; /* 9: 28, 11: 4 */
    assert_non_null(memmem(ft, flen, dict_fields, sizeof(dict_fields)));
}

static void test_errors(void **state)
{
    (void)state;
    struct err e;
    struct pq_writer *w = NULL;
    const struct column_desc dup[] = {{"a", {DT_INT64, 0, 0}, true}, {"a", {DT_STR, 0, 0}, true}};
    assert_int_equal(pq_writer_open(&w, 1, dup, 2, NULL, &e), AE_CONFIG);
    assert_null(w);
    assert_non_null(strstr(e.msg, "duplicate"));
    const struct column_desc empty[] = {{"", {DT_INT64, 0, 0}, true}};
    assert_int_equal(pq_writer_open(&w, 1, empty, 1, NULL, &e), AE_CONFIG);
    const struct column_desc baddec[] = {{"d", {DT_DECIMAL, 39, 2}, true}};
    assert_int_equal(pq_writer_open(&w, 1, baddec, 1, NULL, &e), AE_CONFIG);

    /* A null in a REQUIRED column is a bug upstream: AE_INTERNAL, with the source line. */
    const struct column_desc req[] = {{"r", {DT_INT64, 0, 0}, false}};
    int fd = open("/dev/null", O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pq_writer_open(&w, fd, req, 1, NULL, &e), 0);
    struct batch b;
    assert_int_equal(batch_init(&b, &req[0].type, 1, 2), 0);
    b.nrows = 2;
    b.row_ok[0] = b.row_ok[1] = 1;
    b.line[0] = 7;
    b.line[1] = 8;
    b.cols[0].valid[0] = 1;
    b.cols[0].valid[1] = 0;
    assert_int_equal(pq_writer_write(w, &b, &e), AE_INTERNAL);
    assert_non_null(strstr(e.msg, "line 8"));
    /* ...unless the row was rejected: then it is not written at all. */
    b.row_ok[1] = 0;
    assert_int_equal(pq_writer_write(w, &b, &e), 0);
    assert_int_equal(pq_writer_rows(w), 1);
    pq_writer_free(w);
    close(fd);

    /* I/O errors surface as AE_IO with the system's message. */
    fd = open("/dev/null", O_RDONLY);
    assert_int_equal(pq_writer_open(&w, fd, req, 1, NULL, &e), 0);
    b.row_ok[1] = 0;
    assert_int_equal(pq_writer_write(w, &b, &e), 0);
    uint64_t bytes;
    assert_int_equal(pq_writer_close(w, &bytes, &e), AE_IO);
    assert_non_null(strstr(e.msg, "Bad file descriptor"));
    assert_int_equal(pq_writer_write(w, &b, &e), AE_IO); /* sticky */
    pq_writer_free(w);
    close(fd);
    batch_release(&b);
    pq_writer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_scalars),
        cmocka_unit_test(test_thrift_long_field_id),
        cmocka_unit_test(test_thrift_nested_and_lists),
        cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_rle_long_run),
        cmocka_unit_test(test_rle_bitpacked_and_tail),
        cmocka_unit_test(test_rle_bitpacked_run_split),
        cmocka_unit_test(test_rle_empty),
        cmocka_unit_test(test_plain_bool),
        cmocka_unit_test(test_decimal_layout),
        cmocka_unit_test(test_codec_parse),
        cmocka_unit_test(test_file_required_int32),
        cmocka_unit_test(test_file_optional_dict_strings),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
