/*
 * test_validate_parse.c - the dtype parsers of src/validate (vparse.h): every dtype at its edges.
 * Expected values are computed by hand (days and microseconds since 1970-01-01 noted inline).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "batch/dtype.h"
#include "validate/vparse.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <string.h>

static int pi(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    return vp_int(s, strlen(s), lo, hi, out);
}

static void test_int(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(pi("0", INT8_MIN, INT8_MAX, &v), VP_OK);
    assert_int_equal(v, 0);
    assert_int_equal(pi("+127", INT8_MIN, INT8_MAX, &v), VP_OK);
    assert_int_equal(v, 127);
    assert_int_equal(pi("128", INT8_MIN, INT8_MAX, &v), VP_RANGE);
    assert_int_equal(pi("-128", INT8_MIN, INT8_MAX, &v), VP_OK);
    assert_int_equal(v, -128);
    assert_int_equal(pi("-129", INT8_MIN, INT8_MAX, &v), VP_RANGE);
    assert_int_equal(pi("300", INT8_MIN, INT8_MAX, &v), VP_RANGE);
    assert_int_equal(pi("-0", INT8_MIN, INT8_MAX, &v), VP_OK);
    assert_int_equal(v, 0);
    assert_int_equal(pi("0000000000000000000000000042", INT8_MIN, INT8_MAX, &v), VP_OK);
    assert_int_equal(v, 42);
    assert_int_equal(pi("9223372036854775807", INT64_MIN, INT64_MAX, &v), VP_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(pi("9223372036854775808", INT64_MIN, INT64_MAX, &v), VP_RANGE);
    assert_int_equal(pi("-9223372036854775808", INT64_MIN, INT64_MAX, &v), VP_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(pi("-9223372036854775809", INT64_MIN, INT64_MAX, &v), VP_RANGE);
    assert_int_equal(pi("99999999999999999999999", INT64_MIN, INT64_MAX, &v), VP_RANGE);
    assert_int_equal(pi("99999999999999999999999x", INT64_MIN, INT64_MAX, &v), VP_SYNTAX);
    assert_int_equal(pi("32767", INT16_MIN, INT16_MAX, &v), VP_OK);
    assert_int_equal(pi("32768", INT16_MIN, INT16_MAX, &v), VP_RANGE);
    assert_int_equal(pi("2147483647", INT32_MIN, INT32_MAX, &v), VP_OK);
    assert_int_equal(pi("-2147483649", INT32_MIN, INT32_MAX, &v), VP_RANGE);
    const char *bad[] = {"", "+", "-", "12x", "1.0", "1e3", " 1", "0x10", "1_000", "--1", "١"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(pi(bad[k], INT64_MIN, INT64_MAX, &v), VP_SYNTAX);
    }
}

static void test_uint(void **state)
{
    (void)state;
    uint64_t u = 0;
    assert_int_equal(vp_uint("255", 3, UINT8_MAX, &u), VP_OK);
    assert_int_equal(u, 255);
    assert_int_equal(vp_uint("256", 3, UINT8_MAX, &u), VP_RANGE);
    assert_int_equal(vp_uint("-1", 2, UINT8_MAX, &u), VP_RANGE);
    assert_int_equal(vp_uint("-0", 2, UINT8_MAX, &u), VP_RANGE);
    assert_int_equal(vp_uint("+7", 2, UINT8_MAX, &u), VP_OK);
    assert_int_equal(u, 7);
    assert_int_equal(vp_uint("18446744073709551615", 20, UINT64_MAX, &u), VP_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(vp_uint("18446744073709551616", 20, UINT64_MAX, &u), VP_RANGE);
    assert_int_equal(vp_uint("4294967296", 10, UINT32_MAX, &u), VP_RANGE);
}

static int pf(const char *s, bool single, double *out)
{
    return vp_float(s, strlen(s), single, (locale_t)0, out);
}

static void test_float(void **state)
{
    (void)state;
    double d = 0;
    assert_int_equal(pf("1.5", false, &d), VP_OK);
    assert_true(d == 1.5);
    assert_int_equal(pf("-0.0", false, &d), VP_OK);
    assert_true(d == 0 && signbit(d));
    assert_int_equal(pf("0.1", false, &d), VP_OK);
    assert_true(d == 0.1);
    assert_int_equal(pf(".5", false, &d), VP_OK);
    assert_true(d == 0.5);
    assert_int_equal(pf("5.", false, &d), VP_OK);
    assert_true(d == 5.0);
    assert_int_equal(pf("+1e3", false, &d), VP_OK);
    assert_true(d == 1000.0);
    assert_int_equal(pf("1E-3", false, &d), VP_OK);
    assert_true(d == 0.001);
    /* Slow path: 17 significant digits and big exponents, correctly rounded. */
    assert_int_equal(pf("3.1415926535897932", false, &d), VP_OK);
    assert_true(d == 3.1415926535897932);
    assert_int_equal(pf("1.7976931348623157e308", false, &d), VP_OK);
    assert_true(d == DBL_MAX);
    assert_int_equal(pf("1e309", false, &d), VP_RANGE);
    assert_int_equal(pf("-1e309", false, &d), VP_RANGE);
    assert_int_equal(pf("4.9e-324", false, &d), VP_OK);
    assert_true(d == 4.9e-324);
    assert_int_equal(pf("1e-400", false, &d), VP_OK);
    assert_true(d == 0);
    /* Halfway case that naive digit-by-digit accumulation gets wrong: 2^53 + 1. */
    assert_int_equal(pf("9007199254740993", false, &d), VP_OK);
    assert_true(d == 9007199254740992.0);
    assert_int_equal(pf("123456789012345678901234567890", false, &d), VP_OK);
    assert_true(d == 123456789012345678901234567890.0);
    assert_int_equal(pf("NaN", false, &d), VP_OK);
    assert_true(isnan(d));
    assert_int_equal(pf("nan", false, &d), VP_OK);
    assert_true(isnan(d));
    assert_int_equal(pf("-inf", false, &d), VP_OK);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(pf("Infinity", false, &d), VP_OK);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(pf("INF", false, &d), VP_OK);
    const char *bad[] = {"",      ".",   "e5",      "1e",   "1e+", "1.2.3",
                         "0x1p3", "1,5", "infinit", "nanx", "1 2", "+-1"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(pf(bad[k], false, &d), VP_SYNTAX);
    }
    /* float32: rounded once to float; beyond FLT_MAX fails. */
    assert_int_equal(pf("0.1", true, &d), VP_OK);
    assert_true(d == (double)0.1f);
    assert_int_equal(pf("16777217", true, &d), VP_OK); /* 2^24 + 1 rounds to even */
    assert_true(d == 16777216.0);
    assert_int_equal(pf("3.4028235e38", true, &d), VP_OK);
    assert_true(d == (double)FLT_MAX);
    assert_int_equal(pf("3.5e38", true, &d), VP_RANGE);
    assert_int_equal(pf("1e39", true, &d), VP_RANGE);
    assert_int_equal(pf("1e39", false, &d), VP_OK);
    /* A long literal takes the heap copy. */
    char longnum[300];
    memset(longnum, '1', sizeof(longnum) - 1);
    longnum[sizeof(longnum) - 1] = '\0';
    longnum[1] = '.';
    assert_int_equal(pf(longnum, false, &d), VP_OK);
    assert_true(d == 1.1111111111111112);
}

static void test_float_locale_independent(void **state)
{
    (void)state;
    /* Under a decimal-comma locale, strtod would stop at '.'; the C locale object keeps "1.25"
     * meaning 1.25. Skipped silently when the locale is not installed. */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    assert_non_null(c);
    double d = 0;
    assert_int_equal(vp_float("1.2500000000000000001", 21, false, c, &d), VP_OK);
    assert_true(d == 1.25);
    freelocale(c);
}

static void test_bool(void **state)
{
    (void)state;
    uint8_t b = 9;
    const char *yes[] = {"true", "TRUE", "True", "t", "T", "yes", "Y", "y", "1"};
    const char *no[] = {"false", "False", "f", "no", "NO", "n", "0"};
    for (size_t k = 0; k < sizeof(yes) / sizeof(yes[0]); k++) {
        assert_int_equal(vp_bool(NULL, yes[k], strlen(yes[k]), &b), VP_OK);
        assert_int_equal(b, 1);
    }
    for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++) {
        assert_int_equal(vp_bool(NULL, no[k], strlen(no[k]), &b), VP_OK);
        assert_int_equal(b, 0);
    }
    assert_int_equal(vp_bool(NULL, "2", 1, &b), VP_SYNTAX);
    assert_int_equal(vp_bool(NULL, "truee", 5, &b), VP_SYNTAX);
    assert_int_equal(vp_bool(NULL, "", 0, &b), VP_SYNTAX);
    char *tv[] = {"Oui"};
    char *fv[] = {"Non"};
    struct vp_col c = {
        .type = {DT_BOOL, 0, 0}, .true_values = tv, .n_true = 1, .false_values = fv, .n_false = 1};
    assert_int_equal(vp_bool(&c, "Oui", 3, &b), VP_OK);
    assert_int_equal(b, 1);
    assert_int_equal(vp_bool(&c, "Non", 3, &b), VP_OK);
    assert_int_equal(b, 0);
    assert_int_equal(vp_bool(&c, "oui", 3, &b), VP_SYNTAX); /* custom spellings are exact */
    assert_int_equal(vp_bool(&c, "true", 4, &b), VP_SYNTAX);
}

static int pd(const char *s, unsigned p, unsigned sc, __int128 *out)
{
    return vp_decimal(s, strlen(s), p, sc, out);
}

static void test_decimal(void **state)
{
    (void)state;
    __int128 v = 0;
    assert_int_equal(pd("123.45", 5, 2, &v), VP_OK);
    assert_true(v == 12345);
    assert_int_equal(pd("-123.4", 5, 2, &v), VP_OK);
    assert_true(v == -12340);
    assert_int_equal(pd("+1", 5, 2, &v), VP_OK);
    assert_true(v == 100);
    assert_int_equal(pd("1234.5", 5, 2, &v), VP_RANGE);
    assert_int_equal(pd("000123.45", 5, 2, &v), VP_OK);
    assert_true(v == 12345);
    assert_int_equal(pd("1.234", 5, 2, &v), VP_SCALE);
    assert_int_equal(pd("1.2300000", 5, 2, &v), VP_OK);
    assert_true(v == 123);
    assert_int_equal(pd(".5", 5, 2, &v), VP_OK);
    assert_true(v == 50);
    assert_int_equal(pd("-0.00", 5, 2, &v), VP_OK);
    assert_true(v == 0);
    assert_int_equal(pd("0.99", 2, 2, &v), VP_OK);
    assert_int_equal(pd("1.00", 2, 2, &v), VP_RANGE);
    /* decimal(38,0): 38 nines is the maximum, 39 digits overflow. */
    const char *max38 = "99999999999999999999999999999999999999";
    assert_int_equal(pd(max38, 38, 0, &v), VP_OK);
    __int128 expect = 0;
    for (int k = 0; k < 38; k++) {
        expect = expect * 10 + 9;
    }
    assert_true(v == expect);
    char neg[64] = "-";
    strcat(neg, max38);
    assert_int_equal(pd(neg, 38, 0, &v), VP_OK);
    assert_true(v == -expect);
    assert_int_equal(pd("100000000000000000000000000000000000000", 38, 0, &v), VP_RANGE);
    assert_int_equal(pd("0.00000000000000000000000000000000000001", 38, 38, &v), VP_OK);
    assert_true(v == 1);
    const char *bad[] = {"", "-", ".", "1e5", "1.2.3", "12x", "1,5", "- 1", "nan"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(pd(bad[k], 10, 2, &v), VP_SYNTAX);
    }
}

static int pdate(const char *s, const char *fmt, int64_t *out)
{
    struct vp_fmt f;
    char why[200];
    if (fmt != NULL) {
        assert_int_equal(vp_fmt_compile(fmt, &f, why, sizeof(why)), 0);
    }
    return vp_date(s, strlen(s), fmt ? &f : NULL, out);
}

static void test_date(void **state)
{
    (void)state;
    int64_t d = 0;
    assert_int_equal(pdate("1970-01-01", NULL, &d), VP_OK);
    assert_int_equal(d, 0);
    assert_int_equal(pdate("2000-03-01", NULL, &d), VP_OK);
    assert_int_equal(d, 11017); /* 30 years (7 leap) = 10957 days to 2000-01-01, + 31 + 29 */
    assert_int_equal(pdate("1969-12-31", NULL, &d), VP_OK);
    assert_int_equal(d, -1);
    assert_int_equal(pdate("0001-01-01", NULL, &d), VP_OK);
    assert_int_equal(d, -719162);
    assert_int_equal(pdate("9999-12-31", NULL, &d), VP_OK);
    assert_int_equal(d, 2932896);
    /* Leap days: 2000 and 2024 are leap years, 1900 and 2023 are not. */
    assert_int_equal(pdate("2000-02-29", NULL, &d), VP_OK);
    assert_int_equal(d, 11016);
    assert_int_equal(pdate("2024-02-29", NULL, &d), VP_OK);
    assert_int_equal(d, 19782);
    assert_int_equal(pdate("1900-02-29", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("2023-02-29", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("2020-02-31", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("2020-04-31", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("2020-13-01", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("0000-01-01", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("2020-00-10", NULL, &d), VP_CALENDAR);
    assert_int_equal(pdate("31-02-2020", NULL, &d), VP_SYNTAX);
    assert_int_equal(pdate("2020-1-01", NULL, &d), VP_SYNTAX);
    assert_int_equal(pdate("2020-01-01T00:00", NULL, &d), VP_SYNTAX);
    assert_int_equal(pdate("2020/01/01", NULL, &d), VP_SYNTAX);
    /* Formats. */
    assert_int_equal(pdate("29/02/2024", "%d/%m/%Y", &d), VP_OK);
    assert_int_equal(d, 19782);
    assert_int_equal(pdate("1/3/2000", "%d/%m/%Y", &d), VP_OK);
    assert_int_equal(d, 11017);
    assert_int_equal(pdate("31/02/2020", "%d/%m/%Y", &d), VP_CALENDAR);
    assert_int_equal(pdate("01-Mar-00", "%d-%b-%y", &d), VP_OK);
    assert_int_equal(d, 11017);
    assert_int_equal(pdate("01-mar-69", "%d-%b-%y", &d), VP_OK);
    assert_int_equal(d, -306); /* 1969-03-01: 365 - 59 days before 1970 */
    assert_int_equal(pdate("01-Foo-00", "%d-%b-%y", &d), VP_SYNTAX);
    {
        /* century_pivot 30: 29 is 2029, 30 and 62 are 1930 and 1962 (not POSIX's 2062). */
        struct vp_fmt pf;
        char pwhy[200];
        assert_int_equal(vp_fmt_compile("%b-%y", &pf, pwhy, sizeof(pwhy)), 0);
        assert_true(vp_fmt_has(&pf, 'y'));
        assert_int_equal(pf.pivot, -1);
        pf.pivot = 30;
        assert_int_equal(vp_date("Aug-62", 6, &pf, &d), VP_OK);
        assert_int_equal(d, -2710); /* 1962-08-01 */
        assert_int_equal(vp_date("Jan-29", 6, &pf, &d), VP_OK);
        assert_int_equal(d, 21550); /* 2029-01-01 */
        assert_int_equal(vp_date("Jan-30", 6, &pf, &d), VP_OK);
        assert_int_equal(d, -14610); /* 1930-01-01 */
        pf.pivot = 0;
        assert_int_equal(vp_date("Jan-00", 6, &pf, &d), VP_OK);
        assert_int_equal(d, -25567); /* 1900-01-01 */
        assert_int_equal(vp_fmt_compile("%Y-%m-%d", &pf, pwhy, sizeof(pwhy)), 0);
        assert_false(vp_fmt_has(&pf, 'y'));
    }
    assert_int_equal(pdate("2020-01-01x", "%Y-%m-%d", &d), VP_SYNTAX);
    assert_int_equal(pdate("100%2000-03-01", "100%%%Y-%m-%d", &d), VP_OK);
    assert_int_equal(d, 11017);
    struct vp_fmt f;
    char why[200];
    assert_int_equal(vp_fmt_compile("%Y-%Q", &f, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "%Q is not supported"));
    assert_int_equal(vp_fmt_compile("%Y%", &f, why, sizeof(why)), -1);
}

static int pdt(const char *s, const char *fmt, bool utc, int64_t *out)
{
    struct vp_fmt f;
    char why[200];
    if (fmt != NULL) {
        assert_int_equal(vp_fmt_compile(fmt, &f, why, sizeof(why)), 0);
    }
    return vp_datetime(s, strlen(s), fmt ? &f : NULL, utc, out);
}

static void test_datetime(void **state)
{
    (void)state;
    int64_t t = 0;
    const int64_t day = INT64_C(86400000000);
    assert_int_equal(pdt("1970-01-01", NULL, false, &t), VP_OK);
    assert_int_equal(t, 0);
    assert_int_equal(pdt("1970-01-02T00:00", NULL, false, &t), VP_OK);
    assert_int_equal(t, day);
    assert_int_equal(pdt("1970-01-01 01:02:03", NULL, false, &t), VP_OK);
    assert_int_equal(t, INT64_C(3723000000));
    assert_int_equal(pdt("1970-01-01T00:00:00.5", NULL, false, &t), VP_OK);
    assert_int_equal(t, 500000);
    assert_int_equal(pdt("1970-01-01T00:00:00.123456", NULL, false, &t), VP_OK);
    assert_int_equal(t, 123456);
    assert_int_equal(pdt("1970-01-01T00:00:00.123456000", NULL, false, &t), VP_OK);
    assert_int_equal(t, 123456);
    assert_int_equal(pdt("1970-01-01T00:00:00.1234567", NULL, false, &t), VP_PRECISION);
    assert_int_equal(pdt("1970-01-01T00:00:00.1234560001", NULL, false, &t), VP_SYNTAX);
    assert_int_equal(pdt("1969-12-31T23:59:59.999999", NULL, false, &t), VP_OK);
    assert_int_equal(t, -1);
    /* Offsets: naive columns refuse them; UTC columns convert. 01:00+01:00 is 00:00Z. */
    assert_int_equal(pdt("1970-01-01T01:00:00+01:00", NULL, false, &t), VP_OFFSET);
    assert_int_equal(pdt("1970-01-01T01:00:00+01:00", NULL, true, &t), VP_OK);
    assert_int_equal(t, 0);
    assert_int_equal(pdt("1970-01-01T00:00:00-0130", NULL, true, &t), VP_OK);
    assert_int_equal(t, INT64_C(5400000000));
    assert_int_equal(pdt("1970-01-01T00:00Z", NULL, true, &t), VP_OK);
    assert_int_equal(t, 0);
    assert_int_equal(pdt("1970-01-01T00:00Z", NULL, false, &t), VP_OFFSET);
    assert_int_equal(pdt("1970-01-01T12:00", NULL, true, &t), VP_OK); /* taken as UTC */
    assert_int_equal(t, day / 2);
    assert_int_equal(pdt("2024-02-29T24:00", NULL, false, &t), VP_CALENDAR);
    assert_int_equal(pdt("2024-02-29T23:60", NULL, false, &t), VP_CALENDAR);
    assert_int_equal(pdt("2024-02-29T23:59:60", NULL, false, &t), VP_CALENDAR);
    assert_int_equal(pdt("2023-02-29T00:00", NULL, false, &t), VP_CALENDAR);
    assert_int_equal(pdt("1970-01-01T00:00:00+25:00", NULL, true, &t), VP_CALENDAR);
    const char *bad[] = {"1970-01-01T",
                         "1970-01-01T1:00",
                         "1970-01-01X00:00",
                         "1970-01-01T00:00:0",
                         "1970-01-01T00:00:00.",
                         "1970-01-01T00:00+1",
                         "1970-01-01T00:00:00+01:00x",
                         "1970-01-01 00:00 "};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(pdt(bad[k], NULL, true, &t), VP_SYNTAX);
    }
    assert_int_equal(pdt("9999-12-31T23:59:59.999999", NULL, false, &t), VP_OK);
    assert_int_equal(t, 2932897 * day - 1);
    /* Formats with %H %M %S %f %z. */
    assert_int_equal(pdt("02/01/1970 3:04:05.25 +0100", "%d/%m/%Y %H:%M:%S.%f %z", true, &t),
                     VP_OK);
    assert_int_equal(t, day + INT64_C(7445250000)); /* 02:04:05.25 UTC */
    assert_int_equal(pdt("02/01/1970 3:04:05.25 +0100", "%d/%m/%Y %H:%M:%S.%f %z", false, &t),
                     VP_OFFSET);
    assert_int_equal(pdt("19700102", "%Y%m%d", false, &t), VP_OK);
    assert_int_equal(t, day);
}

/* PostgreSQL's timestamptz text (+HH), full month names, several formats per column. */
static void test_offsets_months_formats(void **state)
{
    (void)state;
    int64_t t = 0;
    const int64_t hour = INT64_C(3600000000);
    assert_int_equal(pdt("2024-02-20 11:08:25+00", NULL, true, &t), VP_OK);
    int64_t base = t;
    assert_int_equal(pdt("2024-02-20 12:08:25+01", NULL, true, &t), VP_OK);
    assert_int_equal(t, base);
    assert_int_equal(pdt("2024-02-20 06:08:25-05", NULL, true, &t), VP_OK);
    assert_int_equal(t, base);
    assert_int_equal(pdt("2024-02-20 16:38:25+05:30", NULL, true, &t), VP_OK);
    assert_int_equal(t, base);
    assert_int_equal(pdt("2024-02-20 16:38:25.5+0530", NULL, true, &t), VP_OK);
    assert_int_equal(t, base + 500000);
    assert_int_equal(pdt("2024-02-20 11:08+00", NULL, true, &t), VP_OK);
    assert_int_equal(t, base - 25000000);
    assert_int_equal(pdt("2024-02-20 11:08:25+00", NULL, false, &t), VP_OFFSET);
    assert_int_equal(pdt("2024-02-20 11:08:25+24", NULL, true, &t), VP_CALENDAR);
    const char *bad[] = {"2024-02-20 11:08:25+0",      "2024-02-20 11:08:25+000",
                         "2024-02-20 11:08:25+00:",    "2024-02-20 11:08:25+00:0",
                         "2024-02-20 11:08:25+00:000", "2024-02-20 11:08:25+00 "};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(pdt(bad[k], NULL, true, &t), VP_SYNTAX);
    }
    assert_int_equal(pdt("20/02/2024 11:08 +00", "%d/%m/%Y %H:%M %z", true, &t), VP_OK);
    assert_int_equal(t, base - 25000000);
    assert_int_equal(pdt("20/02/2024 12:08 +01", "%d/%m/%Y %H:%M %z", true, &t), VP_OK);
    assert_int_equal(t, base - 25000000);
    (void)hour;
    /* %B: full English month names, any case; %b stays the three-letter abbreviation. */
    assert_int_equal(pdate("20 February 2024", "%d %B %Y", &t), VP_OK);
    assert_int_equal(t, vp_days_from_civil(2024, 2, 20));
    assert_int_equal(pdate("1 SEPTEMBER 2024", "%d %B %Y", &t), VP_OK);
    assert_int_equal(t, vp_days_from_civil(2024, 9, 1));
    assert_int_equal(pdate("May 5, 2024", "%B %d, %Y", &t), VP_OK);
    assert_int_equal(t, vp_days_from_civil(2024, 5, 5));
    assert_int_equal(pdate("20 Feb 2024", "%d %B %Y", &t), VP_SYNTAX);
    assert_int_equal(pdate("20 February 2024", "%d %b %Y", &t), VP_SYNTAX);
    assert_int_equal(pdate("31 June 2024", "%d %B %Y", &t), VP_CALENDAR);
    /* Several formats: the first that parses wins; the most telling failure otherwise. */
    struct vp_fmt f[2];
    char why[200];
    assert_int_equal(vp_fmt_compile("%Y-%m-%d", &f[0], why, sizeof(why)), 0);
    assert_int_equal(vp_fmt_compile("%d/%m/%Y", &f[1], why, sizeof(why)), 0);
    char *texts[] = {"%Y-%m-%d", "%d/%m/%Y"};
    struct vp_col c = {.type = {DT_DATE, 0, 0}, .fmt = f, .nfmt = 2, .fmt_text = texts};
    size_t which = 9;
    assert_int_equal(vp_time(&c, "2024-02-20", 10, &t, &which), VP_OK);
    assert_int_equal(which, 0);
    assert_int_equal(t, vp_days_from_civil(2024, 2, 20));
    assert_int_equal(vp_time(&c, "20/02/2024", 10, &t, &which), VP_OK);
    assert_int_equal(which, 1);
    assert_int_equal(t, vp_days_from_civil(2024, 2, 20));
    union vp_val v;
    assert_int_equal(vp_parse(&c, "20/02/2024", 10, &v), VP_OK);
    assert_int_equal(v.i, vp_days_from_civil(2024, 2, 20));
    assert_int_equal(vp_parse(&c, "31/02/2024", 10, &v), VP_CALENDAR);
    assert_int_equal(vp_parse(&c, "2024.02.20", 10, &v), VP_SYNTAX);
}

static int pnum(enum dtype id, char th, char dec, const char *s, union vp_val *v)
{
    struct vp_col c = {.type = {id, 12, 2}, .thousands = th, .decimal = dec};
    return vp_parse(&c, s, strlen(s), v);
}

/* Numbers with a thousands separator and a decimal mark: strict groups of three. */
static void test_separators(void **state)
{
    (void)state;
    union vp_val v;
    assert_int_equal(pnum(DT_INT64, ',', 0, "3,779", &v), VP_OK);
    assert_int_equal(v.i, 3779);
    assert_int_equal(pnum(DT_INT64, ',', 0, "-1,234,567", &v), VP_OK);
    assert_int_equal(v.i, -1234567);
    assert_int_equal(pnum(DT_INT64, ',', 0, "3779", &v), VP_OK); /* no separator at all */
    assert_int_equal(v.i, 3779);
    assert_int_equal(pnum(DT_INT64, ',', 0, "999", &v), VP_OK);
    assert_int_equal(v.i, 999);
    const char *bad[] = {"3,77,9",   "37,79",  ",379", "379,", "1,,234",
                         "1234,567", "1,2345", "1.5",  ",",    "-,1"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(pnum(DT_INT64, ',', 0, bad[k], &v), VP_SYNTAX);
    }
    assert_int_equal(pnum(DT_INT8, ',', 0, "1,000", &v), VP_RANGE);
    assert_int_equal(pnum(DT_UINT32, ' ', 0, "4 294 967 295", &v), VP_OK);
    assert_int_equal((uint64_t)v.i, UINT32_MAX);
    assert_int_equal(pnum(DT_INT64, '\'', 0, "1'234'567", &v), VP_OK);
    assert_int_equal(v.i, 1234567);
    /* European: '.' groups, ',' is the mark; a '.' elsewhere is refused. */
    assert_int_equal(pnum(DT_FLOAT64, '.', ',', "1.234,5", &v), VP_OK);
    assert_true(v.f == 1234.5);
    assert_int_equal(pnum(DT_FLOAT64, '.', ',', "-0,25", &v), VP_OK);
    assert_true(v.f == -0.25);
    assert_int_equal(pnum(DT_FLOAT64, '.', ',', "1,5e3", &v), VP_OK);
    assert_true(v.f == 1500.0);
    assert_int_equal(pnum(DT_FLOAT64, '.', ',', "1,234.5", &v), VP_SYNTAX);
    assert_int_equal(pnum(DT_FLOAT64, '.', ',', "1,2,3", &v), VP_SYNTAX);
    assert_int_equal(pnum(DT_FLOAT64, 0, ',', "1.5", &v), VP_SYNTAX);
    assert_int_equal(pnum(DT_FLOAT64, 0, ',', "1,5", &v), VP_OK);
    assert_true(v.f == 1.5);
    assert_int_equal(pnum(DT_DECIMAL, '.', ',', "1.234,56", &v), VP_OK);
    assert_true(v.d == 123456);
    assert_int_equal(pnum(DT_DECIMAL, '.', ',', "1.234,567", &v), VP_SCALE);
    assert_int_equal(pnum(DT_DECIMAL, ',', 0, "1,234.50", &v), VP_OK);
    assert_true(v.d == 123450);
    assert_int_equal(pnum(DT_INT64, '.', ',', "1.234", &v), VP_OK);
    assert_int_equal(v.i, 1234);
    assert_int_equal(pnum(DT_INT64, '.', ',', "1,0", &v), VP_SYNTAX);
    /* Too long to be a number: refused, never cut. */
    char longnum[400];
    memset(longnum, '1', sizeof(longnum) - 1);
    longnum[sizeof(longnum) - 1] = '\0';
    assert_int_equal(pnum(DT_FLOAT64, ',', 0, longnum, &v), VP_SYNTAX);
}

static int ptd(const char *s, int64_t *out)
{
    return vp_timedelta(s, strlen(s), out);
}

/* pandas' Timedelta spellings (each value checked against what pandas 1.5 reads), ISO 8601
 * durations, and the display form of failure cases. */
static void test_timedelta(void **state)
{
    (void)state;
    const int64_t s = INT64_C(1000000000);
    const int64_t day = 86400 * s;
    static const struct {
        const char *text;
        int64_t ns;
    } ok[] = {
        {"2000", 2000},
        {"1 days 02:03:04", INT64_C(93784000000000)},
        {"1 day", INT64_C(86400000000000)},
        {"02:03:04", INT64_C(7384000000000)},
        {"-1 days +23:59:59", -INT64_C(1000000000)},
        {"1 days 00:00:00.000000001", INT64_C(86400000000001)},
        {"1.5s", INT64_C(1500000000)},
        {"1h30min", INT64_C(5400000000000)},
        {"10ms", INT64_C(10000000)},
        {"3us", 3000},
        {"7ns", 7},
        {"2 weeks", INT64_C(1209600000000000)},
        {"1 days, 2:03:04", INT64_C(93784000000000)},
        {"P1DT2H3M4S", INT64_C(93784000000000)},
        {"PT0.5S", INT64_C(500000000)},
        {"-PT1S", -INT64_C(1000000000)},
        {"P2D", INT64_C(172800000000000)},
        {"-1 days", -INT64_C(86400000000000)},
        {"-1 days 02:00:00", -INT64_C(79200000000000)},
        {"-02:00:00", -INT64_C(7200000000000)},
        {"-1h30min", -INT64_C(5400000000000)},
        {"-1 days 1h", -INT64_C(90000000000000)},
        {"-1.5s", -INT64_C(1500000000)},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t v = 0;
        if (ptd(ok[i].text, &v) != VP_OK || v != ok[i].ns) {
            fail_msg("'%s': %lld", ok[i].text, (long long)v);
        }
    }
    int64_t v = 0;
    static const char *bad[] = {"",      "x",     "1 parsecs",    "P1Y", "PT",       "1:2",
                                "1:2:3", "P1.5D", "1 days 25:00", "--1", "1 days x", "P"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ptd(bad[i], &v) != VP_SYNTAX) {
            fail_msg("'%s' was accepted (%lld)", bad[i], (long long)v);
        }
    }
    assert_int_equal(ptd("0.0000000001s", &v), VP_PRECISION);
    assert_int_equal(ptd("1.0000000001s", &v), VP_PRECISION);
    assert_int_equal(ptd("1.0000000000s", &v), VP_OK);
    assert_int_equal(v, s);
    assert_int_equal(ptd("200000 days", &v), VP_RANGE);
    assert_int_equal(ptd("9999999999999999999", &v), VP_RANGE);
    char buf[64];
    dtype_format_timedelta(buf, sizeof(buf), 1000);
    assert_string_equal(buf, "0 days 00:00:00.000001");
    dtype_format_timedelta(buf, sizeof(buf), 93784 * s);
    assert_string_equal(buf, "1 days 02:03:04");
    dtype_format_timedelta(buf, sizeof(buf), -s / 2);
    assert_string_equal(buf, "-1 days +23:59:59.500000");
    dtype_format_timedelta(buf, sizeof(buf), 2 * day + 1);
    assert_string_equal(buf, "2 days 00:00:00.000000001");
}

static int ser(const char *s, bool d1904, bool dt, int64_t *out)
{
    return vp_serial(s, strlen(s), d1904, dt, out);
}

/* Excel serial day numbers (vp_serial), days and microseconds since 1970-01-01 by hand:
 * 1900-01-01 is -25567, 1900-02-28 -25509, 1900-03-01 -25508, 1904-01-01 -24107, 1970-01-01 0,
 * 9999-12-31 2932896. */
static void test_serial(void **state)
{
    (void)state;
    int64_t v = 0;
    /* 1900 system: serial 1 is 1900-01-01, 59 is 1900-02-28, 60 the phantom 1900-02-29, 61
     * 1900-03-01 (one day ahead of a plain count from then on). */
    assert_int_equal(ser("1", false, false, &v), VP_OK);
    assert_int_equal(v, -25567);
    assert_int_equal(ser("59", false, false, &v), VP_OK);
    assert_int_equal(v, -25509);
    assert_int_equal(ser("60", false, false, &v), VP_CALENDAR);
    assert_int_equal(ser("60.5", false, true, &v), VP_CALENDAR);
    assert_int_equal(ser("61", false, false, &v), VP_OK);
    assert_int_equal(v, -25508);
    assert_int_equal(ser("25569", false, false, &v), VP_OK); /* 1970-01-01 */
    assert_int_equal(v, 0);
    assert_int_equal(ser("2958465", false, false, &v), VP_OK); /* 9999-12-31 */
    assert_int_equal(v, 2932896);
    assert_int_equal(ser("2958466", false, false, &v), VP_RANGE);
    assert_int_equal(ser("0.5", false, true, &v), VP_RANGE); /* a time with no date */
    assert_int_equal(ser("0", false, false, &v), VP_RANGE);
    assert_int_equal(ser("-1", false, false, &v), VP_RANGE);
    /* 1904 system: serial 0 is 1904-01-01, 1462 is 1908-01-02 (no phantom day). */
    assert_int_equal(ser("0", true, false, &v), VP_OK);
    assert_int_equal(v, -24107);
    assert_int_equal(ser("60", true, false, &v), VP_OK);
    assert_int_equal(v, -24047);
    assert_int_equal(ser("24107", true, false, &v), VP_OK); /* 1970-01-01 */
    assert_int_equal(v, 0);
    assert_int_equal(ser("-0.5", true, true, &v), VP_RANGE);
    /* Times: the fraction of a day, to the millisecond; a date column refuses a time. */
    assert_int_equal(ser("25569.5", false, true, &v), VP_OK);
    assert_int_equal(v, INT64_C(43200000000));
    assert_int_equal(ser("25569.5", false, false, &v), VP_PRECISION);
    /* 12:34:56.789 = 45296.789 s = 0.524268391203704 of a day (as a writer computes it). */
    assert_int_equal(ser("25569.524268391203704", false, true, &v), VP_OK);
    assert_int_equal(v, INT64_C(45296789000));
    /* a millisecond short of midnight stays on its day; half a millisecond rounds up to it */
    assert_int_equal(ser("25569.99999998843", false, true, &v), VP_OK);
    assert_int_equal(v, INT64_C(86399999000));
    assert_int_equal(ser("25569.999999999", false, true, &v), VP_OK);
    assert_int_equal(v, INT64_C(86400000000));
    assert_int_equal(ser("12x", false, false, &v), VP_SYNTAX);
    assert_int_equal(ser("", false, false, &v), VP_SYNTAX);
    assert_int_equal(ser("inf", false, true, &v), VP_SYNTAX);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(vp_utf8_valid("plain ascii, long enough for words", 34));
    assert_true(vp_utf8_valid("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_false(vp_utf8_valid("\xc3", 1));
    assert_false(vp_utf8_valid("abcdefgh\xff", 9));
    assert_false(vp_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(vp_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(vp_utf8_valid("\xed\xa0\x80", 3));     /* surrogate U+D800 */
    assert_false(vp_utf8_valid("\xf4\x90\x80\x80", 4)); /* U+110000 */
    assert_true(vp_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    assert_int_equal(vp_utf8_count("\xc3\xa9t\xc3\xa9", 5), 3);
    assert_int_equal(vp_utf8_count("\xf0\x9f\x98\x80x", 5), 2);
}

static void test_messages(void **state)
{
    (void)state;
    char m[300];
    struct vp_col c = {.type = {DT_INT64, 0, 0}};
    vp_message(m, sizeof(m), VP_SYNTAX, &c, "12x", 3);
    assert_string_equal(m, "'12x' is not a valid int64");
    c.type.id = DT_INT8;
    vp_message(m, sizeof(m), VP_RANGE, &c, "300", 3);
    assert_string_equal(m, "'300' is out of range for int8");
    c.type.id = DT_DATE;
    vp_message(m, sizeof(m), VP_SYNTAX, &c, "31-02-2020", 10);
    assert_string_equal(m, "'31-02-2020' is not a valid date (expected YYYY-MM-DD)");
    c.type.id = DT_TIMESTAMP;
    vp_message(m, sizeof(m), VP_PRECISION, &c, "2020-01-01T00:00:00.0000001", 27);
    assert_string_equal(m, "'2020-01-01T00:00:00.0000001' is more precise than microseconds");
    c.type = (struct dtype_info){DT_DECIMAL, 5, 2};
    vp_message(m, sizeof(m), VP_SCALE, &c, "1.234", 5);
    assert_string_equal(m, "'1.234' has more than 2 digits after the point for decimal(5,2)");
    c.type = (struct dtype_info){DT_DATE, 0, 0};
    char *texts[] = {"%d/%m/%Y", "%Y-%m-%d"};
    c.fmt_text = texts;
    c.nfmt = 1;
    vp_message(m, sizeof(m), VP_SYNTAX, &c, "x", 1);
    assert_string_equal(m, "'x' is not a valid date (expected format '%d/%m/%Y')");
    c.nfmt = 2;
    vp_message(m, sizeof(m), VP_SYNTAX, &c, "x", 1);
    assert_string_equal(m, "'x' is not a valid date (expected format '%d/%m/%Y' or '%Y-%m-%d')");
    c = (struct vp_col){.type = {DT_INT64, 0, 0}, .thousands = ','};
    vp_message(m, sizeof(m), VP_SYNTAX, &c, "3,77,9", 6);
    assert_string_equal(m, "'3,77,9' is not a valid int64 (expected thousands separator ',' "
                           "between groups of three digits and decimal mark '.')");
    char q[32];
    /* Cut on a code point boundary: "é" is 2 bytes, the cut at 3 bytes backs off to 2. */
    assert_string_equal(vp_quote(q, sizeof(q), "a\xc3\xa9\xc3\xa9", 5, 2), "'a...'");
    assert_string_equal(vp_quote(q, sizeof(q), "abcdef", 6, 3), "'abc...'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_float),
        cmocka_unit_test(test_float_locale_independent),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_offsets_months_formats),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_timedelta),
        cmocka_unit_test(test_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
