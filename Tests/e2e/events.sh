#!/usr/bin/env bash
# The event log (issue 10): GET /events pages what every crank wrote (its start with the host
# request or queued event that began it, deliveries and syscalls in both forms, exports, orphans,
# retirements, settlements, vat creation, illegal syscalls, termination, cleanup, upgrade, GC
# actions added and done, each crank's finish with its hashes), filters by type and vat, refuses
# unknown filters, answers wait= as soon as an event exists (or empty when the wait ends) without
# holding up other requests, and survives a restart.
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/events.sqlite"
start_server
do_curl GET /events
assert_eq "a new kernel's log is empty" '200 {"events":[],"next":null,"limit":100,"maxBytes":1048576}' "$STATUS $BODY"

do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take o+1)}]}"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
assert_status "alice drops bob's export" 200

do_curl GET /events?type=deliver
assert_eq "every delivery, in both forms, in order" \
  '[[1,"v1",1,"startVat","startVat"],[2,"v2",1,"startVat","startVat"],[5,"v2",2,"message","message"],[8,"v1",2,"message","message"],[10,"v2",3,"dropExports","dropExports"]]' \
  "$(jqb '[.events[] | [.crank, .vatID, .deliveryNum, .kd.type, .vd.type]]')"
assert_eq "the kernel form names krefs where the vat's names vrefs" '[["ko21","o+0",["ko20"],["o-50"]],["ko22","o+1"]]' \
  "$(jqb '[(.events[2] | [.kd.target, .vd.target, .kd.methargs.slots, .vd.methargs.slots]), (.events[4] | .kd.krefs + .vd.vrefs)]')"
do_curl GET /events?type=crank-start
assert_eq "each crank's start: its kind, its vat, the host request or queued event that began it" \
  '[[1,"host","v1","create-vat"],[2,"host","v2","create-vat"],[3,"host",null,"send"],[4,"routing","v2","send"],[5,"delivery","v2","send"],[6,"host","v2","syscalls"],[7,"routing","v1","send"],[8,"delivery","v1","send"],[9,"host","v1","syscalls"],[10,"gc","v2",null]]' \
  "$(jqb '[.events[] | [.crankNum, .crankType, .vatID, (.request.type // .message.type)]]')"
do_curl GET "/events?type=crank-start&limit=1"
assert_eq "the create-vat request as the host made it, without the token it got" \
  '{"name":"alice","options":{},"type":"create-vat","vatParameters":{"body":null,"slots":[]}}' "$(jqb '.events[0].request')"
do_curl GET /events?type=syscall
assert_eq "each syscall in both forms with its result" \
  '[["v2",0,"send","ko20","o-50",["ok",null]],["v1",0,"dropImports",["ko22"],["o-50"],["ok",null]]]' \
  "$(jqb '[.events[] | [.vatID, .syscallNum, .vsc.type, (.ksc.target // .ksc.krefs), (.vsc.target // .vsc.vrefs), .vsr]]')"
do_curl GET /events?type=object-exported
assert_eq "each new export: the roots, then bob's o+1" '[["ko20","v1","o+0"],["ko21","v2","o+0"],["ko22","v2","o+1"]]' \
  "$(jqb '[.events[] | [.kref, .vatID, .vref]]')"
do_curl GET /events?type=create-vat
assert_eq "each vat created" '[["v1","alice"],["v2","bob"]]' "$(jqb '[.events[] | [.vatID, .name]]')"
do_curl GET /events?type=gc-action
assert_eq "the GC action added by alice's drop and removed, done, when bob is told" \
  '[[9,"v2","dropExport","ko22",true,null],[10,"v2","dropExport","ko22",false,false]]' \
  "$(jqb '[.events[] | [.crank, .vatID, .action, .kref, .added, .negated]]')"
do_curl GET /kernel
LAST="$(jqb '[.crank, .crankHash, .activityHash]')"
do_curl "GET" "/events?type=crank-finish"
assert_eq "the last crank-finish carries the crank's hashes, as GET /kernel shows them" "$LAST" \
  "$(jqb '.events[-1] | [.crankNum, .crankhash, .activityhash]')"
assert_eq "every crank wrote its start first and its finish last" '[]' \
  "$(do_curl GET '/events?limit=1000'; jqb '[.events | group_by(.crank)[] | select(.[0].type != "crank-start" or .[-1].type != "crank-finish") | .[0].crank]')"
do_curl GET "/events?vat=v2&limit=2"
assert_eq "vat= keeps bob's events; a page of 2 says where the next starts" '[[6,7],7]' "$(jqb '[[.events[].seq], .next]')"
do_curl GET "/events?vat=v2&after=7"
assert_eq "the next page" '[[8,9,13,15,16,18,19,20,29,31,32,33],null]' "$(jqb '[[.events[].seq], .next]')"
do_curl GET "/events?type=syscal"
assert_eq "an unknown type is a 400 naming the parameter" '400 "type"' "$STATUS $(jqb .error.details.parameter)"
do_curl GET "/events?after=-1"
assert_status "after must be a number" 400

echo "== wait=: a long poll answered by the next event, without holding up anything else"
do_curl GET "/events?limit=1000"
END="$(jqb '.events[-1].seq')"
curl -sS "$URL/events?after=$END&vat=v1&wait=20" -o "$E2E_TMP/waited" &
WAITER=$!
sleep 0.3
t0=$(date +%s%N)
do_curl GET /kernel
assert_eq "other requests are served while one waits" '200 10' "$STATUS $(jqb .crank)"
do_curl POST /vats/v2/bring-out-your-dead '{}'
assert_status "bob's bring-out-your-dead (an event about v2, not v1)" 202
sleep 0.3
assert_eq "an event of another vat does not end the wait" 'waiting' "$(kill -0 "$WAITER" 2>/dev/null && echo waiting)"
do_curl POST /vats/v1/bring-out-your-dead '{}'
wait "$WAITER"
t1=$(date +%s%N)
BODY="$(cat "$E2E_TMP/waited")"
assert_eq "the wait ends with the events of alice's request and the cranks it ran (one group, one flush)" \
  '[["crank-start","v1","bring-out-your-dead"],["crank-start","v1","reap"],["deliver","v1","bringOutYourDead"]]' \
  "$(jqb '[.events[] | [.type, .vatID, (.request.type // .crankType // .vd.type)]]')"
assert_eq "and well before its 20 s" 'yes' "$([ $(( (t1 - t0) / 1000000 )) -lt 5000 ] && echo yes)"
t0=$(date +%s%N)
do_curl GET "/events?after=100000&wait=1"
t1=$(date +%s%N)
assert_eq "a wait with nothing to show ends empty" '200 []' "$STATUS $(jqb .events)"
assert_eq "after about its 1 s" 'yes' "$(ms=$(( (t1 - t0) / 1000000 )); [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] && echo yes)"
do_curl GET "/events?wait=61"
assert_eq "wait is at most 60" '400 "wait"' "$STATUS $(jqb .error.details.parameter)"
do_curl GET "/events?after=$END&wait=5&type=deliver"
assert_eq "an event already there answers at once" '200 [["v2","bringOutYourDead"],["v1","bringOutYourDead"]]' \
  "$STATUS $(jqb '[.events[] | [.vatID, .vd.type]]')"

echo "== promises, illegal syscalls, termination, cleanup, upgrade"
# mark: only the events after it, of one type, as compact JSON lines of the fields asked for.
since() { do_curl GET "/events?after=$1&type=$2&limit=1000"; jqb "[.events[] | $3]"; }
do_curl GET "/events?limit=1000"; M="$(jqb '.events[-1].seq')"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"send","target":"o-50","methargs":{"body":["ask",[]],"slots":[]},"result":"p+5"},{"type":"subscribe","vpid":"p+5"},{"type":"vatstoreSet","key":"k","value":"v"},{"type":"vatstoreGet","key":"k"}]}'
assert_status "bob asks alice, with a result he subscribes to" 200
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":"yes","slots":[]}}]}]}'
assert_status "alice answers" 200
assert_eq "the vatstore read's result" '[["ok",null],["ok",null],["ok",null],["ok","v"]]' "$(since "$M" syscall .vsr | jq -c '.[0:4]')"
assert_eq "the promise fulfilled by its decider" '[["kp40","v1",{"body":"yes","slots":[]}]]' "$(since "$M" promise-fulfilled '[.kpid, .decider, .data]')"
assert_eq "bob is told, in both forms" '[[[{"data":{"body":"yes","slots":[]},"kpid":"kp40","rejected":false}],"p+5"]]' \
  "$(since "$M" deliver 'select(.vd.type == "notify") | [.kd.resolutions, .vd.resolutions[0].vpid]')"

do_curl GET "/events?limit=1000"; M="$(jqb '.events[-1].seq')"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"send","target":"o-50","methargs":{"body":["again",[]],"slots":[]},"result":"p+6"}]}'
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"dropImports","vrefs":["o-99"]}]}'
assert_status "alice's batch breaks a rule" 422
assert_eq "the illegal syscall, which and why" '[["v1",1,"dropImports","vref o-99 not in clist"]]' \
  "$(since "$M" illegal-syscall '[.vatID, .syscallNum, .syscall, .problem]')"
assert_eq "the offending syscall with its error; the undone vatstoreSet is not there" '[["v1",1,null,["error","vref o-99 not in clist"]]]' \
  "$(since "$M" syscall 'select(.vatID == "v1") | [.vatID, .syscallNum, .ksc, .vsr]')"
assert_eq "alice terminated with the reason" '[["v1",true,"vref o-99 not in clist"]]' \
  "$(since "$M" terminate '[.vatID, .shouldReject, .info.body["$error"]]')"
assert_eq "the promise she decided rejected" '[["kp41","v1","vat terminated"]]' \
  "$(since "$M" promise-rejected '[.kpid, .decider, .data.body["$error"]]')"
assert_eq "her cleanup: what each step removed, then complete" '[["vat-cleanup","v1",{"exports":1,"imports":1,"kv":0,"promises":1}],["vat-cleanup-complete","v1",null]]' \
  "$(do_curl GET "/events?after=$M&vat=v1&limit=1000"; jqb '[.events[] | select(.type | startswith("vat-cleanup")) | [.type, .vatID, .work]]')"
assert_eq "her root orphaned by the cleanup" '[["ko20","v1"]]' "$(since "$M" object-orphaned '[.kref, .vatID]')"
assert_eq "the terminate request's crank, without a token" '[]' \
  "$(do_curl GET "/events?limit=1000"; jqb '[.events[] | select(tostring | test("token"))]')"

do_curl GET "/events?limit=1000"; M="$(jqb '.events[-1].seq')"
do_curl POST /vats/v2/exports '{"vref":"o+7"}'
assert_eq "the host takes bob's o+7" '200 "ko23"' "$STATUS $(jqb .kref)"
do_curl POST /vats/v2/upgrade '{"upgradeMessage":"v2 coming"}'
assert_eq "upgrade bob" '200 {"vatID":"v2","incarnation":1}' "$STATUS $BODY"
assert_eq "the upgrade: incarnations and the exports abandoned" '[["v2",0,1,["ko23"]]]' \
  "$(since "$M" vat-upgrade '[.vatID, .incarnationNumber, .newIncarnationNumber, .abandoned]')"
assert_eq "the upgrade request began its crank" '[["host","v2","upgrade","v2 coming"]]' \
  "$(since "$M" crank-start 'select(.request.type == "upgrade") | [.crankType, .vatID, .request.type, .request.upgradeMessage]')"
assert_eq "its deliveries: the last bringOutYourDead, then startVat" '[["v2","bringOutYourDead"],["v2","startVat"]]' \
  "$(since "$M" deliver '[.vatID, .vd.type]')"
do_curl GET "/events?after=$M&limit=1000"
assert_eq "o+7 exported to the host, then orphaned by the upgrade" '[["object-exported","ko23","v2"],["object-orphaned","ko23","v2"]]' \
  "$(jqb '[.events[] | select(.type | startswith("object-")) | [.type, .kref, .vatID]]')"
do_curl POST /objects/ko23/pin '{}'
do_curl DELETE /objects/ko23/pin
do_curl DELETE /objects/ko23/pin
assert_status "the host lets go of the orphan" 200
assert_eq "the orphan no one reaches is retired, with no owner" '[["ko23",null]]' "$(since "$M" object-retired '[.kref, .vatID]')"
assert_eq "the pin requests began their cranks" '[["pin","ko23"],["unpin","ko23"],["unpin","ko23"]]' \
  "$(since "$M" crank-start 'select(.request.kref) | [.request.type, .request.kref]')"

ALL="$(do_curl GET '/events?limit=1000'; printf '%s' "$BODY")"
ENDALL="$(printf '%s' "$ALL" | jq '.events[-1].seq')"
stop_server

start_server
do_curl GET '/events?limit=1000'
assert_eq "the log survives a restart" "$ALL" "$BODY"
do_curl POST /vats/v2/bring-out-your-dead '{}'
do_curl GET "/events?after=$ENDALL"
assert_eq "numbering goes on after the restart" "[$((ENDALL + 1)),$((ENDALL + 2))]" "$(jqb '[.events[0:2][].seq]')"
finish
