/*
 * dtype.c - Pandera dtype names to struct dtype_info and back.
 */
#include "batch/dtype.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* category is pandas' categorical of strings: Pandera's to_yaml() writes no categories. */
static const struct {
    const char *name;
    enum dtype id;
} simple_names[] = {
    {"str", DT_STR},           {"string", DT_STR},         {"object", DT_STR},
    {"bool", DT_BOOL},         {"boolean", DT_BOOL},       {"int8", DT_INT8},
    {"int16", DT_INT16},       {"int32", DT_INT32},        {"int64", DT_INT64},
    {"int", DT_INT64},         {"uint8", DT_UINT8},        {"uint16", DT_UINT16},
    {"uint32", DT_UINT32},     {"uint64", DT_UINT64},      {"float32", DT_FLOAT32},
    {"float64", DT_FLOAT64},   {"float", DT_FLOAT64},      {"double", DT_FLOAT64},
    {"date", DT_DATE},         {"datetime", DT_TIMESTAMP}, {"timestamp", DT_TIMESTAMP},
    {"datetime64", DT_TIMESTAMP},
    {"category", DT_STR},
    {"timedelta", DT_TIMEDELTA},
    {"timedelta64", DT_TIMEDELTA},
    {"timedelta64[ns]", DT_TIMEDELTA},
    {"<m8[ns]", DT_TIMEDELTA},
};

/* Copies s without spaces into out (lowercased only where Pandera is case-insensitive: the
 * nullable pandas spellings Int64, UInt8, Float64 and "DateTime" forms). */
static void squeeze(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; s[i] != '\0' && j + 1 < n; i++) {
        if (!isspace((unsigned char)s[i])) {
            out[j++] = (char)tolower((unsigned char)s[i]);
        }
    }
    out[j] = '\0';
}

static int parse_decimal(const char *s, struct dtype_info *out, struct err *e, const char *orig)
{
    /* s is "decimal(p,s)" or "decimal(p)" already squeezed. */
    const char *p = s + strlen("decimal");
    long prec = 0;
    long scale = 0;
    char *end = NULL;
    if (*p != '(') {
        return err_set(e, AE_CONFIG, "dtype '%s': expected decimal(precision, scale)", orig);
    }
    prec = strtol(p + 1, &end, 10);
    if (end == p + 1) {
        return err_set(e, AE_CONFIG, "dtype '%s': expected decimal(precision, scale)", orig);
    }
    if (*end == ',') {
        const char *q = end + 1;
        scale = strtol(q, &end, 10);
        if (end == q) {
            return err_set(e, AE_CONFIG, "dtype '%s': expected decimal(precision, scale)", orig);
        }
    }
    if (*end != ')' || end[1] != '\0') {
        return err_set(e, AE_CONFIG, "dtype '%s': expected decimal(precision, scale)", orig);
    }
    if (prec < 1 || prec > 38) {
        return err_set(e, AE_CONFIG, "dtype '%s': precision must be between 1 and 38", orig);
    }
    if (scale < 0 || scale > prec) {
        return err_set(e, AE_CONFIG, "dtype '%s': scale must be between 0 and the precision (%ld)",
                       orig, prec);
    }
    out->id = DT_DECIMAL;
    out->precision = (uint8_t)prec;
    out->scale = (uint8_t)scale;
    return 0;
}

int dtype_parse(const char *s, struct dtype_info *out, struct err *e)
{
    char t[64];
    if (s == NULL || strlen(s) >= sizeof(t)) {
        return err_set(e, AE_CONFIG, "dtype '%s' is not a known dtype", s ? s : "(null)");
    }
    squeeze(s, t, sizeof(t));
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(simple_names) / sizeof(simple_names[0]); i++) {
        if (strcmp(t, simple_names[i].name) == 0) {
            out->id = simple_names[i].id;
            return 0;
        }
    }
    if (strncmp(t, "decimal", 7) == 0) {
        return parse_decimal(t, out, e, s);
    }
    /* datetime64[unit] or datetime64[unit,tz]; also pandas' DatetimeTZDtype spelling
     * "datetime64[ns,utc]" after squeezing. Only UTC is supported as a time zone. */
    if (strncmp(t, "datetime64[", 11) == 0 && t[strlen(t) - 1] == ']') {
        const char *unit = t + 11;
        size_t ulen = strcspn(unit, ",]");
        static const char *units[] = {"ns", "us", "ms", "s"};
        int unit_ok = 0;
        for (size_t i = 0; i < 4; i++) {
            if (strlen(units[i]) == ulen && strncmp(unit, units[i], ulen) == 0) {
                unit_ok = 1;
            }
        }
        if (!unit_ok) {
            return err_set(e, AE_CONFIG, "dtype '%s': unknown time unit (expected ns, us, ms or s)",
                           s);
        }
        if (unit[ulen] == ']') {
            out->id = DT_TIMESTAMP;
            return 0;
        }
        /* UTC, or a zone of the tz database (dtype_zone names it; the validator loads it) */
        const char *tz = unit + ulen + 1;
        if (tz[0] == ']') {
            return err_set(e, AE_CONFIG, "dtype '%s': a time zone name is missing", s);
        }
        out->id = DT_TIMESTAMP_TZ;
        return 0;
    }
    return err_set(e, AE_CONFIG,
                   "dtype '%s' is not a known dtype (expected one of: str, bool, int8, int16, "
                   "int32, int64, uint8, uint16, uint32, uint64, float32, float64, date, "
                   "datetime, datetime64[ns], datetime64[ns, UTC], timedelta64[ns], "
                   "decimal(p,s))",
                   s);
}

const char *dtype_name(struct dtype_info t, char *buf, size_t n)
{
    static const char *names[] = {
        [DT_STR] = "str",         [DT_BOOL] = "bool",       [DT_INT8] = "int8",
        [DT_INT16] = "int16",     [DT_INT32] = "int32",     [DT_INT64] = "int64",
        [DT_UINT8] = "uint8",     [DT_UINT16] = "uint16",   [DT_UINT32] = "uint32",
        [DT_UINT64] = "uint64",   [DT_FLOAT32] = "float32", [DT_FLOAT64] = "float64",
        [DT_DATE] = "date",       [DT_TIMESTAMP] = "datetime64[ns]",
        [DT_TIMESTAMP_TZ] = "datetime64[ns, UTC]",
        [DT_TIMEDELTA] = "timedelta64[ns]",
    };
    if (t.id == DT_DECIMAL) {
        snprintf(buf, n, "decimal(%u,%u)", (unsigned)t.precision, (unsigned)t.scale);
    } else if ((size_t)t.id < sizeof(names) / sizeof(names[0]) && names[t.id] != NULL) {
        snprintf(buf, n, "%s", names[t.id]);
    } else {
        snprintf(buf, n, "?");
    }
    return buf;
}

enum dtype_storage dtype_storage(enum dtype id)
{
    switch (id) {
    case DT_STR: return DS_BYTES;
    case DT_BOOL: return DS_U8;
    case DT_FLOAT32:
    case DT_FLOAT64: return DS_F64;
    case DT_DECIMAL: return DS_I128;
    default: return DS_I64;
    }
}

size_t dtype_storage_size(enum dtype_storage s)
{
    switch (s) {
    case DS_U8: return 1;
    case DS_I64: return 8;
    case DS_F64: return 8;
    case DS_I128: return 16;
    default: return 0;
    }
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days: eras of
 * 400 years, 146097 days each, counted from 0000-03-01). */
static void dtype_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* Writes the k-digit zero-padded v at p. */
static void put_digits(char *p, unsigned v, int k)
{
    for (int i = k - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Writes YYYY-MM-DD (10 bytes, no NUL) at p; y in 0..9999. */
static void put_ymd(char *p, int64_t y, unsigned m, unsigned d)
{
    put_digits(p, (unsigned)y, 4);
    p[4] = '-';
    put_digits(p + 5, m, 2);
    p[7] = '-';
    put_digits(p + 8, d, 2);
}

int dtype_format_time(char *buf, size_t n, enum dtype id, int64_t v)
{
    int64_t y;
    unsigned m, d;
    if (id == DT_DATE) {
        dtype_civil_from_days(v, &y, &m, &d);
        if (y >= 0 && y <= 9999 && n > 10) {
            /* The common case without printf: it is on the Parquet input's hot path. */
            put_ymd(buf, y, m, d);
            buf[10] = '\0';
            return 10;
        }
        return snprintf(buf, n, "%04" PRId64 "-%02u-%02u", y, m, d);
    }
    if (id != DT_TIMESTAMP && id != DT_TIMESTAMP_TZ) {
        return snprintf(buf, n, "%s", "");
    }
    int64_t days = v / 86400000000LL;
    int64_t rem = v % 86400000000LL;
    if (rem < 0) {
        rem += 86400000000LL;
        days -= 1;
    }
    dtype_civil_from_days(days, &y, &m, &d);
    int64_t secs = rem / 1000000;
    if (y >= 0 && y <= 9999 && n > 27) {
        put_ymd(buf, y, m, d);
        buf[10] = 'T';
        put_digits(buf + 11, (unsigned)(secs / 3600), 2);
        buf[13] = ':';
        put_digits(buf + 14, (unsigned)(secs / 60 % 60), 2);
        buf[16] = ':';
        put_digits(buf + 17, (unsigned)(secs % 60), 2);
        buf[19] = '.';
        put_digits(buf + 20, (unsigned)(rem % 1000000), 6);
        int k = 26;
        if (id == DT_TIMESTAMP_TZ) {
            buf[k++] = 'Z';
        }
        buf[k] = '\0';
        return k;
    }
    return snprintf(buf, n, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06d%s", y, m, d,
                    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
                    (int)(rem % 1000000), id == DT_TIMESTAMP_TZ ? "Z" : "");
}

int dtype_format_timedelta(char *buf, size_t n, int64_t v)
{
    /* pandas: floor to whole days, then the non-negative rest as a clock ("-1 days +23:59:59"). */
    const int64_t day = INT64_C(86400000000000);
    int64_t days = v / day;
    int64_t rem = v % day;
    if (rem < 0) {
        rem += day;
        days -= 1;
    }
    int64_t secs = rem / 1000000000;
    int64_t ns = rem % 1000000000;
    char frac[16] = "";
    if (ns % 1000 != 0) {
        snprintf(frac, sizeof(frac), ".%09" PRId64, ns);
    } else if (ns != 0) {
        snprintf(frac, sizeof(frac), ".%06" PRId64, ns / 1000);
    }
    return snprintf(buf, n, "%" PRId64 " days %s%02d:%02d:%02d%s", days, days < 0 ? "+" : "",
                    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), frac);
}

bool dtype_zone(const char *text, char *buf, size_t n)
{
    const char *open = text != NULL ? strchr(text, '[') : NULL;
    const char *comma = open != NULL ? strchr(open, ',') : NULL;
    const char *close = comma != NULL ? strchr(comma, ']') : NULL;
    if (close == NULL) {
        return false;
    }
    const char *p = comma + 1;
    while (p < close && isspace((unsigned char)*p)) {
        p++;
    }
    const char *end = close;
    while (end > p && isspace((unsigned char)end[-1])) {
        end--;
    }
    size_t len = (size_t)(end - p);
    if (len == 0 || len >= n) {
        return false;
    }
    if ((len == 3 && strncasecmp(p, "utc", 3) == 0) ||
        (len == 7 && strncasecmp(p, "etc/utc", 7) == 0) || (len == 1 && (*p == 'z' || *p == 'Z'))) {
        return false;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    return true;
}

size_t dtype_format_decimal(char *out, __int128 v, unsigned scale)
{
    char digits[48];
    size_t nd = 0;
    bool neg = v < 0;
    unsigned __int128 a = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    /* 128-bit divisions are library calls: the digits above the low 19 take them (at most once),
     * the low ones are made in 64 bits, which the compiler divides by multiplying. */
    const uint64_t e19 = UINT64_C(10000000000000000000);
    uint64_t lo = a <= UINT64_MAX ? (uint64_t)a : (uint64_t)(a % e19);
    unsigned __int128 hi = a <= UINT64_MAX ? 0 : a / e19;
    do {
        digits[nd++] = (char)('0' + (int)(lo % 10));
        lo /= 10;
    } while (lo != 0);
    if (hi != 0) {
        while (nd < 19) {
            digits[nd++] = '0';
        }
        do {
            digits[nd++] = (char)('0' + (int)(hi % 10));
            hi /= 10;
        } while (hi != 0);
    }
    while (nd <= scale) {
        digits[nd++] = '0'; /* at least one digit before the point */
    }
    size_t o = 0;
    if (neg) {
        out[o++] = '-';
    }
    for (size_t i = nd; i-- > 0;) {
        out[o++] = digits[i];
        if (i == scale && scale > 0) {
            out[o++] = '.';
        }
    }
    out[o] = '\0';
    return o;
}

/* The shortest text that reads back as the same double (12.34, not 12.3399...). */
static size_t real_text(double d, char *out, size_t n)
{
    if (isnan(d)) {
        return (size_t)snprintf(out, n, "nan");
    }
    if (isinf(d)) {
        return (size_t)snprintf(out, n, d < 0 ? "-inf" : "inf");
    }
    int k = 0;
    for (int prec = 15; prec <= 17; prec++) {
        k = snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            break;
        }
    }
    return (size_t)k;
}

/* The decimal text of v (a minus sign first when neg) at out, which holds at least 21 bytes;
 * returns its length. */
static size_t u64_text(char *out, uint64_t v, bool neg)
{
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    size_t o = 0;
    if (neg) {
        out[o++] = '-';
    }
    while (k > 0) {
        out[o++] = tmp[--k];
    }
    return o;
}

size_t dtype_format_u64(char *out, uint64_t v)
{
    return u64_text(out, v, false);
}

size_t dtype_format_value(char *out, struct dtype_info t, const void *storage)
{
    int64_t i64 = 0;
    double f64 = 0;
    __int128 i128 = 0;
    switch (dtype_storage(t.id)) {
    case DS_I64: memcpy(&i64, storage, sizeof(i64)); break;
    case DS_F64: memcpy(&f64, storage, sizeof(f64)); break;
    case DS_I128: memcpy(&i128, storage, sizeof(i128)); break;
    case DS_U8:
    case DS_BYTES: break;
    }
    size_t n = 0;
    switch (t.id) {
    case DT_STR: break;
    case DT_BOOL:
        n = *(const uint8_t *)storage ? 4 : 5;
        memcpy(out, n == 4 ? "true" : "false", n);
        break;
    case DT_INT8:
    case DT_INT16:
    case DT_INT32:
    case DT_INT64:
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_TIMEDELTA:
        n = u64_text(out, i64 < 0 ? (uint64_t)0 - (uint64_t)i64 : (uint64_t)i64, i64 < 0);
        break;
    case DT_UINT64: n = u64_text(out, (uint64_t)i64, false); break;
    case DT_FLOAT32:
    case DT_FLOAT64: n = real_text(f64, out, DTYPE_VALUE_TEXT); break;
    case DT_DECIMAL: return dtype_format_decimal(out, i128, t.scale);
    case DT_DATE:
    case DT_TIMESTAMP:
    case DT_TIMESTAMP_TZ: return (size_t)dtype_format_time(out, DTYPE_VALUE_TEXT, t.id, i64);
    }
    out[n] = '\0';
    return n;
}
