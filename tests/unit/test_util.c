/*
 * test_util.c - struct buf, struct err, dtype names and struct batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "batch/batch.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/tz.h"
#include "test_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_buf_grow_and_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(buf_append(&b, "0123456789", 10), 0);
    }
    assert_int_equal(b.len, 90);
    assert_string_equal(b.data + 80, "0123456789");
    /* 90 + 10 + NUL exceeds the 100-byte cap: refused, buffer unchanged. */
    assert_int_equal(buf_append(&b, "0123456789", 10), AE_NOMEM);
    assert_int_equal(b.len, 90);
    size_t n = 0;
    char *p = buf_detach(&b, &n);
    assert_non_null(p);
    assert_int_equal(n, 90);
    assert_null(b.data);
    free(p);
    buf_release(&b);
}

static void test_buf_detach_empty(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    size_t n = 99;
    char *p = buf_detach(&b, &n);
    assert_non_null(p);
    assert_int_equal(n, 0);
    assert_string_equal(p, "");
    free(p);
}

static void test_buf_json(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    const char in[] = "a\"b\\c\n\x01\xc3\xa9\xff";
    assert_int_equal(buf_json_str(&b, in, sizeof(in) - 1), 0);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\u00ff\"");
    buf_release(&b);
}

/* The printable form of outside names (logs, manifests): bytes that are not UTF-8 as \xHH,
 * control characters too when asked, valid UTF-8 untouched. */
static void test_buf_escaped(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    static const char in[] = "a\xff\n\x01\tb\xc3\xa9\x7f\\";
    assert_int_equal(buf_put_escaped(&b, in, sizeof(in) - 1, true, false), 0);
    assert_string_equal(b.data, "a\\xff\\n\\x01\\tb\xc3\xa9\\x7f\\");
    buf_reset(&b);
    assert_int_equal(buf_put_escaped(&b, in, sizeof(in) - 1, false, false), 0);
    assert_string_equal(b.data, "a\\xff\n\x01\tb\xc3\xa9\x7f\\");
    buf_reset(&b);
    assert_int_equal(buf_put_escaped(&b, "x\ny\rz", 5, true, true), 0);
    assert_string_equal(b.data, "x\ny\\rz");
    buf_release(&b);
    assert_true(buf_is_plain("caf\xc3\xa9", 5, true));
    assert_false(buf_is_plain("a\nb", 3, true));
    assert_true(buf_is_plain("a\nb", 3, false));
    assert_false(buf_is_plain("\xc3", 1, false)); /* a sequence cut short */
    char *s = buf_escaped_str("x\x80");
    assert_non_null(s);
    assert_string_equal(s, "x\\x80");
    free(s);
}

/* The temporary names atomic_file_open gives are the ones reconciliation removes, and only
 * those. */
static void test_atomic_tmp_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/astro_test_tmpnames_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = fs_join(dir, "x.parquet");
    struct atomic_file f;
    struct err e;
    assert_int_equal(atomic_file_open(&f, path, &e), 0);
    const char *base = strrchr(f.tmp_path, '/') + 1;
    assert_true(fs_is_atomic_tmp(base));
    assert_false(fs_is_atomic_tmp("x.parquet"));
    assert_false(fs_is_atomic_tmp(".x.parquet.tmp"));
    assert_false(fs_is_atomic_tmp(".x.parquet.0123456789AB.tmp"));
    assert_false(fs_is_atomic_tmp(".lock"));
    char *keep = fs_join(dir, ".keep.tmp");
    FILE *k = fopen(keep, "w");
    assert_non_null(k);
    fclose(k);
    size_t removed = 0;
    assert_int_equal(fs_remove_atomic_tmps(dir, &removed, &e), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(access(keep, F_OK), 0);
    atomic_file_abort(&f);
    unlink(keep);
    rmdir(dir);
    free(keep);
    free(path);
}

static void test_err_prefix(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(err_set(&e, AE_CONFIG, "bad %s", "key"), AE_CONFIG);
    assert_int_equal(err_prefix(&e, "astro.yaml:%d:%d", 3, 7), AE_CONFIG);
    assert_string_equal(e.msg, "astro.yaml:3:7: bad key");
}

static void test_dtype_parse(void **state)
{
    (void)state;
    struct err e;
    struct dtype_info t;
    char name[64];
    assert_int_equal(dtype_parse("Int64", &t, &e), 0);
    assert_int_equal(t.id, DT_INT64);
    assert_int_equal(dtype_parse("datetime64[ns, UTC]", &t, &e), 0);
    assert_int_equal(t.id, DT_TIMESTAMP_TZ);
    assert_int_equal(dtype_parse("datetime64[ns]", &t, &e), 0);
    assert_int_equal(t.id, DT_TIMESTAMP);
    assert_int_equal(dtype_parse("decimal(12, 2)", &t, &e), 0);
    assert_int_equal(t.id, DT_DECIMAL);
    assert_int_equal(t.precision, 12);
    assert_int_equal(t.scale, 2);
    assert_string_equal(dtype_name(t, name, sizeof(name)), "decimal(12,2)");
    assert_int_equal(dtype_parse("decimal(39,2)", &t, &e), AE_CONFIG);
    assert_int_equal(dtype_parse("decimal(5,6)", &t, &e), AE_CONFIG);
    assert_int_equal(dtype_parse("datetime64[ns, Europe/London]", &t, &e), 0);
    assert_int_equal(t.id, DT_TIMESTAMP_TZ);
    assert_true(dtype_zone("datetime64[ns, Europe/London]", name, sizeof(name)));
    assert_string_equal(name, "Europe/London");
    assert_false(dtype_zone("datetime64[ns, UTC]", name, sizeof(name)));
    assert_false(dtype_zone("datetime64[ns]", name, sizeof(name)));
    assert_int_equal(dtype_parse("datetime64[ns, ]", &t, &e), AE_CONFIG);
    assert_int_equal(dtype_parse("int65", &t, &e), AE_CONFIG);
    assert_non_null(strstr(e.msg, "int65"));
    assert_int_equal(dtype_parse("timedelta64[ns]", &t, &e), 0);
    assert_string_equal(dtype_name(t, name, sizeof(name)), "timedelta64[ns]");
    assert_int_equal(dtype_parse("category", &t, &e), 0);
    assert_int_equal(t.id, DT_STR);
}

/* The tz database's Europe/London (tzdata): offsets on both sides of a change, wall-clock times
 * that happened twice or never, names that are not zones, files that are not TZif. */
/* dtype_format_decimal against the digits of the value, around the 64-bit boundary where it
 * switches from 64- to 128-bit division, with and without a scale, signed. */
static void test_format_decimal(void **state)
{
    (void)state;
    char out[64];
    struct {
        __int128 v;
        unsigned scale;
        const char *want;
    } cases[] = {
        {0, 0, "0"},
        {0, 2, "0.00"},
        {5, 2, "0.05"},
        {-5, 2, "-0.05"},
        {12345, 2, "123.45"},
        {-12345, 0, "-12345"},
        {(__int128)UINT64_MAX, 0, "18446744073709551615"},
        {(__int128)UINT64_MAX + 1, 0, "18446744073709551616"},
        {-(__int128)UINT64_MAX - 1, 4, "-1844674407370955.1616"},
        {(__int128)10000000000000000000ULL * 7, 0, "70000000000000000000"},
        {(__int128)10000000000000000000ULL * 7 + 3, 20, "0.70000000000000000003"},
        {(__int128)99999999999999999ULL * 10000000000000000000ULL + 9999999999999999999ULL, 36,
         "0.999999999999999999999999999999999999"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = dtype_format_decimal(out, cases[i].v, cases[i].scale);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
    /* Every power of ten and its neighbours up to 10^38, against a digit-by-digit reference. */
    unsigned __int128 p = 1;
    for (int k = 0; k <= 37; k++, p *= 10) {
        for (int d = -1; d <= 1; d++) {
            unsigned __int128 x = p + (unsigned __int128)(__int128)d;
            char ref[64];
            size_t m = 0;
            unsigned __int128 y = x;
            do {
                ref[m++] = (char)('0' + (int)(y % 10));
                y /= 10;
            } while (y != 0);
            char want[64];
            for (size_t j = 0; j < m; j++) {
                want[j] = ref[m - 1 - j];
            }
            want[m] = '\0';
            dtype_format_decimal(out, (__int128)x, 0);
            assert_string_equal(out, want);
        }
    }
}

static void test_tz(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct tz *z = NULL;
    assert_int_equal(tz_load(&z, NULL, "Europe/London", &e), 0);
    assert_string_equal(tz_name(z), "Europe/London");
    int32_t off = -1;
    assert_int_equal(tz_offset_at(z, 1705320000, &off), TZ_OK); /* 2024-01-15 12:00Z */
    assert_int_equal(off, 0);
    assert_int_equal(tz_offset_at(z, 1721041200, &off), TZ_OK); /* 2024-07-15 11:00Z */
    assert_int_equal(off, 3600);
    int64_t u = 0;
    assert_int_equal(tz_to_utc(z, 1721044800, &u), TZ_OK); /* 2024-07-15 12:00 BST */
    assert_int_equal(u, 1721041200);
    assert_int_equal(tz_to_utc(z, 1711848600, &u), TZ_NONEXISTENT); /* 2024-03-31 01:30 */
    assert_int_equal(tz_to_utc(z, 1729992600, &u), TZ_AMBIGUOUS);   /* 2024-10-27 01:30 */
    assert_int_equal(tz_to_utc(z, 1729990799, &u), TZ_OK);          /* 00:59:59 BST */
    assert_int_equal(u, 1729987199);
    assert_int_equal(tz_to_utc(z, 4102444800, &u), TZ_OK); /* 2100: the footer's rule */
    assert_int_equal(u, 4102444800); /* GMT (test_tz.c checks the rule in depth) */
    tz_free(z);
    assert_int_equal(tz_load(&z, NULL, "Asia/Tokyo", &e), 0); /* fixed offset after its table */
    assert_int_equal(tz_to_utc(z, 4102444800, &u), TZ_OK);
    assert_int_equal(u, 4102444800 - 9 * 3600);
    tz_free(z);
    assert_int_equal(tz_load(&z, NULL, "../etc/passwd", &e), AE_CONFIG);
    assert_null(z);
    assert_int_equal(tz_load(&z, NULL, "Mars/Olympus", &e), AE_CONFIG);
    assert_non_null(strstr(e.msg, "Mars/Olympus"));
    char *dir = th_tempdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/Bad", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a tzif file", f);
    fclose(f);
    assert_int_equal(tz_load(&z, dir, "Bad", &e), AE_CONFIG);
    assert_non_null(strstr(e.msg, "TZif"));
    unlink(path);
    rmdir(dir);
    free(dir);
    tz_free(NULL);
}

static void test_batch_strings(void **state)
{
    (void)state;
    struct dtype_info types[2] = {{DT_STR, 0, 0}, {DT_INT64, 0, 0}};
    struct batch b;
    assert_int_equal(batch_init(&b, types, 2, 4), 0);
    assert_int_equal(batch_put_bytes(&b, 0, 0, "abc", 3, 1), 0);
    assert_int_equal(batch_put_bytes(&b, 0, 1, NULL, 0, 0), 0);
    assert_int_equal(batch_put_bytes(&b, 0, 2, "", 0, 1), 0);
    b.nrows = 3;
    assert_int_equal(b.cols[0].offs[1], 3);
    assert_int_equal(b.cols[0].offs[2], 3);
    assert_int_equal(b.cols[0].valid[1], 0);
    assert_int_equal(b.cols[0].valid[2], 1);
    b.row_ok[0] = 1;
    b.row_ok[1] = 0;
    b.row_ok[2] = 1;
    assert_int_equal(batch_count_ok(&b), 2);
    batch_reset(&b);
    assert_int_equal(b.nrows, 0);
    assert_int_equal(b.cols[0].data.len, 0);
    batch_release(&b);
}

/* batch_claim empties the batch like batch_reset, zeroes every array, and the batch refills as
 * a fresh one would (the pool calls it before refilling a block on another thread). */
static void test_batch_claim(void **state)
{
    (void)state;
    struct dtype_info types[2] = {{DT_STR, 0, 0}, {DT_INT64, 0, 0}};
    struct batch b;
    assert_int_equal(batch_init(&b, types, 2, 4), 0);
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(batch_put_bytes(&b, 0, r, "value", 5, 1), 0);
        b.cols[1].v.i64[r] = 7;
        b.cols[1].valid[r] = 1;
        b.line[r] = r + 2;
        b.row_ok[r] = 1;
    }
    b.nrows = 4;
    batch_claim(&b);
    assert_int_equal(b.nrows, 0);
    assert_int_equal(b.cols[0].data.len, 0);
    assert_true(b.cols[0].data.cap >= 20); /* the memory is kept */
    assert_int_equal(b.cols[0].offs[0], 0);
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(b.cols[1].v.i64[r], 0);
        assert_int_equal(b.cols[1].valid[r], 0);
        assert_int_equal(b.cols[0].valid[r], 0);
        assert_int_equal(b.line[r], 0);
        assert_int_equal(b.row_ok[r], 0);
    }
    assert_int_equal(batch_put_bytes(&b, 0, 0, "xy", 2, 1), 0);
    b.nrows = 1;
    assert_int_equal(b.cols[0].offs[1], 2);
    assert_memory_equal(b.cols[0].data.data, "xy", 2);
    batch_release(&b);
}

/* Names in messages: as they are when plain, else quoted with quotes, backslashes, control
 * characters and bytes that are not UTF-8 escaped. */
static void test_buf_put_name(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"orders.csv", "orders.csv"},
        {"/data/in/orders_2024-01.csv", "/data/in/orders_2024-01.csv"},
        {"\xc3\x89tablissement", "\xc3\x89tablissement"},
        {"Full Name", "'Full Name'"},
        {"my file.csv", "'my file.csv'"},
        {"it's", "'it\\'s'"},
        {"a\\b", "'a\\\\b'"},
        {"a\nb", "'a\\nb'"},
        {"a\xff.csv", "'a\\xff.csv'"},
        {"", "''"},
        {"x;rm", "'x;rm'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = buf_name_str(cases[i][0]);
        assert_non_null(got);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grow_and_cap), cmocka_unit_test(test_buf_detach_empty),
        cmocka_unit_test(test_buf_json),         cmocka_unit_test(test_err_prefix),
        cmocka_unit_test(test_dtype_parse),      cmocka_unit_test(test_batch_strings),
        cmocka_unit_test(test_batch_claim),      cmocka_unit_test(test_buf_escaped),
        cmocka_unit_test(test_atomic_tmp_names), cmocka_unit_test(test_buf_put_name),
        cmocka_unit_test(test_tz),               cmocka_unit_test(test_format_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
