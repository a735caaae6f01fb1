#!/usr/bin/env bash
# HTTP speed of `vatkernel serve` against Hummingbird 2 and bare SwiftNIO (NIOHTTP1) serving the
# same JSON endpoints (issue 3, "Speed"; results in Benchmarks/README.md, "HTTP service").
#
#   Benchmarks/http-bench.sh              # build (release), then measure: about 8 minutes
#   ROUNDS=3 Benchmarks/http-bench.sh     # fewer rounds (at least 3): about 5 minutes
#   NO_BUILD=1 Benchmarks/http-bench.sh   # reuse the release builds already there
#
# What it measures, with wrk -t2 --latency at 10 and 64 connections on 127.0.0.1:
#   GET  /kernel             vatkernel --db :memory:; vatkernel on a SQLite file at
#                            --durability full (GET /kernel never touches the disk: the summary
#                            is kept in memory by the kernel thread); Hummingbird; NIO
#   POST /vats/v1/syscalls   a 3-syscall batch (vatstoreSet, vatstoreGet, vatstoreDelete) with the
#                            vat's bearer token: vatkernel --db :memory:, SQLite file at
#                            --durability full and at normal; the fixed answer of Hummingbird, NIO
# Servers are interleaved (A B C A B C ...) for ROUNDS rounds of DURATION seconds per server;
# the table shows the median req/s and the median p99 latency over the rounds.
#
# Settings (environment): ROUNDS (5), DURATION (5, seconds per server per round),
# CONNECTIONS ("10 64"), THREADS (2, wrk threads), WARMUP (1, seconds per server before round 1),
# RESULTS_DIR (where raw wrk outputs and table.md go; default a new folder under /tmp),
# NO_BUILD (1 to skip the builds), BASE_PORT (18470).
#
# wrk and the servers share the machine's cores: on a 2-core machine, the client takes a large
# part of the CPU, so these are figures for the servers side by side, not their absolute ceiling.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-"10 64"}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-1}
BASE_PORT=${BASE_PORT:-18470}
NO_BUILD=${NO_BUILD:-0}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
compare="$here/HTTPCompare"
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d -t http-bench.XXXXXX)}
mkdir -p "$RESULTS_DIR"
work=$(mktemp -d -t http-bench-work.XXXXXX)

say() { printf '%s\n' "$*" >&2; }
die() { say "http-bench: $*"; exit 1; }

# --- tools -----------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    say "installing wrk"
    if ! apt-get install -y wrk >/dev/null 2>&1; then
        apt-get update >/dev/null && apt-get install -y wrk >/dev/null
    fi
fi
command -v wrk >/dev/null || die "wrk is missing and could not be installed"
command -v curl >/dev/null || die "curl is missing"

# --- builds ----------------------------------------------------------------------------------
if [[ $NO_BUILD != 1 ]]; then
    say "building vatkernel (release)"
    (cd "$root" && swift build -c release --product vatkernel) >&2
    say "building HTTPCompare: hb-server, nio-server (release)"
    (cd "$compare" && swift build -c release) >&2
fi
vatkernel="$root/.build/release/vatkernel"
hb="$compare/.build/release/hb-server"
nio="$compare/.build/release/nio-server"
for binary in "$vatkernel" "$hb" "$nio"; do
    [[ -x $binary ]] || die "$binary is not built (run without NO_BUILD=1)"
done

# --- servers ---------------------------------------------------------------------------------
declare -A port pid
servers_get=(vk-mem vk-full hb nio)
servers_post=(vk-mem vk-full vk-normal hb nio)

cleanup() {
    local name
    for name in "${!pid[@]}"; do
        kill "${pid[$name]}" 2>/dev/null || true
    done
    for name in "${!pid[@]}"; do
        wait "${pid[$name]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

next_port=$BASE_PORT
take_port() {
    while ! port_is_free "$next_port"; do next_port=$((next_port + 1)); done
    echo "$next_port"
    next_port=$((next_port + 1))
}

start() {  # name, command...
    local name=$1
    shift
    port[$name]=$(take_port)
    "$@" --port "${port[$name]}" >"$RESULTS_DIR/$name.log" 2>&1 &
    pid[$name]=$!
    local tries=0
    until curl -sf -o /dev/null "http://127.0.0.1:${port[$name]}/kernel"; do
        tries=$((tries + 1))
        if ((tries > 200)) || ! kill -0 "${pid[$name]}" 2>/dev/null; then
            cat "$RESULTS_DIR/$name.log" >&2
            die "$name did not start"
        fi
        sleep 0.1
    done
}

start vk-mem "$vatkernel" serve --host 127.0.0.1 --db :memory:
start vk-full "$vatkernel" serve --host 127.0.0.1 --db "$work/full.sqlite" --durability full
start vk-normal "$vatkernel" serve --host 127.0.0.1 --db "$work/normal.sqlite" --durability normal
start hb "$hb"
start nio "$nio"

batch='{"syscalls":[{"type":"vatstoreSet","key":"k","value":"v"},{"type":"vatstoreGet","key":"k"},{"type":"vatstoreDelete","key":"k"}]}'
declare -A token
for name in vk-mem vk-full vk-normal; do
    answer=$(curl -sf -XPOST "http://127.0.0.1:${port[$name]}/vats" -H 'Content-Type: application/json' -d '{"name":"bench"}')
    [[ $answer =~ \"vatID\":\"v1\" ]] || die "$name: POST /vats did not create v1: $answer"
    [[ $answer =~ \"token\":\"([0-9a-f]+)\" ]] || die "$name: no token in $answer"
    token[$name]=${BASH_REMATCH[1]}
done
# The comparison servers ignore the token; they get one of the same length, so that every
# request has the same size.
token[hb]=${token[vk-mem]//?/0}
token[nio]=${token[hb]}

for name in "${servers_post[@]}"; do
    cat >"$work/post-$name.lua" <<EOF
wrk.method = "POST"
wrk.body = '$batch'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${token[$name]}"
EOF
done

# Same answers? Print each server's body sizes; the comparison servers send vatkernel's bytes.
say ""
say "answers (bytes of body): GET /kernel | POST /vats/v1/syscalls"
for name in vk-mem vk-full vk-normal hb nio; do
    get=$(curl -sf "http://127.0.0.1:${port[$name]}/kernel")
    post=$(curl -sf -XPOST "http://127.0.0.1:${port[$name]}/vats/v1/syscalls" \
        -H "Authorization: Bearer ${token[$name]}" -H 'Content-Type: application/json' -d "$batch")
    [[ $post == '{"type":"ran","results":[null,"v",null]}' ]] || die "$name: unexpected batch answer: $post"
    say "  $(printf '%-10s %4d | %3d   %s' "$name" "${#get}" "${#post}" "$get")"
done

# --- measuring -------------------------------------------------------------------------------
# wrk's latency to milliseconds: 812.00us, 1.23ms, 1.02s, 1.50m
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

run_wrk() {  # test, server, connections, seconds, output file
    local test=$1 name=$2 c=$3 seconds=$4 out=$5
    local url="http://127.0.0.1:${port[$name]}"
    if [[ $test == get ]]; then
        wrk -t"$THREADS" -c"$c" -d"${seconds}s" --latency "$url/kernel" >"$out" 2>&1
    else
        wrk -t"$THREADS" -c"$c" -d"${seconds}s" --latency -s "$work/post-$name.lua" "$url/vats/v1/syscalls" >"$out" 2>&1
    fi
}

# "req/s p99ms errors" of one wrk output
parse_wrk() {
    local rps p99 errors
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$1")
    p99=$(awk '$1 == "99%" { print $2 }' "$1")
    errors=$(awk '/Non-2xx or 3xx responses:/ { e += $NF }
                  /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
                  END { print e + 0 }' "$1")
    [[ -n $rps && -n $p99 ]] || { echo "0 0 1"; return; }
    echo "$rps $(to_ms "$p99") $errors"
}

say ""
say "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) on $(nproc) cores"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

if ((WARMUP > 0)); then
    say "warm-up: ${WARMUP}s per server and test"
    for name in "${servers_get[@]}"; do run_wrk get "$name" 64 "$WARMUP" /dev/null; done
    for name in "${servers_post[@]}"; do run_wrk post "$name" 64 "$WARMUP" /dev/null; done
fi

cells=$(( (${#servers_get[@]} + ${#servers_post[@]}) * $(wc -w <<<"$CONNECTIONS") ))
say "measuring: $ROUNDS rounds x $cells runs x ${DURATION}s = about $((ROUNDS * cells * DURATION))s"
round_loads=()
for round in $(seq 1 "$ROUNDS"); do
    round_loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    for c in $CONNECTIONS; do
        for test in get post; do
            if [[ $test == get ]]; then list=("${servers_get[@]}"); else list=("${servers_post[@]}"); fi
            for name in "${list[@]}"; do
                out="$RESULTS_DIR/$test-c$c-$name-r$round.txt"
                run_wrk "$test" "$name" "$c" "$DURATION" "$out"
                read -r rps p99 errors < <(parse_wrk "$out")
                say "$(printf '  round %d  %-4s c=%-3s %-10s %10.0f req/s  p99 %8.3f ms%s' \
                    "$round" "$test" "$c" "$name" "$rps" "$p99" "$( ((errors > 0)) && echo "  ERRORS $errors")")"
                echo "$test $c $name $round $rps $p99 $errors" >>"$RESULTS_DIR/runs.txt"
            done
        done
    done
done
elapsed=$(($(date +%s) - started))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table -----------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A med_rps
label() {
    case $1 in
        vk-mem) echo "vatkernel (:memory:)" ;;
        vk-full) echo "vatkernel (SQLite file, full)" ;;
        vk-normal) echo "vatkernel (SQLite file, normal)" ;;
        hb) echo "Hummingbird 2 (fixed answer)" ;;
        nio) echo "SwiftNIO NIOHTTP1 (fixed answer)" ;;
    esac
}
{
    echo "| request | conns | server | req/s (median) | p99 ms (median) | req/s per round | errors |"
    echo "|---|---:|---|---:|---:|---|---:|"
    for test in get post; do
        if [[ $test == get ]]; then list=("${servers_get[@]}"); path="GET /kernel"; else list=("${servers_post[@]}"); path="POST 3-syscall batch"; fi
        for c in $CONNECTIONS; do
            for name in "${list[@]}"; do
                rows=$(awk -v t="$test" -v c="$c" -v n="$name" '$1 == t && $2 == c && $3 == n' "$RESULTS_DIR/runs.txt")
                rps=$(awk '{ print $5 }' <<<"$rows" | median)
                p99=$(awk '{ print $6 }' <<<"$rows" | median)
                errors=$(awk '{ e += $7 } END { print e + 0 }' <<<"$rows")
                each=$(awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $5 }' <<<"$rows")
                med_rps[$test-$c-$name]=$rps
                printf '| %s | %s | %s | %.0f | %.2f | %s | %s |\n' "$path" "$c" "$(label "$name")" "$rps" "$p99" "$each" "$errors"
            done
        done
    done
    echo
    echo "GET /kernel ratios (median req/s; goals: >= 1.5x Hummingbird, >= 0.9x NIO):"
    echo
    for c in $CONNECTIONS; do
        for name in vk-mem vk-full; do
            awk -v c="$c" -v n="$(label "$name")" -v v="${med_rps[get-$c-$name]}" \
                -v h="${med_rps[get-$c-hb]}" -v o="${med_rps[get-$c-nio]}" 'BEGIN {
                rh = v / h; ro = v / o
                printf "- %s conns, %s: %.2fx Hummingbird (%s), %.2fx NIO (%s)\n", c, n,
                    rh, (rh >= 1.5 ? "goal met" : "goal missed"), ro, (ro >= 0.9 ? "goal met" : "goal missed") }'
        done
    done
    echo
    echo "$ROUNDS rounds x ${DURATION}s per server, wrk -t$THREADS --latency, $elapsed s of measuring;"
    echo "load average (1, 5, 15 min) before: $load_before, after: $load_after; 1-min load at the start of each round: ${round_loads[*]}"
    echo "(a run adds about 2 to the load itself: wrk and the server under test share the $(nproc) cores)."
} >"$RESULTS_DIR/table.md"

echo
cat "$RESULTS_DIR/table.md"
echo
echo "raw wrk outputs and table.md: $RESULTS_DIR"
