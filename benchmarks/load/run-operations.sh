#!/usr/bin/env bash
# Operations figures, on loopback with a release build:
#  1. ack latency while retention prunes OLD events (100,000 by default, with their deliveries, attempts and
#     idempotency keys), next to the same load on the same store with nothing to prune;
# (Bulk replay throughput is measured by `REPLAY=1 bash benchmarks/load/run-delivery.sh`, next to the drain it is
# compared with.)
#   bash benchmarks/load/run-operations.sh [old-events] [seconds] [connections]
# Needs: apt-get install -y wrk sqlite3 curl ; a release build (swift build -c release --product inlet).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
old=${1:-100000}; secs=${2:-10}; conns=${3:-64}
for tool in wrk sqlite3 curl; do command -v $tool >/dev/null || { echo "$tool is not installed (apt-get install -y $tool)" >&2; exit 1; }; done
bin=${INLET_BIN:-$root/.build/release/inlet}
[ -x "$bin" ] || (cd "$root" && swift build -c release --product inlet)
work=$(mktemp -d); pid=""
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
token=bench-admin-token

# retention_days: 3650 for the baseline (nothing old enough), 1 for the pruning run.
write_config() {
  sed -e "s#\"../../providers\"#\"$root/providers\"#" -e "s#\"../../.bench-data/inlet.sqlite\"#\"$work/inlet.sqlite\"#" "$here/inlet-bench.toml" \
    | sed -e "s#^durability = \"fsync\"#durability = \"fsync\"\nevent_retention_days = $1\nidempotency_retention_days = $1#" > "$work/inlet.toml"
  printf '\n[admin]\nlisten = "127.0.0.1:18190"\ntokens = ["%s"]\n' "$token" >> "$work/inlet.toml"
}
start() {
  "$bin" serve --config "$work/inlet.toml" >> "$work/serve.log" 2>&1 & pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18190/healthz 2>/dev/null && return; sleep 0.1; done
  echo "gateway did not start:" >&2; cat "$work/serve.log" >&2; exit 1
}
stop() { kill -TERM $pid; wait $pid 2>/dev/null || true; pid=""; }
load() {  # label
  python3 "$here/make-requests.py" 400000 "$work/requests.tsv" "$here/body.json" >/dev/null
  echo "== $1: wrk ${secs}s, $conns connections"
  (cd "$work" && REQUESTS="$work/requests.tsv" THREADS=2 wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/unique.lua" http://127.0.0.1:18090/hooks/stripe) \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors" || true
}
old_left() { sqlite3 "$work/inlet.sqlite" "select count(*) from events where id like 'evt_old%'"; }

# Schema first (the gateway creates it), then OLD events: delivered 40 days ago, each with a delivery, an attempt
# and an idempotency key, 1.3 KB of body, as retention would find them.
write_config 3650; start; stop
cutoff=$(( ($(date +%s) - 40 * 86400) * 1000 ))
sqlite3 "$work/inlet.sqlite" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $old)
INSERT INTO events (id, source, provider, event_key, key_origin, event_type, received_at, method, path, headers, body, unrouted)
SELECT printf('evt_old%09d', i), 'stripe', 'stripe', 'old_' || i, 'provider', 'invoice.paid', $cutoff + i, 'POST', '/hooks/stripe',
       '[["Content-Type","application/json"]]', randomblob(1300), 0 FROM n;
INSERT INTO deliveries (event_id, destination, state, attempts, next_attempt_at, created_at, updated_at, delivered_at)
SELECT id, 'null', 'delivered', 1, received_at, received_at, received_at, received_at FROM events WHERE id LIKE 'evt_old%';
INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status_code)
SELECT id, 1, created_at, 3, 204 FROM deliveries;
INSERT INTO idempotency_keys (source, event_key, event_id, first_seen_at, last_seen_at)
SELECT source, event_key, id, received_at, received_at FROM events WHERE id LIKE 'evt_old%';
COMMIT;
SQL
echo "store: $(old_left) old events, $(du -h "$work/inlet.sqlite" | cut -f1)"

# Baseline: same store, same load, nothing to prune.
write_config 3650; start; load "baseline (nothing to prune)"; stop
echo "old events left: $(old_left)"

# Pruning: retention starts at start-up, in batches of 500 with short pauses; the load runs meanwhile.
write_config 1; start; t0=$(date +%s.%N)
( while [ "$(old_left 2>/dev/null || echo 1)" != "0" ]; do sleep 0.2; done; echo "prune of $old events done after $(echo "$(date +%s.%N) - $t0" | bc) s" ) &
watcher=$!
load "during the prune of $old old events"
wait $watcher || true
echo "old events left: $(old_left)"

stop
