#!/usr/bin/env bash
# `vatkernel top` in a real terminal (issue 11): tmux runs it in a detached session on its own
# socket; while a load of host messages runs, capture-pane shows cranks per second above zero
# and the busiest vat; after it, the crank, object and promise counts have moved by what the
# load did; Ctrl-C (send-keys) ends it.
source "$(dirname "$0")/lib/common.bash"
command -v tmux >/dev/null || { echo "e2e: tmux is required (apt-get install -y tmux)"; exit 2; }

start_server --db :memory:
export VATKERNEL_URL="$URL"
vk() { "$VATKERNEL_BIN" "$@"; }
vk vat create alice >/dev/null
BOB_TOKEN="$(vk vat create bob --json | jq -r .token)"

# tmux's own server, on a socket in the test's folder (removed with it).
tm() { tmux -S "$E2E_TMP/tmux.sock" "$@"; }
trap 'tm kill-server 2>/dev/null; cleanup' EXIT
tm new-session -d -s top -x 100 -y 30 "VATKERNEL_URL='$URL' '$VATKERNEL_BIN' top --interval 0.5"

# field LABEL N: the Nth word after LABEL on its line of the pane.
screen() { tm capture-pane -p -t top; }
field() { screen | awk -v l="$1" -v n="$2" '$1 == l { print $(n + 1); exit }'; }
wait_for() { for _ in $(seq 1 100); do screen | grep -q "$1" && return 0; sleep 0.1; done; return 1; }
# settle: waits (at most 5 s) for a frame with 0.0 cranks/s.
settle() { for _ in $(seq 1 50); do [ "$(field cranks/s 1)" = 0.0 ] && return 0; sleep 0.1; done; return 1; }

wait_for '^cranks/s' || screen
assert_eq "top draws its frame" "vatkernel top" "$(screen | head -1 | cut -c1-13)"
sleep 1.2   # two refreshes with no load
settle
assert_eq "idle: 0.0 cranks/s" "0.0" "$(field cranks/s 1)"
cranks0="$(screen | sed -n 's/^cranks\/s .* cranks \([0-9]*\).*/\1/p')"
assert_eq "idle: two roots, no promise, no orphan" "2 promises 0 orphans 0" "$(field objects 1) $(field objects 2) $(field objects 3) $(field objects 4) $(field objects 5)"

# The load: 4 s of messages to bob's root, each keeping its result promise. On a busy machine one
# refresh may fall between two messages, so the frames are read until one shows the load.
( end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do vk send ko21 ping --result keep >/dev/null || exit 1; done ) &
LOAD=$!
rate=0; busiest=""
for _ in $(seq 1 30); do
  sleep 0.1
  frame="$(screen)"
  rate="$(awk '$1 == "cranks/s" { print $2; exit }' <<<"$frame")"
  busiest="$(awk '/^busiest vats/ { getline; print $1, $2; exit }' <<<"$frame")"
  [ "$busiest" = "v2 bob" ] && awk -v r="$rate" 'BEGIN { exit !(r > 0) }' && break
done
assert_eq "under load: cranks/s above zero (was $rate)" 1 "$(awk -v r="$rate" 'BEGIN { print (r > 0) ? 1 : 0 }')"
assert_eq "under load, in the same frame: bob is the busiest vat" "v2 bob" "$busiest"
wait "$LOAD"
assert_eq "the load ran" 0 $?
vk vat create carol >/dev/null
# bob exports o+100 to alice and abandons it: an orphan.
vk send ko21 meet ko20 >/dev/null
printf '[{"type":"send","target":"o-50","methargs":{"body":["take",[{"$slot":0}]],"slots":["o+100"]}},{"type":"abandonExports","vrefs":["o+100"]}]' \
  | vk syscalls v2 --token "$BOB_TOKEN" >/dev/null
sent="$(vk vat list --json | jq '.[] | select(.vatID == "v2") | .deliveryCount - 2')"   # but startVat and meet
# until a refresh after all that, and one with nothing new (at most 5 s on a busy machine)
for _ in $(seq 1 50); do [ "$(field objects 5)" = 1 ] && [ "$(field cranks/s 1)" = 0.0 ] && break; sleep 0.1; done
cranks1="$(screen | sed -n 's/^cranks\/s .* cranks \([0-9]*\).*/\1/p')"
assert_eq "after the load: the crank count moved" 1 "$([ "$cranks1" -gt "$cranks0" ] && echo 1 || echo 0)"
assert_eq "after the load: three roots and the orphan, one promise per message" "4 $sent 1" "$(field objects 1) $(field objects 3) $(field objects 5)"
assert_eq "after the load: three running vats" "3 running," "$(field vats 1) $(field vats 2)"
assert_eq "idle again: 0.0 cranks/s" "0.0" "$(field cranks/s 1)"

tm send-keys -t top C-c
for _ in $(seq 1 50); do tm has-session -t top 2>/dev/null || break; sleep 0.1; done
assert_eq "Ctrl-C ends top" 1 "$(tm has-session -t top 2>/dev/null && echo 0 || echo 1)"
finish
