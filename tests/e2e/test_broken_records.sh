#!/usr/bin/env bash
# test_broken_records.sh - a quote that swallows rows never passes as "one bad row": an
# unterminated quote, a ragged record spanning several lines, and a record over max_record_lines
# fail the file whatever its bad-row threshold, in `ingest` and `validate`, with the lines the
# record spans; a record over the reader's size limit is a data failure (exit 1) reported like
# any other, not an environment error; an empty file's counts agree with its report.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p

write_config() { # extra keys for the ingest file
  cat > astro.yaml <<YAML
pipeline: broken
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.csv"
    max_bad_rows: 5
$1
    schema:
      columns:
        id: {dtype: int64}
        name: {dtype: str}
        note: {dtype: str, nullable: true}
YAML
}

newest_run() { ls -t .working | grep -E '^[a-z0-9]{5}$' | head -n 1; }
manifest() { jq_py ".working/$(newest_run)/manifest.json" "$1"; }

# rows FROM TO: data lines "i,name_i,note_i"
rows() { for i in $(seq "$1" "$2"); do echo "$i,name_$i,note $i"; done; }

check_broken() { # what check span_text
  [ "$RC" -eq 1 ] || fail "$1: expected exit 1, got $RC: $ERR"
  local run; run=$(newest_run)
  [ ! -e ".working/$run/ingested/t.parquet" ] || fail "$1: output written for a broken file"
  assert_eq "$(manifest 'd["files"][0]["status"]')" "failed" "$1: file failed"
  assert_contains "$(manifest 'd["files"][0]["reason"]')" "broken quoting" "$1: reason"
  grep -q "\"check\":\"$2\"" ".working/$run/errors/t.jsonl" || fail "$1: no $2 case"
  grep -qF "$3" ".working/$run/errors/t.jsonl" ||
    fail "$1: [$3] not in the report: $(cut -c1-400 ".working/$run/errors/t.jsonl")"
  assert_eq "$(manifest 'd["files"][0]["rows_read"] == d["files"][0]["rows_valid"] + d["files"][0]["rows_invalid"]')" \
    "True" "$1: rows_read = valid + invalid"
  "$ASTRO_BIN" validate data/t.csv --spec t >/dev/null 2>&1 && fail "$1: validate passed"
  [ $? -eq 1 ] || fail "$1: validate exit code"
}

# 1. The issue's case: 1,000 rows, line 4 opens a quote that never closes. The rest of the file is
#    one record; with max_bad_rows 5 it used to pass with 998 rows gone.
write_config ""
{ echo "id,name,note"; rows 1 2; echo '3,"open,x'; rows 4 1000; } > data/t.csv
run_astro ingest data
check_broken "unterminated quote" unterminated_quote "the last 998 lines of the file (4 to 1001)"
assert_eq "$(manifest 'd["files"][0]["rows_read"]')" "3" "unterminated: two rows then the broken record"

# 2. The quote closes 40 lines later, with more fields after it: a ragged record spanning 41
#    lines.
{ echo "id,name,note"; rows 1 2; echo '3,"open,x'; rows 4 42; echo 'close",a,b'; rows 44 100; } > data/t.csv
run_astro ingest data
check_broken "ragged multi-line record" field_count "spans 41 lines (4 to 44)"
# ... and with text after the closing quote (`x"y`), the field count happens to be right.
{ echo "id,name,note"; rows 1 2; echo '3,"open,x'; rows 4 12; echo 'x"y,tail'; rows 14 100; } > data/t.csv
run_astro ingest data
check_broken "multi-line record with a loose closing quote" record_lines "runs across 11 lines (4 to 14) and has text after its closing quote"

# 3. The quote closes cleanly in the same column 150 lines later: the field count is right, but
#    the record spans more than max_record_lines (default 20).
{ echo "id,name,note"; rows 1 2; echo '3,"open,x'; rows 4 152; echo '153,close",x'; rows 154 200; } > data/t.csv
run_astro ingest data
check_broken "record over max_record_lines" record_lines "spans 151 lines (4 to 154), more than max_record_lines (20)"
# ... and a lower limit catches a shorter one.
{ echo "id,name,note"; rows 1 2; echo '3,"open,x'; rows 4 12; echo '13,close",x'; rows 14 50; } > data/t.csv
write_config "    max_record_lines: 10"
run_astro ingest data
check_broken "max_record_lines: 10" record_lines "more than max_record_lines (10)"

# 4. Legitimate line breaks in quoted values still pass, and a one-line ragged row is still a
#    tolerable bad row.
write_config ""
{ echo "id,name,note"; rows 1 2; printf '3,"Flat 2\n12 High St\nLeeds",ok\n'; echo "4,short"; rows 5 10; } > data/t.csv
run_astro ingest data
[ "$RC" -eq 0 ] || fail "multi-line value: expected exit 0, got $RC: $ERR"
assert_eq "$(manifest '[d["files"][0]["rows_read"], d["files"][0]["rows_valid"], d["files"][0]["rows_invalid"]]')" \
  "[10, 9, 1]" "multi-line value and one ragged row: counts"
assert_eq "$(duck "SELECT name FROM read_parquet('.working/$(newest_run)/ingested/t.parquet') WHERE id = 3")" \
  '{"name":"Flat 2\n12 High St\nLeeds"}' "multi-line value kept byte for byte"

# 5. A record over the reader's 64 MiB limit: exit 1 (data), the file in the manifest, the case in
#    the report with its line; the rows before it are counted.
"$PY" - <<'PYEOF'
with open("data/t.csv", "w") as f:
    f.write("id,name,note\n1,a,b\n2,a,b\n")
    f.write('3,"' + "x" * (65 << 20) + '",b\n4,a,b\n')
PYEOF
run_astro ingest data --threads 2
[ "$RC" -eq 1 ] || fail "record over 64 MiB: expected exit 1 (data), got $RC: $ERR"
run=$(newest_run)
assert_eq "$(manifest '[d["status"], d["files"][0]["status"], d["files"][0]["rows_read"], d["files"][0]["failure_cases"]]')" \
  '["failed", "failed", 2, 1]' "record over 64 MiB: manifest"
grep -q '"line":4,.*"check":"record_length"' ".working/$run/errors/t.jsonl" || fail "record over 64 MiB: report: $(head -c 300 .working/$run/errors/t.jsonl)"
assert_contains "$(manifest 'd["files"][0]["reason"]')" "line 4: a record is longer than" "record over 64 MiB: reason"
"$ASTRO_BIN" validate data/t.csv --spec t >/dev/null 2>&1 && fail "record over 64 MiB: validate passed"
[ $? -eq 1 ] || fail "record over 64 MiB: validate exit code"

# 6. An empty file: one failure case, and the count says one.
: > data/t.csv
run_astro ingest data
[ "$RC" -eq 1 ] || fail "empty file: expected exit 1, got $RC"
assert_eq "$(manifest 'd["files"][0]["failure_cases"]')" "1" "empty file: failure_cases"
assert_eq "$(wc -l < ".working/$(newest_run)/errors/t.jsonl")" "1" "empty file: one case in the report"

pass "broken records fail the file whatever the threshold; size limit is a data failure"
