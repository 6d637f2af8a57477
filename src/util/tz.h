/*
 * tz.h - a time zone of the system's tz database (the TZif files of the tzdata package under
 * /usr/share/zoneinfo, RFC 8536), for datetime64[ns, Zone/Name] columns: the UTC offset in effect
 * at an instant, and the instant a wall-clock time of the zone names.
 *
 * The file's transition table is used (version 2+ data: 64-bit times), and past its last
 * transition the footer's POSIX TZ rule (RFC 8536 section 3.3): a fixed offset ("UTC0", "<+09>-9")
 * or yearly daylight saving changes ("GMT0BST,M3.5.0/1,M10.5.0"; Jn, n and Mm.w.d days, change
 * times from -167 to 167 hours). Debian's tzdata is built "fat" with tables to 2037; the rule
 * answers for the years after. Only a zone whose footer is empty or not a rule has no answer
 * past its table (TZ_BEYOND, 120 days after its last transition). Nothing is global: a struct tz
 * is immutable once loaded and may be shared by threads.
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
    TZ_BEYOND       /* past the zone's table, with no footer rule (see above) */
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
