#!/usr/bin/env bash
# A termination tour (KERNEL-SPEC §9): the host terminates bob; the promise he decided is
# rejected with "vat terminated", his exports become orphans that alice can still name but not
# reach, his side is closed (409). Then the other ways to die: a happy exit, an illegal syscall,
# and termination in manual mode, where cleanup waits for the kernel to run.
source "$(dirname "$0")/lib/common.bash"

start_server
do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take o+7)}]}"
assert_status "bob gives alice o+7 (ko22)" 200
do_curl -t "$ALICE" POST /vats/v1/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs ask),\"result\":\"p+1\"},{\"type\":\"subscribe\",\"vpid\":\"p+1\"}]}"
assert_status "alice asks bob's o+7, result p+1" 200
do_curl -t "$BOB" GET /vats/v2/deliveries?after=2
assert_eq "bob decides p-60" '["o+7","ask","p-60"]' "$(jqb '.deliveries[0] | [.target, .methargs.body[0], .result]')"

do_curl POST /vats/v2/terminate '{"reason":"bye"}'
assert_eq "terminate bob" '200 "terminated"' "$STATUS $(jqb .status)"
assert_eq "the reason is Error(bye), a failure, cleanup done (auto mode)" \
  '{"isFailure":true,"reason":{"body":{"$error":"bye","name":"Error"},"slots":[]},"reasonHeld":false,"cleanupDone":true}' \
  "$(jqb '.termination | del(.crank)')"
assert_eq "bob's c-list is empty" '0' "$(jqb .clistSize)"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=2
assert_eq "alice's p+1 is rejected: vat terminated" \
  '[{"type":"notify","resolutions":[{"vpid":"p+1","rejected":true,"data":{"body":{"$error":"vat terminated","name":"Error"},"slots":[]}}]}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "bob's o+7 is an orphan alice still holds, 1,1" 'null 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl GET /objects/ko21
assert_eq "bob's root is an orphan the host still pins" 'null 1' "$(jqb .owner) $(jqb .pins)"
do_curl GET /objects?owner=none
assert_eq "the orphans, listed" '["ko21","ko22"]' "$(jqb '[.objects[].kref]')"

do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"vatstoreGet","key":"k"}]}'
assert_eq "bob's syscalls are refused: 409 vat-terminated" '409 "vat-terminated"' "$STATUS $(jqb .error.code)"
do_curl -t "$BOB" GET /vats/v2/deliveries
assert_eq "his log went with his cleanup" '200 0' "$STATUS $(jqb '.deliveries | length')"
do_curl GET /vats/v2
assert_eq "as if he had acknowledged all three" '0 3' "$(jqb .deliveryCount) $(jqb .deliveriesAcknowledged)"
do_curl POST /vats/v2/terminate '{}'
assert_eq "terminating twice: 409" '409 "vat-terminated"' "$STATUS $(jqb .error.code)"
do_curl POST /vats/v2/upgrade '{}'
assert_eq "upgrading a dead vat: 409" '409' "$STATUS"

do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs hello),\"result\":\"keep\"}"
KP="$(jqr .result)"
do_curl GET "/promises/$KP"
assert_eq "a host send to the dead root is rejected, the host keeps the answer" \
  '"rejected" {"body":{"$error":"vat terminated","name":"Error"},"slots":[]} true' \
  "$(jqb .state) $(jqb .data) $(jqb .heldByHost)"
do_curl DELETE "/promises/$KP/hold"
assert_eq "the host releases it" '200 {"kpid":"'"$KP"'","heldByHost":false}' "$STATUS $BODY"
do_curl GET "/promises/$KP"
assert_eq "then it is collected" '404' "$STATUS"

do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=3
assert_eq "alice drops the orphan and is told to retire it" '[{"type":"retireImports","vrefs":["o-50"]}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "the orphan is gone" '404' "$STATUS"

echo "== a happy exit"
do_curl POST /vats '{"name":"carol"}'; CAROL="$(jqr .token)"
do_curl -t "$CAROL" POST /vats/v3/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"exit","isFailure":false,"info":{"body":"done","slots":[]}}]}'
assert_eq "carol exits" '200 {"type":"exited","exited":true,"isFailure":false,"results":[null,null]}' "$STATUS $BODY"
do_curl GET /vats/v3
assert_eq "carol is terminated, not a failure, with her exit value" \
  '"terminated" false {"body":"done","slots":[]}' "$(jqb .status) $(jqb .termination.isFailure) $(jqb .termination.reason)"

echo "== an illegal syscall"
do_curl POST /vats '{"name":"dave"}'; DAVE="$(jqr .token)"
do_curl -t "$DAVE" POST /vats/v4/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"retireExports","vrefs":["o+0"]}]}'
assert_eq "retireExports of a reachable export: 422 illegal-syscall" '422 "illegal-syscall"' "$STATUS $(jqb .error.code)"
assert_eq "the details say which, why, and that dave is terminated" \
  '{"index":1,"syscall":"retireExports","problem":"syscall.retireExports but o+0 is still reachable","vatTerminated":true}' \
  "$(jqb .error.details)"
do_curl GET /vats/v4
assert_eq "dave died of it" '"terminated" {"body":{"$error":"syscall.retireExports but o+0 is still reachable","name":"Error"},"slots":[]}' \
  "$(jqb .status) $(jqb .termination.reason)"

echo "== the last exit of a batch wins (KERNEL-SPEC §13.8)"
do_curl POST /vats '{"name":"frank"}'; FRANK="$(jqr .token)"; FRANK_ID="$(jqr .vatID)"
do_curl -t "$FRANK" POST "/vats/$FRANK_ID/syscalls" '{"syscalls":[{"type":"vatstoreSet","key":"a","value":"1"},{"type":"exit","isFailure":false,"info":{"body":"first"}},{"type":"exit","isFailure":true,"info":{"body":{"$error":"second","name":"Error"}}}]}'
assert_eq "happy then failing: the failure wins, nothing of the batch stays" '200 {"type":"exited","exited":true,"isFailure":true,"results":[]}' "$STATUS $BODY"
do_curl GET "/vats/$FRANK_ID"
assert_eq "frank died with the second reason" 'true {"body":{"$error":"second","name":"Error"},"slots":[]}' "$(jqb .termination.isFailure) $(jqb .termination.reason)"
do_curl POST /vats '{"name":"grace"}'; GRACE="$(jqr .token)"; GRACE_ID="$(jqr .vatID)"
do_curl -t "$GRACE" POST "/vats/$GRACE_ID/syscalls" '{"syscalls":[{"type":"exit","isFailure":true,"info":{"body":{"$error":"first","name":"Error"}}},{"type":"vatstoreSet","key":"a","value":"1"},{"type":"exit","isFailure":false,"info":{"body":"second"}}]}'
assert_eq "failing then happy: the happy exit wins, the batch commits" '200 {"type":"exited","exited":true,"isFailure":false,"results":[null,null,null]}' "$STATUS $BODY"
do_curl GET "/vats/$GRACE_ID"
assert_eq "grace exited happily with the second reason" 'false {"body":"second","slots":[]}' "$(jqb .termination.isFailure) $(jqb .termination.reason)"

echo "== the references in an exit reason are held by the host until it releases them"
do_curl POST /vats '{"name":"heidi"}'; HEIDI="$(jqr .token)"; HEIDI_ID="$(jqr .vatID)"
do_curl -t "$HEIDI" POST "/vats/$HEIDI_ID/syscalls" '{"syscalls":[{"type":"exit","isFailure":false,"info":{"body":{"$slot":0},"slots":["o+5"]}}]}'
assert_eq "heidi exits naming her new o+5" '200 {"type":"exited","exited":true,"isFailure":false,"results":[null]}' "$STATUS $BODY"
do_curl GET "/vats/$HEIDI_ID"
HELD="$(jqr '.termination.reason.slots[0]')"
assert_eq "the reason names a kref the host holds" 'true' "$(jqb .termination.reasonHeld)"
do_curl GET "/objects/$HELD"
assert_eq "an orphan (cleanup done) reachable by the host's hold alone" \
  'null 1 1 [{"kind":"terminationReason","vatID":"'"$HEIDI_ID"'","vref":null,"via":null,"reachable":1,"recognizable":1}]' \
  "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable) $(jqb .holders)"
do_curl GET /kernel/audit
assert_eq "the audit counts the host's hold" '200 []' "$STATUS $BODY"
do_curl DELETE "/vats/$HEIDI_ID/termination/hold"
assert_eq "the host releases the reason" '200 false' "$STATUS $(jqb .termination.reasonHeld)"
do_curl GET "/objects/$HELD"
assert_eq "the orphan nobody reaches is retired" '404' "$STATUS"
do_curl GET "/vats/$HEIDI_ID"
assert_eq "the reason stays readable" "[\"$HELD\"]" "$(jqb .termination.reason.slots)"
do_curl DELETE "/vats/$HEIDI_ID/termination/hold"
assert_eq "releasing twice: 422" '422' "$STATUS"
do_curl DELETE "/vats/v1/termination/hold"
assert_eq "a running vat holds no reason: 422" '422' "$STATUS"
do_curl DELETE "/vats/v99/termination/hold"
assert_eq "an unknown vat: 404" '404' "$STATUS"

echo "== manual mode: termination is at once, cleanup waits"
do_curl PUT /kernel/run-mode '{"mode":"manual"}'
assert_eq "switch to manual" '200 {"mode":"manual"}' "$STATUS $BODY"
do_curl POST /vats '{"name":"erin"}'; ERIN_ID="$(jqr .vatID)"
do_curl POST "/vats/$ERIN_ID/terminate" '{"reason":"stop"}'
assert_eq "erin is terminated at once, her cleanup pending" '"terminated" false 1' \
  "$(jqb .status) $(jqb .termination.cleanupDone) $(jqb .clistSize)"
do_curl GET /kernel
assert_eq "the kernel is not idle" 'false' "$(jqb .idle)"
do_curl POST /kernel/step
assert_eq "one step cleans her up" '200 "cleanup-terminated-vat" "'"$ERIN_ID"'"' "$STATUS $(jqb .kind) $(jqb .vatID)"
do_curl POST /kernel/run '{}'
assert_eq "then the kernel runs to idle" '200 true' "$STATUS $(jqb .idle)"
do_curl GET "/vats/$ERIN_ID"
assert_eq "erin's cleanup is done" 'true 0' "$(jqb .termination.cleanupDone) $(jqb .clistSize)"

do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"
finish
