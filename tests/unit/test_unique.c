/*
 * test_unique.c - the key set and the key spill of src/validate/unique.h: exact and fingerprint
 * keys, first lines, the pre-pass's last line and repeat flag, growth past a hint, the memory a
 * key takes, and the spill's verdicts against a plain reference in every report_duplicates mode
 * with a tiny write buffer (so keys really go through the file, many chunks per partition).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include "validate/unique.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_exact_keys(void **state)
{
    (void)state;
    struct kset s;
    kset_init(&s, false);
    uint64_t first = 0;
    /* Keys that differ only in the bits a partition or a slot is chosen by stay distinct. */
    for (uint64_t i = 0; i < 200000; i++) {
        assert_int_equal(kset_add(&s, vkey_exact(i * 0x10000), i + 2, &first), 0);
    }
    assert_int_equal(kset_count(&s), 200000);
    for (uint64_t i = 0; i < 200000; i += 997) {
        assert_int_equal(kset_add(&s, vkey_exact(i * 0x10000), 999999, &first), 1);
        assert_int_equal(first, i + 2);
    }
    assert_int_equal(kset_add(&s, vkey_exact(UINT64_MAX), 5, &first), 0);
    assert_int_equal(kset_add(&s, vkey_exact(UINT64_MAX), 6, &first), 1);
    assert_int_equal(first, 5);
    uint64_t line = 0;
    bool dup = true;
    assert_int_equal(kset_get(&s, vkey_exact(0x10000), &line, &dup), 1);
    assert_int_equal(line, 3);
    assert_false(dup);
    assert_int_equal(kset_get(&s, vkey_exact(7), &line, &dup), 0);
    /* Lines outside 1..KSET_MAX_LINE are refused, the set unchanged. */
    assert_int_equal(kset_add(&s, vkey_exact(9), 0, &first), AE_INTERNAL);
    assert_int_equal(kset_add(&s, vkey_exact(9), KSET_MAX_LINE + 1, &first), AE_INTERNAL);
    assert_int_equal(kset_add(&s, vkey_exact(9), KSET_MAX_LINE, &first), 0);
    assert_int_equal(kset_add(&s, vkey_exact(9), 1, &first), 1);
    assert_int_equal(first, KSET_MAX_LINE);
    kset_release(&s);
    assert_int_equal(kset_count(&s), 0);
    kset_release(&s); /* twice is fine */
}

static void test_fingerprint_keys(void **state)
{
    (void)state;
    struct kset s;
    kset_init(&s, true);
    char buf[64];
    uint64_t first = 0;
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(buf, sizeof(buf), "customer-%d@example.org", i);
        assert_int_equal(kset_add(&s, vkey_hash(buf, (size_t)n, 0), (uint64_t)i + 1, &first), 0);
    }
    int n = snprintf(buf, sizeof(buf), "customer-%d@example.org", 4242);
    assert_int_equal(kset_add(&s, vkey_hash(buf, (size_t)n, 0), 60000, &first), 1);
    assert_int_equal(first, 4243);
    /* A different seed is a different function; "a" and "a\0" differ. */
    assert_int_equal(kset_add(&s, vkey_hash(buf, (size_t)n, 1), 60001, &first), 0);
    assert_int_equal(kset_add(&s, vkey_hash("a", 1, 0), 60002, &first), 0);
    assert_int_equal(kset_add(&s, vkey_hash("a\0", 2, 0), 60003, &first), 0);
    assert_int_equal(kset_add(&s, vkey_hash("", 0, 0), 60004, &first), 0);
    assert_int_equal(kset_add(&s, vkey_hash("", 0, 0), 60005, &first), 1);
    assert_int_equal(first, 60004);
    kset_release(&s);
}

static void test_note_last(void **state)
{
    (void)state;
    struct kset s;
    kset_init(&s, false);
    assert_int_equal(kset_note_last(&s, vkey_exact(1), 10), 0);
    assert_int_equal(kset_note_last(&s, vkey_exact(2), 11), 0);
    assert_int_equal(kset_note_last(&s, vkey_exact(1), 12), 0);
    assert_int_equal(kset_note_last(&s, vkey_exact(1), 15), 0);
    uint64_t line = 0;
    bool dup = false;
    assert_int_equal(kset_get(&s, vkey_exact(1), &line, &dup), 1);
    assert_int_equal(line, 15);
    assert_true(dup);
    assert_int_equal(kset_get(&s, vkey_exact(2), &line, &dup), 1);
    assert_int_equal(line, 11);
    assert_false(dup);
    assert_int_equal(kset_count(&s), 2);
    kset_release(&s);
}

/* Bytes a key of a set (tagless or not) hinted at n keys and given n distinct ones; the tables
 * take what kset_bytes_for says, but for a few partitions that get more than their share and
 * grow once. */
static double bytes_a_key(bool fp, bool tagless, uint64_t n)
{
    struct kset s;
    if (tagless) {
        kset_init_tagless(&s, fp);
    } else {
        kset_init(&s, fp);
    }
    kset_hint(&s, n);
    uint64_t first = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct vkey k = fp ? vkey_hash(&i, sizeof(i), 0) : vkey_exact(i);
        assert_int_equal(kset_add(&s, k, i + 1, &first), 0);
    }
    double per = (double)kset_bytes(&s) / (double)n;
    fprintf(stderr, "  %s%s keys: %.2f bytes a key\n", tagless ? "tagless " : "",
            fp ? "fingerprint" : "exact", per);
    assert_true(kset_bytes(&s) >= kset_bytes_for(fp, tagless, n));
    assert_true(kset_bytes(&s) <= kset_bytes_for(fp, tagless, n) / 100 * 103);
    kset_release(&s);
    return per;
}

/* A set sized by its hint takes about 13 bytes an exact key and 18 a fingerprint (unique.h); a
 * tagless one (no line) about 8 and 12.6 at 7/8 load (8.75 and 13.7 here: 1M keys leave each
 * partition 7% of room for the spread, 3M 4%); a set without a hint grows past it and still
 * answers. */
static void test_memory_per_key(void **state)
{
    (void)state;
    const uint64_t n = 1000000;
    assert_true(bytes_a_key(false, false, n) < 14.0);
    assert_true(bytes_a_key(true, false, n) < 19.0);
    assert_true(bytes_a_key(false, true, n) <= 9.0);
    assert_true(bytes_a_key(true, true, n) <= 14.0);
    assert_true(kset_bytes_for(false, true, n) < kset_bytes_for(false, false, n) / 11 * 7 + 16384);
    struct kset s;
    kset_init(&s, false);
    kset_hint(&s, 1000); /* far too small: the partitions grow */
    uint64_t first = 0;
    for (uint64_t i = 0; i < 300000; i++) {
        assert_int_equal(kset_add(&s, vkey_exact(i), i + 1, &first), 0);
    }
    for (uint64_t i = 0; i < 300000; i += 101) {
        assert_int_equal(kset_add(&s, vkey_exact(i), 1, &first), 1);
        assert_int_equal(first, i + 1);
    }
    assert_true((double)kset_bytes(&s) / 300000.0 < 24.0);
    kset_release(&s);
}

/* ---- the spill against a reference -------------------------------------------------------- */

struct occ {
    uint32_t set;
    uint64_t key;
    uint64_t line;
};

/* The reference verdicts: for each occurrence, scan every other occurrence of its key. */
static size_t reference(const struct occ *o, size_t n, const enum kspill_mode *modes,
                        struct kspill_verdict *out)
{
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t firstl = o[i].line, lastl = o[i].line;
        size_t count = 0;
        for (size_t j = 0; j < n; j++) {
            if (o[j].set == o[i].set && o[j].key == o[i].key) {
                count++;
                firstl = o[j].line < firstl ? o[j].line : firstl;
                lastl = o[j].line > lastl ? o[j].line : lastl;
            }
        }
        if (count < 2) {
            continue;
        }
        struct kspill_verdict v = {o[i].line, 0, o[i].set, 0};
        enum kspill_mode mode = modes[o[i].set];
        if (mode == KSPILL_FIRST && o[i].line != firstl) {
            v.aux = firstl;
        } else if (mode == KSPILL_ALL) {
            v.status = o[i].line == firstl ? 1 : 0;
            v.aux = o[i].line == firstl ? lastl : firstl;
        } else if (mode == KSPILL_LAST && o[i].line != lastl) {
            v.status = 2;
            v.aux = lastl;
        } else {
            continue;
        }
        out[nv++] = v;
    }
    return nv;
}

enum { NOCC = 6000 };

/* NOCC occurrences of three sets: exact keys 0..1499 with repeats, string-like fingerprints, and
 * a set whose keys never repeat. Lines rise in file order (rows are in order, several sets per
 * row), step apart. *want (allocated) gets the reference verdicts; returns the occurrences. */
static struct occ *occurrences(unsigned seed, uint64_t step, const enum kspill_mode *modes,
                               struct kspill_verdict **want, size_t *nwant)
{
    struct occ *o = calloc(NOCC, sizeof(*o));
    *want = calloc(NOCC, sizeof(**want));
    assert_non_null(o);
    assert_non_null(*want);
    srand(seed);
    size_t n = 0;
    for (uint64_t row = 0; row < NOCC / 3; row++) {
        uint64_t line = 2 + row * step;
        o[n++] = (struct occ){0, (uint64_t)(rand() % 1500), line};
        o[n++] = (struct occ){1, (uint64_t)(rand() % 1800), line};
        o[n++] = (struct occ){2, row, line};
    }
    *nwant = reference(o, n, modes, *want);
    return o;
}

static void spill_against_reference(const enum kspill_mode modes[3])
{
    struct kspill_verdict *want = NULL;
    size_t nwant = 0, n = NOCC;
    struct occ *o = occurrences(11, 2, modes, &want, &nwant);
    /* the reference is in occurrence order: (line, set) already */
    bool fp[3] = {false, true, false};
    struct kspill *s = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(kspill_new(&s, "/tmp", fp, 3, 16, 1, modes, &e), 0);
    for (size_t i = 0; i < n; i++) {
        struct vkey k = o[i].set == 1 ? vkey_hash(&o[i].key, 8, 0) : vkey_exact(o[i].key);
        assert_int_equal(kspill_put(s, o[i].set, k, o[i].line, &e), 0);
    }
    assert_int_equal(kspill_finish(s, &e), 0);
    uint64_t keys = 0, verdicts = 0, max_part = 0;
    kspill_stats(s, &keys, &verdicts, &max_part);
    assert_int_equal(keys, n);
    assert_int_equal(verdicts, nwant);
    assert_true(max_part < n / 8); /* really partitioned */
    for (size_t i = 0; i < nwant; i++) {
        struct kspill_verdict got;
        assert_int_equal(kspill_peek(s, &got, &e), 1);
        kspill_pop(s);
        assert_int_equal(got.line, want[i].line);
        assert_int_equal(got.set, want[i].set);
        assert_int_equal(got.status, want[i].status);
        assert_int_equal(got.aux, want[i].aux);
    }
    struct kspill_verdict none;
    assert_int_equal(kspill_peek(s, &none, &e), 0);
    assert_true(nwant > 100);
    kspill_free(s);
    free(o);
    free(want);
}

static void test_spill_first(void **state)
{
    (void)state;
    enum kspill_mode modes[3] = {KSPILL_FIRST, KSPILL_FIRST, KSPILL_FIRST};
    spill_against_reference(modes);
}

static void test_spill_all(void **state)
{
    (void)state;
    enum kspill_mode modes[3] = {KSPILL_ALL, KSPILL_ALL, KSPILL_ALL};
    spill_against_reference(modes);
}

static void test_spill_last(void **state)
{
    (void)state;
    enum kspill_mode modes[3] = {KSPILL_LAST, KSPILL_LAST, KSPILL_LAST};
    spill_against_reference(modes);
}

/* Each set judged by its own mode (unique columns fail every occurrence while the frame set keeps
 * one: validate.c). */
static void test_spill_mixed(void **state)
{
    (void)state;
    enum kspill_mode modes[3] = {KSPILL_ALL, KSPILL_FIRST, KSPILL_LAST};
    spill_against_reference(modes);
    enum kspill_mode modes2[3] = {KSPILL_LAST, KSPILL_ALL, KSPILL_FIRST};
    spill_against_reference(modes2);
}

/* struct kdups, one per set, against the same reference: every occurrence asked in file order. */
static void dups_against_reference(const enum kspill_mode modes[3])
{
    struct kspill_verdict *want = NULL;
    size_t nwant = 0, n = NOCC;
    struct occ *o = occurrences(12, 3, modes, &want, &nwant);
    struct kdups d[3];
    for (size_t k = 0; k < 3; k++) {
        kdups_init(&d[k], k == 1);
        kdups_hint(&d[k], k == 2 ? 0 : NOCC / 3);
    }
    for (size_t i = 0; i < n; i++) {
        struct vkey k = o[i].set == 1 ? vkey_hash(&o[i].key, 8, 0) : vkey_exact(o[i].key);
        assert_int_equal(kdups_put(&d[o[i].set], k, o[i].line), 0);
    }
    assert_int_equal(kdups_count(&d[2]), 0);
    for (size_t k = 0; k < 3; k++) {
        kdups_finish(&d[k], modes[k]);
        assert_null(d[k].set.parts); /* the set is gone before the main pass */
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t status = 9;
        uint64_t aux = 0;
        int got = kdups_verdict(&d[o[i].set], o[i].line, &status, &aux);
        bool expect = w < nwant && want[w].line == o[i].line && want[w].set == o[i].set;
        assert_int_equal(got, expect ? 1 : 0);
        if (expect) {
            assert_int_equal(status, want[w].status);
            assert_int_equal(aux, want[w].aux);
            w++;
        }
    }
    assert_int_equal(w, nwant);
    assert_true(nwant > 100);
    for (size_t k = 0; k < 3; k++) {
        kdups_release(&d[k]);
    }
    free(o);
    free(want);
}

static void test_dups_modes(void **state)
{
    (void)state;
    enum kspill_mode all[3] = {KSPILL_ALL, KSPILL_ALL, KSPILL_ALL};
    enum kspill_mode last[3] = {KSPILL_LAST, KSPILL_LAST, KSPILL_LAST};
    enum kspill_mode first[3] = {KSPILL_FIRST, KSPILL_FIRST, KSPILL_FIRST};
    enum kspill_mode mixed[3] = {KSPILL_LAST, KSPILL_ALL, KSPILL_FIRST};
    dups_against_reference(all);
    dups_against_reference(last);
    dups_against_reference(first);
    dups_against_reference(mixed);
}

/* kset_track: a key's first line, then its id once seen again; lines and ids range-checked. */
static void test_track(void **state)
{
    (void)state;
    struct kset s;
    kset_init(&s, false);
    uint64_t out = 0;
    assert_int_equal(kset_track(&s, vkey_exact(7), 10, 0, &out), 0);
    assert_int_equal(kset_track(&s, vkey_exact(8), 11, 0, &out), 0);
    assert_int_equal(kset_track(&s, vkey_exact(7), 12, 0, &out), 1);
    assert_int_equal(out, 10);
    assert_int_equal(kset_track(&s, vkey_exact(7), 13, 5, &out), 2);
    assert_int_equal(out, 0);
    assert_int_equal(kset_track(&s, vkey_exact(8), 14, 1, &out), 1);
    assert_int_equal(out, 11);
    assert_int_equal(kset_track(&s, vkey_exact(8), 15, 2, &out), 2);
    assert_int_equal(out, 1);
    assert_int_equal(kset_track(&s, vkey_exact(9), 0, 0, &out), AE_INTERNAL);
    assert_int_equal(kset_track(&s, vkey_exact(9), 1, KSET_MAX_LINE, &out), AE_INTERNAL);
    assert_int_equal(kset_count(&s), 2);
    kset_release(&s);
}

/* Adds exact keys 0, 1, ... to s capped at cap bytes until KSET_FULL (within max keys): the
 * tables stay within the cap and the refused key was not added. Returns the keys held. */
static uint64_t fill_to_cap(struct kset *s, uint64_t cap, uint64_t max)
{
    kset_cap(s, cap);
    uint64_t first = 0;
    uint64_t i = 0;
    int rc = 0;
    for (; i < max && rc == 0; i++) {
        rc = kset_add(s, vkey_exact(i), i + 1, &first);
    }
    assert_int_equal(rc, KSET_FULL);
    assert_true(kset_bytes(s) <= cap);
    assert_int_equal(kset_count(s), i - 1); /* the last key was not added */
    return i - 1;
}

/* kset_cap: the tables may not grow past the cap (KSET_FULL, the set unchanged); without a cap
 * the same keys fit. */
static void test_cap(void **state)
{
    (void)state;
    struct kset s;
    kset_init(&s, false);
    (void)fill_to_cap(&s, 64 << 10, 100000);
    kset_release(&s);
    kset_init(&s, false);
    uint64_t first = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        assert_int_equal(kset_add(&s, vkey_exact(i), i + 1, &first), 0);
    }
    kset_release(&s);
}

/* A tagless set (kset_init_tagless), exact or fingerprint: new keys, repeats reported without a
 * line, keys whose stored bits are all zero (an all-zero entry is empty, yet such a key is found
 * and counted once), growth past a hint, and kset_note_last / kset_track refused. */
static void test_tagless(void **state)
{
    (void)state;
    for (int fp = 0; fp < 2; fp++) {
        struct kset s;
        kset_init_tagless(&s, fp != 0);
        assert_int_equal(s.width, fp ? 11 : 7);
        kset_hint(&s, 1000); /* far too small: the partitions grow */
        uint64_t first = 99;
        const uint64_t n = 300000;
        for (uint64_t i = 0; i < n; i++) {
            struct vkey k = fp ? vkey_hash(&i, sizeof(i), 0) : vkey_exact(i * 0x10000);
            assert_int_equal(kset_add(&s, k, i + 1, &first), 0);
        }
        assert_int_equal(kset_count(&s), n);
        for (uint64_t i = 0; i < n; i += 101) {
            struct vkey k = fp ? vkey_hash(&i, sizeof(i), 0) : vkey_exact(i * 0x10000);
            first = 99;
            assert_int_equal(kset_add(&s, k, 1, &first), 1);
            assert_int_equal(first, 0);
            uint64_t line = 99;
            bool dup = true;
            assert_int_equal(kset_get(&s, k, &line, &dup), 1);
            assert_int_equal(line, 0);
            assert_false(dup);
        }
        for (uint64_t i = n; i < n + 1000; i++) {
            struct vkey k = fp ? vkey_hash(&i, sizeof(i), 0) : vkey_exact(i * 0x10000);
            uint64_t line = 0;
            bool dup = false;
            assert_int_equal(kset_get(&s, k, &line, &dup), 0);
        }
        /* Keys whose stored bits (the low 54 of h, and g) are zero, in partitions 0 and 5; a
         * fingerprint differing only in g is another key. The exact key of 0 is one of them,
         * added above (i = 0). */
        struct vkey z0 = {0, 0, 1}, z5 = {UINT64_C(5) << 54, 0, 1}, zg = {0, 1, 1};
        assert_true(vkey_exact(0).h == 0);
        uint64_t before = kset_count(&s) - (fp ? 0 : 1);
        assert_int_equal(kset_add(&s, z0, 7, &first), fp ? 0 : 1);
        assert_int_equal(kset_add(&s, z5, 8, &first), 0);
        assert_int_equal(kset_add(&s, z0, 9, &first), 1);
        assert_int_equal(kset_add(&s, z5, 9, &first), 1);
        if (fp) {
            assert_int_equal(kset_add(&s, zg, 10, &first), 0);
            assert_int_equal(kset_add(&s, zg, 11, &first), 1);
        }
        assert_int_equal(kset_count(&s), before + 2 + (uint64_t)fp);
        assert_int_equal(kset_note_last(&s, z0, 12), AE_INTERNAL);
        uint64_t out = 0;
        assert_int_equal(kset_track(&s, z0, 12, 0, &out), AE_INTERNAL);
        /* Lines are still range-checked. */
        assert_int_equal(kset_add(&s, vkey_exact(3), 0, &first), AE_INTERNAL);
        kset_release(&s);
        assert_int_equal(s.width, fp ? 11 : 7); /* the kind survives a release */
        assert_int_equal(kset_add(&s, z0, 1, &first), 0);
        assert_int_equal(kset_add(&s, z0, 2, &first), 1);
        kset_release(&s);
    }
}

/* kset_cap on a tagless set: the same bytes hold more keys than a tagged set's, and the add that
 * would grow past the cap is refused (KSET_FULL), the set unchanged. */
static void test_tagless_cap(void **state)
{
    (void)state;
    uint64_t held[2] = {0, 0};
    for (int tagless = 0; tagless < 2; tagless++) {
        struct kset s;
        if (tagless) {
            kset_init_tagless(&s, false);
        } else {
            kset_init(&s, false);
        }
        held[tagless] = fill_to_cap(&s, 256 << 10, 1000000);
        uint64_t first = 0;
        assert_int_equal(kset_add(&s, vkey_exact(0), 5, &first), 1); /* still answers */
        kset_release(&s);
    }
    /* 7-byte entries against 11: about 11/7 as many keys in the same bytes */
    assert_true(held[1] > held[0] / 10 * 14);
}

static void test_spill_bad_dir(void **state)
{
    (void)state;
    bool fp[1] = {false};
    enum kspill_mode first[1] = {KSPILL_FIRST};
    struct kspill *s = NULL;
    struct err e;
    err_clear(&e);
    assert_int_equal(kspill_new(&s, "/nonexistent/astro", fp, 1, 16, 1, first, &e), AE_IO);
    assert_null(s);
    assert_non_null(strstr(e.msg, "/nonexistent/astro"));
    assert_int_equal(kspill_new(&s, "/tmp", fp, 1, 17, 1, first, &e), AE_INTERNAL);
    kspill_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_keys),    cmocka_unit_test(test_fingerprint_keys),
        cmocka_unit_test(test_note_last),     cmocka_unit_test(test_memory_per_key),
        cmocka_unit_test(test_spill_first),   cmocka_unit_test(test_spill_all),
        cmocka_unit_test(test_spill_last),    cmocka_unit_test(test_spill_mixed),
        cmocka_unit_test(test_spill_bad_dir), cmocka_unit_test(test_dups_modes),
        cmocka_unit_test(test_track),         cmocka_unit_test(test_cap),
        cmocka_unit_test(test_tagless),       cmocka_unit_test(test_tagless_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
