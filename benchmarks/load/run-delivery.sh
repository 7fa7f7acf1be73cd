#!/usr/bin/env bash
# Delivery figures, on loopback with a release build:
#  1. ingress ack latency while the only destination is DOWN (events pile up in the queue), then
#  2. forwarding throughput once the destination (a quiet `inlet sink`) comes up and the queue drains.
#   bash benchmarks/load/run-delivery.sh [ingest-seconds] [connections]
# (INLET_BIN=path picks another build; the drain also reports the gateway's CPU µs per delivery, split by thread)
# DESTINATION=sink (default) drains into `inlet sink`, which verifies every signature; DESTINATION=nginx drains into
# nginx `return 200` (the issue's yardstick: the destination costs next to nothing, so the figure is Inlet's own).
# REPLAY=1 then bulk-replays every stored event (`POST /v1/replays`, at most 100,000, at 100,000/s) to the same
# destination and reports that rate and its CPU per delivery too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
LOG_PREFIX=delivery; source "$here/lib.sh"
secs=${1:-8}; conns=${2:-64}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
INLET_BIN=${INLET_BIN:-$root/.build/release/inlet}
PROVIDERS=${PROVIDERS:-$root/providers}  # a baseline build may need the profiles of its own commit
[ -x "$INLET_BIN" ] || (cd "$root" && swift build -c release --product inlet)
work=$(mktemp -d); bin="$INLET_BIN"
DESTINATION=${DESTINATION:-sink}
case "$DESTINATION" in sink) ;; nginx) command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install -y nginx-light)" >&2; exit 1; } ;;
  *) echo "DESTINATION must be sink or nginx" >&2; exit 2 ;; esac
trap 'kill $pid $sink 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e "s#\"../../providers\"#\"$PROVIDERS\"#" -e "s#\"../../.bench-data/delivery.sqlite\"#\"$work/inlet.sqlite\"#" "$here/inlet-delivery.toml" > "$work/inlet.toml"
[ "${REPLAY:-0}" = 1 ] && printf '\n[admin]\nlisten = "127.0.0.1:18190"\ntokens = ["bench-admin-token"]\n' >> "$work/inlet.toml"
python3 "$here/make-requests.py" 300000 "$work/requests.tsv" "$here/body.json"
"$bin" serve --config "$work/inlet.toml" > "$work/serve.log" 2>&1 & pid=$!; sink=""
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18090/ 2>/dev/null && break; sleep 0.1; done
echo "== ingress while the destination is down (${secs}s, ${conns} connections)"
(cd "$work" && REQUESTS="$work/requests.tsv" THREADS=2 wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/unique.lua" http://127.0.0.1:18090/hooks/stripe) \
  | grep -E "Requests/sec|50%|90%|99%|Non-2xx" || true
queued=$(sqlite3 "$work/inlet.sqlite" "select count(*) from deliveries where state='pending'")
echo "queued: $queued"
echo "== destination up ($DESTINATION): draining"
if [ "$DESTINATION" = nginx ]; then
  sed -e "s#127.0.0.1:18080#127.0.0.1:18091#" -e "s#/tmp/peers-nginx.pid#$work/nginx.pid#" -e "s#/tmp/peers-nginx-error.log#$work/nginx-error.log#" \
    "${SHARED:-$root/../shared/bench}/nginx.conf" > "$work/nginx.conf"
  nginx -c "$work/nginx.conf" -g 'daemon off;' > "$work/sink.log" 2>&1 & sink=$!
else
  "$bin" sink --quiet --listen 127.0.0.1:18091 --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw > "$work/sink.log" 2>&1 & sink=$!
fi
start=$(date +%s.%N); cpu_threads "$pid" > "$work/cpu-before"
# PERF=FILE records a call-graph profile of the gateway over the first 4 s of the drain (perf report -i FILE).
[ -n "${PERF:-}" ] && { perf record -F 999 -g -p "$pid" -o "$PERF" -- sleep 4 > /dev/null 2>&1 & perf_pid=$!; }
for _ in $(seq 600); do
  left=$(sqlite3 "$work/inlet.sqlite" "select count(*) from deliveries where state='pending'" 2>/dev/null || echo 1)
  [ "$left" = "0" ] && break; sleep 0.5
done
cpu_threads "$pid" > "$work/cpu-after"
[ -n "${perf_pid:-}" ] && wait "$perf_pid"  # the profile is written before the gateway stops
echo "gateway CPU per delivery: $(cpu_report "$work/cpu-before" "$work/cpu-after" "$(sqlite3 "$work/inlet.sqlite" "select count(*) from deliveries where state='delivered'")" | sed 's/cpu_us_per_event/cpu_us_per_delivery/')"
sqlite3 "$work/inlet.sqlite" "select count(*) || ' delivered between first and last success in ' || round((max(delivered_at)-min(delivered_at))/1000.0, 2) || ' s: ' || cast(count(*)*1000.0/max(1, max(delivered_at)-min(delivered_at)) as int) || ' events/s' from deliveries where state='delivered'"
echo "drain wall time (incl. waiting for the circuit probe): $(echo "$(date +%s.%N) - $start" | bc) s; dead: $(sqlite3 "$work/inlet.sqlite" "select count(*) from deliveries where state='dead'")"

if [ "${REPLAY:-0}" = 1 ]; then
  echo "== bulk replay of the stored events to the same destination"
  cpu_threads "$pid" > "$work/cpu-before"; q0=$(date +%s.%N)
  curl -s -H "Authorization: Bearer bench-admin-token" -X POST http://127.0.0.1:18190/v1/replays \
    -d '{"source":"stripe","destinations":["local"],"rate_per_second":100000,"limit":100000}'; echo
  echo "queueing took $(echo "$(date +%s.%N) - $q0" | bc) s"
  for _ in $(seq 600); do
    [ "$(sqlite3 "$work/inlet.sqlite" "select count(*) from deliveries where state='pending'" 2>/dev/null || echo 1)" = "0" ] && break; sleep 0.5
  done
  cpu_threads "$pid" > "$work/cpu-after"
  echo "gateway CPU per replayed delivery (queueing included): $(cpu_report "$work/cpu-before" "$work/cpu-after" "$(sqlite3 "$work/inlet.sqlite" "select count(*) from deliveries where replay = 1 and state='delivered'")" | sed 's/cpu_us_per_event/cpu_us_per_delivery/')"
  sqlite3 "$work/inlet.sqlite" "select count(*) || ' replays delivered in ' || round((max(delivered_at) - min(created_at)) / 1000.0, 2) || ' s from the request: ' || cast(count(*) * 1000.0 / max(1, max(delivered_at) - min(created_at)) as int) || ' events/s; dead: ' || (select count(*) from deliveries where replay = 1 and state = 'dead') from deliveries where replay = 1 and state = 'delivered'"
fi
