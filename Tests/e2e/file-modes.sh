#!/usr/bin/env bash
# Issue 9 part 4: the database, -wal and -shm hold every vat's token, so vatkernel creates
# them owner-only (0600) whatever the umask, and tightens a database an older version left 0644.
source "$(dirname "$0")/lib/common.bash"

DB="$E2E_TMP/modes.sqlite"
umask 000
start_server
do_curl POST /vats '{"name":"alice"}'
assert_status "create a vat (its token is now in the database)" 201
assert_eq "with umask 000: the database, -wal and -shm are 600" '600 600 600' \
  "$(stat -c %a "$DB" "$DB-wal" "$DB-shm" | paste -sd' ')"
stop_server
umask 022

chmod 644 "$DB"
start_server
do_curl GET /vats/v1
assert_status "an older 0644 database still opens" 200
assert_eq "and is made 600, with its side files" '600 600 600' "$(stat -c %a "$DB" "$DB-wal" "$DB-shm" | paste -sd' ')"
finish
