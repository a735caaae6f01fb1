#!/usr/bin/env bash
# Reads off the kernel thread (issue 9 part 3): reader threads answer lists, pages, a vat, one
# object or promise, the queues and the logs from the last committed state, each answer one snapshot with its
# X-Kernel-Crank. Their answers are byte for byte those of the kernel thread (--reader-threads 0)
# on the same database; a GET pipelined behind a POST on one connection sees the POST's change,
# as does a GET sent after the POST's answer; a GET answers while the kernel thread is busy with
# a long group.
source "$(dirname "$0")/lib/common.bash"
command -v python3 >/dev/null || { echo "e2e: python3 is required"; exit 2; }

DB="$E2E_TMP/readers.sqlite"
start_server --run-mode manual --keep-deliveries

declare -A TOK
for name in alice bob carol; do
  do_curl POST /vats "{\"name\":\"$name\"}"
  TOK[$(jqr .vatID)]="$(jqr .token)"
done
do_curl POST /messages "{\"target\":\"ko20\",\"methargs\":$(methargs meet ko21 ko22)}"
do_curl POST /messages "{\"target\":\"ko21\",\"methargs\":$(methargs meet ko20)}"
do_curl POST /kernel/run '{}'
slots=""
for i in $(seq 1 150); do slots+=" o+$i"; done
# shellcheck disable=SC2086  # one argument per slot
do_curl -t "${TOK[v1]}" POST /vats/v1/syscalls "{\"syscalls\":[{\"type\":\"send\",\"target\":\"o-50\",\"methargs\":$(methargs take $slots),\"result\":\"p+1\"},{\"type\":\"subscribe\",\"vpid\":\"p+1\"}]}"
assert_status "alice gives bob 150 objects, asking for an answer" 200
do_curl POST /kernel/run '{}'
do_curl -t "${TOK[v2]}" POST /vats/v2/syscalls '{"syscalls":[{"type":"resolve","resolutions":[{"vpid":"p-60","rejected":false,"data":{"body":"thanks for all of these objects, each and every one of them, truly, thank you so much, all of you","slots":[]}}]},{"type":"dropImports","vrefs":["o-51","o-52"]}]}'
assert_status "bob answers and drops two" 200
do_curl POST /messages "{\"target\":\"ko22\",\"methargs\":$(methargs waits)}"
do_curl POST /objects/ko22/pin
do_curl -t "${TOK[v1]}" POST /vats/v1/deliveries/ack '{"through":1}'

# dump FILE: the raw bytes (status, X-Kernel-Crank, body) of every read a reader serves.
dump() {
  local out="$1" p v
  : >"$out"
  local paths=(/vats "/vats?limit=2" "/vats?after=v1" /objects "/objects?limit=7&after=ko30" "/objects?owner=v1&limit=50"
    "/objects?owner=none" /promises "/promises?decider=v2" "/promises?state=fulfilled" /kernel/run-queue
    /kernel/acceptance-queue /kernel/gc-actions /events "/events?limit=9&after=12" "/events?type=syscall" "/events?kref=ko21"
    "/events?vat=v2&limit=3")
  for v in v1 v2 v3; do
    paths+=("/vats/$v" "/vats/$v/clist" "/vats/$v/clist?limit=40" "/vats/$v/clist?after=ko100&limit=30" "/vats/$v/clist?after=kp40")
  done
  for p in "${paths[@]}"; do
    do_curl GET "$p"
    printf '%s %s %s %s\n' "$p" "$STATUS" "$(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^X-Kernel-Crank:')" "$BODY" >>"$out"
  done
  for v in v1 v2 v3; do
    for p in "/vats/$v/deliveries" "/vats/$v/deliveries?after=1&limit=2"; do
      do_curl -t "${TOK[$v]}" GET "$p"
      printf '%s %s %s %s\n' "$p" "$STATUS" "$(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^X-Kernel-Crank:')" "$BODY" >>"$out"
    done
  done
}

# dump_shows FILE: the same for one object or promise each: roots held by c-lists and pins, one
# also by a queued message, a settled promise, a collected one and never allocated krefs (404).
dump_shows() {
  local out="$1" p
  : >"$out"
  for p in /objects/ko20 /objects/ko21 /objects/ko22 /objects/ko30 /objects/ko9999 /promises/kp40 /promises/kp41 /promises/kp9999; do
    do_curl GET "$p"
    printf '%s %s %s %s\n' "$p" "$STATUS" "$(printf '%s' "$HEADERS" | tr -d '\r' | grep -i '^X-Kernel-Crank:')" "$BODY" >>"$out"
  done
}

echo "== a reader's answers are the kernel thread's, byte for byte"
dump "$E2E_TMP/readers"
dump_shows "$E2E_TMP/readers-shows"
do_curl GET /objects/ko20
assert_eq "GET /objects/ko20 carries the crank it reflects, as the other reader answers do" "200 yes" \
  "$STATUS $(printf '%s' "$HEADERS" | tr -d '\r' | grep -qi '^X-Kernel-Crank: [0-9][0-9]*$' && echo yes || echo no)"
stop_server
start_server --run-mode manual --keep-deliveries --reader-threads 0
dump "$E2E_TMP/kernel"
dump_shows "$E2E_TMP/kernel-shows"
echo "     compared $(wc -l <"$E2E_TMP/readers") answers, $(wc -c <"$E2E_TMP/readers") bytes"
if cmp -s "$E2E_TMP/readers" "$E2E_TMP/kernel"; then
  assert_eq "every read answered by a reader thread equals the kernel thread's answer" same same
else
  diff "$E2E_TMP/readers" "$E2E_TMP/kernel" | head -10 | cut -c1-300
  assert_eq "every read answered by a reader thread equals the kernel thread's answer" same different
fi
assert_eq "the answers carry the crank they reflect" "$(wc -l <"$E2E_TMP/readers")" "$(grep -c 'X-Kernel-Crank: [0-9]' "$E2E_TMP/readers")"
if cmp -s "$E2E_TMP/readers-shows" "$E2E_TMP/kernel-shows"; then
  assert_eq "one object or promise answered by a reader thread equals the kernel thread's answer" same same
else
  diff "$E2E_TMP/readers-shows" "$E2E_TMP/kernel-shows" | head -10 | cut -c1-300
  assert_eq "one object or promise answered by a reader thread equals the kernel thread's answer" same different
fi
# ko22 is carol's root, pinned at creation and once more; kp41 was collected.
assert_eq "they carry their crank too; ko22 shows its 2 pins; ko9999, kp41 and kp9999 are 404; the holders shown are of these kinds" \
  "8 1 3 exporter importer pin queuedEvent" \
  "$(grep -c 'X-Kernel-Crank: [0-9]' "$E2E_TMP/readers-shows") $(grep -c '^/objects/ko22 200 .*"pins":2,' "$E2E_TMP/readers-shows") $(grep -c '^[^ ]* 404 ' "$E2E_TMP/readers-shows") $(grep -o '"kind":"[a-zA-Z]*"' "$E2E_TMP/readers-shows" | cut -d'"' -f4 | sort -u | paste -sd' ')"
stop_server

DB="$E2E_TMP/fresh.sqlite"
start_server
HOSTPORT="${URL#http://}"

echo "== read-your-writes on one connection"
# Pipelined: each POST and the GETs behind it go out in one write, before any answer is read.
out="$(python3 - "$HOSTPORT" <<'PY'
import json, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
f = s.makefile("rb")
def request(method, path, body=None):
    b = json.dumps(body).encode() if body is not None else b""
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n").encode() + b
def answer():
    status = int(f.readline().split()[1]); headers = {}
    while (line := f.readline().strip()):
        k, v = line.decode().split(":", 1); headers[k.lower()] = v.strip()
    return status, headers, json.loads(f.read(int(headers["content-length"])))
bad = 0
for i in range(1, 31):
    s.sendall(request("POST", "/vats", {"name": f"p{i}"}) + request("GET", f"/vats/v{i}") + request("GET", f"/vats?after=v{i - 1}&limit=1" if i > 1 else "/vats?limit=1")
              + request("POST", f"/vats/v{i}/exports", {"vref": "o+7"}) + request("GET", f"/vats/v{i}/clist"))
    (cs, ch, created), (gs, gh, got), (ls, lh, listed), (es, eh, exported), (ks, kh, clist) = [answer() for _ in range(5)]
    ok = (cs, gs, ls, es, ks) == (201, 200, 200, 200, 200) and got["name"] == f"p{i}" and listed["vats"][0]["vatID"] == f"v{i}" \
        and [e["vref"] for e in clist["entries"]] == ["o+0", "o+7"] \
        and int(gh["x-kernel-crank"]) >= int(ch["x-kernel-crank"]) and int(kh["x-kernel-crank"]) >= int(eh["x-kernel-crank"])
    bad += not ok
print("pipelined", bad)
bad = 0
# One request at a time on the same keep-alive connection: each GET goes to a reader thread.
for i in range(31, 61):
    s.sendall(request("POST", "/vats", {"name": f"p{i}"})); cs, ch, created = answer()
    s.sendall(request("GET", f"/vats/{created['vatID']}")); gs, gh, got = answer()
    bad += not (gs == 200 and got["name"] == f"p{i}" and int(gh["x-kernel-crank"]) >= int(ch["x-kernel-crank"]))
print("sequential", bad)
PY
)"
assert_eq "30 rounds of POST, GETs, POST, GET pipelined: every GET sees the change before it" "pipelined 0" "$(printf '%s\n' "$out" | sed -n 1p)"
assert_eq "30 rounds of POST then GET on one keep-alive connection: every GET sees the change" "sequential 0" "$(printf '%s\n' "$out" | sed -n 2p)"

echo "== a read answers while the kernel thread runs a long group"
do_curl GET /kernel
CRANK_BEFORE="$(jqr .crank)"
out="$(python3 - "$HOSTPORT" "$CRANK_BEFORE" <<'PY'
import http.client, json, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
before = int(sys.argv[2])
n = 10000
body = json.dumps({"target": "ko20", "methargs": {"body": ["take", [{"$slot": i} for i in range(n)]],
                   "slots": [f"ko{20 + (i % 30)}" for i in range(n)]}})
done, posts, gets = [], [], []
def writer():
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    for _ in range(2):
        t = time.monotonic()
        c.request("POST", "/messages", body, {"Content-Type": "application/json"}); c.getresponse().read()
        posts.append(time.monotonic() - t)
    done.append(time.monotonic())
threads = [threading.Thread(target=writer) for _ in range(4)]
for t in threads: t.start()
time.sleep(0.5)
r = http.client.HTTPConnection(host, int(port), timeout=120)
answered_during, cranks = 0, set()
while len(done) < len(threads):
    t = time.monotonic()
    r.request("GET", "/vats/v1/clist?limit=1000"); resp = r.getresponse(); resp.read()
    gets.append(time.monotonic() - t)
    if len(done) < len(threads): answered_during += 1
    cranks.add(int(resp.getheader("X-Kernel-Crank")))
    time.sleep(0.02)
for t in threads: t.join()
median = lambda xs: sorted(xs)[len(xs) // 2] * 1000
print(f"     {len(gets)} GETs: median {median(gets):.1f} ms, max {max(gets) * 1000:.1f} ms; POSTs: median {median(posts):.1f} ms; cranks seen {sorted(cranks)}", file=sys.stderr)
print(answered_during >= 20, min(cranks) >= before and len(cranks) >= 2)
PY
)"
assert_eq "c-list pages answer while large sends keep the kernel thread busy, each from a committed crank as they come" "True True" "$out"

echo "== one object answers while the kernel thread runs a long group"
# Its holders are found in the snapshot's rows, so it no longer waits behind the group.
out="$(python3 - "$HOSTPORT" <<'PY'
import http.client, json, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
n = 10000
body = json.dumps({"target": "ko20", "methargs": {"body": ["take", [{"$slot": i} for i in range(n)]],
                   "slots": [f"ko{20 + (i % 30)}" for i in range(n)]}})
done, gets, crank_ok = [], [], []
def writer():
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    for _ in range(2):
        c.request("POST", "/messages", body, {"Content-Type": "application/json"}); c.getresponse().read()
    done.append(time.monotonic())
threads = [threading.Thread(target=writer) for _ in range(4)]
for t in threads: t.start()
time.sleep(0.5)
r = http.client.HTTPConnection(host, int(port), timeout=120)
answered_during = 0
while len(done) < len(threads):
    t = time.monotonic()
    r.request("GET", "/objects/ko20"); resp = r.getresponse(); shown = json.loads(resp.read())
    gets.append(time.monotonic() - t)
    if len(done) < len(threads): answered_during += 1
    crank_ok.append(resp.status == 200 and shown["kref"] == "ko20" and (resp.getheader("X-Kernel-Crank") or "").isdigit())
    time.sleep(0.02)
for t in threads: t.join()
median = lambda xs: sorted(xs)[len(xs) // 2] * 1000
print(f"     {len(gets)} GETs of /objects/ko20: median {median(gets):.1f} ms, max {max(gets) * 1000:.1f} ms", file=sys.stderr)
print(answered_during >= 20, all(crank_ok))
PY
)"
assert_eq "GET /objects/ko20 answers while large sends keep the kernel thread busy, each with its crank" "True True" "$out"
finish
