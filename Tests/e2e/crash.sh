#!/usr/bin/env bash
# Crash: an acknowledged change is committed (KERNEL-SPEC §13.3, issue 4). Several clients load
# the real binary (a SQLite file at --durability full) with host sends and syscall batches; the
# server is killed with SIGKILL at a random moment, many times. After each restart: the server
# starts (its start-up audit passed), every request that got a 2xx answer is there, no crank is
# half-applied (a batch's vatstore key and its send or its resolution are both there or both
# absent; no message is delivered twice), GET /kernel/audit is [], and the load goes on.
#
#   CRASH_CYCLES   kill/restart cycles (default 10)
#   CRASH_CLIENTS  concurrent clients, one vat each (default 6)
#   CRASH_SEED     seed of the kill moments (default: random, printed: rerun with it)
#
# Each client is a bash loop of curl requests; it appends "try KIND ID PROMISE" before a request
# and "ok KIND ID PROMISE" after a 2xx answer to its own log. KIND is
#   host     POST /messages: sink.hs(ID), result none
#   send     syscalls [send o-50.vs(ID, p+N), vatstoreSet s-ID]     (o-50 is the sink's root)
#   resolve  syscalls [resolve p+N fulfilled with ID, vatstoreSet r-ID] (p+N of an acked send)
#   set      syscalls [vatstoreSet k-ID]
source "$(dirname "$0")/lib/common.bash"

CYCLES="${CRASH_CYCLES:-10}"
CLIENTS="${CRASH_CLIENTS:-6}"
SEED="${CRASH_SEED:-$(( $(date +%s) % 100000 ))}"
RANDOM="$SEED"
echo "crash: $CYCLES cycles, $CLIENTS clients, seed $SEED (CRASH_SEED=$SEED to repeat the kill moments)"

DB="$E2E_TMP/crash.sqlite"
STOP="$E2E_TMP/stop"
CLIENT_PIDS=()

stop_clients() {
  local pid i
  touch "$STOP"
  for i in $(seq 1 100); do
    local alive=0
    for pid in "${CLIENT_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${CLIENT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  CLIENT_PIDS=()
  rm -f "$STOP"
}

# shellcheck disable=SC2317  # run by the EXIT trap
crash_cleanup() {
  [ "${#CLIENT_PIDS[@]}" -gt 0 ] && stop_clients
  cleanup
}
trap crash_cleanup EXIT
trap 'exit 130' INT TERM

# boot: starts the server on $DB (auto mode), counting a failure to start as a failed check.
boot() {
  ensure_bin
  SERVER_LOG="$E2E_TMP/server.$1.log"
  "$VATKERNEL_BIN" serve --host 127.0.0.1 --port 0 --db "$DB" --durability full >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  URL=""
  local i
  for i in $(seq 1 300); do
    URL="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$SERVER_LOG" | head -1)"
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$URL" ]; then
    wait "$SERVER_PID" 2>/dev/null; local rc=$?
    SERVER_PID=""
    assert_eq "$1: the server starts (exit status $rc)" "listening" "$(cat "$SERVER_LOG")"
    finish
  fi
  assert_eq "$1: the server starts: its start-up audit passed" "listening" "listening"
}

# One client: a loop of requests until $STOP exists. Runs in the background.
client() {
  local c="$1" cycle="$2" token="$3" vat="$4" sink="$5"
  local log="$E2E_TMP/client$c.log" j=0 id kind p body path auth code cpid pending=""
  trap '[ -n "${cpid:-}" ] && kill "$cpid" 2>/dev/null; exit 0' TERM
  while [ ! -e "$STOP" ]; do
    j=$((j + 1))
    id="c$c-$cycle-$j"
    p="-"
    auth=(-H "Authorization: Bearer $token")
    path="/vats/$vat/syscalls"
    case $((j % 3)) in
      1)
        kind=host; path=/messages; auth=()
        body="{\"target\":\"$sink\",\"methargs\":{\"body\":[\"hs\",[\"$id\"]],\"slots\":[]},\"result\":\"none\"}" ;;
      2)
        kind=send; p="p+$((cycle * 100000 + j))"
        body="{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":{\"body\":[\"vs\",[\"$id\",{\"\$slot\":0}]],\"slots\":[\"$p\"]}},{\"type\":\"vatstoreSet\",\"key\":\"s-$id\",\"value\":\"$j\"}]}" ;;
      0)
        if [ -n "$pending" ]; then
          kind=resolve; p="$pending"; pending=""
          body="{\"syscalls\":[{\"type\":\"resolve\",\"resolutions\":[{\"vpid\":\"$p\",\"rejected\":false,\"data\":{\"body\":\"$id\",\"slots\":[]}}]},{\"type\":\"vatstoreSet\",\"key\":\"r-$id\",\"value\":\"$j\"}]}"
        else
          kind="set"
          body="{\"syscalls\":[{\"type\":\"vatstoreSet\",\"key\":\"k-$id\",\"value\":\"$j\"}]}"
        fi ;;
    esac
    echo "try $kind $id $p" >>"$log"
    curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X POST "${auth[@]}" --data-binary "$body" "$URL$path" \
      >"$E2E_TMP/code$c" 2>/dev/null &
    cpid=$!
    if wait "$cpid"; then code="$(cat "$E2E_TMP/code$c")"; else code="failed"; fi
    cpid=""
    case "$code" in
      2??)
        echo "ok $kind $id $p" >>"$log"
        [ "$kind" = send ] && pending="$p" ;;
      000|failed) sleep 0.02 ;;   # the server is down: wait for the stop
      *) echo "unexpected $kind $id $p $code" >>"$log" ;;
    esac
  done
}

# all_pages PATH KEY: every item of a paginated list, as one JSON array.
all_pages() {
  local path="$1" key="$2" after="" sep="?" out="$E2E_TMP/pages.json"
  case "$path" in *\?*) sep="&" ;; esac
  echo "[]" >"$out"
  while :; do
    do_curl GET "$path${sep}limit=1000${after:+&after=$after}"
    [ "$STATUS" = 200 ] || { echo "all_pages $path: $STATUS $BODY" >&2; break; }
    printf '%s' "$BODY" | jq -c ".$key" >"$E2E_TMP/page.json"
    jq -c -s 'add' "$out" "$E2E_TMP/page.json" >"$out.new" && mv "$out.new" "$out"
    after="$(jqr '.next // empty')"
    [ -n "$after" ] || break
  done
  cat "$out"
}

# check CYCLE: everything acknowledged is there, nothing is half-applied, the audit is clean.
check() {
  local cycle="$1" c i
  # Run whatever was queued when the server died.
  for i in $(seq 1 20); do
    do_curl POST /kernel/run '{}'
    [ "$(jqb .idle)" = true ] && break
  done
  assert_eq "$cycle: the queued work runs to idle" '200 true' "$STATUS $(jqb .idle)"
  do_curl GET /kernel/audit
  assert_eq "$cycle: GET /kernel/audit is []" '200 []' "$STATUS $BODY"
  do_curl GET /kernel
  assert_eq "$cycle: the kernel is not halted" 'null' "$(jqb .halted)"

  # Every log line, as JSON.
  cat "$E2E_TMP"/client*.log 2>/dev/null | jq -R -c 'split(" ") | {st: .[0], kind: .[1], id: .[2], p: .[3], code: .[4]}' \
    | jq -c -s '.' >"$E2E_TMP/log.json"
  assert_eq "$cycle: no request got an answer other than 2xx or none" '[]' \
    "$(jq -c '[.[] | select(.st == "unexpected")] | .[:5]' "$E2E_TMP/log.json")"

  # Which vatstore keys exist: one batch of vatstoreGet per client vat (in chunks).
  echo "[]" >"$E2E_TMP/present.json"
  for c in $(seq 1 "$CLIENTS"); do
    [ -f "$E2E_TMP/client$c.log" ] || continue
    awk '$1 == "try" && $2 != "host" { print ($2 == "send" ? "s" : $2 == "resolve" ? "r" : "k") "-" $3 }' \
      "$E2E_TMP/client$c.log" >"$E2E_TMP/keys$c"
    split -l 1000 -d "$E2E_TMP/keys$c" "$E2E_TMP/chunk$c."
    for chunk in "$E2E_TMP/chunk$c".*; do
      [ -s "$chunk" ] || continue
      local batch
      batch="$(jq -R -s -c 'split("\n") | map(select(length > 0)) | {syscalls: map({type: "vatstoreGet", key: .})}' "$chunk")"
      do_curl -t "${TOKENS[$c]}" POST "/vats/${VATS[$c]}/syscalls" "$batch"
      if [ "$STATUS" != 200 ]; then
        assert_eq "$cycle: client $c's vatstore can be read" 200 "$STATUS $BODY"
        continue
      fi
      printf '%s' "$BODY" | jq -c --slurpfile keys <(jq -R -s -c 'split("\n") | map(select(length > 0))' "$chunk") \
        '[$keys[0] as $k | .results | to_entries[] | select(.value != null) | $k[.key]]' >"$E2E_TMP/got.json"
      jq -c -s 'add' "$E2E_TMP/present.json" "$E2E_TMP/got.json" >"$E2E_TMP/present.new" \
        && mv "$E2E_TMP/present.new" "$E2E_TMP/present.json"
    done
    rm -f "$E2E_TMP/chunk$c".*
  done

  # The sink's messages, its c-list and every promise's state.
  TOKEN="$SINK_TOKEN" all_pages "/vats/$SINK/deliveries" deliveries \
    | jq -c '[.[] | select(.type == "message" and (.methargs.body[0] == "hs" or .methargs.body[0] == "vs"))
              | {m: .methargs.body[0], id: .methargs.body[1][0], p: .methargs.slots[0]}]' >"$E2E_TMP/deliv.json"
  all_pages "/vats/$SINK/clist" entries >"$E2E_TMP/clist.json"
  all_pages /promises promises >"$E2E_TMP/promises.json"

  jq -c -n --slurpfile log "$E2E_TMP/log.json" --slurpfile present "$E2E_TMP/present.json" \
    --slurpfile deliv "$E2E_TMP/deliv.json" --slurpfile clist "$E2E_TMP/clist.json" \
    --slurpfile promises "$E2E_TMP/promises.json" '
    ($log[0]) as $log
    | ($present[0] | map({(.): true}) | add // {}) as $has
    | ($deliv[0] | group_by(.id) | map({(.[0].id): {n: length, p: .[0].p}}) | add // {}) as $got
    | ($clist[0] | map({(.vref): .kref}) | add // {}) as $kref
    | ($promises[0] | map({(.kpid): .state}) | add // {}) as $state
    | def client: .id | split("-")[0];
      ($log | map(select(.st == "try" and .kind == "send")) | map({(client + " " + .p): .id}) | add // {}) as $sendOf
    | def key: (if .kind == "send" then "s-" elif .kind == "resolve" then "r-" else "k-" end) + .id;
      def pstate: ($got[$sendOf[client + " " + .p] // ""].p // null) as $v | if $v == null then "no sink promise" else ($state[$kref[$v] // ""] // "gone") end;
    {
      ackedKeysMissing: [$log[] | select(.st == "ok" and .kind != "host") | key | select($has[.] | not)],
      ackedHostSendsNotDelivered: [$log[] | select(.st == "ok" and .kind == "host") | .id | select($got[.] == null)],
      deliveredTwice: [$got | to_entries[] | select(.value.n > 1) | .key],
      sendHalfApplied: [$log[] | select(.st == "try" and .kind == "send")
                        | select((("s-" + .id) as $k | $has[$k] // false) != ($got[.id] != null)) | .id],
      resolveHalfApplied: [$log[] | select(.st == "try" and .kind == "resolve")
                           | {id, p, state: pstate, set: (("r-" + .id) as $k | $has[$k] // false)}
                           | select((.state == "fulfilled") != .set)],
      counts: {tried: ($log | map(select(.st == "try")) | length), acked: ($log | map(select(.st == "ok")) | length),
               delivered: ($got | length)}
    }' >"$E2E_TMP/verdict.json"
  local v
  for v in ackedKeysMissing ackedHostSendsNotDelivered deliveredTwice sendHalfApplied resolveHalfApplied; do
    assert_eq "$cycle: $v is empty" '[]' "$(jq -c ".$v | .[:10]" "$E2E_TMP/verdict.json")"
  done
  echo "     $cycle: $(jq -c .counts "$E2E_TMP/verdict.json")"

  # The resolutions acknowledged in this cycle carry their data: their promises (found through
  # the sink's delivery of the send and its c-list), fetched by one curl.
  jq -r -n --arg cy "$CYCLE_NUM" --slurpfile log "$E2E_TMP/log.json" --slurpfile deliv "$E2E_TMP/deliv.json" \
    --slurpfile clist "$E2E_TMP/clist.json" '
    def client: .id | split("-")[0];
    ($log[0] | map(select(.st == "try" and .kind == "send")) | map({(client + " " + .p): .id}) | add // {}) as $sendOf
    | ($deliv[0] | map({(.id): .p}) | add // {}) as $vpid
    | ($clist[0] | map({(.vref): .kref}) | add // {}) as $kref
    | $log[0][] | select(.st == "ok" and .kind == "resolve" and (.id | split("-")[1]) == $cy)
    | "\(.id) \($kref[$vpid[$sendOf[client + " " + .p] // ""] // ""] // "none")"' >"$E2E_TMP/resolved"
  local n bad="[]"
  n="$(wc -l <"$E2E_TMP/resolved")"
  if [ "$n" -gt 0 ]; then
    awk -v u="$URL" '{ print "url = \"" u "/promises/" $2 "\"" }' "$E2E_TMP/resolved" \
      | curl -sS --max-time 30 -w '\n' -K - >"$E2E_TMP/resolved.json"
    bad="$(jq -c -s --rawfile want "$E2E_TMP/resolved" '
      ($want | split("\n") | map(select(length > 0) | split(" "))) as $w
      | [range(0; $w | length) as $i | select(.[$i].state != "fulfilled" or .[$i].data.body != $w[$i][0])
         | {id: $w[$i][0], kpid: $w[$i][1], got: .[$i]}]' "$E2E_TMP/resolved.json")"
  fi
  assert_eq "$cycle: the $n acknowledged resolutions are fulfilled with their data" 0 "$(jq length <<<"$bad")"
  [ "$bad" = "[]" ] || echo "     $(jq -c '.[:3]' <<<"$bad")"
}

# Set-up: a sink vat and one vat per client, each holding the sink's root as o-50.
CYCLE_NUM=0
boot "start"
declare -A TOKENS VATS
do_curl POST /vats '{"name":"sink"}'
assert_status "create the sink" 201
SINK="$(jqr .vatID)"; SINK_ROOT="$(jqr .rootKref)"; SINK_TOKEN="$(jqr .token)"
for c in $(seq 1 "$CLIENTS"); do
  do_curl POST /vats "{\"name\":\"client$c\"}"
  VATS[$c]="$(jqr .vatID)"; TOKENS[$c]="$(jqr .token)"
  do_curl POST /messages "{\"target\":\"$(jqr .rootKref)\",\"methargs\":$(methargs meet "$SINK_ROOT")}"
done
assert_eq "the clients' vats exist and met the sink" "$CLIENTS" "$(for c in $(seq 1 "$CLIENTS"); do [ -n "${VATS[$c]}" ] && echo; done | wc -l)"

for CYCLE_NUM in $(seq 1 "$CYCLES"); do
  rm -f "$STOP"
  for c in $(seq 1 "$CLIENTS"); do
    client "$c" "$CYCLE_NUM" "${TOKENS[$c]}" "${VATS[$c]}" "$SINK_ROOT" &
    CLIENT_PIDS+=($!)
  done
  delay=$((RANDOM % 1301 + 200))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
  stop_clients
  echo "== cycle $CYCLE_NUM: SIGKILL after ${delay} ms of load; restart"
  boot "cycle $CYCLE_NUM"
  check "cycle $CYCLE_NUM"
done
finish
