/*
 * parse.c - the value parsers behind the dtype check (see vparse.h).
 *
 * Invariants: parsers only read [p, p + n), allocate nothing on the common path and never consult
 * the process locale. Integers and decimals are accumulated digit by digit with exact overflow
 * bounds; floats take an exact fast path (Clinger: a mantissa below 2^53 times or divided by an
 * exactly representable power of ten is one correctly rounded IEEE operation) and otherwise a
 * syntax-checked call to strtod_l/strtof_l in the "C" locale, which is correctly rounded in glibc.
 * Dates use the proleptic Gregorian calendar (ISO 8601:2004 3.2.1) for years 0001..9999.
 */
#include "validate/vparse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static inline bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* Lowercases an ASCII letter. */
static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Case-insensitive comparison of [p, p+n) with the lowercase literal lit. */
static bool eq_nocase(const char *p, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (lit[i] == '\0' || lower(p[i]) != lit[i]) {
            return false;
        }
    }
    return lit[i] == '\0';
}

/* ---- integers ---------------------------------------------------------------------------- */

/* Accumulates the digits of [p, p+n) into *mag. Leading zeros are skipped so that "007" has the
 * magnitude 7 and arbitrarily long zero runs cannot overflow. Returns VP_SYNTAX for a non-digit
 * or no digit, VP_RANGE when the magnitude exceeds UINT64_MAX. */
static int digits_u64(const char *p, size_t n, uint64_t *mag)
{
    if (n == 0) {
        return VP_SYNTAX;
    }
    size_t i = 0;
    while (i < n && p[i] == '0') {
        i++;
    }
    uint64_t v = 0;
    size_t sig = n - i;
    /* 19 digits always fit in uint64_t (10^19 - 1 < 2^64); check only the 20th. */
    size_t fast = sig < 19 ? sig : 19;
    for (size_t k = 0; k < fast; k++, i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) {
            return VP_SYNTAX;
        }
        v = v * 10 + d;
    }
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) {
            return VP_SYNTAX;
        }
        if (v > (UINT64_MAX - d) / 10) {
            /* Keep scanning so that "99999999999999999999x" is a syntax error, not a range one. */
            for (i++; i < n; i++) {
                if (!is_digit(p[i])) {
                    return VP_SYNTAX;
                }
            }
            return VP_RANGE;
        }
        v = v * 10 + d;
    }
    *mag = v;
    return VP_OK;
}

int vp_int(const char *p, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    bool neg = false;
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        p++;
        n--;
    }
    uint64_t mag = 0;
    int rc = digits_u64(p, n, &mag);
    if (rc != VP_OK) {
        return rc;
    }
    if (neg) {
        /* -lo as uint64 without overflow: lo is at least INT64_MIN. */
        uint64_t lim = (uint64_t)(-(lo + 1)) + 1;
        if (mag > lim) {
            return VP_RANGE;
        }
        *out = mag == 0 ? 0 : (int64_t)(0 - mag);
        return VP_OK;
    }
    if (mag > (uint64_t)hi) {
        return VP_RANGE;
    }
    *out = (int64_t)mag;
    return VP_OK;
}

int vp_uint(const char *p, size_t n, uint64_t hi, uint64_t *out)
{
    bool neg = false;
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        p++;
        n--;
    }
    uint64_t mag = 0;
    int rc = digits_u64(p, n, &mag);
    if (rc != VP_OK) {
        return rc;
    }
    /* Unsigned columns take no minus sign at all: "-0" is refused like "-1" (a negative value
     * in an unsigned column is a data problem worth reporting). */
    if (neg || mag > hi) {
        return VP_RANGE;
    }
    *out = mag;
    return VP_OK;
}

/* ---- floats ------------------------------------------------------------------------------ */

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int vp_float(const char *p, size_t n, bool single, locale_t loc, double *out)
{
    const char *s = p;
    size_t len = n;
    bool neg = false;
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        len--;
    }
    if (len == 0) {
        return VP_SYNTAX;
    }
    if (!is_digit(s[0]) && s[0] != '.') {
        if (eq_nocase(s, len, "nan")) {
            *out = NAN;
            return VP_OK;
        }
        if (eq_nocase(s, len, "inf") || eq_nocase(s, len, "infinity")) {
            *out = neg ? -INFINITY : INFINITY;
            return VP_OK;
        }
        return VP_SYNTAX;
    }
    /* Syntax: digits [. digits] [e [+-] digits], at least one mantissa digit. The same pass
     * collects up to 19 significant digits for the fast path. */
    size_t i = 0;
    uint64_t mant = 0;
    int nsig = 0;         /* significant digits accumulated into mant */
    bool dropped = false; /* significant digits that did not fit */
    int64_t exp10 = 0;
    int ndig = 0;
    for (; i < len && is_digit(s[i]); i++) {
        ndig++;
        if (mant == 0 && s[i] == '0') {
            continue;
        }
        if (nsig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            nsig++;
        } else {
            exp10++;
            dropped = dropped || s[i] != '0';
        }
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++) {
            ndig++;
            if (mant == 0 && s[i] == '0') {
                exp10--;
                continue;
            }
            if (nsig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                nsig++;
                exp10--;
            } else {
                dropped = dropped || s[i] != '0';
            }
        }
    }
    if (ndig == 0) {
        return VP_SYNTAX;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= len || !is_digit(s[i])) {
            return VP_SYNTAX;
        }
        int64_t e = 0;
        for (; i < len && is_digit(s[i]); i++) {
            if (e < 100000) {
                e = e * 10 + (s[i] - '0');
            }
        }
        exp10 += eneg ? -e : e;
    }
    if (i != len) {
        return VP_SYNTAX;
    }
    if (mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return VP_OK;
    }
    /* Fast path. For float32, only when the double is exact (an integer below 2^53), so that the
     * conversion to float is the only rounding. */
    if (!dropped && mant < (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = (double)mant;
        bool exact = false;
        if (exp10 >= 0) {
            d *= pow10_exact[exp10];
            exact = d < 9007199254740992.0;
        } else {
            d /= pow10_exact[-exp10];
        }
        if (!single) {
            *out = neg ? -d : d;
            return VP_OK;
        }
        if (exact) {
            float f = (float)d;
            *out = neg ? -(double)f : (double)f;
            return VP_OK;
        }
    }
    /* Slow path: the text is known to be a plain decimal number, so strtod consumes all of it. */
    char stack[VP_FLOAT_STACK];
    char *tmp = stack;
    if (n >= sizeof(stack)) {
        tmp = malloc(n + 1);
        if (tmp == NULL) {
            return VP_RANGE; /* cannot happen in practice: numbers this long are absurd */
        }
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    double d;
    if (single) {
        float f = loc ? strtof_l(tmp, NULL, loc) : strtof(tmp, NULL);
        d = (double)f;
    } else {
        d = loc ? strtod_l(tmp, NULL, loc) : strtod(tmp, NULL);
    }
    int saved = errno;
    if (tmp != stack) {
        free(tmp);
    }
    /* ERANGE with a finite result is underflow: the correctly rounded value (0 or a subnormal)
     * is what the text means, so it is accepted. */
    if (saved == ERANGE && isinf(d)) {
        return VP_RANGE;
    }
    *out = d;
    return VP_OK;
}

/* ---- bool -------------------------------------------------------------------------------- */

static bool in_list(char *const *list, size_t n, const char *p, size_t len)
{
    for (size_t k = 0; k < n; k++) {
        if (list[k] != NULL && strlen(list[k]) == len && memcmp(list[k], p, len) == 0) {
            return true;
        }
    }
    return false;
}

int vp_bool(const struct vp_col *c, const char *p, size_t n, uint8_t *out)
{
    if (c != NULL && (c->true_values != NULL || c->false_values != NULL)) {
        if (in_list(c->true_values, c->n_true, p, n)) {
            *out = 1;
            return VP_OK;
        }
        if (in_list(c->false_values, c->n_false, p, n)) {
            *out = 0;
            return VP_OK;
        }
        return VP_SYNTAX;
    }
    if (n == 0 || n > 5) {
        return VP_SYNTAX;
    }
    char w[6];
    for (size_t k = 0; k < n; k++) {
        w[k] = lower(p[k]);
    }
    w[n] = '\0';
    static const char *const yes[] = {"true", "t", "yes", "y", "1"};
    static const char *const no[] = {"false", "f", "no", "n", "0"};
    for (size_t k = 0; k < 5; k++) {
        if (strcmp(w, yes[k]) == 0) {
            *out = 1;
            return VP_OK;
        }
        if (strcmp(w, no[k]) == 0) {
            *out = 0;
            return VP_OK;
        }
    }
    return VP_SYNTAX;
}

/* ---- decimal ----------------------------------------------------------------------------- */

int vp_decimal(const char *p, size_t n, unsigned precision, unsigned scale, __int128 *out)
{
    bool neg = false;
    size_t i = 0;
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        i = 1;
    }
    size_t int_start = i;
    while (i < n && is_digit(p[i])) {
        i++;
    }
    size_t int_end = i;
    size_t frac_start = i;
    size_t frac_end = i;
    if (i < n && p[i] == '.') {
        frac_start = ++i;
        while (i < n && is_digit(p[i])) {
            i++;
        }
        frac_end = i;
    }
    if (i != n || (int_end == int_start && frac_end == frac_start)) {
        return VP_SYNTAX;
    }
    size_t k = int_start;
    while (k < int_end && p[k] == '0') {
        k++;
    }
    /* At most precision - scale integer digits (after leading zeros): the unscaled value then has
     * at most precision <= 38 digits and fits in __int128 (10^38 - 1 < 2^127). */
    if (int_end - k > precision - scale) {
        return VP_RANGE;
    }
    unsigned __int128 v = 0;
    for (; k < int_end; k++) {
        v = v * 10 + (unsigned)(p[k] - '0');
    }
    size_t nfrac = frac_end - frac_start;
    for (size_t f = 0; f < scale; f++) {
        unsigned d = f < nfrac ? (unsigned)(p[frac_start + f] - '0') : 0;
        v = v * 10 + d;
    }
    for (size_t f = scale; f < nfrac; f++) {
        if (p[frac_start + f] != '0') {
            return VP_SCALE;
        }
    }
    *out = neg ? -(__int128)v : (__int128)v;
    return VP_OK;
}

/* ---- dates and times --------------------------------------------------------------------- */

int64_t vp_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Count from 0000-03-01 so that the leap day is the last day of the year; a 400-year era
     * has 146097 days. 719468 is the day number of 1970-01-01 in that count. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool vp_valid_date(int64_t y, unsigned m, unsigned d)
{
    static const uint8_t mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) {
        return false;
    }
    unsigned lim = mdays[m];
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        lim = 29;
    }
    return d <= lim;
}

/* Fields collected by the ISO and format parsers. */
struct tm_parts {
    int64_t year;
    unsigned mon, day, hour, min, sec;
    uint32_t usec;
    bool has_off;
    int32_t off_min; /* east of UTC */
};

static inline unsigned d2(const char *p)
{
    return (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i])) {
            return false;
        }
    }
    return true;
}

/* Fraction digits [p, p+n), 1..9 of them: microseconds, VP_PRECISION if digits 7..9 are not 0. */
static int parse_frac(const char *p, size_t n, uint32_t *usec)
{
    if (n == 0 || n > 9 || !all_digits(p, n)) {
        return VP_SYNTAX;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < 6; i++) {
        v = v * 10 + (i < n ? (uint32_t)(p[i] - '0') : 0);
    }
    for (size_t i = 6; i < n; i++) {
        if (p[i] != '0') {
            return VP_PRECISION;
        }
    }
    *usec = v;
    return VP_OK;
}

/* Z | +HH | +HH:MM | +HHMM | -HH | -HH:MM | -HHMM at p (PostgreSQL prints timestamptz with
 * +HH when the minutes are zero: "2024-02-20 11:08:25+00"); *used = bytes consumed. */
static int parse_offset(const char *p, size_t n, int32_t *off, size_t *used)
{
    if (n >= 1 && (p[0] == 'Z' || p[0] == 'z')) {
        *off = 0;
        *used = 1;
        return VP_OK;
    }
    if (n < 3 || (p[0] != '+' && p[0] != '-') || !all_digits(p + 1, 2)) {
        return VP_SYNTAX;
    }
    unsigned hh = d2(p + 1);
    unsigned mm = 0;
    size_t len = 3;
    if (n >= 6 && p[3] == ':' && all_digits(p + 4, 2)) {
        mm = d2(p + 4);
        len = 6;
    } else if (n >= 5 && all_digits(p + 3, 2)) {
        mm = d2(p + 3);
        len = 5;
    }
    if (hh > 23 || mm > 59) {
        return VP_CALENDAR;
    }
    int32_t v = (int32_t)(hh * 60 + mm);
    *off = p[0] == '-' ? -v : v;
    *used = len;
    return VP_OK;
}

/* YYYY-MM-DD[(T| )HH:MM[:SS[.f]][offset]] */
static int parse_iso(const char *p, size_t n, bool want_time, struct tm_parts *t)
{
    memset(t, 0, sizeof(*t));
    if (n < 10 || !all_digits(p, 4) || p[4] != '-' || !all_digits(p + 5, 2) || p[7] != '-' ||
        !all_digits(p + 8, 2)) {
        return VP_SYNTAX;
    }
    t->year = d2(p) * 100 + d2(p + 2);
    t->mon = d2(p + 5);
    t->day = d2(p + 8);
    if (n == 10) {
        return VP_OK;
    }
    if (!want_time) {
        return VP_SYNTAX;
    }
    if ((p[10] != 'T' && p[10] != ' ') || n < 16 || !all_digits(p + 11, 2) || p[13] != ':' ||
        !all_digits(p + 14, 2)) {
        return VP_SYNTAX;
    }
    t->hour = d2(p + 11);
    t->min = d2(p + 14);
    size_t i = 16;
    if (i < n && p[i] == ':') {
        if (n < i + 3 || !all_digits(p + i + 1, 2)) {
            return VP_SYNTAX;
        }
        t->sec = d2(p + i + 1);
        i += 3;
        if (i < n && p[i] == '.') {
            size_t s = ++i;
            while (i < n && is_digit(p[i])) {
                i++;
            }
            int rc = parse_frac(p + s, i - s, &t->usec);
            if (rc != VP_OK) {
                return rc;
            }
        }
    }
    if (i < n) {
        size_t used = 0;
        int rc = parse_offset(p + i, n - i, &t->off_min, &used);
        if (rc != VP_OK) {
            return rc;
        }
        if (i + used != n) {
            return VP_SYNTAX;
        }
        t->has_off = true;
    }
    return VP_OK;
}

/* Reads 1..max digits (greedy), as Python's strptime does for %m %d %H %M %S. */
static bool take_num(const char *p, size_t n, size_t *i, size_t min, size_t max, unsigned *v)
{
    size_t k = 0;
    unsigned acc = 0;
    while (k < max && *i + k < n && is_digit(p[*i + k])) {
        acc = acc * 10 + (unsigned)(p[*i + k] - '0');
        k++;
    }
    if (k < min) {
        return false;
    }
    *i += k;
    *v = acc;
    return true;
}

static const char month_abbr[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const month_full[12] = {"january",   "february", "march",    "april",
                                           "may",       "june",     "july",     "august",
                                           "september", "october",  "november", "december"};

/* %B: a full English month name, any case, at p + *i. */
static bool take_month_name(const char *p, size_t n, size_t *i, unsigned *mon)
{
    for (unsigned k = 0; k < 12; k++) {
        size_t len = strlen(month_full[k]);
        if (n - *i >= len && eq_nocase(p + *i, len, month_full[k])) {
            *i += len;
            *mon = k + 1;
            return true;
        }
    }
    return false;
}

static int parse_fmt(const char *p, size_t n, const struct vp_fmt *f, struct tm_parts *t)
{
    memset(t, 0, sizeof(*t));
    /* Python's strptime defaults: 1900-01-01 00:00:00. */
    t->year = 1900;
    t->mon = 1;
    t->day = 1;
    size_t i = 0;
    for (size_t k = 0; k < f->n; k++) {
        unsigned v = 0;
        switch (f->item[k]) {
        case 0:
            if (i >= n || p[i] != f->lit[k]) {
                return VP_SYNTAX;
            }
            i++;
            break;
        case 'Y':
            if (!take_num(p, n, &i, 4, 4, &v)) {
                return VP_SYNTAX;
            }
            t->year = v;
            break;
        case 'y':
            if (!take_num(p, n, &i, 2, 2, &v)) {
                return VP_SYNTAX;
            }
            if (f->pivot >= 0) {
                /* The column's century_pivot. */
                t->year = (int)v < f->pivot ? 2000 + v : 1900 + v;
            } else {
                /* POSIX: 69..99 are 1969..1999, 00..68 are 2000..2068. */
                t->year = v >= 69 ? 1900 + v : 2000 + v;
            }
            break;
        case 'm':
            if (!take_num(p, n, &i, 1, 2, &v)) {
                return VP_SYNTAX;
            }
            t->mon = v;
            break;
        case 'd':
            if (!take_num(p, n, &i, 1, 2, &v)) {
                return VP_SYNTAX;
            }
            t->day = v;
            break;
        case 'H':
            if (!take_num(p, n, &i, 1, 2, &v)) {
                return VP_SYNTAX;
            }
            t->hour = v;
            break;
        case 'M':
            if (!take_num(p, n, &i, 1, 2, &v)) {
                return VP_SYNTAX;
            }
            t->min = v;
            break;
        case 'S':
            if (!take_num(p, n, &i, 1, 2, &v)) {
                return VP_SYNTAX;
            }
            t->sec = v;
            break;
        case 'b': {
            if (n - i < 3) {
                return VP_SYNTAX;
            }
            unsigned m = 0;
            for (unsigned k2 = 0; k2 < 12; k2++) {
                if (lower(p[i]) == month_abbr[k2][0] && lower(p[i + 1]) == month_abbr[k2][1] &&
                    lower(p[i + 2]) == month_abbr[k2][2]) {
                    m = k2 + 1;
                }
            }
            if (m == 0) {
                return VP_SYNTAX;
            }
            t->mon = m;
            i += 3;
            break;
        }
        case 'B':
            if (!take_month_name(p, n, &i, &v)) {
                return VP_SYNTAX;
            }
            t->mon = v;
            break;
        case 'f': {
            size_t s = i;
            while (i < n && is_digit(p[i])) {
                i++;
            }
            int rc = parse_frac(p + s, i - s, &t->usec);
            if (rc != VP_OK) {
                return rc;
            }
            break;
        }
        case 'z': {
            size_t used = 0;
            int rc = parse_offset(p + i, n - i, &t->off_min, &used);
            if (rc != VP_OK) {
                return rc;
            }
            i += used;
            t->has_off = true;
            break;
        }
        default: return VP_SYNTAX;
        }
    }
    return i == n ? VP_OK : VP_SYNTAX;
}

bool vp_fmt_has(const struct vp_fmt *f, char item)
{
    for (size_t k = 0; k < f->n; k++) {
        if (f->item[k] == item) {
            return true;
        }
    }
    return false;
}

int vp_fmt_compile(const char *format, struct vp_fmt *out, char *why, size_t n)
{
    memset(out, 0, sizeof(*out));
    out->pivot = -1;
    for (size_t i = 0; format[i] != '\0'; i++) {
        if (out->n >= VP_FMT_MAX) {
            snprintf(why, n, "format is longer than %d items", VP_FMT_MAX);
            return -1;
        }
        if (format[i] != '%') {
            out->lit[out->n++] = format[i];
            continue;
        }
        char c = format[++i];
        if (c == '%') {
            out->lit[out->n++] = '%';
        } else if (c != '\0' && strchr("YmdybBHMSfz", c) != NULL) {
            out->item[out->n++] = c;
        } else if (c == '\0') {
            snprintf(why, n, "format '%s' ends with a lone '%%'", format);
            return -1;
        } else {
            snprintf(why, n,
                     "format '%s': %%%c is not supported (use %%Y %%m %%d %%y %%b %%B %%H %%M %%S "
                     "%%f %%z %%%%)",
                     format, c);
            return -1;
        }
    }
    return 0;
}

int vp_date(const char *p, size_t n, const struct vp_fmt *fmt, int64_t *out)
{
    struct tm_parts t;
    int rc = fmt ? parse_fmt(p, n, fmt, &t) : parse_iso(p, n, false, &t);
    if (rc != VP_OK) {
        return rc;
    }
    if (!vp_valid_date(t.year, t.mon, t.day) || t.hour > 23 || t.min > 59 || t.sec > 59) {
        return VP_CALENDAR;
    }
    /* A format with time directives may be used for a date column: the time is checked but
     * dropped, as a date holds none. */
    *out = vp_days_from_civil(t.year, t.mon, t.day);
    return VP_OK;
}

int vp_datetime_zone(const char *p, size_t n, const struct vp_fmt *fmt, const struct tz *z,
                     int64_t *out)
{
    struct tm_parts t;
    int rc = fmt ? parse_fmt(p, n, fmt, &t) : parse_iso(p, n, true, &t);
    if (rc != VP_OK) {
        return rc;
    }
    if (t.has_off) {
        return vp_datetime(p, n, fmt, true, out);
    }
    if (!vp_valid_date(t.year, t.mon, t.day) || t.hour > 23 || t.min > 59 || t.sec > 59) {
        return VP_CALENDAR;
    }
    int64_t days = vp_days_from_civil(t.year, t.mon, t.day);
    int64_t local = days * 86400 + (int64_t)t.hour * 3600 + (int64_t)t.min * 60 + (int64_t)t.sec;
    int64_t utc = 0;
    switch (tz_to_utc(z, local, &utc)) {
    case TZ_OK: break;
    case TZ_AMBIGUOUS: return VP_TZ_AMBIGUOUS;
    case TZ_NONEXISTENT: return VP_TZ_NONEXISTENT;
    default: return VP_TZ_BEYOND;
    }
    *out = utc * 1000000 + (int64_t)t.usec;
    return VP_OK;
}

int vp_datetime(const char *p, size_t n, const struct vp_fmt *fmt, bool utc, int64_t *out)
{
    struct tm_parts t;
    int rc = fmt ? parse_fmt(p, n, fmt, &t) : parse_iso(p, n, true, &t);
    if (rc != VP_OK) {
        return rc;
    }
    if (!vp_valid_date(t.year, t.mon, t.day) || t.hour > 23 || t.min > 59 || t.sec > 59) {
        return VP_CALENDAR;
    }
    if (t.has_off && !utc) {
        return VP_OFFSET;
    }
    int64_t days = vp_days_from_civil(t.year, t.mon, t.day);
    int64_t secs = days * 86400 + (int64_t)t.hour * 3600 + (int64_t)t.min * 60 + (int64_t)t.sec;
    secs -= (int64_t)t.off_min * 60;
    *out = secs * 1000000 + (int64_t)t.usec;
    return VP_OK;
}

/* A date or datetime of column c in format fmt (NULL: ISO 8601), in the column's zone. */
static int vp_time_one(const struct vp_col *c, const char *p, size_t n, const struct vp_fmt *fmt,
                       int64_t *out)
{
    switch (c->type.id) {
    case DT_DATE: return vp_date(p, n, fmt, out);
    case DT_TIMESTAMP: return vp_datetime(p, n, fmt, false, out);
    default:
        return c->tz != NULL ? vp_datetime_zone(p, n, fmt, c->tz, out)
                             : vp_datetime(p, n, fmt, true, out);
    }
}

int vp_time(const struct vp_col *c, const char *p, size_t n, int64_t *out, size_t *which)
{
    *which = 0;
    if (c->nfmt == 0) {
        return vp_time_one(c, p, n, NULL, out);
    }
    int best = VP_SYNTAX;
    for (size_t k = 0; k < c->nfmt; k++) {
        int rc = vp_time_one(c, p, n, &c->fmt[k], out);
        if (rc == VP_OK) {
            *which = k;
            return VP_OK;
        }
        if (best == VP_SYNTAX) {
            best = rc;
        }
    }
    return best;
}

/* ---- numbers with separators ------------------------------------------------------------- */

long vp_num_canon(const struct vp_col *c, const char *p, size_t n, char *buf, size_t cap)
{
    char dec = c->decimal != 0 ? c->decimal : '.';
    char th = c->thousands;
    if (n >= cap) {
        return -1;
    }
    size_t i = 0;
    size_t o = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        buf[o++] = p[i++];
    }
    /* The integer part: digits, and group separators between groups of three. */
    size_t run = 0; /* digits since the last separator */
    bool grouped = false;
    for (; i < n && (is_digit(p[i]) || (th != 0 && p[i] == th)); i++) {
        if (p[i] != th) {
            buf[o++] = p[i];
            run++;
            continue;
        }
        if (run == 0 || (grouped ? run != 3 : run > 3)) {
            return -1;
        }
        grouped = true;
        run = 0;
    }
    if (grouped && run != 3) {
        return -1;
    }
    /* The rest (fraction, exponent, nan/inf) is copied with the decimal mark made '.': any other
     * stray byte is left for the dtype parser to refuse, except a '.' that is not the mark and a
     * group separator, which it would take. */
    for (; i < n; i++) {
        if (p[i] == dec) {
            buf[o++] = '.';
        } else if (p[i] == '.' || (th != 0 && p[i] == th)) {
            return -1;
        } else {
            buf[o++] = p[i];
        }
    }
    return (long)o;
}

/* ---- timedelta --------------------------------------------------------------------------- */

/* Nanoseconds of a duration unit's name (pandas' spellings), 0 when it is not one. */
static int64_t td_unit(const char *u, size_t n)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {
        {"w", INT64_C(604800000000000)},
        {"week", INT64_C(604800000000000)},
        {"weeks", INT64_C(604800000000000)},
        {"d", INT64_C(86400000000000)},
        {"day", INT64_C(86400000000000)},
        {"days", INT64_C(86400000000000)},
        {"h", INT64_C(3600000000000)},
        {"hr", INT64_C(3600000000000)},
        {"hour", INT64_C(3600000000000)},
        {"hours", INT64_C(3600000000000)},
        {"m", INT64_C(60000000000)},
        {"min", INT64_C(60000000000)},
        {"minute", INT64_C(60000000000)},
        {"minutes", INT64_C(60000000000)},
        {"s", INT64_C(1000000000)},
        {"sec", INT64_C(1000000000)},
        {"second", INT64_C(1000000000)},
        {"seconds", INT64_C(1000000000)},
        {"ms", INT64_C(1000000)},
        {"millisecond", INT64_C(1000000)},
        {"milliseconds", INT64_C(1000000)},
        {"us", 1000},
        {"microsecond", 1000},
        {"microseconds", 1000},
        {"ns", 1},
        {"nanosecond", 1},
        {"nanoseconds", 1},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == n && strncasecmp(units[i].name, u, n) == 0) {
            return units[i].ns;
        }
    }
    return 0;
}

/* Reads digits at p[*i] into *v (at most 19 of them). False when there is none or too many. */
static bool td_digits(const char *p, size_t n, size_t *i, int64_t *v, size_t *count)
{
    size_t k = *i;
    int64_t x = 0;
    while (k < n && p[k] >= '0' && p[k] <= '9') {
        if (k - *i >= 18) {
            return false;
        }
        x = x * 10 + (p[k] - '0');
        k++;
    }
    if (k == *i) {
        return false;
    }
    *count = k - *i;
    *i = k;
    *v = x;
    return true;
}

/* A fraction's digits at p[*i] (after the point) in units of mult nanoseconds: *ns, or
 * VP_PRECISION when a nonzero digit lies below a nanosecond. */
static int td_fraction(const char *p, size_t n, size_t *i, int64_t mult, __int128 *ns)
{
    __int128 num = 0, den = 1;
    size_t k = *i;
    while (k < n && p[k] >= '0' && p[k] <= '9') {
        if (den < (__int128)INT64_C(1000000000000000000)) {
            num = num * 10 + (p[k] - '0');
            den *= 10;
        } else if (p[k] != '0') {
            return VP_PRECISION;
        }
        k++;
    }
    if (k == *i) {
        return VP_SYNTAX;
    }
    *i = k;
    __int128 whole = num * mult;
    if (whole % den != 0) {
        return VP_PRECISION;
    }
    *ns = whole / den;
    return VP_OK;
}

/* ISO 8601 duration after its 'P': [nW][nD][T[nH][nM][n[.f]S]] (no years or months: their
 * length varies). */
static int td_iso(const char *p, size_t n, size_t i, __int128 *total)
{
    bool in_time = false, any = false;
    while (i < n) {
        if (p[i] == 'T' && !in_time) {
            in_time = true;
            i++;
            continue;
        }
        int64_t v = 0;
        size_t cnt = 0;
        if (!td_digits(p, n, &i, &v, &cnt)) {
            return VP_SYNTAX;
        }
        __int128 frac = 0;
        if (i < n && (p[i] == '.' || p[i] == ',')) {
            size_t j = i + 1;
            while (j < n && p[j] >= '0' && p[j] <= '9') {
                j++;
            }
            if (j >= n || p[j] != 'S' || !in_time) {
                return VP_SYNTAX; /* only seconds take a fraction here */
            }
            i++;
            int rc = td_fraction(p, n, &i, INT64_C(1000000000), &frac);
            if (rc != VP_OK) {
                return rc;
            }
        }
        if (i >= n) {
            return VP_SYNTAX;
        }
        char u = p[i++];
        int64_t mult = !in_time && u == 'W'   ? INT64_C(604800000000000)
                       : !in_time && u == 'D' ? INT64_C(86400000000000)
                       : in_time && u == 'H'  ? INT64_C(3600000000000)
                       : in_time && u == 'M'  ? INT64_C(60000000000)
                       : in_time && u == 'S'  ? INT64_C(1000000000)
                                              : 0;
        if (mult == 0) {
            return VP_SYNTAX;
        }
        *total += (__int128)v * mult + frac;
        any = true;
    }
    return any ? VP_OK : VP_SYNTAX;
}

int vp_timedelta(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    int sign = 1;
    if (n > 0 && (p[0] == '-' || p[0] == '+')) {
        sign = p[0] == '-' ? -1 : 1;
        i = 1;
    }
    if (i >= n) {
        return VP_SYNTAX;
    }
    __int128 total = 0;
    int rc = VP_OK;
    if (p[i] == 'P') {
        rc = td_iso(p, n, i + 1, &total);
    } else {
        /* Bare digits are nanoseconds (pandas' Timedelta("2000")); else components: "N unit"
         * ("1 days", "1h", "30min", "1.5s") and at most one clock [+-]H:MM:SS[.f]. */
        size_t j = i;
        while (j < n && p[j] >= '0' && p[j] <= '9') {
            j++;
        }
        if (j == n) {
            int64_t v = 0;
            size_t cnt = 0;
            if (n - i > 18) {
                return VP_RANGE;
            }
            (void)td_digits(p, n, &i, &v, &cnt);
            total = v;
        } else {
            bool clock = false, any = false;
            while (i < n && rc == VP_OK) {
                while (i < n && (p[i] == ' ' || p[i] == ',')) {
                    i++;
                }
                if (i >= n) {
                    break;
                }
                /* pandas: the leading sign applies to every unit component ("-1h30min"), but a
                 * clock after the days keeps its own sign, + when none ("-1 days 02:00:00" is
                 * -22 hours, "-1 days +23:59:59" one second before zero) */
                int csign = sign;
                bool own = false;
                if (any && (p[i] == '+' || p[i] == '-')) {
                    csign = p[i] == '-' ? -1 : 1;
                    own = true;
                    i++;
                }
                int64_t v = 0;
                size_t cnt = 0;
                if (!td_digits(p, n, &i, &v, &cnt)) {
                    return VP_SYNTAX;
                }
                if (i < n && p[i] == ':') {
                    int64_t mm = 0, ss = 0;
                    size_t c2 = 0, c3 = 0;
                    if (clock || cnt > 2 || ++i >= n || !td_digits(p, n, &i, &mm, &c2) || c2 != 2 ||
                        mm > 59 || i >= n || p[i] != ':' || ++i >= n ||
                        !td_digits(p, n, &i, &ss, &c3) || c3 != 2 || ss > 59) {
                        return VP_SYNTAX;
                    }
                    __int128 frac = 0;
                    if (i < n && p[i] == '.') {
                        i++;
                        rc = td_fraction(p, n, &i, INT64_C(1000000000), &frac);
                    }
                    if (any && !own) {
                        csign = 1;
                    }
                    total += csign * ((__int128)(v * 3600 + mm * 60 + ss) * 1000000000 + frac);
                    clock = any = true;
                    continue;
                }
                __int128 frac = 0;
                size_t fstart = 0;
                if (i < n && p[i] == '.') {
                    fstart = ++i;
                    while (i < n && p[i] >= '0' && p[i] <= '9') {
                        i++;
                    }
                }
                while (i < n && p[i] == ' ') {
                    i++;
                }
                size_t u0 = i;
                while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z'))) {
                    i++;
                }
                int64_t mult = td_unit(p + u0, i - u0);
                if (mult == 0) {
                    return VP_SYNTAX;
                }
                if (fstart != 0) {
                    size_t k = fstart;
                    rc = td_fraction(p, u0, &k, mult, &frac);
                    if (rc == VP_SYNTAX) {
                        return rc;
                    }
                }
                total += csign * ((__int128)v * mult + frac);
                any = true;
            }
            if (!any) {
                return VP_SYNTAX;
            }
            sign = 1; /* applied per component */
        }
    }
    if (rc != VP_OK) {
        return rc;
    }
    total *= sign;
    if (total > INT64_MAX || total < INT64_MIN + 1) {
        return VP_RANGE; /* INT64_MIN is pandas' NaT */
    }
    *out = (int64_t)total;
    return VP_OK;
}

const char *vp_dtype_name(const struct vp_col *c, char *buf, size_t n)
{
    if (c->type.id == DT_TIMESTAMP_TZ && c->tz != NULL) {
        snprintf(buf, n, "datetime64[ns, %s]", tz_name(c->tz));
        return buf;
    }
    return dtype_name(c->type, buf, n);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

int vp_serial(const char *p, size_t n, bool date1904, bool datetime, int64_t *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) {
        return VP_SYNTAX;
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(d)) {
        return VP_SYNTAX;
    }
    const double ms_per_day = 86400000.0;
    if (d < (date1904 ? 0.0 : 1.0) || d >= 2958466.0) {
        return VP_RANGE; /* 2958465 is 9999-12-31 in the 1900 system (later in 1904's) */
    }
    int64_t ms = llround(d * ms_per_day);
    int64_t whole = ms / (int64_t)ms_per_day;
    int64_t rest = ms % (int64_t)ms_per_day;
    int64_t days;
    if (date1904) {
        days = vp_days_from_civil(1904, 1, 1) + whole;
    } else if (whole == 60) {
        return VP_CALENDAR;
    } else {
        days = vp_days_from_civil(1899, 12, whole < 60 ? 31 : 30) + whole;
    }
    if (days > vp_days_from_civil(9999, 12, 31)) {
        return VP_RANGE;
    }
    if (!datetime) {
        if (rest != 0) {
            return VP_PRECISION;
        }
        *out = days;
        return VP_OK;
    }
    *out = days * INT64_C(86400000000) + rest * 1000;
    return VP_OK;
}

/* Numbers longer than this fail in a column with separators (no real number is that long). */
#define VP_NUM_CANON 256

int vp_parse(const struct vp_col *c, const char *p, size_t n, union vp_val *out)
{
    uint64_t u = 0;
    int64_t t = 0;
    size_t which = 0;
    char canon[VP_NUM_CANON];
    if ((c->thousands != 0 || c->decimal != 0) && vp_is_number(c->type.id)) {
        long len = vp_num_canon(c, p, n, canon, sizeof(canon));
        if (len < 0) {
            return VP_SYNTAX;
        }
        p = canon;
        n = (size_t)len;
    }
    switch (c->type.id) {
    case DT_STR:
        out->s.p = p;
        out->s.n = n;
        return VP_OK;
    case DT_BOOL: return vp_bool(c, p, n, &out->b);
    case DT_INT8: return vp_int(p, n, INT8_MIN, INT8_MAX, &out->i);
    case DT_INT16: return vp_int(p, n, INT16_MIN, INT16_MAX, &out->i);
    case DT_INT32: return vp_int(p, n, INT32_MIN, INT32_MAX, &out->i);
    case DT_INT64: return vp_int(p, n, INT64_MIN, INT64_MAX, &out->i);
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_UINT64: {
        static const uint64_t hi[] = {UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
        int rc = vp_uint(p, n, hi[c->type.id - DT_UINT8], &u);
        out->i = (int64_t)u;
        return rc;
    }
    case DT_FLOAT32: return vp_float(p, n, true, c->c_locale, &out->f);
    case DT_FLOAT64: return vp_float(p, n, false, c->c_locale, &out->f);
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: {
        int rc = vp_time(c, p, n, &t, &which);
        out->i = t;
        return rc;
    }
    case DT_DECIMAL: return vp_decimal(p, n, c->type.precision, c->type.scale, &out->d);
    case DT_TIMEDELTA: return vp_timedelta(p, n, &out->i);
    }
    return VP_SYNTAX;
}

struct vp_col vp_col_canonical(const struct vp_col *c)
{
    struct vp_col r = *c;
    r.fmt = NULL;
    r.nfmt = 0;
    r.fmt_text = NULL;
    r.thousands = 0;
    r.decimal = 0;
    return r;
}

void vp_fmt_list(char *buf, size_t n, const struct vp_col *c)
{
    size_t used = 0;
    if (n > 0) {
        buf[0] = '\0';
    }
    for (size_t k = 0; k < c->nfmt && used < n; k++) {
        int w = snprintf(buf + used, n - used, "%s'%s'", k == 0 ? "" : " or ", c->fmt_text[k]);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

bool vp_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs, 8 bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080)) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* RFC 3629 section 4 (the UTF8-octets grammar). */
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80) {
                return false;
            }
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) {
                return false;
            }
            if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F)) {
                return false; /* overlong, or a UTF-16 surrogate */
            }
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80) {
                return false;
            }
            if ((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F)) {
                return false; /* overlong, or above U+10FFFF */
            }
            i += 4;
        } else {
            return false;
        }
    }
    return true;
}

size_t vp_utf8_count(const char *p, size_t n)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        cnt += ((unsigned char)p[i] & 0xC0) != 0x80;
    }
    return cnt;
}

/* ---- messages ---------------------------------------------------------------------------- */

const char *vp_quote(char *buf, size_t n, const char *value, size_t vlen, size_t max)
{
    size_t take = vlen;
    bool cut = false;
    if (take > max) {
        take = max;
        /* Do not split a UTF-8 sequence. */
        while (take > 0 && ((unsigned char)value[take] & 0xC0) == 0x80) {
            take--;
        }
        cut = true;
    }
    snprintf(buf, n, "'%.*s%s'", (int)take, value, cut ? "..." : "");
    return buf;
}

void vp_message(char *buf, size_t n, int status, const struct vp_col *c, const char *value,
                size_t vlen)
{
    char q[160];
    char tn[96];
    vp_quote(q, sizeof(q), value, vlen, 120);
    vp_dtype_name(c, tn, sizeof(tn));
    bool dt = c->type.id == DT_DATE || c->type.id == DT_TIMESTAMP || c->type.id == DT_TIMESTAMP_TZ;
    char expect[400] = "";
    bool num = vp_is_number(c->type.id);
    if (dt && c->nfmt > 0) {
        char list[300];
        vp_fmt_list(list, sizeof(list), c);
        snprintf(expect, sizeof(expect), " (expected format %s)", list);
    } else if (c->type.id == DT_DATE) {
        snprintf(expect, sizeof(expect), " (expected YYYY-MM-DD)");
    } else if (dt) {
        snprintf(expect, sizeof(expect),
                 " (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.ffffff]] or with an offset "
                 "Z, +HH, +HH:MM or +HHMM)");
    } else if (num && (c->thousands != 0 || c->decimal != 0)) {
        char th[16] = "none";
        if (c->thousands != 0) {
            snprintf(th, sizeof(th), "'%c'", c->thousands);
        }
        snprintf(expect, sizeof(expect),
                 " (expected thousands separator %s between groups of three digits and "
                 "decimal mark '%c')",
                 th, c->decimal != 0 ? c->decimal : '.');
    } else if (c->type.id == DT_BOOL && c->true_values == NULL && c->false_values == NULL) {
        snprintf(expect, sizeof(expect), " (expected true/false, t/f, yes/no, y/n or 1/0)");
    } else if (c->type.id == DT_BOOL) {
        snprintf(expect, sizeof(expect),
                 " (expected one of the column's true_values or "
                 "false_values)");
    } else if (c->type.id == DT_DECIMAL) {
        snprintf(expect, sizeof(expect), " (expected digits with an optional sign and point)");
    } else if (c->type.id == DT_TIMEDELTA) {
        snprintf(expect, sizeof(expect),
                 " (expected a duration: '1 days 02:03:04', '02:03:04', '1h30min', 'P1DT2H', or "
                 "whole nanoseconds)");
    }
    switch (status) {
    case VP_RANGE:
        if (c->type.id == DT_DECIMAL) {
            snprintf(buf, n, "%s is out of range for %s (at most %u digits before the point)", q,
                     tn, (unsigned)(c->type.precision - c->type.scale));
        } else {
            snprintf(buf, n, "%s is out of range for %s", q, tn);
        }
        break;
    case VP_SCALE:
        snprintf(buf, n, "%s has more than %u digits after the point for %s", q,
                 (unsigned)c->type.scale, tn);
        break;
    case VP_CALENDAR: snprintf(buf, n, "%s is not a real calendar date or time", q); break;
    case VP_PRECISION:
        snprintf(buf, n, "%s is more precise than %s", q,
                 c->type.id == DT_TIMEDELTA ? "nanoseconds" : "microseconds");
        break;
    case VP_TZ_AMBIGUOUS:
        snprintf(buf, n,
                 "%s happened twice in time zone %s (the clocks went back): give its UTC offset", q,
                 tz_name(c->tz));
        break;
    case VP_TZ_NONEXISTENT:
        snprintf(buf, n, "%s did not happen in time zone %s (the clocks went forward over it)", q,
                 tz_name(c->tz));
        break;
    case VP_TZ_BEYOND:
        snprintf(buf, n,
                 "%s is past the tz database's table of time zone %s: its UTC offset is not "
                 "known; give it",
                 q, tz_name(c->tz));
        break;
    case VP_OFFSET:
        snprintf(buf, n,
                 "%s has a UTC offset but the column is a naive %s (declare it "
                 "datetime64[ns, UTC] to convert offsets to UTC)",
                 q, tn);
        break;
    default: snprintf(buf, n, "%s is not a valid %s%s", q, tn, expect); break;
    }
}
