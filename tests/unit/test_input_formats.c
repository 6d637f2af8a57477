/*
 * test_input_formats.c - the decompression layer under struct source and the NDJSON / JSON
 * readers: each codec round-trips data compressed here by its own library (read one byte at a
 * time too), the sha256 and size stay those of the compressed bytes, truncated and
 * corrupt data fail with AE_FORMAT (never a crash, never EOF), a text file starting with "BZh" is
 * not bzip2; the readers give one field per schema column with the JSON type flags, lines and
 * unreadable records, and refuse broken array structure; mutated JSON and compressed inputs
 * (a deterministic generator) end in records or AE_FORMAT, with the readers' invariants intact.
 */
#include "input/decompress.h"
#include "input/input.h"
#include "input/json.h"
#include "input/source.h"

#include <bzlib.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>
#include <openssl/sha.h>

static int mem_fd(const void *p, size_t n)
{
    int fd = memfd_create("fmt-test", 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* Some compressible text of n bytes. */
static char *sample(size_t n)
{
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) {
        s[i] = (char)(i % 97 == 0 ? '\n' : 'a' + (char)((i * 7 + i / 13) % 26));
    }
    return s;
}

static uint8_t *compress_with(enum dcodec c, const char *src, size_t n, size_t *out_n)
{
    size_t cap = n + n / 2 + 1024;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    switch (c) {
    case DCODEC_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof(z));
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                         Z_OK);
        z.next_in = (Bytef *)(uintptr_t)src;
        z.avail_in = (uInt)n;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        *out_n = cap - z.avail_out;
        deflateEnd(&z);
        break;
    }
    case DCODEC_ZSTD: {
        size_t r = ZSTD_compress(out, cap, src, n, 3);
        assert_false(ZSTD_isError(r));
        *out_n = r;
        break;
    }
    case DCODEC_BZIP2: {
        unsigned int dl = (unsigned int)cap;
        assert_int_equal(BZ2_bzBuffToBuffCompress((char *)out, &dl, (char *)(uintptr_t)src,
                                                  (unsigned)n, 9, 0, 0),
                         BZ_OK);
        *out_n = dl;
        break;
    }
    case DCODEC_XZ: {
        size_t pos = 0;
        assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)src, n,
                                                 out, &pos, cap),
                         LZMA_OK);
        *out_n = pos;
        break;
    }
    case DCODEC_NONE: memcpy(out, src, n); *out_n = n;
    }
    return out;
}

/* Reads the whole source through source_read with reads of want bytes. */
static int read_all(struct source *s, char *dst, size_t cap, size_t want, size_t *total,
                    struct err *e)
{
    *total = 0;
    for (;;) {
        size_t got = 0;
        size_t w = want < cap - *total ? want : cap - *total;
        int rc = source_read(s, dst + *total, w > 0 ? w : 1, &got, e);
        if (rc != 0) {
            return rc;
        }
        if (got == 0) {
            return 0;
        }
        *total += got;
    }
}

/* source_skip_hash: the bytes still come out and are counted, but are not hashed (a second
 * reading of a file hashes nothing: the key pre-pass); the same source without it hashes them. */
static void test_skip_hash(void **state)
{
    (void)state;
    size_t n = 300000;
    char *text = sample(n);
    char *back = malloc(n + 16);
    assert_non_null(back);
    for (int skip = 0; skip < 2; skip++) {
        int fd = mem_fd(text, n);
        struct source *s = NULL;
        struct err e;
        assert_int_equal(source_open(&s, fd, "x.csv", &e), 0);
        if (skip) {
            source_skip_hash(s);
        }
        size_t total = 0;
        assert_int_equal(read_all(s, back, n + 16, 4096, &total, &e), 0);
        assert_int_equal(total, n);
        assert_memory_equal(back, text, n);
        assert_int_equal(source_bytes(s), n);
        unsigned char md[32], want_md[32];
        source_sha256(s, md);
        SHA256((const unsigned char *)text, skip ? 0 : n, want_md);
        assert_memory_equal(md, want_md, 32);
        source_free(s);
        close(fd);
    }
    free(back);
    free(text);
}

static void test_codecs_round_trip(void **state)
{
    (void)state;
    size_t n = 600000;
    char *text = sample(n);
    char *back = malloc(n + 16);
    enum dcodec codecs[] = {DCODEC_GZIP, DCODEC_ZSTD, DCODEC_BZIP2, DCODEC_XZ};
    for (size_t k = 0; k < 4; k++) {
        size_t zn = 0;
        uint8_t *z = compress_with(codecs[k], text, n, &zn);
        assert_int_equal(dcodec_sniff(z, zn), codecs[k]);
        size_t wants[] = {1, 4096, 1 << 20};
        for (size_t w = 0; w < 3; w++) {
            int fd = mem_fd(z, zn);
            struct source *s = NULL;
            struct err e;
            assert_int_equal(source_open(&s, fd, "x.bin", &e), 0);
            size_t total = 0;
            assert_int_equal(read_all(s, back, n + 16, wants[w], &total, &e), 0);
            assert_int_equal(total, n);
            assert_memory_equal(back, text, n);
            /* The hash and count are those of the compressed bytes. */
            assert_int_equal(source_bytes(s), zn);
            unsigned char md[32], want_md[32];
            source_sha256(s, md);
            SHA256(z, zn, want_md);
            assert_memory_equal(md, want_md, 32);
            assert_string_equal(source_codec(s), dcodec_ops_for(codecs[k])->name);
            assert_false(source_decode_failed(s));
            source_free(s);
            close(fd);
        }
        /* Truncated anywhere: AE_FORMAT, flagged, sticky; never a clean end of file. */
        size_t cuts[] = {zn / 3, zn - 1};
        for (size_t c = 0; c < 2; c++) {
            int fd = mem_fd(z, cuts[c]);
            struct source *s = NULL;
            struct err e;
            assert_int_equal(source_open(&s, fd, "x.bin", &e), 0);
            size_t total = 0;
            assert_int_equal(read_all(s, back, n + 16, 65536, &total, &e), AE_FORMAT);
            assert_true(source_decode_failed(s));
            size_t got = 0;
            assert_int_equal(source_read(s, back, 10, &got, &e), AE_FORMAT);
            source_free(s);
            close(fd);
        }
        /* Garbage after a complete member is an error too. */
        uint8_t *zz = malloc(zn + 8);
        memcpy(zz, z, zn);
        memcpy(zz + zn, "trailing", 8);
        int fd = mem_fd(zz, zn + 8);
        struct source *s = NULL;
        struct err e;
        assert_int_equal(source_open(&s, fd, "x.bin", &e), 0);
        size_t total = 0;
        assert_int_equal(read_all(s, back, n + 16, 65536, &total, &e), AE_FORMAT);
        source_free(s);
        close(fd);
        free(zz);
        free(z);
    }
    free(text);
    free(back);
}

static void test_sniff_and_names(void **state)
{
    (void)state;
    /* A CSV whose header starts with "BZh" is text. */
    const char *csv = "BZh9 column,b\n1,2\n";
    assert_int_equal(dcodec_sniff((const uint8_t *)csv, strlen(csv)), DCODEC_NONE);
    int fd = mem_fd(csv, strlen(csv));
    struct source *s = NULL;
    struct err e;
    assert_int_equal(source_open(&s, fd, "x.csv", &e), 0);
    char buf[64];
    size_t total = 0;
    assert_int_equal(read_all(s, buf, sizeof(buf), 3, &total, &e), 0);
    assert_int_equal(total, strlen(csv));
    assert_memory_equal(buf, csv, total);
    assert_null(source_codec(s));
    source_free(s);
    close(fd);
    /* A .gz that is not gzip, and an empty .xz, are refused. */
    const char *names[] = {"orders.csv.gz", "orders.csv.xz"};
    const char *bodies[] = {"id\n1\n", ""};
    for (size_t k = 0; k < 2; k++) {
        fd = mem_fd(bodies[k], strlen(bodies[k]));
        assert_int_equal(source_open(&s, fd, names[k], &e), 0);
        assert_int_equal(read_all(s, buf, sizeof(buf), 64, &total, &e), AE_FORMAT);
        assert_non_null(strstr(e.msg, "magic bytes"));
        source_free(s);
        close(fd);
    }
    assert_int_equal(dcodec_by_name("a.CSV.GZ"), DCODEC_GZIP);
    assert_int_equal(dcodec_by_name("a.zstd"), DCODEC_ZSTD);
    assert_int_equal(dcodec_by_name("a.gz.csv"), DCODEC_NONE);
    assert_int_equal(config_format_of_name("x.csv.gz"), INPUT_CSV);
    assert_int_equal(config_format_of_name("x.ndjson.zst"), INPUT_NDJSON);
    assert_int_equal(config_format_of_name("x.jsonl"), INPUT_NDJSON);
    assert_int_equal(config_format_of_name("x*.json*"), INPUT_JSON);
    assert_int_equal(config_format_of_name("x.json.txt"), INPUT_CSV);
    assert_int_equal(config_format_of_name("orders*.xlsx"), INPUT_XLSX);
    assert_int_equal(config_format_of_name("Orders.XLSX"), INPUT_XLSX);
    assert_int_equal(config_format_of_name("x.xlsx.csv"), INPUT_CSV);
}

/* A spec of format f with the n columns names[k] (path paths[k], NULL for none). */
static void spec_of(struct ingest_spec *spec, struct column_spec *cols, size_t n,
                    const char *const *names, const char *const *paths, enum input_format f)
{
    memset(spec, 0, sizeof(*spec));
    memset(cols, 0, n * sizeof(*cols));
    for (size_t k = 0; k < n; k++) {
        cols[k].name = (char *)(uintptr_t)names[k];
        cols[k].path = (char *)(uintptr_t)paths[k];
    }
    spec->format = f;
    spec->schema.cols = cols;
    spec->schema.ncols = n;
}

/* A spec with columns a (int64), b (str, path b.c). */
static void make_spec(struct ingest_spec *spec, struct column_spec cols[2], enum input_format f)
{
    static const char *const names[] = {"a", "b"}, *const paths[] = {NULL, "b.c"};
    spec_of(spec, cols, 2, names, paths, f);
}

/* Each record as "line: field|field" with flags s n b 0 C (string number bool null composite), or
 * "line: !reason" for an unreadable record. */
static void dump(const struct record_block *b, struct buf *out)
{
    for (size_t i = 0; i < b->nrows; i++) {
        assert_int_equal(buf_printf(out, "%llu:", (unsigned long long)b->line[i]), 0);
        if (b->row_flags[i] & REC_R_UNREADABLE) {
            assert_int_equal(buf_puts(out, " !"), 0);
        }
        for (uint32_t k = b->row_first[i]; k < b->row_first[i + 1]; k++) {
            const struct record_field *f = &b->fields[k];
            unsigned jt = f->flags & REC_F_JSON_MASK;
            char t = jt == REC_F_JSON_STRING      ? 's'
                     : jt == REC_F_JSON_NUMBER    ? 'n'
                     : jt == REC_F_JSON_BOOL      ? 'b'
                     : jt == REC_F_JSON_NULL      ? '0'
                     : jt == REC_F_JSON_COMPOSITE ? 'C'
                                                  : '?';
            assert_int_equal(buf_printf(out, " %c%.*s", t, (int)f->len, f->p), 0);
        }
        assert_int_equal(buf_putc(out, '\n'), 0);
    }
}

/* Reads text with format f in blocks of max_rows; returns the dump and the final rc. */
static int read_text(enum input_format f, const char *text, size_t max_rows, struct buf *out,
                     struct err *e)
{
    struct ingest_spec spec;
    struct column_spec cols[2];
    make_spec(&spec, cols, f);
    int fd = mem_fd(text, strlen(text));
    struct input in;
    int rc = input_open(&in, fd, "t", &spec, e);
    assert_int_equal(rc, 0);
    const char *const *names;
    size_t n;
    assert_true(input_field_names(&in, &names, &n));
    assert_int_equal(n, 2);
    assert_string_equal(names[1], "b");
    struct record_block b = {0};
    for (;;) {
        rc = input_next(&in, &b, max_rows, e);
        if (rc != 0 || b.nrows == 0) {
            break;
        }
        dump(&b, out);
    }
    record_block_release(&b);
    input_close(&in);
    close(fd);
    return rc;
}

static void test_ndjson_reader(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF{\"a\": 1, \"b\": {\"c\": \"x\\ty\"}}\r\n"
                       "\n"
                       "  \t\n"
                       "{\"a\": 2.5e0, \"b\": {\"c\": [1, {\"d\": null}]}}\n"
                       "{\"a\": \"12\", \"b\": 7}\n"
                       "{\"a\": true, \"b\": {\"c\": null}}\n"
                       "{\"a\": 1,}\n"
                       "[1, 2]\n"
                       "{\"a\": 1, \"a\": 2}\n"
                       "{\"a\": -9223372036854775808}";
    const char *want = "1: n1 sx\ty\n"
                       "4: n2.5 C[1,{\"d\":null}]\n"
                       "5: s12 0\n"
                       "6: btrue 0\n"
                       "7: ! ?not valid JSON: string or '}' expected near '}' (column 9)\n"
                       "8: ! ?the line is an array, not a JSON object\n"
                       "9: ! ?not valid JSON: duplicate object key near '\"a\"' (column 12)\n"
                       "10: n-9223372036854775808 0\n";
    for (size_t max = 1; max <= 3; max += 2) {
        struct buf out = BUF_INIT;
        struct err e;
        assert_int_equal(read_text(INPUT_NDJSON, text, max, &out, &e), 0);
        assert_string_equal(out.data, want);
        buf_release(&out);
    }
}

static void test_json_reader(void **state)
{
    (void)state;
    const char *text =
        " [\n  {\"a\": 1,\n   \"b\": {\"c\": \"]}\\\"{\"}},\n  5,\n  {\"a\": null}\n]\n ";
    struct buf out = BUF_INIT;
    struct err e;
    assert_int_equal(read_text(INPUT_JSON, text, 2, &out, &e), 0);
    assert_string_equal(out.data, "2: n1 s]}\"{\n"
                                  "4: ! ?the record is a number, not a JSON object\n"
                                  "5: 0 0\n");
    buf_release(&out);
    /* Broken structure: the records before it, then AE_FORMAT naming the line. */
    const char *bad[] = {"[{\"a\": 1}\n{\"a\": 2}]", "[{\"a\": 1},",  "{\"a\": 1}",
                         "[{\"a\": 1}] x",           "[{\"a\": 1},]", "[{\"a\": \"1}]"};
    const char *why[] = {"line 2: expected ',' or ']' after record 1",
                         "ends inside the JSON array",
                         "expected a JSON array",
                         "text after the end",
                         "trailing comma",
                         "ends inside a record"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct buf o = BUF_INIT;
        assert_int_equal(read_text(INPUT_JSON, bad[k], 8, &o, &e), AE_FORMAT);
        assert_non_null(strstr(e.msg, why[k]));
        buf_release(&o);
    }
}

/* The array's record splitter skips string bytes eight at a time: records whose strings hold an
 * escaped quote or backslash, a bracket or a UTF-8 letter at every offset and alignment split
 * exactly as NDJSON lines of the same records (same fields, same line numbers). */
static void test_json_array_strings(void **state)
{
    (void)state;
    static const char *const special[] = {"\\\"", "\\\\",     "}",   "]",
                                          "{",    "\xC3\xA9", "\\n", "\\u0022"};
    struct buf nd = BUF_INIT, arr = BUF_INIT;
    assert_int_equal(buf_putc(&arr, '['), 0);
    int id = 0;
    for (size_t sp = 0; sp < sizeof(special) / sizeof(special[0]); sp++) {
        for (size_t len = 0; len <= 20; len++) {
            for (size_t at = 0; at <= len; at++) {
                char v[64];
                size_t k = 0;
                for (size_t i = 0; i < len; i++) {
                    if (i == at) {
                        k += (size_t)snprintf(v + k, sizeof(v) - k, "%s", special[sp]);
                    }
                    v[k++] = (char)('a' + (int)(i % 26));
                }
                if (at == len) {
                    k += (size_t)snprintf(v + k, sizeof(v) - k, "%s", special[sp]);
                }
                v[k] = '\0';
                id++;
                assert_int_equal(buf_printf(&nd, "{\"a\": %d, \"b\": \"%s\"}\n", id, v), 0);
                assert_int_equal(
                    buf_printf(&arr, "%s{\"a\": %d, \"b\": \"%s\"}", id > 1 ? ",\n" : "", id, v),
                    0);
            }
        }
    }
    assert_int_equal(buf_puts(&arr, "]\n"), 0);
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct err e;
    assert_int_equal(read_text(INPUT_NDJSON, nd.data, 97, &a, &e), 0);
    assert_int_equal(read_text(INPUT_JSON, arr.data, 97, &b, &e), 0);
    assert_true(a.len > 0);
    assert_string_equal(a.data, b.data);
    buf_release(&a);
    buf_release(&b);
    buf_release(&nd);
    buf_release(&arr);
}

/* A block in which no record has any of the schema's keys has no field text at all: every field
 * still points at a string (found by tests/fuzz/fuzz_json: NULL + 0 before). */
static void test_json_all_keys_missing(void **state)
{
    (void)state;
    for (int f = 0; f < 2; f++) {
        const char *text = f == 0 ? "{\"m\": 1}\n{}\n" : "[{\"m\": 1}, {}]";
        struct ingest_spec spec;
        struct column_spec cols[2];
        make_spec(&spec, cols, f == 0 ? INPUT_NDJSON : INPUT_JSON);
        int fd = mem_fd(text, strlen(text));
        struct input in;
        struct err e;
        assert_int_equal(input_open(&in, fd, "t", &spec, &e), 0);
        struct record_block b = {0};
        assert_int_equal(input_next(&in, &b, 8, &e), 0);
        assert_int_equal(b.nrows, 2);
        assert_int_equal(b.nfields, 4);
        for (size_t k = 0; k < b.nfields; k++) {
            assert_non_null(b.fields[k].p);
            assert_int_equal(b.fields[k].len, 0);
            assert_int_equal(b.fields[k].flags & REC_F_JSON_MASK, REC_F_JSON_NULL);
        }
        record_block_release(&b);
        input_close(&in);
        close(fd);
    }
}

/* A small deterministic generator (xorshift), so a failure is reproducible. */
static uint64_t rnd(uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

/* Reads fd to the end with format f; checks the readers' invariants on whatever comes out. */
static int read_checked(int fd, enum input_format f, size_t max_rows)
{
    struct ingest_spec spec;
    struct column_spec cols[2];
    make_spec(&spec, cols, f);
    struct input in;
    struct err e;
    assert_int_equal(input_open(&in, fd, "fuzz", &spec, &e), 0);
    struct record_block b = {0};
    uint64_t last = 0;
    int rc;
    for (;;) {
        rc = input_next(&in, &b, max_rows, &e);
        if (rc != 0 || b.nrows == 0) {
            break;
        }
        assert_true(b.nrows <= max_rows);
        for (size_t i = 0; i < b.nrows; i++) {
            size_t nf = b.row_first[i + 1] - b.row_first[i];
            bool unreadable = (b.row_flags[i] & REC_R_UNREADABLE) != 0;
            assert_int_equal(nf, unreadable ? 1 : 2);
            assert_true(b.line[i] >= last);
            last = b.line[i];
            for (uint32_t k = b.row_first[i]; k < b.row_first[i + 1]; k++) {
                unsigned t = b.fields[k].flags & REC_F_JSON_MASK;
                /* exactly one JSON type: one of the five codes under the mask */
                assert_true(unreadable ? t == 0
                                       : (t >= REC_F_JSON_STRING && t <= REC_F_JSON_COMPOSITE));
                if (b.fields[k].len > 0) {
                    assert_non_null(b.fields[k].p);
                }
            }
        }
    }
    if (rc == 0) {
        assert_int_equal(input_bytes(&in), lseek(fd, 0, SEEK_CUR));
    }
    record_block_release(&b);
    input_close(&in);
    return rc;
}

static void test_mutated_inputs(void **state)
{
    (void)state;
    const char *seed_nd = "{\"a\": 1, \"b\": {\"c\": \"x\\u00e9\"}}\n{\"a\": [1, {\"b\": 2}]}\n"
                          "{\"a\": \"12\", \"b\": {\"c\": null}}\n\n{\"a\": true}\n";
    const char *seed_js = "[{\"a\": 1, \"b\": {\"c\": \"x]\\\"\"}},\n {\"a\": [1, 2]},\n 7,\n"
                          " {\"b\": {\"c\": {\"d\": 1}}}]";
    const char special[] = "{}[],:\"\\\n 1a";
    uint64_t st = 0x9E3779B97F4A7C15ull;
    char buf[512];
    for (int it = 0; it < 3000; it++) {
        enum input_format f = it % 2 ? INPUT_JSON : INPUT_NDJSON;
        const char *seed = f == INPUT_JSON ? seed_js : seed_nd;
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int edits = 1 + (int)(rnd(&st) % 4);
        for (int k = 0; k < edits && n > 0; k++) {
            size_t at = rnd(&st) % n;
            switch (rnd(&st) % 4) {
            case 0: buf[at] = special[rnd(&st) % (sizeof(special) - 1)]; break;
            case 1: buf[at] = (char)rnd(&st); break;
            case 2: n = at; break; /* truncate */
            case 3:
                if (n + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = special[rnd(&st) % (sizeof(special) - 1)];
                    n++;
                }
                break;
            }
        }
        int fd = mem_fd(buf, n);
        int rc = read_checked(fd, f, 1 + (size_t)(it % 3));
        assert_true(rc == 0 || rc == AE_FORMAT);
        close(fd);
    }
    /* Compressed streams with flipped bytes: a clean failure or (rarely) the same text. */
    size_t tn = 20000;
    char *text = sample(tn);
    for (int i = 0; i < (int)tn; i += 97) {
        memcpy(text + i, "{\"a\": 1}\n", 9);
    }
    enum dcodec codecs[] = {DCODEC_GZIP, DCODEC_ZSTD, DCODEC_BZIP2, DCODEC_XZ};
    for (int it = 0; it < 400; it++) {
        size_t zn = 0;
        uint8_t *z = compress_with(codecs[it % 4], text, tn, &zn);
        for (int k = 0; k < 3; k++) {
            z[rnd(&st) % zn] ^= (uint8_t)(1 + rnd(&st) % 255);
        }
        size_t cut = it % 5 == 0 ? rnd(&st) % zn : zn;
        int fd = mem_fd(z, cut);
        int rc = read_checked(fd, INPUT_NDJSON, 64);
        assert_true(rc == 0 || rc == AE_FORMAT);
        close(fd);
        free(z);
    }
    free(text);
}

/* ---- astro's JSON record parser against jansson ------------------------------------------- */

/* The fields, flags and reason json_parse_one gives for text, as one string. */
static void parse_dump(const struct ingest_spec *spec, bool reference, const char *text, size_t n,
                       struct buf *out)
{
    struct record_block b = {0};
    struct err e;
    assert_int_equal(json_parse_one(spec, spec->format == INPUT_JSON, reference, text, n, &b, &e),
                     0);
    buf_reset(out);
    assert_int_equal(buf_printf(out, "%u:", b.row_flags[0]), 0);
    for (uint32_t k = b.row_first[0]; k < b.row_first[1]; k++) {
        const struct record_field *f = &b.fields[k];
        assert_int_equal(buf_printf(out, "|%u/%u:", f->flags, f->len), 0);
        assert_int_equal(buf_append(out, f->p, f->len), 0);
    }
    record_block_release(&b);
}

/* Asserts that both parsers read text alike; returns true when the fast parser took it itself
 * (the record was valid and had no composite value in a column). */
static bool same_as_jansson(const struct ingest_spec *spec, const char *text, size_t n)
{
    struct buf fast = BUF_INIT, ref = BUF_INIT;
    parse_dump(spec, false, text, n, &fast);
    parse_dump(spec, true, text, n, &ref);
    if (fast.len != ref.len || memcmp(fast.data, ref.data, fast.len) != 0) {
        fail_msg("record [%.*s]:\n fast    %.*s\n jansson %.*s", (int)n, text, (int)fast.len,
                 fast.data, (int)ref.len, ref.data);
    }
    bool readable = fast.data[0] == '0';
    buf_release(&fast);
    buf_release(&ref);
    return readable;
}

/* Columns: a; b (path b.c); "c.d" (a dotted name: the key as written, else the path); e (path
 * x.y.z); u. */
static void make_wide_spec(struct ingest_spec *spec, struct column_spec cols[5],
                           enum input_format f)
{
    static const char *const names[] = {"a", "b", "c.d", "e", "u"};
    static const char *const paths[] = {NULL, "b.c", NULL, "x.y.z", NULL};
    spec_of(spec, cols, 5, names, paths, f);
}

static uint64_t rng_next(uint64_t *s)
{
    *s += UINT64_C(0x9e3779b97f4a7c15);
    uint64_t x = *s;
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* A random JSON value (often with mistakes) of at most depth levels, appended to out. */
static void gen_value(struct buf *out, uint64_t *s, int depth)
{
    static const char *const scalars[] = {
        "0", "-0", "1", "-1", "12", "3.0", "2.50", "-0.0", "0.0001", "0.00001", "1e3", "1E-2",
        "12.345678901234", "123456789012345.5", "1234567890.12345", "0.1234567890123456",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e400", "1e-400",
        "01", "1.", ".5", "-", "+1", "1e", "true", "false", "null", "tru", "nul", "\"\"", "\"x\"",
        "\"Zo\xc3\xab\"", "\"\\u00e9\\n\\t\\\"\\\\\\/\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"",
        "\"\\ude00\"", "\"\\u0000\"", "\"\\x\"", "\"a\tb\"", "\"\xc3\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xe0\x80\xaf\"", "\"\xf0\x9f\x98\x80\"", "\"}\"", "\"a,b\"",
        "99999999999999999999", "-12.5e+3", "4.9e-324", "1.7976931348623157e308",
        /* longer strings: the parser scans them eight bytes at a time */
        "\"abcdefghijklmnopqrstuvwxyz0123456789\"", "\"abcdefgh\\\"ijklmnop\"",
        "\"abcdefghijklm\xc3\xa9nopqrstu\"", "\"abcdefghijk\tlmnop\"", "\"abcdefg\x7f~ hijklmnop\"",
        "\"abcdefghijklmnopq\xff\"", "\"0123456\\u00e9789abcdef\"", "\"abcdefghijklmno\x01\"",
        "\"                                \""};
    uint64_t r = rng_next(s);
    if (depth > 0 && r % 7 == 0) {
        static const char *const keys[] = {"a", "b", "c", "c.d", "x",
                                           "y", "z", "u", "",    "a\\u0062"};
        int nk = (int)(rng_next(s) % 5);
        assert_int_equal(buf_putc(out, '{'), 0);
        for (int k = 0; k < nk; k++) {
            assert_int_equal(buf_printf(out, "%s\"%s\": ", k ? ", " : "",
                                        keys[rng_next(s) % (sizeof(keys) / sizeof(keys[0]))]),
                             0);
            gen_value(out, s, depth - 1);
        }
        assert_int_equal(buf_putc(out, '}'), 0);
    } else if (depth > 0 && r % 7 == 1) {
        int nk = (int)(rng_next(s) % 4);
        assert_int_equal(buf_putc(out, '['), 0);
        for (int k = 0; k < nk; k++) {
            assert_int_equal(buf_puts(out, k ? ", " : ""), 0);
            gen_value(out, s, depth - 1);
        }
        assert_int_equal(buf_putc(out, ']'), 0);
    } else {
        assert_int_equal(buf_puts(out, scalars[r % (sizeof(scalars) / sizeof(scalars[0]))]), 0);
    }
}

static void test_json_fast_parser(void **state)
{
    (void)state;
    struct ingest_spec spec;
    struct column_spec cols[5];
    const char *fixed[] = {
        "{\"a\": 1, \"b\": {\"c\": \"x\"}, \"c.d\": 2.5, \"x\": {\"y\": {\"z\": true}}, \"u\": "
        "null}",
        "{\"c\": {\"d\": \"path\"}}",
        "{\"c.d\": 1, \"c\": {\"d\": 2}}",
        "  {\"a\" : -0 , \"u\" :\"\\u00e9\\ud83d\\ude00\"}  \t",
        "{\"a\": 1, \"a\": 2}",
        "{\"b\": {\"c\": 1, \"c\": 2}}",
        "{\"z\": {\"q\": [1, {\"k\": 1, \"k\": 2}]}}",
        "{\"a\": [1, 2]}",
        "{\"b\": {\"c\": {\"d\": 1}}}",
        "{\"b\": 5, \"x\": {\"y\": 3}}",
        "{\"a\": 1} x",
        "{\"a\": 1,}",
        "[1]",
        "5",
        "",
        "{\"a\": 1e400}",
        "{\"a\": 9223372036854775808}",
        "{\"a\\u0062\": 1}",
        "{\"a\": \"\\u0000\"}",
        "{\"u\": \"tab\there\"}",
        "\xEF\xBB\xBF{\"a\": 1}",
    };
    for (int f = 0; f < 2; f++) {
        make_wide_spec(&spec, cols, f == 0 ? INPUT_NDJSON : INPUT_JSON);
        for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
            same_as_jansson(&spec, fixed[k], strlen(fixed[k]));
        }
    }
    /* The first record is taken by the fast parser itself, the duplicate key is not. */
    make_wide_spec(&spec, cols, INPUT_NDJSON);
    assert_true(same_as_jansson(&spec, fixed[0], strlen(fixed[0])));
    assert_false(same_as_jansson(&spec, fixed[4], strlen(fixed[4])));
    /* Random records: objects of the columns' keys holding random values, with random damage. */
    uint64_t seed = 12345;
    size_t readable = 0;
    struct buf rec = BUF_INIT;
    for (int it = 0; it < 12000; it++) {
        buf_reset(&rec);
        static const char *const keys[] = {"a", "b", "c.d", "c", "x", "u", "w"};
        int nk = (int)(rng_next(&seed) % 6);
        assert_int_equal(buf_putc(&rec, '{'), 0);
        for (int k = 0; k < nk; k++) {
            assert_int_equal(buf_printf(&rec, "%s\"%s\":%s", k ? "," : "",
                                        keys[rng_next(&seed) % (sizeof(keys) / sizeof(keys[0]))],
                                        rng_next(&seed) % 3 ? " " : "\n"),
                             0);
            gen_value(&rec, &seed, 3);
        }
        assert_int_equal(buf_putc(&rec, '}'), 0);
        if (rng_next(&seed) % 10 == 0 && rec.len > 0) {
            rec.data[rng_next(&seed) % rec.len] = (char)(rng_next(&seed) & 0xFF);
        }
        readable += same_as_jansson(&spec, rec.data, rec.len);
    }
    buf_release(&rec);
    /* The generator reaches both paths. */
    assert_true(readable > 1200);
    assert_true(readable < 10800);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codecs_round_trip), cmocka_unit_test(test_sniff_and_names),
        cmocka_unit_test(test_skip_hash),
        cmocka_unit_test(test_ndjson_reader),     cmocka_unit_test(test_json_reader),
        cmocka_unit_test(test_json_array_strings),
        cmocka_unit_test(test_mutated_inputs),    cmocka_unit_test(test_json_all_keys_missing),
        cmocka_unit_test(test_json_fast_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
