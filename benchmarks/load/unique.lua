-- wrk script: POST Stripe-style events, each with a unique id and a valid signature, read from a file of
-- pre-signed requests (one per line: "<signature header>\t<body>"), so every request is a new event, not a duplicate.
-- Env: REQUESTS (file), THREADS (wrk -t), SIGHDR (header name, default Stripe-Signature).
-- done() prints one "wrk-summary" line (req/s, p50/p99/p99.9 in ms, errors) for scripts to parse.
local requests = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  local path = os.getenv("REQUESTS") or "requests.tsv"
  local step = tonumber(os.getenv("THREADS") or "2")
  local header = os.getenv("SIGHDR") or "Stripe-Signature"
  local n = 0
  for line in io.lines(path) do
    if n % step == offset then
      local tab = line:find("\t", 1, true)
      local sig, body = line:sub(1, tab - 1), line:sub(tab + 1)
      requests[#requests + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json", [header] = sig }, body)
    end
    n = n + 1
  end
  idx = 0
end

function request()
  idx = idx % #requests + 1
  return requests[idx]
end

function done(summary, latency)
  local e = summary.errors
  io.write(string.format(
    "wrk-summary requests=%d rps=%.1f p50_ms=%.3f p75_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d status_ge_400=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(75) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
