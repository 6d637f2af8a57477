#!/usr/bin/env bash
# test_parquet_duckdb.sh - files written by our Parquet writer (through tests/tools/pqgen.c) are
# read back by DuckDB, an independent reader: exact values of every dtype, Parquet types and
# annotations (parquet_schema), statistics, encodings and row-group layout (parquet_metadata),
# every codec, dictionary and PLAIN-fallback chunks, many pages and row groups, zero rows.
# Fails (never skips) when node, the DuckDB oracle or pqgen is missing.
set -u
SRC=${ASTRO_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${ASTRO_BUILD:?ASTRO_BUILD must point at the build directory}
PQGEN="$BUILD/pqgen"
ORACLE="$SRC/tests/oracle/duck.mjs"
fails=0

command -v node >/dev/null || { echo "FAIL: node is not installed (needed for the DuckDB oracle)"; exit 1; }
[ -f "$ORACLE" ] && [ -d "$SRC/tests/oracle/node_modules/@duckdb/node-api" ] ||
    { echo "FAIL: DuckDB oracle missing at $ORACLE (run npm install in tests/oracle)"; exit 1; }
[ -x "$PQGEN" ] || { echo "FAIL: $PQGEN not built"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

gen() { # scenario file [codec]
    "$PQGEN" "$@" >/dev/null || { echo "FAIL: pqgen $*"; fails=$((fails + 1)); }
}

# q NAME SQL EXPECTED: runs SQL in DuckDB and compares its JSON lines with EXPECTED exactly.
q() {
    local name=$1 sql=$2 want=$3 got
    if ! got=$(cd "$T" && node "$ORACLE" "$sql" 2>&1); then
        echo "FAIL: $name: DuckDB error: $got"
        fails=$((fails + 1))
        return
    fi
    if [ "$got" != "$want" ]; then
        echo "FAIL: $name"
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/    /'
        fails=$((fails + 1))
    else
        echo "ok: $name"
    fi
}

# ---------------------------------------------------------------- every dtype, every codec
for codec in none snappy gzip zstd; do
    gen alltypes "$T/all_$codec.parquet" "$codec"
done

ALL_ROWS='{"id":0,"s":"hello","s_req":"a","b":"true","i8":"-128","i16":"-32768","i32":"-2147483648","i64":"-9223372036854775808","u8":"0","u16":"0","u32":"0","u64":"0","f32":"1.5","f64":"1.5","d":"1970-01-01","ts":"1970-01-01 00:00:00","tstz_us":"0","dec9":"9999999.99","dec18":"99999999999999.9999","dec38":"9999999999999999999999999999.9999999999","dec20":"99999999999999999999","i64_req":"1234567890123"}
{"id":1,"s":"héllo wörld ✓","s_req":"b","b":"false","i8":"127","i16":"32767","i32":"2147483647","i64":"9223372036854775807","u8":"255","u16":"65535","u32":"4294967295","u64":"18446744073709551615","f32":"-2.25","f64":"-2.25","d":"1969-12-31","ts":"1969-12-31 23:59:59.999999","tstz_us":"-1","dec9":"-9999999.99","dec18":"-99999999999999.9999","dec38":"-9999999999999999999999999999.9999999999","dec20":"-99999999999999999999","i64_req":"0"}
{"id":2,"s":"日本語","s_req":"a","b":null,"i8":"0","i16":"0","i32":"0","i64":"0","u8":"1","u16":"1","u32":"1","u64":"1","f32":"0.0","f64":"0.1","d":"1900-01-01","ts":"2023-11-14 22:13:20.123456","tstz_us":"1700000000123456","dec9":"0.01","dec18":"0.0001","dec38":"0.0000000001","dec20":"1","i64_req":"-1"}
{"id":3,"s":"","s_req":"c","b":"true","i8":"-1","i16":"-1","i32":"-1","i64":"-1","u8":"128","u16":"32768","u32":"2147483648","u64":"9223372036854775808","f32":"10000000000.0","f64":"1e+300","d":"2024-02-29","ts":"1900-01-01 00:00:00","tstz_us":"-2208988800000000","dec9":"-0.01","dec18":"-0.0001","dec38":"-0.0000000001","dec20":"-1","i64_req":"0"}
{"id":4,"s":null,"s_req":"a","b":null,"i8":null,"i16":null,"i32":null,"i64":null,"u8":null,"u16":null,"u32":null,"u64":null,"f32":null,"f64":null,"d":null,"ts":null,"tstz_us":null,"dec9":null,"dec18":null,"dec38":null,"dec20":null,"i64_req":"9223372036854775807"}
{"id":5,"s":"emoji 😀","s_req":"é","b":"true","i8":"5","i16":"300","i32":"123456","i64":"1234567890123","u8":"7","u16":"7","u32":"7","u64":"7","f32":"-0.0","f64":"-1e-300","d":"9999-12-31","ts":"9999-12-31 23:59:59.999999","tstz_us":"253402300799999999","dec9":"1234567.89","dec18":"-1.2345","dec38":"-1.0000000000","dec20":"42","i64_req":"-9223372036854775808"}'

ALL_SELECT="id, s, s_req, b::VARCHAR b, i8::VARCHAR i8, i16::VARCHAR i16, i32::VARCHAR i32,
  i64::VARCHAR i64, u8::VARCHAR u8, u16::VARCHAR u16, u32::VARCHAR u32, u64::VARCHAR u64,
  f32::VARCHAR f32, f64::VARCHAR f64, d::VARCHAR d, ts::VARCHAR ts, epoch_us(tstz)::VARCHAR tstz_us,
  dec9::VARCHAR dec9, dec18::VARCHAR dec18, dec38::VARCHAR dec38, dec20::VARCHAR dec20,
  i64_req::VARCHAR i64_req"
for codec in none snappy gzip zstd; do
    q "alltypes values ($codec)" "SELECT $ALL_SELECT FROM read_parquet('all_$codec.parquet') ORDER BY id" "$ALL_ROWS"
    q "alltypes codec recorded ($codec)" \
      "SELECT DISTINCT compression FROM parquet_metadata('all_$codec.parquet')" \
      "{\"compression\":\"$(echo $codec | tr a-z A-Z | sed 's/NONE/UNCOMPRESSED/')\"}"
done

q "alltypes DuckDB types" "SELECT column_name, column_type, \"null\" FROM (DESCRIBE SELECT * FROM read_parquet('all_zstd.parquet'))" \
'{"column_name":"id","column_type":"INTEGER","null":"YES"}
{"column_name":"s","column_type":"VARCHAR","null":"YES"}
{"column_name":"s_req","column_type":"VARCHAR","null":"YES"}
{"column_name":"b","column_type":"BOOLEAN","null":"YES"}
{"column_name":"i8","column_type":"TINYINT","null":"YES"}
{"column_name":"i16","column_type":"SMALLINT","null":"YES"}
{"column_name":"i32","column_type":"INTEGER","null":"YES"}
{"column_name":"i64","column_type":"BIGINT","null":"YES"}
{"column_name":"u8","column_type":"UTINYINT","null":"YES"}
{"column_name":"u16","column_type":"USMALLINT","null":"YES"}
{"column_name":"u32","column_type":"UINTEGER","null":"YES"}
{"column_name":"u64","column_type":"UBIGINT","null":"YES"}
{"column_name":"f32","column_type":"FLOAT","null":"YES"}
{"column_name":"f64","column_type":"DOUBLE","null":"YES"}
{"column_name":"d","column_type":"DATE","null":"YES"}
{"column_name":"ts","column_type":"TIMESTAMP","null":"YES"}
{"column_name":"tstz","column_type":"TIMESTAMP WITH TIME ZONE","null":"YES"}
{"column_name":"dec9","column_type":"DECIMAL(9,2)","null":"YES"}
{"column_name":"dec18","column_type":"DECIMAL(18,4)","null":"YES"}
{"column_name":"dec38","column_type":"DECIMAL(38,10)","null":"YES"}
{"column_name":"dec20","column_type":"DECIMAL(20,0)","null":"YES"}
{"column_name":"i64_req","column_type":"BIGINT","null":"YES"}'

q "alltypes Parquet schema" "SELECT name, type, type_length, repetition_type, converted_type, scale, precision,
  regexp_replace(logical_type, 'bitWidth=[^,]*', 'bitWidth=?') AS logical FROM parquet_schema('all_zstd.parquet')" \
'{"name":"schema","type":null,"type_length":null,"repetition_type":null,"converted_type":null,"scale":null,"precision":null,"logical":null}
{"name":"id","type":"INT32","type_length":null,"repetition_type":"REQUIRED","converted_type":"INT_32","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=1)"}
{"name":"s","type":"BYTE_ARRAY","type_length":null,"repetition_type":"OPTIONAL","converted_type":"UTF8","scale":null,"precision":null,"logical":"StringType()"}
{"name":"s_req","type":"BYTE_ARRAY","type_length":null,"repetition_type":"REQUIRED","converted_type":"UTF8","scale":null,"precision":null,"logical":"StringType()"}
{"name":"b","type":"BOOLEAN","type_length":null,"repetition_type":"OPTIONAL","converted_type":null,"scale":null,"precision":null,"logical":null}
{"name":"i8","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"INT_8","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=1)"}
{"name":"i16","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"INT_16","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=1)"}
{"name":"i32","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"INT_32","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=1)"}
{"name":"i64","type":"INT64","type_length":null,"repetition_type":"OPTIONAL","converted_type":"INT_64","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=1)"}
{"name":"u8","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"UINT_8","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=0)"}
{"name":"u16","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"UINT_16","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=0)"}
{"name":"u32","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"UINT_32","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=0)"}
{"name":"u64","type":"INT64","type_length":null,"repetition_type":"OPTIONAL","converted_type":"UINT_64","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=0)"}
{"name":"f32","type":"FLOAT","type_length":null,"repetition_type":"OPTIONAL","converted_type":null,"scale":null,"precision":null,"logical":null}
{"name":"f64","type":"DOUBLE","type_length":null,"repetition_type":"OPTIONAL","converted_type":null,"scale":null,"precision":null,"logical":null}
{"name":"d","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"DATE","scale":null,"precision":null,"logical":"DateType()"}
{"name":"ts","type":"INT64","type_length":null,"repetition_type":"OPTIONAL","converted_type":"TIMESTAMP_MICROS","scale":null,"precision":null,"logical":"TimestampType(isAdjustedToUTC=0, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))"}
{"name":"tstz","type":"INT64","type_length":null,"repetition_type":"OPTIONAL","converted_type":"TIMESTAMP_MICROS","scale":null,"precision":null,"logical":"TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds(), NANOS=<null>))"}
{"name":"dec9","type":"INT32","type_length":null,"repetition_type":"OPTIONAL","converted_type":"DECIMAL","scale":"2","precision":"9","logical":"DecimalType(scale=2, precision=9)"}
{"name":"dec18","type":"INT64","type_length":null,"repetition_type":"OPTIONAL","converted_type":"DECIMAL","scale":"4","precision":"18","logical":"DecimalType(scale=4, precision=18)"}
{"name":"dec38","type":"FIXED_LEN_BYTE_ARRAY","type_length":"16","repetition_type":"OPTIONAL","converted_type":"DECIMAL","scale":"10","precision":"38","logical":"DecimalType(scale=10, precision=38)"}
{"name":"dec20","type":"FIXED_LEN_BYTE_ARRAY","type_length":"9","repetition_type":"OPTIONAL","converted_type":"DECIMAL","scale":"0","precision":"20","logical":"DecimalType(scale=0, precision=20)"}
{"name":"i64_req","type":"INT64","type_length":null,"repetition_type":"REQUIRED","converted_type":"INT_64","scale":null,"precision":null,"logical":"IntType(bitWidth=?, isSigned=1)"}'

# IntType.bitWidth is an i8 on the wire; DuckDB prints it as a raw character, so compare its code.
q "IntType bitWidth values" "SELECT name, ascii(regexp_extract(logical_type, 'bitWidth=(.)', 1)) AS bw
  FROM parquet_schema('all_zstd.parquet') WHERE logical_type LIKE 'IntType%'" \
'{"name":"id","bw":32}
{"name":"i8","bw":8}
{"name":"i16","bw":16}
{"name":"i32","bw":32}
{"name":"i64","bw":64}
{"name":"u8","bw":8}
{"name":"u16","bw":16}
{"name":"u32","bw":32}
{"name":"u64","bw":64}
{"name":"i64_req","bw":64}'

q "alltypes statistics" "SELECT path_in_schema p, stats_min_value mn, stats_max_value mx, stats_null_count nc,
  stats_min IS NOT NULL AS dep FROM parquet_metadata('all_zstd.parquet') ORDER BY column_id" \
'{"p":"id","mn":"0","mx":"5","nc":"0","dep":true}
{"p":"s","mn":"","mx":"日本語","nc":"1","dep":false}
{"p":"s_req","mn":"a","mx":"é","nc":"0","dep":false}
{"p":"b","mn":"false","mx":"true","nc":"2","dep":false}
{"p":"i8","mn":"-128","mx":"127","nc":"1","dep":true}
{"p":"i16","mn":"-32768","mx":"32767","nc":"1","dep":true}
{"p":"i32","mn":"-2147483648","mx":"2147483647","nc":"1","dep":true}
{"p":"i64","mn":"-9223372036854775808","mx":"9223372036854775807","nc":"1","dep":true}
{"p":"u8","mn":"0","mx":"255","nc":"1","dep":false}
{"p":"u16","mn":"0","mx":"65535","nc":"1","dep":false}
{"p":"u32","mn":"0","mx":"4294967295","nc":"1","dep":false}
{"p":"u64","mn":"0","mx":"18446744073709551615","nc":"1","dep":false}
{"p":"f32","mn":"-2.25","mx":"10000000000.0","nc":"1","dep":true}
{"p":"f64","mn":"-2.25","mx":"1e+300","nc":"1","dep":true}
{"p":"d","mn":"1900-01-01","mx":"9999-12-31","nc":"1","dep":true}
{"p":"ts","mn":"1900-01-01 00:00:00","mx":"9999-12-31 23:59:59.999999","nc":"1","dep":true}
{"p":"tstz","mn":"1900-01-01 00:00:00+00","mx":"9999-12-31 23:59:59.999999+00","nc":"1","dep":true}
{"p":"dec9","mn":"-9999999.99","mx":"9999999.99","nc":"1","dep":true}
{"p":"dec18","mn":"-99999999999999.9999","mx":"99999999999999.9999","nc":"1","dep":true}
{"p":"dec38","mn":"-9999999999999999999999999999.9999999999","mx":"9999999999999999999999999999.9999999999","nc":"1","dep":false}
{"p":"dec20","mn":"-99999999999999999999","mx":"99999999999999999999","nc":"1","dep":false}
{"p":"i64_req","mn":"-9223372036854775808","mx":"9223372036854775807","nc":"0","dep":true}'

q "alltypes footer" "SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata('all_zstd.parquet')" \
'{"created_by":"astro version 0.1.0 (build astro)","num_rows":"6","num_row_groups":"1","format_version":"1"}'
q "key-value metadata" "SELECT key::VARCHAR k, value::VARCHAR v FROM parquet_kv_metadata('all_zstd.parquet')" \
'{"k":"astro.test","v":"pqgen"}'
# s_req: 4 distinct of 6 values (<= 3/4) -> dictionary; s: 5 distinct of 5 -> PLAIN fallback.
q "alltypes encodings" "SELECT path_in_schema p, encodings e, dictionary_page_offset IS NOT NULL d
  FROM parquet_metadata('all_zstd.parquet') WHERE path_in_schema IN ('s', 's_req') ORDER BY column_id" \
'{"p":"s","e":"PLAIN, RLE","d":false}
{"p":"s_req","e":"PLAIN_DICTIONARY, RLE","d":true}'

# ---------------------------------------------------------------- many pages, many row groups
# pqgen multi: 100000 rows, 1000 rows or 2 KiB per page, 30000 rows per row group. Values are a
# function of the id; DuckDB recomputes them with range() and every row must match.
MULTI_EXPECT="SELECT i AS id, CASE WHEN i%7=3 THEN NULL ELSE 'cat'||(i%13) END AS cat,
  'u'||(i*7919) AS uniq, CASE WHEN i%11=0 THEN NULL ELSE (i%100)::INTEGER END AS small,
  CASE WHEN i%5=0 THEN NULL ELSE i*0.5 END::DOUBLE AS f, i%3=0 AS flag,
  CASE WHEN i%2=1 THEN NULL ELSE (i::HUGEINT*100000000000000000000 - 7) END AS decraw,
  DATE '1970-01-01' + (i%1000-500)::INTEGER AS day, i*1000003 AS big FROM range(100000) t(i)"
for codec in zstd snappy; do
    gen multi "$T/multi_$codec.parquet" "$codec"
    q "multi: every row matches ($codec)" "WITH x AS ($MULTI_EXPECT)
      SELECT count(*) AS rows, count(*) FILTER (WHERE p.id IS NULL OR x.id IS NULL
        OR p.cat IS DISTINCT FROM x.cat OR p.uniq IS DISTINCT FROM x.uniq
        OR p.small IS DISTINCT FROM x.small OR p.f IS DISTINCT FROM x.f OR p.flag IS DISTINCT FROM x.flag
        OR (p.dec * 100000)::HUGEINT IS DISTINCT FROM x.decraw OR p.day IS DISTINCT FROM x.day
        OR p.big IS DISTINCT FROM x.big) AS bad
      FROM x FULL JOIN read_parquet('multi_$codec.parquet') p USING (id)" \
      '{"rows":"100000","bad":"0"}'
done
q "multi: row groups" "SELECT row_group_id g, row_group_num_rows n, min(stats_min_value) FILTER (WHERE path_in_schema='id') lo,
  max(stats_max_value) FILTER (WHERE path_in_schema='id') hi
  FROM parquet_metadata('multi_zstd.parquet') GROUP BY ALL ORDER BY g" \
'{"g":"0","n":"30000","lo":"0","hi":"29999"}
{"g":"1","n":"30000","lo":"30000","hi":"59999"}
{"g":"2","n":"30000","lo":"60000","hi":"89999"}
{"g":"3","n":"10000","lo":"90000","hi":"99999"}'
q "multi: encodings and null counts (row group 0)" "SELECT path_in_schema p, encodings e,
  dictionary_page_offset IS NOT NULL AS d, stats_null_count nc, stats_min_value mn, stats_max_value mx
  FROM parquet_metadata('multi_zstd.parquet') WHERE row_group_id = 0 ORDER BY column_id" \
'{"p":"id","e":"PLAIN, RLE","d":false,"nc":"0","mn":"0","mx":"29999"}
{"p":"cat","e":"PLAIN_DICTIONARY, RLE","d":true,"nc":"4286","mn":"cat0","mx":"cat9"}
{"p":"uniq","e":"PLAIN, RLE","d":false,"nc":"0","mn":"u0","mx":"u99993213"}
{"p":"small","e":"PLAIN_DICTIONARY, RLE","d":true,"nc":"2728","mn":"0","mx":"99"}
{"p":"f","e":"PLAIN, RLE","d":false,"nc":"6000","mn":"0.5","mx":"14999.5"}
{"p":"flag","e":"PLAIN, RLE","d":false,"nc":"0","mn":"false","mx":"true"}
{"p":"dec","e":"PLAIN, RLE","d":false,"nc":"15000","mn":"-0.00007","mx":"29997999999999999999.99993"}
{"p":"day","e":"PLAIN_DICTIONARY, RLE","d":true,"nc":"0","mn":"1968-08-19","mx":"1971-05-15"}
{"p":"big","e":"PLAIN, RLE","d":false,"nc":"0","mn":"0","mx":"29999089997"}'
# Chunks must be contiguous and in schema order: each one starts where the previous ended, the
# first at byte 4 (after "PAR1"), and the dictionary page (when present) comes first.
q "multi: chunk layout is contiguous" "WITH m AS (SELECT row_group_id g, column_id c,
    coalesce(dictionary_page_offset, data_page_offset) AS start, total_compressed_size AS sz,
    dictionary_page_offset < data_page_offset AS dict_first
  FROM parquet_metadata('multi_zstd.parquet'))
  SELECT min(start) AS first, count(*) FILTER (WHERE nxt IS NOT NULL AND nxt <> start + sz) AS gaps,
    count(*) FILTER (WHERE dict_first = false) AS bad_dict FROM (SELECT *, lead(start) OVER (ORDER BY g, c) nxt FROM m)" \
'{"first":"4","gaps":"0","bad_dict":"0"}'

# rg_bytes = 256 KiB and no row limit: the writer must cut row groups by buffered bytes.
gen multibytes "$T/multibytes.parquet"
q "multi: row groups cut by rg_bytes" "WITH x AS ($MULTI_EXPECT)
  SELECT (SELECT count(DISTINCT row_group_id) > 5 FROM parquet_metadata('multibytes.parquet')) AS many_groups,
    count(*) AS rows, count(*) FILTER (WHERE p.id IS NULL OR x.id IS NULL OR p.uniq IS DISTINCT FROM x.uniq
      OR p.cat IS DISTINCT FROM x.cat OR p.big IS DISTINCT FROM x.big) AS bad
  FROM x FULL JOIN read_parquet('multibytes.parquet') p USING (id)" \
'{"many_groups":true,"rows":"100000","bad":"0"}'

# ---------------------------------------------------------------- float statistics
# parquet.thrift: NaN never in min/max; zero min is -0.0, zero max is +0.0; no min/max if all NaN.
gen floats "$T/floats.parquet"
q "floats: values" "SELECT id, zeros::VARCHAR z, allnan::VARCHAR a, mixed::VARCHAR m FROM read_parquet('floats.parquet') ORDER BY id" \
'{"id":0,"z":"nan","a":"nan","m":"nan"}
{"id":1,"z":"0.0","a":"nan","m":"2.5"}
{"id":2,"z":"-0.0","a":"nan","m":"-1.0"}
{"id":3,"z":"nan","a":"nan","m":"0.5"}
{"id":4,"z":null,"a":null,"m":"3.0"}'
q "floats: statistics" "SELECT path_in_schema p, stats_min_value mn, stats_max_value mx, stats_min dmn, stats_max dmx,
  stats_null_count nc FROM parquet_metadata('floats.parquet') ORDER BY column_id" \
'{"p":"id","mn":"0","mx":"4","dmn":"0","dmx":"4","nc":"0"}
{"p":"zeros","mn":"-0.0","mx":"0.0","dmn":"-0.0","dmx":"0.0","nc":"1"}
{"p":"allnan","mn":null,"mx":null,"dmn":null,"dmx":null,"nc":"1"}
{"p":"mixed","mn":"-1.0","mx":"3.0","dmn":"-1.0","dmx":"3.0","nc":"0"}'

# ---------------------------------------------------------------- dictionary limit fallback
gen dictlimit "$T/dictlimit.parquet"
q "dictionary over dict_bytes falls back to PLAIN" "SELECT path_in_schema p, encodings e,
  dictionary_page_offset IS NOT NULL d FROM parquet_metadata('dictlimit.parquet') ORDER BY column_id" \
'{"p":"id","e":"PLAIN, RLE","d":false}
{"p":"s","e":"PLAIN, RLE","d":false}
{"p":"low","e":"PLAIN_DICTIONARY, RLE","d":true}'
q "dictlimit values" "SELECT count(*) n, count(*) FILTER (WHERE s <> printf('value-%03d', id % 500)
  OR low <> 'v' || (id % 3)) bad FROM read_parquet('dictlimit.parquet')" '{"n":"5000","bad":"0"}'

# Streaming dictionary decision (PARQUET.md §1.7): mid and midn pass dict_bytes after 4 and 6
# index pages, so their chunk is the dictionary page, those index pages, then PLAIN pages; first
# is more than 3/4 distinct in its first page, so its chunk has no dictionary page at all.
gen fallback "$T/fallback.parquet"
q "mid-chunk fallback: encodings, dictionary pages, statistics" "SELECT path_in_schema p, encodings e,
  dictionary_page_offset IS NOT NULL d, dictionary_page_offset < data_page_offset dfirst,
  stats_null_count nc, stats_min_value mn, stats_max_value mx
  FROM parquet_metadata('fallback.parquet') ORDER BY column_id" \
'{"p":"id","e":"PLAIN, RLE","d":false,"dfirst":null,"nc":"0","mn":"0","mx":"9999"}
{"p":"mid","e":"PLAIN_DICTIONARY, RLE, PLAIN","d":true,"dfirst":true,"nc":"0","mn":"distinct-3000","mx":"k4"}
{"p":"midn","e":"PLAIN_DICTIONARY, RLE, PLAIN","d":true,"dfirst":true,"nc":"1000","mn":"0","mx":"9999029997"}
{"p":"first","e":"PLAIN, RLE","d":false,"dfirst":null,"nc":"1111","mn":"k0","mx":"u999"}'
q "mid-chunk fallback: every value" "WITH x AS (SELECT i::INTEGER AS id,
    CASE WHEN i < 3000 THEN 'k' || (i % 5) ELSE 'distinct-' || i END AS mid,
    CASE WHEN i % 10 = 3 THEN NULL WHEN i < 3000 THEN i % 7 ELSE i * 1000003 END::BIGINT AS midn,
    CASE WHEN i % 9 = 4 THEN NULL WHEN i < 1000 THEN 'u' || i ELSE 'k' || (i % 3) END AS first
  FROM range(10000) t(i))
  SELECT count(*) AS rows, count(*) FILTER (WHERE p.id IS NULL OR x.id IS NULL
    OR p.mid IS DISTINCT FROM x.mid OR p.midn IS DISTINCT FROM x.midn
    OR p.first IS DISTINCT FROM x.first) AS bad
  FROM x FULL JOIN read_parquet('fallback.parquet') p USING (id)" \
'{"rows":"10000","bad":"0"}'

# A chunk that gave up its dictionary (row group 0: every value distinct) makes the next row
# groups start PLAIN; every 8th row group tries the dictionary again (from 8 on it is kept).
gen dictcarry "$T/dictcarry.parquet"
q "dictionary decision carried over row groups, retried every 8" "SELECT string_agg(CASE WHEN
  dictionary_page_offset IS NULL THEN 'P' ELSE 'D' END, '' ORDER BY row_group_id) pattern
  FROM parquet_metadata('dictcarry.parquet') WHERE path_in_schema = 's'" \
'{"pattern":"PPPPPPPPDDDDDDDDDDDD"}'
q "dictcarry values" "SELECT count(*) n, count(*) FILTER (WHERE s <> CASE WHEN id < 100
  THEN 'distinct-' || id ELSE 'k' || (id % 3) END) bad FROM read_parquet('dictcarry.parquet')" \
'{"n":"2000","bad":"0"}'

# ---------------------------------------------------------------- rows rejected by the validator
gen filtered "$T/filtered.parquet"
q "only row_ok rows are written" "WITH x AS (SELECT rep*1000 + r AS id,
    CASE WHEN r%4=2 THEN NULL ELSE 'r'||(r%4) END AS s FROM range(3) a(rep), range(1000) b(r) WHERE r%4 <> 1)
  SELECT count(*) n, count(*) FILTER (WHERE p.id IS NULL OR x.id IS NULL OR p.s IS DISTINCT FROM x.s) bad
  FROM x FULL JOIN read_parquet('filtered.parquet') p USING (id)" '{"n":"2250","bad":"0"}'

# ---------------------------------------------------------------- zero rows
gen empty "$T/empty.parquet"
q "zero rows: no row groups" "SELECT num_rows, num_row_groups FROM parquet_file_metadata('empty.parquet')" \
'{"num_rows":"0","num_row_groups":"0"}'
q "zero rows: readable with its schema" "SELECT count(*) n, typeof(any_value(dec38)) t FROM read_parquet('empty.parquet')" \
'{"n":"0","t":"DECIMAL(38,10)"}'

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all Parquet/DuckDB checks passed"
