#!/usr/bin/env python3
"""Writes the seed corpus (fuzz/corpus/<target>/) and dictionaries (fuzz/dicts/) from the repository's own files.

Seeds are the real thing where the repository has it: the signature test vectors and SDK fixtures as requests,
every providers/*.toml, config/inlet.toml and the bench configs, benchmarks/load/body.json and the fixture bodies. A few
hand-written seeds add what those lack (every config section, pointer + document inputs). Run it after adding
providers or fixtures; the output is committed. Only the standard library is used.
"""
import glob
import hashlib
import json
import os
import re
import shutil

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")
DICTS = os.path.join(FUZZ, "dicts")
FIXTURES = os.path.join(ROOT, "Tests", "InletCoreTests", "Verification", "Fixtures")
SHIPPED = os.path.join(ROOT, "providers", "fixtures")  # the known answers that ship with the profiles
MAX_SEED = 4096  # libFuzzer's default -max_len; longer seeds would be cut anyway


def slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower()[:60] or "seed"


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return False
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    return True


def request_seed(method, target, headers, body, secret=None, now=None):
    lines = [f"{method} {target}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if secret is not None:
        lines.append(f"X-Fuzz-Secret: {secret}")
    if now is not None:
        lines.append(f"X-Fuzz-Now: {now}")
    return ("\n".join(lines) + "\n\n").encode() + body.encode()


def signature_corpus():
    seen = set()
    n = 0
    for fname in ("provider_vectors.json", "sdk_fixtures.json", "more_fixtures.json", "catalog_fixtures.json"):
        for v in json.load(open(os.path.join(FIXTURES if fname == "provider_vectors.json" else SHIPPED, fname))):
            provider = v.get("provider") or v.get("scheme") or "x"
            secret = v.get("secret") or v.get("public_key") or (v.get("secrets") or [None])[0]
            now = v.get("now") or v.get("timestamp")
            if isinstance(now, str) and not now.isdigit():
                now = None
            if isinstance(now, str) and len(now) > 10:  # milliseconds
                now = now[:10]
            method = v.get("method") or "POST"
            target = "/hooks/fuzz"
            if v.get("url") and "?" in v["url"]:
                target += "?" + v["url"].split("?", 1)[1]
            elif v.get("query"):
                target += "?" + v["query"]
            body = v.get("body") or ""
            data = request_seed(method, target, v.get("headers") or {}, body, secret, now)
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            name = f"{slug(provider)}-{slug(v.get('case') or v.get('scheme') or '')}-{digest[:8]}"
            n += write("signature", name, data)
    # Hand-written edge cases: the timestamp forms each unit accepts, X-Forwarded-For chains, empty and odd values.
    extra = {
        "stripe-long-timestamp": request_seed("POST", "/hooks/fuzz", {"Stripe-Signature": "t=1767225600123456,v1=00"}, "{}"),
        "svix-ms-timestamp": request_seed("POST", "/hooks/fuzz", {"svix-id": "msg_1", "svix-timestamp": "1767225600000", "svix-signature": "v1,AAAA v1a,BBBB"}, "{}"),
        "rfc3339-timestamp": request_seed("POST", "/hooks/fuzz", {"X-Timestamp": "2026-01-01T00:00:00.123+01:00", "Webhook-Signature": "v1=ab"}, "{}"),
        "forwarded-for": request_seed("POST", "/hooks/fuzz", {"X-Forwarded-For": "198.51.100.1, 10.0.0.2, ::ffff:10.0.0.3", "X-Hub-Signature-256": "sha256="}, '{"id":"x"}'),
        "get-handshake": request_seed("GET", "/hooks/fuzz?hub.mode=subscribe&hub.verify_token=fuzz-verify-token&hub.challenge=42", {"X-Okta-Verification-Challenge": "c"}, ""),
        "empty": b"",
        "no-body": b"POST /\nStripe-Signature: ,,,=,v1=\n",
    }
    for name, data in extra.items():
        n += write("signature", "x-" + name, data)
    return n


def profile_corpus():
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "providers", "*.toml"))):
        n += write("profile", os.path.basename(path), open(path, "rb").read())
    n += write("profile", "x-minimal.toml", 'name = "x"\nconfidence = "docs"\nreference = "r"\n[[signature]]\nheaders = ["X-Sig"]\nalgorithm = "hmac-sha256"\n')
    n += write("profile", "x-every-key.toml", """name = "every-key"
display_name = "Every key"
content_type = "application/json"
description = "d"
confidence = "secondary"
reference = "https://example.com/webhooks"
docs = ["https://example.com"]
secret_encoding = "base64"
secret_prefix = "whsec_"
signed_id = ["header:webhook-id", "json:/id", "query:id"]
handshakes = ["slack-url-verification", "zoom-url-validation"]

[[signature]]
headers = ["webhook-signature"]
from = ["query:sig"]
format = "versioned-list"
entry_separator = " "
version_separator = ","
versions = ["v1"]
algorithm = "hmac-sha256"
encoding = "base64"
signed_content = "{id}.{timestamp}.{method}.{url}.{header:X-A}.{json:/a/b}.{query:q}.{body}"

[[signature]]
headers = ["X-Legacy"]
format = "key-value"
pair_separator = ";"
key_value_separator = "="
signature_keys = ["h1"]
algorithm = "hmac-sha1"
encoding = "hex"
legacy = true

[timestamp]
sources = ["header:webhook-timestamp", "signature:ts"]
unit = "rfc3339"
tolerance_seconds = 300
future_tolerance_seconds = 60

[event]
id = ["json:/id"]
type = ["json:/type"]

[source_ips]
url = "https://example.com/ips.json"
format = "github-meta"
as_of = "2026-01-01"
note = "n"
ranges = ["192.0.2.0/24", "2001:db8::/32"]
""")
    return n


def config_corpus():
    n = 0
    for path in [os.path.join(ROOT, "config", "inlet.toml")] + sorted(glob.glob(os.path.join(ROOT, "benchmarks", "load", "*.toml"))):
        n += write("config", slug(os.path.relpath(path, ROOT)), open(path, "rb").read())
    n += write("config", "x-every-section.toml", """providers_dir = "../providers"

[server]
listen = "[::1]:8443"
idle_timeout_seconds = 30
request_timeout_seconds = 10

[server.tls]
certificate = "tls/cert.pem"
key = "/etc/inlet/key.pem"

[store]
path = "data/x.sqlite"
durability = "relaxed"
idempotency_retention_days = 7
event_retention_days = 14
max_batch = 256

[delivery]
concurrency = 8
lease_seconds = 30
poll_interval_ms = 250

[quarantine]
enabled = false
max_entries = 10
max_body_bytes = 0
retention_hours = 1

[admin]
listen = "127.0.0.1:9190"
tokens = ["env:INLET_SECRET", "file:admin-token"]

[metrics]
listen = "0.0.0.0:9464"

[secrets]
expiry_warning_days = 14

[log]
level = "debug"
format = "json"

[sink]
listen = "127.0.0.1:8091"
secrets = ["whsec_ZGV2ZWxvcG1lbnQtb25seS1zaW5rLXNlY3JldCEhIQ=="]

[destinations.billing]
url = "https://billing.internal/hooks"
secrets = [{ label = "current", value = "whsec_ZGV2ZWxvcG1lbnQtb25seS1zaW5rLXNlY3JldCEhIQ==" }, { label = "old", value = "env:FILE_SECRET", expires_at = 2026-03-01T00:00:00Z }]
timeout_seconds = 5
max_attempts = 20
initial_backoff_ms = 500
max_backoff_ms = 60000
max_age_seconds = 86400
retry_on = [408, 429, "5xx"]
payload = "raw"
max_concurrency = 4
rate_limit_per_second = 2.5
ordering = "json:/data/object/id"
circuit_failure_threshold = 5
circuit_open_ms = 1000
circuit_max_open_ms = 60000

[sources.stripe]
provider = "stripe"
path = "/hooks/stripe"
secrets = [{ label = "next", value = "env:STRIPE_WEBHOOK_SECRET", not_before = 2026-01-02T00:00:00Z, expires_at = "2026-12-01T00:00:00Z" }, "whsec_x"]
destinations = ["billing"]
max_body_bytes = 65536
tolerance_seconds = 600
allow_ips = ["192.0.2.0/24"]
trusted_proxies = ["10.0.0.0/8", "::1"]
allow_legacy_signatures = true
allow_provider_ips = true

[[sources.stripe.routes]]
destination = "billing"
types = ["invoice.*", "charge.succeeded"]
where = [{ pointer = "/data/object/currency", in = ["eur", "chf"] }, { pointer = "/livemode", equals = true }, { pointer = "/x", exists = false }]

[sources.meta]
provider = "meta"
secrets = ["file:secrets/meta"]
verify_token = "env:INLET_SECRET"

[sources.twilio]
provider = "twilio"
secrets = ["env:INLET_SECRET"]
public_url = "https://example.com/hooks/twilio"

[sources.paypal]
provider = "paypal"
webhook_id = "WH-1"
sandbox = true

[sources.sns]
provider = "aws-sns"
sns_auto_confirm = true
topic_arns = ["arn:aws:sns:us-east-1:123456789012:orders", "arn:aws:sns:*:123456789012:*"]
dedup_on_body_hash = true

[sources.discord]
provider = "discord"
secrets = ["env:HEX_SECRET"]
""")
    n += write("config", "x-minimal.toml", """providers_dir = "providers"

[destinations.svc]
url = "http://127.0.0.1:9000/hook"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[sources.stripe]
provider = "stripe"
secrets = ["env:STRIPE_WEBHOOK_SECRET"]
destinations = ["svc"]
""")
    return n


def json_corpus():
    n = 0
    n += write("json", "bench-body.json", open(os.path.join(ROOT, "benchmarks", "load", "body.json"), "rb").read())
    seen = set()
    for fname in ("provider_vectors.json", "sdk_fixtures.json", "more_fixtures.json", "catalog_fixtures.json"):
        for v in json.load(open(os.path.join(FIXTURES if fname == "provider_vectors.json" else SHIPPED, fname))):
            body = (v.get("body") or "").encode()
            if not body.strip() or body in seen:
                continue
            seen.add(body)
            n += write("json", f"fixture-{hashlib.sha1(body).hexdigest()[:12]}.json", body)
    docs = {
        "escapes": rb'{"id":"a\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","type":"x","lone":"\ud800","n":[-0.5e+10,0,1E-2,true,false,null]}',
        "deep": b"[" * 300 + b"]" * 300,
        "nested-pointer": b"/data/object/id\x00" + rb'{"data":{"object":{"id":"in_1","status":"paid"}},"data ":1}',
        "escaped-pointer": b"/a~1b/m~0n/0\x00" + rb'{"a/b":{"m~n":["x",{"y":1}]}}',
        "array-index": b"/2/k\x00" + rb'[1,[2],{"k":"v"},{"k":"w"}]',
        "leading-zero-index": b"/01\x00" + rb'["a","b"]',
        "stripe-ips": rb'{"WEBHOOKS":["3.18.12.63","2001:db8::1"]}',
        "github-meta": rb'{"hooks":["192.30.252.0/22","2a0a:a440::/29"],"web":[]}',
        "sns": rb'{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"x","Timestamp":"2026-01-01T00:00:00.000Z","SignatureVersion":"1","Signature":"AAAA","SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem"}',
        "whitespace": b" \t\r\n{ \"id\" : \"x\" , \"type\" : 1 } \n",
        "truncated": b'{"id":"x","type":"',
        # Duplicate keys (refused with duplicate_json_key): top level, nested, inside arrays, and equal only after
        # unescaping.
        "dup-sns-message": rb'{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"signed","Timestamp":"2026-01-01T00:00:00.000Z","Message":"forged"}',
        "dup-mailgun": rb'{"signature":{"timestamp":"1","token":"t","signature":"s"},"event-data":{"id":"a"},"event-data":{"id":"b"}}',
        "dup-nested": b"/data/object/id\x00" + rb'{"data":{"object":{"id":"in_1","id":"in_2"}}}',
        "dup-in-array": rb'[{"sg_event_id":"a","event":"open"},{"event":"x","event":"y"}]',
        "dup-escaped": rb'{"Message":"a","Mess\u0061ge":"b","a\/b":1,"a/b":2}',
    }
    for name, data in docs.items():
        n += write("json", "x-" + name, data)
    return n


def write_seeds(target, seeds):
    """Writes each named seed of `seeds` into `target`'s corpus; returns how many were written."""
    return sum(write(target, name, text) for name, text in seeds.items())


def delivery_corpus():
    """Destination answers: `status\nRetry-After\nattempts-made\nreceived-at\nbody`."""
    now = 1_767_225_600_000
    seeds = {
        "ok": f"200\n\n0\n{now}\n{{\"ok\":true}}",
        "503-seconds": f"503\n120\n2\n{now}\nbusy",
        "503-huge-seconds": f"503\n10000000000000000\n1\n{now}\n",
        "429-date": f"429\nThu, 01 Jan 2026 00:05:00 GMT\n3\n{now - 60000}\n",
        "429-past-date": f"429\nSun, 06 Nov 1994 08:49:37 GMT\n0\n{now}\n",
        "500-retry-after-ignored": f"500\n5\n0\n{now}\n",
        "404": f"404\n\n0\n{now}\nnot found",
        "stored-row-extremes": f"503\n1\n9223372036854775807\n-9223372036854775808\n",
        "odd-status": "999\n-1\n-5\n0\n",
        "junk-date": f"503\nSun, 99 Foo 99999 99:99:99 GMT\n0\n{now}\n",
    }
    return write_seeds("delivery", seeds)


def sink_corpus():
    """Forwarded events at the sink: `id\ntimestamp\nwebhook-signature\nnow-seconds\nbody`."""
    body = '{"specversion":"1.0","id":"evt_1","source":"inlet/demo","type":"demo"}'
    seeds = {
        "valid-shape": f"msg_1\n1767225600\nv1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n1767225600\n{body}",
        "two-signatures": f"msg_1\n1767225600\nv1,AAAA v1,BBBB v2,CCCC\n1767225600\n{body}",
        "huge-timestamp": f"msg_1\n99999999999999999999\nv1,AAAA\n1767225600\n{body}",
        "sixteen-digits": f"msg_1\n9999999999999999\nv1,AAAA\n1767225600\n{body}",
        "signed-timestamp": f"msg_1\n-1767225600\nv1,AAAA\n1767225600\n{body}",
        "empty": "\n\n\n\n",
        "stale": f"msg_1\n1767225000\nv1,AAAA\n1767225600\n{body}",
    }
    return write_seeds("sink", seeds)


def dictionaries():
    """Header names, keys and tokens the code compares against: libFuzzer cannot see through Swift String ==."""
    os.makedirs(DICTS, exist_ok=True)

    def save(name, words):
        with open(os.path.join(DICTS, name), "w") as f:
            for w in sorted(set(words)):
                esc = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02X" % ord(c) for c in w)
                f.write(f'"{esc}"\n')

    headers, values = [], []
    for path in glob.glob(os.path.join(ROOT, "providers", "*.toml")):
        text = open(path).read()
        for m in re.finditer(r'"(?:header|query|json|signature):([^"]+)"', text):
            values.append(m.group(1))
        for m in re.finditer(r'^\s*headers\s*=\s*\[([^\]]*)\]', text, re.M):
            headers += re.findall(r'"([^"]+)"', m.group(1))
        for key in ("prefix", "pair_separator", "key_value_separator", "entry_separator", "version_separator"):
            for m in re.finditer(rf'^\s*{key}\s*=\s*"([^"]*)"', text, re.M):
                if m.group(1):
                    values.append(m.group(1))
        for m in re.finditer(r'^\s*(?:signature_keys|versions)\s*=\s*\[([^\]]*)\]', text, re.M):
            values += re.findall(r'"([^"]+)"', m.group(1))
    headers += ["X-Forwarded-For", "X-Fuzz-Secret", "X-Fuzz-Now", "X-Okta-Verification-Challenge", "PAYPAL-CERT-URL"]
    save("signature.dict", [h + ": " for h in headers] + values + ["GET ", "POST ", "\n\n", "whsec_", "1767225600", "sha256="])

    keys = []
    for path in glob.glob(os.path.join(ROOT, "Sources", "InletConfig", "*.swift")):
        keys += re.findall(r'\.(?:string|requiredString|strings|int|bool|table|tables|raw)\("([a-z_]+)"', open(path).read())
        keys += re.findall(r'secretList\(&\w+, "([a-z_]+)"', open(path).read())
        keys += re.findall(r'cidrs\(&\w+, "([a-z_]+)"', open(path).read())
        keys += re.findall(r'sources\(&\w+, "([a-z_]+)"', open(path).read())
    words = keys + [k + " = " for k in keys] + ["[[signature]]", "[timestamp]", "[event]", "[source_ips]", "[server]",
             "[server.tls]", "[store]", "[delivery]", "[quarantine]", "[admin]", "[metrics]", "[secrets]", "[log]",
             "[sink]", "[destinations.", "[sources.", "routes", "pointer", "equals", "exists", "in", "value", "label",
             "not_before", "expires_at", "env:", "file:", "header:", "json:/", "signature:", "query:", "{body}",
             "{timestamp}", "{id}", "{method}", "{url}", "{header:", "{json:/", "{query:", "hmac-sha256", "hmac-sha1",
             "hmac-sha512", "ed25519", "ecdsa-p256-sha256", "token", "twilio", "aws-sns", "paypal-rsa", "key-value",
             "versioned-list", "plain", "base64", "hex", "utf8", "seconds", "milliseconds", "rfc3339", "true", "false",
             "2026-01-01T00:00:00Z", "\"\"\"", "'''", "[[", "]]", "127.0.0.1:8080", "[::1]:8080", "5xx"]
    save("toml.dict", words)
    save("json.dict", ["{", "}", "[", "]", ":", ",", '"', "true", "false", "null", "-0.1e+1", "\\u00e9", "\\ud83d\\ude00",
                       "\\ud800", "\\\"", "\\\\", "\\/", "\\n", "~0", "~1", "/", "\x00/", "/data/object/id", "/type", "/id"])
    save("delivery.dict", ["\n", "200", "204", "408", "429", "503", "500", "GMT", " GMT", "Mon, ", "Sun, 06 Nov 1994 08:49:37 GMT",
                           "Jan", "Dec", "9223372036854775807", "-9223372036854775808", "10000000000000000", "00:00:00"])
    save("sink.dict", ["\n", "v1,", "v2,", " v1,", "msg_", "1767225600", "9999999999999999", "=", "+", "/"])


def main():
    for sub in ("signature", "profile", "config", "json", "delivery", "sink"):
        shutil.rmtree(os.path.join(CORPUS, sub), ignore_errors=True)
    counts = {"signature": signature_corpus(), "profile": profile_corpus(), "config": config_corpus(), "json": json_corpus(),
              "delivery": delivery_corpus(), "sink": sink_corpus()}
    dictionaries()
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(CORPUS, "*", "*")))
    print("seeds:", ", ".join(f"{k} {v}" for k, v in counts.items()), f"({total} bytes)")


if __name__ == "__main__":
    main()
