/*
 * test_validate_report.c - the report sink: JSONL lines byte for byte, counts per (column, check,
 * level), the first five examples, and the summary table.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

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
    a.check = "dtype('int64')";
    a.value = "12x";
    a.value_len = 3;
    a.message = "'12x' is not a valid int64";
    a.raw = "1,12x,\"q\"\"\"";
    a.raw_len = strlen(a.raw);
    assert_int_equal(fs.emit(fs.ctx, &a), 0);
    struct failure h = {0};
    h.line = 1;
    h.column = "b";
    h.check = "column_in_dataframe";
    h.message = "required column 'b' is not in the file";
    assert_int_equal(fs.emit(fs.ctx, &h), 0);
    struct failure w = {0};
    w.line = 0;
    w.check = "field_count";
    w.value = "tab\there\nnl \xff";
    w.value_len = strlen(w.value);
    w.message = "m";
    w.warning = true;
    assert_int_equal(fs.emit(fs.ctx, &w), 0);
    char *got = slurp(f);
    const char *want =
        "{\"file\":\"dir/a\\\"b.csv\",\"line\":12,\"column\":\"n\",\"check\":\"dtype('int64')\","
        "\"value\":\"12x\",\"message\":\"'12x' is not a valid int64\","
        "\"raw\":\"1,12x,\\\"q\\\"\\\"\\\"\",\"level\":\"error\"}\n"
        "{\"file\":\"dir/a\\\"b.csv\",\"line\":1,\"column\":\"b\",\"check\":"
        "\"column_in_dataframe\",\"value\":null,\"message\":\"required column 'b' is not in the "
        "file\",\"raw\":null,\"level\":\"error\"}\n"
        "{\"file\":\"dir/a\\\"b.csv\",\"line\":null,\"column\":null,\"check\":\"field_count\","
        "\"value\":\"tab\\there\\nnl \\u00ff\",\"message\":\"m\",\"raw\":null,"
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
        assert_int_equal(fs.emit(fs.ctx, &f), 0);
    }
    struct failure rc = {0};
    rc.line = 4;
    rc.check = "field_count";
    rc.message = "expected 3 fields, found 2";
    assert_int_equal(fs.emit(fs.ctx, &rc), 0);
    struct failure wv = {0};
    wv.line = 9;
    wv.column = "Capacity";
    wv.check = "greater_than_or_equal_to(0)";
    wv.value = "-9";
    wv.value_len = 2;
    wv.message = "x";
    wv.warning = true;
    assert_int_equal(fs.emit(fs.ctx, &wv), 0);
    /* Many distinct checks force the entry table to grow. */
    char chk[32];
    for (int i = 0; i < 100; i++) {
        struct failure f = {0};
        f.line = 100;
        f.column = "z";
        snprintf(chk, sizeof(chk), "c%d", i);
        f.check = chk;
        f.message = "x";
        assert_int_equal(fs.emit(fs.ctx, &f), 0);
    }
    assert_int_equal(report_total(r), 109);
    FILE *out = tmpfile();
    assert_int_equal(report_print_summary(r, out, 3), 0);
    char *got = slurp(out);
    const char *head = "column    check                                  count\n"
                       "Capacity  greater_than_or_equal_to(0)            7\n"
                       "    line 10: '-1'\n"
                       "    line 11: '-2'\n"
                       "    line 12: '-3'\n"
                       "-         field_count                            1\n"
                       "    line 4\n"
                       "Capacity  greater_than_or_equal_to(0) [warning]  1\n"
                       "    line 9: '-9'\n"
                       "z         c0                                     1\n"
                       "    line 100\n";
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_exact),
        cmocka_unit_test(test_summary_counts_examples),
        cmocka_unit_test(test_empty_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
