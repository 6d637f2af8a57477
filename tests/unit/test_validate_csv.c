/*
 * test_validate_csv.c - the validator fed by the real CSV reader (src/csv) and writing through the
 * report sink: quoted vs unquoted empties, a multi-line field, a ragged row, an unterminated
 * quote, unique keys over several blocks, and the JSONL written for them, byte for byte.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "input/csv.h"
#include "validate/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc((size_t)n + 1, 1);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static struct column_spec col(const char *name, enum dtype id, bool nullable)
{
    struct column_spec c;
    memset(&c, 0, sizeof(c));
    c.name = (char *)name;
    c.type.id = id;
    c.nullable = nullable;
    c.required = true;
    return c;
}

/* Reads the file text (len bytes) through the CSV reader max_rows records at a time and
 * validates it, the header taken from the reader's first record as the engine does. */
static void run_file_n(const char *text, size_t len, const struct ingest_spec *s, size_t max_rows,
                       FILE *jsonl, struct validate_counts *counts, struct batch *keep_first)
{
    FILE *src = tmpfile();
    assert_non_null(src);
    assert_int_equal(fwrite(text, 1, len, src), len);
    fflush(src);
    rewind(src);
    struct err e;
    err_clear(&e);
    struct source *in = NULL;
    struct csv_reader *r = NULL;
    assert_int_equal(source_open(&in, fileno(src), "t.csv", &e), 0);
    assert_int_equal(csv_reader_open(&r, in, NULL, &e), 0);
    struct record_block rows;
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(csv_reader_next(r, &rows, max_rows, &e), 0);
    assert_true(rows.nrows > 0);
    struct report *rep = NULL;
    assert_int_equal(report_new(&rep, jsonl, "t.csv", &e), 0);
    struct failure_sink fs = report_sink(rep);
    struct validator *v = NULL;
    assert_int_equal(validator_new_from_record(&v, s, &rows, 0, &fs, &e), 0);
    if (validator_wants_prepass(v)) {
        /* A unique column's keys are read over the whole file first (as the engine does), then
         * the file is read again from its start. */
        size_t pfirst = 1;
        while (rows.nrows > 0) {
            assert_int_equal(validator_prepass(v, &rows, pfirst, &e), 0);
            pfirst = 0;
            assert_int_equal(csv_reader_next(r, &rows, max_rows, &e), 0);
        }
        assert_int_equal(validator_prepass_done(v, &e), 0);
        csv_reader_free(r);
        source_free(in);
        assert_int_equal(lseek(fileno(src), 0, SEEK_SET), 0);
        assert_int_equal(source_open(&in, fileno(src), "t.csv", &e), 0);
        assert_int_equal(csv_reader_open(&r, in, NULL, &e), 0);
        assert_int_equal(csv_reader_next(r, &rows, max_rows, &e), 0);
    }
    struct dtype_info types[16];
    size_t nc = validator_out_ncols(v);
    for (size_t c = 0; c < nc; c++) {
        types[c] = validator_out_type(v, c);
    }
    struct batch b;
    assert_int_equal(batch_init(&b, types, nc, VALIDATE_BATCH_ROWS), 0);
    size_t first = 1; /* the header is row 0 of the first block */
    bool kept = false;
    for (;;) {
        batch_reset(&b);
        assert_int_equal(validator_run(v, &rows, first, &b, &e), 0);
        if (!kept && keep_first != NULL) {
            /* Copy what the test inspects: validity and int64 values of column 0. */
            keep_first->nrows = b.nrows;
            memcpy(keep_first->row_ok, b.row_ok, b.nrows);
            memcpy(keep_first->line, b.line, b.nrows * sizeof(*b.line));
            kept = true;
        }
        first = 0;
        assert_int_equal(csv_reader_next(r, &rows, max_rows, &e), 0);
        if (rows.nrows == 0) {
            break;
        }
    }
    assert_int_equal(validator_finish(v, &e), 0);
    validator_counts(v, counts);
    batch_release(&b);
    validator_free(v);
    report_free(rep);
    record_block_release(&rows);
    csv_reader_free(r);
    source_free(in);
    fclose(src);
}

static void run_file(const char *text, const struct ingest_spec *s, size_t max_rows, FILE *jsonl,
                     struct validate_counts *counts, struct batch *keep_first)
{
    run_file_n(text, strlen(text), s, max_rows, jsonl, counts, keep_first);
}

static void test_reader_to_jsonl(void **state)
{
    (void)state;
    struct column_spec cols[3] = {col("id", DT_INT64, false), col("name", DT_STR, false),
                                  col("amount", DT_DECIMAL, true)};
    cols[0].unique = true;
    cols[2].type.precision = 5;
    cols[2].type.scale = 2;
    struct ingest_spec s;
    memset(&s, 0, sizeof(s));
    s.schema.cols = cols;
    s.schema.ncols = 3;
    const char *text = "id,name,amount\r\n"
                       "1,\"\",1.50\r\n"
                       "2,,\n"
                       "3,\"multi\nline\",x\n"
                       "4,b\n"
                       "\n"
                       "1,\"c\",2.00\n"
                       "6,\"open,3";
    FILE *jl = tmpfile();
    struct validate_counts c;
    struct batch keep;
    uint8_t ok[16];
    uint64_t lines[16];
    keep.row_ok = ok;
    keep.line = lines;
    run_file(text, &s, 1000, jl, &c, &keep);
    assert_int_equal(c.rows_read, 6);
    assert_int_equal(c.rows_valid, 0);
    assert_int_equal(c.rows_invalid, 6); /* id 1 fails at line 2 and at line 8 */
    assert_int_equal(c.failure_cases, 6);
    assert_int_equal(c.broken_records, 1); /* the unterminated quote; line 4's ragged row is one
                                              line, and "multi\nline" has the right field count */
    uint8_t want_ok[6] = {0, 0, 0, 0, 0, 0};
    uint64_t want_lines[6] = {2, 3, 4, 6, 8, 9};
    assert_int_equal(keep.nrows, 6);
    assert_memory_equal(ok, want_ok, 6);
    assert_memory_equal(lines, want_lines, sizeof(want_lines));
    char *got = slurp(jl);
    const char *want =
        "{\"file\":\"t.csv\",\"line\":2,\"column\":\"id\",\"check\":\"field_uniqueness\","
        "\"value\":\"1\",\"message\":\"'1' appears again, last at line 8 (column 'id' is unique; "
        "every occurrence fails)\",\"hint\":null,\"raw\":\"1,\\\"\\\",1.50\",\"level\":\"error\"}\n"
        "{\"file\":\"t.csv\",\"line\":3,\"column\":\"name\",\"check\":\"not_nullable\","
        "\"value\":null,\"message\":\"empty value but column 'name' is not nullable\","
        "\"hint\":null,\"raw\":\"2,,\",\"level\":\"error\"}\n"
        "{\"file\":\"t.csv\",\"line\":4,\"column\":\"amount\",\"check\":\"coerce_dtype('decimal(5,"
        "2)')\","
        "\"value\":\"x\",\"message\":\"'x' is not a valid decimal(5,2) (expected digits with an "
        "optional sign and "
        "point)\",\"hint\":null,\"raw\":\"3,\\\"multi\\nline\\\",x\",\"level\":\"error\"}\n"
        "{\"file\":\"t.csv\",\"line\":6,\"column\":null,\"check\":\"field_count\",\"value\":null,"
        "\"message\":\"expected 3 fields, found "
        "2\",\"hint\":null,\"raw\":\"4,b\",\"level\":\"error\"}\n"
        "{\"file\":\"t.csv\",\"line\":8,\"column\":\"id\",\"check\":\"field_uniqueness\",\"value\":"
        "\"1\","
        "\"message\":\"'1' was already seen at line 2 (column 'id' is unique; every "
        "occurrence fails)\",\"hint\":null,\"raw\":\"1,\\\"c\\\",2.00\",\"level\":\"error\"}\n"
        "{\"file\":\"t.csv\",\"line\":9,\"column\":null,\"check\":\"unterminated_quote\","
        "\"value\":null,\"message\":\"a quote opened in this record is never closed: the file "
        "ends inside it, so the file fails whatever its bad-row threshold\",";
    assert_memory_equal(got, want, strlen(want));
    free(got);
    fclose(jl);
}

static void test_unique_many_blocks(void **state)
{
    (void)state;
    /* 200000 distinct keys read 777 records at a time (many blocks, several set growths), then
     * two repeats: exactly the two repeats and their first occurrences fail. A weak hash would
     * show false duplicates. */
    struct column_spec cols[2] = {col("k", DT_INT64, false), col("s", DT_STR, false)};
    cols[0].unique = true;
    cols[1].unique = true;
    struct ingest_spec s;
    memset(&s, 0, sizeof(s));
    s.schema.cols = cols;
    s.schema.ncols = 2;
    size_t n = 200000;
    char *text = malloc(n * 40 + 100);
    size_t len = (size_t)sprintf(text, "k,s\n");
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(text + len, "%zu,key-%zu\n", i * 7, i);
    }
    len += (size_t)sprintf(text + len, "%zu,fresh\n", (size_t)7 * 1234);
    sprintf(text + len, "999999999,key-4321\n");
    struct validate_counts c;
    FILE *jl = tmpfile();
    run_file(text, &s, 777, jl, &c, NULL);
    assert_int_equal(c.rows_read, n + 2);
    assert_int_equal(c.rows_invalid, 4);
    assert_int_equal(c.failure_cases, 4);
    char *got = slurp(jl);
    assert_non_null(strstr(got, "\"line\":200002,\"column\":\"k\",\"check\":\"field_uniqueness\","
                                "\"value\":\"8638\",\"message\":\"'8638' was already seen at "
                                "line 1236 "));
    assert_non_null(strstr(got, "\"line\":200003,\"column\":\"s\",\"check\":\"field_uniqueness\","
                                "\"value\":\"key-4321\",\"message\":\"'key-4321' was already "
                                "seen at line 4323 "));
    assert_non_null(strstr(got, "\"line\":1236,\"column\":\"k\",\"check\":\"field_uniqueness\","
                                "\"value\":\"8638\",\"message\":\"'8638' appears again, last at "
                                "line 200002 "));
    assert_non_null(strstr(got, "\"line\":4323,\"column\":\"s\",\"check\":\"field_uniqueness\","
                                "\"value\":\"key-4321\",\"message\":\"'key-4321' appears again, "
                                "last at line 200003 "));
    free(got);
    fclose(jl);
    free(text);
}

/* Header names are checked like values (issue 16, points 4-6): a name that reaches the output
 * fails when it is empty, not UTF-8, longer than 63 bytes or holds a NUL; a name strict: filter
 * would drop is not checked. */
static void test_header_names(void **state)
{
    (void)state;
    struct column_spec cols[1] = {col("id", DT_INT64, false)};
    struct ingest_spec s;
    memset(&s, 0, sizeof(s));
    s.schema.cols = cols;
    s.schema.ncols = 1;
    s.schema.strict = STRICT_FALSE;
    /* Column 4's name is 64 bytes long, column 7's 63. */
    static const char text[] =
        "id,,b\xff,"
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn,z\0z,ok,"
        "n63nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\n"
        "1,2,3,4,5,6,7\n";
    FILE *jl = tmpfile();
    struct validate_counts c;
    run_file_n(text, sizeof(text) - 1, &s, 100, jl, &c, NULL);
    char *out = slurp(jl);
    assert_int_equal(c.failure_cases, 4);
    assert_non_null(strstr(out,
                           "\"line\":1,\"column\":\"\",\"check\":\"column_name\",\"value\":null,"
                           "\"message\":\"column 2 has an empty name"));
    assert_non_null(strstr(out, "\"check\":\"encoding\",\"value\":null,\"message\":\"the name of "
                                "column 3, 'b\\u00ff', is not valid utf-8\""));
    assert_non_null(strstr(out,
                           "\"message\":\"the name of column 4, 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                           "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn', is 64 bytes long, more than "
                           "63: PostgreSQL cuts names to 63 bytes"));
    assert_non_null(strstr(out, "\"column\":\"z\",\"check\":\"column_name\",\"value\":null,"
                                "\"message\":\"the name of column 5 holds a NUL byte"));
    assert_null(strstr(out, "column 7")); /* 63 bytes is the limit, not past it */
    free(out);
    fclose(jl);
    /* strict: filter drops the undeclared names: nothing to check, the file passes. */
    s.schema.strict = STRICT_FILTER;
    jl = tmpfile();
    run_file_n(text, sizeof(text) - 1, &s, 100, jl, &c, NULL);
    assert_int_equal(c.failure_cases, 0);
    assert_int_equal(c.rows_valid, 1);
    fclose(jl);
}

/* A spec of two columns: id (int64) and s (nullable str). */
static void id_s_spec(struct ingest_spec *s, struct column_spec cols[2])
{
    cols[0] = col("id", DT_INT64, false);
    cols[1] = col("s", DT_STR, true);
    memset(s, 0, sizeof(*s));
    s->schema.cols = cols;
    s->schema.ncols = 2;
}

/* A NUL byte in a value fails its row (check nul_byte), in any column and whether the field was
 * quoted or not; the reader flags only the fields that hold one. */
static void test_nul_values(void **state)
{
    (void)state;
    struct column_spec cols[2];
    struct ingest_spec s;
    id_s_spec(&s, cols);
    static const char text[] = "id,s\n1,a\0b\n2,ok\n3,\"q\0\"\n4\0,x\n";
    FILE *jl = tmpfile();
    struct validate_counts c;
    run_file_n(text, sizeof(text) - 1, &s, 100, jl, &c, NULL);
    char *out = slurp(jl);
    assert_int_equal(c.rows_read, 4);
    assert_int_equal(c.rows_valid, 1);
    assert_int_equal(c.failure_cases, 3);
    assert_non_null(strstr(out,
                           "\"line\":2,\"column\":\"s\",\"check\":\"nul_byte\",\"value\":"
                           "\"a\\u0000b\",\"message\":\"the value holds a NUL byte (byte 2 of 3)"));
    assert_non_null(strstr(out, "\"line\":4,\"column\":\"s\",\"check\":\"nul_byte\""));
    assert_non_null(strstr(out, "\"line\":5,\"column\":\"id\",\"check\":\"nul_byte\""));
    free(out);
    fclose(jl);
}

/* Text after a closing quote on one line (`"p"q`, read as `pq`) is a warning (check quoting): the
 * row stays valid and the file passes. */
static void test_loose_quote_warning(void **state)
{
    (void)state;
    struct column_spec cols[2];
    struct ingest_spec s;
    id_s_spec(&s, cols);
    FILE *jl = tmpfile();
    struct validate_counts c;
    run_file("id,s\n1,\"p\"q\n2,\"ok\"\n", &s, 100, jl, &c, NULL);
    char *out = slurp(jl);
    assert_int_equal(c.rows_valid, 2);
    assert_int_equal(c.failure_cases, 0);
    assert_int_equal(c.warnings, 1);
    assert_non_null(strstr(out, "{\"file\":\"t.csv\",\"line\":2,\"column\":null,\"check\":"
                                "\"quoting\",\"value\":null,\"message\":\"a quoted field has text "
                                "after its closing quote"));
    assert_non_null(strstr(out, "\"raw\":\"1,\\\"p\\\"q\",\"level\":\"warning\"}"));
    assert_null(strstr(out, "\"line\":3"));
    free(out);
    fclose(jl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_to_jsonl),     cmocka_unit_test(test_unique_many_blocks),
        cmocka_unit_test(test_header_names),        cmocka_unit_test(test_nul_values),
        cmocka_unit_test(test_loose_quote_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
