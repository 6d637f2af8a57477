#!/usr/bin/env bash
# test_crash_sweep.sh - crash consistency (issue 16): astro is killed with SIGKILL at many points of
# an `astro ingest` and of an `astro run` load (SQLite always; PostgreSQL too when ASTRO_PG_DSN is
# set), with delays spread over the measured length of a clean run, and after each kill:
#   - no partial output is visible: every ingested/*.parquet is read by DuckDB with all the rows
#     the clean run wrote for it, every errors/*.jsonl is whole (each line JSON, a final newline);
#   - every manifest.json is valid JSON;
#   - the next command (`astro runs`) reconciles: manifest and stats.db agree, no run is left
#     ingesting or running, a killed one is failed (interrupted) or finished;
#   - astro's temporary files (.NAME.*.tmp) are gone after that command;
#   - a loaded table holds nothing or exactly the rows of the clean run (a load is all or nothing);
# and after the kills a resumed run loads exactly the rows of a clean run (count and sum), and
# the same files ingested and run again load nothing twice (checkpoints).
# Rounds: at least 30 kills that land while astro works (fewer under ASTRO_SANITIZE=ON, which
# ctest passes, to bound the time).
. "$(dirname "$0")/lib.sh"

if [ "${ASTRO_SANITIZE:-OFF}" = "ON" ]; then
  ingest_kills=6 load_kills=5 pg_kills=3 rows=60000
else
  ingest_kills=16 load_kills=16 pg_kills=6 rows=120000
fi

# Three files of $rows rows each, 40 invalid rows in each (errors reports are written too).
mkdir -p data
"$PY" - "$rows" <<'PYEOF'
import sys
rows = int(sys.argv[1])
for k in range(3):
    with open("data/part%d.csv" % k, "w") as f:
        f.write("id,amount,day,who\n")
        for i in range(k * rows, (k + 1) * rows):
            if i % (rows // 40) == 7:
                f.write("%d,notanumber,2026-01-01,x\n" % i)
                continue
            f.write("%d,%d.%02d,2026-%02d-%02d,%s\n" % (i, i % 100000, i % 100, 1 + i % 12,
                    1 + i % 28, "w%d" % (i % 97) if i % 3 else ""))
PYEOF

# write_yaml KIND PREFIX: astro.yaml of a project loading part0..2 into PREFIX0..2 of a KIND target.
write_yaml() {
  {
    echo "pipeline: crash"
    echo "execution_mode: parallel" # an ingest that finished before its kill blocks no other
    echo "ingest_files:"
    for k in 0 1 2; do
      cat <<YAML
  - name: part$k
    source_pattern: "part$k.csv"
    max_bad_rows: 1000
    schema:
      columns:
        id: {dtype: int64, unique: true}
        amount: {dtype: "decimal(12,2)"}
        day: {dtype: date}
        who: {dtype: str, nullable: true}
YAML
    done
    echo "targets:"
    echo "  t: $(target_yaml "$1")"
    echo "steps:"
    for k in 0 1 2; do
      echo "  - name: load$k"
      echo "    load: {dataset: part$k, target: t, table: $2$k, mode: append, create: true}"
    done
  } >astro.yaml
  mkdir -p out
}

PARQUET_CHECKED=0
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# tq postgres SQL: the answer of the PostgreSQL target, columns separated by |.
tq() { psql "$ASTRO_PG_DSN" -XAtq -c "$2"; }

# table_state KIND PREFIX: "count|sum" of each table (sum of amount in cents), "-" when absent.
table_state() {
  if [ "$1" = sqlite ]; then
    "$PY" - "$2" <<'PYEOF'
import os, sqlite3, sys
out = []
con = sqlite3.connect("out/w.db") if os.path.exists("out/w.db") else None
for k in range(3):
    t = "%s%d" % (sys.argv[1], k)
    if con is None or not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone():
        out.append("-")
        continue
    n, s = con.execute("SELECT count(*), coalesce(sum(CAST(round(CAST(amount AS numeric) * 100) AS bigint)), 0) FROM " + t).fetchone()
    out.append("%d|%d" % (n, s))
print(" ".join(out))
PYEOF
    return
  fi
  local k out=""
  for k in 0 1 2; do
    if [ "$(tq postgres "SELECT count(*) FROM pg_tables WHERE tablename = '$2$k'")" = 0 ]; then
      out="$out -"
    else
      out="$out $(tq postgres "SELECT count(*), coalesce(sum(CAST(round(CAST(amount AS numeric) * 100) AS bigint)), 0) FROM $2$k")"
    fi
  done
  echo "${out# }"
}

# A clean run: its length (to spread the kills over) and what it writes.
mkdir clean && cd clean && write_yaml sqlite t
t0=$(now_ms)
run_astro ingest ../data; [ "$RC" -eq 0 ] || fail "clean ingest: $ERR"
t_ingest=$(($(now_ms) - t0))
clean_run=$OUT
t0=$(now_ms)
run_astro run; [ "$RC" -eq 0 ] || fail "clean run: $ERR"
t_run=$(($(now_ms) - t0))
expect=$(table_state sqlite t)
q=""
for k in 0 1 2; do q="$q${q:+, }(SELECT count(*) FROM '.working/$clean_run/ingested/part$k.parquet') AS c$k"; done
clean_pq=$(duck "SELECT $q")
cd ..
echo "clean run: ingest ${t_ingest} ms, run ${t_run} ms; tables: $expect"
for k in 0 1 2; do
  case " $expect " in *" - "* | *" 0|"*) fail "the clean run loaded nothing into t$k: $expect" ;; esac
done

# check_outputs: the invariants of the run folders right after a kill (before any command):
# every manifest is valid JSON, every errors report whole; the visible Parquet files are noted
# (path and size) in $T/parquet_seen for check_parquet, which reads them all with DuckDB at once
# (one DuckDB start instead of one per kill) and checks that they did not change since.
check_outputs() {
  "$PY" - "$T/parquet_seen" <<'PYEOF' || fail "after a kill: a partial output is visible"
import glob, json, os, sys
bad = []
for m in glob.glob(".working/*/manifest.json"):
    try:
        json.load(open(m))
    except ValueError as e:
        bad.append("%s is not valid JSON (%s): %r" % (m, e, open(m, "rb").read()[:200]))
for f in glob.glob(".working/*/errors/*.jsonl"):
    data = open(f, "rb").read()
    if data and not data.endswith(b"\n"):
        bad.append("%s: no final newline" % f)
    for n, line in enumerate(data.splitlines(), 1):
        try:
            json.loads(line)
        except ValueError:
            bad.append("%s line %d is not JSON: %r" % (f, n, line[:200]))
with open(sys.argv[1], "a") as seen:
    for f in glob.glob(".working/*/ingested/*.parquet"):
        seen.write("%s/%s %d\n" % (os.getcwd(), f, os.path.getsize(f)))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
}

# check_parquet: every Parquet file seen after a kill is whole: DuckDB reads it with the rows the
# clean run wrote for that file, and it kept the size it had when it was seen.
check_parquet() {
  local q="" n=0 path size
  while read -r path size; do
    [ "$(stat -c %s "$path")" = "$size" ] || fail "$path changed after it was visible"
    q="$q${q:+ UNION ALL }SELECT '$(basename "$path" .parquet)' AS f, count(*) AS n FROM '$path'"
    n=$((n + 1))
  done < <(sort -u "$T/parquet_seen")
  [ $n -gt 0 ] || return 0
  local got
  got=$(duck "SELECT f, min(n) AS lo, max(n) AS hi FROM ($q) GROUP BY f ORDER BY f") ||
    fail "DuckDB cannot read a Parquet file visible after a kill: $got"
  local want
  want=$("$PY" -c "
import json, sys
clean = json.loads(sys.argv[1])
for line in sys.argv[2].splitlines():
    r = json.loads(line)
    k = 'c' + r['f'][-1]
    print(json.dumps({'f': r['f'], 'lo': clean[k], 'hi': clean[k]}, separators=(',', ':')))" \
    "$clean_pq" "$got")
  assert_eq "$got" "$want" "the Parquet files visible after the kills hold every row"
  PARQUET_CHECKED=$n
  : >"$T/parquet_seen"
}

# check_reconciled: after `astro runs`, manifest and stats.db agree on every run, none is left
# ingesting or running, a failed one says interrupted, and no temporary file is left.
check_reconciled() {
  run_astro runs
  [ "$RC" -eq 0 ] || fail "astro runs after a kill: exit $RC: $ERR"
  "$PY" - <<'PYEOF' || fail "after a kill and astro runs: the run stores disagree"
import glob, json, os, sqlite3, sys
db = {r: (s, why or "") for r, s, why in
      sqlite3.connect(".astro/stats.db").execute("SELECT run_id, status, reason FROM runs")}
bad = []
for m in glob.glob(".working/*/manifest.json"):
    run = os.path.basename(os.path.dirname(m))
    d = json.load(open(m))
    s = d["status"]
    if run not in db:
        bad.append("%s: manifest %s, not in stats.db" % (run, s))
    elif db[run][0] != s:
        bad.append("%s: manifest %s, stats.db %s" % (run, s, db[run][0]))
    if s in ("ingesting", "running"):
        bad.append("%s: still %s" % (run, s))
    if s == "failed" and "interrupted" not in (d.get("reason") or ""):
        bad.append("%s: failed but not interrupted: %s" % (run, d.get("reason")))
for r, (s, why) in db.items():
    if not os.path.exists(".working/%s/manifest.json" % r) and s in ("ingesting", "running"):
        bad.append("%s: stats.db %s without a manifest" % (r, s))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PYEOF
  local left
  left=$(find .working out -name '.*.tmp' 2>/dev/null || true)
  [ -z "$left" ] || fail "temporary files left after astro runs: $left"
}

# kill_at CMD... : starts astro CMD in the background, kills it with SIGKILL after $delay_ms;
# sets LANDED=1 when the process was still working (it died of the kill); otherwise it must
# have finished with exit 0.
kill_at() {
  "$ASTRO_BIN" "$@" >/dev/null 2>kill_at.err &
  local pid=$! st=0
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || st=$?
  LANDED=0
  [ "$st" -eq 137 ] && LANDED=1
  # An earlier kill can land after astro run recorded its run completed (while the process
  # exits): this astro run then has nothing to resume, which ends the cycle like a success.
  if [ "$st" -eq 2 ] && [ "$1" = run ] && grep -q "no run to execute" kill_at.err; then
    st=0
  fi
  # not killed: it finished before the kill, and must have succeeded
  [ "$st" -eq 137 ] || [ "$st" -eq 0 ] ||
    fail "astro $* ended with exit $st before its kill: $(cat kill_at.err)"
}

# --- ingest ---------------------------------------------------------------------------------
mkdir ingest && cd ingest && write_yaml sqlite t
landed_ingest=0
i=0
while [ $landed_ingest -lt $ingest_kills ] && [ $i -lt $((ingest_kills * 3)) ]; do
  # Spread over the ingest: 2..101% of its clean length, a different point each time.
  delay_ms=$((t_ingest * (2 + (i * 29) % 100) / 100))
  kill_at ingest ../data
  landed_ingest=$((landed_ingest + LANDED))
  check_outputs
  check_reconciled
  i=$((i + 1))
done
check_parquet
[ $landed_ingest -ge $ingest_kills ] ||
  fail "only $landed_ingest of $i kills landed during an ingest (each took ${t_ingest} ms clean)"
# After the kills a clean ingest and run give exactly the clean run's rows.
run_astro ingest ../data; [ "$RC" -eq 0 ] || fail "ingest after the kills: exit $RC: $ERR"
run_astro run; [ "$RC" -eq 0 ] || fail "run after the ingest kills: exit $RC: $ERR"
assert_eq "$(table_state sqlite t)" "$expect" "after $landed_ingest kills during ingests: the rows of a clean run"
cd ..
pass "$landed_ingest kills -9 during ingest ($i tries): $PARQUET_CHECKED Parquet files whole, stores reconciled, no temporary file, then the rows of a clean run"

# --- load -------------------------------------------------------------------------------------
# load_sweep KIND PREFIX KILLS: in cycles, a fresh target and a fresh ingest, then `astro run`
# killed again and again until it completes (each new `astro run` resumes the failed run).
load_sweep() {
  local kind=$1 prefix=$2 want=$3 landed=0 tries=0 cycles=0 state
  mkdir "load_$kind" && cd "load_$kind" && write_yaml "$kind" "$prefix"
  # This target's clean load length, to spread the kills over (a server loads at its own pace).
  run_astro ingest ../data; [ "$RC" -eq 0 ] || fail "$kind: clean ingest: $ERR"
  local t0 t_load
  t0=$(now_ms)
  run_astro run; [ "$RC" -eq 0 ] || fail "$kind: clean run: $ERR"
  t_load=$(($(now_ms) - t0))
  assert_eq "$(table_state "$kind" "$prefix")" "$expect" "$kind: a clean run loads the rows of the clean SQLite run"
  while [ $landed -lt "$want" ] && [ $tries -lt $((want * 4)) ]; do
    # a fresh target: no table, no checkpoint
    if [ "$kind" = sqlite ]; then
      rm -f out/w.db out/w.db-journal out/w.db-wal out/w.db-shm
    else
      for k in 0 1 2; do
        tq postgres "DROP TABLE IF EXISTS $prefix$k" >/dev/null 2>&1
        tq postgres "DELETE FROM astro_checkpoints WHERE target_table = '$prefix$k'" >/dev/null 2>&1 || true
      done
    fi
    run_astro ingest ../data; [ "$RC" -eq 0 ] || fail "ingest for the load kills: $ERR"
    cycles=$((cycles + 1))
    local done_=0
    while [ $done_ = 0 ] && [ $landed -lt "$want" ] && [ $tries -lt $((want * 4)) ]; do
      delay_ms=$((t_load * (5 + (tries * 29) % 80) / 100))
      kill_at run
      tries=$((tries + 1))
      landed=$((landed + LANDED))
      check_outputs
      # all or nothing: each table is absent, empty or holds exactly the clean rows
      state=$(table_state "$kind" "$prefix")
      "$PY" - "$state" "$expect" <<'PYEOF' || fail "after a kill during a load: tables [$state], clean [$expect]"
import sys
got, clean = sys.argv[1].split(" "), sys.argv[2].split(" ")
sys.exit(0 if all(g in ("-", "0|0", c) for g, c in zip(got, clean)) else 1)
PYEOF
      check_reconciled
      [ "$LANDED" = 1 ] || done_=1
    done
    # finish the cycle: resume until completed; exactly the clean rows, nothing doubled
    run_astro run
    case "$RC" in
      0) ;;
      *) assert_contains "$ERR" "no run to execute" "resume after the kills: exit $RC: $ERR" ;;
    esac
    assert_eq "$(table_state "$kind" "$prefix")" "$expect" "$kind: after the kills, the rows of a clean run"
  done
  check_parquet
  [ $landed -ge "$want" ] || fail "$kind: only $landed of $tries kills landed during a load"
  # The same files again: checkpointed, nothing loads twice.
  run_astro ingest ../data; [ "$RC" -eq 0 ] || fail "$kind: second ingest: $ERR"
  run_astro run; [ "$RC" -eq 0 ] || fail "$kind: second run: $ERR"
  assert_eq "$(table_state "$kind" "$prefix")" "$expect" "$kind: the same files again load nothing twice"
  cd ..
  pass "$kind: $landed kills -9 during loads ($tries tries, $cycles cycles, clean load ${t_load} ms): all or nothing, stores reconciled, resumed to the rows of a clean run, never doubled"
  LOAD_LANDED=$landed
}

load_sweep sqlite t "$load_kills"
total=$((landed_ingest + LOAD_LANDED))
[ $total -ge $((ingest_kills + load_kills)) ] || fail "only $total kills landed"
echo "kills that landed while astro worked: $total"

if [ -n "${ASTRO_PG_DSN:-}" ]; then
  command -v psql >/dev/null || fail "psql is not installed"
  pfx="crash_${RANDOM}_t"
  pg_drop_on_exit "${pfx}0" "${pfx}1" "${pfx}2"
  load_sweep postgres "$pfx" "$pg_kills"
else
  [ "${CI:-}" = "true" ] && fail "ASTRO_PG_DSN is not set under CI: the PostgreSQL part cannot be skipped"
  echo "SKIP (PostgreSQL part): ASTRO_PG_DSN not set (scripts/test sets it)"
fi
