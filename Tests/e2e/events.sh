#!/usr/bin/env bash
# The event log (issue 10): GET /events pages what every crank wrote (deliveries as the vat sees
# them, GC actions added and done, each crank's finish with its hashes), filters by type and
# vat, refuses unknown filters, answers wait= as soon as an event exists (or empty when the wait
# ends) without holding up other requests, and survives a restart.
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
assert_eq "every delivery, as the vat saw it, in order" \
  '[[1,1,"v1",1,"startVat"],[3,2,"v2",1,"startVat"],[7,5,"v2",2,"message"],[11,8,"v1",2,"message"],[15,10,"v2",3,"dropExports"]]' \
  "$(jqb '[.events[] | [.seq, .crank, .vatID, .deliveryNum, .vd.type]]')"
do_curl GET /events?type=gc-action
assert_eq "the GC action added by alice's drop and removed when bob is told" \
  '[[9,"v2","dropExport","ko22",true],[10,"v2","dropExport","ko22",false]]' \
  "$(jqb '[.events[] | [.crank, .vatID, .action, .kref, .added]]')"
do_curl GET /kernel
LAST="$(jqb '[.crank, .crankHash, .activityHash]')"
do_curl "GET" "/events?type=crank-finish&after=16"
assert_eq "the last crank-finish carries the crank's hashes, as GET /kernel shows them" "$LAST" \
  "$(jqb '.events[-1] | [.crankNum, .crankhash, .activityhash]')"
do_curl GET "/events?vat=v2&limit=2"
assert_eq "vat= keeps bob's events; a page of 2 says where the next starts" '[[3,7],7]' "$(jqb '[[.events[].seq], .next]')"
do_curl GET "/events?vat=v2&after=7"
assert_eq "the next page" '[[13,15,16],null]' "$(jqb '[[.events[].seq], .next]')"
do_curl GET "/events?type=syscal"
assert_eq "an unknown type is a 400 naming the parameter" '400 "type"' "$STATUS $(jqb .error.details.parameter)"
do_curl GET "/events?after=-1"
assert_status "after must be a number" 400

echo "== wait=: a long poll answered by the next event, without holding up anything else"
curl -sS "$URL/events?after=17&vat=v1&wait=20" -o "$E2E_TMP/waited" &
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
assert_eq "the wait ends with alice's delivery" '[[22,"deliver","v1","bringOutYourDead"]]' "$(jqb '[.events[] | [.seq, .type, .vatID, .vd.type]]')"
assert_eq "and well before its 20 s" 'yes' "$([ $(( (t1 - t0) / 1000000 )) -lt 5000 ] && echo yes)"
t0=$(date +%s%N)
do_curl GET "/events?after=1000&wait=1"
t1=$(date +%s%N)
assert_eq "a wait with nothing to show ends empty" '200 []' "$STATUS $(jqb .events)"
assert_eq "after about its 1 s" 'yes' "$(ms=$(( (t1 - t0) / 1000000 )); [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] && echo yes)"
do_curl GET "/events?wait=61"
assert_eq "wait is at most 60" '400 "wait"' "$STATUS $(jqb .error.details.parameter)"
do_curl GET "/events?after=20&wait=5"
assert_eq "an event already there answers at once" '200 [21,22,23]' "$STATUS $(jqb '[.events[].seq]')"

ALL="$(do_curl GET /events; printf '%s' "$BODY")"
stop_server

start_server
do_curl GET /events
assert_eq "the log survives a restart" "$ALL" "$BODY"
do_curl POST /vats/v1/bring-out-your-dead '{}'
do_curl GET "/events?after=23"
assert_eq "numbering goes on after the restart" '[24,25,26]' "$(jqb '[.events[].seq]')"
finish
