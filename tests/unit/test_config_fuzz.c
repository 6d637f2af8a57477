/*
 * test_config_fuzz.c - deterministic mutation runs over the config fixtures.
 *
 * astro.yaml and schema files are outside input, so the loader must answer every byte string with
 * either a config or one error (never a crash, a leak or a half-filled result). Each fixture is
 * mutated many times (byte flips, deletions, insertions of YAML punctuation, line duplication)
 * with a fixed seed, so a failure reproduces; run under -DASTRO_SANITIZE=ON to catch memory errors.
 */
/* cmocka.h needs these first. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA ASTRO_TEST_DATA "/config"
#define ROUNDS 1500

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/astro_test_cfgfuzz_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    /* full.yaml names pandera/list_form.yaml relative to itself. */
    char link[128];
    snprintf(link, sizeof(link), "%s/pandera", tmpdir);
    setenv("ASTRO_TEST_HOST", "h", 1);
    setenv("ASTRO_TEST_EMPTY", "", 1);
    return symlink(DATA "/pandera", link);
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof(p), "%s/pandera", tmpdir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/astro.yaml", tmpdir);
    unlink(p);
    return rmdir(tmpdir);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    /* xorshift64*: enough to spread mutations; fixed seed for reproducible failures. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *p = malloc(65536);
    assert_non_null(p);
    *n = fread(p, 1, 65536, f);
    fclose(f);
    return p;
}

/* Applies 1-4 random edits to src into dst (capacity cap); returns the new length. */
static size_t mutate(const char *src, size_t n, char *dst, size_t cap)
{
    static const char punct[] = ":-[]{},'\"#&*!|>? \n\t\\%@`~0";
    memcpy(dst, src, n);
    size_t len = n;
    int edits = 1 + (int)(rnd() % 4);
    for (int k = 0; k < edits; k++) {
        if (len == 0) {
            break;
        }
        size_t at = (size_t)(rnd() % len);
        switch (rnd() % 5) {
        case 0: dst[at] = (char)(dst[at] ^ (1u << (rnd() % 8))); break;
        case 1:
            memmove(dst + at, dst + at + 1, len - at - 1);
            len--;
            break;
        case 2:
            if (len + 1 < cap) {
                memmove(dst + at + 1, dst + at, len - at);
                dst[at] = punct[rnd() % (sizeof(punct) - 1)];
                len++;
            }
            break;
        case 3: dst[at] = punct[rnd() % (sizeof(punct) - 1)]; break;
        default: {
            /* Duplicate the line holding at: duplicate keys, doubled list items. */
            size_t b = at;
            while (b > 0 && dst[b - 1] != '\n') {
                b--;
            }
            size_t e = at;
            while (e < len && dst[e] != '\n') {
                e++;
            }
            size_t ln = e < len ? e - b + 1 : e - b;
            if (len + ln < cap) {
                memmove(dst + b + ln, dst + b, len - b);
                len += ln;
            }
            break;
        }
        }
    }
    return len;
}

static void run_fixture(const char *fixture, bool as_schema)
{
    size_t n = 0;
    char *src = slurp(fixture, &n);
    char *buf = malloc(2 * 65536);
    assert_non_null(buf);
    char path[128];
    snprintf(path, sizeof(path), "%s/astro.yaml", tmpdir);
    size_t ok = 0;
    for (int r = 0; r < ROUNDS; r++) {
        size_t len = mutate(src, n, buf, 2 * 65536);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        struct err e = {0};
        int rc = 0;
        if (as_schema) {
            struct schema s;
            rc = config_load_schema_file(path, &s, &e);
            if (rc == 0) {
                schema_release(&s);
            } else {
                assert_null(s.cols);
            }
        } else {
            struct config *c = NULL;
            rc = config_load(path, &c, &e);
            assert_true((rc == 0) == (c != NULL));
            config_free(c);
        }
        if (rc != 0) {
            if (rc != AE_CONFIG && rc != AE_IO) {
                print_error("round %d: rc %d: %s\n", r, rc, e.msg);
            }
            assert_true(rc == AE_CONFIG || rc == AE_IO);
            assert_int_equal(e.code, rc);
            assert_true(strlen(e.msg) > 0);
        } else {
            ok++;
        }
    }
    /* Some mutations (inside comments, values) keep the file valid; a loader that refused
     * everything would fail here. */
    assert_true(ok > 0);
    free(buf);
    free(src);
}

static void test_fuzz_full(void **state)
{
    (void)state;
    run_fixture(DATA "/full.yaml", false);
}

static void test_fuzz_minimal(void **state)
{
    (void)state;
    run_fixture(DATA "/minimal.yaml", false);
}

static void test_fuzz_pandera(void **state)
{
    (void)state;
    run_fixture(DATA "/pandera/dict_form.yaml", true);
    run_fixture(DATA "/pandera/list_form.yaml", true);
    run_fixture(DATA "/pandera/flat_form.yaml", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_full),
        cmocka_unit_test(test_fuzz_minimal),
        cmocka_unit_test(test_fuzz_pandera),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
