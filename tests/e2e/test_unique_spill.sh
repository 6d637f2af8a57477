#!/usr/bin/env bash
# test_unique_spill.sh - the unique check within --memory-limit (src/validate/unique.h): with the
# key sets in memory and spilled to disk (a 1M limit for 120,000 keys), with 1 to 7 threads, in
# every report_duplicates mode, `astro ingest` writes the same errors/*.jsonl (both lines named,
# in file order), the same failure_cases.csv, the same counts and verdict under a bad-row
# threshold, and the same Parquet rows; the spill leaves nothing behind in the run folder.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
write_yaml() { # report_duplicates mode ('' for the default)
  {
    cat <<'YAML'
pipeline: uspill
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.csv"
    max_bad_rows: 20000
    schema:
YAML
    [ -n "$1" ] && echo "      report_duplicates: $1"
    cat <<'YAML'
      unique: [region, code]
      columns:
        id: {dtype: int64, nullable: true, unique: true}
        email: {dtype: str, nullable: true, unique: true}
        amount: {dtype: "decimal(20,2)", nullable: true, unique: true}
        day: {dtype: date, nullable: true}
        region: {dtype: str, nullable: true}
        code: {dtype: int32, nullable: true}
YAML
  } > astro.yaml
}
# 60,000 rows, several blocks: ids repeated every 1500 rows (and "0042" == 42), emails repeated
# far apart (the first and the last block), amounts repeated with different spellings, nulls that
# take no part, bad dates that fail for their own reasons, and a frame key (region, code) that
# repeats every 7919 rows.
"$PY" - <<'PYEOF'
rows = ["id,email,amount,day,region,code"]
for i in range(1, 60001):
    rid = "" if i % 101 == 0 else str(i if i % 1500 else i - 1)
    if i == 50000:
        rid = "0042"
    email = "" if i % 89 == 0 else f"user{i % 59000}@example.org"
    amount = "" if i % 97 == 0 else f"{100000000000000 + i}.50"
    if i % 2003 == 0:
        amount = f"{100000000000000 + i - 1}.5"
    day = "2024-02-30" if i % 1777 == 0 else f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
    region = "" if i % 83 == 0 else f"r{i % 7919 if i > 7919 * 5 else i}"
    code = str(i % 7919 if i > 7919 * 5 else i)
    rows.append(f"{rid},{email},{amount},{day},{region},{code}")
open("data/t.csv", "w").write("\n".join(rows) + "\n")
PYEOF

ingest_case() { # tag threads limit
  rm -rf .working
  run_astro -v ingest data --threads "$2" --memory-limit "$3" --failure-cases csv
  echo "$RC" > "rc.$1"
  [ "$RC" -le 1 ] || fail "ingest $1: exit $RC: $ERR"
  echo "$ERR" > "log.$1"
  run=$(only_run)
  cp ".working/$run/errors/t.jsonl" "errors.$1.jsonl"
  cp ".working/$run/errors/t.failure_cases.csv" "cases.$1.csv"
  jq_py ".working/$run/manifest.json" \
    '[(f["status"], f["rows_read"], f["rows_valid"], f["rows_invalid"], f["failure_cases"]) for f in d["files"]]' > "counts.$1"
  if [ -f ".working/$run/ingested/t.parquet" ]; then
    duck "COPY (SELECT * FROM read_parquet('.working/$run/ingested/t.parquet')) TO 'rows.$1.csv' (HEADER false)" >/dev/null
  else
    echo none > "rows.$1.csv"
  fi
  ls -A ".working/$run" | sort | tr '\n' ' ' > "files.$1"
}

for mode in "" exclude_first all exclude_last; do
  write_yaml "$mode"
  ingest_case mem1 1 256M
  for n in 1 2 3 7; do
    ingest_case "disk$n" "$n" 1M
    cmp -s errors.mem1.jsonl "errors.disk$n.jsonl" ||
      fail "[$mode] errors differ spilled with --threads $n: $(diff errors.mem1.jsonl errors.disk$n.jsonl | head -4)"
    cmp -s cases.mem1.csv "cases.disk$n.csv" || fail "[$mode] failure_cases.csv differs spilled, --threads $n"
    cmp -s rows.mem1.csv "rows.disk$n.csv" || fail "[$mode] Parquet rows differ spilled, --threads $n"
    assert_eq "$(cat counts.disk$n)" "$(cat counts.mem1)" "[$mode] counts spilled, --threads $n"
    assert_eq "$(cat rc.disk$n)" "$(cat rc.mem1)" "[$mode] exit status spilled, --threads $n"
    assert_eq "$(cat files.disk$n)" "$(cat files.mem1)" "[$mode] the spill leaves no file in the run folder"
    assert_contains "$(cat log.disk$n)" "checked on disk" "[$mode] the log says the keys spilled"
  done
  for n in 4 5 6; do
    ingest_case "mem$n" "$n" 256M
    cmp -s errors.mem1.jsonl "errors.mem$n.jsonl" || fail "[$mode] errors differ in memory with --threads $n"
  done
  assert_not_contains "$(cat log.mem1)" "checked on disk" "[$mode] 256M holds the keys in memory"
  # In memory, a check the pre-pass would decide whole bets on keys that do not repeat; these
  # repeat, so the file runs again (engine.h: keys_optimistic) with the same result as spilled.
  if [ "$mode" = all ] || [ "$mode" = exclude_last ]; then
    assert_contains "$(cat log.mem1)" "a unique key repeats, or the keys outgrow --memory-limit: reading the keys first" "[$mode] the bet is lost: run again"
  else
    assert_not_contains "$(cat log.mem1)" "reading the keys first" "[$mode] a frame set kept to its first occurrence is probed in one pass"
  fi
  # Both lines are named, in file order.
  nuniq=$(grep -c '"check": *"field_uniqueness"' errors.mem1.jsonl || true)
  nframe=$(grep -c '"check": *"multiple_fields_uniqueness"' errors.mem1.jsonl || true)
  [ "$nuniq" -gt 100 ] || fail "[$mode] too few unique cases: $nuniq"
  [ "$nframe" -gt 100 ] || fail "[$mode] too few multiple_fields_uniqueness cases: $nframe"
  "$PY" - errors.mem1.jsonl <<'PYEOF' || fail "[$mode] cases out of file order"
import json, sys
lines = [json.loads(l)["line"] for l in open(sys.argv[1])]
assert lines == sorted(lines), "not in line order"
PYEOF
  pass "[${mode:-default}] identical cases, counts, verdict and rows in memory and spilled, 1-7 threads"
done

# The expected cases of the default mode, independently of astro: ids repeated every 1500 rows
# (the row before has the same id), "0042" after 42; line = row + 1. A unique column fails every
# occurrence (Pandera's Column(unique=True)), so both rows of each pair.
write_yaml ""
ingest_case mem1 2 256M
grep '"check": *"field_uniqueness"' errors.mem1.jsonl | grep '"column": *"id"' | "$PY" -c '
import json, sys
got = [json.loads(l)["line"] for l in sys.stdin]
want = sorted([l for i in range(1500, 60001, 1500) if i % 101 and (i - 1) % 101
               for l in (i, i + 1)] + [43, 50001])
assert got == want, (got[:5], want[:5])'  || fail "the repeated ids are not the expected lines"
assert_contains "$(grep -m1 '"value": *"0042"' errors.mem1.jsonl)" "was already seen at line 43" \
  "0042 names the line of 42"
assert_contains "$(grep '"line": *43,' errors.mem1.jsonl | grep -m1 '"column": *"id"')" "appears again, last at line 50001" \
  "42 names the line of its last repetition"
pass "the repeated ids are the expected lines (every occurrence), each naming the other end"

run_astro validate data/t.csv --memory-limit 1M --format json
echo "$OUT" > v.disk.json
run_astro validate data/t.csv --format json
echo "$OUT" > v.mem.json
cmp -s v.disk.json v.mem.json || fail "validate report differs spilled"
for n in 1 3; do
  run_astro validate data/t.csv --memory-limit 1M --fail-fast --threads $n
  echo "$OUT" > ff.disk.$n
  run_astro validate data/t.csv --fail-fast --threads $n
  echo "$OUT" > ff.mem.$n
  cmp -s ff.disk.$n ff.mem.$n || fail "--fail-fast report differs spilled, --threads $n: $(diff ff.mem.$n ff.disk.$n | head -4)"
done
assert_contains "$(cat ff.mem.1)" "line 2: 'user1@example.org'" "--fail-fast stops at the first row with a repeated value (user1 repeats at row 59001: every occurrence fails)"
TMPDIR=/nonexistent-astro-dir run_astro validate data/t.csv --memory-limit 1M
assert_eq "$RC" "3" "an unusable spill folder is an environment error"
assert_contains "$ERR" "/nonexistent-astro-dir" "the message names the folder"
run_astro validate data/t.csv --memory-limit 12
assert_eq "$RC" "2" "--memory-limit below 1M is a usage error"
assert_contains "$ERR" "--memory-limit takes a size" "the message says what it takes"
run_astro ingest data --memory-limit lots
assert_eq "$RC" "2" "--memory-limit lots is a usage error"
pass "validate spills the same way; bad --memory-limit values and spill folders"

# A file whose first records are long and the rest short: the estimate from the first block says
# 1M holds the keys, so the pre-pass starts in memory without counting the lines, outgrows the
# limit, and starts again spilled to disk (engine.c: prepass); the result is the in-memory one.
mkdir -p ../q/data && cd ../q
"$PY" - <<'PYEOF'
rows = ["id,pad"]
for i in range(1, 90001):
    pad = "x" * 3000 if i <= 600 else "y"
    rows.append(f"{i if i % 5000 else i - 1},{pad}")
open("data/t.csv", "w").write("\n".join(rows) + "\n")
PYEOF
cat > astro.yaml <<'YAML'
pipeline: uguard
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.csv"
    max_bad_rows: 20000
    schema:
      columns:
        id: {dtype: int64, unique: true}
        pad: {dtype: str}
YAML
for lim in 256M 1M; do
  for n in 1 3; do
    ingest_case "g$lim.$n" "$n" "$lim"
    cmp -s errors.g256M.1.jsonl "errors.g$lim.$n.jsonl" || fail "guarded pre-pass: errors differ ($lim, --threads $n)"
    cmp -s rows.g256M.1.csv "rows.g$lim.$n.csv" || fail "guarded pre-pass: Parquet rows differ ($lim, --threads $n)"
    assert_eq "$(cat counts.g$lim.$n)" "$(cat counts.g256M.1)" "guarded pre-pass: counts ($lim, --threads $n)"
  done
done
assert_contains "$(cat log.g1M.3)" "checked on disk" "the pre-pass that outgrew 1M spilled"
assert_not_contains "$(cat log.g256M.1)" "checked on disk" "256M holds the keys"
assert_eq "$(grep -c '"check": *"field_uniqueness"' errors.g1M.1.jsonl)" "36" "both rows of each of the 18 repeated ids"
pass "a pre-pass planned on a low estimate spills when the keys outgrow the limit, with the same result"
assert_contains "$(cat log.g256M.1)" "a unique key repeats, or the keys outgrow --memory-limit: reading the keys first" "the repeated ids send the file round again"

# Distinct keys that outgrow 1M, where the first records promised far fewer: the one-pass bet
# stops at the set's cap and the file runs again, spilled. 90000 int64 keys fit in 1M at the bet's
# 7-byte entries (unique.h: tagless) and not at 11 (so they used to be sent round again);
# 150000 do not fit even so.
distinct_rows() { # n [step]: ids step, 2 * step, ... (step 1: a sequence, which needs no set)
  "$PY" - "$1" "${2:-3}" <<'PYEOF'
import sys
n, step = int(sys.argv[1]), int(sys.argv[2])
rows = ["id,pad"] + [f"{i * step},{'x' * 3000 if i <= 600 else 'y'}" for i in range(1, n + 1)]
open("data/t.csv", "w").write("\n".join(rows) + "\n")
PYEOF
}
keys_run() { # threads limit: ingest, the counts into $COUNTS and the log in $ERR
  rm -rf .working
  run_astro -v ingest data --threads "$1" --memory-limit "$2"
  assert_eq "$RC" "0" "ingest of distinct keys (--threads $1, --memory-limit $2)"
  COUNTS=$(jq_py ".working/$(only_run)/manifest.json" \
    '[(f["status"], f["rows_read"], f["rows_valid"], f["rows_invalid"], f["failure_cases"]) for f in d["files"]]')
}
distinct_rows 90000
keys_run 2 1M
assert_eq "$COUNTS" '[["ingested", 90000, 90000, 0, 0]]' "distinct keys within the cap pass"
assert_not_contains "$ERR" "reading the keys first" "90000 keys at 7 bytes fit the bet's 1M"
# Records of one size (the plan estimates the rows from the first ones): 350000 int64 keys take
# about 3.3 MB at the bet's entry size and about 5 MB at the pre-pass's; under 4M the plan must
# judge them at the bet's size and take the bet (it used to spill them up front). Multiples of 3:
# a sequence would need no set.
"$PY" -c 'open("data/t.csv", "w").write("id,pad\n" + "".join(f"{3 * i},{chr(121) * (8 - len(str(3 * i)))}\n" for i in range(1, 350001)))'
keys_run 2 4M
assert_eq "$COUNTS" '[["ingested", 350000, 350000, 0, 0]]' "distinct keys of even records pass"
assert_not_contains "$ERR" "checked on disk" "350000 even keys are planned at the bet's size"
assert_not_contains "$ERR" "reading the keys first" "350000 even keys win the bet"
distinct_rows 150000
keys_run 2 1M
assert_eq "$COUNTS" '[["ingested", 150000, 150000, 0, 0]]' "distinct keys past the cap pass"
assert_contains "$ERR" "reading the keys first" "the cap stops the one-pass bet"
assert_contains "$ERR" "checked on disk" "then the keys spill"
# The same keys as one sequence (1, 2, 3, ...) need no set: the bet holds past the cap, at 1 and
# 2 threads (the commit and the partition groups follow the sequence), with the same result.
distinct_rows 150000 1
for t in 1 2; do
  keys_run "$t" 1M
  assert_eq "$COUNTS" '[["ingested", 150000, 150000, 0, 0]]' "a sequence of keys past the cap passes ($t threads)"
  assert_not_contains "$ERR" "reading the keys first" "a sequence of keys is checked in one pass ($t threads)"
done

# Keys that never repeat: one pass (no retry), no case, every row written; with --fail-fast the
# bet is not made (a stop could not know of a later repeat) and the result is the same.
"$PY" - <<'PYEOF'
rows = ["id,pad"] + [f"{i},p{i % 7}" for i in range(1, 30001)]
open("data/t.csv", "w").write("\n".join(rows) + "\n")
PYEOF
keys_run 2 256M
assert_eq "$COUNTS" '[["ingested", 30000, 30000, 0, 0]]' "a file of distinct keys passes"
assert_not_contains "$ERR" "reading the keys first" "distinct keys: one pass"
rm -rf .working
run_astro ingest data --threads 2 --fail-fast
assert_eq "$RC" "0" "distinct keys pass with --fail-fast"
pass "distinct keys are checked in one pass, with the same result"
