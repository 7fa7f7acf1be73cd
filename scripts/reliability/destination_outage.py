#!/usr/bin/env python3
"""Destination outage (issue 6, reliability test 3): a destination that goes away under load costs ingress nothing,
and everything acknowledged meanwhile is delivered once it is back.

A provider sends validly signed Standard Webhooks events at a fixed rate over keep-alive connections for the whole
run. The gateway forwards them to a receiver inside this script, which goes through these phases:

    up        UP_SECS      answers 200
    refused   DOWN_SECS    stops listening and resets its open connections (a crashed service)
    up        UP_SECS
    hang      DOWN_SECS    accepts and reads, never answers (a stuck service: the gateway's attempts time out)
    up        AFTER_SECS   then the provider stops and the queue must drain within DRAIN_TIMEOUT

Checks: every request is acknowledged 2xx in every phase (a destination's state never reaches ingress); the ack
latency p99 during each outage stays within ACK_P99_BUDGET; after recovery the queue drains by itself; every
acknowledged event is delivered at least once, with a valid signature; PRAGMA integrity_check is ok. Prints ack
latency per phase, the queue's peak depth, attempts made, time to drain. Exits 1 on any failed check.

    scripts/destination-outage                       # CI: about 35 s
    INLET_BIN=.build/release/inlet RATE=2000 ACK_P99_BUDGET=0.005 scripts/destination-outage

Env: INLET_BIN (default .build/release/inlet, built if missing) · RATE (events/s offered, all connections: 300) ·
CONNS (8) · UP_SECS (4) · DOWN_SECS (8) · AFTER_SECS (4) · ACK_P99_BUDGET (seconds: 0.1, generous for a debug build
and a Python client; the release figure belongs in benchmarks/load/RESULTS.md) · DRAIN_TIMEOUT (30) · KEEP=1 (keep the work
dir). Python 3 standard library only.
"""
import collections, json, math, os, sys, tempfile, threading, time, shutil

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Gateway, Pace, Provider, Receiver, check_config, free_port, inlet_binary, logger, percentiles,
                     store_count, stored_events, wait_for, whsec, write_config)

RATE = float(os.environ.get("RATE", 300))
CONNS = int(os.environ.get("CONNS", 8))
UP_SECS = float(os.environ.get("UP_SECS", 4))
DOWN_SECS = float(os.environ.get("DOWN_SECS", 8))
AFTER_SECS = float(os.environ.get("AFTER_SECS", 4))
ACK_P99_BUDGET = float(os.environ.get("ACK_P99_BUDGET", 0.1))
DRAIN_TIMEOUT = float(os.environ.get("DRAIN_TIMEOUT", 30))
KEEP = os.environ.get("KEEP") == "1"
SOURCE = "outage"
log = logger("destination-outage")


class OutageProvider(Provider):
    """CONNS threads, each on its own keep-alive connection and its own schedule of RATE / CONNS events per second.
    Latency is measured from each request's scheduled time, so a slow answer cannot hide the requests it delayed."""

    def __init__(self, port, key):
        super().__init__(port, key, f"/hooks/{SOURCE}", CONNS, RATE)
        self.phase = "up-1"
        self.latency = collections.defaultdict(list)  # phase -> seconds
        self.statuses = collections.defaultdict(collections.Counter)  # phase -> status -> count
        self.acked = set()
        self.seq = [0] * CONNS
        self.t_start = time.monotonic()

    def pacer(self, n):
        return Pace(RATE / CONNS, slack=math.inf, start=self.t_start + n / RATE)

    def next_event(self, n):
        self.seq[n] += 1
        msg_id = f"msg_outage_{n}_{self.seq[n]}"
        body = json.dumps({"type": "outage.test", "id": msg_id, "data": {"n": self.seq[n]}}).encode()
        return msg_id, body, self.phase

    def answered(self, msg_id, phase, reply, scheduled, t_send):
        status = type(reply.error).__name__ if reply.status is None else reply.status
        elapsed = time.monotonic() - scheduled
        with self.lock:
            self.statuses[phase][status] += 1
            if isinstance(status, int) and 200 <= status < 300:
                self.acked.add(msg_id)
                self.latency[phase].append(elapsed)
        return False


def main():
    binary = inlet_binary(log)
    work = tempfile.mkdtemp(prefix="inlet-outage-")
    store = os.path.join(work, "inlet.sqlite")
    src_secret, src_key = whsec()
    receiver = Receiver()
    port = free_port()
    config = write_config(os.path.join(work, "inlet.toml"), port, f"""
[store]
path = "{store}"

[log]
level = "error"
""", SOURCE, src_secret, receiver, f"""
timeout_seconds = 1
max_attempts = 1000
initial_backoff_ms = 100
max_backoff_ms = 1000
circuit_open_ms = 250
circuit_max_open_ms = 1000
max_concurrency = 16
""")
    check_config(binary, config)
    gateway = Gateway(binary, config, port, os.path.join(work, "gateway.log"))
    gateway.start()
    if not gateway.wait_ready():
        sys.exit(f"the gateway did not start:\n{gateway.tail()}")
    log(f"binary {binary}, {RATE:g} events/s over {CONNS} connections, work dir {work}")

    provider = OutageProvider(port, src_key)
    peak_pending = [0]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            peak_pending[0] = max(peak_pending[0], store_count(store) or 0)
            sampling.wait(0.25)

    threading.Thread(target=sample, daemon=True).start()
    provider.start()
    phases = [("up-1", "up", UP_SECS), ("refused", "refused", DOWN_SECS), ("up-2", "up", UP_SECS),
              ("hang", "hang", DOWN_SECS), ("up-3", "up", AFTER_SECS)]
    t_recovered = None
    for name, mode, secs in phases:
        receiver.set_mode(mode)
        provider.phase = name
        log(f"destination {mode} for {secs:g} s")
        if name == "up-3":
            t_recovered = time.monotonic()
        time.sleep(secs)
    provider.stop()

    failures = []
    drained_after = None
    if wait_for(lambda: provider.acked <= receiver.keys() and store_count(store) == 0, DRAIN_TIMEOUT, 0.2):
        drained_after = time.monotonic() - t_recovered
    sampling.set()
    pending, attempts = store_count(store), store_count(store, "SELECT count(*) FROM attempts")
    if drained_after is None:
        failures.append(f"the queue did not drain within {DRAIN_TIMEOUT:g} s of the load's end (pending {pending})")
    stop_error = gateway.stop()
    if stop_error:
        failures.append(stop_error)

    integrity, stored = stored_events(store, SOURCE)
    stored = set(stored)

    delivered = receiver.keys()
    sent = sum(sum(c.values()) for c in provider.statuses.values())
    not_acked = {p: {s: n for s, n in c.items() if not (isinstance(s, int) and 200 <= s < 300)} for p, c in provider.statuses.items()}
    not_acked = {p: c for p, c in not_acked.items() if c}
    if not_acked:
        failures.append(f"requests not acknowledged 2xx: {not_acked}")
    if provider.acked - stored:
        failures.append(f"{len(provider.acked - stored)} acknowledged IDs are not stored")
    if provider.acked - delivered:
        failures.append(f"{len(provider.acked - delivered)} acknowledged IDs were never delivered, e.g. {sorted(provider.acked - delivered)[:5]}")
    if receiver.bad_signatures:
        failures.append(f"{receiver.bad_signatures} deliveries with a bad signature")
    if integrity != ["ok"]:
        failures.append(f"integrity_check: {integrity[:5]}")

    lines = []
    for name, mode, secs in phases:
        p50, p99, mx = percentiles(provider.latency[name])
        n = sum(provider.statuses[name].values())
        lines.append(f"  {name:<8} {mode:<8} {n:>6} requests  ack p50 {p50 * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms  max {mx * 1000:7.2f} ms")
        if mode != "up" and p99 > ACK_P99_BUDGET:
            failures.append(f"ack p99 {p99 * 1000:.1f} ms while the destination was {mode}: over the budget of {ACK_P99_BUDGET * 1000:g} ms")
    duplicates = sum(len(v) - 1 for v in receiver.deliveries.values())
    print(f"""destination outage ({os.path.basename(binary)}, {RATE:g} events/s offered, {CONNS} connections)
{chr(10).join(lines)}
  sent {sent}, acknowledged {len(provider.acked)}, stored {len(stored & provider.acked)}, delivered {len(delivered & provider.acked)} \
(extra deliveries {duplicates}), lost 0 if green
  queue peak {peak_pending[0]} pending, {attempts} attempts in all, drained {f'{drained_after:.1f} s' if drained_after is not None else 'never'} after the destination came back
  integrity_check {integrity[0]}""")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print(f"gateway log tail:\n{gateway.tail()}")
        print(f"work dir kept: {work}")
        sys.exit(1)
    if KEEP:
        print(f"work dir kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
