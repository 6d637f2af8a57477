#!/usr/bin/env bash
# test_json_positions.sh - where a failure case of a JSON input is: a JSON array's case carries
# the record's line, byte offset and 0-based index in the array, an NDJSON case its line and byte
# offset, both the record's raw text; in errors/*.jsonl, the failure-cases CSV (ingest and
# validate) and `astro validate`'s text and JSON reports. The expected offsets are computed here
# by Python from the bytes it wrote, independently of astro; a large gzipped NDJSON file checks
# offsets past astro's read buffer and through decompression, at 1 and 2 threads. A CSV input
# keeps the report it had (no offset, Pandera's six CSV columns).
. "$(dirname "$0")/lib.sh"

entry() { # NAME PATTERN: one ingest_files entry with the columns id, qty and name
  printf '  - name: %s\n    source_pattern: "%s"\n    schema:\n      columns:\n' "$1" "$2"
  printf '        id: {dtype: int64}\n        qty: {dtype: int32, nullable: true}\n'
  printf '        name: {dtype: str, nullable: true}\n'
}
{ printf 'pipeline: positions\nexecution_mode: parallel\ningest_files:\n'
  entry arr "orders*.json*"; entry nd "orders*.ndjson*"; entry csv "orders*.csv"; } > astro.yaml

# A pretty-printed JSON array whose record 3 (index 2) has a bad value, and an NDJSON file with
# broken JSON in line 7 (after a blank line, so that records and lines differ).
"$PY" - <<'PYEOF'
import json
recs = [{"id": 1, "qty": 1, "name": "Zoë"}, {"id": 2, "qty": 2}, {"id": 3, "qty": "three"},
        {"id": 4, "qty": 4}]
text = "[\n" + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in recs) + "\n]\n"
data = text.encode()
open("orders.json", "wb").write(data)
bad = ("  " + json.dumps(recs[2])).encode()
start = data.index(bad) + 2
open("expect_arr", "w").write("%d %d %s\n" % (data[:start].count(b"\n") + 1, start, json.dumps(recs[2])))
lines = [b'{"id": 1}', b'{"id": 2, "name": "\xc3\xa9t\xc3\xa9"}', b'', b'{"id": 3}', b'{"id": 4}',
         b'{"id": 5}', b'{"id": 6, "qty": oops}', b'{"id": 7}']
data = b"\n".join(lines) + b"\n"
open("orders.ndjson", "wb").write(data)
open("expect_nd", "w").write("%d\n" % data.index(b'{"id": 6'))
PYEOF
read -r aline aoff araw < expect_arr
noff=$(cat expect_nd)
assert_eq "$aline $aoff" "4 66" "the JSON array's bad record (line, byte offset: Zoë is 4 bytes)"

# astro ingest: errors/*.jsonl and the failure-cases CSV.
for f in orders.json orders.ndjson; do
  rm -rf d .working && mkdir d && cp $f d/
  case $f in *.json) s=arr ;; *) s=nd ;; esac
  { printf 'pipeline: positions\nexecution_mode: parallel\ningest_files:\n'; entry $s "$f"; } > one.yaml
  run_astro --config one.yaml -q ingest d --failure-cases csv
  assert_eq "$RC" "1" "$f: ingest exits 1"
  run=$(only_run)
  cp .working/$run/errors/$s.jsonl $s.jsonl
  cp .working/$run/errors/$s.failure_cases.csv $s.csv
done
assert_eq "$(jq_py arr.jsonl '[d["line"], d["offset"], d["record"], d["column"], d["raw"]]')" \
  "[$aline, $aoff, 2, \"qty\", $("$PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$araw")]" \
  "errors/arr.jsonl: line, byte offset, record index and raw text"
assert_eq "$(head -c 61 arr.jsonl)" '{"file":"arr","line":4,"offset":66,"record":2,"column":"qty",' \
  "errors/arr.jsonl: the keys' order"
assert_eq "$(jq_py nd.jsonl '[d["line"], d["offset"], "record" in d, d["check"], d["raw"]]')" \
  "[7, $noff, false, \"json_record\", \"{\\\"id\\\": 6, \\\"qty\\\": oops}\"]" \
  "errors/nd.jsonl: line 7, its byte offset and raw text, no record index"
assert_eq "$(cat arr.csv)" "schema_context,column,check,check_number,failure_case,index,message,hint,line,offset,raw
Column,qty,dtype('int32'),,three,2,\"JSON string \"\"three\"\" in column 'qty': a string is not an int32 value unless the column has coerce: true\",,4,66,\"{\"\"id\"\": 3, \"\"qty\"\": \"\"three\"\"}\"" \
  "arr.failure_cases.csv: Pandera's columns, message and hint, then line, offset and raw"
assert_eq "$(tail -n 1 nd.csv)" "DataFrameSchema,,json_record,,,5,not valid JSON: invalid token near 'oops' (column 21),,7,$noff,\"{\"\"id\"\": 6, \"\"qty\"\": oops}\"" \
  "nd.failure_cases.csv: index 5 (the sixth record), line 7"
pass "astro ingest: errors/*.jsonl and the failure-cases CSV carry line, offset, record and raw"

# astro validate: text, JSON and the failure-cases CSV.
run_astro validate orders.json --spec arr
assert_eq "$RC" "1" "validate exits 1"
assert_contains "$OUT" "    line 4 (record 2, byte 66): 'three': JSON string \"three\" in column 'qty': a string is not an int32 value unless the column has coerce: true
      record: '{\"id\": 3, \"qty\": \"three\"}'" "validate text: where, and the record's text"
run_astro validate orders.ndjson --spec nd
assert_contains "$OUT" "    line 7 (byte $noff): not valid JSON: invalid token near 'oops' (column 21)
      record: '{\"id\": 6, \"qty\": oops}'" "validate text, NDJSON: line 7 and its byte offset"
run_astro validate orders.json --spec arr --format json
echo "$OUT" > v.json
assert_eq "$(jq_py v.json '[{k: v for k, v in x.items() if k not in ("message", "hint")} for x in d["checks"][0]["examples"]]')" \
  '[{"line": 4, "offset": 66, "raw": "{\"id\": 3, \"qty\": \"three\"}", "record": 2, "value": "three"}]' \
  "validate JSON: line, offset, record, value and raw"
run_astro validate orders.ndjson --spec nd --format json
echo "$OUT" > v.json
assert_eq "$(jq_py v.json '[{k: v for k, v in x.items() if k not in ("message", "hint")} for x in d["checks"][0]["examples"]]')" \
  "[{\"line\": 7, \"offset\": $noff, \"raw\": \"{\\\"id\\\": 6, \\\"qty\\\": oops}\", \"value\": null}]" \
  "validate JSON, NDJSON: no record index"
run_astro validate orders.json --spec arr --failure-cases csv --failure-cases-file -
assert_contains "$OUT" "unless the column has coerce: true\",,4,66," "validate --failure-cases csv"
pass "astro validate: text and JSON reports and the CSV carry the same positions"

# A large gzipped NDJSON file: offsets far past the read buffer (256 KiB) and of the decompressed
# text; the same report at 1 and 2 threads.
"$PY" - <<'PYEOF'
import gzip, json
out, expect, off = [], [], 0
for i in range(1, 40001):
    if i % 9973 == 0:
        line = '{"id": %d, "qty": "x%d"}' % (i, i)
        expect.append([i, off, "qty", line])
    elif i % 13007 == 0:
        line = '{"id": %d, "qty": ' % i
        expect.append([i, off, None, line])
    else:
        line = json.dumps({"id": i, "qty": i % 100, "name": "n%d " % i + "é" * (i % 5)}, ensure_ascii=False)
    b = (line + "\n").encode()
    out.append(b)
    off += len(b)
open("big.json", "w").write(json.dumps(expect))
with gzip.open("orders_big.ndjson.gz", "wb") as f:
    f.write(b"".join(out))
PYEOF
for t in 1 2; do
  run_astro validate orders_big.ndjson.gz --spec nd --format json --threads $t
  assert_eq "$RC" "1" "big file: exit 1"
  echo "$OUT" > v.json
  assert_eq "$(jq_py v.json 'sorted([x["line"], x["offset"], c["column"], x["raw"]] for c in d["checks"] for x in c["examples"])')" \
    "$(jq_py big.json 'sorted(d)')" "big .ndjson.gz at $t thread(s): offsets of the decompressed text"
done
pass "offsets past the read buffer and through gzip, at 1 and 2 threads"

# CSV input: the report keeps its form (no offset, no record; Pandera's six columns).
printf 'id,qty,name\n1,2,a\n2,x,b\n' > orders.csv
run_astro validate orders.csv --spec csv --format json --failure-cases csv --failure-cases-file cases.csv
echo "$OUT" > v.json
assert_eq "$(jq_py v.json '[{k: v for k, v in x.items() if k not in ("message", "hint")} for x in d["checks"][0]["examples"]]')" '[{"line": 3, "value": "x"}]' "CSV: line and value only"
assert_eq "$(head -n 1 cases.csv)" "schema_context,column,check,check_number,failure_case,index,message,hint" "CSV: Pandera's header, message and hint, no positions"
pass "a CSV input's report is unchanged"
