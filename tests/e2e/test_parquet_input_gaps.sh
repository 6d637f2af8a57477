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

# ---- 4. nested columns the schema does not read ----------------------------------------------
# A struct and a list column (DuckDB writes them) beside flat ones: skipped (never read) under
# strict: filter, the usual header failure under strict: true, refused naming the column when
# the schema reads it; schema infer leaves them out with a warning and says strict: filter.
mkdir -p "$T/nest/data"
cd "$T/nest"
duck "COPY (SELECT i AS id, {'a': i, 'b': 'x' || i} AS s, [i, i + 1] AS l, 'n' || i AS name FROM range(5) t(i)) TO 'data/x.parquet' (FORMAT parquet)" >/dev/null
entry() { # STRICT COLUMNS
  printf 'pipeline: p\ningest_files:\n  - name: x\n    source_pattern: "x.parquet"\n    schema: {strict: %s, columns: {%s}}\n' "$1" "$2" >astro.yaml
}
entry filter 'id: {dtype: int64}, name: {dtype: str}'
run_astro validate data/x.parquet
assert_eq "$RC" "0" "nested columns skipped under strict: filter: $OUT $ERR"
assert_contains "$OUT" "rows read 5 = valid 5" "every row read"
run_astro -q ingest data
assert_eq "$RC" "0" "ingest under strict: filter: $ERR"
out=$(echo .working/*/ingested/x.parquet)
assert_eq "$(duck "SELECT * FROM read_parquet('$out') ORDER BY id")" '{"id":"0","name":"n0"}
{"id":"1","name":"n1"}
{"id":"2","name":"n2"}
{"id":"3","name":"n3"}
{"id":"4","name":"n4"}' "the flat columns ingested exactly"
rm -rf .working .astro
entry true 'id: {dtype: int64}, name: {dtype: str}'
run_astro validate data/x.parquet
assert_eq "$RC" "1" "strict: true: $OUT"
assert_contains "$OUT" "column 's' is not in the schema (strict: true allows only declared columns)" "s: column_in_schema"
assert_contains "$OUT" "column 'l' is not in the schema" "l: column_in_schema"
assert_not_contains "$OUT" "nested" "strict: true: the header failure, not a format refusal"
entry false 'id: {dtype: int64}'
run_astro validate data/x.parquet
assert_eq "$RC" "1" "strict: false keeps s: refused"
assert_contains "$OUT" "column 's' is nested (a list, struct or map): astro reads flat columns only" "the column named"
assert_contains "$OUT" "parquet" "check parquet"
entry filter 'id: {dtype: int64}, l: {dtype: str, nullable: true}'
run_astro -q ingest data
assert_eq "$RC" "1" "a declared list column: refused"
assert_contains "$(cat .working/*/errors/x.jsonl)" "column 'l' is nested" "ingest names the column"
assert_eq "$(ls .working/*/ingested/ 2>/dev/null | wc -l)" "0" "no output for a refused file"
rm -rf .working .astro
run_astro schema infer data/x.parquet --pandera
assert_eq "$RC" "0" "schema infer: $ERR"
assert_contains "$ERR" "left out of the schema: column 's' is nested" "infer warns about s"
assert_contains "$ERR" "left out of the schema: column 'l' is nested" "infer warns about l"
assert_contains "$OUT" "strict: filter" "the inferred schema skips them"
assert_not_contains "$OUT" "  s:" "s is not in the schema"
printf '%s\n' "$OUT" >s.yaml
printf 'pipeline: p\ningest_files:\n  - name: x\n    source_pattern: "x.parquet"\n    schema_file: s.yaml\n' >astro.yaml
run_astro -q ingest data
assert_eq "$RC" "0" "ingest with the inferred schema: $ERR"
run_astro schema infer data/x.parquet
assert_eq "$RC" "0" "schema infer (astro.yaml block): $ERR"
assert_contains "$OUT" "      strict: filter" "the block skips them too"
pass "nested columns: skipped unless the schema reads them, then refused naming the column; infer leaves them out"

# ---- 2. column names checked as CSV header names, in every format ----------------------------
# A name that reaches the output fails the header when empty, holding a NUL, not UTF-8 or over
# 63 bytes (check column_name; encoding for the UTF-8 case), exit 1; strict: filter drops them.
mkdir -p "$T/names/data"
cd "$T/names"
"$PQGEN" names data/n.parquet >/dev/null || fail "pqgen names"
long64=$(printf 'n%.0s' $(seq 64))
printf 'pipeline: p\ningest_files:\n  - name: n\n    source_pattern: "n.parquet"\n    schema: {strict: false, columns: {id: {dtype: int32}}}\n' >astro.yaml
run_astro validate data/n.parquet
assert_eq "$RC" "1" "Parquet names: $OUT"
assert_contains "$OUT" "column 2 has an empty name" "Parquet: empty name"
assert_contains "$OUT" "the name of column 3 holds a NUL byte (after 'a')" "Parquet: NUL in a name"
assert_contains "$OUT" "the name of column 4, 'bad\\xff', is not valid utf-8" "Parquet: not UTF-8"
assert_contains "$OUT" "the name of column 5, '$long64', is 64 bytes long, more than 63" "Parquet: 64 bytes"
assert_eq "$(printf '%s\n' "$OUT" | grep -c ' column_name ')" "3" "Parquet: three column_name failures"
assert_contains "$OUT" "4 failure case(s)" "Parquet: four in all (ok passes)"
printf 'pipeline: p\ningest_files:\n  - name: n\n    source_pattern: "n.parquet"\n    schema: {strict: filter, columns: {id: {dtype: int32}, ok: {dtype: int32}}}\n' >astro.yaml
run_astro validate data/n.parquet
assert_eq "$RC" "0" "Parquet names dropped by strict: filter: $OUT"
# JSON and NDJSON: the columns are the schema's keys; one over 63 bytes fails the same way.
long=$(printf 'k%.0s' $(seq 64))
printf '{"id":1,"%s":2}\n' "$long" >data/j.ndjson
printf '[{"id":1,"%s":2}]\n' "$long" >data/j.json
for f in j.ndjson j.json; do
  printf 'pipeline: p\ningest_files:\n  - name: j\n    source_pattern: "%s"\n    schema: {columns: {id: {dtype: int64}, %s: {dtype: int64}}}\n' "$f" "$long" >astro.yaml
  run_astro validate "data/$f"
  assert_eq "$RC" "1" "$f: a 64-byte key: $OUT"
  assert_contains "$OUT" "column_name" "$f: check column_name"
  assert_contains "$OUT" "is 64 bytes long, more than 63" "$f: the message"
done
# xlsx: the header row (an empty cell between named ones, a NUL through _x0000_, 64 bytes).
"$PY" -c '
import openpyxl, sys
wb = openpyxl.Workbook(); ws = wb.active
ws.append(["id", None, "a_x0000_b", sys.argv[1], "ok"]); ws.append([1, 2, 3, 4, 5])
wb.save("data/w.xlsx")' "$long64" || fail "openpyxl"
printf 'pipeline: p\ningest_files:\n  - name: w\n    source_pattern: "w.xlsx"\n    schema: {strict: false, columns: {id: {dtype: int64}}}\n' >astro.yaml
run_astro validate data/w.xlsx
assert_eq "$RC" "1" "xlsx names: $OUT"
assert_contains "$OUT" "column 2 has an empty name" "xlsx: empty name"
assert_contains "$OUT" "the name of column 3 holds a NUL byte (after 'a')" "xlsx: NUL"
assert_contains "$OUT" "the name of column 4, '$long64', is 64 bytes long" "xlsx: 64 bytes"
pass "column names: Parquet, JSON, NDJSON and xlsx checked as CSV header names"
