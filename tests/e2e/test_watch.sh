#!/usr/bin/env bash
# test_watch.sh - astro watch on a SQLite target: routing (loaded, quarantined with a reason,
# FIFOs never opened, links and folders left alone, dotfiles and .part untouched), identity by
# content (re-sent file and copy skipped, same name with new content loaded, nothing overwritten),
# the bad-row threshold on both sides, each readiness mode against a slow writer, an environment
# error leaving the file in incoming/ until the target is back, one process per SQLite drop zone,
# and SIGTERM.
. "$(dirname "$0")/lib.sh"

mkdir -p p && cd p
write_config() { # readiness quiet_seconds [target path]
  cat > astro.yaml <<YAML
pipeline: dropzone
ingest_files:
  - name: orders
    source_pattern: "orders*.csv"
    schema:
      columns:
        id: {dtype: int64, unique: true}
        amount: {dtype: "decimal(10,2)", checks: {ge: 0}}
  - name: nolo
    source_pattern: "nolo*.csv"
    schema:
      columns:
        a: {dtype: int64}
targets:
  db: {kind: sqlite, path: ${3:-wh.db}}
watch:
  root: zone
  readiness: $1
  quiet_seconds: $2
  poll_seconds: 1
  loads:
    - {dataset: orders, target: db, table: orders, mode: upsert, key: [id], create: true}
YAML
}
in=zone/incoming
orders() { # FROM TO [amount]: an orders file body
  echo "id,amount"
  for i in $(seq "$1" "$2"); do echo "$i,${3:-1.50}"; done
}
db() { sqlq wh.db "$1"; }

# 1. Routing, one pass.
write_config rename 0
mkdir -p $in/sub
orders 1 3 > $in/orders_a.csv
printf 'id,amount\n9,x\n' > $in/orders_bad.csv
echo x > $in/other.txt
: > $in/orders_empty.csv
echo 'a' > $in/nolo_1.csv
mkfifo $in/orders_fifo.csv
ln -s /etc/passwd $in/orders_link.csv
orders 50 51 > $in/.orders_hidden.csv
orders 60 61 > $in/orders_up.csv.part
run_astro watch --once
assert_eq "$RC" "1" "--once with quarantined files exits 1: $ERR"
assert_eq "$(ls zone/processed)" "orders_a.csv" "processed/"
assert_eq "$(ls zone/quarantine | tr '\n' ' ')" \
  "nolo_1.csv nolo_1.csv.errors.jsonl orders_bad.csv orders_bad.csv.errors.jsonl orders_empty.csv orders_empty.csv.errors.jsonl orders_fifo.csv orders_fifo.csv.errors.jsonl other.txt other.txt.errors.jsonl " \
  "quarantine/: every file with its report"
assert_eq "$(ls -A $in | tr '\n' ' ')" ".orders_hidden.csv orders_link.csv orders_up.csv.part sub " \
  "links, folders, dotfiles and .part files stay in incoming/"
[ -p zone/quarantine/orders_fifo.csv ] || fail "the FIFO was moved as it is"
assert_contains "$(cat zone/quarantine/other.txt.errors.jsonl)" "matches no ingest_files source_pattern" "no spec"
assert_contains "$(cat zone/quarantine/nolo_1.csv.errors.jsonl)" "dataset 'nolo' has no watch.loads entry" "no load"
assert_contains "$(cat zone/quarantine/orders_empty.csv.errors.jsonl)" "empty (0 bytes)" "empty file"
assert_contains "$(cat zone/quarantine/orders_bad.csv.errors.jsonl)" '"line":2,"column":"amount","check":"coerce_dtype('"'"'decimal(10,2)'"'"')","value":"x"' "failure case with line, column, check, value"
assert_eq "$(db 'SELECT id, amount FROM orders ORDER BY id' | tr '\n' ' ')" "1|1.50 2|1.50 3|1.50 " "loaded rows"
assert_eq "$(db "SELECT file_name, status, rows_loaded, rows_quarantined FROM astro_files ORDER BY rowid" | tr '\n' ' ')" \
  "orders_a.csv|success|3|0 orders_bad.csv|failed|0|1 " "astro_files"
assert_eq "$(db "SELECT file_sha256 FROM astro_files WHERE file_name = 'orders_a.csv'")" \
  "$(sha256sum zone/processed/orders_a.csv | cut -d' ' -f1)" "the checkpoint holds the file's sha256"
assert_contains "$ERR" "[orders_a.csv] loaded into db.orders: rows read 3, loaded 3, quarantined 0" "summary line names the file"
pass "routing"

# 2. Identity by content.
rm -rf $in/sub $in/orders_link.csv $in/.orders_hidden.csv $in/orders_up.csv.part
cp zone/processed/orders_a.csv $in/orders_a.csv      # re-sent, same name
cp zone/processed/orders_a.csv $in/orders_copy.csv   # same content, another name
echo '{"half":' > zone/quarantine/.orders_k.csv.errors.jsonl.1f2e3d.tmp  # a killed worker's
run_astro watch --once
assert_eq "$RC" "0" "re-sent files: $ERR"
[ ! -e zone/quarantine/.orders_k.csv.errors.jsonl.1f2e3d.tmp ] || fail "half-written report swept"
assert_eq "$(ls zone/processed | tr '\n' ' ')" "orders_a.csv orders_a.csv.1 orders_copy.csv " "moved, never overwritten"
assert_eq "$(db 'SELECT count(*) FROM orders')" "3" "nothing loaded twice"
assert_eq "$(db "SELECT count(*) FROM astro_files WHERE status = 'skipped'")" "2" "skips recorded"
orders 3 4 9.00 > $in/orders_a.csv                  # same name, new content
run_astro watch --once
assert_eq "$RC" "0" "new content: $ERR"
assert_eq "$(db 'SELECT id, amount FROM orders ORDER BY id' | tr '\n' ' ')" "1|1.50 2|1.50 3|9.00 4|9.00 " "new version loaded (upsert)"
pass "identity by content"

# 3. The threshold (default max_bad_row_fraction 0.01): 2 bad rows of 200 pass, 3 do not.
{ orders 100 297; echo "298,-1"; echo "299,-2"; } > $in/orders_t1.csv
{ orders 300 496; echo "497,-1"; echo "498,-2"; echo "499,-3"; } > $in/orders_t2.csv
touch -d '2 minutes ago' $in/orders_t1.csv
run_astro watch --once
assert_eq "$RC" "1" "one file over the threshold: $ERR"
[ -f zone/processed/orders_t1.csv ] && [ -f zone/processed/orders_t1.csv.errors.jsonl ] ||
  fail "under the threshold: processed with its report"
assert_eq "$(wc -l < zone/processed/orders_t1.csv.errors.jsonl)" "2" "its two cases"
[ -f zone/quarantine/orders_t2.csv ] || fail "over the threshold: quarantined"
assert_eq "$(db 'SELECT count(*) FROM orders WHERE id BETWEEN 100 AND 299')" "198" "valid rows of t1 loaded"
assert_eq "$(db 'SELECT count(*) FROM orders WHERE id BETWEEN 300 AND 499')" "0" "nothing of t2 loaded"
assert_eq "$(db "SELECT rows_loaded || '/' || rows_quarantined FROM astro_files WHERE file_name = 'orders_t1.csv'")" "198/2" "t1 counts"
pass "threshold on both sides"

# 4. An environment error (the database cannot be opened) leaves the file in incoming/; it loads
#    once the target is back.
write_config rename 0 nodir/wh.db
orders 500 501 > $in/orders_env.csv
run_astro watch --once
assert_eq "$RC" "3" "--once with a file left for a retry exits 3: $ERR"
[ -f $in/orders_env.csv ] || fail "the file stays in incoming/"
assert_contains "$ERR" "it stays in incoming/ and is tried again" "the deferral is logged"
write_config rename 0
run_astro watch --once
assert_eq "$RC" "0" "target back: $ERR"
assert_eq "$(db 'SELECT count(*) FROM orders WHERE id >= 500')" "2" "loaded once the target is back"
pass "environment error"

# 5. Readiness against a slow writer, with the service running.
slow_write() { # FILE: writes 4 parts one second apart
  ( for part in 1 2 3 4; do
      for i in $(seq $((1000 + part * 10)) $((1009 + part * 10))); do echo "$i,1.00"; done
      sleep 1
    done ) >> "$1"
}
start_watch() {
  "$ASTRO_BIN" watch >"$T/watch.out" 2>"$T/watch.err" &
  WPID=$!
  sleep 0.5
}
stop_watch() {
  kill -TERM $WPID
  local rc=0
  wait $WPID || rc=$?
  assert_eq "$rc" "0" "SIGTERM: exit 0"
}
# stable: the file is written over ~4 s with quiet_seconds 2: never read early.
write_config stable 2
start_watch
echo "id,amount" > $in/orders_slow.csv
slow_write $in/orders_slow.csv
wait_for 30 test -f zone/processed/orders_slow.csv || fail "stable: the slow file was never taken in: $(cat $T/watch.err)"
assert_eq "$(db 'SELECT count(*) FROM orders WHERE id BETWEEN 1010 AND 1049')" "40" "stable: every row, read once complete"
# A second watch on the same SQLite drop zone is refused.
run_astro watch --once
assert_eq "$RC" "4" "a second process on a SQLite drop zone"
assert_contains "$ERR" "another astro watch already serves" "the refusal says why"
stop_watch
pass "stable readiness, one process per SQLite drop zone, SIGTERM"
# done_marker: nothing happens before NAME.done, then the file and its marker go.
write_config done_marker 0
start_watch
orders 2000 2004 > $in/orders_dm.csv
sleep 1.5
[ -f $in/orders_dm.csv ] || fail "done_marker: taken before its marker"
: > $in/orders_dm.csv.done
wait_for 30 test -f zone/processed/orders_dm.csv || fail "done_marker: not taken after its marker"
[ ! -e $in/orders_dm.csv.done ] || fail "done_marker: the marker is consumed"
stop_watch
# rename: a .part file is not touched until it is renamed.
write_config rename 0
start_watch
orders 3000 3004 > $in/orders_rn.csv.part
sleep 1.5
[ -f $in/orders_rn.csv.part ] || fail "rename: a .part file was touched"
mv $in/orders_rn.csv.part $in/orders_rn.csv
wait_for 30 test -f zone/processed/orders_rn.csv || fail "rename: not taken after the rename"
stop_watch
assert_eq "$(db 'SELECT count(*) FROM orders WHERE id >= 2000')" "10" "done_marker and rename files loaded"
pass "done_marker and rename readiness"

# 6. Under systemd (Type=notify): READY=1 once watching, WATCHDOG=1 pings with WatchdogSec=, and
#    STOPPING=1 on SIGTERM, sent to $NOTIFY_SOCKET (a datagram socket the test listens on).
"$PY" - "$T/notify.sock" >"$T/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(8)
end = time.time() + 8
try:
    while time.time() < end:
        msg = s.recv(4096).decode()
        print(msg.replace("\n", "|"), flush=True)
        if "STOPPING=1" in msg:
            break
except socket.timeout:
    pass
PYEOF
LPID=$!
wait_for 10 test -S "$T/notify.sock" || fail "the test's notify listener did not start"
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 "$ASTRO_BIN" watch >"$T/watch.out" 2>"$T/watch.err" &
WPID=$!
sleep 2
stop_watch
wait $LPID || true
assert_contains "$(cat "$T/notify.log")" "READY=1|STATUS=watching" "READY=1 sent"
[ "$(grep -c 'WATCHDOG=1' "$T/notify.log")" -ge 2 ] || fail "watchdog pings: $(cat "$T/notify.log")"
assert_contains "$(cat "$T/notify.log")" "STOPPING=1" "STOPPING=1 sent"
pass "sd_notify: ready, watchdog, stopping"

# 7. SIGTERM while a file is taken in: that file is finished (all its rows, moved) or rolled back
#    (none, still in incoming/), and the service exits 0 at once, not after poll_seconds.
write_config rename 0
sed -i 's/  poll_seconds: 1/  poll_seconds: 60/' astro.yaml
awk 'BEGIN { print "id,amount"; for (i = 100000; i < 400000; i++) print i ",2.00" }' > $in/.orders_big.tmp
"$ASTRO_BIN" watch >"$T/watch.out" 2>"$T/watch.err" &
WPID=$!
sleep 0.3
mv $in/.orders_big.tmp $in/orders_big.csv
sleep 0.2
t0=$(date +%s)
kill -TERM $WPID
rc=0
wait $WPID || rc=$?
assert_eq "$rc" "0" "SIGTERM during a file: exit 0"
[ $(($(date +%s) - t0)) -le 20 ] || fail "SIGTERM during a file: exit waited for poll_seconds"
loaded=$(db 'SELECT count(*) FROM orders WHERE id BETWEEN 100000 AND 399999')
if [ -f zone/processed/orders_big.csv ]; then
  assert_eq "$loaded" "300000" "finished: every row"
else
  [ -f $in/orders_big.csv ] || fail "the file is neither processed nor in incoming/"
  assert_eq "$loaded" "0" "rolled back: no row"
fi
pass "SIGTERM during a file"

# 8. archive: parquet: a typed copy beside each loaded file in processed/, read back by DuckDB;
#    none for a quarantined or skipped file; a killed worker's hidden copy is swept.
write_config rename 0
echo "  archive: parquet" >> astro.yaml
rm -f zone/processed/*.parquet $in/*   # (section 7 may have left its big file in incoming/)
echo 'x' > zone/processed/.orders_dead.csv.parquet
orders 5000 5002 7.25 > $in/orders_arch.csv
printf 'id,amount\n9,x\n' > $in/orders_arch_bad.csv
run_astro watch --once
assert_eq "$RC" "1" "archive run (one file quarantined): $ERR"
[ -f zone/processed/orders_arch.csv.parquet ] || fail "no archive beside the loaded file"
assert_eq "$(duck "SELECT string_agg(id || ':' || amount, ',' ORDER BY id) AS v, typeof(any_value(amount)) AS t FROM read_parquet('zone/processed/orders_arch.csv.parquet')")" \
  '{"v":"5000:7.25,5001:7.25,5002:7.25","t":"DECIMAL(10,2)"}' "the archive holds the typed rows"
assert_eq "$(ls -A zone/processed | grep -c '\.parquet$')" "1" "one archive, the stale hidden one swept, none for the quarantined file"
pass "archive: parquet"

# 9. --log-format json: one object per line; a file's summary line carries its event, sha256
#    and counts.
orders 6000 6001 > $in/orders_json.csv
run_astro --log-format json watch --once
assert_eq "$RC" "0" "json log run: $ERR"
echo "$ERR" > "$T/log.jsonl"
"$PY" - "$T/log.jsonl" "$(sha256sum zone/processed/orders_json.csv | cut -d' ' -f1)" <<'PYEOF' || fail "JSON log: $(cat "$T/log.jsonl")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ev = [d for d in lines if d.get("file") == "orders_json.csv" and d.get("event") == "loaded"]
assert len(ev) == 1, lines
d = ev[0]
assert d["sha256"] == sys.argv[2], d
assert (d["rows_read"], d["rows_loaded"], d["rows_quarantined"]) == (2, 2, 0), d
assert d["moved_to"] == "orders_json.csv" and d["table"] == "orders", d
PYEOF
pass "JSON log: event, sha256 and counts per file"
