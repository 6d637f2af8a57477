#!/usr/bin/env bash
# test_schema_infer.sh - `astro schema infer`: the dtypes, nullability and checks it proposes, and
# the property that matters: the file it was inferred from passes the printed schema (checked with
# `astro validate` on the bundled school register files, an edge-case file and random files).
. "$(dirname "$0")/lib.sh"

# infer_then_validate FILE ENCODING [extra ingest keys]: the file passes both forms inferred from
# it: the astro.yaml block (pasted under a pipeline: line as it is) and, in inferred.yaml, the
# Pandera document with checks (--pandera --strict) used as a schema_file.
infer_then_validate() {
  local f=$1 enc=$2 extra=${3:-}
  local nh=$( [ -n "$extra" ] && echo --no-header )
  run_astro schema infer "$f" --encoding "$enc" $nh
  [ "$RC" -eq 0 ] || fail "infer $f: exit $RC: $ERR"
  { echo "pipeline: infer_block"; echo "$OUT"; } > block.yaml
  run_astro --config block.yaml validate "$f"
  [ "$RC" -eq 0 ] || fail "the file $f does not pass the astro.yaml block inferred from it: $OUT $ERR"
  run_astro schema infer "$f" --encoding "$enc" $nh --pandera --strict
  [ "$RC" -eq 0 ] || fail "infer $f: exit $RC: $ERR"
  echo "$OUT" > inferred.yaml
  cat > astro.yaml <<YAML
pipeline: infer
ingest_files:
  - name: f
    source_pattern: "*"
    encoding: $enc
$extra
    schema_file: inferred.yaml
YAML
  run_astro validate "$f" --spec f
  [ "$RC" -eq 0 ] || fail "the file $f does not pass the schema inferred from it: $OUT $ERR"
}

cp "$ASTRO_SRC"/examples/schools/data/*.csv .
for f in edubasealldata20261122.csv links_20261122.csv; do
  infer_then_validate "$f" windows-1252
done
assert_contains "$(cat inferred.yaml)" "schema_type: dataframe" "Pandera YAML"
pass "the school register files pass the schemas inferred from them"

# Edge cases: leading zeros stay str, words true/false are bool, 0/1 are int8, dd-mm-yyyy dates
# get a format, offsets make a UTC datetime, nan keeps floats without a range, a quoted empty
# string is a value in a str column, YAML-hostile values are quoted, non-ASCII text.
"$PY" - <<'PYEOF'
import csv, random
random.seed(7)
rows = []
statuses = ["open", "closed", "null", "it's", "a: b", "#x", "123", "Zürich", "", "two\nlines"]
for i in range(60):
    rows.append([
        "%05d" % i,                                   # code: leading zeros
        str(i * 1000 - 3),                            # n: int32 range
        random.choice(["True", "false", "YES", "no"]),# flag: bool words
        random.choice(["0", "1"]),                    # bit: int8
        "%02d-%02d-20%02d" % (random.randint(1, 28), random.randint(1, 12), random.randint(0, 30)),
        "2024-01-%02dT10:00:00+01:00" % random.randint(1, 28),
        random.choice(["1.5", "-2.25", "nan", "3"]),  # f: float with nan
        str(i / 7),                                   # g: finite floats
        statuses[i % len(statuses)],                  # status: isin with hostile values
        "" if i % 5 == 0 else "x%d" % i,              # opt: nullable str
        "" if i % 4 == 0 else str(i),                 # m: nullable int
    ])
with open("edge.csv", "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["code", "n", "flag", "bit", "d", "ts", "f", "g", "status", "opt", "m"])
    for r in rows:
        # the status "" must be a quoted empty string (a value), opt "" an unquoted null
        fh.write(",".join([
            '"%s"' % r[k].replace('"', '""') if k == 8 else r[k] for k in range(len(r))
        ]) + "\n")
PYEOF
infer_then_validate edge.csv utf-8
dtypes=$("$PY" - <<'PYEOF'
import yaml
d = yaml.safe_load(open("inferred.yaml"))
for k, c in d["columns"].items():
    print(k, c["dtype"], c["nullable"], c.get("format"), sorted((c["checks"] or {}).keys()))
PYEOF
)
assert_eq "$dtypes" "code str False None []
n int32 False None ['greater_than_or_equal_to', 'less_than_or_equal_to']
flag bool False None []
bit int8 False None ['greater_than_or_equal_to', 'less_than_or_equal_to']
d date False %d-%m-%Y []
ts datetime64[ns, UTC] False None []
f float64 False None []
g float64 False None ['greater_than_or_equal_to', 'less_than_or_equal_to']
status str False None ['isin']
opt str True None []
m int8 True None ['greater_than_or_equal_to', 'less_than_or_equal_to']" "inferred dtypes, nullability, formats and checks"
assert_eq "$("$PY" -c 'import yaml; d=yaml.safe_load(open("inferred.yaml")); print(d["columns"]["n"]["checks"], d["columns"]["g"]["checks"]["less_than_or_equal_to"] == 59/7)')" \
  "{'greater_than_or_equal_to': -3, 'less_than_or_equal_to': 58997} True" "ranges are the observed extremes, floats exact"
assert_eq "$("$PY" -c 'import yaml; print(yaml.safe_load(open("inferred.yaml"))["columns"]["status"]["checks"]["isin"])')" \
  "['', '#x', '123', 'Zürich', 'a: b', 'closed', \"it's\", 'null', 'open', 'two\\nlines']" "isin values read back as the same strings"
pass "edge cases"

# --rows: only the first rows are read (the 6th row would widen the range).
printf 'a,b\n1,x\n2,x\n3,x\n4,x\n5,x\n900,y\n' > rows.csv
run_astro schema infer rows.csv --rows 5 --pandera --strict
echo "$OUT" > r.yaml
assert_contains "$OUT" "(5 data rows read, --rows limit)" "--rows is said"
assert_eq "$("$PY" -c 'import yaml; c=yaml.safe_load(open("r.yaml"))["columns"]["a"]; print(c["dtype"], c["checks"])')" \
  "int8 {'greater_than_or_equal_to': 1, 'less_than_or_equal_to': 5}" "--rows 5 reads 5 rows"
# --no-header and a delimiter.
printf '1;a\n2;b\n' > nh.csv
run_astro schema infer nh.csv --no-header --delimiter ';' --pandera --strict
echo "$OUT" > nh.yaml
assert_eq "$("$PY" -c 'import yaml; print({k: v["dtype"] for k, v in yaml.safe_load(open("nh.yaml"))["columns"].items()})')" \
  "{'column_1': 'int8', 'column_2': 'str'}" "--no-header names columns"
assert_contains "$OUT" "has_header: false" "the comment says how to configure a headerless file"
# Rows no schema accepts are reported.
printf 'a,b\n1,2\n3\n' > ragged.csv
run_astro schema infer ragged.csv
assert_eq "$RC" "0" "infer still prints a schema"
assert_contains "$ERR" "1 row(s) of ragged.csv have the wrong number of fields" "ragged rows reported"
: > empty.csv
run_astro schema infer empty.csv
assert_eq "$RC" "1" "an empty file: nothing to infer"
run_astro schema infer nope.csv
assert_eq "$RC" "2" "a missing file is a usage error (exit 2)"
assert_contains "$ERR" "nope.csv does not exist" "the message says so"
run_astro schema infer rows.csv --rows 0
assert_eq "$RC" "2" "--rows 0 is a usage error"
run_astro schema guess rows.csv
assert_eq "$RC" "2" "unknown subcommand"
pass "options and problems"

# The property on random files: mixed types, nulls, extremes, non-ASCII, quoting.
for seed in 1 2 3 4 5; do
  "$PY" - "$seed" <<'PYEOF'
import csv, random, sys
rnd = random.Random(int(sys.argv[1]))
gens = [
    lambda: str(rnd.randint(-2**63, 2**63 - 1)),
    lambda: str(rnd.randint(-128, 127)),
    lambda: repr(rnd.uniform(-1e300, 1e300)),
    lambda: rnd.choice(["1e-320", "-0.0", "5e-324", "1.7976931348623157e308", "  2.5 "]),
    lambda: "%04d-%02d-%02d" % (rnd.randint(1, 9999), rnd.randint(1, 12), rnd.randint(1, 28)),
    lambda: "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (rnd.randint(1, 9999), rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(0, 999999)),
    lambda: rnd.choice(["é", "日本", "a,b", 'q"q', " sp ", "x\ny", "NA", "null", "TRUE"]),
    lambda: rnd.choice(["A", "B", "C"]),
]
ncols = 8
with open("rnd.csv", "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\r\n")
    w.writerow(["c%d" % k for k in range(ncols)])
    kinds = [rnd.randrange(len(gens)) for _ in range(ncols)]
    for _ in range(rnd.randint(1, 300)):
        row = []
        for k in range(ncols):
            r = rnd.random()
            if r < 0.05:
                row.append("")
            elif r < 0.07:
                row.append(gens[rnd.randrange(len(gens))]())  # a stray value of another kind
            else:
                row.append(gens[kinds[k]]())
        w.writerow(row)
PYEOF
  infer_then_validate rnd.csv utf-8
done
pass "random files pass the schemas inferred from them"
