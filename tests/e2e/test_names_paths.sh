#!/usr/bin/env bash
# test_names_paths.sh - hostile names and paths (issue 16, points 8-11 and 17):
# - a source file name and a source folder name that are not UTF-8 are ingested, recorded escaped
#   (\xHH) in manifest.json, the Parquet footer and the log; never "out of memory", never a run
#   folder without a manifest;
# - a file name holding a line break cannot forge a line in astro.log or on the console;
# - a symbolic link that resolves outside the source folder is refused unless the ingest file
#   sets allow_symlinks_outside; a link inside the folder still counts as its file;
# - a FIFO given to validate, schema infer or --config is refused at once (exit 2), never waited on;
# - a missing --config file is a usage error (exit 2).
. "$(dirname "$0")/lib.sh"

mkdir -p p && cd p
cat > astro.yaml <<'YAML'
pipeline: names
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders*.csv"
    schema:
      columns:
        id: {dtype: int64}
YAML
ff=$(printf '\xff')
nl=$'\n'

# --- 8: a file name that is not UTF-8 ----------------------------------------------------------
mkdir -p d8
printf 'id\n1\n2\n' > "d8/orders${ff}.csv"
run_astro ingest d8
assert_eq "$RC" "0" "a non-UTF-8 file name is ingested ($ERR)"
run=$OUT
m=.working/$run/manifest.json
assert_eq "$(jq_py $m 'd["status"]')" "ingested" "manifest: ingested"
assert_eq "$(jq_py $m 'd["files"][0]["source"].endswith("/d8/orders\\xff.csv")')" "True" \
  "manifest: the name is recorded with the byte escaped as \\xff"
assert_eq "$(jq_py $m 'd["files"][0]["rows_read"]')" "2" "manifest: rows"
assert_contains "$(cat .working/$run/astro.log)" 'orders\xff.csv' "astro.log shows the name escaped"
assert_eq "$(duck "SELECT decode(value) = '$PWD/d8/orders\\xff.csv' AS ok FROM parquet_kv_metadata('.working/$run/ingested/orders.parquet') WHERE decode(key) = 'astro.source_file'")" \
  '{"ok":true}' "Parquet footer: the name escaped (valid UTF-8)"
run_astro validate --spec orders --format json "d8/orders${ff}.csv"
assert_eq "$RC" "0" "validate a non-UTF-8 name ($ERR)"
assert_eq "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["file"])')" \
  'd8/orders\xff.csv' "validate --format json: the name escaped as in the manifest"
run_astro --log-format json ingest d8
assert_eq "$RC" "0" "ingest with a JSON log ($ERR)"
assert_contains "$(cat .working/$OUT/astro.log)" "\"msg\":\"validating '$PWD/d8/orders\\\\xff.csv'\"" \
  "the JSON log escapes the name the same way"
pass "a source file name that is not UTF-8 is ingested and recorded escaped"

mkdir -p "dir${ff}"
printf 'id\n3\n' > "dir${ff}/orders.csv"
run_astro ingest "dir${ff}"
assert_eq "$RC" "0" "a non-UTF-8 source folder is ingested ($ERR)"
m=.working/$OUT/manifest.json
assert_eq "$(jq_py $m 'd["source_dir"].endswith("/dir\\xff")')" "True" "manifest: source_dir escaped"
for r in .working/*/; do
  [ -f "$r/manifest.json" ] || fail "run folder $r has no manifest"
done
pass "a source folder name that is not UTF-8 is ingested; every run folder has its manifest"

# --- 9: a line break in a file name ------------------------------------------------------------
mkdir -p d9
forged="orders${nl}2026-01-01T00:00:00.000000+00:00 INFO  run zzzzz ingested: forged.csv"
printf 'id\n1\n' > "d9/$forged"
run_astro ingest d9
assert_eq "$RC" "0" "a file name with a line break is ingested ($ERR)"
log=.working/$OUT/astro.log
if grep -q '^2026-01-01T00:00:00' "$log"; then fail "astro.log has a forged line: $(cat "$log")"; fi
if printf '%s\n' "$ERR" | grep -q '^2026-01-01T00:00:00'; then fail "the console has a forged line: $ERR"; fi
assert_contains "$(cat "$log")" 'orders\n2026-01-01' "astro.log shows the line break escaped"
# An unexpected file whose name holds a line break: the problem list escapes it too.
printf 'x\n' > "d9/extra${nl}2026-01-01T00:00:00.000000+00:00 ERROR forged"
run_astro ingest d9
assert_eq "$RC" "1" "an extra file fails the delivery"
if printf '%s\n' "$ERR" | grep -q '^2026-01-01T00:00:00'; then fail "forged console line: $ERR"; fi
assert_contains "$ERR" "extra: 'extra\\n2026-01-01T" "the problem names the file, escaped"
rm -f d9/extra*
# --log-format json keeps every message one valid JSON object per line.
run_astro --log-format json ingest d9
assert_eq "$RC" "0" "json log ($ERR)"
printf '%s\n' "$ERR" | "$PY" -c 'import json,sys; [json.loads(l) for l in sys.stdin if l.strip()]' ||
  fail "the JSON console log is not one object per line: $ERR"
# A header name holding a line break (quoted) in the failure summary block.
mkdir -p d9h && printf '"id\n2026-01-01T00:00:00.000000+00:00 ERROR forged",id\n1,2\n' > d9h/orders.csv
cat > strict.yaml <<'YAML'
pipeline: strict
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders*.csv"
    schema: {strict: true, columns: {id: {dtype: int64}}}
YAML
run_astro --config strict.yaml ingest d9h
assert_eq "$RC" "1" "the undeclared column fails the file"
log=.working/$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -n 1)/astro.log
if grep -q '^2026-01-01T00:00:00' "$log"; then fail "the summary forged a log line: $(cat "$log")"; fi
assert_contains "$(cat "$log")" 'id\n2026-01-01T00:00:00.000000+00:00 ERROR forged' "the summary escapes the name"
pass "a line break in a file name cannot forge log lines (text and JSON)"

# --- 10: symbolic links ------------------------------------------------------------------------
mkdir -p d10 outside
printf 'id\n41\n42\n' > outside/secret.csv
ln -s "$PWD/outside/secret.csv" d10/orders.csv
run_astro ingest d10
assert_eq "$RC" "1" "a link leading outside the source folder is refused"
assert_contains "$ERR" "link outside the source folder: orders.csv -> $PWD/outside/secret.csv" \
  "the problem names the link and its target"
assert_contains "$ERR" "allow_symlinks_outside" "the message names the opt-in"
# Relative links that climb out are refused the same way.
rm d10/orders.csv && ln -s ../outside/secret.csv d10/orders.csv
run_astro ingest d10
assert_eq "$RC" "1" "a relative link leading outside is refused"
# A link to a file inside the folder is that file: but then the folder holds the target too,
# which must match a pattern of its own; a link to a file in a subfolder is refused (subfolder).
mkdir -p d10b && printf 'id\n7\n' > d10b/orders_real.csv && ln -s orders_real.csv d10b/orders.csv
cat > astro2.yaml <<'YAML'
pipeline: names2
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
    schema: {columns: {id: {dtype: int64}}}
  - name: real
    source_pattern: "orders_real.csv"
    schema: {columns: {id: {dtype: int64}}}
YAML
run_astro --config astro2.yaml ingest d10b
assert_eq "$RC" "0" "a link inside the source folder counts as its file ($ERR)"
# The opt-in, per ingest file.
cat > astro3.yaml <<'YAML'
pipeline: names3
execution_mode: parallel
ingest_files:
  - name: orders
    source_pattern: "orders*.csv"
    allow_symlinks_outside: true
    schema: {columns: {id: {dtype: int64}}}
YAML
run_astro --config astro3.yaml ingest d10
assert_eq "$RC" "0" "allow_symlinks_outside: true lets a link lead outside ($ERR)"
assert_eq "$(duck "SELECT sum(id) AS s FROM read_parquet('.working/$OUT/ingested/orders.parquet')")" \
  '{"s":"83"}' "the linked file's rows"
sed 's/allow_symlinks_outside: true/allow_symlinks_outside: maybe/' astro3.yaml > astro4.yaml
run_astro --config astro4.yaml ingest d10
assert_eq "$RC" "2" "allow_symlinks_outside takes a boolean"
assert_contains "$ERR" "allow_symlinks_outside" "the error names the key"
pass "links must resolve inside the source folder unless allow_symlinks_outside is set"

# --- 11: FIFOs are refused, never waited on ----------------------------------------------------
mkfifo orders_fifo.csv
set +e
timeout 10 "$ASTRO_BIN" validate --spec orders orders_fifo.csv >/dev/null 2>"$T/.e1"; r1=$?
timeout 10 "$ASTRO_BIN" schema infer orders_fifo.csv >/dev/null 2>"$T/.e2"; r2=$?
timeout 10 "$ASTRO_BIN" --config orders_fifo.csv runs >/dev/null 2>"$T/.e3"; r3=$?
set -e
assert_eq "$r1" "2" "validate FIFO: exit 2, not a hang (124)"
assert_eq "$r2" "2" "schema infer FIFO: exit 2, not a hang (124)"
assert_eq "$r3" "2" "--config FIFO: exit 2, not a hang (124)"
for f in "$T/.e1" "$T/.e2" "$T/.e3"; do
  assert_contains "$(cat "$f")" "orders_fifo.csv is a FIFO, not a regular file" "the message says why"
done
pass "validate, schema infer and --config refuse a FIFO at once"

# --- 17: a missing --config is exit 2 ----------------------------------------------------------
run_astro --config nope.yaml runs
assert_eq "$RC" "2" "a missing --config file is a usage error"
assert_contains "$ERR" "nope.yaml" "the message names the file"
pass "a missing --config file is exit 2"
