#!/usr/bin/env bash
# A vat's driver acknowledges what it has handled (issue 9 part 2): POST
# /vats/{vatID}/deliveries/ack {"through": SEQ}. Acknowledged deliveries leave the log and the
# database, unacknowledged ones stay, numbering goes on, and all of it survives a restart;
# with --keep-deliveries the acknowledgement is recorded and the log stays whole.
source "$(dirname "$0")/lib/common.bash"

start_server
do_curl POST /vats '{"name":"alice"}'; ALICE="$(jqr .token)"; A="$(jqr .vatID)"; ROOT="$(jqr .rootKref)"
for m in one two three; do do_curl POST /messages "{\"target\":\"$ROOT\",\"methargs\":$(methargs $m)}"; done
do_curl -t "$ALICE" GET "/vats/$A/deliveries"
assert_eq "alice's log: startVat and three messages" '[1,2,3,4]' "$(jqb '[.deliveries[].seq]')"

do_curl -t "$ALICE" POST "/vats/$A/deliveries/ack" '{"through":2}'
assert_eq "she acknowledges through 2: two dropped" '200 {"acknowledged":2,"dropped":2}' "$STATUS $BODY"
do_curl -t "$ALICE" GET "/vats/$A/deliveries"
assert_eq "her unacknowledged work stays" '[3,4]' "$(jqb '[.deliveries[].seq]')"
do_curl GET "/vats/$A"
assert_eq "the vat shows the acknowledgement" '2 2' "$(jqb .deliveryCount) $(jqb .deliveriesAcknowledged)"
do_curl -t "$ALICE" POST "/vats/$A/deliveries/ack" '{"through":1}'
assert_eq "acknowledging less changes nothing" '200 {"acknowledged":2,"dropped":0}' "$STATUS $BODY"
do_curl -t "$ALICE" POST "/vats/$A/deliveries/ack" '{"through":5}'
assert_eq "acknowledging beyond the log: 422" '422' "$STATUS"
do_curl -t "$ALICE" POST "/vats/$A/deliveries/ack" '{"through":"2"}'
assert_eq "a non-integer: 400 naming through" '400 "through"' "$STATUS $(jqb .error.details.field)"
do_curl -t "$ALICE" POST "/vats/$A/deliveries/ack" '{"through":2,"x":1}'
assert_eq "an unknown field: 400" '400' "$STATUS"
do_curl -t "wrong-token" POST "/vats/$A/deliveries/ack" '{"through":2}'
assert_eq "someone else's token: 403" '403' "$STATUS"
do_curl -t "$ALICE" GET "/vats/$A/deliveries/ack"
assert_eq "GET: 405" '405' "$STATUS"
if command -v sqlite3 >/dev/null; then
  assert_eq "the dropped rows are gone from the database" '3,4' "$(sqlite3 "$DB" "SELECT group_concat(seq) FROM deliveries WHERE vat = '$A' ORDER BY seq")"
fi

stop_server
start_server
do_curl -t "$ALICE" GET "/vats/$A/deliveries"
assert_eq "after a restart the log is what was left" '[3,4]' "$(jqb '[.deliveries[].seq]')"
do_curl -t "$ALICE" POST "/vats/$A/deliveries/ack" '{"through":4}'
assert_eq "she acknowledges the rest" '200 {"acknowledged":4,"dropped":2}' "$STATUS $BODY"
do_curl POST /messages "{\"target\":\"$ROOT\",\"methargs\":$(methargs four)}"
do_curl -t "$ALICE" GET "/vats/$A/deliveries"
assert_eq "numbering goes on from 5" '[5]' "$(jqb '[.deliveries[].seq]')"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"
stop_server

echo "== --keep-deliveries"
DB="$E2E_TMP/keep.sqlite"
start_server --keep-deliveries
do_curl POST /vats '{"name":"bob"}'; BOB="$(jqr .token)"; B="$(jqr .vatID)"
do_curl -t "$BOB" POST "/vats/$B/deliveries/ack" '{"through":1}'
assert_eq "bob acknowledges his startVat: recorded, nothing dropped" '200 {"acknowledged":1,"dropped":0}' "$STATUS $BODY"
do_curl -t "$BOB" GET "/vats/$B/deliveries"
assert_eq "his log stays whole" '[1]' "$(jqb '[.deliveries[].seq]')"
stop_server

echo "== the admin token acknowledges a vat's deliveries too"
# The host may clear a log its vat's driver left behind; its token opens every vat's log.
DB="$E2E_TMP/admin.sqlite"
ADMIN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_server --admin-token "$ADMIN"
do_curl -t "$ADMIN" POST /vats '{"name":"carol"}'; CAROL="$(jqr .token)"; C="$(jqr .vatID)"; CROOT="$(jqr .rootKref)"
for m in one two; do do_curl -t "$ADMIN" POST /messages "{\"target\":\"$CROOT\",\"methargs\":$(methargs $m)}"; done
do_curl -t "$ADMIN" POST "/vats/$C/deliveries/ack" '{"through":2}'
assert_eq "the admin acknowledges carol's log through 2: two dropped" '200 {"acknowledged":2,"dropped":2}' "$STATUS $BODY"
do_curl -t "$CAROL" GET "/vats/$C/deliveries"
assert_eq "carol's unacknowledged work stays" '[3]' "$(jqb '[.deliveries[].seq]')"
do_curl -t "$CAROL" POST "/vats/$C/deliveries/ack" '{"through":3}'
assert_eq "and she acknowledges the rest from there" '200 {"acknowledged":3,"dropped":1}' "$STATUS $BODY"
finish
