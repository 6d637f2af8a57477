#!/usr/bin/env bash
# test_formats.sh - NDJSON and JSON input and compressed files (gzip, zstd, bzip2, xz) through
# `astro ingest` and `astro validate`: every value read exactly (DuckDB's read_json reads the same
# file independently and its rows must equal the Parquet output's), the manifest's sha256 and size
# those of the delivered compressed file, the strict JSON type mapping, a missing key as null,
# broken JSON on line 7 as a row failure at line 7, a broken JSON array and a truncated or corrupt
# compressed file as a clean data failure (exit 1), and the format inferred from the name.
. "$(dirname "$0")/lib.sh"

# One spec per config file (a delivery must hold exactly the files of its config); the same
# columns for NDJSON and JSON.
ORDERS_COLUMNS='      columns:
        id: {dtype: int64, unique: true}
        name: {dtype: str, nullable: true}
        email: {dtype: str, nullable: true, path: customer.email}
        city: {dtype: str, nullable: true, path: customer.address.city}
        amount: {dtype: "decimal(12,2)", nullable: true}
        paid: {dtype: bool, nullable: true}
        qty: {dtype: int32, nullable: true}
        ratio: {dtype: float64, nullable: true}
        day: {dtype: date, nullable: true}
        ts: {dtype: "datetime64[ns, UTC]", nullable: true}'
spec() { # NAME PATTERN [FORMAT] -> NAME.yaml
  { printf 'pipeline: formats\nexecution_mode: parallel\ningest_files:\n  - name: %s\n    source_pattern: "%s"\n' "$1" "$2"
    [ -z "${3:-}" ] || printf '    format: %s\n' "$3"
    printf '    schema:\n%s\n' "$ORDERS_COLUMNS"; } > "$1.yaml"
}
spec nd "orders*.ndjson*"
spec arr "orders*.json*"
spec magic "orders_magic.dat" ndjson
cat > csv.yaml <<'YAML'
pipeline: formats
execution_mode: parallel
ingest_files:
  - name: csv
    source_pattern: "orders*.csv*"
    schema:
      columns:
        id: {dtype: int64}
        name: {dtype: str}
        amount: {dtype: "decimal(12,2)"}
YAML

# The NDJSON file: unicode and escapes, nulls and missing keys (nested ones too), decimals written
# as numbers and as strings, integral reals, negative and large values.
"$PY" - <<'PYEOF'
import json, random
random.seed(7)
rows = []
for i in range(1, 401):
    r = {"id": i * 1000003 - 5 * 10**11}
    if i % 7: r["name"] = random.choice(["Zoë", "a \"quoted\" name", "tab\there", "line\nbreak", "", "☃ snow", "x" * 50])
    else: r["name"] = None
    if i % 5: r["customer"] = {"email": f"u{i}@example.com", "address": {"city": random.choice(["Paris", "Köln", None])}}
    elif i % 10 == 0: r["customer"] = {"email": None}
    if i % 3 == 0: r["amount"] = round(random.uniform(-5000, 5000), 2)
    elif i % 3 == 1: r["amount"] = "%.2f" % random.uniform(0, 99999)
    if i % 4: r["paid"] = bool(i % 2)
    if i % 6: r["qty"] = random.randint(-2**31, 2**31 - 1) if i % 11 == 0 else random.randint(0, 100)
    if i % 9 == 0: r["qty"] = 42.0
    if i % 2: r["ratio"] = random.choice([0.1, 1e-7, 12345.678, -3.5, 2.0])
    if i % 8: r["day"] = "2026-%02d-%02d" % (1 + i % 12, 1 + i % 28)
    if i % 5 == 1: r["ts"] = "2026-03-04T05:06:07.123456Z"
    rows.append(r)
with open("orders.ndjson", "w", encoding="utf-8") as f:
    for k, r in enumerate(rows):
        f.write(json.dumps(r, ensure_ascii=(k % 2 == 0)) + ("\r\n" if k % 17 == 0 else "\n"))
        if k % 50 == 0: f.write("\n")  # blank lines are skipped
with open("orders.json", "w", encoding="utf-8") as f:
    json.dump(rows, f, indent=2, ensure_ascii=False)
with open("orders.csv", "w", encoding="utf-8") as f:
    f.write("id,name,amount\n")
    for i in range(1, 301):
        f.write('%d,"n%d, ok",%d.%02d\n' % (i, i, i * 3, i % 100))
PYEOF

# The independent reading of the same file: DuckDB's read_json with explicit columns.
oracle_sql() { # FILE
  echo "SELECT id, name, customer.email AS email, customer.address.city AS city, amount, paid, qty,
          ratio, day, ts FROM read_json('$1', format='newline_delimited', columns={id: 'BIGINT',
          name: 'VARCHAR', customer: 'STRUCT(email VARCHAR, address STRUCT(city VARCHAR))',
          amount: 'DECIMAL(12,2)', paid: 'BOOLEAN', qty: 'INTEGER', ratio: 'DOUBLE', day: 'DATE',
          ts: 'TIMESTAMPTZ'}) ORDER BY id"
}
PQ_SQL="SELECT id, name, email, city, amount, paid, qty, ratio, day, ts FROM read_parquet('%s') ORDER BY id"
grep -v '^\s*$' orders.ndjson > oracle.ndjson
expected=$(duck "$(oracle_sql "$T/oracle.ndjson")")
assert_eq "$(echo "$expected" | wc -l)" "400" "the oracle reads 400 rows"
assert_contains "$expected" '"name":"Zoë"' "the oracle sees unicode"

ingest_one() { # FILE SPEC -> sets RUN (the run folder); the delivery holds FILE alone
  rm -rf d && mkdir d && cp "$1" d/
  run_astro --config "$2.yaml" -q ingest d
  [ "$RC" = 0 ] || fail "ingest of $1 exited $RC: $ERR $OUT"
  RUN=".working/$OUT"
}

ingest_one orders.ndjson nd
assert_eq "$(duck "$(printf "$PQ_SQL" "$RUN/ingested/nd.parquet")")" "$expected" "NDJSON -> Parquet equals DuckDB's read_json"
assert_eq "$(jq_py $RUN/manifest.json '[d["files"][0]["rows_read"], d["files"][0]["rows_valid"]]')" "[400, 400]" "NDJSON counts"
pass "NDJSON read exactly (DuckDB read_json is the oracle)"

ingest_one orders.json arr
assert_eq "$(duck "$(printf "$PQ_SQL" "$RUN/ingested/arr.parquet")")" "$expected" "JSON array -> Parquet equals DuckDB's read_json"
pass "JSON array (pretty-printed) read exactly"

# A missing key is null, a nested path through a missing object too.
assert_eq "$(duck "SELECT count(*) FILTER (WHERE email IS NULL) AS e, count(*) FILTER (WHERE qty IS NULL) AS q FROM read_parquet('$RUN/ingested/arr.parquet')")" \
  "$(duck "SELECT count(*) FILTER (WHERE customer.email IS NULL) AS e, count(*) FILTER (WHERE qty IS NULL) AS q FROM read_json('$T/oracle.ndjson', format='newline_delimited', columns={customer: 'STRUCT(email VARCHAR)', qty: 'INTEGER'})")" \
  "missing keys are nulls"
pass "missing keys are nulls"

csv_expected=$(duck "SELECT * FROM read_csv('$T/orders.csv', header=true, columns={id: 'BIGINT', name: 'VARCHAR', amount: 'DECIMAL(12,2)'}) ORDER BY id")
for codec in gzip zstd bzip2 xz; do
  case $codec in gzip) ext=gz ;; zstd) ext=zst ;; bzip2) ext=bz2 ;; xz) ext=xz ;; esac
  for src in orders.ndjson orders.csv; do
    rm -f "$src.$ext"
    $codec -q -k -c "$src" > "$src.$ext"
    case $src in *.csv) sp=csv ;; *) sp=nd ;; esac
    ingest_one "$src.$ext" $sp
    case $src in
      *.ndjson) got=$(duck "$(printf "$PQ_SQL" "$RUN/ingested/nd.parquet")"); want=$expected ;;
      *.csv) got=$(duck "SELECT * FROM read_parquet('$RUN/ingested/csv.parquet') ORDER BY id"); want=$csv_expected ;;
    esac
    assert_eq "$got" "$want" "$src.$ext read exactly"
    assert_eq "$(jq_py $RUN/manifest.json '[d["files"][0]["sha256"], d["files"][0]["size_bytes"]]')" \
      "[\"$(sha256sum "$src.$ext" | cut -d' ' -f1)\", $(stat -c %s "$src.$ext")]" "$src.$ext: sha256 and size of the delivered file"
  done
done
pass "gzip, zstd, bzip2 and xz of a CSV and an NDJSON file: same rows, manifest describes the compressed file"

# Compression is found by the magic bytes: a gzipped file named .ndjson reads the same.
gzip -c orders.ndjson > orders_magic.dat
ingest_one orders_magic.dat magic
assert_eq "$(duck "$(printf "$PQ_SQL" "$RUN/ingested/magic.parquet")")" "$expected" "gzip found by its magic bytes"
# Several gzip members one after the other read as their concatenation.
head -n 100 orders.ndjson | gzip -c > orders_multi.ndjson.gz
tail -n +101 orders.ndjson | gzip -c >> orders_multi.ndjson.gz
ingest_one orders_multi.ndjson.gz nd
assert_eq "$(duck "$(printf "$PQ_SQL" "$RUN/ingested/nd.parquet")")" "$expected" "a multi-member gzip file"
pass "magic bytes and multi-member gzip"

# A truncated .gz, a corrupt .xz, and a .gz that is not gzip: clean data failures, exit 1.
gzip -c orders.csv > full.gz
head -c $(( $(stat -c %s full.gz) / 2 )) full.gz > orders_trunc.csv.gz
cp orders.csv orders_plain.csv.gz
xz -c orders.ndjson > orders_bad.ndjson.xz
printf 'garbage!' | dd of=orders_bad.ndjson.xz bs=1 seek=200 conv=notrunc status=none
for f in orders_trunc.csv.gz orders_plain.csv.gz orders_bad.ndjson.xz; do
  rm -rf d && mkdir d && cp $f d/
  case $f in *.csv*) sp=csv ;; *) sp=nd ;; esac
  run_astro --config $sp.yaml ingest d
  assert_eq "$RC" "1" "$f: exit 1"
  run=$(ls -t .working | head -n 1)
  assert_eq "$(jq_py .working/$run/manifest.json 'd["files"][0]["status"]')" 'failed' "$f: the file failed"
  assert_contains "$(cat .working/$run/errors/*.jsonl)" '"check":"decompression"' "$f: check decompression"
  [ ! -e .working/$run/ingested/csv.parquet ] && [ ! -e .working/$run/ingested/nd.parquet ] || fail "$f: no output"
  run_astro --config $sp.yaml validate d/$f
  assert_eq "$RC" "1" "$f: validate exits 1"
done
assert_contains "$(cat .working/*/errors/*.jsonl)" "truncated" "the truncated file is called truncated"
assert_contains "$(cat .working/*/errors/*.jsonl)" "does not start with gzip's magic bytes" "a .gz that is not gzip"
pass "truncated and corrupt compressed files fail cleanly (exit 1, check decompression)"

# Broken JSON on line 7 of an NDJSON file: a row failure at line 7; the other rows are fine.
cat > orders_broken.ndjson <<'EOF'
{"id": 1}
{"id": 2}
{"id": 3}
{"id": 4}
{"id": 5}
{"id": 6}
{"id": 7, "name": "unterminated}
{"id": 8}
EOF
run_astro --config nd.yaml validate orders_broken.ndjson --format json
assert_eq "$RC" "1" "broken line: exit 1"
echo "$OUT" > r.json
assert_eq "$(jq_py r.json '[d["rows_read"], d["rows_invalid"], [[c["check"], c["examples"][0]["line"]] for c in d["checks"]]]')" \
  '[8, 1, [["json_record", 7]]]' "a row failure at line 7"
rm -rf d && mkdir d && cp orders_broken.ndjson d/
run_astro --config nd.yaml ingest d
run=$(ls -t .working | head -n 1)
# (the errors report may also hold a row_count_drop warning: earlier deliveries had more rows)
grep '"json_record"' .working/$run/errors/nd.jsonl > nd_record.json
assert_eq "$(jq_py nd_record.json '[d["line"], d["check"], d["raw"]]')" \
  '[7, "json_record", "{\"id\": 7, \"name\": \"unterminated}"]' "errors/nd.jsonl: line, check and raw text"
assert_contains "$(cat .working/$run/errors/nd.jsonl)" "not valid JSON" "the message says why"
pass "broken JSON on line 7 is a row failure at line 7"

# Strict types: "12" in an int column fails unless coerce: true; 2.5 always; an object fails.
cat > orders_types.ndjson <<'EOF'
{"id": 1, "qty": "12"}
{"id": 2, "qty": 2.5}
{"id": 3, "name": {"first": "a"}}
{"id": 4, "paid": "true"}
{"id": 5, "name": 17}
{"id": 6, "qty": [1, 2]}
{"id": 7, "qty": 3.0, "day": "2026-01-02"}
EOF
run_astro --config nd.yaml validate orders_types.ndjson
assert_eq "$RC" "1" "type mismatches fail"
assert_contains "$OUT" "rows read 7 = valid 1 + invalid 6" "one row of seven is valid"
run_astro --config nd.yaml validate orders_types.ndjson --format json
echo "$OUT" > r.json
assert_eq "$(jq_py r.json 'sorted([c["column"], c["check"], [x["line"] for x in c["examples"]]] for c in d["checks"])')" \
  '[["name", "dtype('"'"'str'"'"')", [3, 5]], ["paid", "dtype('"'"'bool'"'"')", [4]], ["qty", "dtype('"'"'int32'"'"')", [1, 2, 6]]]' \
  "the failing values by column"
rm -rf d && mkdir d && cp orders_types.ndjson d/
run_astro --config nd.yaml ingest d
run=$(ls -t .working | head -n 1)
msgs=$(cat .working/$run/errors/nd.jsonl)
assert_contains "$msgs" 'JSON string \"12\" in column '"'"'qty'"'"': a string is not an int32 value unless the column has coerce: true' "string in an int column"
assert_contains "$msgs" "JSON number 2.5 has a fraction" "fraction in an int column"
assert_contains "$msgs" "got a JSON object '{\\\"first\\\":\\\"a\\\"}': only a scalar value fits a column" "object in a scalar column"
assert_contains "$msgs" "got a JSON array '[1,2]'" "array in a scalar column"
# With coerce: true, strings are parsed (a fraction still fails, an object still fails).
sed 's/qty: {dtype: int32, nullable: true}/qty: {dtype: int32, nullable: true, coerce: true}/' nd.yaml > coerce.yaml
run_astro --config coerce.yaml validate orders_types.ndjson --format json
echo "$OUT" > r.json
assert_eq "$(jq_py r.json '[[c["column"], [x["line"] for x in c["examples"]]] for c in d["checks"] if c["column"] == "qty"]')" \
  '[["qty", [2, 6]]]' "coerce: true parses \"12\"; 2.5 and an array still fail"
pass "strict JSON type mapping, coerce, composites"

# Records are parsed on the validating threads: the report does not depend on their number.
# (Blocks: 512 records, then up to 8192: 20000 records make four.)
awk 'BEGIN { for (i = 1; i <= 20000; i++) {
  if (i % 997 == 0) printf "{\"id\": %d, \"qty\": \"%d\"}\n", i, i;
  else if (i % 1499 == 0) printf "{\"id\": %d, \"qty\": \n", i;
  else if (i % 2003 == 0) printf "{\"id\": %d, \"name\": [%d]}\n", i, i;
  else printf "{\"id\": %d, \"qty\": %d, \"customer\": {\"email\": \"u%d@x\"}}\n", i, i % 7, i } }' > orders_mixed.ndjson
run_astro --config nd.yaml validate orders_mixed.ndjson --format json --threads 1
echo "$OUT" > one.json
assert_eq "$(jq_py one.json '[d["rows_read"], d["rows_invalid"]]')" "[20000, 42]" "20 strings, 13 broken lines, 9 arrays"
for n in 2 3 5; do
  run_astro --config nd.yaml validate orders_mixed.ndjson --format json --threads $n
  echo "$OUT" > many.json
  assert_eq "$(jq_py many.json '[d[k] for k in ("rows_read", "rows_invalid", "failure_cases", "checks")]')" \
    "$(jq_py one.json '[d[k] for k in ("rows_read", "rows_invalid", "failure_cases", "checks")]')" "--threads $n reports as --threads 1"
done
pass "the same report with 1, 2, 3 and 5 threads"

# Broken JSON arrays: the structure is lost, so the file fails (check json), exit 1.
printf '[{"id": 1},\n {"id": 2}\n {"id": 3}]' > orders_nocomma.json
printf '[{"id": 1},\n {"id": 2},' > orders_cut.json
printf '{"id": 1}' > orders_notarray.json
for f in orders_nocomma.json orders_cut.json orders_notarray.json; do
  run_astro --config arr.yaml validate $f --format json
  assert_eq "$RC" "1" "$f: exit 1"
  echo "$OUT" > r.json
  assert_eq "$(jq_py r.json '[c["check"] for c in d["checks"]]')" '["json"]' "$f: check json"
done
run_astro --config arr.yaml validate orders_nocomma.json
assert_contains "$OUT" "line 3: expected ',' or ']' after record 2" "the place of a missing comma"
# An element that is not an object is a row failure; the records around it are read.
printf '[{"id": 1}, 5, {"id": 3}]' > orders_scalar.json
run_astro --config arr.yaml validate orders_scalar.json --format json
echo "$OUT" > r.json
assert_eq "$(jq_py r.json '[d["rows_read"], d["rows_invalid"], [c["check"] for c in d["checks"]]]')" '[3, 1, ["json_record"]]' "a scalar element"
pass "broken JSON arrays fail the file; a non-object element fails its row"

# Configuration: JSON formats take no CSV dialect, no header keys and no regex columns.
cat > bad.yaml <<'YAML'
pipeline: b
ingest_files:
  - name: x
    source_pattern: "x.jsonl"
    has_header: false
    schema: {columns: {a: {dtype: int64}}}
YAML
run_astro --config bad.yaml validate orders.ndjson --spec x
assert_eq "$RC" "2" "has_header with ndjson is a config error"
assert_contains "$ERR" "has_header is not used with format ndjson" "the message"
pass "JSON specs refuse CSV-only keys"

# astro schema infer on NDJSON and JSON (compressed too): the columns are the key paths, types
# follow the strict mapping, and the file passes the schema printed for it.
for f in orders.ndjson.zst orders.json; do
  run_astro schema infer $f --pandera
  assert_eq "$RC" "0" "infer $f: $ERR"
  echo "$OUT" > inferred.yaml
  assert_contains "$OUT" "  'customer.address.city':" "infer $f: nested keys are dotted paths"
  assert_contains "$OUT" "$(printf '  ratio:\n    title: null\n    description: null\n    dtype: float64')" "infer $f: numbers"
  assert_contains "$OUT" "$(printf '  day:\n    title: null\n    description: null\n    dtype: date')" "infer $f: date strings"
  # amount holds numbers and strings: str, with coerce so the numbers are taken as text.
  assert_contains "$OUT" "$(printf '  amount:\n    title: null\n    description: null\n    dtype: str\n    nullable: true')" "infer $f: mixed types"
  printf 'pipeline: i\ningest_files:\n  - name: i\n    source_pattern: "%s"\n    schema_file: inferred.yaml\n' "$f" > infer.yaml
  run_astro --config infer.yaml validate $f
  assert_eq "$RC" "0" "$f passes the schema inferred from it: $OUT"
  assert_contains "$OUT" "rows read 400 = valid 400" "every row"
done
pass "schema infer on NDJSON and JSON: the file passes its inferred schema"

# More configuration errors, each naming its place: an unknown format, a regex column, a bad path.
cfg_err() { # YAML-COLUMNS-AND-KEYS EXPECTED-MESSAGE
  printf 'pipeline: b\ningest_files:\n  - name: x\n    source_pattern: "x.ndjson"\n%s\n' "$1" > bad.yaml
  run_astro --config bad.yaml validate orders.ndjson --spec x
  assert_eq "$RC" "2" "config error: $2"
  assert_contains "$ERR" "$2" "config error message"
}
cfg_err '    format: avro
    schema: {columns: {a: {dtype: int64}}}' "format 'avro' is not supported (expected csv, ndjson, json, xlsx or parquet"
cfg_err '    schema: {columns: {"a_.*": {dtype: int64, regex: true}}}' "regex columns are not supported with format ndjson"
cfg_err '    schema: {columns: {a: {dtype: int64, path: "customer..email"}}}' "expected a dotted path of JSON keys"
cfg_err '    encoding: latin-1
    schema: {columns: {a: {dtype: int64}}}' "format ndjson is read as UTF-8"
# format: csv overrides the name: the NDJSON text is then a one-column CSV whose header fails.
printf 'pipeline: b\ningest_files:\n  - name: x\n    source_pattern: "x.ndjson"\n    format: csv\n    schema: {columns: {a: {dtype: int64}}}\n' > csvfmt.yaml
printf 'a\n1\n' > x.ndjson
run_astro --config csvfmt.yaml validate x.ndjson
assert_eq "$RC" "0" "format: csv reads a .ndjson name as CSV: $OUT"
pass "format:, regex columns, path: and encoding are checked in astro.yaml"
