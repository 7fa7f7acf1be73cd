-- wrk script: POST Stripe-style events, each with a unique id and a valid signature, read from a file of
-- pre-signed requests (one per line: "<signature header>\t<body>"), so every request is a new event, not a duplicate.
local requests = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  local path = os.getenv("REQUESTS") or "requests.tsv"
  local step = tonumber(os.getenv("THREADS") or "2")
  local n = 0
  for line in io.lines(path) do
    if n % step == offset then
      local tab = line:find("\t", 1, true)
      local sig, body = line:sub(1, tab - 1), line:sub(tab + 1)
      requests[#requests + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Stripe-Signature"] = sig }, body)
    end
    n = n + 1
  end
  idx = 0
end

function request()
  idx = idx % #requests + 1
  return requests[idx]
end
