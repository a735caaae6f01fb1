"""Two-vat ping-pong over HTTP where each driver waits (GET /vats/{v}/deliveries?wait=) instead
of polling (issue 10). Prints p50/p99 of one leg (a delivery appears to a driver -> it answers
with a send -> the delivery appears to the other driver) and of a full round, and how many
requests the server answered while nothing happened (from its /metrics, so a driver that polled
would show); exits 1 if that is more than the two idle waits and the first /metrics read, or if
an idle wait came back early or not empty.

    python3 Benchmarks/pingpong/pingpong.py http://127.0.0.1:PORT [rounds]
"""
import http.client, json, sys, threading, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def conn():
    return http.client.HTTPConnection(url.hostname, url.port)


def call(c, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")


def methargs(method, slots):
    return {"body": [method, [{"$slot": i} for i in range(len(slots))]], "slots": slots}


host = conn()
alice = call(host, "POST", "/vats", {"name": "alice"})[1]["token"]
bob = call(host, "POST", "/vats", {"name": "bob"})[1]["token"]
call(host, "POST", "/messages", {"target": "ko21", "methargs": methargs("meet", ["ko20"])})
call(host, "POST", "/messages", {"target": "ko20", "methargs": methargs("meet", ["ko21"])})

seen = {}  # (vat, round) -> perf_counter when the driver saw the delivery
# Bob serves only once alice has read where her log ends: else his first ping may land before
# her first read, she would wait after it, and both drivers would wait for ever.
ready = threading.Barrier(2)
# The drivers and the main thread meet when the rounds are done; the drivers' idle waits start
# once the main thread has read the server's request count.
rounds_done = threading.Barrier(3)
go_idle = threading.Event()
idle = {}  # vat -> (seconds the idle wait took, deliveries it returned)


def answered_requests():
    """Requests the server has answered, as its /metrics counts them (every route and status)."""
    c = conn()
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("vatkernel_http_request_duration_seconds_count{"))


def driver(vat, token, other_ref, serve_first):
    c = conn()
    after = call(c, "GET", f"/vats/{vat}/deliveries?limit=1000", token=token)[1]["deliveries"][-1]["seq"]
    ready.wait()
    if serve_first:
        call(c, "POST", f"/vats/{vat}/syscalls", {"syscalls": [{"type": "send", "target": other_ref, "methargs": methargs("ping", [])}]}, token)
    n = 0
    while n < ROUNDS:
        page = call(c, "GET", f"/vats/{vat}/deliveries?after={after}&wait=30", token=token)[1]
        for d in page["deliveries"]:
            after = d["seq"]
            seen[(vat, n)] = time.perf_counter()
            n += 1
            if n < ROUNDS or vat == "v1":
                call(c, "POST", f"/vats/{vat}/syscalls", {"syscalls": [{"type": "send", "target": other_ref, "methargs": methargs("ping", [])}]}, token)
    # Idle: one more wait, which nothing answers for 2 s.
    rounds_done.wait()
    go_idle.wait()
    start = time.perf_counter()
    page = call(c, "GET", f"/vats/{vat}/deliveries?after={after}&wait=2", token=token)[1]
    idle[vat] = (time.perf_counter() - start, len(page["deliveries"]))


ta = threading.Thread(target=driver, args=("v1", alice, "o-50", False))
tb = threading.Thread(target=driver, args=("v2", bob, "o-50", True))
ta.start(); tb.start()
rounds_done.wait()
time.sleep(0.2)  # the last answer's own request is counted once it has been sent
before = answered_requests()
go_idle.set()
ta.join(); tb.join()
while_idle = answered_requests() - before

legs = sorted(seen[("v1", i)] - seen[("v2", i - 1)] for i in range(1, ROUNDS) if ("v2", i - 1) in seen) + \
       sorted(seen[("v2", i)] - seen[("v1", i)] for i in range(ROUNDS - 1) if ("v2", i) in seen)
legs.sort()
rounds = sorted(seen[("v2", i + 1)] - seen[("v2", i)] for i in range(ROUNDS - 1) if ("v2", i + 1) in seen)


def pct(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000


print(f"legs {len(legs)}: p50 {pct(legs, 0.5):.3f} ms  p99 {pct(legs, 0.99):.3f} ms")
print(f"rounds {len(rounds)}: p50 {pct(rounds, 0.5):.3f} ms  p99 {pct(rounds, 0.99):.3f} ms")
print(f"idle waits: alice {idle['v1'][0]:.2f} s, {idle['v1'][1]} deliveries; bob {idle['v2'][0]:.2f} s, {idle['v2'][1]} deliveries")
print(f"requests the server answered while idle for 2 s: {while_idle} (the two waits, and the first /metrics read if counted after it)")
if while_idle > 3 or any(t < 1.9 or n != 0 for t, n in idle.values()):
    print("FAILED: a request was made while nothing happened, or an idle wait did not wait")
    sys.exit(1)
