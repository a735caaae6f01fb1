#!/usr/bin/env bash
# State survives a restart on the same --db: the same vats, c-lists, delivery logs, tokens and
# queued work; SIGTERM exits 0; and a change that was acknowledged survives even SIGKILL right
# after its answer (KERNEL-SPEC §13.3).
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/restart.sqlite"
start_server --run-mode manual
do_curl POST /vats '{"name":"alice","options":{"color":"blue"}}'; ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl POST /kernel/run '{}'
assert_eq "manual mode: run delivers meet to bob" '200 {"cranks":2,"idle":true}' "$STATUS $BODY"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take o+100),\"result\":\"p+1\"},{\"type\":\"vatstoreSet\",\"key\":\"k\",\"value\":\"v\"}]}"
do_curl POST /kernel/run '{"maxCranks":1}'
assert_eq "run one crank of two" '200 {"cranks":1,"idle":false}' "$STATUS $BODY"
do_curl GET /kernel/run-queue
assert_eq "bob's send waits in the run-queue" '[["send","ko20","take"]]' "$(jqb '[.events[] | [.type, .target, .methargs.body[0]]]')"

snapshot() {
  local out="" p
  for p in /vats /vats/v1/clist /vats/v2/clist /kernel/run-queue /kernel/acceptance-queue /kernel/gc-actions "/objects" "/promises"; do
    do_curl GET "$p"; out+="$p $BODY"$'\n'
  done
  do_curl -t "$ALICE" GET /vats/v1/deliveries; out+="alice $BODY"$'\n'
  do_curl -t "$BOB" GET /vats/v2/deliveries; out+="bob $BODY"$'\n'
  do_curl GET /kernel; out+="kernel $(jqb 'del(.runMode)')"
  printf '%s' "$out"
}
before="$(snapshot)"
do_curl GET /kernel
HASHES="$(jqb '[.crank, .crankHash, .activityHash]')"
assert_eq "GET /kernel shows the last crank's crankHash and activityHash (SHA-256, hex)" 'true true' \
  "$(jqb '(.crankHash | test("^[0-9a-f]{64}$")) and (.activityHash | test("^[0-9a-f]{64}$"))') $(jqb '.crankHash != .activityHash')"
stop_server

start_server --run-mode manual
after="$(snapshot)"
assert_eq "after a restart: the same vats, c-lists, queues, objects, promises and logs" "$before" "$after"
do_curl GET /kernel
assert_eq "the crank number and both hashes survive the restart" "$HASHES" "$(jqb '[.crank, .crankHash, .activityHash]')"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"vatstoreGet","key":"k"}]}'
assert_eq "bob's token still works, his vatstore is there" '200 {"type":"ran","results":["v"]}' "$STATUS $BODY"
do_curl -t "$ALICE" GET /vats/v2/deliveries
assert_eq "alice's token still does not open bob's log" '403' "$STATUS"
if command -v sqlite3 >/dev/null; then
  assert_eq "the database keeps only the SHA-256 of bob's token" "$(printf '%s' "$BOB" | sha256sum | cut -d' ' -f1)" \
    "$(sqlite3 "$DB" "SELECT token_sha256 FROM vats WHERE vat_id = 'v2'")"
  assert_eq "no token is anywhere in the database files" '0' "$(cat "$DB" "$DB-wal" 2>/dev/null | grep -c -a -e "$ALICE" -e "$BOB")"
fi
do_curl POST /kernel/run '{}'
assert_eq "the queued send is delivered after the restart" '200 true' "$STATUS $(jqb .idle)"
do_curl GET /kernel
assert_eq "the chain goes on: a new crank number and a new activityHash" 'true true' \
  "$(printf '%s' "$BODY" | jq --argjson h "$HASHES" -r '"\(.crank > $h[0]) \(.activityHash != $h[2])"')"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=1
assert_eq "alice gets take(o-50) with result p-60" '[["take","o-50","p-60"]]' \
  "$(jqb '[.deliveries[] | [.methargs.body[0], .methargs.slots[0], .result]]')"

echo "== an acknowledged change survives SIGKILL"
do_curl POST /vats '{"name":"carol"}'
assert_eq "create carol" '201 "v3"' "$STATUS $(jqb .vatID)"
CAROL="$(jqr .token)"
do_curl -t "$CAROL" POST /vats/v3/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"last","value":"words"}]}'
assert_status "carol writes to her vatstore" 200
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
start_server
do_curl GET /vats/v3
assert_eq "carol exists after SIGKILL" '200 "carol"' "$STATUS $(jqb .name)"
do_curl -t "$CAROL" POST /vats/v3/syscalls '{"syscalls":[{"type":"vatstoreGet","key":"last"}]}'
assert_eq "her token and her write survived" '200 {"type":"ran","results":["words"]}' "$STATUS $BODY"
do_curl GET /kernel
assert_eq "the restarted server is in its configured mode (auto)" '"auto"' "$(jqb .runMode)"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"
stop_server

echo "== a store that fails the audit is not served"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$DB" "UPDATE objects SET recognizable = recognizable + 1 WHERE id = 20"
  out="$("$VATKERNEL_BIN" serve --port 0 --db "$DB" 2>&1)"; rc=$?
  assert_eq "vatkernel refuses to serve it: exit 70" '70' "$rc"
  assert_eq "and prints the problem" '1' "$(printf '%s' "$out" | grep -c 'ko20: refCount is .* but holders add up to')"
  sqlite3 "$DB" "UPDATE objects SET recognizable = recognizable - 1 WHERE id = 20"
  # An id past the vref grammar's 2^40-1 used to trap (SIGILL) in the store's own parser.
  sqlite3 "$DB" "UPDATE clist SET vref = 'o+9999999999999' WHERE vref = 'o+0' AND vat = 'v2'"
  out="$("$VATKERNEL_BIN" serve --port 0 --db "$DB" 2>&1)"; rc=$?
  assert_eq "a corrupt stored vref is refused at load: exit 74, no trap" '74' "$rc"
  assert_eq "and the message names the row" '1' "$(printf '%s' "$out" | grep -c 'not a vref: o+9999999999999')"
else
  echo "skip: sqlite3 is not installed"
fi
finish
