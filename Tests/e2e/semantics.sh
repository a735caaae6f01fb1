#!/usr/bin/env bash
# Issue 12 over HTTP (KERNEL-SPEC §13.8): processRefcounts works until its list is empty,
# the start-up audit tells leaks from corruption, the host may ask the kernel to reconsider
# krefs, the last exit wins and the references in an exit reason are held by the host,
# promise pipelining, and the opt-in abandonImports delivery.
source "$(dirname "$0")/lib/common.bash"

# new_kernel [serve flags...]: a fresh server on a fresh database, with alice (v1, ko20) and
# bob (v2, ko21), each importing the other's root (o-50).
new_kernel() {
  stop_server
  DB="$E2E_TMP/kernel-$RANDOM.sqlite"
  start_server "$@"
  do_curl POST /vats '{"name":"alice"}'
  assert_eq "create alice" '201 "v1" "ko20"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
  ALICE="$(jqr .token)"
  do_curl POST /vats '{"name":"bob"}'
  assert_eq "create bob" '201 "v2" "ko21"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
  BOB="$(jqr .token)"
  do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20),\"result\":\"none\"}"
  assert_status "host sends bob meet(ko20)" 202
  do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs meet ko21),\"result\":\"none\"}"
  assert_status "host sends alice meet(ko21)" 202
}

# syscalls TOKEN VAT JSON-LIST: posts one batch.
syscalls() { do_curl -t "$1" POST "/vats/$2/syscalls" "{\"syscalls\":$3}"; }

# deliveries_after TOKEN VAT N: the vat's deliveries after the first N, without seq/crank.
deliveries_after() {
  do_curl -t "$1" GET "/vats/$2/deliveries?after=$3"
  jqb '[.deliveries[] | del(.seq, .crank)]'
}

audit_is_clean() {
  do_curl GET /kernel/audit
  assert_eq "$1: the audit is clean" '200 []' "$STATUS $BODY"
}

echo "== one resolve releases a promise through another's data (agoric-sdk #9888)"
new_kernel
syscalls "$BOB" v2 '[{"type":"resolve","resolutions":[
  {"vpid":"p+1","rejected":false,"data":{"body":{"$slot":0},"slots":["o+9"]}},
  {"vpid":"p+2","rejected":true,"data":{"body":{"$slot":0},"slots":["p+1"]}}]}]'
assert_eq "bob resolves p+1 (o+9) and p+2 (p+1)" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
do_curl GET /promises/kp40
assert_eq "kp40 (p+1) is gone" 404 "$STATUS"
do_curl GET /promises/kp41
assert_eq "kp41 (p+2) is gone" 404 "$STATUS"
assert_eq "bob is told to drop and retire o+9" '[{"type":"dropExports","vrefs":["o+9"]},{"type":"retireExports","vrefs":["o+9"]}]' \
  "$(deliveries_after "$BOB" v2 2)"
do_curl GET /objects/ko22
assert_eq "ko22 (o+9) is gone" 404 "$STATUS"
audit_is_clean "after the resolve"
stop_server
start_server
audit_is_clean "after a restart"
do_curl GET /kernel
assert_eq "the restarted kernel serves" 200 "$STATUS"

echo "== a database an older version left with a leak is served, and the leak reported"
new_kernel
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs get),\"result\":\"keep\"}"
assert_eq "host sends bob get(), keeping the result" '202 "kp40"' "$STATUS $(jqb .result)"
syscalls "$BOB" v2 '[{"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":{"$slot":0},"slots":["o+9"]}}]}]'
assert_status "bob fulfils it with his o+9" 200
do_curl GET /objects/ko22
assert_eq "ko22 (o+9) is held by kp40's data" '"v2" 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
stop_server
if command -v sqlite3 >/dev/null; then
  # What the single-pass processRefcounts left (agoric-sdk #9888): kp40 settled, refCount 0,
  # held by nothing, its data still holding ko22.
  sqlite3 "$DB" "DELETE FROM held_results; UPDATE promises SET refcount = 0 WHERE id = 40"
  start_server
  assert_eq "the server starts and logs the leak" '1' "$(grep -c 'kp40: promise with refCount 0 was not deleted' "$SERVER_LOG")"
  do_curl GET /kernel/audit
  assert_eq "the audit reports it as a leak" '200 [{"kref":"kp40","message":"promise with refCount 0 was not deleted","kind":"leak"}]' "$STATUS $BODY"
  do_curl GET /readyz
  assert_status "the server is ready" 200
  do_curl POST /kernel/gc/reconsider '{"krefs":["ko20","kp40"]}'
  assert_eq "reconsider collects kp40 and what its data held; alice's root is untouched" \
    '200 {"collected":["kp40"],"gcActions":["v2 dropExport ko22","v2 retireExport ko22"]}' "$STATUS $BODY"
  do_curl GET /kernel/audit
  assert_eq "then the audit is clean" '200 []' "$STATUS $BODY"
  do_curl GET /objects/ko20
  assert_eq "ko20 still pinned by the host" '200 1' "$STATUS $(jqb .pins)"
  do_curl GET /objects/ko22
  assert_eq "ko22 was dropped and retired by bob's GC cranks" '404' "$STATUS"
  do_curl POST /kernel/gc/reconsider '{"krefs":["kp40"]}'
  assert_eq "reconsidering what is gone: 422 unknown-kref" '422 "unknown-kref"' "$STATUS $(jqb .error.code)"
  do_curl POST /kernel/gc/reconsider '{"krefs":[]}'
  assert_eq "an empty list: 400 naming krefs" '400 "krefs"' "$STATUS $(jqb .error.details.field)"
  do_curl POST /kernel/gc/reconsider '{"krefs":["o+1"]}'
  assert_eq "not a kref: 400 naming krefs[0]" '400 "krefs[0]"' "$STATUS $(jqb .error.details.field)"
  do_curl GET /kernel/gc/reconsider
  assert_eq "GET: 405" '405' "$STATUS"
else
  echo "skip: sqlite3 is not installed"
fi

finish
