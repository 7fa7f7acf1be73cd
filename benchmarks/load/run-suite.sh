#!/usr/bin/env bash
# The side-by-side benchmark of issue 6, in one run, on loopback, with one load tool (wrk) and the same signed
# Stripe-style body (benchmarks/load/body.json, ~1.3 KB, a unique event id per request) for every server:
#   nginx `return 200` (the ceiling) · Inlet, durability fsync · Inlet, durability relaxed ·
#   the Starlette + stripe SDK + SQLite receiver (shared/benchmarks/load/py_receiver.py) · adnanh/webhook (Debian)
# then, for Inlet with fsync: req/s and ack latency vs connections and vs body size, the ack latency at a fixed
# offered load of half the measured maximum (benchmarks/load/openloop.c, open loop, no coordinated omission), and the peak RSS
# with 1024 connections. Prints a markdown table with the issue's targets and writes it to benchmarks/load/out/suite-<date>.md.
#
#   bash benchmarks/load/run-suite.sh                       # everything, SECS=10 per run (about 4 minutes)
#   SECS=3 PHASES="peers half" bash benchmarks/load/run-suite.sh
#
# Env: INLET_BIN (default .build/release/inlet, built if missing) · SECS (10) · CONNS (64, the peer runs) ·
#      THREADS (2, wrk -t) · SWEEP_CONNS ("16 64 256 1024") · SIZES ("1024 16384 262144") ·
#      PHASES ("peers conns sizes half") · HALF_RATE (default: half of Inlet fsync's req/s in the peer run) ·
#      OPEN_CONNS (256 open-loop connections, enough that due requests rarely wait for one: see "max backlog") ·
#      WARMUP (1 s, open loop only) · REQS (300000 pre-signed requests) · REQ_BUDGET_MB (2048: fewer, larger
#      requests for big bodies) · PROVIDERS (the profiles folder; a baseline build may need its own) · SHARED (../shared/bench) · VENV (benchmarks/load/.venv) · NO_INSTALL=1 (install nothing).
# Installs what it needs when missing (root or sudo): apt-get install wrk nginx-light webhook sqlite3 gcc curl, and a
# venv with starlette, uvicorn and stripe.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
LOG_PREFIX=suite; source "$here/lib.sh"
SECS=${SECS:-10}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}
SWEEP_CONNS=${SWEEP_CONNS:-"16 64 256 1024"}; SIZES=${SIZES:-"1024 16384 262144"}
PHASES=${PHASES:-"peers conns sizes half"}; OPEN_CONNS=${OPEN_CONNS:-256}; WARMUP=${WARMUP:-1}
REQS=${REQS:-300000}; REQ_BUDGET_MB=${REQ_BUDGET_MB:-2048}
SHARED=${SHARED:-$root/../shared/bench}; VENV=${VENV:-$here/.venv}
INLET_BIN=${INLET_BIN:-$root/.build/release/inlet}
PROVIDERS=${PROVIDERS:-$root/providers}  # a baseline build may need the profiles of its own commit
phase() { [[ " $PHASES " == *" $1 "* ]]; }

# --- what the suite needs -------------------------------------------------------------------------------------------
ensure_tools wrk:wrk nginx:nginx-light webhook:webhook sqlite3:sqlite3 gcc:gcc curl:curl
if [ "${NO_INSTALL:-0}" != 1 ]; then
  if ! "$VENV/bin/python" -c "import starlette, uvicorn, stripe" 2>/dev/null; then
    log "creating $VENV (starlette, uvicorn, stripe)"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q starlette uvicorn stripe
  fi
fi
export PATH="$PATH:/usr/sbin"
[ -f "$SHARED/py_receiver.py" ] || { echo "shared/bench not found at $SHARED (set SHARED=…)" >&2; exit 1; }
if [ ! -x "$INLET_BIN" ]; then
  [ "$INLET_BIN" = "$root/.build/release/inlet" ] || { echo "INLET_BIN=$INLET_BIN is not executable" >&2; exit 1; }
  log "building Inlet (release)"; (cd "$root" && swift build -c release --product inlet)
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/inlet-suite.XXXXXX); results="$work/results.txt"; : > "$results"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
gcc -O2 -o "$work/openloop" "$here/openloop.c"

# Pre-signed requests: signatures are valid for 300 s, so a file older than 150 s is made again.
requests() {  # requests SIZE(0 = body.json as is) SCHEME -> path
  local size=$1 scheme=$2 f="$work/req-$2-$1.tsv" n=$REQS
  if [ "$size" -gt 0 ]; then n=$(( REQ_BUDGET_MB * 1048576 / size )); [ "$n" -lt 2000 ] && n=2000; [ "$n" -gt "$REQS" ] && n=$REQS; fi
  if [ ! -f "$f" ] || [ $(( $(date +%s) - $(stat -c %Y "$f") )) -gt 150 ]; then
    log "signing $n requests (size ${size:-default}, $scheme)"
    python3 "$here/make-requests.py" "$n" "$f" "$here/body.json" --size "$size" --scheme "$scheme"
  fi
  echo "$f"
}

run_wrk() {  # run_wrk URL CONNS REQFILE SIGHDR -> the wrk-summary line
  local out
  out=$(cd "$work" && REQUESTS="$3" THREADS=$THREADS SIGHDR="$4" \
        wrk -t"$THREADS" -c"$2" -d"${SECS}s" --timeout 10s -s "$here/unique.lua" "$1" 2>&1) || true
  echo "$out" > "$work/wrk-last.txt"
  echo "$out" | grep '^wrk-summary' | sed 's/^wrk-summary //' || { echo "wrk failed: $out" >&2; echo "requests=0 rps=0"; }
}

inlet_start() {  # inlet_start DURABILITY MAX_BODY -> sets inlet_pid, inlet_port, inlet_dir (a fresh data dir)
  inlet_dir=$(mktemp -d "$work/inlet.XXXX"); inlet_port=$(free_port)
  # inlet-bench.toml ends with the [sources.stripe] table, so an appended key belongs to it.
  sed -e "s#\"../../providers\"#\"$PROVIDERS\"#" -e "s#\"../../.bench-data/inlet.sqlite\"#\"$inlet_dir/inlet.sqlite\"#" \
      -e "s#127.0.0.1:18090#127.0.0.1:$inlet_port#" -e "s#durability = \"fsync\"#durability = \"$1\"#" \
      "$here/inlet-bench.toml" > "$inlet_dir/inlet.toml"
  echo "max_body_bytes = $2" >> "$inlet_dir/inlet.toml"
  "$INLET_BIN" serve --config "$inlet_dir/inlet.toml" > "$inlet_dir/serve.log" 2>&1 & inlet_pid=$!; pids+=("$inlet_pid")
  wait_http "$inlet_port" || { cat "$inlet_dir/serve.log" >&2; exit 1; }
}
inlet_stop() {  # -> prints "rss_kb=… stored=…" and removes the data dir
  local rss stored
  rss=$(rss_kb "$inlet_pid"); stop "$inlet_pid"
  stored=$(sqlite3 "$inlet_dir/inlet.sqlite" 'select count(*) from events' 2>/dev/null || echo 0)
  rm -rf "$inlet_dir"; echo "rss_kb=$rss stored=$stored"
}
inlet_wrk() {  # inlet_wrk NAME DURABILITY CONNS SIZE
  local max=$(( $4 * 2 > 1048576 ? $4 * 2 : 1048576 )) f s
  f=$(requests "$4" stripe)
  inlet_start "$2" "$max"
  log "$1: Inlet $2, $3 connections, body ${4} B (0 = body.json), ${SECS}s"
  local rows0; rows0=$(stored_sqlite "$inlet_dir/inlet.sqlite"); cpu_threads "$inlet_pid" > "$work/cpu-before"
  s=$(run_wrk "http://127.0.0.1:$inlet_port/hooks/stripe" "$3" "$f" Stripe-Signature)
  cpu_threads "$inlet_pid" > "$work/cpu-after"
  local cpu; cpu=$(cpu_report "$work/cpu-before" "$work/cpu-after" $(( $(stored_sqlite "$inlet_dir/inlet.sqlite") - rows0 )))
  record "run=$1 conns=$3 size=$4 $s $cpu $(inlet_stop) unique_requests=$(wc -l < "$f")"
}

# --- peers at CONNS connections -------------------------------------------------------------------------------------
if phase peers; then
  f=$(requests 0 stripe)
  port=$(free_port)
  sed -e "s#127.0.0.1:18080#127.0.0.1:$port#" -e "s#/tmp/peers-nginx.pid#$work/nginx.pid#" \
      -e "s#/tmp/peers-nginx-error.log#$work/nginx-error.log#" "$SHARED/nginx.conf" > "$work/nginx.conf"
  nginx -c "$work/nginx.conf" -g 'daemon off;' & npid=$!; pids+=("$npid"); wait_http "$port"
  log "nginx return 200, $CONNS connections, ${SECS}s"
  record "run=nginx conns=$CONNS $(run_wrk "http://127.0.0.1:$port/hooks/stripe" "$CONNS" "$f" Stripe-Signature)"
  stop "$npid"

  inlet_wrk inlet-fsync fsync "$CONNS" 0
  inlet_wrk inlet-relaxed relaxed "$CONNS" 0

  f=$(requests 0 stripe); port=$(free_port)
  PEER_DB="$work/py_receiver.sqlite" "$VENV/bin/uvicorn" --app-dir "$SHARED" py_receiver:app --host 127.0.0.1 \
    --port "$port" --log-level warning --no-access-log > "$work/py.log" 2>&1 & ppid=$!; pids+=("$ppid"); wait_http "$port"
  log "Python receiver (Starlette + stripe + SQLite, 1 worker), $CONNS connections, ${SECS}s"
  s=$(run_wrk "http://127.0.0.1:$port/hooks/stripe" "$CONNS" "$f" Stripe-Signature)
  record "run=python conns=$CONNS $s rss_kb=$(rss_kb "$ppid")"; stop "$ppid"

  f=$(requests 0 github); port=$(free_port)
  webhook -hooks "$SHARED/hooks.json" -ip 127.0.0.1 -port "$port" > "$work/webhook.log" 2>&1 & wpid=$!; pids+=("$wpid")
  wait_http "$port"
  log "adnanh/webhook (HMAC rule, exec /bin/true), $CONNS connections, ${SECS}s"
  s=$(run_wrk "http://127.0.0.1:$port/hooks/bench" "$CONNS" "$f" X-Hub-Signature-256)
  record "run=webhook conns=$CONNS $s rss_kb=$(rss_kb "$wpid")"; stop "$wpid"
fi

# --- Inlet fsync: connections, body size ----------------------------------------------------------------------------
if phase conns; then for c in $SWEEP_CONNS; do inlet_wrk "conns-$c" fsync "$c" 0; done; fi
if phase sizes; then for z in $SIZES; do inlet_wrk "size-$z" fsync "$CONNS" "$z"; done; fi

# --- Inlet fsync: ack latency at half the measured maximum, open loop -----------------------------------------------
if phase half; then
  rate=${HALF_RATE:-}
  if [ -z "$rate" ]; then
    max=$(awk '/^run=inlet-fsync / {for (i=1;i<=NF;i++) if ($i ~ /^rps=/) {sub(/rps=/,"",$i); print $i}}' "$results")
    if [ -z "$max" ]; then inlet_wrk inlet-fsync fsync "$CONNS" 0
      max=$(awk '/^run=inlet-fsync / {for (i=1;i<=NF;i++) if ($i ~ /^rps=/) {sub(/rps=/,"",$i); print $i}}' "$results"); fi
    rate=$(awk -v m="$max" 'BEGIN {printf "%d", m / 2}')
  fi
  f=$(requests 0 stripe)
  inlet_start fsync 1048576
  log "open loop at $rate req/s, $OPEN_CONNS connections, ${WARMUP}s warm-up + ${SECS}s"
  s=$("$work/openloop" -p "$inlet_port" -u /hooks/stripe -r "$rate" -d "$SECS" -w "$WARMUP" -c "$OPEN_CONNS" -f "$f" \
      -H Stripe-Signature | sed 's/^openloop //')
  record "run=half $s $(inlet_stop)"
fi

# --- report -----------------------------------------------------------------------------------------------------------
mkdir -p "$here/out"; report="$here/out/suite-$(date +%F-%H%M%S).md"
PYTHONPATH="$here" python3 - "$results" "$INLET_BIN" "$root" "$SECS" "$CONNS" "$THREADS" > "$report" <<'PY'
import os, platform, sys, time
from report_lib import load_runs, figure, errors, ms, rps, us, mb, ratio, build_facts
results, binary, root, secs, conns, threads = sys.argv[1:7]
runs = load_runs(results)
def f(run, key, default=None): return figure(runs, run, key, default)
def errs(run): return errors(runs, run)
rev, ver, cpu = build_facts(root, binary)
out = [f"# Inlet side-by-side benchmark, {time.strftime('%Y-%m-%d %H:%M')}", "",
       f"Machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}; everything on loopback, the load tool "
       f"shares the cores. Inlet `{binary}` ({ver}, built {time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(binary)))}), "
       f"repository at {rev}. wrk -t{threads}, {secs} s per run, every request a new event with a valid signature.", ""]
nginx, py, fs = f("nginx", "rps"), f("python", "rps"), f("inlet-fsync", "rps")
if any(k in runs for k in ("nginx", "inlet-fsync", "python", "webhook")):
    out += [f"## Side by side ({conns} connections, the same ~1.3 KB Stripe-style body)", "",
            "| server | req/s | CPU µs/event | p50 | p99 | p99.9 | peak RSS | vs nginx | vs Python | errors |", "|---|---|---|---|---|---|---|---|---|---|"]
    for run, name in (("nginx", "nginx `return 200` (ceiling)"), ("inlet-fsync", "Inlet, fsync-durable acks"),
                      ("inlet-relaxed", "Inlet, relaxed durability"), ("python", "Starlette + stripe SDK + SQLite (1 worker)"),
                      ("webhook", "adnanh/webhook (HMAC rule, exec /bin/true)")):
        if run not in runs: continue
        v = f(run, "rps")
        out.append(f"| {name} | {rps(v)} | {us(f(run, 'cpu_us_per_event'))} | {ms(f(run, 'p50_ms'))} | {ms(f(run, 'p99_ms'))} | {ms(f(run, 'p999_ms'))} | "
                   f"{mb(f(run, 'rss_kb'))} | {ratio(v, nginx, '{:.1%}')} | {ratio(v, py, '{:.1f}×')} | {errs(run)} |")
    out += ["", "Inlet runs store every event: " + ", ".join(
        f"{r}: {int(f(r, 'stored', 0)):,} stored for {int(f(r, 'requests', 0)):,} acks" for r in ("inlet-fsync", "inlet-relaxed") if r in runs)
        + " (a few more stored than acked is the requests in flight when wrk stopped).", ""]
sweep = sorted((r for r in runs if r.startswith("conns-")), key=lambda r: int(r.split("-")[1]))
if sweep:
    out += ["## Inlet, fsync: connections", "", "| connections | req/s | CPU µs/event | p50 | p99 | p99.9 | peak RSS | errors |", "|---|---|---|---|---|---|---|---|"]
    out += [f"| {r.split('-')[1]} | {rps(f(r, 'rps'))} | {us(f(r, 'cpu_us_per_event'))} | {ms(f(r, 'p50_ms'))} | {ms(f(r, 'p99_ms'))} | {ms(f(r, 'p999_ms'))} | {mb(f(r, 'rss_kb'))} | {errs(r)} |" for r in sweep]
    out.append("")
sizes = sorted((r for r in runs if r.startswith("size-")), key=lambda r: int(r.split("-")[1]))
if sizes:
    out += [f"## Inlet, fsync: body size ({conns} connections)", "",
            "| body | req/s | MB/s in | CPU µs/event | p50 | p99 | p99.9 | peak RSS | unique requests | errors |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sizes:
        z = int(r.split("-")[1]); v = f(r, "rps"); u = int(f(r, "unique_requests", 0)); n = int(f(r, "requests", 0))
        note = f"{u:,}" + (" (cycled: later acks were duplicates)" if n > u else "")
        out.append(f"| {z // 1024} KB | {rps(v)} | {v * z / 1e6:.1f} | {us(f(r, 'cpu_us_per_event'))} | {ms(f(r, 'p50_ms'))} | {ms(f(r, 'p99_ms'))} | "
                   f"{ms(f(r, 'p999_ms'))} | {mb(f(r, 'rss_kb'))} | {note} | {errs(r)} |")
    out.append("")
if "half" in runs:
    h = runs["half"]
    out += ["## Inlet, fsync: ack latency at a fixed offered load (open loop, from the intended send time)", "",
            "| offered | achieved | p50 | p90 | p99 | p99.9 | max | connections | max backlog | non-2xx / errors / unanswered |", "|---|---|---|---|---|---|---|---|---|---|",
            f"| {rps(f('half', 'target_rps'))} req/s | {rps(f('half', 'achieved_rps'))} req/s | {ms(f('half', 'p50_ms'))} | {ms(f('half', 'p90_ms'))} | "
            f"{ms(f('half', 'p99_ms'))} | {ms(f('half', 'p999_ms'))} | {ms(f('half', 'max_ms'))} | {h.get('conns')} | {h.get('max_backlog')} | "
            f"{h.get('non2xx')} / {h.get('errors')} / {h.get('unanswered')} |", "",
            "Max backlog is the most requests that were due but waiting for an idle connection; their wait counts in the "
            "latency. A large backlog means every connection was waiting for an ack at once: the gateway fell behind the offered rate.", ""]
def verdict(ok): return "—" if ok is None else ("yes" if ok else "**no**")
p99n, p99i = f("nginx", "p99_ms"), f("inlet-fsync", "p99_ms")
half99 = f("half", "p99_ms"); rss1024 = f("conns-1024", "rss_kb")
cpu = f("inlet-fsync", "cpu_us_per_event"); c16, c64 = f("conns-16", "rps"), f("conns-64", "rps")
big = f("size-262144", "rps"); big_mbs = None if big is None else big * 262144 / 1e6
rows = [
    ("CPU per acknowledged event ≤ 75 µs", f"{us(cpu)} µs ({runs.get('inlet-fsync', {}).get('cpu_split', '—')})", "—", None if cpu is None else cpu <= 75),
    ("durable acks ≥ 25% of nginx req/s", f"{rps(fs)} vs {rps(nginx)} req/s", ratio(fs, nginx, "{:.1%}"), None if fs is None or not nginx else fs / nginx >= 0.25),
    ("ack p99 at saturation ≤ 3× nginx p99", f"{ms(p99i)} vs {ms(p99n)}", ratio(p99i, p99n), None if p99i is None or not p99n else p99i <= 3 * p99n),
    ("≥ 40× the Python receiver", f"{rps(fs)} vs {rps(py)} req/s", ratio(fs, py, "{:.1f}×"), None if fs is None or not py else fs / py >= 40),
    ("16 connections ≥ 60% of 64", f"{rps(c16)} vs {rps(c64)} req/s", ratio(c16, c64, "{:.0%}"), None if c16 is None or not c64 else c16 / c64 >= 0.6),
    ("≥ 400 MB/s ingested at 256 KB", "—" if big_mbs is None else f"{big_mbs:.0f} MB/s", "—", None if big_mbs is None else big_mbs >= 400),
    ("ack p99 at half load ≤ 5 ms", f"{ms(half99)} at {rps(f('half', 'target_rps'))} req/s", "—", None if half99 is None else half99 <= 5),
    ("RSS ≤ 150 MB at 1024 connections", mb(rss1024), "—", None if not rss1024 else rss1024 / 1024 <= 150),
]
out += ["## Targets (issues 6 and 14)", "", "| target | today | ratio | met |", "|---|---|---|---|"]
out += [f"| {t} | {today} | {r} | {verdict(ok)} |" for t, today, r, ok in rows]
print("\n".join(out))
PY
cat "$report"
log "written to $report"
