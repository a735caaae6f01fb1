#!/usr/bin/env bash
# Restart with a rich state (issue 4): several vats with imports and exports, an orphan left by
# abandonExports, messages waiting in both queues and on a promise, promises unresolved,
# fulfilled and rejected, GC actions pending, a terminated vat half-way through its cleanup,
# an upgraded vat, pins and a held result. Dump every table and every delivery log through the
# API, stop with SIGTERM, start again on the same database, dump again: byte for byte the same
# (jq -S). The audit is clean, and the queued work then runs to the right results.
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/rich.sqlite"
# Manual mode, so the queues and GC actions stay as they are; a cleanup budget of 2 entries,
# so a terminated vat is cleaned over several cranks. Run mode is not stored: say it again.
FLAGS=(--run-mode manual --cleanup-budget 2)
start_server "${FLAGS[@]}"

declare -A TOK
vat() {   # vat NAME: creates it, sets TOK[vatID]
  do_curl POST /vats "{\"name\":\"$1\",\"options\":{\"role\":\"$1\"}}"
  assert_status "create $1" 201
  TOK[$(jqr .vatID)]="$(jqr .token)"
}
# sys VAT JSON-SYSCALLS WHAT: posts a batch with the vat's token, expecting 200.
sys() {
  do_curl -t "${TOK[$1]}" POST "/vats/$1/syscalls" "{\"syscalls\":$2}"
  assert_status "$3" 200
}
run_all() {
  do_curl POST /kernel/run '{}'
  assert_eq "$1: the kernel runs to idle" '200 true' "$STATUS $(jqb .idle)"
}
send() {  # send TARGET-VREF RESULT-VREF-OR-EMPTY METHOD SLOTS...: a send syscall
  local target="$1" result="$2"; shift 2
  local r=""
  [ -n "$result" ] && r=",\"result\":\"$result\""
  echo "{\"type\":\"send\",\"target\":\"$target\",\"methargs\":$(methargs "$@")$r}"
}

vat alice   # v1 ko20
vat bob     # v2 ko21
vat carol   # v3 ko22
vat dave    # v4 ko23: terminated, cleanup half done
vat eve     # v5 ko24: upgraded
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs meet ko21 ko22 ko23 ko24)}"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl POST /messages "{\"target\":\"ko23\",\"methargs\":$(methargs meet ko22)}"
do_curl POST /messages "{\"target\":\"ko24\",\"methargs\":$(methargs meet ko20)}"
run_all "introductions"
# alice: o-50 bob, o-51 carol, o-52 dave, o-53 eve; bob, eve: o-50 alice; dave: o-50 carol.

echo "== imports, exports, an orphan"
sys v1 "[$(send o-50 "" take o+10 o+11 o+12 o+13)]" "alice gives bob o+10..o+13"
run_all "bob imports alice's four"
sys v1 '[{"type":"abandonExports","vrefs":["o+12"]}]' "alice abandons o+12, which bob still imports"
do_curl POST /vats/v1/exports '{"vref":"o+14"}'
assert_status "the host pins alice's o+14 (addExport)" 200
PINNED="$(jqr .kref)"
do_curl POST "/objects/ko22/pin"
assert_status "the host pins carol's root once more" 200
sys v1 '[{"type":"vatstoreSet","key":"greeting","value":"hello"},{"type":"vatstoreSet","key":"count","value":"3"}]' "alice's vatstore"

echo "== promises in every state"
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs q1),\"result\":\"keep\"}"
FULFILLED="$(jqr .result)"
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs q2),\"result\":\"keep\"}"
REJECTED="$(jqr .result)"
sys v2 "[$(send o-50 p+1 ask),{\"type\":\"subscribe\",\"vpid\":\"p+1\"},$(send p+1 "" "then" o+20)]" \
  "bob asks alice (p+1), subscribes, and sends a message to the answer"
run_all "alice receives q1, q2 and ask"
do_curl -t "${TOK[v1]}" GET "/vats/v1/deliveries?after=2"
assert_eq "alice decides p-60 (q1), p-61 (q2), p-62 (ask)" '[["q1","p-60"],["q2","p-61"],["ask","p-62"]]' \
  "$(jqb '[.deliveries[] | select(.type == "message") | [.methargs.body[0], .result]]')"
sys v1 '[{"type":"resolve","resolutions":[
  {"vpid":"p-60","rejected":false,"data":{"body":{"$slot":0},"slots":["o+15"]}},
  {"vpid":"p-61","rejected":true,"data":{"body":{"$error":"no","name":"Error"},"slots":[]}}]}]' \
  "alice fulfills q1 with o+15 and rejects q2"
run_all "the resolutions"

echo "== an upgraded vat"
sys v5 "[$(send o-50 "" keep o+d10/1 o+5),{\"type\":\"vatstoreSet\",\"key\":\"v\",\"value\":\"1\"}]" "eve gives alice o+d10/1 and o+5"
run_all "alice imports eve's two"
do_curl POST /vats/v5/upgrade '{"upgradeMessage":"eve 2","vatParameters":{"body":{"version":2},"slots":[]},"startVatSyscalls":[{"type":"vatstoreSet","key":"v","value":"2"}]}'
assert_eq "upgrade eve" '200 {"vatID":"v5","incarnation":1}' "$STATUS $BODY"

echo "== a terminated vat, half cleaned"
slots=""
for i in $(seq 1 12); do slots+=" o+$i"; done
# shellcheck disable=SC2086  # one argument per slot
sys v4 "[$(send o-50 "" take $slots),{\"type\":\"vatstoreSet\",\"key\":\"a\",\"value\":\"1\"},{\"type\":\"vatstoreSet\",\"key\":\"b\",\"value\":\"2\"}]" \
  "dave gives carol twelve objects"
run_all "carol imports dave's twelve"
do_curl POST /vats/v4/terminate '{"reason":"enough"}'
assert_eq "terminate dave: cleanup waits in manual mode" '200 "terminated" false' "$STATUS $(jqb .status) $(jqb .termination.cleanupDone)"
do_curl POST /kernel/run '{"maxCranks":3}'
assert_eq "three cranks of work" '200 3 false' "$STATUS $(jqb .cranks) $(jqb .idle)"

echo "== queued work and GC actions"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs later ko20),\"result\":\"keep\"}"
LATER="$(jqr .result)"
do_curl POST /kernel/step '{}'
assert_status "one step routes later() to the run-queue (routing comes first)" 200
sys v3 "[$(send o-50 "" hi)]" "carol sends dave's (dead) o+1 a message"
sys v2 '[{"type":"dropImports","vrefs":["o-51"]}]' "bob drops alice's o+10"
do_curl POST /vats/v3/bring-out-your-dead '{}'
assert_status "a bringOutYourDead for carol waits in the reap queue" 202

do_curl GET /kernel
echo "     $(jqb .)"
assert_eq "the state is rich: run-queue, acceptance and reap queues, GC actions, 5 vats" \
  'true true true true 5' "$(jqb '.queues.run > 0') $(jqb '.queues.acceptance > 0') $(jqb '.queues.reap > 0') $(jqb '.gcActions > 0') $(jqb .vats)"
do_curl GET /vats/v4
assert_eq "dave is terminated, his cleanup not done, entries left" '"terminated" false true' \
  "$(jqb .status) $(jqb .termination.cleanupDone) $(jqb '.clistSize > 0')"
do_curl GET /vats/v5
assert_eq "eve is in incarnation 1" '1' "$(jqb .incarnation)"
do_curl GET "/objects?owner=none&limit=1000"
assert_eq "orphans: alice's abandoned o+12, eve's ephemeral o+5, dave's exports" 'true' "$(jqb '.objects | length >= 3')"
do_curl GET "/promises?limit=1000"
assert_eq "promises unresolved, fulfilled and rejected" '["fulfilled","rejected","unresolved"]' "$(jqb '[.promises[].state] | unique')"
do_curl GET "/promises/$FULFILLED"
assert_eq "q1 fulfilled with alice's o+15, held by the host" '"fulfilled" true' "$(jqb .state) $(jqb .heldByHost)"
do_curl GET "/promises/$REJECTED"
assert_eq "q2 rejected, held by the host" '"rejected" true' "$(jqb .state) $(jqb .heldByHost)"
do_curl GET "/objects/$PINNED"
assert_eq "alice's o+14 is pinned by the host" '1' "$(jqb .pins)"
do_curl GET "/promises?decider=v1"
assert_eq "a message waits on bob's unresolved p+1" '1' "$(jqb '[.promises[] | select(.state == "unresolved")] | length')"

# all_pages PATH KEY: every item of a paginated list as one JSON array.
all_pages() {
  local path="$1" key="$2" after="" sep="?" items="[]"
  case "$path" in *\?*) sep="&" ;; esac
  while :; do
    do_curl GET "$path${sep}limit=1000${after:+&after=$after}"
    [ "$STATUS" = 200 ] || { echo "\"$path: $STATUS\""; return; }
    items="$(jq -c -n --argjson a "$items" --argjson b "$(jqb ".$key")" '$a + $b')"
    after="$(jqr '.next // empty')"
    [ -n "$after" ] || break
  done
  echo "$items"
}

# dump FILE: every table and every log, through the API, one sorted JSON document per line.
dump() {
  local out="$1" v k
  : >"$out"
  for p in /kernel /vats /kernel/gc-actions; do
    do_curl GET "$p"; echo "$p $STATUS $(printf '%s' "$BODY" | jq -S -c .)" >>"$out"
  done
  echo "/kernel/run-queue $(all_pages /kernel/run-queue events | jq -S -c .)" >>"$out"
  echo "/kernel/acceptance-queue $(all_pages /kernel/acceptance-queue events | jq -S -c .)" >>"$out"
  for v in $(printf '%s\n' "${!TOK[@]}" | sort); do
    do_curl GET "/vats/$v"; echo "/vats/$v $STATUS $(printf '%s' "$BODY" | jq -S -c .)" >>"$out"
    do_curl GET "/vats/$v/clist"; echo "/vats/$v/clist $STATUS $(printf '%s' "$BODY" | jq -S -c .)" >>"$out"
    echo "/vats/$v/deliveries $(TOKEN="${TOK[$v]}" all_pages "/vats/$v/deliveries" deliveries | jq -S -c .)" >>"$out"
  done
  local objects promises
  objects="$(all_pages /objects objects)"
  echo "/objects $(printf '%s' "$objects" | jq -S -c .)" >>"$out"
  for k in $(printf '%s' "$objects" | jq -r '.[].kref'); do
    do_curl GET "/objects/$k"; echo "/objects/$k $STATUS $(printf '%s' "$BODY" | jq -S -c .)" >>"$out"
  done
  promises="$(all_pages /promises promises)"
  echo "/promises $(printf '%s' "$promises" | jq -S -c .)" >>"$out"
  for k in $(printf '%s' "$promises" | jq -r '.[].kpid'); do
    do_curl GET "/promises/$k"; echo "/promises/$k $STATUS $(printf '%s' "$BODY" | jq -S -c .)" >>"$out"
  done
  do_curl GET /kernel/audit; echo "/kernel/audit $STATUS $BODY" >>"$out"
}

# vatstores VATS...: every running vat's vatstore as "vat key=value" lines, walked with
# vatstoreGetNextKey (each read is a crank, so this runs before the first dump, and after the
# second one).
vatstores() {
  local v key
  for v in "$@"; do
    key=""
    while :; do
      do_curl -t "${TOK[$v]}" POST "/vats/$v/syscalls" "{\"syscalls\":[{\"type\":\"vatstoreGetNextKey\",\"priorKey\":$(jq -n --arg k "$key" '$k')}]}"
      [ "$STATUS" = 200 ] || { echo "$v: $STATUS"; break; }
      key="$(jqr '.results[0] // empty')"
      [ -n "$key" ] || break
      do_curl -t "${TOK[$v]}" POST "/vats/$v/syscalls" "{\"syscalls\":[{\"type\":\"vatstoreGet\",\"key\":$(jq -n --arg k "$key" '$k')}]}"
      echo "$v $key=$(jqb '.results[0]')"
    done
  done
}

STORES_BEFORE="$(vatstores v1 v2 v3 v5)"
dump "$E2E_TMP/before"
stop_server
start_server "${FLAGS[@]}"
dump "$E2E_TMP/after"
echo "     dumped $(wc -l <"$E2E_TMP/before") resources, $(wc -c <"$E2E_TMP/before") bytes"
if cmp -s "$E2E_TMP/before" "$E2E_TMP/after"; then
  assert_eq "after a restart every table and log is byte for byte the same" same same
else
  diff "$E2E_TMP/before" "$E2E_TMP/after" | head -20
  assert_eq "after a restart every table and log is byte for byte the same" same different
fi
assert_eq "the dump holds every vat's log" 5 "$(grep -c '^/vats/v[0-9]*/deliveries \[{' "$E2E_TMP/after")"
do_curl GET /kernel/audit
assert_eq "audit is clean after the restart" '200 []' "$STATUS $BODY"
assert_eq "every running vat's vatstore is the same" "$STORES_BEFORE" "$(vatstores v1 v2 v3 v5)"
assert_eq "which is alice's two keys and eve's one" 'v1 count="3"|v1 greeting="hello"|v5 v="2"' "$(echo "$STORES_BEFORE" | paste -sd'|')"

echo "== the work goes on"
run_all "the queued work"
do_curl GET /vats/v4
assert_eq "dave's cleanup finished: nothing left" '"terminated" true 0' "$(jqb .status) $(jqb .termination.cleanupDone) $(jqb .clistSize)"
do_curl GET /kernel/gc-actions
assert_eq "no GC action left" '200 {"gcActions":[],"next":null,"limit":100,"maxBytes":1048576}' "$STATUS $BODY"
do_curl GET "/objects/$(grep -o '"kref":"ko[0-9]*","vref":"o+10"' "$E2E_TMP/after" | head -1 | sed 's/.*"kref":"\(ko[0-9]*\)".*/\1/')"
assert_eq "alice's o+10, dropped by bob, is gone" '404' "$STATUS"
do_curl -t "${TOK[v2]}" GET "/vats/v2/deliveries?after=$(grep -o '^/vats/v2 200 .*' "$E2E_TMP/after" | sed 's/.*"deliveryCount":\([0-9]*\).*/\1/')"
assert_eq "bob gets later(o-50), then is told to retire what he dropped" '["message","later","o-50"]' \
  "$(jqb '[.deliveries[] | select(.type == "message")] | .[0] | [.type, .methargs.body[0], .methargs.slots[0]]')"
do_curl -t "${TOK[v1]}" GET "/vats/v1/deliveries?limit=1000"
A62="$(jqb '[.deliveries[] | select(.type == "message" and .methargs.body[0] == "then")] | length')"
assert_eq "the message on bob's unresolved answer still waits (not delivered to alice)" '0' "$A62"
sys v1 '[{"type":"resolve","resolutions":[{"vpid":"p-62","rejected":false,"data":{"body":"answer","slots":[]}}]}]' \
  "alice answers bob's ask"
run_all "the answer"
do_curl -t "${TOK[v2]}" GET "/vats/v2/deliveries?limit=1000"
assert_eq "bob is notified: p+1 = answer" '[{"vpid":"p+1","rejected":false,"data":{"body":"answer","slots":[]}}]' \
  "$(jqb '[.deliveries[] | select(.type == "notify")] | last | .resolutions')"
do_curl -t "${TOK[v1]}" GET "/vats/v1/deliveries?limit=1000"
assert_eq "the message sent to bob's answer is not delivered to alice: the answer is data" '0' \
  "$(jqb '[.deliveries[] | select(.type == "message" and .methargs.body[0] == "then")] | length')"
do_curl GET "/promises/$LATER"
assert_eq "the host's later() waits on bob's answer: unresolved, bob decides" '"unresolved" "v2"' "$(jqb .state) $(jqb .decider)"
do_curl GET /kernel/audit
assert_eq "audit is clean at the end" '200 []' "$STATUS $BODY"
finish
