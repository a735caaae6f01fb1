#!/usr/bin/env bash
# Issue 9 part 3: do large reads delay small changes? p99 latency of 1-syscall batches
# (vatstoreSet) over 16 connections, first alone, then while 4 more connections fetch the
# largest c-list pages (1,000 entries of a 200,000-entry c-list) as fast as they can.
# Goal: the p99 with readers within 3x of the p99 without. Both phases run against the same
# server, one after the other, so the ratio carries the machine's noise once.
#
# The writes come from Benchmarks/latency-load.c, which times every request with the monotonic
# clock; wrk fetches the pages. wrk's own latency figures for the writes are printed too, from a
# third phase, but not used: with reader threads they disagree with wrk's own system calls
# (Benchmarks/README.md, "Do large reads delay small changes?").
#
# Needs wrk (Debian: apt-get install wrk), a C compiler (cc, or the Swift toolchain's clang),
# curl, jq, python3. Builds nothing of the project: run
# `swift build -c release --product vatkernel` first (or set BIN).
# Usage: bash Benchmarks/read-contention.sh [SECONDS per phase, default 10]
set -u
SECONDS_PER_PHASE="${1:-10}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-$ROOT/.build/release/vatkernel}"
command -v wrk >/dev/null || { echo "read-contention: needs wrk (apt-get install wrk)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "read-contention: build first: swift build -c release --product vatkernel" >&2; exit 2; }
CC="${CC:-$(command -v cc || command -v clang)}"
[ -n "$CC" ] || { echo "read-contention: needs a C compiler (cc or clang)" >&2; exit 2; }
T=$(mktemp -d -t read-contention.XXXX)
"$CC" -O2 -pthread -o "$T/latency-load" "$ROOT/Benchmarks/latency-load.c" || exit 2
"$BIN" serve --host 127.0.0.1 --port 0 --db "$T/k.sqlite" --durability "${DURABILITY:-full}" >"$T/log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do URL="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$T/log" | head -1)"; [ -n "$URL" ] && break; sleep 0.1; done
[ -n "$URL" ] || { echo "read-contention: the server did not start" >&2; cat "$T/log" >&2; exit 1; }

# Vat a exports 200,000 objects to vat b: a 200,000-entry c-list on each side.
A=$(curl -s -XPOST "$URL/vats" -d '{"name":"a"}' | jq -r .token)
curl -s -XPOST "$URL/vats" -d '{"name":"b"}' >/dev/null
curl -s -XPOST "$URL/messages" -d '{"target":"ko20","methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko21"]}}' >/dev/null
for chunk in 0 1 2 3 4 5 6 7 8 9; do
  python3 - "$chunk" > "$T/send.json" <<'PY'
import json, sys
c = int(sys.argv[1]); n = 20000
slots = [f"o+{c*n+i+1}" for i in range(n)]
print(json.dumps({"syscalls": [{"type": "send", "target": "o-50",
                                "methargs": {"body": ["take", [{"$slot": i} for i in range(n)]], "slots": slots}}]}))
PY
  curl -s -o /dev/null -XPOST "$URL/vats/v1/syscalls" -H "Authorization: Bearer $A" --data-binary "@$T/send.json"
done
echo "c-list of v1: $(curl -s "$URL/vats/v1" | jq -c .clistSize) entries; one page: $(curl -s -o /dev/null -w '%{size_download} bytes, %{time_total} s' "$URL/vats/v1/clist?limit=1000")"

cat > "$T/write.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $A"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/vats/v1/syscalls", nil,
    '{"syscalls":[{"type":"vatstoreSet","key":"k' .. (counter % 1000) .. '","value":"v"}]}')
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

PORT="${URL##*:}"
phase() {
  "$T/latency-load" 127.0.0.1 "$PORT" /vats/v1/syscalls "$A" 16 "$SECONDS_PER_PHASE" | sed -n 's/^RESULT //p'
}
echo "writes alone:        $(phase | tee "$T/alone")"
wrk -t1 -c4 -d"$((2 * SECONDS_PER_PHASE + 2))s" --timeout 30s "$URL/vats/v1/clist?limit=1000" >"$T/readers" 2>&1 &
READERS=$!
sleep 1
echo "writes with readers: $(phase | tee "$T/contended")"
echo "  (wrk's own figures for the same writes with readers, not used: $(wrk -t2 -c16 -d"${SECONDS_PER_PHASE}s" --timeout 30s -s "$T/write.lua" "$URL" | sed -n 's/^RESULT //p'))"
wait $READERS
echo "readers: $(sed -n 's/^Requests\/sec: *//p' "$T/readers") pages/s, $(sed -n 's/^Transfer\/sec: *//p' "$T/readers")"
a=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$T/alone"); c=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$T/contended")
python3 -c "print(f'p99 with readers / p99 alone: {float($c)/float($a):.2f} (goal: at most 3)')"
