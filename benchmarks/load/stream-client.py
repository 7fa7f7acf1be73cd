#!/usr/bin/env python3
"""Stream consumer load for run-streams.sh, over keep-alive loopback connections (stdlib only).

    stream-client.py pull  ADMIN_PORT TOKEN EXPECTED [--max 500] [--workers 1] [--group G]
    stream-client.py wake  ADMIN_PORT TOKEN INGRESS_PORT REQUESTS.tsv [--samples 200]
    stream-client.py sse   ADMIN_PORT TOKEN EXPECTED [--group G]

pull: workers lease batches of --max and acknowledge each by its receipt until EXPECTED events were acknowledged;
      prints events/s. Items are counted, not parsed: the client must not be the bottleneck.
wake: a long-poll (wait=10) waits on an empty group; one event is POSTed; the latency from the ingress's 200 to the
      long-poll's answer (and from sending the event) is sampled; prints p50/p99/max in ms.
sse:  one reader on a new group reads until EXPECTED `id:` lines arrived; prints events/s.
"""
import argparse, http.client, json, re, socket, statistics, sys, threading, time

def connect(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c

RECEIPT = re.compile(rb'"receipt":(null|"([^"]+)")')

def pull(a):
    auth = {"Authorization": "Bearer " + a.token}
    done = [0]
    lock = threading.Lock()
    stop = threading.Event()
    def worker():
        c = connect(a.admin_port)
        while not stop.is_set():
            c.request("GET", f"/v1/streams/ledger/events?group={a.group}&max={a.max}&wait=1", headers=auth)
            r = c.getresponse(); body = r.read()
            if r.status != 200: sys.exit(f"events: {r.status} {body[:200]!r}")
            m = RECEIPT.search(body)
            if m.group(1) == b"null":
                with lock:
                    if done[0] >= a.expected: stop.set()
                continue
            n = body.count(b'{"sequence":')
            c.request("POST", "/v1/streams/ledger/ack", body=json.dumps({"group": a.group, "receipt": m.group(2).decode()}), headers=auth)
            r = c.getresponse(); ack = r.read()
            if r.status != 200: sys.exit(f"ack: {r.status} {ack[:200]!r}")
            with lock:
                done[0] += n
                if done[0] >= a.expected: stop.set()
    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads: t.start()
    for t in threads: t.join()
    took = time.monotonic() - start
    print(f"pull: {done[0]} events in {took:.2f} s = {done[0] / took:.0f} events/s (batches of {a.max}, {a.workers} worker(s), lease+ack per batch)")

def wake(a):
    auth = {"Authorization": "Bearer " + a.token}
    lines = open(a.requests).read().splitlines()
    group = f"wake{int(time.time())}"
    c = connect(a.admin_port)
    c.request("GET", f"/v1/streams/ledger/events?group={group}&start=now&max=1", headers=auth); c.getresponse().read()
    from_ack, from_send = [], []
    for i in range(a.samples):
        sig, body = lines[i].split("\t", 1)
        result = {}
        def poll():
            pc = connect(a.admin_port)
            pc.request("GET", f"/v1/streams/ledger/events?group={group}&max=10&wait=10", headers=auth)
            r = pc.getresponse(); b = r.read()
            result["at"] = time.monotonic(); result["n"] = b.count(b'{"sequence":')
            m = RECEIPT.search(b)
            if m and m.group(2):
                pc.request("POST", "/v1/streams/ledger/ack", body=json.dumps({"group": group, "receipt": m.group(2).decode()}), headers=auth)
                pc.getresponse().read()
            pc.close()
        t = threading.Thread(target=poll); t.start()
        time.sleep(0.05)  # the long-poll is waiting now
        ic = connect(a.ingress_port)
        sent = time.monotonic()
        ic.request("POST", "/hooks/stripe", body=body, headers={"Content-Type": "application/json", "Stripe-Signature": sig})
        r = ic.getresponse(); r.read(); acked = time.monotonic(); ic.close()
        if r.status != 200: sys.exit(f"ingress: {r.status}")
        t.join()
        if result.get("n") != 1: sys.exit(f"the long-poll returned {result.get('n')} events")
        from_ack.append(max(0.0, result["at"] - acked) * 1000); from_send.append((result["at"] - sent) * 1000)
    def q(xs, p): return sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
    print(f"wake: {a.samples} samples; long-poll answered after the ingress 200: p50 {q(from_ack, .5):.2f} ms, p99 {q(from_ack, .99):.2f} ms, max {max(from_ack):.2f} ms; "
          f"after sending the event (its commit included): p50 {q(from_send, .5):.2f} ms, p99 {q(from_send, .99):.2f} ms")

def sse(a):
    s = socket.create_connection(("127.0.0.1", a.admin_port))
    s.sendall(f"GET /v1/streams/ledger/sse?group={a.group} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {a.token}\r\n\r\n".encode())
    start = time.monotonic(); seen = 0; partial = b""
    while seen < a.expected:
        chunk = s.recv(1 << 20)
        if not chunk: sys.exit("the server closed the stream")
        lines = (partial + chunk).split(b"\n")
        partial = lines.pop()
        seen += sum(1 for line in lines if line.startswith(b"id: "))
    took = time.monotonic() - start
    s.close()
    print(f"sse: {seen} events in {took:.2f} s = {seen / took:.0f} events/s to one reader")

p = argparse.ArgumentParser()
sub = p.add_subparsers(dest="cmd", required=True)
for name in ("pull", "sse"):
    s = sub.add_parser(name); s.add_argument("admin_port", type=int); s.add_argument("token"); s.add_argument("expected", type=int)
    s.add_argument("--group", default=f"{name}{int(time.time())}")
    if name == "pull":
        s.add_argument("--max", type=int, default=500); s.add_argument("--workers", type=int, default=1)
w = sub.add_parser("wake"); w.add_argument("admin_port", type=int); w.add_argument("token"); w.add_argument("ingress_port", type=int)
w.add_argument("requests"); w.add_argument("--samples", type=int, default=200)
a = p.parse_args()
{"pull": pull, "wake": wake, "sse": sse}[a.cmd](a)
