#!/usr/bin/env bash
# test_xlsx.sh - Excel workbooks (format: xlsx) through astro ingest, validate, schema infer and
# watch. The workbooks are written at test time by two independent writers from Debian,
# python3-openpyxl (inline strings, the 1900 date system, error cells) and python3-xlsxwriter
# (shared strings, rich text, the 1904 date system, formulas with cached values), which also write
# down the cells they wrote; DuckDB (tests/oracle) reads astro's Parquet output back and its rows
# must equal those cells. Also: a sparse row, skipped cells and an empty row, `sheet:` by name,
# the failure cases naming their cell (C17) in the message and the "cell" field, error cells, the
# 1900-02-29 that does not exist, a value outside the header's columns, and malformed workbooks (not
# a zip, a truncated zip, a zip without a workbook, a missing sheet) failing cleanly with exit 1.
. "$(dirname "$0")/lib.sh"
"$PY" -c 'import openpyxl, xlsxwriter' 2>/dev/null ||
  fail "python3-openpyxl and python3-xlsxwriter are needed (scripts/deps installs them)"

COLUMNS='      columns:
        id: {dtype: int64, unique: true}
        name: {dtype: str, nullable: true}
        day: {dtype: date, nullable: true}
        at: {dtype: "datetime64[ns]", nullable: true}
        ok: {dtype: bool, nullable: true}
        amount: {dtype: float64, nullable: true}
        qty: {dtype: int32, nullable: true}
        code: {dtype: str, nullable: true}
        price: {dtype: "decimal(10,2)", nullable: true}'
spec() { # NAME PATTERN [SHEET] -> NAME.yaml
  { printf 'pipeline: xl\nexecution_mode: parallel\ningest_files:\n  - name: %s\n    source_pattern: "%s"\n' "$1" "$2"
    [ -z "${3:-}" ] || printf '    sheet: %s\n' "$3"
    printf '    schema:\n%s\n' "$COLUMNS"; } > "$1.yaml"
}

# The workbooks, and the cells written (expected_*.ndjson: one object per data row, None cells
# left out, dates as ISO text).
"$PY" - <<'PYEOF'
import datetime as dt, json, random
import openpyxl, xlsxwriter
random.seed(11)
HEAD = ["id", "name", "day", "at", "ok", "amount", "qty", "code", "price"]
DAYS = [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(1904, 1, 1),
        dt.date(1970, 1, 1), dt.date(2024, 2, 29), dt.date(9999, 12, 31)]
NAMES = ["Zoë", "a, \"quoted\" name", "line\nbreak", "☃ snow", "x" * 300, "  spaced  ", "123"]
CODES = [7, 0.1, 1e-07, 12345678901, 2.5e+20, -3.25, "x-1", "007"]

def row(i):
    r = {"id": i * 7919 - 10**9}
    if i % 5: r["name"] = random.choice(NAMES)
    if i % 4: r["day"] = random.choice(DAYS) if i % 3 else dt.date(2000, 1, 1) + dt.timedelta(days=random.randint(0, 20000))
    if i % 6: r["at"] = dt.datetime(2024, 1, 31, 12, 34, 56, 789000) if i % 2 else dt.datetime(1990, 1, 1) + dt.timedelta(seconds=random.randint(0, 10**9), milliseconds=random.randint(0, 999))
    if i % 7: r["ok"] = bool(i % 2)
    if i % 3: r["amount"] = random.choice([0.1, -1.5, 1e300, 3.0, round(random.uniform(-1e6, 1e6), 6)])
    if i % 8: r["qty"] = random.randint(-2**31, 2**31 - 1)
    if i % 2: r["code"] = random.choice(CODES)
    if i % 9: r["price"] = round(random.uniform(-99999, 99999), 2)
    return r

def shortest(v):  # the text a number cell gives a str column
    if isinstance(v, str): return v
    if float(v).is_integer() and abs(v) < 1e17: return str(int(v))
    return repr(float(v))

def expected(rows, path):
    with open(path, "w") as f:
        for r in rows:
            o = {}
            for k, v in r.items():
                if k == "code": v = shortest(v)
                elif k in ("day", "at"): v = v.isoformat(sep=" ") if k == "at" else v.isoformat()
                elif k == "price": v = "%.2f" % v
                o[k] = v
            f.write(json.dumps(o) + "\n")

# openpyxl: inline strings, 1900 system; the data on the second sheet, an empty row, a sparse row.
rows = [row(i) for i in range(1, 151)]
wb = openpyxl.Workbook()
wb.active.title = "Cover"
wb.active["A1"] = "not the data"
ws = wb.create_sheet("Orders")
ws.append(HEAD)
for k, r in enumerate(rows):
    if k == 40:
        ws.append([])  # an empty row: skipped
    ws.append([r.get(h) for h in HEAD])
for c in ws.iter_rows(min_row=2):
    for cell in c:
        if cell.column_letter == "C": cell.number_format = "yyyy-mm-dd"
wb.save("orders.xlsx")
expected(rows, "expected_orders.ndjson")

# xlsxwriter: shared strings (rich text too), the 1904 system, formulas with cached values.
rows2 = [row(i) for i in range(1001, 1101)]
# ECMA-376's _xHHHH_ escapes: xlsxwriter writes a control character as _x0007_ and a literal
# "_x0041_" as _x005F_x0041_; both must read back as written.
rows2[2]["name"] = "bell\x07 and a literal _x0041_, tab\there"
wb = xlsxwriter.Workbook("ledger.xlsx", {"date_1904": True, "strings_to_numbers": False})
ws = wb.add_worksheet("Ledger")
bold = wb.add_format({"bold": True})
dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
tfmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss.000"})
ws.write_row(0, 0, HEAD)
for k, r in enumerate(rows2):
    y = k + 1
    for x, h in enumerate(HEAD):
        v = r.get(h)
        if v is None: continue
        if h == "day":
            if v < dt.date(1904, 1, 1): r[h] = v = dt.date(1904, 1, 2)  # before the 1904 system
            ws.write_datetime(y, x, dt.datetime.combine(v, dt.time()), dfmt)
        elif h == "at":
            ws.write_datetime(y, x, v, tfmt)
        elif h == "ok":
            if y % 4 == 0: ws.write_formula(y, x, "=1=1" if v else "=1=2", None, v)
            else: ws.write_boolean(y, x, v)
        elif h == "name" and y % 3 == 0 and len(v) > 2:
            ws.write_rich_string(y, x, v[:2], bold, v[2:])  # two runs, one value
        elif h == "name" and y % 5 == 0:
            ws.write_formula(y, x, '="%s"' % v.replace('"', '""').replace("\n", ""), None, v)
        elif h == "qty" and y % 2 == 0:
            ws.write_formula(y, x, "=%d+0" % v, None, v)  # a formula's cached number
        elif isinstance(v, str):
            ws.write_string(y, x, v)
        else:
            ws.write_number(y, x, v)
wb.close()
expected(rows2, "expected_ledger.ndjson")

# Failures (openpyxl): one bad cell per kind, each named in the failure cases.
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Bad"
ws.append(["id", "name", "n", "day", "note"])
for i in range(2, 21):
    ws.append([i, "r%d" % i, i * 10, dt.date(2020, 1, i), "ok"])
ws["C17"] = "seventeen"           # text in an int64 column
ws["D5"] = 60                     # 1900-02-29: no such day
ws["D6"] = 45000.5                # a time of day in a date column
ws["C9"] = "#N/A"                 # openpyxl writes an error cell
ws["C11"] = 2.5                   # a fraction in an int64 column
ws["H13"] = "stray"               # outside the header's columns (A to E)
wb.save("bad.xlsx")

# A chart sheet first, then the data as a table starting at B3 (Excel's layout of a report).
wb = xlsxwriter.Workbook("charted.xlsx")
cs = wb.add_chartsheet("Chart")
ws = wb.add_worksheet("Data")
ws.write_row(2, 1, ["k", "v"])
ws.write_row(3, 1, ["a", 1]); ws.write_row(5, 1, ["b", 2])
ch = wb.add_chart({"type": "column"})
ch.add_series({"values": "=Data!$C$4:$C$6"})
cs.set_chart(ch)
wb.close()

# ISO 8601 date cells (t="d"), as openpyxl writes them with iso_dates.
wb = openpyxl.Workbook(iso_dates=True)
ws = wb.active
ws.append(["day", "at"])
ws.append([dt.date(2024, 2, 29), dt.datetime(2024, 1, 31, 12, 34, 56, 789000)])
wb.save("iso.xlsx")

# A 1904 workbook whose serial 0 is 1904-01-01; and its first sheet by default.
wb = xlsxwriter.Workbook("d1904.xlsx", {"date_1904": True})
ws = wb.add_worksheet()
ws.write_row(0, 0, ["day"])
ws.write_number(1, 0, 0)
ws.write_number(2, 0, 1462)
wb.close()
PYEOF

DUCK_COLS="{id: 'BIGINT', name: 'VARCHAR', day: 'DATE', 'at': 'TIMESTAMP', ok: 'BOOLEAN', amount: 'DOUBLE', qty: 'INTEGER', code: 'VARCHAR', price: 'DECIMAL(10,2)'}"
SELECT='SELECT id, name, day, CAST("at" AS TIMESTAMP) AS "at", ok, amount, qty, code, CAST(price AS DECIMAL(10,2)) AS price'
check_output() { # PARQUET EXPECTED what
  local want got
  want=$(duck "$SELECT FROM read_json('$T/$2', format='newline_delimited', columns=$DUCK_COLS) ORDER BY id")
  got=$(duck "$SELECT FROM read_parquet('$1') ORDER BY id")
  assert_eq "$(echo "$want" | wc -l)" "$(wc -l < "$2")" "the oracle reads every expected row of $2"
  assert_eq "$got" "$want" "$3"
}

# 1. openpyxl's workbook, sheet: Orders (not the first), 1900 dates, inline strings, sparse rows.
spec orders "orders*.xlsx" Orders
mkdir -p d1 && cp orders.xlsx d1/
run_astro --config orders.yaml -q ingest d1
assert_eq "$RC" "0" "ingest of openpyxl's workbook: $ERR"
RUN=.working/$OUT
check_output "$RUN/ingested/orders.parquet" expected_orders.ndjson \
  "openpyxl's cells (1900 dates incl. 1900-02-28/03-01, inline strings, numbers as str text, skipped cells as null) read exactly"
assert_eq "$(jq_py "$RUN/manifest.json" "[f['sha256'] for f in d['files']][0]")" \
  "$(sha256sum d1/orders.xlsx | cut -d' ' -f1)" "the manifest's sha256 is the delivered workbook's"
pass "openpyxl workbook: every cell read exactly (DuckDB reads astro's Parquet)"

# 2. xlsxwriter's workbook: the first sheet by default, 1904 dates, shared and rich strings,
# formulas with cached values.
spec ledger "ledger*.xlsx"
mkdir -p d2 && cp ledger.xlsx d2/
run_astro --config ledger.yaml -q ingest d2
assert_eq "$RC" "0" "ingest of xlsxwriter's workbook: $ERR"
check_output ".working/$OUT/ingested/ledger.parquet" expected_ledger.ndjson \
  "xlsxwriter's cells (1904 dates, shared strings, rich text runs, formulas' cached values) read exactly"
pass "xlsxwriter workbook: every cell read exactly"

cat > d1904.yaml <<'YAML'
pipeline: xl
execution_mode: parallel
ingest_files:
  - name: d
    source_pattern: "d1904.xlsx"
    schema:
      columns:
        day: {dtype: date}
YAML
mkdir -p d3 && cp d1904.xlsx d3/
run_astro --config d1904.yaml -q ingest d3
assert_eq "$RC" "0" "1904 serials: $ERR"
assert_eq "$(duck "SELECT string_agg(day::VARCHAR, ' ' ORDER BY day) AS d FROM read_parquet('.working/$OUT/ingested/d.parquet')")" \
  '{"d":"1904-01-01 1908-01-02"}' "1904 system: serial 0 is 1904-01-01, 1462 is 1908-01-02"
pass "the 1904 date system"

grep -q 't="d"' <("$PY" -c "import zipfile; print(zipfile.ZipFile('iso.xlsx').read('xl/worksheets/sheet1.xml').decode())") ||
  fail "openpyxl wrote no ISO date cell"
printf 'pipeline: xl\nexecution_mode: parallel\ningest_files:\n  - name: iso\n    source_pattern: "iso.xlsx"\n    schema:\n      columns:\n        day: {dtype: date}\n        at: {dtype: "datetime64[ns]"}\n' > iso.yaml
mkdir -p d6 && cp iso.xlsx d6/
run_astro --config iso.yaml -q ingest d6
assert_eq "$RC" "0" "ISO date cells: $ERR"
assert_eq "$(duck "SELECT day::VARCHAR AS d, CAST(\"at\" AS TIMESTAMP)::VARCHAR AS t FROM read_parquet('.working/$OUT/ingested/iso.parquet')")" \
  '{"d":"2024-02-29","t":"2024-01-31 12:34:56.789"}' "ISO 8601 date cells (t=d) read as dates and datetimes"
pass "ISO 8601 date cells"

# The first worksheet by default, past a chart sheet; a table starting at B3; has_header: false.
printf 'pipeline: xl\nexecution_mode: parallel\ningest_files:\n  - name: ch\n    source_pattern: "charted.xlsx"\n    schema:\n      columns:\n        k: {dtype: str}\n        v: {dtype: int64}\n' > ch.yaml
mkdir -p d5 && cp charted.xlsx d5/
run_astro --config ch.yaml -q ingest d5
assert_eq "$RC" "0" "a workbook whose first sheet is a chart: $ERR"
assert_eq "$(duck "SELECT string_agg(k || '=' || v, ' ' ORDER BY k) AS s FROM read_parquet('.working/$OUT/ingested/ch.parquet')")" \
  '{"s":"a=1 b=2"}' "the first worksheet (past the chart sheet), header at B3, an empty row skipped"
printf 'pipeline: xl\nexecution_mode: parallel\ningest_files:\n  - name: nh\n    source_pattern: "charted.xlsx"\n    has_header: false\n    column_names: [a, k, v]\n    schema:\n      columns:\n        a: {dtype: str, nullable: true}\n        k: {dtype: str}\n        v: {dtype: str}\n' > nh.yaml
run_astro --config nh.yaml validate charted.xlsx
assert_eq "$RC" "0" "has_header: false reads every row from column A: $OUT $ERR"
assert_contains "$OUT" "rows read 3 = valid 3" "has_header: false: the header row is a record too"
printf 'pipeline: xl\ningest_files:\n  - name: c\n    source_pattern: "x.csv"\n    sheet: Data\n    schema:\n      columns:\n        a: {dtype: str}\n' > sc.yaml
run_astro --config sc.yaml validate charted.xlsx
assert_eq "$RC" "2" "sheet: on a CSV entry is a configuration error: $ERR"
assert_contains "$ERR" "sheet is only used with format xlsx" "sheet: on CSV"
pass "chart sheets skipped, tables placed anywhere, has_header: false, sheet: only for xlsx"

# 3. Failure cases name their cell, in the message and in "cell".
cat > bad.yaml <<'YAML'
pipeline: xl
execution_mode: parallel
ingest_files:
  - name: bad
    source_pattern: "bad*.xlsx"
    schema:
      columns:
        id: {dtype: int64}
        name: {dtype: str}
        n: {dtype: int64}
        day: {dtype: date}
        note: {dtype: str}
YAML
run_astro --config bad.yaml validate bad.xlsx --failure-cases-file cases.csv --failure-cases csv
assert_eq "$RC" "1" "a workbook with bad cells is invalid: $OUT $ERR"
assert_contains "$OUT" "cell C17: 'seventeen'" "the summary names cell C17"
run_astro --config bad.yaml validate bad.xlsx --format json
assert_contains "$OUT" '{"line":17,"cell":"C17","value":"seventeen","message":"cell C17: ' "validate --format json names cell C17"
mkdir -p d4 && cp bad.xlsx d4/
run_astro --config bad.yaml -q ingest d4
assert_eq "$RC" "1" "ingest of the bad workbook fails: $ERR"
J=$(ls .working/*/errors/bad.jsonl)
case17=$(grep '"cell":"C17"' "$J")
assert_contains "$case17" '"line":17,"column":"n","cell":"C17","check":"dtype(' "C17: line 17, column n, cell C17"
assert_contains "$case17" '"message":"cell C17: a text cell (' "C17's message names the cell"
assert_contains "$case17" '"raw":"17,r17,seventeen,43847,ok"' "C17's raw: the row's cells as CSV"
assert_contains "$(grep '"cell":"D5"' "$J")" "1900-02-29, a day that does not exist" "D5: serial 60 of the 1900 system"
assert_contains "$(grep '"cell":"D6"' "$J")" "has a time of day" "D6: a time in a date column"
assert_contains "$(grep '"cell":"C9"' "$J")" '"check":"cell_error","value":"#N/A"' "C9: an error cell fails (cell_error)"
assert_contains "$(grep '"cell":"C11"' "$J")" "has a fraction" "C11: 2.5 in an int64 column"
assert_contains "$(grep '"line":13' "$J")" '"check":"sheet_row"' "row 13: a value outside the header fails the row"
assert_contains "$(grep '"line":13' "$J")" "cell H13 holds a value (stray) outside the columns of the header (A to E)" "row 13 names H13"
assert_eq "$(wc -l < "$J")" "6" "six failure cases, one per bad cell"
pass "failure cases name their cell (C17) in the message and in the cell field"

# 4. Malformed workbooks: a clear reason and exit 1 (data), never a crash.
spec orders2 "x.xlsx"
malformed() { # what expected-message
  run_astro --config orders2.yaml validate x.xlsx
  assert_eq "$RC" "1" "$1 exits 1: $OUT $ERR"
  assert_contains "$OUT" "$2" "$1"
}
echo "id,name" > x.xlsx
malformed "a CSV named .xlsx" "not a workbook: the file is not a zip archive"
head -c 4000 orders.xlsx > x.xlsx
malformed "a truncated workbook" "the workbook is truncated or corrupt"
"$PY" -c "import zipfile; z = zipfile.ZipFile('x.xlsx', 'w'); z.writestr('a.txt', 'hi'); z.close()"
malformed "a zip that is not a workbook" "the zip holds no Excel workbook"
"$PY" - <<'PYEOF'
import zipfile
src = zipfile.ZipFile("orders.xlsx")
dst = zipfile.ZipFile("x.xlsx", "w", zipfile.ZIP_DEFLATED)
for i in src.infolist():
    data = src.read(i.filename)
    if i.filename.endswith("worksheets/sheet2.xml"): data = data[: len(data) // 2]
    dst.writestr(i, data)
dst.close()
PYEOF
spec orders2 "x.xlsx" Orders
malformed "a worksheet cut in the middle of its XML" "is not well-formed XML"
cp orders.xlsx x.xlsx
spec orders2 "x.xlsx" Nope
malformed "a sheet: the workbook lacks" "the workbook has no sheet named 'Nope'"
pass "malformed workbooks fail cleanly (exit 1) with their reason"

# 5. astro schema infer: the schema it prints for a sheet validates that sheet.
run_astro schema infer orders.xlsx --sheet Orders --pandera --strict
assert_eq "$RC" "0" "schema infer of a workbook: $ERR"
echo "$OUT" > inferred.yaml
for c in "day:dtype: date" "at:dtype: datetime64[ns]" "ok:dtype: bool" "amount:dtype: float64" "qty:dtype: int32" "code:dtype: str"; do
  assert_eq "$(awk -v col="${c%%:*}" '/^  [^ ]/ { cur = $1 } cur == col ":" && /^    dtype:/ { print col ":dtype: " $2 }' inferred.yaml)" "$c" "inferred $c"
done
printf 'pipeline: xl\nexecution_mode: parallel\ningest_files:\n  - name: inf\n    source_pattern: "orders.xlsx"\n    sheet: Orders\n    schema_file: inferred.yaml\n' > inf.yaml
run_astro --config inf.yaml validate orders.xlsx
assert_eq "$RC" "0" "the inferred schema validates its workbook: $OUT $ERR"
# The default output: an ingest_files block naming the sheet, ready to paste into astro.yaml.
run_astro schema infer orders.xlsx --sheet Orders
assert_eq "$RC" "0" "schema infer of a workbook, astro.yaml block: $ERR"
assert_contains "$OUT" "    sheet: 'Orders'" "the block names the sheet"
{ printf 'pipeline: xl\nexecution_mode: parallel\n'; echo "$OUT"; } > block.yaml
run_astro --config block.yaml validate orders.xlsx
assert_eq "$RC" "0" "the inferred block validates its workbook: $OUT $ERR"
run_astro schema infer bad.xlsx --sheet Nope
assert_eq "$RC" "1" "schema infer of a missing sheet exits 1: $ERR"
run_astro schema infer x.xlsx --delimiter ';'
assert_eq "$RC" "2" "a CSV option for a workbook is a usage error: $ERR"
pass "astro schema infer reads a worksheet; its schema validates the file"

# 6. astro watch: a workbook dropped in incoming/ is loaded into SQLite; a bad one is quarantined
# with its cells named.
mkdir -p w/zone/incoming && cd w
{ printf 'pipeline: xl\nexecution_mode: parallel\ningest_files:\n  - name: orders\n    source_pattern: "orders*.xlsx"\n    sheet: Orders\n    schema:\n%s\n' "$COLUMNS"
  printf '  - name: bad\n    source_pattern: "bad*.xlsx"\n    schema:\n      columns:\n        id: {dtype: int64}\n        n: {dtype: int64}\n      strict: filter\n'
  printf 'targets:\n  db: {kind: sqlite, path: wh.db}\nwatch:\n  root: zone\n  readiness: rename\n  quiet_seconds: 0\n  poll_seconds: 1\n  loads:\n'
  printf '    - {dataset: orders, target: db, table: orders, mode: append, create: true}\n'
  printf '    - {dataset: bad, target: db, table: bad, mode: append, create: true}\n'; } > astro.yaml
cp ../orders.xlsx zone/incoming/orders_1.xlsx
cp ../bad.xlsx zone/incoming/bad_1.xlsx
run_astro watch --once
assert_eq "$RC" "1" "watch --once with a quarantined workbook exits 1: $ERR"
assert_eq "$(ls zone/processed)" "orders_1.xlsx" "the good workbook is processed"
assert_eq "$(sqlq wh.db 'SELECT count(*), count(day), min(day) FROM orders')" \
  "$(wc -l < ../expected_orders.ndjson)|$(grep -c '"day"' ../expected_orders.ndjson)|1900-01-01" "its rows are in SQLite"
assert_contains "$(cat zone/quarantine/bad_1.xlsx.errors.jsonl)" '"cell":"C17"' "the quarantined workbook's report names C17"
pass "astro watch loads a workbook and quarantines a bad one"
