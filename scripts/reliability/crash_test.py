#!/usr/bin/env python3
"""Crash test (issue 6, reliability test 1): no acknowledged event is lost when the gateway is killed.

Senders POST validly signed Standard Webhooks events to an Inlet gateway over several keep-alive connections and
remember every event ID that got a 2xx ack ("accepted" or "duplicate"). Meanwhile the gateway is killed with SIGKILL
at random moments and started again, ROUNDS times. Some already-acknowledged IDs are sent again on purpose
(duplicates), and IDs whose request got no answer (in flight at a kill) are retried, as a provider would. The
gateway forwards to a receiver inside this script (loopback, threaded http.server) that checks each Standard
Webhooks signature and records the provider event ID (the CloudEvent's `inleteventkey`).

After the last kill the gateway is started once more, the queue drains, the gateway is stopped, and the store is
checked: every acknowledged ID is stored (events.event_key) and was delivered at least once; no (source, event_key)
is stored twice; PRAGMA integrity_check is ok. Receiver duplicates are counted; they are allowed only for events
whose deliveries straddle a kill. Exits 1 on any loss or failed check.

    scripts/crash-test                   # CI mode: 5 kills, well under 90 s
    LONG=1 scripts/crash-test            # 40 kills
    INLET_BIN=/path/to/inlet ROUNDS=10 SEED=7 scripts/crash-test

Env: INLET_BIN (default .build/release/inlet, built if missing) · ROUNDS (5; LONG=1: 40) · KILL_MIN, KILL_MAX
(seconds from a start to its kill: 0.2 and 10) · RATE (events/s offered, all connections together: 400; LONG: 800;
0 = as fast as possible) · CONNS (6 keep-alive connections) · DUP_RATE (0.05 of sends re-send an acknowledged ID) ·
DURABILITY (fsync) · SEED (random) · DRAIN_TIMEOUT (45 s) · KEEP=1 (keep the work dir: config, store, gateway log).
Python 3 standard library only.
"""
import bisect, collections, os, random, sqlite3, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Gateway, Provider, Receiver, check_config, event_body, free_port, inlet_binary, logger,
                     store_count, wait_for, whsec, write_config)

LONG = os.environ.get("LONG") == "1"
ROUNDS = int(os.environ.get("ROUNDS", 40 if LONG else 5))
KILL_MIN = float(os.environ.get("KILL_MIN", 0.2))
KILL_MAX = float(os.environ.get("KILL_MAX", 10))
RATE = float(os.environ.get("RATE", 800 if LONG else 400))
CONNS = int(os.environ.get("CONNS", 6))
DUP_RATE = float(os.environ.get("DUP_RATE", 0.05))
DURABILITY = os.environ.get("DURABILITY", "fsync")
SEED = int(os.environ.get("SEED", random.randrange(1 << 30)))
DRAIN_TIMEOUT = float(os.environ.get("DRAIN_TIMEOUT", 45))
KEEP = os.environ.get("KEEP") == "1"
SOURCE = "crash"
log = logger("crash-test")


def delivery_detail(d, t0):
    """One delivery (a Receiver.Delivery), for the report on unexplained duplicates; times are seconds since t0."""
    return (f"t={d.t - t0:.3f}s attempt={d.attempt} delivery={d.delivery_id} webhook-timestamp={d.webhook_ts} "
            f"client_port={d.client_port} connection_accepted={d.accepted - t0:.3f}s")


class CrashProvider(Provider):
    """Sends events like a webhook provider: new IDs, deliberate re-sends of acknowledged IDs, retries of unanswered ones."""

    def __init__(self, port, key, rng):
        super().__init__(port, key, f"/hooks/{SOURCE}", CONNS, RATE)
        self.rng = rng
        self.acked = set()        # IDs with a 2xx ack
        self.acked_list = []      # the same, for random choice
        self.in_doubt = set()     # sent, no answer (in flight at a kill), not acknowledged since
        self.retry = collections.deque()
        self.next_id = 0
        self.acks = self.resends = self.resend_dups = 0
        self.unanswered = 0                      # sends with no answer (connection lost mid-request)
        self.retry_answers = collections.Counter()  # first answer to a retried unanswered ID: accepted / duplicate
        self.dedup_violations = []   # an acknowledged ID sent again and answered "accepted"
        self.unexpected = collections.Counter()
        self.new_events = True

    def next_event(self, n):
        """(key, body, kind): kind is new, resend (of an acknowledged ID) or retry (of an unanswered one)."""
        with self.lock:
            if self.retry and (self.rng.random() < 0.3 or not self.new_events):
                key, kind = self.retry.popleft(), "retry"
            elif not self.new_events:
                return None
            elif self.acked_list and self.rng.random() < DUP_RATE:
                key, kind = self.rng.choice(self.acked_list), "resend"
            else:
                self.next_id += 1
                key, kind = f"evt_crash_{SEED}_{self.next_id:07d}", "new"
        return key, event_body(key, "crash test"), kind

    def answered(self, key, kind, reply, slot, t_send):
        if not reply.sent:  # the gateway is down: nothing was sent, try the same ID again shortly
            return True
        with self.lock:
            if reply.status is None:
                self.unanswered += 1
                if key not in self.acked and key not in self.in_doubt:
                    self.in_doubt.add(key)
                    self.retry.append(key)
                elif key in self.in_doubt:
                    self.retry.append(key)
            elif reply.acked:
                status = reply.outcome
                self.acks += 1
                if kind == "resend":
                    self.resends += 1
                    if status == "duplicate":
                        self.resend_dups += 1
                    else:
                        self.dedup_violations.append(key)
                if key not in self.acked:
                    self.acked.add(key)
                    self.acked_list.append(key)
                if key in self.in_doubt:
                    self.retry_answers[status] += 1
                self.in_doubt.discard(key)
            else:
                # 503 shutting_down/store_unavailable: nothing stored, the provider retries.
                self.unexpected[f"{reply.status} {reply.text[:80]}"] += 1
                if key not in self.acked:
                    self.in_doubt.add(key)
                    self.retry.append(key)
        return False


def main():
    binary = inlet_binary(log)
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="inlet-crash-")
    store = os.path.join(work, "inlet.sqlite")
    src_secret, src_key = whsec()
    receiver = Receiver()
    port = free_port()
    config = write_config(os.path.join(work, "inlet.toml"), port, f"""
[store]
path = "{store}"
durability = "{DURABILITY}"

[delivery]
concurrency = 16
lease_seconds = 5
poll_interval_ms = 100

[log]
level = "notice"
format = "json"
""", SOURCE, src_secret, receiver, f"""
timeout_seconds = 5
max_attempts = 1000
initial_backoff_ms = 50
max_backoff_ms = 500
circuit_open_ms = 200
circuit_max_open_ms = 1000
max_concurrency = 16
""")
    check_config(binary, config)

    log(f"binary {binary}, seed {SEED}, {ROUNDS} kills, {CONNS} connections, {RATE:g} events/s, work dir {work}")
    t_begin = time.monotonic()
    gateway = Gateway(binary, config, port, os.path.join(work, "gateway.log"))
    provider = CrashProvider(port, src_key, rng)
    failures = []

    gateway.start()
    if not gateway.wait_ready():
        sys.exit(f"the gateway did not start:\n{gateway.tail()}")
    provider.start()
    restarts = 0
    for round_no in range(1, ROUNDS + 1):
        # Measured from the start, not from readiness, so some kills land during start-up and recovery.
        time.sleep(max(0.0, gateway.started + rng.uniform(KILL_MIN, KILL_MAX) - time.time()))
        gateway.kill()
        with provider.lock:
            acked = len(provider.acked)
        log(f"kill {round_no}/{ROUNDS} (pid {gateway.proc.pid}): {acked} IDs acknowledged so far")
        time.sleep(rng.uniform(0, 0.5))
        gateway.start()
        restarts += 1
        if not gateway.wait_ready():
            failures.append(f"the gateway did not come back after kill {round_no}")
            log(f"the gateway did not come back after kill {round_no}:\n{gateway.tail()}")
            break
    # Last lifetime: some more load, then no new IDs; unanswered ones are retried until acknowledged.
    time.sleep(2)
    provider.new_events = False
    wait_for(lambda: not provider.in_doubt, 15)
    provider.stop()

    # Drain: nothing pending in the store and every acknowledged ID seen by the receiver.
    drained = wait_for(lambda: store_count(store) == 0 and provider.acked <= receiver.keys(), DRAIN_TIMEOUT, 0.25,
                       unless=lambda: not gateway.alive())
    if not drained:
        failures.append(f"the queue did not drain within {DRAIN_TIMEOUT:g} s (pending: {store_count(store)})")
    time.sleep(0.5)  # let a late duplicate delivery in flight land
    if not gateway.terminate():
        failures.append("the gateway did not exit within 20 s of SIGTERM")
    elapsed = time.monotonic() - t_begin

    # --- checks ---------------------------------------------------------------------------------------------------
    db = sqlite3.connect(store)
    integrity = [r[0] for r in db.execute("PRAGMA integrity_check")]
    fk = db.execute("PRAGMA foreign_key_check").fetchall()
    stored = collections.Counter(k for (k,) in db.execute("SELECT event_key FROM events WHERE source = ?", (SOURCE,)))
    twice = db.execute("SELECT source, event_key, count(*) FROM events GROUP BY source, event_key HAVING count(*) > 1").fetchall()
    states = dict(db.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
    # Replays add deliveries on purpose; older stores have no replay column (and no replays).
    has_replay = any(c[1] == "replay" for c in db.execute("PRAGMA table_info(deliveries)"))
    queued_twice = db.execute("SELECT count(*) FROM (SELECT event_id FROM deliveries "
                              f"{'WHERE replay = 0 ' if has_replay else ''}GROUP BY event_id, destination "
                              "HAVING count(*) > 1)").fetchone()[0]
    db.close()

    acked = provider.acked
    lost = sorted(acked - set(stored))
    delivered = receiver.deliveries
    undelivered = sorted(acked - set(delivered))
    dup_keys = {k: v for k, v in delivered.items() if len(v) > 1}
    unexplained, two_ids = [], []
    for k, v in dup_keys.items():
        # A connection accepted before a start cannot come from that process or a later one. An event is allowed
        # once per gateway process: more than one delivery from the same process is a duplicate no kill explains.
        lifetimes = [bisect.bisect_right(gateway.starts, d.accepted) - 1 for d in v]
        if len(set(lifetimes)) < len(lifetimes):
            unexplained.append(k)
        if len({d.inlet_id for d in v}) > 1:
            two_ids.append(k)
    extra_deliveries = sum(len(v) - 1 for v in dup_keys.values())

    if lost: failures.append(f"{len(lost)} acknowledged IDs are not in the store, e.g. {lost[:5]}")
    if undelivered: failures.append(f"{len(undelivered)} acknowledged IDs were never delivered, e.g. {undelivered[:5]}")
    if twice: failures.append(f"{len(twice)} (source, event_key) stored more than once, e.g. {twice[:5]}")
    if two_ids: failures.append(f"{len(two_ids)} provider IDs delivered under two Inlet event IDs, e.g. {two_ids[:5]}")
    if queued_twice: failures.append(f"{queued_twice} events queued twice for the same destination")
    if integrity != ["ok"]: failures.append(f"integrity_check: {integrity[:5]}")
    if fk: failures.append(f"foreign_key_check: {fk[:5]}")
    if provider.dedup_violations:
        failures.append(f"{len(provider.dedup_violations)} re-sends of acknowledged IDs were answered 'accepted', "
                        f"e.g. {provider.dedup_violations[:5]}")
    if unexplained:
        kills = ", ".join(f"{k - receiver.t0:.3f}s" for k in gateway.kills)
        failures.append(f"{len(unexplained)} IDs delivered more than once by the same gateway process (kills at {kills}):"
                        + "".join(f"\n      {k}: " + "; ".join(delivery_detail(d, receiver.t0) for d in delivered[k])
                                  for k in unexplained[:5]))
    if states.get("dead"): failures.append(f"{states['dead']} deliveries dead-lettered")
    if states.get("pending"): failures.append(f"{states['pending']} deliveries still pending")
    if receiver.bad_signatures: failures.append(f"{receiver.bad_signatures} deliveries with a bad signature")
    if receiver.malformed: failures.append(f"{receiver.malformed} deliveries that are not CloudEvents with inleteventkey")
    if provider.in_doubt:
        failures.append(f"{len(provider.in_doubt)} IDs never answered despite retries, e.g. {sorted(provider.in_doubt)[:5]}")

    unexpected = ", ".join(f"{n}× {k}" for k, n in provider.unexpected.most_common(4)) or "none"
    print(f"""crash test ({'LONG' if LONG else 'CI'} mode, seed {SEED}, {DURABILITY}, {os.path.basename(binary)}): {elapsed:.1f} s
  kills survived                  {len(gateway.kills)} (restarts: {restarts})
  events acknowledged             {len(acked)} IDs ({provider.acks} acks, of which {provider.resends} deliberate re-sends: {provider.resend_dups} answered duplicate)
  stored events                   {sum(stored.values())} (acknowledged IDs stored: {len(acked) - len(lost)})
  lost (acknowledged, not stored) {len(lost)}
  acknowledged, never delivered   {len(undelivered)}
  deliveries received             {sum(len(v) for v in delivered.values())} for {len(delivered)} IDs
  delivered duplicates            {len(dup_keys)} IDs ({extra_deliveries} extra deliveries); more than once by one process: {len(unexplained)}
  stored twice                    {len(twice)}
  sends with no answer (at kills)  {provider.unanswered}; on retry those IDs were answered accepted {provider.retry_answers['accepted']}× (not stored before the kill), duplicate {provider.retry_answers['duplicate']}× (stored, ack lost)
  unanswered IDs left             {len(provider.in_doubt)}
  other answers                   {unexpected}
  deliveries by state             {dict(sorted(states.items()))}
  integrity_check                 {', '.join(integrity[:3])}""")
    if failures:
        print("FAIL\n" + "\n".join("  - " + f for f in failures))
        print(f"  work dir kept: {work}")
        sys.exit(1)
    print("PASS")
    if not KEEP:
        subprocess.run(["rm", "-rf", work])
    else:
        print(f"  work dir kept: {work}")


if __name__ == "__main__":
    main()
