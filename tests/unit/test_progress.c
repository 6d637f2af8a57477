/*
 * test_progress.c - the large-file progress display: the terminal bar's fields and the periodic
 * log lines used when stderr is not a terminal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/progress.h"

#include <stdlib.h>
#include <string.h>

static void test_human_figures(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(progress_bytes(999, b, sizeof(b)), "999 B");
    assert_string_equal(progress_bytes(1500000, b, sizeof(b)), "1.5 MB");
    assert_string_equal(progress_bytes(2000000000ull, b, sizeof(b)), "2.0 GB");
    assert_string_equal(progress_count(1234, b, sizeof(b)), "1234");
    assert_string_equal(progress_count(12345, b, sizeof(b)), "12.3k");
    assert_string_equal(progress_count(12345678, b, sizeof(b)), "12.35M");
}

static void test_terminal_bar(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    struct log lg;
    log_init(&lg, NULL, LOG_INFO, false);
    struct progress p;
    progress_init(&p, true, mem, &lg, "orders", 2000000000ull);
    p.tty = true;       /* as if stderr were a terminal */
    p.start -= 10.0;    /* 10 s elapsed */
    p.last -= 1.0;
    progress_update(&p, 500000000ull, 1000000, 1234);
    fflush(mem);
    /* 25% of 2 GB in 10 s: 50 MB/s, 1M rows so far so ~4M in all, 30 s left. */
    assert_non_null(strstr(text, "orders ["));
    assert_non_null(strstr(text, " 25% 500.0 MB/2.0 GB"));
    assert_non_null(strstr(text, "1.00M rows (~4.00M)"));
    assert_non_null(strstr(text, "  1234 failures  "));
    assert_non_null(strstr(text, "50.0 MB/s"));
    assert_non_null(strstr(text, "ETA 0:00:30"));
    /* Within the redraw interval nothing more is printed. */
    size_t before = len;
    progress_update(&p, 600000000ull, 1200000, 1300);
    fflush(mem);
    assert_int_equal(len, before);
    fclose(mem);
    free(text);
}

static void test_plain_lines_when_not_a_terminal(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    struct log lg;
    log_init(&lg, mem, LOG_INFO, false);
    struct progress p;
    progress_init(&p, true, mem, &lg, "orders", 1000000ull);
    p.tty = false;
    p.start -= 20.0;
    p.last -= 11.0; /* plain lines come every 10 s */
    progress_update(&p, 500000ull, 5000, 0);
    fflush(mem);
    assert_non_null(strstr(text, "INFO  [orders] progress: 50% 500.0 KB of 1.0 MB, 5000 rows "
                                 "(~10.0k estimated), 0 failures, "));
    assert_null(strchr(text, '\r'));
    fclose(mem);
    free(text);
}

static void test_disabled_prints_nothing(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    struct log lg;
    log_init(&lg, mem, LOG_INFO, false);
    struct progress p;
    progress_init(&p, false, mem, &lg, "small", 100);
    p.last -= 100.0;
    progress_update(&p, 50, 5, 1);
    progress_done(&p, 100, 10, 1);
    fflush(mem);
    assert_int_equal(len, 0);
    fclose(mem);
    free(text);
}

/* A load's bar: rows against the known total, bytes estimated from them; on a terminal only. */
static void test_load_bar(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    struct progress p;
    progress_init_rows(&p, true, mem, "load_orders", 1000000, 30000000ull);
    assert_false(p.enabled); /* a memory stream is not a terminal: nothing is shown */
    p.tty = true;            /* as if stderr were a terminal */
    p.enabled = true;
    p.start -= 4.0; /* 4 s elapsed */
    p.last -= 1.0;
    progress_update(&p, 0, 400000, 0);
    fflush(mem);
    /* 40% of 1M rows in 4 s: 100k rows/s, 12 MB of 30 MB, 6 s left. */
    assert_non_null(strstr(text, "\rload_orders [############------------------]  40% "
                                 "400.0k/1.00M rows  12.0 MB/30.0 MB  100.0k rows/s  ETA 0:00:06"));
    progress_done(&p, 0, 1000000, 0);
    fflush(mem);
    assert_non_null(strstr(text, "100% 1.00M/1.00M rows  30.0 MB/30.0 MB"));
    /* The final draw clears the bar's line. */
    assert_int_equal(strcmp(text + len - 4, "\r\033[K"), 0);
    fclose(mem);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_human_figures),
        cmocka_unit_test(test_terminal_bar),
        cmocka_unit_test(test_plain_lines_when_not_a_terminal),
        cmocka_unit_test(test_disabled_prints_nothing),
        cmocka_unit_test(test_load_bar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
