#!/usr/bin/env bash
# test_encoding_bom.sh - issue 14: a UTF-16 export (what Excel's "Unicode text" and many Windows
# tools write) read as UTF-8 or latin-1 used to give a garbage first column and a field-count
# failure on every line. A byte-order mark that contradicts the declared encoding now fails the
# file at once (exit 1, check "encoding", line 1) with the encoding to declare; with
# `encoding: utf-16` the LE and BE files are read exactly (DuckDB reads the Parquet output), and
# so is `utf-16le` with its BOM.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
text=$'id,name,city\n1,Zoë,Kraków\n2,Ann,Orléans\n'
printf '%s' "$text" | iconv -f utf-8 -t utf-16 > le.csv          # glibc: BOM + little endian
printf '\xfe\xff' > be.csv; printf '%s' "$text" | iconv -f utf-8 -t utf-16be >> be.csv
printf '\xef\xbb\xbf%s' "$text" > u8bom.csv
printf '%s' "$text" | iconv -f utf-8 -t utf-32 > u32.csv
[ "$(head -c 2 le.csv | od -An -tx1 | tr -d ' ')" = "fffe" ] || fail "fixture: UTF-16 LE BOM"
config() { # encoding
  cat > astro.yaml <<YAML
pipeline: bom
execution_mode: parallel
ingest_files:
  - name: people
    source_pattern: "people.csv"
    encoding: $1
    schema:
      columns:
        id: {dtype: int64}
        name: {dtype: str}
        city: {dtype: str}
YAML
}
try() { # fixture encoding -> runs ingest on data/people.csv
  cp "$1" data/people.csv
  config "$2"
  run_astro ingest data
}

for enc in utf-8 latin-1 windows-1252; do
  try le.csv "$enc"
  assert_eq "$RC" "1" "UTF-16 LE declared $enc fails the file"
  run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -1)
  assert_contains "$ERR" "this file is UTF-16 (it starts with a UTF-16 LE byte-order mark), not $enc: set encoding: utf-16" "the message ($enc)"
  errs=$(cat .working/$run/errors/people.jsonl)
  assert_contains "$errs" '"check":"encoding"' "check encoding"
  assert_contains "$errs" '"line":1' "line 1"
  assert_eq "$(grep -c . .working/$run/errors/people.jsonl)" "1" "one failure, not one per line"
  [ ! -e .working/$run/ingested/people.parquet ] || fail "no output"
done
try be.csv utf-8
assert_eq "$RC" "1" "UTF-16 BE declared utf-8"
assert_contains "$ERR" "this file is UTF-16 (it starts with a UTF-16 BE byte-order mark), not utf-8: set encoding: utf-16" "BE"
try u8bom.csv latin-1
assert_eq "$RC" "1" "a UTF-8 BOM declared latin-1"
assert_contains "$ERR" "this file is UTF-8 (it starts with a UTF-8 byte-order mark), not latin-1: set encoding: utf-8" "UTF-8 BOM"
try u32.csv utf-16
assert_eq "$RC" "1" "UTF-32 declared utf-16"
assert_contains "$ERR" "set encoding: utf-32" "UTF-32"
run_astro validate data/people.csv
assert_eq "$RC" "1" "astro validate reaches the same verdict"
pass "a contradicting byte-order mark fails the file at once, naming the encoding"

for f in le.csv be.csv; do
  try "$f" utf-16
  [ "$RC" -eq 0 ] || fail "$f with encoding: utf-16: $ERR"
  assert_eq "$(duck "SELECT string_agg(name || '/' || city, ',' ORDER BY id) AS v FROM '.working/$OUT/ingested/people.parquet'")" \
    '{"v":"Zoë/Kraków,Ann/Orléans"}' "$f read exactly"
done
try le.csv utf-16le
[ "$RC" -eq 0 ] || fail "utf-16le with a BOM: $ERR"
assert_eq "$(duck "SELECT string_agg(name, ',' ORDER BY id) AS v FROM '.working/$OUT/ingested/people.parquet'")" '{"v":"Zoë,Ann"}' "utf-16le"
try u8bom.csv utf-8
[ "$RC" -eq 0 ] || fail "a UTF-8 BOM with utf-8: $ERR"
try u32.csv utf-32
[ "$RC" -eq 0 ] || fail "utf-32: $ERR"
pass "encoding: utf-16 (LE and BE, by their BOM), utf-16le and utf-32 are read exactly"
