/*
 * tz.h - a time zone of the system's tz database (the TZif files of the tzdata package under
 * /usr/share/zoneinfo, RFC 8536), for datetime64[ns, Zone/Name] columns: the UTC offset in effect
 * at an instant, and the instant a wall-clock time of the zone names.
 *
 * Only the file's transition table is used (version 2+ data: 64-bit times). Debian's tzdata is
 * built "fat": its tables run to 2037; an instant past the last transition of a zone that still
 * changes its clocks has no answer here (TZ_BEYOND), rather than a guess from the footer rule.
 * A zone whose footer names a fixed offset (no daylight saving: "UTC0", "<+09>-9") keeps that
 * offset after its table. Nothing is global: a struct tz is immutable once loaded and may be
 * shared by threads.
 */
#ifndef ASTRO_UTIL_TZ_H
#define ASTRO_UTIL_TZ_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

struct tz;

/* What tz_to_utc says of a wall-clock time. */
enum tz_result {
    TZ_OK = 0,
    TZ_AMBIGUOUS,   /* the clocks went back: the time happened twice (pandas raises too) */
    TZ_NONEXISTENT, /* the clocks went forward over it */
    TZ_BEYOND       /* past the zone's table of transitions (see above) */
};

/* Loads zone name (a tz database name such as "Europe/London": letters, digits, '_', '-', '+'
 * and '/' between parts; no "..") from dir (NULL: /usr/share/zoneinfo). AE_CONFIG when the name
 * is not one or the file is not a TZif file (naming both), AE_NOMEM. */
int tz_load(struct tz **out, const char *dir, const char *name, struct err *e) ASTRO_WUR;

/* The zone's name as loaded. */
const char *tz_name(const struct tz *z);

/* The offset (seconds east of UTC) in effect at utc (seconds since the epoch): TZ_OK or
 * TZ_BEYOND. */
int tz_offset_at(const struct tz *z, int64_t utc, int32_t *off);

/* The instant (*utc) the wall-clock time local (seconds since the epoch, read as if it were UTC)
 * names in the zone: TZ_OK, or TZ_AMBIGUOUS, TZ_NONEXISTENT, TZ_BEYOND. */
int tz_to_utc(const struct tz *z, int64_t local, int64_t *utc);

void tz_free(struct tz *z);

#endif
