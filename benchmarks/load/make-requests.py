#!/usr/bin/env python3
"""Writes N pre-signed webhook requests, one per line "<signature header value>\t<body>", each with a unique event
`id` and a signature valid for the next 5 minutes, for unique.lua (wrk) and openloop.c.

    make-requests.py [N] [OUT] [BODY_TEMPLATE] [--size BYTES] [--scheme stripe|github] [--secret S]

--size pads (or trims the invoice lines of) the template so every body is exactly BYTES long, still a Stripe-style
JSON event. --scheme github signs like GitHub (`sha256=<hex HMAC of the body>`, for adnanh/webhook's
X-Hub-Signature-256 rule) instead of Stripe (`t=…,v1=<hex HMAC of "{t}.{body}">`).
"""
import argparse, hashlib, hmac, json, os, sys, time

here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("n", nargs="?", type=int, default=200000)
p.add_argument("out", nargs="?", default="requests.tsv")
p.add_argument("template", nargs="?", default=os.path.join(here, "body.json"))
p.add_argument("--size", type=int, default=0, help="exact body size in bytes (0: the template as it is)")
p.add_argument("--scheme", choices=["stripe", "github"], default="stripe")
p.add_argument("--secret", default="whsec_test_secret")
args = p.parse_args()

secret = args.secret.encode()
t = int(time.time())
ID_LEN = len(f"evt_bench_{t}_00000000")
PLACEHOLDER = "@" * ID_LEN  # same length as a real id, and plain ASCII, so sizes add up


def render(doc):
    return json.dumps(doc, separators=(",", ":"))


template = json.load(open(args.template))
template["id"] = PLACEHOLDER
if args.size:
    lines = template["data"]["object"]["lines"]["data"]
    template["data"]["object"].setdefault("metadata", {})["pad"] = ""
    # Trim invoice lines until the body fits, then pad a metadata string to the exact size.
    while len(render(template).encode()) > args.size and lines:
        lines.pop()
    short = args.size - len(render(template).encode())
    if short < 0:
        sys.exit(f"--size {args.size} is smaller than the smallest body ({args.size - short} bytes)")
    template["data"]["object"]["metadata"]["pad"] = "x" * short
# Split the rendered body around the placeholder once and fill in each id by concatenation, so signing, not JSON
# encoding, is the cost per request.
head, tail = (part.encode() for part in render(template).split(PLACEHOLDER))
if args.size:
    assert len(head) + ID_LEN + len(tail) == args.size, (len(head) + ID_LEN + len(tail), args.size)

prefix = f"{t}.".encode()
with open(args.out, "wb") as f:
    for i in range(args.n):
        body = head + f"evt_bench_{t}_{i:08d}".encode() + tail
        if args.scheme == "stripe":
            sig = f"t={t},v1=" + hmac.new(secret, prefix + body, hashlib.sha256).hexdigest()
        else:
            sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        f.write(sig.encode() + b"\t" + body + b"\n")
