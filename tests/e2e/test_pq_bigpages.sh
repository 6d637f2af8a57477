#!/usr/bin/env bash
# test_pq_bigpages.sh - Parquet files whose columns are large PLAIN data pages (the reader streams
# pages above 512 KiB decompressed: src/parquet/reader.c, "Large PLAIN pages"), written at test
# time by DuckDB (DataPage V1, one page per column chunk; SNAPPY, ZSTD, GZIP, UNCOMPRESSED),
# hyparquet-writer (V2; SNAPPY, UNCOMPRESSED) and arrow-rs via parquet-wasm (V2; ZSTD, GZIP):
# tests/oracle/bigpages.mjs writes them and checks that their page headers hold what they claim.
# 1. tests/tools/pqdump prints what astro's reader reads, in batches of 1000 and of 7 rows (the
#    same), and it must equal DuckDB's reading of each file, while no column held 1 MiB of page
#    memory (pages of up to 3.9 MB; the zstd files are not bound: their frames' windows decide);
# 2. `astro ingest` of three of them (one per writer): DuckDB reads the same values in astro's
#    output as in the source (tests/oracle/pqsame.mjs).
. "$(dirname "$0")/lib.sh"

BUILD=${ASTRO_BUILD:?ASTRO_BUILD must point at the build directory}
PQDUMP="$BUILD/pqdump"
GEN="$ASTRO_SRC/tests/oracle/bigpages.mjs"
SAME="$ASTRO_SRC/tests/oracle/pqsame.mjs"
[ -x "$PQDUMP" ] || fail "$PQDUMP not built"
for m in parquet-wasm hyparquet-writer apache-arrow; do
  [ -d "$ASTRO_SRC/tests/oracle/node_modules/$m" ] || fail "npm package $m missing: cd tests/oracle && npm install"
done

# ---- 1. astro's reader against DuckDB ----------------------------------------------------------
node "$GEN" gen "$T/w" >"$T/gen.out" 2>&1 || fail "bigpages.mjs gen: $(cat "$T/gen.out")"
n=0
for f in "$T"/w/*.parquet; do
  name=${f%.parquet}
  PQDUMP_PAGE_PEAK="$name.peak" "$PQDUMP" "$f" 1000 >"$name.dump" 2>"$name.err" ||
    fail "$(basename "$f"): pqdump: $(cat "$name.err")"
  "$PQDUMP" "$f" 7 >"$name.dump7" 2>"$name.err" || fail "$(basename "$f"), 7 rows: $(cat "$name.err")"
  cmp -s "$name.dump" "$name.dump7" || fail "$(basename "$f"): batches of 7 rows read differently from batches of 1000"
  n=$((n + 1))
done
[ "$n" -eq 8 ] || fail "only $n files were written"
set +e
node "$GEN" check "$T/w" >"$T/check.out" 2>&1
rc=$?
set -e
cat "$T/check.out"
[ "$rc" -eq 0 ] || fail "astro's reader and DuckDB disagree, or a file does not hold what it claims (above)"
assert_eq "$(grep -c '^ok - ' "$T/check.out")" "$n" "every file checked"
pass "$n files of large PLAIN pages from DuckDB, hyparquet-writer and arrow-rs read as DuckDB reads them, under 1 MiB of page memory per column"

# ---- 2. astro ingest -----------------------------------------------------------------------------
pairs=()
for name in duckdb_v1_snappy hyparquet_v2_snappy arrow_v2_zstd; do
  p="$T/p/$name"
  mkdir -p "$p/data"
  cp "$T/w/$name.parquet" "$p/data/"
  cd "$p"
  cat >astro.yaml <<YAML
pipeline: p
ingest_files:
  - name: x
    source_pattern: "$name.parquet"
    schema:
      strict: true
      columns:
        id: {dtype: int64}
        s: {dtype: str}
        n: {dtype: int64, nullable: true}
        t: {dtype: str, nullable: true}
YAML
  run_astro -q ingest data --threads 2
  assert_eq "$RC" "0" "$name: ingest: $ERR"
  assert_eq "$(jq_py .working/*/manifest.json 'd["files"][0]["rows_valid"]')" "100000" "$name: rows"
  pairs+=("$p/data/$name.parquet" "$(echo "$p"/.working/*/ingested/x.parquet)")
  cd "$T"
done
node "$SAME" "${pairs[@]}" >same.out 2>&1 || fail "astro's output differs from the source: $(cat same.out)"
assert_eq "$(grep -c '^same 100000 rows: ' same.out)" "3" "every pair compared"
pass "astro ingest of large-page files from the three writers: DuckDB reads the same values in the output"
