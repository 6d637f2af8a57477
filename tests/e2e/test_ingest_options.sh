#!/usr/bin/env bash
# test_ingest_options.sh - ingest options: --compression picks the Parquet codec, --log-format json
# writes one JSON object per line to the console and the run log, -q keeps the console to warnings,
# --help and --version answer.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
cat > astro.yaml <<'YAML'
pipeline: opts
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.csv"
    schema:
      columns:
        id: {dtype: int64}
        name: {dtype: str, nullable: true}
YAML
printf 'id,name\n1,a\n2,\n3,c\n' > data/t.csv

for codec in zstd snappy gzip none; do
  run_astro ingest data --compression $codec
  [ "$RC" -eq 0 ] || fail "--compression $codec: exit $RC: $ERR"
  expect=$(echo $codec | tr a-z A-Z); [ $codec = none ] && expect=UNCOMPRESSED
  got=$(duck "SELECT DISTINCT compression FROM parquet_metadata('.working/$OUT/ingested/t.parquet')")
  assert_eq "$got" "{\"compression\":\"$expect\"}" "--compression $codec"
  assert_eq "$(duck "SELECT count(*) AS n FROM read_parquet('.working/$OUT/ingested/t.parquet')")" '{"n":"3"}' "rows with $codec"
done
run_astro ingest data --compression lz77
assert_eq "$RC" "2" "unknown codec is a usage error"
for bad in zstd:0 zstd:23 zstd:-6 gzip:10 gzip:-1 snappy:3 zstd:x; do
  run_astro ingest data --compression $bad
  assert_eq "$RC" "2" "--compression $bad is a usage error"
done
# Levels change the bytes, never the values: a larger file at level 1 than at 19 on compressible
# data, both read back identically, with every thread setting.
seq 1 20000 | awk 'BEGIN{print "id,name"} {print $1 ",name number " ($1 % 50)}' > data/t.csv
sums=""
sizes=""
for opt in "zstd:1 --threads 1" "zstd:19 --threads 2" "gzip:9 --threads 2" "zstd:-5 --threads 2"; do
  run_astro ingest data --compression $opt
  [ "$RC" -eq 0 ] || fail "--compression $opt: $ERR"
  sums="$sums $(duck "SELECT count(*) AS n, sum(id) AS s, count(DISTINCT name) AS d FROM read_parquet('.working/$OUT/ingested/t.parquet')")"
  sizes="$sizes $(stat -c %s .working/$OUT/ingested/t.parquet)"
done
assert_eq "$sums" ' {"n":"20000","s":"200010000","d":"50"} {"n":"20000","s":"200010000","d":"50"} {"n":"20000","s":"200010000","d":"50"} {"n":"20000","s":"200010000","d":"50"}' "same values at every level and thread count"
set -- $sizes
[ "$1" -gt "$2" ] || fail "zstd level 19 ($2 bytes) should be smaller than level 1 ($1 bytes)"
# zstd's fast level -5 is a real level: a larger file than level 1's.
[ "$4" -gt "$1" ] || fail "zstd level -5 ($4 bytes) should be larger than level 1 ($1 bytes)"
printf 'id,name\n1,a\n2,\n3,c\n' > data/t.csv
pass "--compression"

run_astro --log-format json ingest data
[ "$RC" -eq 0 ] || fail "json logs: exit $RC"
"$PY" - "$T/.err" ".working/$OUT/astro.log" <<'PYEOF' || fail "json log lines"
import json, sys
console = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert console and all(set(d) == {"time", "level", "file", "msg"} for d in console), console
assert any(d["file"] == "t" and "rows valid" in d["msg"] for d in console), console
run_log = open(sys.argv[2]).read().splitlines()
assert run_log[1].startswith("Astro session started: "), run_log[:3]
body = [json.loads(l) for l in run_log[3:]]
assert body and all(d["level"] in ("INFO", "WARN", "ERROR", "DEBUG") for d in body), body
PYEOF
pass "--log-format json"

run_astro -q ingest data
[ "$RC" -eq 0 ] || fail "-q: exit $RC"
assert_eq "$ERR" "" "-q prints no info lines"
assert_eq "$(echo "$OUT" | grep -cE '^[a-z0-9]{5}$')" "1" "-q still prints the run id"
pass "-q"

run_astro --version; assert_eq "$OUT" "astro 0.1.0" "--version"
run_astro --help; assert_eq "$RC" "0" "--help"; assert_contains "$OUT" "ingest SOURCE_DIR" "--help lists ingest"
run_astro ingest --help; assert_eq "$RC" "0" "ingest --help"; assert_contains "$OUT" "usage: astro" "ingest --help"
pass "--help and --version"

# --failure-cases csv writes Pandera's failure_cases layout next to the jsonl; max_failure_cases
# caps the stored detail while the counts stay exact.
printf 'id,name\n1,a\nx,b\ny,c\nz,d\n' > data/t.csv
run_astro ingest data --failure-cases csv
assert_eq "$RC" "1" "bad rows fail the file"
run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -n 1)
assert_eq "$(cat .working/$run/errors/t.failure_cases.csv)" \
"schema_context,column,check,check_number,failure_case,index,message,hint
Column,id,coerce_dtype('int64'),,x,1,'x' is not a valid int64,
Column,id,coerce_dtype('int64'),,y,2,'y' is not a valid int64,
Column,id,coerce_dtype('int64'),,z,3,'z' is not a valid int64," "failure_cases CSV"
pass "--failure-cases csv"

sed -i 's/    source_pattern: "t.csv"/    source_pattern: "t.csv"\n    max_failure_cases: 2/' astro.yaml
run_astro ingest data
assert_eq "$RC" "1" "capped detail still fails the file"
run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -n 1)
assert_eq "$(wc -l < .working/$run/errors/t.jsonl)" "2" "jsonl capped at 2 cases"
assert_eq "$(jq_py .working/$run/manifest.json '[d["files"][0]["failure_cases"], d["files"][0]["rows_invalid"]]')" "[3, 3]" "counts stay exact"
assert_contains "$ERR" "capped at 2" "the console says the detail is capped"
pass "max_failure_cases"

# --fail-fast: each file stops at its first failing row (the cases of that row only).
printf 'id,name\n1,a\nx,b\ny,c\n' > data/t.csv
sed -i '/max_failure_cases/d' astro.yaml
run_astro ingest data --fail-fast
assert_eq "$RC" "1" "--fail-fast still fails the file"
run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -n 1)
assert_eq "$(wc -l < .working/$run/errors/t.jsonl)" "1" "--fail-fast stops at the first failing row"
assert_contains "$(cat .working/$run/errors/t.jsonl)" '"line":3' "the first failing row"
pass "--fail-fast"

# Every command answers --help with exit 0 and its usage.
for c in ingest validate "schema infer" run runs status; do
  run_astro $c --help
  assert_eq "$RC" "0" "astro $c --help"
  assert_contains "$OUT" "usage: astro" "astro $c --help prints its usage"
done
pass "--help on every command"

# format: csv is the default and may be stated; another format is refused at its line.
sed -i 's/    source_pattern: "t.csv"/    source_pattern: "t.csv"\n    format: csv/' astro.yaml
run_astro validate data/t.csv
assert_eq "$RC" "1" "format: csv accepted (the file still fails on its data)"
sed -i 's/    format: csv/    format: xml/' astro.yaml
run_astro ingest data
assert_eq "$RC" "2" "format: xml refused"
assert_contains "$ERR" "format 'xml' is not supported" "format refusal names the format"
sed -i '/    format: xml/d' astro.yaml
# A watch: block does not concern the other commands: they still work with it.
printf 'watch:\n  root: dropzone\n' >> astro.yaml
run_astro validate data/t.csv
assert_eq "$RC" "1" "validate with a watch block (the file still fails on its data)"
pass "format key; a watch block leaves the other commands alone"
