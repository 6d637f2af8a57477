#!/usr/bin/env bash
# test_memory.sh - memory stays bounded while streaming: ingesting a CSV of a few hundred MB keeps
# peak RSS under a fixed ceiling, far below the file size. (The ceiling is asserted on the Release
# build; sanitizer builds keep freed memory in quarantine by design, so there the test checks
# only that the large ingest succeeds with correct counts.)
. "$(dirname "$0")/lib.sh"

rows=4000000
mkdir -p big/data && cd big
cat > astro.yaml <<'YAML'
pipeline: big
ingest_files:
  - name: orders
    source_pattern: "orders.csv"
    schema:
      columns:
        order_id: {dtype: int64}
        email: {dtype: str, checks: {str_matches: '^[a-z0-9.]+@[a-z0-9.]+$'}}
        amount: {dtype: "decimal(12,2)", checks: {greater_than: 0}}
        order_date: {dtype: date}
        status: {dtype: str, checks: {isin: [new, paid, shipped, cancelled]}}
        note: {dtype: str, nullable: true}
YAML
[ "${ASTRO_SANITIZE:-OFF}" = "ON" ] && rows=400000
awk -v n=$rows 'BEGIN {
  print "order_id,email,amount,order_date,status,note";
  split("new paid shipped cancelled", st, " ");
  for (i = 1; i <= n; i++)
    printf "%d,user%d@example.com,%d.%02d,2026-%02d-%02d,%s,\"note, with comma %d\"\n",
      i, i % 100000, 1 + i % 5000, i % 100, 1 + i % 12, 1 + i % 28, st[1 + i % 4], i;
}' > data/orders.csv
size=$(stat -c %s data/orders.csv)
echo "input: $rows rows, $size bytes"

# Peak RSS of the child, measured by the kernel (ru_maxrss, KiB).
peak_kb=$("$PY" - "$ASTRO_BIN" <<'PYEOF'
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "-q", "ingest", "data"], stdout=subprocess.DEVNULL)
if r.returncode != 0:
    sys.exit("astro ingest exited %d" % r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PYEOF
)
run=$(only_run)
assert_eq "$(jq_py .working/$run/manifest.json '[d["files"][0]["rows_read"], d["files"][0]["rows_valid"]]')" "[$rows, $rows]" "all rows valid"
assert_eq "$(duck "SELECT count(*) AS n, sum(amount) > 0 AS s FROM read_parquet('.working/$run/ingested/orders.parquet')")" \
  "{\"n\":\"$rows\",\"s\":true}" "DuckDB counts every row"
echo "peak RSS: $((peak_kb / 1024)) MiB for a $((size / 1048576)) MiB file"
if [ "${ASTRO_SANITIZE:-OFF}" != "ON" ]; then
  [ "$peak_kb" -lt $((300 * 1024)) ] || fail "peak RSS $((peak_kb / 1024)) MiB exceeds the 300 MiB ceiling"
  pass "memory bounded: $((peak_kb / 1024)) MiB peak for $((size / 1048576)) MiB of CSV"
else
  pass "large ingest under sanitizers (ceiling asserted in the Release build)"
fi
