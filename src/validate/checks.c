/*
 * checks.c - compiling schema columns and evaluating Pandera's built-in checks.
 *
 * A check's arguments are YAML scalars; they are typed here with the same parsers as the data
 * (vparse.h) against the column's dtype, so `greater_than: 0` on a decimal(5,2) column compares
 * unscaled 0 with unscaled values, exactly. Semantics follow pandera.api.checks.Check (the
 * built-ins in pandera/backends/pandas/builtin_checks.py): comparisons are element-wise,
 * str_matches anchors at the start only (re.match), str_contains searches (re.search), str_length
 * counts characters (code points), in_range includes both ends by default.
 * Check names shown in failures mimic Pandera's: "greater_than_or_equal_to(0)", "isin(['a', 'b'])".
 */
#include "validate/vinternal.h"

#include "validate/rx.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int verr_at(struct err *e, const struct cfg_loc *loc, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (loc == NULL) {
        return err_set(e, AE_CONFIG, "%s", msg);
    }
    const char *path = loc->path ? loc->path : "schema";
    if (loc->file != NULL) {
        return err_set(e, AE_CONFIG, "%s:%u:%u: %s: %s", loc->file, (unsigned)loc->line,
                       (unsigned)loc->col, path, msg);
    }
    return err_set(e, AE_CONFIG, "%s: %s", path, msg);
}

/* ---- comparison of typed values ---------------------------------------------------------- */

/* -1, 0, 1, or 2 when unordered (a NaN is involved). */
static int vcmp(const struct vp_col *pc, const union vp_val *x, const union vp_val *y)
{
    switch (pc->type.id) {
    case DT_STR: {
        size_t n = x->s.n < y->s.n ? x->s.n : y->s.n;
        int c = n ? memcmp(x->s.p, y->s.p, n) : 0;
        if (c != 0) {
            return c < 0 ? -1 : 1;
        }
        return x->s.n < y->s.n ? -1 : (x->s.n > y->s.n);
    }
    case DT_BOOL: return x->b < y->b ? -1 : (x->b > y->b);
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_UINT64: {
        uint64_t a = (uint64_t)x->i;
        uint64_t b = (uint64_t)y->i;
        return a < b ? -1 : (a > b);
    }
    case DT_FLOAT32:
    case DT_FLOAT64:
        if (isnan(x->f) || isnan(y->f)) {
            return 2;
        }
        return x->f < y->f ? -1 : (x->f > y->f);
    case DT_DECIMAL: return x->d < y->d ? -1 : (x->d > y->d);
    default: return x->i < y->i ? -1 : (x->i > y->i);
    }
}

/* A total order for sorting sets: NaN after every number and equal to itself. */
static int vcmp_total(const void *a, const void *b, void *ctx)
{
    const struct vp_col *pc = ctx;
    const union vp_val *x = a;
    const union vp_val *y = b;
    int c = vcmp(pc, x, y);
    if (c != 2) {
        return c;
    }
    bool nx = isnan(x->f);
    bool ny = isnan(y->f);
    return nx == ny ? 0 : (nx ? 1 : -1);
}

/* Index of v in the sorted set, or -1. Small string sets (enums such as a status column) are
 * scanned comparing lengths first: most members are rejected without touching their bytes, which
 * beats a binary search of memcmp calls (measured: isin over 6 statuses, 10M values). */
static long set_find(const struct vcheck *ck, const struct vp_col *pc, const union vp_val *v)
{
    if (pc->type.id == DT_STR && ck->nset <= 16) {
        size_t n = v->s.n;
        for (size_t k = 0; k < ck->nset; k++) {
            const union vp_val *m = &ck->set[k];
            if (m->s.n == n && (n == 0 || memcmp(m->s.p, v->s.p, n) == 0)) {
                return (long)k;
            }
        }
        return -1;
    }
    size_t lo = 0;
    size_t hi = ck->nset;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = vcmp_total(&ck->set[mid], v, (void *)pc);
        if (c == 0) {
            return (long)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

/* ---- email ------------------------------------------------------------------------------- */

/* A pragmatic address check (not RFC 5322's full grammar, which accepts nearly anything):
 * local@domain; the local part is dot-separated runs of letters, digits, non-ASCII and
 * !#$%&'*+/=?^_`{|}~- (at most 64 bytes); the domain has at least two dot-separated labels of
 * letters, digits, hyphens and non-ASCII, each 1..63 bytes and not starting or ending with a
 * hyphen, and a top-level label of at least two characters that is not all digits. */
static bool email_ok(const char *p, size_t n)
{
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '@') {
            if (at != NULL) {
                return false;
            }
            at = p + i;
        }
    }
    if (at == NULL) {
        return false;
    }
    size_t ln = (size_t)(at - p);
    if (ln == 0 || ln > 64 || p[0] == '.' || p[ln - 1] == '.') {
        return false;
    }
    for (size_t i = 0; i < ln; i++) {
        unsigned char c = (unsigned char)p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c >= 0x80 || (c != 0 && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
        if (c == '.') {
            ok = p[i + 1] != '.';
        }
        if (!ok) {
            return false;
        }
    }
    const char *d = at + 1;
    size_t dn = n - ln - 1;
    if (dn == 0 || dn > 253) {
        return false;
    }
    size_t labels = 0;
    size_t start = 0;
    for (size_t i = 0; i <= dn; i++) {
        if (i < dn && d[i] != '.') {
            unsigned char c = (unsigned char)d[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c >= 0x80)) {
                return false;
            }
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || d[start] == '-' || d[i - 1] == '-') {
            return false;
        }
        labels++;
        if (i == dn) {
            bool digits = true;
            for (size_t k = start; k < i; k++) {
                digits = digits && d[k] >= '0' && d[k] <= '9';
            }
            if (len < 2 || digits) {
                return false;
            }
        }
        start = i + 1;
    }
    return labels >= 2;
}

/* ---- evaluation -------------------------------------------------------------------------- */

/* The yes/no checks, as bool. */
static bool vck_eval_bool(struct vcheck *ck, const struct vp_col *pc, const union vp_val *v,
                          uint64_t line)
{
    bool is_float = pc->type.id == DT_FLOAT32 || pc->type.id == DT_FLOAT64;
    /* pandas counts NaN as missing, so with ignore_na a NaN passes like a null does. */
    if (is_float && isnan(v->f) && ck->spec->ignore_na && ck->kind != CK_UNIQUE_EQ) {
        return true;
    }
    int c;
    switch (ck->kind) {
    case CK_EQ: return vcmp(pc, v, &ck->lo) == 0;
    case CK_NE: return vcmp(pc, v, &ck->lo) != 0;
    case CK_GT: return vcmp(pc, v, &ck->lo) == 1;
    case CK_GE: c = vcmp(pc, v, &ck->lo); return c == 0 || c == 1;
    case CK_LT: return vcmp(pc, v, &ck->hi) == -1;
    case CK_LE: c = vcmp(pc, v, &ck->hi); return c == 0 || c == -1;
    case CK_RANGE: {
        int a = vcmp(pc, v, &ck->lo);
        int b = vcmp(pc, v, &ck->hi);
        if (a == 2 || b == 2) {
            return false;
        }
        bool lo_ok = ck->inc_lo ? a >= 0 : a > 0;
        bool hi_ok = ck->inc_hi ? b <= 0 : b < 0;
        return lo_ok && hi_ok;
    }
    case CK_ISIN: return set_find(ck, pc, v) >= 0;
    case CK_NOTIN: return set_find(ck, pc, v) < 0;
    case CK_MATCHES:
    case CK_CONTAINS: {
        if (ck->rx != NULL) {
            return rx_match(ck->rx, v->s.p, v->s.n); /* same answer as PCRE2, rx.h */
        }
        return false; /* PCRE2: see vck_eval */
    }
    case CK_STARTS: return v->s.n >= ck->litlen && memcmp(v->s.p, ck->lit, ck->litlen) == 0;
    case CK_ENDS:
        return v->s.n >= ck->litlen &&
               memcmp(v->s.p + v->s.n - ck->litlen, ck->lit, ck->litlen) == 0;
    case CK_LENGTH: {
        int64_t len = (int64_t)vp_utf8_count(v->s.p, v->s.n);
        return (ck->len_min < 0 || len >= ck->len_min) && (ck->len_max < 0 || len <= ck->len_max);
    }
    case CK_UNIQUE_EQ: {
        long k = set_find(ck, pc, v);
        if (k >= 0) {
            ck->seen[k] = 1;
        } else if (!ck->extra) {
            /* Remember the first value outside the set for the end-of-file report. */
            char q[160];
            if (pc->type.id == DT_STR) {
                vp_quote(q, sizeof(q), v->s.p, v->s.n, 120);
            } else if (is_float) {
                snprintf(q, sizeof(q), "%.17g", v->f);
            } else {
                snprintf(q, sizeof(q), "(a value)");
            }
            ck->extra_val = strdup(q);
            ck->extra = true;
            ck->extra_line = line;
        }
        return true; /* judged at the end of the file (validator_finish) */
    }
    case CK_EMAIL: return email_ok(v->s.p, v->s.n);
    }
    return true;
}

int vck_eval(struct vcheck *ck, const struct vp_col *pc, const union vp_val *v, uint64_t line)
{
    if ((ck->kind == CK_MATCHES || ck->kind == CK_CONTAINS) &&
        (ck->rx == NULL || (rx_ascii_only(ck->rx) && !rx_ascii(v->s.p, v->s.n)))) {
        /* Values were checked to be UTF-8 already, hence PCRE2_NO_UTF_CHECK. A limit hit is no
         * answer at all: counting it as "no match" gave a verdict astro does not know. */
        int rc = pcre2_match(ck->re, (PCRE2_SPTR)v->s.p, v->s.n, 0, PCRE2_NO_UTF_CHECK, ck->md,
                             ck->mctx);
        if (rc >= 0) {
            return VCK_PASS;
        }
        return rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL ? VCK_FAIL : VCK_LIMIT;
    }
    return vck_eval_bool(ck, pc, v, line) ? VCK_PASS : VCK_FAIL;
}

void vck_message(const struct vcheck *ck, char *buf, size_t n, const char *value, size_t vlen)
{
    if (value == NULL) {
        snprintf(buf, n, "a null value fails %s (ignore_na is false)", ck->label);
        return;
    }
    char q[160];
    vp_quote(q, sizeof(q), value, vlen, 120);
    const char *a = ck->shown;
    switch (ck->kind) {
    case CK_EQ: snprintf(buf, n, "%s is not equal to %s", q, a); break;
    case CK_NE: snprintf(buf, n, "%s is equal to %s, which is not allowed", q, a); break;
    case CK_GT: snprintf(buf, n, "%s is not greater than %s", q, a); break;
    case CK_GE: snprintf(buf, n, "%s is less than %s", q, a); break;
    case CK_LT: snprintf(buf, n, "%s is not less than %s", q, a); break;
    case CK_LE: snprintf(buf, n, "%s is greater than %s", q, a); break;
    case CK_RANGE: snprintf(buf, n, "%s is not in the range %s", q, a); break;
    case CK_ISIN: snprintf(buf, n, "%s is not one of the allowed values %s", q, a); break;
    case CK_NOTIN: snprintf(buf, n, "%s is one of the forbidden values %s", q, a); break;
    case CK_MATCHES: snprintf(buf, n, "%s does not match the pattern %s", q, a); break;
    case CK_CONTAINS:
        snprintf(buf, n, "%s does not contain a match for the pattern %s", q, a);
        break;
    case CK_STARTS: snprintf(buf, n, "%s does not start with %s", q, a); break;
    case CK_ENDS: snprintf(buf, n, "%s does not end with %s", q, a); break;
    case CK_LENGTH:
        snprintf(buf, n, "%s has %zu characters; expected %s", q, vp_utf8_count(value, vlen), a);
        break;
    case CK_EMAIL: snprintf(buf, n, "%s is not a valid email address", q); break;
    case CK_UNIQUE_EQ: snprintf(buf, n, "%s: unique values differ from %s", q, a); break;
    }
}

/* ---- compiling --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum ck_kind kind;
    const char *keys[5]; /* accepted argument keys besides the positional one */
} check_table[] = {
    {"equal_to", CK_EQ, {"value"}},
    {"not_equal_to", CK_NE, {"value"}},
    {"greater_than", CK_GT, {"min_value", "value"}},
    {"greater_than_or_equal_to", CK_GE, {"min_value", "value"}},
    {"less_than", CK_LT, {"max_value", "value"}},
    {"less_than_or_equal_to", CK_LE, {"max_value", "value"}},
    {"in_range", CK_RANGE, {"min_value", "max_value", "include_min", "include_max"}},
    {"isin", CK_ISIN, {"allowed_values", "value"}},
    {"notin", CK_NOTIN, {"forbidden_values", "value"}},
    {"str_matches", CK_MATCHES, {"pattern", "value"}},
    {"str_contains", CK_CONTAINS, {"pattern", "value"}},
    {"str_startswith", CK_STARTS, {"string", "value"}},
    {"str_endswith", CK_ENDS, {"string", "value"}},
    {"str_length", CK_LENGTH, {"min_value", "max_value", "exact_value", "value"}},
    {"unique_values_eq", CK_UNIQUE_EQ, {"values", "value"}},
    {"email", CK_EMAIL, {NULL}},
};

static bool key_allowed(size_t t, const char *key)
{
    for (size_t k = 0; k < 5 && check_table[t].keys[k] != NULL; k++) {
        if (strcmp(check_table[t].keys[k], key) == 0) {
            return true;
        }
    }
    return false;
}

/* The argument under key, or (when key names the check's main operand) the positional one. */
static const struct cfg_arg *arg_get(const struct check_spec *cs, const char *key, bool main)
{
    for (size_t k = 0; k < cs->nargs; k++) {
        const struct cfg_arg *a = &cs->args[k];
        if (a->key != NULL && strcmp(a->key, key) == 0) {
            return a;
        }
        if (main && (a->key == NULL || strcmp(a->key, "value") == 0)) {
            return a;
        }
    }
    return NULL;
}

/* Appends the display form of one scalar (Python repr style for strings) to b. */
static int show_scalar(struct buf *b, const struct vp_col *pc, const char *text)
{
    bool quote = pc->type.id == DT_STR || pc->type.id == DT_DATE || pc->type.id == DT_TIMESTAMP ||
                 pc->type.id == DT_TIMESTAMP_TZ;
    if (!quote) {
        const char *p = text;
        size_t n = strlen(text);
        vp_trim(&p, &n);
        return buf_append(b, p, n);
    }
    if (buf_putc(b, '\'') != 0) {
        return AE_NOMEM;
    }
    for (const char *s = text; *s != '\0'; s++) {
        if ((*s == '\'' || *s == '\\') && buf_putc(b, '\\') != 0) {
            return AE_NOMEM;
        }
        if (buf_putc(b, *s) != 0) {
            return AE_NOMEM;
        }
    }
    return buf_putc(b, '\'');
}

/* For an integer column, the length of the integer part of p when p is an integral float written
 * as Pandera's infer_schema writes bounds ("1.0", "-3.00"): digits, a point, zeros only. 0 when
 * p is anything else (a non-integral bound on an integer column stays an error). */
static size_t integral_float_len(const struct vp_col *pc, const char *p, size_t n)
{
    if (!(pc->type.id >= DT_INT8 && pc->type.id <= DT_UINT64)) {
        return 0;
    }
    size_t i = (n > 0 && (p[0] == '+' || p[0] == '-')) ? 1 : 0;
    size_t d0 = i;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        i++;
    }
    if (i == d0 || i >= n || p[i] != '.') {
        return 0;
    }
    size_t whole = i++;
    while (i < n && p[i] == '0') {
        i++;
    }
    return i == n ? whole : 0;
}

/* Types text against the column: trims for non-str dtypes, then the dtype parser. */
static int type_scalar(const struct vp_col *pc, const struct cfg_loc *loc, const char *what,
                       const char *text, union vp_val *out, struct err *e)
{
    if (text == NULL) {
        return verr_at(e, loc, "%s must be a value, not null or a list", what);
    }
    const char *p = text;
    size_t n = strlen(text);
    if (pc->type.id != DT_STR) {
        vp_trim(&p, &n);
    } else if (!vp_utf8_valid(p, n)) {
        return verr_at(e, loc, "%s is not valid UTF-8", what);
    }
    /* Check arguments of date and datetime columns are ISO 8601, whatever the column's input
     * format: the bound means the same whichever way the data spells its dates. */
    struct vp_col iso = vp_col_canonical(pc);
    int st = vp_parse(&iso, p, n, out);
    size_t whole = integral_float_len(pc, p, n);
    if (st != VP_OK && whole > 0) {
        /* An integral float bound on an integer column, as infer_schema writes them (1.0). */
        st = vp_parse(&iso, p, whole, out);
    }
    if (st != VP_OK) {
        char m[600];
        union vp_val v;
        int64_t t = 0;
        size_t which = 0;
        if (pc->nfmt > 0 && vp_time(pc, p, n, &t, &which) == VP_OK) {
            char isotext[48];
            dtype_format_time(isotext, sizeof(isotext), pc->type.id, t);
            return verr_at(e, loc,
                           "%s: '%s' is written in the column's input format '%s'; check values "
                           "of date and datetime columns are ISO 8601: write '%s'",
                           what, text, pc->fmt_text[which], isotext);
        }
        if ((pc->thousands != 0 || pc->decimal != 0) && vp_parse(pc, p, n, &v) == VP_OK) {
            return verr_at(e, loc,
                           "%s: '%s' is written with the column's separators; check values are "
                           "plain numbers (digits, '.' as the decimal mark)",
                           what, text);
        }
        vp_message(m, sizeof(m), st, &iso, text, strlen(text));
        return verr_at(e, loc, "%s: %s", what, m);
    }
    return 0;
}

/* A non-negative integer argument (str_length bounds); null means no bound (-1). */
static int type_len(const struct cfg_arg *a, const char *what, int64_t *out, struct err *e)
{
    *out = -1;
    if (a == NULL || a->is_null) {
        return 0;
    }
    int64_t v = 0;
    const char *p = a->value ? a->value : "";
    size_t n = strlen(p);
    vp_trim(&p, &n);
    if (a->is_list || vp_int(p, n, 0, INT64_MAX, &v) != VP_OK) {
        return verr_at(e, &a->loc, "%s must be a non-negative integer", what);
    }
    *out = v;
    return 0;
}

static int type_flag(const struct cfg_arg *a, const char *what, bool *out, struct err *e)
{
    if (a == NULL) {
        return 0;
    }
    uint8_t b = 0;
    const char *p = a->value ? a->value : "";
    size_t n = strlen(p);
    vp_trim(&p, &n);
    if (a->is_list || a->is_null || vp_bool(NULL, p, n, &b) != VP_OK) {
        return verr_at(e, &a->loc, "%s must be true or false", what);
    }
    *out = b != 0;
    return 0;
}

static int compile_regex(struct vcheck *ck, const struct cfg_arg *a, uint32_t extra, struct err *e)
{
    int ec = 0;
    PCRE2_SIZE off = 0;
    /* PCRE2_UCP: \d \w \s and \b are Unicode-aware, as in Python's re. */
    ck->re = pcre2_compile((PCRE2_SPTR)a->value, PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | PCRE2_UCP | extra, &ec, &off, NULL);
    if (ck->re == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return verr_at(e, &a->loc, "pattern '%s' does not compile at offset %zu: %s", a->value,
                       (size_t)off, (const char *)msg);
    }
    /* JIT is an optimisation: when it is unavailable, pcre2_match interprets the pattern. */
    (void)pcre2_jit_compile(ck->re, PCRE2_JIT_COMPLETE);
    ck->md = pcre2_match_data_create_from_pattern(ck->re, NULL);
    ck->mctx = pcre2_match_context_create(NULL);
    if (ck->md == NULL || ck->mctx == NULL) {
        return err_set(e, AE_NOMEM, "out of memory compiling a pattern");
    }
    pcre2_set_match_limit(ck->mctx, VCK_MATCH_LIMIT);
    pcre2_set_depth_limit(ck->mctx, VCK_DEPTH_LIMIT);
    pcre2_set_heap_limit(ck->mctx, VCK_HEAP_LIMIT_KIB);
    /* The DFA fast path (about 1 ns per byte against 50-75 ns per value for PCRE2's JIT); PCRE2
     * stays compiled for the patterns rx refuses and has vetted the syntax above. */
    ck->rx = rx_compile(a->value, (extra & PCRE2_ANCHORED) ? RX_ANCHORED : 0);
    return 0;
}

static void vck_release(struct vcheck *ck)
{
    free(ck->label);
    free(ck->shown);
    free(ck->set);
    free(ck->seen);
    free(ck->extra_val);
    pcre2_match_data_free(ck->md);
    pcre2_match_context_free(ck->mctx);
    pcre2_code_free(ck->re);
    rx_free(ck->rx);
    memset(ck, 0, sizeof(*ck));
}

/* ---- Pandera's check names ---- */

/* True when text is one of YAML 1.1's spellings of a boolean (what PyYAML resolves, hence
 * Pandera's value); *b is its value. */
static bool yaml_bool(const char *t, bool *b)
{
    static const char *const yes[] = {"yes",  "Yes", "YES", "true", "True",
                                      "TRUE", "on",  "On",  "ON",   NULL};
    static const char *const no[] = {"no",    "No",  "NO",  "false", "False",
                                     "FALSE", "off", "Off", "OFF",   NULL};
    for (size_t k = 0; yes[k] != NULL; k++) {
        if (strcmp(t, yes[k]) == 0) {
            *b = true;
            return true;
        }
    }
    for (size_t k = 0; no[k] != NULL; k++) {
        if (strcmp(t, no[k]) == 0) {
            *b = false;
            return true;
        }
    }
    return false;
}

/* True when text is a YAML 1.1 decimal int ([-+]?(0|[1-9][0-9_]*)). */
static bool yaml_int(const char *t)
{
    const char *p = t + (*t == '-' || *t == '+');
    if (*p == '0') {
        return p[1] == '\0';
    }
    if (*p < '1' || *p > '9') {
        return false;
    }
    for (; *p != '\0'; p++) {
        if (!((*p >= '0' && *p <= '9') || *p == '_')) {
            return false;
        }
    }
    return true;
}

/* True when text is a YAML 1.1 float as PyYAML resolves it: [-+]?([0-9][0-9_]*)?\.[0-9_]*
 * ([eE][-+][0-9]+)?, or [-+]?.inf, .nan (in their three spellings). */
static bool yaml_float(const char *t)
{
    const char *p = t + (*t == '-' || *t == '+');
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0) {
        return true;
    }
    if (p == t && (strcmp(p, ".nan") == 0 || strcmp(p, ".NaN") == 0 || strcmp(p, ".NAN") == 0)) {
        return true;
    }
    while ((*p >= '0' && *p <= '9') || *p == '_') {
        p++;
    }
    if (*p != '.') {
        return false;
    }
    p++;
    while ((*p >= '0' && *p <= '9') || *p == '_') {
        p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p != '-' && *p != '+') {
            return false;
        }
        p++;
        if (*p < '0' || *p > '9') {
            return false;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    return *p == '\0';
}

/* Python's repr of a float (the shortest text that reads back as x). */
static int py_float(struct buf *b, double x)
{
    if (isnan(x)) {
        return buf_puts(b, "nan");
    }
    if (isinf(x)) {
        return buf_puts(b, x < 0 ? "-inf" : "inf");
    }
    char e[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, x);
        if (strtod(e, NULL) == x) {
            break;
        }
    }
    /* e is "[-]D[.DDD]e[+-]XX": digits and exponent */
    char digits[24];
    size_t nd = 0;
    const char *q = e;
    bool neg = *q == '-';
    q += neg;
    for (; *q != 'e'; q++) {
        if (*q != '.') {
            digits[nd++] = *q;
        }
    }
    digits[nd] = '\0';
    int ex = atoi(q + 1);
    int rc = neg ? buf_putc(b, '-') : 0;
    if (ex >= 16 || ex < -4) {
        rc = rc || buf_putc(b, digits[0]);
        if (nd > 1) {
            rc = rc || buf_printf(b, ".%s", digits + 1);
        }
        return rc || buf_printf(b, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
    }
    if (ex < 0) {
        rc = rc || buf_puts(b, "0.");
        for (int k = 0; k < -ex - 1; k++) {
            rc = rc || buf_putc(b, '0');
        }
        return rc || buf_puts(b, digits);
    }
    for (int k = 0; k <= ex; k++) {
        rc = rc || buf_putc(b, (size_t)k < nd ? digits[k] : '0');
    }
    rc = rc || buf_putc(b, '.');
    return rc || ((size_t)ex + 1 < nd ? buf_puts(b, digits + ex + 1) : buf_putc(b, '0'));
}

/* Python's repr of a str: single quotes unless the text holds one and no double quote. */
static int py_repr_str(struct buf *b, const char *t)
{
    char qc = strchr(t, '\'') != NULL && strchr(t, '"') == NULL ? '"' : '\'';
    int rc = buf_putc(b, qc);
    for (const unsigned char *p = (const unsigned char *)t; *p != '\0' && rc == 0; p++) {
        if (*p == '\\' || *p == (unsigned char)qc) {
            rc = buf_putc(b, '\\') || buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            rc = buf_puts(b, "\\n");
        } else if (*p == '\t') {
            rc = buf_puts(b, "\\t");
        } else if (*p == '\r') {
            rc = buf_puts(b, "\\r");
        } else if (*p < 0x20 || *p == 0x7f) {
            rc = buf_printf(b, "\\x%02x", *p);
        } else {
            rc = buf_putc(b, (char)*p);
        }
    }
    return rc || buf_putc(b, qc);
}

/* One argument as Pandera shows it: the Python value PyYAML reads from the text, through str()
 * (repr false) or repr() (inside a list); a datetime column's bound is a pandas Timestamp. */
static int py_value(struct buf *b, const struct vp_col *pc, const char *text, bool repr)
{
    if (text == NULL) {
        return buf_puts(b, "None");
    }
    bool bv = false;
    if ((pc->type.id == DT_TIMESTAMP || pc->type.id == DT_TIMESTAMP_TZ) && !repr) {
        struct vp_col iso = vp_col_canonical(pc);
        const char *p = text;
        size_t n = strlen(text);
        vp_trim(&p, &n);
        union vp_val v;
        if (vp_parse(&iso, p, n, &v) == VP_OK) {
            char t[48];
            dtype_format_time(t, sizeof(t), DT_TIMESTAMP, v.i);
            t[10] = ' ';
            /* "YYYY-MM-DD HH:MM:SS.ffffff": the fraction only when not zero, as pandas shows */
            bool frac = strcmp(t + 19, ".000000") != 0;
            bool offset = n > 10 && (memchr(p + 10, 'Z', n - 10) != NULL ||
                                     memchr(p + 10, '+', n - 10) != NULL ||
                                     memchr(p + 10, '-', n - 10) != NULL);
            return buf_printf(b, "%.*s%s", frac ? 26 : 19, t, offset ? "+00:00" : "");
        }
    }
    if (pc->type.id == DT_TIMEDELTA && !repr) {
        /* a pandas Timedelta: an integer bound is nanoseconds, "0 days 00:00:00.000001" */
        const char *p = text;
        size_t n = strlen(text);
        vp_trim(&p, &n);
        union vp_val v;
        if (vp_timedelta(p, n, &v.i) == VP_OK) {
            char t[64];
            dtype_format_timedelta(t, sizeof(t), v.i);
            return buf_puts(b, t);
        }
    }
    if (yaml_bool(text, &bv)) {
        return buf_puts(b, bv ? "True" : "False");
    }
    if (strcmp(text, "~") == 0 || strcmp(text, "null") == 0 || strcmp(text, "Null") == 0 ||
        strcmp(text, "NULL") == 0) {
        return buf_puts(b, "None");
    }
    if (yaml_int(text)) {
        int rc = 0;
        for (const char *p = text + (*text == '+'); *p != '\0' && rc == 0; p++) {
            rc = *p == '_' ? 0 : buf_putc(b, *p);
        }
        return rc;
    }
    if (yaml_float(text)) {
        char clean[128];
        size_t k = 0;
        for (const char *p = text; *p != '\0' && k + 1 < sizeof(clean); p++) {
            if (*p != '_') {
                clean[k++] = *p;
            }
        }
        clean[k] = '\0';
        char *dot = strchr(clean, '.');
        double x = 0;
        if (dot != NULL && (dot[1] == 'i' || dot[1] == 'I')) {
            x = clean[0] == '-' ? -INFINITY : INFINITY;
        } else if (dot != NULL && (dot[1] == 'n' || dot[1] == 'N')) {
            x = NAN;
        } else {
            x = strtod(clean, NULL);
        }
        return py_float(b, x);
    }
    return repr ? py_repr_str(b, text) : buf_puts(b, text);
}

/* The main argument of check cs (compiled: the check is known), positional or named. */
static const struct cfg_arg *main_arg(const struct check_spec *cs)
{
    size_t t = 0;
    while (strcmp(check_table[t].name, cs->name) != 0) {
        t++;
    }
    return arg_get(cs, check_table[t].keys[0], true);
}

/* Pandera's name of check cs (pandera/api/checks.py: the error each built-in check is made with):
 * equal_to(x), greater_than(2010-01-01 00:00:00), in_range(0, 10), isin(['a', 'b']),
 * str_matches('^\d{3}') (the pattern as written), str_length(1, None). email is astro's own. */
static int pandera_label(struct buf *lb, const struct check_spec *cs, const struct vp_col *pc,
                         const struct vcheck *ck)
{
    int rc = buf_puts(lb, cs->name);
    switch (ck->kind) {
    case CK_EQ:
    case CK_NE:
    case CK_GT:
    case CK_GE:
    case CK_LT:
    case CK_LE:
        return rc || buf_putc(lb, '(') || py_value(lb, pc, main_arg(cs)->value, false) ||
               buf_putc(lb, ')');
    case CK_RANGE:
        return rc || buf_putc(lb, '(') ||
               py_value(lb, pc, arg_get(cs, "min_value", false)->value, false) ||
               buf_puts(lb, ", ") ||
               py_value(lb, pc, arg_get(cs, "max_value", false)->value, false) || buf_putc(lb, ')');
    case CK_ISIN:
    case CK_NOTIN:
    case CK_UNIQUE_EQ: {
        const struct cfg_arg *a = main_arg(cs);
        rc = rc || buf_puts(lb, "([");
        for (size_t k = 0; k < a->nitems && rc == 0; k++) {
            rc = (k > 0 && buf_puts(lb, ", ")) || py_value(lb, pc, a->items[k], true);
        }
        return rc || buf_puts(lb, "])");
    }
    case CK_MATCHES:
    case CK_CONTAINS:
    case CK_STARTS:
    case CK_ENDS: {
        const struct cfg_arg *a = arg_get(cs, ck->kind <= CK_CONTAINS ? "pattern" : "string", true);
        return rc || buf_printf(lb, "('%s')", a->value);
    }
    case CK_LENGTH: {
        char tmp[32];
        char t2[32];
        snprintf(tmp, sizeof(tmp), "%lld", (long long)ck->len_min);
        snprintf(t2, sizeof(t2), "%lld", (long long)ck->len_max);
        return rc || buf_printf(lb, "(%s, %s)", ck->len_min >= 0 ? tmp : "None",
                                ck->len_max >= 0 ? t2 : "None");
    }
    case CK_EMAIL: break;
    }
    return rc;
}

static int vck_compile(struct vcheck *ck, const struct check_spec *cs, const struct vp_col *pc,
                       struct err *e)
{
    memset(ck, 0, sizeof(*ck));
    ck->spec = cs;
    ck->len_min = -1;
    ck->len_max = -1;
    ck->inc_lo = true;
    ck->inc_hi = true;
    struct buf shown = BUF_INIT;
    int rc = 0;
    size_t t = 0;
    const size_t nt = sizeof(check_table) / sizeof(check_table[0]);
    while (t < nt && strcmp(check_table[t].name, cs->name) != 0) {
        t++;
    }
    if (t == nt) {
        rc = verr_at(e, &cs->loc,
                     "unknown check '%s' (known: equal_to, not_equal_to, greater_than, "
                     "greater_than_or_equal_to, less_than, less_than_or_equal_to, in_range, isin, "
                     "notin, str_matches, str_contains, str_startswith, str_endswith, str_length, "
                     "unique_values_eq, email)",
                     cs->name);
        goto out;
    }
    ck->kind = check_table[t].kind;
    for (size_t k = 0; k < cs->nargs; k++) {
        const struct cfg_arg *a = &cs->args[k];
        if (a->key != NULL && !key_allowed(t, a->key)) {
            rc = verr_at(e, &a->loc, "unknown argument '%s' for check %s", a->key, cs->name);
            goto out;
        }
    }
    bool is_str = pc->type.id == DT_STR;
    if (ck->kind >= CK_MATCHES && ck->kind <= CK_LENGTH && !is_str) {
        rc = verr_at(e, &cs->loc, "check %s applies to str columns only", cs->name);
        goto out;
    }
    if (ck->kind == CK_EMAIL && !is_str) {
        rc = verr_at(e, &cs->loc, "check email applies to str columns only");
        goto out;
    }
    char what[96];
    snprintf(what, sizeof(what), "argument of %s", cs->name);
    switch (ck->kind) {
    case CK_EQ:
    case CK_NE:
    case CK_GT:
    case CK_GE:
    case CK_LT:
    case CK_LE: {
        const char *key = check_table[t].keys[0];
        const struct cfg_arg *a = arg_get(cs, key, true);
        if (a == NULL) {
            rc = verr_at(e, &cs->loc, "check %s needs a value", cs->name);
            goto out;
        }
        union vp_val *dst = (ck->kind == CK_LT || ck->kind == CK_LE) ? &ck->hi : &ck->lo;
        rc = type_scalar(pc, &a->loc, what, a->is_list || a->is_null ? NULL : a->value, dst, e);
        if (rc == 0 && show_scalar(&shown, pc, a->value) != 0) {
            rc = AE_NOMEM;
        }
        break;
    }
    case CK_RANGE: {
        const struct cfg_arg *lo = arg_get(cs, "min_value", false);
        const struct cfg_arg *hi = arg_get(cs, "max_value", false);
        if (lo == NULL || hi == NULL) {
            rc = verr_at(e, &cs->loc, "check in_range needs min_value and max_value");
            goto out;
        }
        rc = type_scalar(pc, &lo->loc, "min_value of in_range", lo->is_list ? NULL : lo->value,
                         &ck->lo, e);
        if (rc == 0) {
            rc = type_scalar(pc, &hi->loc, "max_value of in_range", hi->is_list ? NULL : hi->value,
                             &ck->hi, e);
        }
        if (rc == 0) {
            rc = type_flag(arg_get(cs, "include_min", false), "include_min", &ck->inc_lo, e);
        }
        if (rc == 0) {
            rc = type_flag(arg_get(cs, "include_max", false), "include_max", &ck->inc_hi, e);
        }
        if (rc == 0 && (buf_putc(&shown, ck->inc_lo ? '[' : '(') != 0 ||
                        show_scalar(&shown, pc, lo->value) != 0 || buf_puts(&shown, ", ") != 0 ||
                        show_scalar(&shown, pc, hi->value) != 0 ||
                        buf_putc(&shown, ck->inc_hi ? ']' : ')') != 0)) {
            rc = AE_NOMEM;
        }
        break;
    }
    case CK_ISIN:
    case CK_NOTIN:
    case CK_UNIQUE_EQ: {
        const struct cfg_arg *a = arg_get(cs, check_table[t].keys[0], true);
        if (a == NULL || !a->is_list) {
            rc = verr_at(e, a ? &a->loc : &cs->loc, "check %s needs a list of values", cs->name);
            goto out;
        }
        ck->set = calloc(a->nitems ? a->nitems : 1, sizeof(*ck->set));
        ck->seen = calloc(a->nitems ? a->nitems : 1, 1);
        if (ck->set == NULL || ck->seen == NULL || buf_putc(&shown, '[') != 0) {
            rc = err_set(e, AE_NOMEM, "out of memory compiling check %s", cs->name);
            goto out;
        }
        for (size_t k = 0; k < a->nitems; k++) {
            char w[96];
            snprintf(w, sizeof(w), "item %zu of %s", k, cs->name);
            rc = type_scalar(pc, &a->loc, w, a->items[k], &ck->set[k], e);
            if (rc != 0) {
                goto out;
            }
            if ((k > 0 && buf_puts(&shown, ", ") != 0) ||
                show_scalar(&shown, pc, a->items[k]) != 0) {
                rc = AE_NOMEM;
                goto out;
            }
        }
        if (buf_putc(&shown, ']') != 0) {
            rc = AE_NOMEM;
            goto out;
        }
        qsort_r(ck->set, a->nitems, sizeof(*ck->set), vcmp_total, (void *)pc);
        /* Duplicates in the list would leave some "seen" flags unset forever. */
        size_t m = 0;
        for (size_t k = 0; k < a->nitems; k++) {
            if (m == 0 || vcmp_total(&ck->set[m - 1], &ck->set[k], (void *)pc) != 0) {
                ck->set[m++] = ck->set[k];
            }
        }
        ck->nset = m;
        break;
    }
    case CK_MATCHES:
    case CK_CONTAINS: {
        const struct cfg_arg *a = arg_get(cs, "pattern", true);
        if (a == NULL || a->is_list || a->is_null || a->value == NULL) {
            rc = verr_at(e, a ? &a->loc : &cs->loc, "check %s needs a pattern", cs->name);
            goto out;
        }
        /* re.match anchors at the start only; re.search does not anchor. */
        rc = compile_regex(ck, a, ck->kind == CK_MATCHES ? PCRE2_ANCHORED : 0, e);
        if (rc == 0 && show_scalar(&shown, pc, a->value) != 0) {
            rc = AE_NOMEM;
        }
        break;
    }
    case CK_STARTS:
    case CK_ENDS: {
        const struct cfg_arg *a = arg_get(cs, "string", true);
        if (a == NULL || a->is_list || a->is_null || a->value == NULL) {
            rc = verr_at(e, a ? &a->loc : &cs->loc, "check %s needs a string", cs->name);
            goto out;
        }
        ck->lit = a->value;
        ck->litlen = strlen(a->value);
        if (show_scalar(&shown, pc, a->value) != 0) {
            rc = AE_NOMEM;
        }
        break;
    }
    case CK_LENGTH: {
        int64_t exact = -1;
        /* A positional value is min_value, the first parameter of Pandera's
         * Check.str_length(min_value=None, max_value=None, exact_value=None). */
        rc = type_len(arg_get(cs, "min_value", true), "min_value of str_length", &ck->len_min, e);
        if (rc == 0) {
            rc = type_len(arg_get(cs, "max_value", false), "max_value of str_length", &ck->len_max,
                          e);
        }
        if (rc == 0) {
            rc =
                type_len(arg_get(cs, "exact_value", false), "exact_value of str_length", &exact, e);
        }
        if (rc != 0) {
            goto out;
        }
        if (exact >= 0) {
            ck->len_min = exact;
            ck->len_max = exact;
            rc = buf_printf(&shown, "exactly %lld", (long long)exact);
        } else if (ck->len_min >= 0 && ck->len_max >= 0) {
            rc = buf_printf(&shown, "between %lld and %lld", (long long)ck->len_min,
                            (long long)ck->len_max);
        } else if (ck->len_min >= 0) {
            rc = buf_printf(&shown, "at least %lld", (long long)ck->len_min);
        } else if (ck->len_max >= 0) {
            rc = buf_printf(&shown, "at most %lld", (long long)ck->len_max);
        } else {
            rc = verr_at(e, &cs->loc,
                         "check str_length needs min_value, max_value or "
                         "exact_value");
        }
        break;
    }
    case CK_EMAIL: break;
    }
    if (rc != 0) {
        goto out;
    }
    /* The label: Pandera's name for the check, exactly (tools reading Pandera's failure_cases
     * frame read astro's unchanged): its error when it has one. */
    struct buf lb = BUF_INIT;
    int lrc = cs->error != NULL ? buf_puts(&lb, cs->error) : pandera_label(&lb, cs, pc, ck);
    if (lrc != 0) {
        buf_release(&lb);
        rc = err_set(e, AE_NOMEM, "out of memory compiling check %s", cs->name);
        goto out;
    }
    ck->label = buf_detach(&lb, NULL);
    ck->shown = buf_detach(&shown, NULL);
    if (ck->label == NULL || ck->shown == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory compiling check %s", cs->name);
    }
out:
    buf_release(&shown);
    if (rc == AE_NOMEM && e != NULL && e->code != AE_NOMEM) {
        err_set(e, AE_NOMEM, "out of memory compiling check %s", cs->name);
    }
    if (rc != 0) {
        vck_release(ck);
    }
    return rc;
}

/* The column's date/datetime formats compiled into vc->fmts (a format: list, or the one format). */
static int compile_formats(struct vcolumn *vc, const struct column_spec *cs, struct err *e)
{
    char *const *texts = cs->nformats > 0 ? cs->formats : &cs->format;
    size_t n = cs->nformats > 0 ? cs->nformats : 1;
    bool dt =
        cs->type.id == DT_DATE || cs->type.id == DT_TIMESTAMP || cs->type.id == DT_TIMESTAMP_TZ;
    char why[300];
    if (!dt) {
        return verr_at(e, &cs->loc, "format applies to date and datetime columns only");
    }
    if (n > VP_MAX_FORMATS) {
        return verr_at(e, &cs->loc, "at most %d formats per column, got %zu", VP_MAX_FORMATS, n);
    }
    vc->fmts = calloc(n, sizeof(*vc->fmts));
    if (vc->fmts == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    bool has_y = false;
    for (size_t k = 0; k < n; k++) {
        if (vp_fmt_compile(texts[k], &vc->fmts[k], why, sizeof(why)) != 0) {
            return verr_at(e, &cs->loc, "%s", why);
        }
        /* A two-digit year names no century: astro does not guess it (strptime's 69 rule
         * reads Aug-62 as 2062), the schema states it. */
        if (vp_fmt_has(&vc->fmts[k], 'y') && !cs->has_century_pivot) {
            return verr_at(e, &cs->loc,
                           "format '%s' uses %%y, a two-digit year, which names no century: add "
                           "century_pivot: N to the column (two-digit years below N are 20yy, the "
                           "others 19yy; century_pivot: 30 reads 29 as 2029 and 62 as 1962), or "
                           "use %%Y",
                           texts[k]);
        }
        has_y |= vp_fmt_has(&vc->fmts[k], 'y');
        vc->fmts[k].pivot = cs->has_century_pivot ? cs->century_pivot : -1;
    }
    if (cs->has_century_pivot && !has_y) {
        return verr_at(e, &cs->loc, "century_pivot applies to a format with %%y only");
    }
    vc->pc.fmt = vc->fmts;
    vc->pc.nfmt = n;
    vc->pc.fmt_text = texts;
    return 0;
}

/* The column's number spelling: its own thousands/decimal, else the file's (numeric dtypes). */
static int compile_separators(struct vcolumn *vc, const struct column_spec *cs, char thousands,
                              char decimal, struct err *e)
{
    if (!vp_is_number(cs->type.id)) {
        if (cs->thousands != 0 || cs->decimal != 0) {
            return verr_at(e, &cs->loc,
                           "thousands and decimal apply to int, uint, float and decimal columns "
                           "only");
        }
        return 0;
    }
    char th = cs->thousands != 0 ? cs->thousands : thousands;
    char dec = cs->decimal != 0 ? cs->decimal : decimal;
    if (th != 0 && th == (dec != 0 ? dec : '.')) {
        return verr_at(e, &cs->loc,
                       "the thousands separator '%c' is also the decimal mark (set decimal: "
                       "\"%c\")",
                       th, th == '.' ? ',' : '.');
    }
    vc->pc.thousands = th;
    vc->pc.decimal = dec == '.' ? 0 : dec;
    return 0;
}

static int vcol_build(struct vcolumn *vc, const struct column_spec *cs, locale_t loc,
                      char thousands, char decimal, struct err *e)
{
    memset(vc, 0, sizeof(*vc));
    vc->spec = cs;
    vc->pc.type = cs->type;
    vc->pc.c_locale = loc;
    vc->pc.true_values = cs->true_values;
    vc->pc.n_true = cs->n_true_values;
    vc->pc.false_values = cs->false_values;
    vc->pc.n_false = cs->n_false_values;
    int rc = 0;
    if (cs->name == NULL || cs->name[0] == '\0') {
        return verr_at(e, &cs->loc, "a column needs a non-empty name");
    }
    char zone[256];
    if (cs->type.id == DT_TIMESTAMP_TZ && dtype_zone(cs->dtype_text, zone, sizeof(zone))) {
        struct err te = {0};
        rc = tz_load(&vc->tz, NULL, zone, &te);
        if (rc != 0) {
            return rc == AE_NOMEM ? err_set(e, rc, "out of memory")
                                  : verr_at(e, &cs->loc, "%s", te.msg);
        }
        vc->pc.tz = vc->tz;
    }
    if (cs->format != NULL) {
        rc = compile_formats(vc, cs, e);
        if (rc != 0) {
            goto fail;
        }
    } else if (cs->has_century_pivot) {
        return verr_at(e, &cs->loc, "century_pivot applies to a format with %%y only");
    }
    rc = compile_separators(vc, cs, thousands, decimal, e);
    if (rc != 0) {
        goto fail;
    }
    if ((cs->true_values != NULL || cs->false_values != NULL) && cs->type.id != DT_BOOL) {
        rc = verr_at(e, &cs->loc, "true_values and false_values apply to bool columns only");
        goto fail;
    }
    if (cs->default_value != NULL) {
        /* Typed like a value of the column, so a default that could never pass is a schema
         * error rather than a failure on every null. */
        const char *p = cs->default_value;
        size_t n = strlen(p);
        int st = VP_OK;
        if (cs->type.id == DT_STR) {
            vc->defval.s.p = p;
            vc->defval.s.n = n;
            st = vp_utf8_valid(p, n) ? VP_OK : VP_SYNTAX;
        } else {
            vp_trim(&p, &n);
            st = n == 0 ? VP_SYNTAX : vp_parse(&vc->pc, p, n, &vc->defval);
        }
        if (st != VP_OK) {
            char msg[600];
            vp_message(msg, sizeof(msg), st, &vc->pc, cs->default_value, strlen(cs->default_value));
            rc = verr_at(e, &cs->loc, "default: %s", msg);
            goto fail;
        }
        vc->has_default = true;
    }
    if (cs->regex) {
        int ec = 0;
        PCRE2_SIZE off = 0;
        /* Pandera matches column names with re.match: anchored at the start only, so foo_* also
         * claims foo_0 (write foo_\d+$ for a full match). */
        vc->name_re = pcre2_compile((PCRE2_SPTR)cs->name, PCRE2_ZERO_TERMINATED,
                                    PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED, &ec, &off, NULL);
        if (vc->name_re == NULL) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof(msg));
            rc = verr_at(e, &cs->loc, "column pattern '%s' does not compile at offset %zu: %s",
                         cs->name, (size_t)off, (const char *)msg);
            goto fail;
        }
        vc->name_md = pcre2_match_data_create_from_pattern(vc->name_re, NULL);
        vc->name_mctx = pcre2_match_context_create(NULL);
        if (vc->name_md == NULL || vc->name_mctx == NULL) {
            rc = err_set(e, AE_NOMEM, "out of memory");
            goto fail;
        }
        pcre2_set_match_limit(vc->name_mctx, VCK_MATCH_LIMIT);
        pcre2_set_depth_limit(vc->name_mctx, VCK_DEPTH_LIMIT);
        pcre2_set_heap_limit(vc->name_mctx, VCK_HEAP_LIMIT_KIB);
    }
    if (cs->nchecks > UINT16_MAX) {
        rc = verr_at(e, &cs->loc, "too many checks");
        goto fail;
    }
    vc->checks = calloc(cs->nchecks ? cs->nchecks : 1, sizeof(*vc->checks));
    if (vc->checks == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t k = 0; k < cs->nchecks; k++) {
        rc = vck_compile(&vc->checks[k], &cs->checks[k], &vc->pc, e);
        if (rc != 0) {
            goto fail;
        }
        vc->nchecks++;
    }
    return 0;
fail:
    vcol_release(vc);
    return rc;
}

/* The early returns of vcol_build leave parts built (the zone, the formats): released here. */
int vcol_compile(struct vcolumn *vc, const struct column_spec *cs, locale_t loc, char thousands,
                 char decimal, struct err *e)
{
    int rc = vcol_build(vc, cs, loc, thousands, decimal, e);
    if (rc != 0) {
        vcol_release(vc);
    }
    return rc;
}

void vcol_release(struct vcolumn *vc)
{
    for (size_t k = 0; k < vc->nchecks; k++) {
        vck_release(&vc->checks[k]);
    }
    free(vc->checks);
    pcre2_match_data_free(vc->name_md);
    pcre2_match_context_free(vc->name_mctx);
    pcre2_code_free(vc->name_re);
    free(vc->fmts);
    tz_free(vc->tz);
    memset(vc, 0, sizeof(*vc));
}
