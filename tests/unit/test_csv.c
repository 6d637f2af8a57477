/*
 * test_csv.c - the CSV reader: RFC 4180 cases, line numbers, encodings, chunk boundaries, hashing,
 * limits, and a differential test against a deliberately simple byte-at-a-time reference parser.
 *
 * Results are compared as text: each record becomes one line
 *   <start line>[U]: [<flags>|<value>][...] raw=<raw>
 * where flags are q (quoted) and b (bad encoding), U marks an unterminated record, and bytes
 * outside printable ASCII are written \r, \n or \xHH. Expected strings are written by hand.
 */
#include "input/csv.h"
#include "util/buf.h"

#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

/* An fd holding exactly the n bytes at p, positioned at 0. */
static int mem_fd(const void *p, size_t n)
{
    int fd = memfd_create("csv-test", 0);
    assert_true(fd >= 0);
    const char *s = p;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, s + off, n - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static void put_escaped(struct buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        int rc;
        if (c == '\r') {
            rc = buf_puts(b, "\\r");
        } else if (c == '\n') {
            rc = buf_puts(b, "\\n");
        } else if (c == '\\' || c == ']' || c < 0x20 || c >= 0x7F) {
            rc = buf_printf(b, "\\x%02X", c);
        } else {
            rc = buf_putc(b, (char)c);
        }
        assert_int_equal(rc, 0);
    }
}

static void put_rows(struct buf *b, const struct record_block *rows)
{
    for (size_t i = 0; i < rows->nrows; i++) {
        assert_int_equal(buf_printf(b, "%llu%s:", (unsigned long long)rows->line[i],
                                    (rows->row_flags[i] & REC_R_UNTERMINATED) ? "U" : ""),
                         0);
        assert_true(rows->row_first[i] <= rows->row_first[i + 1]);
        for (uint32_t f = rows->row_first[i]; f < rows->row_first[i + 1]; f++) {
            const struct record_field *fd = &rows->fields[f];
            assert_int_equal(buf_printf(b, "[%s%s|", (fd->flags & REC_F_QUOTED) ? "q" : "",
                                        (fd->flags & REC_F_BAD_ENCODING) ? "b" : ""),
                             0);
            put_escaped(b, fd->p, fd->len);
            assert_int_equal(buf_putc(b, ']'), 0);
        }
        assert_int_equal(buf_puts(b, " raw="), 0);
        put_escaped(b, rows->raw[i], rows->raw_len[i]);
        assert_int_equal(buf_putc(b, '\n'), 0);
    }
}

/* buf_detach() of a never-written buffer does not NUL-terminate (util/buf.c): terminate here. */
static char *detach_str(struct buf *b)
{
    assert_int_equal(buf_reserve(b, 0), 0);
    b->data[b->len] = '\0';
    size_t len;
    char *s = buf_detach(b, &len);
    assert_non_null(s);
    return s;
}

/* A reader on fd through its own source, as the engine opens one. */
struct trd {
    struct source *src;
    struct csv_reader *r;
};

static int open_reader(struct trd *t, int fd, const char *name, const struct csv_options *o,
                       struct err *e)
{
    t->r = NULL;
    int rc = source_open(&t->src, fd, name, e);
    return rc != 0 ? rc : csv_reader_open(&t->r, t->src, o, e);
}

static void close_reader(struct trd *t)
{
    csv_reader_free(t->r);
    source_free(t->src);
}

/* Parses n bytes at p; returns the result text (caller frees), or on failure "ERR <code>: msg". */
static char *parse_ex(const void *p, size_t n, const struct csv_options *o, size_t chunk,
                      size_t max_rows, size_t max_record)
{
    struct buf out = BUF_INIT;
    struct err e = {0};
    struct trd t;
    struct record_block rows = {0};
    int fd = mem_fd(p, n);
    int rc = open_reader(&t, fd, "t.csv", o, &e);
    struct csv_reader *r = t.r;
    if (rc == 0) {
        csv_reader_set_chunk_size(r, chunk);
        csv_reader_set_max_record(r, max_record);
        for (;;) {
            rc = csv_reader_next(r, &rows, max_rows, &e);
            if (rc != 0 || rows.nrows == 0) {
                break;
            }
            assert_true(rows.nrows <= max_rows);
            put_rows(&out, &rows);
        }
    }
    if (rc == 0) {
        assert_int_equal(source_bytes(t.src), n);
    } else {
        buf_reset(&out);
        assert_int_equal(buf_printf(&out, "ERR %d: %s", rc, e.msg), 0);
    }
    record_block_release(&rows);
    close_reader(&t);
    close(fd);
    return detach_str(&out);
}

static char *parse_o(const char *s, size_t n, const struct csv_options *o)
{
    return parse_ex(s, n, o, 0, 1000, 0);
}

static void check_o(const char *in, size_t n, const struct csv_options *o, const char *want)
{
    char *got = parse_o(in, n, o);
    assert_string_equal(got, want);
    free(got);
}

#define CHECK(in, want) check_o((in), sizeof(in) - 1, NULL, (want))
#define CHECK_O(in, o, want) check_o((in), sizeof(in) - 1, (o), (want))

/* ------------------------------------------------------------------------------------------- */

static void test_basic_lf(void **state)
{
    (void)state;
    CHECK("a,b,c\n1,22,333\n", "1:[|a][|b][|c] raw=a,b,c\n"
                               "2:[|1][|22][|333] raw=1,22,333\n");
}

static void test_crlf(void **state)
{
    (void)state;
    CHECK("a,b\r\n1,2\r\n", "1:[|a][|b] raw=a,b\n"
                            "2:[|1][|2] raw=1,2\n");
    /* A lone CR is data; only CR LF ends a record. */
    CHECK("a\rb,c\r\n", "1:[|a\\rb][|c] raw=a\\rb,c\n");
    /* An empty last field before CR LF. */
    CHECK("a,\r\n", "1:[|a][|] raw=a,\n");
}

static void test_quoted(void **state)
{
    (void)state;
    CHECK("\"a,b\",\"c\"\"d\",e\n", "1:[q|a,b][q|c\"d][|e] raw=\"a,b\",\"c\"\"d\",e\n");
    CHECK("\"\"\"\"\n", "1:[q|\"] raw=\"\"\"\"\n");
    CHECK("x,\"a\"\"\"\r\n", "1:[|x][q|a\"] raw=x,\"a\"\"\"\n");
    /* A quote inside an unquoted field is an ordinary byte. */
    CHECK("a\"b,c\n", "1:[|a\"b][|c] raw=a\"b,c\n");
}

static void test_line_breaks_in_quotes(void **state)
{
    (void)state;
    CHECK("\"x\r\ny\",z\r\nn,m\r\n", "1:[q|x\\r\\ny][|z] raw=\"x\\r\\ny\",z\n"
                                     "3:[|n][|m] raw=n,m\n");
    CHECK("h1,h2\n\"x\ny\nz\",1\n2,3\n", "1:[|h1][|h2] raw=h1,h2\n"
                                         "2:[q|x\\ny\\nz][|1] raw=\"x\\ny\\nz\",1\n"
                                         "5:[|2][|3] raw=2,3\n");
}

static void test_bom(void **state)
{
    (void)state;
    CHECK("\xEF\xBB\xBF"
          "a,b\n",
          "1:[|a][|b] raw=a,b\n");
    CHECK("\xEF\xBB\xBF\"a\",b\n", "1:[q|a][|b] raw=\"a\",b\n");
    /* Only at the start. */
    CHECK("a\n\xEF\xBB\xBF"
          "b\n",
          "1:[|a] raw=a\n2:[|\\xEF\\xBB\\xBFb] raw=\\xEF\\xBB\\xBFb\n");
    CHECK("\xEF\xBB\xBF", "");
}

static void test_last_record_without_newline(void **state)
{
    (void)state;
    CHECK("a,b\nc,d", "1:[|a][|b] raw=a,b\n2:[|c][|d] raw=c,d\n");
    CHECK("a,b\n\"c\"", "1:[|a][|b] raw=a,b\n2:[q|c] raw=\"c\"\n");
    CHECK("a,", "1:[|a][|] raw=a,\n");
    CHECK("", "");
    CHECK("x", "1:[|x] raw=x\n");
}

static void test_empty_fields(void **state)
{
    (void)state;
    CHECK(",\"\",\n", "1:[|][q|][|] raw=,\"\",\n");
    CHECK("\"\"\n", "1:[q|] raw=\"\"\n");
}

static void test_delimiters(void **state)
{
    (void)state;
    struct csv_options semi = {NULL, ';', '"', 0};
    CHECK_O("a;\"b;c\";d,e\n", &semi, "1:[|a][q|b;c][|d,e] raw=a;\"b;c\";d,e\n");
    struct csv_options tab = {NULL, '\t', '"', 0};
    CHECK_O("a\tb c\t\"d\te\"\n", &tab, "1:[|a][|b c][q|d\\x09e] raw=a\\x09b c\\x09\"d\\x09e\"\n");
    /* Quoting disabled: quotes are data. */
    struct csv_options noq = {NULL, ',', 0, 0};
    CHECK_O("\"a,b\"\n", &noq, "1:[|\"a][|b\"] raw=\"a,b\"\n");
    /* Invalid dialects. */
    struct csv_options bad = {NULL, '"', '"', 0};
    CHECK_O("x", &bad,
            "ERR -3: t.csv: the CSV delimiter, quote and escape must be distinct ASCII characters "
            "other than CR and LF");
}

static void test_escape(void **state)
{
    (void)state;
    struct csv_options bs = {NULL, ',', '"', '\\'};
    CHECK_O("\"a\\\"b\",c\\,d,\"x\"\"y\"\n", &bs,
            "1:[q|a\"b][|c,d][q|x\"y] raw=\"a\\x5C\"b\",c\\x5C,d,\"x\"\"y\"\n");
    /* An escaped LF in an unquoted field is data and still counts as a physical line. */
    CHECK_O("a\\\nb,c\nd\n", &bs, "1:[|a\\nb][|c] raw=a\\x5C\\nb,c\n3:[|d] raw=d\n");
    /* An escaped CR before LF is data; the LF ends the record. */
    CHECK_O("a\\\r\nb\n", &bs, "1:[|a\\r] raw=a\\x5C\\r\n2:[|b] raw=b\n");
    /* Plain CR LF after an escape-containing field is stripped. */
    CHECK_O("\\a\r\n", &bs, "1:[|a] raw=\\x5Ca\n");
    /* Escape at end of file. */
    CHECK_O("a\\", &bs, "1:[|a\\x5C] raw=a\\x5C\n");
    CHECK_O("\"a\\", &bs, "1U:[q|a\\x5C] raw=\"a\\x5C\n");
    /* Escape equal to the quote means doubling. */
    struct csv_options qq = {NULL, ',', '"', '"'};
    CHECK_O("\"a\"\"b\"\n", &qq, "1:[q|a\"b] raw=\"a\"\"b\"\n");
}

static void test_blank_lines(void **state)
{
    (void)state;
    CHECK("a\n\n\r\nb\n\nc", "1:[|a] raw=a\n4:[|b] raw=b\n6:[|c] raw=c\n");
    CHECK("\n\na\n", "3:[|a] raw=a\n");
    CHECK("\n\n\n", "");
    /* A line of spaces or a lone delimiter is a record. */
    CHECK(" \n,\n", "1:[| ] raw= \n2:[|][|] raw=,\n");
}

static void test_unterminated(void **state)
{
    (void)state;
    CHECK("a,\"bc\nd", "1U:[|a][q|bc\\nd] raw=a,\"bc\\nd\n");
    CHECK("x\n\"", "1:[|x] raw=x\n2U:[q|] raw=\"\n");
    CHECK("\"a\"\"b", "1U:[q|a\"b] raw=\"a\"\"b\n");
}

static void test_junk_after_quote(void **state)
{
    (void)state;
    CHECK("\"ab\"c,d\n", "1:[q|abc][|d] raw=\"ab\"c,d\n");
    CHECK("\"ab\"c\"d\"\r\n", "1:[q|abc\"d\"] raw=\"ab\"c\"d\"\n");
    CHECK("\"a\" ,b", "1:[q|a ][|b] raw=\"a\" ,b\n");
    CHECK("\"a\"\r", "1:[q|a\\r] raw=\"a\"\\r\n");
}

static void test_windows_1252(void **state)
{
    (void)state;
    struct csv_options o = {"windows-1252", ',', '"', 0};
    CHECK_O("caf\xE9,\x80\n", &o,
            "1:[|caf\\xC3\\xA9][|\\xE2\\x82\\xAC] raw=caf\\xC3\\xA9,\\xE2\\x82\\xAC\n");
    /* 0x81 is not a character in CP1252: kept as the raw byte and flagged, only in its field. */
    CHECK_O("a\x81"
            "b,c\n",
            &o, "1:[b|a\\x81b][|c] raw=a\\x81b,c\n");
    struct csv_options cp = {"CP1252", ';', '"', 0};
    CHECK_O("\"\x8D\";\xE9\n", &cp, "1:[qb|\\x8D][|\\xC3\\xA9] raw=\"\\x8D\";\\xC3\\xA9\n");
}

static void test_latin1(void **state)
{
    (void)state;
    const char *names[] = {"latin1", "latin-1", "LATIN_1", "ISO-8859-1", "iso8859-1"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct csv_options o = {names[i], ',', '"', 0};
        CHECK_O("\xE9\x81\n", &o, "1:[|\\xC3\\xA9\\xC2\\x81] raw=\\xC3\\xA9\\xC2\\x81\n");
    }
}

/* Every byte 0x80..0xFF as its own field, compared with iconv converting that byte alone: the
 * table fast path (windows-1252, latin1, ...) and the plain iconv path (ISO-8859-7, KOI8-R) must
 * both give iconv's answer, and the raw byte with flag b where iconv rejects it. */
static void test_single_byte_charsets(void **state)
{
    (void)state;
    const char *names[] = {"windows-1252", "cp1250", "WINDOWS-1251", "latin1",
                           "ISO-8859-15",  "ascii",  "ISO-8859-7",   "KOI8-R"};
    char in[128 * 2];
    for (int b = 0x80; b < 0x100; b++) {
        in[(b - 0x80) * 2] = (char)b;
        in[(b - 0x80) * 2 + 1] = b == 0xFF ? '\n' : ',';
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        iconv_t cd = iconv_open("UTF-8", names[k]);
        assert_true(cd != (iconv_t)-1);
        struct buf want = BUF_INIT, raw = BUF_INIT;
        assert_int_equal(buf_puts(&want, "1:"), 0);
        size_t nbad = 0;
        for (int b = 0x80; b < 0x100; b++) {
            char src = (char)b, dst[8];
            char *ip = &src, *op = dst;
            size_t il = 1, ol = sizeof(dst);
            (void)iconv(cd, NULL, NULL, NULL, NULL);
            size_t rc = iconv(cd, &ip, &il, &op, &ol);
            bool bad = rc == (size_t)-1;
            const char *v = bad ? &src : dst;
            size_t vn = bad ? 1 : sizeof(dst) - ol;
            nbad += bad;
            assert_int_equal(buf_puts(&want, bad ? "[b|" : "[|"), 0);
            put_escaped(&want, v, vn);
            assert_int_equal(buf_putc(&want, ']'), 0);
            assert_int_equal(buf_append(&raw, v, vn), 0);
            if (b != 0xFF) {
                assert_int_equal(buf_putc(&raw, ','), 0);
            }
        }
        iconv_close(cd);
        assert_int_equal(buf_puts(&want, " raw="), 0);
        put_escaped(&want, raw.data, raw.len);
        assert_int_equal(buf_putc(&want, '\n'), 0);
        /* Sanity of the oracle itself: CP1252 rejects exactly 5 bytes, ASCII all 128. */
        if (k == 0) {
            assert_int_equal(nbad, 5);
        } else if (k == 5) {
            assert_int_equal(nbad, 128);
        }
        struct csv_options o = {names[k], ',', '"', 0};
        for (size_t chunk = 1; chunk <= 300; chunk += 37) {
            char *got = parse_ex(in, sizeof(in), &o, chunk, 1, 0);
            assert_string_equal(got, want.data);
            free(got);
        }
        buf_release(&want);
        buf_release(&raw);
    }
}

static void test_unknown_encoding(void **state)
{
    (void)state;
    struct csv_options o = {"klingon-8", ',', '"', 0};
    char *got = parse_o("a", 1, &o);
    assert_non_null(strstr(got, "ERR -3: t.csv: unknown encoding 'klingon-8'"));
    free(got);
    struct csv_options empty = {"", ',', '"', 0};
    got = parse_o("a", 1, &empty);
    assert_non_null(strstr(got, "ERR -3: t.csv: unknown encoding ''"));
    free(got);
    /* Python's UTF-8 spellings stay on the validating UTF-8 path. */
    const char *utf8[] = {"UTF-8", "utf8", "utf_8", "utf-8-sig"};
    for (size_t i = 0; i < 4; i++) {
        struct csv_options u = {utf8[i], ',', '"', 0};
        CHECK_O("\xEF\xBB\xBF\xC3\xA9,\xC3\n", &u,
                "1:[|\\xC3\\xA9][b|\\xC3] raw=\\xC3\\xA9,\\xC3\n");
    }
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    CHECK("ok,\xC3(,\xE2\x82\xAC\n",
          "1:[|ok][b|\\xC3(][|\\xE2\\x82\\xAC] raw=ok,\\xC3(,\\xE2\\x82\\xAC\n");
    /* Overlong, surrogate, above U+10FFFF, truncated, lone continuation, 0xFF; then valid 4-byte.
     */
    CHECK("\xC0\xAF,\xED\xA0\x80,\xF4\x90\x80\x80,\xE2\x82,\x80,\xFF,\xF0\x9F\x98\x80\n",
          "1:[b|\\xC0\\xAF][b|\\xED\\xA0\\x80][b|\\xF4\\x90\\x80\\x80][b|\\xE2\\x82][b|\\x80][b|"
          "\\xFF]"
          "[|\\xF0\\x9F\\x98\\x80] "
          "raw=\\xC0\\xAF,\\xED\\xA0\\x80,\\xF4\\x90\\x80\\x80,\\xE2\\x82,\\x80,"
          "\\xFF,\\xF0\\x9F\\x98\\x80\n");
    /* In a quoted field, and in the last field of a file without a final line break. */
    CHECK("\"a\xFE\",\xC3\xA9\nb,\xC3", "1:[qb|a\\xFE][|\\xC3\\xA9] raw=\"a\\xFE\",\\xC3\\xA9\n"
                                        "2:[|b][b|\\xC3] raw=b,\\xC3\n");
}

static void test_utf16(void **state)
{
    (void)state;
    /* "a,é\r\n\"b\"\n" in UTF-16LE with a BOM. */
    static const char le[] = "\xFF\xFE"
                             "a\0,\0\xE9\0\r\0\n\0\"\0b\0\"\0\n\0";
    struct csv_options o = {"UTF-16", ',', '"', 0};
    char *got = parse_o(le, sizeof(le) - 1, &o);
    assert_string_equal(got, "1:[|a][|\\xC3\\xA9] raw=a,\\xC3\\xA9\n2:[q|b] raw=\"b\"\n");
    free(got);
    /* Big-endian with a BOM. */
    static const char be[] = "\xFE\xFF\0x\0;\0y";
    struct csv_options ob = {"utf-16", ';', '"', 0};
    got = parse_o(be, sizeof(be) - 1, &ob);
    assert_string_equal(got, "1:[|x][|y] raw=x;y\n");
    free(got);
    /* utf-16le names the byte order, so its BOM is U+FEFF in the text: dropped like a UTF-8 BOM. */
    struct csv_options ol = {"utf-16le", ',', '"', 0};
    got = parse_o(le, sizeof(le) - 1, &ol);
    assert_string_equal(got, "1:[|a][|\\xC3\\xA9] raw=a,\\xC3\\xA9\n2:[q|b] raw=\"b\"\n");
    free(got);
    /* An unpaired surrogate (0xDC00) flags its field; the two bytes are kept, alignment too. */
    static const char bad[] = "\xFF\xFE"
                              "a\0\x00\xDC,\0b\0";
    got = parse_o(bad, sizeof(bad) - 1, &o);
    assert_string_equal(got, "1:[b|a\\x00\\xDC][|b] raw=a\\x00\\xDC,b\n");
    free(got);
    /* An odd trailing byte is an incomplete sequence: kept and flagged. */
    static const char odd[] = "\xFF\xFE"
                              "a\0,\0b\0c";
    got = parse_o(odd, sizeof(odd) - 1, &o);
    assert_string_equal(got, "1:[|a][b|bc] raw=a,bc\n");
    free(got);
}

static void test_rejected_special_byte(void **state)
{
    (void)state;
    /* ASCII read as UTF-16LE: "a\n" is U+0A61, fine; an unpaired low surrogate whose first byte is
     * ',' must not split the field: written as 0xFF then 0xDC. */
    static const char in[] = "\xFF\xFE"
                             "a\0,\xDC"
                             "b\0";
    struct csv_options o = {"UTF-16", ',', '"', 0};
    char *got = parse_o(in, sizeof(in) - 1, &o);
    assert_string_equal(got, "1:[b|a\\xFF\\xDCb] raw=a\\xFF\\xDCb\n");
    free(got);
    /* A UTF-8 "é" read as ASCII: the raw bytes look like valid UTF-8, the field is still flagged.
     */
    struct csv_options a = {"ASCII", ',', '"', 0};
    CHECK_O("x,\xC3\xA9\n", &a, "1:[|x][b|\\xC3\\xA9] raw=x,\\xC3\\xA9\n");
}

/* ------------------------------------------------------------------------------------------- */

static const char *const corpus[] = {
    "a,b,c\n1,22,333\n",
    "\xEF\xBB\xBF\"x\r\ny\",z\r\n\r\n\"q\"\"\"\"r\",\"\"\n\nlast,\"unterminated\r\n",
    "\"ab\"c,d\n\"a\" ,b\r\n\"a\"\r",
    "ok,\xC3(,\xE2\x82\xAC\n\"\xC3\xA9\xC3\",\xF0\x9F\x98\x80,\xED\xA0\x80\r\nz",
    "\n\n\r\n\r\n,\n,,\n\"\"\n",
    "x\r",
    "\"",
    "a\\,b,\"c\\\"d\",e\\\nf\r\ng",
};

static void assert_chunks_agree(const char *in, size_t n, const struct csv_options *o)
{
    char *whole = parse_ex(in, n, o, 1 << 20, 100000, 0);
    static const size_t max_rows[] = {1, 2, 3, 1000};
    for (size_t chunk = 1; chunk <= n + 1; chunk++) {
        for (size_t m = 0; m < sizeof(max_rows) / sizeof(max_rows[0]); m++) {
            char *got = parse_ex(in, n, o, chunk, max_rows[m], 0);
            if (strcmp(got, whole) != 0) {
                fail_msg("chunk %zu, max_rows %zu:\n%s\n--- whole:\n%s", chunk, max_rows[m], got,
                         whole);
            }
            free(got);
        }
    }
    free(whole);
}

/* A byte-order mark that contradicts the declared encoding fails at once, whatever the read
 * sizes (chunks of 1 byte decide as one read does), and no record is handed out before it. */
static void test_bom_contradicts(void **state)
{
    (void)state;
    static const char le[] = "\xFF\xFE"
                             "a\0,\0b\0\n\0";
    struct csv_options latin = {"latin-1", ',', '"', 0};
    char *got = parse_o(le, sizeof(le) - 1, NULL);
    assert_string_equal(got, "ERR -5: t.csv: line 1: this file is UTF-16 (it starts with a UTF-16 "
                             "LE byte-order mark), not utf-8: set encoding: utf-16");
    free(got);
    got = parse_o(le, sizeof(le) - 1, &latin);
    assert_string_equal(got, "ERR -5: t.csv: line 1: this file is UTF-16 (it starts with a UTF-16 "
                             "LE byte-order mark), not latin-1: set encoding: utf-16");
    free(got);
    assert_chunks_agree(le, sizeof(le) - 1, NULL);
    assert_chunks_agree(le, sizeof(le) - 1, &latin);
    static const char be[] = "\xFE\xFF\0a\0\n";
    got = parse_o(be, sizeof(be) - 1, NULL);
    assert_non_null(strstr(got, "UTF-16 BE byte-order mark), not utf-8: set encoding: utf-16"));
    free(got);
    /* UTF-32 LE starts with the UTF-16 LE mark: four bytes decide, even read one by one. */
    static const char u32[] = "\xFF\xFE\0\0a\0\0\0\n\0\0\0";
    struct csv_options u16 = {"utf-16", ',', '"', 0};
    got = parse_o(u32, sizeof(u32) - 1, &u16);
    assert_non_null(strstr(got, "this file is UTF-32 (it starts with a UTF-32 LE byte-order mark), "
                                "not utf-16: set encoding: utf-32"));
    free(got);
    assert_chunks_agree(u32, sizeof(u32) - 1, &u16);
    /* A UTF-8 BOM read as latin-1; a short file that is only a mark. */
    got = parse_o("\xEF\xBB\xBF"
                  "a\n",
                  5, &latin);
    assert_non_null(strstr(got, "this file is UTF-8 (it starts with a UTF-8 byte-order mark), not "
                                "latin-1: set encoding: utf-8"));
    free(got);
    assert_chunks_agree("\xFF\xFE\n", 3, NULL);
    got = parse_o("\xFF\xFE", 2, NULL);
    assert_non_null(strstr(got, "this file is UTF-16"));
    free(got);
    /* Marks that agree, and files too short to hold one, read as before. */
    CHECK("\xEF\xBB\xBF"
          "a\n",
          "1:[|a] raw=a\n");
    CHECK("a\n", "1:[|a] raw=a\n");
    CHECK("\xFF", "1:[b|\\xFF] raw=\\xFF\n");
}

static void test_chunk_boundaries(void **state)
{
    (void)state;
    struct csv_options bs = {NULL, ',', '"', '\\'};
    for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        assert_chunks_agree(corpus[i], strlen(corpus[i]), NULL);
        assert_chunks_agree(corpus[i], strlen(corpus[i]), &bs);
    }
    /* Long fields that cross the scanner's 64-byte blocks, with multibyte text near the edges. */
    struct buf b = BUF_INIT;
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < i * 3; k++) {
            assert_int_equal(buf_putc(&b, (char)('a' + k % 26)), 0);
        }
        assert_int_equal(buf_puts(&b, i % 3 == 0 ? "\xC3\xA9" : i % 3 == 1 ? "\xC3" : "\"q\""), 0);
        assert_int_equal(buf_puts(&b, i % 5 == 0 ? "\n" : ","), 0);
    }
    assert_chunks_agree(b.data, b.len, NULL);
    buf_release(&b);

    /* Encodings: split points inside multibyte source sequences. */
    struct csv_options w = {"windows-1252", ',', '"', 0};
    static const char w1252[] = "caf\xE9,\x81x\n\"\x80\r\n\x8D\"\n";
    assert_chunks_agree(w1252, sizeof(w1252) - 1, &w);
    static const char u16[] = "\xFF\xFE"
                              "a\0,\0\xE9\0\r\0\n\0\"\0b\0\"\0\n\0\x3D\xD8\x00\xDE\x00\xDC"
                              "c\0";
    struct csv_options o16 = {"UTF-16", ',', '"', 0};
    assert_chunks_agree(u16, sizeof(u16) - 1, &o16);
}

/* Reading into two record_block in turn (as the pool's blocks are), each claimed with
 * record_block_claim() before it is refilled (the first time while still empty), gives what reading
 * into one record_block gives: claiming changes nothing visible. */
static void test_rows_claim(void **state)
{
    (void)state;
    struct buf in = BUF_INIT;
    for (int i = 0; i < 500; i++) {
        assert_int_equal(buf_printf(&in,
                                    i % 4 == 0 ? "%d,\"a \"\"q\"\"\nb\",x\n" : "%d,plain,%s\r\n", i,
                                    i % 3 == 0 ? "\xC3\xA9t\xC3\xA9" : ""),
                         0);
    }
    char *want = parse_ex(in.data, in.len, NULL, 97, 13, 0);
    struct buf out = BUF_INIT;
    struct err e = {0};
    struct trd t;
    struct record_block rows[2] = {{0}, {0}};
    int fd = mem_fd(in.data, in.len);
    assert_int_equal(open_reader(&t, fd, "t.csv", NULL, &e), 0);
    struct csv_reader *r = t.r;
    csv_reader_set_chunk_size(r, 97);
    for (size_t k = 0;; k++) {
        struct record_block *q = &rows[k % 2];
        record_block_claim(q);
        assert_int_equal(csv_reader_next(r, q, 13, &e), 0);
        if (q->nrows == 0) {
            break;
        }
        put_rows(&out, q);
    }
    char *got = detach_str(&out);
    assert_string_equal(got, want);
    free(got);
    free(want);
    record_block_release(&rows[0]);
    record_block_release(&rows[1]);
    close_reader(&t); /* the reader and its source */
    close(fd);
    buf_release(&in);
}

static void test_line_numbers_many(void **state)
{
    (void)state;
    /* 3000 records, every third with an embedded line break and every fifth followed by a blank
     * line, read 7 rows at a time with tiny chunks: each start line is computed independently. */
    struct buf in = BUF_INIT, want = BUF_INIT;
    unsigned long line = 1;
    for (int i = 0; i < 3000; i++) {
        if (i % 3 == 0) {
            assert_int_equal(buf_printf(&in, "%d,\"x\ny\"\n", i), 0);
            assert_int_equal(buf_printf(&want, "%lu:[|%d][q|x\\ny] raw=%d,\"x\\ny\"\n", line, i, i),
                             0);
            line += 2;
        } else {
            assert_int_equal(buf_printf(&in, "%d,v\r\n", i), 0);
            assert_int_equal(buf_printf(&want, "%lu:[|%d][|v] raw=%d,v\n", line, i, i), 0);
            line += 1;
        }
        if (i % 5 == 0) {
            assert_int_equal(buf_puts(&in, "\n"), 0);
            line++;
        }
    }
    char *got = parse_ex(in.data, in.len, NULL, 13, 7, 0);
    assert_string_equal(got, want.data);
    free(got);
    got = parse_ex(in.data, in.len, NULL, 0, 65536, 0);
    assert_string_equal(got, want.data);
    free(got);
    buf_release(&in);
    buf_release(&want);
}

static void test_sha256(void **state)
{
    (void)state;
    /* FIPS 180-2 example: sha256("abc"). */
    static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                          0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                          0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                          0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    struct buf big = BUF_INIT;
    for (int i = 0; i < 20000; i++) {
        assert_int_equal(buf_printf(&big, "%d,\"name %d\"\n", i, i * 7), 0);
    }
    struct {
        const char *p;
        size_t n;
        const char *enc;
    } cases[] = {{"abc", 3, NULL},
                 {big.data, big.len, NULL},
                 {big.data, big.len, "latin1"},
                 {"\xEF\xBB\xBFx", 4, NULL}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct csv_options o = {cases[c].enc, ',', '"', 0};
        int fd = mem_fd(cases[c].p, cases[c].n);
        struct trd t;
        struct record_block rows = {0};
        struct err e = {0};
        assert_int_equal(open_reader(&t, fd, "t.csv", &o, &e), 0);
        struct csv_reader *r = t.r;
        csv_reader_set_chunk_size(r, 4093);
        do {
            assert_int_equal(csv_reader_next(r, &rows, 1000, &e), 0);
        } while (rows.nrows > 0);
        unsigned char got[32], want[32];
        source_sha256(t.src, got);
        SHA256((const unsigned char *)cases[c].p, cases[c].n, want);
        assert_memory_equal(got, want, 32);
        if (c == 0) {
            assert_memory_equal(got, abc, 32);
        }
        assert_int_equal(source_bytes(t.src), cases[c].n);
        record_block_release(&rows);
        close_reader(&t);
        close(fd);
    }
    buf_release(&big);
}

static void test_max_record(void **state)
{
    (void)state;
    /* Limit 16: a 16-byte record passes, a 17-byte one on line 3 fails naming file and line. */
    const char *in = "aaaaaaaaaaaaaaaa\r\n\nbbbbbbbbbbbbbbbbb\n";
    static const size_t chunks[] = {1, 5, 64, 4096};
    for (size_t i = 0; i < 4; i++) {
        char *got = parse_ex(in, strlen(in), NULL, chunks[i], 1, 16);
        assert_string_equal(got, "ERR -5: t.csv: line 3: a record is longer than 16 bytes; this is "
                                 "almost always an unbalanced quote (check the quote character of "
                                 "this file)");
        free(got);
    }
    char *got = parse_ex(in, 18, NULL, 1, 1, 16);
    assert_string_equal(got, "1:[|aaaaaaaaaaaaaaaa] raw=aaaaaaaaaaaaaaaa\n");
    free(got);
}

static void test_max_record_real_limit(void **state)
{
    (void)state;
    /* The real limit: "ok\n" then an unbalanced quote opening a record of 64 MiB + 1 bytes. */
    size_t n = (size_t)CSV_MAX_RECORD_BYTES + 4;
    char *in = malloc(n);
    assert_non_null(in);
    memset(in, 'x', n);
    memcpy(in, "ok\n\"", 4);
    char *got = parse_ex(in, n, NULL, 0, 10, 0);
    assert_string_equal(got, "ERR -5: t.csv: line 2: a record is longer than 67108864 bytes; this "
                             "is almost always an unbalanced quote (check the quote character of "
                             "this file)");
    free(got);
    free(in);
}

static void test_sticky_error_and_reuse(void **state)
{
    (void)state;
    int fd = mem_fd("abcdefgh\n", 9);
    struct trd t;
    struct record_block rows = {0};
    struct err e = {0};
    assert_int_equal(open_reader(&t, fd, "s.csv", NULL, &e), 0);
    struct csv_reader *r = t.r;
    csv_reader_set_max_record(r, 4);
    assert_int_equal(csv_reader_next(r, &rows, 10, &e), AE_FORMAT);
    assert_int_equal(csv_reader_line(r), 1);
    struct err e2 = {0};
    assert_int_equal(csv_reader_next(r, &rows, 10, &e2), AE_FORMAT);
    assert_string_equal(e.msg, e2.msg);
    assert_int_equal(rows.nrows, 0);
    assert_int_equal(csv_reader_next(r, &rows, 0, &e2), AE_FORMAT);
    close_reader(&t);
    close(fd);
    /* Records before the one over the limit come out first; the next call fails at its line. */
    fd = mem_fd("ab\n\"c\nd\",e\nabcdefgh\nx\n", 22);
    assert_int_equal(open_reader(&t, fd, "s.csv", NULL, &e), 0);
    csv_reader_set_max_record(t.r, 7);
    assert_int_equal(csv_reader_next(t.r, &rows, 10, &e), 0);
    assert_int_equal(rows.nrows, 2);
    assert_int_equal(rows.line[1], 2);
    assert_int_equal(rows.row_flags[1], REC_R_MULTILINE);
    assert_int_equal(rows.row_flags[0], 0);
    assert_int_equal(csv_reader_next(t.r, &rows, 10, &e), AE_FORMAT);
    assert_int_equal(rows.nrows, 0);
    assert_int_equal(csv_reader_line(t.r), 4);
    assert_non_null(strstr(e.msg, "s.csv: line 4: a record is longer than 7 bytes"));
    close_reader(&t);
    close(fd);
    record_block_release(&rows);
    record_block_release(&rows);
    csv_reader_free(NULL);
}

/* ------------------------------------------------------------------------------------------- */
/* Differential test: a byte-at-a-time parser written straight from the rules in csv.h. */

static bool ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i], cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + k >= n) {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += k + 1;
    }
    return true;
}

static void ref_field(struct buf *out, const char *v, size_t n, bool quoted)
{
    bool bad = !ref_utf8((const unsigned char *)v, n);
    assert_int_equal(buf_printf(out, "[%s%s|", quoted ? "q" : "", bad ? "b" : ""), 0);
    put_escaped(out, v, n);
    assert_int_equal(buf_putc(out, ']'), 0);
}

static char *ref_parse(const char *s, size_t n, char esc)
{
    struct buf out = BUF_INIT, val = BUF_INIT, rec = BUF_INIT;
    size_t i = 0;
    unsigned long line = 1;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        i = 3;
    }
    while (i < n) {
        if (s[i] == '\n') {
            line++, i++;
            continue;
        }
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            line++, i += 2;
            continue;
        }
        size_t start = i, rend = n;
        unsigned long lines = 0;
        bool unterm = false;
        buf_reset(&rec);
        for (;;) { /* one field per turn */
            buf_reset(&val);
            bool quoted = i < n && s[i] == '"';
            int end = 0; /* 0 delimiter, 1 line break, 2 end of file */
            if (quoted) {
                i++;
                for (;;) {
                    if (i >= n) {
                        unterm = true;
                        break;
                    }
                    if (esc && s[i] == esc && i + 1 < n) {
                        lines += s[i + 1] == '\n';
                        assert_int_equal(buf_putc(&val, s[i + 1]), 0);
                        i += 2;
                    } else if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
                        assert_int_equal(buf_putc(&val, '"'), 0);
                        i += 2;
                    } else if (s[i] == '"') {
                        i++;
                        break;
                    } else {
                        lines += s[i] == '\n';
                        assert_int_equal(buf_putc(&val, s[i]), 0);
                        i++;
                    }
                }
            }
            /* Unquoted text, or the text after a closing quote (taken as written, no escapes). */
            bool after_quote = quoted, plain_cr = false;
            for (;;) {
                if (i >= n) {
                    end = 2;
                    break;
                }
                char c = s[i];
                if (!after_quote && esc && c == esc && i + 1 < n) {
                    lines += s[i + 1] == '\n';
                    assert_int_equal(buf_putc(&val, s[i + 1]), 0);
                    plain_cr = false;
                    i += 2;
                    continue;
                }
                if (c == ',') {
                    i++;
                    break;
                }
                if (c == '\n') {
                    rend = i;
                    if (plain_cr) {
                        val.len--;
                        rend = i - 1;
                    }
                    lines++;
                    i++;
                    end = 1;
                    break;
                }
                assert_int_equal(buf_putc(&val, c), 0);
                plain_cr = c == '\r';
                i++;
            }
            if (end == 2) {
                rend = n;
            }
            ref_field(&rec, val.data ? val.data : "", val.len, quoted);
            if (end != 0) {
                break;
            }
        }
        assert_int_equal(buf_printf(&out, "%lu%s:", line, unterm ? "U" : ""), 0);
        assert_int_equal(buf_append(&out, rec.data, rec.len), 0);
        assert_int_equal(buf_puts(&out, " raw="), 0);
        put_escaped(&out, s + start, rend - start);
        assert_int_equal(buf_putc(&out, '\n'), 0);
        line += lines;
    }
    buf_release(&val);
    buf_release(&rec);
    return detach_str(&out);
}

static void test_against_reference(void **state)
{
    (void)state;
    /* A fixed-seed generator over the bytes that matter, in long and short runs. */
    static const char *const atoms[] = {"a",
                                        "bc",
                                        ",",
                                        "\"",
                                        "\"\"",
                                        "\n",
                                        "\r\n",
                                        "\r",
                                        "\\",
                                        "\xC3\xA9",
                                        "\xC3",
                                        "\xFF",
                                        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                        "\xE2\x82\xAC",
                                        "\xED\xA0\x80"};
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    char buf[600];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t target = (size_t)(seed >> 33) % 500;
        while (n < target) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            const char *a = atoms[(seed >> 33) % (sizeof(atoms) / sizeof(atoms[0]))];
            size_t k = strlen(a);
            if (n + k > sizeof(buf)) {
                break;
            }
            memcpy(buf + n, a, k);
            n += k;
        }
        char esc = (iter & 1) ? '\\' : '\0';
        struct csv_options o = {NULL, ',', '"', esc};
        char *want = ref_parse(buf, n, esc);
        size_t chunk = (iter % 7 == 0) ? 1 + (seed >> 40) % 17 : 0;
        char *got = parse_ex(buf, n, &o, chunk, 1 + (seed >> 50) % 5, 0);
        if (strcmp(got, want) != 0) {
            struct buf in = BUF_INIT;
            put_escaped(&in, buf, n);
            fail_msg("iter %d esc %d input:\n%s\n--- got:\n%s\n--- reference:\n%s", iter, esc,
                     in.data, got, want);
        }
        free(got);
        free(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_lf),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_line_breaks_in_quotes),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_last_record_without_newline),
        cmocka_unit_test(test_empty_fields),
        cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_junk_after_quote),
        cmocka_unit_test(test_windows_1252),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_single_byte_charsets),
        cmocka_unit_test(test_unknown_encoding),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_bom_contradicts),
        cmocka_unit_test(test_rejected_special_byte),
        cmocka_unit_test(test_chunk_boundaries),
        cmocka_unit_test(test_rows_claim),
        cmocka_unit_test(test_line_numbers_many),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_max_record),
        cmocka_unit_test(test_max_record_real_limit),
        cmocka_unit_test(test_sticky_error_and_reuse),
        cmocka_unit_test(test_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
