#!/usr/bin/env bash
# test_ingest.sh - `astro ingest` end to end: the happy path read back with DuckDB, stats.db and
# manifest contents, the log, failing rows with their physical lines, folder mismatches, config
# errors, serial mode and concurrent starts.
. "$(dirname "$0")/lib.sh"

mkdir -p proj/data && cd proj
cat > astro.yaml <<'YAML'
pipeline: shop
execution_mode: serial
ingest_files:
  - name: orders
    source_pattern: "orders_*.csv"
    schema:
      strict: true
      columns:
        order_id: {dtype: int64, nullable: false, unique: true}
        customer: {dtype: str, nullable: true}
        amount: {dtype: "decimal(12,2)", nullable: false, checks: {greater_than: 0}}
        order_date: {dtype: date, nullable: false}
        status: {dtype: str, checks: {isin: [new, paid, shipped]}}
        paid_at: {dtype: "datetime64[ns, UTC]", nullable: true}
        qty: {dtype: int16, nullable: true, checks: {in_range: {min_value: 0, max_value: 1000}}}
        rate: {dtype: float64, nullable: true}
        active: {dtype: bool, nullable: true}
        note: {dtype: str, nullable: true}
  - name: customers
    source_pattern: "customers.csv"
    encoding: windows-1252
    has_header: false
    column_names: [id, name, city]
    schema:
      columns:
        id: {dtype: int32}
        name: {dtype: str, checks: {str_length: {min_value: 1, max_value: 50}}}
        city: {dtype: str, nullable: true}
YAML
# CRLF records, a quoted comma, a quoted CRLF line break, a doubled quote, unquoted vs quoted
# empty fields, non-ASCII text, a last record without a line break.
printf 'order_id,customer,amount,order_date,status,paid_at,qty,rate,active,note\r\n' > data/orders_1.csv
printf '1,"Smith, Jane",12.50,2026-01-31,paid,2026-01-31T10:15:30.123456Z,3,0.5,true,"multi\r\nline"\r\n' >> data/orders_1.csv
printf '2,,0.01,2024-02-29,new,,0,,false,""\r\n' >> data/orders_1.csv
printf '3,"O""Brien",99999999.99,1969-12-31,shipped,2026-03-01 00:00:00+02:00,1000,-1e10,,h\xc3\xa9llo \xe2\x9c\x93' >> data/orders_1.csv
# windows-1252, no header: e-diaeresis 0xEB, e-acute 0xE9, pound sign 0xA3
printf '1,Zo\xeb,Montr\xe9al\n2,"Ann ""The"" Best",\n3,\xa3 Shop,London\n' > data/customers.csv

run_astro ingest data
[ "$RC" -eq 0 ] || fail "ingest exit $RC: $ERR"
run=$(only_run)
assert_eq "$OUT" "$run" "stdout is the run id"
pass "ingest succeeded as run $run"

m=.working/$run/manifest.json
assert_eq "$(jq_py $m 'd["status"]')" "ingested" "manifest status"
assert_eq "$(jq_py $m 'd["pipeline"]')" "shop" "manifest pipeline"
assert_eq "$(jq_py $m '[(f["name"], f["rows_read"], f["rows_valid"], f["rows_invalid"], f["status"]) for f in d["files"]]')" \
  '[["orders", 3, 3, 0, "ingested"], ["customers", 3, 3, 0, "ingested"]]' "manifest file counts"
sha=$(sha256sum data/orders_1.csv | cut -d' ' -f1)
assert_eq "$(jq_py $m 'd["files"][0]["sha256"]')" "$sha" "manifest sha256"
assert_eq "$(jq_py $m 'len(d["files"][0]["schema_fingerprint"])')" "64" "schema fingerprint"
pass "manifest"

pq=.working/$run/ingested/orders.parquet
[ -f "$pq" ] || fail "no $pq"
[ ! -e .working/$run/errors/orders.jsonl ] || fail "an errors file for a valid file"
ls -A .working/$run/ingested | grep -q '\.tmp$' && fail "temp files left behind"
assert_eq "$(duck "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('$pq'))" | tr -d '\n')" \
'{"column_name":"order_id","column_type":"BIGINT"}{"column_name":"customer","column_type":"VARCHAR"}{"column_name":"amount","column_type":"DECIMAL(12,2)"}{"column_name":"order_date","column_type":"DATE"}{"column_name":"status","column_type":"VARCHAR"}{"column_name":"paid_at","column_type":"TIMESTAMP WITH TIME ZONE"}{"column_name":"qty","column_type":"SMALLINT"}{"column_name":"rate","column_type":"DOUBLE"}{"column_name":"active","column_type":"BOOLEAN"}{"column_name":"note","column_type":"VARCHAR"}' \
  "DuckDB sees the declared types"
assert_eq "$(duck "SELECT order_id, customer, amount, order_date, status, epoch_us(paid_at) AS us, qty, rate, active, note FROM read_parquet('$pq') ORDER BY order_id" | tr -d '\n')" \
'{"order_id":"1","customer":"Smith, Jane","amount":"12.50","order_date":"2026-01-31","status":"paid","us":"1769854530123456","qty":3,"rate":0.5,"active":true,"note":"multi\r\nline"}{"order_id":"2","customer":null,"amount":"0.01","order_date":"2024-02-29","status":"new","us":null,"qty":0,"rate":null,"active":false,"note":""}{"order_id":"3","customer":"O\"Brien","amount":"99999999.99","order_date":"1969-12-31","status":"shipped","us":"1772316000000000","qty":1000,"rate":-10000000000,"active":null,"note":"héllo ✓"}' \
  "DuckDB reads the values back exactly"
assert_eq "$(duck "SELECT name, repetition_type FROM parquet_schema('$pq') WHERE name IN ('order_id','customer','status') ORDER BY name" | tr -d '\n')" \
  '{"name":"customer","repetition_type":"OPTIONAL"}{"name":"order_id","repetition_type":"REQUIRED"}{"name":"status","repetition_type":"REQUIRED"}' \
  "nullable decides REQUIRED/OPTIONAL"
assert_eq "$(duck "SELECT value FROM parquet_kv_metadata('$pq') WHERE key = 'astro.source_sha256'")" \
  "{\"value\":\"$sha\"}" "footer names the source sha256"
pass "orders.parquet read back with DuckDB"

cq=.working/$run/ingested/customers.parquet
assert_eq "$(duck "SELECT id, name, city FROM read_parquet('$cq') ORDER BY id" | tr -d '\n')" \
  '{"id":1,"name":"Zoë","city":"Montréal"}{"id":2,"name":"Ann \"The\" Best","city":null}{"id":3,"name":"£ Shop","city":"London"}' \
  "windows-1252 headerless file"
pass "customers.parquet (windows-1252, headerless)"

assert_eq "$(sqlq .astro/stats.db "SELECT run_id, pipeline, status FROM runs")" "$run|shop|ingested" "stats.db runs"
assert_eq "$(sqlq .astro/stats.db "SELECT name, rows_read, rows_valid, rows_invalid, sha256, size_bytes > 0, output_bytes > 0 FROM files ORDER BY name")" \
  "customers|3|3|0|$(sha256sum data/customers.csv | cut -d' ' -f1)|1|1
orders|3|3|0|$sha|1|1" "stats.db files"
pass "stats.db"

log=.working/$run/astro.log
assert_eq "$(sed -n 2p $log | sed -E 's/started: [^ ]+/started: T/')" "Astro session started: T command=ingest run_id=$run" "log separator"
assert_eq "$(sed -n 1p $log)" "================================================================================" "log rule"
grep -qE '^[0-9T:.+-]+ INFO  \[orders\] ' $log || fail "log lines carry time, level and file name"
pass "astro.log"

# Serial mode: the ingested run is not completed, so a new ingest is refused, naming it.
run_astro ingest data
assert_eq "$RC" "4" "serial mode refuses a second run"
assert_contains "$ERR" "$run (ingested)" "refusal names the open run"
assert_eq "$(ls .working | grep -cE '^[a-z0-9]{5}$')" "1" "no run created on refusal"
pass "serial mode refuses while a run is open"

# Parallel mode allows it.
sed -i 's/execution_mode: serial/execution_mode: parallel/' astro.yaml
run_astro ingest data
assert_eq "$RC" "0" "parallel mode allows a second run"
assert_eq "$(ls .working | grep -cE '^[a-z0-9]{5}$')" "2" "two runs"
pass "parallel mode"
cd ..

# ---- failing rows -------------------------------------------------------------------------
mkdir -p bad/data && cd bad
sed 's/execution_mode: serial/execution_mode: parallel/' ../proj/astro.yaml > astro.yaml
cp ../proj/data/customers.csv data/
cat > data/orders_2.csv <<'CSV'
order_id,customer,amount,order_date,status,paid_at,qty,rate,active,note
1,a,12.50,2026-01-31,paid,,3,,,
2,"b
c",-5,2026-02-30,lost,,,,,
1,d,1.00,2026-01-01,new,,,,,
4,e,1.00,2026-01-01,new,,x,,,
5,f,1.00
6,g,1.00,2026-01-01,new,,,,,
CSV
run_astro ingest data
assert_eq "$RC" "1" "invalid rows exit 1"
run=$(only_run)
m=.working/$run/manifest.json
assert_eq "$(jq_py $m 'd["status"]')" "failed" "failed run"
assert_eq "$(jq_py $m 'd["failed_phase"]')" "ingest" "failed phase"
assert_contains "$(jq_py $m 'd["reason"]')" "orders" "reason names the file"
assert_eq "$(jq_py $m '[[f["rows_read"], f["rows_valid"], f["rows_invalid"], f["status"], f["output"]] for f in d["files"] if f["name"] == "orders"][0]')" \
  '[6, 1, 5, "failed", null]' "counts add up: read = valid + invalid (both order_id 1 fail)"
[ ! -e .working/$run/ingested/orders.parquet ] || fail "output written for a failed file"
[ -e .working/$run/ingested/customers.parquet ] || fail "the valid file keeps its output"
ls -A .working/$run/ingested | grep -q '\.tmp$' && fail "temp files left behind"
errs=.working/$run/errors/orders.jsonl
cases=$("$PY" -c '
import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); print(d["line"], d["column"], d["check"].split("(")[0])
' $errs | sort)
assert_eq "$cases" "2 order_id field_uniqueness
3 amount greater_than
3 order_date coerce_dtype
3 status isin
5 order_id field_uniqueness
6 qty coerce_dtype
7 None field_count" "every failure case, with the physical line where its record starts"
assert_contains "$(sed -n 1p $errs)" '"file":' "jsonl names the file"
grep -q '"raw":"2,\\"b\\nc\\",-5' $errs || fail "jsonl keeps the raw record"
grep -q "'12x'\|'x'" $errs || grep -q '"value":"x"' $errs || fail "jsonl keeps the offending value"
assert_contains "$ERR" "line 3" "console summary shows examples with line numbers"
assert_contains "$ERR" "greater_than" "console summary names the check"
assert_eq "$(sqlq .astro/stats.db "SELECT status, rows_read, rows_valid, rows_invalid, failure_cases FROM files WHERE name='orders'")" \
  "failed|6|1|5|7" "stats.db counts of the failed file"
assert_eq "$(sqlq .astro/stats.db "SELECT status FROM runs")" "failed" "stats.db run status"
pass "failing rows are all reported, with physical lines, and nothing is written for the file"
cd ..

# ---- the folder must hold exactly the expected files ---------------------------------------
mkdir -p mismatch/data && cd mismatch
cp ../proj/astro.yaml .
cp ../proj/data/orders_1.csv data/orders_1.csv
cp ../proj/data/orders_1.csv data/orders_2.csv
touch data/stray.txt
mkdir data/archive
run_astro ingest data
assert_eq "$RC" "1" "folder mismatch exit 1"
assert_contains "$ERR" "missing: customers" "missing file named"
assert_contains "$ERR" "ambiguous: orders" "ambiguous match named"
assert_contains "$ERR" "extra: stray.txt" "extra file named"
assert_contains "$ERR" "archive/" "subfolder named"
[ ! -e .working ] || fail "nothing may be created when the folder is wrong"
[ ! -e .astro ] || fail "nothing may be created when the folder is wrong"
run_astro ingest no-such-folder
assert_eq "$RC" "3" "a missing source folder is an environment error"
pass "folder mismatches refused before any output"

# ---- configuration errors --------------------------------------------------------------------
sed -i 's/nullable: false, unique: true/nulable: false, unique: true/' astro.yaml
run_astro ingest data
assert_eq "$RC" "2" "config error exit 2"
assert_contains "$ERR" "astro.yaml:" "config error names the file"
assert_contains "$ERR" "nulable" "config error names the key"
assert_contains "$ERR" "nullable" "config error suggests the known key"
run_astro --config missing.yaml ingest data
assert_eq "$RC" "2" "a missing config file is a usage error (issue 16)"
run_astro ingest
assert_eq "$RC" "2" "usage error"
run_astro frobnicate
assert_eq "$RC" "2" "unknown command"
pass "configuration and usage errors"
cd ..

# ---- two ingests started at the same moment in serial mode create one run --------------------
mkdir -p race/data && cd race
cp ../proj/data/* data/
sed 's/execution_mode: parallel/execution_mode: serial/' ../proj/astro.yaml > astro.yaml
grep -q 'execution_mode: serial' astro.yaml || fail "race test needs serial mode"
set +e
"$ASTRO_BIN" -q ingest data >o1 2>e1 & p1=$!
"$ASTRO_BIN" -q ingest data >o2 2>e2 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
set -e
[ "$(printf "%s\n" $r1 $r2 | sort | tr "\n" " ")" = "0 4 " ] || fail "one run must succeed and the other be refused; got $r1 and $r2: $(cat e1 e2)"
assert_eq "$(ls .working | grep -cE '^[a-z0-9]{5}$')" "1" "exactly one run folder"
pass "concurrent serial ingests create one run"
