#!/usr/bin/env bash
# test_century_pivot.sh - issue 14, "two-digit years are read silently wrong": a comic-character
# wiki export whose first appearances are written "Aug-62". A %y format without century_pivot is
# refused at config time with the fix; with century_pivot: 30, Aug-62 is 1962 (not strptime's
# 2062) in the Parquet output (read back by DuckDB); a failure case shows the parsed value beside
# the raw one; check bounds are ISO 8601 whatever the input format, and a bound written in the
# input format is refused with its ISO spelling.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
cat > data/marvel.csv <<'CSV'
page_id,name,first_appearance
1678,Spider-Man (Peter Parker),Aug-62
7139,Captain America (Steven Rogers),Mar-41
64786,Wolverine (James \"Logan\" Howlett),Oct-74
1868,Iron Man (Anthony \"Tony\" Stark),Mar-63
2460,Thor (Thor Odinson),Nov-50
CSV
config() { # $1: extra keys of first_appearance, $2: its checks
  cat > astro.yaml <<YAML
pipeline: comics
execution_mode: parallel
ingest_files:
  - name: marvel
    source_pattern: "marvel.csv"
    schema:
      columns:
        page_id: {dtype: int64}
        name: {dtype: str}
        first_appearance: {dtype: date, format: "%b-%y"$1, checks: {le: "$2"}}
YAML
}

config "" "2014-12-31"
run_astro ingest data
assert_eq "$RC" "2" "a %y format without century_pivot is a config error"
assert_contains "$ERR" "format '%b-%y' uses %y, a two-digit year, which names no century: add century_pivot: N" \
  "the refusal says how to fix it"
[ ! -d .working ] || [ -z "$(ls .working | grep -E '^[a-z0-9]{5}$' || true)" ] || fail "no run is created"
run_astro validate data/marvel.csv
assert_eq "$RC" "2" "astro validate refuses it too"
pass "%y without century_pivot refused at config time"

config ", century_pivot: 30" "2014-12-31"
run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest with century_pivot: $ERR"
run=$OUT
assert_eq "$(duck "SELECT strftime(min(first_appearance), '%Y-%m-%d') AS lo, strftime(max(first_appearance), '%Y-%m-%d') AS hi FROM '.working/$run/ingested/marvel.parquet'")" \
  '{"lo":"1941-03-01","hi":"1974-10-01"}' "Aug-62 and friends are 19xx (DuckDB reads the Parquet)"
assert_eq "$(duck "SELECT strftime(first_appearance, '%Y-%m-%d') AS d FROM '.working/$run/ingested/marvel.parquet' WHERE page_id = 1678")" \
  '{"d":"1962-08-01"}' "Aug-62 is 1962-08-01"
pass "century_pivot: 30 reads Aug-62 as 1962"

# A future appearance: the failure case shows the raw text and the date it was read as.
printf '9999,Someone New,Jan-25\n' >> data/marvel.csv
run_astro ingest data
assert_eq "$RC" "1" "a date after the bound fails the file"
run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -1)
line=$(grep '"first_appearance"' .working/$run/errors/marvel.jsonl)
assert_contains "$line" "\"value\":\"Jan-25\"" "the raw value"
assert_contains "$line" "'Jan-25' is greater than '2014-12-31'; read as 2025-01-01 with format '%b-%y'" \
  "the parsed value beside the raw one"
assert_contains "$line" "\"line\":7" "the line"
pass "failure case: raw and parsed value"

# A bound written in the input format is refused, with its ISO spelling.
sed -i '$d' data/marvel.csv
config ", century_pivot: 30" "Dec-14"
run_astro validate data/marvel.csv
assert_eq "$RC" "2" "a bound in the input format is a config error"
assert_contains "$ERR" "'Dec-14' is written in the column's input format '%b-%y'; check values of date and datetime columns are ISO 8601: write '2014-12-01'" \
  "the ISO spelling is given"
config ", century_pivot: 30" "1962-08-01"
run_astro validate data/marvel.csv
assert_eq "$RC" "1" "an ISO bound applies whatever the input format ($OUT $ERR)"
assert_contains "$OUT$ERR" "Oct-74" "the failing value is shown"
pass "check bounds are ISO 8601"

# century_pivot without %y, or out of range.
sed -i 's/format: "%b-%y", century_pivot: 30/format: "%Y-%m-%d", century_pivot: 30/' astro.yaml
run_astro validate data/marvel.csv
assert_eq "$RC" "2" "century_pivot without %y"
assert_contains "$ERR" "century_pivot applies to a format with %y only" "named"
config ", century_pivot: 130" "2014-12-31"
run_astro validate data/marvel.csv
assert_eq "$RC" "2" "century_pivot out of range"
assert_contains "$ERR" "century_pivot must be 0 to 100" "range named"
pass "century_pivot checked"
