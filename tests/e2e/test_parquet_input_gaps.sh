#!/usr/bin/env bash
# test_parquet_input_gaps.sh - what Parquet input (and the other non-CSV inputs) must not let
# through silently, end to end with the real binary:
# 1. INT96 timestamps keep their nanoseconds: a value with digits beyond the microsecond fails
#    (as a CSV value or a TIMESTAMP(NANOS) value does) instead of being cut; the others are
#    ingested exactly (DuckDB reads the source and astro's output). The file is built byte by
#    byte by tests/tools/pqgen (no npm writer writes INT96; DuckDB reads it as the oracle).
. "$(dirname "$0")/lib.sh"

BUILD=${ASTRO_BUILD:?ASTRO_BUILD must point at the build directory}
PQGEN="$BUILD/pqgen"
[ -x "$PQGEN" ] || fail "$PQGEN not built"

duck() { node "$ORACLE" "$1" 2>&1 || fail "DuckDB: $1"; }

# ---- 1. INT96 ------------------------------------------------------------------------------
mkdir -p "$T/i96/data"
cd "$T/i96"
"$PQGEN" int96 data/t.parquet >/dev/null || fail "pqgen int96"
# The independent reader sees the nanoseconds astro must not drop (DuckDB keeps microseconds,
# so it shows rows 0 and 1 alike: the digits beyond are checked through astro below).
assert_eq "$(duck "SELECT id, CAST(ts AS VARCHAR) AS ts FROM read_parquet('data/t.parquet') ORDER BY id")" \
  '{"id":1,"ts":"2024-01-02 03:04:05.123456"}
{"id":2,"ts":"2024-01-02 03:04:05.123456"}
{"id":3,"ts":"1970-01-01 00:00:00"}
{"id":4,"ts":"1969-12-31 23:59:59.999999"}' "DuckDB reads the INT96 file"
printf 'pipeline: p\ningest_files:\n  - name: t\n    source_pattern: "t.parquet"\n    schema: {columns: {id: {dtype: int32}, ts: {dtype: "datetime64[ns]"}}}\n' >astro.yaml
run_astro validate data/t.parquet
assert_eq "$RC" "1" "INT96 with nanoseconds: validate fails: $OUT $ERR"
assert_contains "$OUT" "line 2: '2024-01-02T03:04:05.123456789' is more precise than microseconds" "row 1 named"
assert_contains "$OUT" "line 4: '1969-12-31T23:59:59.999999001' is more precise than microseconds" "row 3 named"
assert_contains "$OUT" "rows read 4 = valid 2 + invalid 2" "two rows fail, two pass"
# With a tolerance the exact rows go through, to the microsecond.
printf 'pipeline: p\ningest_files:\n  - name: t\n    source_pattern: "t.parquet"\n    max_bad_rows: 2\n    schema: {columns: {id: {dtype: int32}, ts: {dtype: "datetime64[ns]"}}}\n' >astro.yaml
run_astro -q ingest data
assert_eq "$RC" "0" "INT96 ingest with max_bad_rows: $ERR"
assert_contains "$(cat .working/*/errors/t.jsonl)" '"check":"coerce_dtype(' "failures in errors/t.jsonl"
out=$(echo .working/*/ingested/t.parquet)
assert_eq "$(duck "SELECT id, CAST(ts AS VARCHAR) AS ts FROM read_parquet('$out') ORDER BY id")" \
  '{"id":1,"ts":"2024-01-02 03:04:05.123456"}
{"id":3,"ts":"1970-01-01 00:00:00"}' "INT96 values ingested exactly"
pass "INT96: nanoseconds beyond the microsecond fail the value, the others are exact"
