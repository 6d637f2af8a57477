/*
 * test_tz.c - util/tz past the tz database's transition table: the TZif footer's POSIX TZ rule
 * (RFC 8536 section 3.3) for the system's zones and for footers written here.
 *
 * The expected offsets and instants were computed at development time with Debian's
 * /usr/bin/python3 zoneinfo module (which reads the same TZif files and follows the footer rule
 * itself) and are written here as literal numbers: the test needs no Python. (At development time
 * the same comparison ran over all 599 zones of Debian's tzdata, an instant a week from 2038 to
 * 2200, offsets and wall-clock conversions: no difference.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/err.h"
#include "util/tz.h"
#include "test_helpers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tz_off_case {
    const char *zone;
    int64_t utc;
    int32_t off;
};

struct tz_local_case {
    const char *zone;
    int64_t local;
    int result;
    int64_t utc;
};

/* UTC instants 2038-2200 (January and July, and either side of each change in 2050 and 2199):
 * Europe/London and America/New_York (hour changes), Australia/Lord_Howe (a 30-minute change),
 * Pacific/Chatham (+12:45/+13:45, changes at 2:45 and 3:45), America/Sao_Paulo (no daylight
 * saving since 2019: "<-03>3"), Africa/Casablanca (table to 2087, then "<+01>-1"),
 * America/Nuuk (a change at -1:00, "M3.5.0/-1"), Asia/Jerusalem ("M3.4.4/26") and Europe/Dublin
 * (negative daylight saving: "IST-1GMT0,M10.5.0,M3.5.0/1", winter is the daylight saving time). */
static const struct tz_off_case off_cases[] = {
    {"Europe/London", 2147169600, 0},           /* 2038-01-15 12:00:00Z */
    {"Europe/London", 2162808000, 3600},        /* 2038-07-15 12:00:00Z */
    {"Europe/London", 2368094400, 0},           /* 2045-01-15 12:00:00Z */
    {"Europe/London", 2383732800, 3600},        /* 2045-07-15 12:00:00Z */
    {"Europe/London", 4103697600, 0},           /* 2100-01-15 12:00:00Z */
    {"Europe/London", 4119336000, 3600},        /* 2100-07-15 12:00:00Z */
    {"Europe/London", 7259371200, 0},           /* 2200-01-15 12:00:00Z */
    {"Europe/London", 7275009600, 3600},        /* 2200-07-15 12:00:00Z */
    {"Europe/London", 2531955599, 0},           /* 2050-03-27 00:59:59Z */
    {"Europe/London", 2531955600, 3600},        /* 2050-03-27 01:00:00Z */
    {"Europe/London", 2550704399, 3600},        /* 2050-10-30 00:59:59Z */
    {"Europe/London", 2550704400, 0},           /* 2050-10-30 01:00:00Z */
    {"Europe/London", 7234275599, 0},           /* 2199-03-31 00:59:59Z */
    {"Europe/London", 7234275600, 3600},        /* 2199-03-31 01:00:00Z */
    {"Europe/London", 7252419599, 3600},        /* 2199-10-27 00:59:59Z */
    {"Europe/London", 7252419600, 0},           /* 2199-10-27 01:00:00Z */
    {"America/New_York", 2147169600, -18000},   /* 2038-01-15 12:00:00Z */
    {"America/New_York", 2162808000, -14400},   /* 2038-07-15 12:00:00Z */
    {"America/New_York", 2368094400, -18000},   /* 2045-01-15 12:00:00Z */
    {"America/New_York", 2383732800, -14400},   /* 2045-07-15 12:00:00Z */
    {"America/New_York", 4103697600, -18000},   /* 2100-01-15 12:00:00Z */
    {"America/New_York", 4119336000, -14400},   /* 2100-07-15 12:00:00Z */
    {"America/New_York", 7259371200, -18000},   /* 2200-01-15 12:00:00Z */
    {"America/New_York", 7275009600, -14400},   /* 2200-07-15 12:00:00Z */
    {"America/New_York", 2530767599, -18000},   /* 2050-03-13 06:59:59Z */
    {"America/New_York", 2530767600, -14400},   /* 2050-03-13 07:00:00Z */
    {"America/New_York", 2551327199, -14400},   /* 2050-11-06 05:59:59Z */
    {"America/New_York", 2551327200, -18000},   /* 2050-11-06 06:00:00Z */
    {"America/New_York", 7232482799, -18000},   /* 2199-03-10 06:59:59Z */
    {"America/New_York", 7232482800, -14400},   /* 2199-03-10 07:00:00Z */
    {"America/New_York", 7253042399, -14400},   /* 2199-11-03 05:59:59Z */
    {"America/New_York", 7253042400, -18000},   /* 2199-11-03 06:00:00Z */
    {"Australia/Lord_Howe", 2147169600, 39600}, /* 2038-01-15 12:00:00Z */
    {"Australia/Lord_Howe", 2162808000, 37800}, /* 2038-07-15 12:00:00Z */
    {"Australia/Lord_Howe", 2368094400, 39600}, /* 2045-01-15 12:00:00Z */
    {"Australia/Lord_Howe", 2383732800, 37800}, /* 2045-07-15 12:00:00Z */
    {"Australia/Lord_Howe", 4103697600, 39600}, /* 2100-01-15 12:00:00Z */
    {"Australia/Lord_Howe", 4119336000, 37800}, /* 2100-07-15 12:00:00Z */
    {"Australia/Lord_Howe", 7259371200, 39600}, /* 2200-01-15 12:00:00Z */
    {"Australia/Lord_Howe", 7275009600, 37800}, /* 2200-07-15 12:00:00Z */
    {"Australia/Lord_Howe", 2532524399, 39600}, /* 2050-04-02 14:59:59Z */
    {"Australia/Lord_Howe", 2532524400, 37800}, /* 2050-04-02 15:00:00Z */
    {"Australia/Lord_Howe", 2548250999, 37800}, /* 2050-10-01 15:29:59Z */
    {"Australia/Lord_Howe", 2548251000, 39600}, /* 2050-10-01 15:30:00Z */
    {"Australia/Lord_Howe", 7234844399, 39600}, /* 2199-04-06 14:59:59Z */
    {"Australia/Lord_Howe", 7234844400, 37800}, /* 2199-04-06 15:00:00Z */
    {"Australia/Lord_Howe", 7250570999, 37800}, /* 2199-10-05 15:29:59Z */
    {"Australia/Lord_Howe", 7250571000, 39600}, /* 2199-10-05 15:30:00Z */
    {"Pacific/Chatham", 2147169600, 49500},     /* 2038-01-15 12:00:00Z */
    {"Pacific/Chatham", 2162808000, 45900},     /* 2038-07-15 12:00:00Z */
    {"Pacific/Chatham", 2368094400, 49500},     /* 2045-01-15 12:00:00Z */
    {"Pacific/Chatham", 2383732800, 45900},     /* 2045-07-15 12:00:00Z */
    {"Pacific/Chatham", 4103697600, 49500},     /* 2100-01-15 12:00:00Z */
    {"Pacific/Chatham", 4119336000, 45900},     /* 2100-07-15 12:00:00Z */
    {"Pacific/Chatham", 7259371200, 49500},     /* 2200-01-15 12:00:00Z */
    {"Pacific/Chatham", 7275009600, 45900},     /* 2200-07-15 12:00:00Z */
    {"Pacific/Chatham", 2532520799, 49500},     /* 2050-04-02 13:59:59Z */
    {"Pacific/Chatham", 2532520800, 45900},     /* 2050-04-02 14:00:00Z */
    {"Pacific/Chatham", 2547640799, 45900},     /* 2050-09-24 13:59:59Z */
    {"Pacific/Chatham", 2547640800, 49500},     /* 2050-09-24 14:00:00Z */
    {"Pacific/Chatham", 7234840799, 49500},     /* 2199-04-06 13:59:59Z */
    {"Pacific/Chatham", 7234840800, 45900},     /* 2199-04-06 14:00:00Z */
    {"Pacific/Chatham", 7249960799, 45900},     /* 2199-09-28 13:59:59Z */
    {"Pacific/Chatham", 7249960800, 49500},     /* 2199-09-28 14:00:00Z */
    {"America/Sao_Paulo", 2147169600, -10800},  /* 2038-01-15 12:00:00Z */
    {"America/Sao_Paulo", 2162808000, -10800},  /* 2038-07-15 12:00:00Z */
    {"America/Sao_Paulo", 2368094400, -10800},  /* 2045-01-15 12:00:00Z */
    {"America/Sao_Paulo", 2383732800, -10800},  /* 2045-07-15 12:00:00Z */
    {"America/Sao_Paulo", 4103697600, -10800},  /* 2100-01-15 12:00:00Z */
    {"America/Sao_Paulo", 4119336000, -10800},  /* 2100-07-15 12:00:00Z */
    {"America/Sao_Paulo", 7259371200, -10800},  /* 2200-01-15 12:00:00Z */
    {"America/Sao_Paulo", 7275009600, -10800},  /* 2200-07-15 12:00:00Z */
    {"Africa/Casablanca", 2147169600, 3600},    /* 2038-01-15 12:00:00Z */
    {"Africa/Casablanca", 2162808000, 3600},    /* 2038-07-15 12:00:00Z */
    {"Africa/Casablanca", 2368094400, 3600},    /* 2045-01-15 12:00:00Z */
    {"Africa/Casablanca", 2383732800, 0},       /* 2045-07-15 12:00:00Z */
    {"Africa/Casablanca", 4103697600, 3600},    /* 2100-01-15 12:00:00Z */
    {"Africa/Casablanca", 4119336000, 3600},    /* 2100-07-15 12:00:00Z */
    {"Africa/Casablanca", 7259371200, 3600},    /* 2200-01-15 12:00:00Z */
    {"Africa/Casablanca", 7275009600, 3600},    /* 2200-07-15 12:00:00Z */
    {"Africa/Casablanca", 2536192799, 3600},    /* 2050-05-15 01:59:59Z */
    {"Africa/Casablanca", 2536192800, 0},       /* 2050-05-15 02:00:00Z */
    {"Africa/Casablanca", 2539821599, 0},       /* 2050-06-26 01:59:59Z */
    {"Africa/Casablanca", 2539821600, 3600},    /* 2050-06-26 02:00:00Z */
    {"America/Nuuk", 2147169600, -7200},        /* 2038-01-15 12:00:00Z */
    {"America/Nuuk", 2162808000, -3600},        /* 2038-07-15 12:00:00Z */
    {"America/Nuuk", 2368094400, -7200},        /* 2045-01-15 12:00:00Z */
    {"America/Nuuk", 2383732800, -3600},        /* 2045-07-15 12:00:00Z */
    {"America/Nuuk", 4103697600, -7200},        /* 2100-01-15 12:00:00Z */
    {"America/Nuuk", 4119336000, -3600},        /* 2100-07-15 12:00:00Z */
    {"America/Nuuk", 7259371200, -7200},        /* 2200-01-15 12:00:00Z */
    {"America/Nuuk", 7275009600, -3600},        /* 2200-07-15 12:00:00Z */
    {"America/Nuuk", 2531955599, -7200},        /* 2050-03-27 00:59:59Z */
    {"America/Nuuk", 2531955600, -3600},        /* 2050-03-27 01:00:00Z */
    {"America/Nuuk", 2550704399, -3600},        /* 2050-10-30 00:59:59Z */
    {"America/Nuuk", 2550704400, -7200},        /* 2050-10-30 01:00:00Z */
    {"America/Nuuk", 7234275599, -7200},        /* 2199-03-31 00:59:59Z */
    {"America/Nuuk", 7234275600, -3600},        /* 2199-03-31 01:00:00Z */
    {"America/Nuuk", 7252419599, -3600},        /* 2199-10-27 00:59:59Z */
    {"America/Nuuk", 7252419600, -7200},        /* 2199-10-27 01:00:00Z */
    {"Asia/Jerusalem", 2147169600, 7200},       /* 2038-01-15 12:00:00Z */
    {"Asia/Jerusalem", 2162808000, 10800},      /* 2038-07-15 12:00:00Z */
    {"Asia/Jerusalem", 2368094400, 7200},       /* 2045-01-15 12:00:00Z */
    {"Asia/Jerusalem", 2383732800, 10800},      /* 2045-07-15 12:00:00Z */
    {"Asia/Jerusalem", 4103697600, 7200},       /* 2100-01-15 12:00:00Z */
    {"Asia/Jerusalem", 4119336000, 10800},      /* 2100-07-15 12:00:00Z */
    {"Asia/Jerusalem", 7259371200, 7200},       /* 2200-01-15 12:00:00Z */
    {"Asia/Jerusalem", 7275009600, 10800},      /* 2200-07-15 12:00:00Z */
    {"Asia/Jerusalem", 2531779199, 7200},       /* 2050-03-24 23:59:59Z */
    {"Asia/Jerusalem", 2531779200, 10800},      /* 2050-03-25 00:00:00Z */
    {"Asia/Jerusalem", 2550697199, 10800},      /* 2050-10-29 22:59:59Z */
    {"Asia/Jerusalem", 2550697200, 7200},       /* 2050-10-29 23:00:00Z */
    {"Asia/Jerusalem", 7234099199, 7200},       /* 2199-03-28 23:59:59Z */
    {"Asia/Jerusalem", 7234099200, 10800},      /* 2199-03-29 00:00:00Z */
    {"Asia/Jerusalem", 7252412399, 10800},      /* 2199-10-26 22:59:59Z */
    {"Asia/Jerusalem", 7252412400, 7200},       /* 2199-10-26 23:00:00Z */
    {"Europe/Dublin", 2368094400, 0},           /* 2045-01-15 12:00:00Z */
    {"Europe/Dublin", 2383732800, 3600},        /* 2045-07-15 12:00:00Z */
    {"Europe/Dublin", 2531955599, 0},           /* 2050-03-27 00:59:59Z */
    {"Europe/Dublin", 2531955600, 3600},        /* 2050-03-27 01:00:00Z */
    {"Europe/Dublin", 2550704399, 3600},        /* 2050-10-30 00:59:59Z */
    {"Europe/Dublin", 2550704400, 0},           /* 2050-10-30 01:00:00Z */
};

/* Wall-clock times past the table: skipped (TZ_NONEXISTENT) and repeated (TZ_AMBIGUOUS) ones at
 * each change, the seconds either side, and ordinary winter and summer times. */
static const struct tz_local_case local_cases[] = {
    {"Europe/London", 2531957400, TZ_NONEXISTENT, 0},       /* 2050-03-27 01:30:00 */
    {"Europe/London", 2531955599, TZ_OK, 2531955599},       /* 2050-03-27 00:59:59 */
    {"Europe/London", 2531959200, TZ_OK, 2531955600},       /* 2050-03-27 02:00:00 */
    {"Europe/London", 2550706200, TZ_AMBIGUOUS, 0},         /* 2050-10-30 01:30:00 */
    {"Europe/London", 2550707999, TZ_AMBIGUOUS, 0},         /* 2050-10-30 01:59:59 */
    {"Europe/London", 2550708000, TZ_OK, 2550708000},       /* 2050-10-30 02:00:00 */
    {"Europe/London", 7234277400, TZ_NONEXISTENT, 0},       /* 2199-03-31 01:30:00 */
    {"Europe/London", 7234275599, TZ_OK, 7234275599},       /* 2199-03-31 00:59:59 */
    {"Europe/London", 7234279200, TZ_OK, 7234275600},       /* 2199-03-31 02:00:00 */
    {"Europe/London", 7252421400, TZ_AMBIGUOUS, 0},         /* 2199-10-27 01:30:00 */
    {"Europe/London", 7252423199, TZ_AMBIGUOUS, 0},         /* 2199-10-27 01:59:59 */
    {"Europe/London", 7252423200, TZ_OK, 7252423200},       /* 2199-10-27 02:00:00 */
    {"Europe/London", 2212479000, TZ_OK, 2212479000},       /* 2040-02-10 09:30:00 */
    {"Europe/London", 2228203800, TZ_OK, 2228200200},       /* 2040-08-10 09:30:00 */
    {"Europe/London", 5683771800, TZ_OK, 5683771800},       /* 2150-02-10 09:30:00 */
    {"Europe/London", 5699410200, TZ_OK, 5699406600},       /* 2150-08-10 09:30:00 */
    {"America/New_York", 2530751400, TZ_NONEXISTENT, 0},    /* 2050-03-13 02:30:00 */
    {"America/New_York", 2530749599, TZ_OK, 2530767599},    /* 2050-03-13 01:59:59 */
    {"America/New_York", 2530753200, TZ_OK, 2530767600},    /* 2050-03-13 03:00:00 */
    {"America/New_York", 2551311000, TZ_AMBIGUOUS, 0},      /* 2050-11-06 01:30:00 */
    {"America/New_York", 2551312799, TZ_AMBIGUOUS, 0},      /* 2050-11-06 01:59:59 */
    {"America/New_York", 2551312800, TZ_OK, 2551330800},    /* 2050-11-06 02:00:00 */
    {"America/New_York", 7232466600, TZ_NONEXISTENT, 0},    /* 2199-03-10 02:30:00 */
    {"America/New_York", 7232464799, TZ_OK, 7232482799},    /* 2199-03-10 01:59:59 */
    {"America/New_York", 7232468400, TZ_OK, 7232482800},    /* 2199-03-10 03:00:00 */
    {"America/New_York", 7253026200, TZ_AMBIGUOUS, 0},      /* 2199-11-03 01:30:00 */
    {"America/New_York", 7253027999, TZ_AMBIGUOUS, 0},      /* 2199-11-03 01:59:59 */
    {"America/New_York", 7253028000, TZ_OK, 7253046000},    /* 2199-11-03 02:00:00 */
    {"America/New_York", 2212479000, TZ_OK, 2212497000},    /* 2040-02-10 09:30:00 */
    {"America/New_York", 2228203800, TZ_OK, 2228218200},    /* 2040-08-10 09:30:00 */
    {"America/New_York", 5683771800, TZ_OK, 5683789800},    /* 2150-02-10 09:30:00 */
    {"America/New_York", 5699410200, TZ_OK, 5699424600},    /* 2150-08-10 09:30:00 */
    {"Australia/Lord_Howe", 2532563100, TZ_AMBIGUOUS, 0},   /* 2050-04-03 01:45:00 */
    {"Australia/Lord_Howe", 2532563999, TZ_AMBIGUOUS, 0},   /* 2050-04-03 01:59:59 */
    {"Australia/Lord_Howe", 2532564000, TZ_OK, 2532526200}, /* 2050-04-03 02:00:00 */
    {"Australia/Lord_Howe", 2548289700, TZ_NONEXISTENT, 0}, /* 2050-10-02 02:15:00 */
    {"Australia/Lord_Howe", 2548288799, TZ_OK, 2548250999}, /* 2050-10-02 01:59:59 */
    {"Australia/Lord_Howe", 2548290600, TZ_OK, 2548251000}, /* 2050-10-02 02:30:00 */
    {"Australia/Lord_Howe", 7234883100, TZ_AMBIGUOUS, 0},   /* 2199-04-07 01:45:00 */
    {"Australia/Lord_Howe", 7234883999, TZ_AMBIGUOUS, 0},   /* 2199-04-07 01:59:59 */
    {"Australia/Lord_Howe", 7234884000, TZ_OK, 7234846200}, /* 2199-04-07 02:00:00 */
    {"Australia/Lord_Howe", 7250609700, TZ_NONEXISTENT, 0}, /* 2199-10-06 02:15:00 */
    {"Australia/Lord_Howe", 7250608799, TZ_OK, 7250570999}, /* 2199-10-06 01:59:59 */
    {"Australia/Lord_Howe", 7250610600, TZ_OK, 7250571000}, /* 2199-10-06 02:30:00 */
    {"Australia/Lord_Howe", 2212479000, TZ_OK, 2212439400}, /* 2040-02-10 09:30:00 */
    {"Australia/Lord_Howe", 2228203800, TZ_OK, 2228166000}, /* 2040-08-10 09:30:00 */
    {"Australia/Lord_Howe", 5683771800, TZ_OK, 5683732200}, /* 2150-02-10 09:30:00 */
    {"Australia/Lord_Howe", 5699410200, TZ_OK, 5699372400}, /* 2150-08-10 09:30:00 */
    {"Pacific/Chatham", 2532568500, TZ_AMBIGUOUS, 0},       /* 2050-04-03 03:15:00 */
    {"Pacific/Chatham", 2532570299, TZ_AMBIGUOUS, 0},       /* 2050-04-03 03:44:59 */
    {"Pacific/Chatham", 2532570300, TZ_OK, 2532524400},     /* 2050-04-03 03:45:00 */
    {"Pacific/Chatham", 2547688500, TZ_NONEXISTENT, 0},     /* 2050-09-25 03:15:00 */
    {"Pacific/Chatham", 2547686699, TZ_OK, 2547640799},     /* 2050-09-25 02:44:59 */
    {"Pacific/Chatham", 2547690300, TZ_OK, 2547640800},     /* 2050-09-25 03:45:00 */
    {"Pacific/Chatham", 7234888500, TZ_AMBIGUOUS, 0},       /* 2199-04-07 03:15:00 */
    {"Pacific/Chatham", 7234890299, TZ_AMBIGUOUS, 0},       /* 2199-04-07 03:44:59 */
    {"Pacific/Chatham", 7234890300, TZ_OK, 7234844400},     /* 2199-04-07 03:45:00 */
    {"Pacific/Chatham", 7250008500, TZ_NONEXISTENT, 0},     /* 2199-09-29 03:15:00 */
    {"Pacific/Chatham", 7250006699, TZ_OK, 7249960799},     /* 2199-09-29 02:44:59 */
    {"Pacific/Chatham", 7250010300, TZ_OK, 7249960800},     /* 2199-09-29 03:45:00 */
    {"Pacific/Chatham", 2212479000, TZ_OK, 2212429500},     /* 2040-02-10 09:30:00 */
    {"Pacific/Chatham", 2228203800, TZ_OK, 2228157900},     /* 2040-08-10 09:30:00 */
    {"Pacific/Chatham", 5683771800, TZ_OK, 5683722300},     /* 2150-02-10 09:30:00 */
    {"Pacific/Chatham", 5699410200, TZ_OK, 5699364300},     /* 2150-08-10 09:30:00 */
    {"America/Sao_Paulo", 2212479000, TZ_OK, 2212489800},   /* 2040-02-10 09:30:00 */
    {"America/Sao_Paulo", 2228203800, TZ_OK, 2228214600},   /* 2040-08-10 09:30:00 */
    {"America/Sao_Paulo", 5683771800, TZ_OK, 5683782600},   /* 2150-02-10 09:30:00 */
    {"America/Sao_Paulo", 5699410200, TZ_OK, 5699421000},   /* 2150-08-10 09:30:00 */
    {"Africa/Casablanca", 2536194600, TZ_AMBIGUOUS, 0},     /* 2050-05-15 02:30:00 */
    {"Africa/Casablanca", 2536196399, TZ_AMBIGUOUS, 0},     /* 2050-05-15 02:59:59 */
    {"Africa/Casablanca", 2536196400, TZ_OK, 2536196400},   /* 2050-05-15 03:00:00 */
    {"Africa/Casablanca", 2539823400, TZ_NONEXISTENT, 0},   /* 2050-06-26 02:30:00 */
    {"Africa/Casablanca", 2539821599, TZ_OK, 2539821599},   /* 2050-06-26 01:59:59 */
    {"Africa/Casablanca", 2539825200, TZ_OK, 2539821600},   /* 2050-06-26 03:00:00 */
    {"Africa/Casablanca", 2212479000, TZ_OK, 2212475400},   /* 2040-02-10 09:30:00 */
    {"Africa/Casablanca", 2228203800, TZ_OK, 2228200200},   /* 2040-08-10 09:30:00 */
    {"Africa/Casablanca", 5683771800, TZ_OK, 5683768200},   /* 2150-02-10 09:30:00 */
    {"Africa/Casablanca", 5699410200, TZ_OK, 5699406600},   /* 2150-08-10 09:30:00 */
    {"America/Nuuk", 2531950200, TZ_NONEXISTENT, 0},        /* 2050-03-26 23:30:00 */
    {"America/Nuuk", 2531948399, TZ_OK, 2531955599},        /* 2050-03-26 22:59:59 */
    {"America/Nuuk", 2531952000, TZ_OK, 2531955600},        /* 2050-03-27 00:00:00 */
    {"America/Nuuk", 2550699000, TZ_AMBIGUOUS, 0},          /* 2050-10-29 23:30:00 */
    {"America/Nuuk", 2550700799, TZ_AMBIGUOUS, 0},          /* 2050-10-29 23:59:59 */
    {"America/Nuuk", 2550700800, TZ_OK, 2550708000},        /* 2050-10-30 00:00:00 */
    {"America/Nuuk", 7234270200, TZ_NONEXISTENT, 0},        /* 2199-03-30 23:30:00 */
    {"America/Nuuk", 7234268399, TZ_OK, 7234275599},        /* 2199-03-30 22:59:59 */
    {"America/Nuuk", 7234272000, TZ_OK, 7234275600},        /* 2199-03-31 00:00:00 */
    {"America/Nuuk", 7252414200, TZ_AMBIGUOUS, 0},          /* 2199-10-26 23:30:00 */
    {"America/Nuuk", 7252415999, TZ_AMBIGUOUS, 0},          /* 2199-10-26 23:59:59 */
    {"America/Nuuk", 7252416000, TZ_OK, 7252423200},        /* 2199-10-27 00:00:00 */
    {"America/Nuuk", 2212479000, TZ_OK, 2212486200},        /* 2040-02-10 09:30:00 */
    {"America/Nuuk", 2228203800, TZ_OK, 2228207400},        /* 2040-08-10 09:30:00 */
    {"America/Nuuk", 5683771800, TZ_OK, 5683779000},        /* 2150-02-10 09:30:00 */
    {"America/Nuuk", 5699410200, TZ_OK, 5699413800},        /* 2150-08-10 09:30:00 */
    {"Asia/Jerusalem", 2531788200, TZ_NONEXISTENT, 0},      /* 2050-03-25 02:30:00 */
    {"Asia/Jerusalem", 2531786399, TZ_OK, 2531779199},      /* 2050-03-25 01:59:59 */
    {"Asia/Jerusalem", 2531790000, TZ_OK, 2531779200},      /* 2050-03-25 03:00:00 */
    {"Asia/Jerusalem", 2550706200, TZ_AMBIGUOUS, 0},        /* 2050-10-30 01:30:00 */
    {"Asia/Jerusalem", 2550707999, TZ_AMBIGUOUS, 0},        /* 2050-10-30 01:59:59 */
    {"Asia/Jerusalem", 2550708000, TZ_OK, 2550700800},      /* 2050-10-30 02:00:00 */
    {"Asia/Jerusalem", 7234108200, TZ_NONEXISTENT, 0},      /* 2199-03-29 02:30:00 */
    {"Asia/Jerusalem", 7234106399, TZ_OK, 7234099199},      /* 2199-03-29 01:59:59 */
    {"Asia/Jerusalem", 7234110000, TZ_OK, 7234099200},      /* 2199-03-29 03:00:00 */
    {"Asia/Jerusalem", 7252421400, TZ_AMBIGUOUS, 0},        /* 2199-10-27 01:30:00 */
    {"Asia/Jerusalem", 7252423199, TZ_AMBIGUOUS, 0},        /* 2199-10-27 01:59:59 */
    {"Asia/Jerusalem", 7252423200, TZ_OK, 7252416000},      /* 2199-10-27 02:00:00 */
    {"Asia/Jerusalem", 2212479000, TZ_OK, 2212471800},      /* 2040-02-10 09:30:00 */
    {"Asia/Jerusalem", 2228203800, TZ_OK, 2228193000},      /* 2040-08-10 09:30:00 */
    {"Asia/Jerusalem", 5683771800, TZ_OK, 5683764600},      /* 2150-02-10 09:30:00 */
    {"Asia/Jerusalem", 5699410200, TZ_OK, 5699399400},      /* 2150-08-10 09:30:00 */
    {"Europe/Dublin", 2531957400, TZ_NONEXISTENT, 0},       /* 2050-03-27 01:30:00 */
    {"Europe/Dublin", 2531955599, TZ_OK, 2531955599},       /* 2050-03-27 00:59:59 */
    {"Europe/Dublin", 2531959200, TZ_OK, 2531955600},       /* 2050-03-27 02:00:00 */
    {"Europe/Dublin", 2550706200, TZ_AMBIGUOUS, 0},         /* 2050-10-30 01:30:00 */
    {"Europe/Dublin", 2550707999, TZ_AMBIGUOUS, 0},         /* 2050-10-30 01:59:59 */
    {"Europe/Dublin", 2550708000, TZ_OK, 2550708000},       /* 2050-10-30 02:00:00 */
    {"Europe/Dublin", 2212479000, TZ_OK, 2212479000},       /* 2040-02-10 09:30:00 */
    {"Europe/Dublin", 2228203800, TZ_OK, 2228200200},       /* 2040-08-10 09:30:00 */
    {"Europe/Dublin", 5683771800, TZ_OK, 5683771800},       /* 2150-02-10 09:30:00 */
    {"Europe/Dublin", 5699410200, TZ_OK, 5699406600},       /* 2150-08-10 09:30:00 */
};

static void test_tz_rule_zones(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct tz *z = NULL;
    for (size_t i = 0; i < sizeof(off_cases) / sizeof(off_cases[0]); i++) {
        const struct tz_off_case *c = &off_cases[i];
        if (z == NULL || strcmp(tz_name(z), c->zone) != 0) {
            tz_free(z);
            assert_int_equal(tz_load(&z, NULL, c->zone, &e), 0);
        }
        int32_t off = INT32_MIN;
        if (tz_offset_at(z, c->utc, &off) != TZ_OK || off != c->off) {
            fail_msg("%s at %" PRId64 ": offset %" PRId32 ", expected %" PRId32, c->zone, c->utc,
                     off, c->off);
        }
    }
    for (size_t i = 0; i < sizeof(local_cases) / sizeof(local_cases[0]); i++) {
        const struct tz_local_case *c = &local_cases[i];
        if (strcmp(tz_name(z), c->zone) != 0) {
            tz_free(z);
            assert_int_equal(tz_load(&z, NULL, c->zone, &e), 0);
        }
        int64_t u = INT64_MIN;
        int rc = tz_to_utc(z, c->local, &u);
        if (rc != c->result || (rc == TZ_OK && u != c->utc)) {
            fail_msg("%s wall-clock %" PRId64 ": result %d (%" PRId64 "), expected %d (%" PRId64
                     ")",
                     c->zone, c->local, rc, u, c->result, c->utc);
        }
    }
    tz_free(z);
}

/* Writes dir/name: a TZif version 2 file with no transitions, one local time type (offset
 * first, abbreviation "XXX") and the given footer. */
static void write_tzif(const char *dir, const char *name, int32_t first, const char *footer)
{
    unsigned char hdr[44] = {'T', 'Z', 'i', 'f', '2'};
    hdr[39] = 1;                                                  /* typecnt */
    hdr[43] = 4;                                                  /* charcnt */
    unsigned char blk[10] = {0, 0, 0, 0, 0, 0, 'X', 'X', 'X', 0}; /* ttinfo, then "XXX" */
    for (int k = 0; k < 4; k++) {
        blk[k] = (unsigned char)((uint32_t)first >> (24 - 8 * k)); /* big-endian utoff */
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
    assert_int_equal(fwrite(blk, 1, sizeof(blk), f), sizeof(blk));
    assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
    assert_int_equal(fwrite(blk, 1, sizeof(blk), f), sizeof(blk));
    assert_true(fprintf(f, "\n%s\n", footer) > 0);
    assert_int_equal(fclose(f), 0);
}

struct tz_footer_case {
    const char *footer;
    int64_t utc;
    int32_t off;
};

/* The forms no zone of today's database uses, in files written here: Jn (February 29 never
 * counted) and n (counted) days around February 29 of a leap year (2048) and a common one (2049);
 * quoted names with minutes; change times of 25 and 26 hours, -1 hour and -3:15:30; daylight
 * saving all year ("EST5EDT4,0/0,J365/25", RFC 8536 section 3.3.1).
 *
 * Python 3.11's zoneinfo (Lib/zoneinfo/_zoneinfo.py, _DayOffset.year_to_epoch) puts the zero-based
 * n form one day early, so the "ABC-2DEF,59/26,299/0" values come from glibc instead (TZ set to
 * the footer, time.localtime's tm_gmtoff); glibc and POSIX agree that day 59 of a leap year is
 * February 29. glibc in turn reads the all-year "EST5EDT4,0/0,J365/25" as standard time on the
 * eve of January 1; those values are zoneinfo's, as RFC 8536 reads the rule. */
static const struct tz_footer_case footer_cases[] = {
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2461449600, 19800},
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2466617399, 19800}, /* 2048-02-29 19:29:59Z */
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2466617400, 23400},
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2487342599, 23400}, /* 2048-10-26 16:29:59Z */
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2487342600, 19800},
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2493072000, 19800},
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2498153399, 19800}, /* 2049-02-28 19:29:59Z */
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2498153400, 23400},
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2518878599, 23400}, /* 2049-10-26 16:29:59Z */
    {"<+0530>-5:30<+0630>,J60/1,J300/-1", 2518878600, 19800},
    {"ABC-2DEF,59/26,299/0", 2461449600, 7200},
    {"ABC-2DEF,59/26,299/0", 2466633599, 7200}, /* 2048-02-29 23:59:59Z */
    {"ABC-2DEF,59/26,299/0", 2466633600, 10800},
    {"ABC-2DEF,59/26,299/0", 2487272399, 10800}, /* 2048-10-25 20:59:59Z */
    {"ABC-2DEF,59/26,299/0", 2487272400, 7200},
    {"ABC-2DEF,59/26,299/0", 2493072000, 7200},
    {"ABC-2DEF,59/26,299/0", 2498255999, 7200}, /* 2049-03-01 23:59:59Z */
    {"ABC-2DEF,59/26,299/0", 2498256000, 10800},
    {"ABC-2DEF,59/26,299/0", 2518894799, 10800}, /* 2049-10-26 20:59:59Z */
    {"ABC-2DEF,59/26,299/0", 2518894800, 7200},
    {"EST5EDT4,0/0,J365/25", 2461449600, -14400},
    {"EST5EDT4,0/0,J365/25", 2493072000, -14400},
    {"EST5EDT4,0/0,J365/25", 2477174400, -14400},
    {"EST5EDT4,0/0,J365/25", 2493068400, -14400},
    {"EST5EDT4,0/0,J365/25", 2493090000, -14400},
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2461449600, -12600},
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2466029669,
     -12600}, /* 2048-02-23 00:14:29Z */
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2466029670, -9000},
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2488415399, -9000}, /* 2048-11-08 02:29:59Z */
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2488415400, -12600},
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2493072000, -12600},
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2498084069,
     -12600}, /* 2049-02-28 00:14:29Z */
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2498084070, -9000},
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2519864999, -9000}, /* 2049-11-07 02:29:59Z */
    {"<-0330>3:30<-0230>,M2.5.0/-3:15:30,M11.1.6/24", 2519865000, -12600},
};

static void test_tz_rule_footers(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char *dir = th_tempdir();
    struct tz *z = NULL;
    for (size_t i = 0; i < sizeof(footer_cases) / sizeof(footer_cases[0]); i++) {
        const struct tz_footer_case *c = &footer_cases[i];
        write_tzif(dir, "Zone", 0, c->footer);
        assert_int_equal(tz_load(&z, dir, "Zone", &e), 0);
        int32_t off = INT32_MIN;
        if (tz_offset_at(z, c->utc, &off) != TZ_OK || off != c->off) {
            fail_msg("'%s' at %" PRId64 ": offset %" PRId32 ", expected %" PRId32, c->footer,
                     c->utc, off, c->off);
        }
        tz_free(z);
    }
    /* What is not a rule leaves the zone's one type in force (no transitions): the file's
     * offset, not the footer's. */
    static const char *const not_rules[] = {
        "",
        "AB-2",
        "ABC",
        "ABC-2DEF",
        "ABC-2DEF,M3.5.0",
        "<AB>-2",
        "ABC-25",
        "ABC-2DEF,M13.1.0,M10.5.0",
        "ABC-2DEF,M3.6.0,M10.5.0",
        "ABC-2DEF,J0,J300",
        "ABC-2DEF,366,300",
        "ABC-2DEF,M3.5.0/168,M10.5.0",
        "ABC-2DEF,M3.5.0,M10.5.0x",
        "ABC-2:60",
        "<ABC-2",
        "<A B>-2",
    };
    for (size_t i = 0; i < sizeof(not_rules) / sizeof(not_rules[0]); i++) {
        write_tzif(dir, "Zone", 3600, not_rules[i]);
        assert_int_equal(tz_load(&z, dir, "Zone", &e), 0);
        int32_t off = INT32_MIN;
        assert_int_equal(tz_offset_at(z, 2466547200, &off), TZ_OK);
        if (off != 3600) {
            fail_msg("'%s' was read as a rule (offset %" PRId32 ")", not_rules[i], off);
        }
        tz_free(z);
    }
    /* A skipped and a repeated wall-clock time of a rule with a 25-hour end time: J300/25 is
     * October 28 01:00 of the day after, in daylight saving time. */
    write_tzif(dir, "Zone", 0, "<+0530>-5:30<+0630>,J60/1,J300/25");
    assert_int_equal(tz_load(&z, dir, "Zone", &e), 0);
    int64_t u = 0;
    assert_int_equal(tz_to_utc(z, 2466637200 + 1800, &u), TZ_NONEXISTENT); /* 2048-03-01 01:30 */
    assert_int_equal(tz_to_utc(z, 2487459600 - 1800, &u), TZ_AMBIGUOUS);   /* 2048-10-28 00:30 */
    assert_int_equal(tz_to_utc(z, 2487459600, &u), TZ_OK);                 /* 2048-10-28 01:00 */
    assert_int_equal(u, 2487459600 - 19800);
    tz_free(z);
    char path[512];
    snprintf(path, sizeof(path), "%s/Zone", dir);
    unlink(path);
    rmdir(dir);
    free(dir);
}

/* A zone past its table whose footer is empty (RFC 8536 allows it) still refuses what it cannot
 * know: TZ_BEYOND. The file is Europe/London's with its footer cut off. */
static void test_tz_rule_none(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    FILE *in = fopen("/usr/share/zoneinfo/Europe/London", "rb");
    assert_non_null(in);
    static unsigned char b[1 << 16];
    size_t n = fread(b, 1, sizeof(b), in);
    fclose(in);
    assert_true(n > 2 && n < sizeof(b) && b[n - 1] == '\n');
    size_t k = n - 1;
    while (k > 0 && b[k - 1] != '\n') {
        k--;
    }
    char *dir = th_tempdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/London", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, k, f), k);
    assert_int_equal(fputc('\n', f), '\n');
    assert_int_equal(fclose(f), 0);
    struct tz *z = NULL;
    assert_int_equal(tz_load(&z, dir, "London", &e), 0);
    int64_t u = 0;
    assert_int_equal(tz_to_utc(z, 1721044800, &u), TZ_OK); /* 2024: the table */
    assert_int_equal(u, 1721041200);
    assert_int_equal(tz_to_utc(z, 4102444800, &u), TZ_BEYOND); /* 2100 */
    tz_free(z);
    unlink(path);
    rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tz_rule_zones),
        cmocka_unit_test(test_tz_rule_footers),
        cmocka_unit_test(test_tz_rule_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
