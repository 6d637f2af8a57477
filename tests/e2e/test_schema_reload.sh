#!/usr/bin/env bash
# test_schema_reload.sh - issue 14, "a corrected schema never reaches the table": a file loaded
# with an all-str schema, the schema fixed and the file ingested again. The load is not skipped
# (the checkpoint identity holds the schema fingerprint), the table made for the old schema is a
# clear error naming the column and the fix (not "NOT NULL constraint failed"), a dropped table is
# made again with the new types, the same schema again is skipped, `astro run --reload` loads it
# anyway, an append of a file loaded with another schema is refused (it would double its rows),
# and an astro_checkpoints from before the fingerprint column gets it. SQLite always; PostgreSQL
# too when ASTRO_PG_DSN is set (required under CI).
. "$(dirname "$0")/lib.sh"

if [ -z "${ASTRO_PG_DSN:-}" ] && [ "${CI:-}" = "true" ]; then
  fail "ASTRO_PG_DSN is not set under CI: the PostgreSQL half cannot be skipped"
fi
tbl="reload_e2e_$$_$RANDOM"
pgq() { psql "$ASTRO_PG_DSN" -XAtqv ON_ERROR_STOP=1 -c "$1"; }
pg_drop_on_exit "$tbl" "${tbl}_log"

# A comic-character wiki export, as delivered: ids, names, counts with gaps, years.
write_csv() {
  cat > "$1/data/characters.csv" <<'CSV'
page_id,name,appearances,year
1678,Spider-Man (Peter Parker),4043,1962
7139,Captain America (Steven Rogers),3360,1941
64786,"Wolverine (James \""Logan\"" Howlett)",3061,1974
1868,Iron Man (Anthony \""Tony\"" Stark),2961,1963
2460,Thor (Thor Odinson),,1950
CSV
}

# schema KIND TYPE: astro.yaml with every typed column as TYPE (str first, int64 once fixed).
schema() {
  local kind=$1 ty=$2
  cat > astro.yaml <<YAML
pipeline: comics
execution_mode: parallel
ingest_files:
  - name: characters
    source_pattern: "characters.csv"
    schema:
      columns:
        page_id: {dtype: $ty}
        name: {dtype: str}
        appearances: {dtype: $ty, nullable: true}
        year: {dtype: $ty}
targets:
  db: $(target_yaml "$kind")
steps:
  - name: load
    load: {dataset: characters, target: db, table: $tbl, mode: replace, create: true}
  - name: log
    load: {dataset: characters, target: db, table: ${tbl}_log, mode: append, create: true}
YAML
}

scenario() {
  local kind=$1 q
  mkdir -p "$T/$kind/data" "$T/$kind/out" && cd "$T/$kind"
  if [ "$kind" = sqlite ]; then
    q() { sqlq out/w.db "$1"; }
    typeq="SELECT typeof(page_id) || ',' || typeof(year) FROM $tbl LIMIT 1"
  else
    q() { pgq "$1"; }
    typeq="SELECT pg_typeof(page_id)::text || ',' || pg_typeof(year)::text FROM $tbl LIMIT 1"
  fi
  write_csv .
  schema "$kind" str
  run_astro ingest data; [ "$RC" -eq 0 ] || fail "$kind: ingest: $ERR"
  run_astro run; [ "$RC" -eq 0 ] || fail "$kind: first run: $ERR"
  case "$kind" in sqlite) assert_eq "$(q "$typeq")" "text,text" "$kind: str schema loads text" ;;
    *) assert_eq "$(q "$typeq")" "text,text" "$kind: str schema loads text" ;; esac

  # The schema is fixed; the same file again. The load must not be skipped: the table made for
  # the old schema is a clear error naming the column, the types and the fix.
  schema "$kind" int64
  run_astro ingest data; [ "$RC" -eq 0 ] || fail "$kind: second ingest: $ERR"
  run2=$OUT
  run_astro run
  assert_eq "$RC" "3" "$kind: a table made for another schema fails the load (the target is wrong: exit 3)"
  assert_not_contains "$ERR" "already loaded" "$kind: a changed schema is not skipped"
  assert_contains "$ERR" "column \"page_id\" of table \"$tbl\" is" "$kind: the column is named"
  assert_contains "$ERR" "but the dataset's int64 column loads as" "$kind: expected type given"
  assert_contains "$ERR" "drop it (create: true makes it again), alter the column" "$kind: the fix"
  pass "$kind: a changed schema reaches the load and a mismatching table is a clear error"

  q "DROP TABLE $tbl" >/dev/null
  run_astro run $run2
  # The append log still holds the file from the str run: appending it again would double it.
  assert_eq "$RC" "2" "$kind: append of a file loaded with another schema is refused ($ERR)"
  assert_contains "$ERR" "already loaded into \"${tbl}_log\" with another schema" "$kind: append refusal"
  assert_contains "$ERR" "run \`astro run --reload\`" "$kind: append refusal names --reload"
  assert_eq "$(q "$typeq")" "$( [ "$kind" = sqlite ] && echo integer,integer || echo bigint,bigint)" \
    "$kind: the dropped table is made again with the fixed types"
  assert_eq "$(q "SELECT count(*) FROM $tbl")" "5" "$kind: every row loaded"
  q "DROP TABLE ${tbl}_log" >/dev/null
  run_astro run $run2 --reload; [ "$RC" -eq 0 ] || fail "$kind: --reload after dropping the log: $ERR"
  assert_eq "$(q "SELECT count(*) FROM ${tbl}_log")" "5" "$kind: the log loaded once, with --reload"
  assert_eq "$(q "SELECT run_id FROM astro_checkpoints WHERE target_table = '$tbl'")" "$run2" \
    "$kind: the checkpoint row is rewritten by the reload"
  pass "$kind: the fixed schema is loaded; append refused without --reload"

  # The same schema again: skipped. --reload loads it anyway (replace: no doubling).
  run_astro ingest data; [ "$RC" -eq 0 ] || fail "$kind: third ingest: $ERR"
  run3=$OUT
  run_astro run; [ "$RC" -eq 0 ] || fail "$kind: third run: $ERR"
  assert_eq "$(jq_py .working/$run3/manifest.json '[s["status"] for s in d["steps"]]')" \
    '["skipped", "skipped"]' "$kind: the same file with the same schema is skipped"
  assert_eq "$(q "SELECT run_id FROM astro_checkpoints WHERE target_table = '$tbl'")" "$run2" \
    "$kind: a skipped load keeps its checkpoint row"
  q "UPDATE $tbl SET name = 'edited' WHERE page_id = 1678" >/dev/null
  run_astro run --reload $run3; [ "$RC" -eq 0 ] || fail "$kind: --reload: $ERR"
  assert_eq "$(jq_py .working/$run3/manifest.json '[s["status"] for s in d["steps"]]')" \
    '["done", "done"]' "$kind: --reload runs the loads again"
  assert_eq "$(q "SELECT name FROM $tbl WHERE page_id = 1678")" "Spider-Man (Peter Parker)" \
    "$kind: --reload replaced the table's rows"
  assert_eq "$(q "SELECT count(*) FROM ${tbl}_log")" "10" "$kind: --reload appends again, as documented"
  assert_eq "$(q "SELECT run_id FROM astro_checkpoints WHERE target_table = '$tbl'")" "$run3" \
    "$kind: --reload rewrites the checkpoint row"
  pass "$kind: same schema skipped; --reload forces the load"

  # A table column the dataset does not fill, NOT NULL without a default.
  q "DROP TABLE $tbl" >/dev/null
  q "CREATE TABLE $tbl (page_id bigint, name text, appearances bigint, year bigint, publisher text NOT NULL)" >/dev/null
  run_astro run --reload $run3
  assert_eq "$RC" "3" "$kind: a NOT NULL column the load does not fill fails the load"
  assert_contains "$ERR" "column \"publisher\" of table \"$tbl\" is NOT NULL without a default" \
    "$kind: the unfilled column is named"
  assert_not_contains "$ERR" "constraint failed" "$kind: not the database's constraint message"
  pass "$kind: unfilled NOT NULL column named"
  cd "$T"
}

scenario sqlite

# A checkpoint table from an earlier astro (no schema_fingerprint): its row is an unknown schema,
# so a replace load runs again, and the column is added.
mkdir -p "$T/old/data" "$T/old/out" && cd "$T/old"
write_csv .
schema sqlite int64
run_astro ingest data; [ "$RC" -eq 0 ] || fail "old: ingest: $ERR"
sha=$(jq_py .working/$OUT/manifest.json 'd["files"][0]["sha256"]')
sqlq out/w.db "CREATE TABLE astro_checkpoints (run_id TEXT NOT NULL, dataset TEXT NOT NULL, source_sha256 TEXT NOT NULL, target_table TEXT NOT NULL, rows INTEGER NOT NULL, status TEXT NOT NULL, loaded_at TEXT NOT NULL, PRIMARY KEY (dataset, source_sha256, target_table))" >/dev/null
sqlq out/w.db "INSERT INTO astro_checkpoints VALUES ('old01', 'characters', '$sha', '$tbl', 5, 'loaded', '2026-01-01T00:00:00Z')" >/dev/null
run_astro run; [ "$RC" -eq 0 ] || fail "old: run: $ERR"
assert_eq "$(sqlq out/w.db "SELECT count(*) FROM $tbl")" "5" "old checkpoint (unknown schema): loaded again"
assert_eq "$(sqlq out/w.db "SELECT run_id, length(schema_fingerprint) FROM astro_checkpoints WHERE target_table = '$tbl'")" \
  "$(only_run)|64" "old checkpoint table: column added, row rewritten with the fingerprint"
pass "sqlite: astro_checkpoints from before the fingerprint column"
cd "$T"

if [ -n "${ASTRO_PG_DSN:-}" ]; then
  command -v psql >/dev/null || fail "psql is not installed"
  scenario postgres
else
  echo "note: ASTRO_PG_DSN not set; the PostgreSQL half did not run"
fi
