# lib.sh - shared helpers for the end-to-end tests (sourced, not run).
# Environment (set by ctest): ASTRO_BIN (the binary), ASTRO_SRC (the source tree).
set -euo pipefail

: "${ASTRO_BIN:?ASTRO_BIN must point at the astro binary}"
: "${ASTRO_SRC:?ASTRO_SRC must point at the source tree}"
PY=/usr/bin/python3
ORACLE="$ASTRO_SRC/tests/oracle/duck.mjs"

# The independent Parquet reader is required: a missing oracle fails the test, never skips it.
command -v node >/dev/null || { echo "FAIL: node is not installed (run scripts/test)"; exit 1; }
[ -d "$ASTRO_SRC/tests/oracle/node_modules/@duckdb/node-api" ] ||
  { echo "FAIL: DuckDB oracle missing: cd tests/oracle && npm install"; exit 1; }

T=$(mktemp -d /tmp/astro-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

assert_eq() { # actual expected what
  [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"
}
assert_contains() { # haystack needle what
  case "$1" in *"$2"*) ;; *) fail "$3: [$2] not found in: $1" ;; esac
}
assert_not_contains() {
  case "$1" in *"$2"*) fail "$3: [$2] unexpectedly found in: $1" ;; *) ;; esac
}

# wait_for SECONDS CMD...: runs CMD every 0.1 s until it succeeds (returns 0) or SECONDS pass
# (returns 1). A generous limit costs nothing when things go well and keeps a loaded machine
# (ASan builds under ctest -j) from failing a test that is only slow.
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
}

# run_cmd CMD ARGS...: runs CMD in the current folder; sets RC, OUT (stdout), ERR (stderr).
run_cmd() {
  set +e
  "$@" >"$T/.out" 2>"$T/.err"
  RC=$?
  set -e
  OUT=$(cat "$T/.out")
  ERR=$(cat "$T/.err")
}
# run_astro ARGS...: run_cmd of astro.
run_astro() { run_cmd "$ASTRO_BIN" "$@"; }

# peak_validate FILE ROWS: `astro validate FILE --threads 1` under GNU time in the current folder;
# checks that it read ROWS rows, all valid, and prints its peak RSS in KiB.
peak_validate() {
  /usr/bin/time -f %M -o "$T/.rss" "$ASTRO_BIN" validate "$1" --threads 1 >"$T/.vout" ||
    fail "validate of $2 rows failed: $(cat "$T/.vout")"
  assert_contains "$(cat "$T/.vout")" "rows read $2 = valid $2 " "every row of $2 is read"
  tail -n 1 "$T/.rss"
}

# duck SQL: one JSON line per result row, printed by DuckDB.
duck() { node "$ORACLE" "$1"; }

# sqlq DB SQL: rows of a SQLite query, columns separated by |.
sqlq() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for row in con.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PYEOF
}

# jq_py FILE EXPR: evaluates a Python expression over the JSON document `d` in FILE.
jq_py() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if not isinstance(v, (dict, list)) else json.dumps(v, sort_keys=True))
PYEOF
}

# the one run folder under .working (fails when there is not exactly one)
only_run() {
  local runs
  runs=$(ls .working | grep -E '^[a-z0-9]{5}$' || true)
  [ "$(echo "$runs" | grep -c .)" -eq 1 ] || fail "expected exactly one run, found: [$runs]"
  echo "$runs"
}

# require_postgres: a PostgreSQL test needs ASTRO_PG_DSN (scripts/test sets it); under CI it is
# required, elsewhere the test reports itself skipped (exit 77, ctest's SKIP_RETURN_CODE).
# Also needs psql.
require_postgres() {
  if [ -z "${ASTRO_PG_DSN:-}" ]; then
    [ "${CI:-}" = "true" ] && fail "ASTRO_PG_DSN is not set under CI: the PostgreSQL test cannot be skipped"
    echo "SKIP: ASTRO_PG_DSN not set (scripts/test sets it)"
    exit 77
  fi
  command -v psql >/dev/null || fail "psql is not installed"
}

# manifest_edit FILE PYTHON: runs PYTHON on the manifest FILE loaded as `d`, then writes it back
# (tests simulate the states a killed process leaves).
manifest_edit() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(d, indent=2) + "\n")
PYEOF
}

# pg_drop_on_exit TABLE...: at exit, with the temporary folder, drops the PostgreSQL tables and
# their astro_checkpoints rows (when ASTRO_PG_DSN is set).
pg_drop_on_exit() {
  PG_DROP_TABLES="$*"
  trap '_pg_drop; rm -rf "$T"' EXIT
}
_pg_drop() {
  [ -n "${ASTRO_PG_DSN:-}" ] || return 0
  local t
  for t in $PG_DROP_TABLES; do
    psql "$ASTRO_PG_DSN" -Xq >/dev/null 2>&1 <<SQL || true
DROP TABLE IF EXISTS $t;
DELETE FROM astro_checkpoints WHERE target_table = '$t';
SQL
  done
}

# target_yaml KIND: the flow mapping of an astro.yaml target of KIND: sqlite (out/w.db) or
# postgres (the dsn ${ASTRO_PG_DSN}, expanded by astro).
target_yaml() {
  if [ "$1" = sqlite ]; then
    echo "{kind: sqlite, path: out/w.db}"
  else
    echo "{kind: postgres, dsn: \"\${ASTRO_PG_DSN}\"}"
  fi
}
