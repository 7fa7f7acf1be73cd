#!/usr/bin/env bash
# Stream figures on loopback with a release build (issue 16):
#  1. fill: ingest N events routed to one stream (wrk, unique signed events),
#  2. pull throughput: lease batches of 500 and acknowledge each by receipt (1 worker, then 4),
#  3. long-poll wake-up latency: one event POSTed while a long-poll waits, p50/p99 over 200 samples,
#  4. SSE throughput to one reader (a new group reading the whole stream).
#   bash benchmarks/load/run-streams.sh [fill-seconds] [connections]
# (INLET_BIN=path picks another build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
LOG_PREFIX=streams; source "$here/lib.sh"
secs=${1:-10}; conns=${2:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
INLET_BIN=${INLET_BIN:-$root/.build/release/inlet}
[ -x "$INLET_BIN" ] || (cd "$root" && swift build -c release --product inlet)
work=$(mktemp -d); bin="$INLET_BIN"; pid=""
trap 'stop "$pid"; rm -rf "$work"' EXIT
sed -e "s#\"../../providers\"#\"$root/providers\"#" -e "s#\"../../.bench-data/streams.sqlite\"#\"$work/inlet.sqlite\"#" "$here/inlet-streams.toml" > "$work/inlet.toml"
python3 "$here/make-requests.py" 400000 "$work/requests.tsv" "$here/body.json" >/dev/null
tail -n 1000 "$work/requests.tsv" > "$work/wake.tsv"; head -n -1000 "$work/requests.tsv" > "$work/fill.tsv"
"$bin" serve --config "$work/inlet.toml" > "$work/serve.log" 2>&1 & pid=$!
wait_http 18191
echo "== fill: ${secs}s of ingest into the stream (${conns} connections)"
(cd "$work" && REQUESTS="$work/fill.tsv" THREADS=2 wrk -t2 -c"$conns" -d"${secs}s" -s "$here/unique.lua" http://127.0.0.1:18190/hooks/stripe) | grep -E "Requests/sec|Non-2xx" || true
n=$(sqlite3 "$work/inlet.sqlite" "select count(*) from stream_entries")
echo "stream length: $n"
echo "== pull, batches of 500"
# PERF=FILE records a call-graph profile of the gateway during the one-worker pull (perf report -i FILE).
[ -n "${PERF:-}" ] && { perf record -F 999 -g -p "$pid" -o "$PERF" > /dev/null 2>&1 & perf_pid=$!; }
python3 "$here/stream-client.py" pull 18191 bench-consumer-token "$n" --max 500 --workers 1 --group one
[ -n "${perf_pid:-}" ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
python3 "$here/stream-client.py" pull 18191 bench-consumer-token "$n" --max 500 --workers 4 --group four
echo "== long-poll wake-up after a commit"
python3 "$here/stream-client.py" wake 18191 bench-consumer-token 18190 "$work/wake.tsv" --samples 200
echo "== SSE to one reader"
python3 "$here/stream-client.py" sse 18191 bench-consumer-token "$n" --group sse
echo "gateway peak RSS: $(( $(rss_kb "$pid") / 1024 )) MiB"
