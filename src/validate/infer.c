/*
 * infer.c - schema inference from CSV records (see infer.h for the choices and the property they
 * guarantee).
 *
 * Each column keeps a bit set of the candidate dtypes still alive; a value kills every candidate
 * whose parser (the validator's, from vparse.h) refuses it, so a candidate that survives the file
 * reads every value of it. Dead candidates are never tried again, which keeps a str column cheap.
 */
#include "validate/infer.h"

#include "validate/hint.h"
#include "validate/vparse.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Date formats tried after ISO 8601, day first before month first (the register exports we see
 * write dd-mm-yyyy). */
static const char *const date_formats[] = {"%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%m/%d/%Y",
                                           "%Y/%m/%d"};
#define N_DATE_FORMATS (sizeof(date_formats) / sizeof(date_formats[0]))

/* Null markers that exporters write (infer.h): a column whose other values all fit a dtype gets
 * those it holds as its null_values. The words are hint.h's table, those marked infer (a bit each
 * in struct icol's markers). */
enum {
    C_BOOL,
    C_INT,
    C_FLOAT,
    C_DATE,
    C_DATEF, /* C_DATEF + k: date_formats[k] */
    C_TS = C_DATEF + N_DATE_FORMATS,
    C_TSTZ,
    N_CAND
};

struct icol {
    char *name;
    uint32_t alive;       /* bit c: candidate c reads every value seen */
    uint64_t typed_nulls; /* empty after trimming: null for every dtype but str */
    uint64_t typed_values;
    uint64_t str_nulls; /* unquoted empty: null for str */
    uint64_t str_values;
    int64_t imin, imax;
    double fmin, fmax;
    bool nonfinite;
    bool fany; /* fmin/fmax hold a finite value */
    bool isin_dead;
    bool json_nonstr; /* a JSON number or boolean was seen: a str column needs coerce */
    uint32_t markers; /* bit k: hint_null_words[k] was seen (counted in typed_nulls) */
    size_t nvals;
    char *vals[INFER_ISIN_MAX + 1];
    size_t vlens[INFER_ISIN_MAX + 1];
};

struct infer {
    struct icol *cols;
    size_t ncols;
    uint64_t nrows;
    struct infer_problems prob;
    struct vp_fmt fmts[N_DATE_FORMATS];
    locale_t c_locale;
    bool json; /* JSON values were seen (REC_F_JSON_*): types map strictly */
};

char *infer_name_text(const char *p, size_t n, bool *changed)
{
    *changed = memchr(p, '\0', n) != NULL || !vp_utf8_valid(p, n);
    if (!*changed) {
        return strndup(p, n);
    }
    char *out = malloc(4 * n + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        /* The longest valid UTF-8 sequence starting at i (1..4 bytes), or none. */
        size_t len = 0;
        for (size_t k = 1; k <= 4 && i + k <= n && len == 0; k++) {
            if (vp_utf8_valid(p + i, k)) {
                len = k;
            }
        }
        if (len == 0 || p[i] == '\0') {
            o += (size_t)sprintf(out + o, "\\x%02x", (unsigned char)p[i]);
            i++;
        } else {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        }
    }
    out[o] = '\0';
    return out;
}

/* "base_n" (then "base_n_2", ...) that no column before c is named; malloc'd, NULL when out of
 * memory. */
static char *unique_name(const struct infer *inf, size_t c, const char *base, size_t n)
{
    for (size_t extra = 1;; extra++) {
        char *s = NULL;
        int len = extra == 1 ? asprintf(&s, "%s_%zu", base, n)
                             : asprintf(&s, "%s_%zu_%zu", base, n, extra);
        if (len < 0) {
            return NULL;
        }
        bool taken = false;
        for (size_t j = 0; j < c && !taken; j++) {
            taken = strcmp(inf->cols[j].name, s) == 0;
        }
        if (!taken) {
            return s;
        }
        free(s);
    }
}

int infer_new(struct infer **out, const char *const *names, const size_t *lens, size_t n,
              struct err *e)
{
    *out = NULL;
    struct infer *inf = calloc(1, sizeof(*inf));
    if (inf == NULL) {
        return err_set(e, AE_NOMEM, "out of memory");
    }
    inf->cols = calloc(n ? n : 1, sizeof(*inf->cols));
    inf->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (inf->cols == NULL) {
        infer_free(inf);
        return err_set(e, AE_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < N_DATE_FORMATS; k++) {
        char why[128];
        if (vp_fmt_compile(date_formats[k], &inf->fmts[k], why, sizeof(why)) != 0) {
            infer_free(inf);
            return err_set(e, AE_INTERNAL, "date format %s: %s", date_formats[k], why);
        }
    }
    for (size_t c = 0; c < n; c++) {
        struct icol *ic = &inf->cols[c];
        inf->ncols++;
        ic->alive = (UINT32_C(1) << N_CAND) - 1;
        bool changed = false;
        size_t len = lens != NULL ? lens[c] : strlen(names[c]);
        if (len == 0) {
            inf->prob.empty_names++;
            ic->name = unique_name(inf, c, "column", c + 1);
        } else if ((ic->name = infer_name_text(names[c], len, &changed)) != NULL) {
            inf->prob.escaped_names += changed;
            for (size_t j = 0; j < c; j++) {
                if (strcmp(inf->cols[j].name, ic->name) == 0) {
                    inf->prob.duplicate_names++;
                    char *base = ic->name;
                    ic->name = unique_name(inf, c, base, c + 1);
                    free(base);
                    break;
                }
            }
        }
        if (ic->name == NULL) {
            infer_free(inf);
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    *out = inf;
    return 0;
}

/* A digit string with a leading zero ("007", "-01"): an identifier, not a number. */
static bool leading_zero(const char *p, size_t n)
{
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        p++;
        n--;
    }
    return n > 1 && p[0] == '0' && p[1] >= '0' && p[1] <= '9';
}

static bool bool_word(const char *p, size_t n)
{
    static const char *const words[] = {"true", "false", "yes", "no"};
    for (size_t k = 0; k < 4; k++) {
        if (strlen(words[k]) == n && strncasecmp(words[k], p, n) == 0) {
            return true;
        }
    }
    return false;
}

static void kill(struct icol *ic, int cand)
{
    ic->alive &= ~(UINT32_C(1) << cand);
}

static bool alive(const struct icol *ic, int cand)
{
    return (ic->alive >> cand) & 1;
}

static void typed_value(struct infer *inf, struct icol *ic, const char *p, size_t n)
{
    ic->typed_values++;
    if (alive(ic, C_BOOL) && !bool_word(p, n)) {
        kill(ic, C_BOOL);
    }
    if ((alive(ic, C_INT) || alive(ic, C_FLOAT)) && leading_zero(p, n)) {
        kill(ic, C_INT);
        kill(ic, C_FLOAT);
    }
    if (alive(ic, C_INT)) {
        int64_t v;
        if (vp_int(p, n, INT64_MIN, INT64_MAX, &v) != VP_OK) {
            kill(ic, C_INT);
        } else {
            bool first = ic->typed_values == 1;
            ic->imin = first || v < ic->imin ? v : ic->imin;
            ic->imax = first || v > ic->imax ? v : ic->imax;
        }
    }
    if (alive(ic, C_FLOAT)) {
        double d;
        if (vp_float(p, n, false, inf->c_locale, &d) != VP_OK) {
            kill(ic, C_FLOAT);
        } else if (!isfinite(d)) {
            ic->nonfinite = true;
        } else {
            ic->fmin = !ic->fany || d < ic->fmin ? d : ic->fmin;
            ic->fmax = !ic->fany || d > ic->fmax ? d : ic->fmax;
            ic->fany = true;
        }
    }
    int64_t t;
    if (alive(ic, C_DATE) && vp_date(p, n, NULL, &t) != VP_OK) {
        kill(ic, C_DATE);
    }
    for (size_t k = 0; k < N_DATE_FORMATS; k++) {
        if (alive(ic, (int)(C_DATEF + k)) && vp_date(p, n, &inf->fmts[k], &t) != VP_OK) {
            kill(ic, (int)(C_DATEF + k));
        }
    }
    if (alive(ic, C_TS) && vp_datetime(p, n, NULL, false, &t) != VP_OK) {
        kill(ic, C_TS);
    }
    if (alive(ic, C_TSTZ) && vp_datetime(p, n, NULL, true, &t) != VP_OK) {
        kill(ic, C_TSTZ);
    }
}

static int str_value(struct icol *ic, const char *p, size_t n)
{
    ic->str_values++;
    if (ic->isin_dead) {
        return 0;
    }
    /* A value the YAML cannot carry as it is (a NUL byte, bytes not valid UTF-8) gets no isin:
     * it would be cut or refused on the way back. */
    if (n > INFER_ISIN_BYTES || memchr(p, '\0', n) != NULL || !vp_utf8_valid(p, n)) {
        ic->isin_dead = true;
        return 0;
    }
    for (size_t k = 0; k < ic->nvals; k++) {
        if (ic->vlens[k] == n && memcmp(ic->vals[k], p, n) == 0) {
            return 0;
        }
    }
    if (ic->nvals == INFER_ISIN_MAX) {
        ic->isin_dead = true;
        return 0;
    }
    char *s = malloc(n + 1);
    if (s == NULL) {
        return AE_NOMEM;
    }
    memcpy(s, p, n);
    s[n] = '\0';
    ic->vals[ic->nvals] = s;
    ic->vlens[ic->nvals] = n;
    ic->nvals++;
    return 0;
}

/* The index in hint_null_words of the null marker p[0..n) is, or -1. (NaN is no marker: vp_float
 * reads it.) */
static int null_marker(const char *p, size_t n)
{
    for (size_t k = 0; k < hint_n_null_words; k++) {
        const char *w = hint_null_words[k].word;
        if (hint_null_words[k].infer && strlen(w) == n && memcmp(w, p, n) == 0) {
            return (int)k;
        }
    }
    return -1;
}

/* JSON values (records.h): the candidates the value's JSON type rules out under the validator's
 * strict mapping (validate.h). False when no dtype takes the value (an object or array). */
static bool json_type(struct infer *inf, struct icol *ic, unsigned jt, uint64_t line)
{
    inf->json = true;
    switch (jt) {
    case REC_F_JSON_COMPOSITE:
        if (inf->prob.composite++ == 0) {
            inf->prob.composite_line = line;
        }
        return false;
    case REC_F_JSON_STRING:
        kill(ic, C_BOOL);
        kill(ic, C_INT);
        kill(ic, C_FLOAT);
        break;
    case REC_F_CELL_ERROR: return false; /* a failed formula: no value to learn from */
    case REC_F_CELL_NUMBER:
        /* A worksheet's number also fits a str column (its text): no coerce needed. */
        for (int c = C_DATE; c < N_CAND; c++) {
            kill(ic, c);
        }
        kill(ic, C_BOOL);
        break;
    case REC_F_JSON_NUMBER:
    case REC_F_JSON_BOOL:
        ic->json_nonstr = true;
        for (int c = C_DATE; c < N_CAND; c++) {
            kill(ic, c);
        }
        kill(ic, jt == REC_F_JSON_NUMBER ? C_BOOL : C_INT);
        kill(ic, jt == REC_F_JSON_NUMBER ? C_BOOL : C_FLOAT);
        break;
    default: break;
    }
    return true;
}

/* A worksheet's number shown as a date (records.h REC_F_CELL_DATE): an Excel serial, which only a
 * date column (a whole day) or a naive datetime column reads. */
static void serial_date(struct infer *inf, struct icol *ic, const struct record_field *f)
{
    inf->json = true;
    ic->typed_values++;
    ic->str_values++;
    ic->isin_dead = true;
    for (int c = 0; c < N_CAND; c++) {
        if (c != C_DATE && c != C_TS) {
            kill(ic, c);
        }
    }
    if (memchr(f->p, '.', f->len) != NULL || memchr(f->p, 'e', f->len) != NULL) {
        kill(ic, C_DATE); /* a time of day */
    }
}

int infer_rows(struct infer *inf, const struct record_block *rows, size_t first, struct err *e)
{
    for (size_t i = first; i < rows->nrows; i++) {
        inf->nrows++;
        if (rows->row_flags != NULL && (rows->row_flags[i] & REC_R_UNREADABLE)) {
            if (inf->prob.unreadable++ == 0) {
                inf->prob.unreadable_line = rows->line[i];
            }
            continue;
        }
        size_t nf = rows->row_first[i + 1] - rows->row_first[i];
        bool unterminated = rows->row_flags != NULL && (rows->row_flags[i] & REC_R_UNTERMINATED);
        if (nf != inf->ncols || unterminated) {
            if (inf->prob.ragged++ == 0) {
                inf->prob.ragged_line = rows->line[i];
            }
            continue;
        }
        for (size_t c = 0; c < inf->ncols; c++) {
            const struct record_field *f = &rows->fields[rows->row_first[i] + c];
            struct icol *ic = &inf->cols[c];
            if (f->flags & REC_F_BAD_ENCODING) {
                if (inf->prob.bad_encoding++ == 0) {
                    inf->prob.bad_encoding_line = rows->line[i];
                }
                continue;
            }
            unsigned jt = f->flags & REC_F_JSON_MASK;
            if (jt == REC_F_CELL_NUMBER && (f->flags & REC_F_CELL_DATE)) {
                serial_date(inf, ic, f);
                continue;
            }
            if (jt != 0 && !json_type(inf, ic, jt, rows->line[i])) {
                continue;
            }
            /* The validator's null rules: str null = unquoted empty; others: empty after trim. */
            if (f->len == 0 && !(f->flags & REC_F_QUOTED)) {
                ic->str_nulls++;
            } else if (str_value(ic, f->p, f->len) != 0) {
                return err_set(e, AE_NOMEM, "out of memory");
            }
            const char *p = f->p;
            size_t n = f->len;
            vp_trim(&p, &n);
            int mk = jt == 0 ? null_marker(f->p, f->len) : -1;
            if (n == 0) {
                ic->typed_nulls++;
            } else if (mk >= 0) {
                /* The validator compares a marker with the field as it is (validate.c). */
                ic->markers |= UINT32_C(1) << mk;
                ic->typed_nulls++;
            } else if (ic->alive != 0) {
                typed_value(inf, ic, p, n);
            } else {
                ic->typed_values++;
            }
        }
    }
    return 0;
}

uint64_t infer_nrows(const struct infer *inf)
{
    return inf->nrows;
}

size_t infer_ncols(const struct infer *inf)
{
    return inf->ncols;
}

void infer_problems(const struct infer *inf, struct infer_problems *out)
{
    *out = inf->prob;
}

/* Writes s[0..n) single-quoted ('' for a quote): YAML reads it back as the same string when it
 * holds no control byte. */
static void yaml_single_quoted(FILE *out, const char *s, size_t n)
{
    fputc('\'', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') {
            fputc('\'', out);
        }
        fputc(s[i], out);
    }
    fputc('\'', out);
}

/* Writes s as a YAML scalar that reads back as the same string: plain when it is a simple name,
 * else single-quoted ('' for a quote), or double-quoted with escapes when it holds control bytes
 * (which single quotes cannot carry). */
static void yaml_str(FILE *out, const char *s, size_t n)
{
    static const char *const reserved[] = {"null", "true", "false", "yes", "no", "on",
                                           "off",  "y",    "n",     "~",   NULL};
    bool plain =
        n > 0 && ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_');
    bool control = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            control = true;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            plain = false;
        }
    }
    for (size_t k = 0; plain && reserved[k] != NULL; k++) {
        plain = !(strlen(reserved[k]) == n && strncasecmp(reserved[k], s, n) == 0);
    }
    if (plain) {
        fwrite(s, 1, n, out);
        return;
    }
    if (!control) {
        yaml_single_quoted(out, s, n);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            fprintf(out, "\\%c", c);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c);
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

static int cmp_val(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void infer_write_comment(FILE *out, const char *text)
{
    const char *p = text != NULL ? text : "";
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "# %.*s\n", (int)n, p);
        p += n + (nl != NULL);
    }
}

static const char *int_dtype(int64_t lo, int64_t hi)
{
    if (lo >= INT8_MIN && hi <= INT8_MAX) {
        return "int8";
    }
    if (lo >= INT16_MIN && hi <= INT16_MAX) {
        return "int16";
    }
    if (lo >= INT32_MIN && hi <= INT32_MAX) {
        return "int32";
    }
    return "int64";
}

void infer_format_double(double d, char out[32])
{
    /* The shortest of 15, 16 and 17 significant digits that reads back as d (17 always does):
     * 61.218408, not 61.218407999999997. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, d);
        if (prec == 17 || strtod(out, NULL) == d) {
            return;
        }
    }
}

/* What the schema says of one column, decided once for both output forms. */
struct csum {
    const char *dtype;
    const char *format; /* date format, or NULL */
    bool is_str;
    bool nullable;
    bool coerce;      /* a JSON str column that also held numbers or booleans */
    bool range_int;   /* imin..imax observed */
    bool range_float; /* fmin..fmax observed (finite values) */
    bool isin;        /* the values seen are a short list */
    uint32_t markers; /* hint_null_words to declare as null_values */
};

static void summarize(const struct icol *ic, bool json, bool strict, struct csum *cs)
{
    int cand = N_CAND;
    if (ic->typed_values > 0) {
        for (int c = 0; c < N_CAND; c++) {
            if (alive(ic, c)) {
                cand = c;
                break;
            }
        }
    }
    memset(cs, 0, sizeof(*cs));
    cs->dtype = "str";
    switch (cand) {
    case C_BOOL: cs->dtype = "bool"; break;
    /* int64 unless --strict: the narrowest type that held the values seen overfits them. */
    case C_INT: cs->dtype = strict ? int_dtype(ic->imin, ic->imax) : "int64"; break;
    case C_FLOAT: cs->dtype = "float64"; break;
    case C_DATE: cs->dtype = "date"; break;
    case C_TS: cs->dtype = "datetime64[ns]"; break;
    case C_TSTZ: cs->dtype = "datetime64[ns, UTC]"; break;
    default:
        if (cand >= C_DATEF && cand < C_TS) {
            cs->dtype = "date";
            cs->format = date_formats[cand - C_DATEF];
        }
        break;
    }
    cs->is_str = cand == N_CAND;
    cs->nullable = cs->is_str ? ic->str_nulls > 0 : ic->typed_nulls > 0;
    cs->markers = cs->is_str ? 0 : ic->markers;
    cs->coerce = json && cs->is_str && ic->json_nonstr;
    cs->range_int = cand == C_INT;
    cs->range_float = cand == C_FLOAT && ic->fany;
    cs->isin = cs->is_str && !ic->isin_dead && ic->nvals > 0 && ic->nvals <= INFER_ISIN_MAX &&
               ic->str_values >= INFER_ISIN_MIN_ROWS && ic->nvals * 2 <= ic->str_values;
}

/* Writes s always quoted (a value such as 123 or null must stay the string it is). */
static void yaml_quoted(FILE *out, const char *s)
{
    size_t n = strlen(s);
    bool control = false;
    for (size_t i = 0; i < n; i++) {
        control = control || (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
    }
    if (control) {
        yaml_str(out, s, n);
        return;
    }
    yaml_single_quoted(out, s, n);
}

/* The values seen, sorted, as a YAML flow list of quoted strings ("['a', 'b']"). */
static void write_values(FILE *out, const struct icol *ic)
{
    char *sorted[INFER_ISIN_MAX];
    memcpy(sorted, ic->vals, ic->nvals * sizeof(*sorted));
    qsort(sorted, ic->nvals, sizeof(*sorted), cmp_val);
    fputc('[', out);
    for (size_t k = 0; k < ic->nvals; k++) {
        fputs(k > 0 ? ", " : "", out);
        yaml_quoted(out, sorted[k]);
    }
    fputc(']', out);
}

/* The observed extremes as text: integers, or floats shortest-exact. */
static void range_bounds(const struct icol *ic, const struct csum *cs, char lo[32], char hi[32])
{
    if (cs->range_int) {
        snprintf(lo, 32, "%lld", (long long)ic->imin);
        snprintf(hi, 32, "%lld", (long long)ic->imax);
    } else {
        infer_format_double(ic->fmin, lo);
        infer_format_double(ic->fmax, hi);
    }
}

/* The observed extremes ("1 to 5"), written as a comment unless --strict makes them checks. */
static void write_range(FILE *out, const struct icol *ic, const struct csum *cs)
{
    char lo[32];
    char hi[32];
    range_bounds(ic, cs, lo, hi);
    fprintf(out, "%s to %s%s", lo, hi, cs->range_float && ic->nonfinite ? ", and nan or inf" : "");
}

static void write_markers(FILE *out, uint32_t markers)
{
    fputc('[', out);
    bool first = true;
    for (size_t k = 0; k < hint_n_null_words; k++) {
        if ((markers >> k) & 1) {
            fputs(first ? "" : ", ", out);
            yaml_quoted(out, hint_null_words[k].word);
            first = false;
        }
    }
    fputc(']', out);
}

/* Pandera's to_yaml() form of one column (the older form: checks as a mapping). */
static void write_column(FILE *out, const struct icol *ic, bool json, bool strict)
{
    struct csum cs;
    summarize(ic, json, strict, &cs);
    fputs("  ", out);
    yaml_str(out, ic->name, strlen(ic->name));
    fputs(":\n    title: null\n    description: null\n", out);
    fprintf(out, "    dtype: %s\n", cs.dtype);
    if (cs.format != NULL) {
        fprintf(out, "    format: '%s'\n", cs.format);
    }
    fprintf(out, "    nullable: %s\n", cs.nullable ? "true" : "false");
    if (cs.markers != 0) {
        fputs("    null_values: ", out);
        write_markers(out, cs.markers);
        fputc('\n', out);
    }
    bool range = cs.range_int || (cs.range_float && !ic->nonfinite);
    if (strict && range) {
        char lo[32];
        char hi[32];
        range_bounds(ic, &cs, lo, hi);
        fprintf(out,
                "    checks:\n      greater_than_or_equal_to: %s\n"
                "      less_than_or_equal_to: %s\n",
                lo, hi);
    } else if (strict && cs.isin) {
        fputs("    checks:\n      isin: ", out);
        write_values(out, ic);
        fputc('\n', out);
    } else {
        fputs("    checks: null", out);
        if (cs.range_int || cs.range_float) {
            fputs("  # observed: ", out);
            write_range(out, ic, &cs);
        } else if (cs.isin) {
            fputs("  # values seen: ", out);
            write_values(out, ic);
        }
        fputc('\n', out);
    }
    /* A JSON str column that also held numbers or booleans takes them as text only with coerce. */
    fprintf(out, "    unique: false\n    coerce: %s\n    required: true\n    regex: false\n",
            cs.coerce ? "true" : "false");
}

/* The comment lines and the schema's opening keys. */
static void write_head(FILE *out, const char *comment)
{
    infer_write_comment(out, comment);
    fputs("schema_type: dataframe\nversion: 0.17.2\ncolumns:\n", out);
}

int infer_write_yaml_columns(FILE *out, const char *comment, const struct column_desc *cols,
                             size_t n, const char *strict, size_t *renamed, struct err *e)
{
    *renamed = 0;
    write_head(out, comment);
    for (size_t c = 0; c < n; c++) {
        bool changed = false;
        char *name = infer_name_text(cols[c].name, strlen(cols[c].name), &changed);
        if (name == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        *renamed += changed;
        char tn[48];
        fputs("  ", out);
        yaml_str(out, name, strlen(name));
        free(name);
        fprintf(out,
                ":\n    title: null\n    description: null\n    dtype: %s\n    nullable: %s\n"
                "    checks: null\n    unique: false\n    coerce: false\n    required: true\n"
                "    regex: false\n",
                dtype_name(cols[c].type, tn, sizeof(tn)), cols[c].nullable ? "true" : "false");
    }
    fprintf(out, "checks: null\nindex: null\ncoerce: false\nstrict: %s\nunique: null\n", strict);
    if (fflush(out) != 0 || ferror(out)) {
        return err_set(e, AE_IO, "cannot write the schema");
    }
    return 0;
}

int infer_write_yaml(const struct infer *inf, FILE *out, const char *comment, bool strict,
                     struct err *e)
{
    write_head(out, comment);
    for (size_t c = 0; c < inf->ncols; c++) {
        write_column(out, &inf->cols[c], inf->json, strict);
    }
    /* CSV is text, always parsed; JSON types map strictly unless coerce says otherwise. */
    fprintf(out, "checks: null\nindex: null\ncoerce: %s\nstrict: false\nunique: null\n",
            inf->json ? "false" : "true");
    if (fflush(out) != 0 || ferror(out)) {
        return err_set(e, AE_IO, "cannot write the schema");
    }
    return 0;
}

/* One column as one astro.yaml line, a flow mapping with only what differs from the defaults
 * (nullable false, unique false, required true), and what was observed as a trailing comment. */
static int write_flow_column(FILE *out, const struct icol *ic, bool json, bool strict,
                             const char *indent)
{
    struct csum cs;
    summarize(ic, json, strict, &cs);
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (m == NULL) {
        return AE_NOMEM;
    }
    fputs(indent, m);
    yaml_str(m, ic->name, strlen(ic->name));
    /* A dtype with brackets (datetime64[ns]) is quoted: '[' and ',' end a plain scalar in a
     * flow mapping. */
    fprintf(m, strpbrk(cs.dtype, "[],") != NULL ? ": {dtype: '%s'" : ": {dtype: %s", cs.dtype);
    if (cs.format != NULL) {
        fprintf(m, ", format: '%s'", cs.format);
    }
    if (cs.nullable) {
        fputs(", nullable: true", m);
    }
    if (cs.markers != 0) {
        fputs(", null_values: ", m);
        write_markers(m, cs.markers);
    }
    if (cs.coerce) {
        fputs(", coerce: true", m);
    }
    bool range = cs.range_int || (cs.range_float && !ic->nonfinite);
    bool noted = false;
    if (strict && range) {
        char lo[32];
        char hi[32];
        range_bounds(ic, &cs, lo, hi);
        fprintf(m, ", checks: {greater_than_or_equal_to: %s, less_than_or_equal_to: %s}", lo, hi);
        noted = true;
    } else if (strict && cs.isin) {
        fputs(", checks: {isin: ", m);
        write_values(m, ic);
        fputc('}', m);
        noted = true;
    }
    fputc('}', m);
    if (fclose(m) != 0 || line == NULL) {
        free(line);
        return AE_NOMEM;
    }
    fputs(line, out);
    size_t width = strlen(line);
    free(line);
    if (!noted && (cs.range_int || cs.range_float || cs.isin)) {
        /* Comments line up at column 55 where the lines are shorter. */
        fprintf(out, "%*s# %s", width < 52 ? (int)(54 - width) : 2, "",
                cs.isin ? "values seen: " : "observed: ");
        if (cs.isin) {
            write_values(out, ic);
        } else {
            write_range(out, ic, &cs);
        }
    }
    fputc('\n', out);
    return 0;
}

int infer_write_columns(const struct infer *inf, FILE *out, const char *indent, bool strict,
                        struct err *e)
{
    /* CSV is text, always parsed; JSON types map strictly unless coerce says otherwise. */
    fprintf(out, "%sschema:\n%s  coerce: %s\n%s  columns:\n", indent, indent,
            inf->json ? "false" : "true", indent);
    char inner[64];
    snprintf(inner, sizeof(inner), "%s    ", indent);
    for (size_t c = 0; c < inf->ncols; c++) {
        if (write_flow_column(out, &inf->cols[c], inf->json, strict, inner) != 0) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
    }
    if (fflush(out) != 0 || ferror(out)) {
        return err_set(e, AE_IO, "cannot write the schema");
    }
    return 0;
}

int infer_write_desc_columns(FILE *out, const char *indent, const struct column_desc *cols,
                             size_t n, size_t *renamed, struct err *e)
{
    *renamed = 0;
    /* The file's own types: nothing to parse, so nothing to coerce. */
    fprintf(out, "%sschema:\n%s  coerce: false\n%s  columns:\n", indent, indent, indent);
    for (size_t c = 0; c < n; c++) {
        bool changed = false;
        char *name = infer_name_text(cols[c].name, strlen(cols[c].name), &changed);
        if (name == NULL) {
            return err_set(e, AE_NOMEM, "out of memory");
        }
        *renamed += changed;
        char tn[48];
        dtype_name(cols[c].type, tn, sizeof(tn));
        fprintf(out, "%s    ", indent);
        yaml_str(out, name, strlen(name));
        free(name);
        /* '[' and ',' end a plain scalar in a flow mapping (datetime64[ns]). */
        fprintf(out, strpbrk(tn, "[],") != NULL ? ": {dtype: '%s'%s}\n" : ": {dtype: %s%s}\n", tn,
                cols[c].nullable ? ", nullable: true" : "");
    }
    if (fflush(out) != 0 || ferror(out)) {
        return err_set(e, AE_IO, "cannot write the schema");
    }
    return 0;
}

void infer_free(struct infer *inf)
{
    if (inf == NULL) {
        return;
    }
    for (size_t c = 0; c < inf->ncols; c++) {
        free(inf->cols[c].name);
        for (size_t k = 0; k < inf->cols[c].nvals; k++) {
            free(inf->cols[c].vals[k]);
        }
    }
    free(inf->cols);
    if (inf->c_locale != (locale_t)0) {
        freelocale(inf->c_locale);
    }
    free(inf);
}
