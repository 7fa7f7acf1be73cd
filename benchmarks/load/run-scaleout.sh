#!/usr/bin/env bash
# Scale-out benchmark: the same ingress load against SQLite and PostgreSQL stores, and two Inlet instances on one
# PostgreSQL schema, in one run, on loopback. The load is benchmarks/load/run-ingress.sh's: wrk with benchmarks/load/unique.lua replaying
# pre-signed Stripe-style events (benchmarks/load/make-requests.py, benchmarks/load/body.json, every request a new event), one Stripe
# source with no destinations (benchmarks/load/inlet-bench.toml: ingest only, so delivery work does not share the cores).
#
#   runs                    what answers wrk
#   sqlite-fsync            one instance, SQLite, durability fsync
#   pg-1                    one instance, PostgreSQL
#   pg-1-lb                 nginx (round-robin HTTP proxy, upstream keep-alive) in front of that one instance:
#                           the load balancer's cost on the same backend
#   pg-2-lb                 nginx round-robin over two instances on the same database and schema (the headline)
#   pg-2-split              no balancer: two wrk processes, CONNS/2 connections each, one per instance, disjoint
#                           events; req/s summed, p50 the mean of the two, p99 and p99.9 the worse of the two
#   lb-ceiling              nginx proxying to two nginx `return 200` servers: the balancer's own ceiling here
#
# Every PostgreSQL run gets its own schema (migrated with `inlet migrate`, dropped at the end unless KEEP=1).
# PostgreSQL acknowledges a commit after its WAL flush (synchronous_commit = on, the default), which is the same
# promise as SQLite's fsync. Prints a markdown table and writes it to benchmarks/load/out/scaleout-<date>.md.
#
#   bash benchmarks/load/run-scaleout.sh                  # SECS=10 per run, six runs, about 2 minutes
#   SECS=3 RUNS="pg-1 pg-2-lb" bash benchmarks/load/run-scaleout.sh
#
# Env: INLET_BIN (default .build/release/inlet, built if missing) · SECS (10) · CONNS (64) · THREADS (2, wrk -t) ·
#      RUNS (all six, in the order above) · PG_CONNECTIONS (8, [store] connections per instance) · LB_WORKERS (1,
#      nginx worker_processes; the machine's cores are shared with wrk, the gateways and PostgreSQL) · REQS (200000
#      pre-signed requests) · KEEP=1 (keep the work dir and schemas) · NO_INSTALL=1 (install nothing).
# Needs (installed when missing, as root or with sudo): wrk, nginx-light, sqlite3, curl from Debian; PostgreSQL
# through scripts/ensure-postgres.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
LOG_PREFIX=scaleout; source "$here/lib.sh"
SECS=${SECS:-10}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}; REQS=${REQS:-200000}
RUNS=${RUNS:-"sqlite-fsync pg-1 pg-1-lb pg-2-lb pg-2-split lb-ceiling"}
PG_CONNECTIONS=${PG_CONNECTIONS:-8}; LB_WORKERS=${LB_WORKERS:-1}
INLET_BIN=${INLET_BIN:-$root/.build/release/inlet}
want() { [[ " $RUNS " == *" $1 "* ]]; }

# --- what the benchmark needs ---------------------------------------------------------------------------------------
ensure_tools wrk:wrk nginx:nginx-light sqlite3:sqlite3 curl:curl
export PATH="$PATH:/usr/sbin"
if [ ! -x "$INLET_BIN" ]; then
  [ "$INLET_BIN" = "$root/.build/release/inlet" ] || { echo "INLET_BIN=$INLET_BIN is not executable" >&2; exit 1; }
  log "building Inlet (release)"; (cd "$root" && swift build -c release --product inlet)
fi
"$INLET_BIN" migrate --help >/dev/null 2>&1 || { echo "$INLET_BIN has no migrate command (no PostgreSQL store)" >&2; exit 1; }
PG_URL=$(bash "$root/scripts/ensure-postgres" | tail -1)   # postgres://user:pass@host:port/db
pg_user=$(sed -E 's#^postgres://([^:]+):.*#\1#' <<<"$PG_URL"); pg_pass=$(sed -E 's#^postgres://[^:]+:([^@]+)@.*#\1#' <<<"$PG_URL")
pg_host=$(sed -E 's#.*@([^:/]+).*#\1#' <<<"$PG_URL"); pg_port=$(sed -E 's#.*@[^:]+:([0-9]+)/.*#\1#' <<<"$PG_URL")
pg_db=$(sed -E 's#.*/([^/?]+)$#\1#' <<<"$PG_URL")
psql_q() { PGPASSWORD="$pg_pass" psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$pg_db" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/inlet-scaleout.XXXXXX); results="$work/results.txt"; : > "$results"
stamp=$(date +%s); schemas=(); pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then log "kept $work and schemas ${schemas[*]}"; return; fi
  for s in "${schemas[@]}"; do psql_q "DROP SCHEMA IF EXISTS $s CASCADE" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Was a compiler running (the machine may be shared)? Sampled around each run.
compiling() { pgrep -f 'swift-frontend|swift-build|swiftc' >/dev/null && echo yes || echo no; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# Pre-signed requests: signatures are valid for 300 s, so the file is made again when older than 150 s.
requests() {
  local f="$work/requests.tsv"
  if [ ! -f "$f" ] || [ $(( $(date +%s) - $(stat -c %Y "$f") )) -gt 150 ]; then
    log "signing $REQS requests"
    python3 "$here/make-requests.py" "$REQS" "$f" "$here/body.json"
    awk 'NR % 2 == 1' "$f" > "$work/requests-a.tsv"; awk 'NR % 2 == 0' "$f" > "$work/requests-b.tsv"
  fi
}

wrk_run() {  # wrk_run URL CONNS THREADS REQFILE -> the wrk-summary line
  local out
  out=$(cd "$work" && REQUESTS="$4" THREADS="$3" wrk -t"$3" -c"$2" -d"${SECS}s" --timeout 10s -s "$here/unique.lua" "$1" 2>&1) || true
  echo "$out" >> "$work/wrk.log"
  echo "$out" | grep '^wrk-summary' | sed 's/^wrk-summary //' || { echo "wrk failed: $out" >&2; echo "requests=0 rps=0"; }
}

# inlet_config NAME PORT STORE -> a config file; STORE is "sqlite" or a schema name
inlet_config() {
  local dir="$work/$1" store
  mkdir -p "$dir"
  if [ "$3" = sqlite ]; then
    store="path = \"$dir/inlet.sqlite\"\ndurability = \"fsync\""
  else
    store="backend = \"postgres\"\nurl = \"$PG_URL?schema=$3\"\nconnections = $PG_CONNECTIONS\nmigrate_on_start = true"
  fi
  # inlet-bench.toml's [store] table holds `path` and `durability`: both are replaced by STORE.
  sed -e "s#\"../../providers\"#\"$root/providers\"#" -e "s#127.0.0.1:18090#127.0.0.1:$2#" \
      -e "s#^path = \"../../.bench-data/inlet.sqlite\"#@STORE@#" -e '/^durability = /d' "$here/inlet-bench.toml" \
    | awk -v s="$store" '{ if ($0 == "@STORE@") { gsub(/\\n/, "\n", s); print s } else print }' > "$dir/inlet.toml"
  echo "$dir/inlet.toml"
}
inlet_start() {  # inlet_start NAME PORT STORE -> sets started_pid
  local cfg; cfg=$(inlet_config "$1" "$2" "$3")
  "$INLET_BIN" serve --config "$cfg" > "$work/$1/serve.log" 2>&1 & started_pid=$!; pids+=("$started_pid")
  wait_http "$2" || { cat "$work/$1/serve.log" >&2; exit 1; }
}
new_schema() {  # new_schema RUN -> sets schema: a migrated, empty schema (dropped by cleanup)
  local cfg
  schema="scaleout_${stamp}_${1//-/_}"; schemas+=("$schema"); cfg=$(inlet_config "migrate-$1" 1 "$schema")
  "$INLET_BIN" migrate --config "$cfg" >&2
}
stored_pg() { psql_q "SELECT count(*) FROM $1.events" 2>/dev/null || echo 0; }

nginx_lb() {  # nginx_lb PORT BACKEND_PORT... -> sets lb_pid; BACKEND_PORT "return200:P" adds a `return 200` server on P
  local port=$1; shift
  local upstream="" servers="" backend
  for backend in "$@"; do
    case "$backend" in
      return200:*) upstream+="    server 127.0.0.1:${backend#return200:};"$'\n'
                   servers+="  server { listen 127.0.0.1:${backend#return200:}; location / { return 200 '{\"status\":\"accepted\"}'; } }"$'\n' ;;
      *) upstream+="    server 127.0.0.1:$backend;"$'\n' ;;
    esac
  done
  cat > "$work/nginx-$port.conf" <<EOF
worker_processes $LB_WORKERS;
pid $work/nginx-$port.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_buffer_size 64k;
  upstream inlet {
$upstream    keepalive 128;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://inlet;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }
$servers}
EOF
  nginx -c "$work/nginx-$port.conf" -g 'daemon off;' & lb_pid=$!; pids+=("$lb_pid")
  wait_http "$port"
}

# --- the runs -------------------------------------------------------------------------------------------------------
requests
pg_settings="synchronous_commit=$(psql_q 'SHOW synchronous_commit'), fsync=$(psql_q 'SHOW fsync'), $(psql_q 'SELECT version()' | cut -d' ' -f1-2)"

if want sqlite-fsync; then
  requests; port=$(free_port); inlet_start sqlite-fsync "$port" sqlite; pid=$started_pid
  c0=$(compiling); l0=$(load1); log "sqlite-fsync: one instance, $CONNS connections, ${SECS}s"
  s=$(wrk_run "http://127.0.0.1:$port/hooks/stripe" "$CONNS" "$THREADS" "$work/requests.tsv")
  rss=$(rss_kb "$pid"); stop "$pid"
  record "run=sqlite-fsync $s rss_kb=$rss stored=$(stored_sqlite "$work/sqlite-fsync/inlet.sqlite") load1=$l0 compiling=$c0$( [ "$(compiling)" = yes ] && echo ' compiling=yes')"
fi

if want pg-1; then
  requests; new_schema pg-1; port=$(free_port); inlet_start pg-1 "$port" "$schema"; pid=$started_pid
  c0=$(compiling); l0=$(load1); log "pg-1: one instance on PostgreSQL, $CONNS connections, ${SECS}s"
  s=$(wrk_run "http://127.0.0.1:$port/hooks/stripe" "$CONNS" "$THREADS" "$work/requests.tsv")
  rss=$(rss_kb "$pid"); stop "$pid"
  record "run=pg-1 $s rss_kb=$rss stored=$(stored_pg "$schema") load1=$l0 compiling=$c0$( [ "$(compiling)" = yes ] && echo ' compiling=yes')"
fi

if want pg-1-lb; then
  requests; new_schema pg-1-lb; port=$(free_port); inlet_start pg-1-lb "$port" "$schema"; pid=$started_pid
  lb=$(free_port); nginx_lb "$lb" "$port"
  c0=$(compiling); l0=$(load1); log "pg-1-lb: nginx in front of one instance, $CONNS connections, ${SECS}s"
  s=$(wrk_run "http://127.0.0.1:$lb/hooks/stripe" "$CONNS" "$THREADS" "$work/requests.tsv")
  rss=$(rss_kb "$pid"); stop "$lb_pid"; stop "$pid"
  record "run=pg-1-lb $s rss_kb=$rss stored=$(stored_pg "$schema") load1=$l0 compiling=$c0$( [ "$(compiling)" = yes ] && echo ' compiling=yes')"
fi

if want pg-2-lb; then
  requests; new_schema pg-2-lb
  p1=$(free_port); inlet_start pg-2-lb-a "$p1" "$schema"; pid_a=$started_pid
  p2=$(free_port); inlet_start pg-2-lb-b "$p2" "$schema"; pid_b=$started_pid
  lb=$(free_port); nginx_lb "$lb" "$p1" "$p2"
  c0=$(compiling); l0=$(load1); log "pg-2-lb: nginx round-robin over two instances, $CONNS connections, ${SECS}s"
  s=$(wrk_run "http://127.0.0.1:$lb/hooks/stripe" "$CONNS" "$THREADS" "$work/requests.tsv")
  rss=$(( $(rss_kb "$pid_a") + $(rss_kb "$pid_b") )); stop "$lb_pid"; stop "$pid_a"; stop "$pid_b"
  record "run=pg-2-lb $s rss_kb=$rss stored=$(stored_pg "$schema") load1=$l0 compiling=$c0$( [ "$(compiling)" = yes ] && echo ' compiling=yes')"
fi

if want pg-2-split; then
  requests; new_schema pg-2-split
  p1=$(free_port); inlet_start pg-2-split-a "$p1" "$schema"; pid_a=$started_pid
  p2=$(free_port); inlet_start pg-2-split-b "$p2" "$schema"; pid_b=$started_pid
  half=$(( CONNS / 2 )); t=$(( THREADS > 1 ? THREADS / 2 : 1 ))
  c0=$(compiling); l0=$(load1); log "pg-2-split: two instances, one wrk each ($half connections), ${SECS}s"
  wrk_run "http://127.0.0.1:$p1/hooks/stripe" "$half" "$t" "$work/requests-a.tsv" > "$work/split-a.txt" &
  wa=$!
  wrk_run "http://127.0.0.1:$p2/hooks/stripe" "$half" "$t" "$work/requests-b.tsv" > "$work/split-b.txt"
  wait "$wa"
  rss=$(( $(rss_kb "$pid_a") + $(rss_kb "$pid_b") )); stop "$pid_a"; stop "$pid_b"
  s=$(python3 - "$work/split-a.txt" "$work/split-b.txt" <<'PY'
import sys
a, b = ({k: float(v) for k, v in (p.split("=") for p in open(f).read().split())} for f in sys.argv[1:3])
out = {"requests": a["requests"] + b["requests"], "rps": a["rps"] + b["rps"], "p50_ms": (a["p50_ms"] + b["p50_ms"]) / 2}
for k in ("p75_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"):
    out[k] = max(a[k], b[k])
for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "status_ge_400"):
    out[k] = a[k] + b[k]
out["rps_a"], out["rps_b"] = a["rps"], b["rps"]
print(" ".join(f"{k}={v:g}" if isinstance(v, float) and v == int(v) else f"{k}={v:.3f}" for k, v in out.items()))
PY
)
  record "run=pg-2-split $s rss_kb=$rss stored=$(stored_pg "$schema") load1=$l0 compiling=$c0$( [ "$(compiling)" = yes ] && echo ' compiling=yes')"
fi

if want lb-ceiling; then
  requests; lb=$(free_port); nginx_lb "$lb" "return200:$(free_port)" "return200:$(free_port)"
  c0=$(compiling); l0=$(load1); log "lb-ceiling: nginx round-robin over two nginx \`return 200\` servers, $CONNS connections, ${SECS}s"
  s=$(wrk_run "http://127.0.0.1:$lb/hooks/stripe" "$CONNS" "$THREADS" "$work/requests.tsv")
  stop "$lb_pid"
  record "run=lb-ceiling $s load1=$l0 compiling=$c0$( [ "$(compiling)" = yes ] && echo ' compiling=yes')"
fi

# --- report -----------------------------------------------------------------------------------------------------------
mkdir -p "$here/out"; report="$here/out/scaleout-$(date +%F-%H%M%S).md"
PYTHONPATH="$here" python3 - "$results" "$INLET_BIN" "$root" "$SECS" "$CONNS" "$THREADS" "$pg_settings" "$PG_CONNECTIONS" "$LB_WORKERS" > "$report" <<'PY'
import os, platform, sys, time
from report_lib import load_runs, figure, errors, ms, rps, mb, ratio, build_facts
results, binary, root, secs, conns, threads, pg, pgconns, lbw = sys.argv[1:10]
runs = load_runs(results)
def f(run, key, default=None): return figure(runs, run, key, default)
def errs(run): return errors(runs, run)
rev, ver, cpu = build_facts(root, binary)
names = {
    "sqlite-fsync": ("SQLite, fsync", "1", "direct"),
    "pg-1": ("PostgreSQL", "1", "direct"),
    "pg-1-lb": ("PostgreSQL", "1", "nginx"),
    "pg-2-lb": ("PostgreSQL, one schema", "2", "nginx round-robin"),
    "pg-2-split": ("PostgreSQL, one schema", "2", f"none: 2 wrk × {int(conns) // 2} conns, summed"),
    "lb-ceiling": ("nginx `return 200` ×2 (no store)", "—", "nginx round-robin"),
}
base = f("sqlite-fsync", "rps")
out = [f"# Inlet scale-out benchmark, {time.strftime('%Y-%m-%d %H:%M')}", "",
       f"Machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}; everything on loopback and on the same cores: "
       f"wrk, nginx ({lbw} worker), the gateways and PostgreSQL ({pg}). Inlet `{binary}` ({ver}, built "
       f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(os.path.getmtime(binary)))}), repository at {rev}. "
       f"wrk -t{threads} -c{conns}, {secs} s per run; every request a new, validly signed Stripe event (~1.3 KB); ingest only "
       f"(no destinations); PostgreSQL: {pgconns} connections per instance.", "",
       "| store | instances | in front | req/s | vs SQLite | p50 | p99 | p99.9 | errors | stored | gateway RSS | load before | compiler running |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for run, (store, n, front) in names.items():
    if run not in runs: continue
    r = runs[run]; v = f(run, "rps")
    extra = f" ({rps(f(run, 'rps_a'))} + {rps(f(run, 'rps_b'))})" if run == "pg-2-split" else ""
    stored = "—" if "stored" not in r else f"{int(float(r['stored'])):,}"
    out.append(f"| {store} | {n} | {front} | {rps(v)}{extra} | {ratio(v, base) if run != 'lb-ceiling' else '—'} | "
               f"{ms(f(run, 'p50_ms'))} | {ms(f(run, 'p99_ms'))} | {ms(f(run, 'p999_ms'))} | {errs(run)} | {stored} | "
               f"{mb(f(run, 'rss_kb'))} | {r.get('load1', '—')} | {r.get('compiling', '—')} |")
notes = ["", "- errors: wrk connect/read/write errors, timeouts and non-2xx answers. stored: events in the store after the run "
         "(a few more than wrk counted are requests in flight when wrk stopped).",
         "- pg-2-split: p50 is the mean of the two wrk processes, p99 and p99.9 the worse of the two.",
         "- The load balancer's overhead on the same backend is pg-1-lb against pg-1; its ceiling on this machine is lb-ceiling."]
if any(r.get("compiling") == "yes" for r in runs.values()):
    notes.append("- A compiler (swift-frontend/swift-build) was running during at least one run: those figures are depressed by it.")
print("\n".join(out + notes))
PY
cat "$report"
log "written to $report"
