/*
 * tz.c - TZif files (RFC 8536) of the system's tz database: the transition table of one zone and
 * the conversions datetime64[ns, Zone/Name] columns need. See tz.h for what is answered and what
 * is refused.
 */
#include "util/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TZ_MAX_FILE (1u << 20)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool name_ok(const char *name)
{
    if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL || strlen(name) > 200) {
        return false;
    }
    for (const char *p = name; *p != '\0'; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '+' || *p == '/';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* A day of the footer rule's year (POSIX TZ "date"): Jn (1-365, February 29 never counted),
 * n (0-365, counted) or Mm.w.d (day d, 0 = Sunday, of week w, 5 = the last, of month m); and
 * the local time of day of the change, in seconds (RFC 8536 section 3.3.1: -167 to 167 hours). */
struct tz_when {
    char kind; /* 'J', 'n' or 'M' */
    int32_t a, b, c;
    int32_t secs;
};

/* The footer's POSIX TZ string: the offsets after the table, and the yearly changes when the
 * zone still has daylight saving time. */
struct tz_rule {
    int32_t std, dst; /* east of UTC */
    bool has_dst;
    struct tz_when start, end; /* start in standard time, end in daylight saving time */
};

struct tz_scan {
    const char *s;
    size_t n, i;
};

static bool scan_digits(struct tz_scan *c, size_t max, int32_t *v)
{
    size_t d0 = c->i;
    *v = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9' && c->i - d0 < max) {
        *v = *v * 10 + (c->s[c->i] - '0');
        c->i++;
    }
    return c->i > d0;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static bool scan_name(struct tz_scan *c)
{
    size_t i0 = c->i;
    if (c->i < c->n && c->s[c->i] == '<') {
        while (++c->i < c->n && c->s[c->i] != '>') {
            char ch = c->s[c->i];
            bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9') || ch == '+' || ch == '-';
            if (!ok) {
                return false;
            }
        }
        if (c->i >= c->n || c->i - i0 < 4) {
            return false;
        }
        c->i++;
        return true;
    }
    while (c->i < c->n &&
           ((c->s[c->i] >= 'A' && c->s[c->i] <= 'Z') || (c->s[c->i] >= 'a' && c->s[c->i] <= 'z'))) {
        c->i++;
    }
    return c->i - i0 >= 3;
}

/* [+-]hh[:mm[:ss]] with hh at most max_h, in seconds. */
static bool scan_hms(struct tz_scan *c, int32_t max_h, int32_t *secs)
{
    int32_t sign = 1, h = 0, m = 0, sec = 0;
    if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) {
        sign = c->s[c->i] == '-' ? -1 : 1;
        c->i++;
    }
    if (!scan_digits(c, 3, &h) || h > max_h) {
        return false;
    }
    if (c->i < c->n && c->s[c->i] == ':') {
        c->i++;
        if (!scan_digits(c, 2, &m) || m > 59) {
            return false;
        }
        if (c->i < c->n && c->s[c->i] == ':') {
            c->i++;
            if (!scan_digits(c, 2, &sec) || sec > 59) {
                return false;
            }
        }
    }
    *secs = sign * (h * 3600 + m * 60 + sec);
    return true;
}

/* ",date[/time]" of the rule. */
static bool scan_when(struct tz_scan *c, struct tz_when *w)
{
    if (c->i >= c->n || c->s[c->i] != ',') {
        return false;
    }
    c->i++;
    w->secs = 7200; /* POSIX: 02:00:00 when no time is given */
    w->a = w->b = w->c = 0;
    if (c->i < c->n && (c->s[c->i] == 'J' || c->s[c->i] == 'M')) {
        w->kind = c->s[c->i++];
    } else {
        w->kind = 'n';
    }
    if (!scan_digits(c, 3, &w->a)) {
        return false;
    }
    if (w->kind == 'M') {
        if (c->i >= c->n || c->s[c->i++] != '.' || !scan_digits(c, 1, &w->b) || c->i >= c->n ||
            c->s[c->i++] != '.' || !scan_digits(c, 1, &w->c)) {
            return false;
        }
        if (w->a < 1 || w->a > 12 || w->b < 1 || w->b > 5 || w->c > 6) {
            return false;
        }
    } else if (w->a > 365 || (w->kind == 'J' && w->a < 1)) {
        return false;
    }
    if (c->i < c->n && c->s[c->i] == '/') {
        c->i++;
        return scan_hms(c, 167, &w->secs);
    }
    return true;
}

/* The footer's POSIX TZ string (between the final newlines, RFC 8536 section 3.3):
 * "std offset [dst [offset] ,start[/time],end[/time]]". POSIX offsets are west of UTC; a missing
 * daylight saving offset is one hour ahead of standard time. False when it is not one (an empty
 * footer, or daylight saving time without a rule: the table's end is then the end of what is
 * known). */
static bool footer_rule(const char *s, size_t n, struct tz_rule *r)
{
    struct tz_scan c = {s, n, 0};
    int32_t west = 0;
    if (!scan_name(&c) || !scan_hms(&c, 24, &west)) {
        return false;
    }
    r->std = -west;
    r->has_dst = c.i < n;
    if (!r->has_dst) {
        return true;
    }
    if (!scan_name(&c)) {
        return false;
    }
    r->dst = r->std + 3600;
    if (c.i < n && c.s[c.i] != ',') {
        if (!scan_hms(&c, 24, &west)) {
            return false;
        }
        r->dst = -west;
    }
    return scan_when(&c, &r->start) && scan_when(&c, &r->end) && c.i == n;
}

struct tz {
    char *name;
    int64_t *at;  /* ntrans transition instants (UTC seconds), ascending */
    int32_t *off; /* the offset from at[i] on */
    size_t ntrans;
    int32_t first; /* the offset before the first transition (local time type 0) */
    bool has_rule; /* the footer's rule holds after the table */
    struct tz_rule rule;
};

static int parse_tzif(struct tz *z, const unsigned char *b, size_t n)
{
    if (n < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2') {
        return -1; /* version 1 files have no 64-bit data */
    }
    uint64_t isut = be32(b + 20), isstd = be32(b + 24), leap = be32(b + 28);
    uint64_t tcnt = be32(b + 32), typ = be32(b + 36), chr = be32(b + 40);
    uint64_t v1 = tcnt * 5 + typ * 6 + chr + leap * 8 + isstd + isut;
    if (44 + v1 + 44 > n) {
        return -1;
    }
    const unsigned char *h = b + 44 + v1;
    if (memcmp(h, "TZif", 4) != 0) {
        return -1;
    }
    isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28);
    tcnt = be32(h + 32), typ = be32(h + 36), chr = be32(h + 40);
    uint64_t v2 = tcnt * 9 + typ * 6 + chr + leap * 12 + isstd + isut;
    const unsigned char *d = h + 44;
    if (typ == 0 || (uint64_t)(d - b) + v2 > n) {
        return -1;
    }
    const unsigned char *types = d + tcnt * 8;
    const unsigned char *info = types + tcnt;
    z->at = calloc(tcnt ? tcnt : 1, sizeof(*z->at));
    z->off = calloc(tcnt ? tcnt : 1, sizeof(*z->off));
    if (z->at == NULL || z->off == NULL) {
        return -2;
    }
    for (uint64_t i = 0; i < tcnt; i++) {
        uint8_t t = types[i];
        if (t >= typ) {
            return -1;
        }
        z->at[i] = be64(d + i * 8);
        z->off[i] = (int32_t)be32(info + (size_t)t * 6);
        if (i > 0 && z->at[i] <= z->at[i - 1]) {
            return -1;
        }
    }
    z->ntrans = (size_t)tcnt;
    z->first = (int32_t)be32(info);
    const unsigned char *foot = d + v2;
    size_t left = n - (size_t)(foot - b);
    if (left >= 2 && foot[0] == '\n') {
        const unsigned char *end = memchr(foot + 1, '\n', left - 1);
        if (end != NULL) {
            z->has_rule = footer_rule((const char *)foot + 1, (size_t)(end - foot - 1), &z->rule);
        }
    }
    if (z->ntrans == 0 && !z->has_rule) {
        z->has_rule = true; /* no transition and no rule: type 0 for ever */
        z->rule.std = z->first;
        z->rule.has_dst = false;
    }
    return 0;
}

int tz_load(struct tz **out, const char *dir, const char *name, struct err *e)
{
    *out = NULL;
    if (!name_ok(name)) {
        return err_set(e, AE_CONFIG,
                       "'%s' is not a time zone name (expected a tz database name "
                       "such as Europe/London)",
                       name);
    }
    if (dir == NULL) {
        dir = "/usr/share/zoneinfo";
    }
    size_t plen = strlen(dir) + strlen(name) + 2;
    char *path = malloc(plen);
    unsigned char *buf = malloc(TZ_MAX_FILE);
    struct tz *z = calloc(1, sizeof(*z));
    int rc = 0;
    int fd = -1;
    if (path == NULL || buf == NULL || z == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(path, plen, "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = err_set(e, AE_CONFIG,
                     "time zone '%s' is not in the tz database (%s: %s; Debian's tzdata package "
                     "installs it)",
                     name, path, strerror(errno));
        goto fail;
    }
    size_t n = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, TZ_MAX_FILE - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        n += (size_t)got;
        if (n == TZ_MAX_FILE) {
            break;
        }
    }
    int pr = parse_tzif(z, buf, n);
    if (pr == -2) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    if (pr != 0) {
        rc = err_set(e, AE_CONFIG, "time zone '%s': %s is not a TZif file of version 2 or later",
                     name, path);
        goto fail;
    }
    if ((z->name = strdup(name)) == NULL) {
        rc = err_set(e, AE_NOMEM, "out of memory");
        goto fail;
    }
    close(fd);
    free(path);
    free(buf);
    *out = z;
    return 0;
fail:
    if (fd >= 0) {
        close(fd);
    }
    free(path);
    free(buf);
    tz_free(z);
    return rc;
}

const char *tz_name(const struct tz *z)
{
    return z->name;
}

/* The footer rule is followed this far either side of the epoch (about 34,000 years), which
 * keeps its day arithmetic far from overflow. */
#define TZ_RULE_LIMIT (INT64_C(1) << 40)

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Days from 1970-01-01 to January 1 of year y (proleptic Gregorian). */
static int64_t year_start(int64_t y)
{
    int64_t p = y - 1;
    int64_t days = 365 * p + floor_div(p, 4) - floor_div(p, 100) + floor_div(p, 400);
    return days - 719162; /* the same count for 1970 */
}

/* The year of day days (since 1970-01-01). */
static int64_t year_of(int64_t days)
{
    int64_t y = 1970 + floor_div(days * 400, 146097);
    while (year_start(y) > days) {
        y--;
    }
    while (year_start(y + 1) <= days) {
        y++;
    }
    return y;
}

/* The day (since 1970-01-01) w names in year y (POSIX TZ: Jn, n, Mm.w.d). */
static int64_t when_day(const struct tz_when *w, int64_t y)
{
    static const int16_t before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    bool leap = is_leap(y);
    int64_t jan1 = year_start(y);
    if (w->kind == 'J') {
        return jan1 + w->a - 1 + (leap && w->a >= 60); /* J60 is March 1 */
    }
    if (w->kind == 'n') {
        return jan1 + w->a;
    }
    int64_t first = jan1 + before[w->a - 1] + (leap && w->a > 2);
    int64_t len = w->a == 12 ? 31 : before[w->a] - before[w->a - 1] + (leap && w->a == 2);
    int64_t wday = first + 4 - floor_div(first + 4, 7) * 7; /* 1970-01-01 was a Thursday */
    int64_t day = (w->c - wday + 7) % 7 + 7 * (w->b - 1);
    while (day >= len) {
        day -= 7; /* week 5 is the last one of the month */
    }
    return first + day;
}

/* The offset the footer rule gives at utc: the latest change at or before it decides. The
 * changes of the year before and after are looked at too, since a change's time of day may push
 * it into another year (up to 167 hours either way, RFC 8536 section 3.3.1). When a start and an
 * end fall on the same instant, daylight saving time wins: "EST5EDT4,0/0,J365/25" is daylight
 * saving all year (RFC 8536 section 3.3.1). */
static int rule_offset(const struct tz_rule *r, int64_t utc, int32_t *off)
{
    if (!r->has_dst) {
        *off = r->std;
        return TZ_OK;
    }
    if (utc < -TZ_RULE_LIMIT || utc > TZ_RULE_LIMIT) {
        return TZ_BEYOND;
    }
    int64_t y = year_of(floor_div(utc, 86400));
    int64_t last = INT64_MIN;
    bool dst = false;
    for (int64_t k = y - 1; k <= y + 1; k++) {
        int64_t end = when_day(&r->end, k) * 86400 + r->end.secs - r->dst;
        int64_t start = when_day(&r->start, k) * 86400 + r->start.secs - r->std;
        if (end <= utc && end > last) {
            last = end;
            dst = false;
        }
        if (start <= utc && start >= last) {
            last = start;
            dst = true;
        }
    }
    *off = dst ? r->dst : r->std;
    return TZ_OK;
}

int tz_offset_at(const struct tz *z, int64_t utc, int32_t *off)
{
    if (z->ntrans == 0) {
        return rule_offset(&z->rule, utc, off); /* parse_tzif made one when the footer had none */
    }
    if (utc < z->at[0]) {
        *off = z->first;
        return TZ_OK;
    }
    if (utc >= z->at[z->ntrans - 1]) {
        if (z->has_rule) {
            return rule_offset(&z->rule, utc, off);
        }
        /* No rule in the footer: a zone that still changes its clocks has its next change
         * within months, so past 120 days the offset is not known here. */
        if (utc - z->at[z->ntrans - 1] >= INT64_C(120) * 86400) {
            return TZ_BEYOND;
        }
        *off = z->off[z->ntrans - 1];
        return TZ_OK;
    }
    size_t lo = 0, hi = z->ntrans - 1; /* at[lo] <= utc < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= utc) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    *off = z->off[lo];
    return TZ_OK;
}

int tz_to_utc(const struct tz *z, int64_t local, int64_t *utc)
{
    /* Transitions are months apart: the offsets a day either side are the only candidates. */
    int32_t cand[2];
    int rc = tz_offset_at(z, local - 86400 - 50400, &cand[0]);
    if (rc == TZ_OK) {
        rc = tz_offset_at(z, local + 86400 + 50400, &cand[1]);
    }
    if (rc != TZ_OK) {
        return rc;
    }
    int64_t found[2];
    size_t nf = 0;
    for (size_t k = 0; k < 2; k++) {
        if (k == 1 && cand[1] == cand[0]) {
            break;
        }
        int64_t u = local - cand[k];
        int32_t o = 0;
        rc = tz_offset_at(z, u, &o);
        if (rc != TZ_OK) {
            return rc;
        }
        if (o == cand[k]) {
            found[nf++] = u;
        }
    }
    if (nf == 0) {
        return TZ_NONEXISTENT;
    }
    if (nf == 2 && found[0] != found[1]) {
        return TZ_AMBIGUOUS;
    }
    *utc = found[0];
    return TZ_OK;
}

void tz_free(struct tz *z)
{
    if (z == NULL) {
        return;
    }
    free(z->name);
    free(z->at);
    free(z->off);
    free(z);
}
