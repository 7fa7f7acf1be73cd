#!/usr/bin/env bash
# Micro-benchmarks of Inlet's per-request work (issue 6): signature verification per scheme and body size, the whole
# admission decision, signature-header parsing, HTTP request decoding, JSON pointer extraction, CloudEvents encoding
# and one group-commit batch in the SQLite store. ordo-one/benchmark, in the separate package benchmarks/micro/ (so the
# gateway never depends on the framework); release build in benchmarks/micro/.build.
#   bash benchmarks/load/run-micro.sh [filter-regex]
# INLET_BENCH_MAX_MS: how long each benchmark runs (default 1000 ms; 46 benchmarks, each in its own process; about 100 s in all).
# Prints a markdown table and writes it to benchmarks/load/out/micro-<date>.md, with the raw percentile files beside it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
filter=${1:-}
export INLET_BENCH_MAX_MS=${INLET_BENCH_MAX_MS:-1000}
export INLET_ROOT="$root"
stamp=$(date -u +%Y-%m-%d-%H%M%S)
raw="$here/out/micro-$stamp"
report="$here/out/micro-$stamp.md"
mkdir -p "$raw"

cd "$root/benchmarks/micro"
t0=$(date +%s)
nice -n 10 swift build -c release --product InletMicro 2>&1 | grep -E "error|warning: .*InletMicro|Compiling Inlet|Build of product" || true
[ -x .build/release/InletMicro ] || { echo "build failed" >&2; exit 1; }
t1=$(date +%s)
args=(--target InletMicro --format histogramPercentiles --path "$raw" --no-progress --time-units nanoseconds)
[ -n "$filter" ] && args+=(--filter "$filter")
# The plugin builds its own BenchmarkTool on the first run, then runs every benchmark in a fresh process (malloc
# counts come from an LD_PRELOADed interposer).
swift package --allow-writing-to-directory "$raw" benchmark "${args[@]}" > "$raw/run.log" 2>&1 || { tail -40 "$raw/run.log" >&2; exit 1; }
t2=$(date +%s)

machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r), $(swift --version 2>&1 | grep -o 'Swift version [0-9.]*')"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$raw" "$machine" "$load" "$((t1 - t0))" "$((t2 - t1))" "$INLET_BENCH_MAX_MS" > "$report" <<'EOF'
import os, re, sys
raw, machine, load, build_s, run_s, max_ms = sys.argv[1:]

def percentiles(path):
    out = {}
    with open(path) as f:
        next(f)
        for line in f:
            p, v = line.split("\t")
            out[int(p)] = float(v)
    return out

rows = {}
for name in os.listdir(raw):
    m = re.match(r"Current_run\.InletMicro\.(.+)\.(wallClock|mallocCountTotal)\.histogram\.percentiles\.tsv$", name)
    if m:
        rows.setdefault(m.group(1), {})[m.group(2)] = percentiles(os.path.join(raw, name))

def size_kb(name):
    m = re.search(r"_(\d+(?:\.\d+)?)KB", name)
    return float(m.group(1)) if m else None

def per_op(name):  # "×N": the benchmark loops N times per measured iteration
    m = re.search(r"×(\d+)$", name)
    return int(m.group(1)) if m else 1

def fmt(ns):
    if ns < 1_000: return f"{ns:.0f} ns"
    if ns < 1_000_000: return f"{ns / 1_000:.2f} µs"
    return f"{ns / 1_000_000:.2f} ms"

groups = ["verify", "admit", "parse", "http", "json", "cloudevent", "store"]
def order(name):
    g = name.split("_")[0]
    sizes = {"1KB": 0, "16KB": 1, "256KB": 2}
    tail = name.rsplit("_", 1)[-1]
    batch = int(name.split("=")[1]) if "batch=" in name else 0
    return (groups.index(g) if g in groups else 99, name.rsplit("_", 1)[0] if tail in sizes else name, sizes.get(tail, 0), batch)

hmac = ["stripe", "github", "standard-webhooks", "shopify", "slack"]
print("| benchmark | median / op | p99 / op | ns per KB (median) | mallocs / op | note |")
print("|---|---:|---:|---:|---:|---|")
medians = {}
for name in sorted(rows, key=order):
    wall = rows[name].get("wallClock")
    if not wall: continue
    n = per_op(name)
    med, p99 = wall[50] / n, wall[99] / n
    medians[name] = med
    kb = size_kb(name)
    per_kb = f"{med / kb:.0f}" if kb and name.startswith("verify_") else ""
    mallocs = rows[name].get("mallocCountTotal")
    # Store rows: SQLite's page cache and GRDB's statement cache make the count vary with what earlier batches left.
    mallocs = "" if not mallocs or name.startswith("store_") else (f"{mallocs[50] / n:.0f}" if n == 1 else f"{mallocs[50] / n:.2f}")
    note = ""
    if "batch=" in name:
        b = int(name.split("=")[1])
        note = f"{fmt(med / b)} per event"
    if name.startswith("verify_") and name.split("_")[1] in hmac:
        note = "HMAC-SHA256"
    elif name.startswith("verify_twilio"):
        note = "HMAC-SHA1 over URL + sorted form params"
    elif name.startswith("verify_discord"):
        note = "Ed25519"
    elif name.startswith("verify_sendgrid"):
        note = "ECDSA P-256"
    print(f"| {name.replace('_', ' ')} | {fmt(med)} | {fmt(p99)} | {per_kb} | {mallocs} | {note} |")

per_kb_rows = [p for p in hmac + ["twilio"] if all(f"verify_{p}_{s}" in medians for s in ("1KB", "16KB", "256KB"))]
if per_kb_rows:
    print()
    print("HMAC-SHA256 cost per KB (target ≤ 1 µs per KB): whole request at 1 KB, and the marginal cost per KB between 16 KB and 256 KB bodies (median).")
    print()
    print("| scheme | 1 KB request | per KB, 16→256 KB | target |")
    print("|---|---:|---:|---|")
for p in per_kb_rows:
    a, b, c = (medians[f"verify_{p}_{s}"] for s in ("1KB", "16KB", "256KB"))
    slope = (c - b) / 240
    verdict = "met" if slope <= 1000 else f"missed ({slope / 1000:.1f}×)"
    whole = "met" if a <= 1000 else f"missed at 1 KB ({a / 1000:.1f}×)"
    print(f"| {p} | {fmt(a)} | {slope:.0f} ns | per KB {verdict}; {whole} |")
print()
print(f"Machine: {machine}; load average at the end {load} (other builds may run at the same time: p99 is the noisy figure).")
print(f"Each benchmark ran for up to {max_ms} ms after 3 warm-up iterations; build {build_s} s, run {run_s} s. Raw percentiles: {os.path.relpath(raw, os.path.dirname(os.path.dirname(raw)))}/.")
EOF
cat "$report"
echo
echo "written to ${report#$root/}"
