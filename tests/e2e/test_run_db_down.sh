#!/usr/bin/env bash
# test_run_db_down.sh - a PostgreSQL target that is down: `astro run` fails with exit 3 and a
# message naming the target (never the password), nothing is loaded, and the same `astro run`
# succeeds once the database is back. Requires ASTRO_PG_DSN (set by scripts/test); under CI its
# absence is a failure; elsewhere it exits 77 (ctest: Skipped).
. "$(dirname "$0")/lib.sh"

require_postgres
tbl="down_e2e_$$_$RANDOM"
mkdir -p p/data && cd p
cat > astro.yaml <<YAML
pipeline: down
ingest_files:
  - name: t
    source_pattern: "t.csv"
    schema:
      columns:
        id: {dtype: int64}
targets:
  wh: {kind: postgres, dsn: "\${TEST_DSN}"}
steps:
  - name: load
    load: {dataset: t, target: wh, table: $tbl, mode: append, create: true}
YAML
printf 'id\n1\n2\n' > data/t.csv
export TEST_DSN="host=127.0.0.1 port=1 user=astro password=s3cret-pw dbname=astro_test connect_timeout=5"
run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest: $ERR"
run=$OUT
run_astro run
assert_eq "$RC" "3" "a database that is down is an environment error"
assert_contains "$ERR" '"wh"' "the error names the target"
assert_not_contains "$ERR" "s3cret-pw" "the password never appears on the console"
assert_not_contains "$(cat .working/$run/astro.log)" "s3cret-pw" "the password never appears in the log"
assert_not_contains "$(cat .working/$run/manifest.json)" "s3cret-pw" "the password never appears in the manifest"
assert_eq "$(jq_py .working/$run/manifest.json '[d["status"], d["failed_phase"]]')" '["failed", "run"]' "run failed in its steps"
assert_eq "$(psql "$ASTRO_PG_DSN" -XAtc "SELECT to_regclass('$tbl') IS NULL")" "t" "nothing was created or loaded"
pass "database down: exit 3, target named, password hidden, nothing loaded"

export TEST_DSN="$ASTRO_PG_DSN"
run_astro run; [ "$RC" -eq 0 ] || fail "once the database is back the run succeeds: $ERR"
assert_eq "$(psql "$ASTRO_PG_DSN" -XAtc "SELECT count(*) FROM $tbl")" "2" "rows loaded once it is back"
psql "$ASTRO_PG_DSN" -Xqc "DROP TABLE $tbl; DELETE FROM astro_checkpoints WHERE target_table = '$tbl'" >/dev/null
pass "the same astro run succeeds once the database is back"
