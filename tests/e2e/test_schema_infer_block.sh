#!/usr/bin/env bash
# test_schema_infer_block.sh - `astro schema infer` (issue 14): by default a compact ingest_files
# block ready to paste into astro.yaml, int64 rather than the narrowest integer, observed ranges
# and values as comments (checks only with --strict), floats shortest-exact, null markers seen in
# otherwise typed columns as null_values, and the encoding detected (UTF-8, a BOM, latin-1).
. "$(dirname "$0")/lib.sh"

# A real-shaped export: a city register with coordinates, a category, dates, and the markers
# exporters write for "no value" in numeric and date columns.
"$PY" - <<'PYEOF'
rows = ["id,name,lat,lon,kind,opened,capacity,note"]
kinds = ["school", "library", "pool"]
for i in range(1, 41):
    cap = ["NA", "-", "Unknown"][i % 3] if i % 7 == 0 else str(i * 10)
    opened = "N/A" if i % 9 == 0 else "%02d/%02d/19%02d" % (i % 28 + 1, i % 12 + 1, 50 + i)
    note = "NA" if i % 5 == 0 else "n%d" % i
    lat = "61.218408" if i == 1 else "%.6f" % (47.0 + i / 100)
    rows.append(",".join([str(i), "Place %d" % i, lat, "0.30000000000000004" if i == 2 else "%.4f" % (8.5 + i / 1000),
                          kinds[i % 3], opened, cap, note]))
open("register.csv", "w").write("\n".join(rows) + "\n")
PYEOF

run_astro schema infer register.csv
assert_eq "$RC" "0" "infer: $ERR"
echo "$OUT" > block.txt
# Ready to paste: under a pipeline: line it is an astro.yaml, and the file passes it.
{ echo "pipeline: city"; cat block.txt; } > astro.yaml
run_astro validate register.csv
assert_eq "$RC" "0" "the file passes the pasted block: $OUT $ERR"
# Compact: one line a column (flow style), a few lines around them.
ncols=8
nlines=$(grep -cv '^#' block.txt)
[ "$nlines" -le $((ncols + 8)) ] || fail "the block is not compact: $nlines lines for $ncols columns: $OUT"
assert_contains "$(cat block.txt)" "        id: {dtype: int64}" "id is int64 on one line (not int8: values 1..40)"
read_col() { "$PY" -c 'import yaml,sys; d=yaml.safe_load(open("astro.yaml")); c=d["ingest_files"][0]["schema"]["columns"][sys.argv[1]]; print(c)' "$1"; }
assert_eq "$(read_col id)" "{'dtype': 'int64'}" "no checks by default"
assert_eq "$("$PY" -c 'import yaml; d=yaml.safe_load(open("astro.yaml"))["ingest_files"][0]; print(d["name"], d["source_pattern"], d["encoding"])')" \
  "register register.csv utf-8" "name, source_pattern and encoding"
pass "a compact block that pastes into astro.yaml as it is"

# Observed ranges and values: comments, not checks.
assert_contains "$(grep ' id:' block.txt)" "# observed: 1 to 40" "the id range is a comment"
assert_contains "$(grep ' kind:' block.txt)" "# values seen: ['library', 'pool', 'school']" "the kind values are a comment"
assert_not_contains "$(grep -v "^#" block.txt)" "checks" "no checks without --strict"
# Floats shortest-exact: 61.218408, not 61.218407999999997, and 0.30000000000000004 kept whole.
assert_contains "$(grep ' lat:' block.txt)" "to 61.218408" "lat max shortest"
assert_not_contains "$(cat block.txt)" "61.218407999999997" "not 17 digits when 9 read back exactly"
assert_contains "$(grep ' lon:' block.txt)" "0.30000000000000004 to" "17 digits where fewer do not read back"
pass "observed ranges and values as comments, floats shortest-exact"

# Null markers: NA, -, Unknown in the numeric capacity, N/A in the date; none for the str note,
# where NA is a value.
assert_eq "$(read_col capacity)" "{'dtype': 'int64', 'nullable': True, 'null_values': ['NA', '-', 'Unknown']}" "capacity markers"
assert_eq "$(read_col opened)" "{'dtype': 'date', 'format': '%d/%m/%Y', 'nullable': True, 'null_values': ['N/A']}" "date markers"
assert_eq "$(read_col note)" "{'dtype': 'str'}" "a str column keeps NA as a value"
pass "null markers suggested as null_values where the column is otherwise typed"

# --strict: the narrowest integers and the observed ranges and values as checks; the file passes.
run_astro schema infer register.csv --strict
{ echo "pipeline: city"; echo "$OUT"; } > astro.yaml
assert_eq "$(read_col id)" "{'dtype': 'int8', 'checks': {'greater_than_or_equal_to': 1, 'less_than_or_equal_to': 40}}" "--strict id"
assert_eq "$("$PY" -c 'import yaml; c=yaml.safe_load(open("astro.yaml"))["ingest_files"][0]["schema"]["columns"]["lat"]["checks"]; print(c["less_than_or_equal_to"] == 61.218408, repr(c["less_than_or_equal_to"]))')" \
  "True 61.218408" "--strict float bound reads back exactly"
assert_eq "$(read_col kind)" "{'dtype': 'str', 'checks': {'isin': ['library', 'pool', 'school']}}" "--strict isin"
run_astro validate register.csv
assert_eq "$RC" "0" "the file passes the --strict block: $OUT $ERR"
pass "--strict writes checks"

# Extremes of doubles: each bound reads back as the same double.
printf 'x\n5e-324\n1.7976931348623157e308\n0.1\n' > ext.csv
run_astro schema infer ext.csv --strict
{ echo "pipeline: e"; echo "$OUT"; } > astro.yaml
assert_eq "$("$PY" -c 'import yaml; c=yaml.safe_load(open("astro.yaml"))["ingest_files"][0]["schema"]["columns"]["x"]["checks"]; print(c["greater_than_or_equal_to"] == 5e-324, c["less_than_or_equal_to"] == 1.7976931348623157e308)')" \
  "True True" "subnormal and largest double"
run_astro validate ext.csv
assert_eq "$RC" "0" "ext.csv passes: $ERR"
pass "shortest-exact on extreme doubles"

# Encodings: a UTF-8 BOM, latin-1 (bytes not valid UTF-8), UTF-16 with its BOM.
printf '\xef\xbb\xbfid,name\n1,Z\xc3\xbcrich\n' > bom.csv
run_astro schema infer bom.csv
assert_contains "$OUT" "encoding: utf-8" "BOM file: utf-8"
assert_contains "$OUT" "# detected: UTF-8 with a byte order mark" "the BOM is said"
printf 'id,name\n1,caf\xe9\n2,na\xefve\n' > latin.csv
run_astro schema infer latin.csv
assert_contains "$OUT" "encoding: latin-1" "latin-1 fallback"
assert_contains "$OUT" "# detected: not UTF-8 (line 2)" "why latin-1"
assert_not_contains "$ERR" "not valid" "no encoding warning once read as latin-1"
{ echo "pipeline: l"; echo "$OUT"; } > astro.yaml
run_astro validate latin.csv
assert_eq "$RC" "0" "the latin-1 file passes its block: $OUT $ERR"
"$PY" -c 'open("u16.csv","wb").write("id,name\n1,Zürich\n".encode("utf-16"))'
run_astro schema infer u16.csv
assert_contains "$OUT" "encoding: utf-16" "UTF-16 by its BOM"
{ echo "pipeline: u"; echo "$OUT"; } > astro.yaml
run_astro validate u16.csv
assert_eq "$RC" "0" "the UTF-16 file passes its block: $OUT $ERR"
run_astro schema infer latin.csv --encoding windows-1252
assert_contains "$OUT" "encoding: windows-1252" "a given encoding is kept"
assert_contains "$OUT" "# as given (--encoding)" "and said so"
pass "the encoding detected is written into the block"

# The block of an NDJSON file (format from the name, or given), and of a file whose name holds
# glob characters and spaces: the pasted block matches the file by itself (no --spec).
printf '{"id":1,"c":{"city":"Oslo"},"amount":"3"}\n{"id":2,"c":{"city":"Rome"},"amount":4}\n' > o.ndjson
cp o.ndjson o.txt
for args in "o.ndjson" "o.txt --format ndjson"; do
  run_astro schema infer $args
  assert_eq "$RC" "0" "infer $args: $ERR"
  { echo "pipeline: j"; echo "$OUT"; } > astro.yaml
  run_astro validate ${args%% *}
  assert_eq "$RC" "0" "${args%% *} passes its block: $OUT $ERR"
done
assert_contains "$(cat astro.yaml)" "format: ndjson" "format: when the name does not say it"
assert_contains "$(cat astro.yaml)" "amount: {dtype: str, coerce: true}" "a JSON column of strings and numbers"
printf 'a,b\n1,x\n' > 'export [v2] *final*.csv'
run_astro schema infer 'export [v2] *final*.csv'
{ echo "pipeline: g"; echo "$OUT"; } > astro.yaml
assert_contains "$OUT" "name: export__v2___final_" "the name: the file's, bytes a name cannot hold as _"
run_astro validate 'export [v2] *final*.csv'
assert_eq "$RC" "0" "the escaped pattern matches the file: $OUT $ERR"
pass "JSON blocks and file names with glob characters"
