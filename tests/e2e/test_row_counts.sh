#!/usr/bin/env bash
# test_row_counts.sh - issue 14: a file cut at a record boundary parses cleanly, so only its row
# count can tell. `min_rows` fails a file with fewer data rows (ingest and validate, exit 1, check
# min_rows); a file with fewer than half the rows of the last delivery of its spec that passed
# (stats.db) is a warning (row_count_drop: warn, the default: the file passes, the warning is on
# the console, in errors/NAME.jsonl and counted in the manifest), a failure with
# row_count_drop: fail, and nothing with off. A failed delivery is never the baseline.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
orders() { # N -> data/orders.csv with N rows (a register export, one record per line)
  { echo "order_id,customer,amount"; seq 1 "$1" | awk '{printf "%d,C%04d,%d.%02d\n", $1, $1 % 97, $1 % 500, $1 % 100}'; } > data/orders.csv
}
config() { # extra keys of the ingest file
  cat > astro.yaml <<YAML
pipeline: rowcounts
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
$1
    schema:
      columns:
        order_id: {dtype: int64, unique: true}
        customer: {dtype: str}
        amount: {dtype: "decimal(10,2)"}
YAML
}
last_run() { ls -t .working | grep -E '^[a-z0-9]{5}$' | head -1; }

config "    min_rows: 100"
orders 1000
run_astro ingest data
[ "$RC" -eq 0 ] || fail "the full delivery: $ERR"
first=$OUT

# The next delivery was cut after 300 records: a warning by default.
head -n 301 data/orders.csv > cut.csv && cp cut.csv data/orders.csv
run_astro ingest data
assert_eq "$RC" "0" "a short file passes with a warning by default ($ERR)"
run=$OUT
assert_contains "$ERR" "WARN  [orders] 300 data row(s), fewer than half of the 1000 of the last delivery of 'orders' that passed (run $first): the file may be cut short (a warning: row_count_drop: fail makes it a failure)" \
  "the console says why"
line=$(cat .working/$run/errors/orders.jsonl)
assert_contains "$line" '"check":"row_count_drop"' "the errors report holds it"
assert_contains "$line" '"level":"warning"' "as a warning"
assert_eq "$(jq_py .working/$run/manifest.json 'd["files"][0]["warnings"]')" "1" "the manifest counts it"
assert_eq "$(duck "SELECT count(*) AS n FROM '.working/$run/ingested/orders.parquet'")" '{"n":"300"}' "the rows are written"
pass "row_count_drop: warn (default)"

# With fail the same file fails; the baseline is now the 300-row delivery, so cut further.
config "    min_rows: 100
    row_count_drop: fail"
head -n 121 data/orders.csv > data/o && mv data/o data/orders.csv
run_astro ingest data
assert_eq "$RC" "1" "row_count_drop: fail fails a file under half of the last delivery"
run=$(last_run)
assert_contains "$ERR" "120 data row(s), fewer than half of the 300 of the last delivery of 'orders' that passed (run " \
  "the reason"
assert_contains "$(cat .working/$run/errors/orders.jsonl)" '"level":"error"' "an error"
[ ! -e .working/$run/ingested/orders.parquet ] || fail "no output for a failed file"
assert_eq "$(jq_py .working/$run/manifest.json 'd["files"][0]["status"]')" "failed" "manifest: failed"
# The failed delivery is not the baseline: the same file fails again.
run_astro ingest data
assert_eq "$RC" "1" "a failed delivery never becomes the baseline"
config "    row_count_drop: off"
run_astro ingest data
assert_eq "$RC" "0" "row_count_drop: off compares nothing"
assert_not_contains "$ERR" "fewer than half" "no warning with off"
pass "row_count_drop: fail and off"

# min_rows, in ingest and validate.
config "    min_rows: 500"
run_astro ingest data
assert_eq "$RC" "1" "fewer than min_rows fails the file"
run=$(last_run)
assert_contains "$(cat .working/$run/errors/orders.jsonl)" '"check":"min_rows","value":null,"message":"120 data row(s), fewer than min_rows: 500: the file may be cut short"' \
  "check min_rows with the counts"
run_astro validate data/orders.csv
assert_eq "$RC" "1" "astro validate applies min_rows"
assert_contains "$OUT$ERR" "min_rows" "validate names the check"
orders 500
run_astro validate data/orders.csv
assert_eq "$RC" "0" "exactly min_rows rows pass"
config "    min_rows: -1"
run_astro validate data/orders.csv
assert_eq "$RC" "2" "a negative min_rows is a config error"
assert_contains "$ERR" "ingest_files[0].min_rows: expected an integer >= 0" "names the key"
config "    row_count_drop: maybe"
run_astro validate data/orders.csv
assert_eq "$RC" "2" "an unknown row_count_drop"
assert_contains "$ERR" "warn, fail or off" "lists the words"
pass "min_rows"
