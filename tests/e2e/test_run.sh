#!/usr/bin/env bash
# test_run.sh - `astro run`: steps in order (load into SQLite and PostgreSQL, sql, exec), the run
# completed, checkpoints that make a re-sent file load nothing twice, upserts that rewrite only
# changed rows, a failing step that marks the run failed, and a second `astro run` that resumes at
# the first step not done. All with SQLite, so it needs no server; the same into PostgreSQL is
# test_run_pg.sh.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
cat > astro.yaml <<YAML
pipeline: shop
execution_mode: serial
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
    schema:
      columns:
        id: {dtype: int64, unique: true}
        amount: {dtype: "decimal(10,2)"}
        day: {dtype: date}
        who: {dtype: str, nullable: true}
targets:
  local: {kind: sqlite, path: out/warehouse.db}
steps:
  - name: load_local
    load: {dataset: orders, target: local, table: orders, mode: upsert, key: [order_id], create: true,
           rename: {id: order_id, who: customer}}
  - name: summary
    sql: {target: local, statements: "DROP TABLE IF EXISTS totals; CREATE TABLE totals AS SELECT count(*) AS n FROM orders;"}
  - name: count_runs
    exec: {argv: ["sh", "-c", "echo ran >> exec_count.txt; echo \"id=\$ASTRO_RUN_ID dataset=\$ASTRO_DATASET_ORDERS\""]}
  - name: gate
    exec: {argv: ["sh", "-c", "test -e gate_open || { echo gate closed; exit 3; }"]}
YAML
mkdir -p out
printf 'id,amount,day,who\n1,10.50,2026-01-01,ann\n2,20.00,2026-01-02,\n3,0.01,2026-01-03,zoë\n' > data/orders.csv

run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest: $ERR"
run1=$OUT
# The gate step fails: the run is failed at that step, exit 1, earlier steps done.
run_astro run
assert_eq "$RC" "1" "a failing exec step fails the run ($ERR)"
m=.working/$run1/manifest.json
assert_eq "$(jq_py $m 'd["status"]')" "failed" "run failed"
assert_eq "$(jq_py $m 'd["failed_phase"]')" "run" "failed while running steps"
assert_contains "$(jq_py $m 'd["reason"]')" "step gate" "reason names the step"
assert_contains "$(jq_py $m 'd["reason"]')" "exited with status 3" "reason gives the exit status"
assert_eq "$(jq_py $m '[s["status"] for s in d["steps"]][-1]')" "failed" "gate step failed"
assert_contains "$(cat .working/$run1/astro.log)" "[gate] | gate closed" "exec output goes to the log"
assert_contains "$(cat .working/$run1/astro.log)" "id=$run1 dataset=$PWD/.working/$run1/ingested/orders.parquet" "exec environment"
assert_eq "$(sqlq out/warehouse.db "SELECT order_id, amount, day, coalesce(customer, 'NULL') FROM orders ORDER BY order_id")" \
  "1|10.50|2026-01-01|ann
2|20.00|2026-01-02|NULL
3|0.01|2026-01-03|zoë" "SQLite rows with exact decimals and dates, columns renamed"
assert_eq "$(sqlq out/warehouse.db "SELECT n FROM totals")" "3" "sql step ran"
# serial mode: a failed run (in its steps) blocks new ingests
run_astro ingest data; assert_eq "$RC" "4" "a run that failed in its steps blocks serial mode"
pass "failing step: run failed, earlier steps done"

# Resume: the steps already done are not run again.
touch gate_open
run_astro run; [ "$RC" -eq 0 ] || fail "resume: exit $RC: $ERR"
assert_eq "$(jq_py $m 'd["status"]')" "completed" "run completed after resume"
assert_eq "$(wc -l < exec_count.txt)" "1" "a done exec step is not run again on resume"
assert_contains "$ERR" "[load_local] already done in an earlier session" "resume skips done steps"
assert_eq "$(sqlq .astro/stats.db "SELECT step, status FROM steps WHERE run_id='$run1' ORDER BY step")" \
"count_runs|done
gate|done
load_local|done
summary|done" "stats.db steps"
run_astro run $run1; assert_eq "$RC" "0" "running a completed run again is a no-op"
pass "resume at the first step not done"

# The same file again: the loads are checkpointed and skipped; nothing doubles.
run_astro ingest data; [ "$RC" -eq 0 ] || fail "second ingest after completion: $ERR"
run2=$OUT
run_astro run; [ "$RC" -eq 0 ] || fail "second run: $ERR"
assert_eq "$(jq_py .working/$run2/manifest.json '[s["status"] for s in d["steps"] if s["name"].startswith("load")]')" \
  '["skipped"]' "re-sent file: load skipped"
assert_eq "$(sqlq out/warehouse.db "SELECT count(*) FROM orders")" "3" "no rows doubled"
pass "re-sent file loads nothing twice"

# A changed file: the upsert rewrites only the changed row.
printf 'id,amount,day,who\n1,10.50,2026-01-01,ann\n2,25.00,2026-01-02,\n3,0.01,2026-01-03,zoë\n4,1.00,2026-01-04,new\n' > data/orders.csv
run_astro ingest data; [ "$RC" -eq 0 ] || fail "third ingest: $ERR"
run3=$OUT
run_astro run; [ "$RC" -eq 0 ] || fail "third run: $ERR"
assert_contains "$(cat .working/$run3/astro.log)" "[load_local] orders: 4 rows sent to local.orders (upsert), 2 rows written" "only changed and new rows written"
assert_eq "$(sqlq out/warehouse.db "SELECT group_concat(order_id || '=' || amount, ' ') FROM (SELECT * FROM orders ORDER BY order_id)")" \
  "1=10.50 2=25.00 3=0.01 4=1.00" "upserted values"
pass "upsert rewrites only changed rows"

run_astro runs; assert_eq "$RC" "0" "astro runs"
assert_eq "$(echo "$OUT" | grep -cE "^($run1|$run2|$run3) +completed")" "3" "astro runs lists the completed runs"
run_astro status $run3; assert_eq "$RC" "0" "astro status"
assert_contains "$OUT" "status completed" "status shows the run status"
assert_contains "$OUT" "load_local" "status shows the steps"
run_astro status zzzzz; assert_eq "$RC" "2" "status of an unknown run"
pass "runs and status"
