/*
 * test_linemap.c - the row -> source line map of astro's Parquet files (sink/linemap.h): runs
 * built from batches (rows left out, multi-line records), the text form and its parsing, the
 * bound on runs, and text that is not a map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sink/linemap.h"

#include <stdlib.h>
#include <string.h>

/* A one-column batch whose rows have lines[i] and row_ok[i]. */
static void lines_batch(struct batch *b, const uint64_t *lines, const uint8_t *ok, size_t n)
{
    const struct dtype_info types[] = {{DT_INT64, 0, 0}};
    assert_int_equal(batch_init(b, types, 1, n), 0);
    for (size_t i = 0; i < n; i++) {
        b->line[i] = lines[i];
        b->row_ok[i] = ok[i];
        b->cols[0].valid[i] = 1;
    }
    b->nrows = n;
}

static void test_build_and_read(void **state)
{
    (void)state;
    struct err e = {0};
    struct line_map m;
    line_map_init(&m);
    struct batch b;
    /* header on line 1; line 4 holds a record over two lines; line 6 is invalid (left out). */
    const uint64_t l1[] = {2, 3, 4, 6, 7, 8};
    const uint8_t ok1[] = {1, 1, 1, 0, 1, 1};
    lines_batch(&b, l1, ok1, 6);
    assert_int_equal(line_map_add(&m, &b, &e), 0);
    batch_release(&b);
    const uint64_t l2[] = {9, 12};
    const uint8_t ok2[] = {1, 1};
    lines_batch(&b, l2, ok2, 2);
    assert_int_equal(line_map_add(&m, &b, &e), 0);
    batch_release(&b);
    char *text = NULL;
    assert_int_equal(line_map_text(&m, &text, &e), 0);
    assert_string_equal(text, "v1 0:2 3:7 6:12");
    line_map_release(&m);

    struct line_map r;
    assert_int_equal(line_map_parse(&r, text, &e), 0);
    const uint64_t want[] = {2, 3, 4, 7, 8, 9, 12, 13};
    for (uint64_t row = 0; row < 8; row++) {
        assert_int_equal(line_map_line(&r, row), want[row]);
    }
    line_map_release(&r);
    free(text);
}

static void test_bound_and_bad_text(void **state)
{
    (void)state;
    struct err e = {0};
    struct line_map m;
    line_map_init(&m);
    struct batch b;
    /* Every other line: one run per row, past the bound. */
    size_t n = LINE_MAP_MAX_RUNS + 10;
    uint64_t *lines = malloc(n * sizeof(*lines));
    uint8_t *ok = malloc(n);
    for (size_t i = 0; i < n; i++) {
        lines[i] = 2 + 2 * i;
        ok[i] = 1;
    }
    lines_batch(&b, lines, ok, n);
    assert_int_equal(line_map_add(&m, &b, &e), 0);
    batch_release(&b);
    assert_int_equal(m.n, LINE_MAP_MAX_RUNS);
    assert_int_equal(m.unknown_from, LINE_MAP_MAX_RUNS);
    char *text = NULL;
    assert_int_equal(line_map_text(&m, &text, &e), 0);
    line_map_release(&m);
    struct line_map r;
    assert_int_equal(line_map_parse(&r, text, &e), 0);
    assert_int_equal(line_map_line(&r, 5), 12);
    assert_int_equal(line_map_line(&r, LINE_MAP_MAX_RUNS - 1), 2 + 2 * (LINE_MAP_MAX_RUNS - 1));
    assert_int_equal(line_map_line(&r, LINE_MAP_MAX_RUNS), 0); /* unknown */
    line_map_release(&r);
    free(text);
    free(lines);
    free(ok);

    const char *bad[] = {NULL,      "",        "v2 0:1",
                         "v1 0:",   "v1 0:x",  "v1 3:4 2:9",
                         "v1 0:1 ", "v1 1:?x", "v1 99999999999999999999:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(line_map_parse(&r, bad[i], &e), AE_FORMAT);
        assert_int_equal(line_map_line(&r, 0), 0);
    }
    assert_int_equal(line_map_parse(&r, "v1", &e), 0); /* a file without rows */
    assert_int_equal(line_map_line(&r, 0), 0);
    line_map_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_read),
        cmocka_unit_test(test_bound_and_bad_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
