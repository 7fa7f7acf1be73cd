#!/usr/bin/env python3
"""Multi-instance test: two gateways on one PostgreSQL schema admit each event once, lose nothing acknowledged when
one is killed or cut off from the database, and the survivor delivers what the dead one had claimed.

Two `inlet serve` processes, A and B, share one database and schema (`lease_seconds = 3`). B reaches PostgreSQL
through a TCP proxy inside this script; A connects directly. A receiver inside this script (loopback, threaded
http.server) checks each delivery's Standard Webhooks signature, records the provider event ID (the CloudEvent's
`inleteventkey`) and which gateway sent it (each gateway's destination URL is its own port of the receiver).

Load: validly signed Standard Webhooks events at up to RATE per second. Every new event is handed at the same moment
to a sender of A and a sender of B (CONNS senders per instance, one keep-alive connection each), so the two copies
race in the database, and a stalled instance does not hold back the other. An instance that answers but falls behind
(more than 2 × CONNS sends waiting: a debug build on a busy machine) slows the producer down instead. DUP_RATE of the sends re-send an acknowledged
ID later (to one or both instances). IDs with no 2xx answer anywhere (no answer within 10 s, connection refused,
503) are retried where they failed, as a provider would (on the other instance once A is dead), until acknowledged.

Timeline (seconds from the start of the load):
  0 .. WARMUP            both instances up
  WARMUP .. +CUT_SECS    the proxy cuts B from PostgreSQL (OUTAGE=reset: every proxied connection is reset and new
                         ones are refused; OUTAGE=stall: bytes stop flowing, as in a network partition, and resume)
  .. +AFTER_CUT          B must recover by itself (first 2xx after the cut ends, within RECOVERY_LIMIT)
  kill                   SIGKILL of A. For the second before the kill the receiver holds A's deliveries open, so A
                         surely dies holding claims with deliveries in flight; their leases expire LEASE s later.
  .. +AFTER_KILL         load on B only (sends to A are refused, and retried on B): B alone must deliver A's leased
                         claims once their leases expire (AFTER_KILL > LEASE)
  restart                A is started again on the same schema, with no manual step
  .. +AFTER_RESTART      load on both again, then no new IDs; unanswered IDs are retried
  drain                  until no row is pending and the receiver has every acknowledged ID; then both get SIGTERM

Checks (exit 1 on any violation):
  - every acknowledged ID is stored exactly once (one row per (source, event_key) in events, one idempotency key,
    one non-replay queue row) and was delivered at least once; no row is pending or dead;
  - every ack of an ID names the same Inlet event ID, the stored one;
  - no ID is ever answered `accepted` twice (across both instances and all re-sends). "Exactly one accepted" is not
    guaranteed: when the instance whose commit won died before answering (the kill), or lost its connection
    between COMMIT and its answer (the cut), the other copy or a retry answers `duplicate`. Acknowledged IDs with no
    `accepted` are reported and must each have an unanswered or 503 send to the killed or cut instance;
  - during the cut, B answers 503 store_unavailable (at least once) and nothing else but `duplicate`: never
    `accepted` (it cannot store) and never a 2xx for an ID that is not stored (OUTAGE=stall: B may simply answer
    late, so no 503 is required); B answers 2xx again within RECOVERY_LIMIT of the cut's end, and no 503 after that;
  - deliveries that A had leased at the kill are delivered by B, after their leases expired (reported, must be >0);
  - the restarted A answers 2xx again (it migrates nothing and joins the shared queue);
  - a receiver duplicate is allowed only for an ID whose earlier copy was in flight at a disruption: sent by A in
    the lease before its kill, or by B from the cut until it recovered. Others are violations;
  - B, and A after its restart, keep answering and delivering to the end, and exit within 10 s of SIGTERM.

    scripts/multi-instance-test
    INLET_BIN=/path/to/inlet RATE=300 OUTAGE=stall KEEP=1 scripts/multi-instance-test

Env: INLET_BIN (default .build/debug/inlet, built with `swift build --product inlet` if missing) · RATE (new events
per second, each sent to both instances: 120) · CONNS (connections per instance: 4) · DUP_RATE (0.05) · OUTAGE (reset
| stall) · WARMUP (3) · CUT_SECS (3) · AFTER_CUT (5) · AFTER_KILL (4) · AFTER_RESTART (3) · RECOVERY_LIMIT (10) ·
DRAIN_TIMEOUT (20) ·
RECEIVER_DELAY_MS (5 per delivery) · SEED (names the event IDs) · KEEP=1 (keep the schema and work dir; both are also
kept on failure, and dropped otherwise). A passing run takes about 30 s, a failing one at most about 90 s. When B
stops answering or delivering, its thread stacks (gdb, if installed) and the database's sessions are written to the
work dir. Needs PostgreSQL (scripts/ensure-postgres installs and starts it) and psql. Python 3 standard library only.
"""
import collections, os, queue, random, signal, socket, struct, subprocess, sys, tempfile, threading, time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ROOT, Client, Gateway, Pace, Receiver, check_config, event_body, free_port, inlet_binary, logger,
                     signed_headers, wait_for, whsec, write_config)

RATE = float(os.environ.get("RATE", 120))
CONNS = int(os.environ.get("CONNS", 4))
DUP_RATE = float(os.environ.get("DUP_RATE", 0.05))
OUTAGE = os.environ.get("OUTAGE", "reset")
WARMUP = float(os.environ.get("WARMUP", 3))
CUT_SECS = float(os.environ.get("CUT_SECS", 3))
AFTER_CUT = float(os.environ.get("AFTER_CUT", 5))
AFTER_KILL = float(os.environ.get("AFTER_KILL", 4))
AFTER_RESTART = float(os.environ.get("AFTER_RESTART", 3))
RECOVERY_LIMIT = float(os.environ.get("RECOVERY_LIMIT", 10))
DRAIN_TIMEOUT = float(os.environ.get("DRAIN_TIMEOUT", 20))
RECEIVER_DELAY = float(os.environ.get("RECEIVER_DELAY_MS", 5)) / 1000
SEED = int(os.environ.get("SEED", random.randrange(1 << 30)))
KEEP = os.environ.get("KEEP") == "1"
LEASE = 3          # [delivery] lease_seconds
HOLD_BEFORE_KILL = 1.0  # the receiver holds A's deliveries open this long before the kill (< the destination timeout)
CUT_MARGIN = 0.2   # sends to B this long after the cut began cannot have been committed before it
MAX_QUEUE = 2 * CONNS  # sends waiting for one instance before the producer waits (see Provider.backlogged)
SOURCE = "multi"
PATH = f"/hooks/{SOURCE}"
log = logger("multi-instance-test")
if OUTAGE not in ("reset", "stall"):
    sys.exit("OUTAGE must be reset or stall")


def abort(sock):
    """Close with an RST (SO_LINGER 0), waking a thread blocked in recv on it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()


# --- PostgreSQL ----------------------------------------------------------------------------------------------------------
class Database:
    """The test database (from scripts/ensure-postgres) and this run's schema, queried through psql."""

    def __init__(self, url, schema):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.user, self.password = u.hostname, u.port or 5432, u.username, u.password
        self.database = u.path.lstrip("/")
        self.schema = schema
        self.url = f"postgres://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}?schema={schema}"

    def url_via(self, port):
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{port}/{self.database}?schema={self.schema}"

    def query(self, sql, timeout=30):
        """Rows of tab-separated fields."""
        env = dict(os.environ, PGPASSWORD=self.password, PGOPTIONS=f"-c search_path={self.schema}")
        out = subprocess.run(["psql", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", self.database,
                              "-qAtX", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             env=env, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def pending(self):
        try:
            return int(self.query("SELECT count(*) FROM deliveries WHERE state = 'pending'")[0][0])
        except (RuntimeError, subprocess.TimeoutExpired):
            return None

    def drop(self):
        self.query(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


class Proxy:
    """A TCP proxy between one gateway and PostgreSQL that can be cut and restored.

    reset: cutting resets every proxied connection (RST both ways) and refuses new ones until restored, as when the
    database restarts or a firewall rejects. stall: cutting stops forwarding (bytes wait, nothing is lost) and resumes
    on restore, as in a network partition that heals before TCP gives up."""

    def __init__(self, upstream_port, mode):
        self.upstream_port, self.mode = upstream_port, mode
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = set()
        self.cut = False
        self.flowing = threading.Event()
        self.flowing.set()
        self.connections = self.resets = self.refused = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refuse = self.cut and self.mode == "reset"
                if refuse:
                    self.refused += 1
            if refuse:
                abort(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=3)
                upstream.settimeout(None)
            except OSError:
                abort(client)
                continue
            pair = (client, upstream)
            with self.lock:
                # The cut may have begun while this connection was being made: it must not slip through.
                refuse = self.cut and self.mode == "reset"
                if refuse:
                    self.refused += 1
                else:
                    self.pairs.add(pair)
                    self.connections += 1
            if refuse:
                abort(client)
                abort(upstream)
                continue
            threading.Thread(target=self.pump, args=(client, upstream, pair), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, pair), daemon=True).start()

    def pump(self, src, dst, pair):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        self.close_pair(pair)

    def close_pair(self, pair, hard=False):
        with self.lock:
            if pair not in self.pairs:
                return
            self.pairs.discard(pair)
        for s in pair:
            if hard:
                abort(s)
            else:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut_now(self):
        with self.lock:
            self.cut = True
            pairs = list(self.pairs)
        if self.mode == "stall":
            self.flowing.clear()
            return
        for pair in pairs:
            self.resets += 1
            self.close_pair(pair, hard=True)

    def restore(self):
        with self.lock:
            self.cut = False
        self.flowing.set()


# --- the destination -------------------------------------------------------------------------------------------------------
class HoldBeforeKill:
    """How the receiver (harness.Receiver, one listener per gateway) answers: after RECEIVER_DELAY per delivery, and,
    once `armed`, with A's answers held open until A is killed, so that A surely dies holding claims with deliveries
    in flight."""

    def __init__(self):
        self.lock = threading.Lock()
        self.armed = threading.Event()     # set: A's deliveries are held open until...
        self.a_killed = threading.Event()  # ...A is killed
        self.held = 0

    def __call__(self, sender):
        if RECEIVER_DELAY:
            time.sleep(RECEIVER_DELAY)
        if sender == "A" and self.armed.is_set() and not self.a_killed.is_set():
            with self.lock:
                self.held += 1
            self.a_killed.wait(HOLD_BEFORE_KILL + 2)


# --- the provider ----------------------------------------------------------------------------------------------------------
Send = collections.namedtuple("Send", "key kind instance t_send t_answer outcome event_id")


class RacingProvider:
    """Not harness.Provider, whose threads each choose what they send: here one producer, paced at RATE, hands every
    new event to both instances' senders at the same moment, so the two copies race. Each instance has CONNS senders
    (harness.Client: one keep-alive connection each), so a stalled instance does not hold back the other. Some
    acknowledged IDs are re-sent; an ID whose sends all failed (no answer, refused, 503) is retried where it failed
    (or on the other instance if that one is dead), until acknowledged."""

    def __init__(self, gateways, secret, rng):
        self.gateways, self.secret, self.rng = gateways, secret, rng
        self.lock = threading.Lock()
        self.sends = []             # every Send, in completion order
        self.acked = {}             # key -> Inlet event ID of its first ack
        self.acked_list = []
        self.in_doubt = set()       # no ack yet, and at least one send failed
        self.rounds = {}            # key -> [sends outstanding, instances where a send failed]
        self.retry = collections.deque()
        self.next_id = 0
        self.new_events = True
        self.stopped = threading.Event()
        self.queues = {name: queue.Queue() for name in gateways}
        self.last_answer = {name: time.time() for name in gateways}
        self.threads = [threading.Thread(target=self.produce, daemon=True)]
        self.senders = [threading.Thread(target=self.send_loop, args=(name,), daemon=True)
                        for name in gateways for _ in range(CONNS)]

    def start(self):
        for t in self.threads + self.senders:
            t.start()

    def stop(self, timeout=12):
        self.stopped.set()
        for q in self.queues.values():
            for _ in range(CONNS):
                q.put(None)
        deadline = time.monotonic() + timeout
        for t in self.threads + self.senders:
            t.join(max(0.0, deadline - time.monotonic()))

    def alive(self):
        return [n for n, g in self.gateways.items() if g.alive()]

    def choose(self):
        """(key, kind, instances): new -> both; resend -> one or both live instances; retry -> where it failed, if alive."""
        with self.lock:
            if self.retry and (self.rng.random() < 0.3 or not self.new_events):
                key, failed = self.retry.popleft()
                if key in self.acked:
                    return None, None, None
                return key, "retry", [n for n in failed if self.gateways[n].alive()] or self.alive()
            if not self.new_events:
                return None, None, None
            if self.acked_list and self.rng.random() < DUP_RATE:
                live = self.alive()
                targets = live if self.rng.random() < 0.5 or not live else [self.rng.choice(live)]
                return self.rng.choice(self.acked_list), "resend", targets
            self.next_id += 1
            return f"evt_multi_{SEED}_{self.next_id:07d}", "new", list(self.gateways)

    def backlogged(self):
        """An instance that is answering but has more than MAX_QUEUE sends waiting: the producer waits for it, so a
        slow machine (a debug build, a busy CI runner) gets a lower rate instead of an ever longer queue. An instance
        that answers nothing (stalled, or dead with its sends refused at once) holds back nobody."""
        now = time.time()
        return any(q.qsize() > MAX_QUEUE and now - self.last_answer[n] < 1.0 for n, q in self.queues.items())

    def produce(self):
        pace = Pace(RATE, slack=0.1)  # a short stall of the producer is made up for
        while not self.stopped.is_set():
            while self.backlogged() and not self.stopped.is_set():
                time.sleep(0.005)
            key, kind, targets = self.choose()
            if key is None or not targets:
                time.sleep(0.02)
                continue
            pace.wait()
            with self.lock:
                if kind != "resend":
                    self.rounds[key] = [len(targets), []]
            for name in targets:
                self.queues[name].put((key, kind))

    def send_loop(self, name):
        client = Client(self.gateways[name].port)
        while True:
            item = self.queues[name].get()
            if item is None:
                break
            if self.stopped.is_set():  # what is still queued (for a stuck instance) is not sent
                continue
            key, kind = item
            body, t_send = event_body(key, "multi-instance"), time.time()
            reply = client.post(PATH, body, signed_headers(self.secret, key, body))
            self.done(Send(key, kind, name, t_send, time.time(), reply.outcome, reply.doc.get("id")))
        client.close()

    def done(self, send):
        key = send.key
        self.last_answer[send.instance] = send.t_answer
        with self.lock:
            self.sends.append(send)
            if send.outcome in ("accepted", "duplicate"):
                if key not in self.acked:
                    self.acked[key] = send.event_id
                    self.acked_list.append(key)
                self.in_doubt.discard(key)
            elif key not in self.acked:
                self.in_doubt.add(key)
            if send.kind == "resend" or key not in self.rounds:
                return
            round_ = self.rounds[key]
            round_[0] -= 1
            if send.outcome not in ("accepted", "duplicate"):
                round_[1].append(send.instance)
            if round_[0] == 0:
                del self.rounds[key]
                if key not in self.acked:
                    self.retry.append((key, round_[1]))


def indent(text):
    return text.replace("\n", "\n      ")


def diagnose(gateway, db, work):
    """Evidence for a gateway that stopped answering: its threads' stacks (gdb, when installed) and what the
    database's sessions are doing. Returns the file written."""
    path = os.path.join(work, f"{gateway.name}-stuck.txt")
    with open(path, "w") as out:
        try:
            rows = db.query("SELECT pid, client_port, backend_start, state, wait_event_type, wait_event, left(query, 80) "
                            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            out.write("pg_stat_activity:\n" + "\n".join("  " + " | ".join(r) for r in rows) + "\n\n")
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            out.write(f"pg_stat_activity: {e}\n\n")
        try:
            ss = subprocess.run(["ss", "-tanp"], capture_output=True, text=True, timeout=10).stdout
            out.write("sockets:\n" + "".join(l + "\n" for l in ss.splitlines() if f"pid={gateway.proc.pid}," in l) + "\n")
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            bt = subprocess.run(["gdb", "-batch", "-ex", "thread apply all bt 30", "-p", str(gateway.proc.pid)],
                                capture_output=True, text=True, timeout=60)
            out.write(bt.stdout)
        except (OSError, subprocess.TimeoutExpired):
            out.write("(no gdb: thread stacks not taken)\n")
    return path


# --- the run -----------------------------------------------------------------------------------------------------------------
def write_instance_config(path, port, db_url, receiver, sender, src_secret):
    return write_config(path, port, f"""
[store]
backend = "postgres"
url = "{db_url}"
connections = 8
migrate_on_start = true

[delivery]
concurrency = 16
# Short, so a killed instance's claims come back within the test.
lease_seconds = {LEASE}
poll_interval_ms = 200

[log]
level = "notice"
format = "json"
""", SOURCE, src_secret, receiver, sender=sender, destination=f"""
# Below the lease: an attempt never outlives its claim.
timeout_seconds = 2
max_attempts = 1000
initial_backoff_ms = 50
max_backoff_ms = 500
circuit_open_ms = 200
circuit_max_open_ms = 1000
max_concurrency = 16
""")


def main():
    t_begin = time.monotonic()
    binary = inlet_binary(log, "debug")
    rng = random.Random(SEED)
    url = subprocess.run(["bash", os.path.join(ROOT, "scripts/ensure-postgres")], capture_output=True, text=True)
    if url.returncode != 0:
        sys.exit(f"scripts/ensure-postgres failed:\n{url.stderr}")
    db = Database(url.stdout.strip().splitlines()[-1], f"mi_{int(time.time())}_{os.getpid()}")
    work = tempfile.mkdtemp(prefix="inlet-multi-")
    src_secret, src_key = whsec()
    hold = HoldBeforeKill()
    receiver = Receiver(("A", "B"), before_answer=hold)
    proxy = Proxy(db.port, OUTAGE)
    gateways = {"A": None, "B": None}
    for name, db_url in (("A", db.url), ("B", db.url_via(proxy.port))):
        config, port = os.path.join(work, f"{name}.toml"), free_port()
        write_instance_config(config, port, db_url, receiver, name, src_secret)
        gateways[name] = Gateway(binary, config, port, os.path.join(work, f"{name}.log"), name=name)
    check_config(binary, gateways["A"].config)
    t0 = time.monotonic()
    migrate = subprocess.run([binary, "migrate", "--config", gateways["A"].config], capture_output=True, text=True)
    if migrate.returncode != 0:
        sys.exit(f"inlet migrate failed:\n{migrate.stdout}{migrate.stderr}")
    migrate_secs = time.monotonic() - t0
    log(f"binary {binary}, seed {SEED}, schema {db.schema}, {CONNS} connections per instance, {RATE:g} events/s to both, "
        f"outage {OUTAGE}, work dir {work}")

    failures = []
    provider = None
    restart_at = a_ready_at = float("inf")
    try:
        for g in gateways.values():
            g.start()
        for g in gateways.values():
            if not g.wait_ready(60):
                sys.exit(f"gateway {g.name} did not start:\n{g.tail()}")
        A, B = gateways["A"], gateways["B"]

        provider = RacingProvider(gateways, src_key, rng)
        load_start = time.time()
        provider.start()
        time.sleep(WARMUP)
        cut_start = time.time()
        proxy.cut_now()
        log(f"cut B from PostgreSQL ({OUTAGE}) for {CUT_SECS:g} s")
        time.sleep(CUT_SECS)
        proxy.restore()
        cut_end = time.time()
        log("PostgreSQL reachable from B again")
        time.sleep(max(0.0, AFTER_CUT - HOLD_BEFORE_KILL))
        hold.armed.set()
        time.sleep(HOLD_BEFORE_KILL)
        if A.proc.poll() is not None:
            failures.append(f"A exited on its own before the kill (status {A.proc.returncode}), log {A.logfile}:\n      "
                            f"{indent(A.crash_report(15))}")
        A.kill()
        hold.a_killed.set()
        kill_at = A.killed_at
        # The claims A held: pending rows whose lease runs past now. B's own are among them; they are told apart
        # later by when (after the lease) and by whom (B) they were delivered.
        leased = {int(r[0]): int(r[1]) for r in db.query(
            f"SELECT id, next_attempt_at FROM deliveries WHERE state = 'pending' AND claimed_at IS NOT NULL "
            f"AND next_attempt_at > {int(kill_at * 1000)}")}
        log(f"SIGKILL A: {len(provider.acked)} IDs acknowledged so far, {len(leased)} deliveries leased, "
            f"{hold.held} of A's deliveries held open at the receiver")
        time.sleep(AFTER_KILL)
        A.start()
        restart_at = time.time()
        if not A.wait_ready(60):
            failures.append(f"A did not start again after the kill:\n{A.tail()}")
        a_ready_at = time.time()
        log(f"A restarted (listening after {a_ready_at - restart_at:.2f} s)")
        time.sleep(AFTER_RESTART)
        provider.new_events = False
        wait_for(lambda: not provider.in_doubt, 10)
        provider.stop()
        load_end = time.time()

        # An instance stopped answering (sends to B left unanswered before the kill, or to A after its restart): do not
        # wait out the whole drain timeout.
        stuck = {g: [s for s in provider.sends if s.instance == g and s.outcome == "no answer"
                     and (s.t_send < kill_at if g == "B" else s.t_send > a_ready_at)] for g in ("A", "B")}
        drained = wait_for(lambda: db.pending() == 0 and set(provider.acked) <= receiver.keys(),
                           5 if any(stuck.values()) else DRAIN_TIMEOUT, 0.25, unless=lambda: not (A.alive() and B.alive()))
        drain_secs = time.time() - load_end
        if not drained:
            failures.append(f"the queue did not drain (pending: {db.pending()}, A {'alive' if A.alive() else 'exited'}, "
                            f"B {'alive' if B.alive() else 'exited'})")
        time.sleep(0.5)  # a late duplicate delivery in flight lands
        for g in (A, B):
            if g.alive() and (not drained or stuck[g.name]):
                evidence = diagnose(g, db, work)
                failures.append(f"{g.name} stopped {'answering' if stuck[g.name] else 'delivering'} ({len(stuck[g.name])} of its "
                                f"requests got no answer within 10 s, pending: {db.pending()}); its thread stacks and the "
                                f"database's sessions: {evidence}")
        for g in (A, B):
            if not g.alive():
                failures.append(f"{g.name} exited on its own (status {g.proc.returncode}), log {g.logfile}:\n      {indent(g.crash_report(15))}")
            elif not g.terminate(10):
                failures.append(f"{g.name} did not exit within 10 s of SIGTERM")
    finally:
        for g in gateways.values():
            if g and g.proc and g.proc.poll() is None:
                g.proc.kill()
                g.proc.wait()

    # --- checks -----------------------------------------------------------------------------------------------------------
    def fmt(counter):
        return ", ".join(f"{k} {n}" for k, n in sorted(counter.items())) or "none"
    sends = provider.sends
    acked = provider.acked
    stored = collections.defaultdict(list)   # key -> [event id]
    for key, eid in db.query(f"SELECT event_key, id FROM events WHERE source = '{SOURCE}'"):
        stored[key].append(eid)
    idem = {k: e for k, e in db.query(f"SELECT event_key, event_id FROM idempotency_keys WHERE source = '{SOURCE}'")}
    queue_rows = collections.Counter(e for (e,) in db.query("SELECT event_id FROM deliveries WHERE NOT replay"))
    states = {s: int(n) for s, n in db.query("SELECT state, count(*) FROM deliveries GROUP BY state")}
    delivered_at = {int(i): (int(t) if t else None) for i, t in db.query(
        "SELECT id, delivered_at FROM deliveries WHERE id IN (" + (",".join(map(str, leased)) or "NULL") + ")")}

    lost = sorted(k for k in acked if k not in stored)
    twice = sorted(k for k, ids in stored.items() if len(ids) > 1)
    stored_once = {k: ids[0] for k, ids in stored.items() if len(ids) == 1}
    idem_mismatch = sorted(k for k, e in stored_once.items() if idem.get(k) != e)
    queued_wrong = sorted(k for k, e in stored_once.items() if queue_rows.get(e, 0) != 1)
    unacked_stored = sorted(k for k in stored if k not in acked)
    if lost: failures.append(f"{len(lost)} acknowledged IDs are not stored, e.g. {lost[:5]}")
    if twice: failures.append(f"{len(twice)} IDs stored more than once, e.g. {twice[:5]}")
    if idem_mismatch: failures.append(f"{len(idem_mismatch)} idempotency keys do not name the stored event, e.g. {idem_mismatch[:5]}")
    if queued_wrong: failures.append(f"{len(queued_wrong)} stored events without exactly one queue row, e.g. {queued_wrong[:5]}")

    # Acks: the ID each names, accepted at most once.
    accepted = collections.Counter(s.key for s in sends if s.outcome == "accepted")
    acks_by_instance = collections.Counter((s.instance, s.outcome) for s in sends if s.outcome in ("accepted", "duplicate"))
    wrong_id = sorted({s.key for s in sends if s.outcome in ("accepted", "duplicate")
                       and s.key in stored_once and s.event_id != stored_once[s.key]})
    accepted_twice = sorted(k for k, n in accepted.items() if n > 1)
    if wrong_id: failures.append(f"{len(wrong_id)} IDs acknowledged with an Inlet event ID that is not the stored one, e.g. {wrong_id[:5]}")
    if accepted_twice:
        detail = "".join(f"\n      {k}: " + "; ".join(f"{s.instance} {s.kind} {s.outcome} {s.event_id} at +{s.t_send - load_start:.3f}s"
                                                     for s in sends if s.key == k) for k in accepted_twice[:5])
        failures.append(f"{len(accepted_twice)} IDs answered 'accepted' more than once:{detail}")
    resends = [s for s in sends if s.kind == "resend"]
    resend_accepted = [s for s in resends if s.outcome == "accepted"]
    # Acknowledged with no 'accepted' anywhere: the winning commit's answer was lost. Only a send to the killed or cut
    # instance that got no answer (or a 503) can explain it.
    def disrupted(s):
        if s.outcome in ("accepted", "duplicate", "refused"):
            return False
        if s.instance == "A":
            return s.t_answer >= kill_at - 0.5 and s.t_send <= kill_at
        return cut_start - 0.5 <= s.t_send <= b_recovered_at + 0.5
    b_after = sorted((s for s in sends if s.instance == "B" and s.t_send >= cut_end), key=lambda s: s.t_send)
    b_first_ok = next((s for s in b_after if s.outcome in ("accepted", "duplicate")), None)
    b_recovered_at = b_first_ok.t_answer if b_first_ok else float("inf")
    never_accepted = sorted(k for k in acked if accepted[k] == 0)
    unexplained_no_accept = [k for k in never_accepted if not any(disrupted(s) for s in sends if s.key == k)]
    if unexplained_no_accept:
        failures.append(f"{len(unexplained_no_accept)} acknowledged IDs were never answered 'accepted' and no send of "
                        f"theirs was disrupted, e.g. {unexplained_no_accept[:5]}")

    # The outage: what B answered while cut off, and how soon it came back.
    in_cut = [s for s in sends if s.instance == "B" and cut_start + CUT_MARGIN <= s.t_send < cut_end]
    cut_outcomes = collections.Counter(s.outcome for s in in_cut)
    cut_latency = sorted(s.t_answer - s.t_send for s in in_cut)
    a_in_cut = collections.Counter(s.outcome for s in sends if s.instance == "A" and cut_start <= s.t_send < cut_end)
    lies = [s for s in in_cut if s.outcome == "accepted" and s.t_answer < cut_end]
    unstored_2xx = [s for s in sends if s.outcome in ("accepted", "duplicate") and s.key not in stored]
    if OUTAGE == "reset":
        if not cut_outcomes.get("503 store_unavailable"):
            failures.append(f"B never answered 503 store_unavailable during the cut (answers: {dict(cut_outcomes)})")
        # A request sent near the cut's end may be committed, and accepted, just after it.
        others = dict(collections.Counter(s.outcome for s in in_cut if s.t_answer < cut_end
                                          and s.outcome not in ("503 store_unavailable", "duplicate")))
        if others:
            failures.append(f"B answered other than 503 store_unavailable or duplicate during the cut: {others}")
    if lies: failures.append(f"B answered 'accepted' {len(lies)}× while it could not reach PostgreSQL, e.g. {lies[:3]}")
    if unstored_2xx: failures.append(f"{len(unstored_2xx)} 2xx answers for IDs that are not stored, e.g. {unstored_2xx[:3]}")
    recovery = b_recovered_at - cut_end
    if recovery > RECOVERY_LIMIT:
        failures.append(f"B did not answer 2xx within {RECOVERY_LIMIT:g} s of the cut's end (first 2xx: "
                        f"{'never' if b_first_ok is None else f'{recovery:.2f} s'})"
                        + (f"; its log ends:\n{B.tail(5)}" if B.proc.returncode in (0, -signal.SIGKILL, -signal.SIGTERM) else ""))
    late_503 = [s for s in sends if s.instance == "B" and s.t_send > b_recovered_at and s.outcome.startswith("503")]
    if late_503:
        failures.append(f"B answered 503 {len(late_503)}× after it had recovered, e.g. "
                        + ", ".join(f"{s.outcome} at cut end +{s.t_send - cut_end:.2f}s" for s in late_503[:3]))

    # The kill: A's claims taken over by B after their leases.
    taken_over = {}
    for key, copies in receiver.deliveries.items():
        for c in copies:
            if c.delivery_id and int(c.delivery_id) in leased and c.t * 1000 >= leased[int(c.delivery_id)] and c.t > kill_at:
                taken_over.setdefault(int(c.delivery_id), (c.t - kill_at, c.sender))
    if not taken_over:
        failures.append(f"no delivery leased at the kill was delivered after its lease expired ({len(leased)} leased)")
    not_taken = sum(1 for i in leased if i not in taken_over)
    taken_by = collections.Counter(who for _, who in taken_over.values())
    taken_after = [t for t, _ in taken_over.values()]
    a_restarted = [s for s in sends if s.instance == "A" and s.t_send >= a_ready_at]
    a_restarted_ok = sum(1 for s in a_restarted if s.outcome in ("accepted", "duplicate"))
    if not a_restarted_ok:
        failures.append(f"the restarted A answered no 2xx ({fmt(collections.Counter(s.outcome for s in a_restarted))})")

    # Deliveries.
    delivered = receiver.deliveries
    undelivered = sorted(k for k in acked if k not in delivered)
    if undelivered: failures.append(f"{len(undelivered)} acknowledged IDs were never delivered, e.g. {undelivered[:5]}")
    def orphaned(c):
        """A copy whose completion may not have been recorded: in flight at a disruption."""
        if c.sender == "A":  # sent by A before its kill, in the lease before it
            return kill_at - LEASE <= c.t <= kill_at
        if c.sender == "B":
            return cut_start - LEASE <= c.t <= b_recovered_at + 1
        return False
    dup_keys = {k: sorted(v, key=lambda c: c.t) for k, v in delivered.items() if len(v) > 1}
    dup_kill = dup_cut = 0
    unexplained_dups, two_ids = [], []
    for k, v in dup_keys.items():
        if not all(orphaned(c) for c in v[:-1]):
            unexplained_dups.append(k)
        elif any(c.sender == "A" for c in v[:-1]):
            dup_kill += 1
        else:
            dup_cut += 1
        if len({c.inlet_id for c in v}) > 1:
            two_ids.append(k)
    extra = sum(len(v) - 1 for v in dup_keys.values())
    if unexplained_dups:
        detail = "".join(f"\n      {k}: " + "; ".join(f"{c.sender} at {c.t - load_start:+.3f}s delivery {c.delivery_id} attempt {c.attempt}"
                                                     for c in dup_keys[k]) for k in unexplained_dups[:5])
        failures.append(f"{len(unexplained_dups)} IDs delivered more than once with no disruption to explain it "
                        f"(cut {cut_start - load_start:.2f}..{cut_end - load_start:.2f}s, kill {kill_at - load_start:.2f}s):{detail}")
    if two_ids: failures.append(f"{len(two_ids)} IDs delivered under two Inlet event IDs, e.g. {two_ids[:5]}")
    if states.get("dead"): failures.append(f"{states['dead']} deliveries dead-lettered")
    if states.get("pending"): failures.append(f"{states['pending']} deliveries still pending")
    if receiver.bad_signatures: failures.append(f"{receiver.bad_signatures} deliveries with a bad signature")
    if receiver.malformed: failures.append(f"{receiver.malformed} deliveries that are not CloudEvents with inleteventkey")
    if provider.in_doubt:
        failures.append(f"{len(provider.in_doubt)} IDs never acknowledged despite retries, e.g. {sorted(provider.in_doubt)[:5]}")
    if resend_accepted:
        failures.append(f"{len(resend_accepted)} re-sends of acknowledged IDs were answered 'accepted'")

    by_outcome = collections.Counter(s.outcome for s in sends)
    by_copy = collections.Counter(c.sender for v in delivered.values() for c in v)
    elapsed = time.monotonic() - t_begin
    print(f"""multi-instance test (seed {SEED}, {os.path.basename(binary)}, outage {OUTAGE}): {elapsed:.1f} s (migrate {migrate_secs:.2f} s, load {load_end - load_start:.1f} s, drain {drain_secs:.1f} s)
  events                          {provider.next_id} new IDs, {len(sends)} sends ({sum(1 for s in sends if s.kind == 'retry')} retries, {len(resends)} deliberate re-sends)
  answers                         {fmt(by_outcome)}
  acks by instance                A: accepted {acks_by_instance[('A', 'accepted')]}, duplicate {acks_by_instance[('A', 'duplicate')]} · B: accepted {acks_by_instance[('B', 'accepted')]}, duplicate {acks_by_instance[('B', 'duplicate')]}
  acknowledged IDs                {len(acked)}; accepted exactly once {sum(1 for k in acked if accepted[k] == 1)}, never (answer lost at kill/cut) {len(never_accepted)}, more than once {len(accepted_twice)}
  re-sends of acknowledged IDs    {len(resends)}: {fmt(collections.Counter(s.outcome for s in resends))}
  stored events                   {sum(len(v) for v in stored.values())} rows for {len(stored)} IDs; stored twice {len(twice)}; lost {len(lost)}; stored, never acknowledged {len(unacked_stored)}
  outage (B cut {cut_end - cut_start:.1f} s)         B's answers to {len(in_cut)} sends: {fmt(cut_outcomes)}; answer time p50 {cut_latency[len(cut_latency) // 2] if cut_latency else 0:.3f} s, max {cut_latency[-1] if cut_latency else 0:.3f} s
                                  A meanwhile: {fmt(a_in_cut)}; proxy: {proxy.resets} connections reset, {proxy.refused} refused
  B recovered                     first 2xx {recovery:.2f} s after the cut ended; 503s after that {len(late_503)}
  kill of A                       {len(leased)} deliveries leased at the kill: {len(taken_over)} delivered after their lease expired ({fmt(taken_by)}; {min(taken_after, default=0):.2f}..{max(taken_after, default=0):.2f} s after the kill), {not_taken} not (B's own, finished by B, or never); {hold.held} of A's held open at the receiver
  A restarted                     listening {a_ready_at - restart_at:.2f} s after start; answers since: {fmt(collections.Counter(s.outcome for s in a_restarted))}
  deliveries received             {sum(len(v) for v in delivered.values())} for {len(delivered)} IDs (from A {by_copy['A']}, B {by_copy['B']})
  acknowledged, never delivered   {len(undelivered)}
  receiver duplicates             {len(dup_keys)} IDs ({extra} extra): in flight at the kill {dup_kill}, at the cut {dup_cut}, unexplained {len(unexplained_dups)}
  deliveries by state             {dict(sorted(states.items()))}""")
    if failures:
        print("FAIL\n" + "\n".join("  - " + f for f in failures))
        print(f"  kept: work dir {work}, schema {db.schema} (drop: psql -c 'DROP SCHEMA {db.schema} CASCADE')")
        sys.exit(1)
    print("PASS")
    if KEEP:
        print(f"  kept: work dir {work}, schema {db.schema}")
    else:
        db.drop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
