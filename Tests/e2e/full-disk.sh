#!/usr/bin/env bash
# A really full disk (issue 9 part 5): the database on a tmpfs with not one free block. Reads,
# batches of reads included, are answered; a change gets 503 and leaves nothing behind, in
# memory or on disk; the service goes on without reloading; once there is room again the same
# change is made, and a restart finds it. Needs root (mount) and sqlite3; skipped otherwise.
source "$(dirname "$0")/lib/common.bash"

if [ "$(id -u)" != 0 ] || ! command -v sqlite3 >/dev/null; then
  echo "skip: needs root (to mount a tmpfs) and sqlite3"
  finish
fi
MNT="$E2E_TMP/mnt"
mkdir "$MNT"
mount -t tmpfs -o size=8m tmpfs "$MNT" || { echo "skip: cannot mount a tmpfs here"; finish; }
unmount_then_cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; fi
  umount "$MNT"
  cleanup
}
trap unmount_then_cleanup EXIT
DB="$MNT/k.sqlite"

start_server
do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"vatstoreSet","key":"b","value":"2"}]}'
assert_status "bob writes two keys" 200

snapshot() {
  local out="" p
  for p in /kernel /vats /vats/v1/clist /vats/v2/clist /kernel/run-queue /objects /promises "/events?limit=1000"; do
    do_curl GET "$p"; out+="$p $STATUS $BODY"$'\n'
  done
  do_curl -t "$ALICE" GET /vats/v1/deliveries; out+="alice $BODY"$'\n'
  do_curl -t "$BOB" GET /vats/v2/deliveries; out+="bob $BODY"
  printf '%s' "$out"
}
before="$(snapshot)"

# No frame of the write-ahead log can be rewritten in place, and no block is free.
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
assert_eq "the file system is full" 0 "$(df --output=avail -B1 "$MNT" | tail -1 | tr -d ' ')"

READS='{"syscalls":[{"type":"vatstoreGet","key":"a"},{"type":"vatstoreGetNextKey","priorKey":"a"},{"type":"vatstoreGet","key":"none"}]}'
do_curl -t "$BOB" POST /vats/v2/syscalls "$READS"
assert_eq "a batch of reads is answered on the full disk" '200 {"type":"ran","results":["1","b",null]}' "$STATUS $BODY"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"changed"},{"type":"send","target":"o-50","methargs":{"body":["hi",[]],"slots":[]}}]}'
assert_eq "a change is refused: 503 storage-failure" '503 "storage-failure"' "$STATUS $(jqb .error.code)"
do_curl POST /vats '{"name":"carol"}'
assert_eq "a creation too" '503 null' "$STATUS $(jqb .token)"
assert_eq "everything shown is as before the failures" "$before" "$(snapshot)"
do_curl -t "$BOB" POST /vats/v2/syscalls "$READS"
assert_eq "bob's keys are as before" '200 {"type":"ran","results":["1","b",null]}' "$STATUS $BODY"
assert_eq "the failed groups were undone, not reloaded" 0 "$(grep -c 'reloading the state' "$SERVER_LOG")"
assert_eq "the log says why" 2 "$(grep -c 'flush failed; answering 1 request(s) with 503' "$SERVER_LOG")"

rm -f "$MNT/filler"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"changed"},{"type":"send","target":"o-50","methargs":{"body":["hi",[]],"slots":[]}}]}'
assert_status "with room again, the same change is made" 200
do_curl POST /vats '{"name":"carol"}'
assert_eq "carol gets the number the lost creation had" '201 "v3"' "$STATUS $(jqb .vatID)"
CAROL="$(jqr .token)"
do_curl -t "$ALICE" GET /vats/v1/deliveries
assert_eq "alice got bob's hi once" '1' "$(jqb '[.deliveries[] | select(.methargs.body[0] == "hi")] | length')"
after="$(snapshot)"
stop_server

start_server
assert_eq "a restart finds the same state" "$after" "$(snapshot)"
do_curl -t "$BOB" POST /vats/v2/syscalls "$READS"
assert_eq "bob's change survived" '200 {"type":"ran","results":["changed","b",null]}' "$STATUS $BODY"
do_curl -t "$CAROL" GET /vats/v3/deliveries
assert_status "carol's token works" 200
finish
