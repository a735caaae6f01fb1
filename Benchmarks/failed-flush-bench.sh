#!/usr/bin/env bash
# Issue 9 part 5: what a 503 from a failed flush (a really full disk) costs with 400,000
# deliveries stored: the group undone in memory (the default) against the whole state reloaded
# from the store (`--max-group-undo 0`, which is what every failed flush did before). Also: a
# batch of reads on the same full disk. Needs root (it mounts a tmpfs, the full disk), sqlite3,
# jq, python3. Builds nothing: run `swift build -c release --scratch-path .build-rel --product
# vatkernel` first (or set BIN). Figures: Benchmarks/README.md.
#   DELIVERIES (default 400000)  KEYS vatstore keys bob also keeps (default 0)
#   FAILURES failed requests per mode (default 20)
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${BIN:-$ROOT/.build-rel/release/vatkernel}"
DELIVERIES="${DELIVERIES:-400000}"
FAILURES="${FAILURES:-20}"
KEYS="${KEYS:-0}"
T=$(mktemp -d -t failed-flush-bench.XXXX)
MNT="$T/mnt"
mkdir "$MNT"
DB="$T/k.sqlite"
PID=
cleanup() {
  [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID"
  mountpoint -q "$MNT" && umount "$MNT"
  rm -rf "$T"
}
trap cleanup EXIT

start() {  # start [flags...]: the server on $DB, its URL in $URL
  : >"$T/log"
  "$BIN" serve --host 127.0.0.1 --port 0 --db "$DB" "$@" >"$T/log" 2>&1 &
  PID=$!
  URL=
  for _ in $(seq 1 600); do
    URL="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$T/log" | head -1)"
    [ -n "$URL" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && break
    sleep 0.1
  done
}
stop() { kill -TERM "$PID"; wait "$PID"; PID=; }
mib() { awk -v k="$(grep "^$1:" /proc/"$PID"/status | awk '{print $2}')" 'BEGIN { printf "%.1f", k / 1024 }'; }

# The state: alice sends bob DELIVERIES messages, 10,000 per batch; bob never acknowledges, so
# every delivery stays stored.
start
A=$(curl -s -XPOST "$URL/vats" -d '{"name":"alice"}' | jq -r .token)
B=$(curl -s -XPOST "$URL/vats" -d '{"name":"bob"}' | jq -r .token)
curl -s -o /dev/null -XPOST "$URL/messages" -d '{"target":"ko20","methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko21"]}}'
python3 -c 'import json; print(json.dumps({"syscalls":[{"type":"send","target":"o-50","methargs":{"body":["ping",[]],"slots":[]}}]*10000}))' >"$T/batch.json"
for _ in $(seq 1 $((DELIVERIES / 10000))); do
  curl -s -o /dev/null -XPOST "$URL/vats/v1/syscalls" -H "Authorization: Bearer $A" --data-binary "@$T/batch.json"
done
for c in $(seq 0 $((KEYS / 10000 - 1))); do
  python3 -c 'import json,sys; c=int(sys.argv[1]); print(json.dumps({"syscalls":[{"type":"vatstoreSet","key":"key%07d" % (c*10000+i),"value":"v"*32} for i in range(10000)]}))' "$c" >"$T/keys.json"
  curl -s -o /dev/null -XPOST "$URL/vats/v2/syscalls" -H "Authorization: Bearer $B" --data-binary "@$T/keys.json"
done
echo "stored: bob's vatstore keys $KEYS, bob's deliveries $(curl -s "$URL/vats/v2" | jq .deliveryCount), database $(du -m "$DB" | cut -f1) MiB"
stop
# The full disk: a tmpfs just larger than the database, which moves there.
size=$(( $(du -m "$DB" | cut -f1) + 64 ))
mount -t tmpfs -o size=${size}m tmpfs "$MNT" || { echo "cannot mount a tmpfs (root needed)"; exit 1; }
for f in "$DB" "$DB-wal"; do [ -f "$f" ] && mv "$f" "$MNT/"; done
rm -f "$DB-shm"
DB="$MNT/k.sqlite"

for mode in undo reload; do
  if [ $mode = undo ]; then start; else start --max-group-undo 0; fi
  rss_loaded=$(mib VmRSS); hwm_loaded=$(mib VmHWM)
  # A really full disk: the write-ahead log emptied (so no frame can be rewritten in place),
  # then every free block of the file system taken.
  sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
  dd if=/dev/zero of="$MNT/filler" bs=1M 2>/dev/null
  dd if=/dev/zero of="$MNT/filler2" bs=4k 2>/dev/null
  : >"$T/times"
  for i in $(seq 1 "$FAILURES"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -XPOST "$URL/messages" \
      -d "{\"target\":\"ko21\",\"methargs\":{\"body\":[\"lost$i\",[]],\"slots\":[]}}" >>"$T/times"
  done
  read_answer=$(curl -s -w ' %{http_code} %{time_total}' -XPOST "$URL/vats/v2/syscalls" -H "Authorization: Bearer $B" \
    -d '{"syscalls":[{"type":"vatstoreGet","key":"k"},{"type":"vatstoreGetNextKey","priorKey":""}]}')
  statuses=$(cut -d' ' -f1 "$T/times" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
  ms=$(cut -d' ' -f2 "$T/times" | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "min %.1f  median %.1f  max %.1f", t[1], t[int((NR + 1) / 2)], t[NR] }')
  echo "$mode: $FAILURES failed sends: ${statuses}ms per 503: $ms"
  echo "$mode: RSS after load $rss_loaded MiB, after the 503s $(mib VmRSS) MiB; peak (VmHWM) after load $hwm_loaded MiB, after the 503s $(mib VmHWM) MiB"
  echo "$mode: a batch of reads on the full disk: $read_answer"
  echo "$mode: kernel after: $(curl -s "$URL/kernel" | jq -c '{crank, runQueue: .queues.run, acceptance: .queues.acceptance}'), bob's deliveries $(curl -s "$URL/vats/v2" | jq .deliveryCount)"
  echo "$mode: whole-state reloads logged: $(grep -c 'reloading the state from the store' "$T/log")"
  rm -f "$MNT/filler" "$MNT/filler2"
  stop
done
