#!/usr/bin/env bash
# test_thresholds.sh - max_bad_rows / max_bad_row_fraction on both sides of the boundary: under it
# the file passes with its failing rows left out (and reported), over it nothing is written.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
# 10 rows; rows with id 3 and 7 are bad (lines 4 and 8).
{
  echo "id,amount"
  for i in $(seq 1 10); do
    case $i in 3) echo "3,abc" ;; 7) echo "7,-1" ;; *) echo "$i,$i.50" ;; esac
  done
} > data/t.csv

write_config() { # extra keys for the ingest file [extra schema keys] [extra keys of amount]
  cat > astro.yaml <<YAML
pipeline: thresholds
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.csv"
$1
    schema:
${2:-}
      columns:
        id: {dtype: int32}
        amount: {dtype: "decimal(6,2)", checks: {ge: 0}${3:-}}
YAML
}

newest_run() { ls -t .working | grep -E '^[a-z0-9]{5}$' | head -n 1; }

check_pass() { # what
  [ "$RC" -eq 0 ] || fail "$1: expected exit 0, got $RC: $ERR"
  local run; run=$(newest_run)
  assert_eq "$(duck "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) AS ids FROM read_parquet('.working/$run/ingested/t.parquet')")" \
    '{"ids":"1,2,4,5,6,8,9,10"}' "$1: failing rows left out, the others kept"
  assert_eq "$(jq_py .working/$run/manifest.json '[d["status"], d["files"][0]["rows_read"], d["files"][0]["rows_valid"], d["files"][0]["rows_invalid"]]')" \
    '["ingested", 10, 8, 2]' "$1: counts"
  assert_eq "$(wc -l < .working/$run/errors/t.jsonl)" "2" "$1: failing rows reported"
  assert_contains "$ERR" "2 invalid row(s) left out" "$1: console says rows were left out"
}
check_fail() {
  [ "$RC" -eq 1 ] || fail "$1: expected exit 1, got $RC"
  local run; run=$(newest_run)
  [ ! -e .working/$run/ingested/t.parquet ] || fail "$1: output written over the threshold"
  assert_eq "$(jq_py .working/$run/manifest.json 'd["status"]')" "failed" "$1: run failed"
  assert_contains "$(jq_py .working/$run/manifest.json 'd["files"][0]["reason"]')" "over the bad-row threshold" "$1: reason"
}

write_config "    max_bad_rows: 2"; run_astro ingest data; check_pass "max_bad_rows 2 with 2 bad rows"
write_config "    max_bad_rows: 1"; run_astro ingest data; check_fail "max_bad_rows 1 with 2 bad rows"
write_config "    max_bad_row_fraction: 0.2"; run_astro ingest data; check_pass "fraction 0.2 of 10 rows"
write_config "    max_bad_row_fraction: 0.19"; run_astro ingest data; check_fail "fraction 0.19 of 10 rows"
# Both set: the stricter applies.
write_config "    max_bad_rows: 5
    max_bad_row_fraction: 0.1"; run_astro ingest data; check_fail "both set, fraction stricter"
# Default: any failure fails the file.
write_config ""; run_astro ingest data
[ "$RC" -eq 1 ] || fail "default threshold: expected exit 1"
pass "thresholds on both sides of the boundary"

# Pandera's drop_invalid_rows: true (frame or column): the invalid rows are dropped and reported,
# the file passes, unless astro.yaml states a threshold of its own.
write_config "" "      drop_invalid_rows: true"; run_astro ingest data
check_pass "drop_invalid_rows: true on the frame"
assert_contains "$ERR" "(the schema's drop_invalid_rows)" "the console says why rows were left out"
run_astro validate data/t.csv --format json
assert_eq "$RC" "0" "validate: drop_invalid_rows passes the file"
assert_contains "$OUT" '"rows_invalid":2,' "validate: the dropped rows are counted"
assert_contains "$OUT" '"allowed_bad_rows":null,' "validate: no bad-row limit"
run_astro validate data/t.csv
assert_contains "$OUT" "2 invalid row(s) are dropped (the schema's drop_invalid_rows)" "validate text"
write_config "" "" ", drop_invalid_rows: true"; run_astro ingest data
check_pass "drop_invalid_rows: true on a column"
write_config "" "      drop_invalid_rows: false"; run_astro ingest data
[ "$RC" -eq 1 ] || fail "drop_invalid_rows: false: expected exit 1"
write_config "    max_bad_rows: 1" "      drop_invalid_rows: true"; run_astro ingest data
check_fail "drop_invalid_rows with astro.yaml's max_bad_rows 1 and 2 bad rows"
pass "drop_invalid_rows"

# A header problem fails the file whatever the threshold.
echo "id,amount,extra" > data/t.csv; echo "1,1.00,x" >> data/t.csv
sed -i 's/      columns:/      strict: true\n      columns:/' astro.yaml
write_config "    max_bad_rows: 100"
sed -i 's/    schema:/    schema:\n      strict: true/' astro.yaml
run_astro ingest data
[ "$RC" -eq 1 ] || fail "a header failure must fail the file whatever the threshold (exit $RC)"
assert_contains "$ERR" "column_in_schema" "the unexpected column is named"
pass "header failures ignore thresholds"
