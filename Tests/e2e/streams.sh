#!/usr/bin/env bash
# Watching the kernel (issue 10, serving side): GET /events?kref= (every event that mentions
# one kref, through an index), combined with the other filters and wait=; GET /events/stream and
# GET /vats/{vatID}/deliveries/stream (Server-Sent Events: after=, Last-Event-ID, filters, live
# events, heartbeat, the stream limit, a clean end at shutdown); GET /vats/{vatID}/deliveries?wait=.
# The expected answers are computed from the whole log with jq, so new event types keep them true.
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/streams.sqlite"
start_server --stream-heartbeat 1 --max-streams 3

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

# wait_for_stream HEADERS: waits (up to 20 s) until a stream's response headers have arrived,
# i.e. the server has opened it, instead of guessing with a sleep how long that takes.
wait_for_stream() {
  local i
  for i in $(seq 200); do grep -q '^HTTP/1.1 200' "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# sse_ids FILE: the ids of the events in an SSE capture, as a JSON array.
sse_ids() { sed -n 's/^id: //p' "$1" 2>/dev/null | jq -cs .; }
# sse_data FILE: the data of its events, as a JSON array.
sse_data() { sed -n 's/^data: //p' "$1" 2>/dev/null | jq -cs .; }

echo "== GET /events/stream: the log as Server-Sent Events"
do_curl GET "/events?limit=1000"
ALL="$BODY"
LAST="$(printf '%s' "$ALL" | jq '.events[-1].seq')"
curl -sN -D "$E2E_TMP/sse.h" --max-time 2 "$URL/events/stream?after=$((LAST - 3))" -o "$E2E_TMP/sse1"
assert_eq "text/event-stream, not cached, chunked" 'text/event-stream; charset=utf-8|no-store|chunked' \
  "$(tr -d '\r' <"$E2E_TMP/sse.h" | awk -F': ' 'tolower($1)=="content-type"{a=$2} tolower($1)=="cache-control"{b=$2} tolower($1)=="transfer-encoding"{c=$2} END{print a "|" b "|" c}')"
assert_eq "after=: the events after it, id = seq" "[$((LAST - 2)),$((LAST - 1)),$LAST]" "$(sse_ids "$E2E_TMP/sse1")"
assert_eq "each data line is the event as GET /events shows it" "$(printf '%s' "$ALL" | jq -c "[.events[] | select(.seq > $((LAST - 3)))]")" "$(sse_data "$E2E_TMP/sse1")"
assert_eq "a heartbeat comment while nothing happens (--stream-heartbeat 1)" 'yes' "$(grep -q '^: heartbeat$' "$E2E_TMP/sse1" && echo yes)"
curl -sN --max-time 1 -H "Last-Event-ID: $((LAST - 1))" "$URL/events/stream?after=0" -o "$E2E_TMP/sse2"
assert_eq "Last-Event-ID resumes after it (and wins over after=)" "[$LAST]" "$(sse_ids "$E2E_TMP/sse2")"
curl -sN --max-time 1 "$URL/events/stream?kref=ko22" -o "$E2E_TMP/sse3"
assert_eq "the filters of GET /events: kref=ko22" "$(mentions ko22 '')" "$(sse_ids "$E2E_TMP/sse3")"
curl -sN --max-time 1 "$URL/events/stream?type=crank-finish&vat=v1" -o "$E2E_TMP/sse4"
assert_eq "type= and vat= together (crank-finish has no vat)" '[]' "$(sse_ids "$E2E_TMP/sse4")"
do_curl GET "/events/stream?kref=v1"
assert_eq "a bad filter is a 400 before any stream" '400 "kref"' "$STATUS $(jqb .error.details.parameter)"
do_curl -H "Last-Event-ID: x" GET "/events/stream"
assert_eq "so is a bad Last-Event-ID" '400 "Last-Event-ID"' "$STATUS $(jqb .error.details.parameter)"

curl -sN --max-time 3 -D "$E2E_TMP/live.h" "$URL/events/stream?after=$LAST" -o "$E2E_TMP/live" &
LIVE=$!
wait_for_stream "$E2E_TMP/live.h"
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs ping)}"
wait "$LIVE"
do_curl GET "/events?after=$LAST"
assert_eq "a live stream gets each event once it is committed" "$(jqb '[.events[].seq]')" "$(sse_ids "$E2E_TMP/live")"

echo "== at most --max-streams streams"
HELD=()
for i in 1 2 3; do curl -sN --max-time 3 -D "$E2E_TMP/held$i.h" "$URL/events/stream?after=1000000" -o /dev/null & HELD+=($!); done
for i in 1 2 3; do wait_for_stream "$E2E_TMP/held$i.h"; done
do_curl GET "/events/stream"
assert_eq "one more stream is a 503 overloaded" '503 "overloaded"' "$STATUS $(jqb .error.code)"
wait "${HELD[@]}"
curl -sN --max-time 1 "$URL/events/stream?after=1000000" -o /dev/null -w '%{http_code}' >"$E2E_TMP/code"
assert_eq "once they ended, a stream opens again" '200' "$(cat "$E2E_TMP/code")"

echo "== GET /vats/{vatID}/deliveries?wait=: a driver waits instead of polling"
do_curl -t "$ALICE" GET "/vats/v1/deliveries?limit=1000"
D="$(jqb '.deliveries[-1].seq')"
curl -sS -H "Authorization: Bearer $ALICE" "$URL/vats/v1/deliveries?after=$D&wait=20" -o "$E2E_TMP/dwait" &
WAITER=$!
sleep 0.3
do_curl POST /vats/v2/bring-out-your-dead '{}'
sleep 0.3
assert_eq "a delivery to another vat does not end the wait" 'waiting' "$(kill -0 "$WAITER" 2>/dev/null && echo waiting)"
t0=$(date +%s%N)
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs ping)}"
wait "$WAITER"
t1=$(date +%s%N)
BODY="$(cat "$E2E_TMP/dwait")"
assert_eq "the wait ends with alice's new delivery" "[[$((D + 1)),\"message\"]]" "$(jqb '[.deliveries[] | [.seq, .type]]')"
assert_eq "at once, not when the 20 s wait ends (under 3 s even on a loaded machine)" 'yes' "$([ $(( (t1 - t0) / 1000000 )) -lt 3000 ] && echo yes)"
t0=$(date +%s%N)
do_curl -t "$ALICE" GET "/vats/v1/deliveries?after=$((D + 1))&wait=1"
t1=$(date +%s%N)
assert_eq "a wait with nothing to show ends empty" '200 [] null' "$STATUS $(jqb .deliveries) $(jqb .next)"
assert_eq "after about its 1 s" 'yes' "$(ms=$(( (t1 - t0) / 1000000 )); [ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] && echo yes)"
do_curl -t "$ALICE" GET "/vats/v1/deliveries?after=$D&wait=5"
assert_eq "a delivery already there answers at once" "200 [$((D + 1))]" "$STATUS $(jqb '[.deliveries[].seq]')"
do_curl -t "$ALICE" GET "/vats/v1/deliveries?wait=61"
assert_eq "wait is at most 60" '400 "wait"' "$STATUS $(jqb .error.details.parameter)"
do_curl -t "$BOB" GET "/vats/v1/deliveries?wait=1"
assert_eq "bob's token does not open alice's log" '403' "$STATUS"

echo "== GET /vats/{vatID}/deliveries/stream"
curl -sN --max-time 1 -H "Authorization: Bearer $ALICE" "$URL/vats/v1/deliveries/stream" -o "$E2E_TMP/dsse"
do_curl -t "$ALICE" GET "/vats/v1/deliveries?limit=1000"
assert_eq "every delivery of alice's log, id = its seq" "$(jqb '[.deliveries[].seq]')" "$(sse_ids "$E2E_TMP/dsse")"
assert_eq "each as GET /vats/v1/deliveries shows it" "$(jqb '.deliveries')" "$(sse_data "$E2E_TMP/dsse")"
curl -sN --max-time 1 -H "Authorization: Bearer $ALICE" -H "Last-Event-ID: $D" "$URL/vats/v1/deliveries/stream" -o "$E2E_TMP/dsse2"
assert_eq "Last-Event-ID resumes after it" "[$((D + 1))]" "$(sse_ids "$E2E_TMP/dsse2")"
curl -sN --max-time 1 -H "Authorization: Bearer $ALICE" "$URL/vats/v1/deliveries/stream?after=$D" -o "$E2E_TMP/dsse3"
assert_eq "so does after=" "[$((D + 1))]" "$(sse_ids "$E2E_TMP/dsse3")"
do_curl -t "$BOB" GET "/vats/v1/deliveries/stream"
assert_eq "with the vat's own token only" '403' "$STATUS"
do_curl GET "/vats/v1/deliveries/stream"
assert_eq "without a token: 401" '401' "$STATUS"
curl -sN -D "$E2E_TMP/dlive.h" -H "Authorization: Bearer $ALICE" "$URL/vats/v1/deliveries/stream?after=$((D + 1))" -o "$E2E_TMP/dlive" &
LIVE=$!
wait_for_stream "$E2E_TMP/dlive.h"
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs ping)}"
for i in $(seq 100); do grep -q '^id: ' "$E2E_TMP/dlive" 2>/dev/null && break; sleep 0.1; done

echo "== shutdown ends an open stream cleanly"
stop_server
wait "$LIVE"
assert_eq "curl saw the stream's last chunk (exit 0, not a cut transfer)" 0 "$?"
assert_eq "and the live delivery before it" "[$((D + 2))]" "$(sse_ids "$E2E_TMP/dlive")"

echo "== --event-retention: old events are pruned at each commit"
start_server --db :memory: --event-retention 2cranks
do_curl POST /vats '{"name":"alice"}'
for i in 1 2 3; do do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs ping)}"; done
do_curl GET /kernel
CRANK="$(jqb .crank)"
do_curl GET "/events?after=0"
assert_eq "only the last 2 cranks' events are kept (after=0 starts at the oldest kept)" "[$((CRANK - 1)),$CRANK]" "$(jqb '[.events[].crank] | unique')"
FIRSTKEPT="$(jqb '.events[0].seq')"
assert_eq "numbering is not reused: the oldest kept seq is past 1" 'yes' "$([ "$FIRSTKEPT" -gt 1 ] && echo yes)"
do_curl GET "/events?after=1"
assert_eq "an after= older than the retained start answers from the oldest kept" "$FIRSTKEPT" "$(jqb '.events[0].seq')"
stop_server
out="$("$VATKERNEL_BIN" serve --port 0 --db :memory: --event-retention 10kcranks 2>&1)"
assert_eq "a retention without a known unit is refused (exit 64)" "64 yes" "$? $(printf '%s' "$out" | grep -q 'event-retention' && echo yes)"
finish
