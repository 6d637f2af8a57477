#!/usr/bin/env bash
# test_disk_full.sh - a full disk (issue 16, point 13): every I/O failure names the file and the
# system's reason, whichever write meets the full disk first (stats.db, the run id look-up, the
# errors report, the Parquet output, the manifest); exit 3; never "could not find an unused run
# id after 1000 attempts" (a swallowed stats.db error) nor a bare ": io".
# The project lives on a private 300 KiB tmpfs filled to different levels. Mounting needs root:
# elsewhere the test skips with a message (under CI it is required).
. "$(dirname "$0")/lib.sh"

mnt="$T/full"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=300k tmpfs "$mnt" 2>/dev/null; then
  [ "${CI:-}" = "true" ] && fail "cannot mount a tmpfs under CI (needs root)"
  echo "SKIP: cannot mount a tmpfs (needs root)"
  exit 0
fi
trap 'umount "$mnt" 2>/dev/null || true; rm -rf "$T"' EXIT

mkdir -p good bad
"$PY" -c "
with open('good/a.csv', 'w') as f:
    f.write('x\n')
    for i in range(300000): f.write('%d\n' % (i * 7919))
with open('bad/a.csv', 'w') as f:
    f.write('x\n')
    for i in range(200000): f.write('%s\n' % ('bad' if i % 3 == 0 else i))"
cat > "$T/astro.yaml" <<'YAML'
pipeline: full
execution_mode: parallel
ingest_files:
  - name: a
    source_pattern: "a*.csv"
    schema:
      columns:
        x: {dtype: int64}
YAML

checked=0
for data in good bad; do
  for fill in 295 290 280 270 260 250 240 230 220 200 150 100 0; do
    rm -rf "$mnt"/.working "$mnt"/.astro "$mnt"/fill "$mnt"/astro.yaml
    cp "$T/astro.yaml" "$mnt/"
    dd if=/dev/zero of="$mnt/fill" bs=1k count=$fill 2>/dev/null || true
    cd "$mnt"
    run_astro -q ingest "$T/$data"
    cd "$T"
    what="$data data, $fill KiB filled"
    [ "$RC" -ne 0 ] || continue # it fitted
    assert_eq "$RC" "3" "$what: a full disk is an environment error ($ERR)"
    assert_not_contains "$ERR" "1000 attempts" "$what: the stats.db error is not swallowed"
    case "$ERR" in
      *": io"|*": io"$'\n'*) fail "$what: an I/O error without the system's reason: $ERR" ;;
    esac
    case "$ERR" in
      *"No space left on device"*|*"database or disk is full"*) ;;
      *) fail "$what: the system's reason is missing: $ERR" ;;
    esac
    assert_contains "$ERR" "$mnt/" "$what: the message names the file"
    checked=$((checked + 1))
  done
done
[ "$checked" -ge 10 ] || fail "only $checked fill levels met a full disk"
pass "a full disk: $checked failures, each naming the file and the system's reason, exit 3"
