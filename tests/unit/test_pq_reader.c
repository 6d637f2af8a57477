/*
 * test_pq_reader.c - the Parquet reader's pieces and round trips: Thrift compact decoding
 * (vectors worked out by hand from thrift-compact-protocol.md), the RLE / bit-packed hybrid
 * decoder (Encodings.md vectors), UTF-8 validation, big-endian decimals, the decompressors, and
 * writer -> reader round trips of every dtype under every codec, page and row-group size.
 * Reference files from parquet-testing are test_pq_reader_files.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "batch/batch.h"
#include "parquet/decode.h"
#include "parquet/pq.h"
#include "parquet/tdecode.h"
#include "test_helpers.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---------------------------------------------------------------- thrift */

static void test_thrift_fields(void **state)
{
    (void)state;
    /* field 1 i32 = -3: header 0x15, zigzag(-3) = 5;
     * field 4 binary "ab": header (3 << 4) | 8 = 0x38, length 2;
     * field 100 i64 = 300: long form 0x06, zigzag id 200 = c8 01, zigzag(300) = 600 = d8 04;
     * field 101 bool true: 0x11; field 102 i8 = -2: 0x13 0xfe; stop. */
    const uint8_t in[] = {0x15, 0x05, 0x38, 0x02, 'a',  'b',  0x06, 0xc8,
                          0x01, 0xd8, 0x04, 0x11, 0x13, 0xfe, 0x00};
    struct td t;
    struct td_struct s;
    int ty;
    int16_t id;
    size_t n;
    td_init(&t, in, sizeof(in));
    td_struct_begin(&t, &s);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 1);
    assert_int_equal(td_int(&t, ty, INT32_MIN, INT32_MAX), -3);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 4);
    const uint8_t *p = td_bin(&t, ty, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(p, "ab", 2);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 100);
    assert_int_equal(ty, TD_I64);
    assert_int_equal(td_int(&t, ty, INT64_MIN, INT64_MAX), 300);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 101);
    assert_true(td_bool(&t, ty));
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 102);
    assert_int_equal(td_int(&t, ty, INT8_MIN, INT8_MAX), -2);
    assert_false(td_field(&t, &s, &ty, &id));
    assert_int_equal(t.err, 0);
    assert_int_equal(td_pos(&t), sizeof(in));
    assert_int_equal(t.depth, 0);
}

static void test_thrift_skip(void **state)
{
    (void)state;
    /* field 1: struct { field 1: list<struct> of 2 { {1: i32 7}, {} },
     *                   field 2: map<binary,i32> {"k": 1},
     *                   field 3: double, field 4: list<bool> [1, 2] }
     * then field 2 i32 = 9. Everything in field 1 is skipped. */
    const uint8_t in[] = {0x1c,                               /* field 1 struct */
                          0x19, 0x2c, 0x15, 0x0e, 0x00, 0x00, /* list of 2 structs */
                          0x1b, 0x01, 0x85, 0x01, 'k',  0x02, /* map 1 entry binary->i32 */
                          0x17, 0,    0,    0,    0,    0,    0, 0xf0, 0x3f, /* double 1.0 */
                          0x19, 0x21, 0x01, 0x02, /* list<bool> [true, false] */
                          0x00,                   /* end of field 1 */
                          0x15, 0x12, 0x00};
    struct td t;
    struct td_struct s;
    int ty;
    int16_t id;
    td_init(&t, in, sizeof(in));
    td_struct_begin(&t, &s);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 1);
    td_skip(&t, ty);
    assert_int_equal(t.err, 0);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(id, 2);
    assert_int_equal(td_int(&t, ty, 0, 100), 9);
    assert_false(td_field(&t, &s, &ty, &id));
    assert_int_equal(t.err, 0);
    assert_int_equal(td_pos(&t), sizeof(in));
}

/* Runs td_skip over a top-level struct and returns t.err. */
static int skip_all(const uint8_t *p, size_t n, bool *truncated)
{
    struct td t;
    td_init(&t, p, n);
    td_skip(&t, TD_STRUCT);
    *truncated = t.truncated;
    return t.err;
}

static void test_thrift_errors(void **state)
{
    (void)state;
    bool tr;
    /* binary field claiming 5 bytes with 2 present */
    const uint8_t shortbin[] = {0x18, 0x05, 'a', 'b'};
    assert_int_equal(skip_all(shortbin, sizeof(shortbin), &tr), AE_FORMAT);
    assert_true(tr);
    /* list of 15 i32 (long count form 0xf5, count 15) with 3 bytes left */
    const uint8_t biglist[] = {0x19, 0xf5, 0x0f, 0x02, 0x02, 0x02};
    assert_int_equal(skip_all(biglist, sizeof(biglist), &tr), AE_FORMAT);
    /* varint of 11 bytes */
    uint8_t longvar[13] = {0x16};
    memset(longvar + 1, 0x80, 11);
    longvar[12] = 0x01;
    assert_int_equal(skip_all(longvar, sizeof(longvar), &tr), AE_FORMAT);
    assert_false(tr);
    /* field type 13 does not exist */
    const uint8_t badtype[] = {0x1d, 0x00};
    assert_int_equal(skip_all(badtype, sizeof(badtype), &tr), AE_FORMAT);
    /* no stop byte */
    const uint8_t nostop[] = {0x15, 0x02};
    assert_int_equal(skip_all(nostop, sizeof(nostop), &tr), AE_FORMAT);
    assert_true(tr);
    /* 40 nested structs: over TD_MAX_DEPTH, must fail without recursing further */
    uint8_t deep[80];
    memset(deep, 0x1c, 40);
    memset(deep + 40, 0x00, 40);
    assert_int_equal(skip_all(deep, sizeof(deep), &tr), AE_FORMAT);
    /* 20 nested structs are fine */
    memset(deep, 0x1c, 20);
    memset(deep + 20, 0x00, 21);
    assert_int_equal(skip_all(deep, 41, &tr), 0);
    /* an integer out of the range asked for */
    struct td t;
    const uint8_t big[] = {0x15, 0x80, 0x80, 0x80, 0x80, 0x10}; /* zigzag 2^32 = 2^31 */
    struct td_struct s;
    int ty;
    int16_t id;
    td_init(&t, big, sizeof(big));
    td_struct_begin(&t, &s);
    assert_true(td_field(&t, &s, &ty, &id));
    assert_int_equal(td_int(&t, ty, INT32_MIN, INT32_MAX), 0);
    assert_int_equal(t.err, AE_FORMAT);
    /* a wrong type for a known field */
    const uint8_t wrong[] = {0x18, 0x00, 0x00};
    td_init(&t, wrong, sizeof(wrong));
    td_struct_begin(&t, &s);
    assert_true(td_field(&t, &s, &ty, &id));
    (void)td_int(&t, ty, 0, 10);
    assert_int_equal(t.err, AE_FORMAT);
    assert_false(td_field(&t, &s, &ty, &id));
}

/* ---------------------------------------------------------------- RLE hybrid */

static void test_rle_vectors(void **state)
{
    (void)state;
    struct pq_rle r;
    uint32_t v[32];
    /* Encodings.md example: 0..7 bit-packed with width 3 = header 0x03, 88 c6 fa. */
    const uint8_t bp[] = {0x03, 0x88, 0xc6, 0xfa};
    assert_int_equal(pq_rle_init(&r, bp, sizeof(bp), 3), 0);
    assert_int_equal(pq_rle_get(&r, v, 8), 0);
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(v[i], i);
    }
    assert_int_equal(pq_rle_get(&r, v, 1), AE_FORMAT);
    /* RLE run of 10 x 300 at width 9 (2 value bytes: 2c 01), then 3 x 1 (header 06, 01 00). */
    const uint8_t rle[] = {0x14, 0x2c, 0x01, 0x06, 0x01, 0x00};
    assert_int_equal(pq_rle_init(&r, rle, sizeof(rle), 9), 0);
    assert_int_equal(pq_rle_get(&r, v, 4), 0); /* a read may stop inside a run */
    assert_int_equal(pq_rle_get(&r, v + 4, 9), 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(v[i], 300);
    }
    assert_int_equal(v[10], 1);
    assert_int_equal(v[12], 1);
    assert_int_equal(pq_rle_get(&r, v, 1), AE_FORMAT);
    /* An RLE value wider than the bit width is corrupt: 5 at width 2. */
    const uint8_t wide[] = {0x02, 0x05};
    assert_int_equal(pq_rle_init(&r, wide, sizeof(wide), 2), 0);
    assert_int_equal(pq_rle_get(&r, v, 1), AE_FORMAT);
    /* Width 0: every value is 0 (RLE run of 44 with no value bytes, apache/arrow#3400). */
    const uint8_t zero[] = {0x58};
    assert_int_equal(pq_rle_init(&r, zero, sizeof(zero), 0), 0);
    assert_int_equal(pq_rle_get(&r, v, 32), 0);
    assert_int_equal(v[31], 0);
    /* A last bit-packed run shorter than its header: 2 groups announced, 1 present (width 1,
     * byte 0xa5 = 1,0,1,0,0,1,0,1): 8 values decode, the 9th does not exist. */
    const uint8_t cut[] = {0x05, 0xa5};
    assert_int_equal(pq_rle_init(&r, cut, sizeof(cut), 1), 0);
    assert_int_equal(pq_rle_get(&r, v, 8), 0);
    const uint32_t want[] = {1, 0, 1, 0, 0, 1, 0, 1};
    assert_memory_equal(v, want, sizeof(want));
    assert_int_equal(pq_rle_get(&r, v, 1), AE_FORMAT);
    /* A bit width above 32 is refused. */
    assert_int_equal(pq_rle_init(&r, cut, sizeof(cut), 33), AE_FORMAT);
    /* Width 32, bit-packed: one group of 8 values of 4 bytes each. */
    uint8_t w32[1 + 32];
    w32[0] = 0x03;
    for (int i = 0; i < 8; i++) {
        uint32_t x = 0xfffffff0u + (uint32_t)i;
        w32[1 + 4 * i] = (uint8_t)x, w32[2 + 4 * i] = (uint8_t)(x >> 8);
        w32[3 + 4 * i] = (uint8_t)(x >> 16), w32[4 + 4 * i] = (uint8_t)(x >> 24);
    }
    assert_int_equal(pq_rle_init(&r, w32, sizeof(w32), 32), 0);
    assert_int_equal(pq_rle_get(&r, v, 8), 0);
    assert_int_equal(v[0], 0xfffffff0u);
    assert_int_equal(v[7], 0xfffffff7u);
}

static void test_rle_levels(void **state)
{
    (void)state;
    struct pq_rle r;
    uint8_t lv[40];
    size_t ones;
    /* 12 x 1 (RLE, header 0x18), then one group bit-packed 0x0f (1111 0000), 3 x 0 (0x06 00). */
    const uint8_t in[] = {0x18, 0x01, 0x03, 0x0f, 0x06, 0x00};
    assert_int_equal(pq_rle_init(&r, in, sizeof(in), 1), 0);
    assert_int_equal(pq_rle_get_u8(&r, lv, 23, &ones), 0);
    assert_int_equal(ones, 16);
    assert_int_equal(lv[11], 1);
    assert_int_equal(lv[12], 1);
    assert_int_equal(lv[16], 0);
    assert_int_equal(lv[22], 0);
    assert_int_equal(pq_rle_get_u8(&r, lv, 1, &ones), AE_FORMAT);
    /* A level of 2 in a flat column is corrupt (width 2, RLE value 2). */
    const uint8_t two[] = {0x02, 0x02};
    assert_int_equal(pq_rle_init(&r, two, sizeof(two), 2), 0);
    assert_int_equal(pq_rle_get_u8(&r, lv, 1, &ones), AE_FORMAT);
}

/* ---------------------------------------------------------------- DELTA_BINARY_PACKED */

static void test_delta_vectors(void **state)
{
    (void)state;
    struct pq_delta d;
    int64_t v[8];
    /* Header: block 128 (80 01), 4 miniblocks, 5 values, first zigzag(7) = 0e. One block: min
     * delta zigzag(-2) = 03, widths 0 0 0 0, no miniblock bytes: 7 5 3 1 -1. */
    const uint8_t a[] = {0x80, 0x01, 0x04, 0x05, 0x0e, 0x03, 0, 0, 0, 0};
    assert_int_equal(pq_delta_init(&d, a, sizeof(a)), 0);
    assert_int_equal(pq_delta_get(&d, v, 2), 0);
    assert_int_equal(pq_delta_get(&d, v + 2, 3), 0);
    const int64_t wa[] = {7, 5, 3, 1, -1};
    assert_memory_equal(v, wa, sizeof(wa));
    assert_int_equal(pq_delta_get(&d, v, 1), AE_FORMAT);
    assert_ptr_equal(pq_delta_end(&d), a + sizeof(a));
    /* 1 2 4 7 11: deltas 1 2 3 4, min delta 1 (02), packed 0 1 2 3 at width 2 = e4, and the
     * miniblock padded to 32 values (8 bytes); "XY" follows the stream. */
    const uint8_t b[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 2, 0, 0,   0,
                         0xe4, 0,    0,    0,    0,    0,    0, 0, 'X', 'Y'};
    assert_int_equal(pq_delta_init(&d, b, sizeof(b)), 0);
    assert_int_equal(pq_delta_get(&d, v, 5), 0);
    const int64_t wb[] = {1, 2, 4, 7, 11};
    assert_memory_equal(v, wb, sizeof(wb));
    assert_memory_equal(pq_delta_end(&d), "XY", 2);
    /* Skipping finds the same end without decoding. */
    assert_int_equal(pq_delta_init(&d, b, sizeof(b)), 0);
    assert_int_equal(pq_delta_skip(&d), 0);
    assert_memory_equal(pq_delta_end(&d), "XY", 2);
    /* The same stream cut before its miniblock: the deltas are missing. */
    assert_int_equal(pq_delta_init(&d, b, 10), 0);
    assert_int_equal(pq_delta_get(&d, v, 1), 0); /* the first value is in the header */
    assert_int_equal(pq_delta_get(&d, v, 1), AE_FORMAT);
    assert_int_equal(pq_delta_init(&d, b, 10), 0);
    assert_int_equal(pq_delta_skip(&d), AE_FORMAT);
    /* Wrapping arithmetic: INT64_MAX then a delta of +1 gives INT64_MIN (first value zigzag
     * INT64_MAX = fe ff ff ff ff ff ff ff ff 01, min delta zigzag(1) = 02, width 0). */
    const uint8_t c[] = {0x80, 0x01, 0x04, 0x02, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff,
                         0xff, 0xff, 0xff, 0x01, 0x02, 0,    0,    0,    0};
    assert_int_equal(pq_delta_init(&d, c, sizeof(c)), 0);
    assert_int_equal(pq_delta_get(&d, v, 2), 0);
    assert_int_equal(v[0], INT64_MAX);
    assert_int_equal(v[1], INT64_MIN);
    /* Malformed headers: miniblocks that do not divide the block; a width above 64. */
    const uint8_t h1[] = {0x80, 0x01, 0x03, 0x05, 0x00};
    assert_int_equal(pq_delta_init(&d, h1, sizeof(h1)), AE_FORMAT);
    const uint8_t h2[] = {0x80, 0x01, 0x04, 0x05, 0x00, 0x00, 65, 0, 0, 0};
    assert_int_equal(pq_delta_init(&d, h2, sizeof(h2)), 0);
    assert_int_equal(pq_delta_get(&d, v, 2), AE_FORMAT);
}

/* ---------------------------------------------------------------- UTF-8, decimals */

static void test_utf8(void **state)
{
    (void)state;
    assert_true(pq_utf8_valid((const uint8_t *)"", 0));
    assert_true(pq_utf8_valid((const uint8_t *)"plain ascii, longer than eight", 30));
    assert_true(pq_utf8_valid((const uint8_t *)"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
    assert_true(pq_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    assert_false(pq_utf8_valid((const uint8_t *)"\xc0\x80", 2));         /* overlong NUL */
    assert_false(pq_utf8_valid((const uint8_t *)"\xe0\x9f\xbf", 3));     /* overlong */
    assert_false(pq_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    assert_false(pq_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(pq_utf8_valid((const uint8_t *)"abc\xe2\x82", 5));      /* truncated */
    assert_false(pq_utf8_valid((const uint8_t *)"\x80", 1));
    assert_false(pq_utf8_valid((const uint8_t *)"abcdefgh\xff", 9));
    assert_false(pq_utf8_valid((const uint8_t *)"\xe2\x28\xa1", 3));
}

static void test_i128be(void **state)
{
    (void)state;
    const uint8_t m1[] = {0xff};
    const uint8_t p128[] = {0x00, 0x80};
    const uint8_t n129[] = {0xff, 0x7f};
    assert_true(pq_get_i128be(m1, 1) == -1);
    assert_true(pq_get_i128be(p128, 2) == 128);
    assert_true(pq_get_i128be(n129, 2) == -129);
    assert_true(pq_get_i128be(m1, 0) == 0);
    uint8_t max[16];
    memset(max, 0xff, 16);
    max[0] = 0x7f;
    __int128 want = (__int128)(((unsigned __int128)1 << 127) - 1);
    assert_true(pq_get_i128be(max, 16) == want);
    memset(max, 0, 16);
    max[0] = 0x80;
    assert_true(pq_get_i128be(max, 16) == -want - 1);
}

/* ---------------------------------------------------------------- decompression */

static size_t gzip_member(const char *s, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)s;
    z.avail_in = (uInt)strlen(s);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    return n;
}

static void test_decompress(void **state)
{
    (void)state;
    struct pq_decompressor d;
    struct buf out = BUF_INIT;
    struct err e = {0};
    pq_decompressor_init(&d);
    /* GZIP: two concatenated members make one page (Compression.md, PARQUET.md §1.10). */
    uint8_t gz[256];
    size_t n1 = gzip_member("hello, ", gz, sizeof(gz));
    size_t n2 = gzip_member("world", gz + n1, sizeof(gz) - n1);
    assert_int_equal(pq_decompress(&d, 2, gz, n1 + n2, 12, &out, &e), 0);
    assert_int_equal(out.len, 12);
    assert_memory_equal(out.data, "hello, world", 12);
    /* The header's size must match exactly, in both directions. */
    assert_int_equal(pq_decompress(&d, 2, gz, n1 + n2, 11, &out, &e), AE_FORMAT);
    assert_int_equal(pq_decompress(&d, 2, gz, n1 + n2, 13, &out, &e), AE_FORMAT);
    gz[n1 + n2 - 6] ^= 0x55; /* corrupt the CRC-32 of the second member */
    assert_int_equal(pq_decompress(&d, 2, gz, n1 + n2, 12, &out, &e), AE_FORMAT);
    /* LZ4 block: token 0x35 (3 literals "abc", match of 5 + 4 = 9 at offset 3), then a final
     * literal-only sequence "X" (token 0x10). */
    const uint8_t lz[] = {0x35, 'a', 'b', 'c', 0x03, 0x00, 0x10, 'X'};
    assert_int_equal(pq_decompress(&d, 7, lz, sizeof(lz), 13, &out, &e), 0);
    assert_memory_equal(out.data, "abcabcabcabcX", 13);
    const uint8_t lzbad[] = {0x35, 'a', 'b', 'c', 0x04, 0x00, 0x10, 'X'}; /* offset > output */
    assert_int_equal(pq_decompress(&d, 7, lzbad, sizeof(lzbad), 13, &out, &e), AE_FORMAT);
    assert_int_equal(pq_decompress(&d, 7, lz, sizeof(lz), 12, &out, &e), AE_FORMAT);
    /* Unsupported codecs are named. */
    assert_int_equal(pq_decompress(&d, 4, lz, sizeof(lz), 13, &out, &e), AE_FORMAT);
    assert_non_null(strstr(e.msg, "BROTLI"));
    /* NONE: sizes must agree. */
    assert_int_equal(pq_decompress(&d, 0, "abc", 3, 3, &out, &e), 0);
    assert_int_equal(pq_decompress(&d, 0, "abc", 3, 4, &out, &e), AE_FORMAT);
    /* Corrupt snappy and zstd streams fail cleanly. */
    assert_int_equal(pq_decompress(&d, 1, "\xff\xff\xff", 3, 3, &out, &e), AE_FORMAT);
    assert_int_equal(pq_decompress(&d, 6, "\x28\xb5\x2f\xfd\x00", 5, 3, &out, &e), AE_FORMAT);
    buf_release(&out);
    pq_decompressor_release(&d);
}

/* ---------------------------------------------------------------- round trips */

struct rt_case {
    enum pq_codec codec;
    size_t page_rows, rg_rows, cap;
};

#define RT_NCOLS 20

static void rt_columns(struct column_desc *cols, struct dtype_info *types)
{
    static const struct {
        const char *name;
        enum dtype id;
        uint8_t p, s;
        bool nullable;
    } spec[RT_NCOLS] = {
        {"s_dict", DT_STR, 0, 0, true},      {"s_plain", DT_STR, 0, 0, false},
        {"b", DT_BOOL, 0, 0, true},          {"i8", DT_INT8, 0, 0, false},
        {"i16", DT_INT16, 0, 0, true},       {"i32", DT_INT32, 0, 0, true},
        {"i64", DT_INT64, 0, 0, false},      {"u8", DT_UINT8, 0, 0, true},
        {"u16", DT_UINT16, 0, 0, false},     {"u32", DT_UINT32, 0, 0, true},
        {"u64", DT_UINT64, 0, 0, true},      {"f32", DT_FLOAT32, 0, 0, true},
        {"f64", DT_FLOAT64, 0, 0, false},    {"d", DT_DATE, 0, 0, true},
        {"ts", DT_TIMESTAMP, 0, 0, true},    {"tstz", DT_TIMESTAMP_TZ, 0, 0, false},
        {"dec9", DT_DECIMAL, 9, 2, true},    {"dec18", DT_DECIMAL, 18, 4, false},
        {"dec38", DT_DECIMAL, 38, 10, true}, {"dec20", DT_DECIMAL, 20, 0, true},
    };
    for (size_t i = 0; i < RT_NCOLS; i++) {
        cols[i].name = spec[i].name;
        cols[i].type.id = spec[i].id;
        cols[i].type.precision = spec[i].p;
        cols[i].type.scale = spec[i].s;
        cols[i].nullable = spec[i].nullable;
        types[i] = cols[i].type;
    }
}

/* The value of row i, column c (deterministic). Sets *valid. */
static void rt_value(size_t c, uint64_t i, const struct column_desc *col, int *valid, int64_t *iv,
                     double *fv, __int128 *dv, char *sv, size_t *sl)
{
    static const int64_t ext64[] = {INT64_MIN, INT64_MAX, 0, -1, 1};
    static const char *const words[] = {
        "", "caf\xc3\xa9", "\xe2\x82\xac uro", "na\xc3\xafve", "\xf0\x9f\x98\x80", "plain"};
    *valid = !col->nullable || (i * 7 + c) % 5 != 0;
    uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull ^ (c * 0x632be59bd9b4e019ull);
    switch (col->type.id) {
    case DT_STR:
        if (c == 0) {
            snprintf(sv, 64, "%s", words[i % 6]);
        } else {
            /* high cardinality: the writer falls back to PLAIN */
            snprintf(sv, 64, "v%llu-\xc3\xbc-%llx", (unsigned long long)i, (unsigned long long)h);
        }
        *sl = strlen(sv);
        break;
    case DT_BOOL: *iv = (int64_t)(h & 1); break;
    case DT_INT8: *iv = i % 3 == 0 ? (i % 2 ? INT8_MIN : INT8_MAX) : (int8_t)h; break;
    case DT_INT16: *iv = i % 3 == 0 ? (i % 2 ? INT16_MIN : INT16_MAX) : (int16_t)h; break;
    case DT_INT32: *iv = i % 3 == 0 ? (i % 2 ? INT32_MIN : INT32_MAX) : (int32_t)h; break;
    case DT_INT64:
    case DT_TIMEDELTA: *iv = i < 5 ? ext64[i] : (int64_t)h; break;
    case DT_UINT8: *iv = i % 3 == 0 ? UINT8_MAX : (uint8_t)h; break;
    case DT_UINT16: *iv = i % 3 == 0 ? UINT16_MAX : (uint16_t)h; break;
    case DT_UINT32: *iv = i % 3 == 0 ? UINT32_MAX : (uint32_t)h; break;
    case DT_UINT64: *iv = i % 3 == 0 ? -1 : (int64_t)h; break; /* UINT64_MAX bit pattern */
    case DT_FLOAT32: {
        float f = i % 4 == 0 ? (i % 8 ? INFINITY : -0.0f) : (float)((int64_t)h % 100000) / 7.0f;
        *fv = f;
        break;
    }
    case DT_FLOAT64: *fv = i % 4 == 0 ? (i % 8 ? NAN : -INFINITY) : (double)(int64_t)h / 3.0; break;
    case DT_DATE: *iv = (int64_t)(h % 200000) - 100000; break;
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: *iv = (int64_t)(h % 4000000000000000000ull) - 2000000000000000000; break;
    case DT_DECIMAL: {
        __int128 lim = 1;
        for (int k = 0; k < col->type.precision; k++) {
            lim *= 10;
        }
        lim -= 1; /* 10^p - 1: the extremes */
        if (i % 5 == 0) {
            *dv = i % 2 ? -lim : lim;
        } else {
            __int128 x = (__int128)(((unsigned __int128)h << 64) | h);
            *dv = x % (lim + 1);
        }
        break;
    }
    }
}

/* Fills b with rows [first, first + n). */
static void rt_fill(struct batch *b, const struct column_desc *cols, uint64_t first, size_t n)
{
    batch_reset(b);
    for (size_t c = 0; c < RT_NCOLS; c++) {
        struct column *col = &b->cols[c];
        for (size_t r = 0; r < n; r++) {
            int valid;
            int64_t iv = 0;
            double fv = 0;
            __int128 dv = 0;
            char sv[64];
            size_t sl = 0;
            rt_value(c, first + r, &cols[c], &valid, &iv, &fv, &dv, sv, &sl);
            switch (dtype_storage(cols[c].type.id)) {
            case DS_BYTES: assert_int_equal(batch_put_bytes(b, c, r, sv, sl, valid), 0); break;
            case DS_U8: col->v.u8[r] = valid ? (uint8_t)iv : 0; break;
            case DS_I64: col->v.i64[r] = valid ? iv : 0; break;
            case DS_F64: col->v.f64[r] = valid ? fv : 0; break;
            case DS_I128: col->v.i128[r] = valid ? dv : 0; break;
            }
            col->valid[r] = (uint8_t)valid;
        }
    }
    for (size_t r = 0; r < n; r++) {
        b->row_ok[r] = 1;
        b->line[r] = first + r + 1;
    }
    b->nrows = n;
}

/* Checks every row of b against the generator: exact values, bit-exact floats. */
static void rt_check(const struct batch *b, const struct column_desc *cols, uint64_t first)
{
    for (size_t r = 0; r < b->nrows; r++) {
        assert_int_equal(b->line[r], first + r + 1);
        assert_int_equal(b->row_ok[r], 1);
        for (size_t c = 0; c < RT_NCOLS; c++) {
            const struct column *col = &b->cols[c];
            int valid;
            int64_t iv = 0;
            double fv = 0;
            __int128 dv = 0;
            char sv[64];
            size_t sl = 0;
            rt_value(c, first + r, &cols[c], &valid, &iv, &fv, &dv, sv, &sl);
            if (col->valid[r] != valid) {
                fprintf(stderr, "row %llu column %s: valid %d, want %d\n",
                        (unsigned long long)(first + r), cols[c].name, col->valid[r], valid);
                fail();
            }
            switch (dtype_storage(cols[c].type.id)) {
            case DS_BYTES:
                assert_int_equal(col->offs[r + 1] - col->offs[r], valid ? sl : 0);
                if (valid) {
                    assert_memory_equal(col->data.data + col->offs[r], sv, sl);
                }
                break;
            case DS_U8: assert_int_equal(col->v.u8[r], valid ? iv : 0); break;
            case DS_I64:
                if (col->v.i64[r] != (valid ? iv : 0)) {
                    fprintf(stderr, "row %llu column %s: %lld, want %lld\n",
                            (unsigned long long)(first + r), cols[c].name, (long long)col->v.i64[r],
                            (long long)iv);
                    fail();
                }
                break;
            case DS_F64: {
                double want = valid ? fv : 0;
                assert_memory_equal(&col->v.f64[r], &want, sizeof(double));
                break;
            }
            case DS_I128: assert_true(col->v.i128[r] == (valid ? dv : 0)); break;
            }
        }
    }
}

static char *rt_write(const char *dir, const struct rt_case *k, uint64_t nrows)
{
    struct column_desc cols[RT_NCOLS];
    struct dtype_info types[RT_NCOLS];
    rt_columns(cols, types);
    char *path = malloc(strlen(dir) + 32);
    sprintf(path, "%s/rt.parquet", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    struct pq_options o;
    pq_options_default(&o);
    o.codec = k->codec;
    o.page_rows = k->page_rows;
    o.rg_rows = k->rg_rows;
    struct err e = {0};
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(&w, fd, cols, RT_NCOLS, &o, &e), 0);
    assert_int_equal(pq_writer_add_kv(w, "astro.test", "caf\xc3\xa9", &e), 0);
    struct batch b;
    assert_int_equal(batch_init(&b, types, RT_NCOLS, 97), 0);
    for (uint64_t first = 0; first < nrows; first += 97) {
        size_t n = nrows - first < 97 ? (size_t)(nrows - first) : 97;
        rt_fill(&b, cols, first, n);
        assert_int_equal(pq_writer_write(w, &b, &e), 0);
    }
    uint64_t bytes;
    assert_int_equal(pq_writer_close(w, &bytes, &e), 0);
    pq_writer_free(w);
    close(fd);
    batch_release(&b);
    return path;
}

static void rt_read(const char *path, size_t cap, uint64_t nrows)
{
    struct column_desc cols[RT_NCOLS];
    struct dtype_info types[RT_NCOLS];
    rt_columns(cols, types);
    struct err e = {0};
    struct pq_reader *r;
    if (pq_reader_open(&r, path, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        fail();
    }
    assert_int_equal(pq_reader_ncols(r), RT_NCOLS);
    assert_int_equal(pq_reader_nrows(r), nrows);
    assert_string_equal(pq_reader_kv(r, "astro.test"), "caf\xc3\xa9");
    assert_null(pq_reader_kv(r, "astro.none"));
    assert_null(pq_reader_column(r, RT_NCOLS));
    for (size_t c = 0; c < RT_NCOLS; c++) {
        const struct column_desc *pc = pq_reader_column(r, c);
        assert_string_equal(pc->name, cols[c].name);
        assert_int_equal(pc->type.id, cols[c].type.id);
        assert_int_equal(pc->type.precision, cols[c].type.precision);
        assert_int_equal(pc->type.scale, cols[c].type.scale);
        assert_int_equal(pc->nullable, cols[c].nullable);
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, RT_NCOLS, cap), 0);
    uint64_t seen = 0;
    for (;;) {
        if (pq_reader_next(r, &b, &e) != 0) {
            fprintf(stderr, "%s\n", e.msg);
            fail();
        }
        if (b.nrows == 0) {
            break;
        }
        assert_true(b.nrows == cap || seen + b.nrows == nrows);
        rt_check(&b, cols, seen);
        seen += b.nrows;
    }
    assert_int_equal(seen, nrows);
    /* At the end, every later call returns an empty batch. */
    assert_int_equal(pq_reader_next(r, &b, &e), 0);
    assert_int_equal(b.nrows, 0);
    batch_release(&b);
    pq_reader_free(r);
}

static void test_round_trip(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    const struct rt_case cases[] = {
        {PQ_CODEC_ZSTD, 20000, 1048576, 1000}, /* defaults: one page, one row group */
        {PQ_CODEC_NONE, 7, 50, 33},            /* many pages and row groups, odd batch */
        {PQ_CODEC_SNAPPY, 64, 300, 1},         /* one row per batch */
        {PQ_CODEC_GZIP, 100, 1000, 4096},      /* batches larger than row groups */
        {PQ_CODEC_ZSTD, 1, 3, 5},              /* one row per page */
    };
    const uint64_t nrows[] = {2000, 1111, 777, 2500, 40};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *path = rt_write(dir, &cases[k], nrows[k]);
        rt_read(path, cases[k].cap, nrows[k]);
        free(path);
    }
    th_rmrf(dir);
    free(dir);
}

/* pq_reader_select: a column not selected is never read and comes back all null; the selected
 * ones hold exactly what a full read gives, across pages, row groups and batch edges. */
static void test_select_columns(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    const struct rt_case k = {PQ_CODEC_NONE, 7, 50, 33};
    char *path = rt_write(dir, &k, 1111);
    struct column_desc cols[RT_NCOLS];
    struct dtype_info types[RT_NCOLS];
    rt_columns(cols, types);
    struct err e = {0};
    struct pq_reader *full, *part;
    assert_int_equal(pq_reader_open(&full, path, &e), 0);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pq_reader_open_fd_any(&part, fd, path, &e), 0);
    close(fd);
    for (size_t c = 0; c < RT_NCOLS; c++) {
        assert_null(pq_reader_column_problem(part, c));
        pq_reader_select(part, c, c % 2 == 0);
    }
    struct batch a, b;
    assert_int_equal(batch_init(&a, types, RT_NCOLS, 33), 0);
    assert_int_equal(batch_init(&b, types, RT_NCOLS, 33), 0);
    uint64_t seen = 0;
    for (;;) {
        assert_int_equal(pq_reader_next(full, &a, &e), 0);
        assert_int_equal(pq_reader_next(part, &b, &e), 0);
        assert_int_equal(a.nrows, b.nrows);
        if (a.nrows == 0) {
            break;
        }
        for (size_t c = 0; c < RT_NCOLS; c++) {
            const struct column *x = &a.cols[c], *y = &b.cols[c];
            size_t ss = dtype_storage_size(dtype_storage(types[c].id));
            for (size_t i = 0; i < a.nrows; i++) {
                if (c % 2 == 1) {
                    assert_int_equal(y->valid[i], 0);
                    continue;
                }
                assert_int_equal(x->valid[i], y->valid[i]);
                if (!x->valid[i]) {
                    continue;
                }
                if (x->offs != NULL) {
                    uint32_t n = x->offs[i + 1] - x->offs[i];
                    assert_int_equal(n, y->offs[i + 1] - y->offs[i]);
                    assert_memory_equal(x->data.data + x->offs[i], y->data.data + y->offs[i], n);
                } else {
                    assert_memory_equal((const char *)x->v.raw + i * ss,
                                        (const char *)y->v.raw + i * ss, ss);
                }
            }
        }
        seen += a.nrows;
    }
    assert_int_equal(seen, 1111);
    batch_release(&a);
    batch_release(&b);
    pq_reader_free(full);
    pq_reader_free(part);
    free(path);
    th_rmrf(dir);
    free(dir);
}

static void test_zero_rows(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    struct rt_case k = {PQ_CODEC_ZSTD, 20000, 1048576, 10};
    char *path = rt_write(dir, &k, 0);
    rt_read(path, 10, 0);
    free(path);
    th_rmrf(dir);
    free(dir);
}

/* Low-cardinality strings stay dictionary-encoded across many pages and row groups; the batch
 * arena restarts each call so the offsets of every batch start at 0. */
static void test_dictionary_pages(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/d.parquet", dir);
    struct column_desc col = {"w", {DT_STR, 0, 0}, true};
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct pq_options o;
    pq_options_default(&o);
    o.page_rows = 100;
    o.rg_rows = 1000;
    struct err e = {0};
    struct pq_writer *w;
    assert_int_equal(pq_writer_open(&w, fd, &col, 1, &o, &e), 0);
    struct batch b;
    assert_int_equal(batch_init(&b, &col.type, 1, 500), 0);
    for (size_t i = 0; i < 5000; i++) {
        size_t r = i % 500;
        char v[8];
        snprintf(v, sizeof(v), "k%zu", i % 13);
        assert_int_equal(batch_put_bytes(&b, 0, r, v, strlen(v), i % 11 != 3), 0);
        b.row_ok[r] = 1;
        if (r == 499) {
            b.nrows = 500;
            assert_int_equal(pq_writer_write(w, &b, &e), 0);
            batch_reset(&b);
        }
    }
    uint64_t bytes;
    assert_int_equal(pq_writer_close(w, &bytes, &e), 0);
    pq_writer_free(w);
    close(fd);
    batch_release(&b);

    struct pq_reader *r;
    assert_int_equal(pq_reader_open(&r, path, &e), 0);
    assert_int_equal(batch_init(&b, &col.type, 1, 333), 0);
    size_t i = 0;
    for (;;) {
        assert_int_equal(pq_reader_next(r, &b, &e), 0);
        if (b.nrows == 0) {
            break;
        }
        assert_int_equal(b.cols[0].offs[0], 0);
        for (size_t k = 0; k < b.nrows; k++, i++) {
            char v[8];
            int n = snprintf(v, sizeof(v), "k%zu", i % 13);
            int valid = i % 11 != 3;
            assert_int_equal(b.cols[0].valid[k], valid);
            uint32_t len = b.cols[0].offs[k + 1] - b.cols[0].offs[k];
            assert_int_equal(len, valid ? (uint32_t)n : 0);
            if (valid) {
                assert_memory_equal(b.cols[0].data.data + b.cols[0].offs[k], v, (size_t)n);
            }
        }
    }
    assert_int_equal(i, 5000);
    batch_release(&b);
    pq_reader_free(r);
    th_rmrf(dir);
    free(dir);
    free(path);
}

/* Writes n bytes (NULs included) to dir/name; returns the malloc'd path. */
static char *write_bytes(const char *dir, const char *name, const void *p, size_t n)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
    return path;
}

static void test_open_errors(void **state)
{
    (void)state;
    char *dir = th_tempdir();
    struct err e = {0};
    struct pq_reader *r = (struct pq_reader *)1;
    char path[512];
    snprintf(path, sizeof(path), "%s/missing.parquet", dir);
    assert_int_equal(pq_reader_open(&r, path, &e), AE_IO);
    assert_null(r);
    assert_int_equal(pq_reader_open(&r, dir, &e), AE_IO);
    char *p = th_write(dir, "short.parquet", "PAR1PAR1");
    assert_int_equal(pq_reader_open(&r, p, &e), AE_FORMAT);
    assert_non_null(strstr(e.msg, "not a Parquet file"));
    free(p);
    p = th_write(dir, "csv.parquet", "a,b,c\n1,2,3\n4,5,6\n");
    assert_int_equal(pq_reader_open(&r, p, &e), AE_FORMAT);
    free(p);
    /* A footer length larger than the file. */
    p = write_bytes(dir, "len.parquet", "PAR1xxxxxxxx\xff\xff\x00\x00PAR1", 20);
    assert_int_equal(pq_reader_open(&r, p, &e), AE_FORMAT);
    assert_non_null(strstr(e.msg, "footer length"));
    free(p);
    /* An encrypted footer is named. */
    p = write_bytes(dir, "enc.parquet", "PAR1xxxxxxxx\x04\x00\x00\x00PARE", 20);
    assert_int_equal(pq_reader_open(&r, p, &e), AE_FORMAT);
    assert_non_null(strstr(e.msg, "encrypted"));
    free(p);
    pq_reader_free(NULL);
    th_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_fields), cmocka_unit_test(test_thrift_skip),
        cmocka_unit_test(test_thrift_errors), cmocka_unit_test(test_rle_vectors),
        cmocka_unit_test(test_rle_levels),    cmocka_unit_test(test_delta_vectors),
        cmocka_unit_test(test_utf8),          cmocka_unit_test(test_i128be),
        cmocka_unit_test(test_decompress),    cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_zero_rows),     cmocka_unit_test(test_dictionary_pages),
        cmocka_unit_test(test_open_errors),   cmocka_unit_test(test_select_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
