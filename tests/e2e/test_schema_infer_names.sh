#!/usr/bin/env bash
# test_schema_infer_names.sh - `astro schema infer` never prints a schema astro itself refuses
# (issue 16, point 17): for a file with an empty header name, a name that is not UTF-8, a name
# holding a NUL byte, a repeated name, an empty JSON key, or values holding a NUL byte, the printed
# YAML loads back (`astro validate` with it gives a data verdict, never a configuration error),
# stderr says what was renamed, and nothing is cut at a NUL.
. "$(dirname "$0")/lib.sh"

# check_infer FILE FORMAT WANT_RC WARNING: infers FILE's schema, validates FILE with it, expects
# the exit status WANT_RC (0 or 1: never 2) and WARNING on infer's stderr.
check_infer() {
  local f=$1 fmt=$2 want=$3 warning=$4
  # The Pandera form with checks (a schema_file); the encoding is given, not detected: the names
  # here are not valid UTF-8 on purpose.
  local opts=(--pandera --strict)
  [ "$fmt" = csv ] && opts+=(--encoding utf-8)
  run_astro schema infer "$f" "${opts[@]}"
  assert_eq "$RC" "0" "schema infer $f: $ERR"
  "$ASTRO_BIN" schema infer "$f" "${opts[@]}" >"$f.yaml" 2>/dev/null
  [ -n "$warning" ] && assert_contains "$ERR" "$warning" "infer's warning for $f"
  cat >astro.yaml <<YAML
pipeline: infer_names
ingest_files:
  - name: f
    source_pattern: "*"
    format: $fmt
    schema_file: $f.yaml
YAML
  run_astro validate "$f" --spec f
  assert_not_contains "$ERR" "ERROR" "the schema inferred from $f loads back"
  assert_eq "$RC" "$want" "validate $f with the schema inferred from it: $OUT $ERR"
}

# An empty header name becomes column_2: the schema loads, the file fails on its header.
printf 'a,,b\n1,2,3\n4,5,6\n' >empty_name.csv
check_infer empty_name.csv csv 1 "1 header name(s) of empty_name.csv are empty"
assert_contains "$(cat empty_name.csv.yaml)" "  column_2:" "the empty name is column_2"
# ... and column_2 is not taken twice when the file already has one.
printf 'column_2,,x\n1,2,3\n' >empty_taken.csv
check_infer empty_taken.csv csv 1 "are empty"
assert_contains "$(cat empty_taken.csv.yaml)" "  column_2_2:" "a free name for the empty one"
pass "an empty header name is written as column_N; the schema loads back"

# A name that is not UTF-8: each bad byte is the text \xe9; valid UTF-8 stays as it is.
printf 'caf\xe9,b\n1,2\n' >latin_name.csv
check_infer latin_name.csv csv 1 "hold a NUL byte or bytes that are not valid UTF-8"
assert_contains "$(cat latin_name.csv.yaml)" "caf\\xe9" "the bad byte written as text"
printf 'caf\xc3\xa9,b\n1,2\n' >utf8_name.csv
check_infer utf8_name.csv csv 0 ""
assert_contains "$(cat utf8_name.csv.yaml)" "'café':" "a valid UTF-8 name is kept"
pass "a non-UTF-8 header name is escaped; the schema loads back"

# A NUL byte in a name: not cut there (a\x00b, not a).
printf 'a\0b,c\n1,2\n' >nul_name.csv
check_infer nul_name.csv csv 1 "hold a NUL byte"
assert_contains "$(cat nul_name.csv.yaml)" "a\\x00b" "the name is not cut at the NUL"
pass "a header name with a NUL byte is escaped, not cut"

# A repeated name: the second one gets _N, the YAML has no duplicate key.
printf 'a,a\n1,2\n' >dup_name.csv
check_infer dup_name.csv csv 1 "appear more than once"
assert_contains "$(cat dup_name.csv.yaml)" "  a_2:" "the repeat renamed"
pass "a repeated header name is renamed; the schema loads back"

# Values cut at a NUL byte never become an isin list (x\0y1 is not 'x'): the file fails on the
# NUL bytes, the schema loads.
{ echo 'k,v'; for i in $(seq 1 30); do printf 'x\0y%d,%d\n' $((i % 3)) "$i"; done; } >nul_value.csv
check_infer nul_value.csv csv 1 ""
assert_not_contains "$(cat nul_value.csv.yaml)" "isin" "no isin of values cut at NUL"
assert_contains "$OUT" "nul_byte" "the file fails on its NUL bytes"
# The same column without the NUL bytes does get its isin (the guard is the NUL, not the column).
{ echo 'k,v'; for i in $(seq 1 30); do printf 'xy%d,%d\n' $((i % 3)) "$i"; done; } >plain_value.csv
check_infer plain_value.csv csv 0 ""
assert_contains "$(cat plain_value.csv.yaml)" "isin" "an isin for the clean column"
pass "values with a NUL byte are never cut into an isin list"

# NDJSON: an empty key is named column_1 (the file then misses it); the schema loads.
printf '{"": 1, "b": 2}\n{"": 2, "b": 3}\n' >empty_key.ndjson
check_infer empty_key.ndjson ndjson 1 "1 key path(s) of empty_key.ndjson are empty"
pass "an empty JSON key is written as column_N; the schema loads back"
