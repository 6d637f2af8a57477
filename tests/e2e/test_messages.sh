#!/usr/bin/env bash
# test_messages.sh - what a user reads when a delivery fails: the sentence that explains each
# failure ("expected 4 fields, found 2", "expected format '%Y/%m/%d'", "already seen at line 2")
# in the console summary of `astro ingest`, in `astro validate` (text and JSON) and in the
# failure-cases CSV, with the obvious hints (a null marker the spec does not declare, thousands
# separators, an upload still running); names with spaces quoted; and the progress bar's running
# count of failures (on a terminal, through script(1)).
. "$(dirname "$0")/lib.sh"

mkdir -p p && cd p
cat > astro.yaml <<'YAML'
pipeline: msgs
large_file_threshold_bytes: 1
ingest_files:
  - name: people
    source_pattern: "people*.csv"
    schema:
      columns:
        id: {dtype: int64, unique: true}
        "Full Name": {dtype: str, checks: {str_length: {max_value: 5}}}
        born: {dtype: date, format: "%Y/%m/%d", nullable: true}
        amount: {dtype: int64, nullable: true}
YAML
# A real-shaped export: a short record (line 5), an ISO date where the spec says %Y/%m/%d
# (line 3), a repeated id (line 4, first at line 2), 'N/A' and '-' for "no amount" (lines 3 and
# 6), a thousands separator (line 4), a name too long (line 6).
mkdir "in box"
cat > "in box/people.csv" <<'CSV'
id,Full Name,born,amount
1,Ann,2001/02/03,5
2,Bob,2001-02-03,N/A
1,Cy,2001/02/04,"3,779"
4,Dee
5,Eveline,2001/02/05,-
CSV

# --- the folder check: an upload still running, a name with a space ----------------------------
touch "in box/.people.csv.part" "in box/read me.txt"
run_astro ingest "in box"
assert_eq "$RC" "1" "folder check fails"
assert_contains "$ERR" "extra: .people.csv.part matches no ingest file's source_pattern; hint: an upload is still running?" "hidden .part file: hint"
assert_contains "$ERR" "extra: 'read me.txt' matches no ingest file's source_pattern" "a name with a space is quoted"
assert_not_contains "$ERR" "'read me.txt' matches no ingest file's source_pattern; hint" "no hint for a plain extra file"
assert_contains "$ERR" "/in box' does not hold exactly the expected files" "the folder's path is quoted"
rm "in box/.people.csv.part" "in box/read me.txt"
pass "folder check: hint for a .part file, names with spaces quoted"

# --- astro ingest: the console summary ---------------------------------------------------------
run_astro ingest "in box" --failure-cases csv
assert_eq "$RC" "1" "ingest of a bad file exits 1"
assert_contains "$ERR" "] validating '$PWD/in box/people.csv'" "the source path (with a space) is quoted"
assert_contains "$ERR" "    line 5: expected 4 fields, found 2" "field count sentence"
assert_contains "$ERR" "    line 3: '2001-02-03' is not a valid date (expected format '%Y/%m/%d')" "format sentence"
assert_contains "$ERR" "    line 4: '1' was already seen at line 2 (column 'id' is unique" "uniqueness sentence"
assert_contains "$ERR" "    line 3: 'N/A' is not a valid int64; hint: add 'N/A' to null_values" "null marker hint"
assert_contains "$ERR" "    line 6: '-' is not a valid int64; hint: add '-' to null_values" "dash hint"
assert_contains "$ERR" "    line 4: '3,779' is not a valid int64; hint: set thousands: ','" "thousands hint"
assert_contains "$ERR" "'Full Name'  str_length(None, 5)" "a column name with a space is quoted in the table"
assert_contains "$ERR" "    line 6: 'Eveline' has 7 characters; expected" "check sentence"
pass "ingest summary: each failure's sentence and hints"

# --- errors/*.jsonl and the failure-cases CSV ---------------------------------------------------
run=$(only_run)
"$PY" - ".working/$run/errors/people.jsonl" ".working/$run/errors/people.failure_cases.csv" <<'PY'
import csv, json, sys
cases = [json.loads(l) for l in open(sys.argv[1])]
hints = {(c["line"], c["value"]): c["hint"] for c in cases}
assert hints[(3, "N/A")] == "add 'N/A' to null_values", hints
assert hints[(4, "3,779")] == "set thousands: ','", hints
assert hints[(3, "2001-02-03")] is None, hints
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
assert list(rows[0].keys()) == ["schema_context", "column", "check", "check_number",
                                "failure_case", "index", "message", "hint"], rows[0].keys()
by = {(r["column"], r["failure_case"]): r for r in rows}
assert by[("", "")]["message"] == "expected 4 fields, found 2", by[("", "")]
assert by[("born", "2001-02-03")]["message"] == \
    "'2001-02-03' is not a valid date (expected format '%Y/%m/%d')"
assert by[("id", "1")]["message"].startswith("'1' was already seen at line 2")
assert by[("amount", "3,779")]["hint"] == "set thousands: ','"
assert by[("amount", "N/A")]["hint"] == "add 'N/A' to null_values"
assert by[("born", "2001-02-03")]["hint"] == ""
# The message of every case is the one errors/*.jsonl holds.
assert sorted(r["message"] for r in rows) == sorted(c["message"] for c in cases)
PY
pass "errors jsonl has the hint; the failure-cases CSV has message and hint columns"

# --- astro validate: text and JSON --------------------------------------------------------------
run_astro validate "in box/people.csv"
assert_eq "$RC" "1" "validate: invalid"
assert_contains "$OUT" "    line 5: expected 4 fields, found 2" "validate text: sentence"
assert_contains "$OUT" "    line 4: '3,779' is not a valid int64; hint: set thousands: ','" "validate text: hint"
assert_contains "$OUT" "INVALID: 'in box/people.csv' (spec people)" "validate: the file name is quoted"
run_astro validate "in box/people.csv" --format json
echo "$OUT" > v.json
assert_eq "$(jq_py v.json '[[x["line"], x["message"], x["hint"]] for c in d["checks"] if c["column"] == "amount" for x in c["examples"]]')" \
  "[[3, \"'N/A' is not a valid int64\", \"add 'N/A' to null_values\"], [4, \"'3,779' is not a valid int64\", \"set thousands: ','\"], [6, \"'-' is not a valid int64\", \"add '-' to null_values\"]]" \
  "validate json: message and hint per example"
assert_eq "$(jq_py v.json '[x["message"] for c in d["checks"] if c["check"] == "field_count" for x in c["examples"]]')" \
  '["expected 4 fields, found 2"]' "validate json: a row-level sentence"
run_astro validate "in box/people.csv" --failure-cases-file "cases of people.csv"
assert_contains "$ERR" "failure cases written to 'cases of people.csv'" "validate: the CSV's name is quoted"
run_astro ingest "no such box"
assert_eq "$RC" "3" "a source folder that does not exist"
assert_contains "$ERR" "source folder 'no such box': No such file or directory" "ingest: the folder's name is quoted"
pass "validate text and json: sentences and hints"

# --- the progress bar counts failures (on a terminal) --------------------------------------------
command -v script >/dev/null || fail "script(1) is not installed (util-linux)"
"$PY" -c "
import sys
w = sys.stdout.write
w('id,Full Name,born,amount\n')
for i in range(1, 3001):
    w('%d,n%d,2001/02/03,%s\n' % (i, i % 1000, 'N/A' if i % 100 == 0 else i))
" > "in box/people.csv"
TERM=dumb script -qec "'$ASTRO_BIN' ingest 'in box'" /dev/null > tty.txt || true
tr '\r' '\n' < tty.txt > tty_lines.txt
grep -q "^people \[##############################\] 100% .* 3000 rows (~3000)  30 failures  " tty_lines.txt ||
  fail "the final bar shows the 30 failures: $(cat tty_lines.txt)"
# Not on a terminal: no bar at all.
run_astro ingest "in box"
assert_not_contains "$ERR" "failures  " "no bar when stderr is not a terminal"
pass "progress bar: running count of failures"

# --- load steps show progress too (rows loaded / bytes, on a terminal only) ----------------------
cat >> astro.yaml <<'YAML'
targets:
  local: {kind: sqlite, path: out.db}
steps:
  - name: load_people
    load: {dataset: people, target: local, table: people, mode: append, create: true}
YAML
sed -i 's/    source_pattern: "people\*.csv"/    source_pattern: "people*.csv"\n    max_bad_rows: 30/' astro.yaml
run_astro ingest "in box"
assert_eq "$RC" "0" "30 bad rows within max_bad_rows: $ERR"
TERM=dumb script -qec "'$ASTRO_BIN' run" /dev/null > tty_run.txt || true
tr '\r' '\n' < tty_run.txt > tty_run_lines.txt
grep -q "^load_people \[##############################\] 100% 2970/2970 rows  [0-9.]* KB/[0-9.]* KB  .* rows/s  ETA 0:00:00" tty_run_lines.txt ||
  fail "the load's final bar: $(cat tty_run_lines.txt)"
assert_eq "$(sqlq out.db 'SELECT count(*) FROM people')" "2970" "the rows were loaded"
# Not on a terminal: no bar, and the run log never holds one.
run_astro ingest "in box"
run_astro run
assert_eq "$RC" "0" "second run: $ERR"
assert_not_contains "$ERR" "rows/s" "no load bar when stderr is not a terminal"
if grep -q "rows/s" .working/*/astro.log; then fail "a bar reached astro.log"; fi
pass "load progress on a terminal"
