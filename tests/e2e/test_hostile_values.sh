#!/usr/bin/env bash
# test_hostile_values.sh - names and values that used to pass validation and then broke a reader
# or a load (issue 16, points 4, 5, 6, 15 and the quoting part of 17): `validate` and `ingest`
# give the same verdict (exit 1), with a failure case naming the line, and ingest records the file
# in the manifest and its errors report.
. "$(dirname "$0")/lib.sh"

cat > astro.yaml <<'YAML'
pipeline: hostile
ingest_files:
  - name: f
    source_pattern: "f.csv"
    schema:
      strict: false
      columns:
        id: {dtype: int64}
        code: {dtype: str, nullable: true}
  - name: p
    source_pattern: "p.csv"
    schema:
      columns:
        id: {dtype: int64}
        code: {dtype: str, checks: {str_matches: '^(a+)+(?=b)'}}
YAML
mkdir -p data

# both_fail WHAT CHECK LINE MESSAGE: data/f.csv fails `validate` and `ingest` alike (exit 1); the
# manifest lists the file as failed and its errors report holds CHECK on LINE with MESSAGE.
both_fail() {
  local what=$1 check=$2 line=$3 msg=$4
  run_astro validate data/f.csv --format json
  assert_eq "$RC" "1" "$what: validate exit code"
  assert_contains "$OUT" "\"check\":\"$check\"" "$what: validate names the check"
  assert_contains "$OUT" "\"line\":$line" "$what: validate names the line"
  rm -rf .working
  printf 'id,code\n1,aab\n' > data/p.csv
  run_astro ingest data
  assert_eq "$RC" "1" "$what: ingest exit code (a data failure, not a usage error)"
  local run
  run=$(only_run)
  assert_eq "$(jq_py .working/$run/manifest.json '[(f["name"], f["status"]) for f in d["files"]]')" \
    '[["f", "failed"], ["p", "ingested"]]' "$what: the manifest lists the file"
  local errs
  errs=$(cat .working/$run/errors/f.jsonl)
  assert_contains "$errs" "\"line\":$line" "$what: the errors report names the line"
  assert_contains "$errs" "\"check\":\"$check\"" "$what: the errors report names the check"
  assert_contains "$errs" "$msg" "$what: the message"
  [ ! -e .working/$run/ingested/f.parquet ] || fail "$what: no Parquet output for a failed file"
  pass "$what: validate and ingest fail it, line $line, check $check"
}

# 4. A header name that is not UTF-8 (DuckDB could not read the Parquet file, PostgreSQL refused
# the load).
printf 'id,code,b\xffname\n1,x,y\n' > data/f.csv
both_fail "invalid UTF-8 header name" encoding 1 "the name of column 3"

# 5. An empty header name (ingest used to exit 2 with no file named and an empty manifest).
printf 'id,,code\n1,x,y\n' > data/f.csv
both_fail "empty header name" column_name 1 "column 2 has an empty name"

# 6. A NUL byte in a str value (the PostgreSQL load used to fail on it), and a column name longer
# than PostgreSQL's 63 bytes (silently cut at the load).
printf 'id,code\n1,ok\n2,a\0b\n' > data/f.csv
both_fail "NUL byte in a str value" nul_byte 3 "the value holds a NUL byte (byte 2 of 3)"
long=$(printf 'n%.0s' $(seq 64))
printf 'id,code,%s\n1,x,y\n' "$long" > data/f.csv
both_fail "64-byte column name" column_name 1 "is 64 bytes long, more than 63"
printf 'id,code,%s\n1,x,y\n' "${long:1}" > data/f.csv
run_astro validate data/f.csv
assert_eq "$RC" "0" "a 63-byte name is fine"

# 17. `"p"q` on one line is read as `pq`: a warning, the row stays valid and the file passes.
printf 'id,code\n1,"p"q\n2,"ok"\n' > data/f.csv
run_astro validate data/f.csv --format json
assert_eq "$RC" "0" "loose quoting alone does not fail the file"
assert_contains "$OUT" '"rows_valid":2' "both rows valid"
assert_contains "$OUT" '"warnings":1' "one warning"
assert_contains "$OUT" '"check":"quoting","level":"warning","count":1,"examples":[{"line":2' \
  "the warning names its line"
pass "loose quoting is a warning"

# 15. A pattern PCRE2 must run that hits its match limit on a value: not "no match" but its own
# message, in bounded time; the other values are judged as usual.
printf 'id,code\n1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac\n2,aab\n3,c\n' > data/p.csv
start=$(date +%s)
run_astro validate data/p.csv
assert_eq "$RC" "1" "the limit hit fails its row"
rm -rf .working
printf 'id,code\n1,x\n' > data/f.csv
run_astro ingest data
[ $(($(date +%s) - start)) -lt 30 ] || fail "a value costs bounded time"
run=$(only_run)
errs=$(cat .working/$run/errors/p.jsonl)
assert_contains "$errs" "\"line\":2,\"column\":\"code\",\"check\":\"str_matches('^(a+)+(?=b)')\"" "line 2"
assert_contains "$errs" "hit PCRE2's match limit" "the message says the pattern hit the limit"
assert_contains "$errs" "\"line\":4,\"column\":\"code\",\"check\":\"str_matches('^(a+)+(?=b)')\",\"value\":\"c\",\"message\":\"'c' does not match" "line 4 is a plain non-match"
assert_not_contains "$errs" '"line":3' "aab matches"
pass "a PCRE2 limit hit is its own failure"

# The same for a regex column's pattern on a header name: a limit hit fails the header, naming the
# pattern, instead of leaving the name unclaimed (kept as an undeclared column) in silence.
mkdir -p rx/data
cat > rx/astro.yaml <<'YAML'
pipeline: rx
ingest_files:
  - name: r
    source_pattern: "r.csv"
    schema:
      strict: false
      columns:
        '(a+)+(?=b)[a-z]*': {dtype: str, regex: true, required: false}
YAML
printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac,aab\n1,2\n' > rx/data/r.csv
run_astro --config rx/astro.yaml validate rx/data/r.csv --format json
assert_eq "$RC" "1" "a pattern that hits the limit on a name fails the header"
assert_contains "$OUT" '"column":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac","check":"column_pattern"' \
  "the name and the check"
printf 'aab,ab\n1,2\n' > rx/data/r.csv
run_astro --config rx/astro.yaml validate rx/data/r.csv
assert_eq "$RC" "0" "names the pattern decides are matched as usual"
pass "a PCRE2 limit hit on a header name is its own failure"
