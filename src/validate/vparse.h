/*
 * vparse.h - text to typed values, one parser per dtype (private to src/validate).
 *
 * Every parser reads a field that the caller has already trimmed (vp_trim) and returns a VP_*
 * status: VP_OK and the value in *out, or the reason it failed. The parsers allocate nothing (the
 * float slow path copies at most VP_FLOAT_STACK bytes to the stack; longer numbers go through one
 * malloc, which real data never reaches), never depend on the locale and never read past p + n.
 * The same parsers type the data and the check arguments, so "0" means the same in both places.
 * Messages are built only for failures, by vp_message().
 */
#ifndef ASTRO_VALIDATE_VPARSE_H
#define ASTRO_VALIDATE_VPARSE_H

#include "batch/dtype.h"

#include <locale.h>
#include <stdbool.h>
#include "util/tz.h"

#include <stddef.h>
#include <stdint.h>

enum vp_status {
    VP_OK = 0,
    VP_SYNTAX,         /* not a value of the dtype at all ("12x" for int64) */
    VP_RANGE,          /* well formed but outside the dtype's range ("300" for int8, "1e309") */
    VP_SCALE,          /* decimal: nonzero digits beyond the scale */
    VP_CALENDAR,       /* date/datetime: well formed but not a real date or time ("2021-02-29") */
    VP_PRECISION,      /* datetime: nonzero digits beyond microseconds */
    VP_OFFSET,         /* datetime: a UTC offset given for a naive datetime64[ns] column */
    VP_TZ_AMBIGUOUS,   /* a wall-clock time of the column's zone that happened twice */
    VP_TZ_NONEXISTENT, /* a wall-clock time the zone's clocks skipped */
    VP_TZ_BEYOND       /* past the zone's table, its file has no footer rule (util/tz.h) */
};

/* One typed value. uint columns keep the uint64_t bit pattern in i (as batch.h stores them);
 * s points into the parsed text (borrowed) for str. */
union vp_val {
    int64_t i;
    double f;
    __int128 d;
    uint8_t b;
    struct {
        const char *p;
        size_t n;
    } s;
};

/* A compiled strptime-style format (the subset %Y %m %d %y %b %B %H %M %S %f %z %% and literal
 * bytes). */
#define VP_FMT_MAX 64
struct vp_fmt {
    int pivot; /* %y: two-digit years below pivot are 20yy, the others 19yy; -1 (what
                  vp_fmt_compile sets): POSIX, 69-99 are 19yy and 00-68 20yy */
    uint8_t n;
    char item[VP_FMT_MAX]; /* 'Y','m','d','y','b','B','H','M','S','f','z' for directives */
    char lit[VP_FMT_MAX];  /* the literal byte when item[k] == 0 */
};

/* At most this many formats per date/datetime column. */
#define VP_MAX_FORMATS 16

/* Everything a parser needs to know about a column. */
struct vp_col {
    struct dtype_info type;
    /* date/datetime: nfmt formats tried in order, the first that parses wins; NULL (nfmt 0) for
     * ISO 8601 */
    const struct vp_fmt *fmt;
    size_t nfmt;
    char *const *fmt_text; /* the nfmt formats as written (messages) */
    /* int, uint, float, decimal: the digit group separator (0: none) and the decimal mark (0:
     * '.'); see vp_num_canon */
    char thousands;
    char decimal;
    /* bool: custom spellings (exact, case-sensitive), or NULL for the defaults */
    char *const *true_values;
    size_t n_true;
    char *const *false_values;
    size_t n_false;
    locale_t c_locale; /* a "C" locale for strtod_l, or (locale_t)0 to use strtod */
    const struct tz *tz; /* DT_TIMESTAMP_TZ in a zone other than UTC (borrowed), else NULL */
};

#define VP_FLOAT_STACK 128

/* int, uint, float and decimal: the dtypes a thousands separator and decimal mark apply to. */
static inline bool vp_is_number(enum dtype id)
{
    return (id >= DT_INT8 && id <= DT_FLOAT64) || id == DT_DECIMAL;
}

/* Removes surrounding ASCII spaces and tabs (non-string dtypes only). */
static inline void vp_trim(const char **p, size_t *n)
{
    const char *s = *p;
    size_t len = *n;
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    *p = s;
    *n = len;
}

int vp_int(const char *p, size_t n, int64_t lo, int64_t hi, int64_t *out);
int vp_uint(const char *p, size_t n, uint64_t hi, uint64_t *out);
int vp_float(const char *p, size_t n, bool single, locale_t loc, double *out);
int vp_bool(const struct vp_col *c, const char *p, size_t n, uint8_t *out);
int vp_decimal(const char *p, size_t n, unsigned precision, unsigned scale, __int128 *out);
/* days since 1970-01-01 */
int vp_date(const char *p, size_t n, const struct vp_fmt *fmt, int64_t *out);
/* microseconds since 1970-01-01T00:00:00; utc: offsets are converted (else they fail) */
int vp_datetime(const char *p, size_t n, const struct vp_fmt *fmt, bool utc, int64_t *out);
/* The same for a column in zone z: an offset is converted to UTC, a naive value is a wall-clock
 * time of z (VP_TZ_AMBIGUOUS, VP_TZ_NONEXISTENT, VP_TZ_BEYOND when it names no one instant). */
int vp_datetime_zone(const char *p, size_t n, const struct vp_fmt *fmt, const struct tz *z,
                     int64_t *out);
/* Nanoseconds of a duration in pandas' spellings: bare digits (nanoseconds, "2000"), components
 * with units ("1 days", "1h30min", "1.5s", "10ms", "3us", "7ns", "2 weeks") and a clock
 * [+-]H:MM:SS[.f] ("1 days 02:03:04", "-1 days +23:59:59.5", "02:03:04"), or an ISO 8601 duration
 * ("P1DT2H3M4.5S", "-PT1S"; weeks and days, no years or months); a sign in front applies to the
 * whole. VP_RANGE beyond int64 nanoseconds, VP_PRECISION below a nanosecond. */
int vp_timedelta(const char *p, size_t n, int64_t *out);

/* Date or datetime text in the column's formats (ISO 8601 when it has none): the first format that
 * parses wins and *which is its index (0 for ISO). When none parses, the status of the first
 * format that failed for another reason than VP_SYNTAX (the text had its shape), else
 * VP_SYNTAX. */
int vp_time(const struct vp_col *c, const char *p, size_t n, int64_t *out, size_t *which);

/* Rewrites a number written with the column's thousands separator and decimal mark into the
 * plain form the parsers read ("1.234,5" with thousands '.' and decimal ',' -> "1234.5") in
 * buf (cap bytes). Separators are strict: only in the integer part, the first group 1 to 3
 * digits and every later one exactly 3 ("3,77,9" and "37,79" fail); a number without any
 * separator is accepted as it is; with a decimal mark other than '.', a '.' is refused.
 * Returns the length written, or -1 when the text is not such a number (or longer than cap). */
long vp_num_canon(const struct vp_col *c, const char *p, size_t n, char *buf, size_t cap);

/* An Excel serial day number (the text of a worksheet's number cell: records.h REC_F_CELL_NUMBER)
 * as a date (datetime false: days since 1970-01-01) or a datetime (microseconds since 1970),
 * rounded to the millisecond, as Excel keeps times. The 1900 system (date1904 false) counts
 * 1 = 1900-01-01 and keeps Lotus 1-2-3's phantom 1900-02-29 as serial 60, so serials from 61 on
 * are one day ahead of a plain count; the 1904 system counts 0 = 1904-01-01. VP_SYNTAX: not a
 * number; VP_RANGE: before the system's first day (a 1900 serial below 1 is a time of day with no
 * date) or after 9999-12-31; VP_CALENDAR: serial 60 of the 1900 system; VP_PRECISION: a time of
 * day in a date column. */
int vp_serial(const char *p, size_t n, bool date1904, bool datetime, int64_t *out);

/* Parses (already trimmed for non-str dtypes) text as the column's dtype. For DT_STR the value is
 * the text itself (UTF-8 validity is checked by the caller). */
/* The column's dtype as Pandera names it, its zone included ("datetime64[ns, Europe/London]"). */
const char *vp_dtype_name(const struct vp_col *c, char *buf, size_t n);

int vp_parse(const struct vp_col *c, const char *p, size_t n, union vp_val *out);

/* The column stripped of its input spellings (formats, separators): how check arguments are
 * read, in ISO 8601 and plain numbers whatever the data's spelling. */
struct vp_col vp_col_canonical(const struct vp_col *c);

/* Writes the column's formats for messages: "'%Y-%m-%d'" or "'%Y-%m-%d' or '%d/%m/%Y'". */
void vp_fmt_list(char *buf, size_t n, const struct vp_col *c);

/* Compiles format (pivot -1); on error writes a reason to why (n bytes) and returns -1. */
int vp_fmt_compile(const char *format, struct vp_fmt *out, char *why, size_t n);

/* True when f holds the directive item ('y' for a two-digit year). */
bool vp_fmt_has(const struct vp_fmt *f, char item);

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
int64_t vp_days_from_civil(int64_t y, unsigned m, unsigned d);
bool vp_valid_date(int64_t y, unsigned m, unsigned d);

/* UTF-8: validity (rejects overlongs, surrogates, > U+10FFFF) and code point count. */
bool vp_utf8_valid(const char *p, size_t n);
size_t vp_utf8_count(const char *p, size_t n);

/* Writes the message for a failed parse of value (as written) into buf. */
void vp_message(char *buf, size_t n, int status, const struct vp_col *c, const char *value,
                size_t vlen);

/* Writes at most max bytes of value into buf as 'text' for messages, cutting on a UTF-8 boundary
 * and marking the cut with "...". Returns buf. */
const char *vp_quote(char *buf, size_t n, const char *value, size_t vlen, size_t max);

#endif
