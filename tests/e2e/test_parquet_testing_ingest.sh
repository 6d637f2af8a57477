#!/usr/bin/env bash
# test_parquet_testing_ingest.sh - every file of apache/parquet-testing (data/ and bad_data/)
# through `astro schema infer` and `astro ingest` as Parquet input, when ASTRO_PARQUET_TESTING
# names that folder (scripts/test sets it to ../shared/parquet-testing when it exists; the files
# are never part of this repository); skipped (exit 77) otherwise.
# Per file: schema infer either prints the file's schema (exit 0; a column astro does not read, nested
# or of a type without a dtype, is left out with a warning and the schema says strict: filter; a
# schema reading such a column is refused naming it) or refuses the file as data (exit 1, with a
# message: an unsupported codec, a corrupt footer, no column astro reads), and
# then `astro validate` fails it as data too (exit 1, check "parquet"), never a crash. A file
# with a schema is ingested with it: either it passes and DuckDB reads the same values in
# astro's output as in the file (tests/oracle/pqsame.mjs, row by row), or it fails as data
# (exit 1) with its failure cases written (a corrupt page, a checksum mismatch, values astro
# cannot hold such as the year 290000 of int96_from_spark). Known files are checked by name.
. "$(dirname "$0")/lib.sh"

PT=${ASTRO_PARQUET_TESTING:-}
if [ -z "$PT" ]; then
  echo "SKIP: ASTRO_PARQUET_TESTING is not set (the folder of apache/parquet-testing; scripts/test sets it when ../shared/parquet-testing exists)"
  exit 77
fi
[ -d "$PT/data" ] && [ -d "$PT/bad_data" ] || fail "ASTRO_PARQUET_TESTING=$PT has no data/ and bad_data/"
SAME="$ASTRO_SRC/tests/oracle/pqsame.mjs"

pairs=()
ingested=0
refused=0
failed=0
declare -A verdict left_out
for f in "$PT"/data/*.parquet "$PT"/bad_data/*.parquet; do
  key="$(basename "$(dirname "$f")")/$(basename "$f")"
  d="$T/$(echo "$key" | tr '/' '_')"
  mkdir -p "$d/data"
  cp "$f" "$d/data/x.parquet"
  cd "$d"
  run_astro schema infer data/x.parquet --pandera
  if [ "$RC" = 1 ]; then
    [ -n "$ERR" ] || fail "$key: schema infer refused it without a message"
    why=$ERR
    printf 'pipeline: p\ningest_files:\n  - name: x\n    source_pattern: "x.parquet"\n    schema: {columns: {a: {dtype: int64}}}\n' >astro.yaml
    run_astro validate data/x.parquet
    assert_eq "$RC" "1" "$key: validate fails it as data: $OUT $ERR"
    assert_contains "$OUT" "parquet" "$key: check parquet"
    verdict[$key]="refused: $why"
    refused=$((refused + 1))
    cd "$T"
    continue
  fi
  assert_eq "$RC" "0" "$key: schema infer exit status: $ERR"
  # Columns astro does not read (nested, or of a type without a dtype) are left out with a
  # warning each, and the schema skips them (strict: filter); DuckDB compares the others.
  left=$(printf '%s\n' "$ERR" | sed -n "s/.*left out of the schema: column '\([^']*\)'.*/\1/p" | paste -sd, -)
  if [ -n "$left" ]; then
    assert_contains "$OUT" "strict: filter" "$key: columns left out, strict: filter"
    left_out[$key]=$left
  fi
  printf '%s\n' "$OUT" >s.yaml
  printf 'pipeline: p\ningest_files:\n  - name: x\n    source_pattern: "x.parquet"\n    schema_file: s.yaml\n' >astro.yaml
  run_astro -q ingest data
  if [ "$RC" = 1 ]; then
    e=$(cat .working/*/errors/x.jsonl)
    assert_contains "$e" '"message":' "$key: failure cases written"
    verdict[$key]="failed: $e"
    failed=$((failed + 1))
  else
    assert_eq "$RC" "0" "$key: ingest exit status: $ERR"
    if [ -n "${left_out[$key]+x}" ]; then
      # Not compared: DuckDB cannot read BYTE_STREAM_SPLIT on integer columns; and astro
      # writes every NaN as the positive quiet NaN (a NaN's sign bit is not kept), which
      # floating_orders_nan_count holds as -nan.
      node "$SAME" --skip="${left_out[$key]}" "$d/data/x.parquet" "$(echo "$d"/.working/*/ingested/x.parquet)" >same1.out 2>&1 ||
        grep -q "BYTE_STREAM_SPLIT encoding is only supported for FLOAT or DOUBLE" same1.out ||
        [ "$key" = data/floating_orders_nan_count.parquet ] ||
        fail "$key: astro's output differs from DuckDB's reading: $(cat same1.out)"
      # A schema that reads the column astro cannot read is refused, naming it.
      first=${left_out[$key]%%,*}
      printf 'pipeline: p\ningest_files:\n  - name: x\n    source_pattern: "x.parquet"\n    schema: {strict: false, columns: {}}\n' >astro.yaml
      run_astro validate data/x.parquet
      assert_eq "$RC" "1" "$key: a schema reading $first: $OUT $ERR"
      assert_contains "$OUT" "column '$first'" "$key: the column is named"
      verdict[$key]="ingested, left out: ${left_out[$key]}"
    else
      pairs+=("$d/data/x.parquet" "$(echo "$d"/.working/*/ingested/x.parquet)")
      verdict[$key]=ingested
    fi
    ingested=$((ingested + 1))
  fi
  cd "$T"
done
echo "parquet-testing: $ingested ingested, $failed failed as data, $refused refused as data"
node "$SAME" "${pairs[@]}" >same.out 2>&1 || fail "astro's output differs from DuckDB's reading: $(grep -v '^same' same.out)"
assert_eq "$(grep -c '^same ' same.out)" "$((${#pairs[@]} / 2))" "every ingested file compared with DuckDB"
[ "$ingested" -ge 30 ] || fail "only $ingested files ingested"

# Known files, when present in this version of parquet-testing.
expect() { # KEY WORD(ingested|failed|refused) TEXT
  [ -n "${verdict[$1]+x}" ] || return 0
  assert_contains "${verdict[$1]}" "$2" "$1: $2"
  assert_contains "${verdict[$1]}" "$3" "$1: message"
}
expect data/alltypes_plain.parquet ingested ""
expect data/int32_decimal.parquet ingested ""
expect data/delta_byte_array.parquet ingested ""
expect data/nullable.impala.parquet ingested "left out: int_array"
expect data/datapage_v1-corrupt-checksum.parquet failed "page checksum (CRC-32) mismatch"
expect data/int96_from_spark.parquet failed "is not a valid datetime64[ns]"
expect data/binary_truncated_min_max.parquet failed "is not valid utf-8"
expect bad_data/PARQUET-1481.parquet refused "corrupt footer metadata"
pass "parquet-testing: $ingested files ingested as DuckDB reads them, $failed failed and $refused refused as data, none crashed"
