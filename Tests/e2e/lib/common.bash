# Shared helpers of the end-to-end scripts, in the style of swift-nio's integration tests:
# start_server, do_curl, assert_eq, stop_server, and a last line "N passed, N failed".
#
#   source "$(dirname "$0")/lib/common.bash"
#   start_server [vatkernel serve flags...]     # sets URL, SERVER_PID, SERVER_LOG, DB
#   do_curl [-t TOKEN] METHOD PATH [JSON]       # sets STATUS and BODY
#   assert_eq "what" expected actual
#   stop_server                                 # SIGTERM, waits, checks exit status 0
#   finish                                      # prints the summary, exits non-zero on failure
#
# VATKERNEL_BIN names a prebuilt binary; otherwise `swift build --product vatkernel` runs once
# (E2E_SWIFT_BUILD_ARGS adds flags, e.g. "--scratch-path .build-svc").
set -uo pipefail

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
E2E_TMP="$(mktemp -d "${TMPDIR:-/tmp}/vatkernel-e2e.XXXXXX")"
PASSED=0
FAILED=0
SERVER_PID=""
URL=""
STATUS=""
BODY=""
# shellcheck disable=SC2034  # read by the scripts that source this file
HEADERS=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$E2E_TMP"
}
trap cleanup EXIT

command -v jq >/dev/null || { echo "e2e: jq is required (apt-get install -y jq)"; exit 2; }
command -v curl >/dev/null || { echo "e2e: curl is required"; exit 2; }

# ensure_bin: sets VATKERNEL_BIN, building the binary once if it is not given.
ensure_bin() {
  [ -n "${VATKERNEL_BIN:-}" ] && return 0
  # shellcheck disable=SC2086
  (cd "$E2E_ROOT" && swift build --product vatkernel ${E2E_SWIFT_BUILD_ARGS:-} >&2) || { echo "e2e: build failed" >&2; exit 2; }
  # shellcheck disable=SC2086
  VATKERNEL_BIN="$(cd "$E2E_ROOT" && swift build ${E2E_SWIFT_BUILD_ARGS:-} --show-bin-path)/vatkernel"
  export VATKERNEL_BIN
}

# start_server [flags...]: runs `vatkernel serve --port 0 [flags]` (with --db $DB unless the
# flags name one) and waits for its startup line, which gives the port it bound.
start_server() {
  ensure_bin
  DB="${DB:-$E2E_TMP/vatkernel.sqlite}"
  local args=(serve --host 127.0.0.1 --port 0)
  case " $* " in *" --db "*) ;; *) args+=(--db "$DB") ;; esac
  SERVER_LOG="$E2E_TMP/server.$RANDOM.log"
  "$VATKERNEL_BIN" "${args[@]}" "$@" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 1 200); do
    URL="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$SERVER_LOG" | head -1)"
    [ -n "$URL" ] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "e2e: the server did not start:"; cat "$SERVER_LOG"
  exit 2
}

# stop_server: SIGTERM, then the exit status must be 0.
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID"
  SERVER_EXIT=$?
  SERVER_PID=""
  assert_eq "vatkernel exits 0 on SIGTERM" 0 "$SERVER_EXIT"
}

# do_curl [-t TOKEN] [-H header]... METHOD PATH [BODY]: sets STATUS, BODY and HEADERS.
# The token defaults to $TOKEN (empty: no Authorization header).
do_curl() {
  local token="${TOKEN:-}" extra=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -t) token="$2"; shift 2 ;;
      -H) extra+=(-H "$2"); shift 2 ;;
      *) break ;;
    esac
  done
  local method="$1" path="$2"
  local args=(-sS -X "$method" -o "$E2E_TMP/body" -D "$E2E_TMP/headers" -w '%{http_code}' "${extra[@]}")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  if [ $# -ge 3 ]; then args+=(--data-binary "$3"); fi
  STATUS="$(curl "${args[@]}" "$URL$path")" || STATUS="curl-failed"
  BODY="$(cat "$E2E_TMP/body" 2>/dev/null)"
  # shellcheck disable=SC2034  # read by the scripts that source this file
  HEADERS="$(cat "$E2E_TMP/headers" 2>/dev/null)"
}

# jqb FILTER: applies a jq filter to the last BODY, compact output.
jqb() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null || echo "<not JSON: $BODY>"; }

# jqr FILTER: the same, raw strings.
jqr() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }

assert_eq() {
  local what="$1" expected="$2" actual="$3"
  if [ "$expected" == "$actual" ]; then
    PASSED=$((PASSED + 1))
    echo "ok   $what"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL $what"
    echo "     expected: $expected"
    echo "     actual:   $actual"
  fi
}

# assert_status "what" expected-status: checks the last do_curl's status.
assert_status() {
  if [ "$2" == "$STATUS" ]; then
    assert_eq "$1 ($2)" "$2" "$STATUS"
  else
    assert_eq "$1 ($2)" "$2" "$STATUS $BODY"
  fi
}

finish() {
  if [ -n "$SERVER_PID" ]; then stop_server; fi
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit $?
}

# Methargs JSON `{"body":[method,[{"$slot":0},…]],"slots":[…]}` with one argument per slot.
methargs() {
  local method="$1"; shift
  local refs="" list="" i=0 s
  for s in "$@"; do
    [ $i -gt 0 ] && { refs+=","; list+=","; }
    refs+="{\"\$slot\":$i}"; list+="\"$s\""
    i=$((i + 1))
  done
  echo "{\"body\":[\"$method\",[$refs]],\"slots\":[$list]}"
}
