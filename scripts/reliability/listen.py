#!/usr/bin/env python3
"""The `inlet listen` test (issue 16): a developer's laptop consumes a stream and forwards each event to a local server,
and nothing is lost across what a laptop lives through.

A gateway whose Standard Webhooks source routes to the stream `ledger`; `inlet listen ledger --forward-to <local>`
as the consumer group `laptop`; a provider sending signed events. Phases, each sending EVENTS events:
  1. steady: they reach the local server;
  2. the local server is down (connections refused) for DOWN seconds while events arrive: all reach it once it is back;
  3. the gateway is SIGKILLed and started again while `inlet listen` runs: it reconnects and all arrive;
  4. `inlet listen` is SIGKILLed while it forwards, then started again: it resumes from the group's cursor.
Checks: every acknowledged event reached the local server; an event reached it twice only for a kill (at most one per
kill of `inlet listen` or of the gateway: the event whose acknowledgement was in flight).

Settings (environment): INLET_BIN (default .build/release/inlet, built if missing), EVENTS (per phase, default 40),
DOWN (seconds, default 4)."""
import os, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, Client, Gateway, Receiver, check_config, event_body, free_port, inlet_binary, logger, signed_headers, wait_for, whsec

log = logger("listen")
EVENTS = int(os.environ.get("EVENTS", "40"))
DOWN = float(os.environ.get("DOWN", "4"))
TOKEN = "listen-test-consumer-token"


class Listener:
    """One `inlet listen` process at a time; its output goes to `logfile`."""

    def __init__(self, binary, config, admin_port, local_port, logfile):
        self.command = [binary, "listen", "ledger", "--forward-to", f"http://127.0.0.1:{local_port}/events", "--group", "laptop",
                        "--admin", f"http://127.0.0.1:{admin_port}", "--token", TOKEN, "--config", config]
        self.logfile, self.proc, self.kills = logfile, None, 0

    def start(self):
        with open(self.logfile, "ab") as out:
            out.write(f"--- start {time.strftime('%H:%M:%S')}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=out)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def tail(self, n=15):
        with open(self.logfile, "rb") as f:
            return b"".join(f.readlines()[-n:]).decode(errors="replace")


def main():
    binary = inlet_binary(log)
    work = tempfile.mkdtemp(prefix="inlet-listen-")
    src_secret, src_key = whsec()
    port, admin_port = free_port(), free_port()
    local = Receiver()
    config = os.path.join(work, "inlet.toml")
    with open(config, "w") as f:
        f.write(f"""# Written by scripts/reliability/listen.py.
providers_dir = "{ROOT}/providers"

[server]
listen = "127.0.0.1:{port}"

[store]
path = "{work}/inlet.sqlite"

[admin]
listen = "127.0.0.1:{admin_port}"
tokens = ["admin-token-not-for-streams"]

[streams.ledger]
tokens = ["{TOKEN}"]
lease_seconds = 10

[sources.hooks]
provider = "standard-webhooks"
secrets = ["{src_secret}"]
destinations = ["stream:ledger"]
""")
    check_config(binary, config)
    gateway = Gateway(binary, config, port, os.path.join(work, "gateway.log"))
    gateway.start()
    if not gateway.wait_ready() or not gateway.wait_ready(port=admin_port):
        sys.exit(f"the gateway did not start:\n{gateway.tail()}")
    listener = Listener(binary, config, admin_port, local.port, os.path.join(work, "listen.log"))
    listener.start()

    acked, sent = set(), 0
    client = Client(port)

    def send(n, note):
        """Sends n new events; retries each until the gateway acknowledges it (it may be restarting)."""
        nonlocal sent
        for _ in range(n):
            key = f"evt_listen_{sent:05d}"
            sent += 1
            body = event_body(key, note)
            for _ in range(300):
                reply = client.post("/hooks/hooks", body, signed_headers(src_key, key, body))
                if reply.acked:
                    acked.add(key)
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"{key} was never acknowledged: {reply.outcome}\n{gateway.tail()}")

    def arrived(timeout=60):
        return wait_for(lambda: acked <= local.keys(), timeout)

    failures = []

    def check(phase, timeout=60):
        if arrived(timeout):
            log(f"{phase}: all {len(acked)} acknowledged events reached the local server")
        else:
            missing = sorted(acked - local.keys())
            failures.append(f"{phase}: {len(missing)} acknowledged events never reached the local server, e.g. {missing[:5]}")
            log(failures[-1] + "\n" + listener.tail())

    send(EVENTS, "steady")
    check("1 steady")

    local.set_mode("refused")
    send(EVENTS, "local server down")
    time.sleep(DOWN)
    if local.keys() >= acked:
        failures.append("2 local server down: events arrived while it was down (the test did not test)")
    local.set_mode("up")
    check("2 local server down, then back")

    gateway.kill()
    time.sleep(0.5)
    gateway.start()
    if not gateway.wait_ready() or not gateway.wait_ready(port=admin_port):
        sys.exit(f"the gateway did not start again:\n{gateway.tail()}")
    send(EVENTS, "after gateway restart")
    check("3 gateway killed and restarted")

    # Kill `inlet listen` while it forwards: the local server answers slowly, so a forward is in flight.
    local.before_answer = lambda sender: time.sleep(0.05)
    send(EVENTS, "listen killed")
    wait_for(lambda: len(local.keys() & acked) > len(acked) - EVENTS // 2, 30)
    listener.kill()
    time.sleep(0.5)
    listener.start()
    local.before_answer = None
    send(EVENTS // 2, "after listen restart")
    check("4 inlet listen killed and restarted")

    with local.lock:
        twice = {k: len(v) for k, v in local.deliveries.items() if len(v) > 1}
    allowed = listener.kills + len(gateway.kills)
    log(f"{sent} sent, {len(acked)} acknowledged, {len(local.keys())} reached the local server; "
        f"{sum(n - 1 for n in twice.values())} repeat(s) for {allowed} kill(s)")
    if sum(n - 1 for n in twice.values()) > allowed:
        failures.append(f"events reached the local server more than once beyond one per kill: {twice}")
    if local.malformed:
        failures.append(f"{local.malformed} forwarded requests were not CloudEvents with inleteventkey")
    stray = local.keys() - acked
    if stray:
        failures.append(f"events nobody sent reached the local server: {sorted(stray)[:5]}")

    listener.stop()
    problem = gateway.stop()
    if problem:
        failures.append(problem)
    if failures:
        print("FAIL\n" + "\n".join(failures) + f"\n(logs in {work})")
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
