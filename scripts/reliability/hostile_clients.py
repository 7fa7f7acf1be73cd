#!/bin/sh
""":"
# Shell preamble (Python skips it): a fresh Debian machine may lack python3; install it, then run this file as Python.
command -v python3 >/dev/null 2>&1 || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 >/dev/null; } || exit 1
exec python3 "$0" "$@"
":"

Hostile clients test (issue 6, reliability: slow and hostile clients): slow and malicious clients neither hold the ingress hostage,
get anything stored, nor slow down a legitimate provider.

A gateway is started with a temporary config (loopback, free ports, `idle_timeout_seconds = 2`,
`request_timeout_seconds = 3`, one Standard Webhooks source). A legitimate client sends validly signed events at a
steady pace for the whole run; every one must be answered 200 within 2 s. Meanwhile, concurrently, the attacks below
run over raw sockets. For each, what the gateway did is recorded (status and reason, connection closed or reset, or
still open after N s) and must be a 4xx or the connection closed, within the configured timeouts: never a 2xx,
never a 5xx, never a hang. Hostile requests that carry a valid signature use IDs `evt_hostile_*`; afterwards the
store (table `events`) must hold exactly the legitimate events.

What bounds each attack (the gateway's configuration keys, or the fixed limits of SwiftNIO's HTTP/1.1 decoder,
llhttp, which the ingress uses with its defaults):

  attack                         bounded by
  slowloris (headers trickled)   `[server] request_timeout_seconds`, counted from the head's first byte (408, closed)
  slow body / slow chunks        `[server] request_timeout_seconds` (408 request_timeout, connection closed)
  idle connections               `[server] idle_timeout_seconds` (closed); their number by `[server] max_connections`,
                                 kept 256 below the process's descriptor limit
  connections up to the fd limit nothing: a second gateway started with `ulimit -n` FD_LIMIT has every descriptor
                                 taken by trickling connections; it must stay up and keep serving a provider
                                 connection opened before (new connections may honestly wait or fail)
  header flood, huge header      NIO decoder defaults: 80 KB per field, 80 KB for all fields, 65,534 fields (400)
  invalid chunked encoding,      llhttp's strict parsing (400 from NIO's HTTPServerProtocolErrorHandler, empty body,
  smuggling patterns, garbage    connection closed)
  oversized Content-Length       `[sources.NAME] max_body_bytes` (413 body_too_large before any body is read)
  early 413, client writes all   lingering close: the gateway half-closes and drops up to 8 MiB / 5 s of the rest, so a
                                 client that writes its whole body before reading (urllib) reads the 413, not a reset
  admin: 200 MB unauthenticated  the admin listener checks the token on the head: 401 before any body is read; the
                                 gateway's resident memory must not grow by the body's size
  admin: half a request head     `[server] request_timeout_seconds` and `idle_timeout_seconds` on the admin listener

    scripts/hostile-clients
    INLET_BIN=/path/to/inlet IDLE_CONNS=2000 scripts/hostile-clients

Env: INLET_BIN (default .build/release/inlet, built if missing) · IDLE_CONNS (10000, capped by the file descriptor
limit after raising it) · SLOW_CONNS (100 slowloris connections) · FD_LIMIT (512: the second gateway's open-file
limit) · FD_SECONDS (10; 0 skips that phase) · LEGIT_RATE (25 events/s) · LEGIT_BUDGET (2 s)
· KEEP=1 (keep the work dir). Runs in about 25 s (40 s with a debug build). Exit status 1 on any failed check. Python 3 standard library only.
"""
import collections, http.client, json, os, re, resource, select, socket, sqlite3, subprocess, sys, tempfile, threading
import time

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROOT, Gateway, check_config, free_port, inlet_binary, logger, percentiles, raw_request,
                      signed_headers, whsec)

IDLE_TIMEOUT, REQUEST_TIMEOUT = 2, 3
# Longest the gateway may take to answer or close a hostile connection, from its last byte (or from its first byte
# for trickled requests): both timeouts, plus scheduling slack.
HANG_LIMIT = REQUEST_TIMEOUT + IDLE_TIMEOUT + 1.5
IDLE_CONNS = int(os.environ.get("IDLE_CONNS", 10000))
SLOW_CONNS = int(os.environ.get("SLOW_CONNS", 100))
LEGIT_RATE = float(os.environ.get("LEGIT_RATE", 25))
LEGIT_BUDGET = float(os.environ.get("LEGIT_BUDGET", 2.0))
FD_LIMIT = int(os.environ.get("FD_LIMIT", 512))
FD_SECONDS = float(os.environ.get("FD_SECONDS", 10))
KEEP = os.environ.get("KEEP") == "1"
SOURCE = "hostile"
ADMIN_TOKEN = "hostile-admin-token"
ADMIN_PORT = None  # the main gateway's admin listener
PATH = f"/hooks/{SOURCE}"
log = logger("hostile-clients")


# --- what came back ------------------------------------------------------------------------------------------------------
def parse_responses(data):
    """[(status, reason)] of the HTTP responses in `data`; reason is the JSON `reason`/`status`, or '(empty body)'."""
    out = []
    while True:
        m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n(.*?)\r\n\r\n", data, re.S)
        if not m:
            break
        headers = m.group(2).decode(errors="replace").lower()
        cl = re.search(r"content-length:\s*(\d+)", headers)
        n = int(cl.group(1)) if cl else 0
        body = data[m.end():m.end() + n]
        data = data[m.end() + n:]
        try:
            j = json.loads(body)
            reason = j.get("reason") or j.get("status") or body.decode()
        except ValueError:
            reason = body[:60].decode(errors="replace") or "(empty body)"
        out.append((int(m.group(1)), reason))
    return out


class Outcome:
    """What the gateway did with one hostile connection."""

    def __init__(self):
        self.data = b""
        self.end = None        # "closed" | "reset" | "open"
        self.after = None      # seconds from the reference time to the close (or to giving up)

    def summary(self):
        rs = parse_responses(self.data)
        answer = ", ".join(f"{s} {r}" for s, r in rs) or "no response"
        return f"{answer}; {self.end} after {self.after:.1f} s"

    def statuses(self):
        return [s for s, _ in parse_responses(self.data)]


def readable(sock, timeout):
    """Whether `sock` has something to read within `timeout` seconds. poll, not select: while the idle flood holds
    thousands of connections, descriptor numbers pass select's limit of 1024."""
    p = select.poll()
    p.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(p.poll(timeout * 1000))


def read_some(sock, o):
    """Reads what arrived within 0.1 s into `o.data`; True once the peer closed or reset (recorded in `o.end`)."""
    if not readable(sock, 0.1):
        return False
    try:
        chunk = sock.recv(65536)
    except OSError:
        o.end = "reset"
        return True
    if not chunk:
        o.end = "closed"
        return True
    o.data += chunk
    return False


def exchange(payload, wait=HANG_LIMIT, port=None):
    """Sends `payload` (from a thread, so an early answer and close are seen even mid-send), then reads until the
    gateway closes or `wait` seconds pass after the last byte was sent."""
    o = Outcome()
    s = socket.create_connection(("127.0.0.1", port or PORT), timeout=10)
    sent = threading.Event()
    t0 = time.monotonic()

    def send():
        try:
            s.sendall(payload)
        except OSError:
            pass
        sent.set()

    threading.Thread(target=send, daemon=True).start()
    deadline = None
    while True:
        if deadline is None and sent.is_set():
            deadline = time.monotonic() + wait
        if deadline is not None and time.monotonic() > deadline:
            o.end = "open"
            break
        if read_some(s, o):  # the socket stays blocking for the sender, so it waits with poll
            break
    o.after = time.monotonic() - t0
    s.close()
    return o


# --- the legitimate provider -----------------------------------------------------------------------------------------
class LegitClient(threading.Thread):
    """A provider sending validly signed events (`evt_legit_*`) at LEGIT_RATE over a keep-alive connection."""

    def __init__(self, key):
        super().__init__(daemon=True)
        self.key = key
        self.stopped = threading.Event()
        self.latencies, self.failures, self.acked = [], [], set()
        self.retries = 0
        self.slowest = (0.0, 0.0)  # (latency, when it was sent)

    def run(self):
        conn, n, next_at = None, 0, time.monotonic()
        while not self.stopped.is_set():
            next_at += 1 / LEGIT_RATE
            time.sleep(max(0.0, next_at - time.monotonic()))
            n += 1
            msg_id = f"evt_legit_{n:06d}"
            body = json.dumps({"type": "invoice.paid", "id": msg_id, "data": {"n": n}}).encode()
            t0 = time.monotonic()
            for attempt in (1, 2):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=LEGIT_BUDGET + 3)
                    conn.request("POST", PATH, body, signed_headers(self.key, msg_id, body))
                    resp = conn.getresponse()
                    answer = resp.read()
                    break
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = None
                    # A keep-alive connection closed by the server just as it was reused is retried once, as any
                    # HTTP client would; a second failure counts.
                    if attempt == 2 or not isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
                        resp, answer = None, repr(e).encode()
                        break
                    self.retries += 1
            took = time.monotonic() - t0
            self.latencies.append(took)
            self.slowest = max(self.slowest, (took, t0))
            if resp is None or resp.status != 200:
                self.failures.append(f"{msg_id}: {resp.status if resp else 'no answer'} {answer[:100]!r} after {took:.2f} s")
            else:
                self.acked.add(msg_id)
                if took > LEGIT_BUDGET:
                    self.failures.append(f"{msg_id}: 200 but after {took:.2f} s (budget {LEGIT_BUDGET:g} s)")
            if resp is not None and resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None


# --- the attacks ------------------------------------------------------------------------------------------------------
def signed_request(key, msg_id, extra_headers=None, body=None):
    body = body or json.dumps({"type": "invoice.paid", "id": msg_id}).encode()
    h = signed_headers(key, msg_id, body)
    h["Content-Length"] = str(len(body))
    h.update(extra_headers or {})
    return raw_request(PATH, h, body)


def burst_attacks(key):
    """(name, bytes sent): requests sent at once. Every smuggling case hides a complete, validly signed request
    (`evt_hostile_smuggled_*`) where one reading of the framing sees the next request; the outer request is unsigned,
    so only a parser that splits the stream there could answer 2xx."""
    inner = lambda tag: signed_request(key, f"evt_hostile_smuggled_{tag}", {"Connection": "close"})
    host = b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    attacks = []

    def cl_te(tag, te_lines):
        tail = b"0\r\n\r\n" + inner(tag)
        attacks.append((f"smuggling: Content-Length + {tag}",
                        host + b"Content-Length: %d\r\n" % len(tail) + te_lines + b"\r\n" + tail))

    cl_te("Transfer-Encoding: chunked", b"Transfer-Encoding: chunked\r\n")
    cl_te("TE: xchunked", b"Transfer-Encoding: xchunked\r\n")
    cl_te("TE: ' chunked' (extra space)", b"Transfer-Encoding:  chunked\r\n")
    cl_te("TE: tab before chunked", b"Transfer-Encoding:\tchunked\r\n")
    cl_te("'Transfer-Encoding :' (space before colon)", b"Transfer-Encoding : chunked\r\n")
    cl_te("' Transfer-Encoding' (leading space)", b" Transfer-Encoding: chunked\r\n")
    cl_te("TE: obs-fold 'x\\r\\n chunked'", b"Transfer-Encoding: x\r\n chunked\r\n")
    cl_te("TE: chunked, identity", b"Transfer-Encoding: chunked, identity\r\n")
    cl_te("TE: CHUNKED (upper case)", b"Transfer-Encoding: CHUNKED\r\n")
    cl_te("two TE headers (chunked, x)", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n")
    cl_te("TE: chunked with bare LF", b"Transfer-Encoding: chunked\n")
    # TE.CL: a front end using Content-Length: 4 would see the inner request after "NN\r\n".
    chunk = inner("te.cl")
    attacks.append(("smuggling: TE chunked + Content-Length: 4 (TE.CL)",
                    host + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n"))
    second = inner("2cl")
    attacks.append(("smuggling: two Content-Length (0 and N)",
                    host + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n" % len(second) + second))
    attacks.append(("smuggling: two Content-Length (N and 0)",
                    host + b"Content-Length: %d\r\nContent-Length: 0\r\n\r\n" % len(second) + second))
    attacks.append(("smuggling: Content-Length '0, N' list", host + b"Content-Length: 0, %d\r\n\r\n" % len(second) + second))
    attacks.append(("smuggling: Content-Length '+N'", host + b"Content-Length: +%d\r\n\r\n" % len(second) + second))
    # Invalid chunked encoding, on a validly signed request (so only the framing is wrong).
    body = json.dumps({"type": "invoice.paid", "id": "evt_hostile_chunked"}).encode()
    h = signed_headers(key, "evt_hostile_chunked_hex", body)
    h["Transfer-Encoding"] = "chunked"
    attacks.append(("invalid chunked: size 'zz' (bad hex)", raw_request(PATH, h, b"zz\r\n" + body + b"\r\n0\r\n\r\n")))
    h = signed_headers(key, "evt_hostile_chunked_crlf", body)
    h["Transfer-Encoding"] = "chunked"
    attacks.append(("invalid chunked: no CRLF after chunk data",
                    raw_request(PATH, h, b"%x\r\n" % len(body) + body + b"0\r\n\r\n")))
    h = signed_headers(key, "evt_hostile_chunked_short", body)
    h["Transfer-Encoding"] = "chunked"
    attacks.append(("invalid chunked: size larger than the data sent",
                    raw_request(PATH, h, b"%x\r\n" % (len(body) + 100) + body + b"\r\n0\r\n\r\n")))
    h = signed_headers(key, "evt_hostile_chunked_ovf", body)
    h["Transfer-Encoding"] = "chunked"
    attacks.append(("invalid chunked: size overflow (ffffffffffffffffff)",
                    raw_request(PATH, h, b"ffffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n")))
    # Header floods. Within the decoder's limits a flood is a well-formed request: unsigned, it must be refused
    # (401) after the gateway read it all. Over the limits it is signed, to show the parser stops it before admission.
    attacks.append(("header flood: 3000 headers (45 KB, unsigned)",
                    host + b"".join(b"X-Flood-%d: v\r\n" % i for i in range(3000)) + b"Content-Length: 0\r\n\r\n"))
    attacks.append(("header flood: 20000 headers (250 KB, signed)", signed_request(
        key, "evt_hostile_flood", {f"X-Flood-{i}": "v" for i in range(20000)})))
    attacks.append(("huge header value: 1 MB (signed)", signed_request(key, "evt_hostile_huge", {"X-Huge": "a" * (1 << 20)})))
    attacks.append(("huge header name: 100 KB (signed)", signed_request(key, "evt_hostile_hugename", {"X" * 100_000: "v"})))
    # Oversized or nonsensical declared lengths.
    attacks.append(("oversized Content-Length (100 GB), no body", host + b"Content-Length: 100000000000\r\n\r\n"))
    attacks.append(("oversized Content-Length (max_body_bytes + 1)", host + b"Content-Length: 1048577\r\n\r\n" + b"a" * 4096))
    attacks.append(("Content-Length overflow (25 digits)", host + b"Content-Length: 9999999999999999999999999\r\n\r\n"))
    attacks.append(("Content-Length: -1", host + b"Content-Length: -1\r\n\r\n"))
    attacks.append(("oversized chunked body (2 MB streamed)", host + b"Transfer-Encoding: chunked\r\n\r\n"
                    + (b"10000\r\n" + b"a" * 0x10000 + b"\r\n") * 32 + b"0\r\n\r\n"))
    # Garbage request lines.
    attacks.append(("garbage: TLS ClientHello bytes", bytes.fromhex("16030100a5010000a10303") + os.urandom(160)))
    attacks.append(("garbage: 'HELLO WORLD'", b"HELLO WORLD\r\n\r\n"))
    attacks.append(("garbage: 64 KB of random bytes", os.urandom(65536)))
    attacks.append(("garbage: HTTP/0.9 'GET /'", b"GET " + PATH.encode() + b"\r\n\r\n"))
    attacks.append(("garbage: HTTP/9.9", b"POST " + PATH.encode() + b" HTTP/9.9\r\nContent-Length: 0\r\n\r\n"))
    attacks.append(("garbage: 100 KB URI", b"POST /" + b"a" * 100_000 + b" HTTP/1.1\r\nContent-Length: 0\r\n\r\n"))
    attacks.append(("garbage: NUL in header", host + b"X-A: a\x00b\r\nContent-Length: 0\r\n\r\n"))
    return attacks


class Trickle:
    """Connections that send their payload a byte at a time, all driven by one thread."""

    def __init__(self):
        self.conns = []   # [socket, name, payload, position, started, outcome]

    def add(self, name, payload, count):
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s.setblocking(False)
            self.conns.append([s, name, payload, 0, time.monotonic(), Outcome()])

    def run(self, interval=0.5):
        """A byte every `interval` s (under the idle timeout) per connection, until each is answered and closed,
        or HANG_LIMIT s have passed since its start (then it is left "open": the gateway did not bound it)."""
        live = list(self.conns)
        while live:
            for c in list(live):
                s, name, payload, pos, started, o = c
                now = time.monotonic()
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            o.end = "closed"
                            break
                        o.data += chunk
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    o.end = "reset"
                if o.end is None and now - started > HANG_LIMIT + 1.5:
                    o.end = "open"
                if o.end is None and pos < len(payload):
                    try:
                        s.send(payload[pos:pos + 1])
                        c[3] = pos + 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        pass  # the gateway closed its side: the read above sees it next round
                if o.end is not None:
                    o.after = now - started
                    o.sent = c[3]
                    s.close()
                    live.remove(c)
            time.sleep(interval)

    def outcomes(self):
        by = collections.defaultdict(list)
        for s, name, payload, pos, started, o in self.conns:
            by[name].append(o)
        return by


def accept_queue(port):
    """Connections the kernel completed that the gateway has not accepted yet (the LISTEN socket's rx_queue)."""
    local = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f:
                fields = line.split()
                if fields[1] == local and fields[3] == "0A":
                    return int(fields[4].split(":")[1], 16)
    except (OSError, IndexError, ValueError):
        pass
    return 0


def idle_flood(target, result):
    """Opens `target` connections that never send a byte; records how long after its connect the gateway closed
    each. Closes are collected while connections are still being opened, so early ones are timed right."""
    ep = select.epoll()
    socks, opened, closed_after, failed = {}, {}, [], collections.Counter()
    answered = collections.Counter()

    def collect(timeout):
        for fd, _ in ep.poll(timeout):
            s = socks.pop(fd, None)
            if s is None:
                continue
            now = time.monotonic()
            try:
                data = s.recv(1024)
            except OSError:
                data = b""
            if data:
                answered[data[:40]] += 1
            ep.unregister(fd)
            closed_after.append(now - opened.pop(fd))
            s.close()

    t0 = result["t_start"] = time.monotonic()
    for i in range(target):
        s = socket.socket()
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", PORT))
        if err not in (0, 115):  # EINPROGRESS
            failed[os.strerror(err)] += 1
            s.close()
            continue
        socks[s.fileno()] = s
        opened[s.fileno()] = time.monotonic()
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLERR | select.EPOLLHUP)
        if i % 250 == 249:
            # Stay under the listen backlog: when the accept queue overflows, the kernel drops handshakes and the
            # client retries for up to a minute, which would measure the kernel, not the gateway's idle timeout.
            collect(0)
            wait_until = time.monotonic() + 2
            while accept_queue(PORT) > 100 and time.monotonic() < wait_until:
                collect(0.02)
    result["open_s"] = time.monotonic() - t0
    result["opened"] = len(opened) + len(closed_after)
    result["connect_failed"] = dict(failed)
    deadline = time.monotonic() + IDLE_TIMEOUT + 8
    while socks and time.monotonic() < deadline:
        collect(0.2)
    result["t_end"] = time.monotonic()
    result["still_open"] = len(socks)
    result["closed_after"] = closed_after
    if answered:
        result["answered"] = answered
    for s in socks.values():
        s.close()
    ep.close()


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE_CONNS + 1024
    for limit in (max(want, hard), hard):  # above the hard limit only as root
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(limit, want)), max(hard, limit)))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- the run ------------------------------------------------------------------------------------------------------------
def start_gateway(binary, work, name, secret, nofile=None):
    """A gateway with its own config and store in `work`: (Gateway, port, store path). Its admin listener is on
    ADMIN_PORT afterwards."""
    global ADMIN_PORT
    port = free_port()
    ADMIN_PORT = free_port()
    store = os.path.join(work, f"{name}.sqlite")
    config = os.path.join(work, f"{name}.toml")
    with open(config, "w") as f:
        f.write(f"""# Written by scripts/hostile-clients.
providers_dir = "{ROOT}/providers"

[server]
listen = "127.0.0.1:{port}"
idle_timeout_seconds = {IDLE_TIMEOUT}
request_timeout_seconds = {REQUEST_TIMEOUT}

[store]
path = "{store}"

[log]
level = "notice"
format = "json"

[admin]
listen = "127.0.0.1:{ADMIN_PORT}"
tokens = ["{ADMIN_TOKEN}"]

[sources.{SOURCE}]
provider = "standard-webhooks"
secrets = ["{secret}"]
""")
    check_config(binary, config)
    gateway = Gateway(binary, config, port, os.path.join(work, f"{name}.log"))
    gateway.start(nofile=nofile)
    if not gateway.wait_ready():
        sys.exit(f"the gateway did not start:\n{gateway.tail()}")
    return gateway, port, store


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next((int(l.split()[1]) for l in f if l.startswith("VmRSS")), 0)
    except OSError:
        return 0


def write_everything_then_read(port, head, body_bytes, wait=HANG_LIMIT, stop_after=None):
    """A client that writes its whole request before reading (Python's urllib, most providers' HTTP clients): sends
    `head` and `body_bytes` bytes, ignoring a refused write as such clients do until they read, then reads until the
    gateway closes or `wait` s pass. `stop_after` (s) ends the sending early. Returns (Outcome, bytes sent)."""
    o = Outcome()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    sent = 0
    chunk = b"a" * 65536
    try:
        s.sendall(head)
        while sent < body_bytes and (stop_after is None or time.monotonic() - t0 < stop_after):
            sent += s.send(chunk[:min(len(chunk), body_bytes - sent)])
    except OSError:
        pass
    s.settimeout(wait)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                o.end = "closed"
                break
            o.data += data
    except socket.timeout:
        o.end = "open"
    except OSError:
        o.end = "reset"
    o.after = time.monotonic() - t0
    s.close()
    return o, sent


def stream_while_reading(port, head, body_bytes, wait=HANG_LIMIT):
    """Sends `head` and then up to `body_bytes` from a thread, reading meanwhile, until the gateway closes (or resets)
    or `wait` s pass after its answer. Returns (Outcome, bytes sent)."""
    o = Outcome()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    progress = {"sent": 0}

    def send():
        chunk = b"a" * 65536
        try:
            s.sendall(head)
            while progress["sent"] < body_bytes:
                progress["sent"] += s.send(chunk[:min(len(chunk), body_bytes - progress["sent"])])
        except OSError:
            pass

    threading.Thread(target=send, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if o.data and deadline > time.monotonic() + wait:
            deadline = time.monotonic() + wait  # answered: the close must follow within the timeouts
        if read_some(s, o):
            break
    o.end = o.end or "open"
    o.after = time.monotonic() - t0
    s.close()
    return o, progress["sent"]


def limit_attacks(gateway):
    """Rows for the results table: an early 413 read by a write-everything-first client, and the admin listener's
    limits (issue 17 and 23 of the hardening list)."""
    rows = []
    # Declared over max_body_bytes (1 MiB): 413 at once; the client writes its 2 MiB anyway, then reads.
    head = b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (2 << 20)
    o, sent = write_everything_then_read(PORT, head, 2 << 20)
    statuses = o.statuses()
    # urllib and its kind give up at a failed write and never read the answer: every byte must go through.
    if sent < 2 << 20:
        verdict = f"FAIL: a write failed after {sent} bytes (the gateway reset the connection), so such a client never reads the 413"
    elif statuses != [413] or o.end != "closed":
        verdict = f"FAIL: expected the 413 and a close, got {o.summary()}"
    else:
        verdict = "ok"
    rows.append(("early 413, client writes its whole 2 MiB body first", f"{o.summary()}; {sent} bytes written", verdict))

    # 200 MB to the admin API without a token: 401 on the head, and no growth by the body's size.
    before = rss_kb(gateway.proc.pid)
    head = b"POST /v1/replays HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (200 << 20)
    o, sent = stream_while_reading(ADMIN_PORT, head, 200 << 20)
    grew = (rss_kb(gateway.proc.pid) - before) // 1024
    problems = []
    if o.statuses() != [401]:
        problems.append(f"expected 401, got {o.statuses() or 'no answer'}")
    if o.end == "open":
        problems.append("still open")
    if grew > 64:
        problems.append(f"resident memory grew {grew} MB")
    rows.append(("admin: 200 MB unauthenticated POST", f"{o.summary()}; {sent >> 20} MiB written; RSS +{grew} MB",
                 "ok" if not problems else "FAIL: " + "; ".join(problems)))

    # Half a request head on the admin listener: closed within the timeouts.
    o = exchange(b"GET /v1/sources HTTP/1.1\r\nHost: 127.0.0.1\r\n", port=ADMIN_PORT)
    rows.append(("admin: half a request head", o.summary(),
                 "ok" if o.end != "open" else f"FAIL: still open {HANG_LIMIT:g} s after the last byte"))
    return rows


def still_open(s):
    """A non-blocking socket with nothing to read and no EOF: the gateway neither answered nor closed it."""
    try:
        s.recv(1, socket.MSG_PEEK)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def fd_exhaustion(binary, work, secret, key):
    """A second gateway with a small open-file limit (FD_LIMIT); hostile connections trickling request heads
    (which no timeout ends, see slowloris) take every descriptor it has. A provider connection opened before keeps
    sending events. The gateway may honestly refuse new connections, but it must stay up and keep answering the
    established one. Returns (row for the results table, failures)."""
    global PORT
    gateway, PORT, store = start_gateway(binary, work, "fd-limit", secret, nofile=FD_LIMIT)
    providers = [http.client.HTTPConnection("127.0.0.1", PORT, timeout=LEGIT_BUDGET + 3) for _ in range(4)]
    for c in providers:
        c.connect()
    hostile = []
    for _ in range(FD_LIMIT + 200):  # the surplus waits in the listen backlog
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
            s.sendall(b"POST " + PATH.encode() + b" HTTP/1.1\r\n")
            s.setblocking(False)
            hostile.append(s)
        except OSError:
            break
    stop = threading.Event()
    fresh = collections.Counter()

    def trickle():  # a byte every 0.5 s per connection: under the idle timeout, and no header timeout exists
        while not stop.wait(0.5):
            for s in hostile:
                try:
                    s.send(b"X")
                except OSError:
                    pass

    def probe():  # a new provider connection every 2 s: refused or left waiting is honest here
        while not stop.wait(2):
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1.5)
            try:
                # A complete, signed request: if the gateway takes it later, storing it is right.
                probe_id = f"evt_probe_{time.monotonic_ns()}"
                body = json.dumps({"type": "probe", "id": probe_id}).encode()
                c.request("POST", PATH, body, signed_headers(key, probe_id, body))
                fresh[f"{c.getresponse().status}"] += 1
            except (OSError, http.client.HTTPException) as e:
                fresh[type(e).__name__] += 1
            c.close()

    helpers = [threading.Thread(target=f, daemon=True) for f in (trickle, probe)]
    for t in helpers:
        t.start()
    t0 = time.monotonic()
    lock = threading.Lock()
    counts = {"acked": 0, "sent": 0}
    late, errors = [], []

    def provide(conn, n):  # back to back on a connection opened before the exhaustion
        i = 0
        while time.monotonic() - t0 < FD_SECONDS and not stop.is_set() and not errors:
            i += 1
            msg_id = f"evt_legit_fd_{n}_{i:05d}"
            body = json.dumps({"type": "invoice.paid", "id": msg_id}).encode()
            t = time.monotonic()
            try:
                conn.request("POST", PATH, body, signed_headers(key, msg_id, body))
                resp = conn.getresponse()
                answer = resp.read()
                problem = None if resp.status == 200 else f"{msg_id}: {resp.status} {answer[:80]!r}"
            except (OSError, http.client.HTTPException) as e:
                problem = f"{msg_id}: {e!r}"
            took = time.monotonic() - t
            with lock:
                counts["sent"] += 1
                if problem:
                    errors.append(problem)
                else:
                    counts["acked"] += 1
                if took > LEGIT_BUDGET:
                    late.append(f"{msg_id}: {took:.2f} s")

    senders = [threading.Thread(target=provide, args=(c, n), daemon=True) for n, c in enumerate(providers)]
    for t in senders:
        t.start()
    for t in senders:
        t.join(FD_SECONDS + LEGIT_BUDGET + 5)
    acked, sent = counts["acked"], counts["sent"]
    stop.set()
    for t in helpers:
        t.join(3)
    open_at_end = sum(1 for s in hostile if still_open(s))
    held = time.monotonic() - t0
    if errors:  # a connection dropped: if the process is going down, let it finish (its crash report is slow)
        try:
            gateway.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    alive = gateway.alive()
    for c in providers:
        c.close()
    for s in hostile:
        s.close()
    failures = []
    if not alive:
        failures.append(f"fd exhaustion: the gateway died after {held:.1f} s at its open-file limit ({FD_LIMIT}), "
                        f"exit status {gateway.proc.returncode}:\n{gateway.crash_report()}")
    else:
        problem = gateway.stop()
        if problem:
            failures.append(f"fd exhaustion: {problem}")
    if errors:
        failures.append(f"fd exhaustion: the established provider connections failed: {errors[:3]}")
    db = sqlite3.connect(store)
    stored = {k for (k,) in db.execute("SELECT event_key FROM events")}
    db.close()
    if {k for k in stored if k.startswith("evt_hostile_")}:
        failures.append(f"fd exhaustion: hostile events stored: {sorted(k for k in stored if k.startswith('evt_hostile_'))[:5]}")
    if sum(1 for k in stored if k.startswith("evt_legit_fd_")) < acked:
        failures.append(f"fd exhaustion: {acked} events acknowledged but only "
                        f"{sum(1 for k in stored if k.startswith('evt_legit_fd_'))} stored")
    if late:
        failures.append(f"fd exhaustion: slow answers on the established connections: {late[:3]}")
    summary = (f"{len(hostile)} trickling connections ({open_at_end} still open at the end) for {held:.1f} s; "
               f"4 established connections: {acked}/{sent} acknowledged; "
               f"new connections: {dict(fresh) or 'none tried'}; gateway "
               + ("alive" if alive else f"DIED (exit status {gateway.proc.returncode})"))
    verdict = "ok" if not failures else "FAIL: " + "; ".join(f.split(":\n")[0].replace("fd exhaustion: ", "") for f in failures)
    details = [f"gateway log ({FD_LIMIT} fds):\n" + f.split(":\n", 1)[1] for f in failures if ":\n" in f]
    return (f"connections up to the gateway's fd limit ({FD_LIMIT})", summary, verdict), details


def main():
    global PORT
    binary = inlet_binary(log)
    fd_limit = raise_fd_limit()  # the gateway, started below, inherits it
    idle_target = max(0, min(IDLE_CONNS, fd_limit - SLOW_CONNS - 400))
    work = tempfile.mkdtemp(prefix="inlet-hostile-")
    secret, key = whsec()
    gateway, PORT, store = start_gateway(binary, work, "main", secret)
    log(f"binary {binary}, port {PORT}, fd limit {fd_limit}, {idle_target} idle connections, work dir {work}")
    t_begin = time.monotonic()
    failures = []

    legit = LegitClient(key)
    legit.start()
    time.sleep(0.5)

    trickle = Trickle()
    body = json.dumps({"type": "invoice.paid", "id": "evt_hostile_slow"}).encode()
    h = signed_headers(key, "evt_hostile_slowloris", body)
    h["Content-Length"] = str(len(body))
    slowloris = raw_request(PATH, h, body)
    trickle.add("slowloris: headers a byte per 0.5 s", slowloris, SLOW_CONNS)
    trickle.add("slowloris: request line a byte per 0.5 s", b"POST " + PATH.encode() + b"?" + b"a" * 200 + b" HTTP/1.1\r\n", 1)
    for tag, te in (("slow body", False), ("slow chunked body", True)):
        msg_id = f"evt_hostile_{tag.replace(' ', '_')}"
        body = json.dumps({"type": "invoice.paid", "id": msg_id, "pad": "x" * 200}).encode()
        h = signed_headers(key, msg_id, body)
        if te:
            h["Transfer-Encoding"] = "chunked"
            head, payload = raw_request(PATH, h, b""), b"".join(b"1\r\n" + body[i:i + 1] + b"\r\n" for i in range(len(body)))
        else:
            h["Content-Length"] = str(len(body))
            head, payload = raw_request(PATH, h, b""), body
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s.sendall(head)
            s.setblocking(False)
            trickle.conns.append([s, f"{tag}: a byte per 0.5 s", payload, 0, time.monotonic(), Outcome()])
    trickle_thread = threading.Thread(target=trickle.run, daemon=True)
    trickle_thread.start()

    flood = {}
    flood_thread = threading.Thread(target=idle_flood, args=(idle_target, flood), daemon=True)
    flood_thread.start()

    results = []   # (attack, summary, verdict)
    for name, payload in burst_attacks(key):
        o = exchange(payload)
        statuses = o.statuses()
        bad = [s for s in statuses if s < 400 or s >= 500]
        if bad:
            verdict = f"FAIL: answered {bad}"
        elif o.end == "open":
            verdict = f"FAIL: still open {HANG_LIMIT:g} s after the last byte"
        else:
            verdict = "ok"
        results.append((name, o.summary(), verdict))
        if not gateway.alive():
            break
    if gateway.alive():
        results += limit_attacks(gateway)

    trickle_thread.join(HANG_LIMIT + 10)
    for name, outs in trickle.outcomes().items():
        kinds = collections.Counter()
        worst = max(o.after or 0 for o in outs)
        for o in outs:
            kinds[o.summary().rsplit(" after ", 1)[0]] += 1
        statuses = [s for o in outs for s in o.statuses()]
        bad = [s for s in statuses if s < 400 or s >= 500]
        still_open = sum(o.end == "open" for o in outs)
        summary = "; ".join(f"{n}× {k}" for k, n in kinds.most_common()) + f" (longest {worst:.1f} s)"
        if bad:
            verdict = f"FAIL: answered {bad}"
        elif still_open:
            sent = max(getattr(o, "sent", 0) for o in outs)
            verdict = (f"FAIL: {still_open}/{len(outs)} connections still open and unanswered after "
                       f"{HANG_LIMIT + 1.5:g} s ({sent} bytes trickled); no header timeout bounds them")
        else:
            verdict = "ok"
        results.append((f"{name} ×{len(outs)}", summary, verdict))

    flood_thread.join(IDLE_TIMEOUT + 30)
    _, p99c, maxc = percentiles(flood.get("closed_after", []))
    flood_summary = (f"{flood.get('opened', 0)} opened in {flood.get('open_s', 0):.1f} s, "
                     f"closed by the gateway after p99 {p99c:.1f} s / max {maxc:.1f} s; still open {flood.get('still_open')}")
    if flood.get("connect_failed"):
        flood_summary += f"; connect failed {flood['connect_failed']}"
    if flood.get("answered"):
        flood_summary += f"; answered {dict(flood['answered'])}"
    flood_verdict = "ok"
    if flood.get("still_open"):
        flood_verdict = f"FAIL: {flood['still_open']} idle connections not closed within {IDLE_TIMEOUT + 8} s"
    elif maxc > IDLE_TIMEOUT + 6:
        flood_verdict = f"FAIL: an idle connection was held {maxc:.1f} s (idle timeout {IDLE_TIMEOUT} s)"
    results.append((f"idle connections ×{idle_target} (fd limit {fd_limit})", flood_summary, flood_verdict))

    time.sleep(1)
    legit.stopped.set()
    legit.join(LEGIT_BUDGET + 5)
    crashed = not gateway.alive()
    rss = ""
    if not crashed:
        try:
            with open(f"/proc/{gateway.proc.pid}/status") as f:
                rss = next((l.split(":", 1)[1].strip() for l in f if l.startswith("VmHWM")), "")
        except OSError:
            pass
    if not crashed:
        # Graceful shutdown while a client is half-way through a request head: the gateway must still exit cleanly.
        half = socket.create_connection(("127.0.0.1", PORT), timeout=5)
        half.sendall(b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.3)
        t_stop = time.monotonic()
        stop_problem = gateway.stop()
        took = time.monotonic() - t_stop
        half.close()
        results.append(("SIGTERM while a request head is half sent",
                        f"exit status {gateway.proc.returncode} after {took:.1f} s",
                        "ok" if stop_problem is None else "FAIL: " + stop_problem.split(":\n")[0]))
        if stop_problem and ":\n" in stop_problem:
            failures.append("gateway log at shutdown:\n" + stop_problem.split(":\n", 1)[1])
    if FD_SECONDS > 0:
        row, details = fd_exhaustion(binary, work, secret, key)
        results.append(row)
        failures += details
    elapsed = time.monotonic() - t_begin

    # --- checks ---------------------------------------------------------------------------------------------------
    if crashed:
        failures.append(f"the gateway died (exit status {gateway.proc.returncode}):\n{gateway.crash_report()}")
    db = sqlite3.connect(store)
    stored = collections.Counter(k for (k,) in db.execute("SELECT event_key FROM events"))
    db.close()
    hostile_stored = sorted(k for k in stored if not k.startswith("evt_legit_"))
    missing = sorted(legit.acked - set(stored))
    unacked_stored = sorted(k for k in stored if k.startswith("evt_legit_") and k not in legit.acked)
    twice = sorted(k for k, n in stored.items() if n > 1)
    for name, summary, verdict in results:
        if verdict != "ok":
            failures.append(f"{name}: {verdict} ({summary})")
    if legit.failures:
        failures.append(f"{len(legit.failures)} legitimate requests failed or were late: " + "; ".join(legit.failures[:5]))
    if hostile_stored: failures.append(f"hostile events stored: {hostile_stored[:10]}")
    if missing: failures.append(f"{len(missing)} acknowledged legitimate events not stored, e.g. {missing[:5]}")
    if unacked_stored: failures.append(f"{len(unacked_stored)} legitimate events stored without a 200: {unacked_stored[:5]}")
    if twice: failures.append(f"stored twice: {twice[:5]}")

    p50, p99, mx = percentiles(legit.latencies)
    width = max(len(r[0]) for r in results)
    print(f"hostile clients ({os.path.basename(binary)}, idle_timeout {IDLE_TIMEOUT} s, request_timeout {REQUEST_TIMEOUT} s): "
          f"{elapsed:.1f} s")
    for name, summary, verdict in results:
        print(f"  {name:<{width}}  {'ok  ' if verdict == 'ok' else 'FAIL'}  {summary}")
    print(f"  legitimate events: {len(legit.latencies)} sent at {LEGIT_RATE:g}/s, {len(legit.acked)} acknowledged, "
          f"latency p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {mx * 1000:.1f} ms "
          f"(at t={legit.slowest[1] - t_begin:.1f} s; budget {LEGIT_BUDGET:g} s), reconnect retries {legit.retries}")
    print(f"  idle flood ran from t={flood.get('t_start', 0) - t_begin:.1f} s to t={flood.get('t_end', 0) - t_begin:.1f} s")
    print(f"  store: {sum(stored.values())} events ({len(legit.acked) - len(missing)} legitimate, {len(hostile_stored)} hostile)"
          + (f"; gateway peak RSS {rss}" if rss else ""))
    if failures:
        print("FAIL\n" + "\n".join("  - " + f for f in failures))
        print(f"  work dir kept: {work}")
        sys.exit(1)
    print("PASS")
    if KEEP:
        print(f"  work dir kept: {work}")
    else:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
