#!/usr/bin/env bash
# The seed's test plan over HTTP (KERNEL-SPEC §5.8, agoric-sdk issue 4951): bob exports an
# object to alice, then abandons it. Alice's import stays usable as an identity, sends to it are
# rejected with "vat terminated", and once she drops it she is told to retire it; bob hears
# nothing more. Then the merely-recognizable case: alice drops first, bob is told, bob abandons,
# alice retires. Then abandonImports: an importer created with receiveAbandonImport is told.
source "$(dirname "$0")/lib/common.bash"

# new_kernel: a fresh server on a fresh database, with alice (v1, ko20) and bob (v2, ko21)
# introduced: bob exports o+100 (ko22) to alice, who imports it as o-50.
new_kernel() {
  stop_server
  DB="$E2E_TMP/kernel-$RANDOM.sqlite"
  start_server
  TOKEN=""
  do_curl POST /vats '{"name":"alice"}'
  assert_eq "create alice" '201 "v1" "ko20" 0' "$STATUS $(jqb .vatID) $(jqb .rootKref) $(jqb .incarnation)"
  ALICE="$(jqr .token)"
  do_curl POST /vats '{"name":"bob"}'
  assert_eq "create bob" '201 "v2" "ko21"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
  BOB="$(jqr .token)"

  do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20),\"result\":\"none\"}"
  assert_status "host sends bob meet(ko20)" 202
  do_curl -t "$BOB" GET "/vats/v2/deliveries?after=1"
  assert_eq "bob's log: o+0.meet(o-50)" \
    '[{"seq":2,"type":"message","target":"o+0","methargs":{"body":["meet",[{"$slot":0}]],"slots":["o-50"]},"result":null}]' \
    "$(jqb '[.deliveries[] | del(.crank)]')"

  do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take o+100)}]}"
  assert_eq "bob sends o-50.take(o+100)" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
  do_curl -t "$ALICE" GET "/vats/v1/deliveries?after=1"
  assert_eq "alice's log: o+0.take(o-50)" \
    '[{"seq":2,"type":"message","target":"o+0","methargs":{"body":["take",[{"$slot":0}]],"slots":["o-50"]},"result":null}]' \
    "$(jqb '[.deliveries[] | del(.crank)]')"
  do_curl GET /objects/ko22
  assert_eq "ko22 is bob's, 1,1" '"v2" 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
}

# bob_log_length: how many deliveries bob has had.
bob_log_length() { do_curl -t "$BOB" GET /vats/v2/deliveries; jqb '.deliveries | length'; }

echo "== abandon while alice still reaches it"
new_kernel
bob_before="$(bob_log_length)"

do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"abandonExports","vrefs":["o+100"]}]}'
assert_eq "bob abandons o+100" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
do_curl GET /vats/v2/clist
assert_eq "bob's c-list lost ko22 (by kref)" '0' "$(jqb '[.entries[] | select(.kref == "ko22")] | length')"
assert_eq "bob's c-list lost o+100 (by vref)" '0' "$(jqb '[.entries[] | select(.vref == "o+100")] | length')"
do_curl GET /vats/v1/clist
assert_eq "alice's c-list keeps ko22 o-50 reachable" '[{"kref":"ko22","vref":"o-50","reachable":true}]' \
  "$(jqb '[.entries[] | select(.kref == "ko22")]')"
do_curl GET /objects/ko22
assert_eq "ko22 is an orphan, 1,1" '200 null 1 1' "$STATUS $(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
assert_eq "ko22's only holder is alice's import" '[{"kind":"importer","vatID":"v1","vref":"o-50"}]' \
  "$(jqb '[.holders[] | {kind, vatID, vref}]')"
do_curl GET /kernel/gc-actions
assert_eq "no GC action pending" '{"gcActions":[],"next":null,"limit":100,"maxBytes":1048576}' "$BODY"

do_curl -t "$ALICE" POST /vats/v1/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs ping),\"result\":\"p+1\"},{\"type\":\"subscribe\",\"vpid\":\"p+1\"}]}"
assert_eq "alice sends o-50.ping() -> p+1 and subscribes" '200 {"type":"ran","results":[null,null]}' "$STATUS $BODY"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=2
assert_eq "alice is told p+1 is rejected: vat terminated" \
  '[{"type":"notify","resolutions":[{"vpid":"p+1","rejected":true,"data":{"body":{"$error":"vat terminated","name":"Error"},"slots":[]}}]}]' \
  "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "ko22 still 1,1 after the splat" '200 null 1 1' "$STATUS $(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"

do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
assert_eq "alice drops o-50" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=3
assert_eq "alice is told to retire o-50" '[{"type":"retireImports","vrefs":["o-50"]}]' "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "ko22 is gone" '404 "unknown-kref"' "$STATUS $(jqb .error.code)"
do_curl GET /vats/v1/clist
assert_eq "alice's c-list no longer has ko22" '0' "$(jqb '[.entries[] | select(.kref == "ko22")] | length')"
assert_eq "bob's log has nothing new" "$bob_before" "$(bob_log_length)"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"

echo "== the merely-recognizable case: alice drops first"
new_kernel
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
assert_eq "alice drops o-50" '200' "$STATUS"
do_curl -t "$BOB" GET /vats/v2/deliveries?after=2
assert_eq "bob is told: dropExports o+100" '[{"type":"dropExports","vrefs":["o+100"]}]' "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "ko22 is bob's, 0,1 (recognizable only)" '"v2" 0 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl GET /vats/v1/clist
assert_eq "alice keeps ko22 o-50, not reachable" '[{"kref":"ko22","vref":"o-50","reachable":false}]' \
  "$(jqb '[.entries[] | select(.kref == "ko22")]')"
bob_before="$(bob_log_length)"

do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"abandonExports","vrefs":["o+100"]}]}'
assert_eq "bob abandons the merely-recognizable o+100" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=2
assert_eq "alice is told to retire o-50" '[{"type":"retireImports","vrefs":["o-50"]}]' "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "ko22 is gone" '404' "$STATUS"
do_curl GET /vats/v1/clist
assert_eq "alice's c-list no longer has ko22" '0' "$(jqb '[.entries[] | select(.kref == "ko22")] | length')"
do_curl GET /vats/v2/clist
assert_eq "bob's c-list no longer has ko22" '0' "$(jqb '[.entries[] | select(.kref == "ko22")] | length')"
assert_eq "bob's log has nothing new" "$bob_before" "$(bob_log_length)"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"

echo "== abandonImports: an importer that opted in is told, one that did not is not (KERNEL-SPEC §13.8)"
new_kernel
do_curl POST /vats '{"name":"carol","options":{"receiveAbandonImport":true}}'
assert_eq "create carol with receiveAbandonImport" '201 "v3" "ko23"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
CAROL="$(jqr .token)"
do_curl POST /vats '{"name":"dave","options":{"receiveAbandonImport":"yes"}}'
assert_eq "a non-boolean option is a 400 naming it" '400 "options.receiveAbandonImport"' "$STATUS $(jqb .error.details.field)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko23),\"result\":\"none\"}"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-51\",\"methargs\":$(methargs take o+100)}]}"
assert_status "bob gives carol o+100 too" 200
do_curl GET /objects/ko22
assert_eq "ko22: bob's, reachable by alice and carol" '"v2" 2 2' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl -t "$CAROL" GET /vats/v3/deliveries?after=1
assert_eq "carol imports it as o-50" '["o-50"]' "$(jqb '.deliveries[0].methargs.slots')"
bob_before="$(bob_log_length)"
do_curl -t "$BOB" POST /vats/v2/syscalls '{"syscalls":[{"type":"abandonExports","vrefs":["o+100"]}]}'
assert_eq "bob abandons o+100" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
do_curl -t "$CAROL" GET /vats/v3/deliveries?after=2
assert_eq "carol is told abandonImports([o-50])" '[{"type":"abandonImports","vrefs":["o-50"]}]' "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /vats/v3/clist
assert_eq "carol's entry is gone" '["ko23"]' "$(jqb '[.entries[].kref]')"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=2
assert_eq "alice (no option) is told nothing" '[]' "$(jqb '.deliveries')"
do_curl GET /objects/ko22
assert_eq "the orphan: alice's share only" 'null 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=2
assert_eq "alice drops it and only she is told to retire it" '[{"type":"retireImports","vrefs":["o-50"]}]' "$(jqb '[.deliveries[] | del(.seq, .crank)]')"
do_curl GET /objects/ko22
assert_eq "the orphan is retired" '404' "$STATUS"
assert_eq "bob's log has nothing new" "$bob_before" "$(bob_log_length)"
do_curl -t "$CAROL" POST /vats/v3/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
assert_eq "carol naming the abandoned vref is vat-fatal" '422 "illegal-syscall" "vref o-50 not in clist"' "$STATUS $(jqb .error.code) $(jqb .error.details.problem)"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"

echo "== abandonImports after the exporter's upgrade and termination"
new_kernel
do_curl POST /vats '{"name":"carol","options":{"receiveAbandonImport":true}}'
CAROL="$(jqr .token)"; CAROL_ID="$(jqr .vatID)"; CAROL_ROOT="$(jqr .rootKref)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet "$CAROL_ROOT"),\"result\":\"none\"}"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-51\",\"methargs\":$(methargs take o+100 o+d5)}]}"
assert_status "bob gives carol his ephemeral o+100 and durable o+d5" 200
do_curl GET "/vats/$CAROL_ID/clist"
DURABLE="$(jqr '.entries[] | select(.vref == "o-51") | .kref')"
assert_eq "carol imports ko22 as o-50 and o+d5 as o-51" '["ko22","o-50"]' "$(jqb '[.entries[] | select(.vref == "o-50") | .kref, .vref]')"
carol_log() { do_curl -t "$CAROL" GET "/vats/$CAROL_ID/deliveries?after=$1"; jqb '[.deliveries[] | del(.seq, .crank)]'; }
do_curl -t "$CAROL" GET "/vats/$CAROL_ID/deliveries"; CAROL_SEEN="$(jqb '.deliveries | length')"
do_curl POST /vats/v2/upgrade '{}'
assert_eq "bob is upgraded" '200 1' "$STATUS $(jqb .incarnation)"
assert_eq "carol is told abandonImports for the ephemeral one only" '[{"type":"abandonImports","vrefs":["o-50"]}]' "$(carol_log "$CAROL_SEEN")"
do_curl GET "/vats/$CAROL_ID/clist"
assert_eq "carol keeps the durable import" "[\"$DURABLE\"]" "$(jqb '[.entries[] | select(.vref != "o+0") | .kref]')"
do_curl GET /objects/ko22
assert_eq "ko22: an orphan alice alone reaches" 'null 1 1' "$(jqb .owner) $(jqb .reachable) $(jqb .recognizable)"
do_curl -t "$ALICE" GET /vats/v1/deliveries?after=2
assert_eq "alice (no option) is told nothing" '[]' "$(jqb '.deliveries')"
CAROL_SEEN=$((CAROL_SEEN + 1))
do_curl POST /vats/v2/terminate '{"reason":"gone"}'
assert_status "bob is terminated" 200
assert_eq "carol is told abandonImports for the durable one" "[{\"type\":\"abandonImports\",\"vrefs\":[\"o-51\"]}]" "$(carol_log "$CAROL_SEEN")"
do_curl GET "/objects/$DURABLE"
assert_eq "nothing reached the durable orphan but carol: retired" '404' "$STATUS"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"

finish
