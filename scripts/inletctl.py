"""Shared by the reliability scripts (scripts/hostile-clients, scripts/disk-full): find the binary, write a temporary
config, sign Standard Webhooks requests, start and stop the gateway. The same approach as scripts/crash-test, which
keeps its own copy. Python 3 standard library only."""
import base64, hashlib, hmac, os, signal, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def logger(name):
    def log(msg):
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
    return log


def inlet_binary(log):
    """INLET_BIN, else .build/release/inlet (built when missing, as scripts/crash-test does)."""
    path = os.environ.get("INLET_BIN") or os.path.join(ROOT, ".build/release/inlet")
    if not os.access(path, os.X_OK):
        if os.environ.get("INLET_BIN"):
            sys.exit(f"INLET_BIN={path} is not executable")
        log("building Inlet (release)")
        subprocess.run(["swift", "build", "-c", "release", "--product", "inlet"], cwd=ROOT, check=True)
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


def raw_request(path, headers, body, extra=b""):
    """The bytes of an HTTP/1.1 POST; `extra` is inserted verbatim among the headers (for malformed variants)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + extra + b"\r\n" + body


def check_config(binary, config):
    check = subprocess.run([binary, "check-config", "--config", config], capture_output=True, text=True)
    if check.returncode != 0:
        sys.exit(f"check-config refused the test config:\n{check.stdout}{check.stderr}")


class Gateway:
    """One `inlet serve` process; its stdout and stderr go to `logfile`."""

    def __init__(self, binary, config, port, logfile):
        self.binary, self.config, self.port, self.logfile = binary, config, port, logfile
        self.proc = None

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

    def stop(self, timeout=20):
        """SIGTERM; None if the gateway exited cleanly (status 0) within the timeout, otherwise what went wrong."""
        if not self.alive():
            return f"the gateway was not running (exit status {self.proc.returncode if self.proc else None})"
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
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
        out = [l for l in lines if "Fatal error" in l or "Program crashed" in l or "BUG IN" in l]
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


def percentiles(values):
    """(p50, p99, max) of a list of numbers; zeros when empty."""
    if not values:
        return 0.0, 0.0, 0.0
    v = sorted(values)
    return v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.99))], v[-1]
