#!/usr/bin/env bash
# test_load_error_line.sh - issue 14, "load errors give the wrong line": a load that the database
# refuses at a row names the line of the delivered CSV that row came from, kept through Parquet
# (footer metadata astro.source_lines), also after a quoted line break and a row left out by a
# bad-row threshold. SQLite always; PostgreSQL (binary COPY) too when ASTRO_PG_DSN is set
# (required under CI).
. "$(dirname "$0")/lib.sh"

if [ -z "${ASTRO_PG_DSN:-}" ] && [ "${CI:-}" = "true" ]; then
  fail "ASTRO_PG_DSN is not set under CI: the PostgreSQL half cannot be skipped"
fi
tbl="register_e2e_$$_$RANDOM"
pg_drop_on_exit "$tbl"

# A police register export: an address with a line break (lines 4-5), a case number that is not
# a number (line 6, left out: max_bad_rows 1), and case 1001 reported twice (line 7), which the
# table's UNIQUE constraint refuses.
setup() { # $1 kind
  mkdir -p "$T/$1/data" "$T/$1/out" && cd "$T/$1"
  printf '%s\n' 'case_id,offence,place,reported' '1001,Theft,North,2024-01-02' \
    '1002,Burglary,South,2024-01-03' '1003,Assault,"12 East Road' 'Flat 2",2024-01-04' \
    'oops,Theft,West,2024-01-05' '1001,Fraud,North,2024-01-06' '1005,Theft,Harbour,2024-01-07' \
    > data/register.csv
  cat > astro.yaml <<YAML
pipeline: police
execution_mode: parallel
ingest_files:
  - name: register
    source_pattern: "register.csv"
    max_bad_rows: 1
    schema:
      columns:
        case_id: {dtype: int64}
        offence: {dtype: str}
        place: {dtype: str}
        reported: {dtype: date}
targets:
  db: $(target_yaml "$1")
steps:
  - name: load
    load: {dataset: register, target: db, table: $tbl, mode: append}
YAML
}

check() { # $1 kind
  run_astro ingest data; [ "$RC" -eq 0 ] || fail "$1: ingest: $ERR"
  run=$OUT
  assert_eq "$(jq_py .working/$run/manifest.json 'd["files"][0]["rows_invalid"]')" "1" "$1: one row left out"
  assert_eq "$(duck "SELECT value::VARCHAR AS v FROM parquet_kv_metadata('.working/$run/ingested/register.parquet') WHERE key::VARCHAR = 'astro.source_lines'")" \
    '{"v":"v1 0:2 3:7"}' "$1: the source lines of the rows in the Parquet footer"
  run_astro run
  assert_eq "$RC" "3" "$1: the database refuses the duplicate"
  assert_contains "$ERR" "the row from line 7 of the source file" "$1: the error names CSV line 7"
  assert_not_contains "$ERR" "line 4" "$1: not the Parquet (or COPY) row number"
  pass "$1: a load error names the source line"
}

setup sqlite
sqlq out/w.db "CREATE TABLE $tbl (case_id INTEGER UNIQUE, offence TEXT, place TEXT, reported TEXT)" >/dev/null
check sqlite
assert_eq "$(sqlq out/w.db "SELECT count(*) FROM $tbl")" "0" "sqlite: nothing half-loaded"

if [ -n "${ASTRO_PG_DSN:-}" ]; then
  setup postgres
  psql "$ASTRO_PG_DSN" -XAtqv ON_ERROR_STOP=1 -c "CREATE TABLE $tbl (case_id bigint UNIQUE, offence text, place text, reported date)" >/dev/null
  check postgres
else
  echo "note: ASTRO_PG_DSN not set; the PostgreSQL half did not run"
fi
