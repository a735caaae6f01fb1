#!/usr/bin/env bash
# An upgrade tour (KERNEL-SPEC §10, §13.4): alice gives bob a durable object o+d10/1 and an
# ephemeral one o+5, and decides a promise bob waits on. After her upgrade the durable object
# still works, the ephemeral one is orphaned (a send to it is rejected with "vat terminated"),
# and the promise is rejected with the vatUpgraded record of incarnation 0. A failed upgrade
# (startVatFails) is a 422 that changes nothing.
source "$(dirname "$0")/lib/common.bash"

start_server
do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
assert_status "host introduces alice to bob" 202

# Bob asks alice for her things, and for something she will answer later.
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[
  {\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs getThings),\"result\":\"p+1\"},
  {\"type\":\"subscribe\",\"vpid\":\"p+1\"},
  {\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs later),\"result\":\"p+2\"},
  {\"type\":\"subscribe\",\"vpid\":\"p+2\"}]}"
assert_status "bob sends getThings() and later()" 200
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=1
assert_eq "alice gets both messages, deciding p-60 and p-61" \
  '[["getThings","p-60"],["later","p-61"]]' "$(jqb '[.deliveries[] | [.methargs.body[0], .result]]')"

do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[
  {"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":[{"$slot":0},{"$slot":1}],"slots":["o+d10/1","o+5"]}}]},
  {"type":"vatstoreSet","key":"counter","value":"41"}]}'
assert_status "alice resolves getThings with [o+d10/1, o+5]" 200
do_curl -t "$BOB" GET /vats/v2/deliveries?after=2
assert_eq "bob is notified: p+1 = [o-51, o-52]" \
  '[{"type":"notify","resolutions":[{"vpid":"p+1","rejected":false,"data":{"body":[{"$slot":0},{"$slot":1}],"slots":["o-51","o-52"]}}]}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /vats/v1/clist
DURABLE="$(jqr '.entries[] | select(.vref == "o+d10/1") | .kref')"
EPHEMERAL="$(jqr '.entries[] | select(.vref == "o+5") | .kref')"
assert_eq "alice exports o+d10/1 and o+5" "ko22 ko23" "$DURABLE $EPHEMERAL"
do_curl GET "/promises?decider=v1"
LATER="$(jqr '.promises[0].kpid')"
assert_eq "alice decides one unresolved promise" '1 "unresolved"' "$(jqb '.promises | length') $(jqb '.promises[0].state')"

alice_log="$(do_curl -t "$ALICE" GET /vats/v1/deliveries; jqb '.deliveries | length')"
do_curl POST /vats/v1/upgrade '{"upgradeMessage":"v2 coming","vatParameters":{"body":{"version":2},"slots":[]}}'
assert_eq "upgrade alice" '200 {"vatID":"v1","incarnation":1}' "$STATUS $BODY"
do_curl GET /vats/v1
assert_eq "GET /vats/v1 shows incarnation 1, running" '1 "running"' "$(jqb .incarnation) $(jqb .status)"
do_curl -t "$ALICE" GET "/vats/v1/deliveries?after=$alice_log"
assert_eq "alice's log: bringOutYourDead, then startVat(vatParameters)" \
  '[{"type":"bringOutYourDead"},{"type":"startVat","vatParameters":{"body":{"version":2},"slots":[]}}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"

do_curl -t "$BOB" GET /vats/v2/deliveries?after=3
assert_eq "bob's p+2 is rejected with vatUpgraded, incarnationNumber 0" \
  '[{"type":"notify","resolutions":[{"vpid":"p+2","rejected":true,"data":{"body":{"incarnationNumber":0,"name":"vatUpgraded","upgradeMessage":"v2 coming"},"slots":[]}}]}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET "/promises/$LATER"
assert_eq "the decided promise is settled and collected" '404' "$STATUS"

do_curl GET "/objects/$DURABLE"
assert_eq "the durable o+d10/1 keeps its owner and counts" '"v1" 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl GET "/objects/$EPHEMERAL"
assert_eq "the ephemeral o+5 is orphaned, still 1,1 for bob" 'null 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl GET /vats/v1/clist
assert_eq "alice's c-list keeps o+0 and o+d10/1, not o+5" '["o+0","o+d10/1"]' "$(jqb '[.entries[] | .vref | select(startswith("o+"))] | sort')"
do_curl GET /vats/v1/clist
v1_clist="$BODY"

do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[
  {\"type\":\"send\",\"target\":\"o-52\",\"methargs\":$(methargs ping),\"result\":\"p+3\"},{\"type\":\"subscribe\",\"vpid\":\"p+3\"},
  {\"type\":\"send\",\"target\":\"o-51\",\"methargs\":$(methargs ping),\"result\":\"p+4\"},{\"type\":\"subscribe\",\"vpid\":\"p+4\"}]}"
assert_status "bob pings both objects" 200
do_curl -t "$BOB" GET /vats/v2/deliveries?after=4
assert_eq "the ping to the orphan is rejected: vat terminated" \
  '[{"type":"notify","resolutions":[{"vpid":"p+3","rejected":true,"data":{"body":{"$error":"vat terminated","name":"Error"},"slots":[]}}]}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=$((alice_log + 2))
assert_eq "the durable object gets its ping in the new incarnation" '[["o+d10/1","ping","p-62"]]' \
  "$(jqb '[.deliveries[] | [.target, .methargs.body[0], .result]]')"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreGet","key":"counter"}]}'
assert_eq "the vatstore survives the upgrade" '{"type":"ran","results":["41"]}' "$BODY"

echo "== a failed upgrade changes nothing"
do_curl GET /vats/v1/clist; v1_clist="$BODY"
do_curl -t "$ALICE" GET /vats/v1/deliveries; log_before="$(jqb '.deliveries | length')"
do_curl GET /kernel; crank_before="$(jqb .crank)"
do_curl POST /vats/v1/upgrade '{"upgradeMessage":"v3","startVatFails":true}'
assert_eq "startVatFails: 422 vat-upgrade failure" '422 "vat-upgrade-failure" "vat-upgrade failure"' \
  "$STATUS $(jqb .error.code) $(jqb .error.message)"
assert_eq "the reason says why" '"the new incarnation failed to start"' "$(jqb .error.details.reason)"
do_curl GET /vats/v1
assert_eq "still incarnation 1, running" '1 "running"' "$(jqb .incarnation) $(jqb .status)"
do_curl GET /vats/v1/clist
assert_eq "alice's c-list is unchanged" "$v1_clist" "$BODY"
do_curl -t "$ALICE" GET /vats/v1/deliveries
assert_eq "alice's log is unchanged" "$log_before" "$(jqb '.deliveries | length')"
do_curl GET /kernel
assert_eq "no crank was committed" "$crank_before" "$(jqb .crank)"

do_curl POST /vats/v1/upgrade '{"boydSyscalls":[{"type":"dropImports","vrefs":["o-99"]}]}'
assert_eq "an illegal syscall in the final bringOutYourDead fails the upgrade" '422 "vat-upgrade-failure"' \
  "$STATUS $(jqb .error.code)"
do_curl GET /vats/v1
assert_eq "the vat is not terminated by it" '1 "running"' "$(jqb .incarnation) $(jqb .status)"

do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"
finish
