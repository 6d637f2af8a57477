#!/usr/bin/env bash
# test_validate_cmd.sh - `astro validate FILE`: spec selection, the text and JSON reports with
# exact counts (read = valid + invalid), exit codes, --max-failure-cases, --failure-cases csv
# (Pandera's failure_cases columns, byte for byte) and --fail-fast stopping at the first failure.
. "$(dirname "$0")/lib.sh"

mkdir -p p && cd p
cat > astro.yaml <<'YAML'
pipeline: v
ingest_files:
  - name: t
    source_pattern: "t_*.csv"
    schema:
      strict: true
      columns:
        id: {dtype: int64, unique: true}
        name: {dtype: str}
        amount: {dtype: int32, checks: {ge: 0, le: 100}}
        code: {dtype: str, checks: {isin: [X, Y, Z]}}
  - name: other
    source_pattern: "o_*.csv"
    schema:
      columns:
        a: {dtype: int64}
YAML
# Lines 3, 4, 5, 7 and 8 fail: 8 failure cases in 5 of 7 rows (id 2 fails at 3 and at 7).
cat > t_bad.csv <<'CSV'
id,name,amount,code
1,a,10,X
2,b,-1,Y
3,,5,Z
x4,d,500,Q
5,"e,f",7,X
2,g,1,X
6,h,1
CSV
printf 'id,name,amount,code\n1,a,0,X\n2,"b\nc",100,Z\n' > t_good.csv

run_astro validate t_good.csv
assert_eq "$RC" "0" "valid file exits 0"
assert_eq "$OUT" "VALID: t_good.csv (spec t): rows read 2 = valid 2 + invalid 0; 0 failure case(s), 0 warning(s)" "verdict of a valid file"
pass "a valid file"

run_astro validate t_bad.csv
assert_eq "$RC" "1" "invalid file exits 1"
assert_eq "$(echo "$OUT" | tail -n 2)" "INVALID: t_bad.csv (spec t): rows read 7 = valid 2 + invalid 5; 8 failure case(s), 0 warning(s)
reason: 8 failure case(s) in 5 of 7 rows" "verdict line with exact counts"
assert_contains "$OUT" "amount  less_than_or_equal_to(100)" "per column and check"
assert_contains "$OUT" "    line 5: '500'" "examples with their line numbers"
assert_contains "$OUT" "    line 7: '2'" "unique example"
[ ! -e .working ] || fail "validate must not create a run"
ls -A | grep -q 'parquet' && fail "validate must not write Parquet"
pass "an invalid file: text report"

run_astro validate t_bad.csv --format json
assert_eq "$RC" "1" "json: exit 1"
echo "$OUT" > r.json
assert_eq "$(jq_py r.json '[d["verdict"], d["rows_read"], d["rows_valid"], d["rows_invalid"], d["failure_cases"], d["warnings"], d["capped"], d["stopped"], d["spec"]]')" \
  '["invalid", 7, 2, 5, 8, 0, false, false, "t"]' "json counts"
assert_eq "$(jq_py r.json '[[c["column"], c["check"], c["level"], c["count"], [[x["line"], x["value"]] for x in c["examples"]]] for c in d["checks"]]')" \
  '[["amount", "greater_than_or_equal_to(0)", "error", 1, [[3, "-1"]]], ["id", "field_uniqueness", "error", 2, [[3, "2"], [7, "2"]]], ["name", "not_nullable", "error", 1, [[4, null]]], ["id", "coerce_dtype('"'"'int64'"'"')", "error", 1, [[5, "x4"]]], ["amount", "less_than_or_equal_to(100)", "error", 1, [[5, "500"]]], ["code", "isin(['"'"'X'"'"', '"'"'Y'"'"', '"'"'Z'"'"'])", "error", 1, [[5, "Q"]]], [null, "field_count", "error", 1, [[8, null]]]]' \
  "json groups, counts and examples"
pass "json report"

# The detail is capped, the counts are not.
run_astro validate t_bad.csv --format json --max-failure-cases 2
echo "$OUT" > c.json
assert_eq "$(jq_py c.json '[d["failure_cases"], d["rows_invalid"], d["capped"], d["max_failure_cases"], sum(c["count"] for c in d["checks"]), sum(len(c["examples"]) for c in d["checks"])]')" \
  '[8, 5, true, 2, 8, 2]' "capped: counts exact, two examples stored"
run_astro validate t_bad.csv --max-failure-cases 2
assert_contains "$OUT" "capped at 2 failure cases" "text report says it was capped"
run_astro validate t_bad.csv --max-failure-cases 8
assert_not_contains "$OUT" "capped" "a cap that is not reached is not reported"
run_astro validate t_bad.csv --max-failure-cases 0
assert_eq "$RC" "2" "--max-failure-cases 0 is a usage error"
pass "max_failure_cases"

# Pandera's failure_cases columns: index is the 0-based data row, check_number the 0-based check.
run_astro validate t_bad.csv --failure-cases csv
assert_eq "$RC" "1" "csv: exit 1"
# message and hint follow Pandera's columns: the sentence of errors/*.jsonl, and the hint (none
# here).
assert_eq "$(cat t_bad.failure_cases.csv)" "schema_context,column,check,check_number,failure_case,index,message,hint
Column,amount,greater_than_or_equal_to(0),0,-1,1,'-1' is less than 0,
Column,id,field_uniqueness,,2,1,\"'2' appears again, last at line 7 (column 'id' is unique; every occurrence fails)\",
Column,name,not_nullable,,,2,empty value but column 'name' is not nullable,
Column,id,coerce_dtype('int64'),,x4,3,'x4' is not a valid int64,
Column,amount,less_than_or_equal_to(100),1,500,3,'500' is greater than 100,
Column,code,\"isin(['X', 'Y', 'Z'])\",0,Q,3,\"'Q' is not one of the allowed values ['X', 'Y', 'Z']\",
Column,id,field_uniqueness,,2,5,'2' was already seen at line 3 (column 'id' is unique; every occurrence fails),
DataFrameSchema,,field_count,,,6,\"expected 4 fields, found 3\"," "failure_cases CSV byte for byte"
"$PY" -c 'import csv,sys; r=list(csv.reader(open(sys.argv[1]))); assert len(r)==9 and all(len(x)==8 for x in r), r' t_bad.failure_cases.csv ||
  fail "the CSV does not parse as 8 columns"
run_astro validate t_bad.csv --failure-cases-file out/cases.csv
assert_eq "$RC" "3" "a folder that does not exist is an environment error"
mkdir out
run_astro validate t_bad.csv --failure-cases-file out/cases.csv --max-failure-cases 3
assert_eq "$(wc -l < out/cases.csv)" "4" "the CSV holds the capped detail (header + 3)"
run_astro validate t_good.csv --failure-cases csv
assert_eq "$(cat t_good.failure_cases.csv)" "schema_context,column,check,check_number,failure_case,index,message,hint" "no case: header only"
run_astro validate t_bad.csv --failure-cases json
assert_eq "$RC" "2" "--failure-cases json is refused"
pass "failure cases CSV"

# --fail-fast stops at the first failing row (line 3): later rows are not read or counted; every
# case of that row is reported (its id repeats at line 7: the key pre-pass read the whole file).
run_astro validate t_bad.csv --fail-fast --format json
assert_eq "$RC" "1" "fail-fast: exit 1"
echo "$OUT" > f.json
assert_eq "$(jq_py f.json '[d["rows_read"], d["rows_valid"], d["rows_invalid"], d["failure_cases"], d["stopped"], [c["check"] for c in d["checks"]]]')" \
  '[2, 1, 1, 2, true, ["greater_than_or_equal_to(0)", "field_uniqueness"]]' "fail-fast stops exactly at the first failure"
# A row with several failures is reported whole.
printf 'id,name,amount,code\n1,a,1,X\nx,,-1,Q\n3,c,-5,X\n' > t_multi.csv
run_astro validate t_multi.csv --fail-fast
assert_eq "$(echo "$OUT" | tail -n 2 | head -n 1)" "INVALID: t_multi.csv (spec t): rows read 2 = valid 1 + invalid 1; 4 failure case(s), 0 warning(s); stopped at the first failure (--fail-fast)" "fail-fast reports the whole first failing row"
# A header failure stops before any row.
printf 'id,name,amount,code,extra\n1,a,1,X,e\n' > t_hdr.csv
run_astro validate t_hdr.csv --fail-fast --format json
echo "$OUT" > h.json
assert_eq "$(jq_py h.json '[d["rows_read"], d["failure_cases"], d["stopped"], d["checks"][0]["check"]]')" '[0, 1, true, "column_in_schema"]' "fail-fast on a header failure"
# Without fail-fast in a big file with an early failure, every row is read.
{ echo "id,name,amount,code"; echo "0,a,-1,X"; for i in $(seq 1 20000); do echo "$i,n,1,X"; done; } > t_big.csv
run_astro validate t_big.csv --format json
echo "$OUT" > b.json
assert_eq "$(jq_py b.json '[d["rows_read"], d["rows_invalid"]]')" '[20001, 1]' "default collects everything"
run_astro validate t_big.csv --format json --fail-fast
echo "$OUT" > b.json
assert_eq "$(jq_py b.json '[d["rows_read"], d["rows_invalid"], d["stopped"]]')" '[1, 1, true]' "fail-fast inside the first block"
pass "fail-fast"

# Spec selection (of a file that exists: a missing one is "does not exist", test_commands.sh).
printf 'a\n1\n' > x.csv
run_astro validate x.csv
assert_eq "$RC" "2" "no matching spec: exit 2"
assert_contains "$ERR" "t (t_*.csv), other (o_*.csv)" "the candidates are listed"
cat > two.yaml <<'YAML'
pipeline: v
ingest_files:
  - {name: a, source_pattern: "t_*.csv", schema: {columns: {id: {dtype: int64}}}}
  - {name: b, source_pattern: "*.csv", schema: {columns: {id: {dtype: int64}}}}
YAML
run_astro --config two.yaml validate t_good.csv
assert_eq "$RC" "2" "several matching specs: exit 2"
assert_contains "$ERR" "matches the source_pattern of 2 specs (a, b)" "ambiguous specs named"
run_astro --config two.yaml validate t_good.csv --spec nope
assert_eq "$RC" "2" "unknown --spec: exit 2"
assert_contains "$ERR" "no ingest file named 'nope'" "unknown spec named"
run_astro --config two.yaml validate t_good.csv --spec b --format json
assert_eq "$RC" "0" "--spec picks one of the matching specs"
echo "$OUT" > s.json
assert_eq "$(jq_py s.json '[d["spec"], d["verdict"]]')" '["b", "valid"]' "--spec b is used"
cp t_good.csv renamed.csv
run_astro validate renamed.csv --spec t
assert_eq "$RC" "0" "--spec validates a file whatever its name"
run_astro validate t_missing.csv
assert_eq "$RC" "2" "a missing file is a usage error (issue 14: exit 2, 'does not exist')"
assert_contains "$ERR" "t_missing.csv does not exist" "the message"
run_astro validate
assert_eq "$RC" "2" "no FILE: usage error"
run_astro validate t_good.csv --format xml
assert_eq "$RC" "2" "bad --format: usage error"
run_astro validate --help
assert_eq "$RC" "0" "--help"
assert_contains "$OUT" "--failure-cases" "help names the options"
pass "spec selection and exit codes"

# ---- report_duplicates: Pandera's meaning for unique columns and frame-level unique sets --------
dups_config() { # MODE (empty: not stated)
  cat > dups.yaml <<YAML
pipeline: d
ingest_files:
  - name: d
    source_pattern: "d*.csv"
    schema:
      unique: [a, b]
$( [ -z "$1" ] || echo "      report_duplicates: $1" )
      columns:
        id: {dtype: int64, unique: true}
        a: {dtype: str, nullable: true}
        b: {dtype: int8}
YAML
}
# id 1 repeats at lines 4, 6 and 8 ("01" is the same int); (a, b) = (x, 1) repeats at line 5;
# a null member (line 7) takes no part. report_duplicates applies to the frame-level set only: a
# unique column fails every occurrence (lines 2, 4, 6, 8) in every mode, as Pandera's does.
printf 'id,a,b\n1,x,1\n2,y,1\n1,x,2\n3,x,1\n1,z,9\n4,,1\n01,q,5\n' > d.csv
dups_summary() {
  echo "$OUT" > d.json
  "$PY" -c '
import json
d = json.load(open("d.json"))
print(d["rows_read"], d["rows_valid"], d["rows_invalid"], d["failure_cases"])
for c in d["checks"]:
    print(c["column"], c["check"], c["count"], [x["line"] for x in c["examples"]])'
}
for mode in "" exclude_first; do
  dups_config "$mode"
  run_astro --config dups.yaml validate d.csv --format json
  assert_eq "$(dups_summary)" "7 2 5 5
id field_uniqueness 4 [2, 4, 6, 8]
a, b multiple_fields_uniqueness 1 [5]" "report_duplicates '${mode:-not stated}': the set keeps its first occurrence, the column none"
done
dups_config all
run_astro --config dups.yaml validate d.csv --format json
assert_eq "$(dups_summary)" "7 2 5 6
id field_uniqueness 4 [2, 4, 6, 8]
a, b multiple_fields_uniqueness 2 [2, 5]" "report_duplicates: all fails every occurrence"
run_astro --config dups.yaml validate d.csv --failure-cases-file -
assert_contains "$OUT" "Column,id,field_uniqueness,,1,0" "all: the first occurrence is a failure case (index 0)"
run_astro --config dups.yaml validate d.csv --fail-fast --format json
assert_eq "$(dups_summary)" "1 0 1 2
id field_uniqueness 1 [2]
a, b multiple_fields_uniqueness 1 [2]" "all with --fail-fast: the pre-pass knows line 2 repeats"
dups_config exclude_last
run_astro --config dups.yaml validate d.csv --format json
assert_eq "$(dups_summary)" "7 3 4 5
id field_uniqueness 4 [2, 4, 6, 8]
a, b multiple_fields_uniqueness 1 [2]" "report_duplicates: exclude_last keeps the set's last occurrence"
# Across blocks, with a ragged row (no key) in the middle: the pre-pass reads the same records.
{ echo "id,a,b"; for i in $(seq 1 20000); do echo "$i,k$i,1"; done; echo "5,ragged"; echo "1,again,2"; } > d_big.csv
run_astro --config dups.yaml validate d_big.csv --format json
assert_eq "$(dups_summary)" "20002 19999 3 3
id field_uniqueness 2 [2, 20003]
None field_count 1 [20002]" "exclude_last across blocks (the column: every occurrence)"
dups_config all
run_astro --config dups.yaml validate d_big.csv --format json
assert_eq "$(dups_summary)" "20002 19999 3 3
id field_uniqueness 2 [2, 20003]
None field_count 1 [20002]" "all across blocks"
pass "report_duplicates"

# ---- column default, add_missing_columns, unique_column_names ---------------------------------
mkdir -p ../fo/data && cd ../fo
cat > astro.yaml <<'YAML'
pipeline: fo
execution_mode: parallel
ingest_files:
  - name: f
    source_pattern: "f*.csv"
    schema:
      strict: filter
      add_missing_columns: true
      columns:
        id: {dtype: int64}
        qty: {dtype: int32, default: "0", checks: {ge: 0}}
        region: {dtype: str, nullable: true}
        country: {dtype: str, default: GB, checks: {isin: [GB, IE]}}
        score: {dtype: float64, nullable: true, required: false}
YAML
# region, country and score are missing: added (null, 'GB', null); qty's nulls become 0; the
# repeated undeclared 'junk' is dropped by strict: filter without a failure.
printf 'id,qty,junk,junk\n1,5,a,b\n2,,c,d\n3, ,e,f\n' > data/f1.csv
run_astro validate data/f1.csv --format json
assert_eq "$RC" "0" "default and add_missing_columns: valid: $OUT $ERR"
run_astro ingest data
assert_eq "$RC" "0" "ingest with added columns: $ERR"
run=$(ls .working | grep -E '^[a-z0-9]{5}$')
assert_eq "$(duck "SELECT string_agg(concat_ws('|', id, qty, coalesce(region, 'NULL'), country, coalesce(score::VARCHAR, 'NULL')), ';' ORDER BY id) AS v FROM read_parquet('.working/$run/ingested/f.parquet')")" \
  '{"v":"1|5|NULL|GB|NULL;2|0|NULL|GB|NULL;3|0|NULL|GB|NULL"}' "defaults fill nulls and added columns"
assert_eq "$(duck "SELECT string_agg(name, ',' ORDER BY name) AS c FROM parquet_schema('.working/$run/ingested/f.parquet') WHERE name <> 'schema'")" \
  '{"c":"country,id,qty,region,score"}' "added columns are in the output, junk is not"
# A default is checked like a value: a default outside the checks fails every null.
sed -i 's/default: "0", checks: {ge: 0}/default: "-1", checks: {ge: 0}/' astro.yaml
run_astro validate data/f1.csv --format json
echo "$OUT" > g.json
assert_eq "$(jq_py g.json '[d["rows_invalid"], [[c["column"], c["check"], c["count"]] for c in d["checks"]]]')" \
  '[2, [["qty", "greater_than_or_equal_to(0)", 2]]]' "a filled default goes through the checks"
# A default that is not a value of the dtype is a schema error.
sed -i 's/default: "-1"/default: "x"/' astro.yaml
run_astro validate data/f1.csv
assert_eq "$RC" "2" "a bad default is a configuration error"
assert_contains "$ERR" "default:" "the error names default"
sed -i 's/default: "x"/default: "0"/' astro.yaml
# A missing column that is neither nullable nor has a default cannot be added.
sed -i 's/region: {dtype: str, nullable: true}/region: {dtype: str}/' astro.yaml
run_astro validate data/f1.csv --format json
echo "$OUT" > h.json
assert_eq "$(jq_py h.json '[[c["column"], c["check"]] for c in d["checks"]]')" '[["region", "column_in_dataframe"]]' "non-nullable missing column fails"
assert_contains "$(cat h.json)" '"verdict":"invalid"' "and the file fails"
# unique_column_names: true refuses the repeated undeclared name too.
sed -i 's/region: {dtype: str}/region: {dtype: str, nullable: true}/; s/      add_missing_columns: true/      add_missing_columns: true\n      unique_column_names: true/' astro.yaml
run_astro validate data/f1.csv --format json
echo "$OUT" > u.json
assert_eq "$(jq_py u.json '[[c["column"], c["check"], c["count"]] for c in d["checks"]]')" '[["junk", "dataframe_column_labels_unique", 1]]' "unique_column_names: true"
# Without add_missing_columns the missing required columns fail as before.
sed -i '/add_missing_columns: true/d; /unique_column_names: true/d' astro.yaml
run_astro validate data/f1.csv --format json
echo "$OUT" > m.json
assert_eq "$(jq_py m.json '[[c["column"], c["check"]] for c in d["checks"]]')" '[["region", "column_in_dataframe"], ["country", "column_in_dataframe"]]' "no add_missing_columns: missing columns fail"
pass "default, add_missing_columns, unique_column_names"
