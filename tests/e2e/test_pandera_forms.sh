#!/usr/bin/env bash
# test_pandera_forms.sh - the three YAML forms Pandera writes (tests/data/config/pandera: the older
# to_yaml() with checks as a mapping, the newer one with checks as a list, the flat form), each used
# as a schema_file in astro.yaml and applied by `astro validate` to a realistic file: what passes,
# what fails with which check, and what is only a warning.
. "$(dirname "$0")/lib.sh"
FORMS="$ASTRO_SRC/tests/data/config/pandera"

# config FORM: an astro.yaml whose only spec reads its schema from the fixture of that form.
config() {
  cat > astro.yaml <<YAML
pipeline: forms
ingest_files:
  - name: schools
    source_pattern: "schools*.csv"
    schema_file: $FORMS/$1.yaml
YAML
}
# checks_of: "column check count level" lines of the JSON report in $OUT.
checks_of() {
  echo "$OUT" > r.json
  "$PY" -c '
import json
d = json.load(open("r.json"))
print(d["verdict"], d["rows_read"], d["rows_valid"], d["rows_invalid"], d["failure_cases"], d["warnings"])
for c in d["checks"]:
    print(c["column"], c["check"], c["count"], c["level"], [x["line"] for x in c["examples"]])'
}

# ---- older to_yaml(): checks as a mapping ------------------------------------------------------
config dict_form
cat > schools_ok.csv <<'CSV'
URN,Phase,Capacity,Postcode,LocalAuthority
100001,Primary,300,SW1A 1AA,Westminster
100002,Secondary,,M1 1AE,Manchester
100003,,4999,EC1A 1BB,"City of London"
100004,All-through,0,B33 8TH,Birmingham
CSV
run_astro validate schools_ok.csv --format json
assert_eq "$RC" "0" "dict form: a valid file passes: $OUT $ERR"
# Capacity is required: false, so a file without it is fine too; strict: false keeps LocalAuthority.
printf 'URN,Phase,Postcode\n100009,Primary,N1 9GU\n' > schools_nocap.csv
run_astro validate schools_nocap.csv
assert_eq "$RC" "0" "dict form: an optional column may be absent"
cat > schools_bad.csv <<'CSV'
URN,Phase,Capacity,Postcode
100000,Primary,300,SW1A 1AA
100002,Nursery,5000,M1 1AE
100003,Secondary,12,ABC
100003,Primary,x,N1 9GU
CSV
run_astro validate schools_bad.csv --format json
assert_eq "$RC" "1" "dict form: a bad file fails"
assert_eq "$(checks_of)" "invalid 4 0 4 8 0
URN greater_than(100000) 1 error [2]
Phase isin(['Primary', 'Secondary', 'All-through']) 1 error [3]
Capacity in_range(0, 5000) 1 error [3]
Postcode str_length(5, 8) 1 error [4]
Postcode str_matches('^[A-Z]{1,2}[0-9]') 1 error [4]
URN field_uniqueness 2 error [4, 5]
Capacity coerce_dtype('int64') 1 error [5]" "dict form: every check by its Pandera name, include_max: false honoured, both repeated URNs fail"
pass "older to_yaml form (checks as a mapping)"

# ---- newer to_yaml(): checks as a list of {value, options} -------------------------------------
config list_form
cat > schools_list.csv <<'CSV'
URN,Phase,Capacity,UpdatedAt,Extra
100001,Primary,10,2024-01-01T10:00:00Z,x
100002,Secondary,,2024-01-02 10:00:00+01:00,y
100003,Primary,6000,,z
CSV
run_astro validate schools_list.csv --format json
assert_eq "$RC" "0" "list form: warnings alone pass"
assert_eq "$(checks_of)" "valid 3 3 0 0 2
Capacity capacity out of range 2 warning [3, 4]" "list form: raise_warning and ignore_na: false (a null is a warning too); the check named by its error, as in Pandera"
run_astro validate schools_list.csv
assert_contains "$OUT" "capacity out of range [warning]" "text report marks warnings"
cat > schools_list_bad.csv <<'CSV'
Phase,URN,Capacity,UpdatedAt
Primary,100001,10,2024-01-01T10:00:00Z
Primary,100001,11,2024-01-01
Primary,100002,12,2024-13-01
CSV
run_astro validate schools_list_bad.csv --format json
assert_eq "$RC" "1" "list form: a bad file fails"
assert_eq "$(checks_of)" "invalid 3 0 3 5 0
Phase column_ordered 1 error [1]
URN field_uniqueness 2 error [2, 3]
URN, Phase multiple_fields_uniqueness 1 error [3]
UpdatedAt coerce_dtype('datetime64[ns, UTC]') 1 error [4]" "list form: ordered, unique (every occurrence), frame-level unique (exclude_first), a UTC datetime"
pass "newer to_yaml form (checks as a list)"

# ---- flat form: checks directly under the column -----------------------------------------------
config flat_form
cat > schools_flat.csv <<'CSV'
URN,Phase,Capacity,Email
100001,Primary,10,head@school.org.uk
100002,,6000,office@example.com
100003,Secondary,,
CSV
run_astro validate schools_flat.csv --format json
assert_eq "$RC" "0" "flat form: a valid file (with a warning) passes"
assert_eq "$(checks_of)" "valid 3 3 0 0 1
Capacity in_range(0, 5000) 1 warning [3]" "flat form: raise_warning"
long=$("$PY" -c 'print("a" * 250 + "@b.co")')
printf 'URN,Phase,Capacity,Email,Region\n100001,Primary,1,not-an-address,N\n100002,Primary,1,%s,S\n' "$long" > schools_flat_bad.csv
run_astro validate schools_flat_bad.csv --format json
assert_eq "$RC" "1" "flat form: a bad file fails"
assert_eq "$(checks_of)" "invalid 2 0 2 3 0
Region column_in_schema 1 error [1]
Email str_matches('^[^@]+@[^@]+\$') 1 error [2]
Email e-mail address too long 1 error [3]" "flat form: strict: true, str_matches, str_length (named by its error, as in Pandera)"
run_astro validate schools_flat_bad.csv --failure-cases-file - --max-failure-cases 10
assert_contains "$OUT" "Column,Email,e-mail address too long,1,aaaa" "the check number of the second check of Email"
pass "flat form (checks under the column)"
