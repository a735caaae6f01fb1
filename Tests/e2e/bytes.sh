#!/usr/bin/env bash
# Issue 9 part 1: data is kept exactly as written. Vatstore keys that Unicode calls canonically
# equivalent (é as U+00E9 or as e + U+0301; K and the Kelvin sign U+212A) are distinct keys,
# before and after restarts, walked by vatstoreGetNextKey in byte order (SQLite's BINARY
# collation), and a deleted one stays deleted. Vat names and JSON object keys keep their bytes.
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/bytes.sqlite"
# hex: the UTF-8 bytes of each line of stdin, as hex, one line each.
hex() { while IFS= read -r line; do printf '%s' "$line" | od -An -tx1 | tr -d ' \n'; echo; done; }
# results: the last answer's results as lines of hex (null as "null").
results() { jqb '.results[]' | while IFS= read -r r; do if [ "$r" = null ]; then echo null; else printf '%s\n' "$r" | jq -r . | hex; fi; done | paste -sd' '; }

start_server
do_curl POST /vats '{"name":"e\u0301","options":{"\u00e9":1,"e\u0301":2}}'
assert_status "create a vat named e + U+0301 with options keyed by both spellings of é" 201
T="$(jqr .token)"
do_curl -t "$T" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"\u00e9","value":"A"}]}'
assert_status "set \\u00e9 to A" 200
do_curl -t "$T" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"e\u0301","value":"B"}]}'
assert_status "then e\\u0301 to B" 200
do_curl -t "$T" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreSet","key":"K","value":"k"},{"type":"vatstoreSet","key":"\u212a","value":"kelvin"}]}'
assert_status "K to k and the Kelvin sign to kelvin" 200

READS='{"syscalls":[{"type":"vatstoreGet","key":"\u00e9"},{"type":"vatstoreGet","key":"e\u0301"},{"type":"vatstoreGet","key":"K"},{"type":"vatstoreGet","key":"\u212a"}]}'
WALK='{"syscalls":[{"type":"vatstoreGetNextKey","priorKey":""},{"type":"vatstoreGetNextKey","priorKey":"K"},{"type":"vatstoreGetNextKey","priorKey":"e\u0301"},{"type":"vatstoreGetNextKey","priorKey":"\u00e9"},{"type":"vatstoreGetNextKey","priorKey":"\u212a"}]}'
do_curl -t "$T" POST /vats/v1/syscalls "$READS"
assert_eq "each key reads its own value" '200 ["A","B","k","kelvin"]' "$STATUS $(jqb .results)"
do_curl -t "$T" POST /vats/v1/syscalls "$WALK"
assert_eq "vatstoreGetNextKey walks in byte order: 4b < 65cc81 < c3a9 < e284aa, then null" \
  '4b 65cc81 c3a9 e284aa null' "$(results)"
stop_server

start_server
do_curl -t "$T" POST /vats/v1/syscalls "$READS"
assert_eq "after a restart each key still reads its own value" '200 ["A","B","k","kelvin"]' "$STATUS $(jqb .results)"
do_curl GET /vats/v1
assert_eq "the name keeps its bytes" '65cc81' "$(jqr .name | hex)"
assert_eq "the options keep both keys, written in byte order: 65cc81 (2) then c3a9 (1)" '65cc81 c3a9 [2,1]' \
  "$(jqr '.options | keys_unsorted[]' | hex | paste -sd' ') $(jqb '[.options[]]')"
do_curl -t "$T" POST /vats/v1/syscalls '{"syscalls":[{"type":"vatstoreDelete","key":"\u00e9"},{"type":"vatstoreDelete","key":"K"}]}'
assert_status "delete \\u00e9 and K" 200
stop_server
if command -v sqlite3 >/dev/null; then
  assert_eq "on disk: exactly the two keys left, by their bytes" '65CC81=42 E284AA=6B656C76696E' \
    "$(sqlite3 "$DB" "SELECT hex(key) || '=' || hex(value) FROM vatstore WHERE vat = 'v1' ORDER BY key" | paste -sd' ')"
else
  echo "skip: sqlite3 is not installed"
fi

start_server
do_curl -t "$T" POST /vats/v1/syscalls "$READS"
assert_eq "after another restart the deleted keys stay deleted" '200 [null,"B",null,"kelvin"]' "$STATUS $(jqb .results)"
do_curl -t "$T" POST /vats/v1/syscalls "$WALK"
assert_eq "and the walk visits only the two left" '65cc81 65cc81 e284aa e284aa null' "$(results)"
do_curl GET /kernel/audit
assert_eq "audit is clean" '200 []' "$STATUS $BODY"
finish
