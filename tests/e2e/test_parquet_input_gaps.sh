#!/usr/bin/env bash
# test_parquet_input_gaps.sh - what Parquet input (and the other non-CSV inputs) must not let
# through silently, end to end with the real binary:
# 1. INT96 timestamps keep their nanoseconds: a value with digits beyond the microsecond fails
#    (as a CSV value or a TIMESTAMP(NANOS) value does) instead of being cut; the others are
#    ingested exactly (DuckDB reads the source and astro's output). The file is built byte by
#    byte by tests/tools/pqgen (no npm writer writes INT96; DuckDB reads it as the oracle).
# 2. Column names are checked as CSV header names (empty, NUL, not UTF-8, over 63 bytes) in
#    Parquet files (built by pqgen: names our writer refuses), JSON/NDJSON keys and xlsx headers.
# 3. path: with Parquet names the file's column; a dotted path, a path used twice, and path: on
#    a CSV entry are refused in astro.yaml (exit 2).
# 4. Nested columns (struct, list) are skipped when the schema does not read them (strict:
#    filter), the usual column_in_schema under strict: true, refused naming the column when the
#    schema reads it; schema infer leaves them out with a warning and writes strict: filter.
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

# ---- 3. path: with Parquet names the file's column ------------------------------------------
# A schema column reads a file column of another name (here one too long for PostgreSQL and one
# with a space); a dotted path is refused in astro.yaml (nested columns are not read); path: on
# a CSV or xlsx entry is refused rather than ignored.
mkdir -p "$T/path/data"
cd "$T/path"
long70=$(printf 'v%.0s' $(seq 70))
duck "COPY (SELECT i AS \"Customer ID\", i * 2 AS \"$long70\", 'x' || i AS note FROM range(3) t(i)) TO 'data/p.parquet' (FORMAT parquet)" >/dev/null
printf 'pipeline: p\ningest_files:\n  - name: p\n    source_pattern: "p.parquet"\n    schema: {strict: true, columns: {id: {dtype: int64, path: "Customer ID"}, v: {dtype: int64, path: %s}, note: {dtype: str}}}\n' "$long70" >astro.yaml
run_astro -q ingest data
assert_eq "$RC" "0" "path: reads the file's columns: $ERR"
out=$(echo .working/*/ingested/p.parquet)
assert_eq "$(duck "SELECT * FROM read_parquet('$out') ORDER BY id")" '{"id":"0","v":"0","note":"x0"}
{"id":"1","v":"2","note":"x1"}
{"id":"2","v":"4","note":"x2"}' "the output has the schema's names and the file's values"
rm -rf .working .astro
printf 'pipeline: p\ningest_files:\n  - name: p\n    source_pattern: "p.parquet"\n    schema: {strict: filter, columns: {id: {dtype: int64, path: "Customer"}}}\n' >astro.yaml
run_astro validate data/p.parquet
assert_eq "$RC" "1" "a path the file lacks: $OUT"
assert_contains "$OUT" "required column 'id' is not in the file (it is read from the file's column 'Customer', its path:)" "the path named"
printf 'pipeline: p\ningest_files:\n  - name: p\n    source_pattern: "p.parquet"\n    schema: {columns: {id: {dtype: int64, path: "customer.id"}}}\n' >astro.yaml
run_astro validate data/p.parquet
assert_eq "$RC" "2" "a dotted path with parquet: config error"
assert_contains "$ERR" "path 'customer.id' is a dotted path, but format parquet reads flat columns only" "the message"
printf 'pipeline: p\ningest_files:\n  - name: p\n    source_pattern: "p.parquet"\n    schema: {columns: {id: {dtype: int64, path: "Customer ID"}, n: {dtype: int64, path: "Customer ID"}}}\n' >astro.yaml
run_astro validate data/p.parquet
assert_eq "$RC" "2" "one path for two columns: config error"
assert_contains "$ERR" "is also the path of column 'id'" "the other column named"
printf 'id\n1\n' >data/c.csv
printf 'pipeline: p\ningest_files:\n  - name: c\n    source_pattern: "c.csv"\n    schema: {columns: {id: {dtype: int64, path: "x"}}}\n' >astro.yaml
run_astro validate data/c.csv
assert_eq "$RC" "2" "path: with CSV: config error"
assert_contains "$ERR" "path is only used with formats ndjson, json and parquet" "path: refused for CSV"
pass "path: names a Parquet file's column; a dotted path, or path: with CSV, is refused in astro.yaml"

# ---- 5. values formatted on the validating threads -------------------------------------------
# Parquet values become text in input_ops.complete, on every validating thread: the output at
# --threads 1 and --threads 2 holds what DuckDB reads in the source, row by row (pqgen alltypes:
# every dtype, nulls, extremes; multi: 100,000 rows over many pages and row groups).
SAME="$ASTRO_SRC/tests/oracle/pqsame.mjs"
for g in alltypes multi; do
  mkdir -p "$T/thr_$g/data"
  cd "$T/thr_$g"
  "$PQGEN" "$g" "data/$g.parquet" >/dev/null || fail "pqgen $g"
  run_astro schema infer "data/$g.parquet" --pandera
  assert_eq "$RC" "0" "$g: schema infer: $ERR"
  printf '%s\n' "$OUT" >s.yaml
  printf 'pipeline: p\ningest_files:\n  - name: x\n    source_pattern: "%s.parquet"\n    schema_file: s.yaml\n' "$g" >astro.yaml
  for t in 1 2; do
    rm -rf .working .astro
    run_astro -q ingest data --threads "$t"
    assert_eq "$RC" "0" "$g --threads $t: $ERR"
    cp .working/*/ingested/x.parquet "out$t.parquet"
  done
  node "$SAME" "data/$g.parquet" out1.parquet "data/$g.parquet" out2.parquet >same.out 2>&1 ||
    fail "$g: the output differs from the source: $(cat same.out)"
  assert_eq "$(grep -c '^same ' same.out)" "2" "$g: both outputs compared"
done
pass "Parquet values formatted on the validating threads: --threads 1 and 2 give the source's values"
