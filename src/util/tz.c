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

struct tz {
    char *name;
    int64_t *at;  /* ntrans transition instants (UTC seconds), ascending */
    int32_t *off; /* the offset from at[i] on */
    size_t ntrans;
    int32_t first;    /* the offset before the first transition (local time type 0) */
    bool fixed_after; /* the footer names one fixed offset, kept after the table */
    int32_t after;
};

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

/* The footer's POSIX TZ string (between the final newlines): a fixed offset is "NAME[+-]h[:m[:s]]"
 * with nothing after it (NAME letters, or <...>). True with *off (east of UTC) when it is one. */
static bool footer_fixed(const char *s, size_t n, int32_t *off)
{
    size_t i = 0;
    if (i < n && s[i] == '<') {
        while (i < n && s[i] != '>') {
            i++;
        }
        i++;
    } else {
        while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z'))) {
            i++;
        }
    }
    if (i == 0 || i >= n) {
        return false;
    }
    int sign = 1;
    if (s[i] == '+' || s[i] == '-') {
        sign = s[i] == '-' ? -1 : 1;
        i++;
    }
    int32_t parts[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        size_t d0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 3) {
            parts[k] = parts[k] * 10 + (s[i] - '0');
            i++;
        }
        if (i == d0) {
            return false;
        }
        if (i < n && s[i] == ':' && k < 2) {
            i++;
        } else {
            break;
        }
    }
    if (i != n) {
        return false; /* a daylight-saving part follows */
    }
    /* POSIX offsets are west of UTC */
    *off = -sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
}

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
            z->fixed_after =
                footer_fixed((const char *)foot + 1, (size_t)(end - foot - 1), &z->after);
        }
    }
    if (z->ntrans == 0 && !z->fixed_after) {
        z->fixed_after = true; /* no transition and no rule: type 0 for ever */
        z->after = z->first;
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

int tz_offset_at(const struct tz *z, int64_t utc, int32_t *off)
{
    if (z->ntrans == 0 || utc < z->at[0]) {
        *off = z->ntrans == 0 && z->fixed_after ? z->after : z->first;
        return TZ_OK;
    }
    if (utc >= z->at[z->ntrans - 1]) {
        /* A zone that still changes its clocks has its next change within months (the fat
         * table's last one is in 2037): past 120 days the offset is not known here. */
        bool table = utc - z->at[z->ntrans - 1] < INT64_C(120) * 86400;
        if (z->fixed_after) {
            *off = z->after;
            return TZ_OK;
        }
        if (!table) {
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
