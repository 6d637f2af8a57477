#!/usr/bin/env bash
# test_runs_abandon.sh - issue 14, "serial mode can lock a project out": a run that fails in a step
# that will always fail (an upsert key that holds nulls) blocks every new ingest in serial mode.
# The refusal names `astro runs abandon`; abandoning records the reason in manifest.json and
# stats.db, the run is never run again, and serial mode accepts the next ingest. A live run (its
# lock held) and a completed run cannot be abandoned.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data p/out && cd p
cat > astro.yaml <<'YAML'
pipeline: incidents
execution_mode: serial
ingest_files:
  - name: incidents
    source_pattern: "incidents.csv"
    schema:
      columns:
        incident_id: {dtype: int64, nullable: true}
        category: {dtype: str}
        district: {dtype: str, nullable: true}
targets:
  db: {kind: sqlite, path: out/w.db}
steps:
  - name: load
    load: {dataset: incidents, target: db, table: incidents, mode: upsert, key: [incident_id], create: true}
YAML
# A city's incident export: one report without an id (the key the upsert needs).
cat > data/incidents.csv <<'CSV'
incident_id,category,district
61891,Larceny Theft,Mission
61892,Assault,Bayview
,Non-Criminal,Central
61894,Burglary,
CSV

run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest: $ERR"
run1=$OUT
run_astro run
[ "$RC" -ne 0 ] || fail "a null key must fail the upsert"
# SQLite would number a NULL in a one-column INTEGER PRIMARY KEY (the rowid) itself: refused.
assert_contains "$ERR" "the row from line 4 of the source file has no value for key column \"incident_id\"" \
  "a null key is named with its line"
assert_eq "$(sqlq out/w.db "SELECT count(*) FROM sqlite_master WHERE name = 'incidents'")" "0" "nothing left behind (the table creation rolled back)"
run_astro run
[ "$RC" -ne 0 ] || fail "the step fails every time"
run_astro ingest data
assert_eq "$RC" "4" "serial mode refuses a new ingest while the failed run stands"
assert_contains "$ERR" "$run1 (failed)" "the refusal names the run"
assert_contains "$ERR" "astro runs abandon RUN_ID --reason TEXT" "the refusal names the way out"
pass "a failed run blocks serial mode; the refusal names astro runs abandon"

# A live run cannot be abandoned: hold its lock as an astro process would.
( exec 9>>.working/$run1/.lock; flock 9; exec sleep 30 ) &
holder=$!
for _ in $(seq 50); do flock -n .working/$run1/.lock true 2>/dev/null || break; sleep 0.1; done
run_astro runs abandon $run1 --reason "test"
kill $holder; wait $holder 2>/dev/null || true
assert_eq "$RC" "4" "a live run is not abandoned"
assert_contains "$ERR" "run $run1 is failed in another astro process: it cannot be abandoned while it runs" "live run refusal"
assert_eq "$(jq_py .working/$run1/manifest.json 'd["status"]')" "failed" "a refused abandon changes nothing"

run_astro runs abandon; assert_eq "$RC" "2" "abandon without RUN_ID is a usage error"
run_astro runs abandon zzzzz; assert_eq "$RC" "2" "an unknown run"
assert_contains "$ERR" "no run zzzzz" "an unknown run is named"

run_astro runs abandon $run1 --reason "incident_id holds nulls; upstream fixes the export"
[ "$RC" -eq 0 ] || fail "abandon: $ERR"
assert_eq "$OUT" "$run1" "abandon prints the run id"
m=.working/$run1/manifest.json
assert_eq "$(jq_py $m 'd["status"]')" "abandoned" "manifest: abandoned"
assert_eq "$(jq_py $m 'd["reason"]')" "abandoned (was failed): incident_id holds nulls; upstream fixes the export" \
  "manifest: the reason"
assert_eq "$(sqlq .astro/stats.db "SELECT status, reason, finished_at IS NOT NULL FROM runs WHERE run_id = '$run1'")" \
  "abandoned|abandoned (was failed): incident_id holds nulls; upstream fixes the export|1" "stats.db: abandoned with the reason"
run_astro runs; [ "$RC" -eq 0 ] || fail "runs: $ERR"
assert_contains "$OUT" "$run1   abandoned  incidents" "astro runs lists it abandoned"
run_astro run $run1
assert_eq "$RC" "2" "an abandoned run is not run"
assert_contains "$ERR" "run $run1 was abandoned" "the refusal says why"
pass "abandoned: recorded with the reason in manifest.json and stats.db, never run"

# Serial mode accepts the next delivery; once completed, it cannot be abandoned.
sed -i 's/^,Non-Criminal/61893,Non-Criminal/' data/incidents.csv
run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest after abandon: $ERR"
run2=$OUT
run_astro run; [ "$RC" -eq 0 ] || fail "run after abandon: $ERR"
assert_eq "$(sqlq out/w.db "SELECT count(*) FROM incidents")" "4" "the fixed delivery loads"
run_astro runs abandon $run2
assert_eq "$RC" "2" "a completed run is not abandoned"
assert_contains "$ERR" "run $run2 is completed" "completed run refusal"
run_astro runs abandon $run1; [ "$RC" -eq 0 ] || fail "abandon again: $ERR"
assert_contains "$(jq_py $m 'd["reason"]')" "upstream fixes the export" "abandoning again keeps the reason"
pass "serial mode goes on after an abandon"
