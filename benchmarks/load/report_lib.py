"""What the load scripts' Markdown reports share: reading the `run=… key=value` lines of a results file, formatting
figures, and the machine/build facts each report opens with. Imported by the report step of run-suite.sh and
run-scaleout.sh (they run `python3` with this folder on PYTHONPATH)."""
import os, subprocess


def load_runs(path):
    """One dict per `run=NAME key=value …` line, by run name. A key repeated on a line keeps "yes" if any says so
    (the scale-out script marks `compiling=yes` once per instance)."""
    runs = {}
    for line in open(path):
        kv = {}
        for part in line.split():
            if "=" in part:
                k, v = part.split("=", 1)
                kv[k] = "yes" if kv.get(k) == "yes" or v == "yes" else v
        if "run" in kv:
            runs[kv["run"]] = kv
    return runs


def figure(runs, run, key, default=None):
    try:
        return float(runs[run][key])
    except (KeyError, ValueError):
        return default


def errors(runs, run):
    r = runs.get(run, {})
    keys = ("connect_errors", "read_errors", "write_errors", "timeouts", "status_ge_400")
    return str(sum(int(float(r.get(k, 0))) for k in keys))


def ms(v): return "—" if v is None else (f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms")
def rps(v): return "—" if v is None else f"{v:,.0f}"
def us(v): return "—" if v is None else f"{v:.0f}"
def mb(kb): return "—" if not kb else f"{kb / 1024:.0f} MB"
def ratio(a, b, fmt="{:.2f}×"): return "—" if a is None or not b else fmt.format(a / b)


def build_facts(root, binary):
    """(repository revision, `inlet --version`, CPU model)."""
    rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return rev, ver, cpu
