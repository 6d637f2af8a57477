#!/usr/bin/env bash
# test_libpq_lazy.sh - astro loads libpq when it first connects to PostgreSQL, not when it
# starts (src/load/pg.c, lpq): the binary does not link it; with libpq.so.5 unreadable (a private
# mount namespace binds /dev/null over it) `astro ingest` still works, and `astro run` to a
# postgres target fails with exit 3 and a message naming the library and its Debian package.
# The namespace part needs root and unshare(1); without them it reports itself skipped (77).
. "$(dirname "$0")/lib.sh"

if ldd "$ASTRO_BIN" | grep -q 'libpq\.so'; then
  fail "astro links libpq: $(ldd "$ASTRO_BIN" | grep libpq)"
fi
pass "the binary does not link libpq"

lib=$(ldconfig -p | awk '/libpq\.so\.5 / { l = $NF } END { print l }')
[ -n "$lib" ] || fail "libpq.so.5 is not installed (run scripts/deps)"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP: hiding $lib needs root and unshare -m"
  exit 77
fi
# without_libpq ARGS...: astro ARGS in a mount namespace where libpq.so.5 is an empty file.
without_libpq() {
  set +e
  unshare -m bash -c 'mount --bind /dev/null "$1" && shift && exec "$@"' _ "$lib" \
    "$ASTRO_BIN" "$@" >"$T/.out" 2>"$T/.err"
  RC=$?
  set -e
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
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
without_libpq ingest data
assert_eq "$RC" "0" "ingest without libpq: $ERR"
run=$OUT
[ -f ".working/$run/ingested/t.parquet" ] || fail "ingest without libpq wrote no Parquet"
pass "ingest runs without libpq"

without_libpq run
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
