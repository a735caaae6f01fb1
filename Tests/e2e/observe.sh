#!/usr/bin/env bash
# Watching the kernel (issue 10): identity and readiness (--version, /version, /readyz), the
# Date and X-Request-Id of every answer, the JSON access log, and the log line of a vat
# terminated by an illegal syscall.
source "$(dirname "$0")/lib/common.bash"

ensure_bin
assert_eq "vatkernel --version prints the version" "0.1.0" "$("$VATKERNEL_BIN" --version)"

start_server --access-log
do_curl GET /version
assert_status "GET /version" 200
assert_eq "version, schema version, start time, instance id" \
  '["0.1.0",true,true,true]' \
  "$(jqb '[.version, (.schemaVersion | type == "number"), (.startedAt | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")), (.instanceID | test("^[0-9a-f]{32}$"))]')"
FIRST_INSTANCE="$(jqr .instanceID)"
do_curl GET /readyz
assert_eq "GET /readyz once listening: 200 ready" '200 {"status":"ready"}' "$STATUS $BODY"

header() { printf '%s' "$HEADERS" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -1; }
do_curl -H 'X-Request-Id: trace-e2e-1' GET /kernel
assert_eq "X-Request-Id is echoed" 'trace-e2e-1' "$(header X-Request-Id)"
assert_eq "Date is an IMF-fixdate" 'yes' "$(header Date | grep -Eq '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' && echo yes)"
date_s="$(date -u -d "$(header Date)" +%s)"; now_s="$(date -u +%s)"
assert_eq "Date is now (within 5 s)" 'yes' "$([ $((now_s - date_s)) -le 5 ] && [ $((date_s - now_s)) -le 5 ] && echo yes)"
do_curl GET /nowhere
assert_eq "a 404 carries a new 32-hex X-Request-Id" '404 yes' "$STATUS $(header X-Request-Id | grep -Eq '^[0-9a-f]{32}$' && echo yes)"
# The server's own refusal (a malformed request, answered by the HTTP layer) carries Date too.
raw="$(printf 'GET /kernel HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n' | curl -sS --max-time 3 telnet://"${URL#http://}" 2>/dev/null | tr -d '\r')"
assert_eq "a 400 from the HTTP layer carries Date" 'yes' "$(printf '%s' "$raw" | grep -Eq '^Date: .* GMT$' && echo yes)"
assert_eq "and a new X-Request-Id" 'yes' "$(printf '%s' "$raw" | grep -Eq '^X-Request-Id: [0-9a-f]{32}$' && echo yes)"

do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"
do_curl GET /kernel
CRANK="$(jqb .crank)"
assert_eq "GET /kernel says in X-Kernel-Crank which crank it shows" "$CRANK" "$(header X-Kernel-Crank)"
do_curl GET /vats
assert_eq "so does a read through the kernel thread" "200 $CRANK" "$STATUS $(header X-Kernel-Crank)"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-99"]}]}'
assert_status "an illegal syscall" 422
sleep 0.2
assert_eq "the log says the vat was terminated by an illegal syscall" 1 \
  "$(grep -c '^vatkernel: vat v1 terminated by an illegal syscall: syscall 0 (dropImports)' "$SERVER_LOG")"
access="$(grep '"requestId":"trace-e2e-1"' "$SERVER_LOG")"
assert_eq "the access log has one JSON line for the traced request" \
  '{"method":"GET","target":"/kernel","status":200}' \
  "$(printf '%s' "$access" | jq -c '{method, target, status}')"
assert_eq "the HTTP layer's 400 has its line too, method and target null" \
  '[{"method":null,"target":null,"status":400}]' \
  "$(grep '^{' "$SERVER_LOG" | jq -s -c '[.[] | select(.status == 400 and .method == null) | {method, target, status}]')"
assert_eq "every access-log line is JSON with the same fields" \
  'true' "$(grep '^{' "$SERVER_LOG" | jq -s 'length >= 6 and all(keys == ["bytes","durationMs","method","requestId","status","target","time"])')"

# GET /metrics: Prometheus text that promtool accepts, with the counts of what just happened.
command -v promtool >/dev/null || { echo "e2e: promtool is required (apt-get install prometheus; scripts/install-deps)"; exit 2; }
do_curl GET /metrics
assert_eq "GET /metrics: 200 text/plain 0.0.4" '200 text/plain; version=0.0.4; charset=utf-8' "$STATUS $(header Content-Type)"
printf '%s\n' "$BODY" >"$E2E_TMP/metrics.txt"
assert_eq "promtool check metrics accepts it" '' "$(promtool check metrics <"$E2E_TMP/metrics.txt" 2>&1)"
sample() { awk -v n="$1" '$1 == n {print $2}' "$E2E_TMP/metrics.txt"; }
assert_eq "build info, vats, illegal syscalls, terminations, startVat deliveries" \
  '1.0 0.0 1.0 1 1 1' \
  "$(sample 'vatkernel_build_info{version="0.1.0"}') $(sample 'vatkernel_vats{status="running"}') $(sample 'vatkernel_vats{status="terminated"}') $(sample vatkernel_illegal_syscalls_total) $(sample vatkernel_terminations_total) $(sample 'vatkernel_deliveries_total{type="startVat"}')"
assert_eq "every name is vatkernel_*" '' "$(grep -v '^#' "$E2E_TMP/metrics.txt" | grep -v '^vatkernel_' | grep -v '^$')"
# Pipelined on one connection: GET /kernel sees the POST /vats sent just before it.
body='{"name":"pipelined"}'
raw="$(printf 'POST /vats HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%sGET /kernel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "${#body}" "$body" \
  | curl -sS --max-time 5 telnet://"${URL#http://}" 2>/dev/null | tr -d '\r')"
assert_eq "a pipelined GET /kernel counts the vat created just before it" '2' \
  "$(printf '%s' "$raw" | grep -o '"vats":[0-9]*' | tail -1 | cut -d: -f2)"
stop_server

start_server
do_curl GET /version
assert_eq "a restart has a new instance id" 'yes' "$([ "$(jqr .instanceID)" != "$FIRST_INSTANCE" ] && echo yes)"
assert_eq "no access log unless asked" 0 "$(grep -c '^{' "$SERVER_LOG")"
finish
