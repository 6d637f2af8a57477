#!/usr/bin/env bash
# test_pg_notices.sh - PostgreSQL's notices and warnings (RAISE NOTICE in a sql step, "relation
# already exists, skipping" in a load) go to the run's astro.log, not to stderr; with -v the
# console shows them too. PostgreSQL comes from scripts/test (ASTRO_PG_DSN); under CI it is
# required, elsewhere the test exits 77, which ctest reports as Skipped.
. "$(dirname "$0")/lib.sh"

require_postgres
tbl="pg_notices_e2e_$$_$RANDOM"
pg_drop_on_exit "$tbl"

mkdir -p p/data && cd p
cat > astro.yaml <<YAML
pipeline: notices
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
    schema:
      columns:
        id: {dtype: int64}
targets:
  pg: {kind: postgres, dsn: "\${ASTRO_PG_DSN}"}
steps:
  - name: load_pg
    load: {dataset: orders, target: pg, table: $tbl, mode: append, create: true}
  - name: say
    sql: {target: pg, statements: "CREATE TABLE IF NOT EXISTS $tbl (id bigint); DO \$\$BEGIN RAISE NOTICE 'astro-notice-%', 42; RAISE WARNING 'astro-warning'; END\$\$"}
YAML
printf 'id\n1\n2\n' > data/orders.csv

run_astro ingest data
assert_eq "$RC" "0" "ingest: $ERR"
run=$OUT
run_astro run
assert_eq "$RC" "0" "run: $ERR"
assert_not_contains "$ERR" "astro-notice" "a notice is not on stderr"
assert_not_contains "$ERR" "astro-warning" "a server warning is not on stderr"
assert_not_contains "$ERR" "already exists, skipping" "CREATE ... IF NOT EXISTS notice not on stderr"
log=$(cat .working/$run/astro.log)
assert_contains "$log" "INFO  target \"pg\" (postgres) says: NOTICE:  astro-notice-42" "notice in astro.log"
assert_contains "$log" "WARN  target \"pg\" (postgres) says: WARNING:  astro-warning" "warning in astro.log, at WARN"
assert_contains "$log" "says: NOTICE:  relation \"$tbl\" already exists, skipping" "the sql step's IF NOT EXISTS notice"

assert_eq "$(psql "$ASTRO_PG_DSN" -XAtqc "SELECT count(*) FROM $tbl")" "2" "the rows were loaded"
pass "server notices go to astro.log only"

# A load's own connection logs its notices too: a second load's CREATE TABLE IF NOT EXISTS of the
# table says it exists, just before the load's summary line. With -v the console shows the
# notices as well.
run_astro ingest data
run2=$OUT
run_astro -v run --reload "$run2"
assert_eq "$RC" "0" "verbose run: $ERR"
assert_contains "$ERR" "says: NOTICE:  astro-notice-42" "-v shows notices on the console"
grep -B1 "\[load_pg\] orders: 2 rows sent" .working/$run2/astro.log | head -n 1 |
  grep -q "INFO  target \"pg\" (postgres) says: NOTICE:  relation \"$tbl\" already exists, skipping" ||
  fail "a load's notice in astro.log: $(cat .working/$run2/astro.log)"
pass "with -v the console shows them too"
