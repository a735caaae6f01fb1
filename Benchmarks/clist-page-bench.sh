#!/usr/bin/env bash
# Issue 9 part 3: the cost of one c-list page in a vat with 200,000 c-list entries (exports sent
# to another vat), against the 12 MB, ~1 s unpaged answer of before. Builds nothing: run
# `swift build -c release --product vatkernel` first (or set BIN). Figures: Benchmarks/README.md.
set -u
BIN="${BIN:-$(cd "$(dirname "$0")/.." && pwd)/.build/release/vatkernel}"
T=$(mktemp -d -t clist-page-bench.XXXX)
"$BIN" serve --host 127.0.0.1 --port 0 --db "$T/k.sqlite" >"$T/log" 2>&1 &
PID=$!
for i in $(seq 1 100); do URL="$(sed -n 's/^vatkernel: listening on \(http:[^ ]*\).*/\1/p' "$T/log" | head -1)"; [ -n "$URL" ] && break; sleep 0.1; done
A=$(curl -s -XPOST "$URL/vats" -d '{"name":"a"}' | jq -r .token)
curl -s -XPOST "$URL/vats" -d '{"name":"b"}' >/dev/null
curl -s -XPOST "$URL/messages" -d '{"target":"ko20","methargs":{"body":["meet",[{"$slot":0}]],"slots":["ko21"]}}' >/dev/null
for chunk in 0 1 2 3 4 5 6 7 8 9; do
  python3 - "$chunk" > "$T/send.json" <<'PY'
import json,sys
c=int(sys.argv[1]); n=20000
slots=[f"o+{c*n+i+1}" for i in range(n)]
body=["take",[{"$slot":i} for i in range(n)]]
print(json.dumps({"syscalls":[{"type":"send","target":"o-50","methargs":{"body":body,"slots":slots}}]}))
PY
  curl -s -o /dev/null -w '%{http_code} ' -XPOST "$URL/vats/v1/syscalls" -H "Authorization: Bearer $A" --data-binary "@$T/send.json"
done
echo
curl -s "$URL/vats/v1" | jq -c '{clistSize}'
for q in "" "?limit=1000" "?after=ko100000&limit=1000" "?after=ko200000&limit=1000"; do
  curl -s -o "$T/page.json" -w "GET /vats/v1/clist$q: %{http_code} %{size_download} bytes %{time_total} s\n" "$URL/vats/v1/clist$q"
done
for r in 1 2 3; do curl -s -o /dev/null -w "again ?limit=1000: %{time_total} s\n" "$URL/vats/v1/clist?limit=1000"; done
kill -TERM $PID; wait $PID
rm -rf "$T"
