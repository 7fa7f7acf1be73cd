#!/usr/bin/env python3
"""The providers' own SDK test vectors (provider_vectors.json, from shared/vectors) as shipped known-answer cases
(providers/fixtures/vector_fixtures.json), so `inlet providers test NAME` can prove the profiles whose only known
answers are those vectors (HubSpot, Twilio, Coinbase Commerce, PagerDuty, SendGrid, Paddle, Square) and the others
they cover. Each vector keeps its `source` as `sdk`. Mirrors ProviderVectorTests.swift: the vector's URL is the
source's public_url plus the request's query, its timestamp (in the profile's unit) the receiver's clock.

Run:  python3 generate_vector_fixtures.py   (--check: compare only)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "..", "..", "providers", "fixtures", "vector_fixtures.json")
PROFILE = {"hex_hmac_prefixed": "github", "slack_v0": "slack", "b64_hmac": "shopify", "paddle": "paddle", "pagerduty": "pagerduty",
           "hex_hmac": "coinbase-commerce", "twilio": "twilio", "twilio_json": "twilio", "square": "square", "hubspot_v3": "hubspot",
           "sendgrid_ecdsa": "sendgrid"}
MILLISECONDS = {"hubspot"}  # profiles whose timestamp unit is milliseconds

cases = []
counts = {}
for v in json.load(open(os.path.join(HERE, "provider_vectors.json"))):
    name = ("svix" if v["provider"] == "Svix" else "standard-webhooks") if v["scheme"] == "standard_webhooks" else PROFILE.get(v["scheme"])
    if name is None:
        continue
    counts[name] = counts.get(name, 0) + 1
    url = v.get("url")
    public_url, query = (url.split("?", 1) + [None])[:2] if url else (None, None)
    body = v["body_spec"]["repeat_char"] * v["body_spec"]["count"] if v.get("body_spec") else (v.get("body") or "")
    ts = int(v["timestamp"]) if v.get("timestamp") else 1_700_000_000
    now = ts // 1000 if name in MILLISECONDS else ts
    c = {"provider": name, "case": f"sdk_vector_{counts[name]}" + ("" if v["valid"] else "_invalid"), "sdk": v["source"],
         "secrets": [v.get("secret") or v.get("public_key")], "headers": v.get("headers") or {}, "body": body, "now": now,
         "method": v.get("method") or "POST", "expected": "accepted" if v["valid"] else "signature_mismatch"}
    if public_url:
        c["public_url"] = public_url
    if query:
        c["query"] = query
    cases.append(c)

text = json.dumps(cases, indent=1, ensure_ascii=False) + "\n"
if "--check" in sys.argv:
    current = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else ""
    sys.exit(0 if current == text else "vector_fixtures.json is not current: run generate_vector_fixtures.py")
open(OUT, "w", encoding="utf-8").write(text)
print(f"{len(cases)} cases for {len(counts)} profiles -> {OUT}")
