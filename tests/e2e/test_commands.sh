#!/usr/bin/env bash
# test_commands.sh - the commands around the engine (issue 14, "Messages and commands"):
# - a target's ${VAR} is expanded only where the target is used: validate, ingest, runs, status
#   and watch --status work with it unset; astro run and astro watch name the variable and key;
# - global options after the command (astro ingest d -q, astro validate f --config x.yaml);
# - astro status without an id shows the newest run;
# - astro validate missing.csv says the file does not exist (exit 2);
# - sql.statements takes a list.
. "$(dirname "$0")/lib.sh"

unset C14_DB_DIR C14_UNSET_PG || true
mkdir -p in zone/incoming
printf 'id,name\n1,a\n2,b\n3,c\n' > in/orders.csv
cat > astro.yaml <<'YAML'
pipeline: cmds
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders*.csv"
    schema:
      columns:
        id: {dtype: int64, unique: true}
        name: {dtype: str}
targets:
  db: {kind: sqlite, path: "${C14_DB_DIR}/w.db"}
  pg: {kind: postgres, dsn: "host=localhost password=${C14_UNSET_PG}"}
steps:
  - name: load_orders
    load: {dataset: orders, target: db, table: orders, create: true}
  - name: sums
    sql:
      target: db
      statements:
        - CREATE TABLE IF NOT EXISTS sums (n INTEGER)
        - "INSERT INTO sums SELECT count(*) FROM orders;"
        - |
          INSERT INTO sums SELECT max(id) FROM orders -- a comment at the end
watch:
  root: zone
  poll_seconds: 1
  loads:
    - {dataset: orders, target: db, table: orders_w, create: true}
YAML

# 1. Unset variables stop none of the commands that do not connect.
run_astro validate in/orders.csv
assert_eq "$RC" "0" "validate with \${C14_DB_DIR} unset: $ERR"
run_astro ingest in
assert_eq "$RC" "0" "ingest with \${C14_DB_DIR} unset: $ERR"
run1=$OUT
run_astro runs
assert_eq "$RC" "0" "runs with \${C14_DB_DIR} unset: $ERR"
assert_contains "$OUT" "$run1" "runs lists the run"
run_astro status "$run1"
assert_eq "$RC" "0" "status with \${C14_DB_DIR} unset: $ERR"
run_astro watch --status
assert_eq "$RC" "0" "watch --status with \${C14_DB_DIR} unset: $ERR"
# ... and the ones that connect name the variable and the key.
run_astro run "$run1"
assert_eq "$RC" "2" "astro run with \${C14_DB_DIR} unset is a configuration error: $ERR"
assert_contains "$ERR" "astro.yaml:11:28: targets.db.path: environment variable 'C14_DB_DIR' is not set" "run names the variable and the key"
run_astro watch --once
assert_eq "$RC" "2" "astro watch with \${C14_DB_DIR} unset: $ERR"
assert_contains "$ERR" "targets.db.path: environment variable 'C14_DB_DIR' is not set" "watch names the variable and the key"
pass "a target's \${VAR} is needed only where the target is used"

# 2. sql.statements as a list: each item one statement (with or without its ';', a trailing
# comment included), all in the step's transaction.
mkdir -p dbdir
export C14_DB_DIR=$T/dbdir
run_astro run "$run1"
assert_eq "$RC" "0" "astro run with the variable set: $ERR"
assert_eq "$(sqlq dbdir/w.db 'SELECT n FROM sums ORDER BY rowid')" "3
3" "the three statements of the list ran"
printf 'pipeline: x\ningest_files: [{name: o, source_pattern: "*.csv", schema: {columns: {}}}]\ntargets: {d: {kind: sqlite, path: d.db}}\nsteps: [{name: s, sql: {target: d, statements: []}}]\n' > empty_list.yaml
run_astro --config empty_list.yaml runs
assert_eq "$RC" "2" "an empty statements list is refused"
assert_contains "$ERR" "steps[0].sql.statements: expected at least one SQL statement, got an empty list" "the message"
printf 'pipeline: x\ningest_files: [{name: o, source_pattern: "*.csv", schema: {columns: {}}}]\ntargets: {d: {kind: sqlite, path: d.db}}\nsteps: [{name: s, sql: {target: d, statements: ["SELECT 1", " ; "]}}]\n' > blank_item.yaml
run_astro --config blank_item.yaml runs
assert_eq "$RC" "2" "a blank statement is refused"
assert_contains "$ERR" "steps[0].sql.statements[1]: expected an SQL statement" "the message names the item"
pass "sql.statements takes a list"

# 3. Global options after the command (and their values), up to a `--`.
mkdir -p other
cp astro.yaml other/pipeline.yaml
(cd other && printf 'id,name\n1,a\n' > orders_x.csv)
run_astro validate other/orders_x.csv --config other/pipeline.yaml -q
assert_eq "$RC" "0" "validate FILE --config X -q: $ERR"
assert_eq "$ERR" "" "-q after the command keeps the console quiet"
run_astro validate other/orders_x.csv --config=other/pipeline.yaml --log-format json -v
assert_eq "$RC" "0" "--config=X --log-format json -v after the command: $ERR"
run_astro ingest in -q
assert_eq "$RC" "0" "ingest d -q: $ERR"
assert_eq "$ERR" "" "ingest d -q prints no INFO lines"
run2=$OUT
run_astro ingest in
assert_contains "$ERR" "INFO" "without -q ingest prints INFO lines (so the check above can fail)"
run3=$OUT
run_astro ingest in --log-format json
assert_contains "$ERR" '"level":' "--log-format json after the command: JSON log lines"
run4=$OUT
run_astro validate other/orders_x.csv --log-format yaml
assert_eq "$RC" "2" "a bad --log-format after the command is a usage error"
run_astro runs abandon "$run2" --reason "stale delivery" -q
assert_eq "$RC" "0" "runs abandon ID --reason T -q: $ERR"
run_astro runs abandon "$run3" --reason=-q
assert_eq "$RC" "0" "--reason=VALUE keeps a value that looks like a global option: $ERR"
run_astro status "$run3"
assert_contains "$OUT" "-q" "the reason is -q"
run_astro validate -- -q
assert_eq "$RC" "2" "after --, -q is the command's argument (a file that does not exist)"
assert_contains "$ERR" "-q does not exist" "after --, -q is not a global option"
pass "global options after the command"

# 4. astro status without an id: the newest run.
run_astro status
assert_eq "$RC" "0" "status without an id: $ERR"
assert_contains "$(echo "$OUT" | head -1)" "run $run4 " "status shows the newest run ($run4, not $run1 $run2 $run3)"
mkdir -p fresh && cp astro.yaml fresh/
run_astro status --config fresh/astro.yaml
assert_eq "$RC" "2" "status without an id and no run"
assert_contains "$ERR" "no run under" "the message says there is no run yet"
pass "astro status without an id shows the newest run"

# 5. astro validate missing.csv: the file does not exist, exit 2 (not 'no spec matches').
run_astro validate missing.csv
assert_eq "$RC" "2" "validate of a missing file"
assert_contains "$ERR" "missing.csv does not exist" "validate says the file does not exist"
assert_not_contains "$ERR" "source_pattern" "not a spec-matching message"
run_astro validate orders_nope.csv --spec orders
assert_eq "$RC" "2" "validate of a missing file with --spec"
assert_contains "$ERR" "orders_nope.csv does not exist" "with --spec too"
pass "astro validate missing.csv says the file does not exist"
