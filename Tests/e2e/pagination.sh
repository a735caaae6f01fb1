#!/usr/bin/env bash
# Issue 9 part 3: every list is paged the same way (after/limit/next, numeric order of the
# cursors), says its limit and byte budget, and stops at that budget: GET /vats and the c-list
# included.
source "$(dirname "$0")/lib/common.bash"

start_server
for i in $(seq 1 7); do do_curl POST /vats "{\"name\":\"vat$i\"}"; done
T1="$(jqr .token)"  # v7's token
# walk PATH KEY FIELD LIMIT: FIELD of every item, one page per line, following next.
walk() {
  local path="$1" key="$2" field="$3" limit="$4" after="" sep="?" out=""
  case "$path" in *\?*) sep="&" ;; esac
  while :; do
    do_curl GET "$path${sep}limit=$limit${after:+&after=$after}"
    out+="$(jqr "[.$key[] | .$field | tostring] | join(\" \")")"$'\n'
    after="$(jqr '.next // empty')"
    [ -n "$after" ] || break
  done
  printf '%s' "$out"
}
assert_eq "GET /vats pages by vat number" $'v1 v2 v3\nv4 v5 v6\nv7' "$(walk /vats vats vatID 3)"
do_curl GET "/vats?after=v3&limit=2"
assert_eq "a page says its next, limit and maxBytes" '200 "v5" 2 1048576' "$STATUS $(jqb .next) $(jqb .limit) $(jqb .maxBytes)"
do_curl GET "/vats?after=ko20"
assert_eq "a vat list's cursor is a vat ID" '400 "after"' "$STATUS $(jqb .error.details.parameter)"

# v7 exports o+1…o+85 (ko27…ko111: text order would put ko100 first) and decides a result.
for n in $(seq 1 85); do do_curl POST /vats/v7/exports "{\"vref\":\"o+$n\"}"; done
do_curl -t "$T1" POST /vats/v7/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o+0\",\"methargs\":$(methargs ping),\"result\":\"p+1\"}]}"
assert_status "v7 sends to itself with result p+1" 200
pages="$(walk /vats/v7/clist entries kref 30)"
assert_eq "the c-list comes in 3 pages: 30, 30, 27" '30 30 27' "$(printf '%s\n' "$pages" | awk '{print NF}' | paste -sd' ')"
expected="$(for n in $(seq 26 111); do printf 'ko%s\n' "$n"; done; echo kp40)"
assert_eq "objects by number, then promises" "$expected" "$(printf '%s\n' "$pages" | tr ' ' '\n')"

# Four deliveries of about 400 KB after startVat (seq 1) and the ping (seq 2): two of them fit
# in 1 MiB, the third would not.
printf '{"target":"ko26","methargs":{"body":["take",["%s"]],"slots":[]}}' "$(head -c 400000 /dev/zero | tr '\0' x)" >"$E2E_TMP/big.json"
for i in 1 2 3 4; do do_curl POST /messages "@$E2E_TMP/big.json"; done
assert_status "host sends v7 four big messages" 202
do_curl -t "$T1" GET /vats/v7/deliveries
assert_eq "the first page stops at its byte budget: startVat, ping and two big ones" '200 4 4' "$STATUS $(jqb '.deliveries | length') $(jqb .next)"
do_curl -t "$T1" GET "/vats/v7/deliveries?after=4"
assert_eq "the next page holds the other two, and is the last" '200 2 null' "$STATUS $(jqb '.deliveries | length') $(jqb .next)"
finish
