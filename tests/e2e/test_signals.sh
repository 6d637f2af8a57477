#!/usr/bin/env bash
# test_signals.sh - interrupted ingests leave nothing behind (issue 16, point 14):
# - SIGINT or SIGTERM in the middle of an ingest: astro stops between blocks, removes its
#   temporary files, records the run failed with the signal as the reason (manifest.json and
#   stats.db), and ends by that signal (exit status 130 / 143 to the shell);
# - kill -9 in the middle of an ingest leaves hidden .NAME.parquet.RANDOM.tmp files; the next
#   astro command that opens the project (here `astro runs`) removes them and records the run
#   failed (interrupted).
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
cat > astro.yaml <<'YAML'
pipeline: sig
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
    schema:
      columns:
        id: {dtype: int64}
        amount: {dtype: "decimal(10,2)"}
        note: {dtype: str, checks: {str_matches: "^n[0-9]+$"}}
YAML
# About 70 MB: an ingest of a second or more, long enough to be caught in the middle.
"$PY" -c "
with open('data/orders.csv', 'w') as f:
    f.write('id,amount,note\n')
    f.writelines('%d,%d.50,n%d\n' % (i, i % 1000, i) for i in range(3000000))"

# start_ingest THREADS: starts astro ingest in the background (SIGINT not ignored, as in a
# terminal: a shell without job control would start it with SIGINT ignored) and waits until its
# Parquet output exists under a temporary name. Sets PID and RUN.
start_ingest() {
  env --default-signal=INT,TERM "$ASTRO_BIN" -q ingest data --threads "$1" >"$T/ing.out" 2>"$T/ing.err" &
  PID=$!
  RUN=""
  for _ in $(seq 1 1000); do
    if ls .working/*/ingested/.orders.parquet.*.tmp >/dev/null 2>&1; then
      RUN=$(basename "$(dirname "$(dirname "$(ls .working/*/ingested/.orders.parquet.*.tmp | head -n 1)")")")
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.005
  done
  fail "the ingest was not caught while writing its output: $(cat "$T/ing.err")"
}

tmp_files() { find .working -name '.*.tmp' | sort; }

for sig in INT TERM; do
  for threads in 1 2; do
    rm -rf .working .astro
    start_ingest "$threads"
    kill -s "$sig" "$PID"
    set +e; wait "$PID"; rc=$?; set -e
    want=$((128 + $(kill -l "$sig")))
    what="SIG$sig, $threads thread(s)"
    assert_eq "$rc" "$want" "$what: astro ends by the signal ($(cat "$T/ing.err"))"
    assert_eq "$(tmp_files)" "" "$what: no temporary file is left"
    [ ! -e ".working/$RUN/ingested/orders.parquet" ] || fail "$what: no output for a stopped file"
    m=.working/$RUN/manifest.json
    assert_eq "$(jq_py $m 'd["status"]')" "failed" "$what: manifest failed"
    assert_eq "$(jq_py $m 'd["failed_phase"]')" "ingest" "$what: failed in its ingest"
    assert_contains "$(jq_py $m 'd["reason"]')" "interrupted: astro received SIG$sig" "$what: manifest reason"
    assert_eq "$(sqlq .astro/stats.db "SELECT status, reason LIKE 'interrupted: astro received SIG$sig%' FROM runs WHERE run_id = '$RUN'")" \
      "failed|1" "$what: stats.db failed with the reason"
    assert_contains "$(cat .working/$RUN/astro.log)" "SIG$sig" "$what: astro.log says why"
  done
done
pass "SIGINT/SIGTERM during ingest: temporary files removed, run recorded failed, exit 128+N"

# kill -9: nothing can clean up at once; the next command that opens the project does.
rm -rf .working .astro
start_ingest 2
kill -9 "$PID"
set +e; wait "$PID"; set -e
[ -n "$(tmp_files)" ] || fail "kill -9 should leave the temporary output behind (setup)"
run_astro runs
assert_eq "$RC" "0" "astro runs after kill -9 ($ERR)"
assert_eq "$(tmp_files)" "" "astro runs removed the temporary files of the dead run"
assert_eq "$(jq_py .working/$RUN/manifest.json 'd["status"]')" "failed" "kill -9: manifest failed"
assert_eq "$(sqlq .astro/stats.db "SELECT status FROM runs WHERE run_id = '$RUN'")" "failed" \
  "kill -9: stats.db failed"
pass "kill -9 during ingest: the next astro command removes its temporary files"

# A kill -9 between the new run's manifest and its stats.db row (a narrow window, made here by
# hand): the correction still reaches stats.db, which gets the run's row, failed.
manifest_edit ".working/$RUN/manifest.json" \
  'd["status"] = "ingesting"; d["reason"] = None; d["failed_phase"] = None'
"$PY" -c "import sqlite3; c = sqlite3.connect('.astro/stats.db'); c.execute(\"DELETE FROM runs WHERE run_id = '$RUN'\"); c.commit()"
run_astro runs
assert_eq "$RC" "0" "astro runs ($ERR)"
assert_eq "$(sqlq .astro/stats.db "SELECT status, reason LIKE 'interrupted:%', pipeline FROM runs WHERE run_id = '$RUN'")" \
  "failed|1|sig" "a run missing from stats.db is added to it, failed"
pass "a run killed before its stats.db row existed is recorded there too"

# A live run's temporary files are never touched: a second process's `astro runs` during an
# ingest leaves them, and the ingest still succeeds.
rm -rf .working .astro
start_ingest 1
run_astro runs
assert_eq "$RC" "0" "astro runs during an ingest ($ERR)"
set +e; wait "$PID"; rc=$?; set -e
assert_eq "$rc" "0" "the ingest that was listed meanwhile succeeds ($(cat "$T/ing.err"))"
[ -f ".working/$RUN/ingested/orders.parquet" ] || fail "its output was written"
assert_eq "$(duck "SELECT count(*) AS n FROM read_parquet('.working/$RUN/ingested/orders.parquet')")" \
  '{"n":"3000000"}' "every row of the live run"
pass "a live run's temporary files are left alone"
