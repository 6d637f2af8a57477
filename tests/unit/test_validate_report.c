/*
 * test_validate_report.c - the report sink: JSONL lines byte for byte, counts per (column, check,
 * level), the first five examples, and the summary table.
 */

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "validate/hint.h"
#include "validate/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc((size_t)n + 1, 1);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_jsonl_exact(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    struct report *r = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(report_new(&r, f, "dir/a\"b.csv", &e), 0);
    struct failure_sink fs = report_sink(r);
    struct failure a = {0};
    a.line = 12;
    a.column = "n";
    a.check = "coerce_dtype('int64')";
    a.value = "12x";
    a.value_len = 3;
    a.message = "'12x' is not a valid int64";
    a.raw = "1,12x,\"q\"\"\"";
    a.raw_len = strlen(a.raw);
    assert_int_equal(fs.emit(fs.ctx, &a, NULL), 0);
    struct failure h = {0};
    h.line = 1;
    h.column = "b";
    h.check = "column_in_dataframe";
    h.message = "required column 'b' is not in the file";
    assert_int_equal(fs.emit(fs.ctx, &h, NULL), 0);
    struct failure w = {0};
    w.line = 0;
    w.check = "field_count";
    w.value = "tab\there\nnl \xff";
    w.value_len = strlen(w.value);
    w.message = "m";
    w.warning = true;
    assert_int_equal(fs.emit(fs.ctx, &w, NULL), 0);
    char *got = slurp(f);
    const char *want =
        "{\"file\":\"dir/"
        "a\\\"b.csv\",\"line\":12,\"column\":\"n\",\"check\":\"coerce_dtype('int64')\","
        "\"value\":\"12x\",\"message\":\"'12x' is not a valid int64\","
        "\"hint\":null,\"raw\":\"1,12x,\\\"q\\\"\\\"\\\"\",\"level\":\"error\"}\n"
        "{\"file\":\"dir/a\\\"b.csv\",\"line\":1,\"column\":\"b\",\"check\":"
        "\"column_in_dataframe\",\"value\":null,\"message\":\"required column 'b' is not in the "
        "file\",\"hint\":null,\"raw\":null,\"level\":\"error\"}\n"
        "{\"file\":\"dir/a\\\"b.csv\",\"line\":null,\"column\":null,\"check\":\"field_count\","
        "\"value\":\"tab\\there\\nnl \\u00ff\",\"message\":\"m\",\"hint\":null,\"raw\":null,"
        "\"level\":\"warning\"}\n";
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(report_total(r), 3);
    assert_int_equal(report_warnings(r), 1);
    report_free(r);
    fclose(f);
}

static void test_summary_counts_examples(void **state)
{
    (void)state;
    struct report *r = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(report_new(&r, NULL, "a.csv", &e), 0);
    struct failure_sink fs = report_sink(r);
    char val[16];
    for (int i = 0; i < 7; i++) {
        struct failure f = {0};
        f.line = (uint64_t)(10 + i);
        f.column = "Capacity";
        f.check = "greater_than_or_equal_to(0)";
        snprintf(val, sizeof(val), "-%d", i + 1);
        f.value = val;
        f.value_len = strlen(val);
        f.message = "x";
        assert_int_equal(fs.emit(fs.ctx, &f, NULL), 0);
    }
    struct failure rc = {0};
    rc.line = 4;
    rc.check = "field_count";
    rc.message = "expected 3 fields, found 2";
    assert_int_equal(fs.emit(fs.ctx, &rc, NULL), 0);
    struct failure wv = {0};
    wv.line = 9;
    wv.column = "Capacity";
    wv.check = "greater_than_or_equal_to(0)";
    wv.value = "-9";
    wv.value_len = 2;
    wv.message = "'-9' is less than 0";
    wv.warning = true;
    assert_int_equal(fs.emit(fs.ctx, &wv, NULL), 0);
    /* Many distinct checks force the entry table to grow. */
    char chk[32];
    for (int i = 0; i < 100; i++) {
        struct failure f = {0};
        f.line = 100;
        f.column = "z";
        snprintf(chk, sizeof(chk), "c%d", i);
        f.check = chk;
        f.message = "x";
        assert_int_equal(fs.emit(fs.ctx, &f, NULL), 0);
    }
    assert_int_equal(report_total(r), 109);
    FILE *out = tmpfile();
    assert_int_equal(report_print_summary(r, out, 3), 0);
    char *got = slurp(out);
    /* Each example shows its message: after the value when the message does not open with it
     * ("x" here), alone when it does (the validator's messages). */
    const char *head = "column    check                                  count\n"
                       "Capacity  greater_than_or_equal_to(0)            7\n"
                       "    line 10: '-1': x\n"
                       "    line 11: '-2': x\n"
                       "    line 12: '-3': x\n"
                       "-         field_count                            1\n"
                       "    line 4: expected 3 fields, found 2\n"
                       "Capacity  greater_than_or_equal_to(0) [warning]  1\n"
                       "    line 9: '-9' is less than 0\n"
                       "z         c0                                     1\n"
                       "    line 100: x\n";
    assert_memory_equal(got, head, strlen(head));
    assert_non_null(strstr(got, "z         c99                                    1\n"));
    free(got);
    fclose(out);
    report_free(r);
}

static void test_empty_summary(void **state)
{
    (void)state;
    struct report *r = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(report_new(&r, NULL, "a.csv", &e), 0);
    FILE *out = tmpfile();
    assert_int_equal(report_print_summary(r, out, 5), 0);
    assert_int_equal(ftell(out), 0);
    fclose(out);
    report_free(r);
    report_free(NULL);
}

/* The failure_cases CSV: RFC 4180 quoting of commas, quotes, line breaks and edge spaces; empty
 * cells for a missing column, check number, value or row; the 0-based index and check number. */
static void test_failure_cases_csv(void **state)
{
    (void)state;
    FILE *csv = tmpfile();
    assert_non_null(csv);
    struct report *r = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(report_new(&r, NULL, "a.csv", &e), 0);
    assert_int_equal(report_set_failure_cases_csv(r, csv, &e), 0);
    struct failure_sink fs = report_sink(r);
    struct failure a = {0};
    a.line = 3;
    a.row = 2;
    a.column = "na,me";
    a.check = "isin(['a', 'b'])";
    a.check_number = 2;
    a.value = "say \"hi\"\nnow";
    a.value_len = strlen(a.value);
    a.message = "m";
    assert_int_equal(fs.emit(fs.ctx, &a, NULL), 0);
    struct failure b = {0};
    b.line = 1;
    b.column = "x";
    b.check = "column_in_dataframe";
    b.message = "m";
    assert_int_equal(fs.emit(fs.ctx, &b, NULL), 0);
    struct failure c = {0};
    c.line = 9;
    c.row = 8;
    c.check = "field_count";
    c.message = "m";
    assert_int_equal(fs.emit(fs.ctx, &c, NULL), 0);
    struct failure d = {0};
    d.line = 10;
    d.row = 1;
    d.column = "n";
    d.check = "coerce_dtype('int64')";
    d.value = " 1";
    d.value_len = 2;
    d.message = "m";
    assert_int_equal(fs.emit(fs.ctx, &d, NULL), 0);
    struct failure h = {0};
    h.line = 11;
    h.row = 2;
    h.column = "n";
    h.check = "coerce_dtype('int64')";
    h.value = "3,779";
    h.value_len = 5;
    h.message = "'3,779' is not a valid int64";
    h.hint = "set thousands: ','";
    assert_int_equal(fs.emit(fs.ctx, &h, NULL), 0);
    char *got = slurp(csv);
    /* message and hint follow Pandera's columns, quoted like any field. */
    assert_string_equal(got,
                        "schema_context,column,check,check_number,failure_case,index,message,hint\n"
                        "Column,\"na,me\",\"isin(['a', 'b'])\",1,\"say \"\"hi\"\"\nnow\",1,m,\n"
                        "DataFrameSchema,x,column_in_dataframe,,,,m,\n"
                        "DataFrameSchema,,field_count,,,7,m,\n"
                        "Column,n,coerce_dtype('int64'),,\" 1\",0,m,\n"
                        "Column,n,coerce_dtype('int64'),,\"3,779\",1,\"'3,779' is not a valid "
                        "int64\",\"set thousands: ','\"\n");
    free(got);
    report_free(r);
    fclose(csv);
}

/* max cases: counts stay exact, the files and the examples hold the first N cases only, and the
 * summary says so. */
static void test_cap(void **state)
{
    (void)state;
    FILE *jsonl = tmpfile();
    FILE *csv = tmpfile();
    struct report *r = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(report_new(&r, jsonl, "a.csv", &e), 0);
    report_set_max_cases(r, 3);
    assert_int_equal(report_set_failure_cases_csv(r, csv, &e), 0);
    struct failure_sink fs = report_sink(r);
    for (int i = 0; i < 5; i++) {
        struct failure f = {0};
        f.line = (uint64_t)i + 2;
        f.row = (uint64_t)i + 1;
        f.column = i < 4 ? "a" : "b";
        f.check = "not_nullable";
        f.message = "m";
        assert_int_equal(fs.emit(fs.ctx, &f, NULL), 0);
        assert_int_equal(report_capped(r), i >= 3);
    }
    assert_int_equal(report_total(r), 5);
    assert_int_equal(report_ngroups(r), 2);
    struct report_group g;
    report_get_group(r, 0, &g);
    assert_string_equal(g.column, "a");
    assert_int_equal(g.count, 4);
    assert_int_equal(g.nexamples, 3);
    report_get_group(r, 1, &g);
    assert_int_equal(g.count, 1);
    assert_int_equal(g.nexamples, 0);
    char *j = slurp(jsonl);
    size_t lines = 0;
    for (char *p = j; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, 3);
    free(j);
    char *c = slurp(csv);
    assert_string_equal(c, "schema_context,column,check,check_number,failure_case,index,message,"
                           "hint\n"
                           "Column,a,not_nullable,,,0,m,\nColumn,a,not_nullable,,,1,m,\n"
                           "Column,a,not_nullable,,,2,m,\n");
    free(c);
    FILE *out = tmpfile();
    assert_int_equal(report_print_summary(r, out, 5), 0);
    char *sum = slurp(out);
    assert_non_null(strstr(sum, "a       not_nullable  4\n"));
    assert_non_null(strstr(sum, "(detail capped at 3 failure cases"));
    free(sum);
    fclose(out);
    report_free(r);
    fclose(jsonl);
    fclose(csv);
}

/* The hint table (hint.c): each rule fires on its pattern and dtype, and nowhere else. */
static void test_hint_rules(void **state)
{
    (void)state;
    char b[160];
#define HINT(id, v) hint_for_value(id, v, strlen(v), b, sizeof(b))
    assert_string_equal(HINT(DT_INT64, "N/A"), "add 'N/A' to null_values");
    assert_string_equal(HINT(DT_FLOAT64, "-"), "add '-' to null_values");
    assert_string_equal(HINT(DT_DATE, "NULL"), "add 'NULL' to null_values");
    assert_string_equal(HINT(DT_INT32, "none"), "add 'none' to null_values");
    /* null_values match the whole field: the hint names it as it is, spaces included. */
    assert_string_equal(HINT(DT_INT64, " NA "), "add ' NA ' to null_values");
    assert_string_equal(HINT(DT_INT64, "3,779"), "set thousands: ','");
    assert_string_equal(HINT(DT_INT64, "-1,234,567"), "set thousands: ','");
    assert_string_equal(HINT(DT_FLOAT64, "1,234.5"), "set thousands: ','");
    assert_string_equal(HINT(DT_DECIMAL, "1.234,5"), "set thousands: '.' and decimal: ','");
    assert_string_equal(HINT(DT_UINT32, "12 345"), "set thousands: ' '");
    /* No rule: a str column, a value that is not a grouped number, a fraction in an int column,
     * groups of the wrong size, a '.' that may be a decimal point. */
    assert_null(HINT(DT_STR, "N/A"));
    assert_string_equal(b, "");
    assert_null(HINT(DT_INT64, "12x"));
    assert_null(HINT(DT_INT64, "1,234.5"));
    assert_null(HINT(DT_INT64, "1,23"));
    assert_null(HINT(DT_INT64, "1234,567"));
    assert_null(HINT(DT_INT64, "1.234"));
    assert_null(HINT(DT_BOOL, "3,779"));
    assert_null(HINT(DT_INT64, ""));
    /* One table of "no value" words serves the hint and schema infer: every word is hinted in
     * any case, and infer's bit set (32 bits) holds the table. */
    assert_true(hint_n_null_words <= 32);
    for (size_t k = 0; k < hint_n_null_words; k++) {
        char want[64], up[32];
        const char *w = hint_null_words[k].word;
        size_t n = strlen(w);
        for (size_t i = 0; i <= n; i++) {
            up[i] = (char)toupper((unsigned char)w[i]);
        }
        snprintf(want, sizeof(want), "add '%s' to null_values", up);
        assert_string_equal(HINT(DT_INT64, up), want);
    }
#undef HINT
    assert_string_equal(hint_for_file_name(".orders.csv.part"), "an upload is still running?");
    assert_string_equal(hint_for_file_name("orders.csv.TMP"), "an upload is still running?");
    assert_string_equal(hint_for_file_name("orders.csv~"), "an upload is still running?");
    assert_null(hint_for_file_name("README.txt"));
    assert_null(hint_for_file_name(".part"));
}

/* Examples carry their hint, and a column whose name holds a space is quoted in the table. */
static void test_summary_hint_and_names(void **state)
{
    (void)state;
    struct report *r = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(report_new(&r, NULL, "a.csv", &e), 0);
    struct failure_sink fs = report_sink(r);
    struct failure f = {0};
    f.line = 3;
    f.column = "Unit Price";
    f.check = "coerce_dtype('int64')";
    f.value = "N/A";
    f.value_len = 3;
    f.message = "'N/A' is not a valid int64";
    f.hint = "add 'N/A' to null_values";
    assert_int_equal(fs.emit(fs.ctx, &f, NULL), 0);
    FILE *out = tmpfile();
    assert_int_equal(report_print_summary(r, out, 5), 0);
    char *got = slurp(out);
    assert_string_equal(got, "column        check                  count\n"
                             "'Unit Price'  coerce_dtype('int64')  1\n"
                             "    line 3: 'N/A' is not a valid int64; hint: add 'N/A' to "
                             "null_values\n");
    struct report_example x;
    report_get_example(r, 0, 0, &x);
    assert_string_equal(x.message, "'N/A' is not a valid int64");
    assert_string_equal(x.hint, "add 'N/A' to null_values");
    free(got);
    fclose(out);
    report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_exact),
        cmocka_unit_test(test_summary_counts_examples),
        cmocka_unit_test(test_empty_summary),
        cmocka_unit_test(test_failure_cases_csv),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_hint_rules),
        cmocka_unit_test(test_summary_hint_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
