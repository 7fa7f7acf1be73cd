#!/usr/bin/env bash
# Ingress load figure: wrk on loopback against a release build of Inlet, one Stripe source, every request a new,
# validly signed event (pre-signed by make-requests.py, so wrk only replays bytes).
#   bash benchmarks/load/run-ingress.sh [seconds] [connections] [durability]
#   (INLET_BIN=path picks another build, e.g. a baseline; prints CPU µs per stored event and its split by thread)
#   SIZE=BYTES signs bodies of exactly that size (N=… requests, default 300000; fewer for large bodies, so the file
#   stays in memory); PERF=FILE records a call-graph profile of the gateway over the window (perf report -i FILE).
# Needs: apt-get install -y wrk ; a release build (swift build -c release --product inlet).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
LOG_PREFIX=ingress; source "$here/lib.sh"
secs=${1:-8}; conns=${2:-64}; durability=${3:-fsync}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
INLET_BIN=${INLET_BIN:-$root/.build/release/inlet}
PROVIDERS=${PROVIDERS:-$root/providers}  # a baseline build may need the profiles of its own commit
[ -x "$INLET_BIN" ] || (cd "$root" && swift build -c release --product inlet)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e "s#\"../../providers\"#\"$PROVIDERS\"#" -e "s#\"../../.bench-data/inlet.sqlite\"#\"$work/inlet.sqlite\"#" \
    -e "s#durability = \"fsync\"#durability = \"$durability\"#" "$here/inlet-bench.toml" > "$work/inlet.toml"
python3 "$here/make-requests.py" "${N:-300000}" "$work/requests.tsv" "$here/body.json" --size "${SIZE:-0}"
"$INLET_BIN" serve --config "$work/inlet.toml" > "$work/serve.log" 2>&1 & pid=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18090/ 2>/dev/null && break; sleep 0.1; done
rows0=$(stored_sqlite "$work/inlet.sqlite"); cpu_threads "$pid" > "$work/cpu-before"
[ -n "${PERF:-}" ] && { perf record -F 999 -g -p "$pid" -o "$PERF" -- sleep "$secs" > /dev/null 2>&1 & perf_pid=$!; }
out=$(cd "$work" && REQUESTS="$work/requests.tsv" THREADS=2 wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/unique.lua" http://127.0.0.1:18090/hooks/stripe)
cpu_threads "$pid" > "$work/cpu-after"; rss=$(rss_kb "$pid"); stored=$(stored_sqlite "$work/inlet.sqlite")
[ -n "${perf_pid:-}" ] && wait "$perf_pid"  # the profile is written before the gateway stops
echo "$out" | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors" || true
echo "durability=$durability connections=$conns body=${SIZE:-template} peak_rss_kb=$rss stored=$stored"
cpu_report "$work/cpu-before" "$work/cpu-after" $(( stored - rows0 ))
