#!/usr/bin/env bash
# Watching the kernel (issue 10, serving side): GET /events?kref= (every event that mentions
# one kref, through an index), combined with the other filters and wait=.
# The expected answers are computed from the whole log with jq, so new event types keep them true.
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/streams.sqlite"
start_server

do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take o+1)}]}"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50"]}]}'
assert_status "alice drops bob's export" 200

echo "== kref=: the life story of one object"
do_curl GET "/events?limit=1000"
ALL="$BODY"
mentions() { printf '%s' "$ALL" | jq -c --arg k "$1" "[.events[] | select([.. | strings] | index(\$k)) $2 | .seq]"; }
EXPECTED="$(mentions ko22 '')"
do_curl GET "/events?kref=ko22"
assert_eq "kref=ko22 is every event with the string ko22 in it" "$EXPECTED" "$(jqb '[.events[].seq]')"
assert_eq "bob's export has a story (its gc-action added and done at least)" "yes" "$(jqb '[.events[] | select(.type == "gc-action")] | length >= 2 | if . then "yes" else "no" end' | tr -d '"')"
do_curl GET "/events?kref=ko22&type=gc-action"
assert_eq "with type=" "$(mentions ko22 '| select(.type == "gc-action")')" "$(jqb '[.events[].seq]')"
assert_eq "with vat=" "$(mentions ko22 '| select(.vatID == "v2")')" "$(do_curl GET "/events?kref=ko22&vat=v2"; jqb '[.events[].seq]')"
FIRST="$(printf '%s' "$EXPECTED" | jq '.[0]')"
do_curl GET "/events?kref=ko22&limit=1"
assert_eq "a page of 1 says where the next starts" "[[$FIRST],$FIRST]" "$(jqb '[[.events[].seq], .next]')"
do_curl GET "/events?kref=ko22&after=$FIRST"
assert_eq "the next page" "$(printf '%s' "$EXPECTED" | jq -c '.[1:]')" "$(jqb '[.events[].seq]')"
do_curl GET "/events?kref=ko999"
assert_eq "a kref never mentioned has no events" '200 []' "$STATUS $(jqb '[.events[].seq]')"
do_curl GET "/events?kref=v1"
assert_eq "kref= must be a kref" '400 "kref"' "$STATUS $(jqb .error.details.parameter)"

echo "== kref= with wait=: answered by the next event that mentions it"
LAST="$(printf '%s' "$ALL" | jq '.events[-1].seq')"
curl -sS "$URL/events?after=$LAST&kref=ko23&wait=20" -o "$E2E_TMP/waited" &
WAITER=$!
sleep 0.3
do_curl POST /vats/v2/bring-out-your-dead '{}'
sleep 0.3
assert_eq "an event that does not mention ko23 does not end the wait" 'waiting' "$(kill -0 "$WAITER" 2>/dev/null && echo waiting)"
do_curl -t "$BOB" POST /vats/v2/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take o+2)}]}"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-51"]}]}'
assert_status "bob sends alice a second export (ko23), she drops it" 200
wait "$WAITER"
BODY="$(cat "$E2E_TMP/waited")"
assert_eq "the wait ends with events mentioning ko23, all of them" 'true' "$(jqb '(.events | length) > 0 and all(.events[]; [.. | strings] | index("ko23"))')"
finish
