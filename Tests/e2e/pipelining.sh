#!/usr/bin/env bash
# Promise pipelining over HTTP (KERNEL-SPEC §5.1, §6, §7; issue 12): bob is created with
# options.enablePipelining, alice without. Messages alice sends to results bob decides reach bob
# at once, addressed to his p-N; bob passes a result he received on as his own send's result (the
# reflected message) and names a new promise as both argument and result; alice, who does not
# pipeline, may not. In manual run mode, a pipelined message still in the run-queue follows the
# resolution bob makes before its delivery. The option survives a restart; when bob dies, what
# he was given rejects with "vat terminated".
source "$(dirname "$0")/lib/common.bash"

# syscalls TOKEN VAT JSON-LIST: posts one batch.
syscalls() { do_curl -t "$1" POST "/vats/$2/syscalls" "{\"syscalls\":$3}"; }

# deliveries_after TOKEN VAT N: the vat's deliveries after the first N, without seq/crank.
deliveries_after() {
  do_curl -t "$1" GET "/vats/$2/deliveries?after=$3"
  jqb '[.deliveries[] | del(.seq, .crank)]'
}

# promise KPID: "state decider refCount queue-length".
promise() {
  do_curl GET "/promises/$1"
  printf '%s' "$(jqr '"\(.state) \(.decider) \(.refCount) \(.queue | length)"')"
}

# step_kinds N: runs N cranks by hand, printing each one's "kind vatID".
step_kinds() {
  local i out=()
  for i in $(seq 1 "$1"); do
    do_curl POST /kernel/step '{}'
    out+=("$(jqr '"\(.kind) \(.vatID)"')")
  done
  local IFS=,
  printf '%s' "${out[*]}"
}

msg() {  # msg TARGET METHOD RESULT [SLOTS...]: one delivery-log message, compact.
  local target="$1" method="$2" result="$3"; shift 3
  printf '{"type":"message","target":"%s","methargs":%s,"result":%s}' "$target" "$(methargs "$method" "$@")" "$result"
}

echo "== creating a pipelining vat"
start_server
do_curl POST /vats '{"name":"bob","options":{"enablePipelining":"yes"}}'
assert_eq "enablePipelining must be a boolean" '400 "options.enablePipelining"' "$STATUS $(jqb .error.details.field)"
do_curl POST /vats '{"name":"alice"}'
assert_eq "create alice" '201 "v1" "ko20"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob","options":{"enablePipelining":true,"note":"comms-like"}}'
assert_eq "create bob, pipelining" '201 "v2" "ko21"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
BOB="$(jqr .token)"
do_curl GET /vats/v2
assert_eq "bob's options are kept as given" '{"enablePipelining":true,"note":"comms-like"}' "$(jqb .options)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20),\"result\":\"none\"}"
assert_status "host sends bob meet(ko20)" 202
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs meet ko21),\"result\":\"none\"}"
assert_status "host sends alice meet(ko21)" 202

echo "== messages to results bob decides reach him at once"
syscalls "$ALICE" v1 "[
  {\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs foo),\"result\":\"p+1\"},
  {\"type\":\"send\",\"target\":\"p+1\",\"methargs\":$(methargs bar),\"result\":\"p+2\"},
  {\"type\":\"send\",\"target\":\"p+2\",\"methargs\":$(methargs urgh),\"result\":\"p+3\"},
  {\"type\":\"subscribe\",\"vpid\":\"p+2\"}]"
assert_eq "alice sends foo(), p+1~.bar(), p+2~.urgh()" '200 {"type":"ran","results":[null,null,null,null]}' "$STATUS $BODY"
assert_eq "bob gets all three, addressed to his p-60 and p-61" \
  "[$(msg o+0 foo '"p-60"'),$(msg p-60 bar '"p-61"'),$(msg p-61 urgh '"p-62"')]" "$(deliveries_after "$BOB" v2 2)"
assert_eq "kp40: bob decides it, nothing waits" 'unresolved v2 2 0' "$(promise kp40)"
assert_eq "kp41: bob decides it, alice subscribes" 'unresolved v2 2 0' "$(promise kp41)"
do_curl GET /vats/v2/clist
assert_eq "bob's c-list names the three results" '["kp40 p-60","kp41 p-61","kp42 p-62"]' \
  "$(jqb '[.entries[] | select(.kref | startswith("kp")) | "\(.kref) \(.vref)"] | sort')"

echo "== the reflected message: bob passes a result he received on as his own send's result"
syscalls "$BOB" v2 "[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs back),\"result\":\"p-61\"}]"
assert_eq "bob sends alice back() with result p-61" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
assert_eq "alice gets back() with her own p+2 as result" "[$(msg o+0 back '"p+2"')]" "$(deliveries_after "$ALICE" v1 2)"
assert_eq "kp41: alice decides it now" 'unresolved v1 2 0' "$(promise kp41)"

echo "== a new promise as both argument and result (agoric-sdk #5189)"
syscalls "$BOB" v2 "[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs one p+5),\"result\":\"p+5\"}]"
assert_eq "bob sends alice one(p+5) with result p+5" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
assert_eq "alice gets it as p-60, argument and result" "[$(msg o+0 one '"p-60"' p-60)]" "$(deliveries_after "$ALICE" v1 3)"
assert_eq "kp43: alice decides it" 'unresolved v1 2 0' "$(promise kp43)"

echo "== routed again at delivery: bob resolves before the pipelined message reaches him"
do_curl PUT /kernel/run-mode '{"mode":"manual"}'
assert_status "manual run mode" 200
syscalls "$ALICE" v1 "[
  {\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs make),\"result\":\"p+6\"},
  {\"type\":\"send\",\"target\":\"p+6\",\"methargs\":$(methargs use),\"result\":\"p+7\"},
  {\"type\":\"send\",\"target\":\"p+6\",\"methargs\":$(methargs again),\"result\":\"p+8\"}]"
assert_status "alice sends make(), p+6~.use(), p+6~.again()" 200
assert_eq "seven cranks by hand" 'route v2,route null,route null,delivery v2,route v2,route v2,delivery v2' "$(step_kinds 7)"
do_curl GET /kernel/run-queue
assert_eq "again() waits in the run-queue, addressed to kp44" '[{"type":"send","target":"kp44","result":"kp46"}]' \
  "$(jqb '[.events[] | {type, target, result}]')"
syscalls "$BOB" v2 '[{"type":"resolve","resolutions":[{"vpid":"p-63","rejected":false,"data":{"body":{"$slot":0},"slots":["o-50"]}}]}]'
assert_eq "bob resolves his p-63 (kp44) to alice's root" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"
assert_eq "again() follows the resolution to alice" 'delivery v1' "$(step_kinds 1)"
assert_eq "alice's log" "[$(msg o+0 again '"p+8"')]" "$(deliveries_after "$ALICE" v1 4)"
do_curl PUT /kernel/run-mode '{"mode":"auto"}'
assert_status "auto run mode" 200

echo "== alice, who does not pipeline, may not reuse a promise as a result"
syscalls "$ALICE" v1 "[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs x p+9),\"result\":\"p+9\"}]"
assert_eq "alice's send is illegal" '422 "illegal-syscall"' "$STATUS $(jqb .error.code)"
assert_eq "the problem" '"vref p+9 is already allocated"' "$(jqb .error.details.problem)"

echo "== the option survives a restart"
stop_server
start_server
do_curl POST /vats '{"name":"carol"}'
assert_eq "create carol" '201 "v3" "ko22"' "$STATUS $(jqb .vatID) $(jqb .rootKref)"
CAROL="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko22\",\"methargs\":$(methargs meet ko21),\"result\":\"none\"}"
assert_status "host sends carol meet(ko21)" 202
syscalls "$CAROL" v3 "[
  {\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs make),\"result\":\"p+1\"},
  {\"type\":\"send\",\"target\":\"p+1\",\"methargs\":$(methargs use),\"result\":\"p+2\"},
  {\"type\":\"subscribe\",\"vpid\":\"p+2\"}]"
assert_status "carol sends make(), p+1~.use()" 200
do_curl -t "$BOB" GET /vats/v2/deliveries
assert_eq "bob gets both after the restart" '["make o+0","use p-65"]' "$(jqb '[.deliveries[-2:][] | "\(.methargs.body[0]) \(.target)"]')"

echo "== bob dies: what he was given rejects"
do_curl POST /vats/v2/terminate '{"reason":"bye"}'
assert_eq "terminate bob" '200 "terminated"' "$STATUS $(jqb .status)"
assert_eq "carol is told use() failed: vat terminated" \
  '[{"type":"notify","resolutions":[{"vpid":"p+2","rejected":true,"data":{"body":{"$error":"vat terminated","name":"Error"},"slots":[]}}]}]' \
  "$(deliveries_after "$CAROL" v3 2)"
do_curl GET /kernel/audit
assert_eq "the audit is clean" '200 []' "$STATUS $BODY"

finish
