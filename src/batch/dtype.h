/*
 * dtype.h - the column types astro knows, named as Pandera names them.
 *
 * A dtype decides how a column is stored in a struct batch (see batch.h) and how it is written to
 * Parquet. Storage per dtype:
 *   DT_STR                      bytes: offsets + data, always valid UTF-8
 *   DT_BOOL                     uint8_t, 0 or 1
 *   DT_INT8..DT_INT64           int64_t
 *   DT_UINT8..DT_UINT64         int64_t holding the uint64_t bit pattern
 *   DT_FLOAT32, DT_FLOAT64      double (float32 values are already rounded to float)
 *   DT_DATE                     int64_t days since 1970-01-01
 *   DT_TIMESTAMP, DT_TIMESTAMP_TZ  int64_t microseconds since 1970-01-01T00:00:00 (naive / UTC)
 *   DT_DECIMAL                  __int128 unscaled value; precision 1..38, scale 0..precision
 *   DT_TIMEDELTA                int64_t nanoseconds (pandas' timedelta64[ns]: about +-292 years)
 */
#ifndef ASTRO_BATCH_DTYPE_H
#define ASTRO_BATCH_DTYPE_H

#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dtype {
    DT_STR,
    DT_BOOL,
    DT_INT8,
    DT_INT16,
    DT_INT32,
    DT_INT64,
    DT_UINT8,
    DT_UINT16,
    DT_UINT32,
    DT_UINT64,
    DT_FLOAT32,
    DT_FLOAT64,
    DT_DATE,
    DT_TIMESTAMP,    /* naive: datetime64[ns], datetime, timestamp */
    DT_TIMESTAMP_TZ, /* UTC: datetime64[ns, UTC] */
    DT_DECIMAL,
    DT_TIMEDELTA /* timedelta64[ns]: a signed duration */
};

struct dtype_info {
    enum dtype id;
    uint8_t precision; /* DT_DECIMAL only: 1..38 */
    uint8_t scale;     /* DT_DECIMAL only: 0..precision */
};

enum dtype_storage {
    DS_BYTES, /* offsets + data */
    DS_U8,    /* uint8_t */
    DS_I64,   /* int64_t */
    DS_F64,   /* double */
    DS_I128   /* __int128 */
};

/* Parses a Pandera dtype spelling: int8..int64, Int8..Int64, int, uint8..uint64, UInt8..UInt64,
 * float32/float64/float/Float64, bool/boolean, str/string/object/category (Pandera's to_yaml()
 * writes no categories: a category column of a text file is its strings), date, datetime,
 * timedelta/timedelta64[ns], timestamp,
 * datetime64[ns], datetime64[ns, UTC] (and other [unit, tz] forms with tz UTC), decimal(p,s) and
 * decimal(p) (scale 0). Fails with AE_CONFIG and a message listing the accepted names. */
int dtype_parse(const char *s, struct dtype_info *out, struct err *e) ASTRO_WUR;

/* The time zone of a datetime64[unit, zone] spelling as written ("Europe/London") into buf: true,
 * or false for UTC (also Etc/UTC, Z), another dtype, or a name that does not fit n bytes. */
bool dtype_zone(const char *text, char *buf, size_t n);

/* Canonical name: "int64", "str", "decimal(12,2)", "datetime64[ns, UTC]"... Writes into buf
 * (at least 32 bytes) and returns it. */
const char *dtype_name(struct dtype_info t, char *buf, size_t n);

enum dtype_storage dtype_storage(enum dtype id);

/* Bytes per value for fixed-width storage (0 for DS_BYTES). */
size_t dtype_storage_size(enum dtype_storage s);

/* Writes a date (days) or datetime (microseconds) value of type id as ISO 8601 text into buf:
 * "2062-08-01", "2024-02-20T11:08:25.000000" ("Z" appended for DT_TIMESTAMP_TZ); timestamps
 * always carry six fractional digits so that their text sorts in time order. Other ids write "".
 * Returns what snprintf returns. */
int dtype_format_time(char *buf, size_t n, enum dtype id, int64_t v);

/* Writes a duration of v nanoseconds as pandas shows a Timedelta: "0 days 00:00:00.000001",
 * "1 days 02:03:04", "-1 days +23:59:59.500000" (days, then a non-negative clock; 6 fractional
 * digits, or 9 when the value is not a whole number of microseconds, none when whole seconds).
 * Returns what snprintf returns. */
int dtype_format_timedelta(char *buf, size_t n, int64_t v);

/* Writes the exact decimal text of unscaled value v with scale digits after the point ("-12.30",
 * "0.05", "7") into out, which holds at least DTYPE_DECIMAL_TEXT bytes; returns its length. */
#define DTYPE_DECIMAL_TEXT 48
size_t dtype_format_decimal(char *out, __int128 v, unsigned scale);

/* Writes the text of a value of type t, given as its storage bytes (the value as its storage
 * type: a uint8_t, int64_t, double or __int128, any alignment), into out, which holds at least
 * DTYPE_VALUE_TEXT bytes; returns its length. The text is what the Parquet reader gives the
 * validator (input/parquet.c): "true"/"false"; integers in decimal digits (uint64 as unsigned);
 * floats in the shortest form that reads back as the same double ("nan", "inf", "-inf");
 * decimals with their scale (dtype_format_decimal); dates and timestamps as
 * dtype_format_time; durations as their nanoseconds. DT_STR writes "". */
#define DTYPE_VALUE_TEXT 64
size_t dtype_format_value(char *out, struct dtype_info t, const void *storage);

/* Writes the decimal digits of v into out (at least 20 bytes; no NUL); returns their count. */
size_t dtype_format_u64(char *out, uint64_t v);

#endif
