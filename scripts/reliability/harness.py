"""What the reliability scenarios (scripts/reliability/*.py, and scripts/hostile-clients) share, written once: find the
binary, sign Standard Webhooks requests, start, kill and stop the gateway, a destination that checks what it is sent,
and a provider that sends signed events at a rate over keep-alive connections. Python 3 standard library only.

Times that one part records and another compares (a gateway's starts and kills, a delivery's arrival, the database's
epoch-millisecond columns) are wall-clock seconds (time.time()); durations are measured on time.monotonic()."""
import base64, collections, hashlib, hmac, http.client, http.server, json, os, signal, socket, sqlite3
import subprocess, sys, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def logger(name):
    def log(msg):
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
    return log


def inlet_binary(log, configuration="release"):
    """INLET_BIN, else .build/<configuration>/inlet, built with `swift build` when missing."""
    path = os.environ.get("INLET_BIN") or os.path.join(ROOT, f".build/{configuration}/inlet")
    if not os.access(path, os.X_OK):
        if os.environ.get("INLET_BIN"):
            sys.exit(f"INLET_BIN={path} is not executable")
        log(f"building Inlet ({configuration})")
        subprocess.run(["swift", "build", "-c", configuration, "--product", "inlet"], cwd=ROOT, check=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def whsec():
    """A Standard Webhooks secret: (the config's `whsec_…` string, the key bytes)."""
    raw = os.urandom(24)
    return "whsec_" + base64.b64encode(raw).decode(), raw


def sign(key, msg_id, ts, body):
    return "v1," + base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()


def signed_headers(key, msg_id, body, ts=None):
    """The Standard Webhooks headers of a validly signed request for `body`."""
    ts = str(int(time.time())) if ts is None else ts
    return {"Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": ts,
            "webhook-signature": sign(key, msg_id, ts, body)}


def signature_ok(key, headers, body):
    """Whether one of a request's `webhook-signature` entries is the Standard Webhooks signature of `body` by `key`."""
    expected = sign(key, headers.get("webhook-id", ""), headers.get("webhook-timestamp", ""), body)
    return any(hmac.compare_digest(s, expected) for s in headers.get("webhook-signature", "").split(" "))


def raw_request(path, headers, body, extra=b""):
    """The bytes of an HTTP/1.1 POST; `extra` is inserted verbatim among the headers (for malformed variants)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + extra + b"\r\n" + body


def event_body(key, note):
    """A provider's event for `key`: the same ID always has the same body (50-250 bytes), as a provider's retry would."""
    n = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return json.dumps({"type": "invoice.paid", "id": key, "data": {"object": {"amount": n % 100000, "currency": "usd",
                       "note": note + " " + "x" * (n % 200)}}}, separators=(",", ":")).encode()


def write_config(path, port, sections, source, src_secret, receiver, destination="", sender=None):
    """Writes a gateway config to `path` and returns `path`: ingress on `port`, the scenario's own `sections` (store,
    delivery, log, admin: TOML), one destination `receiver` (the Receiver, at its listener for `sender`; `destination`:
    its settings besides url and secret), and one Standard Webhooks source `source` that forwards to it."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    parts = [f"""# Written by {script}.
providers_dir = "{ROOT}/providers"

[server]
listen = "127.0.0.1:{port}"
""", sections.strip() + "\n", f"""[destinations.receiver]
url = "http://127.0.0.1:{receiver.ports[sender] if sender else receiver.port}/events"
secrets = ["{receiver.secret}"]
""" + (destination.strip() + "\n" if destination.strip() else ""), f"""[sources.{source}]
provider = "standard-webhooks"
secrets = ["{src_secret}"]
destinations = ["receiver"]
"""]
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return path


def check_config(binary, config):
    check = subprocess.run([binary, "check-config", "--config", config], capture_output=True, text=True)
    if check.returncode != 0:
        sys.exit(f"check-config refused the test config:\n{check.stdout}{check.stderr}")


def wait_for(condition, timeout, interval=0.1, unless=None):
    """Polls `condition` until it holds (True), or until `timeout` seconds have passed or `unless` holds (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (unless and unless()):
        if condition():
            return True
        time.sleep(interval)
    return False


def percentiles(values):
    """(p50, p99, max) of a list of numbers; zeros when empty."""
    if not values:
        return 0.0, 0.0, 0.0
    v = sorted(values)
    return v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.99))], v[-1]


# --- the SQLite store, read beside a running gateway --------------------------------------------------------------------
PENDING = "SELECT count(*) FROM deliveries WHERE state = 'pending'"


def store_count(store, sql=PENDING):
    """The number a counting query returns, read-only; None while the store cannot be read."""
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute(sql).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return None


def stored_events(store, source):
    """(PRAGMA integrity_check's rows, Counter of the source's stored event keys) of a stopped gateway's store."""
    db = sqlite3.connect(store)
    try:
        integrity = [r[0] for r in db.execute("PRAGMA integrity_check")]
        keys = collections.Counter(k for (k,) in db.execute("SELECT event_key FROM events WHERE source = ?", (source,)))
        return integrity, keys
    finally:
        db.close()


# --- the gateway --------------------------------------------------------------------------------------------------------
class Gateway:
    """One `inlet serve` process at a time (started again after a kill); its stdout and stderr go to `logfile`."""

    def __init__(self, binary, config, port, logfile, name="gateway"):
        self.binary, self.config, self.port, self.logfile, self.name = binary, config, port, logfile, name
        self.proc = None
        self.starts = []  # wall-clock times of the starts: process i lived from starts[i] to the next start
        self.kills = []   # wall-clock times of the SIGKILLs

    @property
    def started(self):
        return self.starts[-1]

    @property
    def killed_at(self):
        return self.kills[-1] if self.kills else None

    def start(self, nofile=None):
        """Starts `inlet serve`; `nofile` sets its open-file limit (RLIMIT_NOFILE), otherwise it inherits ours."""
        limit = None
        if nofile is not None:
            import resource
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        with open(self.logfile, "ab") as out:
            out.write(f"--- start {time.strftime('%H:%M:%S')}\n".encode())
            out.flush()
            # A crash report with only the crashed thread: the full one takes the backtracer 10-20 s.
            env = dict(os.environ)
            env.setdefault("SWIFT_BACKTRACE", "enable=yes,interactive=no,threads=crashed,registers=none,images=none")
            self.starts.append(time.time())
            self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=out, stderr=out, env=env,
                                         preexec_fn=limit)

    def wait_ready(self, timeout=30, port=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port or self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.kills.append(time.time())
        self.proc.wait()

    def terminate(self, timeout=20):
        """SIGTERM; True if the process has exited by itself (within the timeout), False if it had to be killed."""
        if not self.alive():
            return True
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return False

    def stop(self, timeout=20):
        """SIGTERM; None if the gateway exited cleanly (status 0) within the timeout, otherwise what went wrong."""
        if not self.alive():
            return f"the gateway was not running (exit status {self.proc.returncode if self.proc else None})"
        if not self.terminate(timeout):
            return f"the gateway did not exit within {timeout} s of SIGTERM:\n{self.crash_report()}"
        if self.proc.returncode != 0:
            return f"the gateway exited with status {self.proc.returncode} on SIGTERM:\n{self.crash_report()}"
        return None

    def crash_report(self, n=20):
        """The crash message and the crashed thread's first frames from the log, else its last lines."""
        try:
            with open(self.logfile, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return ""
        markers = ("Fatal error", "Program crashed", "BUG IN", "Assertion failed", "Precondition failed")
        out = [l for l in lines if any(m in l for m in markers)]
        at = next((i for i, l in enumerate(lines) if l.rstrip().endswith("crashed:")), None)
        if at is not None:
            out += [l[:200] for l in lines[at:at + 12]]
        return "\n".join(out) if out else "\n".join(lines[-n:])

    def tail(self, n=20):
        try:
            with open(self.logfile, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""


# --- the destination ----------------------------------------------------------------------------------------------------
class Receiver:
    """The destination: a threaded HTTP/1.1 server on loopback that checks each delivery's Standard Webhooks signature
    and records it under the provider event ID (the CloudEvent's `inleteventkey`): deliveries[key] = [Delivery].

    One listener per name in `senders`, so that each gateway pointed at its own port is known by its deliveries
    (`ports[name]`; `port` is the first). `mode` is what the destination does: "up" answers 200; "refused" stops
    listening and resets its open connections (a crashed service); "hang" reads each request and never answers (a
    stuck service: the gateway's attempts time out), and records nothing. `before_answer(sender)`, when given, runs
    after a delivery is recorded and before it is answered (to hold an answer back, or to be slow)."""

    Delivery = collections.namedtuple("Delivery", "t sender inlet_id delivery_id attempt webhook_ts client_port accepted")

    def __init__(self, senders=("gateway",), before_answer=None):
        self.secret, self.key = whsec()  # the destination's signing secret: (the config's string, the key bytes)
        self.before_answer = before_answer
        self.lock = threading.Lock()
        self.deliveries = collections.defaultdict(list)
        self.bad_signatures = self.malformed = 0
        self.t0 = time.time()
        self.mode = "up"
        self.resume = threading.Event()  # cleared while hanging
        self.resume.set()
        self.open = set()    # sockets of live connections, reset when the service "crashes"
        self.accepted = {}   # client address -> when its connection was accepted: tells which gateway process sent it
        self.ports, self.servers = {}, {}
        for sender in senders:
            self._listen(sender, 0)
        self.port = self.ports[senders[0]]

    def _listen(self, sender, port):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the gateway's HTTP client expects

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.open.add(self.connection)

            def finish(self):
                with receiver.lock:
                    receiver.open.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = self.rfile.read(length)
                except OSError:
                    body = b""
                if len(body) < length:  # the gateway died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                if receiver.mode == "hang":
                    receiver.resume.wait()  # the gateway times out and closes; this answer goes nowhere
                    self.close_connection = True
                    return
                receiver.record(self.headers, body, sender, self.client_address)
                if receiver.before_answer:
                    receiver.before_answer(sender)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    self.close_connection = True

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True  # "refused" ends by listening on the same port again

            def process_request(self, request, client_address):
                receiver.accepted[client_address] = time.time()
                super().process_request(request, client_address)

            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], OSError):  # resets at a kill or an outage are expected
                    super().handle_error(request, client_address)

        server = Server(("127.0.0.1", port), Handler)
        self.servers[sender], self.ports[sender] = server, server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def record(self, headers, body, sender, client_address):
        now = time.time()
        signed = signature_ok(self.key, headers, body)
        try:
            event = json.loads(body)
            key, inlet_id = event["inleteventkey"], event["id"]
        except (ValueError, KeyError, TypeError):
            with self.lock:
                self.malformed += 1
            return
        with self.lock:
            self.deliveries[key].append(self.Delivery(
                now, sender, inlet_id, headers.get("Inlet-Delivery-Id"), headers.get("Inlet-Attempt"),
                headers.get("webhook-timestamp", ""), client_address[1], self.accepted.get(client_address, now)))
            if not signed:
                self.bad_signatures += 1

    def set_mode(self, mode):
        if mode == self.mode:
            return
        if self.mode == "refused":
            for sender, port in self.ports.items():
                self._listen(sender, port)
        if mode == "refused":
            for server in self.servers.values():
                server.shutdown()
                server.server_close()
            with self.lock:
                for s in list(self.open):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        if mode == "hang":
            self.resume.clear()
        self.mode = mode
        if mode != "hang":
            self.resume.set()

    def keys(self):
        """The provider event IDs delivered so far."""
        with self.lock:
            return set(self.deliveries)


# --- the provider -------------------------------------------------------------------------------------------------------
class Pace:
    """Send times `1 / rate` apart, handed to any number of threads (rate <= 0: no pacing; `rate` may change).

    `slack` is how far the schedule may fall behind before slots are dropped: 0 (a slot is never earlier than now, so
    a stall is not made up for), a little (a short stall is made up in a burst), or math.inf (the schedule is kept:
    a slow answer delays the requests after it, and a latency measured from the slot shows it)."""

    def __init__(self, rate, slack=0.0, start=None):
        self.rate, self.slack = rate, slack
        self.next_slot = time.monotonic() if start is None else start
        self.lock = threading.Lock()

    def wait(self):
        """Sleeps until the next slot; returns its monotonic time (now when unpaced)."""
        if self.rate <= 0:
            return time.monotonic()
        with self.lock:
            slot = max(self.next_slot, time.monotonic() - self.slack)
            self.next_slot = slot + 1.0 / self.rate
        time.sleep(max(0.0, slot - time.monotonic()))
        return slot


class Reply(collections.namedtuple("Reply", "status doc text error sent")):
    """The ingress's answer to one POST: status None if none came (`error` says why; `sent` False: the connection could
    not be made, so nothing was sent). `doc` is the JSON answer ({} if it was none)."""

    @property
    def acked(self):
        """A 2xx acknowledgement: the event is stored ("accepted", or "duplicate" of a stored one)."""
        return self.status == 200 and self.doc.get("status") in ("accepted", "duplicate")

    @property
    def reason(self):
        return self.doc.get("reason") or self.doc.get("status") or self.text[:80]

    @property
    def outcome(self):
        """"accepted" or "duplicate" for an ack, "no answer", "refused", else "<status> <reason>"."""
        if self.acked:
            return self.doc["status"]
        if self.status is None:
            return "no answer" if self.sent else "refused"
        return f"{self.status} {self.reason}"


class Client:
    """One keep-alive connection to the gateway's ingress, made again after a failure or a `Connection: close`."""

    def __init__(self, port, timeout=10):
        self.port, self.timeout = port, timeout
        self.conn = None

    def post(self, path, body, headers):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.connect()
            except OSError as e:
                self.conn = None
                return Reply(None, {}, "", e, False)
        try:
            self.conn.request("POST", path, body, headers)
            resp = self.conn.getresponse()
            answer = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return Reply(None, {}, "", e, True)
        try:
            doc = json.loads(answer)
            doc = doc if isinstance(doc, dict) else {}
        except ValueError:
            doc = {}
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return Reply(resp.status, doc, answer.decode(errors="replace"), None, True)

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


class Provider:
    """Sends validly signed events like a webhook provider: `conns` threads, each on its own keep-alive connection,
    at `rate` events/s all together (see Pace). What is sent and what an answer means are the scenario's: a subclass
    defines next_event(n) -> (msg_id, body, context) or None (nothing to send now), and answered(msg_id, context,
    reply, slot, t_send), which returns True to send the same event again at once (nothing was sent)."""

    def __init__(self, port, key, path, conns, rate, slack=0.0):
        self.port, self.key, self.path = port, key, path
        self.lock = threading.Lock()
        self.pace = Pace(rate, slack)
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(conns)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self, timeout=15):
        self.stopped.set()
        for t in self.threads:
            t.join(timeout)

    def pacer(self, n):
        """The Pace that thread n follows: one shared by all, unless a subclass gives each its own schedule."""
        return self.pace

    def run(self, n):
        client, pace, pending = Client(self.port), self.pacer(n), None
        while not self.stopped.is_set():
            slot = pace.wait()
            event, pending = pending or self.next_event(n), None
            if event is None:
                time.sleep(0.02)
                continue
            msg_id, body, context = event
            t_send = time.monotonic()
            reply = client.post(self.path, body, signed_headers(self.key, msg_id, body))
            if self.answered(msg_id, context, reply, slot, t_send):
                pending = event
                time.sleep(0.05)
        client.close()

    def next_event(self, n):
        raise NotImplementedError

    def answered(self, msg_id, context, reply, slot, t_send):
        raise NotImplementedError
