#!/usr/bin/env bash
# test_threads.sh - the file pool (src/ingest/engine.c) gives the same results with any number of
# threads: the same Parquet rows in the same order, the same failure cases in the same order with
# the same lines and row numbers, the same counts and verdicts, the same fail-fast stop; the
# checks that span blocks (unique, unique_values_eq) see the whole file.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
cat > astro.yaml <<'YAML'
pipeline: threads
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.csv"
    max_bad_rows: 5000
    schema:
      columns:
        id: {dtype: int64, unique: true}
        name: {dtype: str}
        amount:
          dtype: "decimal(10,2)"
          checks: {greater_than: 0}
        day: {dtype: date}
        grade:
          dtype: str
          checks:
            - value: [x, y, z]
              options: {check_name: unique_values_eq, raise_warning: true}
        note:
          dtype: str
          nullable: true
          checks:
            - max_value: 20
              options: {check_name: str_length, raise_warning: true}
YAML
# 60,000 records (7 blocks and more), some spanning lines (quoted line breaks), with bad values,
# repeated ids, a short record, and grade values y and z that occur once each, in the first and
# the last block, and w (outside the list) in two middle blocks.
"$PY" - <<'PYEOF'
import random
random.seed(7)
rows = ["id,name,amount,day,grade,note"]
for i in range(1, 60001):
    name = f"name {i}"
    if i % 97 == 0:
        name = f'"multi\nline, {i}"'
    elif i % 13 == 0:
        name = f'"quoted, ""{i}"""'
    amount = f"{(i * 37) % 100000 / 100:.2f}"
    if i % 1000 == 0:
        amount = "$12.00"
    if amount == "0.00":
        amount = "1.00"
    day = f"2024-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}"
    if i % 1777 == 0:
        day = "2024-02-30"
    grade = "x"
    if i == 5:
        grade = "y"
    if i == 59990:
        grade = "z"
    if i in (20000, 45000):
        grade = "w"
    note = "" if i % 3 else ("n" * (i % 25))
    rid = i if i % 1500 else i - 1
    rec = f"{rid},{name},{amount},{day},{grade},{note}"
    if i == 30000:
        rec = f"{rid},{name},{amount}"
    rows.append(rec)
open("data/t.csv", "w").write("\n".join(rows) + "\n")
PYEOF

for n in 1 2 3 7; do
  rm -rf .working
  run_astro ingest data --threads $n --failure-cases csv
  [ "$RC" -eq 0 ] || fail "ingest --threads $n: exit $RC: $ERR"
  run=$(only_run)
  cp ".working/$run/errors/t.jsonl" "errors.$n.jsonl"
  cp ".working/$run/errors/t.failure_cases.csv" "cases.$n.csv"
  jq_py ".working/$run/manifest.json" \
    '[(f["rows_read"], f["rows_valid"], f["rows_invalid"]) for f in d["files"]]' > "counts.$n"
  duck "COPY (SELECT * FROM read_parquet('.working/$run/ingested/t.parquet')) TO 'rows.$n.csv' (HEADER false)" >/dev/null
done
# The expected counts, independently of astro: bad amounts every 1000th row (60), impossible
# dates every 1777th (33, none on a multiple of 1000... checked below), repeated ids every 1500th
# (40, 20 of them also on a multiple of 1000 or 1777) and the row before each (a unique column
# fails every occurrence; not the one before the short record, whose id is not checked), the
# short record.
expect=$("$PY" - <<'PYEOF'
bad = set()
for i in range(1, 60001):
    if i % 1000 == 0 or i % 1777 == 0 or i % 1500 == 0 or i == 30000:
        bad.add(i)
    if i % 1500 == 0 and i != 30000:
        bad.add(i - 1)
print(f'[[60000, {60000 - len(bad)}, {len(bad)}]]')
PYEOF
)
assert_eq "$(cat counts.1)" "$expect" "counts with one thread"
for n in 2 3 7; do
  cmp -s errors.1.jsonl "errors.$n.jsonl" || fail "errors/t.jsonl differs with --threads $n: $(diff errors.1.jsonl errors.$n.jsonl | head -5)"
  cmp -s cases.1.csv "cases.$n.csv" || fail "failure_cases.csv differs with --threads $n"
  cmp -s rows.1.csv "rows.$n.csv" || fail "Parquet rows differ with --threads $n"
  assert_eq "$(cat counts.$n)" "$expect" "counts with --threads $n"
done
nrec=$("$PY" -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))))' rows.1.csv)
assert_eq "$nrec" "$(( 60000 - $(echo "$expect" | tr -d '[]' | cut -d, -f3) ))" "valid rows written"
# Lines are physical lines: every 97th record spans two.
line=$(grep -m1 '"value": "2024-02-30"\|"value":"2024-02-30"' errors.1.jsonl | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())["line"])')
assert_eq "$line" "$(( 1777 + 1 + 1777 / 97 ))" "line of the first impossible date"
# unique_values_eq spans blocks: y (first block) and z (last) are seen, w is reported at its
# first line whatever thread saw it.
uv=$(grep unique_values_eq errors.1.jsonl)
assert_not_contains "$uv" "missing" "every listed grade was seen"
assert_contains "$uv" "found 'w' (first at line $(( 20000 + 1 + 20000 / 97 )))" "first value outside the list"
# 40 repeated ids, but the one on the short record (30000) is not checked: 39 pairs.
assert_eq "$(grep -c '"check": *"field_uniqueness"' errors.1.jsonl)" "78" "repeated ids across blocks"
pass "ingest: identical results with 1, 2, 3 and 7 threads"

for n in 1 2 5; do
  run_astro validate data/t.csv --format json --threads $n
  [ "$RC" -eq 0 ] || fail "validate --threads $n: exit $RC: $ERR"
  echo "$OUT" > "validate.$n.json"
  run_astro validate data/t.csv --fail-fast --threads $n
  [ "$RC" -eq 1 ] || fail "validate --fail-fast --threads $n: exit $RC"
  echo "$OUT" > "ff.$n.txt"
done
for n in 2 5; do
  cmp -s validate.1.json "validate.$n.json" || fail "validate report differs with --threads $n"
  cmp -s ff.1.txt "ff.$n.txt" || fail "--fail-fast report differs with --threads $n: $(diff ff.1.txt ff.$n.txt | head)"
done
assert_contains "$(cat ff.1.txt)" "line 1011:" "fail-fast stops at the first bad row (record 1000 is on line 1011)"
pass "validate and --fail-fast: identical reports with 1, 2 and 5 threads"

run_astro validate data/t.csv --threads 0
assert_eq "$RC" "2" "--threads 0 is a usage error"
run_astro ingest data --threads x
assert_eq "$RC" "2" "--threads x is a usage error"
assert_contains "$ERR" "--threads takes a whole number" "the message says what --threads takes"
pass "--threads values"

# windows-1252 through iconv's byte table: bytes the encoding rejects (0x81) sit in many blocks;
# each must be reported on its own line and column whatever the thread count, and report_duplicates
# all (a key pre-pass) gives the same cases too.
cat > astro.yaml <<'YAML'
pipeline: threads
execution_mode: parallel
ingest_files:
  - name: w
    source_pattern: "w.csv"
    encoding: windows-1252
    max_bad_rows: 1000
    schema:
      report_duplicates: all
      columns:
        id: {dtype: int64, unique: true}
        name: {dtype: str}
YAML
rm -f data/t.csv
"$PY" - <<'PYEOF'
out = bytearray(b"id,name\n")
for i in range(1, 40001):
    name = "caf\xe9 %d" % i
    raw = name.encode("cp1252")
    if i % 2500 == 0:
        raw = b"bad \x81 byte"
    rid = i if i % 3001 else 7
    out += b"%d,%s\n" % (rid, raw)
open("data/w.csv", "wb").write(bytes(out))
PYEOF
for n in 1 3; do
  rm -rf .working
  run_astro ingest data --threads $n
  [ "$RC" -eq 0 ] || fail "windows-1252 ingest --threads $n: exit $RC: $ERR"
  run=$(only_run)
  cp ".working/$run/errors/w.jsonl" "w.errors.$n"
  duck "COPY (SELECT * FROM read_parquet('.working/$run/ingested/w.parquet')) TO 'w.rows.$n.csv' (HEADER false)" >/dev/null
done
cmp -s w.errors.1 w.errors.3 || fail "windows-1252 errors differ with --threads 3: $(diff w.errors.1 w.errors.3 | head -5)"
cmp -s w.rows.1.csv w.rows.3.csv || fail "windows-1252 rows differ with --threads 3"
lines=$(grep '"check": *"encoding"' w.errors.1 | "$PY" -c 'import json,sys; print(" ".join(str(json.loads(l)["line"]) for l in sys.stdin))')
assert_eq "$lines" "$(seq 2501 2500 40001 | tr '\n' ' ' | sed 's/ $//')" "lines of the rejected bytes"
# id 7 appears 14 times (row 7 and every 3001st): report_duplicates all fails all 14.
assert_eq "$(grep -c '"check": *"field_uniqueness"' w.errors.1)" "14" "report_duplicates: all with a pre-pass"
assert_eq "$(grep -c '^1,café 1$' w.rows.1.csv)" "1" "windows-1252 text decoded"
pass "windows-1252 and report_duplicates: all: identical with 1 and 3 threads"
