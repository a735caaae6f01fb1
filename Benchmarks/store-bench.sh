#!/usr/bin/env bash
# What durability costs (issue 4, "Speed"; results in Benchmarks/README.md, "Durable store").
#
#   Benchmarks/store-bench.sh                 # build (release), then measure: about 7 minutes
#   NO_BUILD=1 Benchmarks/store-bench.sh      # reuse the release builds already there
#   Benchmarks/store-bench.sh --quick         # arguments go to StoreBench
#
# 1. StoreBench (Benchmarks/StoreBench): a raw SQLite loop against the kernel on SQLiteStore,
#    per-crank commits and commits per 16 and 64 cranks, at FULL and NORMAL, interleaved slices;
#    then start-up time for a database with 1,000,000 objects (cached in .build-bench/).
# 2. Group commit over HTTP: `vatkernel serve` (release) on a SQLite file at --durability full and
#    at normal; wrk -t2 --latency posts 1-syscall batches (a vatstoreSet, with the vat's bearer
#    token) at 16 and 64 connections (and 256 for reference), DURATION seconds each. An answered
#    2xx is an acknowledged batch: the server answers only after its group is committed. Each wrk
#    thread writes KEYS keys over and over (KEYS=0: a new key every time, so the vat's vatstore
#    grows by millions of keys over the runs).
# 3. `vatkernel serve` start-up on (a copy of) the 1,000,000-object database.
#
# Settings (environment): PARTS ("storebench http startup": which of 1, 2, 3 to run), KEYS (10000),
# DURATION (10), CONNECTIONS ("16 64 256"), THREADS (2), ROUNDS (3: the
# runs are interleaved, round by round, and the table shows medians), NO_BUILD, BENCH_DIR
# (.build-bench: the databases, on the checkout's disk), STOREBENCH_BIN and VATKERNEL_BIN
# (prebuilt binaries).
set -euo pipefail

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-"16 64 256"}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
KEYS=${KEYS:-10000}
PARTS=${PARTS:-"storebench http startup"}
part() { [[ " $PARTS " == *" $1 "* ]]; }
NO_BUILD=${NO_BUILD:-0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
BENCH_DIR=${BENCH_DIR:-.build-bench}
mkdir -p "$BENCH_DIR"
work=$(mktemp -d "$BENCH_DIR/http.XXXXXX")

say() { printf '%s\n' "$*"; }
die() { say "store-bench: $*" >&2; exit 1; }

declare -A PID URL TOKEN VAT
cleanup() {
  local k
  for k in "${!PID[@]}"; do
    kill -TERM "${PID[$k]}" 2>/dev/null && wait "${PID[$k]}" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v wrk >/dev/null || die "wrk is missing (apt-get install -y wrk)"
command -v jq >/dev/null || die "jq is missing (apt-get install -y jq)"

if [[ $NO_BUILD != 1 ]]; then
  [[ -n ${STOREBENCH_BIN:-} ]] || ! part storebench || swift build -c release --product StoreBench >&2
  [[ -n ${VATKERNEL_BIN:-} ]] || swift build -c release --product vatkernel >&2
fi
STOREBENCH_BIN=${STOREBENCH_BIN:-$root/.build/release/StoreBench}
VATKERNEL_BIN=${VATKERNEL_BIN:-$root/.build/release/vatkernel}
[[ -x $STOREBENCH_BIN ]] || ! part storebench || die "build StoreBench first (swift build -c release --product StoreBench)"
[[ -x $VATKERNEL_BIN ]] || die "build vatkernel first (swift build -c release --product vatkernel)"

say "== machine"
say "$(nproc) cores; $(uptime)"
say "disk of $BENCH_DIR: $(df -h "$BENCH_DIR" | tail -1 | awk '{print $1, $2, "size,", $4, "free, mounted on", $6}') ($(findmnt -no FSTYPE,OPTIONS -T "$BENCH_DIR" 2>/dev/null || echo '?'))"
say "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- Sources 2>/dev/null || echo ' (Sources modified)')"

if part storebench; then
  say ""
  say "== StoreBench $*"
  # Two processes, so the start-up figures come from a process that has not allocated before.
  "$STOREBENCH_BIN" --dir "$BENCH_DIR" --only=startup "$@"
  say ""
  "$STOREBENCH_BIN" --dir "$BENCH_DIR" --only=cranks "$@"
fi

# --- group commit over HTTP ------------------------------------------------------------------
cat >"$work/batch.lua" <<'EOF'
-- One 1-syscall batch per request: a vatstoreSet of key PREFIX<thread>-<n mod KEYS>
-- (KEYS = 0: a new key each time).
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  keys = tonumber(os.getenv("VK_KEYS"))
  wrk.method = "POST"
  wrk.path = "/vats/" .. os.getenv("VK_VAT") .. "/syscalls"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("VK_TOKEN")
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil,
    '{"syscalls":[{"type":"vatstoreSet","key":"' .. os.getenv("VK_PREFIX") .. tid .. '-' .. (keys > 0 and n % keys or n) .. '","value":"v"}]}')
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
EOF

# serve NAME DURABILITY: starts vatkernel on a fresh database and creates the vat wrk writes to.
serve() {
  local name="$1" durability="$2" log="$work/$1.log" _
  "$VATKERNEL_BIN" serve --host 127.0.0.1 --port 0 --db "$work/$name.sqlite" --durability "$durability" >"$log" 2>&1 &
  PID[$name]=$!
  for _ in $(seq 1 100); do
    URL[$name]="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$log" | head -1)"
    [[ -n ${URL[$name]} ]] && break
    sleep 0.1
  done
  [[ -n ${URL[$name]} ]] || die "vatkernel did not start: $(cat "$log")"
  local vat
  vat="$(curl -sS -X POST "${URL[$name]}/vats" --data-binary '{"name":"bench"}')"
  VAT[$name]="$(jq -r .vatID <<<"$vat")"
  TOKEN[$name]="$(jq -r .token <<<"$vat")"
}

crank() { curl -sS "${URL[$1]}/kernel" | jq .crank; }

if part http; then
  say ""
  say "== group commit over HTTP: wrk -t$THREADS -c{$CONNECTIONS} -d${DURATION}s, POST /vats/v1/syscalls with 1 vatstoreSet ($([[ $KEYS -gt 0 ]] && echo "of $KEYS keys per wrk thread" || echo "of a new key each time"))"
  export VK_KEYS="$KEYS"
  serve full full
  serve normal normal
  declare -A RATES P99S
  for r in $(seq 1 "$ROUNDS"); do
    for c in $CONNECTIONS; do
      for name in full normal; do
        export VK_VAT="${VAT[$name]}" VK_TOKEN="${TOKEN[$name]}"
        [[ $r -gt 1 || $c != "${CONNECTIONS%% *}" ]] || \
          VK_PREFIX="warm-" wrk -t"$THREADS" -c"$c" -d1s -s "$work/batch.lua" "${URL[$name]}" >/dev/null
        before="$(crank "$name")"
        out="$(VK_PREFIX="$([[ $KEYS -gt 0 ]] && echo "k" || echo "r$r-c$c-")t" wrk -t"$THREADS" -c"$c" -d"${DURATION}s" --latency -s "$work/batch.lua" "${URL[$name]}")"
        after="$(crank "$name")"
        res="$(sed -n 's/^RESULT //p' <<<"$out")"
        acked="$(jq '.requests - .status' <<<"$res")"
        rate="$(jq -r '(.requests - .status) / (.duration_us / 1e6) | floor' <<<"$res")"
        p99="$(jq -r '.p99_us / 1000' <<<"$res")"
        RATES[$name-$c]+="$rate "
        P99S[$name-$c]+="$p99 "
        say "$(printf 'round %d  --durability %-6s  %3d connections: %6d acknowledged batches/s  p50 %6.2f ms  p99 %6.2f ms  (2xx %d, non-2xx %d, socket errors %d; crank %d → %d)' \
          "$r" "$name" "$c" "$rate" "$(jq '.p50_us / 1000' <<<"$res")" "$p99" "$acked" "$(jq .status <<<"$res")" \
          "$(jq '.connect + .read + .write + .timeout' <<<"$res")" "$before" "$after")"
        (( after - before >= acked )) || say "WARNING: fewer cranks ($((after - before))) than acknowledged batches ($acked)"
      done
    done
  done
  med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
  say ""
  say "| durability | connections | acknowledged batches/s (median) | p99 ms (median) | p99 ms (worst round) |"
  say "|---|---:|---:|---:|---:|"
  for name in full normal; do
    for c in $CONNECTIONS; do
      say "| $name | $c | $(med <<<"${RATES[$name-$c]}") | $(med <<<"${P99S[$name-$c]}") | $(tr ' ' '\n' <<<"${P99S[$name-$c]}" | sort -g | tail -1) |"
    done
  done
  for name in full normal; do
    kill -TERM "${PID[$name]}"; wait "${PID[$name]}" 2>/dev/null || true; unset "PID[$name]"
  done
fi

# --- service start-up on the 1,000,000-object database ---------------------------------------
big="$BENCH_DIR/startup-1000000-objects.sqlite"
if part startup && [[ -f $big ]]; then
  say ""
  say "== vatkernel serve start-up on a copy of $big"
  cp "$big" "$work/startup.sqlite"
  start=$(date +%s.%N)
  "$VATKERNEL_BIN" serve --host 127.0.0.1 --port 0 --db "$work/startup.sqlite" >"$work/startup.log" 2>&1 &
  PID[startup]=$!
  while ! grep -q "listening on" "$work/startup.log"; do
    kill -0 "${PID[startup]}" 2>/dev/null || die "vatkernel did not start: $(cat "$work/startup.log")"
    sleep 0.05
  done
  end=$(date +%s.%N)
  say "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "listening after %.2f s (open, load, audit, tokens)", e - s }'); resident set $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/${PID[startup]}/status")"
fi
say ""
say "== machine at the end: $(uptime)"
