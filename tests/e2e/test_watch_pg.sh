#!/usr/bin/env bash
# test_watch_pg.sh - astro watch on PostgreSQL: three workers share one drop zone and 30 files
# (each loaded exactly once, every file in exactly one folder, checkpoints agree), a database
# that cannot be reached leaves the files in incoming/ until it is back, and a worker killed with
# SIGKILL in the middle of a stream of files leaves nothing loaded twice or lost after a restart.
# PostgreSQL comes from scripts/test (ASTRO_PG_DSN); under CI it is required, elsewhere the test
# reports itself skipped.
. "$(dirname "$0")/lib.sh"

require_postgres
pgq() { psql "$ASTRO_PG_DSN" -XAtqv ON_ERROR_STOP=1 -c "$1"; }
tag="wz$$"
cleanup_pg() {
  pgq "DROP TABLE IF EXISTS ${tag}_orders; DELETE FROM astro_files WHERE target_table = '${tag}_orders'; DELETE FROM astro_checkpoints WHERE target_table = '${tag}_orders'" >/dev/null 2>&1 || true
}
trap 'cleanup_pg; rm -rf "$T"' EXIT

mkdir -p p && cd p
write_config() { # dsn
  cat > astro.yaml <<YAML
pipeline: dropzone_pg
ingest_files:
  - name: orders
    source_pattern: "orders*.csv"
    schema:
      columns:
        id: {dtype: int64, unique: true}
        amount: {dtype: "decimal(10,2)"}
targets:
  pg: {kind: postgres, dsn: "$1"}
watch:
  root: zone
  readiness: rename
  quiet_seconds: 0
  poll_seconds: 1
  loads:
    - {dataset: orders, target: pg, table: ${tag}_orders, mode: append, create: true}
YAML
}
in=zone/incoming
mkdir -p $in
make_files() { # FIRST LAST: files orders_NNN.csv with 100 rows each, ids unique across files
  for f in $(seq "$1" "$2"); do
    { echo "id,amount"; for i in $(seq $((f * 100)) $((f * 100 + 99))); do echo "$i,$f.25"; done; } \
      > $in/.orders_$f.tmp
    mv $in/.orders_$f.tmp $in/orders_$f.csv
  done
}

# 1. The database cannot be reached: every file stays in incoming/, exit 3; then it loads.
write_config "host=127.0.0.1 port=1 dbname=nothing connect_timeout=2"
make_files 1 2
run_astro watch --once
assert_eq "$RC" "3" "database unreachable: $ERR"
assert_eq "$(ls $in | wc -l)" "2" "files stay in incoming/"
assert_contains "$ERR" "it stays in incoming/" "logged"
write_config "$ASTRO_PG_DSN"
run_astro watch --once
assert_eq "$RC" "0" "database back: $ERR"
assert_eq "$(pgq "SELECT count(*) FROM ${tag}_orders")" "200" "loaded once it is back"
pass "database outage"

# 2. Three workers, 30 more files arriving while they run.
for w in 1 2 3; do
  "$ASTRO_BIN" watch >"$T/w$w.out" 2>"$T/w$w.err" &
  eval "W$w=\$!"
done
make_files 3 32
for _ in $(seq 1 120); do
  [ "$(ls zone/processed | grep -c '^orders_[0-9]*\.csv$')" -ge 32 ] && break
  sleep 0.5
done
kill -TERM $W1 $W2 $W3
wait $W1 $W2 $W3 || fail "a worker did not exit 0 on SIGTERM"
assert_eq "$(ls $in | wc -l)" "0" "incoming/ is empty"
assert_eq "$(ls zone/processed | grep -c '^orders_[0-9]*\.csv$')" "32" "every file in processed/, once"
assert_eq "$(ls zone/quarantine | wc -l)" "0" "nothing quarantined"
assert_eq "$(pgq "SELECT count(*) || '/' || count(DISTINCT id) FROM ${tag}_orders")" "3200/3200" "every row exactly once"
assert_eq "$(pgq "SELECT count(*) FROM astro_files WHERE target_table = '${tag}_orders' AND status = 'success'")" "32" "one success row per file"
workers=0
for w in 1 2 3; do grep -q "loaded into pg" "$T/w$w.err" && workers=$((workers + 1)); done
[ $workers -ge 2 ] || echo "note: only $workers worker(s) took files this time"
pass "three workers, 32 files, each loaded once"

# 3. SIGKILL of a worker at 50 moments of a stream of files (starting, reading, loading,
#    committing, moving, idle), then a restart: every valid row exactly once, every file in
#    exactly one folder, one checkpoint per file.
big_file() { # N: orders_N.csv with 5000 rows, ids unique across files
  awk -v f="$1" 'BEGIN { print "id,amount"; for (i = f * 10000; i < f * 10000 + 5000; i++) print i "," f ".75" }' \
    > $in/.orders_$1.tmp
  mv $in/.orders_$1.tmp $in/orders_$1.csv
}
for round in $(seq 1 50); do
  big_file $((1000 + 2 * round))
  big_file $((1001 + 2 * round))
  "$ASTRO_BIN" watch >"$T/k.out" 2>"$T/k.err" &
  k=$!
  sleep "0.$(printf '%03d' $((RANDOM % 150)))"
  kill -KILL $k 2>/dev/null || true
  wait $k 2>/dev/null || true
done
echo "note: the kills left $(ls $in | grep -c '\.csv$' || true) file(s) in incoming/ and $(ls -A zone/quarantine | grep -c '^\.' || true) report(s) half-written"
run_astro watch --once
assert_eq "$RC" "0" "restart after the kills: $ERR"
assert_eq "$(ls $in | grep -c '\.csv$' || true)" "0" "incoming/ drained"
assert_eq "$(ls zone/processed | grep -c '^orders_[0-9]*\.csv$')" "132" "every file in processed/, once"
assert_eq "$(ls zone/quarantine | grep -vc '^\.' || true)" "0" "nothing quarantined"
assert_eq "$(pgq "SELECT count(*) || '/' || count(DISTINCT id) FROM ${tag}_orders")" "503200/503200" \
  "every row exactly once after 50 kills"
assert_eq "$(pgq "SELECT count(*) FROM astro_checkpoints WHERE target_table = '${tag}_orders'")" "132" "one checkpoint per file"
pass "SIGKILL at 50 moments, then a restart"
