#!/usr/bin/env bash
# The client subcommands of `vatkernel` (issue 11), against the real server, without curl:
# vat create/list, send, syscalls (file and stdin), show (object and promise), events (and
# --follow), --json, the server's errors (message and exit 1), and `vatkernel` with no
# subcommand still serving.
source "$(dirname "$0")/lib/common.bash"

start_server --db :memory:
export VATKERNEL_URL="$URL"
unset VATKERNEL_TOKEN
vk() { "$VATKERNEL_BIN" "$@"; }

out="$(vk vat create alice)"
assert_eq "vat create: ID, name, root" "v1 alice root ko20" "$(head -1 <<<"$out")"
ALICE_TOKEN="$(sed -n 's/^token \([0-9a-f]\{64\}\)$/\1/p' <<<"$out")"
assert_eq "vat create: then the token" 64 "${#ALICE_TOKEN}"
out="$(vk vat create bob --json)"
assert_eq "vat create --json" '"v2" "ko21" 64' "$(jq -c '.vatID, .rootKref, (.token | length)' <<<"$out" | tr '\n' ' ' | sed 's/ $//')"
BOB_TOKEN="$(jq -r .token <<<"$out")"
assert_eq "vat list" "$(printf 'v1\talice\trunning\tincarnation 0\tc-list 1\tdeliveries 1 (acknowledged 0)\nv2\tbob\trunning\tincarnation 0\tc-list 1\tdeliveries 1 (acknowledged 0)')" "$(vk vat list)"
assert_eq "vat (list is the default) --json" '["v1","v2"]' "$(vk vat --json | jq -c 'map(.vatID)')"

assert_eq "send: a kref argument becomes a slot" "sent (no result promise)" "$(vk send ko21 meet ko20)"
assert_eq "send --result keep" "sent; result kp40" "$(vk send ko21 hello '"hi"' 3 --result keep)"
assert_eq "send --methargs --json" '{"result":"kp41"}' \
  "$(vk send ko20 --methargs '{"body":["ping",[]],"slots":[]}' --result keep --json)"

assert_eq "show an object with its holders (the host pins a new vat's root)" "ko20 owner v1, reachable 2, recognizable 2, pins 1
holders:
  exporter v1 o+0 reachable 0, recognizable 0
  importer v2 o-50 reachable 1, recognizable 1
  pin reachable 1, recognizable 1" "$(vk show ko20)"
assert_eq "show a promise with its holders" "kp40 unresolved, decider v2, subscribers none, refCount 2, held by the host true, 0 queued
holders:
  hostResult reachable 1, recognizable 1
  importer v2 p-60 reachable 1, recognizable 1" "$(vk show kp40)"
assert_eq "show --json" '"kp40" "unresolved" 2' "$(vk show kp40 --json | jq -c '.kpid, .state, (.holders | length)' | tr '\n' ' ' | sed 's/ $//')"

printf '{"syscalls":[{"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":"done","slots":[]}}]}]}' >"$E2E_TMP/batch.json"
assert_eq "syscalls from a file, with the vat's token" "ran; results [null]" "$(vk syscalls v2 "$E2E_TMP/batch.json" --token "$BOB_TOKEN")"
assert_eq "the promise is now fulfilled with its data" 'kp40 fulfilled, decider none, subscribers none, refCount 1, held by the host true, 0 queued
data {"body":"done","slots":[]}' "$(vk show kp40 | head -2)"
assert_eq "syscalls from standard input (a bare array), VATKERNEL_TOKEN" "ran; results [null, \"v\"]" \
  "$(printf '[{"type":"vatstoreSet","key":"k","value":"v"},{"type":"vatstoreGet","key":"k"}]' | VATKERNEL_TOKEN="$ALICE_TOKEN" vk syscalls v1 -)"

err="$(vk show ko99 2>&1 >/dev/null)"; rc=$?
assert_eq "an unknown kref: the server's status, code, message and details, exit 1" \
  '1 vatkernel: 404 unknown-kref: no object ko99 {"kref":"ko99"}' "$rc $err"
err="$(vk syscalls v1 "$E2E_TMP/batch.json" 2>&1 >/dev/null)"; rc=$?
assert_eq "syscalls without a token: 401 and the server's message" \
  "1 vatkernel: 401 unauthorized: this request needs an Authorization: Bearer token" "$rc $err"
err="$(printf '{"syscalls":[{"type":"nope"}]}' | vk syscalls v1 --token "$ALICE_TOKEN" 2>&1 >/dev/null)"; rc=$?
assert_eq "a batch the client cannot read is refused before sending, exit 1" "1" "$rc"
vk vat list --url 'ftp://x' >/dev/null 2>&1; rc=$?
assert_eq "a --url that is not http(s) is a usage error (64)" 64 "$rc"

lines="$(vk events)"
assert_eq "events: one line per event, the first the crank that created alice" "#1 crank 1 crank-start v1" "$(head -1 <<<"$lines" | cut -d' ' -f1-5)"
assert_eq "events --type deliver: alice's startVat first" "#1 crank 1 deliver v1 #1 startVat" "$(vk events --type deliver | head -1 | sed 's/^#[0-9]*/#1/')"
assert_eq "events --json: the same events, one object a line, in order" "$(sed 's/^#\([0-9]*\) .*/\1/' <<<"$lines" | tr '\n' ' ')" \
  "$(vk events --json | jq -r .seq | tr '\n' ' ')"
last="$(vk events --json | jq -s 'map(.seq) | max')"
assert_eq "events --type deliver --vat v2: bob's startVat first" "crank 2 deliver v2 #1 startVat" "$(vk events --type deliver --vat v2 | head -1 | sed 's/^#[0-9]* //')"

vk events --follow --after "$last" --type deliver >"$E2E_TMP/follow.txt" 2>&1 &
FOLLOW_PID=$!
sleep 0.5
vk send ko20 wake >/dev/null
for _ in $(seq 1 100); do grep -q wake "$E2E_TMP/follow.txt" && break; sleep 0.05; done
assert_eq "events --follow prints a new event as it is committed" "deliver v1 #3 message o+0 wake()" \
  "$(sed -n 's/^#[0-9]* crank [0-9]* //p' "$E2E_TMP/follow.txt" | tail -1)"
kill "$FOLLOW_PID" 2>/dev/null; wait "$FOLLOW_PID" 2>/dev/null
stop_server

err="$(vk vat list 2>&1 >/dev/null)"; rc=$?
assert_eq "no server: exit 1, saying which request could not be made" "1 unreachable" "$rc $(grep -o unreachable <<<"$err" | head -1)"

# `vatkernel` with no subcommand serves, with serve's flags.
"$VATKERNEL_BIN" --host 127.0.0.1 --port 0 --db :memory: >"$E2E_TMP/bare.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do grep -q '^vatkernel: listening on' "$E2E_TMP/bare.log" && break; sleep 0.05; done
URL="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$E2E_TMP/bare.log" | head -1)"
assert_eq "vatkernel with no subcommand serves" "no vats" "$(VATKERNEL_URL="$URL" vk vat list)"
stop_server
finish
