#!/usr/bin/env bash
# Tokens and every error status, with the JSON error body of API.md:
# 401/403 for the admin token and for vat tokens, 400 (bad JSON, bad vref, unknown syscall type,
# unknown field, unknown or repeated query parameter), 404 (vat, kref, route), 405 with Allow, 409 terminated vat, 413 big body,
# 431 huge header, 422 illegal syscall with its details.
source "$(dirname "$0")/lib/common.bash"

ADMIN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_server --admin-token "$ADMIN" --max-body 1000

echo "== the admin token"
TOKEN=""
do_curl GET /healthz
assert_eq "/healthz needs no token" '200 {"status":"ok"}' "$STATUS $BODY"
do_curl GET /kernel
assert_eq "no token: 401 unauthorized" '401 "unauthorized"' "$STATUS $(jqb .error.code)"
assert_eq "401 says how to authenticate" 'WWW-Authenticate: Bearer realm="vatkernel"' \
  "$(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^www-authenticate:')"
do_curl -t "wrong-token-wrong-token" GET /kernel
assert_eq "wrong token: 403 forbidden" '403 "forbidden"' "$STATUS $(jqb .error.code)"
do_curl -H "Authorization: Basic YWRtaW46YWRtaW4=" GET /kernel
assert_eq "another scheme counts as no token: 401" '401' "$STATUS"
do_curl -H "Authorization: bearer $ADMIN" GET /kernel
assert_eq "the scheme is case-insensitive" '200' "$STATUS"
do_curl -t "$ADMIN" POST /vats '{"name":"alice"}'
assert_eq "admin creates alice" '201' "$STATUS"
ALICE="$(jqr .token)"
assert_eq "the token is 64 hex digits" '64' "$(printf '%s' "$ALICE" | grep -cE '^[0-9a-f]{64}$' | sed 's/1/64/')"
assert_eq "the Location header names the vat" 'Location: /vats/v1' "$(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^location:')"
do_curl -t "$ADMIN" POST /vats '{"name":"bob"}'
BOB="$(jqr .token)"

echo "== vat tokens"
do_curl GET /vats/v1/deliveries
assert_eq "alice's log without a token: 401" '401' "$STATUS"
do_curl -t "$BOB" GET /vats/v1/deliveries
assert_eq "alice's log with bob's token: 403" '403 "forbidden"' "$STATUS $(jqb .error.code)"
do_curl -t "$ALICE" GET /vats/v1/deliveries
assert_eq "alice's log with her token" '200' "$STATUS"
do_curl -t "$ADMIN" GET /vats/v1/deliveries
assert_eq "alice's log with the admin token" '200' "$STATUS"
do_curl -t "$BOB" POST /vats/v1/syscalls '{"syscalls":[]}'
assert_eq "alice's syscalls with bob's token: 403" '403' "$STATUS"
do_curl -t "$ALICE" GET /kernel
assert_eq "a vat token does not open admin endpoints: 403" '403' "$STATUS"
do_curl -t "$ALICE" GET /vats/v9/deliveries
assert_eq "a vat that does not exist, with alice's token: 403 as for bob's log (existence is not told)" '403 "forbidden"' "$STATUS $(jqb .error.code)"
do_curl -t "not-a-token" POST /vats/v9/syscalls '{"syscalls":[]}'
bad_missing="$STATUS $BODY"
do_curl -t "not-a-token" POST /vats/v1/syscalls '{"syscalls":[]}'
assert_eq "a bad token: the same answer for a missing vat and an existing one" "$bad_missing" "$STATUS $BODY"
do_curl -t "$ADMIN" GET /vats/v9/deliveries
assert_eq "with the admin token a vat that does not exist: 404 unknown-vat" '404 "unknown-vat"' "$STATUS $(jqb .error.code)"
if grep -q -e "$ADMIN" -e "$ALICE" -e "$BOB" "$SERVER_LOG"; then leaked=yes; else leaked=no; fi
assert_eq "no token appears in the server's output" 'no' "$leaked"

TOKEN="$ADMIN"
echo "== 400 malformed"
do_curl POST /vats '{"name":'
assert_eq "bad JSON: 400 malformed-json" '400 "malformed-json"' "$STATUS $(jqb .error.code)"
do_curl POST /vats '{"name":"x","name":"y"}'
assert_eq "a duplicate key: 400" '400 "malformed-json"' "$STATUS $(jqb .error.code)"
do_curl POST /vats '{}'
assert_eq "a missing field: 400 names it" '400 "invalid-request" "name"' "$STATUS $(jqb .error.code) $(jqb .error.details.field)"
do_curl POST /vats '{"name":"x","color":"red"}'
assert_eq "an unknown field: 400 names it" '400 "color"' "$STATUS $(jqb .error.details.field)"
do_curl POST /vats '{"name":5}'
assert_eq "a wrong type: 400" '400 "name: must be a string"' "$STATUS $(jqb .error.message)"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"dropImports","vrefs":["o-50","x+1"]}]}'
assert_eq "a bad vref: 400 names the field" '400 "syscalls[0].vrefs[1]"' "$STATUS $(jqb .error.details.field)"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"teleport"}]}'
assert_eq "an unknown syscall type: 400" '400 "syscalls[0].type"' "$STATUS $(jqb .error.details.field)"
do_curl -t "$ALICE" POST /vats/v1/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":{\"body\":\"ping\",\"slots\":[]}}]}"
assert_eq "methargs that are not [method, args]: 400" '400 "syscalls[0].methargs.body"' "$STATUS $(jqb .error.details.field)"
do_curl POST /messages "{\"target\":\"o+1\",\"methargs\":$(methargs ping)}"
assert_eq "a vref where a kref belongs: 400" '400 "target"' "$STATUS $(jqb .error.details.field)"
do_curl GET /vats/vx
assert_eq "a bad vat ID in the path: 400" '400 "invalid-parameter" "vatID"' "$STATUS $(jqb .error.code) $(jqb .error.details.parameter)"
do_curl GET "/vats/v1/deliveries?limit=5000"
assert_eq "a limit beyond 1000: 400" '400 "limit"' "$STATUS $(jqb .error.details.parameter)"
do_curl GET "/objects?ownr=none"
assert_eq "an unknown query parameter: 400 names it (it listed every object)" \
  '400 "invalid-parameter" "ownr" "ownr: is not a query parameter of GET /objects (it takes owner, after, limit)"' \
  "$STATUS $(jqb .error.code) $(jqb .error.details.parameter) $(jqb .error.message)"
do_curl GET "/objects?owner=v1&owner=none"
assert_eq "a repeated query parameter: 400 names it" '400 "owner" "owner: is given more than once"' \
  "$STATUS $(jqb .error.details.parameter) $(jqb .error.message)"
do_curl GET "/kernel?verbose=1"
assert_eq "a query parameter where none is taken: 400" '400 "verbose"' "$STATUS $(jqb .error.details.parameter)"
do_curl GET "/objects?owner=none&limit=1"
assert_eq "declared query parameters still work" '200 {"objects":[],"next":null,"limit":1,"maxBytes":1048576}' "$STATUS $BODY"
TOKEN=""
do_curl GET "/objects?ownr=none"
assert_eq "without the token, the query is not looked at: 401" '401' "$STATUS"
TOKEN="$ADMIN"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"k","value":"v"},{"type":"subscribe"}]}'
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreGet","key":"k"}]}'
assert_eq "a malformed batch changed nothing" '200 {"type":"ran","results":[null]}' "$STATUS $BODY"

echo "== 404"
do_curl GET /vats/v42
assert_eq "unknown vat: 404 unknown-vat" '404 "unknown-vat" "v42"' "$STATUS $(jqb .error.code) $(jqb .error.details.vatID)"
do_curl GET /objects/ko999
assert_eq "unknown kref: 404 unknown-kref" '404 "unknown-kref" "ko999"' "$STATUS $(jqb .error.code) $(jqb .error.details.kref)"
do_curl GET /promises/kp999
assert_eq "unknown promise: 404" '404' "$STATUS"
do_curl GET /no/such/route
assert_eq "unknown route: 404 not-found" '404 "not-found"' "$STATUS $(jqb .error.code)"
do_curl GET /vats/
assert_eq "a trailing slash is another route: 404" '404' "$STATUS"

echo "== 405"
do_curl DELETE /vats
assert_eq "DELETE /vats: 405" '405 "method-not-allowed"' "$STATUS $(jqb .error.code)"
assert_eq "with Allow: GET, POST" 'Allow: GET, POST' "$(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^allow:')"
do_curl PATCH /kernel/run-mode '{}'
assert_eq "PATCH /kernel/run-mode: 405, Allow: GET, PUT" '405 Allow: GET, PUT' "$STATUS $(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^allow:')"

echo "== HEAD, encoded slashes"
HEAD_OUT="$(curl -sS -I -H "Authorization: Bearer $ADMIN" "$URL/vats/v1" | tr -d '\r')"
do_curl -t "$ADMIN" GET /vats/v1
assert_eq "HEAD /vats/v1: 200 with the GET's Content-Length, no body" \
  "200 Content-Length: ${#BODY}" \
  "$(printf '%s' "$HEAD_OUT" | head -1 | cut -d' ' -f2) $(printf '%s' "$HEAD_OUT" | grep -i '^content-length:')"
assert_eq "HEAD on a POST-only route: 405" '405' \
  "$(curl -sS -I -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "$URL/kernel/step")"
do_curl -t "$ADMIN" GET /vats/v1%2Fclist
assert_eq "GET /vats/v1%2Fclist is not the c-list: 400 for the vat ID \"v1/clist\"" '400 "vatID: \"v1/clist\" is not a vat ID (v1, v2, …)"' "$STATUS $(jqb .error.message)"
do_curl -t "$ADMIN" GET /vats%2Fv1
assert_eq "GET /vats%2Fv1: no such route, 404" '404' "$STATUS"

echo "== 422 illegal syscall"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"k2","value":"v"},{"type":"abandonExports","vrefs":["o+0","o+0"]}]}'
assert_eq "abandoning o+0 twice: 422 illegal-syscall" '422 "illegal-syscall"' "$STATUS $(jqb .error.code)"
assert_eq "details: which syscall, why, and that the vat is terminated" \
  '{"index":1,"syscall":"abandonExports","problem":"syscall.abandonExports names o+0 twice","vatTerminated":true}' \
  "$(jqb .error.details)"
do_curl GET /vats/v1
assert_eq "alice is terminated" '"terminated"' "$(jqb .status)"
do_curl POST /vats '{"name":"carol"}'
do_curl POST /messages "{\"target\":\"ko22\",\"methargs\":$(methargs meet ko21)}"
do_curl DELETE /objects/ko21/pin
assert_eq "the host unpins bob's root, which carol still holds" '200 {"kref":"ko21","pins":0}' "$STATUS $BODY"
do_curl DELETE /objects/ko21/pin
assert_eq "unpinning an object that is not pinned: 422 rejected" '422 "rejected"' "$STATUS $(jqb .error.code)"
do_curl POST /messages "{\"target\":\"ko777\",\"methargs\":$(methargs ping)}"
assert_eq "a send to a kref that does not exist: 422 unknown-kref" '422 "unknown-kref"' "$STATUS $(jqb .error.code)"

echo "== 409"
do_curl -t "$ALICE" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreGet","key":"k"}]}'
assert_eq "a terminated vat's syscalls: 409 vat-terminated" '409 "vat-terminated"' "$STATUS $(jqb .error.code)"
do_curl POST /vats/v1/exports '{"vref":"o+5"}'
assert_eq "exporting from a terminated vat: 409" '409' "$STATUS"

echo "== 413, 431"
big="{\"name\":\"$(head -c 2000 /dev/zero | tr '\0' 'a')\"}"
do_curl POST /vats "$big"
assert_eq "a body over --max-body 1000: 413" '413 "payload-too-large"' "$STATUS $(jqb .error.code)"
do_curl -H "X-Filler: $(head -c 20000 /dev/zero | tr '\0' 'b')" GET /kernel
assert_eq "a header block over 16 KiB: 431" '431' "$STATUS"
do_curl GET /healthz
assert_eq "the server still serves" '200' "$STATUS"

echo "== a public bind needs an admin token"
out="$("$VATKERNEL_BIN" serve --host 0.0.0.0 --port 0 --db :memory: 2>&1)"; rc=$?
assert_eq "--host 0.0.0.0 without a token exits 64" '64' "$rc"
assert_eq "and says why" '1' "$(printf '%s' "$out" | grep -c 'refusing to listen on 0.0.0.0 without an admin token')"
out="$(VATKERNEL_HOST=0.0.0.0 "$VATKERNEL_BIN" serve --port 0 --db :memory: 2>&1)"; rc=$?
assert_eq "VATKERNEL_HOST=0.0.0.0 without a token exits 64" '64' "$rc"
out="$("$VATKERNEL_BIN" serve --port 0 --db :memory: --admin-token short 2>&1)"; rc=$?
assert_eq "an admin token under 16 characters exits 64" '64' "$rc"
out="$("$VATKERNEL_BIN" serve --port 0 --db :memory: --max-queued-requests 0 2>&1)"; rc=$?
assert_eq "--max-queued-requests 0 exits 64" '64' "$rc"
assert_eq "and names the bound" '1' "$(printf '%s' "$out" | grep -c -- '--max-queued-requests must be between 1 and 1000000, not 0')"
out="$(VATKERNEL_MAX_QUEUED_BYTES=lots "$VATKERNEL_BIN" serve --port 0 --db :memory: 2>&1)"; rc=$?
assert_eq "VATKERNEL_MAX_QUEUED_BYTES=lots exits 64" '64' "$rc"
out="$("$VATKERNEL_BIN" serve --port 0 --db :memory: --max-unsent-bytes 0 2>&1)"; rc=$?
assert_eq "--max-unsent-bytes 0 exits 64" '64' "$rc"
out="$("$VATKERNEL_BIN" serve --port 0 --db :memory: --max-pipelined-requests 0 2>&1)"; rc=$?
assert_eq "--max-pipelined-requests 0 exits 64, naming the bound" '64 1' \
  "$rc $(printf '%s' "$out" | grep -c -- '--max-pipelined-requests must be between 1 and 4096, not 0')"
out="$(VATKERNEL_WRITE_TIMEOUT=0 "$VATKERNEL_BIN" serve --port 0 --db :memory: 2>&1)"; rc=$?
assert_eq "VATKERNEL_WRITE_TIMEOUT=0 exits 64, naming the bound" '64 1' \
  "$rc $(printf '%s' "$out" | grep -c -- '--write-timeout must be between 1 and 3600, not 0')"

echo "== a port already in use"
# This test's own server holds the port. The store was opened and the kernel loaded on its
# thread before the bind fails; the shutdown then must end that thread, not wait for it forever.
port="${URL##*:}"
out="$(timeout -s KILL 30 "$VATKERNEL_BIN" serve --host 127.0.0.1 --port "$port" --db :memory: 2>&1)"; rc=$?
assert_eq "a port in use exits 69, without hanging" '69' "$rc"
assert_eq "and says why" '1' "$(printf '%s' "$out" | grep -c "cannot listen on 127.0.0.1:$port")"

finish
