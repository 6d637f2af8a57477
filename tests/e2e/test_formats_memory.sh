#!/usr/bin/env bash
# test_formats_memory.sh - a gzipped NDJSON file streams: reading and validating ten times the
# rows takes about the same peak RSS (`astro validate --threads 1`, measured with /usr/bin/time
# -f %M, KiB; one thread, so that both files fill the same number of blocks: with N threads the
# engine keeps up to 2N+2 blocks, which the small file does not fill),
# and `astro ingest` of the large file stays under a small ceiling (its Parquet writer holds a row
# group of up to 1M rows, which grows with the rows below that: a writer property, the same for
# CSV). Every row arrives. (Sanitizer builds keep freed memory in quarantine, so there only the
# counts are checked.)
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/deps installs the time package)"

cat > astro.yaml <<'YAML'
pipeline: mem
execution_mode: parallel
ingest_files:
  - name: ev
    source_pattern: "events*.ndjson.gz"
    schema:
      columns:
        id: {dtype: int64}
        user: {dtype: str, path: who.email}
        amount: {dtype: "decimal(12,2)"}
        kind: {dtype: str, checks: {isin: [a, b, c]}}
        at: {dtype: date}
YAML
small=20000
[ "${ASTRO_SANITIZE:-OFF}" = "ON" ] && small=4000
big=$((small * 10))
gen() { # ROWS FILE
  awk -v n="$1" 'BEGIN { split("a b c", k, " ");
    for (i = 1; i <= n; i++)
      printf "{\"id\": %d, \"who\": {\"email\": \"user%d@example.com\", \"tags\": [1, 2]}, \"amount\": %d.%02d, \"kind\": \"%s\", \"at\": \"2026-%02d-%02d\"}\n",
        i, i % 977, i % 5000, i % 100, k[1 + i % 3], 1 + i % 12, 1 + i % 28 }' | gzip -1 > "$2"
}
peak() { # ROWS -> prints the peak RSS in KiB of validating that many rows
  rm -rf d && mkdir d && gen "$1" d/events.ndjson.gz
  peak_validate d/events.ndjson.gz "$1"
}
p1=$(peak $small | tail -n 1)
p10=$(peak $big | tail -n 1)
echo "validate peak RSS: $((p1 / 1024)) MiB for $small rows, $((p10 / 1024)) MiB for $big rows"
if [ "${ASTRO_SANITIZE:-OFF}" != "ON" ]; then
  # Flat: ten times the rows may cost a block more, never ten times the memory.
  [ "$p10" -lt $((p1 * 5 / 4 + 4096)) ] || fail "peak RSS grew from $p1 KiB to $p10 KiB with 10x the rows"
fi
pass "validating a gzipped NDJSON file streams in flat memory"

/usr/bin/time -f %M -o rss.txt "$ASTRO_BIN" -q ingest d --threads 2 > run.txt || fail "ingest failed"
run=$(cat run.txt)
assert_eq "$(duck "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(amount) > 0 AS s FROM read_parquet('.working/$run/ingested/ev.parquet')")" \
  "{\"n\":\"$big\",\"d\":\"$big\",\"s\":true}" "every row of the large file is in the Parquet output"
pi=$(tail -n 1 rss.txt)
echo "ingest peak RSS: $((pi / 1024)) MiB for $big rows ($(stat -c %s d/events.ndjson.gz) bytes gzipped)"
if [ "${ASTRO_SANITIZE:-OFF}" != "ON" ]; then
  [ "$pi" -lt $((100 * 1024)) ] || fail "ingest peak RSS $((pi / 1024)) MiB over the 100 MiB ceiling"
fi
pass "ingesting a gzipped NDJSON file stays under 100 MiB"
