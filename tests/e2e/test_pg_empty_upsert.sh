#!/usr/bin/env bash
# test_pg_empty_upsert.sh - `astro run` upserts into PostgreSQL: into an empty keyed table the rows
# are COPYed straight into the table (no staging table, no INSERT ... SELECT), into a non-empty one
# through the staging table and ON CONFLICT as before. Which path ran is read from a statement
# trigger ON INSERT on the target that notes the first word of current_query() (COPY or INSERT).
# Also: a key repeated in the file fails the load into an empty table and leaves it empty;
# on_conflict "nothing" keeps the staging path (it drops the repeated key instead of failing); the
# SHARE ROW EXCLUSIVE lock is taken for an empty table only (a second session holding ROW
# EXCLUSIVE, astro under lock_timeout); two loads racing into one empty table both succeed, one
# directly, the other, checking again under the lock, through the staging table; replace COPYs with FREEZE (pg_visibility shows every page
# all-frozen), also into a partitioned table, where FREEZE is not allowed and is not used. A
# table with an UPDATE trigger (which INSERT ... ON CONFLICT DO UPDATE fires, a COPY does not)
# and a loaded GENERATED ALWAYS identity key (which INSERT refuses, COPY accepts) keep the
# staging path even when empty.
# PostgreSQL comes from scripts/test (ASTRO_PG_DSN); under CI it is required, elsewhere the test
# exits 77, which ctest reports as Skipped.
. "$(dirname "$0")/lib.sh"

require_postgres
tag="pge_$$_$RANDOM"
pgq() { psql "$ASTRO_PG_DSN" -XAtqv ON_ERROR_STOP=1 -c "$1"; }
cleanup_pg() {
  psql "$ASTRO_PG_DSN" -Xq >/dev/null 2>&1 <<SQL || true
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${tag}_holder';
DROP TABLE IF EXISTS ${tag}, ${tag}_audit, ${tag}_c, ${tag}_e, ${tag}_n, ${tag}_r, ${tag}_p, ${tag}_u, ${tag}_g;
DROP FUNCTION IF EXISTS ${tag}_note();
DELETE FROM astro_checkpoints WHERE target_table LIKE '${tag}%';
SQL
}
trap 'cleanup_pg; rm -rf "$T"' EXIT

# The keyed target and its audit trigger (statement level, ON INSERT: it fires for COPY and
# INSERT alike; an UPDATE trigger would keep astro off the direct path, see 8).
pgq "CREATE TABLE ${tag} (id bigint PRIMARY KEY, amount numeric(10,2), day date, who text);
CREATE TABLE ${tag}_audit (n serial, op text, stmt text);
CREATE FUNCTION ${tag}_note() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO ${tag}_audit (op, stmt) VALUES (TG_OP, split_part(current_query(), ' ', 1));
RETURN NULL; END \$\$;
CREATE TRIGGER note AFTER INSERT ON ${tag} FOR EACH STATEMENT EXECUTE FUNCTION ${tag}_note();
CREATE TABLE ${tag}_e (LIKE ${tag} INCLUDING ALL);
CREATE TABLE ${tag}_n (LIKE ${tag} INCLUDING ALL);
CREATE TABLE ${tag}_r (LIKE ${tag} INCLUDING ALL);
CREATE TABLE ${tag}_p (id bigint, amount numeric(10,2), day date, who text) PARTITION BY RANGE (id);
CREATE TABLE ${tag}_p1 PARTITION OF ${tag}_p FOR VALUES FROM (MINVALUE) TO (100);
CREATE TABLE ${tag}_p2 PARTITION OF ${tag}_p FOR VALUES FROM (100) TO (MAXVALUE);" >/dev/null
audit() { pgq "SELECT coalesce(string_agg(op || ':' || stmt, ' ' ORDER BY op, stmt, n), '') FROM ${tag}_audit"; }
rows() { pgq "SELECT coalesce(string_agg(id || '=' || amount || '/' || day || '/' || coalesce(who, 'N'), ' ' ORDER BY id), '') FROM $1"; }

# project DIR TABLE MODE [ON_CONFLICT]: a project folder whose one step loads orders into TABLE.
# The schema does not declare id unique, so a repeated key reaches the database.
project() {
  mkdir -p "$T/$1/data"
  cat > "$T/$1/astro.yaml" <<YAML
pipeline: pge
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
    schema:
      columns:
        id: {dtype: int64}
        amount: {dtype: "decimal(10,2)"}
        day: {dtype: date}
        who: {dtype: str, nullable: true}
targets:
  pg: {kind: postgres, dsn: "\${ASTRO_PG_DSN}"}
steps:
  - name: load_pg
    load: {dataset: orders, target: pg, table: $2, mode: $3, key: [id]$( [ -n "${4:-}" ] && echo ", on_conflict: $4")}
YAML
}
# ingest_run DIR CSV: ingests CSV (the file's text) in DIR and runs it; sets RC/OUT/ERR of the
# run and RUN (the run id).
ingest_run() {
  cd "$T/$1"
  printf '%b' "$2" > data/orders.csv
  run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest in $1: $ERR"
  RUN=$OUT
  run_astro run
  cd "$T"
}
log_of() { cat "$T/$1/.working/$RUN/astro.log"; }

# 1. An empty keyed table: one COPY straight into it, every row inserted, checkpoint written.
project up "$tag" upsert
ingest_run up 'id,amount,day,who\n1,10.50,2026-01-01,ann\n2,20.00,2026-01-02,\n3,0.01,2026-01-03,zoë\n'
[ "$RC" -eq 0 ] || fail "upsert into an empty table: exit $RC: $ERR"
assert_eq "$(rows "$tag")" "1=10.50/2026-01-01/ann 2=20.00/2026-01-02/N 3=0.01/2026-01-03/zoë" "rows equal the file"
assert_eq "$(audit)" "INSERT:COPY" "empty table: one COPY into the target, no staging INSERT"
assert_contains "$(log_of up)" "[load_pg] orders: 3 rows sent to pg.$tag (upsert), 3 rows written" "counts of the direct path"
assert_eq "$(pgq "SELECT dataset || '|' || rows || '|' || status FROM astro_checkpoints WHERE target_table = '$tag'")" \
  "orders|3|loaded" "checkpoint written"
assert_eq "$(sqlq "$T/up/.astro/stats.db" "SELECT status, rows FROM steps WHERE run_id = '$RUN'")" "done|3" "stats.db step"
pass "upsert into an empty table: COPY straight into it"

# 2. The same table, now holding rows: the staging path, only changed and new rows written.
xmin1=$(pgq "SELECT xmin FROM $tag WHERE id = 1")
pgq "TRUNCATE ${tag}_audit" >/dev/null
ingest_run up 'id,amount,day,who\n1,10.50,2026-01-01,ann\n2,25.00,2026-01-02,\n3,0.01,2026-01-03,zoë\n4,1.00,2026-01-04,new\n'
[ "$RC" -eq 0 ] || fail "upsert into a non-empty table: exit $RC: $ERR"
assert_eq "$(audit)" "INSERT:INSERT" "non-empty table: INSERT ... ON CONFLICT DO UPDATE from the staging table"
assert_contains "$(log_of up)" "[load_pg] orders: 4 rows sent to pg.$tag (upsert), 2 rows written" "only changed and new rows written"
assert_eq "$(rows "$tag")" "1=10.50/2026-01-01/ann 2=25.00/2026-01-02/N 3=0.01/2026-01-03/zoë 4=1.00/2026-01-04/new" "upserted rows"
assert_eq "$(pgq "SELECT xmin FROM $tag WHERE id = 1")" "$xmin1" "an unchanged row is not rewritten"
pass "upsert into a non-empty table: staging + ON CONFLICT"

# 3. A key repeated in the file, empty keyed table: the load fails (exit 3, the database refused
# the data), nothing is loaded, no checkpoint, the run is failed at the step.
project dup "${tag}_e" upsert
ingest_run dup 'id,amount,day,who\n1,1.00,2026-01-01,a\n2,2.00,2026-01-02,b\n2,3.00,2026-01-03,c\n'
assert_eq "$RC" "3" "a repeated key fails the load ($ERR)"
assert_contains "$ERR" "duplicate key value violates unique constraint \"${tag}_e_pkey\"" "the server's reason"
assert_contains "$ERR" "Key (id)=(2) already exists" "the repeated key"
assert_eq "$(pgq "SELECT count(*) FROM ${tag}_e")" "0" "nothing loaded"
assert_eq "$(pgq "SELECT count(*) FROM astro_checkpoints WHERE target_table = '${tag}_e'")" "0" "no checkpoint"
assert_eq "$(jq_py "$T/dup/.working/$RUN/manifest.json" 'd["status"]')" "failed" "run failed"
pass "repeated key into an empty table: load fails, table stays empty"

# 4. on_conflict: nothing keeps the first row of a repeated key, as before: staging path.
project nothing "${tag}_n" upsert nothing
ingest_run nothing 'id,amount,day,who\n1,1.00,2026-01-01,a\n2,2.00,2026-01-02,b\n2,3.00,2026-01-03,c\n'
[ "$RC" -eq 0 ] || fail "on_conflict nothing: exit $RC: $ERR"
assert_contains "$(log_of nothing)" "[load_pg] orders: 3 rows sent to pg.${tag}_n (upsert), 2 rows written" "a repeated key is dropped"
assert_eq "$(pgq "SELECT count(*) FROM ${tag}_n")" "2" "two rows"
pass "on_conflict nothing into an empty table keeps the staging path"

# 5. The lock. A second session holds ROW EXCLUSIVE (what any INSERT takes) on the non-empty table
# and on an empty one; astro runs with lock_timeout 2s. Into the non-empty table the upsert goes
# through (no SHARE ROW EXCLUSIVE taken); into the empty one it times out on its lock.
pgq "TRUNCATE ${tag}_e" >/dev/null
PGAPPNAME="${tag}_holder" psql "$ASTRO_PG_DSN" -Xq >/dev/null 2>&1 <<SQL &
BEGIN;
LOCK TABLE ${tag}, ${tag}_e IN ROW EXCLUSIVE MODE;
SELECT pg_sleep(60);
SQL
holder=$!
for _ in $(seq 100); do
  held=$(pgq "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '${tag}_holder' AND l.mode = 'RowExclusiveLock' AND l.granted AND l.relation IN ('${tag}'::regclass, '${tag}_e'::regclass)")
  [ "$held" = "2" ] && break
  sleep 0.1
done
[ "$held" = "2" ] || fail "the second session did not get its locks"
export PGOPTIONS="-c lock_timeout=2000"
ingest_run up 'id,amount,day,who\n1,10.50,2026-01-01,ann\n5,5.00,2026-01-05,five\n'
[ "$RC" -eq 0 ] || fail "upsert into a non-empty table beside a writer: exit $RC: $ERR"
assert_contains "$(log_of up)" "2 rows sent to pg.$tag (upsert), 1 rows written" "non-empty table loaded beside a writer"
ingest_run dup 'id,amount,day,who\n7,7.00,2026-01-07,x\n'
assert_eq "$RC" "3" "empty table beside a writer: the load waits for SHARE ROW EXCLUSIVE ($ERR)"
assert_contains "$ERR" "cannot lock \"${tag}_e\"" "the lock is named"
assert_contains "$ERR" "lock timeout" "the lock timed out"
unset PGOPTIONS
pgq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${tag}_holder'" >/dev/null
wait "$holder" 2>/dev/null || true
pass "SHARE ROW EXCLUSIVE only for an empty table"

# 6. Two loads race into one empty table: a second session holds ROW EXCLUSIVE while both find
# the table empty and queue for SHARE ROW EXCLUSIVE; once it lets go, the first COPYs straight in
# and the second, checking again under its lock, finds rows and takes the staging path (without
# that second check it would COPY too and fail on the shared key 3).
pgq "CREATE TABLE ${tag}_c (LIKE ${tag} INCLUDING ALL);
CREATE TRIGGER note AFTER INSERT ON ${tag}_c FOR EACH STATEMENT EXECUTE FUNCTION ${tag}_note();
TRUNCATE ${tag}_audit" >/dev/null
project ra "${tag}_c" upsert
project rb "${tag}_c" upsert
for d in ra rb; do
  cd "$T/$d"
  [ $d = ra ] && printf 'id,amount,day,who\n1,1.00,2026-01-01,a\n2,2.00,2026-01-02,b\n3,3.00,2026-01-03,c\n' > data/orders.csv
  [ $d = rb ] && printf 'id,amount,day,who\n3,3.50,2026-01-03,c\n4,4.00,2026-01-04,d\n' > data/orders.csv
  run_astro ingest data; [ "$RC" -eq 0 ] || fail "ingest in $d: $ERR"
done
cd "$T"
PGAPPNAME="${tag}_holder" psql "$ASTRO_PG_DSN" -Xq >/dev/null 2>&1 <<SQL &
BEGIN;
LOCK TABLE ${tag}_c IN ROW EXCLUSIVE MODE;
SELECT pg_sleep(60);
SQL
holder=$!
for _ in $(seq 100); do
  held=$(pgq "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '${tag}_holder' AND l.mode = 'RowExclusiveLock' AND l.granted AND l.relation = '${tag}_c'::regclass")
  [ "$held" = "1" ] && break
  sleep 0.1
done
[ "$held" = "1" ] || fail "the second session did not get its lock"
(cd "$T/ra"; rc=0; "$ASTRO_BIN" run >"$T/ra.out" 2>&1 || rc=$?; echo $rc >"$T/ra.rc") &
pa=$!
(cd "$T/rb"; rc=0; "$ASTRO_BIN" run >"$T/rb.out" 2>&1 || rc=$?; echo $rc >"$T/rb.rc") &
pb=$!
for _ in $(seq 200); do
  waiting=$(pgq "SELECT count(*) FROM pg_locks WHERE relation = '${tag}_c'::regclass AND mode = 'ShareRowExclusiveLock' AND NOT granted")
  [ "$waiting" = "2" ] && break
  sleep 0.1
done
pgq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${tag}_holder'" >/dev/null
wait "$holder" 2>/dev/null || true
wait "$pa" "$pb" || true
assert_eq "$waiting" "2" "both loads found the table empty and waited for the lock"
assert_eq "$(cat "$T/ra.rc") $(cat "$T/rb.rc")" "0 0" "both loads succeed ($(cat "$T/ra.out" "$T/rb.out"))"
assert_eq "$(audit)" "INSERT:COPY INSERT:INSERT" "one direct COPY, then one staging upsert"
assert_eq "$(pgq "SELECT string_agg(id::text, ',' ORDER BY id) FROM ${tag}_c")" "1,2,3,4" "the union of both files"
pass "racing loads: the second checks again under the lock and takes the staging path"

# 7. replace: TRUNCATE then COPY ... FREEZE, every page all-frozen at once; an append is not.
pgq "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_visibility" >/dev/null
project rep "${tag}_r" append
ingest_run rep 'id,amount,day,who\n1,1.00,2026-01-01,a\n2,2.00,2026-01-02,b\n'
[ "$RC" -eq 0 ] || fail "append: exit $RC: $ERR"
assert_eq "$(pgq "SELECT bool_or(all_frozen) FROM pg_visibility_map('${tag}_r')")" "f" "append rows are not frozen"
project rep "${tag}_r" replace
ingest_run rep 'id,amount,day,who\n3,3.00,2026-01-03,c\n4,4.00,2026-01-04,d\n'
[ "$RC" -eq 0 ] || fail "replace: exit $RC: $ERR"
assert_eq "$(rows "${tag}_r")" "3=3.00/2026-01-03/c 4=4.00/2026-01-04/d" "replaced rows"
assert_eq "$(pgq "SELECT count(*) || ' ' || bool_and(all_frozen) FROM pg_visibility_map('${tag}_r')")" "1 true" "replace rows frozen"
assert_contains "$(log_of rep)" "2 rows sent to pg.${tag}_r (replace), 2 rows written" "replace counts"
project part "${tag}_p" replace
ingest_run part 'id,amount,day,who\n1,1.00,2026-01-01,a\n150,2.00,2026-01-02,b\n'
[ "$RC" -eq 0 ] || fail "replace into a partitioned table: exit $RC: $ERR"
assert_eq "$(rows "${tag}_p")" "1=1.00/2026-01-01/a 150=2.00/2026-01-02/b" "partitioned table replaced"
pass "replace: COPY FREEZE into the truncated table, plain COPY into a partitioned one"

# 8. An empty table with a statement trigger ON UPDATE: INSERT ... ON CONFLICT DO UPDATE fires it
# even when no row conflicts, a COPY would not, so the staging path is kept (the trigger fires).
pgq "CREATE TABLE ${tag}_u (LIKE ${tag} INCLUDING ALL);
CREATE TRIGGER note AFTER INSERT OR UPDATE ON ${tag}_u FOR EACH STATEMENT EXECUTE FUNCTION ${tag}_note();
TRUNCATE ${tag}_audit" >/dev/null
project upd "${tag}_u" upsert
ingest_run upd 'id,amount,day,who\n1,1.00,2026-01-01,a\n2,2.00,2026-01-02,b\n'
[ "$RC" -eq 0 ] || fail "upsert into an empty table with an UPDATE trigger: exit $RC: $ERR"
assert_eq "$(audit)" "INSERT:INSERT UPDATE:INSERT" "UPDATE trigger: staging INSERT ... ON CONFLICT, the UPDATE trigger fired"
assert_eq "$(rows "${tag}_u")" "1=1.00/2026-01-01/a 2=2.00/2026-01-02/b" "rows loaded"
pass "an UPDATE trigger keeps the staging path"

# 9. An empty table whose key is GENERATED ALWAYS AS IDENTITY: INSERT refuses the file's values
# (as it would into a non-empty table), where a COPY would have stored them: the staging path is
# kept, the server's refusal fails the load (exit 3) and nothing is loaded.
pgq "CREATE TABLE ${tag}_g (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount numeric(10,2), day date, who text)" >/dev/null
project gen "${tag}_g" upsert
ingest_run gen 'id,amount,day,who\n1,1.00,2026-01-01,a\n'
assert_eq "$RC" "3" "a value for a GENERATED ALWAYS key is refused ($ERR)"
assert_contains "$ERR" "cannot insert a non-DEFAULT value into column \"id\"" "the server's reason"
assert_eq "$(pgq "SELECT count(*) FROM ${tag}_g")" "0" "nothing loaded"
pass "a GENERATED ALWAYS identity key keeps the staging path"
