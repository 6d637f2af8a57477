#!/usr/bin/env bash
# test_export_formats.sh - issue 14, "formats real exports use": a city's crime incidents as
# PostgreSQL exports them (timestamptz as `2024-02-20 11:08:25+00`, also +HH:MM and +HHMM), full
# month names (%B), a date column in two formats (`format: [A, B]`, the first that parses wins),
# counts with a thousands separator ("3,779", quoted), and a European price list (`1.234,5`:
# thousands "." and decimal "," for the whole file). Every value is read back by DuckDB from the
# Parquet output; a misplaced separator ("3,77,9"), a date in neither format and a '.' in a
# decimal-comma file fail at their line with the expected form in the message.
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
cat > data/incidents.csv <<'CSV'
incident_id,reported_at,month,opened,cases,amount
101,2024-02-20 11:08:25+00,February,2024-02-20,"3,779","1,234.50"
102,2024-02-20 12:08:25+01,MARCH,20/02/2024,12,0.5
103,2024-02-21 17:00:00+05:30,september,2024-03-01,"1,000,000",-7
104,2024-02-21 06:00:00-0500,May,01/03/2024,999,"12,345,678.99"
CSV
printf 'sku;price;qty;weight\nA1;1.234,5;2;0,5\nB2;0,25;1.000;"2.500,125"\n' > data/eu_prices.csv
cat > astro.yaml <<'YAML'
pipeline: exports
execution_mode: parallel
ingest_files:
  - name: incidents
    source_pattern: "incidents.csv"
    schema:
      columns:
        incident_id: {dtype: int64}
        reported_at: {dtype: "datetime64[ns, UTC]"}
        month: {dtype: date, format: "%B"}
        opened: {dtype: date, format: ["%Y-%m-%d", "%d/%m/%Y"], checks: {ge: "2024-01-01"}}
        cases: {dtype: int32, thousands: ","}
        amount: {dtype: "decimal(12,2)", thousands: ",", checks: {ge: -10.5}}
  - name: eu_prices
    source_pattern: "eu_prices.csv"
    delimiter: ";"
    thousands: "."
    decimal: ","
    schema:
      columns:
        sku: {dtype: str}
        price: {dtype: float64, checks: {lt: 10000.5}}
        qty: {dtype: int64}
        weight: {dtype: "decimal(9,3)"}
YAML
run_astro ingest data
[ "$RC" -eq 0 ] || fail "ingest: $ERR"
run=$OUT
pq=".working/$run/ingested"
assert_eq "$(duck "SELECT string_agg(strftime(reported_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'), '|' ORDER BY incident_id) AS t FROM '$pq/incidents.parquet'")" \
  '{"t":"2024-02-20 11:08:25|2024-02-20 11:08:25|2024-02-21 11:30:00|2024-02-21 11:00:00"}' \
  "+00, +01, +05:30 and -0500 offsets are converted to UTC"
assert_eq "$(duck "SELECT string_agg(CAST(month(month) AS VARCHAR), ',' ORDER BY incident_id) AS m FROM '$pq/incidents.parquet'")" \
  '{"m":"2,3,9,5"}' "%B reads full month names in any case"
assert_eq "$(duck "SELECT string_agg(strftime(opened, '%Y-%m-%d'), ',' ORDER BY incident_id) AS o FROM '$pq/incidents.parquet'")" \
  '{"o":"2024-02-20,2024-02-20,2024-03-01,2024-03-01"}' "either format of the list is read"
assert_eq "$(duck "SELECT string_agg(CAST(cases AS VARCHAR), ',' ORDER BY incident_id) AS c, string_agg(CAST(amount AS VARCHAR), ',' ORDER BY incident_id) AS a FROM '$pq/incidents.parquet'")" \
  '{"c":"3779,12,1000000,999","a":"1234.50,0.50,-7.00,12345678.99"}' "thousands separators in int and decimal columns"
assert_eq "$(duck "SELECT string_agg(CAST(price AS VARCHAR), ',' ORDER BY sku) AS p, string_agg(CAST(qty AS VARCHAR), ',' ORDER BY sku) AS q, string_agg(CAST(weight AS VARCHAR), ',' ORDER BY sku) AS w FROM '$pq/eu_prices.parquet'")" \
  '{"p":"1234.5,0.25","q":"2,1000","w":"0.500,2500.125"}' "decimal comma and '.' groups for the whole file"
pass "offsets, %B, format lists and separators read exactly (DuckDB)"

# Failures name the line and the expected form.
cp data/incidents.csv incidents.ok
printf '105,2024-02-22 09:00:00+00,June,2024/03/02,"3,77,9",1\n' >> data/incidents.csv
run_astro validate data/incidents.csv --spec incidents
assert_eq "$RC" "1" "bad values fail the file"
run_astro ingest data
assert_eq "$RC" "1" "ingest fails too"
run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -1)
errs=$(cat .working/$run/errors/incidents.jsonl)
assert_contains "$errs" "'3,77,9' is not a valid int32 (expected thousands separator ',' between groups of three digits and decimal mark '.')" \
  "a misplaced group separator is refused"
assert_contains "$errs" "\"line\":6" "at its line"
assert_contains "$errs" "'2024/03/02' is not a valid date (expected format '%Y-%m-%d' or '%d/%m/%Y')" "neither format"
cp incidents.ok data/incidents.csv
printf 'C3;1.5;1;1\n' >> data/eu_prices.csv
run_astro ingest data
assert_eq "$RC" "1" "a '.' decimal in a decimal-comma file fails"
run=$(ls -t .working | grep -E '^[a-z0-9]{5}$' | head -1)
assert_contains "$(cat .working/$run/errors/eu_prices.jsonl)" "'1.5' is not a valid float64 (expected thousands separator '.' between groups of three digits and decimal mark ',')" \
  "the message gives the file's spelling"
pass "bad separators and dates fail at their line, naming the expected form"

# Configuration errors: separators on a non-number column, equal thousands and decimal, a check
# value written with the column's separators, and separators with a JSON format.
conf() { sed "$1" astro.yaml > bad.yaml; run_astro --config bad.yaml validate data/incidents.csv --spec incidents; }
conf 's/month: {dtype: date, format: "%B"}/month: {dtype: date, format: "%B", thousands: ","}/'
assert_eq "$RC" "2" "thousands on a date column"
assert_contains "$ERR" "thousands and decimal apply to int, uint, float and decimal columns only" "says where they apply"
conf 's/cases: {dtype: int32, thousands: ","}/cases: {dtype: int32, thousands: "."}/'
assert_eq "$RC" "2" "thousands '.' with the default decimal mark"
assert_contains "$ERR" "the thousands separator '.' is also the decimal mark (set decimal: \",\")" "says how to fix it"
conf 's/checks: {ge: -10.5}/checks: {ge: "-1,000"}/'
assert_eq "$RC" "2" "a check value with separators"
assert_contains "$ERR" "'-1,000' is written with the column's separators; check values are plain numbers" "check values are plain"
conf 's/thousands: "\."$/thousands: ";"/'
assert_eq "$RC" "2" "an unknown separator"
assert_contains "$ERR" "ingest_files[1].thousands: expected one of" "names the key"
pass "configuration errors"
