#!/usr/bin/env python3
"""Disk-full test (issue 6, reliability: the disk fills up): when the store's disk fills up, the gateway refuses honestly (503
store_unavailable, never a 2xx for an event it did not store), and recovers by itself once space is freed.

The store lives on a small tmpfs (8 MB) mounted on a temporary directory, which also holds a 3 MB ballast file
written first. The gateway (durability fsync, one Standard Webhooks source forwarding to a receiver in this script,
admin listener with a token) is sent validly signed events with unique IDs and 1-4 KB bodies until its commits fail.
Then, while the disk is full, more events are sent and GET /readyz is asked (expected: 503). The ballast is deleted,
and the same gateway process must answer 200 again within RECOVER_LIMIT seconds, /readyz must answer 200, and a
further batch of events must all be acknowledged. Finally the queue drains to the receiver and the gateway is
stopped (SIGTERM, exit status 0), and the store is checked: every acknowledged ID is stored once, no ID that was only
ever refused is stored (the README promises "Nothing was stored"), PRAGMA integrity_check is ok, and every stored
event reached the receiver.

Needs root (mount). If mounting a tmpfs is not permitted, prints SKIP with the reason and exits 0; any other
problem exits 1. The tmpfs is unmounted and the temporary files removed on every exit path.

    scripts/disk-full
    INLET_BIN=/path/to/inlet TMPFS_SIZE=16m BALLAST_MB=6 scripts/disk-full

Env: INLET_BIN (default .build/release/inlet, built if missing) · TMPFS_SIZE (8m) · BALLAST_MB (3) · SENDERS (4
keep-alive connections) · RATE (400 events/s offered while filling) · RECOVER_LIMIT (10 s) · KEEP=1 (keep the work
dir, with a copy of the store, also kept on failure; the tmpfs is always unmounted). Runs in about 15 s. Python 3 standard library only.
"""
import collections, http.client, json, os, random, signal, subprocess, sys, tempfile, time

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Gateway, Provider, Receiver, check_config, free_port, inlet_binary, logger, percentiles,
                     stored_events, wait_for, whsec, write_config)

TMPFS_SIZE = os.environ.get("TMPFS_SIZE", "8m")
BALLAST_MB = int(os.environ.get("BALLAST_MB", 3))
SENDERS = int(os.environ.get("SENDERS", 4))
RATE = float(os.environ.get("RATE", 400))
RECOVER_LIMIT = float(os.environ.get("RECOVER_LIMIT", 10))
DRAIN_TIMEOUT = 20
KEEP = os.environ.get("KEEP") == "1"
SOURCE = "full"
PATH = f"/hooks/{SOURCE}"
ADMIN_TOKEN = "disk-full-" + os.urandom(8).hex()
log = logger("disk-full")


class FillProvider(Provider):
    """SENDERS keep-alive connections sending new, validly signed events with 1-4 KB bodies at a shared pace (lowered
    once the disk is full). Every answer is kept: answers[id] = [(monotonic time sent, status, reason)]."""

    def __init__(self, port, key):
        super().__init__(port, key, PATH, SENDERS, RATE)
        self.answers = collections.defaultdict(list)
        self.latencies = []
        self.next_id = 0

    def next_event(self, n):
        with self.lock:
            self.next_id += 1
            msg_id = f"evt_full_{self.next_id:06d}"
        pad = os.urandom(random.randint(700, 3000)).hex()[:random.randint(1000, 4000)]
        return msg_id, json.dumps({"type": "invoice.paid", "id": msg_id, "data": {"pad": pad}}).encode(), None

    def answered(self, msg_id, _, reply, slot, t_send):
        with self.lock:
            if reply.status is None:
                self.answers[msg_id].append((t_send, None, repr(reply.error)))
            else:
                self.latencies.append(time.monotonic() - t_send)
                self.answers[msg_id].append((t_send, reply.status, reply.reason))
        return False

    def since(self, t):
        """[(time sent, id, status, reason)] of answers to requests sent at or after t, in order."""
        with self.lock:
            out = [(a[0], k, a[1], a[2]) for k, v in self.answers.items() for a in v if a[0] >= t]
        return sorted(out)


def readyz(port):
    """(status, body) of GET /readyz on the admin listener."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/readyz", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return None, repr(e)
    finally:
        conn.close()


def used_kb(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize // 1024, st.f_blocks * st.f_frsize // 1024


def main():
    work = tempfile.mkdtemp(prefix="inlet-disk-full-")
    mnt = os.path.join(work, "data")
    os.mkdir(mnt)
    mounted = False
    started = []  # the gateway, once run() started it

    def cleanup(keep):
        for gateway in started:
            if gateway.alive():
                gateway.proc.kill()
                gateway.proc.wait()
        if mounted and keep:  # the store goes with the tmpfs: keep a copy for the investigation
            subprocess.run(f"cp -a {mnt}/inlet.sqlite* {work}/", shell=True)
        if mounted:
            r = subprocess.run(["umount", mnt], capture_output=True, text=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", mnt], capture_output=True)
        if keep:
            print(f"  work dir kept (config, gateway log, copy of the store): {work}")
        else:
            subprocess.run(["rm", "-rf", work])

    # SIGTERM/SIGINT run the same cleanup as a normal exit.
    def on_signal(signum, frame):
        raise SystemExit(f"interrupted by signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    rc = 1
    try:
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", "tmpfs", mnt],
                               capture_output=True, text=True)
        except FileNotFoundError:
            print("FAIL: `mount` is not installed (run this file with sh, which installs it, or apt-get install mount)")
            return rc
        if r.returncode != 0:
            why = " ".join((r.stderr or r.stdout).split())
            if os.geteuid() != 0 or any(w in why.lower() for w in ("permission denied", "not permitted", "superuser")):
                print(f"SKIP: mounting a tmpfs is not permitted here (uid {os.geteuid()}): {why}")
                rc = 0
            else:
                print(f"FAIL: cannot mount a tmpfs: {why}")
            return rc
        mounted = True
        binary = inlet_binary(log)
        rc = run(binary, work, mnt, started)
        return rc
    finally:
        cleanup(KEEP or rc != 0)


def run(binary, work, mnt, started):
    ballast = os.path.join(mnt, "ballast.bin")
    with open(ballast, "wb") as f:
        for _ in range(BALLAST_MB):
            f.write(os.urandom(1 << 20))
    store = os.path.join(mnt, "inlet.sqlite")
    secret, key = whsec()
    receiver = Receiver()
    port, admin_port = free_port(), free_port()
    config = write_config(os.path.join(work, "inlet.toml"), port, f"""
[store]
path = "{store}"
durability = "fsync"

[admin]
listen = "127.0.0.1:{admin_port}"
tokens = ["{ADMIN_TOKEN}"]

[delivery]
concurrency = 8
poll_interval_ms = 200

[log]
level = "notice"
format = "json"
""", SOURCE, secret, receiver, f"""
initial_backoff_ms = 100
max_backoff_ms = 1000
""")
    check_config(binary, config)
    gateway = Gateway(binary, config, port, os.path.join(work, "gateway.log"))
    gateway.start()
    started.append(gateway)
    if not gateway.wait_ready() or not gateway.wait_ready(port=admin_port):
        print(f"FAIL: the gateway did not start:\n{gateway.tail()}")
        return 1
    pid = gateway.proc.pid
    used, total = used_kb(mnt)
    log(f"binary {binary}, tmpfs {TMPFS_SIZE} ({used} of {total} KB used after a {BALLAST_MB} MB ballast), work dir {work}")
    failures = []
    t_begin = time.monotonic()
    provider = FillProvider(port, key)
    provider.start()

    # 1. Fill: until commits fail steadily (20 refusals in a row).
    first_503 = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and gateway.alive():
        recent = provider.since(t_begin)[-20:]
        if first_503 is None:
            first_503 = next((t for t, _, s, _ in recent if s == 503), None)
        if len(recent) == 20 and all(s == 503 for _, _, s, _ in recent):
            break
        time.sleep(0.05)
    else:
        failures.append("the disk never filled: no steady 503s within 30 s" if gateway.alive() else "the gateway died while filling")
    t_full = time.monotonic()
    acked_before_full = sum(1 for v in provider.answers.values() if any(s == 200 for _, s, _ in v))
    used_full, _ = used_kb(mnt)
    log(f"disk full after {t_full - t_begin:.1f} s: {acked_before_full} events acknowledged, {used_full} KB used")

    # 2. While full: keep sending for 2 s, at a lower pace; /readyz should say 503.
    provider.pace.rate = 100
    ready_full = []
    for _ in range(4):
        ready_full.append(readyz(admin_port))
        time.sleep(0.5)
    full_answers = provider.since(t_full)

    # 3. Free space, without touching the gateway: it must recover by itself.
    provider.pace.rate = 50
    os.unlink(ballast)
    t_freed = time.monotonic()
    recovered = ready_again = None
    while time.monotonic() - t_freed < RECOVER_LIMIT + 5 and gateway.alive():
        if recovered is None:
            recovered = next((t for t, _, s, _ in provider.since(t_freed) if s == 200), None)
        if ready_again is None and readyz(admin_port)[0] == 200:
            ready_again = time.monotonic()
        if recovered is not None and ready_again is not None:
            break
        time.sleep(0.1)
    recover_s = None if recovered is None else recovered - t_freed
    ready_s = None if ready_again is None else ready_again - t_freed
    if recover_s is None or recover_s > RECOVER_LIMIT:
        failures.append(f"ingress did not answer 200 again within {RECOVER_LIMIT:g} s of freeing {BALLAST_MB} MB"
                        + (f" (first 200 after {recover_s:.1f} s)" if recover_s is not None else ""))
    if ready_s is None or ready_s > RECOVER_LIMIT:
        failures.append(f"/readyz did not answer 200 within {RECOVER_LIMIT:g} s of freeing space: {readyz(admin_port)}")

    # 4. After recovery: one more second of events, every one acknowledged.
    t_after = time.monotonic() if recovered is None else max(recovered, time.monotonic()) + 0.5
    time.sleep(max(0.0, t_after - time.monotonic()) + 1.0)
    provider.stop()
    after = provider.since(t_after)
    after_bad = [(k, s, r) for _, k, s, r in after if s != 200]

    # 5. Drain the queue to the receiver, then stop.
    acked = {k for k, v in provider.answers.items() if any(s == 200 for _, s, _ in v)}
    drained = wait_for(lambda: acked <= receiver.keys(), DRAIN_TIMEOUT, 0.2, unless=lambda: not gateway.alive())
    same_process = gateway.alive() and gateway.proc.pid == pid
    stop_problem = gateway.stop()
    elapsed = time.monotonic() - t_begin

    # --- checks ---------------------------------------------------------------------------------------------------
    answers = provider.answers
    statuses = collections.Counter((s, r) for v in answers.values() for _, s, r in v)
    refused_only = {k for k, v in answers.items() if all(s != 200 for _, s, _ in v)}
    unexpected = {f"{s} {r}": n for (s, r), n in statuses.items() if not (s == 200 and r in ("accepted", "duplicate"))
                  and not (s == 503 and r == "store_unavailable")}
    integrity, stored = stored_events(store, SOURCE)
    stored_keys = set(stored)
    lost = sorted(acked - stored_keys)
    phantom = sorted(refused_only & stored_keys)
    twice = sorted(k for k, n in stored.items() if n > 1)
    undelivered = sorted(stored_keys - receiver.keys())
    n503 = statuses.get((503, "store_unavailable"), 0)
    full_503 = sum(1 for _, _, s, _ in full_answers if s == 503)
    full_200 = [(k, r) for _, k, s, r in full_answers if s == 200]

    if not same_process:
        failures.append(f"the gateway died during the run (exit status {gateway.proc.returncode}):\n{gateway.crash_report()}")
    elif stop_problem:
        failures.append(stop_problem)
    if n503 == 0:
        failures.append("no 503 store_unavailable was ever answered")
    if unexpected:
        failures.append(f"answers other than 200 or 503 store_unavailable: {unexpected}")
    if lost:
        failures.append(f"{len(lost)} acknowledged (2xx) events are not in the store, e.g. {lost[:5]}")
    if phantom:
        failures.append(f"{len(phantom)} events answered only 503 are in the store (README: nothing was stored), e.g. {phantom[:5]}")
    if twice:
        failures.append(f"stored twice: {twice[:5]}")
    if integrity != ["ok"]:
        failures.append(f"integrity_check: {integrity[:5]}")
    # A one-row write may still fit for a moment after 1-4 KB events stop fitting (each success takes a WAL frame),
    # so an early 200 is reported, not failed; after 2 s of steady refusals /readyz must say 503.
    if not ready_full or ready_full[-1][0] != 503:
        failures.append(f"/readyz still answered {ready_full[-1] if ready_full else None} after 2 s of a full disk: {ready_full}")
    if after_bad:
        failures.append(f"{len(after_bad)} of {len(after)} events after recovery were not acknowledged, e.g. {after_bad[:3]}")
    if not drained:
        failures.append(f"{len(acked - receiver.keys())} acknowledged events not delivered within {DRAIN_TIMEOUT} s of "
                        f"recovery, e.g. {sorted(acked - receiver.keys())[:5]}")
    elif undelivered:
        failures.append(f"{len(undelivered)} stored events never delivered, e.g. {undelivered[:5]}")

    p50, p99, mx = percentiles(provider.latencies)
    fmt = lambda x: "never" if x is None else f"{x:.2f} s"
    print(f"""disk full ({os.path.basename(binary)}, tmpfs {TMPFS_SIZE}, {BALLAST_MB} MB ballast, fsync): {elapsed:.1f} s
  acknowledged before the disk was full  {acked_before_full} events (first 503 at {fmt(None if first_503 is None else first_503 - t_begin)}, steady at {t_full - t_begin:.2f} s; {used_full} KB used)
  while full (2 s)                       {full_503} × 503 store_unavailable, {len(full_200)} × 200{' (stored: ' + str(sum(k in stored_keys for k, _ in full_200)) + ')' if full_200 else ''}
  /readyz while full                     {', '.join(str(s) for s, _ in ready_full)}
  recovery after freeing {BALLAST_MB} MB           first 200 after {fmt(recover_s)}, /readyz 200 after {fmt(ready_s)} (same process: {'yes' if same_process else 'no'})
  after recovery                         {len(after) - len(after_bad)} of {len(after)} acknowledged
  all answers                            {', '.join(f'{n} × {s} {r}' for (s, r), n in statuses.most_common())}
  latency                                p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {mx * 1000:.1f} ms
  store                                  {sum(stored.values())} events; acknowledged and stored {len(acked) - len(lost)} of {len(acked)}; refused and stored {len(phantom)}; integrity {', '.join(integrity[:2])}
  delivered to the receiver              {len(receiver.keys() & stored_keys)} of {len(stored_keys)} stored events""")
    if failures:
        print("FAIL\n" + "\n".join("  - " + f for f in failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
