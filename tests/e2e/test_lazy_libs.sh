#!/usr/bin/env bash
# test_lazy_libs.sh - astro loads libpq when it first connects to PostgreSQL, libsystemd when
# `astro watch` runs under systemd (NOTIFY_SOCKET set) and libsnappy when it writes snappy pages,
# not when it starts (src/load/pg.c lpq, src/watch/watch.c lsd, src/parquet/codec.c lsn): the
# binary links none of them (nor libstdc++, which libsnappy brings). With a library unreadable (a
# private mount namespace binds /dev/null over it): without libpq.so.5 `astro ingest` still works
# and `astro run` to a postgres target fails with exit 3 and a message naming the library and its
# Debian package; without libsystemd.so.0, `astro watch` under NOTIFY_SOCKET loads its files and
# warns that systemd will not hear from it; without libsnappy.so.1 a snappy Parquet file is still
# read (astro's own decoder) and `--compression snappy` fails with exit 3, named. The namespace
# part needs root and unshare(1); without them it reports itself skipped (77).
. "$(dirname "$0")/lib.sh"

# libstdc++ came with libsnappy; the sanitizers' runtime brings it in the ASan build.
unwanted='libpq\.so|libsystemd\.so|libsnappy\.so'
[ "${ASTRO_SANITIZE:-OFF}" = ON ] || unwanted="$unwanted|libstdc\+\+"
if ldd "$ASTRO_BIN" | grep -E -q "$unwanted"; then
  fail "astro links what it should load when used: $(ldd "$ASTRO_BIN" | grep -E "$unwanted")"
fi
pass "the binary links none of libpq, libsystemd, libsnappy (nor libstdc++ outside ASan builds)"

so_path() { ldconfig -p | awk -v n="$1" '$1 == n { l = $NF } END { print l }'; }
libpq=$(so_path libpq.so.5)
libsd=$(so_path libsystemd.so.0)
libsn=$(so_path libsnappy.so.1)
[ -n "$libpq" ] && [ -n "$libsd" ] && [ -n "$libsn" ] ||
  fail "libpq.so.5, libsystemd.so.0 or libsnappy.so.1 is not installed (run scripts/deps)"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP: hiding $libpq, $libsd and $libsn needs root and unshare -m"
  exit 77
fi
# without LIB ARGS...: astro ARGS in a mount namespace where the file LIB is empty.
without() {
  run_cmd unshare -m bash -c 'mount --bind /dev/null "$1" && shift && exec "$@"' _ "$1" \
    "$ASTRO_BIN" "${@:2}"
}

mkdir -p p/data && cd p
cat > astro.yaml <<'YAML'
pipeline: lazy
ingest_files:
  - name: t
    source_pattern: "t.csv"
    schema:
      columns:
        id: {dtype: int64}
targets:
  wh: {kind: postgres, dsn: "host=127.0.0.1 port=1 user=astro password=s3cret-pw dbname=x"}
steps:
  - name: load
    load: {dataset: t, target: wh, table: t, mode: append, create: true}
YAML
printf 'id\n1\n2\n' > data/t.csv
without "$libpq" ingest data
assert_eq "$RC" "0" "ingest without libpq: $ERR"
run=$OUT
[ -f ".working/$run/ingested/t.parquet" ] || fail "ingest without libpq wrote no Parquet"
pass "ingest runs without libpq"

without "$libpq" run
assert_eq "$RC" "3" "a postgres target without libpq is an environment error"
assert_contains "$ERR" 'target "wh" (postgres): cannot load the PostgreSQL client library (Debian package libpq5)' \
  "the message names the library and its package"
assert_not_contains "$ERR" "s3cret-pw" "the password never appears"
pass "run to postgres without libpq: exit 3, named"

# The same run with libpq in place gets past the library: it fails on the unreachable server.
run_astro run
assert_eq "$RC" "3" "unreachable server"
assert_contains "$ERR" "cannot connect" "libpq loaded, the connection is what fails"
pass "with libpq the run reaches the connection"

# libsystemd: a watch under systemd without the library still loads its file, and says so.
cat > astro.yaml <<'YAML'
pipeline: lazysd
ingest_files:
  - name: t
    source_pattern: "t*.csv"
    schema:
      columns:
        id: {dtype: int64}
targets:
  db: {kind: sqlite, path: wh.db}
watch:
  root: zone
  readiness: rename
  quiet_seconds: 0
  loads:
    - {dataset: t, target: db, table: t, mode: append, create: true}
YAML
mkdir -p zone/incoming
printf 'id\n1\n2\n' > zone/incoming/t1.csv
NOTIFY_SOCKET="$T/nobody.sock" without "$libsd" watch --once
assert_eq "$RC" "0" "watch under NOTIFY_SOCKET without libsystemd: $ERR"
[ -f zone/processed/t1.csv ] || fail "the file was not loaded: $ERR"
assert_contains "$ERR" "NOTIFY_SOCKET is set but libsystemd.so.0 cannot be loaded" "the watch says why"
assert_contains "$ERR" "systemd is not told that the service is ready" "and what it means"
pass "watch under systemd without libsystemd: loads, warns"
printf 'id\n3\n' > zone/incoming/t2.csv
unset NOTIFY_SOCKET
without "$libsd" watch --once
assert_eq "$RC" "0" "watch outside systemd, libsystemd hidden: $ERR"
assert_not_contains "$ERR" "libsystemd" "outside systemd the library is not even looked for"
[ -f zone/processed/t2.csv ] || fail "the second file was not loaded: $ERR"
pass "watch outside systemd does not look for libsystemd"

# libsnappy: snappy pages are read without it; writing them needs it.
cd "$T" && mkdir -p s/data s/pq && cd s
cat > astro.yaml <<'YAML'
pipeline: lazysn
execution_mode: parallel
ingest_files:
  - name: t
    source_pattern: "t.*"
    schema:
      columns:
        id: {dtype: int64}
        name: {dtype: str}
YAML
awk 'BEGIN { print "id,name"; for (i = 0; i < 50000; i++) print i ",name number " i % 977 }' > data/t.csv
run_astro ingest data --compression snappy
assert_eq "$RC" "0" "a snappy file written with libsnappy: $ERR"
cp ".working/$OUT/ingested/t.parquet" pq/t.parquet
sed -i 's/^    source_pattern: "t.\*"$/    source_pattern: "t.*"\n    format: parquet/' astro.yaml
without "$libsn" ingest pq
assert_eq "$RC" "0" "a snappy Parquet file read without libsnappy: $ERR"
assert_eq "$(duck "SELECT count(*) AS n, sum(id) AS s, count(DISTINCT name) AS d FROM read_parquet('.working/$OUT/ingested/t.parquet')")" \
  '{"n":"50000","s":"1249975000","d":"977"}' "every row read back, by DuckDB"
sed -i '/^    format: parquet$/d' astro.yaml
without "$libsn" ingest data --compression snappy
assert_eq "$RC" "3" "writing snappy without libsnappy is an environment error"
assert_contains "$ERR" "cannot load the snappy library for snappy pages (Debian package libsnappy1v5)" \
  "the message names the library's package"
without "$libsn" ingest data
assert_eq "$RC" "0" "zstd (the default) needs no libsnappy: $ERR"
pass "snappy read without libsnappy, written with it, named when missing"
