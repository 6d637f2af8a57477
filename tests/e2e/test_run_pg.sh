#!/usr/bin/env bash
# test_run_pg.sh - `astro run` loading into PostgreSQL: an upsert that creates its table, exact
# values (decimals, dates, nulls, non-ASCII text), the checkpoint row written in the same
# database, a re-sent file that loads nothing twice, a changed file whose upsert rewrites only the
# changed and new rows, and the steps recorded in stats.db. (The same flow into SQLite, with
# failing and resumed steps, is test_run.sh.) PostgreSQL comes from scripts/test (ASTRO_PG_DSN);
# under CI it is required, elsewhere the test exits 77, which ctest reports as Skipped.
. "$(dirname "$0")/lib.sh"

require_postgres
tbl="run_pg_e2e_$$_$RANDOM"
pgq() { psql "$ASTRO_PG_DSN" -XAtqv ON_ERROR_STOP=1 -c "$1"; }
cleanup_pg() {
  psql "$ASTRO_PG_DSN" -Xq >/dev/null 2>&1 <<SQL || true
DROP TABLE IF EXISTS $tbl;
DELETE FROM astro_checkpoints WHERE target_table = '$tbl';
SQL
  rm -rf "$T"
}
trap cleanup_pg EXIT

mkdir -p p/data && cd p
cat > astro.yaml <<YAML
pipeline: shop
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
  pg: {kind: postgres, dsn: "\${ASTRO_PG_DSN}"}
steps:
  - name: load_pg
    load: {dataset: orders, target: pg, table: $tbl, mode: upsert, key: [id], create: true}
YAML
printf 'id,amount,day,who\n1,10.50,2026-01-01,ann\n2,20.00,2026-01-02,\n3,0.01,2026-01-03,zoë\n' > data/orders.csv

run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest: $ERR"
run1=$OUT
run_astro run; [ "$RC" -eq 0 ] || fail "run: exit $RC: $ERR"
assert_eq "$(jq_py .working/$run1/manifest.json 'd["status"]')" "completed" "run completed"
assert_eq "$(pgq "SELECT id, amount, day, coalesce(who, 'NULL') FROM $tbl ORDER BY id")" \
  "1|10.50|2026-01-01|ann
2|20.00|2026-01-02|NULL
3|0.01|2026-01-03|zoë" "PostgreSQL rows"
assert_eq "$(pgq "SELECT dataset, rows, status FROM astro_checkpoints WHERE target_table = '$tbl'")" \
  "orders|3|loaded" "PostgreSQL checkpoint in the same database"
assert_eq "$(sqlq .astro/stats.db "SELECT step, status FROM steps WHERE run_id='$run1'")" "load_pg|done" "stats.db steps"
pass "PostgreSQL load and checkpoint"

# The same file again: the load is checkpointed and skipped; nothing doubles.
run_astro ingest data; [ "$RC" -eq 0 ] || fail "second ingest: $ERR"
run2=$OUT
run_astro run; [ "$RC" -eq 0 ] || fail "second run: $ERR"
assert_eq "$(jq_py .working/$run2/manifest.json '[s["status"] for s in d["steps"]]')" '["skipped"]' "re-sent file: load skipped"
assert_eq "$(pgq "SELECT count(*) FROM $tbl")" "3" "no rows doubled"
pass "re-sent file loads nothing twice"

# A changed file: the upsert rewrites only the changed row and inserts the new one.
printf 'id,amount,day,who\n1,10.50,2026-01-01,ann\n2,25.00,2026-01-02,\n3,0.01,2026-01-03,zoë\n4,1.00,2026-01-04,new\n' > data/orders.csv
run_astro ingest data; [ "$RC" -eq 0 ] || fail "third ingest: $ERR"
run3=$OUT
run_astro run; [ "$RC" -eq 0 ] || fail "third run: $ERR"
assert_contains "$(cat .working/$run3/astro.log)" "[load_pg] orders: 4 rows sent to pg.$tbl (upsert), 2 rows written" "only changed and new rows written"
assert_eq "$(pgq "SELECT string_agg(id || '=' || amount, ' ' ORDER BY id) FROM $tbl")" \
  "1=10.50 2=25.00 3=0.01 4=1.00" "upserted values"
pass "upsert rewrites only changed rows"
