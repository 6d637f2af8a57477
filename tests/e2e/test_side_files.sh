#!/usr/bin/env bash
# test_side_files.sh - issue 14, side files in a delivery: a vendor drop holds README.txt,
# _SUCCESS and NAME.csv.md5 / NAME.csv.sha256 beside the data. ignore_patterns keeps the first
# two out of the folder check (astro ingest) and out of the drop zone (astro watch: left alone in
# incoming/); a checksum side file is verified against the delivered bytes in the same pass (md5sum,
# sha256sum and their --tag form): a match ingests, a mismatch or a side file without a usable
# checksum fails the file with check "checksum" (exit 1, nothing written); watch verifies it too,
# and moves it with its file (processed/ or quarantine/).
. "$(dirname "$0")/lib.sh"

mkdir -p p/data && cd p
orders() { echo "order_id,amount"; for i in $(seq 1 "$1"); do echo "$i,$i.25"; done; }
orders 20 > data/orders_20240220.csv
printf 'sku,name\nA1,Widget\n' > data/products.csv
(cd data && md5sum orders_20240220.csv > orders_20240220.csv.md5 && sha256sum --tag products.csv > products.csv.sha256)
echo "Delivered by ACME; columns are described below." > data/README.txt
: > data/_SUCCESS
config() { # ignore_patterns line
  cat > astro.yaml <<YAML
pipeline: sidefiles
execution_mode: parallel
$1
ingest_files:
  - name: orders
    source_pattern: "orders_*"
    schema:
      columns:
        order_id: {dtype: int64}
        amount: {dtype: "decimal(8,2)"}
  - name: products
    source_pattern: "products.csv"
    schema:
      columns:
        sku: {dtype: str}
        name: {dtype: str}
YAML
}
last_run() { ls -t .working | grep -E '^[a-z0-9]{5}$' | head -1; }

config ""
run_astro ingest data
assert_eq "$RC" "1" "without ignore_patterns README.txt and _SUCCESS are extra"
assert_contains "$ERR" "extra: README.txt matches no ingest file's source_pattern" "README.txt is extra"
assert_contains "$ERR" "extra: _SUCCESS" "_SUCCESS is extra"
assert_not_contains "$ERR" "orders_20240220.csv.md5" "a checksum side file is never extra, even where orders_* matches it"
pass "the folder check without ignore_patterns"

config 'ignore_patterns: ["README*", "_SUCCESS"]'
run_astro ingest data
[ "$RC" -eq 0 ] || fail "a delivery with side files: $ERR"
run=$OUT
assert_contains "$ERR" "[orders] verifying its md5 against orders_20240220.csv.md5" "the md5 file is used"
assert_contains "$ERR" "[products] verifying its sha256 against products.csv.sha256" "the --tag sha256 file is used"
assert_eq "$(duck "SELECT count(*) AS n FROM '.working/$run/ingested/orders.parquet'")" '{"n":"20"}' "the data is ingested"
pass "ignore_patterns and matching checksums"

# The vendor's upload was cut after 12 records: the md5 no longer matches.
head -n 13 data/orders_20240220.csv > cut && mv cut data/orders_20240220.csv
run_astro ingest data
assert_eq "$RC" "1" "a file that does not match its md5 fails"
run=$(last_run)
want=$(md5sum < data/orders_20240220.csv | cut -d' ' -f1)
said=$(cut -d' ' -f1 data/orders_20240220.csv.md5)
assert_contains "$ERR" "the file does not match its checksum file orders_20240220.csv.md5: its md5 is $want, the checksum file says $said" \
  "the message gives both digests"
assert_contains "$(cat .working/$run/errors/orders.jsonl)" '"check":"checksum"' "check checksum"
[ ! -e .working/$run/ingested/orders.parquet ] || fail "nothing written for a mismatch"
assert_eq "$(jq_py .working/$run/manifest.json '[f["status"] for f in d["files"]]')" '["failed", "ingested"]' "only that file fails"
run_astro validate data/orders_20240220.csv
assert_eq "$RC" "1" "astro validate verifies FILE.md5 beside FILE too"
assert_contains "$OUT" "does not match its checksum file orders_20240220.csv.md5" "validate says why"
pass "a checksum mismatch fails the file"

# A side file without a usable line, or listing other files only.
(cd data && md5sum orders_20240220.csv > orders_20240220.csv.md5)
echo "not a checksum" > data/products.csv.sha256
run_astro ingest data
assert_eq "$RC" "1" "an unusable side file fails its data file"
assert_contains "$ERR" "products.csv.sha256 holds no sha256 checksum line for products.csv (expected 'HEX  products.csv' as sha256sum prints it)" "says what was expected"
{ echo "0000000000000000000000000000000000000000000000000000000000000000  a.csv"; echo "1111111111111111111111111111111111111111111111111111111111111111  b.csv"; } > data/products.csv.sha256
run_astro ingest data
assert_eq "$RC" "1" "a side file listing other files"
assert_contains "$ERR" "products.csv.sha256 lists 2 checksums but none for products.csv" "names the file"
printf 'abc  products.csv\n' > data/products.csv.sha256
run_astro ingest data
assert_contains "$ERR" "'abc' is not a sha256 digest (64 hexadecimal digits)" "a short digest"
(cd data && sha256sum products.csv > products.csv.sha256)
run_astro ingest data
[ "$RC" -eq 0 ] || fail "fixed side files: $ERR"
# A checksum file whose data file is missing is extra (and the data file missing).
mv data/products.csv products.csv
run_astro ingest data
assert_eq "$RC" "1" "an orphan side file"
assert_contains "$ERR" "extra: products.csv.sha256" "an orphan checksum file is extra"
mv products.csv data/
pass "unusable and orphan side files"

# astro watch: ignored files are left alone; a side file is verified and moved with its file.
cat >> astro.yaml <<'YAML'
targets:
  db: {kind: sqlite, path: wh.db}
watch:
  root: zone
  readiness: rename
  loads:
    - {dataset: orders, target: db, table: orders, mode: append, create: true}
YAML
in=zone/incoming
mkdir -p $in
orders 5 > $in/orders_a.csv
orders 7 > $in/orders_b.csv
(cd $in && md5sum orders_a.csv > orders_a.csv.md5 && sha256sum orders_b.csv > orders_b.csv.sha256)
echo "1,9.99" >> $in/orders_b.csv           # changed after its checksum was taken
cp data/README.txt data/_SUCCESS $in/
run_astro watch --once
assert_eq "$RC" "1" "watch quarantines the mismatching file: $ERR"
assert_eq "$(ls zone/processed | tr '\n' ' ')" "orders_a.csv orders_a.csv.md5 " "the good file moved with its md5"
assert_eq "$(ls zone/quarantine | tr '\n' ' ')" "orders_b.csv orders_b.csv.errors.jsonl orders_b.csv.sha256 " "the bad one with its sha256"
assert_contains "$(cat zone/quarantine/orders_b.csv.errors.jsonl)" "does not match its checksum file orders_b.csv.sha256" "the reason"
assert_eq "$(ls $in | tr '\n' ' ')" "README.txt _SUCCESS " "ignored files stay in incoming/"
assert_eq "$(sqlq wh.db 'SELECT count(*) FROM orders')" "5" "only the verified file is loaded"
pass "astro watch: ignore_patterns and checksum side files"
