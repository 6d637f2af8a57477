#!/usr/bin/env bash
# test_pandera_parity.sh - schema files as Pandera writes them (infer_schema(df).to_yaml() with its
# index block and float bounds on int columns, api, allow_duplicates, check options) read by
# `astro validate` with Pandera's verdicts (checked against Pandera v0.22.1), and the deliberate
# differences (docs/schema.md): values pandas silently corrupts, which astro keeps rejecting.
. "$(dirname "$0")/lib.sh"

# spec SCHEMA_FILE: an astro.yaml whose only spec reads SCHEMA_FILE, for every *.csv.
spec() {
  cat > astro.yaml <<YAML
pipeline: parity
ingest_files:
  - name: c
    source_pattern: "*.csv"
    schema_file: $1
YAML
}
# cases FILE: the failure cases file (column,check,index) of `astro validate FILE`, sorted.
cases() {
  run_astro validate "$1" --failure-cases-file fc.csv --max-failure-cases 100
  "$PY" -c '
import csv
rows = list(csv.DictReader(open("fc.csv")))
for r in sorted(rows, key=lambda r: (r["column"], r["check"], r["index"])):
    print(r["column"], r["check"], r["failure_case"], r["index"], sep="|")'
}

# ---- infer_schema(df).to_yaml() of Pandera 0.22.1, verbatim --------------------------------------
cat > inferred.yaml <<'YAML'
schema_type: dataframe
version: 0.22.1
columns:
  id:
    title: null
    description: null
    dtype: int64
    nullable: false
    checks:
      greater_than_or_equal_to:
        value: 1.0
        options:
          raise_warning: false
          ignore_na: true
      less_than_or_equal_to:
        value: 3.0
        options:
          raise_warning: false
          ignore_na: true
    unique: false
    coerce: false
    required: true
    regex: false
  name:
    title: null
    description: null
    dtype: object
    nullable: false
    checks: null
    unique: false
    coerce: false
    required: true
    regex: false
checks: null
index:
- title: null
  description: null
  dtype: int64
  nullable: false
  checks:
    greater_than_or_equal_to:
      value: 0.0
      options:
        raise_warning: false
        ignore_na: true
    less_than_or_equal_to:
      value: 2.0
      options:
        raise_warning: false
        ignore_na: true
  name: null
  unique: false
  coerce: false
dtype: null
coerce: true
strict: false
name: null
ordered: false
unique: null
report_duplicates: all
unique_column_names: false
add_missing_columns: false
title: null
description: null
YAML
spec inferred.yaml
printf 'id,name\n1,a\n2,b\n3,c\n' > ok.csv
run_astro validate ok.csv
assert_eq "$RC" "0" "the data infer_schema saw passes: $OUT $ERR"
printf 'id,name\n1,a\n2,b\n3,c\n4,d\n' > more.csv
# Pandera: id 4.0 breaks less_than_or_equal_to(3.0) at index 3, and the index 3 breaks
# less_than_or_equal_to(2.0) (column None).
assert_eq "$(cases more.csv)" "|less_than_or_equal_to(2.0)|3|3
id|less_than_or_equal_to(3.0)|4|3" "index checks on the row position, float bounds on int64"
run_astro validate more.csv
assert_eq "$RC" "1" "a fourth row fails"
pass "infer_schema(df).to_yaml() output is read, index and float bounds as Pandera"

# A non-integral bound on an int column stays a schema error.
sed 's/value: 3.0/value: 3.5/' inferred.yaml > half.yaml
spec half.yaml
run_astro validate ok.csv
assert_eq "$RC" "2" "3.5 on int64 is refused"
assert_contains "$ERR" "columns.id.checks.less_than_or_equal_to" "the error names the place"
pass "a non-integral bound on an int column is refused"

# ---- keys newer and older Pandera write ----------------------------------------------------------
cat > keys.yaml <<'YAML'
api: pandas
schema_type: dataframe
drop_invalid_rows: false
columns:
  id:
    dtype: int64
    allow_duplicates: false
    drop_invalid_rows: false
    checks:
      greater_than:
        value: 0
        options: {n_failure_cases: 2, raise_warning: false, ignore_na: true}
      less_than:
        value: 100
        options: {error: "id must stay below 100"}
  tag:
    dtype: str
    allow_duplicates: true
YAML
spec keys.yaml
printf 'id,tag\n1,a\n-1,a\n-2,a\n-3,a\n1,a\n100,a\n' > keys.csv
assert_eq "$(cases keys.csv)" "id|field_uniqueness|1|0
id|field_uniqueness|1|4
id|greater_than(0)|-1|1
id|greater_than(0)|-2|2
id|id must stay below 100|100|5" "n_failure_cases: 2 reports two cases of greater_than; allow_duplicates: false is unique (both 1s fail, as in Pandera); error names the check"
run_astro validate keys.csv --format json
assert_eq "$RC" "1" "the file fails"
assert_contains "$OUT" '"rows_invalid":6' "rows past n_failure_cases still fail (-3: the sixth of 6)"
run_astro validate keys.csv
assert_contains "$OUT" "id must stay below 100" "error replaces the message"
pass "api, allow_duplicates, drop_invalid_rows: false, n_failure_cases, error"

# ---- deliberate differences: pandas corrupts these values, astro refuses them -------------------
cat > corrupt.yaml <<'YAML'
columns:
  i8: {dtype: int8, nullable: true}
  u8: {dtype: uint8, nullable: true}
  b: {dtype: bool, nullable: true, checks: {equal_to: true}}
  f: {dtype: float64, nullable: true}
  d: {dtype: "decimal(5,2)", nullable: true}
  dt: {dtype: "datetime64[ns]", nullable: true}
  day: {dtype: date, nullable: true}
YAML
spec corrupt.yaml
cat > corrupt.csv <<'CSV'
i8,u8,b,f,d,dt,day
128,-1,False,1e400,1.005,2024-01-01T10:00:00+01:00,05/01/2024
127,255,True,1e300,1.00,2024-01-01T10:00:00,2024-01-05
CSV
assert_eq "$(cases corrupt.csv)" "b|equal_to(True)|False|0
d|coerce_dtype('decimal(5,2)')|1.005|0
day|coerce_dtype('date')|05/01/2024|0
dt|coerce_dtype('datetime64[ns]')|2024-01-01T10:00:00+01:00|0
f|coerce_dtype('float64')|1e400|0
i8|coerce_dtype('int8')|128|0
u8|coerce_dtype('uint8')|-1|0" "int8 128, uint8 -1, 'False', 1e400, 1.005 in decimal(5,2), an offset in a naive datetime, 05/01/2024 are refused"
run_astro validate corrupt.csv
assert_eq "$RC" "1" "the file fails"
pass "deliberate differences: values pandas corrupts are refused"

# ---- patterns read as Python's re reads them (Unicode \w \d \s \b) -------------------------------
cat > rx.yaml <<'YAML'
columns:
  w: {dtype: str, nullable: true, checks: {str_matches: '^\w+$'}}
  d: {dtype: str, nullable: true, checks: {str_matches: '^\d+$'}}
  s: {dtype: str, nullable: true, checks: {str_contains: '\s'}}
  b: {dtype: str, nullable: true, checks: {str_contains: '\bJos'}}
YAML
spec rx.yaml
printf 'w,d,s,b\n山田,١٢,a\xc2\xa0b,xJosé\nJosé,１,ab,José\na-b,12a,a b,é Jos\n' > rx.csv
# Pandera v0.22.1: only the values Python's re refuses fail.
assert_eq "$(cases rx.csv)" "b|str_contains('\bJos')|xJosé|0
d|str_matches('^\d+$')|12a|2
s|str_contains('\s')|ab|1
w|str_matches('^\w+$')|a-b|2" "山田 and José are \\w+, ١٢ and １ are \\d, a no-break space is \\s"
pass "patterns are Unicode-aware, as Python's re"

# ---- regex column names match from the start (re.match) ------------------------------------------
cat > names.yaml <<'YAML'
strict: true
columns:
  'foo_*': {regex: true, dtype: int64}
  'bar_\d$': {regex: true, dtype: int64}
YAML
spec names.yaml
printf 'foo_0,foo_12x,bar_1,bar_12\n1,2,3,4\n' > names.csv
assert_eq "$(cases names.csv)" "bar_12|column_in_schema||" "foo_* claims foo_0 and foo_12x; bar_\\d\$ does not claim bar_12"
printf 'bar_1\n1\n' > nofoo.csv
assert_eq "$(cases nofoo.csv)" "foo_*|no_regex_column_match('foo_*')||" "a required pattern nothing matches"
pass "regex column names match from the start, as Pandera's re.match"

# ---- check names as Pandera writes them in failure_cases -----------------------------------------
cat > names2.yaml <<'YAML'
unique: [a, n]
columns:
  a: {dtype: str, checks: {equal_to: x, str_matches: '^(\d{3}|x)', isin: [x, "it's"]}}
  t: {dtype: 'datetime64[ns]', checks: {greater_than: '2010-01-01'}}
  n: {dtype: int64, unique: true}
  b: {dtype: bool, checks: {equal_to: true}}
  f: {dtype: float64, checks: {in_range: {min_value: 0.50, max_value: 2}}}
YAML
spec names2.yaml
printf 'a,t,n,b,f,a\ny,2009-01-01,x,false,3,z\n' > n2.csv
assert_eq "$(cases n2.csv)" "a|dataframe_column_labels_unique||
a|equal_to(x)|y|0
a|isin(['x', \"it's\"])|y|0
a|str_matches('^(\d{3}|x)')|y|0
b|equal_to(True)|false|0
f|in_range(0.5, 2)|3|0
n|coerce_dtype('int64')|x|0
t|greater_than(2010-01-01 00:00:00)|2009-01-01|0" "Pandera's check names"
printf 'a,t,n,b,f\nx,2011-01-01,1,true,1\nx,2011-01-01,1,true,1\n' > n3.csv
assert_eq "$(cases n3.csv)" "a, n|multiple_fields_uniqueness|x, 1|1
n|field_uniqueness|1|0
n|field_uniqueness|1|1" "field_uniqueness and multiple_fields_uniqueness"
pass "check names in failure cases are Pandera's"

# ---- a file as Pandera 0.7 / 0.8 wrote it (allow_duplicates, also on the index) ------------------
cat > v07.yaml <<'YAML'
schema_type: dataframe
version: 0.7.0
columns:
  id:
    dtype: int64
    nullable: false
    checks:
      greater_than_or_equal_to: 1.0
    name: id
    allow_duplicates: false
    coerce: false
    required: true
    regex: false
checks: null
index:
- dtype: int64
  nullable: false
  checks:
    less_than: 2
  name: null
  allow_duplicates: true
  coerce: false
coerce: false
strict: false
YAML
spec v07.yaml
printf 'id\n1\n1\n2\n' > v07.csv
assert_eq "$(cases v07.csv)" "|less_than(2)|2|2
id|field_uniqueness|1|0
id|field_uniqueness|1|1" "allow_duplicates: false is unique; the index's checks run"
pass "a file Pandera 0.7 wrote"

# ---- a frame-level unique key with a null member is a key like any other (pandas' duplicated) ----
cat > fu.yaml <<'YAML'
unique: [a, b]
columns:
  a: {dtype: str, nullable: true}
  b: {dtype: int64, nullable: true}
YAML
spec fu.yaml
printf 'a,b\nx,\nx,\ny,1\n,\n,\n' > fu.csv
assert_eq "$(cases fu.csv)" "a, b|multiple_fields_uniqueness|x, |1
a, b|multiple_fields_uniqueness|, |4" "(x, null) and (null, null) repeat"
run_astro validate fu.csv
assert_eq "$RC" "1" "Pandera's verdict: invalid"
pass "frame-level unique counts keys with a null member"

# ---- timedelta64[ns] (Pandera's own YAML fixture has one): pandas' spellings, ISO 8601, integer
# bounds in nanoseconds named as pandas shows a Timedelta (checked against Pandera v0.22.1) -------
cat > td.yaml <<'YAML'
columns:
  d:
    dtype: timedelta64[ns]
    nullable: true
    checks:
      greater_than: 1000
      less_than: 172800000000000
YAML
spec td.yaml
printf 'd\n1 days 02:03:04\n02:03:04\n-1 days +23:59:59\nP1DT2H3M4S\n2000\n500\n3 days\nx\n\n1h30min\n' > td.csv
assert_eq "$(cases td.csv)" "d|coerce_dtype('timedelta64[ns]')|x|7
d|greater_than(0 days 00:00:00.000001)|-1 days +23:59:59|2
d|greater_than(0 days 00:00:00.000001)|500|5
d|less_than(2 days 00:00:00)|3 days|6" "timedelta values, bounds in nanoseconds, Pandera's check names"
mkdir -p data && rm -f data/*.csv
printf 'd,k\n1 days 02:03:04,1\n-1 days +23:59:59.5,2\nP1DT2H3M4S,3\n2000,4\n,5\n' > data/td_ok.csv
cat > td.yaml <<'YAML'
columns:
  d: {dtype: "timedelta64[ns]", nullable: true}
YAML
run_astro ingest data
assert_eq "$RC" "0" "a timedelta column ingests: $ERR"
pq=".working/$(only_run)/ingested/c.parquet"
assert_eq "$(duck "SELECT typeof(d) AS t, d FROM read_parquet('$pq')")" '{"t":"BIGINT","d":"93784000000000"}
{"t":"BIGINT","d":"-500000000"}
{"t":"BIGINT","d":"93784000000000"}
{"t":"BIGINT","d":"2000"}
{"t":"BIGINT","d":null}' "DuckDB reads the nanoseconds as BIGINT"
assert_eq "$(duck "SELECT to_microseconds(d // 1000)::VARCHAR AS i FROM read_parquet('$pq') LIMIT 1")" \
  '{"i":"26:03:04"}' "an INTERVAL from the nanoseconds"
pass "timedelta64[ns]"

# ---- frame-level checks and dtype (DataFrameSchema(checks=..., dtype=...)): the checks run on
# every column, the dtype overrides every declared column's and types the undeclared ones (not
# nullable when no column is declared, as Pandera's Column(dtype)). Pandera v0.22.1 finds the
# same rows and values (it reports a frame check's case as {column: value}) -------------------------
cat > fc.yaml <<'YAML'
columns:
  a: {dtype: int64}
  b: {dtype: float64}
checks:
  greater_than: 0
YAML
spec fc.yaml
printf 'a,b\n1,1.5\n-1,2\n2,-3\n' > fc.csv
assert_eq "$(cases fc.csv)" "a|greater_than(0)|-1|1
b|greater_than(0)|-3|2" "a frame check runs on every column"
cat > fd.yaml <<'YAML'
dtype: int64
columns:
  a:
    dtype: str
  b:
    checks:
      less_than: 5
YAML
spec fd.yaml
printf 'a,b,c\n1,1,1\nx,2,\n3,9,z\n' > fd.csv
assert_eq "$(cases fd.csv)" "a|coerce_dtype('int64')|x|1
b|less_than(5)|9|2
c|coerce_dtype('int64')|z|2" "the frame dtype overrides a column's and types undeclared ones (a null stays one)"
printf 'dtype: int64\n' > fd0.yaml
spec fd0.yaml
assert_eq "$(cases fd.csv)" "a|coerce_dtype('int64')|x|1
c|coerce_dtype('int64')|z|2
c|not_nullable||1" "no columns: every column is a non-nullable Column(dtype)"
printf 'dtype: int64\nchecks:\n  greater_than: abc\n' > fbad.yaml
spec fbad.yaml
run_astro validate fd.csv
assert_eq "$RC" "2" "a frame check whose argument is not of the frame dtype is a config error"
assert_contains "$ERR" "fbad.yaml:3:17: checks.greater_than" "named where it is written"
pass "frame-level checks and dtype"

# ---- category (Pandera's to_yaml() writes no categories): the column's strings, dictionary-encoded
# in Parquet, read by DuckDB as VARCHAR ---------------------------------------------------------
printf 'columns:\n  c: {dtype: category, nullable: true, checks: {isin: [a, b]}}\n  k: {dtype: int64}\n' > cat.yaml
spec cat.yaml
printf 'c,k\na,1\nb,2\nz,3\n,4\n' > cat.csv
assert_eq "$(cases cat.csv)" "c|isin(['a', 'b'])|z|2" "category: checks run on the strings"
rm -rf data .working && mkdir data
printf 'c,k\na,1\nb,2\n,3\na,4\n' > data/cat_ok.csv
run_astro ingest data
assert_eq "$RC" "0" "a category column ingests: $ERR"
pq=".working/$(only_run)/ingested/c.parquet"
assert_eq "$(duck "SELECT typeof(c) AS t, c FROM read_parquet('$pq') ORDER BY k")" '{"t":"VARCHAR","c":"a"}
{"t":"VARCHAR","c":"b"}
{"t":"VARCHAR","c":null}
{"t":"VARCHAR","c":"a"}' "DuckDB reads the categories as VARCHAR"
assert_contains "$(duck "SELECT encodings FROM parquet_metadata('$pq') WHERE path_in_schema = 'c'")" \
  "DICTIONARY" "dictionary-encoded"
pass "category"

# ---- a column's drop_invalid_rows is scoped to that column's failures: a row failing only there
# is dropped and reported and the file passes; a row failing another column fails it ------------
printf 'columns:\n  a: {dtype: int64, drop_invalid_rows: true, checks: {greater_than: 0}}\n  b: {dtype: int64, checks: {less_than: 10}}\n' > cd.yaml
spec cd.yaml
printf 'a,b\n1,1\n-1,2\n2,3\nx,4\n-5,50\n' > cd_bad.csv
run_astro validate cd_bad.csv
assert_eq "$RC" "1" "a row failing a column without drop_invalid_rows fails the file"
rm -rf data .working && mkdir data
printf 'a,b\n1,1\n-1,2\n2,3\nx,4\n3,5\n' > data/cd.csv
run_astro validate data/cd.csv --format json
assert_eq "$RC" "0" "rows failing only the drop_invalid_rows column: the file passes"
assert_contains "$OUT" '"rows_invalid":2' "both reported as invalid"
run_astro ingest data
assert_eq "$RC" "0" "ingest passes: $ERR"
pq=".working/$(only_run)/ingested/c.parquet"
assert_eq "$(duck "SELECT string_agg(a::VARCHAR, ',' ORDER BY b) AS a FROM read_parquet('$pq')")" \
  '{"a":"1,2,3"}' "the dropped rows are left out"
assert_eq "$(wc -l < .working/$(only_run)/errors/c.jsonl)" "2" "and reported"
pass "column-level drop_invalid_rows"

# ---- a time zone other than UTC (datetime64[ns, Europe/London], the system's tz database): a
# naive value is a wall-clock time of the zone, an offset is converted; a skipped or repeated
# wall-clock time fails; Parquet holds the UTC instant (isAdjustedToUTC) and the zone in its
# key-value metadata; DuckDB reads the right instants --------------------------------------------
printf 'columns:\n  t: {dtype: "datetime64[ns, Europe/London]", nullable: true}\n  k: {dtype: int64}\n' > tz.yaml
spec tz.yaml
printf 't,k\n2024-03-31 01:30:00,1\n2024-10-27 01:30:00,2\n2024-05-01,3\n2045-03-26 01:30:00,4\n2045-10-29 01:30:00,5\n' > tz_bad.csv
assert_eq "$(cases tz_bad.csv)" "t|coerce_dtype('datetime64[ns, Europe/London]')|2024-03-31 01:30:00|0
t|coerce_dtype('datetime64[ns, Europe/London]')|2024-10-27 01:30:00|1
t|coerce_dtype('datetime64[ns, Europe/London]')|2045-03-26 01:30:00|3
t|coerce_dtype('datetime64[ns, Europe/London]')|2045-10-29 01:30:00|4" \
  "skipped and repeated wall-clock times fail, also past the tz database's table (2037: the footer rule)"
rm -rf data .working && mkdir data && cp tz_bad.csv data/
run_astro ingest data
assert_eq "$RC" "1" "the file fails"
assert_contains "$(cat .working/$(only_run)/errors/c.jsonl)" "happened twice in time zone Europe/London" \
  "the repeated time is named"
assert_contains "$(cat .working/$(only_run)/errors/c.jsonl)" "did not happen in time zone Europe/London" \
  "so is the skipped one"
rm -rf data .working && mkdir data
printf 't,k\n2024-01-15 12:00:00,1\n2024-07-15 12:00:00,2\n2024-07-15T12:00:00+02:00,3\n2024-10-27 00:59:59,4\n2024-10-27 02:00:00,5\n,6\n2045-07-15 12:00:00,7\n2045-12-15 12:00:00,8\n' > data/tz.csv
run_astro ingest data
assert_eq "$RC" "0" "a Europe/London column ingests: $ERR"
pq=".working/$(only_run)/ingested/c.parquet"
assert_eq "$(duck "SELECT typeof(t) AS ty, epoch(t)::BIGINT AS s FROM read_parquet('$pq') ORDER BY k")" '{"ty":"TIMESTAMP WITH TIME ZONE","s":"1705320000"}
{"ty":"TIMESTAMP WITH TIME ZONE","s":"1721041200"}
{"ty":"TIMESTAMP WITH TIME ZONE","s":"1721037600"}
{"ty":"TIMESTAMP WITH TIME ZONE","s":"1729987199"}
{"ty":"TIMESTAMP WITH TIME ZONE","s":"1729994400"}
{"ty":"TIMESTAMP WITH TIME ZONE","s":null}
{"ty":"TIMESTAMP WITH TIME ZONE","s":"2383729200"}
{"ty":"TIMESTAMP WITH TIME ZONE","s":"2396952000"}' \
  "DuckDB reads the UTC instants (GMT in January, BST in July, both sides of the change; BST and GMT in 2045, past the table, from the TZif footer rule)"
assert_eq "$(duck "SELECT decode(value) AS v FROM parquet_kv_metadata('$pq') WHERE decode(key) = 'astro.time_zone.t'")" \
  '{"v":"Europe/London"}' "the zone is in the key-value metadata"
printf 'columns:\n  t: {dtype: "datetime64[ns, Mars/Olympus]"}\n' > tz.yaml
run_astro validate data/tz.csv
assert_eq "$RC" "2" "a zone the tz database lacks is a config error"
assert_contains "$ERR" "time zone 'Mars/Olympus' is not in the tz database" "named"
pass "time zones other than UTC"
