#!/usr/bin/env python3
"""Writes N pre-signed Stripe-style requests (unique event IDs, valid for the next 5 minutes) for unique.lua."""
import hashlib, hmac, json, sys, time
n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
out = sys.argv[2] if len(sys.argv) > 2 else "requests.tsv"
secret = b"whsec_test_secret"
template = json.load(open(sys.argv[3] if len(sys.argv) > 3 else "../../shared/bench/body.json"))
t = int(time.time())
with open(out, "w") as f:
    for i in range(n):
        template["id"] = f"evt_bench_{t}_{i:08d}"
        body = json.dumps(template, separators=(",", ":"))
        sig = hmac.new(secret, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
        f.write(f"t={t},v1={sig}\t{body}\n")
