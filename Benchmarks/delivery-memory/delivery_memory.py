"""Memory and database size under sustained traffic (issue 9 part 2).

Starts `vatkernel serve` on 127.0.0.1 with --port 0 and a fresh database, creates alice and bob,
introduces them, and then runs two drivers in turn on keep-alive connections: alice posts one
syscall batch of BATCH sends to bob's root (BATCH deliveries to bob), bob reads his new
deliveries (GET /vats/v2/deliveries?after=), acknowledges them (POST .../deliveries/ack) and
answers with BATCH sends to alice's root, which alice reads and acknowledges in the same way.
At each checkpoint it prints the server's VmRSS (from /proc/PID/status), the database and -wal
sizes, and the rate since the previous checkpoint. Stops the server with SIGTERM at the end,
restarts it on the same database and prints how long it took to answer /readyz.

    python3 Benchmarks/delivery-memory/delivery_memory.py BIN [--total N] [--batch B] [--keep] [--db PATH]
        [--retention 2000cranks] [--durability normal] [-- extra serve flags]
"""
import argparse, http.client, json, os, re, signal, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("bin")
ap.add_argument("--total", type=int, default=1_000_000)
ap.add_argument("--batch", type=int, default=200)
ap.add_argument("--keep", action="store_true", help="serve with --keep-deliveries (acks recorded, log kept)")
ap.add_argument("--db")
ap.add_argument("--retention", default="2000cranks")
ap.add_argument("--durability", default="normal")
ap.add_argument("extra", nargs="*")
a = ap.parse_args()

db = a.db or os.path.join(tempfile.mkdtemp(prefix="vk-mem-"), "mem.sqlite")
checkpoints = sorted({n for n in (10_000, 50_000, 100_000, 200_000, 300_000, 500_000, 750_000, 1_000_000, a.total) if n <= a.total})


def start():
    args = [a.bin, "serve", "--host", "127.0.0.1", "--port", "0", "--db", db,
            "--durability", a.durability, "--event-retention", a.retention] + (["--keep-deliveries"] if a.keep else []) + a.extra
    log = open(db + ".log", "a")
    start_at = os.path.getsize(db + ".log")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    t0 = time.perf_counter()
    while True:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", open(db + ".log").read()[start_at:])
        if m:
            port = int(m.group(1))
            break
        if p.poll() is not None:
            sys.exit("server did not start: " + open(db + ".log").read())
        time.sleep(0.01)
    c = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        c.request("GET", "/readyz")
        r = c.getresponse()
        r.read()
        if r.status == 200:
            break
        time.sleep(0.01)
    return p, port, time.perf_counter() - t0


def call(c, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    c.request(method, path, body=json.dumps(body, separators=(",", ":")) if body is not None else None, headers=headers)
    r = c.getresponse()
    data = r.read()
    if r.status // 100 != 2:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data or b"null")


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def methargs(method, slots):
    return {"body": [method, [{"$slot": i} for i in range(len(slots))]], "slots": slots}


server, port, _ = start()
host = http.client.HTTPConnection("127.0.0.1", port)
va = call(host, "POST", "/vats", {"name": "alice"})
vb = call(host, "POST", "/vats", {"name": "bob"})
call(host, "POST", "/messages", {"target": vb["rootKref"], "methargs": methargs("meet", [va["rootKref"]])})
call(host, "POST", "/messages", {"target": va["rootKref"], "methargs": methargs("meet", [vb["rootKref"]])})


class Driver:
    def __init__(self, vat):
        self.id, self.token = vat["vatID"], vat["token"]
        self.c = http.client.HTTPConnection("127.0.0.1", port)
        self.after = 0
        self.handled = 0

    def handle(self):
        """Reads every delivery after the last handled one, page by page, and acknowledges them."""
        n = 0
        while True:
            page = call(self.c, "GET", f"/vats/{self.id}/deliveries?after={self.after}&limit=1000", token=self.token)
            for d in page["deliveries"]:
                self.after = d["seq"]
                n += 1
            if page["next"] is None:
                break
        if n:
            call(self.c, "POST", f"/vats/{self.id}/deliveries/ack", {"through": self.after}, self.token)
        self.handled += n
        return n

    def send(self, count):
        s = {"type": "send", "target": "o-50", "methargs": methargs("ping", [])}
        call(self.c, "POST", f"/vats/{self.id}/syscalls", {"syscalls": [s] * count}, self.token)


alice, bob = Driver(va), Driver(vb)
alice.handle(); bob.handle()  # startVat and meet
base = alice.handled + bob.handled
print(f"db {db}; batch {a.batch}; keep-deliveries {a.keep}; durability {a.durability}; event retention {a.retention}")
print(f"{'deliveries':>10} {'VmRSS MiB':>10} {'db MiB':>8} {'wal MiB':>8} {'db+wal MiB':>10} {'deliv/s':>8} {'bob log':>8}")
print(f"{0:>10} {rss_kib(server.pid)/1024:>10.1f} {size(db)/2**20:>8.1f} {size(db + '-wal')/2**20:>8.1f} {(size(db)+size(db + '-wal'))/2**20:>10.1f}")
t_last, n_last = time.perf_counter(), 0
next_cp = 0
while True:
    done = alice.handled + bob.handled - base
    if next_cp < len(checkpoints) and done >= checkpoints[next_cp]:
        now = time.perf_counter()
        # A connection of its own each time: the host's would sit idle past the idle timeout.
        log = call(http.client.HTTPConnection("127.0.0.1", port), "GET", f"/vats/{bob.id}")["deliveryCount"]
        print(f"{done:>10} {rss_kib(server.pid)/1024:>10.1f} {size(db)/2**20:>8.1f} {size(db + '-wal')/2**20:>8.1f} "
              f"{(size(db)+size(db + '-wal'))/2**20:>10.1f} {(done - n_last)/(now - t_last):>8.0f} {log:>8}", flush=True)
        t_last, n_last = now, done
        next_cp += 1
    if done >= a.total:
        break
    alice.send(a.batch); bob.handle()
    bob.send(a.batch); alice.handle()

peak = [l for l in open(f"/proc/{server.pid}/status") if l.startswith("VmHWM:")][0].split()[1]
print(f"peak VmHWM {int(peak)/1024:.1f} MiB")
server.send_signal(signal.SIGTERM)
server.wait()
server, port, took = start()
print(f"restart on the same database: ready in {took*1000:.0f} ms, VmRSS {rss_kib(server.pid)/1024:.1f} MiB")
server.send_signal(signal.SIGTERM)
server.wait()
